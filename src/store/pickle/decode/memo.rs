//! The unpickler's memo. Python's picklers number memo entries 0, 1, 2, ... in order, so
//! entries live in a vector by their index, at the size of the value alone; an index past
//! the end (which no pickler writes, but a hostile store may) goes to a map.

use std::collections::HashMap;

use crate::store::pickle::objects::Obj;

#[derive(Default)]
pub(super) struct Memo {
    /// Entries `0..dense.len()`, which the map never holds.
    dense: Vec<Obj>,
    /// Every other index.
    sparse: HashMap<u64, Obj, foldhash::fast::RandomState>,
}

/// What one entry holds, in bytes: a vector's slot, or a map's entry with its control
/// byte, the room a map keeps free (up to half of it) and the old table it copies from
/// while it doubles.
pub(super) const DENSE_ENTRY: usize = std::mem::size_of::<Obj>();
pub(super) const SPARSE_ENTRY: usize = 3 * (std::mem::size_of::<(u64, Obj)>() + 1);

impl Memo {
    /// Distinct indices set: the index `MEMOIZE` gives, as in Python.
    pub(super) fn len(&self) -> usize {
        self.dense.len() + self.sparse.len()
    }

    /// The memory the entries hold, in bytes (see [`DENSE_ENTRY`]).
    pub(super) fn held(&self) -> usize {
        self.dense.len() * DENSE_ENTRY + self.sparse.len() * SPARSE_ENTRY
    }

    pub(super) fn insert(&mut self, index: u64, obj: Obj) {
        let at = usize::try_from(index).unwrap_or(usize::MAX);
        if let Some(slot) = self.dense.get_mut(at) {
            *slot = obj;
        } else if at == self.dense.len() && !self.sparse.contains_key(&index) {
            self.dense.push(obj);
        } else {
            self.sparse.insert(index, obj);
        }
    }

    pub(super) fn get(&self, index: u64) -> Option<&Obj> {
        let at = usize::try_from(index).unwrap_or(usize::MAX);
        self.dense.get(at).or_else(|| self.sparse.get(&index))
    }
}
