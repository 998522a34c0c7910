//! Map keys into the strings a session dict is keyed by.

use serde::ser::{self, Serialize};

use super::{Result, SerdeError};

/// Map keys as JSON writes them: strings, with numbers, bools and chars spelled out.
pub(super) struct KeySerializer;

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
