//! From the merged slots of one path to a [`SessionConfig`]: every field the table's way
//! (the written value, else the era's default), then what the table cannot say: 18.x's
//! storage precedence, 2.1's `staticFilter.on`, and the checks that need several settings.

use crate::Diagnostic;

use super::codes;
use super::era::{Era, EraReport};
use super::node::{Node, Slot};
use super::origin::{Setting, SettingOrigin};
use super::sink::{Sink, at_setting, at_value};
use super::spec::DefaultOrigin;
use super::table::{Opt, Picker, RedisConfig, SessionConfig, StorageConfig};
use super::typed::{FromTyped, Typed};
use super::types::{LockingMode, StorageKind};

/// The effective settings from the merged slots of a path.
pub(super) fn resolve(merged: &Node, era: &EraReport, sink: &mut Sink) -> SessionConfig {
    let picker = Merged {
        node: merged,
        era: era.defaults,
    };
    let mut config = SessionConfig::picked(&picker);
    // 2.1 skipped sessions wherever staticFilter.on was true.
    if let Some(slot) = merged.get(Opt::StaticOn)
        && config.on.value
        && slot.typed == Typed::Bool(true)
    {
        config.on = Setting::new(
            false,
            SettingOrigin::LegacyBehaviour {
                era: Era::V2_1,
                place: slot.place.clone(),
                rule: "no sessions where staticFilter.on is true",
            },
        );
    }
    let kind = storage(merged, era.defaults, sink);
    let storage = match kind.value {
        StorageKind::Ram => StorageConfig::Ram,
        StorageKind::File => StorageConfig::picked_file(&picker),
        StorageKind::Memcached => StorageConfig::picked_memcached(&picker),
        StorageKind::Redis => StorageConfig::Redis(RedisConfig::picked(&picker)),
        StorageKind::Custom => StorageConfig::Custom {
            class: custom_class(merged),
        },
    };
    config.storage = Setting::new(storage, kind.origin);
    check(&config, era.defaults, sink);
    config
}

/// The merged slots of a path, and the era whose defaults fill the rest.
struct Merged<'a> {
    node: &'a Node,
    era: Era,
}

impl Picker for Merged<'_> {
    /// The written value, else the era's default.
    fn pick<T: FromTyped>(
        &self,
        opt: Opt,
        default: impl FnOnce(Era) -> T,
        origin: DefaultOrigin,
    ) -> Setting<T> {
        if let Some(slot) = self.node.get(opt)
            && let Some(value) = T::from_typed(&slot.typed)
        {
            return Setting::new(value, slot.origin());
        }
        Setting::new(default(self.era), origin.origin(self.era))
    }
}

/// 18.x: a true `storage_type` overrides `storage_class` (CherryPy 18's `init` tests
/// `storage_type` first).
fn storage(merged: &Node, era: Era, sink: &mut Sink) -> Setting<StorageKind> {
    let written = |opt| -> Option<(StorageKind, &Slot)> {
        let slot = merged.get(opt)?;
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
            Setting::new(kind, slot.origin())
        }
        (None, Some((kind, slot))) => Setting::new(kind, slot.origin()),
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

/// The application's class `storage_class` names (used where it is the storage in effect).
fn custom_class(merged: &Node) -> Setting<String> {
    if let Some(slot) = merged.get(Opt::StorageClass)
        && let Typed::Class(name) = &slot.typed
    {
        return Setting::new(name.clone(), slot.origin());
    }
    Setting::new(String::new(), SettingOrigin::BuiltinDefault)
}

/// Checks that need several settings; only where sessions are on. Each finding points at
/// where the settings were written; settings made in code, which have no place in a file,
/// are named instead (`era` is [`Era::V3`] for them).
pub(super) fn check(config: &SessionConfig, era: Era, sink: &mut Sink) {
    if !config.on.value {
        return;
    }
    if let StorageConfig::Redis(redis) = &config.storage.value {
        check_redis(redis, &config.storage.origin, sink);
    }
    let StorageConfig::File { path } = &config.storage.value else {
        return;
    };
    let place = config.storage.origin.place();
    if path.value.is_none() {
        let help = if era == Era::V2_0 {
            "set storageFileDir (CherryPy 2.0 wrote session files to the working directory)"
        } else {
            "set tools.sessions.storage_path to an existing directory"
        };
        sink.push(at_setting(
            place,
            Opt::StoragePath,
            Diagnostic::error(
                codes::FILE_STORAGE_WITHOUT_PATH,
                "file storage needs a storage_path (CherryPy fails with KeyError on every request)",
            )
            .with_help(help),
        ));
    }
    if config.locking.value == LockingMode::Explicit {
        sink.push(at_setting(
            place,
            Opt::Locking,
            Diagnostic::warning(
                codes::FILE_STORAGE_EXPLICIT_LOCKING,
                "file storage with explicit locking: CherryPy 3.3+ FileSession fails (AssertionError, an error page) on any session access without cherrypy.session.acquire_lock(); CherryPy 2.x did not need it",
            )
            .with_help("set tools.sessions.locking = \"early\" or \"implicit\", or call acquire_lock() in the application"),
        ));
    }
}

/// The Redis options as `cherrys.RedisSession.setup` reads them: what it asserts, and the
/// options it ignores in a combination (a warning, as the value has no effect).
fn check_redis(redis: &RedisConfig, storage: &SettingOrigin, sink: &mut Sink) {
    // The place to point at: the later-written of two settings, else the storage's.
    let place_of = |settings: &[&SettingOrigin]| {
        settings
            .iter()
            .filter_map(|o| o.place())
            .max_by_key(|p| p.key_span.start)
            .or_else(|| storage.place())
            .cloned()
    };
    if redis.prefix.value == redis.lock_prefix.value {
        let place = place_of(&[&redis.prefix.origin, &redis.lock_prefix.origin]);
        sink.push(at_setting(
            place.as_ref(),
            Opt::RedisPrefix,
            Diagnostic::error(
                codes::REDIS_PREFIX_IS_LOCK_PREFIX,
                format!(
                    "prefix and lock_prefix are both {:?}: a session's data and its lock would share one key (cherrys fails its startup with \"'prefix' must not be equal to 'lock_'\")",
                    redis.prefix.value
                ),
            )
            .with_help("give tools.sessions.prefix or tools.sessions.lock_prefix another value"),
        ));
    }
    if redis.tls_skip_verify.value && !redis.is_sentinel.value {
        sink.push(at_setting(
            redis.tls_skip_verify.origin.place(),
            Opt::RedisTlsSkipVerify,
            Diagnostic::warning(
                codes::REDIS_OPTION_IGNORED,
                "cherrys reads tls_skip_verify only with is_sentinel = True: its connection still verifies the server's certificate, and so does ours",
            ),
        ));
    }
}
