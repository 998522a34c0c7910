//! String and bytes literals: prefixes, escapes, adjacent-literal concatenation.

use std::ops::Range;

use super::syntax::SyntaxError;

/// A decoded `STRING` token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Literal {
    /// A `str`. `surrogate` is the span of the first `\ud800`-style escape: Python allows
    /// lone surrogates in `str`, a Rust `String` cannot hold them.
    Str {
        value: String,
        surrogate: Option<Range<usize>>,
    },
    Bytes(Vec<u8>),
    /// An f-string (its contents are checked elsewhere; the builder rejects it anyway).
    FString,
}

/// The parts of a string token: lower-cased prefix flags, the body and where it starts.
pub(super) struct Parts<'a> {
    pub(super) raw: bool,
    pub(super) bytes: bool,
    pub(super) fstring: bool,
    pub(super) body: &'a str,
    pub(super) body_start: usize,
}

/// Splits a string token (`start` is its offset in the value text).
pub(super) fn parts(token: &str, start: usize) -> Parts<'_> {
    let quote_at = token.find(['\'', '"']).expect("string token has a quote");
    let prefix = &token.as_bytes()[..quote_at];
    let has = |c: u8| prefix.iter().any(|p| p.to_ascii_lowercase() == c);
    let b = token.as_bytes();
    let q = if b.len() >= quote_at + 6
        && b[quote_at + 1] == b[quote_at]
        && b[quote_at + 2] == b[quote_at]
    {
        3
    } else {
        1
    };
    Parts {
        raw: has(b'r'),
        bytes: has(b'b'),
        fstring: has(b'f'),
        body: &token[quote_at + q..token.len() - q],
        body_start: start + quote_at + q,
    }
}

/// Decodes one string token that starts at `start`.
pub(super) fn decode(token: &str, start: usize) -> Result<Literal, SyntaxError> {
    let p = parts(token, start);
    if p.fstring {
        return Ok(Literal::FString);
    }
    if p.bytes {
        if !p.body.is_ascii() {
            return Err(SyntaxError::new(
                "bytes can only contain ASCII literal characters",
                start..start + token.len(),
            ));
        }
        let body = normalize_newlines(p.body);
        if p.raw {
            return Ok(Literal::Bytes(body.into_bytes()));
        }
        return decode_bytes(&body, p.body_start).map(Literal::Bytes);
    }
    if p.raw {
        return Ok(Literal::Str {
            value: normalize_newlines(p.body),
            surrogate: None,
        });
    }
    decode_str(p.body, p.body_start)
}

/// Source newlines inside a literal are `\n` in the value, as CPython translates `\r\n` and
/// `\r` while reading source.
fn normalize_newlines(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_string()
    }
}

fn unicode_error(reason: &str, span: Range<usize>) -> SyntaxError {
    SyntaxError::new(
        format!("(unicode error) 'unicodeescape' codec can't decode bytes: {reason}"),
        span,
    )
}

