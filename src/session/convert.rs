//! Serde values ↔ session values, through JSON's data model (a Rust tuple or struct becomes a
//! list or dict; bytes, tuples and non-string dict keys read back as lists and strings).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

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
    Convert(#[from] serde_json::Error),
    /// The value is refused before it is stored: the session is left as it was.
    #[error("session value refused: {0}")]
    OverBudget(#[source] crate::store::PickleError),
}

impl From<serde_json::Error> for ValueError {
    fn from(e: serde_json::Error) -> Self {
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
    Ok(from_json(serde_json::to_value(value)?))
}

pub(super) fn from_value<T: DeserializeOwned>(value: &SessionValue) -> Result<T, ValueError> {
    Ok(serde_json::from_value(to_json(value))?)
}

fn from_json(json: Json) -> SessionValue {
    match json {
        Json::Null => SessionValue::None,
        Json::Bool(b) => SessionValue::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => SessionValue::Int(i),
            None => match n.as_str().parse::<num_bigint::BigInt>() {
                Ok(big) => SessionValue::BigInt(big),
                Err(_) => SessionValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
        },
        Json::String(s) => SessionValue::Str(s),
        Json::Array(items) => SessionValue::List(items.into_iter().map(from_json).collect()),
        Json::Object(map) => SessionValue::Dict(
            map.into_iter()
                .map(|(k, v)| (SessionValue::Str(k), from_json(v)))
                .collect(),
        ),
    }
}

fn to_json(value: &SessionValue) -> Json {
    match value {
        SessionValue::None => Json::Null,
        SessionValue::Bool(b) => Json::Bool(*b),
        SessionValue::Int(i) => Json::from(*i),
        SessionValue::BigInt(b) => serde_json::from_str(&b.to_string()).unwrap_or(Json::Null),
        SessionValue::Float(f) => Json::from(*f),
        SessionValue::Str(s) => Json::String(s.clone()),
        SessionValue::Bytes(b) => Json::Array(b.iter().map(|&x| Json::from(x)).collect()),
        SessionValue::List(items) | SessionValue::Tuple(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        SessionValue::Dict(items) => Json::Object(
            items
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        SessionValue::Str(s) => s.clone(),
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
    }
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
