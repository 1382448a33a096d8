//! A minimal HTTP/1.1 client for link payloads: one request per connection
//! (`Connection: close`), responses read into a small work buffer and bodies streamed in pieces.
//!
//! It speaks plain `http://` over whatever transport the caller's [`Connector`] opens (a TLS
//! stream works too, if the connector wraps one). Bodies with `Content-Length`, chunked
//! transfer encoding, or neither (read until the server closes) are understood.

use core::fmt;

use embedded_io_async::{Error as _, ErrorKind, Read, Write};

use crate::json::Writer;

/// Opens a fresh connection to `host:port` for each HTTP request; the board supplies it
/// (the `embassy-net` feature has one over `TcpSocket`; a TLS stream can be wrapped too).
#[allow(async_fn_in_trait)]
pub trait Connector {
    /// The connection it opens; it may borrow the connector (its socket buffers, say) until
    /// it is dropped.
    type Connection<'c>: Read + Write
    where
        Self: 'c;
    /// Why it could not connect.
    type Error: embedded_io_async::Error;
    /// Opens a connection to `host:port`.
    async fn connect(&mut self, host: &str, port: u16)
    -> Result<Self::Connection<'_>, Self::Error>;
}

/// A borrowed connector connects as the connector does: one connector can serve uploads
/// ([`HttpUploader`](crate::smart::HttpUploader)) and downloads
/// ([`Links`](crate::smart::Links)) in turn.
impl<C: Connector> Connector for &mut C {
    type Connection<'c>
        = C::Connection<'c>
    where
        Self: 'c;
    type Error = C::Error;

    async fn connect(
        &mut self,
        host: &str,
        port: u16,
    ) -> Result<Self::Connection<'_>, Self::Error> {
        (**self).connect(host, port).await
    }
}

/// Why an HTTP exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// The URL is not `http://host[:port]/path`.
    BadUrl,
    /// Opening the connection failed (transient: retried).
    Connect(ErrorKind),
    /// Reading or writing failed, or the server closed the connection before the end of the
    /// body (transient: retried).
    Transport(ErrorKind),
    /// The server answered with this status code (5xx and 429 are transient, the others are
    /// not).
    Status(u16),
    /// The response is not HTTP/1.x as this client understands it (what was wrong).
    BadResponse(&'static str),
    /// The work buffer cannot hold the request line and headers, or the response head.
    WorkBufferTooSmall {
        /// Its capacity, in bytes.
        capacity: usize,
    },
}

impl HttpError {
    /// Whether trying again may succeed (connection errors, 5xx, 429).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Connect(_) | HttpError::Transport(_) => true,
            HttpError::Status(code) => *code >= 500 || *code == 429,
            _ => false,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadUrl => f.write_str("not an http://host[:port]/path URL"),
            HttpError::Connect(kind) => write!(f, "cannot connect: {kind:?}"),
            HttpError::Transport(kind) => write!(f, "connection failed: {kind:?}"),
            HttpError::Status(code) => write!(f, "server answered HTTP {code}"),
            HttpError::BadResponse(what) => write!(f, "malformed HTTP response: {what}"),
            HttpError::WorkBufferTooSmall { capacity } => {
                write!(f, "HTTP work buffer of {capacity} bytes is too small")
            }
        }
    }
}

impl core::error::Error for HttpError {}

/// The parts of an `http://` URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// Host name or address, without brackets or port.
    pub host: &'a str,
    /// Port (80 when the URL gives none).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: &'a str,
}

impl<'a> Url<'a> {
    /// Parses `http://host[:port][/path]`; anything else is [`HttpError::BadUrl`].
    pub fn parse(url: &'a str) -> Result<Url<'a>, HttpError> {
        let scheme_len = "http://".len();
        let rest = match (url.get(..scheme_len), url.get(scheme_len..)) {
            (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("http://") => rest,
            _ => return Err(HttpError::BadUrl),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| HttpError::BadUrl)?),
            None => (authority, 80),
        };
        // No space or control character anywhere (it would end the request line and start
        // another request); a host of name characters only: no `user@`, no backslash, so the
        // host checked is the host contacted. Port 0 is no port.
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        if !host_ok || port == 0 || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(HttpError::BadUrl);
        }
        Ok(Url { host, port, path })
    }
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading the hex size line; `in_extension` after a `;`, `cr` after its `\r`.
    Size {
        size: u64,
        digits: u8,
        in_extension: bool,
        cr: bool,
    },
    Data(u64),
    DataEnd {
        cr: bool,
    },
    /// Trailer lines until an empty one; `line` bytes seen on the current line.
    Trailers {
        line: usize,
    },
    Done,
}

