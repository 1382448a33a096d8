//! The parser half of the codec: one call looks at the start of the received bytes and
//! returns one whole server operation, "incomplete", or the reason the stream is broken.

use core::fmt;

/// One operation sent by a NATS server, borrowing from the parsed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerOp<'a> {
    /// `INFO {json}`: the server's description of itself; the JSON object as received.
    Info(&'a [u8]),
    /// `MSG` or `HMSG`: a message delivered to one of our subscriptions.
    Msg(Msg<'a>),
    /// `PING`: the server checks that we are alive; answer with `PONG`.
    Ping,
    /// `PONG`: the answer to our `PING`.
    Pong,
    /// `+OK`: acknowledges an operation (only sent in verbose mode, which we turn off).
    Ok,
    /// `-ERR 'text'`: the server reports an error, without the quotes. Most of them are
    /// followed by the server closing the connection.
    Err(&'a str),
}

/// A delivered message (`MSG` or, with headers, `HMSG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg<'a> {
    /// The subject it was published on.
    pub subject: &'a str,
    /// The subscription id it was delivered for.
    pub sid: u64,
    /// The reply subject given by the publisher, if any.
    pub reply_to: Option<&'a str>,
    /// The header block (`NATS/1.0 ...\r\n...\r\n\r\n`) of an `HMSG`; `None` for a `MSG`.
    pub headers: Option<&'a [u8]>,
    /// The message body.
    pub payload: &'a [u8],
}

impl Msg<'_> {
    /// The status code on the first header line (`NATS/1.0 503` gives 503), if any. The
    /// server sends 503 with an empty body when a request found no responders.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        let headers = self.headers?;
        let first_line = headers.split(|&b| b == b'\r').next()?;
        let rest = first_line.strip_prefix(b"NATS/1.0")?;
        let code = rest.trim_ascii_start().get(..3)?;
        core::str::from_utf8(code).ok()?.parse().ok()
    }
}

/// The control line of a `MSG`/`HMSG` whose body has not fully arrived yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgHeader<'a> {
    /// The subject it was published on.
    pub subject: &'a str,
    /// The subscription id it was delivered for.
    pub sid: u64,
    /// The reply subject given by the publisher, if any.
    pub reply_to: Option<&'a str>,
    /// Header and body bytes announced by the control line.
    pub total_len: usize,
    /// Of those, the header block's bytes (`HMSG`); `None` for a `MSG`.
    pub headers_len: Option<usize>,
    /// Bytes of the whole frame: control line, `\r\n`, headers, body, `\r\n`. A receive buffer
    /// smaller than this can never hold the message.
    pub frame_len: usize,
}

/// What [`parse`] found at the start of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// More bytes are needed. For a message whose control line has arrived, `pending` tells
    /// how long the whole frame is, so a receiver can decide to skip a frame it cannot hold.
    Incomplete {
        /// The control line of a message still arriving, if that is what is pending.
        pending: Option<MsgHeader<'a>>,
    },
    /// One whole operation occupying the first `len` bytes of the input.
    Op {
        /// Bytes consumed, including the final `\r\n`.
        len: usize,
        /// The operation.
        op: ServerOp<'a>,
    },
}

/// Why the received bytes are not the NATS protocol. The stream cannot be resynchronised
/// after any of these: close the connection and reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// No `\r\n` within the limit on a control line.
    ControlLineTooLong {
        /// The limit, in bytes, without the `\r\n`.
        limit: usize,
    },
    /// A line ends in a bare `\n` or `\r`, or the bytes after a message body are not `\r\n`
    /// (the length in its control line is wrong).
    MissingCrlf {
        /// Byte offset, from the start of the operation, where `\r\n` was expected.
        offset: usize,
    },
    /// The control line starts with a word that is not a server operation.
    UnknownOperation,
    /// An operation has the wrong number of arguments or a number that does not parse.
    BadArguments {
        /// The operation (`MSG`, `HMSG`, `PING`, ...).
        operation: &'static str,
    },
    /// The control line is not UTF-8.
    NotUtf8,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::ControlLineTooLong { limit } => {
                write!(f, "NATS control line longer than {limit} bytes")
            }
            ProtocolError::MissingCrlf { offset } => {
                write!(
                    f,
                    "NATS protocol: expected \\r\\n at byte {offset} of the operation"
                )
            }
            ProtocolError::UnknownOperation => f.write_str("NATS protocol: unknown operation"),
            ProtocolError::BadArguments { operation } => {
                write!(f, "NATS protocol: malformed arguments of {operation}")
            }
            ProtocolError::NotUtf8 => f.write_str("NATS protocol: control line is not UTF-8"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// Reads one server operation from the start of `input`.
///
/// A control line longer than `max_control_line` bytes (without its `\r\n`) is an error, so a
/// broken or hostile peer cannot make a receiver wait for a line it could never hold. The
/// parser keeps no state: call it again with more bytes after [`Parsed::Incomplete`].
pub fn parse(input: &[u8], max_control_line: usize) -> Result<Parsed<'_>, ProtocolError> {
    let Some(line_len) = control_line_len(input, max_control_line)? else {
        return Ok(Parsed::Incomplete { pending: None });
    };
    let line = core::str::from_utf8(input.get(..line_len).unwrap_or_default())
        .map_err(|_| ProtocolError::NotUtf8)?;
    let after_line = line_len + 2;
    let (word, rest) = split_word(line);
    let single = |op: ServerOp<'static>, operation| {
        if rest.trim_matches(is_blank).is_empty() {
            Ok(Parsed::Op {
                len: after_line,
                op,
            })
        } else {
            Err(ProtocolError::BadArguments { operation })
        }
    };
    if word.eq_ignore_ascii_case("MSG") {
        message(input, rest, after_line, false)
    } else if word.eq_ignore_ascii_case("HMSG") {
        message(input, rest, after_line, true)
    } else if word.eq_ignore_ascii_case("PING") {
        single(ServerOp::Ping, "PING")
    } else if word.eq_ignore_ascii_case("PONG") {
        single(ServerOp::Pong, "PONG")
    } else if word.eq_ignore_ascii_case("+OK") {
        single(ServerOp::Ok, "+OK")
    } else if word.eq_ignore_ascii_case("-ERR") {
        let text = rest.trim_matches(is_blank);
        let text = text
            .strip_prefix('\'')
            .and_then(|t| t.strip_suffix('\''))
            .unwrap_or(text);
        Ok(Parsed::Op {
            len: after_line,
            op: ServerOp::Err(text),
        })
    } else if word.eq_ignore_ascii_case("INFO") {
        let json = rest.trim_matches(is_blank);
        if json.is_empty() {
            return Err(ProtocolError::BadArguments { operation: "INFO" });
        }
        Ok(Parsed::Op {
            len: after_line,
            op: ServerOp::Info(json.as_bytes()),
        })
    } else {
        Err(ProtocolError::UnknownOperation)
    }
}

