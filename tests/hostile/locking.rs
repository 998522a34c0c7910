//! Session locks under concurrency: no update is lost, whatever the locking mode and the
//! store, and a request of another process is not starved of a session's lock. Our probe
//! server runs as separate processes, memcached and Redis as real servers.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::servers::http::session_get;
use crate::servers::probe::{Process, ours, probe_binary};
use crate::servers::{Server, temp_dir};

/// A store for the probe servers: its config lines, and the server process behind it.
pub(super) struct Store {
    lines: String,
    pub(super) server: Option<Server>,
    _dir: Option<RemoveOnDrop>,
}

/// A directory removed with the test's store.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn store(kind: &str, dir: &Path) -> Store {
    match kind {
        "ram" => Store {
            lines: String::new(),
            server: None,
            _dir: None,
        },
        "file" => {
            // On tmpfs where there is one: each save's fsync is then not a disk's, and these
            // tests are about locks, not durability.
            let shm = Path::new("/dev/shm");
            let sessions = if shm.is_dir() {
                shm.join(dir.file_name().unwrap())
            } else {
                dir.join("sessions")
            };
            std::fs::create_dir_all(&sessions).unwrap();
            Store {
                lines: format!(
                    "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n",
                    sessions.display().to_string()
                ),
                server: None,
                _dir: Some(RemoveOnDrop(sessions)),
            }
        }
        "redis" => {
            let server = Server::redis(dir);
            Store {
                lines: format!(
                    "tools.sessions.storage_type = \"redis\"\ntools.sessions.url = \"redis://{}/0\"\n",
                    server.address()
                ),
                server: Some(server),
                _dir: None,
            }
        }
        "memcached" => {
            let server = Server::memcached();
            Store {
                lines: format!(
                    "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
                    server.address()
                ),
                server: Some(server),
                _dir: None,
            }
        }
        other => panic!("no store {other}"),
    }
}

/// `processes` probe servers sharing `kind`'s store, with locking `locking`, except under
/// `/admin/` (the probe's second mount), which always locks implicitly.
fn probes(kind: &str, locking: &str, processes: usize) -> (Store, Vec<(Process, u16)>) {
    probes_with(kind, locking, processes, "")
}

/// [`probes`], with `lines` added to the `[/]` section.
pub(super) fn probes_with(
    kind: &str,
    locking: &str,
    processes: usize,
    lines: &str,
) -> (Store, Vec<(Process, u16)>) {
    let dir = temp_dir(&format!("locking-{kind}"));
    let store = store(kind, &dir);
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.locking = {locking:?}\n{}{lines}\n[/admin]\ntools.sessions.locking = \"implicit\"\n",
            store.lines
        ),
    )
    .unwrap();
    let binary = probe_binary();
    let servers = (0..processes).map(|_| ours(&binary, &conf)).collect();
    (store, servers)
}

/// A keep-alive HTTP/1.1 connection in one session (a connection per request would make
/// the client, not the server, the cost of these tests).
pub(super) struct Client {
    stream: std::io::BufReader<TcpStream>,
    cookie: String,
}

impl Client {
    pub(super) fn new(port: u16, id: &str) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        Self {
            stream: std::io::BufReader::new(stream),
            cookie: format!("session_id={id}"),
        }
    }

    /// `(status, body)` of `GET path`.
    pub(super) fn get(&mut self, path: &str) -> (u16, String) {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n",
            self.cookie
        );
        self.stream.get_mut().write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        self.stream.read_line(&mut line).unwrap();
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            if line.trim_end().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).unwrap();
        (status, String::from_utf8(body).unwrap())
    }
}

/// Sends `total` requests, `clients` at a time (each on a keep-alive connection to a port
/// of `ports`), to `path(i)` in one new session; returns the session id and the bodies of
/// the answers, which must all be 200.
pub(super) fn burst(
    ports: &[u16],
    total: usize,
    clients: usize,
    path: impl Fn(usize) -> String + Send + Sync + 'static,
) -> (String, Vec<String>) {
    let (status, id, _) = session_get(ports[0], "/admin/set?key=other&value=x", None);
    assert_eq!((status, id.len()), (200, 40));
    let next = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let path = Arc::new(path);
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (next, bodies, path) = (next.clone(), bodies.clone(), path.clone());
            let mut client = Client::new(ports[c % ports.len()], &id);
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    let (status, body) = client.get(&path(i));
                    assert_eq!(status, 200, "request {i}: {}: {body}", path(i));
                    bodies.lock().unwrap().push(body);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let bodies = std::mem::take(&mut *bodies.lock().unwrap());
    (id, bodies)
}

