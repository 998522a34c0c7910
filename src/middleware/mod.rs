//! The actix-web middleware: CherryPy's session tool for every request whose path has
//! `tools.sessions.on`.
//!
//! Build it once, outside `HttpServer::new`, and clone it into each worker, so all workers
//! share one store:
//!
//! ```no_run
//! use actix_cherrypy::middleware::CherryPySessions;
//! use actix_web::{App, HttpServer};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let sessions = CherryPySessions::from_file("fixtures/site.conf")?;
//! HttpServer::new(move || App::new().wrap(sessions.clone()))
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`from_cherrypy_config`] may also be called inside the closure: it reads each file once
//! per process and hands every worker the same store.

mod builder;
mod error;
mod service;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};

use crate::config::ConfigError;
use crate::diagnostic::Diagnostic;
use crate::session_config::{SessionConfig, SessionConfigs, StorageKind};
use crate::store::{AnyStore, FileStore, RamStore, SessionStore};

pub use builder::CherryPySessionsBuilder;
pub use error::SessionError;
pub use service::SessionMiddleware;

/// CherryPy's session tool as actix-web middleware. Cheap to clone; clones share settings
/// and stores.
///
/// Built from a CherryPy config ([`from_file`](Self::from_file), [`builder`](Self::builder))
/// or from settings made in code ([`from_session_config`](Self::from_session_config)), and
/// wrapped around an app; here in actix-web's test service, so no server is needed:
///
/// ```
/// use actix_cherrypy::{CherryPySessions, Session};
/// use actix_web::{App, test, web};
///
/// # actix_web::rt::System::new().block_on(async {
/// let sessions = CherryPySessions::from_file("fixtures/site.conf")?;
/// let app = test::init_service(App::new().wrap(sessions.clone()).route(
///     "/",
///     web::get().to(|session: Session| async move {
///         let n: i64 = session.get("n")?.unwrap_or(0) + 1;
///         session.insert("n", n)?;
///         Ok::<_, actix_web::Error>(n.to_string())
///     }),
/// ))
/// .await;
/// let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
/// // CherryPy's cookie: `session_id`, 40 hex digits, and the settings of `[global]`.
/// let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap();
/// assert!(cookie.starts_with("session_id="), "{cookie}");
/// assert!(cookie.contains("HttpOnly"), "{cookie}");
/// assert_eq!(test::read_body(response).await, "1");
/// # Ok::<(), actix_cherrypy::ConfigError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct CherryPySessions {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) configs: Settings,
    /// One store per distinct storage (kind and where), shared by the paths using it.
    stores: Vec<(StoreKey, AnyStore)>,
    /// Each settings' store, by the settings' address (looked up on every request; the
    /// keys are our own pointers, so a fast non-keyed hash is safe).
    by_config: rustc_hash::FxHashMap<usize, usize>,
    /// The clean-up task starts with the first worker (it needs a running runtime).
    sweeper: std::sync::Once,
}

impl Shared {
    /// The store of a path's settings.
    pub(crate) fn store_for(&self, config: &Arc<SessionConfig>) -> &AnyStore {
        let at = self
            .by_config
            .get(&(Arc::as_ptr(config) as usize))
            .copied()
            .unwrap_or(0);
        &self.stores[at].1
    }

    /// CherryPy's clean-up every `clean_freq` minutes of the site's root settings;
    /// `clean_freq = 0` turns it off. Each store's task ends when the middleware is gone.
    fn start_clean_up(self: &Arc<Self>) {
        self.sweeper.call_once(|| {
            let freq = self.configs.for_path("/").clean_freq.value;
            if freq.is_zero() || freq.as_f64() <= 0.0 {
                return;
            }
            for at in 0..self.stores.len() {
                let weak = Arc::downgrade(self);
                let upgrade = move || weak.upgrade().map(|shared| shared.stores[at].1.clone());
                drop(crate::store::spawn_clean_up(freq.as_duration(), upgrade));
            }
        });
    }
}

