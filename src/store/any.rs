//! The store a path's settings ask for, chosen at startup.

use std::time::{Duration, SystemTime};

#[cfg(feature = "memcached")]
use super::MemcachedStore;
#[cfg(feature = "redis")]
use super::RedisStore;
use super::custom::CustomStore;
use super::pickle::Budget;
use super::{
    ErrorChain, FileStore, RamStore, Record, SessionLock, SessionStore, StoreError, short,
};
use crate::session_id::SessionId;

/// One of the stores this build has, behind one type for the middleware.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub(crate) enum AnyStore {
    /// [`RamStore`].
    Ram(RamStore),
    /// [`FileStore`].
    File(FileStore),
    /// [`MemcachedStore`].
    #[cfg(feature = "memcached")]
    Memcached(MemcachedStore),
    /// [`RedisStore`].
    #[cfg(feature = "redis")]
    Redis(RedisStore),
    /// A store of the application's own ([`AnyStore::custom`]).
    Custom(CustomStore),
}

impl AnyStore {
    /// A store of the application's own: any [`SessionStore`].
    pub(crate) fn custom(store: impl SessionStore) -> Self {
        AnyStore::Custom(CustomStore::new(store))
    }

    /// Asks the store's servers what they can hold, where its budget depends on it
    /// (memcached's item size limit), each within `timeout`, except those `unreached` (the
    /// store keeps their default); returns why a server did not say (the store then keeps
    /// the server's default).
    pub(crate) fn learn_limits(
        &self,
        timeout: std::time::Duration,
        unreached: &[(String, u16)],
    ) -> Vec<String> {
        match self {
            #[cfg(feature = "memcached")]
            AnyStore::Memcached(store) => store.learn_item_size_max(timeout, unreached),
            _ => {
                let _ = (timeout, unreached);
                Vec::new()
            }
        }
    }

    /// What a session in this store may weigh: the encoding the store writes, and the
    /// longest pickle it holds. (The RAM store keeps values as they are, and a store of the
    /// application's own writes what it likes: both are held to the protocol 4 measure
    /// every reader of this crate accepts.)
    pub(crate) fn budget(&self) -> Budget {
        match self {
            AnyStore::Ram(_) | AnyStore::File(_) | AnyStore::Custom(_) => Budget::default(),
            #[cfg(feature = "memcached")]
            AnyStore::Memcached(store) => store.budget(),
            #[cfg(feature = "redis")]
            AnyStore::Redis(_) => Budget::of(super::pickle::Encoding::Protocol5),
        }
    }

    /// The RAM store, if this is one.
    pub(crate) fn as_ram(&self) -> Option<&RamStore> {
        match self {
            AnyStore::Ram(store) => Some(store),
            _ => None,
        }
    }

    /// `release_lock()`, which is not async: deletes `delete`, stores `record` (if any),
    /// then releases `lock`, so the next holder reads this request's changes. RAM does it at
    /// once; the servers' writes run on a task that releases the lock when they are done
    /// (also when they fail), returned so the request can report a failure. Files are never
    /// given anything to write here (CherryPy's FileSession writes only in its save).
    pub(crate) fn release_lock_with(
        &self,
        id: SessionId,
        delete: Vec<SessionId>,
        record: Option<Record>,
        mut lock: SessionLock,
    ) -> Option<tokio::task::JoinHandle<Result<(), StoreError>>> {
        if record.is_none() && delete.is_empty() {
            drop(lock);
            return None;
        }
        // What an earlier holder passed on with the lock is older than this write, its
        // expiry extension included: made later, that would store its copy over this one.
        lock.pass_nothing_on();
        if let AnyStore::Ram(store) = self {
            for old in &delete {
                store.remove(old);
            }
            if let Some(record) = record {
                store.put(&id, record);
            }
            drop(lock);
            return None;
        }
        let store = self.clone();
        Some(tokio::spawn(async move {
            let mut deleted = Ok(());
            for old in &delete {
                deleted = store.delete(old).await;
                if deleted.is_err() {
                    break;
                }
            }
            // Through `save_and_release`, so the write is as fenced by the lock as the one
            // at the end of a request (Redis' token check, memcached's lease check).
            let result = match (deleted, record) {
                (Ok(()), Some(record)) => store.save_and_release(&id, record, lock).await,
                (deleted, _) => {
                    lock.release().await;
                    deleted
                }
            };
            if let Err(err) = &result {
                tracing::error!(
                    session = short(&id),
                    error = %ErrorChain(err),
                    "storing the session on release_lock() failed"
                );
            }
            result
        }))
    }
}

/// Calls the store's method. The futures of the file and server stores are boxed: inline,
/// the largest of them (kilobytes) would set the size of every request's future, the RAM
/// store's included, and each request allocates and moves its future.
macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Ram($store) => $call.await,
            AnyStore::File($store) => Box::pin($call).await,
            #[cfg(feature = "memcached")]
            AnyStore::Memcached($store) => Box::pin($call).await,
            #[cfg(feature = "redis")]
            AnyStore::Redis($store) => Box::pin($call).await,
            AnyStore::Custom($store) => $call.await,
        }
    };
}

/// Calls a store's method that does not wait.
macro_rules! sync_dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Ram($store) => $call,
            AnyStore::File($store) => $call,
            #[cfg(feature = "memcached")]
            AnyStore::Memcached($store) => $call,
            #[cfg(feature = "redis")]
            AnyStore::Redis($store) => $call,
            AnyStore::Custom($store) => $call,
        }
    };
}

impl SessionStore for AnyStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        dispatch!(self, s => s.load(id))
    }

    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        dispatch!(self, s => s.save(id, record))
    }

    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        dispatch!(self, s => s.touch(id, record))
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        dispatch!(self, s => s.delete(id))
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        dispatch!(self, s => s.exists(id))
    }

    async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        dispatch!(self, s => s.lock(id, timeout))
    }

    async fn lock_and_load(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<(SessionLock, Option<Record>), StoreError> {
        dispatch!(self, s => s.lock_and_load(id, timeout))
    }

    async fn clean_up(&self, now: SystemTime) -> Result<usize, StoreError> {
        dispatch!(self, s => s.clean_up(now))
    }

    async fn save_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: SessionLock,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.save_and_release(id, record, lock))
    }

    async fn touch_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.touch_and_release(id, record, lock))
    }

    fn requires_lock(&self) -> bool {
        sync_dispatch!(self, s => s.requires_lock())
    }

    fn keeps_failed_changes(&self) -> bool {
        sync_dispatch!(self, s => s.keeps_failed_changes())
    }

    fn is_remote(&self) -> bool {
        sync_dispatch!(self, s => s.is_remote())
    }

    fn servers(&self) -> Vec<(String, u16)> {
        sync_dispatch!(self, s => s.servers())
    }
}
