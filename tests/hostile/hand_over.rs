//! A session's lock handed, with the session, to the next request of the same process that
//! waits for it: a queue of requests on one session costs the store one load, and the last
//! of the queue makes the expiry extension the others left to it. What could go wrong is a
//! stale session passed on (a write made without the lock, in between) or an expiry never
//! extended; each has a test here, on real Redis and memcached servers.

use std::time::{Duration, Instant};

use super::locking::{Client, Store, burst, probes_with};
use crate::servers::http::session_get;
use crate::servers::probe::Process;
use crate::servers::{Server, memcached_line, redis_cli, redis_command_calls};

/// A probe server on `kind`'s store with a 12 s timeout, and a session in it (`k` =
/// "kept") saved 3 s ago: its store expiry is 9 s away, more than half the timeout, so
/// read-only requests may leave their extension to a later one.
struct AgedSession {
    store: Store,
    _servers: Vec<(Process, u16)>,
    port: u16,
    id: String,
}

impl AgedSession {
    fn new(kind: &str) -> Self {
        let (store, servers) = probes_with(kind, "implicit", 1, "tools.sessions.timeout = 0.2\n");
        let port = servers[0].1;
        let (status, id, _) = session_get(port, "/set?key=k&value=kept", None);
        assert_eq!(status, 200);
        std::thread::sleep(Duration::from_secs(3));
        Self {
            store,
            _servers: servers,
            port,
            id,
        }
    }

    /// The store's server.
    fn server(&self) -> &Server {
        self.store.server.as_ref().expect("a store with a server")
    }

    /// Seconds the store keeps the session, once it keeps it at least `expected` (an
    /// extension is made after the last answer), or after 2 s of waiting for that.
    fn kept_for(&self, kind: &str, expected: f64) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut left = seconds_left(kind, self.server(), &self.id);
        while left < expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            left = seconds_left(kind, self.server(), &self.id);
        }
        left
    }
}

/// A number from the store's own statistics: Redis' `GETRANGE` calls (how this crate
/// reads a session), memcached's `cmd_get`.
fn loads(kind: &str, server: &Server) -> u64 {
    match kind {
        "redis" => redis_command_calls(server.port, "getrange"),
        "memcached" => memcached_line(&server.address(), "stats\r\n", "STAT cmd_get ")
            .parse()
            .unwrap(),
        other => panic!("no store {other}"),
    }
}

/// Seconds the store keeps session `id` from now.
fn seconds_left(kind: &str, server: &Server, id: &str) -> f64 {
    match kind {
        "redis" => {
            let ms: f64 = redis_cli(server.port, &["PTTL", id]).parse().unwrap();
            ms / 1000.0
        }
        "memcached" => {
            let line = memcached_line(&server.address(), &format!("mg {id} t\r\n"), "HD ");
            line.strip_prefix('t').unwrap().parse().unwrap()
        }
        other => panic!("no store {other}"),
    }
}