/// Where each path's settings come from.
pub(crate) enum Settings {
    /// Read from config files, per path.
    Files(SessionConfigs),
    /// One `SessionConfig` for every path (the builder).
    Single(Arc<SessionConfig>),
}

impl Settings {
    pub(crate) fn for_path(&self, path: &str) -> &Arc<SessionConfig> {
        match self {
            Settings::Files(configs) => configs.shared_for_path(path),
            Settings::Single(config) => config,
        }
    }
}

impl std::fmt::Debug for CherryPySessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CherryPySessions").finish_non_exhaustive()
    }
}

impl CherryPySessions {
    /// Reads a CherryPy config file; its first error is returned, located. Its warnings
    /// (a misspelt key, a legacy name, a value CherryPy reads differently than it looks)
    /// are logged once, here, in the words `cherrypy-config check` prints.
    ///
    /// Build it once, outside `HttpServer::new`, so every worker shares one store:
    ///
    /// ```no_run
    /// use actix_cherrypy::middleware::CherryPySessions;
    /// use actix_web::{App, HttpServer};
    ///
    /// # async fn run() -> anyhow::Result<()> {
    /// let sessions = CherryPySessions::from_file("fixtures/site.conf")?;
    /// HttpServer::new(move || App::new().wrap(sessions.clone()))
    ///     .bind(("127.0.0.1", 8080))?
    ///     .run()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// A config with an error is refused with its place:
    ///
    /// ```
    /// use actix_cherrypy::middleware::CherryPySessions;
    ///
    /// let dir = std::env::temp_dir();
    /// let bad = dir.join("actix-cherrypy-doc-bad.conf");
    /// std::fs::write(&bad, "[/]\ntools.sessions.timeout = 1e999\n").unwrap();
    /// let err = CherryPySessions::from_file(&bad).unwrap_err();
    /// assert_eq!(err.diagnostic().code, "value-out-of-range");
    /// assert!(err.to_string().contains("actix-cherrypy-doc-bad.conf:2:"));
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::builder().file(path.as_ref()).build()
    }

    /// Several config files and values set in code, layered: see
    /// [`CherryPySessionsBuilder`]. A later layer wins, key by key, in the same section:
    ///
    /// ```
    /// use actix_cherrypy::CherryPySessions;
    ///
    /// let dir = std::env::temp_dir();
    /// let production = dir.join("actix-cherrypy-doc-production.conf");
    /// std::fs::write(&production, "[/admin]\ntools.sessions.timeout = 5\n").unwrap();
    /// let sessions = CherryPySessions::builder()
    ///     .file("fixtures/site.conf") // [/admin] timeout = 15
    ///     .file(&production) // ... 5 in production
    ///     .set("/", "tools.sessions.secure", "True") // a Python literal, as in a file
    ///     .build()?;
    /// # Ok::<(), actix_cherrypy::ConfigError>(())
    /// ```
    ///
    /// An error in a value set in code is located in `<code>`, the file the values set in
    /// code make (a `[section]` line, then one line per value), as `explain` shows it:
    ///
    /// ```
    /// use actix_cherrypy::CherryPySessions;
    ///
    /// let err = CherryPySessions::builder()
    ///     .set("/", "tools.sessions.on", "True")
    ///     .set("/", "tools.sessions.timeout", "sixty")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("<code>:3:"), "{err}");
    /// assert_eq!(err.diagnostic().code, "session-unresolved-name");
    /// ```
    pub fn builder() -> CherryPySessionsBuilder {
        CherryPySessionsBuilder::default()
    }

    /// Config files already read, later ones winning; their warnings are logged once.
    fn from_sources(
        sources: &[Arc<crate::source::SourceFile>],
        startup: &Startup,
    ) -> Result<Self, ConfigError> {
        let loaded = SessionConfigs::from_sources(sources)?;
        // A class of the application's own is only a mistake if the application did not
        // map it to a store; then opening the store says so, as an error.
        let mapped = |d: &Diagnostic| {
            d.code == crate::session_config::codes::CUSTOM_STORAGE_CLASS
                && startup
                    .classes
                    .iter()
                    .any(|(class, _)| d.message.starts_with(&format!("`{class}`")))
        };
        for warning in loaded.warnings.iter().filter(|d| !mapped(d)) {
            tracing::warn!("{warning}");
        }
        Self::with_settings(Settings::Files(loaded.value), startup)
    }

    /// Every path uses `config` (for code-only setups).
    ///
    /// ```
    /// use actix_cherrypy::session_config::{LockingMode, SessionConfig};
    /// use actix_cherrypy::CherryPySessions;
    ///
    /// let config = SessionConfig::default()
    ///     .on(true)
    ///     .timeout_minutes(30)
    ///     .locking(LockingMode::Early)
    ///     .httponly(true);
    /// let sessions = CherryPySessions::from_session_config(config)?;
    /// assert!(sessions.ram_store().is_some(), "RAM storage: the default");
    /// # Ok::<(), actix_cherrypy::ConfigError>(())
    /// ```
    pub fn from_session_config(config: SessionConfig) -> Result<Self, ConfigError> {
        Self::with_settings(Settings::Single(Arc::new(config)), &Startup::default())
    }

    fn with_settings(configs: Settings, startup: &Startup) -> Result<Self, ConfigError> {
        let all: Vec<Arc<SessionConfig>> = match &configs {
            Settings::Files(files) => files.all_shared().cloned().collect(),
            Settings::Single(config) => vec![Arc::clone(config)],
        };
        let mut stores: Vec<(StoreKey, AnyStore)> = Vec::new();
        let mut by_config = rustc_hash::FxHashMap::default();
        for config in &all {
            let key = store_key(config);
            let at = match stores.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None if config.on.value => {
                    let store = open_store(config, &startup.classes)?;
                    check_reachable(&store, config, startup.unreachable)?;
                    stores.push((key, store));
                    stores.len() - 1
                }
                // Sessions are off here: no store is needed (or checked).
                None => continue,
            };
            by_config.insert(Arc::as_ptr(config) as usize, at);
        }
        if stores.is_empty() {
            stores.push((
                (StorageKind::Ram, String::new()),
                AnyStore::Ram(RamStore::new()),
            ));
        }
        Ok(Self {
            shared: Arc::new(Shared {
                configs,
                stores,
                by_config,
                sweeper: std::sync::Once::new(),
            }),
        })
    }

    /// The RAM store behind these sessions, if they use one (for tests and tooling).
    pub fn ram_store(&self) -> Option<&RamStore> {
        self.shared.stores.iter().find_map(|(_, s)| s.as_ram())
    }
}

