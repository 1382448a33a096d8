//! The client against a scripted transport, for the edge cases a real server will not produce
//! on demand: messages exactly at, one over and far over the receive buffer, delivered whole
//! and one byte at a time, a broken length, a stale connection. (`client_nats_server.rs`
//! runs the same client against a real nats-server.)

mod common;

use common::Scripted;

use std::convert::Infallible;

use natsbridge_embedded::client::{Client, Error, Event, Keepalive};
use natsbridge_embedded::protocol::{ConnectOptions, ProtocolError};

const INFO: &[u8] = b"INFO {\"server_id\":\"s\",\"max_payload\":100,\"headers\":true}\r\n";

fn msg(subject: &str, sid: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("MSG {subject} {sid} {}\r\n", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
    out
}

/// A client after a handshake (`INFO`, `PONG`), whose server then sends `after` in reads of
/// `piece` bytes.
async fn connected<'b>(
    after: &[u8],
    piece: usize,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Client<'b, Scripted> {
    let mut incoming = INFO.to_vec();
    incoming.extend_from_slice(b"PONG\r\n");
    incoming.extend_from_slice(after);
    Client::connect(
        Scripted::new(&incoming, piece),
        rx,
        tx,
        &ConnectOptions::new(),
    )
    .await
    .expect("handshake")
}

/// What the client reports for `stream` (after the handshake), with a receive buffer of
/// `rx_len` bytes and reads of `piece` bytes, until the script ends.
async fn events(stream: &[u8], rx_len: usize, piece: usize) -> (Vec<String>, Error<Infallible>) {
    let mut rx = vec![0u8; rx_len];
    let mut tx = [0u8; 256];
    let mut client = connected(stream, piece, &mut rx, &mut tx).await;
    let mut seen = Vec::new();
    loop {
        match client.next_event().await {
            Ok(Event::Message(m)) => seen.push(format!(
                "{} {} {}",
                m.subject,
                m.sid,
                String::from_utf8_lossy(m.payload)
            )),
            Ok(Event::Oversized { subject, sid, size }) => {
                seen.push(format!("oversized {subject} {sid} {size}"));
            }
            Ok(Event::ServerError(text)) => seen.push(format!("-ERR {text}")),
            Err(error) => return (seen, error),
        }
        assert!(
            seen.len() < 10_000,
            "events without end: the client does not advance"
        );
    }
}

#[tokio::test]
async fn handshake_sends_connect_and_ping_and_reads_max_payload() {
    let mut incoming = INFO.to_vec();
    incoming.extend_from_slice(b"PONG\r\n");
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let options = ConnectOptions::new().user_and_password("me", "secret");
    let client = Client::connect(Scripted::new(&incoming, 7), &mut rx, &mut tx, &options)
        .await
        .unwrap();
    assert_eq!(client.server_info().max_payload, 100);
    assert!(client.server_info().headers);
    let written = String::from_utf8(client.into_transport().written).unwrap();
    assert!(
        written.starts_with("CONNECT {\"verbose\":false,\"pedantic\":false,"),
        "{written}"
    );
    assert!(
        written.contains("\"user\":\"me\",\"pass\":\"secret\""),
        "{written}"
    );
    assert!(written.ends_with("}\r\nPING\r\n"), "{written}");
}

#[tokio::test]
async fn an_authorization_error_fails_the_handshake_with_the_servers_words() {
    let mut incoming = INFO.to_vec();
    incoming.extend_from_slice(b"-ERR 'Authorization Violation'\r\n");
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let result = Client::connect(
        Scripted::new(&incoming, 64),
        &mut rx,
        &mut tx,
        &ConnectOptions::new(),
    )
    .await;
    match result {
        Err(Error::Server(text)) => assert_eq!(text.as_str(), "Authorization Violation"),
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(_) => panic!("connected despite -ERR"),
    }
}

