//! What happens to each entry of a legacy file: kept, renamed (with its value translated),
//! or commented out with the reason (MIGRATION.md §5).

use crate::ini::{Document, Entry, Section};
use crate::session_config::codes as session_codes;
use crate::session_config::era::Era;
use crate::session_config::keys::{Classified, Opt, Target, classify, classify_2_0};
use crate::source::SourceFile;

use super::codes;
use super::literal;
use super::names::{self, RawType, Rule, StaticTool};

/// What `migrate` does with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Left as it is.
    Keep,
    /// Renamed (when `key` differs), its value replaced (when `value` is set), and `extra`
    /// lines added after it.
    Write {
        key: String,
        value: Option<String>,
        extra: Vec<(String, String)>,
    },
    /// Turned into a comment that says why.
    CommentOut { reason: String, code: &'static str },
}

/// One entry's plan.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Index of the section in `Document::sections`.
    pub(crate) section: usize,
    /// Index of the entry in the section.
    pub(crate) entry: usize,
    /// The section the entry ends up in (`global` for 2.0 `[server]`/`[session]`).
    pub(crate) target: String,
    /// At one node, the lower rank wins; equal ranks: the later entry.
    pub(crate) rank: u8,
    /// Whether the entry is a known session spelling.
    pub(crate) session: bool,
    pub(crate) action: Action,
    /// Warnings about the entry that do not comment it out: `(code, message)`.
    pub(crate) notes: Vec<(&'static str, String)>,
}

impl Item {
    pub(crate) fn new(section: usize, entry: usize, target: &str) -> Self {
        Item {
            section,
            entry,
            target: target.to_owned(),
            rank: 2,
            session: false,
            action: Action::Keep,
            notes: Vec::new(),
        }
    }

    fn write(&mut self, key: &str, value: Option<String>) {
        self.action = Action::Write {
            key: key.to_owned(),
            value,
            extra: Vec::new(),
        };
    }

    fn comment_out(&mut self, code: &'static str, reason: impl Into<String>) {
        self.action = Action::CommentOut {
            reason: reason.into(),
            code,
        };
    }

    /// The keys the entry has after migration.
    pub(crate) fn final_keys<'a>(&'a self, original: &'a str) -> Vec<&'a str> {
        match &self.action {
            Action::Keep => vec![original],
            Action::Write { key, extra, .. } => std::iter::once(key.as_str())
                .chain(extra.iter().map(|(k, _)| k.as_str()))
                .collect(),
            Action::CommentOut { .. } => Vec::new(),
        }
    }
}

/// An entry of a `[global]`, `[DEFAULT]` or path section (2.1/2.2 names, Python values).
pub(crate) fn entry_2x(
    item: &mut Item,
    doc: &Document,
    section: &Section,
    entry: &Entry,
    era_defaults: Era,
) -> Option<StaticOff> {
    let source = doc.source();
    let key = entry.key(source);
    let value = entry.value.text(source);
    match classify(key) {
        Some(Classified::Known(spelling)) if spelling.target != Target::Opt(Opt::StaticOn) => {
            item.session = true;
            item.rank = spelling.rank;
            if spelling.era == Era::V3 {
                return None;
            }
            session_2x(item, spelling.target, key, value);
            return None;
        }
        Some(Classified::Unknown {
            era, prerelease, ..
        }) if era < Era::V3 => {
            let reason = if prerelease {
                "a CherryPy 2.1 pre-release key that no release read".to_owned()
            } else {
                format!("CherryPy {} read no session option `{key}`", era.label())
            };
            item.comment_out(session_codes::LEGACY_UNKNOWN_KEY, reason);
            return None;
        }
        Some(Classified::Unknown { .. }) => {
            item.rank = 0;
            return None;
        }
        _ => {}
    }
    let tool = if section
        .entries
        .iter()
        .any(|e| names::is_static_file(e.key(source)))
    {
        StaticTool::File
    } else {
        StaticTool::Dir
    };
    if let Some(rename) = names::rename_static(key, tool) {
        item.rank = rename.rank;
        item.write(rename.modern, None);
        if rename.modern == "tools.staticdir.dir" && is_relative(value, section, source) {
            item.notes.push((
                codes::RELATIVE_STATIC_DIR,
                "CherryPy 3's staticdir needs an absolute directory, or tools.staticdir.root in this section".to_owned(),
            ));
        }
        // Only 2.1 turned sessions off on static paths.
        let off = key == "staticFilter.on" && era_defaults == Era::V2_1 && literal::truthy(value);
        return off.then_some(StaticOff);
    }
    if let Some(rename) = names::rename_2x(key) {
        item.rank = rename.rank;
        apply_rule(item, rename.modern, rename.rule, value, key);
        return None;
    }
    if names::is_filter_key(key) {
        item.notes.push((
            codes::NOT_CARRIED_OVER,
            "left unchanged: cherrypy-config migrate knows no CherryPy 3 counterpart of this CherryPy 2.x filter key (CherryPy 3 ignores it)".to_owned(),
        ));
    }
    None
}

