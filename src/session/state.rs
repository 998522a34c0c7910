//! What one request knows of its session: the id, the data fetched and the working copy,
//! what the handler did to it (read, written, expired, regenerated, locked, released), and
//! the rules that follow from that (CherryPy's lazy load, the FileSession lock check, the
//! budget's running size). Only the session module reads and writes it.

use std::sync::Arc;

use super::{SessionStatus, entry_size, explicit_lock, lifetime};
use crate::session_config::SessionConfig;
use crate::session_id::SessionId;
use crate::session_value::SessionData;
use crate::store::pickle::{Budget, Weight};
use crate::store::{AnyStore, Record, SessionLock, SessionStore, StoreError};

/// The request's session, behind [`super::Session`]'s `Rc<RefCell<_>>`.
pub(super) struct State {
    /// Made by [`Session::detached`]: no middleware will save it.
    pub(super) detached: bool,
    pub(super) config: Arc<SessionConfig>,
    pub(super) store: AnyStore,
    pub(super) id: SessionId,
    /// Fetched before the handler; `None` for a new or expired session. Without its
    /// creation time, which is in `created`.
    pub(super) fetched: Option<SessionData>,
    /// When the session was created (a Unix timestamp), if its stored data says so or it
    /// was stored with one in this request: see [`lifetime`].
    pub(super) created: Option<f64>,
    /// When the stored session expires, if one was stored (kept when a failed request's
    /// changes are stored without extending the expiry).
    pub(super) stored_expiry: Option<std::time::SystemTime>,
    /// The working data once loaded.
    pub(super) data: Option<SessionData>,
    /// `data` was loaded from the store (not started empty for a new or expired session).
    pub(super) data_from_store: bool,
    /// The handler inserted, removed or cleared something: the save writes the data, not
    /// only a later expiry.
    pub(super) written: bool,
    pub(super) status: SessionStatus,
    pub(super) lock: Option<SessionLock>,
    /// `release_lock()` stored the data and let go of the lock: see [`explicit_lock::Released`].
    pub(super) released: Option<explicit_lock::Released>,
    /// The stores' writes `release_lock()` left running (Redis, memcached), each releasing
    /// the lock when done; the end of the request waits for them and reports a failure.
    pub(super) pending_writes: Vec<tokio::task::JoinHandle<Result<(), StoreError>>>,
    /// `expire()`: the cookie goes out expired.
    pub(super) cookie_expired: bool,
    /// `regenerate_with_persistent_cookie()` ran: the cookie is set from `timeout` alone,
    /// without regard to `persistent`, as CherryPy's tool function does.
    pub(super) regenerated: bool,
    /// What the entries of `data` add up to against the session budget, once the first
    /// insert of the request has measured them; kept current by `insert`, `remove` and
    /// `clear`, so an insert measures only its own value.
    pub(super) size: Option<Weight>,
    /// What the store can hold, and how it writes the session: what `size` weighs.
    pub(super) budget: Budget,
    /// Ids whose stored data must be deleted before the save (`regenerate`, `delete`).
    pub(super) delete: Vec<SessionId>,
    /// The store is CherryPy's FileSession, which refuses (an `AssertionError`, so an
    /// error page) to load, save or delete a session whose lock the request does not hold.
    pub(super) lock_guards_data: bool,
    /// The handler loaded or deleted the session without its lock where
    /// `lock_guards_data`: the request fails as it does in CherryPy.
    pub(super) used_without_lock: bool,
    /// When the session was fetched: what was live then is what the request relied on.
    pub(super) opened: std::time::SystemTime,
}

impl State {
    pub(super) fn new(config: Arc<SessionConfig>, store: AnyStore, id: SessionId) -> Self {
        let lock_guards_data = store.requires_lock();
        let budget = store.budget();
        Self {
            detached: false,
            config,
            store,
            id,
            fetched: None,
            created: None,
            stored_expiry: None,
            data: None,
            data_from_store: false,
            written: false,
            status: SessionStatus::Unchanged,
            lock: None,
            released: None,
            pending_writes: Vec::new(),
            cookie_expired: false,
            regenerated: false,
            size: None,
            budget,
            delete: Vec::new(),
            lock_guards_data,
            used_without_lock: false,
            opened: std::time::SystemTime::now(),
        }
    }

