//! The session middleware's request semantics, against a real actix-web server on loopback.
//! Each test writes its own config file.

mod servers;

use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use actix_cherrypy::middleware::{CherryPySessions, from_cherrypy_config};
use actix_cherrypy::session::Session;
use actix_cherrypy::session_value::SessionValue;
use actix_web::{App, HttpResponse, web};
use serde::Deserialize;
use servers::http;

#[derive(Deserialize)]
struct Q {
    key: Option<String>,
    value: Option<String>,
    ms: Option<u64>,
    touch: Option<u8>,
}

async fn set(s: Session, q: web::Query<Q>) -> HttpResponse {
    let (k, v) = (q.key.clone().unwrap(), q.value.clone().unwrap());
    s.insert(k, &v).unwrap();
    HttpResponse::Ok().body(v)
}

async fn get(s: Session, q: web::Query<Q>) -> HttpResponse {
    let body = match s.get_value(q.key.as_deref().unwrap()) {
        Some(SessionValue::Str(v)) => v,
        Some(other) => format!("{other:?}"),
        None => String::new(),
    };
    HttpResponse::Ok().body(body)
}

async fn noop() -> HttpResponse {
    HttpResponse::Ok().body("noop")
}

async fn id(s: Session) -> HttpResponse {
    HttpResponse::Ok().body(s.id().to_string())
}

async fn expire(s: Session) -> HttpResponse {
    s.expire();
    HttpResponse::Ok().body("expired")
}

async fn regenerate(s: Session, q: web::Query<Q>) -> HttpResponse {
    if q.touch == Some(1) {
        let _ = s.entries();
    }
    let old = s.id();
    let new = s.regenerate();
    HttpResponse::Ok().body(format!("{old} {new}"))
}

async fn renew(s: Session) -> HttpResponse {
    s.renew();
    HttpResponse::Ok().finish()
}

async fn slow_incr(s: Session, q: web::Query<Q>) -> HttpResponse {
    let key = q.key.clone().unwrap_or_else(|| "n".into());
    let n: i64 = s.get(&key).unwrap().unwrap_or(0);
    actix_web::rt::time::sleep(Duration::from_millis(q.ms.unwrap_or(100))).await;
    s.insert(&key, n + 1).unwrap();
    HttpResponse::Ok().body(format!("{n}->{}", n + 1))
}

async fn lock_explicit(s: Session, q: web::Query<Q>) -> HttpResponse {
    s.acquire_lock().await.unwrap();
    let resp = slow_incr(s.clone(), q).await;
    s.release_lock();
    resp
}

/// Explicit locking: a change stored by `release_lock()`, then one more change, which the
/// end of the request stores if nobody changed the session since the release.
async fn change_after_release(s: Session) -> HttpResponse {
    s.acquire_lock().await.unwrap();
    s.insert("a", "1").unwrap();
    s.release_lock();
    s.insert("b", "2").unwrap();
    HttpResponse::Ok().finish()
}

/// An unexpected failure (CherryPy: an exception) after writing a new key.
async fn fail_after_set(s: Session) -> actix_web::Result<HttpResponse> {
    s.insert("lost", 1).unwrap();
    Err(actix_web::error::ErrorInternalServerError("handler failed"))
}

/// A deliberate 500 response (CherryPy: `raise HTTPError(500)`), which is saved.
async fn deliberate_500(s: Session) -> HttpResponse {
    s.insert("kept", 1).unwrap();
    HttpResponse::InternalServerError().finish()
}

async fn panic_while_locked(s: Session) -> HttpResponse {
    s.insert("x", 1).unwrap();
    panic!("handler bug");
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/set", web::get().to(set))
        .route("/get", web::get().to(get))
        .route("/noop", web::get().to(noop))
        .route("/id", web::get().to(id))
        .route("/expire", web::get().to(expire))
        .route("/regenerate", web::get().to(regenerate))
        .route("/renew", web::get().to(renew))
        .route("/slow_incr", web::get().to(slow_incr))
        .route("/lock_explicit", web::get().to(lock_explicit))
        .route("/change_after_release", web::get().to(change_after_release))
        .route("/fail", web::get().to(fail_after_set))
        .route("/deliberate500", web::get().to(deliberate_500))
        .route("/panic", web::get().to(panic_while_locked));
}

