//! configparser's reading loop, step for step.

use std::collections::HashSet;
use std::sync::Arc;

// Seeded: the names come from the file, and an unseeded hash lets a file make every
// duplicate check collide.
use foldhash::fast::RandomState;

use super::document::{Document, Entry, Line, LineKind, Section, ValueText};
use super::{DEFAULT_SECTION, Parsed, is_py_space};
use crate::diagnostic::Diagnostic;
use crate::source::{SourceFile, Span};

pub(super) const INVALID_LINE: &str = "invalid-line";

/// Where the entry being read lives: which section block, which entry.
#[derive(Clone, Copy)]
struct Cursor {
    section: usize,
    entry: Option<usize>,
}

struct Reader<'a> {
    source: &'a Arc<SourceFile>,
    text: &'a str,
    lines: Vec<Line>,
    sections: Vec<Section>,
    /// The name of each of `sections`, shared by the diagnostics about its lines.
    names: Vec<Arc<str>>,
    errors: Vec<Diagnostic>,
    /// Section names and (section, key) pairs seen so far: strict mode's duplicate check.
    /// Names are slices of the text, so the check allocates nothing.
    seen_sections: HashSet<&'a str, RandomState>,
    seen_keys: HashSet<(&'a str, &'a str), RandomState>,
    cursor: Option<Cursor>,
    /// Indentation of the last header or entry line; deeper lines continue its value.
    indent_level: usize,
    /// Only the first line outside any section is reported; the rest follow from it.
    reported_missing_header: bool,
}

pub(super) fn parse(source: &Arc<SourceFile>) -> Parsed {
    let text = source.text();
    let mut reader = Reader {
        source,
        text,
        lines: Vec::with_capacity(source.line_starts().len()),
        sections: Vec::new(),
        names: Vec::new(),
        errors: Vec::new(),
        seen_sections: HashSet::default(),
        seen_keys: HashSet::default(),
        cursor: None,
        indent_level: 0,
        reported_missing_header: false,
    };
    let starts = source.line_starts();
    for (i, &start) in starts.iter().enumerate() {
        let next = starts.get(i + 1).copied().unwrap_or(text.len());
        let body_end = start + text[start..next].trim_end_matches(['\r', '\n']).len();
        let span = Span::new(start, body_end);
        let ending = Span::new(body_end, next);
        let kind = reader.read_line(span);
        reader.lines.push(Line { span, ending, kind });
    }
    for section in &mut reader.sections {
        for entry in &mut section.entries {
            entry.value.finish();
        }
    }
    Parsed {
        document: Document {
            source: Arc::clone(source),
            lines: reader.lines,
            sections: reader.sections,
        },
        errors: reader.errors,
    }
}

impl<'a> Reader<'a> {
    fn read_line(&mut self, span: Span) -> LineKind {
        let line = &self.text[span.range()];
        let stripped = super::py_strip(line);
        if stripped.is_empty() {
            // A blank line inside a value is kept (as an empty line) until trailing ones are
            // stripped when the value is finished.
            if let Some(entry) = self.current_entry() {
                entry.value.push_piece("", span.start);
            }
            return LineKind::Blank;
        }
        if stripped.starts_with('#') || stripped.starts_with(';') {
            return LineKind::Comment;
        }
        let lead = line.len() - line.trim_start_matches(is_py_space).len();
        let indent = line[..lead].chars().count();
        let start = span.start + lead;
        let stripped_span = Span::new(start, start + stripped.len());

        if indent > self.indent_level
            && let Some(entry) = self.current_entry()
        {
            entry.value.push_piece(stripped, stripped_span.start);
            let line_index = self.lines.len();
            if let Some(entry) = self.current_entry() {
                entry.last_line = line_index;
            }
            return LineKind::Continuation {
                value: stripped_span,
            };
        }
        self.indent_level = indent;
        if let Some(name) = header_name(stripped) {
            let name_span = Span::new(start + 1, start + 1 + name.len());
            return self.header(name, name_span);
        }
        if self.cursor.is_none() {
            if std::mem::replace(&mut self.reported_missing_header, true) {
                return LineKind::Invalid;
            }
            self.errors.push(
                Diagnostic::error(
                    "missing-section-header",
                    "this line comes before any [section] header",
                )
                .at(self.source, stripped_span)
                .with_help(if line.starts_with('\u{feff}') {
                    "the file starts with a UTF-8 byte-order mark, which CherryPy does not skip; save it without one"
                } else {
                    "every key must be inside a section such as [global] or [/]"
                }),
            );
            return LineKind::Invalid;
        }
        self.entry(stripped, stripped_span)
    }

