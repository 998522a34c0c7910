//! Memcached sessions (`storage_type = "memcached"`), as CherryPy's MemcachedSession stores
//! them through python-memcached: key the session id, value the protocol-0 pickle of
//! `(data, expiration)` with the pickle flag (1), expiry the expiration as Unix time. The
//! bytes are python-memcached's, so CherryPy and this crate share sessions; with several
//! servers, a key goes to the server python-memcached picks for it.
//!
//! Locks span processes ([`super::shared_lock`]), which CherryPy's do not (its memcached
//! locks are per process): a CherryPy process sharing the servers ignores them. A lock is
//! the key `<id>.lock`, holding its holder's token and, after a space, the token of the
//! waiter of another process queued for it (see `lock.rs`).

use crate::store::{ErrorChain, redact, short};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::time::{Duration, Instant, SystemTime};

use async_memcached::{AsciiProtocol, Client, Error, MetaProtocol, Status};
use deadpool::managed::{self, Metrics, Pool, RecycleError, RecycleResult};

use super::codec::{self, backend, is_garbage, unavailable};
use super::pickle::{Budget, Encoding};
use super::shared_lock;
use super::{LockTable, Record, SessionLock, SessionStore, StoreError};
use crate::limits::MAX_SESSION_BYTES;
use crate::session_config::memcached_dsn;
use crate::session_id::SessionId;

mod lock;
mod versions;

/// python-memcached's flag for a pickled value.
const FLAG_PICKLE: u32 = 1;
/// python-memcached's flag for a zlib-compressed value (CherryPy never asks for it).
const FLAG_COMPRESSED: u32 = 1 << 3;
/// The longest one command (with its wait for a connection) may take.
const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections kept per server.
const POOL_SIZE: usize = 32;
/// memcached's default item size limit (`-I`, `item_size_max`): what a server is taken to
/// allow until it says otherwise.
const DEFAULT_ITEM_SIZE_MAX: usize = 1 << 20;
/// What an item takes besides its value, counted against `item_size_max`: the item header
/// (about 60 bytes with its CAS), the 40-character key, the flags and `\r\n`. Rounded up.
const ITEM_OVERHEAD: usize = 256;
/// How often a server that has not given its item size limit (one down at startup) is
/// asked again while the store is in use.
const ASK_AGAIN_EVERY: Duration = Duration::from_secs(5);
/// How long asking a server again may take (on a blocking thread, off the request path).
const ASK_AGAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Memcached servers holding sessions. Cheap to clone; clones share the connections.
///
/// The middleware makes one from `tools.sessions.storage_type = "memcached"` and
/// `tools.sessions.servers`. Made directly, it takes the same `servers` entries and
/// connects to nothing until it is used:
///
/// ```
/// use actix_cherrypy::store::MemcachedStore;
///
/// let store = MemcachedStore::new(&["127.0.0.1:11211", "unix:/run/memcached.sock"])?;
/// let bad = MemcachedStore::new(&["memcached://127.0.0.1"]).unwrap_err();
/// assert!(bad.to_string().contains("is not a memcached server"), "{bad}");
/// # drop(store);
/// # Ok::<(), actix_cherrypy::store::BadServer>(())
/// ```
///
/// Through [`SessionStore`] it reads and writes what CherryPy's `MemcachedSession` does
/// (this part needs a memcached server):
///
/// ```no_run
/// use actix_cherrypy::session_id::SessionId;
/// use actix_cherrypy::store::{MemcachedStore, SessionStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemcachedStore::new(&["127.0.0.1:11211"])?;
/// let id = SessionId::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
/// if let Some(record) = store.load(&id).await? {
///     println!("{} keys, expires {:?}", record.data.len(), record.expires);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MemcachedStore {
    inner: Arc<Inner>,
    lease: Duration,
}

pub(crate) struct Inner {
    servers: Vec<Server>,
    locks: LockTable,
    /// The server locks held, renewed by one task.
    renewals: Arc<shared_lock::Renewals>,
    /// Per lock token: the CAS of its lock key while that holds the token alone (see
    /// `lock.rs`).
    alone: std::sync::Mutex<rustc_hash::FxHashMap<String, u64>>,
    /// Per session whose lock this process holds: the CAS of its value as this process
    /// last read it under the lock or wrote it. A write is made only while the value still
    /// has it (see [`MemcachedStore::write_session`]).
    versions: std::sync::Mutex<rustc_hash::FxHashMap<SessionId, u64>>,
    /// The smallest `item_size_max` of the servers, a server that has not said counting as
    /// memcached's default: what [`MemcachedStore::budget`] reads on every request.
    item_size_max: AtomicUsize,
    /// Whether every server has said its limit. Until then, [`MemcachedStore::budget`]
    /// asks again those that have not (see [`MemcachedStore::ask_again`]).
    all_said: AtomicBool,
    /// Per server, in the order of `servers`: what it said, and when it was last asked.
    limits: Mutex<Vec<ItemSizeMax>>,
}

