//! Several files merged into CherryPy's two levels: the global config and the application's
//! path sections, with the per-path merge CherryPy's dispatcher does.

use std::path::Path;

use indexmap::IndexMap;

use super::path_index::{self, PathIndex};
use super::read::{ConfigFile, read_source};
use super::{ConfigError, Settings, environment, namespaces};
use crate::diagnostic::{Diagnostic, Loaded, cap_repeated};
use crate::source::SourceFile;

/// The section CherryPy's `config.update` takes site-wide settings from.
pub const GLOBAL_SECTION: &str = "global";

/// Config files merged the way `cherrypy.quickstart(root, "", file)` uses them: `[global]`
/// updates the global config (with its `environment` preset), and every section is also the
/// application's config, where only sections starting with `/` are used.
#[derive(Debug, Clone, Default)]
pub struct Config {
    global: Settings,
    sections: IndexMap<String, Settings>,
    /// Which of `sections` a path's prefixes name (their positions), keyed by segment, so
    /// that [`Config::for_path`] takes one step per segment of the path.
    by_path: PathIndex<usize>,
}

impl Config {
    /// Reads and merges files in order (later keys win); stops at the first error, as
    /// CherryPy does at startup.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded<Config>, ConfigError> {
        let mut files = Vec::with_capacity(paths.len());
        let mut warnings = Vec::new();
        for path in paths {
            let source = SourceFile::read(path).map_err(Diagnostic::from)?;
            let report = read_source(&source);
            if let Some(first) = report.first_error() {
                return Err(first.clone().into());
            }
            warnings.extend(report.diagnostics);
            files.extend(report.file);
        }
        let mut loaded = Self::from_files(&files)?;
        warnings.append(&mut loaded.warnings);
        loaded.warnings = cap_repeated(warnings);
        Ok(loaded)
    }

    /// Merges files that were read already.
    pub fn from_files(files: &[ConfigFile]) -> Result<Loaded<Config>, ConfigError> {
        let mut config = Config::default();
        for file in files {
            if let Some(global) = file.sections().get(GLOBAL_SECTION) {
                // Each `config.update(file)` applies that file's preset (CherryPy's `_apply`).
                let mut global = global.clone();
                environment::apply(&mut global)?;
                config.global.update(&global);
            }
            for (name, settings) in file.sections() {
                config
                    .sections
                    .entry(name.clone())
                    .or_default()
                    .update(settings);
            }
        }
        for (at, name) in config.sections.keys().enumerate() {
            // Only a name made of non-empty segments is ever a prefix of a path.
            if path_index::is_canonical(name) {
                config.by_path.insert(path_index::segments(name), at);
            }
        }
        let mut warnings = Vec::new();
        for (name, settings) in &config.sections {
            if name == GLOBAL_SECTION || name.starts_with('/') {
                namespaces::check(name, settings, &mut warnings);
            }
        }
        Ok(Loaded {
            value: config,
            warnings: cap_repeated(warnings),
        })
    }

    /// The global config: `[global]` of every file plus its `environment` preset.
    pub fn global(&self) -> &Settings {
        &self.global
    }

    /// A section as merged from every file (including `[global]` and non-path sections,
    /// which CherryPy keeps but does not use per request).
    pub fn section(&self, name: &str) -> Option<&Settings> {
        self.sections.get(name)
    }

    /// Every section in order of first appearance.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Settings)> {
        self.sections.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The settings of a request for `path` (relative to the application's mount point):
    /// global, then `[/]`, then each section named by a prefix of the path, ending with the
    /// implicit `index` segment; later wins. `[/admin]` applies to `/admin`, `/admin/` and
    /// `/admin/x`; `[/admin/]` never applies.
    pub fn for_path(&self, path: &str) -> Settings {
        let mut merged = self.global.clone();
        if let Some(root) = self.sections.get("/") {
            merged.update(root);
        }
        for (_, &at) in self.by_path.along(path_index::segments_with_index(path)) {
            if let Some((_, settings)) = self.sections.get_index(at) {
                merged.update(settings);
            }
        }
        merged
    }
}

/// `/a/b` → `/a`, `/a/b`, `/a/b/index` (empty segments dropped, as CherryPy's dispatcher does):
/// the prefixes CherryPy looks up, spelled out. Lookups walk a [`PathIndex`] instead; tests
/// check it against this list.
#[cfg(test)]
pub(crate) fn path_prefixes(path: &str) -> Vec<String> {
    let mut prefixes = Vec::new();
    let mut current = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()).chain(["index"]) {
        current.push('/');
        current.push_str(segment);
        prefixes.push(current.clone());
    }
    prefixes
}

#[cfg(test)]
mod tests {
    use super::{Config, path_prefixes};
    use crate::config::read_source;
    use crate::source::SourceFile;

    #[test]
    fn prefixes_end_with_the_implicit_index() {
        assert_eq!(path_prefixes("/"), ["/index"]);
        assert_eq!(
            path_prefixes("/admin//x/"),
            ["/admin", "/admin/x", "/admin/x/index"]
        );
    }

    /// The merge walks the index of sections; it applies the sections the list of prefixes
    /// names, in the same order, for every path.
    #[test]
    fn for_path_applies_the_sections_its_prefixes_name() {
        let text = "[global]\nk = 0\n[/]\nk = 1\n[/a]\nk = 2\na = 1\n[/a/]\nk = 9\n[/a//b]\nk = 9\n[/a/b/index]\nk = 3\nb = 1\n[/a/b/c]\nk = 4\n[/index]\nk = 5\n";
        let report = read_source(&SourceFile::new("p.conf", text));
        let config = Config::from_files(&[report.file.expect("valid")])
            .expect("valid")
            .value;
        for path in [
            "/",
            "",
            "/a",
            "/a/",
            "//a//b",
            "/a/b",
            "/a/b/c/d",
            "/ab",
            "/index",
            "/a/b/index/z",
        ] {
            let mut expected = config.global().clone();
            expected.update(config.section("/").expect("[/]"));
            for prefix in path_prefixes(path) {
                if let Some(settings) = config.section(&prefix) {
                    expected.update(settings);
                }
            }
            assert_eq!(config.for_path(path), expected, "{path}");
        }
    }
}
