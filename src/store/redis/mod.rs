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

mod build;
mod connection;
mod lock;
mod sentinel;
mod value;

use build::*;
use connection::*;
use lock::*;
pub use sentinel::SentinelOptions;
use sentinel::*;
use value::*;

use crate::store::{ErrorChain, redact, short};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{AsyncCommands, IntoConnectionInfo};

use super::codec::{self, is_garbage, unavailable};
use super::fair::{self, ServerRelease};
use super::pickle::{Budget, Encoding, PickleError};
use super::shared_lock::{self, LockRequest, LockServer, Run, Tried};
use super::{LockTable, Record, SessionLock, SessionStore, StoreError};
use crate::limits::MAX_SESSION_BYTES;
use crate::session_id::SessionId;

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

impl SessionStore for RedisStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        let mut redis = self.connection().await?;
        let mut pipe = redis::pipe();
        read_value(pipe.atomic(), &self.key(id));
        let (exists, bytes): (bool, Vec<u8>) =
            pipe.query_async(&mut redis).await.map_err(backend)?;
        self.record(id, exists.then_some(bytes))
    }

    /// The lock and the data in one round trip, unless the lock is handed over inside this
    /// process: a free lock is taken as cherrys takes it, with the read in the same
    /// transaction (`take_free_lock`); a held one is queued for by the script that also
    /// reads the value once it is ours.
    async fn lock_and_load(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<(SessionLock, Option<Record>), StoreError> {
        let redis = self.connection().await?;
        let data_key = self.key(id);
        let lease_ms = self.lease.as_millis() as u64;
        let watch = std::sync::Mutex::new(StaleWatch::new(self.inner.stale_lock_after));
        // In a cluster the script alone keeps its commands on the session's node.
        let first = AtomicBool::new(self.inner.cluster.is_none());
        let attempt = |lock_key: String, token: String| {
            let (mut redis, data_key, watch) = (redis.clone(), &data_key, &watch);
            let first = first.swap(false, Ordering::Relaxed);
            async move {
                if first
                    && let Some(read) = self
                        .take_free_lock(&mut redis, &lock_key, &token, data_key)
                        .await?
                {
                    return Ok(Tried::Taken(read));
                }
                let reply: redis::Value = ACQUIRE
                    .key(&lock_key)
                    .key(queue_key(&lock_key))
                    .key(fair_key(&lock_key))
                    .key(data_key)
                    .arg(&token)
                    .arg(lease_ms)
                    .arg(millis(QUEUE_HOLD))
                    .arg(millis(crate::store::fair::GAP))
                    .arg(MAX_SESSION_BYTES)
                    .invoke_async(&mut redis)
                    .await
                    .map_err(backend)?;
                let taken = watch.lock().unwrap_or_else(PoisonError::into_inner).taken(
                    Attempt::from_reply(reply)?,
                    id,
                    &lock_key,
                )?;
                if matches!(taken, Tried::Taken(_)) {
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
                lock.note_loaded(id, record.as_ref());
                record
            }
            // Handed over by a request of this process: with the session, if it passed it on.
            None => lock.passed_session_or(id, self.load(id)).await?,
        };
        Ok((lock, record))
    }

    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        self.write_releasing(id, record, Write::Always, None).await
    }

    /// A write that only replaces (`SET … XX`): a session deleted meanwhile stays deleted.
    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        self.write_releasing(id, record, Write::OnlyIfStored, None)
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

    /// The save and the lock's release in one round trip.
    async fn save_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: SessionLock,
    ) -> Result<(), StoreError> {
        self.write_releasing(id, record, Write::Always, Some(lock))
            .await
    }

    /// The touch and the lock's release in one round trip.
    async fn touch_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> Result<(), StoreError> {
        self.write_releasing(id, record, Write::OnlyIfStored, lock)
            .await
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn servers(&self) -> Vec<(String, u16)> {
        self.tcp_address().into_iter().collect()
    }
}

impl RedisStore {
    /// `write` of `record` (a delete once it has expired) and, unless `lock` goes to a
    /// request of this process, the release of its server lock in the same script.
    async fn write_releasing(
        &self,
        id: &SessionId,
        record: Record,
        write: Write,
        mut lock: Option<SessionLock>,
    ) -> Result<(), StoreError> {
        let ttl = ttl(&record);
        let release = lock.as_mut().and_then(SessionLock::take_server_release);
        let result = if ttl.is_zero() {
            self.delete(id).await
        } else {
            self.write_and_release(id, &record, ttl, write, release.as_ref())
                .await
        };
        if let Some(release) = release
            && (result.is_err() || ttl.is_zero())
        {
            // The pipeline did not run (or had no release in it): release on its own, so
            // the session is not blocked for a lease.
            shared_lock::release_or_warn(self, &release.key, &release.token, release.run).await;
        }
        drop(lock);
        result
    }
}
