//! The client: one async-nats connection, reused for every send and receive, with the
//! patterns of the original editions (smartsend, smartreceive, subscribe, request/reply,
//! JetStream publish and durable receive).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};

use crate::link::{Fetcher, HttpPut, LinkBackend, LinkPolicy, ObjectStore, Plik, Progress, Sink};
use crate::send::{DEFAULT_SIZE_THRESHOLD, EnvelopeComposer};
use crate::{
    Error, ErrorKind, MessageEnvelope, Payload, Place, Received, RetryPolicy, SendOptions, clock,
};

/// The header JetStream de-duplicates on (WIRE.md section 1).
const MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// How many bytes of publishes a client holds while disconnected, by default (8 MiB, the
/// reconnect buffer of the Go and Java NATS clients).
pub const DEFAULT_RECONNECT_BUFFER_BYTES: u64 = 8 << 20;

/// The reconnect delays: attempt `n` waits a random time in `[0, min(4 s, 50 ms * 2^n)]`
/// (full jitter, so that many clients of a restarted server do not reconnect in step).
/// async-nats' own default is the same cap without jitter.
pub const RECONNECT_BACKOFF: RetryPolicy =
    RetryPolicy::new(u32::MAX, Duration::from_millis(50), Duration::from_secs(4));

fn full_jitter_reconnect_delay(attempts: usize) -> Duration {
    match attempts {
        0 | 1 => Duration::ZERO,
        n => RECONNECT_BACKOFF.delay_before(u32::try_from(n - 2).unwrap_or(u32::MAX)),
    }
}

/// Which link backend a client is given.
enum LinkChoice {
    None,
    Plik(String),
    HttpPut(String),
    ObjectStore(String),
    Custom(Arc<dyn LinkBackend>),
}

/// Options of a [`Client`]: the NATS connection (auth, TLS, reconnects) and the NATSBridge
/// defaults (sender name, file server, size threshold, retries).
///
/// ```no_run
/// # async fn run() -> Result<(), natsbridge::Error> {
/// let client = natsbridge::ConnectOptions::new()
///     .name("sensor-gateway")
///     .user_and_password("gateway", "s3cret")
///     .http_put("http://127.0.0.1:8080")
///     .connect("nats://127.0.0.1:4222")
///     .await?;
/// # Ok(()) }
/// ```
pub struct ConnectOptions {
    nats: async_nats::ConnectOptions,
    credentials_file: Option<PathBuf>,
    sender_name: Option<String>,
    sender_id: Option<String>,
    link: LinkChoice,
    upload_token: Option<String>,
    size_threshold: u64,
    retry: RetryPolicy,
    progress: Option<Progress>,
    link_policy: LinkPolicy,
    reconnect_buffer_bytes: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            nats: async_nats::ConnectOptions::new()
                .reconnect_delay_callback(full_jitter_reconnect_delay),
            credentials_file: None,
            sender_name: None,
            sender_id: None,
            link: LinkChoice::None,
            upload_token: None,
            size_threshold: DEFAULT_SIZE_THRESHOLD,
            retry: RetryPolicy::default(),
            progress: None,
            link_policy: LinkPolicy::new(),
            reconnect_buffer_bytes: DEFAULT_RECONNECT_BUFFER_BYTES,
        }
    }
}

impl ConnectOptions {
    /// Defaults: no auth, no file server, `size_threshold` and retries from [`contract`](crate::contract),
    /// reconnects forever with full-jitter backoff ([`RECONNECT_BACKOFF`]), an 8 MiB reconnect
    /// buffer, links fetched only from the own file server's `host:port` or the own Object
    /// Store bucket ([`LinkPolicy`]).
    pub fn new() -> Self {
        ConnectOptions::default()
    }

    /// Starts from async-nats options, for settings this builder does not name (their
    /// reconnect delay is kept).
    pub fn from_nats_options(nats: async_nats::ConnectOptions) -> Self {
        ConnectOptions {
            nats,
            ..ConnectOptions::default()
        }
    }

    fn map_nats(
        mut self,
        f: impl FnOnce(async_nats::ConnectOptions) -> async_nats::ConnectOptions,
    ) -> Self {
        self.nats = f(self.nats);
        self
    }

    /// The connection's name, shown by the server's monitoring.
    pub fn name(self, name: &str) -> Self {
        self.map_nats(|o| o.name(name))
    }

    /// User and password authentication.
    pub fn user_and_password(self, user: &str, password: &str) -> Self {
        self.map_nats(|o| o.user_and_password(user.to_owned(), password.to_owned()))
    }