/// 20 concurrent requests that each `acquire_lock()`, increment and `release_lock()`.
fn explicit_increments_end_at_20(kind: &str) {
    let (_store, servers) = probes(kind, "explicit", 1);
    let port = servers[0].1;
    let (id, _) = burst(&[port], 20, 20, |_| {
        "/lock_explicit?key=n&ms=1&after=20".into()
    });
    assert_eq!(session_get(port, "/get?key=n", Some(&id)).2, "20", "{kind}");
}

/// As [`explicit_increments_end_at_20`], but each request reads the session before
/// `acquire_lock()` (an authentication check, say): what it read then is no base for the
/// increment it makes under the lock. (File sessions refuse a read without the lock.)
fn explicit_increments_after_an_unlocked_read_end_at_20(kind: &str) {
    let (_store, servers) = probes(kind, "explicit", 1);
    let port = servers[0].1;
    let (id, _) = burst(&[port], 20, 20, |_| {
        "/lock_explicit?key=n&ms=1&after=20&peek=user".into()
    });
    assert_eq!(session_get(port, "/get?key=n", Some(&id)).2, "20", "{kind}");
}

#[test]
fn explicit_increments_after_an_unlocked_read_ram() {
    explicit_increments_after_an_unlocked_read_end_at_20("ram");
}

#[test]
fn explicit_increments_after_an_unlocked_read_redis() {
    explicit_increments_after_an_unlocked_read_end_at_20("redis");
}

#[test]
fn explicit_increments_after_an_unlocked_read_memcached() {
    explicit_increments_after_an_unlocked_read_end_at_20("memcached");
}

#[test]
fn explicit_release_loses_no_update_ram() {
    explicit_increments_end_at_20("ram");
}

#[test]
fn explicit_release_loses_no_update_redis() {
    explicit_increments_end_at_20("redis");
}

#[test]
fn explicit_release_loses_no_update_memcached() {
    explicit_increments_end_at_20("memcached");
}