/// One server's item size limit, as far as this process knows it.
#[derive(Clone, Copy, Default)]
struct ItemSizeMax {
    /// What the server said (`None`: not yet; memcached's default stands for it).
    said: Option<usize>,
    /// When it was last asked (`None`: never).
    asked: Option<Instant>,
}

struct Server {
    address: String,
    pool: Pool<Connector>,
}

impl std::fmt::Debug for MemcachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let servers: Vec<&str> = self.inner.servers.iter().map(|s| &*s.address).collect();
        f.debug_struct("MemcachedStore")
            .field("servers", &servers)
            .finish()
    }
}

/// A `servers` entry that python-memcached would not understand either.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not a memcached server (\"host:port\", \"host\", \"inet:host:port\" or \"unix:/path\")"
)]
pub struct BadServer(pub String);

impl MemcachedStore {
    /// How long a session lock outlives a holder that stops renewing it (a process that
    /// crashed while holding it); the holder renews it every third of that. Default 30 s.
    #[must_use]
    pub fn with_lock_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// What a session may weigh here: its protocol 0 pickle (python-memcached's), no
    /// longer than [`MAX_SESSION_BYTES`] nor than the servers' item size limit allows for
    /// a value, so that a session too large for the servers is refused when a value is
    /// inserted rather than by the server at the save.
    ///
    /// While a server has not said its limit, each call may start asking it again in the
    /// background ([`Self::ask_again`]); once all have said, this is two atomic loads.
    pub(crate) fn budget(&self) -> Budget {
        if !self.inner.all_said.load(Ordering::Relaxed) {
            self.ask_again();
        }
        let items = self.inner.item_size_max.load(Ordering::Relaxed);
        Budget {
            encoding: Encoding::Protocol0,
            max_bytes: MAX_SESSION_BYTES.min(items.saturating_sub(ITEM_OVERHEAD)),
        }
    }

    /// Asks each server its item size limit (`stats settings`, `item_size_max`), each
    /// within `timeout`, and keeps the smallest for [`Self::budget`]. A server that does not
    /// answer has memcached's default (1 MiB) in its place until it does (it is asked again
    /// while the store is in use, see [`Self::ask_again`]), and one that answers without the
    /// figure (a proxy) has it for good; the reasons are returned. A TCP server `unreached`
    /// is not asked now: it has the default, and no reason.
    pub(crate) fn learn_item_size_max(
        &self,
        timeout: Duration,
        unreached: &[(String, u16)],
    ) -> Vec<String> {
        let mut failures = Vec::new();
        let mut limits = lock_limits(&self.inner.limits);
        for (server, limit) in self.inner.servers.iter().zip(limits.iter_mut()) {
            limit.asked = Some(Instant::now());
            if tcp_address(&server.address).is_some_and(|a| unreached.contains(&a)) {
                continue;
            }
            match ask_item_size_max(&server.address, timeout) {
                Ok(Some(size)) => limit.said = Some(size),
                Ok(None) => {
                    limit.said = Some(DEFAULT_ITEM_SIZE_MAX);
                    failures.push(no_item_size_max(&server.address));
                }
                Err(e) => failures.push(format!(
                    "the memcached server {} did not give its item size limit ({e}); taking memcached's default, {DEFAULT_ITEM_SIZE_MAX} bytes, until it does (it is asked again every {} s while sessions are used)",
                    server.address,
                    ASK_AGAIN_EVERY.as_secs()
                )),
            }
        }
        self.settle_item_size_max(&limits);
        failures
    }

