//! The unpickler: a stack machine over a flat arena, so that neither building nor dropping a
//! deeply nested or self-referencing structure recurses.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use chrono::{NaiveDate, NaiveDateTime};
use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};

use super::{MAX_DEPTH, MIN_OUTPUT_BUDGET, PickleError, grow_stack, op};
use crate::session_value::{SessionData, SessionValue};

/// A value on the unpickler's stack. Containers live in the arena and are shared by index,
/// as Python shares them by reference (memo `GET` of a list that is filled later must see
/// the later items).
#[derive(Clone, Debug)]
enum Obj {
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
enum Global {
    DateTime,
    CodecsEncode,
    Bytes,
    ByteArray,
}

impl Global {
    fn resolve(module: &str, name: &str, proto: u8) -> Result<Self, PickleError> {
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

enum Node {
    List(Vec<Obj>),
    Tuple(Vec<Obj>),
    Dict(Dict),
}

#[derive(Default)]
struct Dict {
    items: Vec<(Obj, Obj)>,
    /// Python's key equality (`1 == 1.0 == True`), so a repeated key replaces the value and
    /// keeps the first key's place, as `dict.__setitem__` does: the keys of a small dict,
    /// searched in order (a session's dicts are mostly small, and a hash table each cost
    /// more than the rest of the decoding) ...
    small: Vec<HKey>,
    /// ... and of a larger one, where a search in order would be quadratic.
    index: HashMap<HKey, usize, foldhash::fast::RandomState>,
}

/// Keys a dict holds in [`Dict::small`] before they move to [`Dict::index`].
const SMALL_DICT: usize = 16;

impl Dict {
    /// Where `key` is in `items`.
    fn position(&self, key: &HKey) -> Option<usize> {
        if self.index.is_empty() {
            self.small.iter().position(|k| k == key)
        } else {
            self.index.get(key).copied()
        }
    }

    /// Sets `key` (an `HKey` of `k`) to `v`.
    fn set(&mut self, key: HKey, k: Obj, v: Obj) {
        if let Some(i) = self.position(&key) {
            self.items[i].1 = v;
            return;
        }
        if self.index.is_empty() && self.small.len() < SMALL_DICT {
            self.small.push(key);
        } else {
            if self.index.is_empty() {
                self.index = std::mem::take(&mut self.small)
                    .into_iter()
                    .enumerate()
                    .map(|(i, k)| (k, i))
                    .collect();
            }
            self.index.insert(key, self.items.len());
        }
        self.items.push((k, v));
    }
}

#[derive(Hash, PartialEq, Eq)]
enum HKey {
    None,
    Int(i64),
    Big(BigInt),
    Float(u64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Vec<HKey>),
    /// NaN equals nothing, not even another NaN.
    Unique(usize),
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], PickleError> {
        let rest = &self.data[self.pos..];
        // Checked against the input before any allocation, so a huge declared length is
        // just a truncated pickle.
        match usize::try_from(n) {
            Ok(n) if n <= rest.len() => {
                self.pos += n;
                Ok(&rest[..n])
            }
            _ => Err(PickleError::Truncated {
                offset: self.pos,
                what,
            }),
        }
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, PickleError> {
        Ok(self.take(1, what)?[0])
    }

    fn le<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], PickleError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N as u64, what)?);
        Ok(out)
    }

    fn line(&mut self, what: &'static str) -> Result<&'a [u8], PickleError> {
        let rest = &self.data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(PickleError::Truncated {
                offset: self.data.len(),
                what,
            })?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }
}

struct Machine {
    stack: Vec<Obj>,
    marks: Vec<usize>,
    memo: HashMap<u64, Obj, foldhash::fast::RandomState>,
    arena: Vec<Node>,
    proto: u8,
    offset: usize,
    nans: usize,
}

