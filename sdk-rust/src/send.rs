//! Building the envelope a send publishes: the original's options ([`SendOptions`]), the
//! direct-or-link decision per payload and the `max_payload` rule of WIRE.md section 5.

use bytes::Bytes;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::link::fetch_hex as hex;
use crate::link::{Body, LinkBackend, Progress, Upload};
use crate::payload::Source;
use crate::{
    Encoding, Error, ErrorKind, MessageEnvelope, MessagePayload, Payload, Transport, clock,
};

/// The original editions' default `size_threshold`: payloads of this many bytes or more go
/// `link`.
pub const DEFAULT_SIZE_THRESHOLD: u64 = 1_000_000;

/// The options of one send, named as in the original `smartsend(...)`. Unset ones take the
/// defaults of WIRE.md section 2 (new UUIDs, the current time, `"chat"`, ...).
///
/// ```
/// use natsbridge::SendOptions;
///
/// let options = SendOptions::new()
///     .msg_purpose("updateStatus")
///     .receiver_name("dashboard")
///     .metadata("room", "kitchen");
/// ```
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    pub(crate) correlation_id: Option<String>,
    pub(crate) msg_id: Option<String>,
    pub(crate) timestamp: Option<String>,
    pub(crate) msg_purpose: Option<String>,
    pub(crate) sender_name: Option<String>,
    pub(crate) receiver_name: String,
    pub(crate) receiver_id: String,
    pub(crate) reply_to: String,
    pub(crate) reply_to_msg_id: String,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) size_threshold: Option<u64>,
    pub(crate) fileserver_url: Option<String>,
    pub(crate) nats_url: Option<String>,
    pub(crate) jetstream: bool,
}

macro_rules! string_options {
    ($($(#[$doc:meta])* $name:ident => $field:ident $(: $wrap:ident)?;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: impl Into<String>) -> Self {
                self.$field = string_options!(@wrap value.into() $(, $wrap)?);
                self
            }
        )*
    };
    (@wrap $value:expr) => { $value };
    (@wrap $value:expr, Some) => { Some($value) };
}

impl SendOptions {
    /// All defaults.
    pub fn new() -> Self {
        SendOptions::default()
    }

    string_options! {
        /// Ties the messages of one conversation together (a new UUID v4 otherwise).
        correlation_id => correlation_id: Some;
        /// The message's id (a new UUID v4 otherwise), e.g. to reproduce a golden message.
        msg_id => msg_id: Some;
        /// The send time as RFC 3339 (the current time otherwise).
        timestamp => timestamp: Some;
        /// `chat` (default), `ACK`, `NACK`, `updateStatus`, `shutdown`, ...
        msg_purpose => msg_purpose: Some;
        /// The sender's name (the client's, `"NATSBridge"` by default).
        sender_name => sender_name: Some;
        /// Who the message is for (empty: everyone).
        receiver_name => receiver_name;
        /// The receiver's id.
        receiver_id => receiver_id;
        /// The subject replies go to; also the NATS reply subject of the publish.
        reply_to => reply_to;
        /// The `msg_id` this message answers.
        reply_to_msg_id => reply_to_msg_id;
        /// Uploads link payloads to this Plik server for this send (the original's
        /// `fileserver_url`), instead of the client's link backend.
        fileserver_url => fileserver_url: Some;
        /// The NATS server of the one-call [`smartsend`](crate::smartsend) (default
        /// `nats://localhost:4222`); a [`Client`](crate::Client) ignores it.
        nats_url => nats_url: Some;
    }

    /// Adds one key to the envelope's `metadata`.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Replaces the envelope's `metadata`.
    pub fn metadata_map(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = metadata;
        self
    }

    /// Payloads of this many bytes or more go `link` (default 1,000,000).
    pub fn size_threshold(mut self, bytes: u64) -> Self {
        self.size_threshold = Some(bytes);
        self
    }

    /// Publishes through JetStream: waits for the stream's acknowledgement and sets
    /// `Nats-Msg-Id` to the envelope's `msg_id` (server-side de-duplication).
    pub fn jetstream(mut self, enabled: bool) -> Self {
        self.jetstream = enabled;
        self
    }
}