    /// CherryPy's FileSession checks the lock on every load, save and delete.
    pub(super) fn check_lock(&mut self) {
        if self.lock_guards_data && self.lock.is_none() {
            self.used_without_lock = true;
        }
    }

    /// CherryPy's lazy `load()`: the first access takes the fetched data.
    pub(super) fn data(&mut self) -> &mut SessionData {
        if self.status == SessionStatus::Unchanged {
            self.status = SessionStatus::Read;
        }
        if self.data.is_none() {
            self.check_lock();
            self.size = None;
        }
        let (fetched, from_store) = (&mut self.fetched, &mut self.data_from_store);
        self.data.get_or_insert_with(|| {
            *from_store = fetched.is_some();
            fetched.take().unwrap_or_default()
        })
    }

    /// [`Self::data`], to change it.
    pub(super) fn data_to_write(&mut self) -> &mut SessionData {
        if !self.written {
            self.fence_unlocked_change();
        }
        self.written = true;
        if matches!(self.status, SessionStatus::Unchanged | SessionStatus::Read) {
            self.status = SessionStatus::Changed;
        }
        self.data()
    }

    /// Explicit locking, before the first change a request makes without ever having held
    /// the lock: keeps what the data is now, so that the end of the request stores the
    /// change only if the stored session is still that (see `Session::end`). Without it,
    /// two such requests that read, then write, would each answer 200 and one's update
    /// would be lost. A session first stored by this request is not fenced: no other
    /// request knows its id. File sessions refuse unlocked changes instead.
    pub(super) fn fence_unlocked_change(&mut self) {
        let never_locked = self.lock.is_none() && self.released.is_none();
        // An id `regenerate()` gave (it fenced the old one first) is this request's alone.
        let new_id = self.stored_expiry.is_none() || self.status == SessionStatus::Renewed;
        if !never_locked || self.detached || self.lock_guards_data || new_id {
            return;
        }
        let base = match &self.data {
            Some(data) if self.data_from_store => Some(data.clone()),
            Some(_) => None,
            None => self.fetched.clone(),
        };
        self.released = Some(explicit_lock::Released {
            id: self.id,
            base,
            after_release: false,
            at: self.opened,
        });
    }

    /// What the entries of the data add up to, measured once per request.
    pub(super) fn entries_size(&mut self) -> Weight {
        self.data();
        if let Some(size) = self.size {
            return size;
        }
        let budget = self.budget;
        let size = self
            .data
            .iter()
            .flatten()
            .map(|(k, v)| entry_size(k, v, budget))
            .fold(Weight::default(), Weight::plus);
        self.size = Some(size);
        size
    }

    /// Whether the save adds the creation time to the data (see [`lifetime`]): the insert
    /// leaves room for it.
    pub(super) fn stamps_created(&self) -> bool {
        self.created.is_some() || lifetime::stamps(&self.config)
    }

    /// The save only has to extend the expiry: the data is the stored one, unchanged, and
    /// stays under the same id.
    pub(super) fn unchanged_since_load(&self) -> bool {
        self.data_from_store && !self.written && self.delete.is_empty()
    }

    /// Data fetched from the store, its creation time taken out into `created`.
    pub(super) fn fetched_from_store(&mut self, data: Option<SessionData>) -> Option<SessionData> {
        data.map(|mut data| {
            self.created = lifetime::take_created(&mut data).or(self.created);
            data
        })
    }

    /// The record to store: `data` with its creation time (see [`lifetime`]).
    pub(super) fn record(&mut self, data: SessionData, expires: std::time::SystemTime) -> Record {
        let (data, created) = lifetime::stamped(&self.config, self.created, data);
        self.created = created;
        Record { data, expires }
    }
}
