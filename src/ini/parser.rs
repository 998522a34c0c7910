//! configparser's reading loop, step for step.

use std::collections::HashSet;
use std::sync::Arc;

// Seeded: the names come from the file, and an unseeded hash lets a file make every
// duplicate check collide.
use foldhash::fast::RandomState;

use super::document::{
    Document, Entry, Section, Tag, ValueText, entry_spans, header_name, stripped,
};
use super::{DEFAULT_SECTION, Parsed};
use crate::diagnostic::{CappedDiagnostics, Diagnostic};
use crate::limits::MAX_CONFIG_SECTIONS;
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
    lines: Vec<Tag>,
    sections: Vec<Section>,
    /// The name of the section being read, shared by the diagnostics about its lines;
    /// made when the first of them is.
    name: Option<Arc<str>>,
    /// A file can have an error on every line: past the first few of a code they are
    /// counted, not built.
    errors: CappedDiagnostics,
    /// Section names and (section, key) pairs seen so far: strict mode's duplicate check.
    /// Names are slices of the text, so the check allocates nothing.
    seen_sections: HashSet<&'a str, RandomState>,
    seen_keys: HashSet<(&'a str, &'a str), RandomState>,
    cursor: Option<Cursor>,
    /// Indentation of the last header or entry line; deeper lines continue its value.
    indent_level: usize,
    /// Only the first line outside any section is reported; the rest follow from it.
    reported_missing_header: bool,
    /// Past [`MAX_CONFIG_SECTIONS`] the rest of the file is not read.
    over_budget: bool,
}

pub(super) fn parse(source: &Arc<SourceFile>) -> Parsed {
    let text = source.text();
    let mut reader = Reader {
        source,
        text,
        lines: Vec::with_capacity(source.line_starts().len()),
        sections: Vec::new(),
        name: None,
        errors: CappedDiagnostics::default(),
        seen_sections: HashSet::default(),
        seen_keys: HashSet::default(),
        cursor: None,
        indent_level: 0,
        reported_missing_header: false,
        over_budget: false,
    };
    let starts = source.line_starts();
    for (i, &start) in starts.iter().enumerate() {
        let next = starts.get(i + 1).copied().unwrap_or(text.len());
        let body_end = start + text[start..next].trim_end_matches(['\r', '\n']).len();
        let tag = reader.read_line(Span::new(start, body_end));
        reader.lines.push(tag);
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
        errors: reader.errors.into_vec(),
    }
}

impl<'a> Reader<'a> {
    fn read_line(&mut self, span: Span) -> Tag {
        if self.over_budget {
            return Tag::Invalid;
        }
        let line = &self.text[span.range()];
        let (stripped, stripped_span) = stripped(self.text, span);
        if stripped.is_empty() {
            // A blank line inside a value is kept (as an empty line) until trailing ones are
            // stripped when the value is finished.
            let text = self.text;
            if let Some(entry) = self.current_entry() {
                entry.value.push_piece(text, "", span.start);
            }
            return Tag::Blank;
        }
        if stripped.starts_with('#') || stripped.starts_with(';') {
            return Tag::Comment;
        }
        let lead = stripped_span.start - span.start;
        let indent = line[..lead].chars().count();

        if indent > self.indent_level {
            let line_index = self.lines.len();
            let text = self.text;
            if let Some(entry) = self.current_entry() {
                entry.value.push_piece(text, stripped, stripped_span.start);
                entry.last_line = line_index;
                return Tag::Continuation;
            }
        }
        self.indent_level = indent;
        if let Some(name_span) = header_name(stripped, stripped_span) {
            return self.header(name_span);
        }
        if self.cursor.is_none() {
            if std::mem::replace(&mut self.reported_missing_header, true) {
                return Tag::Invalid;
            }
            let source = self.source;
            self.errors.push_with("missing-section-header", || {
                Diagnostic::error(
                    "missing-section-header",
                    "this line comes before any [section] header",
                )
                .at(source, stripped_span)
                .with_help(if line.starts_with('\u{feff}') {
                    "the file starts with a UTF-8 byte-order mark, which CherryPy does not skip; save it without one"
                } else {
                    "every key must be inside a section such as [global] or [/]"
                })
            });
            return Tag::Invalid;
        }
        self.entry(stripped, stripped_span)
    }

