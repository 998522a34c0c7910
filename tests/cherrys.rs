//! A mixed fleet: CherryPy 18 with `cherrys` (the Python package behind
//! `tools.sessions.storage_class = cherrys.RedisSession`) and our probe server, on one
//! `redis-server`, started from the same config file. They share sessions (the same keys
//! and pickles) and exclude each other with the same lock (redis-py's `Lock` on
//! `lock_prefix + id`). CherryPy runs from `compat/.venv` (`compat/setup.sh` installs
//! cherrys there), Redis as a real server.
#![cfg(feature = "redis")]

mod servers;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_cherrypy::session_id::SessionId;
use actix_cherrypy::store::{Record, RedisStore, SessionStore, StoreError};
use redis::Commands;
use servers::http::session_get;
use servers::probe::{
    Process, cherrypy, ours, probe_binary, python as python_script, root, spawn_trusting,
};
use servers::venv::venv_python;
use servers::{Server, certificates, temp_dir};

/// The site's config as a cherrys site writes it: nothing in it is ours.
fn cherrys_config(dir: &Path, redis: &Server) -> PathBuf {
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.locking = \"implicit\"\n\
             tools.sessions.storage_class = cherrys.RedisSession\n\
             tools.sessions.host = \"127.0.0.1\"\ntools.sessions.port = {}\n\
             tools.sessions.db = 2\ntools.sessions.prefix = \"session:\"\n",
            redis.port
        ),
    )
    .unwrap();
    conf
}

/// The fleet: one Redis, CherryPy + cherrys and our probe server on one config file.
struct Fleet {
    redis: Server,
    _cherrypy: Process,
    _ours: Process,
    cp: u16,
    us: u16,
}

fn fleet(name: &str) -> Fleet {
    let dir = temp_dir(name);
    let redis = Server::redis(&dir);
    let conf = cherrys_config(&dir, &redis);
    let (cherrypy_process, cp) = cherrypy(&conf);
    let (ours_process, us) = ours(&probe_binary(), &conf);
    Fleet {
        redis,
        _cherrypy: cherrypy_process,
        _ours: ours_process,
        cp,
        us,
    }
}

