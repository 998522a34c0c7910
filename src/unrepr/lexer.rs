//! Python 3.11's tokenizer, for one config value: which character sequences CPython's
//! `Parser/tokenizer.c` accepts, which errors it raises, and whether at once
//! (`Lexed::hard_error`) or only when the parser reaches them (`Kind::Stop`). The text follows
//! `__tempvalue__ = ` on its first line, so that line never starts with an indent; a later line
//! that does gives an `Indent` token, which no rule accepts (see the module docs).

use std::ops::Range;

use super::ValueError as SyntaxError;
use crate::limits::MAX_VALUE_TOKENS;

/// What a token is. Operators are kept as text and compared by the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Name,
    Number,
    String,
    /// Any operator or delimiter, including characters no grammar rule accepts (`$`, `?`).
    Op,
    Newline,
    /// White space at the start of a line (outside brackets).
    Indent,
    EndMarker,
    /// Where the tokenizer stopped without raising (CPython only sets `tok->done`), with the
    /// message if the parser asks for this token (an unclosed bracket is named by the parser).
    /// Always the last token; its message is [`Lexed::stop`].
    Stop,
    /// Where the tokenizer raised a `SyntaxError` (`Lexed::hard_error`).
    Hard,
}

/// One token: its kind and its byte range in the value text, in 12 bytes (a value of a
/// million short lines is millions of tokens; `read::parse` refuses a text whose offsets
/// would not fit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: Kind,
    start: u32,
    end: u32,
}

impl Token {
    pub(super) fn start(&self) -> usize {
        self.start as usize
    }

    pub(super) fn end(&self) -> usize {
        self.end as usize
    }

    pub(super) fn span(&self) -> Range<usize> {
        self.start()..self.end()
    }
}

/// The token stream of a value.
#[derive(Debug)]
pub(super) struct Lexed {
    /// Tokens up to and including the last one (`EndMarker`, `Stop` or `Hard`).
    pub(super) tokens: Vec<Token>,
    /// A tokenizer `SyntaxError`. CPython raises these at once and, after a generic "invalid
    /// syntax", tokenizes the rest of the source to look for one, so it wins over a generic
    /// parser error anywhere before it.
    pub(super) hard_error: Option<SyntaxError>,
    /// Offset of the innermost bracket still open where the input ended.
    pub(super) unclosed: Option<usize>,
    /// Why tokenizing stopped short of the end, when the last token is [`Kind::Stop`].
    pub(super) stop: &'static str,
    /// Where tokenizing stopped because the value has more than [`MAX_VALUE_TOKENS`].
    pub(super) over_budget: Option<usize>,
}

/// Tokenizes `src` completely (up to the first error).
pub(super) fn tokenize(src: &str) -> Lexed {
    let mut lx = Lexer {
        src: src.as_bytes(),
        text: src,
        pos: 0,
        tokens: Vec::with_capacity((src.len() / 2 + 4).min(MAX_VALUE_TOKENS)),
        parens: Vec::new(),
        line_has_token: true,
        stop: "",
        over_budget: None,
    };
    let hard_error = lx.run().err();
    if hard_error.is_some() {
        lx.push(Kind::Hard, lx.pos, lx.pos);
    }
    let at_end = lx.pos == src.len() && hard_error.is_none();
    let unclosed = lx.parens.last().map(|&(_, at)| at).filter(|_| at_end);
    Lexed {
        tokens: lx.tokens,
        hard_error,
        unclosed,
        stop: lx.stop,
        over_budget: lx.over_budget,
    }
}

struct Lexer<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    /// Open brackets: the bracket byte and its offset.
    parens: Vec<(u8, usize)>,
    /// Whether the current logical line has produced a token (so that the implicit final
    /// newline CPython appends to string input yields a NEWLINE).
    line_has_token: bool,
    stop: &'static str,
    over_budget: Option<usize>,
}

/// Python's `MAXLEVEL`: the most brackets open at once, in a value and in an f-string's
/// expression alike (the next one is an error).
pub(super) const MAX_BRACKETS: usize = 200;

