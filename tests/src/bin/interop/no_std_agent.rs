//! The agent of the no_std SDK (`natsbridge-embedded`) built for the host, over any
//! [`Network`]: tokio TCP sockets here, embassy-net on a TAP device in `sdk-embedded/tap-test`.

use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{Read, Write};
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::link::{AllowedHosts, FileServer, UploadMethod};
use natsbridge_embedded::object_store::ObjectReads;
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{self, HttpUploader, Links, Outgoing, ReceiveError, SendOptions};
use natsbridge_embedded::typed::{self, TypedPayload};
use natsbridge_embedded::{EnvelopeFields, Message, MessageEnvelope, MessagePayload, PayloadType};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::common::{self, print};
use crate::embedded_common::{Collect, TokioConnector};

/// The generated no_std types of the example payload schema, whose typed payloads the matrix
/// sends (the agent uses one of them).
#[allow(dead_code, unused_imports)]
mod device {
    include!("../../../../codegen/examples/payloads/device_embedded.rs");
}

/// Where the agent's TCP connections come from: the board's network stack.
#[allow(async_fn_in_trait)]
pub trait Network {
    /// A connection to the NATS server.
    type Nats: embedded_io_async::Read + embedded_io_async::Write;
    /// Opens the HTTP connections of link payloads.
    type Http<'h>: natsbridge_embedded::http::Connector
    where
        Self: 'h;
    /// Opens a TCP connection to the NATS server at `host:port`.
    async fn open(&mut self, host: &str, port: u16) -> Result<Self::Nats, String>;
    /// The connector for link payloads.
    fn http(&mut self) -> Self::Http<'_>;
}

/// The host's TCP stack through tokio.
pub struct TokioNetwork;

impl Network for TokioNetwork {
    type Nats = FromTokio<TcpStream>;
    type Http<'h> = TokioConnector;

    async fn open(&mut self, host: &str, port: u16) -> Result<Self::Nats, String> {
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("{host}:{port}: {e}"))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("{host}:{port}: {e}"))?;
        Ok(FromTokio::new(stream))
    }

    fn http(&mut self) -> TokioConnector {
        TokioConnector
    }
}

type Nats<'b, N> = Client<'b, <N as Network>::Nats>;

/// The largest envelope this agent receives or sends.
const BUFFER: usize = 64 * 1024;
/// The largest link payload an agent accepts (the matrix sends a few hundred kB).
const MAX_LINK_BYTES: u64 = 64 << 20;

/// `host:port` of a `nats://host:port` or `http://host:port` URL.
fn host_port(url: &str) -> Result<(String, u16), String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| format!("{url}: no port"))?;
    Ok((
        host.to_owned(),
        port.parse().map_err(|_| format!("{url}: bad port"))?,
    ))
}

async fn connect<'b, N: Network>(
    net: &mut N,
    nats: &str,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Result<Nats<'b, N>, String> {
    let (host, port) = host_port(nats)?;
    let transport = net.open(&host, port).await?;
    Client::connect(
        transport,
        rx,
        tx,
        &ConnectOptions::new().name("interop-no_std"),
    )
    .await
    .map_err(|e| format!("{nats}: {e:?}"))
}

/// Subscribes to `subject`, then waits for [`round_trip`], so the server surely knows the
/// subscription before the harness starts a sender.
async fn subscribe_confirmed<T: Read + Write>(
    client: &mut Client<'_, T>,
    subject: &str,
) -> Result<(), String> {
    client
        .subscribe(subject, None)
        .await
        .map_err(|e| format!("{e:?}"))?;
    round_trip(client).await
}

/// Publishes a probe to a subject of its own and waits until it comes back: the server has
/// then handled everything this client sent before (it handles a connection in order).
async fn round_trip<T: Read + Write>(client: &mut Client<'_, T>) -> Result<(), String> {
    let probe = format!("_INBOX.interop.probe.{}", smart::uuid_v4(common::random()));
    let sid = client
        .subscribe(&probe, None)
        .await
        .map_err(|e| format!("{e:?}"))?;
    client
        .publish(&probe, None, b"probe")
        .await
        .map_err(|e| format!("{e:?}"))?;
    loop {
        if let Event::Message(m) = next(client).await?
            && m.sid == sid
        {
            break;
        }
    }
    client
        .unsubscribe(sid, None)
        .await
        .map_err(|e| format!("{e:?}"))
}

