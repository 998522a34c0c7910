//! Where sessions live. A small async trait shaped like CherryPy's backends (load, save,
//! delete, exists, lock, clean-up), and the stores that implement it.
//!
//! Stores are cheap `Clone` handles; build one per process and share it.

mod any;
mod codec;
mod custom;
mod fair;
mod file;
pub(crate) mod hand_over;
mod lock_table;
#[cfg(feature = "memcached")]
mod memcached;
// The pickle codec is machinery; the crate's fuzz targets and tests reach it through
// `crate::__private`.
pub(crate) mod pickle;
mod ram;
#[cfg(feature = "redis")]
mod redis;
mod session_lock;
#[cfg(any(feature = "memcached", feature = "redis"))]
mod shared_lock;

use std::future::Future;
use std::time::{Duration, SystemTime};

pub(crate) use any::AnyStore;
pub use file::FileStore;
pub(crate) use lock_table::LockTable;
#[cfg(feature = "memcached")]
pub use memcached::{BadServer, MemcachedStore};
pub use pickle::PickleError;
pub use ram::RamStore;
#[cfg(feature = "redis")]
pub use redis::{RedisStore, SentinelOptions};
pub use session_lock::SessionLock;

use crate::session_id::SessionId;
use crate::session_value::SessionData;

/// A stored session: its data and when it expires (save time + timeout).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The session dict.
    pub data: SessionData,
    /// When the data stops being valid.
    pub expires: SystemTime,
}

impl Record {
    /// CherryPy's `load` treats data whose expiration is before now as gone.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires < now
    }
}

/// Why a store operation failed. The middleware answers any of these with a 500
/// ([`crate::middleware::SessionError`]), except [`StoreError::Undecodable`] when a session
/// is opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// What is stored under the id cannot be read back as a session: over the budgets of
    /// [`crate::limits`], or a pickle of something outside the session data model (an
    /// object CherryPy stored, a forbidden global). The middleware opens such a session as
    /// an unknown one: a new id, and the stored value left untouched.
    #[error("the stored session cannot be read")]
    Undecodable(#[source] PickleError),
    /// The session's lock was not free within `lock_timeout`. (Its message names the
    /// session by the first 8 hex digits of its id: a log must not hand out whole ids.)
    #[error("timeout acquiring the lock of session {}…", .0.as_str().get(..8).unwrap_or_default())]
    LockTimeout(SessionId),
    /// The backend failed (I/O, encoding, an answer it should not give); the cause is the
    /// error's `source()`.
    #[error("the session store failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store's server (memcached, Redis) cannot be reached or did not answer in time:
    /// an outage, which the middleware answers with 503 until the server is back (the
    /// store reconnects by itself). The cause is the error's `source()`.
    #[error("the session store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// An error and its causes on one line, `outer: inner: innermost`, for the log.
pub(crate) struct ErrorChain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// The first 8 hex digits of a session id: enough to follow one session through a log, too
/// few to take it over. Logs never carry whole ids.
pub(crate) fn short(id: &SessionId) -> &str {
    id.as_str().get(..8).unwrap_or_default()
}

/// A stored session we cannot read back is an unknown session (a new id, as for an unknown
/// cookie), and what is stored stays as it is: it may be CherryPy's, with objects we cannot
/// represent, or a hostile value over the budget. Any other failure stays a failure. Used
/// wherever a request reads a session: when it opens, and at `acquire_lock()`.
pub(crate) fn unknown_if_undecodable(
    id: &SessionId,
    err: StoreError,
) -> Result<Option<Record>, StoreError> {
    match err {
        StoreError::Undecodable(reason) => {
            tracing::warn!(
                stored = short(id),
                %reason,
                "the stored session cannot be read; answered as an unknown session with a new id, the stored value left untouched"
            );
            Ok(None)
        }
        other => Err(other),
    }
}

/// A store key with the session id in it cut to its first 8 hex digits, for the log.
#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) fn redact(key: &str) -> String {
    let bytes = key.as_bytes();
    let hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    let mut run = 0;
    for (i, b) in bytes.iter().enumerate() {
        run = if hex(b) { run + 1 } else { 0 };
        if run == 40 {
            let start = i + 1 - 40;
            return format!(
                "{}{}…{}",
                &key[..start],
                &key[start..start + 8],
                &key[i + 1..]
            );
        }
    }
    key.to_owned()
}

#[cfg(all(test, any(feature = "memcached", feature = "redis")))]
#[test]
fn redact_cuts_the_id_in_a_key() {
    let id = "0123456789abcdef0123456789abcdef01234567";
    assert_eq!(redact(&format!("lock_{id}")), "lock_01234567…");
    assert_eq!(redact(&format!("{id}.lock")), "01234567….lock");
    assert_eq!(redact("no id here"), "no id here");
}

