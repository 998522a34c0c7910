//! # actix-cherrypy
//!
//! Move a CherryPy site to actix-web without touching its config files: read CherryPy config
//! files exactly as CherryPy 18 reads them, and serve sessions with CherryPy's semantics.
//!
//! ```no_run
//! use actix_cherrypy::{Session, from_cherrypy_config};
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
//! session store; [`CherryPySessions::from_file`] returns the located error instead of
//! panicking.
//!
//! # What is public
//!
//! - [`middleware`]: [`CherryPySessions`] (`from_file`, `builder()`,
//!   `from_session_config`), its builder, [`from_cherrypy_config`], [`middleware::SessionError`]
//!   (what a handler sees when the session tool fails), [`middleware::Unreachable`];
//! - [`session`]: the [`Session`] extractor, [`SessionExt`] (`get_session()` on requests),
//!   [`session::SessionStatus`], [`session::ValueError`]; [`session_value`] and
//!   [`session_id`]: the data a session holds and its id;
//! - [`session_config`]: [`SessionConfig`] (every `tools.sessions.*` setting, each with its
//!   origin), `SessionConfigs` (one per path), `explain`, eras, codes;
//! - [`store`]: the [`store::SessionStore`] trait with [`store::Record`] and
//!   [`store::StoreError`], and the RAM, file, memcached and Redis stores;
//! - [`config`]: what a CherryPy file says, as CherryPy reads it ([`config::Config`],
//!   per-path [`config::Settings`], each value with its [`config::Origin`]), and the text it
//!   was read from ([`config::SourceFile`]); [`unrepr`]: what a value is ([`unrepr::Value`]);
//! - [`diagnostic`]: [`Diagnostic`], [`Severity`], [`Loaded`]; [`limits`]: the budgets for
//!   hostile input; [`migrate`]: CherryPy 2.x files to 3.x syntax; `bridge` (feature
//!   `actix-session`).
//!
//! The INI reader, the value reader, cookie and pickle codecs and the lock tables are
//! internal, so that they can change in any release. (The `__private` module hidden from
//! these docs is how this package's own command, tests, benchmarks and fuzz targets reach
//! them; it is not covered by semver.)
//!
//! The layers run one way, each in its own module: the text and its spans
//! ([`config::SourceFile`]) → configparser's dialect, lossless (internal) → the value
//! language ([`unrepr`], never executed) →
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
//! | `redis` | `storage_class = cherrys.RedisSession` (or `storage_type = "redis"`): the `cherrys` package's format, over TLS, through a Sentinel, or on a Redis Cluster |
//! | `actix-session` | `bridge`: the same settings on actix-session's middleware |
//!
//! No feature is on by default: the RAM and file stores need none.

#[cfg(feature = "actix-session")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-session")))]
pub mod bridge;
pub mod config;
mod cookie;
pub mod diagnostic;
mod ini;
pub mod limits;
pub mod middleware;
pub mod migrate;
pub mod session;
pub mod session_config;
pub mod session_id;
pub mod session_value;
mod source;
pub mod store;
pub mod unrepr;

pub use config::ConfigError;
pub use diagnostic::{Diagnostic, Loaded, Severity};
pub use middleware::{CherryPySessions, from_cherrypy_config};
pub use session::{Session, SessionExt};
pub use session_config::SessionConfig;

/// **Not public API.** The machinery this package's own command, tests, benchmarks and fuzz
/// targets drive directly: the INI reader, the value reader, the cookie codec and the pickle
/// codec. Nothing here is covered by semver: any of it may change or go in any release.
/// Applications use the modules above.
#[doc(hidden)]
pub mod __private {
    /// The INI layer: configparser's dialect, lossless.
    pub mod ini {
        pub use crate::ini::*;
    }
    /// The value reader (`cherrypy.lib.reprconf.unrepr`), never executing anything.
    pub mod unrepr {
        pub use crate::unrepr::read::*;
    }
    /// `Cookie` parsing and `Set-Cookie` writing with Python's `SimpleCookie`'s rules.
    pub mod cookie {
        pub use crate::cookie::*;
    }
    /// CherryPy's pickled session files.
    pub mod pickle {
        pub use crate::store::pickle::*;
    }
}

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
