//! What the unpickler holds while it runs, in bytes, held to
//! [`MAX_SESSION_DECODE_BYTES`](crate::limits::MAX_SESSION_DECODE_BYTES) before each
//! opcode. Each opcode of one or two bytes can make a node, a stack entry, a memo entry or
//! a mark, of tens of bytes each, whether the data refers to it or not; weighing them as
//! they are made refuses a hostile pickle after that budget, not after 16 MiB of opcodes.
//!
//! The weights are what each thing takes, from the sizes of the types and the capacity of
//! each vector, plus a word or two where an allocator or a hash map keeps more.

use std::mem::size_of;

use super::Machine;
use crate::store::pickle::keys::HKey;
use crate::store::pickle::objects::{Node, Obj};

/// A stack entry, a container's item, a memo entry. A mark is an index, but weighs as an
/// entry: no pickler opens more marks than its data nests deep.
const ENTRY: usize = size_of::<Obj>();

/// What an allocator takes per allocation beyond the bytes asked for (a header, rounding).
const ALLOCATION: usize = 16;

/// The heap a container holds beyond its node: its items, by their vector's capacity, and a
/// dict's keys (see [`Dict::held`](crate::store::pickle::objects::Dict::held)).
pub(super) fn contents(node: &Node) -> usize {
    let items = |capacity: usize, item: usize| match capacity {
        0 => 0,
        n => n * item + ALLOCATION,
    };
    match node {
        Node::List(list) => items(list.capacity(), ENTRY),
        Node::Tuple(tuple, _) => items(tuple.capacity(), ENTRY),
        Node::Dict(dict) => {
            items(dict.items.capacity(), 2 * ENTRY) + dict.keys_held(size_of::<HKey>())
        }
    }
}

/// What a str, bytes or big int holds: its reference-counted allocation.
fn allocation(obj: &Obj) -> usize {
    // The two reference counts of an `Rc`.
    const RC: usize = 2 * size_of::<usize>();
    let payload = match obj {
        Obj::Str(s) => s.len(),
        Obj::Bytes(b) | Obj::Py2Bytes(b) => b.len(),
        Obj::Big(b) => size_of::<num_bigint::BigInt>() + b.bits().div_ceil(8) as usize,
        _ => return 0,
    };
    RC + payload + ALLOCATION
}

impl Machine {
    /// What the machine holds now, in bytes: its stack, marks and memo, its arena's nodes
    /// and their contents, the strs, bytes and ints it has made (all of them, including
    /// those dropped since: they are few in a pickler's output), and its dict-key and
    /// `_codecs.encode` tables.
    pub(super) fn held(&self) -> usize {
        (self.stack.len() + self.marks.len()) * ENTRY
            + self.memo.held()
            + self.arena.len() * size_of::<Node>()
            + self.contents
            + self.allocated
            + self.keys.held
            + self.encoded.len() * 2 * (size_of::<((usize, bool), super::Encoded)>() + 1)
    }

    /// Pushes a value just made, weighing what it allocated.
    pub(super) fn push_new(&mut self, obj: Obj) {
        self.made(&obj);
        self.stack.push(obj);
    }

    /// Weighs what a value just made allocated.
    pub(super) fn made(&mut self, obj: &Obj) {
        self.allocated += allocation(obj);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The weights above are only as small as the types: a node (a dict's index is boxed)
    /// is a few stack entries, so a run of empty containers is refused about as soon as a
    /// run of `DUP`, after about as much memory.
    #[test]
    fn a_node_is_small() {
        assert!(size_of::<Node>() <= 3 * ENTRY, "{}", size_of::<Node>());
    }
}
