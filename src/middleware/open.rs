//! The stores a config asks for, opened once per process and checked at startup: what
//! cannot work (a missing directory, a server that cannot be reached, a class no store is
//! mapped to) is a located error before the first request, not a 500 on every one.

use crate::config::ConfigError;
use crate::diagnostic::Diagnostic;
use crate::session_config::{SessionConfig, StorageKind};
use crate::store::{AnyStore, FileStore, RamStore, SessionStore};

/// What opening the stores needs besides the settings: set with the builder.
#[derive(Debug, Default, Clone)]
pub(crate) struct Startup {
    pub(crate) unreachable: Unreachable,
    /// Stores of the application's own, by the `storage_class` name that selects each.
    pub(crate) classes: Vec<(String, AnyStore)>,
}

/// Which store a path's settings use: paths with equal keys share one.
pub(super) type StoreKey = (StorageKind, String);

pub(super) fn store_key(config: &SessionConfig) -> StoreKey {
    let kind = config.storage.value;
    let place = match kind {
        StorageKind::Ram => String::new(),
        StorageKind::Custom => config.storage_class.value.clone().unwrap_or_default(),
        StorageKind::File => config.storage_path.value.clone().unwrap_or_default(),
        StorageKind::Memcached => config.servers.value.join(","),
        StorageKind::Redis => format!(
            "{:?} {}:{}/{} {:?} {:?} {} {} {} {} {} {:?} {:?} {}",
            config.redis_url.value,
            config.redis_host.value,
            config.redis_port.value,
            config.redis_db.value,
            config.redis_user.value,
            config.redis_password.value,
            config.redis_prefix.value,
            config.redis_lock_prefix.value,
            config.redis_ssl.value,
            config.redis_tls_skip_verify.value,
            config.redis_is_sentinel.value,
            config.redis_sentinel_service.value,
            config.redis_sentinel_pass.value,
            config.redis_cluster.value,
        ),
    };
    (kind, place)
}

/// A startup error at the place a setting was written.
fn located(
    code: &'static str,
    message: String,
    origin: &crate::session_config::SettingOrigin,
) -> ConfigError {
    at_setting(Diagnostic::error(code, message), origin)
}

/// `d`, pointed at the value of the setting `origin` says was written (if it was).
fn at_setting(mut d: Diagnostic, origin: &crate::session_config::SettingOrigin) -> ConfigError {
    if let Some(place) = origin.place() {
        d = d
            .at(&place.file, place.value_span)
            .in_entry(&place.section, Some(place.key()));
    }
    ConfigError::from(d)
}

/// What to do at startup when a memcached or Redis server cannot be reached (set with
/// [`CherryPySessionsBuilder::unreachable_store`](super::CherryPySessionsBuilder::unreachable_store)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unreachable {
    /// Refuse to start, with a located error (the default): a site that cannot keep
    /// sessions finds out before it serves anybody.
    #[default]
    Fail,
    /// Start all the same and log a warning: requests fail until the server is back, and
    /// the store reconnects by itself.
    Warn,
}

/// How long the startup check waits for a store's server to accept a connection.
const REACH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Connects to each server the store talks to (a TCP connection, then closed), so a server
/// that is down or misnamed shows at startup, at the config line that names it.
pub(super) fn check_reachable(
    store: &AnyStore,
    config: &SessionConfig,
    unreachable: Unreachable,
) -> Result<(), ConfigError> {
    use std::net::{TcpStream, ToSocketAddrs};
    for (host, port) in store.servers() {
        let reached = (host.as_str(), port)
            .to_socket_addrs()
            .and_then(|mut addrs| {
                addrs.next().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no address for the name")
                })
            })
            .and_then(|addr| TcpStream::connect_timeout(&addr, REACH_TIMEOUT));
        if let Err(e) = reached {
            let message = format!(
                "the {} server {host}:{port} cannot be reached: {e}",
                config.storage.value.as_str()
            );
            match unreachable {
                Unreachable::Fail => {
                    return Err(located(
                        "store-unreachable",
                        message,
                        &config.storage.origin,
                    ));
                }
                Unreachable::Warn => tracing::warn!(
                    "{message}; starting all the same: its requests fail until it is back"
                ),
            }
        }
    }
    Ok(())
}

/// The store a path's settings ask for; what cannot work is a located startup error rather
/// than a 500 on every request.
pub(super) fn open_store(
    config: &SessionConfig,
    classes: &[(String, AnyStore)],
) -> Result<AnyStore, ConfigError> {
    match config.storage.value {
        StorageKind::Ram => Ok(AnyStore::Ram(RamStore::new())),
        StorageKind::Custom => {
            let class = config.storage_class.value.as_deref().unwrap_or_default();
            match classes.iter().find(|(name, _)| name == class) {
                Some((_, store)) => Ok(store.clone()),
                None => Err(at_setting(
                    crate::session_config::custom_class(class, true),
                    &config.storage_class.origin,
                )),
            }
        }
        StorageKind::File => {
            let Some(dir) = config.storage_path.value.as_deref() else {
                return Err(located(
                    "missing-storage-path",
                    "file storage needs tools.sessions.storage_path".into(),
                    &config.storage.origin,
                ));
            };
            FileStore::new(dir).map(AnyStore::File).map_err(|e| {
                let hint = if e.kind() == std::io::ErrorKind::NotFound {
                    " (CherryPy never creates it)"
                } else {
                    ""
                };
                located(
                    "storage-path",
                    format!("the session directory {dir:?} cannot be used: {e}{hint}"),
                    &config.storage_path.origin,
                )
            })
        }
        StorageKind::Memcached => open_memcached(config),
        StorageKind::Redis => open_redis(config),
    }
}

