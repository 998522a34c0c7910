//! One vocabulary for every error and warning: code, message, and where in which file.
//!
//! The library never prints; callers render a [`Diagnostic`] with its `Display` (one
//! grep-friendly line) or build a snippet from its [`Location`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::limits::{MAX_DIAGNOSTICS_PER_CODE, MAX_SNIPPET_CHARS};

use crate::source::{SourceError, SourceFile, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; the config still loads.
    Warning,
    /// The config cannot be used.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where a diagnostic points: a span of a file, and the section and key it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: Arc<SourceFile>,
    /// The bytes it is about.
    pub span: Span,
    /// The section, as written between the brackets. Shared: every diagnostic in a section
    /// names it, and a section name can be as long as a line.
    pub section: Option<Arc<str>>,
    /// The key, where the diagnostic is about one.
    pub key: Option<String>,
}

impl Location {
    /// 1-based line and column of the start of the span.
    pub fn line_column(&self) -> (usize, usize) {
        self.file.line_column(self.span.start)
    }
}

/// A section name for [`Diagnostic::in_entry`]: from a shared `Arc<str>` without a copy,
/// or from text.
#[derive(Debug, Clone)]
pub struct SectionName(Arc<str>);

impl From<&str> for SectionName {
    fn from(name: &str) -> Self {
        Self(name.into())
    }
}

impl From<&String> for SectionName {
    fn from(name: &String) -> Self {
        Self(name.as_str().into())
    }
}

impl From<Arc<str>> for SectionName {
    fn from(name: Arc<str>) -> Self {
        Self(name)
    }
}

impl From<&Arc<str>> for SectionName {
    fn from(name: &Arc<str>) -> Self {
        Self(Arc::clone(name))
    }
}

/// An error or warning about a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable, kebab-case code (`duplicate-option`), for tests and tooling.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, when the diagnostic is about a place in a file.
    pub location: Option<Location>,
    /// How to fix it, where that is obvious.
    pub help: Option<String>,
    /// Further context (e.g. "inherited from `[DEFAULT]`").
    pub notes: Vec<String>,
    /// Non-zero on the closing line [`cap_repeated`] writes: how many diagnostics of this
    /// code (in this file) it stands for.
    pub omitted: usize,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    /// A warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            location: None,
            help: None,
            notes: Vec::new(),
            omitted: 0,
        }
    }

    /// Points the diagnostic at a span of a file.
    #[must_use]
    pub fn at(mut self, file: &Arc<SourceFile>, span: Span) -> Self {
        self.location = Some(Location {
            file: Arc::clone(file),
            span,
            section: None,
            key: None,
        });
        self
    }

    /// Names the section (and key) the diagnostic is about. Given an `Arc<str>`, the name
    /// is shared, not copied.
    #[must_use]
    pub fn in_entry(mut self, section: impl Into<SectionName>, key: Option<&str>) -> Self {
        if let Some(loc) = &mut self.location {
            loc.section = Some(section.into().0);
            loc.key = key.map(str::to_owned);
        }
        self
    }

    /// Adds a fix suggestion.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column, where the diagnostic has a location.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.location.as_ref().map(Location::line_column)
    }
}

/// `site.conf:12:5: error: [/admin] tools.sessions.timeout: message (help: …) [code]`
///
/// A section name or key longer than [`MAX_SNIPPET_CHARS`] is cut with an ellipsis, and so
/// is a message longer than four times that (messages quote the input), so that one line
/// stays a line whatever the file holds.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            let (line, column) = loc.line_column();
            write!(f, "{}:{line}:{column}: ", loc.file.name())?;
        }
        write!(f, "{}: ", self.severity)?;
        match &self.location {
            Some(loc) => {
                if let Some(section) = &loc.section {
                    write!(f, "[{}] ", cut(section, MAX_SNIPPET_CHARS))?;
                }
                if let Some(key) = &loc.key {
                    write!(f, "{}: ", cut(key, MAX_SNIPPET_CHARS))?;
                }
            }
            // Without a place in a file, the notes say where (`tools.sessions.name, as set
            // in code`), where the place would be.
            None => {
                for note in &self.notes {
                    write!(f, "{}: ", cut(note, MAX_SNIPPET_CHARS))?;
                }
            }
        }
        f.write_str(&cut(&self.message, 4 * MAX_SNIPPET_CHARS))?;
        if let Some(help) = &self.help {
            write!(f, " (help: {})", cut(help, 4 * MAX_SNIPPET_CHARS))?;
        }
        write!(f, " [{}]", self.code)
    }
}

