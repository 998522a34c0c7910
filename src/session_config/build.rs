//! [`SessionConfigs`]: every section's keys read once into a `node` of typed slots, the
//! nodes on each section's path merged by the era's lookup rule, and the result
//! precomputed per section, so that a request's lookup is one step per path segment.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::config::path_index::{self, PathIndex};
use crate::config::{Config, ConfigError, ConfigFile, GLOBAL_SECTION};
use crate::diagnostic::cap_repeated;
use crate::source::SourceFile;
use crate::{Diagnostic, Loaded, Severity};

use super::codes;
use super::era::{Era, EraReport, SECTIONS_2_0};
use super::input::{Raw, RawEntry, read_tolerant};
use super::keys::{Opt, classify};
use super::legacy;
use super::node::{Node, Slot, insert, merge, node_from_raw, node_from_settings};
use super::origin::SettingOrigin;
use super::paths::{static_url, under, walk_pieces};
use super::resolve::resolve;
use super::sink::Sink;
use super::table::SessionConfig;

/// How a request path finds its nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// 3.x: global, `[/]`, then each section named by a prefix of the path, ending with the
    /// implicit `index` segment; later wins (CherryPy 3's dispatcher merges the config of
    /// each node it walks through).
    Modern,
    /// 2.x: the nearest of the path, its parents up to `/`, then global (2.x's `config.get`
    /// walked up from the path and took the first section that had the key).
    Walk,
}

/// The effective session settings of every path of a config, precomputed per section.
///
/// ```
/// use actix_cherrypy::session_config::{Minutes, SessionConfigs, StorageConfig};
///
/// let loaded = SessionConfigs::load(&["fixtures/site.conf"])?;
/// assert!(loaded.warnings.is_empty());
/// let admin = loaded.value.session_for_path("/admin/users");
/// // `[/admin]` sets its own cookie and timeout; the rest comes from `[global]` and `[/]`.
/// assert_eq!(admin.name.value, "admin_session_id");
/// assert_eq!(admin.timeout.value, Minutes::int(15));
/// assert_eq!(admin.storage.value, StorageConfig::Ram);
/// assert!(admin.on.value && admin.httponly.value);
/// // Each setting knows where it came from.
/// assert_eq!(admin.timeout.origin.line(), Some(45));
/// assert!(admin.secure.origin.is_default());
/// // Paths under `[/static]` have sessions off.
/// assert!(!loaded.value.session_for_path("/static/site.css").on.value);
/// # Ok::<(), actix_cherrypy::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SessionConfigs {
    era: EraReport,
    lookup: Lookup,
    root: Arc<SessionConfig>,
    sections: HashMap<String, Arc<SessionConfig>>,
    /// The same settings keyed by path segments, split the way `lookup` splits a request
    /// path, so that a request's lookup takes one step per segment.
    index: PathIndex<Arc<SessionConfig>>,
    /// 2.0 `[staticContent]` URLs, which had no sessions.
    static_2_0: Vec<(String, Arc<SessionConfig>)>,
}

impl SessionConfigs {
    /// Reads the session settings of a merged config. 2.0 files are better read with
    /// [`SessionConfigs::from_sources`]: CherryPy 18 rejects most of their raw values, so a
    /// [`Config`] lacks those keys.
    pub fn from_config(config: &Config) -> Result<Loaded<Self>, ConfigError> {
        Self::build(config, &Raw::from_config(config))
    }

    /// Reads the session settings of files read already (2.0 values are taken raw from
    /// their documents).
    pub fn from_files(files: &[ConfigFile]) -> Result<Loaded<Self>, ConfigError> {
        let config = Config::from_files(files)?;
        let raw = Raw::from_files(files);
        let loaded = Self::build(&config.value, &raw)?;
        Ok(with_earlier_warnings(loaded, config.warnings))
    }

    /// Reads files from text; stops at the first error CherryPy 18 would raise, except for
    /// the raw values of 2.0 sections, which are read the 2.0 way.
    pub fn from_sources(sources: &[Arc<SourceFile>]) -> Result<Loaded<Self>, ConfigError> {
        let (files, read_warnings) = read_tolerant(sources)?;
        let loaded = Self::from_files(&files)?;
        Ok(with_earlier_warnings(loaded, read_warnings))
    }

