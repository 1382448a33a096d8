//! The link transport (claim check, WIRE.md section 6): [`LinkBackend`]s upload a payload and
//! return its URL; downloads (retried, resumed, size and checksum verified) fetch it back.
//!
//! Built in: [`Plik`] (the original editions' file server), [`HttpPut`] (nginx WebDAV, S3-style
//! presigned stores, `natsbridge serve-files`) and [`ObjectStore`] (NATS JetStream, no extra
//! server). Implement [`LinkBackend`] for anything else.

mod fetch;
mod http;
mod object_store;
mod policy;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio_util::io::ReaderStream;

pub(crate) use fetch::{Expected, Fetcher, Sink, hex as fetch_hex};
pub use http::{HttpPut, Plik};
pub use object_store::{OBJECT_STORE_SCHEME, ObjectStore};
pub use policy::{
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_IN_MEMORY_BYTES, LinkPolicy, parse_link_host,
};

use crate::Error;

/// Where a link payload is uploaded. Implementations must stream [`Upload::body`] rather than
/// collect it, and return a URL that receivers can fetch.
///
/// ```
/// use futures_util::future::BoxFuture;
/// use natsbridge::{Error, link::{LinkBackend, Upload}};
///
/// /// Keeps nothing, hands out a fixed URL (e.g. to reproduce a golden message).
/// struct FixedUrl(String);
///
/// impl LinkBackend for FixedUrl {
///     fn upload<'a>(&'a self, _upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
///         Box::pin(async move { Ok(self.0.clone()) })
///     }
/// }
/// ```
pub trait LinkBackend: Send + Sync {
    /// Stores the payload and returns the URL it can be downloaded from. Errors should be of
    /// kind [`ErrorKind::Upload`](crate::ErrorKind::Upload) and name the URL.
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>>;

    /// Whether [`upload`](Self::upload) needs the payload's SHA-256 in [`Upload::sha256`]
    /// (to send it to the store, say). `true` unless a backend says otherwise; when `false`,
    /// the hash is computed on another thread while the upload runs and `Upload::sha256` is
    /// `None`. The envelope's checksum is the same either way.
    fn needs_sha256(&self) -> bool {
        true
    }
}

impl<T: LinkBackend + ?Sized> LinkBackend for Arc<T> {
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
        (**self).upload(upload)
    }

    fn needs_sha256(&self) -> bool {
        (**self).needs_sha256()
    }
}

/// Reports bytes moved: `(dataname, bytes so far, bytes in all)`; called from upload and
/// download streams, so keep it cheap.
pub type Progress = Arc<dyn Fn(&str, u64, u64) + Send + Sync>;

/// One payload to upload.
pub struct Upload {
    /// The payload's `id` (a UUID), unique per payload: backends use it in the URL.
    pub payload_id: String,
    /// The caller's name for the payload.
    pub dataname: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lower-case hex (what the envelope's checksum will say), when the backend
    /// [needs it](LinkBackend::needs_sha256) before uploading.
    pub sha256: Option<String>,
    pub(crate) body: Body,
    pub(crate) progress: Option<Progress>,
}

/// Where an upload's bytes come from.
#[derive(Clone)]
pub(crate) enum Body {
    Bytes(Bytes),
    File(PathBuf),
}

/// Chunk size of upload streams.
const CHUNK: usize = 64 * 1024;

impl Upload {
    /// The bytes as a stream of chunks, read from memory or from the file as it goes; progress
    /// is reported as the chunks are taken.
    pub async fn body(&self) -> std::io::Result<BoxStream<'static, std::io::Result<Bytes>>> {
        let chunks: BoxStream<'static, std::io::Result<Bytes>> =
            match &self.body {
                Body::Bytes(bytes) => {
                    let bytes = bytes.clone();
                    let count = bytes.len().div_ceil(CHUNK);
                    stream::iter((0..count).map(move |i| {
                        Ok(bytes.slice(i * CHUNK..((i + 1) * CHUNK).min(bytes.len())))
                    }))
                    .boxed()
                }
                Body::File(path) => {
                    let file = tokio::fs::File::open(path).await?;
                    ReaderStream::with_capacity(file, CHUNK).boxed()
                }
            };
        let Some(progress) = self.progress.clone() else {
            return Ok(chunks);
        };
        let (dataname, total) = (self.dataname.clone(), self.size);
        let mut sent = 0u64;
        Ok(chunks
            .inspect(move |chunk| {
                if let Ok(chunk) = chunk {
                    sent += chunk.len() as u64;
                    progress(&dataname, sent, total);
                }
            })
            .boxed())
    }

    /// The bytes, when they are in memory and no progress is reported: a backend can hand
    /// them over in one piece instead of as a stream of chunks.
    pub fn in_memory(&self) -> Option<Bytes> {
        match (&self.body, &self.progress) {
            (Body::Bytes(bytes), None) => Some(bytes.clone()),
            _ => None,
        }
    }

    /// The whole body in memory (for backends that cannot stream; avoid for large payloads).
    pub async fn body_bytes(&self) -> std::io::Result<Bytes> {
        match &self.body {
            Body::Bytes(bytes) => Ok(bytes.clone()),
            Body::File(path) => tokio::fs::read(path).await.map(Bytes::from),
        }
    }
}

