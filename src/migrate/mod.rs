//! `cherrypy-config migrate`: a legacy CherryPy 2.0/2.1/2.2 config file rewritten in
//! CherryPy 3.x/18.x syntax, touching only what changes (MIGRATION.md §5).
//!
//! Legacy keys are renamed in place, keeping their separator and spacing; values whose
//! meaning changed are translated; the era defaults the site relied on are written out, so
//! that [`explain`](crate::session_config::explain) gives the same session settings before
//! and after; what cannot be carried over is commented out with the reason. Comments, blank
//! lines, order and every other line stay byte for byte. A file with no legacy names comes
//! back unchanged.
//!
//! ```
//! use actix_cherrypy::migrate::migrate;
//! use actix_cherrypy::config::SourceFile;
//!
//! let source = SourceFile::new("old.conf", "[global]\nsession_filter.on = True\n");
//! let migration = migrate(&source).expect("a file migrate can rewrite");
//! assert!(migration.changed);
//! assert!(migration.text.starts_with("[global]\ntools.sessions.on = True\n"));
//! ```

mod defaults;
mod edit;
mod layout;
mod literal;
mod names;
mod plan;
mod verify;

use std::collections::HashMap;
use std::sync::Arc;

use crate::Diagnostic;
use crate::config::ConfigError;
use crate::ini::{self, Document};
use crate::session_config::era::Era;
use crate::session_config::{SessionConfigs, codes as session_codes};
use crate::source::SourceFile;

use edit::Edits;
use layout::{Layout, Role};
use plan::{Action, Item};

/// The stable codes of the diagnostics only `migrate` produces.
pub mod codes {
    /// Warning: a line commented out or left unchanged because it has no 3.x counterpart.
    pub const NOT_CARRIED_OVER: &str = "migrate-not-carried-over";
    /// Warning: a value rewritten because 3.x rejects the 2.x one (`''` host, pool 0).
    pub const VALUE_CHANGED: &str = "migrate-value-changed";
    /// Warning: a static directory that is relative, which CherryPy 3's staticdir rejects.
    pub const RELATIVE_STATIC_DIR: &str = "migrate-relative-static-dir";
    /// Error: 2.0 `[server]`/`[session]` sections that cannot be merged into `[global]` in
    /// place.
    pub const LAYOUT_2_0: &str = "migrate-2.0-layout";
    /// Error: the rewritten file would give a path other session settings than the
    /// original (nothing is rewritten).
    pub const READS_DIFFERENTLY: &str = "migrate-reads-differently";
}

/// The result of [`migrate`].
#[derive(Debug, Clone)]
pub struct Migration {
    /// The migrated file.
    pub text: String,
    /// Whether `text` differs from the input.
    pub changed: bool,
    /// What the migrated site does differently, and what was not carried over, in file order.
    pub warnings: Vec<Diagnostic>,
}

/// The warnings of the session layer that still matter after migration (the others are
/// about names that migrate renames or comments out).
const KEPT_WARNINGS: &[&str] = &[
    session_codes::FILE_STORAGE_EXPLICIT_LOCKING,
    session_codes::LEGACY_ATTRIBUTE_SPELLING,
    session_codes::LEGACY_CAPITAL_TIMEOUT,
    session_codes::LEGACY_KEY_IGNORED,
    session_codes::LEGACY_COOKIE_SECURE,
    session_codes::LEGACY_RAW_QUOTES,
    session_codes::LOCKING_NOT_RECOGNISED,
    session_codes::QUOTED_BOOL,
];