/// CPython's `is_potential_identifier_char`: every non-ASCII byte counts (checked later).
fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.src.get(self.pos + off).copied()
    }

    /// Length of the line break at `at` (`\n`, `\r\n` or `\r`), if any.
    fn newline_at(&self, at: usize) -> Option<usize> {
        match self.src.get(at) {
            Some(b'\n') => Some(1),
            Some(b'\r') => Some(1 + usize::from(self.src.get(at + 1) == Some(&b'\n'))),
            _ => None,
        }
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize) {
        // Within `u32`: `read::parse` refuses longer texts.
        let (start, end) = (start as u32, end as u32);
        self.tokens.push(Token { kind, start, end });
        self.line_has_token |= !matches!(kind, Kind::Newline | Kind::Indent);
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        loop {
            // Each token costs its syntax node and built item too, so the rest is not read.
            if self.tokens.len() >= MAX_VALUE_TOKENS {
                self.over_budget = Some(self.pos);
                return Ok(());
            }
            while matches!(self.peek(0), Some(b' ' | b'\t' | b'\x0c')) {
                self.pos += 1;
            }
            // CPython's NEWLINE token after a comment starts at the `#`.
            let comment_at = self.pos;
            if self.peek(0) == Some(b'#') {
                while self.peek(0).is_some() && self.newline_at(self.pos).is_none() {
                    self.pos += 1;
                }
            }
            let start = self.pos;
            let Some(c) = self.peek(0) else {
                self.end_of_input(comment_at);
                return Ok(());
            };
            if let Some(len) = self.newline_at(start) {
                self.pos += len;
                if self.parens.is_empty() && self.line_has_token {
                    self.push(Kind::Newline, comment_at, start + len);
                    self.line_has_token = false;
                }
                self.indentation();
            } else if c == b'\\' {
                let newline = self.newline_at(start + 1);
                match newline {
                    Some(len) if start + 1 + len < self.src.len() => self.pos = start + 1 + len,
                    // At the end, or before the newline CPython appends to the source: reported
                    // just after the backslash.
                    _ => {
                        let message = if newline.is_none() && start + 1 != self.src.len() {
                            "unexpected character after line continuation character"
                        } else {
                            "unexpected EOF while parsing"
                        };
                        self.stop = message;
                        self.push(Kind::Stop, start + 1, start + 1);
                        return Ok(());
                    }
                }
            } else if is_ident_byte(c) && !c.is_ascii_digit() {
                self.name_or_string(start)?;
            } else if c.is_ascii_digit()
                || (c == b'.' && self.peek(1).is_some_and(|d| d.is_ascii_digit()))
            {
                self.pos = scan_number(self.src, start)?;
                self.push(Kind::Number, start, self.pos);
            } else if c == b'"' || c == b'\'' {
                self.string(start, start)?;
            } else {
                self.operator(start, c)?;
            }
        }
    }

    /// White space at the start of a line gives an `Indent` token, unless the line is blank
    /// or a comment or inside brackets. As in CPython 3.11, a backslash continuation there
    /// carries the measuring on to the next line, and a form feed resets the column.
    fn indentation(&mut self) {
        let mut col = 0;
        loop {
            match self.peek(0) {
                Some(b' ' | b'\t') => col += 1,
                Some(b'\x0c') => col = 0,
                // Only when text follows: the main loop reports a continuation at the end.
                Some(b'\\') => match self.newline_at(self.pos + 1) {
                    Some(len) if self.pos + 1 + len < self.src.len() => self.pos += len,
                    _ => break,
                },
                _ => break,
            }
            self.pos += 1;
        }
        let blank =
            matches!(self.peek(0), None | Some(b'#')) || self.newline_at(self.pos).is_some();
        if col > 0 && !blank && self.parens.is_empty() {
            self.push(Kind::Indent, self.pos, self.pos);
        }
    }

    /// At the end of the text; the implicit final NEWLINE starts at `newline_at` (at a
    /// trailing comment, as in CPython).
    fn end_of_input(&mut self, newline_at: usize) {
        let end = self.src.len();
        if !self.parens.is_empty() {
            self.stop = "unclosed bracket";
            return self.push(Kind::Stop, end, end);
        }
        if self.line_has_token {
            self.push(Kind::Newline, newline_at, end);
        }
        self.push(Kind::EndMarker, end, end);
    }

    /// A name, or a string with a prefix (`b`, `r`, `u`, `f` and their legal combinations).
    fn name_or_string(&mut self, start: usize) -> Result<(), SyntaxError> {
        // The legal prefixes, in any case, directly before the quote.
        let prefix = |n: usize| {
            matches!(self.src.get(start + n), Some(b'"' | b'\''))
                && ["b", "r", "u", "f", "br", "rb", "fr", "rf"]
                    .iter()
                    .any(|p| self.text[start..start + n].eq_ignore_ascii_case(p))
        };
        if let Some(n) = [1, 2].into_iter().find(|&n| prefix(n)) {
            return self.string(start, start + n);
        }
        let len = self.src[start..]
            .iter()
            .take_while(|&&c| is_ident_byte(c))
            .count();
        self.pos = start + len;
        // CPython's `verify_identifier`: XID_Start then XID_Continue (ASCII is known good).
        let valid = |&(i, c): &(usize, char)| match i {
            0 => unicode_ident::is_xid_start(c),
            _ => unicode_ident::is_xid_continue(c),
        };
        let word = &self.text[start..self.pos];
        let bad = word
            .char_indices()
            .find(|ic| !ic.1.is_ascii() && !valid(ic));
        if let Some((i, ch)) = bad {
            let msg = format!("invalid character {ch:?} (U+{:04X})", u32::from(ch));
            return Err(syntax_error(msg, start + i..start + i + ch.len_utf8()));
        }
        self.push(Kind::Name, start, self.pos);
        Ok(())
    }

    /// A string literal whose opening quote is at `quote_at` (prefix from `start`).
    fn string(&mut self, start: usize, quote_at: usize) -> Result<(), SyntaxError> {
        let quote = self.src[quote_at];
        let triple = self.src.get(quote_at + 1) == Some(&quote)
            && self.src.get(quote_at + 2) == Some(&quote);
        let need = if triple { 3 } else { 1 };
        let (mut at, mut run) = (quote_at + need, 0);
        while run < need {
            let Some(&c) = self
                .src
                .get(at)
                .filter(|_| triple || self.newline_at(at).is_none())
            else {
                // CPython names the line where it noticed: the string's own line for a
                // one-line string, the last line for a triple-quoted one.
                let (what, line) = if triple {
                    (
                        "unterminated triple-quoted string literal",
                        line_of(self.text, self.text.trim_end_matches('\n').len()),
                    )
                } else {
                    ("unterminated string literal", line_of(self.text, start))
                };
                let message = format!("{what} (detected at line {line})");
                return Err(syntax_error(message, start..start + 1));
            };
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

    fn operator(&mut self, start: usize, c: u8) -> Result<(), SyntaxError> {
        // Python 3.11's three- and two-character operators (`PyToken_ThreeChars`/`TwoChars`).
        const OPS: &str =
            "**= ... //= <<= >>= != %= &= *= += -= /= := <= == >= @= ^= |= ** -> // << <> >>";
        let rest = &self.text[start..];
        let len = OPS
            .split(' ')
            .find(|o| rest.starts_with(o))
            .map_or(1, str::len);
        match c {
            b'(' | b'[' | b'{' if self.parens.len() >= MAX_BRACKETS => {
                return Err(syntax_error(
                    "too many nested parentheses",
                    start..start + 1,
                ));
            }
            b'(' | b'[' | b'{' => self.parens.push((c, start)),
            b')' | b']' | b'}' => {
                let Some((open, open_at)) = self.parens.pop() else {
                    let message = format!("unmatched '{}'", c as char);
                    return Err(syntax_error(message, start..start + 1));
                };
                if c != closing(open) {
                    let (open_line, line) =
                        (line_of(self.text, open_at), line_of(self.text, start));
                    let on_line = (open_line != line).then(|| format!(" on line {open_line}"));
                    let (c, open, on_line) = (c as char, open as char, on_line.unwrap_or_default());
                    let msg = format!(
                        "closing parenthesis '{c}' does not match opening parenthesis '{open}'{on_line}"
                    );
                    return Err(syntax_error(msg, start..start + 1));
                }
            }
            _ => {}
        }
        self.pos = start + len;
        self.push(Kind::Op, start, start + len);
        Ok(())
    }
}

/// The line (from 1) of the offset `at`.
pub(super) fn line_of(text: &str, at: usize) -> usize {
    1 + text[..at.min(text.len())].matches('\n').count()
}

/// The bracket that closes `open`.
pub(super) fn closing(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

fn at(src: &[u8], i: usize) -> u8 {
    src.get(i).copied().unwrap_or(0)
}

/// An error found with the scan at `pos`; CPython reports the last character it consumed.
fn err(msg: impl Into<String>, pos: usize) -> SyntaxError {
    let at = pos.saturating_sub(1);
    syntax_error(msg, at..at + 1)
}

/// Scans the numeric literal starting at `start` (a digit, or `.` before a digit) and returns
/// where it ends, as CPython 3.11's tokenizer: what it accepts, and where it reports an error
/// (the last character it consumed). Only the leading-zero error keeps CPython's wording.
fn scan_number(src: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let radix = match (at(src, start), at(src, start + 1).to_ascii_lowercase()) {
        (b'0', b'x') => Some((16, "hexadecimal")),
        (b'0', b'o') => Some((8, "octal")),
        (b'0', b'b') => Some((2, "binary")),
        _ => None,
    };
    // Digits of `radix` with single underscores between them, from a digit. A decimal digit
    // that is not one of the radix's is reported at itself.
    let digits = |mut pos: usize, radix: u32, kind: &str| loop {
        let is_digit = |i: usize| (at(src, i) as char).is_digit(radix);
        let bad = |i: usize| {
            let i = i + usize::from(at(src, i).is_ascii_digit());
            Err(err(format!("invalid {kind} literal"), i))
        };
        while is_digit(pos) {
            pos += 1;
        }
        match at(src, pos) {
            b'_' if is_digit(pos + 1) => pos += 1,
            b'_' => return bad(pos + 1),
            d if d.is_ascii_digit() => return bad(pos),
            _ => return Ok(pos),
        }
    };
    if let Some((radix, kind)) = radix {
        // An underscore may follow the prefix (as if between digits), but a digit must come.
        let pos = digits(start + 2, radix, kind)?;
        if pos == start + 2 {
            return Err(err(format!("invalid {kind} literal"), pos));
        }
        return verify_end(src, pos, kind).map(|()| pos);
    }
    let int_end = digits(start, 10, "decimal")?;
    let (mut pos, mut kind) = (int_end, "decimal");
    if at(src, pos) == b'.' {
        pos += 1;
        if at(src, pos).is_ascii_digit() {
            pos = digits(pos, 10, "decimal")?;
        }
    }
    if matches!(at(src, pos), b'e' | b'E') {
        let sign = usize::from(matches!(at(src, pos + 1), b'+' | b'-'));
        if at(src, pos + 1 + sign).is_ascii_digit() {
            pos = digits(pos + 1 + sign, 10, "decimal")?;
        } else if sign == 1 {
            return Err(err("invalid decimal literal", pos + 2));
        } else {
            // Not an exponent (`1else` is `1 else`), unless it starts a name.
            return verify_end(src, pos, kind).map(|()| pos);
        }
    }
    if matches!(at(src, pos), b'j' | b'J') {
        (pos, kind) = (pos + 1, "imaginary");
    } else if pos == int_end
        && at(src, start) == b'0'
        && let Some(end) = (start..pos).find(|&i| !matches!(at(src, i), b'0' | b'_'))
    {
        let message = "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers";
        return Err(syntax_error(message, start..end));
    }
    verify_end(src, pos, kind).map(|()| pos)
}

/// CPython's `verify_end_of_number`: a literal directly followed by a letter is an error,
/// except before the keywords valid code can put there (`1if x else y`), which only warn.
fn verify_end(src: &[u8], pos: usize, kind: &str) -> Result<(), SyntaxError> {
    let rest = &src[pos.min(src.len())..];
    let keyword_follows = ["and", "else", "for", "if", "in", "is", "or", "not"]
        .iter()
        .any(|k| rest.starts_with(k.as_bytes()));
    if !keyword_follows && is_ident_byte(at(src, pos)) {
        return Err(err(format!("invalid {kind} literal"), pos));
    }
    Ok(())
}

/// A Python `SyntaxError` (or `IndentationError`) found while reading a value.
pub(super) fn syntax_error(message: impl Into<String>, span: Range<usize>) -> SyntaxError {
    SyntaxError::new(super::codes::SYNTAX, message, None, span)
}
