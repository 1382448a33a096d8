//! A NATS client over any `embedded-io-async` transport, with buffers the caller provides:
//! connect, subscribe, publish, receive, answer PINGs, keep the connection alive.
//!
//! The client owns an already-connected transport (a TCP socket, a TLS stream, a test pipe)
//! and never allocates. When anything fails the connection is spent: drop the client, open a
//! new transport and call [`Client::connect`] again. Reconnecting is the caller's loop (see
//! `examples/reconnect.rs`), so the firmware decides how long to wait and what to
//! re-subscribe.

use core::fmt;

use embedded_io_async::{Read, Write};

use crate::json::{BufferFull, Reader, Writer};
use crate::protocol::{
    self, ConnectOptions, MAX_CONTROL_LINE, Msg, Parsed, ProtocolError, ServerOp,
};

/// The longest `-ERR` text the client keeps in [`Error::Server`]; longer texts are cut here.
pub const SERVER_ERROR_CAPACITY: usize = 64;

/// What can go wrong with a connection, and what it means for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// The transport failed. The connection is spent: reconnect.
    Transport(E),
    /// The server closed the connection (a read returned 0 bytes). Reconnect.
    Closed,
    /// The server sent bytes that are not the NATS protocol. Reconnect.
    Protocol(ProtocolError),
    /// The server answered the handshake with `-ERR` (such as `Authorization Violation`), or
    /// sent something other than `INFO` first. Fix the configuration before reconnecting.
    Server(heapless::String<SERVER_ERROR_CAPACITY>),
    /// Pings went unanswered for as long as the keepalive allows. Reconnect.
    StaleConnection,
    /// The message is larger than the server's `max_payload`; nothing was sent, the connection
    /// is fine.
    PayloadTooLarge {
        /// Bytes of headers and body that were to be sent.
        size: usize,
        /// The server's `max_payload`.
        max_payload: usize,
    },
    /// A subject, queue group or header is empty or holds whitespace or control characters;
    /// nothing was sent, the connection is fine.
    InvalidArgument(&'static str),
    /// The send buffer cannot hold a control line (or the headers) being written; nothing was
    /// sent, the connection is fine. Give the client a larger send buffer.
    SendBufferTooSmall {
        /// Its capacity, in bytes.
        capacity: usize,
    },
    /// The server does not support headers (`HPUB`); nothing was sent.
    HeadersNotSupported,
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport(e) => write!(f, "NATS transport failed: {e:?}"),
            Error::Closed => f.write_str("the NATS server closed the connection"),
            Error::Protocol(e) => write!(f, "{e}"),
            Error::Server(text) => write!(f, "the NATS server refused: {text}"),
            Error::StaleConnection => f.write_str("the NATS server stopped answering pings"),
            Error::PayloadTooLarge { size, max_payload } => write!(
                f,
                "message of {size} bytes is larger than the server's max_payload {max_payload}"
            ),
            Error::InvalidArgument(what) => write!(f, "invalid {what}"),
            Error::SendBufferTooSmall { capacity } => {
                write!(
                    f,
                    "send buffer of {capacity} bytes cannot hold the operation"
                )
            }
            Error::HeadersNotSupported => f.write_str("the NATS server does not support headers"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<ProtocolError> for Error<E> {
    fn from(error: ProtocolError) -> Self {
        Error::Protocol(error)
    }
}

impl<E> From<BufferFull> for Error<E> {
    fn from(full: BufferFull) -> Self {
        Error::SendBufferTooSmall {
            capacity: full.capacity,
        }
    }
}

/// What the server said about itself in `INFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerInfo {
    /// The largest message (headers and body) the server accepts; it closes the connection on
    /// a larger one, so [`Client::publish`] refuses those before sending.
    pub max_payload: usize,
    /// Whether the server supports headers (`HPUB`/`HMSG`).
    pub headers: bool,
}

impl Default for ServerInfo {
    fn default() -> Self {
        // The NATS server's defaults.
        ServerInfo {
            max_payload: crate::contract::DEFAULT_MAX_PAYLOAD as usize,
            headers: false,
        }
    }
}

impl ServerInfo {
    /// Reads the fields the client needs from the JSON of an `INFO` line; keeps the defaults
    /// for fields that are missing or malformed.
    #[must_use]
    pub fn from_json(json: &[u8]) -> ServerInfo {
        let mut info = ServerInfo::default();
        let mut reader = Reader::new(json);
        if reader.begin_object().is_err() {
            return info;
        }
        let mut key: heapless::String<16> = heapless::String::new();
        while let Ok(Some(_)) = reader.next_key(&mut key) {
            let read = match key.as_str() {
                "max_payload" => reader.unsigned().map(|n| {
                    info.max_payload = usize::try_from(n).unwrap_or(usize::MAX);
                }),
                "headers" => reader.boolean().map(|b| info.headers = b),
                _ => Err(crate::json::JsonError::Syntax { offset: 0 }),
            };
            if read.is_err() && reader.skip_value().is_err() {
                break;
            }
        }
        info
    }
}

/// Something the server delivered, returned by [`Client::next_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A message on one of our subscriptions, borrowing from the receive buffer.
    Message(Msg<'a>),
    /// A message too large for the receive buffer arrived; it is skipped whole (the stream
    /// stays in sync) and only its control line is reported.
    Oversized {
        /// The subject it was published on.
        subject: &'a str,
        /// The subscription it was delivered for.
        sid: u64,
        /// Its header and body bytes.
        size: usize,
    },
    /// The server reported an error with `-ERR` (a permissions violation, say). Most errors
    /// are followed by the server closing the connection, which the next call reports.
    ServerError(&'a str),
}

/// When to send keepalive pings: see [`Client::keepalive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Time between pings, in the caller's time unit (milliseconds, say).
    pub interval: u64,
    /// Pings that may go unanswered before the connection counts as stale.
    pub max_outstanding: u8,
}

impl Default for Keepalive {
    /// A ping every 30 000 units (30 s in milliseconds), stale after 2 unanswered pings.
    fn default() -> Self {
        Keepalive {
            interval: 30_000,
            max_outstanding: 2,
        }
    }
}

/// What the previous [`Client::next_event`] left for this one to do.
#[derive(Debug, Clone, Copy)]
enum Leftover {
    Nothing,
    /// The frame of the returned event: consume it.
    Frame(usize),
    /// An oversized frame of this many bytes starts at the receive position: skip it.
    Skip(usize),
}

/// A connected NATS client. `'buf` is the lifetime of the caller's buffers, `T` the transport.
///
/// Buffer sizing: the receive buffer must hold the largest message you want delivered
/// (control line + headers + body + 4 bytes; larger ones are reported as
/// [`Event::Oversized`] and skipped) and the server's `INFO` line during connect (about
/// 300 to 600 bytes on a single server; more when the server lists cluster URLs). The send
/// buffer must hold the longest control line (`HPUB` + subject + reply subject + 40 bytes)
/// plus headers, and the `CONNECT` line (about 200 bytes plus name and credentials). A
/// message whose whole frame (line, headers, body, `\r\n`) fits the send buffer is copied
/// there and handed to the transport in one write, so size it for your usual messages; a
/// larger one takes two or three writes (see [`Client::publish`]).
pub struct Client<'buf, T> {
    transport: T,
    rx: &'buf mut [u8],
    rx_start: usize,
    rx_end: usize,
    /// Bytes of an oversized frame still to be discarded, with the frame's length.
    skipping: Option<(usize, usize)>,
    leftover: Leftover,
    tx: &'buf mut [u8],
    info: ServerInfo,
    next_sid: u64,
    keepalive: Keepalive,
    next_ping_at: Option<u64>,
    pings_outstanding: u8,
    /// Bytes were written since the last flush: flush before waiting for the server.
    unflushed: bool,
}

