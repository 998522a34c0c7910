//! Every session setting, defined once: one entry of the `settings!` table below per key.
//!
//! An entry gives the setting's 3.x key, its CherryPy 2.2, 2.1 and 2.0 spellings (`-` where
//! the era had none), how a written value is read ([`Read`]), the range a number must be
//! in, and a one-line `doc`. A setting that is a field of [`SessionConfig`] also gives the
//! field's name and type, its default per era (a closure of the [`Era`]) and whose default
//! that is ([`DefaultOrigin`]), its row in `explain` ([`Show`]) and its builder setters. A
//! store's option gives instead its store and field there (`store: File.path`,
//! `store: Redis.host`), its type, default and `explain` row: its typed value lands in that
//! store's [`StorageConfig`] variant (or [`RedisConfig`]), and nowhere else. The
//! vocabulary of an entry is in `spec.rs`, the macros that turn the table into code in
//! `macros.rs`.
//!
//! From the table come: the [`Opt`] enum and each setting's [`Spec`] (which `keys` uses to
//! classify every spelling, `values` to read and range-check a value, and `migrate` to
//! rename legacy keys), the [`SessionConfig`] struct, the [`StorageConfig`] enum and
//! [`RedisConfig`] with their fields' rustdoc, the picking of every field and store option
//! with its era default (`SessionConfig::picked`, `StorageConfig::picked_file`, ...,
//! used by `resolve`), the builder setters, the `explain` rows (a store option's from its
//! store's variant, or as written where another store is chosen), and the README's
//! settings table (`readme.rs`, kept in sync by a test).
//!
//! Adding a setting, a store's option included, is adding an entry; its runtime rule goes
//! in `session` or `middleware/service.rs` (a store's option: in `middleware/open.rs`,
//! which opens the store). What is not a plain "this key sets that field" stays beside the
//! table, in code:
//! - the storage: `storage_type` and `storage_class` both choose the backend, and a true
//!   `storage_type` wins (`resolve::storage`); `resolve` then picks the chosen store's
//!   options into its [`StorageConfig`] variant, and `storage_class` naming an
//!   application's class is [`StorageConfig::Custom`]'s class (`resolve::custom_class`);
//!   2.1 and 2.2 default to RAM as their own default, 2.0 had no sessions unless
//!   `storageType` was set;
//! - 2.0's `[session] storageType`, which turns sessions on and picks the storage
//!   (`keys::Target::StorageType2_0`, `legacy::raw_2_0`), and 2.0's raw values;
//! - 2.1's `staticFilter.on`, which turns sessions off (`resolve`);
//! - `lock_timeout`'s `datetime.timedelta(...)` form in 3.x ([`Read::LockTimeout`]);
//! - a `storage_path` computed from `os.path.join(os.getcwd(), ...)` ([`Read::Path`]);
//! - the 2.x keys that set nothing (callbacks, `get_db`, 2.x storage classes), in `keys`;
//! - the checks that need several settings (file storage needs a path, the Redis options).

use serde_json::Value as Json;

use super::era::Era;
use super::macros::{settings, some, spelling, store_option, store_variants};
use super::origin::{Setting, SettingOrigin};
use super::spec::{DefaultOrigin, ExplainRow, MAX, Range, Read, Show, Spec};
use super::typed::{FromTyped, ToTyped, Typed};
use super::types::{LockingMode, Minutes, SameSite, ToJson};

/// Picks one field's value for `SessionConfig::picked`: the written value, else the
/// default (`resolve` implements it over the merged settings of a path).
pub(super) trait Picker {
    fn pick<T: FromTyped>(
        &self,
        opt: Opt,
        default: impl FnOnce(Era) -> T,
        origin: DefaultOrigin,
    ) -> Setting<T>;
}

/// Every default, CherryPy 18's (the options of a store made in code).
pub(super) struct Defaults;

impl Picker for Defaults {
    fn pick<T: FromTyped>(
        &self,
        _: Opt,
        default: impl FnOnce(Era) -> T,
        origin: DefaultOrigin,
    ) -> Setting<T> {
        Setting::new(default(Era::V3), origin.origin(Era::V3))
    }
}

