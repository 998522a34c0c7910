//! The config files we hold up against real CherryPy 18 (the fixtures and the real-world
//! corpus), and its reading of them by `compat/oracle.py`.

#![allow(dead_code)] // each test file uses part of it

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

#[path = "../support/venv.rs"]
mod venv;

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real-world corpus: `$CHERRYPY_CORPUS`, else `../shared/corpus/real` beside the repo.
pub(crate) fn corpus_dir() -> PathBuf {
    std::env::var_os("CHERRYPY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpus/real"))
}

/// The corpus directory, or `None` (with a message saying why the test is skipped) on a
/// plain clone without it. `.ci/run` sets `ACTIX_CHERRYPY_REQUIRE_CORPUS=1`, which turns
/// the skip into a failure, so CI never passes without the corpus.
pub(crate) fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var_os("ACTIX_CHERRYPY_REQUIRE_CORPUS").is_some_and(|v| v == "1");
    assert!(
        !required,
        "{test}: the real-world corpus {} is missing (set CHERRYPY_CORPUS), and \
         ACTIX_CHERRYPY_REQUIRE_CORPUS=1 makes it required",
        dir.display()
    );
    // Straight to the process's stderr: the test harness captures `eprintln!` of a passing
    // test, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: the real-world corpus {} is missing (a plain clone; set \
         CHERRYPY_CORPUS to run it)",
        dir.display()
    );
    None
}

/// Every `.conf` file of the corpus, or none (announced, see [`corpus_or_skip`]) on a plain
/// clone.
pub(crate) fn corpus_files_or_skip(test: &str) -> Vec<PathBuf> {
    corpus_or_skip(test).map_or_else(Vec::new, |dir| conf_files(&dir))
}

/// Every `.conf` file under `dir`, sorted.
pub(crate) fn conf_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(conf_files(&path));
        } else if path.extension().is_some_and(|e| e == "conf") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Real CherryPy's reading of each file, one JSON value a file, in order.
pub(crate) fn run(files: &[PathBuf]) -> Result<Vec<Json>> {
    let python = venv::venv_python();
    let output = Command::new(&python)
        .arg(root().join("compat/oracle.py"))
        .args(files)
        .output()
        .context("running compat/oracle.py")?;
    if !output.status.success() {
        bail!("oracle failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let lines: Vec<Json> = String::from_utf8(output.stdout)?
        .lines()
        .map(parse_json)
        .collect::<Result<_, _>>()?;
    if lines.len() != files.len() {
        bail!(
            "oracle printed {} lines for {} files",
            lines.len(),
            files.len()
        );
    }
    Ok(lines)
}

/// Values nest as deep as Python allows (200 brackets), past serde_json's default limit.
fn parse_json(line: &str) -> serde_json::Result<Json> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_str(line);
    de.disable_recursion_limit();
    Json::deserialize(&mut de)
}
