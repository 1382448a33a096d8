//! The std client against a real `nats-server` and real file servers (nginx WebDAV, the
//! JetStream Object Store), each started by the test on a free loopback port.

use std::time::Duration;

use futures_util::StreamExt;
use natsbridge::{
    Client, ConnectOptions, Data, ErrorKind, Payload, PayloadType, Place, Received, RetryPolicy,
    SendOptions, Transport, async_nats,
};
use natsbridge_test_support::{NatsServer, Nginx};

/// A safety net so that a broken test fails instead of hanging; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

fn every_type(size: usize) -> Vec<Payload> {
    let bytes = |seed: u8| {
        (0..size)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect::<Vec<u8>>()
    };
    let text: String = "héllo wörld "
        .repeat(size / 13 + 1)
        .chars()
        .take(size)
        .collect();
    let rows: Vec<serde_json::Value> = (0..size / 20 + 1)
        .map(|i| serde_json::json!({"row": i, "ok": true}))
        .collect();
    vec![
        Payload::text("note.txt", text),
        Payload::dictionary("rows.json", &rows).unwrap(),
        Payload::table("table.arrow", bytes(1)),
        Payload::image("photo.png", bytes(2)),
        Payload::audio("sound.wav", bytes(3)),
        Payload::video("clip.mp4", bytes(4)),
        Payload::binary("blob.bin", bytes(5)),
    ]
}

fn serialized(payload: &Payload) -> Vec<u8> {
    match payload.source() {
        natsbridge::Source::Bytes(bytes) => bytes.to_vec(),
        natsbridge::Source::File(path) => std::fs::read(path).unwrap(),
    }
}

fn assert_same(sent: &[Payload], received: &[natsbridge::ReceivedPayload], transport: Transport) {
    assert_eq!(received.len(), sent.len());
    for (want, got) in sent.iter().zip(received) {
        assert_eq!(got.dataname, want.dataname());
        assert_eq!(&got.payload_type, want.payload_type());
        assert_eq!(got.transport, transport, "{}", got.dataname);
        let bytes = match &got.data {
            Data::Text(text) => text.as_bytes().to_vec(),
            Data::Json(value) => natsbridge::wire::canonical_json(value).into_bytes(),
            Data::Bytes(bytes) => bytes.to_vec(),
        };
        assert_eq!(bytes, serialized(want), "{}", got.dataname);
    }
}

/// A client uploading to `nginx` with HTTP PUT, retrying downloads as `retry` says.
async fn put_client(server: &NatsServer, nginx: &Nginx, retry: RetryPolicy) -> Client {
    ConnectOptions::new()
        .http_put(nginx.url())
        .retry(retry)
        .connect(&server.url())
        .await
        .unwrap()
}

async fn round_trip(
    client: &Client,
    subject: &str,
    payloads: Vec<Payload>,
    options: &SendOptions,
) -> Received {
    let mut inbox = client.subscribe(subject).await.unwrap();
    let sent = client.smartsend(subject, payloads, options).await.unwrap();
    let received = within("receiving", inbox.next()).await.unwrap().unwrap();
    assert_eq!(
        received.envelope,
        as_received(&sent),
        "the receiver sees the envelope that was sent"
    );
    received
}

/// `sent` as a receiver holds it: a direct payload's data is in `Received::payloads`, its
/// base64 text not kept in the envelope.
fn as_received(sent: &natsbridge::MessageEnvelope) -> natsbridge::MessageEnvelope {
    let mut envelope = sent.clone();
    for payload in &mut envelope.payloads {
        if payload.transport == Transport::Direct {
            payload.data.clear();
        }
    }
    envelope
}

#[tokio::test]
async fn every_payload_type_travels_direct() {
    let server = NatsServer::start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let payloads = every_type(1000);
    let received = round_trip(
        &client,
        "/chat/room1",
        payloads.clone(),
        &SendOptions::new(),
    )
    .await;
    assert_same(&payloads, &received.payloads, Transport::Direct);
    assert_eq!(received.envelope.broker_url, server.url());
    assert_eq!(received.envelope.sender_id, client.sender_id());
}

