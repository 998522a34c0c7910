//! Literals: the value of a number, the escapes of string and bytes literals, and whether an
//! f-string's braces balance (if not, it is a `SyntaxError`; else the builder rejects it).

use std::ops::Range;

use num_bigint::BigInt;
use num_traits::Num;

use super::ValueError as SyntaxError;
use super::value::Value;

use super::lexer::{MAX_BRACKETS, closing, syntax_error as error};

/// The value of a `NUMBER` token, or Python's `SyntaxError` message for a literal that scans
/// but cannot be converted.
pub(super) fn number(token: &str) -> Result<Value, String> {
    if let Ok(small) = token.parse::<u64>() {
        return Ok(Value::Int(small.into()));
    }
    let lower = token.replace('_', "").to_ascii_lowercase();
    // Rust's float parsing is correctly rounded like CPython's and overflows to infinity as
    // CPython does for literals (`1e400` is `inf`).
    let float = |t: &str| t.parse::<f64>().map_err(|e| e.to_string());
    let int = |t: &str, radix| {
        BigInt::from_str_radix(t, radix)
            .map(Value::Int)
            .map_err(|e| e.to_string())
    };
    match lower.get(..2) {
        Some("0x") => int(&lower[2..], 16),
        Some("0o") => int(&lower[2..], 8),
        Some("0b") => int(&lower[2..], 2),
        _ if lower.ends_with('j') => {
            float(&lower[..lower.len() - 1]).map(|im| Value::Complex { re: 0.0, im })
        }
        _ if lower.contains(['.', 'e']) => float(&lower).map(Value::Float),
        // Python 3.11's `sys.int_info.default_max_str_digits`.
        _ if lower.len() > 4300 => Err(format!(
            "Exceeds the limit (4300 digits) for integer string conversion: value has {} digits; use \
             sys.set_int_max_str_digits() to increase the limit - Consider hexadecimal for huge integer \
             literals to avoid decimal conversion limits.",
            lower.len()
        )),
        _ => int(&lower, 10),
    }
}

/// Splits a string token (`start` is its offset in the value text) into its prefix in lower
/// case (`rb`, `f`, ...), its body, and where the body starts.
pub(super) fn parts(token: &str, start: usize) -> (String, &str, usize) {
    let (prefix, rest) = token.split_at(token.find(['\'', '"']).unwrap_or(0));
    let triple = rest.len() >= 6 && (rest.starts_with("'''") || rest.starts_with("\"\"\""));
    let q = if triple { 3 } else { 1 };
    let body = &rest[q..rest.len() - q];
    (prefix.to_ascii_lowercase(), body, start + prefix.len() + q)
}

/// A decoded string token: a `str` (with where a lone surrogate escape was written: Python
/// allows them, a Rust `String` cannot hold them), `bytes`, or an f-string (with whether its
/// fields close, see [`fields_close`]).
pub(super) enum Literal {
    Str(String, Option<Range<usize>>),
    Bytes(Vec<u8>),
    FString(bool),
}

/// Decodes one string token that starts at `start`.
pub(super) fn decode(token: &str, start: usize) -> Result<Literal, SyntaxError> {
    let (prefix, body, body_start) = parts(token, start);
    let has = |c: char| prefix.contains(c);
    // Source newlines inside a literal are `\n`, as CPython translates them while reading.
    let newlines = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
    let to_char = |c: u32| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
    Ok(match (has('f'), has('b'), has('r')) {
        (true, _, raw) => {
            // The text between fields is decoded as a string's is (a backslash can only be
            // there: `fields_close` refuses one in an expression).
            if !raw {
                unescape(body, body_start, false)?;
            }
            Literal::FString(fields_close(body, raw))
        }
        (_, true, true) => Literal::Bytes(newlines(body).into_bytes()),
        (_, true, false) => {
            let (codes, _) = unescape(&newlines(body), body_start, true)?;
            Literal::Bytes(codes.into_iter().map(|c| c as u8).collect())
        }
        (_, false, true) => Literal::Str(newlines(body), None),
        (_, false, false) => {
            let (codes, surrogate) = unescape(body, body_start, false)?;
            Literal::Str(codes.into_iter().map(to_char).collect(), surrogate)
        }
    })
}

