//! Unit tests: round trips, pickles real Python wrote, and hostile inputs.

use chrono::{NaiveDate, NaiveDateTime};
use num_bigint::BigInt;

use super::*;
use crate::limits::MAX_SESSION_DEPTH;
use crate::session_value::{SessionData, SessionValue as V};

// Generated with CPython 3.11 from this data, pickled at protocols 0 to 5:
// DATA = {
//     'str': 'héllo € 😀 a\\b\nc', 'empty': '', 'bytes': b'\x00\xffab', 'ebytes': b'',
//     'int': 42, 'neg': -7, 'i16': 1000, 'i32': -100000, 'i64': 2**40, 'min64': -2**63,
//     'big': 2**100, 'nbig': -(2**200) + 1,
//     'f': 0.1, 'fbig': 1e300, 'fneg': -2.5,
//     't': True, 'fa': False, 'none': None,
//     'list': [1, [2, [3, []]], 'x'], 'tuples': ((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)),
//     'dict': {'a': {'b': [1, (2, 'c')]}, 1: 'int key', (1, 'x'): None, b'k': 0.5},
//     'shared': [shared, shared],  # shared = [1, 2], one object: memo GET
// }
/// `pickle.dumps((DATA, datetime.datetime(2026, 11, 28, 3, 20, 48, 123456)), protocol=0)`
const PY_PROTO0: &str = "28286470300a567374720a70310a5668e96c6c6f205c7532306163205c55303030316636303020615c7530303563625c7530303061630a70320a7356656d7074790a70330a560a70340a735662797465730a70350a635f636f646563730a656e636f64650a70360a28565c7530303030ff61620a70370a566c6174696e310a70380a7470390a527031300a73566562797465730a7031310a635f5f6275696c74696e5f5f0a62797465730a7031320a2874527031330a7356696e740a7031340a4934320a73566e65670a7031350a492d370a73566931360a7031360a49313030300a73566933320a7031370a492d3130303030300a73566936340a7031380a4c313039393531313632373737364c0a73566d696e36340a7031390a4c2d393232333337323033363835343737353830384c0a73566269670a7032300a4c313236373635303630303232383232393430313439363730333230353337364c0a73566e6269670a7032310a4c2d313630363933383034343235383939303237353534313936323039323334313136323630323532323230323939333738323739323833353330313337354c0a7356660a7032320a46302e310a7356666269670a7032330a4631652b3330300a7356666e65670a7032340a462d322e350a7356740a7032350a4930310a735666610a7032360a4930300a73566e6f6e650a7032370a4e73566c6973740a7032380a286c7032390a49310a61286c7033300a49320a61286c7033310a49330a61286c7033320a61616156780a7033330a6173567475706c65730a7033340a2828742849310a747033350a2849310a49320a747033360a2849310a49320a49330a747033370a2849310a49320a49330a49340a747033380a747033390a7356646963740a7034300a28647034310a56610a7034320a28647034330a56620a7034340a286c7034350a49310a612849320a56630a7034360a747034370a61737349310a56696e74206b65790a7034380a732849310a6733330a747034390a4e7367360a28566b0a7035300a67380a747035310a527035320a46302e350a7373567368617265640a7035330a286c7035340a286c7035350a49310a6149320a61616735350a6173636461746574696d650a6461746574696d650a7035360a2867360a285607ea0b1c03143001e2400a7035370a67380a747035380a527035390a747036300a527036310a747036320a2e";
/// `pickle.dumps((DATA, datetime.datetime(2026, 11, 28, 3, 20, 48, 123456)), protocol=1)`
const PY_PROTO1: &str = "287d71002858030000007374727101581500000068c3a96c6c6f20e282ac20f09f988020615c620a6371025805000000656d707479710358000000007104580500000062797465737105635f636f646563730a656e636f64650a710628580500000000c3bf6162710758060000006c6174696e31710874710952710a5806000000656279746573710b635f5f6275696c74696e5f5f0a62797465730a710c2952710d5803000000696e74710e4b2a58030000006e6567710f4af9ffffff580300000069313671104de803580300000069333271114a6079feff580300000069363471124c313039393531313632373737364c0a58050000006d696e363471134c2d393232333337323033363835343737353830384c0a580300000062696771144c313236373635303630303232383232393430313439363730333230353337364c0a58040000006e62696771154c2d313630363933383034343235383939303237353534313936323039323334313136323630323532323230323939333738323739323833353330313337354c0a5801000000667116473fb999999999999a5804000000666269677117477e37e43c8800759c5804000000666e6567711847c00400000000000058010000007471194930310a58020000006661711a4930300a58040000006e6f6e65711b4e58040000006c697374711c5d711d284b015d711e284b025d711f284b035d7120656558010000007871216558060000007475706c657371222829284b01747123284b014b02747124284b014b024b03747125284b014b024b034b0474712674712758040000006469637471287d712928580100000061712a7d712b580100000062712c5d712d284b01284b02580100000063712e74712f65734b015807000000696e74206b65797130284b0168217471314e68062858010000006b71326808747133527134473fe000000000000075580600000073686172656471355d7136285d7137284b014b026568376575636461746574696d650a6461746574696d650a713828680628580c00000007c3aa0b1c03143001c3a2407139680874713a52713b74713c52713d74713e2e";
/// `pickle.dumps((DATA, datetime.datetime(2026, 11, 28, 3, 20, 48, 123456)), protocol=2)`
const PY_PROTO2: &str = "80027d71002858030000007374727101581500000068c3a96c6c6f20e282ac20f09f988020615c620a6371025805000000656d707479710358000000007104580500000062797465737105635f636f646563730a656e636f64650a7106580500000000c3bf6162710758060000006c6174696e31710886710952710a5806000000656279746573710b635f5f6275696c74696e5f5f0a62797465730a710c2952710d5803000000696e74710e4b2a58030000006e6567710f4af9ffffff580300000069313671104de803580300000069333271114a6079feff580300000069363471128a0600000000000158050000006d696e363471138a080000000000000080580300000062696771148a0d0000000000000000000000001058040000006e62696771158a1a01000000000000000000000000000000000000000000000000ff5801000000667116473fb999999999999a5804000000666269677117477e37e43c8800759c5804000000666e6567711847c00400000000000058010000007471198858020000006661711a8958040000006e6f6e65711b4e58040000006c697374711c5d711d284b015d711e284b025d711f284b035d7120656558010000007871216558060000007475706c6573712228294b018571234b014b028671244b014b024b03877125284b014b024b034b0474712674712758040000006469637471287d712928580100000061712a7d712b580100000062712c5d712d284b014b02580100000063712e86712f65734b015807000000696e74206b657971304b0168218671314e680658010000006b71326808867133527134473fe000000000000075580600000073686172656471355d7136285d7137284b014b026568376575636461746574696d650a6461746574696d650a71386806580c00000007c3aa0b1c03143001c3a2407139680886713a52713b85713c52713d86713e2e";
/// `pickle.dumps((DATA, datetime.datetime(2026, 11, 28, 3, 20, 48, 123456)), protocol=3)`
const PY_PROTO3: &str = "80037d71002858030000007374727101581500000068c3a96c6c6f20e282ac20f09f988020615c620a6371025805000000656d707479710358000000007104580500000062797465737105430400ff6162710658060000006562797465737107430071085803000000696e7471094b2a58030000006e6567710a4af9ffffff5803000000693136710b4de8035803000000693332710c4a6079feff5803000000693634710d8a0600000000000158050000006d696e3634710e8a0800000000000000805803000000626967710f8a0d0000000000000000000000001058040000006e62696771108a1a01000000000000000000000000000000000000000000000000ff5801000000667111473fb999999999999a5804000000666269677112477e37e43c8800759c5804000000666e6567711347c0040000000000005801000000747114885802000000666171158958040000006e6f6e6571164e58040000006c69737471175d7118284b015d7119284b025d711a284b035d711b6565580100000078711c6558060000007475706c6573711d28294b0185711e4b014b0286711f4b014b024b03877120284b014b024b034b0474712174712258040000006469637471237d71242858010000006171257d712658010000006271275d7128284b014b02580100000063712986712a65734b015807000000696e74206b6579712b4b01681c86712c4e43016b712d473fe0000000000000755806000000736861726564712e5d712f285d7130284b014b026568306575636461746574696d650a6461746574696d650a7131430a07ea0b1c03143001e24071328571335271348671352e";
/// `pickle.dumps((DATA, datetime.datetime(2026, 11, 28, 3, 20, 48, 123456)), protocol=4)`
const PY_PROTO4: &str = "800495d7010000000000007d94288c03737472948c1568c3a96c6c6f20e282ac20f09f988020615c620a63948c05656d707479948c00948c05627974657394430400ff6162948c06656279746573944300948c03696e74944b2a8c036e6567944af9ffffff8c03693136944de8038c03693332944a6079feff8c03693634948a060000000000018c056d696e3634948a0800000000000000808c03626967948a0d000000000000000000000000108c046e626967948a1a01000000000000000000000000000000000000000000000000ff8c016694473fb999999999999a8c046662696794477e37e43c8800759c8c04666e65679447c0040000000000008c017494888c02666194898c046e6f6e65944e8c046c697374945d94284b015d94284b025d94284b035d9465658c017894658c067475706c65739428294b0185944b014b0286944b014b024b038794284b014b024b034b04749474948c0464696374947d94288c0161947d948c0162945d94284b014b028c016394869465734b018c07696e74206b6579944b01681c86944e43016b94473fe0000000000000758c06736861726564945d94285d94284b014b0265683065758c086461746574696d65948c086461746574696d65949394430a07ea0b1c03143001e240948594529486942e";
/// `pickle.dumps((DATA, datetime.datetime(2026, 11, 28, 3, 20, 48, 123456)), protocol=5)`
const PY_PROTO5: &str = "800595d7010000000000007d94288c03737472948c1568c3a96c6c6f20e282ac20f09f988020615c620a63948c05656d707479948c00948c05627974657394430400ff6162948c06656279746573944300948c03696e74944b2a8c036e6567944af9ffffff8c03693136944de8038c03693332944a6079feff8c03693634948a060000000000018c056d696e3634948a0800000000000000808c03626967948a0d000000000000000000000000108c046e626967948a1a01000000000000000000000000000000000000000000000000ff8c016694473fb999999999999a8c046662696794477e37e43c8800759c8c04666e65679447c0040000000000008c017494888c02666194898c046e6f6e65944e8c046c697374945d94284b015d94284b025d94284b035d9465658c017894658c067475706c65739428294b0185944b014b0286944b014b024b038794284b014b024b034b04749474948c0464696374947d94288c0161947d948c0162945d94284b014b028c016394869465734b018c07696e74206b6579944b01681c86944e43016b94473fe0000000000000758c06736861726564945d94285d94284b014b0265683065758c086461746574696d65948c086461746574696d65949394430a07ea0b1c03143001e240948594529486942e";

