//! Object Store links (`nats-object-store://BUCKET/PAYLOAD-ID/DATANAME`, WIRE.md section 6):
//! read over NATS with JetStream direct gets, chunk by chunk into a caller sink, and verified.
//!
//! No HTTP file server is needed: the object's info and each of its chunks are one request
//! each on `$JS.API.DIRECT.GET.OBJ_<bucket>` (the stream needs `allow_direct`, which the NATS
//! Object Store sets). A chunk larger than the client's receive buffer (senders use 128 KiB)
//! streams through it ([`Client::read_oversized`]), so a device reads objects far larger than
//! its RAM with a receive buffer of a few KiB.

use core::fmt;

use embedded_io_async::{Error as _, ErrorKind, ErrorType, Read, Write};

use crate::client::{self, Client, Event, ReadError};
use crate::json::{BufferFull, Key, Reader, Writer};
use crate::link::Expected;
use crate::sha256::Sha256;

/// The scheme of Object Store links.
pub const SCHEME: &str = "nats-object-store://";

/// The longest object name (`PAYLOAD-ID/DATANAME`, percent-decoded) this SDK reads: the
/// schema's capacities of a payload's `id` and `dataname`.
pub const NAME_CAPACITY: usize = crate::contract::MESSAGE_PAYLOAD_ID_MAX_BYTES
    + 1
    + crate::contract::MESSAGE_PAYLOAD_DATANAME_MAX_BYTES;

/// The longest bucket name this SDK reads.
pub const BUCKET_CAPACITY: usize = 64;

/// The base64url text of the longest object name.
const ENCODED_NAME_CAPACITY: usize = NAME_CAPACITY.div_ceil(3) * 4;

/// The longest chunk `nuid` (NUIDs are 22 characters) and object digest text kept.
const NUID_CAPACITY: usize = 64;
const DIGEST_CAPACITY: usize = 80;

/// Why reading an Object Store link failed. [`kind`](Self::kind) gives the shared kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectError<E> {
    /// The URL is not `nats-object-store://BUCKET/PAYLOAD-ID/DATANAME` with a bucket of
    /// `A-Z a-z 0-9 _ -` (at most [`BUCKET_CAPACITY`] bytes) and percent-encoded UTF-8 parts
    /// (at most [`NAME_CAPACITY`] bytes decoded); nothing was sent.
    BadLink,
    /// The bucket is not one of the allowed buckets; nothing was sent.
    BucketNotAllowed,
    /// The payload's `size` is over the receiver's cap; nothing was fetched.
    TooLarge {
        /// The payload's `size`.
        size: u64,
        /// The receiver's cap.
        limit: u64,
    },
    /// No stream answers direct gets for the bucket (no such bucket, or no `allow_direct`).
    NoBucket,
    /// The bucket holds no object of that name.
    NotFound,
    /// The object was deleted.
    Deleted,
    /// The object is a link to another object, which is not followed.
    LinkedObject,
    /// The object's info is not what an Object Store writes; names the field.
    BadInfo(&'static str),
    /// The object's size, or the bytes its chunks add up to, differ from the payload's `size`.
    SizeMismatch {
        /// The payload's `size`.
        expected: u64,
        /// What the object info says or the chunks held.
        received: u64,
    },
    /// The bytes' SHA-256 is not the object's digest or the payload's `checksum`.
    ChecksumMismatch,
    /// The payload's `checksum` metadata is not `sha256:` and 64 hex digits; nothing was sent.
    BadChecksum,
    /// A direct get answered with this status (not 404 or 503), or without a usable
    /// `Nats-Sequence` header (`None`).
    JetStream(Option<u16>),
    /// The object's info message is larger than the client's receive buffer (or than any
    /// Object Store writes); it was skipped, the connection is fine.
    InfoTooLarge,
    /// A chunk's header block is longer than [`ObjectReads::headers`].
    HeadersTooLarge {
        /// The header block's length.
        needed: usize,
    },
    /// A message of another subscription arrived on the client during the read; it was not
    /// delivered. Read objects over a connection of their own.
    Interleaved {
        /// The subscription it was for.
        sid: u64,
    },
    /// The caller's sink failed.
    Sink(ErrorKind),
    /// The NATS connection failed (see [`client::Error`] for what that means for it).
    Nats(client::Error<E>),
}