/// 20 increments (`get`, `insert`) with explicit locking and no `acquire_lock()`, from 10
/// clients spread over `processes` servers: requests that read the same value cannot all
/// store their increment. Each is either stored or refused (500), never answered 200 and
/// then lost: the session ends at the count of 200s.
fn unlocked_increments_lose_no_answered_update(kind: &str, processes: usize) {
    let (_store, servers) = probes(kind, "explicit", processes);
    let ports: Vec<u16> = servers.iter().map(|s| s.1).collect();
    let (status, id, _) = session_get(ports[0], "/admin/set?key=other&value=x", None);
    assert_eq!(status, 200);
    let statuses: Vec<u16> = (0..10)
        .map(|c| {
            let mut client = Client::new(ports[c % ports.len()], &id);
            std::thread::spawn(move || {
                (0..2)
                    .map(|_| client.get("/slow_incr?key=n&ms=5").0)
                    .collect::<Vec<_>>()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let answered = statuses.iter().filter(|&&s| s == 200).count();
    assert!(
        statuses.iter().all(|s| [200, 500].contains(s)),
        "{statuses:?}"
    );
    let stored = session_get(ports[0], "/get?key=n", Some(&id)).2;
    assert_eq!(stored, answered.to_string(), "{kind}: {statuses:?}");
    assert!(
        answered < 20,
        "{kind}: no increment conflicted: {statuses:?}"
    );
}

#[test]
fn unlocked_increments_lose_no_answered_update_ram() {
    unlocked_increments_lose_no_answered_update("ram", 1);
}

#[test]
fn unlocked_increments_lose_no_answered_update_redis_two_processes() {
    unlocked_increments_lose_no_answered_update("redis", 2);
}

#[test]
fn unlocked_increments_lose_no_answered_update_memcached_two_processes() {
    unlocked_increments_lose_no_answered_update("memcached", 2);
}

/// A login (`regenerate()`) on a site with browser-session cookies: the new cookie is a
/// browser-session cookie too, as with CherryPy's `cherrypy.session.regenerate()`. The
/// tool function's variant keeps its persistent cookie under its own name.
#[test]
fn regenerate_keeps_a_browser_session_cookie() {
    use actix_cherrypy::middleware::CherryPySessions;
    use actix_cherrypy::session::Session;
    use actix_web::{HttpResponse, web};

    let dir = temp_dir("regenerate-cookie");
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        "[/]\ntools.sessions.on = True\ntools.sessions.persistent = False\ntools.sessions.httponly = True\n",
    )
    .unwrap();
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let port = crate::servers::http::serve(
        1,
        move || sessions.clone(),
        |cfg| {
            cfg.route(
                "/login",
                web::get().to(|s: Session| async move {
                    s.insert("user", "ann").unwrap();
                    HttpResponse::Ok().body(s.regenerate().to_string())
                }),
            )
            .route(
                "/tool",
                web::get().to(|s: Session| async move {
                    HttpResponse::Ok().body(s.regenerate_with_persistent_cookie().to_string())
                }),
            );
        },
    );
    let login = crate::servers::http::get(port, "/login", None);
    assert_eq!(
        login.set_cookie(),
        format!("session_id={}; HttpOnly; Path=/", login.body)
    );
    let tool = crate::servers::http::get(port, "/tool", None);
    let cookie = tool.set_cookie();
    assert!(
        cookie.contains("; expires=") && cookie.contains("; Max-Age=3600"),
        "{cookie}"
    );
}

/// 10 000 increments of one session, 24 at a time, spread over `processes` probe servers
/// and mixing implicit locking with explicit locking: acquire/increment/release (work
/// going on after the release), or, on file storage (where CherryPy refuses a save after
/// the release), acquire/increment with the release left to the end of the request. Each
/// request must see exactly the previous one's write.
#[allow(
    clippy::print_stderr,
    reason = "the run time asked of this test, with --nocapture"
)]
fn mixed_increments_are_exact(kind: &str, processes: usize) {
    const TOTAL: usize = 10_000;
    let (_store, servers) = probes(kind, "explicit", processes);
    let ports: Vec<u16> = servers.iter().map(|(_, port)| *port).collect();
    let (explicit, after) = if kind == "file" {
        (
            "/lock_explicit?key=n&ms=0&release=0",
            "/lock_explicit?key=n&ms=0&release=0",
        )
    } else {
        (
            "/lock_explicit?key=n&ms=0",
            "/lock_explicit?key=n&ms=0&after=1",
        )
    };
    let started = std::time::Instant::now();
    let (id, bodies) = burst(&ports, TOTAL, 24, move |i| match i % 3 {
        0 => "/admin/slow_incr?key=n&ms=0".into(),
        1 => explicit.into(),
        _ => after.into(),
    });
    let mut seen: Vec<u64> = bodies
        .iter()
        .map(|b| b.split_once("->").expect(b).0.parse().expect(b))
        .collect();
    seen.sort_unstable();
    let lost = seen.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(
        lost, 0,
        "{kind}: {lost} requests read a value another also read"
    );
    assert_eq!(
        session_get(ports[0], "/admin/get?key=n", Some(&id)).2,
        TOTAL.to_string(),
        "{kind}"
    );
    eprintln!("{kind}: {TOTAL} increments in {:?}", started.elapsed());
}

#[test]
fn ten_thousand_mixed_increments_ram() {
    mixed_increments_are_exact("ram", 1);
}

#[test]
fn ten_thousand_mixed_increments_file_two_processes() {
    mixed_increments_are_exact("file", 2);
}

#[test]
fn ten_thousand_mixed_increments_redis_two_processes() {
    mixed_increments_are_exact("redis", 2);
}

#[test]
fn ten_thousand_mixed_increments_memcached_two_processes() {
    mixed_increments_are_exact("memcached", 2);
}

/// Whether a waiter of another process is queued for session `id`'s lock, read straight
/// from the store's server on `conn`: memcached's lock key holds `holder queued`, Redis has
/// the queued token in `<lock key>:next` (see `src/store/`).
fn queued(kind: &str, conn: &mut std::io::BufReader<TcpStream>, id: &str) -> bool {
    let command = match kind {
        "memcached" => format!("mg {id}.lock v\r\n"),
        "redis" => format!("EXISTS lock_{id}:next\r\n"),
        other => panic!("no queue in {other}"),
    };
    conn.get_mut().write_all(command.as_bytes()).unwrap();
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    match kind {
        "memcached" if line.starts_with("VA ") => {
            let mut value = String::new();
            conn.read_line(&mut value).unwrap();
            value.trim_end().contains(' ')
        }
        "memcached" => {
            assert_eq!(line, "EN\r\n", "memcached: {line}");
            false
        }
        _ => line == ":1\r\n",
    }
}

/// How many requests of process A read a session after a request of process B queued for
/// its lock, when A's clients keep the session busy: the most over 20 of B's requests.
/// Each request reports the value it read (`n->n+1`); a watcher on the store's server
/// notes the highest value A's clients had seen when it first finds B queued, and the
/// count is the values read between that one and B's. B's requests that got the lock
/// without queueing count 0; the time B's request takes to reach its first attempt (under
/// CPU load, any number of A's requests) is not counted, as the bound starts at the queue.
#[allow(clippy::print_stderr, reason = "the measured figure, with --nocapture")]
fn served_while_another_process_waits(kind: &str) -> u64 {
    let (store, servers) = probes(kind, "implicit", 2);
    let (a, b) = (servers[0].1, servers[1].1);
    let (_, id, _) = session_get(a, "/set?key=other&value=x", None);
    let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let read = |body: &str| -> u64 { body.split_once("->").expect(body).0.parse().expect(body) };
    let busy: Vec<_> = (0..A_CLIENTS)
        .map(|_| {
            let (seen, stop, mut client) = (seen.clone(), stop.clone(), Client::new(a, &id));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let (status, body) = client.get("/slow_incr?key=n&ms=1");
                    assert_eq!(status, 200, "{body}");
                    seen.fetch_max(read(&body), Ordering::SeqCst);
                }
            })
        })
        .collect();
    // `Some(None)` while one of B's requests is out, `Some(Some(seen))` once it was found
    // queued. The watcher checks and notes under the lock, so a note is of that request.
    let at_queue: Arc<Mutex<Option<Option<u64>>>> = Arc::default();
    let watcher = {
        let (kind, id) = (kind.to_owned(), id.clone());
        let (seen, stop, at_queue) = (seen.clone(), stop.clone(), at_queue.clone());
        let address = store.server.as_ref().expect("a store server").address();
        std::thread::spawn(move || {
            let mut conn = std::io::BufReader::new(TcpStream::connect(address).unwrap());
            while !stop.load(Ordering::SeqCst) {
                let mut note = at_queue.lock().unwrap();
                let waiting = *note == Some(None);
                if waiting && queued(&kind, &mut conn, &id) {
                    *note = Some(Some(seen.load(Ordering::SeqCst)));
                }
                drop(note);
                let pause = if waiting { 250 } else { 1000 };
                std::thread::sleep(std::time::Duration::from_micros(pause));
            }
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut client = Client::new(b, &id);
    let (mut most, mut queued_requests) = (0, 0);
    for _ in 0..20 {
        *at_queue.lock().unwrap() = Some(None);
        let (status, body) = client.get("/slow_incr?key=n&ms=1");
        assert_eq!(status, 200, "{body}");
        if let Some(Some(before)) = at_queue.lock().unwrap().take() {
            queued_requests += 1;
            most = most.max(read(&body).saturating_sub(before + 1));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    for thread in busy {
        thread.join().unwrap();
    }
    watcher.join().unwrap();
    eprintln!(
        "{kind}: at most {most} of A's requests read the session after one of B's queued ({queued_requests} of 20 queued)"
    );
    assert!(
        queued_requests >= 10,
        "{kind}: only {queued_requests} of B's 20 requests were seen queued"
    );
    most
}

/// Clients keeping process A busy on one session.
const A_CLIENTS: u64 = 8;

/// The bound the stores document (`MAX_HAND_OVERS` + 1 = 17 requests of the holding
/// process once a waiter of another process is queued: the one holding the lock then, and
/// the 16 it is handed over to), plus those of A's other requests that had read the
/// session before B queued but whose answers their clients had not yet counted: each
/// client counts its answer before it sends its next request, so at most one per client
/// other than the holder's.
const FAIR_BOUND: u64 = 17 + A_CLIENTS - 1;

#[test]
fn a_busy_process_does_not_starve_another_redis() {
    let most = served_while_another_process_waits("redis");
    assert!(most <= FAIR_BOUND, "{most} requests served while B waited");
}

#[test]
fn a_busy_process_does_not_starve_another_memcached() {
    let most = served_while_another_process_waits("memcached");
    assert!(most <= FAIR_BOUND, "{most} requests served while B waited");
}

/// One request of the property test, on the session all of a case's requests share.
#[derive(Debug, Clone)]
enum Op {
    /// `session[key] = value`, implicit locking.
    Set(&'static str, u8),
    /// A read, implicit locking.
    Get,
    /// A read without the lock, explicit locking (file storage refuses it: there, a read
    /// with implicit locking).
    GetUnlocked,
    /// Read-increment-write of `n`, implicit locking.
    Incr,
    /// Read-increment-write of `n` between `acquire_lock()` and `release_lock()` (on file
    /// storage the release is left to the end of the request), explicit locking.
    IncrExplicit,
    /// Read-increment-write of `n` without the lock, explicit locking: stored if nobody
    /// changed the session meanwhile, else refused (500), which stores nothing (file
    /// storage refuses it always).
    IncrUnlocked,
    /// `expire()`: the cookie only; the stored data stays.
    Expire,
    /// `regenerate()` after loading: the data moves to a new id.
    Regenerate,
}

impl Op {
    fn path(&self, kind: &str) -> String {
        match self {
            Op::Set(key, value) => format!("/admin/set?key={key}&value={value}"),
            Op::Get => "/admin/get?key=n".into(),
            Op::GetUnlocked if kind == "file" => "/admin/get?key=n".into(),
            Op::GetUnlocked => "/get?key=n".into(),
            Op::Incr => "/admin/slow_incr?key=n&ms=0".into(),
            Op::IncrExplicit if kind == "file" => "/lock_explicit?key=n&ms=0&release=0".into(),
            Op::IncrExplicit => "/lock_explicit?key=n&ms=0&after=1".into(),
            Op::IncrUnlocked => "/slow_incr?key=n&ms=1".into(),
            Op::Expire => "/admin/expire".into(),
            Op::Regenerate => "/admin/regenerate_session?touch=1".into(),
        }
    }
}

/// A session's data as the probe's `/dump` prints it (Python's dict repr, in insertion order).
type Dict = Vec<(String, String)>;

fn repr(dict: &Dict) -> String {
    let items: Vec<String> = dict.iter().map(|(k, v)| format!("'{k}': {v}")).collect();
    format!("{{{}}}", items.join(", "))
}

fn upsert(dict: &mut Dict, key: &str, value: String) {
    match dict.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value,
        None => dict.push((key.to_owned(), value)),
    }
}

/// What the session's first id and the id `regenerate()` gave hold after `ops` run one
/// after the other in this order (`None`: nothing stored). A request whose id is gone
/// (regenerated away) works on a new session of its own, which is not looked at.
fn serial(ops: &[&Op]) -> (Option<String>, Option<String>) {
    let mut first: Option<Dict> = Some(vec![("x".into(), "'init'".into())]);
    let mut regenerated: Option<Dict> = None;
    for op in ops {
        match (op, first.as_mut()) {
            (Op::Set(key, value), Some(dict)) => upsert(dict, key, format!("'{value}'")),
            (Op::Incr | Op::IncrExplicit | Op::IncrUnlocked, Some(dict)) => {
                let n = dict
                    .iter()
                    .find(|(k, _)| k == "n")
                    .map_or(0, |(_, v)| v.parse::<i64>().unwrap());
                upsert(dict, "n", (n + 1).to_string());
            }
            (Op::Regenerate, _) => regenerated = Some(first.take().unwrap_or_default()),
            _ => {}
        }
    }
    (first.as_ref().map(repr), regenerated.as_ref().map(repr))
}

/// Every order of `ops`.
fn orders(ops: &[Op]) -> Vec<Vec<&Op>> {
    fn permute(left: &mut Vec<usize>, order: &mut Vec<usize>, all: &mut Vec<Vec<usize>>) {
        if left.is_empty() {
            all.push(order.clone());
        }
        for i in 0..left.len() {
            let next = left.remove(i);
            order.push(next);
            permute(left, order, all);
            order.pop();
            left.insert(i, next);
        }
    }
    let mut all = Vec::new();
    permute(&mut (0..ops.len()).collect(), &mut Vec::new(), &mut all);
    all.into_iter()
        .map(|order| order.into_iter().map(|i| &ops[i]).collect())
        .collect()
}

/// The data of `id`'s session, `None` when the store no longer has it (the server then
/// answers with another id).
fn stored(port: u16, id: &str) -> Option<String> {
    let (status, cookie_id, body) = session_get(port, "/admin/dump", Some(id));
    assert_eq!(status, 200, "{body}");
    (cookie_id == id).then_some(body)
}

/// Runs a few random cases of 2 to 5 concurrent requests on one session, over the probe
/// servers of `kind`, and requires the end state to be one that some serial order of those
/// requests gives.
fn interleavings_are_serialisable(kind: &str, processes: usize) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let (_store, servers) = probes(kind, "explicit", processes);
    let ports: Vec<u16> = servers.iter().map(|(_, port)| *port).collect();
    let op = prop_oneof![
        (prop::sample::select(vec!["a", "b"]), 0..10u8).prop_map(|(k, v)| Op::Set(k, v)),
        Just(Op::Get),
        Just(Op::GetUnlocked),
        Just(Op::Incr),
        Just(Op::IncrExplicit),
        Just(Op::IncrUnlocked),
        Just(Op::Expire),
        Just(Op::Regenerate),
    ];
    let ops = prop::collection::vec(op, 2..=5).prop_map(|mut ops| {
        // One regenerate at most: the model follows one new id.
        let mut seen = false;
        for op in &mut ops {
            if matches!(op, Op::Regenerate) {
                if seen {
                    *op = Op::Get;
                }
                seen = true;
            }
        }
        ops
    });
    let config = Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&ops, |ops| {
        let (status, id, _) = session_get(ports[0], "/admin/set?key=x&value=init", None);
        assert_eq!(status, 200);
        let barrier = Arc::new(std::sync::Barrier::new(ops.len()));
        let threads: Vec<_> = ops
            .iter()
            .enumerate()
            .map(|(i, op)| {
                let (path, port, id, barrier) = (
                    op.path(kind),
                    ports[i % ports.len()],
                    id.clone(),
                    barrier.clone(),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    session_get(port, &path, Some(&id))
                })
            })
            .collect();
        let mut new_id = None;
        // What the requests did: a refused one (only an unlocked write may be) did nothing.
        let mut done = Vec::new();
        for (op, thread) in ops.iter().zip(threads) {
            let (status, _, body) = thread.join().unwrap();
            let refused = status == 500 && matches!(op, Op::IncrUnlocked);
            prop_assert!(status == 200 || refused, "{:?}: {} {}", op, status, body);
            if matches!(op, Op::Regenerate) {
                new_id = body.split_once(' ').map(|(_, new)| new.to_owned());
            }
            done.push(if refused { Op::Get } else { op.clone() });
        }
        let port = ports[ports.len() - 1];
        let seen = (stored(port, &id), new_id.and_then(|new| stored(port, &new)));
        let possible: Vec<_> = orders(&done).iter().map(|order| serial(order)).collect();
        prop_assert!(
            possible.contains(&seen),
            "{kind}: {ops:?} ended as {seen:?}, which no serial order gives"
        );
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}

#[test]
fn interleavings_are_serialisable_ram() {
    interleavings_are_serialisable("ram", 1);
}

#[test]
fn interleavings_are_serialisable_file_two_processes() {
    interleavings_are_serialisable("file", 2);
}

#[test]
fn interleavings_are_serialisable_redis_two_processes() {
    interleavings_are_serialisable("redis", 2);
}

#[test]
fn interleavings_are_serialisable_memcached_two_processes() {
    interleavings_are_serialisable("memcached", 2);
}

/// A change after `release_lock()`: stored when nobody changed the session meanwhile, and
/// refused (a 500, the newer data kept) when another request did, rather than written over
/// that request's update.
fn a_change_after_the_release(kind: &str) {
    let (_store, servers) = probes(kind, "explicit", 1);
    let port = servers[0].1;
    let (_, id, _) = session_get(port, "/admin/set?key=other&value=x", None);
    let (status, _, _) = session_get(port, "/lock_explicit?key=n&ms=0&late=z", Some(&id));
    assert_eq!(status, 200);
    assert_eq!(session_get(port, "/admin/get?key=z", Some(&id)).2, "1");
    let late = {
        let id = id.clone();
        std::thread::spawn(move || {
            session_get(
                port,
                "/lock_explicit?key=n&ms=0&after=300&late=y",
                Some(&id),
            )
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    let (status, _, body) = session_get(port, "/lock_explicit?key=n&ms=0", Some(&id));
    assert_eq!((status, body.as_str()), (200, "2->3"));
    assert_eq!(late.join().unwrap().0, 500, "{kind}");
    assert_eq!(
        session_get(port, "/admin/get?key=n", Some(&id)).2,
        "3",
        "{kind}"
    );
    assert_eq!(
        session_get(port, "/admin/get?key=y", Some(&id)).2,
        "",
        "{kind}"
    );
}

#[test]
fn a_change_after_the_release_ram() {
    a_change_after_the_release("ram");
}

#[test]
fn a_change_after_the_release_redis() {
    a_change_after_the_release("redis");
}

#[test]
fn a_change_after_the_release_memcached() {
    a_change_after_the_release("memcached");
}

/// A request that only read a session and ends after `regenerate()` moved the session to a
/// new id must not store it again under the old one: the old id is what a login
/// regenerates away, and bringing it back would hand the logged-in session to whoever
/// holds the old cookie.
fn a_read_only_request_does_not_bring_back_a_regenerated_id(kind: &str) {
    let (_store, servers) = probes(kind, "explicit", 1);
    let port = servers[0].1;
    let (status, id, _) = session_get(port, "/admin/set?key=user&value=ann", None);
    assert_eq!(status, 200);
    let reader = {
        let id = id.clone();
        // Unlocked (explicit locking, no acquire_lock()): reads, then works for a while.
        std::thread::spawn(move || session_get(port, "/get?key=user&ms=400", Some(&id)))
    };
    std::thread::sleep(std::time::Duration::from_millis(150));
    let (status, _, body) = session_get(port, "/admin/regenerate_session?touch=1", Some(&id));
    assert_eq!(status, 200, "{body}");
    let (_, new) = body.split_once(' ').unwrap();
    let (status, _, read) = reader.join().unwrap();
    assert_eq!((status, read.as_str()), (200, "ann"));
    assert_eq!(stored(port, new).as_deref(), Some("{'user': 'ann'}"));
    assert_eq!(stored(port, &id), None, "{kind}: the old id is back");
}

#[test]
fn a_read_only_request_does_not_bring_back_a_regenerated_id_ram() {
    a_read_only_request_does_not_bring_back_a_regenerated_id("ram");
}

#[test]
fn a_read_only_request_does_not_bring_back_a_regenerated_id_redis() {
    a_read_only_request_does_not_bring_back_a_regenerated_id("redis");
}

#[test]
fn a_read_only_request_does_not_bring_back_a_regenerated_id_memcached() {
    a_read_only_request_does_not_bring_back_a_regenerated_id("memcached");
}
