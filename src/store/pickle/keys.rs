//! Dict keys as Python compares them, at a cost that does not grow with sharing.
//!
//! A pickle can name one str, or one tuple of tuples, many times through its memo; hashing
//! or comparing such a key by content each time it is used would cost its expanded size
//! per use (a tuple built from itself doubles per level). So every str, bytes, big int and
//! tuple key is interned once, by content, into a small number, and each later use of the
//! same object finds that number by identity: a key costs its own bytes once, then O(1).

use std::collections::HashMap;
use std::rc::Rc;

use foldhash::fast::RandomState;
use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};

/// A dict key, reduced to what Python's `==` and `hash` see (`1 == 1.0 == True`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(super) enum HKey {
    None,
    Int(i64),
    Float(u64),
    /// NaN equals nothing, not even another NaN.
    Unique(usize),
    /// An interned str, bytes, big int or tuple.
    Interned(usize),
}

/// What is interned: equal contents get one number.
#[derive(Clone, Hash, PartialEq, Eq)]
enum Content {
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Big(Rc<BigInt>),
    /// The keys of a tuple's items.
    Tuple(Box<[HKey]>),
}

/// The longest str or bytes found by content each time it is met, at the cost of an
/// opcode or two, rather than by address: a table entry per object would cost more than
/// the object (tuples of protocol 0-2 bytes values each hold a short str).
const SHORT: usize = 64;

/// The interner. Objects met again (the same `Rc`) are found by address; the map keeps a
/// clone of each, so no address is reused while the decoding lasts.
#[derive(Default)]
pub(super) struct Keys {
    by_content: HashMap<Content, usize, RandomState>,
    by_address: HashMap<usize, (Content, usize), RandomState>,
    nans: usize,
    /// Bytes hashed and items keyed: the work interning did, for the decoder's count.
    pub(super) work: u64,
    /// What the two maps hold, in bytes: each entry with a byte of control and the room a
    /// map keeps free (up to half, as it doubles), and a tuple's item keys.
    pub(super) held: usize,
}

/// What an entry of a map from `K` to `V` holds, with its control byte and the free room.
const fn map_entry<K, V>() -> usize {
    2 * (std::mem::size_of::<(K, V)>() + 1)
}

impl Keys {
    fn intern(&mut self, content: Content) -> HKey {
        let next = self.by_content.len();
        let items = match &content {
            Content::Tuple(keys) => std::mem::size_of_val::<[HKey]>(keys),
            _ => 0,
        };
        let id = *self.by_content.entry(content).or_insert(next);
        if id == next {
            self.held += map_entry::<Content, usize>() + items;
        }
        HKey::Interned(id)
    }

    /// The key of a shared object, found by its address after the first time.
    /// The key of a shared object (its address, the cost of hashing its content, the
    /// content), found by address after the first time.
    fn shared(&mut self, address: usize, cost: u64, content: impl FnOnce() -> Content) -> HKey {
        if let Some(&(_, id)) = self.by_address.get(&address) {
            self.work += 1;
            return HKey::Interned(id);
        }
        self.work += cost + 1;
        let content = content();
        let HKey::Interned(id) = self.intern(content.clone()) else {
            unreachable!("intern returns an interned key")
        };
        self.by_address.insert(address, (content, id));
        self.held += map_entry::<usize, (Content, usize)>();
        HKey::Interned(id)
    }

    pub(super) fn str(&mut self, s: &Rc<str>) -> HKey {
        if s.len() <= SHORT {
            self.work += s.len() as u64 + 1;
            return self.intern(Content::Str(s.clone()));
        }
        let address = Rc::as_ptr(s).cast::<u8>() as usize;
        self.shared(address, s.len() as u64, || Content::Str(s.clone()))
    }

    pub(super) fn bytes(&mut self, b: &Rc<[u8]>) -> HKey {
        if b.len() <= SHORT {
            self.work += b.len() as u64 + 1;
            return self.intern(Content::Bytes(b.clone()));
        }
        let address = Rc::as_ptr(b).cast::<u8>() as usize;
        self.shared(address, b.len() as u64, || Content::Bytes(b.clone()))
    }

    pub(super) fn big(&mut self, b: &Rc<BigInt>) -> HKey {
        if let Some(i) = b.to_i64() {
            return HKey::Int(i);
        }
        let address = Rc::as_ptr(b).cast::<u8>() as usize;
        self.shared(address, b.bits() / 8, || Content::Big(b.clone()))
    }

    pub(super) fn float(&mut self, f: f64) -> HKey {
        self.work += 1;
        if f.is_nan() {
            self.nans += 1;
            HKey::Unique(self.nans)
        } else if f.is_finite() && f.fract() == 0.0 {
            match f.to_i64() {
                Some(i) => HKey::Int(i),
                None => self.intern(Content::Big(Rc::new(
                    BigInt::from_f64(f).unwrap_or_default(),
                ))),
            }
        } else {
            HKey::Float(f.to_bits())
        }
    }

    /// A tuple's key from its items' keys, computed once when the tuple is built (a tuple
    /// never changes afterwards).
    pub(super) fn tuple(&mut self, items: Box<[HKey]>) -> HKey {
        self.work += items.len() as u64 + 1;
        self.intern(Content::Tuple(items))
    }
}