    fn header(&mut self, name_span: Span) -> Tag {
        let text = self.text;
        let name = &text[name_span.range()];
        if self.sections.len() == MAX_CONFIG_SECTIONS {
            // Each section costs the layers above a settings map, and a path section its
            // resolved session settings: refused before any of it is made.
            self.over_budget = true;
            self.cursor = None;
            self.errors.push_with("config-too-many-sections", || {
                Diagnostic::error(
                    "config-too-many-sections",
                    format!(
                        "this file has more than {MAX_CONFIG_SECTIONS} sections; this section \
                         and the ones after it are not read"
                    ),
                )
                .at(self.source, name_span)
                .in_entry(name, None)
                .with_help("a config holds settings, not data: merge the sections")
            });
            return Tag::Invalid;
        }
        // configparser forgets the option being read at every header.
        if name != DEFAULT_SECTION && !self.seen_sections.insert(name) {
            // configparser stops here; reading on (into a second block of the same name)
            // lets `check` report what else is wrong.
            let source = self.source;
            self.errors.push_with("duplicate-section", || {
                Diagnostic::error(
                    "duplicate-section",
                    format!("section [{name}] already exists"),
                )
                .at(source, Span::new(name_span.start - 1, name_span.end + 1))
                .in_entry(name, None)
                .with_help("merge the two sections into one")
            });
        }
        self.open_section(name_span);
        Tag::Header
    }

    fn open_section(&mut self, name_span: Span) {
        self.name = None;
        self.sections.push(Section {
            name_span,
            header_line: self.lines.len(),
            entries: Vec::new(),
        });
        self.cursor = Some(Cursor {
            section: self.sections.len() - 1,
            entry: None,
        });
    }

    /// The name of the section being read, shared by every diagnostic about it.
    fn section_name(&mut self, section: usize) -> Arc<str> {
        let span = self.sections[section].name_span;
        Arc::clone(
            self.name
                .get_or_insert_with(|| Arc::from(&self.text[span.range()])),
        )
    }

    fn entry(&mut self, stripped: &str, span: Span) -> Tag {
        let Some((key_span, _, value_span)) = entry_spans(stripped, span) else {
            self.invalid(
                span,
                "this line is neither a [section] header nor `key = value`",
            );
            return Tag::Invalid;
        };
        let cursor = self.cursor.expect("entries are read inside a section");
        if key_span.is_empty() {
            // configparser records the error and goes on without an option to continue.
            self.invalid(span, "the key before the separator is empty");
            self.cursor = Some(Cursor {
                entry: None,
                ..cursor
            });
            return Tag::Invalid;
        }
        let text = self.text;
        let key = &text[key_span.range()];
        let section_name = &text[self.sections[cursor.section].name_span.range()];
        if !self.seen_keys.insert((section_name, key)) {
            // configparser stops here; the entry is kept so its continuation lines stay its own.
            let source = self.source;
            let name = self
                .errors
                .keeps("duplicate-option")
                .then(|| self.section_name(cursor.section));
            self.errors.push_with("duplicate-option", || {
                let name = name.expect("made for a diagnostic that is built");
                Diagnostic::error(
                    "duplicate-option",
                    format!("key `{key}` is already set in this section"),
                )
                .at(source, key_span)
                .in_entry(name, Some(key))
                .with_help("CherryPy refuses duplicate keys; keep one of them")
            });
        }
        let line_index = self.lines.len();
        let section = &mut self.sections[cursor.section];
        section.entries.push(Entry {
            key_span,
            value: ValueText::new(value_span),
            first_line: line_index,
            last_line: line_index,
        });
        self.cursor = Some(Cursor {
            entry: Some(section.entries.len() - 1),
            ..cursor
        });
        Tag::Entry
    }

    fn current_entry(&mut self) -> Option<&mut Entry> {
        let cursor = self.cursor?;
        let entry = cursor.entry?;
        self.sections[cursor.section].entries.get_mut(entry)
    }

    fn invalid(&mut self, span: Span, message: &'static str) {
        let line_start = self.line_start(span.start);
        let source = self.source;
        let section = self.cursor.map(|c| c.section);
        let name = match section {
            // Only the diagnostics that are kept need the name.
            Some(section) if self.errors.keeps(INVALID_LINE) => Some(self.section_name(section)),
            _ => None,
        };
        self.errors.push_with(INVALID_LINE, || {
            let mut diagnostic = Diagnostic::error(INVALID_LINE, message)
                .at(source, Span::new(line_start, span.end))
                .with_help("write `key = value`, or start the line with `#` to make it a comment");
            if let Some(name) = name {
                diagnostic = diagnostic.in_entry(name, None);
            }
            diagnostic
        });
    }

    fn line_start(&self, offset: usize) -> usize {
        let starts = self.source.line_starts();
        let i = starts.partition_point(|&s| s <= offset);
        starts[i - 1]
    }
}