impl<'buf, T: Read + Write> Client<'buf, T> {
    /// Performs the handshake on a freshly opened transport: reads `INFO`, sends `CONNECT`
    /// (with `verbose: false`, `pedantic: false`, `headers: true`, `no_responders: true` and
    /// the credentials of `options`) and a `PING`, and waits for the `PONG` that proves the
    /// server accepted us.
    pub async fn connect(
        transport: T,
        rx: &'buf mut [u8],
        tx: &'buf mut [u8],
        options: &ConnectOptions<'_>,
    ) -> Result<Self, Error<T::Error>> {
        let mut client = Client {
            transport,
            rx,
            rx_start: 0,
            rx_end: 0,
            skipping: None,
            leftover: Leftover::Nothing,
            tx,
            info: ServerInfo::default(),
            next_sid: 1,
            keepalive: Keepalive::default(),
            next_ping_at: None,
            pings_outstanding: 0,
            unflushed: false,
        };
        match client.next_control().await? {
            Control::Info(info) => client.info = info,
            _ => return Err(Error::Server(text_of("the server did not start with INFO"))),
        }
        let mut w = Writer::new(client.tx);
        protocol::write_connect(&mut w, options)?;
        protocol::write_ping(&mut w)?;
        let len = w.len();
        client.send_tx(len, None).await?;
        loop {
            match client.next_control().await? {
                Control::Pong => return Ok(client),
                Control::Error(text) => return Err(Error::Server(text)),
                Control::Info(info) => client.info = info,
                Control::Other => {}
            }
        }
    }