impl Fleet {
    /// A plain connection to database 2, the config's.
    fn redis(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/2", self.redis.address()))
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

/// The URL of `redis`'s database 2 (the one the sites here use) and a connection to it.
fn db2(redis: &Server) -> (String, redis::Connection) {
    let url = format!("redis://{}/2", redis.address());
    let conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    (url, conn)
}

fn python() -> PathBuf {
    venv_python()
}

#[test]
fn a_session_set_on_either_side_is_read_on_the_other() {
    let f = fleet("cherrys-share");
    let (status, id, _) = session_get(f.cp, "/set?key=who&value=caf%C3%A9+cherrypy", None);
    assert_eq!((status, id.len()), (200, 40));
    let (status, kept, body) = session_get(f.us, "/get?key=who", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "café cherrypy")
    );

    session_get(f.us, "/set?key=from&value=actix", Some(&id));
    assert_eq!(session_get(f.cp, "/get?key=from", Some(&id)).2, "actix");
    assert_eq!(
        session_get(f.cp, "/get?key=who", Some(&id)).2,
        "café cherrypy"
    );

    // A session started here is known to CherryPy (its id is kept).
    let (_, ours_id, _) = session_get(f.us, "/set?key=k&value=v", None);
    let (_, kept, body) = session_get(f.cp, "/get?key=k", Some(&ours_id));
    assert_eq!((kept.as_str(), body.as_str()), (ours_id.as_str(), "v"));

    // Both wrote the keys cherrys makes, with its TTL (timeout * 60 s), and no lock is
    // left behind by either.
    let mut redis = f.redis();
    for id in [&id, &ours_id] {
        let ttl: i64 = redis.ttl(format!("session:{id}")).unwrap();
        assert!((3590..=3600).contains(&ttl), "TTL {ttl}");
        let lock: bool = redis.exists(format!("lock_{id}")).unwrap();
        assert!(!lock, "a lock was left on {id}");
    }
}

/// 20 read-sleep-write increments of one session at once, alternating between CherryPy and
/// us: only a lock both honour keeps all 20.
#[test]
fn twenty_concurrent_slow_increments_alternating_end_at_twenty() {
    let f = fleet("cherrys-increments");
    let (_, id, _) = session_get(f.cp, "/set?key=other&value=x", None);
    let next = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let ports = [f.cp, f.us];
    let clients: Vec<_> = (0..10)
        .map(|_| {
            let (next, seen, id) = (next.clone(), seen.clone(), id.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= 20 {
                        break;
                    }
                    let port = ports[i % 2];
                    let (status, kept, body) =
                        session_get(port, "/slow_incr?key=n&ms=50", Some(&id));
                    assert_eq!((status, kept.as_str()), (200, id.as_str()), "{body}");
                    seen.lock().unwrap().insert(body);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    // Each request read the previous one's write: 0->1, 1->2, ... 19->20.
    let seen = seen.lock().unwrap();
    let expected: BTreeSet<String> = (0..20).map(|n| format!("{n}->{}", n + 1)).collect();
    assert_eq!(*seen, expected);
    assert_eq!(session_get(f.us, "/get?key=n", Some(&id)).2, "20");
    assert_eq!(session_get(f.cp, "/get?key=n", Some(&id)).2, "20");
}

/// Rewrites the expiration time inside a stored session to the past, as if its timeout
/// had passed (the pickle's second item; the key's TTL is kept).
const AGE_SESSION: &str = r#"
import datetime, pickle, sys, redis
r = redis.Redis(port=int(sys.argv[1]), db=2)
key = sys.argv[2]
data, _ = pickle.loads(r.get(key))
past = datetime.datetime.now() - datetime.timedelta(seconds=5)
r.set(key, pickle.dumps((data, past), pickle.HIGHEST_PROTOCOL), keepttl=True)
"#;

#[test]
fn expiry_is_seen_from_the_other_side() {
    let f = fleet("cherrys-expiry");
    let port = f.redis.port.to_string();
    for (writer, reader) in [(f.cp, f.us), (f.us, f.cp)] {
        // Past its expiration time: the id is kept (it exists) and its data reads empty.
        let (_, id, _) = session_get(writer, "/set?key=k&value=v", None);
        python_script(AGE_SESSION, &[&port, &format!("session:{id}")]);
        let (_, kept, body) = session_get(reader, "/get?key=k", Some(&id));
        assert_eq!((kept.as_str(), body.as_str()), (id.as_str(), ""));

        // Gone from Redis (its TTL ran out): the cookie's id is replaced.
        let (_, id, _) = session_get(writer, "/set?key=k&value=v", None);
        let _: () = f.redis().del(format!("session:{id}")).unwrap();
        let (_, fresh, body) = session_get(reader, "/get?key=k", Some(&id));
        assert_eq!(fresh.len(), 40);
        assert_ne!(fresh, id);
        assert_eq!(body, "");
    }
}

#[test]
fn regenerate_is_seen_from_the_other_side() {
    let f = fleet("cherrys-regenerate");
    for (regenerator, other) in [(f.cp, f.us), (f.us, f.cp)] {
        let (_, id, _) = session_get(regenerator, "/set?key=k&value=v", None);
        let (status, new, body) =
            session_get(regenerator, "/regenerate_session?touch=1", Some(&id));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, format!("{id} {new}"));
        // The old id is gone for the other side too; the data moved to the new one.
        let (_, replaced, _) = session_get(other, "/get?key=k", Some(&id));
        assert_ne!(replaced, id);
        let (_, kept, value) = session_get(other, "/get?key=k", Some(&new));
        assert_eq!((kept.as_str(), value.as_str()), (new.as_str(), "v"));
    }
}

/// What cherrys stores for a session (`SETEX prefix+id timeout*60 pickle((data, exp),
/// HIGHEST_PROTOCOL)`), loaded and saved by our store, is the same bytes; and what our
/// store writes, Python re-pickles to the same bytes.
#[test]
fn stored_values_are_byte_for_byte_cherrys_both_ways() {
    let dir = temp_dir("cherrys-bytes");
    let redis = Server::redis(&dir);
    let (theirs, mine) = ("c".repeat(40), "d".repeat(40));
    let write = r#"
import datetime, pickle, sys, redis
r = redis.Redis(port=int(sys.argv[1]), db=2)
exp = datetime.datetime.now().replace(microsecond=654321) + datetime.timedelta(minutes=60)
data = {'user': 'zo\u00eb', 'count': 3, 'big': 2**70, 'neg': -2**40, 'ratio': 0.1,
        'flags': [True, False, None], 'pair': (1, 'two'), 'raw': b'\x00\xff\n',
        'empty': b'', 'nested': {(1, 2): ['x'], 'k': {}}, 'unit': (), 'sym': '\u20ac\U0001f600\\'}
# Past one 64 KiB frame, a payload written outside frames, an exact dict of 1,000 items
# (the C pickler's empty batch), and strs CPython keeps as singletons (memo references).
data['long'] = ''.join(['\u00e9'] * 40000)
data['many'] = {'k%d' % i: i for i in range(1000)}
data['list'] = list(range(2500))
data['ones'] = [chr(97 + i % 3) for i in range(30)] + ['', '', b'', b'x', b'x']
# cherrys' _save, exactly.
assert r.setex(sys.argv[2], 60 * 60, pickle.dumps((data, exp), pickle.HIGHEST_PROTOCOL))
"#;
    let port = redis.port.to_string();
    python_script(write, &[&port, &format!("session:{theirs}")]);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = RedisStore::new(&format!("redis://{}/2", redis.address()), "session:").unwrap();
        let record: Record = store
            .load(&SessionId::parse(&theirs).unwrap())
            .await
            .unwrap()
            .expect("cherrys' session reads");
        store
            .save(&SessionId::parse(&mine).unwrap(), record)
            .await
            .unwrap();
    });
    let mut conn = redis::Client::open(format!("redis://{}/2", redis.address()))
        .unwrap()
        .get_connection()
        .unwrap();
    let get = |conn: &mut redis::Connection, id: &str| -> Vec<u8> {
        conn.get(format!("session:{id}")).unwrap()
    };
    let (their_bytes, my_bytes) = (get(&mut conn, &theirs), get(&mut conn, &mine));
    assert_eq!(my_bytes, their_bytes);

    // Ours, as Python reads and re-pickles it the way cherrys does.
    let repickle = r#"
import pickle, sys, redis
r = redis.Redis(port=int(sys.argv[1]), db=2)
raw = r.get(sys.argv[2])
again = pickle.dumps(pickle.loads(raw), pickle.HIGHEST_PROTOCOL)
print('same' if again == raw else 'differs')
"#;
    assert_eq!(
        python_script(repickle, &[&port, &format!("session:{mine}")]).trim(),
        "same"
    );
}

/// A redis-py lock (cherrys' `self.cache.lock(lock_prefix + id, timeout=lock_timeout)`)
/// held by Python makes our lock wait until Python releases it; ours makes Python's wait.
#[test]
fn our_lock_and_redis_py_lock_exclude_each_other() {
    let dir = temp_dir("cherrys-locks");
    let redis = Server::redis(&dir);
    let id = SessionId::generate();
    let key = format!("lock_{id}");
    let port = redis.port.to_string();

    // Python takes the lock (no timeout: cherrys' default, it never expires), says so,
    // marks the moment it lets go, then releases with redis-py's compare-and-delete.
    let hold = r#"
import sys, time, redis
r = redis.Redis(port=int(sys.argv[1]), db=2)
lock = r.lock(sys.argv[2], timeout=None)
assert lock.acquire()
assert r.ttl(sys.argv[2]) == -1
print('held', flush=True)
time.sleep(0.5)
r.set('released', '1')
lock.release()
"#;
    let mut python = Command::new(python())
        .args(["-c", hold, &port, &key])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(python.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "held\n");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, mut conn) = db2(&redis);
    let store = RedisStore::new(&url, "session:").unwrap();
    runtime.block_on(async {
        let lock = store.lock(&id, None).await.unwrap();
        // We got it only once Python had let go.
        let released: Option<String> = conn.get("released").unwrap();
        assert_eq!(released.as_deref(), Some("1"));
        assert!(python.wait().unwrap().success());

        // Ours is redis-py's shape: a token under `lock_<id>`, with a lease.
        let ttl: i64 = conn.pttl(&key).unwrap();
        assert!(ttl > 0, "PTTL {ttl}");
        // redis-py cannot take it while we hold it...
        let try_take = r#"
import sys, redis
r = redis.Redis(port=int(sys.argv[1]), db=2)
print(r.lock(sys.argv[2], timeout=None).acquire(blocking_timeout=0.3))
"#;
        assert_eq!(python_script(try_take, &[&port, &key]).trim(), "False");
        drop(lock);
        // ...and can once we released it (the release runs on a task of its own).
        let mut freed = false;
        for _ in 0..100 {
            if !conn.exists::<_, bool>(&key).unwrap() {
                freed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(freed, "our lock was not released");
        assert_eq!(python_script(try_take, &[&port, &key]).trim(), "True");
    });
}

/// A lock cherrys took with `lock_timeout = None` never expires: if its holder died, a
/// waiter of ours gives up once one holder has kept it past the store's limit, with a log
/// line naming the key (the id cut to 8 digits).
#[test]
fn a_never_expiring_lock_left_behind_fails_the_wait_with_a_logged_cause() {
    let dir = temp_dir("cherrys-stale");
    let redis = Server::redis(&dir);
    let id = SessionId::generate();
    let (url, mut conn) = db2(&redis);
    // What a CherryPy process killed while holding the lock leaves: a token, no expiry.
    let _: () = conn
        .set(format!("lock_{id}"), "4f2ab9e0c7d611ee8c3f0242ac120002")
        .unwrap();

    let captured = Arc::new(Mutex::new(Vec::new()));
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || Captured(writer.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = RedisStore::new(&url, "session:")
        .unwrap()
        .with_stale_lock_after(Duration::from_millis(300));
    let err = runtime
        .block_on(store.lock(&id, None))
        .expect_err("a stale lock is not waited for for ever");
    assert!(matches!(err, StoreError::LockTimeout(_)), "{err}");
    let err = runtime
        .block_on(store.lock_and_load(&id, None))
        .expect_err("nor by lock_and_load");
    assert!(matches!(err, StoreError::LockTimeout(_)), "{err}");

    let log = String::from_utf8(captured.lock().unwrap().clone()).unwrap();
    let short = format!("lock_{}…", &id.as_str()[..8]);
    assert!(log.contains(&short), "{log}");
    assert!(log.contains("never expires"), "{log}");
    assert!(!log.contains(id.as_str()), "a whole id in the log: {log}");
    // The holder's key is left alone.
    assert!(conn.exists::<_, bool>(format!("lock_{id}")).unwrap());
}

/// A lock that expires (cherrys with a `lock_timeout`) is waited for, however long that
/// is: it will be free.
#[test]
fn an_expiring_redis_py_lock_is_waited_for() {
    let dir = temp_dir("cherrys-expiring");
    let redis = Server::redis(&dir);
    let id = SessionId::generate();
    let (url, mut conn) = db2(&redis);
    let _: () = redis::cmd("SET")
        .arg(format!("lock_{id}"))
        .arg("tok")
        .arg("PX")
        .arg(600)
        .query(&mut conn)
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = RedisStore::new(&url, "session:")
        .unwrap()
        .with_stale_lock_after(Duration::from_millis(100));
    runtime.block_on(async {
        let lock = store.lock(&id, None).await.expect("taken once it expired");
        let token: String = conn.get(format!("lock_{id}")).unwrap();
        assert_ne!(token, "tok");
        drop(lock);
    });
}

#[test]
fn a_prefix_equal_to_the_lock_prefix_is_refused() {
    let err = RedisStore::new("redis://127.0.0.1:1/0", "lock_").expect_err("refused");
    assert!(err.to_string().contains("store"), "{err}");
    let store = RedisStore::new("redis://127.0.0.1:1/0", "s:").unwrap();
    assert!(store.clone().with_lock_prefix("s:").is_err());
    assert!(store.with_lock_prefix("L:").is_ok());
}

/// Everything the subscriber writes.
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A TLS config, unchanged in one config for both: CherryPy with cherrys and our server
/// share sessions over TLS, each verifying the server's certificate; ours refuses a server
/// whose certificate it cannot verify (a 500, no session served in the clear).
fn sessions_over_tls_with_cherrys(name: &str, connection: impl Fn(u16) -> String) {
    let dir = temp_dir(name);
    let (ca, cert, key) = certificates(&dir);
    let redis = Server::redis_tls(&dir, &cert, &key);
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.storage_class = cherrys.RedisSession\n\
             {}",
            connection(redis.port)
        ),
    )
    .unwrap();
    let mut ours_command = Command::new(probe_binary());
    ours_command.arg(&conf);
    let (_us, us) = spawn_trusting(ours_command, Some(&ca));
    let mut cherrypy_command = Command::new(python());
    cherrypy_command
        .arg(root().join("compat/http/probe_app.py"))
        .arg(&conf);
    let (_cp, cp) = spawn_trusting(cherrypy_command, Some(&ca));

    let (status, id, _) = session_get(cp, "/set?key=k&value=over+tls", None);
    assert_eq!(status, 200);
    let (status, kept, body) = session_get(us, "/get?key=k", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "over tls")
    );
    let (status, ours_id, _) = session_get(us, "/set?key=k&value=back", None);
    assert_eq!(status, 200);
    let (_, kept, body) = session_get(cp, "/get?key=k", Some(&ours_id));
    assert_eq!((kept.as_str(), body.as_str()), (ours_id.as_str(), "back"));

