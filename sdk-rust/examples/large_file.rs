//! A large file over the link transport: uploaded to a file server, only its URL travels in
//! the envelope, and the receiver streams it to disk, verifying size and checksum.
//!
//! Run `nats-server` and `natsbridge serve-files --dir /tmp/files`, then:
//! `cargo run -p natsbridge --example large_file -- [FILE]` (a 20 MB file is made when none
//! is given; `NATS_URL` and `FILESERVER_URL` pick other servers).

use std::path::PathBuf;

use futures_util::StreamExt;
use natsbridge::{ConnectOptions, MessageEnvelope, Payload, PayloadType, SendOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nats_url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://localhost:4222".into());
    let fileserver =
        std::env::var("FILESERVER_URL").unwrap_or_else(|_| "http://localhost:8080".into());
    let work = std::env::temp_dir().join(format!("natsbridge-large-file-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let source = match std::env::args().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            let path = work.join("sample.bin");
            std::fs::write(
                &path,
                (0..20_000_000u32)
                    .map(|i| (i % 251) as u8)
                    .collect::<Vec<u8>>(),
            )?;
            path
        }
    };

    // Plik API uploads (`natsbridge serve-files` speaks it; `.http_put(..)` for nginx WebDAV).
    let client = ConnectOptions::new()
        .plik(&fileserver)
        .connect(&nats_url)
        .await?;
    let mut inbox = client.raw_subscribe("files.incoming").await?;

    let payload = Payload::file("sample.bin", PayloadType::Binary, &source);
    let sent = client
        .smartsend("files.incoming", vec![payload], &SendOptions::new())
        .await?;
    println!(
        "sent {} bytes as a {} payload: {}",
        sent.payloads[0].size, sent.payloads[0].transport, sent.payloads[0].data
    );

    // The receiver streams the payload to a file; it never holds it in memory.
    let message = inbox.next().await.ok_or("the subscription closed")?;
    let envelope = MessageEnvelope::from_json(&message.payload)?;
    let target = work.join("received.bin");
    let size = client.payload_to_file(&envelope, 0, &target).await?;
    println!(
        "received {size} bytes into {}, size and checksum verified",
        target.display()
    );
    std::fs::remove_dir_all(&work)?;
    Ok(())
}
