//! The binary pickler of `pickle.HIGHEST_PROTOCOL` (5), byte for byte as CPython 3's C
//! pickler writes a session: what `cherrys` stores in Redis (`pickle.dumps((data,
//! expiration), pickle.HIGHEST_PROTOCOL)`), so that a test compares our Redis values with
//! cherrys' exactly, and a value written by either side is the one the other would write.
//!
//! Beyond protocol 4's opcodes this means the pickler's bookkeeping: a `MEMOIZE` after each
//! object Python memoizes (str, bytes, list, dict, non-empty tuple, the `datetime` class
//! and instance), frames (`FRAME` + 8-byte length, a new one started at the first `save`
//! after 64 KiB, omitted when shorter than 4 bytes; a str or bytes payload of 64 KiB or more
//! is written outside any frame), `APPEND`/`SETITEM` for a container of one item, and the
//! C pickler's empty `MARK SETITEMS` after a dict whose size is a multiple of 1,000.
//!
//! Python memoizes by object identity, which our values do not have: each str and
//! container is a new object (as in a session built from a request), except the ones
//! CPython keeps as singletons, which every reading of a pickle gives back as one object:
//! the empty str and bytes, a str of one character below U+0100 and a bytes of one byte.
//! Those are memoized once and referred to (`BINGET`) afterwards.

use chrono::NaiveDateTime;
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use rustc_hash::FxHashMap;

use super::measure::{self, BATCH};
use super::{PickleError, grow_stack, op};
use crate::limits::MAX_SESSION_BYTES;
use crate::session_value::{SessionData, SessionValue};

/// A frame is closed at the first object boundary once it holds this much, and a payload
/// this long is written outside frames (CPython's `_FRAME_SIZE_TARGET`).
const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// A frame shorter than this gets no `FRAME` header (CPython's `_FRAME_SIZE_MIN`).
const FRAME_SIZE_MIN: usize = 4;
const FRAME_HEADER: usize = 9;

/// An object CPython keeps once per process: memoized once per pickle.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Singleton {
    Str(Option<char>),
    Bytes(Option<u8>),
}

struct Pickler {
    out: Vec<u8>,
    /// Where the open frame's header is, if a frame is open.
    frame_start: Option<usize>,
    framing: bool,
    next_memo: u32,
    singletons: FxHashMap<Singleton, u32>,
}

pub(super) fn encode(data: &SessionData, expires: NaiveDateTime) -> Result<Vec<u8>, PickleError> {
    // The budgets of protocol 4 (see `measure`); the memo and frame opcodes make the same
    // data longer, and the decoder reads no pickle longer than the budget, so that is
    // checked too.
    let size = measure::measure(data)?;
    let mut p = Pickler {
        out: Vec::with_capacity(size.bytes + size.bytes / 8 + 32),
        frame_start: None,
        framing: false,
        next_memo: 0,
        singletons: FxHashMap::default(),
    };
    p.out.extend([op::PROTO, 5]);
    p.framing = true;
    // save((data, expires)): a tuple of two.
    p.boundary();
    p.session(data);
    p.datetime(expires)?;
    p.write(&[op::TUPLE2]);
    p.memoize();
    p.write(&[op::STOP]);
    p.commit_frame();
    if p.out.len() > MAX_SESSION_BYTES {
        return Err(PickleError::TooLarge(MAX_SESSION_BYTES));
    }
    Ok(p.out)
}