    // Without the CA among its trusted roots, our server cannot verify Redis: it fails
    // the request rather than talk to an unverified server.
    let mut untrusting = Command::new(probe_binary());
    untrusting
        .arg(&conf)
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    let (_other, other) = spawn_trusting(untrusting, None);
    let (status, _, _) = session_get(other, "/set?key=k&value=v", None);
    assert_eq!(status, 500);
}

#[test]
fn ssl_true_shares_sessions_over_tls_with_cherrys() {
    sessions_over_tls_with_cherrys("cherrys-tls", |port| {
        format!(
            "tools.sessions.host = \"127.0.0.1\"\ntools.sessions.port = {port}\ntools.sessions.ssl = True\n"
        )
    });
}

/// redis-py speaks TLS 1.2 as well as 1.3, so a Redis set up for 1.2 alone (older managed
/// services) serves cherrys: it serves us too. (This build's rustls also gets 1.2 from the
/// tests' own dependencies; scripts/test.sh checks that the library asks for it.)
#[test]
fn a_redis_speaking_only_tls_1_2_is_reached() {
    let dir = temp_dir("tls-1-2");
    let (ca, cert, key) = certificates(&dir);
    let redis = Server::redis_tls_speaking(&dir, &cert, &key, "TLSv1.2");
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.storage_class = cherrys.RedisSession\n\
             tools.sessions.url = \"rediss://127.0.0.1:{}/0\"\n",
            redis.port
        ),
    )
    .unwrap();
    let mut ours = Command::new(probe_binary());
    ours.arg(&conf);
    let (_us, us) = spawn_trusting(ours, Some(&ca));
    let (status, id, _) = session_get(us, "/set?key=k&value=v", None);
    assert_eq!(status, 200);
    let (status, kept, body) = session_get(us, "/get?key=k", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "v")
    );
}

