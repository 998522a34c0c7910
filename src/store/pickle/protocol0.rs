//! The text pickler (protocol 0), byte for byte as CPython 3's C pickler writes a fresh
//! session: python-memcached pickles with protocol 0, and writing the same bytes lets a
//! test compare our memcached values with CherryPy's exactly.
//!
//! Python memoizes by object identity, which our values do not have: each str and
//! container is a new object (as in a session built from a request), while the two
//! constants Python reuses for `bytes` (the function `_codecs.encode` and the string
//! `'latin1'`) are memoized once and referred to (`g<n>`) afterwards.

use std::fmt::Write;

use chrono::NaiveDateTime;

use super::{PickleError, grow_stack, measure};
use crate::limits::MAX_SESSION_BYTES;
use crate::session_value::{SessionData, SessionValue};

struct Pickler {
    out: Vec<u8>,
    next_memo: usize,
    codecs_encode: Option<usize>,
    latin1: Option<usize>,
}

pub(super) fn encode(data: &SessionData, expires: NaiveDateTime) -> Result<Vec<u8>, PickleError> {
    // The same budget as protocol 4 (see `measure`); the text form of the same data is
    // longer, and the decoder reads no pickle longer than the budget, so that is checked too.
    measure::measure(data)?;
    let mut p = Pickler {
        out: Vec::with_capacity(64 + data.len() * 16),
        next_memo: 0,
        codecs_encode: None,
        latin1: None,
    };
    p.out.push(b'(');
    p.out.extend(b"(d");
    p.memoize();
    for (k, v) in data {
        p.str(k);
        p.value(v);
        p.out.push(b's');
    }
    p.datetime(expires)?;
    p.out.push(b't');
    p.memoize();
    p.out.push(b'.');
    if p.out.len() > MAX_SESSION_BYTES {
        return Err(PickleError::TooLarge(MAX_SESSION_BYTES));
    }
    Ok(p.out)
}

impl Pickler {
    /// `PUT`: the object just written gets the next memo index.
    fn memoize(&mut self) -> usize {
        let at = self.next_memo;
        self.next_memo += 1;
        self.line(b'p', at);
        at
    }

    fn line(&mut self, op: u8, n: impl std::fmt::Display) {
        self.out.push(op);
        let mut text = String::new();
        let _ = write!(text, "{n}");
        self.out.extend(text.as_bytes());
        self.out.push(b'\n');
    }

    /// Writes one value; [`measure::measure`] has checked it.
    fn value(&mut self, v: &SessionValue) {
        match v {
            SessionValue::None => self.out.push(b'N'),
            SessionValue::Bool(b) => self.out.extend(if *b { b"I01\n" } else { b"I00\n" }),
            SessionValue::Int(i) => match i32::try_from(*i) {
                Ok(small) => self.line(b'I', small),
                Err(_) => self.line(b'L', format_args!("{i}L")),
            },
            SessionValue::BigInt(b) => self.line(b'L', format_args!("{b}L")),
            SessionValue::Float(f) => self.line(b'F', crate::unrepr::float_repr(*f)),
            SessionValue::Str(s) => self.str(s),
            SessionValue::Bytes(b) => self.bytes(b),
            SessionValue::List(items) => {
                self.out.extend(b"(l");
                self.memoize();
                for item in items {
                    grow_stack(|| self.value(item));
                    self.out.push(b'a');
                }
            }
            SessionValue::Tuple(items) if items.is_empty() => self.out.extend(b"(t"),
            SessionValue::Tuple(items) => {
                self.out.push(b'(');
                for item in items {
                    grow_stack(|| self.value(item));
                }
                self.out.push(b't');
                self.memoize();
            }
            SessionValue::Dict(items) => {
                self.out.extend(b"(d");
                self.memoize();
                for (k, v) in items {
                    grow_stack(|| self.value(k));
                    grow_stack(|| self.value(v));
                    self.out.push(b's');
                }
            }
        }
    }