/// 96 read-only requests from 16 clients on one session, each 5 ms long: the session is
/// loaded once per queue, not once per request, and once the queue is over the store's
/// expiry is the session's timeout (12 s) from the end, not from the save 3 s before.
fn a_queue_loads_once_and_extends_at_the_end(kind: &str) {
    const REQUESTS: usize = 96;
    let session = AgedSession::new(kind);
    let (port, id) = (session.port, &session.id);
    let before = loads(kind, session.server());
    let id_for_burst = id.clone();
    let bodies = {
        // `burst` makes its own session; this one must be the aged one above.
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let next = next.clone();
                let mut client = Client::new(port, &id_for_burst);
                std::thread::spawn(move || {
                    let mut bodies = Vec::new();
                    while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < REQUESTS {
                        let (status, body) = client.get("/get?key=k&ms=5");
                        assert_eq!(status, 200, "{body}");
                        bodies.push(body);
                    }
                    bodies
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    };
    let loaded = loads(kind, session.server()) - before;
    assert_eq!(bodies.len(), REQUESTS);
    assert!(bodies.iter().all(|b| b == "kept"), "{kind}: {bodies:?}");
    assert!(
        loaded <= (REQUESTS / 4) as u64,
        "{kind}: {loaded} loads for {REQUESTS} requests queued on one session"
    );
    let left = session.kept_for(kind, 10.5);
    assert!(
        left >= 10.5,
        "{kind}: the store keeps the session {left} s more after the queue; its timeout is 12 s"
    );
    assert_eq!(
        session_get(port, "/get?key=k", Some(id)).2,
        "kept",
        "{kind}"
    );
}

#[test]
fn a_queue_loads_once_and_extends_at_the_end_redis() {
    a_queue_loads_once_and_extends_at_the_end("redis");
}

#[test]
fn a_queue_loads_once_and_extends_at_the_end_memcached() {
    a_queue_loads_once_and_extends_at_the_end("memcached");
}

/// The last request of a queue fails (its handler raises: nothing of it is saved), so the
/// expiry extension the read-only request before it left to it is made when the lock is
/// let go of: the store keeps the session its timeout (12 s) from then, not from the save
/// 3 s before the queue.
fn an_extension_left_to_a_failing_request_is_made(kind: &str) {
    let session = AgedSession::new(kind);
    let (port, id) = (session.port, &session.id);
    let request = |path: &'static str, after: u64| {
        let mut client = Client::new(port, id);
        std::thread::sleep(Duration::from_millis(after));
        std::thread::spawn(move || client.get(path))
    };
    let first = request("/get?key=k&ms=800", 0);
    let read_only = request("/get?key=k", 200);
    let failing = request("/error500", 200);
    assert_eq!(first.join().unwrap(), (200, "kept".to_owned()));
    assert_eq!(read_only.join().unwrap(), (200, "kept".to_owned()));
    assert_eq!(failing.join().unwrap().0, 500);
    let left = session.kept_for(kind, 10.0);
    assert!(
        left >= 10.0,
        "{kind}: the store keeps the session {left} s more; the read-only request's extension was not made"
    );
    assert_eq!(session_get(port, "/get?key=e", Some(id)).2, "", "{kind}");
}

#[test]
fn an_extension_left_to_a_failing_request_is_made_redis() {
    an_extension_left_to_a_failing_request_is_made("redis");
}

#[test]
fn an_extension_left_to_a_failing_request_is_made_memcached() {
    an_extension_left_to_a_failing_request_is_made("memcached");
}

/// A request of the same process that changes the session without `acquire_lock()`
/// (`explicit` locking at `/`) while a queue of readers holds it (`implicit` at `/admin/`):
/// its change is stored under the lock, after the queue, so it is neither hidden from the
/// queue nor overwritten by what the queue passed on. (Had the queue changed the session,
/// the write would be refused: `locking::unlocked_increments_lose_no_answered_update_*`.)
fn a_write_without_the_lock_waits_for_the_queue(kind: &str) {
    let (_store, servers) = probes_with(kind, "explicit", 1, "");
    let port = servers[0].1;
    let (status, id, _) = session_get(port, "/admin/set?key=n&value=old", None);
    assert_eq!(status, 200);
    let started = Instant::now();
    let holder = {
        let mut client = Client::new(port, &id);
        std::thread::spawn(move || client.get("/admin/get?key=n&ms=1500"))
    };
    std::thread::sleep(Duration::from_millis(200));
    let next = {
        let mut client = Client::new(port, &id);
        std::thread::spawn(move || client.get("/admin/get?key=n"))
    };
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        session_get(port, "/set?key=n&value=new", Some(&id)).2,
        "new"
    );
    let written = started.elapsed();
    assert_eq!(holder.join().unwrap(), (200, "old".to_owned()), "{kind}");
    assert_eq!(next.join().unwrap(), (200, "old".to_owned()), "{kind}");
    assert!(
        written >= Duration::from_millis(1500),
        "{kind}: the write was answered at {written:?}, before the lock's holder ended"
    );
    assert_eq!(
        session_get(port, "/get?key=n", Some(&id)).2,
        "new",
        "{kind}"
    );
}

#[test]
fn a_write_without_the_lock_waits_for_the_queue_redis() {
    a_write_without_the_lock_waits_for_the_queue("redis");
}

#[test]
fn a_write_without_the_lock_waits_for_the_queue_memcached() {
    a_write_without_the_lock_waits_for_the_queue("memcached");
}

