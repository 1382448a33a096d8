//! smartsend and smartreceive for firmware: payloads go direct (base64 in the envelope) or,
//! when large, as links to a file server; received ones are decoded or streamed into a sink.
//!
//! The envelope lives in caller memory (a `static`, say: it is about 22 KiB at the schema's
//! capacities), the encoded text goes into a caller buffer, ids come from the caller's random
//! source and the timestamp from the caller's clock. A received envelope can instead be a
//! borrowed view of the receive buffer: [`decode_direct_view`] and [`smartreceive_view`] then
//! decode direct payloads of any size the buffer holds.

use core::fmt;

use embedded_io_async::{Error as _, ErrorKind, Read, Write};

use crate::backoff::Backoff;
use crate::base64::{self, Base64Error};
use crate::client::{self, Client};
use crate::http::Connector;
use crate::http::{HttpError, Url};
use crate::link::{self, AllowedHosts, Expected, FileServer, LinkError, URL_CAPACITY};
use crate::{
    At, DecodeError, Encoding, EnvelopeFields, JsonObject, Message, MessageEnvelope,
    MessagePayload, MessagePayloadView, PayloadFields, PayloadType, Transport, contract,
};

/// The WIRE.md default: payloads of this many bytes or more go as links (the schema's
/// `size_threshold`).
pub const DEFAULT_SIZE_THRESHOLD: u64 = contract::SIZE_THRESHOLD;

/// How [`smartsend`] sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Payloads of this many bytes or more go as links (WIRE.md section 5).
    pub size_threshold: u64,
    /// Publish with the header `Nats-Msg-Id: <msg_id>`, for JetStream de-duplication.
    pub jetstream: bool,
}

impl Default for SendOptions {
    /// [`DEFAULT_SIZE_THRESHOLD`], no JetStream header.
    fn default() -> Self {
        SendOptions {
            size_threshold: DEFAULT_SIZE_THRESHOLD,
            jetstream: false,
        }
    }
}

/// The most payload bytes that can travel direct: base64 text of this many bytes fills the
/// schema's capacity of `data` ([`contract::MESSAGE_PAYLOAD_DATA_MAX_BYTES`]). Larger
/// payloads go as links.
pub const MAX_DIRECT_SIZE: usize = contract::MESSAGE_PAYLOAD_DATA_MAX_BYTES / 4 * 3;

/// One payload to send: its data and the payload fields the caller sets.
///
/// ```
/// use natsbridge_embedded::{PayloadFields, PayloadType};
/// use natsbridge_embedded::smart::Outgoing;
///
/// let reading = Outgoing::new("reading", PayloadType::Text, b"21.5").fields(PayloadFields {
///     metadata: r#"{"unit":"C"}"#,
///     ..PayloadFields::default()
/// });
/// assert_eq!(reading.fields.dataname, "reading");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing<'a> {
    /// The payload's settable fields (`dataname`, `type`, `metadata`, an `id` or empty for a
    /// new UUID, and whatever the schema adds): generated, with the schema's defaults.
    pub fields: PayloadFields<'a>,
    /// The serialized data (WIRE.md section 4): UTF-8 text, compact JSON, or bytes.
    pub data: &'a [u8],
}

impl<'a> Outgoing<'a> {
    /// A payload named `dataname` of `payload_type`, every other field at its schema default.
    pub fn new(dataname: &'a str, payload_type: PayloadType, data: &'a [u8]) -> Self {
        Outgoing {
            fields: PayloadFields {
                dataname,
                payload_type,
                ..PayloadFields::default()
            },
            data,
        }
    }

    /// The other payload fields: `fields` with the `dataname` and `payload_type` given to
    /// [`Outgoing::new`].
    #[must_use]
    pub fn fields(mut self, fields: PayloadFields<'a>) -> Self {
        self.fields = PayloadFields {
            dataname: self.fields.dataname,
            payload_type: self.fields.payload_type,
            ..fields
        };
        self
    }
}

/// Where link payloads are uploaded.
#[allow(async_fn_in_trait)]
pub trait Uploader {
    /// Uploads `data` and returns its link.
    async fn upload(
        &mut self,
        payload_id: &str,
        dataname: &str,
        data: &[u8],
    ) -> Result<heapless::String<URL_CAPACITY>, LinkError>;
}

/// No file server: every payload must go direct, and [`smartsend`] fails before publishing
/// anything when they do not fit.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFileServer;

