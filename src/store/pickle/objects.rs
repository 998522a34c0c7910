//! What the unpickler works with: the values on its stack, and the containers they share
//! through an arena.

use std::collections::HashMap;
use std::rc::Rc;

use chrono::NaiveDateTime;
use foldhash::fast::RandomState;
use num_bigint::BigInt;

use super::PickleError;
use super::keys::HKey;

/// A value on the unpickler's stack. Containers live in the arena and are shared by index,
/// as Python shares them by reference (memo `GET` of a list that is filled later must see
/// the later items).
#[derive(Clone, Debug)]
pub(super) enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Big(Rc<BigInt>),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    /// A non-ASCII Python 2 `str`: only usable as a datetime's state.
    Py2Bytes(Rc<[u8]>),
    List(usize),
    Tuple(usize),
    Dict(usize),
    DateTime(NaiveDateTime),
    Global(Global),
}

/// The only globals a session pickle may name.
#[derive(Clone, Copy, Debug)]
pub(super) enum Global {
    DateTime,
    CodecsEncode,
    Bytes,
    ByteArray,
}

impl Global {
    pub(super) fn resolve(module: &str, name: &str, proto: u8) -> Result<Self, PickleError> {
        // Python maps Python 2 module names only for protocols 0-2 (`fix_imports`).
        let mapped = if proto < 3 && module == "__builtin__" {
            "builtins"
        } else {
            module
        };
        match (mapped, name) {
            ("datetime", "datetime") => Ok(Global::DateTime),
            ("_codecs", "encode") => Ok(Global::CodecsEncode),
            ("builtins", "bytes") => Ok(Global::Bytes),
            ("builtins", "bytearray") => Ok(Global::ByteArray),
            _ => Err(PickleError::ForbiddenGlobal {
                module: module.to_owned(),
                name: name.to_owned(),
            }),
        }
    }
}

pub(super) enum Node {
    List(Vec<Obj>),
    /// A tuple never changes once built, so its key is worked out then, once.
    Tuple(Vec<Obj>, Result<TupleKey, KeyProblem>),
    Dict(Dict),
}

/// Why a tuple cannot be a dict key.
#[derive(Clone, Copy)]
pub(super) enum KeyProblem {
    /// It holds a list or a dict (their kind).
    Unhashable(&'static str),
    /// It holds something outside the data model (its kind).
    Outside(&'static str),
}

/// A hashable tuple's key, and how deep it nests (itself included).
#[derive(Clone, Copy)]
pub(super) struct TupleKey {
    pub(super) key: HKey,
    pub(super) height: usize,
}

pub(super) fn kind(obj: &Obj) -> &'static str {
    match obj {
        Obj::None => "None",
        Obj::Bool(_) => "a bool",
        Obj::Int(_) | Obj::Big(_) => "an int",
        Obj::Float(_) => "a float",
        Obj::Str(_) => "a str",
        Obj::Bytes(_) => "a bytes",
        Obj::Py2Bytes(_) => "a non-ASCII Python 2 str",
        Obj::List(_) => "a list",
        Obj::Tuple(_) => "a tuple",
        Obj::Dict(_) => "a dict",
        Obj::DateTime(_) => "a datetime.datetime",
        Obj::Global(Global::DateTime) => "the class datetime.datetime",
        Obj::Global(Global::CodecsEncode) => "the function _codecs.encode",
        Obj::Global(Global::Bytes) => "the class bytes",
        Obj::Global(Global::ByteArray) => "the class bytearray",
    }
}

pub(super) fn outside(obj: &Obj) -> PickleError {
    PickleError::OutsideModel(kind(obj).to_owned())
}

/// A dict's items and their keys.
#[derive(Default)]
pub(super) struct Dict {
    pub(super) items: Vec<(Obj, Obj)>,
    /// Python's key equality, so a repeated key replaces the value and keeps the first
    /// key's place, as `dict.__setitem__` does.
    keys: DictKeys,
}

/// The keys of a dict, by the place of their item.
enum DictKeys {
    /// A small dict's, searched in order: a session's dicts are mostly small, and a hash
    /// table each would cost more than the rest of the decoding.
    Small(Vec<HKey>),
    /// A larger one's, where a search in order would be quadratic. Boxed, so that every
    /// dict (and every node of the decoder's arena) is the size of a small one.
    #[allow(clippy::box_collection)] // the map is 40 bytes inline; the box keeps this at 24
    Index(Box<HashMap<HKey, usize, RandomState>>),
}

impl Default for DictKeys {
    fn default() -> Self {
        DictKeys::Small(Vec::new())
    }
}

/// Keys a dict holds in [`DictKeys::Small`] before they move to [`DictKeys::Index`].
const SMALL_DICT: usize = 16;

impl Dict {
    /// What the keys hold on the heap, in bytes, where a key is `key` bytes: a vector's
    /// capacity, or a map's with a byte of control and its place per entry.
    pub(super) fn keys_held(&self, key: usize) -> usize {
        match &self.keys {
            DictKeys::Small(keys) => keys.capacity() * key,
            DictKeys::Index(index) => {
                std::mem::size_of::<HashMap<HKey, usize, RandomState>>()
                    + index.capacity() * (key + std::mem::size_of::<usize>() + 1)
            }
        }
    }

    /// Where `key` is in `items`.
    fn position(&self, key: &HKey) -> Option<usize> {
        match &self.keys {
            DictKeys::Small(keys) => keys.iter().position(|k| k == key),
            DictKeys::Index(index) => index.get(key).copied(),
        }
    }

    /// Sets `key` (the `HKey` of `k`) to `v`.
    pub(super) fn set(&mut self, key: HKey, k: Obj, v: Obj) {
        if let Some(i) = self.position(&key) {
            self.items[i].1 = v;
            return;
        }
        match &mut self.keys {
            DictKeys::Small(keys) if keys.len() < SMALL_DICT => keys.push(key),
            DictKeys::Small(keys) => {
                let mut index: HashMap<HKey, usize, RandomState> =
                    keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
                index.insert(key, self.items.len());
                self.keys = DictKeys::Index(Box::new(index));
            }
            DictKeys::Index(index) => {
                index.insert(key, self.items.len());
            }
        }
        self.items.push((k, v));
    }
}
