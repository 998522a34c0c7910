//! One vocabulary for every error and warning: code, message, and where in which file.
//!
//! The library never prints; callers render a [`Diagnostic`] with its `Display` (one
//! grep-friendly line) or build a snippet from its [`Location`].

use std::fmt;
use std::sync::Arc;

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
    /// The section, as written between the brackets.
    pub section: Option<String>,
    /// The key, where the diagnostic is about one.
    pub key: Option<String>,
}

impl Location {
    /// 1-based line and column of the start of the span.
    pub fn line_column(&self) -> (usize, usize) {
        self.file.line_column(self.span.start)
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

    /// Names the section (and key) the diagnostic is about.
    #[must_use]
    pub fn in_entry(mut self, section: &str, key: Option<&str>) -> Self {
        if let Some(loc) = &mut self.location {
            loc.section = Some(section.to_owned());
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

/// `site.conf:12:5: error: [/admin] tools.sessions.timeout: message (help: …)`
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            let (line, column) = loc.line_column();
            write!(f, "{}:{line}:{column}: ", loc.file.name())?;
        }
        write!(f, "{}: ", self.severity)?;
        if let Some(loc) = &self.location {
            if let Some(section) = &loc.section {
                write!(f, "[{section}] ")?;
            }
            if let Some(key) = &loc.key {
                write!(f, "{key}: ")?;
            }
        }
        f.write_str(&self.message)?;
        write!(f, " [{}]", self.code)
    }
}

impl std::error::Error for Diagnostic {}

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
