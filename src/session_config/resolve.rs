//! From the merged slots of one path to a [`SessionConfig`]: era defaults for what the file
//! relied on, 18.x's storage precedence, and the checks that need several settings.

use crate::Diagnostic;

use super::build::{Node, Slot};
use super::codes;
use super::era::{Era, EraReport};
use super::keys::Opt;
use super::origin::{Setting, SettingOrigin};
use super::types::{LockingMode, Minutes, SessionConfig, StorageKind};
use super::values::{Sink, Typed, at_value};

/// The effective settings from the merged slots of a path.
pub(super) fn resolve(merged: &Node, era: &EraReport, sink: &mut Sink) -> SessionConfig {
    let e = era.defaults;
    let mut on = pick(merged, Opt::On, e, |t| match t {
        Typed::Bool(b) => Some(*b),
        _ => None,
    });
    // 2.1 skipped sessions wherever staticFilter.on was true.
    if let Some(slot) = merged.get(&Opt::StaticOn)
        && on.value
        && slot.typed == Typed::Bool(true)
    {
        on = Setting::new(
            false,
            SettingOrigin::LegacyBehaviour {
                era: Era::V2_1,
                place: slot.place.clone(),
                rule: "no sessions where staticFilter.on is true",
            },
        );
    }
    let storage = storage(merged, e, sink);
    let storage_class = custom_class(merged, &storage);
    let config = SessionConfig {
        on,
        storage,
        storage_class,
        storage_path: pick(merged, Opt::StoragePath, e, opt_text),
        timeout: pick(merged, Opt::Timeout, e, minutes),
        locking: pick(merged, Opt::Locking, e, |t| match t {
            Typed::Locking(l) => Some(*l),
            _ => None,
        }),
        name: pick(merged, Opt::Name, e, text),
        domain: pick(merged, Opt::Domain, e, opt_text),
        path: pick(merged, Opt::Path, e, opt_text),
        path_header: pick(merged, Opt::PathHeader, e, opt_text),
        secure: pick(merged, Opt::Secure, e, boolean),
        httponly: pick(merged, Opt::Httponly, e, boolean),
        persistent: pick(merged, Opt::Persistent, e, boolean),
        clean_freq: pick(merged, Opt::CleanFreq, e, minutes),
        debug: pick(merged, Opt::Debug, e, boolean),
        lock_timeout: pick(merged, Opt::LockTimeout, e, |t| match t {
            Typed::Seconds(s) => Some(*s),
            _ => None,
        }),
        servers: pick(merged, Opt::Servers, e, |t| match t {
            Typed::Servers(s) => Some(s.clone()),
            _ => None,
        }),
        samesite: pick(merged, Opt::Samesite, e, |t| match t {
            Typed::SameSite(s) => Some(*s),
            _ => None,
        }),
        redis_url: pick(merged, Opt::RedisUrl, e, opt_text),
        redis_host: pick(merged, Opt::RedisHost, e, text),
        redis_port: pick(merged, Opt::RedisPort, e, int),
        redis_db: pick(merged, Opt::RedisDb, e, int),
        redis_user: pick(merged, Opt::RedisUser, e, opt_text),
        redis_password: pick(merged, Opt::RedisPassword, e, opt_text),
        redis_prefix: pick(merged, Opt::RedisPrefix, e, text),
        redis_lock_prefix: pick(merged, Opt::RedisLockPrefix, e, text),
        redis_ssl: pick(merged, Opt::RedisSsl, e, boolean),
        redis_tls_skip_verify: pick(merged, Opt::RedisTlsSkipVerify, e, boolean),
        redis_is_sentinel: pick(merged, Opt::RedisIsSentinel, e, boolean),
        redis_sentinel_pass: pick(merged, Opt::RedisSentinelPass, e, opt_text),
        redis_sentinel_service: pick(merged, Opt::RedisSentinelService, e, opt_text),
        redis_cluster: pick(merged, Opt::RedisCluster, e, boolean),
    };
    check(&config, era, sink);
    config
}

fn opt_text(t: &Typed) -> Option<Option<String>> {
    match t {
        Typed::OptText(s) => Some(s.clone()),
        _ => None,
    }
}

