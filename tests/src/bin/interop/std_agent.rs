//! The agent of the std Rust SDK (`natsbridge`): one client configured with the harness's
//! file server (Plik API), speaking the protocol of `natsbridge_tests::interop`.

use std::time::Duration;

use futures_util::StreamExt;
use natsbridge::typed::TypedPayload;
use natsbridge::{
    Client, ConnectOptions, Data, MessageEnvelope, Payload, PayloadType, ReceiveOptions, Received,
    ReceivedPayload, SendOptions,
};
use serde_json::{Value, json};

use crate::common::{self, print};

/// The generated std types of the example payload schema, whose typed payloads the matrix
/// sends (the agent uses one of them).
#[allow(dead_code)]
#[path = "../../../../codegen/examples/payloads/device.rs"]
mod device;

use crate::common::OBJECT_BUCKET as BUCKET;

async fn connect(nats: &str, files: &str, threshold: u64) -> Result<Client, String> {
    connect_with(ConnectOptions::new().plik(files), nats, threshold).await
}

async fn connect_with(
    options: ConnectOptions,
    nats: &str,
    threshold: u64,
) -> Result<Client, String> {
    options
        .sender_name("interop-std")
        // The Object Store cases link into this bucket (only allowed buckets are read).
        .allow_link_bucket(BUCKET)
        .size_threshold(threshold)
        .connect(nats)
        .await
        .map_err(|e| e.to_string())
}

/// The serialized bytes of a received payload (dictionaries written canonically).
fn bytes_of(data: &Data) -> Vec<u8> {
    match data {
        Data::Text(text) => text.as_bytes().to_vec(),
        Data::Json(value) => natsbridge::wire::canonical_json(value).into_bytes(),
        Data::Bytes(bytes) => bytes.to_vec(),
    }
}

/// A payload of the example payload schema's type `name`, sent through the typed API: its
/// JSON `bytes` decoded into the generated type, then [`Payload::typed`].
fn typed_payload(name: &str, dataname: &str, bytes: &[u8]) -> Result<Payload, String> {
    fn send_as<T: TypedPayload>(dataname: &str, bytes: &[u8]) -> Result<Payload, String> {
        let value = T::decode(bytes).map_err(|e| format!("{dataname}: {e}"))?;
        Payload::typed(dataname, &value).map_err(|e| e.to_string())
    }
    match name {
        device::SensorReading::TYPE_NAME => send_as::<device::SensorReading>(dataname, bytes),
        other => Err(format!("{dataname}: no generated type {other}")),
    }
}

/// The `typed` report of a payload that names its type (metadata `schema_type`): decoded as
/// that generated type ([`ReceivedPayload::typed`]) and re-encoded; `None` for the others.
fn typed_line(payload: &ReceivedPayload) -> Option<Value> {
    fn reencode<T: TypedPayload>(payload: &ReceivedPayload) -> Result<Vec<u8>, String> {
        let refused = |e: natsbridge::Error| format!("{} at {}: {e}", e.kind().as_str(), e.at());
        payload
            .typed::<T>()
            .map_err(refused)?
            .encode()
            .map_err(refused)
    }
    let reencoded = match payload.schema_type()? {
        device::SensorReading::TYPE_NAME => reencode::<device::SensorReading>(payload),
        other => Err(format!("no generated type {other}")),
    };
    Some(common::typed_report(reencoded))
}

fn received_line(received: &Received) -> Value {
    let payloads: Vec<Value> = received
        .payloads
        .iter()
        .map(|p| {
            let mut line = common::payload_line(
                &p.dataname,
                p.payload_type.as_str(),
                p.transport.as_str(),
                &bytes_of(&p.data),
            );
            if let Some(typed) = typed_line(p) {
                line["typed"] = typed;
            }
            line
        })
        .collect();
    json!({
        "msg_id": received.envelope.msg_id,
        "reply_to_msg_id": received.envelope.reply_to_msg_id,
        "payloads": payloads,
    })
}

fn to_payloads(message: &common::CaseMessage) -> Result<Vec<Payload>, String> {
    message
        .payloads
        .iter()
        .map(|p| {
            if let Some(name) = &p.schema_type {
                return typed_payload(name, &p.dataname, &p.bytes);
            }
            let payload_type = PayloadType::parse(&p.payload_type)
                .ok_or_else(|| format!("unknown payload type {}", p.payload_type))?;
            Ok(Payload::new(
                p.dataname.clone(),
                payload_type,
                p.bytes.clone(),
            ))
        })
        .collect()
}