fn malformed(offset: usize, reason: impl Into<String>) -> PickleError {
    PickleError::Malformed {
        offset,
        reason: reason.into(),
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<(SessionData, NaiveDateTime), PickleError> {
    let mut m = Machine {
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::default(),
        arena: Vec::new(),
        proto: 0,
        offset: 0,
        nans: 0,
    };
    let top = m.run(&mut Reader {
        data: bytes,
        pos: 0,
    })?;
    let budget = MIN_OUTPUT_BUDGET.max(bytes.len().saturating_mul(16));
    Convert {
        arena: &m.arena,
        budget,
        used: 0,
        open: HashSet::new(),
    }
    .session(&top)
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
        Ok(self.stack.split_off(mark))
    }

    fn push_node(&mut self, node: Node) {
        let id = self.arena.len();
        self.stack.push(match node {
            Node::List(_) => Obj::List(id),
            Node::Tuple(_) => Obj::Tuple(id),
            Node::Dict(_) => Obj::Dict(id),
        });
        self.arena.push(node);
    }

    fn tuple(&mut self, items: Vec<Obj>) {
        self.push_node(Node::Tuple(items));
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
            let h = self.hkey(&k, 0)?;
            let Node::Dict(dict) = &mut self.arena[id] else {
                unreachable!("arena kinds match their handles")
            };
            dict.set(h, k, v);
        }
        Ok(())
    }

    fn hkey(&mut self, key: &Obj, depth: usize) -> Result<HKey, PickleError> {
        if depth > MAX_DEPTH {
            return Err(PickleError::TooDeep(MAX_DEPTH));
        }
        Ok(match key {
            Obj::None => HKey::None,
            Obj::Bool(b) => HKey::Int(i64::from(*b)),
            Obj::Int(i) => HKey::Int(*i),
            Obj::Big(b) => b
                .to_i64()
                .map_or_else(|| HKey::Big((**b).clone()), HKey::Int),
            Obj::Float(f) if f.is_nan() => {
                self.nans += 1;
                HKey::Unique(self.nans)
            }
            Obj::Float(f) if f.is_finite() && f.fract() == 0.0 => match f.to_i64() {
                Some(i) => HKey::Int(i),
                None => HKey::Big(BigInt::from_f64(*f).unwrap_or_default()),
            },
            Obj::Float(f) => HKey::Float(f.to_bits()),
            Obj::Str(s) => HKey::Str(s.clone()),
            Obj::Bytes(b) => HKey::Bytes(b.clone()),
            Obj::Tuple(id) => {
                let Node::Tuple(items) = &self.arena[*id] else {
                    unreachable!("arena kinds match their handles")
                };
                let items = items.clone();
                let mut keys = Vec::with_capacity(items.len());
                for item in &items {
                    keys.push(grow_stack(|| self.hkey(item, depth + 1))?);
                }
                HKey::Tuple(keys)
            }
            Obj::List(_) => return Err(PickleError::UnhashableKey("a list")),
            Obj::Dict(_) => return Err(PickleError::UnhashableKey("a dict")),
            other => return Err(outside(other)),
        })
    }

    fn run(&mut self, r: &mut Reader<'_>) -> Result<Obj, PickleError> {
        loop {
            self.offset = r.pos;
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
                    let v = int_from_le(r.take(n.into(), "a LONG1")?);
                    self.stack.push(v);
                }
                op::LONG4 => {
                    let n = i32::from_le_bytes(r.le("a LONG4 length")?);
                    let n =
                        u64::try_from(n).map_err(|_| self.err("LONG4 with a negative length"))?;
                    let v = int_from_le(r.take(n, "a LONG4")?);
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

    fn args(&self, args: &Obj) -> Result<Vec<Obj>, PickleError> {
        match args {
            Obj::Tuple(id) => match &self.arena[*id] {
                Node::Tuple(items) => Ok(items.clone()),
                _ => unreachable!("arena kinds match their handles"),
            },
            other => Err(self.err(format!("REDUCE arguments are {}, not a tuple", kind(other)))),
        }
    }

    /// The only calls we interpret; everything else was refused when its global was read.
    fn call(&self, code: u8, callable: Obj, args: Obj) -> Result<Obj, PickleError> {
        let Obj::Global(g) = callable else {
            return Err(self.err(format!("call of {}", kind(&callable))));
        };
        let args = self.args(&args)?;
        if code == op::NEWOBJ && !matches!(g, Global::DateTime) {
            return Err(self.err("NEWOBJ of a function"));
        }
        match (g, args.as_slice()) {
            (Global::DateTime, [state]) | (Global::DateTime, [state, Obj::None]) => {
                let bytes: Vec<u8> = match state {
                    Obj::Bytes(b) | Obj::Py2Bytes(b) => b.to_vec(),
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
            (Global::CodecsEncode, [Obj::Str(s)]) => Ok(Obj::Bytes(s.as_bytes().into())),
            (Global::CodecsEncode, [Obj::Str(s), Obj::Str(enc)]) => {
                let enc = enc.to_ascii_lowercase().replace('_', "-");
                match enc.as_str() {
                    "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" => latin1(s)
                        .map(|b| Obj::Bytes(b.into()))
                        .ok_or_else(|| self.err("_codecs.encode: str is not latin-1")),
                    "utf-8" | "utf8" => Ok(Obj::Bytes(s.as_bytes().into())),
                    _ => Err(self.err(format!("_codecs.encode with encoding {enc:?}"))),
                }
            }
            (Global::Bytes | Global::ByteArray, []) => Ok(Obj::Bytes(Rc::from(&[][..]))),
            (Global::Bytes | Global::ByteArray, [Obj::Bytes(b)]) => Ok(Obj::Bytes(b.clone())),
            (g, _) => Err(self.err(format!("unexpected arguments to {g:?}"))),
        }
    }
}

fn big(b: BigInt) -> Obj {
    b.to_i64().map_or_else(|| Obj::Big(Rc::new(b)), Obj::Int)
}

fn int_from_le(bytes: &[u8]) -> Obj {
    if bytes.is_empty() {
        return Obj::Int(0);
    }
    big(BigInt::from_signed_bytes_le(bytes))
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
    if year == 0 || b[6] > 59 || micro > 999_999 {
        return Err(bad());
    }
    NaiveDate::from_ymd_opt(year, month, b[3].into())
        .and_then(|d| d.and_hms_micro_opt(b[4].into(), b[5].into(), b[6].into(), micro))
        .ok_or_else(bad)
}

/// Python's `codecs.escape_decode`, which reads a Python 2 `STRING` literal.
fn escape_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err("trailing \\ in string".into());
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let hex = s.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                let v = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(v.ok_or_else(|| format!("invalid \\x escape at position {}", i - 2))?);
                i += 2;
            }
            _ => out.extend([b'\\', e]),
        }
    }
    Ok(out)
}

