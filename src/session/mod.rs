//! The `Session` extractor: the request's CherryPy session, with actix-session's method names
//! (`get`, `insert`, `remove`, `clear`, `purge`, `renew`, `entries`, `status`) and CherryPy's
//! (`id`, `expire`, `regenerate`, `delete`, `acquire_lock`, `release_lock`, `locked`,
//! `loaded`).
//!
//! Data is fetched before the handler runs but counts as *loaded* only once the handler reads
//! or writes it: only a loaded session is saved, and only a save extends its expiry.

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
use crate::store::pickle::{self, Weight};
use crate::store::{AnyStore, SessionLock};

mod convert;
mod end;
mod explicit_lock;
mod lifetime;
mod serde_value;
mod state;

pub use convert::ValueError;
pub(crate) use end::{Ending, SavePlan};
pub(crate) use lifetime::{outlived, same_but_created};
use state::State;

/// What happened to the session in this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// Data was written: it will be saved.
    Changed,
    /// Data was read and not written: it will be saved all the same, as CherryPy saves
    /// every session a request loaded (that is how its expiry moves on), but nothing in it
    /// changed. (Stores that can extend the expiry alone do just that.)
    Read,
    /// `purge()`: data deleted and the cookie expired.
    Purged,
    /// `regenerate()`/`renew()`: a new id.
    Renewed,
    /// Untouched: nothing is saved.
    Unchanged,
}

/// The request's session. Cheap to clone; clones share the state.
///
/// A handler takes it as an extractor and uses actix-session's method names; values go
/// through serde and are stored as the Python values CherryPy stores:
///
/// ```
/// use actix_cherrypy::Session;
///
/// async fn visit(session: Session) -> actix_web::Result<String> {
///     let visits: i64 = session.get("visits")?.unwrap_or(0) + 1;
///     session.insert("visits", visits)?;
///     Ok(format!("visit {visits}"))
/// }
/// # actix_web::rt::System::new().block_on(async {
/// # let session = Session::detached();
/// # assert_eq!(visit(session.clone()).await.unwrap(), "visit 1");
/// # assert_eq!(visit(session).await.unwrap(), "visit 2");
/// # });
/// ```
#[derive(Clone)]
pub struct Session(Rc<RefCell<State>>);

/// What the middleware found in the store for the request's id.
pub(crate) struct Fetched {
    /// The stored data; `None` for a new or expired session.
    pub(crate) data: Option<SessionData>,
    /// When the stored session expires, if one was stored.
    pub(crate) stored_expiry: Option<std::time::SystemTime>,
    /// A session past `max_lifetime` that this new one replaces: its stored data is
    /// deleted at the save.
    pub(crate) replaces: Option<SessionId>,
}

impl Session {
    fn new(state: State) -> Self {
        Self(Rc::new(RefCell::new(state)))
    }

    /// The request's session as the middleware opened it: the id it settled on, what the
    /// store held under it, and the lock if the locking mode took it.
    pub(crate) fn opened(
        config: Arc<SessionConfig>,
        store: AnyStore,
        id: SessionId,
        fetched: Fetched,
        lock: Option<SessionLock>,
    ) -> Self {
        let mut state = State::new(config, store, id);
        state.fetched = state.fetched_from_store(fetched.data);
        state.stored_expiry = fetched.stored_expiry;
        state.delete.extend(fetched.replaces);
        state.lock = lock;
        Self::new(state)
    }

    /// The store the session lives in.
    pub(crate) fn store(&self) -> AnyStore {
        self.0.borrow().store.clone()
    }

    /// `expire()` ran: the response's cookie goes out expired.
    pub(crate) fn cookie_expired(&self) -> bool {
        self.0.borrow().cookie_expired
    }

    /// `regenerate_with_persistent_cookie()` ran: the cookie is set from `timeout` alone.
    pub(crate) fn wants_persistent_cookie(&self) -> bool {
        self.0.borrow().regenerated
    }

    /// A session that belongs to no store and no request: CherryPy 18's defaults, a fresh
    /// id, empty data, an in-memory store of its own. What is written to it is kept while
    /// it lives and never saved. The extractor gives one where the middleware opened no
    /// session; tests can build one without a server.
    ///
    /// ```
    /// use actix_cherrypy::session::Session;
    ///
    /// let session = Session::detached();
    /// session.insert("user", "ann").unwrap();
    /// assert_eq!(session.get::<String>("user").unwrap().as_deref(), Some("ann"));
    /// assert!(session.is_detached());
    /// ```
    pub fn detached() -> Self {
        let mut state = State::new(
            Arc::new(SessionConfig::default()),
            AnyStore::Ram(crate::store::RamStore::new()),
            SessionId::generate(),
        );
        state.detached = true;
        Self::new(state)
    }

