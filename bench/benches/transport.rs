//! B3 (smartsend to smartreceive through nats-server against raw async-nats), B4 (the link
//! transport per backend against raw HTTP and the async-nats Object Store) and B5
//! (request/reply against a raw async-nats request), as JSON lines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use natsbridge::link::{HttpPut, LinkBackend, ObjectStore, Plik};
use natsbridge::{Client, EnvelopeComposer, ErrorKind, Payload, SendOptions};
use natsbridge_bench::{Better, Comparison, Goal, note, quick, random_bytes, rounds, selected};
use natsbridge_bench::{gigabytes_per_second, size_name};
use natsbridge_test_support::{NatsServer, ServeFiles};
use tokio::io::AsyncReadExt as _;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if selected("b3") {
        runtime.block_on(end_to_end());
    }
    if selected("b4") {
        runtime.block_on(link_transport());
    }
    if selected("b5") {
        runtime.block_on(request_reply());
    }
}

/// Waits until the server has handled everything this connection sent (its SUBs): a request
/// nobody answers comes back as "no responders" only after them.
async fn settle(nats: &async_nats::Client) {
    match nats.request(nats.new_inbox(), Bytes::new()).await {
        Err(e) if e.kind() == async_nats::RequestErrorKind::NoResponders => {}
        other => panic!("expected no responders, got {other:?}"),
    }
}

async fn connect(server: &NatsServer) -> Client {
    natsbridge::connect(&server.url())
        .await
        .expect("connect to nats-server")
}

/// The largest payload smartsend still sends direct to this server (its `max_payload`), on
/// the subject B3 uses (the subject is part of the envelope).
async fn largest_direct(client: &Client) -> usize {
    let fits = |n: usize| async move {
        match client
            .smartsend(
                "bench.b3.ours",
                vec![Payload::binary("p", vec![0u8; n])],
                &SendOptions::new(),
            )
            .await
        {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::TooLarge => false,
            Err(e) => panic!("probe send of {n} bytes failed: {e}"),
        }
    };
    let (mut low, mut high) = (1usize, client.max_payload());
    while high - low > 1 {
        let middle = (low + high) / 2;
        if fits(middle).await {
            low = middle;
        } else {
            high = middle;
        }
    }
    low
}

/// How many messages of `size` bytes one B3 sample moves: about 32 MB, 20 to 20,000.
fn message_count(size: usize) -> usize {
    let count = (32_000_000 / size).clamp(20, 20_000);
    if quick() { count.div_ceil(100) } else { count }
}

/// Seconds to move `count` messages of `payload` through smartsend and a smartreceive
/// subscription.
async fn ours_stream(sender: &Client, receiver: &Client, payload: Bytes, count: usize) -> f64 {
    let mut inbox = receiver
        .subscribe("bench.b3.ours")
        .await
        .expect("subscribe");
    settle(receiver.nats()).await;
    let size = payload.len();
    let started = Instant::now();
    let receiving = tokio::spawn(async move {
        for _ in 0..count {
            let received = inbox.next().await.expect("a message").expect("decodes");
            assert_eq!(
                received.payloads[0].data.as_bytes().map(Bytes::len),
                Some(size)
            );
        }
    });
    let options = SendOptions::new();
    for _ in 0..count {
        let message = vec![Payload::binary("p", payload.clone())];
        sender
            .smartsend("bench.b3.ours", message, &options)
            .await
            .expect("smartsend");
    }
    sender.flush().await.expect("flush");
    receiving.await.expect("the receiver finishes");
    started.elapsed().as_secs_f64()
}

/// The same with raw async-nats publish and subscribe of the payload bytes; with
/// `flush_each`, a flush after every publish as smartsend does.
async fn raw_stream(
    sender: &async_nats::Client,
    receiver: &async_nats::Client,
    payload: Bytes,
    count: usize,
    flush_each: bool,
) -> f64 {
    let mut subscriber = receiver.subscribe("bench.b3.raw").await.expect("subscribe");
    settle(receiver).await;
    let size = payload.len();
    let started = Instant::now();
    let receiving = tokio::spawn(async move {
        for _ in 0..count {
            let message = subscriber.next().await.expect("a message");
            assert_eq!(message.payload.len(), size);
        }
    });
    for _ in 0..count {
        sender
            .publish("bench.b3.raw", payload.clone())
            .await
            .expect("publish");
        if flush_each {
            sender.flush().await.expect("flush");
        }
    }
    sender.flush().await.expect("flush");
    receiving.await.expect("the receiver finishes");
    started.elapsed().as_secs_f64()
}

