//! A [`Record`] as CherryPy's backends store it: a pickle of `(data, expiration)`, the
//! expiration a naive local-time `datetime` (`datetime.now() + timeout`).

use std::time::SystemTime;

use chrono::{Local, NaiveDateTime, TimeZone};

use super::pickle::{self, PickleError};
use super::{Record, StoreError};

/// The record as CherryPy's FileSession (and `cherrys`) write it, protocol 4.
pub(crate) fn encode(record: &Record) -> Result<Vec<u8>, StoreError> {
    pickle::encode(&record.data, to_local(record.expires)).map_err(backend)
}

/// The record as python-memcached writes it for CherryPy's MemcachedSession, protocol 0.
#[cfg(feature = "memcached")]
pub(crate) fn encode_protocol0(record: &Record) -> Result<Vec<u8>, StoreError> {
    pickle::encode_protocol0(&record.data, to_local(record.expires)).map_err(backend)
}

/// The record as `cherrys` writes it to Redis (`pickle.HIGHEST_PROTOCOL`, CPython's bytes).
#[cfg(feature = "redis")]
pub(crate) fn encode_highest(record: &Record) -> Result<Vec<u8>, StoreError> {
    pickle::encode_highest(&record.data, to_local(record.expires)).map_err(backend)
}

/// Reads a stored pickle, any protocol.
pub(crate) fn decode(bytes: &[u8]) -> Result<Record, PickleError> {
    let (data, expires) = pickle::decode(bytes)?;
    Ok(Record {
        data,
        expires: from_local(expires),
    })
}

/// Reads a stored pickle, any protocol, as [`decode`], for a store that writes `budget`:
/// a session it could not write back is refused as over the budget. A session CherryPy
/// stored can be longer in the store's encoding than as it was read: objects it shared
/// through memo references are written once per use, and python-memcached's protocol 0 may
/// escape differently. Read anyway, it would be an unknown session only later, at the
/// save, as a failed request (and a read of it could not even extend its expiry where the
/// expiry is inside the value). The weighing walks what was decoded, without allocating.
#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) fn decode_for(bytes: &[u8], budget: pickle::Budget) -> Result<Record, PickleError> {
    let record = decode(bytes)?;
    let weight = record
        .data
        .iter()
        .map(|(k, v)| pickle::measure_entry(k, v, budget.encoding))
        .try_fold(pickle::Weight::default(), |sum, w| w.map(|w| sum.plus(w)))?;
    weight.check(record.data.len(), budget, false)?;
    Ok(record)
}

/// Broken bytes (truncated, not a pickle, not a session pair) as opposed to a well-formed
/// pickle of values outside our data model, which must never be overwritten with less.
pub(crate) fn is_garbage(err: &PickleError) -> bool {
    use PickleError as E;
    matches!(
        err,
        E::Truncated { .. }
            | E::UnknownOpcode { .. }
            | E::Malformed { .. }
            | E::NotASession(_)
            | E::InvalidDateTime(_)
    )
}

pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// A server that cannot be reached or did not answer in time (see
/// [`StoreError::Unavailable`]).
#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// CherryPy stores `datetime.now() + timeout`: naive local time.
pub(crate) fn to_local(t: SystemTime) -> NaiveDateTime {
    chrono::DateTime::<Local>::from(t).naive_local()
}

pub(crate) fn from_local(t: NaiveDateTime) -> SystemTime {
    Local
        .from_local_datetime(&t)
        .earliest()
        .map_or(SystemTime::UNIX_EPOCH, SystemTime::from)
}