/// Python's `raw_unicode_escape` decoder, which reads protocol 0's `UNICODE`: bytes are
/// latin-1 code points, except `\uXXXX` and `\UXXXXXXXX` after an odd number of backslashes.
fn raw_unicode_escape(s: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(char::from(s[i]));
            i += 1;
            continue;
        }
        let start = i;
        while i < s.len() && s[i] == b'\\' {
            out.push('\\');
            i += 1;
        }
        let odd = (i - start) % 2 == 1;
        let width = match s.get(i) {
            Some(b'u') if odd => 4,
            Some(b'U') if odd => 8,
            _ => continue,
        };
        out.pop();
        let hex = s
            .get(i + 1..i + 1 + width)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("truncated \\{} escape", char::from(s[i])))?;
        let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        let c = char::from_u32(code).ok_or_else(|| {
            if code > 0x10ffff {
                "\\Uxxxxxxxx out of range".to_owned()
            } else {
                "a lone surrogate, which a session str cannot hold".to_owned()
            }
        })?;
        out.push(c);
        i += 1 + width;
    }
    Ok(out)
}

fn kind(obj: &Obj) -> &'static str {
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

fn outside(obj: &Obj) -> PickleError {
    PickleError::OutsideModel(kind(obj).to_owned())
}

/// Turns the arena graph into owned session values, within a depth limit and a size budget
/// (memo references can make a small pickle name one big object many times).
struct Convert<'a> {
    arena: &'a [Node],
    budget: usize,
    used: usize,
    /// Containers being converted: meeting one again is a cycle.
    open: HashSet<usize>,
}

