//! Decoding and encoding of whole envelopes: JSON bytes to [`MessageEnvelope`] with receive-side
//! aliases and defaults, and back to the canonical bytes of WIRE.md section 8.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::wire::At;
use crate::{Error, ErrorKind, MessageEnvelope, MessagePayload};

impl MessageEnvelope {
    /// Decodes a NATS message body, accepting every receive-side form of WIRE.md section 7
    /// (aliases, missing keys with defaults, unknown keys ignored).
    ///
    /// Errors name the key at fault: `not_json`, `not_object`, `missing_key`, `wrong_type` or
    /// `bad_value` (see [`ErrorKind`]).
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        Ok(Self::from_json_split(body)?.into_envelope())
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

impl MessageEnvelope {
    /// The same bytes as [`to_json_vec`](Self::to_json_vec), faster for large payloads: each
    /// payload's `data` that needs no JSON escapes (base64, URLs) is set aside while the rest
    /// is serialized and then written as it is, not scanned character by character (hence
    /// `&mut`). The envelope is unchanged afterwards. `Client::smartsend` uses it.
    pub fn to_json_vec_mut(&mut self) -> Vec<u8> {
        self.with_data_aside(|envelope, aside| {
            let mut out = Vec::with_capacity(aside.bytes + 1024);
            write_spliced(&mut out, envelope, aside);
            out
        })
    }

    /// The length of [`to_json_vec`](Self::to_json_vec), counted without building the text
    /// (and without scanning the data that needs no escapes).
    pub(crate) fn json_len(&mut self) -> usize {
        struct Counter(usize);
        impl std::io::Write for Counter {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0 += bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        self.with_data_aside(|envelope, aside| {
            let mut counter = Counter(0);
            write_spliced(&mut counter, envelope, aside);
            counter.0
        })
    }

    /// Runs `f` with the payloads' escape-free `data` taken out of the envelope (left empty)
    /// and held in a [`DataAside`], then puts it back.
    fn with_data_aside<R>(&mut self, f: impl FnOnce(&MessageEnvelope, &DataAside) -> R) -> R {
        let mut aside = DataAside {
            data: Vec::with_capacity(self.payloads.len()),
            bytes: 0,
        };
        for payload in &mut self.payloads {
            let plain = payload.data.len() >= SPLICED_FROM && needs_no_escape(&payload.data);
            aside.bytes += if plain { payload.data.len() } else { 0 };
            aside
                .data
                .push(plain.then(|| std::mem::take(&mut payload.data)));
        }
        let result = f(self, &aside);
        for (payload, data) in self.payloads.iter_mut().zip(aside.data) {
            if let Some(data) = data {
                payload.data = data;
            }
        }
        result
    }
}

/// Shorter `data` is written the usual way: setting it aside would cost more than it saves.
const SPLICED_FROM: usize = 256;

/// Whether serde_json writes `text` as it is: no quote, backslash or control character.
fn needs_no_escape(text: &str) -> bool {
    // A plain loop over bytes, which the compiler vectorizes.
    text.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    })
}

/// Payloads' `data` set aside while the rest of an envelope is serialized, in payload order
/// (`None`: left in the envelope, written the usual way).
struct DataAside {
    data: Vec<Option<String>>,
    bytes: usize,
}

fn write_spliced<W: std::io::Write>(writer: W, envelope: &MessageEnvelope, aside: &DataAside) {
    let formatter = SplicingFormatter {
        aside,
        payload: 0,
        depth: 0,
        key: String::new(),
        in_key: false,
        in_payloads: false,
        at_data: false,
    };
    use serde::Serialize;
    envelope
        .serialize(&mut serde_json::Serializer::with_formatter(
            writer, formatter,
        ))
        .expect("an envelope always serializes: keys are strings");
}

