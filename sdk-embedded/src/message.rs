//! [`Message`], the trait every generated structure implements: the generated code supplies
//! the field codecs, this trait turns them into whole-body `decode` and `encode`, once.

use crate::json::{BufferFull, Reader, Writer};
use crate::{At, DecodeError, ErrorKind};

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

/// Reads the value of a field's alias spelling of `rank` (1 for the first alias) with `read`,
/// for the generated decoders. `seen` is the rank of the spelling that set the field so far
/// (`u8::MAX`: none): a key wins over its aliases and an earlier alias over a later one, so a
/// lower-precedence spelling is skipped. A refused value does not fail the message at once (a
/// higher-precedence spelling may still come and win, as in every SDK): its error waits in
/// `deferred`, unless the text is not JSON at all. One function, not one copy per alias.
pub(crate) fn read_alias<'a>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
    seen: &mut u8,
    rank: u8,
    deferred: &mut Option<DecodeError>,
    read: &mut dyn FnMut(&mut Reader<'a>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    if *seen < rank {
        return reader.skip_value().map_err(|e| at.json_error(e));
    }
    *seen = rank;
    *deferred = None;
    let before = reader.clone();
    if let Err(error) = read(reader) {
        if error.kind == ErrorKind::NotJson {
            return Err(error);
        }
        *deferred = Some(error);
        *reader = before;
        reader.skip_value().map_err(|e| at.json_error(e))?;
    }
    Ok(())
}

/// `text` as a string of capacity `N`, for a send-side field at `at`: `over_capacity` naming
/// the field when it does not fit, never truncated.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn copy_text<const N: usize>(
    text: &str,
    at: &At<'_>,
) -> Result<heapless::String<N>, DecodeError> {
    let mut out = heapless::String::new();
    out.push_str(text).map_err(|_| {
        at.error(
            ErrorKind::OverCapacity,
            0,
            "longer than its capacity in this SDK",
        )
    })?;
    Ok(out)
}

/// `json` (one JSON object) in canonical form, for a send-side field at `at`: `over_capacity`
/// when it does not fit, `invalid_input` when it is not one JSON object.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn copy_object<const N: usize>(
    json: &str,
    at: &At<'_>,
) -> Result<crate::JsonObject<N>, DecodeError> {
    crate::JsonObject::parse(json).map_err(|e| match e {
        crate::json::JsonError::TooLong { .. } | crate::json::JsonError::TooDeep { .. } => at
            .error(
                ErrorKind::OverCapacity,
                0,
                "longer than its capacity in this SDK",
            ),
        _ => at.error(ErrorKind::InvalidInput, 0, "expected one JSON object"),
    })
}

/// What a received string must be besides fitting its capacity (the schema's `format` or
/// `const`); formats apply to non-empty strings.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    Any,
    Uuid,
    DateTime,
    Const(&'static str),
}

fn check_text<I: Iterator<Item = char> + Clone>(
    chars: I,
    rule: Rule,
    at: &At<'_>,
    offset: usize,
) -> Result<(), DecodeError> {
    let empty = chars.clone().next().is_none();
    let (ok, detail) = match rule {
        Rule::Any => (true, ""),
        Rule::Uuid => (empty || crate::format::is_uuid(chars), "not a UUID"),
        Rule::DateTime => (
            empty || crate::format::is_date_time(chars),
            "not an RFC 3339 date-time",
        ),
        Rule::Const(value) => (chars.eq(value.chars()), "not the value the schema fixes"),
    };
    if ok {
        Ok(())
    } else {
        Err(at.error(ErrorKind::BadValue, offset, detail))
    }
}

/// Reads a string of capacity `N` at `at` and checks `rule`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_text<const N: usize>(
    reader: &mut Reader<'_>,
    at: &At<'_>,
    rule: Rule,
) -> Result<heapless::String<N>, DecodeError> {
    let mut out = heapless::String::new();
    let offset = reader.offset();
    reader.string_into(&mut out).map_err(|e| at.json_error(e))?;
    check_text(out.chars(), rule, at, offset)?;
    Ok(out)
}

/// Reads a string at `at` as a borrowed [`crate::JsonStr`] and checks `rule`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_text_view<'a>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
    rule: Rule,
) -> Result<crate::JsonStr<'a>, DecodeError> {
    let offset = reader.offset();
    let text = reader.raw_string().map_err(|e| at.json_error(e))?;
    check_text(text.chars(), rule, at, offset)?;
    Ok(text)
}

/// Reads an `i64` at `at`: a fraction or exponent is `wrong_type`, out of range `bad_value`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_signed(reader: &mut Reader<'_>, at: &At<'_>) -> Result<i64, DecodeError> {
    let offset = reader.offset();
    reader
        .signed()
        .map_err(|e| at.json_error(e))?
        .ok_or_else(|| at.error(ErrorKind::BadValue, offset, "out of the range of i64"))
}

/// Reads a finite `f64` at `at`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_number(reader: &mut Reader<'_>, at: &At<'_>) -> Result<f64, DecodeError> {
    let offset = reader.offset();
    reader
        .number()
        .map_err(|e| at.json_error(e))?
        .ok_or_else(|| at.error(ErrorKind::BadValue, offset, "not a finite number"))
}

/// Reads `true` or `false` at `at`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_bool(reader: &mut Reader<'_>, at: &At<'_>) -> Result<bool, DecodeError> {
    reader.boolean().map_err(|e| at.json_error(e))
}

/// Reads a free-form object of capacity `N` at `at`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_object<const N: usize>(
    reader: &mut Reader<'_>,
    at: &At<'_>,
) -> Result<crate::JsonObject<N>, DecodeError> {
    let mut out = crate::JsonObject::empty();
    out.read(reader).map_err(|e| at.json_error(e))?;
    Ok(out)
}

/// Reads a nested structure at `at`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_message<T: Message>(
    reader: &mut Reader<'_>,
    at: &At<'_>,
) -> Result<T, DecodeError> {
    let mut out = T::default();
    out.decode_from(reader, at)?;
    Ok(out)
}

/// Reads a nested structure at `at` as a borrowed view.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_view<'a, T: MessageView<'a>>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
) -> Result<T, DecodeError> {
    let mut out = T::default();
    out.decode_from(reader, at)?;
    Ok(out)
}

/// Reads an optional value: `null` is absent (schema/WIRE.md section 9), anything else is
/// read by `read`.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn read_optional<'a, T>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    if reader.null().map_err(|e| at.json_error(e))? {
        Ok(None)
    } else {
        read(reader).map(Some)
    }
}

/// Writes `key` (`"name":`) after `{` or a `,`: for structures whose optional fields may
/// be left out, so that no key is written first.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn write_key(w: &mut Writer<'_>, first: &mut bool, key: &str) -> Result<(), BufferFull> {
    if !*first {
        w.raw(",")?;
    }
    *first = false;
    w.raw(key)
}

/// Sets `out` to `text` for a send-side field at `at` (one copy of the code for every
/// capacity): `over_capacity` naming the field when it does not fit, never truncated.
// Used by the generated code when the schema has such a field.
#[allow(dead_code)]
pub(crate) fn set_text(
    out: &mut heapless::string::StringView,
    text: &str,
    at: &At<'_>,
) -> Result<(), DecodeError> {
    out.clear();
    out.push_str(text).map_err(|_| {
        at.error(
            ErrorKind::OverCapacity,
            0,
            "longer than its capacity in this SDK",
        )
    })
}
