//! Sites that outgrow one machine: several processes on one memcached or Redis server.
//! Our probe server runs as separate processes (`examples/probe_server.rs`), CherryPy 18 as
//! itself (`compat/http/probe_app.py`), memcached and Redis as real servers.
#![cfg(all(feature = "memcached", feature = "redis"))]

mod servers;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use servers::http::session_get;
use servers::probe::{
    FakeClock, Process, cherrypy, cherrypy_command, cherrypy_gets_a_busy_session_in_turn,
    increments_over, ours, ours_command, probe_binary, set_then_read_a_second_later, spawn,
    write_config,
};
use servers::venv::venv_python;
use servers::{Server, redis_cli, temp_dir};

#[test]
fn two_processes_on_one_redis_keep_every_update() {
    let dir = temp_dir("two-on-redis");
    let redis = Server::redis(&dir);
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"redis\"\ntools.sessions.url = \"redis://{}/3\"\n",
            redis.address()
        ),
    );
    let binary = probe_binary();
    let (_a, a) = ours(&binary, &conf);
    let (_b, b) = ours(&binary, &conf);
    increments_over(&[a, b]);
}

/// Two of our processes keep one session busy without a pause; a CherryPy request (cherrys,
/// which polls for the lock every 100 ms) on that session still gets it within a second or
/// two: ours leave the lock free for a gap after each second of continuous use.
#[test]
fn a_session_our_processes_keep_busy_reaches_cherrys_in_turn() {
    let dir = temp_dir("busy-redis-cherrys");
    let redis = Server::redis(&dir);
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_class = cherrys.RedisSession\n\
             tools.sessions.host = \"127.0.0.1\"\ntools.sessions.port = {}\n",
            redis.port
        ),
    );
    let binary = probe_binary();
    let (_a, a) = ours(&binary, &conf);
    let (_b, b) = ours(&binary, &conf);
    let (_cp, cp) = cherrypy(&conf);
    cherrypy_gets_a_busy_session_in_turn(&[a, b], cp);
}

#[test]
fn two_processes_on_one_memcached_keep_every_update() {
    let dir = temp_dir("two-on-memcached");
    let memcached = Server::memcached();
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
            memcached.address()
        ),
    );
    let binary = probe_binary();
    let (_a, a) = ours(&binary, &conf);
    let (_b, b) = ours(&binary, &conf);
    increments_over(&[a, b]);
}

/// A memcached server, and CherryPy and our probe server on it (their ports after each).
fn cherrypy_and_ours_on_memcached(name: &str) -> (Server, Process, u16, Process, u16) {
    let dir = temp_dir(name);
    let memcached = Server::memcached();
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n\
             [/lock_explicit]\ntools.sessions.locking = \"explicit\"\n",
            memcached.address()
        ),
    );
    let (cp_process, cp) = cherrypy(&conf);
    let (us_process, us) = ours(&probe_binary(), &conf);
    (memcached, cp_process, cp, us_process, us)
}

#[test]
fn cherrypy_and_this_crate_share_memcached_sessions_both_ways() {
    let (_memcached, _cp, cp, _us, us) = cherrypy_and_ours_on_memcached("cherrypy-memcached");

    // Set in CherryPy, read here: the id is kept (it exists), the value is CherryPy's.
    let (status, id, _) = session_get(cp, "/set?key=who&value=caf%C3%A9+cherrypy", None);
    assert_eq!((status, id.len()), (200, 40));
    let (status, kept, body) = session_get(us, "/get?key=who", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "café cherrypy")
    );

    // Set here, read in CherryPy, on the same session.
    let (_, kept, _) = session_get(us, "/slow_incr?key=n&ms=1", Some(&id));
    assert_eq!(kept, id);
    session_get(us, "/set?key=from&value=actix", Some(&id));
    assert_eq!(session_get(cp, "/get?key=from", Some(&id)).2, "actix");
    assert_eq!(session_get(cp, "/get?key=n", Some(&id)).2, "1");
    assert_eq!(
        session_get(cp, "/get?key=who", Some(&id)).2,
        "café cherrypy"
    );

    // A session started here is known to CherryPy (its id is not replaced).
    let (_, ours_id, _) = session_get(us, "/set?key=k&value=v", None);
    let (_, kept, body) = session_get(cp, "/get?key=k", Some(&ours_id));
    assert_eq!((kept.as_str(), body.as_str()), (ours_id.as_str(), "v"));
}

