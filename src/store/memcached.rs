//! Memcached sessions (`storage_type = "memcached"`), as CherryPy's MemcachedSession stores
//! them through python-memcached: key the session id, value the protocol-0 pickle of
//! `(data, expiration)` with the pickle flag (1), expiry the expiration as Unix time. The
//! bytes are python-memcached's, so CherryPy and this crate share sessions; with several
//! servers, a key goes to the server python-memcached picks for it.
//!
//! Locks span processes ([`super::shared_lock`]), which CherryPy's do not (its memcached
//! locks are per process): a CherryPy process sharing the servers ignores them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_memcached::{AsciiProtocol, Client, Error, MetaProtocol, Status};
use deadpool::managed::{self, Metrics, Pool, RecycleError, RecycleResult};

use super::codec::{self, backend, is_garbage};
use super::shared_lock::{self, LockServer};
use super::{LockTable, Record, SessionLock, SessionStore, StoreError};
use crate::session_config::memcached_dsn;
use crate::session_id::SessionId;

/// python-memcached's flag for a pickled value.
const FLAG_PICKLE: u32 = 1;
/// python-memcached's flag for a zlib-compressed value (CherryPy never asks for it).
const FLAG_COMPRESSED: u32 = 1 << 3;
/// The longest one command (with its wait for a connection) may take.
const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections kept per server.
const POOL_SIZE: usize = 32;

/// Memcached servers holding sessions. Cheap to clone; clones share the connections.
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
                servers,
                locks: LockTable::default(),
                renewals: Arc::default(),
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
                backend(std::io::Error::other(format!(
                    "memcached {}: {e}",
                    server.address
                )))
            })?;
            op(&mut client).await.map_err(|e| {
                backend(std::io::Error::other(format!(
                    "memcached {}: {e}",
                    server.address
                )))
            })
        };
        // A cancelled command leaves its connection closed, and the pool drops it.
        tokio::time::timeout(OP_TIMEOUT, attempt)
            .await
            .map_err(|_| {
                backend(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("memcached {} did not answer in time", server.address),
                ))
            })?
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

/// Whole seconds since the epoch, as CherryPy's `int(time.mktime(...))`.
fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn is_status(err: &Error, statuses: &[Status]) -> bool {
    matches!(err, Error::Protocol(s) if statuses.contains(s))
}

impl SessionStore for MemcachedStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        let key = id.as_str();
        let Some(value) = self.with(key, async |c| c.get(key).await).await? else {
            return Ok(None);
        };
        let flags = value.flags.unwrap_or(0);
        let bytes = value.data.unwrap_or_default();
        if flags & FLAG_COMPRESSED != 0 || flags & FLAG_PICKLE == 0 {
            // Not a value CherryPy's MemcachedSession writes: no session, as for CherryPy.
            log::warn!("memcached session {key} has flags {flags}, not a pickle; ignored");
            return Ok(None);
        }
        match codec::decode(&bytes) {
            Ok(record) => Ok(Some(record)),
            // python-memcached reads an unpicklable value as a miss.
            Err(err) if is_garbage(&err) => {
                log::warn!("memcached session {key} cannot be read ({err}); ignored");
                Ok(None)
            }
            // A session we cannot read back (over the budget, or an object CherryPy
            // stored): the middleware opens it as an unknown one and never writes it.
            Err(err) => Err(StoreError::Undecodable(err)),
        }
    }

    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        let expires = unix_seconds(record.expires);
        if expires <= unix_seconds(SystemTime::now()) {
            return self.delete(id).await;
        }
        let bytes = codec::encode_protocol0(&record)?;
        let key = id.as_str();
        self.with(key, async |c| {
            c.set(key, bytes.as_slice(), Some(expires), Some(FLAG_PICKLE))
                .await
        })
        .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
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
        let key = format!("{id}.lock");
        shared_lock::acquire(self, &self.inner.locks, id, key, timeout, self.lease).await
    }

    /// Memcached expires sessions itself (each value's expiry is its expiration).
    async fn clean_up(&self, _now: SystemTime) -> Result<usize, StoreError> {
        Ok(0)
    }
}

impl MemcachedStore {
    /// The lock key's CAS value if it still holds `token`.
    async fn owned_cas(&self, key: &str, token: &str) -> Result<Option<u64>, StoreError> {
        let value = self
            .with(key, async |c| {
                c.meta_get(key, false, None, Some(&["v", "c"])).await
            })
            .await?;
        Ok(value
            .filter(|v| v.data.as_deref() == Some(token.as_bytes()))
            .and_then(|v| v.cas))
    }

    /// The token in `key`, if any.
    async fn token_in(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.with(key, async |c| c.get(key).await).await?;
        Ok(value.and_then(|v| v.data))
    }

