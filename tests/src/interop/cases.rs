//! The messages every sender sends to every receiver, the case files agents read them from,
//! and the check of what a receiver printed against what was sent.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Every agent sends with this size threshold: payloads of this many bytes or more go
/// `link`, smaller ones `direct` (below the no_std SDK's 1,536-byte direct limit).
pub const SIZE_THRESHOLD: usize = 1536;

/// One payload to send: its name, its WIRE.md type and its serialized bytes.
#[derive(Debug, Clone)]
pub struct PayloadSpec {
    pub dataname: String,
    pub payload_type: &'static str,
    pub bytes: Vec<u8>,
    /// A typed payload's type (WIRE.md section 10), a type of the example payload schema
    /// `codegen/examples/payloads/device.schema.json`; `bytes` are its canonical JSON.
    pub schema_type: Option<&'static str>,
}

impl PayloadSpec {
    fn new(dataname: &str, payload_type: &'static str, bytes: Vec<u8>) -> Self {
        PayloadSpec {
            dataname: dataname.to_owned(),
            payload_type,
            bytes,
            schema_type: None,
        }
    }

    /// A `dictionary` payload holding a value of `schema_type` (its canonical JSON `bytes`).
    fn typed(dataname: &str, schema_type: &'static str, bytes: Vec<u8>) -> Self {
        PayloadSpec {
            schema_type: Some(schema_type),
            ..PayloadSpec::new(dataname, "dictionary", bytes)
        }
    }

    /// The transport a sender must choose for it.
    pub fn transport(&self) -> &'static str {
        if self.bytes.len() >= SIZE_THRESHOLD {
            "link"
        } else {
            "direct"
        }
    }

    /// What a receiver must print for it: `sha256` that of the data re-serialized (a
    /// dictionary canonically, keys sorted), and for a typed payload, from receivers that
    /// decode typed values, `typed` that of the sent canonical JSON (keys in schema order).
    pub fn expected(&self, decodes_typed: bool) -> Value {
        let serialized = match self.payload_type {
            "dictionary" => canonical_dictionary(&self.bytes).expect("a JSON case payload"),
            _ => self.bytes.clone(),
        };
        let mut expected = json!({
            "dataname": self.dataname, "type": self.payload_type, "transport": self.transport(),
            "size": serialized.len(), "sha256": sha256_hex(&serialized),
        });
        if self.schema_type.is_some() && decodes_typed {
            expected["typed"] = sha256_hex(&self.bytes).into();
        }
        expected
    }
}

/// The canonical re-serialization of a dictionary's JSON bytes (WIRE.md section 8: compact,
/// object keys sorted, numbers as section 9 writes them), what receivers report; `None` when
/// the bytes are not JSON.
pub fn canonical_dictionary(bytes: &[u8]) -> Option<Vec<u8>> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    Some(natsbridge::wire::canonical_json(&value).into_bytes())
}

/// One envelope to send, named by the case it covers.
#[derive(Debug, Clone)]
pub struct MessageSpec {
    pub case: String,
    pub jetstream: bool,
    /// Links go to the NATS JetStream Object Store (the std SDK only) instead of the file
    /// server.
    pub object_store: bool,
    pub payloads: Vec<PayloadSpec>,
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `len` bytes of a seeded pattern (every byte value occurs).
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(u32::from(seed)) as u8)
        .collect()
}

/// Arrow IPC stream bytes: the table of the `table_arrow_ipc` golden.
fn arrow_table() -> Vec<u8> {
    let golden = crate::golden::group("canonical")
        .into_iter()
        .find(|g| g.name == "table_arrow_ipc")
        .expect("the table_arrow_ipc golden");
    let message: Value = serde_json::from_slice(&golden.message).expect("a JSON golden");
    let data = message["payloads"][0]["data"]
        .as_str()
        .expect("base64 data");
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("the golden's base64")
}

/// Text that exercises UTF-8 and JSON escapes.
const TEXT: &str =
    "h\u{e9}llo w\u{f6}rld \u{2713} \u{1f600} \"quoted\" back\\slash\nnew line\ttab \u{1}";

/// A dictionary in canonical form (sorted keys, compact), so a receiver's canonical
/// re-serialization gives back the same bytes.
const DICTIONARY: &str =
    r#"{"count":3,"list":[1,"two",{"k":null}],"nested":{"a":true,"b":"x"},"unicode":"ü €"}"#;

/// One message per payload type, every payload direct.
pub fn direct_messages() -> Vec<MessageSpec> {
    let payloads = [
        PayloadSpec::new("greeting", "text", TEXT.as_bytes().to_vec()),
        PayloadSpec::new("config", "dictionary", DICTIONARY.as_bytes().to_vec()),
        PayloadSpec::new("rows", "table", arrow_table()),
        PayloadSpec::new("thumb.png", "image", pattern(700, 1)),
        PayloadSpec::new("clip.wav", "audio", pattern(900, 2)),
        PayloadSpec::new("clip.mp4", "video", pattern(1200, 3)),
        PayloadSpec::new("blob.bin", "binary", pattern(1500, 4)),
    ];
    payloads
        .into_iter()
        .map(|p| MessageSpec {
            case: format!("direct/{}", p.payload_type),
            jetstream: false,
            object_store: false,
            payloads: vec![p],
        })
        .collect()
}

/// The canonical JSON of the `sensor_reading` payload golden: a `SensorReading` of the
/// example payload schema with every property (a float, a negative integer, an array with an
/// exponent-notation number, a nested object, an enumeration).
fn sensor_reading() -> Vec<u8> {
    let golden = natsbridge_test_support::payload_goldens()
        .into_iter()
        .find(|g| g.group == "canonical" && g.path.ends_with("/sensor_reading.json"))
        .expect("the sensor_reading payload golden");
    assert_eq!(golden.type_name, "SensorReading");
    golden.data
}

