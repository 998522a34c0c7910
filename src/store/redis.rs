//! Redis sessions (`storage_type = "redis"`), this crate's extension: CherryPy has no Redis
//! backend. The format is that of `cherrys`, the best-known CherryPy Redis package, so a
//! CherryPy site using it shares sessions with this crate: key `prefix + id`, value a
//! pickle of `(data, expiration)`, the key's TTL the session's timeout.
//!
//! One multiplexed connection per process (redis-rs' `ConnectionManager`), opened on first
//! use and reopened after an outage; each command has a time limit, so requests fail with an
//! error during an outage rather than hang. Locks span processes ([`super::shared_lock`]).
//!
//! Through a Sentinel (cherrys' `is_sentinel`, [`RedisStore::through_sentinel`]) the
//! connection goes to the master the sentinel names. A command that fails in a way a
//! failover explains (the connection dropped or timed out, the server now a read-only
//! replica) drops that connection, and the next command asks the sentinel again, so the
//! store follows a failover without a restart. Each write (a lock taken, a session saved
//! or deleted) is then also waited for with `WAIT` until a replica has it: the write that
//! no replica confirms in time fails the request (503), so a session a response says was
//! saved is on a replica, which is what the sentinel promotes.
//!
//! In a Redis Cluster ([`RedisStore::in_cluster`], this crate's extension) the session id
//! in each key is a hash tag (`prefix{id}`, `lock_prefix{id}`), so a session's data, its
//! lock and the lock's queue share one slot: the scripts and pipelines that touch them
//! together run on one node.
//!
//! The lock is the one cherrys takes (redis-py's `Lock`), so CherryPy processes running
//! cherrys and this crate exclude each other on one Redis: the key `lock_prefix + id`
//! (default `lock_`), set with `SET key token NX [PX ms]` to a random token, deleted only
//! while it still holds that token. Ours is leased (`PX`) and renewed while held, so a
//! crashed process never leaves a session locked for longer than the lease; cherrys' lock
//! lives for `lock_timeout` seconds, or for ever when that is `None`. A lock that never
//! expires and stays with one holder for longer than [`RedisStore::with_stale_lock_after`]
//! (a CherryPy process that died holding it) fails the waiting request with
//! [`StoreError::LockTimeout`] and a log line naming the key, instead of a wait for ever.

use crate::store::{ErrorChain, redact, short};
use std::sync::{Arc, LazyLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{AsyncCommands, IntoConnectionInfo};

use super::codec::{self, is_garbage, unavailable};
use super::pickle::PickleError;
use super::shared_lock::{self, LockRequest, LockServer};
use super::{LockTable, Record, SessionLock, SessionStore, StoreError};
use crate::limits::MAX_SESSION_BYTES;
use crate::session_id::SessionId;

/// The key that holds the waiter queued for the lock `key` ([`shared_lock`]'s fairness).
fn queue_key(key: &str) -> String {
    format!("{key}:next")
}

/// How long a queued waiter's place lasts unless it renews it by trying again (it does at
/// least every few milliseconds): a waiter that went away blocks the queue no longer.
const QUEUE_HOLD: Duration = Duration::from_millis(250);

/// cherrys' default `lock_prefix`.
pub(crate) const DEFAULT_LOCK_PREFIX: &str = "lock_";

/// How long a lock that never expires may stay with one holder before a waiter gives up,
/// unless the store is given another limit.
const DEFAULT_STALE_LOCK_AFTER: Duration = Duration::from_secs(60);

/// The longest a command may take before the request fails.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest a (re)connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A Redis server holding sessions, as `cherrys` keeps them. Cheap to clone; clones share
/// the connection.
///
/// ```no_run
/// use actix_cherrypy::store::{RedisStore, SessionStore};
/// use actix_cherrypy::session_id::SessionId;
///
/// # async fn run() -> Result<(), actix_cherrypy::store::StoreError> {
/// // What `tools.sessions.storage_class = cherrys.RedisSession` with `url` and
/// // `prefix = 'session:'` opens: CherryPy processes with cherrys on the same Redis
/// // share these sessions and their locks.
/// let store = RedisStore::new("redis://127.0.0.1:6379/0", "session:")?
///     .with_lock_prefix("lock_")?;
/// let id = SessionId::generate();
/// let lock = store.lock(&id, Some(std::time::Duration::from_secs(5))).await?;
/// assert!(store.load(&id).await?.is_none());
/// drop(lock);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
    lease: Duration,
}

pub(crate) struct Inner {
    /// The server; through a sentinel, the sentinel (for what the store reports of itself).
    client: redis::Client,
    /// With a sentinel: where the master is asked for.
    sentinel: Option<Arc<Sentinel>>,
    /// In a Redis Cluster: the cluster, known by the node `client` names.
    cluster: Option<redis::cluster::ClusterClient>,
    connection: Connections,
    /// See [`RedisStore::with_replica_acks`].
    replica_acks: Option<ReplicaAcks>,
    prefix: String,
    /// The lock's key is `lock_prefix + id`, as cherrys makes it.
    lock_prefix: String,
    /// See [`RedisStore::with_stale_lock_after`].
    stale_lock_after: Duration,
    locks: LockTable,
    /// The server locks held, renewed by one task.
    renewals: Arc<shared_lock::Renewals>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.inner.client.get_connection_info().addr)
            .field("db", &self.inner.client.get_connection_info().redis.db)
            .field(
                "sentinel_service",
                &self.inner.sentinel.as_ref().map(|s| &s.service),
            )
            .field("cluster", &self.inner.cluster.is_some())
            .field("prefix", &self.inner.prefix)
            .field("lock_prefix", &self.inner.lock_prefix)
            .finish()
    }
}

