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
            .map_err(|e| Error::new(ErrorKind::NotJson, "", format!("not JSON: {e}")))?;
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
}
