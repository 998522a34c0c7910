//! Memo bombs: pickles of a few hundred bytes that name 2^k values through memo
//! references. Shared by the attack tests and the decoder's unit tests.

#![allow(dead_code)] // each user takes part of it

/// The expiration and the end of a protocol 4 session pickle, after the data dict.
pub(crate) const P4_TAIL: &[u8] =
    b"\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.";

/// `LONG_BINGET i`.
pub(crate) fn get4(i: usize) -> Vec<u8> {
    [&[b'j'][..], &(i as u32).to_le_bytes()].concat()
}

/// `t0 = ()`, `t(i+1) = (t(i), t(i))`, each memoized as `i`, each level 13 bytes.
pub(crate) fn p4_tuples(k: usize) -> Vec<u8> {
    let mut out = b")\x940".to_vec();
    for i in 0..k {
        out.extend(get4(i));
        out.extend(get4(i));
        out.extend(b"\x86\x940");
    }
    out
}

/// `{'k': t(k)}`, 2^k tuples.
pub(crate) fn value_bomb(k: usize) -> Vec<u8> {
    let mut out = b"\x80\x04}\x8c\x01k".to_vec();
    out.extend(p4_tuples(k));
    out.extend(get4(k));
    out.push(b's');
    out.extend(P4_TAIL);
    out
}

/// `{'k': {t(0): t(0), ..., t(k): t(k)}}`: every level a dict key, to be hashed and
/// compared with the others.
pub(crate) fn key_bomb(k: usize) -> Vec<u8> {
    let mut out = b"\x80\x04}\x8c\x01k}".to_vec();
    out.extend(p4_tuples(k));
    out.push(b'(');
    for i in 0..=k {
        out.extend(get4(i));
        out.extend(get4(i));
    }
    out.extend(b"us");
    out.extend(P4_TAIL);
    out
}

/// The same as a memcached value (protocol 0, python-memcached's).
pub(crate) fn p0_bomb(k: usize) -> Vec<u8> {
    let mut out = b"((dp0\nVk\np1\n(tp2\n0".to_vec();
    for i in 2..k + 2 {
        out.extend(format!("(g{i}\ng{i}\ntp{}\n0", i + 1).into_bytes());
    }
    out.extend(format!("g{}\ns", k + 2).into_bytes());
    out.extend(b"cdatetime\ndatetime\n(S'\\x07\\xea\\x0b\\x1c\\x03\\x140\\x01\\xe2@'\ntRt.");
    out
}
