//! Serde's data model ↔ session values, directly (no JSON in between, so this crate forces
//! no feature on anyone's `serde_json`).
//!
//! The mapping is JSON's, which is what a handler written against actix-session expects: a
//! struct or map becomes a dict with string keys (integer and bool keys are written as
//! strings, and read back from them), a sequence or tuple a list, an enum variant its name
//! or a one-entry dict, `()` and `None` Python's `None`. Beyond JSON: integers keep every
//! digit (`u64`, `i128`, `u128` become Python ints of any size), floats keep NaN and the
//! infinities (Python has them), and `serialize_bytes` (`serde_bytes`) gives Python `bytes`.
//! Values written by Python read the same way: a tuple reads as a sequence, `bytes` as a
//! sequence of `u8` (or as bytes where the type asks for them), a dict with other keys
//! with each key spelled as JSON would spell it.

use std::fmt::Display;

use serde::de;
use serde::ser::{self, Serialize};

use crate::session_value::SessionValue;

mod de_value;
mod ser_key;
mod ser_value;

use de_value::ValueDeserializer;
use ser_value::ValueSerializer;

/// Why a Rust value could not become a session value, or a session value the requested
/// Rust type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SerdeError(String);

impl ser::Error for SerdeError {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

impl de::Error for SerdeError {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, SerdeError>;

/// `value` as a session value.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<SessionValue> {
    value.serialize(ValueSerializer)
}

/// The session value as a `T`.
pub(crate) fn from_value<'de, T: de::Deserialize<'de>>(value: &'de SessionValue) -> Result<T> {
    T::deserialize(ValueDeserializer(value))
}

#[cfg(test)]
mod tests {
    use num_bigint::BigInt;
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Point,
        Circle(f64),
        Rect { w: u32, h: u32 },
        Pair(i8, i8),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cart {
        user: String,
        items: Vec<(String, u32)>,
        total: f64,
        coupon: Option<String>,
        ids: HashMap<u32, bool>,
        shapes: Vec<Shape>,
        huge: u128,
        negative: i128,
    }

    fn round_trip<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(
        value: T,
    ) {
        let stored = to_value(&value).unwrap();
        let back: T = from_value(&stored).unwrap();
        assert_eq!(back, value, "through {}", stored.python_repr());
    }

    #[test]
    fn rust_values_round_trip() {
        round_trip(Cart {
            user: "ann".into(),
            items: vec![("book".into(), 2)],
            total: 12.5,
            coupon: None,
            ids: HashMap::from([(7, true), (9, false)]),
            shapes: vec![
                Shape::Point,
                Shape::Circle(1.5),
                Shape::Rect { w: 2, h: 3 },
                Shape::Pair(-1, 1),
            ],
            huge: u128::MAX,
            negative: i128::MIN,
        });
        round_trip(BTreeMap::from([("a".to_owned(), 1u8)]));
        round_trip((1u8, "two".to_owned(), 3.0f32));
        // As in JSON, `Some(())` and `None` are both Python's None.
        assert_eq!(
            from_value::<Option<()>>(&to_value(&Some(())).unwrap()).unwrap(),
            None
        );
    }

    #[test]
    fn a_struct_is_a_dict_in_field_order_with_string_keys() {
        let stored = to_value(&Shape::Rect { w: 2, h: 3 }).unwrap();
        assert_eq!(stored.python_repr(), "{'Rect': {'w': 2, 'h': 3}}");
        let map = to_value(&BTreeMap::from([(2u8, 'x'), (10, 'y')])).unwrap();
        assert_eq!(map.python_repr(), "{'2': 'x', '10': 'y'}");
    }

    #[test]
    fn big_integers_keep_every_digit() {
        assert_eq!(
            to_value(&u64::MAX).unwrap().python_repr(),
            "18446744073709551615"
        );
        let python: u64 = from_value(&SessionValue::BigInt(BigInt::from(u64::MAX))).unwrap();
        assert_eq!(python, u64::MAX);
        let too_big = SessionValue::BigInt(BigInt::from(u128::MAX) * 2);
        assert!(from_value::<u64>(&too_big).is_err());
    }

    #[test]
    fn python_values_read_as_json_would_read_them() {
        let tuple = SessionValue::Tuple(vec![SessionValue::Int(1), SessionValue::Str("a".into())]);
        let pair: (u8, String) = from_value(&tuple).unwrap();
        assert_eq!(pair, (1, "a".to_owned()));
        let bytes = SessionValue::Bytes(vec![0, 255]);
        assert_eq!(from_value::<Vec<u8>>(&bytes).unwrap(), vec![0, 255]);
        let keyed = SessionValue::Dict(vec![(SessionValue::Int(1), SessionValue::Bool(true))]);
        assert_eq!(
            from_value::<HashMap<u32, bool>>(&keyed).unwrap(),
            HashMap::from([(1, true)])
        );
        assert_eq!(
            from_value::<HashMap<String, bool>>(&keyed).unwrap(),
            HashMap::from([("1".to_owned(), true)])
        );
        assert!(from_value::<u8>(&SessionValue::Str("x".into())).is_err());
    }

    #[test]
    fn a_repeated_key_is_written_once() {
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("k", &1)?;
                map.serialize_entry("k", &2)?;
                map.end()
            }
        }
        assert_eq!(to_value(&Twice).unwrap().python_repr(), "{'k': 2}");
    }
}
