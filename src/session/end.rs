//! The end of a request: what CherryPy's rules say the store must do now with the session
//! (save if loaded, extend the expiry of data only read, keep a failing handler's changes
//! where the store shares its data, refuse a save without the lock where the store needs
//! it), decided in one place and handed to the middleware as a [`SavePlan`].

use std::time::SystemTime;

use super::{Session, expiry_after, lock_timeout};
use crate::session_id::SessionId;
use crate::store::{Record, SessionLock, SessionStore, StoreError, short};

/// What the store must do with the session once the handler has answered.
pub(crate) enum SavePlan {
    /// Nothing: the session was not loaded, or this request may not store it.
    Nothing,
    /// Delete `delete` (ids `regenerate()` and `delete()` left behind), then store
    /// `record`, if any, under `id`.
    Write {
        id: SessionId,
        delete: Vec<SessionId>,
        record: Option<Record>,
    },
    /// The data was only read: extend its expiry ([`SessionStore::touch`]).
    Extend { id: SessionId, record: Record },
}

/// [`Session::end`]'s answer.
pub(crate) struct Ending {
    pub(crate) plan: SavePlan,
    /// The request's lock, if it holds one: released once the plan is carried out.
    pub(crate) lock: Option<SessionLock>,
    /// The request broke a rule of the store (a session used without its lock where the
    /// store requires it, or changed without the lock while another request changed it
    /// too): it fails, and `plan` stores nothing of it.
    pub(crate) refused: bool,
}

impl Session {
    /// The end of the request: settles what `release_lock()` or a change without the lock
    /// left open, then decides what to store. `handler_failed`: the handler raised (an
    /// `Err` that is a server error, or a panic); CherryPy then skips the save.
    pub(crate) async fn end(&self, handler_failed: bool) -> Result<Ending, StoreError> {
        let reclaimed = self.reclaim(handler_failed).await;
        let mut state = self.0.borrow_mut();
        if let Err(err) = reclaimed {
            state.lock = None;
            return Err(err);
        }
        let unlocked_save = state.lock_guards_data && state.data.is_some() && state.lock.is_none();
        let refused = state.used_without_lock || unlocked_save;
        if refused && state.lock_guards_data {
            tracing::error!(
                "file sessions must be locked to be used (call acquire_lock() first, or use implicit locking); CherryPy fails the same way"
            );
        }
        let plan = if refused || handler_failed {
            state.failed_changes_plan()
        } else {
            state.save_plan()
        };
        Ok(Ending {
            plan,
            lock: state.lock.take(),
            refused,
        })
    }

    /// After the handler's `release_lock()`, or changes made without ever taking the lock
    /// (explicit locking): waits for the writes a release left running (a failure fails the
    /// request), then works out what the save may still store. A release stored the data,
    /// so the save has nothing to do unless the handler changed the session since; then,
    /// as for changes made without the lock, it takes the lock, and stores only if the
    /// session is still what the request last relied on (else the request is refused: the
    /// newer data stays and this request's change is not stored).
    async fn reclaim(&self, handler_failed: bool) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut self.0.borrow_mut().pending_writes);
        for write in pending {
            write
                .await
                .map_err(|join| StoreError::Backend(Box::new(join)))??;
        }
        let (store, timeout, released) = {
            let mut state = self.0.borrow_mut();
            let Some(released) = state.released.take() else {
                return Ok(());
            };
            let nothing_to_store = !state.written && state.delete.is_empty();
            // A failed request's changes are dropped (see `failed_changes_plan`), and after
            // a release even on RAM: the release already stored what the lock covered.
            let dropped =
                handler_failed && (released.after_release || !state.store.keeps_failed_changes());
            if nothing_to_store || dropped {
                state.data = None;
                state.delete.clear();
                return Ok(());
            }
            let timeout = lock_timeout(&state.config);
            (state.store.clone(), timeout, released)
        };
        let (lock, record) = match store.lock_and_load(&released.id, timeout).await {
            Ok(taken) => taken,
            // Replaced by something we cannot read: changed by someone else, and left as
            // it is. The request is refused, as for any session changed meanwhile.
            Err(StoreError::Undecodable(reason)) => {
                tracing::error!(
                    stored = short(&released.id),
                    %reason,
                    "the stored session cannot be read any more; this request's changes are not stored"
                );
                let mut state = self.0.borrow_mut();
                state.used_without_lock = true;
                state.data = None;
                state.delete.clear();
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        let mut state = self.0.borrow_mut();
        state.lock = Some(lock);
        // A request that only deletes writes nothing another request could have changed.
        if state.data.is_some() && !released.unchanged(record.as_ref()) {
            tracing::error!("{}", released.conflict());
            state.used_without_lock = true;
        }
        // A creation time another request stamped meanwhile is kept.
        let now = SystemTime::now();
        state.fetched_from_store(record.filter(|r| !r.is_expired(now)).map(|r| r.data));
        Ok(())
    }
}

impl super::State {
    /// The save of a request that went well: CherryPy saves every session the request
    /// loaded, so its expiry moves on; data only read just has its expiry extended.
    fn save_plan(&mut self) -> SavePlan {
        // A session stamped with its creation time only now must be written, not only
        // have its expiry extended. Not by a request that only read it without the lock
        // (explicit locking): that write could go over a newer one. The next request that
        // holds the lock or changes the session stamps it.
        let created = self.created;
        let unchanged = self.unchanged_since_load();
        let delete = std::mem::take(&mut self.delete);
        let expires = expiry_after(&self.config);
        let stamp = !(unchanged && self.lock.is_none() && created.is_none());
        let record = self.data.take().map(|data| match stamp {
            true => self.record(data, expires),
            false => Record { data, expires },
        });
        let unchanged = unchanged && self.created == created;
        match record {
            // Not loaded, nothing to delete: what an earlier request of the queue passed on
            // with the lock (its expiry extension) goes on to the next.
            None if delete.is_empty() => SavePlan::Nothing,
            Some(record) if unchanged => SavePlan::Extend {
                id: self.id,
                record,
            },
            record => SavePlan::Write {
                id: self.id,
                delete,
                record,
            },
        }
    }

    /// CherryPy's RAM store hands the handler the stored dict itself, so what a failing
    /// handler changed in an existing session stays visible, without a save extending its
    /// expiry (what it only read stays as the store holds it). A new session is not
    /// stored, the other stores keep nothing (their data is a copy that only a save
    /// writes), and a refused request stores nothing (its changes would overwrite newer
    /// data).
    fn failed_changes_plan(&mut self) -> SavePlan {
        // Data only read has nothing to keep: stored again, it could go over a newer copy.
        if !self.store.keeps_failed_changes() || self.used_without_lock || !self.written {
            return SavePlan::Nothing;
        }
        match (self.data.take(), self.stored_expiry) {
            (Some(data), Some(expires)) => SavePlan::Write {
                id: self.id,
                delete: Vec::new(),
                record: Some(self.record(data, expires)),
            },
            _ => SavePlan::Nothing,
        }
    }
}
