//! The backend a config asks for: `storage_type` by each era's rule, and the dotted
//! `storage_class`, which names a class and is never run.

use crate::Diagnostic;
use crate::config::FilePlace;
use crate::unrepr::{Expr, Value};

use super::codes;
use super::keys::did_you_mean;
use super::sink::{Sink, at_value, type_error};
use super::typed::Typed;
use super::types::StorageKind;

/// 3.x `storage_type`: `value.title() + 'Session'`, so case-insensitive. A false value is
/// not set (18.x then uses `storage_class`).
pub(super) fn storage_type(
    value: &Value,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<Option<StorageKind>> {
    let s = match value {
        Value::Str(s) => s,
        other if other.is_truthy() == Some(false) => return Some(None),
        other => {
            type_error(
                place,
                "a storage name in quotes (\"ram\", \"file\", \"memcached\")",
                other,
                sink,
            );
            return None;
        }
    };
    if s.is_empty() {
        return Some(None);
    }
    match s.to_ascii_lowercase().as_str() {
        "ram" => Some(Some(StorageKind::Ram)),
        "file" => Some(Some(StorageKind::File)),
        "memcached" => Some(Some(StorageKind::Memcached)),
        "redis" => {
            sink.push(at_value(
                place,
                Diagnostic::warning(
                    codes::STORAGE_EXTENSION,
                    "\"redis\" is this crate's extension: CherryPy has no RedisSession and fails on every request with this file",
                ),
            ));
            Some(Some(StorageKind::Redis))
        }
        "postgresql" => {
            sink.push(postgresql(place));
            None
        }
        _ => {
            sink.push(unknown_storage(place, s));
            None
        }
    }
}

/// 2.1/2.2: only the first letter is upper-cased, then `Storage` is appended, and that
/// class looked up (so `"RAM"` named `RAMStorage`, which does not exist).
pub(super) fn storage_type_2x(
    value: &Value,
    place: &FilePlace,
    sink: &mut Sink,
) -> Option<Option<StorageKind>> {
    let Value::Str(s) = value else {
        if value.is_truthy() == Some(false) {
            return Some(None);
        }
        type_error(
            place,
            "a storage name in quotes (\"ram\", \"file\")",
            value,
            sink,
        );
        return None;
    };
    let mut chars = s.chars();
    let class: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    match class.as_str() {
        "Ram" => return Some(Some(StorageKind::Ram)),
        "File" => return Some(Some(StorageKind::File)),
        _ => {}
    }
    let lower = s.to_ascii_lowercase();
    let d = if lower == "postgresql" {
        postgresql(place)
    } else if lower == "ram" || lower == "file" {
        at_value(
            place,
            Diagnostic::error(
                codes::LEGACY_STORAGE_CASE,
                format!("CherryPy 2.x upper-cased only the first letter: {s:?} selected `{class}Storage`, which does not exist (an error page on every request)"),
            )
            .with_help(format!("write \"{lower}\"")),
        )
    } else {
        unknown_storage(place, s)
    };
    sink.push(d);
    None
}

pub(super) fn postgresql(place: &FilePlace) -> Diagnostic {
    at_value(
        place,
        Diagnostic::error(
            codes::POSTGRESQL_STORAGE,
            "PostgreSQL session storage is not available: CherryPy removed it in 5.4 (it never worked in 3.x) and this crate has no SQL backend",
        )
        .with_help("use \"file\" (or memcached/redis); existing session rows are not read"),
    )
}

pub(super) fn unknown_storage(place: &FilePlace, s: &str) -> Diagnostic {
    let mut d = Diagnostic::error(
        codes::UNKNOWN_STORAGE,
        format!("there is no session storage {s:?} (CherryPy fails on every request)"),
    );
    let lower = s.to_ascii_lowercase();
    if let Some(near) = did_you_mean(&lower, ["ram", "file", "memcached", "redis"].into_iter()) {
        d = d.with_help(format!("did you mean \"{near}\"?"));
    } else {
        d = d.with_help("use \"ram\", \"file\", \"memcached\" or \"redis\"");
    }
    at_value(place, d)
}

/// The `cherrys` package's session class, CherryPy's best-known Redis backend.
pub(super) const CHERRYS_CLASS: &str = "cherrys.RedisSession";

/// What a `storage_class` may name, for the help of an unsupported one.
const SUPPORTED_CLASSES: &str = "use cherrypy.lib.sessions.RamSession, FileSession, MemcachedSession or cherrys.RedisSession (or storage_type = \"ram\", \"file\", \"memcached\" or \"redis\")";

/// `storage_class = cherrypy.lib.sessions.FileSession` (8.1+): a dotted name, never run.
pub(super) fn storage_class(value: &Value, place: &FilePlace, sink: &mut Sink) -> Option<Typed> {
    let d = match value {
        Value::None => return Some(Typed::Storage(None)),
        Value::Str(s) => Diagnostic::error(
            codes::STORAGE_CLASS_QUOTED,
            "a quoted class name is a string: CherryPy fails instantiating it on every request",
        )
        .with_help(format!("remove the quotes: {s}")),
        Value::Expr(e) => match &**e {
            // The `cherrys` package's class (a module of its own, `cherrys.py`): our Redis
            // store reads its options and shares its data and locks.
            Expr::Name { dotted, .. } if dotted == CHERRYS_CLASS => {
                return Some(Typed::Storage(Some(StorageKind::Redis)));
            }
            Expr::Name { dotted, resolved } => {
                let class = dotted.strip_prefix("cherrypy.lib.sessions.");
                match class {
                    Some("RamSession") => return Some(Typed::Storage(Some(StorageKind::Ram))),
                    Some("FileSession") => return Some(Typed::Storage(Some(StorageKind::File))),
                    Some("MemcachedSession") => {
                        return Some(Typed::Storage(Some(StorageKind::Memcached)));
                    }
                    Some("PostgresqlSession") => {
                        sink.push(postgresql(place));
                        return None;
                    }
                    _ if *resolved && class.is_some() => Diagnostic::error(
                        codes::UNKNOWN_STORAGE,
                        format!("CherryPy has no session class `{dotted}`"),
                    )
                    .with_help(SUPPORTED_CLASSES),
                    _ if dotted.starts_with("cherrys.") => Diagnostic::error(
                        codes::UNKNOWN_STORAGE,
                        format!("the cherrys package has no session class `{dotted}`"),
                    )
                    .with_help(SUPPORTED_CLASSES),
                    _ => {
                        sink.push(at_value(place, custom_class(dotted, false)));
                        return Some(Typed::Class(dotted.clone()));
                    }
                }
            }
            _ => Diagnostic::error(
                codes::NOT_LITERAL,
                "storage_class must be a dotted class name such as cherrypy.lib.sessions.FileSession",
            ),
        },
        other => {
            type_error(
                place,
                "a dotted class name such as cherrypy.lib.sessions.FileSession",
                other,
                sink,
            );
            return None;
        }
    };
    sink.push(at_value(place, d));
    None
}

/// Whether `d` is [`custom_class`]'s diagnostic about `class`.
pub(crate) fn is_about_custom_class(d: &Diagnostic, class: &str) -> bool {
    d.code == codes::CUSTOM_STORAGE_CLASS
        && d.message
            .strip_prefix('`')
            .and_then(|rest| rest.strip_prefix(class))
            .is_some_and(|rest| rest.starts_with('`'))
}

/// A `storage_class` of the application's own: a warning when the config is read (the
/// application may map it to a store in code), an error at startup when it did not.
pub(crate) fn custom_class(dotted: &str, at_startup: bool) -> Diagnostic {
    let message = format!(
        "`{dotted}` is an application's class: a Python session class cannot run here, so the application must map it to a store in code"
    );
    let d = if at_startup {
        Diagnostic::error(codes::CUSTOM_STORAGE_CLASS, message)
    } else {
        Diagnostic::warning(codes::CUSTOM_STORAGE_CLASS, message)
    };
    d.with_help(format!(
        "register one with CherryPySessions::builder().storage_class(\"{dotted}\", store), or {SUPPORTED_CLASSES}"
    ))
}