/// Every message of the send batch, in the order they are sent.
pub fn send_batch() -> Vec<MessageSpec> {
    let mut messages = direct_messages();
    messages.push(MessageSpec {
        case: "link".into(),
        jetstream: false,
        object_store: false,
        payloads: vec![
            PayloadSpec::new("big.bin", "binary", pattern(150_000, 5)),
            PayloadSpec::new("long.txt", "text", TEXT.repeat(60).into_bytes()),
        ],
    });
    messages.push(MessageSpec {
        case: "multi".into(),
        jetstream: false,
        object_store: false,
        payloads: vec![
            PayloadSpec::new("caption", "text", b"several payloads".to_vec()),
            PayloadSpec::new("meta", "dictionary", br#"{"n":4}"#.to_vec()),
            PayloadSpec::new("photo.jpg", "image", pattern(20_000, 6)),
            PayloadSpec::new("tail.bin", "binary", pattern(10, 7)),
        ],
    });
    messages.push(MessageSpec {
        case: "jetstream".into(),
        jetstream: true,
        object_store: false,
        payloads: vec![PayloadSpec::new("event", "binary", pattern(64, 8))],
    });
    messages.push(MessageSpec {
        case: "typed".into(),
        jetstream: false,
        object_store: false,
        payloads: vec![PayloadSpec::typed(
            "reading",
            "SensorReading",
            sensor_reading(),
        )],
    });
    messages
}

/// The request of the request/reply case; the responder sends its payloads back.
pub fn request_message() -> MessageSpec {
    MessageSpec {
        case: "request-reply".into(),
        jetstream: false,
        object_store: false,
        payloads: vec![
            PayloadSpec::new("question", "text", b"echo this".to_vec()),
            PayloadSpec::new("attachment.bin", "binary", pattern(5_000, 9)),
        ],
    }
}

/// A link payload through the JetStream Object Store, fetched over NATS: sent between std
/// SDKs and between std and the Python module (see `matrix::run_pair`).
pub fn object_store_messages() -> Vec<MessageSpec> {
    vec![MessageSpec {
        case: "link/object-store".into(),
        jetstream: false,
        object_store: true,
        payloads: vec![PayloadSpec::new(
            "stored.bin",
            "binary",
            pattern(200_000, 10),
        )],
    }]
}

/// Writes `messages` as a case file for the agents (payload bytes in files beside it):
/// `{"size_threshold": N, "messages": [{"case", "jetstream", "object_store", "payloads":
/// [{"dataname", "type", "file", "schema_type"?}]}]}`. A payload with `schema_type` is a
/// typed value (WIRE.md section 10) of that type of `codegen/examples/payloads/
/// device.schema.json`, its file the canonical JSON: our SDKs' senders decode it into the
/// generated type and send it through their typed API.
pub fn write_case_file(dir: &Path, name: &str, messages: &[MessageSpec]) -> PathBuf {
    std::fs::create_dir_all(dir).expect("creating the case folder");
    let mut list = Vec::new();
    for (m, message) in messages.iter().enumerate() {
        let mut payloads = Vec::new();
        for (p, payload) in message.payloads.iter().enumerate() {
            let file = dir.join(format!("{name}-{m}-{p}.bin"));
            std::fs::write(&file, &payload.bytes).expect("writing a payload file");
            let mut entry = json!({
                "dataname": payload.dataname, "type": payload.payload_type,
                "file": file.to_string_lossy(),
            });
            if let Some(schema_type) = payload.schema_type {
                entry["schema_type"] = schema_type.into();
            }
            payloads.push(entry);
        }
        list.push(json!({
            "case": message.case, "jetstream": message.jetstream,
            "object_store": message.object_store, "payloads": payloads,
        }));
    }
    let path = dir.join(format!("{name}.json"));
    let text = json!({"size_threshold": SIZE_THRESHOLD, "messages": list}).to_string();
    std::fs::write(&path, text).expect("writing the case file");
    path
}

/// Checks a received message line (`{"msg_id", "payloads": [...]}`) against `sent`, whose
/// envelope had `msg_id`, from a receiver that `decodes_typed` values or not; `Err` says what
/// differs.
pub fn check_received(
    sent: &MessageSpec,
    msg_id: &str,
    line: &Value,
    decodes_typed: bool,
) -> Result<(), String> {
    if let Some(error) = line.get("error") {
        return Err(format!("the receiver failed: {}", text_of(error)));
    }
    if line["msg_id"] != msg_id {
        return Err(format!(
            "expected msg_id {msg_id}, received {}",
            line["msg_id"]
        ));
    }
    check_payloads(&sent.payloads, &line["payloads"], decodes_typed)
}

/// Checks the payloads a receiver (that `decodes_typed` values or not) printed against those
/// sent, in order.
pub fn check_payloads(
    sent: &[PayloadSpec],
    got: &Value,
    decodes_typed: bool,
) -> Result<(), String> {
    let got = got.as_array().map(Vec::as_slice).unwrap_or_default();
    if got.len() != sent.len() {
        return Err(format!(
            "expected {} payloads, received {}",
            sent.len(),
            got.len()
        ));
    }
    for (i, (spec, got)) in sent.iter().zip(got).enumerate() {
        let expected = spec.expected(decodes_typed);
        for key in ["dataname", "type", "transport", "size", "sha256", "typed"] {
            if expected[key] != got[key] {
                return Err(format!(
                    "payloads[{i}] ({}): {key} expected {}, received {}",
                    spec.dataname, expected[key], got[key]
                ));
            }
        }
    }
    Ok(())
}

fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}