/// A Python 2.7-style protocol 0 pickle (py2 `str` keys, `L...L` long, `I01` bool, a
/// 17-digit float, a `STRING` datetime state): what
/// `pickle.loads(b, encoding="latin1")` reads as
/// `({'n': 3, 'u': 'café €', 'l': 12345678901234567890, 't': True, 'f': 0.1}, EXP)`.
const PY2_PROTO0: &str = "28286470310a53276e270a49330a73532775270a56636166e9205c75323061630a7353276c270a4c31323334353637383930313233343536373839304c0a73532774270a4930310a73532766270a46302e31303030303030303030303030303030310a73636461746574696d650a6461746574696d650a70320a2853275c7830375c7865615c7830625c7831635c7830335c783134305c7830315c78653240270a70330a745270340a7470350a2e";
/// Python 2.7-style protocol 2: `({'n': 3}, EXP)` with `SHORT_BINSTRING`s.
const PY2_PROTO2: &str = "80027d710155016e71024b0373636461746574696d650a6461746574696d650a7103550a07ea0b1c03143001e240855271048671052e";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn exp() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 28)
        .unwrap()
        .and_hms_micro_opt(3, 20, 48, 123_456)
        .unwrap()
}

fn s(x: &str) -> V {
    V::Str(x.into())
}

