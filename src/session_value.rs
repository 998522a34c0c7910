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

/// The key of a session's creation time in its stored data (`tools.sessions.max_lifetime`):
/// the session layer adds and removes it, the stores count it in a session's stored size.
pub(crate) const CREATED_KEY: &str = "_session_created";

/// Whether two copies of a session hold the same data, as stored, leaving out the key
/// `except` on both sides: floats compare by their bits, so a NaN is the same as itself
/// (`==` says it differs from everything, which would make a session holding one look
/// changed by every other request). Key order is ignored, as by `==`.
pub(crate) fn same_data_except(a: &SessionData, b: &SessionData, except: &str) -> bool {
    let kept = |d: &SessionData| d.len() - usize::from(d.contains_key(except));
    kept(a) == kept(b)
        && a.iter()
            .filter(|(k, _)| *k != except)
            .all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w)))
}

fn same_value(a: &SessionValue, b: &SessionValue) -> bool {
    use SessionValue as V;
    let all = |a: &[SessionValue], b: &[SessionValue]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
    };
    match (a, b) {
        (V::Float(x), V::Float(y)) => x.to_bits() == y.to_bits(),
        (V::List(x), V::List(y)) | (V::Tuple(x), V::Tuple(y)) => all(x, y),
        (V::Dict(x), V::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k, v), (l, w))| same_value(k, l) && same_value(v, w))
        }
        _ => a == b,
    }
}

impl SessionValue {
    /// Python's `repr()` of the value, as CherryPy would print it (`{'a': '1', 'n': 5}`).
    pub fn python_repr(&self) -> String {
        crate::unrepr::Value::from(self).python_repr()
    }

    /// Python's `str()`: a str as it is, anything else as its repr.
    pub fn python_str(&self) -> String {
        match self {
            SessionValue::Str(s) => s.clone(),
            other => other.python_repr(),
        }
    }
}

/// The session dict as Python's `repr()` prints it, in insertion order.
pub fn dict_repr(data: &SessionData) -> String {
    let items = data
        .iter()
        .map(|(k, v)| (SessionValue::Str(k.clone()), v.clone()))
        .collect();
    SessionValue::Dict(items).python_repr()
}

impl From<&SessionValue> for crate::unrepr::Value {
    fn from(value: &SessionValue) -> Self {
        use crate::unrepr::Value;
        match value {
            SessionValue::None => Value::None,
            SessionValue::Bool(b) => Value::Bool(*b),
            SessionValue::Int(i) => Value::Int((*i).into()),
            SessionValue::BigInt(b) => Value::Int(b.clone()),
            SessionValue::Float(f) => Value::Float(*f),
            SessionValue::Str(s) => Value::Str(s.clone()),
            SessionValue::Bytes(b) => Value::Bytes(b.clone()),
            SessionValue::List(items) => Value::List(items.iter().map(Value::from).collect()),
            SessionValue::Tuple(items) => Value::Tuple(items.iter().map(Value::from).collect()),
            SessionValue::Dict(items) => Value::Dict(
                items
                    .iter()
                    .map(|(k, v)| (Value::from(k), Value::from(v)))
                    .collect(),
            ),
        }
    }
}