async fn next<'c, T: Read + Write>(client: &'c mut Client<'_, T>) -> Result<Event<'c>, String> {
    client.next_event().await.map_err(|e| format!("{e:?}"))
}

/// The next envelope on the subscription and the NATS reply subject it came with.
async fn next_envelope<T: Read + Write>(
    client: &mut Client<'_, T>,
) -> Result<(Box<MessageEnvelope>, String), String> {
    envelope_of(next(client).await?)
}

/// The envelope an event carries and the NATS reply subject it came with.
fn envelope_of(event: Event<'_>) -> Result<(Box<MessageEnvelope>, String), String> {
    match event {
        Event::Message(m) => {
            let envelope = MessageEnvelope::decode(m.payload).map_err(|e| e.to_string())?;
            Ok((
                Box::new(envelope),
                m.reply_to.unwrap_or_default().to_owned(),
            ))
        }
        Event::Oversized { size, .. } => Err(format!("a {size}-byte message did not fit")),
        Event::ServerError(e) => Err(format!("server error: {e}")),
    }
}

/// Each payload of `envelope`, delivered by `smart::smartreceive`, or by
/// `smart::receive_object` over a second connection to `nats` for Object Store links (a read
/// needs a connection of its own: the first one keeps receiving the matrix's messages).
async fn receive_all<N: Network>(
    net: &mut N,
    nats: &str,
    envelope: &MessageEnvelope,
) -> Result<Vec<Vec<u8>>, String> {
    let mut work = vec![0u8; 4096];
    let mut out = Vec::new();
    for (i, payload) in envelope.payloads.iter().enumerate() {
        let mut sink = Collect::default();
        let failed = |e: &dyn std::fmt::Debug| format!("payloads[{i}]: {e:?}");
        if smart::is_object_store_link(payload) {
            // A small receive buffer, as on a device: 128 KiB chunks stream through it.
            let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 512]);
            let mut reader = connect(net, nats, &mut rx, &mut tx).await?;
            let mut headers = [0u8; 512];
            let mut reads = ObjectReads {
                allowed_buckets: &[common::OBJECT_BUCKET],
                max_size: MAX_LINK_BYTES,
                headers: &mut headers,
            };
            smart::receive_object(
                payload,
                &mut sink,
                &mut reader,
                &mut reads,
                common::random(),
            )
            .await
            .map_err(|e| failed(&e))?;
        } else {
            let mut links = Links {
                connector: net.http(),
                work: &mut work,
                backoff: Backoff::default(),
                delay: async |ms: u32| tokio::time::sleep(Duration::from_millis(ms.into())).await,
                random: common::random(),
                // Every file server of the matrix (ours and the peer's nginx) listens on
                // loopback, on ports this agent is not told (the allow rule is host:port): it
                // trusts every sender.
                allowed_hosts: AllowedHosts::AnyHostTrustingEverySender,
                max_size: MAX_LINK_BYTES,
            };
            smart::smartreceive(payload, &mut sink, &mut links)
                .await
                .map_err(|e| failed(&e))?;
        }
        out.push(sink.bytes);
    }
    Ok(out)
}

/// The `typed` report of a payload that names its type (metadata `schema_type`): decoded as
/// that generated type by [`typed::receive`] and re-encoded; `None` for the others.
fn typed_line(payload: &MessagePayload) -> Option<Value> {
    fn reencode<T: TypedPayload>(payload: &MessagePayload) -> Result<Vec<u8>, String> {
        // Direct data is never longer than its text in the envelope (base64 or JSON).
        let mut data = vec![0u8; payload.data.len()];
        let value = typed::receive::<T>(payload, &mut data)
            .map_err(|e| format!("{}: {e}", e.kind().as_str()))?;
        let mut out = vec![0u8; T::MAX_ENCODED_LEN];
        let written = value
            .encode_checked(&mut out)
            .map_err(|e| format!("{}: {e}", e.kind.as_str()))?;
        Ok(written.to_vec())
    }
    let metadata: Value = serde_json::from_str(payload.metadata.as_str()).ok()?;
    let reencoded = match metadata.get(typed::SCHEMA_TYPE_KEY)?.as_str()? {
        device::SensorReading::TYPE_NAME => reencode::<device::SensorReading>(payload),
        other => Err(format!("no generated type {other}")),
    };
    Some(common::typed_report(reencoded))
}