/// Rewrites a legacy config file in CherryPy 3.x/18.x syntax. Errors are those the session
/// layer stops at (PostgreSQL storage, a 2.x `storage_class`, `"RAM"` in 2.1/2.2, a bad 2.0
/// value, ...), located; nothing is rewritten then.
///
/// ```
/// use actix_cherrypy::config::SourceFile;
/// use actix_cherrypy::migrate::migrate;
///
/// // A CherryPy 2.1 file, as read from disk with `SourceFile::read(path)`.
/// let old = SourceFile::new(
///     "old.conf",
///     "[global]\n# sessions for everyone\nsession_filter.on = True\nsession_filter.timeout = 30\n",
/// );
/// let migration = migrate(&old)?;
/// assert!(migration.changed);
/// // Keys renamed in place; the comment kept.
/// assert!(migration.text.contains("# sessions for everyone\ntools.sessions.on = True\n"));
/// assert!(migration.text.contains("tools.sessions.timeout = 30\n"));
/// for warning in &migration.warnings {
///     eprintln!("{warning}");
/// }
///
/// // A 3.x file comes back unchanged.
/// let new = SourceFile::new("new.conf", "[/]\ntools.sessions.on = True\n");
/// assert!(!migrate(&new)?.changed);
/// # Ok::<(), actix_cherrypy::ConfigError>(())
/// ```
pub fn migrate(source: &Arc<SourceFile>) -> Result<Migration, ConfigError> {
    let loaded = SessionConfigs::from_sources(std::slice::from_ref(source))?;
    let era = loaded.value.era().clone();
    if !era.evidence.iter().any(|e| *e < Era::V3) {
        return Ok(Migration {
            text: source.text().to_owned(),
            changed: false,
            warnings: Vec::new(),
        });
    }
    let document = ini::parse(source).document;
    let layout = Layout::new(&document, &era)?;
    let (mut items, static_off) = plan_items(&document, &layout, era.defaults);
    resolve_duplicates(&document, &mut items);
    let has_session_key = items.iter().any(|i| i.session);

    let mut edits = Edits::new(&document);
    let mut warnings: Vec<Diagnostic> = loaded
        .warnings
        .into_iter()
        .filter(|d| KEPT_WARNINGS.contains(&d.code))
        .collect();
    for item in &items {
        apply_item(&document, item, &mut edits, &mut warnings);
    }
    // The era's defaults go in before the layout's sections: where both are added at the
    // end of the file (2.0 `[staticContent]` moved below a merged `[session]`), the
    // defaults must come first, in `[global]`, not in the last `[/url]` section.
    if has_session_key && era.defaults < Era::V3 {
        let lines = defaults::lines(loaded.value.root());
        if !lines.is_empty() {
            defaults::insert(&document, &items, &lines, era.defaults, &mut edits);
        }
    }
    layout.apply(&document, &mut edits, has_session_key, &mut warnings);
    for section in static_off {
        static_sessions_off(&document, &items, section, &mut edits, has_session_key);
    }
    let text = edits.apply();
    verify::same_settings(source, &loaded.value, &text)?;
    warnings.sort_by_key(|d| d.location.as_ref().map(|l| l.span.start));
    warnings.dedup();
    Ok(Migration {
        changed: text != source.text(),
        text,
        warnings,
    })
}

fn plan_items(doc: &Document, layout: &Layout, era_defaults: Era) -> (Vec<Item>, Vec<usize>) {
    let mut items = Vec::new();
    let mut static_off = Vec::new();
    let mut reader = Reader2_0::new(doc);
    for (s, section) in doc.sections().iter().enumerate() {
        let name = section.name(doc.source());
        let target = layout.target(s, name);
        reader.enter(section);
        for (e, entry) in section.entries.iter().enumerate() {
            let mut item = Item::new(s, e, target);
            match (layout.role(s), name) {
                (Role::Static, _) => continue,
                (Role::Opener | Role::Merged, name) => match reader.value(entry) {
                    Err(error) => plan::uninterpolated_2_0(&mut item, &error),
                    Ok(raw) if name == "server" => {
                        plan::entry_2_0_server(&mut item, entry.key(doc.source()), &raw);
                    }
                    Ok(raw) => plan::entry_2_0_session(&mut item, entry.key(doc.source()), &raw),
                },
                (Role::Plain, ini::DEFAULT_SECTION) if layout.only_2_0() => {
                    let url = default_static_url(doc, entry.key(doc.source()));
                    plan::default_2_0(&mut item, url.as_deref());
                }
                (Role::Plain, _) => {
                    if plan::entry_2x(&mut item, doc, section, entry, era_defaults).is_some()
                        && !static_off.contains(&s)
                    {
                        static_off.push(s);
                    }
                }
            }
            items.push(item);
        }
    }
    (items, static_off)
}

/// The static URL CherryPy 2.0 also served a `[DEFAULT]` key as: Python 2's
/// `ConfigParser.options('staticContent')` listed `[DEFAULT]`'s keys with the section's own
/// (names lower-cased, the section's own winning). `None` without `[staticContent]` (then
/// `options` raised and 2.0 served nothing) or when `[staticContent]` has the same key.
fn default_static_url(doc: &Document, key: &str) -> Option<String> {
    let source = doc.source();
    let mut statics = doc
        .sections()
        .iter()
        .filter(|s| s.name(source) == "staticContent")
        .peekable();
    statics.peek()?;
    let shadowed = statics
        .flat_map(|s| &s.entries)
        .any(|e| e.key(source).eq_ignore_ascii_case(key));
    (!shadowed)
        .then(|| crate::session_config::paths::static_url(key))
        .flatten()
}

/// Reads the values of a 2.0 file's sections as CherryPy 2.0 did: Python 2's rules, then
/// `ConfigParser.get`'s `%(name)s` interpolation, with one budget for the file and each
/// section's options gathered once, when a value first names one.
pub(crate) struct Reader2_0<'d> {
    doc: &'d Document,
    section: Option<&'d ini::Section>,
    vars: Option<HashMap<String, String>>,
    budget: ini::InterpolationBudget,
}

impl<'d> Reader2_0<'d> {
    pub(crate) fn new(doc: &'d Document) -> Self {
        Reader2_0 {
            doc,
            section: None,
            vars: None,
            budget: ini::InterpolationBudget::default(),
        }
    }

