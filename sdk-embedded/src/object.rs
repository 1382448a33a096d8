//! [`JsonObject`]: a free-form JSON object (such as `metadata`) kept as canonical JSON text in
//! a fixed-capacity string, validated and canonicalised when it is set or decoded.

use heapless::String;

use crate::canonical::write_canonical;
use crate::json::{JsonError, Reader, Writer};

/// A JSON object stored as its canonical text (WIRE.md section 8), at most `N` bytes: no
/// whitespace, keys sorted by code point at every level, strings with the canonical escapes.
/// Numbers are kept as written (WIRE.md compares floating-point numbers by value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonObject<const N: usize> {
    text: String<N>,
}

impl<const N: usize> JsonObject<N> {
    /// The empty object `{}`.
    pub fn empty() -> Self {
        let mut text = String::new();
        // Cannot fail: the generator refuses object capacities under 2 bytes.
        let _ = text.push_str("{}");
        JsonObject { text }
    }

    /// Validates `json` as one JSON object and keeps its canonical form.
    ///
    /// ```
    /// use natsbridge_embedded::JsonObject;
    ///
    /// let meta = JsonObject::<64>::parse(r#"{ "z": 1, "a": {"c": "é", "b": [] } }"#).unwrap();
    /// assert_eq!(meta.as_str(), r#"{"a":{"b":[],"c":"é"},"z":1}"#);
    /// assert!(JsonObject::<64>::parse("[1]").is_err());
    /// ```
    pub fn parse(json: &str) -> Result<Self, JsonError> {
        let mut reader = Reader::new(json.as_bytes());
        let mut object = Self::empty();
        object.read(&mut reader)?;
        reader.end()?;
        Ok(object)
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the empty object.
    pub fn is_empty(&self) -> bool {
        self.text.as_str() == "{}"
    }

    /// Reads the next value of `reader`, which must be an object, into `self`, canonicalised.
    /// Needs `2 * N` bytes of stack for the compact copy and the canonical form.
    pub fn read(&mut self, reader: &mut Reader<'_>) -> Result<(), JsonError> {
        let start = reader.offset();
        let mut compact: String<N> = String::new();
        reader.compact_object_into(&mut compact)?;
        let mut buf = [0u8; N];
        let mut w = Writer::new(&mut buf);
        // The canonical form is never longer than the compact one, so this cannot fail.
        let too_long = JsonError::TooLong {
            capacity: N,
            offset: start,
        };
        write_canonical(&compact, &mut w).map_err(|_| too_long)?;
        let text = core::str::from_utf8(w.written()).map_err(|_| too_long)?;
        self.text.clear();
        self.text.push_str(text).map_err(|_| too_long)
    }
}

impl<const N: usize> Default for JsonObject<N> {
    fn default() -> Self {
        Self::empty()
    }
}
