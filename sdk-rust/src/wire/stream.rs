//! Typed payloads decoded straight from their JSON bytes, without a `serde_json::Value` tree
//! in between: what [`TypedPayload::decode`](crate::typed::TypedPayload::decode) of the
//! generated types runs. The generated code implements [`Struct`] for each object type and
//! names one reader per field ([`Leaf`], [`Enum`], [`Nested`], [`List`], [`Optional`]).
//!
//! The result is the value path's ([`from_value`](Struct::from_value) of a parsed value),
//! error for error: bytes that are not JSON are `not_json` wherever the fault (a field's
//! error never stops the parse, it is kept as the field's [`Field`]); a key read twice keeps
//! its last value, as a parsed object does; the key wins over its aliases whatever their order
//! in the text; fields are judged in schema order; a value read into no field is checked as
//! JSON (numbers within a double, as the parser of a value tree does) and dropped, without
//! being stored. Scalars go through the same `wire` functions as the value path, given the
//! same `Value` (a string's own allocation is the field's).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::At;
use crate::{Error, ErrorKind};

/// A field as read: its value, or the receiver's error for it (kept until the object ends).
pub type Field<T> = Result<T, Error>;

/// A generated object type, read from a JSON object key by key.
pub trait Struct: Sized {
    /// The value path: decodes a parsed value (the generated `from_value`).
    fn from_value(value: Value, at: &At<'_>) -> Result<Self, Error>;

    /// Reads the object of `map`: every key (its [`Key`] position), each known key's value
    /// into its slot, the others skipped ([`skip`]), then the fields in schema order.
    fn read_map<'de, A: MapAccess<'de>>(map: A, at: &At<'_>) -> Result<Field<Self>, A::Error>;
}

/// How a field's JSON value becomes a `Self::Out`. The provided methods rebuild the `Value`
/// the value path would see and call [`of_value`](Read::of_value); readers with a faster
/// path override one of them.
pub trait Read: Copy {
    /// The field's type.
    type Out;

    /// The value path of this reader.
    fn of_value(self, value: Value, at: &At<'_>) -> Field<Self::Out>;

    /// A JSON string.
    #[inline]
    fn str(self, text: &str, at: &At<'_>) -> Field<Self::Out> {
        self.of_value(Value::String(text.to_owned()), at)
    }

    /// A JSON `true` or `false`.
    #[inline]
    fn bool(self, value: bool, at: &At<'_>) -> Field<Self::Out> {
        self.of_value(Value::Bool(value), at)
    }

    /// A JSON integer that fits `u64`.
    #[inline]
    fn u64(self, value: u64, at: &At<'_>) -> Field<Self::Out> {
        self.of_value(Value::Number(value.into()), at)
    }

    /// A negative JSON integer that fits `i64`.
    #[inline]
    fn i64(self, value: i64, at: &At<'_>) -> Field<Self::Out> {
        self.of_value(Value::Number(value.into()), at)
    }

    /// Any other JSON number (a fraction, an exponent, an integer beyond 64 bits).
    #[inline]
    fn f64(self, value: f64, at: &At<'_>) -> Field<Self::Out> {
        let value = Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.of_value(value, at)
    }

    /// A JSON object.
    #[inline]
    fn map<'de, A: MapAccess<'de>>(
        self,
        map: A,
        at: &At<'_>,
    ) -> Result<Field<Self::Out>, A::Error> {
        let value = Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(self.of_value(value, at))
    }

    /// A JSON array.
    #[inline]
    fn seq<'de, A: SeqAccess<'de>>(
        self,
        seq: A,
        at: &At<'_>,
    ) -> Result<Field<Self::Out>, A::Error> {
        let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
        Ok(self.of_value(value, at))
    }

    /// Reads one JSON value.
    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(
        self,
        deserializer: D,
        at: &At<'_>,
    ) -> Result<Field<Self::Out>, D::Error> {
        deserializer.deserialize_any(ReadVisitor { read: self, at })
    }
}

/// A scalar (or free-form) field: its value-path function (`wire::string`, `wire::number`...).
pub struct Leaf<T>(pub fn(Value, &At<'_>) -> Result<T, Error>);

impl<T> Clone for Leaf<T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Leaf<T> {}

impl<T> Read for Leaf<T> {
    type Out = T;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<T> {
        (self.0)(value, at)
    }
}

/// A plain string field (`wire::string`), its text copied once.
#[derive(Clone, Copy)]
pub struct Text;

impl Read for Text {
    type Out = String;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<String> {
        super::string(value, at)
    }

    #[inline]
    fn str(self, text: &str, _: &At<'_>) -> Field<String> {
        Ok(text.to_owned())
    }
}

/// A boolean field (`wire::boolean`).
#[derive(Clone, Copy)]
pub struct Boolean;

impl Read for Boolean {
    type Out = bool;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<bool> {
        super::boolean(value, at)
    }

    #[inline]
    fn bool(self, value: bool, _: &At<'_>) -> Field<bool> {
        Ok(value)
    }
}

/// A number field (`wire::number`): any JSON number the parser read (always finite).
#[derive(Clone, Copy)]
pub struct Double;

impl Read for Double {
    type Out = f64;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<f64> {
        super::number(value, at)
    }

    #[inline]
    fn u64(self, value: u64, _: &At<'_>) -> Field<f64> {
        Ok(value as f64)
    }

    #[inline]
    fn i64(self, value: i64, _: &At<'_>) -> Field<f64> {
        Ok(value as f64)
    }

    #[inline]
    fn f64(self, value: f64, at: &At<'_>) -> Field<f64> {
        if value.is_finite() {
            Ok(value)
        } else {
            self.of_value(
                Number::from_f64(value).map_or(Value::Null, Value::Number),
                at,
            )
        }
    }
}

/// A signed integer field (`wire::signed`): fractions and out-of-range integers go the
/// value path for its error.
#[derive(Clone, Copy)]
pub struct Signed;

impl Read for Signed {
    type Out = i64;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<i64> {
        super::signed(value, at)
    }

    #[inline]
    fn u64(self, value: u64, at: &At<'_>) -> Field<i64> {
        match i64::try_from(value) {
            Ok(value) => Ok(value),
            Err(_) => self.of_value(Value::Number(value.into()), at),
        }
    }

    #[inline]
    fn i64(self, value: i64, _: &At<'_>) -> Field<i64> {
        Ok(value)
    }
}

/// An unsigned integer field (`wire::unsigned`).
#[derive(Clone, Copy)]
pub struct Unsigned;

impl Read for Unsigned {
    type Out = u64;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<u64> {
        super::unsigned(value, at)
    }

    #[inline]
    fn u64(self, value: u64, _: &At<'_>) -> Field<u64> {
        Ok(value)
    }
}

/// A string enumeration: a known string is parsed where it lies, without a copy.
pub struct Enum<T: 'static> {
    /// The strings a message may hold (`EXPECTED`).
    pub expected: &'static [&'static str],
    /// The generated parser.
    pub parse: fn(&str) -> Option<T>,
}

impl<T> Clone for Enum<T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Enum<T> {}

impl<T> Read for Enum<T> {
    type Out = T;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<T> {
        super::enumeration(value, at, self.expected, self.parse)
    }

    #[inline]
    fn str(self, text: &str, at: &At<'_>) -> Field<T> {
        match (self.parse)(text) {
            Some(value) => Ok(value),
            None => self.of_value(Value::String(text.to_owned()), at),
        }
    }
}

/// An object field of a generated type, read key by key.
pub struct Nested<T>(PhantomData<fn() -> T>);

impl<T> Nested<T> {
    /// The reader of a `T`.
    #[inline]
    pub const fn new() -> Self {
        Nested(PhantomData)
    }
}

impl<T> Default for Nested<T> {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Nested<T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Nested<T> {}

impl<T: Struct> Read for Nested<T> {
    type Out = T;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<T> {
        T::from_value(value, at)
    }

    #[inline]
    fn map<'de, A: MapAccess<'de>>(self, map: A, at: &At<'_>) -> Result<Field<T>, A::Error> {
        T::read_map(map, at)
    }
}

/// An array field, each item read by the inner reader at `at[i]`; the first item in error is
/// the field's error (the rest are checked as JSON only).
#[derive(Clone, Copy)]
pub struct List<R>(pub R);

impl<R: Read> Read for List<R> {
    type Out = Vec<R::Out>;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<Vec<R::Out>> {
        super::array(value, at, |value, at| self.0.of_value(value, at))
    }

    #[inline]
    fn seq<'de, A: SeqAccess<'de>>(
        self,
        mut seq: A,
        at: &At<'_>,
    ) -> Result<Field<Vec<R::Out>>, A::Error> {
        let mut items = Vec::new();
        loop {
            let item_at = at.index(items.len());
            match seq.next_element_seed(Seed {
                read: self.0,
                at: &item_at,
            })? {
                None => return Ok(Ok(items)),
                Some(Ok(item)) => items.push(item),
                Some(Err(error)) => {
                    while seq.next_element::<Skip>()?.is_some() {}
                    return Ok(Err(error));
                }
            }
        }
    }
}

/// An optional field: `null` reads as absent.
#[derive(Clone, Copy)]
pub struct Optional<R>(pub R);

impl<R: Read> Read for Optional<R> {
    type Out = Option<R::Out>;

    #[inline]
    fn of_value(self, value: Value, at: &At<'_>) -> Field<Option<R::Out>> {
        match value {
            Value::Null => Ok(None),
            value => self.0.of_value(value, at).map(Some),
        }
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(
        self,
        deserializer: D,
        at: &At<'_>,
    ) -> Result<Field<Option<R::Out>>, D::Error> {
        deserializer.deserialize_option(OptionVisitor { read: self.0, at })
    }
}

/// The reader `read` at `at` as a serde seed.
pub struct Seed<'a, R> {
    read: R,
    at: &'a At<'a>,
}

impl<'de, R: Read> DeserializeSeed<'de> for Seed<'_, R> {
    type Value = Field<R::Out>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.read.deserialize(deserializer, self.at)
    }
}

/// Reads the value of the key just read by `read` at `at`.
#[inline]
pub fn value<'de, A: MapAccess<'de>, R: Read>(
    map: &mut A,
    read: R,
    at: &At<'_>,
) -> Result<Field<R::Out>, A::Error> {
    map.next_value_seed(Seed { read, at })
}

/// Skips the value of a key no field reads, checking it as JSON.
#[inline]
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<Skip>().map(|_| ())
}

/// The value of the first key of a field's keys (its name, then its aliases) that the object
/// held, the last time it held it.
#[inline]
pub fn first<T, const N: usize>(mut slots: [Option<Field<T>>; N]) -> Option<Field<T>> {
    slots.iter_mut().find_map(Option::take)
}

/// Builds a field list's value: `build` returns early on the first field in error.
#[inline]
pub fn build<T>(build: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    build()
}

/// A key's position in the type's keys (every field's name and aliases, field by field), or
/// `None` for a key no field reads: the generated `match` of the key.
pub struct Key(pub fn(&str) -> Option<usize>);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    #[inline]
    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok((self.0)(key))
    }
}

