//! Our reading of every fixture and every real-world corpus file against real CherryPy 18.10's
//! (`compat/oracle.py`), value by value. Differences are allowed only where
//! `compat/divergences.tsv` lists them with a reason; a listed divergence that no longer
//! happens fails too, so the list stays true.
//!
//! Needs `compat/setup.sh` to have run (the README's test command does it). It fails, rather
//! than skipping, when the oracle or the corpus is missing.

#![allow(clippy::print_stdout)]

mod oracle;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use actix_cherrypy::config::SourceFile;
use actix_cherrypy::config::{self, error_json};
use anyhow::{Result, bail};
use oracle::{conf_files, corpus_or_skip, root};
use serde_json::Value as Json;

/// Our JSON reading, exactly what `cherrypy-config dump --format json` prints.
fn ours(path: &Path, name: &str) -> Json {
    match SourceFile::read(path) {
        Ok(source) => config::report_json(name, &config::read_source(&source)),
        Err(err) => error_json(name, &err.into()),
    }
}

/// `file<TAB>kind<TAB>reason`; kind is `cherrypy-error` (real CherryPy fails where we read the
/// file, e.g. it imports a site module) or `reading` (our reading differs on purpose).
fn divergences() -> Result<BTreeMap<(String, String), String>> {
    let text = std::fs::read_to_string(root().join("compat/divergences.tsv"))?;
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = line.splitn(3, '\t');
        let (Some(file), Some(kind), Some(reason)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("compat/divergences.tsv: bad line {line:?}");
        };
        if reason.trim().is_empty() {
            bail!("compat/divergences.tsv: {file} has no reason");
        }
        out.insert((file.to_owned(), kind.to_owned()), reason.to_owned());
    }
    Ok(out)
}

/// Floats compare by Python's repr; everything else structurally.
fn same_value(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) if x.get("type") == Some(&"float".into()) => {
            x.get("repr") == y.get("repr")
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_value(v, w))
        }
        _ => a == b,
    }
}

fn difference(ours: &Json, theirs: &Json) -> Option<String> {
    if ours["ok"] != theirs["ok"] {
        return Some(format!(
            "ok differs\n  ours:      {ours}\n  cherrypy:  {theirs}"
        ));
    }
    if ours["ok"] == true {
        // Key order matters (CherryPy's order), so compare as ordered lists.
        let list = |j: &Json| -> Vec<(String, Vec<(String, Json)>)> {
            j["sections"]
                .as_object()
                .map(|s| {
                    s.iter()
                        .map(|(k, v)| {
                            let keys = v
                                .as_object()
                                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                            (k.clone(), keys.unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (a, b) = (list(ours), list(theirs));
        if a.len() != b.len() || a.iter().zip(&b).any(|(x, y)| x.0 != y.0) {
            return Some(format!(
                "sections differ: ours {:?}, cherrypy {:?}",
                a.iter().map(|s| &s.0).collect::<Vec<_>>(),
                b.iter().map(|s| &s.0).collect::<Vec<_>>()
            ));
        }
        for ((section, x), (_, y)) in a.iter().zip(&b) {
            let xk: Vec<_> = x.iter().map(|e| &e.0).collect();
            let yk: Vec<_> = y.iter().map(|e| &e.0).collect();
            if xk != yk {
                return Some(format!(
                    "[{section}] keys differ: ours {xk:?}, cherrypy {yk:?}"
                ));
            }
            for ((key, v), (_, w)) in x.iter().zip(y) {
                if !same_value(v, w) {
                    return Some(format!(
                        "[{section}] {key}:\n  ours:     {v}\n  cherrypy: {w}"
                    ));
                }
            }
        }
        return None;
    }
    let (e, f) = (&ours["error"], &theirs["error"]);
    // Python places value errors at the start of the failing AST node; we point at the
    // operator, index or key that is wrong (fixtures/expected-errors.tsv checks ours).
    let value_error = e["code"]
        .as_str()
        .is_some_and(|c| c.starts_with("value-") || c == "unsupported-expression");
    let column_differs = !value_error
        && !e["column"].is_null()
        && !f["column"].is_null()
        && e["column"] != f["column"];
    (e["code"] != f["code"] || e["line"] != f["line"] || column_differs)
        .then(|| format!("error differs\n  ours:     {e}\n  cherrypy: {f}"))
}

#[test]
fn every_fixture_and_corpus_file_reads_as_cherrypy_reads_it() -> Result<()> {
    let mut paths = conf_files(&root().join("fixtures"));
    let fixtures = paths.len();
    let Some(corpus) = corpus_or_skip("every_fixture_and_corpus_file_reads_as_cherrypy_reads_it")
    else {
        return Ok(());
    };
    paths.extend(conf_files(&corpus));
    let corpus_count = paths.len() - fixtures;
    if fixtures == 0 || corpus_count == 0 {
        bail!("nothing to compare: {fixtures} fixtures, {corpus_count} corpus files");
    }
    paths.sort();
    let theirs = oracle::run(&paths)?;
    // Files are named in results by their path under the repo, or `corpus/NAME`.
    let named: Vec<(PathBuf, String)> = paths
        .into_iter()
        .map(|p| {
            let name = match p.strip_prefix(&corpus) {
                Ok(_) => format!("corpus/{}", p.file_name().unwrap().to_string_lossy()),
                Err(_) => p.strip_prefix(root()).unwrap_or(&p).display().to_string(),
            };
            (p, name)
        })
        .collect();
    let listed = divergences()?;
    let mut used = Vec::new();
    let mut failures = Vec::new();
    for ((path, name), theirs) in named.iter().zip(&theirs) {
        let ours = ours(path, name);
        let diff = difference(&ours, theirs);
        if let Some(diff) = diff {
            let key = (name.clone(), "reading".to_owned());
            if listed.contains_key(&key) {
                used.push(key);
            } else {
                failures.push(format!("{name}: {diff}"));
            }
        }
        if let Some(error) = theirs.get("cherrypy_error") {
            let key = (name.clone(), "cherrypy-error".to_owned());
            if listed.contains_key(&key) {
                used.push(key);
            } else {
                failures.push(format!(
                    "{name}: real CherryPy fails ({error}) where we read the file; list it in compat/divergences.tsv with the reason"
                ));
            }
        }
    }
    for key in listed.keys() {
        if !used.contains(key) {
            failures.push(format!(
                "{} ({}): listed as a divergence but reads the same; remove it",
                key.0, key.1
            ));
        }
    }
    println!(
        "compared {} files with CherryPy 18.10 ({fixtures} fixtures, {corpus_count} corpus files); {} listed divergences",
        named.len(),
        listed.len()
    );
    if !failures.is_empty() {
        bail!(
            "{} difference(s) from CherryPy:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    Ok(())
}
