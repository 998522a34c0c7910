//! The session's value: read within its budget, decoded leniently as cherrys would, and
//! written with its TTL (and with the lock's release, in one script).

use super::*;

/// Adds the reads of a stored value to `pipe`: whether it exists (`GETRANGE` of a missing
/// key is empty, as is an empty value) and at most one byte more than the budget of the
/// value, so a value over the budget is never brought into memory whole.
pub(super) fn read_value(pipe: &mut redis::Pipeline, key: &str) {
    pipe.cmd("EXISTS")
        .arg(key)
        .cmd("GETRANGE")
        .arg(key)
        .arg(0)
        .arg(MAX_SESSION_BYTES);
}

impl RedisStore {
    /// A stored value as a record (`None`: nothing stored).
    pub(super) fn record(
        &self,
        id: &SessionId,
        bytes: Option<Vec<u8>>,
    ) -> Result<Option<Record>, StoreError> {
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        if bytes.len() > MAX_SESSION_BYTES {
            return Err(StoreError::Undecodable(PickleError::TooLarge(
                MAX_SESSION_BYTES,
            )));
        }
        match codec::decode_for(&bytes, Budget::of(Encoding::Protocol5)) {
            Ok(record) => Ok(Some(record)),
            Err(err) if is_garbage(&err) => {
                tracing::warn!(
                    session = short(id),
                    error = %ErrorChain(&err),
                    "a Redis session cannot be read; treated as empty"
                );
                Ok(Some(Record {
                    data: Default::default(),
                    expires: SystemTime::UNIX_EPOCH,
                }))
            }
            // A session we cannot read back (over the budget, or an object CherryPy
            // stored): the middleware opens it as an unknown one and never writes it.
            Err(err) => Err(StoreError::Undecodable(err)),
        }
    }

    /// The save (`SET … PX`, with `XX` for a touch) and, with `release`, the lock's release
    /// after it, in one script: one round trip.
    pub(super) async fn write_and_release(
        &self,
        id: &SessionId,
        record: &Record,
        ttl: Duration,
        write: Write,
        release: Option<&ServerRelease>,
    ) -> Result<(), StoreError> {
        // Byte for byte what cherrys writes for the same session (see `pickle::encode_highest`).
        let bytes = codec::encode_highest(record)?;
        // Milliseconds, so a fractional timeout (`timeout = 0.5`) is kept exactly.
        let ttl_ms = millis(ttl);
        let only_if_stored = write == Write::OnlyIfStored;
        let mut redis = self.connection().await?;
        if let Some(ServerRelease { key, token, run }) = release {
            let mut release = redis::cmd("EVALSHA");
            release
                .arg(RELEASE.get_hash())
                .arg(4)
                .arg(key)
                .arg(queue_key(key))
                .arg(fair_key(key))
                .arg(self.key(id))
                .arg(token)
                .arg(millis(shared_lock::HANDED_OVER_LEASE))
                .arg(run_args(*run))
                .arg(bytes)
                .arg(ttl_ms)
                .arg(if only_if_stored { "XX" } else { "" });
            return self.run_replicated(&mut redis, &RELEASE, release).await;
        }
        let mut pipe = redis::pipe();
        let set = pipe
            .cmd("SET")
            .arg(self.key(id))
            .arg(bytes)
            .arg("PX")
            .arg(ttl_ms);
        if only_if_stored {
            set.arg("XX");
        }
        set.ignore();
        match self.inner.replica_acks {
            None => pipe.query_async::<()>(&mut redis).await.map_err(backend),
            Some(acks) => {
                pipe.add_command(acks.command());
                let (acked,): (i64,) = pipe.query_async(&mut redis).await.map_err(backend)?;
                redis.enough(acks, acked)
            }
        }
    }
}

/// Whether a write may create the key or only replace what is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Write {
    /// A save: the session is stored, whatever was there.
    Always,
    /// A read-only request's touch: a session deleted meanwhile stays deleted.
    OnlyIfStored,
}

/// How long Redis keeps a record: until it expires (CherryPy's cherrys: TTL = timeout).
pub(super) fn ttl(record: &Record) -> Duration {
    record
        .expires
        .duration_since(SystemTime::now())
        .unwrap_or_default()
}
