//! The crate's modules depend on each other one way (ARCHITECTURE.md): no two top-level
//! modules, and no two files of one module, import each other, directly or round a loop.
//! A loop means neither side can be read, tested or changed without the other.
//!
//! Read from the source: every `crate::a::b` and `super::b` path in a file outside its tests
//! is an edge from that file's module to the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module path of a source file (`src/store/pickle/mod.rs` → `store::pickle`).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// A file's code without its comments and its `#[cfg(test)] mod tests`.
fn code_of(text: &str) -> String {
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every non-test file's module and the modules its code names.
fn edges() -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // `](crate::…)` is a link in a string (docs generated from a table), not a use.
    let path = Regex::new(r"(^|[^(\w])(crate|super)((?:::[a-z_][a-z0-9_]*)+)").unwrap();
    // `use super::{lexer::Token, parser}`: each item's first name.
    let group = Regex::new(r"(^|[^(\w])(crate|super)::\{([^}]*)\}").unwrap();
    let mut out = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().path();
            let relative = file.strip_prefix(&src).unwrap().to_path_buf();
            if file.is_dir() {
                if relative != Path::new("bin") {
                    dirs.push(file);
                }
                continue;
            }
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".rs") || name == "tests.rs" || name == "proptests.rs" {
                continue;
            }
            let module = module_of(&relative);
            let code = code_of(&std::fs::read_to_string(&file).unwrap());
            let named = path
                .captures_iter(&code)
                .map(|c| (c.get(2).unwrap().as_str(), c[3][2..].to_owned()))
                .chain(group.captures_iter(&code).flat_map(|c| {
                    let root = c.get(2).unwrap().as_str();
                    c[3].split(',')
                        .map(|item| item.trim().to_owned())
                        .filter(|item| item.starts_with(|c: char| c.is_ascii_lowercase()))
                        .map(move |item| (root, item))
                        .collect::<Vec<_>>()
                }));
            let targets = named
                .map(|(root, named)| {
                    let named = named.split("::").map(str::to_owned);
                    match root {
                        "crate" => named.collect(),
                        _ => {
                            let mut parent = module[..module.len().saturating_sub(1)].to_vec();
                            parent.extend(named);
                            parent
                        }
                    }
                })
                .collect();
            out.push((module, targets));
        }
    }
    out
}

/// The graph among the children of `parent` (top-level modules for an empty parent): an
/// edge from child `a` to child `b` when a file in `a` names something in `b`.
fn children_graph(parent: &[String], edges: &[(Vec<String>, Vec<Vec<String>>)]) -> Graph {
    let depth = parent.len();
    let mut graph = Graph::new();
    for (module, targets) in edges {
        if module.len() <= depth || module[..depth] != *parent {
            continue;
        }
        for target in targets {
            if target.len() > depth && target[..depth] == *parent && target[depth] != module[depth]
            {
                graph
                    .entry(module[depth].clone())
                    .or_default()
                    .insert(target[depth].clone());
            }
        }
    }
    graph
}

/// A loop in `graph`, if it has one.
fn find_loop(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_modules_import_each_other() {
    let edges = edges();
    let parents: BTreeSet<Vec<String>> = edges
        .iter()
        .flat_map(|(module, _)| (0..module.len()).map(|n| module[..n].to_vec()))
        .collect();
    assert!(parents.len() > 5, "the source was not found: {parents:?}");
    let loops: Vec<String> = parents
        .iter()
        .filter_map(|parent| {
            let cycle = find_loop(&children_graph(parent, &edges))?;
            let place = match parent.is_empty() {
                true => "the top-level modules".to_owned(),
                false => format!("`crate::{}`", parent.join("::")),
            };
            Some(format!("in {place}: {}", cycle.join(" → ")))
        })
        .collect();
    assert!(
        loops.is_empty(),
        "modules that import each other:\n{}",
        loops.join("\n")
    );
}

#[test]
fn a_loop_is_found() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .fold(Graph::new(), |mut g, (from, to)| {
            g.entry(from.into()).or_default().insert(to.into());
            g
        });
    let cycle = find_loop(&graph).expect("a → b → c → a");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    let mut acyclic = graph;
    acyclic.remove("c");
    assert_eq!(find_loop(&acyclic), None);
}