/// A config file of its own for each test.
fn config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("actix-cherrypy-mw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts a real server with `workers` workers; returns its port.
fn serve(conf: PathBuf, workers: usize) -> u16 {
    // A middleware for each worker on purpose: they must still share one store.
    http::serve(
        workers,
        move || from_cherrypy_config(&conf),
        |cfg| {
            cfg.configure(routes)
                .service(web::scope("/admin").configure(routes));
        },
    )
}

fn is_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The cookie's `expires` is the response's `Date` plus the timeout, to the second, on
/// every response, as CherryPy gives it (one clock reading for both).
#[test]
fn cookie_expiry_is_the_responses_date_plus_the_timeout() {
    let port = serve(config("dated.conf", "[/]\ntools.sessions.on = True\n"), 1);
    let parse = |text: &str| {
        chrono::DateTime::parse_from_rfc2822(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .timestamp()
    };
    // Over two seconds, so that actix-web's cached date would have been stale part of it.
    for _ in 0..40 {
        let reply = http::get(port, "/noop", None);
        let cookie = &reply.set_cookies[0];
        let expires = cookie
            .split("; ")
            .find_map(|a| a.strip_prefix("expires="))
            .unwrap_or_else(|| panic!("no expires in {cookie}"));
        assert_eq!(
            parse(expires) - parse(&reply.date),
            3600,
            "Date {} and {cookie}",
            reply.date
        );
        std::thread::sleep(std::time::Duration::from_millis(60));
    }
}

#[test]
fn cookie_lazy_save_and_fixation_protection() {
    let port = serve(config("basic.conf", "[/]\ntools.sessions.on = True\n"), 1);
    let first = http::get(port, "/noop", None);
    assert_eq!(first.status, 200);
    let id = first.cookie_id();
    assert!(is_id(&id));
    let cookie = &first.set_cookies[0];
    assert!(
        cookie.starts_with(&format!("session_id={id}; expires=")),
        "{cookie}"
    );
    assert!(cookie.ends_with(" GMT; Max-Age=3600; Path=/"), "{cookie}");
    // Never stored: the id is unknown next time, so a new one is given.
    let second = http::get(port, "/noop", Some(&format!("session_id={id}")));
    assert_ne!(second.cookie_id(), id);
    // Stored once touched; the same id comes back.
    let set = http::get(port, "/set?key=a&value=1", None);
    let sid = set.cookie_id();
    let got = http::get(port, "/get?key=a", Some(&format!("session_id={sid}")));
    assert_eq!((got.body.as_str(), got.cookie_id()), ("1", sid.clone()));
    // A quoted value is the id (SimpleCookie unquotes it).
    let quoted = http::get(port, "/get?key=a", Some(&format!("session_id=\"{sid}\"")));
    assert_eq!(quoted.body, "1");
    // The last of duplicate names wins.
    let dup = http::get(
        port,
        "/get?key=a",
        Some(&format!("session_id=zz; session_id={sid}")),
    );
    assert_eq!(dup.body, "1");
    // Hostile ids are unknown sessions: a new id, never an error.
    for hostile in [
        "session_id=../../../../etc/passwd".to_owned(),
        "session_id=".to_owned(),
        format!("session_id={}", sid.to_uppercase()),
        format!("session_id={}", "a".repeat(4096)),
        "session_id=\"\\000\"".to_owned(),
    ] {
        let r = http::get(port, "/get?key=a", Some(&hostile));
        assert_eq!(r.status, 200, "{hostile}");
        assert_eq!(r.body, "", "{hostile}");
        assert!(is_id(&r.cookie_id()) && r.cookie_id() != sid, "{hostile}");
    }
}

/// actix-session's `renew()` keeps the data under the new id, read in this request or not
/// (CherryPy's `regenerate()` keeps only what was read, above).
/// With `max_lifetime`, the creation time stored beside the data changes nothing for
/// explicit locking: a change after `release_lock()` is still seen as a change to the
/// session the release stored (not as someone else's), and `renew()` keeps the session
/// alive under its new id.
#[test]
fn max_lifetime_keeps_explicit_locking_and_renew_working() {
    let port = serve(
        config(
            "lifetime.conf",
            "[/]\ntools.sessions.on = True\ntools.sessions.locking = 'explicit'\ntools.sessions.max_lifetime = 60\n",
        ),
        1,
    );
    let sid = http::get(port, "/set?key=k&value=v", None).cookie_id();
    let cookie = format!("session_id={sid}");
    assert_eq!(
        http::get(port, "/change_after_release", Some(&cookie)).status,
        200
    );
    assert_eq!(http::get(port, "/get?key=a", Some(&cookie)).body, "1");
    assert_eq!(http::get(port, "/get?key=b", Some(&cookie)).body, "2");
    let renewed = http::get(port, "/renew", Some(&cookie)).cookie_id();
    assert_ne!(renewed, sid);
    let cookie = format!("session_id={renewed}");
    assert_eq!(http::get(port, "/get?key=k", Some(&cookie)).body, "v");
    assert_eq!(http::get(port, "/id", Some(&cookie)).body, renewed);
}

#[test]
fn renew_keeps_the_data_under_a_new_id() {
    let port = serve(config("renew.conf", "[/]\ntools.sessions.on = True\n"), 1);
    let sid = http::get(port, "/set?key=cart&value=3", None).cookie_id();
    let renewed = http::get(port, "/renew", Some(&format!("session_id={sid}")));
    let new = renewed.cookie_id();
    assert_ne!(new, sid);
    let with_new = format!("session_id={new}");
    assert_eq!(http::get(port, "/get?key=cart", Some(&with_new)).body, "3");
    // The old id is gone: it is an unknown session now.
    let old = http::get(port, "/get?key=cart", Some(&format!("session_id={sid}")));
    assert_eq!(old.body, "");
    assert_ne!(old.cookie_id(), sid);
}

#[test]
fn expire_and_regenerate() {
    let port = serve(config("regen.conf", "[/]\ntools.sessions.on = True\n"), 1);
    let sid = http::get(port, "/set?key=a&value=1", None).cookie_id();
    let cookie = format!("session_id={sid}");
    let expired = http::get(port, "/expire", Some(&cookie));
    let c = &expired.set_cookies[0];
    assert!(!c.contains("Max-Age"), "{c}");
    let year: i32 = c.split(' ').nth(4).unwrap().parse().unwrap();
    let now_year: i32 = 1970
        + (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 31_557_600) as i32;
    assert!(year < now_year, "{c}");
    // The data is kept by expire().
    assert_eq!(http::get(port, "/get?key=a", Some(&cookie)).body, "1");
    // Without loading first, regenerate leaves an empty session under the new id.
    let r = http::get(port, "/regenerate?touch=0", Some(&cookie));
    let (old, new) = r.body.split_once(' ').unwrap();
    assert_eq!((old, new), (sid.as_str(), r.cookie_id().as_str()));
    assert_eq!(http::get(port, "/get?key=a", Some(&cookie)).body, "");
    // With the data loaded, it moves to the new id.
    let sid = http::get(port, "/set?key=b&value=2", None).cookie_id();
    let r = http::get(
        port,
        "/regenerate?touch=1",
        Some(&format!("session_id={sid}")),
    );
    let new = r.cookie_id();
    assert_eq!(
        http::get(port, "/get?key=b", Some(&format!("session_id={new}"))).body,
        "2"
    );
    assert_eq!(
        http::get(port, "/get?key=b", Some(&format!("session_id={sid}"))).body,
        ""
    );
}

#[test]
fn failures_keep_cherrypys_ram_semantics_and_a_panic_does_not_leave_the_session_locked() {
    let port = serve(config("fail.conf", "[/]\ntools.sessions.on = True\n"), 1);
    let sid = http::get(port, "/set?key=a&value=1", None).cookie_id();
    let cookie = format!("session_id={sid}");
    let failed = http::get(port, "/fail", Some(&cookie));
    assert_eq!(failed.status, 500);
    assert_eq!(
        failed.cookie_id(),
        sid,
        "the cookie goes out on error responses too"
    );
    let panicked = http::get(port, "/panic", Some(&cookie));
    assert_ne!(panicked.status, 200);
    // Implicit locking: had the panic kept the lock, this would wait for ever.
    let after = http::get(port, "/get?key=a", Some(&cookie));
    assert_eq!(after.body, "1");
    // As with CherryPy's RAM store, a failed handler's changes to an existing session stay
    // (the handler changed the stored dict); a deliberate 500 response is saved.
    assert_eq!(
        http::get(port, "/get?key=lost", Some(&cookie)).body,
        "Int(1)"
    );
    assert_eq!(http::get(port, "/deliberate500", Some(&cookie)).status, 500);
    assert_eq!(
        http::get(port, "/get?key=kept", Some(&cookie)).body,
        "Int(1)"
    );
    // A new session whose handler fails is never stored.
    let fresh = http::get(port, "/fail", None);
    let fresh_cookie = format!("session_id={}", fresh.cookie_id());
    assert_ne!(
        http::get(port, "/id", Some(&fresh_cookie)).cookie_id(),
        fresh.cookie_id()
    );
}

/// Five concurrent increments of one session. Implicit locking, and explicit locking with
/// `acquire_lock()`, serialise them. Without `acquire_lock()` they all read the same value:
/// CherryPy then answers all five and stores one increment; here the first to end is
/// stored and the others are refused (500), so every increment answered 200 is stored.
#[test]
fn implicit_locking_serialises_and_explicit_without_a_lock_loses_no_answered_update() {
    let implicit = serve(
        config("implicit.conf", "[/]\ntools.sessions.on = True\n"),
        2,
    );
    let explicit = serve(
        config(
            "explicit.conf",
            "[/]\ntools.sessions.on = True\ntools.sessions.locking = 'explicit'\n",
        ),
        2,
    );
    for (port, path, serialised) in [
        (implicit, "/slow_incr?ms=100", true),
        (explicit, "/lock_explicit?ms=100", true),
        (explicit, "/slow_incr?ms=100", false),
    ] {
        let sid = http::get(port, "/set?key=n_seed&value=x", None).cookie_id();
        let cookie = format!("session_id={sid}");
        let threads: Vec<_> = (0..5)
            .map(|_| {
                let (cookie, path) = (cookie.clone(), path.to_owned());
                std::thread::spawn(move || {
                    let res = http::get(port, &path, Some(&cookie));
                    (res.status, res.body)
                })
            })
            .collect();
        let answers: Vec<(u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let mut stored: Vec<String> = answers
            .iter()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body.clone())
            .collect();
        stored.sort();
        let last = http::get(port, "/get?key=n", Some(&cookie)).body;
        assert_eq!(
            last,
            format!("Int({})", stored.len()),
            "{path}: {answers:?}"
        );
        if serialised {
            assert_eq!(stored, ["0->1", "1->2", "2->3", "3->4", "4->5"], "{path}");
        } else {
            assert!(stored.len() < 5, "{path}: {answers:?}");
            assert!(
                answers
                    .iter()
                    .all(|(status, _)| [200, 500].contains(status))
            );
        }
    }
}

#[test]
fn sessions_off_means_no_cookie_and_per_path_settings_apply() {
    let port = serve(
        config(
            "paths.conf",
            "[/]\ntools.sessions.on = True\n[/admin]\ntools.sessions.name = 'admin_sid'\ntools.sessions.timeout = 5\ntools.sessions.httponly = True\ntools.sessions.samesite = 'Strict'\n[/admin/noop]\ntools.sessions.on = False\n",
        ),
        1,
    );
    let admin = http::get(port, "/admin/id", None);
    let c = &admin.set_cookies[0];
    assert!(c.starts_with("admin_sid="), "{c}");
    // SameSite (our extension) sits where Python's Morsel would sort it: after Path.
    assert!(
        c.contains("; HttpOnly; Max-Age=300; Path=/; SameSite=Strict"),
        "{c}"
    );
    assert!(!http::get(port, "/id", None).set_cookies[0].contains("SameSite"));
    assert!(http::get(port, "/admin/noop", None).set_cookies.is_empty());
}

#[test]
fn several_workers_share_one_store() {
    let port = serve(config("workers.conf", "[/]\ntools.sessions.on = True\n"), 4);
    let sid = http::get(port, "/set?key=a&value=shared", None).cookie_id();
    for _ in 0..20 {
        assert_eq!(
            http::get(port, "/get?key=a", Some(&format!("session_id={sid}"))).body,
            "shared"
        );
    }
}

#[test]
fn a_bad_config_is_a_located_startup_error() {
    let path = config(
        "bad.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.timeout = \"60\"\n",
    );
    let err = CherryPySessions::from_file(&path).unwrap_err();
    let text = err.diagnostic().to_string();
    assert!(text.contains("bad.conf:3:26"), "{text}");
    let panic = std::panic::catch_unwind(|| from_cherrypy_config(&path)).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("bad.conf:3:26"), "{message}");
}

#[test]
fn expired_sessions_are_cleaned_up_every_clean_freq() {
    let path = config(
        "sweep.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.timeout = 0.005\ntools.sessions.clean_freq = 0.005\n",
    );
    let sessions = CherryPySessions::from_file(&path).unwrap();
    let store = sessions.ram_store().unwrap().clone();
    let port = http::serve(1, move || sessions.clone(), routes);
    http::get(port, "/set?key=a&value=1", None);
    assert_eq!(store.len(), 1);
    // timeout and clean_freq are 0.3 s: within a second the sweeper has removed it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !store.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(store.is_empty(), "the expired session is still stored");
}

#[test]
fn lock_timeout_answers_500_after_the_timeout() {
    let port = serve(
        config(
            "timeout.conf",
            "[/]\ntools.sessions.on = True\ntools.sessions.lock_timeout = 0.2\n",
        ),
        2,
    );
    let sid = http::get(port, "/set?key=seed&value=x", None).cookie_id();
    let cookie = format!("session_id={sid}");
    let slow = {
        let cookie = cookie.clone();
        std::thread::spawn(move || http::get(port, "/slow_incr?ms=1500", Some(&cookie)))
    };
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let waited = http::get(port, "/get?key=n", Some(&cookie));
    assert_eq!(waited.status, 500);
    assert_eq!(
        waited.body, "the session could not be loaded or saved",
        "a store failure is a 500 that names no cause"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slow.join().unwrap().body, "0->1");
}

#[test]
fn a_client_that_disconnects_does_not_leave_the_session_locked() {
    let port = serve(
        config("disconnect.conf", "[/]\ntools.sessions.on = True\n"),
        2,
    );
    let sid = http::get(port, "/set?key=seed&value=x", None).cookie_id();
    let cookie = format!("session_id={sid}");
    {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET /slow_incr?ms=1000 HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n"
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        // The client goes away; actix-web lets the handler finish (as CherryPy's thread
        // does), and the lock is released when it has.
    }
    let started = std::time::Instant::now();
    let after = http::get(port, "/get?key=n", Some(&cookie));
    assert_eq!(after.body, "Int(1)");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited {:?}",
        started.elapsed()
    );
}

