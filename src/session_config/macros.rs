//! The macros that turn the settings table (`table.rs`, in the vocabulary of `spec.rs`)
//! into code: `settings!` writes the `Opt` enum, each setting's `Spec`, `SessionConfig`
//! with its picking, setters and `explain` rows, and hands the store options to
//! `store_variants!`, which writes `StorageConfig` (one variant per store, with its
//! options) and `RedisConfig`. The code they write is expanded in `table.rs`, and names
//! what that file imports.

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
        $(#[$storage_meta:meta])*
        pub enum StorageConfig;
        $(#[$redis_meta:meta])*
        pub struct RedisConfig;
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
                    store: $store:ident.$option:ident: $option_ty:ty = $option_default:expr, $option_origin:ident,
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

        // `StorageConfig` and `RedisConfig`: each store option goes to its store's variant.
        store_variants! {
            @sort [[$(#[$storage_meta])*] [$(#[$redis_meta])*]] [] [] []
            $($(
                ($opt $store $option: $option_ty = $option_default, $option_origin, $key, $doc)
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
            /// The options of every store that `explain` shows whatever the storage (those
            /// it shows only for their own store are left out).
            pub(super) fn picked(picker: &impl Picker) -> Self {
                let mut rows = Vec::new();
                $($(
                    if Show::$option_show.regardless_of_storage() {
                        let option = picker.pick(
                            Opt::$opt,
                            ($option_default) as fn(Era) -> $option_ty,
                            DefaultOrigin::$option_origin,
                        );
                        rows.push((Opt::$opt, ToJson::to_json(&option.value), option.origin));
                    }
                )?)*
                AsWritten(rows)
            }

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
                    as_written: AsWritten::picked(picker),
                }
            }

            /// Every setting's value with its setting, as reading it from a file would give
            /// it: every field, then the options of the store in effect (those of another
            /// store are not held). `check` applies the table's rules for read values to
            /// them, so that settings made in code meet the same ones.
            pub(super) fn typed_values(&self) -> Vec<(Opt, Typed)> {
                let mut values = Vec::with_capacity(Opt::ALL.len());
                $(
                    $(
                        values.push((Opt::$opt, ToTyped::to_typed(&self.$field.value)));
                    )?
                    $(
                        if let Some(option) = store_option!(&self.storage.value, $store.$option) {
                            values.push((Opt::$opt, ToTyped::to_typed(&option.value)));
                        }
                    )?
                )*
                values
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
                        if let Some(option) = store_option!(&self.storage.value, $store.$option) {
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
    };
}

/// Sorts the store options of the table by store (`@sort`: one list per store, each in
/// the table's order), then writes `StorageConfig`, with a variant per store holding its
/// options, `RedisConfig`, and the picking of each store's options (`@emit`). The class of
/// `Custom` is `resolve`'s to read (`storage_class` either names CherryPy's stores or is
/// that class), not picked like an option: its entry gives only its spelling, default and
/// `explain` row.
macro_rules! store_variants {
    (@sort $metas:tt [$($file:tt)*] $memcached:tt $redis:tt
        ($opt:ident File $($entry:tt)*) $($rest:tt)*
    ) => {
        store_variants!(@sort $metas [$($file)* ($opt $($entry)*)] $memcached $redis $($rest)*);
    };
    (@sort $metas:tt $file:tt [$($memcached:tt)*] $redis:tt
        ($opt:ident Memcached $($entry:tt)*) $($rest:tt)*
    ) => {
        store_variants!(@sort $metas $file [$($memcached)* ($opt $($entry)*)] $redis $($rest)*);
    };
    (@sort $metas:tt $file:tt $memcached:tt [$($redis:tt)*]
        ($opt:ident Redis $($entry:tt)*) $($rest:tt)*
    ) => {
        store_variants!(@sort $metas $file $memcached [$($redis)* ($opt $($entry)*)] $($rest)*);
    };
    (@sort $metas:tt $file:tt $memcached:tt $redis:tt
        ($opt:ident Custom $($entry:tt)*) $($rest:tt)*
    ) => {
        store_variants!(@sort $metas $file $memcached $redis $($rest)*);
    };
    (@sort $metas:tt $file:tt $memcached:tt $redis:tt) => {
        store_variants!(@emit $metas $file $memcached $redis);
    };
    (@emit
        [[$(#[$storage_meta:meta])*] [$(#[$redis_meta:meta])*]]
        [$(($file_opt:ident $file:ident: $file_ty:ty = $file_default:expr, $file_origin:ident, $file_key:literal, $file_doc:literal))*]
        [$(($memcached_opt:ident $memcached:ident: $memcached_ty:ty = $memcached_default:expr, $memcached_origin:ident, $memcached_key:literal, $memcached_doc:literal))*]
        [$(($redis_opt:ident $redis:ident: $redis_ty:ty = $redis_default:expr, $redis_origin:ident, $redis_key:literal, $redis_doc:literal))*]
    ) => {
        $(#[$storage_meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        #[allow(
            clippy::large_enum_variant,
            reason = "one per config section, shared behind an Arc; a Box would only add an allocation and a Box to every pattern"
        )]
        pub enum StorageConfig {
            /// `RamSession` (`storage_type = "ram"`), the default: no options.
            Ram,
            /// `FileSession` (`storage_type = "file"`). Its `path` may be `None`, as
            /// CherryPy allows where sessions are off; where they are on, that is an error
            /// when a config is read, and at startup for settings made in code.
            #[non_exhaustive]
            File {
                $(
                    #[doc = concat!("`", $file_key, "`: ", $file_doc)]
                    $file: Setting<$file_ty>,
                )*
            },
            /// `MemcachedSession` (`storage_type = "memcached"`).
            #[non_exhaustive]
            Memcached {
                $(
                    #[doc = concat!("`", $memcached_key, "`: ", $memcached_doc)]
                    $memcached: Setting<$memcached_ty>,
                )*
            },
            /// Redis: this crate's extension (`storage_type = "redis"`, or cherrys'
            /// `storage_class = cherrys.RedisSession`); CherryPy itself has no such backend.
            Redis(RedisConfig),
            /// A class of the application's own (`storage_class = myapp.sessions.PgSession`):
            /// the application maps it to a store in code
            /// (`CherryPySessions::builder().storage_class(..)`).
            #[non_exhaustive]
            Custom {
                /// `tools.sessions.storage_class`: the dotted class name.
                class: Setting<String>,
            },
        }

        $(#[$redis_meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct RedisConfig {
            $(
                #[doc = concat!("`", $redis_key, "`: ", $redis_doc)]
                pub $redis: Setting<$redis_ty>,
            )*
        }

        impl StorageConfig {
            /// The values of the store's options (not where each was written), as one
            /// text: the paths whose storage gives the same text share one store.
            pub(crate) fn identity(&self) -> String {
                match self {
                    StorageConfig::Ram => String::new(),
                    StorageConfig::File { $($file,)* .. } => {
                        format!(concat!($(stringify!($file), "={:?} ",)*), $($file.value,)*)
                    }
                    StorageConfig::Memcached { $($memcached,)* .. } => format!(
                        concat!($(stringify!($memcached), "={:?} ",)*),
                        $($memcached.value,)*
                    ),
                    StorageConfig::Redis(options) => format!(
                        concat!($(stringify!($redis), "={:?} ",)*),
                        $(options.$redis.value,)*
                    ),
                    StorageConfig::Custom { class, .. } => class.value.clone(),
                }
            }

            /// A file store, every option its written value, else its default.
            pub(super) fn picked_file(picker: &impl Picker) -> Self {
                StorageConfig::File {
                    $(
                        $file: picker.pick(
                            Opt::$file_opt,
                            ($file_default) as fn(Era) -> $file_ty,
                            DefaultOrigin::$file_origin,
                        ),
                    )*
                }
            }

            /// A memcached store, every option its written value, else its default.
            pub(super) fn picked_memcached(picker: &impl Picker) -> Self {
                StorageConfig::Memcached {
                    $(
                        $memcached: picker.pick(
                            Opt::$memcached_opt,
                            ($memcached_default) as fn(Era) -> $memcached_ty,
                            DefaultOrigin::$memcached_origin,
                        ),
                    )*
                }
            }
        }

        impl RedisConfig {
            /// Every option: its written value, else its default.
            pub(super) fn picked(picker: &impl Picker) -> Self {
                Self {
                    $(
                        $redis: picker.pick(
                            Opt::$redis_opt,
                            ($redis_default) as fn(Era) -> $redis_ty,
                            DefaultOrigin::$redis_origin,
                        ),
                    )*
                }
            }
        }
    };
}

/// The option of a `StorageConfig` a table entry names (`File.path`, `Redis.host`), if the
/// storage is that store.
macro_rules! store_option {
    ($storage:expr, Redis.$option:ident) => {
        match $storage {
            StorageConfig::Redis(options) => Some(&options.$option),
            _ => None,
        }
    };
    ($storage:expr, $store:ident.$option:ident) => {
        match $storage {
            StorageConfig::$store { $option, .. } => Some($option),
            _ => None,
        }
    };
}

pub(super) use {settings, some, spelling, store_option, store_variants};
