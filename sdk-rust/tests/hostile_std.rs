//! Hostile messages against the std SDK (issue 14), each from a real peer over a real
//! `nats-server` (and a real `natsbridge serve-files`): a `reply_to` that would inject NATS
//! protocol, links to other ports of an allowed host, links into buckets nobody allowed, and
//! envelopes that would make an in-memory receive hold far more than it should.

use std::time::Duration;

use futures_util::StreamExt;
use natsbridge::async_nats;
use natsbridge::link::LinkPolicy;
use natsbridge::{
    ConnectOptions, EnvelopeComposer, ErrorKind, MessageEnvelope, Payload, SendOptions,
};
use natsbridge_test_support::{NatsServer, ServeFiles, free_port};

/// A safety net so that a broken test fails instead of hanging; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(120);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

/// The error of `result`; a success panics naming only its payload count (printing 300 MiB
/// of payloads would take the test down instead).
fn refused<T: std::fmt::Debug>(
    result: Result<natsbridge::Received, natsbridge::Error>,
    what: T,
) -> natsbridge::Error {
    match result {
        Ok(received) => panic!(
            "{what:?} was received ({} payloads) instead of refused",
            received.payloads.len()
        ),
        Err(error) => error,
    }
}

/// An envelope body as a hostile sender writes it (nothing checked on the way out).
async fn forged(subject: &str, options: &SendOptions) -> Vec<u8> {
    EnvelopeComposer::new("nats://127.0.0.1:4222", "attacker")
        .compose(subject, vec![Payload::text("q", "hi")], options)
        .await
        .unwrap()
        .to_json_vec()
}

/// Issue 14 item 1: a responder answering requests whose `reply_to` holds control bytes,
/// DEL or separators refuses each with `invalid_input` naming the value, and nothing is
/// published anywhere; the other paths that put a subject or header on the wire refuse too.
#[tokio::test]
async fn a_hostile_reply_to_is_refused_and_nothing_is_published_elsewhere() {
    let server = NatsServer::start();
    let responder = ConnectOptions::new().connect(&server.url()).await.unwrap();
    let mut requests = responder.raw_subscribe("service").await.unwrap();
    // After the responder's subscription: it confirms itself with a request nobody answers.
    let spy = async_nats::connect(server.url()).await.unwrap();
    let mut everything = spy.subscribe(">").await.unwrap();
    spy.flush().await.unwrap();
    let attacker = async_nats::connect(server.url()).await.unwrap();
    let hostile = [
        "victim\u{0}",
        "victim\u{7f}",
        "victim.\u{1}x",
        "victim\u{1b}[2J",
        "a\tb",
        "victim 5\r\nPUB evil 5\r\nhello",
    ];
    for reply_to in hostile {
        let body = forged("service", &SendOptions::new().reply_to(reply_to)).await;
        attacker.publish("service", body.into()).await.unwrap();
    }
    attacker.flush().await.unwrap();
    for reply_to in hostile {
        let message = within("a request", requests.next()).await.unwrap();
        let request = responder.smartreceive(&message).await.unwrap();
        assert_eq!(request.envelope.reply_to, reply_to);
        let error = responder
            .reply(
                &request,
                vec![Payload::text("a", "answer")],
                &SendOptions::new(),
            )
            .await
            .expect_err("a hostile reply_to is refused");
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert_eq!(error.at(), "reply_to");
        assert!(
            error.message().contains(&format!("{reply_to:?}")),
            "{error}"
        );
    }

    // The other ways a subject or header reaches the wire.
    let sent = responder
        .smartsend("ok", vec![], &SendOptions::new().reply_to("back\u{0}"))
        .await
        .expect_err("a reply subject with NUL");
    assert_eq!(
        (sent.kind(), sent.at()),
        (ErrorKind::InvalidInput, "reply_to")
    );
    let sent = responder
        .smartsend("chat\u{7f}", vec![], &SendOptions::new())
        .await
        .expect_err("a subject with DEL");
    assert_eq!(
        (sent.kind(), sent.at()),
        (ErrorKind::InvalidInput, "send_to")
    );
    let sent = responder
        .smartsend(
            "ok",
            vec![],
            &SendOptions::new()
                .jetstream(true)
                .msg_id("id\r\nNats-Expected-Stream: other"),
        )
        .await
        .expect_err("a Nats-Msg-Id with CR LF");
    assert_eq!(sent.kind(), ErrorKind::InvalidInput, "{sent}");
    assert!(sent.message().contains("Nats-Msg-Id"), "{sent}");
    let subscribed = responder.raw_subscribe("in\u{1}box").await.err();
    assert_eq!(
        subscribed.map(|e| (e.kind(), e.at().to_owned())),
        Some((ErrorKind::InvalidInput, "subject".to_owned()))
    );
    let requested = responder
        .request(
            "service",
            vec![],
            &SendOptions::new().reply_to("in\u{1}box"),
            Duration::from_secs(1),
        )
        .await
        .expect_err("a request with a hostile reply subject");
    assert_eq!(requested.kind(), ErrorKind::InvalidInput);

    // Only the requests and the sentinel went through the server.
    spy.publish("sentinel", "end".into()).await.unwrap();
    spy.flush().await.unwrap();
    let mut seen = Vec::new();
    loop {
        let message = within("the sentinel", everything.next()).await.unwrap();
        if message.subject.as_str() == "sentinel" {
            break;
        }
        seen.push(message.subject.to_string());
    }
    let unexpected: Vec<_> = seen
        .iter()
        .filter(|s| s.as_str() != "service" && !s.starts_with("_INBOX."))
        .collect();
    assert!(unexpected.is_empty(), "published elsewhere: {unexpected:?}");
}

