//! Where a session pickle keeps its expiration, so that a request which only read the session
//! can extend it by rewriting those ten bytes instead of the whole pickle.

use chrono::NaiveDateTime;

use super::op;

/// The offset of the expiration's 10-byte `datetime` state in a pickle of `(data,
/// expiration)` written with protocol 3 or later (ours, CherryPy's): the pickle must end
/// with `SHORT_BINBYTES 10 <state> TUPLE1 REDUCE TUPLE2 STOP`, the state and each opcode
/// but `STOP` optionally followed by `MEMOIZE` (protocol 4+ picklers memoize), and the state must be a
/// valid `datetime`. Anything else (protocols 0–2, which spell the state differently) is
/// `None`: the caller writes the whole pickle.
///
/// Only meaningful for bytes that [`super::decode`] has just read as a session: that the
/// tuple's last element is a `datetime` is then known, and this finds its bytes.
pub(crate) fn state_offset(bytes: &[u8]) -> Option<usize> {
    let mut end = bytes.len();
    for opcode in [op::STOP, op::TUPLE2, op::REDUCE, op::TUPLE1] {
        if opcode != op::STOP && end > 0 && bytes[end - 1] == op::MEMOIZE {
            end -= 1;
        }
        if end == 0 || bytes[end - 1] != opcode {
            return None;
        }
        end -= 1;
    }
    // A MEMOIZE after the state cannot be told from a state whose last byte happens to be
    // MEMOIZE's (a microsecond count ending in 0x94) by that byte alone: the state's header
    // decides, which only one of the two readings can have.
    let state_at = |end: usize| {
        let start = end.checked_sub(10)?;
        let header = bytes.get(start.checked_sub(2)?..start)?;
        let state = &bytes[start..end];
        (header == [op::SHORT_BINBYTES, 10] && super::decode::datetime_from_state(state).is_ok())
            .then_some(start)
    };
    state_at(end).or_else(|| {
        (end > 0 && bytes[end - 1] == op::MEMOIZE)
            .then(|| state_at(end - 1))
            .flatten()
    })
}

/// The expiration a session pickle ends with, read from its last bytes alone (as
/// [`state_offset`] finds it): for a session whose data cannot be read (objects outside the
/// session data model, such as a `set`, which CherryPy stores), so that its expiry is
/// still known. Bytes that were not read as a session may end in what only looks like an
/// expiration; the clean-up, which uses this, removes no more than such a file's name
/// claims.
pub(crate) fn read(bytes: &[u8]) -> Option<NaiveDateTime> {
    let at = state_offset(bytes)?;
    super::decode::datetime_from_state(&bytes[at..at + 10]).ok()
}

/// The 10 bytes [`state_offset`] points at, for a new expiration.
pub(crate) fn state(expires: NaiveDateTime) -> Result<[u8; 10], super::PickleError> {
    super::encode::datetime_state(expires)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_value::{SessionData, SessionValue};
    use chrono::NaiveDate;

    fn at(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_micro_opt(h, 20, 30, 573_855)
            .unwrap()
    }

    #[test]
    fn our_pickles_get_a_new_expiration_in_place() {
        let mut data = SessionData::default();
        data.insert("user".into(), SessionValue::Str("C\n".repeat(20)));
        let mut bytes = super::super::encode(&data, at(6)).unwrap();
        let offset = state_offset(&bytes).expect("protocol 4 tail");
        bytes[offset..offset + 10].copy_from_slice(&state(at(9)).unwrap());
        assert_eq!(super::super::decode(&bytes).unwrap(), (data, at(9)));
    }

    /// `pickle.dumps(({'user': 'alice'}, datetime(2026, 11, 28, 6, 20, 30, 573855)),
    /// protocol=5)`, as CherryPy 18 writes session files: memoized, framed.
    #[test]
    fn cherrypys_pickles_too() {
        let hex = "8005953e000000000000007d948c0475736572948c05616c69636594738c086461746574696d65948c086461746574696d65949394430a07ea0b1c06141e08c19f948594529486942e";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let (data, expires) = super::super::decode(&bytes).unwrap();
        assert_eq!(expires, at(6));
        let offset = state_offset(&bytes).expect("protocol 5 tail");
        let mut bytes = bytes;
        bytes[offset..offset + 10].copy_from_slice(&state(at(9)).unwrap());
        assert_eq!(super::super::decode(&bytes).unwrap(), (data, at(9)));
    }

    /// A state whose last byte is MEMOIZE's (a microsecond count ending in 0x94, one time
    /// in 256) is the state's byte, not a MEMOIZE, in a pickle that memoizes nothing.
    #[test]
    fn a_state_ending_in_the_memoize_byte_is_found() {
        let data = SessionData::default();
        for micro in [0x94, 0x0194, 0x9494] {
            let when = NaiveDate::from_ymd_opt(2026, 12, 4)
                .unwrap()
                .and_hms_micro_opt(16, 40, 14, micro)
                .unwrap();
            let mut bytes = super::super::encode(&data, when).unwrap();
            let offset = state_offset(&bytes).expect("protocol 4 tail");
            assert_eq!(bytes[offset + 9], op::MEMOIZE);
            bytes[offset..offset + 10].copy_from_slice(&state(at(9)).unwrap());
            assert_eq!(super::super::decode(&bytes).unwrap(), (data.clone(), at(9)));
        }
    }

    #[test]
    fn other_tails_are_not_guessed_at() {
        let data = SessionData::default();
        let good = super::super::encode(&data, at(6)).unwrap();
        // Protocol 0 (python-memcached) spells the state as a string and has no TUPLE2.
        let p0 = b"(dp0\ncdatetime\ndatetime\np1\n(S'\\x07\\xea\\x0b\\x1c\\x06\\x14\\x1e\\x08\\xbd\\x9f'\np2\ntp3\nRp4\ntp5\n.";
        for bytes in [
            &good[..good.len() - 1],
            &good[good.len() - 14..],
            b"." as &[u8],
            b"",
            &p0[..],
        ] {
            assert_eq!(state_offset(bytes), None, "{bytes:02x?}");
        }
        // A state that is no datetime (month 13).
        let mut bad = good.clone();
        let offset = state_offset(&good).unwrap();
        bad[offset + 2] = 13;
        assert_eq!(state_offset(&bad), None);
    }
}
