//! The one error type of the crate: a kind a caller can match on, the place in the message
//! at fault (`payloads[0].size`) and a sentence for people.

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
    /// A closed enumeration has a value it does not know.
    BadValue,
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
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of this crate.
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

    /// Where in the message, as `payloads[0].size` with canonical key names; `""` for the whole
    /// message.
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
