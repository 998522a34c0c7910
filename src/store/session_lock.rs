//! The lock a store hands out for a session: released when dropped or, to wait for the
//! release (a server's round trip), by [`SessionLock::release`]. Behind it, any guard; a
//! lock of the in-process table also carries what its holder passes on to the next
//! request of this process (see `hand_over`).

use std::future::Future;
use std::pin::Pin;

use super::fair::ServerRelease;
use super::hand_over::Baton;
use super::{Record, StoreError};
use crate::session_id::SessionId;

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
    fn take_server_release(&mut self) -> Option<ServerRelease> {
        None
    }

    /// Told that the lock is being handed to another request of this process: the lock is
    /// busy, and stays so (see `fair`).
    fn handed_over(&mut self) {}

    /// Whether the lock's busy run is long enough that it must now be let go of, leaving a
    /// gap, rather than handed to another request of this process (see `fair`).
    fn gap_due(&self) -> bool {
        false
    }

    /// For a server lock whose lease may have run out (it was not renewed in time: a
    /// stalled process), or may within `margin`: its key and token, so that a caller about
    /// to write under it can check with the server that it is still the holder.
    #[cfg_attr(
        not(feature = "memcached"),
        allow(dead_code, reason = "only memcached checks its lease before a write")
    )]
    fn lease_in_doubt(&self, margin: std::time::Duration) -> Option<(&str, &str)> {
        let _ = margin;
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

    /// See [`Release::lease_in_doubt`].
    #[cfg_attr(
        not(feature = "memcached"),
        allow(dead_code, reason = "only memcached checks its lease before a write")
    )]
    pub(crate) fn lease_in_doubt(&self, margin: std::time::Duration) -> Option<(&str, &str)> {
        self.guard.as_ref()?.lease_in_doubt(margin)
    }

    /// See [`Release::take_server_release`].
    #[cfg_attr(
        not(feature = "redis"),
        allow(dead_code, reason = "only Redis pipelines it")
    )]
    pub(crate) fn take_server_release(&mut self) -> Option<ServerRelease> {
        self.guard.as_mut()?.take_server_release()
    }

    /// See [`Release::handed_over`].
    pub(crate) fn handed_over(&mut self) {
        if let Some(guard) = self.guard.as_mut() {
            guard.handed_over();
        }
    }

    /// See [`Release::gap_due`].
    pub(crate) fn gap_due(&self) -> bool {
        self.guard.as_ref().is_some_and(|g| g.gap_due())
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