impl Uploader for NoFileServer {
    async fn upload(
        &mut self,
        _: &str,
        _: &str,
        _: &[u8],
    ) -> Result<heapless::String<URL_CAPACITY>, LinkError> {
        Err(LinkError::NoFileServer)
    }
}

/// Uploads over HTTP (`PUT` or Plik) with connections from `connector`.
pub struct HttpUploader<'a, C> {
    /// Opens the connections.
    pub connector: C,
    /// Holds request and response heads; 512 bytes is plenty.
    pub work: &'a mut [u8],
    /// The file server.
    pub server: FileServer<'a>,
}

impl<C: Connector> Uploader for HttpUploader<'_, C> {
    async fn upload(
        &mut self,
        payload_id: &str,
        dataname: &str,
        data: &[u8],
    ) -> Result<heapless::String<URL_CAPACITY>, LinkError> {
        link::upload(
            &mut self.connector,
            self.work,
            &self.server,
            payload_id,
            dataname,
            data,
        )
        .await
    }
}

/// Why [`smartsend`] did not publish. Nothing was published in any case.
#[derive(Debug)]
pub enum SendError<E> {
    /// Publishing failed (see [`client::Error`] for what it means for the connection).
    Nats(client::Error<E>),
    /// Uploading payload `payload` (its index) failed.
    Upload {
        /// Index of the payload in the caller's list.
        payload: usize,
        /// What went wrong.
        error: LinkError,
    },
    /// The envelope does not fit the server's `max_payload` (or the output buffer) even with
    /// every payload that could move sent as a link, or no file server was given.
    DoesNotFit {
        /// The smallest envelope reached, in bytes (0 when it overflowed the output buffer).
        size: usize,
        /// The limit: `max_payload` or the output buffer, whichever is smaller.
        limit: usize,
    },
    /// A field the caller gave, the subject or the number of payloads does not fit the
    /// schema's capacities (`over_capacity`), or a free-form object is not one JSON object
    /// (`invalid_input`). The error names the field (`payloads[1].dataname`, `reply_to`).
    Field(DecodeError),
}

impl<E> SendError<E> {
    /// The shared kind (the schema's x-error-kinds): the client's for [`SendError::Nats`],
    /// `upload`, `too_large` for [`SendError::DoesNotFit`], the field's.
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            SendError::Nats(e) => e.kind(),
            SendError::Upload { .. } => crate::ErrorKind::Upload,
            SendError::DoesNotFit { .. } => crate::ErrorKind::TooLarge,
            SendError::Field(e) => e.kind,
        }
    }
}