    /// Reads files from disk (see [`SessionConfigs::from_sources`]).
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded<Self>, ConfigError> {
        let sources = paths
            .iter()
            .map(|p| SourceFile::read(p).map_err(|e| ConfigError::from(Diagnostic::from(e))))
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_sources(&sources)
    }

    /// The era the files were written for; its defaults fill what they do not set.
    pub fn era(&self) -> &EraReport {
        &self.era
    }

    /// The settings of the application root (`/`).
    pub fn root(&self) -> &SessionConfig {
        &self.root
    }

    /// The effective settings for a request path (relative to the application's mount
    /// point), by the era's merge rules.
    pub fn session_for_path(&self, path: &str) -> &SessionConfig {
        self.shared_for_path(path)
    }

    /// Every distinct settings of the file: the root's and each section's.
    pub fn all(&self) -> impl Iterator<Item = &SessionConfig> {
        self.all_shared().map(Arc::as_ref)
    }

    /// [`Self::all`] as shared handles (the same ones [`Self::shared_for_path`] gives).
    pub fn all_shared(&self) -> impl Iterator<Item = &Arc<SessionConfig>> {
        std::iter::once(&self.root)
            .chain(self.sections.values())
            .chain(self.static_2_0.iter().map(|(_, c)| c))
    }

    /// The paths the file names: its path sections, and 2.0's static URLs.
    pub(crate) fn named_paths(&self) -> impl Iterator<Item = &str> {
        self.sections
            .keys()
            .map(String::as_str)
            .filter(|name| name.starts_with('/'))
            .chain(self.static_2_0.iter().map(|(url, _)| url.as_str()))
    }

    /// [`Self::session_for_path`] as a shared handle, for code that keeps it per request.
    pub fn shared_for_path(&self, path: &str) -> &Arc<SessionConfig> {
        for (url, config) in &self.static_2_0 {
            if under(path, url) {
                return config;
            }
        }
        let found = match self.lookup {
            Lookup::Modern => self.index.deepest(path_index::segments_with_index(path)),
            Lookup::Walk => self.index.deepest(walk_pieces(path)),
        };
        found.unwrap_or(&self.root)
    }

    /// Every session diagnostic of the files, errors and warnings in the order found (the
    /// `check` view: it does not stop at the first error). Errors of the layers below stop
    /// it and are returned alone.
    pub fn check_sources(sources: &[Arc<SourceFile>]) -> Vec<Diagnostic> {
        match read_tolerant(sources) {
            Ok((files, _)) => Self::check_files(&files),
            Err(e) => vec![e.into_diagnostic()],
        }
    }

    /// [`Self::check_sources`] for files already read (by `config::read_source`, without
    /// errors): they are not read again.
    pub fn check_files(files: &[ConfigFile]) -> Vec<Diagnostic> {
        Self::check_files_with(files, Vec::new())
    }

    /// [`Self::check_files`], after `below`, what reading the files said: every diagnostic
    /// the middleware would log for them, in its order. Of the warnings of the layers
    /// below (reading the values, merging the sections), those about a session key, which
    /// the session settings say more about, are left out.
    pub fn check_files_with(files: &[ConfigFile], below: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let config = match Config::from_files(files) {
            Ok(config) => config,
            Err(e) => {
                return cap_repeated(below.into_iter().chain([e.into_diagnostic()]).collect());
            }
        };
        // All of them, errors too: `check` does not stop at the first.
        let (value, diagnostics) = Self::collect(&config.value, &Raw::from_files(files));
        let earlier = below.into_iter().chain(config.warnings).collect();
        let loaded = Loaded {
            value,
            warnings: diagnostics,
        };
        with_earlier_warnings(loaded, earlier).warnings
    }

    fn build(config: &Config, raw: &Raw) -> Result<Loaded<Self>, ConfigError> {
        let (value, diagnostics) = Self::collect(config, raw);
        let diagnostics = cap_repeated(diagnostics);
        if let Some(first) = diagnostics.iter().find(|d| d.is_error()) {
            return Err(first.clone().into());
        }
        Ok(Loaded {
            value,
            warnings: diagnostics,
        })
    }

