//! Any session data: what we write (protocol 4 for files and Redis, protocol 0 for
//! memcached) reads back equal, or is refused when written; never written and then
//! unreadable.
#![no_main]

use actix_cherrypy::session_value::{SessionData, SessionValue, dict_repr};
use actix_cherrypy::__private::pickle;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<SessionValue> {
    let leaf = depth == 0 || u.is_empty();
    Ok(match u.int_in_range(0..=if leaf { 6 } else { 9 })? {
        0 => SessionValue::None,
        1 => SessionValue::Bool(u.arbitrary()?),
        2 => SessionValue::Int(u.arbitrary()?),
        3 => SessionValue::BigInt(num_bigint::BigInt::from_signed_bytes_le(u.arbitrary()?)),
        4 => SessionValue::Float(u.arbitrary()?),
        5 => SessionValue::Str(u.arbitrary()?),
        6 => SessionValue::Bytes(u.arbitrary()?),
        7 => SessionValue::List(items(u, depth)?),
        8 => SessionValue::Tuple(items(u, depth)?),
        _ => {
            let n = u.int_in_range(0..=8)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                // Python dict keys are hashable: scalars and tuples of them.
                let key = match u.int_in_range(0..=2)? {
                    0 => SessionValue::Str(u.arbitrary()?),
                    1 => SessionValue::Int(u.arbitrary()?),
                    _ => SessionValue::Tuple(vec![SessionValue::Str(u.arbitrary()?)]),
                };
                pairs.push((key, value(u, depth - 1)?));
            }
            SessionValue::Dict(pairs)
        }
    })
}

fn items(u: &mut Unstructured<'_>, depth: u32) -> Result<Vec<SessionValue>> {
    let n = u.int_in_range(0..=8)?;
    (0..n).map(|_| value(u, depth - 1)).collect()
}

fuzz_target!(|bytes: &[u8]| {
    let mut u = Unstructured::new(bytes);
    let mut data = SessionData::new();
    while !u.is_empty() && data.len() < 16 {
        let Ok(key) = u.arbitrary::<String>() else { break };
        let Ok(v) = value(&mut u, 6) else { break };
        data.insert(key, v);
    }
    let expires = chrono::NaiveDate::from_ymd_opt(2030, 1, 2)
        .and_then(|d| d.and_hms_micro_opt(3, 4, 5, 678_901))
        .expect("a valid date");
    if let Ok(bytes) = pickle::encode(&data, expires) {
        let (back, when) = pickle::decode(&bytes).expect("protocol 4: what we write reads back");
        assert_eq!(dict_repr(&back), dict_repr(&data));
        assert_eq!(when, expires);
    }
    if let Ok(bytes) = pickle::encode_protocol0(&data, expires) {
        let (back, when) = pickle::decode(&bytes).expect("protocol 0: what we write reads back");
        assert_eq!(dict_repr(&back), dict_repr(&data));
        assert_eq!(when, expires);
    }
});
