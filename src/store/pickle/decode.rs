//! The unpickler: a stack machine over a flat arena, so that neither building nor dropping a
//! deeply nested or self-referencing structure recurses.

use std::collections::HashMap;
use std::rc::Rc;

use chrono::{NaiveDate, NaiveDateTime};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::build::Build;
use super::keys::{Dict, HKey, Keys};
use super::measure::{self, SessionSize};
use super::objects::{Global, KeyProblem, Node, Obj, TupleKey, kind, outside};
use super::reader::Reader;
use super::text::{escape_decode, raw_unicode_escape};
use super::{PickleError, expand, op};
use crate::limits::{
    MAX_INT_DIGITS, MAX_SESSION_BYTES, MAX_SESSION_DEPTH, MAX_SESSION_EXPANSION, MAX_SESSION_VALUES,
};
use crate::session_value::SessionData;

/// A str given to `_codecs.encode` (kept alive, so its address stays its own) and the
/// bytes it gave.
type Encoded = (Rc<str>, Rc<[u8]>);

struct Machine {
    stack: Vec<Obj>,
    marks: Vec<usize>,
    memo: HashMap<u64, Obj, foldhash::fast::RandomState>,
    arena: Vec<Node>,
    proto: u8,
    offset: usize,
    keys: Keys,
    /// `_codecs.encode` results by the address of their str (kept alive here) and
    /// encoding, so a memoized str encoded many times is converted once.
    encoded: HashMap<(usize, bool), Encoded, foldhash::fast::RandomState>,
    /// Opcodes run and items moved: the work done, which a test holds linear in the input.
    work: u64,
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
        memo: HashMap::default(),
        arena: Vec::new(),
        proto: 0,
        offset: 0,
        keys: Keys::default(),
        encoded: HashMap::default(),
        work: 0,
    };
    let top = m.run(&mut Reader {
        data: bytes,
        pos: 0,
    });
    let mut work = m.work + m.keys.work;
    let result = top.and_then(|top| {
        let (dict, expires) = session_pair(&m.arena, &top)?;
        // What the data would expand to is measured on the arena graph before anything is
        // built (each shared object once), and held to a budget proportional to the input.
        let mut graph = expand::Graph::new(&m.arena);
        let size = graph.session(dict);
        work += graph.work;
        let size = size?;
        let cap = bytes.len().saturating_mul(MAX_SESSION_EXPANSION);
        let (max_bytes, max_values) = (MAX_SESSION_BYTES.min(cap), MAX_SESSION_VALUES.min(cap));
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
        let id = self.arena.len();
        self.stack.push(match node {
            Node::List(_) => Obj::List(id),
            Node::Tuple(..) => Obj::Tuple(id),
            Node::Dict(_) => Obj::Dict(id),
        });
        self.arena.push(node);
    }

    fn tuple(&mut self, items: Vec<Obj>) {
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

    /// The list on top of the stack, for `APPEND(S)`.
    fn target_list(&mut self) -> Result<&mut Vec<Obj>, PickleError> {
        match *self.top()? {
            Obj::List(id) => match &mut self.arena[id] {
                Node::List(items) => Ok(items),
                _ => unreachable!("arena kinds match their handles"),
            },
            ref other => Err(self.err(format!("APPEND to {}", kind(other)))),
        }
    }

    fn set_items(&mut self, pairs: Vec<Obj>) -> Result<(), PickleError> {
        if !pairs.len().is_multiple_of(2) {
            return Err(self.err("SETITEMS with an odd number of items"));
        }
        let id = match *self.top()? {
            Obj::Dict(id) => id,
            ref other => return Err(self.err(format!("SETITEM on {}", kind(other)))),
        };
        let mut it = pairs.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let h = self.hkey(&k)?;
            let Node::Dict(dict) = &mut self.arena[id] else {
                unreachable!("arena kinds match their handles")
            };
            dict.set(h, k, v);
        }
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

    fn run(&mut self, r: &mut Reader<'_>) -> Result<Obj, PickleError> {
        loop {
            self.offset = r.pos;
            self.work += 1;
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
                    self.stack.push(v);
                }
                op::LONG => {
                    let line = r.line("a LONG")?;
                    let line = line.strip_suffix(b"L").unwrap_or(line);
                    let v = self.decimal(line)?;
                    self.stack.push(v);
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
                    self.stack.push(v);
                }
                op::LONG4 => {
                    let n = i32::from_le_bytes(r.le("a LONG4 length")?);
                    let n =
                        u64::try_from(n).map_err(|_| self.err("LONG4 with a negative length"))?;
                    let v = int_from_le(r.take(n, "a LONG4")?)?;
                    self.stack.push(v);
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
                    self.stack.push(py2_str(&raw));
                }
                op::BINSTRING => {
                    let n = i32::from_le_bytes(r.le("a BINSTRING length")?);
                    let n = u64::try_from(n)
                        .map_err(|_| self.err("BINSTRING with a negative length"))?;
                    let v = py2_str(r.take(n, "a BINSTRING")?);
                    self.stack.push(v);
                }
                op::SHORT_BINSTRING => {
                    let n = r.byte("a SHORT_BINSTRING length")?;
                    let v = py2_str(r.take(n.into(), "a SHORT_BINSTRING")?);
                    self.stack.push(v);
                }
                op::UNICODE => {
                    let line = r.line("a UNICODE")?;
                    let s = raw_unicode_escape(line).map_err(|e| self.err(e))?;
                    self.stack.push(Obj::Str(s.into()));
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
                    self.stack.push(Obj::Str(s.into()));
                }
                op::SHORT_BINBYTES | op::BINBYTES | op::BINBYTES8 | op::BYTEARRAY8 => {
                    let n = self.length(r, code)?;
                    let raw = r.take(n, "a bytes")?;
                    self.stack.push(Obj::Bytes(raw.into()));
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
                    self.target_list()?.push(v);
                }
                op::APPENDS => {
                    let items = self.pop_mark()?;
                    self.target_list()?.extend(items);
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
                    let v = self.memo.get(&index).cloned();
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

    fn decimal(&self, text: &[u8]) -> Result<Obj, PickleError> {
        let text = std::str::from_utf8(text).map_err(|_| self.err("an int is not ASCII"))?;
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(format!("invalid int literal {text:?}")));
        }
        // Parsing decimal digits costs their number squared: Python refuses more than this
        // many too (`ValueError: Exceeds the limit (4300 digits)`).
        if digits.trim_start_matches('0').len() > MAX_INT_DIGITS {
            return Err(PickleError::IntTooLong(MAX_INT_DIGITS));
        }
        Ok(match text.parse::<i64>() {
            Ok(i) => Obj::Int(i),
            Err(_) => big(text
                .parse::<BigInt>()
                .map_err(|_| self.err("invalid int literal"))?),
        })
    }

    fn memo_index(&self, line: &[u8]) -> Result<u64, PickleError> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| self.err("invalid memo index"))
    }

    fn args(&self, args: &Obj) -> Result<&[Obj], PickleError> {
        match args {
            Obj::Tuple(id) => match &self.arena[*id] {
                Node::Tuple(items, _) => Ok(items),
                _ => unreachable!("arena kinds match their handles"),
            },
            other => Err(self.err(format!("REDUCE arguments are {}, not a tuple", kind(other)))),
        }
    }

    /// The only calls we interpret; everything else was refused when its global was read.
    fn call(&mut self, code: u8, callable: Obj, args: Obj) -> Result<Obj, PickleError> {
        let Obj::Global(g) = callable else {
            return Err(self.err(format!("call of {}", kind(&callable))));
        };
        if code == op::NEWOBJ && !matches!(g, Global::DateTime) {
            return Err(self.err("NEWOBJ of a function"));
        }
        let args = self.args(&args)?;
        match (g, args) {
            (Global::DateTime, [state]) | (Global::DateTime, [state, Obj::None]) => {
                let bytes: Vec<u8> = match state {
                    Obj::Bytes(b) | Obj::Py2Bytes(b) => b.to_vec(),
                    // A state is 10 characters: a longer str need not be converted to know.
                    Obj::Str(s) if s.len() > 20 => {
                        return Err(self.err("datetime state is too long"));
                    }
                    Obj::Str(s) => {
                        latin1(s).ok_or_else(|| self.err("datetime state is not latin-1"))?
                    }
                    other => return Err(self.err(format!("datetime state is {}", kind(other)))),
                };
                datetime_from_state(&bytes).map(Obj::DateTime)
            }
            (Global::DateTime, [_, _]) => Err(PickleError::OutsideModel(
                "an aware datetime (with a tzinfo)".into(),
            )),
            (Global::CodecsEncode, [Obj::Str(s)]) => {
                let s = s.clone();
                self.encode_str(&s, false)
            }
            (Global::CodecsEncode, [Obj::Str(s), Obj::Str(enc)]) => {
                let enc = enc.to_ascii_lowercase().replace('_', "-");
                let s = s.clone();
                match enc.as_str() {
                    "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" => {
                        self.encode_str(&s, true)
                    }
                    "utf-8" | "utf8" => self.encode_str(&s, false),
                    _ => Err(self.err(format!("_codecs.encode with encoding {enc:?}"))),
                }
            }
            (Global::Bytes | Global::ByteArray, []) => Ok(Obj::Bytes(Rc::from(&[][..]))),
            (Global::Bytes | Global::ByteArray, [Obj::Bytes(b)]) => Ok(Obj::Bytes(b.clone())),
            (g, _) => Err(self.err(format!("unexpected arguments to {g:?}"))),
        }
    }

    /// `_codecs.encode(s, 'latin1')` (or UTF-8): the bytes are shared by every call on the
    /// same str, as converting a memoized str again per call would cost its length each.
    fn encode_str(&mut self, s: &Rc<str>, latin: bool) -> Result<Obj, PickleError> {
        let address = Rc::as_ptr(s).cast::<u8>() as usize;
        if let Some((_, b)) = self.encoded.get(&(address, latin)) {
            return Ok(Obj::Bytes(b.clone()));
        }
        self.work += s.len() as u64;
        let b: Rc<[u8]> = if latin {
            latin1(s)
                .ok_or_else(|| self.err("_codecs.encode: str is not latin-1"))?
                .into()
        } else {
            s.as_bytes().into()
        };
        self.encoded
            .insert((address, latin), (s.clone(), b.clone()));
        Ok(Obj::Bytes(b))
    }
}

