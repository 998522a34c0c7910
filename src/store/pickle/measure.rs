//! The session budget, measured one way for writing, reading and changing a session.
//!
//! A session's *size* is the number of its values and the length of the protocol 4 pickle
//! this crate writes for it (what the file store holds). Both add up over the session's
//! entries, so `Session::insert` can keep them current by measuring only the value it
//! inserts; the encoders refuse data over the budget, and the decoder measures what a
//! pickle would expand to with the same costs before it builds anything.
//!
//! The memcached and Redis stores write other protocols (0 and 5), which are longer for
//! the same data, and a store may hold less than the budget (memcached's item size limit).
//! So `Session::insert` also weighs a value as its store will write it ([`Weight`]), and
//! refuses what that store could not hold ([`Budget`]): an error at the insert, never a
//! failed save.

use std::collections::HashSet;
use std::sync::LazyLock;

use foldhash::fast::RandomState;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::{PickleError, grow_stack};
use crate::limits::{MAX_INT_DIGITS, MAX_SESSION_BYTES, MAX_SESSION_DEPTH, MAX_SESSION_VALUES};
use crate::session_value::{SessionData, SessionValue};

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

/// How a store writes a session's pickle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(
    not(all(feature = "memcached", feature = "redis")),
    allow(
        dead_code,
        reason = "a build without a store's feature writes no pickle of its own"
    )
)]
pub(crate) enum Encoding {
    /// Protocol 4 without memo or frames: the file store, and what the decoder measures.
    #[default]
    Protocol4,
    /// Protocol 0, text, as python-memcached writes it: the memcached store.
    Protocol0,
    /// Protocol 5 with CPython's memo and frames, as cherrys writes it: the Redis store.
    Protocol5,
}

/// What one store can hold: the encoding it writes, and the longest pickle it stores (at
/// most [`MAX_SESSION_BYTES`], which every reader accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    pub(crate) encoding: Encoding,
    pub(crate) max_bytes: usize,
}

impl Budget {
    /// The budget of a store writing `encoding`, holding pickles up to [`MAX_SESSION_BYTES`].
    pub(crate) const fn of(encoding: Encoding) -> Self {
        Self {
            encoding,
            max_bytes: MAX_SESSION_BYTES,
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::of(Encoding::Protocol4)
    }
}

/// What a session, or part of one, costs in one store: the [`SessionSize`] every store is
/// held to, and the bytes of the store's own encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Weight {
    pub(crate) size: SessionSize,
    /// Bytes the store's encoding writes (none for protocol 4, whose length is
    /// `size.bytes`), besides what `marks` stand for.
    pub(crate) stored: usize,
    /// What the encoding writes whose length depends on the whole session. Protocol 0:
    /// memo entries (each a `p<n>\n` line, longer as `n` grows). Protocol 5: payloads of
    /// 64 KiB or more, written outside frames, each of which may close a frame early (one
    /// more `FRAME` header).
    pub(crate) marks: usize,
}

impl Weight {
    /// The sum, saturating.
    pub(crate) fn plus(self, other: Self) -> Self {
        Self {
            size: self.size.plus(other.size),
            stored: self.stored.saturating_add(other.stored),
            marks: self.marks.saturating_add(other.marks),
        }
    }

    /// The difference; `other` is part of `self`.
    pub(crate) fn minus(self, other: Self) -> Self {
        Self {
            size: self.size.minus(other.size),
            stored: self.stored.saturating_sub(other.stored),
            marks: self.marks.saturating_sub(other.marks),
        }
    }

    /// What a weight that could not be measured counts as: over any budget.
    pub(crate) fn over() -> Self {
        let huge = usize::MAX / 2;
        Self {
            size: SessionSize {
                values: huge,
                bytes: huge,
            },
            stored: huge,
            marks: huge,
        }
    }

    /// Whether a session of `n` entries weighing this (their keys and values) fits
    /// `budget`; with `created`, with room for the creation time the save adds to the data
    /// (see `max_lifetime`).
    pub(crate) fn check(self, n: usize, budget: Budget, created: bool) -> Result<(), PickleError> {
        let (all, n) = if created {
            (
                self.plus(created_stamp(budget.encoding)),
                n.saturating_add(1),
            )
        } else {
            (self, n)
        };
        session(all.size, n).check()?;
        if stored_length(all, n, budget.encoding) > budget.max_bytes {
            return Err(PickleError::TooLarge(budget.max_bytes));
        }
        Ok(())
    }
}

/// The weight of the creation time a save adds to the data (the longest float Python
/// writes: 24 characters).
fn created_stamp(encoding: Encoding) -> Weight {
    entry_weight(
        crate::session::CREATED_KEY,
        &SessionValue::Float(-f64::MIN_POSITIVE),
        encoding,
    )
    .unwrap_or_else(|_| Weight::over())
}