impl<E: fmt::Debug> fmt::Display for SendError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Nats(e) => write!(f, "{e}"),
            SendError::Upload { payload, error } => write!(f, "payload {payload}: upload: {error}"),
            SendError::DoesNotFit { size, limit } => write!(
                f,
                "envelope of {size} bytes does not fit {limit} bytes and no payload can move to a link"
            ),
            SendError::Field(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for SendError<E> {}

/// Writes a new UUID v4 (lower case, hyphenated) from the caller's random source.
pub fn uuid_v4(mut random: impl FnMut() -> u32) -> heapless::String<36> {
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(4) {
        chunk.copy_from_slice(&random().to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = heapless::String::new();
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            let _ = out.push('-');
        }
        for nibble in [byte >> 4, byte & 15] {
            // Cannot fail: 32 digits and 4 hyphens fill the 36 bytes exactly.
            let _ = out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    out
}

/// Publishes `payloads` on `subject` in one envelope.
///
/// `fields` are the envelope fields the caller sets (generated [`EnvelopeFields`], schema
/// defaults from `Default`; optional ones `None` are left out of the message). The SDK fills
/// what the schema lets a sender fill (x-sender-fills) when the caller left it empty: new
/// UUIDs from `random` for `correlation_id`, `msg_id` and each payload `id`, `subject` for
/// `send_to`. `timestamp` (RFC 3339 with milliseconds, from the board's clock), `sender_id`
/// and `broker_url` are the caller's: a board has no clock or identity the SDK could know.
/// `envelope` is scratch memory for the encoded message (about 22 KiB at the schema's
/// capacities: a `static`, say); after the call it holds the envelope sent.
///
/// Each payload goes direct when it is smaller than `options.size_threshold` and fits
/// [`MAX_DIRECT_SIZE`], otherwise as a link through `uploader`; if the envelope is still
/// larger than the server's `max_payload`, the largest direct payloads move to links until it
/// fits (WIRE.md section 5). With [`NoFileServer`] that fails before anything is published.
/// A value over its capacity is [`SendError::Field`] naming it, never truncated. `out`
/// receives the envelope's JSON text; returns its length. With `options.jetstream` the
/// message carries `Nats-Msg-Id: <msg_id>`.
#[allow(clippy::too_many_arguments)]
pub async fn smartsend<T: Read + Write, U: Uploader>(
    client: &mut Client<'_, T>,
    envelope: &mut MessageEnvelope,
    fields: &EnvelopeFields<'_>,
    subject: &str,
    payloads: &[Outgoing<'_>],
    options: &SendOptions,
    uploader: &mut U,
    out: &mut [u8],
    mut random: impl FnMut() -> u32,
) -> Result<usize, SendError<T::Error>> {
    let root = At::Root;
    fields.apply_to(envelope, &root).map_err(SendError::Field)?;
    if envelope.send_to.is_empty() {
        crate::field::set_text(
            envelope.send_to.as_mut_view(),
            subject,
            &root.key("send_to"),
        )
        .map_err(SendError::Field)?;
    }
    for id in [&mut envelope.correlation_id, &mut envelope.msg_id] {
        if id.is_empty() {
            // Cannot fail: a UUID is 36 bytes and the ids hold 64 (checked at compile time).
            let _ = id.push_str(&uuid_v4(&mut random));
        }
    }
    let at_payloads = root.key("payloads");
    envelope.payloads.clear();
    for (index, outgoing) in payloads.iter().enumerate() {
        let at = at_payloads.index(index);
        let mut payload = MessagePayload::default();
        outgoing
            .fields
            .apply_to(&mut payload, &at)
            .map_err(SendError::Field)?;
        payload.size = outgoing.data.len() as u64;
        if payload.id.is_empty() {
            // Cannot fail: see above.
            let _ = payload.id.push_str(&uuid_v4(&mut random));
        }
        let direct = (outgoing.data.len() as u64) < options.size_threshold
            && outgoing.data.len() <= MAX_DIRECT_SIZE;
        if direct {
            set_direct(&mut payload, outgoing.data, &at).map_err(SendError::Field)?;
        } else {
            set_link(&mut payload, outgoing, uploader, index).await?;
        }
        envelope.payloads.push(payload).map_err(|_| {
            SendError::Field(at_payloads.error(
                crate::ErrorKind::OverCapacity,
                0,
                "more items than its capacity in this SDK",
            ))
        })?;
    }
    let limit = client.server_info().max_payload.min(out.len());
    loop {
        let size = match envelope.encode(out) {
            Ok(json) if json.len() <= limit => {
                let len = json.len();
                let reply_to = Some(envelope.reply_to.as_str()).filter(|r| !r.is_empty());
                let json = out.get(..len).unwrap_or_default();
                let published = if options.jetstream {
                    let id = [("Nats-Msg-Id", envelope.msg_id.as_str())];
                    client
                        .publish_with_headers(subject, reply_to, &id, json)
                        .await
                } else {
                    client.publish(subject, reply_to, json).await
                };
                published.map_err(SendError::Nats)?;
                return Ok(len);
            }
            Ok(json) => json.len(),
            Err(_) => 0,
        };
        // Move the largest direct payload to a link, or give up.
        let largest = envelope
            .payloads
            .iter()
            .enumerate()
            .filter(|(_, p)| p.transport == Transport::Direct && p.size > 0)
            .max_by_key(|(_, p)| p.size)
            .map(|(i, _)| i);
        let Some(index) = largest else {
            return Err(SendError::DoesNotFit { size, limit });
        };
        if let (Some(payload), Some(outgoing)) =
            (envelope.payloads.get_mut(index), payloads.get(index))
        {
            set_link(payload, outgoing, uploader, index)
                .await
                .map_err(|error| match error {
                    SendError::Upload {
                        error: LinkError::NoFileServer,
                        ..
                    } => SendError::DoesNotFit { size, limit },
                    other => other,
                })?;
        }
    }
}

/// The UUIDs the SDK writes fit the ids it writes them into.
const _: () = assert!(contract::MESSAGE_ENVELOPE_CORRELATION_ID_MAX_BYTES >= 36);
const _: () = assert!(contract::MESSAGE_ENVELOPE_MSG_ID_MAX_BYTES >= 36);
const _: () = assert!(contract::MESSAGE_PAYLOAD_ID_MAX_BYTES >= 36);

/// Makes `payload` (at `at`) a direct one holding `data` as base64: `over_capacity` naming
/// its `data` when the text does not fit, never truncated.
fn set_direct(payload: &mut MessagePayload, data: &[u8], at: &At<'_>) -> Result<(), DecodeError> {
    let too_long = || {
        at.key("data").error(
            crate::ErrorKind::OverCapacity,
            0,
            "longer than its capacity in this SDK",
        )
    };
    payload.transport = Transport::Direct;
    payload.encoding = Encoding::Base64;
    let mut encoded = [0u8; contract::MESSAGE_PAYLOAD_DATA_MAX_BYTES];
    let len = base64::encode(data, &mut encoded).ok_or_else(too_long)?;
    let text = core::str::from_utf8(encoded.get(..len).unwrap_or_default()).unwrap_or_default();
    payload.data.clear();
    payload.data.push_str(text).map_err(|_| too_long())
}

async fn set_link<U: Uploader, E>(
    payload: &mut MessagePayload,
    outgoing: &Outgoing<'_>,
    uploader: &mut U,
    index: usize,
) -> Result<(), SendError<E>> {
    let url = uploader
        .upload(&payload.id, outgoing.fields.dataname, outgoing.data)
        .await
        .map_err(|error| SendError::Upload {
            payload: index,
            error,
        })?;
    payload.transport = Transport::Link;
    payload.encoding = Encoding::None;
    let root = At::Root;
    let at_payloads = root.key("payloads");
    let at = at_payloads.index(index);
    let over = |name: &'static str| {
        SendError::Field(at.key(name).error(
            crate::ErrorKind::OverCapacity,
            0,
            "longer than its capacity in this SDK",
        ))
    };
    payload.data.clear();
    payload.data.push_str(&url).map_err(|_| over("data"))?;
    payload.metadata =
        link_metadata(&payload.metadata, outgoing.data).map_err(|error| match error {
            Some(error) => SendError::Field(at.key("metadata").error(error, 0, LINK_CHECKSUM)),
            None => over("metadata"),
        })?;
    Ok(())
}

const LINK_CHECKSUM: &str = "a link payload's checksum is written by the SDK";

type PayloadMetadata = JsonObject<{ contract::MESSAGE_PAYLOAD_METADATA_MAX_BYTES }>;

/// The caller's `metadata` with the `checksum` of `data` added, canonicalised again by
/// `JsonObject::parse`: `Err(None)` when it does not fit, `Err(Some(invalid_input))` when the
/// caller gave a checksum (the SDK writes it for a link payload).
#[inline(never)]
fn link_metadata(
    metadata: &PayloadMetadata,
    data: &[u8],
) -> Result<PayloadMetadata, Option<crate::ErrorKind>> {
    if !matches!(checksum_text(metadata), Ok(None)) {
        return Err(Some(crate::ErrorKind::InvalidInput));
    }
    let mut text: heapless::String<{ contract::MESSAGE_PAYLOAD_METADATA_MAX_BYTES }> =
        heapless::String::new();
    let inner = metadata.as_str();
    let inner = inner
        .get(1..inner.len().saturating_sub(1))
        .unwrap_or_default();
    let pushed = (|| {
        text.push_str("{\"checksum\":\"")?;
        text.push_str(&link::checksum_of(data))?;
        text.push('"')?;
        if !inner.is_empty() {
            text.push(',')?;
            text.push_str(inner)?;
        }
        text.push('}')
    })();
    pushed.map_err(|_| None)?;
    JsonObject::parse(&text).map_err(|_| None)
}

/// Why [`smartreceive`] could not deliver a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiveError {
    /// A direct payload's `data` is not valid standard base64.
    BadBase64,
    /// The delivered bytes differ in length from the payload's `size`.
    SizeMismatch {
        /// The payload's `size`.
        expected: u64,
        /// The bytes decoded or downloaded.
        received: u64,
    },
    /// The caller's buffer is smaller than the payload ([`decode_direct`]).
    BufferTooSmall {
        /// The payload's size.
        needed: u64,
    },
    /// Fetching a link payload failed (after retries, for transient failures).
    Link(LinkError),
    /// The caller's sink failed.
    Sink(ErrorKind),
    /// A field this SDK must read to verify the payload (`metadata.checksum`) is longer than
    /// it can hold: refused rather than left unchecked.
    OverCapacity {
        /// The field, relative to the payload.
        field: &'static str,
    },
}

impl fmt::Display for ReceiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReceiveError::BadBase64 => f.write_str("data is not valid base64"),
            ReceiveError::SizeMismatch { expected, received } => {
                write!(
                    f,
                    "size mismatch: expected {expected} bytes, got {received}"
                )
            }
            ReceiveError::BufferTooSmall { needed } => {
                write!(f, "needs a buffer of {needed} bytes")
            }
            ReceiveError::Link(e) => write!(f, "{e}"),
            ReceiveError::Sink(kind) => write!(f, "the sink failed: {kind:?}"),
            ReceiveError::OverCapacity { field } => {
                write!(f, "{field} is longer than this SDK can hold")
            }
        }
    }
}