    /// `UNICODE`: raw-unicode-escape, with the characters that would break the line (and
    /// `\`) escaped as `\u00xx`, as CPython's pickler does.
    fn str(&mut self, s: &str) {
        self.out.push(b'V');
        for c in s.chars() {
            let code = u32::from(c);
            match c {
                '\\' | '\0' | '\n' | '\r' | '\x1a' => {
                    let _ = self.push_fmt(format_args!("\\u{code:04x}"));
                }
                _ if code < 0x100 => self.out.push(code as u8),
                _ if code < 0x10000 => {
                    let _ = self.push_fmt(format_args!("\\u{code:04x}"));
                }
                _ => {
                    let _ = self.push_fmt(format_args!("\\U{code:08x}"));
                }
            }
        }
        self.out.push(b'\n');
        self.memoize();
    }

    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) -> std::fmt::Result {
        let mut text = String::new();
        text.write_fmt(args)?;
        self.out.extend(text.as_bytes());
        Ok(())
    }

    /// Protocols below 3 have no bytes type: `_codecs.encode(latin1_text, 'latin1')`, or
    /// `bytes()` when empty.
    fn bytes(&mut self, b: &[u8]) {
        if b.is_empty() {
            self.out.extend(b"c__builtin__\nbytes\n");
            self.memoize();
            self.out.extend(b"(tR");
            self.memoize();
            return;
        }
        match self.codecs_encode {
            Some(at) => self.line(b'g', at),
            None => {
                self.out.extend(b"c_codecs\nencode\n");
                self.codecs_encode = Some(self.memoize());
            }
        }
        self.out.push(b'(');
        let text: String = b.iter().map(|&byte| char::from(byte)).collect();
        self.str(&text);
        match self.latin1 {
            Some(at) => self.line(b'g', at),
            None => {
                self.out.extend(b"Vlatin1\n");
                self.latin1 = Some(self.memoize());
            }
        }
        self.out.push(b't');
        self.memoize();
        self.out.push(b'R');
        self.memoize();
    }

    /// `datetime.datetime(state)`, the 10-byte state as bytes.
    fn datetime(&mut self, t: NaiveDateTime) -> Result<(), PickleError> {
        let state = super::encode::datetime_state(t)?;
        self.out.extend(b"cdatetime\ndatetime\n");
        self.memoize();
        self.out.push(b'(');
        self.bytes(&state);
        self.out.push(b't');
        self.memoize();
        self.out.push(b'R');
        self.memoize();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// Bytes printed by `pickle.dumps(((data), datetime(...)), 0)` in CPython 3.11.
    #[test]
    fn same_bytes_as_cpython() {
        let expires = NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_micro_opt(7, 30, 15, 123_456))
            .expect("valid");
        let mut data = SessionData::new();
        data.insert("count".into(), SessionValue::Int(3));
        data.insert("name".into(), SessionValue::Str("h\u{e9}llo".into()));
        data.insert(
            "l".into(),
            SessionValue::List(vec![
                SessionValue::Int(1),
                SessionValue::Float(2.5),
                SessionValue::None,
                SessionValue::Bool(true),
            ]),
        );
        data.insert("b".into(), SessionValue::Bytes(b"\0x".to_vec()));
        data.insert("t".into(), SessionValue::Tuple(vec![SessionValue::Int(1)]));
        data.insert(
            "d".into(),
            SessionValue::Dict(vec![(SessionValue::Str("a".into()), SessionValue::Int(1))]),
        );
        let expected: &[u8] = b"((dp0\nVcount\np1\nI3\nsVname\np2\nVh\xe9llo\np3\nsVl\np4\n(lp5\nI1\naF2.5\naNaI01\nasVb\np6\nc_codecs\nencode\np7\n(V\\u0000x\np8\nVlatin1\np9\ntp10\nRp11\nsVt\np12\n(I1\ntp13\nsVd\np14\n(dp15\nVa\np16\nI1\nsscdatetime\ndatetime\np17\n(g7\n(V\x07\xea\x0b\x1c\x07\x1e\x0f\x01\xe2@\np18\ng9\ntp19\nRp20\ntp21\nRp22\ntp23\n.";
        let ours = encode(&data, expires).expect("encodes");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(expected)
        );
        let (back, when) = super::super::decode(&ours).expect("decodes");
        assert_eq!((back, when), (data, expires));
    }
}
