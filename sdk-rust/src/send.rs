//! Building the envelope a send publishes: the original's options ([`SendOptions`]), the
//! direct-or-link decision per payload and the `max_payload` rule of WIRE.md section 5.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::link::fetch_hex as hex;
use crate::link::{Body, LinkBackend, Progress, Upload};
use crate::payload::Source;
use crate::wire::At;
use crate::{
    Encoding, EnvelopeFields, Error, ErrorKind, MessageEnvelope, MessagePayload, Payload,
    Transport, clock,
};

/// The original editions' default `size_threshold`: payloads of this many bytes or more go
/// `link` ([`contract::SIZE_THRESHOLD`](crate::contract::SIZE_THRESHOLD)).
pub const DEFAULT_SIZE_THRESHOLD: u64 = crate::contract::SIZE_THRESHOLD;

/// The options of one send, named as in the original `smartsend(...)`. Unset ones take the
/// defaults of WIRE.md section 2 (new UUIDs, the current time, `"chat"`, ...).
///
/// Every envelope field a sender may set has a setter named as the field, generated from the
/// schema (`msg_purpose`, `receiver_name`, `reply_to`, `metadata(key, value)`,
/// `metadata_map`, and any field a schema variant adds); they fill an [`EnvelopeFields`].
/// The setters written here choose how the message travels.
///
/// ```
/// use natsbridge::SendOptions;
///
/// let options = SendOptions::new()
///     .msg_purpose("updateStatus")
///     .receiver_name("dashboard")
///     .metadata("room", "kitchen");
/// assert_eq!(options.fields().receiver_name, "dashboard");
/// ```
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    pub(crate) fields: EnvelopeFields,
    pub(crate) size_threshold: Option<u64>,
    pub(crate) fileserver_url: Option<String>,
    pub(crate) nats_url: Option<String>,
    pub(crate) jetstream: bool,
}

impl SendOptions {
    /// All defaults.
    pub fn new() -> Self {
        SendOptions::default()
    }

    /// The envelope fields set so far.
    pub fn fields(&self) -> &EnvelopeFields {
        &self.fields
    }

    /// Replaces every envelope field at once.
    pub fn envelope_fields(mut self, fields: EnvelopeFields) -> Self {
        self.fields = fields;
        self
    }

    /// Uploads link payloads to this Plik server for this send (the original's
    /// `fileserver_url`), instead of the client's link backend.
    pub fn fileserver_url(mut self, url: impl Into<String>) -> Self {
        self.fileserver_url = Some(url.into());
        self
    }

    /// The NATS server of the one-call [`smartsend`](crate::smartsend) (default
    /// `nats://localhost:4222`); a [`Client`](crate::Client) ignores it.
    pub fn nats_url(mut self, url: impl Into<String>) -> Self {
        self.nats_url = Some(url.into());
        self
    }

    /// Payloads of this many bytes or more go `link` (default
    /// [`contract::SIZE_THRESHOLD`](crate::contract::SIZE_THRESHOLD)).
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

/// What a sender fills into the fields the caller left unset (`x-sender-fills`); the
/// generated `into_message` of [`EnvelopeFields`] and [`PayloadFields`] calls one method per
/// kind of fill.
pub(crate) struct Fills<'a> {
    subject: &'a str,
    sender_id: &'a str,
    broker_url: &'a str,
}

// Which fills a schema uses varies; the real one uses them all.
#[allow(dead_code)]
impl Fills<'_> {
    pub(crate) fn uuid4(&self) -> String {
        clock::new_id()
    }

    pub(crate) fn timestamp(&self) -> String {
        clock::now_rfc3339()
    }

    pub(crate) fn subject(&self) -> String {
        self.subject.to_owned()
    }

    pub(crate) fn sender_id(&self) -> String {
        self.sender_id.to_owned()
    }

    pub(crate) fn broker_url(&self) -> String {
        self.broker_url.to_owned()
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
    sender_name: Option<&'a str>,
    link: Option<&'a dyn LinkBackend>,
    size_threshold: u64,
    max_envelope_bytes: usize,
    progress: Option<Progress>,
}

/// One payload on its way into an envelope.
struct Pending {
    source: Source,
    size: u64,
    /// The payload with its fields, before it is encoded (`data` empty).
    message: MessagePayload,
    encoded: Option<MessagePayload>,
}

impl<'a> EnvelopeComposer<'a> {
    /// A composer for a sender with this id, connected to `broker_url`; no link backend,
    /// no byte limit.
    pub fn new(broker_url: &'a str, sender_id: &'a str) -> Self {
        EnvelopeComposer {
            broker_url,
            sender_id,
            sender_name: None,
            link: None,
            size_threshold: DEFAULT_SIZE_THRESHOLD,
            max_envelope_bytes: usize::MAX,
            progress: None,
        }
    }