    /// Token authentication.
    pub fn token(self, token: &str) -> Self {
        self.map_nats(|o| o.token(token.to_owned()))
    }

    /// NKey authentication with this seed.
    pub fn nkey(self, seed: &str) -> Self {
        self.map_nats(|o| o.nkey(seed.to_owned()))
    }

    /// JWT and NKey from a `.creds` file, read when connecting.
    pub fn credentials_file(mut self, path: impl AsRef<Path>) -> Self {
        self.credentials_file = Some(path.as_ref().to_owned());
        self
    }

    /// Requires TLS (also implied by a `tls://` URL).
    pub fn require_tls(self, required: bool) -> Self {
        self.map_nats(|o| o.require_tls(required))
    }

    /// Trusts the CA certificates in this PEM file.
    pub fn root_certificates(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_owned();
        self.map_nats(|o| o.add_root_certificates(path))
    }

    /// Authenticates with a client certificate and key (PEM files).
    pub fn client_certificate(self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        let (cert, key) = (cert.as_ref().to_owned(), key.as_ref().to_owned());
        self.map_nats(|o| o.add_client_certificate(cert, key))
    }

    /// Gives up reconnecting after this many attempts (`None`: never gives up, the default).
    pub fn max_reconnects(self, attempts: Option<usize>) -> Self {
        self.map_nats(|o| o.max_reconnects(attempts))
    }

    /// The delay before reconnect attempt `n` (default: full jitter, [`RECONNECT_BACKOFF`]).
    pub fn reconnect_delay(
        self,
        delay: impl Fn(usize) -> Duration + Send + Sync + 'static,
    ) -> Self {
        self.map_nats(|o| o.reconnect_delay_callback(delay))
    }

    /// How many bytes of publishes are held while the connection is down (default 8 MiB);
    /// a publish beyond them fails with [`ErrorKind::ReconnectBufferFull`] instead of
    /// growing memory. Publishes made while disconnected go out after the reconnect.
    pub fn reconnect_buffer_bytes(mut self, bytes: u64) -> Self {
        self.reconnect_buffer_bytes = bytes;
        self
    }

    /// Which link payloads receivers of this client download ([`LinkPolicy`]); the host of
    /// the client's own file server is always allowed on top of it.
    pub fn link_policy(mut self, policy: LinkPolicy) -> Self {
        self.link_policy = policy;
        self
    }

    /// Also downloads link payloads from `host` or `host:port` (see
    /// [`LinkPolicy::allow_host`]: without a port, the scheme's default port).
    pub fn allow_link_host(mut self, host: impl Into<String>) -> Self {
        self.link_policy = self.link_policy.allow_host(host);
        self
    }