    /// Sets `key` to `value` for `ttl` seconds, only while its CAS value is `cas`; whether
    /// it did.
    async fn set_if_cas(
        &self,
        key: &str,
        value: &[u8],
        ttl: u64,
        cas: u64,
    ) -> Result<bool, StoreError> {
        let (ttl, compare) = (format!("T{ttl}"), format!("C{cas}"));
        self.with(key, async |c| {
            match c
                .meta_set(key, value, false, None, Some(&[&ttl, &compare]))
                .await
            {
                Ok(_) => Ok(true),
                Err(e) if is_status(&e, &[Status::Exists, Status::NotFound]) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Adds `key` = `value` for `ttl` seconds if absent; whether it did.
    async fn add_if_absent(&self, key: &str, value: &str, ttl: u64) -> Result<bool, StoreError> {
        let ttl = i64::try_from(ttl).unwrap_or(i64::MAX);
        self.with(key, async |c| {
            match c.add(key, value, Some(ttl), None).await {
                Ok(()) => Ok(true),
                Err(e) if is_status(&e, &[Status::NotStored, Status::Exists]) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Deletes `key` (the queue's place: a lost race only makes a waiter queue again).
    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        self.with(key, async |c| match c.delete(key).await {
            Err(e) if is_status(&e, &[Status::NotFound]) => Ok(()),
            other => other,
        })
        .await
    }
}

/// Whole seconds, at least one: memcached's expiries have no finer unit.
fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// A short expiry in whole seconds that lasts at least `d`: memcached's clock ticks once a
/// second, so an expiry of one second can end at the next tick, at once.
fn at_least(d: Duration) -> u64 {
    seconds(d) + 1
}

impl LockServer for MemcachedStore {
    shared_lock::store_handles!();

    /// Memcached has no scripts: the lock and its queue are read, then changed with `add`
    /// and CAS, so a race costs a waiter one more attempt, never two holders. A free lock
    /// is taken at once, in one round trip, without looking at the queue: a lock is free
    /// with a waiter queued only in the moment between a release and that waiter's next
    /// attempt, so this costs the waiter at most one turn, and a free lock (the common case)
    /// costs no more than before the queue.
    async fn try_acquire(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let lease = seconds(lease).max(1);
        if self.add_if_absent(key, token, lease).await? {
            // Queued by an earlier attempt? Our release leaves the queue then.
            return Ok(true);
        }
        let queue = shared_lock::queue_key(key);
        let holder = self
            .with(key, async |c| {
                c.meta_get(key, false, None, Some(&["v", "c"])).await
            })
            .await?;
        let queued = self.token_in(&queue).await?;
        let queued_is_us = queued.as_deref() == Some(token.as_bytes());
        let taken = match holder {
            // Handed to us by the previous holder: take it up with our own lease.
            Some(held) if held.data.as_deref() == Some(token.as_bytes()) => match held.cas {
                Some(cas) => self.set_if_cas(key, token.as_bytes(), lease, cas).await?,
                None => false,
            },
            Some(_) => false,
            None if queued.is_none() || queued_is_us => {
                self.add_if_absent(key, token, lease).await?
            }
            None => false,
        };
        if taken {
            if queued_is_us {
                self.forget(&queue).await?;
            }
            return Ok(true);
        }
        let hold = at_least(shared_lock::QUEUE_HOLD);
        if queued.is_none() {
            self.add_if_absent(&queue, token, hold).await?;
        } else if queued_is_us {
            let (ttl, token) = (format!("T{hold}"), token.as_bytes());
            self.with(&queue, async |c| {
                c.meta_set(&queue, token, false, None, Some(&[&ttl]))
                    .await
                    .map(drop)
            })
            .await?;
        }
        Ok(false)
    }

    async fn renew(&self, key: &str, token: &str, lease: Duration) -> Result<bool, StoreError> {
        let Some(cas) = self.owned_cas(key, token).await? else {
            return Ok(false);
        };
        self.set_if_cas(key, token.as_bytes(), seconds(lease).max(1), cas)
            .await
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), StoreError> {
        let queue = shared_lock::queue_key(key);
        let mut queued = self.token_in(&queue).await?;
        if queued.as_deref() == Some(token.as_bytes()) {
            self.forget(&queue).await?;
            queued = None;
        }
        let Some(cas) = self.owned_cas(key, token).await? else {
            return Ok(());
        };
        if let Some(next) = queued {
            let lease = at_least(shared_lock::HANDED_OVER_LEASE);
            if self.set_if_cas(key, &next, lease, cas).await? {
                return self.forget(&queue).await;
            }
            return Ok(());
        }
        let compare = format!("C{cas}");
        self.with(key, async |c| {
            match c.meta_delete(key, false, None, Some(&[&compare])).await {
                Err(e) if is_status(&e, &[Status::Exists, Status::NotFound]) => Ok(()),
                other => other.map(drop),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `memcache.cmemcache_hash(key) % 3` in python-memcached 1.62.
    #[test]
    fn picks_python_memcacheds_server() {
        let store = MemcachedStore::new(&["a:1", "b:2", "c:3"]).expect("valid");
        let picked = |key: &str| store.server(key).address.clone();
        let python = [
            ("0123456789abcdef0123456789abcdef01234567", "b:2"),
            ("fedcba9876543210fedcba9876543210fedcba98", "a:1"),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "c:3"),
            ("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "b:2"),
        ];
        for (key, expected) in python {
            assert_eq!(picked(key), expected, "{key}");
        }
    }
}