/// `text`, or its first `max` characters and an ellipsis.
fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => text.into(),
        Some((at, _)) => format!("{}…", &text[..at]).into(),
    }
}

/// Keeps the first [`MAX_DIAGNOSTICS_PER_CODE`] diagnostics of each code in each file, in
/// order, and puts after the last one kept a closing line that counts the rest: "… and 1234
/// more like this" (same code and severity, [`Diagnostic::omitted`] set, located at the
/// first one left out). A list that was capped already can be merged with another and
/// capped again: the closing lines' counts are added up.
///
/// A large file can have a diagnostic on every line; this is what keeps `check`, the JSON
/// output and the runtime log of such a file a few lines long.
pub fn cap_repeated(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    /// What one (file, code) has: diagnostics, the count carried by earlier closing lines,
    /// and where the first one left out is.
    #[derive(Default)]
    struct Group {
        real: usize,
        carried: usize,
        first_left_out: Option<Location>,
    }
    impl Group {
        fn hidden(&self) -> usize {
            self.real.saturating_sub(MAX_DIAGNOSTICS_PER_CODE) + self.carried
        }
        fn kept(&self) -> usize {
            self.real.min(MAX_DIAGNOSTICS_PER_CODE)
        }
    }
    // Files are told apart by their shared text, not by name.
    let key = |d: &Diagnostic| (d.location.as_ref().map(|l| Arc::as_ptr(&l.file)), d.code);
    let mut groups: HashMap<_, Group> = HashMap::new();
    for d in &diagnostics {
        let group = groups.entry(key(d)).or_default();
        if d.omitted > 0 {
            group.carried += d.omitted;
        } else {
            group.real += 1;
            if group.real == MAX_DIAGNOSTICS_PER_CODE + 1 {
                group.first_left_out = d.location.clone();
            }
        }
        if group.first_left_out.is_none() && d.omitted > 0 {
            group.first_left_out = d.location.clone();
        }
    }
    if groups.values().all(|g| g.hidden() == 0) {
        return diagnostics;
    }
    let mut kept = Vec::with_capacity(
        diagnostics
            .len()
            .min(groups.len() * (MAX_DIAGNOSTICS_PER_CODE + 1)),
    );
    let mut shown: HashMap<_, usize> = HashMap::new();
    for d in diagnostics {
        let k = key(&d);
        let group = &groups[&k];
        let count = shown.entry(k).or_default();
        let closing = if d.omitted > 0 {
            // An earlier closing line stands where its group has nothing else to show.
            group.kept() == 0 && *count == 0
        } else if *count < MAX_DIAGNOSTICS_PER_CODE {
            *count += 1;
            let last = *count == group.kept();
            kept.push(d.clone());
            last
        } else {
            false
        };
        if closing && group.hidden() > 0 {
            *count = usize::MAX;
            kept.push(closing_line(
                d.severity,
                d.code,
                group.first_left_out.clone(),
                group.hidden(),
            ));
        }
    }
    kept
}

/// The line that stands for `omitted` diagnostics of one code: "… and N more like this",
/// at the first one left out, in its section (a reader that drops a section's
/// diagnostics, as the session layer does 2.0's raw values, drops this too).
fn closing_line(
    severity: Severity,
    code: &'static str,
    first_left_out: Option<Location>,
    omitted: usize,
) -> Diagnostic {
    let mut more = Diagnostic::new(severity, code, format!("… and {omitted} more like this"));
    more.location = first_left_out.map(|l| Location { key: None, ..l });
    more.omitted = omitted;
    more
}

/// Diagnostics collected as they are found, capped as they come: the first
/// [`MAX_DIAGNOSTICS_PER_CODE`] of each code are kept, the first one past that becomes the
/// closing line [`cap_repeated`] would write, and the rest only add to its count. Capping
/// the list afterwards gives what capping the whole list would, but a file with an error
/// on every line holds a few dozen diagnostics instead of millions.
///
/// For the diagnostics of one file: codes are counted without regard to the file.
#[derive(Debug, Default)]
pub(crate) struct CappedDiagnostics {
    list: Vec<Diagnostic>,
    /// Per code: how many were found, and where its closing line is in `list`.
    codes: HashMap<&'static str, (usize, Option<usize>)>,
}

