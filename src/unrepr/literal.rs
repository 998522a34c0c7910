//! Literals: the value of a number, the escapes of string and bytes literals, and the check of
//! f-strings (an invalid one is a `SyntaxError`, a valid one is rejected by the builder).

use std::ops::Range;

use num_bigint::BigInt;
use num_traits::Num;

use super::ValueError as SyntaxError;
use super::lexer::{self, Kind};
use super::parser::{Fail, PResult, Parser, ensure};
use super::value::Value;

use super::lexer::syntax_error as error;

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
/// allows them, a Rust `String` cannot hold them), `bytes`, or an f-string (checked by
/// `Parser::check_fstring`).
pub(super) enum Literal {
    Str(String, Option<Range<usize>>),
    Bytes(Vec<u8>),
    FString,
}

/// Decodes one string token that starts at `start`.
pub(super) fn decode(token: &str, start: usize) -> Result<Literal, SyntaxError> {
    let (prefix, body, body_start) = parts(token, start);
    let has = |c: char| prefix.contains(c);
    // Source newlines inside a literal are `\n`, as CPython translates them while reading.
    let newlines = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
    let to_char = |c: u32| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
    Ok(match (has('f'), has('b'), has('r')) {
        (true, ..) => Literal::FString,
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

/// The scan of an f-string's body, as CPython 3.11's `fstring_find_expr`: no backslash or `#`
/// in an expression, `!=`/`==`/`<=`/`>=` do not end it, a conversion is `!s`, `!r` or `!a`,
/// format specs nest at most two levels, and each expression is parsed as `(<expression>)`.
/// Only the verdict is kept: every problem is "invalid f-string".
struct FString<'s> {
    text: &'s str,
    raw: bool,
    depth: u32,
}

impl Parser<'_> {
    /// Checks the f-string token `t`; an error is reported at `at`.
    pub(super) fn check_fstring(&mut self, t: lexer::Token, at: usize) -> PResult<()> {
        let (prefix, text, _) = parts(self.text(t), t.start());
        let (raw, depth) = (prefix.contains('r'), self.depth);
        let scan = FString { text, raw, depth };
        let invalid = |_| Fail::Syntax(error("invalid f-string", at..at + 1));
        scan.literal(0, 0).map(drop).map_err(invalid)
    }
}

impl FString<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.text.as_bytes().get(i).copied()
    }

    /// Parses one replacement field's expression as CPython does: `(` + text + `)`.
    fn check(&self, expr: &str) -> PResult<()> {
        let blank = expr
            .trim_matches([' ', '\t', '\n', '\r', '\x0c'])
            .is_empty();
        ensure(!blank)?;
        let wrapped = format!("({expr})");
        let lexed = lexer::tokenize(&wrapped);
        let mut p = Parser::new(&wrapped, &lexed.tokens, self.depth);
        // `(yield x)` is a display, like any other parenthesized expression.
        p.star_expressions()?;
        ensure(p.is_kind(Kind::Newline))?;
        p.advance();
        ensure(p.is_kind(Kind::EndMarker))
    }

    /// Literal text from `i` until the end (or, inside a format spec, until its `}`);
    /// returns where it stopped.
    fn literal(&self, mut i: usize, level: usize) -> PResult<usize> {
        let mut chunk = i;
        while let Some(c) = self.at(i) {
            match c {
                // As CPython: the escaped character is looked at again, except after `\N`,
                // whose `{...}` (or next character) is skipped.
                b'\\' if !self.raw => match self.at(i + 1) {
                    Some(b'N') if self.at(i + 2) == Some(b'{') => {
                        i = self.text[i..]
                            .find('}')
                            .map_or(self.text.len(), |k| i + k + 1)
                    }
                    Some(b'N') => i += 3,
                    Some(b'{' | b'}') => i += 1,
                    _ => i += 2,
                },
                // A doubled brace ends a piece that includes its first brace.
                b'{' if level == 0 && self.at(i + 1) == Some(b'{') => {
                    self.decode(chunk, i + 1)?;
                    i += 2;
                    chunk = i;
                }
                b'{' => {
                    self.decode(chunk, i)?;
                    i = self.field(i + 1, level)?;
                    chunk = i;
                }
                b'}' if level > 0 => {
                    self.decode(chunk, i)?;
                    return Ok(i);
                }
                b'}' => {
                    ensure(self.at(i + 1) == Some(b'}'))?;
                    self.decode(chunk, i + 1)?;
                    i += 2;
                    chunk = i;
                }
                _ => i += 1,
            }
        }
        let end = i.min(self.text.len());
        self.decode(chunk.min(end), end)?;
        Ok(i)
    }

    /// Decodes the escapes of the literal text `start..end`, as CPython does for each piece.
    fn decode(&self, start: usize, end: usize) -> PResult<()> {
        if self.raw || start >= end {
            return Ok(());
        }
        // A piece can end in a lone backslash (`f'\{x}'`); CPython keeps it as a backslash.
        let piece = &self.text[start..end];
        let odd = (piece.len() - piece.trim_end_matches('\\').len()) % 2;
        unescape(&piece[..piece.len() - odd], 0, false)
            .map(drop)
            .map_err(Fail::Syntax)
    }

    /// A replacement field whose expression starts at `start`; returns the offset after its `}`.
    fn field(&self, start: usize, level: usize) -> PResult<usize> {
        ensure(level < 2)?;
        let (mut i, mut parens, mut quote): (_, Vec<u8>, Option<(u8, bool)>) =
            (start, Vec::new(), None);
        while let Some(c) = self.at(i) {
            ensure(c != b'\\')?;
            if let Some((q, triple)) = quote {
                if c == q && !triple {
                    quote = None;
                } else if c == q && self.at(i + 1) == Some(q) && self.at(i + 2) == Some(q) {
                    quote = None;
                    i += 2;
                }
                i += 1;
                continue;
            }
            match c {
                b'\'' | b'"' => {
                    let triple = self.at(i + 1) == Some(c) && self.at(i + 2) == Some(c);
                    quote = Some((c, triple));
                    i += if triple { 3 } else { 1 };
                    continue;
                }
                b'(' | b'[' | b'{' => {
                    ensure(parens.len() < 200)?;
                    parens.push(c);
                }
                b'#' => return Err(Fail::Generic),
                b'!' | b'=' | b'<' | b'>' if parens.is_empty() && self.at(i + 1) == Some(b'=') => {
                    i += 2;
                    continue;
                }
                b'!' | b':' | b'}' | b'=' if parens.is_empty() => break,
                b')' | b']' | b'}' => ensure(parens.pop().map(lexer::closing) == Some(c))?,
                _ => {}
            }
            i += 1;
        }
        ensure(quote.is_none() && parens.is_empty())?;
        let mut c = self.at(i).ok_or(Fail::Generic)?;
        self.check(&self.text[start..i])?;
        if c == b'=' {
            i += 1;
            c = self.at(i).ok_or(Fail::Generic)?;
        }
        if c == b'!' {
            ensure(matches!(self.at(i + 1), Some(b's' | b'r' | b'a')))?;
            i += 2;
            c = self.at(i).ok_or(Fail::Generic)?;
        }
        if c == b':' {
            i = self.literal(i + 1, level + 1)?;
            c = self.at(i).ok_or(Fail::Generic)?;
        }
        ensure(c == b'}')?;
        Ok(i + 1)
    }
}
