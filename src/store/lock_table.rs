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
//! holding process. It is released too once the outer lock has been busy for long enough
//! that a gap is due (see `fair`): this process's waiters then wait for the gap's end, as
//! every other process of ours does, and CherryPy, which polls, gets its turn.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::fair::ServerRelease;
use super::hand_over::{Baton, Extension};
use super::session_lock::Release;
use super::{SessionLock, StoreError};
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
        // A free lock is taken at once, without a wait's timer. (The mutex is fair: it is
        // never free while a request waits for it.)
        let guard = match Arc::clone(&mutex).try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => {
                let acquire = mutex.lock_owned();
                match timeout {
                    None => acquire.await,
                    Some(limit) => tokio::time::timeout(limit, acquire)
                        .await
                        .map_err(|_| StoreError::LockTimeout(*id))?,
                }
            }
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
            if let Some(outer) = slot.outer.as_mut() {
                outer.handed_over();
            }
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
        // A lock busy for long enough is let go of for a gap (see `fair`): this process's
        // waiters then wait for the gap's end too.
        let gap_due = slot.outer.as_ref().is_some_and(SessionLock::gap_due);
        self.hand_over && awaited && slot.hand_overs < MAX_HAND_OVERS && !gap_due
    }
}

impl Release for LocalLock {
    /// Takes the outer lock's key unless it is about to be handed over; this process's lock
    /// stays held until the guard is dropped, after the caller's round trip.
    /// The caller's write covers every expiry extension left to make.
    fn take_server_release(&mut self) -> Option<ServerRelease> {
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

    fn lease_in_doubt(&self, margin: std::time::Duration) -> Option<(&str, &str)> {
        self.guard.as_ref()?.outer.as_ref()?.lease_in_doubt(margin)
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
mod tests;