fn big(b: BigInt) -> Obj {
    b.to_i64().map_or_else(|| Obj::Big(Rc::new(b)), Obj::Int)
}

/// `LONG1`/`LONG4`'s two's complement, within [`MAX_INT_DIGITS`] decimal digits (a longer
/// one is refused before it is built).
fn int_from_le(bytes: &[u8]) -> Result<Obj, PickleError> {
    if bytes.is_empty() {
        return Ok(Obj::Int(0));
    }
    // 10^4300 needs 14,285 bits: more bytes than that (and a sign byte), not counting the
    // sign's repetitions at the top, have too many digits whatever they are.
    let pad = if bytes[bytes.len() - 1] & 0x80 == 0 {
        0
    } else {
        0xff
    };
    let significant = bytes.len() - bytes.iter().rev().take_while(|&&b| b == pad).count();
    if significant > (MAX_INT_DIGITS * 3322 / 1000) / 8 + 2 {
        return Err(PickleError::IntTooLong(MAX_INT_DIGITS));
    }
    let b = BigInt::from_signed_bytes_le(bytes);
    measure::check_digits(&b)?;
    Ok(big(b))
}

/// Python 3 decodes a Python 2 `str` as ASCII by default.
fn py2_str(raw: &[u8]) -> Obj {
    match std::str::from_utf8(raw) {
        Ok(s) if raw.is_ascii() => Obj::Str(s.into()),
        _ => Obj::Py2Bytes(raw.into()),
    }
}

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// `datetime.datetime`'s pickled state: year (2 bytes, big-endian), month (the high bit is
/// `fold`, which a naive time does not need), day, hour, minute, second, microsecond (3
/// bytes, big-endian).
pub(super) fn datetime_from_state(b: &[u8]) -> Result<NaiveDateTime, PickleError> {
    let bad = || PickleError::InvalidDateTime(format!("state {b:02x?}"));
    if b.len() != 10 {
        return Err(bad());
    }
    let year = i32::from(b[0]) << 8 | i32::from(b[1]);
    let month = u32::from(b[2] & 0x7f);
    let micro = u32::from(b[7]) << 16 | u32::from(b[8]) << 8 | u32::from(b[9]);
    // CPython's C unpickler takes any year its two bytes hold, but no datetime it can
    // build otherwise has one beyond 9999, and we could not write it back: refused.
    if !(1..=9999).contains(&year) || b[6] > 59 || micro > 999_999 {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, month, b[3].into())
        .and_then(|d| d.and_hms_micro_opt(b[4].into(), b[5].into(), b[6].into(), micro))
        .ok_or_else(bad)
}
