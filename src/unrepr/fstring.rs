//! f-strings are checked, not evaluated: an invalid one is a `SyntaxError` (which comes
//! before any builder error), a valid one is rejected by the builder as `JoinedStr`.
//!
//! Python 3.11 reads an f-string as one `STRING` token and parses each replacement field's
//! expression separately as `(<expression>)`; the scanning rules below follow its
//! `fstring_find_expr` (no backslash or `#` in the expression part, `!=`/`==`/`<=`/`>=` do not
//! end it, a conversion is `!s`, `!r` or `!a`, format specs nest at most two levels).

use super::lexer::{self, Kind, Token};
use super::parser::{PResult, ParseError, Parser};
use super::string;
use super::syntax::SyntaxError;

/// Python's limit on nested brackets inside one replacement field.
const MAX_FIELD_PARENS: usize = 200;

struct Scan<'s> {
    body: &'s [u8],
    text: &'s str,
    raw: bool,
}

type FResult<T> = Result<T, String>;

impl Parser<'_> {
    /// Checks the f-string token `t`.
    pub(super) fn check_fstring(&mut self, t: Token) -> PResult<()> {
        let p = string::parts(self.text(t), t.start);
        let scan = Scan {
            body: p.body.as_bytes(),
            text: p.body,
            raw: p.raw,
        };
        let depth = self.depth();
        scan.literal(0, 0, &mut |expr| check_expression(expr, depth))
            .map_err(|message| SyntaxError::new(message, t.span()).into())
            .map(|_| ())
    }
}

/// Parses one replacement field's expression as CPython does: `(` + text + `)`.
fn check_expression(expr: &str, depth: u32) -> FResult<()> {
    if expr
        .trim_matches([' ', '\t', '\n', '\r', '\x0c'])
        .is_empty()
    {
        return Err("f-string: empty expression not allowed".into());
    }
    let wrapped = format!("({expr})");
    let lexed = lexer::tokenize(&wrapped);
    let mut parser = Parser::new(&wrapped, &lexed.tokens, depth);
    let result = (|| {
        if parser.is_kw("yield") {
            parser.yield_expr()?;
        } else {
            parser.star_expressions()?;
        }
        if !parser.is_kind(Kind::Newline) {
            return Err(super::parser::Fail::Generic);
        }
        parser.advance();
        if !parser.is_kind(Kind::EndMarker) {
            return Err(super::parser::Fail::Generic);
        }
        Ok(())
    })();
    result.map_err(|fail| match parser.resolve(fail, &lexed) {
        ParseError::Syntax(e) => format!("f-string: {}", e.message),
        ParseError::TooDeep => "f-string: expression too complex".to_string(),
    })
}