/// The canonical formatter, which also writes each set-aside `data` into the empty string that
/// stands for it: the value of key `data` in an object of the array under the envelope's key
/// `payloads` (canonical keys: the sender writes no aliases).
struct SplicingFormatter<'a> {
    aside: &'a DataAside,
    /// The payload whose object is being written, counted from 0.
    payload: usize,
    /// Objects and arrays open around the writer: 1 in the envelope, 2 in its payloads array,
    /// 3 in a payload.
    depth: usize,
    /// The last key read at depth 1 or 3.
    key: String,
    in_key: bool,
    in_payloads: bool,
    /// The string being written is a payload's `data`.
    at_data: bool,
}

impl serde_json::ser::Formatter for SplicingFormatter<'_> {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        crate::wire::CanonicalFormatter.write_f64(w, value)
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        if self.depth == 2 && self.key == MessageEnvelope::PAYLOADS_KEYS[0] {
            self.in_payloads = true;
        }
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if self.depth == 2 {
            self.in_payloads = false;
        }
        self.depth -= 1;
        w.write_all(b"]")
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if self.depth == 3 && self.in_payloads {
            self.payload += 1;
        }
        self.depth -= 1;
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if self.depth == 1 || self.depth == 3 {
            self.in_key = true;
            self.key.clear();
        }
        if first { Ok(()) } else { w.write_all(b",") }
    }

    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.at_data =
            self.depth == 3 && self.in_payloads && self.key == MessagePayload::DATA_KEYS[0];
        w.write_all(b":")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.at_data = false;
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if self.in_key {
            self.key.push_str(fragment);
        }
        w.write_all(fragment.as_bytes())
    }

    fn end_string<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        if self.at_data
            && let Some(Some(data)) = self.aside.data.get(self.payload)
        {
            w.write_all(data.as_bytes())?;
        }
        w.write_all(b"\"")
    }
}

/// A decoded envelope whose payloads' `data` text is still where it was received: the base64
/// of a direct payload is decoded straight from the message body, never copied into a `String`.
pub(crate) struct SplitEnvelope<'a> {
    /// The envelope, with every payload's `data` empty.
    pub envelope: MessageEnvelope,
    /// Each payload's `data` text, borrowed from the body (owned only when it held escapes).
    pub data: Vec<Cow<'a, str>>,
}

impl SplitEnvelope<'_> {
    /// The envelope with each payload's `data` put back.
    pub fn into_envelope(self) -> MessageEnvelope {
        let mut envelope = self.envelope;
        for (payload, data) in envelope.payloads.iter_mut().zip(self.data) {
            payload.data = data.into_owned();
        }
        envelope
    }
}

impl MessageEnvelope {
    /// [`from_json`](Self::from_json), leaving each payload's `data` text in `body`: the same
    /// aliases, defaults, precedence and errors, without holding the base64 text twice.
    pub(crate) fn from_json_split(body: &[u8]) -> Result<SplitEnvelope<'_>, Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let (value, side) = Level::Envelope
            .deserialize(&mut deserializer)
            .and_then(|parsed| deserializer.end().map(|()| parsed))
            .map_err(|e| Error::new(ErrorKind::NotJson, "", "not JSON").with_source(e))?;
        let envelope = Self::from_value(value, &At::Root)?;
        let Side::Payloads(texts) = side else {
            // Only an envelope without payloads decodes without them (and then it has none).
            return Ok(SplitEnvelope {
                envelope,
                data: Vec::new(),
            });
        };
        // Every payload decoded, so every one had its `data` as a string.
        let data = texts.into_iter().map(Option::unwrap_or_default).collect();
        Ok(SplitEnvelope { envelope, data })
    }
}

/// Where the splitting decoder is: at the envelope, in its payloads array, in one payload, at
/// a payload's `data`. Everything else becomes a plain [`Value`].
#[derive(Clone, Copy)]
enum Level {
    Envelope,
    Payloads,
    Payload,
    Data,
}