impl core::error::Error for ReceiveError {}

impl ReceiveError {
    /// The shared kind (the schema's x-error-kinds): `bad_base64`, `size_mismatch`,
    /// `over_capacity` for the caller's buffer or a field it cannot hold, `download` for a failed HTTP exchange, the
    /// link's otherwise, `io` for the sink.
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            ReceiveError::BadBase64 => crate::ErrorKind::BadBase64,
            ReceiveError::SizeMismatch { .. } => crate::ErrorKind::SizeMismatch,
            ReceiveError::BufferTooSmall { .. } => crate::ErrorKind::OverCapacity,
            ReceiveError::Link(LinkError::Http(
                HttpError::Connect(_) | HttpError::Transport(_) | HttpError::Status(_),
            )) => crate::ErrorKind::Download,
            ReceiveError::Link(e) => e.kind(),
            ReceiveError::Sink(_) => crate::ErrorKind::Io,
            ReceiveError::OverCapacity { .. } => crate::ErrorKind::OverCapacity,
        }
    }
}

/// Decodes a direct payload into `buf` and returns the serialized data (WIRE.md section 7:
/// base64 for `base64` and `arrow-ipc`, the text itself for `json` and `none`). An owned
/// payload holds at most [`contract::MESSAGE_PAYLOAD_DATA_MAX_BYTES`] characters of `data`; [`decode_direct_view`] has no such limit.
pub fn decode_direct<'b>(
    payload: &MessagePayload,
    buf: &'b mut [u8],
) -> Result<&'b [u8], ReceiveError> {
    let needed = payload.size;
    let len = match payload.encoding {
        Encoding::Base64 | Encoding::ArrowIpc => {
            let decoded_len = payload.data.len() / 4 * 3;
            if buf.len() < decoded_len.min(usize::try_from(needed).unwrap_or(usize::MAX)) {
                return Err(ReceiveError::BufferTooSmall { needed });
            }
            base64::decode(payload.data.as_bytes(), buf).map_err(|e| match e {
                Base64Error::OutputTooSmall => ReceiveError::BufferTooSmall { needed },
                Base64Error::Invalid => ReceiveError::BadBase64,
            })?
        }
        _ => {
            let text = payload.data.as_bytes();
            let slot = buf
                .get_mut(..text.len())
                .ok_or(ReceiveError::BufferTooSmall { needed })?;
            slot.copy_from_slice(text);
            text.len()
        }
    };
    if len as u64 != payload.size {
        return Err(ReceiveError::SizeMismatch {
            expected: payload.size,
            received: len as u64,
        });
    }
    Ok(buf.get(..len).unwrap_or_default())
}