/// B3: smartsend to smartreceive against raw publish/subscribe, payload bytes and messages
/// per second.
async fn end_to_end() {
    let server = NatsServer::start();
    let (sender, receiver) = (connect(&server).await, connect(&server).await);
    let largest = largest_direct(&sender).await;
    // The probes are only queued (smartsend does not wait): they must reach the server before
    // B3 subscribes to their subject, or its first round receives the last probe (CI failed so).
    sender.flush().await.expect("flush the probes");
    note(
        "B3",
        &format!(
            "the largest direct payload under the server's max_payload of {} bytes: {largest} bytes",
            sender.max_payload()
        ),
    );
    for size in [128, 16 * 1024, 512 * 1024, largest] {
        let payload = Bytes::from(random_bytes(size));
        let count = message_count(size);
        let (mut ours, mut raw, mut flushed) = (Vec::new(), Vec::new(), Vec::new());
        let (to, from) = (sender.nats(), receiver.nats());
        for _ in 0..rounds() {
            ours.push(ours_stream(&sender, &receiver, payload.clone(), count).await);
            raw.push(raw_stream(to, from, payload.clone(), count, false).await);
            flushed.push(raw_stream(to, from, payload.clone(), count, true).await);
        }
        let case = format!("{} x {}", count, size_name(size));
        let b3 = |unit, goal, baseline: &str| Comparison {
            bench: "B3",
            case: case.clone(),
            ours: "natsbridge smartsend -> subscribe (smartreceive)".into(),
            baseline: baseline.into(),
            unit,
            better: Better::Higher,
            goal,
        };
        let (bare, bare_flushed) = (
            "async-nats publish -> subscribe, bare bytes",
            "the same with a flush after each publish (as smartsend does)",
        );
        let per_second =
            |seconds: &[f64], per: f64| -> Vec<f64> { seconds.iter().map(|s| per / s).collect() };
        if size >= 512 * 1024 {
            let bytes = (size * count) as f64 / 1e9;
            b3("GB/s", Goal::RatioAtLeast(0.75), bare)
                .print(&per_second(&ours, bytes), &per_second(&raw, bytes));
            b3("GB/s", Goal::None, bare_flushed)
                .print(&per_second(&ours, bytes), &per_second(&flushed, bytes));
        } else {
            let goal = if size == 128 {
                Goal::RatioAtLeast(0.5)
            } else {
                Goal::None
            };
            let count = count as f64;
            b3("msg/s", goal, bare).print(&per_second(&ours, count), &per_second(&raw, count));
            b3("msg/s", Goal::None, bare_flushed)
                .print(&per_second(&ours, count), &per_second(&flushed, count));
        }
    }
}

/// One backend's two legs, seconds each.
#[derive(Default)]
struct Legs {
    up: Vec<f64>,
    down: Vec<f64>,
}

/// Uploads with our composer and `backend`, then downloads with `client` (verified).
async fn ours_link(client: &Client, backend: &dyn LinkBackend, data: &Bytes, legs: &mut Legs) {
    let started = Instant::now();
    let envelope = EnvelopeComposer::new("nats://127.0.0.1", "bench")
        .link_backend(Some(backend))
        .size_threshold(0)
        .compose(
            "bench.b4",
            vec![Payload::binary("blob", data.clone())],
            &SendOptions::new(),
        )
        .await
        .expect("upload");
    legs.up.push(started.elapsed().as_secs_f64());
    let body = envelope.to_json_vec();
    let started = Instant::now();
    let received = client.receive_body(&body).await.expect("download");
    legs.down.push(started.elapsed().as_secs_f64());
    assert_eq!(received.payloads[0].data.as_bytes(), Some(data));
}

