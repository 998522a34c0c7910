//! [`StorageConfig`]: the store a path's sessions use, with the options of that store only.

use serde_json::{Value as Json, json};

use super::origin::{Setting, SettingOrigin};
use super::typed::{FromTyped, Typed};
use super::types::{StorageKind, ToJson};

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
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "one per config section, shared behind an Arc; a Box would only add an allocation and a Box to every pattern"
)]
pub enum StorageConfig {
    /// `RamSession` (`storage_type = "ram"`), the default: no options.
    Ram,
    /// `FileSession` (`storage_type = "file"`).
    #[non_exhaustive]
    File {
        /// `tools.sessions.storage_path`: the directory of the session files. `None` is
        /// representable because CherryPy accepts it where sessions are off; where they are
        /// on it is an error when the config is read, and at startup for a config made in
        /// code.
        path: Setting<Option<String>>,
    },
    /// `MemcachedSession` (`storage_type = "memcached"`).
    #[non_exhaustive]
    Memcached {
        /// `tools.sessions.servers`: the memcached servers, `"host:port"` strings.
        servers: Setting<Vec<String>>,
    },
    /// Redis: this crate's extension (`storage_type = "redis"`, or cherrys'
    /// `storage_class = cherrys.RedisSession`); CherryPy itself has no such backend.
    Redis(RedisConfig),
    /// A class of the application's own (`storage_class = myapp.sessions.PgSession`): the
    /// application maps it to a store in code (`CherryPySessions::builder().storage_class(..)`).
    #[non_exhaustive]
    Custom {
        /// `tools.sessions.storage_class`: the dotted class name.
        class: Setting<String>,
    },
}

impl StorageConfig {
    /// A file store in `path`, set in code.
    pub fn file(path: impl Into<String>) -> Self {
        StorageConfig::File {
            path: Setting::new(Some(path.into()), SettingOrigin::Code),
        }
    }

    /// A memcached store on `servers` (`"host:port"` strings), set in code.
    pub fn memcached<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> Self {
        StorageConfig::Memcached {
            servers: Setting::new(
                servers.into_iter().map(Into::into).collect(),
                SettingOrigin::Code,
            ),
        }
    }

    /// The application's store registered under the dotted `class` name, set in code.
    pub fn custom(class: impl Into<String>) -> Self {
        StorageConfig::Custom {
            class: Setting::new(class.into(), SettingOrigin::Code),
        }
    }

    /// Which store it is.
    pub fn kind(&self) -> StorageKind {
        match self {
            StorageConfig::Ram => StorageKind::Ram,
            StorageConfig::File { .. } => StorageKind::File,
            StorageConfig::Memcached { .. } => StorageKind::Memcached,
            StorageConfig::Redis(_) => StorageKind::Redis,
            StorageConfig::Custom { .. } => StorageKind::Custom,
        }
    }

    /// The store's lower-case name, as `explain` and `storage_type` write it.
    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The Redis store's options, as `cherrys.RedisSession` reads them (plus `cluster`, this
/// crate's extension). Each field is the `tools.sessions.*` key of the same name; their
/// defaults are cherrys' (`RedisConfig::default()`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `url`: the server as a `redis://` or `rediss://` URL; overrides host, port, db, user
    /// and password.
    pub url: Setting<Option<String>>,
    /// `host`: the server's (or with `is_sentinel`, the Sentinel's) host.
    pub host: Setting<String>,
    /// `port`: its port.
    pub port: Setting<i64>,
    /// `db`: the database number.
    pub db: Setting<i64>,
    /// `user`: the ACL user.
    pub user: Setting<Option<String>>,
    /// `password`: the password.
    pub password: Setting<Option<String>>,
    /// `prefix`: prepended to the session id to make its key.
    pub prefix: Setting<String>,
    /// `lock_prefix`: prepended to the session id to make its lock's key; must differ from
    /// `prefix`.
    pub lock_prefix: Setting<String>,
    /// `ssl`: TLS to a server reached by host and port.
    pub ssl: Setting<bool>,
    /// `tls_skip_verify`: do not verify the server's certificate (cherrys reads it only with
    /// `is_sentinel`).
    pub tls_skip_verify: Setting<bool>,
    /// `is_sentinel`: host and port are a Redis Sentinel's.
    pub is_sentinel: Setting<bool>,
    /// `sentinel_pass`: the Sentinel's password.
    pub sentinel_pass: Setting<Option<String>>,
    /// `sentinel_service`: the master's name at the Sentinel.
    pub sentinel_service: Setting<Option<String>>,
    /// `cluster`: host and port (or `url`) name a node of a Redis Cluster.
    pub cluster: Setting<bool>,
}

impl ToJson for StorageConfig {
    fn to_json(&self) -> Json {
        json!(self.as_str())
    }
}

/// The storage is put together by `resolve` from `storage_type`, `storage_class` and the
/// store's options; the table's pick of the `storage` field only gives its default.
impl FromTyped for StorageConfig {
    fn from_typed(_: &Typed) -> Option<Self> {
        None
    }
}
