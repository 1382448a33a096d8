//! The one-call forms of the original editions, for scripts: [`smartsend`] connects (once
//! per NATS URL, then reuses the connection) and sends; [`smartreceive`] decodes a body.

use std::collections::HashMap;
use std::sync::OnceLock;

use tokio::sync::Mutex;

use crate::link::{Fetcher, LinkPolicy};
use crate::{
    Client, ConnectOptions, Error, MessageEnvelope, Payload, Received, RetryPolicy, SendOptions,
};

/// The NATS URL of the one-call [`smartsend`] when the options name none.
pub const DEFAULT_NATS_URL: &str = "nats://localhost:4222";

fn connections() -> &'static Mutex<HashMap<String, Client>> {
    static CONNECTIONS: OnceLock<Mutex<HashMap<String, Client>>> = OnceLock::new();
    CONNECTIONS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Sends `payloads` to `subject` as the original `smartsend(subject, data, nats_url=..., ...)`
/// did: connects to the options' `nats_url` (default `nats://localhost:4222`) on first use
/// and reuses that connection for later calls with the same URL. Link payloads go to the
/// options' `fileserver_url` (Plik API). Unlike [`Client::smartsend`] it flushes before it
/// returns: the server has the message (a round trip per call; use a [`Client`] for bursts).
///
/// The connection lives in the tokio runtime that made it: call this from one runtime (use a
/// [`Client`] when you run several).
///
/// ```no_run
/// use natsbridge::{Payload, SendOptions};
///
/// # async fn run() -> Result<(), natsbridge::Error> {
/// let options = SendOptions::new().nats_url("nats://127.0.0.1:4222");
/// natsbridge::smartsend("/chat/room1", vec![Payload::text("msg", "hi")], &options).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// The errors of [`ConnectOptions::connect`] and [`Client::smartsend`].
pub async fn smartsend(
    subject: &str,
    payloads: Vec<Payload>,
    options: &SendOptions,
) -> Result<MessageEnvelope, Error> {
    let url = options.nats_url.as_deref().unwrap_or(DEFAULT_NATS_URL);
    let client = {
        let mut connections = connections().lock().await;
        match connections.get(url) {
            Some(client) => client.clone(),
            None => {
                let client = ConnectOptions::new().connect(url).await?;
                connections.insert(url.to_owned(), client.clone());
                client
            }
        }
    };
    let sent = client.smartsend(subject, payloads, options).await?;
    // Nothing reported sent may be lost when the program exits right after.
    client.flush().await?;
    Ok(sent)
}

/// How the one-call [`smartreceive`] downloads link payloads.
#[derive(Debug, Clone, Default)]
pub struct ReceiveOptions {
    /// Retries of transient download failures (by default the contract's, see [`RetryPolicy`]).
    pub retry: RetryPolicy,
    /// Which links are fetched: by default none over HTTP (allow your file server's host).
    pub links: LinkPolicy,
}

impl ReceiveOptions {
    /// Also downloads link payloads from the host of `fileserver_url`.
    pub fn fileserver_url(mut self, fileserver_url: &str) -> Self {
        self.links = self.links.allow_host_of(fileserver_url);
        self
    }
}

/// Decodes a NATS message body as the original `smartreceive(msg, ...)` did: the envelope
/// and its payloads, HTTP(S) link payloads downloaded with retries and verified. (Object
/// Store links need a NATS connection: use [`Client::smartreceive`].)
///
/// # Errors
/// As [`Client::smartreceive`].
pub async fn smartreceive(body: &[u8], options: &ReceiveOptions) -> Result<Received, Error> {
    let fetcher = Fetcher::new(options.links.clone(), options.retry, None, None);
    fetcher
        .receive(MessageEnvelope::from_json_split(body)?)
        .await
}
