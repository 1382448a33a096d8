//! The std client when `nats-server` dies: killed (SIGKILL) mid-stream and restarted on the
//! same port, JetStream delivers every message exactly once after de-duplication; a node of
//! a three-node cluster killed during direct and Object Store transfers loses nothing; while
//! disconnected, publishes are held up to the reconnect buffer and then refused.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::connection::State;
use natsbridge::{Client, ConnectOptions, Data, ErrorKind, Payload, SendOptions};
use natsbridge_test_support::{NatsCluster, NatsServer};

/// A safety net so that a broken test fails instead of hanging; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(90);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

/// Retries `attempt` until it succeeds (the server or a node is coming back).
async fn until_ok<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    within(what, async {
        loop {
            match attempt().await {
                Ok(value) => return value,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await
}

async fn create_stream(client: &Client, name: &str, subject: &str, replicas: usize) {
    until_ok("creating the stream", || {
        client
            .jetstream()
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: name.to_owned(),
                subjects: vec![subject.to_owned()],
                num_replicas: replicas,
                ..Default::default()
            })
    })
    .await;
}

/// Sends message `i` with msg_id `m-{i}` until JetStream acknowledges it (a retry after a
/// lost acknowledgement may store it twice, which the msg_id de-duplicates).
async fn send_until_acknowledged(client: &Client, subject: &str, i: usize, payloads: Vec<Payload>) {
    let options = SendOptions::new().jetstream(true).msg_id(format!("m-{i}"));
    until_ok("a JetStream publish", || {
        client.smartsend(subject, payloads.clone(), &options)
    })
    .await;
}

/// Receives from durable consumer `durable` until every msg_id in `0..count` was seen;
/// returns how often each came. Recreates the receiver when the server went away.
async fn receive_all(client: &Client, stream: &str, count: usize) -> BTreeMap<String, usize> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    within("receiving every message", async {
        while seen.len() < count {
            let Ok(mut receiver) = client.durable_receiver(stream, "worker", "").await else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            while seen.len() < count {
                let next = tokio::time::timeout(Duration::from_secs(5), receiver.next()).await;
                match next {
                    Ok(Some(Ok(received))) => {
                        check_payloads(&received);
                        *seen.entry(received.envelope.msg_id.clone()).or_default() += 1;
                    }
                    _ => break, // a receive error or a quiet spell: start over
                }
            }
        }
    })
    .await;
    seen
}

fn payloads_of(i: usize, link_bytes: usize) -> Vec<Payload> {
    let mut payloads = vec![Payload::text("n", i.to_string())];
    if link_bytes > 0 {
        let bytes: Vec<u8> = (0..link_bytes).map(|k| (k * 7 + i) as u8).collect();
        payloads.push(Payload::binary("blob.bin", bytes));
    }
    payloads
}

fn check_payloads(received: &natsbridge::Received) {
    let i: usize = received.payloads[0]
        .data
        .as_text()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(received.envelope.msg_id, format!("m-{i}"));
    if let Some(blob) = received.payload("blob.bin") {
        let Data::Bytes(bytes) = &blob.data else {
            panic!("blob.bin is bytes")
        };
        assert!(
            bytes
                .iter()
                .enumerate()
                .all(|(k, b)| *b == (k * 7 + i) as u8),
            "message {i}: the link payload came back intact"
        );
    }
}

fn assert_exactly_once(seen: &BTreeMap<String, usize>, count: usize) {
    let missing: Vec<usize> = (0..count)
        .filter(|i| !seen.contains_key(&format!("m-{i}")))
        .collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    let twice: Vec<&String> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}

#[tokio::test]
async fn a_server_killed_mid_stream_and_restarted_loses_no_jetstream_message() {
    let mut server = NatsServer::start();
    let client = ConnectOptions::new().connect(&server.url()).await.unwrap();
    create_stream(&client, "KILLED", "killed.>", 1).await;
    let count = 60;
    for i in 0..count {
        if i == count / 2 {
            server.stop(); // SIGKILL: no goodbye to the client
            assert!(server.log().contains("Server is ready"));
            let restarted = tokio::task::spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(700));
                server.restart();
                server
            });
            // Published into the gap: retried until the restarted server acknowledges it.
            send_until_acknowledged(&client, "killed.a", i, payloads_of(i, 0)).await;
            server = restarted.await.unwrap();
            continue;
        }
        send_until_acknowledged(&client, "killed.a", i, payloads_of(i, 0)).await;
    }
    assert_eq!(
        client.nats().connection_state(),
        State::Connected,
        "the same client reconnected by itself"
    );
    let seen = receive_all(&client, "KILLED", count).await;
    assert_exactly_once(&seen, count);
    let mut stream = client.jetstream().get_stream("KILLED").await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        count as u64,
        "the stream holds each message once (Nats-Msg-Id de-duplication)"
    );
}

#[tokio::test]
async fn a_cluster_node_killed_during_direct_and_object_store_transfers_loses_nothing() {
    let mut cluster = NatsCluster::start(3);
    let client = ConnectOptions::new()
        .object_store("clusterfiles")
        .size_threshold(2_000)
        .connect(&cluster.urls())
        .await
        .unwrap();
    create_stream(&client, "CLUSTERED", "clustered.>", 3).await;
    until_ok("creating the replicated bucket", || {
        client
            .jetstream()
            .create_object_store(async_nats::jetstream::object_store::Config {
                bucket: "clusterfiles".to_owned(),
                num_replicas: 3,
                ..Default::default()
            })
    })
    .await;
    let count = 24;
    for i in 0..count {
        if i == count / 3 {
            cluster.stop_node(0);
        }
        if i == 2 * count / 3 {
            cluster.restart_node(0);
        }
        // Every other message carries a link payload through the Object Store.
        let link_bytes = if i % 2 == 0 { 20_000 } else { 0 };
        send_until_acknowledged(&client, "clustered.a", i, payloads_of(i, link_bytes)).await;
    }
    let seen = receive_all(&client, "CLUSTERED", count).await;
    assert_exactly_once(&seen, count);
}

#[tokio::test]
async fn while_disconnected_publishes_fill_the_reconnect_buffer_then_fail_clearly() {
    let mut server = NatsServer::start();
    let client = ConnectOptions::new()
        .reconnect_buffer_bytes(10_000)
        .connect(&server.url())
        .await
        .unwrap();
    server.stop();
    within("noticing the disconnect", async {
        while client.nats().connection_state() == State::Connected {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let text = "x".repeat(1_000);
    let mut held = 0;
    let error = within("filling the buffer", async {
        loop {
            let sent = client
                .smartsend(
                    "offline",
                    vec![Payload::text("t", text.clone())],
                    &SendOptions::new(),
                )
                .await;
            match sent {
                Ok(_) => held += 1,
                Err(error) => return error,
            }
        }
    })
    .await;
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::ReconnectBufferFull, "offline"),
        "{error}"
    );
    assert!(error.message().contains("10000"), "{error}");
    assert!(
        (3..10).contains(&held),
        "some envelopes of ~1.4 kB were held before the 10 kB budget ran out: {held}"
    );
    server.restart();
    let mut inbox = until_ok("subscribing after the reconnect", || {
        client.subscribe("online")
    })
    .await;
    client
        .smartsend(
            "online",
            vec![Payload::text("t", "back")],
            &SendOptions::new(),
        )
        .await
        .expect("publishing works again once reconnected");
    let received = within("receiving", futures_util::StreamExt::next(&mut inbox))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received.payloads[0].data.as_text(), Some("back"));
}
