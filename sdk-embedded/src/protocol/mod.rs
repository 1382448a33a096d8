//! A sans-IO codec of the NATS client protocol: [`parse`] turns received bytes into
//! [`ServerOp`]s (or says it needs more), the writers put client operations into a buffer.
//!
//! Nothing here reads a socket or allocates, so the same code runs on a board, in a test fed
//! one byte at a time, and under a fuzzer. The protocol is described at
//! <https://docs.nats.io/reference/reference-protocols/nats-protocol>.
//!
//! ```
//! use natsbridge_embedded::protocol::{parse, Parsed, ServerOp};
//!
//! let stream = b"PING\r\nMSG room.1 7 5\r\nhello\r\n";
//! let Ok(Parsed::Op { len, op: ServerOp::Ping }) = parse(stream, 4096) else { panic!() };
//! let Ok(Parsed::Op { op: ServerOp::Msg(msg), .. }) = parse(&stream[len..], 4096) else {
//!     panic!()
//! };
//! assert_eq!((msg.subject, msg.sid, msg.payload), ("room.1", 7, &b"hello"[..]));
//! ```

mod parse;
mod write;

pub use parse::{Msg, MsgHeader, Parsed, ProtocolError, ServerOp, parse};
pub use write::{
    ConnectOptions, is_valid_subject, write_connect, write_hpub, write_ping, write_pong, write_pub,
    write_sub, write_unsub,
};

/// The default limit on a control line (the text before `\r\n`), in bytes; the NATS server's
/// own default `max_control_line` is 4096 too.
pub const MAX_CONTROL_LINE: usize = 4096;
