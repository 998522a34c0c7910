//! `cherrypy-config explain`: the effective session settings of one file for one path, with
//! the origin of each, the file's era and every warning (issue 3, item 4).

use std::path::Path;
use std::sync::Arc;

use crate::Diagnostic;
use crate::config::ConfigError;
use crate::source::SourceFile;
use serde_json::{Value as Json, json};

use super::build::SessionConfigs;
use super::era::EraReport;
use super::origin::Setting;
use super::types::{SessionConfig, StorageKind, json_number};

/// What `explain` reports for one file and one path.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The file's name as given.
    pub file: String,
    /// The request path explained.
    pub path: String,
    /// The file's era.
    pub era: EraReport,
    /// The effective settings for `path`.
    pub session: SessionConfig,
    /// Every warning about the file, in file order.
    pub warnings: Vec<Diagnostic>,
}

/// Explains one file (already in memory) for a request path; errors are the first error
/// CherryPy (or the session layer) would stop at.
pub fn explain(source: &Arc<SourceFile>, path: &str) -> Result<Explanation, ConfigError> {
    let loaded = SessionConfigs::from_sources(std::slice::from_ref(source))?;
    let mut warnings = loaded.warnings;
    warnings.sort_by_key(|d| d.location.as_ref().map(|l| (l.span.start, l.span.end)));
    Ok(Explanation {
        file: source.name().to_owned(),
        path: path.to_owned(),
        era: loaded.value.era().clone(),
        session: loaded.value.session_for_path(path).clone(),
        warnings,
    })
}

/// Reads a file from disk and explains it (see [`explain`]).
pub fn explain_file(file: impl AsRef<Path>, path: &str) -> Result<Explanation, ConfigError> {
    let source = SourceFile::read(file).map_err(|e| ConfigError::from(Diagnostic::from(e)))?;
    explain(&source, path)
}

impl Explanation {
    /// The JSON shape of issue 3: `{"file", "path", "era", "session": {...}, "warnings":
    /// [{"line", "message"}]}`.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn to_json(&self) -> Json {
        let warnings: Vec<Json> = self
            .warnings
            .iter()
            .map(|d| json!({"line": d.line_column().map(|(l, _)| l), "message": d.message}))
            .collect();
        json!({
            "file": self.file,
            "path": self.path,
            "era": self.era.label(),
            "session": Json::Object(self.fields().into_iter().map(|(k, v, _)| (k.to_owned(), v)).collect()),
            "warnings": warnings,
        })
    }

    /// One line per setting, `name = value    (origin)`, after a header line; then one
    /// line per warning.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "# {} path {} era {}\n",
            self.file,
            self.path,
            self.era.label()
        );
        let debug = &self.session.debug;
        // `debug` is not in the JSON shape; the text form shows every field.
        let rows = self.fields().into_iter().chain([(
            "debug",
            json!(debug.value),
            debug.origin.to_string(),
        )]);
        for (name, value, origin) in rows {
            out.push_str(&format!("{name} = {value}    ({origin})\n"));
        }
        for d in &self.warnings {
            out.push_str(&format!("{d}\n"));
        }
        out
    }

    /// `(name, JSON value, origin)` in the JSON's order.
    fn fields(&self) -> Vec<(&'static str, Json, String)> {
        let s = &self.session;
        fn row<T>(
            name: &'static str,
            setting: &Setting<T>,
            json: Json,
        ) -> (&'static str, Json, String) {
            (name, json, setting.origin.to_string())
        }
        let seconds = s
            .lock_timeout
            .value
            .map_or(Json::Null, |v| json_number(v, v.fract() == 0.0));
        let mut rows = vec![
            row("on", &s.on, json!(s.on.value)),
            row("storage", &s.storage, json!(s.storage.value.as_str())),
            row("storage_path", &s.storage_path, json!(s.storage_path.value)),
            row("timeout_minutes", &s.timeout, s.timeout.value.to_json()),
            row("locking", &s.locking, json!(s.locking.value.as_str())),
            row("name", &s.name, json!(s.name.value)),
            row("domain", &s.domain, json!(s.domain.value)),
            row("path", &s.path, json!(s.path.value)),
            row("path_header", &s.path_header, json!(s.path_header.value)),
            row("secure", &s.secure, json!(s.secure.value)),
            row("httponly", &s.httponly, json!(s.httponly.value)),
            row("persistent", &s.persistent, json!(s.persistent.value)),
            row(
                "samesite",
                &s.samesite,
                json!(s.samesite.value.map(|v| v.as_str())),
            ),
            row(
                "clean_freq_minutes",
                &s.clean_freq,
                s.clean_freq.value.to_json(),
            ),
            row("lock_timeout_seconds", &s.lock_timeout, seconds),
            row("servers", &s.servers, json!(s.servers.value)),
        ];
        if s.storage.value == StorageKind::Custom {
            rows.push(row(
                "storage_class",
                &s.storage_class,
                json!(s.storage_class.value),
            ));
        }
        if s.storage.value == StorageKind::Redis {
            // A password is shown as set or not, never printed.
            let password = s.redis_password.value.as_ref().map(|_| "********");
            rows.extend([
                row("url", &s.redis_url, json!(s.redis_url.value)),
                row("host", &s.redis_host, json!(s.redis_host.value)),
                row("port", &s.redis_port, json!(s.redis_port.value)),
                row("db", &s.redis_db, json!(s.redis_db.value)),
                row("user", &s.redis_user, json!(s.redis_user.value)),
                row("password", &s.redis_password, json!(password)),
                row("prefix", &s.redis_prefix, json!(s.redis_prefix.value)),
                row(
                    "lock_prefix",
                    &s.redis_lock_prefix,
                    json!(s.redis_lock_prefix.value),
                ),
                row("ssl", &s.redis_ssl, json!(s.redis_ssl.value)),
                row(
                    "tls_skip_verify",
                    &s.redis_tls_skip_verify,
                    json!(s.redis_tls_skip_verify.value),
                ),
                row(
                    "is_sentinel",
                    &s.redis_is_sentinel,
                    json!(s.redis_is_sentinel.value),
                ),
                row(
                    "sentinel_pass",
                    &s.redis_sentinel_pass,
                    json!(s.redis_sentinel_pass.value.as_ref().map(|_| "********")),
                ),
                row(
                    "sentinel_service",
                    &s.redis_sentinel_service,
                    json!(s.redis_sentinel_service.value),
                ),
            ]);
            // This crate's extension: shown where a file sets it.
            if s.redis_cluster.origin.place().is_some() {
                rows.push(row(
                    "cluster",
                    &s.redis_cluster,
                    json!(s.redis_cluster.value),
                ));
            }
        }
        rows
    }
}
