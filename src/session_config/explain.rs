//! `cherrypy-config explain`: the effective session settings of one file for one path, with
//! the origin of each, the file's era and every warning. The rows, their order and when
//! each is shown come from the settings table (`table.rs`).

use std::path::Path;
use std::sync::Arc;

use crate::Diagnostic;
use crate::config::ConfigError;
use crate::source::SourceFile;
use serde_json::{Value as Json, json};

use super::build::SessionConfigs;
use super::era::EraReport;
use super::spec::Show;
use super::table::SessionConfig;
use super::types::StorageKind;

/// What `explain` reports for one file and one path.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The file's name as given.
    pub file: String,
    /// The request path explained.
    pub path: String,
    /// The file's era.
    pub era: EraReport,
    /// The effective settings for `path`.
    pub session: SessionConfig,
    /// Every warning about the file, in file order.
    pub warnings: Vec<Diagnostic>,
}

/// Explains one file (already in memory) for a request path; errors are the first error
/// CherryPy (or the session layer) would stop at.
pub fn explain(source: &Arc<SourceFile>, path: &str) -> Result<Explanation, ConfigError> {
    let loaded = SessionConfigs::from_sources(std::slice::from_ref(source))?;
    let mut warnings = loaded.warnings;
    warnings.sort_by_key(|d| d.location.as_ref().map(|l| (l.span.start, l.span.end)));
    Ok(Explanation {
        file: source.name().to_owned(),
        path: path.to_owned(),
        era: loaded.value.era().clone(),
        session: loaded.value.session_for_path(path).clone(),
        warnings,
    })
}

/// Reads a file from disk and explains it (see [`explain`]).
pub fn explain_file(file: impl AsRef<Path>, path: &str) -> Result<Explanation, ConfigError> {
    let source = SourceFile::read(file).map_err(|e| ConfigError::from(Diagnostic::from(e)))?;
    explain(&source, path)
}

impl Explanation {
    /// `{"file", "path", "era", "session": {...}, "warnings": [{"line", "message"}]}`.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn to_json(&self) -> Json {
        let warnings: Vec<Json> = self
            .warnings
            .iter()
            .map(|d| json!({"line": d.line_column().map(|(l, _)| l), "message": d.message}))
            .collect();
        json!({
            "file": self.file,
            "path": self.path,
            "era": self.era.label(),
            "session": Json::Object(self.fields(false).into_iter().map(|(k, v, _)| (k.to_owned(), v)).collect()),
            "warnings": warnings,
        })
    }

    /// One line per setting, `name = value    (origin)`, after a header line; then one
    /// line per warning.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "# {} path {} era {}\n",
            self.file,
            self.path,
            self.era.label()
        );
        for (name, value, origin) in self.fields(true) {
            out.push_str(&format!("{name} = {value}    ({origin})\n"));
        }
        for d in &self.warnings {
            out.push_str(&format!("{d}\n"));
        }
        out
    }

    /// `(name, JSON value, origin)` of every row shown, in the table's order; `text`: for
    /// the text form, which also shows the rows the JSON leaves out (`debug`).
    fn fields(&self, text: bool) -> Vec<(&'static str, Json, String)> {
        let s = &self.session;
        let storage = s.storage.value.kind();
        s.explain_rows()
            .into_iter()
            .filter(|row| match row.show {
                Show::Always => true,
                Show::Text => text,
                Show::WhenSet => !row.origin.is_default(),
                Show::Custom => storage == StorageKind::Custom,
                Show::Redis | Show::RedisSecret | Show::RedisUrl => storage == StorageKind::Redis,
            })
            .map(|row| {
                // A password is shown as set or not, never printed.
                let value = match (row.show, row.value.as_str()) {
                    (Show::RedisSecret, _) if !row.value.is_null() => json!("********"),
                    (Show::RedisUrl, Some(url)) => json!(without_credentials(url)),
                    _ => row.value,
                };
                (row.name, value, row.origin.to_string())
            })
            .collect()
    }
}

/// A URL with what it says before `@` (a user and a password) masked:
/// `redis://:hunter2@host/0` is shown `redis://********@host/0`.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://********{}", &rest[at..]),
        None => url.to_owned(),
    }
}
