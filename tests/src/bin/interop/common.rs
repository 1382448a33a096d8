//! What both Rust agents share: the case file, the JSON lines they print, a random source.

use serde_json::{Value, json};

use natsbridge_tests::interop::cases::canonical_dictionary;
pub use natsbridge_tests::interop::cases::sha256_hex;

/// The JetStream Object Store bucket of the `object_store` cases: the std sender links into
/// it, and the receivers read from it only (only allowed buckets are read).
pub const OBJECT_BUCKET: &str = "interop-links";

/// One payload of a case file, its bytes read.
pub struct CasePayload {
    pub dataname: String,
    pub payload_type: String,
    pub bytes: Vec<u8>,
    /// A typed payload's type (a `$defs` name of the example payload schema): `bytes` are
    /// its JSON, to be sent through the SDK's typed API.
    pub schema_type: Option<String>,
}

/// One message of a case file.
pub struct CaseMessage {
    pub jetstream: bool,
    pub object_store: bool,
    pub payloads: Vec<CasePayload>,
}

/// Reads a case file: its size threshold and messages.
pub fn read_case_file(path: &str) -> Result<(u64, Vec<CaseMessage>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let file: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let mut messages = Vec::new();
    for m in file["messages"].as_array().into_iter().flatten() {
        let mut payloads = Vec::new();
        for p in m["payloads"].as_array().into_iter().flatten() {
            let file = p["file"].as_str().unwrap_or_default();
            payloads.push(CasePayload {
                dataname: p["dataname"].as_str().unwrap_or_default().to_owned(),
                payload_type: p["type"].as_str().unwrap_or_default().to_owned(),
                bytes: std::fs::read(file).map_err(|e| format!("{file}: {e}"))?,
                schema_type: p["schema_type"].as_str().map(str::to_owned),
            });
        }
        messages.push(CaseMessage {
            jetstream: m["jetstream"] == true,
            object_store: m["object_store"] == true,
            payloads,
        });
    }
    Ok((
        file["size_threshold"].as_u64().unwrap_or(1_000_000),
        messages,
    ))
}

/// Prints one JSON line (stdout is line-buffered by the harness's reader).
pub fn print(value: &Value) {
    println!("{value}");
}

/// The line of one received payload: `size` and `sha256` of its data, a dictionary's
/// re-serialized canonically (keys sorted; bytes that are not JSON as they came).
pub fn payload_line(dataname: &str, payload_type: &str, transport: &str, bytes: &[u8]) -> Value {
    let canonical = (payload_type == "dictionary")
        .then(|| canonical_dictionary(bytes))
        .flatten();
    let bytes = canonical.as_deref().unwrap_or(bytes);
    json!({
        "dataname": dataname, "type": payload_type, "transport": transport,
        "size": bytes.len(), "sha256": sha256_hex(bytes),
    })
}

/// What a receiver reports of a typed payload (the `typed` of its line): the SHA-256 of the
/// value its generated type decoded, re-encoded canonically, or why it was refused.
pub fn typed_report(reencoded: Result<Vec<u8>, String>) -> Value {
    match reencoded {
        Ok(bytes) => sha256_hex(&bytes).into(),
        Err(why) => json!({ "error": why }),
    }
}

/// The decoded value of a golden's payload, in the `.expect.json` form.
pub fn golden_value(payload_type: &str, bytes: &[u8]) -> Value {
    match payload_type {
        "text" => json!({ "text": String::from_utf8_lossy(bytes) }),
        "dictionary" | "jsontable" => match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => json!({ "json": v }),
            Err(e) => json!({ "not_json": e.to_string() }),
        },
        _ => json!({ "bytes": { "len": bytes.len(), "sha256": sha256_hex(bytes) } }),
    }
}

/// A random source seeded from the clock and the process id (ids must differ per run).
pub fn random() -> impl FnMut() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(1);
    let mut state = (nanos ^ std::process::id().rotate_left(16)) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}

/// The arguments of a command, or a usage error.
pub fn take<'a, const N: usize>(args: &'a [String], usage: &str) -> Result<[&'a str; N], String> {
    if args.len() != N {
        return Err(format!("usage: {usage}"));
    }
    Ok(std::array::from_fn(|i| args[i].as_str()))
}