/// The length, or more, of the pickle `encoding` writes for a session of `n` entries
/// weighing `w`.
pub(crate) fn stored_length(w: Weight, n: usize, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Protocol4 => session(w.size, n).bytes,
        Encoding::Protocol0 => w
            .stored
            .saturating_add(P0_SESSION_OVERHEAD)
            .saturating_add(p0_memo_lines(w.marks.saturating_add(P0_SESSION_LINES))),
        Encoding::Protocol5 => {
            let unframed = w
                .stored
                .saturating_add(P5_SESSION_OVERHEAD)
                .saturating_add(p5_dict_items(n));
            // A frame is closed once it holds 64 KiB, or early where a large payload goes
            // outside frames, and at the end.
            let frames = (unframed / P5_FRAME_SIZE_TARGET)
                .saturating_add(1)
                .saturating_add(w.marks);
            unframed.saturating_add(frames.saturating_mul(P5_FRAME_HEADER))
        }
    }
}

/// Protocol 0's session besides its entries and memo lines: `(`, `(d`, the expiration
/// (`cdatetime\ndatetime\n`, `(`, its state as bytes, `t`, `R`), `t` and `.`; the bytes
/// spelled `c_codecs\nencode\n` and `Vlatin1\n` once (later bytes refer to them), and the
/// state's 10 bytes as text of at most 6 bytes each.
const P0_SESSION_OVERHEAD: usize = 1 + 2 + 19 + 1 + (5 + 10 * 6) + (16 + 8) + 1 + 1 + 1 + 1;
/// Its memo entries and references: the dict, the datetime class, the state's five, `t`,
/// `R`, the pair (references counted as entries: the state's two are to the first
/// entries its own bytes make, when no other bytes came first).
const P0_SESSION_LINES: usize = 10;
/// Protocol 5's session besides its entries, their batches and frames: `PROTO 5`, `EMPTY_DICT`
/// and `MEMOIZE`, the expiration (two strs `datetime`, `STACK_GLOBAL`, the state, `TUPLE1`,
/// `REDUCE`, each memoized), `TUPLE2`, `MEMOIZE` and `STOP`.
const P5_SESSION_OVERHEAD: usize = 2 + 2 + (2 * 11 + 2 + 13 + 2 + 2) + 3;
const P5_FRAME_SIZE_TARGET: usize = 64 * 1024;
const P5_FRAME_HEADER: usize = 9;

/// Protocol 5's opcodes around a dict's `n` items: `SETITEM` for one, else batches, and the
/// C pickler's empty batch after a multiple of 1,000.
fn p5_dict_items(n: usize) -> usize {
    match n {
        0 => 0,
        1 => 1,
        _ => batches(n) + if n.is_multiple_of(BATCH) { 2 } else { 0 },
    }
}

/// The `p<n>\n` lines of `count` memo entries, `n` counting up from 0.
fn p0_memo_lines(count: usize) -> usize {
    let (mut total, mut start, mut digits) = (2 * count, 0usize, 1);
    while start < count {
        let end = start.saturating_mul(10).max(10).min(count);
        total = total.saturating_add((end - start).saturating_mul(digits));
        (start, digits) = (end, digits + 1);
    }
    total
}

/// A protocol 0 memo reference (`g<n>\n`) to an entry memoized somewhere in the session:
/// at most 9 bytes, as a session within [`MAX_SESSION_VALUES`] (checked first) has fewer
/// than 10^7 memo entries (three per value at most).
const P0_MEMO_REF: usize = 9;

/// Decimal digits of `n`.
fn decimal_digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// `I<n>\n` or `L<n>L\n`, as protocol 0 writes an int.
fn p0_int(i: i64) -> usize {
    let text = decimal_digits(i.unsigned_abs()) + usize::from(i < 0);
    if i32::try_from(i).is_ok() {
        2 + text
    } else {
        3 + text
    }
}

/// `L<n>L\n` for an int beyond 64 bits: at most its bits × log10(2), rounded up, digits.
fn p0_big(b: &BigInt) -> usize {
    let digits = usize::try_from((b.bits() * 30_103).div_ceil(100_000)).unwrap_or(usize::MAX);
    3 + digits.saturating_add(1)
}

/// Bytes protocol 0 writes for each byte of a str's UTF-8: `\`, NUL, `\n`, `\r` and `\x1a`
/// as `\u00xx`, other characters below U+0100 as one byte (counted at the lead byte of a
/// two-byte character), others as `\uxxxx` or `\Uxxxxxxxx` (counted at their lead byte).
const P0_STR_BYTE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'\\' | 0 | b'\n' | b'\r' | 0x1a => 6,
            0x01..=0x7f => 1,
            0x80..=0xbf => 0,
            0xc0..=0xc3 => 1,
            0xc4..=0xef => 6,
            0xf0..=0xff => 10,
        };
        b += 1;
    }
    table
};

