//! natsbridge: named, typed payloads over NATS for servers and desktops (std, async).
//!
//! One [`Client`] owns one NATS connection. [`Client::smartsend`] puts one or more
//! [`Payload`]s into an envelope (WIRE.md): small ones travel inside it as base64
//! (`direct`), large ones are uploaded to a file server and only their URL travels (`link`).
//! [`Client::smartreceive`] gives them back, downloading links with retries and verifying
//! size and checksum.
//!
//! ```
//! use futures_util::StreamExt;
//! use natsbridge::{Data, Payload, SendOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), natsbridge::Error> {
//! # let server = natsbridge_test_support::NatsServer::start(); // a real nats-server
//! # let url = server.url();
//! let client = natsbridge::connect(&url).await?; // url: "nats://localhost:4222"
//! let mut inbox = client.subscribe("chat.room1").await?;
//!
//! let config = natsbridge::serde_json::json!({"wifi_ssid": "lab", "update_interval": 60});
//! let payloads = vec![
//!     Payload::text("caption", "hello"),
//!     Payload::dictionary("config", &config)?,
//! ];
//! client.smartsend("chat.room1", payloads, &SendOptions::new()).await?;
//!
//! let received = inbox.next().await.expect("a message")?;
//! assert_eq!(received.payloads[0].data, Data::Text("hello".into()));
//! assert_eq!(received.payloads[1].data, Data::Json(config));
//! # Ok(()) }
//! ```
//!
//! # A guide
//!
//! ```no_run
//! use std::time::Duration;
//! use natsbridge::{ConnectOptions, Payload, SendOptions};
//! use futures_util::StreamExt;
//!
//! # async fn run() -> Result<(), natsbridge::Error> {
//! // Connect once; link payloads go to a file server (`natsbridge serve-files`, nginx, Plik).
//! let client = ConnectOptions::new()
//!     .http_put("http://localhost:8080")
//!     .connect("nats://localhost:4222")
//!     .await?;
//!
//! // Receive: each message comes out decoded, link payloads downloaded.
//! let mut inbox = client.subscribe("chat.room1").await?;
//!
//! // Send a text and an image in one envelope.
//! let photo = std::fs::read("cat.png").unwrap_or_default();
//! client
//!     .smartsend(
//!         "chat.room1",
//!         vec![Payload::text("caption", "my cat"), Payload::image("cat.png", photo)],
//!         &SendOptions::new().sender_name("alice"),
//!     )
//!     .await?; // queued, not waited for: `flush` waits until the server has it
//! client.flush().await?;
//!
//! if let Some(received) = inbox.next().await {
//!     for payload in received?.payloads {
//!         println!("{} ({}): {:?}", payload.dataname, payload.payload_type, payload.data);
//!     }
//! }
//!
//! // Request and reply.
//! let answer = client
//!     .request("service.echo", vec![Payload::text("q", "ping")], &SendOptions::new(), Duration::from_secs(2))
//!     .await;
//! # Ok(()) }
//! ```
//!
//! * Payload types: [`Payload::text`], [`Payload::dictionary`], [`Payload::table`] (Arrow
//!   IPC; with the `arrow` feature also `RecordBatch`), [`Payload::image`],
//!   [`Payload::audio`], [`Payload::video`], [`Payload::binary`], [`Payload::file`].
//! * Link backends ([`link`]): Plik, HTTP `PUT`, the JetStream Object Store, or your own
//!   [`link::LinkBackend`].
//! * JetStream: [`SendOptions::jetstream`] publishes with acknowledgement and
//!   `Nats-Msg-Id`; [`Client::durable_receiver`] acknowledges only decoded, downloaded
//!   messages.
//! * Errors: one [`Error`] with an [`ErrorKind`] to match on, a typed [`Place`] (the field,
//!   payload, URL or subject at fault) and, where async-nats, HTTP, I/O or JSON failed
//!   underneath, that error as `source()`. The kinds, and the numbers of the contract
//!   ([`contract`]), are generated from the schema.
//! * Every envelope field a sender may set has a [`SendOptions`] setter named as the field,
//!   every payload field a `Payload::with_<field>` setter; both generated from the schema
//!   ([`EnvelopeFields`], [`PayloadFields`]).
//! * Envelopes without a connection: [`MessageEnvelope::from_json`],
//!   [`MessageEnvelope::to_json`], [`EnvelopeComposer`].

#![warn(missing_docs)]

mod checks;
mod client;
mod clock;
mod envelope;
mod error;
#[cfg(feature = "file-server")]
pub mod file_server;
pub mod generated;
pub mod link;
mod oneshot;
mod payload;
mod receive;
mod retry;
mod send;
pub mod typed;
pub mod wire;

pub use client::{
    Client, ConnectOptions, DEFAULT_RECONNECT_BUFFER_BYTES, DurableReceiver, RECONNECT_BACKOFF,
    connect,
};
pub use error::{Error, Place};
pub use generated::*;
pub use oneshot::{DEFAULT_NATS_URL, ReceiveOptions, smartreceive, smartsend};
pub use payload::{Data, Payload, ReceivedPayload, Source};
pub use receive::Received;
pub use retry::RetryPolicy;
pub use send::{DEFAULT_SIZE_THRESHOLD, EnvelopeComposer, SendOptions};

/// Async-nats, re-exported so that callers use the version this crate was built with.
pub use async_nats;
/// serde, re-exported: the payload types that `natsbridge-codegen payloads` generates derive
/// its traits through this path (`#[serde(crate = "natsbridge::serde")]`), so a crate of
/// typed payloads depends on `natsbridge` alone.
pub use serde;
/// serde_json, re-exported: payload APIs take and return its values (`Payload::dictionary`,
/// `Data::Json`, `EnvelopeFields::set`).
pub use serde_json;
