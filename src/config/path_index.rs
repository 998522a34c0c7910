//! Sections keyed by path segments, so that finding the sections a request path names costs
//! one step per segment of the path.
//!
//! Looking each prefix of a path up by its text hashes the whole prefix every time: a path
//! of n segments hashes n prefixes of average length n/2, and a 60 KB path of `/a` segments
//! costs a quarter of a second (and, with a copy of each prefix, gigabytes). Walking a tree
//! of segments instead hashes each segment once and allocates nothing, whatever the path.

use std::collections::HashMap;

/// A tree whose edges are path segments; a node may hold a value (the section whose name is
/// the segments from the root to it).
#[derive(Debug, Clone)]
pub(crate) struct PathIndex<T> {
    nodes: Vec<Node<T>>,
}

#[derive(Debug, Clone)]
struct Node<T> {
    /// Keyed by segment; `std`'s hasher is seeded per process, so segments chosen by a
    /// client cannot be made to collide.
    children: HashMap<Box<str>, usize>,
    value: Option<T>,
}

impl<T> Node<T> {
    fn new() -> Self {
        Self {
            children: HashMap::new(),
            value: None,
        }
    }
}

impl<T> Default for PathIndex<T> {
    fn default() -> Self {
        Self {
            nodes: vec![Node::new()],
        }
    }
}

impl<T> PathIndex<T> {
    /// Puts `value` at the node the segments lead to (replacing what was there).
    pub(crate) fn insert<'s>(&mut self, segments: impl IntoIterator<Item = &'s str>, value: T) {
        let mut at = 0;
        for segment in segments {
            at = match self.nodes[at].children.get(segment) {
                Some(&child) => child,
                None => {
                    let child = self.nodes.len();
                    self.nodes.push(Node::new());
                    self.nodes[at].children.insert(segment.into(), child);
                    child
                }
            };
        }
        self.nodes[at].value = Some(value);
    }

    /// The values met on the way down the segments, shallowest first, each with the number
    /// of segments that lead to it. The walk stops at the first segment the tree does not
    /// have, so it costs at most one hash of each segment and allocates nothing.
    pub(crate) fn along<'p, I>(&self, segments: I) -> Along<'_, T, I::IntoIter>
    where
        I: IntoIterator<Item = &'p str>,
    {
        Along {
            index: self,
            at: Some(0),
            depth: 0,
            segments: segments.into_iter(),
        }
    }

    /// The value at the end of the deepest prefix of the segments that has one.
    pub(crate) fn deepest<'p>(&self, segments: impl IntoIterator<Item = &'p str>) -> Option<&T> {
        self.along(segments).last().map(|(_, value)| value)
    }
}

/// The iterator of [`PathIndex::along`].
pub(crate) struct Along<'s, T, I> {
    index: &'s PathIndex<T>,
    /// The node reached so far; `None` once a segment has no node.
    at: Option<usize>,
    depth: usize,
    segments: I,
}

impl<'s, 'p, T, I: Iterator<Item = &'p str>> Iterator for Along<'s, T, I> {
    type Item = (usize, &'s T);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let at = self.at?;
            let Some(segment) = self.segments.next() else {
                self.at = None;
                return None;
            };
            #[cfg(test)]
            steps::count();
            let next = self.index.nodes[at].children.get(segment).copied();
            self.at = next;
            self.depth += 1;
            if let Some(value) = next.and_then(|n| self.index.nodes[n].value.as_ref()) {
                return Some((self.depth, value));
            }
        }
    }
}

/// How many segments the walks of this thread have looked at: lets tests show that a
/// lookup takes one step per segment.
#[cfg(test)]
pub(crate) mod steps {
    use std::cell::Cell;

    thread_local! {
        static STEPS: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn count() {
        STEPS.with(|s| s.set(s.get() + 1));
    }

    /// The steps taken by `f`.
    pub(crate) fn taken(f: impl FnOnce()) -> usize {
        let before = STEPS.with(Cell::get);
        f();
        STEPS.with(Cell::get) - before
    }
}

/// The segments of a path as CherryPy 3's dispatcher takes them: empty ones dropped.
pub(crate) fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The segments of [`super::path_prefixes`]: the path's, then the implicit `index`.
pub(crate) fn segments_with_index(path: &str) -> impl Iterator<Item = &str> {
    segments(path).chain(std::iter::once("index"))
}

/// Whether a section name is what [`super::path_prefixes`] could produce: `/` followed by
/// non-empty segments, so the name is found by [`segments`] of its own. `[/admin/]` or
/// `[/a//b]` are not: CherryPy 3 never applies them.
pub(crate) fn is_canonical(name: &str) -> bool {
    name.len() > 1 && name.starts_with('/') && segments(name).count() == name.matches('/').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn along_yields_each_value_on_the_way_down() {
        let mut index = PathIndex::default();
        index.insert(["a"], 1);
        index.insert(["a", "b", "c"], 3);
        index.insert(["x"], 9);
        let found: Vec<_> = index.along(["a", "b", "c", "d"]).collect();
        assert_eq!(found, [(1, &1), (3, &3)]);
        assert_eq!(index.deepest(["a", "b"]), Some(&1));
        assert_eq!(index.deepest(["b"]), None);
    }

    #[test]
    fn a_walk_stops_where_the_tree_ends() {
        let mut index = PathIndex::default();
        index.insert(["a"], ());
        let path = "/a".repeat(30_000);
        let steps = steps::taken(|| {
            index.deepest(segments(&path));
        });
        assert_eq!(steps, 2);
    }

    #[test]
    fn canonical_names() {
        for name in ["/a", "/a/b", "/index"] {
            assert!(is_canonical(name), "{name}");
        }
        for name in ["/", "/a/", "//a", "/a//b", "a", ""] {
            assert!(!is_canonical(name), "{name}");
        }
    }
}