#[tokio::test]
async fn messages_at_one_over_and_far_over_the_buffer() {
    let rx_len = 80;
    // The payload length whose whole frame is exactly the receive buffer.
    let line_len = |n: usize| format!("MSG s 1 {n}\r\n").len();
    let at = (1..rx_len)
        .find(|&n| line_len(n) + n + 2 == rx_len)
        .unwrap();
    let mut stream = Vec::new();
    stream.extend(msg("s", 1, &vec![b'a'; at]));
    stream.extend(msg("s", 1, &vec![b'b'; at + 1]));
    stream.extend(b"PING\r\n");
    stream.extend(msg("s", 1, &vec![b'c'; 10 * rx_len]));
    stream.extend(msg("s", 2, b"after"));
    let expected = vec![
        format!("s 1 {}", "a".repeat(at)),
        format!("oversized s 1 {}", at + 1),
        format!("oversized s 1 {}", 10 * rx_len),
        "s 2 after".to_string(),
    ];
    for piece in [1, 2, 3, 7, 64, 1000] {
        let (seen, end) = events(&stream, rx_len, piece).await;
        assert_eq!(seen, expected, "reads of {piece} bytes");
        assert_eq!(end, Error::Closed);
    }
}

#[tokio::test]
async fn server_pings_are_answered() {
    let mut after = b"PING\r\n".to_vec();
    after.extend(msg("s", 1, b"x"));
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let mut client = connected(&after, 3, &mut rx, &mut tx).await;
    assert!(matches!(client.next_event().await, Ok(Event::Message(_))));
    let written = String::from_utf8(client.into_transport().written).unwrap();
    assert!(written.ends_with("PING\r\nPONG\r\n"), "{written}");
}

#[tokio::test]
async fn a_wrong_length_after_an_oversized_message_is_a_protocol_error() {
    let mut stream = b"MSG s 1 100\r\n".to_vec();
    stream.extend(vec![b'x'; 101]); // one byte too many where \r\n belongs
    stream.extend(b"\r\n");
    let (seen, end) = events(&stream, 80, 5).await;
    assert_eq!(seen, vec!["oversized s 1 100"]);
    assert!(
        matches!(end, Error::Protocol(ProtocolError::MissingCrlf { .. })),
        "{end:?}"
    );
}

#[tokio::test]
async fn a_wrong_length_or_missing_crlf_is_a_protocol_error() {
    let (seen, end) = events(b"MSG s 1 3\r\nhello\r\n", 64, 64).await;
    assert!(seen.is_empty());
    assert_eq!(
        end,
        Error::Protocol(ProtocolError::MissingCrlf { offset: 14 })
    );
    let (_, end) = events(b"PONG\n", 64, 64).await;
    assert_eq!(
        end,
        Error::Protocol(ProtocolError::MissingCrlf { offset: 4 })
    );
    let (_, end) = events(&[b'x'; 100], 64, 64).await;
    assert_eq!(
        end,
        Error::Protocol(ProtocolError::ControlLineTooLong { limit: 62 })
    );
}

#[tokio::test]
async fn publishing_checks_max_payload_and_arguments_before_sending() {
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let mut client = connected(b"", 64, &mut rx, &mut tx).await;
    assert_eq!(
        client.publish("s", None, &[0u8; 101]).await,
        Err(Error::PayloadTooLarge {
            size: 101,
            max_payload: 100
        })
    );
    assert_eq!(
        client.publish("a b", None, b"x").await,
        Err(Error::InvalidArgument("subject"))
    );
    assert_eq!(
        client.publish("s", Some(""), b"x").await,
        Err(Error::InvalidArgument("reply subject"))
    );
    let long_subject = "s".repeat(300);
    assert_eq!(
        client.publish(&long_subject, None, b"x").await,
        Err(Error::SendBufferTooSmall { capacity: 256 })
    );
    client.publish("s", Some("r"), &[b'p'; 100]).await.unwrap();
    client
        .publish_with_headers("h", None, &[("Nats-Msg-Id", "m1")], b"body")
        .await
        .unwrap();
    let written = client.into_transport().written;
    let after_handshake =
        &written[written.windows(6).position(|w| w == b"PING\r\n").unwrap() + 6..];
    let mut expected = b"PUB s r 100\r\n".to_vec();
    expected.extend([b'p'; 100]);
    expected.extend(b"\r\nHPUB h 29 33\r\nNATS/1.0\r\nNats-Msg-Id: m1\r\n\r\nbody\r\n");
    assert_eq!(
        String::from_utf8_lossy(after_handshake),
        String::from_utf8_lossy(&expected)
    );
}