/// Raw HTTP PUT and GET of the same bytes with reqwest, then DELETE.
async fn raw_http(http: &reqwest::Client, base: &str, round: usize, data: &Bytes, legs: &mut Legs) {
    let url = format!("{base}/raw-{round}-{}/blob", data.len());
    let started = Instant::now();
    let put = http.put(&url).body(data.clone()).send().await.expect("PUT");
    assert!(put.status().is_success(), "PUT {url}: {}", put.status());
    legs.up.push(started.elapsed().as_secs_f64());
    let started = Instant::now();
    let got = http
        .get(&url)
        .send()
        .await
        .expect("GET")
        .bytes()
        .await
        .expect("body");
    legs.down.push(started.elapsed().as_secs_f64());
    assert_eq!(&got, data);
    http.delete(&url).send().await.expect("DELETE");
}

/// Raw async-nats Object Store put and get of the same bytes, then delete.
async fn raw_object_store(
    store: &async_nats::jetstream::object_store::ObjectStore,
    round: usize,
    data: &Bytes,
    legs: &mut Legs,
) {
    let name = format!("raw-{round}-{}", data.len());
    let started = Instant::now();
    store
        .put(name.as_str(), &mut data.as_ref())
        .await
        .expect("put");
    legs.up.push(started.elapsed().as_secs_f64());
    let started = Instant::now();
    let mut object = store.get(&name).await.expect("get");
    let mut got = Vec::with_capacity(data.len());
    object.read_to_end(&mut got).await.expect("read");
    legs.down.push(started.elapsed().as_secs_f64());
    assert_eq!(got.len(), data.len());
    store.delete(&name).await.expect("delete");
}

/// B4: each link backend's upload and download legs against raw HTTP and the raw Object Store.
async fn link_transport() {
    let server = NatsServer::builder().jetstream(true).start();
    let files = ServeFiles::builder().max_upload_bytes(1 << 30).start();
    // The receiving side fetches from the benchmark's own file server only.
    let client = natsbridge::ConnectOptions::new()
        .object_store("bench")
        .allow_link_host(files.url().trim_start_matches("http://"))
        .connect(&server.url())
        .await
        .expect("connect");
    let http = reqwest::Client::new();
    let put = HttpPut::new(files.url());
    let plik = Plik::new(files.url());
    let our_store = ObjectStore::new(client.jetstream().clone(), "bench");
    let raw_store = client
        .jetstream()
        .create_object_store(async_nats::jetstream::object_store::Config {
            bucket: "raw".into(),
            ..Default::default()
        })
        .await
        .expect("a raw Object Store bucket");
    let sizes: &[usize] = if quick() {
        &[1_000_000]
    } else {
        &[1_000_000, 10_000_000, 100_000_000]
    };
    for &size in sizes {
        let data = Bytes::from(random_bytes(size));
        let [
            mut ours_put,
            mut ours_plik,
            mut ours_store,
            mut http_raw,
            mut store_raw,
        ] = std::array::from_fn(|_| Legs::default());
        for round in 0..rounds().min(3) {
            ours_link(&client, &put, &data, &mut ours_put).await;
            ours_link(&client, &plik, &data, &mut ours_plik).await;
            raw_http(&http, &files.url(), round, &data, &mut http_raw).await;
            ours_link(&client, &our_store, &data, &mut ours_store).await;
            raw_object_store(&raw_store, round, &data, &mut store_raw).await;
        }
        let rate = |seconds: &[f64]| -> Vec<f64> {
            seconds
                .iter()
                .map(|&s| gigabytes_per_second(size, s))
                .collect()
        };
        let b4 = |leg: &str, ours: &str, baseline: &str, goal| Comparison {
            bench: "B4",
            case: format!("{leg} {}", size_name(size)),
            ours: ours.into(),
            baseline: baseline.into(),
            unit: "GB/s",
            better: Better::Higher,
            goal,
        };
        let raw_http_name = "reqwest PUT/GET to the same serve-files";
        let raw_store_name = "async-nats Object Store put/get";
        for (leg, pick) in [("upload", 0), ("download", 1)] {
            let of = |legs: &Legs| rate(if pick == 0 { &legs.up } else { &legs.down });
            // Issue 15: each HTTP leg at 0.9 of raw reqwest to the same server.
            let http_goal = Goal::RatioAtLeast(0.9);
            b4(leg, "HttpPut -> serve-files", raw_http_name, http_goal)
                .print(&of(&ours_put), &of(&http_raw));
            b4(leg, "Plik -> serve-files", raw_http_name, http_goal)
                .print(&of(&ours_plik), &of(&http_raw));
            b4(
                leg,
                "HttpPut -> serve-files",
                raw_store_name,
                Goal::RatioAtLeast(2.0),
            )
            .print(&of(&ours_put), &of(&store_raw));
            b4(
                leg,
                "ObjectStore backend",
                raw_store_name,
                Goal::RatioAtLeast(1.0),
            )
            .print(&of(&ours_store), &of(&store_raw));
        }
    }
    if !quick() {
        resident_memory(&client, &files).await;
    }
}

