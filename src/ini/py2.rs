//! How CherryPy 2.0 read a value. 2.0 read its config with Python 2's `ConfigParser`, which
//! this module's siblings do not follow: they read as CherryPy 18's Python 3 `configparser`
//! does. Python 2 differs in what a value is (`ConfigParser._read`, the same in Python 2.3
//! to 2.7):
//!
//! - a `;` is an inline comment when white space comes before it, and only the first `;`
//!   of the line counts (`a;b ; c` keeps all of it). `#` after a value is part of it;
//! - a value of exactly `""` is empty;
//! - a continuation line is appended as it is (no comment is cut from it); blank lines
//!   between them are dropped;
//! - white space is ASCII white space (Python 2 strings are bytes).
//!
//! Key names are lower-cased too (`optionxform` is `str.lower`); the 2.0 readers compare
//! keys case-insensitively or lower-case them where a key is a URL.

use super::document::{Document, Entry, LineKind};
use crate::source::Span;

/// Python 2's `str.isspace()` on a byte string: ASCII white space only.
fn is_py2_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// A value as CherryPy 2.0 read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Value2_0 {
    /// The value, comment cut, `""` read as empty, continuation lines joined with `\n`.
    pub(crate) text: String,
    /// The bytes of the value on the entry's first line (the comment left out); empty, at
    /// the value's start, when nothing is kept there.
    pub(crate) span: Span,
}

/// The value of `entry` as CherryPy 2.0 read it.
pub(crate) fn value_2_0(document: &Document, entry: &Entry) -> Value2_0 {
    let text = document.source().text();
    let lines = document.lines();
    let start = match lines[entry.first_line].kind {
        LineKind::Entry { separator, .. } => separator.end,
        _ => entry.key_span.end,
    };
    let (span, first) = first_line_2_0(text, start);
    let mut value = first.to_owned();
    for line in &lines[entry.first_line + 1..=entry.last_line] {
        if let LineKind::Continuation { value: piece } = line.kind {
            value.push('\n');
            value.push_str(text[piece.range()].trim_matches(is_py2_space));
        }
    }
    Value2_0 { text: value, span }
}

/// The value Python 2 kept of the line that starts at `start` (after the separator, or
/// anywhere in the white space that follows it): the span of the kept bytes and the value
/// they stand for (`""` stands for the empty value).
pub(crate) fn first_line_2_0(text: &str, start: usize) -> (Span, &str) {
    let rest = &text[start..];
    let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
    // Python 2 read the file without newline translation: the `\r` of a `\r\n` ending was
    // the value's last character until the value was stripped.
    let crlf = rest[end..].starts_with("\r\n");
    let line = &rest[..end];
    let lead = line.len() - line.trim_start_matches(is_py2_space).len();
    let value = &line[lead..];
    let kept = match value.find(';') {
        // `optval[pos-1]` with `pos` 0 is the line's last character.
        Some(0) if crlf || value.ends_with(is_py2_space) => "",
        Some(pos) if pos > 0 && value[..pos].ends_with(is_py2_space) => &value[..pos],
        _ => value,
    };
    let kept = kept.trim_end_matches(is_py2_space);
    let span = Span::new(start + lead, start + lead + kept.len());
    (span, if kept == "\"\"" { "" } else { kept })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(line: &str) -> &str {
        first_line_2_0(line, 0).1
    }

    #[test]
    fn a_semicolon_after_white_space_starts_a_comment() {
        assert_eq!(first(" ram ; in memory"), "ram");
        assert_eq!(first("ram\t;tab"), "ram");
        assert_eq!(first("ram;no space"), "ram;no space");
        // Only the first `;` is looked at.
        assert_eq!(first("a;b ; c"), "a;b ; c");
        assert_eq!(first("ram # not a comment"), "ram # not a comment");
    }

    #[test]
    fn a_semicolon_first_looks_at_the_end_of_the_line() {
        assert_eq!(first(";x"), ";x");
        assert_eq!(first(";x "), "");
        assert_eq!(first_line_2_0(";x\r\nnext", 0).1, "");
        assert_eq!(first_line_2_0(";x\nnext", 0).1, ";x");
    }

    #[test]
    fn two_double_quotes_are_empty() {
        assert_eq!(first(" \"\" "), "");
        assert_eq!(first("\"\" ; none"), "");
        assert_eq!(first("'' "), "''");
        assert_eq!(first("\"x\""), "\"x\"");
    }

    #[test]
    fn the_span_covers_the_kept_bytes() {
        let text = "key = ram ; comment\n";
        let (span, value) = first_line_2_0(text, 5);
        assert_eq!((&text[span.range()], value), ("ram", "ram"));
    }

    #[test]
    fn continuation_lines_are_joined_without_their_comments_cut() {
        let source = crate::source::SourceFile::new(
            "t.conf",
            "[staticContent]\nstatic = /a ; one\n  /b ; two\n\n  /c\n",
        );
        let parsed = super::super::parse(&source);
        let entry = &parsed.document.sections()[0].entries[0];
        let value = value_2_0(&parsed.document, entry);
        assert_eq!(value.text, "/a\n/b ; two\n/c");
    }
}
