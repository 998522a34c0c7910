//! The typed session settings and their value types.

use std::fmt;

use super::origin::Setting;

/// Where session data is kept.
///
/// Never behind a feature flag: a config may ask for any backend, and a build without it
/// reports that at startup (house style 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StorageKind {
    /// `RamSession` (`storage_type = "ram"`), the default.
    Ram,
    /// `FileSession` (`storage_type = "file"`); needs `storage_path`.
    File,
    /// `MemcachedSession` (`storage_type = "memcached"`); uses `servers`.
    Memcached,
    /// Redis: this crate's extension (`storage_type = "redis"`); CherryPy has no such backend.
    Redis,
    /// A class of the application's own (`storage_class = myapp.sessions.PgSession`, named
    /// by [`SessionConfig::storage_class`]): the application maps it to a store in code
    /// (`CherryPySessions::builder().storage_class(..)`).
    Custom,
}

impl StorageKind {
    /// The lower-case name used by `explain` and `storage_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Ram => "ram",
            StorageKind::File => "file",
            StorageKind::Memcached => "memcached",
            StorageKind::Redis => "redis",
            StorageKind::Custom => "custom",
        }
    }
}

/// When the session lock is taken (spec: cherrypy-sessions §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockingMode {
    /// `'implicit'`: locked before the handler, after the body is read (the 3.x default).
    Implicit,
    /// `'early'`: locked right after the session is loaded, before the body is read.
    Early,
    /// Anything else: never locked automatically; the application calls `acquire_lock()`.
    Explicit,
}

impl LockingMode {
    /// `"implicit"`, `"early"` or `"explicit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LockingMode::Implicit => "implicit",
            LockingMode::Early => "early",
            LockingMode::Explicit => "explicit",
        }
    }
}

/// The cookie's `SameSite` attribute: our extension (CherryPy has none, issue #1767).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None` (browsers require `Secure` with it).
    None,
}

impl SameSite {
    /// The attribute value as sent: `"Strict"`, `"Lax"` or `"None"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// A number of minutes as CherryPy holds it: a Python `int` or `float`.
///
/// The distinction is visible on the wire: the cookie's `Max-Age` is `timeout * 60`, which
/// Python prints as `3600` for an int and `30.0` for `0.5` (spec: cherrypy-sessions §7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minutes {
    value: f64,
    is_int: bool,
}

impl Minutes {
    /// Whole minutes, a Python `int`.
    pub fn int(minutes: i64) -> Self {
        Self {
            value: minutes as f64,
            is_int: true,
        }
    }

    /// A Python `float`.
    pub fn float(minutes: f64) -> Self {
        Self {
            value: minutes,
            is_int: false,
        }
    }

    /// The value in minutes.
    pub fn as_f64(self) -> f64 {
        self.value
    }

    /// Whether it was written as an integer.
    pub fn is_int(self) -> bool {
        self.is_int
    }

    /// Whether it is zero (no cookie expiry for `timeout`, no clean-up for `clean_freq`).
    pub fn is_zero(self) -> bool {
        self.value == 0.0
    }

    /// The length as a [`Duration`](std::time::Duration): a negative value or NaN is zero,
    /// and anything longer than [`crate::limits::MAX_DURATION_MINUTES`] is that long. A
    /// config never gives such values (they are refused when it is read), but one set in
    /// code can, and no arithmetic on a setting may panic.
    pub fn as_duration(self) -> std::time::Duration {
        seconds_duration(self.value * 60.0)
    }

    /// `value * 60` as Python prints it, i.e. the cookie's `Max-Age`: `3600`, `30.0`.
    pub fn python_seconds(self) -> String {
        let seconds = self.value * 60.0;
        if self.is_int {
            // Saturates for absurd values; an int this large is no real timeout.
            format!("{}", seconds as i64)
        } else {
            crate::unrepr::float_repr(seconds)
        }
    }

    /// The value as a JSON number: an integer when written as one.
    pub(super) fn to_json(self) -> serde_json::Value {
        json_number(self.value, self.is_int)
    }
}

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_int {
            write!(f, "{}", self.value as i64)
        } else {
            f.write_str(&crate::unrepr::float_repr(self.value))
        }
    }
}

/// Seconds as a [`Duration`](std::time::Duration), clamped to zero and to
/// [`crate::limits::MAX_DURATION_MINUTES`] (NaN is zero).
pub(crate) fn seconds_duration(seconds: f64) -> std::time::Duration {
    let max = crate::limits::MAX_DURATION_MINUTES * 60.0;
    // `f64::clamp` keeps NaN; `max(0.0)` turns it into 0.
    std::time::Duration::from_secs_f64(seconds.max(0.0).min(max))
}

pub(super) fn json_number(value: f64, is_int: bool) -> serde_json::Value {
    if is_int && value.abs() < 9.0e15 {
        serde_json::Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, Into::into)
    }
}