impl<E> From<client::Error<E>> for ObjectError<E> {
    fn from(error: client::Error<E>) -> Self {
        ObjectError::Nats(error)
    }
}

impl<E: fmt::Debug> fmt::Display for ObjectError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectError::BadLink => write!(
                f,
                "not {SCHEME}BUCKET/PAYLOAD-ID/DATANAME with a bucket of A-Z a-z 0-9 _ - and percent-encoded UTF-8"
            ),
            ObjectError::BucketNotAllowed => f.write_str("the bucket is not an allowed bucket"),
            ObjectError::TooLarge { size, limit } => {
                write!(f, "link payload of {size} bytes is over the cap of {limit}")
            }
            ObjectError::NoBucket => f.write_str(
                "no stream answers direct gets for the bucket (no such bucket, or no allow_direct)",
            ),
            ObjectError::NotFound => f.write_str("the bucket holds no such object"),
            ObjectError::Deleted => f.write_str("the object was deleted"),
            ObjectError::LinkedObject => {
                f.write_str("the object is a link to another object, which is not followed")
            }
            ObjectError::BadInfo(field) => write!(f, "the object info's {field} is not valid"),
            ObjectError::SizeMismatch { expected, received } => {
                write!(
                    f,
                    "size mismatch: expected {expected} bytes, got {received}"
                )
            }
            ObjectError::ChecksumMismatch => {
                f.write_str("the SHA-256 of the chunks is not the object's digest or checksum")
            }
            ObjectError::BadChecksum => f.write_str("checksum metadata is not sha256:<64 hex>"),
            ObjectError::JetStream(Some(status)) => {
                write!(f, "a direct get answered status {status}")
            }
            ObjectError::JetStream(None) => {
                f.write_str("a direct get answered without a usable Nats-Sequence header")
            }
            ObjectError::InfoTooLarge => {
                f.write_str("the object's info message does not fit the client's receive buffer")
            }
            ObjectError::HeadersTooLarge { needed } => {
                write!(
                    f,
                    "a chunk's header block of {needed} bytes does not fit the headers buffer"
                )
            }
            ObjectError::Interleaved { sid } => write!(
                f,
                "a message for subscription {sid} arrived during the read and was not delivered (read objects over a connection of their own)"
            ),
            ObjectError::Sink(kind) => write!(f, "the sink failed: {kind:?}"),
            ObjectError::Nats(e) => write!(f, "{e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for ObjectError<E> {}

impl<E> ObjectError<E> {
    /// The shared kind (the schema's x-error-kinds): `link_refused` for a link not read,
    /// `too_large`, `download` for what the bucket lacks, `bad_value` for a broken object
    /// info, `size_mismatch`, `checksum_mismatch`, `jetstream`, `over_capacity` for the headers
    /// or receive buffer, `nats` for an interleaved message, `io` for the sink, the client's otherwise.
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind as K;
        match self {
            ObjectError::BadLink | ObjectError::BucketNotAllowed | ObjectError::LinkedObject => {
                K::LinkRefused
            }
            ObjectError::TooLarge { .. } => K::TooLarge,
            ObjectError::NoBucket | ObjectError::NotFound | ObjectError::Deleted => K::Download,
            ObjectError::BadInfo(_) | ObjectError::BadChecksum => K::BadValue,
            ObjectError::SizeMismatch { .. } => K::SizeMismatch,
            ObjectError::ChecksumMismatch => K::ChecksumMismatch,
            ObjectError::JetStream(_) => K::Jetstream,
            ObjectError::HeadersTooLarge { .. } | ObjectError::InfoTooLarge => K::OverCapacity,
            ObjectError::Interleaved { .. } => K::Nats,
            ObjectError::Sink(_) => K::Io,
            ObjectError::Nats(e) => e.kind(),
        }
    }
}

/// An Object Store link taken apart: the bucket and the object's name, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLink<'u> {
    /// The bucket (`A-Z a-z 0-9 _ -`).
    pub bucket: &'u str,
    /// The object's name, `PAYLOAD-ID/DATANAME`.
    pub name: heapless::String<NAME_CAPACITY>,
}