async fn received_line<N: Network>(net: &mut N, nats: &str, envelope: &MessageEnvelope) -> Value {
    match receive_all(net, nats, envelope).await {
        Err(e) => json!({"msg_id": envelope.msg_id.as_str(), "error": e}),
        Ok(data) => {
            let payloads: Vec<Value> = envelope
                .payloads
                .iter()
                .zip(&data)
                .map(|(p, bytes)| {
                    let mut line = common::payload_line(
                        &p.dataname,
                        p.payload_type.as_str(),
                        p.transport.as_str(),
                        bytes,
                    );
                    if let Some(typed) = typed_line(p) {
                        line["typed"] = typed;
                    }
                    line
                })
                .collect();
            json!({
                "msg_id": envelope.msg_id.as_str(),
                "reply_to_msg_id": envelope.reply_to_msg_id.as_str(),
                "payloads": payloads,
            })
        }
    }
}

/// RFC 3339 UTC with milliseconds, from the system clock (a board would use its RTC).
fn now_rfc3339() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let (secs, millis) = (since.as_secs() as i64, since.subsec_millis());
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
}

fn template() -> Box<MessageEnvelope> {
    let mut envelope = Box::<MessageEnvelope>::default();
    let _ = envelope.timestamp.push_str(&now_rfc3339());
    let _ = envelope.sender_name.push_str("interop-no_std");
    let _ = envelope
        .sender_id
        .push_str(&smart::uuid_v4(common::random()));
    envelope
}

/// Sends `payloads` with the header fields of `envelope` (a template) on `subject` through the
/// file server `files`; the `msg_id` sent (the SDK fills an empty one).
async fn send<N: Network>(
    net: &mut N,
    client: &mut Nats<'_, N>,
    envelope: &MessageEnvelope,
    subject: &str,
    payloads: &[Outgoing<'_>],
    options: &SendOptions,
    files: &str,
) -> Result<String, String> {
    let mut work = [0u8; 1024];
    let mut uploader = HttpUploader {
        connector: net.http(),
        work: &mut work,
        server: FileServer {
            url: files,
            method: UploadMethod::Plik,
            token: None,
        },
    };
    let mut out = vec![0u8; BUFFER];
    let fields = EnvelopeFields {
        correlation_id: &envelope.correlation_id,
        msg_id: &envelope.msg_id,
        timestamp: &envelope.timestamp,
        sender_name: &envelope.sender_name,
        sender_id: &envelope.sender_id,
        reply_to: &envelope.reply_to,
        reply_to_msg_id: &envelope.reply_to_msg_id,
        ..EnvelopeFields::default()
    };
    let mut scratch = Box::<MessageEnvelope>::default();
    smart::smartsend(
        client,
        &mut scratch,
        &fields,
        subject,
        payloads,
        options,
        &mut uploader,
        &mut out,
        common::random(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(scratch.msg_id.to_string())
}

/// The payloads of a case message for `smartsend`: a typed one (`schema_type`) through the
/// typed API, its JSON decoded into the generated type and then [`typed::outgoing`] writing
/// its canonical JSON and metadata into its own buffer of `buffers` (one per payload).
fn outgoing<'a>(
    message: &'a common::CaseMessage,
    buffers: &'a mut Vec<Vec<u8>>,
) -> Result<Vec<Outgoing<'a>>, String> {
    fn send_as<'a, T: TypedPayload>(
        payload: &'a common::CasePayload,
        buffer: &'a mut Vec<u8>,
    ) -> Result<Outgoing<'a>, String> {
        let failed = |e: natsbridge_embedded::DecodeError| format!("{}: {e}", payload.dataname);
        let value = T::decode(&payload.bytes).map_err(failed)?;
        buffer.resize(T::OUTGOING_LEN, 0);
        typed::outgoing(&payload.dataname, &value, buffer).map_err(failed)
    }
    buffers.resize(message.payloads.len(), Vec::new());
    message
        .payloads
        .iter()
        .zip(buffers.iter_mut())
        .map(|(p, buffer)| match p.schema_type.as_deref() {
            None => Ok(Outgoing::new(
                &p.dataname,
                PayloadType::parse(&p.payload_type).unwrap_or_default(),
                &p.bytes,
            )),
            Some(device::SensorReading::TYPE_NAME) => send_as::<device::SensorReading>(p, buffer),
            Some(other) => Err(format!("{}: no generated type {other}", p.dataname)),
        })
        .collect()
}