    fn header(&mut self, name: &str, name_span: Span) -> LineKind {
        // configparser forgets the option being read at every header.
        if name == DEFAULT_SECTION {
            self.open_section(name, name_span);
            return LineKind::Header { name: name_span };
        }
        if !self.seen_sections.insert(&self.text[name_span.range()]) {
            // configparser stops here; reading on (into a second block of the same name)
            // lets `check` report what else is wrong.
            self.errors.push(
                Diagnostic::error(
                    "duplicate-section",
                    format!("section [{name}] already exists"),
                )
                .at(
                    self.source,
                    Span::new(name_span.start - 1, name_span.end + 1),
                )
                .in_entry(name, None)
                .with_help("merge the two sections into one"),
            );
        }
        self.open_section(name, name_span);
        LineKind::Header { name: name_span }
    }

    fn open_section(&mut self, name: &str, name_span: Span) {
        self.names.push(name.into());
        self.sections.push(Section {
            name: name.to_owned(),
            name_span,
            header_line: self.lines.len(),
            entries: Vec::new(),
        });
        self.cursor = Some(Cursor {
            section: self.sections.len() - 1,
            entry: None,
        });
    }

    fn entry(&mut self, stripped: &str, span: Span) -> LineKind {
        let Some(sep) = stripped.find(['=', ':']) else {
            self.invalid(
                span,
                "this line is neither a [section] header nor `key = value`",
            );
            return LineKind::Invalid;
        };
        let key = stripped[..sep].trim_end_matches(is_py_space);
        let value = super::py_strip(&stripped[sep + 1..]);
        let value_start =
            span.start + stripped.len() - stripped[sep + 1..].trim_start_matches(is_py_space).len();
        let key_span = Span::new(span.start, span.start + key.len());
        let separator = Span::new(span.start + sep, span.start + sep + 1);
        let value_span = Span::new(value_start, value_start + value.len());
        let cursor = self.cursor.expect("entries are read inside a section");
        if key.is_empty() {
            // configparser records the error and goes on without an option to continue.
            self.invalid(span, "the key before the separator is empty");
            self.cursor = Some(Cursor {
                entry: None,
                ..cursor
            });
            return LineKind::Invalid;
        }
        let section_name = &self.text[self.sections[cursor.section].name_span.range()];
        if !self
            .seen_keys
            .insert((section_name, &self.text[key_span.range()]))
        {
            // configparser stops here; the entry is kept so its continuation lines stay its own.
            self.errors.push(
                Diagnostic::error(
                    "duplicate-option",
                    format!("key `{key}` is already set in this section"),
                )
                .at(self.source, key_span)
                .in_entry(&self.names[cursor.section], Some(key))
                .with_help("CherryPy refuses duplicate keys; keep one of them"),
            );
        }
        let mut text = ValueText::default();
        text.push_piece(value, value_span.start);
        let line_index = self.lines.len();
        let section = &mut self.sections[cursor.section];
        section.entries.push(Entry {
            key: key.to_owned(),
            key_span,
            value: text,
            first_line: line_index,
            last_line: line_index,
        });
        self.cursor = Some(Cursor {
            entry: Some(section.entries.len() - 1),
            ..cursor
        });
        LineKind::Entry {
            key: key_span,
            separator,
            value: value_span,
        }
    }

    fn current_entry(&mut self) -> Option<&mut Entry> {
        let cursor = self.cursor?;
        let entry = cursor.entry?;
        self.sections[cursor.section].entries.get_mut(entry)
    }

    fn invalid(&mut self, span: Span, message: &str) {
        let line_start = self.line_start(span.start);
        let mut diagnostic = Diagnostic::error(INVALID_LINE, message)
            .at(self.source, Span::new(line_start, span.end))
            .with_help("write `key = value`, or start the line with `#` to make it a comment");
        if let Some(cursor) = self.cursor {
            diagnostic = diagnostic.in_entry(&self.names[cursor.section], None);
        }
        self.errors.push(diagnostic);
    }

    fn line_start(&self, offset: usize) -> usize {
        let starts = self.source.line_starts();
        let i = starts.partition_point(|&s| s <= offset);
        starts[i - 1]
    }
}

/// configparser's `\[(?P<header>.+)\]` matched at the start of the stripped line: the name runs
/// to the *last* `]`, and anything after it is ignored (`[global] # x` is `global`).
fn header_name(stripped: &str) -> Option<&str> {
    let rest = stripped.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    (close > 0).then(|| &rest[..close])
}
