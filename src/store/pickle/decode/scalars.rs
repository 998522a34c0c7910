//! Python's ints and Python 2's `str`, read from their pickled forms: ints within
//! [`MAX_INT_DIGITS`] decimal digits (refused before they are built, as converting more
//! costs their length squared), and a Python 2 `str` as Python 3 reads it.

use std::rc::Rc;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::Machine;
use crate::limits::MAX_INT_DIGITS;
use crate::store::pickle::objects::Obj;
use crate::store::pickle::{PickleError, measure};

impl Machine {
    pub(super) fn decimal(&self, text: &[u8]) -> Result<Obj, PickleError> {
        let text = std::str::from_utf8(text).map_err(|_| self.err("an int is not ASCII"))?;
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(format!("invalid int literal {text:?}")));
        }
        // Parsing decimal digits costs their number squared: Python refuses more than this
        // many too (`ValueError: Exceeds the limit (4300 digits)`).
        if digits.trim_start_matches('0').len() > MAX_INT_DIGITS {
            return Err(PickleError::IntTooLong(MAX_INT_DIGITS));
        }
        Ok(match text.parse::<i64>() {
            Ok(i) => Obj::Int(i),
            Err(_) => big(text
                .parse::<BigInt>()
                .map_err(|_| self.err("invalid int literal"))?),
        })
    }
}

pub(super) fn big(b: BigInt) -> Obj {
    b.to_i64().map_or_else(|| Obj::Big(Rc::new(b)), Obj::Int)
}

/// `LONG1`/`LONG4`'s two's complement, within [`MAX_INT_DIGITS`] decimal digits (a longer
/// one is refused before it is built).
pub(super) fn int_from_le(bytes: &[u8]) -> Result<Obj, PickleError> {
    if bytes.is_empty() {
        return Ok(Obj::Int(0));
    }
    // 10^4300 needs 14,285 bits: more bytes than that (and a sign byte), not counting the
    // sign's repetitions at the top, have too many digits whatever they are.
    let pad = if bytes[bytes.len() - 1] & 0x80 == 0 {
        0
    } else {
        0xff
    };
    let significant = bytes.len() - bytes.iter().rev().take_while(|&&b| b == pad).count();
    if significant > (MAX_INT_DIGITS * 3322 / 1000) / 8 + 2 {
        return Err(PickleError::IntTooLong(MAX_INT_DIGITS));
    }
    let b = BigInt::from_signed_bytes_le(bytes);
    measure::check_digits(&b)?;
    Ok(big(b))
}

/// Python 3 decodes a Python 2 `str` as ASCII by default.
pub(super) fn py2_str(raw: &[u8]) -> Obj {
    match std::str::from_utf8(raw) {
        Ok(s) if raw.is_ascii() => Obj::Str(s.into()),
        _ => Obj::Py2Bytes(raw.into()),
    }
}