    /// What the server said about itself when we connected (or later, in a new `INFO`).
    #[must_use]
    pub fn server_info(&self) -> ServerInfo {
        self.info
    }

    /// Sets the keepalive schedule used by [`keepalive`](Self::keepalive).
    pub fn set_keepalive(&mut self, keepalive: Keepalive) {
        self.keepalive = keepalive;
    }

    /// Drives the keepalive with the caller's clock (`now` in the unit of [`Keepalive`]): the
    /// first call starts the clock, later ones send a `PING` once per interval and fails with [`Error::StaleConnection`] when
    /// `max_outstanding` pings went unanswered. Answers (`PONG`) are seen by
    /// [`next_event`](Self::next_event), so keep calling it.
    pub async fn keepalive(&mut self, now: u64) -> Result<(), Error<T::Error>> {
        let Some(due) = self.next_ping_at else {
            self.next_ping_at = Some(now.saturating_add(self.keepalive.interval));
            return Ok(());
        };
        if now < due {
            return Ok(());
        }
        if self.pings_outstanding >= self.keepalive.max_outstanding {
            return Err(Error::StaleConnection);
        }
        self.ping().await?;
        self.pings_outstanding += 1;
        self.next_ping_at = Some(now.saturating_add(self.keepalive.interval));
        Ok(())
    }

    /// Sends a `PING`; the `PONG` is consumed by [`next_event`](Self::next_event).
    pub async fn ping(&mut self) -> Result<(), Error<T::Error>> {
        let mut w = Writer::new(self.tx);
        protocol::write_ping(&mut w)?;
        let len = w.len();
        self.send_tx(len, None).await
    }

    /// Pings outstanding (sent by [`keepalive`](Self::keepalive) and not answered yet).
    #[must_use]
    pub fn pings_outstanding(&self) -> u8 {
        self.pings_outstanding
    }

    /// Subscribes to `subject` (wildcards allowed), optionally in a queue group, and returns
    /// the subscription id that [`Msg::sid`] will carry.
    pub async fn subscribe(
        &mut self,
        subject: &str,
        queue_group: Option<&str>,
    ) -> Result<u64, Error<T::Error>> {
        check(subject, "subject")?;
        if let Some(queue_group) = queue_group {
            check(queue_group, "queue group")?;
        }
        let sid = self.next_sid;
        let mut w = Writer::new(self.tx);
        protocol::write_sub(&mut w, subject, queue_group, sid)?;
        let len = w.len();
        self.send_tx(len, None).await?;
        self.next_sid += 1;
        Ok(sid)
    }