/// The escapes `str` and `bytes` share (after the backslash).
fn simple_escape(c: u8) -> Option<u32> {
    let at = b"\\'\"abfnrtv".iter().position(|&e| e == c)?;
    Some([0x5c, 0x27, 0x22, 7, 8, 12, 10, 13, 9, 11][at])
}

/// The code points (bytes) of a `str` (`bytes`) literal body starting at `body_start`, and
/// where the first lone surrogate escape is. Unknown escapes are kept as written.
fn unescape(
    body: &str,
    body_start: usize,
    bytes: bool,
) -> Result<(Vec<u32>, Option<Range<usize>>), SyntaxError> {
    let b = body.as_bytes();
    let (mut out, mut surrogate, mut i) = (Vec::with_capacity(b.len()), None, 0);
    while let Some(off) = body[i..].find(['\\', '\r']) {
        out.extend(body[i..i + off].chars().map(u32::from));
        i += off;
        if b[i] == b'\r' {
            out.push(10);
            i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            continue;
        }
        let esc = i;
        let span = |end: usize| body_start + esc..body_start + end.min(b.len());
        let bad = |reason: &str, end| error(format!("invalid escape: {reason}"), span(end));
        let Some(&c) = b.get(i + 1) else {
            return Err(bad("\\ at end of string", i + 1));
        };
        i += 2;
        let code = match c {
            b'\n' => continue,
            b'\r' => {
                i += usize::from(b.get(i) == Some(&b'\n'));
                continue;
            }
            b'0'..=b'7' => {
                let n = b[i - 1..]
                    .iter()
                    .take(3)
                    .take_while(|d| matches!(d, b'0'..=b'7'))
                    .count();
                let v = u32::from_str_radix(&body[i - 1..i - 1 + n], 8).unwrap_or(0);
                i += n - 1;
                // CPython keeps the low byte of `b'\777'`.
                if bytes { v & 0xff } else { v }
            }
            b'x' | b'u' | b'U' if c == b'x' || !bytes => {
                let (n, what) = match c {
                    b'x' => (2, "truncated \\xXX escape"),
                    b'u' => (4, "truncated \\uXXXX escape"),
                    _ => (8, "truncated \\UXXXXXXXX escape"),
                };
                let digits = body
                    .get(i..i + n)
                    .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
                let Some(v) = digits.and_then(|d| u32::from_str_radix(d, 16).ok()) else {
                    return Err(bad(what, i + n));
                };
                i += n;
                if v > 0x10FFFF {
                    return Err(bad("illegal Unicode character", i));
                }
                v
            }
            b'N' if !bytes => {
                let close = (b.get(i) == Some(&b'{'))
                    .then(|| body[i..].find('}'))
                    .flatten();
                let Some(close) = close.filter(|&close| close > 1) else {
                    return Err(bad("malformed \\N character escape", i + 1));
                };
                let name = &body[i + 1..i + close];
                i += close + 1;
                // CPython spells the code of `CJK UNIFIED IDEOGRAPH-4E00` in upper case only.
                let cjk = name
                    .get(..22)
                    .is_some_and(|p| p.eq_ignore_ascii_case("CJK UNIFIED IDEOGRAPH-"));
                let ch = unicode_names2::character(name)
                    .filter(|_| !(cjk && name[22..].bytes().any(|b| b.is_ascii_lowercase())));
                u32::from(ch.ok_or_else(|| bad("unknown Unicode character name", i))?)
            }
            _ => match simple_escape(c) {
                Some(v) => v,
                None => {
                    out.push(u32::from(b'\\'));
                    i -= 1;
                    continue;
                }
            },
        };
        if !bytes && char::from_u32(code).is_none() {
            surrogate.get_or_insert(span(i));
        }
        out.push(code);
    }
    out.extend(body[i..].chars().map(u32::from));
    Ok((out, surrogate))
}

