//! The INI dialect CherryPy 18 reads: Python 3's `configparser.ConfigParser` in strict mode,
//! with case-sensitive keys (CherryPy's `optionxform` is the identity).
//!
//! [`parse`] turns a [`SourceFile`] into a lossless [`Document`] (every line kept, with the
//! span of each header, key and value) plus diagnostics. [`interpolate`] expands `%(name)s`.
//! Nothing here knows about CherryPy's sections or values; that is the `config` layer's job.
//! The one exception is `value_2_0`: a value as CherryPy 2.0 read it, with Python 2's rules.

mod document;
mod interpolate;
mod parser;
mod py2;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use document::{Document, Entry, Line, LineKind, Section, ValueText};
pub use interpolate::{
    InterpolationBudget, InterpolationError, MAX_INTERPOLATION_DEPTH, interpolate,
};
pub(crate) use py2::{first_line_2_0, interpolate_2_0, refused_lines_2_0, value_2_0, vars_2_0};

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// The section whose keys every other section inherits.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// A parsed file with everything found wrong in it, in file order.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The lossless document (also when there are errors: bad lines are kept as they are).
    pub document: Document,
    /// Errors, in file order.
    pub errors: Vec<Diagnostic>,
}

impl Parsed {
    /// The error CherryPy would raise for this file, if any.
    ///
    /// configparser stops at once on a missing section header or a duplicate, but collects
    /// lines it cannot parse and raises them together at the end of the file, so a later
    /// duplicate wins over an earlier bad line.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.errors
            .iter()
            .find(|d| d.code != parser::INVALID_LINE)
            .or_else(|| self.errors.first())
    }
}

/// Reads a file as CherryPy's configparser does.
pub fn parse(source: &Arc<SourceFile>) -> Parsed {
    parser::parse(source)
}

/// Python's `str.isspace()`: Unicode white space plus the separators `\x1c`–`\x1f`.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}