/// CherryPy's memcached locks are per process, so a CherryPy process beside ours changes a
/// session while one of our requests holds its lock. That request must not write its copy
/// over CherryPy's change: a request that changed the session fails (500) and stores
/// nothing, one that only read it leaves the stored session alone (no expiry extension of
/// its stale copy). Whatever CherryPy answered 200 for stays stored.
#[test]
fn a_cherrypy_change_made_while_we_hold_a_memcached_session_is_not_overwritten() {
    let (_memcached, _cp, cp, _us, us) =
        cherrypy_and_ours_on_memcached("cherrypy-beside-memcached");
    let (_, id, _) = session_get(us, "/set?key=n&value=0", None);
    assert_eq!(id.len(), 40);
    for (ours_path, ours_status, theirs) in [
        ("/slow_incr?key=m&ms=800", 500, "c1"),
        ("/get?key=n&ms=800", 200, "c2"),
        // Explicit locking: the lock taken by `acquire_lock()`, then the session read.
        ("/lock_explicit?key=m&ms=800&release=0", 500, "c3"),
    ] {
        let mine = {
            let id = id.clone();
            std::thread::spawn(move || session_get(us, ours_path, Some(&id)))
        };
        std::thread::sleep(Duration::from_millis(300));
        let (status, kept, _) = session_get(cp, &format!("/set?key=c&value={theirs}"), Some(&id));
        assert_eq!(
            (status, kept.as_str()),
            (200, id.as_str()),
            "CherryPy's change"
        );
        let (status, _, body) = mine.join().unwrap();
        assert_eq!(status, ours_status, "{ours_path}: {body}");
        // Once our request's work after the response (an expiry extension) is done.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            session_get(cp, "/get?key=c", Some(&id)).2,
            theirs,
            "after {ours_path}, CherryPy's change is still stored"
        );
    }
    assert_eq!(
        session_get(cp, "/get?key=m", Some(&id)).2,
        "",
        "the refused change"
    );
}

/// The value this crate writes for a session is byte for byte what CherryPy's
/// MemcachedSession writes (python-memcached's protocol-0 pickle, flag 1, same expiry).
#[test]
fn memcached_values_are_cherrypys_bytes() {
    let memcached = Server::memcached();
    let python = venv_python();
    // Each value a distinct object, as in a session filled from requests (Python memoizes
    // shared objects, which a session built here never has).
    let script = r#"
import datetime, sys, memcache
c = memcache.Client([sys.argv[1]])
exp = datetime.datetime.now().replace(microsecond=654321) + datetime.timedelta(minutes=60)
data = {'user': 'zo\u00eb', 'count': 3, 'big': 2**70, 'neg': -2**40, 'ratio': 0.1,
        'flags': [True, False, None], 'pair': (1, 'two'), 'raw': b'\x00\xff\n',
        'empty': b'', 'nested': {(1, 2): ['x'], 'k': {}}, 'unit': (), 'sym': '\u20ac\U0001f600\\'}
td = int(__import__('time').mktime(exp.timetuple()))
assert c.set(sys.argv[2], (data, exp), td)
"#;
    let theirs = "c".repeat(40);
    let status = Command::new(&python)
        .args(["-c", script, &memcached.address(), &theirs])
        .status()
        .expect("python runs");
    assert!(status.success());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mine = "d".repeat(40);
    runtime.block_on(async {
        use actix_cherrypy::session_id::SessionId;
        use actix_cherrypy::store::{MemcachedStore, SessionStore};
        let store = MemcachedStore::new(&[memcached.address()]).unwrap();
        let record = store
            .load(&SessionId::parse(&theirs).unwrap())
            .await
            .unwrap()
            .expect("CherryPy's session reads");
        store
            .save(&SessionId::parse(&mine).unwrap(), record)
            .await
            .unwrap();
    });
    let raw = |key: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", memcached.port)).unwrap();
        write!(s, "mg {key} v f t\r\n").unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(5);
        while !out.ends_with(b"\r\n") || out.iter().filter(|&&b| b == b'\n').count() < 2 {
            let n = s.read(&mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
            assert!(
                Instant::now() < deadline && n > 0,
                "memcached answered {out:?}"
            );
        }
        out
    };
    let (theirs_raw, mine_raw) = (raw(&theirs), raw(&mine));
    let split = |raw: &[u8]| -> (String, Vec<u8>) {
        let at = raw.iter().position(|&b| b == b'\n').unwrap();
        (
            String::from_utf8_lossy(&raw[..at]).into_owned(),
            raw[at + 1..].to_vec(),
        )
    };
    let ((their_head, their_value), (my_head, my_value)) = (split(&theirs_raw), split(&mine_raw));
    assert_eq!(
        String::from_utf8_lossy(&my_value),
        String::from_utf8_lossy(&their_value)
    );
    // `VA <len> f<flags> t<ttl>`: same length and flag; the TTLs agree within a second.
    let fields =
        |head: &str| -> Vec<String> { head.split_whitespace().map(str::to_owned).collect() };
    let (theirs_f, mine_f) = (fields(&their_head), fields(&my_head));
    assert_eq!(theirs_f[..3], mine_f[..3], "{their_head} / {my_head}");
    let ttl = |f: &[String]| f[3].trim_start_matches('t').parse::<i64>().unwrap();
    assert!(
        (ttl(&theirs_f) - ttl(&mine_f)).abs() <= 1,
        "{their_head} / {my_head}"
    );
}