impl RedisStore {
    /// How long a session lock outlives a holder that stops renewing it (a process that
    /// crashed while holding it); the holder renews it every third of that. Default 30 s.
    #[must_use]
    pub fn with_lock_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The key of a session's lock is `lock_prefix + id` (cherrys' `lock_prefix`, default
    /// `lock_`). It must differ from the data's `prefix` (cherrys asserts the same): both
    /// keys would be one.
    pub fn with_lock_prefix(self, lock_prefix: impl Into<String>) -> Result<Self, StoreError> {
        let lock_prefix = lock_prefix.into();
        check_prefixes(&self.inner.prefix, &lock_prefix)?;
        let stale_lock_after = self.inner.stale_lock_after;
        Ok(self.rebuilt(|inner| Inner {
            lock_prefix,
            stale_lock_after,
            ..inner
        }))
    }

    /// How long a session lock that never expires (one cherrys takes with
    /// `lock_timeout = None`) may stay with one holder before a request waiting for it
    /// fails with [`StoreError::LockTimeout`] and a logged warning naming the key. CherryPy
    /// would wait for ever for such a lock, left behind by a process that died holding it.
    /// Default 60 s. Locks that expire (ours, cherrys' with a `lock_timeout`) are waited
    /// for as the middleware asks (`lock_timeout`, else for ever).
    #[must_use]
    pub fn with_stale_lock_after(self, limit: Duration) -> Self {
        self.rebuilt(|inner| Inner {
            stale_lock_after: limit,
            ..inner
        })
    }