impl<'u> ObjectLink<'u> {
    /// Parses `nats-object-store://BUCKET/PAYLOAD-ID/DATANAME`; [`ObjectError::BadLink`] for
    /// anything else (a missing part, a broken escape, spaces or control characters, a bucket
    /// with a wildcard or a dot).
    pub fn parse<E>(url: &'u str) -> Result<Self, ObjectError<E>> {
        let rest = url.strip_prefix(SCHEME).ok_or(ObjectError::BadLink)?;
        if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(ObjectError::BadLink);
        }
        let mut parts = rest.split('/');
        let (Some(bucket), Some(id), Some(dataname), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ObjectError::BadLink);
        };
        if !is_token(bucket) || bucket.len() > BUCKET_CAPACITY || id.is_empty() {
            return Err(ObjectError::BadLink);
        }
        let mut name = [0u8; NAME_CAPACITY];
        let mut len = percent_decode(id, &mut name).ok_or(ObjectError::BadLink)?;
        *name.get_mut(len).ok_or(ObjectError::BadLink)? = b'/';
        len += 1;
        let tail = name.get_mut(len..).unwrap_or_default();
        len += percent_decode(dataname, tail).ok_or(ObjectError::BadLink)?;
        let text = core::str::from_utf8(name.get(..len).unwrap_or_default())
            .map_err(|_| ObjectError::BadLink)?;
        let mut owned = heapless::String::new();
        owned.push_str(text).map_err(|_| ObjectError::BadLink)?;
        Ok(ObjectLink {
            bucket,
            name: owned,
        })
    }
}

/// What [`read_object`] needs besides the client.
pub struct ObjectReads<'a> {
    /// The buckets links may name; any other is [`ObjectError::BucketNotAllowed`] before
    /// anything is sent (a link is chosen by whoever sent the message).
    pub allowed_buckets: &'a [&'a str],
    /// The largest object read, in bytes: a larger `size` is [`ObjectError::TooLarge`].
    pub max_size: u64,
    /// Holds the header block of a chunk that streams past the receive buffer (a direct
    /// get's headers name the stream, subject, sequence and time: 256 bytes are plenty).
    pub headers: &'a mut [u8],
}

/// Reads the Object Store link `url` over `client` into `sink` and returns its size: the
/// object's info (its name, bucket, size, chunk count and digest checked, and its size
/// against `expected`), then each chunk in order, never more than `expected.size` bytes to
/// the sink, and the SHA-256 of the whole compared with the object's digest and with
/// `expected.sha256` when given. `random` names the reply inbox.
///
/// The client's receive buffer must hold the object's info message (its `HMSG` line,
/// headers and JSON: about 500 bytes for a short name); the chunks may be any size.
/// `client` should be a connection of its own: a message of another subscription arriving
/// meanwhile ends the read with [`ObjectError::Interleaved`]. There is no timeout here (the
/// server answers every direct get, with the message, 404 or 503); run it in a `select`
/// against a timer if you need one, and treat a cancelled read's connection as spent.
/// After an error the sink may hold part of the object: discard it.
pub async fn read_object<T: Read + Write, S: Write>(
    client: &mut Client<'_, T>,
    url: &str,
    expected: Expected,
    sink: &mut S,
    reads: &mut ObjectReads<'_>,
    random: impl FnMut() -> u32,
) -> Result<u64, ObjectError<T::Error>> {
    let link = ObjectLink::parse(url)?;
    if !reads.allowed_buckets.contains(&link.bucket) {
        return Err(ObjectError::BucketNotAllowed);
    }
    if expected.size > reads.max_size {
        return Err(ObjectError::TooLarge {
            size: expected.size,
            limit: reads.max_size,
        });
    }
    let mut inbox: heapless::String<48> = heapless::String::new();
    let _ = inbox.push_str("_INBOX.");
    for c in crate::smart::uuid_v4(random).chars().filter(|&c| c != '-') {
        let _ = inbox.push(c);
    }
    let _ = inbox.push_str(".*");
    let sid = client.subscribe(&inbox, None).await?;
    let inbox = inbox.trim_end_matches('*');
    let result = read_chunks(client, sid, inbox, &link, expected, sink, reads).await;
    if !matches!(result, Err(ObjectError::Nats(_))) {
        client.unsubscribe(sid, None).await?;
    }
    result
}

/// The object info fields [`read_object`] uses.
struct Info {
    nuid: heapless::String<NUID_CAPACITY>,
    digest: [u8; 32],
    size: u64,
    chunks: u64,
}