/// A str's text in protocol 0 (raw-unicode-escape, line breaks and `\` escaped).
fn p0_text(s: &str) -> usize {
    s.bytes()
        .map(|b| usize::from(P0_STR_BYTE[usize::from(b)]))
        .sum()
}

/// A bytes' text in protocol 0: each byte a Latin-1 character.
fn p0_latin1(b: &[u8]) -> usize {
    b.iter()
        .map(|&byte| match byte {
            b'\\' | 0 | b'\n' | b'\r' | 0x1a => 6,
            _ => 1,
        })
        .sum()
}

/// What a str or bytes of `len` bytes costs in protocol 5: its opcode, length and payload,
/// and `MEMOIZE`; at most a `LONG_BINGET` when it is one of CPython's singletons (the
/// empty one, or one character below U+0100 / one byte), memoized once per pickle.
fn p5_payload(len: usize, singleton: bool) -> (usize, usize) {
    if singleton {
        return (5, 0);
    }
    (
        sized(len) + len + 1,
        usize::from(len >= P5_FRAME_SIZE_TARGET),
    )
}

fn p5_str_singleton(s: &str) -> bool {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) => true,
        (Some(c), None) => u32::from(c) < 0x100,
        _ => false,
    }
}

/// A str as `encoding` writes it (stored bytes, marks).
fn str_cost(s: &str, encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Protocol4 => (0, 0),
        Encoding::Protocol0 => (2 + p0_text(s), 1),
        Encoding::Protocol5 => p5_payload(s.len(), p5_str_singleton(s)),
    }
}

/// A bytes as `encoding` writes it. Protocol 0: `_codecs.encode(text, 'latin1')` (the
/// function and `'latin1'` referred to by memo lines, spelled out once per session in
/// [`P0_SESSION_OVERHEAD`]), or `bytes()` when empty.
fn bytes_cost(b: &[u8], encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Protocol4 => (0, 0),
        Encoding::Protocol0 if b.is_empty() => (22, 2),
        // `encode` and `'latin1'` by reference, `(`, the text, `t` and `R`, three memoized.
        Encoding::Protocol0 => (5 + 2 * P0_MEMO_REF + p0_latin1(b), 3),
        Encoding::Protocol5 => p5_payload(b.len(), b.len() <= 1),
    }
}

/// A container's own opcodes (items aside) as `encoding` writes it.
fn container_cost(v: &SessionValue, encoding: Encoding) -> (usize, usize) {
    match (encoding, v) {
        (Encoding::Protocol4, _) => (0, 0),
        // `(l`/`(d`, memoized, and `a`/`s` after each item.
        (Encoding::Protocol0, SessionValue::List(items)) => (2 + items.len(), 1),
        (Encoding::Protocol0, SessionValue::Dict(items)) => (2 + items.len(), 1),
        (Encoding::Protocol0, SessionValue::Tuple(items)) if items.is_empty() => (2, 0),
        (Encoding::Protocol0, SessionValue::Tuple(_)) => (2, 1),
        (Encoding::Protocol5, SessionValue::List(items)) => (
            2 + match items.len() {
                0 => 0,
                1 => 1,
                n => batches(n),
            },
            0,
        ),
        (Encoding::Protocol5, SessionValue::Dict(items)) => (2 + p5_dict_items(items.len()), 0),
        (Encoding::Protocol5, SessionValue::Tuple(items)) => match items.len() {
            0 => (1, 0),
            1..=3 => (2, 0),
            _ => (3, 0),
        },
        _ => (0, 0),
    }
}

/// A scalar as `encoding` writes it (protocol 5 writes scalars as protocol 4 does).
fn scalar_cost(v: &SessionValue, p4: usize, encoding: Encoding) -> (usize, usize) {
    match (encoding, v) {
        (Encoding::Protocol4, _) => (0, 0),
        (Encoding::Protocol5, _) => (p4, 0),
        (Encoding::Protocol0, SessionValue::Bool(_)) => (4, 0),
        (Encoding::Protocol0, SessionValue::Int(i)) => (p0_int(*i), 0),
        (Encoding::Protocol0, SessionValue::BigInt(b)) => (p0_big(b), 0),
        (Encoding::Protocol0, SessionValue::Float(f)) => {
            (2 + crate::unrepr::float_repr(*f).len(), 0)
        }
        (Encoding::Protocol0, _) => (1, 0),
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