    /// The store with `change` made to its settings: in place before the store is shared,
    /// else on a fresh handle that shares nothing with the clones (no lock held yet can be
    /// lost by this, as only clones hold it).
    fn rebuilt(self, change: impl FnOnce(Inner) -> Inner) -> Self {
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                client: shared.client.clone(),
                sentinel: shared.sentinel.clone(),
                cluster: shared.cluster.clone(),
                connection: Connections::default(),
                replica_acks: shared.replica_acks,
                prefix: shared.prefix.clone(),
                lock_prefix: shared.lock_prefix.clone(),
                stale_lock_after: shared.stale_lock_after,
                locks: LockTable::default(),
                renewals: Arc::default(),
            },
        };
        Self {
            inner: Arc::new(change(inner)),
            lease: self.lease,
        }
    }

    /// A store on the server at `url` (`redis://[user:password@]host:port/db`), keys starting
    /// with `prefix`, lock keys with `lock_`. Nothing is connected until the first request,
    /// so a server that is down at startup fails requests, not the startup; a malformed URL,
    /// or a `prefix` of `lock_`, is an error here.
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, StoreError> {
        let mut info = url.into_connection_info().map_err(backend)?;
        // redis-rs reads a `#insecure` fragment as "do not verify the certificate";
        // redis-py, under cherrys, ignores it and verifies, and so does this store.
        if let redis::ConnectionAddr::TcpTls { insecure, .. } = &mut info.addr {
            *insecure = false;
        }
        let client = redis::Client::open(info).map_err(backend)?;
        Self::with_client(client, prefix.into())
    }

    /// A store on `host:port`, database `db`, with optional ACL user and password (the
    /// `cherrys` options).
    pub fn from_parts(
        host: &str,
        port: u16,
        db: i64,
        user: Option<&str>,
        password: Option<&str>,
        prefix: impl Into<String>,
    ) -> Result<Self, StoreError> {
        let info = redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp(host.to_owned(), port),
            redis: redis::RedisConnectionInfo {
                db,
                username: user.map(str::to_owned),
                password: password.map(str::to_owned),
                ..Default::default()
            },
        };
        let client = redis::Client::open(info).map_err(backend)?;
        Self::with_client(client, prefix.into())
    }

    /// The same server reached over TLS, as cherrys' `ssl = True` does without `url`: the
    /// server's certificate is verified against the system's trusted roots (which
    /// `SSL_CERT_FILE`/`SSL_CERT_DIR` replace), and its name against `host`. A `rediss://`
    /// URL given to [`Self::new`] does the same.
    pub fn over_tls(self) -> Result<Self, StoreError> {
        let info = self.inner.client.get_connection_info();
        let addr = match &info.addr {
            redis::ConnectionAddr::Tcp(host, port) => redis::ConnectionAddr::TcpTls {
                host: host.clone(),
                port: *port,
                insecure: false,
                tls_params: None,
            },
            other => other.clone(),
        };
        let info = redis::ConnectionInfo {
            addr,
            redis: info.redis.clone(),
        };
        use_tls_provider(&info);
        let client = redis::Client::open(info).map_err(backend)?;
        Ok(self.rebuilt(|inner| Inner {
            client,
            connection: Connections::default(),
            ..inner
        }))
    }

    /// A store on the master that a Redis Sentinel names, as cherrys' `is_sentinel = True`
    /// reaches it: the sentinel at `options.host:options.port` is asked for the master of
    /// `options.service`, and asked again after a failover. Database 0, as cherrys (which
    /// passes no `db` in this mode). Writes wait for one replica (see
    /// [`Self::with_replica_acks`]). Nothing is connected until the first request.
    pub fn through_sentinel(
        options: &SentinelOptions,
        prefix: impl Into<String>,
    ) -> Result<Self, StoreError> {
        let sentinel = Sentinel::new(options)?;
        // What the store reports of itself (and the startup check reaches): the sentinel.
        let client = redis::Client::open(redis::ConnectionInfo {
            addr: redis::ConnectionAddr::Tcp(options.host.clone(), options.port),
            redis: redis::RedisConnectionInfo::default(),
        })
        .map_err(backend)?;
        let store = Self::with_client(client, prefix.into())?;
        Ok(store.rebuilt(|inner| Inner {
            sentinel: Some(Arc::new(sentinel)),
            replica_acks: Some(ReplicaAcks::SENTINEL_DEFAULT),
            ..inner
        }))
    }

    /// The same server as one node of a Redis Cluster (`tools.sessions.cluster = True`,
    /// this crate's extension): the cluster's other nodes are learnt from it, and each
    /// command goes to the node holding its keys. The keys are `prefix{id}` and
    /// `lock_prefix{id}` (a hash tag, so that a session's keys share a slot), where a
    /// store outside a cluster uses cherrys' `prefix + id`. Call it after
    /// [`Self::over_tls`]; a database other than 0 is an error (a cluster has only 0).
    pub fn in_cluster(self) -> Result<Self, StoreError> {
        let info = self.inner.client.get_connection_info().clone();
        if info.redis.db != 0 {
            return Err(StoreError::Backend(
                format!("a Redis Cluster has only database 0, not {}", info.redis.db).into(),
            ));
        }
        let waits = self
            .inner
            .replica_acks
            .map_or(Duration::ZERO, |a| a.timeout);
        let cluster = redis::cluster::ClusterClientBuilder::new(vec![info])
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT + waits)
            .retries(1)
            .build()
            .map_err(backend)?;
        Ok(self.rebuilt(|inner| Inner {
            cluster: Some(cluster),
            connection: Connections::default(),
            ..inner
        }))
    }

    /// After each write (a lock taken, a session saved or deleted), wait with `WAIT` until
    /// `replicas` replicas have it, for at most `timeout`; a write that fewer confirm in
    /// time fails with [`StoreError::Unavailable`] (the write itself may still reach
    /// them). With a sentinel this is one replica and 500 ms unless set here; elsewhere
    /// it is off. `replicas == 0` turns it off. `timeout` is added to the time a command
    /// may take before the request fails.
    #[must_use]
    pub fn with_replica_acks(self, replicas: u32, timeout: Duration) -> Self {
        let replica_acks = (replicas > 0).then_some(ReplicaAcks { replicas, timeout });
        self.rebuilt(|inner| Inner {
            replica_acks,
            connection: Connections::default(),
            ..inner
        })
    }

    /// The server's host and port, where it is reached over TCP (for the startup check).
    pub(crate) fn tcp_address(&self) -> Option<(String, u16)> {
        match &self.inner.client.get_connection_info().addr {
            redis::ConnectionAddr::Tcp(host, port)
            | redis::ConnectionAddr::TcpTls { host, port, .. } => Some((host.clone(), *port)),
            _ => None,
        }
    }

    fn with_client(client: redis::Client, prefix: String) -> Result<Self, StoreError> {
        check_prefixes(&prefix, DEFAULT_LOCK_PREFIX)?;
        use_tls_provider(client.get_connection_info());
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                sentinel: None,
                cluster: None,
                connection: Connections::default(),
                replica_acks: None,
                prefix,
                lock_prefix: DEFAULT_LOCK_PREFIX.to_owned(),
                stale_lock_after: DEFAULT_STALE_LOCK_AFTER,
                locks: LockTable::default(),
                renewals: Arc::default(),
            }),
            lease: shared_lock::DEFAULT_LEASE,
        })
    }

    /// The connection, opened if there is none (first use, or dropped after a failover).
    async fn connection(&self) -> Result<Conn, StoreError> {
        let connections = &self.inner.connection;
        let conn = |(generation, manager)| Conn {
            manager,
            generation,
            store: self.inner.clone(),
        };
        if let Some(current) = connections.current() {
            return Ok(conn(current));
        }
        // One opening at a time: the requests that find no connection wait for it.
        let mut opened = connections.opening.lock().await;
        if let Some(current) = connections.current() {
            return Ok(conn(current));
        }
        let manager = self.open().await?;
        *opened += 1;
        let current = (*opened, manager);
        *connections
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(current.clone());
        Ok(conn(current))
    }

    /// A new connection to the server, or to the master the sentinel names now.
    async fn open(&self) -> Result<Link, StoreError> {
        let waits = self
            .inner
            .replica_acks
            .map_or(Duration::ZERO, |a| a.timeout);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT + waits)
            .set_number_of_retries(1)
            .set_max_delay(200);
        if let Some(cluster) = &self.inner.cluster {
            return cluster
                .get_async_connection()
                .await
                .map(Link::Cluster)
                .map_err(backend);
        }
        let client = match &self.inner.sentinel {
            None => self.inner.client.clone(),
            Some(sentinel) => sentinel.master().await?,
        };
        ConnectionManager::new_with_config(client, config)
            .await
            .map(|manager| Link::Single(Box::new(manager)))
            .map_err(backend)
    }

    /// Unless turned off, `WAIT` for the replicas to have this connection's writes; an
    /// error if too few confirm them in time.
    async fn replicated(&self, redis: &mut Conn) -> Result<(), StoreError> {
        let Some(acks) = self.inner.replica_acks else {
            return Ok(());
        };
        let acked: i64 = acks.command().query_async(redis).await.map_err(backend)?;
        redis.enough(acks, acked)
    }

    fn key(&self, id: &SessionId) -> String {
        self.key_of(&self.inner.prefix, id)
    }

    /// The key of `id`'s lock, cherrys' `lock_prefix + id`.
    fn lock_key(&self, id: &SessionId) -> String {
        self.key_of(&self.inner.lock_prefix, id)
    }

    /// `prefix + id`; in a cluster `prefix{id}`, a hash tag (the slot is that of the id
    /// alone, unless `prefix` holds a `{…}` of its own, which then puts every session in
    /// its slot).
    fn key_of(&self, prefix: &str, id: &SessionId) -> String {
        if self.inner.cluster.is_some() {
            format!("{prefix}{{{id}}}")
        } else {
            format!("{prefix}{id}")
        }
    }
}