async fn read_chunks<T: Read + Write, S: Write>(
    client: &mut Client<'_, T>,
    sid: u64,
    inbox: &str,
    link: &ObjectLink<'_>,
    expected: Expected,
    sink: &mut S,
    reads: &mut ObjectReads<'_>,
) -> Result<u64, ObjectError<T::Error>> {
    // `$JS.API.DIRECT.GET.OBJ_` + bucket, and the request bodies, in one stack buffer each.
    let mut api = [0u8; 32 + BUCKET_CAPACITY];
    let api = written(&mut api, |w| {
        w.raw("$JS.API.DIRECT.GET.OBJ_")?;
        w.raw(link.bucket)
    })?;
    // The longer request: the chunk's, with its sequence number and nuid.
    let mut request = [0u8; 96 + BUCKET_CAPACITY + ENCODED_NAME_CAPACITY + NUID_CAPACITY];
    let mut reply = [0u8; 64];
    let mut encoded = [0u8; ENCODED_NAME_CAPACITY];
    let encoded_len =
        crate::base64::encode(link.name.as_bytes(), &mut encoded).ok_or(ObjectError::BadLink)?;
    let meta = encoded.get_mut(..encoded_len).unwrap_or_default();
    for byte in meta.iter_mut() {
        *byte = match *byte {
            b'+' => b'-',
            b'/' => b'_',
            other => other,
        };
    }
    let meta = core::str::from_utf8(meta).unwrap_or_default();
    // Every part of the requests is a token or base64url: nothing needs escaping.
    let body = written(&mut request, |w| {
        w.raw(r#"{"last_by_subj":"$O."#)?;
        w.raw(link.bucket)?;
        w.raw(".M.")?;
        w.raw(meta)?;
        w.raw(r#""}"#)
    })?;
    let reply_to = reply_subject(&mut reply, inbox, 0)?;
    client.publish(api, Some(reply_to), body.as_bytes()).await?;
    let info = loop {
        match client.next_event().await? {
            Event::Message(msg) if msg.sid == sid && msg.subject == reply_to => {
                answer_status(msg.status())?.ok_or(ObjectError::NotFound)?;
                break parse_info(msg.payload, link)?;
            }
            // Not the answer to this request: skipped (none other is outstanding).
            Event::Message(msg) if msg.sid == sid => {}
            Event::Message(msg) => return Err(ObjectError::Interleaved { sid: msg.sid }),
            // An info larger than the receive buffer.
            Event::Oversized {
                sid: s, subject, ..
            } if s == sid && subject == reply_to => {
                return Err(ObjectError::InfoTooLarge);
            }
            Event::Oversized { sid: s, .. } if s == sid => {}
            Event::Oversized { sid, .. } => return Err(ObjectError::Interleaved { sid }),
            Event::ServerError(_) => {}
        }
    };
    if info.size != expected.size {
        return Err(ObjectError::SizeMismatch {
            expected: expected.size,
            received: info.size,
        });
    }
    let mut verified = Verified {
        sink,
        hasher: Sha256::new(),
        written: 0,
        size: expected.size,
    };
    let mut seq: u64 = 1;
    for token in 1..=info.chunks {
        let body = written(&mut request, |w| {
            w.raw(r#"{"seq":"#)?;
            w.unsigned(seq)?;
            w.raw(r#","next_by_subj":"$O."#)?;
            w.raw(link.bucket)?;
            w.raw(".C.")?;
            w.raw(&info.nuid)?;
            w.raw(r#""}"#)
        })?;
        let reply_to = reply_subject(&mut reply, inbox, token)?;
        client.publish(api, Some(reply_to), body.as_bytes()).await?;
        let found = loop {
            match client.next_event().await? {
                Event::Message(msg) if msg.sid == sid && msg.subject == reply_to => {
                    if answer_status(msg.status())?.is_none() {
                        // The stream has no further chunk: fewer than the info counts.
                        return Err(ObjectError::SizeMismatch {
                            expected: expected.size,
                            received: verified.written,
                        });
                    }
                    let found = sequence(msg.headers.unwrap_or_default());
                    verified
                        .write_all(msg.payload)
                        .await
                        .map_err(|e| verified.error(e))?;
                    break found;
                }
                Event::Message(msg) if msg.sid == sid => {}
                Event::Message(msg) => return Err(ObjectError::Interleaved { sid: msg.sid }),
                Event::Oversized {
                    sid: s, subject, ..
                } if s == sid && subject == reply_to => {
                    let headers = &mut *reads.headers;
                    let streamed = match client.read_oversized(headers, &mut verified).await {
                        Ok(streamed) => streamed,
                        Err(ReadError::Nats(e)) => return Err(ObjectError::Nats(e)),
                        Err(ReadError::Sink(e)) => return Err(verified.error(e)),
                        Err(ReadError::HeadersTooLarge { needed }) => {
                            return Err(ObjectError::HeadersTooLarge { needed });
                        }
                        Err(ReadError::NotOversized) => return Err(ObjectError::JetStream(None)),
                    };
                    let block = headers.get(..streamed.headers_len).unwrap_or_default();
                    let status = crate::protocol::Msg {
                        subject: "",
                        sid,
                        reply_to: None,
                        headers: Some(block),
                        payload: &[],
                    }
                    .status();
                    if status.is_some() {
                        return Err(ObjectError::JetStream(status));
                    }
                    break sequence(block);
                }
                Event::Oversized { sid: s, .. } if s == sid => {}
                Event::Oversized { sid, .. } => return Err(ObjectError::Interleaved { sid }),
                Event::ServerError(_) => {}
            }
        };
        seq = match found {
            Some(found) if found >= seq => found.saturating_add(1),
            _ => return Err(ObjectError::JetStream(None)),
        };
    }
    let written = verified.written;
    if written != expected.size {
        return Err(ObjectError::SizeMismatch {
            expected: expected.size,
            received: written,
        });
    }
    let digest = verified.hasher.finalize();
    if digest != info.digest || expected.sha256.is_some_and(|sha256| sha256 != digest) {
        return Err(ObjectError::ChecksumMismatch);
    }
    verified
        .sink
        .flush()
        .await
        .map_err(|e| ObjectError::Sink(e.kind()))?;
    Ok(written)
}

/// `Some(())` for a message, `None` for 404 (no such message); the errors for the rest.
fn answer_status<E>(status: Option<u16>) -> Result<Option<()>, ObjectError<E>> {
    match status {
        None => Ok(Some(())),
        Some(404) => Ok(None),
        Some(503) => Err(ObjectError::NoBucket),
        Some(other) => Err(ObjectError::JetStream(Some(other))),
    }
}

/// The object info of a direct get's body, checked against `link`.
fn parse_info<E>(body: &[u8], link: &ObjectLink<'_>) -> Result<Info, ObjectError<E>> {
    let mut reader = Reader::new(body);
    reader
        .begin_object()
        .map_err(|_| ObjectError::BadInfo("JSON"))?;
    let mut key: heapless::String<16> = heapless::String::new();
    let (mut name_ok, mut bucket_ok) = (false, false);
    let mut nuid: Option<heapless::String<NUID_CAPACITY>> = None;
    let mut digest: Option<heapless::String<DIGEST_CAPACITY>> = None;
    let (mut size, mut chunks) = (None, None);
    while let Some(fits) = reader
        .next_key(&mut key)
        .map_err(|_| ObjectError::BadInfo("JSON"))?
    {
        let field: &'static str = match (fits, key.as_str()) {
            (Key::Fits, "name") => "name",
            (Key::Fits, "bucket") => "bucket",
            (Key::Fits, "nuid") => "nuid",
            (Key::Fits, "digest") => "digest",
            (Key::Fits, "size") => "size",
            (Key::Fits, "chunks") => "chunks",
            (Key::Fits, "deleted") => "deleted",
            (Key::Fits, "options") => "options",
            _ => "",
        };
        let what = if field.is_empty() { "JSON" } else { field };
        let bad = move |_| ObjectError::BadInfo(what);
        match field {
            "name" | "bucket" => {
                let mut text: heapless::String<NAME_CAPACITY> = heapless::String::new();
                reader.string_into(&mut text).map_err(bad)?;
                let ok = if field == "name" {
                    text == link.name
                } else {
                    text == link.bucket
                };
                if !ok {
                    return Err(ObjectError::BadInfo(what));
                }
                if field == "name" {
                    name_ok = true;
                } else {
                    bucket_ok = true;
                }
            }
            "nuid" => {
                let mut text = heapless::String::new();
                reader.string_into(&mut text).map_err(bad)?;
                if !is_token(&text) {
                    return Err(ObjectError::BadInfo(what));
                }
                nuid = Some(text);
            }
            "digest" => {
                let mut text = heapless::String::new();
                reader.string_into(&mut text).map_err(bad)?;
                digest = Some(text);
            }
            "size" => size = Some(reader.unsigned().map_err(bad)?),
            "chunks" => chunks = Some(reader.unsigned().map_err(bad)?),
            "deleted" => {
                if !reader.null().map_err(bad)? && reader.boolean().map_err(bad)? {
                    return Err(ObjectError::Deleted);
                }
            }
            "options" => {
                if !reader.null().map_err(bad)? && linked(&mut reader).map_err(bad)? {
                    return Err(ObjectError::LinkedObject);
                }
            }
            _ => reader.skip_value().map_err(bad)?,
        }
    }
    if !name_ok {
        return Err(ObjectError::BadInfo("name"));
    }
    if !bucket_ok {
        return Err(ObjectError::BadInfo("bucket"));
    }
    let nuid = nuid.ok_or(ObjectError::BadInfo("nuid"))?;
    let size = size.ok_or(ObjectError::BadInfo("size"))?;
    let chunks = chunks.ok_or(ObjectError::BadInfo("chunks"))?;
    if (chunks == 0) != (size == 0) || chunks > size {
        return Err(ObjectError::BadInfo("chunks"));
    }
    let digest = digest.ok_or(ObjectError::BadInfo("digest"))?;
    let digest = digest_bytes(&digest).ok_or(ObjectError::BadInfo("digest"))?;
    Ok(Info {
        nuid,
        digest,
        size,
        chunks,
    })
}

/// Whether the `options` object holds a non-null `link`.
fn linked(reader: &mut Reader<'_>) -> Result<bool, crate::json::JsonError> {
    reader.begin_object()?;
    let mut key: heapless::String<8> = heapless::String::new();
    let mut link = false;
    while let Some(fits) = reader.next_key(&mut key)? {
        if fits == Key::Fits && key == "link" && !reader.null()? {
            link = true;
        }
        if !(fits == Key::Fits && key == "link") || link {
            reader.skip_value()?;
        }
    }
    Ok(link)
}

/// The 32 bytes of `SHA-256=<base64url>` (padded or not).
fn digest_bytes(text: &str) -> Option<[u8; 32]> {
    let encoded = text.strip_prefix("SHA-256=")?;
    let mut standard = [0u8; 44];
    let mut len = 0;
    for byte in encoded.bytes() {
        *standard.get_mut(len)? = match byte {
            b'-' => b'+',
            b'_' => b'/',
            b'+' | b'/' => return None,
            other => other,
        };
        len += 1;
    }
    while len % 4 != 0 {
        *standard.get_mut(len)? = b'=';
        len += 1;
    }
    let mut out = [0u8; 33];
    let n = crate::base64::decode(standard.get(..len)?, &mut out).ok()?;
    let mut digest = [0u8; 32];
    digest.copy_from_slice(out.get(..32)?);
    (n == 32).then_some(digest)
}

/// The `Nats-Sequence` value of a header block.
fn sequence(block: &[u8]) -> Option<u64> {
    block.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = line.split_at(colon);
        if !name.eq_ignore_ascii_case(b"Nats-Sequence") {
            return None;
        }
        let value = core::str::from_utf8(value.get(1..)?).ok()?.trim();
        value.parse().ok()
    })
}

/// `inbox` followed by `token`, the reply subject of one request.
fn reply_subject<'b, E>(
    buf: &'b mut [u8],
    inbox: &str,
    token: u64,
) -> Result<&'b str, ObjectError<E>> {
    written(buf, |w| {
        w.raw(inbox)?;
        w.unsigned(token)
    })
}

