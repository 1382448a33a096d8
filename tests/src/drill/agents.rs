//! The agents of a variant: the code a user of each SDK writes to set a field on send and
//! read it on receive, generated from the change files into the scratch workspace
//! (`sdk-rust/examples/drill_std.rs`, `sdk-embedded/examples/drill_no_std.rs`,
//! `drill-agents/agent.py`). Every agent speaks one protocol, one JSON line per result:
//! `send CASE NATS SUBJECT`, `receive CASE NATS SUBJECT` (`{"ready": true}` once subscribed,
//! then `{"value": <the field as re-encoded>, "read": "<the field read by name>"}` or
//! `{"error": {"kind", "at"}}`), and `goldens DIR`.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Check, Variant};

/// Where a check's field lives in the schema, to write literals of its type.
struct Types<'s> {
    schema: &'s Value,
}

impl Types<'_> {
    fn resolve<'v>(&'v self, node: &'v Value) -> &'v Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => self
                .schema
                .pointer(r.trim_start_matches('#'))
                .unwrap_or(&Value::Null),
            None => node,
        }
    }

    /// The schema of a check's field (`/properties/F` or `MessagePayload`'s).
    fn field<'v>(&'v self, check: &Check) -> &'v Value {
        let pointer = if check.level == "payload" {
            format!("/$defs/MessagePayload/properties/{}", check.field)
        } else {
            format!("/properties/{}", check.field)
        };
        self.schema.pointer(&pointer).unwrap_or(&Value::Null)
    }

    /// The generated type name of a structure: its `title`, or `Parent` + PascalCase(field).
    fn struct_name(&self, node: &Value, parent: &str, field: &str) -> String {
        let target = self.resolve(node);
        if let Some(title) = target.get("title").and_then(Value::as_str) {
            return title.to_owned();
        }
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            return r.rsplit('/').next().unwrap_or_default().to_owned();
        }
        format!("{parent}{}", pascal(field))
    }

    fn optional(parent: &Value, key: &str) -> bool {
        let required = parent["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|k| k == key));
        !required && parent["properties"][key].get("default").is_none()
    }

    /// A Rust expression of `value` as the SDK's type of `node`: owned (std: `String`,
    /// `Vec`, the structure type) or borrowed (no_std: `&str`, slices, `...Fields`).
    fn rust(
        &self,
        node: &Value,
        value: &Value,
        parent: &str,
        field: &str,
        borrowed: bool,
    ) -> String {
        let target = self.resolve(node);
        match target["type"].as_str().unwrap_or_default() {
            "string" if borrowed => format!("{:?}", value.as_str().unwrap_or_default()),
            "string" => format!("String::from({:?})", value.as_str().unwrap_or_default()),
            "number" => format!("{:?}_f64", value.as_f64().unwrap_or_default()),
            "integer" if target.get("minimum").is_some() => format!("{value}_u64"),
            "integer" => format!("{value}_i64"),
            "array" => {
                let items: Vec<String> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| self.rust(&target["items"], v, parent, field, borrowed))
                    .collect();
                if borrowed {
                    format!("&[{}]", items.join(", "))
                } else {
                    format!("vec![{}]", items.join(", "))
                }
            }
            "object" if target.get("properties").is_some() => {
                let name = self.struct_name(node, parent, field);
                let mut out = format!("{name}{} {{ ", if borrowed { "Fields" } else { "" });
                for (key, child) in target["properties"].as_object().into_iter().flatten() {
                    let given = value.get(key).or_else(|| child.get("default"));
                    let expr = match given {
                        Some(v) => self.rust(child, v, &name, key, borrowed),
                        None => "None".to_owned(),
                    };
                    let expr = if Self::optional(target, key) && given.is_some() {
                        format!("Some({expr})")
                    } else {
                        expr
                    };
                    let _ = write!(out, "{key}: {expr}, ");
                }
                out + "}"
            }
            _ => value.to_string(),
        }
    }

    /// A field's value as the caller passes it: wrapped in `Some` when optional and borrowed
    /// (the no_std fields structs hold `Option`; the std setters take `T`).
    fn argument(&self, check: &Check, value: &Value, borrowed: bool) -> String {
        let (parent_pointer, parent) = if check.level == "payload" {
            ("/$defs/MessagePayload", "MessagePayload")
        } else {
            ("", "MessageEnvelope")
        };
        let expr = self.rust(self.field(check), value, parent, &check.field, borrowed);
        let holder = self.schema.pointer(parent_pointer).unwrap_or(&Value::Null);
        if borrowed && Self::optional(holder, &check.field) {
            format!("Some({expr})")
        } else {
            expr
        }
    }
}

