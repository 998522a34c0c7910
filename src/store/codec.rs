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