    /// Whether this is a [`Session::detached`] one: nothing written to it is saved.
    pub fn is_detached(&self) -> bool {
        self.0.borrow().detached
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
    ///
    /// ```
    /// use actix_cherrypy::session::{Session, SessionStatus};
    ///
    /// let session = Session::detached();
    /// assert_eq!(session.status(), SessionStatus::Unchanged);
    /// let _: Option<String> = session.get("user").unwrap();
    /// assert_eq!(session.status(), SessionStatus::Read); // saved only to extend its expiry
    /// session.insert("user", "ann").unwrap();
    /// assert_eq!(session.status(), SessionStatus::Changed);
    /// ```
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
    /// or over what the session's store can hold: [`MAX_SESSION_BYTES`](crate::limits::MAX_SESSION_BYTES)
    /// of the pickle that store writes (protocol 4 for files, 5 for Redis, 0 for
    /// memcached), and for memcached the server's item size limit. The error answers 413
    /// if a handler returns it with `?`. The check measures only `value` (and the value it
    /// replaces): the rest of the session is measured once per request.
    pub fn insert_value(
        &self,
        key: impl Into<String>,
        value: SessionValue,
    ) -> Result<(), ValueError> {
        let key = key.into();
        let mut state = self.0.borrow_mut();
        let budget = state.budget;
        let added = pickle::measure_entry(&key, &value, budget.encoding)
            .map_err(ValueError::over_budget)?;
        let before = state.entries_size();
        let data = state.data();
        let (replaced, n) = match data.get(&key) {
            Some(old) => (entry_size(&key, old, budget), data.len()),
            None => (Weight::default(), data.len() + 1),
        };
        let after = before.minus(replaced).plus(added);
        let created = state.stamps_created();
        after
            .check(n, budget, created)
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
            state.size = Some(size.minus(entry_size(key, v, state.budget)));
        }
        removed
    }

    /// actix-session's `remove_as`: removes `key` and converts its value with serde.
    /// (`remove` returns the session's own value, the Python data model, where actix-session
    /// returns a JSON string: this crate's sessions hold Python values, not JSON.)
    ///
    /// ```
    /// use actix_cherrypy::Session;
    ///
    /// let session = Session::detached();
    /// session.insert("cart", vec![3, 4]).unwrap();
    /// let cart: Vec<u32> = session.remove_as("cart").unwrap().unwrap();
    /// assert_eq!(cart, [3, 4]);
    /// assert!(!session.contains_key("cart"));
    /// ```
    pub fn remove_as<T: DeserializeOwned>(&self, key: &str) -> Option<Result<T, ValueError>> {
        self.remove(key).map(|v| convert::from_value(&v))
    }

    /// Whether `key` is in the session (a read: the session is loaded).
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.borrow_mut().data().contains_key(key)
    }

    /// actix-session's `update`: replaces the value under `key`, if there is one, with
    /// `updater` applied to it; nothing is inserted when there is none.
    ///
    /// ```
    /// use actix_cherrypy::Session;
    ///
    /// let session = Session::detached();
    /// session.update("n", |n: i64| n + 1).unwrap();
    /// assert!(!session.contains_key("n"));
    /// session.update_or("n", 1, |n: i64| n + 1).unwrap();
    /// session.update_or("n", 1, |n: i64| n + 1).unwrap();
    /// assert_eq!(session.get::<i64>("n").unwrap(), Some(2));
    /// ```
    pub fn update<T, F>(&self, key: &str, updater: F) -> Result<(), ValueError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(T) -> T,
    {
        match self.get::<T>(key)? {
            Some(value) => self.insert(key, updater(value)),
            None => Ok(()),
        }
    }

    /// actix-session's `update_or`: as [`Session::update`], or inserts `default` when
    /// `key` is not there.
    pub fn update_or<T, F>(&self, key: &str, default: T, updater: F) -> Result<(), ValueError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(T) -> T,
    {
        match self.get::<T>(key)? {
            Some(value) => self.insert(key, updater(value)),
            None => self.insert(key, default),
        }
    }

    /// Removes every key (the empty session is still saved).
    pub fn clear(&self) {
        let mut state = self.0.borrow_mut();
        state.data_to_write().clear();
        state.size = Some(Weight::default());
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
        // Data loaded, or written after, is stored again: without the lock, only over the
        // session this request knew.
        state.fence_unlocked_change();
        let id = state.id;
        state.delete.push(id);
        state.fetched = None;
    }

    /// CherryPy's `expire()`: the response's cookie expires (one year in the past, no
    /// `Max-Age`); the stored data is kept.
    pub fn expire(&self) {
        self.0.borrow_mut().cookie_expired = true;
    }

    /// The session object's `regenerate()` in CherryPy (`cherrypy.session.regenerate()`,
    /// what a login handler calls): a new id; the old id's data is deleted, and data that
    /// was loaded in this request moves to the new id. The cookie is set as on any other
    /// response (a browser-session cookie stays one). Returns the new id.
    pub fn regenerate(&self) -> SessionId {
        let mut state = self.0.borrow_mut();
        state.check_lock();
        // Loaded data moves to the new id: without the lock, only if it is still current.
        if state.data.is_some() {
            state.fence_unlocked_change();
        }
        let old = state.id;
        state.delete.push(old);
        state.fetched = None;
        // 160 random bits: a collision with a stored id is not a practical concern, so the
        // new id is not checked against the store here (CherryPy loops until it is unused).
        state.id = SessionId::generate();
        state.status = SessionStatus::Renewed;
        state.id
    }

    /// CherryPy's tool function `cherrypy.tools.sessions.regenerate()` (also
    /// `cherrypy.lib.sessions.regenerate()`): [`Session::regenerate`], and the cookie is set
    /// again from `timeout` alone, so it carries `expires` and `Max-Age` even with
    /// `persistent = False` (unless `timeout` is 0). For sites whose handlers call that
    /// function and rely on the persistent cookie it gives.
    pub fn regenerate_with_persistent_cookie(&self) -> SessionId {
        let id = self.regenerate();
        self.0.borrow_mut().regenerated = true;
        id
    }

    /// actix-session's `renew()`: a new id for the same data. Unlike CherryPy's
    /// [`Session::regenerate`], which keeps only what this request already read, the data
    /// is loaded first, so a handler written against actix-session (renew at sign-in, then
    /// keep the cart) loses nothing.
    ///
    /// ```
    /// use actix_cherrypy::Session;
    ///
    /// let session = Session::detached();
    /// session.insert("cart", 3).unwrap();
    /// let before = session.id();
    /// session.renew();
    /// assert_ne!(session.id(), before);
    /// assert_eq!(session.get::<i64>("cart").unwrap(), Some(3));
    /// ```
    pub fn renew(&self) {
        self.0.borrow_mut().data();
        self.regenerate();
    }

    /// actix-session's `purge()`: clears the data, deletes it from the store and expires
    /// the cookie.
    ///
    /// ```
    /// use actix_cherrypy::session::{Session, SessionStatus};
    ///
    /// let session = Session::detached();
    /// session.insert("user", "ann").unwrap();
    /// session.purge();
    /// assert_eq!(session.status(), SessionStatus::Purged);
    /// assert!(session.entries().is_empty());
    /// ```
    pub fn purge(&self) {
        self.delete();
        let mut state = self.0.borrow_mut();
        state.data = None;
        state.cookie_expired = true;
        state.status = SessionStatus::Purged;
    }
}