fn pascal(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// A Python literal of a JSON value (`True`, `None`, dicts for structures).
fn python(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(_) | Value::String(_) => value.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The data of the drill's one payload, and its type.
const DATA: &str = "hello from the drill";

/// Where an agent reads the field a check is about: `{envelope}.payloads[0].FIELD` for a
/// payload field, `{envelope}.FIELD` for an envelope field.
fn place(envelope: &str, check: &Check) -> String {
    if check.level == "payload" {
        format!("{envelope}.payloads[0].{}", check.field)
    } else {
        format!("{envelope}.{}", check.field)
    }
}

/// The std SDK's agent (`sdk-rust/examples/drill_std.rs`).
pub fn std_agent(variant: &Variant, schema: &Value) -> String {
    let types = Types { schema };
    let (mut sends, mut reads) = (String::new(), String::new());
    for (case, check) in variant.cases() {
        let (mut payload, mut options) = (
            format!("Payload::new({DATA:?}, PayloadType::Text, {DATA:?})"),
            "SendOptions::new()".to_owned(),
        );
        if let Some(value) = &check.value {
            match (check.level.as_str(), check.field.as_str()) {
                ("payload", "dataname") => {
                    payload = format!("Payload::new({value}, PayloadType::Text, {DATA:?})")
                }
                ("payload", "payload_type") => {
                    let variant = pascal(value.as_str().unwrap_or_default());
                    payload = format!("Payload::new(\"drill\", PayloadType::{variant}, {DATA:?})")
                }
                ("payload", field) => {
                    let expr = types.argument(check, value, false);
                    payload = format!("{payload}.with_{field}({expr})")
                }
                (_, field) => {
                    let expr = types.argument(check, value, false);
                    options = format!("SendOptions::new().{field}({expr})")
                }
            }
        }
        let _ = writeln!(sends, "        {case:?} => (vec![{payload}], {options}),");
        let place = place("received.envelope", check);
        let _ = writeln!(reads, "        {case:?} => format!(\"{{:?}}\", {place}),");
    }
    STD_TEMPLATE
        .replace("VARIANT", &variant.name)
        .replace("        // SENDS\n", &sends)
        .replace("        // READS\n", &reads)
}

/// Which send API the scratch no_std SDK has: the generated `EnvelopeFields` given to
/// `smartsend` (the schema's fields reach the caller), or (before it) the envelope's own
/// heapless fields set by the caller, which carry only strings of the v1 schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoStdApi {
    Fields,
    Envelope,
}

impl NoStdApi {
    /// The API of the no_std SDK in the scratch workspace `ws`.
    pub fn of(ws: &std::path::Path) -> NoStdApi {
        let smart =
            std::fs::read_to_string(ws.join("sdk-embedded/src/smart.rs")).unwrap_or_default();
        if smart.contains("fields: &EnvelopeFields") {
            NoStdApi::Fields
        } else {
            NoStdApi::Envelope
        }
    }
}

/// The no_std SDK's agent (`sdk-embedded/examples/drill_no_std.rs`).
pub fn no_std_agent(variant: &Variant, schema: &Value, api: NoStdApi) -> String {
    let types = Types { schema };
    let (mut sends, mut reads) = (String::new(), String::new());
    for (case, check) in variant.cases() {
        let (mut dataname, mut payload_type) =
            (format!("{DATA:?}"), "PayloadType::Text".to_owned());
        let (mut envelope_fields, mut payload_fields, mut body) =
            (String::new(), String::new(), String::new());
        if let Some(value) = &check.value {
            match (check.level.as_str(), check.field.as_str()) {
                ("payload", "dataname") => dataname = value.to_string(),
                ("payload", "payload_type") => {
                    payload_type = format!(
                        "PayloadType::{}",
                        pascal(value.as_str().unwrap_or_default())
                    )
                }
                ("payload", field) => {
                    let expr = types.argument(check, value, true);
                    payload_fields = format!(
                        ".fields(PayloadFields {{ {field}: {expr}, ..Default::default() }})"
                    );
                }
                (_, field) => {
                    let expr = types.argument(check, value, true);
                    let _ = write!(envelope_fields, "{field}: {expr}, ");
                    let _ = write!(
                        body,
                        "envelope.{field}.push_str({expr}).map_err(|_| over_capacity({field:?}))?; "
                    );
                }
            }
        }
        let line = match api {
            NoStdApi::Fields => format!(
                "        {case:?} => (EnvelopeFields {{ {envelope_fields}..base() }}, Outgoing::new({dataname}, {payload_type}, DATA){payload_fields}),"
            ),
            NoStdApi::Envelope => {
                format!("        {case:?} => {{ {body}({dataname}, {payload_type}) }}")
            }
        };
        let _ = writeln!(sends, "{line}");
        let place = place("envelope", check);
        let _ = writeln!(reads, "        {case:?} => format!(\"{{:?}}\", {place}),");
    }
    let send = match api {
        NoStdApi::Fields => NO_STD_SEND_FIELDS,
        NoStdApi::Envelope => NO_STD_SEND_ENVELOPE,
    };
    NO_STD_TEMPLATE
        .replace("// SEND\n", send)
        .replace("VARIANT", &variant.name)
        .replace("        // SENDS\n", &sends)
        .replace("        // READS\n", &reads)
}

/// The Python agent (`drill-agents/agent.py`, run by CPython and MicroPython).
pub fn python_agent(variant: &Variant) -> String {
    let (mut sends, mut reads) = (String::new(), String::new());
    for (case, check) in variant.cases() {
        let (mut dataname, mut ptype, mut kwargs, mut fields) = (
            format!("{DATA:?}"),
            "\"text\"".to_owned(),
            String::new(),
            String::new(),
        );
        if let Some(value) = &check.value {
            match (check.level.as_str(), check.field.as_str()) {
                ("payload", "dataname") => dataname = value.to_string(),
                ("payload", "payload_type") => ptype = value.to_string(),
                ("payload", field) => fields = format!(", {{\"{field}\": {}}}", python(value)),
                (_, field) => kwargs = format!(", {field}={}", python(value)),
            }
        }
        let data = if ptype == "\"text\"" {
            format!("{DATA:?}")
        } else {
            format!("b{DATA:?}")
        };
        let _ = writeln!(
            sends,
            "    if case == {case:?}:\n        return nb.smartsend(subject, [({dataname}, {data}, {ptype}{fields})], nats_url=nats, client=c, fileserver_url=None{kwargs})"
        );
        let place = place("env", check);
        let _ = writeln!(reads, "    if case == {case:?}:\n        return {place}");
    }
    PYTHON_TEMPLATE
        .replace("VARIANT", &variant.name)
        .replace("    # SENDS\n", &sends)
        .replace("    # READS\n", &reads)
}

const STD_TEMPLATE: &str = r#"//! Written by the schema drill for variant VARIANT (tests/src/drill): the std SDK's
//! send and receive code for each change, as a user writes it. Not part of the repository.
#![allow(unused_imports, clippy::all)]

use futures_util::StreamExt;
use natsbridge::*;
use serde_json::{Value, json};

fn cases(case: &str) -> (Vec<Payload>, SendOptions) {
    match case {
        // SENDS
        other => panic!("no case {other}"),
    }
}

fn read(case: &str, received: &Received) -> String {
    match case {
        // READS
        other => panic!("no case {other}"),
    }
}

fn error(e: &Error) -> Value {
    json!({"error": {"kind": e.kind().as_str(), "at": e.at()}})
}

async fn run(args: &[String]) -> Result<Value, Error> {
    if args[0] == "goldens" {
        for entry in std::fs::read_dir(&args[1]).expect("the goldens folder") {
            let path = entry.expect("a golden").path();
            if path.extension().is_some_and(|e| e == "msg") {
                let id = path.file_stem().unwrap().to_string_lossy().into_owned();
                let body = std::fs::read(&path).expect("a golden");
                let line = match MessageEnvelope::from_json(&body) {
                    Ok(envelope) => json!({"id": id, "reencoded": envelope.to_json()}),
                    Err(e) => json!({"id": id, "error": error(&e)["error"]}),
                };
                println!("{line}");
            }
        }
        return Ok(json!({"done": true}));
    }
    let (case, nats, subject) = (args[1].as_str(), args[2].as_str(), args[3].as_str());
    let client = ConnectOptions::new().sender_name("drill-std").connect(nats).await?;
    if args[0] == "send" {
        let (payloads, options) = cases(case);
        let envelope = client.smartsend(subject, payloads, &options).await?;
        client.flush().await?;
        return Ok(json!({"sent": envelope.msg_id}));
    }
    let mut inbox = client.subscribe(subject).await?;
    println!("{}", json!({"ready": true}));
    let received = inbox.next().await.expect("the subscription")?;
    let encoded: Value = serde_json::from_str(&received.envelope.to_json()).unwrap_or_default();
    Ok(json!({"encoded": encoded, "read": read(case, &received)}))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(line) => println!("{line}"),
        Err(e) => println!("{}", error(&e)),
    }
}
"#;