/// For a TLS connection: rustls' default crypto provider, unless the application installed
/// one. redis' rustls support leaves the choice to the application, and rustls cannot make
/// it alone when a build has both of its providers: its connection would panic.
fn use_tls_provider(info: &redis::ConnectionInfo) {
    if matches!(info.addr, redis::ConnectionAddr::TcpTls { .. })
        && rustls::crypto::CryptoProvider::get_default().is_none()
    {
        // An error only means that another thread installed one meanwhile.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// cherrys' `assert cls.prefix != cls.lock_prefix`: otherwise a session's data would be
/// its own lock (its lock could never be taken while the session exists).
fn check_prefixes(prefix: &str, lock_prefix: &str) -> Result<(), StoreError> {
    if prefix == lock_prefix {
        return Err(StoreError::Backend(
            format!("the Redis prefix and lock_prefix are both {prefix:?}: a session's data and its lock would share one key").into(),
        ));
    }
    Ok(())
}

/// What an attempt that took the lock read of the session's key: nothing when the script
/// was not given the key, else its first bytes (see [`read_value`]), `None` when there is
/// no such key.
type Read = Option<Option<Vec<u8>>>;

/// What an attempt on the lock found, from [`ACQUIRE_SOURCE`]'s reply.
enum Attempt {
    Taken(Read),
    /// Held by a lock that expires (ours, or cherrys' with a `lock_timeout`), or queued.
    Busy,
    /// Held by the token given, in a key that never expires (cherrys without
    /// `lock_timeout`).
    HeldForEver(Vec<u8>),
}

impl Attempt {
    fn from_reply(reply: redis::Value) -> Result<Self, StoreError> {
        match reply {
            redis::Value::Int(1) => Ok(Attempt::Taken(None)),
            redis::Value::Array(reply) => match <[redis::Value; 3]>::try_from(reply) {
                Ok(
                    [
                        redis::Value::Int(1),
                        redis::Value::Int(exists),
                        redis::Value::BulkString(data),
                    ],
                ) => Ok(Attempt::Taken(Some((exists == 1).then_some(data)))),
                Ok(other) => Err(StoreError::Backend(
                    format!("unexpected reply to the lock script: {other:?}").into(),
                )),
                Err(other) => Err(StoreError::Backend(
                    format!("unexpected reply to the lock script: {other:?}").into(),
                )),
            },
            redis::Value::Int(_) => Ok(Attempt::Busy),
            redis::Value::BulkString(holder) => Ok(Attempt::HeldForEver(holder)),
            other => Err(StoreError::Backend(
                format!("unexpected reply to the lock script: {other:?}").into(),
            )),
        }
    }
}

/// Follows the holder of a lock that never expires across the attempts of one wait: the
/// wait fails once one holder has kept it for longer than the store's limit.
struct StaleWatch {
    holder: Option<(Vec<u8>, Instant)>,
    limit: Duration,
}

impl StaleWatch {
    fn new(limit: Duration) -> Self {
        Self {
            holder: None,
            limit,
        }
    }

    /// `Some` (with what the attempt read) when the lock was taken; an error once a
    /// never-expiring lock is stale.
    fn taken(
        &mut self,
        attempt: Attempt,
        id: &SessionId,
        key: &str,
    ) -> Result<Option<Read>, StoreError> {
        let holder = match attempt {
            Attempt::Taken(read) => return Ok(Some(read)),
            Attempt::Busy => {
                self.holder = None;
                return Ok(None);
            }
            Attempt::HeldForEver(holder) => holder,
        };
        let now = Instant::now();
        match &self.holder {
            Some((seen, since)) if *seen == holder => {
                if now.duration_since(*since) >= self.limit {
                    tracing::warn!(
                        lock = %redact(key),
                        held_for_s = self.limit.as_secs_f64(),
                        "a session lock that never expires (cherrys' lock with lock_timeout = None) is still held by one holder, perhaps a CherryPy process that died holding it; giving up (delete the key, or set tools.sessions.lock_timeout)"
                    );
                    return Err(StoreError::LockTimeout(*id));
                }
            }
            _ => self.holder = Some((holder, now)),
        }
        Ok(None)
    }
}

/// A failure as the store reports it: a server that cannot be reached, a dropped
/// connection, a timeout, or a server that no longer takes writes (a master turned replica
/// by a failover) is an outage ([`StoreError::Unavailable`]), anything else a backend
/// failure.
fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    let outage = (&e as &dyn std::any::Any)
        .downcast_ref::<redis::RedisError>()
        .is_some_and(|e| points_elsewhere(e) && !is_refused_certificate(e));
    if outage {
        unavailable(e)
    } else {
        codec::backend(e)
    }
}

/// Adds the reads of a stored value to `pipe`: whether it exists (`GETRANGE` of a missing
/// key is empty, as is an empty value) and at most one byte more than the budget of the
/// value, so a value over the budget is never brought into memory whole.
fn read_value(pipe: &mut redis::Pipeline, key: &str) {
    pipe.cmd("EXISTS")
        .arg(key)
        .cmd("GETRANGE")
        .arg(key)
        .arg(0)
        .arg(MAX_SESSION_BYTES);
}

impl RedisStore {
    /// A stored value as a record (`None`: nothing stored).
    fn record(&self, id: &SessionId, bytes: Option<Vec<u8>>) -> Result<Option<Record>, StoreError> {
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        if bytes.len() > MAX_SESSION_BYTES {
            return Err(StoreError::Undecodable(PickleError::TooLarge(
                MAX_SESSION_BYTES,
            )));
        }
        match codec::decode(&bytes) {
            Ok(record) => Ok(Some(record)),
            Err(err) if is_garbage(&err) => {
                tracing::warn!(
                    session = short(id),
                    error = %ErrorChain(&err),
                    "a Redis session cannot be read; treated as empty"
                );
                Ok(Some(Record {
                    data: Default::default(),
                    expires: SystemTime::UNIX_EPOCH,
                }))
            }
            // A session we cannot read back (over the budget, or an object CherryPy
            // stored): the middleware opens it as an unknown one and never writes it.
            Err(err) => Err(StoreError::Undecodable(err)),
        }
    }
}

impl RedisStore {
    /// The save (`SET … PX`, with `XX` for a touch) and, with `release`, the lock's release
    /// after it, in one script: one round trip.
    async fn write_and_release(
        &self,
        id: &SessionId,
        record: &Record,
        ttl: Duration,
        write: Write,
        release: Option<&(String, String)>,
    ) -> Result<(), StoreError> {
        // Byte for byte what cherrys writes for the same session (see `pickle::encode_highest`).
        let bytes = codec::encode_highest(record)?;
        // Milliseconds, so a fractional timeout (`timeout = 0.5`) is kept exactly.
        let ttl_ms = millis(ttl);
        let only_if_stored = write == Write::OnlyIfStored;
        let mut redis = self.connection().await?;
        if let Some((key, token)) = release {
            RELEASE
                .key(key)
                .key(queue_key(key))
                .key(self.key(id))
                .arg(token)
                .arg(millis(shared_lock::HANDED_OVER_LEASE))
                .arg(bytes)
                .arg(ttl_ms)
                .arg(if only_if_stored { "XX" } else { "" })
                .invoke_async::<i64>(&mut redis)
                .await
                .map_err(backend)?;
            return self.replicated(&mut redis).await;
        }
        let mut pipe = redis::pipe();
        let set = pipe
            .cmd("SET")
            .arg(self.key(id))
            .arg(bytes)
            .arg("PX")
            .arg(ttl_ms);
        if only_if_stored {
            set.arg("XX");
        }
        set.ignore();
        match self.inner.replica_acks {
            None => pipe.query_async::<()>(&mut redis).await.map_err(backend),
            Some(acks) => {
                pipe.add_command(acks.command());
                let (acked,): (i64,) = pipe.query_async(&mut redis).await.map_err(backend)?;
                redis.enough(acks, acked)
            }
        }
    }
}

/// Whether a write may create the key or only replace what is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// A save: the session is stored, whatever was there.
    Always,
    /// A read-only request's touch: a session deleted meanwhile stays deleted.
    OnlyIfStored,
}

