//! Where a setting came from, for `explain` and for errors found after loading.

use std::sync::Arc;

use crate::source::{SourceFile, Span};

/// The origin of one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// Written in a config file.
    File(FilePlace),
    /// Added by an `environment = "…"` preset.
    Environment {
        /// The preset's name (`"production"`).
        preset: String,
        /// Where `environment` was set.
        set_at: FilePlace,
    },
}

/// A key in a file: the section it is written in and its spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlace {
    /// The file.
    pub file: Arc<SourceFile>,
    /// The section the key is written in (`DEFAULT` when inherited from there); shared by
    /// every key of the section.
    pub section: Arc<str>,
    /// The key's bytes.
    pub key_span: Span,
    /// The value's bytes on the key's line.
    pub value_span: Span,
}

impl FilePlace {
    /// The key as written.
    pub fn key(&self) -> &str {
        self.file.slice(self.key_span)
    }

    /// `site.conf:12:5`
    pub fn position(&self) -> String {
        let (line, column) = self.file.line_column(self.key_span.start);
        format!("{}:{line}:{column}", self.file.name())
    }
}

impl Origin {
    /// The file place behind the setting (for a preset, where `environment` is set).
    pub fn place(&self) -> &FilePlace {
        match self {
            Origin::File(place) => place,
            Origin::Environment { set_at, .. } => set_at,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(place) => write!(f, "{} [{}]", place.position(), place.section),
            Origin::Environment { preset, set_at } => write!(
                f,
                "environment preset {preset:?} set at {}",
                set_at.position()
            ),
        }
    }
}
