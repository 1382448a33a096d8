//! Downloads of link payloads: `GET` (or an Object Store read) streamed into a sink, with
//! retries, resumption after a broken transfer, a low-speed timeout, the receiver's
//! [`LinkPolicy`], and size and SHA-256 verification.

use std::io;
use std::pin::Pin;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::object_store::{OBJECT_STORE_SCHEME, OpenBuckets, parse_link};
use super::{LinkPolicy, Progress};
use crate::{Error, ErrorKind, RetryPolicy};

/// Where downloaded bytes go.
pub(crate) type Sink<'a> = dyn AsyncWrite + Unpin + Send + 'a;

/// What a link payload must turn out to be.
pub(crate) struct Expected<'a> {
    pub url: &'a str,
    pub dataname: &'a str,
    pub size: u64,
    /// Lower-case hex SHA-256, when the envelope carries a checksum.
    pub sha256: Option<&'a str>,
}

/// Downloads link payloads; shared by every receive path of a client.
#[derive(Clone)]
pub(crate) struct Fetcher {
    pub http: reqwest::Client,
    pub jetstream: Option<async_nats::jetstream::Context>,
    pub retry: RetryPolicy,
    pub progress: Option<Progress>,
    pub policy: LinkPolicy,
    /// Object Store buckets opened by earlier downloads.
    pub buckets: OpenBuckets,
}

enum Failure {
    /// Worth another attempt: connection errors, 5xx, 429, a transfer cut short
    /// ([`ErrorKind::Download`]) or too slow ([`ErrorKind::Timeout`]).
    Transient(ErrorKind, String),
    /// Reported at once.
    Permanent(Error),
}

/// A download's body as the transport hands it over: chunks written to the sink as they are,
/// without a copy through a read buffer.
type Chunks = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// Chunk size of Object Store reads (HTTP bodies come in the chunks hyper reads).
const OBJECT_CHUNK: usize = 128 * 1024;

/// Payloads of at least this many bytes are hashed on a blocking thread beside the download.
const HASH_BESIDE_FROM: u64 = 1 << 20;

/// Bytes of one download so far, kept across attempts so a retry resumes where the last
/// attempt broke off.
struct Progressed {
    written: u64,
    /// `None` when the envelope carries no checksum: nothing to compare a hash with.
    hasher: Option<Hasher>,
}

/// The SHA-256 of a download, computed as its chunks arrive: inline for small payloads, on a
/// blocking thread for large ones, so the next chunk is received while the last is hashed
/// (at most [`Hasher::QUEUED`] chunks wait; the download waits when the hash falls behind).
enum Hasher {
    Inline(Sha256),
    Beside {
        chunks: tokio::sync::mpsc::Sender<Bytes>,
        digest: tokio::task::JoinHandle<String>,
    },
}

impl Hasher {
    const QUEUED: usize = 8;

    fn new(size: u64) -> Self {
        if size < HASH_BESIDE_FROM {
            return Hasher::Inline(Sha256::new());
        }
        let (chunks, mut queue) = tokio::sync::mpsc::channel::<Bytes>(Self::QUEUED);
        let digest = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            while let Some(chunk) = queue.blocking_recv() {
                hasher.update(&chunk);
            }
            hex(&hasher.finalize())
        });
        Hasher::Beside { chunks, digest }
    }

    async fn update(&mut self, chunk: Bytes) {
        match self {
            Hasher::Inline(hasher) => hasher.update(&chunk),
            // A hashing thread that is gone shows in `finish`.
            Hasher::Beside { chunks, .. } => drop(chunks.send(chunk).await),
        }
    }

    /// Lower-case hex of the hash, or `None` when the hashing thread failed.
    async fn finish(self) -> Option<String> {
        match self {
            Hasher::Inline(hasher) => Some(hex(&hasher.finalize())),
            Hasher::Beside { chunks, digest } => {
                drop(chunks);
                digest.await.ok()
            }
        }
    }
}

impl Fetcher {
    /// A fetcher whose HTTP client follows `policy` (no redirects, bounded connect time).
    pub fn new(
        policy: LinkPolicy,
        retry: RetryPolicy,
        jetstream: Option<async_nats::jetstream::Context>,
        progress: Option<Progress>,
    ) -> Self {
        Fetcher {
            http: policy.http_client(),
            jetstream,
            retry,
            progress,
            policy,
            buckets: OpenBuckets::default(),
        }
    }