/// Decodes the bytes of a whole payload as a `T` (the root object): `not_json` when they are
/// not JSON, else what the value path would say.
#[inline]
pub fn decode<T: Struct>(bytes: &[u8]) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match Nested::<T>::new()
        .deserialize(&mut deserializer, &At::Root)
        .and_then(|field| deserializer.end().map(|()| field))
    {
        Ok(field) => field,
        Err(e) => Err(Error::new(ErrorKind::NotJson, "", "not JSON").with_source(e)),
    }
}

/// Builds the `Value` of each scalar as serde_json's own value visitor does, and hands
/// strings, objects and arrays to the reader.
struct ReadVisitor<'a, R> {
    read: R,
    at: &'a At<'a>,
}

impl<'de, R: Read> Visitor<'de> for ReadVisitor<'_, R> {
    type Value = Field<R::Out>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    #[inline]
    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(self.read.bool(value, self.at))
    }

    #[inline]
    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        // serde_json's value visitor: a non-negative i64 is the same number as a u64.
        Ok(match u64::try_from(value) {
            Ok(value) => self.read.u64(value, self.at),
            Err(_) => self.read.i64(value, self.at),
        })
    }

    #[inline]
    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(self.read.u64(value, self.at))
    }

    #[inline]
    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(self.read.f64(value, self.at))
    }

    #[inline]
    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(self.read.str(value, self.at))
    }

    #[inline]
    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(self.read.of_value(Value::String(value), self.at))
    }

    #[inline]
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(self.read.of_value(Value::Null, self.at))
    }

    #[inline]
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.read.of_value(Value::Null, self.at))
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.read.seq(seq, self.at)
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.read.map(map, self.at)
    }
}

/// `null` as absent, anything else through the inner reader.
struct OptionVisitor<'a, R> {
    read: R,
    at: &'a At<'a>,
}

impl<'de, R: Read> Visitor<'de> for OptionVisitor<'_, R> {
    type Value = Field<Option<R::Out>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    #[inline]
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(None))
    }

    #[inline]
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(None))
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Ok(self.read.deserialize(deserializer, self.at)?.map(Some))
    }
}

/// Any JSON value, checked as a value tree's parser checks it (the same `deserialize_any`
/// calls, so numbers beyond a double and the nesting limit are refused alike), kept nowhere.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    #[inline]
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    #[inline]
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    #[inline]
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    #[inline]
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    #[inline]
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    #[inline]
    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    #[inline]
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Skip, D::Error> {
        Skip::deserialize(deserializer)
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}