const NO_STD_TEMPLATE: &str = r#"//! Written by the schema drill for variant VARIANT (tests/src/drill): the no_std SDK's
//! send and receive code for each change, as a user writes it. Not part of the repository.
#![allow(unused_imports, clippy::all)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Collect, TokioConnector};
use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::link::{AllowedHosts, FileServer, UploadMethod};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{self, HttpUploader, Links, Outgoing, SendOptions};
use natsbridge_embedded::*;
use serde_json::{Value, json};
use tokio::net::TcpStream;

type Failure = (String, String);

fn over_capacity(at: &str) -> Failure {
    ("over_capacity".to_owned(), at.to_owned())
}

fn other(e: impl core::fmt::Debug) -> Failure {
    ("other".to_owned(), format!("{e:?}"))
}

// SEND

fn read(case: &str, envelope: &MessageEnvelope) -> String {
    match case {
        // READS
        other => panic!("no case {other}"),
    }
}

fn decode(body: &[u8]) -> Result<Box<MessageEnvelope>, Failure> {
    MessageEnvelope::decode(body)
        .map(Box::new)
        .map_err(|e| (e.kind.as_str().to_owned(), e.at.to_string()))
}

fn encode(envelope: &MessageEnvelope) -> String {
    let mut buf = vec![0u8; MessageEnvelope::MAX_ENCODED_LEN];
    match envelope.encode(&mut buf) {
        Ok(written) => String::from_utf8_lossy(written).into_owned(),
        Err(e) => format!("not encoded: {e:?}"),
    }
}

