//! `SessionConfig` for code-only setups: CherryPy 18's defaults, then the setters the
//! settings table (`table.rs`) gives each setting.
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

use super::{SessionConfig, SessionConfigs};
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
