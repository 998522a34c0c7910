//! A restricted pickle codec for CherryPy's `FileSession` files (spec: sessions §11).
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
//! A hostile file cannot exhaust the stack or memory: decoding is iterative over a flat
//! arena, declared lengths are checked against the input before anything is allocated,
//! nesting is limited to 1,000 levels, and the expanded result (memo references can share
//! one object many times) is limited to a budget proportional to the input.
//!
//! Python 2 `str` objects (`STRING`, `BINSTRING`, `SHORT_BINSTRING`; CherryPy on Python 3
//! never writes them) read as Python 3's default `pickle.loads` reads them: as `str` when
//! they are ASCII, and an error otherwise — except as the state of a `datetime`, where their
//! raw bytes are used, as `pickle.loads(..., encoding="latin1")` would.
//!
//! [`SessionValue`]: crate::session_value::SessionValue

mod decode;
mod encode;
pub(crate) mod expiry;
mod op;
#[cfg(any(feature = "memcached", test))]
mod protocol0;
#[cfg(test)]
mod tests;

use chrono::NaiveDateTime;

use crate::session_value::SessionData;

/// The deepest nesting of containers read or written. Python's own pickler cannot write
/// deeper data (it recurses and stops at its recursion limit of about 1000).
pub(crate) const MAX_DEPTH: usize = 1000;

/// The least budget, in bytes, for the decoded data; larger inputs get 16 times their size.
const MIN_OUTPUT_BUDGET: usize = 64 << 20;

/// Runs one level of a recursion over nested values on a fresh stack segment when little is
/// left: [`MAX_DEPTH`] levels take several MiB in an unoptimised build, more than a 2 MiB
/// thread (tokio's, the test harness's) has.
fn grow_stack<R>(f: impl FnOnce() -> R) -> R {
    const RED_ZONE: usize = 64 * 1024;
    const SEGMENT: usize = 2 * 1024 * 1024;
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// Reads a session file's pickle: the session dict and its naive local-time expiration.
pub fn decode(bytes: &[u8]) -> Result<(SessionData, NaiveDateTime), PickleError> {
    decode::decode(bytes)
}

/// Writes `(data, expires)` as CherryPy does, with protocol 4 (readable by Python 3.4+).
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
    /// Containers nested deeper than the limit, 1,000 levels (or, when reading, a recursive one).
    #[error("data nests deeper than {0} levels")]
    TooDeep(usize),
    /// The decoded data would be larger than the budget, in bytes.
    #[error("pickle expands to more than {0} bytes of session data")]
    TooLarge(usize),
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
