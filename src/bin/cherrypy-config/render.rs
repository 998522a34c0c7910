//! Renders a diagnostic with a source snippet, for people reading a terminal.

use std::fmt::Write;

use actix_cherrypy::Diagnostic;
use actix_cherrypy::limits::MAX_SNIPPET_CHARS;

/// ```text
/// site.conf:12:5: error: [/admin] tools.sessions.timeout: ... [code]
///    |
/// 12 | tools.sessions.timeout = 60 - 1
///    |                             ^
///    = help: ...
/// ```
///
/// A line longer than [`MAX_SNIPPET_CHARS`] is shown cut around the column, with an
/// ellipsis on each cut side. A closing "… and N more like this" line is shown alone.
pub(crate) fn render(d: &Diagnostic) -> String {
    let mut out = format!("{d}\n");
    if d.omitted > 0 {
        return out;
    }
    if let Some(loc) = &d.location {
        let file = &loc.file;
        let (line, column) = loc.line_column();
        let text = file.line_text(line);
        let gutter = line.to_string().len();
        let (end_line, end_column) = file.line_column(loc.span.end.max(loc.span.start + 1));
        let length = text.chars().count();
        let width = if end_line == line {
            end_column.saturating_sub(column).max(1)
        } else {
            length.saturating_sub(column - 1).max(1)
        };
        let (shown, column, width) = window(text, length, column - 1, width);
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{line} | {shown}");
        let _ = writeln!(
            out,
            "{:gutter$} | {}{}",
            "",
            " ".repeat(column),
            "^".repeat(width)
        );
    }
    for note in &d.notes {
        let _ = writeln!(out, "  = note: {note}");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}

/// The part of a line to show: at most [`MAX_SNIPPET_CHARS`] characters (tabs as spaces)
/// around the 0-based column `at`, with `…` where it is cut; with the caret's column and
/// width in what is shown.
fn window(text: &str, length: usize, at: usize, width: usize) -> (String, usize, usize) {
    let spaced = |c: char| if c == '\t' { ' ' } else { c };
    if length <= MAX_SNIPPET_CHARS {
        return (text.chars().map(spaced).collect(), at, width);
    }
    // Some context before the column, the rest after it.
    let start = at
        .saturating_sub(MAX_SNIPPET_CHARS / 4)
        .min(length - MAX_SNIPPET_CHARS);
    let end = start + MAX_SNIPPET_CHARS;
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(text.chars().skip(start).take(end - start).map(spaced));
    if end < length {
        shown.push('…');
    }
    let column = at - start + usize::from(start > 0);
    let width = width.min(end.saturating_sub(at)).max(1);
    (shown, column, width)
}
