//! A chat message with a text and an image, sent and received in one program.
//!
//! Run a NATS server (`nats-server`), then: `cargo run -p natsbridge --example chat`
//! (`NATS_URL` picks another server).

use futures_util::StreamExt;
use natsbridge::{Data, Payload, SendOptions};

/// A 2x2 PNG image, so the example needs no files.
const PIXELS_PNG: [u8; 82] = [
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0,
    0, 0, 253, 212, 154, 115, 0, 0, 0, 25, 73, 68, 65, 84, 120, 1, 1, 14, 0, 241, 255, 0, 255, 0,
    0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255, 31, 238, 5, 251, 222, 221, 236, 43, 0, 0, 0, 0, 73,
    69, 78, 68, 174, 66, 96, 130,
];

#[tokio::main]
async fn main() -> Result<(), natsbridge::Error> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://localhost:4222".into());
    let client = natsbridge::connect(&url).await?;

    // Subscribe before sending, so the message is not missed.
    let mut room = client.subscribe("/chat/room1").await?;

    let payloads = vec![
        Payload::text("message", "Look at my cat!"),
        Payload::image("cat.png", PIXELS_PNG.to_vec()),
    ];
    let sent = client
        .smartsend(
            "/chat/room1",
            payloads,
            &SendOptions::new().sender_name("alice"),
        )
        .await?;
    println!("alice sent message {}", sent.msg_id);

    let received = room.next().await.expect("the subscription is open")?;
    println!("received from {}:", received.envelope.sender_name);
    for payload in &received.payloads {
        match &payload.data {
            Data::Text(text) => println!("  {}: {text}", payload.dataname),
            Data::Json(value) => println!("  {}: {value}", payload.dataname),
            Data::Bytes(bytes) => println!(
                "  {}: {} bytes of {}",
                payload.dataname,
                bytes.len(),
                payload.payload_type
            ),
        }
    }
    Ok(())
}