    fn collect(config: &Config, raw: &Raw) -> (Self, Vec<Diagnostic>) {
        let era = raw.era.report();
        let mut sink = Sink::default();
        for d in &raw.refused_2_0 {
            sink.push(d.clone());
        }
        for (place, error) in &raw.interpolation_errors {
            sink.push(legacy::interpolation_2_0(place, error));
        }
        // What reading each node says: its errors stand only where sessions are on.
        let read_nodes = sink.diagnostics.len();
        let mut global = node_from_settings(config.global(), &era, &mut sink);
        for (opt, slot) in node_from_raw(&raw.session, &era, &mut sink).into_slots() {
            insert(&mut global, opt, slot, &mut sink);
        }
        let mut nodes: Vec<(String, Node)> = Vec::new();
        for (name, settings) in config.sections() {
            if name.starts_with('/') {
                nodes.push((
                    name.to_owned(),
                    node_from_settings(settings, &era, &mut sink),
                ));
            }
        }
        let read_nodes = read_nodes..sink.diagnostics.len();
        let lookup = if era.defaults == Era::V3 {
            Lookup::Modern
        } else {
            Lookup::Walk
        };
        let root_node = nodes.iter().find(|(n, _)| n == "/").map(|(_, node)| node);
        // The sections a request path can name, keyed as `lookup` splits the path. `[/]` is
        // part of the root's settings; in 3.x only names made of non-empty segments can be a
        // prefix (`[/admin/]` never applies: the dispatcher never walks an empty segment).
        let named = |name: &str| match lookup {
            Lookup::Modern => path_index::is_canonical(name),
            Lookup::Walk => name != "/",
        };
        let mut by_path: PathIndex<(&str, &Node)> = PathIndex::default();
        for (name, node) in nodes.iter().filter(|(n, _)| named(n)) {
            match lookup {
                Lookup::Modern => by_path.insert(path_index::segments(name), (name, node)),
                Lookup::Walk => by_path.insert(walk_pieces(name), (name, node)),
            }
        }
        let mut root_chain = vec![(GLOBAL_SECTION, &global)];
        root_chain.extend(root_node.map(|node| ("/", node)));
        let root = Arc::new(resolve(
            &merge(root_chain.iter().map(|(_, node)| *node)),
            &era,
            &mut sink,
        ));
        // The sections whose settings a path reads where sessions are not turned off.
        let mut read_by_sessions: HashSet<&str> = HashSet::new();
        if may_be_on(&root) {
            read_by_sessions.extend(root_chain.iter().map(|(name, _)| *name));
        }
        let mut sections = HashMap::new();
        let mut index = PathIndex::default();
        for (name, _) in nodes.iter().filter(|(n, _)| named(n)) {
            // Each section's settings: the nodes on the way to it, found by walking the
            // index (one step per segment of its name) rather than by listing its prefixes.
            let mut chain = root_chain.clone();
            match lookup {
                Lookup::Modern => {
                    chain.extend(by_path.along(path_index::segments(name)).map(|(_, n)| *n))
                }
                // 2.x walked up to `/` and then to the global settings.
                Lookup::Walk => chain.extend(by_path.along(walk_pieces(name)).map(|(_, n)| *n)),
            }
            // The section's settings copy every setting on its chain: counted before
            // anything is copied.
            let mut winners: BTreeMap<Opt, &Slot> = BTreeMap::new();
            for (_, node) in &chain {
                winners.extend(node.iter());
            }
            if let Some(largest) = winners.values().max_by_key(|s| s.typed.heap_bytes()) {
                let bytes = winners
                    .values()
                    .map(|s| s.typed.heap_bytes())
                    .fold(size_of::<SessionConfig>(), usize::saturating_add);
                if !sink.charge(bytes, &largest.place) {
                    continue;
                }
            }
            let resolved = Arc::new(resolve(
                &merge(chain.iter().map(|(_, node)| *node)),
                &era,
                &mut sink,
            ));
            if may_be_on(&resolved) {
                read_by_sessions.extend(chain.iter().map(|(name, _)| *name));
            }
            match lookup {
                Lookup::Modern => index.insert(path_index::segments(name), Arc::clone(&resolved)),
                Lookup::Walk => index.insert(walk_pieces(name), Arc::clone(&resolved)),
            }
            sections.insert(name.clone(), resolved);
        }
        let static_2_0 = raw
            .static_content
            .iter()
            .filter_map(|entry| {
                let Some(url) = static_url(&entry.raw_key()) else {
                    sink.push(legacy::static_never_served(&entry.place));
                    return None;
                };
                Some((url, Arc::new(static_off(&root, entry))))
            })
            .collect();
        let read_somewhere = may_be_on(&root) || sections.values().any(|c| may_be_on(c));
        for d in &mut sink.diagnostics[read_nodes] {
            let section = d.location.as_ref().and_then(|l| l.section.as_deref());
            let read = match section {
                Some(path) if path.starts_with('/') => read_by_sessions.contains(path),
                // `[global]`, `[DEFAULT]`, 2.0's `[session]`: read by every path.
                Some(_) => read_somewhere,
                None => true,
            };
            if !read {
                let applies = section.is_none_or(|s| s == "/" || !s.starts_with('/') || named(s));
                never_read(d, applies);
            }
        }
        let value = SessionConfigs {
            era,
            lookup,
            root,
            sections,
            index,
            static_2_0,
        };
        (value, sink.diagnostics)
    }
}

