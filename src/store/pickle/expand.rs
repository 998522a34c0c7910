//! What a decoded pickle would expand to, measured on the arena graph before anything is
//! built.
//!
//! Memo references let a pickle name one container many times (a tuple built from itself
//! doubles per level), so the tree it stands for can be exponentially larger than the
//! pickle. Each container's cost (its values, bytes and height, with the costs of
//! [`measure`]) is worked out once, over the graph, and added once per use: linear in the
//! graph, whatever the tree. A container met again while it is being measured is a cycle,
//! which the data model cannot hold.

use std::collections::HashMap;
use std::rc::Rc;

use foldhash::fast::RandomState;

use super::PickleError;
use super::measure::{self, SessionSize};
use super::objects::Dict;
use super::objects::{Node, Obj, kind, outside};
use crate::limits::MAX_SESSION_DEPTH;

/// The cost of one value: its size and how deep it nests (itself included).
#[derive(Clone, Copy, Default)]
struct Cost {
    size: SessionSize,
    height: usize,
}

impl Cost {
    fn add(&mut self, child: Cost) {
        self.size = self.size.plus(child.size);
        self.height = self.height.max(child.height);
    }
}

#[derive(Clone, Copy)]
enum State {
    New,
    Open,
    Done(Cost),
}

/// A container being measured: which one, its next child, its children's costs so far.
struct Frame {
    id: usize,
    next: usize,
    children: Cost,
}

pub(super) struct Graph<'a> {
    arena: &'a [Node],
    state: Vec<State>,
    /// The pickled length of each big int, by address (the arena keeps each alive): one
    /// shared through the memo costs its digits once, not once per use.
    bigs: HashMap<usize, usize, RandomState>,
    /// Edges followed: the work done, for the decoder's count.
    pub(super) work: u64,
}

impl<'a> Graph<'a> {
    pub(super) fn new(arena: &'a [Node]) -> Self {
        Self {
            arena,
            state: vec![State::New; arena.len()],
            bigs: HashMap::default(),
            work: 0,
        }
    }

    /// The size of the session `dict` would become; an error for anything it cannot be.
    pub(super) fn session(&mut self, dict: &Dict) -> Result<SessionSize, PickleError> {
        let mut entries = SessionSize::default();
        for (k, v) in &dict.items {
            let Obj::Str(k) = k else {
                return Err(PickleError::NonStrKey(kind(k)));
            };
            let value = self.cost(v)?;
            entries = entries
                .plus(SessionSize {
                    values: 1,
                    bytes: measure::sized(k.len()) + k.len(),
                })
                .plus(value.size);
        }
        Ok(measure::session(entries, dict.items.len()))
    }

    fn cost(&mut self, obj: &Obj) -> Result<Cost, PickleError> {
        self.work += 1;
        match obj {
            Obj::List(id) | Obj::Tuple(id) | Obj::Dict(id) => self.container(*id),
            scalar => self.scalar_cost(scalar),
        }
    }

    fn scalar_cost(&mut self, obj: &Obj) -> Result<Cost, PickleError> {
        let bytes = match obj {
            Obj::None | Obj::Bool(_) => 1,
            Obj::Int(i) => measure::int(*i),
            Obj::Big(b) => {
                let address = Rc::as_ptr(b) as usize;
                *self.bigs.entry(address).or_insert_with(|| measure::big(b))
            }
            Obj::Float(_) => 9,
            Obj::Str(s) => measure::sized(s.len()) + s.len(),
            Obj::Bytes(b) => measure::sized(b.len()) + b.len(),
            other => return Err(outside(other)),
        };
        Ok(Cost {
            size: SessionSize { values: 1, bytes },
            height: 1,
        })
    }

    /// A container's cost, depth first without recursion (a pickle can nest 10^6 deep).
    fn container(&mut self, root: usize) -> Result<Cost, PickleError> {
        if let State::Done(cost) = self.state[root] {
            return Ok(cost);
        }
        self.state[root] = State::Open;
        let arena = self.arena;
        let mut stack = vec![Frame {
            id: root,
            next: 0,
            children: Cost::default(),
        }];
        while let Some(frame) = stack.last_mut() {
            let Some(child) = child(&arena[frame.id], frame.next) else {
                let frame = stack
                    .pop()
                    .unwrap_or_else(|| unreachable!("a frame is on top"));
                let cost = finish(&arena[frame.id], frame.children)?;
                self.state[frame.id] = State::Done(cost);
                match stack.last_mut() {
                    Some(parent) => parent.children.add(cost),
                    None => return Ok(cost),
                }
                continue;
            };
            frame.next += 1;
            self.work += 1;
            match child {
                Obj::List(id) | Obj::Tuple(id) | Obj::Dict(id) => match self.state[*id] {
                    State::Done(cost) => frame.children.add(cost),
                    State::Open => {
                        return Err(PickleError::OutsideModel("a recursive structure".into()));
                    }
                    State::New => {
                        self.state[*id] = State::Open;
                        stack.push(Frame {
                            id: *id,
                            next: 0,
                            children: Cost::default(),
                        });
                    }
                },
                scalar => frame.children.add(self.scalar_cost(scalar)?),
            }
        }
        unreachable!("the root frame returns")
    }
}

/// A container's `i`-th child: list and tuple items, or a dict's keys and values in turn.
fn child(node: &Node, i: usize) -> Option<&Obj> {
    match node {
        Node::List(items) | Node::Tuple(items, _) => items.get(i),
        Node::Dict(dict) => dict
            .items
            .get(i / 2)
            .map(|(k, v)| if i.is_multiple_of(2) { k } else { v }),
    }
}

/// A container's cost from its children's.
fn finish(node: &Node, children: Cost) -> Result<Cost, PickleError> {
    let own = match node {
        Node::List(items) => 1 + measure::batches(items.len()),
        Node::Tuple(items, _) => measure::tuple(items.len()),
        Node::Dict(dict) => 1 + measure::batches(dict.items.len()),
    };
    let height = children.height.saturating_add(1);
    if height > MAX_SESSION_DEPTH {
        return Err(PickleError::TooDeep(MAX_SESSION_DEPTH));
    }
    Ok(Cost {
        size: children.size.plus(SessionSize {
            values: 1,
            bytes: own,
        }),
        height,
    })
}