/// The characters Windows refuses in a file name (besides `/`, `\` and controls): a `:`
/// would also make a drive-relative path (`C:x`) or an alternate data stream (`a:stream`).
const WINDOWS_RESERVED: &[char] = &['<', '>', ':', '"', '|', '?', '*'];

/// Whether `name` is a Windows device name (`CON`, `PRN`, `AUX`, `NUL`, `COM0`..`COM9`,
/// `LPT0`..`LPT9`, also with superscript digits), in any case and with any extension
/// (`nul.txt`) or trailing spaces and dots: opening such a name opens the device.
pub(crate) fn is_windows_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.trim_end_matches([' ', '.']).to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let (prefix, digit) = (stem.get(..3), stem.get(3..));
            matches!(prefix, Some("COM" | "LPT"))
                && matches!(digit, Some(d) if d.len() == 1 && d.as_bytes()[0].is_ascii_digit()
                    || matches!(d, "\u{b9}" | "\u{b2}" | "\u{b3}"))
        }
    }
}

/// Why `name` cannot be one file name on every platform (`None` when it can): a Windows
/// reserved character (`<>:"|?*`), a device name, or a trailing space or dot (which
/// Windows drops, so that `a.` and `a` are one file).
// Used by the file server; a build without it (the bench's) keeps it for the tests.
#[cfg_attr(not(feature = "file-server"), allow(dead_code))]
pub(crate) fn portable_name_problem(name: &str) -> Option<String> {
    if let Some(bad) = name.chars().find(|c| WINDOWS_RESERVED.contains(c)) {
        return Some(format!(
            "name {name:?} holds {bad:?}, which Windows refuses (a drive or a stream)"
        ));
    }
    if is_windows_device_name(name) {
        return Some(format!("name {name:?} is a Windows device name"));
    }
    if name.ends_with([' ', '.']) {
        return Some(format!("name {name:?} ends with a space or a dot"));
    }
    None
}

/// The file name a dataname gets on a file server and in `natsbridge listen`'s folder: `/`,
/// `\`, control characters and the characters Windows refuses (`<>:"|?*`) become `_`, as do
/// leading dots (servers refuse hidden and parent names) and trailing spaces and dots; a
/// Windows device name (`CON`, `nul.txt`, `COM1`) gets a leading `_`; an empty name becomes
/// `payload`. So the name is one plain file name on every platform. The envelope keeps the
/// dataname itself; the URL is only an address.
pub fn link_file_name(dataname: &str) -> String {
    let mut name: String = dataname
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\') || c.is_control() || WINDOWS_RESERVED.contains(&c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let dots = name.len() - name.trim_start_matches('.').len();
    name.replace_range(..dots, &"_".repeat(dots));
    let kept = name.trim_end_matches([' ', '.']).len();
    let trailing = name.len() - kept;
    name.replace_range(kept.., &"_".repeat(trailing));
    if is_windows_device_name(&name) {
        name.insert(0, '_');
    }
    if name.is_empty() {
        "payload".to_owned()
    } else {
        name
    }
}

/// Percent-encodes a dataname for use as one URL path segment (RFC 3986 unreserved
/// characters stay as they are).
pub fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Reverses [`encode_path_segment`]; `None` when the result is not UTF-8 or an escape is
/// malformed.
pub fn decode_path_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_file_names_are_plain_names() {
        assert_eq!(link_file_name("photo.png"), "photo.png");
        assert_eq!(link_file_name("../a/b"), "___a_b");
        assert_eq!(link_file_name(".env"), "_env");
        assert_eq!(link_file_name("back\\slash"), "back_slash");
        assert_eq!(link_file_name("tab\there"), "tab_here");
        assert_eq!(link_file_name("say \"hi\""), "say _hi_");
        assert_eq!(link_file_name(""), "payload");
    }

    #[test]
    fn windows_drive_stream_and_device_names_become_plain_names() {
        for (dataname, want) in [
            ("C:x", "C_x"),
            ("C:\\Windows\\x", "C__Windows_x"),
            ("a:stream", "a_stream"),
            ("CON", "_CON"),
            ("nul.txt", "_nul.txt"),
            ("Com1.tar.gz", "_Com1.tar.gz"),
            ("lpt9", "_lpt9"),
            ("COM\u{b9}", "_COM\u{b9}"),
            ("console", "console"),
            ("COM10", "COM10"),
            ("a?b*c|d<e>f", "a_b_c_d_e_f"),
            ("trailing. ", "trailing__"),
            ("AUX .txt", "_AUX .txt"),
        ] {
            let name = link_file_name(dataname);
            assert_eq!(name, want, "{dataname:?}");
            assert_eq!(
                portable_name_problem(&name),
                None,
                "{dataname:?} -> {name:?}"
            );
        }
        for bad in [
            "C:x", "a:stream", "CON", "nul.txt", "coM1", "x.", "x ", "a|b",
        ] {
            assert!(portable_name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn path_segments_round_trip_and_never_hold_a_slash() {
        for name in ["photo.png", "a b/../c?.txt", "ünïcødé 🐱", "%41", ""] {
            let encoded = encode_path_segment(name);
            assert!(
                !encoded.contains('/') && !encoded.contains(' '),
                "{encoded}"
            );
            assert_eq!(decode_path_segment(&encoded).as_deref(), Some(name));
        }
        assert_eq!(decode_path_segment("%4"), None);
        assert_eq!(decode_path_segment("%ff"), None);
    }
}