    /// Asks again, each on a blocking thread, the servers that have not said their item
    /// size limit and were last asked [`ASK_AGAIN_EVERY`] ago or more; what one says lowers
    /// or raises [`Self::budget`] from then on. The caller never waits for a server: a
    /// request only starts the asking (and not even that while another request is
    /// deciding). Outside a Tokio runtime nothing is asked.
    fn ask_again(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let now = Instant::now();
        let due: Vec<usize> = {
            let mut limits = match self.inner.limits.try_lock() {
                Ok(limits) => limits,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => return,
            };
            let due = |limit: &ItemSizeMax| {
                limit.said.is_none()
                    && limit
                        .asked
                        .is_none_or(|at| now.duration_since(at) >= ASK_AGAIN_EVERY)
            };
            let mut due_now = Vec::new();
            for (at, limit) in limits.iter_mut().enumerate() {
                if due(limit) {
                    limit.asked = Some(now);
                    due_now.push(at);
                }
            }
            due_now
        };
        for at in due {
            let store = self.clone();
            drop(runtime.spawn_blocking(move || store.ask_server_again(at)));
        }
    }

    /// Asks the server at `at` in `servers` its item size limit; what it says takes the
    /// place of memcached's default in the store's limit.
    fn ask_server_again(&self, at: usize) {
        let address = &self.inner.servers[at].address;
        match ask_item_size_max(address, ASK_AGAIN_TIMEOUT) {
            Ok(said) => {
                let size = said.unwrap_or(DEFAULT_ITEM_SIZE_MAX);
                let mut limits = lock_limits(&self.inner.limits);
                limits[at].said = Some(size);
                let smallest = self.settle_item_size_max(&limits);
                drop(limits);
                match said {
                    Some(_) => tracing::info!(
                        "the memcached server {address} gave its item size limit, {size} bytes; the servers' smallest is now {smallest} bytes"
                    ),
                    None => tracing::warn!("{}", no_item_size_max(address)),
                }
            }
            Err(e) => tracing::debug!(
                "the memcached server {address} still does not give its item size limit ({e})"
            ),
        }
    }

    /// Keeps the smallest of `limits` (memcached's default for a server that has not said)
    /// for [`Self::budget`], and whether every server has said; returns the smallest.
    fn settle_item_size_max(&self, limits: &[ItemSizeMax]) -> usize {
        let smallest = limits
            .iter()
            .map(|limit| limit.said.unwrap_or(DEFAULT_ITEM_SIZE_MAX))
            .min()
            .unwrap_or(DEFAULT_ITEM_SIZE_MAX)
            .min(usize::MAX / 2);
        let all_said = limits.iter().all(|limit| limit.said.is_some());
        self.inner.item_size_max.store(smallest, Ordering::Relaxed);
        self.inner.all_said.store(all_said, Ordering::Relaxed);
        smallest
    }

    /// The TCP servers' hosts and ports (for the startup check).
    pub(crate) fn tcp_addresses(&self) -> Vec<(String, u16)> {
        let servers = self.inner.servers.iter();
        servers.filter_map(|s| tcp_address(&s.address)).collect()
    }

    /// A store on `servers` (CherryPy's `tools.sessions.servers` entries). Nothing is
    /// connected until the first request.
    pub fn new<S: AsRef<str>>(servers: &[S]) -> Result<Self, BadServer> {
        let servers = servers
            .iter()
            .map(|s| {
                let dsn =
                    memcached_dsn(s.as_ref()).ok_or_else(|| BadServer(s.as_ref().to_owned()))?;
                let pool = Pool::builder(Connector { dsn })
                    .max_size(POOL_SIZE)
                    .wait_timeout(Some(OP_TIMEOUT))
                    .create_timeout(Some(OP_TIMEOUT))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(|_| BadServer(s.as_ref().to_owned()))?;
                Ok(Server {
                    address: s.as_ref().to_owned(),
                    pool,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if servers.is_empty() {
            return Err(BadServer(String::new()));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                locks: LockTable::default(),
                renewals: Arc::default(),
                alone: Default::default(),
                versions: Default::default(),
                item_size_max: AtomicUsize::new(DEFAULT_ITEM_SIZE_MAX),
                all_said: AtomicBool::new(false),
                limits: Mutex::new(vec![ItemSizeMax::default(); servers.len()]),
                servers,
            }),
            lease: shared_lock::DEFAULT_LEASE,
        })
    }

    /// python-memcached's choice of server for a key: `(crc32(key) >> 16) & 0x7fff` modulo
    /// the number of servers (each of weight 1).
    fn server(&self, key: &str) -> &Server {
        let servers = &self.inner.servers;
        let hash = (crc32fast::hash(key.as_bytes()) >> 16) & 0x7fff;
        &servers[hash as usize % servers.len()]
    }

    /// Runs `op` on a pooled connection to the server of `key`, within [`OP_TIMEOUT`].
    async fn with<T>(
        &self,
        key: &str,
        op: impl AsyncFnOnce(&mut Client) -> Result<T, Error>,
    ) -> Result<T, StoreError> {
        let server = self.server(key);
        let attempt = async {
            let mut client = server.pool.get().await.map_err(|e| {
                unavailable(std::io::Error::other(format!(
                    "memcached {}: {e}",
                    server.address
                )))
            })?;
            op(&mut client).await.map_err(|e| {
                let error = std::io::Error::other(format!("memcached {}: {e}", server.address));
                // A broken connection is an outage; an answer we did not expect is not.
                if matches!(e, Error::Io(_)) {
                    unavailable(error)
                } else {
                    backend(error)
                }
            })
        };
        // A cancelled command leaves its connection closed, and the pool drops it.
        tokio::time::timeout(OP_TIMEOUT, attempt)
            .await
            .map_err(|_| {
                unavailable(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("memcached {} did not answer in time", server.address),
                ))
            })?
    }
}

