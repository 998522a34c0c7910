//! A restricted pickle codec for CherryPy's `FileSession` files.
//!
//! CherryPy 18 stores `pickle.dumps((data, expiration), pickle.HIGHEST_PROTOCOL)`: the
//! session dict and a naive local-time `datetime.datetime`. This codec reads protocols 0 to 5
//! and writes protocol 4, but only for the session data model ([`SessionValue`]) and
//! `datetime.datetime`. It never imports or calls anything: the few globals Python needs to
//! spell our values (`datetime.datetime`, and in protocols 0–2 `_codecs.encode`,
//! `builtins.bytes` and `builtins.bytearray`, which is how Python writes bytes there) are
//! recognised by name and interpreted by hand; any other global, and any opcode outside the
//! data model, is an error that names it.
//!
//! A hostile file cannot exhaust the stack, memory or time: decoding is iterative over a
//! flat arena, declared lengths are checked against the input before anything is
//! allocated, what the unpickler holds while it runs is weighed before each opcode
//! (`decode/held.rs`), dict keys are interned so that a shared key is hashed once, and what the
//! data would expand to (memo references can share one object many times) is measured on
//! the arena before anything is built, against the budgets in [`crate::limits`]: decoding
//! costs time and memory linear in the input, above the small fixed floors that let short
//! sessions sharing one object among many keys be read. The encoders refuse data over the same
//! budgets, so whatever this crate writes reads back.
//!
//! Python 2 `str` objects (`STRING`, `BINSTRING`, `SHORT_BINSTRING`; CherryPy on Python 3
//! never writes them) read as Python 3's default `pickle.loads` reads them: as `str` when
//! they are ASCII, and an error otherwise — except as the state of a `datetime`, where their
//! raw bytes are used, as `pickle.loads(..., encoding="latin1")` would.
//!
//! [`SessionValue`]: crate::session_value::SessionValue

mod build;
mod decode;
mod encode;
mod expand;
pub(crate) mod expiry;
mod keys;
mod measure;
mod objects;
mod op;
#[cfg(test)]
mod proptests;
#[cfg(any(feature = "memcached", test))]
mod protocol0;
#[cfg(any(feature = "redis", test))]
mod protocol5;
mod reader;
#[cfg(test)]
mod tests;
mod text;

use chrono::NaiveDateTime;

use crate::session_value::SessionData;

#[cfg(any(feature = "memcached", feature = "redis"))]
pub(crate) use measure::Encoding;
#[cfg(test)]
use measure::SessionSize;
pub(crate) use measure::{Budget, Weight, entry_weight as measure_entry};

