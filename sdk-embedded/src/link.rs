//! Link payloads (WIRE.md section 6): upload with HTTP `PUT` or the Plik API, and download
//! with `GET` streamed into a caller sink, retried with backoff, its size and SHA-256 checked.
//!
//! A device can receive a payload far larger than its RAM: pieces go to the sink (a flash
//! writer, say) as they arrive, and only the work buffer is held. A retry after a broken
//! connection resumes with a `Range` request when the server supports it.

use core::fmt;

use embedded_io_async::{Error as _, ErrorKind, Write};

use crate::backoff::Backoff;
use crate::http::{self, Connector, HttpError, Url};
use crate::json::Reader;
use crate::sha256::Sha256;

/// The longest URL a link payload can carry (the schema's capacity of `data`).
pub const URL_CAPACITY: usize = crate::contract::MESSAGE_PAYLOAD_DATA_MAX_BYTES;

/// Why uploading or downloading a link payload failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The HTTP exchange failed; for a download, the last failure after the retries.
    Http(HttpError),
    /// The body's length differs from the payload's `size` (permanent, not retried).
    SizeMismatch {
        /// The payload's `size`.
        expected: u64,
        /// What the server sent or announced.
        received: u64,
    },
    /// The body's SHA-256 differs from the payload's `checksum` (permanent).
    ChecksumMismatch,
    /// The payload's `checksum` metadata is not `sha256:` and 64 hex digits.
    BadChecksum,
    /// The caller's sink failed.
    Sink(ErrorKind),
    /// The file server's answer lacks the id it should carry (Plik API).
    BadAnswer(&'static str),
    /// The link URL would be longer than [`URL_CAPACITY`], or the data name holds characters
    /// a Plik multipart header cannot carry.
    BadName,
    /// A payload had to go as a link and no file server was configured.
    NoFileServer,
    /// The link names a host the receiver does not allow ([`AllowedHosts`]); nothing was
    /// fetched.
    HostNotAllowed,
    /// The link is an Object Store link (`nats-object-store://`), read over NATS with
    /// [`smart::receive_object`](crate::smart::receive_object), not over HTTP; nothing was fetched.
    ObjectStoreLink,
    /// The payload's declared `size` is over the receiver's cap; nothing was fetched.
    TooLarge {
        /// The payload's `size`.
        size: u64,
        /// The receiver's cap.
        limit: u64,
    },
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Http(e) => write!(f, "{e}"),
            LinkError::SizeMismatch { expected, received } => {
                write!(
                    f,
                    "size mismatch: expected {expected} bytes, got {received}"
                )
            }
            LinkError::ChecksumMismatch => f.write_str("sha256 checksum mismatch"),
            LinkError::BadChecksum => f.write_str("checksum metadata is not sha256:<64 hex>"),
            LinkError::Sink(kind) => write!(f, "the sink failed: {kind:?}"),
            LinkError::BadAnswer(what) => write!(f, "file server answer lacks {what}"),
            LinkError::BadName => f.write_str("link URL too long or data name not allowed"),
            LinkError::NoFileServer => f.write_str("needs a link and no file server is configured"),
            LinkError::HostNotAllowed => f.write_str("link host is not an allowed host"),
            LinkError::ObjectStoreLink => {
                f.write_str("an Object Store link: read it over NATS with smart::receive_object")
            }
            LinkError::TooLarge { size, limit } => {
                write!(f, "link payload of {size} bytes is over the cap of {limit}")
            }
        }
    }
}

impl core::error::Error for LinkError {}

impl From<HttpError> for LinkError {
    fn from(error: HttpError) -> Self {
        LinkError::Http(error)
    }
}