impl MemcachedStore {
    fn lock_request<'a>(
        &self,
        id: &'a SessionId,
        timeout: Option<Duration>,
        with_session: bool,
    ) -> shared_lock::LockRequest<'a> {
        shared_lock::LockRequest {
            id,
            key: format!("{id}.lock"),
            timeout,
            lease: self.lease,
            with_session,
        }
    }
}

/// Opens and checks pooled connections.
struct Connector {
    dsn: String,
}

impl managed::Manager for Connector {
    type Type = Client;
    type Error = Error;

    async fn create(&self) -> Result<Client, Error> {
        Client::new(&self.dsn).await
    }

    async fn recycle(&self, client: &mut Client, _: &Metrics) -> RecycleResult<Error> {
        if client.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        Ok(())
    }
}

/// The lock on the servers' limits; a panic while it was held left nothing half done (each
/// change is one field), so a poisoned lock is taken as it is.
fn lock_limits(limits: &Mutex<Vec<ItemSizeMax>>) -> std::sync::MutexGuard<'_, Vec<ItemSizeMax>> {
    limits.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a server that answered is taken at memcached's default for good.
fn no_item_size_max(address: &str) -> String {
    format!(
        "the memcached server {address} gives no item size limit in its stats settings (a proxy?); taking memcached's default, {DEFAULT_ITEM_SIZE_MAX} bytes"
    )
}

/// `item_size_max` from the `stats settings` of the server of a `servers` entry (a
/// blocking exchange: at startup, or on a blocking thread); `None` when the server answers
/// without it (a proxy, which asking again will not change), an error when it does not
/// answer.
fn ask_item_size_max(entry: &str, timeout: Duration) -> std::io::Result<Option<usize>> {
    memcached_dsn(entry)
        .ok_or_else(|| std::io::Error::other("not a memcached server"))
        .and_then(|dsn| item_size_max(&dsn, timeout))
}

/// `item_size_max` from a server's `stats settings` (a blocking exchange; see
/// [`ask_item_size_max`]).
fn item_size_max(dsn: &str, timeout: Duration) -> std::io::Result<Option<usize>> {
    use std::io::{BufRead, BufReader, Read, Write};
    fn ask(stream: impl Read + Write) -> std::io::Result<Option<usize>> {
        let mut conn = BufReader::new(stream);
        conn.get_mut().write_all(b"stats settings\r\n")?;
        // Bounded: a server answers a few dozen short lines.
        let mut lines = (&mut conn).take(64 << 10).lines();
        while let Some(line) = lines.next().transpose()? {
            if let Some(size) = line.trim_end().strip_prefix("STAT item_size_max ") {
                return Ok(size.parse().ok());
            }
            if line.trim_end() == "END" || line.starts_with("ERROR") {
                return Ok(None);
            }
        }
        // The connection closed, or the answer ran past its bound, before `END`.
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "its stats settings ended early",
        ))
    }
    if let Some(path) = dsn.strip_prefix("unix://") {
        let stream = std::os::unix::net::UnixStream::connect(path)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        return ask(stream);
    }
    let address = dsn.strip_prefix("tcp://").unwrap_or(dsn);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(address)?
        .next()
        .ok_or_else(|| std::io::Error::other("no address for the name"))?;
    let stream = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    ask(stream)
}