/// The length of the control line at the start of `input` (without `\r\n`), `None` when its
/// end has not arrived yet.
fn control_line_len(input: &[u8], max_control_line: usize) -> Result<Option<usize>, ProtocolError> {
    let window = input
        .get(..max_control_line.saturating_add(2))
        .unwrap_or(input);
    for (i, &byte) in window.iter().enumerate() {
        match byte {
            b'\r' => match window.get(i + 1) {
                Some(b'\n') if i <= max_control_line => return Ok(Some(i)),
                Some(b'\n') => break,
                Some(_) => return Err(ProtocolError::MissingCrlf { offset: i }),
                None if i < max_control_line + 1 => return Ok(None),
                None => break,
            },
            b'\n' => return Err(ProtocolError::MissingCrlf { offset: i }),
            _ => {}
        }
    }
    if window.len() > max_control_line {
        Err(ProtocolError::ControlLineTooLong {
            limit: max_control_line,
        })
    } else {
        Ok(None)
    }
}

/// `MSG <subject> <sid> [reply-to] <#bytes>` or
/// `HMSG <subject> <sid> [reply-to] <#header bytes> <#total bytes>`, then the bytes and `\r\n`.
fn message<'a>(
    input: &'a [u8],
    args: &'a str,
    body_start: usize,
    with_headers: bool,
) -> Result<Parsed<'a>, ProtocolError> {
    let operation = if with_headers { "HMSG" } else { "MSG" };
    let bad = ProtocolError::BadArguments { operation };
    let mut words = [""; 5];
    let mut count = 0;
    for word in args.split(is_blank).filter(|w| !w.is_empty()) {
        *words.get_mut(count).ok_or(bad)? = word;
        count += 1;
    }
    let sizes = if with_headers { 2 } else { 1 };
    let (subject, sid, reply_to) = match count.checked_sub(sizes) {
        Some(2) => (words[0], words[1], None),
        Some(3) => (words[0], words[1], Some(words[2])),
        _ => return Err(bad),
    };
    let sid: u64 = sid.parse().map_err(|_| bad)?;
    let number = |word: &str| word.parse::<usize>().map_err(|_| bad);
    let total_len = number(words[count - 1])?;
    let headers_len = if with_headers {
        let headers_len = number(words[count - 2])?;
        if headers_len > total_len {
            return Err(bad);
        }
        Some(headers_len)
    } else {
        None
    };
    let body_end = body_start.checked_add(total_len).ok_or(bad)?;
    let frame_len = body_end.checked_add(2).ok_or(bad)?;
    let Some(frame) = input.get(..frame_len) else {
        let pending = MsgHeader {
            subject,
            sid,
            reply_to,
            total_len,
            headers_len,
            frame_len,
        };
        // A wrong length shows as soon as the bytes where `\r\n` belongs have arrived.
        return match input.get(body_end..) {
            Some([first, ..]) if *first != b'\r' => {
                Err(ProtocolError::MissingCrlf { offset: body_end })
            }
            _ => Ok(Parsed::Incomplete {
                pending: Some(pending),
            }),
        };
    };
    if frame.get(body_end..) != Some(b"\r\n") {
        return Err(ProtocolError::MissingCrlf { offset: body_end });
    }
    let body = frame.get(body_start..body_end).unwrap_or_default();
    let (headers, payload) = match headers_len {
        Some(n) => {
            let (headers, payload) = body.split_at(n);
            (Some(headers), payload)
        }
        None => (None, body),
    };
    Ok(Parsed::Op {
        len: frame_len,
        op: ServerOp::Msg(Msg {
            subject,
            sid,
            reply_to,
            headers,
            payload,
        }),
    })
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The first word of `line` and what follows it.
fn split_word(line: &str) -> (&str, &str) {
    let line = line.trim_start_matches(is_blank);
    match line.find(is_blank) {
        Some(end) => line.split_at(end),
        None => (line, ""),
    }
}