/// Builds envelopes: ids, timestamp and defaults filled in, each payload encoded `direct` or
/// uploaded `link`, and the whole kept within a byte limit (the server's `max_payload`).
///
/// A [`Client`](crate::Client) uses one for every send; use it directly to build envelopes
/// without a connection (tests, other transports).
pub struct EnvelopeComposer<'a> {
    broker_url: &'a str,
    sender_id: &'a str,
    sender_name: &'a str,
    link: Option<&'a dyn LinkBackend>,
    size_threshold: u64,
    max_envelope_bytes: usize,
    progress: Option<Progress>,
}

/// One payload on its way into an envelope.
struct Pending {
    payload: Payload,
    size: u64,
    id: String,
    encoded: Option<MessagePayload>,
}

impl<'a> EnvelopeComposer<'a> {
    /// A composer for a sender with this id, connected to `broker_url`; no link backend,
    /// no byte limit.
    pub fn new(broker_url: &'a str, sender_id: &'a str) -> Self {
        EnvelopeComposer {
            broker_url,
            sender_id,
            sender_name: "NATSBridge",
            link: None,
            size_threshold: DEFAULT_SIZE_THRESHOLD,
            max_envelope_bytes: usize::MAX,
            progress: None,
        }
    }

    /// The sender name used when the options give none.
    pub fn sender_name(mut self, name: &'a str) -> Self {
        self.sender_name = name;
        self
    }

    /// Where link payloads go.
    pub fn link_backend(mut self, link: Option<&'a dyn LinkBackend>) -> Self {
        self.link = link;
        self
    }

    /// The size threshold used when the options give none.
    pub fn size_threshold(mut self, bytes: u64) -> Self {
        self.size_threshold = bytes;
        self
    }

    /// The largest envelope allowed, in bytes (the server's `max_payload` less headers).
    pub fn max_envelope_bytes(mut self, bytes: usize) -> Self {
        self.max_envelope_bytes = bytes;
        self
    }

    /// Reports upload progress.
    pub fn progress(mut self, progress: Option<Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// The envelope for `payloads` sent to `subject`. Uploads link payloads (before anything
    /// is published); moves the largest direct payloads to `link` while the envelope is over
    /// the byte limit.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty subject or one with whitespace;
    /// [`ErrorKind::TooLarge`] when a payload must go `link` and there is no link backend;
    /// [`ErrorKind::Upload`] and [`ErrorKind::Io`] from uploads and files.
    pub async fn compose(
        &self,
        subject: &str,
        payloads: Vec<Payload>,
        options: &SendOptions,
    ) -> Result<MessageEnvelope, Error> {
        check_subject(subject)?;
        let threshold = options.size_threshold.unwrap_or(self.size_threshold);
        let mut pending = Vec::with_capacity(payloads.len());
        for payload in payloads {
            let size = payload_size(&payload).await?;
            let id = payload.id.clone().unwrap_or_else(clock::new_id);
            pending.push(Pending {
                payload,
                size,
                id,
                encoded: None,
            });
        }
        for item in &mut pending {
            item.encoded = Some(if item.size >= threshold {
                self.upload(item).await?
            } else {
                encode_direct(item).await?
            });
        }
        let mut envelope = self.envelope(subject, options);
        loop {
            // Moved in, and back out below when over the limit: the payloads are never copied.
            envelope.payloads = pending
                .iter_mut()
                .map(|p| p.encoded.take().expect("encoded above"))
                .collect();
            if self.max_envelope_bytes == usize::MAX {
                return Ok(envelope);
            }
            let length = json_length(&envelope);
            if length <= self.max_envelope_bytes {
                return Ok(envelope);
            }
            for (item, encoded) in pending.iter_mut().zip(envelope.payloads.drain(..)) {
                item.encoded = Some(encoded);
            }
            let largest_direct = pending
                .iter_mut()
                .filter(|p| {
                    p.encoded
                        .as_ref()
                        .is_some_and(|e| e.transport == Transport::Direct)
                })
                .max_by_key(|p| p.size);
            let Some(item) = largest_direct else {
                return Err(Error::new(
                    ErrorKind::TooLarge,
                    "",
                    format!(
                        "the envelope is {length} bytes with every payload sent as a link, over the limit of {} bytes",
                        self.max_envelope_bytes
                    ),
                ));
            };
            if self.link.is_none() {
                return Err(Error::new(
                    ErrorKind::TooLarge,
                    format!("payload {:?}", item.payload.dataname),
                    format!(
                        "the envelope would be {length} bytes, over the server's limit of {} bytes, \
                         and no file server is configured to send this {}-byte payload as a link",
                        self.max_envelope_bytes, item.size
                    ),
                ));
            }
            item.encoded = Some(self.upload(item).await?);
        }
    }

    fn envelope(&self, subject: &str, options: &SendOptions) -> MessageEnvelope {
        MessageEnvelope {
            correlation_id: options.correlation_id.clone().unwrap_or_else(clock::new_id),
            msg_id: options.msg_id.clone().unwrap_or_else(clock::new_id),
            timestamp: options.timestamp.clone().unwrap_or_else(clock::now_rfc3339),
            send_to: subject.to_owned(),
            msg_purpose: options
                .msg_purpose
                .clone()
                .unwrap_or_else(|| "chat".to_owned()),
            sender_name: options
                .sender_name
                .clone()
                .unwrap_or_else(|| self.sender_name.to_owned()),
            sender_id: self.sender_id.to_owned(),
            receiver_name: options.receiver_name.clone(),
            receiver_id: options.receiver_id.clone(),
            reply_to: options.reply_to.clone(),
            reply_to_msg_id: options.reply_to_msg_id.clone(),
            broker_url: self.broker_url.to_owned(),
            metadata: options.metadata.clone(),
            payloads: Vec::new(),
        }
    }

    async fn upload(&self, item: &Pending) -> Result<MessagePayload, Error> {
        let dataname = &item.payload.dataname;
        let Some(link) = self.link else {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!("payload {dataname:?}"),
                format!(
                    "{} bytes must go as a link (size_threshold or max_payload), but no file server is configured",
                    item.size
                ),
            ));
        };
        let (body, sha256) = match &item.payload.source {
            Source::Bytes(bytes) => (Body::Bytes(bytes.clone()), hex(&Sha256::digest(bytes))),
            Source::File(path) => (Body::File(path.clone()), file_sha256(path, dataname).await?),
        };
        let upload = Upload {
            payload_id: item.id.clone(),
            dataname: dataname.clone(),
            size: item.size,
            sha256: sha256.clone(),
            body,
            progress: self.progress.clone(),
        };
        let url = link
            .upload(upload)
            .await
            .map_err(|e| e.within(&format!("payload {dataname:?}")))?;
        let mut metadata = item.payload.metadata.clone();
        metadata.insert("checksum".into(), format!("sha256:{sha256}").into());
        Ok(MessagePayload {
            id: item.id.clone(),
            dataname: dataname.clone(),
            payload_type: item.payload.payload_type.clone(),
            transport: Transport::Link,
            encoding: Encoding::None,
            size: item.size,
            data: url,
            metadata,
        })
    }
}

