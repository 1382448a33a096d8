//! The one error type of the crate: a kind a caller can match on, the place at fault (typed:
//! a field, a payload, a URL, a subject, ...), a sentence for people and the underlying cause.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::ErrorKind;

impl ErrorKind {
    /// The name of [`ErrorKind::Jetstream`] before the kinds were generated from the schema
    /// (PascalCase of `jetstream`); kept so that older code compiles.
    #[allow(non_upper_case_globals)]
    #[deprecated(note = "use ErrorKind::Jetstream, the schema's `jetstream` in PascalCase")]
    pub const JetStream: ErrorKind = ErrorKind::Jetstream;
}

/// Where an [`Error`] is. [`Error::at`] prints it: a field path or name as it is, a payload
/// as `payload "photo.png"`, a URL, subject, consumer or file as it is, the whole message as
/// `""`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// The whole message, or nothing more precise.
    Message,
    /// An envelope field as `payloads[0].size` (canonical key names), or an argument or
    /// option named as the envelope names it (`reply_to`, `headers`).
    Field(String),
    /// A payload, by its dataname.
    Payload(String),
    /// A URL: a link payload's, a file server's, a NATS server's.
    Url(String),
    /// A NATS subject.
    Subject(String),
    /// A JetStream consumer as `STREAM/DURABLE`.
    Consumer(String),
    /// A local file or directory.
    File(PathBuf),
    /// A place given as text to [`Error::new`].
    Other(String),
}

impl Place {
    /// The field (path) `path`.
    pub fn field(path: impl Into<String>) -> Self {
        Place::Field(path.into())
    }

    /// The payload named `dataname`.
    pub fn payload(dataname: impl Into<String>) -> Self {
        Place::Payload(dataname.into())
    }

    /// The URL `url`.
    pub fn url(url: impl Into<String>) -> Self {
        Place::Url(url.into())
    }

    /// The NATS subject `subject`.
    pub fn subject(subject: impl Into<String>) -> Self {
        Place::Subject(subject.into())
    }

    fn render(&self) -> String {
        match self {
            Place::Message => String::new(),
            Place::Payload(dataname) => format!("payload {dataname:?}"),
            Place::File(path) => path.display().to_string(),
            Place::Field(text)
            | Place::Url(text)
            | Place::Subject(text)
            | Place::Consumer(text)
            | Place::Other(text) => text.clone(),
        }
    }
}