settings! {
    /// The effective session settings for one request path, as CherryPy's session tool would
    /// see them. Every field remembers where it came from.
    ///
    /// Read from config files ([`SessionConfigs`](super::SessionConfigs) gives one per path),
    /// or made in code from CherryPy's defaults:
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
    pub struct SessionConfig;

    /// The store a path's sessions use, with that store's options, each a [`Setting`] that
    /// remembers where it came from.
    ///
    /// One variant per store, so that a store's options exist only where that store is used:
    /// a RAM store has no directory, a file store no Redis password. A config file may still
    /// write them all (CherryPy reads every option whatever the store, and so does `explain`),
    /// but the options of another store than the one chosen never reach the store that is
    /// opened.
    ///
    /// ```
    /// use actix_cherrypy::session_config::{SessionConfigs, StorageConfig, StorageKind};
    /// use actix_cherrypy::config::SourceFile;
    ///
    /// let site = SourceFile::new(
    ///     "site.conf",
    ///     "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = 'file'\ntools.sessions.storage_path = '/var/lib/site/sessions'\n",
    /// );
    /// let loaded = SessionConfigs::from_sources(&[site])?;
    /// let root = loaded.value.root();
    /// match &root.storage.value {
    ///     StorageConfig::File { path, .. } => {
    ///         assert_eq!(path.value.as_deref(), Some("/var/lib/site/sessions"));
    ///         assert_eq!(path.origin.line(), Some(4));
    ///     }
    ///     other => panic!("not a file store: {other:?}"),
    /// }
    /// assert_eq!(root.storage.value.kind(), StorageKind::File);
    ///
    /// // In code: a store and its options in one value.
    /// use actix_cherrypy::session_config::{RedisConfig, SessionConfig};
    /// let mut redis = RedisConfig::default();
    /// redis.prefix.value = "session:".into();
    /// let config = SessionConfig::default().on(true).storage(StorageConfig::Redis(redis));
    /// assert_eq!(config.storage.value.as_str(), "redis");
    /// # Ok::<(), actix_cherrypy::ConfigError>(())
    /// ```
    pub enum StorageConfig;

    /// The Redis store's options, as `cherrys.RedisSession` reads them (plus `cluster`, this
    /// crate's extension). Each field is the `tools.sessions.*` key of the same name; their
    /// defaults are cherrys' (`RedisConfig::default()`).
    pub struct RedisConfig;

    On {
        key: "tools.sessions.on", v2_2: "on", v2_1: "on", v2_0: -,
        read: Read::Flag, range: None,
        doc: "whether the session tool runs (Python truthiness; 2.0: a non-empty `storageType`).",
        field: on: bool = |_| false, Era,
        explain: "on" Always,
        setters: { on(on: bool) => on; },
    }
    StorageType {
        key: "tools.sessions.storage_type", v2_2: "storage_type", v2_1: "storageType", v2_0: -,
        read: Read::StorageType, range: None,
        doc: "the backend: `\"ram\"`, `\"file\"`, `\"memcached\"` or `\"redis\"` (our extension), case-insensitive; a true value overrides `storage_class`.",
        field: storage: StorageConfig = |_| StorageConfig::Ram, Era,
        more: "The store in effect and its options ([`StorageConfig`]); `storage_class` chooses it too, and `resolve` puts it together from both and the store's options.",
        explain: "storage" Always,
        setters: { storage(storage: StorageConfig) => storage; },
    }
    StoragePath {
        key: "tools.sessions.storage_path", v2_2: "storage_path", v2_1: "storagePath", v2_0: "storageFileDir",
        read: Read::Path, range: None,
        doc: "the directory of file sessions (the file store needs it).",
        store: File.path: Option<String> = |_| None, Era,
        explain: "storage_path" Always,
    }
    Timeout {
        key: "tools.sessions.timeout", v2_2: "timeout", v2_1: "timeout", v2_0: "timeout",
        read: Read::Minutes, range: Range::minutes(-MAX, MAX),
        doc: "minutes a session lives after its last save; also the cookie's `Max-Age`.",
        field: timeout: Minutes = |_| Minutes::int(60), Era,
        explain: "timeout_minutes" Always,
        setters: {
            timeout_minutes(minutes: i64) => Minutes::int(minutes);
            /// As a float, e.g. `0.5` (the cookie's Max-Age prints `30.0`).
            timeout_minutes_float(minutes: f64) => Minutes::float(minutes);
        },
    }
    MaxLifetime {
        key: "tools.sessions.max_lifetime", v2_2: -, v2_1: -, v2_0: -,
        read: Read::OptMinutes, range: Range::minutes(0.0, MAX),
        doc: "our extension: minutes after a session's creation when it expires however active it is (a new id, empty data); `None` or 0: no limit.",
        field: max_lifetime: Option<Minutes> = |_| None, Builtin,
        more: "The creation time is kept in the stored session under the reserved key `_session_created` (a float Unix timestamp), which the [`Session`](crate::session::Session) API never shows.",
        explain: "max_lifetime_minutes" WhenSet,
        setters: { max_lifetime(minutes: Minutes) => Some(minutes); },
    }
    Locking {
        key: "tools.sessions.locking", v2_2: "locking", v2_1: "locking", v2_0: -,
        read: Read::Locking, range: None,
        doc: "when the session's lock is taken: `'implicit'` (after the body is read), `'early'`, or anything else: `'explicit'`.",
        field: locking: LockingMode = |era| if era < Era::V3 { LockingMode::Explicit } else { LockingMode::Implicit }, Era,
        explain: "locking" Always,
        setters: { locking(mode: LockingMode) => mode; },
    }
    Name {
        key: "tools.sessions.name", v2_2: "cookie_name", v2_1: "cookieName", v2_0: "cookieName",
        read: Read::CookieName, range: None,
        doc: "the cookie's name.",
        field: name: String = |era| match era {
            Era::V2_0 => "CherryPySession",
            Era::V2_1 => "sessionID",
            _ => "session_id",
        }.to_owned(), Era,
        explain: "name" Always,
        setters: { name(name: impl Into<String>) => name.into(); },
    }
    Domain {
        key: "tools.sessions.domain", v2_2: "cookie_domain", v2_1: -, v2_0: -,
        read: Read::CookieAttribute, range: None,
        doc: "the cookie's `Domain`.",
        field: domain: Option<String> = |_| None, Era,
        explain: "domain" Always,
        setters: { domain(domain: impl Into<String>) => Some(domain.into()); },
    }
    Path {
        key: "tools.sessions.path", v2_2: "cookie_path", v2_1: -, v2_0: -,
        read: Read::CookieAttribute, range: None,
        doc: "the cookie's `Path` (none: the `path_header` request header, else `/`).",
        field: path: Option<String> = |_| None, Era,
        explain: "path" Always,
        setters: { path(path: impl Into<String>) => Some(path.into()); },
    }
    PathHeader {
        key: "tools.sessions.path_header", v2_2: "cookie_path_from_header", v2_1: -, v2_0: -,
        read: Read::OptText, range: None,
        doc: "the request header that gives the cookie's path.",
        field: path_header: Option<String> = |_| None, Era,
        explain: "path_header" Always,
        setters: { path_header(header: impl Into<String>) => Some(header.into()); },
    }
    Secure {
        key: "tools.sessions.secure", v2_2: "cookie_secure", v2_1: -, v2_0: -,
        read: Read::SecureFlag, range: None,
        doc: "the cookie's `Secure` flag (2.2: only the value `True` itself).",
        field: secure: bool = |_| false, Era,
        explain: "secure" Always,
        setters: { secure(secure: bool) => secure; },
    }
    Httponly {
        key: "tools.sessions.httponly", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "the cookie's `HttpOnly` flag.",
        field: httponly: bool = |_| false, Era,
        explain: "httponly" Always,
        setters: { httponly(httponly: bool) => httponly; },
    }
    Persistent {
        key: "tools.sessions.persistent", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "whether the cookie gets `expires` and `Max-Age` (else it ends with the browser session).",
        field: persistent: bool = |era| era != Era::V2_0, Era,
        explain: "persistent" Always,
        setters: { persistent(persistent: bool) => persistent; },
    }
    Samesite {
        key: "tools.sessions.samesite", v2_2: -, v2_1: -, v2_0: -,
        read: Read::SameSite, range: None,
        doc: "our extension: the cookie's `SameSite`, `\"Strict\"`, `\"Lax\"` or `\"None\"`.",
        field: samesite: Option<SameSite> = |_| None, Builtin,
        explain: "samesite" Always,
        setters: { samesite(same_site: SameSite) => Some(same_site); },
    }
    CleanFreq {
        key: "tools.sessions.clean_freq", v2_2: "clean_up_delay", v2_1: "cleanUpDelay", v2_0: "cleanUpDelay",
        read: Read::MinutesOrZero, range: Range::minutes(0.0, MAX),
        doc: "minutes between clean-ups of expired sessions; 0 or `None`: none.",
        field: clean_freq: Minutes = |era| Minutes::int(if era == Era::V2_0 { 60 } else { 5 }), Era,
        explain: "clean_freq_minutes" Always,
        setters: { clean_freq_minutes(minutes: i64) => Minutes::int(minutes); },
    }
    LockTimeout {
        key: "tools.sessions.lock_timeout", v2_2: "deadlock_timeout", v2_1: "deadlockTimeout", v2_0: -,
        read: Read::LockTimeout, range: Range::seconds(0.0, MAX * 60.0),
        doc: "seconds to wait for a session's lock (a number or a `datetime.timedelta`); `None` or 0: for ever.",
        field: lock_timeout: Option<f64> = |era| matches!(era, Era::V2_1 | Era::V2_2).then_some(30.0), Era,
        more: "For Redis it is cherrys' lock lifetime (`None`: its locks never expire); this crate waits at most that long for a lock, and its own locks are leased and renewed instead.",
        explain: "lock_timeout_seconds" Always,
        setters: { lock_timeout_seconds(seconds: f64) => Some(seconds); },
    }
    Servers {
        key: "tools.sessions.servers", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Servers, range: None,
        doc: "the memcached servers, `\"host:port\"` strings.",
        store: Memcached.servers: Vec<String> = |_| vec!["localhost:11211".to_owned()], Builtin,
        explain: "servers" Always,
    }
    StorageClass {
        key: "tools.sessions.storage_class", v2_2: -, v2_1: -, v2_0: -,
        read: Read::StorageClass, range: None,
        doc: "the backend as a dotted class name (`cherrypy.lib.sessions.FileSession`, `cherrys.RedisSession`, or an application's class, mapped to a store in code).",
        store: Custom.class: Option<String> = |_| None, Builtin,
        explain: "storage_class" Custom,
    }
    RedisUrl {
        key: "tools.sessions.url", v2_2: -, v2_1: -, v2_0: -,
        read: Read::OptText, range: None,
        doc: "Redis (cherrys): the server as a `redis://` or `rediss://` URL; overrides host, port, db, user and password.",
        store: Redis.url: Option<String> = |_| None, Cherrys,
        explain: "url" RedisUrl,
    }
    RedisHost {
        key: "tools.sessions.host", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Text, range: None,
        doc: "Redis (cherrys): the host.",
        store: Redis.host: String = |_| "127.0.0.1".to_owned(), Cherrys,
        explain: "host" Redis,
    }
    RedisPort {
        key: "tools.sessions.port", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Int(1, 65535), range: None,
        doc: "Redis (cherrys): the port.",
        store: Redis.port: i64 = |_| 6379, Cherrys,
        explain: "port" Redis,
    }
    RedisDb {
        key: "tools.sessions.db", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Int(0, i64::MAX), range: None,
        doc: "Redis (cherrys): the database number.",
        store: Redis.db: i64 = |_| 0, Cherrys,
        explain: "db" Redis,
    }
    RedisUser {
        key: "tools.sessions.user", v2_2: -, v2_1: -, v2_0: -,
        read: Read::OptText, range: None,
        doc: "Redis (cherrys): the ACL user.",
        store: Redis.user: Option<String> = |_| None, Cherrys,
        explain: "user" Redis,
    }
    RedisPassword {
        key: "tools.sessions.password", v2_2: -, v2_1: -, v2_0: -,
        read: Read::OptText, range: None,
        doc: "Redis (cherrys): the password (`explain` shows only whether it is set).",
        store: Redis.password: Option<String> = |_| None, Cherrys,
        explain: "password" RedisSecret,
    }
    RedisPrefix {
        key: "tools.sessions.prefix", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Text, range: None,
        doc: "Redis (cherrys): prepended to the session id to make its key.",
        store: Redis.prefix: String = |_| String::new(), Cherrys,
        explain: "prefix" Redis,
    }
    RedisLockPrefix {
        key: "tools.sessions.lock_prefix", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Text, range: None,
        doc: "Redis (cherrys): prepended to the session id to make its lock's key; must differ from `prefix`.",
        store: Redis.lock_prefix: String = |_| "lock_".to_owned(), Cherrys,
        explain: "lock_prefix" Redis,
    }
    RedisSsl {
        key: "tools.sessions.ssl", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "Redis (cherrys): TLS to a server reached by host and port (with `url`, `rediss://` asks for it).",
        store: Redis.ssl: bool = |_| false, Cherrys,
        explain: "ssl" Redis,
    }
    RedisTlsSkipVerify {
        key: "tools.sessions.tls_skip_verify", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "Redis (cherrys): do not verify the server's certificate (cherrys reads it only with `is_sentinel`).",
        store: Redis.tls_skip_verify: bool = |_| false, Cherrys,
        explain: "tls_skip_verify" Redis,
    }
    RedisIsSentinel {
        key: "tools.sessions.is_sentinel", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "Redis (cherrys): host and port are a Redis Sentinel's.",
        store: Redis.is_sentinel: bool = |_| false, Cherrys,
        explain: "is_sentinel" Redis,
    }
    RedisSentinelPass {
        key: "tools.sessions.sentinel_pass", v2_2: -, v2_1: -, v2_0: -,
        read: Read::OptText, range: None,
        doc: "Redis (cherrys): the Sentinel's password (`explain` shows only whether it is set).",
        store: Redis.sentinel_pass: Option<String> = |_| None, Cherrys,
        explain: "sentinel_pass" RedisSecret,
    }
    RedisSentinelService {
        key: "tools.sessions.sentinel_service", v2_2: -, v2_1: -, v2_0: -,
        read: Read::OptText, range: None,
        doc: "Redis (cherrys): the master's name at the Sentinel.",
        store: Redis.sentinel_service: Option<String> = |_| None, Cherrys,
        explain: "sentinel_service" Redis,
    }
    RedisCluster {
        key: "tools.sessions.cluster", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "Redis: host and port (or `url`) name a node of a Redis Cluster (this crate's extension); a session's keys then carry a hash tag, so its data and lock share a slot.",
        store: Redis.cluster: bool = |_| false, Builtin,
        explain: "cluster" WhenSet,
    }
    Debug {
        key: "tools.sessions.debug", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "log the session tool's steps at `info` level instead of `debug`.",
        field: debug: bool = |_| false, Builtin,
        explain: "debug" Text,
        setters: {},
    }
    Priority {
        key: "tools.sessions.priority", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Ignored, range: None,
        doc: "the tool's order among CherryPy's tools; read, without effect here.",
    }
    StaticOn {
        key: "tools.staticdir.on", v2_2: -, v2_1: -, v2_0: -,
        read: Read::Flag, range: None,
        doc: "2.1's `staticFilter.on`, which turned sessions off (classified in `keys`).",
    }
}

impl Opt {
    /// The 3.x key (`tools.sessions.timeout`).
    pub(crate) fn modern(self) -> &'static str {
        self.spec().modern
    }
}

/// The store in effect, as `storage_type` naming it would be read (its options are
/// settings of their own).
impl ToTyped for StorageConfig {
    fn to_typed(&self) -> Typed {
        Typed::Storage(Some(self.kind()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_in_the_enum_order() {
        for (i, opt) in Opt::ALL.iter().enumerate() {
            assert_eq!(*opt as usize, i);
            assert!(std::ptr::eq(opt.spec(), &SPECS[i]));
        }
    }
}