/// What [`smartreceive`] needs to fetch link payloads.
pub struct Links<'a, C, D, R> {
    /// Opens the HTTP connections.
    pub connector: C,
    /// Holds response heads and body pieces; its size is the largest piece handed to the
    /// sink (512 bytes to a few KiB).
    pub work: &'a mut [u8],
    /// Retry policy for transient failures.
    pub backoff: Backoff,
    /// Waits this many milliseconds (an embassy `Timer`, `tokio::time::sleep`).
    pub delay: D,
    /// Random numbers for the jitter.
    pub random: R,
    /// The hosts links may name; anything else is [`LinkError::HostNotAllowed`] before any
    /// connection is made. Redirects are never followed (a 3xx is an error).
    pub allowed_hosts: AllowedHosts<'a>,
    /// The largest link payload fetched, in bytes: a larger declared `size` is
    /// [`LinkError::TooLarge`], and no download ever writes more than `size` bytes.
    pub max_size: u64,
}

/// Delivers one received payload into `sink`, whatever its transport, and returns its size:
/// a direct payload is decoded piece by piece, a link payload downloaded in pieces (retried,
/// resumed, size and SHA-256 checked). Call it for each of `envelope.payloads`.
pub async fn smartreceive<C, D, R, S>(
    payload: &MessagePayload,
    sink: &mut S,
    links: &mut Links<'_, C, D, R>,
) -> Result<u64, ReceiveError>
where
    C: Connector,
    D: AsyncFnMut(u32),
    R: FnMut() -> u32,
    S: Write,
{
    if payload.transport == Transport::Link {
        let checksum = checksum_text(&payload.metadata)?;
        return receive_link(
            &payload.data,
            checksum.as_deref(),
            payload.size,
            sink,
            links,
        )
        .await;
    }
    receive_direct(&payload.encoding, payload.data.chars(), payload.size, sink).await
}