#[cfg(feature = "memcached")]
fn open_memcached(config: &SessionConfig) -> Result<AnyStore, ConfigError> {
    crate::store::MemcachedStore::new(&config.servers.value)
        .map(AnyStore::Memcached)
        .map_err(|e| located("memcached-servers", e.to_string(), &config.servers.origin))
}

#[cfg(not(feature = "memcached"))]
fn open_memcached(config: &SessionConfig) -> Result<AnyStore, ConfigError> {
    Err(missing_feature("memcached", config))
}

#[cfg(feature = "redis")]
fn open_redis(config: &SessionConfig) -> Result<AnyStore, ConfigError> {
    let prefix = config.redis_prefix.value.clone();
    // cherrys tests is_sentinel first: `url` and `db` are then not read.
    let store = match &config.redis_url.value {
        _ if config.redis_is_sentinel.value => open_sentinel(config, prefix)?,
        Some(url) => crate::store::RedisStore::new(url, prefix)
            .map_err(|e| located("redis-url", format!("{e}"), &config.redis_url.origin))?,
        None => {
            let port = redis_port(config)?;
            let store = crate::store::RedisStore::from_parts(
                &config.redis_host.value,
                port,
                config.redis_db.value,
                config.redis_user.value.as_deref(),
                config.redis_password.value.as_deref(),
                prefix,
            )
            .map_err(|e| located("redis-host", format!("{e}"), &config.redis_host.origin))?;
            // cherrys passes `ssl` to redis-py only when it connects by host and port.
            if config.redis_ssl.value {
                store
                    .over_tls()
                    .map_err(|e| located("redis-ssl", format!("{e}"), &config.redis_ssl.origin))?
            } else {
                store
            }
        }
    };
    let store = match (config.redis_cluster.value, config.redis_is_sentinel.value) {
        (false, _) => store,
        (true, true) => {
            return Err(located(
                "redis-cluster",
                "cluster = True and is_sentinel = True: a Redis Cluster fails over by itself, without a sentinel; set one of them".to_owned(),
                &config.redis_cluster.origin,
            ));
        }
        (true, false) => store.in_cluster().map_err(|e| {
            located(
                "redis-cluster",
                format!("{e}"),
                &config.redis_cluster.origin,
            )
        })?,
    };
    let store = store
        .with_lock_prefix(config.redis_lock_prefix.value.clone())
        .map_err(|e| {
            let error = crate::store::ErrorChain(&e);
            located(
                "redis-lock-prefix",
                format!("{error}"),
                &config.redis_lock_prefix.origin,
            )
        })?;
    Ok(AnyStore::Redis(store))
}

/// cherrys' `is_sentinel = True`: `host`/`port` name the sentinel, `sentinel_service` the
/// master, `sentinel_pass` the sentinel's password; `user`, `password`, `ssl` and
/// `tls_skip_verify` apply as cherrys passes them to redis-py's `Sentinel`.
/// `port` as a TCP port: a config file's is checked when it is read, one set in code here.
#[cfg(feature = "redis")]
fn redis_port(config: &SessionConfig) -> Result<u16, ConfigError> {
    u16::try_from(config.redis_port.value).map_err(|_| {
        located(
            "redis-port",
            format!("{} is not a port", config.redis_port.value),
            &config.redis_port.origin,
        )
    })
}

#[cfg(feature = "redis")]
fn open_sentinel(
    config: &SessionConfig,
    prefix: String,
) -> Result<crate::store::RedisStore, ConfigError> {
    let Some(service) = &config.redis_sentinel_service.value else {
        return Err(located(
            "redis-sentinel-service",
            "is_sentinel = True needs tools.sessions.sentinel_service, the name the sentinel knows the master by".to_owned(),
            &config.redis_is_sentinel.origin,
        ));
    };
    let port = redis_port(config)?;
    let mut options =
        crate::store::SentinelOptions::new(config.redis_host.value.clone(), port, service.clone());
    options.user = config.redis_user.value.clone();
    options.password = config.redis_password.value.clone();
    options.sentinel_password = config.redis_sentinel_pass.value.clone();
    options.tls = config.redis_ssl.value;
    options.tls_skip_verify = config.redis_tls_skip_verify.value;
    crate::store::RedisStore::through_sentinel(&options, prefix)
        .map_err(|e| located("redis-host", format!("{e}"), &config.redis_host.origin))
}

#[cfg(not(feature = "redis"))]
fn open_redis(config: &SessionConfig) -> Result<AnyStore, ConfigError> {
    Err(missing_feature("redis", config))
}

#[cfg(not(all(feature = "memcached", feature = "redis")))]
fn missing_feature(feature: &str, config: &SessionConfig) -> ConfigError {
    located(
        "storage-feature-missing",
        format!(
            "{feature} session storage is not in this build: enable the `{feature}` feature of actix-cherrypy (cargo add actix-cherrypy --features {feature})"
        ),
        &config.storage.origin,
    )
}
