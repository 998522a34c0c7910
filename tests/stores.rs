//! One acceptance suite for every store (RAM, file, memcached, Redis): the same tests of
//! load, save, expiry, locking, regenerate and clean-up, first through the store API, then
//! through the middleware over HTTP. memcached and Redis are real servers started here.
#![cfg(all(feature = "memcached", feature = "redis"))]

mod servers;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session::Session;
use actix_cherrypy::session_id::SessionId;
use actix_cherrypy::session_value::{SessionData, SessionValue};
use actix_cherrypy::store::{
    FileStore, MemcachedStore, RamStore, Record, RedisStore, SessionStore, StoreError,
};
use actix_web::{HttpResponse, web};
use servers::http::{self, session_get};
use servers::{Server, redis_cli, redis_command_calls, temp_dir};

/// The lease of the servers' locks in these tests: short, so that renewal and a crashed
/// holder's expiry show within seconds.
const LEASE: Duration = Duration::from_secs(2);

/// A store under test, with what keeps its backend alive and the config lines selecting it.
struct Backend {
    name: &'static str,
    config: String,
    _server: Option<Server>,
    dir: PathBuf,
    /// The RAM store lives in the process: every handle is this one.
    ram: RamStore,
}

impl Backend {
    fn ram() -> Self {
        Self {
            name: "ram",
            config: "tools.sessions.storage_type = \"ram\"\n".into(),
            _server: None,
            dir: temp_dir("ram"),
            ram: RamStore::new(),
        }
    }

    fn file() -> Self {
        let dir = temp_dir("file");
        Self {
            name: "file",
            config: format!(
                "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n",
                dir.display().to_string()
            ),
            _server: None,
            dir,
            ram: RamStore::new(),
        }
    }

    fn memcached() -> Self {
        let server = Server::memcached();
        Self {
            name: "memcached",
            config: format!(
                "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
                server.address()
            ),
            _server: Some(server),
            dir: temp_dir("memcached"),
            ram: RamStore::new(),
        }
    }

    fn redis() -> Self {
        let dir = temp_dir("redis");
        let server = Server::redis(&dir);
        Self {
            name: "redis",
            config: format!(
                "tools.sessions.storage_type = \"redis\"\ntools.sessions.port = {}\ntools.sessions.prefix = \"test:\"\n",
                server.port
            ),
            _server: Some(server),
            dir,
            ram: RamStore::new(),
        }
    }

    /// A new handle on the backend, as a second process would open it.
    fn open(&self) -> Box<dyn Fn() -> Store + Send> {
        match self.name {
            "ram" => {
                let one = self.ram.clone();
                Box::new(move || Store::Ram(one.clone()))
            }
            "file" => {
                let dir = self.dir.clone();
                Box::new(move || Store::File(FileStore::new(&dir).unwrap()))
            }
            "memcached" => {
                let address = self._server.as_ref().unwrap().address();
                Box::new(move || {
                    let store = MemcachedStore::new(&[&address]).unwrap();
                    Store::Memcached(store.with_lock_lease(LEASE))
                })
            }
            _ => {
                let url = format!("redis://{}/0", self._server.as_ref().unwrap().address());
                Box::new(move || {
                    let store = RedisStore::new(&url, "test:").unwrap();
                    Store::Redis(store.with_lock_lease(LEASE))
                })
            }
        }
    }

    /// The server's port (0 without one).
    fn port(&self) -> u16 {
        self._server.as_ref().map_or(0, |s| s.port)
    }

    /// Whether two handles are two processes' views of one storage (all but RAM).
    fn shared(&self) -> bool {
        self.name != "ram"
    }
}

/// The public store types, so one suite drives them all.
enum Store {
    Ram(RamStore),
    File(FileStore),
    Memcached(MemcachedStore),
    Redis(RedisStore),
}

macro_rules! each {
    ($store:expr, $s:ident => $call:expr) => {
        match $store {
            Store::Ram($s) => $call.await,
            Store::File($s) => $call.await,
            Store::Memcached($s) => $call.await,
            Store::Redis($s) => $call.await,
        }
    };
}

impl Store {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        each!(self, s => s.load(id))
    }
    async fn save(&self, id: &SessionId, r: Record) -> Result<(), StoreError> {
        each!(self, s => s.save(id, r))
    }
    async fn touch(&self, id: &SessionId, r: Record) -> Result<(), StoreError> {
        each!(self, s => s.touch(id, r))
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        each!(self, s => s.delete(id))
    }
    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        each!(self, s => s.exists(id))
    }
    async fn lock(
        &self,
        id: &SessionId,
        t: Option<Duration>,
    ) -> Result<actix_cherrypy::store::SessionLock, StoreError> {
        each!(self, s => s.lock(id, t))
    }
    async fn lock_and_load(
        &self,
        id: &SessionId,
        t: Option<Duration>,
    ) -> Result<(actix_cherrypy::store::SessionLock, Option<Record>), StoreError> {
        each!(self, s => s.lock_and_load(id, t))
    }
    async fn clean_up(&self, now: SystemTime) -> Result<usize, StoreError> {
        each!(self, s => s.clean_up(now))
    }
    async fn save_and_release(
        &self,
        id: &SessionId,
        r: Record,
        lock: actix_cherrypy::store::SessionLock,
    ) -> Result<(), StoreError> {
        each!(self, s => s.save_and_release(id, r, lock))
    }
}