/// Where the request's future itself is dropped (a timeout, a server shutting down), the
/// lock goes with it.
#[actix_web::test]
async fn a_dropped_request_future_releases_the_lock() {
    let sessions =
        CherryPySessions::from_file(config("dropped.conf", "[/]\ntools.sessions.on = True\n"))
            .unwrap();
    let app = actix_web::test::init_service(App::new().wrap(sessions).configure(routes)).await;
    let set = actix_web::test::TestRequest::get()
        .uri("/set?key=seed&value=x")
        .to_request();
    let res = actix_web::test::call_service(&app, set).await;
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let slow = actix_web::test::TestRequest::get()
        .uri("/slow_incr?ms=5000")
        .insert_header(("Cookie", cookie.as_str()))
        .to_request();
    let dropped = actix_web::rt::time::timeout(
        Duration::from_millis(200),
        actix_web::test::call_service(&app, slow),
    )
    .await;
    assert!(dropped.is_err(), "the slow request was cut short");
    let get = actix_web::test::TestRequest::get()
        .uri("/get?key=seed")
        .insert_header(("Cookie", cookie.as_str()))
        .to_request();
    let res = actix_web::rt::time::timeout(
        Duration::from_secs(1),
        actix_web::test::call_service(&app, get),
    )
    .await
    .expect("the lock was released when the request future was dropped");
    assert_eq!(actix_web::test::read_body(res).await, "x");
}

