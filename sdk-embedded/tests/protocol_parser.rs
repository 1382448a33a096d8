//! The sans-IO NATS parser: every test stream split at every byte position and fed one byte at
//! a time gives the same operations; malformed lengths and line ends are protocol errors.

mod common;

use natsbridge_embedded::json::Writer;
use natsbridge_embedded::protocol::{
    ConnectOptions, MAX_CONTROL_LINE, Parsed, ProtocolError, ServerOp, parse, write_connect,
    write_hpub, write_pub, write_sub, write_unsub,
};

/// A server stream with every operation, odd spacing and lower-case words.
const STREAM: &[u8] = b"INFO {\"server_id\":\"x\",\"max_payload\":1048576,\"headers\":true}\r\n\
+OK\r\n\
PING\r\n\
pong\r\n\
MSG room.1 1 5\r\nhello\r\n\
MSG  room.2\t22  reply.to 0\r\n\r\n\
HMSG room.3 3 12 17\r\nNATS/1.0\r\n\r\nworld\r\n\
HMSG _INBOX.x 4 16 16\r\nNATS/1.0 503\r\n\r\n\r\n\
MSG bin 5 6\r\n\r\n\x00\xff\r\n\r\n\
-ERR 'Stale Connection'\r\n";

/// Parses everything in `stream`, fed in pieces of the given sizes, as a receive buffer would
/// see it; returns the operations in a comparable form.
fn parse_in_pieces(stream: &[u8], mut piece_len: impl FnMut(usize) -> usize) -> Vec<String> {
    let mut buffered: Vec<u8> = Vec::new();
    let mut ops = Vec::new();
    let mut fed = 0;
    while fed < stream.len() {
        let n = piece_len(fed).clamp(1, stream.len() - fed);
        buffered.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            match parse(&buffered, MAX_CONTROL_LINE).expect("a valid stream") {
                Parsed::Incomplete { .. } => break,
                Parsed::Op { len, op } => {
                    ops.push(format!("{op:?}"));
                    buffered.drain(..len);
                }
            }
        }
    }
    assert!(buffered.is_empty(), "bytes left over: {buffered:?}");
    ops
}

#[test]
fn whole_stream_gives_every_operation() {
    let ops = parse_in_pieces(STREAM, |_| usize::MAX);
    assert_eq!(ops.len(), 10, "{ops:#?}");
    assert!(ops[0].starts_with("Info("));
    assert_eq!(ops[1], "Ok");
    assert_eq!(ops[2], "Ping");
    assert_eq!(ops[3], "Pong");
    assert_eq!(ops[9], "Err(\"Stale Connection\")");

    let mut rest = STREAM;
    let mut messages = Vec::new();
    while !rest.is_empty() {
        let Ok(Parsed::Op { len, op }) = parse(rest, MAX_CONTROL_LINE) else {
            panic!("stream does not parse")
        };
        if let ServerOp::Msg(msg) = op {
            messages.push((
                msg.subject.to_owned(),
                msg.sid,
                msg.reply_to.map(str::to_owned),
                msg.headers.map(<[u8]>::to_vec),
                msg.payload.to_vec(),
                msg.status(),
            ));
        }
        rest = &rest[len..];
    }
    assert_eq!(
        messages,
        vec![
            ("room.1".into(), 1, None, None, b"hello".to_vec(), None),
            (
                "room.2".into(),
                22,
                Some("reply.to".into()),
                None,
                vec![],
                None
            ),
            (
                "room.3".into(),
                3,
                None,
                Some(b"NATS/1.0\r\n\r\n".to_vec()),
                b"world".to_vec(),
                None
            ),
            (
                "_INBOX.x".into(),
                4,
                None,
                Some(b"NATS/1.0 503\r\n\r\n".to_vec()),
                vec![],
                Some(503)
            ),
            (
                "bin".into(),
                5,
                None,
                None,
                b"\r\n\x00\xff\r\n".to_vec(),
                None
            ),
        ]
    );
}

#[test]
fn split_at_every_byte_position_gives_the_same_operations() {
    let whole = parse_in_pieces(STREAM, |_| usize::MAX);
    for split in 1..STREAM.len() {
        let pieces = parse_in_pieces(STREAM, |fed| if fed == 0 { split } else { usize::MAX });
        assert_eq!(pieces, whole, "split at byte {split}");
    }
}