#[tokio::test]
async fn every_payload_type_travels_as_a_link_through_nginx() {
    let server = NatsServer::start();
    let nginx = Nginx::start();
    let client = put_client(&server, &nginx, RetryPolicy::default()).await;
    let payloads = every_type(3000);
    let options = SendOptions::new().size_threshold(2000);
    let received = round_trip(&client, "chat.links", payloads.clone(), &options).await;
    assert_same(&payloads, &received.payloads, Transport::Link);
    for payload in &received.envelope.payloads {
        assert!(payload.data.starts_with(&nginx.url()), "{}", payload.data);
        assert!(
            payload.metadata["checksum"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
    }
}

#[tokio::test]
async fn mixed_transports_in_one_envelope_keep_their_order() {
    let server = NatsServer::start();
    let nginx = Nginx::start();
    let client = put_client(&server, &nginx, RetryPolicy::default()).await;
    let big = vec![7u8; 5000];
    let payloads = vec![
        Payload::text("caption", "small"),
        Payload::binary("big.bin", big.clone()),
        Payload::dictionary("meta", &serde_json::json!({"n": 1})).unwrap(),
    ];
    let received = round_trip(
        &client,
        "mixed",
        payloads,
        &SendOptions::new().size_threshold(4096),
    )
    .await;
    let transports: Vec<_> = received
        .payloads
        .iter()
        .map(|p| p.transport.clone())
        .collect();
    assert_eq!(
        transports,
        [Transport::Direct, Transport::Link, Transport::Direct]
    );
    assert_eq!(
        received.payload("big.bin").unwrap().data,
        Data::Bytes(big.into())
    );
}

#[tokio::test]
async fn the_object_store_carries_link_payloads_without_a_file_server() {
    let server = NatsServer::start();
    let client = ConnectOptions::new()
        .object_store("natsbridge-links")
        .connect(&server.url())
        .await
        .unwrap();
    let payloads = vec![Payload::binary("data/with spaces.bin", vec![42u8; 300_000])];
    let received = round_trip(
        &client,
        "objects",
        payloads.clone(),
        &SendOptions::new().size_threshold(1000),
    )
    .await;
    assert_same(&payloads, &received.payloads, Transport::Link);
    assert!(
        received.envelope.payloads[0]
            .data
            .starts_with("nats-object-store://natsbridge-links/")
    );
}

#[tokio::test]
async fn an_object_store_bucket_deleted_between_messages_is_made_again() {
    let server = NatsServer::start();
    let client = ConnectOptions::new()
        .object_store("natsbridge-again")
        .connect(&server.url())
        .await
        .unwrap();
    let options = SendOptions::new().size_threshold(1000);
    for round in 0..3u8 {
        let payloads = vec![Payload::binary("round.bin", vec![round; 50_000])];
        let received = round_trip(&client, "objects", payloads.clone(), &options).await;
        assert_same(&payloads, &received.payloads, Transport::Link);
        // Both the sender and the receiver now hold the opened bucket; take it away under them.
        client
            .jetstream()
            .delete_object_store("natsbridge-again")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_large_link_payload_streams_to_a_file() {
    let server = NatsServer::start();
    let nginx = Nginx::start();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let content: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&source, &content).unwrap();
    let client = put_client(&server, &nginx, RetryPolicy::default()).await;
    let mut inbox = client.raw_subscribe("files").await.unwrap();
    let sent = client
        .smartsend(
            "files",
            vec![Payload::file("big.bin", PayloadType::Binary, &source)],
            &SendOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(sent.payloads[0].transport, Transport::Link);
    let message = within("receiving", inbox.next()).await.unwrap();
    let envelope = natsbridge::MessageEnvelope::from_json(&message.payload).unwrap();
    let target = dir.path().join("received.bin");
    let size = client.payload_to_file(&envelope, 0, &target).await.unwrap();
    assert_eq!(size, 5_000_000);
    assert!(
        std::fs::read(&target).unwrap() == content,
        "the streamed file differs"
    );
}

#[tokio::test]
async fn over_max_payload_direct_payloads_move_to_link() {
    let server = NatsServer::builder().max_payload(64 * 1024).start();
    let nginx = Nginx::start();
    let client = put_client(&server, &nginx, RetryPolicy::default()).await;
    assert_eq!(client.max_payload(), 64 * 1024);
    // Both are under the size threshold, but together (base64) they exceed 64 KiB.
    let payloads = vec![
        Payload::binary("a.bin", vec![1u8; 30_000]),
        Payload::binary("b.bin", vec![2u8; 40_000]),
    ];
    let received = round_trip(&client, "limits", payloads.clone(), &SendOptions::new()).await;
    assert_same(&payloads[..1], &received.payloads[..1], Transport::Direct);
    assert_same(&payloads[1..], &received.payloads[1..], Transport::Link);
}

#[tokio::test]
async fn over_max_payload_without_a_file_server_fails_before_publishing() {
    let server = NatsServer::builder().max_payload(64 * 1024).start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let mut inbox = client.raw_subscribe("limits").await.unwrap();
    let error = client
        .smartsend(
            "limits",
            vec![Payload::binary("huge.bin", vec![0u8; 60_000])],
            &SendOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooLarge);
    assert!(error.to_string().contains("huge.bin"), "{error}");
    // The connection survives (nothing over the limit was sent) and nothing was published.
    client
        .smartsend(
            "limits",
            vec![Payload::text("after", "ok")],
            &SendOptions::new(),
        )
        .await
        .unwrap();
    let first = within("receiving", inbox.next()).await.unwrap();
    let envelope = natsbridge::MessageEnvelope::from_json(&first.payload).unwrap();
    assert_eq!(envelope.payloads[0].dataname, "after");
}

#[tokio::test]
async fn request_and_reply_match_by_msg_id_and_keep_the_correlation_id() {
    let server = NatsServer::start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let responder = natsbridge::connect(&server.url()).await.unwrap();
    let mut requests = responder.subscribe("service.upper").await.unwrap();
    let serve = tokio::spawn(async move {
        let request = requests.next().await.unwrap().unwrap();
        let text = request.payloads[0].data.as_text().unwrap().to_uppercase();
        responder
            .reply(
                &request,
                vec![Payload::text("answer", text)],
                &SendOptions::new(),
            )
            .await
            .unwrap()
    });
    let options = SendOptions::new().correlation_id("conversation-1");
    let question = vec![Payload::text("question", "shout")];
    let reply = within(
        "the request",
        client.request("service.upper", question, &options, Duration::from_secs(10)),
    )
    .await
    .unwrap();
    let sent_reply = serve.await.unwrap();
    assert_eq!(reply.envelope, as_received(&sent_reply));
    assert_eq!(reply.envelope.correlation_id, "conversation-1");
    assert_eq!(reply.envelope.receiver_id, client.sender_id());
    assert_eq!(
        reply.envelope.receiver_name, "NATSBridge",
        "the request's sender_name"
    );
    assert_eq!(reply.payloads[0].data.as_text(), Some("SHOUT"));
}

#[tokio::test]
async fn a_request_without_a_responder_is_no_responders_and_a_silent_one_times_out() {
    let server = NatsServer::start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let error = client
        .request(
            "nobody.home",
            vec![],
            &SendOptions::new(),
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoResponders, "{error}");
    assert_eq!(error.at(), "nobody.home");
    // Someone listens but never answers: the request waits out its timeout.
    let _silent = client.subscribe("silent.home").await.unwrap();
    let error = client
        .request(
            "silent.home",
            vec![],
            &SendOptions::new(),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert_eq!(error.at(), "silent.home");
}

#[tokio::test]
async fn jetstream_publish_is_acknowledged_and_deduplicated_and_durable_receive_acks_after_download()
 {
    use async_nats::jetstream::stream;
    let server = NatsServer::start();
    let mut nginx = Nginx::start();
    let quick = RetryPolicy::new(2, Duration::from_millis(10), Duration::from_millis(20));
    let client = put_client(&server, &nginx, quick).await;
    let config = stream::Config {
        name: "EVENTS".into(),
        subjects: vec!["events.>".into()],
        ..Default::default()
    };
    client.jetstream().create_stream(config).await.unwrap();
    let options = SendOptions::new()
        .jetstream(true)
        .msg_id("fixed-id")
        .size_threshold(100);
    let payloads = vec![Payload::binary("reading.bin", vec![9u8; 500])];
    client
        .smartsend("events.sensor", payloads.clone(), &options)
        .await
        .unwrap();
    client
        .smartsend("events.sensor", payloads, &options)
        .await
        .unwrap(); // a duplicate
    let mut stream = client.jetstream().get_stream("EVENTS").await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        1,
        "Nats-Msg-Id de-duplicates"
    );

    // The file server is down: the first delivery fails and is not acknowledged.
    nginx.stop();
    let mut receiver = client
        .durable_receiver("EVENTS", "worker", "events.>")
        .await
        .unwrap();
    let error = within("the first delivery", receiver.next())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Download, "{error}");
    // Back up: the message is redelivered and then acknowledged.
    nginx.restart();
    let received = within("the redelivery", receiver.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received.envelope.msg_id, "fixed-id");
    assert_eq!(
        received.payloads[0].data,
        Data::Bytes(vec![9u8; 500].into())
    );
    let mut consumer: async_nats::jetstream::consumer::PullConsumer =
        stream.get_consumer("worker").await.unwrap();
    let info = consumer.info().await.unwrap();
    assert_eq!(
        (info.num_ack_pending, info.num_pending),
        (0, 0),
        "acknowledged, nothing left"
    );
}

#[tokio::test]
async fn a_download_retries_while_the_file_server_is_down_and_succeeds_once_it_is_back() {
    let server = NatsServer::start();
    let mut nginx = Nginx::start();
    let patient = RetryPolicy::new(40, Duration::from_millis(50), Duration::from_millis(400));
    let client = put_client(&server, &nginx, patient).await;
    let mut inbox = client.raw_subscribe("retry").await.unwrap();
    let payloads = vec![Payload::binary("x.bin", vec![5u8; 4000])];
    client
        .smartsend("retry", payloads, &SendOptions::new().size_threshold(10))
        .await
        .unwrap();
    let message = within("receiving", inbox.next()).await.unwrap();
    nginx.stop();
    let receiving = tokio::spawn({
        let client = client.clone();
        async move { client.smartreceive(&message).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !receiving.is_finished(),
        "the download keeps retrying while the server is down"
    );
    nginx.restart();
    let received = within("the download", receiving).await.unwrap().unwrap();
    assert_eq!(
        received.payloads[0].data,
        Data::Bytes(vec![5u8; 4000].into())
    );
}

/// A receiver whose retries would take many minutes: a permanent failure must not wait.
fn slow_retries() -> RetryPolicy {
    RetryPolicy::new(5, Duration::from_secs(600), Duration::from_secs(600))
}

async fn sent_link(nginx: &Nginx, server: &NatsServer) -> (Client, async_nats::Message, String) {
    sent_link_of(nginx, server, 2048).await
}

async fn sent_link_of(
    nginx: &Nginx,
    server: &NatsServer,
    size: usize,
) -> (Client, async_nats::Message, String) {
    let client = put_client(server, nginx, slow_retries()).await;
    let mut inbox = client.raw_subscribe("faults").await.unwrap();
    let payloads = vec![Payload::binary("victim.bin", vec![1u8; size])];
    let sent = client
        .smartsend("faults", payloads, &SendOptions::new().size_threshold(1))
        .await
        .unwrap();
    let message = within("receiving", inbox.next()).await.unwrap();
    (client, message, sent.payloads[0].data.clone())
}

#[tokio::test]
async fn a_404_fails_at_once_naming_the_payload_and_the_url() {
    let server = NatsServer::start();
    let nginx = Nginx::start();
    let (client, message, url) = sent_link(&nginx, &server).await;
    std::fs::remove_dir_all(nginx.root()).unwrap();
    std::fs::create_dir(nginx.root()).unwrap();
    let error = within("a permanent failure", client.smartreceive(&message))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Download);
    assert_eq!(error.at(), url);
    assert_eq!(error.place(), &Place::Url(url.clone()));
    assert_eq!(error.payload(), Some("victim.bin"));
    assert!(
        error.message().contains("victim.bin") && error.message().contains("404"),
        "{error}"
    );
}

#[tokio::test]
async fn a_checksum_or_size_mismatch_fails_at_once() {
    let server = NatsServer::start();
    let nginx = Nginx::start();
    let (client, message, url) = sent_link(&nginx, &server).await;
    let path = nginx
        .root()
        .join(url.trim_start_matches(&format!("{}/", nginx.url())));
    std::fs::write(&path, vec![2u8; 2048]).unwrap(); // same size, other bytes
    let error = within("a permanent failure", client.smartreceive(&message))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ChecksumMismatch);
    assert_eq!(error.at(), url);
    assert!(error.message().contains("victim.bin"), "{error}");

    std::fs::write(&path, vec![1u8; 100]).unwrap(); // other size
    let error = within("a permanent failure", client.smartreceive(&message))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SizeMismatch, "{error}");
}

/// Payloads from 1 MiB up are hashed on a thread beside the download: a changed byte in the
/// middle of one is still caught, and an unchanged one still passes.
#[tokio::test]
async fn a_large_download_hashed_beside_it_is_verified() {
    let server = NatsServer::start();
    let nginx = Nginx::start();
    let size = 3 << 20;
    let (client, message, url) = sent_link_of(&nginx, &server, size).await;
    let received = within("a good download", client.smartreceive(&message))
        .await
        .unwrap();
    assert_eq!(
        received.payloads[0].data,
        Data::Bytes(vec![1u8; size].into())
    );
    let path = nginx
        .root()
        .join(url.trim_start_matches(&format!("{}/", nginx.url())));
    let mut bytes = vec![1u8; size];
    bytes[size / 2] = 0;
    std::fs::write(&path, bytes).unwrap();
    let error = within("a permanent failure", client.smartreceive(&message))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ChecksumMismatch, "{error}");
    assert_eq!(error.at(), url);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error() {
    let server = NatsServer::start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let error = client
        .smartsend("has space", vec![], &SendOptions::new())
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::InvalidInput, "send_to")
    );
    let error = Payload::dictionary("n", &42).unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::InvalidInput, "payload \"n\"")
    );
    let missing = vec![Payload::file(
        "gone",
        PayloadType::Binary,
        "/nonexistent/file",
    )];
    let error = client
        .smartsend("x", missing, &SendOptions::new())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io);
    assert_eq!(error.payload(), Some("gone"));
    assert!(error.to_string().contains("/nonexistent/file"), "{error}");
    let cause = std::error::Error::source(&error).expect("the I/O error as the source");
    assert_eq!(
        cause.downcast_ref::<std::io::Error>().map(|e| e.kind()),
        Some(std::io::ErrorKind::NotFound),
        "{}",
        error.display_chain()
    );
    let error = ConnectOptions::new()
        .connect("nats://127.0.0.1:1")
        .await
        .err()
        .unwrap();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::Connect, "nats://127.0.0.1:1")
    );
    assert_eq!(error.place(), &Place::url("nats://127.0.0.1:1"));
    // async-nats's error is the source: a caller can match on it, a chain prints it once.
    let cause = std::error::Error::source(&error).expect("a source");
    assert!(
        cause.downcast_ref::<async_nats::ConnectError>().is_some(),
        "{cause:?}"
    );
    // (async-nats's ConnectError prints its own source too, so the chain goes on after it.)
    assert!(
        error
            .display_chain()
            .starts_with(&format!("{error}: {cause}")),
        "{}",
        error.display_chain()
    );
    assert!(
        !error.message().contains("refused"),
        "the message does not repeat the cause: {error}"
    );
}

