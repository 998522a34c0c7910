//! [`StorageConfig`]'s constructors for code and what it says of itself; the enum and
//! [`RedisConfig`](super::RedisConfig) are generated from the settings table (`table.rs`),
//! one variant per store with that store's options.

use serde_json::{Value as Json, json};

use super::origin::{Setting, SettingOrigin};
use super::table::{Defaults, RedisConfig, StorageConfig};
use super::typed::{FromTyped, Typed};
use super::types::{StorageKind, ToJson};

impl StorageConfig {
    /// A file store in `path`, set in code (any other option of the file store at its
    /// default).
    pub fn file(path: impl Into<String>) -> Self {
        let mut storage = StorageConfig::picked_file(&Defaults);
        if let StorageConfig::File { path: option, .. } = &mut storage {
            *option = Setting::new(Some(path.into()), SettingOrigin::Code);
        }
        storage
    }

    /// A memcached store on `servers` (`"host:port"` strings), set in code (any other
    /// option of the memcached store at its default).
    pub fn memcached<S: Into<String>>(servers: impl IntoIterator<Item = S>) -> Self {
        let mut storage = StorageConfig::picked_memcached(&Defaults);
        if let StorageConfig::Memcached {
            servers: option, ..
        } = &mut storage
        {
            *option = Setting::new(
                servers.into_iter().map(Into::into).collect(),
                SettingOrigin::Code,
            );
        }
        storage
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

/// cherrys' defaults (`cherrys.RedisSession`'s class attributes) and ours for `cluster`: a
/// server on `127.0.0.1:6379`, database 0, no prefix, locks under `lock_`.
impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig::picked(&Defaults)
    }
}
