//! 2.0's sections in 3.x form: `[server]` and `[session]` become one `[global]`, and each
//! `[staticContent]` entry becomes a `[/url]` section (MIGRATION.md §5, "2.0 sections").

use crate::Diagnostic;
use crate::config::ConfigError;
use crate::ini::{self, Document, LineKind};
use crate::session_config::codes::LEGACY_STATIC_NEVER_SERVED;
use crate::session_config::era::Era;
use crate::session_config::paths::{STATIC_NEVER_SERVED, STATIC_NEVER_SERVED_HELP, static_url};

use super::codes;
use super::edit::Edits;
use super::literal;

/// What becomes of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Kept, with its own name.
    Plain,
    /// The first 2.0 `[server]`/`[session]`: renamed `[global]`.
    Opener,
    /// A later 2.0 `[server]`/`[session]`: its header becomes a comment, so its entries join
    /// the `[global]` above it.
    Merged,
    /// 2.0 `[staticContent]`.
    Static,
}

/// The roles of a document's sections.
#[derive(Debug)]
pub(crate) struct Layout {
    roles: Vec<Role>,
    /// `[staticContent]` is followed by a merged section: its `[/url]` sections go to the end
    /// of the file, or the merged entries would land in the last of them.
    moved_static: bool,
    /// Every section but `[DEFAULT]` is a 2.0 one.
    only_2_0: bool,
}

impl Layout {
    /// Works out the roles; a 2.0 layout that cannot be merged in place is an error.
    pub(crate) fn new(
        doc: &Document,
        era: &crate::session_config::EraReport,
    ) -> Result<Self, ConfigError> {
        let sections = doc.sections();
        let is_2_0 = era.evidence.contains(&Era::V2_0);
        let source = doc.source();
        let has_global = sections.iter().any(|s| s.name(source) == "global");
        let mut opened = has_global;
        let roles: Vec<Role> = sections
            .iter()
            .map(|s| match s.name(source) {
                "server" | "session" if is_2_0 => {
                    if opened {
                        Role::Merged
                    } else {
                        opened = true;
                        Role::Opener
                    }
                }
                "staticContent" if is_2_0 => Role::Static,
                _ => Role::Plain,
            })
            .collect();
        let moved_static =
            (1..roles.len()).any(|i| roles[i] == Role::Merged && roles[i - 1] == Role::Static);
        let only_2_0 = is_2_0
            && sections
                .iter()
                .zip(&roles)
                .all(|(s, role)| *role != Role::Plain || s.name(source) == ini::DEFAULT_SECTION);
        let layout = Layout {
            roles,
            moved_static,
            only_2_0,
        };
        for (i, role) in layout.roles.iter().enumerate() {
            if *role == Role::Merged && !layout.global_before(doc, i) {
                let section = &sections[i];
                return Err(Diagnostic::error(
                    codes::LAYOUT_2_0,
                    format!(
                        "cherrypy-config migrate cannot merge [{}] into [global]: the section above it is not [global], [server] or [session]",
                        section.name(source)
                    ),
                )
                .at(doc.source(), section.name_span)
                .with_help("move the 2.0 [server] and [session] sections next to each other (or next to [global]), then migrate")
                .into());
            }
        }
        Ok(layout)
    }

    /// Whether the entries that follow section `i`'s header, once it is a comment, belong
    /// to `[global]`.
    fn global_before(&self, doc: &Document, i: usize) -> bool {
        let sections = doc.sections();
        let mut j = i;
        while j > 0 {
            j -= 1;
            match self.roles[j] {
                Role::Opener | Role::Merged => return true,
                Role::Static if self.moved_static || sections[j].entries.is_empty() => continue,
                Role::Static => return false,
                Role::Plain => return sections[j].name(doc.source()) == "global",
            }
        }
        false
    }

    /// Whether every section but `[DEFAULT]` is a 2.0 one, so nothing but 2.0 values can
    /// name a `[DEFAULT]` value.
    pub(crate) fn only_2_0(&self) -> bool {
        self.only_2_0
    }

    /// The role of section `i`.
    pub(crate) fn role(&self, i: usize) -> Role {
        self.roles[i]
    }