#[test]
fn one_byte_at_a_time_gives_the_same_operations() {
    let whole = parse_in_pieces(STREAM, |_| usize::MAX);
    assert_eq!(parse_in_pieces(STREAM, |_| 1), whole);
    for piece in 2..9 {
        assert_eq!(
            parse_in_pieces(STREAM, |_| piece),
            whole,
            "pieces of {piece}"
        );
    }
}

#[test]
fn a_pending_message_announces_its_frame_length() {
    let Ok(Parsed::Incomplete {
        pending: Some(header),
    }) = parse(b"MSG a.b 9 r 1000\r\nxy", 4096)
    else {
        panic!("expected a pending message")
    };
    assert_eq!(
        (header.subject, header.sid, header.reply_to),
        ("a.b", 9, Some("r"))
    );
    assert_eq!(header.total_len, 1000);
    assert_eq!(header.frame_len, "MSG a.b 9 r 1000\r\n".len() + 1000 + 2);
    assert_eq!(
        parse(b"MSG a.b 9", 4096),
        Ok(Parsed::Incomplete { pending: None })
    );
}

#[test]
fn a_wrong_length_is_a_protocol_error() {
    // Announced 3 bytes, sent 5: the bytes where \r\n belongs are "lo".
    assert_eq!(
        parse(b"MSG a 1 3\r\nhello\r\n", 4096),
        Err(ProtocolError::MissingCrlf { offset: 14 })
    );
    // Announced 7, sent 5 and the next operation: detected once the frame is there.
    assert_eq!(
        parse(b"MSG a 1 7\r\nhello\r\nPING\r\n", 4096),
        Err(ProtocolError::MissingCrlf { offset: 18 })
    );
    // Detected as soon as the first byte after the body is not \r.
    assert_eq!(
        parse(b"MSG a 1 3\r\nhel!", 4096),
        Err(ProtocolError::MissingCrlf { offset: 14 })
    );
    // Header length beyond the total.
    assert_eq!(
        parse(b"HMSG a 1 9 3\r\nabc\r\n", 4096),
        Err(ProtocolError::BadArguments { operation: "HMSG" })
    );
}

#[test]
fn a_missing_crlf_is_a_protocol_error() {
    assert_eq!(
        parse(b"PING\nPONG\r\n", 4096),
        Err(ProtocolError::MissingCrlf { offset: 4 })
    );
    assert_eq!(
        parse(b"PING\rPONG\r\n", 4096),
        Err(ProtocolError::MissingCrlf { offset: 4 })
    );
    assert_eq!(
        parse(b"MSG a 1 5\r\nhello!!", 4096),
        Err(ProtocolError::MissingCrlf { offset: 16 })
    );
    assert_eq!(
        parse(b"MSG a 1 5\r\nhello\rX", 4096),
        Err(ProtocolError::MissingCrlf { offset: 16 })
    );
}

#[test]
fn malformed_operations_are_protocol_errors() {
    let bad = |operation| Err(ProtocolError::BadArguments { operation });
    assert_eq!(
        parse(b"HELLO\r\n", 4096),
        Err(ProtocolError::UnknownOperation)
    );
    assert_eq!(parse(b"\r\n", 4096), Err(ProtocolError::UnknownOperation));
    assert_eq!(parse(b"PING x\r\n", 4096), bad("PING"));
    assert_eq!(parse(b"MSG a 1\r\n", 4096), bad("MSG"));
    assert_eq!(parse(b"MSG a b c d e\r\n", 4096), bad("MSG"));
    assert_eq!(parse(b"MSG a x 5\r\n", 4096), bad("MSG"));
    assert_eq!(parse(b"MSG a 1 -5\r\n", 4096), bad("MSG"));
    assert_eq!(
        parse(b"MSG a 1 99999999999999999999999\r\n", 4096),
        bad("MSG")
    );
    assert_eq!(parse(b"HMSG a 1 5\r\n", 4096), bad("HMSG"));
    assert_eq!(parse(b"INFO\r\n", 4096), bad("INFO"));
    assert_eq!(
        parse(b"MSG \xff 1 0\r\n\r\n", 4096),
        Err(ProtocolError::NotUtf8)
    );
}