/// Marks a 2.1 static section that needs `tools.sessions.on = False`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StaticOff;

fn session_2x(item: &mut Item, target: Target, key: &str, value: &str) {
    match target {
        Target::Opt(opt) => {
            let new_value = match opt {
                Opt::StorageType => literal::storage_type(value),
                Opt::Locking => Some(literal::locking_2x(value)).filter(|v| v != value),
                Opt::Secure => literal::secure_2_2(value),
                _ => None,
            };
            item.write(opt.modern(), new_value);
        }
        Target::Callback => item.comment_out(
            session_codes::LEGACY_CALLBACK,
            "not carried over: CherryPy 3 has no session callbacks, and a Python function cannot run here",
        ),
        Target::GenerateId => item.comment_out(
            session_codes::LEGACY_GENERATE_ID,
            "not carried over: CherryPy 3 has no such setting (subclass the backend and override generate_id); ids are generated by the backend",
        ),
        Target::GetDb => item.comment_out(
            session_codes::LEGACY_GET_DB,
            "not carried over: there is no PostgreSQL session storage",
        ),
        _ => item.comment_out(
            session_codes::LEGACY_STORAGE_CLASS,
            format!("not carried over: `{key}` names a CherryPy 2.x backend class"),
        ),
    }
}

fn is_relative(value: &str, section: &Section, source: &SourceFile) -> bool {
    let Some(inner) = literal::python_str(value) else {
        return false;
    };
    let has_root = section
        .entries
        .iter()
        .map(|e| e.key(source))
        .any(|k| k.ends_with("Filter.root") || k.ends_with("_filter.root"));
    !inner.starts_with('/') && !inner.contains("%(") && !has_root
}

/// The value rules of the non-session table (MIGRATION.md §1.2). `value` is a Python
/// literal already.
fn apply_rule(item: &mut Item, modern: &str, rule: Rule, value: &str, key: &str) {
    match rule {
        Rule::Plain => item.write(modern, None),
        Rule::Host => {
            let all = literal::python_str(value)
                .is_some_and(|host| host.is_empty())
                .then(|| literal::quoted(literal::quote_of(value), "0.0.0.0"));
            if all.is_some() {
                item.notes.push((codes::VALUE_CHANGED, "CherryPy 2.x '' meant every interface; CherryPy 3 rejects '', so it is written as \"0.0.0.0\"".to_owned()));
            }
            item.write(modern, all);
        }
        Rule::ThreadPool => {
            let one = (value.trim() == "0").then(|| "1".to_owned());
            if one.is_some() {
                item.notes.push((
                    codes::VALUE_CHANGED,
                    "CherryPy 2.x thread pool 0 meant no pool; cheroot rejects 0, so it is written as 1".to_owned(),
                ));
            }
            item.write(modern, one);
        }
        Rule::Environment => {
            if literal::python_str(value).as_deref() == Some("development") {
                item.comment_out(
                    codes::NOT_CARRIED_OVER,
                    "not carried over: CherryPy 3 has no \"development\" environment (config.update raises KeyError); its defaults are CherryPy 3's own",
                );
            } else {
                item.write(modern, None);
            }
        }
        Rule::NoCounterpart => item.notes.push((
            codes::NOT_CARRIED_OVER,
            format!("left unchanged: CherryPy 3 has no counterpart of `{key}` and ignores it"),
        )),
    }
}

/// A 2.0 value whose `%(name)s` Python 2 could not interpolate: 2.0 went on without it,
/// so the line is not carried over.
pub(crate) fn uninterpolated_2_0(item: &mut Item, error: &crate::ini::InterpolationError) {
    item.comment_out(
        session_codes::LEGACY_INTERPOLATION,
        format!("not carried over: CherryPy 2.0 could not interpolate this value ({error}) and went on without it"),
    );
}

/// A `[DEFAULT]` entry of a file with nothing but 2.0 sections. In 2.0 it was there for
/// `%(name)s`, whose values are written out; CherryPy 18 would read it as a Python
/// literal of every section, which a raw 2.0 value is not.
///
/// `static_url` is the URL 2.0 also served it as: Python 2's `ConfigParser.options` lists
/// `[DEFAULT]`'s keys among every section's, and 2.0 took each key `options('staticContent')`
/// listed as a static URL. That URL is not carried over either (nobody meant to serve a
/// `%(name)s` variable's directory).
pub(crate) fn default_2_0(item: &mut Item, static_url: Option<&str>) {
    let mut reason = "not carried over: a CherryPy 2.0 [DEFAULT] value; the values that named it with %(name)s are written out".to_owned();
    if let Some(url) = static_url {
        reason.push_str(&format!(
            "; CherryPy 2.0 also served it as the static URL {url} (Python 2's ConfigParser lists [DEFAULT]'s keys among [staticContent]'s), which is not carried over"
        ));
    }
    item.comment_out(codes::NOT_CARRIED_OVER, reason);
}

