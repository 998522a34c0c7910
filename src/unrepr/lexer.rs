//! Python 3.11's tokenizer, for one config value.
//!
//! CherryPy hands `'__tempvalue__ = ' + text` to `ast.parse`, so the text is tokenized as the
//! rest of a line that is not at its start: the first line never produces an `INDENT`. The
//! rules below follow CPython 3.11's `Parser/tokenizer.c` in behaviour (which character
//! sequences are accepted, which errors are raised and whether they are raised at once or
//! only when the parser reaches them); see the `Kind::Stop` and `Lexed::hard_error` docs.
//!
//! Indentation is not tracked: configparser strips every line of a value, so a line can
//! start with white space only when an interpolation that gives an empty string comes
//! first (`%(empty)s  pass`). Such a line gives an `Indent` token, which no rule accepts.

use std::ops::Range;

use super::syntax::SyntaxError;

/// What a token is. Operators are kept as text (`Token::text`) and compared by the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Name,
    Number,
    String,
    /// Any operator or delimiter, including characters Python turns into a generic `OP`
    /// token that no grammar rule accepts (`$`, `?`, `!`, `` ` ``).
    Op,
    Newline,
    /// White space at the start of a line (outside brackets).
    Indent,
    EndMarker,
    /// Where the tokenizer stopped without raising: CPython only sets `tok->done`, so the
    /// problem is reported only if the parser asks for this token.
    Stop(Stop),
    /// Where the tokenizer raised a `SyntaxError` (see `Lexed::hard_error`).
    Hard,
}

/// Tokenizer stops that only fail when reached (CPython's `E_EOF`, `E_LINECONT`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// End of input inside brackets: "'(' was never closed".
    Unclosed,
    /// End of input right after a backslash continuation.
    Eof,
    /// A backslash followed by something other than a newline.
    LineCont,
}

impl Stop {
    pub(super) fn message(self) -> &'static str {
        match self {
            Stop::Unclosed => "unclosed bracket",
            Stop::Eof => "unexpected EOF while parsing",
            Stop::LineCont => "unexpected character after line continuation character",
        }
    }
}

/// One token: its kind and its byte range in the value text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Token {
    pub(super) fn span(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// The token stream of a value.
#[derive(Debug)]
pub(super) struct Lexed {
    /// Tokens up to and including the last one (`EndMarker`, `Stop` or `Hard`).
    pub(super) tokens: Vec<Token>,
    /// A tokenizer `SyntaxError`. CPython raises these as soon as the tokenizer meets them,
    /// and, after a generic "invalid syntax", tokenizes the rest of the source to look for
    /// one, so such an error wins over a generic parser error anywhere before it.
    pub(super) hard_error: Option<SyntaxError>,
    /// Innermost bracket still open where the tokenizer stopped (offset of the bracket).
    pub(super) unclosed: Option<usize>,
}

/// Tokenizes `src` completely (up to the first error).
pub(super) fn tokenize(src: &str) -> Lexed {
    let mut lx = Lexer {
        src: src.as_bytes(),
        text: src,
        pos: 0,
        tokens: Vec::with_capacity(src.len() / 2 + 4),
        parens: Vec::new(),
        at_bol: false,
        line_has_token: true,
    };
    let hard_error = lx.run().err();
    if hard_error.is_some() {
        lx.tokens.push(Token {
            kind: Kind::Hard,
            start: lx.pos,
            end: lx.pos,
        });
    }
    let unclosed = lx.parens.last().map(|&(_, at)| at);
    Lexed {
        tokens: lx.tokens,
        hard_error,
        unclosed,
    }
}

pub(super) struct Lexer<'a> {
    pub(super) src: &'a [u8],
    pub(super) text: &'a str,
    pub(super) pos: usize,
    pub(super) tokens: Vec<Token>,
    /// Open brackets: the bracket byte and its offset.
    pub(super) parens: Vec<(u8, usize)>,
    pub(super) at_bol: bool,
    /// Whether the current logical line has produced a token (so that the implicit final
    /// newline CPython appends to string input yields a NEWLINE).
    pub(super) line_has_token: bool,
}