/// A generator seeded per process and per moment: agents run side by side, and a seed of
/// the process id alone gave neighbours the same probe subject (each read the other's probe).
fn random() -> impl FnMut() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    common::xorshift((std::process::id().rotate_left(16) ^ nanos) | 1)
}

async fn receive_payloads(envelope: &MessageEnvelope) -> Result<(), Failure> {
    let mut work = vec![0u8; 4096];
    let mut links = Links {
        connector: TokioConnector,
        work: &mut work,
        backoff: Backoff::default(),
        delay: async |_: u32| {},
        random: random(),
        allowed_hosts: AllowedHosts::Only(&["127.0.0.1"]),
        max_size: 1 << 20,
    };
    for (i, payload) in envelope.payloads.iter().enumerate() {
        let mut sink = Collect::default();
        smart::smartreceive(payload, &mut sink, &mut links)
            .await
            .map_err(|e| (format!("{e:?}"), format!("payloads[{i}]")))?;
    }
    Ok(())
}

async fn run(args: &[String]) -> Result<Value, Failure> {
    if args[0] == "goldens" {
        for entry in std::fs::read_dir(&args[1]).expect("the goldens folder") {
            let path = entry.expect("a golden").path();
            if path.extension().is_some_and(|e| e == "msg") {
                let id = path.file_stem().unwrap().to_string_lossy().into_owned();
                let body = std::fs::read(&path).expect("a golden");
                let line = match decode(&body) {
                    Ok(envelope) => json!({"id": id, "reencoded": encode(&envelope)}),
                    Err((kind, at)) => json!({"id": id, "error": {"kind": kind, "at": at}}),
                };
                println!("{line}");
            }
        }
        return Ok(json!({"done": true}));
    }
    let (case, nats, subject) = (args[1].as_str(), args[2].as_str(), args[3].as_str());
    let address = nats.trim_start_matches("nats://");
    let stream = TcpStream::connect(address).await.map_err(other)?;
    let (mut rx, mut tx) = (vec![0u8; 64 * 1024], vec![0u8; 4096]);
    let mut client = Client::connect(
        FromTokio::new(stream),
        &mut rx,
        &mut tx,
        &ConnectOptions::new().name("drill-no_std"),
    )
    .await
    .map_err(other)?;
    if args[0] == "send" {
        let envelope = send(&mut client, case, subject).await?;
        round_trip(&mut client).await?;
        return Ok(json!({"sent": envelope}));
    }
    let sid = client.subscribe(subject, None).await.map_err(other)?;
    round_trip(&mut client).await?;
    println!("{}", json!({"ready": true}));
    loop {
        if let Event::Message(m) = client.next_event().await.map_err(other)?
            && m.sid == sid
        {
            let envelope = decode(m.payload)?;
            receive_payloads(&envelope).await?;
            let encoded: Value = serde_json::from_str(&encode(&envelope)).unwrap_or_default();
            return Ok(json!({"encoded": encoded, "read": read(case, &envelope)}));
        }
    }
}

