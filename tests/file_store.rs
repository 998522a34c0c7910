//! The file store through the middleware: CherryPy's file layout, pickles Python reads,
//! locks across requests, hostile cookies kept inside the directory, and clean-up.

mod servers;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session::Session;
use actix_cherrypy::session_value::SessionValue;
use actix_web::{HttpResponse, web};
use servers::http;

async fn set(s: Session, q: web::Query<Vec<(String, String)>>) -> HttpResponse {
    for (k, v) in q.into_inner() {
        s.insert_value(k, SessionValue::Str(v)).unwrap();
    }
    s.insert_value("n", SessionValue::Int(5)).unwrap();
    s.insert_value(
        "t",
        SessionValue::Tuple(vec![SessionValue::Float(0.5), SessionValue::None]),
    )
    .unwrap();
    HttpResponse::Ok().body(s.id().to_string())
}

async fn incr(s: Session) -> HttpResponse {
    let n = match s.get_value("c") {
        Some(SessionValue::Int(n)) => n,
        _ => 0,
    };
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    s.insert_value("c", SessionValue::Int(n + 1)).unwrap();
    HttpResponse::Ok().body(format!("{n}->{}", n + 1))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("actix-cherrypy-fs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("sessions")).unwrap();
    d
}

fn serve(root: &Path, extra: &str) -> u16 {
    let conf = root.join("site.conf");
    let sessions_dir = root.join("sessions");
    std::fs::write(
        &conf,
        format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n{extra}",
            sessions_dir.display().to_string()
        ),
    )
    .unwrap();
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let routes = |cfg: &mut web::ServiceConfig| {
        cfg.route("/set", web::get().to(set))
            .route("/incr", web::get().to(incr));
    };
    http::serve(2, move || sessions.clone(), routes)
}

#[test]
fn python_reads_what_we_write() {
    let root = dir("pickle");
    let port = serve(&root, "");
    let id = http::get(port, "/set?a=%C3%A9t%C3%A9", None).body;
    let file = root.join("sessions").join(format!("session-{id}"));
    assert!(file.exists(), "CherryPy's file name: {}", file.display());
    let out = Command::new("python3")
        .args(["-c", "import pickle,sys; d,e=pickle.load(open(sys.argv[1],'rb')); print(repr(d), type(e).__name__)"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "{'a': 'été', 'n': 5, 't': (0.5, None)} datetime"
    );
}

#[test]
fn implicit_locking_serialises_requests_on_one_session() {
    let root = dir("lock");
    let port = serve(&root, "");
    let reply = http::get(port, "/set", None);
    let cookie = reply.set_cookie().split(';').next().unwrap().to_owned();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let cookie = cookie.clone();
            std::thread::spawn(move || http::get(port, "/incr", Some(&cookie)).body)
        })
        .collect();
    let mut bodies: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        (0..8)
            .map(|n| format!("{n}->{}", n + 1))
            .collect::<Vec<_>>()
    );
}

/// A file outside the session directory that no cookie may reach, with what it looked like.
struct Sentinel {
    path: PathBuf,
    bytes: Vec<u8>,
    metadata: std::fs::Metadata,
}

