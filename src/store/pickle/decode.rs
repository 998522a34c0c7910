//! The unpickler: a stack machine over a flat arena, so that neither building nor dropping a
//! deeply nested or self-referencing structure recurses. Its parts: dict keys as Python
//! compares them (`dict_keys`), the few calls a session pickle may make (`calls`), and ints
//! and Python 2 strings within their budgets (`scalars`).

use std::collections::HashMap;
use std::rc::Rc;

use chrono::NaiveDateTime;

mod calls;
mod dict_keys;
mod held;
mod memo;
mod scalars;

pub(super) use calls::datetime_from_state;
use scalars::{int_from_le, py2_str};

use super::build::Build;
use super::keys::Keys;
use super::measure::SessionSize;
use super::objects::Dict;
use super::objects::{Global, Node, Obj, kind};
use super::reader::Reader;
use super::text::{escape_decode, raw_unicode_escape};
use super::{PickleError, expand, op};
use crate::limits::{
    MAX_SESSION_BYTES, MAX_SESSION_DECODE_BYTES, MAX_SESSION_EXPANSION, MAX_SESSION_VALUES,
    SESSION_EXPANSION_FLOOR_BYTES, SESSION_EXPANSION_FLOOR_VALUES,
};
use crate::session_value::SessionData;

/// A str given to `_codecs.encode` (kept alive, so its address stays its own) and the
/// bytes it gave.
type Encoded = (Rc<str>, Rc<[u8]>);

struct Machine {
    stack: Vec<Obj>,
    marks: Vec<usize>,
    memo: memo::Memo,
    arena: Vec<Node>,
    proto: u8,
    offset: usize,
    keys: Keys,
    /// `_codecs.encode` results by the address of their str (kept alive here) and
    /// encoding, so a memoized str encoded many times is converted once.
    encoded: HashMap<(usize, bool), Encoded, foldhash::fast::RandomState>,
    /// Opcodes run and items moved: the work done, which a test holds linear in the input.
    work: u64,
    /// What the containers of the arena hold beyond their nodes, and what the strs, bytes
    /// and ints made so far hold, in bytes (see [`Machine::held`]).
    contents: usize,
    allocated: usize,
}