/// What `write` writes into `buf`, as text; [`ObjectError::BadLink`] when it does not fit
/// (the buffers are sized for the longest bucket, name and nuid a link can hold).
fn written<E>(
    buf: &mut [u8],
    write: impl FnOnce(&mut Writer<'_>) -> Result<(), BufferFull>,
) -> Result<&str, ObjectError<E>> {
    let mut w = Writer::new(buf);
    write(&mut w).map_err(|_| ObjectError::BadLink)?;
    Ok(core::str::from_utf8(w.into_written()).unwrap_or_default())
}

/// A NATS subject token of `A-Z a-z 0-9 _ -` (bucket names, nuids).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Percent-decodes `text` into `out` and returns the length; `None` for a broken escape or
/// when it does not fit.
fn percent_decode(text: &str, out: &mut [u8]) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut i, mut len) = (0, 0);
    while let Some(&byte) = bytes.get(i) {
        let value = if byte == b'%' {
            let hex = core::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            i += 3;
            u8::from_str_radix(hex, 16).ok()?
        } else {
            i += 1;
            byte
        };
        *out.get_mut(len)? = value;
        len += 1;
    }
    Some(len)
}

/// The caller's sink behind the checks of a read: the SHA-256, the count, and never more
/// than `size` bytes.
struct Verified<'s, S> {
    sink: &'s mut S,
    hasher: Sha256,
    written: u64,
    size: u64,
}

