//! `tools.sessions.max_lifetime`: a session older than that since it was created is
//! expired however active it is (an absolute timeout, as OWASP's session guidance
//! recommends, on top of CherryPy's idle `timeout`).
//!
//! The creation time travels with the session's data, under the reserved key
//! [`CREATED_KEY`] (a float Unix timestamp, as Python's `time.time()` gives), so every store
//! keeps it without a change to its format: RAM, file, memcached, Redis and the
//! application's own. The session takes it out of the data when the data is fetched and
//! puts it back in every record it stores, so the [`Session`](super::Session) API never
//! shows it, and `clear()`, `regenerate()` and `renew()` keep it. It is written only where
//! `max_lifetime` is set (a session stored before that gets it at its next save by a
//! request that holds the lock or changes the session: one that only read it without the
//! lock, with explicit locking, could write an old copy over a newer one), and kept once
//! there.
//!
//! A CherryPy process sharing the store sees one more key in its `cherrypy.session` dict,
//! `_session_created`; it saves it back like any other key, and does not enforce the
//! lifetime itself.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::session_config::SessionConfig;
use crate::session_value::{CREATED_KEY, SessionData, SessionValue, same_data_except};

/// Whether stored `data` belongs to a session older than `max_lifetime` at `now` (never
/// where `max_lifetime` is not set, is 0, or the data has no creation time).
pub(crate) fn outlived(config: &SessionConfig, data: &SessionData, now: SystemTime) -> bool {
    let Some(max) = config.max_lifetime.value.filter(|m| !m.is_zero()) else {
        return false;
    };
    let Some(created) = data.get(CREATED_KEY).and_then(timestamp) else {
        return false;
    };
    unix(now) - created > max.as_duration().as_secs_f64()
}

/// Whether stored `data` is still the copy `read`, compared as stored (see
/// [`same_data_except`]), the creation time left out: `read` had it taken out, and puts it
/// back in its own spelling.
pub(crate) fn same_but_created(data: &SessionData, read: &SessionData) -> bool {
    same_data_except(data, read, CREATED_KEY)
}

/// Takes the creation time out of fetched data (`None`: the data has none).
pub(super) fn take_created(data: &mut SessionData) -> Option<f64> {
    data.shift_remove(CREATED_KEY).as_ref().and_then(timestamp)
}

/// Whether a session without a creation time gets one at its save: `max_lifetime` is set.
pub(super) fn stamps(config: &SessionConfig) -> bool {
    config.max_lifetime.value.is_some_and(|m| !m.is_zero())
}

/// `data` as it is stored: with its creation time, which is `now` for a session that has
/// none yet where `max_lifetime` is set. Answers the creation time written, if any.
pub(super) fn stamped(
    config: &SessionConfig,
    created: Option<f64>,
    mut data: SessionData,
) -> (SessionData, Option<f64>) {
    let created = created.or_else(|| stamps(config).then(|| unix(SystemTime::now())));
    if let Some(created) = created {
        data.insert(CREATED_KEY.to_owned(), SessionValue::Float(created));
    }
    (data, created)
}

fn timestamp(value: &SessionValue) -> Option<f64> {
    match value {
        SessionValue::Float(f) => Some(*f),
        SessionValue::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn unix(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
