//! The lossless document: every physical line with its kind and spans.

use std::fmt;
use std::sync::Arc;

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

/// One physical line, as [`Document::line`] hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line without its ending.
    pub span: Span,
    /// The line ending (`\n`, `\r\n`, `\r`, or empty on the last line).
    pub ending: Span,
    /// How the line was read.
    pub kind: LineKind,
}

/// What the document keeps of a line: how it was read, in one byte. Its spans are read
/// again from the text when asked for (they follow from the line's text and its kind), so
/// a file of a million short lines costs a million bytes here, not a hundred million.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Blank,
    Comment,
    Header,
    Entry,
    Continuation,
    Invalid,
}

/// A line's text without its surrounding white space, and its span.
pub(super) fn stripped(text: &str, span: Span) -> (&str, Span) {
    let line = &text[span.range()];
    let stripped = super::py_strip(line);
    let lead = line.len() - line.trim_start_matches(super::is_py_space).len();
    let start = span.start + lead;
    (stripped, Span::new(start, start + stripped.len()))
}

/// configparser's `\[(?P<header>.+)\]` matched at the start of the stripped line: the name
/// runs to the *last* `]`, and anything after it is ignored (`[global] # x` is `global`).
/// The name's span, given the stripped line's.
pub(super) fn header_name(stripped: &str, span: Span) -> Option<Span> {
    let rest = stripped.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    (close > 0).then(|| Span::new(span.start + 1, span.start + 1 + close))
}

/// The key, separator and value of a stripped `key = value` line (the first `=` or `:`
/// separates), each stripped; `None` without a separator.
pub(super) fn entry_spans(stripped: &str, span: Span) -> Option<(Span, Span, Span)> {
    let sep = stripped.find(['=', ':'])?;
    let key = stripped[..sep].trim_end_matches(super::is_py_space);
    let after = &stripped[sep + 1..];
    let value = super::py_strip(after);
    let value_start =
        span.start + stripped.len() - after.trim_start_matches(super::is_py_space).len();
    Some((
        Span::new(span.start, span.start + key.len()),
        Span::new(span.start + sep, span.start + sep + 1),
        Span::new(value_start, value_start + value.len()),
    ))
}

/// A value as configparser hands it over: the entry's line and its continuation lines joined
/// with `\n`, trailing white space removed; with a map back to the source bytes.
///
/// A value of one line is its bytes in the file, not a copy: most values are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValueText {
    /// The value's bytes on its first line.
    first: Span,
    /// The joined text, for a value of more than one line.
    joined: Option<Box<Joined>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Joined {
    text: String,
    /// `(offset in text, offset in the source)` where each joined piece starts.
    pieces: Vec<(usize, usize)>,
}

impl ValueText {
    /// A value whose first line holds `first`.
    pub(crate) fn new(first: Span) -> Self {
        Self {
            first,
            joined: None,
        }
    }

    /// Adds a continuation line (`text`, found at `source_offset`); `source` is the file's
    /// text, where the first line is.
    pub(crate) fn push_piece(&mut self, source: &str, text: &str, source_offset: usize) {
        let first = self.first;
        let joined = self.joined.get_or_insert_with(|| {
            Box::new(Joined {
                text: source[first.range()].to_owned(),
                pieces: vec![(0, first.start)],
            })
        });
        joined.text.push('\n');
        joined.pieces.push((joined.text.len(), source_offset));
        joined.text.push_str(text);
    }

    pub(crate) fn finish(&mut self) {
        let Some(joined) = &mut self.joined else {
            // One line, stripped already.
            return;
        };
        let trimmed = joined.text.trim_end_matches(super::is_py_space).len();
        joined.text.truncate(trimmed);
        joined.pieces.retain(|&(at, _)| at <= trimmed);
        // Only the first line is left (the rest was blank): it is the file's bytes again.
        if joined.pieces.len() == 1 {
            self.joined = None;
        }
    }

    /// The value's text; `source` is the file it was read from.
    pub fn text<'a>(&'a self, source: &'a SourceFile) -> &'a str {
        match &self.joined {
            Some(joined) => &joined.text,
            None => source.slice(self.first),
        }
    }

    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        match &self.joined {
            Some(joined) => joined.text.len(),
            None => self.first.end - self.first.start,
        }
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with the pieces (one for a value of one line).
    fn with_pieces<T>(&self, f: impl FnOnce(&[(usize, usize)]) -> T) -> T {
        match &self.joined {
            Some(joined) => f(&joined.pieces),
            None => f(&[(0, self.first.start)]),
        }
    }