/// Runs one level of a recursion over nested values on a fresh stack segment when little is
/// left: [`crate::limits::MAX_SESSION_DEPTH`] levels take several MiB in an unoptimised build, more than a 2 MiB
/// thread (tokio's, the test harness's) has.
fn grow_stack<R>(f: impl FnOnce() -> R) -> R {
    const RED_ZONE: usize = 64 * 1024;
    const SEGMENT: usize = 2 * 1024 * 1024;
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// Reads a session file's pickle: the session dict and its naive local-time expiration.
///
/// Refuses ([`PickleError::TooLarge`], [`PickleError::TooManyValues`]) a pickle longer than
/// [`MAX_SESSION_BYTES`](crate::limits::MAX_SESSION_BYTES), or whose data would be larger
/// than the budgets of [`crate::limits`], before building it.
pub fn decode(bytes: &[u8]) -> Result<(SessionData, NaiveDateTime), PickleError> {
    decode::decode(bytes)
}

/// [`decode`], and the work it did (opcodes run, items moved, key bytes hashed, arena
/// edges measured, values built), which the tests hold linear in the input.
#[cfg(test)]
pub(crate) fn decode_counting(
    bytes: &[u8],
) -> (
    Result<(SessionData, NaiveDateTime, SessionSize), PickleError>,
    u64,
) {
    decode::decode_counting(bytes)
}

/// Writes `(data, expires)` as CherryPy does, with protocol 4 (readable by Python 3.4+).
///
/// Refuses data that `decode` would refuse (deeper than
/// [`MAX_SESSION_DEPTH`](crate::limits::MAX_SESSION_DEPTH), more values or bytes than the
/// budgets of [`crate::limits`], an unhashable dict key, an int with too many digits).
pub fn encode(data: &SessionData, expires: NaiveDateTime) -> Result<Vec<u8>, PickleError> {
    encode::encode(data, expires)
}

/// Writes `(data, expires)` with protocol 0, the same bytes as python-memcached's pickler
/// (CherryPy's MemcachedSession).
#[cfg(feature = "memcached")]
pub fn encode_protocol0(
    data: &SessionData,
    expires: NaiveDateTime,
) -> Result<Vec<u8>, PickleError> {
    protocol0::encode(data, expires)
}

/// Writes `(data, expires)` as `pickle.dumps(..., pickle.HIGHEST_PROTOCOL)` does in CPython
/// 3.8+ (protocol 5, memo and frames): the same bytes as `cherrys` stores in Redis.
#[cfg(feature = "redis")]
pub fn encode_highest(data: &SessionData, expires: NaiveDateTime) -> Result<Vec<u8>, PickleError> {
    protocol5::encode(data, expires)
}

/// Why a session pickle could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PickleError {
    /// The input ended before the pickle did.
    #[error("pickle ends early at offset {offset} (reading {what})")]
    Truncated {
        /// Where the missing bytes were expected.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A byte that is no pickle opcode at all.
    #[error("unknown pickle opcode 0x{opcode:02x} at offset {offset}")]
    UnknownOpcode {
        /// The byte.
        opcode: u8,
        /// Where it is.
        offset: usize,
    },
    /// A real pickle opcode that session data never needs (`BUILD`, `PERSID`, `EXT1`, ...).
    #[error("pickle opcode {name} at offset {offset} is not allowed in a session file")]
    UnsupportedOpcode {
        /// Python's name of the opcode.
        name: &'static str,
        /// Where it is.
        offset: usize,
    },
    /// A `PROTO` newer than protocol 5.
    #[error("unsupported pickle protocol {0}")]
    UnsupportedProtocol(u8),
    /// A reference to a global other than the few that spell our data model.
    #[error("pickle refers to the global {module}.{name}, which a session file may not use")]
    ForbiddenGlobal {
        /// The module, as written in the pickle.
        module: String,
        /// The attribute, as written in the pickle.
        name: String,
    },
    /// A value that the session data model cannot hold (a set, an aware or nested datetime,
    /// a str with a lone surrogate, ...).
    #[error("pickle holds {0}, which a session value cannot represent")]
    OutsideModel(String),
    /// A key of the session dict itself that is not a str.
    #[error("a session dict key is {0}, not a str")]
    NonStrKey(&'static str),
    /// A dict key Python could not hash either (a list, a dict, a tuple holding one).
    #[error("a dict key is unhashable ({0})")]
    UnhashableKey(&'static str),
    /// A dict holding two keys Python finds equal (`1`, `1.0` and `True` are one key): it
    /// would read back with one of them, so it is not written.
    #[error("a dict holds the key {0} twice")]
    DuplicateKey(String),
    /// Containers nested deeper than the limit, 1,000 levels.
    #[error("data nests deeper than {0} levels")]
    TooDeep(usize),
    /// The pickle, or what its data measures (see [`crate::limits::MAX_SESSION_BYTES`]),
    /// is larger than the budget, in bytes.
    #[error("session data larger than {0} bytes")]
    TooLarge(usize),
    /// The data has more values than the budget (see
    /// [`crate::limits::MAX_SESSION_VALUES`]).
    #[error("session data with more than {0} values")]
    TooManyValues(usize),
    /// An int with more decimal digits than Python converts (see
    /// [`crate::limits::MAX_INT_DIGITS`]).
    #[error("an int with more than {0} decimal digits")]
    IntTooLong(usize),
    /// Anything else Python's unpickler would also reject: stack underflow, a missing mark,
    /// a bad memo index, a bad argument, invalid UTF-8...
    #[error("malformed pickle at offset {offset}: {reason}")]
    Malformed {
        /// Where the offending opcode is.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// A valid pickle that is not CherryPy's `(dict, datetime)` pair.
    #[error("not a session pickle: expected (dict, datetime), found {0}")]
    NotASession(&'static str),
    /// A datetime that Python would not accept, when reading or writing.
    #[error("invalid datetime: {0}")]
    InvalidDateTime(String),
}
