//! Session values into Rust values.

use num_bigint::BigInt;
use num_traits::ToPrimitive;
use serde::de::{self, DeserializeSeed, Deserializer as _, IntoDeserializer, Visitor};

use super::{Result, SerdeError};
use crate::session_value::SessionValue;

/// Reads a borrowed session value as whatever the target type asks for.
#[derive(Clone, Copy)]
pub(super) struct ValueDeserializer<'a>(pub(super) &'a SessionValue);

impl<'de> ValueDeserializer<'de> {
    fn big<V: Visitor<'de>>(big: &BigInt, visitor: V) -> Result<V::Value> {
        if let Some(u) = big.to_u64() {
            visitor.visit_u64(u)
        } else if let Some(i) = big.to_i128() {
            visitor.visit_i128(i)
        } else if let Some(u) = big.to_u128() {
            visitor.visit_u128(u)
        } else {
            // Beyond 128 bits only a float can hold it, approximately, as JSON would.
            visitor.visit_f64(big.to_f64().unwrap_or(f64::NAN))
        }
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            SessionValue::None => visitor.visit_unit(),
            SessionValue::Bool(b) => visitor.visit_bool(*b),
            SessionValue::Int(i) => visitor.visit_i64(*i),
            SessionValue::BigInt(big) => Self::big(big, visitor),
            SessionValue::Float(f) => visitor.visit_f64(*f),
            SessionValue::Str(s) => visitor.visit_borrowed_str(s),
            SessionValue::Bytes(b) => {
                visitor.visit_seq(de::value::SeqDeserializer::new(b.iter().copied()))
            }
            SessionValue::List(items) | SessionValue::Tuple(items) => visitor.visit_seq(
                de::value::SeqDeserializer::new(items.iter().map(ValueDeserializer)),
            ),
            SessionValue::Dict(pairs) => visitor.visit_map(de::value::MapDeserializer::new(
                pairs
                    .iter()
                    .map(|(k, v)| (KeyDeserializer(k), ValueDeserializer(v))),
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            SessionValue::None => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            SessionValue::Bytes(b) => visitor.visit_borrowed_bytes(b),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            SessionValue::Str(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            SessionValue::Dict(pairs) if pairs.len() == 1 => {
                let (key, value) = &pairs[0];
                visitor.visit_enum(EnumDeserializer {
                    variant: KeyDeserializer(key),
                    content: ValueDeserializer(value),
                })
            }
            _ => Err(de::Error::invalid_type(
                unexpected(self.0),
                &"an enum variant",
            )),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, SerdeError> for ValueDeserializer<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

fn unexpected(value: &SessionValue) -> de::Unexpected<'_> {
    match value {
        SessionValue::None => de::Unexpected::Unit,
        SessionValue::Bool(b) => de::Unexpected::Bool(*b),
        SessionValue::Int(i) => de::Unexpected::Signed(*i),
        SessionValue::BigInt(_) => de::Unexpected::Other("a big integer"),
        SessionValue::Float(f) => de::Unexpected::Float(*f),
        SessionValue::Str(s) => de::Unexpected::Str(s),
        SessionValue::Bytes(b) => de::Unexpected::Bytes(b),
        SessionValue::List(_) | SessionValue::Tuple(_) => de::Unexpected::Seq,
        SessionValue::Dict(_) => de::Unexpected::Map,
    }
}

/// A dict key: a string as itself; a number also parsed from a string key (JSON's rule,
/// so `HashMap<u32, _>` round-trips); any other key spelled as its JSON text.
#[derive(Clone, Copy)]
pub(super) struct KeyDeserializer<'a>(&'a SessionValue);

impl<'de> KeyDeserializer<'de> {
    fn parsed<T: std::str::FromStr, V: Visitor<'de>>(
        self,
        visitor: V,
        visit: impl FnOnce(V, T) -> Result<V::Value>,
    ) -> Result<V::Value> {
        if let SessionValue::Str(s) = self.0
            && let Ok(parsed) = s.parse::<T>()
        {
            return visit(visitor, parsed);
        }
        ValueDeserializer(self.0).deserialize_any(visitor)
    }
}

/// `value` spelled as JSON would spell it as an object key.
fn key_text(value: &SessionValue) -> String {
    match value {
        SessionValue::Str(s) => s.clone(),
        SessionValue::None => "null".to_owned(),
        SessionValue::Bool(b) => b.to_string(),
        SessionValue::Int(i) => i.to_string(),
        SessionValue::BigInt(b) => b.to_string(),
        SessionValue::Float(f) => f.to_string(),
        other => other.python_repr(),
    }
}

macro_rules! parse_key {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.parsed::<$ty, V>(visitor, |v, x| v.$visit(x))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            SessionValue::Str(s) => visitor.visit_borrowed_str(s),
            other => visitor.visit_string(key_text(other)),
        }
    }

    parse_key! {
        deserialize_bool => bool, visit_bool;
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
        deserialize_f32 => f32, visit_f32;
        deserialize_f64 => f64, visit_f64;
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        ValueDeserializer(self.0).deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, SerdeError> for KeyDeserializer<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

pub(super) struct EnumDeserializer<'a> {
    variant: KeyDeserializer<'a>,
    content: ValueDeserializer<'a>,
}

impl<'de> de::EnumAccess<'de> for EnumDeserializer<'de> {
    type Error = SerdeError;
    type Variant = ValueDeserializer<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self::Variant)> {
        Ok((seed.deserialize(self.variant)?, self.content))
    }
}

impl<'de> de::VariantAccess<'de> for ValueDeserializer<'de> {
    type Error = SerdeError;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(self)
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}
