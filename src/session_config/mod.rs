//! The typed session settings a CherryPy config file gives, for every era of CherryPy's
//! config names: 3.x/18.x `tools.sessions.*`, 2.2/2.3 `session_filter.*`, 2.1
//! `sessionFilter.*` and 2.0 `[session]` sections.
//!
//! [`SessionConfigs`] reads a config once, works out the file's [`Era`], checks every session
//! value (errors are located, CherryPy's traps become warnings) and precomputes the effective
//! [`SessionConfig`] of every section, so that [`SessionConfigs::session_for_path`] is a few
//! map lookups. [`explain`] is the library half of `cherrypy-config explain`.
//!
//! Every field of a [`SessionConfig`] is a [`Setting`] that remembers its [`SettingOrigin`]:
//! the file place it was written at, the legacy spelling it was read from, or the era or
//! built-in default it fell back to. The store in effect and its options are one [`StorageConfig`]
//! (`config.storage.value`): a store's options exist only in its own variant.
//!
//! Every setting is one entry of the table in `table.rs` (its spellings, how it is read, its
//! range, its default per era, its field, `explain` row and builder setter); that file's
//! docs list what stays special-cased beside it. The modules run one way: `keys` (spellings)
//! and `values`/`storage` (reading a value, reporting to a `sink`) feed `build`, which
//! collects each section's `node` and has `resolve` turn a path's merged nodes into a
//! [`SessionConfig`].

mod build;
mod builder;
pub(crate) mod era;
mod explain;
mod input;
pub(crate) mod keys;
mod legacy;
mod literals;
mod macros;
mod node;
mod origin;
mod pathexpr;
pub(crate) mod paths;
#[cfg(test)]
mod readme;
mod resolve;
mod servers;
mod sink;
mod spec;
mod storage;
mod storage_config;
mod table;
mod timedelta;
mod typed;
mod types;
mod values;

#[cfg(test)]
mod tests;

pub use build::SessionConfigs;
pub use era::{Era, EraReport};
pub use explain::{Explanation, explain, explain_file};
pub use origin::{Setting, SettingOrigin};
pub use table::{RedisConfig, SessionConfig, StorageConfig};
pub(crate) use types::seconds_duration;
pub use types::{LockingMode, Minutes, SameSite, StorageKind};

#[cfg(feature = "memcached")]
pub(crate) use servers::memcached_dsn;
pub(crate) use storage::{custom_class, is_about_custom_class};

