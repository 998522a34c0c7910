//! What a session weighs in each store's own encoding: the file store writes the protocol 4
//! pickle [`SessionSize`] measures, but memcached writes protocol 0 (text, where a `\` or a
//! character beyond Latin-1 takes 6 to 10 bytes) and Redis protocol 5 (a memo entry per
//! object, frames), and a store may hold less than the budget (memcached's item size
//! limit). `Session::insert` weighs a value this way too, so a session its store could not
//! hold is refused at the insert, never by a failed save.

use num_bigint::BigInt;

use super::{BATCH, PickleError, SessionSize, batches, entry_weight, session, sized};
use crate::limits::MAX_SESSION_BYTES;
use crate::session_value::SessionValue;

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
        crate::session_value::CREATED_KEY,
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
pub(super) fn str_cost(s: &str, encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Protocol4 => (0, 0),
        Encoding::Protocol0 => (2 + p0_text(s), 1),
        Encoding::Protocol5 => p5_payload(s.len(), p5_str_singleton(s)),
    }
}

/// A bytes as `encoding` writes it. Protocol 0: `_codecs.encode(text, 'latin1')` (the
/// function and `'latin1'` referred to by memo lines, spelled out once per session in
/// [`P0_SESSION_OVERHEAD`]), or `bytes()` when empty.
pub(super) fn bytes_cost(b: &[u8], encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Protocol4 => (0, 0),
        Encoding::Protocol0 if b.is_empty() => (22, 2),
        // `encode` and `'latin1'` by reference, `(`, the text, `t` and `R`, three memoized.
        Encoding::Protocol0 => (5 + 2 * P0_MEMO_REF + p0_latin1(b), 3),
        Encoding::Protocol5 => p5_payload(b.len(), b.len() <= 1),
    }
}

/// A container's own opcodes (items aside) as `encoding` writes it.
pub(super) fn container_cost(v: &SessionValue, encoding: Encoding) -> (usize, usize) {
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
pub(super) fn scalar_cost(v: &SessionValue, p4: usize, encoding: Encoding) -> (usize, usize) {
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