/// How long Redis keeps a record: until it expires (CherryPy's cherrys: TTL = timeout).
fn ttl(record: &Record) -> Duration {
    record
        .expires
        .duration_since(SystemTime::now())
        .unwrap_or_default()
}

impl SessionStore for RedisStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        let mut redis = self.connection().await?;
        let mut pipe = redis::pipe();
        read_value(pipe.atomic(), &self.key(id));
        let (exists, bytes): (bool, Vec<u8>) =
            pipe.query_async(&mut redis).await.map_err(backend)?;
        self.record(id, exists.then_some(bytes))
    }

    /// The lock and the data in one round trip (one script takes the lock and reads the
    /// value), unless the lock is handed over inside this process.
    async fn lock_and_load(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<(SessionLock, Option<Record>), StoreError> {
        let redis = self.connection().await?;
        let data_key = self.key(id);
        let lease_ms = self.lease.as_millis() as u64;
        let watch = std::sync::Mutex::new(StaleWatch::new(self.inner.stale_lock_after));
        let attempt = |lock_key: String, token: String| {
            let (mut redis, data_key, watch) = (redis.clone(), &data_key, &watch);
            async move {
                let reply: redis::Value = ACQUIRE
                    .key(&lock_key)
                    .key(queue_key(&lock_key))
                    .key(data_key)
                    .arg(&token)
                    .arg(lease_ms)
                    .arg(millis(QUEUE_HOLD))
                    .arg(MAX_SESSION_BYTES)
                    .invoke_async(&mut redis)
                    .await
                    .map_err(backend)?;
                let taken = watch.lock().unwrap_or_else(PoisonError::into_inner).taken(
                    Attempt::from_reply(reply)?,
                    id,
                    &lock_key,
                )?;
                if taken.is_some() {
                    // Lost in a failover, the lock would let a second holder in.
                    self.replicated(&mut redis).await?;
                }
                Ok(taken.map(Option::flatten))
            }
        };
        let request = LockRequest {
            id,
            key: self.lock_key(id),
            timeout,
            lease: self.lease,
            with_session: true,
        };
        let (mut lock, fetched) =
            shared_lock::acquire_with(self, &self.inner.locks, request, attempt).await?;
        let record = match fetched {
            Some(bytes) => {
                let record = self.record(id, bytes)?;
                if let Some(baton) = lock.baton(id) {
                    baton.loaded(record.as_ref());
                }
                record
            }
            // Handed over by a request of this process: with the session, if it passed it on.
            None => match lock.baton(id) {
                Some(baton) => baton.session_or(self.load(id)).await?,
                None => self.load(id).await?,
            },
        };
        Ok((lock, record))
    }
    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        let ttl = ttl(&record);
        if ttl.is_zero() {
            return self.delete(id).await;
        }
        self.write_and_release(id, &record, ttl, Write::Always, None)
            .await
    }

    /// A write that only replaces (`SET … XX`): a session deleted meanwhile stays deleted.
    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        let ttl = ttl(&record);
        if ttl.is_zero() {
            return self.delete(id).await;
        }
        self.write_and_release(id, &record, ttl, Write::OnlyIfStored, None)
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        let mut redis = self.connection().await?;
        redis.del::<_, ()>(self.key(id)).await.map_err(backend)?;
        self.replicated(&mut redis).await
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        let mut redis = self.connection().await?;
        redis.exists(self.key(id)).await.map_err(backend)
    }

    async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        let key = self.lock_key(id);
        let watch = std::sync::Mutex::new(StaleWatch::new(self.inner.stale_lock_after));
        let attempt = |key: String, token: String| {
            let watch = &watch;
            async move {
                let reply = self.acquire_reply(&key, &token, self.lease).await?;
                let taken = watch
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .taken(reply, id, &key)?;
                Ok(taken.map(drop))
            }
        };
        let request = LockRequest {
            id,
            key,
            timeout,
            lease: self.lease,
            with_session: false,
        };
        let (lock, _) =
            shared_lock::acquire_with(self, &self.inner.locks, request, attempt).await?;
        Ok(lock)
    }

    /// Redis expires sessions itself (each key's TTL is its timeout).
    async fn clean_up(&self, _now: SystemTime) -> Result<usize, StoreError> {
        Ok(0)
    }

    /// The touch and the lock's release in one round trip.
    async fn touch_and_release(
        &self,
        id: &SessionId,
        record: Record,
        mut lock: Option<SessionLock>,
    ) -> Result<(), StoreError> {
        let ttl = ttl(&record);
        let release = lock.as_mut().and_then(SessionLock::take_server_release);
        let result = if ttl.is_zero() {
            self.delete(id).await
        } else {
            self.write_and_release(id, &record, ttl, Write::OnlyIfStored, release.as_ref())
                .await
        };
        if let Some((key, token)) = release
            && (result.is_err() || ttl.is_zero())
        {
            // The pipeline did not run (or had no release in it): release on its own, so
            // the session is not blocked for a lease.
            shared_lock::release_or_warn(self, &key, &token).await;
        }
        drop(lock);
        result
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn servers(&self) -> Vec<(String, u16)> {
        self.tcp_address().into_iter().collect()
    }
}

