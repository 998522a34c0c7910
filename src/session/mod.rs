//! The `Session` extractor: the request's CherryPy session, with actix-session's method names
//! (`get`, `insert`, `remove`, `clear`, `purge`, `renew`, `entries`, `status`) and CherryPy's
//! (`id`, `expire`, `regenerate`, `delete`, `acquire_lock`, `release_lock`, `locked`,
//! `loaded`).
//!
//! Data is fetched before the handler runs but counts as *loaded* only once the handler reads
//! or writes it: only a loaded session is saved, and only a save extends its expiry (spec:
//! sessions §6).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session_config::SessionConfig;
use crate::session_id::SessionId;
use crate::session_value::{SessionData, SessionValue};
use crate::store::pickle::{self, SessionSize};
use crate::store::{AnyStore, SessionLock, SessionStore, StoreError};

mod convert;
mod serde_value;

pub use convert::ValueError;

/// What happened to the session in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// Data was read or written: it will be saved.
    Changed,
    /// `purge()`: data deleted and the cookie expired.
    Purged,
    /// `regenerate()`/`renew()`: a new id.
    Renewed,
    /// Untouched: nothing is saved.
    Unchanged,
}

/// The request's session. Cheap to clone; clones share the state.
#[derive(Clone)]
pub struct Session(Rc<RefCell<State>>);

pub(crate) struct State {
    pub(crate) config: Arc<SessionConfig>,
    pub(crate) store: AnyStore,
    pub(crate) id: SessionId,
    /// Fetched before the handler; `None` for a new or expired session.
    pub(crate) fetched: Option<SessionData>,
    /// When the stored session expires, if one was stored (kept when a failed request's
    /// changes are stored without extending the expiry).
    pub(crate) stored_expiry: Option<std::time::SystemTime>,
    /// The working data once loaded.
    pub(crate) data: Option<SessionData>,
    /// `data` was loaded from the store (not started empty for a new or expired session).
    pub(crate) data_from_store: bool,
    /// The handler inserted, removed or cleared something: the save writes the data, not
    /// only a later expiry.
    pub(crate) written: bool,
    pub(crate) status: SessionStatus,
    pub(crate) lock: Option<SessionLock>,
    /// `expire()`: the cookie goes out expired.
    pub(crate) cookie_expired: bool,
    /// `regenerate()` ran: CherryPy then re-sets the cookie without `persistent`.
    pub(crate) regenerated: bool,
    /// What the entries of `data` add up to against the session budget, once the first
    /// insert of the request has measured them; kept current by `insert`, `remove` and
    /// `clear`, so an insert measures only its own value.
    pub(crate) size: Option<SessionSize>,
    /// Ids whose stored data must be deleted before the save (`regenerate`, `delete`).
    pub(crate) delete: Vec<SessionId>,
    /// The store is CherryPy's FileSession, which refuses (an `AssertionError`, so an
    /// error page) to load, save or delete a session whose lock the request does not hold.
    pub(crate) lock_guards_data: bool,
    /// The handler loaded or deleted the session without its lock where
    /// `lock_guards_data`: the request fails as it does in CherryPy.
    pub(crate) used_without_lock: bool,
}

impl State {
    pub(crate) fn new(config: Arc<SessionConfig>, store: AnyStore, id: SessionId) -> Self {
        let lock_guards_data = matches!(store, AnyStore::File(_));
        Self {
            config,
            store,
            id,
            fetched: None,
            stored_expiry: None,
            data: None,
            data_from_store: false,
            written: false,
            status: SessionStatus::Unchanged,
            lock: None,
            cookie_expired: false,
            regenerated: false,
            size: None,
            delete: Vec::new(),
            lock_guards_data,
            used_without_lock: false,
        }
    }

    /// CherryPy's FileSession checks the lock on every load, save and delete.
    fn check_lock(&mut self) {
        if self.lock_guards_data && self.lock.is_none() {
            self.used_without_lock = true;
        }
    }