    /// The sender name used when the options leave `sender_name` at the schema's default.
    pub fn sender_name(mut self, name: &'a str) -> Self {
        self.sender_name = Some(name);
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
    /// [`ErrorKind::InvalidInput`] for an empty subject or one with whitespace, and for a
    /// field a sender cannot send (a malformed `format`, a NaN), naming its path;
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
        let fills = Fills {
            subject,
            sender_id: self.sender_id,
            broker_url: self.broker_url,
        };
        let mut fields = options.fields.clone();
        if let Some(name) = self.sender_name
            && fields.sender_name == EnvelopeFields::default().sender_name
        {
            fields.sender_name = name.to_owned();
        }
        let mut envelope = fields.into_message(&fills, Vec::new());
        envelope.check(&At::Root)?;
        let root = At::Root;
        let list = root.key("payloads");
        let mut pending = Vec::with_capacity(payloads.len());
        for (index, payload) in payloads.into_iter().enumerate() {
            let size = payload_size(&payload).await?;
            let message = payload.fields.into_message(
                &fills,
                payload.dataname,
                payload.payload_type,
                Transport::Direct,
                Encoding::Base64,
                size,
                String::new(),
            );
            message.check(&list.index(index))?;
            pending.push(Pending {
                source: payload.source,
                size,
                message,
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
        loop {
            // Moved in, and back out below when over the limit: the payloads are never copied.
            envelope.payloads = pending
                .iter_mut()
                .map(|p| p.encoded.take().expect("encoded above"))
                .collect();
            if self.max_envelope_bytes == usize::MAX {
                return Ok(envelope);
            }
            let length = envelope.json_len();
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
                return Err(Error::payload_error(
                    ErrorKind::TooLarge,
                    &item.message.dataname,
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

    async fn upload(&self, item: &Pending) -> Result<MessagePayload, Error> {
        let dataname = &item.message.dataname;
        let Some(link) = self.link else {
            return Err(Error::payload_error(
                ErrorKind::TooLarge,
                dataname,
                format!(
                    "{} bytes must go as a link (size_threshold or max_payload), but no file server is configured",
                    item.size
                ),
            ));
        };
        let (body, hashed) = match &item.source {
            Source::Bytes(bytes) => {
                let bytes = bytes.clone();
                let hashed = tokio::task::spawn_blocking({
                    let bytes = bytes.clone();
                    move || Ok(hex(&Sha256::digest(&bytes)))
                });
                (Body::Bytes(bytes), hashed)
            }
            Source::File(path) => {
                let (path, name) = (path.clone(), dataname.clone());
                (
                    Body::File(path.clone()),
                    tokio::spawn(async move { file_sha256(&path, &name).await }),
                )
            }
        };
        let hashed = async {
            hashed.await.map_err(|e| {
                Error::payload_error(
                    ErrorKind::Io,
                    dataname,
                    format!("hashing the payload failed: {e}"),
                )
            })?
        };
        let mut upload = Upload {
            payload_id: item.message.id.clone(),
            dataname: dataname.clone(),
            size: item.size,
            sha256: None,
            body,
            progress: self.progress.clone(),
        };
        let uploaded = async |upload| {
            link.upload(upload)
                .await
                .map_err(|e| e.about_payload(dataname))
        };
        // The hash runs on another thread; the upload waits for it only if the backend needs it.
        let (sha256, url) = if link.needs_sha256() {
            let sha256 = hashed.await?;
            upload.sha256 = Some(sha256.clone());
            (sha256, uploaded(upload).await?)
        } else {
            tokio::try_join!(hashed, uploaded(upload))?
        };
        let mut message = item.message.clone();
        message
            .metadata
            .insert("checksum".into(), format!("sha256:{sha256}").into());
        Ok(MessagePayload {
            transport: Transport::Link,
            encoding: Encoding::None,
            size: item.size,
            data: url,
            ..message
        })
    }
}

async fn encode_direct(item: &Pending) -> Result<MessagePayload, Error> {
    let bytes = match &item.source {
        Source::Bytes(bytes) => bytes.clone(),
        Source::File(path) => Bytes::from(
            tokio::fs::read(path)
                .await
                .map_err(|e| file_error(path, &item.message.dataname, e))?,
        ),
    };
    Ok(MessagePayload {
        transport: Transport::Direct,
        encoding: Encoding::Base64,
        size: bytes.len() as u64,
        data: crate::wire::base64_encode(&bytes),
        ..item.message.clone()
    })
}

async fn payload_size(payload: &Payload) -> Result<u64, Error> {
    match &payload.source {
        Source::Bytes(bytes) => Ok(bytes.len() as u64),
        Source::File(path) => tokio::fs::metadata(path)
            .await
            .map(|m| m.len())
            .map_err(|e| file_error(path, &payload.dataname, e)),
    }
}

async fn file_sha256(path: &std::path::Path, dataname: &str) -> Result<String, Error> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| file_error(path, dataname, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .await
            .map_err(|e| file_error(path, dataname, e))?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
    }
}

fn file_error(path: &std::path::Path, dataname: &str, error: std::io::Error) -> Error {
    Error::payload_error(
        ErrorKind::Io,
        dataname,
        format!("cannot read {}", path.display()),
    )
    .with_source(error)
}

/// Refuses subjects NATS cannot carry: empty, or holding a byte <= 0x20 or 0x7f.
pub(crate) fn check_subject(subject: &str) -> Result<(), Error> {
    crate::checks::check_subject("send_to", subject)
}