const CHUNK_SIZE_START: Chunk = Chunk::Size {
    size: 0,
    digits: 0,
    in_extension: false,
    cr: false,
};

/// Sends one request on a fresh connection and reads the response head; the body is read
/// with [`Response::next_piece`].
///
/// `headers` are extra request headers; `body` pieces are sent one after the other with their
/// total as `Content-Length` (no body and no `Content-Length` when `body` is `None`). The head
/// and the leading pieces that fit `work` with it are one write; the rest are written straight
/// from their slices.
pub async fn request<'w, 'c, C: Connector>(
    connector: &'c mut C,
    work: &'w mut [u8],
    method: &str,
    url: &Url<'_>,
    headers: &[(&str, &str)],
    body: Option<&[&[u8]]>,
) -> Result<Response<'w, C::Connection<'c>>, HttpError> {
    let mut connection = connector
        .connect(url.host, url.port)
        .await
        .map_err(|e| HttpError::Connect(e.kind()))?;
    let capacity = work.len();
    let too_small = |_| HttpError::WorkBufferTooSmall { capacity };
    let mut w = Writer::new(work);
    w.raw(method).map_err(too_small)?;
    w.raw(" ").map_err(too_small)?;
    write_target(&mut w, url.path).map_err(too_small)?;
    w.raw(" HTTP/1.1\r\nHost: ").map_err(too_small)?;
    w.raw(url.host).map_err(too_small)?;
    if url.port != 80 {
        w.raw(":").map_err(too_small)?;
        w.unsigned(u64::from(url.port)).map_err(too_small)?;
    }
    w.raw("\r\nConnection: close\r\nUser-Agent: natsbridge-embedded\r\n")
        .map_err(too_small)?;
    for (name, value) in headers {
        w.raw(name).map_err(too_small)?;
        w.raw(": ").map_err(too_small)?;
        w.raw(value).map_err(too_small)?;
        w.raw("\r\n").map_err(too_small)?;
    }
    if let Some(pieces) = body {
        let total: usize = pieces.iter().map(|p| p.len()).sum();
        w.raw("Content-Length: ").map_err(too_small)?;
        w.unsigned(total as u64).map_err(too_small)?;
        w.raw("\r\n").map_err(too_small)?;
    }
    w.raw("\r\n").map_err(too_small)?;
    let head_len = w.len();
    let io = |e: <C::Connection<'c> as embedded_io_async::ErrorType>::Error| {
        HttpError::Transport(e.kind())
    };
    // The head and the leading body pieces that fit the work buffer go out in one write;
    // pieces after the first that does not fit are written straight from the caller's slices.
    let pieces = body.unwrap_or_default();
    let mut filled = head_len;
    let mut copied = 0;
    for piece in pieces {
        let Some(slot) = work.get_mut(filled..filled + piece.len()) else {
            break;
        };
        slot.copy_from_slice(piece);
        filled += piece.len();
        copied += 1;
    }
    connection.write_all(&work[..filled]).await.map_err(io)?;
    for piece in pieces.get(copied..).unwrap_or_default() {
        connection.write_all(piece).await.map_err(io)?;
    }
    connection.flush().await.map_err(io)?;
    Response::read_head(connection, work, method.eq_ignore_ascii_case("HEAD")).await
}

/// Writes the request target: the fragment left out (it is never sent), non-ASCII bytes and
/// those RFC 3986 does not allow raw (`"<>\\^`{|}`) percent-encoded.
fn write_target(w: &mut Writer<'_>, path: &str) -> Result<(), crate::json::BufferFull> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let path = path.split('#').next().unwrap_or_default();
    let mut start = 0;
    for (i, &byte) in path.as_bytes().iter().enumerate() {
        if byte >= 0x80 || b"\"<>\\^`{|}".contains(&byte) {
            // Plain runs start and end at character boundaries (after an escaped byte that
            // ended its character, before one that starts a character).
            w.raw(path.get(start..i).unwrap_or_default())?;
            let escape = [
                b'%',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ];
            w.raw(core::str::from_utf8(&escape).unwrap_or_default())?;
            start = i + 1;
        }
    }
    w.raw(path.get(start..).unwrap_or_default())
}

