//! The errors the middleware answers a request with itself.

use actix_web::ResponseError;
use actix_web::http::StatusCode;

use crate::store::StoreError;

/// Why the middleware failed a request on its own account. It reaches the client as a
/// `503` (the store's server is out) or a `500` whose body is this error's short message (never the cause, which goes to the
/// log), and goes through the application's error handlers (`ErrorHandlers`, a custom
/// error page) like the application's own errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session store failed to load or save the session (its cause is the
    /// `source()`, and in the log).
    #[error("the session could not be loaded or saved")]
    Store(#[source] StoreError),
    /// The handler's changes were refused, as CherryPy refuses them: the session was used
    /// without its lock where the store requires it (file sessions), or changed without
    /// the lock (after `release_lock()`, or with explicit locking and no `acquire_lock()`)
    /// while another request changed it too.
    #[error("the session's changes were refused")]
    Refused,
}

impl ResponseError for SessionError {
    /// 503 while the store's server is out (the client may retry; the store reconnects by
    /// itself), 500 for every other failure.
    fn status_code(&self) -> StatusCode {
        match self {
            SessionError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