    /// Ends a subscription, at once or (`max_messages`) after that many more messages.
    pub async fn unsubscribe(
        &mut self,
        sid: u64,
        max_messages: Option<u64>,
    ) -> Result<(), Error<T::Error>> {
        let mut w = Writer::new(self.tx);
        protocol::write_unsub(&mut w, sid, max_messages)?;
        let len = w.len();
        self.send_tx(len, None).await
    }

    /// Publishes `payload` on `subject`. Fails with [`Error::PayloadTooLarge`] before sending
    /// anything when the payload exceeds the server's `max_payload`.
    ///
    /// Returns once the frame is handed to the transport: no flush and no server round trip
    /// (call [`flush`](Self::flush) for that). A frame that fits the send buffer is one
    /// write; a larger one is the line with the body's head, then the rest with the closing
    /// `\r\n` when that fits the buffer (two writes), else the body's middle straight from
    /// `payload` in between (three).
    pub async fn publish(
        &mut self,
        subject: &str,
        reply_to: Option<&str>,
        payload: &[u8],
    ) -> Result<(), Error<T::Error>> {
        check(subject, "subject")?;
        if let Some(reply_to) = reply_to {
            check(reply_to, "reply subject")?;
        }
        self.check_size(payload.len())?;
        let mut w = Writer::new(self.tx);
        protocol::write_pub(&mut w, subject, reply_to, payload.len())?;
        let len = w.len();
        self.send_tx(len, Some(payload)).await
    }

    /// Publishes with NATS headers (`HPUB`), such as `Nats-Msg-Id` for JetStream
    /// de-duplication. Names and values must not hold line breaks; names no `:` or spaces.
    pub async fn publish_with_headers(
        &mut self,
        subject: &str,
        reply_to: Option<&str>,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> Result<(), Error<T::Error>> {
        check(subject, "subject")?;
        if let Some(reply_to) = reply_to {
            check(reply_to, "reply subject")?;
        }
        if !self.info.headers {
            return Err(Error::HeadersNotSupported);
        }
        let mut headers_len = "NATS/1.0\r\n\r\n".len();
        for (name, value) in headers {
            check(name, "header name")?;
            if name.contains(':') || value.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(Error::InvalidArgument("header"));
            }
            headers_len += name.len() + 2 + value.len() + 2;
        }
        self.check_size(headers_len + payload.len())?;
        let mut w = Writer::new(self.tx);
        protocol::write_hpub(&mut w, subject, reply_to, headers_len, payload.len())?;
        w.raw("NATS/1.0\r\n")?;
        for (name, value) in headers {
            w.raw(name)?;
            w.raw(": ")?;
            w.raw(value)?;
            w.raw("\r\n")?;
        }
        w.raw("\r\n")?;
        let len = w.len();
        self.send_tx(len, Some(payload)).await
    }

    /// Waits until everything written so far has left: the transport's `flush` (embassy-net:
    /// until the server's TCP stack acknowledged every byte; a tokio stream writes straight
    /// into the kernel and has nothing to wait for).
    ///
    /// [`publish`](Self::publish), [`subscribe`](Self::subscribe) and the other writes hand
    /// their frame to the transport and return without flushing and without a server round
    /// trip, like async-nats `publish`: a burst of publishes costs no wait each. The client
    /// flushes by itself before it waits to read from the server (in
    /// [`next_event`](Self::next_event) and the handshake), so a buffering transport (a TLS
    /// stream) never holds a frame the server is waiting for. Call `flush` before closing the
    /// transport, or when a later step depends on the bytes having left.
    /// For proof that the server has *handled* them, publish to a subject of your own and
    /// wait for the message to come back (the server handles a connection in order).
    pub async fn flush(&mut self) -> Result<(), Error<T::Error>> {
        self.transport.flush().await.map_err(Error::Transport)?;
        self.unflushed = false;
        Ok(())
    }