/// A response whose head has been read; its body comes in pieces from
/// [`next_piece`](Self::next_piece).
pub struct Response<'w, T> {
    connection: T,
    work: &'w mut [u8],
    pos: usize,
    end: usize,
    framing: Framing,
    /// The status code.
    pub status: u16,
    /// The `Content-Length`, when the server sent one.
    pub content_length: Option<u64>,
}

impl<'w, T: Read + Write> Response<'w, T> {
    async fn read_head(
        connection: T,
        work: &'w mut [u8],
        head_only: bool,
    ) -> Result<Self, HttpError> {
        let mut response = Response {
            connection,
            work,
            pos: 0,
            end: 0,
            framing: Framing::UntilClose,
            status: 0,
            content_length: None,
        };
        let head_end = loop {
            let filled = response.work.get(..response.end).unwrap_or_default();
            if let Some(i) = filled.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if !response.fill().await? {
                return Err(HttpError::Transport(ErrorKind::ConnectionAborted));
            }
        };
        let head = core::str::from_utf8(&response.work[..head_end])
            .map_err(|_| HttpError::BadResponse("head is not UTF-8"))?;
        // Split at '\n' and trimmed of ASCII blanks ('\r' too): smaller code than a string
        // pattern and Unicode trimming.
        let mut lines = head.split('\n').map(str::trim_ascii);
        let status_line = lines.next().unwrap_or_default();
        let mut words = status_line.split(' ');
        let version = words.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(HttpError::BadResponse("no HTTP/1.x status line"));
        }
        let status: u16 = words
            .next()
            .and_then(|code| code.parse().ok())
            .ok_or(HttpError::BadResponse("no status code"))?;
        let mut chunked = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim_ascii(), value.trim_ascii());
            if name.eq_ignore_ascii_case("content-length") {
                let length = value
                    .parse()
                    .map_err(|_| HttpError::BadResponse("bad Content-Length"))?;
                response.content_length = Some(length);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
                if !chunked {
                    return Err(HttpError::BadResponse("unsupported Transfer-Encoding"));
                }
            }
        }
        response.status = status;
        response.pos = head_end;
        response.framing = if head_only || status == 204 || status == 304 {
            Framing::Length(0)
        } else if chunked {
            Framing::Chunked(CHUNK_SIZE_START)
        } else if let Some(length) = response.content_length {
            Framing::Length(length)
        } else {
            Framing::UntilClose
        };
        Ok(response)
    }

    /// The next piece of the body, `None` at its end. Pieces are at most the work buffer long.
    pub async fn next_piece(&mut self) -> Result<Option<&[u8]>, HttpError> {
        let range = loop {
            if self.pos == self.end {
                if self.is_done() {
                    return Ok(None);
                }
                self.pos = 0;
                self.end = 0;
                if !self.fill().await? {
                    if self.framing == Framing::UntilClose {
                        return Ok(None);
                    }
                    return Err(HttpError::Transport(ErrorKind::ConnectionAborted));
                }
            }
            if let Some(range) = self.take()? {
                break range;
            }
        };
        Ok(Some(&self.work[range]))
    }

    /// Reads the whole body into the work buffer (for small JSON answers).
    pub async fn read_to_end(&mut self) -> Result<&[u8], HttpError> {
        // Move what is buffered of the body to the front, then keep reading behind it.
        let mut len = 0;
        loop {
            let capacity = self.work.len();
            let Some(range) = self.next_range().await? else {
                break;
            };
            let n = range.len();
            if len + n > capacity {
                return Err(HttpError::WorkBufferTooSmall { capacity });
            }
            self.work.copy_within(range, len);
            len += n;
            // Later reads must not overwrite what has been collected.
            if self.pos == self.end {
                self.pos = len;
                self.end = len;
            }
        }
        Ok(&self.work[..len])
    }

    async fn next_range(&mut self) -> Result<Option<core::ops::Range<usize>>, HttpError> {
        loop {
            if self.pos == self.end {
                if self.is_done() {
                    return Ok(None);
                }
                if self.end == self.work.len() {
                    return Err(HttpError::WorkBufferTooSmall {
                        capacity: self.work.len(),
                    });
                }
                if !self.fill().await? {
                    if self.framing == Framing::UntilClose {
                        return Ok(None);
                    }
                    return Err(HttpError::Transport(ErrorKind::ConnectionAborted));
                }
            }
            if let Some(range) = self.take()? {
                return Ok(Some(range));
            }
        }
    }

    fn is_done(&self) -> bool {
        matches!(
            self.framing,
            Framing::Length(0) | Framing::Chunked(Chunk::Done)
        )
    }

    /// Reads more bytes behind `end`; `false` when the server closed the connection.
    async fn fill(&mut self) -> Result<bool, HttpError> {
        let free = self.work.get_mut(self.end..).unwrap_or_default();
        if free.is_empty() {
            return Err(HttpError::WorkBufferTooSmall {
                capacity: self.work.len(),
            });
        }
        let n = self
            .connection
            .read(free)
            .await
            .map_err(|e| HttpError::Transport(e.kind()))?;
        self.end += n;
        Ok(n > 0)
    }

    /// Takes body bytes from the buffered `pos..end`, stepping the framing; `None` when only
    /// framing bytes were consumed.
    fn take(&mut self) -> Result<Option<core::ops::Range<usize>>, HttpError> {
        let available = self.end - self.pos;
        match &mut self.framing {
            Framing::UntilClose => {
                let range = self.pos..self.end;
                self.pos = self.end;
                Ok(Some(range))
            }
            Framing::Length(remaining) => {
                let n = available.min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                *remaining -= n as u64;
                let range = self.pos..self.pos + n;
                self.pos += n;
                if *remaining == 0 {
                    // Bytes beyond Content-Length are ignored (the connection closes anyway).
                    self.pos = self.end;
                }
                Ok(Some(range))
            }
            Framing::Chunked(chunk) => {
                if let Chunk::Data(remaining) = chunk {
                    let n = available.min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    *remaining -= n as u64;
                    if *remaining == 0 {
                        *chunk = Chunk::DataEnd { cr: false };
                    }
                    let range = self.pos..self.pos + n;
                    self.pos += n;
                    return Ok(Some(range));
                }
                while self.pos < self.end && !matches!(chunk, Chunk::Data(_) | Chunk::Done) {
                    let byte = self.work[self.pos];
                    self.pos += 1;
                    *chunk = chunk_step(*chunk, byte)?;
                }
                if *chunk == Chunk::Done {
                    self.pos = self.end;
                }
                Ok(None)
            }
        }
    }
}

