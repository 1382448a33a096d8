//! Small wire-level helpers that the generated code calls: the place of a key in a message,
//! typed extraction of JSON values with precise errors, canonical (sorted) objects, and the
//! base64 of direct payloads.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{Error, ErrorKind};

/// A place in a message, built on the stack while decoding and only rendered on error:
/// `payloads[2].size`.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// The whole message.
    Root,
    /// A key of an object.
    Key(&'a At<'a>, &'static str),
    /// An item of an array.
    Index(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    /// The key `name` of the object at `self`.
    pub fn key(&'a self, name: &'static str) -> At<'a> {
        At::Key(self, name)
    }

    /// The item `index` of the array at `self`.
    pub fn index(&'a self, index: usize) -> At<'a> {
        At::Index(self, index)
    }

    /// An error of `kind` at this place.
    pub fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, self.to_string(), message)
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Key(At::Root, name) => f.write_str(name),
            At::Key(parent, name) => write!(f, "{parent}.{name}"),
            At::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The JSON type of `value`, for messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(at: &At<'_>, expected: &str, found: &Value) -> Error {
    at.error(
        ErrorKind::WrongType,
        format!("expected {expected}, found {}", type_name(found)),
    )
}

/// Removes the first of `names` (the canonical key, then its aliases) present in `object`.
pub fn take(object: &mut Map<String, Value>, names: &[&str]) -> Option<Value> {
    names.iter().find_map(|name| object.remove(*name))
}

/// The error for a key without a default that is missing.
pub fn missing(at: &At<'_>) -> Error {
    at.error(ErrorKind::MissingKey, "this key is required")
}

/// A structure: `value` must be an object (anything else is `not_object` for the whole message
/// and `wrong_type` inside it).
pub fn structure(value: Value, at: &At<'_>) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(object) => Ok(object),
        other if matches!(at, At::Root) => Err(at.error(
            ErrorKind::NotObject,
            format!("expected an object, found {}", type_name(&other)),
        )),
        other => Err(wrong_type(at, "an object", &other)),
    }
}

/// A string value.
pub fn string(value: Value, at: &At<'_>) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(at, "a string", &other)),
    }
}

/// A non-negative integer that fits `u64`.
pub fn unsigned(value: Value, at: &At<'_>) -> Result<u64, Error> {
    match value.as_u64() {
        Some(n) => Ok(n),
        None => Err(wrong_type(at, "a non-negative integer", &value)),
    }
}

/// A free-form object.
pub fn object(value: Value, at: &At<'_>) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(wrong_type(at, "an object", &other)),
    }
}

/// An array, each item decoded by `item` with its place.
pub fn array<T>(
    value: Value,
    at: &At<'_>,
    item: impl Fn(Value, &At<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| item(v, &at.index(i)))
            .collect(),
        other => Err(wrong_type(at, "an array", &other)),
    }
}

/// An enumeration value: a string that `parse` knows.
pub fn enumeration<T>(
    value: Value,
    at: &At<'_>,
    expected: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, Error> {
    let text = string(value, at)?;
    parse(&text).ok_or_else(|| {
        at.error(
            ErrorKind::BadValue,
            format!("unknown value {text:?}; expected one of {expected:?}"),
        )
    })
}

/// Serializes a free-form object with its keys (and those of every nested object) sorted by
/// code point, whatever order the map keeps (serde_json's `preserve_order` may be on).
pub fn sorted_object<S: Serializer>(
    object: &Map<String, Value>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    SortedObject(object).serialize(serializer)
}

/// A JSON value whose objects serialize with sorted keys (WIRE.md section 8).
pub struct Canonical<'a>(pub &'a Value);

struct SortedObject<'a>(&'a Map<String, Value>);

impl Serialize for SortedObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut entries: Vec<(&String, &Value)> = self.0.iter().collect();
        // Rust orders strings by UTF-8 bytes, which is code point order.
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, &Canonical(value))?;
        }
        map.end()
    }
}

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self.0 {
            Value::Object(object) => SortedObject(object).serialize(serializer),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Canonical(item))?;
                }
                seq.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// A `serde` visitor for the generated string enumerations: borrows the string, allocates
/// nothing for known values.
pub struct EnumVisitor<T> {
    /// What the enumeration is called in messages.
    pub name: &'static str,
    /// The values a message may hold.
    pub expected: &'static [&'static str],
    /// The generated parser.
    pub parse: fn(&str) -> Option<T>,
}

impl<T> serde::de::Visitor<'_> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} string", self.name)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).ok_or_else(|| E::unknown_variant(text, self.expected))
    }
}

/// The canonical JSON text of a value: compact, object keys sorted (WIRE.md section 8).
pub fn canonical_json(value: &Value) -> String {
    serde_json::to_string(&Canonical(value)).expect("a JSON value always serializes")
}

/// Standard base64 with `=` padding (WIRE.md section 3), by the SIMD engine of `base64-simd`
/// (AVX2, SSSE3 or NEON when the CPU has them): about twice the base64 crate's speed.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// Decodes standard, padded base64 as strictly as the base64 crate's `STANDARD` engine:
/// the SIMD engine decodes, and on any refusal the base64 crate decides, so that what is
/// accepted and the error message (which character, at which offset) stay the same.
pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine as _;
    match base64_simd::STANDARD.decode_to_vec(text) {
        Ok(bytes) => Ok(bytes),
        Err(_) => base64::engine::general_purpose::STANDARD.decode(text),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    /// The SIMD engine must accept exactly what the base64 crate accepts, with the same bytes.
    #[test]
    fn base64_decode_accepts_what_the_base64_crate_accepts() {
        let long = super::base64_encode(&(0..=255u8).cycle().take(1000).collect::<Vec<u8>>());
        let mut inputs: Vec<String> = [
            "",
            "=",
            "==",
            "Q",
            "QQ",
            "QQ=",
            "QQ==",
            "QR==",
            "QUE",
            "QUE=",
            "QUF=",
            "QUFB",
            "QQ==QQ==",
            " QQ==",
            "QQ== ",
            "QQ\n==",
            "Q===",
            "QUFB\r\n",
            "QU-B",
            "QU_B",
            "QUFB====",
            "\u{e9}QUFB",
            "QQ=A",
            "aGk=",
            "aGVsbG8=",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for cut in [1, 2, 3, 4, 40, 41, 42, 43] {
            inputs.push(long[..long.len() - cut].to_owned());
        }
        for (i, c) in [(10, '!'), (500, '='), (700, '-'), (1330, 'A')] {
            let mut bad = long.clone();
            bad.replace_range(i..i + 1, &c.to_string());
            inputs.push(bad);
        }
        inputs.push(long);
        for input in &inputs {
            let ours = super::base64_decode(input).map_err(|e| e.to_string());
            let theirs = STANDARD.decode(input).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "input {input:?}");
            let simd = base64_simd::STANDARD.decode_to_vec(input).ok();
            assert_eq!(simd, theirs.ok(), "the SIMD engine alone, input {input:?}");
        }
    }
}