/// Writes in a queue on one session, each passed on to the next: 200 increments from 16
/// clients end at exactly 200.
fn increments_passed_on_are_exact(kind: &str) {
    let (_store, servers) = probes_with(kind, "implicit", 1, "");
    let port = servers[0].1;
    let (id, _) = burst(&[port], 200, 16, |_| "/slow_incr?key=n&ms=1".into());
    assert_eq!(
        session_get(port, "/get?key=n", Some(&id)).2,
        "200",
        "{kind}"
    );
}

#[test]
fn increments_passed_on_are_exact_redis() {
    increments_passed_on_are_exact("redis");
}

#[test]
fn increments_passed_on_are_exact_memcached() {
    increments_passed_on_are_exact("memcached");
}

/// A read-only request P leaves its expiry extension (a write of the copy it read) to H,
/// queued behind it. H changes the session, stores it with `release_lock()` and works on;
/// the lock goes to N, which either fails (`/admin/error500`, so the lock is let go of
/// without a save) or takes it with `acquire_lock()` (`explicit` locking under `/`). In
/// both cases an extension still left would now write P's copy over H's change.
fn an_extension_is_not_made_over_a_later_write(kind: &str, next: &'static str) {
    let (_store, servers) = probes_with(kind, "explicit", 1, "tools.sessions.timeout = 0.2\n");
    let port = servers[0].1;
    let (status, id, _) = session_get(port, "/admin/set?key=k&value=kept", None);
    assert_eq!(status, 200);
    let request = |path: &'static str, after_ms: u64| {
        let mut client = Client::new(port, &id);
        std::thread::sleep(Duration::from_millis(after_ms));
        std::thread::spawn(move || client.get(path))
    };
    let reader = request("/admin/get?key=k&ms=800", 0);
    let writer = request("/admin/lock_explicit?key=n&ms=0&after=3000", 200);
    let next = request(next, 200);
    next.join().unwrap();
    assert_eq!(reader.join().unwrap().0, 200);
    assert_eq!(writer.join().unwrap(), (200, "0->1".to_owned()));
    assert_eq!(
        session_get(port, "/admin/get?key=n", Some(&id)).2,
        "1",
        "{kind}: a change stored by release_lock() and answered was lost"
    );
}

#[test]
fn an_extension_is_not_made_over_a_later_write_redis() {
    an_extension_is_not_made_over_a_later_write("redis", "/admin/error500");
    an_extension_is_not_made_over_a_later_write("redis", "/lock_explicit?key=m&ms=0&release=0");
}

#[test]
fn an_extension_is_not_made_over_a_later_write_memcached() {
    an_extension_is_not_made_over_a_later_write("memcached", "/admin/error500");
    an_extension_is_not_made_over_a_later_write("memcached", "/lock_explicit?key=m&ms=0&release=0");
}

/// A read-only request leaves its expiry extension to the next in the queue, which does
/// not use the session (a page without it, on a path that locks): the extension is still
/// made, so the store keeps the session a whole timeout (12 s) from the read.
fn an_extension_outlives_a_request_that_does_not_use_the_session(kind: &str) {
    let session = AgedSession::new(kind);
    let request = |path: &'static str, after_ms: u64| {
        let mut client = Client::new(session.port, &session.id);
        std::thread::sleep(Duration::from_millis(after_ms));
        std::thread::spawn(move || client.get(path))
    };
    let reader = request("/get?key=k&ms=800", 0);
    let other = request("/noop", 200);
    assert_eq!(reader.join().unwrap(), (200, "kept".to_owned()));
    assert_eq!(other.join().unwrap().0, 200);
    let left = session.kept_for(kind, 10.0);
    assert!(
        left >= 10.0,
        "{kind}: the store keeps the session {left} s more: the read's extension was dropped"
    );
}

#[test]
fn an_extension_outlives_a_request_that_does_not_use_the_session_redis() {
    an_extension_outlives_a_request_that_does_not_use_the_session("redis");
}

#[test]
fn an_extension_outlives_a_request_that_does_not_use_the_session_memcached() {
    an_extension_outlives_a_request_that_does_not_use_the_session("memcached");
}
