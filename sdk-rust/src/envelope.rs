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
    /// no whitespace. The same inputs give the same bytes in every SDK.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes: keys are strings")
    }

    /// [`to_json`](Self::to_json) as bytes, ready to publish.
    pub fn to_json_vec(&self) -> Vec<u8> {
        self.to_json().into_bytes()
    }
}