impl Sentinel {
    /// Dated two days back, so that on a filesystem that records reads (relatime does for
    /// an atime this old) a read shows in its access time.
    fn place(path: PathBuf, bytes: Option<&[u8]>) -> Self {
        if let Some(bytes) = bytes {
            std::fs::write(&path, bytes).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        let old = std::time::SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_times(
                std::fs::FileTimes::new()
                    .set_accessed(old)
                    .set_modified(old),
            )
            .unwrap();
        let metadata = std::fs::metadata(&path).unwrap();
        Self {
            path,
            bytes,
            metadata,
        }
    }

    /// Whether reading a file shows in its access time here (not with `noatime`).
    fn reads_show(path: &Path) -> bool {
        let sentinel = Self::place(path.to_owned(), None);
        std::fs::read(path).unwrap();
        let read_at = std::fs::metadata(path).unwrap().accessed().unwrap();
        Self::place(path.to_owned(), None);
        read_at != sentinel.metadata.accessed().unwrap()
    }

    fn assert_untouched(&self, reads_show: bool) {
        let now = std::fs::metadata(&self.path).unwrap();
        let what = self.path.display();
        assert_eq!(std::fs::read(&self.path).unwrap(), self.bytes, "{what}");
        assert_eq!(
            now.modified().unwrap(),
            self.metadata.modified().unwrap(),
            "{what}"
        );
        if reads_show {
            // `now` was taken before our own read above, which cannot raise a false alarm.
            assert_eq!(
                now.accessed().unwrap(),
                self.metadata.accessed().unwrap(),
                "{what} was read"
            );
        }
    }
}

fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    names
}

fn is_id(text: &str) -> bool {
    text.len() == 40
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// CherryPy's CVE-2008-0252. A `session-x` directory inside the storage path
/// makes `x/../../sentinel` a real path to the sentinel for a store that joins the cookie
/// into a file name, as CherryPy does; ours must never get that far.
#[test]
fn hostile_cookies_never_touch_files_outside_the_directory() {
    let root = dir("hostile");
    let port = serve(&root, "");
    let sessions = root.join("sessions");
    std::fs::create_dir(sessions.join("session-x")).unwrap();
    let reads_show = Sentinel::reads_show(&root.join("site.conf"));
    let sentinels = [
        Sentinel::place(root.join("site.conf"), None),
        Sentinel::place(root.join("sentinel"), Some(b"not a session")),
        Sentinel::place(root.join("sentinel.lock"), Some(b"")),
    ];
    let outside = [root.clone(), sessions.join("session-x")].map(|d| (names_in(&d), d));

    let absolute = root.join("sentinel").display().to_string();
    let deep_absolute = format!("x/../..{}{absolute}", "/..".repeat(20));
    let hostiles = [
        "x/../../sentinel".to_owned(),
        "x/../../site.conf".to_owned(),
        "../sentinel".to_owned(),
        "../../etc/passwd".to_owned(),
        absolute,
        deep_absolute,
        "/etc/passwd".to_owned(),
        "..".to_owned(),
        "x%2F..%2F..%2Fsentinel".to_owned(),
        "..%2F..%2Fsite.conf".to_owned(),
        "%2e%2e%2fsentinel".to_owned(),
        "\"x/../../sentinel\"".to_owned(),
        "session-../sentinel".to_owned(),
        format!("../{}", "a".repeat(37)),
        format!("x/../../{}", "a".repeat(32)),
        "A".repeat(40),
        "a".repeat(41),
        "a".repeat(4096),
        "é".to_owned(),
        "ü😀ü".to_owned(),
    ];
    let mut given = std::collections::BTreeSet::new();
    for hostile in &hostiles {
        let reply = http::get(port, "/set", Some(&format!("session_id={hostile}")));
        let (cookie, body) = (reply.set_cookie(), reply.body.as_str());
        let id = cookie
            .strip_prefix("session_id=")
            .and_then(|c| c.split(';').next())
            .unwrap_or_default();
        assert!(is_id(id), "{hostile}: not a new id: {cookie}");
        assert_eq!(body, id, "{hostile}: the handler saw another id");
        assert!(
            given.insert(id.to_owned()),
            "{hostile}: {id} was given before"
        );
        assert!(
            sessions.join(format!("session-{id}")).is_file(),
            "{hostile}: the new session is stored in the directory"
        );
    }
    // A NUL byte: actix-web's parser refuses the header (400) before any middleware runs
    // (CherryPy gives a new id: a documented divergence); nothing may be touched either.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /set HTTP/1.1\r\nHost: x\r\nCookie: session_id=x/../../sentinel\0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    for sentinel in &sentinels {
        sentinel.assert_untouched(reads_show);
    }
    for (before, dir) in &outside {
        assert_eq!(
            &names_in(dir),
            before,
            "a file was created or removed in {}",
            dir.display()
        );
    }
    // Inside, only the new sessions (and their lock files).
    for name in names_in(&sessions) {
        let name = name.into_string().unwrap();
        if name == "session-x" {
            continue;
        }
        let id = name.strip_prefix("session-").unwrap_or_default();
        let id = id.strip_suffix(".lock").unwrap_or(id);
        assert!(given.contains(id), "{name}");
    }
}

