//! Scanning one token: names (and string prefixes), string literals, operators.

use super::lexer::{Kind, Lexer, is_ident_byte};
use super::syntax::SyntaxError;

/// Python's `MAXLEVEL`: the 201st open bracket is "too many nested parentheses".
const MAX_PAREN_LEVEL: usize = 200;

impl Lexer<'_> {
    /// A name, or a string with a prefix (`b`, `r`, `u`, `f` and their legal combinations).
    pub(super) fn name_or_string(&mut self, start: usize) -> Result<(), SyntaxError> {
        let (mut b, mut r, mut u, mut f) = (false, false, false, false);
        let mut at = start;
        while let Some(&c) = self.src.get(at) {
            match c.to_ascii_lowercase() {
                b'b' if !(b || u || f) => b = true,
                b'u' if !(b || u || r || f) => u = true,
                b'r' if !(r || u) => r = true,
                b'f' if !(f || b || u) => f = true,
                _ => break,
            }
            at += 1;
            if matches!(self.src.get(at), Some(b'"' | b'\'')) {
                return self.string(start, at);
            }
        }
        let mut end = start;
        let mut non_ascii = false;
        while let Some(&c) = self.src.get(end) {
            if !is_ident_byte(c) {
                break;
            }
            non_ascii |= c >= 0x80;
            end += 1;
        }
        self.pos = end;
        if non_ascii {
            self.verify_identifier(start, end)?;
        }
        self.push(Kind::Name, start, end);
        Ok(())
    }

    /// CPython's `verify_identifier`: XID_Start (or `_`) then XID_Continue.
    fn verify_identifier(&self, start: usize, end: usize) -> Result<(), SyntaxError> {
        let word = &self.text[start..end];
        for (i, ch) in word.char_indices() {
            let ok = if i == 0 {
                ch == '_' || unicode_ident::is_xid_start(ch)
            } else {
                unicode_ident::is_xid_continue(ch)
            };
            if !ok {
                let at = start + i;
                let msg = if super::repr::is_printable(ch) {
                    format!("invalid character '{ch}' (U+{:04X})", u32::from(ch))
                } else {
                    format!("invalid non-printable character U+{:04X}", u32::from(ch))
                };
                return Err(self.error(msg, at..at + ch.len_utf8()));
            }
        }
        Ok(())
    }

    /// A string literal whose opening quote is at `quote_at` (prefix from `start`).
    pub(super) fn string(&mut self, start: usize, quote_at: usize) -> Result<(), SyntaxError> {
        let quote = self.src[quote_at];
        let triple = self.src.get(quote_at + 1) == Some(&quote)
            && self.src.get(quote_at + 2) == Some(&quote);
        let mut at = quote_at + if triple { 3 } else { 1 };
        let mut run = 0;
        let need = if triple { 3 } else { 1 };
        while run < need {
            let Some(&c) = self.src.get(at) else {
                return Err(self.unterminated(start, triple));
            };
            if !triple && self.newline_at(at).is_some() {
                return Err(self.unterminated(start, triple));
            }
            at += 1;
            if c == quote {
                run += 1;
            } else {
                run = 0;
                if c == b'\\' && at < self.src.len() {
                    at += self.newline_at(at).unwrap_or(1);
                }
            }
        }
        self.pos = at;
        self.push(Kind::String, start, at);
        Ok(())
    }

    fn unterminated(&self, start: usize, triple: bool) -> SyntaxError {
        // CPython names the line where it noticed the problem: the string's own line for a
        // one-line string, the last line for a triple-quoted one.
        let line_of = |at: usize| 1 + self.text[..at].matches('\n').count();
        let (what, line) = if triple {
            (
                "unterminated triple-quoted string literal",
                line_of(self.text.trim_end_matches('\n').len()),
            )
        } else {
            ("unterminated string literal", line_of(start))
        };
        self.error(
            format!("{what} (detected at line {line})"),
            start..start + 1,
        )
    }

    pub(super) fn operator(&mut self, start: usize, c: u8) -> Result<(), SyntaxError> {
        let at = |i: usize| self.src.get(start + i).copied().unwrap_or(0);
        // Python 3.11's two- and three-character operators (`PyToken_TwoChars`/`ThreeChars`).
        let len = match (c, at(1), at(2)) {
            (b'*', b'*', b'=')
            | (b'.', b'.', b'.')
            | (b'/', b'/', b'=')
            | (b'<', b'<', b'=')
            | (b'>', b'>', b'=') => 3,
            (
                b'!' | b'%' | b'&' | b'*' | b'+' | b'-' | b'/' | b':' | b'<' | b'=' | b'>' | b'@'
                | b'^' | b'|',
                b'=',
                _,
            )
            | (b'*', b'*', _)
            | (b'-', b'>', _)
            | (b'/', b'/', _)
            | (b'<', b'<' | b'>', _)
            | (b'>', b'>', _) => 2,
            _ => 1,
        };
        match c {
            b'(' | b'[' | b'{' => {
                if self.parens.len() >= MAX_PAREN_LEVEL {
                    return Err(self.error("too many nested parentheses".into(), start..start + 1));
                }
                self.parens.push((c, start));
            }
            b')' | b']' | b'}' => {
                let Some((open, open_at)) = self.parens.pop() else {
                    return Err(self.error(format!("unmatched '{}'", c as char), start..start + 1));
                };
                let expected = match open {
                    b'(' => b')',
                    b'[' => b']',
                    _ => b'}',
                };
                if c != expected {
                    let open_line = 1 + self.text[..open_at].matches('\n').count();
                    let line = 1 + self.text[..start].matches('\n').count();
                    let mut msg = format!(
                        "closing parenthesis '{}' does not match opening parenthesis '{}'",
                        c as char, open as char
                    );
                    if open_line != line {
                        msg.push_str(&format!(" on line {open_line}"));
                    }
                    return Err(self.error(msg, start..start + 1));
                }
            }
            _ => {}
        }
        self.pos = start + len;
        self.push(Kind::Op, start, start + len);
        Ok(())
    }
}
