//! Per-session locks inside one process: waiting is async (no polling), and a lock that
//! nobody holds or waits for is removed, so the table never grows without bound (CherryPy's
//! RAM locks are only swept by its clean-up thread, spec: sessions §10).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::StoreError;
use crate::session_id::SessionId;

type Entries = Mutex<HashMap<SessionId, Arc<AsyncMutex<()>>>>;

/// A session's lock. Dropping it releases the lock.
#[must_use = "the session is unlocked as soon as this is dropped"]
pub struct SessionLock {
    _release: Box<dyn Send + Sync>,
}

impl SessionLock {
    /// Wraps a guard whose `Drop` releases a store's lock.
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        Self {
            _release: Box::new(guard),
        }
    }
}

impl std::fmt::Debug for SessionLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionLock")
    }
}

/// Async locks keyed by session id, shared by every clone.
#[derive(Clone, Default)]
pub struct LockTable {
    entries: Arc<Entries>,
}

impl std::fmt::Debug for LockTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockTable")
            .field("held_or_awaited", &self.len())
            .finish()
    }
}

impl LockTable {
    /// Waits for `id`'s lock; `None` waits for ever.
    pub async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        let mutex = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(entries.entry(*id).or_default())
        };
        // If this future is dropped while waiting, `Unused` still tidies the table.
        let mut waiting = Unused {
            entries: Arc::clone(&self.entries),
            id: *id,
            guard: None,
        };
        let acquire = mutex.lock_owned();
        let guard = match timeout {
            None => acquire.await,
            Some(limit) => tokio::time::timeout(limit, acquire)
                .await
                .map_err(|_| StoreError::LockTimeout(*id))?,
        };
        waiting.guard = Some(guard);
        Ok(SessionLock::new(waiting))
    }

    /// How many ids have a lock that is held or awaited.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no lock is held or awaited.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Held while waiting for or holding a lock; on drop, releases it and removes the table's
/// entry when no one else holds or awaits it.
struct Unused {
    entries: Arc<Entries>,
    id: SessionId,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for Unused {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // The table's own reference is the only one left: nobody holds or waits.
        if entries
            .get(&self.id)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            entries.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_and_the_table_empties() {
        let table = LockTable::default();
        let id = SessionId::generate();
        let first = table.lock(&id, None).await.unwrap();
        let err = table
            .lock(&id, Some(Duration::from_millis(50)))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::LockTimeout(_)));
        assert_eq!(table.len(), 1);
        drop(first);
        assert!(table.is_empty());
        let again = table
            .lock(&id, Some(Duration::from_millis(50)))
            .await
            .unwrap();
        drop(again);
        assert!(table.is_empty());
    }

    #[tokio::test]
    async fn a_waiter_gets_the_lock_when_it_is_released() {
        let table = LockTable::default();
        let id = SessionId::generate();
        let held = table.lock(&id, None).await.unwrap();
        let waiter = tokio::spawn({
            let table = table.clone();
            async move { table.lock(&id, None).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(held);
        waiter.await.unwrap().unwrap();
        assert!(table.is_empty());
    }

    #[tokio::test]
    async fn a_dropped_waiter_leaves_nothing_behind() {
        let table = LockTable::default();
        let id = SessionId::generate();
        let held = table.lock(&id, None).await.unwrap();
        let waiter = tokio::spawn({
            let table = table.clone();
            async move { table.lock(&id, None).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        waiter.abort();
        let _ = waiter.await;
        drop(held);
        assert!(table.is_empty());
    }
}
