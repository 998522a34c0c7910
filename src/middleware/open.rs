//! The stores a config asks for, opened once per process and checked at startup: what
//! cannot work (a missing directory, a server that cannot be reached, a class no store is
//! mapped to) is a located error before the first request, not a 500 on every one.

use crate::config::ConfigError;
use crate::diagnostic::Diagnostic;
use crate::session_config::{
    RedisConfig, SessionConfig, Setting, SettingOrigin, StorageConfig, StorageKind,
};
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
    let storage = &config.storage.value;
    (storage.kind(), storage.identity())
}

/// A startup error at the place a setting was written.
fn located(code: &'static str, message: String, origin: &SettingOrigin) -> ConfigError {
    at_setting(Diagnostic::error(code, message), origin)
}

/// `d`, pointed at the value of the setting `origin` says was written (if it was).
fn at_setting(d: Diagnostic, origin: &SettingOrigin) -> ConfigError {
    ConfigError::from(pointed(d, origin))
}

fn pointed(mut d: Diagnostic, origin: &SettingOrigin) -> Diagnostic {
    if let Some(place) = origin.place() {
        d = d
            .at(&place.file, place.value_span)
            .in_entry(&place.section, Some(place.key()));
    }
    d
}

/// A warning found opening the stores: logged now, and kept with the others.
fn warn(warnings: &mut Vec<Diagnostic>, d: Diagnostic) {
    tracing::warn!("{d}");
    warnings.push(d);
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
/// that is down or misnamed shows at startup, at the config line that names it. Returns
/// the servers that could not be reached, when the app starts all the same.
pub(super) fn check_reachable(
    store: &AnyStore,
    config: &SessionConfig,
    unreachable: Unreachable,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<(String, u16)>, ConfigError> {
    use std::net::{TcpStream, ToSocketAddrs};
    let mut unreached = Vec::new();
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
                Unreachable::Warn => warn(
                    warnings,
                    pointed(
                        Diagnostic::warning(
                            "store-unreachable",
                            format!(
                                "{message}; starting all the same: its requests fail until it is back"
                            ),
                        ),
                        &config.storage.origin,
                    ),
                ),
            }
            unreached.push((host, port));
        }
    }
    Ok(unreached)
}

/// Asks the store's servers what they can hold, where the session budget depends on it
/// (memcached's item size limit): a session too large for them is then refused when a
/// value is inserted, not by the server at the save. A server that does not say is logged,
/// and the store keeps the server's default; one found `unreached` is not asked again (its
/// warning is already in the log).
pub(super) fn learn_limits(
    store: &AnyStore,
    unreached: &[(String, u16)],
    warnings: &mut Vec<Diagnostic>,
) {
    for failure in store.learn_limits(REACH_TIMEOUT, unreached) {
        warn(
            warnings,
            Diagnostic::warning("store-limits", failure.to_string()),
        );
    }
}

/// The store a path's settings ask for; what cannot work is a located startup error rather
/// than a 500 on every request.
pub(super) fn open_store(
    config: &SessionConfig,
    classes: &[(String, AnyStore)],
    warnings: &mut Vec<Diagnostic>,
) -> Result<AnyStore, ConfigError> {
    match &config.storage.value {
        StorageConfig::Custom { class, .. } => {
            match classes.iter().find(|(name, _)| *name == class.value) {
                Some((_, store)) => Ok(store.clone()),
                None => Err(at_setting(
                    crate::session_config::custom_class(&class.value, true),
                    &class.origin,
                )),
            }
        }
        StorageConfig::File { path, .. } => {
            let Some(dir) = path.value.as_deref() else {
                return Err(located(
                    "missing-storage-path",
                    "file storage needs tools.sessions.storage_path".into(),
                    &config.storage.origin,
                ));
            };
            let opened = FileStore::open(dir).map(|(store, shared)| {
                if let Some(shared) = shared {
                    let d = Diagnostic::warning("storage-path-shared", shared);
                    warn(warnings, pointed(d, &path.origin));
                }
                AnyStore::File(store)
            });
            opened.map_err(|e| {
                let hint = if e.kind() == std::io::ErrorKind::NotFound {
                    " (CherryPy never creates it)"
                } else {
                    ""
                };
                located(
                    "storage-path",
                    format!("the session directory {dir:?} cannot be used: {e}{hint}"),
                    &path.origin,
                )
            })
        }
        StorageConfig::Memcached { servers, .. } => open_memcached(servers, &config.storage),
        StorageConfig::Redis(redis) => open_redis(redis, &config.storage),
        StorageConfig::Ram => Ok(AnyStore::Ram(RamStore::new())),
    }
}

#[cfg(feature = "memcached")]
fn open_memcached(
    servers: &Setting<Vec<String>>,
    _storage: &Setting<StorageConfig>,
) -> Result<AnyStore, ConfigError> {
    crate::store::MemcachedStore::new(&servers.value)
        .map(AnyStore::Memcached)
        .map_err(|e| located("memcached-servers", e.to_string(), &servers.origin))
}