fn text(t: &Typed) -> Option<String> {
    match t {
        Typed::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(t: &Typed) -> Option<i64> {
    match t {
        Typed::Int(i) => Some(*i),
        _ => None,
    }
}

fn minutes(t: &Typed) -> Option<Minutes> {
    match t {
        Typed::Minutes(m) => Some(*m),
        _ => None,
    }
}

fn boolean(t: &Typed) -> Option<bool> {
    match t {
        Typed::Bool(b) => Some(*b),
        _ => None,
    }
}

/// The written value, else the era's default.
fn pick<T>(merged: &Node, opt: Opt, era: Era, get: impl Fn(&Typed) -> Option<T>) -> Setting<T> {
    if let Some(slot) = merged.get(&opt)
        && let Some(v) = get(&slot.typed)
    {
        return Setting::new(v, slot.origin.clone());
    }
    let (typed, origin) = default(era, opt);
    let value = get(&typed).expect("each default has its setting's type");
    Setting::new(value, origin)
}

/// 18.x: a true `storage_type` overrides `storage_class` (spec: cherrypy-sessions §2).
fn storage(merged: &Node, era: Era, sink: &mut Sink) -> Setting<StorageKind> {
    let written = |opt| -> Option<(StorageKind, &Slot)> {
        let slot = merged.get(&opt)?;
        match slot.typed {
            Typed::Storage(Some(kind)) => Some((kind, slot)),
            Typed::Class(_) => Some((StorageKind::Custom, slot)),
            _ => None,
        }
    };
    match (written(Opt::StorageType), written(Opt::StorageClass)) {
        (Some((kind, slot)), class) => {
            if let Some((_, class_slot)) = class {
                sink.push(at_value(
                    &class_slot.place,
                    Diagnostic::warning(
                        codes::STORAGE_TYPE_OVERRIDES_CLASS,
                        format!(
                            "CherryPy 18 uses `{}` (storage {}) instead: a true storage_type overrides storage_class",
                            slot.place.key(),
                            kind.as_str()
                        ),
                    )
                    .with_help("remove one of the two"),
                ));
            }
            Setting::new(kind, slot.origin.clone())
        }
        (None, Some((kind, slot))) => Setting::new(kind, slot.origin.clone()),
        (None, None) => {
            // 2.0's default storage is "none" (sessions off); report RAM as built in.
            let origin = match era {
                Era::V2_1 | Era::V2_2 => SettingOrigin::EraDefault(era),
                _ => SettingOrigin::BuiltinDefault,
            };
            Setting::new(StorageKind::Ram, origin)
        }
    }
}

/// The application's class `storage_class` names, where it is the storage in effect.
fn custom_class(merged: &Node, storage: &Setting<StorageKind>) -> Setting<Option<String>> {
    if storage.value == StorageKind::Custom
        && let Some(slot) = merged.get(&Opt::StorageClass)
        && let Typed::Class(name) = &slot.typed
    {
        return Setting::new(Some(name.clone()), slot.origin.clone());
    }
    Setting::new(None, SettingOrigin::BuiltinDefault)
}

/// Checks that need several settings; only where sessions are on.
fn check(config: &SessionConfig, era: &EraReport, sink: &mut Sink) {
    if config.on.value && config.storage.value == StorageKind::Redis {
        check_redis(config, sink);
    }
    if !config.on.value || config.storage.value != StorageKind::File {
        return;
    }
    let Some(place) = config.storage.origin.place() else {
        return;
    };
    if config.storage_path.value.is_none() {
        let help = if era.defaults == Era::V2_0 {
            "set storageFileDir (CherryPy 2.0 wrote session files to the working directory)"
        } else {
            "set tools.sessions.storage_path to an existing directory"
        };
        sink.push(at_value(
            place,
            Diagnostic::error(
                codes::FILE_STORAGE_WITHOUT_PATH,
                "file storage needs a storage_path (CherryPy fails with KeyError on every request)",
            )
            .with_help(help),
        ));
    }
    if config.locking.value == LockingMode::Explicit {
        sink.push(at_value(
            place,
            Diagnostic::warning(
                codes::FILE_STORAGE_EXPLICIT_LOCKING,
                "file storage with explicit locking: CherryPy 3.3+ FileSession fails (AssertionError, an error page) on any session access without cherrypy.session.acquire_lock(); CherryPy 2.x did not need it",
            )
            .with_help("set tools.sessions.locking = \"early\" or \"implicit\", or call acquire_lock() in the application"),
        ));
    }
}

/// The Redis options as `cherrys.RedisSession.setup` reads them: what it asserts, and what
/// this crate cannot do yet (an error rather than a connection that differs from cherrys').
fn check_redis(config: &SessionConfig, sink: &mut Sink) {
    // The place to point at: the later-written of two settings, else the storage's.
    let place_of = |settings: &[&SettingOrigin]| {
        settings
            .iter()
            .filter_map(|o| o.place())
            .max_by_key(|p| p.key_span.start)
            .or_else(|| config.storage.origin.place())
            .cloned()
    };
    if config.redis_prefix.value == config.redis_lock_prefix.value
        && let Some(place) = place_of(&[
            &config.redis_prefix.origin,
            &config.redis_lock_prefix.origin,
        ])
    {
        sink.push(at_value(
            &place,
            Diagnostic::error(
                codes::REDIS_PREFIX_IS_LOCK_PREFIX,
                format!(
                    "prefix and lock_prefix are both {:?}: a session's data and its lock would share one key (cherrys fails its startup with \"'prefix' must not be equal to 'lock_'\")",
                    config.redis_prefix.value
                ),
            )
            .with_help("give tools.sessions.prefix or tools.sessions.lock_prefix another value"),
        ));
    }
    if config.redis_tls_skip_verify.value
        && !config.redis_is_sentinel.value
        && let Some(place) = config.redis_tls_skip_verify.origin.place()
    {
        sink.push(at_value(
            place,
            Diagnostic::warning(
                codes::REDIS_OPTION_IGNORED,
                "cherrys reads tls_skip_verify only with is_sentinel = True: its connection still verifies the server's certificate, and so does ours",
            ),
        ));
    }
}

/// The default of a setting in an era (fixtures/legacy/README.md, table A; spec:
/// cherrypy-sessions §2 for 3.x).
fn default(era: Era, opt: Opt) -> (Typed, SettingOrigin) {
    let legacy = era < Era::V3;
    let origin = if legacy {
        SettingOrigin::EraDefault(era)
    } else {
        SettingOrigin::BuiltinDefault
    };
    let typed = match opt {
        Opt::On | Opt::Secure | Opt::Httponly | Opt::StaticOn => Typed::Bool(false),
        Opt::Persistent => Typed::Bool(era != Era::V2_0),
        Opt::StoragePath | Opt::Domain | Opt::Path | Opt::PathHeader => Typed::OptText(None),
        Opt::Timeout => Typed::Minutes(Minutes::int(60)),
        Opt::CleanFreq => Typed::Minutes(Minutes::int(if era == Era::V2_0 { 60 } else { 5 })),
        Opt::Locking => Typed::Locking(if legacy {
            LockingMode::Explicit
        } else {
            LockingMode::Implicit
        }),
        Opt::Name => Typed::Text(
            match era {
                Era::V2_0 => "CherryPySession",
                Era::V2_1 => "sessionID",
                _ => "session_id",
            }
            .to_owned(),
        ),
        Opt::LockTimeout => Typed::Seconds(matches!(era, Era::V2_1 | Era::V2_2).then_some(30.0)),
        // No 2.x counterpart: CherryPy 18's (or our) default in every era.
        Opt::Debug => return (Typed::Bool(false), SettingOrigin::BuiltinDefault),
        Opt::Servers => {
            return (
                Typed::Servers(vec!["localhost:11211".to_owned()]),
                SettingOrigin::BuiltinDefault,
            );
        }
        Opt::Samesite => return (Typed::SameSite(None), SettingOrigin::BuiltinDefault),
        Opt::RedisCluster => return (Typed::Bool(false), SettingOrigin::BuiltinDefault),
        // Our Redis store's defaults: the class attributes of `cherrys.RedisSession`.
        Opt::RedisUrl
        | Opt::RedisUser
        | Opt::RedisPassword
        | Opt::RedisSentinelPass
        | Opt::RedisSentinelService => Typed::OptText(None),
        Opt::RedisHost => Typed::Text("127.0.0.1".to_owned()),
        Opt::RedisPort => Typed::Int(6379),
        Opt::RedisDb => Typed::Int(0),
        Opt::RedisPrefix => Typed::Text(String::new()),
        Opt::RedisLockPrefix => Typed::Text("lock_".to_owned()),
        Opt::RedisSsl | Opt::RedisTlsSkipVerify | Opt::RedisIsSentinel => Typed::Bool(false),
        Opt::StorageType | Opt::StorageClass => Typed::Storage(None),
        Opt::Priority => Typed::Ignored,
    };
    if opt.is_redis() {
        return (typed, SettingOrigin::CherrysDefault);
    }
    (typed, origin)
}
