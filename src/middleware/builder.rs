//! Several config files and values set in code, layered as CherryPy's `config.update`
//! layers them: a later layer wins, section by section and key by key.

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

use super::{CherryPySessions, Startup, Unreachable};
use crate::config::ConfigError;
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use crate::store::{AnyStore, SessionStore};

/// The name values set in code are read under; errors and `explain` point into it.
const CODE: &str = "<code>";

/// Builds [`CherryPySessions`] from several layers: config files in order, then values set
/// in code, which keep CherryPy's per-path sections. Made by [`CherryPySessions::builder`].
///
/// ```
/// use actix_cherrypy::middleware::CherryPySessions;
///
/// let sessions = CherryPySessions::builder()
///     .file("fixtures/site.conf")
///     // A value as a config file spells it (a Python literal), in a section of its own.
///     .set("/admin", "tools.sessions.timeout", "5")
///     .build()?;
/// # Ok::<(), actix_cherrypy::config::ConfigError>(())
/// ```
///
/// CherryPy reads no environment variables for its config, so neither does this: an
/// environment's differences go in a file of their own, layered after the site's.
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct CherryPySessionsBuilder {
    files: Vec<PathBuf>,
    /// `(section, key, value)`, in the order they were set.
    values: Vec<(String, String, String)>,
    startup: Startup,
}

impl CherryPySessionsBuilder {
    /// A config file, read after the ones before it: its values win over theirs.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// `key = value` in `section` (`"global"` or a path such as `"/admin"`), read after
    /// every file. `value` is written as in a config file, a Python literal: `"5"`,
    /// `"'ram'"`, `"True"`. Errors in it are reported at `<code>:LINE`.
    pub fn set(
        mut self,
        section: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.values.push((section.into(), key.into(), value.into()));
        self
    }

    /// What to do when a memcached or Redis server cannot be reached at startup: refuse
    /// to start (the default) or start and log a warning.
    pub fn unreachable_store(mut self, unreachable: Unreachable) -> Self {
        self.startup.unreachable = unreachable;
        self
    }

    /// A store of the application's own, for the paths whose config names `class` as
    /// `tools.sessions.storage_class` (the dotted name as written, unquoted:
    /// `storage_class = myapp.sessions.PgSession`). CherryPy would import and run that
    /// class; here the application hands over a [`SessionStore`] that does its job. A
    /// config naming a class no store is registered for is refused at startup.
    ///
    /// ```
    /// use actix_cherrypy::CherryPySessions;
    /// use actix_cherrypy::store::RamStore;
    ///
    /// # let dir = std::env::temp_dir().join("actix-cherrypy-doc-storage-class");
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let site = dir.join("site.conf");
    /// std::fs::write(&site, "[/]\ntools.sessions.on = True\ntools.sessions.storage_class = myapp.sessions.PgSession\n")?;
    /// let ours = RamStore::new(); // stands in for the application's own store
    /// let sessions = CherryPySessions::builder()
    ///     .file(&site)
    ///     .storage_class("myapp.sessions.PgSession", ours)
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn storage_class(mut self, class: impl Into<String>, store: impl SessionStore) -> Self {
        self.startup
            .classes
            .push((class.into(), AnyStore::custom(store)));
        self
    }

    /// Reads every layer and opens the stores; the first error is returned, located.
    pub fn build(self) -> Result<CherryPySessions, ConfigError> {
        // Logged as the warnings are, in the same words as `check`: an application whose
        // logs go to a collector records why it did not start, whatever it does with the
        // error (inside `HttpServer::new`, a panic on a worker thread).
        self.read_and_open()
            .inspect_err(|err| tracing::error!("{err}"))
    }

    fn read_and_open(self) -> Result<CherryPySessions, ConfigError> {
        let mut sources = self
            .files
            .iter()
            .map(|p| SourceFile::read(p).map_err(|e| ConfigError::from(Diagnostic::from(e))))
            .collect::<Result<Vec<Arc<SourceFile>>, _>>()?;
        if !self.values.is_empty() {
            sources.push(SourceFile::new(CODE, code_layer(&self.values)?));
        }
        CherryPySessions::from_sources(&sources, &self.startup)
    }
}

/// The values set in code as one more config file, a section per name in first-use
/// order. A name or key that would change the file's shape (a newline, a bracket) is
/// refused rather than written.
fn code_layer(values: &[(String, String, String)]) -> Result<String, ConfigError> {
    let mut sections: Vec<(&str, Vec<(&str, &str)>)> = Vec::new();
    for (section, key, value) in values {
        let bad = |what: &str, text: &str| {
            ConfigError::from(Diagnostic::error(
                "code-value",
                format!("a {what} set in code cannot hold {text:?}"),
            ))
        };
        if section.contains(['\n', '\r', ']']) || section.is_empty() {
            return Err(bad("section name", section));
        }
        if key.contains(['\n', '\r', '=', ':', '[']) || key.trim().is_empty() {
            return Err(bad("key", key));
        }
        if value.contains(['\n', '\r']) {
            return Err(bad("value", value));
        }
        match sections.iter_mut().find(|(name, _)| name == section) {
            Some((_, entries)) => entries.push((key, value)),
            None => sections.push((section, vec![(key, value)])),
        }
    }
    let mut text = String::new();
    for (section, entries) in sections {
        let _ = writeln!(text, "[{section}]");
        for (key, value) in entries {
            let _ = writeln!(text, "{key} = {value}");
        }
    }
    Ok(text)
}