/// The effective session settings for one request path, as CherryPy's session tool would
/// see them (spec: cherrypy-sessions §2). Every field remembers where it came from.
///
/// Read from config files ([`SessionConfigs`](super::SessionConfigs) gives one per path), or
/// made in code from CherryPy's defaults:
///
/// ```
/// use actix_cherrypy::session_config::{Minutes, SameSite, SessionConfig};
///
/// let defaults = SessionConfig::default();
/// assert!(!defaults.on.value);
/// assert_eq!(defaults.name.value, "session_id");
/// assert_eq!(defaults.timeout.value, Minutes::int(60));
///
/// let config = SessionConfig::default()
///     .on(true)
///     .secure(true)
///     .samesite(SameSite::Strict);
/// assert!(config.on.value && config.secure.value);
/// assert_eq!(config.samesite.value, Some(SameSite::Strict));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// `tools.sessions.on`: whether the tool runs (Python truthiness; default off).
    pub on: Setting<bool>,
    /// The backend: `storage_type` (case-insensitive) or the dotted `storage_class`; a true
    /// `storage_type` wins, as in 18.x. Default RAM.
    pub storage: Setting<StorageKind>,
    /// `tools.sessions.storage_class` when it names a class of the application's own (the
    /// storage is then [`StorageKind::Custom`]): its dotted name, which the application maps
    /// to a store in code. `None` for CherryPy's own classes and `storage_type`.
    pub storage_class: Setting<Option<String>>,
    /// `tools.sessions.storage_path`: directory of file sessions (no default; required for
    /// file storage).
    pub storage_path: Setting<Option<String>>,
    /// `tools.sessions.timeout`: session lifetime in minutes (default 60).
    pub timeout: Setting<Minutes>,
    /// `tools.sessions.locking` (default implicit).
    pub locking: Setting<LockingMode>,
    /// `tools.sessions.name`: the cookie name (default `session_id`).
    pub name: Setting<String>,
    /// `tools.sessions.domain`: the cookie's `Domain` (default none).
    pub domain: Setting<Option<String>>,
    /// `tools.sessions.path`: the cookie's `Path` (default none → `path_header` → `/`).
    pub path: Setting<Option<String>>,
    /// `tools.sessions.path_header`: request header giving the cookie path (default none).
    pub path_header: Setting<Option<String>>,
    /// `tools.sessions.secure`: the `Secure` flag (default false).
    pub secure: Setting<bool>,
    /// `tools.sessions.httponly`: the `HttpOnly` flag (default false).
    pub httponly: Setting<bool>,
    /// `tools.sessions.persistent`: whether the cookie gets `expires`/`Max-Age` (default
    /// true).
    pub persistent: Setting<bool>,
    /// `tools.sessions.clean_freq`: minutes between clean-ups; 0 or `None` = none
    /// (default 5).
    pub clean_freq: Setting<Minutes>,
    /// `tools.sessions.debug`: log to the error log (default false).
    pub debug: Setting<bool>,
    /// `tools.sessions.lock_timeout` (default none): for files, seconds to wait for a
    /// session's lock, `None` or 0 = forever. For Redis it is cherrys' lock lifetime
    /// (`None`: its locks never expire); this crate waits at most that long for a lock, and
    /// its own locks are leased and renewed instead.
    pub lock_timeout: Setting<Option<f64>>,
    /// `tools.sessions.servers`: memcached `host:port` list (default `localhost:11211`).
    pub servers: Setting<Vec<String>>,
    /// `tools.sessions.samesite`: our extension (default none).
    pub samesite: Setting<Option<SameSite>>,
    /// `tools.sessions.url`: the Redis server as a `redis://` URL; overrides the host, port,
    /// db, user and password settings (default none). Option names are those of the
    /// `cherrys` package, CherryPy's best-known Redis backend.
    pub redis_url: Setting<Option<String>>,
    /// `tools.sessions.host`: the Redis host (default `127.0.0.1`).
    pub redis_host: Setting<String>,
    /// `tools.sessions.port`: the Redis port (default 6379).
    pub redis_port: Setting<i64>,
    /// `tools.sessions.db`: the Redis database number (default 0).
    pub redis_db: Setting<i64>,
    /// `tools.sessions.user`: the Redis ACL user (default none).
    pub redis_user: Setting<Option<String>>,
    /// `tools.sessions.password`: the Redis password (default none).
    pub redis_password: Setting<Option<String>>,
    /// `tools.sessions.prefix`: prepended to the session id to make the Redis key
    /// (default empty).
    pub redis_prefix: Setting<String>,
    /// `tools.sessions.lock_prefix`: prepended to the session id to make the key of the
    /// session's lock (default `lock_`, as cherrys; it must differ from `prefix`).
    pub redis_lock_prefix: Setting<String>,
    /// `tools.sessions.ssl`: TLS to the Redis server when it is reached by `host` and
    /// `port` (default false; with `url`, `rediss://` asks for TLS, as in cherrys).
    pub redis_ssl: Setting<bool>,
    /// `tools.sessions.tls_skip_verify`: do not verify the server's certificate (default
    /// false; cherrys reads it only with `is_sentinel`).
    pub redis_tls_skip_verify: Setting<bool>,
    /// `tools.sessions.is_sentinel`: `host`/`port` is a Redis Sentinel (default false).
    pub redis_is_sentinel: Setting<bool>,
    /// `tools.sessions.sentinel_pass`: the Sentinel's password (default none).
    pub redis_sentinel_pass: Setting<Option<String>>,
    /// `tools.sessions.sentinel_service`: the master's name at the Sentinel (default none).
    pub redis_sentinel_service: Setting<Option<String>>,
    /// `tools.sessions.cluster`: `host`/`port` (or `url`) is one node of a Redis Cluster
    /// (default false; this crate's extension).
    pub redis_cluster: Setting<bool>,
}