/// [`smartreceive`] for a payload of a borrowed [`MessageEnvelopeView`](crate::MessageEnvelopeView): a direct payload's
/// `data` is decoded piece by piece straight from the receive buffer (unescaped on the fly),
/// so its size is limited by nothing but that buffer.
pub async fn smartreceive_view<C, D, R, S>(
    payload: &MessagePayloadView<'_>,
    sink: &mut S,
    links: &mut Links<'_, C, D, R>,
) -> Result<u64, ReceiveError>
where
    C: Connector,
    D: AsyncFnMut(u32),
    R: FnMut() -> u32,
    S: Write,
{
    if payload.transport == Transport::Link {
        let mut url_buf = [0u8; URL_CAPACITY];
        let url = match payload.data.as_str() {
            Some(url) => url,
            None => payload
                .data
                .decode_into(&mut url_buf)
                .map_err(|_| ReceiveError::Link(LinkError::Http(HttpError::BadUrl)))?,
        };
        let mut checksum_buf = [0u8; 80];
        let checksum = match payload.metadata.get_str("checksum") {
            Some(text) => Some(
                text.decode_into(&mut checksum_buf)
                    .map_err(|_| ReceiveError::Link(LinkError::BadChecksum))?,
            ),
            None => None,
        };
        return receive_link(url, checksum, payload.size, sink, links).await;
    }
    receive_direct(&payload.encoding, payload.data.chars(), payload.size, sink).await
}

/// Downloads the link payload at `url` into `sink`, checking its size and checksum.
async fn receive_link<C, D, R, S>(
    url: &str,
    checksum: Option<&str>,
    size: u64,
    sink: &mut S,
    links: &mut Links<'_, C, D, R>,
) -> Result<u64, ReceiveError>
where
    C: Connector,
    D: AsyncFnMut(u32),
    R: FnMut() -> u32,
    S: Write,
{
    if url.starts_with(crate::object_store::SCHEME) {
        return Err(ReceiveError::Link(LinkError::ObjectStoreLink));
    }
    let sha256 = match checksum {
        Some(text) => Some(link::parse_checksum(text).map_err(ReceiveError::Link)?),
        None => None,
    };
    let parsed = Url::parse(url).map_err(|e| ReceiveError::Link(LinkError::Http(e)))?;
    if !links.allowed_hosts.allows(parsed.host, parsed.port) {
        return Err(ReceiveError::Link(LinkError::HostNotAllowed));
    }
    if size > links.max_size {
        return Err(ReceiveError::Link(LinkError::TooLarge {
            size,
            limit: links.max_size,
        }));
    }
    let expected = Expected { size, sha256 };
    link::download(
        &mut links.connector,
        links.work,
        url,
        expected,
        sink,
        &links.backoff,
        &mut links.delay,
        &mut links.random,
    )
    .await
    .map_err(|error| match error {
        LinkError::SizeMismatch { expected, received } => {
            ReceiveError::SizeMismatch { expected, received }
        }
        LinkError::Sink(kind) => ReceiveError::Sink(kind),
        other => ReceiveError::Link(other),
    })
}