#[test]
fn a_rediss_url_shares_sessions_over_tls_with_cherrys() {
    sessions_over_tls_with_cherrys("cherrys-rediss", |port| {
        format!("tools.sessions.url = \"rediss://127.0.0.1:{port}/4\"\n")
    });
}

/// A holder of ours stalled past its lease finds the lock taken by another process (here a
/// cherrys process: its token in the lock key, its session written): our save must not go
/// over that session. It fails, and the other holder's lock and session stay as they are.
#[test]
fn a_holder_whose_lease_ran_out_does_not_write_over_the_next_one() {
    let dir = temp_dir("cherrys-lease-ran-out");
    let redis = Server::redis(&dir);
    let id = SessionId::generate();
    let (url, mut conn) = db2(&redis);
    let store = RedisStore::new(&url, "session:").unwrap();
    let (lock_key, data_key) = (format!("lock_{id}"), format!("session:{id}"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let lock = store.lock(&id, None).await.unwrap();
        // The lease has run out and a cherrys process took the lock and saved.
        let _: () = conn.set(&lock_key, "cherrys-token").unwrap();
        let _: () = conn.set(&data_key, "the other holder's session").unwrap();
        let record = Record {
            data: Default::default(),
            expires: std::time::SystemTime::now() + Duration::from_secs(60),
        };
        let saved = store.save_and_release(&id, record, lock).await;
        assert!(
            matches!(&saved, Err(StoreError::Backend(cause)) if cause.to_string().contains("LOCKLOST")),
            "{saved:?}"
        );
    });
    let stored: String = conn.get(&data_key).unwrap();
    assert_eq!(stored, "the other holder's session");
    let holder: String = conn.get(&lock_key).unwrap();
    assert_eq!(holder, "cherrys-token");
}
