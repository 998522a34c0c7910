//! The session budget, measured one way for writing, reading and changing a session.
//!
//! A session's *size* is the number of its values and the length of the protocol 4 pickle
//! this crate writes for it (what the file store holds). Both add up over the session's
//! entries, so `Session::insert` can keep them current by measuring only the value it
//! inserts; the encoders refuse data over the budget, and the decoder measures what a
//! pickle would expand to with the same costs before it builds anything.
//! What the memcached and Redis stores' own encodings weigh is in `stored`.

use std::collections::HashSet;
use std::sync::LazyLock;

use foldhash::fast::RandomState;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::{PickleError, grow_stack};
use crate::limits::{MAX_INT_DIGITS, MAX_SESSION_BYTES, MAX_SESSION_DEPTH, MAX_SESSION_VALUES};
use crate::session_value::{SessionData, SessionValue};

mod stored;

#[cfg(test)]
pub(crate) use stored::stored_length;
pub(crate) use stored::{Budget, Encoding, Weight};
use stored::{bytes_cost, container_cost, scalar_cost, str_cost};

/// What a session, or part of one, costs against the budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionSize {
    /// Values: each key of the session dict, each scalar and each container counts one.
    pub(crate) values: usize,
    /// Bytes of the protocol 4 pickle this crate writes for them.
    pub(crate) bytes: usize,
}

impl SessionSize {
    /// The sum, saturating (a decoded graph can name 2^64 values).
    pub(crate) fn plus(self, other: Self) -> Self {
        Self {
            values: self.values.saturating_add(other.values),
            bytes: self.bytes.saturating_add(other.bytes),
        }
    }

    /// The difference; `other` is part of `self`.
    pub(crate) fn minus(self, other: Self) -> Self {
        Self {
            values: self.values.saturating_sub(other.values),
            bytes: self.bytes.saturating_sub(other.bytes),
        }
    }

    /// Whether this is within the budget for one whole session.
    pub(crate) fn check(self) -> Result<(), PickleError> {
        if self.values > MAX_SESSION_VALUES {
            return Err(PickleError::TooManyValues(MAX_SESSION_VALUES));
        }
        if self.bytes > MAX_SESSION_BYTES {
            return Err(PickleError::TooLarge(MAX_SESSION_BYTES));
        }
        Ok(())
    }
}

/// `APPENDS`/`SETITEMS` batch size, as Python's pickler (and ours) writes them.
pub(super) const BATCH: usize = 1000;

/// The pickle of an empty session: `PROTO 4`, `EMPTY_DICT`, the expiration
/// (`datetime.datetime` by `STACK_GLOBAL`, its 10-byte state, `TUPLE1`, `REDUCE`), then
/// `TUPLE2` and `STOP`.
const SESSION_OVERHEAD: usize = 2 + 1 + (2 + 8) * 2 + 1 + (2 + 10) + 1 + 1 + 2;

/// `MARK` and `APPENDS`/`SETITEMS` around each batch of `n` items.
pub(super) fn batches(n: usize) -> usize {
    2 * n.div_ceil(BATCH)
}

/// A whole session whose entries (keys and values) add up to `entries`, `n` of them.
pub(crate) fn session(entries: SessionSize, n: usize) -> SessionSize {
    entries.plus(SessionSize {
        values: 0,
        bytes: SESSION_OVERHEAD + batches(n),
    })
}

/// The opcode and length prefix of a str or bytes of `len` bytes.
pub(super) fn sized(len: usize) -> usize {
    if len <= usize::from(u8::MAX) {
        2
    } else if u32::try_from(len).is_ok() {
        5
    } else {
        9
    }
}

/// Python's choice: `BININT1`, `BININT2`, `BININT`, else `LONG1` of the minimal two's
/// complement.
pub(super) fn int(i: i64) -> usize {
    if u8::try_from(i).is_ok() {
        2
    } else if u16::try_from(i).is_ok() {
        3
    } else if i32::try_from(i).is_ok() {
        5
    } else {
        2 + BigInt::from(i).to_signed_bytes_le().len()
    }
}

