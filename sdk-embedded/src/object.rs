//! [`JsonObject`]: a free-form JSON object (such as `metadata`) kept as compact JSON text in a
//! fixed-capacity string, validated when it is set or decoded.

use heapless::String;

use crate::json::{JsonError, Reader};

/// A JSON object stored as its compact text (no whitespace outside strings), at most `N` bytes.
///
/// Decoding copies the object as the sender wrote it, minus whitespace; keys are not re-sorted,
/// so a re-encoded envelope is canonical when the sender's object was.
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

    /// Validates `json` as one JSON object and keeps it in compact form.
    ///
    /// ```
    /// use natsbridge_embedded::JsonObject;
    ///
    /// let meta = JsonObject::<64>::parse(r#"{ "checksum": "sha256:00" }"#).unwrap();
    /// assert_eq!(meta.as_str(), r#"{"checksum":"sha256:00"}"#);
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

    /// Reads the next value of `reader`, which must be an object, into `self`.
    pub fn read(&mut self, reader: &mut Reader<'_>) -> Result<(), JsonError> {
        reader.compact_object_into(&mut self.text)
    }
}

impl<const N: usize> Default for JsonObject<N> {
    fn default() -> Self {
        Self::empty()
    }
}
