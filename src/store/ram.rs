//! Sessions in this process's memory, like CherryPy's `RamSession`.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, SystemTime};

use super::{LockTable, Record, SessionLock, SessionStore, StoreError};
use crate::session_id::SessionId;
use crate::session_value::SessionValue;

/// One process's sessions in memory. Clones share the same sessions, so build it once and
/// hand clones to every worker.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// use actix_cherrypy::session_id::SessionId;
/// use actix_cherrypy::session_value::{SessionData, SessionValue};
/// use actix_cherrypy::store::{RamStore, Record, SessionStore};
///
/// # actix_web::rt::System::new().block_on(async {
/// let store = RamStore::new();
/// let id = SessionId::generate();
/// let mut data = SessionData::new();
/// data.insert("user".into(), SessionValue::Str("ann".into()));
/// let expires = SystemTime::now() + Duration::from_secs(3600);
/// store.save(&id, Record { data: data.clone(), expires }).await.unwrap();
/// assert_eq!(store.load(&id).await.unwrap().unwrap().data, data);
/// # });
/// ```
#[derive(Clone, Debug, Default)]
pub struct RamStore {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: RwLock<Sessions>,
    locks: LockTable,
}

/// Sessions by the 20 bytes of their id. A million small sessions must fit in a few hundred
/// MB, so each is kept in its most compact form: the id as bytes, and the data as a boxed
/// slice of pairs (an `IndexMap` carries a hash table and spare capacity), rebuilt into a
/// map when a request loads it.
type Sessions = HashMap<[u8; 20], Stored, foldhash::fast::RandomState>;

#[derive(Debug)]
struct Stored {
    /// Microseconds since the epoch (CherryPy's datetime has no finer precision).
    expires: u64,
    data: Box<[(String, SessionValue)]>,
}

impl Stored {
    fn from_record(record: Record) -> Self {
        Self {
            expires: micros(record.expires),
            data: record.data.into_iter().collect(),
        }
    }

    fn to_record(&self) -> Record {
        Record {
            data: self.data.iter().cloned().collect(),
            expires: SystemTime::UNIX_EPOCH + Duration::from_micros(self.expires),
        }
    }
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl RamStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts CherryPy's clean-up: every `every`, expired sessions are removed. The task
    /// ends by itself once every clone of the store is dropped. Needs a Tokio runtime.
    pub fn spawn_clean_up(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        super::spawn_clean_up(every, move || {
            weak.upgrade().map(|inner| RamStore { inner })
        })
    }

    /// How many sessions are stored (CherryPy's `len(session)` counts sessions, not keys).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no session is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores a record at once (no `.await`), for callers that cannot wait.
    pub(crate) fn put(&self, id: &SessionId, record: Record) {
        let stored = Stored::from_record(record);
        self.write().insert(id.to_bytes(), stored);
    }

    /// Removes a session at once (no `.await`), for callers that cannot wait.
    pub(crate) fn remove(&self, id: &SessionId) {
        self.write().remove(&id.to_bytes());
    }

    /// How many sessions have a lock that is held or awaited.
    pub fn locks_in_use(&self) -> usize {
        self.inner.locks.len()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Sessions> {
        self.inner
            .sessions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Sessions> {
        self.inner
            .sessions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// CherryPy's RAM clean-up removes `expiration <= now` (load uses `<`).
    fn remove_expired(&self, now: SystemTime) -> usize {
        let mut sessions = self.write();
        let before = sessions.len();
        let now = micros(now);
        sessions.retain(|_, stored| stored.expires > now);
        before - sessions.len()
    }
}

impl SessionStore for RamStore {
    async fn load(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        Ok(self.read().get(&id.to_bytes()).map(Stored::to_record))
    }

    async fn save(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        self.put(id, record);
        Ok(())
    }

    /// The expiry alone, in place. If another request replaced the session meanwhile (only
    /// possible without its lock), its data stays: CherryPy's RAM sessions share one dict
    /// between requests, so a read-only request never writes back an older copy there
    /// either. If the session is gone (regenerated away, deleted, cleaned up), it stays
    /// gone: bringing back an id that a login regenerated away would hand the session to
    /// whoever holds the old cookie.
    async fn touch(&self, id: &SessionId, record: Record) -> Result<(), StoreError> {
        if let Some(stored) = self.write().get_mut(&id.to_bytes()) {
            stored.expires = micros(record.expires);
        }
        Ok(())
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.write().remove(&id.to_bytes());
        Ok(())
    }

    async fn exists(&self, id: &SessionId) -> Result<bool, StoreError> {
        Ok(self.read().contains_key(&id.to_bytes()))
    }

    async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        self.inner.locks.lock(id, timeout).await
    }

    async fn clean_up(&self, now: SystemTime) -> Result<usize, StoreError> {
        Ok(self.remove_expired(now))
    }

    fn keeps_failed_changes(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_value::SessionData;

    fn record(n: i64, expires: SystemTime) -> Record {
        let mut data = SessionData::default();
        data.insert("n".into(), SessionValue::Int(n));
        Record { data, expires }
    }

    #[tokio::test]
    async fn an_expired_session_is_kept_until_clean_up() {
        let store = RamStore::new();
        let id = SessionId::generate();
        let past = SystemTime::now() - Duration::from_secs(1);
        store.save(&id, record(1, past)).await.unwrap();
        let loaded = store.load(&id).await.unwrap().unwrap();
        assert!(loaded.is_expired(SystemTime::now()));
        assert!(store.exists(&id).await.unwrap());
        assert_eq!(store.clean_up(SystemTime::now()).await.unwrap(), 1);
        assert!(!store.exists(&id).await.unwrap());
    }

    #[tokio::test]
    async fn clones_share_sessions() {
        let a = RamStore::new();
        let b = a.clone();
        let id = SessionId::generate();
        // Expiries are kept to the microsecond, as CherryPy's datetime keeps them.
        let later =
            SystemTime::UNIX_EPOCH + Duration::from_micros(micros(SystemTime::now()) + 60_000_000);
        a.save(&id, record(7, later)).await.unwrap();
        assert_eq!(b.load(&id).await.unwrap(), Some(record(7, later)));
        b.delete(&id).await.unwrap();
        assert!(a.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_sweeper_runs_every_interval_and_stops_with_the_store() {
        let store = RamStore::new();
        let id = SessionId::generate();
        store.save(&id, record(1, SystemTime::now())).await.unwrap();
        let task = store.spawn_clean_up(Duration::from_secs(300));
        tokio::time::sleep(Duration::from_secs(301)).await;
        tokio::task::yield_now().await;
        assert!(store.is_empty());
        drop(store);
        tokio::time::sleep(Duration::from_secs(301)).await;
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_read_only_save_does_not_bring_back_a_deleted_session() {
        let store = RamStore::new();
        let id = SessionId::generate();
        let later = SystemTime::now() + Duration::from_secs(60);
        store.save(&id, record(1, later)).await.unwrap();
        store.delete(&id).await.unwrap();
        store.touch(&id, record(1, later)).await.unwrap();
        assert!(store.is_empty());
    }
}