#[tokio::test]
async fn auth_with_user_and_password_or_token() {
    let server = NatsServer::builder()
        .user_password("alice", "wonder")
        .start();
    assert!(natsbridge::connect(&server.url()).await.is_err());
    let client = ConnectOptions::new()
        .user_and_password("alice", "wonder")
        .name("test");
    let client = client.connect(&server.url()).await.unwrap();
    round_trip(
        &client,
        "auth",
        vec![Payload::text("t", "ok")],
        &SendOptions::new(),
    )
    .await;

    let server = NatsServer::builder().token("t0ken").start();
    let client = ConnectOptions::new()
        .token("t0ken")
        .connect(&server.url())
        .await
        .unwrap();
    round_trip(
        &client,
        "auth",
        vec![Payload::text("t", "ok")],
        &SendOptions::new(),
    )
    .await;
}

#[tokio::test]
async fn the_one_call_form_reuses_its_connection() {
    let server = NatsServer::start();
    let listener = natsbridge::connect(&server.url()).await.unwrap();
    let mut inbox = listener.subscribe("oneshot").await.unwrap();
    let options = SendOptions::new()
        .nats_url(server.url())
        .sender_name("script");
    let first = natsbridge::smartsend("oneshot", vec![Payload::text("n", "1")], &options)
        .await
        .unwrap();
    let second = natsbridge::smartsend("oneshot", vec![Payload::text("n", "2")], &options)
        .await
        .unwrap();
    assert_eq!(
        first.sender_id, second.sender_id,
        "one cached connection, one sender id"
    );
    for want in ["1", "2"] {
        let received = within("receiving", inbox.next()).await.unwrap().unwrap();
        assert_eq!(received.payloads[0].data.as_text(), Some(want));
        assert_eq!(received.envelope.sender_name, "script");
    }
}