/// `record` if its protocol 0 pickle is no longer than `stored` bytes.
fn fits_where_stored(record: Record, stored: usize) -> Result<Record, super::pickle::PickleError> {
    let expires = codec::to_local(record.expires);
    let written = super::pickle::encode_protocol0(&record.data, expires)?.len();
    if written > stored {
        return Err(super::pickle::PickleError::TooLarge(stored));
    }
    Ok(record)
}

/// The host and port of a TCP server entry (`None` for a Unix socket).
fn tcp_address(entry: &str) -> Option<(String, u16)> {
    let dsn = memcached_dsn(entry)?;
    let (host, port) = dsn.strip_prefix("tcp://")?.rsplit_once(':')?;
    Some((host.to_owned(), port.parse().ok()?))
}

/// The record as python-memcached stores it: the meta set flags of the item's expiry
/// (CherryPy's `mktime` of the naive expiry it pickles, see [`codec::mktime`]) and of the
/// pickle, and the protocol 0 pickle; `None` when that expiry has passed (memcached would
/// drop the item at once: the session is deleted instead).
fn item(record: &Record) -> Result<Option<Item>, StoreError> {
    let naive = codec::to_local(record.expires);
    let expires = codec::mktime(naive, &chrono::Local);
    if expires <= unix_seconds(SystemTime::now()) {
        return Ok(None);
    }
    let bytes = codec::encode_protocol0(&record.data, naive)?;
    let flags = [format!("T{expires}"), format!("F{FLAG_PICKLE}")];
    Ok(Some(Item { flags, bytes }))
}

/// A session as [`item`] makes it ready to store.
struct Item {
    /// The meta set flags of the expiry (`T`) and of the pickle (`F`).
    flags: [String; 2],
    bytes: Vec<u8>,
}

/// Whole seconds since the epoch, as memcached's clock counts them.
fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn is_status(err: &Error, statuses: &[Status]) -> bool {
    matches!(err, Error::Protocol(s) if statuses.contains(s))
}

impl MemcachedStore {
    /// The session under `id`, and the CAS of the value stored there, if any (a value that
    /// is not a session has one too).
    async fn fetch(&self, id: &SessionId) -> Result<(Option<Record>, Option<u64>), StoreError> {
        let key = id.as_str();
        let Some(value) = self
            .with(key, async |c| {
                c.meta_get(key, false, None, Some(&["v", "f", "c"])).await
            })
            .await?
        else {
            return Ok((None, None));
        };
        let cas = value.cas;
        let flags = value.flags.unwrap_or(0);
        let bytes = value.data.unwrap_or_default();
        if flags & FLAG_COMPRESSED != 0 || flags & FLAG_PICKLE == 0 {
            // Not a value CherryPy's MemcachedSession writes: no session, as for CherryPy.
            tracing::warn!(
                key = %redact(key),
                flags,
                "a memcached session is not a pickle; ignored"
            );
            return Ok((None, cas));
        }
        let budget = self.budget();
        let decoded = if bytes.len() > budget.max_bytes {
            // Longer than the limit this process knows, yet the server holds it: the limit
            // learned may be below the server's (memcached's default, while a server has
            // not said). What is written no longer than it is stored goes back.
            codec::decode(&bytes).and_then(|record| fits_where_stored(record, bytes.len()))
        } else {
            codec::decode_for(&bytes, budget)
        };
        match decoded {
            Ok(record) => Ok((Some(record), cas)),
            // python-memcached reads an unpicklable value as a miss.
            Err(err) if is_garbage(&err) => {
                tracing::warn!(
                    key = %redact(key),
                    error = %ErrorChain(&err),
                    "a memcached session cannot be read; ignored"
                );
                Ok((None, cas))
            }
            // A session we cannot read back (over the budget, or an object CherryPy
            // stored): the middleware opens it as an unknown one and never writes it.
            Err(err) => Err(StoreError::Undecodable(err)),
        }
    }
}

