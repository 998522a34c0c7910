//! The session lock on Redis: redis-py's `Lock` as cherrys takes it (`SET NX PX` of a
//! token, compare-and-delete), with our queue for fairness between processes, gaps for
//! cherrys' polling waiters (see `fair`; [`fair_key`]), and the session's value read in the
//! same round trip that takes the lock.

use super::*;

/// The key that holds the waiter queued for the lock `key` ([`shared_lock`]'s fairness).
pub(super) fn queue_key(key: &str) -> String {
    format!("{key}:next")
}

/// The key beside the lock `key` that holds its busy run (`fair`): `"<since>:<freed>"`
/// (Redis' clock, in ms: since when the lock has been busy without a break, and when its
/// last holder of ours let go), for [`fair::BUSY_RUN`] + [`fair::GAP`] after that; or
/// `"gap"` while a gap runs, for [`fair::GAP`]. cherrys never reads it: during a gap it
/// only finds the lock free.
pub(super) fn fair_key(key: &str) -> String {
    format!("{key}:fair")
}

/// The fair key's value during a gap.
const GAP_MARK: &str = "gap";

/// How long a queued waiter's place lasts unless it renews it by trying again (it does at
/// least every few milliseconds): a waiter that went away blocks the queue no longer.
pub(super) const QUEUE_HOLD: Duration = Duration::from_millis(250);

/// What an attempt that took the lock read of the session's key: nothing when the script
/// was not given the key, else its first bytes (see [`read_value`]), `None` when there is
/// no such key.
pub(super) type Read = Option<Option<Vec<u8>>>;

/// What an attempt on the lock found, from [`ACQUIRE_SOURCE`]'s reply.
pub(super) enum Attempt {
    Taken(Read),
    /// Held by a lock that expires (ours, or cherrys' with a `lock_timeout`), or queued.
    Busy,
    /// Held by the token given, in a key that never expires (cherrys without
    /// `lock_timeout`).
    HeldForEver(Vec<u8>),
    /// Free, but in a gap (`fair`).
    Gap,
}

impl Attempt {
    pub(super) fn from_reply(reply: redis::Value) -> Result<Self, StoreError> {
        let unexpected = |reply: &dyn std::fmt::Debug| {
            StoreError::Backend(format!("unexpected reply to the lock script: {reply:?}").into())
        };
        match reply {
            redis::Value::Int(1) => Ok(Attempt::Taken(None)),
            redis::Value::Array(reply) => match <[redis::Value; 3]>::try_from(reply) {
                Ok(
                    [
                        redis::Value::Int(1),
                        redis::Value::Int(exists),
                        redis::Value::BulkString(data),
                    ],
                ) => Ok(Attempt::Taken(Some((exists == 1).then_some(data)))),
                Ok(other) => Err(unexpected(&other)),
                Err(other) => Err(unexpected(&other)),
            },
            redis::Value::Int(-1) => Ok(Attempt::Gap),
            redis::Value::Int(_) => Ok(Attempt::Busy),
            redis::Value::BulkString(holder) => Ok(Attempt::HeldForEver(holder)),
            other => Err(unexpected(&other)),
        }
    }
}

/// Follows the holder of a lock that never expires across the attempts of one wait: the
/// wait fails once one holder has kept it for longer than the store's limit.
pub(super) struct StaleWatch {
    pub(super) holder: Option<(Vec<u8>, Instant)>,
    pub(super) limit: Duration,
}

impl StaleWatch {
    pub(super) fn new(limit: Duration) -> Self {
        Self {
            holder: None,
            limit,
        }
    }

    /// What the attempt found (with what it read when it took the lock); an error once a
    /// never-expiring lock is stale.
    pub(super) fn taken(
        &mut self,
        attempt: Attempt,
        id: &SessionId,
        key: &str,
    ) -> Result<Tried<Read>, StoreError> {
        let holder = match attempt {
            Attempt::Taken(read) => return Ok(Tried::Taken(read)),
            Attempt::Busy => {
                self.holder = None;
                return Ok(Tried::Held);
            }
            Attempt::Gap => {
                self.holder = None;
                return Ok(Tried::InGap);
            }
            Attempt::HeldForEver(holder) => holder,
        };
        let now = Instant::now();
        match &self.holder {
            Some((seen, since)) if *seen == holder => {
                if now.duration_since(*since) >= self.limit {
                    tracing::warn!(
                        lock = %redact(key),
                        held_for_s = self.limit.as_secs_f64(),
                        "a session lock that never expires (cherrys' lock with lock_timeout = None) is still held by one holder, perhaps a CherryPy process that died holding it; giving up (delete the key, or set tools.sessions.lock_timeout)"
                    );
                    return Err(StoreError::LockTimeout(*id));
                }
            }
            _ => self.holder = Some((holder, now)),
        }
        Ok(Tried::Held)
    }
}

