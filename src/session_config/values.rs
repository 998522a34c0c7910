//! One written value turned into a typed one, with CherryPy's rules for the spelling's era
//! (spec: cherrypy-sessions §2; legacy-names §1, §2). Wrong values become located
//! diagnostics.

use std::collections::HashSet;

use crate::Diagnostic;
use crate::config::FilePlace;
use crate::unrepr::{Expr, Value};

use super::codes;
use super::era::Era;
use super::keys::{Opt, did_you_mean};
use super::pathexpr;
use super::storage;
use super::timedelta::{self, Timedelta};
use super::types::{LockingMode, Minutes, SameSite, StorageKind};

/// A value read for one setting.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Typed {
    Bool(bool),
    Text(String),
    OptText(Option<String>),
    Minutes(Minutes),
    Locking(LockingMode),
    /// `None`: not set (a false `storage_type`, `storage_class = None`).
    Storage(Option<StorageKind>),
    /// `storage_class` naming a class of the application's own.
    Class(String),
    Seconds(Option<f64>),
    Servers(Vec<String>),
    SameSite(Option<SameSite>),
    Int(i64),
    /// Read but without effect here (`priority`).
    Ignored,
}

/// Collects diagnostics, each once (a `[DEFAULT]` key is seen in every section, and a
/// setting in `[global]` is checked for every path).
#[derive(Debug, Default)]
pub(super) struct Sink {
    pub(super) diagnostics: Vec<Diagnostic>,
    seen: HashSet<(String, usize, usize, &'static str)>,
    /// Bytes of text the session settings hold so far, over every section: a `[DEFAULT]`
    /// or `[/]` value is copied into the settings of each path section.
    copied: usize,
}

impl Sink {
    pub(super) fn push(&mut self, d: Diagnostic) {
        let id = match &d.location {
            Some(l) => (l.file.name().to_owned(), l.span.start, l.span.end, d.code),
            None => (d.message.clone(), 0, 0, d.code),
        };
        if self.seen.insert(id) {
            self.diagnostics.push(d);
        }
    }
}

impl Sink {
    /// Counts `bytes` more of settings copied from the value at `place`; past
    /// [`MAX_CONFIG_VALUE_BYTES`](crate::limits::MAX_CONFIG_VALUE_BYTES) pushes a located
    /// error and answers `false`: the caller builds nothing more from it.
    pub(super) fn charge(&mut self, bytes: usize, place: &FilePlace) -> bool {
        self.copied = self.copied.saturating_add(bytes);
        if self.copied <= crate::limits::MAX_CONFIG_VALUE_BYTES {
            return true;
        }
        self.push(at_value(
            place,
            Diagnostic::error(
                codes::SESSION_SETTINGS_TOO_LARGE,
                format!(
                    "this value is copied into the session settings of every path section, which pass {} MiB",
                    crate::limits::MAX_CONFIG_VALUE_BYTES >> 20
                ),
            )
            .with_help("shorten the value, or set it in fewer sections"),
        ));
        false
    }
}

/// The bytes of text a setting holds.
pub(super) fn text_bytes(typed: &Typed) -> usize {
    match typed {
        Typed::Text(s) | Typed::OptText(Some(s)) | Typed::Class(s) => s.len(),
        Typed::Servers(list) => list.iter().map(String::len).sum(),
        _ => 0,
    }
}

/// A diagnostic about a key.
pub(super) fn at_key(place: &FilePlace, d: Diagnostic) -> Diagnostic {
    d.at(&place.file, place.key_span)
        .in_entry(&place.section, Some(place.key()))
}

/// A diagnostic about a value.
pub(super) fn at_value(place: &FilePlace, d: Diagnostic) -> Diagnostic {
    let span = if place.value_span.is_empty() {
        place.key_span
    } else {
        place.value_span
    };
    d.at(&place.file, span)
        .in_entry(&place.section, Some(place.key()))
}

/// Reads a Python-literal value (3.x, 2.1, 2.2) for `opt`, by the rules of `era`.
pub(super) fn interpret(
    opt: Opt,
    era: Era,
    value: &Value,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<Typed> {
    let legacy = era < Era::V3;
    match opt {
        Opt::StorageClass => return storage::storage_class(value, place, sink),
        Opt::LockTimeout if !legacy => return lock_timeout(value, place, sink),
        Opt::StoragePath if value.is_expr() => {
            if let Some(path) = pathexpr::path(value) {
                sink.push(at_value(
                    place,
                    Diagnostic::warning(
                        codes::COMPUTED_PATH,
                        format!("read as {path:?} without running Python (`os.getcwd()` is the working directory at startup)"),
                    ),
                ));
                return Some(Typed::OptText(Some(path)));
            }
        }
        _ => {}
    }
    let value = literal(value, place, sink)?;
    Some(match opt {
        Opt::On | Opt::Httponly | Opt::Persistent | Opt::Debug | Opt::StaticOn => {
            Typed::Bool(truthy(value, place, sink))
        }
        Opt::Secure if legacy => Typed::Bool(secure_2_2(value, place, sink)),
        Opt::Secure => Typed::Bool(truthy(value, place, sink)),
        Opt::StorageType if legacy => Typed::Storage(storage::storage_type_2x(value, place, sink)?),
        Opt::StorageType => Typed::Storage(storage::storage_type(value, place, sink)?),
        Opt::Timeout => Typed::Minutes(minutes(value, false, place, sink)?),
        Opt::CleanFreq => Typed::Minutes(minutes(value, true, place, sink)?),
        Opt::LockTimeout => Typed::Seconds(Some(minutes(value, false, place, sink)?.as_f64())),
        Opt::Locking if legacy => Typed::Locking(locking_2x(value, place, sink)),
        Opt::Locking => Typed::Locking(locking(value, place, sink)),
        Opt::Name => Typed::Text(text(value, place, sink)?),
        Opt::StoragePath | Opt::Domain | Opt::Path | Opt::PathHeader => {
            Typed::OptText(optional_text(value, place, sink)?)
        }
        Opt::Servers => Typed::Servers(servers(value, place, sink)?),
        Opt::Samesite => Typed::SameSite(samesite(value, place, sink)?),
        Opt::RedisHost | Opt::RedisPrefix | Opt::RedisLockPrefix => {
            Typed::Text(text(value, place, sink)?)
        }
        // cherrys tests these as Python does (`if cls.is_sentinel:`, redis-py's `if ssl:`).
        Opt::RedisSsl | Opt::RedisTlsSkipVerify | Opt::RedisIsSentinel | Opt::RedisCluster => {
            Typed::Bool(truthy(value, place, sink))
        }
        Opt::RedisUrl
        | Opt::RedisUser
        | Opt::RedisPassword
        | Opt::RedisSentinelPass
        | Opt::RedisSentinelService => Typed::OptText(optional_text(value, place, sink)?),
        Opt::RedisPort => Typed::Int(int_in(value, 1..=65535, place, sink)?),
        Opt::RedisDb => Typed::Int(int_in(value, 0..=i64::MAX, place, sink)?),
        Opt::Priority | Opt::StorageClass => Typed::Ignored,
    })
}

/// Whether a number read for `opt` is in the range the setting can use, checked when the
/// config is read so that no arithmetic on it at run time can overflow; pushes a located
/// error and answers `false` when it is not. NaN and infinities are outside every range.
pub(super) fn in_range(opt: Opt, typed: &Typed, place: &FilePlace, sink: &mut Sink) -> bool {
    let max = crate::limits::MAX_DURATION_MINUTES;
    let (value, low, high, unit) = match (opt, typed) {
        (Opt::Timeout, Typed::Minutes(m)) => (m.as_f64(), -max, max, "minutes"),
        // CherryPy runs its clean-up without pause for a negative frequency.
        (Opt::CleanFreq, Typed::Minutes(m)) => (m.as_f64(), 0.0, max, "minutes"),
        // CherryPy's file sessions fail every request with a negative lock timeout (its
        // timer has run out before the first try).
        (Opt::LockTimeout, Typed::Seconds(Some(s))) => (*s, 0.0, max * 60.0, "seconds"),
        _ => return true,
    };
    if (low..=high).contains(&value) {
        return true;
    }
    sink.push(at_value(
        place,
        Diagnostic::error(
            codes::VALUE_OUT_OF_RANGE,
            format!(
                "{} is out of range: {} takes {} to {} {unit} (about 1900 years)",
                crate::unrepr::float_repr(value),
                opt.modern(),
                number(low),
                number(high),
            ),
        ),
    ));
    false
}

/// A whole number as Python prints it (`-1000000000`).
fn number(n: f64) -> String {
    format!("{}", n as i64)
}

/// The value itself, or an error where CherryPy would have to run code to get it.
fn literal<'v>(value: &'v Value, place: &FilePlace, sink: &mut Sink) -> Option<&'v Value> {
    let Value::Expr(expr) = value else {
        return Some(value);
    };
    let d = match &**expr {
        Expr::Name {
            dotted,
            resolved: false,
        } => Diagnostic::error(
            codes::UNRESOLVED_NAME,
            format!("`{dotted}` is a bare word: CherryPy cannot resolve the name and refuses the config at startup"),
        )
        .with_help(format!("write it as a string: \"{dotted}\"")),
        _ => Diagnostic::error(
            codes::NOT_LITERAL,
            format!(
                "this {} would have to be run by Python to get a value; write a literal",
                value.type_name()
            ),
        ),
    };
    sink.push(at_value(place, d));
    None
}

