//! One file read the way CherryPy's `reprconf.Parser.as_dict` reads it: every section but
//! `[DEFAULT]`, in file order; in each, its own keys and then the `[DEFAULT]` keys it does not
//! define; every value interpolated, then parsed as a Python literal.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

// Keyed by text from the file: a seeded hasher, so that no file can be written whose keys
// all collide (an unseeded hash would make reading it quadratic).
use foldhash::fast::RandomState;
use indexmap::IndexMap;

use super::origin::{FilePlace, Origin};
use super::{ConfigValue, Settings};
use crate::diagnostic::{CappedDiagnostics, Diagnostic, cap_repeated};
use crate::ini::{self, DEFAULT_SECTION, Document, Entry};
use crate::limits::{MAX_CONFIG_SETTINGS, MAX_CONFIG_VALUE_BYTES};
use crate::source::{SourceFile, Span};
use crate::unrepr;

/// A config file as CherryPy reads it.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    document: Document,
    sections: IndexMap<String, Settings>,
}

impl ConfigFile {
    /// The file's text.
    pub fn source(&self) -> &Arc<SourceFile> {
        self.document.source()
    }

    /// The lossless document the values were read from.
    pub(crate) fn document(&self) -> &Document {
        &self.document
    }

    /// Sections in file order, `[DEFAULT]` merged into each and not listed itself.
    pub fn sections(&self) -> &IndexMap<String, Settings> {
        &self.sections
    }
}

/// What reading a file found: the file (unless the INI layer failed), and every diagnostic.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The values, when the INI structure could be read. With value errors, the bad keys are
    /// missing.
    pub file: Option<ConfigFile>,
    /// Errors and warnings in CherryPy's reading order; the first error is the one CherryPy
    /// would raise.
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    /// The error CherryPy would raise first, if any.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics.iter().find(|d| d.is_error())
    }
}

/// Reads a file and reports everything wrong with it (the `check` view).
pub fn read_source(source: &Arc<SourceFile>) -> FileReport {
    let parsed = ini::parse(source);
    let mut diagnostics = Vec::new();
    if let Some(first) = parsed.first_error() {
        // The one CherryPy raises first, then the rest in file order, then what is wrong
        // with the values that could be read, so `check` shows everything at once.
        diagnostics.push(first.clone());
        diagnostics.extend(parsed.errors.iter().filter(|d| *d != first).cloned());
        let mut found = CappedDiagnostics::default();
        evaluate(&parsed.document, &mut found);
        diagnostics.extend(found.into_vec());
        return FileReport {
            file: None,
            diagnostics: cap_repeated(diagnostics),
        };
    }
    let document = parsed.document;
    let mut found = CappedDiagnostics::default();
    let sections = evaluate(&document, &mut found);
    FileReport {
        file: Some(ConfigFile { document, sections }),
        diagnostics: cap_repeated(found.into_vec()),
    }
}