    /// Waits for the next message (or oversized message, or server error) and returns it,
    /// answering server `PING`s and noting `PONG`s and new `INFO`s on the way.
    ///
    /// Cancel-safe when the transport's `read` is: nothing is consumed until a whole operation
    /// is in the buffer, so it can run in a `select` against a timer that drives
    /// [`keepalive`](Self::keepalive). The one exception: cancelled while writing the `PONG`
    /// that answers a server `PING` (6 bytes, normally written at once into the socket
    /// buffer), the answer may be lost and the server later closes the connection as stale.
    pub async fn next_event(&mut self) -> Result<Event<'_>, Error<T::Error>> {
        self.finish_leftover()?;
        let (start, len, oversized) = loop {
            match self.step()? {
                Step::Event { len, oversized } => break (self.rx_start, len, oversized),
                Step::Consumed(Control::Other) => {}
                Step::Consumed(Control::Info(info)) => self.info = info,
                Step::Consumed(Control::Pong) => self.pings_outstanding = 0,
                Step::Consumed(Control::Error(_)) => {}
                Step::Ping => self.pong().await?,
                Step::NeedMore => self.fill().await?,
            }
        };
        self.leftover = if oversized {
            Leftover::Skip(len)
        } else {
            Leftover::Frame(len)
        };
        let frame = self.rx.get(start..self.rx_end).unwrap_or_default();
        match protocol::parse(frame, self.control_line_limit())? {
            Parsed::Op {
                op: ServerOp::Msg(msg),
                ..
            } => Ok(Event::Message(msg)),
            Parsed::Op {
                op: ServerOp::Err(text),
                ..
            } => Ok(Event::ServerError(text)),
            Parsed::Incomplete {
                pending: Some(header),
            } => Ok(Event::Oversized {
                subject: header.subject,
                sid: header.sid,
                size: header.total_len,
            }),
            _ => Err(Error::Protocol(ProtocolError::UnknownOperation)),
        }
    }

    /// Reads the message that [`next_event`](Self::next_event) just reported as
    /// [`Event::Oversized`] instead of skipping it: its header block is copied into `headers`
    /// and its body written to `body` piece by piece as it arrives, so a message far larger
    /// than the receive buffer (a 128 KiB Object Store chunk, say) passes through it. Returns
    /// the lengths of the two; the frame is consumed whatever happens, so the connection stays
    /// usable after [`ReadError::Sink`] and [`ReadError::HeadersTooLarge`] (the rest of the
    /// message is then skipped, and `body` may hold part of it).
    pub async fn read_oversized<W: Write>(
        &mut self,
        headers: &mut [u8],
        body: &mut W,
    ) -> Result<Streamed, ReadError<T::Error, W::Error>> {
        let Leftover::Skip(frame_len) = self.leftover else {
            return Err(ReadError::NotOversized);
        };
        self.leftover = Leftover::Nothing;
        let buffered = self.rx.get(self.rx_start..self.rx_end).unwrap_or_default();
        let (total_len, headers_len) = match protocol::parse(buffered, self.control_line_limit())? {
            Parsed::Incomplete {
                pending: Some(header),
            } => (header.total_len, header.headers_len.unwrap_or(0)),
            // Cannot happen: the event came from this very frame.
            _ => return Err(ReadError::NotOversized),
        };
        // Frame offsets: control line up to `head_start`, then the headers, the body, `\r\n`.
        let head_start = frame_len - 2 - total_len;
        let body_start = head_start + headers_len;
        let body_end = frame_len - 2;
        let mut failure = (headers_len > headers.len()).then_some(ReadError::HeadersTooLarge {
            needed: headers_len,
        });
        let mut at = 0; // frame offset of rx_start
        while at < frame_len {
            if self.rx_start == self.rx_end {
                self.fill().await?;
            }
            let available = (self.rx_end - self.rx_start).min(frame_len - at);
            let piece = self
                .rx
                .get(self.rx_start..self.rx_start + available)
                .unwrap_or_default();
            // The part of `piece` in each region of the frame.
            let region = |from: usize, to: usize| {
                let start = from.clamp(at, at + available) - at;
                let end = to.clamp(at, at + available) - at;
                start..end
            };
            if failure.is_none() {
                let head = region(head_start, body_start);
                if !head.is_empty() {
                    // Offsets in `headers`: frame offset minus `head_start`.
                    let slot = (at + head.start - head_start)..(at + head.end - head_start);
                    if let Some(slot) = headers.get_mut(slot) {
                        slot.copy_from_slice(piece.get(head).unwrap_or_default());
                    }
                }
                let fresh = piece.get(region(body_start, body_end)).unwrap_or_default();
                if !fresh.is_empty()
                    && let Err(e) = body.write_all(fresh).await
                {
                    failure = Some(ReadError::Sink(e));
                }
            }
            for (i, &byte) in piece
                .get(region(body_end, frame_len))
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let offset = body_end.max(at) + i;
                if byte != b"\r\n"[offset - body_end] {
                    return Err(Error::Protocol(ProtocolError::MissingCrlf { offset }).into());
                }
            }
            self.rx_start += available;
            at += available;
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(Streamed {
                headers_len,
                body_len: total_len - headers_len,
            }),
        }
    }

    /// Gives the transport back (to close it, say).
    pub fn into_transport(self) -> T {
        self.transport
    }

    fn control_line_limit(&self) -> usize {
        MAX_CONTROL_LINE.min(self.rx.len().saturating_sub(2))
    }

    fn check_size(&self, size: usize) -> Result<(), Error<T::Error>> {
        if size > self.info.max_payload {
            return Err(Error::PayloadTooLarge {
                size,
                max_payload: self.info.max_payload,
            });
        }
        Ok(())
    }

    /// Parses what is buffered and says what to do next; consumes control operations.
    fn step(&mut self) -> Result<Step, Error<T::Error>> {
        let buffered = self.rx.get(self.rx_start..self.rx_end).unwrap_or_default();
        let (len, step) = match protocol::parse(buffered, self.control_line_limit())? {
            Parsed::Incomplete {
                pending: Some(header),
            } if header.frame_len > self.rx.len() => {
                return Ok(Step::Event {
                    len: header.frame_len,
                    oversized: true,
                });
            }
            Parsed::Incomplete { .. } => return Ok(Step::NeedMore),
            Parsed::Op { len, op } => match op {
                ServerOp::Msg(_) | ServerOp::Err(_) => {
                    return Ok(Step::Event {
                        len,
                        oversized: false,
                    });
                }
                ServerOp::Ping => (len, Step::Ping),
                ServerOp::Pong => (len, Step::Consumed(Control::Pong)),
                ServerOp::Ok => (len, Step::Consumed(Control::Other)),
                ServerOp::Info(json) => (
                    len,
                    Step::Consumed(Control::Info(ServerInfo::from_json(json))),
                ),
            },
        };
        self.rx_start += len;
        Ok(step)
    }

    /// The next operation during the handshake, when no message can arrive yet.
    async fn next_control(&mut self) -> Result<Control, Error<T::Error>> {
        loop {
            match self.step()? {
                Step::Consumed(control) => return Ok(control),
                Step::Ping => self.pong().await?,
                Step::NeedMore => self.fill().await?,
                Step::Event { len, oversized } => {
                    let frame = self.rx.get(self.rx_start..self.rx_end).unwrap_or_default();
                    if !oversized
                        && let Ok(Parsed::Op {
                            op: ServerOp::Err(text),
                            ..
                        }) = protocol::parse(frame, self.control_line_limit())
                    {
                        let text = text_of(text);
                        self.rx_start += len;
                        return Ok(Control::Error(text));
                    }
                    return Err(Error::Server(text_of(
                        "the server sent a message during the handshake",
                    )));
                }
            }
        }
    }

    async fn pong(&mut self) -> Result<(), Error<T::Error>> {
        let mut w = Writer::new(self.tx);
        protocol::write_pong(&mut w)?;
        let len = w.len();
        self.send_tx(len, None).await
    }

    /// Hands the first `len` bytes of the send buffer to the transport, then, for a message,
    /// its `body` and the `\r\n` that ends it (a body of zero bytes still needs it). Nothing
    /// is flushed: see [`flush`](Self::flush).
    ///
    /// A frame that fits the send buffer goes out in one write. A larger one takes two: the
    /// line with as much of the body as fits, then the rest with the `\r\n` when that fits
    /// the buffer; otherwise three, the middle of the body written straight from `body`.
    async fn send_tx(&mut self, len: usize, body: Option<&[u8]>) -> Result<(), Error<T::Error>> {
        let Some(body) = body else {
            return self.write_tx(len).await;
        };
        let capacity = self.tx.len();
        // The head of the body that fits after the line (all of it, with the CRLF, when the
        // frame fits).
        let head = if len + body.len() + 2 <= capacity {
            body.len()
        } else {
            body.len().min(capacity.saturating_sub(len))
        };
        let (first, rest) = body.split_at(head);
        let mut filled = self.fill_tx(len, first);
        if rest.is_empty() && filled + 2 <= capacity {
            filled = self.fill_tx(filled, b"\r\n");
            return self.write_tx(filled).await;
        }
        self.write_tx(filled).await?;
        // The tail that goes with the CRLF in the last write, from the send buffer.
        let tail = rest.len().min(capacity.saturating_sub(2));
        let (middle, tail) = rest.split_at(rest.len() - tail);
        if !middle.is_empty() {
            self.unflushed = true;
            self.transport
                .write_all(middle)
                .await
                .map_err(Error::Transport)?;
        }
        let end = self.fill_tx(0, tail);
        let end = self.fill_tx(end, b"\r\n");
        self.write_tx(end).await
    }

    /// Copies `bytes` into the send buffer at `at` (they fit: the callers checked) and
    /// returns the end.
    fn fill_tx(&mut self, at: usize, bytes: &[u8]) -> usize {
        if let Some(slot) = self.tx.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        at + bytes.len()
    }

    async fn write_tx(&mut self, len: usize) -> Result<(), Error<T::Error>> {
        self.unflushed = true;
        let bytes = self.tx.get(..len).unwrap_or_default();
        self.transport
            .write_all(bytes)
            .await
            .map_err(Error::Transport)
    }

    /// Consumes the frame of the event returned last time, or starts skipping it.
    fn finish_leftover(&mut self) -> Result<(), Error<T::Error>> {
        match core::mem::replace(&mut self.leftover, Leftover::Nothing) {
            Leftover::Nothing => Ok(()),
            Leftover::Frame(len) => {
                self.rx_start += len;
                Ok(())
            }
            Leftover::Skip(frame_len) => {
                // Everything buffered belongs to the oversized frame (it is longer than the
                // whole buffer); discard it through the same path as bytes still to come.
                let (start, end) = (self.rx_start, self.rx_end);
                self.rx_start = 0;
                self.rx_end = 0;
                self.skipping = Some((frame_len, frame_len));
                self.rx.copy_within(start..end, 0);
                self.take_received(end - start)
            }
        }
    }

    /// Reads more bytes into the receive buffer, after flushing what was written since the
    /// last flush (a buffering transport, such as a TLS stream, sends only then, and the
    /// server may be waiting for it).
    async fn fill(&mut self) -> Result<(), Error<T::Error>> {
        if self.unflushed {
            self.flush().await?;
        }
        if self.rx_start > 0 {
            self.rx.copy_within(self.rx_start..self.rx_end, 0);
            self.rx_end -= self.rx_start;
            self.rx_start = 0;
        }
        let free = self.rx.get_mut(self.rx_end..).unwrap_or_default();
        if free.is_empty() {
            // Cannot happen: control lines are limited to the buffer and larger frames skipped.
            return Err(Error::Protocol(ProtocolError::ControlLineTooLong {
                limit: self.control_line_limit(),
            }));
        }
        let n = self.transport.read(free).await.map_err(Error::Transport)?;
        if n == 0 {
            return Err(Error::Closed);
        }
        self.take_received(n)
    }

    /// Accounts for `n` new bytes at `rx_end`: the ones owed to an oversized frame being
    /// skipped are discarded (its final `\r\n` checked), the rest become buffered.
    fn take_received(&mut self, n: usize) -> Result<(), Error<T::Error>> {
        let start = self.rx_end;
        let mut taken = 0;
        if let Some((remaining, frame_len)) = self.skipping {
            taken = n.min(remaining);
            let discarded = self.rx.get(start..start + taken).unwrap_or_default();
            for (i, &byte) in discarded.iter().enumerate() {
                let left = remaining - i;
                if (left == 2 && byte != b'\r') || (left == 1 && byte != b'\n') {
                    return Err(Error::Protocol(ProtocolError::MissingCrlf {
                        offset: frame_len - left,
                    }));
                }
            }
            self.skipping = (remaining > taken).then_some((remaining - taken, frame_len));
            self.rx.copy_within(start + taken..start + n, start);
        }
        self.rx_end += n - taken;
        Ok(())
    }
}

