//! The Rust examples of `sdk-embedded/README.md`, compiled here as written: each block's lines
//! appear verbatim in a function below, in the context a firmware gives it (a test checks
//! that they do). The blocks that need no board also run, against a real `nats-server`.

#![allow(non_snake_case, unreachable_code, unused)]

#[path = "../../tests/common/mod.rs"]
mod common;

use common::{Collect, pseudo_random};
use embassy_futures::select::{Either, select};
use embassy_time::{Instant, Timer};
use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{Read, Write};
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::NoFileServer;
use natsbridge_embedded::{Message, MessageEnvelope, MessagePayload, PayloadType};
use natsbridge_test_support::NatsServer;
use tokio::net::TcpStream;

/// Any error of the examples' `?`s (they run in a firmware's `Result` function).
#[derive(Debug)]
struct Failed(String);

impl<E: std::error::Error> From<E> for Failed {
    fn from(error: E) -> Self {
        Failed(format!("{error:?}"))
    }
}

/// The board's random source.
mod board {
    pub fn random() -> u32 {
        0x9e37_79b9
    }
}

/// "Using it": compiled only (it needs a board's embassy-net stack; `tap_namespace.rs` runs
/// the same calls on one).
#[rustfmt::skip]
async fn using_it(stack: embassy_net::Stack<'_>, ENVELOPE: &mut MessageEnvelope) -> Result<(), Failed> {
    let (mut sock_rx, mut sock_tx) = ([0u8; 1024], [0u8; 1024]);
    let (mut rx, mut tx) = ([0u8; 4096], [0u8; 512]);
    // README block 1
    use natsbridge_embedded::client::{Client, Event};
    use natsbridge_embedded::protocol::ConnectOptions;
    use natsbridge_embedded::{Message, MessageEnvelope};

    let socket = natsbridge_embedded::net::connect(stack, &mut sock_rx, &mut sock_tx, "nats.local", 4222).await?;
    let options = ConnectOptions::new().name("sensor-7").user_and_password("dev", "secret");
    let mut client = Client::connect(socket, &mut rx, &mut tx, &options).await?;
    let sid = client.subscribe("device.commands", None).await?;
    client.publish("device.status", None, b"online").await?;
    loop {
        match select(client.next_event(), Timer::after_secs(5)).await {
            Either::First(event) => match event? {
                Event::Message(m) => ENVELOPE.decode_in_place(m.payload)?, // then smartreceive
                Event::Oversized { subject, size, .. } => { /* skipped whole, stream in sync */ }
                Event::ServerError(text) => { /* the next call likely reports Closed */ }
            },
            Either::Second(()) => client.keepalive(Instant::now().as_millis()).await?,
        }
    }
    Ok(())
}

/// "Sending and reading schema fields": run below.
#[rustfmt::skip]
async fn sending<T: Read + Write>(
    mut client: Client<'_, T>,
    ENVELOPE: &mut MessageEnvelope,
    OUT: &mut [u8],
) -> Result<(), Failed> {
    let SENDER_ID = "7f2c1a90-3b4d-4e5f-8a6b-0c1d2e3f4a5b";
    let mut uploader = NoFileServer;
    // README block 2
    use natsbridge_embedded::{EnvelopeFields, PayloadFields, PayloadType};
    use natsbridge_embedded::smart::{Outgoing, SendOptions, smartsend};

    let fields = EnvelopeFields {
        timestamp: "2026-11-25T11:52:26.123Z", // the caller's clock: the SDK has none
        sender_id: SENDER_ID,
        reply_to: "device.replies",
        ..EnvelopeFields::default()
    };
    let payloads = [
        Outgoing::new("status", PayloadType::Text, b"online"),
        Outgoing::new("reading", PayloadType::Dictionary, br#"{"t":21.5}"#)
            .fields(PayloadFields { metadata: r#"{"unit":"C"}"#, ..PayloadFields::default() }),
    ];
    // ENVELOPE: a `static` MessageEnvelope used as scratch; OUT: the encoded text.
    smartsend(&mut client, ENVELOPE, &fields, "device.status", &payloads,
              &SendOptions::default(), &mut uploader, OUT, board::random).await?;
    client.flush().await?;
    Ok(())
}

/// "Object Store links": run below.
#[rustfmt::skip]
async fn object_store_link<T: Read + Write, S: Write>(
    payload: &MessagePayload,
    mut flash_writer: S,
    mut objects_client: Client<'_, T>,
) -> Result<(), Failed> {
    let rng = board::random;
    // README block 3
    use natsbridge_embedded::object_store::ObjectReads;
    use natsbridge_embedded::smart;

    if smart::is_object_store_link(payload) {
        let mut reads = ObjectReads {
            allowed_buckets: &["firmware"], // any other bucket: BucketNotAllowed, nothing sent
            max_size: 8 << 20,
            headers: &mut [0u8; 256],       // a chunk's header block when it streams past rx
        };
        smart::receive_object(payload, &mut flash_writer, &mut objects_client, &mut reads, rng).await?;
    }
    Ok(())
}

/// "Borrowed views": run below.
#[rustfmt::skip]
async fn borrowed_view<T: Read + Write>(client: &mut Client<'_, T>) -> Result<(), Failed> {
    let mut DATA = [0u8; 2048];
    // README block 4
    use natsbridge_embedded::{MessageEnvelopeView, MessageView};
    use natsbridge_embedded::smart::{decode_direct_view, smartreceive_view};

    if let Event::Message(m) = client.next_event().await? {
        let envelope = MessageEnvelopeView::decode(m.payload)?; // borrows the receive buffer
        for payload in &envelope.payloads {
            let data = decode_direct_view(payload, &mut DATA)?; // or smartreceive_view into a sink
        }
    } // the view ends here: the next `next_event` reuses the buffer
    Ok(())
}

async fn connect<'b>(
    server: &NatsServer,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Client<'b, FromTokio<TcpStream>> {
    let stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    Client::connect(FromTokio::new(stream), rx, tx, &ConnectOptions::new())
        .await
        .unwrap()
}

/// The README's ```rust,ignore blocks, each as its lines trimmed.
fn readme_blocks() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```rust,ignore") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), text) => block.push(text.trim().to_owned()),
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_rust_block_of_the_readme_is_compiled_here() {
    let source: Vec<String> = include_str!("readme_examples.rs")
        .lines()
        .map(|l| l.trim().to_owned())
        .collect();
    let blocks = readme_blocks();
    assert_eq!(
        blocks.len(),
        4,
        "the README's ```rust,ignore blocks changed: compile the new ones here"
    );
    for (i, block) in blocks.iter().enumerate() {
        let marker = format!("// README block {}", i + 1);
        let start = source
            .iter()
            .position(|l| *l == marker)
            .unwrap_or_else(|| panic!("no {marker} here"));
        let here = source.get(start + 1..start + 1 + block.len());
        assert_eq!(
            here,
            Some(&block[..]),
            "README block {} differs from its compiled copy",
            i + 1
        );
    }
}

