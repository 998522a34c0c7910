//! The store a path's settings ask for, chosen at startup.

use std::time::{Duration, SystemTime};

#[cfg(feature = "memcached")]
use super::MemcachedStore;
#[cfg(feature = "redis")]
use super::RedisStore;
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
}

impl AnyStore {
    /// The servers this store talks to over TCP, by name and port (none for RAM and
    /// files): what the startup check tries to reach.
    pub(crate) fn tcp_addresses(&self) -> Vec<(String, u16)> {
        match self {
            Self::Ram(_) | Self::File(_) => Vec::new(),
            #[cfg(feature = "memcached")]
            Self::Memcached(store) => store.tcp_addresses(),
            #[cfg(feature = "redis")]
            Self::Redis(store) => store.tcp_address().into_iter().collect(),
        }
    }

    /// Starts CherryPy's clean-up every `every`; the servers (memcached, Redis) expire
    /// sessions themselves and need none.
    pub(crate) fn spawn_clean_up(&self, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
        match self {
            AnyStore::Ram(store) => Some(store.spawn_clean_up(every)),
            AnyStore::File(store) => Some(store.spawn_clean_up(every)),
            #[cfg(feature = "memcached")]
            AnyStore::Memcached(_) => None,
            #[cfg(feature = "redis")]
            AnyStore::Redis(_) => None,
        }
    }

    /// Whether the store is a server reached over the network (memcached, Redis), where a
    /// write costs a round trip.
    pub(crate) fn is_remote(&self) -> bool {
        !matches!(self, AnyStore::Ram(_) | AnyStore::File(_))
    }

    /// The end of a read-only request: [`SessionStore::touch`], then the lock released, in
    /// one round trip where the store allows it (Redis).
    pub(crate) async fn touch_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> Result<(), StoreError> {
        #[cfg(feature = "redis")]
        if let AnyStore::Redis(store) = self {
            return Box::pin(store.touch_and_release(id, record, lock)).await;
        }
        let result = self.touch(id, record).await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        result
    }

    /// `release_lock()`, which is not async: deletes `delete`, stores `record` (if any),
    /// then releases `lock`, so the next holder reads this request's changes. RAM does it at
    /// once; the servers' writes run on a task that releases the lock when they are done
    /// (also when they fail), returned so the request can report a failure. Files are never
    /// given anything to write here (CherryPy's FileSession writes only in its save).
    pub(crate) fn save_and_release(
        &self,
        id: SessionId,
        delete: Vec<SessionId>,
        record: Option<Record>,
        lock: SessionLock,
    ) -> Option<tokio::task::JoinHandle<Result<(), StoreError>>> {
        if record.is_none() && delete.is_empty() {
            drop(lock);
            return None;
        }
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
            let result = async {
                for old in &delete {
                    store.delete(old).await?;
                }
                match record {
                    Some(record) => store.save(&id, record).await,
                    None => Ok(()),
                }
            }
            .await;
            if let Err(err) = &result {
                tracing::error!(
                    session = short(&id),
                    error = %ErrorChain(err),
                    "storing the session on release_lock() failed"
                );
            }
            lock.release().await;
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
}