impl Pickler {
    /// Writes into the open frame, opening one first if framing and none is open.
    fn write(&mut self, bytes: &[u8]) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.out.len());
            self.out.extend([0; FRAME_HEADER]);
        }
        self.out.extend_from_slice(bytes);
    }

    /// Closes the open frame: its header, or none if it is shorter than the minimum.
    fn commit_frame(&mut self) {
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = self.out.len() - start - FRAME_HEADER;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = op::FRAME;
            self.out[start + 1..start + FRAME_HEADER].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER);
        }
    }

    /// The start of each `save`: a frame that reached the target is closed.
    fn boundary(&mut self) {
        if let Some(start) = self.frame_start
            && self.out.len() - start - FRAME_HEADER >= FRAME_SIZE_TARGET
        {
            self.commit_frame();
        }
    }

    /// A str or bytes: its header and payload, outside frames when the payload is large.
    fn write_payload(&mut self, header: &[u8], payload: &[u8]) {
        let bypass = payload.len() >= FRAME_SIZE_TARGET;
        if bypass {
            self.commit_frame();
            self.framing = false;
        }
        self.write(header);
        self.write(payload);
        self.framing = true;
    }

    /// `MEMOIZE`: the object just written gets the next memo index.
    fn memoize(&mut self) -> u32 {
        let at = self.next_memo;
        self.next_memo += 1;
        self.write(&[op::MEMOIZE]);
        at
    }

    /// `BINGET`/`LONG_BINGET` of a singleton already memoized; whether it was.
    fn get(&mut self, singleton: Option<Singleton>) -> bool {
        let Some(at) = singleton.and_then(|s| self.singletons.get(&s).copied()) else {
            return false;
        };
        match u8::try_from(at) {
            Ok(small) => self.write(&[op::BINGET, small]),
            Err(_) => {
                let [a, b, c, d] = at.to_le_bytes();
                self.write(&[op::LONG_BINGET, a, b, c, d]);
            }
        }
        true
    }

    fn remember(&mut self, singleton: Option<Singleton>, at: u32) {
        if let Some(s) = singleton {
            self.singletons.insert(s, at);
        }
    }

    /// The session dict: `EMPTY_DICT`, then its items as the C pickler batches an exact
    /// dict.
    fn session(&mut self, data: &SessionData) {
        self.boundary();
        self.write(&[op::EMPTY_DICT]);
        self.memoize();
        let items: Vec<_> = data.iter().collect();
        self.dict_items(&items, |p, (k, v)| {
            p.str(k);
            p.value(v);
        });
    }

    /// `SETITEM` for one item; else batches of 1,000 in `MARK ... SETITEMS`, and, as
    /// CPython's `batch_dict_exact` loops while the last batch was full, an empty batch
    /// after a multiple of 1,000.
    fn dict_items<T: Copy>(&mut self, items: &[T], mut item: impl FnMut(&mut Self, T)) {
        match items.len() {
            0 => {}
            1 => {
                item(self, items[0]);
                self.write(&[op::SETITEM]);
            }
            n => {
                for batch in items.chunks(BATCH) {
                    self.write(&[op::MARK]);
                    for &one in batch {
                        item(self, one);
                    }
                    self.write(&[op::SETITEMS]);
                }
                if n % BATCH == 0 {
                    self.write(&[op::MARK, op::SETITEMS]);
                }
            }
        }
    }

    /// `save(value)`; [`measure::measure`] has checked it.
    fn value(&mut self, v: &SessionValue) {
        self.boundary();
        match v {
            SessionValue::None => self.write(&[op::NONE]),
            SessionValue::Bool(b) => self.write(&[if *b { op::NEWTRUE } else { op::NEWFALSE }]),
            SessionValue::Int(i) => self.int(*i),
            SessionValue::BigInt(b) => match b.to_i64() {
                Some(i) => self.int(i),
                None => self.long(b),
            },
            SessionValue::Float(f) => {
                let mut code = [op::BINFLOAT; 9];
                code[1..].copy_from_slice(&f.to_be_bytes());
                self.write(&code);
            }
            SessionValue::Str(s) => self.str_unsaved(s),
            SessionValue::Bytes(b) => self.bytes_unsaved(b),
            SessionValue::List(items) => {
                self.write(&[op::EMPTY_LIST]);
                self.memoize();
                match items.len() {
                    0 => {}
                    1 => {
                        grow_stack(|| self.value(&items[0]));
                        self.write(&[op::APPEND]);
                    }
                    _ => {
                        for batch in items.chunks(BATCH) {
                            self.write(&[op::MARK]);
                            for item in batch {
                                grow_stack(|| self.value(item));
                            }
                            self.write(&[op::APPENDS]);
                        }
                    }
                }
            }
            SessionValue::Tuple(items) => match items.len() {
                0 => self.write(&[op::EMPTY_TUPLE]),
                n @ 1..=3 => {
                    for item in items {
                        grow_stack(|| self.value(item));
                    }
                    self.write(&[op::TUPLE1 + (n as u8 - 1)]);
                    self.memoize();
                }
                _ => {
                    self.write(&[op::MARK]);
                    for item in items {
                        grow_stack(|| self.value(item));
                    }
                    self.write(&[op::TUPLE]);
                    self.memoize();
                }
            },
            SessionValue::Dict(items) => {
                self.write(&[op::EMPTY_DICT]);
                self.memoize();
                let pairs: Vec<_> = items.iter().collect();
                self.dict_items(&pairs, |p, (k, v)| {
                    grow_stack(|| p.value(k));
                    grow_stack(|| p.value(v));
                });
            }
        }
    }

    /// Python's choice: the smallest of `BININT1`, `BININT2`, `BININT`, else `LONG1`.
    fn int(&mut self, i: i64) {
        if let Ok(b) = u8::try_from(i) {
            self.write(&[op::BININT1, b]);
        } else if let Ok(h) = u16::try_from(i) {
            let [a, b] = h.to_le_bytes();
            self.write(&[op::BININT2, a, b]);
        } else if let Ok(w) = i32::try_from(i) {
            let [a, b, c, d] = w.to_le_bytes();
            self.write(&[op::BININT, a, b, c, d]);
        } else {
            self.long(&BigInt::from(i));
        }
    }

    /// Minimal two's complement, little-endian: the same bytes as Python's `encode_long`.
    fn long(&mut self, b: &BigInt) {
        let bytes = b.to_signed_bytes_le();
        let mut code = match u8::try_from(bytes.len()) {
            Ok(n) => vec![op::LONG1, n],
            Err(_) => {
                let mut code = vec![op::LONG4];
                // A 2 GiB int is not a session value anyone can build; saturate.
                code.extend(i32::try_from(bytes.len()).unwrap_or(i32::MAX).to_le_bytes());
                code
            }
        };
        code.extend(bytes);
        self.write(&code);
    }

    /// `save(str)`, with its own object boundary.
    fn str(&mut self, s: &str) {
        self.boundary();
        self.str_unsaved(s);
    }

    fn str_unsaved(&mut self, s: &str) {
        let mut chars = s.chars();
        let singleton = match (chars.next(), chars.next()) {
            (None, _) => Some(Singleton::Str(None)),
            (Some(c), None) if u32::from(c) < 0x100 => Some(Singleton::Str(Some(c))),
            _ => None,
        };
        if self.get(singleton) {
            return;
        }
        let (header, len) = sized(
            s.len(),
            [op::SHORT_BINUNICODE, op::BINUNICODE, op::BINUNICODE8],
        );
        self.write_payload(&header[..len], s.as_bytes());
        let at = self.memoize();
        self.remember(singleton, at);
    }

    /// `save(bytes)`, with its own object boundary.
    fn bytes(&mut self, b: &[u8]) {
        self.boundary();
        self.bytes_unsaved(b);
    }

    fn bytes_unsaved(&mut self, b: &[u8]) {
        let singleton = match b {
            [] => Some(Singleton::Bytes(None)),
            [one] => Some(Singleton::Bytes(Some(*one))),
            _ => None,
        };
        if self.get(singleton) {
            return;
        }
        let (header, len) = sized(b.len(), [op::SHORT_BINBYTES, op::BINBYTES, op::BINBYTES8]);
        self.write_payload(&header[..len], b);
        let at = self.memoize();
        self.remember(singleton, at);
    }

    /// `save(datetime)`: its `__reduce_ex__` is `(datetime.datetime, (state,))`, so the
    /// class (`STACK_GLOBAL` of two strs), the argument tuple, `REDUCE`, each memoized.
    fn datetime(&mut self, t: NaiveDateTime) -> Result<(), PickleError> {
        let state = super::encode::datetime_state(t)?;
        self.boundary();
        // save(datetime.datetime): the module's name and the class's, distinct objects.
        self.boundary();
        self.str("datetime");
        self.str("datetime");
        self.write(&[op::STACK_GLOBAL]);
        self.memoize();
        // save((state,))
        self.boundary();
        self.bytes(&state);
        self.write(&[op::TUPLE1]);
        self.memoize();
        self.write(&[op::REDUCE]);
        self.memoize();
        Ok(())
    }
}