/// Extends the lease only while the key holds our token.
static RENEW: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
    )
});
/// [`LockServer::try_acquire`]: KEYS = lock, queue[, data]; ARGV = token, lease ms, queue
/// hold ms[, most bytes to read]. Returns 1 when the lock is ours (with the data key: `{1,
/// exists, its first bytes}`, the reads of [`read_value`]); else the holder's token when
/// its key never expires (cherrys' lock without `lock_timeout`), else 0. The lock itself is redis-py's: the key
/// holds the holder's token, with a `PX` lease; cherrys' `SET NX` sees it as taken. The
/// queue key is ours alone (cherrys ignores it, so it may overtake a queued waiter of
/// ours, as two cherrys processes overtake each other).
const ACQUIRE_SOURCE: &str = r"
local holder = redis.call('get', KEYS[1])
local queued = redis.call('get', KEYS[2])
if holder == ARGV[1] or (not holder and (not queued or queued == ARGV[1])) then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if queued == ARGV[1] then redis.call('del', KEYS[2]) end
  if KEYS[3] then
    return {1, redis.call('exists', KEYS[3]), redis.call('getrange', KEYS[3], 0, ARGV[4])}
  end
  return 1
end
if not queued then
  redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[3])
elseif queued == ARGV[1] then
  redis.call('pexpire', KEYS[2], ARGV[3])
end
if holder and redis.call('pttl', KEYS[1]) == -1 then return holder end
return 0
";
static ACQUIRE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(ACQUIRE_SOURCE));

/// [`LockServer::release`]: KEYS = lock, queue[, data]; ARGV = token, handed-over lease
/// ms[, value, TTL ms, "XX" or ""]. With the data key, the value is written first (`SET …
/// PX`, and `XX` when asked: a touch), whoever holds the lock: the caller holds it.
const RELEASE_SOURCE: &str = r"
if KEYS[3] then
  if ARGV[5] == 'XX' then
    redis.call('set', KEYS[3], ARGV[3], 'PX', ARGV[4], 'XX')
  else
    redis.call('set', KEYS[3], ARGV[3], 'PX', ARGV[4])
  end
