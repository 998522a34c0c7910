//! The JSON reading of a file, as `compat/FORMAT.md` defines it: the same encoding the CherryPy
//! oracle prints, so the two can be compared value by value.

use serde_json::{Value as Json, json};

use super::read::FileReport;
use crate::diagnostic::Diagnostic;

/// `{"file": F, "ok": true, "sections": {...}}` or `{"file": F, "ok": false, "error": {...}}`.
pub fn report_json(file: &str, report: &FileReport) -> Json {
    match (report.first_error(), &report.file) {
        (None, Some(read)) => {
            let sections: serde_json::Map<String, Json> = read
                .sections()
                .iter()
                .map(|(name, settings)| {
                    let keys: serde_json::Map<String, Json> = settings
                        .iter()
                        .map(|(k, v)| (k.to_owned(), v.value.to_json()))
                        .collect();
                    (name.clone(), Json::Object(keys))
                })
                .collect();
            json!({"file": file, "ok": true, "sections": sections})
        }
        (Some(error), _) => error_json(file, error),
        (None, None) => unreachable!("a report without a file has an error"),
    }
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