impl SessionStore for MemcachedStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        Ok(self.fetch(id).await?.0)
    }

    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        let Some(Item {
            flags: [ttl, flags],
            bytes,
        }) = item(&record)?
        else {
            return self.delete(id).await;
        };
        if self.write_session(id, &bytes, &[&ttl, &flags]).await? {
            return Ok(());
        }
        Err(backend(std::io::Error::other(format!(
            "the memcached session {} changed since this process read it under its lock (written by a CherryPy process, whose memcached locks are per process, or by a holder whose lease ran out): this request's changes are not stored",
            short(id)
        ))))
    }

    /// The record, only where one is stored (a meta set in replace mode), so a read-only
    /// request never brings back a session deleted meanwhile, nor writes its copy over
    /// another writer's change.
    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        let Some(Item {
            flags: [ttl, flags],
            bytes,
        }) = item(&record)?
        else {
            return self.delete(id).await;
        };
        // Not stored: the session is gone, or another writer changed it since this process
        // read it; either way this request's copy must not come back.
        self.write_session(id, &bytes, &["MR", &ttl, &flags])
            .await
            .map(drop)
    }

    /// The save, if the lock is still ours (see `confirm_lease`), then the release.
    async fn save_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: SessionLock,
    ) -> Result<(), StoreError> {
        self.confirm_lease(&lock).await?;
        super::save_then_release(self, id, record, lock).await
    }

    /// The extension, if the lock is still ours (see `confirm_lease`), then the release.
    async fn touch_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> Result<(), StoreError> {
        if let Some(lock) = &lock {
            self.confirm_lease(lock).await?;
        }
        super::touch_then_release(self, id, record, lock).await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.forget_version(id);
        let key = id.as_str();
        self.with(key, async |c| match c.delete(key).await {
            Err(e) if is_status(&e, &[Status::NotFound]) => Ok(()),
            other => other,
        })
        .await
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        Ok(self.load(id).await?.is_some())
    }

    async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        let lock = shared_lock::acquire(
            self,
            &self.inner.locks,
            self.lock_request(id, timeout, false),
        )
        .await?;
        // The holder loads the session with `load`, which notes no CAS: its write is not
        // compared (a previous holder's CAS would not be that of what it read).
        self.forget_version(id);
        Ok(lock)
    }

    /// The session passed on by the previous holder of the lock in this process, if it
    /// passed it on (`hand_over`), else loaded.
    async fn lock_and_load(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<(SessionLock, Option<Record>), StoreError> {
        let request = self.lock_request(id, timeout, true);
        let mut lock = shared_lock::acquire(self, &self.inner.locks, request).await?;
        let record = lock.passed_session_or(id, self.load_locked(id)).await?;
        Ok((lock, record))
    }

    /// Memcached expires sessions itself (each value's expiry is its expiration).
    async fn clean_up(&self, _now: SystemTime) -> Result<usize, StoreError> {
        Ok(0)
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn servers(&self) -> Vec<(String, u16)> {
        self.tcp_addresses()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-connection server on a free port that reads a command and answers `answer`
    /// (then closes); returns its `servers` entry.
    fn answering(answer: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut command = [0; 64];
            let _ = conn.read(&mut command);
            let _ = conn.write_all(answer.as_bytes());
        });
        address
    }

    #[test]
    fn a_server_that_answers_without_the_figure_is_not_asked_again() {
        let timeout = Duration::from_secs(2);
        let said = |answer| ask_item_size_max(&answering(answer), timeout).map_err(|e| e.kind());
        assert_eq!(
            said("STAT maxbytes 67108864\r\nSTAT item_size_max 2097152\r\nEND\r\n"),
            Ok(Some(2 << 20))
        );
        // A proxy that does not know the command, or knows it without the figure.
        assert_eq!(said("ERROR\r\n"), Ok(None));
        assert_eq!(said("STAT maxbytes 67108864\r\nEND\r\n"), Ok(None));
        // Cut off before its end: not an answer, so the server is asked again later.
        assert_eq!(
            said("STAT maxbytes 67108864\r\n"),
            Err(std::io::ErrorKind::UnexpectedEof)
        );
    }

    #[test]
    fn what_a_server_says_replaces_the_default_higher_or_lower() {
        let store = MemcachedStore::new(&["127.0.0.1:1", "127.0.0.1:2"]).unwrap();
        let limit = |said| ItemSizeMax { said, asked: None };
        let smallest = |limits: &[ItemSizeMax]| {
            store.settle_item_size_max(limits);
            let all_said = store.inner.all_said.load(Ordering::Relaxed);
            (store.inner.item_size_max.load(Ordering::Relaxed), all_said)
        };
        assert_eq!(smallest(&[limit(None), limit(None)]), (1 << 20, false));
        assert_eq!(
            smallest(&[limit(Some(8 << 20)), limit(None)]),
            (1 << 20, false)
        );
        assert_eq!(
            smallest(&[limit(Some(8 << 20)), limit(Some(2 << 20))]),
            (2 << 20, true)
        );
        assert_eq!(
            smallest(&[limit(Some(8 << 20)), limit(Some(512 << 10))]),
            (512 << 10, true)
        );
    }
}
