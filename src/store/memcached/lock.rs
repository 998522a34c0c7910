//! Locks on memcached: `<id>.lock` keys changed only by `add` and compare-and-swap, with the
//! queue of the next waiter of another process in the same key.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use super::is_status;
use super::{Inner, MemcachedStore};
use crate::store::codec::backend;
use crate::store::shared_lock::{self, LockServer};
use crate::store::{SessionLock, StoreError};
use async_memcached::{MetaProtocol, Status};

/// What a lock key holds: the holder's token, then, after a space, the token of the waiter
/// of another process queued for it, if any. The queue lives in the lock's own key so that
/// queueing, handing over and releasing are each one compare-and-swap on that key: a
/// waiter's queueing changes the CAS value a release compares, so the release cannot free
/// the lock past it, and a free lock (no key) has nobody queued.
struct LockState {
    value: Vec<u8>,
    /// Where the holder's token ends (the value's length when nobody is queued).
    split: usize,
    cas: u64,
    /// Whole seconds left of the lease, at least one.
    ttl: u64,
}

impl LockState {
    fn holder(&self) -> &[u8] {
        &self.value[..self.split]
    }

    fn queued(&self) -> Option<&[u8]> {
        self.value
            .get(self.split + 1..)
            .filter(|queued| !queued.is_empty())
    }
}

/// How many times in a row a lock operation reads the key again after its compare-and-swap
/// found it changed (a waiter queued or left meanwhile): each retry follows another
/// process's progress, so a few suffice.
const CAS_ATTEMPTS: usize = 8;

impl MemcachedStore {
    /// The lock `key`'s state, `None` when it is free.
    async fn lock_state(&self, key: &str) -> Result<Option<LockState>, StoreError> {
        let Some(item) = self
            .with(key, async |c| {
                c.meta_get(key, false, None, Some(&["v", "c", "t"])).await
            })
            .await?
        else {
            return Ok(None);
        };
        let (Some(value), Some(cas)) = (item.data, item.cas) else {
            return Err(backend(std::io::Error::other(format!(
                "memcached gave lock {key} without its value or CAS"
            ))));
        };
        let split = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
        let ttl = item
            .ttl_remaining
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(0)
            .max(1);
        Ok(Some(LockState {
            value,
            split,
            cas,
            ttl,
        }))
    }

    /// Sets `key` to `value` for `ttl` seconds, only while its CAS value is `cas`; whether
    /// it did.
    async fn set_if_cas(
        &self,
        key: &str,
        value: &[u8],
        ttl: u64,
        cas: u64,
    ) -> Result<bool, StoreError> {
        let (ttl, compare) = (format!("T{ttl}"), format!("C{cas}"));
        let stored = self
            .set_returning_cas(key, value, &[&ttl, &compare, "c"])
            .await?;
        Ok(stored.is_some())
    }

    /// Appends `value` to `key`, keeping its expiry, only while its CAS value is `cas`;
    /// whether it did.
    async fn append_if_cas(&self, key: &str, value: &[u8], cas: u64) -> Result<bool, StoreError> {
        let compare = format!("C{cas}");
        let stored = self
            .set_returning_cas(key, value, &["MA", &compare, "c"])
            .await?;
        Ok(stored.is_some())
    }

