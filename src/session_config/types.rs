//! The typed session settings and their value types.

use std::fmt;

use serde_json::{Value as Json, json};

/// Where session data is kept: which store, without its options (those are in
/// [`StorageConfig`](super::StorageConfig)).
///
/// Never behind a feature flag: a config may ask for any backend, and a build without it
/// reports that at startup, where the config names it, rather than fail to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StorageKind {
    /// `RamSession` (`storage_type = "ram"`), the default.
    Ram,
    /// `FileSession` (`storage_type = "file"`); needs `storage_path`.
    File,
    /// `MemcachedSession` (`storage_type = "memcached"`); uses `servers`.
    Memcached,
    /// Redis: this crate's extension (`storage_type = "redis"`); CherryPy has no such backend.
    Redis,
    /// A class of the application's own (`storage_class = myapp.sessions.PgSession`, named
    /// by [`StorageConfig::Custom`](super::StorageConfig::Custom)): the application maps it
    /// to a store in code (`CherryPySessions::builder().storage_class(..)`).
    Custom,
}

impl StorageKind {
    /// The lower-case name used by `explain` and `storage_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Ram => "ram",
            StorageKind::File => "file",
            StorageKind::Memcached => "memcached",
            StorageKind::Redis => "redis",
            StorageKind::Custom => "custom",
        }
    }
}

/// When the session lock is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockingMode {
    /// `'implicit'`: locked before the handler, after the body is read (the 3.x default).
    Implicit,
    /// `'early'`: locked right after the session is loaded, before the body is read.
    Early,
    /// Anything else: never locked automatically; the application calls `acquire_lock()`.
    Explicit,
}

impl LockingMode {
    /// `"implicit"`, `"early"` or `"explicit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LockingMode::Implicit => "implicit",
            LockingMode::Early => "early",
            LockingMode::Explicit => "explicit",
        }
    }
}

/// The cookie's `SameSite` attribute: our extension (CherryPy has none; its issue #1767
/// asks for one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None` (browsers require `Secure` with it).
    None,
}

impl SameSite {
    /// The attribute value as sent: `"Strict"`, `"Lax"` or `"None"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// A number of minutes as CherryPy holds it: a Python `int` or `float`.
///
/// The distinction is visible on the wire: the cookie's `Max-Age` is `timeout * 60`, which
/// Python prints as `3600` for an int and `30.0` for `0.5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minutes {
    value: f64,
    is_int: bool,
}

impl Minutes {
    /// Whole minutes, a Python `int`.
    pub fn int(minutes: i64) -> Self {
        Self {
            value: minutes as f64,
            is_int: true,
        }
    }

    /// A Python `float`.
    pub fn float(minutes: f64) -> Self {
        Self {
            value: minutes,
            is_int: false,
        }
    }

    /// The value in minutes.
    pub fn as_f64(self) -> f64 {
        self.value
    }

    /// Whether it was written as an integer.
    pub fn is_int(self) -> bool {
        self.is_int
    }

    /// Whether it is zero (no cookie expiry for `timeout`, no clean-up for `clean_freq`).
    pub fn is_zero(self) -> bool {
        self.value == 0.0
    }

    /// The length as a [`Duration`](std::time::Duration): a negative value or NaN is zero,
    /// and anything longer than [`crate::limits::MAX_DURATION_MINUTES`] is that long. A
    /// config never gives such values (they are refused when it is read), but one set in
    /// code can, and no arithmetic on a setting may panic.
    pub fn as_duration(self) -> std::time::Duration {
        seconds_duration(self.value * 60.0)
    }

    /// `value * 60` as Python prints it, i.e. the cookie's `Max-Age`: `3600`, `30.0`.
    pub fn python_seconds(self) -> String {
        let seconds = self.value * 60.0;
        if self.is_int {
            // Saturates for absurd values; an int this large is no real timeout.
            format!("{}", seconds as i64)
        } else {
            crate::unrepr::float_repr(seconds)
        }
    }

    /// The value as a JSON number: an integer when written as one.
    pub(super) fn to_json(self) -> serde_json::Value {
        json_number(self.value, self.is_int)
    }
}

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_int {
            write!(f, "{}", self.value as i64)
        } else {
            f.write_str(&crate::unrepr::float_repr(self.value))
        }
    }
}

/// Seconds as a [`Duration`](std::time::Duration), clamped to zero and to
/// [`crate::limits::MAX_DURATION_MINUTES`] (NaN is zero).
pub(crate) fn seconds_duration(seconds: f64) -> std::time::Duration {
    let max = crate::limits::MAX_DURATION_MINUTES * 60.0;
    // `f64::clamp` keeps NaN; `max(0.0)` turns it into 0.
    std::time::Duration::from_secs_f64(seconds.max(0.0).min(max))
}

pub(super) fn json_number(value: f64, is_int: bool) -> serde_json::Value {
    if is_int && value.abs() < 9.0e15 {
        serde_json::Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, Into::into)
    }
}

/// A setting's value as `explain` prints it (and the README's table its default).
pub(super) trait ToJson {
    fn to_json(&self) -> Json;
}

macro_rules! to_json {
    ($($ty:ty: |$v:ident| $json:expr;)*) => {
        $(
            impl ToJson for $ty {
                fn to_json(&self) -> Json {
                    let $v = self;
                    $json
                }
            }
        )*
    };
}

to_json! {
    bool: |v| json!(v);
    String: |v| json!(v);
    Option<String>: |v| json!(v);
    Vec<String>: |v| json!(v);
    i64: |v| json!(v);
    Minutes: |v| Minutes::to_json(*v);
    Option<Minutes>: |v| v.map_or(Json::Null, Minutes::to_json);
    LockingMode: |v| json!(v.as_str());
    Option<SameSite>: |v| json!(v.map(SameSite::as_str));
    Option<f64>: |v| v.map_or(Json::Null, |s| json_number(s, s.fract() == 0.0));
}