/// Extends the lease only while the key holds our token.
pub(super) static RENEW: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
    )
});
/// A Lua function both lock scripts start with: whether the fair key `key` marks a gap. A
/// mark counts only with the expiry our release gives it (at most `gap_ms`): one without
/// (a restore that dropped expiries, a stray write) would hold every waiter of ours for
/// ever, so it is deleted instead.
macro_rules! in_gap_lua {
    () => {
        r"
local function in_gap(key, gap_ms)
  if redis.call('get', key) ~= 'gap' then return false end
  local left = redis.call('pttl', key)
  if left > 0 and left <= gap_ms then return true end
  redis.call('del', key)
  return false
end
"
    };
}

/// [`LockServer::try_acquire`]: KEYS = lock, queue, fair[, data]; ARGV = token, lease ms,
/// queue hold ms, gap ms[, most bytes to read]. A free lock is not taken during a gap
/// ([`fair_key`]): the waiter queues, the reply is -1, and it takes the lock after the gap. Returns 1 when the lock is ours (with the data key: `{1,
/// exists, its first bytes}`, the reads of [`read_value`]); else the holder's token when
/// its key never expires (cherrys' lock without `lock_timeout`), else 0. The lock itself
/// is redis-py's: the key holds the holder's token, with a `PX` lease; cherrys' `SET NX`
/// sees it as taken. The queue key is ours alone (cherrys ignores it, so it may overtake a queued waiter of
/// ours, as two cherrys processes overtake each other).
pub(super) const ACQUIRE_SOURCE: &str = concat!(
    in_gap_lua!(),
    r"
local holder = redis.call('get', KEYS[1])
local queued = redis.call('get', KEYS[2])
local free = not holder and (not queued or queued == ARGV[1])
local gap = free and in_gap(KEYS[3], tonumber(ARGV[4]))
if holder == ARGV[1] or (free and not gap) then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if queued == ARGV[1] then redis.call('del', KEYS[2]) end
  if KEYS[4] then
    return {1, redis.call('exists', KEYS[4]), redis.call('getrange', KEYS[4], 0, ARGV[5])}
  end
  return 1
end
if not queued then
  redis.call('set', KEYS[2], ARGV[1], 'PX', ARGV[3])
elseif queued == ARGV[1] then
  redis.call('pexpire', KEYS[2], ARGV[3])
end
if gap then return -1 end
if holder and redis.call('pttl', KEYS[1]) == -1 then return holder end
return 0
"
);
pub(super) static ACQUIRE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(ACQUIRE_SOURCE));

/// [`LockServer::release`]: KEYS = lock, queue, fair[, data]; ARGV = token, handed-over
/// lease ms, held ms, busy ms (-1: not seen busy), gap ms, busy run ms[, value, TTL ms,
/// "XX" or ""]. With the data key, the value is written first (`SET … PX`, and `XX` when
/// asked: a touch), and only while the lock is still the caller's: a holder stalled past
/// its lease (its renewals are made by its worker, which a handler that blocks can hold
/// up) may find the lock taken by another process, whose session it must not overwrite.
/// Such a write fails with a `LOCKLOST` error and changes nothing.
///
/// Then the busy run ([`fair_key`]): it goes on from the one the fair key holds if this
/// holder took the lock less than a gap after that one's last holder let go, else it
/// starts when this process first saw the lock busy (nothing to carry on when neither:
/// a lock taken at once and used by one request writes nothing). A run as long as the
/// busy run ms ends: the fair key marks a gap and the lock is deleted, even past a queued
/// waiter (who keeps its place by trying again, and takes the lock after the gap).
/// Otherwise the run is written for the next holder, and the lock handed to the queued
/// waiter or deleted. A lock let go of during a gap (taken by a transaction that could not
/// check for it) is deleted, never handed over.
pub(super) const RELEASE_SOURCE: &str = concat!(
    in_gap_lua!(),
    r"
if redis.replicate_commands then redis.replicate_commands() end
if KEYS[4] then
  if redis.call('get', KEYS[1]) ~= ARGV[1] then
    return redis.error_reply('LOCKLOST the session lock was no longer ours (its lease ran out and another holder may have taken it): the session was not written')
  end
  if ARGV[9] == 'XX' then
    redis.call('set', KEYS[4], ARGV[7], 'PX', ARGV[8], 'XX')
  else
    redis.call('set', KEYS[4], ARGV[7], 'PX', ARGV[8])
  end
end
local queued = redis.call('get', KEYS[2])
if queued == ARGV[1] then
  redis.call('del', KEYS[2])
  queued = false
end
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local fair = redis.call('get', KEYS[3])
if fair == 'gap' then
  if in_gap(KEYS[3], tonumber(ARGV[5])) then return redis.call('del', KEYS[1]) end
  fair = false
end
local busy = tonumber(ARGV[4])
if fair or busy >= 0 then
  local t = redis.call('time')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local gap, run = tonumber(ARGV[5]), tonumber(ARGV[6])
  local since = nil
  if busy >= 0 then since = now - busy end
  local before, freed = string.match(fair or '', '^(%d+):(%d+)$')
  if before and now - tonumber(ARGV[3]) - tonumber(freed) < gap then
    since = math.min(since or now, tonumber(before))
  end
  if since and now - since >= run then
    redis.call('set', KEYS[3], 'gap', 'PX', gap)
    return redis.call('del', KEYS[1])
  end
  if since then
    redis.call('set', KEYS[3], string.format('%d:%d', since, now), 'PX', run + gap)
  end
end
if queued then
  redis.call('set', KEYS[1], queued, 'PX', ARGV[2])
  redis.call('del', KEYS[2])
  return 2
end
return redis.call('del', KEYS[1])
"
);
pub(super) static RELEASE: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(RELEASE_SOURCE));

