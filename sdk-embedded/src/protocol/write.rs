//! The writer half of the codec: client operations (CONNECT, PUB, HPUB, SUB, UNSUB, PING,
//! PONG) written into a caller buffer; a message body is sent by the caller after its line.

use crate::json::{BufferFull, Writer};

/// What the client says about itself in `CONNECT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectOptions<'a> {
    /// A name for the connection, shown by the server's monitoring.
    pub name: Option<&'a str>,
    /// User and password, for servers that require them.
    pub user_and_password: Option<(&'a str, &'a str)>,
    /// An authentication token, for servers that require one.
    pub token: Option<&'a str>,
}

impl<'a> ConnectOptions<'a> {
    /// No name and no credentials.
    #[must_use]
    pub const fn new() -> Self {
        ConnectOptions {
            name: None,
            user_and_password: None,
            token: None,
        }
    }

    /// Sets the connection name.
    #[must_use]
    pub const fn name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }

    /// Sets user and password.
    #[must_use]
    pub const fn user_and_password(mut self, user: &'a str, password: &'a str) -> Self {
        self.user_and_password = Some((user, password));
        self
    }

    /// Sets an authentication token.
    #[must_use]
    pub const fn token(mut self, token: &'a str) -> Self {
        self.token = Some(token);
        self
    }
}

/// Whether `subject` can be sent in a control line: not empty, no whitespace or control
/// characters (they would split or end the line).
#[must_use]
pub fn is_valid_subject(subject: &str) -> bool {
    !subject.is_empty() && !subject.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// `CONNECT {...}\r\n`. It always sends `verbose: false` and `pedantic: false` (the server
/// assumes both true when they are left out), `headers: true` and `no_responders: true`.
pub fn write_connect(w: &mut Writer<'_>, options: &ConnectOptions<'_>) -> Result<(), BufferFull> {
    w.raw(r#"CONNECT {"verbose":false,"pedantic":false,"tls_required":false,"#)?;
    w.raw(r#""headers":true,"no_responders":true,"protocol":1,"lang":"rust-nostd","version":"#)?;
    w.string(env!("CARGO_PKG_VERSION"))?;
    if let Some(name) = options.name {
        w.raw(r#","name":"#)?;
        w.string(name)?;
    }
    if let Some((user, password)) = options.user_and_password {
        w.raw(r#","user":"#)?;
        w.string(user)?;
        w.raw(r#","pass":"#)?;
        w.string(password)?;
    }
    if let Some(token) = options.token {
        w.raw(r#","auth_token":"#)?;
        w.string(token)?;
    }
    w.raw("}\r\n")
}

/// `PUB <subject> [reply-to] <#bytes>\r\n`; the body and `\r\n` follow.
pub fn write_pub(
    w: &mut Writer<'_>,
    subject: &str,
    reply_to: Option<&str>,
    payload_len: usize,
) -> Result<(), BufferFull> {
    w.raw("PUB ")?;
    subject_and_reply(w, subject, reply_to)?;
    w.unsigned(payload_len as u64)?;
    w.raw("\r\n")
}

/// `HPUB <subject> [reply-to] <#header bytes> <#total bytes>\r\n`; headers, body and `\r\n`
/// follow.
pub fn write_hpub(
    w: &mut Writer<'_>,
    subject: &str,
    reply_to: Option<&str>,
    headers_len: usize,
    payload_len: usize,
) -> Result<(), BufferFull> {
    w.raw("HPUB ")?;
    subject_and_reply(w, subject, reply_to)?;
    w.unsigned(headers_len as u64)?;
    w.raw(" ")?;
    w.unsigned((headers_len + payload_len) as u64)?;
    w.raw("\r\n")
}

/// `SUB <subject> [queue group] <sid>\r\n`.
pub fn write_sub(
    w: &mut Writer<'_>,
    subject: &str,
    queue_group: Option<&str>,
    sid: u64,
) -> Result<(), BufferFull> {
    w.raw("SUB ")?;
    subject_and_reply(w, subject, queue_group)?;
    w.unsigned(sid)?;
    w.raw("\r\n")
}

/// `UNSUB <sid> [max messages]\r\n`.
pub fn write_unsub(
    w: &mut Writer<'_>,
    sid: u64,
    max_messages: Option<u64>,
) -> Result<(), BufferFull> {
    w.raw("UNSUB ")?;
    w.unsigned(sid)?;
    if let Some(max) = max_messages {
        w.raw(" ")?;
        w.unsigned(max)?;
    }
    w.raw("\r\n")
}

/// `PING\r\n`.
pub fn write_ping(w: &mut Writer<'_>) -> Result<(), BufferFull> {
    w.raw("PING\r\n")
}

/// `PONG\r\n`.
pub fn write_pong(w: &mut Writer<'_>) -> Result<(), BufferFull> {
    w.raw("PONG\r\n")
}

/// `<first> [second] ` with the trailing space.
fn subject_and_reply(
    w: &mut Writer<'_>,
    first: &str,
    second: Option<&str>,
) -> Result<(), BufferFull> {
    w.raw(first)?;
    w.raw(" ")?;
    if let Some(second) = second {
        w.raw(second)?;
        w.raw(" ")?;
    }
    Ok(())
}
