//! The one error type of the crate: a kind a caller can match on, the place at fault (a
//! field such as `payloads[0].size`, a payload's dataname, a URL) and a sentence for people.

use std::fmt;

/// What went wrong, as a caller would branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The message body is not UTF-8 JSON.
    NotJson,
    /// The message is not a JSON object.
    NotObject,
    /// A key without a default is missing.
    MissingKey,
    /// A key has the wrong JSON type.
    WrongType,
    /// A closed enumeration has a value it does not know, or a payload's data does not parse
    /// as its type (a `text` that is not UTF-8, a `dictionary` that is not JSON).
    BadValue,
    /// A direct payload's `data` is not valid standard base64.
    BadBase64,
    /// A payload's data is not `size` bytes long (direct, or a downloaded link body).
    SizeMismatch,
    /// A downloaded link payload does not have the checksum its envelope names.
    ChecksumMismatch,
    /// The caller gave something that cannot be sent (an empty subject, a dictionary that is
    /// not a JSON object or array, a Arrow table that does not serialize).
    InvalidInput,
    /// The envelope would be larger than the server's `max_payload` and no link backend is
    /// configured to move payloads out of it (nothing was published); or a received link
    /// payload declares a `size` above the receiver's download cap (nothing was fetched).
    TooLarge,
    /// Connecting to the NATS server failed (address, auth, TLS).
    Connect,
    /// Publishing, subscribing or flushing on NATS failed.
    Nats,
    /// JetStream refused or did not acknowledge (no stream for the subject, a consumer error).
    JetStream,
    /// No reply arrived in time for a request, or no responder listens on its subject.
    Timeout,
    /// Uploading a link payload failed; nothing was published.
    Upload,
    /// Downloading a link payload failed for good (404, 403, or transient failures on every
    /// retry). The place is the URL.
    Download,
    /// Reading or writing a local file failed.
    Io,
    /// A link the receiver does not fetch: a scheme other than http, https and
    /// nats-object-store, a host that is not allowed, or a redirect. The place is the URL.
    LinkRefused,
    /// A publish while disconnected from NATS would exceed the client's reconnect buffer.
    /// Nothing was buffered.
    ReconnectBufferFull,
}

impl ErrorKind {
    /// The stable name used by every SDK and by the golden messages (`tests/golden/README.md`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotJson => "not_json",
            ErrorKind::NotObject => "not_object",
            ErrorKind::MissingKey => "missing_key",
            ErrorKind::WrongType => "wrong_type",
            ErrorKind::BadValue => "bad_value",
            ErrorKind::BadBase64 => "bad_base64",
            ErrorKind::SizeMismatch => "size_mismatch",
            ErrorKind::ChecksumMismatch => "checksum_mismatch",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Connect => "connect",
            ErrorKind::Nats => "nats",
            ErrorKind::JetStream => "jetstream",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Upload => "upload",
            ErrorKind::Download => "download",
            ErrorKind::Io => "io",
            ErrorKind::LinkRefused => "link_refused",
            ErrorKind::ReconnectBufferFull => "reconnect_buffer_full",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of this crate.
///
/// ```
/// use natsbridge::{ErrorKind, MessageEnvelope};
///
/// let error = MessageEnvelope::from_json(br#"{"payloads":[{"dataname":1}]}"#).unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::WrongType);
/// assert_eq!(error.at(), "payloads[0].dataname");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    at: String,
    message: String,
}

impl Error {
    /// An error of `kind` at the place `at` (`""` for the whole message).
    pub fn new(kind: ErrorKind, at: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind,
            at: at.into(),
            message: message.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Where: a place in the message as `payloads[0].size` with canonical key names, a
    /// payload as `payload "photo.png"`, or a URL; `""` for the whole message.
    pub fn at(&self) -> &str {
        &self.at
    }

    /// The sentence that describes the error, without the place.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{} ({})", self.message, self.kind)
        } else {
            write!(f, "{}: {} ({})", self.at, self.message, self.kind)
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Prefixes the place with `context` (`payload "a.png"` + `https://...`).
    pub(crate) fn within(mut self, context: &str) -> Self {
        self.at = if self.at.is_empty() {
            context.to_owned()
        } else {
            format!("{context}: {}", self.at)
        };
        self
    }
}
