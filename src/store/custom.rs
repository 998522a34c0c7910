//! A store of the application's own, behind the same enum as the built-in ones.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{Record, SessionLock, SessionStore, StoreError};
use crate::session_id::SessionId;

/// A store of the application's own behind [`AnyStore`](super::AnyStore): any [`SessionStore`], called
/// through boxed futures (the built-in stores are called directly).
#[derive(Clone)]
pub(crate) struct CustomStore(Arc<dyn DynStore>);

impl CustomStore {
    pub(crate) fn new(store: impl SessionStore) -> Self {
        Self(Arc::new(store))
    }
}

impl std::fmt::Debug for CustomStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomStore")
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`SessionStore`] in a form that can sit behind `dyn`: every future boxed.
trait DynStore: Send + Sync + 'static {
    fn load<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<Option<Record>, StoreError>>;
    fn save<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn touch<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>>;
    fn exists<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn lock<'a>(
        &'a self,
        id: &'a SessionId,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<SessionLock, StoreError>>;
    fn lock_and_load<'a>(
        &'a self,
        id: &'a SessionId,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<(SessionLock, Option<Record>), StoreError>>;
    fn clean_up(&self, now: SystemTime) -> BoxFuture<'_, Result<usize, StoreError>>;
    fn save_and_release<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
        lock: SessionLock,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn touch_and_release<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn requires_lock(&self) -> bool;
    fn keeps_failed_changes(&self) -> bool;
    fn is_remote(&self) -> bool;
    fn servers(&self) -> Vec<(String, u16)>;
}

impl<S: SessionStore> DynStore for S {
    fn load<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(SessionStore::load(self, id))
    }
    fn save<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(SessionStore::save(self, id, record))
    }
    fn touch<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(SessionStore::touch(self, id, record))
    }
    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(SessionStore::delete(self, id))
    }
    fn exists<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(SessionStore::exists(self, id))
    }
    fn lock<'a>(
        &'a self,
        id: &'a SessionId,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<SessionLock, StoreError>> {
        Box::pin(SessionStore::lock(self, id, timeout))
    }
    fn lock_and_load<'a>(
        &'a self,
        id: &'a SessionId,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<(SessionLock, Option<Record>), StoreError>> {
        Box::pin(SessionStore::lock_and_load(self, id, timeout))
    }
    fn clean_up(&self, now: SystemTime) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(SessionStore::clean_up(self, now))
    }
    fn save_and_release<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
        lock: SessionLock,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(SessionStore::save_and_release(self, id, record, lock))
    }
    fn touch_and_release<'a>(
        &'a self,
        id: &'a SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(SessionStore::touch_and_release(self, id, record, lock))
    }
    fn requires_lock(&self) -> bool {
        SessionStore::requires_lock(self)
    }
    fn keeps_failed_changes(&self) -> bool {
        SessionStore::keeps_failed_changes(self)
    }
    fn is_remote(&self) -> bool {
        SessionStore::is_remote(self)
    }
    fn servers(&self) -> Vec<(String, u16)> {
        SessionStore::servers(self)
    }
}

impl SessionStore for CustomStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        self.0.load(id).await
    }
    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        self.0.save(id, record).await
    }
    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        self.0.touch(id, record).await
    }
    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.0.delete(id).await
    }
    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        self.0.exists(id).await
    }
    async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        self.0.lock(id, timeout).await
    }
    async fn lock_and_load(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<(SessionLock, Option<Record>), StoreError> {
        self.0.lock_and_load(id, timeout).await
    }
    async fn clean_up(&self, now: SystemTime) -> Result<usize, StoreError> {
        self.0.clean_up(now).await
    }
    async fn save_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: SessionLock,
    ) -> Result<(), StoreError> {
        self.0.save_and_release(id, record, lock).await
    }
    async fn touch_and_release(
        &self,
        id: &SessionId,
        record: Record,
        lock: Option<SessionLock>,
    ) -> Result<(), StoreError> {
        self.0.touch_and_release(id, record, lock).await
    }
    fn requires_lock(&self) -> bool {
        self.0.requires_lock()
    }
    fn keeps_failed_changes(&self) -> bool {
        self.0.keeps_failed_changes()
    }
    fn is_remote(&self) -> bool {
        self.0.is_remote()
    }
    fn servers(&self) -> Vec<(String, u16)> {
        self.0.servers()
    }
}