/// Delivers a link payload in the NATS Object Store (`nats-object-store://BUCKET/...`, what
/// std senders with an Object Store upload send) into `sink` over `client`, a NATS
/// connection of its own: see [`read_object`](crate::object_store::read_object) for the
/// checks. Only the buckets of `reads.allowed_buckets` are read. `smartreceive` answers such
/// a payload with [`LinkError::ObjectStoreLink`]: call this instead when
/// [`is_object_store_link`] says so.
pub async fn receive_object<T: Read + Write, S: Write>(
    payload: &MessagePayload,
    sink: &mut S,
    client: &mut crate::client::Client<'_, T>,
    reads: &mut crate::object_store::ObjectReads<'_>,
    random: impl FnMut() -> u32,
) -> Result<u64, crate::object_store::ObjectError<T::Error>> {
    use crate::object_store::ObjectError;
    let sha256 = match checksum_text(&payload.metadata) {
        Ok(Some(text)) => Some(link::parse_checksum(&text).map_err(|_| ObjectError::BadChecksum)?),
        Ok(None) => None,
        Err(_) => return Err(ObjectError::BadChecksum),
    };
    let expected = Expected {
        size: payload.size,
        sha256,
    };
    crate::object_store::read_object(client, &payload.data, expected, sink, reads, random).await
}

/// Whether `payload` is a link into the NATS Object Store, for [`receive_object`].
#[must_use]
pub fn is_object_store_link(payload: &MessagePayload) -> bool {
    payload.transport == Transport::Link && payload.data.starts_with(crate::object_store::SCHEME)
}

/// Writes a direct payload's data, given as characters, into `sink` piece by piece (decoded
/// for `base64` and `arrow-ipc`, as UTF-8 otherwise) and checks its `size`.
async fn receive_direct<S: Write>(
    encoding: &Encoding,
    data: impl Iterator<Item = char>,
    size: u64,
    sink: &mut S,
) -> Result<u64, ReceiveError> {
    let sink_error = |e: S::Error| ReceiveError::Sink(e.kind());
    let mut written: u64 = 0;
    let mut pieces = DirectPieces::new(encoding, data);
    let mut piece = [0u8; PIECE_LEN];
    while let Some(n) = pieces.next_piece(&mut piece)? {
        // Never more than `size` to the sink, as link downloads: the rest is only counted.
        if written.saturating_add(n as u64) > size {
            let mut received = written.saturating_add(n as u64);
            while let Some(n) = pieces.next_piece(&mut piece)? {
                received = received.saturating_add(n as u64);
            }
            return Err(ReceiveError::SizeMismatch {
                expected: size,
                received,
            });
        }
        sink.write_all(piece.get(..n).unwrap_or_default())
            .await
            .map_err(sink_error)?;
        written += n as u64;
    }
    sink.flush().await.map_err(sink_error)?;
    if written != size {
        return Err(ReceiveError::SizeMismatch {
            expected: size,
            received: written,
        });
    }
    Ok(written)
}

/// Decodes a direct payload of a borrowed [`MessageEnvelopeView`](crate::MessageEnvelopeView) into `buf` and returns the
/// serialized data, as [`decode_direct`] does, but with no limit but `buf`: the base64 text is
/// read (and unescaped) from the receive buffer the view borrows, 256 characters at a time.
/// `buf` must hold the payload's `size` bytes ([`ReceiveError::BufferTooSmall`] otherwise);
/// more or fewer bytes than `size` is [`ReceiveError::SizeMismatch`].
///
/// ```
/// use natsbridge_embedded::{MessageEnvelopeView, MessageView};
/// use natsbridge_embedded::smart::decode_direct_view;
///
/// let body = br#"{"payloads":[{"dataname":"t","type":"text","transport":"direct",
///   "encoding":"base64","size":5,"data":"aGVsbG8="}]}"#;
/// let envelope = MessageEnvelopeView::decode(body).unwrap();
/// let mut buf = [0u8; 16];
/// assert_eq!(decode_direct_view(&envelope.payloads[0], &mut buf).unwrap(), b"hello");
/// ```
pub fn decode_direct_view<'b>(
    payload: &MessagePayloadView<'_>,
    buf: &'b mut [u8],
) -> Result<&'b [u8], ReceiveError> {
    let needed = payload.size;
    if usize::try_from(needed).map_or(true, |needed| needed > buf.len()) {
        return Err(ReceiveError::BufferTooSmall { needed });
    }
    let mut pieces = DirectPieces::new(&payload.encoding, payload.data.chars());
    let mut piece = [0u8; PIECE_LEN];
    let mut len = 0;
    while let Some(n) = pieces.next_piece(&mut piece)? {
        let end = len + n;
        // More data than `size` promised: report the size actually received.
        let Some(slot) = buf.get_mut(len..end) else {
            let mut received = end as u64;
            while let Some(n) = pieces.next_piece(&mut piece)? {
                received += n as u64;
            }
            return Err(ReceiveError::SizeMismatch {
                expected: needed,
                received,
            });
        };
        slot.copy_from_slice(piece.get(..n).unwrap_or_default());
        len = end;
    }
    if len as u64 != needed {
        return Err(ReceiveError::SizeMismatch {
            expected: needed,
            received: len as u64,
        });
    }
    Ok(buf.get(..len).unwrap_or_default())
}