/// An error of this crate: [`kind`](Self::kind) to match on, [`place`](Self::place) (printed
/// by [`at`](Self::at)), [`payload`](Self::payload) when one payload is concerned, a
/// [`message`](Self::message) and, for failures of the layers underneath (async-nats,
/// HTTP, I/O, JSON), the underlying error as [`source`](StdError::source).
///
/// `Display` prints the place, the message and the kind, not the source: print the chain
/// (`{:#}` with anyhow or eyre) to see the cause too.
///
/// ```
/// use natsbridge::{ErrorKind, MessageEnvelope, Place};
///
/// let error = MessageEnvelope::from_json(br#"{"payloads":[{"dataname":1}]}"#).unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::WrongType);
/// assert_eq!(error.place(), &Place::Field("payloads[0].dataname".into()));
/// assert_eq!(error.at(), "payloads[0].dataname");
///
/// let error = MessageEnvelope::from_json(b"{").unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::NotJson);
/// let cause = std::error::Error::source(&error).unwrap();
/// assert!(cause.downcast_ref::<natsbridge::serde_json::Error>().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct Error {
    /// Boxed: a `Result<T, Error>` stays one pointer larger than `T`.
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    place: Place,
    at: String,
    payload: Option<String>,
    message: String,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` at the place `at`, given as text (`""` for the whole message);
    /// [`Error::located`] takes a typed [`Place`].
    pub fn new(kind: ErrorKind, at: impl Into<String>, message: impl Into<String>) -> Self {
        let at = at.into();
        let place = if at.is_empty() {
            Place::Message
        } else {
            Place::Other(at)
        };
        Error::located(kind, place, message)
    }

    /// An error of `kind` at `place`.
    pub fn located(kind: ErrorKind, place: Place, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                at: place.render(),
                payload: None,
                place,
                message: message.into(),
                source: None,
            }),
        }
    }

    /// An error of `kind` at the envelope field (path) or option `path`.
    pub fn field(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::located(kind, Place::Field(path.into()), message)
    }

    /// An error of `kind` at `url`.
    pub fn url(kind: ErrorKind, url: impl Into<String>, message: impl Into<String>) -> Self {
        Error::located(kind, Place::Url(url.into()), message)
    }

    /// An error of `kind` at the NATS subject `subject`.
    pub fn subject(
        kind: ErrorKind,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::located(kind, Place::Subject(subject.into()), message)
    }

    /// An error of `kind` about the payload `dataname`.
    pub fn payload_error(
        kind: ErrorKind,
        dataname: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::located(kind, Place::Payload(dataname.into()), message)
    }

    /// The same error caused by `source` (returned by [`source`](StdError::source)).
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }

    /// The same error caused by `source`, already boxed (`async_nats::Error`, `anyhow`'s
    /// `into()`).
    pub fn with_boxed_source(mut self, source: Box<dyn StdError + Send + Sync + 'static>) -> Self {
        self.inner.source = Some(Arc::from(source));
        self
    }

    /// The same error, about the payload `dataname` (its place unchanged).
    pub fn with_payload(mut self, dataname: impl Into<String>) -> Self {
        self.inner.payload = Some(dataname.into());
        self
    }

    /// The same error of a step for the payload `dataname` (an upload): the payload
    /// recorded and named at the start of the message, unless it already is.
    pub(crate) fn about_payload(mut self, dataname: &str) -> Self {
        if self.payload().is_none() {
            self.inner.message = format!("payload {dataname:?}: {}", self.inner.message);
            self.inner.payload = Some(dataname.to_owned());
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Where, typed.
    pub fn place(&self) -> &Place {
        &self.inner.place
    }

    /// Where, printed: a place in the message as `payloads[0].size` with canonical key
    /// names, a payload as `payload "photo.png"`, a URL, a subject; `""` for the whole
    /// message.
    pub fn at(&self) -> &str {
        &self.inner.at
    }

    /// The dataname of the payload the error concerns, when it concerns one: the place
    /// itself, or a URL, field or file of that payload.
    pub fn payload(&self) -> Option<&str> {
        match &self.inner.place {
            Place::Payload(dataname) => Some(dataname),
            _ => self.inner.payload.as_deref(),
        }
    }

    /// The sentence that describes the error, without the place and without the source.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
}

/// Two errors are equal when kind, place, payload and message are; sources are not compared.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (
            self.inner.kind,
            &self.inner.place,
            &self.inner.payload,
            &self.inner.message,
        ) == (
            other.inner.kind,
            &other.inner.place,
            &other.inner.payload,
            &other.inner.message,
        )
    }
}

impl Eq for Error {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.at.is_empty() {
            write!(f, "{} ({})", self.inner.message, self.inner.kind)
        } else {
            write!(
                f,
                "{}: {} ({})",
                self.inner.at, self.inner.message, self.inner.kind
            )
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

impl Error {
    /// This error and its sources, `: `-separated (what anyhow's `{:#}` prints).
    pub fn display_chain(&self) -> String {
        let mut text = self.to_string();
        let mut next = self.source();
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_is_the_cause_and_the_chain_prints_it_once() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let error = Error::located(
            ErrorKind::Io,
            Place::File("/x/y".into()),
            "cannot write the payload",
        )
        .with_source(io)
        .with_payload("a.bin");
        assert_eq!(error.at(), "/x/y");
        assert_eq!(error.payload(), Some("a.bin"));
        let cause = error.source().expect("a source");
        assert_eq!(
            cause.downcast_ref::<std::io::Error>().map(|e| e.kind()),
            Some(std::io::ErrorKind::PermissionDenied)
        );
        assert_eq!(
            error.display_chain(),
            "/x/y: cannot write the payload (io): denied"
        );
    }

    #[test]
    fn places_print_as_before() {
        let cases = [
            (Place::Message, ""),
            (Place::field("payloads[0].size"), "payloads[0].size"),
            (Place::payload("photo.png"), "payload \"photo.png\""),
            (
                Place::url("http://localhost:8080/a"),
                "http://localhost:8080/a",
            ),
            (Place::subject("chat.room1"), "chat.room1"),
        ];
        for (place, at) in cases {
            assert_eq!(Error::located(ErrorKind::Io, place, "m").at(), at);
        }
        assert_eq!(Error::new(ErrorKind::Io, "", "m").place(), &Place::Message);
        assert_eq!(
            Error::new(ErrorKind::Io, "x", "m").place(),
            &Place::Other("x".into())
        );
    }

    #[test]
    fn equality_ignores_the_source() {
        let a = Error::url(ErrorKind::Download, "http://h/x", "failed");
        let b = a.clone().with_source(std::io::Error::other("boom"));
        assert_eq!(a, b);
        assert_ne!(a, b.with_payload("p"));
    }
}
