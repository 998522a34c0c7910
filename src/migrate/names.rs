//! The non-session legacy keys and their 3.x names (MIGRATION.md §1.2). The session keys'
//! names come from the settings table (`session_config/table.rs`, classified by
//! `session_config::keys`); this is the rest, and the only copy of it.

/// What `migrate` does with a value besides renaming its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// The value carries over unchanged.
    Plain,
    /// 2.x `''` meant all interfaces; 3.x rejects it, so `''` becomes `"0.0.0.0"`.
    Host,
    /// 2.0/2.1 `0` meant no pool; cheroot rejects it, so `0` becomes `1`.
    ThreadPool,
    /// `server.environment` → `environment`; `"development"` has no 3.x preset.
    Environment,
    /// A 2.x filter with no 3.x counterpart: left as it is, with a warning.
    NoCounterpart,
}

/// A recognised non-session key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rename {
    /// The 3.x key.
    pub(crate) modern: &'static str,
    /// What happens to the value.
    pub(crate) rule: Rule,
    /// At one node, lower wins: 2.2 tried the camelCase spelling first (1); everything
    /// else is 2.
    pub(crate) rank: u8,
}

/// 2.1 and 2.2 keys of `[global]` and path sections, exact spelling.
const KEYS_2X: &[(&str, &str, Rule)] = &[
    ("server.socketPort", "server.socket_port", Rule::Plain),
    ("server.socketHost", "server.socket_host", Rule::Host),
    ("server.socket_host", "server.socket_host", Rule::Host),
    ("server.threadPool", "server.thread_pool", Rule::ThreadPool),
    ("server.thread_pool", "server.thread_pool", Rule::ThreadPool),
    ("server.logToScreen", "log.screen", Rule::Plain),
    ("server.log_to_screen", "log.screen", Rule::Plain),
    ("server.logFile", "log.error_file", Rule::Plain),
    ("server.log_file", "log.error_file", Rule::Plain),
    ("server.log_access_file", "log.access_file", Rule::Plain),
    (
        "server.show_tracebacks",
        "request.show_tracebacks",
        Rule::Plain,
    ),
    (
        "server.log_request_headers",
        "tools.log_headers.on",
        Rule::Plain,
    ),
    (
        "server.protocolVersion",
        "server.protocol_version",
        Rule::Plain,
    ),
    ("server.environment", "environment", Rule::Environment),
    ("base_url_filter.on", "tools.proxy.on", Rule::Plain),
    ("base_url_filter.base_url", "tools.proxy.base", Rule::Plain),
    ("baseUrlFilter.on", "tools.proxy.on", Rule::Plain),
    ("baseUrlFilter.baseUrl", "tools.proxy.base", Rule::Plain),
    ("logDebugInfoFilter.on", "", Rule::NoCounterpart),
    ("log_debug_info_filter.on", "", Rule::NoCounterpart),
];

/// 2.0 `[server]` keys, lower-cased (2.0's ConfigParser lower-cases key names).
const KEYS_2_0: &[(&str, &str, Rule)] = &[
    ("socketport", "server.socket_port", Rule::Plain),
    ("sockethost", "server.socket_host", Rule::Host),
    ("threadpool", "server.thread_pool", Rule::ThreadPool),
    ("logtoscreen", "log.screen", Rule::Plain),
    ("logfile", "log.error_file", Rule::Plain),
    ("protocolversion", "server.protocol_version", Rule::Plain),
    ("environment", "environment", Rule::Environment),
];

/// The 3.x type of a 2.0 `[server]` value (2.0 values are raw text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawType {
    /// An integer. 2.0 converted it with `int()` and kept `default_2_0` where that failed.
    Int { default_2_0: i64 },
    /// An integer read as a Python bool (`0` is false), converted like [`RawType::Int`].
    Bool { default_2_0: i64 },
    /// A string.
    Str,
}

/// A 2.1/2.2 key outside the session and static tables.
pub(crate) fn rename_2x(key: &str) -> Option<Rename> {
    KEYS_2X
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(k, modern, rule)| Rename {
            modern,
            rule: *rule,
            rank: if k.chars().any(|c| c.is_ascii_uppercase()) {
                1
            } else {
                2
            },
        })
}