#[tokio::test]
async fn the_sending_block_publishes_what_it_says() {
    let server = NatsServer::start();
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 512]);
    let mut receiver = connect(&server, &mut rx, &mut tx).await;
    receiver.subscribe("device.status", None).await.unwrap();
    receiver.ping().await.unwrap();
    receiver.flush().await.unwrap();
    let (mut rx2, mut tx2) = (vec![0u8; 2048], vec![0u8; 512]);
    let sender = connect(&server, &mut rx2, &mut tx2).await;
    let mut scratch = Box::<MessageEnvelope>::default();
    let mut out = vec![0u8; 8192];
    // Give the receiver's SUB time to reach the server before the publish.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    sending(sender, &mut scratch, &mut out).await.unwrap();
    let Event::Message(m) = receiver.next_event().await.unwrap() else {
        panic!("no message on device.status");
    };
    let envelope = MessageEnvelope::decode(m.payload).unwrap();
    assert_eq!(envelope.reply_to.as_str(), "device.replies");
    assert_eq!(envelope.timestamp.as_str(), "2026-11-25T11:52:26.123Z");
    let names: Vec<&str> = envelope
        .payloads
        .iter()
        .map(|p| p.dataname.as_str())
        .collect();
    assert_eq!(names, ["status", "reading"]);
    assert_eq!(envelope.payloads[1].payload_type, PayloadType::Dictionary);
    assert_eq!(envelope.payloads[1].metadata.as_str(), r#"{"unit":"C"}"#);
}

#[tokio::test]
async fn the_object_store_block_reads_the_object() {
    let server = NatsServer::builder().jetstream(true).start();
    let owner = async_nats::connect(server.url()).await.unwrap();
    let store = async_nats::jetstream::new(owner)
        .create_object_store(async_nats::jetstream::object_store::Config {
            bucket: "firmware".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let image: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    store
        .put("p-1/app.bin", &mut image.as_slice())
        .await
        .unwrap();
    let body = format!(
        r#"{{"payloads":[{{"id":"p-1","dataname":"app.bin","type":"binary","transport":"link","encoding":"none","size":{},"data":"nats-object-store://firmware/p-1/app.bin","metadata":{{"checksum":"{}"}}}}]}}"#,
        image.len(),
        natsbridge_embedded::link::checksum_of(&image)
    );
    let envelope = MessageEnvelope::decode(body.as_bytes()).unwrap();
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 512]);
    let objects_client = connect(&server, &mut rx, &mut tx).await;
    let mut flash = Collect::default();
    object_store_link(&envelope.payloads[0], &mut flash, objects_client)
        .await
        .unwrap();
    assert!(
        flash.bytes == image,
        "the object differs ({} bytes)",
        flash.bytes.len()
    );
}

#[tokio::test]
async fn the_borrowed_view_block_decodes_a_received_envelope() {
    let server = NatsServer::start();
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 512]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    client.subscribe("device.view", None).await.unwrap();
    client
        .publish(
            "device.view",
            None,
            br#"{"payloads":[{"dataname":"t","type":"text","transport":"direct","encoding":"base64","size":5,"data":"aGVsbG8="}]}"#,
        )
        .await
        .unwrap();
    borrowed_view(&mut client).await.unwrap();
    // A broken envelope fails the block's `?`, so the success above is the decode's.
    client
        .publish("device.view", None, b"{not json")
        .await
        .unwrap();
    assert!(borrowed_view(&mut client).await.is_err());
}
