//! `cherrypy-config migrate`: snapshots of every legacy fixture before
//! (`explain`) and after (the migrated text); modern files come back unchanged; the migrated
//! file gives the same session settings as the original; the binary's `--in-place` and
//! `--check`; and real CherryPy 18 (`compat/oracle.py`) reads every migrated file and finds
//! the settings `explain` promised.

#![allow(clippy::print_stdout)]

mod oracle;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use actix_cherrypy::config::SourceFile;
use actix_cherrypy::migrate::{Migration, migrate};
use actix_cherrypy::session_config::explain;
use anyhow::{Result, bail};
use oracle::{conf_files, corpus_dir, corpus_files_or_skip, corpus_or_skip, root};
use serde_json::Value as Json;

/// A file read under a stable name (its path from the repo root, or the corpus file name).
fn source(path: &Path) -> Arc<SourceFile> {
    let name = path
        .strip_prefix(root())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| format!("corpus/{}", path.file_name().unwrap().to_string_lossy()));
    let bytes = std::fs::read(path).unwrap();
    SourceFile::from_bytes(name, bytes).unwrap()
}

fn legacy_fixtures() -> Vec<PathBuf> {
    conf_files(&root().join("fixtures/legacy"))
}

fn render(migration: &Result<Migration, actix_cherrypy::config::ConfigError>) -> String {
    match migration {
        Ok(m) => {
            let mut out = m.text.clone();
            out.push_str("\n----- warnings -----\n");
            for d in &m.warnings {
                out.push_str(&format!("{d}\n"));
            }
            out
        }
        Err(e) => format!("{}\n", e.diagnostic()),
    }
}

#[test]
fn migrated_text_of_every_legacy_fixture() {
    let _snapshots = support::snapshots_of("migrate");
    insta::glob!("../fixtures", "legacy/*/*.conf", |path| {
        insta::assert_snapshot!(render(&migrate(&source(path))));
    });
}

#[test]
fn explain_of_every_legacy_fixture_before_migration() {
    let _snapshots = support::snapshots_of("migrate");
    insta::glob!("../fixtures", "legacy/*/*.conf", |path| {
        let text = match explain(&source(path), "/") {
            Ok(e) => e.to_text(),
            Err(e) => format!("{}\n", e.diagnostic()),
        };
        insta::assert_snapshot!(text);
    });
}