/// Whether a path's session tool may run: it is on, or not turned off in the file (the
/// application can turn it on in code).
fn may_be_on(config: &SessionConfig) -> bool {
    config.on.value || config.on.origin.is_default()
}

/// An error in a setting that no path whose sessions may be on reads is a warning: CherryPy
/// reads the session tool's settings only where the tool is on (a site whose `[/static]`
/// turns sessions off and has a bad `timeout` there runs), and never those of a section
/// no request path names (`[/admin/]`). Not the errors CherryPy meets reading the file,
/// whatever is on: a name it cannot import, a call it runs, a class it imports. Nor a
/// budget.
fn never_read(d: &mut Diagnostic, section_applies: bool) {
    let at_load = [
        codes::UNRESOLVED_NAME,
        codes::NOT_LITERAL,
        codes::CUSTOM_STORAGE_CLASS,
        codes::LOCK_TIMEOUT_INVALID,
        codes::SESSION_SETTINGS_TOO_LARGE,
    ];
    if !d.is_error() || at_load.contains(&d.code) {
        return;
    }
    let why = if section_applies {
        "this file turns sessions off wherever this applies, so CherryPy never reads it (unless a later file or the application turns them on)"
    } else {
        "no request path reaches this section (CherryPy's dispatcher never walks an empty segment), so CherryPy never reads it"
    };
    d.severity = Severity::Warning;
    d.message = format!("{why}; where it is read: {}", d.message);
}

impl RawEntry {
    fn raw_key(&self) -> String {
        self.place.key().to_owned()
    }
}

/// The config layer's warnings that `explain` keeps: not those about session keys (this
/// layer says more), not value errors of 2.0 sections, and no "unknown namespace" for the
/// 2.x names of a legacy file (renaming them is `migrate`'s job).
pub(super) fn keep_config_warning(d: &Diagnostic, era: &EraReport) -> bool {
    let Some(loc) = &d.location else { return true };
    if loc.key.as_deref().is_some_and(|k| classify(k).is_some()) {
        return false;
    }
    if loc
        .section
        .as_deref()
        .is_some_and(|s| SECTIONS_2_0.contains(&s))
        && era.evidence.contains(&Era::V2_0)
    {
        return false;
    }
    let namespace = matches!(
        d.code,
        "unknown-namespace" | "unknown-tool" | "global-only-namespace"
    );
    !(namespace && era.defaults != Era::V3)
}

fn static_off(root: &SessionConfig, entry: &RawEntry) -> SessionConfig {
    let mut config = root.clone();
    config.on.value = false;
    config.on.origin = SettingOrigin::LegacyBehaviour {
        era: Era::V2_0,
        place: entry.place.clone(),
        rule: "no sessions for static content",
    };
    config
}