    /// The section the entries of section `i` end up in.
    pub(crate) fn target<'a>(&self, i: usize, name: &'a str) -> &'a str {
        match self.roles[i] {
            Role::Opener | Role::Merged => "global",
            _ => name,
        }
    }

    /// Edits the 2.0 headers, and writes the `[/url]` sections of `[staticContent]` (with
    /// `tools.sessions.on = False` when `sessions_off`: 2.0 had no sessions there).
    /// An empty directory is not carried over ([`EMPTY_DIR`]); its warning goes to `warnings`.
    pub(crate) fn apply(
        &self,
        doc: &Document,
        edits: &mut Edits<'_>,
        sessions_off: bool,
        warnings: &mut Vec<Diagnostic>,
    ) {
        for (i, section) in doc.sections().iter().enumerate() {
            let header = section.header_line;
            match self.roles[i] {
                Role::Plain => {}
                Role::Opener => edits.rename_section(header, "global"),
                Role::Merged => {
                    // Its entries start in the first column: Python 2 refused an indented
                    // one (`legacy-refused-line` stops `migrate` before this), so none can
                    // become the continuation of a `[global]` entry above it.
                    edits.comment_out(
                        header,
                        header,
                        "merged into [global] by cherrypy-config migrate",
                    );
                }
                Role::Static => self.static_sections(doc, i, edits, sessions_off, warnings),
            }
        }
    }

    fn static_sections(
        &self,
        doc: &Document,
        i: usize,
        edits: &mut Edits<'_>,
        off: bool,
        warnings: &mut Vec<Diagnostic>,
    ) {
        let section = &doc.sections()[i];
        let mut reader = super::Reader2_0::new(doc);
        reader.enter(section);
        let header = section.header_line;
        let reason = if self.moved_static {
            "one section per URL at the end of the file, cherrypy-config migrate"
        } else {
            "one section per URL below, cherrypy-config migrate"
        };
        edits.comment_out(header, header, reason);
        let mut appended = Vec::new();
        for entry in &section.entries {
            let first = entry.first_line;
            let Some(url) = static_url(entry.key(doc.source())) else {
                warnings.push(never_served(doc, section, entry));
                edits.comment_out(
                    first,
                    entry.last_line,
                    "not carried over: 2.0 never served it",
                );
                continue;
            };
            // The session layer stopped at a value 2.0 could not interpolate.
            let dir = reader.value(entry).unwrap_or_default();
            let mut lines = if dir.is_empty() {
                warnings.push(empty_static_dir(doc, section, entry));
                vec![format!(
                    "# {}  (not carried over: {EMPTY_DIR})",
                    edits.entry_like(first, "tools.staticdir.on", "True")
                )]
            } else {
                let mut lines = vec![
                    edits.entry_like(first, "tools.staticdir.on", "True"),
                    edits.entry_like(first, "tools.staticdir.dir", &literal::py_str(&dir)),
                ];
                // 2.0 read a relative directory from the process's working directory
                // (it opened `dir + rest`); CherryPy 3 refuses a relative `dir` without a
                // `root`, and reads `os.getcwd()` (a call its config evaluates) at startup.
                if is_relative(&dir) {
                    lines.push(edits.entry_like(first, "tools.staticdir.root", "os.getcwd()"));
                }
                lines
            };
            if off {
                lines.push(edits.entry_like(first, "tools.sessions.on", "False"));
            }
            if self.moved_static {
                edits.comment_out(
                    first,
                    entry.last_line,
                    &format!("moved to [{url}] at the end of the file by cherrypy-config migrate"),
                );
                appended.push(String::new());
                appended.push(format!("[{url}]"));
                appended.append(&mut lines);
            } else {
                edits.replace_line(first, &format!("[{url}]"));
                for line in first + 1..=entry.last_line {
                    if doc.line(line).kind != LineKind::Comment {
                        edits.delete_line(line);
                    }
                }
                edits.insert_after(entry.last_line, &lines);
            }
        }
        edits.append(&appended);
    }
}

/// Whether a 2.0 static directory is relative to the working directory, on either of the
/// systems 2.0 ran on (`/srv/www`, `C:\\www` and `\\\\host\\share` are absolute).
fn is_relative(dir: &str) -> bool {
    let bytes = dir.as_bytes();
    let drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    !(dir.starts_with(['/', '\\']) || drive)
}

fn never_served(doc: &Document, section: &ini::Section, entry: &ini::Entry) -> Diagnostic {
    let d = Diagnostic::warning(LEGACY_STATIC_NEVER_SERVED, STATIC_NEVER_SERVED)
        .with_help(STATIC_NEVER_SERVED_HELP);
    super::at_entry(d, doc, section, entry)
}

/// Why an empty 2.0 static directory is not carried over. 2.0 served a request for
/// `url/rest` from the file `dir + "/rest"`, so an empty `dir` served the whole file system;
/// CherryPy 3's `staticdir` refuses an empty `dir` (it is not absolute and there is no
/// `root`) with an error on every request under the URL.
const EMPTY_DIR: &str = "the directory is empty, so CherryPy 2.0 served the whole file system under this URL, and CherryPy 3 refuses an empty tools.staticdir.dir";

fn empty_static_dir(doc: &Document, section: &ini::Section, entry: &ini::Entry) -> Diagnostic {
    let d = Diagnostic::warning(
        codes::NOT_CARRIED_OVER,
        format!("static URL not carried over: {EMPTY_DIR}"),
    )
    .with_help("write the directory to serve (an absolute path), or remove the line");
    super::at_entry(d, doc, section, entry)
}
