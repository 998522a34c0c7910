//! Per-session locks inside one process: waiting is async (no polling), and a lock that
//! nobody holds or waits for is removed, so the table never grows without bound (CherryPy's
//! RAM locks are only swept by its clean-up thread).
//!
//! Stores shared between processes (files, memcached, Redis) also need an *outer* lock that
//! other processes see. A request takes this process's lock first and then the outer one,
//! so requests of one process queue here, without a thread or a round trip each. When a
//! holder finishes while another request of this process waits for the same session, the
//! outer lock is handed over with the session instead of being released and taken again:
//! a queue of requests on one session costs one outer acquisition, not one each. After
//! [`MAX_HAND_OVERS`] in a row it is released anyway, so other processes get their turn:
//! a server's lock then goes to the waiter of another process queued for it, if any (see
//! `shared_lock`), so that waiter waits for at most `MAX_HAND_OVERS + 1` requests of the
//! holding process.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::hand_over::{Baton, Extension};
use super::{Record, StoreError};
use crate::session_id::SessionId;

/// Consecutive hand-overs of an outer lock inside one process before it is released: the
/// number of this process's requests, less one, that a waiter of another process can see
/// served before it gets the lock (measured in `tests/hostile/locking.rs`).
pub(crate) const MAX_HAND_OVERS: u32 = 16;

/// What a session's in-process lock guards: the outer lock, while this process holds it,
/// and what its last holder passed on with it.
#[derive(Default)]
struct Slot {
    outer: Option<SessionLock>,
    hand_overs: u32,
    baton: Baton,
}

impl Slot {
    /// The outer lock, to be released, with the expiry extension a holder left to make
    /// before that; nothing is passed on any more.
    fn let_go(&mut self) -> Option<(SessionLock, Option<Extension>)> {
        let outer = self.outer.take()?;
        let extension = self.baton.take_extension();
        self.baton.clear();
        Some((outer, extension))
    }
}

impl Drop for Slot {
    /// The entry goes with an outer lock still in it: a holder handed it over to a waiter
    /// that it counted but that never took it up (it went away, or the count caught
    /// another thread's holder on its way out). It is let go of as a release would.
    fn drop(&mut self) {
        if let Some((outer, extension)) = self.let_go() {
            release_later(outer, extension);
        }
    }
}

/// Keyed by ids from cookies, so with a seeded hash: a client cannot pick colliding ids.
type Entries = Mutex<HashMap<SessionId, Arc<AsyncMutex<Slot>>, foldhash::fast::RandomState>>;

/// A session's lock. Dropping it releases the lock.
#[must_use = "the session is unlocked as soon as this is dropped"]
pub struct SessionLock {
    guard: Option<Box<dyn Release>>,
}

/// A lock that can be released and waited for. Dropping it releases it too, but a server's
/// lock then needs a task of its own for the round trip.
pub(crate) trait Release: Send + Sync + 'static {
    /// Releases the lock; done when the future is.
    fn release(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

    /// For a caller that deletes a server lock's key itself, in the same round trip as a
    /// write: the key and token of the server lock this guard would release now, which it
    /// then no longer releases. `None` when there is none to release (no server lock, or
    /// one about to be handed to a waiter of this process).
    #[cfg_attr(
        not(feature = "redis"),
        allow(dead_code, reason = "only Redis pipelines it")
    )]
    fn take_server_release(&mut self) -> Option<(String, String)> {
        None
    }

    /// The session this lock is for and what its holder passes on with it, if it is a
    /// lock that can be handed to a waiter of this process.
    fn baton(&mut self) -> Option<(&SessionId, &mut Baton)> {
        None
    }

    /// Whether releasing the lock now would hand it to a waiter of this process.
    fn would_hand_over(&self) -> bool {
        false
    }
}

/// A guard released by its `Drop`.
struct OnDrop<T>(T);

impl<T: Send + Sync + 'static> Release for OnDrop<T> {
    fn release(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        drop(self);
        Box::pin(std::future::ready(()))
    }
}