/// Reads exactly `n` hex digits after offset `i` of `body`.
fn hex_digits(body: &str, i: usize, n: usize) -> Option<u32> {
    let digits = body.get(i..i + n)?;
    if digits.len() != n || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// One of the escapes that `str` and `bytes` share; returns the code and the escape length
/// (after the backslash).
fn simple_escape(c: u8) -> Option<u32> {
    Some(match c {
        b'\\' => 0x5c,
        b'\'' => 0x27,
        b'"' => 0x22,
        b'a' => 7,
        b'b' => 8,
        b'f' => 12,
        b'n' => 10,
        b'r' => 13,
        b't' => 9,
        b'v' => 11,
        _ => return None,
    })
}

/// Up to three octal digits starting at `i`; returns the value and how many were read.
fn octal(bytes: &[u8], i: usize) -> (u32, usize) {
    let mut v = 0;
    let mut n = 0;
    while n < 3 && matches!(bytes.get(i + n), Some(b'0'..=b'7')) {
        v = v * 8 + u32::from(bytes[i + n] - b'0');
        n += 1;
    }
    (v, n)
}

pub(super) fn decode_str(body: &str, body_start: usize) -> Result<Literal, SyntaxError> {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut surrogate = None;
    let mut i = 0;
    while i < body.len() {
        let Some(off) = body[i..].find(['\\', '\r']) else {
            out.push_str(&body[i..]);
            break;
        };
        out.push_str(&body[i..i + off]);
        i += off;
        if bytes[i] == b'\r' {
            out.push('\n');
            i += if bytes.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            continue;
        }
        let esc_start = i;
        let span = |end: usize| body_start + esc_start..body_start + end;
        let Some(&c) = bytes.get(i + 1) else {
            return Err(unicode_error("\\ at end of string", span(i + 1)));
        };
        i += 2;
        let code = match c {
            b'\n' => continue,
            b'\r' => {
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
                continue;
            }
            b'0'..=b'7' => {
                let (v, n) = octal(bytes, i - 1);
                i += n - 1;
                v
            }
            b'x' | b'u' | b'U' => {
                let (n, what) = match c {
                    b'x' => (2, "truncated \\xXX escape"),
                    b'u' => (4, "truncated \\uXXXX escape"),
                    _ => (8, "truncated \\UXXXXXXXX escape"),
                };
                let v = hex_digits(body, i, n)
                    .ok_or_else(|| unicode_error(what, span((i + n).min(body.len()))))?;
                i += n;
                if v > 0x10FFFF {
                    return Err(unicode_error("illegal Unicode character", span(i)));
                }
                v
            }
            b'N' => {
                let name_end = (bytes.get(i) == Some(&b'{'))
                    .then(|| body[i..].find('}'))
                    .flatten();
                let Some(close) = name_end.filter(|&close| close > 1) else {
                    return Err(unicode_error(
                        "malformed \\N character escape",
                        span((i + 1).min(body.len())),
                    ));
                };
                let name = &body[i + 1..i + close];
                i += close + 1;
                // CPython spells the code of `CJK UNIFIED IDEOGRAPH-4E00` in upper case only.
                let cjk = name
                    .get(..22)
                    .is_some_and(|p| p.eq_ignore_ascii_case("CJK UNIFIED IDEOGRAPH-"));
                if cjk && name[22..].bytes().any(|b| b.is_ascii_lowercase()) {
                    return Err(unicode_error("unknown Unicode character name", span(i)));
                }
                let ch = unicode_names2::character(name)
                    .ok_or_else(|| unicode_error("unknown Unicode character name", span(i)))?;
                u32::from(ch)
            }
            _ => match simple_escape(c) {
                Some(v) => v,
                None => {
                    // Unknown escapes are kept as written (a DeprecationWarning in Python).
                    out.push('\\');
                    i -= 1;
                    continue;
                }
            },
        };
        match char::from_u32(code) {
            Some(ch) => out.push(ch),
            None => {
                surrogate.get_or_insert(span(i));
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    Ok(Literal::Str {
        value: out,
        surrogate,
    })
}

fn decode_bytes(body: &str, body_start: usize) -> Result<Vec<u8>, SyntaxError> {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let esc_start = i;
        let Some(&c) = bytes.get(i + 1) else {
            return Err(SyntaxError::new(
                "(value error) Trailing \\ in string",
                body_start + i..body_start + i + 1,
            ));
        };
        i += 2;
        match c {
            b'\n' => {}
            b'0'..=b'7' => {
                let (v, n) = octal(bytes, i - 1);
                i += n - 1;
                // CPython keeps the low byte of `\777` (0o777 & 0xff).
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let v = hex_digits(body, i, 2).ok_or_else(|| {
                    SyntaxError::new(
                        format!("(value error) invalid \\x escape at position {esc_start}"),
                        body_start + esc_start..body_start + (i + 2).min(body.len()),
                    )
                })?;
                i += 2;
                out.push(v as u8);
            }
            _ => match simple_escape(c) {
                Some(v) => out.push(v as u8),
                None => {
                    out.push(b'\\');
                    i -= 1;
                }
            },
        }
    }
    Ok(out)
}
