//! The end of a request with a session: what [`Session::end`](crate::session::Session)
//! planned, carried out on the store, and the lock let go of, or handed with the session
//! to the next request of this process waiting for it (`store::hand_over`).

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::session::{Ending, SavePlan, lock_timeout, same_but_created};
use crate::session_config::{LockingMode, SessionConfig};
use crate::session_id::SessionId;
use crate::store::{
    AnyStore, ErrorChain, Record, SessionLock, SessionStore, StoreError, hand_over,
};

/// [`carry_out`], to the end even if the request goes away meanwhile. A client that closes
/// its connection drops the request's future; halfway through the store's work, that
/// would let go of the lock while a write goes on (a session file's is made on a blocking
/// thread), and the next holder could read the old session and have its own write
/// overwritten by the late one. So the work runs on a task of its own, which the request
/// waits for; RAM's work is done without waiting, so it needs none.
pub(super) async fn carry_out_whole(
    store: AnyStore,
    ending: Ending,
    config: &Arc<SessionConfig>,
) -> Result<(), StoreError> {
    if store.as_ram().is_some() {
        return carry_out(store, ending, config).await;
    }
    let config = Arc::clone(config);
    tokio::spawn(async move { carry_out(store, ending, &config).await }.in_current_span())
        .await
        .map_err(|join| StoreError::Backend(Box::new(join)))?
}

/// Does what [`Session::end`](crate::session::Session) planned, then lets go of the lock (a
/// remote store's expiry extension takes the lock along and lets go when it is done).
async fn carry_out(
    store: AnyStore,
    ending: Ending,
    config: &SessionConfig,
) -> Result<(), StoreError> {
    let Ending { plan, mut lock, .. } = ending;
    let passes_on = passes_session_on(&store, config);
    match plan {
        SavePlan::Nothing => Ok(()),
        SavePlan::Write { id, delete, record } => {
            let locked = lock.as_mut().is_some_and(|l| l.is_for(&id));
            if !locked || !delete.is_empty() {
                hand_over::unlocked_write();
            }
            // What a previous holder passed on is out of date once this is written.
            if let Some(lock) = lock.as_mut() {
                lock.pass_nothing_on();
            }
            for old in delete {
                store.delete(&old).await?;
            }
            let Some(record) = record else {
                return Ok(());
            };
            step!(config, "session saved");
            match lock {
                // The next request of this process waiting for the session gets it with
                // the lock.
                Some(mut lock) if passes_on && lock.would_hand_over() => {
                    let passed = record.clone();
                    store.save(&id, record).await?;
                    if let Some(baton) = lock.baton(&id) {
                        baton.pass_on(passed);
                    }
                    Ok(())
                }
                Some(lock) if locked => store.save_and_release(&id, record, lock).await,
                // No lock, or the lock of the id a `regenerate()` left behind: the write and
                // the release concern different keys.
                lock => {
                    let saved = store.save(&id, record).await;
                    drop(lock);
                    saved
                }
            }
        }
        SavePlan::Extend { id, record } if !store.is_remote() => {
            step!(config, "session read only: its expiry extended");
            store.touch(&id, record).await
        }
        SavePlan::Extend { id, record } => {
            step!(config, "session read only: its expiry extended");
            let margin = config.timeout.value.as_duration() / 2;
            extend_later(
                store,
                id,
                record,
                lock,
                lock_timeout(config),
                passes_on.then_some(margin),
            );
            Ok(())
        }
    }
}

/// Whether a request passes the session on with its lock to the next request of this
/// process waiting for it. Only where every request locks the session before loading it
/// (`hand_over` says why), and only for a server's store: RAM needs no load, and a
/// session file is read cheaply.
fn passes_session_on(store: &AnyStore, config: &SessionConfig) -> bool {
    store.is_remote()
        && matches!(
            config.locking.value,
            LockingMode::Implicit | LockingMode::Early
        )
}

/// A read-only request on a memcached or Redis session: the response does not wait for
/// the round trip that extends the expiry. The lock is held until it is done, so no
/// request (of any of our processes) can see the difference; if it fails, the session
/// keeps its previous expiry and the failure is logged (the answer is already out).
///
/// With `pass_on` (the margin the store's expiry must keep), a lock about to be handed to
/// a request of this process goes with the session and, while the store's expiry is
/// further away than the margin, with the extension left to the last of the queue.
fn extend_later(
    store: AnyStore,
    id: SessionId,
    record: Record,
    lock: Option<SessionLock>,
    timeout: Option<Duration>,
    pass_on: Option<Duration>,
) {
    drop(tokio::spawn(
        async move {
            // These stores rewrite the whole session to extend its expiry. Without the lock
            // (explicit locking, and the handler took none) that could write this
            // request's copy over a newer one, so the lock is taken first, and the write
            // made only if the stored data is still the copy this request read; if it
            // changed, the request that changed it extended the expiry.
            let mut lock = match lock {
                Some(lock) => lock,
                None => match store.lock_and_load(&id, timeout).await {
                    Ok((lock, Some(current))) if same_but_created(&current.data, &record.data) => {
                        lock
                    }
                    Ok(_) => return,
                    Err(err) => return extension_failed(&err),
                },
            };
            let result = match pass_on {
                Some(margin) if lock.would_hand_over() => {
                    hand_on(&store, &id, record, &mut lock, margin).await
                }
                _ => {
                    // This touch writes what an extension left by an earlier request would
                    // (and, where the session is not passed on, nothing is).
                    lock.pass_nothing_on();
                    store.touch_and_release(&id, record, Some(lock)).await
                }
            };
            if let Err(err) = result {
                extension_failed(&err);
            }
        }
        .in_current_span(),
    ));
}

/// An expiry extension made after the response failed: the session keeps its previous
/// expiry, and the log says why.
fn extension_failed(err: &StoreError) {
    tracing::error!(error = %ErrorChain(err), "extending the session's expiry failed");
}

/// The end of a read-only request whose lock goes to a request of this process: the
/// session passed on with it, and the extension of its expiry left to a later request
/// while the store's expiry is far enough (else made now, before the hand-over).
async fn hand_on(
    store: &AnyStore,
    id: &SessionId,
    record: Record,
    lock: &mut SessionLock,
    margin: Duration,
) -> Result<(), StoreError> {
    let Some(baton) = lock.baton(id) else {
        return store.touch(id, record).await;
    };
    if baton.may_extend_later(margin) {
        let (store, id, copy) = (store.clone(), *id, record.clone());
        baton.pass_on_extending(
            record,
            Box::new(move || {
                Box::pin(
                    async move {
                        if let Err(err) = store.touch(&id, copy).await {
                            extension_failed(&err);
                        }
                    }
                    .in_current_span(),
                )
            }),
        );
        return Ok(());
    }
    let touched = store.touch(id, record.clone()).await;
    if let Some(baton) = lock.baton(id) {
        match touched {
            Ok(()) => baton.pass_on(record),
            Err(_) => baton.clear(),
        }
    }
    touched
}
