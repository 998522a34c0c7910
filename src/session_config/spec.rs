//! The vocabulary of the settings table (`table.rs`): how a value is read ([`Read`]), its
//! range ([`Range`]), whose default a field has ([`DefaultOrigin`]), when `explain` shows it
//! ([`Show`]), what the table says of one setting ([`Spec`]) and one `explain` row
//! ([`ExplainRow`]). The macros that turn the table into code are in `macros.rs`.

use serde_json::Value as Json;

use super::era::Era;
use super::origin::SettingOrigin;

/// The namespace of CherryPy 3's session settings.
pub(crate) const MODERN_PREFIX: &str = "tools.sessions.";

/// How a written value is read (each era's rules are in `values::interpret`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Python truthiness; a quoted boolean is a non-empty string, so true.
    Flag,
    /// As [`Read::Flag`] in 3.x; CherryPy 2.2 took only `True` itself.
    SecureFlag,
    /// A string.
    Text,
    /// A string or `None`.
    OptText,
    /// A cookie's name: a string of the characters Python's `http.cookies` takes in one.
    CookieName,
    /// A cookie attribute (`Domain`, `Path`): a string or `None`, without control
    /// characters.
    CookieAttribute,
    /// A string or `None`, or a path computed from `os.path.join(os.getcwd(), ...)`.
    Path,
    /// A number of minutes; a negative one is warned about (sessions expire at once).
    Minutes,
    /// A number of minutes; `None` is 0.
    MinutesOrZero,
    /// A number of minutes, or `None` for none.
    OptMinutes,
    /// `'implicit'`, `'early'` or `'explicit'` (2.x's `'implicit'` is 3.x's `'early'`).
    Locking,
    /// Seconds, `None`, or a `datetime.timedelta(...)` (3.x).
    LockTimeout,
    /// A storage name, by each era's rule.
    StorageType,
    /// A dotted class name, never run.
    StorageClass,
    /// A list of memcached servers.
    Servers,
    /// `"Strict"`, `"Lax"`, `"None"` or `None`.
    SameSite,
    /// An int (not a bool) from the first to the second bound.
    Int(i64, i64),
    /// Read and checked, without effect here.
    Ignored,
}

/// The range a number must be in, checked when the config is read so that no arithmetic
/// on it at run time can overflow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Range {
    pub(crate) low: f64,
    pub(crate) high: f64,
    pub(crate) unit: &'static str,
}

/// The longest duration a setting may give, in minutes (about 1900 years).
pub(super) const MAX: f64 = crate::limits::MAX_DURATION_MINUTES;

impl Range {
    pub(super) const fn minutes(low: f64, high: f64) -> Option<Range> {
        Some(Range {
            low,
            high,
            unit: "minutes",
        })
    }

    pub(super) const fn seconds(low: f64, high: f64) -> Option<Range> {
        Some(Range {
            low,
            high,
            unit: "seconds",
        })
    }
}

/// Whose default a field falls back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultOrigin {
    /// The file's era (CherryPy 18's for a 3.x file).
    Era,
    /// CherryPy 18's, or ours for an extension, in every era (no 2.x counterpart).
    Builtin,
    /// The `cherrys` package's (`cherrys.RedisSession`'s class attributes).
    Cherrys,
}

impl DefaultOrigin {
    pub(crate) fn origin(self, era: Era) -> SettingOrigin {
        match self {
            DefaultOrigin::Era if era < Era::V3 => SettingOrigin::EraDefault(era),
            DefaultOrigin::Era | DefaultOrigin::Builtin => SettingOrigin::BuiltinDefault,
            DefaultOrigin::Cherrys => SettingOrigin::CherrysDefault,
        }
    }
}

/// When `explain` shows a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Show {
    /// In the text and the JSON.
    Always,
    /// In the text only.
    Text,
    /// Where it is set (in the file or in code), not where it is a default.
    WhenSet,
    /// Where the storage is an application's class.
    Custom,
    /// Where the storage is Redis.
    Redis,
    /// Where the storage is Redis, as set or not, never printed (a password).
    RedisSecret,
    /// Where the storage is Redis, with the password a URL may hold never printed.
    RedisUrl,
}

impl Show {
    /// Whether `explain` may show the row whichever store is in effect.
    pub(crate) fn regardless_of_storage(self) -> bool {
        matches!(self, Show::Always | Show::Text | Show::WhenSet)
    }
}

/// What the table says of one setting.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The 3.x key (`tools.sessions.timeout`).
    pub(crate) modern: &'static str,
    /// The CherryPy 2.2 `session_filter.*` name, if 2.2 had one.
    pub(crate) v2_2: Option<&'static str>,
    /// The CherryPy 2.1 `sessionFilter.*` name, if 2.1 had one.
    pub(crate) v2_1: Option<&'static str>,
    /// The CherryPy 2.0 `[session]` name as documented (2.0 compared it lower-cased).
    pub(crate) v2_0: Option<&'static str>,
    pub(crate) read: Read,
    pub(crate) range: Option<Range>,
    /// One line: what the setting does.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "read by the README table's test")
    )]
    pub(crate) doc: &'static str,
    /// The default per era as `explain` prints it, for a setting that is a field.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "read by the README table's test")
    )]
    pub(crate) default: Option<fn(Era) -> Json>,
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "read by the README table's test")
    )]
    pub(crate) default_origin: Option<DefaultOrigin>,
}

/// One row of `explain`.
pub(crate) struct ExplainRow<'a> {
    pub(crate) name: &'static str,
    pub(crate) show: Show,
    pub(crate) value: Json,
    pub(crate) origin: &'a SettingOrigin,
}
