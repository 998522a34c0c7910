//! What the middleware tells the operator: one span per request carrying the session id's
//! first 8 hex digits (never the whole id), the session tool's steps at `debug`, or at
//! `info` where `tools.sessions.debug = True`, and store failures with their causes.

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_cherrypy::middleware::{CherryPySessions, SessionError};
use actix_cherrypy::session::Session;
use actix_web::{App, HttpResponse, test, web};

mod servers;

/// Everything the subscriber writes, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// Everything logged at `info` and above on this thread, until the guard is dropped.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn config(text: &str) -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| servers::temp_dir("logging"));
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{n}.conf"));
    std::fs::write(&path, text).unwrap();
    path
}

async fn touch(s: Session) -> actix_web::Result<HttpResponse> {
    let n: i64 = s.get("n")?.unwrap_or(0) + 1;
    s.insert("n", n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

#[actix_web::test]
async fn debug_true_logs_the_session_tools_steps_for_its_path_only() {
    let (captured, _guard) = capture();

    let conf = config(
        "[/]\ntools.sessions.on = True\ntools.sessions.debug = True\n\
         [/quiet]\ntools.sessions.debug = False\n",
    );
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(sessions)
            .route("/", web::get().to(touch))
            .route("/quiet", web::get().to(touch)),
    )
    .await;

    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    let id = cookie["session_id=".len().."session_id=".len() + 40].to_owned();
    let log = captured.take();
    assert!(log.contains("new session id"), "{log}");
    assert!(log.contains("session saved"), "{log}");
    assert!(
        log.contains(&format!("session{{id=\"{}\"}}", &id[..8])),
        "the span names the session: {log}"
    );
    assert!(!log.contains(&id), "a whole session id in the log: {log}");

    let again = test::TestRequest::get()
        .uri("/")
        .insert_header(("Cookie", format!("session_id={id}")))
        .to_request();
    test::call_service(&app, again).await;
    let log = captured.take();
    assert!(log.contains("session locked and loaded"), "{log}");
    assert!(log.contains("waited_ms="), "{log}");

    // debug = False: the same steps stay at `debug`, below this subscriber's level.
    test::call_service(&app, test::TestRequest::get().uri("/quiet").to_request()).await;
    let log = captured.take();
    assert!(!log.contains("session saved"), "{log}");
}

#[actix_web::test]
async fn a_store_failure_is_logged_with_its_store_and_cause() {
    let (captured, _guard) = capture();

    let dir = servers::temp_dir("logging-store");
    let conf = config(&format!(
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'file'\n\
         tools.sessions.storage_path = {:?}\n",
        dir.display().to_string()
    ));
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let app = test::init_service(App::new().wrap(sessions).route("/", web::get().to(touch))).await;
    // The directory goes away under the running server: the save fails.
    std::fs::remove_dir_all(&dir).unwrap();
    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status(), 500);
    // A typed error the app's error handlers see, with a message that leaks nothing.
    let error = res
        .response()
        .error()
        .expect("the response carries its error");
    assert!(matches!(
        error.as_error::<SessionError>(),
        Some(SessionError::Store(_))
    ));
    assert_eq!(
        test::read_body(res).await,
        "the session could not be loaded or saved"
    );
    let log = captured.take();
    assert!(log.contains("the session store failed"), "{log}");
    assert!(
        log.contains("store=\"file\"") || log.contains("store=file"),
        "{log}"
    );
    // The cause, once: not "session store failed: session store failed: …".
    assert!(log.contains("No such file or directory"), "{log}");
    assert_eq!(log.matches("the session store failed").count(), 1, "{log}");
}

#[actix_web::test]
async fn config_warnings_are_logged_once_at_startup() {
    let (captured, _guard) = capture();
    let conf = config("[/]\ntools.sessions.on = True\ntools.sessions.timout = 5\n");
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let log = captured.take();
    let expected = actix_cherrypy::session_config::SessionConfigs::load(&[&conf])
        .unwrap()
        .warnings;
    assert!(!expected.is_empty());
    for warning in &expected {
        assert_eq!(
            log.matches(&warning.to_string()).count(),
            1,
            "{warning}\n{log}"
        );
    }
    assert!(log.contains("tools.sessions.timout"), "{log}");
    // Serving requests logs them no more.
    let app = test::init_service(App::new().wrap(sessions).route("/", web::get().to(touch))).await;
    test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert!(!captured.take().contains("timout"));
}

/// An error that stops startup is logged too, in the words `check` prints (its help
/// included), whatever the application then does with it: inside `HttpServer::new` it is
/// a panic on a worker thread, which a log collector never sees. Printed with `{:?}` (as
/// `main` returning a `Result` prints it), it is the same line, not the config's text.
#[actix_web::test]
async fn config_errors_are_logged_and_debug_printed_as_check_prints_them() {
    let (captured, _guard) = capture();
    let conf = config(
        "[/]\ntools.sessions.on = True\ntools.sessions.password = 'hunter2'\n\
         tools.sessions.timeout = '30'\n",
    );
    let err = CherryPySessions::from_file(&conf).unwrap_err();
    let log = captured.take();
    let diagnostic = actix_cherrypy::session_config::SessionConfigs::load(&[&conf]).unwrap_err();
    let line = diagnostic.to_string();
    assert!(line.contains("(help: "), "{line}");
    assert_eq!(log.matches(&line).count(), 1, "{line}\n{log}");
    assert!(log.contains(" ERROR "), "{log}");
    assert_eq!(format!("{err:?}"), line);
    assert!(!format!("{:?}", err.diagnostic()).contains("hunter2"));
}

/// A memcached or Redis server that cannot be reached is found at startup: a located error
/// by default, or a warning in the log when the app chooses to start all the same.
#[cfg(all(feature = "redis", feature = "memcached"))]
#[actix_web::test]
async fn an_unreachable_store_server_is_found_at_startup() {
    use actix_cherrypy::middleware::Unreachable;
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (storage, address) in [
        ("redis", format!("tools.sessions.port = {port}")),
        (
            "memcached",
            format!("tools.sessions.servers = ['127.0.0.1:{port}']"),
        ),
    ] {
        let conf = config(&format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = '{storage}'\n{address}\n"
        ));
        let err = CherryPySessions::from_file(&conf).unwrap_err();
        let d = err.diagnostic();
        assert_eq!(d.code, "store-unreachable", "{d}");
        assert!(d.message.contains(&format!("127.0.0.1:{port}")), "{d}");
        assert_eq!(
            d.line_column().map(|(l, _)| l),
            Some(3),
            "at storage_type: {d}"
        );

        let (captured, _guard) = capture();
        CherryPySessions::builder()
            .file(&conf)
            .unreachable_store(Unreachable::Warn)
            .build()
            .expect("starts all the same");
        let log = captured.take();
        assert!(
            log.contains("cannot be reached") && log.contains("WARN"),
            "{log}"
        );
        // One warning for one server: it is not asked anything else at startup.
        let server = format!("127.0.0.1:{port}");
        assert_eq!(log.matches(&server).count(), 1, "{storage}: {log}");
    }
}
