//! For sites that would rather use actix-session's signed or encrypted cookies: the same
//! CherryPy settings, turned into an [`actix_session::SessionMiddleware`].
//!
//! What this gives up, compared with [`crate::middleware::CherryPySessions`]: the cookie is
//! not CherryPy's plain 40-hex `session_id` (actix-session signs or encrypts it and lets the
//! store mint the key), so a CherryPy server cannot share it; there is no locking
//! (`locking`, `lock_timeout`), no lazy load or save-only-if-touched, no `expire()` or
//! `regenerate()` with CherryPy's rules, and `path_header`, `clean_freq`, `storage_path`
//! and `servers` do not apply.

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, PersistentSession};
use actix_session::storage::SessionStore;
use actix_web::cookie::{Key, SameSite as CookieSameSite};

use crate::config::ConfigError;
use crate::session_config::{SameSite, SessionConfig};

/// An actix-session middleware with the cookie settings of `config`: name, path (`/` when
/// unset), domain, `secure`, `httponly`, `samesite`, and a persistent cookie whose lifetime
/// is `timeout` minutes when `persistent` (a browser-session cookie otherwise).
///
/// `config` is checked as a config file's values are ([`SessionConfig::check`]): a value
/// a file may not give (a cookie name with a space, a NaN timeout) is an error here too,
/// logged, and its warnings are logged.
pub fn actix_session_middleware<S: SessionStore>(
    config: &SessionConfig,
    store: S,
    key: Key,
) -> Result<SessionMiddleware<S>, ConfigError> {
    let warnings = config.check().inspect_err(|err| tracing::error!("{err}"))?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let mut builder = SessionMiddleware::builder(store, key)
        .cookie_name(config.name.value.clone())
        .cookie_path(config.path.value.clone().unwrap_or_else(|| "/".to_owned()))
        .cookie_domain(config.domain.value.clone())
        .cookie_secure(config.secure.value)
        .cookie_http_only(config.httponly.value);
    if let Some(same_site) = config.samesite.value {
        builder = builder.cookie_same_site(match same_site {
            SameSite::Strict => CookieSameSite::Strict,
            SameSite::Lax => CookieSameSite::Lax,
            SameSite::None => CookieSameSite::None,
        });
    }
    let seconds = (config.timeout.value.as_f64() * 60.0).round() as i64;
    builder = if config.persistent.value && seconds > 0 {
        builder.session_lifecycle(
            PersistentSession::default()
                .session_ttl(actix_web::cookie::time::Duration::seconds(seconds)),
        )
    } else {
        builder.session_lifecycle(BrowserSession::default())
    };
    Ok(builder.build())
}
