//! The actix-web middleware: CherryPy's session tool for every request whose path has
//! `tools.sessions.on` (spec: sessions §3–9).
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
use crate::store::RamStore;

pub use service::SessionMiddleware;

/// CherryPy's session tool as actix-web middleware. Cheap to clone; clones share settings
/// and stores.
#[derive(Clone)]
pub struct CherryPySessions {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) configs: Settings,
    pub(crate) store: RamStore,
    /// The clean-up task starts with the first worker (it needs a running runtime).
    sweeper: std::sync::Once,
}

impl Shared {
    /// CherryPy's clean-up every `clean_freq` minutes of the site's root settings;
    /// `clean_freq = 0` turns it off (spec: sessions §10).
    fn start_clean_up(&self) {
        self.sweeper.call_once(|| {
            let freq = self.configs.for_path("/").clean_freq.value;
            if !freq.is_zero() && freq.as_f64() > 0.0 {
                let every = std::time::Duration::from_secs_f64(freq.as_f64() * 60.0);
                drop(self.store.spawn_clean_up(every));
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
    /// Reads a CherryPy config file; its first error is returned, located.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let loaded = SessionConfigs::load(&[path.as_ref()])?;
        let configs = loaded.value;
        for config in configs.all().filter(|c| c.on.value) {
            check_storage(config)?;
        }
        Ok(Self::with_settings(Settings::Files(configs)))
    }

    /// Every path uses `config` (for code-only setups).
    pub fn from_session_config(config: SessionConfig) -> Result<Self, ConfigError> {
        check_storage(&config)?;
        Ok(Self::with_settings(Settings::Single(Arc::new(config))))
    }

    fn with_settings(configs: Settings) -> Self {
        let store = RamStore::new();
        Self {
            shared: Arc::new(Shared {
                configs,
                store,
                sweeper: std::sync::Once::new(),
            }),
        }
    }

    /// The RAM store behind these sessions (for tests and tooling).
    pub fn ram_store(&self) -> &RamStore {
        &self.shared.store
    }
}

/// Only the RAM store exists so far; any other storage is a located startup error rather
/// than a 500 on every request.
fn check_storage(config: &SessionConfig) -> Result<(), ConfigError> {
    match config.storage.value {
        StorageKind::Ram => Ok(()),
        other => {
            let mut d = Diagnostic::error(
                "storage-not-available",
                format!("session storage {other:?} is not available in this version yet"),
            );
            if let Some(place) = config.storage.origin.place() {
                d = d
                    .at(&place.file, place.value_span)
                    .in_entry(&place.section, Some(place.key()));
            }
            Err(d.into())
        }
    }
}

/// `App::new().wrap(from_cherrypy_config("site.conf"))`. Each file is read once per process
/// (by canonical path), so every worker shares one store.
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