impl SessionLock {
    /// Wraps a guard whose `Drop` releases a store's lock.
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        Self::releasing(OnDrop(guard))
    }

    pub(crate) fn releasing(guard: impl Release) -> Self {
        Self {
            guard: Some(Box::new(guard)),
        }
    }

    /// See [`Release::take_server_release`].
    #[cfg_attr(
        not(feature = "redis"),
        allow(dead_code, reason = "only Redis pipelines it")
    )]
    pub(crate) fn take_server_release(&mut self) -> Option<(String, String)> {
        self.guard.as_mut()?.take_server_release()
    }

    /// What the holder passes on with the lock (see `hand_over`), if it is `id`'s lock
    /// and one that a waiter of this process can get without the server.
    pub(crate) fn baton(&mut self, id: &SessionId) -> Option<&mut Baton> {
        let (locked, baton) = self.guard.as_mut()?.baton()?;
        (locked == id).then_some(baton)
    }

    /// The session as the previous holder in this process passed it on with the lock, if
    /// it can be trusted, else `load`'s (see `hand_over`).
    #[cfg_attr(
        not(any(feature = "memcached", feature = "redis")),
        allow(dead_code, reason = "only the server stores load after a hand-over")
    )]
    pub(crate) async fn passed_session_or(
        &mut self,
        id: &SessionId,
        load: impl Future<Output = Result<Option<Record>, StoreError>>,
    ) -> Result<Option<Record>, StoreError> {
        match self.baton(id) {
            Some(baton) => baton.session_or(load).await,
            None => load.await,
        }
    }

    /// Notes `session` as this holder read it from the store with the lock (the expiry
    /// the store holds decides whether an extension may be left to a later holder).
    #[cfg_attr(
        not(feature = "redis"),
        allow(
            dead_code,
            reason = "only Redis reads the session as it takes the lock"
        )
    )]
    pub(crate) fn note_loaded(&mut self, id: &SessionId, session: Option<&Record>) {
        if let Some(baton) = self.baton(id) {
            baton.loaded(session);
        }
    }

    /// Whether this is `id`'s lock.
    pub(crate) fn is_for(&mut self, id: &SessionId) -> bool {
        self.guard
            .as_mut()
            .and_then(|g| g.baton())
            .is_some_and(|(locked, _)| locked == id)
    }

    /// Forgets what the holder would pass on: it changed the session, or may have.
    pub(crate) fn pass_nothing_on(&mut self) {
        if let Some((_, baton)) = self.guard.as_mut().and_then(|g| g.baton()) {
            baton.clear();
        }
    }

    /// Whether releasing the lock now would hand it to a waiter of this process.
    pub(crate) fn would_hand_over(&self) -> bool {
        self.guard.as_ref().is_some_and(|g| g.would_hand_over())
    }

    /// Releases the lock and waits until it is released (for a server's lock, the round
    /// trip), instead of leaving that to a task of its own as dropping it does.
    pub(crate) async fn release(mut self) {
        if let Some(guard) = self.guard.take() {
            guard.release().await;
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
pub(crate) struct LockTable {
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
    pub(crate) async fn lock(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<SessionLock, StoreError> {
        let local = self.local(id, timeout).await?;
        Ok(SessionLock::new(local))
    }

    /// Waits for `id`'s lock in this process, then for the outer lock unless this process
    /// already holds it (handed over by the previous holder): `take_outer` gets what is
    /// left of `timeout`. With `wants_session`, the holder gets what the previous one
    /// passed on ([`SessionLock::baton`]); without, an expiry extension the previous one
    /// left is made first.
    pub(crate) async fn lock_with_outer<F, Fut>(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
        wants_session: bool,
        take_outer: F,
    ) -> Result<LocalLock, StoreError>
    where
        F: FnOnce(Option<Duration>) -> Fut,
        Fut: Future<Output = Result<SessionLock, StoreError>>,
    {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut local = self.local(id, timeout).await?;
        let slot = local.guard.as_mut().expect("held until dropped");
        if slot.outer.is_none() {
            // Before the outer lock (and the load that may come with it).
            slot.baton = Baton::fresh();
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            slot.outer = Some(take_outer(left).await?);
            slot.hand_overs = 0;
        } else if !wants_session && let Some(extend) = slot.baton.take_extension() {
            extend().await;
        }
        if !wants_session {
            slot.baton.clear();
        }
        Ok(local)
    }

    async fn local(
        &self,
        id: &SessionId,
        timeout: Option<Duration>,
    ) -> Result<LocalLock, StoreError> {
        let mutex = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(entries.entry(*id).or_default())
        };
        // If this future is dropped while waiting, `LocalLock` still tidies the table.
        let mut waiting = LocalLock {
            entries: Arc::clone(&self.entries),
            mutex: Some(Arc::clone(&mutex)),
            id: *id,
            guard: None,
            hand_over: true,
        };
        let acquire = mutex.lock_owned();
        let guard = match timeout {
            None => acquire.await,
            Some(limit) => tokio::time::timeout(limit, acquire)
                .await
                .map_err(|_| StoreError::LockTimeout(*id))?,
        };
        waiting.guard = Some(guard);
        Ok(waiting)
    }

    /// How many ids have a lock that is held or awaited.
    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no lock is held or awaited.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// This process's lock on a session (with the outer lock, if the store has one). Held
/// while waiting too; on drop it releases, hands the outer lock to a waiter or releases it,
/// and removes the table's entry when no one else holds or awaits it.
pub(crate) struct LocalLock {
    entries: Arc<Entries>,
    /// `None` only while it is dropped.
    mutex: Option<Arc<AsyncMutex<Slot>>>,
    id: SessionId,
    guard: Option<OwnedMutexGuard<Slot>>,
    hand_over: bool,
}

impl LocalLock {
    /// Releases the outer lock with this one, even to a waiter of this process: for a
    /// holder that removed what the outer lock is taken on (a clean-up deleting the lock
    /// file), so the next holder takes a fresh one.
    pub(crate) fn release_outer_on_drop(&mut self) {
        self.hand_over = false;
    }

    /// As the store trait's lock type.
    pub(crate) fn into_session_lock(self) -> SessionLock {
        SessionLock::releasing(self)
    }

    /// Whether dropping this lock now hands the outer lock to a waiter of this process
    /// rather than releasing it; counts the hand-over.
    fn hands_over(&self, slot: &mut Slot) -> bool {
        if self.would_hand_over_slot(slot) {
            slot.hand_overs += 1;
            true
        } else {
            slot.hand_overs = 0;
            false
        }
    }

    fn would_hand_over_slot(&self, slot: &Slot) -> bool {
        // The table's reference and this lock's two (field and guard); any more belong to
        // requests waiting for the session.
        let awaited = self
            .mutex
            .as_ref()
            .is_some_and(|m| Arc::strong_count(m) > 3);
        self.hand_over && awaited && slot.hand_overs < MAX_HAND_OVERS
    }
}

impl Release for LocalLock {
    /// Takes the outer lock's key unless it is about to be handed over; this process's lock
    /// stays held until the guard is dropped, after the caller's round trip.
    /// The caller's write covers every expiry extension left to make.
    fn take_server_release(&mut self) -> Option<(String, String)> {
        let slot = self.guard.as_ref()?;
        if self.would_hand_over_slot(slot) {
            return None;
        }
        let slot = self.guard.as_mut()?;
        slot.baton.clear();
        let mut outer = slot.outer.take()?;
        // An outer lock that is no server's (a lock file) is released by dropping it.
        outer.take_server_release()
    }

    fn baton(&mut self) -> Option<(&SessionId, &mut Baton)> {
        let slot = self.guard.as_mut()?;
        (self.hand_over && slot.outer.is_some()).then_some((&self.id, &mut slot.baton))
    }

    fn would_hand_over(&self) -> bool {
        self.guard
            .as_ref()
            .is_some_and(|slot| self.would_hand_over_slot(slot))
    }

    /// The outer lock, unless handed over, is released before this process's lock, so a
    /// request of this process that comes next finds it free; an expiry extension left
    /// to make is made before.
    fn release(mut self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            if let Some(mut slot) = self.guard.take()
                && !self.hands_over(&mut slot)
                && let Some((outer, extension)) = slot.let_go()
            {
                if let Some(extend) = extension {
                    extend().await;
                }
                outer.release().await;
            }
            // The slot's guard is dropped above, after the release; Drop tidies the table.
        })
    }
}

/// Releases `outer` from a `Drop`: dropped, it releases itself on a task of its own; with
/// an extension to make first, both go on one task.
fn release_later(outer: SessionLock, extension: Option<Extension>) {
    match (extension, tokio::runtime::Handle::try_current()) {
        (Some(extension), Ok(runtime)) => drop(runtime.spawn(async move {
            extension().await;
            outer.release().await;
        })),
        _ => drop(outer),
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        if let Some(mut slot) = self.guard.take()
            && !self.hands_over(&mut slot)
            && let Some((outer, extension)) = slot.let_go()
        {
            release_later(outer, extension);
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Ours goes first, under the table's lock: of two holders dropping at once on two
        // threads, the second then sees the first's gone, and one of them empties the entry.
        drop(self.mutex.take());
        // Only the table's reference is left: nobody else holds or waits. (An outer lock
        // still in the slot then goes with the entry, see `Slot`'s `Drop`.)
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

    /// An outer lock that counts how often it is taken and how many are held.
    #[derive(Clone, Default)]
    struct Outer {
        taken: Arc<std::sync::atomic::AtomicUsize>,
        held: Arc<std::sync::atomic::AtomicUsize>,
    }

    struct OuterGuard(Arc<std::sync::atomic::AtomicUsize>);

    impl Drop for OuterGuard {
        fn drop(&mut self) {
            self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Outer {
        async fn take(self, _: Option<Duration>) -> Result<SessionLock, StoreError> {
            use std::sync::atomic::Ordering::SeqCst;
            self.taken.fetch_add(1, SeqCst);
            assert_eq!(self.held.fetch_add(1, SeqCst), 0, "two outer locks at once");
            Ok(SessionLock::new(OuterGuard(self.held)))
        }

        fn counts(&self) -> (usize, usize) {
            use std::sync::atomic::Ordering::SeqCst;
            (self.taken.load(SeqCst), self.held.load(SeqCst))
        }
    }

    #[tokio::test]
    async fn the_outer_lock_is_handed_to_waiters_then_released() {
        let table = LockTable::default();
        let outer = Outer::default();
        let id = SessionId::generate();
        let take = |o: &Outer| {
            let o = o.clone();
            move |left| o.take(left)
        };
        // Alone: taken and released each time.
        for _ in 0..2 {
            drop(
                table
                    .lock_with_outer(&id, None, false, take(&outer))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(outer.counts(), (2, 0));
        // A queue of 40 requests: one acquisition per MAX_HAND_OVERS + 1 holders.
        let first = table
            .lock_with_outer(&id, None, false, take(&outer))
            .await
            .unwrap();
        let waiters: Vec<_> = (0..39)
            .map(|_| {
                let (table, take) = (table.clone(), take(&outer));
                tokio::spawn(async move {
                    table
                        .lock_with_outer(&id, None, false, take)
                        .await
                        .map(drop)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        for w in waiters {
            w.await.unwrap().unwrap();
        }
        let per_streak = MAX_HAND_OVERS as usize + 1;
        assert_eq!(outer.counts(), (2 + 40_usize.div_ceil(per_streak), 0));
        assert!(table.is_empty());
    }

    #[tokio::test]
    async fn a_holder_can_refuse_to_hand_over_its_outer_lock() {
        let table = LockTable::default();
        let outer = Outer::default();
        let id = SessionId::generate();
        let o = outer.clone();
        let mut first = table
            .lock_with_outer(&id, None, false, move |l| o.take(l))
            .await
            .unwrap();
        let o = outer.clone();
        let waiter = tokio::spawn({
            let table = table.clone();
            async move {
                table
                    .lock_with_outer(&id, None, false, move |l| o.take(l))
                    .await
                    .map(drop)
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        first.release_outer_on_drop();
        drop(first);
        waiter.await.unwrap().unwrap();
        assert_eq!(outer.counts(), (2, 0));
    }

    /// A hand-over that nobody takes up (the waiter counted for it went away, or the count
    /// caught another thread's holder on its way out) leaves the outer lock in the slot
    /// until the table's entry goes: the expiry extension the holder left is then made,
    /// and the outer lock released.
    #[tokio::test]
    async fn an_extension_left_in_an_abandoned_hand_over_is_made() {
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        let outer = Outer::default();
        let made = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&made);
        let mut slot = Slot::default();
        slot.outer = Some(outer.clone().take(None).await.unwrap());
        slot.baton.pass_on_extending(
            super::super::Record {
                data: Default::default(),
                expires: std::time::SystemTime::now(),
            },
            Box::new(move || {
                Box::pin(async move {
                    flag.store(true, SeqCst);
                })
            }),
        );
        drop(slot);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(made.load(SeqCst), "the extension was not made");
        assert_eq!(outer.counts(), (1, 0), "the outer lock was not released");
    }
}