/// The most bytes one [`DirectPieces`] piece holds: 256 base64 characters decode to 192.
const PIECE_LEN: usize = 192;

/// The serialized data of a direct payload, given as the characters of its `data`, produced in
/// pieces of at most [`PIECE_LEN`] bytes without any other buffer.
struct DirectPieces<I: Iterator<Item = char>> {
    chars: core::iter::Peekable<I>,
    base64: bool,
    /// Whether a group ended with `=` padding: nothing may follow it.
    padded: bool,
}

impl<I: Iterator<Item = char>> DirectPieces<I> {
    fn new(encoding: &Encoding, chars: I) -> Self {
        DirectPieces {
            chars: chars.peekable(),
            base64: matches!(encoding, Encoding::Base64 | Encoding::ArrowIpc),
            padded: false,
        }
    }

    /// Fills `piece` with the next bytes and returns how many; `None` at the end.
    fn next_piece(&mut self, piece: &mut [u8; PIECE_LEN]) -> Result<Option<usize>, ReceiveError> {
        if self.chars.peek().is_none() {
            Ok(None)
        } else if self.base64 {
            self.next_base64(piece).map(Some)
        } else {
            Ok(Some(self.next_text(piece)))
        }
    }

    fn next_base64(&mut self, piece: &mut [u8; PIECE_LEN]) -> Result<usize, ReceiveError> {
        if self.padded {
            return Err(ReceiveError::BadBase64);
        }
        let mut group = [0u8; PIECE_LEN / 3 * 4];
        let mut len = 0;
        while len < group.len() {
            let Some(c) = self.chars.next() else { break };
            // Base64 is ASCII; anything else cannot decode.
            let byte = u8::try_from(c)
                .ok()
                .filter(u8::is_ascii)
                .ok_or(ReceiveError::BadBase64)?;
            if let Some(slot) = group.get_mut(len) {
                *slot = byte;
            }
            len += 1;
        }
        let group = group.get(..len).unwrap_or_default();
        self.padded = group.last() == Some(&b'=');
        base64::decode(group, piece).map_err(|_| ReceiveError::BadBase64)
    }

    fn next_text(&mut self, piece: &mut [u8; PIECE_LEN]) -> usize {
        let mut len = 0;
        while let Some(&c) = self.chars.peek() {
            let end = len + c.len_utf8();
            let Some(slot) = piece.get_mut(len..end) else {
                break;
            };
            c.encode_utf8(slot);
            len = end;
            self.chars.next();
        }
        len
    }
}

/// The `checksum` string of a payload's metadata, if it has one. A `checksum` that is not a
/// string is [`LinkError::BadChecksum`], one longer than this SDK holds
/// [`ReceiveError::OverCapacity`]: either would otherwise leave the download unverified.
fn checksum_text(metadata: &PayloadMetadata) -> Result<Option<heapless::String<80>>, ReceiveError> {
    let mut reader = crate::json::Reader::new(metadata.as_str().as_bytes());
    // A JsonObject holds a well-formed object: the reader's errors below cannot happen.
    if reader.begin_object().is_err() {
        return Ok(None);
    }
    let mut key: heapless::String<16> = heapless::String::new();
    while let Ok(Some(fits)) = reader.next_key(&mut key) {
        if fits == crate::json::Key::Fits && key == "checksum" {
            let mut out = heapless::String::new();
            return match reader.string_into(&mut out) {
                Ok(()) => Ok(Some(out)),
                Err(crate::json::JsonError::TooLong { .. }) => Err(ReceiveError::OverCapacity {
                    field: "metadata.checksum",
                }),
                Err(_) => Err(ReceiveError::Link(LinkError::BadChecksum)),
            };
        }
        if reader.skip_value().is_err() {
            break;
        }
    }
    Ok(None)
}