/// `smartsend` only queues its frame; `flush` waits for the server. A sender whose runtime
/// ends right after its flush (as a program exits) still delivers every message of a burst.
#[tokio::test]
async fn a_burst_of_smartsends_then_flush_delivers_all_even_when_the_sender_stops_at_once() {
    const BURST: usize = 2000;
    let server = NatsServer::start();
    let listener = natsbridge::connect(&server.url()).await.unwrap();
    let mut inbox = listener.subscribe("burst").await.unwrap();
    let url = server.url();
    let sent: Vec<String> = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ids = runtime.block_on(async {
            let sender = natsbridge::connect(&url).await.unwrap();
            let mut ids = Vec::with_capacity(BURST);
            for n in 0..BURST {
                let payload = vec![Payload::binary("n", n.to_string().into_bytes())];
                let envelope = sender
                    .smartsend("burst", payload, &SendOptions::new())
                    .await
                    .unwrap();
                ids.push(envelope.msg_id);
            }
            sender.flush().await.unwrap();
            ids
        });
        // The connection's writer task dies with the runtime, as at a program's exit.
        runtime.shutdown_background();
        ids
    })
    .join()
    .unwrap();
    for (n, want) in sent.iter().enumerate() {
        let received = within("the burst", inbox.next()).await.unwrap().unwrap();
        assert_eq!(&received.envelope.msg_id, want, "message {n} in order");
        assert_eq!(
            received.payloads[0].data.as_bytes().map(|b| b.to_vec()),
            Some(n.to_string().into_bytes())
        );
    }
}

