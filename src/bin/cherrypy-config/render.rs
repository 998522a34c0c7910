//! Renders a diagnostic with a source snippet, for people reading a terminal.

use std::fmt::Write;

use actix_cherrypy::Diagnostic;

/// ```text
/// site.conf:12:5: error: [/admin] tools.sessions.timeout: ... [code]
///    |
/// 12 | tools.sessions.timeout = 60 - 1
///    |                             ^
///    = help: ...
/// ```
pub(crate) fn render(d: &Diagnostic) -> String {
    let mut out = format!("{d}\n");
    if let Some(loc) = &d.location {
        let file = &loc.file;
        let (line, column) = loc.line_column();
        let text = file.line_text(line);
        let gutter = line.to_string().len();
        let (end_line, end_column) = file.line_column(loc.span.end.max(loc.span.start + 1));
        let width = if end_line == line {
            end_column.saturating_sub(column).max(1)
        } else {
            text.chars().count().saturating_sub(column - 1).max(1)
        };
        let shown: String = text
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{line} | {shown}");
        let _ = writeln!(
            out,
            "{:gutter$} | {}{}",
            "",
            " ".repeat(column - 1),
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
