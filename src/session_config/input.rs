//! What the session layer reads: the merged [`Config`], plus the raw text of 2.0 sections,
//! whose values are not Python (2.0 read raw strings with Python 2's plain ConfigParser) and
//! so cannot come from the config layer's evaluated values.

use std::sync::Arc;

use crate::config::{Config, ConfigError, ConfigFile, FilePlace, read_source};
use crate::source::{SourceFile, Span};
use crate::{Diagnostic, ini};

use super::era::{EraEvidence, SECTIONS_2_0, has_2_0_sections};

/// A 2.0 `key = value`, value as written.
#[derive(Debug, Clone)]
pub(super) struct RawEntry {
    pub(super) raw: String,
    pub(super) place: FilePlace,
}

/// 2.0 sections and every key name, next to the merged config.
#[derive(Debug, Default)]
pub(super) struct Raw {
    /// `[session]` entries, in file order.
    pub(super) session: Vec<RawEntry>,
    /// `[staticContent]` entries (`url = directory`).
    pub(super) static_content: Vec<RawEntry>,
    /// What the name of every entry says of the era.
    pub(super) era: EraEvidence,
    /// 2.0 values whose `%(name)s` Python 2's `ConfigParser.get` could not interpolate.
    pub(super) interpolation_errors: Vec<(FilePlace, ini::InterpolationError)>,
    /// Lines of 2.0 files that Python 2's `ConfigParser` refused (2.0 did not start).
    pub(super) refused_2_0: Vec<Diagnostic>,
}

impl Raw {
    /// From documents: exact raw text of every entry.
    pub(super) fn from_files(files: &[ConfigFile]) -> Self {
        let mut raw = Raw::default();
        for file in files {
            raw.add_document(file.document());
        }
        raw
    }

    fn add_document(&mut self, document: &ini::Document) {
        let source = document.source();
        if has_2_0_sections(document) {
            self.refused_2_0.extend(
                ini::refused_lines_2_0(document)
                    .into_iter()
                    .map(|line| super::legacy::refused_line_2_0(document, line)),
            );
        }
        let mut budget = ini::InterpolationBudget::default();
        for section in document.sections() {
            let name = section.name(source);
            let section_name: Arc<str> = Arc::from(name);
            // The section's `%(name)s` values, made when a value first names one.
            let mut vars = None;
            for entry in &section.entries {
                self.era.see(name, entry.key(source));
                let target = match name {
                    "session" => &mut self.session,
                    "staticContent" => &mut self.static_content,
                    _ => continue,
                };
                // 2.0 read the value with Python 2's rules (an inline `;` comment cut, `""`
                // empty), not CherryPy 18's.
                let value = ini::value_2_0(document, entry);
                let value_span = if value.span.is_empty() {
                    Span::new(entry.key_span.end, entry.key_span.end)
                } else {
                    value.span
                };
                let place = FilePlace {
                    file: Arc::clone(source),
                    section: Arc::clone(&section_name),
                    key_span: entry.key_span,
                    value_span,
                };
                // ...and with `ConfigParser.get`'s `%(name)s` interpolation.
                let raw = if value.text.contains("%(") {
                    let vars = vars.get_or_insert_with(|| ini::vars_2_0(document, section));
                    match ini::interpolate_2_0(&value.text, vars, &mut budget) {
                        Ok(text) => text,
                        Err(error) => {
                            self.interpolation_errors.push((place, error));
                            continue;
                        }
                    }
                } else {
                    value.text
                };
                target.push(RawEntry { raw, place });
            }
        }
    }

    /// From a merged config only: 2.0 values are recovered from their spans. Keys whose
    /// value CherryPy 18 cannot read (an unquoted path) are missing from a [`Config`]; read
    /// 2.0 files with [`read_tolerant`] instead.
    pub(super) fn from_config(config: &Config) -> Self {
        let mut raw = Raw::default();
        for (name, settings) in config.sections() {
            for (key, setting) in settings.iter() {
                raw.era.see(name, key);
                let target = match name {
                    "session" => &mut raw.session,
                    "staticContent" => &mut raw.static_content,
                    _ => continue,
                };
                let mut place = setting.origin.place().clone();
                // The value's first line, read with Python 2's rules as 2.0 did.
                let (span, raw) = ini::first_line_2_0(place.file.text(), place.value_span.start);
                let raw = raw.to_owned();
                if !span.is_empty() {
                    place.value_span = span;
                }
                target.push(RawEntry { raw, place });
            }
        }
        raw
    }
}

/// Reads files as CherryPy 18 does, except that the values of 2.0 sections are not
/// Python: their value errors and warnings are dropped (the session layer reads them raw).
/// Stops at the first other error. Returns the files and the config layer's warnings.
pub(super) fn read_tolerant(
    sources: &[Arc<SourceFile>],
) -> Result<(Vec<ConfigFile>, Vec<Diagnostic>), ConfigError> {
    let mut files = Vec::with_capacity(sources.len());
    let mut warnings = Vec::new();
    for source in sources {
        let report = read_source(source);
        let Some(file) = report.file else {
            let first = report.diagnostics.into_iter().find(Diagnostic::is_error);
            return Err(first
                .unwrap_or_else(|| Diagnostic::error("ini-syntax", "the file cannot be read"))
                .into());
        };
        let is_2_0 = has_2_0_sections(file.document());
        let kept = report.diagnostics.into_iter().filter(|d| {
            let in_2_0 = d
                .location
                .as_ref()
                .and_then(|l| l.section.as_deref())
                .is_some_and(|s| SECTIONS_2_0.contains(&s));
            !(is_2_0 && in_2_0)
        });
        for d in kept {
            if d.is_error() {
                return Err(d.into());
            }
            warnings.push(d);
        }
        files.push(file);
    }
    Ok((files, warnings))
}
