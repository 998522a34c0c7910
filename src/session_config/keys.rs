//! Every spelling of every session setting, by era (spec: cherrypy-sessions §2,
//! legacy-names §1). CherryPy's key names live here and nowhere else (house style 17).

use super::era::Era;

/// A session setting, whatever its spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Opt {
    On,
    StorageType,
    StorageClass,
    StoragePath,
    Timeout,
    Locking,
    Name,
    Domain,
    Path,
    PathHeader,
    Secure,
    Httponly,
    Persistent,
    CleanFreq,
    Debug,
    LockTimeout,
    Servers,
    Samesite,
    Priority,
    /// The Redis store's options, as the `cherrys` package spells them.
    RedisUrl,
    RedisHost,
    RedisPort,
    RedisDb,
    RedisUser,
    RedisPassword,
    RedisPrefix,
    RedisLockPrefix,
    RedisSsl,
    RedisTlsSkipVerify,
    RedisIsSentinel,
    RedisSentinelPass,
    RedisSentinelService,
    /// `tools.sessions.cluster`: this crate's extension (cherrys has no Redis Cluster).
    RedisCluster,
    /// 2.1's `staticFilter.on`, which turns sessions off (legacy-names §1, `sessionFilter.on`).
    StaticOn,
}

impl Opt {
    /// Whether this is one of the Redis store's options (`cherrys.RedisSession`'s).
    pub(crate) fn is_redis(self) -> bool {
        matches!(
            self,
            Opt::RedisUrl
                | Opt::RedisHost
                | Opt::RedisPort
                | Opt::RedisDb
                | Opt::RedisUser
                | Opt::RedisPassword
                | Opt::RedisPrefix
                | Opt::RedisLockPrefix
                | Opt::RedisSsl
                | Opt::RedisTlsSkipVerify
                | Opt::RedisIsSentinel
                | Opt::RedisSentinelPass
                | Opt::RedisSentinelService
        )
    }

    /// The 3.x key (`tools.sessions.timeout`).
    pub(crate) fn modern(self) -> &'static str {
        match self {
            Opt::On => "tools.sessions.on",
            Opt::StorageType => "tools.sessions.storage_type",
            Opt::StorageClass => "tools.sessions.storage_class",
            Opt::StoragePath => "tools.sessions.storage_path",
            Opt::Timeout => "tools.sessions.timeout",
            Opt::Locking => "tools.sessions.locking",
            Opt::Name => "tools.sessions.name",
            Opt::Domain => "tools.sessions.domain",
            Opt::Path => "tools.sessions.path",
            Opt::PathHeader => "tools.sessions.path_header",
            Opt::Secure => "tools.sessions.secure",
            Opt::Httponly => "tools.sessions.httponly",
            Opt::Persistent => "tools.sessions.persistent",
            Opt::CleanFreq => "tools.sessions.clean_freq",
            Opt::Debug => "tools.sessions.debug",
            Opt::LockTimeout => "tools.sessions.lock_timeout",
            Opt::Servers => "tools.sessions.servers",
            Opt::Samesite => "tools.sessions.samesite",
            Opt::Priority => "tools.sessions.priority",
            Opt::RedisUrl => "tools.sessions.url",
            Opt::RedisHost => "tools.sessions.host",
            Opt::RedisPort => "tools.sessions.port",
            Opt::RedisDb => "tools.sessions.db",
            Opt::RedisUser => "tools.sessions.user",
            Opt::RedisPassword => "tools.sessions.password",
            Opt::RedisPrefix => "tools.sessions.prefix",
            Opt::RedisLockPrefix => "tools.sessions.lock_prefix",
            Opt::RedisSsl => "tools.sessions.ssl",
            Opt::RedisTlsSkipVerify => "tools.sessions.tls_skip_verify",
            Opt::RedisIsSentinel => "tools.sessions.is_sentinel",
            Opt::RedisSentinelPass => "tools.sessions.sentinel_pass",
            Opt::RedisSentinelService => "tools.sessions.sentinel_service",
            Opt::RedisCluster => "tools.sessions.cluster",
            Opt::StaticOn => "tools.staticdir.on",
        }
    }
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Sets a setting.
    Opt(Opt),
    /// 2.0 `storageType`: sessions on when not empty, and the storage.
    StorageType2_0,
    /// `getDB`/`get_db`: a function returning a PostgreSQL connection.
    GetDb,
    /// A session callback (`onCreateSession`, `on_delete_session`, …).
    Callback,
    /// `generate_session_id`.
    GenerateId,
    /// A 2.x `storageClass`/`storage_class`.
    LegacyStorageClass,
}

