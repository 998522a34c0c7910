//! Renders a diagnostic with a source snippet, for people reading a terminal: the
//! diagnostic's own line (the words the app logs, its help included), then the snippet and
//! notes drawn by `annotate-snippets`, rustc's renderer.

use std::io::IsTerminal;

use actix_cherrypy::limits::MAX_SNIPPET_CHARS;
use actix_cherrypy::{Diagnostic, Severity};
use annotate_snippets::renderer::{AnsiColor, Effects, Style};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// When diagnostics are drawn in colour (`--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (to anything but the empty string).
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour what goes to standard error.
    pub(crate) fn for_stderr(self) -> bool {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        self.decide(std::io::stderr().is_terminal(), no_color)
    }

    fn decide(self, terminal: bool, no_color: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !no_color,
        }
    }
}

/// ```text
/// site.conf:12:5: error: [/admin] tools.sessions.timeout: ... (help: ...) [code]
///    |
/// 12 | tools.sessions.timeout = 60 - 1
///    |                             ^
/// ```
///
/// The first line is the diagnostic's `Display`, word for word what the middleware logs and
/// what `check --format json` carries, so a log line can be found in `check`'s output; the
/// help is in it, so it is not drawn again below. A
/// line longer than [`MAX_SNIPPET_CHARS`] is shown cut around the column, with `...` on each
/// cut side. A closing "… and N more like this" line is shown alone.
pub(crate) fn render(d: &Diagnostic, color: bool) -> String {
    let mut out = header(d, color);
    out.push('\n');
    if d.omitted > 0 {
        return out;
    }
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        _ => Level::WARNING,
    };
    let mut group = Group::with_level(level.clone());
    if let Some(loc) = &d.location {
        let (line, column) = loc.line_column();
        let text = loc.file.line_text(line);
        let start = byte_at(text, column);
        let (end_line, end_column) = loc.file.line_column(loc.span.end);
        let end = if end_line == line {
            byte_at(text, end_column)
        } else {
            text.len()
        };
        // An empty span points at the character it starts at, as rustc's carets do.
        let end = if end > start {
            end
        } else {
            text[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8())
        };
        group = group.element(
            Snippet::source(text)
                .line_start(line)
                .annotation(AnnotationKind::Primary.span(start..end)),
        );
    }
    for note in &d.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    if d.location.is_none() && d.notes.is_empty() {
        return out;
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    out.push_str(&renderer.term_width(MAX_SNIPPET_CHARS).render(&[group]));
    out.push('\n');
    out
}

/// The diagnostic's own line, its severity in the renderer's colours.
fn header(d: &Diagnostic, color: bool) -> String {
    let line = d.to_string();
    if !color {
        return line;
    }
    let severity = d.severity.to_string();
    let style = match d.severity {
        Severity::Error => AnsiColor::BrightRed.on_default().effects(Effects::BOLD),
        _ => AnsiColor::Yellow.on_default().effects(Effects::BOLD),
    };
    let bold = Style::new().effects(Effects::BOLD);
    // `file:line:col: ` comes first where there is a location; the severity word follows.
    let at = match &d.location {
        Some(_) => line.find(&format!(": {severity}: ")).map(|i| i + 2),
        None => Some(0),
    };
    match at {
        Some(at) => {
            let rest = &line[at + severity.len()..];
            format!(
                "{bold}{}{bold:#}{style}{severity}{style:#}{bold}{rest}{bold:#}",
                &line[..at]
            )
        }
        None => format!("{bold}{line}{bold:#}"),
    }
}

/// The byte offset of a 1-based column counted in characters (the end of the line past it).
fn byte_at(text: &str, column: usize) -> usize {
    text.char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(ColorChoice::Auto.decide(true, false));
        assert!(!ColorChoice::Auto.decide(false, false));
        assert!(!ColorChoice::Auto.decide(true, true));
        assert!(ColorChoice::Always.decide(false, true));
        assert!(!ColorChoice::Never.decide(true, false));
    }
}