/// What a level hands up beside its value: the `data` texts found below it.
enum Side<'a> {
    None,
    Payloads(Vec<Option<Cow<'a, str>>>),
    Payload(Option<Cow<'a, str>>),
    Data(Cow<'a, str>),
}

/// The value of the first of `keys` present in `object` (the one [`crate::wire::take`] reads),
/// taken from the texts found per key (the last of a repeated key wins, as in `object`).
fn chosen<T>(
    object: &Map<String, Value>,
    keys: &[&str],
    found: &mut Vec<(String, T)>,
) -> Option<T> {
    let key = keys.iter().find(|k| object.contains_key(**k))?;
    let index = found.iter().rposition(|(k, _)| k == key)?;
    Some(found.swap_remove(index).1)
}

impl<'de> DeserializeSeed<'de> for Level {
    type Value = (Value, Side<'de>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Level {
    type Value = (Value, Side<'de>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok((Value::Bool(v), Side::None))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok((Value::from(v), Side::None))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok((Value::from(v), Side::None))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok((Value::from(v), Side::None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((Value::Null, Side::None))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(match self {
            Level::Data => (Value::String(String::new()), Side::Data(Cow::Borrowed(v))),
            _ => (Value::String(v.to_owned()), Side::None),
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.visit_string(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(match self {
            Level::Data => (Value::String(String::new()), Side::Data(Cow::Owned(v))),
            _ => (Value::String(v), Side::None),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Level::Payloads = self else {
            let value = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
            return Ok((value, Side::None));
        };
        let mut items = Vec::new();
        let mut texts = Vec::new();
        while let Some((item, side)) = seq.next_element_seed(Level::Payload)? {
            items.push(item);
            texts.push(match side {
                Side::Payload(text) => text,
                _ => None,
            });
        }
        Ok((Value::Array(items), Side::Payloads(texts)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (special, below) = match self {
            Level::Envelope => (MessageEnvelope::PAYLOADS_KEYS, Level::Payloads),
            Level::Payload => (MessagePayload::DATA_KEYS, Level::Data),
            Level::Payloads | Level::Data => {
                let value = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                return Ok((value, Side::None));
            }
        };
        let mut object = Map::new();
        let mut found = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if special.contains(&key.as_str()) {
                let (value, side) = map.next_value_seed(below)?;
                found.push((key.clone(), side));
                object.insert(key, value);
            } else {
                let value = map.next_value::<Value>()?;
                object.insert(key, value);
            }
        }
        let side = chosen(&object, special, &mut found);
        let side = match (self, side) {
            (Level::Envelope, Some(side @ Side::Payloads(_))) => side,
            (Level::Payload, Some(Side::Data(text))) => Side::Payload(Some(text)),
            _ => Side::None,
        };
        Ok((Value::Object(object), side))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use crate::{ErrorKind, MessageEnvelope};

    fn body(data: &str) -> String {
        format!(
            r#"{{"msg_id":"m","payloads":[{{"dataname":"a","payload_type":"binary","transport":"direct","encoding":"base64","size":3,"data":{data}}}]}}"#
        )
    }

    #[test]
    fn direct_data_stays_in_the_body_unless_it_holds_escapes() {
        let plain = body(r#""QUFB""#);
        let split = MessageEnvelope::from_json_split(plain.as_bytes()).unwrap();
        assert!(matches!(split.data[0], Cow::Borrowed("QUFB")));
        assert_eq!(split.envelope.payloads[0].data, "");
        let escaped = body(r#""QU\/B""#);
        let split = MessageEnvelope::from_json_split(escaped.as_bytes()).unwrap();
        assert!(matches!(&split.data[0], Cow::Owned(text) if text == "QU/B"));
        assert_eq!(split.into_envelope().payloads[0].data, "QU/B");
    }

    #[test]
    fn the_split_decoder_reads_what_serde_json_reads() {
        let cases = [
            // A repeated key: the last one wins, as in serde_json's map.
            body(r#""QUFB","data":"QkJC""#),
            // Payloads under a repeated key, and the same keys inside other values left alone.
            r#"{"payloads":[],"metadata":{"data":"x","payloads":[1]},"payloads":[{"dataname":"a","payload_type":"binary","transport":"direct","encoding":"base64","size":3,"metadata":{"data":1},"data":"QUFB"}]}"#.to_string(),
        ];
        for case in &cases {
            let value: serde_json::Value = serde_json::from_str(case).unwrap();
            let want = MessageEnvelope::from_value(value, &crate::wire::At::Root).unwrap();
            assert_eq!(
                MessageEnvelope::from_json(case.as_bytes()).unwrap(),
                want,
                "{case}"
            );
        }
    }

    #[test]
    fn errors_name_the_key_as_before() {
        for (data, kind) in [
            ("3", ErrorKind::WrongType),
            ("null", ErrorKind::WrongType),
            (r#"{"data":"QUFB"}"#, ErrorKind::WrongType),
            (r#"["QUFB"]"#, ErrorKind::WrongType),
        ] {
            let error = MessageEnvelope::from_json(body(data).as_bytes()).unwrap_err();
            assert_eq!(
                (error.kind(), error.at()),
                (kind, "payloads[0].data"),
                "{data}"
            );
        }
        let error = MessageEnvelope::from_json(br#"{"payloads":{"data":"QUFB"}}"#).unwrap_err();
        assert_eq!(
            (error.kind(), error.at()),
            (ErrorKind::WrongType, "payloads")
        );
        let error = MessageEnvelope::from_json(br#"[{"payloads":[]}]"#).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotObject);
        let error = MessageEnvelope::from_json(br#"{"payloads":[]} x"#).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotJson);
    }
    #[test]
    fn the_splicing_encoder_writes_the_canonical_bytes() {
        let long = "QUFB".repeat(100);
        let escaped = format!("{}\\\"q\\\\\\u0001", "x".repeat(300));
        let payload = |name: &str, data: &str, metadata: &str| {
            format!(
                r#"{{"dataname":"{name}","payload_type":"text","transport":"direct","encoding":"none","size":1,"metadata":{metadata},"data":"{data}"}}"#
            )
        };
        let cases = [
            // One long payload with no escapes: spliced.
            format!(
                r#"{{"msg_id":"m","payloads":[{}]}}"#,
                payload("a", &long, "{}")
            ),
            // Long data with escapes, short data, and long data after them.
            format!(
                r#"{{"msg_id":"m","payloads":[{},{},{}]}}"#,
                payload("a", &escaped, "{}"),
                payload("b", "QUFB", "{}"),
                payload("c", &long, "{}")
            ),
            // Keys named data and payloads at other depths, holding long strings.
            format!(
                r#"{{"msg_id":"m","metadata":{{"data":"{long}","payloads":[{{"data":"{long}"}}]}},"payloads":[{}]}}"#,
                payload(
                    "a",
                    &long,
                    &format!(r#"{{"data":"{long}","x":{{"data":[1.5,"{long}"]}}}}"#)
                )
            ),
            // No payloads at all.
            r#"{"msg_id":"m","payloads":[]}"#.to_string(),
        ];
        for case in &cases {
            let mut envelope = MessageEnvelope::from_json(case.as_bytes()).unwrap();
            let before = envelope.clone();
            let want = envelope.to_json_vec();
            assert_eq!(
                String::from_utf8(envelope.to_json_vec_mut()).unwrap(),
                String::from_utf8(want.clone()).unwrap()
            );
            assert_eq!(envelope.json_len(), want.len());
            assert_eq!(envelope, before, "the envelope is unchanged afterwards");
        }
        // The first case's data is the one set aside, and the third case's payload data only.
        for (case, spliced) in [(&cases[0], long.len()), (&cases[2], long.len())] {
            let mut envelope = MessageEnvelope::from_json(case.as_bytes()).unwrap();
            assert_eq!(envelope.with_data_aside(|_, aside| aside.bytes), spliced);
        }
    }
}
