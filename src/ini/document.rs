//! The lossless document: every physical line with its kind and spans.

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::source::{SourceFile, Span};

/// What a physical line is, as configparser classified it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineKind {
    /// Empty or white space only.
    Blank,
    /// A full-line `#` or `;` comment.
    Comment,
    /// `[name]`; `name` is the span between the brackets.
    Header {
        /// The section name's bytes.
        name: Span,
    },
    /// `key = value` or `key: value`.
    Entry {
        /// The key's bytes (stripped).
        key: Span,
        /// The separator (`=` or `:`).
        separator: Span,
        /// The value's bytes on this line (stripped; may be empty).
        value: Span,
    },
    /// An indented line that continues the previous entry's value.
    Continuation {
        /// The stripped text of the line.
        value: Span,
    },
    /// A line configparser rejects, or one it never reads because of an earlier error.
    Invalid,
}

/// One physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line without its ending.
    pub span: Span,
    /// The line ending (`\n`, `\r\n`, `\r`, or empty on the last line).
    pub ending: Span,
    /// How the line was read.
    pub kind: LineKind,
}

/// A value as configparser hands it over: the entry's line and its continuation lines joined
/// with `\n`, trailing white space removed; with a map back to the source bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValueText {
    /// The joined text.
    pub text: String,
    /// `(offset in text, offset in the source)` where each joined piece starts.
    // One piece per line: most values have one, kept inline.
    pieces: SmallVec<[(usize, usize); 1]>,
}

impl ValueText {
    pub(crate) fn push_piece(&mut self, text: &str, source_offset: usize) {
        if !self.pieces.is_empty() {
            self.text.push('\n');
        }
        self.pieces.push((self.text.len(), source_offset));
        self.text.push_str(text);
    }

    pub(crate) fn finish(&mut self) {
        let trimmed = self.text.trim_end_matches(super::is_py_space).len();
        self.text.truncate(trimmed);
        self.pieces.retain(|&mut (at, _)| at <= trimmed);
    }

    /// The source offset of a byte offset in the joined text.
    pub fn source_offset(&self, offset: usize) -> usize {
        let i = self.pieces.partition_point(|&(at, _)| at <= offset);
        match i.checked_sub(1).map(|i| self.pieces[i]) {
            Some((at, src)) => src + (offset - at),
            None => self.pieces.first().map_or(0, |p| p.1),
        }
    }

    /// The source span of a byte range of the joined text. A range that crosses a line
    /// break is cut at the end of its first line, so it never covers skipped comment lines.
    pub fn source_span(&self, range: std::ops::Range<usize>) -> Span {
        let start = self.source_offset(range.start);
        let i = self.pieces.partition_point(|&(at, _)| at <= range.start);
        let piece_end = self
            .pieces
            .get(i)
            .map_or(self.text.len(), |&(at, _)| at.saturating_sub(1));
        let end = start + (range.end.min(piece_end.max(range.start)) - range.start);
        Span::new(start, end)
    }
}

/// One `key = value` with its continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key as written (case kept).
    pub key: String,
    /// The key's bytes.
    pub key_span: Span,
    /// The value's raw text (before interpolation).
    pub value: ValueText,
    /// Index of the entry's first line in [`Document::lines`].
    pub first_line: usize,
    /// Index of its last line (the last continuation line, or the first line).
    pub last_line: usize,
}

/// One `[name]` block and its entries, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets.
    pub name: String,
    /// The name's bytes.
    pub name_span: Span,
    /// Index of the header in [`Document::lines`].
    pub header_line: usize,
    /// Its entries.
    pub entries: Vec<Entry>,
}

/// A whole file, lossless: printing it gives back the input byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub(crate) source: Arc<SourceFile>,
    pub(crate) lines: Vec<Line>,
    pub(crate) sections: Vec<Section>,
}

impl Document {
    /// The file it was read from.
    pub fn source(&self) -> &Arc<SourceFile> {
        &self.source
    }

    /// Every physical line.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Every section block in file order, `[DEFAULT]` blocks included. A name appears once
    /// unless the file repeats it (an error, except for `[DEFAULT]`).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The text of a line (without its ending).
    pub fn line_text(&self, index: usize) -> &str {
        self.source.slice(self.lines[index].span)
    }

    /// Rewrites the document, replacing each span with its text (spans must not overlap).
    /// Bytes outside the spans are copied unchanged.
    pub fn edit(&self, mut edits: Vec<(Span, String)>) -> String {
        edits.sort_by_key(|(span, _)| (span.start, span.end));
        let text = self.source.text();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (span, replacement) in edits {
            debug_assert!(span.start >= at, "overlapping edits");
            out.push_str(&text[at..span.start]);
            out.push_str(&replacement);
            at = span.end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// Prints the document back from its lines: the round trip of [`super::parse`].
impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            f.write_str(self.source.slice(line.span))?;
            f.write_str(self.source.slice(line.ending))?;
        }
        Ok(())
    }
}