/// An entry of a 2.0 `[server]` section; `raw` is its value as 2.0 read it.
pub(crate) fn entry_2_0_server(item: &mut Item, key: &str, raw: &str) {
    let Some((rename, ty)) = names::rename_2_0(key) else {
        item.comment_out(
            codes::NOT_CARRIED_OVER,
            "not carried over: cherrypy-config migrate knows no CherryPy 3 name for this CherryPy 2.0 [server] key",
        );
        return;
    };
    item.rank = rename.rank;
    let read = read_int_2_0(item, raw, ty);
    let raw = read.as_deref().unwrap_or(raw);
    let value = match (rename.rule, raw.trim()) {
        (Rule::Environment, "development") => {
            return item.comment_out(
                codes::NOT_CARRIED_OVER,
                "not carried over: CherryPy 3 has no \"development\" environment (config.update raises KeyError)",
            );
        }
        (Rule::Host, "") => {
            item.notes.push((codes::VALUE_CHANGED, "CherryPy 2.x '' meant every interface; CherryPy 3 rejects '', so it is written as \"0.0.0.0\"".to_owned()));
            "\"0.0.0.0\"".to_owned()
        }
        (Rule::ThreadPool, "0") => {
            item.notes.push((
                codes::VALUE_CHANGED,
                "CherryPy 2.0 thread pool 0 meant no pool; cheroot rejects 0, so it is written as 1"
                    .to_owned(),
            ));
            "1".to_owned()
        }
        _ => literal::raw_2_0(raw, ty),
    };
    item.write(rename.modern, Some(value));
}

/// A 2.0 integer as 2.0 read it: where `int()` failed (an empty value, `80.0`, `yes`),
/// 2.0 kept its default, which is what is written, with a note. `None` for text and for
/// what `int()` reads.
fn read_int_2_0(item: &mut Item, raw: &str, ty: RawType) -> Option<String> {
    let (RawType::Int { default_2_0 } | RawType::Bool { default_2_0 }) = ty else {
        return None;
    };
    if literal::int_2_0(raw).is_some() {
        return None;
    }
    item.notes.push((
        codes::VALUE_CHANGED,
        format!("CherryPy 2.0 read this value with int(), which fails on {raw:?}, and used its default {default_2_0} instead: that is what is carried over"),
    ));
    Some(default_2_0.to_string())
}

/// An entry of a 2.0 `[session]` section (case-insensitive key); `raw` is its value as 2.0
/// read it. The session layer has checked the values already: a bad one stopped `migrate`
/// before this.
pub(crate) fn entry_2_0_session(item: &mut Item, key: &str, raw: &str) {
    let spelling = match classify_2_0(key) {
        Classified::Known(spelling) => spelling,
        Classified::Unknown { .. } => {
            return item.comment_out(
                session_codes::LEGACY_UNKNOWN_KEY,
                format!("CherryPy 2.0 read no session option `{key}`"),
            );
        }
    };
    item.session = true;
    item.rank = spelling.rank;
    let (key, value, extra) = match spelling.target {
        Target::StorageType2_0 if raw.is_empty() => (Opt::On, "False".to_owned(), None),
        Target::StorageType2_0 => (Opt::On, "True".to_owned(), Some(literal::py_str(raw))),
        Target::Opt(Opt::Timeout | Opt::CleanFreq) if raw.trim().is_empty() => {
            return item.comment_out(
                session_codes::LEGACY_EMPTY_NUMBER,
                "not carried over: the value is empty, so CherryPy 2.0 kept its default",
            );
        }
        Target::Opt(opt @ (Opt::Timeout | Opt::CleanFreq)) => {
            let n = literal::number_2_0(raw).unwrap_or_else(|| raw.to_owned());
            (opt, n, None)
        }
        Target::Opt(Opt::StoragePath) if raw.is_empty() => {
            (Opt::StoragePath, "None".to_owned(), None)
        }
        Target::Opt(opt) => (opt, literal::py_str(raw), None),
        _ => return,
    };
    item.write(key.modern(), Some(value));
    if let (Some(storage), Action::Write { extra: lines, .. }) = (extra, &mut item.action) {
        lines.push((Opt::StorageType.modern().to_owned(), storage));
    }
}
