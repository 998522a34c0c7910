//! The JSON reading of a file, as `compat/FORMAT.md` defines it: the same encoding the CherryPy
//! oracle prints, so the two can be compared value by value.

use serde_json::{Value as Json, json};

use super::Settings;
use super::read::FileReport;
use crate::diagnostic::Diagnostic;

/// `{"file": F, "ok": true, "sections": {...}}` or `{"file": F, "ok": false, "error": {...}}`.
pub fn report_json(file: &str, report: &FileReport) -> Json {
    match (report.first_error(), &report.file) {
        (None, Some(read)) => {
            let sections: serde_json::Map<String, Json> = read
                .sections()
                .iter()
                .map(|(name, settings)| (name.clone(), section_json(settings)))
                .collect();
            json!({"file": file, "ok": true, "sections": sections})
        }
        (Some(error), _) => error_json(file, error),
        (None, None) => unreachable!("a report without a file has an error"),
    }
}

/// Writes [`report_json`]'s text (compact, as `Display` prints it) a section at a time:
/// the report of a large config, held whole, takes several times the config (a few
/// thousand sections of thirty settings, 220 MB).
pub fn write_report_json(
    file: &str,
    report: &FileReport,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let (None, Some(read)) = (report.first_error(), &report.file) else {
        return write!(out, "{}", report_json(file, report));
    };
    write!(
        out,
        "{{\"file\":{},\"ok\":true,\"sections\":{{",
        Json::from(file)
    )?;
    for (at, (name, settings)) in read.sections().iter().enumerate() {
        let comma = if at == 0 { "" } else { "," };
        write!(
            out,
            "{comma}{}:{}",
            Json::from(name.as_str()),
            section_json(settings)
        )?;
    }
    write!(out, "}}}}")
}

/// A section's keys and values, in order.
fn section_json(settings: &Settings) -> Json {
    Json::Object(
        settings
            .iter()
            .map(|(k, v)| (k.to_owned(), v.value.to_json()))
            .collect(),
    )
}

/// `{"file": F, "ok": false, "error": {"code", "line", "column", "message"}}`.
pub fn error_json(file: &str, error: &Diagnostic) -> Json {
    let (line, column) = match error.line_column() {
        Some((l, c)) => (json!(l), json!(c)),
        None => (json!(0), Json::Null),
    };
    json!({
        "file": file,
        "ok": false,
        "error": {"code": error.code, "line": line, "column": column, "message": error.message},
    })
}

#[cfg(test)]
mod tests {
    use super::{report_json, write_report_json};
    use crate::config::read_source;
    use crate::source::SourceFile;

    /// Written a section at a time, the report is the text of the whole one.
    #[test]
    fn the_written_report_is_the_report() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let paths = ["valid", "invalid", "legacy"]
            .iter()
            .flat_map(|dir| std::fs::read_dir(fixtures.join(dir)).unwrap())
            .map(|entry| entry.unwrap().path());
        let mut files = 0;
        for path in paths {
            let Ok(source) = SourceFile::read(&path) else {
                continue;
            };
            let report = read_source(&source);
            let mut written = Vec::new();
            write_report_json("f.conf", &report, &mut written).unwrap();
            let whole = report_json("f.conf", &report).to_string();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                whole,
                "{}",
                path.display()
            );
            files += 1;
        }
        assert!(files > 10, "{files} fixtures");
    }
}
