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

use indexmap::IndexMap;
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use serde::de::{self, DeserializeSeed, Deserializer as _, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

use crate::session_value::SessionValue;

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

fn int(i: i128) -> SessionValue {
    match i64::try_from(i) {
        Ok(small) => SessionValue::Int(small),
        Err(_) => SessionValue::BigInt(BigInt::from(i)),
    }
}

fn uint(u: u128) -> SessionValue {
    match i64::try_from(u) {
        Ok(small) => SessionValue::Int(small),
        Err(_) => SessionValue::BigInt(BigInt::from(u)),
    }
}

struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = SessionValue;
    type Error = SerdeError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = VariantSerializer<SeqSerializer>;
    type SerializeMap = MapSerializer;
    type SerializeStruct = MapSerializer;
    type SerializeStructVariant = VariantSerializer<MapSerializer>;

    fn serialize_bool(self, v: bool) -> Result<SessionValue> {
        Ok(SessionValue::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<SessionValue> {
        Ok(SessionValue::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<SessionValue> {
        Ok(SessionValue::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<SessionValue> {
        Ok(SessionValue::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<SessionValue> {
        Ok(SessionValue::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<SessionValue> {
        Ok(int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<SessionValue> {
        Ok(SessionValue::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<SessionValue> {
        Ok(SessionValue::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<SessionValue> {
        Ok(SessionValue::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<SessionValue> {
        Ok(uint(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<SessionValue> {
        Ok(uint(v))
    }
    fn serialize_f32(self, v: f32) -> Result<SessionValue> {
        Ok(SessionValue::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<SessionValue> {
        Ok(SessionValue::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<SessionValue> {
        Ok(SessionValue::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<SessionValue> {
        Ok(SessionValue::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<SessionValue> {
        Ok(SessionValue::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<SessionValue> {
        Ok(SessionValue::None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<SessionValue> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<SessionValue> {
        Ok(SessionValue::None)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<SessionValue> {
        Ok(SessionValue::None)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<SessionValue> {
        Ok(SessionValue::Str(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<SessionValue> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<SessionValue> {
        Ok(SessionValue::Dict(vec![(
            SessionValue::Str(variant.to_owned()),
            value.serialize(self)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer> {
        Ok(SeqSerializer(Vec::with_capacity(
            len.unwrap_or(0).min(4096),
        )))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSerializer> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<SeqSerializer>> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        Ok(MapSerializer {
            map: IndexMap::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapSerializer> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<MapSerializer>> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

struct SeqSerializer(Vec<SessionValue>);

impl ser::SerializeSeq for SeqSerializer {
    type Ok = SessionValue;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.0.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<SessionValue> {
        Ok(SessionValue::List(self.0))
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = SessionValue;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<SessionValue> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = SessionValue;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<SessionValue> {
        ser::SerializeSeq::end(self)
    }
}

/// Keys are always strings here (see [`KeySerializer`]), so an index map finds a repeated
/// key in constant time: a later entry replaces the earlier one in place, as inserting into
/// a Python dict (or a JSON object) does, and a dict we write never holds a key twice.
struct MapSerializer {
    map: IndexMap<String, SessionValue>,
    key: Option<String>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = SessionValue;
    type Error = SerdeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <SerdeError as ser::Error>::custom("a map value without its key"))?;
        let value = value.serialize(ValueSerializer)?;
        self.map.insert(key, value);
        Ok(())
    }
    fn end(self) -> Result<SessionValue> {
        Ok(SessionValue::Dict(
            self.map
                .into_iter()
                .map(|(k, v)| (SessionValue::Str(k), v))
                .collect(),
        ))
    }
}

impl ser::SerializeStruct for MapSerializer {
    type Ok = SessionValue;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        let value = value.serialize(ValueSerializer)?;
        self.map.insert(name.to_owned(), value);
        Ok(())
    }
    fn end(self) -> Result<SessionValue> {
        ser::SerializeMap::end(self)
    }
}

/// A tuple or struct variant: `{variant: content}`.
struct VariantSerializer<S> {
    variant: &'static str,
    inner: S,
}

impl<S> VariantSerializer<S> {
    fn wrap(variant: &'static str, content: SessionValue) -> SessionValue {
        SessionValue::Dict(vec![(SessionValue::Str(variant.to_owned()), content)])
    }
}

impl ser::SerializeTupleVariant for VariantSerializer<SeqSerializer> {
    type Ok = SessionValue;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(&mut self.inner, value)
    }
    fn end(self) -> Result<SessionValue> {
        Ok(Self::wrap(
            self.variant,
            ser::SerializeSeq::end(self.inner)?,
        ))
    }
}

impl ser::SerializeStructVariant for VariantSerializer<MapSerializer> {
    type Ok = SessionValue;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.inner, name, value)
    }
    fn end(self) -> Result<SessionValue> {
        Ok(Self::wrap(
            self.variant,
            ser::SerializeMap::end(self.inner)?,
        ))
    }
}

/// Map keys as JSON writes them: strings, with numbers, bools and chars spelled out.
struct KeySerializer;

impl KeySerializer {
    fn text(text: impl ToString) -> Result<String> {
        Ok(text.to_string())
    }
    fn refuse() -> SerdeError {
        <SerdeError as ser::Error>::custom(
            "a session dict key must be a string, a number or a bool",
        )
    }
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = SerdeError;
    type SerializeSeq = ser::Impossible<String, SerdeError>;
    type SerializeTuple = ser::Impossible<String, SerdeError>;
    type SerializeTupleStruct = ser::Impossible<String, SerdeError>;
    type SerializeTupleVariant = ser::Impossible<String, SerdeError>;
    type SerializeMap = ser::Impossible<String, SerdeError>;
    type SerializeStruct = ser::Impossible<String, SerdeError>;
    type SerializeStructVariant = ser::Impossible<String, SerdeError>;

    fn serialize_bool(self, v: bool) -> Result<String> {
        Self::text(v)
    }
    fn serialize_i8(self, v: i8) -> Result<String> {
        Self::text(v)
    }
    fn serialize_i16(self, v: i16) -> Result<String> {
        Self::text(v)
    }
    fn serialize_i32(self, v: i32) -> Result<String> {
        Self::text(v)
    }
    fn serialize_i64(self, v: i64) -> Result<String> {
        Self::text(v)
    }
    fn serialize_i128(self, v: i128) -> Result<String> {
        Self::text(v)
    }
    fn serialize_u8(self, v: u8) -> Result<String> {
        Self::text(v)
    }
    fn serialize_u16(self, v: u16) -> Result<String> {
        Self::text(v)
    }
    fn serialize_u32(self, v: u32) -> Result<String> {
        Self::text(v)
    }
    fn serialize_u64(self, v: u64) -> Result<String> {
        Self::text(v)
    }
    fn serialize_u128(self, v: u128) -> Result<String> {
        Self::text(v)
    }
    fn serialize_f32(self, v: f32) -> Result<String> {
        Self::text(v)
    }
    fn serialize_f64(self, v: f64) -> Result<String> {
        Self::text(v)
    }
    fn serialize_char(self, v: char) -> Result<String> {
        Self::text(v)
    }
    fn serialize_str(self, v: &str) -> Result<String> {
        Self::text(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String> {
        Err(Self::refuse())
    }
    fn serialize_none(self) -> Result<String> {
        Err(Self::refuse())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String> {
        Err(Self::refuse())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String> {
        Err(Self::refuse())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String> {
        Self::text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String> {
        Err(Self::refuse())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(Self::refuse())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(Self::refuse())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Self::refuse())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Self::refuse())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Self::refuse())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(Self::refuse())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Self::refuse())
    }
}

/// Reads a borrowed session value as whatever the target type asks for.
#[derive(Clone, Copy)]
struct ValueDeserializer<'a>(&'a SessionValue);

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
struct KeyDeserializer<'a>(&'a SessionValue);

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

struct EnumDeserializer<'a> {
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

#[cfg(test)]
mod tests {
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