#[test]
fn clean_up_removes_expired_sessions_and_their_lock_files() {
    let root = dir("clean");
    let port = serve(
        &root,
        "tools.sessions.timeout = 0.005\ntools.sessions.clean_freq = 0.005\n",
    );
    http::get(port, "/set", None);
    let sessions = root.join("sessions");
    let count = || std::fs::read_dir(&sessions).unwrap().count();
    assert!(count() >= 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while count() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<_> = std::fs::read_dir(&sessions)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_missing_directory_is_a_located_startup_error() {
    let root = dir("missing");
    let conf = root.join("bad.conf");
    std::fs::write(&conf, "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'file'\ntools.sessions.storage_path = '/nonexistent/sessions'\n").unwrap();
    let err = CherryPySessions::from_file(&conf).unwrap_err();
    let text = err.diagnostic().to_string();
    assert!(text.contains("bad.conf:4:"), "{text}");
    assert!(text.contains("never creates it"), "{text}");
}

#[test]
fn unreadable_and_foreign_session_files() {
    let root = dir("foreign");
    let port = serve(&root, "");
    let sessions = root.join("sessions");
    // A truncated file reads as no data (as in CherryPy) and is replaced on save.
    let truncated = "a".repeat(40);
    std::fs::write(
        sessions.join(format!("session-{truncated}")),
        b"\x80\x05\x95",
    )
    .unwrap();
    let reply = http::get(port, "/set", Some(&format!("session_id={truncated}")));
    let (cookie, body) = (reply.set_cookie(), reply.body.as_str());
    assert!(
        cookie.contains(&truncated),
        "the id exists, so it is kept: {cookie}"
    );
    assert_eq!(body, truncated);
    // A real session holding a value outside our model (a set, as CherryPy could store):
    // an unknown session (a new id), and the file is left exactly as it was.
    let foreign = "b".repeat(40);
    let path = sessions.join(format!("session-{foreign}"));
    let out = Command::new("python3")
        .args([
            "-c",
            "import pickle,sys,datetime; open(sys.argv[1],'wb').write(pickle.dumps(({'s': {1, 2}}, datetime.datetime.now() + datetime.timedelta(hours=1)), protocol=5))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let before = std::fs::read(&path).unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /set HTTP/1.1\r\nHost: x\r\nCookie: session_id={foreign}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("set-cookie: session_id=")
            && !text.contains(&foreign),
        "a new id: {text}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// A directory the process cannot write is refused when the middleware is built, not
/// found by the first request that saves. (`/proc/self` is a directory nobody, root
/// included, can create files in; the tests run as root in CI, where permissions would
/// not stop a write.)
#[test]
fn an_unwritable_storage_path_is_refused_at_startup() {
    let conf = dir("unwritable").join("site.conf");
    std::fs::write(
        &conf,
        "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'file'\n\
         tools.sessions.storage_path = '/proc/self'\n",
    )
    .unwrap();
    let err = actix_cherrypy::middleware::CherryPySessions::from_file(&conf)
        .expect_err("an unwritable directory");
    let d = err.diagnostic();
    assert_eq!(d.code, "storage-path", "{d}");
    assert!(d.to_string().contains("not writable"), "{d}");
    assert!(
        d.to_string().contains("site.conf:4:"),
        "located at the setting: {d}"
    );
}
