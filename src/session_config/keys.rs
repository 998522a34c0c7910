//! Every spelling of every session setting, by era: the 3.x `tools.sessions.*` keys and
//! the 2.2, 2.1 and 2.0 names come from the settings table (`table`); the 2.x keys that set
//! no setting (callbacks, `get_db`, 2.x storage classes, 2.0's `storageType`) and the 2.1
//! pre-release names are here. CherryPy's key names live in these two files and nowhere
//! else, so a misspelling cannot hide in a `match` somewhere.

use super::era::Era;
pub(crate) use super::spec::MODERN_PREFIX;
pub(crate) use super::table::Opt;

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

const PREFIX_2_1: &str = "sessionFilter.";
const PREFIX_2_2: &str = "session_filter.";

/// 2.2/2.3 `session_filter.*` keys that set no setting (cherrypy-2.2.1
/// `filters/sessionfilter.py`); the others are the table's `v2_2` spellings.
const EXTRA_2_2: &[(&str, Target)] = &[
    ("storage_class", Target::LegacyStorageClass),
    ("get_db", Target::GetDb),
    ("on_create_session", Target::Callback),
    ("on_renew_session", Target::Callback),
    ("on_delete_session", Target::Callback),
    ("generate_session_id", Target::GenerateId),
];

/// 2.1 `sessionFilter.*` keys that set no setting (cherrypy-2.1.1
/// `lib/filter/sessionfilter.py`); the others are the table's `v2_1` spellings.
const EXTRA_2_1: &[(&str, Target)] = &[
    ("storageClass", Target::LegacyStorageClass),
    ("getDB", Target::GetDb),
    ("onCreateSession", Target::Callback),
    ("onDeleteSession", Target::Callback),
];

/// 2.0's `[session] storageType`, which both turns sessions on and picks the storage; the
/// other 2.0 keys are the table's `v2_0` spellings.
const STORAGE_TYPE_2_0: &str = "storageType";

/// Every spelling of an era: the table's, then the era's extra keys.
fn spellings(
    era_name: fn(&'static super::spec::Spec) -> Option<&'static str>,
    extra: &'static [(&'static str, Target)],
) -> impl Iterator<Item = (&'static str, Target)> {
    Opt::ALL
        .iter()
        .filter_map(move |opt| era_name(opt.spec()).map(|name| (name, Target::Opt(*opt))))
        .chain(extra.iter().copied())
}

fn modern() -> impl Iterator<Item = (&'static str, Opt)> {
    Opt::ALL.iter().filter_map(|opt| {
        opt.spec()
            .modern
            .strip_prefix(MODERN_PREFIX)
            .map(|name| (name, *opt))
    })
}

fn keys_2_2() -> impl Iterator<Item = (&'static str, Target)> {
    spellings(|spec| spec.v2_2, EXTRA_2_2)
}

fn keys_2_1() -> impl Iterator<Item = (&'static str, Target)> {
    spellings(|spec| spec.v2_1, EXTRA_2_1)
}

/// 2.0's keys as documented (2.0's ConfigParser lower-cases key names, so they are
/// compared lower-cased).
fn keys_2_0() -> impl Iterator<Item = (&'static str, Target)> {
    std::iter::once((STORAGE_TYPE_2_0, Target::StorageType2_0))
        .chain(spellings(|spec| spec.v2_0, &[]))
}

/// Keys of the 2.1 pre-release designs, which the 2.1 documentation still mentions; 2.1
/// final ignored them.
const PRERELEASE_2_1: &[&str] = &[
    "new",
    "storageFileDir",
    "cookiePrefix",
    "sessionList",
    "storageAdaptors",
    "cacheTimeout",
    "default.on",
];

/// Classifies a key of a `[global]` or path section.
pub(crate) fn classify(key: &str) -> Option<Classified> {
    if let Some(rest) = key.strip_prefix(MODERN_PREFIX) {
        if let Some((_, opt)) = modern().find(|(k, _)| *k == rest) {
            return Some(known(Era::V3, 0, Target::Opt(opt), false));
        }
        return Some(unknown(Era::V3, rest, modern().map(|(k, _)| k), false));
    }
    if let Some(rest) = key.strip_prefix(PREFIX_2_2) {
        if let Some((_, target)) = keys_2_2().find(|(k, _)| *k == rest) {
            return Some(known(Era::V2_2, 3, target, false));
        }
        return Some(unknown(Era::V2_2, rest, keys_2_2().map(|(k, _)| k), false));
    }
    if let Some(rest) = key.strip_prefix(PREFIX_2_1) {
        if let Some((_, target)) = keys_2_1().find(|(k, _)| *k == rest) {
            return Some(known(Era::V2_1, 1, target, false));
        }
        if rest == "Timeout" {
            return Some(known(Era::V2_1, 4, Target::Opt(Opt::Timeout), true));
        }
        // 2.2 also read the camelCase form of every 2.2 key (`lower_to_camel`).
        if let Some((_, target)) = keys_2_2().find(|(k, _)| lower_to_camel(k) == rest) {
            return Some(known(Era::V2_2, 1, target, false));
        }
        let prerelease = PRERELEASE_2_1.contains(&rest);
        return Some(unknown(
            Era::V2_1,
            rest,
            keys_2_1().map(|(k, _)| k),
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
    match keys_2_0().find(|(k, _)| k.eq_ignore_ascii_case(short)) {
        Some((_, target)) => known(Era::V2_0, rank, target, rank > 0),
        None => {
            let lower_keys: Vec<String> = keys_2_0().map(|(k, _)| k.to_ascii_lowercase()).collect();
            unknown(
                Era::V2_0,
                &lower,
                lower_keys.iter().map(String::as_str),
                false,
            )
        }
    }
}

/// The 2.0 short name as documented (`storageType`), for messages.
pub(super) fn name_2_0(target: Target) -> &'static str {
    keys_2_0()
        .find(|(_, t)| *t == target)
        .map_or("", |(name, _)| name)
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
        // Lengths further apart than two characters (of up to four bytes) cannot be within
        // the distance sought; the test also keeps a long unknown key inherited by
        // thousands of sections cheap.
        .filter(|c| c.len().abs_diff(written.len()) <= 2 * 4)
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