/// A recognised spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spelling {
    /// The era that read this spelling (its value rules are that era's).
    pub(crate) era: Era,
    /// Priority at one node, lower wins: `tools.sessions.*` 0, camelCase 1 (2.2 tries it
    /// first), 2.2 spelling 3, `sessionFilter.Timeout` 4 (2.1 never read it); 2.0: the short
    /// name 0, `session*` 1, `cpg.configOption.session*` 2.
    pub(crate) rank: u8,
    pub(crate) target: Target,
    /// A 2.0 attribute name, or the migration table's `Timeout`: read, with a warning.
    pub(crate) doubtful: bool,
}

/// How a key was classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Classified {
    Known(Spelling),
    /// A key in a session namespace that no release read; `suggestion` is a close known
    /// spelling, `prerelease` says it was a 2.1 pre-release design.
    Unknown {
        era: Era,
        suggestion: Option<String>,
        prerelease: bool,
    },
}

pub(crate) const MODERN_PREFIX: &str = "tools.sessions.";
const PREFIX_2_1: &str = "sessionFilter.";
const PREFIX_2_2: &str = "session_filter.";

const MODERN: &[(&str, Opt)] = &[
    ("on", Opt::On),
    ("storage_type", Opt::StorageType),
    ("storage_class", Opt::StorageClass),
    ("storage_path", Opt::StoragePath),
    ("timeout", Opt::Timeout),
    ("locking", Opt::Locking),
    ("name", Opt::Name),
    ("domain", Opt::Domain),
    ("path", Opt::Path),
    ("path_header", Opt::PathHeader),
    ("secure", Opt::Secure),
    ("httponly", Opt::Httponly),
    ("persistent", Opt::Persistent),
    ("clean_freq", Opt::CleanFreq),
    ("debug", Opt::Debug),
    ("lock_timeout", Opt::LockTimeout),
    ("servers", Opt::Servers),
    ("samesite", Opt::Samesite),
    ("priority", Opt::Priority),
    ("url", Opt::RedisUrl),
    ("host", Opt::RedisHost),
    ("port", Opt::RedisPort),
    ("db", Opt::RedisDb),
    ("user", Opt::RedisUser),
    ("password", Opt::RedisPassword),
    ("prefix", Opt::RedisPrefix),
    ("lock_prefix", Opt::RedisLockPrefix),
    ("ssl", Opt::RedisSsl),
    ("tls_skip_verify", Opt::RedisTlsSkipVerify),
    ("is_sentinel", Opt::RedisIsSentinel),
    ("sentinel_pass", Opt::RedisSentinelPass),
    ("sentinel_service", Opt::RedisSentinelService),
    ("cluster", Opt::RedisCluster),
];

/// 2.2/2.3 `session_filter.*` (cherrypy-2.2.1 `filters/sessionfilter.py`).
const KEYS_2_2: &[(&str, Target)] = &[
    ("on", Target::Opt(Opt::On)),
    ("storage_type", Target::Opt(Opt::StorageType)),
    ("storage_path", Target::Opt(Opt::StoragePath)),
    ("timeout", Target::Opt(Opt::Timeout)),
    ("clean_up_delay", Target::Opt(Opt::CleanFreq)),
    ("cookie_name", Target::Opt(Opt::Name)),
    ("cookie_domain", Target::Opt(Opt::Domain)),
    ("cookie_secure", Target::Opt(Opt::Secure)),
    ("cookie_path", Target::Opt(Opt::Path)),
    ("cookie_path_from_header", Target::Opt(Opt::PathHeader)),
    ("locking", Target::Opt(Opt::Locking)),
    ("deadlock_timeout", Target::Opt(Opt::LockTimeout)),
    ("storage_class", Target::LegacyStorageClass),
    ("get_db", Target::GetDb),
    ("on_create_session", Target::Callback),
    ("on_renew_session", Target::Callback),
    ("on_delete_session", Target::Callback),
    ("generate_session_id", Target::GenerateId),
];

/// 2.1 `sessionFilter.*` (cherrypy-2.1.1 `lib/filter/sessionfilter.py`).
const KEYS_2_1: &[(&str, Target)] = &[
    ("on", Target::Opt(Opt::On)),
    ("storageType", Target::Opt(Opt::StorageType)),
    ("storagePath", Target::Opt(Opt::StoragePath)),
    ("timeout", Target::Opt(Opt::Timeout)),
    ("cleanUpDelay", Target::Opt(Opt::CleanFreq)),
    ("cookieName", Target::Opt(Opt::Name)),
    ("locking", Target::Opt(Opt::Locking)),
    ("deadlockTimeout", Target::Opt(Opt::LockTimeout)),
    ("storageClass", Target::LegacyStorageClass),
    ("getDB", Target::GetDb),
    ("onCreateSession", Target::Callback),
    ("onDeleteSession", Target::Callback),
];

