//! `SessionConfig` for code-only setups: CherryPy 18's defaults, then the setters the
//! settings table (`table.rs`) gives each setting, and [`SessionConfig::check`], which holds
//! what was set to the rules a config file's values are read by.
//!
//! ```
//! use actix_cherrypy::session_config::{LockingMode, SessionConfig};
//!
//! let config = SessionConfig::default()
//!     .on(true)
//!     .timeout_minutes(30)
//!     .name("sid")
//!     .locking(LockingMode::Explicit);
//! assert_eq!(config.name.value, "sid");
//! ```

use super::era::Era;
use super::sink::{Sink, in_code};
use super::{SessionConfig, SessionConfigs, resolve, values};
use crate::Diagnostic;
use crate::config::ConfigError;
use crate::source::SourceFile;

/// CherryPy 18's defaults: sessions off, RAM storage, 60 minutes, implicit locking,
/// cookie `session_id`.
impl Default for SessionConfig {
    fn default() -> Self {
        // The defaults are what an empty config file gives, so they have one definition.
        let empty = SourceFile::new("<defaults>", "");
        let loaded = SessionConfigs::from_sources(&[empty]).expect("an empty config is valid");
        loaded.value.root().clone()
    }
}

impl SessionConfig {
    /// Checks settings made in code by the rules a config file's are read by, so that what
    /// a file may not give cannot be given in code either: each value as its setting's
    /// entry of the settings table asks (a number in its range, never NaN or infinite; a
    /// cookie name Python's `http.cookies` takes; a cookie attribute without a control
    /// character; memcached servers python-memcached can parse; a Redis port and database
    /// in range), then what needs several settings where sessions are on (a file store
    /// needs its `storage_path`, the Redis `prefix` and `lock_prefix` differ).
    /// [`CherryPySessions::from_session_config`](crate::CherryPySessions::from_session_config)
    /// runs it before it opens anything.
    ///
    /// Returns the warnings (CherryPy's traps that still run, such as a file store with
    /// explicit locking), or the first error. Each has the code and message a config file's
    /// value gets, without a location: a note names the setting
    /// (`tools.sessions.name, as set in code`).
    ///
    /// ```
    /// use actix_cherrypy::session_config::{SessionConfig, codes};
    ///
    /// assert!(SessionConfig::default().on(true).name("sid").check().is_ok());
    /// let err = SessionConfig::default().name("a b;c").check().unwrap_err();
    /// assert_eq!(err.diagnostic().code, codes::COOKIE_TEXT);
    /// let err = SessionConfig::default().timeout_minutes_float(f64::NAN).check().unwrap_err();
    /// assert_eq!(err.diagnostic().code, codes::VALUE_OUT_OF_RANGE);
    /// ```
    pub fn check(&self) -> Result<Vec<Diagnostic>, ConfigError> {
        let mut sink = Sink::default();
        for (opt, typed) in self.typed_values() {
            if let Some(d) = values::problem(opt, &typed) {
                sink.push(in_code(opt, d));
            }
        }
        resolve::check(self, Era::V3, &mut sink);
        let (errors, warnings): (Vec<_>, Vec<_>) =
            sink.diagnostics.into_iter().partition(Diagnostic::is_error);
        match errors.into_iter().next() {
            Some(first) => Err(first.into()),
            None => Ok(warnings),
        }
    }
}