/// Publishes a probe to a subject of its own and waits until it comes back: the server has
/// then handled the subscription (and, after a send, the publish).
async fn round_trip<T: embedded_io_async::Read + embedded_io_async::Write>(
    client: &mut Client<'_, T>,
) -> Result<(), Failure> {
    let probe = format!("_INBOX.drill.probe.{}", smart::uuid_v4(random()));
    let sid = client.subscribe(&probe, None).await.map_err(other)?;
    client.publish(&probe, None, b"probe").await.map_err(other)?;
    loop {
        if let Event::Message(m) = client.next_event().await.map_err(other)?
            && m.sid == sid
        {
            return Ok(());
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(line) => println!("{line}"),
        Err((kind, at)) => println!("{}", json!({"error": {"kind": kind, "at": at}})),
    }
}
"#;

/// The no_std send code of the generated-fields API.
const NO_STD_SEND_FIELDS: &str = r#"const DATA: &[u8] = b"hello from the drill";

/// What every case sets: the fields a board gives itself (clock, identity).
fn base() -> EnvelopeFields<'static> {
    EnvelopeFields {
        timestamp: "2026-12-03T12:00:00.000Z",
        sender_name: "drill-no_std",
        sender_id: "5b0e1c9a-3f1d-4c2e-8a7b-9d6e5f4c3b2a",
        ..Default::default()
    }
}

fn cases(case: &str) -> (EnvelopeFields<'static>, Outgoing<'static>) {
    match case {
        // SENDS
        other => panic!("no case {other}"),
    }
}

async fn send<T: embedded_io_async::Read + embedded_io_async::Write>(
    client: &mut Client<'_, T>,
    case: &str,
    subject: &str,
) -> Result<String, Failure> {
    let mut envelope = Box::<MessageEnvelope>::default();
    let (fields, payload) = cases(case);
    let mut work = [0u8; 1024];
    let mut uploader = HttpUploader {
        connector: TokioConnector,
        work: &mut work,
        server: FileServer { url: "http://127.0.0.1:9", method: UploadMethod::Plik, token: None },
    };
    let mut out = vec![0u8; 64 * 1024];
    let options = SendOptions { size_threshold: 1_000_000, jetstream: false };
    smart::smartsend(client, &mut envelope, &fields, subject, &[payload], &options, &mut uploader, &mut out, random())
        .await
        .map_err(|e| match e {
            smart::SendError::Field(f) => (f.kind.as_str().to_owned(), f.at.to_string()),
            other => (other.kind().as_str().to_owned(), other.to_string()),
        })?;
    Ok(envelope.msg_id.to_string())
}
"#;