/// Keys of the 2.1 pre-release designs (legacy-names §1, last paragraph); 2.1 final ignored
/// them.
const PRERELEASE_2_1: &[&str] = &[
    "new",
    "storageFileDir",
    "cookiePrefix",
    "sessionList",
    "storageAdaptors",
    "cacheTimeout",
    "default.on",
];

/// 2.0 `[session]` keys, lower-cased (2.0's ConfigParser lower-cases key names).
const KEYS_2_0: &[(&str, Target)] = &[
    ("storagetype", Target::StorageType2_0),
    ("timeout", Target::Opt(Opt::Timeout)),
    ("cleanupdelay", Target::Opt(Opt::CleanFreq)),
    ("cookiename", Target::Opt(Opt::Name)),
    ("storagefiledir", Target::Opt(Opt::StoragePath)),
];

/// Classifies a key of a `[global]` or path section.
pub(crate) fn classify(key: &str) -> Option<Classified> {
    if let Some(rest) = key.strip_prefix(MODERN_PREFIX) {
        if let Some((_, opt)) = MODERN.iter().find(|(k, _)| *k == rest) {
            return Some(known(Era::V3, 0, Target::Opt(*opt), false));
        }
        return Some(unknown(
            Era::V3,
            rest,
            MODERN.iter().map(|(k, _)| *k),
            false,
        ));
    }
    if let Some(rest) = key.strip_prefix(PREFIX_2_2) {
        if let Some((_, target)) = KEYS_2_2.iter().find(|(k, _)| *k == rest) {
            return Some(known(Era::V2_2, 3, *target, false));
        }
        return Some(unknown(
            Era::V2_2,
            rest,
            KEYS_2_2.iter().map(|(k, _)| *k),
            false,
        ));
    }
    if let Some(rest) = key.strip_prefix(PREFIX_2_1) {
        if let Some((_, target)) = KEYS_2_1.iter().find(|(k, _)| *k == rest) {
            return Some(known(Era::V2_1, 1, *target, false));
        }
        if rest == "Timeout" {
            return Some(known(Era::V2_1, 4, Target::Opt(Opt::Timeout), true));
        }
        // 2.2 also read the camelCase form of every 2.2 key (`lower_to_camel`).
        if let Some((_, target)) = KEYS_2_2.iter().find(|(k, _)| lower_to_camel(k) == rest) {
            return Some(known(Era::V2_2, 1, *target, false));
        }
        let prerelease = PRERELEASE_2_1.contains(&rest);
        return Some(unknown(
            Era::V2_1,
            rest,
            KEYS_2_1.iter().map(|(k, _)| *k),
            prerelease,
        ));
    }
    if key == "staticFilter.on" {
        return Some(known(Era::V2_1, 1, Target::Opt(Opt::StaticOn), false));
    }
    None
}

/// Classifies a key of a 2.0 `[session]` section (case-insensitive).
pub(crate) fn classify_2_0(key: &str) -> Classified {
    let lower = key.to_ascii_lowercase();
    let (rank, short) = if let Some(rest) = lower.strip_prefix("cpg.configoption.session") {
        (2, rest)
    } else if let Some(rest) = lower.strip_prefix("session") {
        (1, rest)
    } else {
        (0, lower.as_str())
    };
    match KEYS_2_0.iter().find(|(k, _)| *k == short) {
        Some((_, target)) => known(Era::V2_0, rank, *target, rank > 0),
        None => unknown(Era::V2_0, &lower, KEYS_2_0.iter().map(|(k, _)| *k), false),
    }
}

/// The 2.0 short name as documented (`storageType`), for messages.
pub(super) fn name_2_0(target: Target) -> &'static str {
    match target {
        Target::StorageType2_0 => "storageType",
        Target::Opt(Opt::Timeout) => "timeout",
        Target::Opt(Opt::CleanFreq) => "cleanUpDelay",
        Target::Opt(Opt::Name) => "cookieName",
        _ => "storageFileDir",
    }
}

fn known(era: Era, rank: u8, target: Target, doubtful: bool) -> Classified {
    Classified::Known(Spelling {
        era,
        rank,
        target,
        doubtful,
    })
}

fn unknown<'a>(
    era: Era,
    written: &str,
    candidates: impl Iterator<Item = &'a str>,
    prerelease: bool,
) -> Classified {
    Classified::Unknown {
        era,
        suggestion: did_you_mean(written, candidates),
        prerelease,
    }
}

/// A known name within edit distance 2 (or equal ignoring case), the closest first.
pub(super) fn did_you_mean<'a>(
    written: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .filter_map(|c| {
            let d = if c.eq_ignore_ascii_case(written) {
                0
            } else {
                edit_distance(written, c)
            };
            (d <= 2).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_owned())
}

/// Levenshtein distance over characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// CherryPy 2.2's `_cputil.lower_to_camel`: `clean_up_delay` → `cleanUpDelay`.
pub(super) fn lower_to_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
