//! The reconnect loop a firmware runs, on a desktop: connect, subscribe again, serve until
//! the connection ends, wait with exponential backoff and full jitter, repeat.
//!
//! ```sh
//! nats-server -p 4222 &
//! cargo run -p natsbridge-embedded --example reconnect -- 127.0.0.1:4222 'device.>'
//! ```
//!
//! Stop and restart nats-server: the example reports the lost connection, waits, reconnects
//! and subscribes again. On a board the same loop runs over embassy-net (see
//! `sdk-embedded/firmware/src/main.rs`).

use std::time::{Duration, Instant};

use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::protocol::ConnectOptions;
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:4222".to_owned());
    let subject = args.next().unwrap_or_else(|| "device.>".to_owned());
    let backoff = Backoff {
        max_attempts: u32::MAX,
        base_delay_ms: 100,
        max_delay_ms: 5_000,
    };
    // A board reads its hardware RNG; a desktop seeds a xorshift from the clock.
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos() | 1);
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    // The buffers outlive every connection: a firmware puts them in a static.
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 512]);
    let mut failures: u32 = 0;
    loop {
        let started = Instant::now();
        match session(&address, &subject, &mut rx, &mut tx).await {
            Ok(()) => println!("connection closed"),
            Err(error) => println!("connection ended: {error}"),
        }
        // A connection that lasted a while was a success: start the backoff over.
        failures = if started.elapsed() > Duration::from_secs(60) {
            0
        } else {
            failures + 1
        };
        let wait = backoff.delay_ms(failures.min(16), random());
        println!("reconnecting in {wait} ms");
        tokio::time::sleep(Duration::from_millis(wait.into())).await;
    }
}

/// One connection: connect, subscribe (again), print messages, ping every 10 s.
async fn session(address: &str, subject: &str, rx: &mut [u8], tx: &mut [u8]) -> Result<(), String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let options = ConnectOptions::new().name("natsbridge-reconnect-example");
    let mut client = Client::connect(FromTokio::new(stream), rx, tx, &options)
        .await
        .map_err(|e| e.to_string())?;
    let sid = client
        .subscribe(subject, None)
        .await
        .map_err(|e| e.to_string())?;
    println!("connected to {address}, subscribed to {subject} (sid {sid})");
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            event = client.next_event() => match event.map_err(|e| e.to_string())? {
                Event::Message(m) => println!("{}: {} bytes", m.subject, m.payload.len()),
                Event::Oversized { subject, size, .. } => {
                    println!("{subject}: {size} bytes, larger than the receive buffer, skipped");
                }
                Event::ServerError(text) => println!("server error: {text}"),
            },
            _ = ticker.tick() => {
                let now_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                client.keepalive(now_ms).await.map_err(|e| e.to_string())?;
            }
        }
    }
}
