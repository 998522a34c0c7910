//! The vocabulary of the settings table (`table.rs`): how a value is read ([`Read`]), its
//! range ([`Range`]), whose default a field has ([`DefaultOrigin`]), when `explain` shows it
//! ([`Show`]), what the table says of one setting ([`Spec`]), and the `settings!` macro that
//! turns the table into the `Opt` enum, the `SessionConfig` struct and their code.

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

/// `Some($e)`, or `None` when nothing is given.
macro_rules! some {
    () => {
        None
    };
    ($e:expr) => {
        Some($e)
    };
}

/// `Some("name")` for a spelling, `None` for `-`.
macro_rules! spelling {
    (-) => {
        None
    };
    ($name:literal) => {
        Some($name)
    };
}

macro_rules! settings {
    (
        $(#[$config_meta:meta])*
        pub struct SessionConfig;
        $(
            $opt:ident {
                key: $key:literal,
                v2_2: $v2_2:tt, v2_1: $v2_1:tt, v2_0: $v2_0:tt,
                read: $read:expr,
                range: $range:expr,
                doc: $doc:literal,
                $(
                    field: $field:ident: $ty:ty = $default:expr, $origin:ident,
                    $(more: $more:literal,)?
                    explain: $name:literal $show:ident,
                    setters: {$(
                        $(#[$setter_meta:meta])*
                        $setter:ident($arg:ident: $arg_ty:ty) => $value:expr;
                    )*},
                )?
                $(
                    store: $store:ident $access:tt,
                    option: $option:ident: $option_ty:ty = $option_default:expr, $option_origin:ident,
                    explain: $option_name:literal $option_show:ident,
                )?
            }
        )*
    ) => {
        /// A session setting, whatever its spelling.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) enum Opt {
            $($opt,)*
        }

        static SPECS: &[Spec] = &[$(
            Spec {
                modern: $key,
                v2_2: spelling!($v2_2),
                v2_1: spelling!($v2_1),
                v2_0: spelling!($v2_0),
                read: $read,
                range: $range,
                doc: $doc,
                default: some!(
                    $(|era: Era| ToJson::to_json(&(($default) as fn(Era) -> $ty)(era)))?
                    $(|era: Era| ToJson::to_json(&(($option_default) as fn(Era) -> $option_ty)(era)))?
                ),
                default_origin: some!($(DefaultOrigin::$origin)? $(DefaultOrigin::$option_origin)?),
            },
        )*];

        impl Opt {
            /// Every setting, in the table's order.
            pub(crate) const ALL: &'static [Opt] = &[$(Opt::$opt,)*];

            /// What the table says of the setting.
            pub(crate) fn spec(self) -> &'static Spec {
                &SPECS[self as usize]
            }
        }

        $(#[$config_meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct SessionConfig {
            $($(
                #[doc = concat!("`", $key, "`: ", $doc)]
                $(#[doc = ""] #[doc = $more])?
                pub $field: Setting<$ty>,
            )?)*
            /// The store options `explain` shows whatever the storage, as written or
            /// defaulted (see `AsWritten`).
            pub(super) as_written: AsWritten,
        }

        /// Every store's options, picked the table's way before `StorageConfig` takes
        /// those of the store in effect.
        #[derive(Debug, Clone, PartialEq)]
        pub(super) struct StoreOptions {
            $($(
                pub(super) $option: Setting<$option_ty>,
            )?)*
        }

        /// The store options `explain` shows whatever the storage (`storage_path`,
        /// `servers`, a written `cluster`), as written or defaulted. CherryPy reads every
        /// option whichever store is chosen, so a `storage_path` written for a RAM store is
        /// still shown where it was written; the typed options of the store in effect are
        /// in its `StorageConfig` variant, which `explain` prefers.
        #[derive(Debug, Clone, PartialEq, Default)]
        pub(super) struct AsWritten(Vec<(Opt, Json, SettingOrigin)>);

        impl AsWritten {
            pub(super) fn get(&self, opt: Opt) -> Option<(&Json, &SettingOrigin)> {
                self.0
                    .iter()
                    .find(|(o, _, _)| *o == opt)
                    .map(|(_, value, origin)| (value, origin))
            }
        }

        impl SessionConfig {
            /// Every field: its written value, else its default (the storage is `resolve`'s).
            pub(super) fn picked(picker: &impl Picker) -> Self {
                Self {
                    $($(
                        $field: picker.pick(
                            Opt::$opt,
                            ($default) as fn(Era) -> $ty,
                            DefaultOrigin::$origin,
                        ),
                    )?)*
                    as_written: AsWritten::default(),
                }
            }

            /// Every field's `explain` row, in the table's order; a store option's from the
            /// store in effect if it is its store, else as written.
            pub(crate) fn explain_rows(&self) -> Vec<ExplainRow<'_>> {
                let mut rows = Vec::with_capacity(Opt::ALL.len());
                $(
                    $(
                        rows.push(ExplainRow {
                            name: $name,
                            show: Show::$show,
                            value: ToJson::to_json(&self.$field.value),
                            origin: &self.$field.origin,
                        });
                    )?
                    $(
                        if let Some(option) = store_option!(&self.storage.value, $store $access) {
                            rows.push(ExplainRow {
                                name: $option_name,
                                show: Show::$option_show,
                                value: ToJson::to_json(&option.value),
                                origin: &option.origin,
                            });
                        } else if let Some((value, origin)) = self.as_written.get(Opt::$opt) {
                            rows.push(ExplainRow {
                                name: $option_name,
                                show: Show::$option_show,
                                value: value.clone(),
                                origin,
                            });
                        }
                    )?
                )*
                rows
            }

            $($($(
                #[doc = concat!("Sets `", $key, "`: ", $doc)]
                $(#[$setter_meta])*
                #[doc(alias = $key)]
                #[must_use]
                pub fn $setter(mut self, $arg: $arg_ty) -> Self {
                    self.$field = Setting::new($value, SettingOrigin::Code);
                    self
                }
            )*)?)*
        }

        impl StoreOptions {
            /// Every option: its written value, else its default.
            pub(super) fn picked(picker: &impl Picker) -> Self {
                Self {
                    $($(
                        $option: picker.pick(
                            Opt::$opt,
                            ($option_default) as fn(Era) -> $option_ty,
                            DefaultOrigin::$option_origin,
                        ),
                    )?)*
                }
            }

            /// The options `explain` shows whatever the storage (those it shows only for
            /// their own store are left out).
            pub(super) fn as_written(&self) -> AsWritten {
                let mut rows = Vec::new();
                $($(
                    if Show::$option_show.regardless_of_storage() {
                        rows.push((
                            Opt::$opt,
                            ToJson::to_json(&self.$option.value),
                            self.$option.origin.clone(),
                        ));
                    }
                )?)*
                AsWritten(rows)
            }
        }
    };
}

/// The option of a `StorageConfig` a table entry names
/// (`File { path }`, `Redis(host)`), if the storage is that store.
macro_rules! store_option {
    ($storage:expr, $store:ident { $option:ident }) => {
        match $storage {
            StorageConfig::$store { $option, .. } => Some($option),
            _ => None,
        }
    };
    ($storage:expr, $store:ident ( $option:ident )) => {
        match $storage {
            StorageConfig::$store(options) => Some(&options.$option),
            _ => None,
        }
    };
}

pub(super) use {settings, some, spelling, store_option};
