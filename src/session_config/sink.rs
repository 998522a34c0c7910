//! Where the diagnostics of reading session settings go: [`Sink`] keeps each once and counts
//! the text the settings copy, and `at_key`/`at_value` point a diagnostic at the key or the
//! value as written.

use std::collections::HashSet;

use crate::Diagnostic;
use crate::config::FilePlace;
use crate::unrepr::Value;

use super::codes;
use super::table::Opt;

/// Collects diagnostics, each once (a `[DEFAULT]` key is seen in every section, and a
/// setting in `[global]` is checked for every path).
#[derive(Debug, Default)]
pub(super) struct Sink {
    pub(super) diagnostics: Vec<Diagnostic>,
    seen: HashSet<(String, usize, usize, &'static str)>,
    /// Bytes of text the session settings hold so far, over every section: a `[DEFAULT]`
    /// or `[/]` value is copied into the settings of each path section.
    copied: usize,
}

impl Sink {
    pub(super) fn push(&mut self, d: Diagnostic) {
        let id = match &d.location {
            Some(l) => (l.file.name().to_owned(), l.span.start, l.span.end, d.code),
            None => (d.message.clone(), 0, 0, d.code),
        };
        if self.seen.insert(id) {
            self.diagnostics.push(d);
        }
    }

    /// Counts `bytes` more of settings copied from the value at `place`; past
    /// [`MAX_SESSION_SETTINGS_BYTES`](crate::limits::MAX_SESSION_SETTINGS_BYTES) pushes a located
    /// error (the first time) and answers `false`: the caller builds nothing more from it.
    pub(super) fn charge(&mut self, bytes: usize, place: &FilePlace) -> bool {
        let over = self.copied > crate::limits::MAX_SESSION_SETTINGS_BYTES;
        self.copied = self.copied.saturating_add(bytes);
        if self.copied <= crate::limits::MAX_SESSION_SETTINGS_BYTES {
            return true;
        }
        // Said once: every setting after the first one over is refused too, and an error
        // for each would hold as much as the settings.
        if over {
            return false;
        }
        self.push(at_value(
            place,
            Diagnostic::error(
                codes::SESSION_SETTINGS_TOO_LARGE,
                format!(
                    "this value takes the session settings of this config past {} MiB (each section holds its own copy of the settings it inherits)",
                    crate::limits::MAX_SESSION_SETTINGS_BYTES >> 20
                ),
            )
            .with_help("shorten the value, or set it in fewer sections"),
        ));
        false
    }
}

/// A diagnostic about a key.
pub(super) fn at_key(place: &FilePlace, d: Diagnostic) -> Diagnostic {
    d.at(&place.file, place.key_span)
        .in_entry(&place.section, Some(place.key()))
}

/// A diagnostic about a value.
pub(super) fn at_value(place: &FilePlace, d: Diagnostic) -> Diagnostic {
    let span = if place.value_span.is_empty() {
        place.key_span
    } else {
        place.value_span
    };
    d.at(&place.file, span)
        .in_entry(&place.section, Some(place.key()))
}

/// A diagnostic about a setting: at its value where it was written, else (a setting made
/// in code) naming it.
pub(super) fn at_setting(place: Option<&FilePlace>, opt: Opt, d: Diagnostic) -> Diagnostic {
    match place {
        Some(place) => at_value(place, d),
        None => in_code(opt, d),
    }
}

/// A diagnostic about a setting made in code. It has no place in a file to point at, so a
/// note names the setting; the code and message are those a config file's value gets.
pub(super) fn in_code(opt: Opt, d: Diagnostic) -> Diagnostic {
    d.with_note(format!("{}, as set in code", opt.modern()))
}

/// A value of the wrong type.
pub(super) fn type_error(place: &FilePlace, expected: &str, value: &Value, sink: &mut Sink) {
    sink.push(at_value(
        place,
        Diagnostic::error(
            codes::VALUE_TYPE,
            format!("expected {expected}, not {}", value.type_name()),
        ),
    ));
}
