//! Decoding and encoding of whole envelopes: JSON bytes to [`MessageEnvelope`] with receive-side
//! aliases and defaults, and back to the canonical bytes of WIRE.md section 8.

use serde_json::Value;

use crate::wire::At;
use crate::{Error, ErrorKind, MessageEnvelope};

impl MessageEnvelope {
    /// Decodes a NATS message body, accepting every receive-side form of WIRE.md section 7
    /// (aliases, missing keys with defaults, unknown keys ignored).
    ///
    /// Errors name the key at fault: `not_json`, `not_object`, `missing_key`, `wrong_type` or
    /// `bad_value` (see [`ErrorKind`]).
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Error::new(ErrorKind::NotJson, "", format!("not JSON: {e}")))?;
        Self::from_value(value, &At::Root)
    }

    /// The canonical JSON text of this envelope: keys in schema order, free-form objects sorted,
    /// no whitespace, numbers as schema/WIRE.md section 9 writes them, absent optional fields
    /// left out. The same inputs give the same bytes in every SDK.
    pub fn to_json(&self) -> String {
        String::from_utf8(self.to_json_vec()).expect("serde_json writes UTF-8")
    }

    /// [`to_json`](Self::to_json) as bytes, ready to publish.
    pub fn to_json_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        crate::wire::write_canonical(&mut out, self)
            .expect("an envelope always serializes: keys are strings");
        out
    }
}