pub(super) fn type_error(place: &FilePlace, expected: &str, value: &Value, sink: &mut Sink) {
    sink.push(at_value(
        place,
        Diagnostic::error(
            codes::VALUE_TYPE,
            format!("expected {expected}, not {}", value.type_name()),
        ),
    ));
}

/// Python truthiness; a quoted boolean is a non-empty string, so true, as in CherryPy.
pub(super) fn truthy(value: &Value, place: &FilePlace, sink: &mut Sink) -> bool {
    if let Value::Str(s) = value {
        let looks_bool = ["false", "true", "0", "1", "no", "yes", "off", "on", "none"]
            .contains(&s.trim().to_ascii_lowercase().as_str());
        if looks_bool {
            let on = !s.is_empty();
            sink.push(at_value(
                place,
                Diagnostic::warning(
                    codes::QUOTED_BOOL,
                    format!(
                        "{s:?} is a non-empty string, so CherryPy reads it as {}",
                        py_bool(on)
                    ),
                )
                .with_help(format!("write {} without quotes", bool_word(s))),
            ));
        }
    }
    value.is_truthy().unwrap_or(true)
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn bool_word(s: &str) -> &'static str {
    match s.trim().to_ascii_lowercase().as_str() {
        "false" | "0" | "no" | "off" | "none" => "False",
        _ => "True",
    }
}