/// The body of an envelope with `count` link payloads all pointing at `url` of `size`.
fn links_to(url: &str, size: u64, count: usize) -> Vec<u8> {
    let template = serde_json::json!({
        "dataname": "x.bin", "payload_type": "binary", "transport": "link",
        "encoding": "none", "size": size, "data": url, "metadata": {},
    });
    let payloads: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let mut payload = template.clone();
            payload["id"] = format!("00000000-0000-4000-8000-{i:012}").into();
            payload["dataname"] = format!("x{i}.bin").into();
            payload
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "correlation_id": "c", "msg_id": "m", "timestamp": "2026-12-03T00:00:00Z",
        "send_to": "s", "msg_purpose": "chat", "sender_name": "attacker", "sender_id": "a",
        "receiver_name": "", "receiver_id": "", "reply_to": "", "reply_to_msg_id": "",
        "broker_url": "nats://127.0.0.1:4222", "metadata": {}, "payloads": payloads,
    }))
    .unwrap()
}

/// Issue 14 item 6: allowing the file server allows its port only; a link to another port
/// of the same host (nats-server's monitoring port) is refused naming the URL.
#[tokio::test]
async fn a_link_to_another_port_of_the_file_server_host_is_refused() {
    let monitoring = free_port();
    let server = NatsServer::builder()
        .extra_config(&format!("http: 127.0.0.1:{monitoring}"))
        .start();
    let files = ServeFiles::start();
    let client = ConnectOptions::new()
        .plik(files.url())
        .connect(&server.url())
        .await
        .unwrap();
    let varz = format!("http://127.0.0.1:{monitoring}/varz");
    assert!(reqwest::get(&varz).await.unwrap().status().is_success());
    let error = refused(
        client.receive_body(&links_to(&varz, 100, 1)).await,
        "the monitoring port is not the file server",
    );
    assert_eq!(error.kind(), ErrorKind::LinkRefused, "{error}");
    assert_eq!(error.at(), varz);
    assert!(error.message().contains(&monitoring.to_string()), "{error}");

    // host:port entries allow exactly that port.
    let other = ServeFiles::start();
    let sent = ConnectOptions::new()
        .plik(other.url())
        .connect(&server.url())
        .await
        .unwrap()
        .smartsend(
            "nobody",
            vec![Payload::binary("b.bin", vec![1; 50])],
            &SendOptions::new().size_threshold(1),
        )
        .await
        .unwrap();
    let body = sent.to_json_vec();
    assert_eq!(
        refused(client.receive_body(&body).await, "another serve-files").kind(),
        ErrorKind::LinkRefused
    );
    let allowed = ConnectOptions::new()
        .allow_link_host(format!("127.0.0.1:{}", other.port()))
        .connect(&server.url())
        .await
        .unwrap();
    assert_eq!(allowed.receive_body(&body).await.unwrap().payloads.len(), 1);
}