fn sample() -> SessionData {
    let mut data = SessionData::new();
    data.insert("user".into(), SessionValue::Str("zoë ✓".into()));
    data.insert("n".into(), SessionValue::Int(-7));
    data.insert("big".into(), SessionValue::Int(1 << 40));
    data.insert("ratio".into(), SessionValue::Float(0.1));
    data.insert("raw".into(), SessionValue::Bytes(b"\0\xff\n".to_vec()));
    data.insert(
        "nested".into(),
        SessionValue::Dict(vec![(
            SessionValue::Tuple(vec![SessionValue::Int(1), SessionValue::Bool(true)]),
            SessionValue::List(vec![SessionValue::None, SessionValue::Str(String::new())]),
        )]),
    );
    data
}

/// Microseconds, the precision of the datetime CherryPy stores.
fn micros(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

async fn round_trip(backend: Backend) {
    let store = backend.open()();
    let id = SessionId::generate();
    assert_eq!(store.load(&id).await.unwrap(), None, "{}", backend.name);
    assert!(!store.exists(&id).await.unwrap());
    let expires = SystemTime::now() + Duration::from_secs(600);
    store
        .save(
            &id,
            Record {
                data: sample(),
                expires,
            },
        )
        .await
        .unwrap();
    let back = store.load(&id).await.unwrap().expect("saved");
    assert_eq!(back.data, sample(), "{}", backend.name);
    assert_eq!(micros(back.expires), micros(expires), "{}", backend.name);
    assert!(store.exists(&id).await.unwrap());
    // Another handle (another process) sees it too.
    if backend.shared() {
        let other = backend.open()();
        assert_eq!(other.load(&id).await.unwrap().unwrap().data, sample());
    }
    // touch (a read-only request's save): the same data, the new expiry.
    let later = expires + Duration::from_secs(3_600);
    let touched = Record {
        data: sample(),
        expires: later,
    };
    store.touch(&id, touched.clone()).await.unwrap();
    let back = store.load(&id).await.unwrap().expect("touched");
    assert_eq!(back.data, sample(), "{}", backend.name);
    assert_eq!(micros(back.expires), micros(later), "{}", backend.name);
    // ... and it stores nothing where nothing is stored (a session another request
    // deleted or regenerated away stays gone).
    let gone = SessionId::generate();
    store.touch(&gone, touched).await.unwrap();
    assert_eq!(store.load(&gone).await.unwrap(), None, "{}", backend.name);
    assert!(!store.exists(&gone).await.unwrap(), "{}", backend.name);
    store.delete(&id).await.unwrap();
    assert_eq!(store.load(&id).await.unwrap(), None);
    assert!(!store.exists(&id).await.unwrap());
    // Deleting what is not there is no error.
    store.delete(&id).await.unwrap();
}

async fn expiry_and_clean_up(backend: Backend) {
    let store = backend.open()();
    let (short, long) = (SessionId::generate(), SessionId::generate());
    let now = SystemTime::now();
    let record = |secs| Record {
        data: sample(),
        expires: now + Duration::from_millis(secs),
    };
    store.save(&short, record(1_500)).await.unwrap();
    store.save(&long, record(600_000)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    let later = SystemTime::now();
    // CherryPy: an expired session's data reads as empty until the clean-up removes it.
    let expired = store.load(&short).await.unwrap();
    assert!(
        expired.as_ref().is_none_or(|r| r.is_expired(later)),
        "{}: {expired:?}",
        backend.name
    );
    store.clean_up(later).await.unwrap();
    assert!(!store.exists(&short).await.unwrap(), "{}", backend.name);
    assert_eq!(store.load(&long).await.unwrap().unwrap().data, sample());
}

async fn locking(backend: Backend) {
    let store = backend.open()();
    let id = SessionId::generate();
    // A stored session: the file store locks one that does not exist in its process only
    // (nobody else can know a new id), so only a stored one shows the lock across processes.
    let record = Record {
        data: sample(),
        expires: SystemTime::now() + Duration::from_secs(60),
    };
    store.save(&id, record).await.unwrap();
    let held = store.lock(&id, None).await.unwrap();
    let short = Some(Duration::from_millis(150));
    let refused = store.lock(&id, short).await;
    assert!(
        matches!(refused, Err(StoreError::LockTimeout(_))),
        "{}: {refused:?}",
        backend.name
    );
    if backend.shared() {
        // A second process is kept out as well.
        let other = backend.open()();
        let refused = other.lock(&id, short).await;
        assert!(
            matches!(refused, Err(StoreError::LockTimeout(_))),
            "{}",
            backend.name
        );
    }
    // Another session is not affected.
    drop(store.lock(&SessionId::generate(), short).await.unwrap());
    // A waiter gets the lock once it is released.
    let waiter = {
        let store = backend.open()();
        tokio::spawn(async move {
            store
                .lock(&id, Some(Duration::from_secs(5)))
                .await
                .map(drop)
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished(), "{}", backend.name);
    drop(held);
    waiter.await.unwrap().unwrap();
}

/// Server locks (memcached, Redis): a holder keeps its lock past the lease by renewing it,
/// and a holder that dies without releasing frees it when the lease runs out.
async fn lease(backend: Backend) {
    let (store, other) = (backend.open()(), backend.open()());
    let id = SessionId::generate();
    let held = store.lock(&id, None).await.unwrap();
    tokio::time::sleep(LEASE * 2).await;
    let refused = other.lock(&id, Some(Duration::from_millis(200))).await;
    assert!(
        matches!(refused, Err(StoreError::LockTimeout(_))),
        "{}: the lock was lost while held",
        backend.name
    );
    drop(held);
    drop(other.lock(&id, Some(LEASE)).await.unwrap());

    // A process that dies holding the lock: its runtime (and renewal task) stops, and
    // nothing releases the key.
    let open = backend.open();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let crashed = open();
        let guard = runtime.block_on(crashed.lock(&id, None)).unwrap();
        std::mem::forget(guard);
    })
    .join()
    .unwrap();
    let started = std::time::Instant::now();
    let taken = other.lock(&id, Some(LEASE * 3)).await;
    assert!(taken.is_ok(), "{}: {taken:?}", backend.name);
    // Memcached keeps a lock one second past its lease (its clock ticks once a second, so
    // an expiry cut to the second could end at once), and ends it at one of its ticks.
    assert!(
        started.elapsed() <= LEASE + Duration::from_secs(2),
        "{}: took {:?}",
        backend.name,
        started.elapsed()
    );
}

/// Server locks (memcached, Redis): a holder whose process stalled past the lease (its
/// renewals did not run) while another process took the lock and saved must not write
/// over that save: its save fails, and the other's session stays.
fn a_stalled_holder_does_not_write_over_the_next(backend: Backend) {
    let id = SessionId::generate();
    let record = |who: &str| {
        let mut data = SessionData::new();
        data.insert("by".into(), SessionValue::Str(who.into()));
        let expires = SystemTime::now() + Duration::from_secs(600);
        Record { data, expires }
    };
    let (stalled, other) = (backend.open(), backend.open()());
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = stalled();
        let lock = runtime.block_on(store.lock(&id, None)).unwrap();
        locked_tx.send(()).unwrap();
        // The thread blocks: its runtime, and the lock's renewals, stop meanwhile.
        go_rx.recv().unwrap();
        runtime.block_on(store.save_and_release(&id, record("stalled"), lock))
    });
    locked_rx.recv().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let lock = other.lock(&id, Some(LEASE * 3)).await.unwrap();
        other.save(&id, record("next")).await.unwrap();
        go_tx.send(()).unwrap();
        // Still held by `other` while the stalled holder tries to save.
        std::thread::sleep(Duration::from_millis(500));
        drop(lock);
    });
    let saved = holder.join().unwrap();
    assert!(saved.is_err(), "{}: the stalled holder saved", backend.name);
    let stored = runtime.block_on(other.load(&id)).unwrap().unwrap();
    assert_eq!(stored.data, record("next").data, "{}", backend.name);
}