    /// Starts reading the entries of `section`.
    pub(crate) fn enter(&mut self, section: &'d ini::Section) {
        self.section = Some(section);
        self.vars = None;
    }

    /// An entry of the section entered last, as 2.0 read it; the error where Python 2
    /// raised (2.0 then went on without the value).
    pub(crate) fn value(&mut self, entry: &ini::Entry) -> Result<String, ini::InterpolationError> {
        let text = ini::value_2_0(self.doc, entry).text;
        let Some(section) = self.section.filter(|_| text.contains("%(")) else {
            return Ok(text);
        };
        let doc = self.doc;
        let vars = self.vars.get_or_insert_with(|| ini::vars_2_0(doc, section));
        ini::interpolate_2_0(&text, vars, &mut self.budget)
    }
}

/// Two entries that end up with the same key in one section: CherryPy 18 would refuse the
/// file (DuplicateOptionError), so the one that did not win in 2.x is commented out.
fn resolve_duplicates(doc: &Document, items: &mut [Item]) {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for i in 0..items.len() {
        let keys: Vec<String> = items[i]
            .final_keys(entry_of(doc, &items[i]).key(doc.source()))
            .into_iter()
            .map(str::to_owned)
            .collect();
        for key in keys {
            let slot = (items[i].target.clone(), key);
            let Some(&old) = seen.get(&slot) else {
                seen.insert(slot, i);
                continue;
            };
            if matches!(items[old].action, Action::CommentOut { .. }) {
                seen.insert(slot, i);
                continue;
            }
            let (winner, loser) = if items[i].rank <= items[old].rank {
                (i, old)
            } else {
                (old, i)
            };
            let w = entry_of(doc, &items[winner]);
            let line = doc.source().line_column(w.key_span.start).0;
            items[loser].action = Action::CommentOut {
                reason: format!(
                    "not used: `{}` (line {line}) sets the same setting in this section and wins",
                    w.key(doc.source())
                ),
                code: session_codes::SHADOWED_KEY,
            };
            seen.insert(slot, winner);
        }
    }
}

/// `d`, placed at `entry`'s key in `section`.
fn at_entry(
    d: Diagnostic,
    doc: &Document,
    section: &ini::Section,
    entry: &ini::Entry,
) -> Diagnostic {
    d.at(doc.source(), entry.key_span)
        .in_entry(section.name(doc.source()), Some(entry.key(doc.source())))
}

fn entry_of<'d>(doc: &'d Document, item: &Item) -> &'d ini::Entry {
    &doc.sections()[item.section].entries[item.entry]
}

fn apply_item(doc: &Document, item: &Item, edits: &mut Edits<'_>, warnings: &mut Vec<Diagnostic>) {
    let section = &doc.sections()[item.section];
    let entry = &section.entries[item.entry];
    let warn = |code: &'static str, message: &str| {
        at_entry(Diagnostic::warning(code, message), doc, section, entry)
    };
    for (code, message) in &item.notes {
        warnings.push(warn(code, message));
    }
    match &item.action {
        Action::Keep => {}
        Action::CommentOut { reason, code } => {
            edits.comment_out(entry.first_line, entry.last_line, reason);
            warnings.push(warn(code, &format!("commented out, {reason}")));
        }
        Action::Write { key, value, extra } => {
            if key != entry.key(doc.source()) {
                edits.rename_key(entry.first_line, key);
            }
            if let Some(value) = value
                .as_deref()
                .filter(|v| *v != entry.value.text(doc.source()))
            {
                edits.replace_value(entry.first_line, value);
                for line in entry.first_line + 1..=entry.last_line {
                    if matches!(doc.line(line).kind, ini::LineKind::Continuation { .. }) {
                        edits.delete_line(line);
                    }
                }
            }
            let lines: Vec<String> = extra
                .iter()
                .map(|(k, v)| edits.entry_like(entry.first_line, k, v))
                .collect();
            edits.insert_after(entry.last_line, &lines);
        }
    }
}

/// 2.1 had no sessions where `staticFilter.on` was true; 3.x needs it said.
fn static_sessions_off(
    doc: &Document,
    items: &[Item],
    s: usize,
    edits: &mut Edits<'_>,
    has_session_key: bool,
) {
    // Items are planned section by section: this section's are one run, found by bisection
    // (a file can have tens of thousands of static sections).
    let in_section =
        &items[items.partition_point(|i| i.section < s)..items.partition_point(|i| i.section <= s)];
    let sets_on = in_section.iter().any(|i| {
        i.final_keys(entry_of(doc, i).key(doc.source()))
            .contains(&"tools.sessions.on")
    });
    if sets_on || !has_session_key {
        return;
    }
    let Some(last) = in_section.last() else {
        return;
    };
    let entry = entry_of(doc, last);
    let line = edits.entry_like(entry.first_line, "tools.sessions.on", "False");
    edits.insert_after(entry.last_line, &[line]);
}

#[cfg(test)]
mod tests;
