//! What a request passes to the next request of this process waiting for the same session,
//! along with a server's lock (see `lock_table`): the session as it left it, so the next
//! one need not load it again, and, for a request that only read it, the extension of its
//! expiry, which the last request of the queue makes. A queue of read-only requests on one
//! session then costs the server one lock, one load and one write, not a load and a write
//! each.
//!
//! This is only sound while nobody else changes the stored session: every request that
//! changes it must hold its lock. That is true where the session's requests lock it
//! (`implicit` and `early` locking, on every process sharing the store), which is the only
//! case in which the middleware passes anything on. A request of this process that writes
//! without the lock (`explicit` locking, on another path) makes every session passed on
//! before it stale: it counts as an unlocked write, and what was passed on before the count
//! changed is loaded again instead. A request that takes the lock without wanting the
//! session passed on (`explicit` locking) gets the extension made first.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::{Duration, SystemTime};

use super::{Record, StoreError};

/// A read-only request's expiry extension, not made yet: the store's `touch` of the session
/// as the request left it (logged, not returned, if it fails: the answer is long gone).
pub(crate) type Extension =
    Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Writes made by requests of this process that did not hold the session's lock.
static UNLOCKED_WRITES: AtomicU64 = AtomicU64::new(0);

/// Counts a write about to be made without the session's lock: sessions passed on before
/// it are loaded again rather than trusted.
pub(crate) fn unlocked_write() {
    UNLOCKED_WRITES.fetch_add(1, Ordering::AcqRel);
}

fn unlocked_writes() -> u64 {
    UNLOCKED_WRITES.load(Ordering::Acquire)
}

/// What one holder of a session's lock passes to the next, kept with the lock.
#[derive(Default)]
pub(crate) struct Baton {
    /// The session as stored, or as it will be once `extension` is made.
    session: Option<Record>,
    /// The count of unlocked writes when the session was read from the store: it is only
    /// as fresh as that.
    read_at: u64,
    /// An expiry extension a previous holder left to a later one.
    extension: Option<Extension>,
    /// The expiry the store holds for the session (`session`'s own is later while an
    /// extension is pending): a holder leaves its extension to the next only while this
    /// is far enough away.
    stored_until: Option<SystemTime>,
}

impl Baton {
    /// A baton for a holder that takes the lock afresh (its data comes from the store
    /// after this).
    pub(crate) fn fresh() -> Self {
        Self {
            read_at: unlocked_writes(),
            ..Self::default()
        }
    }

    /// The session passed on, unless a write without the lock may have changed it since.
    /// The holder that gets `None` loads it, and is then as fresh as now.
    pub(crate) fn take_session(&mut self) -> Option<Record> {
        let session = self.session.take();
        let now = unlocked_writes();
        if self.read_at == now {
            return session;
        }
        self.read_at = now;
        // A write without the lock may have changed the session since it was read: the
        // extension of that copy must not be written over it either.
        self.extension = None;
        None
    }

    /// The session passed on if it can be trusted, else `load`'s, noting the expiry the
    /// store holds.
    pub(crate) async fn session_or(
        &mut self,
        load: impl Future<Output = Result<Option<Record>, StoreError>>,
    ) -> Result<Option<Record>, StoreError> {
        if let Some(session) = self.take_session() {
            return Ok(Some(session));
        }
        let loaded = load.await?;
        self.loaded(loaded.as_ref());
        Ok(loaded)
    }

    /// Notes the session as the holder read it from the store.
    pub(crate) fn loaded(&mut self, session: Option<&Record>) {
        self.stored_until = session.map(|s| s.expires);
    }

    /// Leaves `session`, as written to the store, to the next holder.
    pub(crate) fn pass_on(&mut self, session: Record) {
        self.stored_until = Some(session.expires);
        self.session = Some(session);
        self.extension = None;
    }

    /// Whether a holder may leave its expiry extension to a later one: the expiry the
    /// store holds is more than `margin` away, so the session cannot expire in the store
    /// while the queue lasts (a queue is a few requests long).
    pub(crate) fn may_extend_later(&self, margin: Duration) -> bool {
        self.stored_until
            .is_some_and(|until| until > SystemTime::now() + margin)
    }

    /// Leaves `session` to the next holder, with the extension of its expiry left to make.
    pub(crate) fn pass_on_extending(&mut self, session: Record, extension: Extension) {
        self.session = Some(session);
        self.extension = Some(extension);
    }

    /// Forgets what was passed on: the holder wrote the session (which extends its
    /// expiry too), or deleted it, or used it in a way that keeps nothing to pass on.
    pub(crate) fn clear(&mut self) {
        self.session = None;
        self.extension = None;
    }

    /// The extension left to be made, if any (when the lock leaves this process, or is
    /// taken by a holder that does not want the session passed on).
    pub(crate) fn take_extension(&mut self) -> Option<Extension> {
        let extension = self.extension.take();
        if self.read_at != unlocked_writes() {
            // Stale: a write without the lock came after the copy it would write.
            return None;
        }
        extension
    }
}
