//! Source text of one config file and byte spans into it.
//!
//! Positions are kept as byte ranges; 1-based lines and columns are worked out only when a
//! diagnostic is formatted. Lines are split as Python's universal newlines split them (`\r\n`,
//! `\r` and `\n` all end a line), because that is how CherryPy numbers the lines it reports.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::limits::MAX_CONFIG_BYTES;

/// A half-open byte range into a [`SourceFile`]'s text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The byte range, for slicing.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// Whether the span covers no byte.
    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Range<usize>> for Span {
    fn from(r: Range<usize>) -> Self {
        Self::new(r.start, r.end)
    }
}

/// One config file: its name as given by the user, its text, and where each line starts.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

/// The name and size, not the text: every diagnostic holds its file, and an error printed
/// with `{:?}` (as `main` returning `Result` prints it) would print the whole config,
/// passwords included.
impl std::fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .field("bytes", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// Why a config file could not be turned into text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file could not be read at all.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`]; nothing of it was decoded.
    #[error(
        "{path}:1:1: the file has {size} bytes, more than the {MAX_CONFIG_BYTES} a config file may have"
    )]
    TooLarge {
        /// The path as given.
        path: String,
        /// Its size in bytes (at least, when it grew while it was read).
        size: u64,
    },
    /// The file is not UTF-8 (CherryPy opens it with the locale encoding, UTF-8 here).
    #[error("{path}:{line}:{column}: the file is not valid UTF-8 (byte 0x{byte:02x})")]
    Encoding {
        /// The path as given.
        path: String,
        /// The file decoded with replacement characters, to show where the bad byte is.
        lossy: Arc<SourceFile>,
        /// Byte offset of the first bad byte in `lossy`.
        offset: usize,
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column (in characters) of the first bad byte.
        column: usize,
        /// The first bad byte.
        byte: u8,
    },
}

impl SourceError {
    /// The stable diagnostic code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::Io { .. } => "io",
            SourceError::TooLarge { .. } => "config-too-large",
            SourceError::Encoding { .. } => "invalid-encoding",
        }
    }

    /// 1-based line and column, where there is one.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        match self {
            SourceError::Io { .. } => None,
            SourceError::TooLarge { .. } => Some((1, 1)),
            SourceError::Encoding { line, column, .. } => Some((*line, *column)),
        }
    }
}

impl SourceFile {
    /// Wraps text that is already in memory; `name` is what diagnostics print.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        let text = text.into();
        let line_starts = line_starts(&text);
        Arc::new(Self {
            name: name.into(),
            text,
            line_starts,
        })
    }

    /// Reads a file from disk. The name used in diagnostics is the path as given. A file
    /// larger than [`MAX_CONFIG_BYTES`] is refused before its text is decoded (and no more
    /// than that is read, whatever size the file claims).
    pub fn read(path: impl AsRef<Path>) -> Result<Arc<Self>, SourceError> {
        use std::io::Read;
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |source| SourceError::Io {
            path: name.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let claimed = file.metadata().map_err(io)?.len();
        if claimed > MAX_CONFIG_BYTES as u64 {
            return Err(SourceError::TooLarge {
                path: name,
                size: claimed,
            });
        }
        let mut bytes = Vec::with_capacity(claimed as usize);
        file.take(MAX_CONFIG_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Self::from_bytes(name, bytes)
    }

    /// Decodes bytes as UTF-8, reporting the first bad byte with its line and column. More
    /// than [`MAX_CONFIG_BYTES`] bytes are refused before they are decoded.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Result<Arc<Self>, SourceError> {
        let name = name.into();
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(SourceError::TooLarge {
                path: name,
                size: bytes.len() as u64,
            });
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Self::new(name, text)),
            Err(err) => {
                let at = err.utf8_error().valid_up_to();
                let bytes = err.into_bytes();
                let byte = bytes[at];
                // The valid prefix is unchanged by lossy decoding, so offsets up to `at` hold.
                let lossy = Self::new(name.clone(), String::from_utf8_lossy(&bytes).into_owned());
                let (line, column) = lossy.line_column(at);
                Err(SourceError::Encoding {
                    path: name,
                    lossy,
                    offset: at,
                    line,
                    column,
                    byte,
                })
            }
        }
    }

    /// The name diagnostics print (the path as given).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        &self.text[span.range()]
    }

    /// Byte offsets where each line starts (the first is 0).
    pub(crate) fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }

    /// 1-based line and column (column counted in characters, as Python counts them).
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        (line + 1, column)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\r', '\n'])
    }
}

impl fmt::Display for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Line starts under universal newlines: `\r\n`, a lone `\r` and `\n` each end a line.
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 1;
            }
            b'\r' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    // A final line ending does not start another line.
    if starts.len() > 1 && *starts.last().unwrap() == text.len() {
        starts.pop();
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn universal_newlines_number_lines_like_python() {
        let f = SourceFile::new("t", "a\r\nb\rc\nd");
        assert_eq!(f.line_starts(), &[0, 3, 5, 7]);
        assert_eq!(f.line_column(5), (3, 1));
        assert_eq!(f.line_text(2), "b");
    }

    #[test]
    fn columns_count_characters() {
        let f = SourceFile::new("t", "é = 1\n");
        assert_eq!(f.line_column(2), (1, 2));
        assert_eq!(f.line_column(4), (1, 4));
    }

    #[test]
    fn bad_utf8_is_located() {
        let err = SourceFile::from_bytes("t", b"[a]\nx = '\xe9'\n".to_vec()).unwrap_err();
        assert_eq!(err.line_column(), Some((2, 6)));
        assert_eq!(err.code(), "invalid-encoding");
    }
}