/// One byte of chunked framing (outside chunk data).
fn chunk_step(chunk: Chunk, byte: u8) -> Result<Chunk, HttpError> {
    let bad = HttpError::BadResponse("malformed chunked encoding");
    Ok(match chunk {
        Chunk::Size {
            cr: true,
            size,
            digits,
            ..
        } => {
            if byte != b'\n' || digits == 0 {
                return Err(bad);
            }
            if size == 0 {
                Chunk::Trailers { line: 0 }
            } else {
                Chunk::Data(size)
            }
        }
        Chunk::Size {
            size,
            digits,
            in_extension,
            ..
        } => match byte {
            b'\r' => Chunk::Size {
                size,
                digits,
                in_extension,
                cr: true,
            },
            _ if in_extension => chunk,
            b';' | b' ' | b'\t' => Chunk::Size {
                size,
                digits,
                in_extension: true,
                cr: false,
            },
            _ => {
                let digit = (byte as char).to_digit(16).ok_or(bad)?;
                let size = size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(u64::from(digit)))
                    .ok_or(bad)?;
                Chunk::Size {
                    size,
                    digits: digits.saturating_add(1),
                    in_extension,
                    cr: false,
                }
            }
        },
        Chunk::DataEnd { cr: false } if byte == b'\r' => Chunk::DataEnd { cr: true },
        Chunk::DataEnd { cr: true } if byte == b'\n' => CHUNK_SIZE_START,
        Chunk::DataEnd { .. } => return Err(bad),
        Chunk::Trailers { line } => match byte {
            b'\n' if line <= 1 => Chunk::Done,
            b'\n' => Chunk::Trailers { line: 0 },
            _ => Chunk::Trailers { line: line + 1 },
        },
        Chunk::Data(_) | Chunk::Done => chunk,
    })
}