    /// Also downloads `nats-object-store` links from `bucket` (see
    /// [`LinkPolicy::allow_bucket`]); the client's own [`object_store`](Self::object_store)
    /// bucket is always allowed.
    pub fn allow_link_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.link_policy = self.link_policy.allow_bucket(bucket);
        self
    }

    /// How long the first connection may take.
    pub fn connection_timeout(self, timeout: Duration) -> Self {
        self.map_nats(|o| o.connection_timeout(timeout))
    }

    /// Keeps trying when the server is not up yet at connect time.
    pub fn retry_on_initial_connect(self) -> Self {
        self.map_nats(|o| o.retry_on_initial_connect())
    }

    /// The `sender_name` of every envelope whose [`SendOptions`] leave it at the schema's
    /// default (`"NATSBridge"`).
    pub fn sender_name(mut self, name: impl Into<String>) -> Self {
        self.sender_name = Some(name.into());
        self
    }

    /// The `sender_id` of every envelope (a new UUID v4 per client otherwise).
    pub fn sender_id(mut self, id: impl Into<String>) -> Self {
        self.sender_id = Some(id.into());
        self
    }

    /// Uploads link payloads to a Plik server (or `natsbridge serve-files`), as the
    /// original editions' `fileserver_url` did.
    pub fn plik(mut self, fileserver_url: impl Into<String>) -> Self {
        self.link = LinkChoice::Plik(fileserver_url.into());
        self
    }

    /// Uploads link payloads with `PUT {base_url}/{payload id}/{dataname}`.
    pub fn http_put(mut self, base_url: impl Into<String>) -> Self {
        self.link = LinkChoice::HttpPut(base_url.into());
        self
    }

    /// The token a file server requires for uploads (`serve-files --upload-token`).
    pub fn upload_token(mut self, token: impl Into<String>) -> Self {
        self.upload_token = Some(token.into());
        self
    }

    /// Stores link payloads in this JetStream Object Store bucket (created when missing).
    pub fn object_store(mut self, bucket: impl Into<String>) -> Self {
        self.link = LinkChoice::ObjectStore(bucket.into());
        self
    }

    /// Stores link payloads with your own backend.
    pub fn link_backend(mut self, backend: impl LinkBackend + 'static) -> Self {
        self.link = LinkChoice::Custom(Arc::new(backend));
        self
    }

    /// Payloads of this many bytes or more go `link` (default
    /// [`contract::SIZE_THRESHOLD`](crate::contract::SIZE_THRESHOLD)).
    pub fn size_threshold(mut self, bytes: u64) -> Self {
        self.size_threshold = bytes;
        self
    }

    /// How link downloads retry.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Called as uploads and downloads move bytes: `(dataname, done, total)`.
    pub fn progress(mut self, progress: impl Fn(&str, u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Connects to `url` (`nats://host:port`, `tls://...`; several separated by commas).
    ///
    /// # Errors
    /// [`ErrorKind::Connect`] naming the URL: unreachable, refused auth, TLS failure.
    pub async fn connect(self, url: &str) -> Result<Client, Error> {
        let connect_error = |message: String| Error::url(ErrorKind::Connect, url, message);
        let mut nats_options = self.nats;
        if let Some(path) = &self.credentials_file {
            nats_options = nats_options.credentials_file(path).await.map_err(|e| {
                connect_error(format!("cannot read credentials file {}", path.display()))
                    .with_source(e)
            })?;
        }
        let addresses: Vec<async_nats::ServerAddr> = url
            .split(',')
            .map(|u| u.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|e| connect_error("not a NATS URL".into()).with_source(e))?;
        let nats = nats_options
            .connect(addresses)
            .await
            .map_err(|e| connect_error("cannot connect".into()).with_source(e))?;
        let jetstream = async_nats::jetstream::new(nats.clone());
        let policy = match &self.link {
            LinkChoice::Plik(url) | LinkChoice::HttpPut(url) => self.link_policy.allow_host_of(url),
            LinkChoice::ObjectStore(bucket) => self.link_policy.allow_bucket(bucket),
            _ => self.link_policy,
        };
        let token = self.upload_token;
        let link: Option<Arc<dyn LinkBackend>> = match self.link {
            LinkChoice::None => None,
            LinkChoice::Plik(url) => Some(Arc::new(match token {
                Some(t) => Plik::new(url).token(t),
                None => Plik::new(url),
            })),
            LinkChoice::HttpPut(url) => Some(Arc::new(match token {
                Some(t) => HttpPut::new(url).bearer_token(t),
                None => HttpPut::new(url),
            })),
            LinkChoice::ObjectStore(bucket) => {
                Some(Arc::new(ObjectStore::new(jetstream.clone(), bucket)))
            }
            LinkChoice::Custom(backend) => Some(backend),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                fetcher: Fetcher::new(
                    policy,
                    self.retry,
                    Some(jetstream.clone()),
                    self.progress.clone(),
                ),
                reconnect_buffer_bytes: self.reconnect_buffer_bytes,
                disconnected_bytes: AtomicU64::new(0),
                replies: tokio::sync::OnceCell::new(),
                nats,
                jetstream,
                url: url.to_owned(),
                sender_id: self.sender_id.unwrap_or_else(clock::new_id),
                sender_name: self.sender_name,
                link,
                size_threshold: self.size_threshold,
                progress: self.progress,
            }),
        })
    }
}

/// Connects to a NATS server with default options.
///
/// ```no_run
/// use natsbridge::{Payload, SendOptions};
///
/// # async fn run() -> Result<(), natsbridge::Error> {
/// let client = natsbridge::connect("nats://127.0.0.1:4222").await?;
/// let sent = client
///     .smartsend("chat.room1", vec![Payload::text("greeting", "hello")], &SendOptions::new())
///     .await?;
/// println!("sent {}", sent.msg_id);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ErrorKind::Connect`] naming the URL.
pub async fn connect(url: &str) -> Result<Client, Error> {
    ConnectOptions::new().connect(url).await
}

/// A NATSBridge client: one NATS connection, cheap to clone, shared by every send and
/// receive.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    nats: async_nats::Client,
    jetstream: async_nats::jetstream::Context,
    fetcher: Fetcher,
    url: String,
    sender_id: String,
    sender_name: Option<String>,
    link: Option<Arc<dyn LinkBackend>>,
    size_threshold: u64,
    progress: Option<Progress>,
    reconnect_buffer_bytes: u64,
    /// Bytes published since the connection was last seen down (reset when seen up).
    disconnected_bytes: AtomicU64,
    /// The one reply subscription of every request with a generated inbox, made on the first.
    replies: tokio::sync::OnceCell<Replies>,
}