/// The corpus files with legacy names, before and after.
#[test]
fn legacy_corpus_files_before_and_after() {
    let _snapshots = support::snapshots_of("migrate");
    let Some(corpus) = corpus_or_skip("legacy_corpus_files_before_and_after") else {
        return;
    };
    let mut count = 0;
    for path in conf_files(&corpus) {
        let source = source(&path);
        let Ok(m) = migrate(&source) else { continue };
        if !m.changed {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let before = explain(&source, "/").unwrap().to_text();
        insta::assert_snapshot!(format!("corpus-{stem}-explain"), before);
        insta::assert_snapshot!(format!("corpus-{stem}-migrated"), render(&Ok(m)));
        count += 1;
    }
    assert!(count >= 10, "only {count} corpus files migrate");
}

#[test]
fn modern_files_are_unchanged() {
    let mut files = conf_files(&root().join("fixtures/valid"));
    files.push(root().join("fixtures/site.conf"));
    files.extend(corpus_files_or_skip("modern_files_are_unchanged"));
    let mut checked = 0;
    for path in files {
        let source = source(&path);
        let Ok(report) = explain(&source, "/") else {
            continue;
        };
        let legacy = report.era.evidence.iter().any(|e| e.label() != "3.x");
        if legacy {
            // One valid fixture holds 2.x names on purpose (CherryPy 18 reads and ignores
            // them); migrate rewrites it like any mixed file.
            assert!(
                !path.starts_with(root().join("fixtures"))
                    || path.ends_with("fixtures/valid/unknown-namespaces.conf"),
                "{}: a fixture outside legacy/ reads as legacy",
                path.display()
            );
            continue;
        }
        let m = migrate(&source).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        assert!(!m.changed, "{}", path.display());
        assert_eq!(m.text, source.text(), "{}", path.display());
        checked += 1;
    }
    // The valid fixtures alone are about 40; the corpus adds about 50.
    let least = if corpus_dir().is_dir() { 50 } else { 30 };
    assert!(checked > least, "only {checked} modern files checked");
}

/// `/`, `/admin`, `/static` and every path section of the original and the migrated file.
fn paths_of(texts: &[&str]) -> Vec<String> {
    let mut paths: Vec<String> = ["/", "/admin", "/static", "/admin/x", "/static/x/y"]
        .map(str::to_owned)
        .to_vec();
    for text in texts {
        for line in text.lines() {
            let line = line.trim();
            if let Some(name) = line.strip_prefix("[/").and_then(|l| l.strip_suffix(']')) {
                paths.push(format!("/{name}"));
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

fn session_json(source: &Arc<SourceFile>, path: &str) -> Json {
    explain(source, path)
        .unwrap_or_else(|e| panic!("{} {path}: {:?}", source.name(), e.diagnostic()))
        .to_json()["session"]
        .clone()
}

/// The files `migrate` rewrites: every legacy fixture that is not an error, and every corpus
/// file with legacy names.
fn migratable() -> Vec<(PathBuf, Arc<SourceFile>, Migration)> {
    let mut out = Vec::new();
    for path in legacy_fixtures()
        .into_iter()
        .chain(corpus_files_or_skip("migrate tests over the corpus"))
    {
        let source = source(&path);
        if let Ok(m) = migrate(&source)
            && m.changed
        {
            out.push((path, source, m));
        }
    }
    out
}

#[test]
fn migrated_files_explain_the_same_settings() {
    let files = migratable();
    // The legacy fixtures alone give fewer than the corpus adds.
    let least = if corpus_dir().is_dir() { 30 } else { 10 };
    assert!(files.len() >= least, "only {} files migrate", files.len());
    for (path, original, m) in files {
        let migrated = SourceFile::new(original.name(), m.text.clone());
        // A file that never names a session setting relied on no session default: its
        // sessions stay off, and migrate writes no defaults for it.
        let names_sessions = m.text.contains("tools.sessions.");
        let view = |j: Json| if names_sessions { j } else { j["on"].clone() };
        for p in paths_of(&[original.text(), &m.text]) {
            assert_eq!(
                view(session_json(&original, &p)),
                view(session_json(&migrated, &p)),
                "{} path {p}\n{}",
                path.display(),
                m.text
            );
        }
        // Migrating twice changes nothing more.
        let again = migrate(&migrated).unwrap();
        assert!(
            !again.changed,
            "{}: second migrate changed\n{}",
            path.display(),
            again.text
        );
    }
}

#[test]
fn every_legacy_fixture_migrates_or_is_a_located_error() {
    for path in legacy_fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match migrate(&source(&path)) {
            Ok(m) => {
                assert!(
                    !name.contains("problem") || name.contains("generate-session-id"),
                    "{name}"
                );
                assert!(m.changed, "{name}");
            }
            Err(e) => {
                assert!(name.contains("problem"), "{name}: {:?}", e.diagnostic());
                assert!(e.diagnostic().line_column().is_some(), "{name}");
            }
        }
    }
}

// --- the binary ----------------------------------------------------------------------

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cherrypy-config"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("migrate-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_in_place_keeps_a_backup() {
    let dir = temp_dir("in-place");
    let file = dir.join("site.conf");
    let original = std::fs::read(root().join("fixtures/legacy/2.1/01-on-only.conf")).unwrap();
    std::fs::write(&file, &original).unwrap();
    let out = bin()
        .args(["migrate", "--in-place"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(dir.join("site.conf.bak")).unwrap(), original);
    let migrated = std::fs::read_to_string(&file).unwrap();
    assert!(migrated.contains("tools.sessions.name = \"sessionID\""));

    // Now it is modern: --check passes, a second --in-place changes nothing.
    let check = bin()
        .args(["migrate", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
    let again = bin()
        .args(["migrate", "--in-place"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), migrated);
    assert_eq!(std::fs::read(dir.join("site.conf.bak")).unwrap(), original);
}

#[test]
fn cli_check_and_stdout() {
    let dir = temp_dir("check");
    let legacy = dir.join("legacy.conf");
    std::fs::copy(
        root().join("fixtures/legacy/2.2/02-turbogears-file.conf"),
        &legacy,
    )
    .unwrap();
    let before = std::fs::read(&legacy).unwrap();
    let check = bin()
        .args(["migrate", "--check"])
        .arg(&legacy)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(check.stdout.is_empty());
    assert_eq!(
        std::fs::read(&legacy).unwrap(),
        before,
        "--check wrote the file"
    );
    assert!(!dir.join("legacy.conf.bak").exists());

    let plain = bin().arg("migrate").arg(&legacy).output().unwrap();
    assert_eq!(plain.status.code(), Some(0));
    let expected = migrate(&source(&legacy)).unwrap();
    assert_eq!(String::from_utf8(plain.stdout).unwrap(), expected.text);
    // The file + explicit locking warning goes to stderr.
    assert!(String::from_utf8_lossy(&plain.stderr).contains("file-storage-explicit-locking"));

    let modern = bin()
        .args(["migrate", "--check"])
        .arg(root().join("fixtures/site.conf"))
        .output()
        .unwrap();
    assert_eq!(modern.status.code(), Some(0));

    let error = bin()
        .args(["migrate"])
        .arg(root().join("fixtures/legacy/2.1/07-problem-RAM.conf"))
        .output()
        .unwrap();
    assert_eq!(error.status.code(), Some(1));
    assert!(error.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&error.stderr);
    assert!(stderr.contains("07-problem-RAM.conf:8:"), "{stderr}");

    let missing = bin()
        .args(["migrate"])
        .arg(dir.join("nope.conf"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

// --- real CherryPy ---------------------------------------------------------------------

/// The plain JSON of one oracle value (`{"type":"int","value":5}` → `5`).
fn plain(v: &Json) -> Json {
    match v["type"].as_str() {
        Some("none") => Json::Null,
        Some("float") => v["value"].as_f64().map_or(Json::Null, |f| {
            if f.fract() == 0.0 {
                Json::from(f as i64)
            } else {
                Json::from(f)
            }
        }),
        _ => v["value"].clone(),
    }
}

/// The number of a JSON value, for comparing `30` with `30.0`.
fn number(v: &Json) -> Option<f64> {
    v.as_f64().or_else(|| v.to_string().parse().ok())
}

#[test]
fn real_cherrypy_reads_every_migrated_file_with_the_same_settings() -> Result<()> {
    let files = migratable();
    let dir = temp_dir("oracle");
    let mut written = Vec::new();
    for (i, (path, _, m)) in files.iter().enumerate() {
        let name = format!("{i:02}-{}", path.file_name().unwrap().to_string_lossy());
        let out = dir.join(name);
        std::fs::write(&out, &m.text)?;
        written.push(out);
    }
    let results = oracle::run(&written)?;
    let mut failures = Vec::new();
    for ((path, original, _), result) in files.iter().zip(&results) {
        let name = path.display();
        if result["ok"] != Json::Bool(true) {
            failures.push(format!(
                "{name}: CherryPy 18 rejects the migrated file: {result}"
            ));
            continue;
        }
        if let Some(err) = result.get("cherrypy_error") {
            // Only an application module the original already named may be missing.
            let message = err["message"].as_str().unwrap_or("");
            let module = message.split('\'').nth(1).unwrap_or("");
            let root_module = module.split('.').next().unwrap_or("");
            if root_module.is_empty() || !original.text().contains(root_module) {
                failures.push(format!("{name}: real CherryPy fails: {err}"));
            }
        }
        // What CherryPy reads for `/`: [global], then [/] on top.
        let sections = &result["sections"];
        let mut read = serde_json::Map::new();
        for section in ["global", "/"] {
            if let Some(keys) = sections.get(section).and_then(Json::as_object) {
                for (k, v) in keys {
                    if let Some(opt) = k.strip_prefix("tools.sessions.") {
                        read.insert(opt.to_owned(), plain(v));
                    }
                }
            }
        }
        let ours = session_json(original, "/");
        for (opt, field) in [
            ("on", "on"),
            ("storage_type", "storage"),
            ("storage_path", "storage_path"),
            ("timeout", "timeout_minutes"),
            ("locking", "locking"),
            ("name", "name"),
            ("domain", "domain"),
            ("path", "path"),
            ("path_header", "path_header"),
            ("secure", "secure"),
            ("persistent", "persistent"),
            ("clean_freq", "clean_freq_minutes"),
            ("lock_timeout", "lock_timeout_seconds"),
        ] {
            let Some(theirs) = read.get(opt) else {
                continue;
            };
            let want = &ours[field];
            let same = match (number(theirs), number(want)) {
                (Some(a), Some(b)) if !theirs.is_boolean() => a == b,
                _ => theirs == want,
            };
            if !same {
                failures.push(format!(
                    "{name}: tools.sessions.{opt}: CherryPy reads {theirs}, explain of the original says {want}"
                ));
            }
        }
        if !read.is_empty() && read.get("on").is_none() && ours["on"] == Json::Bool(true) {
            failures.push(format!(
                "{name}: sessions are on, but CherryPy reads no tools.sessions.on"
            ));
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    println!("{} migrated files read by real CherryPy", written.len());
    Ok(())
}

// --- CherryPy 2.0 files read with Python 2's ConfigParser ------------------------------
//
// CherryPy 2.0 read its file with Python 2's `ConfigParser` (`cherrypy/_cpconfig.py` @
// cherrypy-2.0.0, `parseConfigFile`), whose `_read` (Lib/ConfigParser.py, Python 2.3 to
// 2.7) is not Python 3's. These files are written inline: each one is what Python 2 read
// differently.

fn migrate_text(text: &str) -> Result<Migration, actix_cherrypy::config::ConfigError> {
    migrate(&SourceFile::new("py2.conf", text))
}

/// Python 2's `_read` skips a comment only when `#` or `;` is the line's first character;
/// any other line whose first character is white space, after an option line, is a
/// continuation (`line[0].isspace() and cursect is not None and optname`): its stripped
/// text is appended to the value. So an indented `# was 8080` is part of `socketPort`'s
/// value, `int("9090\n# was 8080")` raised, and 2.0 kept its default port 8080.
#[test]
fn an_indented_comment_continues_a_2_0_value() {
    let m = migrate_text("[server]\nsocketPort = 9090\n    # was 8080\n").unwrap();
    assert!(
        m.text.starts_with("[global]\nserver.socket_port = 8080\n"),
        "{}",
        m.text
    );
    assert!(
        m.warnings
            .iter()
            .any(|d| d.message.contains("int()") && d.message.contains("# was 8080")),
        "{:?}",
        m.warnings
    );
    // A comment in the first column is skipped, as in Python 3.
    let m = migrate_text("[server]\nsocketPort = 9090\n# was 8080\n").unwrap();
    assert!(m.text.contains("server.socket_port = 9090\n"), "{}", m.text);
}

/// Python 2's `_read` takes a line whose first character is white space as a continuation
/// only when an option has been read since the section header (`cursect is not None and
/// optname`; every header sets `optname = None`). Otherwise the line must match `SECTCRE`
/// or `OPTCRE` from its first character, and `OPTCRE`'s option cannot start with white
/// space, so an indented entry right below `[session]` was a `ParsingError`, raised at the
/// end of `read()`: `parseConfigFile` did not catch it, and 2.0 did not start. Python 3
/// reads the same line as an ordinary entry.
#[test]
fn an_indented_entry_below_a_2_0_header_is_an_error() {
    let text = "[server]\nsocketPort = 9090\n[session]\n    storageType = ram\n";
    let err = migrate_text(text).unwrap_err();
    assert_eq!(err.diagnostic().code, "legacy-refused-line");
    assert_eq!(err.diagnostic().line_column(), Some((4, 5)));
    let err = explain(&SourceFile::new("py2.conf", text), "/").unwrap_err();
    assert_eq!(err.diagnostic().code, "legacy-refused-line");
    // Below a value, the same line continues it (and `storageType` is then no option).
    let text = "[session]\nstorageType = ram\n    timeout = 5\n";
    let err = migrate_text(text).unwrap_err();
    assert_eq!(err.diagnostic().code, "legacy-storage-value");
    // An indented comment below a header was refused too.
    let err = migrate_text("[session]\n  # sessions\nstorageType = ram\n").unwrap_err();
    assert_eq!(err.diagnostic().line_column(), Some((2, 3)));
}

/// `parseConfigFile` (cherrypy-2.0.0) listed each `[staticContent]` key with its value, and
/// `_cphttptools` served a request path `url/rest` (leading `/` cut) from the file
/// `dir + "/rest"`. With an empty value (`static =`, or `""`, which Python 2 read as empty)
/// that is `/rest`: 2.0 served the whole file system under `/static`. CherryPy 3's
/// `staticdir` refuses an empty `dir` (not absolute, no `root`: ValueError on every
/// request), so `migrate` does not write one: the URL keeps its sessions off, and the
/// static lines are a comment, with a warning.
#[test]
fn an_empty_2_0_static_directory_is_not_carried_over() {
    let m =
        migrate_text("[session]\nstorageType = ram\n[staticContent]\nstatic =\nimages = \"\"\n")
            .unwrap();
    assert!(!m.text.contains("tools.staticdir.dir = \"\""), "{}", m.text);
    assert!(
        !m.text.lines().any(|l| l.starts_with("tools.staticdir")),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("[/static]\n# tools.staticdir.on = True  (not carried over:"),
        "{}",
        m.text
    );
    let warned: Vec<_> = m
        .warnings
        .iter()
        .filter(|d| d.code == "migrate-not-carried-over")
        .filter_map(|d| d.line_column().map(|l| l.0))
        .collect();
    assert_eq!(warned, [4, 5], "{:?}", m.warnings);
}

/// cherrypy-2.0.0 opened `dir + rest` for a request under a static URL, so a relative
/// directory was read from the process's working directory. CherryPy 3's `staticdir`
/// refuses a relative `dir` without a `root` (ValueError on every request), so `migrate`
/// adds `root = os.getcwd()`, which CherryPy's config evaluates at startup; an absolute
/// directory (POSIX or Windows) gets no root.
#[test]
fn a_relative_2_0_static_directory_is_read_from_the_working_directory() {
    let text = "[session]\nstorageType = ram\n[staticContent]\nstatic = static\nimages = /srv/img\nwin = C:\\www\n";
    let m = migrate_text(text).unwrap();
    let section = |url: &str| {
        let start = m.text.find(&format!("[{url}]\n")).expect(url);
        let rest = &m.text[start + url.len() + 3..];
        rest[..rest.find("\n[").unwrap_or(rest.len())].to_owned()
    };
    assert!(
        section("/static")
            .contains("tools.staticdir.dir = \"static\"\ntools.staticdir.root = os.getcwd()\n"),
        "{}",
        m.text
    );
    assert!(!section("/images").contains("root"), "{}", m.text);
    assert!(!section("/win").contains("root"), "{}", m.text);
    // Read as CherryPy reads it (`os.getcwd()` is one of the calls computed, as CherryPy's
    // config evaluates it): the root is an absolute path.
    let report = actix_cherrypy::config::read_source(&SourceFile::new("m.conf", m.text.as_str()));
    let file = report.file.expect("the migrated file reads");
    let root = &file.sections()["/static"]
        .get("tools.staticdir.root")
        .unwrap()
        .value;
    assert!(
        matches!(&**root, actix_cherrypy::unrepr::Value::Str(s) if s.starts_with('/')),
        "{root:?}"
    );
}

/// cherrypy-2.0.0 compared each `[staticContent]` key with the request path stripped of its
/// leading and trailing `/` (`path == urlDir or path[:len(urlDir)+1] == urlDir + '/'`), so
/// a key that starts or ends with `/` matched no request: 2.0 never served it, and kept
/// sessions on there. `migrate` comments it out, and it and `explain` say why in the same
/// words; a key without the outer slashes is served, lower-cased.
#[test]
fn a_2_0_static_key_with_outer_slashes_was_never_served() {
    let text = "[session]\nstorageType = ram\n[staticContent]\n/images = /srv/img\ncss/ = /srv/css\nStatic = /srv/s\n";
    let m = migrate_text(text).unwrap();
    assert!(
        m.text.contains("# /images = /srv/img  (not carried over"),
        "{}",
        m.text
    );
    assert!(
        m.text.contains("# css/ = /srv/css  (not carried over"),
        "{}",
        m.text
    );
    assert!(
        !m.text.contains("[/images]") && !m.text.contains("[/css]"),
        "{}",
        m.text
    );
    assert!(
        m.text.contains("[/static]\ntools.staticdir.on = True"),
        "{}",
        m.text
    );
    let never = |warnings: &[actix_cherrypy::Diagnostic]| -> Vec<(usize, String)> {
        warnings
            .iter()
            .filter(|d| d.code == "legacy-static-never-served")
            .map(|d| (d.line_column().unwrap().0, d.message.clone()))
            .collect()
    };
    let migrated = never(&m.warnings);
    assert_eq!(
        migrated.iter().map(|w| w.0).collect::<Vec<_>>(),
        [4, 5],
        "{:?}",
        m.warnings
    );
    let source = SourceFile::new("t.conf", text);
    let explained =
        actix_cherrypy::session_config::SessionConfigs::from_sources(&[source]).unwrap();
    assert_eq!(never(&explained.warnings), migrated, "the same words");
    let configs = &explained.value;
    assert!(
        configs.session_for_path("/images/a.png").on.value,
        "2.0 kept sessions on there"
    );
    assert!(!configs.session_for_path("/static/a.css").on.value);
}

/// `ConfigParser.options(section)` (Python 2) returns the section's keys and `[DEFAULT]`'s
/// (`opts.update(self._defaults)`, `__name__` removed), and `parseConfigFile`
/// (cherrypy-2.0.0) took every name `options('staticContent')` listed as a static URL, read
/// with `get`, which falls back to `[DEFAULT]` too. So in a file with `[staticContent]`,
/// `[DEFAULT] base = /srv/shop` also served `/base` from `/srv/shop` (here the session files
/// with it); a `[staticContent]` key of the same name wins. `migrate` does not carry that URL
/// over, and says so at the `[DEFAULT]` line.
#[test]
fn a_2_0_default_key_was_also_a_static_url() {
    let text = "[DEFAULT]\nbase = /srv/shop\nStatic = x\n[session]\nstorageType = file\nstorageFileDir = %(base)s/sessions\n[staticContent]\nstatic = %(base)s/static\n";
    let m = migrate_text(text).unwrap();
    let at = |line: usize| {
        m.warnings
            .iter()
            .filter(|d| d.line_column().map(|l| l.0) == Some(line))
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(at(2).contains("static URL /base"), "{:?}", m.warnings);
    // `static` is `[staticContent]`'s own key: the `[DEFAULT]` one never was a URL.
    assert!(!at(3).contains("static URL"), "{:?}", m.warnings);
    // Without `[staticContent]`, `options('staticContent')` raised and 2.0 served nothing.
    let m = migrate_text("[DEFAULT]\nbase = /srv\n[session]\nstorageType = ram\n").unwrap();
    assert!(
        m.warnings.iter().all(|d| !d.message.contains("static URL")),
        "{:?}",
        m.warnings
    );
}