impl Scan<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.body.get(i).copied()
    }

    /// Literal text from `i` until the end (or, inside a format spec, until its `}`);
    /// returns where it stopped.
    fn literal(
        &self,
        mut i: usize,
        level: usize,
        check: &mut dyn FnMut(&str) -> FResult<()>,
    ) -> FResult<usize> {
        let mut chunk = i;
        while let Some(c) = self.at(i) {
            match c {
                b'\\' if !self.raw => {
                    // As CPython: the escaped character is looked at again, except after
                    // `\N`, whose `{...}` (or next character) is skipped.
                    match self.at(i + 1) {
                        Some(b'N') if self.at(i + 2) == Some(b'{') => {
                            i = self.text[i..]
                                .find('}')
                                .map_or(self.body.len(), |k| i + k + 1);
                        }
                        Some(b'N') => i += 3,
                        Some(b'{' | b'}') => i += 1,
                        _ => i += 2,
                    }
                }
                b'{' => {
                    // A doubled brace ends a piece that includes its first brace.
                    if level == 0 && self.at(i + 1) == Some(b'{') {
                        self.decode(chunk, i + 1)?;
                        i += 2;
                    } else {
                        self.decode(chunk, i)?;
                        i = self.field(i + 1, level, check)?;
                    }
                    chunk = i;
                }
                b'}' => {
                    if level > 0 {
                        self.decode(chunk, i)?;
                        return Ok(i);
                    }
                    if self.at(i + 1) != Some(b'}') {
                        return Err("f-string: single '}' is not allowed".into());
                    }
                    self.decode(chunk, i + 1)?;
                    i += 2;
                    chunk = i;
                }
                _ => i += 1,
            }
        }
        let end = i.min(self.body.len());
        self.decode(chunk.min(end), end)?;
        Ok(i)
    }

    /// Decodes the escapes of the literal text `start..end`, as CPython does for each piece.
    fn decode(&self, start: usize, end: usize) -> FResult<()> {
        if self.raw || start >= end {
            return Ok(());
        }
        // A piece can end in a lone backslash (`f'\{x}'`); CPython keeps it as a backslash.
        let piece = &self.text[start..end];
        let trailing = piece.len() - piece.trim_end_matches('\\').len();
        let piece = if trailing % 2 == 1 {
            &piece[..piece.len() - 1]
        } else {
            piece
        };
        string::decode_str(piece, 0)
            .map(|_| ())
            .map_err(|e| e.message)
    }

    /// A replacement field whose expression starts at `i`; returns the offset after its `}`.
    fn field(
        &self,
        start: usize,
        level: usize,
        check: &mut dyn FnMut(&str) -> FResult<()>,
    ) -> FResult<usize> {
        if level >= 2 {
            return Err("f-string: expressions nested too deeply".into());
        }
        let mut i = start;
        let mut parens: Vec<u8> = Vec::new();
        let mut quote: Option<(u8, bool)> = None;
        while let Some(c) = self.at(i) {
            if c == b'\\' {
                return Err("f-string expression part cannot include a backslash".into());
            }
            if let Some((q, triple)) = quote {
                if c == q {
                    if !triple {
                        quote = None;
                    } else if self.at(i + 1) == Some(q) && self.at(i + 2) == Some(q) {
                        quote = None;
                        i += 2;
                    }
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
                    if parens.len() >= MAX_FIELD_PARENS {
                        return Err("f-string: too many nested parenthesis".into());
                    }
                    parens.push(c);
                }
                b'#' => return Err("f-string expression part cannot include '#'".into()),
                b'!' | b':' | b'}' | b'=' | b'<' | b'>' if parens.is_empty() => {
                    let two =
                        self.at(i + 1) == Some(b'=') && matches!(c, b'!' | b'=' | b'<' | b'>');
                    if two {
                        i += 2;
                        continue;
                    }
                    if c != b'<' && c != b'>' {
                        break;
                    }
                }
                b')' | b']' | b'}' => {
                    let Some(open) = parens.pop() else {
                        return Err(format!("f-string: unmatched '{}'", c as char));
                    };
                    let expected = match open {
                        b'(' => b')',
                        b'[' => b']',
                        _ => b'}',
                    };
                    if c != expected {
                        return Err(format!(
                            "f-string: closing parenthesis '{}' does not match opening parenthesis '{}'",
                            c as char, open as char
                        ));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if quote.is_some() {
            return Err("f-string: unterminated string".into());
        }
        if let Some(&open) = parens.last() {
            return Err(format!("f-string: unmatched '{}'", open as char));
        }
        let Some(mut c) = self.at(i) else {
            return Err("f-string: expecting '}'".into());
        };
        check(&self.text[start..i])?;
        if c == b'=' {
            i += 1;
            c = self.at(i).ok_or("f-string: expecting '}'")?;
        }
        if c == b'!' {
            let conv = self.at(i + 1).ok_or("f-string: expecting '}'")?;
            if !matches!(conv, b's' | b'r' | b'a') {
                return Err(
                    "f-string: invalid conversion character: expected 's', 'r', or 'a'".into(),
                );
            }
            i += 2;
            c = self.at(i).ok_or("f-string: expecting '}'")?;
        }
        if c == b':' {
            i = self.literal(i + 1, level + 1, check)?;
            c = self.at(i).ok_or("f-string: expecting '}'")?;
        }
        if c != b'}' {
            return Err("f-string: expecting '}'".into());
        }
        Ok(i + 1)
    }
}
