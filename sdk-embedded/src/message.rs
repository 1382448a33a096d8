//! [`Message`], the trait every generated structure implements: the generated code supplies
//! the field codecs, this trait turns them into whole-body `decode` and `encode`, once.

use crate::json::{BufferFull, Reader, Writer};
use crate::{At, DecodeError};

/// A structure of the wire contract that can be decoded from and encoded to JSON without an
/// allocator. Bring it into scope to call `decode` and `encode`:
///
/// ```
/// use natsbridge_embedded::{Message, MessageEnvelope};
///
/// let envelope = MessageEnvelope::decode(br#"{"payloads":[]}"#).unwrap();
/// let mut buf = [0u8; 512];
/// assert!(envelope.encode(&mut buf).unwrap().ends_with(br#""payloads":[]}"#));
/// ```
pub trait Message: Default {
    /// The longest text [`encode`](Self::encode) can write: every string at capacity with
    /// every byte escaped as `\u00XX`, every array full. A buffer of this size never overflows.
    const MAX_ENCODED_LEN: usize;

    /// Reads the object at `reader` into `self`, applying the schema's aliases and defaults and
    /// skipping unknown keys; errors name the key at fault relative to `at`.
    fn decode_from(&mut self, reader: &mut Reader<'_>, at: &At<'_>) -> Result<(), DecodeError>;

    /// Writes the canonical JSON text with `w`: keys in schema order, no whitespace.
    fn encode_into(&self, w: &mut Writer<'_>) -> Result<(), BufferFull>;

    /// Decodes a whole message body (one JSON object and nothing else but whitespace).
    fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut out = Self::default();
        out.decode_in_place(body)?;
        Ok(out)
    }

    /// Like [`decode`](Self::decode), into an existing value (a `static`, say), so the decoded
    /// message is never held twice. After an error `self` holds a partly decoded message.
    fn decode_in_place(&mut self, body: &[u8]) -> Result<(), DecodeError> {
        let mut reader = Reader::new(body);
        self.decode_from(&mut reader, &At::Root)
            .and_then(|()| reader.end().map_err(|e| At::Root.json_error(e)))
            .map_err(|error| error.or_not_json(body))
    }

    /// Writes the canonical JSON text into `buf` and returns the written part. A buffer of
    /// [`MAX_ENCODED_LEN`](Self::MAX_ENCODED_LEN) bytes always suffices.
    fn encode<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], BufferFull> {
        let mut w = Writer::new(buf);
        self.encode_into(&mut w)?;
        Ok(w.into_written())
    }
}

/// A borrowed view of a structure of the wire contract (`MessageEnvelopeView<'a>`, ...),
/// decoded from a message body without copying: its strings and free-form objects point into
/// `'a`, the body. Bring it into scope to call `decode`:
///
/// ```
/// use natsbridge_embedded::{MessageEnvelopeView, MessageView};
///
/// let body = br#"{"msgId":"m-1","payloads":[{"dataname":"t","type":"text","transport":"direct",
///   "encoding":"base64","size":2,"data":"aGk="}]}"#;
/// let envelope = MessageEnvelopeView::decode(body).unwrap();
/// assert!(envelope.msg_id.eq_str("m-1"));
/// assert_eq!(envelope.msg_purpose.as_str(), Some("chat")); // the schema's default
/// assert_eq!(envelope.payloads[0].data.raw(), "aGk=");
/// ```
pub trait MessageView<'a>: Default {
    /// Reads the object at `reader` into `self`, applying the schema's aliases and defaults and
    /// skipping unknown keys; errors name the key at fault relative to `at`.
    fn decode_from(&mut self, reader: &mut Reader<'a>, at: &At<'_>) -> Result<(), DecodeError>;

    /// Decodes a whole message body (one JSON object and nothing else but whitespace). The
    /// same errors as [`Message::decode`], except that strings and objects are never
    /// `over_capacity`.
    fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut out = Self::default();
        let mut reader = Reader::new(body);
        out.decode_from(&mut reader, &At::Root)
            .and_then(|()| reader.end().map_err(|e| At::Root.json_error(e)))
            .map_err(|error| error.or_not_json(body))?;
        Ok(out)
    }
}