/// Requests share one wildcard reply subscription: many at once, answered in the reverse
/// order of their arrival, each get their own reply (matched by `reply_to_msg_id`, the
/// correlation id kept), and the server saw one reply SUB, not one per request.
#[tokio::test]
async fn concurrent_requests_share_one_reply_subscription_and_each_gets_its_own_answer() {
    const REQUESTS: usize = 100;
    let server = NatsServer::builder().extra_config("trace: true").start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let responder = natsbridge::connect(&server.url()).await.unwrap();
    let mut requests = responder.subscribe("service.many").await.unwrap();
    let serve = tokio::spawn(async move {
        let mut asked = Vec::new();
        for _ in 0..REQUESTS {
            asked.push(requests.next().await.unwrap().unwrap());
        }
        let reply_subjects: Vec<String> =
            asked.iter().map(|r| r.envelope.reply_to.clone()).collect();
        for request in asked.iter().rev() {
            let text = request.payloads[0].data.as_text().unwrap().to_uppercase();
            responder
                .reply(
                    request,
                    vec![Payload::text("answer", text)],
                    &SendOptions::new(),
                )
                .await
                .unwrap();
        }
        reply_subjects
    });
    let ask = |n: usize| {
        let client = client.clone();
        async move {
            let options = SendOptions::new().correlation_id(format!("conversation-{n}"));
            let question = vec![Payload::text("question", format!("ask {n}"))];
            let reply = client
                .request("service.many", question, &options, Duration::from_secs(30))
                .await
                .unwrap();
            (n, reply)
        }
    };
    let replies = within(
        "the requests",
        futures_util::future::join_all((0..REQUESTS).map(ask)),
    )
    .await;
    for (n, reply) in &replies {
        assert_eq!(reply.payloads[0].data.as_text(), Some(&*format!("ASK {n}")));
        assert_eq!(reply.envelope.correlation_id, format!("conversation-{n}"));
    }
    let subjects = serve.await.unwrap();
    let prefix = |s: &String| s.rsplit_once('.').unwrap().0.to_owned();
    let mut distinct = subjects.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), REQUESTS, "one reply subject per request");
    assert!(
        subjects.iter().all(|s| prefix(s) == prefix(&subjects[0])),
        "under one inbox prefix: {subjects:?}"
    );
    let log = server.log();
    let reply_subs = log
        .lines()
        .filter(|l| l.contains("<<- [SUB ") && l.contains(&prefix(&subjects[0])))
        .count();
    assert_eq!(reply_subs, 1, "one SUB for every reply inbox:\n{log}");
    // The shared subscription still reports no responders and timeouts per request.
    let none = SendOptions::new();
    let nobody = client.request("nobody.here", vec![], &none, Duration::from_secs(5));
    let error = within("no responders", nobody).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoResponders, "{error}");
    let _silent = client.subscribe("silent.here").await.unwrap();
    let silent = client.request("silent.here", vec![], &none, Duration::from_millis(300));
    let error = within("the timeout", silent).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
}