    /// Downloads `expected.url` into `sink`, retrying transient failures as the retry policy
    /// says, and verifies size and checksum. On error the sink may hold part of the data:
    /// callers that write files write a temporary one and rename it on success.
    pub async fn fetch(&self, expected: &Expected<'_>, sink: &mut Sink<'_>) -> Result<(), Error> {
        self.policy
            .check_url(expected.url)
            .map_err(|e| self.error(expected, e.kind(), e.message()))?;
        if expected.size > self.policy.max_bytes() {
            return Err(self.error(
                expected,
                ErrorKind::TooLarge,
                &format!(
                    "the envelope says {} bytes, more than this receiver's download cap of {}",
                    expected.size,
                    self.policy.max_bytes()
                ),
            ));
        }
        let mut done = Progressed {
            written: 0,
            hasher: expected.sha256.map(|_| Hasher::new(expected.size)),
        };
        let attempts = self.retry.max_retries.max(1);
        let (mut last_kind, mut last_failure) = (ErrorKind::Download, String::new());
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.retry.delay_before(attempt - 1)).await;
            }
            match self.attempt(expected, &mut done, sink).await {
                Ok(()) => return self.verify(expected, done, sink).await,
                Err(Failure::Permanent(error)) => return Err(error),
                Err(Failure::Transient(kind, message)) => {
                    (last_kind, last_failure) = (kind, message)
                }
            }
        }
        Err(self.error(
            expected,
            last_kind,
            &format!("gave up after {attempts} attempts; the last one: {last_failure}"),
        ))
    }

    fn error(&self, expected: &Expected<'_>, kind: ErrorKind, message: &str) -> Error {
        Error::url(
            kind,
            expected.url,
            format!("payload {:?}: {message}", expected.dataname),
        )
        .with_payload(expected.dataname)
    }

    async fn verify(
        &self,
        expected: &Expected<'_>,
        done: Progressed,
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        if done.written != expected.size {
            return Err(self.error(
                expected,
                ErrorKind::SizeMismatch,
                &format!(
                    "the download has {} bytes, the envelope says {}",
                    done.written, expected.size
                ),
            ));
        }
        if let (Some(want), Some(hasher)) = (expected.sha256, done.hasher) {
            let Some(got) = hasher.finish().await else {
                return Err(self.error(
                    expected,
                    ErrorKind::Io,
                    "the thread hashing the download failed",
                ));
            };
            if got != want {
                return Err(self.error(
                    expected,
                    ErrorKind::ChecksumMismatch,
                    &format!(
                        "the download has checksum sha256:{got}, the envelope says sha256:{want}"
                    ),
                ));
            }
        }
        sink.flush().await.map_err(|e| {
            self.error(
                expected,
                ErrorKind::Io,
                &format!("cannot write the data: {e}"),
            )
        })
    }

    async fn attempt(
        &self,
        expected: &Expected<'_>,
        done: &mut Progressed,
        sink: &mut Sink<'_>,
    ) -> Result<(), Failure> {
        let (mut chunks, mut skip) = self.open(expected, done.written).await?;
        let mut speed = SpeedWindow::new(&self.policy);
        loop {
            // `next` is cancel-safe: a timeout loses no chunk.
            let read = tokio::time::timeout_at(speed.ends(), chunks.next()).await;
            let mut chunk = match read {
                Err(_) => {
                    speed.check(0)?;
                    continue;
                }
                Ok(None) => return Ok(()),
                Ok(Some(Ok(chunk))) => chunk,
                Ok(Some(Err(e))) => {
                    return Err(Failure::Transient(
                        ErrorKind::Download,
                        format!("the transfer broke off: {e}"),
                    ));
                }
            };
            speed.check(chunk.len() as u64)?;
            let skipped = skip.min(chunk.len() as u64) as usize;
            chunk = chunk.slice(skipped..);
            skip -= skipped as u64;
            if chunk.is_empty() {
                continue;
            }
            if done.written + chunk.len() as u64 > expected.size {
                return Err(Failure::Permanent(self.error(
                    expected,
                    ErrorKind::SizeMismatch,
                    &format!(
                        "the download is longer than the {} bytes the envelope says",
                        expected.size
                    ),
                )));
            }
            sink.write_all(&chunk).await.map_err(|e| {
                Failure::Permanent(self.error(
                    expected,
                    ErrorKind::Io,
                    &format!("cannot write the data: {e}"),
                ))
            })?;
            done.written += chunk.len() as u64;
            if let Some(hasher) = &mut done.hasher {
                hasher.update(chunk).await;
            }
            if let Some(progress) = &self.progress {
                progress(expected.dataname, done.written, expected.size);
            }
        }
    }

    /// Opens the URL from byte `offset` on; returns the reader and how many leading bytes of
    /// it to drop (a server that ignores `Range` starts from 0 again).
    async fn open(&self, expected: &Expected<'_>, offset: u64) -> Result<(Chunks, u64), Failure> {
        if expected.url.starts_with(OBJECT_STORE_SCHEME) {
            return self.open_object(expected, offset).await;
        }
        let mut request = self.http.get(expected.url);
        if offset > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={offset}-"));
        }
        let window = self.policy.low_speed_window();
        let response = tokio::time::timeout(window, request.send())
            .await
            .map_err(|_| {
                Failure::Transient(
                    ErrorKind::Timeout,
                    format!("the file server sent no answer within {window:?}"),
                )
            })?
            .map_err(|e| {
                Failure::Transient(
                    ErrorKind::Download,
                    format!("cannot reach the file server: {e}"),
                )
            })?;
        let status = response.status();
        let skip = match status.as_u16() {
            200 => offset,
            206 if offset > 0 => 0,
            429 | 500..=599 => {
                return Err(Failure::Transient(
                    ErrorKind::Download,
                    format!("the file server answered {status}"),
                ));
            }
            300..=399 => {
                let target = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("nowhere");
                return Err(Failure::Permanent(self.error(
                    expected,
                    ErrorKind::LinkRefused,
                    &format!("the file server answered {status} (to {target}): redirects are not followed"),
                )));
            }
            _ => {
                return Err(Failure::Permanent(self.error(
                    expected,
                    ErrorKind::Download,
                    &format!("the file server answered {status}"),
                )));
            }
        };
        if let Some(length) = response.content_length()
            && status.as_u16() == 200
            && length != expected.size
        {
            return Err(Failure::Permanent(self.error(
                expected,
                ErrorKind::SizeMismatch,
                &format!(
                    "the file server sends {length} bytes, the envelope says {}",
                    expected.size
                ),
            )));
        }
        Ok((
            Box::pin(response.bytes_stream().map_err(io::Error::other)),
            skip,
        ))
    }

    async fn open_object(
        &self,
        expected: &Expected<'_>,
        offset: u64,
    ) -> Result<(Chunks, u64), Failure> {
        let Some((bucket, name)) = parse_link(expected.url) else {
            return Err(Failure::Permanent(self.error(
                expected,
                ErrorKind::Download,
                "not an Object Store link (nats-object-store://BUCKET/PAYLOAD-ID/DATANAME)",
            )));
        };
        let Some(jetstream) = &self.jetstream else {
            return Err(Failure::Permanent(self.error(
                expected,
                ErrorKind::Download,
                "an Object Store link needs a NATS connection: receive it with a Client",
            )));
        };
        let store = self.buckets.open(jetstream, &bucket).await.map_err(|e| {
            Failure::Transient(
                ErrorKind::Download,
                format!("cannot open bucket {bucket:?}: {e}"),
            )
        })?;
        let object = store.get(&name).await;
        if object.is_err() {
            self.buckets.forget(&bucket);
        }
        match object {
            Ok(object) => Ok((
                Box::pin(ReaderStream::with_capacity(object, OBJECT_CHUNK)),
                offset,
            )),
            Err(e) if e.kind() == async_nats::jetstream::object_store::GetErrorKind::NotFound => {
                Err(Failure::Permanent(self.error(
                    expected,
                    ErrorKind::Download,
                    "no such object",
                )))
            }
            Err(e) => Err(Failure::Transient(
                ErrorKind::Download,
                format!("cannot read the object: {e}"),
            )),
        }
    }
}

/// The bytes one attempt moved in the current low-speed window.
struct SpeedWindow {
    started: Instant,
    bytes: u64,
    length: std::time::Duration,
    needed: u64,
}

impl SpeedWindow {
    fn new(policy: &LinkPolicy) -> Self {
        SpeedWindow {
            started: Instant::now(),
            bytes: 0,
            length: policy.low_speed_window(),
            needed: policy.low_speed_window_bytes(),
        }
    }

    fn ends(&self) -> tokio::time::Instant {
        (self.started + self.length).into()
    }

    /// Counts `n` more bytes; at the end of a window, fails when it moved too few.
    fn check(&mut self, n: u64) -> Result<(), Failure> {
        self.bytes += n;
        if self.started.elapsed() < self.length {
            return Ok(());
        }
        if self.bytes < self.needed {
            return Err(Failure::Transient(
                ErrorKind::Timeout,
                format!(
                    "the transfer moved {} bytes in {:?}, below the low-speed limit of {} bytes in that time",
                    self.bytes, self.length, self.needed
                ),
            ));
        }
        (self.started, self.bytes) = (Instant::now(), 0);
        Ok(())
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