/// The hosts and ports a receiver fetches link payloads from. A link is a URL chosen by whoever
/// sent the message: without this check any sender could make the device fetch any address
/// (another port of the file server's host included: a monitoring port, an admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowedHosts<'a> {
    /// Only the host and port of this file server base URL (`http://files.local:8080`): the
    /// default choice, the file server the device itself uploads to.
    FileServerOf(&'a str),
    /// Only these `host[:port]` entries (hosts compared without regard to case; an entry
    /// without a port allows port 80 only).
    Only(&'a [&'a str]),
    /// Any host a message names. Only for a network where every sender is trusted.
    AnyHostTrustingEverySender,
}

impl AllowedHosts<'_> {
    /// Whether a link to `host:port` may be fetched.
    #[must_use]
    pub fn allows(&self, host: &str, port: u16) -> bool {
        match self {
            AllowedHosts::FileServerOf(url) => Url::parse(url)
                .is_ok_and(|server| same_host(server.host, host) && server.port == port),
            AllowedHosts::Only(entries) => entries.iter().any(|entry| {
                let (name, entry_port) = match entry.rsplit_once(':') {
                    Some((name, p)) => (name, p.parse().ok()),
                    None => (*entry, Some(80)),
                };
                same_host(name, host) && entry_port == Some(port)
            }),
            AllowedHosts::AnyHostTrustingEverySender => true,
        }
    }
}

/// Whether two hosts name the same machine: equal without regard to case, or both spellings
/// of the loopback (`localhost`, `127.0.0.1`, `::1` bare or in brackets), as in the std and
/// Python SDKs. Names are not resolved.
fn same_host(allowed: &str, host: &str) -> bool {
    let loopback = |h: &str| {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost") || h == "127.0.0.1" || h == "::1"
    };
    allowed.eq_ignore_ascii_case(host) || (loopback(allowed) && loopback(host))
}

/// What a downloaded body must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    /// Its length, the payload's `size`.
    pub size: u64,
    /// Its SHA-256, from the payload's `checksum` metadata; `None` skips the check (a
    /// receiver accepts senders that did not send one).
    pub sha256: Option<[u8; 32]>,
}

/// Parses `sha256:<64 lower- or upper-case hex>`.
pub fn parse_checksum(text: &str) -> Result<[u8; 32], LinkError> {
    let hex = text.strip_prefix("sha256:").ok_or(LinkError::BadChecksum)?;
    if hex.len() != 64 {
        return Err(LinkError::BadChecksum);
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let text = core::str::from_utf8(pair).map_err(|_| LinkError::BadChecksum)?;
        *byte = u8::from_str_radix(text, 16).map_err(|_| LinkError::BadChecksum)?;
    }
    Ok(out)
}

