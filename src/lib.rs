//! # actix-cherrypy
//!
//! Move a CherryPy site to actix-web without touching its config files: read CherryPy config
//! files exactly as CherryPy 18 reads them, and serve sessions with CherryPy's semantics.
//!
//! ```no_run
//! use actix_cherrypy::middleware::from_cherrypy_config;
//! use actix_cherrypy::session::Session;
//! use actix_web::{App, HttpServer, web};
//!
//! async fn count(session: Session) -> actix_web::Result<String> {
//!     let n: i64 = session.get("n")?.unwrap_or(0) + 1;
//!     session.insert("n", n)?;
//!     Ok(format!("{n} visits"))
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! HttpServer::new(|| {
//!     App::new()
//!         .wrap(from_cherrypy_config("site.conf"))
//!         .route("/", web::get().to(count))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # }
//! ```
//!
//! `from_cherrypy_config` reads the file once per process, so every worker shares one
//! session store; [`middleware::CherryPySessions::from_file`] returns the located error
//! instead of panicking.
//!
//! The layers run one way, each in its own module: [`source`] (text, spans) → [`ini`]
//! (configparser's dialect, lossless) → [`unrepr`] (the value language, never executed) →
//! [`config`] (CherryPy's sections, per-path merge, presets) → [`session_config`] (typed
//! session settings from every CherryPy era) → [`middleware`], [`session`] and [`store`].
//!
//! ```
//! use actix_cherrypy::config::Config;
//!
//! let loaded = Config::load(&["fixtures/site.conf"]).expect("a valid config");
//! let admin = loaded.value.for_path("/admin/users");
//! assert!(admin.get("tools.sessions.on").is_some());
//! ```
//!
//! Nothing in a config file is ever executed: where CherryPy would import a module or call a
//! function (`myapp.Root()`), the value is kept as an unevaluated expression. A closed list of
//! pure path and string helpers (`os.sep`, `os.path.join(os.getcwd(), 'x')`, `'a'.upper()`)
//! is computed as Python computes it (see [`unrepr`]).
//!
//! | feature | what it adds |
//! |---|---|
//! | `cli` | the `cherrypy-config` command (`check`, `dump`, `explain`, `migrate`): `cargo install actix-cherrypy --features cli` |
//! | `json` | `to_json` renderings of configs and explanations; turns on serde_json's `arbitrary_precision` and `preserve_order` for the whole build |
//! | `memcached` | `storage_type = "memcached"`: CherryPy's MemcachedSession format, shared with CherryPy |
//! | `redis` | `storage_type = "redis"`: the `cherrys` package's format |
//! | `actix-session` | `bridge`: the same settings on actix-session's middleware |
//!
//! No feature is on by default: the RAM and file stores need none.

#[cfg(feature = "actix-session")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-session")))]
pub mod bridge;
pub mod config;
pub mod cookie;
pub mod diagnostic;
pub mod ini;
pub mod limits;
pub mod middleware;
pub mod migrate;
pub mod session;
pub mod session_config;
pub mod session_id;
pub mod session_value;
pub mod source;
pub mod store;
pub mod unrepr;

pub use diagnostic::{Diagnostic, Loaded, Severity};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
