//! The few calls a session pickle may make (`REDUCE`, `NEWOBJ`): `datetime.datetime` from
//! its state, `_codecs.encode` (how protocol 2 writes bytes) and `bytes()`. Every other
//! global was refused when it was read, so nothing else is ever called.

use std::rc::Rc;

use chrono::{NaiveDate, NaiveDateTime};

use super::Machine;
use crate::store::pickle::PickleError;
use crate::store::pickle::objects::{Global, Node, Obj, kind};
use crate::store::pickle::op;

impl Machine {
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
    pub(super) fn call(&mut self, code: u8, callable: Obj, args: Obj) -> Result<Obj, PickleError> {
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
            (Global::Bytes | Global::ByteArray, []) => {
                let empty = Obj::Bytes(Rc::from(&[][..]));
                self.made(&empty);
                Ok(empty)
            }
            (Global::Bytes | Global::ByteArray, [Obj::Bytes(b)]) => Ok(Obj::Bytes(b.clone())),
            (g, _) => Err(self.err(format!("unexpected arguments to {g:?}"))),
        }
    }

    /// `_codecs.encode(s, 'latin1')` (or UTF-8): the bytes of a long str are shared by
    /// every call on the same str, as converting a memoized str again per call would cost
    /// its length each. A short one is converted each time, at the cost of an opcode or
    /// two, rather than kept in the table (a pickle of many bytes values, as protocols 0-2
    /// write them, would double what it takes to decode).
    fn encode_str(&mut self, s: &Rc<str>, latin: bool) -> Result<Obj, PickleError> {
        /// The longest str converted again on each call.
        const SHORT: usize = 64;
        if s.len() <= SHORT {
            let bytes = Obj::Bytes(self.convert(s, latin)?);
            self.made(&bytes);
            return Ok(bytes);
        }
        let address = Rc::as_ptr(s).cast::<u8>() as usize;
        if let Some((_, b)) = self.encoded.get(&(address, latin)) {
            return Ok(Obj::Bytes(b.clone()));
        }
        let b = self.convert(s, latin)?;
        self.encoded
            .insert((address, latin), (s.clone(), b.clone()));
        let bytes = Obj::Bytes(b);
        self.made(&bytes);
        Ok(bytes)
    }

    /// `s` as latin-1 or UTF-8 bytes.
    fn convert(&mut self, s: &str, latin: bool) -> Result<Rc<[u8]>, PickleError> {
        self.work += s.len() as u64;
        let b: Rc<[u8]> = if latin {
            latin1(s)
                .ok_or_else(|| self.err("_codecs.encode: str is not latin-1"))?
                .into()
        } else {
            s.as_bytes().into()
        };
        Ok(b)
    }
}

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// `datetime.datetime`'s pickled state: year (2 bytes, big-endian), month (the high bit is
/// `fold`, which a naive time does not need), day, hour, minute, second, microsecond (3
/// bytes, big-endian).
pub(in crate::store::pickle) fn datetime_from_state(
    b: &[u8],
) -> Result<NaiveDateTime, PickleError> {
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
