//! Which CherryPy era a file was written for, judged from the key names it uses
//! (fixtures/legacy/README.md describes the rule and the files that pin it down).

use std::collections::BTreeSet;

/// A CherryPy era whose config names and defaults differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Era {
    /// CherryPy 2.0: `[server]`, `[session]`, `[staticContent]` with raw values.
    V2_0,
    /// CherryPy 2.1: camelCase keys (`sessionFilter.on`).
    V2_1,
    /// CherryPy 2.2 and 2.3: lower_with_underscore keys (`session_filter.on`).
    V2_2,
    /// CherryPy 3.x to 18.x: `tools.sessions.*`.
    V3,
}

impl Era {
    /// `"2.0"`, `"2.1"`, `"2.2"` or `"3.x"`.
    pub fn label(self) -> &'static str {
        match self {
            Era::V2_0 => "2.0",
            Era::V2_1 => "2.1",
            Era::V2_2 => "2.2",
            Era::V3 => "3.x",
        }
    }
}

/// The era of a file (or of several files read together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraReport {
    /// Every era whose names the file uses, oldest first; empty for a file with no
    /// era-specific names.
    pub evidence: Vec<Era>,
    /// The era whose defaults apply: the newest era in the evidence (2.1 + 2.2 ran on 2.2,
    /// anything + 3.x ran on 3.x), 3.x when there is none.
    pub defaults: Era,
}

impl EraReport {
    /// Whether names of more than one era are used.
    pub fn is_mixed(&self) -> bool {
        self.evidence.len() > 1
    }

    /// `explain`'s `era`: `"2.0"`, `"2.1"`, `"2.2"`, `"3.x"` or `"mixed"`.
    pub fn label(&self) -> &'static str {
        if self.is_mixed() {
            "mixed"
        } else {
            self.defaults.label()
        }
    }
}

/// What the keys seen so far say of the era, gathered key by key (a file's keys are not
/// kept for it).
#[derive(Debug, Default)]
pub(super) struct EraEvidence {
    strong: BTreeSet<Era>,
    weak_2_2: bool,
}

impl EraEvidence {
    /// Takes one `(section, key)` into account.
    pub(super) fn see(&mut self, section: &str, key: &str) {
        match key_era(section, key) {
            Evidence::Strong(era) => {
                self.strong.insert(era);
            }
            Evidence::Weak2_2 => self.weak_2_2 = true,
            Evidence::None => {}
        }
    }

    /// The era of every key seen.
    pub(super) fn report(&self) -> EraReport {
        let mut strong = self.strong.clone();
        // `server.socket_port`/`thread_pool` are 2.2 names that 3.x kept: they say "2.2"
        // only in a file that is legacy already (a deviation from the README's proposal,
        // which would call a file with nothing but `server.socket_port` a 2.2 file).
        let legacy = strong.iter().any(|e| *e < Era::V3);
        if self.weak_2_2 && legacy && !strong.contains(&Era::V3) {
            strong.insert(Era::V2_2);
        }
        let defaults = strong.iter().next_back().copied().unwrap_or(Era::V3);
        EraReport {
            evidence: strong.into_iter().collect(),
            defaults,
        }
    }
}

enum Evidence {
    Strong(Era),
    Weak2_2,
    None,
}

/// 2.0 section names (CherryPy 2.0's `_cpconfig.py`).
pub(crate) const SECTIONS_2_0: &[&str] = &["server", "session", "staticContent"];

/// Whether `document` has a 2.0 section, and so is read with Python 2's rules there.
pub(crate) fn has_2_0_sections(document: &crate::ini::Document) -> bool {
    let source = document.source();
    document
        .sections()
        .iter()
        .any(|s| SECTIONS_2_0.contains(&s.name(source)))
}

/// 3.x namespaces that did not exist in 2.x.
const NAMESPACES_3: &[&str] = &[
    "tools", "engine", "log", "request", "response", "checker", "tree", "hooks", "wsgi",
];

/// 2.2 `server.*` names that 3.x renamed (so they are 2.2 evidence on their own).
const SERVER_2_2: &[&str] = &[
    "log_to_screen",
    "log_file",
    "log_access_file",
    "show_tracebacks",
    "log_request_headers",
    "log_tracebacks",
];

fn key_era(section: &str, key: &str) -> Evidence {
    if SECTIONS_2_0.contains(&section) {
        // `[server] socketPort` (no namespace) and anything in `[session]`/`[staticContent]`.
        return if section != "server" || !key.contains('.') {
            Evidence::Strong(Era::V2_0)
        } else {
            Evidence::None
        };
    }
    if key == "environment" {
        return Evidence::Strong(Era::V3);
    }
    let Some((namespace, rest)) = key.split_once('.') else {
        return Evidence::None;
    };
    if NAMESPACES_3.contains(&namespace) {
        return Evidence::Strong(Era::V3);
    }
    if namespace.ends_with("Filter") {
        return Evidence::Strong(Era::V2_1);
    }
    if namespace.ends_with("_filter") {
        return Evidence::Strong(Era::V2_2);
    }
    if namespace == "server" {
        if rest.chars().any(|c| c.is_ascii_uppercase()) {
            return Evidence::Strong(Era::V2_1);
        }
        if SERVER_2_2.contains(&rest) {
            return Evidence::Strong(Era::V2_2);
        }
        if rest == "socket_port" || rest == "thread_pool" {
            return Evidence::Weak2_2;
        }
    }
    Evidence::None
}
