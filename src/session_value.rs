//! What a session holds: the values a CherryPy session dict holds (None, bool, int, float,
//! str, bytes, list, tuple, dict), so the file and memcached stores can share data with a
//! running CherryPy.

use indexmap::IndexMap;

/// One value in a session.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SessionValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits 64 bits (Python ints are unbounded; see [`SessionValue::BigInt`]).
    Int(i64),
    /// An int beyond 64 bits.
    BigInt(num_bigint::BigInt),
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// A bytes object.
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<SessionValue>),
    /// A tuple.
    Tuple(Vec<SessionValue>),
    /// A dict, in insertion order (keys may be any hashable value in Python).
    Dict(Vec<(SessionValue, SessionValue)>),
}

/// A session's data: CherryPy's dict, with string keys, in insertion order.
pub type SessionData = IndexMap<String, SessionValue>;
