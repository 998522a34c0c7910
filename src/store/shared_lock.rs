//! Session locks held in a shared server (Redis, memcached), so that several processes
//! serialise one session's requests. CherryPy has nothing like it: its memcached locks, and
//! those of Redis packages such as `cherrys`, are per process.
//!
//! A lock is a key holding a random token, set only if absent, with a lease. Requests of one
//! process queue on an in-process lock first, and the server's lock passes from one to the
//! next without a round trip ([`LockTable::lock_with_outer`]); across processes a waiter
//! retries with a short backoff (the servers have no blocking "set if absent"). The holder renews the lease while it holds the lock,
//! so a long request keeps it and a crashed process frees it within one lease. Release
//! deletes the key only if it still holds the holder's token.

use std::future::Future;
use std::time::{Duration, Instant};

use super::{LockTable, SessionLock, StoreError};
use crate::session_id::SessionId;

/// How long a lock outlives a holder that stopped renewing it (a crashed process), unless
/// the store is given another lease.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The longest pause between two attempts to take a lock held by another process.
const MAX_BACKOFF: Duration = Duration::from_millis(20);

/// What a server offers for locks; every method is one round trip.
pub(crate) trait LockServer: Clone + Send + Sync + 'static {
    /// Sets `key` to `token` with `lease` if it is absent; whether it was set.
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

    /// Deletes `key` if it still holds `token`.
    fn release(
        &self,
        key: &str,
        token: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Takes `id`'s lock: this process's lock first, then (unless this process already holds
/// it) the server's `key`, leased for `lease` and renewed every third of it while held.
pub(crate) async fn acquire<S: LockServer>(
    server: &S,
    local: &LockTable,
    id: &SessionId,
    key: String,
    timeout: Option<Duration>,
    lease: Duration,
) -> Result<SessionLock, StoreError> {
    let attempt = |key: String, token: String| async move {
        Ok(server.try_acquire(&key, &token, lease).await?.then_some(()))
    };
    let (lock, _) = acquire_with(server, local, id, key, timeout, lease, attempt).await?;
    Ok(lock)
}

/// [`acquire`] with the server's side done by `attempt(key, token)`, which takes the key if
/// it is free and may fetch something in the same round trip: `Some(payload)` when it took
/// the key. The payload is returned when this call took the server's lock, `None` when the
/// lock was handed over by a previous holder in this process.
pub(crate) async fn acquire_with<S, T, A, F>(
    server: &S,
    local: &LockTable,
    id: &SessionId,
    key: String,
    timeout: Option<Duration>,
    lease: Duration,
    mut attempt: A,
) -> Result<(SessionLock, Option<T>), StoreError>
where
    S: LockServer,
    A: FnMut(String, String) -> F,
    F: Future<Output = Result<Option<T>, StoreError>>,
{
    let mut payload = None;
    let (fetched_into, key) = (&mut payload, &key);
    let take = move |left: Option<Duration>| async move {
        let deadline = left.map(|t| Instant::now() + t);
        // A fresh random token: only this holder may renew or release the key.
        let token = SessionId::generate().to_string();
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(fetched) = attempt(key.clone(), token.clone()).await? {
                *fetched_into = Some(fetched);
                break;
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(StoreError::LockTimeout(*id));
            }
            let wait = deadline.map_or(pause, |d| pause.min(d - now));
            tokio::time::sleep(wait).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
        let renewal = tokio::spawn(renew_while_held(
            server.clone(),
            key.clone(),
            token.clone(),
            lease,
        ));
        Ok(SessionLock::new(Held {
            server: server.clone(),
            key: key.clone(),
            token,
            renewal,
        }))
    };
    let lock = local.lock_with_outer(id, timeout, take).await?;
    Ok((lock.into_session_lock(), payload))
}

async fn renew_while_held<S: LockServer>(server: S, key: String, token: String, lease: Duration) {
    loop {
        tokio::time::sleep(lease / 3).await;
        match server.renew(&key, &token, lease).await {
            Ok(true) => {}
            Ok(false) => {
                log::error!(
                    "session lock {key} was lost (its lease ran out); another request may now change the session concurrently"
                );
                return;
            }
            // The server is unreachable: keep trying while the lease lasts.
            Err(err) => log::warn!("renewing session lock {key} failed: {err}"),
        }
    }
}

/// The server's lock; dropping it stops the renewal and deletes the key.
struct Held<S: LockServer> {
    server: S,
    key: String,
    token: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl<S: LockServer> Drop for Held<S> {
    fn drop(&mut self) {
        self.renewal.abort();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime left (shutdown): the lease frees the key.
            log::warn!("session lock {} left to expire with its lease", self.key);
            return;
        };
        let (server, key, token) = (
            self.server.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.token),
        );
        drop(runtime.spawn(async move {
            if let Err(err) = server.release(&key, &token).await {
                log::warn!(
                    "releasing session lock {key} failed (it expires with its lease): {err}"
                );
            }
        }));
    }
}