fn malformed(offset: usize, reason: impl Into<String>) -> PickleError {
    PickleError::Malformed {
        offset,
        reason: reason.into(),
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<(SessionData, NaiveDateTime), PickleError> {
    decode_counting(bytes)
        .0
        .map(|(data, expires, _)| (data, expires))
}

/// [`decode`], with the session's size, and the work done (opcodes run, items moved, keys
/// hashed, arena edges measured, values built), whether or not decoding succeeded.
pub(super) fn decode_counting(
    bytes: &[u8],
) -> (
    Result<(SessionData, NaiveDateTime, SessionSize), PickleError>,
    u64,
) {
    if bytes.len() > MAX_SESSION_BYTES {
        return (Err(PickleError::TooLarge(MAX_SESSION_BYTES)), 0);
    }
    let mut m = Machine {
        stack: Vec::new(),
        marks: Vec::new(),
        memo: memo::Memo::default(),
        arena: Vec::new(),
        proto: 0,
        offset: 0,
        keys: Keys::default(),
        encoded: HashMap::default(),
        work: 0,
        contents: 0,
        allocated: 0,
    };
    let top = m.run(&mut Reader {
        data: bytes,
        pos: 0,
    });
    let mut work = m.work + m.keys.work;
    let result = top.and_then(|top| {
        let (dict, expires) = session_pair(&m.arena, &top)?;
        // What the data would expand to is measured on the arena graph before anything is
        // built (each shared object once), and held to a budget proportional to the input,
        // above a floor that small sessions sharing objects stay within.
        let mut graph = expand::Graph::new(&m.arena);
        let size = graph.session(dict);
        work += graph.work;
        let size = size?;
        let (max_bytes, max_values) = expansion_budget(bytes.len());
        if size.bytes > max_bytes {
            return Err(PickleError::TooLarge(max_bytes));
        }
        if size.values > max_values {
            return Err(PickleError::TooManyValues(max_values));
        }
        let mut build = Build {
            arena: &m.arena,
            built: 0,
        };
        let data = build.session(dict);
        work += build.built;
        Ok((data, expires, size))
    });
    (result, work)
}

/// The most bytes and values a pickle of `len` bytes may decode to: [`MAX_SESSION_EXPANSION`]
/// times its length, but never less than the floors (a pickle of a few KB may name one
/// object many times), nor more than the session budgets.
fn expansion_budget(len: usize) -> (usize, usize) {
    let cap = len.saturating_mul(MAX_SESSION_EXPANSION);
    (
        cap.clamp(SESSION_EXPANSION_FLOOR_BYTES, MAX_SESSION_BYTES),
        cap.clamp(SESSION_EXPANSION_FLOOR_VALUES, MAX_SESSION_VALUES),
    )
}

// The floors are below the budgets they raise the ratio to (`clamp` needs it).
const _: () = assert!(
    SESSION_EXPANSION_FLOOR_BYTES <= MAX_SESSION_BYTES
        && SESSION_EXPANSION_FLOOR_VALUES <= MAX_SESSION_VALUES
);

/// CherryPy's `(data, expiration)` pair: the session dict and the naive datetime.
fn session_pair<'a>(
    arena: &'a [Node],
    top: &Obj,
) -> Result<(&'a Dict, NaiveDateTime), PickleError> {
    // CherryPy only indexes the pair (`data[0]`, `data[1]`), so a list works as well.
    let pair = match top {
        Obj::Tuple(id) | Obj::List(id) => match &arena[*id] {
            Node::Tuple(items, _) | Node::List(items) => items,
            Node::Dict(_) => unreachable!("arena kinds match their handles"),
        },
        other => return Err(PickleError::NotASession(kind(other))),
    };
    let [data, expires] = pair.as_slice() else {
        return Err(PickleError::NotASession("a sequence whose length is not 2"));
    };
    let Obj::DateTime(expires) = *expires else {
        return Err(PickleError::NotASession(kind(expires)));
    };
    let Obj::Dict(id) = *data else {
        return Err(PickleError::NotASession(kind(data)));
    };
    let Node::Dict(dict) = &arena[id] else {
        unreachable!("arena kinds match their handles")
    };
    Ok((dict, expires))
}

impl Machine {
    fn err(&self, reason: impl Into<String>) -> PickleError {
        malformed(self.offset, reason)
    }

    fn pop(&mut self) -> Result<Obj, PickleError> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return Err(self.err("stack underflow (below a MARK)"));
        }
        self.stack.pop().ok_or_else(|| self.err("stack underflow"))
    }

    fn top(&self) -> Result<&Obj, PickleError> {
        self.stack.last().ok_or_else(|| self.err("stack underflow"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Obj>, PickleError> {
        let mark = self.marks.pop().ok_or_else(|| self.err("MARK not found"))?;
        let items = self.stack.split_off(mark);
        self.work += items.len() as u64;
        Ok(items)
    }

    fn push_node(&mut self, node: Node) {
        self.contents += held::contents(&node);
        let id = self.arena.len();
        self.stack.push(match node {
            Node::List(_) => Obj::List(id),
            Node::Tuple(..) => Obj::Tuple(id),
            Node::Dict(_) => Obj::Dict(id),
        });
        self.arena.push(node);
    }

    /// `APPEND(S)`: `items` onto the list on top of the stack.
    fn append(&mut self, items: impl IntoIterator<Item = Obj>) -> Result<(), PickleError> {
        let id = match *self.top()? {
            Obj::List(id) => id,
            ref other => return Err(self.err(format!("APPEND to {}", kind(other)))),
        };
        let node = &mut self.arena[id];
        let before = held::contents(node);
        let Node::List(list) = node else {
            unreachable!("arena kinds match their handles")
        };
        list.extend(items);
        self.contents += held::contents(node) - before;
        Ok(())
    }

    fn run(&mut self, r: &mut Reader<'_>) -> Result<Obj, PickleError> {
        loop {
            self.offset = r.pos;
            self.work += 1;
            // Before each opcode, so that no run of them (empty containers, DUP, MEMOIZE,
            // MARK...) takes more memory than the budget and one opcode's worth.
            if self.held() > MAX_SESSION_DECODE_BYTES {
                return Err(PickleError::TooLarge(MAX_SESSION_DECODE_BYTES));
            }
            let code = r.byte("an opcode")?;
            match code {
                op::PROTO => {
                    self.proto = r.byte("the protocol")?;
                    if self.proto > 5 {
                        return Err(PickleError::UnsupportedProtocol(self.proto));
                    }
                }
                op::FRAME => {
                    // Frames only help buffered readers; a frame longer than the input is
                    // still an error, as in Python.
                    let len = u64::from_le_bytes(r.le("a FRAME length")?);
                    let rest = (r.data.len() - r.pos) as u64;
                    if len > rest {
                        return Err(PickleError::Truncated {
                            offset: r.data.len(),
                            what: "a frame",
                        });
                    }
                }
                op::STOP => return self.pop(),
                op::MARK => self.marks.push(self.stack.len()),
                op::POP => {
                    if self.marks.last().is_some_and(|&m| m == self.stack.len()) {
                        self.pop_mark()?;
                    } else {
                        self.pop()?;
                    }
                }
                op::POP_MARK => {
                    self.pop_mark()?;
                }
                op::DUP => {
                    let top = self.top()?.clone();
                    self.stack.push(top);
                }
                op::NONE => self.stack.push(Obj::None),
                op::NEWTRUE => self.stack.push(Obj::Bool(true)),
                op::NEWFALSE => self.stack.push(Obj::Bool(false)),
                op::INT => {
                    let line = r.line("an INT")?;
                    let v = match line {
                        b"00" => Obj::Bool(false),
                        b"01" => Obj::Bool(true),
                        _ => self.decimal(line)?,
                    };
                    self.push_new(v);
                }
                op::LONG => {
                    let line = r.line("a LONG")?;
                    let line = line.strip_suffix(b"L").unwrap_or(line);
                    let v = self.decimal(line)?;
                    self.push_new(v);
                }
                op::BININT => self
                    .stack
                    .push(Obj::Int(i32::from_le_bytes(r.le("a BININT")?).into())),
                op::BININT1 => self.stack.push(Obj::Int(r.byte("a BININT1")?.into())),
                op::BININT2 => self
                    .stack
                    .push(Obj::Int(u16::from_le_bytes(r.le("a BININT2")?).into())),
                op::LONG1 => {
                    let n = r.byte("a LONG1 length")?;
                    let v = int_from_le(r.take(n.into(), "a LONG1")?)?;
                    self.push_new(v);
                }
                op::LONG4 => {
                    let n = i32::from_le_bytes(r.le("a LONG4 length")?);
                    let n =
                        u64::try_from(n).map_err(|_| self.err("LONG4 with a negative length"))?;
                    let v = int_from_le(r.take(n, "a LONG4")?)?;
                    self.push_new(v);
                }
                op::FLOAT => {
                    let line = r.line("a FLOAT")?;
                    let v = std::str::from_utf8(line)
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .ok_or_else(|| self.err("FLOAT is not a number"))?;
                    self.stack.push(Obj::Float(v));
                }
                op::BINFLOAT => self
                    .stack
                    .push(Obj::Float(f64::from_be_bytes(r.le("a BINFLOAT")?))),
                op::STRING => {
                    let line = r.line("a STRING")?;
                    let quoted = line.len() >= 2
                        && line[0] == line[line.len() - 1]
                        && matches!(line[0], b'\'' | b'"');
                    if !quoted {
                        return Err(self.err("the STRING opcode argument must be quoted"));
                    }
                    let raw = escape_decode(&line[1..line.len() - 1]).map_err(|e| self.err(e))?;
                    self.push_new(py2_str(&raw));
                }
                op::BINSTRING => {
                    let n = i32::from_le_bytes(r.le("a BINSTRING length")?);
                    let n = u64::try_from(n)
                        .map_err(|_| self.err("BINSTRING with a negative length"))?;
                    let v = py2_str(r.take(n, "a BINSTRING")?);
                    self.push_new(v);
                }
                op::SHORT_BINSTRING => {
                    let n = r.byte("a SHORT_BINSTRING length")?;
                    let v = py2_str(r.take(n.into(), "a SHORT_BINSTRING")?);
                    self.push_new(v);
                }
                op::UNICODE => {
                    let line = r.line("a UNICODE")?;
                    let s = raw_unicode_escape(line).map_err(|e| self.err(e))?;
                    self.push_new(Obj::Str(s.into()));
                }
                op::SHORT_BINUNICODE | op::BINUNICODE | op::BINUNICODE8 => {
                    let n = self.length(r, code)?;
                    let raw = r.take(n, "a str")?;
                    // Python writes lone surrogates with `surrogatepass`; a Rust String
                    // cannot hold them.
                    let s = std::str::from_utf8(raw).map_err(|_| {
                        PickleError::OutsideModel(
                            "a str that is not valid UTF-8 (a lone surrogate?)".into(),
                        )
                    })?;
                    self.push_new(Obj::Str(s.into()));
                }
                op::SHORT_BINBYTES | op::BINBYTES | op::BINBYTES8 | op::BYTEARRAY8 => {
                    let n = self.length(r, code)?;
                    let raw = r.take(n, "a bytes")?;
                    self.push_new(Obj::Bytes(raw.into()));
                }
                op::EMPTY_LIST => self.push_node(Node::List(Vec::new())),
                op::EMPTY_TUPLE => self.tuple(Vec::new()),
                op::EMPTY_DICT => self.push_node(Node::Dict(Dict::default())),
                op::LIST => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::List(items));
                }
                op::TUPLE => {
                    let items = self.pop_mark()?;
                    self.tuple(items);
                }
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                    let n = usize::from(code - op::TUPLE1) + 1;
                    let floor = self.marks.last().copied().unwrap_or(0);
                    if self.stack.len() < floor + n {
                        return Err(self.err("stack underflow"));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.work += n as u64;
                    self.tuple(items);
                }
                op::DICT => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Dict(Dict::default()));
                    self.set_items(items)?;
                }
                op::APPEND => {
                    let v = self.pop()?;
                    self.append(std::iter::once(v))?;
                }
                op::APPENDS => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                op::SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                op::SETITEMS => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                op::PUT | op::BINPUT | op::LONG_BINPUT | op::MEMOIZE => {
                    let index = match code {
                        op::PUT => self.memo_index(r.line("a PUT")?)?,
                        op::BINPUT => r.byte("a BINPUT")?.into(),
                        op::LONG_BINPUT => u32::from_le_bytes(r.le("a LONG_BINPUT")?).into(),
                        _ => self.memo.len() as u64,
                    };
                    let top = self.top()?.clone();
                    self.memo.insert(index, top);
                }
                op::GET | op::BINGET | op::LONG_BINGET => {
                    let index = match code {
                        op::GET => self.memo_index(r.line("a GET")?)?,
                        op::BINGET => r.byte("a BINGET")?.into(),
                        _ => u32::from_le_bytes(r.le("a LONG_BINGET")?).into(),
                    };
                    let v = self.memo.get(index).cloned();
                    let v = v.ok_or_else(|| {
                        self.err(format!("memo value not found at index {index}"))
                    })?;
                    self.stack.push(v);
                }
                op::GLOBAL => {
                    let module = self.utf8(r.line("a GLOBAL module")?)?;
                    let name = self.utf8(r.line("a GLOBAL name")?)?;
                    let g = Global::resolve(&module, &name, self.proto)?;
                    self.stack.push(Obj::Global(g));
                }
                op::INST => {
                    let module = self.utf8(r.line("an INST module")?)?;
                    let name = self.utf8(r.line("an INST name")?)?;
                    return Err(PickleError::ForbiddenGlobal { module, name });
                }
                op::STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Obj::Str(module), Obj::Str(name)) = (module, name) else {
                        return Err(self.err("STACK_GLOBAL requires str"));
                    };
                    let g = Global::resolve(&module, &name, self.proto)?;
                    self.stack.push(Obj::Global(g));
                }
                op::REDUCE | op::NEWOBJ => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let v = self.call(code, callable, args)?;
                    self.stack.push(v);
                }
                op::EMPTY_SET | op::ADDITEMS => {
                    return Err(PickleError::OutsideModel("a set".into()));
                }
                op::FROZENSET => return Err(PickleError::OutsideModel("a frozenset".into())),
                _ => {
                    return Err(match op::name(code) {
                        Some(name) => PickleError::UnsupportedOpcode {
                            name,
                            offset: self.offset,
                        },
                        None => PickleError::UnknownOpcode {
                            opcode: code,
                            offset: self.offset,
                        },
                    });
                }
            }
        }
    }

    fn length(&self, r: &mut Reader<'_>, code: u8) -> Result<u64, PickleError> {
        Ok(match code {
            op::SHORT_BINUNICODE | op::SHORT_BINBYTES => r.byte("a length")?.into(),
            op::BINUNICODE | op::BINBYTES => u32::from_le_bytes(r.le("a length")?).into(),
            _ => u64::from_le_bytes(r.le("a length")?),
        })
    }

    fn utf8(&self, line: &[u8]) -> Result<String, PickleError> {
        String::from_utf8(line.to_vec()).map_err(|_| self.err("a global's name is not UTF-8"))
    }

    fn memo_index(&self, line: &[u8]) -> Result<u64, PickleError> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| self.err("invalid memo index"))
    }
}
