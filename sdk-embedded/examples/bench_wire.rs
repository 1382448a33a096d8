//! Benchmark B8 for the no_std client (issue 15): `smartsend` of 128-byte binary payloads over
//! tokio (the `embedded-io-adapters` transport) on one connection, received and decoded
//! (borrowed view, base64 to bytes) by a second no_std client, against raw async-nats
//! publish -> subscribe of the same envelope bytes; one nats-server started here on a free
//! loopback port, both timed back to back in each round. Prints a Markdown section.
//!
//! ```sh
//! cargo run --release -p natsbridge-embedded --example bench_wire -- [ROUNDS] [MESSAGES]
//! ```
//! (`scripts/bench-small --only b8` runs it.)

use std::time::Instant;

use embedded_io_adapters::tokio_1::FromTokio;
use futures_util::StreamExt;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{
    NoFileServer, Outgoing, SendOptions, decode_direct_view, smartsend,
};
use natsbridge_embedded::{
    EnvelopeFields, MessageEnvelope, MessageEnvelopeView, MessageView as _, PayloadType,
};
use natsbridge_test_support::NatsServer;
use tokio::net::TcpStream;

const SIZE: usize = 128;
const SUBJECT: &str = "bench.wire";
const GOAL: f64 = 0.5;

async fn transport(port: u16) -> FromTokio<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("no-delay");
    FromTokio::new(stream)
}

fn random() -> impl FnMut() -> u32 {
    let mut state = 0x9e37_79b9_u32;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}

/// Messages per second of no_std `smartsend` to a no_std receiver that decodes each payload;
/// also returns the last envelope's bytes (the peer's message).
/// With `buffered`, the sender's transport is a tokio `BufWriter` (as async-nats buffers its
/// writes): a diagnostic of what one write syscall per message costs.
async fn ours(port: u16, messages: usize, buffered: bool) -> (f64, Vec<u8>) {
    if buffered {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("no-delay");
        let transport = FromTokio::new(tokio::io::BufWriter::with_capacity(64 * 1024, stream));
        ours_over(port, messages, transport).await
    } else {
        ours_over(port, messages, transport(port).await).await
    }
}

async fn ours_over<T>(port: u16, messages: usize, sender: T) -> (f64, Vec<u8>)
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    T::Error: std::fmt::Debug,
{
    let (mut srx, mut stx) = (vec![0u8; 64 * 1024], vec![0u8; 512]);
    let mut sub = Client::connect(
        transport(port).await,
        &mut srx,
        &mut stx,
        &ConnectOptions::new(),
    )
    .await
    .expect("connect");
    let sid = sub.subscribe(SUBJECT, None).await.expect("subscribe");
    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 2048]);
    let mut client = Client::connect(sender, &mut rx, &mut tx, &ConnectOptions::new())
        .await
        .expect("connect");
    settle(&mut sub, sid).await;
    let data: Vec<u8> = (0..SIZE).map(|i| i as u8).collect();
    let outgoing = [Outgoing::new("reading.bin", PayloadType::Binary, &data)];
    let mut envelope = Box::<MessageEnvelope>::default();
    let mut out = vec![0u8; 2048];
    let fields = EnvelopeFields {
        timestamp: "2026-12-03T12:00:00.000Z",
        ..EnvelopeFields::default()
    };
    let started = Instant::now();
    let send = async {
        let mut random = random();
        let mut len = 0;
        for _ in 0..messages {
            // Each envelope gets fresh ids, as a board's would.
            envelope.correlation_id.clear();
            envelope.msg_id.clear();
            len = smartsend(
                &mut client,
                &mut envelope,
                &fields,
                SUBJECT,
                &outgoing,
                &SendOptions::default(),
                &mut NoFileServer,
                &mut out,
                &mut random,
            )
            .await
            .expect("smartsend");
        }
        client.flush().await.expect("flush");
        out[..len].to_vec()
    };
    let receive = async {
        let mut decoded = [0u8; SIZE];
        for _ in 0..messages {
            match sub.next_event().await.expect("receive") {
                Event::Message(m) => {
                    let view = MessageEnvelopeView::decode(m.payload).expect("an envelope");
                    let bytes =
                        decode_direct_view(&view.payloads[0], &mut decoded).expect("direct");
                    assert_eq!(bytes.len(), SIZE);
                }
                other => panic!("expected a message, got {other:?}"),
            }
        }
    };
    let (last, ()) = tokio::join!(send, receive);
    (messages as f64 / started.elapsed().as_secs_f64(), last)
}

