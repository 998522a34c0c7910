//! Fairness towards CherryPy on a shared lock (files, Redis): gaps in a busy run.
//!
//! CherryPy waits for a session's lock by polling: `FileSession` (zc.lockfile) and
//! `cherrys` (redis-py's `Lock`) try it, and if it is held sleep 100 ms and try again. Ours
//! are woken the moment the lock is free (a blocking `flock`; a queue in the Redis lock's
//! key), and a process hands the lock from one of its requests to the next (`lock_table`).
//! So while our processes keep a session busy without a pause, a polling CherryPy request
//! finds it held at every try and waits until that traffic stops.
//!
//! Our processes therefore track how long a lock has been busy without a break (its *busy
//! run*, carried from holder to holder, across processes, in the store: a record in the
//! lock file, a key beside the Redis lock's), and once that reaches [`BUSY_RUN`], the
//! holder letting go leaves the lock free for [`GAP`]: it marks the gap in the store, and
//! every process of ours that finds the mark waits for its end before taking the lock
//! (CherryPy knows nothing of it: it only finds the lock free). The in-process hand-over
//! ends there too, so this process's own queue waits as well. Exclusion is untouched:
//! a gap only delays our next holder.
//!
//! A lock that comes free between requests (one user's browser) has no busy run: nothing
//! is written, and the checks ride on what the lock already reads (the lock file's
//! `fstat`, the Redis transaction that takes the lock).

use std::time::Duration;

/// How long a busy run's gap leaves the lock free. A polling CherryPy request tries once
/// every 100 ms plus the time of its attempt (a `flock` or a Redis round trip, and the
/// wake-up of a Python thread): 150 ms is sure to see one of its tries fall inside.
pub(crate) const GAP: Duration = Duration::from_millis(150);

/// How long a lock may stay busy without a break before the holder letting go leaves it
/// free for a [`GAP`]. A CherryPy request then waits about this long at most beside our
/// traffic (two at worst: on Redis a holder learns of a run begun in another process only
/// as it lets go), and our own throughput on one continuously busy session drops by
/// `GAP / (BUSY_RUN + GAP)`, 13 % (14 % measured): a second is short enough that
/// CherryPy's request still meets its client, and long enough that the gaps cost a busy
/// session little.
pub(crate) const BUSY_RUN: Duration = Duration::from_secs(1);

/// What a holder letting go of a server's lock tells the server of the lock's busy run,
/// which the server carries on from the run its previous holder left there.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(
    not(feature = "redis"),
    allow(
        dead_code,
        reason = "only Redis' release reads it: memcached leaves no gaps"
    )
)]
pub(crate) struct Run {
    /// How long ago the holder took the server's lock.
    pub(crate) held: Duration,
    /// How long ago this process started seeing the lock busy without a break, if it did:
    /// the holder had to wait for it, or handed it to another request of this process.
    pub(crate) busy: Option<Duration>,
}

/// A server lock's release, for a caller that makes it in the same round trip as a write.
#[cfg_attr(
    not(feature = "redis"),
    allow(dead_code, reason = "only Redis pipelines it")
)]
pub(crate) struct ServerRelease {
    /// The lock's key.
    pub(crate) key: String,
    /// The holder's token.
    pub(crate) token: String,
    /// The busy run, as this holder saw it.
    pub(crate) run: Run,
}