async fn encode_direct(item: &Pending) -> Result<MessagePayload, Error> {
    let bytes = match &item.payload.source {
        Source::Bytes(bytes) => bytes.clone(),
        Source::File(path) => Bytes::from(
            tokio::fs::read(path)
                .await
                .map_err(|e| file_error(path, &item.payload.dataname, &e))?,
        ),
    };
    Ok(MessagePayload {
        id: item.id.clone(),
        dataname: item.payload.dataname.clone(),
        payload_type: item.payload.payload_type.clone(),
        transport: Transport::Direct,
        encoding: Encoding::Base64,
        size: bytes.len() as u64,
        data: crate::wire::base64_encode(&bytes),
        metadata: item.payload.metadata.clone(),
    })
}

/// The length of [`MessageEnvelope::to_json`], counted without building the text.
fn json_length(envelope: &MessageEnvelope) -> usize {
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
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, envelope).expect("an envelope always serializes");
    counter.0
}

async fn payload_size(payload: &Payload) -> Result<u64, Error> {
    match &payload.source {
        Source::Bytes(bytes) => Ok(bytes.len() as u64),
        Source::File(path) => tokio::fs::metadata(path)
            .await
            .map(|m| m.len())
            .map_err(|e| file_error(path, &payload.dataname, &e)),
    }
}

async fn file_sha256(path: &std::path::Path, dataname: &str) -> Result<String, Error> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| file_error(path, dataname, &e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .await
            .map_err(|e| file_error(path, dataname, &e))?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
    }
}

fn file_error(path: &std::path::Path, dataname: &str, error: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("payload {dataname:?}"),
        format!("cannot read {}: {error}", path.display()),
    )
}

/// Refuses subjects NATS cannot carry: empty, or holding a byte <= 0x20 or 0x7f.
pub(crate) fn check_subject(subject: &str) -> Result<(), Error> {
    crate::checks::check_subject("send_to", subject)
}