    /// CherryPy's lazy `load()`: the first access takes the fetched data.
    fn data(&mut self) -> &mut SessionData {
        if self.status == SessionStatus::Unchanged {
            self.status = SessionStatus::Changed;
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
    fn data_to_write(&mut self) -> &mut SessionData {
        self.written = true;
        self.data()
    }

    /// What the entries of the data add up to, measured once per request.
    fn entries_size(&mut self) -> SessionSize {
        self.data();
        if let Some(size) = self.size {
            return size;
        }
        let size = self
            .data
            .iter()
            .flatten()
            .map(|(k, v)| entry_size(k, v))
            .fold(SessionSize::default(), SessionSize::plus);
        self.size = Some(size);
        size
    }

    /// The save only has to extend the expiry: the data is the stored one, unchanged, and
    /// stays under the same id.
    pub(crate) fn unchanged_since_load(&self) -> bool {
        self.data_from_store && !self.written && self.delete.is_empty()
    }
}

impl Session {
    pub(crate) fn new(state: State) -> Self {
        Self(Rc::new(RefCell::new(state)))
    }

    pub(crate) fn state(&self) -> std::cell::RefMut<'_, State> {
        self.0.borrow_mut()
    }

    /// The session id, without loading the data.
    pub fn id(&self) -> SessionId {
        self.0.borrow().id
    }

    /// Whether the data has been read or written in this request (it will be saved).
    pub fn loaded(&self) -> bool {
        self.0.borrow().data.is_some()
    }

    /// Whether this request holds the session's lock.
    pub fn locked(&self) -> bool {
        self.0.borrow().lock.is_some()
    }

    /// What happened to the session so far.
    pub fn status(&self) -> SessionStatus {
        self.0.borrow().status
    }

    /// The value under `key`, converted with serde.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ValueError> {
        self.get_value(key)
            .map(|v| convert::from_value(&v))
            .transpose()
    }

    /// The raw value under `key`.
    pub fn get_value(&self, key: &str) -> Option<SessionValue> {
        self.0.borrow_mut().data().get(key).cloned()
    }

    /// Stores `value` under `key`, converted with serde.
    ///
    /// Refused, with the session left as it was, as [`Session::insert_value`] refuses.
    pub fn insert<T: Serialize>(&self, key: impl Into<String>, value: T) -> Result<(), ValueError> {
        let value = convert::to_value(&value)?;
        self.insert_value(key, value)
    }