end
local queued = redis.call('get', KEYS[2])
if queued == ARGV[1] then
  redis.call('del', KEYS[2])
  queued = false
end
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if queued then
  redis.call('set', KEYS[1], queued, 'PX', ARGV[2])
  redis.call('del', KEYS[2])
  return 2
end
return redis.call('del', KEYS[1])
";
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RELEASE_SOURCE));

impl RedisStore {
    /// One run of [`ACQUIRE_SOURCE`].
    async fn acquire_reply(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> Result<Attempt, StoreError> {
        let mut redis = self.connection().await?;
        let reply: redis::Value = ACQUIRE
            .key(key)
            .key(queue_key(key))
            .arg(token)
            .arg(millis(lease))
            .arg(millis(QUEUE_HOLD))
            .invoke_async(&mut redis)
            .await
            .map_err(backend)?;
        let attempt = Attempt::from_reply(reply)?;
        if matches!(attempt, Attempt::Taken(_)) {
            // Lost in a failover, the lock would let a second holder in.
            self.replicated(&mut redis).await?;
        }
        Ok(attempt)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl LockServer for RedisStore {
    shared_lock::store_handles!();

    async fn try_acquire(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        Ok(matches!(
            self.acquire_reply(key, token, lease).await?,
            Attempt::Taken(_)
        ))
    }

    async fn renew(&self, key: &str, token: &str, lease: Duration) -> Result<bool, StoreError> {
        let mut redis = self.connection().await?;
        let renewed: i64 = RENEW
            .key(key)
            .arg(token)
            .arg(lease.as_millis() as u64)
            .invoke_async(&mut redis)
            .await
            .map_err(backend)?;
        Ok(renewed == 1)
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let mut redis = self.connection().await?;
        RELEASE
            .key(key)
            .key(queue_key(key))
            .arg(token)
            .arg(millis(shared_lock::HANDED_OVER_LEASE))
            .invoke_async::<i64>(&mut redis)
            .await
            .map(drop)
            .map_err(backend)
    }
}

/// How a store reaches a Redis master through a Sentinel: cherrys' `is_sentinel = True`
/// with `host`, `port`, `sentinel_service`, `sentinel_pass`, `user`, `password`, `ssl`
/// and `tls_skip_verify`. Build it with [`SentinelOptions::new`], then set the fields it
/// needs.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct SentinelOptions {
    /// The sentinel's host (cherrys' `host`).
    pub host: String,
    /// The sentinel's port (cherrys' `port`; sentinels usually listen on 26379).
    pub port: u16,
    /// The master's name at the sentinel (cherrys' `sentinel_service`).
    pub service: String,
    /// The ACL user on the master and its replicas (cherrys' `user`).
    pub user: Option<String>,
    /// The password on the master and its replicas (cherrys' `password`).
    pub password: Option<String>,
    /// The sentinel's own password (cherrys' `sentinel_pass`).
    pub sentinel_password: Option<String>,
    /// TLS to the sentinel and to the master (cherrys' `ssl`).
    pub tls: bool,
    /// With `tls`, accept any certificate (cherrys' `tls_skip_verify`, which in this mode
    /// turns redis-py's certificate check off).
    pub tls_skip_verify: bool,
}

impl SentinelOptions {
    /// The sentinel at `host:port`, asked for the master named `service`; no passwords,
    /// no TLS.
    pub fn new(host: impl Into<String>, port: u16, service: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            service: service.into(),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for SentinelOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Passwords never reach a log.
        f.debug_struct("SentinelOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("service", &self.service)
            .field("user", &self.user)
            .field("tls", &self.tls)
            .field("tls_skip_verify", &self.tls_skip_verify)
            .finish_non_exhaustive()
    }
}

/// The sentinel a store asks for its master.
struct Sentinel {
    /// redis-rs' client asks one question at a time.
    client: tokio::sync::Mutex<SentinelClient>,
    service: String,
}

impl Sentinel {
    fn new(options: &SentinelOptions) -> Result<Self, StoreError> {
        let (host, port) = (options.host.clone(), options.port);
        let address = if options.tls {
            redis::ConnectionAddr::TcpTls {
                host,
                port,
                insecure: options.tls_skip_verify,
                tls_params: None,
            }
        } else {
            redis::ConnectionAddr::Tcp(host, port)
        };
        let mut builder = SentinelClientBuilder::new(
            [address.clone()],
            options.service.clone(),
            SentinelServerType::Master,
        )
        .map_err(backend)?;
        if options.tls {
            let mode = if options.tls_skip_verify {
                redis::TlsMode::Insecure
            } else {
                redis::TlsMode::Secure
            };
            builder = builder
                .set_client_to_redis_tls_mode(mode)
                .set_client_to_sentinel_tls_mode(mode);
            use_tls_provider(&redis::ConnectionInfo {
                addr: address,
                redis: redis::RedisConnectionInfo::default(),
            });
        }
        if let Some(user) = &options.user {
            builder = builder.set_client_to_redis_username(user.clone());
        }
        if let Some(password) = &options.password {
            builder = builder.set_client_to_redis_password(password.clone());
        }
        if let Some(password) = &options.sentinel_password {
            builder = builder.set_client_to_sentinel_password(password.clone());
        }
        Ok(Self {
            client: tokio::sync::Mutex::new(builder.build().map_err(backend)?),
            service: options.service.clone(),
        })
    }

    /// A client for the master the sentinel names now (it has checked that the server
    /// says it is a master). A failure is an outage (during a failover the sentinel may
    /// name no master for a moment), unless a certificate or a password was refused.
    async fn master(&self) -> Result<redis::Client, StoreError> {
        let mut client = self.client.lock().await;
        // The sentinel and then the master are asked, each over a new connection.
        match tokio::time::timeout(
            CONNECT_TIMEOUT + RESPONSE_TIMEOUT,
            client.async_get_client(),
        )
        .await
        {
            Ok(Ok(master)) => Ok(master),
            // A certificate that fails verification, or a password refused, is to be
            // fixed, not waited out.
            Ok(Err(e)) if is_refused_certificate(&e) || is_refused_password(&e) => {
                Err(codec::backend(e))
            }
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the sentinel did not name the master of {:?} in time",
                    self.service
                ),
            ))),
        }
    }
}