impl Convert<'_> {
    fn charge(&mut self, bytes: usize) -> Result<(), PickleError> {
        self.used = self.used.saturating_add(bytes + size_of::<SessionValue>());
        if self.used > self.budget {
            return Err(PickleError::TooLarge(self.budget));
        }
        Ok(())
    }

    fn session(&mut self, top: &Obj) -> Result<(SessionData, NaiveDateTime), PickleError> {
        // CherryPy only indexes the pair (`data[0]`, `data[1]`), so a list works as well.
        let pair = match top {
            Obj::Tuple(id) | Obj::List(id) => match &self.arena[*id] {
                Node::Tuple(items) | Node::List(items) => items,
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
        let Node::Dict(dict) = &self.arena[id] else {
            unreachable!("arena kinds match their handles")
        };
        self.open.insert(id);
        let mut out = SessionData::with_capacity(dict.items.len());
        for (k, v) in &dict.items {
            let Obj::Str(k) = k else {
                return Err(PickleError::NonStrKey(kind(k)));
            };
            self.charge(k.len())?;
            let v = self.value(v, 1)?;
            out.insert(k.to_string(), v);
        }
        Ok((out, expires))
    }

    fn value(&mut self, obj: &Obj, depth: usize) -> Result<SessionValue, PickleError> {
        if depth > MAX_DEPTH {
            return Err(PickleError::TooDeep(MAX_DEPTH));
        }
        let v = match obj {
            Obj::None => SessionValue::None,
            Obj::Bool(b) => SessionValue::Bool(*b),
            Obj::Int(i) => SessionValue::Int(*i),
            Obj::Big(b) => {
                self.charge(b.bits() as usize / 8)?;
                SessionValue::BigInt((**b).clone())
            }
            Obj::Float(f) => SessionValue::Float(*f),
            Obj::Str(s) => {
                self.charge(s.len())?;
                SessionValue::Str(s.to_string())
            }
            Obj::Bytes(b) => {
                self.charge(b.len())?;
                SessionValue::Bytes(b.to_vec())
            }
            Obj::List(id) | Obj::Tuple(id) | Obj::Dict(id) => return self.container(*id, depth),
            other => return Err(outside(other)),
        };
        self.charge(0)?;
        Ok(v)
    }

    fn container(&mut self, id: usize, depth: usize) -> Result<SessionValue, PickleError> {
        if !self.open.insert(id) {
            return Err(PickleError::OutsideModel("a recursive structure".into()));
        }
        self.charge(0)?;
        let v = match &self.arena[id] {
            Node::List(items) => SessionValue::List(self.items(items, depth)?),
            Node::Tuple(items) => SessionValue::Tuple(self.items(items, depth)?),
            Node::Dict(dict) => {
                let mut out = Vec::with_capacity(dict.items.len());
                for (k, v) in &dict.items {
                    let k = grow_stack(|| self.value(k, depth + 1))?;
                    out.push((k, grow_stack(|| self.value(v, depth + 1))?));
                }
                SessionValue::Dict(out)
            }
        };
        self.open.remove(&id);
        Ok(v)
    }

    fn items(&mut self, items: &[Obj], depth: usize) -> Result<Vec<SessionValue>, PickleError> {
        items
            .iter()
            .map(|item| grow_stack(|| self.value(item, depth + 1)))
            .collect()
    }
}
