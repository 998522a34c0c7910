//! The session budget is the store's: a value is measured at insert as the configured store
//! will write the session (Redis: protocol 5, memo and frames; memcached: protocol 0, where
//! a `\` takes six bytes, within the server's item size limit). A session the store could
//! not hold is refused at insert (the handler's `?` answers 413), never a 500 at the save;
//! a session just under the budget saves and reads back. Real servers, started here.

use actix_cherrypy::Session;
use actix_cherrypy::limits::MAX_SESSION_BYTES;
use actix_cherrypy::middleware::{CherryPySessions, Unreachable};
use actix_cherrypy::session_value::SessionValue;
use actix_web::web;

use crate::servers::http::{self, session_get};
use crate::servers::{Server, free_port, temp_dir};

/// The values the tests insert under `"k"`, `n` giving their size.
fn value(kind: &str, n: usize) -> SessionValue {
    match kind {
        // Six bytes each in protocol 0 (`\u005c`), one in protocols 4 and 5.
        "backslashes" => SessionValue::Str("\\".repeat(n)),
        "bytes" => SessionValue::Bytes(vec![7; n]),
        // A `MEMOIZE` each in protocol 5.
        "strs" => SessionValue::List(vec![SessionValue::Str("x".repeat(30)); n]),
        "text" => SessionValue::Str("a".repeat(n)),
        other => panic!("no value {other}"),
    }
}

/// `/insert/{kind}/{n}`: inserts the value; a refusal is the handler's error (413).
async fn insert(s: Session, path: web::Path<(String, usize)>) -> actix_web::Result<String> {
    let (kind, n) = path.into_inner();
    s.insert_value("k", value(&kind, n))?;
    Ok("inserted".into())
}

/// `/largest/{kind}`: the largest value of `kind` the session takes, found by inserting
/// (a refused insert leaves the session as it was), and left in the session.
async fn largest(s: Session, kind: web::Path<String>) -> String {
    let (mut fits, mut over) = (0, MAX_SESSION_BYTES + 1);
    while over - fits > 1 {
        let mid = fits + (over - fits) / 2;
        match s.insert_value("k", value(&kind, mid)) {
            Ok(()) => fits = mid,
            Err(e) => {
                assert!(e.is_over_budget(), "{e}");
                over = mid;
            }
        }
    }
    s.insert_value("k", value(&kind, fits)).unwrap();
    fits.to_string()
}

/// `/len`: the stored value's length, as read back.
async fn len(s: Session) -> String {
    match s.get_value("k") {
        Some(SessionValue::Str(v)) => v.chars().count().to_string(),
        Some(SessionValue::Bytes(v)) => v.len().to_string(),
        Some(SessionValue::List(v)) => v.len().to_string(),
        other => format!("{other:?}"),
    }
}

/// Our server on `lines`' store.
fn serve(lines: &str) -> u16 {
    serve_sessions(CherryPySessions::from_file(site_conf(lines)).unwrap())
}

/// A config file for `lines`' store, sessions on.
fn site_conf(lines: &str) -> std::path::PathBuf {
    let dir = temp_dir("session-budget");
    let conf = dir.join("site.conf");
    std::fs::write(&conf, format!("[/]\ntools.sessions.on = True\n{lines}")).unwrap();
    conf
}

/// Our server with `sessions`.
fn serve_sessions(sessions: CherryPySessions) -> u16 {
    http::serve(
        1,
        move || sessions.clone(),
        |cfg| {
            cfg.route("/insert/{kind}/{n}", web::get().to(insert))
                .route("/largest/{kind}", web::get().to(largest))
                .route("/len", web::get().to(len));
        },
    )
}

fn redis() -> (Server, u16) {
    let server = Server::redis(&temp_dir("session-budget-redis"));
    let port = serve(&format!(
        "tools.sessions.storage_type = \"redis\"\ntools.sessions.url = \"redis://{}/0\"\n",
        server.address()
    ));
    (server, port)
}

fn memcached(server: Server) -> (Server, u16) {
    let port = serve(&format!(
        "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
        server.address()
    ));
    (server, port)
}