/// Memcached: a holder whose renewals run keeps its lock, even with a lease of one second
/// (memcached's clock ticks once a second, so such a lock must outlast its expiry by a
/// tick), and a save under a lock renewed in time asks the server nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_memcached_lock_saves_without_asking() {
    let server = Server::memcached();
    let address = server.address();
    let record = || {
        let mut data = SessionData::new();
        data.insert("n".into(), SessionValue::Int(1));
        let expires = SystemTime::now() + Duration::from_secs(600);
        Record { data, expires }
    };
    let short = MemcachedStore::new(&[address.as_str()])
        .unwrap()
        .with_lock_lease(Duration::from_secs(1));
    for _ in 0..3 {
        let id = SessionId::generate();
        let lock = short.lock(&id, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        short.save_and_release(&id, record(), lock).await.unwrap();
    }
    let store = MemcachedStore::new(&[address.as_str()]).unwrap();
    let id = SessionId::generate();
    let lock = store.lock(&id, None).await.unwrap();
    let gets = || servers::memcached_line(&address, "stats\r\n", "STAT cmd_get ");
    let before = gets();
    store.save_and_release(&id, record(), lock).await.unwrap();
    assert_eq!(gets(), before, "the save read something first");
}

/// Server locks (memcached, Redis) are fair between processes: a waiter that finds the lock
/// taken queues itself, and the release hands the lock to it, so a process that comes later
/// does not get it first; a waiter that gives up leaves the queue at once.
async fn queue(backend: Backend) {
    let (a, b, c) = (backend.open()(), backend.open()(), backend.open()());
    let id = SessionId::generate();
    let held = a.lock(&id, None).await.unwrap();
    let queued = tokio::spawn(async move {
        let lock = b.lock(&id, Some(Duration::from_secs(5))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let released = std::time::Instant::now();
        drop(lock);
        released
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let later = tokio::spawn(async move {
        let lock = c.lock(&id, Some(Duration::from_secs(5))).await.unwrap();
        (std::time::Instant::now(), lock)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(held);
    let b_released = queued.await.unwrap();
    let (c_took, c_lock) = later.await.unwrap();
    assert!(
        c_took >= b_released,
        "{}: a later waiter took the lock before the queued one",
        backend.name
    );
    // A waiter that gives up: the lock is not kept for it.
    let d = backend.open()();
    let refused = d.lock(&id, Some(Duration::from_millis(100))).await;
    assert!(matches!(refused, Err(StoreError::LockTimeout(_))));
    drop(c_lock);
    let taken = a.lock(&id, Some(Duration::from_secs(1))).await;
    assert!(taken.is_ok(), "{}: {taken:?}", backend.name);
    // A waiter whose request goes away: neither.
    let e = backend.open()();
    let gone = tokio::spawn(async move { e.lock(&id, None).await.map(drop) });
    tokio::time::sleep(Duration::from_millis(100)).await;
    gone.abort();
    let _ = gone.await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(taken);
    let again = backend.open()()
        .lock(&id, Some(Duration::from_secs(1)))
        .await;
    assert!(again.is_ok(), "{}: {again:?}", backend.name);
}

/// The lock of a session that two processes keep busy without a break is still left free
/// now and then (see `fair` in `src/store/`), long enough for a client that polls for it
/// every 100 ms, as CherryPy does: such a poller gets it within two seconds. And with those
/// gaps, the two processes still serialise their updates: none is lost.
async fn gaps(backend: Backend) {
    let (a, b) = (backend.open()(), backend.open()());
    let id = SessionId::generate();
    let counter = |n: i64| {
        let mut data = SessionData::new();
        data.insert("n".into(), SessionValue::Int(n));
        Record {
            data,
            expires: SystemTime::now() + Duration::from_secs(60),
        }
    };
    a.save(&id, counter(0)).await.unwrap();
    let stores = std::sync::Arc::new([a, b]);
    let busy_until = std::time::Instant::now() + Duration::from_millis(3500);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let (stores, seen) = (stores.clone(), seen.clone());
            tokio::spawn(async move {
                let store = &stores[i % 2];
                while std::time::Instant::now() < busy_until {
                    let lock = store
                        .lock(&id, Some(Duration::from_secs(10)))
                        .await
                        .unwrap();
                    let record = store.load(&id).await.unwrap().unwrap();
                    let Some(SessionValue::Int(n)) = record.data.get("n").cloned() else {
                        panic!("no counter in {:?}", record.data);
                    };
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    store
                        .save_and_release(&id, counter(n + 1), lock)
                        .await
                        .unwrap();
                    seen.lock().unwrap().push(n);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // CherryPy's way: try, and sleep 100 ms if the lock is held.
    let poll = {
        let (name, dir, port) = (backend.name, backend.dir.clone(), backend.port());
        tokio::task::spawn_blocking(move || {
            let asked = std::time::Instant::now();
            while !poll_once(name, &dir, port, &id) {
                std::thread::sleep(Duration::from_millis(100));
            }
            asked.elapsed()
        })
    };
    let waited = poll.await.unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    assert!(
        waited < Duration::from_secs(2),
        "{}: a polling client waited {waited:?} for a busy lock",
        backend.name
    );
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    let count = i64::try_from(seen.len()).unwrap();
    assert_eq!(
        seen,
        (0..count).collect::<Vec<_>>(),
        "{}: updates lost",
        backend.name
    );
    let stored = stores[0].load(&id).await.unwrap().unwrap();
    assert_eq!(stored.data.get("n"), Some(&SessionValue::Int(count)));
}

/// One attempt on `id`'s lock as CherryPy makes it (zc.lockfile's `flock` of the lock file,
/// or cherrys' `SET NX` of the lock key); if it is taken, it is held 5 ms and let go.
fn poll_once(backend: &str, dir: &std::path::Path, port: u16, id: &SessionId) -> bool {
    if backend == "file" {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.join(format!("session-{id}.lock")))
            .unwrap();
        if file.try_lock().is_err() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
        return true;
    }
    let key = format!("lock_{id}");
    if redis_cli(port, &["SET", &key, "cherrypy", "NX", "PX", "5000"]) != "OK" {
        return false;
    }
    std::thread::sleep(Duration::from_millis(5));
    redis_cli(port, &["DEL", &key]);
    true
}

mod gaps {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file() {
        super::gaps(Backend::file()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis() {
        super::gaps(Backend::redis()).await;
    }

    /// A gap mark holds our waiters only with the expiry our release gives it: one left
    /// without (a restore that dropped expiries, a stray write) is deleted, not waited on
    /// for ever.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_redis_gap_mark_without_its_expiry_is_not_waited_for() {
        let backend = Backend::redis();
        let store = backend.open()();
        let id = SessionId::generate();
        let mark = format!("lock_{id}:fair");
        redis_cli(backend.port(), &["SET", &mark, "gap"]);
        let asked = std::time::Instant::now();
        let lock = store.lock(&id, Some(Duration::from_secs(3))).await;
        assert!(lock.is_ok(), "held by the mark: {lock:?}");
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
        assert_eq!(redis_cli(backend.port(), &["EXISTS", &mark]), "0");
        drop(lock);
        redis_cli(backend.port(), &["SET", &mark, "gap"]);
        let asked = std::time::Instant::now();
        let locked = store.lock_and_load(&id, Some(Duration::from_secs(3))).await;
        assert!(locked.is_ok(), "held by the mark: {:?}", locked.err());
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
    }

    /// A Redis waiter that waited through a gap starts its busy run afresh after it, as a
    /// file waiter does: counted from before the gap, the next holder left another gap
    /// after one request, so 100 ms requests paused twice as often as the busy run says.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gaps_come_once_per_busy_run_on_redis() {
        let backend = Backend::redis();
        let stores = std::sync::Arc::new([backend.open()(), backend.open()()]);
        let id = SessionId::generate();
        let busy = Duration::from_millis(4500);
        let busy_until = std::time::Instant::now() + busy;
        let workers: Vec<_> = (0..8)
            .map(|i| {
                let stores = stores.clone();
                tokio::spawn(async move {
                    let store = &stores[i % 2];
                    while std::time::Instant::now() < busy_until {
                        let lock = store
                            .lock(&id, Some(Duration::from_secs(20)))
                            .await
                            .unwrap();
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        drop(lock);
                    }
                })
            })
            .collect();
        let (port, mark) = (backend.port(), format!("lock_{id}:fair"));
        let gaps = tokio::task::spawn_blocking(move || {
            let (mut gaps, mut in_gap) = (0, false);
            while std::time::Instant::now() < busy_until {
                let now_gap = redis_cli(port, &["GET", &mark]) == "gap";
                gaps += usize::from(now_gap && !in_gap);
                in_gap = now_gap;
                std::thread::sleep(Duration::from_millis(10));
            }
            gaps
        })
        .await
        .unwrap();
        for worker in workers {
            worker.await.unwrap();
        }
        // One gap per busy run of a second and its gap: 3 or 4 in 4.5 s, not 7 or 8.
        let most = (busy.as_secs_f64() / 1.15).ceil() as usize;
        assert!((1..=most).contains(&gaps), "{gaps} gaps in {busy:?}");
    }
}

// ---- through the middleware ------------------------------------------------------------

async fn set(s: Session, q: web::Query<Vec<(String, String)>>) -> HttpResponse {
    for (k, v) in q.into_inner() {
        s.insert_value(k, SessionValue::Str(v)).unwrap();
    }
    HttpResponse::Ok().body(s.id().to_string())
}

async fn get(s: Session) -> HttpResponse {
    let v = s.get_value("k").map(|v| v.python_str()).unwrap_or_default();
    HttpResponse::Ok().body(v)
}

async fn incr(s: Session) -> HttpResponse {
    let n = match s.get_value("c") {
        Some(SessionValue::Int(n)) => n,
        _ => 0,
    };
    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    s.insert_value("c", SessionValue::Int(n + 1)).unwrap();
    HttpResponse::Ok().body((n + 1).to_string())
}

/// As at a login: the data is read, then the id changes (CherryPy saves only loaded data,
/// so a regenerate without touching the data starts an empty session).
async fn regenerate(s: Session) -> HttpResponse {
    let _ = s.get_value("k");
    s.regenerate();
    HttpResponse::Ok().body(s.id().to_string())
}

async fn expire(s: Session) -> HttpResponse {
    s.expire();
    HttpResponse::Ok().finish()
}

/// What the handler sees of the session: its keys, and whether it has the reserved key of
/// the creation time (it must not).
async fn keys(s: Session) -> HttpResponse {
    let keys: Vec<String> = s.entries().keys().cloned().collect();
    let hidden = !s.contains_key("_session_created") && s.get_value("_session_created").is_none();
    HttpResponse::Ok().body(format!("{}|{hidden}", keys.join(",")))
}

async fn clear(s: Session) -> HttpResponse {
    s.clear();
    s.insert_value("k", SessionValue::Str("v1".into())).unwrap();
    HttpResponse::Ok().finish()
}

fn serve(backend: &Backend) -> u16 {
    serve_with_ram(backend).0
}

/// [`serve`], and the server's RAM store when it has one (it lives in the middleware).
fn serve_with_ram(backend: &Backend) -> (u16, Option<RamStore>) {
    serve_with(backend, "")
}

/// [`serve_with_ram`] with more config lines.
fn serve_with(backend: &Backend, extra: &str) -> (u16, Option<RamStore>) {
    let conf = backend.dir.join("site.conf");
    std::fs::write(
        &conf,
        format!("[/]\ntools.sessions.on = True\n{}{extra}", backend.config),
    )
    .unwrap();
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let ram = sessions.ram_store().cloned();
    let routes = |cfg: &mut web::ServiceConfig| {
        cfg.route("/set", web::get().to(set))
            .route("/get", web::get().to(get))
            .route("/incr", web::get().to(incr))
            .route("/regenerate", web::get().to(regenerate))
            .route("/expire", web::get().to(expire))
            .route("/keys", web::get().to(keys))
            .route("/clear", web::get().to(clear));
    };
    (http::serve(2, move || sessions.clone(), routes), ram)
}

fn http_semantics(backend: Backend) {
    let port = serve(&backend);
    let name = backend.name;
    // A new session, then read back with its cookie.
    let (status, id, body) = session_get(port, "/set?k=v1", None);
    assert_eq!((status, id.len()), (200, 40), "{name}");
    assert_eq!(body, id);
    assert_eq!(session_get(port, "/get", Some(&id)).2, "v1", "{name}");
    // An unknown id is replaced (fixation protection).
    let forged = "ab".repeat(20);
    let (_, fresh, body) = session_get(port, "/get", Some(&forged));
    assert_eq!(body, "", "{name}");
    assert!(fresh.len() == 40 && fresh != forged, "{name}");
    // Regenerate: a new id with the same data; the old id is gone.
    let (_, new_id, body) = session_get(port, "/regenerate", Some(&id));
    assert_eq!(new_id, body);
    assert_ne!(new_id, id, "{name}");
    assert_eq!(session_get(port, "/get", Some(&new_id)).2, "v1", "{name}");
    let (_, replaced, body) = session_get(port, "/get", Some(&id));
    assert_eq!(body, "", "{name}: the old id still reads the data");
    assert!(replaced.len() == 40 && replaced != id);
    // expire(): the browser is told to drop the cookie; the stored data stays, as in
    // CherryPy (a client that keeps sending the id still reads it).
    let (status, expired, _) = session_get(port, "/expire", Some(&new_id));
    assert_eq!((status, expired.as_str()), (200, new_id.as_str()), "{name}");
    assert_eq!(session_get(port, "/get", Some(&new_id)).2, "v1", "{name}");
}

/// A request that only reads the session extends its expiry (CherryPy saves every loaded
/// session), leaving the data as it was. The servers' write may follow the response.
fn a_read_extends_the_expiry(backend: Backend) {
    let name = backend.name;
    let (port, ram) = serve_with_ram(&backend);
    let (_, id, _) = session_get(port, "/set?k=v1", None);
    let id = SessionId::parse(&id).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = ram.map_or_else(|| backend.open()(), Store::Ram);
    let load = |id| runtime.block_on(store.load(&id)).unwrap().expect("stored");
    let before = load(id);
    let data_path = backend.dir.join(format!("session-{id}"));
    let inode = || {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&data_path).unwrap().ino()
    };
    let file_before = (name == "file").then(inode);
    std::thread::sleep(Duration::from_millis(1_100));
    assert_eq!(
        session_get(port, "/get", Some(&id.to_string())).2,
        "v1",
        "{name}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let after = loop {
        let after = load(id);
        if after.expires > before.expires || std::time::Instant::now() > deadline {
            break after;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(after.data, before.data, "{name}");
    let gained = after.expires.duration_since(before.expires);
    assert!(
        gained.is_ok_and(|d| d >= Duration::from_secs(1)),
        "{name}: expiry {:?} -> {:?}",
        before.expires,
        after.expires
    );
    // Files: the expiration's bytes were rewritten in place, not the file replaced.
    if let Some(inode_before) = file_before {
        assert_eq!(inode(), inode_before, "the session file was replaced");
    }
}

fn concurrent_increments(backend: Backend) {
    let port = serve(&backend);
    let (_, id, _) = session_get(port, "/set?k=x", None);
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let id = id.clone();
            std::thread::spawn(move || session_get(port, "/incr", Some(&id)).2)
        })
        .collect();
    let seen: HashSet<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    // Implicit locking: each request saw the previous one's write.
    assert_eq!(seen.len(), 20, "{}: {seen:?}", backend.name);
    assert_eq!(
        session_get(port, "/incr", Some(&id)).2,
        "21",
        "{}",
        backend.name
    );
}

/// Reads and increments of one session at once: a read's expiry write, which may follow
/// its response, holds the lock until done, so it never puts back data older than an
/// increment that came after it.
fn reads_between_writes(backend: Backend) {
    let port = serve(&backend);
    let (_, id, _) = session_get(port, "/set?k=x", None);
    let threads: Vec<_> = (0..20)
        .map(|i| {
            let id = id.clone();
            let path = if i % 2 == 0 { "/incr" } else { "/get" };
            std::thread::spawn(move || session_get(port, path, Some(&id)).2)
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(
        session_get(port, "/incr", Some(&id)).2,
        "11",
        "{}: an increment was lost",
        backend.name
    );
}

/// `tools.sessions.max_lifetime`: a session kept active by a request every few
/// milliseconds (well inside `timeout`) is expired once it is older than `max_lifetime`
/// since its creation: the request gets a new id and empty data, and the old id's data is
/// deleted. The creation time is stored with the data, never shown to the handler, kept by
/// `clear()` and carried by `regenerate()`.
fn max_lifetime_expires_an_active_session(backend: Backend) {
    let name = backend.name;
    // 0.02 minutes: 1.2 s.
    let lifetime = Duration::from_millis(1_200);
    let (port, ram) = serve_with(&backend, "tools.sessions.max_lifetime = 0.02\n");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = ram.map_or_else(|| backend.open()(), Store::Ram);
    let created_of = |id: &str| {
        let id = SessionId::parse(id).unwrap();
        let record = runtime.block_on(store.load(&id)).unwrap();
        match record.map(|r| r.data.get("_session_created").cloned()) {
            Some(Some(SessionValue::Float(t))) => Some(t),
            other => panic!("{name}: no creation time stored: {other:?}"),
        }
    };
    let (_, first, _) = session_get(port, "/set?k=v1", None);
    let created = created_of(&first).unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(created <= now && created > now - 60.0, "{name}: {created}");
    // The handler never sees it, and clear() keeps it.
    assert_eq!(
        session_get(port, "/keys", Some(&first)).2,
        "k|true",
        "{name}"
    );
    session_get(port, "/clear", Some(&first));
    assert_eq!(
        created_of(&first),
        Some(created),
        "{name}: clear() dropped it"
    );
    // regenerate() carries it to the new id.
    let (_, id, _) = session_get(port, "/regenerate", Some(&first));
    assert_ne!(id, first);
    assert_eq!(
        created_of(&id),
        Some(created),
        "{name}: regenerate() lost it"
    );
    // Kept active until a request is answered with a new id.
    let started = std::time::Instant::now();
    let (replaced, body) = loop {
        let (_, answered, body) = session_get(port, "/get", Some(&id));
        if answered != id {
            break (answered, body);
        }
        assert_eq!(body, "v1", "{name}: the live session lost its data");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name}: the session outlived max_lifetime"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let age = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        - created;
    assert!(
        age >= lifetime.as_secs_f64(),
        "{name}: expired after {age} s, before max_lifetime"
    );
    assert_eq!(body, "", "{name}: the new session has the old data");
    assert_eq!(replaced.len(), 40, "{name}");
    // The old id's data is gone; the old id is not taken again.
    let old = SessionId::parse(&id).unwrap();
    assert!(
        runtime.block_on(store.load(&old)).unwrap().is_none(),
        "{name}: the outlived session's data is still stored"
    );
    let (_, again, _) = session_get(port, "/get", Some(&id));
    assert_ne!(again, id, "{name}");
    // The new session starts its own lifetime at its first save.
    let (_, fresh, _) = session_get(port, "/set?k=v2", Some(&replaced));
    assert_eq!(fresh, replaced, "{name}");
    assert!(created_of(&fresh).unwrap() > created, "{name}");

    // Without max_lifetime nothing is added to what the store holds (CherryPy's format).
    let (plain, plain_ram) = serve_with(&backend, "");
    let plain_store = plain_ram.map_or_else(|| backend.open()(), Store::Ram);
    let (_, id, _) = session_get(plain, "/set?k=v1", None);
    let id = SessionId::parse(&id).unwrap();
    let stored = runtime.block_on(plain_store.load(&id)).unwrap().unwrap();
    assert_eq!(
        stored.data.keys().collect::<Vec<_>>(),
        ["k"],
        "{name}: a key was added without max_lifetime"
    );
}

macro_rules! suite {
    ($($store:ident),*) => {$(
        mod $store {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn round_trip() {
                super::round_trip(Backend::$store()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn expiry_and_clean_up() {
                super::expiry_and_clean_up(Backend::$store()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn locking() {
                super::locking(Backend::$store()).await;
            }

            #[test]
            fn http_semantics() {
                super::http_semantics(Backend::$store());
            }

            #[test]
            fn a_read_extends_the_expiry() {
                super::a_read_extends_the_expiry(Backend::$store());
            }

            #[test]
            fn reads_between_writes() {
                super::reads_between_writes(Backend::$store());
            }

            #[test]
            fn concurrent_increments() {
                super::concurrent_increments(Backend::$store());
            }

            #[test]
            fn max_lifetime_expires_an_active_session() {
                super::max_lifetime_expires_an_active_session(Backend::$store());
            }
        }
    )*};
}

suite!(ram, file, memcached, redis);

mod leases {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memcached() {
        super::lease(Backend::memcached()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis() {
        super::lease(Backend::redis()).await;
    }

    #[test]
    fn memcached_stalled_holder() {
        super::a_stalled_holder_does_not_write_over_the_next(Backend::memcached());
    }

    #[test]
    fn redis_stalled_holder() {
        super::a_stalled_holder_does_not_write_over_the_next(Backend::redis());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memcached_queue() {
        super::queue(Backend::memcached()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_queue() {
        super::queue(Backend::redis()).await;
    }
}

/// A free Redis lock is taken as cherrys takes it, `SET NX` (with the session's read in the
/// same transaction), so Redis runs no script for it; a held one is queued for by the
/// script, and the waiter gets it, with the session, when it is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_redis_lock_costs_no_script_and_a_held_one_is_queued_for() {
    let dir = temp_dir("redis-free-lock");
    let server = Server::redis(&dir);
    let port = server.port;
    let url = format!("redis://{}/0", server.address());
    let scripts_run = || redis_command_calls(port, "evalsha") + redis_command_calls(port, "eval");
    let store = RedisStore::new(&url, "test:").unwrap();
    let id = SessionId::generate();
    let mut data = SessionData::new();
    data.insert("user".into(), SessionValue::Str("ann".into()));
    let expires = SystemTime::now() + Duration::from_secs(600);
    store
        .save(
            &id,
            Record {
                data: data.clone(),
                expires,
            },
        )
        .await
        .unwrap();

    assert_eq!(redis_cli(port, &["CONFIG", "RESETSTAT"]), "OK");
    let (lock, record) = store.lock_and_load(&id, None).await.unwrap();
    assert_eq!(record.unwrap().data, data);
    assert_eq!(scripts_run(), 0, "a free lock was taken by a script");

    let other = RedisStore::new(&url, "test:").unwrap();
    let waiter = tokio::spawn(async move {
        other
            .lock_and_load(&id, Some(Duration::from_secs(10)))
            .await
            .map(|(lock, record)| (lock, record.map(|r| r.data)))
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while redis_cli(port, &["KEYS", &format!("*{id}*:next")]).is_empty() {
        assert!(std::time::Instant::now() < deadline, "nobody queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(scripts_run() > 0, "the waiter did not queue by the script");
    drop(lock);
    let (_lock, read) = waiter.await.unwrap().unwrap();
    assert_eq!(read, Some(data));
}

/// A memcached lock nobody queued for is released with one compare-and-delete, not a read
/// of the lock's key and then a delete; a lock someone queued for is still handed over
/// (the compare fails, and the release reads who is queued).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memcached_lock_nobody_waits_for_is_released_in_one_command() {
    let server = Server::memcached();
    let address = server.address();
    let stat = |name: &str| -> u64 {
        servers::memcached_line(&address, "stats\r\n", &format!("STAT {name} "))
            .parse()
            .unwrap()
    };
    let store = MemcachedStore::new(&[&address]).unwrap();
    let id = SessionId::generate();
    let lock = store.lock(&id, None).await.unwrap();
    let (gets, deletes) = (stat("cmd_get"), stat("delete_hits"));
    // Dropped, the lock is released on a task of its own.
    drop(lock);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while stat("delete_hits") == deletes && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stat("delete_hits") - deletes, 1, "the lock was not deleted");
    assert_eq!(stat("cmd_get") - gets, 0, "the release read the lock's key");
    let other = MemcachedStore::new(&[&address]).unwrap();
    drop(other.lock(&id, Some(Duration::from_secs(1))).await.unwrap());
}