/// How many replies one waiting request holds before further ones are dropped (a request
/// takes the first whose `reply_to_msg_id` matches; the bound keeps a flood of strangers on
/// its inbox from growing memory).
const REPLIES_HELD: usize = 16;

/// The waiting requests by their token, each with the channel its replies go to.
type Waiting = Arc<Mutex<HashMap<u64, tokio::sync::mpsc::Sender<async_nats::Message>>>>;

fn waiting_requests(
    waiting: &Waiting,
) -> std::sync::MutexGuard<'_, HashMap<u64, tokio::sync::mpsc::Sender<async_nats::Message>>> {
    waiting
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One wildcard subscription `{prefix}.*` for every request of a client (as async-nats and
/// nats.go multiplex theirs): request `n` asks for replies on `{prefix}.{n}`, and a task
/// hands each message on that subject to the request waiting for it.
struct Replies {
    prefix: String,
    next: AtomicU64,
    waiting: Waiting,
    /// The wildcard subscription. No task reads it: the waiting request that holds the lock
    /// does, hands other requests' replies to their channels and lets go once its own came.
    subscriber: tokio::sync::Mutex<async_nats::Subscriber>,
}

impl Replies {
    async fn subscribe(nats: &async_nats::Client) -> Result<Replies, Error> {
        let prefix = nats.new_inbox();
        let wildcard = format!("{prefix}.*");
        let subscriber = nats
            .subscribe(wildcard.clone())
            .await
            .map_err(|e| nats_error(Place::subject(&wildcard), "cannot subscribe", e))?;
        Ok(Replies {
            prefix,
            next: AtomicU64::new(0),
            waiting: Waiting::default(),
            subscriber: tokio::sync::Mutex::new(subscriber),
        })
    }

    /// A new reply subject, and the replies that arrive on it until the guard is dropped.
    fn wait(&self) -> (String, WaitingReply<'_>) {
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, messages) = tokio::sync::mpsc::channel(REPLIES_HELD);
        waiting_requests(&self.waiting).insert(token, sender);
        let reply = WaitingReply {
            replies: self,
            token,
            messages,
        };
        (format!("{}.{token}", self.prefix), reply)
    }

    /// The request token of a message on `{prefix}.{token}`.
    fn token_of(&self, message: &async_nats::Message) -> Option<u64> {
        let subject = message
            .subject
            .as_str()
            .strip_prefix(self.prefix.as_str())?;
        subject.strip_prefix('.')?.parse().ok()
    }
}

/// One request's place in [`Replies`], given up when dropped (answered, timed out or
/// cancelled).
struct WaitingReply<'a> {
    replies: &'a Replies,
    token: u64,
    messages: tokio::sync::mpsc::Receiver<async_nats::Message>,
}