/// The store's connection: none yet, or the one in use with its generation (a number that
/// tells a connection from the one that replaced it).
#[derive(Default)]
struct Connections {
    current: std::sync::Mutex<Option<(u64, Link)>>,
    /// Held while a connection is opened; the count of connections opened.
    opening: tokio::sync::Mutex<u64>,
}

impl Connections {
    fn current(&self) -> Option<(u64, Link)> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops the connection `generation` (not one that already replaced it).
    fn forget(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|(g, _)| *g == generation) {
            *current = None;
        }
    }
}

/// A TLS handshake that failed on the server's certificate (rustls reports it as invalid
/// data): a configuration to fix, not an outage to wait out.
fn is_refused_certificate(e: &redis::RedisError) -> bool {
    std::error::Error::source(e)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
}

/// A server that refused our credentials (or wanted some).
fn is_refused_password(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
}

/// A command's error that a failover explains: the server went away, did not answer,
/// answers that it is a replica now (`READONLY`, also inside a transaction's abort), or
/// (in a cluster) that the cluster is down or its slot is moving.
fn points_elsewhere(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            redis::ErrorKind::ReadOnly
                | redis::ErrorKind::MasterDown
                | redis::ErrorKind::ClusterDown
                | redis::ErrorKind::TryAgain
        )
        || e.to_string().contains("READONLY")
}

/// The connection a command goes over. Through a sentinel, a failure that a failover
/// explains drops it from the store, so the next command asks the sentinel again.
#[derive(Clone)]
struct Conn {
    manager: Link,
    generation: u64,
    store: Arc<Inner>,
}

impl Conn {
    fn failed(&self, e: &redis::RedisError) {
        if self.store.sentinel.is_some() && points_elsewhere(e) {
            self.store.connection.forget(self.generation);
        }
    }

    /// Whether `acked` replicas are enough; if not, an outage, and through a sentinel the
    /// connection is dropped (the master may have been replaced).
    fn enough(&self, acks: ReplicaAcks, acked: i64) -> Result<(), StoreError> {
        if acked >= i64::from(acks.replicas) {
            return Ok(());
        }
        if self.store.sentinel.is_some() {
            self.store.connection.forget(self.generation);
        }
        Err(unavailable(std::io::Error::other(format!(
            "a write reached {acked} of the {} Redis replicas it waits for within {} ms (a failover, or a replica down?)",
            acks.replicas,
            acks.timeout.as_millis()
        ))))
    }
}

impl redis::aio::ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let reply = self.manager.req_packed_command(cmd).await;
            if let Err(e) = &reply {
                self.failed(e);
            }
            reply
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move {
            let reply = self
                .manager
                .req_packed_commands(pipeline, offset, count)
                .await;
            match &reply {
                Err(e) => self.failed(e),
                // Errors inside a pipeline's replies (a write refused by a replica).
                Ok(values) => {
                    for value in values {
                        if let redis::Value::ServerError(e) = value {
                            self.failed(&redis::RedisError::from(e.clone()));
                        }
                    }
                }
            }
            reply
        })
    }

    fn get_db(&self) -> i64 {
        self.manager.get_db()
    }
}

/// A connection to one server (reopened by redis-rs after an outage), or to a cluster.
#[derive(Clone)]
enum Link {
    // Boxed: a cluster connection is a pointer, a connection manager much larger.
    Single(Box<ConnectionManager>),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl redis::aio::ConnectionLike for Link {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Link::Single(manager) => manager.req_packed_command(cmd),
            Link::Cluster(cluster) => cluster.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Link::Single(manager) => manager.req_packed_commands(pipeline, offset, count),
            Link::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Single(manager) => manager.get_db(),
            Link::Cluster(cluster) => cluster.get_db(),
        }
    }
}

/// How many replicas must confirm a write, and how long to wait for them.
#[derive(Clone, Copy)]
struct ReplicaAcks {
    replicas: u32,
    timeout: Duration,
}

impl ReplicaAcks {
    /// Through a sentinel: a failover promotes a replica, so one must have each write.
    const SENTINEL_DEFAULT: Self = Self {
        replicas: 1,
        timeout: Duration::from_millis(500),
    };

    fn command(self) -> redis::Cmd {
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(self.replicas).arg(millis(self.timeout));
        cmd
    }
}