/// Issue 14: a subject, reply subject, queue group or header holding a separator would start
/// another protocol command (nats-server splits at tabs too); every path refuses it, and
/// nothing reaches the transport.
#[tokio::test]
async fn separators_in_subjects_queue_groups_and_headers_are_refused_before_sending() {
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let mut client = connected(b"", 64, &mut rx, &mut tx).await;
    for bad in ["", "a\tb", "a\rb", "a\nPUB x 1", "a b", "a\u{7f}", "a\u{0}"] {
        let subject = Err(Error::InvalidArgument("subject"));
        assert_eq!(client.publish(bad, None, b"x").await, subject, "{bad:?}");
        assert_eq!(client.subscribe(bad, None).await.map(|_| ()), subject);
        assert_eq!(
            client.publish_with_headers(bad, None, &[], b"x").await,
            subject
        );
        let reply = Err(Error::InvalidArgument("reply subject"));
        assert_eq!(client.publish("s", Some(bad), b"x").await, reply);
        assert_eq!(
            client.publish_with_headers("s", Some(bad), &[], b"x").await,
            reply
        );
        assert_eq!(
            client.subscribe("s", Some(bad)).await.map(|_| ()),
            Err(Error::InvalidArgument("queue group"))
        );
        assert_eq!(
            client
                .publish_with_headers("s", None, &[(bad, "v")], b"x")
                .await,
            Err(Error::InvalidArgument("header name"))
        );
    }
    for value in ["v\r\nPUB x 1", "v\n", "v\r"] {
        assert_eq!(
            client
                .publish_with_headers("s", None, &[("X-A", value)], b"x")
                .await,
            Err(Error::InvalidArgument("header"))
        );
    }
    let written = client.into_transport().written;
    let after_handshake =
        &written[written.windows(6).position(|w| w == b"PING\r\n").unwrap() + 6..];
    assert!(
        after_handshake.is_empty(),
        "{:?}",
        String::from_utf8_lossy(after_handshake)
    );
}

#[tokio::test]
async fn unanswered_pings_make_the_connection_stale() {
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let mut client = connected(b"", 64, &mut rx, &mut tx).await;
    client.set_keepalive(Keepalive {
        interval: 10,
        max_outstanding: 2,
    });
    client.keepalive(0).await.unwrap(); // starts the clock
    client.keepalive(5).await.unwrap(); // not due
    assert_eq!(client.pings_outstanding(), 0);
    client.keepalive(10).await.unwrap();
    client.keepalive(20).await.unwrap();
    assert_eq!(client.pings_outstanding(), 2);
    assert_eq!(client.keepalive(30).await, Err(Error::StaleConnection));
}

/// Seeded mutations of a stream with normal, exact-fit and oversized messages (bytes changed,
/// dropped, duplicated): the client reports messages, oversized messages and then an error,
/// and never panics or stops advancing.
#[tokio::test]
async fn mutated_streams_end_in_an_error_never_a_panic() {
    let mut stream = Vec::new();
    stream.extend(msg("s", 1, &[b'a'; 40]));
    stream.extend(b"PING\r\n");
    stream.extend(msg("s", 2, &[b'b'; 300]));
    stream.extend(b"HMSG h 3 12 17\r\nNATS/1.0\r\n\r\nhello\r\n");
    stream.extend(msg("s", 4, b"end"));
    let mut random = common::below(0x9e37_79b9);
    for _ in 0..2_000 {
        let mut mutated = stream.clone();
        common::mutate(&mut mutated, 3, false, &mut random);
        let (_, end) = events(&mutated, 80 + random(100), 1 + random(40)).await;
        assert!(
            matches!(end, Error::Closed | Error::Protocol(_)),
            "unexpected end {end:?}"
        );
    }
}

fn hmsg(subject: &str, sid: u64, headers: &[u8], payload: &[u8]) -> Vec<u8> {
    let total = headers.len() + payload.len();
    let mut out = format!("HMSG {subject} {sid} {} {total}\r\n", headers.len()).into_bytes();
    out.extend_from_slice(headers);
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
    out
}

/// A sink that fails once it has taken `limit` bytes.
struct Failing {
    taken: Vec<u8>,
    limit: usize,
}

impl embedded_io_async::ErrorType for Failing {
    type Error = embedded_io_async::ErrorKind;
}

