//! Numeric literals: how far one reaches (CPython 3.11's tokenizer rules) and its value.

use std::ops::Range;

use num_bigint::BigInt;
use num_traits::Num;

/// Python 3.11's `sys.int_info.default_max_str_digits`: a longer decimal `int` literal is a
/// `SyntaxError` ("Exceeds the limit (4300 digits) for integer string conversion").
const MAX_DECIMAL_DIGITS: usize = 4300;

type ScanError = (String, Range<usize>);

/// The value of a `NUMBER` token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Number {
    Int(BigInt),
    Float(f64),
    /// An imaginary literal such as `2j` (its imaginary part).
    Imag(f64),
}

fn at(src: &[u8], i: usize) -> u8 {
    src.get(i).copied().unwrap_or(0)
}

/// An error found with the scan at `pos`; CPython reports the character before it (the
/// last one its tokenizer consumed).
fn err(msg: impl Into<String>, pos: usize) -> ScanError {
    let at = pos.saturating_sub(1);
    (msg.into(), at..at + 1)
}

/// CPython's `verify_end_of_number`: a literal directly followed by a letter is an error,
/// except before the keywords that valid code can put there (`1if x else y`), which only
/// warn.
fn verify_end(src: &[u8], pos: usize, kind: &str) -> Result<(), ScanError> {
    let rest = &src[pos.min(src.len())..];
    let keyword_follows = match at(src, pos) {
        b'a' => rest.starts_with(b"and"),
        b'e' => rest.starts_with(b"else"),
        b'f' => rest.starts_with(b"for"),
        b'i' => matches!(at(src, pos + 1), b'f' | b'n' | b's'),
        b'o' => rest.starts_with(b"or"),
        b'n' => rest.starts_with(b"not"),
        _ => false,
    };
    let c = at(src, pos);
    if !keyword_follows && (c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80) {
        return Err(err(format!("invalid {kind} literal"), pos));
    }
    Ok(())
}

/// Digits (with single underscores between them) from `pos`; returns the end.
fn decimal_tail(src: &[u8], mut pos: usize) -> Result<usize, ScanError> {
    loop {
        while at(src, pos).is_ascii_digit() {
            pos += 1;
        }
        if at(src, pos) != b'_' {
            return Ok(pos);
        }
        pos += 1;
        if !at(src, pos).is_ascii_digit() {
            return Err(err("invalid decimal literal", pos));
        }
    }
}

/// Digits of a `0x`/`0o`/`0b` literal from `pos` (just after the prefix).
fn radix_digits(src: &[u8], mut pos: usize, radix: u32, kind: &str) -> Result<usize, ScanError> {
    let is_digit = |c: u8| (c as char).is_digit(radix);
    loop {
        if at(src, pos) == b'_' {
            pos += 1;
        }
        let c = at(src, pos);
        if !is_digit(c) {
            if radix != 16 && c.is_ascii_digit() {
                return Err(err(
                    format!("invalid digit '{}' in {kind} literal", c as char),
                    pos + 1,
                ));
            }
            return Err(err(format!("invalid {kind} literal"), pos));
        }
        while is_digit(at(src, pos)) {
            pos += 1;
        }
        if at(src, pos) != b'_' {
            break;
        }
    }
    let c = at(src, pos);
    if radix != 16 && c.is_ascii_digit() {
        return Err(err(
            format!("invalid digit '{}' in {kind} literal", c as char),
            pos + 1,
        ));
    }
    verify_end(src, pos, kind)?;
    Ok(pos)
}

