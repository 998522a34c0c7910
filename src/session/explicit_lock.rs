//! Explicit locking: `acquire_lock()` and `release_lock()`, and what a request that let go of
//! the lock may still store.

use super::{Session, SessionStatus, expiry_after, lifetime, lock_timeout};
use crate::session_id::SessionId;
use crate::session_value::SessionData;
use crate::store::{Record, SessionStore, StoreError, unknown_if_undecodable};

/// A request that does not hold the session's lock does not own its data: another request
/// may change it meanwhile. That is so after `release_lock()`, and, with explicit locking,
/// for a request that changes the session without ever calling `acquire_lock()`. What the
/// data was when this request last could rely on it is kept, so that a later write is made
/// only if nobody changed the stored data since, and fails the request otherwise, rather
/// than write a stale copy over a newer one.
pub(super) struct Released {
    /// The id whose data `base` is (the handler may regenerate the id after).
    pub(super) id: SessionId,
    /// The session's data as the store held it when the lock was let go, or, for a request
    /// that never held it, as the request fetched it (`None`: no live session was stored).
    pub(super) base: Option<SessionData>,
    /// The lock was held and let go (`release_lock()`), rather than never taken.
    pub(super) after_release: bool,
    /// When `base` was taken: a stored session is compared with it as it was then, so one
    /// that has only expired since is not taken for one another request changed.
    pub(super) at: std::time::SystemTime,
}

impl Released {
    /// Whether `record`, the session as the store holds it now, is still `base` (whose
    /// creation time was taken out: the stored one is left out of the comparison).
    pub(super) fn unchanged(&self, record: Option<&Record>) -> bool {
        let live = record.filter(|r| !r.is_expired(self.at)).map(|r| &r.data);
        match (live, &self.base) {
            (Some(now), Some(base)) => lifetime::same_but_created(now, base),
            (now, base) => now.is_none() && base.is_none(),
        }
    }

    /// The log's words when another request changed the session first.
    pub(super) fn conflict(&self) -> &'static str {
        if self.after_release {
            "session changed after release_lock() while another request changed it too; this request's changes are not stored"
        } else {
            "session changed without its lock (explicit locking, no acquire_lock()) while another request changed it too; this request's changes are not stored"
        }
    }
}

impl Session {
    /// Explicit locking: waits for the session's lock (`lock_timeout` applies). Data not yet
    /// loaded, or only read so far, is fetched again under the lock, so it is current. Data
    /// changed before (without the lock, or since a `release_lock()`) stays this request's
    /// if nobody changed the stored session meanwhile; otherwise the stored data replaces
    /// it and the request fails (see [`Session::release_lock`]).
    pub async fn acquire_lock(&self) -> Result<(), StoreError> {
        let (store, id, timeout, regenerated) = {
            let state = self.0.borrow();
            if state.lock.is_some() {
                return Ok(());
            }
            let regenerated = state.status == SessionStatus::Renewed;
            let timeout = lock_timeout(&state.config);
            (state.store.clone(), state.id, timeout, regenerated)
        };
        if regenerated {
            let lock = store.lock(&id, timeout).await?;
            // The id `regenerate()` gave is this request's alone (its cookie has not gone
            // out yet): the data the request holds is the session's, and what it stored
            // under that id at a `release_lock()` nobody else changed. What a change before
            // the regenerate relied on is settled at the end of the request, against the
            // old id's stored data.
            let mut state = self.0.borrow_mut();
            if state.released.as_ref().is_some_and(|r| r.id == id) {
                state.released = None;
            }
            state.lock = Some(lock);
            return Ok(());
        }
        // One call, so a store that writes back only what it read under the lock (memcached,
        // beside CherryPy processes whose locks it cannot see) knows what this request read.
        let (lock, record) = match store.lock_and_load(&id, timeout).await {
            Ok(locked) => locked,
            // Then as if deleted: the request goes on under a new id (below), holding the
            // lock of the id it asked for, as it would have had the value been readable.
            Err(err) => {
                let record = unknown_if_undecodable(&id, err)?;
                (store.lock(&id, timeout).await?, record)
            }
        };
        let mut state = self.0.borrow_mut();
        state.lock = Some(lock);
        if record.is_none() && state.stored_expiry.is_some() && state.id == id {
            // The session was deleted while this request waited (regenerated by a login,
            // deleted, cleaned up): its id is no longer valid, and as with an unknown id the
            // request goes on under a new one, rather than bring the old id back.
            state.id = SessionId::generate();
            state.stored_expiry = None;
        }
        let released = state.released.take();
        let unchanged = released.as_ref().map(|r| r.unchanged(record.as_ref()));
        let now = std::time::SystemTime::now();
        let current =
            state.fetched_from_store(record.filter(|r| !r.is_expired(now)).map(|r| r.data));
        match released {
            Some(_) if unchanged == Some(true) => {}
            Some(released) if state.written => {
                tracing::error!("{}", released.conflict());
                state.used_without_lock = true;
            }
            // Not loaded yet, or only read without the lock (an authentication check before
            // `acquire_lock()`, or reads after a release): what was read may be stale, and
            // what the handler now reads to change under the lock must be the stored data.
            _ if !state.written => {
                state.data = None;
                state.fetched = current;
            }
            // Changed before any lock was taken, and nothing is fenced: a new session, which
            // no other request knows.
            _ => {}
        }
        Ok(())
    }

    /// Explicit locking: stores the session now, then releases its lock, so the next holder
    /// reads this request's changes (the save at the end of the request has nothing left to
    /// do, unless the handler changes the session again).
    ///
    /// Once released, the session belongs to the next holder. If the handler still changes
    /// it, the end of the request takes the lock again and stores the change only if nobody
    /// changed the session meanwhile; otherwise the request fails with a 500 and the newer
    /// data stays (a write over it would lose that update). RAM stores at once; Redis and
    /// memcached write on a task that releases the lock when done, and a failure of that
    /// write fails the request.
    ///
    /// With file storage this stores nothing, as CherryPy's FileSession: its save then
    /// refuses to run without the lock, so a handler that changed the session must leave
    /// the release to the end of the request.
    pub fn release_lock(&self) {
        let mut state = self.0.borrow_mut();
        let Some(lock) = state.lock.take() else {
            return;
        };
        if state.lock_guards_data {
            drop(lock);
            return;
        }
        let expires = expiry_after(&state.config);
        let base = match &state.data {
            Some(data) => Some(data.clone()),
            None => state.fetched.clone(),
        };
        let record = state.data.clone().map(|data| state.record(data, expires));
        if record.is_some() {
            state.stored_expiry = Some(expires);
        }
        let delete = std::mem::take(&mut state.delete);
        state.written = false;
        let id = state.id;
        state.released = Some(Released {
            id,
            base,
            after_release: true,
            at: std::time::SystemTime::now(),
        });
        if let Some(pending) = state.store.release_lock_with(id, delete, record, lock) {
            state.pending_writes.push(pending);
        }
    }
}