/// Reads the values. A file can have an error on every line: `diagnostics` builds the first
/// few of each code and counts the rest.
fn evaluate(
    document: &Document,
    diagnostics: &mut CappedDiagnostics,
) -> IndexMap<String, Settings> {
    let source = document.source();
    type Keys<'d> = IndexMap<&'d str, &'d Entry, RandomState>;
    let mut defaults = Keys::default();
    // Each section's keys, and where its (first) header names it.
    let mut named: IndexMap<&str, (Keys<'_>, Span), RandomState> = IndexMap::default();
    for section in document.sections() {
        let name = section.name(source);
        let target = if name == DEFAULT_SECTION {
            &mut defaults
        } else {
            &mut named
                .entry(name)
                .or_insert_with(|| (Keys::default(), section.name_span))
                .0
        };
        for entry in &section.entries {
            target.insert(entry.key(source), entry);
        }
    }
    // A `[DEFAULT]` value without `%` reads the same in every section: parse it once, and
    // share the value (and its key) among the sections, so a large value is held once.
    let mut default_cache: HashMap<&str, Result<Shared, unrepr::ValueError>, RandomState> =
        HashMap::default();
    let mut default_keys: HashMap<&str, Arc<str>, RandomState> = HashMap::default();
    // Whether a `[DEFAULT]` value has a `%`, found once: it is read in every section.
    let default_interpolated: HashMap<&str, bool, RandomState> = defaults
        .iter()
        .map(|(k, e)| (*k, e.value.text(source).contains('%')))
        .collect();
    // Interpolation reads values that name others again and again: one budget for the file.
    let mut interpolation_budget = ini::InterpolationBudget::default();
    // What was said about each `[DEFAULT]` key, read once per section (a key of the section
    // itself is read once: what is said about it is remembered only while it is read).
    let mut reported_defaults: HashSet<(Span, &'static str), RandomState> = HashSet::default();
    let default_name: Arc<str> = Arc::from(DEFAULT_SECTION);
    // What the values built so far stand for (a shared `[DEFAULT]` value counts once).
    let mut built = 0usize;
    let mut sections = IndexMap::with_capacity(named.len());
    // Settings held in all, `[DEFAULT]`'s counted once in every section that inherits them.
    let mut held = 0usize;
    for (name, (own, header)) in &named {
        let inherits = defaults.keys().filter(|k| !own.contains_key(*k)).count();
        held = held.saturating_add(own.len() + inherits);
        if held > MAX_CONFIG_SETTINGS {
            // configparser copies every `[DEFAULT]` key into every section: a few
            // thousand of each make millions of settings from a small file.
            diagnostics.push(
                Diagnostic::error("config-too-many-settings", too_many_settings_message())
                    .at(source, *header)
                    .in_entry(*name, None),
            );
            break;
        }
        let mut settings = Settings::default();
        let section_name: Arc<str> = Arc::from(*name);
        let keys = own.iter().map(|(k, e)| (*k, *e, &section_name)).chain(
            defaults
                .iter()
                .filter(|(k, _)| !own.contains_key(*k))
                .map(|(k, e)| (*k, *e, &default_name)),
        );
        for (key, entry, written_in) in keys {
            let from_default = Arc::ptr_eq(written_in, &default_name);
            let mut reported_here = HashSet::default();
            let reported = if from_default {
                &mut reported_defaults
            } else {
                &mut reported_here
            };
            let lookup = |var: &str| {
                own.get(var)
                    .or_else(|| defaults.get(var))
                    .map(|e| e.value.text(source))
            };
            let raw = entry.value.text(source);
            let interpolated = if from_default {
                default_interpolated[key]
            } else {
                raw.contains('%')
            };
            if built > MAX_CONFIG_VALUE_BYTES {
                // Past the budget nothing more is built: a `[DEFAULT]` key with `%` would
                // otherwise still be expanded in every section.
                let d = Diagnostic::error("config-values-too-large", too_large_message())
                    .at(source, entry.key_span)
                    .in_entry(&section_name, Some(key));
                push_once(diagnostics, reported, inherited(d, from_default));
                continue;
            }
            let expanded = if interpolated {
                ini::interpolate(raw, &lookup, &mut interpolation_budget)
            } else {
                Ok(Cow::Borrowed(raw))
            };
            let text = match expanded {
                Ok(text) => {
                    if let Cow::Owned(expanded) = &text {
                        built = built.saturating_add(expanded.len());
                    }
                    text
                }
                Err(err) => {
                    let d = Diagnostic::error(err.code(), err.to_string())
                        .at(source, entry.key_span)
                        .in_entry(&section_name, Some(key));
                    push_once(diagnostics, reported, inherited(d, from_default));
                    continue;
                }
            };
            let parsed = if from_default && !interpolated {
                default_cache
                    .entry(key)
                    .or_insert_with(|| within_budget(raw, &mut built))
                    .clone()
            } else {
                within_budget(&text, &mut built)
            };
            // Spans inside an interpolated value do not map back to the file: use the key.
            let locate = |range: std::ops::Range<usize>| {
                if interpolated {
                    entry.key_span
                } else {
                    entry.value.source_span(range)
                }
            };
            match parsed {
                Ok(parsed) => {
                    for w in parsed.warnings {
                        let mut d = Diagnostic::warning(w.code, w.message)
                            .at(source, locate(w.span))
                            .in_entry(&section_name, Some(key));
                        if let Some(help) = w.help {
                            d = d.with_help(help);
                        }
                        push_once(diagnostics, reported, inherited(d, from_default));
                    }
                    let place = FilePlace {
                        file: Arc::clone(source),
                        section: Arc::clone(written_in),
                        key_span: entry.key_span,
                        value_span: entry.value.source_span(0..entry.value.len()),
                    };
                    let key: Arc<str> = if from_default {
                        Arc::clone(default_keys.entry(key).or_insert_with(|| Arc::from(key)))
                    } else {
                        Arc::from(key)
                    };
                    settings.insert(
                        key,
                        ConfigValue {
                            value: parsed.value,
                            origin: Origin::File(place),
                        },
                    );
                }
                Err(err) => {
                    let mut d = Diagnostic::error(err.code, err.message)
                        .at(source, locate(err.span))
                        .in_entry(&section_name, Some(key));
                    if let Some(help) = err.help {
                        d = d.with_help(help);
                    }
                    push_once(diagnostics, reported, inherited(d, from_default));
                }
            }
        }
        sections.insert(name.to_string(), settings);
    }
    sections
}

/// The value `text` reads as, unless the values of the file built so far and this one
/// stand for more than [`MAX_CONFIG_VALUE_BYTES`]: each value is bounded, but a few bytes
/// can name a large one (`'a' * 16000000`), and a file can have many. What a value builds
/// and does not keep counts too, whether it reads or fails: so a file of values that each
/// build much and keep little, or fail, asks for a bounded amount of work.
fn within_budget(text: &str, built: &mut usize) -> Result<Shared, unrepr::ValueError> {
    let mut spent = 0;
    let parsed = unrepr::parse_counted(text, &mut spent);
    let kept = parsed.as_ref().map_or(0, |p| unrepr::weight(&p.value));
    *built = built.saturating_add(spent.max(kept));
    let parsed = parsed?;
    if *built > MAX_CONFIG_VALUE_BYTES {
        return Err(unrepr::ValueError {
            code: "config-values-too-large",
            message: too_large_message(),
            help: Some("a config holds settings, not data: shorten the long values".into()),
            span: 0..0,
        });
    }
    Ok(Shared::from(parsed))
}

fn too_many_settings_message() -> String {
    format!(
        "the sections of this file hold more than {MAX_CONFIG_SETTINGS} settings, counting the \
         [DEFAULT] keys each one inherits; this section and the ones after it are not read"
    )
}

fn too_large_message() -> String {
    format!(
        "the values of this file stand for more than {} MiB once built; this one is not read",
        MAX_CONFIG_VALUE_BYTES >> 20
    )
}

/// A parsed value that sections share.
#[derive(Clone)]
struct Shared {
    value: Arc<unrepr::Value>,
    warnings: Vec<unrepr::ValueWarning>,
}

impl From<unrepr::Parsed> for Shared {
    fn from(parsed: unrepr::Parsed) -> Self {
        Self {
            value: Arc::new(parsed.value),
            warnings: parsed.warnings,
        }
    }
}

fn inherited(d: Diagnostic, from_default: bool) -> Diagnostic {
    if from_default {
        d.with_note("the key is inherited from [DEFAULT]")
    } else {
        d
    }
}

/// A `[DEFAULT]` key is read once per section; say what is wrong with it once.
fn push_once(
    diagnostics: &mut CappedDiagnostics,
    reported: &mut HashSet<(Span, &'static str), RandomState>,
    d: Diagnostic,
) {
    let id = (
        d.location.as_ref().map(|l| l.span).unwrap_or_default(),
        d.code,
    );
    if reported.insert(id) {
        diagnostics.push(d);
    }
}
