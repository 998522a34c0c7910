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

/// One step of the session tool (a lock taken, a session loaded or saved): a `debug` event,
/// or an `info` one on paths with `tools.sessions.debug = True`, which is how CherryPy's
/// `debug` puts these steps in its log.
macro_rules! step {
    ($config:expr, $($event:tt)+) => {
        if $config.debug.value {
            tracing::info!($($event)+)
        } else {
            tracing::debug!($($event)+)
        }
    };
}

mod builder;
mod error;
mod open;
mod request_path;
mod save;
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
use crate::store::{AnyStore, RamStore};

pub use builder::CherryPySessionsBuilder;
pub use error::SessionError;
pub(crate) use open::Startup;
pub use open::Unreachable;
use open::{StoreKey, check_reachable, learn_limits, open_store, store_key};
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
    /// What startup found wrong but not fatal, as it was logged.
    warnings: Vec<Diagnostic>,
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

    /// Config files already read, later ones winning.
    fn from_sources(
        sources: &[Arc<crate::source::SourceFile>],
        startup: &Startup,
    ) -> Result<Self, ConfigError> {
        let loaded = SessionConfigs::from_sources(sources)?;
        // A class of the application's own is only a mistake if the application did not
        // map it to a store; then opening the store says so, as an error.
        let mapped = |d: &Diagnostic| {
            startup
                .classes
                .iter()
                .any(|(class, _)| crate::session_config::is_about_custom_class(d, class))
        };
        let warnings = loaded.warnings.into_iter().filter(|d| !mapped(d)).collect();
        Self::with_settings(Settings::Files(loaded.value), startup, warnings)
    }

    /// Every path uses `config` (for code-only setups). It is checked first as a config
    /// file's values are ([`SessionConfig::check`]): a value a file may not give is an
    /// error here too, with the same code and message.
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
        // What a config file may not give is refused here too, with the file's words, and
        // logged as the builder logs a file's error.
        let opened = config.check().and_then(|warnings| {
            let single = Settings::Single(Arc::new(config));
            Self::with_settings(single, &Startup::default(), warnings)
        });
        opened.inspect_err(|err| tracing::error!("{err}"))
    }

    /// Opens the stores `configs` need; `warnings` (the config's) and what opening them
    /// finds are logged, each once, and kept.
    fn with_settings(
        configs: Settings,
        startup: &Startup,
        mut warnings: Vec<Diagnostic>,
    ) -> Result<Self, ConfigError> {
        // Logged before the stores are opened: they are said even if opening one fails.
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
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
                    let store = open_store(config, &startup.classes, &mut warnings)?;
                    let unreached =
                        check_reachable(&store, config, startup.unreachable, &mut warnings)?;
                    learn_limits(&store, &unreached, &mut warnings);
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
                warnings,
            }),
        })
    }

    /// What startup found wrong but could run with, in the words it logged them (each
    /// once, at `warn`) and `cherrypy-config check` prints: the config's warnings, and what
    /// opening the stores found (a shared session directory, a server started all the same
    /// though it could not be reached).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.shared.warnings
    }

    /// The RAM store behind these sessions, if they use one (for tests and tooling).
    pub fn ram_store(&self) -> Option<&RamStore> {
        self.shared.stores.iter().find_map(|(_, s)| s.as_ram())
    }
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