impl WaitingReply<'_> {
    /// The next reply for this request; `None` once the connection has closed.
    async fn next(&mut self) -> Option<async_nats::Message> {
        tokio::select! {
            biased;
            message = self.messages.recv() => message,
            mut subscriber = self.replies.subscriber.lock() => {
                // Nobody else reads the subscription now; a reply handed on before is here.
                if let Ok(message) = self.messages.try_recv() {
                    return Some(message);
                }
                loop {
                    let message = subscriber.next().await?;
                    match self.replies.token_of(&message) {
                        Some(token) if token == self.token => return Some(message),
                        Some(token) => {
                            let sender = waiting_requests(&self.replies.waiting).get(&token).cloned();
                            if let Some(sender) = sender {
                                let _ = sender.try_send(message); // full: a stranger's flood, dropped
                            }
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

impl Drop for WaitingReply<'_> {
    fn drop(&mut self) {
        waiting_requests(&self.replies.waiting).remove(&self.token);
    }
}

/// Where a request's replies come from: the client's shared inbox or, for a reply subject
/// the caller named, a subscription of its own.
enum ReplyStream<'a> {
    Shared(WaitingReply<'a>),
    Own(async_nats::Subscriber),
}

impl ReplyStream<'_> {
    async fn next(&mut self) -> Option<async_nats::Message> {
        match self {
            ReplyStream::Shared(waiting) => waiting.next().await,
            ReplyStream::Own(subscriber) => subscriber.next().await,
        }
    }
}

/// A failure of async-nats doing `what` at `place`, the async-nats error as its source.
fn nats_error(
    place: Place,
    what: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::located(ErrorKind::Nats, place, what).with_source(error)
}

impl Client {
    /// The async-nats connection underneath, for anything this crate does not wrap.
    pub fn nats(&self) -> &async_nats::Client {
        &self.inner.nats
    }

    /// The JetStream context of the connection (to create streams and consumers).
    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.inner.jetstream
    }

    /// This client's `sender_id`, the same in every envelope it sends.
    pub fn sender_id(&self) -> &str {
        &self.inner.sender_id
    }

    /// The largest message the server accepts, as its INFO said.
    pub fn max_payload(&self) -> usize {
        self.inner.nats.server_info().max_payload
    }

    /// Sends `payloads` to `subject` in one envelope and returns the envelope sent.
    ///
    /// Each payload goes `direct` below the size threshold and `link` (uploaded first) at or
    /// above it; while the envelope is larger than the server's `max_payload`, the largest
    /// direct payloads move to `link`. Nothing is published when anything fails.
    ///
    /// Returns once the message is queued on the connection, without waiting for the server
    /// (as async-nats `publish` does): a burst of sends goes out in few writes. Call
    /// [`flush`](Self::flush) before exiting, or to know the server has them; the one-call
    /// [`smartsend`](crate::smartsend) and `natsbridge send` flush before they return.
    /// JetStream sends (`SendOptions::jetstream`) still wait for the stream's acknowledgement.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] when a payload must go `link` and no file server is
    /// configured; [`ErrorKind::Upload`], [`ErrorKind::Io`], [`ErrorKind::InvalidInput`];
    /// [`ErrorKind::Nats`] or [`ErrorKind::Jetstream`] when publishing fails.
    pub async fn smartsend(
        &self,
        subject: &str,
        payloads: Vec<Payload>,
        options: &SendOptions,
    ) -> Result<MessageEnvelope, Error> {
        if !options.fields.reply_to.is_empty() {
            crate::checks::check_subject("reply_to", &options.fields.reply_to)?;
        }
        let headers = options.jetstream.then(|| {
            // The id is not known before composing; reserve room for a UUID-long one.
            MSG_ID_HEADER.len() + 36 + "NATS/1.0\r\n: \r\n\r\n".len()
        });
        let limit = self.max_payload().saturating_sub(headers.unwrap_or(0));
        let per_send_link = options
            .fileserver_url
            .as_ref()
            .map(|url| Plik::new(url.clone()));
        let link = match &per_send_link {
            Some(plik) => Some(plik as &dyn LinkBackend),
            None => self.inner.link.as_deref(),
        };
        let mut composer = EnvelopeComposer::new(&self.inner.url, &self.inner.sender_id);
        if let Some(name) = &self.inner.sender_name {
            composer = composer.sender_name(name);
        }
        let mut envelope = composer
            .link_backend(link)
            .size_threshold(self.inner.size_threshold)
            .max_envelope_bytes(limit)
            .progress(self.inner.progress.clone())
            .compose(subject, payloads, options)
            .await?;
        let body = Bytes::from(envelope.to_json_vec_mut());
        if options.jetstream {
            self.publish_jetstream(subject, &envelope.msg_id, body)
                .await?;
        } else {
            self.publish(subject, &envelope.reply_to, body).await?;
        }
        Ok(envelope)
    }

    /// Counts `bytes` against the reconnect buffer while the connection is down.
    fn reserve_while_disconnected(&self, subject: &str, bytes: u64) -> Result<(), Error> {
        use async_nats::connection::State;
        let inner = &self.inner;
        if inner.nats.connection_state() == State::Connected {
            inner.disconnected_bytes.store(0, Ordering::SeqCst);
            return Ok(());
        }
        let budget = inner.reconnect_buffer_bytes;
        let reserved =
            inner
                .disconnected_bytes
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
                    held.checked_add(bytes).filter(|total| *total <= budget)
                });
        match reserved {
            Ok(_) => Ok(()),
            Err(held) => Err(Error::subject(
                ErrorKind::ReconnectBufferFull,
                subject,
                format!(
                    "disconnected from NATS: {held} bytes already wait for the reconnect, \
                     {bytes} more would pass the reconnect buffer of {budget} bytes"
                ),
            )),
        }
    }

    async fn publish(&self, subject: &str, reply_to: &str, body: Bytes) -> Result<(), Error> {
        let nats = &self.inner.nats;
        self.reserve_while_disconnected(subject, body.len() as u64)?;
        let published = if reply_to.is_empty() {
            nats.publish(subject.to_owned(), body).await
        } else {
            nats.publish_with_reply(subject.to_owned(), reply_to.to_owned(), body)
                .await
        };
        published.map_err(|e| nats_error(Place::subject(subject), "cannot publish", e))?;
        // Queued for the connection's writer task (held until the reconnect while
        // disconnected); `flush` waits for the server.
        Ok(())
    }

    /// Waits until the server has processed everything this client published so far (a
    /// round trip to the server after the connection's writer handed the earlier frames to
    /// the socket): after it, every subscriber that was listening has been sent them.
    /// [`smartsend`](Self::smartsend) returns once its frame is queued, as async-nats
    /// `publish` does; call this before exiting, or where the sender must know the server
    /// has the messages. While disconnected it waits for the reconnect (at most the
    /// connection's request timeout).
    ///
    /// # Errors
    /// [`ErrorKind::Nats`] when the connection fails or the server does not answer in time.
    pub async fn flush(&self) -> Result<(), Error> {
        let url = &self.inner.url;
        self.inner
            .nats
            .flush()
            .await
            .map_err(|e| nats_error(Place::url(url), "cannot flush", e))?;
        self.confirm_with_server(Place::url(url)).await
    }

    async fn publish_jetstream(
        &self,
        subject: &str,
        msg_id: &str,
        body: Bytes,
    ) -> Result<(), Error> {
        let jetstream_error = |what: &str| Error::subject(ErrorKind::Jetstream, subject, what);
        crate::checks::check_header(MSG_ID_HEADER, msg_id)?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(MSG_ID_HEADER, msg_id);
        let ack = self
            .inner
            .jetstream
            .publish_with_headers(subject.to_owned(), headers, body)
            .await
            .map_err(|e| jetstream_error("cannot publish").with_source(e))?;
        ack.await
            .map_err(|e| jetstream_error("no acknowledgement from a stream").with_source(e))?;
        Ok(())
    }

    /// Decodes a received NATS message: the envelope, its direct payloads, and its link
    /// payloads downloaded (with retries) and verified.
    ///
    /// # Errors
    /// Envelope errors name the key at fault (`payloads[0].size`); download errors name the
    /// payload and the URL ([`ErrorKind::Download`], [`ErrorKind::SizeMismatch`],
    /// [`ErrorKind::ChecksumMismatch`]).
    pub async fn smartreceive(&self, message: &async_nats::Message) -> Result<Received, Error> {
        let mut received = self.receive_body(&message.payload).await?;
        received.reply_subject = message.reply.as_ref().map(|r| r.to_string());
        Ok(received)
    }

    /// [`smartreceive`](Self::smartreceive) of a message body.
    pub async fn receive_body(&self, body: &[u8]) -> Result<Received, Error> {
        self.inner
            .fetcher
            .receive(MessageEnvelope::from_json_split(body)?)
            .await
    }

    /// Streams payload `index` of `envelope` into `sink` (a link payload is never held in
    /// memory); returns its size. On error the sink may hold part of the data.
    pub async fn payload_to_writer(
        &self,
        envelope: &MessageEnvelope,
        index: usize,
        sink: &mut Sink<'_>,
    ) -> Result<u64, Error> {
        self.inner.fetcher.payload_into(envelope, index, sink).await
    }

    /// Streams payload `index` of `envelope` into the file `path`, which appears only once
    /// the data is complete and verified; returns its size.
    pub async fn payload_to_file(
        &self,
        envelope: &MessageEnvelope,
        index: usize,
        path: impl AsRef<Path>,
    ) -> Result<u64, Error> {
        self.inner
            .fetcher
            .payload_to_file(envelope, index, path.as_ref())
            .await
    }

    /// Subscribes to `subject`; each message comes out decoded, its link payloads downloaded.
    /// A message that fails to decode comes out as an error and the stream goes on. When this
    /// returns, the server knows the subscription: messages sent from then on arrive.
    ///
    /// # Errors
    /// [`ErrorKind::Nats`] when the subscription is refused.
    pub async fn subscribe(
        &self,
        subject: &str,
    ) -> Result<BoxStream<'static, Result<Received, Error>>, Error> {
        let subscriber = self.raw_subscribe(subject).await?;
        let client = self.clone();
        Ok(subscriber
            .then(move |message| {
                let client = client.clone();
                async move { client.smartreceive(&message).await }
            })
            .boxed())
    }

    /// Subscribes to `subject` and yields the NATS messages undecoded, e.g. to stream large
    /// link payloads to files with [`payload_to_file`](Self::payload_to_file).
    ///
    /// # Errors
    /// [`ErrorKind::Nats`] when the subscription is refused.
    pub async fn raw_subscribe(&self, subject: &str) -> Result<async_nats::Subscriber, Error> {
        crate::checks::check_subject("subject", subject)?;
        let subscriber = self
            .inner
            .nats
            .subscribe(subject.to_owned())
            .await
            .map_err(|e| nats_error(Place::subject(subject), "cannot subscribe", e))?;
        self.confirm_with_server(Place::subject(subject)).await?;
        Ok(subscriber)
    }

    /// Waits until the server has processed everything sent so far, by a request that nobody
    /// answers (the server's "no responders" comes back after our earlier operations were
    /// handled). After a SUB, messages sent from any connection reach the subscription.
    async fn confirm_with_server(&self, place: Place) -> Result<(), Error> {
        use async_nats::RequestErrorKind;
        let probe = self.inner.nats.new_inbox();
        match self.inner.nats.request(probe, Bytes::new()).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == RequestErrorKind::NoResponders => Ok(()),
            Err(e) => Err(nats_error(
                place,
                "cannot confirm the subscription with the server",
                e,
            )),
        }
    }

    /// Sends a request and waits for the reply whose `reply_to_msg_id` is the request's
    /// `msg_id` (other messages on the reply subject are ignored).
    ///
    /// The reply subject is a new subject under the client's one reply subscription (a
    /// wildcard inbox made on the first request, shared by all), unless the options name
    /// one, which is then subscribed for this request alone.
    ///
    /// # Errors
    /// [`ErrorKind::NoResponders`] when nobody listens on `subject` (with the default reply
    /// inbox); [`ErrorKind::Timeout`] when no matching reply arrives within `timeout`; the errors of
    /// [`smartsend`](Self::smartsend) and [`smartreceive`](Self::smartreceive).
    pub async fn request(
        &self,
        subject: &str,
        payloads: Vec<Payload>,
        options: &SendOptions,
        timeout: Duration,
    ) -> Result<Received, Error> {
        let fresh_inbox = options.fields.reply_to.is_empty();
        // No confirmation round trip: the server handles a SUB before the request published
        // after it on the same connection, so no reply can arrive before it.
        let (reply_to, mut replies) = if fresh_inbox {
            let shared = self
                .inner
                .replies
                .get_or_try_init(|| Replies::subscribe(&self.inner.nats))
                .await?;
            let (reply_to, waiting) = shared.wait();
            (reply_to, ReplyStream::Shared(waiting))
        } else {
            let reply_to = options.fields.reply_to.clone();
            crate::checks::check_subject("reply_to", &reply_to)?;
            let subscriber = self
                .inner
                .nats
                .subscribe(reply_to.clone())
                .await
                .map_err(|e| nats_error(Place::subject(&reply_to), "cannot subscribe", e))?;
            (reply_to, ReplyStream::Own(subscriber))
        };
        let request = self
            .smartsend(
                subject,
                payloads,
                &options.clone().reply_to(reply_to.clone()),
            )
            .await?;
        let wait = async {
            while let Some(message) = replies.next().await {
                // The server answers a request nobody listens to with a 503 status on our own
                // inbox (a shared reply subject may carry other requests' statuses).
                if fresh_inbox && message.status == Some(async_nats::StatusCode::NO_RESPONDERS) {
                    return Err(Error::subject(
                        ErrorKind::NoResponders,
                        subject,
                        format!("no responder listens on {subject:?}"),
                    ));
                }
                let Ok(split) = MessageEnvelope::from_json_split(&message.payload) else {
                    continue;
                };
                if split.envelope.reply_to_msg_id == request.msg_id {
                    let mut received = self.inner.fetcher.receive(split).await?;
                    received.reply_subject = message.reply.as_ref().map(|r| r.to_string());
                    return Ok(received);
                }
            }
            Err(Error::subject(
                ErrorKind::Nats,
                &reply_to,
                "the reply subscription ended: connection closed",
            ))
        };
        tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or_else(|_| {
                Err(Error::subject(
                    ErrorKind::Timeout,
                    subject,
                    format!("no reply to message {} within {timeout:?}", request.msg_id),
                ))
            })
    }

    /// Answers `request`: sends to its `reply_to` (or its NATS reply subject), with what the
    /// schema's `x-reply-fills` take from the request where `options` leave them unset
    /// ([`EnvelopeFields::fill_reply`](crate::EnvelopeFields::fill_reply)): `reply_to_msg_id`
    /// its `msg_id`, its correlation id kept, and its sender as the receiver.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the request names no reply subject; the errors of
    /// [`smartsend`](Self::smartsend).
    pub async fn reply(
        &self,
        request: &Received,
        payloads: Vec<Payload>,
        options: &SendOptions,
    ) -> Result<MessageEnvelope, Error> {
        let asked = &request.envelope;
        let subject = if asked.reply_to.is_empty() {
            request.reply_subject.clone().unwrap_or_default()
        } else {
            asked.reply_to.clone()
        };
        if subject.is_empty() {
            return Err(Error::field(
                ErrorKind::InvalidInput,
                "reply_to",
                format!(
                    "message {} asks for no reply (reply_to is empty)",
                    asked.msg_id
                ),
            ));
        }
        // The subject comes from the request: a hostile one must not reach the wire.
        crate::checks::check_subject("reply_to", &subject)?;
        let mut options = options.clone();
        // What the reply takes from the request is the schema's (`x-reply-fills`).
        options.fields.fill_reply(asked);
        self.smartsend(&subject, payloads, &options).await
    }

    /// A durable JetStream consumer `durable` on `stream` (created when missing), receiving
    /// messages on `filter_subject` (empty: all of the stream).
    ///
    /// # Errors
    /// [`ErrorKind::Jetstream`] when the stream does not exist or the consumer is refused.
    pub async fn durable_receiver(
        &self,
        stream: &str,
        durable: &str,
        filter_subject: &str,
    ) -> Result<DurableReceiver, Error> {
        use async_nats::jetstream::consumer::pull;
        let jetstream_error = |what: &str| {
            Error::located(
                ErrorKind::Jetstream,
                Place::Consumer(format!("{stream}/{durable}")),
                what,
            )
        };
        let stream_handle = self
            .inner
            .jetstream
            .get_stream(stream)
            .await
            .map_err(|e| jetstream_error("no such stream").with_source(e))?;
        let consumer = stream_handle
            .get_or_create_consumer(
                durable,
                pull::Config {
                    durable_name: Some(durable.to_owned()),
                    filter_subject: filter_subject.to_owned(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| jetstream_error("cannot create the consumer").with_source(e))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| jetstream_error("cannot read the consumer").with_source(e))?;
        Ok(DurableReceiver {
            client: self.clone(),
            messages,
            name: format!("{stream}/{durable}"),
        })
    }
}

