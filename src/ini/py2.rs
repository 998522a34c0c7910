//! How CherryPy 2.0 read a value. 2.0 read its config with Python 2's `ConfigParser`, which
//! this module's siblings do not follow: they read as CherryPy 18's Python 3 `configparser`
//! does. Python 2 differs in what a value is (`ConfigParser._read`, the same in Python 2.3
//! to 2.7):
//!
//! - a `;` is an inline comment when white space comes before it, and only the first `;`
//!   of the line counts (`a;b ; c` keeps all of it). `#` after a value is part of it;
//! - a value of exactly `""` is empty;
//! - a continuation line is appended as it is (no comment is cut from it); blank lines
//!   between them are dropped. Only a line whose *first character* is `#` or `;` is a
//!   comment: an indented `# note` below a value is a continuation line, part of the value
//!   (Python 3 skips it);
//! - white space is ASCII white space (Python 2 strings are bytes).
//!
//! Key names are lower-cased too (`optionxform` is `str.lower`); the 2.0 readers compare
//! keys case-insensitively or lower-case them where a key is a URL.

use std::collections::HashMap;

use super::DEFAULT_SECTION;
use super::document::{Document, Entry, LineKind, Section};
use super::interpolate::{InterpolationBudget, InterpolationError, MAX_INTERPOLATION_DEPTH};
use crate::limits::MAX_INTERPOLATED_BYTES;
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
    let start = match document.line(entry.first_line).kind {
        LineKind::Entry { separator, .. } => separator.end,
        _ => entry.key_span.end,
    };
    let (span, first) = first_line_2_0(text, start);
    let mut value = first.to_owned();
    for line in entry.first_line + 1..document.line_count() {
        let line = document.line(line);
        let piece = match line.kind {
            LineKind::Continuation { value } => value,
            // Python 2 skipped a comment only when `#` or `;` is the line's first character:
            // an indented one continues the value.
            LineKind::Comment if text[line.span.range()].starts_with(is_py2_space) => line.span,
            LineKind::Comment | LineKind::Blank => continue,
            _ => break,
        };
        value.push('\n');
        value.push_str(text[piece.range()].trim_matches(is_py2_space));
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

/// The lines Python 2's `ConfigParser` refused, by index: a line that starts with white
/// space where no option has been read since the last section header (or the file's start).
/// Python 2 took an indented line as a continuation only after an option; any other line had
/// to be a `[header]` or a `key = value` in the first column, so an indented entry, comment
/// or header right below a header was a `ParsingError` (raised once the whole file was
/// read; before any header, `MissingSectionHeaderError`). Python 3 reads the same lines as
/// ordinary ones. Blank lines and comments in the first column are skipped and change
/// nothing.
pub(crate) fn refused_lines_2_0(document: &Document) -> Vec<usize> {
    let text = document.source().text();
    let mut refused = Vec::new();
    let mut after_option = false;
    for (i, line) in document.lines().enumerate() {
        let indented = text[line.span.range()].starts_with(is_py2_space);
        match line.kind {
            LineKind::Blank | LineKind::Invalid => continue,
            LineKind::Comment | LineKind::Continuation { .. } if !indented => continue,
            _ if indented && !after_option => refused.push(i),
            LineKind::Header { .. } => after_option = false,
            LineKind::Entry { .. } if !indented => after_option = true,
            _ => {}
        }
    }
    refused
}

/// The options Python 2's `ConfigParser.get` interpolated from in one section: `[DEFAULT]`'s
/// and the section's own (which win), names lower-cased, values as [`value_2_0`] reads
/// them, and `__name__`, the section's name.
pub(crate) fn vars_2_0(document: &Document, section: &Section) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    let defaults = document
        .sections()
        .iter()
        .filter(|s| s.name(document.source()) == DEFAULT_SECTION);
    for s in defaults.chain(std::iter::once(section)) {
        for entry in &s.entries {
            vars.insert(
                entry.key(document.source()).to_ascii_lowercase(),
                value_2_0(document, entry).text,
            );
        }
    }
    vars.insert(
        "__name__".to_owned(),
        section.name(document.source()).to_owned(),
    );
    vars
}

