//! Property tests: whatever session data fits the budget is written so that it reads back
//! equal, in both protocols, and Python reads it too.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{NaiveDate, NaiveDateTime};
use num_bigint::BigInt;
use proptest::prelude::*;

use super::measure;
use crate::session_value::{SessionData, SessionValue as V};

fn expires() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2031, 7, 9)
        .and_then(|d| d.and_hms_micro_opt(13, 5, 59, 250_001))
        .expect("a valid date")
}

/// An int beyond 64 bits (one that fits reads back as `Int`, as Python has one int type).
fn big() -> impl Strategy<Value = BigInt> {
    (any::<bool>(), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(negative, bytes)| {
        let magnitude: BigInt = BigInt::from_bytes_le(num_bigint::Sign::Plus, &bytes)
            + BigInt::from(u64::MAX)
            + BigInt::from(1);
        if negative { -magnitude } else { magnitude }
    })
}

/// A value: any scalar but NaN (which equals nothing, itself included).
fn scalar() -> impl Strategy<Value = V> {
    prop_oneof![
        Just(V::None),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::Int),
        big().prop_map(V::BigInt),
        any::<f64>()
            .prop_filter("NaN", |f| !f.is_nan())
            .prop_map(V::Float),
        any::<String>().prop_map(V::Str),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(V::Bytes),
    ]
}

/// A dict key: hashable, and of kinds whose Python equality is their repr's (no bool or
/// float, which equal ints), so distinct keys stay distinct.
fn key() -> impl Strategy<Value = V> {
    let atom = prop_oneof![
        any::<i64>().prop_map(V::Int),
        any::<String>().prop_map(V::Str),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(V::Bytes),
    ];
    prop_oneof![
        atom.clone(),
        prop::collection::vec(atom, 0..4).prop_map(V::Tuple)
    ]
}

fn value() -> impl Strategy<Value = V> {
    scalar().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(V::List),
            prop::collection::vec(inner.clone(), 0..8).prop_map(V::Tuple),
            prop::collection::vec((key(), inner), 0..8).prop_map(|items| {
                let mut seen = std::collections::HashSet::new();
                V::Dict(
                    items
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.python_repr()))
                        .collect(),
                )
            }),
        ]
    })
}

fn data() -> impl Strategy<Value = SessionData> {
    prop::collection::vec((any::<String>(), value()), 0..8)
        .prop_map(|entries| entries.into_iter().collect())
}

proptest! {
    #[test]
    fn what_fits_the_budget_reads_back_equal(data in data()) {
        let size = measure::measure(&data).expect("small data fits the budget");
        let bytes = super::encode(&data, expires()).expect("protocol 4 writes it");
        prop_assert_eq!(bytes.len(), size.bytes);
        let (back, when, read) = super::decode::decode_counting(&bytes).0.expect("reads back");
        prop_assert_eq!(&back, &data);
        prop_assert_eq!(when, expires());
        prop_assert_eq!(read, size);
        let text = super::protocol0::encode(&data, expires()).expect("protocol 0 writes it");
        let (back, when, read) = super::decode::decode_counting(&text).0.expect("reads back");
        prop_assert_eq!(&back, &data);
        prop_assert_eq!(when, expires());
        prop_assert_eq!(read, size);
        let highest = super::protocol5::encode(&data, expires()).expect("protocol 5 writes it");
        let (back, when, read) = super::decode::decode_counting(&highest).0.expect("reads back");
        prop_assert_eq!(&back, &data);
        prop_assert_eq!(when, expires());
        prop_assert_eq!(read, size);
        // What `Session::insert` weighs for the memcached and Redis stores is at least what
        // they write.
        prop_assert!(weighed(&data, measure::Encoding::Protocol0) >= text.len());
        prop_assert!(weighed(&data, measure::Encoding::Protocol5) >= highest.len());
        prop_assert_eq!(weighed(&data, measure::Encoding::Protocol4), bytes.len());
    }
}

/// The length `Session::insert` reckons `encoding` writes for `data`, entry by entry.
pub(super) fn weighed(data: &SessionData, encoding: measure::Encoding) -> usize {
    let weight = data
        .iter()
        .map(|(k, v)| measure::entry_weight(k, v, encoding).expect("measures"))
        .fold(measure::Weight::default(), measure::Weight::plus);
    measure::stored_length(weight, data.len(), encoding)
}

/// Python loads `bytes` and pickles what it read again (protocol 4), for us to read.
fn through_python(bytes: &[u8]) -> Vec<u8> {
    repickled(bytes, "4")
}

/// Python loads `bytes` and pickles what it read again with `protocol`.
fn repickled(bytes: &[u8], protocol: &str) -> Vec<u8> {
    // Only the standard library's pickle is needed: the CherryPy venv's Python when it is
    // there (CI), else the system's.
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/compat/.venv/bin/python");
    let python = match std::path::Path::new(venv).exists() {
        true => venv,
        false => "python3",
    };
    let script = format!(
        "import pickle,sys; sys.stdout.buffer.write(pickle.dumps(pickle.loads(sys.stdin.buffer.read()), {protocol}))"
    );
    let mut child = Command::new(python)
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Python 3 runs (compat/.venv/bin/python, else python3)");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(bytes)
        .expect("python reads its input");
    let out = child.wait_with_output().expect("python ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn python_reads_what_we_write(data in data()) {
        for bytes in [
            super::encode(&data, expires()).expect("protocol 4 writes it"),
            super::protocol0::encode(&data, expires()).expect("protocol 0 writes it"),
            super::protocol5::encode(&data, expires()).expect("protocol 5 writes it"),
        ] {
            let (back, when) = super::decode(&through_python(&bytes)).expect("reads back");
            prop_assert_eq!(&back, &data);
            prop_assert_eq!(when, expires());
        }
    }

    /// What we write as `pickle.HIGHEST_PROTOCOL` is what Python writes for the data it
    /// reads from it: the same memo, frames and batches, byte for byte.
    #[test]
    fn python_writes_our_highest_protocol_bytes_again(data in data()) {
        let ours = super::protocol5::encode(&data, expires()).expect("protocol 5 writes it");
        prop_assert_eq!(repickled(&ours, "pickle.HIGHEST_PROTOCOL"), ours);
    }
}