    /// Stores a raw value under `key`.
    ///
    /// A value that the session could not store and read back is refused, and the session
    /// is left as it was: one nested deeper than
    /// [`MAX_SESSION_DEPTH`](crate::limits::MAX_SESSION_DEPTH), a dict keyed by a list or
    /// dict, an int beyond [`MAX_INT_DIGITS`](crate::limits::MAX_INT_DIGITS), or one that
    /// would take the session over [`MAX_SESSION_VALUES`](crate::limits::MAX_SESSION_VALUES)
    /// or [`MAX_SESSION_BYTES`](crate::limits::MAX_SESSION_BYTES) (measured as the pickle
    /// the file and Redis stores write). The error answers 413 if a handler returns it
    /// with `?`. The check measures only `value` (and the value it replaces): the rest of
    /// the session is measured once per request.
    pub fn insert_value(
        &self,
        key: impl Into<String>,
        value: SessionValue,
    ) -> Result<(), ValueError> {
        let key = key.into();
        let added = pickle::measure_entry(&key, &value).map_err(ValueError::over_budget)?;
        let mut state = self.0.borrow_mut();
        let before = state.entries_size();
        let data = state.data();
        let (replaced, n) = match data.get(&key) {
            Some(old) => (entry_size(&key, old), data.len()),
            None => (SessionSize::default(), data.len() + 1),
        };
        let after = before.minus(replaced).plus(added);
        pickle::session_size(after, n)
            .check()
            .map_err(ValueError::over_budget)?;
        state.data_to_write().insert(key, value);
        state.size = Some(after);
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<SessionValue> {
        let mut state = self.0.borrow_mut();
        let removed = state.data_to_write().shift_remove(key);
        if let (Some(size), Some(v)) = (state.size, &removed) {
            state.size = Some(size.minus(entry_size(key, v)));
        }
        removed
    }

    /// Removes every key (the empty session is still saved).
    pub fn clear(&self) {
        let mut state = self.0.borrow_mut();
        state.data_to_write().clear();
        state.size = Some(SessionSize::default());
    }

    /// A copy of the whole session dict (loads it).
    pub fn entries(&self) -> SessionData {
        self.0.borrow_mut().data().clone()
    }

    /// CherryPy's `delete()`: removes the stored data. If the data was loaded in this
    /// request it is saved again at the end, as in CherryPy.
    pub fn delete(&self) {
        let mut state = self.0.borrow_mut();
        state.check_lock();
        let id = state.id;
        state.delete.push(id);
        state.fetched = None;
    }

    /// CherryPy's `expire()`: the response's cookie expires (one year in the past, no
    /// `Max-Age`); the stored data is kept.
    pub fn expire(&self) {
        self.0.borrow_mut().cookie_expired = true;
    }

    /// CherryPy's `regenerate()`: a new id; the old id's data is deleted, and data that was
    /// loaded in this request moves to the new id. Returns the new id.
    pub fn regenerate(&self) -> SessionId {
        let mut state = self.0.borrow_mut();
        state.check_lock();
        let old = state.id;
        state.delete.push(old);
        state.fetched = None;
        // 160 random bits: a collision with a stored id is not a practical concern, so the
        // new id is not checked against the store here (CherryPy loops until it is unused).
        state.id = SessionId::generate();
        state.status = SessionStatus::Renewed;
        state.regenerated = true;
        state.id
    }

    /// actix-session's `renew()`: [`Session::regenerate`].
    pub fn renew(&self) {
        self.regenerate();
    }

    /// actix-session's `purge()`: clears the data, deletes it from the store and expires
    /// the cookie.
    pub fn purge(&self) {
        self.delete();
        let mut state = self.0.borrow_mut();
        state.data = None;
        state.cookie_expired = true;
        state.status = SessionStatus::Purged;
    }

    /// Explicit locking: waits for the session's lock (`lock_timeout` applies). Data not yet
    /// loaded is fetched again under the lock, so it is current.
    pub async fn acquire_lock(&self) -> Result<(), StoreError> {
        let (store, id, timeout) = {
            let state = self.0.borrow();
            if state.lock.is_some() {
                return Ok(());
            }
            (state.store.clone(), state.id, lock_timeout(&state.config))
        };
        let lock = store.lock(&id, timeout).await?;
        let record = store.load(&id).await?;
        let mut state = self.0.borrow_mut();
        state.lock = Some(lock);
        if state.data.is_none() {
            let now = std::time::SystemTime::now();
            state.fetched = record.filter(|r| !r.is_expired(now)).map(|r| r.data);
        }
        Ok(())
    }

    /// Explicit locking: releases the lock now (otherwise it is released after the save).
    ///
    /// What this request changed becomes visible to the next holder of the lock at once,
    /// as with CherryPy's RAM sessions, where every request shares the stored dict; the
    /// save at the end of the request still extends the expiry. (Otherwise the next holder
    /// could read the data from before this request and lose its update.)
    pub fn release_lock(&self) {
        let mut state = self.0.borrow_mut();
        let Some(lock) = state.lock.take() else {
            return;
        };
        let record = match (&state.data, state.stored_expiry) {
            (Some(data), Some(expires)) => Some(crate::store::Record {
                data: data.clone(),
                expires,
            }),
            _ => None,
        };
        state
            .store
            .write_through_and_release(&state.id, record, lock);
    }
}

/// One entry's size. Data already in the session was measured when it was inserted or
/// decoded; should it not measure, it counts as over any budget, so nothing more is added.
fn entry_size(key: &str, value: &SessionValue) -> SessionSize {
    pickle::measure_entry(key, value).unwrap_or(SessionSize {
        values: usize::MAX / 2,
        bytes: usize::MAX / 2,
    })
}

pub(crate) fn lock_timeout(config: &SessionConfig) -> Option<std::time::Duration> {
    // CherryPy: None or 0 waits for ever. (A config cannot give a negative value; one set
    // in code waits for ever too.) The conversion saturates, so no value can panic.
    config
        .lock_timeout
        .value
        .filter(|s| *s > 0.0)
        .map(crate::session_config::seconds_duration)
}

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.extensions().get::<Session>().cloned();
        std::future::ready(session.ok_or_else(|| {
            actix_web::error::ErrorInternalServerError(
                "no session here: tools.sessions.on is false for this path, or the CherryPySessions middleware is not installed",
            )
        }))
    }
}
