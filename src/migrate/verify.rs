//! The last step of a migration: the rewritten file is read back the way the middleware
//! would read it, and must give every path the session settings the original gave it. A
//! rewrite that reads differently (a case the rules above get wrong) is refused, located,
//! rather than handed out to replace a working file.

use std::sync::Arc;

use crate::Diagnostic;
use crate::config::{ConfigError, SourceFile};
use crate::session_config::{SessionConfig, SessionConfigs};

use super::codes;

/// `Ok` when `migrated` gives every path of either file the settings `original` gives it.
pub(super) fn same_settings(
    source: &Arc<SourceFile>,
    original: &SessionConfigs,
    migrated: &str,
) -> Result<(), ConfigError> {
    let refuse = |message: String| -> ConfigError {
        Diagnostic::error(codes::READS_DIFFERENTLY, message)
            .at(source, crate::source::Span::new(0, 0))
            .with_help("nothing was rewritten; edit these lines by hand (MIGRATION.md lists the 3.x names)")
            .into()
    };
    let rewritten = SourceFile::new(source.name(), migrated.to_owned());
    let read_back = match SessionConfigs::from_sources(std::slice::from_ref(&rewritten)) {
        Ok(loaded) => loaded.value,
        Err(err) => {
            return Err(refuse(format!(
                "cherrypy-config migrate cannot carry this file over: the rewritten file would not load ({})",
                err.diagnostic().message
            )));
        }
    };
    // A file that names no session setting relied on no session default: only whether
    // sessions are on must stay the same.
    let only_on = !migrated.contains("tools.sessions.");
    let mut paths: Vec<&str> = std::iter::once("/")
        .chain(original.named_paths())
        .chain(read_back.named_paths())
        .collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let before = original.session_for_path(path);
        let after = read_back.session_for_path(path);
        if let Some((name, was, now)) = first_difference(before, after, only_on) {
            return Err(refuse(format!(
                "cherrypy-config migrate cannot carry this file over: at {path}, the rewritten file would read {name} = {now} where this file reads {was}"
            )));
        }
    }
    Ok(())
}

/// The first setting whose value differs, by the `explain` rows.
fn first_difference(
    before: &SessionConfig,
    after: &SessionConfig,
    only_on: bool,
) -> Option<(&'static str, serde_json::Value, serde_json::Value)> {
    before
        .explain_rows()
        .into_iter()
        .zip(after.explain_rows())
        .filter(|(b, _)| !only_on || b.name == "on")
        .find(|(b, a)| b.value != a.value)
        .map(|(b, a)| (b.name, b.value, a.value))
}