fn big(e: u32) -> BigInt {
    BigInt::from(2).pow(e)
}

fn expected() -> SessionData {
    let tuple = |n: i64| V::Tuple((1..=n).map(V::Int).collect());
    let shared = V::List(vec![V::Int(1), V::Int(2)]);
    [
        ("str", s("héllo € 😀 a\\b\nc")),
        ("empty", s("")),
        ("bytes", V::Bytes(b"\x00\xffab".to_vec())),
        ("ebytes", V::Bytes(vec![])),
        ("int", V::Int(42)),
        ("neg", V::Int(-7)),
        ("i16", V::Int(1000)),
        ("i32", V::Int(-100_000)),
        ("i64", V::Int(1 << 40)),
        ("min64", V::Int(i64::MIN)),
        ("big", V::BigInt(big(100))),
        ("nbig", V::BigInt(-big(200) + 1)),
        ("f", V::Float(0.1)),
        ("fbig", V::Float(1e300)),
        ("fneg", V::Float(-2.5)),
        ("t", V::Bool(true)),
        ("fa", V::Bool(false)),
        ("none", V::None),
        (
            "list",
            V::List(vec![
                V::Int(1),
                V::List(vec![V::Int(2), V::List(vec![V::Int(3), V::List(vec![])])]),
                s("x"),
            ]),
        ),
        ("tuples", V::Tuple((0..=4).map(tuple).collect())),
        (
            "dict",
            V::Dict(vec![
                (
                    s("a"),
                    V::Dict(vec![(
                        s("b"),
                        V::List(vec![V::Int(1), V::Tuple(vec![V::Int(2), s("c")])]),
                    )]),
                ),
                (V::Int(1), s("int key")),
                (V::Tuple(vec![V::Int(1), s("x")]), V::None),
                (V::Bytes(b"k".to_vec()), V::Float(0.5)),
            ]),
        ),
        ("shared", V::List(vec![shared.clone(), shared])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[test]
fn reads_what_python_writes_in_every_protocol() {
    for (proto, text) in [
        PY_PROTO0, PY_PROTO1, PY_PROTO2, PY_PROTO3, PY_PROTO4, PY_PROTO5,
    ]
    .into_iter()
    .enumerate()
    {
        let (data, expires) =
            decode(&hex(text)).unwrap_or_else(|e| panic!("protocol {proto}: {e}"));
        assert_eq!(data, expected(), "protocol {proto}");
        assert_eq!(
            data.keys().collect::<Vec<_>>(),
            expected().keys().collect::<Vec<_>>(),
            "protocol {proto}: order"
        );
        assert_eq!(expires, exp(), "protocol {proto}");
    }
}

#[test]
fn reads_python2_pickles() {
    let (data, expires) = decode(&hex(PY2_PROTO0)).unwrap();
    assert_eq!(expires, exp());
    assert_eq!(data["n"], V::Int(3));
    assert_eq!(data["u"], s("café €"));
    assert_eq!(
        data["l"],
        V::BigInt("12345678901234567890".parse().unwrap())
    );
    assert_eq!(data["t"], V::Bool(true));
    assert_eq!(data["f"], V::Float(0.1));
    let (data, expires) = decode(&hex(PY2_PROTO2)).unwrap();
    assert_eq!((data["n"].clone(), expires), (V::Int(3), exp()));
}

#[test]
fn round_trips() {
    let data = expected();
    let bytes = encode(&data, exp()).unwrap();
    assert_eq!(&bytes[..2], b"\x80\x04");
    assert_eq!(decode(&bytes).unwrap(), (data, exp()));
    let empty = SessionData::new();
    assert_eq!(
        decode(&encode(&empty, exp()).unwrap()).unwrap(),
        (empty, exp())
    );
}

#[test]
fn round_trips_edge_values() {
    let ints = [
        0,
        255,
        256,
        65535,
        65536,
        -1,
        i32::MAX.into(),
        i32::MIN.into(),
        i64::MAX,
        i64::MIN,
    ];
    let mut data: SessionData = ints.iter().map(|&i| (format!("i{i}"), V::Int(i))).collect();
    for (k, f) in [
        ("nan", f64::NAN),
        ("negzero", -0.0),
        ("inf", f64::INFINITY),
        ("tiny", 5e-324),
    ] {
        data.insert(k.into(), V::Float(f));
    }
    data.insert("big4".into(), V::BigInt(-big(2100)));
    data.insert("long_str".into(), s(&"é".repeat(300)));
    data.insert("long_list".into(), V::List((0..2500).map(V::Int).collect()));
    data.insert("fits".into(), V::BigInt(BigInt::from(7)));
    let (back, _) = decode(&encode(&data, exp()).unwrap()).unwrap();
    for (k, v) in &data {
        match (v, &back[k]) {
            (V::Float(a), V::Float(b)) => assert_eq!(a.to_bits(), b.to_bits(), "{k}"),
            // A BigInt that fits 64 bits reads back as the Int Python also sees.
            (V::BigInt(a), V::Int(b)) => assert_eq!(*a, BigInt::from(*b)),
            (a, b) => assert_eq!(a, b, "{k}"),
        }
    }
}

#[test]
fn writes_the_opcodes_python_picks() {
    let data: SessionData = [("n".to_owned(), V::Int(1))].into_iter().collect();
    let t = NaiveDate::from_ymd_opt(2026, 11, 28)
        .unwrap()
        .and_hms_micro_opt(3, 20, 48, 123_456)
        .unwrap();
    let mut want = hex("80047d288c016e4b0175");
    want.extend(
        b"\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.",
    );
    assert_eq!(encode(&data, t).unwrap(), want);
    // Python's encode_long: 2**31 -> LONG1 5 bytes, -2**39 -> LONG1 5 bytes.
    let one = |v| encode(&[("k".to_owned(), v)].into_iter().collect(), t).unwrap()[7..14].to_vec();
    assert_eq!(one(V::Int(1 << 31)), hex("8a050000008000"));
    assert_eq!(one(V::Int(-(1 << 39))), hex("8a050000000080"));
}

#[test]
fn refuses_unrepresentable_writes() {
    let t = exp();
    let with = |v| encode(&[("k".to_owned(), v)].into_iter().collect(), t);
    let list_key = V::Dict(vec![(V::List(vec![]), V::None)]);
    assert!(matches!(with(list_key), Err(PickleError::UnhashableKey(_))));
    let mut deep = V::None;
    for _ in 0..MAX_SESSION_DEPTH + 5 {
        deep = V::List(vec![deep]);
    }
    assert!(matches!(with(deep), Err(PickleError::TooDeep(_))));
    let year0 = NaiveDate::from_ymd_opt(0, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert!(matches!(
        encode(&SessionData::new(), year0),
        Err(PickleError::InvalidDateTime(_))
    ));
}

/// A dict with two keys Python finds equal would read back with one: it is not written,
/// small or large, and keys Python tells apart (NaNs, str and bytes) are kept.
#[test]
fn refuses_dicts_that_would_read_back_with_fewer_keys() {
    let t = exp();
    let with = |v| encode(&[("k".to_owned(), v)].into_iter().collect(), t);
    let pairs = |keys: Vec<V>| V::Dict(keys.into_iter().map(|k| (k, V::None)).collect());
    for twice in [
        vec![V::Int(1), V::Bool(true)],
        vec![V::Float(1.0), V::Int(1)],
        vec![V::Float(0.0), V::Float(-0.0)],
        vec![s("a"), s("a")],
        vec![V::BigInt(big(70)), V::BigInt(big(70))],
        vec![V::Tuple(vec![V::Int(1)]), V::Tuple(vec![V::Float(1.0)])],
        (0..40).map(V::Int).chain([V::Int(7)]).collect(),
    ] {
        let dict = pairs(twice);
        assert!(
            matches!(with(dict.clone()), Err(PickleError::DuplicateKey(_))),
            "{dict:?}"
        );
    }
    let distinct = pairs(vec![
        V::Float(f64::NAN),
        V::Float(f64::NAN),
        s("a"),
        V::Bytes(b"a".to_vec()),
        V::Int(2),
        V::Float(2.5),
    ]);
    let bytes = with(distinct).expect("distinct keys are written");
    let (back, _) = decode(&bytes).unwrap();
    let V::Dict(items) = &back["k"] else {
        panic!("{back:?}")
    };
    assert_eq!(items.len(), 6);
}

/// A stored expiry beyond year 9999 (two bytes hold up to 65535) would decode into a
/// session we could not write back: it is refused when read.
#[test]
fn refuses_expiry_years_it_could_not_write() {
    let mut bytes = encode(&SessionData::new(), exp()).unwrap();
    let at = bytes
        .windows(2)
        .position(|w| w == 2026u16.to_be_bytes())
        .expect("the year's bytes");
    bytes[at..at + 2].copy_from_slice(&10_000u16.to_be_bytes());
    assert!(matches!(
        decode(&bytes),
        Err(PickleError::InvalidDateTime(_))
    ));
}

fn err(bytes: &[u8]) -> PickleError {
    match decode(bytes) {
        Ok(v) => panic!("decoded {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn refuses_code_execution() {
    // pickle.dumps(os.system, 0) called with ('echo pwned',) and REDUCE.
    let e = err(b"cposix\nsystem\n(S'echo pwned'\ntR.");
    assert!(
        matches!(&e, PickleError::ForbiddenGlobal { module, name } if module == "posix" && name == "system")
    );
    assert!(e.to_string().contains("posix.system"), "{e}");
    let e = err(b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R.");
    assert!(e.to_string().contains("os.system"), "{e}");
    let e = err(b"\x80\x02ccollections\nOrderedDict\n)R.");
    assert!(e.to_string().contains("collections.OrderedDict"), "{e}");
    let e = err(b"(ios\nsystem\nS'id'\n.");
    assert!(e.to_string().contains("os.system"), "{e}");
    // `builtins.bytes` is only spelled `__builtin__` below protocol 3, as in Python.
    assert!(matches!(
        err(b"\x80\x04\x8c\x0b__builtin__\x8c\x05bytes\x93)R."),
        PickleError::ForbiddenGlobal { .. }
    ));
}

#[test]
fn names_refused_opcodes() {
    let e = err(b"\x80\x04]\x94N\x62.");
    assert!(e.to_string().contains("BUILD"), "{e}");
    let e = err(b"\x80\x04\xff.");
    assert!(e.to_string().contains("0xff"), "{e}");
    assert!(matches!(
        err(b"\x80\x04\x8f."),
        PickleError::OutsideModel(_)
    ));
    assert!(matches!(
        err(b"\x80\x06."),
        PickleError::UnsupportedProtocol(6)
    ));
}

#[test]
fn refuses_values_outside_the_model() {
    let good = hex(PY_PROTO4);
    // A datetime in the data, a non-str top-level key, a wrong top-level shape.
    let nested_dt = b"\x80\x04}\x8c\x01d\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85Rs\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.";
    assert!(matches!(err(nested_dt), PickleError::OutsideModel(_)));
    let int_key = b"\x80\x04}K\x01Ns\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.";
    assert!(matches!(err(int_key), PickleError::NonStrKey(_)));
    assert!(matches!(err(b"\x80\x04}."), PickleError::NotASession(_)));
    // Aware datetime: a second, non-None argument.
    let aware = b"\x80\x04}\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@K\x01\x86R\x86.";
    assert!(matches!(err(aware), PickleError::OutsideModel(_)));
    // A list that contains itself.
    let cyclic = b"\x80\x04}\x8c\x01l]\x94h\x00as\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.";
    assert!(matches!(err(cyclic), PickleError::OutsideModel(_)));
    // A list used as a dict key is as unhashable here as in Python.
    assert!(matches!(
        err(b"\x80\x04}]Ns."),
        PickleError::UnhashableKey(_)
    ));
    assert!(decode(&good).is_ok());
}

#[test]
fn truncated_input_is_an_error_at_every_length() {
    for text in [PY_PROTO0, PY_PROTO2, PY_PROTO4, PY_PROTO5] {
        let bytes = hex(text);
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix of {n} bytes");
        }
    }
    assert!(matches!(err(b""), PickleError::Truncated { .. }));
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    for bytes in [
        &b"\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f"[..],
        b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\x7f.",
        b"\x80\x04\x8b\xff\xff\xff\x7f",
        b"\x80\x04X\xff\xff\xff\xff",
    ] {
        assert!(
            matches!(err(bytes), PickleError::Truncated { .. }),
            "{bytes:?}"
        );
    }
    assert!(matches!(
        err(b"\x80\x04\x8b\xff\xff\xff\xff"),
        PickleError::Malformed { .. }
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    const N: usize = 100_000;
    // 100,000 empty lists, each appended into the one below it.
    let mut bytes = b"\x80\x04}\x8c\x01l".to_vec();
    bytes.extend(std::iter::repeat_n(b']', N));
    bytes.extend(std::iter::repeat_n(b'a', N - 1));
    bytes.extend(
        b"s\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.",
    );
    assert!(matches!(
        err(&bytes),
        PickleError::TooDeep(MAX_SESSION_DEPTH)
    ));
    // The same with MARK ... LIST, and with nested one-tuples used as a dict key.
    let mut bytes = b"\x80\x04}\x8c\x01l".to_vec();
    bytes.extend(std::iter::repeat_n(b'(', N));
    bytes.extend(std::iter::repeat_n(b'l', N));
    bytes.extend(
        b"s\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.",
    );
    assert!(matches!(
        err(&bytes),
        PickleError::TooDeep(MAX_SESSION_DEPTH)
    ));
    let mut bytes = b"\x80\x04}N".to_vec();
    bytes.extend(std::iter::repeat_n(0x85, N));
    bytes.extend(b"Ns.");
    assert!(matches!(
        err(&bytes),
        PickleError::TooDeep(MAX_SESSION_DEPTH)
    ));
}

#[test]
fn shared_references_cannot_blow_up_memory() {
    // A 1 KiB str in a list twice, that list twice in the next, 40 levels: 2**40 KiB
    // if expanded, from a pickle of 1.4 KB.
    let mut bytes = b"\x80\x04}\x8c\x01l".to_vec();
    bytes.extend(b"X\x00\x04\x00\x00");
    bytes.extend([b'x'; 1024]);
    bytes.extend(b"q\x000");
    for i in 0..40u8 {
        // (memo[i], memo[i]) as a list, memoized as memo[i + 1] and popped.
        bytes.extend([b'(', b'h', i, b'h', i, b'l', b'q', i + 1, b'0']);
    }
    bytes.extend(b"h\x28s\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.");
    assert!(matches!(err(&bytes), PickleError::TooLarge(_)));
}

#[test]
fn later_duplicate_keys_replace_values_as_in_python() {
    // {'a': 1, 'a': 2} and, nested, {1: 'x', 1.0: 'y', True: 'z'} -> {1: 'z'}
    let bytes = b"\x80\x04}(\x8c\x01aK\x01\x8c\x01aK\x02\x8c\x01n}(K\x01\x8c\x01xG?\xf0\x00\x00\x00\x00\x00\x00\x8c\x01y\x88\x8c\x01zuu\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.";
    let (data, _) = decode(bytes).unwrap();
    assert_eq!(data["a"], V::Int(2));
    assert_eq!(data["n"], V::Dict(vec![(V::Int(1), s("z"))]));
}

/// Keys equal in Python (`1 == 1.0 == True`) are one key: the value is the last one set,
/// the key and its place the first's, in a small dict and in one large enough to be indexed.
#[test]
fn python_equal_keys_are_one_key() {
    let short = |text: &str| [&[0x8c, text.len() as u8][..], text.as_bytes()].concat();
    let float = |f: f64| [&[b'G'][..], &f.to_be_bytes()[..]].concat();
    for filler in [0, 30] {
        let mut inner = vec![b'}', b'(', b'K', 1];
        inner.extend(short("a"));
        let names: Vec<String> = (0..filler).map(|i| format!("k{i:02}")).collect();
        for (i, name) in names.iter().enumerate() {
            inner.extend(short(name));
            inner.extend([b'K', i as u8]);
        }
        for (key, value) in [
            (float(1.0), "b"),
            (vec![0x88], "c"),
            (vec![b'K', 2], "x"),
            (float(2.0), "y"),
        ] {
            inner.extend(key);
            inner.extend(short(value));
        }
        inner.push(b'u');
        let bytes = [
            &b"\x80\x04}"[..],
            &short("d"),
            &inner,
            b"s\x8c\x08datetime\x8c\x08datetime\x93C\n\x07\xea\x0b\x1c\x03\x140\x01\xe2@\x85R\x86.",
        ]
        .concat();
        let (data, _) = decode(&bytes).unwrap();
        let mut expected = vec![(V::Int(1), s("c"))];
        expected.extend(
            names
                .iter()
                .enumerate()
                .map(|(i, name)| (s(name), V::Int(i as i64))),
        );
        expected.push((V::Int(2), s("y")));
        assert_eq!(data["d"], V::Dict(expected), "{filler} other keys");
    }
}

// The same bombs as the attack tests (tests/hostile/bombs.rs).
#[path = "../../../tests/hostile/bombs.rs"]
mod bombs;
use bombs::{P4_TAIL, key_bomb, p0_bomb, value_bomb};

/// Memo bombs of growing depth are all refused before anything is built, with work
/// linear in the input (never in the 2^k values it names); the shallow ones, whose
/// expansion is within the floors, are read, and building them costs the values built.
#[test]
fn memo_bombs_are_refused_in_linear_work() {
    use crate::limits::{
        MAX_SESSION_EXPANSION, SESSION_EXPANSION_FLOOR_BYTES, SESSION_EXPANSION_FLOOR_VALUES,
    };
    for k in [4, 8, 12, 16, 24, 32, 48, 64, 100, 200] {
        for (name, bytes) in [
            ("value", value_bomb(k)),
            ("key", key_bomb(k)),
            ("protocol 0", p0_bomb(k)),
        ] {
            let (result, work) = decode_counting(&bytes);
            let n = bytes.len() as u64;
            if k <= 12 {
                // Small enough to fit the floors (at most 2^15 values): decodes, and the
                // work beyond reading is building what the floors allow.
                let (data, _, size) = result.unwrap_or_else(|e| panic!("{name}, k = {k}: {e}"));
                assert!(size.values <= SESSION_EXPANSION_FLOOR_VALUES);
                assert!(size.bytes <= SESSION_EXPANSION_FLOOR_BYTES);
                assert!(
                    work <= 24 * n + 2 * size.values as u64,
                    "{name} bomb, k = {k}: {work} work for {n} bytes, {} values",
                    size.values
                );
                assert_eq!(size.bytes, measure::measure(&data).unwrap().bytes);
                continue;
            }
            // Refused before building: the work is reading and measuring the graph.
            assert!(
                work <= 8 * n,
                "{name} bomb, k = {k}: {work} work for {n} bytes"
            );
            let cap = (bytes.len() * MAX_SESSION_EXPANSION).max(SESSION_EXPANSION_FLOOR_BYTES);
            match result {
                Err(PickleError::TooLarge(b) | PickleError::TooManyValues(b)) => {
                    assert!(b <= cap, "{name}, k = {k}: budget {b} for {n} bytes");
                }
                Err(e) => panic!("{name} bomb, k = {k}: {e}"),
                Ok(_) => panic!("{name} bomb, k = {k}: decoded"),
            }
        }
    }
}

/// A large str shared through the memo and used many times as a dict key and as the
/// argument of `_codecs.encode` is hashed and converted once, not once per use.
#[test]
fn shared_strs_are_hashed_and_encoded_once() {
    let big = "x".repeat(64 << 10);
    let mut bytes =
        format!("((dp0\nVk\np1\n(lp2\nV{big}\np3\nc_codecs\nencode\np4\nVlatin1\np5\n000")
            .into_bytes();
    for _ in 0..1000 {
        // [{s: None}, ..., _codecs.encode(s, 'latin1'), ...]
        bytes.extend(b"(dg3\nNsa");
        bytes.extend(b"g4\n(g3\ng5\ntRa");
    }
    bytes.extend(b"scdatetime\ndatetime\n(S'\\x07\\xea\\x0b\\x1c\\x03\\x140\\x01\\xe2@'\ntRt.");
    let (result, work) = decode_counting(&bytes);
    assert!(
        matches!(result, Err(PickleError::TooLarge(_))),
        "{result:?}"
    );
    let n = bytes.len() as u64;
    assert!(work <= 8 * n, "{work} work for {n} bytes");
}

/// Plain data of growing size: the work stays proportional too.
#[test]
fn decoding_work_is_linear_in_plain_data() {
    for n in [10, 1_000, 100_000] {
        let mut data = SessionData::new();
        data.insert(
            "l".into(),
            V::List((0..n).map(|i| V::Tuple(vec![V::Int(i), s("v")])).collect()),
        );
        let bytes = encode(&data, exp()).unwrap();
        let (result, work) = decode_counting(&bytes);
        let (back, _, size) = result.unwrap();
        assert_eq!(back, data);
        assert_eq!(size.bytes, bytes.len());
        assert!(
            work <= 8 * bytes.len() as u64,
            "{work} work for {} bytes",
            bytes.len()
        );
    }
}

/// Ints beyond Python's 4300 digits are refused in both directions, in every encoding.
#[test]
fn ints_are_held_to_pythons_digit_limit() {
    let ten = BigInt::from(10);
    let largest: BigInt = num_traits::pow(ten, 4300) - 1;
    let with =
        |v: BigInt| -> SessionData { [("k".to_owned(), V::BigInt(v))].into_iter().collect() };
    let ok = encode(&with(largest.clone()), exp()).unwrap();
    assert_eq!(decode(&ok).unwrap().0, with(largest.clone()));
    assert!(matches!(
        encode(&with(largest.clone() + BigInt::from(1)), exp()),
        Err(PickleError::IntTooLong(4300))
    ));
    assert!(matches!(
        encode(&with(-(largest.clone() + BigInt::from(1))), exp()),
        Err(PickleError::IntTooLong(4300))
    ));
    // Written by hand, as Python would: LONG1/LONG4 and the text forms.
    let mut long4 = b"\x80\x04}\x8c\x01k\x8b".to_vec();
    let digits = (largest + BigInt::from(1)).to_signed_bytes_le();
    long4.extend((digits.len() as u32).to_le_bytes());
    long4.extend(&digits);
    long4.push(b's');
    long4.extend(P4_TAIL);
    assert!(matches!(err(&long4), PickleError::IntTooLong(4300)));
    let text = format!("((dp0\nVk\np1\nL1{}L\ns", "0".repeat(4300));
    let mut p0 = text.into_bytes();
    p0.extend(b"cdatetime\ndatetime\n(S'\\x07\\xea\\x0b\\x1c\\x03\\x140\\x01\\xe2@'\ntRt.");
    assert!(matches!(err(&p0), PickleError::IntTooLong(4300)));
    // Leading zeros are not digits of the value.
    let text = format!("((dp0\nVk\np1\nL{}1L\ns", "0".repeat(10_000));
    let mut p0 = text.into_bytes();
    p0.extend(b"cdatetime\ndatetime\n(S'\\x07\\xea\\x0b\\x1c\\x03\\x140\\x01\\xe2@'\ntRt.");
    assert_eq!(decode(&p0).unwrap().0["k"], V::Int(1));
}