/// An int beyond 64 bits (`LONG1`, or `LONG4` past 255 bytes).
pub(super) fn big(b: &BigInt) -> usize {
    if let Some(i) = b.to_i64() {
        return int(i);
    }
    let n = b.to_signed_bytes_le().len();
    if n <= usize::from(u8::MAX) {
        2 + n
    } else {
        5 + n
    }
}

/// `10^MAX_INT_DIGITS`, the smallest magnitude with too many digits.
static TOO_MANY_DIGITS: LazyLock<BigInt> =
    LazyLock::new(|| num_traits::pow(BigInt::from(10), MAX_INT_DIGITS));

/// Whether an int has at most [`MAX_INT_DIGITS`] decimal digits.
pub(super) fn check_digits(b: &BigInt) -> Result<(), PickleError> {
    // 2^14284 < 10^4300: fewer bits are always fine, and cost no comparison.
    if b.bits() < (MAX_INT_DIGITS as u64 * 3322) / 1000
        || b.magnitude() < TOO_MANY_DIGITS.magnitude()
    {
        Ok(())
    } else {
        Err(PickleError::IntTooLong(MAX_INT_DIGITS))
    }
}

/// The size of a whole session, or the first reason it cannot be written (too deep, an
/// unhashable dict key, an int with too many digits, over the budget).
pub(crate) fn measure(data: &SessionData) -> Result<SessionSize, PickleError> {
    let mut entries = SessionSize::default();
    for (k, v) in data {
        entries = entries.plus(entry(k, v)?);
    }
    let size = session(entries, data.len());
    size.check()?;
    Ok(size)
}

/// One entry of the session dict: its key and its value.
pub(crate) fn entry(key: &str, value: &SessionValue) -> Result<SessionSize, PickleError> {
    Ok(entry_weight(key, value, Encoding::Protocol4)?.size)
}

/// One entry of the session dict as a store writing `encoding` weighs it: the cost of
/// `Session::insert`, proportional to the entry.
pub(crate) fn entry_weight(
    key: &str,
    value: &SessionValue,
    encoding: Encoding,
) -> Result<Weight, PickleError> {
    let (stored, marks) = str_cost(key, encoding);
    let key = Weight {
        size: SessionSize {
            values: 1,
            bytes: sized(key.len()) + key.len(),
        },
        stored,
        marks,
    };
    // Protocol 0 ends each item of the session dict with `s`.
    let set = Weight {
        stored: usize::from(encoding == Encoding::Protocol0),
        ..Weight::default()
    };
    Ok(key.plus(self::value(value, 1, encoding)?).plus(set))
}

fn value(v: &SessionValue, depth: usize, encoding: Encoding) -> Result<Weight, PickleError> {
    if depth > MAX_SESSION_DEPTH {
        return Err(PickleError::TooDeep(MAX_SESSION_DEPTH));
    }
    let one = |bytes, (stored, marks)| Weight {
        size: SessionSize { values: 1, bytes },
        stored,
        marks,
    };
    let scalar = |bytes| one(bytes, scalar_cost(v, bytes, encoding));
    let item = |acc: Weight, item| {
        Ok::<_, PickleError>(acc.plus(grow_stack(|| value(item, depth + 1, encoding))?))
    };
    Ok(match v {
        SessionValue::None | SessionValue::Bool(_) => scalar(1),
        SessionValue::Int(i) => scalar(int(*i)),
        SessionValue::BigInt(b) => {
            check_digits(b)?;
            scalar(big(b))
        }
        SessionValue::Float(_) => scalar(9),
        SessionValue::Str(s) => one(sized(s.len()) + s.len(), str_cost(s, encoding)),
        SessionValue::Bytes(b) => one(sized(b.len()) + b.len(), bytes_cost(b, encoding)),
        SessionValue::List(items) => items.iter().try_fold(
            one(1 + batches(items.len()), container_cost(v, encoding)),
            item,
        )?,
        SessionValue::Tuple(items) => items
            .iter()
            .try_fold(one(tuple(items.len()), container_cost(v, encoding)), item)?,
        SessionValue::Dict(items) => {
            let mut acc = one(1 + batches(items.len()), container_cost(v, encoding));
            let mut seen = Seen::new(items.len());
            for (k, v) in items {
                // Python could not load a dict keyed by a list: refuse to write one.
                hashable(k, depth + 1)?;
                // Nor would it keep two equal keys: what we write must read back the same.
                if !seen.insert(PyKey::of(k)) {
                    return Err(PickleError::DuplicateKey(k.python_repr()));
                }
                acc = item(acc, k)?;
                acc = item(acc, v)?;
            }
            acc
        }
    })
}

