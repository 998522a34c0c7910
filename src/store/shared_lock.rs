//! Session locks held in a shared server (Redis, memcached), so that several processes
//! serialise one session's requests. CherryPy has nothing like it: its memcached locks, and
//! those of Redis packages such as `cherrys`, are per process.
//!
//! A lock is a key holding a random token, set only if absent, with a lease. Requests of one
//! process queue on an in-process lock first, and the server's lock passes from one to the
//! next without a round trip ([`LockTable::lock_with_outer`]); across processes a waiter
//! retries with a short backoff (the servers have no blocking "set if absent"). While a lock
//! is held its lease is renewed, so a long request keeps it and a crashed process frees it
//! within one lease: one task per store renews every held lock ([`Renewals`]), as a task
//! per lock would cost a spawn on every request. Release deletes the key only if it still
//! holds the holder's token.
//!
//! Fairness between processes: a process whose requests keep coming would otherwise keep
//! the lock, as its next request retakes it at once while a waiter of another process is
//! asleep between two attempts. So a waiter that finds the lock taken queues itself, in
//! the same attempt (before it sleeps): the server keeps one queued token per lock (one
//! waiter at a time; the others retry to queue). A release that finds a queued waiter does
//! not free the lock but hands it to that waiter (the lock key then holds the waiter's
//! token), and a free lock is not taken by anyone but the queued waiter. Queueing and
//! releasing are atomic with respect to each other (a Redis script each; on memcached the
//! queued token is in the lock's own key, changed by compare-and-swap), so a release never
//! frees the lock past a waiter that queued meanwhile. Bound: a waiter of another process,
//! once queued, gets the lock when the holding process lets go of it, which is after at
//! most [`super::lock_table::MAX_HAND_OVERS`] + 1 of its requests in a row (the one holding
//! it when the waiter queued, and the hand-overs after it). A waiter that gave up leaves
//! the queue; one that crashed holds its place for at most Redis' `QUEUE_HOLD` (on
//! memcached, until the lock is released or expires), and a lock handed to it for at most
//! [`HANDED_OVER_LEASE`].
//!
//! That queue is ours alone: cherrys waits by polling every 100 ms, and would find the lock
//! held at every try while our processes keep it busy. So a Redis lock's busy run is
//! carried from holder to holder, and a long one is ended by a gap (see `fair`): each
//! holder tells the release how long it has seen the lock busy ([`Run`]).

use crate::store::{ErrorChain, redact};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

pub(crate) use super::fair::Run;
use super::fair::{self, ServerRelease};
use super::{LockTable, SessionLock, StoreError};
use crate::session_id::SessionId;

/// How long a lock outlives a holder that stopped renewing it (a crashed process), unless
/// the store is given another lease.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The longest pause between two attempts to take a lock held by another process. Short,
/// as a lock handed to a queued waiter stays unused until its next attempt.
const MAX_BACKOFF: Duration = Duration::from_millis(5);

/// The lease of a lock handed to a queued waiter, until that waiter takes it up with its
/// own lease on its next attempt: a waiter that went away holds it no longer.
pub(crate) const HANDED_OVER_LEASE: Duration = Duration::from_secs(2);