    /// Deletes `key` only while its CAS value is `cas`; whether it did.
    async fn delete_if_cas(&self, key: &str, cas: u64) -> Result<bool, StoreError> {
        let compare = format!("C{cas}");
        self.with(key, async |c| {
            match c.meta_delete(key, false, None, Some(&[&compare])).await {
                Ok(_) => Ok(true),
                Err(e) if is_status(&e, &[Status::Exists, Status::NotFound]) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Adds `key` = `value` for `ttl` seconds if absent (a meta set in add mode); the new
    /// value's CAS if it did.
    async fn add_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: u64,
    ) -> Result<Option<u64>, StoreError> {
        let ttl = format!("T{ttl}");
        self.set_returning_cas(key, value.as_bytes(), &["ME", &ttl, "c"])
            .await
    }

    /// Notes the CAS of a lock key that holds `token` alone: while the key keeps that CAS,
    /// nobody is queued, and the release is one delete. (0: memcached gave none.)
    fn note_alone(&self, token: &str, cas: u64) {
        if cas != 0 {
            self.inner
                .alone
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(token.to_owned(), cas);
        }
    }
}

/// How much of its lease a lock must have left, as far as this process knows, for a write
/// under it to go without asking the server first: more than a write's round trip (a
/// quarter of a shorter lease, which renewals every third of it keep above that).
const LEASE_MARGIN: Duration = Duration::from_secs(2);

impl MemcachedStore {
    /// Before a write under `lock`: if its lease may have run out (not renewed in time, as
    /// when the process stalled), the server is asked, and the lease renewed if the lock is
    /// still ours; otherwise the write must not be made. Memcached cannot make a write
    /// depend on another key, as Redis' script does, so this narrows a lost lease's window
    /// to the write's own round trip; the usual write, under a lock renewed in time, costs
    /// nothing more.
    pub(super) async fn confirm_lease(&self, lock: &SessionLock) -> Result<(), StoreError> {
        let margin = LEASE_MARGIN.min(self.lease / 4);
        let Some((key, token)) = lock.lease_in_doubt(margin) else {
            return Ok(());
        };
        if shared_lock::LockServer::renew(self, key, token, self.lease).await? {
            return Ok(());
        }
        Err(backend(std::io::Error::other(format!(
            "the session lock {} was no longer ours (its lease ran out and another holder may have taken it): the session was not written",
            crate::store::redact(key)
        ))))
    }
}

/// The error of a lock operation whose compare-and-swap kept failing.
fn kept_changing(key: &str) -> StoreError {
    backend(std::io::Error::other(format!(
        "memcached lock {key} changed {CAS_ATTEMPTS} times in a row"
    )))
}

/// Whole seconds, at least one: memcached's expiries have no finer unit.
fn seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// A short expiry in whole seconds that lasts at least `d`: memcached's clock ticks once a
/// second, so an expiry of one second can end at the next tick, at once.
fn at_least(d: Duration) -> u64 {
    seconds(d) + 1
}

impl LockServer for MemcachedStore {
    shared_lock::store_handles!();

    /// Memcached has no scripts: the lock is read, then changed with `add` or a
    /// compare-and-swap, and read again when that finds it changed, so a race costs a
    /// round trip, never two holders nor a waiter's place. A free lock is taken in one round
    /// trip. A waiter that finds the lock held is queued (or holds it) before this returns,
    /// unless another waiter is queued already.
    async fn try_acquire(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let lease = at_least(lease);
        let ours = token.as_bytes();
        for _ in 0..CAS_ATTEMPTS {
            if let Some(cas) = self.add_if_absent(key, token, lease).await? {
                self.note_alone(token, cas);
                return Ok(true);
            }
            let Some(lock) = self.lock_state(key).await? else {
                // Freed meanwhile: try to take it again.
                continue;
            };
            if lock.holder() == ours {
                // Handed over by the previous holder: take it up with our own lease, and
                // keep the waiter queued behind us, if any.
                if self.set_if_cas(key, &lock.value, lease, lock.cas).await? {
                    return Ok(true);
                }
            } else if lock.queued().is_some() {
                // Queued already, or another waiter is (one at a time): wait.
                return Ok(false);
            } else if self
                .append_if_cas(key, format!(" {token}").as_bytes(), lock.cas)
                .await?
            {
                // Queued behind the holder (an append keeps the holder's lease).
                return Ok(false);
            }
            // The key changed between our read and our write: look again at once.
        }
        Ok(false)
    }

    async fn renew(&self, key: &str, token: &str, lease: Duration) -> Result<bool, StoreError> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(lock) = self.lock_state(key).await? else {
                return Ok(false);
            };
            if lock.holder() != token.as_bytes() {
                return Ok(false);
            }
            // The same value (a queued waiter stays queued), with a new lease.
            if self
                .set_if_cas(key, &lock.value, at_least(lease), lock.cas)
                .await?
            {
                return Ok(true);
            }
        }
        Err(kept_changing(key))
    }

    /// One compare-and-delete when the key is as this holder took it (nobody queued since,
    /// no renewal); else the key is read to see who is queued. No gaps: CherryPy's
    /// memcached locks are its own processes', and never wait for ours.
    async fn release(
        &self,
        key: &str,
        token: &str,
        _run: shared_lock::Run,
    ) -> Result<(), StoreError> {
        // Before the lock is freed: the next holder, of this process too, reads afresh.
        self.forget_version_of_lock(key);
        let alone = self
            .inner
            .alone
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token);
        if let Some(cas) = alone
            && self.delete_if_cas(key, cas).await?
        {
            return Ok(());
        }
        let ours = token.as_bytes();
        for _ in 0..CAS_ATTEMPTS {
            let Some(lock) = self.lock_state(key).await? else {
                return Ok(());
            };
            let done = if lock.holder() == ours {
                match lock.queued() {
                    Some(next) => {
                        let lease = at_least(shared_lock::HANDED_OVER_LEASE);
                        self.set_if_cas(key, next, lease, lock.cas).await?
                    }
                    None => self.delete_if_cas(key, lock.cas).await?,
                }
            } else if lock.queued() == Some(ours) {
                // A waiter that gives up leaves the queue; the holder keeps its lease.
                self.set_if_cas(key, lock.holder(), lock.ttl, lock.cas)
                    .await?
            } else {
                return Ok(());
            };
            if done {
                return Ok(());
            }
        }
        Err(kept_changing(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `memcache.cmemcache_hash(key) % 3` in python-memcached 1.62.
    #[test]
    fn picks_python_memcacheds_server() {
        let store = MemcachedStore::new(&["a:1", "b:2", "c:3"]).expect("valid");
        let picked = |key: &str| store.server(key).address.clone();
        let python = [
            ("0123456789abcdef0123456789abcdef01234567", "b:2"),
            ("fedcba9876543210fedcba9876543210fedcba98", "a:1"),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "c:3"),
            ("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "b:2"),
        ];
        for (key, expected) in python {
            assert_eq!(picked(key), expected, "{key}");
        }
    }
}
