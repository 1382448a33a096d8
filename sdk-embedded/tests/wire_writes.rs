//! Speed on the wire (issue 15), against a real `nats-server`: each NATS frame and each HTTP
//! request head reaches the transport in one write when it fits the buffer it is built in,
//! large bodies take at most three, and nothing is flushed or waited for per publish; a burst
//! then one `flush` arrives whole.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{Counting, CountingConnector, Log, TokioConnector, pseudo_random};
use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::http::{self, Url};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{NoFileServer, Outgoing, SendOptions, smartsend};
use natsbridge_embedded::{EnvelopeFields, MessageEnvelope, PayloadType};
use natsbridge_test_support::NatsServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Counted = Counting<FromTokio<TcpStream>>;

/// A client whose transport logs its writes into the returned log.
async fn counted<'b>(
    server: &NatsServer,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> (Client<'b, Counted>, Log) {
    let log = Log::default();
    let inner = common::connect("127.0.0.1", server.port())
        .await
        .expect("connecting to nats-server");
    let transport = Counting {
        inner,
        log: log.clone(),
    };
    let client = Client::connect(transport, rx, tx, &ConnectOptions::new())
        .await
        .expect("connect");
    (client, log)
}

/// The writes logged since the last call, and the flushes.
fn take(log: &Log) -> (Vec<usize>, usize) {
    let mut log = log.borrow_mut();
    let writes = std::mem::take(&mut log.writes);
    (writes, std::mem::take(&mut log.flushes))
}

/// The next message's payload on a plain (uncounted) subscriber.
async fn next_payload<T>(client: &mut Client<'_, T>) -> Vec<u8>
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    T::Error: std::fmt::Debug,
{
    match client.next_event().await.expect("an event") {
        Event::Message(m) => m.payload.to_vec(),
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn subscriber<'b>(
    server: &NatsServer,
    subject: &str,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Client<'b, FromTokio<TcpStream>> {
    let stream = common::connect("127.0.0.1", server.port()).await.unwrap();
    let mut client = Client::connect(stream, rx, tx, &ConnectOptions::new())
        .await
        .expect("connect");
    client.subscribe(subject, None).await.unwrap();
    round_trip(&mut client).await;
    client
}

/// Publishes a probe to a subject of the client's own and waits for it: the server has then
/// handled everything the client sent before.
async fn round_trip<T>(client: &mut Client<'_, T>)
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    T::Error: std::fmt::Debug,
{
    let sid = client.subscribe("_probe", None).await.unwrap();
    client.publish("_probe", None, b"p").await.unwrap();
    loop {
        if let Event::Message(m) = client.next_event().await.unwrap()
            && m.sid == sid
        {
            break;
        }
    }
    client.unsubscribe(sid, None).await.unwrap();
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test]
async fn each_small_frame_is_one_write_and_nothing_is_flushed() {
    let server = NatsServer::start();
    let (mut srx, mut stx) = (vec![0u8; 4096], vec![0u8; 512]);
    let mut sub = subscriber(&server, "w.>", &mut srx, &mut stx).await;
    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 512]);
    let (mut client, log) = counted(&server, &mut rx, &mut tx).await;
    take(&log);

    let body = pattern(128, 1);
    for i in 0..50 {
        client
            .publish(&format!("w.{i}"), None, &body)
            .await
            .unwrap();
    }
    client
        .publish_with_headers("w.h", Some("r.1"), &[("Nats-Msg-Id", "m-1")], &body)
        .await
        .unwrap();
    client.subscribe("other", None).await.unwrap();
    client.ping().await.unwrap();
    let (writes, flushes) = take(&log);
    let line = "PUB w.0 128\r\n".len();
    assert_eq!(writes.len(), 53, "one write per frame: {writes:?}");
    assert_eq!(writes[0], line + 128 + 2, "line, body and CRLF together");
    assert_eq!(flushes, 0, "publishing flushes nothing");
    for i in 0..50 {
        assert_eq!(next_payload(&mut sub).await, body, "message {i}");
    }
    assert_eq!(next_payload(&mut sub).await, body, "the HPUB one");

    // smartsend of a 128-byte payload: the envelope goes out in one write.
    let mut envelope = Box::<MessageEnvelope>::default();
    let mut out = vec![0u8; 2048];
    let outgoing = [Outgoing::new("reading", PayloadType::Binary, &body)];
    // The frame must fit the send buffer: use a client with a larger one.
    drop(client);
    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 2048]);
    let (mut client, log) = counted(&server, &mut rx, &mut tx).await;
    take(&log);
    let len = smartsend(
        &mut client,
        &mut envelope,
        &EnvelopeFields::default(),
        "w.smart",
        &outgoing,
        &SendOptions::default(),
        &mut NoFileServer,
        &mut out,
        pseudo_random(),
    )
    .await
    .expect("smartsend");
    let (writes, flushes) = take(&log);
    assert_eq!(writes.len(), 1, "smartsend is one write: {writes:?}");
    assert!(
        writes[0] > len,
        "the whole frame: {writes:?} for {len} bytes of JSON"
    );
    assert_eq!(flushes, 0);
    assert_eq!(next_payload(&mut sub).await, &out[..len]);
}