/// The largest bytes value a session takes when measured as protocol 4.
fn largest_protocol4_bytes() -> usize {
    // `{"k": b"..."}`: the pickle's length, less the payload, is the same for any bytes
    // value of 256 bytes to 4 GiB.
    let expires = chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap();
    let data = [("k".to_owned(), SessionValue::Bytes(vec![0; 300]))]
        .into_iter()
        .collect();
    let pickle = actix_cherrypy::__private::pickle::encode(&data, expires).unwrap();
    MAX_SESSION_BYTES - (pickle.len() - 300)
}

/// Each value is refused at insert (413), and the session keeps what it had.
fn refused_at_insert(port: u16, values: &[(&str, usize)]) {
    let (status, id, _) = session_get(port, "/insert/text/10", None);
    assert_eq!(status, 200);
    for (kind, n) in values {
        let (status, _, body) = session_get(port, &format!("/insert/{kind}/{n}"), Some(&id));
        assert_eq!(status, 413, "{kind} × {n}: {body}");
        assert_eq!(session_get(port, "/len", Some(&id)).2, "10", "{kind} × {n}");
    }
}

/// The largest value of `kind` the insert takes is saved and reads back whole.
fn largest_reads_back(port: u16, kind: &str) -> usize {
    let (status, id, n) = session_get(port, &format!("/largest/{kind}"), None);
    assert_eq!(
        status, 200,
        "the largest {kind} the insert took is saved: {n}"
    );
    assert_eq!(session_get(port, "/len", Some(&id)).2, n, "{kind}");
    n.parse().unwrap()
}

#[test]
fn redis_refuses_at_insert_what_protocol_5_cannot_hold() {
    let (_server, port) = redis();
    refused_at_insert(
        port,
        &[("bytes", largest_protocol4_bytes()), ("strs", 520_000)],
    );
}

#[test]
fn redis_saves_and_reads_back_a_session_just_under_its_budget() {
    let (_server, port) = redis();
    for kind in ["bytes", "strs"] {
        let n = largest_reads_back(port, kind);
        assert!(n > 0, "{kind}");
    }
}

/// memcached with items as large as the session budget, so that protocol 0's own length is
/// what the insert is held to.
fn large_items_memcached() -> Server {
    Server::memcached_with("-I 64m -m 256")
}

#[test]
fn memcached_refuses_at_insert_what_protocol_0_cannot_hold() {
    let (_server, port) = memcached(large_items_memcached());
    refused_at_insert(port, &[("backslashes", 3_000_000)]);
}

#[test]
fn memcached_saves_and_reads_back_a_session_just_under_its_budget() {
    let (_server, port) = memcached(large_items_memcached());
    let n = largest_reads_back(port, "backslashes");
    // Six bytes each: a sixth of the budget, not all of it.
    assert!(
        n < MAX_SESSION_BYTES / 6 && n > MAX_SESSION_BYTES / 7,
        "{n}"
    );
}

/// memcached's default item size limit (1 MB) is the budget: a larger session is refused
/// at insert rather than by the server at the save.
#[test]
fn memcached_refuses_at_insert_what_its_item_size_limit_cannot_hold() {
    let (_server, port) = memcached(Server::memcached());
    refused_at_insert(
        port,
        &[
            ("backslashes", 3_000_000),
            ("bytes", largest_protocol4_bytes()),
            ("strs", 520_000),
            ("text", 1 << 20),
        ],
    );
    let n = largest_reads_back(port, "text");
    assert!(n > 1_000_000, "{n}");
}

/// Our server on memcached at a free port where nothing listens yet (it starts all the
/// same, warning), then memcached started there with `extra`.
fn memcached_started_late(extra: &str) -> (Server, u16) {
    let port = free_port();
    let conf = site_conf(&format!(
        "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [\"127.0.0.1:{port}\"]\n"
    ));
    let sessions = CherryPySessions::builder()
        .file(conf)
        .unreachable_store(Unreachable::Warn)
        .build()
        .unwrap();
    let web = serve_sessions(sessions);
    (Server::memcached_on(port, extra), web)
}