impl<S: Write> Verified<'_, S> {
    fn error<E>(&self, error: VerifyError) -> ObjectError<E> {
        match error {
            VerifyError::Over { received } => ObjectError::SizeMismatch {
                expected: self.size,
                received,
            },
            VerifyError::Sink(kind) => ObjectError::Sink(kind),
        }
    }
}

/// A write through [`Verified`] that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VerifyError {
    /// More bytes than the payload's `size`: this many had come with the refused write.
    Over { received: u64 },
    /// The caller's sink failed.
    Sink(ErrorKind),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Over { .. } => f.write_str("more bytes than the payload's size"),
            VerifyError::Sink(kind) => write!(f, "the sink failed: {kind:?}"),
        }
    }
}

impl core::error::Error for VerifyError {}

impl embedded_io_async::Error for VerifyError {
    fn kind(&self) -> ErrorKind {
        match self {
            VerifyError::Over { .. } => ErrorKind::InvalidData,
            VerifyError::Sink(kind) => *kind,
        }
    }
}

impl<S: Write> ErrorType for Verified<'_, S> {
    type Error = VerifyError;
}

impl<S: Write> Write for Verified<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, VerifyError> {
        let after = self.written.saturating_add(buf.len() as u64);
        if after > self.size {
            return Err(VerifyError::Over { received: after });
        }
        self.sink
            .write_all(buf)
            .await
            .map_err(|e| VerifyError::Sink(e.kind()))?;
        self.hasher.update(buf);
        self.written = after;
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), VerifyError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_parse_and_decode() {
        let link =
            ObjectLink::parse::<()>("nats-object-store://files/abc-1/scan%20v2.png").unwrap();
        assert_eq!(
            (link.bucket, link.name.as_str()),
            ("files", "abc-1/scan v2.png")
        );
        for bad in [
            "nats-object-store://files/abc",
            "nats-object-store://fi.les/abc/x",
            "nats-object-store://fi*/abc/x",
            "nats-object-store://files/abc/x/y",
            "nats-object-store://files//x",
            "nats-object-store://files/abc/%zz",
            "nats-object-store://files/abc/%ff",
            "nats-object-store://files/abc/a b",
            "http://files/abc/x",
        ] {
            assert_eq!(
                ObjectLink::parse::<()>(bad),
                Err(ObjectError::BadLink),
                "{bad}"
            );
        }
    }

    #[test]
    fn digests_and_sequences_are_read() {
        let digest = Sha256::digest(b"hello");
        let mut text = [0u8; 44];
        let n = crate::base64::encode(&digest, &mut text).unwrap();
        let url: heapless::String<64> = core::str::from_utf8(&text[..n])
            .unwrap()
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        let mut with_prefix: heapless::String<80> = heapless::String::new();
        with_prefix.push_str("SHA-256=").unwrap();
        with_prefix.push_str(&url).unwrap();
        assert_eq!(digest_bytes(&with_prefix), Some(digest));
        assert_eq!(
            digest_bytes(with_prefix.trim_end_matches('=')),
            Some(digest)
        );
        assert_eq!(digest_bytes("SHA-256=abc"), None);
        assert_eq!(digest_bytes("SHA-512=abc"), None);
        let block = b"NATS/1.0\r\nNats-Stream: OBJ_f\r\nnats-sequence: 42\r\n\r\n";
        assert_eq!(sequence(block), Some(42));
        assert_eq!(sequence(b"NATS/1.0\r\nNats-Sequence: x\r\n\r\n"), None);
    }
}
