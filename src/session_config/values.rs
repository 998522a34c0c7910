//! One written value turned into a typed one, by the rules of the era whose spelling was
//! read (the setting's [`Read`] says which rules): which reader a setting takes, its range,
//! and the readers of single settings (locking, `lock_timeout`, servers, `samesite`, 2.2's
//! Secure flag); the readers of plain Python literals are in `literals`. Wrong values
//! become located diagnostics.

use crate::Diagnostic;
use crate::config::FilePlace;
use crate::unrepr::Value;

use super::codes;
use super::era::Era;
use super::keys::did_you_mean;
use super::literals::{int_in, int_out_of_range, literal, minutes, optional_text, text, truthy};
use super::pathexpr;
use super::sink::{Sink, at_value, type_error};
use super::spec::Read;
use super::storage;
use super::table::Opt;
use super::timedelta::{self, Timedelta};
use super::typed::Typed;
use super::types::{LockingMode, SameSite};

/// Reads a Python-literal value (3.x, 2.1, 2.2) for `opt`, by the rules of `era`.
pub(super) fn interpret(
    opt: Opt,
    era: Era,
    value: &Value,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<Typed> {
    let legacy = era < Era::V3;
    let read = opt.spec().read;
    match read {
        Read::StorageClass => return storage::storage_class(value, place, sink),
        Read::LockTimeout if !legacy => return lock_timeout(value, place, sink),
        Read::Path if value.is_expr() => {
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
    Some(match read {
        // Python truthiness, as CherryPy (and cherrys: `if cls.is_sentinel:`) tests them.
        Read::Flag => Typed::Bool(truthy(value, place, sink)),
        Read::SecureFlag if legacy => Typed::Bool(secure_2_2(value, place, sink)),
        Read::SecureFlag => Typed::Bool(truthy(value, place, sink)),
        Read::StorageType if legacy => {
            Typed::Storage(storage::storage_type_2x(value, place, sink)?)
        }
        Read::StorageType => Typed::Storage(storage::storage_type(value, place, sink)?),
        Read::Minutes => Typed::Minutes(minutes(value, false, place, sink)?),
        Read::MinutesOrZero => Typed::Minutes(minutes(value, true, place, sink)?),
        Read::OptMinutes => Typed::OptMinutes(match value {
            Value::None => None,
            // Negative values are out of range (checked by the caller), not a duration.
            value => Some(minutes(value, true, place, sink)?),
        }),
        // 2.x's `deadlock_timeout`: a number only.
        Read::LockTimeout => Typed::Seconds(Some(minutes(value, false, place, sink)?.as_f64())),
        Read::Locking if legacy => Typed::Locking(locking_2x(value, place, sink)),
        Read::Locking => Typed::Locking(locking(value, place, sink)),
        Read::Text | Read::CookieName => Typed::Text(text(value, place, sink)?),
        Read::OptText | Read::Path | Read::CookieAttribute => {
            Typed::OptText(optional_text(value, place, sink)?)
        }
        Read::Servers => Typed::Servers(servers(value, place, sink)?),
        Read::SameSite => Typed::SameSite(samesite(value, place, sink)?),
        Read::Int(low, high) => Typed::Int(int_in(value, low..=high, place, sink)?),
        Read::Ignored | Read::StorageClass => Typed::Ignored,
    })
}

/// Whether a value read for `opt` meets what the settings table asks of it ([`problem`]);
/// pushes the error at the value as written and answers `false` when it does not.
pub(super) fn checked(opt: Opt, typed: &Typed, place: &FilePlace, sink: &mut Sink) -> bool {
    match problem(opt, typed) {
        None => true,
        Some(d) => {
            sink.push(at_value(place, d));
            false
        }
    }
}

/// The error, if any, of a value of `opt` once it is typed, however it was given, by what
/// the settings table asks of it: a number in the setting's range, a cookie's name or
/// attribute that can go into the `Set-Cookie` header, memcached servers python-memcached
/// can parse. One rule for both ways a setting is made: a value read from a file is checked
/// here and the error pointed at it ([`checked`]); one set in code is checked here by
/// `SessionConfig::check`, and the error names the setting.
pub(super) fn problem(opt: Opt, typed: &Typed) -> Option<Diagnostic> {
    if let Some(d) = out_of_range(opt, typed) {
        return Some(d);
    }
    match (opt.spec().read, typed) {
        (Read::CookieName, Typed::Text(name)) => cookie_text(name, true),
        (Read::CookieAttribute, Typed::OptText(Some(attribute))) => cookie_text(attribute, false),
        (Read::Int(low, high), Typed::Int(i)) if !(low..=high).contains(i) => {
            Some(int_out_of_range(i, &(low..=high)))
        }
        (Read::Servers, Typed::Servers(servers)) => {
            servers.iter().find_map(|s| memcached_server(s))
        }
        _ => None,
    }
}

/// The error for a number of `opt` outside the range the setting can use (the table's
/// `range`), which keeps any arithmetic on it at run time from overflowing. NaN and
/// infinities are outside every range.
fn out_of_range(opt: Opt, typed: &Typed) -> Option<Diagnostic> {
    let (Some(range), Some(value)) = (opt.spec().range, typed.number()) else {
        return None;
    };
    if (range.low..=range.high).contains(&value) {
        return None;
    }
    Some(Diagnostic::error(
        codes::VALUE_OUT_OF_RANGE,
        format!(
            "{} is out of range: {} takes {} to {} {} (about 1900 years)",
            crate::unrepr::float_repr(value),
            opt.modern(),
            number(range.low),
            number(range.high),
            range.unit,
        ),
    ))
}

/// A whole number as Python prints it (`-1000000000`).
fn number(n: f64) -> String {
    format!("{}", n as i64)
}

/// The error, if `s` cannot be a cookie's name (`name`) or attribute. A name holds only what
/// Python's `http.cookies` takes in one (CherryPy fails every request with another, a
/// `CookieError`). An attribute holds no control character: CherryPy writes it into the
/// `Set-Cookie` header as it is, so a line break in a `Domain` splits the header and
/// writes one of the config's own; the header could not be sent at all.
fn cookie_text(s: &str, name: bool) -> Option<Diagnostic> {
    const NAME_PUNCTUATION: &str = "!#$%&'*+-.^_`|~:";
    let bad = if name {
        s.chars()
            .find(|c| !c.is_ascii_alphanumeric() && !NAME_PUNCTUATION.contains(*c))
    } else {
        s.chars().find(|c| c.is_control())
    };
    let message = match bad {
        None if !(name && s.is_empty()) => return None,
        None => "a cookie name cannot be empty: Python's http.cookies refuses it, and CherryPy fails every request (CookieError)".to_owned(),
        Some(c) if name => format!(
            "a cookie name cannot hold {c:?}: Python's http.cookies takes only letters, digits and {NAME_PUNCTUATION} in one, and CherryPy fails every request (CookieError)"
        ),
        Some(c) => format!(
            "a cookie attribute cannot hold the control character {c:?}: CherryPy writes it into the Set-Cookie header as it is, where a line break splits the header"
        ),
    };
    Some(Diagnostic::error(codes::COOKIE_TEXT, message))
}

/// The error, if python-memcached cannot parse the `servers` entry `s` either.
fn memcached_server(s: &str) -> Option<Diagnostic> {
    if super::servers::memcached_dsn(s).is_some() {
        return None;
    }
    Some(Diagnostic::error(
        codes::MEMCACHED_SERVER,
        format!(
            "{s:?} is not a memcached server (python-memcached fails on it at the first request)"
        ),
    )
    .with_help("write \"host:port\", \"host\", \"inet:host:port\" or \"unix:/path\""))
}

/// 2.2 set the Secure flag only for the value `True` itself (it compared with `is True`).
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

/// 3.x: exact compare; anything else is explicit (CherryPy tests only for `'implicit'` and
/// `'early'`).
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

/// 2.x `'implicit'` locked before the body was read, i.e. 3.x `'early'`.
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