/// The opcode and length for a 1-byte, 4-byte or 8-byte length prefix, and how many of
/// the returned bytes they take (no allocation: this runs for every str).
fn sized(len: usize, [short, long, huge]: [u8; 3]) -> ([u8; 9], usize) {
    let mut code = [0; 9];
    if let Ok(n) = u8::try_from(len) {
        code[..2].copy_from_slice(&[short, n]);
        (code, 2)
    } else if let Ok(n) = u32::try_from(len) {
        code[0] = long;
        code[1..5].copy_from_slice(&n.to_le_bytes());
        (code, 5)
    } else {
        code[0] = huge;
        code[1..].copy_from_slice(&(len as u64).to_le_bytes());
        (code, 9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn expires() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_micro_opt(7, 30, 15, 123_456))
            .expect("valid")
    }

    /// Bytes printed by `pickle.dumps((data, datetime(2026, 11, 28, 7, 30, 15, 123456)),
    /// 5)` in CPython 3.11, with `data` built from fresh objects.
    #[test]
    fn same_bytes_as_cpython() {
        let mut data = SessionData::new();
        data.insert("count".into(), SessionValue::Int(3));
        data.insert(
            "l".into(),
            SessionValue::List(vec![SessionValue::Str("x".into())]),
        );
        data.insert("e".into(), SessionValue::Str(String::new()));
        data.insert("f".into(), SessionValue::Str(String::new()));
        data.insert(
            "d".into(),
            SessionValue::Dict(vec![(SessionValue::Str("ab".into()), SessionValue::Int(1))]),
        );
        let expected: &[u8] = b"\x80\x05\x95`\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x05count\x94K\x03\x8c\x01l\x94]\x94\x8c\x01x\x94a\x8c\x01e\x94\x8c\x00\x94\x8c\x01f\x94h\x06\x8c\x01d\x94}\x94\x8c\x02ab\x94K\x01su\x8c\x08datetime\x94\x8c\x08datetime\x94\x93\x94C\x0a\x07\xea\x0b\x1c\x07\x1e\x0f\x01\xe2@\x94\x85\x94R\x94\x86\x94.";
        let ours = encode(&data, expires()).expect("encodes");
        assert_eq!(ours, expected);
        let (back, when) = super::super::decode(&ours).expect("decodes");
        assert_eq!((back, when), (data, expires()));
    }

    /// Frames: closed at the first `save` past 64 KiB, a large payload outside them, and
    /// the dict's empty batch after 1,000 items; all read back.
    #[test]
    fn large_sessions_read_back() {
        let mut data = SessionData::new();
        for i in 0..1000 {
            data.insert(format!("k{i}"), SessionValue::Str("v".repeat(100)));
        }
        data.insert("big".into(), SessionValue::Bytes(vec![7; 70_000]));
        let ours = encode(&data, expires()).expect("encodes");
        let (back, when) = super::super::decode(&ours).expect("decodes");
        assert_eq!((back, when), (data, expires()));
    }
}
