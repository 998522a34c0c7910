//! The era defaults a legacy site relied on, written out where they differ from CherryPy
//! 18's, so the migrated file gives the same settings (fixtures/legacy/README.md, table A).

use crate::ini::{Document, LineKind};
use crate::session_config::era::Era;
use crate::session_config::{LockingMode, SessionConfig, SettingOrigin};

use super::edit::Edits;
use super::literal::py_str;
use super::plan::{Action, Item};

/// `(key, value)` of every setting the root took from its era's default and that CherryPy
/// 18's default would change.
pub(crate) fn lines(root: &SessionConfig) -> Vec<(&'static str, String)> {
    let from_era = |origin: &SettingOrigin| matches!(origin, SettingOrigin::EraDefault(_));
    let mut out = Vec::new();
    if from_era(&root.name.origin) && root.name.value != "session_id" {
        out.push(("tools.sessions.name", py_str(&root.name.value)));
    }
    if from_era(&root.locking.origin) && root.locking.value != LockingMode::Implicit {
        out.push((
            "tools.sessions.locking",
            py_str(root.locking.value.as_str()),
        ));
    }
    if from_era(&root.lock_timeout.origin)
        && let Some(seconds) = root.lock_timeout.value
    {
        let text = if seconds.fract() == 0.0 {
            format!("{}", seconds as i64)
        } else {
            format!("{seconds:?}")
        };
        out.push(("tools.sessions.lock_timeout", text));
    }
    if from_era(&root.clean_freq.origin) && root.clean_freq.value.as_f64() != 5.0 {
        out.push((
            "tools.sessions.clean_freq",
            root.clean_freq.value.to_string(),
        ));
    }
    if from_era(&root.timeout.origin) && root.timeout.value.as_f64() != 60.0 {
        out.push(("tools.sessions.timeout", root.timeout.value.to_string()));
    }
    if from_era(&root.persistent.origin) && !root.persistent.value {
        out.push(("tools.sessions.persistent", "False".to_owned()));
    }
    out
}

/// Writes the defaults below one comment line: after the last session key of `[global]`,
/// else of `[/]`, else at the end of `[global]` or `[/]`; a file with neither gets a
/// `[global]` section at its end. Both sections apply to every path, which a path section
/// would not.
pub(crate) fn insert(
    doc: &Document,
    items: &[Item],
    defaults: &[(&'static str, String)],
    era: Era,
    edits: &mut Edits<'_>,
) {
    let comment = format!(
        "# cherrypy-config migrate: CherryPy {} defaults this site relied on",
        era.label()
    );
    let live = |i: &&Item| !matches!(i.action, Action::CommentOut { .. });
    let session_key = |i: &&Item| {
        let key = doc.sections()[i.section].entries[i.entry].key(doc.source());
        i.final_keys(key)
            .iter()
            .any(|k| k.starts_with("tools.sessions."))
    };
    let last_line = |i: &Item| doc.sections()[i.section].entries[i.entry].last_line;
    let mut anchor = None;
    for target in ["global", "/"] {
        let in_target = || items.iter().filter(move |i| i.target == target);
        if let Some(item) = in_target().filter(live).rfind(session_key) {
            anchor = Some(last_line(item));
            break;
        }
    }
    if anchor.is_none() {
        for target in ["global", "/"] {
            if let Some(item) = items.iter().rfind(|i| i.target == target) {
                anchor = Some(last_line(item));
                break;
            }
            if let Some(s) = doc
                .sections()
                .iter()
                .find(|s| s.name(doc.source()) == target)
            {
                anchor = Some(s.header_line);
                break;
            }
        }
    }
    match anchor {
        Some(line) => {
            let like = match doc.line(line).kind {
                LineKind::Entry { .. } | LineKind::Continuation { .. } => {
                    Some(entry_start(doc, line))
                }
                _ => None,
            };
            let mut lines = vec![comment];
            lines.extend(defaults.iter().map(|(k, v)| match like {
                Some(like) => edits.entry_like(like, k, v),
                None => format!("{k} = {v}"),
            }));
            edits.insert_after(line, &lines);
        }
        None => {
            let mut lines = vec![String::new(), "[global]".to_owned(), comment];
            lines.extend(defaults.iter().map(|(k, v)| format!("{k} = {v}")));
            edits.append(&lines);
        }
    }
}

/// The first line of the entry a line belongs to (the line itself for an entry line).
fn entry_start(doc: &Document, line: usize) -> usize {
    (0..=line)
        .rev()
        .find(|&l| matches!(doc.line(l).kind, LineKind::Entry { .. }))
        .unwrap_or(line)
}