/// The process's resident set in bytes (Linux `/proc/self/status`).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Peak resident memory above the starting point while a 100 MB file goes up by HttpPut
/// from a file and comes back into a file.
async fn resident_memory(client: &Client, files: &ServeFiles) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let source = dir.path().join("big.bin");
    std::fs::write(&source, random_bytes(100_000_000)).expect("write the file");
    let before = resident_bytes();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let put = HttpPut::new(files.url());
    let envelope = EnvelopeComposer::new("nats://127.0.0.1", "bench")
        .link_backend(Some(&put))
        .size_threshold(0)
        .compose(
            "bench.b4",
            vec![Payload::file(
                "big.bin",
                natsbridge::PayloadType::Binary,
                &source,
            )],
            &SendOptions::new(),
        )
        .await
        .expect("upload from the file");
    client
        .payload_to_file(&envelope, 0, dir.path().join("back.bin"))
        .await
        .expect("download into a file");
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("the sampler ends");
    let grown = peak.load(Ordering::Relaxed).saturating_sub(before);
    note(
        "B4",
        &format!(
            "resident memory: a 100 MB file uploaded from disk (HttpPut) and downloaded to disk \
             (payload_to_file) raised the process's resident set by at most {:.1} MB (sampled every 2 ms)",
            grown as f64 / 1e6
        ),
    );
}

/// B5: request/reply round trips per second against a raw async-nats request.
async fn request_reply() {
    let server = NatsServer::start();
    let (asker, answerer) = (connect(&server).await, connect(&server).await);
    let mut requests = answerer
        .subscribe("bench.b5.ours")
        .await
        .expect("subscribe");
    let replier = answerer.clone();
    tokio::spawn(async move {
        while let Some(Ok(request)) = requests.next().await {
            let answer = vec![Payload::text("answer", "pong")];
            let _ = replier.reply(&request, answer, &SendOptions::new()).await;
        }
    });
    let raw = answerer.nats().clone();
    let mut raw_requests = raw.subscribe("bench.b5.raw").await.expect("subscribe");
    settle(&raw).await;
    tokio::spawn(async move {
        while let Some(message) = raw_requests.next().await {
            if let Some(reply) = message.reply {
                let _ = raw.publish(reply, Bytes::from_static(b"pong")).await;
            }
        }
    });
    let count = if quick() { 20 } else { 2000 };
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..rounds() {
        let started = Instant::now();
        for _ in 0..count {
            let question = vec![Payload::text("question", "ping")];
            asker
                .request(
                    "bench.b5.ours",
                    question,
                    &SendOptions::new(),
                    Duration::from_secs(5),
                )
                .await
                .expect("a reply");
        }
        ours.push(count as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        for _ in 0..count {
            asker
                .nats()
                .request("bench.b5.raw", Bytes::from_static(b"ping"))
                .await
                .expect("a raw reply");
        }
        baseline.push(count as f64 / started.elapsed().as_secs_f64());
    }
    Comparison {
        bench: "B5",
        case: format!("{count} sequential round trips, one small text payload"),
        ours: "natsbridge Client::request -> Client::reply".into(),
        baseline: "async-nats request -> publish to reply".into(),
        unit: "round trips/s",
        better: Better::Higher,
        goal: Goal::RatioAtLeast(0.9),
    }
    .print(&ours, &baseline);
}