/// 2.2 set the Secure flag only for the value `True` itself (legacy-names §1).
fn secure_2_2(value: &Value, place: &FilePlace, sink: &mut Sink) -> bool {
    if *value == Value::Bool(true) {
        return true;
    }
    if value.is_truthy() == Some(true) {
        sink.push(at_value(
            place,
            Diagnostic::warning(
                codes::LEGACY_COOKIE_SECURE,
                "CherryPy 2.2 set the Secure flag only for the value True itself; this value gave no Secure flag, and is read so",
            )
            .with_help("write True if the cookie should be Secure"),
        ));
    }
    false
}

/// A number of minutes (or seconds): a Python int or float.
fn minutes(
    value: &Value,
    none_is_zero: bool,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<Minutes> {
    let m = match value {
        Value::Int(i) => match i.to_string().parse::<i64>() {
            Ok(n) => Minutes::int(n),
            Err(_) => Minutes::float(i.to_string().parse().unwrap_or(f64::INFINITY)),
        },
        Value::Float(f) => Minutes::float(*f),
        Value::Bool(b) => {
            sink.push(at_value(
                place,
                Diagnostic::warning(
                    codes::BOOL_AS_NUMBER,
                    format!("{} is used as the number {}", py_bool(*b), u8::from(*b)),
                ),
            ));
            Minutes::int(i64::from(*b))
        }
        Value::None if none_is_zero => Minutes::int(0),
        Value::Str(s) if s.trim().parse::<f64>().is_ok() => {
            sink.push(at_value(
                place,
                Diagnostic::error(
                    codes::QUOTED_NUMBER,
                    format!("{s:?} is a string, not a number: CherryPy's arithmetic on it fails with an error on every request"),
                )
                .with_help(format!("remove the quotes: {}", s.trim())),
            ));
            return None;
        }
        other => {
            type_error(place, "a number", other, sink);
            return None;
        }
    };
    // A negative `clean_freq` is out of range (checked by the caller), not a duration.
    if m.as_f64() < 0.0 && !none_is_zero {
        sink.push(at_value(
            place,
            Diagnostic::warning(
                codes::NEGATIVE_DURATION,
                "a negative duration: sessions expire at once",
            ),
        ));
    }
    Some(m)
}

fn text(value: &Value, place: &FilePlace, sink: &mut Sink) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        other => {
            type_error(place, "a string", other, sink);
            None
        }
    }
}

