//! Serde values ↔ session values, through JSON's data model (a Rust tuple or struct becomes a
//! list or dict; bytes, tuples and non-string dict keys read back as lists and strings).

use super::serde_value::{self, SerdeError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session_value::SessionValue;

/// A value that cannot be stored in, or read from, a session as the requested type, or
/// that the session cannot hold.
///
/// As an `actix_web` error (a handler's `?`) it answers `413 Payload Too Large` when the
/// value would take the session over its budget ([`ValueError::is_over_budget`]: see
/// [`crate::limits`]), and `500 Internal Server Error` for a conversion that failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ValueError(Kind);

#[derive(Debug, thiserror::Error)]
enum Kind {
    #[error("session value: {0}")]
    Convert(#[from] SerdeError),
    /// The value is refused before it is stored: the session is left as it was.
    #[error("session value refused: {0}")]
    OverBudget(#[source] crate::store::PickleError),
}

impl From<SerdeError> for ValueError {
    fn from(e: SerdeError) -> Self {
        Self(Kind::Convert(e))
    }
}

impl ValueError {
    /// A value the session cannot hold (too large, too deep, an unhashable dict key, an
    /// int with too many digits): `why` is what the encoder would refuse.
    pub(super) fn over_budget(why: crate::store::PickleError) -> Self {
        Self(Kind::OverBudget(why))
    }

    /// Whether the value was refused because the session could not hold it (it, or the
    /// session with it, would exceed a budget of [`crate::limits`]), rather than because
    /// it did not convert.
    pub fn is_over_budget(&self) -> bool {
        matches!(self.0, Kind::OverBudget(_))
    }
}

pub(super) fn to_value<T: Serialize>(value: &T) -> Result<SessionValue, ValueError> {
    Ok(serde_value::to_value(value)?)
}

pub(super) fn from_value<T: DeserializeOwned>(value: &SessionValue) -> Result<T, ValueError> {
    Ok(serde_value::from_value(value)?)
}

/// A handler that lets a conversion error bubble up answers 500; one that lets a refused
/// value bubble up answers 413 (what the client sent made the session too large).
impl actix_web::ResponseError for ValueError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self.0 {
            Kind::Convert(_) => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            Kind::OverBudget(_) => actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}