/// Runs one command of the agent protocol.
pub async fn run(args: &[String]) -> Result<(), String> {
    let command = args.first().map(String::as_str).unwrap_or_default();
    let rest = args.get(1..).unwrap_or_default();
    match command {
        "receive" => {
            let [nats, files, subject, count] =
                common::take(rest, "receive NATS FILES SUBJECT COUNT")?;
            let count: usize = count.parse().map_err(|_| "COUNT is not a number")?;
            let client = connect(nats, files, 1_000_000).await?;
            let mut messages = client.subscribe(subject).await.map_err(|e| e.to_string())?;
            print(&json!({"ready": true}));
            for _ in 0..count {
                match messages.next().await {
                    Some(Ok(received)) => print(&received_line(&received)),
                    Some(Err(e)) => print(&json!({"error": e.to_string()})),
                    None => return Err("the subscription ended".into()),
                }
            }
            Ok(())
        }
        "send" => {
            let [nats, files, subject, case_file] =
                common::take(rest, "send NATS FILES SUBJECT CASEFILE")?;
            let (threshold, messages) = common::read_case_file(case_file)?;
            let client = connect(nats, files, threshold).await?;
            let stored = ConnectOptions::new().object_store(BUCKET);
            let object_store = connect_with(stored, nats, threshold).await?;
            for message in &messages {
                let options = SendOptions::new().jetstream(message.jetstream);
                let sender = if message.object_store {
                    &object_store
                } else {
                    &client
                };
                // The server has each message before the agent reports it sent (and exits).
                let sent = match sender
                    .smartsend(subject, to_payloads(message)?, &options)
                    .await
                {
                    Ok(envelope) => sender.flush().await.map(|()| envelope),
                    Err(e) => Err(e),
                };
                match sent {
                    Ok(envelope) => {
                        let links: Vec<&str> = envelope
                            .payloads
                            .iter()
                            .filter(|p| p.transport.as_str() == "link")
                            .map(|p| p.data.as_str())
                            .collect();
                        print(&json!({"sent": envelope.msg_id, "links": links}));
                    }
                    Err(e) => print(&json!({"error": e.to_string()})),
                }
            }
            Ok(())
        }
        "reply" => {
            let [nats, files, subject] = common::take(rest, "reply NATS FILES SUBJECT")?;
            let client = connect(nats, files, 1536).await?;
            let mut requests = client.subscribe(subject).await.map_err(|e| e.to_string())?;
            print(&json!({"ready": true}));
            let request = requests
                .next()
                .await
                .ok_or("the subscription ended")?
                .map_err(|e| e.to_string())?;
            let echo: Vec<Payload> = request
                .payloads
                .iter()
                .map(|p| {
                    Payload::new(
                        p.dataname.clone(),
                        p.payload_type.clone(),
                        bytes_of(&p.data),
                    )
                })
                .collect();
            client
                .reply(&request, echo, &SendOptions::new())
                .await
                .map_err(|e| e.to_string())?;
            client.flush().await.map_err(|e| e.to_string())?;
            Ok(())
        }
        "request" => {
            let [nats, files, subject, case_file] =
                common::take(rest, "request NATS FILES SUBJECT CASEFILE")?;
            let (threshold, messages) = common::read_case_file(case_file)?;
            let message = messages.first().ok_or("an empty case file")?;
            let client = connect(nats, files, threshold).await?;
            let msg_id = natsbridge_embedded::smart::uuid_v4(common::random()).to_string();
            print(&json!({"sent": msg_id}));
            let options = SendOptions::new().msg_id(msg_id);
            match client
                .request(
                    subject,
                    to_payloads(message)?,
                    &options,
                    Duration::from_secs(20),
                )
                .await
            {
                Ok(reply) => print(&received_line(&reply)),
                Err(e) => print(&json!({"error": e.to_string()})),
            }
            Ok(())
        }
        "goldens" => {
            for g in natsbridge_tests::golden::all() {
                print(&golden_answer(&g.id(), &g.message).await);
            }
            Ok(())
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

/// What the std SDK makes of a golden: its decoded form and re-encoding, or its error.
async fn golden_answer(id: &str, message: &[u8]) -> Value {
    let error = |e: &natsbridge::Error| json!({"id": id, "error": {"kind": e.kind().as_str(), "at": e.at()}});
    let envelope = match MessageEnvelope::from_json(message) {
        Ok(envelope) => envelope,
        Err(e) => return error(&e),
    };
    let mut payloads = Vec::new();
    for (i, p) in envelope.payloads.iter().enumerate() {
        let value = if p.transport.as_str() == "link" {
            json!({"link": {"url": p.data, "checksum": p.metadata.get("checksum")}})
        } else {
            // The payload alone in an envelope, decoded by the SDK's receive path.
            let mut alone = envelope.clone();
            alone.payloads = vec![p.clone()];
            match natsbridge::smartreceive(alone.to_json().as_bytes(), &ReceiveOptions::default())
                .await
            {
                Ok(received) => {
                    let got = &received.payloads[0];
                    common::golden_value(got.payload_type.as_str(), &bytes_of(&got.data))
                }
                Err(e) => {
                    let at = e.at().replacen("payloads[0]", &format!("payloads[{i}]"), 1);
                    return json!({"id": id, "error": {"kind": e.kind().as_str(), "at": at}});
                }
            }
        };
        payloads.push(json!({
            "id": p.id, "dataname": p.dataname, "payload_type": p.payload_type.as_str(),
            "transport": p.transport.as_str(), "encoding": p.encoding.as_str(), "size": p.size,
            "metadata": p.metadata, "value": value,
        }));
    }
    let e = &envelope;
    let form = json!({
        "correlation_id": e.correlation_id, "msg_id": e.msg_id, "timestamp": e.timestamp,
        "send_to": e.send_to, "msg_purpose": e.msg_purpose, "sender_name": e.sender_name,
        "sender_id": e.sender_id, "receiver_name": e.receiver_name, "receiver_id": e.receiver_id,
        "reply_to": e.reply_to, "reply_to_msg_id": e.reply_to_msg_id, "broker_url": e.broker_url,
        "metadata": e.metadata,
    });
    use base64::Engine as _;
    let reencoded = base64::engine::general_purpose::STANDARD.encode(envelope.to_json_vec());
    json!({"id": id, "envelope": form, "payloads": payloads, "reencoded": reencoded})
}