/// What [`Client::read_oversized`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streamed {
    /// Bytes of the header block copied into the caller's `headers` (0 for a `MSG`).
    pub headers_len: usize,
    /// Bytes of the body written to the caller's sink.
    pub body_len: usize,
}

/// Why [`Client::read_oversized`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError<E, W> {
    /// The connection failed, as for [`Client::next_event`]: reconnect.
    Nats(Error<E>),
    /// The body's sink failed; the rest of the message was skipped, the connection is fine.
    Sink(W),
    /// The header block is longer than the caller's `headers` buffer; the message was
    /// skipped, the connection is fine.
    HeadersTooLarge {
        /// The header block's length.
        needed: usize,
    },
    /// The last event was not [`Event::Oversized`]: there is nothing to read.
    NotOversized,
}

impl<E, W> From<Error<E>> for ReadError<E, W> {
    fn from(error: Error<E>) -> Self {
        ReadError::Nats(error)
    }
}

impl<E, W> From<ProtocolError> for ReadError<E, W> {
    fn from(error: ProtocolError) -> Self {
        ReadError::Nats(Error::Protocol(error))
    }
}

impl<E: fmt::Debug, W: fmt::Debug> fmt::Display for ReadError<E, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Nats(e) => write!(f, "{e}"),
            ReadError::Sink(e) => write!(f, "the sink failed: {e:?}"),
            ReadError::HeadersTooLarge { needed } => {
                write!(
                    f,
                    "a header block of {needed} bytes does not fit the headers buffer"
                )
            }
            ReadError::NotOversized => f.write_str("no oversized message to read"),
        }
    }
}

impl<E: fmt::Debug, W: fmt::Debug> core::error::Error for ReadError<E, W> {}

/// A control operation consumed by [`Client::step`].
enum Control {
    Info(ServerInfo),
    Pong,
    Error(heapless::String<SERVER_ERROR_CAPACITY>),
    Other,
}

enum Step {
    /// A message, server error or oversized message of `len` bytes starts the buffer.
    Event {
        len: usize,
        oversized: bool,
    },
    Consumed(Control),
    Ping,
    NeedMore,
}

fn check<E>(text: &str, what: &'static str) -> Result<(), Error<E>> {
    if protocol::is_valid_subject(text) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(what))
    }
}

/// `text`, cut at a character boundary to fit.
fn text_of(text: &str) -> heapless::String<SERVER_ERROR_CAPACITY> {
    let mut out = heapless::String::new();
    for c in text.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}