impl CappedDiagnostics {
    /// Adds a diagnostic, built only when it is kept or is the first one left out.
    pub(crate) fn push_with(&mut self, code: &'static str, build: impl FnOnce() -> Diagnostic) {
        let (found, closing) = self.codes.entry(code).or_default();
        *found += 1;
        if *found <= MAX_DIAGNOSTICS_PER_CODE {
            self.list.push(build());
        } else if let Some(at) = *closing {
            self.list[at].omitted += 1;
        } else {
            let d = build();
            *closing = Some(self.list.len());
            self.list
                .push(closing_line(d.severity, d.code, d.location, 1));
        }
    }

    /// Whether the next diagnostic of `code` would be built (kept, or the first one left
    /// out), so that what only it needs is made only then.
    pub(crate) fn keeps(&self, code: &str) -> bool {
        self.codes
            .get(code)
            .is_none_or(|&(found, _)| found <= MAX_DIAGNOSTICS_PER_CODE)
    }

    /// Adds a diagnostic that is already built.
    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.push_with(d.code, || d);
    }

    /// The diagnostics kept and the closing lines, in the order found.
    pub(crate) fn into_vec(mut self) -> Vec<Diagnostic> {
        for &(_, closing) in self.codes.values() {
            if let Some(at) = closing {
                let d = &mut self.list[at];
                d.message = format!("… and {} more like this", d.omitted);
            }
        }
        self.list
    }
}

/// A result together with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    /// The result.
    pub value: T,
    /// Warnings (never errors).
    pub warnings: Vec<Diagnostic>,
}

/// Every diagnostic produced while reading, in the order found; errors and warnings mixed.
pub type Diagnostics = Vec<Diagnostic>;

impl From<SourceError> for Diagnostic {
    fn from(err: SourceError) -> Self {
        match &err {
            SourceError::Io { path, source } => {
                Diagnostic::error(err.code(), format!("{path}: cannot read the file: {source}"))
            }
            SourceError::TooLarge { path, size } => Diagnostic::error(
                err.code(),
                format!(
                    "the file has {size} bytes, more than the {} a config file may have",
                    crate::limits::MAX_CONFIG_BYTES
                ),
            )
            // Located at the start of the file, whose text was not read.
            .at(&SourceFile::new(path.as_str(), ""), Span::new(0, 0))
            .with_help("a CherryPy config is a few kilobytes; is this the right file?"),
            SourceError::Encoding {
                lossy,
                offset,
                byte,
                ..
            } => Diagnostic::error(
                err.code(),
                format!("the file is not valid UTF-8 (byte 0x{byte:02x})"),
            )
            .at(lossy, Span::new(*offset, *offset + char::REPLACEMENT_CHARACTER.len_utf8()))
            .with_help("CherryPy reads config files as UTF-8; convert the file (e.g. `iconv -f latin1 -t utf-8`)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many(file: &Arc<SourceFile>, code: &'static str, n: usize) -> Vec<Diagnostic> {
        (0..n)
            .map(|i| {
                Diagnostic::warning(code, format!("w{i}")).at(file, Span::new(i * 2, i * 2 + 1))
            })
            .collect()
    }

    #[test]
    fn capping_keeps_the_first_of_each_code_and_counts_the_rest() {
        let file = SourceFile::new("t.conf", "x\n".repeat(100));
        let mut list = many(&file, "a", 30);
        list.extend(many(&file, "b", 3));
        let capped = cap_repeated(list);
        assert_eq!(capped.len(), MAX_DIAGNOSTICS_PER_CODE + 1 + 3);
        let closing = &capped[MAX_DIAGNOSTICS_PER_CODE];
        assert_eq!((closing.code, closing.omitted), ("a", 10));
        assert_eq!(
            closing.line_column(),
            Some((MAX_DIAGNOSTICS_PER_CODE + 1, 1))
        );
        assert!(closing.to_string().ends_with("… and 10 more like this [a]"));
        // Merged with another capped list and capped again: one closing line, counts added.
        let mut merged = capped.clone();
        merged.extend(cap_repeated(many(&file, "a", 25)));
        let again = cap_repeated(merged);
        let closings: Vec<_> = again.iter().filter(|d| d.omitted > 0).collect();
        assert_eq!(closings.len(), 1);
        assert_eq!(closings[0].omitted, 10 + 25);
        // Under the cap, nothing changes.
        let few = many(&file, "a", 3);
        assert_eq!(cap_repeated(few.clone()), few);
    }

    #[test]
    fn display_cuts_long_names() {
        let file = SourceFile::new("t.conf", "x\n");
        let name = "s".repeat(10_000);
        let d = Diagnostic::error("c", "m")
            .at(&file, Span::new(0, 1))
            .in_entry(name.as_str(), None);
        assert!(d.to_string().len() < 2 * MAX_SNIPPET_CHARS);
    }
}