/// Puts the diagnostics of an earlier layer first (in reading order), keeping its errors
/// and the warnings that matter for the file's era: the one filter for what the middleware
/// logs and what `check` prints.
fn with_earlier_warnings(
    mut loaded: Loaded<SessionConfigs>,
    earlier: Vec<Diagnostic>,
) -> Loaded<SessionConfigs> {
    let era = loaded.value.era.clone();
    let mut warnings: Vec<Diagnostic> = earlier
        .into_iter()
        .filter(|d| d.is_error() || keep_config_warning(d, &era))
        .collect();
    warnings.append(&mut loaded.warnings);
    loaded.warnings = cap_repeated(warnings);
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-request lookup picks the section CherryPy's prefix walk picks, for every path.
    #[test]
    fn per_path_lookup_matches_the_prefix_walk() {
        let source = SourceFile::new(
            "paths.conf",
            "[/]\ntools.sessions.on = True\n[/a]\ntools.sessions.timeout = 1\n[/a/b/index]\ntools.sessions.timeout = 2\n[/a/b/c]\ntools.sessions.timeout = 3\n[/x/index]\ntools.sessions.timeout = 4\n",
        );
        let configs = SessionConfigs::from_sources(&[source])
            .expect("valid")
            .value;
        let paths = [
            "/",
            "",
            "/a",
            "/a/",
            "//a//b",
            "/a/b",
            "/a/b/",
            "/a/b/index",
            "/a/b/c",
            "/a/b/c/d",
            "/a/bc",
            "/ab",
            "/x",
            "/x/",
            "/x/y",
            "/index",
            "/a/b/index/z",
            "/é/ü",
        ];
        for path in paths {
            let walked = crate::config::path_prefixes(path)
                .iter()
                .rev()
                .find_map(|p| configs.sections.get(p.as_str()))
                .unwrap_or(&configs.root);
            assert!(
                std::sync::Arc::ptr_eq(configs.shared_for_path(path), walked),
                "{path}"
            );
        }
    }

    /// 2.x: the per-request walk picks the section 2.x's `config.get` picked (the path,
    /// then each parent cut at its last `/`), for every path.
    #[test]
    fn per_path_lookup_matches_the_2x_walk() {
        let source = SourceFile::new(
            "walk.conf",
            "[/]\nsession_filter.on = True\n[/a]\nsession_filter.timeout = 1\n[/a/]\nsession_filter.timeout = 2\n[/a//b]\nsession_filter.timeout = 3\n[/a/b/c]\nsession_filter.timeout = 4\n[//x]\nsession_filter.timeout = 5\n",
        );
        let configs = SessionConfigs::from_sources(&[source])
            .expect("valid")
            .value;
        assert_eq!(configs.lookup, Lookup::Walk);
        let paths = [
            "/", "", "/a", "/a/", "/a//", "/a//b", "/a//b/", "/a/b", "/a/b/c", "/a/b/c/d", "//x",
            "//x/y", "/x", "a", "a/b", "/ab",
        ];
        for path in paths {
            let walked = super::super::paths::walk_2x(path)
                .iter()
                .find_map(|p| configs.sections.get(p.as_str()))
                .unwrap_or(&configs.root);
            assert!(
                std::sync::Arc::ptr_eq(configs.shared_for_path(path), walked),
                "{path}"
            );
        }
        // Each section's own settings are merged the same way: `/`, then each parent.
        let timeout = |p: &str| configs.session_for_path(p).timeout.value.as_f64();
        assert_eq!(timeout("/a//b/z"), 3.0);
        assert_eq!(timeout("/a/b/c/d"), 4.0);
        assert_eq!(timeout("/a/b"), 1.0);
    }

    /// A request path is looked up in one step per segment, without a copy of any prefix,
    /// in both eras: a 60 KB path under sections as deep as the path takes 30 000 steps
    /// (the old walk copied every prefix, 2 GB, or hashed every prefix, 0.2 s).
    #[test]
    fn a_long_path_is_looked_up_in_one_step_per_segment() {
        let depth = 30_000;
        let deep = "/a".repeat(depth);
        for (era, key) in [
            ("3.x", "tools.sessions.timeout"),
            ("2.x", "session_filter.timeout"),
        ] {
            let text = format!("[/a]\n{key} = 1\n[{deep}]\n{key} = 2\n");
            let configs = SessionConfigs::from_sources(&[SourceFile::new("deep.conf", text)])
                .expect("valid")
                .value;
            let path = format!("{deep}/b");
            let mut timeout = 0.0;
            let steps = crate::config::path_index::steps::taken(|| {
                timeout = configs.session_for_path(&path).timeout.value.as_f64();
            });
            assert_eq!(timeout, 2.0, "{era}");
            // 3.x walks the segments and stops at `b`; 2.x also walks the empty piece
            // before the first `/`.
            assert!(steps <= depth + 2, "{era}: {steps} steps");
            assert!(steps >= depth, "{era}: {steps} steps");
        }
    }
}