/// What opening the stores needs besides the settings: set with the builder.
#[derive(Debug, Default, Clone)]
pub(crate) struct Startup {
    pub(crate) unreachable: Unreachable,
    /// Stores of the application's own, by the `storage_class` name that selects each.
    pub(crate) classes: Vec<(String, AnyStore)>,
}

/// Which store a path's settings use: paths with equal keys share one.
type StoreKey = (StorageKind, String);

fn store_key(config: &SessionConfig) -> StoreKey {
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
    let mut d = Diagnostic::error(code, message);
    if let Some(place) = origin.place() {
        d = d
            .at(&place.file, place.value_span)
            .in_entry(&place.section, Some(place.key()));
    }
    ConfigError::from(d)
}

/// What to do at startup when a memcached or Redis server cannot be reached (set with
/// [`CherryPySessionsBuilder::unreachable_store`]).
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
fn check_reachable(
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
fn open_store(
    config: &SessionConfig,
    classes: &[(String, AnyStore)],
) -> Result<AnyStore, ConfigError> {
    match config.storage.value {
        StorageKind::Ram => Ok(AnyStore::Ram(RamStore::new())),
        StorageKind::Custom => {
            let class = config.storage_class.value.as_deref().unwrap_or_default();
            match classes.iter().find(|(name, _)| name == class) {
                Some((_, store)) => Ok(store.clone()),
                None => {
                    let mut d = crate::session_config::custom_class(class, true);
                    if let Some(place) = config.storage_class.origin.place() {
                        d = d
                            .at(&place.file, place.value_span)
                            .in_entry(&place.section, Some(place.key()));
                    }
                    Err(ConfigError::from(d))
                }
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
            let port = u16::try_from(config.redis_port.value).map_err(|_| {
                located(
                    "redis-port",
                    format!("{} is not a port", config.redis_port.value),
                    &config.redis_port.origin,
                )
            })?;
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
    let port = u16::try_from(config.redis_port.value).map_err(|_| {
        located(
            "redis-port",
            format!("{} is not a port", config.redis_port.value),
            &config.redis_port.origin,
        )
    })?;
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

/// `App::new().wrap(from_cherrypy_config("site.conf"))`. Each file is read once per process
/// (by canonical path), so every worker shares one store.
///
/// ```no_run
/// use actix_cherrypy::from_cherrypy_config;
/// use actix_web::{App, HttpServer};
///
/// # async fn run() -> std::io::Result<()> {
/// HttpServer::new(|| App::new().wrap(from_cherrypy_config("fixtures/site.conf")))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await
/// # }
/// ```
///
/// Every call with the same file gives the same sessions (one store):
///
/// ```
/// use actix_cherrypy::from_cherrypy_config;
///
/// let one = from_cherrypy_config("fixtures/site.conf");
/// let two = from_cherrypy_config("./fixtures/site.conf");
/// assert!(std::ptr::eq(one.ram_store().unwrap(), two.ram_store().unwrap()));
/// ```
///
/// # Panics
/// When the config has an error: the message is the located diagnostic. Use
/// [`CherryPySessions::from_file`] to handle it yourself.
pub fn from_cherrypy_config(path: impl AsRef<Path>) -> CherryPySessions {
    static BUILT: OnceLock<Mutex<HashMap<PathBuf, CherryPySessions>>> = OnceLock::new();
    let path = path.as_ref();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(sessions) = built.get(&key) {
        return sessions.clone();
    }
    match CherryPySessions::from_file(path) {
        Ok(sessions) => {
            built.insert(key, sessions.clone());
            sessions
        }
        Err(err) => panic!("{}", err.diagnostic()),
    }
}

impl<S, B> Transform<S, ServiceRequest> for CherryPySessions
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = SessionMiddleware<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        self.shared.start_clean_up();
        std::future::ready(Ok(SessionMiddleware::new(
            service,
            Arc::clone(&self.shared),
        )))
    }
}

/// Run by `cargo test --no-default-features --lib` (scripts/test.sh): a build without a
/// store's feature rejects a config that asks for it, at startup, where it is written.
#[cfg(all(test, not(feature = "memcached"), not(feature = "redis")))]
mod missing_features {
    use super::*;

    #[test]
    fn a_store_the_build_lacks_is_a_located_startup_error() {
        for (storage, feature) in [("memcached", "memcached"), ("redis", "redis")] {
            let dir = std::env::temp_dir().join(format!(
                "actix-cherrypy-missing-{feature}-{}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let conf = dir.join("site.conf");
            std::fs::write(
                &conf,
                format!(
                    "[/]\ntools.sessions.on = True\ntools.sessions.storage_type = '{storage}'\n"
                ),
            )
            .unwrap();
            let err = CherryPySessions::from_file(&conf).unwrap_err();
            let d = err.diagnostic();
            assert_eq!(d.code, "storage-feature-missing");
            assert!(
                d.message.contains(&format!("`{feature}` feature")),
                "{}",
                d.message
            );
            let location = d.location.as_ref().expect("located");
            assert_eq!(location.line_column(), (3, 31), "{d}");
        }
    }
}
