//! `SessionConfig` for code-only setups: CherryPy 18's defaults, then setters.
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

use super::{
    LockingMode, Minutes, SameSite, SessionConfig, SessionConfigs, Setting, SettingOrigin,
    StorageKind,
};
use crate::source::SourceFile;

/// CherryPy 18's defaults: sessions off, RAM storage, 60 minutes, implicit locking,
/// cookie `session_id` (spec: sessions §2).
impl Default for SessionConfig {
    fn default() -> Self {
        // The defaults are what an empty config file gives, so they have one definition.
        let empty = SourceFile::new("<defaults>", "");
        let loaded = SessionConfigs::from_sources(&[empty]).expect("an empty config is valid");
        loaded.value.root().clone()
    }
}

fn code<T>(value: T) -> Setting<T> {
    Setting {
        value,
        origin: SettingOrigin::Code,
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $field:ident = $value:expr;)*) => {
        impl SessionConfig {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, $arg: $ty) -> Self {
                    self.$field = code($value);
                    self
                }
            )*
        }
    };
}

setters! {
    /// `tools.sessions.on` (default `False`).
    #[doc(alias = "tools.sessions.on")]
    on(on: bool) => on = on;
    /// `tools.sessions.storage_type` / `storage_class` (default RAM).
    #[doc(alias = "tools.sessions.storage_type")]
    storage(kind: StorageKind) => storage = kind;
    /// `tools.sessions.storage_path` (no default; the file store needs it).
    #[doc(alias = "tools.sessions.storage_path")]
    storage_path(path: impl Into<String>) => storage_path = Some(path.into());
    /// `tools.sessions.timeout` in whole minutes (default 60).
    #[doc(alias = "tools.sessions.timeout")]
    timeout_minutes(minutes: i64) => timeout = Minutes::int(minutes);
    /// `tools.sessions.timeout` as a float, e.g. `0.5` (the cookie's Max-Age prints `30.0`).
    timeout_minutes_float(minutes: f64) => timeout = Minutes::float(minutes);
    /// `tools.sessions.locking` (default implicit).
    #[doc(alias = "tools.sessions.locking")]
    locking(mode: LockingMode) => locking = mode;
    /// `tools.sessions.name`, the cookie name (default `session_id`).
    #[doc(alias = "tools.sessions.name")]
    name(name: impl Into<String>) => name = name.into();
    /// `tools.sessions.domain` (default none).
    #[doc(alias = "tools.sessions.domain")]
    domain(domain: impl Into<String>) => domain = Some(domain.into());
    /// `tools.sessions.path`, the cookie path (default: `path_header`, else `/`).
    #[doc(alias = "tools.sessions.path")]
    path(path: impl Into<String>) => path = Some(path.into());
    /// `tools.sessions.path_header` (default none).
    #[doc(alias = "tools.sessions.path_header")]
    path_header(header: impl Into<String>) => path_header = Some(header.into());
    /// `tools.sessions.secure` (default `False`).
    #[doc(alias = "tools.sessions.secure")]
    secure(secure: bool) => secure = secure;
    /// `tools.sessions.httponly` (default `False`).
    #[doc(alias = "tools.sessions.httponly")]
    httponly(httponly: bool) => httponly = httponly;
    /// `tools.sessions.persistent` (default `True`).
    #[doc(alias = "tools.sessions.persistent")]
    persistent(persistent: bool) => persistent = persistent;
    /// `tools.sessions.clean_freq` in minutes (default 5; 0 turns clean-up off).
    #[doc(alias = "tools.sessions.clean_freq")]
    clean_freq_minutes(minutes: i64) => clean_freq = Minutes::int(minutes);
    /// `tools.sessions.lock_timeout` in seconds (default: wait for ever).
    #[doc(alias = "tools.sessions.lock_timeout")]
    lock_timeout_seconds(seconds: f64) => lock_timeout = Some(seconds);
    /// `tools.sessions.samesite` (our extension; default none).
    #[doc(alias = "tools.sessions.samesite")]
    samesite(same_site: SameSite) => samesite = Some(same_site);
}