/// The opcodes of a tuple of `n` items besides the items: `EMPTY_TUPLE`, `TUPLE1`..`TUPLE3`,
/// or `MARK` ... `TUPLE`.
pub(super) fn tuple(n: usize) -> usize {
    match n {
        0..=3 => 1,
        _ => 2,
    }
}

/// A hashable value as Python's `==` sees it: `1 == 1.0 == True`, `0.0 == -0.0`, and NaN
/// equal to nothing. Built only after [`hashable`] accepted the key, so its cost is the
/// key's own size, already counted against the budget.
#[derive(Hash, PartialEq, Eq)]
enum PyKey<'a> {
    None,
    Int(i64),
    Big(BigInt),
    Float(u64),
    /// NaN: each one its own key, by its place in the dict.
    Nan(usize),
    Str(&'a str),
    Bytes(&'a [u8]),
    Tuple(Vec<PyKey<'a>>),
}

impl<'a> PyKey<'a> {
    fn of(v: &'a SessionValue) -> Self {
        match v {
            SessionValue::Bool(b) => Self::Int(i64::from(*b)),
            SessionValue::Int(i) => Self::Int(*i),
            SessionValue::BigInt(b) => b.to_i64().map_or_else(|| Self::Big(b.clone()), Self::Int),
            SessionValue::Float(f) if f.is_nan() => Self::Nan(std::ptr::from_ref(f) as usize),
            SessionValue::Float(f) if f.is_finite() && f.fract() == 0.0 => match f.to_i64() {
                Some(i) => Self::Int(i),
                None => Self::Big(num_traits::FromPrimitive::from_f64(*f).unwrap_or_default()),
            },
            SessionValue::Float(f) => Self::Float(f.to_bits()),
            SessionValue::Str(s) => Self::Str(s),
            SessionValue::Bytes(b) => Self::Bytes(b),
            SessionValue::Tuple(items) => Self::Tuple(items.iter().map(Self::of).collect()),
            SessionValue::None => Self::None,
            // Not hashable: refused by `hashable` before a key is built.
            SessionValue::List(_) | SessionValue::Dict(_) => {
                Self::Nan(std::ptr::from_ref(v) as usize)
            }
        }
    }
}

/// The keys of one dict seen so far: searched in order while the dict is small (most
/// session dicts are, and a hash table each would cost more than the rest of the measure),
/// hashed beyond that, where a search in order would be quadratic.
enum Seen<'a> {
    Small(Vec<PyKey<'a>>),
    Large(HashSet<PyKey<'a>, RandomState>),
}

impl<'a> Seen<'a> {
    const SMALL: usize = 16;

    fn new(len: usize) -> Self {
        if len <= Self::SMALL {
            Self::Small(Vec::with_capacity(len))
        } else {
            Self::Large(HashSet::with_capacity_and_hasher(
                len,
                RandomState::default(),
            ))
        }
    }

    /// False when an equal key was already there.
    fn insert(&mut self, key: PyKey<'a>) -> bool {
        match self {
            Self::Small(keys) if keys.contains(&key) => false,
            Self::Small(keys) => {
                keys.push(key);
                true
            }
            Self::Large(keys) => keys.insert(key),
        }
    }
}

fn hashable(k: &SessionValue, depth: usize) -> Result<(), PickleError> {
    if depth > MAX_SESSION_DEPTH {
        return Err(PickleError::TooDeep(MAX_SESSION_DEPTH));
    }
    match k {
        SessionValue::List(_) => Err(PickleError::UnhashableKey("a list")),
        SessionValue::Dict(_) => Err(PickleError::UnhashableKey("a dict")),
        SessionValue::Tuple(items) => items
            .iter()
            .try_for_each(|i| grow_stack(|| hashable(i, depth + 1))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_value::SessionValue as V;

    fn expires() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
            .and_then(|d| d.and_hms_micro_opt(0, 0, 0, 999_999))
            .expect("valid")
    }

    /// Large sessions of each shape that costs the text and binary pickles more than
    /// protocol 4: the weight `Session::insert` reckons is at least what the store writes,
    /// and within 2% of it, so the budget is the store's and not much less. Two shapes are
    /// the exceptions, where the length depends on a memo index an insert cannot know:
    /// small bytes in protocol 0 (each refers twice to names memoized once, counted as the
    /// longest reference) and CPython's singletons in protocol 5 (the empty str or bytes,
    /// one character or byte: a 2-byte `BINGET` or a 5-byte `LONG_BINGET`, counted as 5).
    /// Each still weighs at most 41 and 5 bytes, so a session of them reaches
    /// [`MAX_SESSION_VALUES`] first unless the store's budget is well below
    /// [`MAX_SESSION_BYTES`].
    #[test]
    fn the_weight_is_the_stored_length_or_a_little_more() {
        let one = |v: V| -> SessionData { [("k".to_owned(), v)].into_iter().collect() };
        let many = |n: usize, v: V| -> SessionData {
            (0..n).map(|i| (format!("key{i}"), v.clone())).collect()
        };
        let shapes = [
            one(V::Str("\\".repeat(300_000))),
            one(V::Str("\u{e9}\u{20ac}\u{1f600}\n".repeat(50_000))),
            one(V::Bytes((0..=255).cycle().take(500_000).collect())),
            one(V::Bytes(vec![7; 2_000_000])),
            one(V::List(vec![V::Str("x".repeat(30)); 52_000])),
            one(V::List(vec![V::Bytes(vec![1, 2, 3]); 30_000])),
            one(V::List(vec![V::Str("y".into()); 40_000])),
            one(V::List(vec![V::Bytes(vec![0; 70_000]); 5])),
            one(V::List(vec![V::Float(0.1); 30_000])),
            one(V::List(vec![V::Int(-(1 << 40)); 30_000])),
            one(V::Tuple(vec![
                V::Tuple(vec![V::Bool(true), V::None]);
                30_000
            ])),
            one(V::Dict(
                (0..2000).map(|i| (V::Int(i), V::List(vec![]))).collect(),
            )),
            many(1000, V::Str("v".repeat(100))),
            many(3000, V::Bytes(Vec::new())),
        ];
        for data in shapes {
            for (encoding, written) in [
                (
                    Encoding::Protocol0,
                    super::super::protocol0::encode(&data, expires()),
                ),
                (
                    Encoding::Protocol5,
                    super::super::protocol5::encode(&data, expires()),
                ),
            ] {
                let written = written.expect("writes").len();
                let weighed = super::super::proptests::weighed(&data, encoding);
                let first = match data.values().next() {
                    Some(V::List(items)) => items.first(),
                    other => other,
                };
                let loose = match (encoding, first) {
                    (Encoding::Protocol0, Some(V::Bytes(b))) => b.len() < 8,
                    (Encoding::Protocol5, Some(V::Str(s))) => s.chars().count() <= 1,
                    (Encoding::Protocol5, Some(V::Bytes(b))) => b.len() <= 1,
                    _ => false,
                };
                let slack = if loose {
                    written * 3 / 2
                } else {
                    written / 50 + 64
                };
                assert!(
                    weighed >= written && weighed <= written + slack,
                    "{encoding:?} {:?}: weighed {weighed}, written {written}",
                    data.values().next().map(|v| v
                        .python_repr()
                        .chars()
                        .take(40)
                        .collect::<String>())
                );
            }
        }
    }
}