/// Scans the numeric literal starting at `start` (a digit, or `.` before a digit) and
/// returns where it ends.
pub(super) fn scan(src: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut pos = start;
    if at(src, pos) == b'.' {
        return fraction(src, pos + 1);
    }
    if at(src, pos) == b'0' {
        pos += 1;
        match at(src, pos) {
            b'x' | b'X' => return radix_digits(src, pos + 1, 16, "hexadecimal"),
            b'o' | b'O' => return radix_digits(src, pos + 1, 8, "octal"),
            b'b' | b'B' => return radix_digits(src, pos + 1, 2, "binary"),
            _ => {}
        }
        // Zeros, maybe an old-style octal, maybe the integer part of a float.
        loop {
            if at(src, pos) == b'_' {
                pos += 1;
                if !at(src, pos).is_ascii_digit() {
                    return Err(err("invalid decimal literal", pos));
                }
            }
            if at(src, pos) != b'0' {
                break;
            }
            pos += 1;
        }
        let zeros_end = pos;
        let nonzero = at(src, pos).is_ascii_digit();
        if nonzero {
            pos = decimal_tail(src, pos)?;
        }
        return match at(src, pos) {
            b'.' => fraction(src, pos + 1),
            b'e' | b'E' => exponent(src, pos),
            b'j' | b'J' => imaginary(src, pos),
            _ if nonzero => Err((
                "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers".into(),
                start..zeros_end,
            )),
            _ => verify_end(src, pos, "decimal").map(|()| pos),
        };
    }
    pos = decimal_tail(src, pos)?;
    match at(src, pos) {
        b'.' => fraction(src, pos + 1),
        b'e' | b'E' => exponent(src, pos),
        b'j' | b'J' => imaginary(src, pos),
        _ => verify_end(src, pos, "decimal").map(|()| pos),
    }
}

/// After the `.` of a float.
fn fraction(src: &[u8], mut pos: usize) -> Result<usize, ScanError> {
    if at(src, pos).is_ascii_digit() {
        pos = decimal_tail(src, pos)?;
    }
    match at(src, pos) {
        b'e' | b'E' => exponent(src, pos),
        b'j' | b'J' => imaginary(src, pos),
        _ => verify_end(src, pos, "decimal").map(|()| pos),
    }
}

/// At the `e` of an exponent. An `e` not followed by digits ends the number before the `e`
/// (so that `1else` reads as `1 else`), unless it starts an identifier.
fn exponent(src: &[u8], e_pos: usize) -> Result<usize, ScanError> {
    let mut pos = e_pos + 1;
    if matches!(at(src, pos), b'+' | b'-') {
        pos += 1;
        if !at(src, pos).is_ascii_digit() {
            return Err(err("invalid decimal literal", pos));
        }
    } else if !at(src, pos).is_ascii_digit() {
        verify_end(src, e_pos, "decimal")?;
        return Ok(e_pos);
    }
    pos = decimal_tail(src, pos)?;
    if matches!(at(src, pos), b'j' | b'J') {
        return imaginary(src, pos);
    }
    verify_end(src, pos, "decimal")?;
    Ok(pos)
}

/// At the `j` of an imaginary literal.
fn imaginary(src: &[u8], j_pos: usize) -> Result<usize, ScanError> {
    verify_end(src, j_pos + 1, "imaginary")?;
    Ok(j_pos + 1)
}

/// The value of a scanned literal. Errors are Python's `SyntaxError` messages for literals
/// that scan but cannot be converted.
pub(super) fn value(token: &str) -> Result<Number, String> {
    // Fast path for the common small decimal integer.
    if token.len() <= 18 && token.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Number::Int(BigInt::from(
            token.parse::<u64>().map_err(|e| e.to_string())?,
        )));
    }
    let clean: String = token.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let radix = match lower.get(..2) {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let n = BigInt::from_str_radix(&lower[2..], radix).map_err(|e| e.to_string())?;
        return Ok(Number::Int(n));
    }
    if let Some(body) = lower.strip_suffix('j') {
        return Ok(Number::Imag(parse_float(body)?));
    }
    if lower.contains(['.', 'e']) {
        return Ok(Number::Float(parse_float(&lower)?));
    }
    if lower.len() > MAX_DECIMAL_DIGITS {
        return Err(format!(
            "Exceeds the limit ({MAX_DECIMAL_DIGITS} digits) for integer string conversion: value has {} digits; \
             use sys.set_int_max_str_digits() to increase the limit - Consider hexadecimal for huge integer \
             literals to avoid decimal conversion limits.",
            lower.len()
        ));
    }
    BigInt::from_str_radix(&lower, 10)
        .map(Number::Int)
        .map_err(|e| e.to_string())
}

/// Rust's float parsing is correctly rounded like CPython's, accepts the same forms once
/// underscores are gone (`1.`, `.5`, `1.e5`) and overflows to infinity as CPython does for
/// literals (`1e400` is `inf`).
fn parse_float(text: &str) -> Result<f64, String> {
    text.parse::<f64>().map_err(|e| e.to_string())
}
