//! Dict keys as Python compares them: each key the machine meets gets an [`HKey`], equal
//! for keys Python finds equal (`1`, `1.0` and `True`; tuples item by item), so `SETITEM`
//! merges keys as `dict` does, at O(1) per key however large the key.

use super::{Machine, held};
use crate::limits::MAX_SESSION_DEPTH;
use crate::store::pickle::PickleError;
use crate::store::pickle::keys::HKey;
use crate::store::pickle::objects::{KeyProblem, Node, Obj, TupleKey, kind, outside};

impl Machine {
    pub(super) fn tuple(&mut self, items: Vec<Obj>) {
        let key = self.tuple_key(&items);
        self.push_node(Node::Tuple(items, key));
    }

    /// A new tuple's key, from its items' (a tuple in it already has its own).
    fn tuple_key(&mut self, items: &[Obj]) -> Result<TupleKey, KeyProblem> {
        let mut keys = Vec::with_capacity(items.len());
        let mut height = 1;
        for item in items {
            let (key, h) = match item {
                Obj::Tuple(id) => match &self.arena[*id] {
                    Node::Tuple(_, key) => {
                        let key = (*key)?;
                        (key.key, key.height)
                    }
                    _ => unreachable!("arena kinds match their handles"),
                },
                Obj::List(_) => return Err(KeyProblem::Unhashable("a list")),
                Obj::Dict(_) => return Err(KeyProblem::Unhashable("a dict")),
                scalar => (
                    self.scalar_key(scalar)
                        .ok_or(KeyProblem::Outside(kind(scalar)))?,
                    1,
                ),
            };
            keys.push(key);
            height = height.max(h.saturating_add(1));
        }
        Ok(TupleKey {
            key: self.keys.tuple(keys.into()),
            height,
        })
    }

    /// The key of a value that is not a container; `None` outside the data model.
    fn scalar_key(&mut self, obj: &Obj) -> Option<HKey> {
        Some(match obj {
            Obj::None => HKey::None,
            Obj::Bool(b) => HKey::Int(i64::from(*b)),
            Obj::Int(i) => HKey::Int(*i),
            Obj::Big(b) => self.keys.big(b),
            Obj::Float(f) => self.keys.float(*f),
            Obj::Str(s) => self.keys.str(s),
            Obj::Bytes(b) => self.keys.bytes(b),
            _ => return None,
        })
    }

    pub(super) fn set_items(&mut self, pairs: Vec<Obj>) -> Result<(), PickleError> {
        if !pairs.len().is_multiple_of(2) {
            return Err(self.err("SETITEMS with an odd number of items"));
        }
        let id = match *self.top()? {
            Obj::Dict(id) => id,
            ref other => return Err(self.err(format!("SETITEM on {}", kind(other)))),
        };
        let before = held::contents(&self.arena[id]);
        let mut it = pairs.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let h = self.hkey(&k)?;
            let Node::Dict(dict) = &mut self.arena[id] else {
                unreachable!("arena kinds match their handles")
            };
            dict.set(h, k, v);
        }
        self.contents += held::contents(&self.arena[id]) - before;
        Ok(())
    }

    /// A dict key as Python compares it: O(1) for a key met before, however large.
    fn hkey(&mut self, key: &Obj) -> Result<HKey, PickleError> {
        match key {
            Obj::Tuple(id) => match &self.arena[*id] {
                Node::Tuple(_, Ok(key)) if key.height > MAX_SESSION_DEPTH => {
                    Err(PickleError::TooDeep(MAX_SESSION_DEPTH))
                }
                Node::Tuple(_, Ok(key)) => Ok(key.key),
                Node::Tuple(_, Err(KeyProblem::Unhashable(what))) => {
                    Err(PickleError::UnhashableKey(what))
                }
                Node::Tuple(_, Err(KeyProblem::Outside(what))) => {
                    Err(PickleError::OutsideModel((*what).to_owned()))
                }
                _ => unreachable!("arena kinds match their handles"),
            },
            Obj::List(_) => Err(PickleError::UnhashableKey("a list")),
            Obj::Dict(_) => Err(PickleError::UnhashableKey("a dict")),
            other => self.scalar_key(other).ok_or_else(|| outside(other)),
        }
    }
}