/// Messages of a durable JetStream consumer. Each is acknowledged only after its payloads
/// were decoded and downloaded; a download failure asks for redelivery, so nothing is lost.
pub struct DurableReceiver {
    client: Client,
    messages: async_nats::jetstream::consumer::pull::Stream,
    name: String,
}

/// How long JetStream waits before redelivering a message whose link download failed.
const REDELIVERY_DELAY: Duration = Duration::from_secs(1);

impl DurableReceiver {
    /// The next message, decoded, downloaded and then acknowledged. `None` when the
    /// consumer ends.
    ///
    /// # Errors
    /// An envelope that cannot be decoded is terminated (never redelivered) and its error
    /// returned; a failed download is negatively acknowledged (redelivered after a second)
    /// and its error returned; [`ErrorKind::Jetstream`] when JetStream fails.
    pub async fn next(&mut self) -> Option<Result<Received, Error>> {
        use async_nats::jetstream::AckKind;
        let message = match self.messages.next().await? {
            Ok(message) => message,
            Err(e) => {
                return Some(Err(Error::located(
                    ErrorKind::Jetstream,
                    Place::Consumer(self.name.clone()),
                    "cannot receive",
                )
                .with_source(e)));
            }
        };
        let outcome = match MessageEnvelope::from_json_split(&message.payload) {
            Err(error) => Err((error, AckKind::Term)),
            Ok(envelope) => self
                .client
                .inner
                .fetcher
                .receive(envelope)
                .await
                .map_err(|error| (error, AckKind::Nak(Some(REDELIVERY_DELAY)))),
        };
        let ack_error = |e: async_nats::Error| {
            let error = Error::located(
                ErrorKind::Jetstream,
                Place::Consumer(self.name.clone()),
                "cannot acknowledge",
            );
            error.with_boxed_source(e)
        };
        Some(match outcome {
            Ok(received) => match message.double_ack().await {
                Ok(()) => Ok(received),
                Err(e) => Err(ack_error(e)),
            },
            Err((error, kind)) => match message.ack_with(kind).await {
                Ok(()) => Err(error),
                Err(e) => Err(ack_error(e)),
            },
        })
    }
}
