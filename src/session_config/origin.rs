//! Where a typed session setting came from (every value can say where it was set), for `explain` and for errors
//! found after loading ("storage_path does not exist" still points at the file's line).

use std::fmt;
use std::sync::Arc;

use crate::config::FilePlace;

use super::era::Era;

/// A typed value and its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub origin: SettingOrigin,
}

impl<T> Setting<T> {
    pub(super) fn new(value: T, origin: SettingOrigin) -> Self {
        Self { value, origin }
    }
}

/// The origin of a session setting.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SettingOrigin {
    /// A `tools.sessions.*` key written in a file.
    File(FilePlace),
    /// Added by an `environment = "…"` preset.
    Environment {
        /// The preset's name.
        preset: String,
        /// Where `environment` is set.
        set_at: FilePlace,
    },
    /// A legacy spelling (`sessionFilter.timeout`, `[session] cookieName`); the place's `key`
    /// is the key as written.
    LegacyAlias {
        /// The era whose name it is.
        era: Era,
        /// Where it is written.
        place: FilePlace,
    },
    /// A legacy behaviour derived from another key (2.0 sessions are on when `storageType`
    /// is not empty; 2.0 and 2.1 have no sessions on static paths).
    LegacyBehaviour {
        /// The era whose behaviour it is.
        era: Era,
        /// The key the behaviour follows from.
        place: FilePlace,
        /// What the era did, in a few words.
        rule: &'static str,
    },
    /// The default of the file's era, which the file relied on.
    EraDefault(Era),
    /// CherryPy 18's default (or ours, for the extensions).
    BuiltinDefault,
    /// The default of the `cherrys` package (`cherrys.RedisSession`'s class attributes), for
    /// the Redis store's options.
    CherrysDefault,
    /// Set by the application's code (the builder).
    Code,
}

impl SettingOrigin {
    /// The file place behind the setting, if it was written somewhere.
    pub fn place(&self) -> Option<&FilePlace> {
        match self {
            SettingOrigin::File(place)
            | SettingOrigin::LegacyAlias { place, .. }
            | SettingOrigin::LegacyBehaviour { place, .. } => Some(place),
            SettingOrigin::Environment { set_at, .. } => Some(set_at),
            SettingOrigin::EraDefault(_)
            | SettingOrigin::BuiltinDefault
            | SettingOrigin::CherrysDefault
            | SettingOrigin::Code => None,
        }
    }

    /// The 1-based line of the key, if it was written somewhere.
    pub fn line(&self) -> Option<usize> {
        self.place().map(|p| p.file.line_column(p.key_span.start).0)
    }

    /// Whether the value is a default (era or built-in), i.e. not written in the file.
    pub fn is_default(&self) -> bool {
        matches!(
            self,
            SettingOrigin::EraDefault(_)
                | SettingOrigin::BuiltinDefault
                | SettingOrigin::CherrysDefault
        )
    }
}

/// How a slot's value was set, beside its place: with its place, a
/// [`SettingOrigin`]. Kept apart so that a slot of a section holds its place once (every section of a
/// config can hold a slot for every setting).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum How {
    /// A `tools.sessions.*` key.
    Written,
    /// Added by the `environment` preset of this name.
    Preset(Arc<str>),
    /// A legacy spelling of the era.
    Alias(Era),
    /// A legacy behaviour of the era, derived from the key at the place.
    Behaviour(Era, &'static str),
}

impl How {
    /// The origin of a value set this way at `place`.
    pub(super) fn origin(&self, place: FilePlace) -> SettingOrigin {
        match self {
            How::Written => SettingOrigin::File(place),
            How::Preset(preset) => SettingOrigin::Environment {
                preset: preset.to_string(),
                set_at: place,
            },
            How::Alias(era) => SettingOrigin::LegacyAlias { era: *era, place },
            How::Behaviour(era, rule) => SettingOrigin::LegacyBehaviour {
                era: *era,
                place,
                rule,
            },
        }
    }
}

/// `file.conf:12 [global] sessionFilter.timeout (CherryPy 2.1 name)`, `CherryPy 2.1 default`.
impl fmt::Display for SettingOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |p: &FilePlace| {
            let (line, _) = p.file.line_column(p.key_span.start);
            format!("{}:{line} [{}] {}", p.file.name(), p.section, p.key())
        };
        match self {
            SettingOrigin::File(p) => f.write_str(&at(p)),
            SettingOrigin::Environment { preset, set_at } => {
                write!(f, "environment preset {preset:?}, {}", at(set_at))
            }
            SettingOrigin::LegacyAlias { era, place } => {
                write!(f, "{}, CherryPy {} name", at(place), era.label())
            }
            SettingOrigin::LegacyBehaviour { era, place, rule } => {
                write!(f, "{}, CherryPy {}: {rule}", at(place), era.label())
            }
            SettingOrigin::EraDefault(era) => write!(f, "CherryPy {} default", era.label()),
            SettingOrigin::BuiltinDefault => f.write_str("built-in default"),
            SettingOrigin::CherrysDefault => f.write_str("cherrys default"),
            SettingOrigin::Code => f.write_str("set in code"),
        }
    }
}