/// An int (not a bool) within `range`.
fn int_in(
    value: &Value,
    range: std::ops::RangeInclusive<i64>,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<i64> {
    let Value::Int(i) = value else {
        type_error(place, "an integer", value, sink);
        return None;
    };
    match num_traits::ToPrimitive::to_i64(i).filter(|i| range.contains(i)) {
        Some(i) => Some(i),
        None => {
            sink.push(at_value(
                place,
                Diagnostic::error(
                    codes::VALUE_OUT_OF_RANGE,
                    format!(
                        "{i} is out of range: takes {} to {}",
                        range.start(),
                        range.end()
                    ),
                ),
            ));
            None
        }
    }
}

fn optional_text(value: &Value, place: &FilePlace, sink: &mut Sink) -> Option<Option<String>> {
    match value {
        Value::None => Some(None),
        Value::Str(s) => Some(Some(s.clone())),
        other => {
            type_error(place, "a string or None", other, sink);
            None
        }
    }
}

/// 3.x: exact compare; anything else is explicit (spec: cherrypy-sessions §8).
fn locking(value: &Value, place: &FilePlace, sink: &mut Sink) -> LockingMode {
    match value {
        Value::Str(s) if s == "implicit" => return LockingMode::Implicit,
        Value::Str(s) if s == "early" => return LockingMode::Early,
        Value::Str(s) if s == "explicit" => return LockingMode::Explicit,
        _ => {}
    }
    let mut d = Diagnostic::warning(
        codes::LOCKING_NOT_RECOGNISED,
        "CherryPy compares locking exactly with 'implicit' and 'early'; anything else means explicit: no automatic lock",
    );
    if let Value::Str(s) = value
        && let Some(near) = did_you_mean(s, ["implicit", "early", "explicit"].into_iter())
    {
        d = d.with_help(format!("did you mean \"{near}\"?"));
    }
    sink.push(at_value(place, d));
    LockingMode::Explicit
}

/// 2.x `'implicit'` locked before the body was read, i.e. 3.x `'early'` (legacy-names §1).
fn locking_2x(value: &Value, place: &FilePlace, sink: &mut Sink) -> LockingMode {
    match value {
        Value::Str(s) if s == "implicit" => LockingMode::Early,
        Value::Str(s) if s == "explicit" => LockingMode::Explicit,
        _ => {
            sink.push(at_value(
                place,
                Diagnostic::warning(
                    codes::LOCKING_NOT_RECOGNISED,
                    "CherryPy 2.x compared locking exactly with 'implicit'; anything else meant explicit: no automatic lock",
                ),
            ));
            LockingMode::Explicit
        }
    }
}

/// `lock_timeout`: seconds, or `datetime.timedelta(...)`; `None` waits forever.
fn lock_timeout(value: &Value, place: &FilePlace, sink: &mut Sink) -> Option<Typed> {
    match timedelta::seconds(value) {
        Timedelta::Seconds(s) => return Some(Typed::Seconds(Some(s))),
        Timedelta::Invalid(why) => {
            sink.push(at_value(
                place,
                Diagnostic::error(codes::LOCK_TIMEOUT_INVALID, why),
            ));
            return None;
        }
        Timedelta::NotACall => {}
    }
    let value = literal(value, place, sink)?;
    match value {
        Value::None => Some(Typed::Seconds(None)),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Str(_) => {
            let m = minutes(value, false, place, sink)?;
            Some(Typed::Seconds(Some(m.as_f64())))
        }
        other => {
            sink.push(at_value(
                place,
                Diagnostic::error(
                    codes::LOCK_TIMEOUT_INVALID,
                    format!(
                        "Lock timeout must be numeric seconds or a timedelta instance, not {}",
                        other.type_name()
                    ),
                ),
            ));
            None
        }
    }
}

fn servers(value: &Value, place: &FilePlace, sink: &mut Sink) -> Option<Vec<String>> {
    let items = match value {
        Value::List(v) | Value::Tuple(v) => v,
        other => {
            type_error(place, "a list of \"host:port\" strings", other, sink);
            return None;
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Str(s) if super::servers::memcached_dsn(s).is_none() => {
                sink.push(at_value(
                    place,
                    Diagnostic::error(
                        codes::MEMCACHED_SERVER,
                        format!("{s:?} is not a memcached server (python-memcached fails on it at the first request)"),
                    )
                    .with_help("write \"host:port\", \"host\", \"inet:host:port\" or \"unix:/path\""),
                ));
                return None;
            }
            Value::Str(s) => out.push(s.clone()),
            other => {
                type_error(place, "a list of \"host:port\" strings", other, sink);
                return None;
            }
        }
    }
    Some(out)
}

fn samesite(value: &Value, place: &FilePlace, sink: &mut Sink) -> Option<Option<SameSite>> {
    let parsed = match value {
        Value::None => return Some(None),
        Value::Str(s) => match s.to_ascii_lowercase().as_str() {
            "strict" => Some(SameSite::Strict),
            "lax" => Some(SameSite::Lax),
            "none" => Some(SameSite::None),
            _ => None,
        },
        _ => None,
    };
    if parsed.is_none() {
        sink.push(at_value(
            place,
            Diagnostic::error(
                codes::SAMESITE_VALUE,
                "samesite must be \"Strict\", \"Lax\", \"None\" or None",
            ),
        ));
        return None;
    }
    Some(parsed)
}