/// Runs one command of the agent protocol.
pub async fn run<N: Network>(net: &mut N, args: &[String]) -> Result<(), String> {
    let command = args.first().map(String::as_str).unwrap_or_default();
    let rest = args.get(1..).unwrap_or_default();
    if command == "goldens" {
        for g in natsbridge_tests::golden::all() {
            print(&golden_answer(&g.id(), &g.message).await);
        }
        return Ok(());
    }
    let (mut rx, mut tx) = (vec![0u8; BUFFER], vec![0u8; 1024]);
    match command {
        "receive" => {
            let [nats, _files, subject, count] =
                common::take(rest, "receive NATS FILES SUBJECT COUNT")?;
            let count: usize = count.parse().map_err(|_| "COUNT is not a number")?;
            let mut client = connect(net, nats, &mut rx, &mut tx).await?;
            subscribe_confirmed(&mut client, subject).await?;
            print(&json!({"ready": true}));
            for _ in 0..count {
                // A lost connection ends the agent (this client has no reconnect of its own;
                // the soak starts it again); a bad message is a line and it goes on.
                let event = next(&mut client).await?;
                match envelope_of(event) {
                    Ok((envelope, _)) => print(&received_line(net, nats, &envelope).await),
                    Err(e) => print(&json!({"error": e})),
                }
            }
            Ok(())
        }
        "send" => {
            let [nats, files, subject, case_file] =
                common::take(rest, "send NATS FILES SUBJECT CASEFILE")?;
            let (threshold, messages) = common::read_case_file(case_file)?;
            let mut client = connect(net, nats, &mut rx, &mut tx).await?;
            for message in &messages {
                let envelope = template();
                let options = SendOptions {
                    size_threshold: threshold,
                    jetstream: message.jetstream,
                };
                let mut buffers = Vec::new();
                match send(
                    net,
                    &mut client,
                    &envelope,
                    subject,
                    &outgoing(message, &mut buffers)?,
                    &options,
                    files,
                )
                .await
                {
                    Ok(msg_id) => print(&json!({"sent": msg_id})),
                    Err(e) => print(&json!({"error": e})),
                }
            }
            round_trip(&mut client).await
        }
        "reply" => {
            let [nats, files, subject] = common::take(rest, "reply NATS FILES SUBJECT")?;
            let mut client = connect(net, nats, &mut rx, &mut tx).await?;
            subscribe_confirmed(&mut client, subject).await?;
            print(&json!({"ready": true}));
            let (request, nats_reply) = next_envelope(&mut client).await?;
            let data = receive_all(net, nats, &request).await?;
            let echo: Vec<Outgoing<'_>> = request
                .payloads
                .iter()
                .zip(&data)
                .map(|(p, bytes)| Outgoing::new(&p.dataname, p.payload_type.clone(), bytes))
                .collect();
            let mut reply = template();
            let _ = reply.reply_to_msg_id.push_str(&request.msg_id);
            let _ = reply.correlation_id.push_str(&request.correlation_id);
            let to = if request.reply_to.is_empty() {
                nats_reply
            } else {
                request.reply_to.to_string()
            };
            let options = SendOptions {
                size_threshold: natsbridge_tests::interop::cases::SIZE_THRESHOLD as u64,
                jetstream: false,
            };
            send(net, &mut client, &reply, &to, &echo, &options, files).await?;
            round_trip(&mut client).await
        }
        "request" => {
            let [nats, files, subject, case_file] =
                common::take(rest, "request NATS FILES SUBJECT CASEFILE")?;
            let (threshold, messages) = common::read_case_file(case_file)?;
            let message = messages.first().ok_or("an empty case file")?;
            let mut client = connect(net, nats, &mut rx, &mut tx).await?;
            let inbox = format!("_INBOX.interop.{}", smart::uuid_v4(common::random()));
            client
                .subscribe(&inbox, None)
                .await
                .map_err(|e| format!("{e:?}"))?;
            let mut request = template();
            let _ = request.reply_to.push_str(&inbox);
            let _ = request.msg_id.push_str(&smart::uuid_v4(common::random()));
            let msg_id = request.msg_id.to_string();
            let options = SendOptions {
                size_threshold: threshold,
                jetstream: false,
            };
            let mut buffers = Vec::new();
            send(
                net,
                &mut client,
                &request,
                subject,
                &outgoing(message, &mut buffers)?,
                &options,
                files,
            )
            .await?;
            print(&json!({"sent": msg_id}));
            let wait = async {
                loop {
                    let (reply, _) = next_envelope(&mut client).await?;
                    if reply.reply_to_msg_id.as_str() == msg_id {
                        return Ok::<_, String>(reply);
                    }
                }
            };
            match tokio::time::timeout(Duration::from_secs(20), wait).await {
                Ok(Ok(reply)) => print(&received_line(net, nats, &reply).await),
                Ok(Err(e)) => print(&json!({"error": e})),
                Err(_) => print(&json!({"error": "no reply within 20 s"})),
            }
            Ok(())
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

/// What the no_std SDK makes of a golden: its decoded form and re-encoding, or its error.
async fn golden_answer(id: &str, message: &[u8]) -> Value {
    let envelope = match MessageEnvelope::decode(message) {
        Ok(envelope) => Box::new(envelope),
        Err(e) => {
            return json!({"id": id, "error": {"kind": e.kind.as_str(), "at": e.at.to_string()}});
        }
    };
    let object = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    let mut payloads = Vec::new();
    for (i, p) in envelope.payloads.iter().enumerate() {
        let metadata = object(p.metadata.as_str());
        let value = if p.transport.as_str() == "link" {
            json!({"link": {"url": p.data.as_str(), "checksum": metadata.get("checksum")}})
        } else {
            let mut work = [0u8; 64];
            let mut links = Links {
                connector: TokioConnector,
                work: &mut work,
                backoff: Backoff::default(),
                delay: async |_: u32| {},
                random: common::random(),
                // Direct payloads only: no link is fetched here.
                allowed_hosts: AllowedHosts::Only(&[]),
                max_size: MAX_LINK_BYTES,
            };
            let mut sink = Collect::default();
            match smart::smartreceive(p, &mut sink, &mut links).await {
                Ok(_) => common::golden_value(p.payload_type.as_str(), &sink.bytes),
                Err(ReceiveError::BadBase64) => {
                    return json!({"id": id, "error": {"kind": "bad_base64", "at": format!("payloads[{i}].data")}});
                }
                Err(ReceiveError::SizeMismatch { .. }) => {
                    return json!({"id": id, "error": {"kind": "size_mismatch", "at": format!("payloads[{i}].size")}});
                }
                Err(e) => {
                    return json!({"id": id, "error": {"kind": format!("{e:?}"), "at": format!("payloads[{i}]")}});
                }
            }
        };
        payloads.push(json!({
            "id": p.id.as_str(), "dataname": p.dataname.as_str(), "payload_type": p.payload_type.as_str(),
            "transport": p.transport.as_str(), "encoding": p.encoding.as_str(), "size": p.size,
            "metadata": metadata, "value": value,
        }));
    }
    let e = &envelope;
    let form = json!({
        "correlation_id": e.correlation_id.as_str(), "msg_id": e.msg_id.as_str(),
        "timestamp": e.timestamp.as_str(), "send_to": e.send_to.as_str(),
        "msg_purpose": e.msg_purpose.as_str(), "sender_name": e.sender_name.as_str(),
        "sender_id": e.sender_id.as_str(), "receiver_name": e.receiver_name.as_str(),
        "receiver_id": e.receiver_id.as_str(), "reply_to": e.reply_to.as_str(),
        "reply_to_msg_id": e.reply_to_msg_id.as_str(), "broker_url": e.broker_url.as_str(),
        "metadata": object(e.metadata.as_str()),
    });
    let mut buf = vec![0u8; MessageEnvelope::MAX_ENCODED_LEN];
    use base64::Engine as _;
    let reencoded = match envelope.encode(&mut buf) {
        Ok(written) => base64::engine::general_purpose::STANDARD.encode(written),
        Err(_) => String::new(),
    };
    json!({"id": id, "envelope": form, "payloads": payloads, "reencoded": reencoded})
}