/// `sha256:<64 lower-case hex>` of `data`, as a link payload's `checksum` metadata.
#[must_use]
pub fn checksum_of(data: &[u8]) -> heapless::String<71> {
    let digest = Sha256::digest(data);
    let mut out = heapless::String::new();
    let _ = out.push_str("sha256:");
    for byte in digest {
        for nibble in [byte >> 4, byte & 15] {
            // Cannot fail: 7 + 64 characters fit the capacity of 71.
            let _ = out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    out
}

/// Downloads `url` into `sink`, verifying `expected` size and SHA-256, and returns the number
/// of bytes written.
///
/// Transient failures (connection errors, a connection cut mid-body, 5xx, 429) are retried
/// per `backoff`: `delay(ms)` waits (an embassy `Timer`, `tokio::time::sleep`), `random()`
/// supplies the jitter. A retry asks for the rest with `Range` and continues where it
/// stopped (a server that answers 200 instead is read from the start, the bytes already
/// written skipped). Permanent failures (404, 403, a wrong size or checksum) return at once.
/// After an error the sink may hold part of the body: discard it.
#[allow(clippy::too_many_arguments)]
pub async fn download<C: Connector, S: Write>(
    connector: &mut C,
    work: &mut [u8],
    url: &str,
    expected: Expected,
    sink: &mut S,
    backoff: &Backoff,
    mut delay: impl AsyncFnMut(u32),
    mut random: impl FnMut() -> u32,
) -> Result<u64, LinkError> {
    let url = Url::parse(url)?;
    let mut hasher = Sha256::new();
    let mut written: u64 = 0;
    let mut attempt = 0;
    loop {
        match download_once(
            connector,
            work,
            &url,
            expected,
            sink,
            &mut hasher,
            &mut written,
        )
        .await
        {
            Ok(()) => break,
            Err(LinkError::Http(error))
                if error.is_transient() && attempt + 1 < backoff.max_attempts =>
            {
                delay(backoff.delay_ms(attempt, random())).await;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
    if written != expected.size {
        return Err(LinkError::SizeMismatch {
            expected: expected.size,
            received: written,
        });
    }
    if let Some(sha256) = expected.sha256
        && hasher.finalize()[..] != sha256[..]
    {
        return Err(LinkError::ChecksumMismatch);
    }
    sink.flush().await.map_err(|e| LinkError::Sink(e.kind()))?;
    Ok(written)
}

/// One attempt: from byte `written` on, feeding the hasher and the sink.
async fn download_once<C: Connector, S: Write>(
    connector: &mut C,
    work: &mut [u8],
    url: &Url<'_>,
    expected: Expected,
    sink: &mut S,
    hasher: &mut Sha256,
    written: &mut u64,
) -> Result<(), LinkError> {
    let mut range_header = [0u8; 32];
    let range = {
        let mut w = crate::json::Writer::new(&mut range_header);
        let _ = w.raw("bytes=");
        let _ = w.unsigned(*written);
        let _ = w.raw("-");
        let len = w.len();
        core::str::from_utf8(range_header.get(..len).unwrap_or_default()).unwrap_or_default()
    };
    let headers: &[(&str, &str)] = if *written > 0 && *written < expected.size {
        &[("Range", range)]
    } else {
        &[]
    };
    let mut response = http::request(connector, work, "GET", url, headers, None).await?;
    // Bytes of this response to drop because an earlier attempt already delivered them.
    let mut to_skip = match response.status {
        200 => *written,
        206 if !headers.is_empty() => 0,
        status => return Err(LinkError::Http(HttpError::Status(status))),
    };
    if let Some(length) = response.content_length {
        // A Content-Length near u64::MAX must not overflow (a panic in debug builds).
        let announced = length.saturating_add(*written - to_skip);
        if announced != expected.size {
            return Err(LinkError::SizeMismatch {
                expected: expected.size,
                received: announced,
            });
        }
    }
    while let Some(piece) = response.next_piece().await? {
        let skip = usize::try_from(to_skip)
            .unwrap_or(usize::MAX)
            .min(piece.len());
        to_skip -= skip as u64;
        let fresh = &piece[skip..];
        if fresh.is_empty() {
            continue;
        }
        if *written + fresh.len() as u64 > expected.size {
            return Err(LinkError::SizeMismatch {
                expected: expected.size,
                received: *written + fresh.len() as u64,
            });
        }
        sink.write_all(fresh)
            .await
            .map_err(|e| LinkError::Sink(e.kind()))?;
        hasher.update(fresh);
        *written += fresh.len() as u64;
    }
    Ok(())
}

/// How a file server takes uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMethod {
    /// `PUT {url}/{payload id}/{dataname}` (nginx WebDAV, `natsbridge serve-files`, presigned
    /// stores); the link is that URL.
    Put,
    /// The Plik API: `POST {url}/upload`, then a multipart `POST {url}/file/{upload id}`; the
    /// link is `{url}/file/{upload id}/{file id}/{dataname}`.
    Plik,
}

/// A file server to upload link payloads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileServer<'a> {
    /// Its base URL, `http://host[:port][/prefix]`, without a trailing slash.
    pub url: &'a str,
    /// How it takes uploads.
    pub method: UploadMethod,
    /// Sent as `Authorization: Bearer <token>` with uploads, when the server requires one.
    pub token: Option<&'a str>,
}

/// The multipart boundary of Plik uploads (a macro, for `concat!`).
macro_rules! boundary {
    () => {
        "natsbridge-embedded-5b1f0c9e"
    };
}
/// Uploads `data` as the payload `payload_id` named `dataname` and returns its link.
/// `work` holds request and response heads (512 bytes is plenty).
pub async fn upload<C: Connector>(
    connector: &mut C,
    work: &mut [u8],
    server: &FileServer<'_>,
    payload_id: &str,
    dataname: &str,
    data: &[u8],
) -> Result<heapless::String<URL_CAPACITY>, LinkError> {
    let mut bearer: heapless::String<256> = heapless::String::new();
    if let Some(token) = server.token {
        push_all(&mut bearer, &["Bearer ", token])?;
    }
    let auth = server.token.map(|_| ("Authorization", bearer.as_str()));
    let mut link: heapless::String<URL_CAPACITY> = heapless::String::new();
    match server.method {
        UploadMethod::Put => {
            push_all(&mut link, &[server.url, "/"])?;
            push_escaped(&mut link, payload_id)?;
            push_all(&mut link, &["/"])?;
            push_escaped(&mut link, &file_name(dataname)?)?;
            let content_type = ("Content-Type", "application/octet-stream");
            let headers = [Some(content_type), auth];
            exchange(
                connector,
                work,
                "PUT",
                &link,
                &headers,
                &[data],
                &[200, 201, 204],
            )
            .await?;
        }
        UploadMethod::Plik => {
            if dataname.bytes().any(|b| b == b'"' || b < b' ') {
                return Err(LinkError::BadName);
            }
            // 1. Create an upload: its id and the token that allows adding files to it.
            let mut url: heapless::String<URL_CAPACITY> = heapless::String::new();
            push_all(&mut url, &[server.url, "/upload"])?;
            let headers = [Some(("Content-Type", "application/json")), auth];
            let mut upload_id: heapless::String<128> = heapless::String::new();
            let mut upload_token: heapless::String<128> = heapless::String::new();
            {
                let mut response =
                    exchange(connector, work, "POST", &url, &headers, &[b"{}"], &[200]).await?;
                let answer = response.read_to_end().await?;
                read_json_string(answer, "id", &mut upload_id)?;
                read_json_string(answer, "uploadToken", &mut upload_token)?;
            }
            // 2. Post the file as the multipart part `file`.
            let name = file_name(dataname)?;
            let mut part_head = [0u8; 512];
            let part_head_len = {
                let mut w = crate::json::Writer::new(&mut part_head);
                let parts = [
                    concat!(
                        "--",
                        boundary!(),
                        "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                    ),
                    name.as_str(),
                    "\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                ];
                for part in parts {
                    w.raw(part).map_err(|_| LinkError::BadName)?;
                }
                w.len()
            };
            url.clear();
            push_all(&mut url, &[server.url, "/file/"])?;
            push_escaped(&mut url, &upload_id)?;
            let headers = [
                Some((
                    "Content-Type",
                    concat!("multipart/form-data; boundary=", boundary!()),
                )),
                Some(("X-UploadToken", upload_token.as_str())),
                auth,
            ];
            let part_end = concat!("\r\n--", boundary!(), "--\r\n").as_bytes();
            let body = [&part_head[..part_head_len], data, part_end];
            let mut response =
                exchange(connector, work, "POST", &url, &headers, &body, &[200]).await?;
            let mut file_id: heapless::String<128> = heapless::String::new();
            read_json_string(response.read_to_end().await?, "id", &mut file_id)?;
            push_all(&mut link, &[server.url, "/file/"])?;
            for (i, part) in [upload_id.as_str(), &file_id, &name]
                .into_iter()
                .enumerate()
            {
                if i > 0 {
                    push_all(&mut link, &["/"])?;
                }
                push_escaped(&mut link, part)?;
            }
        }
    }
    Ok(link)
}

/// Sends one request with the headers that are `Some` and requires one of the `accepted`
/// status codes; returns the response for its body.
async fn exchange<'w, 'c, C: Connector>(
    connector: &'c mut C,
    work: &'w mut [u8],
    method: &str,
    url: &str,
    headers: &[Option<(&str, &str)>],
    body: &[&[u8]],
    accepted: &[u16],
) -> Result<http::Response<'w, C::Connection<'c>>, LinkError> {
    let mut present: heapless::Vec<(&str, &str), 4> = heapless::Vec::new();
    for header in headers.iter().flatten() {
        present.push(*header).map_err(|_| LinkError::BadName)?;
    }
    let url = Url::parse(url)?;
    let response = http::request(connector, work, method, &url, &present, Some(body)).await?;
    if accepted.contains(&response.status) {
        Ok(response)
    } else {
        Err(LinkError::Http(HttpError::Status(response.status)))
    }
}

fn push_all<const N: usize>(
    out: &mut heapless::String<N>,
    parts: &[&str],
) -> Result<(), LinkError> {
    for part in parts {
        out.push_str(part).map_err(|_| LinkError::BadName)?;
    }
    Ok(())
}

/// Appends `text` percent-encoded, leaving RFC 3986 unreserved characters as they are.
/// The capacity of a file name on a file server (the schema's dataname capacity).
const FILE_NAME_CAPACITY: usize = 128;

/// The file name a dataname gets on a file server, as every SDK makes it: `/`, `\`, `"`
/// and control characters become `_`, as do leading dots (servers refuse hidden and parent
/// names), and an empty name becomes `payload`. It is safe inside a URL path segment (once
/// escaped) and inside a quoted multipart `filename`.
fn file_name(dataname: &str) -> Result<heapless::String<FILE_NAME_CAPACITY>, LinkError> {
    let mut name = heapless::String::new();
    let mut leading = true;
    for c in dataname.chars() {
        leading &= c == '.';
        let plain = !(leading || matches!(c, '/' | '\\' | '"') || c.is_control());
        name.push(if plain { c } else { '_' })
            .map_err(|_| LinkError::BadName)?;
    }
    if name.is_empty() {
        name.push_str("payload").map_err(|_| LinkError::BadName)?;
    }
    Ok(name)
}

fn push_escaped<const N: usize>(
    out: &mut heapless::String<N>,
    text: &str,
) -> Result<(), LinkError> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        let fits = if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte))
        } else {
            out.push('%')
                .and_then(|_| out.push(char::from(HEX[usize::from(byte >> 4)])))
                .and_then(|_| out.push(char::from(HEX[usize::from(byte & 15)])))
        };
        fits.map_err(|_| LinkError::BadName)?;
    }
    Ok(())
}

