//! Writes fenced by the value's CAS. CherryPy's memcached locks are per process, so a
//! CherryPy process sharing the servers writes a session while one of our requests holds
//! its lock; so can a holder of ours whose lease ran out while it stalled. Memcached cannot
//! make a write depend on the lock's key, but it can on the session's own value: the CAS
//! it had when the holder read it. A write by anyone since changes it, and the holder's
//! write is then refused instead of going over that change.
//!
//! The CAS is kept while this process holds the session's lock, from the read under the
//! lock (`lock_and_load`) through each write of the queue of this process's requests that
//! the lock is handed along, until the lock leaves the process. A session read without
//! that (a new one, or one loaded after `lock()`, as explicit locking does) is written as
//! before, unfenced.

use std::sync::PoisonError;

use async_memcached::{MetaProtocol, Status};

use super::{MemcachedStore, is_status};
use crate::session_id::SessionId;
use crate::store::{Record, StoreError};

impl MemcachedStore {
    /// `load`, under the session's lock: its CAS is kept for the writes that follow.
    pub(super) async fn load_locked(&self, id: &SessionId) -> Result<Option<Record>, StoreError> {
        let (record, cas) = self.fetch(id).await?;
        self.keep_version(id, cas);
        Ok(record)
    }

    /// Writes `value` under `id` with the meta set `flags`, only while the stored value
    /// still has the CAS this process keeps for it, if it keeps one; whether it was stored.
    /// A stored value's new CAS is kept in place of the old one.
    pub(super) async fn write_session(
        &self,
        id: &SessionId,
        value: &[u8],
        flags: &[&str],
    ) -> Result<bool, StoreError> {
        let kept = self.versions().get(id).copied();
        let compare = kept.map(|cas| format!("C{cas}"));
        let mut all = flags.to_vec();
        all.extend(compare.as_deref());
        all.push("c");
        let stored = self.set_returning_cas(id.as_str(), value, &all).await?;
        if kept.is_some() {
            self.keep_version(id, stored);
        }
        Ok(stored.is_some())
    }

    /// Keeps `cas` as the session's, or forgets the session's if there is none to keep (no
    /// value, or memcached gave no CAS: 0).
    fn keep_version(&self, id: &SessionId, cas: Option<u64>) {
        match cas {
            Some(cas) if cas != 0 => self.versions().insert(*id, cas),
            _ => self.versions().remove(id),
        };
    }

    /// The session's lock (its key `lock_key`) leaves this process, or the session is
    /// deleted: its CAS is no longer this process's to keep.
    pub(super) fn forget_version(&self, id: &SessionId) {
        self.versions().remove(id);
    }

    /// [`Self::forget_version`] for the session of the lock key `<id>.lock`.
    pub(super) fn forget_version_of_lock(&self, lock_key: &str) {
        if let Some(id) = lock_key.strip_suffix(".lock").and_then(SessionId::parse) {
            self.forget_version(&id);
        }
    }

    /// A meta set of `key` with `flags`, which ask for the CAS (`c`): the new value's CAS
    /// (0 if memcached gave none) if it was stored, `None` if its condition (a mode, a
    /// compare-and-swap) refused it.
    pub(super) async fn set_returning_cas(
        &self,
        key: &str,
        value: &[u8],
        flags: &[&str],
    ) -> Result<Option<u64>, StoreError> {
        self.with(key, async |c| {
            match c.meta_set(key, value, false, None, Some(flags)).await {
                // Asked for the CAS, memcached answers a refusal with it too (`NS c0`),
                // which the client reads as an item with that status.
                Ok(Some(item))
                    if matches!(
                        item.status,
                        Some(Status::NotStored | Status::Exists | Status::NotFound)
                    ) =>
                {
                    Ok(None)
                }
                Ok(item) => Ok(Some(item.and_then(|i| i.cas).unwrap_or(0))),
                Err(e) if is_status(&e, &[Status::NotStored, Status::Exists, Status::NotFound]) => {
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    fn versions(&self) -> std::sync::MutexGuard<'_, rustc_hash::FxHashMap<SessionId, u64>> {
        self.inner
            .versions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