/// A session backend. Every method is one of CherryPy's backend operations.
pub trait SessionStore: Clone + Send + Sync + 'static {
    /// The record stored under `id`, expired or not: `Some` means the id exists (CherryPy's
    /// `_exists`, which decides whether a cookie's id is kept), and an expired record's data
    /// reads as empty (CherryPy's `load`). One call answers both, so a request costs one
    /// round trip to the store.
    fn load(
        &self,
        id: &SessionId,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send;

    /// Stores `record` under `id`, replacing what was there.
    fn save(
        &self,
        id: &SessionId,
        record: Record,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The save of a request that read the session and changed nothing: `record` is the
    /// data as loaded with its new expiry. Where nothing is stored under `id` any more
    /// (another request regenerated the id away, deleted or cleaned up the session
    /// meanwhile), nothing must be stored: bringing back an id that a login regenerated
    /// away would hand the session to whoever holds the old cookie. A store may get there
    /// cheaply (RAM: the expiry in place; files: the pickle's ten expiration bytes;
    /// memcached and Redis: a write that only replaces). The default asks
    /// [`Self::exists`], then saves: override it to do both at once.
    fn touch(
        &self,
        id: &SessionId,
        record: Record,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            if self.exists(id).await? {
                self.save(id, record).await?;
            }
            Ok(())
        }
    }

    /// Removes what is stored under `id`, if anything.
    fn delete(&self, id: &SessionId) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether anything is stored under `id`, expired or not (CherryPy's `_exists`, which
    /// decides whether a cookie's id is kept or replaced).
    fn exists(&self, id: &SessionId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Waits for the session's lock; `None` waits for ever. The lock is released when the
    /// returned guard is dropped, on every path (error, panic, dropped request).
    fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<SessionLock, StoreError>> + Send;

    /// [`Self::lock`], then [`Self::load`]: a store may do both in one round trip.
    fn lock_and_load(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<(SessionLock, Option<Record>), StoreError>> + Send {
        async move {
            let lock = self.lock(id, timeout).await?;
            let record = self.load(id).await?;
            Ok((lock, record))
        }
    }

    /// Removes every session expired at `now`; returns how many. Stores whose server
    /// expires sessions itself (memcached, Redis) remove nothing.
    fn clean_up(&self, now: SystemTime) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// The save of a request that holds `id`'s lock: [`Self::save`], then `lock` let go of
    /// (released, or handed to a request of this process waiting for it). A store may
    /// write and release in one round trip (Redis).
    fn save_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: SessionLock,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        save_then_release(self, id, record, lock)
    }

    /// The end of a read-only request: [`Self::touch`], then `lock` released. A store may
    /// do both in one round trip (Redis).
    fn touch_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        touch_then_release(self, id, record, lock)
    }

    /// Whether a request must hold the session's lock to load, save or delete it, and
    /// `release_lock()` stores nothing. CherryPy's FileSession asserts this (a request that
    /// breaks it is an error page), so a site sharing files with CherryPy must behave the
    /// same on both sides.
    fn requires_lock(&self) -> bool {
        false
    }

    /// Whether a request's handler works on the stored session itself rather than on a
    /// copy, so that what a failing handler changed stays (CherryPy's RAM store hands out
    /// its own dict). Other stores keep nothing of a failed request.
    fn keeps_failed_changes(&self) -> bool {
        false
    }

    /// Whether each operation is a round trip to a server (memcached, Redis): the end of a
    /// read-only request then extends the expiry after the response is sent.
    fn is_remote(&self) -> bool {
        false
    }

    /// The servers the store talks to over TCP, by name and port: what the startup check
    /// tries to reach, so a server that is down or misnamed shows before the first request.
    fn servers(&self) -> Vec<(String, u16)> {
        Vec::new()
    }
}

/// [`SessionStore::save_and_release`] as the trait has it: the save, then the lock let go
/// of. Also what a store that checks its lock before writing (memcached's lease) runs after
/// the check, so both stay one body.
pub(crate) async fn save_then_release<S: SessionStore>(
    store: &S,
    id: &SessionId,
    record: Record,
    lock: SessionLock,
) -> Result<(), StoreError> {
    let result = store.save(id, record).await;
    drop(lock);
    result
}

/// [`SessionStore::touch_and_release`] as the trait has it: the extension, then the lock
/// released (see [`save_then_release`]).
pub(crate) async fn touch_then_release<S: SessionStore>(
    store: &S,
    id: &SessionId,
    record: Record,
    lock: Option<SessionLock>,
) -> Result<(), StoreError> {
    let result = store.touch(id, record).await;
    if let Some(lock) = lock {
        lock.release().await;
    }
    result
}

/// CherryPy's clean-up thread: every `every` (the first run one interval after start), the
/// expired sessions of the store `upgrade` gives are removed, until it gives none (every
/// handle on the store is gone). A failed run is logged and the next one goes ahead.
pub(crate) fn spawn_clean_up<S, F>(every: Duration, upgrade: F) -> tokio::task::JoinHandle<()>
where
    S: SessionStore,
    F: Fn() -> Option<S> + Send + 'static,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(store) = upgrade() else { break };
            if let Err(err) = store.clean_up(SystemTime::now()).await {
                tracing::error!(error = %ErrorChain(&err), "session clean-up failed");
            }
        }
    })
}
