//! The store a path's settings ask for, chosen at startup.

use std::time::{Duration, SystemTime};

use super::{FileStore, RamStore, Record, SessionLock, SessionStore, StoreError};
use crate::session_id::SessionId;

/// One of the stores this build has, behind one type for the middleware.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AnyStore {
    /// [`RamStore`].
    Ram(RamStore),
    /// [`FileStore`].
    File(FileStore),
}

impl AnyStore {
    /// Starts CherryPy's clean-up every `every`; the task ends with the store.
    pub(crate) fn spawn_clean_up(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        match self {
            AnyStore::Ram(store) => store.spawn_clean_up(every),
            AnyStore::File(store) => store.spawn_clean_up(every),
        }
    }

    /// Stores a record without waiting (both stores do their work synchronously), for
    /// `release_lock()`, which is not async.
    pub(crate) fn put_now(&self, id: &SessionId, record: Record) {
        match self {
            AnyStore::Ram(store) => store.put(id, record),
            AnyStore::File(store) => {
                if let Err(err) = store.write_now(id, &record) {
                    log::error!("session {id}: writing on release_lock failed: {err}");
                }
            }
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Ram($store) => $call.await,
            AnyStore::File($store) => $call.await,
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

    async fn clean_up(&self, now: SystemTime) -> Result<usize, StoreError> {
        dispatch!(self, s => s.clean_up(now))
    }
}
