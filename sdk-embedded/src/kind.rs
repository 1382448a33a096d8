//! The [`ErrorKind`] (the schema's x-error-kinds, the same names in every SDK) of the client,
//! HTTP and link errors, so an application can report or match any failure by one name.

use crate::ErrorKind;
use crate::client;
use crate::http::HttpError;
use crate::link::LinkError;

impl<E> client::Error<E> {
    /// The shared kind: `io` for the transport, `nats` when the server closed the connection
    /// or lacks headers, `protocol`, `connect` for a refused handshake, `timeout` for a stale
    /// connection, `too_large`, `invalid_input`, `over_capacity` for the send buffer.
    pub fn kind(&self) -> ErrorKind {
        match self {
            client::Error::Transport(_) => ErrorKind::Io,
            client::Error::Closed | client::Error::HeadersNotSupported => ErrorKind::Nats,
            client::Error::Protocol(_) => ErrorKind::Protocol,
            client::Error::Server(_) => ErrorKind::Connect,
            client::Error::StaleConnection => ErrorKind::Timeout,
            client::Error::PayloadTooLarge { .. } => ErrorKind::TooLarge,
            client::Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            client::Error::SendBufferTooSmall { .. } => ErrorKind::OverCapacity,
        }
    }
}

impl HttpError {
    /// The shared kind: `invalid_input` for a bad URL, `connect`, `io`, `download` for an
    /// HTTP status (an upload's failures are `upload`, see [`crate::smart::SendError::kind`]),
    /// `protocol` for a response this client cannot read, `over_capacity` for the work buffer.
    pub fn kind(&self) -> ErrorKind {
        match self {
            HttpError::BadUrl => ErrorKind::InvalidInput,
            HttpError::Connect(_) => ErrorKind::Connect,
            HttpError::Transport(_) => ErrorKind::Io,
            HttpError::Status(_) => ErrorKind::Download,
            HttpError::BadResponse(_) => ErrorKind::Protocol,
            HttpError::WorkBufferTooSmall { .. } => ErrorKind::OverCapacity,
        }
    }
}

impl LinkError {
    /// The shared kind: that of the HTTP failure, `size_mismatch`, `checksum_mismatch`,
    /// `bad_value` for checksum metadata, `io` for the sink, `upload` for the file server's
    /// answer or a missing file server, `invalid_input` for a data name, `link_refused` for a
    /// host not allowed or an Object Store link given to the HTTP path, `too_large`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LinkError::Http(e) => e.kind(),
            LinkError::SizeMismatch { .. } => ErrorKind::SizeMismatch,
            LinkError::ChecksumMismatch => ErrorKind::ChecksumMismatch,
            LinkError::BadChecksum => ErrorKind::BadValue,
            LinkError::Sink(_) => ErrorKind::Io,
            LinkError::BadAnswer(_) | LinkError::NoFileServer => ErrorKind::Upload,
            LinkError::BadName => ErrorKind::InvalidInput,
            LinkError::HostNotAllowed | LinkError::ObjectStoreLink => ErrorKind::LinkRefused,
            LinkError::TooLarge { .. } => ErrorKind::TooLarge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_use_the_schema_names() {
        assert_eq!(LinkError::HostNotAllowed.kind().as_str(), "link_refused");
        assert_eq!(
            LinkError::Http(HttpError::Status(503)).kind().as_str(),
            "download"
        );
        assert_eq!(
            client::Error::<()>::PayloadTooLarge {
                size: 2,
                max_payload: 1
            }
            .kind()
            .as_str(),
            "too_large"
        );
    }
}