    /// The source offset of a byte offset in the joined text.
    pub fn source_offset(&self, offset: usize) -> usize {
        self.with_pieces(|pieces| {
            let i = pieces.partition_point(|&(at, _)| at <= offset);
            match i.checked_sub(1).map(|i| pieces[i]) {
                Some((at, src)) => src + (offset - at),
                None => pieces.first().map_or(0, |p| p.1),
            }
        })
    }

    /// The source span of a byte range of the joined text. A range that crosses a line
    /// break is cut at the end of its first line, so it never covers skipped comment lines.
    pub fn source_span(&self, range: std::ops::Range<usize>) -> Span {
        let start = self.source_offset(range.start);
        let len = self.len();
        let piece_end = self.with_pieces(|pieces| {
            let i = pieces.partition_point(|&(at, _)| at <= range.start);
            pieces.get(i).map_or(len, |&(at, _)| at.saturating_sub(1))
        });
        let end = start + (range.end.min(piece_end.max(range.start)) - range.start);
        Span::new(start, end)
    }
}

/// One `key = value` with its continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key's bytes (the key as written, case kept).
    pub key_span: Span,
    /// The value's raw text (before interpolation).
    pub value: ValueText,
    /// Index of the entry's first line in the document's lines.
    pub first_line: usize,
    /// Index of its last line (the last continuation line, or the first line).
    pub last_line: usize,
}

impl Entry {
    /// The key as written; `source` is the file it was read from.
    pub fn key<'s>(&self, source: &'s SourceFile) -> &'s str {
        source.slice(self.key_span)
    }
}

/// One `[name]` block and its entries, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name's bytes (between the brackets).
    pub name_span: Span,
    /// Index of the header in the document's lines.
    pub header_line: usize,
    /// Its entries.
    pub entries: Vec<Entry>,
}

impl Section {
    /// The name between the brackets; `source` is the file it was read from.
    pub fn name<'s>(&self, source: &'s SourceFile) -> &'s str {
        source.slice(self.name_span)
    }
}

/// A whole file, lossless: printing it gives back the input byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub(crate) source: Arc<SourceFile>,
    /// How each line was read (its spans follow from the text).
    pub(crate) lines: Vec<Tag>,
    pub(crate) sections: Vec<Section>,
}

impl Document {
    /// The file it was read from.
    pub fn source(&self) -> &Arc<SourceFile> {
        &self.source
    }

    /// Every physical line.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = Line> + '_ {
        (0..self.lines.len()).map(|i| self.line(i))
    }

    /// The number of physical lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// One physical line, its spans read again from the text.
    pub fn line(&self, index: usize) -> Line {
        let text = self.source.text();
        let starts = self.source.line_starts();
        let start = starts[index];
        let next = starts.get(index + 1).copied().unwrap_or(text.len());
        let body_end = start + text[start..next].trim_end_matches(['\r', '\n']).len();
        let span = Span::new(start, body_end);
        let (stripped, stripped_span) = stripped(text, span);
        let kind = match self.lines[index] {
            Tag::Blank => LineKind::Blank,
            Tag::Comment => LineKind::Comment,
            Tag::Invalid => LineKind::Invalid,
            Tag::Continuation => LineKind::Continuation {
                value: stripped_span,
            },
            Tag::Header => LineKind::Header {
                name: header_name(stripped, stripped_span).expect("a header line"),
            },
            Tag::Entry => {
                let (key, separator, value) =
                    entry_spans(stripped, stripped_span).expect("an entry line");
                LineKind::Entry {
                    key,
                    separator,
                    value,
                }
            }
        };
        Line {
            span,
            ending: Span::new(body_end, next),
            kind,
        }
    }

    /// Every section block in file order, `[DEFAULT]` blocks included. A name appears once
    /// unless the file repeats it (an error, except for `[DEFAULT]`).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The text of a line (without its ending).
    pub fn line_text(&self, index: usize) -> &str {
        self.source.slice(self.line(index).span)
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
        for line in self.lines() {
            f.write_str(self.source.slice(line.span))?;
            f.write_str(self.source.slice(line.ending))?;
        }
        Ok(())
    }
}
