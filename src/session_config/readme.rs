//! The README's "Settings" table, made from the settings table (`table.rs`); a test keeps
//! README.md in sync with it.

use serde_json::Value as Json;

use super::era::Era;
use super::spec::{DefaultOrigin, MODERN_PREFIX, Spec};
use super::table::Opt;

/// The README's "Settings" table: one row per `tools.sessions.*` key.
fn readme_table() -> String {
    let mut out = String::from(
        "| Key (`tools.sessions.`…) | CherryPy 2.2 / 2.1 / 2.0 name | Default | What it does |\n|---|---|---|---|\n",
    );
    for opt in Opt::ALL {
        let spec = opt.spec();
        let Some(short) = spec.modern.strip_prefix(MODERN_PREFIX) else {
            continue;
        };
        let legacy = [spec.v2_2, spec.v2_1, spec.v2_0]
            .iter()
            .map(|s| s.map_or("–".to_owned(), |s| format!("`{s}`")))
            .collect::<Vec<_>>()
            .join(" / ");
        out.push_str(&format!(
            "| `{short}` | {legacy} | {} | {} |\n",
            default_text(spec),
            spec.doc.replace('|', "\\|")
        ));
    }
    out
}

/// The 3.x default, then the 2.x eras' where they differ (`2.x` when all three agree).
fn default_text(spec: &Spec) -> String {
    let Some(default) = spec.default else {
        return "–".to_owned();
    };
    let modern = python(&default(Era::V3));
    let mut text = format!("`{modern}`");
    let legacy = [Era::V2_2, Era::V2_1, Era::V2_0].map(|era| (era, python(&default(era))));
    if legacy
        .iter()
        .all(|(_, v)| *v == legacy[0].1 && *v != modern)
    {
        text.push_str(&format!(", 2.x: `{}`", legacy[0].1));
    } else {
        for (era, value) in legacy.iter().filter(|(_, v)| *v != modern) {
            text.push_str(&format!(", {}: `{value}`", era.label()));
        }
    }
    if spec.default_origin == Some(DefaultOrigin::Cherrys) {
        text.push_str(" (cherrys)");
    }
    text
}

/// A default as Python writes it.
fn python(value: &Json) -> String {
    match value {
        Json::Null => "None".to_owned(),
        Json::Bool(true) => "True".to_owned(),
        Json::Bool(false) => "False".to_owned(),
        Json::String(s) => format!("{s:?}"),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(python).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "<!-- settings table: generated from src/session_config/table.rs -->\n";
    const END: &str = "<!-- end of settings table -->";

    /// The README's settings table is the one the table gives. When it fails, paste the
    /// printed table between the two markers.
    #[test]
    fn readme_settings_table_is_in_sync() {
        let readme = include_str!("../../README.md");
        let expected = readme_table();
        let found = readme
            .split_once(START)
            .and_then(|(_, rest)| rest.split_once(END))
            .map(|(table, _)| table);
        assert!(
            found == Some(expected.as_str()),
            "README.md's settings table is out of date; put this between `{}` and `{END}`:\n\n{expected}",
            START.trim_end()
        );
    }
}