/// A 2.0 `[server]` key (case-insensitive) with the type of its value.
pub(crate) fn rename_2_0(key: &str) -> Option<(Rename, RawType)> {
    let lower = key.to_ascii_lowercase();
    KEYS_2_0
        .iter()
        .find(|(k, _, _)| *k == lower)
        .map(|(k, modern, rule)| {
            let ty = match *k {
                // The defaults of 2.0's `_cpconfig.setDefaultConfigOption`.
                "socketport" => RawType::Int { default_2_0: 8080 },
                "threadpool" => RawType::Int { default_2_0: 0 },
                "logtoscreen" => RawType::Bool { default_2_0: 1 },
                _ => RawType::Str,
            };
            (
                Rename {
                    modern,
                    rule: *rule,
                    rank: 2,
                },
                ty,
            )
        })
}

/// Which 3.x tool serves a static section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaticTool {
    /// `tools.staticdir`.
    Dir,
    /// `tools.staticfile` (the section names one file).
    File,
}

/// Whether a key is 2.x's `staticFilter.file`/`static_filter.file` (it makes the section a
/// `tools.staticfile` section).
pub(crate) fn is_static_file(key: &str) -> bool {
    matches!(static_rest(key), Some((_, "file")))
}

fn static_rest(key: &str) -> Option<(u8, &str)> {
    key.strip_prefix("staticFilter.")
        .map(|r| (1, r))
        .or_else(|| key.strip_prefix("static_filter.").map(|r| (2, r)))
}

/// A 2.x static filter key (`staticFilter.dir`, `static_filter.file`, ...) as a 3.x tool key.
pub(crate) fn rename_static(key: &str, tool: StaticTool) -> Option<Rename> {
    let (rank, rest) = static_rest(key)?;
    let tool_name = match tool {
        StaticTool::Dir => "tools.staticdir",
        StaticTool::File => "tools.staticfile",
    };
    let modern: &'static str = match (rest, tool_name) {
        ("on", "tools.staticdir") => "tools.staticdir.on",
        ("on", _) => "tools.staticfile.on",
        ("dir", _) => "tools.staticdir.dir",
        ("file", _) => "tools.staticfile.filename",
        ("index", _) => "tools.staticdir.index",
        ("root", "tools.staticdir") => "tools.staticdir.root",
        ("root", _) => "tools.staticfile.root",
        ("match", "tools.staticdir") => "tools.staticdir.match",
        ("match", _) => "tools.staticfile.match",
        ("content_types" | "contentTypes", "tools.staticdir") => "tools.staticdir.content_types",
        ("content_types" | "contentTypes", _) => "tools.staticfile.content_types",
        _ => return None,
    };
    Some(Rename {
        modern,
        rule: Rule::Plain,
        rank,
    })
}

/// A 2.x filter namespace (`gzipFilter.on`, `encoding_filter.encoding`) that no rule covers.
pub(crate) fn is_filter_key(key: &str) -> bool {
    key.split_once('.')
        .is_some_and(|(ns, _)| ns.ends_with("Filter") || ns.ends_with("_filter"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_outranks_underscore() {
        assert_eq!(rename_2x("server.logToScreen").unwrap().rank, 1);
        assert_eq!(rename_2x("server.log_to_screen").unwrap().rank, 2);
        assert_eq!(
            rename_2x("server.log_to_screen").unwrap().modern,
            "log.screen"
        );
    }

    #[test]
    fn static_keys_follow_the_section_tool() {
        let on = |tool| rename_static("static_filter.on", tool).unwrap().modern;
        assert_eq!(on(StaticTool::Dir), "tools.staticdir.on");
        assert_eq!(on(StaticTool::File), "tools.staticfile.on");
        assert_eq!(
            rename_static("staticFilter.file", StaticTool::File)
                .unwrap()
                .modern,
            "tools.staticfile.filename"
        );
        assert!(rename_static("staticFilter.bogus", StaticTool::Dir).is_none());
    }

    #[test]
    fn server_keys_of_2_0_are_case_insensitive() {
        let (r, ty) = rename_2_0("SocketPort").unwrap();
        assert_eq!(
            (r.modern, ty),
            ("server.socket_port", RawType::Int { default_2_0: 8080 })
        );
        assert!(rename_2_0("reverseDNS").is_none());
    }
}