/// Python 2's `ConfigParser.get` interpolation (2.4 to 2.7), which CherryPy 2.0 applied to
/// every value it read: only a value holding `%(` is formatted, with Python's `%` against
/// the section's options (`vars`, from [`vars_2_0`]), the names lower-cased; the result is
/// formatted again while it holds `%(`, ten rounds at most. A value without `%(` is kept
/// as it is, a lone `%` and `%%` included. Of `%`'s directives only `%%` and `%(name)s`
/// are read; any other is [`InterpolationError::Syntax`] (Python formats a few of them, but
/// only with a meaning no config value has). What is read is taken from `budget`.
pub(crate) fn interpolate_2_0(
    value: &str,
    vars: &HashMap<String, String>,
    budget: &mut InterpolationBudget,
) -> Result<String, InterpolationError> {
    let mut value = value.to_owned();
    for _ in 0..MAX_INTERPOLATION_DEPTH {
        if !value.contains("%(") {
            return Ok(value);
        }
        value = format_2_0(&value, vars, budget)?;
    }
    if value.contains("%(") {
        return Err(InterpolationError::Depth);
    }
    Ok(value)
}

/// One round of `value % vars`.
fn format_2_0(
    value: &str,
    vars: &HashMap<String, String>,
    budget: &mut InterpolationBudget,
) -> Result<String, InterpolationError> {
    budget.spend(value)?;
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let reference = after.strip_prefix('(').and_then(|r| {
            let close = r.find(')')?;
            Some((&r[..close], r[close + 1..].strip_prefix('s')?))
        });
        let Some((name, r)) = reference else {
            let found: String = rest[i..].chars().take(20).collect();
            return Err(InterpolationError::Syntax { found });
        };
        let name = name.to_ascii_lowercase();
        let Some(text) = vars.get(&name) else {
            return Err(InterpolationError::Missing { name });
        };
        budget.spend(text)?;
        if out.len() + text.len() > MAX_INTERPOLATED_BYTES {
            return Err(InterpolationError::TooLong);
        }
        out.push_str(text);
        rest = r;
    }
    out.push_str(rest);
    Ok(out)
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

    /// The 2.0 values of the first section of `text`.
    fn values(text: &str) -> Vec<String> {
        let parsed = super::super::parse(&crate::source::SourceFile::new("t.conf", text));
        let entries = &parsed.document.sections()[0].entries;
        entries
            .iter()
            .map(|e| value_2_0(&parsed.document, e).text)
            .collect()
    }

    #[test]
    fn continuation_lines_are_joined_without_their_comments_cut() {
        let text = "[staticContent]\nstatic = /a ; one\n  /b ; two\n\n  /c\n";
        assert_eq!(values(text), ["/a\n/b ; two\n/c"]);
    }

    #[test]
    fn an_indented_comment_is_a_continuation_line() {
        let text = "[server]\nport = 80\n  # old\n# skipped\n\n\t; older\nhost = h\n  # h\n";
        assert_eq!(values(text), ["80\n# old\n; older", "h\n# h"]);
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn interp(value: &str, pairs: &[(&str, &str)]) -> Result<String, InterpolationError> {
        interpolate_2_0(value, &vars(pairs), &mut InterpolationBudget::default())
    }

    #[test]
    fn names_are_lower_cased_and_values_formatted_again() {
        let base = [("base", "/srv"), ("dir", "%(BASE)s/s")];
        assert_eq!(interp("%(Dir)s/x", &base).unwrap(), "/srv/s/x");
        // Without `%(`, nothing is formatted: `%` and `%%` stay as they are.
        assert_eq!(interp("100%%/%", &base).unwrap(), "100%%/%");
        assert_eq!(interp("%(base)s/100%%", &base).unwrap(), "/srv/100%");
    }

    #[test]
    fn what_python_2_raised_on_is_an_error() {
        assert_eq!(
            interp("%(nope)s", &[]),
            Err(InterpolationError::Missing {
                name: "nope".into()
            })
        );
        assert!(matches!(
            interp("%(a)s 100%", &[("a", "x")]),
            Err(InterpolationError::Syntax { .. })
        ));
        assert_eq!(
            interp("%(a)s", &[("a", "%(a)s")]),
            Err(InterpolationError::Depth)
        );
    }

    #[test]
    fn default_and_the_section_are_the_vars() {
        let source = crate::source::SourceFile::new(
            "t.conf",
            "[DEFAULT]\nBase = /srv\nname = d\n[session]\nname = s ; comment\n",
        );
        let parsed = super::super::parse(&source);
        let vars = vars_2_0(&parsed.document, &parsed.document.sections()[1]);
        assert_eq!(vars["base"], "/srv");
        assert_eq!(vars["name"], "s");
        assert_eq!(vars["__name__"], "session");
    }
}
