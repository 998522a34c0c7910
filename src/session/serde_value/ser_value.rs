//! Rust values into session values.

use indexmap::IndexMap;
use num_bigint::BigInt;
use serde::ser::{self, Serialize};

use super::ser_key::KeySerializer;
use super::{Result, SerdeError};
use crate::session_value::SessionValue;

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

pub(super) struct ValueSerializer;

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

pub(super) struct SeqSerializer(Vec<SessionValue>);

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
pub(super) struct MapSerializer {
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
pub(super) struct VariantSerializer<S> {
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