/// The stable codes of the diagnostics this module produces.
pub mod codes {
    /// Warning: a CherryPy 2.x spelling was read; names the modern key.
    pub const LEGACY_NAME: &str = "legacy-name";
    /// Warning: a 2.x session key in a file that also uses 3.x names; CherryPy 3 ignored it.
    pub const LEGACY_KEY_IGNORED: &str = "legacy-key-ignored-by-cherrypy3";
    /// Warning: a 2.0 `cpg.configOption.session*` or `session*` attribute name used as a key.
    pub const LEGACY_ATTRIBUTE_SPELLING: &str = "legacy-attribute-spelling";
    /// Warning: `sessionFilter.Timeout`, which CherryPy 2.1 never read.
    pub const LEGACY_CAPITAL_TIMEOUT: &str = "legacy-capital-timeout";
    /// Warning: another spelling of the same setting at the same node wins.
    pub const SHADOWED_KEY: &str = "shadowed-key";
    /// Warning: a 2.x session callback, which cannot be carried over.
    pub const LEGACY_CALLBACK: &str = "legacy-callback";
    /// Warning: `session_filter.generate_session_id`, which cannot be carried over.
    pub const LEGACY_GENERATE_ID: &str = "legacy-generate-session-id";
    /// Warning: `getDB`/`get_db`, which cannot be carried over.
    pub const LEGACY_GET_DB: &str = "legacy-get-db";
    /// Error: a 2.x `storageClass`/`storage_class` (2.x backend interface).
    pub const LEGACY_STORAGE_CLASS: &str = "legacy-storage-class";
    /// Error: PostgreSQL session storage.
    pub const POSTGRESQL_STORAGE: &str = "postgresql-storage";
    /// Error: a 2.1/2.2 storage type that only differs by case (`"RAM"`).
    pub const LEGACY_STORAGE_CASE: &str = "legacy-storage-case";
    /// Error: a 2.0 `storageType` that is not exactly `ram` or `file`.
    pub const LEGACY_STORAGE_VALUE: &str = "legacy-storage-value";
    /// Warning: quotes in a 2.0 raw value are part of the value.
    pub const LEGACY_RAW_QUOTES: &str = "legacy-raw-quotes";
    /// Error: a 2.0 number that does not parse.
    pub const LEGACY_NUMBER: &str = "legacy-number";
    /// Warning: an empty 2.0 number; 2.0 kept its default, and so do we.
    pub const LEGACY_EMPTY_NUMBER: &str = "legacy-empty-number";
    /// Error: a 2.0 value whose `%(name)s` Python 2's ConfigParser could not interpolate.
    pub const LEGACY_INTERPOLATION: &str = "legacy-interpolation";
    /// Error: a line of a 2.0 file that Python 2's ConfigParser refused (an indented line
    /// with no value above it in its section), so CherryPy 2.0 did not start.
    pub const LEGACY_REFUSED_LINE: &str = "legacy-refused-line";
    /// Warning: a 2.0 `[staticContent]` key 2.0 never served (it starts or ends with `/`).
    pub const LEGACY_STATIC_NEVER_SERVED: &str = "legacy-static-never-served";
    /// Error: a cookie name Python's `http.cookies` refuses, or a cookie attribute with a
    /// control character (it would split the `Set-Cookie` header).
    pub const COOKIE_TEXT: &str = "cookie-text";
    /// Warning: 2.2 `cookie_secure` set to a true value other than `True`.
    pub const LEGACY_COOKIE_SECURE: &str = "legacy-cookie-secure";
    /// Warning: a `sessionFilter.*`/`session_filter.*`/`[session]` key no release read.
    pub const LEGACY_UNKNOWN_KEY: &str = "legacy-unknown-key";
    /// Warning: an unknown `tools.sessions.*` key (CherryPy ignores it).
    pub const UNKNOWN_SESSION_KEY: &str = "unknown-session-key";
    /// Warning: a quoted boolean such as `"False"`, which is true.
    pub const QUOTED_BOOL: &str = "quoted-bool";
    /// Warning: `True`/`False` used as a number.
    pub const BOOL_AS_NUMBER: &str = "bool-as-number";
    /// Warning: a locking value other than `'implicit'`/`'early'`/`'explicit'`.
    pub const LOCKING_NOT_RECOGNISED: &str = "locking-not-recognised";
    /// Error: a quoted number (`timeout = "60"`).
    pub const QUOTED_NUMBER: &str = "quoted-number";
    /// Error: a value of the wrong type.
    pub const VALUE_TYPE: &str = "session-value-type";
    /// Error: a bare word CherryPy cannot resolve where a value is needed.
    pub const UNRESOLVED_NAME: &str = "session-unresolved-name";
    /// Error: an expression CherryPy would have to run (a call, an attribute, ...).
    pub const NOT_LITERAL: &str = "session-value-not-literal";
    /// Error: a storage CherryPy has no backend for.
    pub const UNKNOWN_STORAGE: &str = "unknown-storage";
    /// Error: `storage_class` written as a quoted string.
    pub const STORAGE_CLASS_QUOTED: &str = "storage-class-quoted";
    /// Error: `storage_class` naming an application class.
    pub const CUSTOM_STORAGE_CLASS: &str = "custom-storage-class";
    /// Warning: `storage_type` and `storage_class` both set; `storage_type` wins (18.x).
    pub const STORAGE_TYPE_OVERRIDES_CLASS: &str = "storage-type-overrides-class";
    /// Warning: `storage_type = "redis"`, this crate's extension.
    pub const STORAGE_EXTENSION: &str = "storage-extension";
    /// Error: file storage without `storage_path`.
    pub const FILE_STORAGE_WITHOUT_PATH: &str = "file-storage-without-path";
    /// Warning: file storage with explicit locking (CherryPy 3.3+ fails without
    /// `acquire_lock()`).
    pub const FILE_STORAGE_EXPLICIT_LOCKING: &str = "file-storage-explicit-locking";
    /// Error: a `lock_timeout` that is neither seconds nor a `datetime.timedelta(...)`.
    pub const LOCK_TIMEOUT_INVALID: &str = "lock-timeout-invalid";
    /// Error: a number outside the range the setting can use (the range is in the message).
    pub const VALUE_OUT_OF_RANGE: &str = "value-out-of-range";
    /// Error: the session settings of every section together hold more than
    /// [`crate::limits::MAX_SESSION_SETTINGS_BYTES`] (a long value copied into many sections).
    pub const SESSION_SETTINGS_TOO_LARGE: &str = "session-settings-too-large";
    /// Warning: a negative number where CherryPy expects minutes or seconds.
    pub const NEGATIVE_DURATION: &str = "negative-duration";
    /// Warning: a path computed from `os.path.join(os.getcwd(), …)` without running Python.
    pub const COMPUTED_PATH: &str = "computed-path";
    /// Error: a `samesite` value other than `"Strict"`, `"Lax"` or `"None"`.
    pub const SAMESITE_VALUE: &str = "samesite-value";
    /// Error: the Redis `prefix` equals `lock_prefix` (cherrys asserts they differ: a
    /// session's data and its lock would share one key).
    pub const REDIS_PREFIX_IS_LOCK_PREFIX: &str = "redis-prefix-is-lock-prefix";
    /// Warning: `tls_skip_verify` without `is_sentinel`, which cherrys then ignores.
    pub const REDIS_OPTION_IGNORED: &str = "redis-option-ignored";
    /// Error: a `servers` entry python-memcached cannot parse either.
    pub const MEMCACHED_SERVER: &str = "memcached-server";
}
