//! The config namespaces CherryPy 18 knows, and its checker's warnings about the rest.

use super::Settings;
use crate::diagnostic::Diagnostic;

/// Namespaces with a handler in CherryPy 18 (global, application and request namespaces).
const KNOWN: &[&str] = &[
    "checker",
    "engine",
    "error_page",
    "hooks",
    "log",
    "request",
    "response",
    "server",
    "tools",
    "tree",
    "wsgi",
];

/// Namespaces that only mean something in `[global]`.
const GLOBAL_ONLY: &[&str] = &["checker", "engine", "server", "tree"];

/// The tools CherryPy 18.10 ships (`dir(cherrypy.tools)`, without its methods).
const TOOLS: &[&str] = &[
    "accept",
    "allow",
    "auth_basic",
    "auth_digest",
    "autovary",
    "caching",
    "decode",
    "encode",
    "err_redirect",
    "etags",
    "expires",
    "flatten",
    "gzip",
    "ignore_headers",
    "json_in",
    "json_out",
    "log_headers",
    "log_hooks",
    "log_tracebacks",
    "params",
    "proxy",
    "redirect",
    "referer",
    "response_headers",
    "session_auth",
    "sessions",
    "staticdir",
    "staticfile",
    "trailing_slash",
    "xmlrpc",
];

/// Warnings for one section's keys, as CherryPy's checker words them.
pub(super) fn check(section: &str, settings: &Settings, out: &mut Vec<Diagnostic>) {
    let is_path = section.starts_with('/');
    for (key, setting) in settings.iter() {
        let place = setting.origin.place();
        // `[DEFAULT]` keys are copied everywhere; warn where they are written, not per section.
        // (Every other key of a section was written in it: comparing the names would cost
        // the name's length for every key.)
        if *place.section == *crate::ini::DEFAULT_SECTION {
            continue;
        }
        let Some((namespace, rest)) = key.split_once('.') else {
            continue;
        };
        let warning = |code, message: String| {
            Diagnostic::warning(code, message)
                .at(&place.file, place.key_span)
                .in_entry(&place.section, Some(key))
        };
        if !KNOWN.contains(&namespace) {
            let tail = rest.split('.').next().unwrap_or_default();
            let d = if namespace == "cherrypy" && KNOWN.contains(&tail) {
                warning(
                    "unknown-namespace",
                    format!("`{key}` is not a CherryPy setting"),
                )
                .with_help(format!("try `{rest}`"))
            } else {
                warning(
                    "unknown-namespace",
                    format!(
                        "the `{namespace}` namespace is unknown to CherryPy; the key is ignored"
                    ),
                )
            };
            out.push(d);
        } else if namespace == "tools" {
            let tool = rest.split('.').next().unwrap_or_default();
            if !TOOLS.contains(&tool) {
                out.push(warning(
                    "unknown-tool",
                    format!("CherryPy has no built-in tool `{tool}`; unless the site defines it, the key is ignored"),
                ));
            }
        } else if is_path && GLOBAL_ONLY.contains(&namespace) {
            out.push(
                warning(
                    "global-only-namespace",
                    format!("`{namespace}.` settings only take effect in [global]"),
                )
                .with_help("move the key to the [global] section"),
            );
        }
    }
}