#[actix_web::test]
async fn a_code_only_config_from_the_builder() {
    use actix_cherrypy::session_config::SessionConfig;
    let config = SessionConfig::default()
        .on(true)
        .name("sid")
        .timeout_minutes_float(0.5)
        .httponly(true);
    let sessions = CherryPySessions::from_session_config(config).unwrap();
    let app = actix_web::test::init_service(App::new().wrap(sessions).configure(routes)).await;
    let req = actix_web::test::TestRequest::get().uri("/id").to_request();
    let res = actix_web::test::call_service(&app, req).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("sid="), "{cookie}");
    assert!(
        cookie.ends_with(" GMT; HttpOnly; Max-Age=30.0; Path=/"),
        "{cookie}"
    );
    // The default is CherryPy's: sessions off, so no cookie at all.
    let off = CherryPySessions::from_session_config(SessionConfig::default()).unwrap();
    let app = actix_web::test::init_service(App::new().wrap(off).configure(routes)).await;
    let res = actix_web::test::call_service(
        &app,
        actix_web::test::TestRequest::get()
            .uri("/noop")
            .to_request(),
    )
    .await;
    assert!(res.headers().get("set-cookie").is_none());
}

/// A store chosen in code carries its own options: a file store in a directory writes the
/// session there, and one without a directory is a startup error, not a 500 per request.
#[actix_web::test]
async fn a_code_only_file_store_with_its_directory() {
    use actix_cherrypy::session_config::{SessionConfig, StorageConfig};
    let dir = std::env::temp_dir().join(format!(
        "actix-cherrypy-mw-{}-code-file",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = SessionConfig::default()
        .on(true)
        .storage(StorageConfig::file(dir.to_str().unwrap()));
    let sessions = CherryPySessions::from_session_config(config).unwrap();
    let app = actix_web::test::init_service(App::new().wrap(sessions).configure(routes)).await;
    let req = actix_web::test::TestRequest::get()
        .uri("/set?key=a&value=1")
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert!(res.status().is_success());
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    let id = &cookie["session_id=".len()..cookie.find(';').unwrap()];
    assert!(dir.join(format!("session-{id}")).is_file(), "{cookie}");

    let mut config = SessionConfig::default()
        .on(true)
        .storage(StorageConfig::file("/unused"));
    if let StorageConfig::File { path, .. } = &mut config.storage.value {
        path.value = None;
    }
    let err = CherryPySessions::from_session_config(config).expect_err("no directory");
    assert_eq!(err.diagnostic().code, "file-storage-without-path");
}

/// Where the middleware opened no session, the extractor still gives one (as
/// actix-session's never fails): detached, its writes going nowhere, no cookie.
#[actix_web::test]
async fn the_extractor_gives_a_detached_session_where_sessions_are_off() {
    use actix_web::{App, test};
    async fn use_it(s: Session) -> actix_web::Result<HttpResponse> {
        s.insert("k", 1)?;
        let k: Option<i64> = s.get("k")?;
        Ok(HttpResponse::Ok().body(format!("{} {k:?}", s.is_detached())))
    }
    let conf = config(
        "detached.conf",
        "[/]\ntools.sessions.on = True\n[/off]\ntools.sessions.on = False\n",
    );
    let on = test::init_service(
        App::new()
            .wrap(from_cherrypy_config(&conf))
            .route("/off", web::get().to(use_it))
            .route("/on", web::get().to(use_it)),
    )
    .await;
    let off = test::call_service(&on, test::TestRequest::get().uri("/off").to_request()).await;
    assert_eq!(off.status(), 200);
    assert!(off.headers().get("set-cookie").is_none());
    assert_eq!(test::read_body(off).await, "true Some(1)");
    let with = test::call_service(&on, test::TestRequest::get().uri("/on").to_request()).await;
    assert!(with.headers().get("set-cookie").is_some());
    assert_eq!(test::read_body(with).await, "false Some(1)");
    // No middleware at all.
    let bare = test::init_service(App::new().route("/", web::get().to(use_it))).await;
    let res = test::call_service(&bare, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(test::read_body(res).await, "true Some(1)");
}

/// `status()` tells a session only read (saved all the same, to extend its expiry) from
/// one changed.
#[test]
fn status_tells_a_read_from_a_change() {
    use actix_cherrypy::session::SessionStatus;
    let s = Session::detached();
    assert_eq!(s.status(), SessionStatus::Unchanged);
    let _: Option<i64> = s.get("k").unwrap();
    assert_eq!(s.status(), SessionStatus::Read);
    s.insert("k", 1).unwrap();
    assert_eq!(s.status(), SessionStatus::Changed);
    let _: Option<i64> = s.get("k").unwrap();
    assert_eq!(s.status(), SessionStatus::Changed);
}

/// actix-session's method names behave as its users expect.
#[actix_web::test]
async fn actix_session_methods() {
    use actix_cherrypy::session::SessionExt;
    use actix_web::{App, HttpRequest, test};
    let s = Session::detached();
    assert!(!s.contains_key("n"));
    s.update("n", |n: i64| n + 1).unwrap();
    assert!(!s.contains_key("n"), "update inserts nothing");
    s.update_or("n", 1, |n: i64| n + 1).unwrap();
    s.update_or("n", 1, |n: i64| n + 1).unwrap();
    assert_eq!(s.get::<i64>("n").unwrap(), Some(2));
    assert_eq!(s.remove_as::<i64>("n").map(Result::unwrap), Some(2));
    assert!(s.remove_as::<i64>("n").is_none());
    assert!(s.update("x", |x: String| x).is_ok());
    s.insert("x", "text").unwrap();
    assert!(
        s.update("x", |x: i64| x).is_err(),
        "a value of another type"
    );

    // get_session() on the request sees the extractor's session.
    async fn both(req: HttpRequest, s: Session) -> HttpResponse {
        s.insert("k", 7).unwrap();
        let seen: Option<i64> = req.get_session().get("k").unwrap();
        HttpResponse::Ok().body(format!("{} {seen:?}", req.get_session().id() == s.id()))
    }
    let conf = config("ext.conf", "[/]\ntools.sessions.on = True\n");
    let app = test::init_service(
        App::new()
            .wrap(from_cherrypy_config(&conf))
            .route("/", web::get().to(both)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(test::read_body(res).await, "true Some(7)");
}

/// Layers: a site file, an environment file after it, values set in code last; the last
/// layer to set a key wins, per path section, as CherryPy's `config.update` does.
#[actix_web::test]
async fn the_builder_layers_files_and_code() {
    use actix_cherrypy::middleware::CherryPySessions;
    use actix_web::{App, test};
    async fn touch(s: Session) -> HttpResponse {
        s.insert("k", 1).unwrap();
        HttpResponse::Ok().finish()
    }
    let site = config(
        "layer-site.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.timeout = 60\n[/admin]\ntools.sessions.timeout = 15\n",
    );
    let env = config("layer-env.conf", "[/admin]\ntools.sessions.timeout = 10\n");
    let max_age = |sessions: CherryPySessions, path: &'static str| async move {
        let app = test::init_service(
            App::new()
                .wrap(sessions)
                .route("/", web::get().to(touch))
                .route("/admin", web::get().to(touch))
                .route("/shop", web::get().to(touch)),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        let cookie = res
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        cookie
            .split("; ")
            .find_map(|a| a.strip_prefix("Max-Age=").map(str::to_owned))
            .unwrap_or_default()
    };
    let layered = || {
        CherryPySessions::builder().file(&site).file(&env).set(
            "/shop",
            "tools.sessions.timeout",
            "30",
        )
    };
    assert_eq!(max_age(layered().build().unwrap(), "/").await, "3600");
    assert_eq!(max_age(layered().build().unwrap(), "/admin").await, "600");
    assert_eq!(max_age(layered().build().unwrap(), "/shop").await, "1800");
    let code_wins = layered().set("/admin", "tools.sessions.timeout", "5");
    assert_eq!(max_age(code_wins.build().unwrap(), "/admin").await, "300");
    // A bad value set in code is a located error, like one in a file.
    let err = CherryPySessions::builder()
        .file(&site)
        .set("global", "tools.sessions.timeout", "1e999")
        .build()
        .unwrap_err();
    assert_eq!(err.diagnostic().code, "value-out-of-range");
    assert!(err.to_string().starts_with("<code>:2:"), "{err}");
    let err = CherryPySessions::builder()
        .set("/x\n[global]", "k", "1")
        .build()
        .unwrap_err();
    assert_eq!(err.diagnostic().code, "code-value");
}

/// A store of the application's own: here RAM underneath, counting the saves that reach it,
/// each taking `save_delay`.
#[derive(Clone, Default)]
struct CountingStore {
    inner: actix_cherrypy::store::RamStore,
    saves: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    save_delay: Duration,
}

impl actix_cherrypy::store::SessionStore for CountingStore {
    async fn load(
        &self,
        id: &actix_cherrypy::session_id::SessionId,
    ) -> Result<Option<actix_cherrypy::store::Record>, actix_cherrypy::store::StoreError> {
        self.inner.load(id).await
    }

    async fn save(
        &self,
        id: &actix_cherrypy::session_id::SessionId,
        record: actix_cherrypy::store::Record,
    ) -> Result<(), actix_cherrypy::store::StoreError> {
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        actix_web::rt::time::sleep(self.save_delay).await;
        self.inner.save(id, record).await
    }

    async fn delete(
        &self,
        id: &actix_cherrypy::session_id::SessionId,
    ) -> Result<(), actix_cherrypy::store::StoreError> {
        self.inner.delete(id).await
    }

    async fn exists(
        &self,
        id: &actix_cherrypy::session_id::SessionId,
    ) -> Result<bool, actix_cherrypy::store::StoreError> {
        self.inner.exists(id).await
    }

    async fn lock(
        &self,
        id: &actix_cherrypy::session_id::SessionId,
        timeout: Option<Duration>,
    ) -> Result<actix_cherrypy::store::SessionLock, actix_cherrypy::store::StoreError> {
        self.inner.lock(id, timeout).await
    }

    async fn clean_up(
        &self,
        now: std::time::SystemTime,
    ) -> Result<usize, actix_cherrypy::store::StoreError> {
        self.inner.clean_up(now).await
    }
}

#[test]
fn a_storage_class_of_the_application_is_the_store_it_maps_in_code() {
    let path = config(
        "custom.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_class = myapp.sessions.PgSession\n",
    );
    // Not mapped: refused at startup, where the config names the class.
    let err = CherryPySessions::builder().file(&path).build().unwrap_err();
    let d = err.diagnostic();
    assert_eq!(d.code, "custom-storage-class");
    assert_eq!(d.location.as_ref().unwrap().line_column(), (3, 32), "{d}");
    assert!(d.message.contains("myapp.sessions.PgSession"), "{d}");

    // Mapped: every request of the path goes to the application's store.
    let store = CountingStore::default();
    let sessions = CherryPySessions::builder()
        .file(&path)
        .storage_class("myapp.sessions.PgSession", store.clone())
        .build()
        .unwrap();
    let port = http::serve(1, move || sessions.clone(), routes);
    let sid = http::get(port, "/set?key=a&value=1", None).cookie_id();
    assert_eq!(store.saves.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(store.inner.len(), 1);
    let cookie = format!("session_id={sid}");
    assert_eq!(http::get(port, "/get?key=a", Some(&cookie)).body, "1");
}

/// A client that goes away (a reset) while its session is being saved: the save is made
/// whole all the same, as CherryPy saves before it writes the response. Cut off halfway,
/// it would let go of the lock with a write still under way.
#[test]
fn a_save_is_made_whole_when_the_client_goes_away() {
    let path = config(
        "slow.conf",
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_class = myapp.Slow\n",
    );
    let store = CountingStore {
        save_delay: Duration::from_millis(400),
        ..CountingStore::default()
    };
    let sessions = CherryPySessions::builder()
        .file(&path)
        .storage_class("myapp.Slow", store.clone())
        .build()
        .unwrap();
    let port = http::serve(1, move || sessions.clone(), routes);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /set?key=a&value=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(store.saves.load(std::sync::atomic::Ordering::SeqCst), 1);
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        store.inner.len(),
        1,
        "the save was cut off with the request"
    );
}

/// What a config file may not give, set in code: `from_session_config` refuses it with the
/// file's own code and words, instead of starting and writing a malformed `Set-Cookie`
/// (`Max-Age=nan`, a nameless cookie, `a b;c=…`) on every response. Each case is compared
/// with the same value written in a config file.
#[test]
fn a_code_only_config_is_refused_where_a_file_would_be() {
    use actix_cherrypy::session_config::{Minutes, RedisConfig, SessionConfig, StorageConfig};
    let on = || SessionConfig::default().on(true);
    let redis = |set: fn(&mut RedisConfig)| {
        let mut redis = RedisConfig::default();
        set(&mut redis);
        on().storage(StorageConfig::Redis(redis))
    };
    let mut no_directory = on().storage(StorageConfig::file("/unused"));
    if let StorageConfig::File { path, .. } = &mut no_directory.storage.value {
        path.value = None;
    }
    let nan = "1e999 * 0";
    let cases = [
        (
            on().timeout_minutes_float(f64::NAN),
            "tools.sessions.timeout",
            format!("tools.sessions.timeout = {nan}"),
        ),
        (
            on().timeout_minutes_float(f64::INFINITY),
            "tools.sessions.timeout",
            "tools.sessions.timeout = 1e999".to_owned(),
        ),
        (
            on().timeout_minutes_float(-1e20),
            "tools.sessions.timeout",
            "tools.sessions.timeout = -1e20".to_owned(),
        ),
        (
            on().timeout_minutes(i64::MAX),
            "tools.sessions.timeout",
            format!("tools.sessions.timeout = {}", i64::MAX),
        ),
        (
            on().max_lifetime(Minutes::float(f64::NAN)),
            "tools.sessions.max_lifetime",
            format!("tools.sessions.max_lifetime = {nan}"),
        ),
        (
            on().max_lifetime(Minutes::int(-1)),
            "tools.sessions.max_lifetime",
            "tools.sessions.max_lifetime = -1".to_owned(),
        ),
        (
            on().clean_freq_minutes(-1),
            "tools.sessions.clean_freq",
            "tools.sessions.clean_freq = -1".to_owned(),
        ),
        (
            on().clean_freq_minutes(i64::MAX),
            "tools.sessions.clean_freq",
            format!("tools.sessions.clean_freq = {}", i64::MAX),
        ),
        (
            on().lock_timeout_seconds(f64::NAN),
            "tools.sessions.lock_timeout",
            format!("tools.sessions.lock_timeout = {nan}"),
        ),
        (
            on().lock_timeout_seconds(f64::NEG_INFINITY),
            "tools.sessions.lock_timeout",
            "tools.sessions.lock_timeout = -1e999".to_owned(),
        ),
        (
            on().name(""),
            "tools.sessions.name",
            "tools.sessions.name = ''".to_owned(),
        ),
        (
            on().name("a b;c"),
            "tools.sessions.name",
            "tools.sessions.name = 'a b;c'".to_owned(),
        ),
        (
            on().domain("example.com\r\nX-Injected: 1"),
            "tools.sessions.domain",
            "tools.sessions.domain = 'example.com\\r\\nX-Injected: 1'".to_owned(),
        ),
        (
            on().path("/\n"),
            "tools.sessions.path",
            "tools.sessions.path = '/\\n'".to_owned(),
        ),
        (
            no_directory,
            "tools.sessions.storage_path",
            "tools.sessions.storage_type = 'file'".to_owned(),
        ),
        (
            on().storage(StorageConfig::memcached(["mc:notaport"])),
            "tools.sessions.servers",
            "tools.sessions.storage_type = 'memcached'\ntools.sessions.servers = ['mc:notaport']"
                .to_owned(),
        ),
        (
            redis(|r| r.port.value = 70000),
            "tools.sessions.port",
            "tools.sessions.storage_type = 'redis'\ntools.sessions.port = 70000".to_owned(),
        ),
        (
            redis(|r| r.db.value = -1),
            "tools.sessions.db",
            "tools.sessions.storage_type = 'redis'\ntools.sessions.db = -1".to_owned(),
        ),
        (
            redis(|r| r.prefix.value = "lock_".to_owned()),
            "tools.sessions.prefix",
            "tools.sessions.storage_type = 'redis'\ntools.sessions.prefix = 'lock_'".to_owned(),
        ),
    ];
    for (i, (code_config, setting, line)) in cases.into_iter().enumerate() {
        let file = config(
            &format!("refused-{i}.conf"),
            &format!("[/]\ntools.sessions.on = True\n{line}\n"),
        );
        let from_file = CherryPySessions::from_file(&file).expect_err(&line);
        let from_code = CherryPySessions::from_session_config(code_config).expect_err(&line);
        let (want, got) = (from_file.diagnostic(), from_code.diagnostic());
        assert_eq!(
            (got.code, &got.message),
            (want.code, &want.message),
            "{line}"
        );
        // Made in code, it has no place in a file, so it names the setting instead.
        assert!(got.location.is_none(), "{line}: {got:?}");
        assert!(
            got.notes.iter().any(|note| note.contains(setting)),
            "{line}: {got:?}"
        );
        // And its line, as logged, says which.
        assert!(got.to_string().contains(setting), "{got}");
    }
}

/// A code-only config at the edge of what a file may give still serves: the longest timeout
/// a file may give makes a well-formed cookie, its `Max-Age` that many minutes in seconds.
#[actix_web::test]
async fn a_code_only_config_at_the_limits_serves_a_well_formed_cookie() {
    use actix_cherrypy::session_config::SessionConfig;
    let longest = actix_cherrypy::limits::MAX_DURATION_MINUTES as i64;
    let config = SessionConfig::default()
        .on(true)
        .name("sid!#$%&'*+-.^_`|~:")
        .domain("example.com")
        .path("/app")
        .timeout_minutes(longest)
        .clean_freq_minutes(longest)
        .lock_timeout_seconds(60.0 * longest as f64);
    let sessions = CherryPySessions::from_session_config(config).unwrap();
    let app = actix_web::test::init_service(App::new().wrap(sessions).configure(routes)).await;
    let req = actix_web::test::TestRequest::get().uri("/id").to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert!(res.status().is_success());
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    let (id, attributes) = cookie
        .strip_prefix("sid!#$%&'*+-.^_`|~:=")
        .and_then(|rest| rest.split_once("; "))
        .unwrap_or_else(|| panic!("{cookie}"));
    assert!(is_id(id), "{cookie}");
    let attributes: Vec<&str> = attributes.split("; ").collect();
    assert_eq!(attributes[0], "Domain=example.com", "{cookie}");
    let expires = attributes[1].strip_prefix("expires=").unwrap();
    assert!(expires.ends_with(" GMT"), "{cookie}");
    assert_eq!(
        attributes[2..],
        [format!("Max-Age={}", longest * 60).as_str(), "Path=/app"],
        "{cookie}"
    );
}

/// A Redis URL that cannot be read is refused naming why, and never quoting the password
/// it holds (the line is logged).
#[cfg(feature = "redis")]
#[test]
fn a_bad_redis_url_says_why_without_its_password() {
    for (i, url) in [
        "redis://u:hunter2@cache:notaport/0",
        "redis://u:hunter2@cache:6380/x",
    ]
    .into_iter()
    .enumerate()
    {
        let file = config(
            &format!("bad-url-{i}.conf"),
            &format!(
                "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'redis'\n\
                 tools.sessions.url = '{url}'\n"
            ),
        );
        let err = CherryPySessions::from_file(&file).unwrap_err();
        let line = err.to_string();
        assert_eq!(err.diagnostic().code, "redis-url");
        assert!(line.contains("the session store failed: "), "{line}");
        assert!(
            !line.contains("hunter2") && !format!("{err:?}").contains("hunter2"),
            "{line}"
        );
    }
}