/// Waits until the subscription is in place: a message to it comes back.
async fn settle(sub: &mut Client<'_, FromTokio<TcpStream>>, sid: u64) {
    sub.publish(SUBJECT, None, b"settle")
        .await
        .expect("publish");
    loop {
        if let Event::Message(m) = sub.next_event().await.expect("settle")
            && m.sid == sid
        {
            return;
        }
    }
}

/// Messages per second of raw async-nats publish -> subscribe of `body`.
async fn peer(url: &str, messages: usize, body: &[u8]) -> f64 {
    let subscriber = async_nats::connect(url).await.expect("connect");
    let mut subscription = subscriber.subscribe(SUBJECT).await.expect("subscribe");
    subscriber.flush().await.expect("flush");
    let publisher = async_nats::connect(url).await.expect("connect");
    let body = bytes::Bytes::copy_from_slice(body);
    let started = Instant::now();
    let send = async {
        for _ in 0..messages {
            publisher
                .publish(SUBJECT, body.clone())
                .await
                .expect("publish");
        }
        publisher.flush().await.expect("flush");
    };
    let receive = async {
        for _ in 0..messages {
            let m = subscription.next().await.expect("a message");
            assert_eq!(m.payload.len(), body.len());
        }
    };
    tokio::join!(send, receive);
    messages as f64 / started.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn spread(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    let m = median(&mut sorted);
    format!(
        "{:.0} ({:.0} - {:.0})",
        m,
        sorted[0],
        sorted[sorted.len() - 1]
    )
}

fn spread_ratio(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    let m = median(&mut sorted);
    format!(
        "{:.2} ({:.2} - {:.2})",
        m,
        sorted[0],
        sorted[sorted.len() - 1]
    )
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(5, |a| a.parse().expect("ROUNDS"));
    let messages: usize = args.next().map_or(20_000, |a| a.parse().expect("MESSAGES"));
    let load_before = load();
    let server = NatsServer::start();
    let url = server.url();
    let (mut mine, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut buffered, mut buffered_ratios) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (a, body) = ours(server.port(), messages, false).await;
        let b = peer(&url, messages, &body).await;
        let (c, _) = ours(server.port(), messages, true).await;
        mine.push(a);
        theirs.push(b);
        ratios.push(a / b);
        buffered.push(c);
        buffered_ratios.push(c / b);
    }
    let ratio = median(&mut ratios.clone());
    println!("## B8 the no_std client over tokio against raw async-nats");
    println!();
    println!(
        "One nats-server on a free 127.0.0.1 port, one run (release build, one current-thread \
         tokio runtime): {rounds} rounds of {messages} messages, each timing ours and its peer \
         back to back; median (min - max), the ratio ours/peer per round. Ours: `smartsend` of a \
         {SIZE}-byte binary direct payload on one no_std client (fresh ids each message, one \
         write per frame, one `flush` at the end), received by a second no_std client that \
         decodes each envelope (`MessageEnvelopeView::decode` + `decode_direct_view`). Peer: \
         async-nats `publish` of the same envelope bytes to an async-nats subscriber \
         (`cargo run --release -p natsbridge-embedded --example bench_wire -- {rounds} \
         {messages}`). Machine load average before {load_before}, after {}.",
        load()
    );
    println!();
    println!("| what | size | ours (msg/s) | peer (msg/s) | ratio ours/peer | goal |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| no_std publish -> receive vs async-nats | {SIZE} B | {} | {} | {} | >= {GOAL}: {} |",
        spread(&mine),
        spread(&theirs),
        spread_ratio(&ratios),
        if ratio >= GOAL { "met" } else { "**missed**" }
    );
    println!(
        "| diagnostic: the same, the sender's transport a 64 KiB tokio `BufWriter` | {SIZE} B | {} | {} | {} | no goal |",
        spread(&buffered),
        spread(&theirs),
        spread_ratio(&buffered_ratios),
    );
    println!();
}