/// What a server offers for locks; every method is one round trip.
pub(crate) trait LockServer: Clone + Send + Sync + 'static {
    /// A handle that does not keep the store alive (for its renewal task).
    type Weak: Send + Sync + 'static;

    /// This store's [`Self::Weak`].
    fn downgrade(&self) -> Self::Weak;

    /// The store again, while any clone of it is alive.
    fn upgrade(weak: &Self::Weak) -> Option<Self>;

    /// The locks this store holds, shared by its clones.
    fn renewals(&self) -> &Arc<Renewals>;

    /// Whether the server leaves a gap in a lock's long busy run (see `fair`): CherryPy
    /// waits for this server's locks by polling. A holder of this process then stops
    /// handing the lock to the next request of this process once the run is long.
    const GAPS: bool = false;

    /// Takes the lock `key` for `token` with `lease`; whether it did. It does if the key
    /// is absent and no other waiter is queued, or if the key already holds `token`
    /// (handed over by the previous holder). Otherwise it queues `token` when nobody is
    /// queued (or renews its place if `token` is), atomically with its finding the lock
    /// held: a release that follows hands the lock to `token`.
    // The Redis store takes its locks through `acquire_with` (its attempts also watch for a
    // lock that never expires), so only memcached's go through `acquire` and this.
    #[cfg_attr(not(feature = "memcached"), allow(dead_code))]
    fn try_acquire(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Extends the lease if `key` still holds `token`; whether it did.
    fn renew(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// If `key` still holds `token`: hands it to the queued waiter (the key then holds the
    /// waiter's token, for [`HANDED_OVER_LEASE`]) or, if none is queued, deletes it. Also
    /// leaves the queue if `token` is the one queued (a waiter that gives up). `run` is
    /// the lock's busy run as the holder saw it: with [`Self::GAPS`], a long one is ended
    /// by a gap (the key deleted, even past a queued waiter, who takes it after the gap).
    fn release(
        &self,
        key: &str,
        token: &str,
        run: Run,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A request for a session's server lock.
pub(crate) struct LockRequest<'a> {
    pub(crate) id: &'a SessionId,
    /// The server's key for the lock.
    pub(crate) key: String,
    /// How long to wait; `None`: for ever.
    pub(crate) timeout: Option<Duration>,
    /// How long the server keeps the lock for a holder that stops renewing it.
    pub(crate) lease: Duration,
    /// Whether the holder is about to load the session, and so takes what a previous
    /// holder of this process passed on with the lock (`hand_over`).
    pub(crate) with_session: bool,
}

/// Takes `id`'s lock: this process's lock first, then (unless this process already holds
/// it) the server's `key`, leased for `lease` and renewed every third of it while held.
#[cfg_attr(not(feature = "memcached"), allow(dead_code))]
pub(crate) async fn acquire<S: LockServer>(
    server: &S,
    local: &LockTable,
    request: LockRequest<'_>,
) -> Result<SessionLock, StoreError> {
    let lease = request.lease;
    let attempt = |key: String, token: String| async move {
        Ok(match server.try_acquire(&key, &token, lease).await? {
            true => Tried::Taken(()),
            false => Tried::Held,
        })
    };
    let (lock, _) = acquire_with(server, local, request, attempt).await?;
    Ok(lock)
}

/// What one attempt on a server's lock found.
pub(crate) enum Tried<T> {
    /// Taken, with what the attempt fetched in the same round trip.
    Taken(T),
    /// Held, or another waiter is queued for it.
    Held,
    /// Free but in a gap (`fair`): the wait up to here was no busy time of the lock.
    #[cfg_attr(
        not(feature = "redis"),
        allow(dead_code, reason = "only Redis leaves gaps")
    )]
    InGap,
}

impl<T> Tried<T> {
    /// What was fetched, made into something else.
    #[cfg_attr(
        not(feature = "redis"),
        allow(dead_code, reason = "Redis fetches with the lock")
    )]
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Tried<U> {
        match self {
            Tried::Taken(t) => Tried::Taken(f(t)),
            Tried::Held => Tried::Held,
            Tried::InGap => Tried::InGap,
        }
    }
}

/// [`acquire`] with the server's side done by `attempt(key, token)`, which takes the key if
/// it is free and may fetch something in the same round trip ([`Tried::Taken`]). The
/// payload is returned when this call took the server's lock, `None` when the
/// lock was handed over by a previous holder in this process.
pub(crate) async fn acquire_with<S, T, A, F>(
    server: &S,
    local: &LockTable,
    request: LockRequest<'_>,
    mut attempt: A,
) -> Result<(SessionLock, Option<T>), StoreError>
where
    S: LockServer,
    A: FnMut(String, String) -> F,
    F: Future<Output = Result<Tried<T>, StoreError>>,
{
    let LockRequest {
        id,
        key,
        timeout,
        lease,
        with_session,
    } = request;
    let mut payload = None;
    let (fetched_into, key) = (&mut payload, &key);
    let take = move |left: Option<Duration>| async move {
        let deadline = left.map(|t| Instant::now() + t);
        // A fresh random token: only this holder may renew or release the key.
        let token = new_token();
        let mut waiting = Waiting {
            server: Some(server.clone()),
            key: key.clone(),
            token: token.clone(),
        };
        let mut pause = Duration::from_millis(1);
        // Since when this wait found the lock held: busy since then, at least (`fair`).
        let mut busy_since = None;
        let asked = loop {
            let asked = Instant::now();
            match attempt(key.clone(), token.clone()).await? {
                Tried::Taken(fetched) => {
                    *fetched_into = Some(fetched);
                    waiting.server = None;
                    break asked;
                }
                Tried::Held => {
                    busy_since.get_or_insert(asked);
                }
                // The lock was left free: a run of ours starts afresh after the gap.
                Tried::InGap => busy_since = None,
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                // Leave the queue, and pass on a lock handed to us meanwhile.
                release_or_warn(server, key, &token, Run::default()).await;
                waiting.server = None;
                return Err(StoreError::LockTimeout(*id));
            }
            let wait = deadline.map_or(pause, |d| pause.min(d - now));
            tokio::time::sleep(wait).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        };
        let entry = Renewals::hold(server, key.clone(), token.clone(), lease, asked);
        Ok(SessionLock::releasing(Held {
            server: server.clone(),
            key: key.clone(),
            token,
            entry,
            released: false,
            taken: asked,
            busy_since,
        }))
    };
    let lock = local
        .lock_with_outer(id, timeout, with_session, take)
        .await?;
    Ok((lock.into_session_lock(), payload))
}

