//! The no_std client against a real `nats-server` on loopback, through the tokio adapter of
//! `embedded-io-adapters`: connect (with and without credentials), subscribe, publish,
//! receive, ping, a message larger than the receive buffer, `max_payload`.

use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::client::{Client, Error, Event, Keepalive};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_test_support::NatsServer;
use tokio::net::TcpStream;

async fn tcp(server: &NatsServer) -> FromTokio<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .expect("connecting to nats-server");
    stream.set_nodelay(true).expect("no-delay");
    FromTokio::new(stream)
}

/// The next delivered message as (subject, sid, payload); fails on anything else.
async fn next_message<T>(client: &mut Client<'_, T>) -> (String, u64, Vec<u8>)
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    T::Error: std::fmt::Debug,
{
    match client.next_event().await.expect("an event") {
        Event::Message(m) => (m.subject.to_owned(), m.sid, m.payload.to_vec()),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn subscribe_publish_receive_and_ping() {
    let server = NatsServer::start();
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::connect(tcp(&server).await, &mut rx, &mut tx, &ConnectOptions::new())
        .await
        .expect("connect");
    assert_eq!(client.server_info().max_payload, 1024 * 1024);
    assert!(client.server_info().headers);
    let sid = client.subscribe("room.>", None).await.unwrap();
    client
        .publish("room.1", Some("reply.1"), b"hello")
        .await
        .unwrap();
    client
        .publish_with_headers("room.2", None, &[("Nats-Msg-Id", "m-1")], b"with headers")
        .await
        .unwrap();
    // A keepalive ping goes out before the next publish; its PONG arrives before the message.
    client.set_keepalive(Keepalive {
        interval: 0,
        max_outstanding: 1,
    });
    client.keepalive(0).await.unwrap();
    client.keepalive(0).await.unwrap();
    assert_eq!(client.pings_outstanding(), 1);
    client.publish("room.3", None, b"").await.unwrap();

    match client.next_event().await.unwrap() {
        Event::Message(m) => {
            assert_eq!(
                (m.subject, m.sid, m.reply_to),
                ("room.1", sid, Some("reply.1"))
            );
            assert_eq!(m.payload, b"hello");
            assert_eq!(m.headers, None);
        }
        other => panic!("{other:?}"),
    }
    match client.next_event().await.unwrap() {
        Event::Message(m) => {
            assert_eq!(m.subject, "room.2");
            assert_eq!(m.payload, b"with headers");
            let headers = std::str::from_utf8(m.headers.unwrap()).unwrap();
            assert!(headers.contains("Nats-Msg-Id: m-1"), "{headers}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        next_message(&mut client).await,
        ("room.3".into(), sid, vec![])
    );
    assert_eq!(client.pings_outstanding(), 0, "the server's PONG was seen");
}

#[tokio::test]
async fn a_message_larger_than_the_buffer_is_skipped_and_reported() {
    let server = NatsServer::start();
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut client = Client::connect(tcp(&server).await, &mut rx, &mut tx, &ConnectOptions::new())
        .await
        .unwrap();
    let sid = client.subscribe("big", None).await.unwrap();
    let fits = vec![b'f'; 1024 - "MSG big 1 1005\r\n".len() - 2];
    assert_eq!(fits.len(), 1006);
    client.publish("big", None, &fits).await.unwrap();
    client
        .publish("big", None, &vec![b'o'; fits.len() + 1])
        .await
        .unwrap();
    client
        .publish("big", None, &vec![b'x'; 200_000])
        .await
        .unwrap();
    client.publish("big", None, b"still in sync").await.unwrap();
    assert_eq!(next_message(&mut client).await.2, fits);
    for size in [fits.len() + 1, 200_000] {
        match client.next_event().await.unwrap() {
            Event::Oversized {
                subject,
                sid: s,
                size: reported,
            } => {
                assert_eq!((subject, s, reported), ("big", sid, size));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(next_message(&mut client).await.2, b"still in sync");
}

#[tokio::test]
async fn max_payload_is_checked_before_sending() {
    let server = NatsServer::builder().max_payload(4096).start();
    let (mut rx, mut tx) = ([0u8; 8192], [0u8; 512]);
    let mut client = Client::connect(tcp(&server).await, &mut rx, &mut tx, &ConnectOptions::new())
        .await
        .unwrap();
    assert_eq!(client.server_info().max_payload, 4096);
    client.subscribe("s", None).await.unwrap();
    assert!(matches!(
        client.publish("s", None, &[0u8; 4097]).await,
        Err(Error::PayloadTooLarge {
            size: 4097,
            max_payload: 4096
        })
    ));
    client.publish("s", None, &[7u8; 4096]).await.unwrap();
    assert_eq!(next_message(&mut client).await.2, vec![7u8; 4096]);
}

#[tokio::test]
async fn user_and_password_are_sent_and_a_wrong_one_is_refused() {
    let server = NatsServer::builder().user_password("dev", "s3cret").start();
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    let good = ConnectOptions::new().user_and_password("dev", "s3cret");
    let mut client = Client::connect(tcp(&server).await, &mut rx, &mut tx, &good)
        .await
        .unwrap();
    client.subscribe("a", None).await.unwrap();
    client.publish("a", None, b"in").await.unwrap();
    assert_eq!(next_message(&mut client).await.2, b"in");

    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    let bad = ConnectOptions::new().user_and_password("dev", "wrong");
    match Client::connect(tcp(&server).await, &mut rx, &mut tx, &bad).await {
        Err(Error::Server(text)) => assert!(text.contains("Authorization"), "{text}"),
        Err(other) => panic!("unexpected {other:?}"),
        Ok(_) => panic!("a wrong password was accepted"),
    }
}

#[tokio::test]
async fn a_token_is_sent() {
    let server = NatsServer::builder().token("t0ken").start();
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    let options = ConnectOptions::new().token("t0ken");
    let client = Client::connect(tcp(&server).await, &mut rx, &mut tx, &options).await;
    assert!(client.is_ok(), "{:?}", client.err());
}

#[tokio::test]
async fn a_stopped_server_is_reported_as_closed() {
    let mut server = NatsServer::start();
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::connect(tcp(&server).await, &mut rx, &mut tx, &ConnectOptions::new())
        .await
        .unwrap();
    server.stop();
    match client.next_event().await {
        Err(Error::Closed | Error::Transport(_)) => {}
        other => panic!("expected the connection to end, got {other:?}"),
    }
}

#[tokio::test]
async fn after_a_server_restart_the_reconnect_loop_subscribes_again() {
    let mut server = NatsServer::start();
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    {
        let mut client =
            Client::connect(tcp(&server).await, &mut rx, &mut tx, &ConnectOptions::new())
                .await
                .unwrap();
        client.subscribe("cmd", None).await.unwrap();
        server.restart();
        assert!(matches!(
            client.next_event().await,
            Err(Error::Closed | Error::Transport(_))
        ));
    }
    // The loop of examples/reconnect.rs: connect with backoff until it works, subscribe again.
    let backoff = natsbridge_embedded::backoff::Backoff::default();
    let mut attempt = 0;
    let stream = loop {
        match TcpStream::connect(("127.0.0.1", server.port())).await {
            Ok(stream) => break stream,
            Err(error) => {
                assert!(attempt < 50, "nats-server did not come back: {error}");
                let wait = backoff.delay_ms(attempt.min(5), 7919 * attempt);
                tokio::time::sleep(std::time::Duration::from_millis(wait.into())).await;
                attempt += 1;
            }
        }
    };
    let mut client = Client::connect(
        FromTokio::new(stream),
        &mut rx,
        &mut tx,
        &ConnectOptions::new(),
    )
    .await
    .unwrap();
    let sid = client.subscribe("cmd", None).await.unwrap();
    client.publish("cmd", None, b"after restart").await.unwrap();
    assert_eq!(
        next_message(&mut client).await,
        ("cmd".into(), sid, b"after restart".to_vec())
    );
}