/// Identifier characters as CPython's `is_potential_identifier_char`: ASCII letters and
/// digits, `_`, and every non-ASCII byte (checked later as a whole identifier).
pub(super) fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl Lexer<'_> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.src.get(self.pos + off).copied()
    }

    /// Length of the line break at `at` (`\n`, `\r\n` or `\r`), if any.
    pub(super) fn newline_at(&self, at: usize) -> Option<usize> {
        match self.src.get(at) {
            Some(b'\n') => Some(1),
            Some(b'\r') => Some(if self.src.get(at + 1) == Some(&b'\n') {
                2
            } else {
                1
            }),
            _ => None,
        }
    }

    pub(super) fn push(&mut self, kind: Kind, start: usize, end: usize) {
        self.tokens.push(Token { kind, start, end });
        if !matches!(kind, Kind::Newline | Kind::Indent) {
            self.line_has_token = true;
        }
    }

    pub(super) fn error(&self, message: String, at: Range<usize>) -> SyntaxError {
        SyntaxError::new(message, at)
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        loop {
            if self.at_bol {
                self.at_bol = false;
                self.indentation();
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
            let mut start = self.pos;
            let Some(c) = self.peek(0) else {
                return self.end_of_input(comment_at);
            };
            if let Some(len) = self.newline_at(start) {
                self.pos += len;
                if self.parens.is_empty() && self.line_has_token {
                    let end = start + len;
                    start = comment_at;
                    self.push(Kind::Newline, start, end);
                    self.line_has_token = false;
                }
                self.at_bol = true;
                continue;
            }
            if c == b'\\' {
                match self.newline_at(start + 1) {
                    // The newline CPython appends to the source follows the backslash.
                    None if start + 1 == self.src.len() => {
                        self.push(Kind::Stop(Stop::Eof), start + 1, start + 1);
                        return Ok(());
                    }
                    None => {
                        self.push(Kind::Stop(Stop::LineCont), start + 1, start + 1);
                        return Ok(());
                    }
                    Some(len) => {
                        self.pos = start + 1 + len;
                        if self.pos >= self.src.len() {
                            // CPython reports it just after the backslash.
                            self.push(Kind::Stop(Stop::Eof), start + 1, start + 1);
                            return Ok(());
                        }
                        continue;
                    }
                }
            }
            if is_ident_byte(c) && !c.is_ascii_digit() {
                self.name_or_string(start)?;
            } else if c.is_ascii_digit()
                || (c == b'.' && self.peek(1).is_some_and(|d| d.is_ascii_digit()))
            {
                let end = super::number::scan(self.src, start)
                    .map_err(|(msg, at)| self.error(msg, at))?;
                self.pos = end;
                self.push(Kind::Number, start, end);
            } else if c == b'"' || c == b'\'' {
                self.string(start, start)?;
            } else {
                self.operator(start, c)?;
            }
        }
    }

    /// White space at the start of a line gives an `Indent` token, unless the line is blank
    /// or a comment or inside brackets (CPython's `blankline`). As in CPython 3.11, a
    /// backslash continuation there carries the measuring on to the next line (`\\` then
    /// ` 2` is indented), and a form feed resets the column.
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
        // The end of the text ends a line too.
        let blank =
            matches!(self.peek(0), None | Some(b'#')) || self.newline_at(self.pos).is_some();
        if col > 0 && !blank && self.parens.is_empty() {
            self.push(Kind::Indent, self.pos, self.pos);
        }
    }

    /// At the end of the text; `newline_at` is where the implicit final NEWLINE starts (at a
    /// trailing comment, as in CPython).
    fn end_of_input(&mut self, newline_at: usize) -> Result<(), SyntaxError> {
        let end = self.src.len();
        if !self.parens.is_empty() {
            self.push(Kind::Stop(Stop::Unclosed), end, end);
            return Ok(());
        }
        // CPython appends a newline to string input that lacks one.
        if self.line_has_token {
            self.push(Kind::Newline, newline_at, end);
            self.line_has_token = false;
        }
        self.push(Kind::EndMarker, end, end);
        Ok(())
    }
}