/// A waiter between two attempts. Dropped before it took the lock (the request went away,
/// or an attempt failed) it leaves the queue and passes on a lock handed to it meanwhile,
/// on a task of its own, rather than hold them until they expire.
struct Waiting<S: LockServer> {
    /// `None` once the wait is over (lock taken, or released by the waiter itself).
    server: Option<S>,
    key: String,
    token: String,
}

impl<S: LockServer> Drop for Waiting<S> {
    fn drop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (key, token) = (
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
        );
        drop(
            runtime
                .spawn(async move { release_or_warn(&server, &key, &token, Run::default()).await }),
        );
    }
}

/// The [`LockServer`] items every server store spells the same way: the store is
/// `{ inner: Arc<Inner>, lease: Duration }`, with `renewals` in its `Inner`.
macro_rules! store_handles {
    () => {
        type Weak = (std::sync::Weak<Inner>, Duration);

        fn downgrade(&self) -> Self::Weak {
            (Arc::downgrade(&self.inner), self.lease)
        }

        fn upgrade((inner, lease): &Self::Weak) -> Option<Self> {
            Some(Self {
                inner: inner.upgrade()?,
                lease: *lease,
            })
        }

        fn renewals(&self) -> &Arc<shared_lock::Renewals> {
            &self.inner.renewals
        }
    };
}
pub(crate) use store_handles;

/// A lock token: unique across processes and time (a random prefix per process, then a
/// counter), without a call to the OS random source per lock.
fn new_token() -> String {
    static PREFIX: LazyLock<String> = LazyLock::new(|| {
        let id = SessionId::generate();
        id.as_str()[..16].to_owned()
    });
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}{:016x}", *PREFIX, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The locks a store holds, renewed by one task (started with the first lock, on the
/// runtime that took it; it ends with the store, and a later lock restarts it if that
/// runtime went away).
#[derive(Default)]
pub(crate) struct Renewals {
    held: Mutex<FxHashMap<u64, Entry>>,
    next: AtomicU64,
    /// The shortest lease registered, in ms: the task renews every third of it.
    lease_ms: AtomicU64,
    running: AtomicBool,
}

struct Entry {
    key: String,
    token: String,
    lease: Duration,
    /// Until when the server keeps the lock for sure: its lease from the latest acquisition
    /// or renewal that succeeded, counted from before the command was sent.
    leased_until: Instant,
}

impl Renewals {
    fn hold<S: LockServer>(
        server: &S,
        key: String,
        token: String,
        lease: Duration,
        asked: Instant,
    ) -> u64 {
        let renewals = server.renewals();
        let entry = renewals.next.fetch_add(1, Ordering::Relaxed);
        let ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(3);
        renewals.lease_ms.fetch_min(ms, Ordering::Relaxed);
        renewals
            .lease_ms
            .compare_exchange(0, ms, Ordering::Relaxed, Ordering::Relaxed)
            .ok();
        renewals
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                entry,
                Entry {
                    key,
                    token,
                    lease,
                    leased_until: asked + lease,
                },
            );
        if !renewals.running.swap(true, Ordering::AcqRel) {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(renew_held::<S>(server.downgrade()))),
                Err(_) => {
                    renewals.running.store(false, Ordering::Release);
                    tracing::warn!("no async runtime: session locks will not be renewed");
                }
            }
        }
        entry
    }

    fn release(&self, entry: u64) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&entry);
    }

    /// Whether the server keeps `entry`'s lock for `margin` more at least: false once its
    /// lease may have run out (renewals failed or did not run: a stalled process) or was
    /// found lost.
    fn leased_for(&self, entry: u64, margin: Duration) -> bool {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(&entry)
            .is_some_and(|e| Instant::now() + margin < e.leased_until)
    }

    fn renewed(&self, entry: u64, asked: Instant) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = held.get_mut(&entry) {
            e.leased_until = asked + e.lease;
        }
    }
}