/// The string value of the top-level `key` of the JSON object `body`.
fn read_json_string<const N: usize>(
    body: &[u8],
    key: &'static str,
    out: &mut heapless::String<N>,
) -> Result<(), LinkError> {
    let mut reader = Reader::new(body);
    reader
        .begin_object()
        .map_err(|_| LinkError::BadAnswer(key))?;
    let mut name: heapless::String<32> = heapless::String::new();
    while reader
        .next_key(&mut name)
        .map_err(|_| LinkError::BadAnswer(key))?
        .is_some()
    {
        if name == key {
            return reader
                .string_into(out)
                .map_err(|_| LinkError::BadAnswer(key));
        }
        reader.skip_value().map_err(|_| LinkError::BadAnswer(key))?;
    }
    Err(LinkError::BadAnswer(key))
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_are_plain_and_quote_free() {
        for (dataname, want) in [
            ("photo.png", "photo.png"),
            ("../a/b", "___a_b"),
            (".env", "_env"),
            ("back\\slash", "back_slash"),
            ("say \"hi\"\r\nX-Evil: 1", "say _hi___X-Evil: 1"),
            ("", "payload"),
        ] {
            assert_eq!(file_name(dataname).unwrap().as_str(), want, "{dataname:?}");
        }
        assert!(file_name(&"x".repeat(129)).is_err());
    }
}