/// One entry's weight in the session's store. Data already in the session was measured
/// when it was inserted or decoded; should it not measure, it counts as over any budget, so
/// nothing more is added.
fn entry_size(key: &str, value: &SessionValue, budget: pickle::Budget) -> Weight {
    pickle::measure_entry(key, value, budget.encoding).unwrap_or_else(|_| Weight::over())
}

/// When a session saved now expires: now + `timeout` minutes (see [`later`]).
pub(crate) fn expiry_after(config: &SessionConfig) -> std::time::SystemTime {
    later(
        std::time::SystemTime::now(),
        config.timeout.value.as_duration(),
    )
}

/// `now` plus `duration`, saturating at a hundred years ahead: a duration from a config is
/// far below any overflow (its range is checked when the config is read), and this keeps
/// one set in code from panicking a request (an absurd timeout is a session, or a cookie,
/// that does not expire).
pub(crate) fn later(
    now: std::time::SystemTime,
    duration: std::time::Duration,
) -> std::time::SystemTime {
    now.checked_add(duration)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(100 * 365 * 24 * 60 * 60))
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

/// Where the middleware opened no session (sessions are off for the path, or the
/// middleware is not installed), the extractor gives a [`Session::detached`] one, as
/// actix-session's extractor never fails: the handler runs, and what it writes goes nowhere
/// (a `debug` event says so). A handler that must tell the difference asks
/// [`Session::is_detached`].
/// `get_session()` on a request, for middleware and guards, as actix-session's
/// `SessionExt`: the request's session, or a [`Session::detached`] one where the middleware
/// opened none.
pub trait SessionExt {
    /// The request's session.
    fn get_session(&self) -> Session;
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Session {
        session_of(&self.extensions(), self.path())
    }
}

impl SessionExt for actix_web::dev::ServiceRequest {
    fn get_session(&self) -> Session {
        session_of(&self.extensions(), self.path())
    }
}

impl SessionExt for actix_web::guard::GuardContext<'_> {
    fn get_session(&self) -> Session {
        session_of(&self.req_data(), self.head().uri.path())
    }
}

fn session_of(extensions: &actix_web::dev::Extensions, path: &str) -> Session {
    extensions.get::<Session>().cloned().unwrap_or_else(|| {
        tracing::debug!(
            path,
            "no session here (tools.sessions.on is false for this path, or the CherryPySessions middleware is not installed): a detached session, whose writes go nowhere"
        );
        Session::detached()
    })
}

impl FromRequest for Session {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(req.get_session()))
    }
}