#[cfg(not(feature = "memcached"))]
fn open_memcached(
    _servers: &Setting<Vec<String>>,
    storage: &Setting<StorageConfig>,
) -> Result<AnyStore, ConfigError> {
    Err(missing_feature("memcached", storage))
}

#[cfg(feature = "redis")]
fn open_redis(
    config: &RedisConfig,
    _storage: &Setting<StorageConfig>,
) -> Result<AnyStore, ConfigError> {
    let prefix = config.prefix.value.clone();
    // cherrys tests is_sentinel first: `url` and `db` are then not read.
    let store = match &config.url.value {
        _ if config.is_sentinel.value => open_sentinel(config, prefix)?,
        Some(url) => crate::store::RedisStore::new(url, prefix)
            // The store's own words alone ("the session store failed") say nothing of
            // what to fix: its causes do.
            .map_err(|e| {
                let message = crate::store::ErrorChain(&e).to_string();
                located("redis-url", message, &config.url.origin)
            })?,
        None => {
            let port = redis_port(config)?;
            let store = crate::store::RedisStore::from_parts(
                &config.host.value,
                port,
                config.db.value,
                config.user.value.as_deref(),
                config.password.value.as_deref(),
                prefix,
            )
            .map_err(|e| located("redis-host", format!("{e}"), &config.host.origin))?;
            // cherrys passes `ssl` to redis-py only when it connects by host and port.
            if config.ssl.value {
                store
                    .over_tls()
                    .map_err(|e| located("redis-ssl", format!("{e}"), &config.ssl.origin))?
            } else {
                store
            }
        }
    };
    let store = match (config.cluster.value, config.is_sentinel.value) {
        (false, _) => store,
        (true, true) => {
            return Err(located(
                "redis-cluster",
                "cluster = True and is_sentinel = True: a Redis Cluster fails over by itself, without a sentinel; set one of them".to_owned(),
                &config.cluster.origin,
            ));
        }
        (true, false) => store
            .in_cluster()
            .map_err(|e| located("redis-cluster", format!("{e}"), &config.cluster.origin))?,
    };
    let store = store
        .with_lock_prefix(config.lock_prefix.value.clone())
        .map_err(|e| {
            let error = crate::store::ErrorChain(&e);
            located(
                "redis-lock-prefix",
                format!("{error}"),
                &config.lock_prefix.origin,
            )
        })?;
    Ok(AnyStore::Redis(store))
}

/// cherrys' `is_sentinel = True`: `host`/`port` name the sentinel, `sentinel_service` the
/// master, `sentinel_pass` the sentinel's password; `user`, `password`, `ssl` and
/// `tls_skip_verify` apply as cherrys passes them to redis-py's `Sentinel`.
/// `port` as a TCP port: a config file's is checked when it is read, one set in code here.
#[cfg(feature = "redis")]
fn redis_port(config: &RedisConfig) -> Result<u16, ConfigError> {
    u16::try_from(config.port.value).map_err(|_| {
        located(
            "redis-port",
            format!("{} is not a port", config.port.value),
            &config.port.origin,
        )
    })
}

#[cfg(feature = "redis")]
fn open_sentinel(
    config: &RedisConfig,
    prefix: String,
) -> Result<crate::store::RedisStore, ConfigError> {
    let Some(service) = &config.sentinel_service.value else {
        return Err(located(
            "redis-sentinel-service",
            "is_sentinel = True needs tools.sessions.sentinel_service, the name the sentinel knows the master by".to_owned(),
            &config.is_sentinel.origin,
        ));
    };
    let port = redis_port(config)?;
    let mut options =
        crate::store::SentinelOptions::new(config.host.value.clone(), port, service.clone());
    options.user = config.user.value.clone();
    options.password = config.password.value.clone();
    options.sentinel_password = config.sentinel_pass.value.clone();
    options.tls = config.ssl.value;
    options.tls_skip_verify = config.tls_skip_verify.value;
    crate::store::RedisStore::through_sentinel(&options, prefix)
        .map_err(|e| located("redis-host", format!("{e}"), &config.host.origin))
}

#[cfg(not(feature = "redis"))]
fn open_redis(
    _config: &RedisConfig,
    storage: &Setting<StorageConfig>,
) -> Result<AnyStore, ConfigError> {
    Err(missing_feature("redis", storage))
}

#[cfg(not(all(feature = "memcached", feature = "redis")))]
fn missing_feature(feature: &str, storage: &Setting<StorageConfig>) -> ConfigError {
    located(
        "storage-feature-missing",
        format!(
            "{feature} session storage is not in this build: enable the `{feature}` feature of actix-cherrypy (cargo add actix-cherrypy --features {feature})"
        ),
        &storage.origin,
    )
}