#[test]
fn a_redis_outage_fails_requests_quickly_and_sessions_resume_after_it() {
    let dir = temp_dir("redis-restart");
    let mut redis = Server::redis(&dir);
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"redis\"\ntools.sessions.port = {}\n",
            redis.port
        ),
    );
    let (_us, us) = ours(&probe_binary(), &conf);
    let (_, id, _) = session_get(us, "/set?key=k&value=before", None);
    assert_eq!(session_get(us, "/get?key=k", Some(&id)).2, "before");

    // The outage starts between requests: once the read's expiry, written after its
    // response, has let go of the lock. A request that came while it still held it would
    // be handed the session with the lock, and answered without the server.
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis_cli(redis.port, &["KEYS", &format!("*{id}*")])
        .lines()
        .count()
        != 1
    {
        assert!(
            Instant::now() < deadline,
            "the read's lock was never released"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    redis.stop();
    answers_503_quickly(us, &id);

    redis.restart();
    // The connection is reopened on demand; the data survived (append-only file).
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (status, kept, body) = session_get(us, "/get?key=k", Some(&id));
        if status == 200 {
            assert_eq!(kept, id);
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "sessions did not resume after the restart"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(body, "before");
    let (status, new_id, _) = session_get(us, "/set?key=k&value=after", None);
    assert_eq!(status, 200);
    assert_eq!(session_get(us, "/get?key=k", Some(&new_id)).2, "after");
}

#[test]
fn a_memcached_outage_is_503_and_sessions_work_again_after_it() {
    let dir = temp_dir("memcached-restart");
    let mut memcached = Server::memcached();
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = ['127.0.0.1:{}']\n",
            memcached.port
        ),
    );
    let (_us, us) = ours(&probe_binary(), &conf);
    let (_, id, _) = session_get(us, "/set?key=k&value=before", None);
    assert_eq!(session_get(us, "/get?key=k", Some(&id)).2, "before");

    memcached.stop();
    answers_503_quickly(us, &id);

    // memcached keeps nothing across a restart: the old id is unknown, new sessions work.
    memcached.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    let new_id = loop {
        let (status, new_id, _) = session_get(us, "/set?key=k&value=after", None);
        if status == 200 {
            break new_id;
        }
        assert!(
            Instant::now() < deadline,
            "sessions did not resume after the restart"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(session_get(us, "/get?key=k", Some(&new_id)).2, "after");
}

/// Requests in a session while its store's server is down: each a 503, each within 5 s.
fn answers_503_quickly(port: u16, id: &str) {
    for _ in 0..3 {
        let started = Instant::now();
        let (status, _, _) = session_get(port, "/get?key=k", Some(id));
        assert_eq!(status, 503, "an outage is 503 Service Unavailable");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a request during the outage took {:?}",
            started.elapsed()
        );
    }
}

/// The night New York's clock falls back, a session saved at the first 01:10 with the
/// default 60 minutes expires at 02:10 for CherryPy, and python-memcached gives memcached
/// `mktime(02:10)`, two hours on, as the item's expiry. Ours must give the same: an item
/// gone an hour earlier is a session lost while CherryPy's clock still finds it live.
#[test]
fn memcached_expiries_in_the_repeated_hour_are_cherrypys() {
    // 2026-11-01 05:10:00 UTC, the first 01:10 (EDT).
    let Some(clock) = FakeClock::reading(1_793_509_800, "America/New_York") else {
        return;
    };
    let memcached = Server::memcached_in(clock.env());
    let dir = temp_dir("dst-memcached");
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
            memcached.address()
        ),
    );
    let (_cp, cp) = spawn(clock.on(cherrypy_command(&conf)));
    let (_us, us) = spawn(clock.on(ours_command(&probe_binary(), &conf)));

    let mut ttls = Vec::new();
    for (writer, reader) in [(cp, us), (us, cp)] {
        let id = set_then_read_a_second_later(writer, reader, cp);
        ttls.push(remaining_seconds(memcached.port, &id));
    }
    let [theirs, mine] = ttls[..] else {
        unreachable!()
    };
    assert!(
        theirs > 7000 && theirs.abs_diff(mine) <= 5,
        "memcached keeps CherryPy's item {theirs} s, ours {mine} s"
    );
}

/// The seconds memcached still keeps `key` (`mg <key> t`).
fn remaining_seconds(port: u16, key: &str) -> u64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "mg {key} t\r\n").unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while !out.ends_with(b"\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "memcached answered {out:?}");
        out.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&out);
    answer
        .split_whitespace()
        .find_map(|flag| flag.strip_prefix('t'))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("memcached answered {answer:?}"))
}