/// Asks `path` with a new session until it answers `status` (then its session id), within
/// a bounded wait; `meanwhile` is what it may answer until then.
fn until_status(web: u16, path: &str, status: u16, meanwhile: impl Fn(u16) -> bool) -> String {
    use std::time::{Duration, Instant};

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (got, id, body) = session_get(web, path, None);
        if got == status {
            return id;
        }
        assert!(meanwhile(got), "{path}: {got} {body}");
        assert!(
            Instant::now() < deadline,
            "{path} still answers {got}, not {status}: the server's item size limit was not learned once it was back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A process started while its memcached server was down knows only memcached's default
/// item size limit (1 MiB), and refuses a larger session at insert; once the server is
/// back, it learns the server's own limit (`-I 2m`) without a restart, and the session is
/// taken, saved and read back.
#[test]
fn memcached_learns_the_item_size_limit_of_a_server_that_was_down_at_startup() {
    let (_server, web) = memcached_started_late("-I 2m");
    let id = until_status(web, "/insert/text/1500000", 200, |s| s == 413);
    assert_eq!(session_get(web, "/len", Some(&id)).2, "1500000");
}

/// The same with a server whose limit is below memcached's default (`-I 512k`): once it
/// is back, what it could not hold is refused at insert, not by the server at the save.
#[test]
fn memcached_lowers_its_limit_to_that_of_a_server_that_was_down_at_startup() {
    let (_server, web) = memcached_started_late("-I 512k");
    until_status(web, "/insert/text/700000", 413, |_| true);
    let (status, id, body) = session_get(web, "/insert/text/500000", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(session_get(web, "/len", Some(&id)).2, "500000");
}

/// A session another process stored, longer than the item size limit this process knows
/// (a smaller one it learned, or memcached's default when a server did not say at
/// startup), still loads: the server holds it, so it takes it back as long as it is no
/// longer than what is stored.
#[test]
fn memcached_loads_what_its_server_holds_beyond_the_limit_this_process_knows() {
    use std::io::{Read, Write};

    use actix_cherrypy::session_id::SessionId;
    use actix_cherrypy::store::{MemcachedStore, SessionStore};

    let server = large_items_memcached();
    let id = SessionId::generate();
    let data = [("k".to_owned(), value("text", 2_000_000))]
        .into_iter()
        .collect();
    let expires = chrono::Local::now().naive_local() + chrono::Duration::hours(1);
    let pickle = actix_cherrypy::__private::pickle::encode_protocol0(&data, expires).unwrap();
    let mut command = format!("set {id} 1 0 {}\r\n", pickle.len()).into_bytes();
    command.extend(&pickle);
    command.extend(b"\r\nquit\r\n");
    let mut conn = std::net::TcpStream::connect(server.address()).unwrap();
    conn.write_all(&command).unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("STORED"), "{reply}");
    // Never told the server's limit: it assumes memcached's default, 1 MiB.
    let store = MemcachedStore::new(&[server.address()]).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let loaded = runtime.block_on(store.load(&id)).unwrap();
    assert_eq!(loaded.map(|r| r.data), Some(data));
}

/// With `max_lifetime`, the save adds the creation time to the data: the insert leaves
/// room for it, in every store.
#[test]
fn the_creation_time_fits_beside_the_largest_session() {
    let redis_server = Server::redis(&temp_dir("session-budget-redis"));
    let memcached_server = Server::memcached();
    let files = temp_dir("session-budget-files");
    let stores = [
        format!(
            "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n",
            files.display().to_string()
        ),
        format!(
            "tools.sessions.storage_type = \"redis\"\ntools.sessions.url = \"redis://{}/0\"\n",
            redis_server.address()
        ),
        format!(
            "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
            memcached_server.address()
        ),
    ];
    for store in stores {
        let port = serve(&format!("{store}tools.sessions.max_lifetime = 60\n"));
        largest_reads_back(port, "bytes");
    }
}