#[test]
fn a_control_line_has_a_hard_length_limit() {
    let limit = 16;
    let at_limit = b"MSG abcdefghij 1 0\r\n\r\n"; // a 18-byte line
    assert_eq!(
        parse(at_limit, limit),
        Err(ProtocolError::ControlLineTooLong { limit })
    );
    assert!(matches!(parse(at_limit, 18), Ok(Parsed::Op { .. })));
    // An unfinished line is refused as soon as it passes the limit, without waiting for more.
    assert_eq!(
        parse(&[b'x'; 18], limit),
        Err(ProtocolError::ControlLineTooLong { limit })
    );
    assert_eq!(
        parse(&[b'x'; 16], limit),
        Ok(Parsed::Incomplete { pending: None })
    );
    // The \r of a line exactly at the limit waits for its \n.
    assert_eq!(
        parse(b"PING\r", 4),
        Ok(Parsed::Incomplete { pending: None })
    );
    assert!(matches!(
        parse(b"PING\r\n", 4),
        Ok(Parsed::Op { len: 6, .. })
    ));
    assert!(parse(b"PING\r\n", 3).is_err());
}

fn written(write: impl FnOnce(&mut Writer<'_>)) -> String {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    write(&mut w);
    String::from_utf8(w.written().to_vec()).unwrap()
}

#[test]
fn client_operations_are_written_as_the_protocol_says() {
    assert_eq!(
        written(|w| write_pub(w, "a.b", None, 5).unwrap()),
        "PUB a.b 5\r\n"
    );
    assert_eq!(
        written(|w| write_pub(w, "a.b", Some("_INBOX.1"), 0).unwrap()),
        "PUB a.b _INBOX.1 0\r\n"
    );
    assert_eq!(
        written(|w| write_hpub(w, "a", Some("r"), 12, 5).unwrap()),
        "HPUB a r 12 17\r\n"
    );
    assert_eq!(
        written(|w| write_sub(w, "a.>", None, 7).unwrap()),
        "SUB a.> 7\r\n"
    );
    assert_eq!(
        written(|w| write_sub(w, "a", Some("q"), 8).unwrap()),
        "SUB a q 8\r\n"
    );
    assert_eq!(written(|w| write_unsub(w, 7, None).unwrap()), "UNSUB 7\r\n");
    assert_eq!(
        written(|w| write_unsub(w, 7, Some(2)).unwrap()),
        "UNSUB 7 2\r\n"
    );
}

#[test]
fn connect_turns_verbose_and_pedantic_off_and_carries_credentials() {
    let line = written(|w| {
        write_connect(
            w,
            &ConnectOptions::new()
                .name("dev\"1")
                .user_and_password("u", "p"),
        )
        .unwrap()
    });
    assert!(
        line.starts_with("CONNECT {") && line.ends_with("}\r\n"),
        "{line}"
    );
    let json: serde_json::Value = serde_json::from_str(&line["CONNECT ".len()..]).unwrap();
    assert_eq!(json["verbose"], false);
    assert_eq!(json["pedantic"], false);
    assert_eq!(json["headers"], true);
    assert_eq!(json["no_responders"], true);
    assert_eq!(json["name"], "dev\"1");
    assert_eq!(json["user"], "u");
    assert_eq!(json["pass"], "p");
    assert!(json.get("auth_token").is_none());
    let line = written(|w| write_connect(w, &ConnectOptions::new().token("t0k")).unwrap());
    let json: serde_json::Value = serde_json::from_str(&line["CONNECT ".len()..]).unwrap();
    assert_eq!(json["auth_token"], "t0k");
}

/// Seeded mutations of the test stream (bytes changed, dropped, duplicated, cut): the parser
/// returns an operation, "incomplete" or an error, never panics, and never claims more bytes
/// than it was given.
#[test]
fn mutated_streams_never_panic_or_overrun() {
    let mut random = common::below(0x2545_f491);
    for _ in 0..20_000 {
        let mut stream = STREAM.to_vec();
        common::mutate(&mut stream, 4, true, &mut random);
        let mut rest = &stream[..];
        let limit = 16 + random(100);
        while let Ok(Parsed::Op { len, .. }) = parse(rest, limit) {
            assert!(
                len > 0 && len <= rest.len(),
                "claimed {len} of {} bytes",
                rest.len()
            );
            rest = &rest[len..];
        }
    }
}
