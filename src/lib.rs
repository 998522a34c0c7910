//! # actix-cherrypy
//!
//! Read CherryPy config files exactly as CherryPy 18 reads them, so a CherryPy site can move
//! to actix-web without touching its config files.
//!
//! The pipeline runs one way, each layer in its own module:
//! [`source`] (text, spans) → [`ini`] (configparser's dialect, lossless) → [`unrepr`] (the value
//! language, never executed) → [`config`] (CherryPy's sections, per-path merge, presets).
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
//! function (`os.getcwd()`), the value is kept as an unevaluated expression.

#[cfg(feature = "actix-session")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-session")))]
pub mod bridge;
pub mod config;
pub mod cookie;
pub mod diagnostic;
pub mod ini;
pub mod middleware;
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
