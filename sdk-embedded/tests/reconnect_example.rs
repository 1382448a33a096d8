//! Fault 1 for the no_std client: `examples/reconnect.rs` runs as its own process while
//! nats-server is killed (SIGKILL) in the middle of a stream and restarted on the same port;
//! the example's loop reconnects with backoff, subscribes again and receives what follows.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::client::Client;
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_test_support::NatsServer;
use tokio::net::TcpStream;

/// The example's process, killed on drop; its stdout lines arrive on a channel.
struct Example {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Example {
    fn start(address: &str, subject: &str) -> Self {
        // `cargo test` builds the examples next to the test binaries (target/debug/examples).
        let path = std::env::current_exe()
            .unwrap()
            .parent()
            .and_then(|deps| deps.parent())
            .unwrap()
            .join("examples/reconnect");
        assert!(
            path.is_file(),
            "{} is missing: build it with `cargo build -p natsbridge-embedded --example reconnect`",
            path.display()
        );
        let mut child = Command::new(path)
            .args([address, subject])
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the reconnect example");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Example {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line that starts with `prefix`.
    fn wait_for(&mut self, prefix: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.starts_with(prefix);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(e) => panic!(
                    "no line {prefix:?} ({e}); the example printed {:?}",
                    self.seen
                ),
            }
        }
    }

    /// How many times the example printed exactly `line` so far.
    fn count(&self, line: &str) -> usize {
        self.seen.iter().filter(|l| *l == line).count()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `subjects` (empty bodies) on a fresh connection and flushes.
async fn publish(server: &NatsServer, subjects: impl IntoIterator<Item = String>) {
    let stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
    let mut client = Client::connect(
        FromTokio::new(stream),
        &mut rx,
        &mut tx,
        &ConnectOptions::new(),
    )
    .await
    .unwrap();
    for subject in subjects {
        client.publish(&subject, None, b"").await.unwrap();
    }
    client.flush().await.unwrap();
}

/// Publishes `device.probe.N` until the example prints one: its subscription is in place.
async fn until_subscribed(server: &NatsServer, example: &mut Example, round: u32) {
    for n in 0..100 {
        let subject = format!("device.probe.{round}.{n}");
        publish(server, [subject.clone()]).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        while let Ok(line) = example.lines.try_recv() {
            example.seen.push(line);
        }
        if example
            .seen
            .iter()
            .any(|l| l.starts_with(&format!("device.probe.{round}.")))
        {
            return;
        }
    }
    panic!(
        "the example never received a probe; it printed {:?}",
        example.seen
    );
}

#[tokio::test]
async fn the_reconnect_example_survives_a_killed_server() {
    let mut server = NatsServer::start();
    let address = format!("127.0.0.1:{}", server.port());
    let mut example = Example::start(&address, "device.>");
    example.wait_for("connected to");
    until_subscribed(&server, &mut example, 1).await;
    publish(&server, (0..50).map(|i| format!("device.n.{i}"))).await;
    example.wait_for("device.n.49: 0 bytes");

    // In the middle of a stream: messages still in flight when the server dies (kill -9).
    let in_flight = tokio::spawn({
        let port = server.port();
        async move {
            let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else {
                return;
            };
            let (mut rx, mut tx) = ([0u8; 2048], [0u8; 512]);
            let Ok(mut client) = Client::connect(
                FromTokio::new(stream),
                &mut rx,
                &mut tx,
                &ConnectOptions::new(),
            )
            .await
            else {
                return;
            };
            for i in 50..10_000 {
                if client
                    .publish(&format!("device.n.{i}"), None, b"")
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    server.restart();
    let _ = in_flight.await;
    example.wait_for("connection ended");
    example.wait_for("reconnecting in");
    example.wait_for("connected to");
    until_subscribed(&server, &mut example, 2).await;
    publish(&server, (20_000..20_050).map(|i| format!("device.n.{i}"))).await;
    example.wait_for("device.n.20049: 0 bytes");

    for i in (0..50).chain(20_000..20_050) {
        assert_eq!(
            example.count(&format!("device.n.{i}: 0 bytes")),
            1,
            "message {i}"
        );
    }
    for i in 50..10_000 {
        assert!(
            example.count(&format!("device.n.{i}: 0 bytes")) <= 1,
            "message {i} twice"
        );
    }
}
