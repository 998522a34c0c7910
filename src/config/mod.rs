//! CherryPy's view of config files: `[global]`, path sections (`[/]`, `[/admin]`), per-path
//! inheritance, `environment` presets, and the namespaces CherryPy knows.

mod environment;
#[cfg(feature = "json")]
mod json;
mod model;
mod namespaces;
mod origin;
pub(crate) mod path_index;
mod read;

use std::sync::Arc;

use indexmap::IndexMap;

#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use json::{error_json, report_json, write_report_json};
#[cfg(test)]
pub(crate) use model::path_prefixes;
pub use model::{Config, GLOBAL_SECTION};
pub use origin::{FilePlace, Origin};
pub use read::{ConfigFile, FileReport, read_source};
// The text of a config file and places in it: what `read_source` reads and what every
// diagnostic points into.
pub use crate::source::{SourceError, SourceFile, Span};

use crate::diagnostic::Diagnostic;
use crate::unrepr::Value;

/// One setting: its value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue {
    /// The value, as CherryPy's `unrepr` reads it (never executed). Shared: a `[DEFAULT]`
    /// key is the same value in every section, and merging sections per path copies
    /// settings, so a large value is held once, not once per section.
    pub value: Arc<Value>,
    /// Where it was written.
    pub origin: Origin,
}

/// A shared value compares with a plain one (`setting.value == Value::None`).
impl PartialEq<Value> for Arc<Value> {
    fn eq(&self, other: &Value) -> bool {
        **self == *other
    }
}

/// The keys of one section (or of a merged view), in CherryPy's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Keys are shared for the same reason as values: a `[DEFAULT]` key is in every section.
    /// The map itself is shared until it is changed: merging files copies every section
    /// that only one file writes, and each request path starts from the global settings.
    // Seeded: the keys come from the file.
    entries: Arc<IndexMap<Arc<str>, ConfigValue, foldhash::fast::RandomState>>,
}

impl Settings {
    /// The setting for a key.
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.entries.get(key)
    }

    /// Sets a key; an existing key keeps its position, as a Python dict update does.
    pub fn insert(&mut self, key: impl Into<Arc<str>>, value: ConfigValue) {
        Arc::make_mut(&mut self.entries).insert(key.into(), value);
    }

    /// Adds every key of `other`, later wins (Python's `dict.update`).
    pub fn update(&mut self, other: &Settings) {
        if self.entries.is_empty() {
            self.entries = Arc::clone(&other.entries);
            return;
        }
        let entries = Arc::make_mut(&mut self.entries);
        for (k, v) in other.entries.iter() {
            entries.insert(k.clone(), v.clone());
        }
    }

    /// Keys and settings in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Whether a key is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A config that cannot be used: the first error CherryPy would raise, located.
#[derive(Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(Box<Diagnostic>);

/// The located line, as `Display` writes it: `fn main() -> Result<(), Box<dyn Error>>`
/// prints an error with `{:?}`, and should print what the log and `check` say.
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl ConfigError {
    /// The located diagnostic.
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.0
    }

    /// Takes the diagnostic out.
    pub fn into_diagnostic(self) -> Diagnostic {
        *self.0
    }
}

impl From<Diagnostic> for ConfigError {
    fn from(d: Diagnostic) -> Self {
        Self(Box::new(d))
    }
}
