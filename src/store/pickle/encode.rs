//! The pickler: protocol 4, no memo and no frames (both optional for readers), the same
//! opcodes Python picks for each value.

use chrono::{Datelike, NaiveDateTime, Timelike};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::measure::{self, BATCH};
use super::{PickleError, grow_stack, op};
use crate::session_value::{SessionData, SessionValue};

pub(super) fn encode(data: &SessionData, expires: NaiveDateTime) -> Result<Vec<u8>, PickleError> {
    // Everything the decoder would refuse (too deep, too large, an unhashable key, an int
    // with too many digits) is refused here first, by the same measure.
    let size = measure::measure(data)?;
    let mut out = Vec::with_capacity(size.bytes);
    out.extend([op::PROTO, 4]);
    out.push(op::EMPTY_DICT);
    let items: Vec<_> = data.iter().collect();
    for batch in items.chunks(BATCH) {
        out.push(op::MARK);
        for (k, v) in batch {
            str(&mut out, k);
            value(&mut out, v);
        }
        out.push(op::SETITEMS);
    }
    datetime(&mut out, expires)?;
    out.extend([op::TUPLE2, op::STOP]);
    debug_assert_eq!(out.len(), size.bytes, "the measure is the pickle's length");
    Ok(out)
}

/// Writes one value; [`measure::measure`] has checked it.
fn value(out: &mut Vec<u8>, v: &SessionValue) {
    match v {
        SessionValue::None => out.push(op::NONE),
        SessionValue::Bool(b) => out.push(if *b { op::NEWTRUE } else { op::NEWFALSE }),
        SessionValue::Int(i) => int(out, *i),
        SessionValue::BigInt(b) => match b.to_i64() {
            Some(i) => int(out, i),
            None => long(out, b),
        },
        SessionValue::Float(f) => {
            out.push(op::BINFLOAT);
            out.extend(f.to_be_bytes());
        }
        SessionValue::Str(s) => str(out, s),
        SessionValue::Bytes(b) => {
            sized(
                out,
                b.len(),
                [op::SHORT_BINBYTES, op::BINBYTES, op::BINBYTES8],
            );
            out.extend_from_slice(b);
        }
        SessionValue::List(items) => {
            out.push(op::EMPTY_LIST);
            for batch in items.chunks(BATCH) {
                out.push(op::MARK);
                for item in batch {
                    grow_stack(|| value(out, item));
                }
                out.push(op::APPENDS);
            }
        }
        SessionValue::Tuple(items) => match items.len() {
            0 => out.push(op::EMPTY_TUPLE),
            n @ 1..=3 => {
                for item in items {
                    grow_stack(|| value(out, item));
                }
                out.push(op::TUPLE1 + (n as u8 - 1));
            }
            _ => {
                out.push(op::MARK);
                for item in items {
                    grow_stack(|| value(out, item));
                }
                out.push(op::TUPLE);
            }
        },
        SessionValue::Dict(items) => {
            out.push(op::EMPTY_DICT);
            for batch in items.chunks(BATCH) {
                out.push(op::MARK);
                for (k, v) in batch {
                    grow_stack(|| value(out, k));
                    grow_stack(|| value(out, v));
                }
                out.push(op::SETITEMS);
            }
        }
    }
}

/// Python's choice: the smallest of `BININT1`, `BININT2`, `BININT`, else `LONG1`.
fn int(out: &mut Vec<u8>, i: i64) {
    if let Ok(b) = u8::try_from(i) {
        out.extend([op::BININT1, b]);
    } else if let Ok(h) = u16::try_from(i) {
        out.push(op::BININT2);
        out.extend(h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(i) {
        out.push(op::BININT);
        out.extend(w.to_le_bytes());
    } else {
        long(out, &BigInt::from(i));
    }
}

/// Minimal two's complement, little-endian: the same bytes as Python's `encode_long`.
fn long(out: &mut Vec<u8>, b: &BigInt) {
    let bytes = b.to_signed_bytes_le();
    match u8::try_from(bytes.len()) {
        Ok(n) => out.extend([op::LONG1, n]),
        Err(_) => {
            out.push(op::LONG4);
            // A 2 GiB int is not a session value anyone can build; saturate rather than wrap.
            out.extend(i32::try_from(bytes.len()).unwrap_or(i32::MAX).to_le_bytes());
        }
    }
    out.extend(bytes);
}

fn str(out: &mut Vec<u8>, s: &str) {
    sized(
        out,
        s.len(),
        [op::SHORT_BINUNICODE, op::BINUNICODE, op::BINUNICODE8],
    );
    out.extend_from_slice(s.as_bytes());
}

/// The opcode and length for a 1-byte, 4-byte or 8-byte length prefix.
fn sized(out: &mut Vec<u8>, len: usize, [short, long, huge]: [u8; 3]) {
    if let Ok(n) = u8::try_from(len) {
        out.extend([short, n]);
    } else if let Ok(n) = u32::try_from(len) {
        out.push(long);
        out.extend(n.to_le_bytes());
    } else {
        out.push(huge);
        out.extend((len as u64).to_le_bytes());
    }
}

/// `datetime.datetime(state)` as Python 3 pickles it with protocol 4: `STACK_GLOBAL` of
/// `datetime.datetime`, called (`REDUCE`) with one 10-byte state.
fn datetime(out: &mut Vec<u8>, t: NaiveDateTime) -> Result<(), PickleError> {
    let state = datetime_state(t)?;
    str(out, "datetime");
    str(out, "datetime");
    out.push(op::STACK_GLOBAL);
    out.extend([op::SHORT_BINBYTES, 10]);
    out.extend(state);
    out.extend([op::TUPLE1, op::REDUCE]);
    Ok(())
}

/// A naive datetime's pickled state: year (2 bytes, big-endian), month, day, hour, minute,
/// second, microsecond (3 bytes). Sub-microsecond precision is dropped, as Python has none.
pub(super) fn datetime_state(t: NaiveDateTime) -> Result<[u8; 10], PickleError> {
    let year = u16::try_from(t.year())
        .ok()
        .filter(|y| (1..=9999).contains(y))
        .ok_or_else(|| {
            PickleError::InvalidDateTime(format!("year {} outside 1..=9999", t.year()))
        })?;
    // A leap second (nanosecond >= 1e9) becomes the last microsecond of its second.
    let micro = (t.nanosecond() / 1000).min(999_999);
    let [y1, y0] = year.to_be_bytes();
    let [_, m2, m1, m0] = micro.to_be_bytes();
    let [month, day, hour, minute, second] =
        [t.month(), t.day(), t.hour(), t.minute(), t.second()].map(|f| f as u8);
    Ok([y1, y0, month, day, hour, minute, second, m2, m1, m0])
}