/// Issue 14 item 14: Object Store links are fetched only from the client's own bucket and
/// the buckets it allows, not from any bucket its account can read.
#[tokio::test]
async fn object_store_links_into_other_buckets_are_refused() {
    let server = NatsServer::start();
    let owner = async_nats::connect(server.url()).await.unwrap();
    let jetstream = async_nats::jetstream::new(owner);
    let secrets = jetstream
        .create_object_store(async_nats::jetstream::object_store::Config {
            bucket: "secrets".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let secret = b"the database password".to_vec();
    secrets
        .put("id/secret.txt", &mut secret.as_slice())
        .await
        .unwrap();
    let url = "nats-object-store://secrets/id/secret.txt";
    let body = links_to(url, secret.len() as u64, 1);

    let receiver = ConnectOptions::new()
        .object_store("mine")
        .connect(&server.url())
        .await
        .unwrap();
    let error = refused(
        receiver.receive_body(&body).await,
        "a bucket nobody allowed",
    );
    assert_eq!((error.kind(), error.at()), (ErrorKind::LinkRefused, url));
    assert!(error.message().contains("\"secrets\""), "{error}");
    let envelope = MessageEnvelope::from_json(&body).unwrap();
    let mut sink = Vec::new();
    let streamed = receiver.payload_to_writer(&envelope, 0, &mut sink).await;
    assert_eq!(streamed.unwrap_err().kind(), ErrorKind::LinkRefused);
    assert!(sink.is_empty());

    let allowed = ConnectOptions::new()
        .allow_link_bucket("secrets")
        .connect(&server.url())
        .await
        .unwrap();
    let received = allowed.receive_body(&body).await.unwrap();
    assert_eq!(received.payloads.len(), 1);
}

/// Issue 14 item 7: one uploaded file named many times in one envelope counts each time:
/// past the in-memory cap (256 MiB by default, configurable) the message is refused before
/// any download.
#[tokio::test]
async fn one_file_named_many_times_cannot_exhaust_an_in_memory_receiver() {
    let server = NatsServer::start();
    let files = ServeFiles::start();
    let client = ConnectOptions::new()
        .plik(files.url())
        .connect(&server.url())
        .await
        .unwrap();
    let megabyte = vec![3u8; 1 << 20];
    let sent = client
        .smartsend(
            "nobody",
            vec![Payload::binary("m.bin", megabyte)],
            &SendOptions::new().size_threshold(1),
        )
        .await
        .unwrap();
    let url = sent.payloads[0].data.clone();

    let started = std::time::Instant::now();
    let three_hundred = links_to(&url, 1 << 20, 300);
    let receiving = client.receive_body(&three_hundred);
    let error = refused(
        within("the refusal", receiving).await,
        "300 MiB named by one envelope",
    );
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::TooLarge, "payloads")
    );
    assert!(error.message().contains("314572800"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused only after {:?} (it downloaded first?)",
        started.elapsed()
    );

    let capped = ConnectOptions::new()
        .link_policy(
            LinkPolicy::new()
                .allow_host_of(&files.url())
                .max_in_memory_bytes(3 << 20),
        )
        .connect(&server.url())
        .await
        .unwrap();
    let error = refused(
        capped.receive_body(&links_to(&url, 1 << 20, 4)).await,
        "4 MiB past a cap of 3 MiB",
    );
    assert_eq!(error.kind(), ErrorKind::TooLarge);
    let received = capped
        .receive_body(&links_to(&url, 1 << 20, 3))
        .await
        .unwrap();
    assert_eq!(received.payloads.len(), 3);
}