#[tokio::test]
async fn large_bodies_take_two_or_three_writes_and_arrive_whole() {
    let server = NatsServer::start();
    let (mut srx, mut stx) = (vec![0u8; 8192], vec![0u8; 512]);
    let mut sub = subscriber(&server, "big", &mut srx, &mut stx).await;
    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 256]);
    let (mut client, log) = counted(&server, &mut rx, &mut tx).await;
    take(&log);
    let line = "PUB big 300\r\n".len();

    // 300 bytes: the line and 243 bytes fill the buffer, the other 57 go with the CRLF.
    let medium = pattern(300, 2);
    client.publish("big", None, &medium).await.unwrap();
    let (writes, flushes) = take(&log);
    assert_eq!(writes, vec![256, 300 - (256 - line) + 2]);
    assert_eq!(flushes, 0);
    assert_eq!(next_payload(&mut sub).await, medium);

    // 5000 bytes: head with the line, the middle straight from the slice, a buffer-full
    // tail with the CRLF.
    let large = pattern(5000, 3);
    client.publish("big", None, &large).await.unwrap();
    let (writes, _) = take(&log);
    let line = "PUB big 5000\r\n".len();
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert_eq!(writes[0], 256);
    assert_eq!(writes[2], 256);
    assert_eq!(writes.iter().sum::<usize>(), line + 5000 + 2);
    assert_eq!(next_payload(&mut sub).await, large);

    // The body fits the buffer but its CRLF does not: two writes.
    let edge_len = 256 - "PUB big 242\r\n".len() - 1;
    assert_eq!(edge_len, 242);
    let edge = pattern(edge_len, 4);
    client.publish("big", None, &edge).await.unwrap();
    let (writes, _) = take(&log);
    assert_eq!(writes, vec![255, 2]);
    assert_eq!(next_payload(&mut sub).await, edge);
}

#[tokio::test]
async fn a_burst_then_one_flush_all_arrive_in_order() {
    let server = NatsServer::start();
    let (mut srx, mut stx) = (vec![0u8; 4096], vec![0u8; 512]);
    let mut sub = subscriber(&server, "burst", &mut srx, &mut stx).await;
    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 512]);
    let (mut client, log) = counted(&server, &mut rx, &mut tx).await;
    take(&log);
    const N: u32 = 2000;
    for i in 0..N {
        client
            .publish("burst", None, format!("{i:0>128}").as_bytes())
            .await
            .unwrap();
    }
    client.flush().await.unwrap();
    let (writes, flushes) = take(&log);
    assert_eq!(writes.len(), N as usize);
    assert_eq!(flushes, 1, "the one explicit flush");
    // Closing right after the flush loses nothing.
    drop(client);
    for i in 0..N {
        let got = next_payload(&mut sub).await;
        assert_eq!(got, format!("{i:0>128}").as_bytes(), "message {i}");
    }
}

#[tokio::test]
async fn an_http_request_head_and_small_body_are_one_write() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut requests = Vec::new();
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read until the head and the Content-Length body are in.
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                assert!(n > 0, "request cut short");
            }
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            requests.push(request);
        }
        requests
    });
    let log: Log = Rc::new(RefCell::new(common::WriteLog::default()));
    let mut connector = CountingConnector(TokioConnector, log.clone());
    let url_text = format!("http://127.0.0.1:{port}/upload/a.bin");
    let url = Url::parse(&url_text).unwrap();
    let mut work = [0u8; 512];
    let body = pattern(100, 5);
    let pieces: [&[u8]; 3] = [b"--preamble\r\n", &body, b"\r\n--end--\r\n"];
    let response = http::request(&mut connector, &mut work, "PUT", &url, &[], Some(&pieces))
        .await
        .expect("request");
    assert_eq!(response.status, 200);
    drop(response);
    let (writes, _) = take(&log);
    assert_eq!(writes.len(), 1, "head and body in one write: {writes:?}");

    // A body larger than the work buffer: the head with the pieces that fit, then the rest.
    let big = pattern(2000, 6);
    let pieces: [&[u8]; 3] = [b"--preamble\r\n", &big, b"\r\n--end--\r\n"];
    let response = http::request(&mut connector, &mut work, "PUT", &url, &[], Some(&pieces))
        .await
        .expect("request");
    assert_eq!(response.status, 200);
    drop(response);
    let (writes, _) = take(&log);
    assert_eq!(writes.len(), 3, "head+preamble, body, epilogue: {writes:?}");

    let requests = server.await.unwrap();
    for (request, data) in requests.iter().zip([&body, &big]) {
        let mut expected = b"--preamble\r\n".to_vec();
        expected.extend_from_slice(data);
        expected.extend_from_slice(b"\r\n--end--\r\n");
        assert!(request.ends_with(&expected), "the body arrived whole");
        assert!(request.starts_with(b"PUT /upload/a.bin HTTP/1.1\r\n"));
    }
}

#[tokio::test]
async fn a_buffering_transport_is_flushed_before_the_client_waits_to_read() {
    // A tokio BufWriter sends nothing until flushed, as a TLS stream does: the handshake and
    // a publish to our own subscription still complete, with one flush per wait.
    let server = NatsServer::start();
    let stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let log = Log::default();
    let transport = Counting {
        inner: FromTokio::new(tokio::io::BufWriter::with_capacity(64 * 1024, stream)),
        log: log.clone(),
    };
    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 512]);
    let mut client = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        Client::connect(transport, &mut rx, &mut tx, &ConnectOptions::new()),
    )
    .await
    .expect("the handshake does not stall on an unflushed CONNECT")
    .expect("connect");
    assert!(
        log.borrow().flushes >= 1,
        "flushed before waiting for the PONG"
    );
    client.subscribe("buffered", None).await.unwrap();
    for i in 0..3 {
        client
            .publish("buffered", None, format!("m{i}").as_bytes())
            .await
            .unwrap();
    }
    take(&log);
    for i in 0..3 {
        let got = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            next_payload(&mut client),
        )
        .await
        .expect("the publishes were flushed before waiting");
        assert_eq!(got, format!("m{i}").as_bytes());
    }
    let (_, flushes) = take(&log);
    assert_eq!(flushes, 1, "one flush for the burst, none per message");
}