/// Renews every held lock every third of the lease, until the store is dropped.
async fn renew_held<S: LockServer>(weak: S::Weak) {
    /// Lets a later lock start the task again if this one ends with its runtime.
    struct Running<S: LockServer>(S::Weak);
    impl<S: LockServer> Drop for Running<S> {
        fn drop(&mut self) {
            if let Some(server) = S::upgrade(&self.0) {
                server.renewals().running.store(false, Ordering::Release);
            }
        }
    }
    let running = Running::<S>(weak);
    loop {
        let lease_ms = match S::upgrade(&running.0) {
            Some(server) => server.renewals().lease_ms.load(Ordering::Relaxed).max(3),
            None => return,
        };
        tokio::time::sleep(Duration::from_millis(lease_ms / 3)).await;
        let Some(server) = S::upgrade(&running.0) else {
            return;
        };
        let held: Vec<(u64, String, String, Duration)> = server
            .renewals()
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(n, e)| (*n, e.key.clone(), e.token.clone(), e.lease))
            .collect();
        for (entry, key, token, lease) in held {
            let asked = Instant::now();
            match server.renew(&key, &token, lease).await {
                Ok(true) => server.renewals().renewed(entry, asked),
                Ok(false) => {
                    // Released meanwhile (no longer registered), or really lost.
                    let still_held = server
                        .renewals()
                        .held
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .remove(&entry)
                        .is_some();
                    if still_held {
                        tracing::error!(
                            lock = %redact(&key),
                            "a session lock was lost (its lease ran out); another request may now change the session concurrently"
                        );
                    }
                }
                Err(err) => tracing::warn!(
                    lock = %redact(&key),
                    error = %ErrorChain(&err),
                    "renewing a session lock failed"
                ),
            }
        }
    }
}

/// Deletes the lock's key if it still holds `token`; a failure only costs the session a
/// wait of up to one lease, so it is logged, not returned.
pub(crate) async fn release_or_warn<S: LockServer>(server: &S, key: &str, token: &str, run: Run) {
    if let Err(err) = server.release(key, token, run).await {
        tracing::warn!(
            lock = %redact(key),
            error = %ErrorChain(&err),
            "releasing a session lock failed (it expires with its lease)"
        );
    }
}

/// A held server lock; releasing or dropping it deletes the key (if still ours).
struct Held<S: LockServer> {
    server: S,
    key: String,
    token: String,
    entry: u64,
    released: bool,
    /// When the attempt that took it was sent.
    taken: Instant,
    /// Since when this process has seen the lock busy without a break, if it has (the
    /// holder waited for it, or it was handed to another request of this process).
    busy_since: Option<Instant>,
}

impl<S: LockServer> Held<S> {
    /// The busy run as this holder saw it, now.
    fn run(&self) -> Run {
        Run {
            held: self.taken.elapsed(),
            busy: self.busy_since.map(|since| since.elapsed()),
        }
    }
}

impl<S: LockServer> super::session_lock::Release for Held<S> {
    fn handed_over(&mut self) {
        self.busy_since.get_or_insert(self.taken);
    }

    fn gap_due(&self) -> bool {
        S::GAPS
            && self
                .busy_since
                .is_some_and(|since| since.elapsed() >= fair::BUSY_RUN)
    }

    fn lease_in_doubt(&self, margin: Duration) -> Option<(&str, &str)> {
        let leased = self.released || self.server.renewals().leased_for(self.entry, margin);
        (!leased).then_some((&self.key, &self.token))
    }

    fn take_server_release(&mut self) -> Option<ServerRelease> {
        if self.released {
            return None;
        }
        self.released = true;
        self.server.renewals().release(self.entry);
        Some(ServerRelease {
            run: self.run(),
            key: std::mem::take(&mut self.key),
            token: std::mem::take(&mut self.token),
        })
    }

    fn release(mut self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            self.released = true;
            self.server.renewals().release(self.entry);
            let run = self.run();
            release_or_warn(&self.server, &self.key, &self.token, run).await;
        })
    }
}

/// Dropped without [`super::session_lock::Release::release`] (an error path, a dropped
/// request): the release runs on a task of its own.
impl<S: LockServer> Drop for Held<S> {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        self.server.renewals().release(self.entry);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                lock = %redact(&self.key),
                "a session lock is left to expire with its lease (no async runtime)"
            );
            return;
        };
        let (server, key, token, run) = (
            self.server.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
            self.run(),
        );
        drop(runtime.spawn(async move { release_or_warn(&server, &key, &token, run).await }));
    }
}