/// The waiting requests take turns reading the shared reply subscription: one that times out
/// while reading it hands over to the others, before and after its timeout.
#[tokio::test]
async fn a_request_timing_out_while_others_wait_does_not_hold_up_their_replies() {
    let server = NatsServer::start();
    let client = natsbridge::connect(&server.url()).await.unwrap();
    let responder = natsbridge::connect(&server.url()).await.unwrap();
    let _silent = client.subscribe("silent.turns").await.unwrap();
    let mut requests = responder.subscribe("echo.turns").await.unwrap();
    tokio::spawn(async move {
        while let Some(Ok(request)) = requests.next().await {
            let text = request.payloads[0].data.as_text().unwrap().to_owned();
            let answer = vec![Payload::text("answer", text)];
            responder
                .reply(&request, answer, &SendOptions::new())
                .await
                .unwrap();
        }
    });
    let none = SendOptions::new();
    let ask = |text: &'static str| {
        let client = client.clone();
        async move {
            let question = vec![Payload::text("question", text)];
            let reply = client
                .request("echo.turns", question, &SendOptions::new(), PATIENCE)
                .await
                .unwrap();
            assert_eq!(reply.payloads[0].data.as_text(), Some(text));
        }
    };
    // The silent request asks first, so it is the one reading when the echo's answer comes.
    let silent = client.request("silent.turns", vec![], &none, Duration::from_millis(500));
    let during = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        ask("during").await;
    };
    let (timed_out, ()) = within("the requests", futures_util::future::join(silent, during)).await;
    assert_eq!(timed_out.unwrap_err().kind(), ErrorKind::Timeout);
    within("a request after the timeout", ask("after")).await;
}