/// Whether the replacement fields of an f-string body are delimited: outside them `{{` and
/// `}}` stand for braces (and, unless `raw`, so does `\N{...}`, a character's name), and
/// each `{` has its `}`, which in the expression does not count inside quotes or brackets
/// (a format spec after `:` may hold fields of its own). CherryPy refuses every f-string,
/// so only this is checked (see the module docs), with the rules Python 3.11 gives a field
/// of its own: an expression that is not blank, has no `#` or backslash and closes each
/// bracket it opens, at most one `=` after it, a conversion that is `!s`, `!r` or `!a`,
/// and fields nested two deep at most.
pub(super) fn fields_close(body: &str, raw: bool) -> bool {
    let b = body.as_bytes();
    // Open fields, whether in one's expression (and where it starts), and the quote it is in.
    let (mut open, mut expr, mut start, mut quote) = (0_usize, false, 0, None::<(u8, bool)>);
    // What the expression's open brackets wait for.
    let mut brackets = Vec::new();
    const SPACE: [char; 5] = [' ', '\t', '\n', '\r', '\x0c'];
    let blank = |from: usize, to: usize| body[from..to].trim_matches(SPACE).is_empty();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i += 1;
        let triple = |q| b.get(i) == Some(&q) && b.get(i + 1) == Some(&q);
        match (c, quote) {
            (b'\\', _) if expr => return false,
            (b'\\', _) if !raw && b.get(i) == Some(&b'N') && b.get(i + 1) == Some(&b'{') => {
                i = body[i..].find('}').map_or(b.len(), |k| i + k + 1);
            }
            (q, Some((quoted, long))) if q == quoted && (!long || triple(q)) => {
                i += if long { 2 } else { 0 };
                quote = None;
            }
            (_, Some(_)) => {}
            (b'#', _) if expr => return false,
            (b'\'' | b'"', _) if expr => {
                quote = Some((c, triple(c)));
                i += if triple(c) { 2 } else { 0 };
            }
            (b'(' | b'[' | b'{', _) if expr && brackets.len() < MAX_BRACKETS => {
                brackets.push(closing(c));
            }
            (b'(' | b'[' | b'{', _) if expr => return false,
            (b')' | b']' | b'}', _) if expr && brackets.last() == Some(&c) => {
                brackets.pop();
            }
            (b')' | b']', _) if expr => return false,
            (b'}', _) if expr && !brackets.is_empty() => return false,
            (b'!' | b':' | b'}' | b'=', _) if expr && blank(start, i - 1) => return false,
            (b'!', _) if expr && brackets.is_empty() && b.get(i) != Some(&b'=') => {
                let conversion = matches!(b.get(i), Some(b's' | b'r' | b'a'));
                if !conversion || !matches!(b.get(i + 1), Some(b':' | b'}')) {
                    return false;
                }
                (i, expr) = (i + 1, false);
            }
            // `{x=}` shows the expression's text: only white space, then a conversion, a
            // format spec or the end of the field, may follow.
            (b'=', _)
                if expr
                    && brackets.is_empty()
                    && b.get(i) != Some(&b'=')
                    && !matches!(b[i - 2], b'=' | b'!' | b'<' | b'>') =>
            {
                i += body[i..].len() - body[i..].trim_start_matches(SPACE).len();
                if !matches!(b.get(i), Some(b'!' | b':' | b'}')) {
                    return false;
                }
            }
            (b':', _) if expr && brackets.is_empty() => expr = false,
            (b'{', _) if open == 0 && b.get(i) == Some(&b'{') => i += 1,
            (b'{', _) if open == 2 => return false,
            (b'{', _) => (open, expr, start) = (open + 1, true, i),
            (b'}', _) if open > 0 => (open, expr) = (open - 1, false),
            (b'}', _) if b.get(i) == Some(&b'}') => i += 1,
            (b'}', _) => return false,
            _ => {}
        }
    }
    open == 0
}
