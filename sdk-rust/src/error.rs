//! The one error type of the crate: a kind a caller can match on, the place at fault (a
//! field such as `payloads[0].size`, a payload's dataname, a URL) and a sentence for people.

use std::fmt;

use crate::ErrorKind;

impl ErrorKind {
    /// The name of [`ErrorKind::Jetstream`] before the kinds were generated from the schema
    /// (PascalCase of `jetstream`); kept so that older code compiles.
    #[allow(non_upper_case_globals)]
    #[deprecated(note = "use ErrorKind::Jetstream, the schema's `jetstream` in PascalCase")]
    pub const JetStream: ErrorKind = ErrorKind::Jetstream;
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
