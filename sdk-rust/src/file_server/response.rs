//! The responses the file server sends: short texts, JSON documents and streamed files,
//! every one with a `Content-Length`.

use std::io;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use tokio_util::io::ReaderStream;

/// The body of every response: bytes in memory or a file read as it is sent.
pub type Body = UnsyncBoxBody<Bytes, io::Error>;

/// How many bytes of a file are read at a time while it is sent.
const READ_CHUNK_BYTES: usize = 256 * 1024;

/// After refusing an upload as too large, how much more of its body is read and thrown
/// away so that the client, still sending, gets to read the 413 instead of a reset.
pub const DRAIN_AFTER_REFUSAL_BYTES: u64 = 16 * 1024 * 1024;

/// A request the server will not carry out: the status and a sentence naming what was wrong.
#[derive(Debug)]
pub struct Refusal {
    /// The HTTP status to answer with.
    pub status: StatusCode,
    /// What was wrong, naming the path, header or field at fault.
    pub message: String,
    /// Close the connection after answering (the request body was left unread).
    pub close: bool,
}

impl Refusal {
    /// A refusal with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            close: false,
        }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: nothing is stored there.
    pub fn not_found(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::NOT_FOUND, message)
    }

    /// 500: the disk failed us; the message names the path.
    pub fn storage(what: &str, error: &io::Error) -> Refusal {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not {what}: {error}"),
        )
    }

    /// The refusal as a plain-text response.
    pub fn into_response(self) -> Response<Body> {
        let mut response = text(self.status, format!("{}\n", self.message));
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A response of `status` with a UTF-8 text body.
pub fn text(status: StatusCode, body: String) -> Response<Body> {
    in_memory(status, "text/plain; charset=utf-8", Bytes::from(body))
}

/// A response of `status` with a JSON body.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    in_memory(status, "application/json", Bytes::from(value.to_string()))
}

fn in_memory(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let length = body.len() as u64;
    let body = Full::new(body)
        .map_err(|never| match never {})
        .boxed_unsync();
    with_headers(status, content_type, length, body)
}

/// A `200 OK` that streams `file` (of `length` bytes); for `HEAD` only the headers.
pub fn file(file: tokio::fs::File, length: u64, head_only: bool) -> Response<Body> {
    let body = if head_only {
        Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed_unsync()
    } else {
        let frames = ReaderStream::with_capacity(file, READ_CHUNK_BYTES).map_ok(Frame::data);
        BodyExt::boxed_unsync(StreamBody::new(frames))
    };
    with_headers(StatusCode::OK, "application/octet-stream", length, body)
}

fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    length: u64,
    body: Body,
) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}