impl embedded_io_async::Write for Failing {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, embedded_io_async::ErrorKind> {
        if self.taken.len() + buf.len() > self.limit {
            return Err(embedded_io_async::ErrorKind::OutOfMemory);
        }
        self.taken.extend_from_slice(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), embedded_io_async::ErrorKind> {
        Ok(())
    }
}

#[tokio::test]
async fn oversized_messages_stream_through_the_buffer_whole_and_in_sync() {
    use natsbridge_embedded::client::{ReadError, Streamed};
    let headers = b"NATS/1.0\r\nNats-Sequence: 7\r\n\r\n";
    let body: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let mut stream = hmsg("s", 1, headers, &body);
    stream.extend(msg("s", 1, &body[..3000]));
    stream.extend(b"PING\r\n");
    stream.extend(hmsg("s", 1, headers, &body)); // the sink fails midway
    stream.extend(hmsg("s", 1, headers, &body)); // the headers buffer is too small
    stream.extend(msg("s", 2, b"after"));
    for piece in [1, 3, 64, 100, 4096] {
        let (mut rx, mut tx) = (vec![0u8; 100], [0u8; 256]);
        let mut client = connected(&stream, piece, &mut rx, &mut tx).await;
        let mut header_buf = [0u8; 64];
        let mut sink = Failing {
            taken: Vec::new(),
            limit: usize::MAX,
        };
        let Ok(Event::Oversized { size: 5030, .. }) = client.next_event().await else {
            panic!("reads of {piece}: the first message is not oversized");
        };
        let streamed = client.read_oversized(&mut header_buf, &mut sink).await;
        assert_eq!(
            streamed,
            Ok(Streamed {
                headers_len: headers.len(),
                body_len: body.len()
            }),
            "reads of {piece}"
        );
        assert_eq!(&header_buf[..headers.len()], headers);
        assert!(sink.taken == body, "reads of {piece}: the body differs");
        // A plain MSG, oversized too: no headers.
        assert!(matches!(
            client.next_event().await,
            Ok(Event::Oversized { size: 3000, .. })
        ));
        sink.taken.clear();
        let streamed = client
            .read_oversized(&mut header_buf, &mut sink)
            .await
            .unwrap();
        assert_eq!((streamed.headers_len, streamed.body_len), (0, 3000));
        assert!(sink.taken == body[..3000]);
        // Read twice: nothing more to read.
        let again = client.read_oversized(&mut header_buf, &mut sink).await;
        assert_eq!(again, Err(ReadError::NotOversized));

        assert!(matches!(
            client.next_event().await,
            Ok(Event::Oversized { .. })
        ));
        let mut failing = Failing {
            taken: Vec::new(),
            limit: 1000,
        };
        let failed = client.read_oversized(&mut header_buf, &mut failing).await;
        assert_eq!(
            failed,
            Err(ReadError::Sink(embedded_io_async::ErrorKind::OutOfMemory))
        );

        assert!(matches!(
            client.next_event().await,
            Ok(Event::Oversized { .. })
        ));
        let mut small = [0u8; 8];
        let refused = client.read_oversized(&mut small, &mut sink).await;
        assert_eq!(
            refused,
            Err(ReadError::HeadersTooLarge {
                needed: headers.len()
            })
        );

        // Still in sync: the next message arrives whole.
        match client.next_event().await {
            Ok(Event::Message(m)) => assert_eq!((m.sid, m.payload), (2, &b"after"[..])),
            other => panic!("reads of {piece}: {other:?}"),
        }
        assert_eq!(client.next_event().await.unwrap_err(), Error::Closed);
    }
}

#[tokio::test]
async fn a_wrong_length_in_a_streamed_message_is_a_protocol_error() {
    use natsbridge_embedded::client::ReadError;
    let mut stream = msg("s", 1, &[b'x'; 300]);
    let end = stream.len() - 2;
    stream[end] = b'y'; // no \r\n where the length says
    let (mut rx, mut tx) = (vec![0u8; 100], [0u8; 256]);
    let mut client = connected(&stream, 50, &mut rx, &mut tx).await;
    assert!(matches!(
        client.next_event().await,
        Ok(Event::Oversized { .. })
    ));
    let mut sink = Failing {
        taken: Vec::new(),
        limit: usize::MAX,
    };
    let result = client.read_oversized(&mut [0u8; 16], &mut sink).await;
    assert!(
        matches!(
            result,
            Err(ReadError::Nats(Error::Protocol(
                ProtocolError::MissingCrlf { .. }
            )))
        ),
        "{result:?}"
    );
}