impl RedisStore {
    /// A first attempt on a session's lock, as cherrys makes it: `SET NX PX` of the token,
    /// with the session's value read ([`read_value`]) in the same transaction, so a free
    /// lock costs Redis no script. `None` when the lock is held: the caller queues with
    /// [`ACQUIRE`]. A lock is free while a waiter of ours is queued only when it was let go
    /// of by what ignores our queue (cherrys, or a holder whose lease ran out); a request
    /// then overtakes the waiter, as cherrys' own processes do.
    pub(super) async fn take_free_lock(
        &self,
        redis: &mut Conn,
        lock_key: &str,
        token: &str,
        data_key: &str,
    ) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("GET")
            .arg(fair_key(lock_key))
            .cmd("SET")
            .arg(lock_key)
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(millis(self.lease));
        read_value(&mut pipe, data_key);
        let (fair, taken, exists, bytes): (Option<String>, Option<String>, bool, Vec<u8>) =
            pipe.query_async(redis).await.map_err(backend)?;
        if taken.is_none() {
            return Ok(None);
        }
        if fair.as_deref() == Some(GAP_MARK) {
            // Taken during a gap, which a transaction cannot check before it sets: let go
            // at once (the gap is for CherryPy), and wait with the queueing script, which
            // does not take a lock during a gap (and deletes a mark without a gap's expiry,
            // after which it takes the lock).
            release_on(redis, lock_key, token, Run::default()).await?;
            return Ok(None);
        }
        // Lost in a failover, the lock would let a second holder in.
        self.replicated(redis).await?;
        Ok(Some(exists.then_some(bytes)))
    }

    /// One run of [`ACQUIRE_SOURCE`].
    pub(super) async fn acquire_reply(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> Result<Attempt, StoreError> {
        let mut redis = self.connection().await?;
        let reply: redis::Value = ACQUIRE
            .key(key)
            .key(queue_key(key))
            .key(fair_key(key))
            .arg(token)
            .arg(millis(lease))
            .arg(millis(QUEUE_HOLD))
            .arg(millis(fair::GAP))
            .invoke_async(&mut redis)
            .await
            .map_err(backend)?;
        let attempt = Attempt::from_reply(reply)?;
        if matches!(attempt, Attempt::Taken(_)) {
            // Lost in a failover, the lock would let a second holder in.
            self.replicated(&mut redis).await?;
        }
        Ok(attempt)
    }
}

/// [`RELEASE_SOURCE`]'s ARGV 3 to 6: the holder's busy run, and the gap's constants.
pub(super) fn run_args(run: Run) -> (i64, i64, i64, i64) {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    (
        ms(run.held),
        run.busy.map_or(-1, ms),
        ms(fair::GAP),
        ms(fair::BUSY_RUN),
    )
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl LockServer for RedisStore {
    shared_lock::store_handles!();

    /// cherrys polls for the lock.
    const GAPS: bool = true;

    async fn try_acquire(
        &self,
        key: &str,
        token: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        Ok(matches!(
            self.acquire_reply(key, token, lease).await?,
            Attempt::Taken(_)
        ))
    }

    async fn renew(&self, key: &str, token: &str, lease: Duration) -> Result<bool, StoreError> {
        let mut redis = self.connection().await?;
        let renewed: i64 = RENEW
            .key(key)
            .arg(token)
            .arg(lease.as_millis() as u64)
            .invoke_async(&mut redis)
            .await
            .map_err(backend)?;
        Ok(renewed == 1)
    }

    async fn release(&self, key: &str, token: &str, run: Run) -> Result<(), StoreError> {
        let mut redis = self.connection().await?;
        release_on(&mut redis, key, token, run).await
    }
}

/// One run of [`RELEASE_SOURCE`] without a write: lets go of `key` if `token` holds it.
/// With the default `run`, a lock taken during a gap is deleted, not handed to the queued
/// waiter.
async fn release_on(redis: &mut Conn, key: &str, token: &str, run: Run) -> Result<(), StoreError> {
    RELEASE
        .key(key)
        .key(queue_key(key))
        .key(fair_key(key))
        .arg(token)
        .arg(millis(shared_lock::HANDED_OVER_LEASE))
        .arg(run_args(run))
        .invoke_async::<i64>(redis)
        .await
        .map(drop)
        .map_err(backend)
}