/// The no_std send code before the generated fields: the caller fills the envelope.
const NO_STD_SEND_ENVELOPE: &str = r#"fn cases(case: &str, envelope: &mut MessageEnvelope) -> Result<(&'static str, PayloadType), Failure> {
    Ok(match case {
        // SENDS
        other => panic!("no case {other}"),
    })
}

async fn send<T: embedded_io_async::Read + embedded_io_async::Write>(
    client: &mut Client<'_, T>,
    case: &str,
    subject: &str,
) -> Result<String, Failure> {
    let mut envelope = Box::<MessageEnvelope>::default();
    let _ = envelope.timestamp.push_str("2026-12-03T12:00:00.000Z");
    let _ = envelope.sender_name.push_str("drill-no_std");
    let _ = envelope.sender_id.push_str("5b0e1c9a-3f1d-4c2e-8a7b-9d6e5f4c3b2a");
    let (dataname, payload_type) = cases(case, &mut envelope)?;
    let payloads = [Outgoing { dataname, payload_type, data: b"hello from the drill" }];
    let mut work = [0u8; 1024];
    let mut uploader = HttpUploader {
        connector: TokioConnector,
        work: &mut work,
        server: FileServer { url: "http://127.0.0.1:9", method: UploadMethod::Plik, token: None },
    };
    let mut out = vec![0u8; 64 * 1024];
    let options = SendOptions { size_threshold: 1_000_000, jetstream: false };
    smart::smartsend(client, &mut envelope, subject, &payloads, &options, &mut uploader, &mut out, random())
        .await
        .map_err(|e| ("send".to_owned(), e.to_string()))?;
    Ok(envelope.msg_id.to_string())
}
"#;

const PYTHON_TEMPLATE: &str = r#"# Written by the schema drill for variant VARIANT (tests/src/drill): nats_bridge.py's send
# and receive code for each change, as a user writes it (CPython and MicroPython).
#   agent.py send|receive CASE NATS SUBJECT      agent.py goldens DIR
import sys
import json
import os

_here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
sys.path.insert(0, _here + "/../sdk-python")
import nats_bridge as nb


def out(value):
    print(json.dumps(value))


def send_case(case, c, nats, subject):
    # SENDS
    raise ValueError("no case " + case)


def read_case(case, env):
    # READS
    raise ValueError("no case " + case)


def goldens(folder):
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".msg"):
            continue
        with open(folder + "/" + name, "rb") as f:
            body = f.read()
        try:
            env = nb.MessageEnvelope.from_json(body)
            out({"id": name[:-4], "reencoded": env.to_json()})
        except nb.NatsBridgeError as e:
            out({"id": name[:-4], "error": {"kind": e.kind, "at": e.at}})


def main(args):
    if args[0] == "goldens":
        goldens(args[1])
        return
    case, nats, subject = args[1], args[2], args[3]
    c = nb.NatsClient(nats, name="drill-python", timeout=20.0)
    c.connect()
    if args[0] == "send":
        env = send_case(case, c, nats, subject)
        c.flush()
        out({"sent": env.msg_id})
        return
    c.subscribe(subject)
    c.flush()
    out({"ready": True})
    msg = c.wait_msg(30.0)
    if msg is None:
        raise nb.NatsBridgeError("timeout", "", "no message within 30 s")
    env = nb.MessageEnvelope.from_json(msg.data)
    nb.smartreceive(env, allowed_hosts=["127.0.0.1"])
    out({"encoded": json.loads(env.to_json()), "read": repr(read_case(case, env))})


try:
    main(sys.argv[1:])
except nb.NatsBridgeError as e:
    out({"error": {"kind": e.kind, "at": e.at}})
"#;
