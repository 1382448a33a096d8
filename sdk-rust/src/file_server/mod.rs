//! The file server behind `natsbridge serve-files`: stores link payloads on disk and serves
//! them over HTTP/1.1 (the Plik API subset of WIRE.md section 6, and plain PUT/GET/DELETE).
//!
//! It lets a user run NATSBridge with nothing but `nats-server`, and the original Julia,
//! JavaScript and Python editions, which speak Plik, can use it too.
//!
//! # Routes
//!
//! | request | answer |
//! |---|---|
//! | `POST /upload` (JSON options, may be `{}`) | 200, JSON `{"id": UPLOAD_ID, "uploadToken": TOKEN, ...}` |
//! | `POST /file/{uploadId}`, `multipart/form-data` with one part `file`, header `X-UploadToken` | 200, JSON `{"id": FILE_ID, "fileName": NAME, "fileSize": N, ...}` |
//! | `GET /file/{uploadId}/{fileId}/{fileName}` | the bytes |
//! | `PUT /{path...}` | 201; the body is stored there, folders created; 409 when a file is already stored there (unless [`FileServerConfig::allow_overwrite`]); 403 below `/file/` (Plik's) |
//! | `GET /{path...}`, `HEAD /{path...}` | the bytes (headers only for `HEAD`) |
//! | `DELETE /{path...}` | 200 with the upload token; 403 when the server has none |
//!
//! Every response carries `Content-Length`. A missing file is 404; an upload larger than
//! [`FileServerConfig::max_upload_bytes`] is 413, whether its length was declared or not, and
//! a multipart body holding more than 64 KiB besides its file (no boundary at all, huge part
//! headers) is 413 too, so memory stays flat. With an [upload
//! token](FileServerConfig::upload_token), `POST /upload`, `PUT` and `DELETE` need
//! `Authorization: Bearer TOKEN` (or `X-PlikToken: TOKEN`), else 401; downloads stay open,
//! since a link is a capability. Refusals are one line of plain text naming what was wrong.
//!
//! # Limits
//!
//! A connection that moves fewer than 1 KiB during [`FileServerConfig::idle_timeout`] is
//! closed (idle keep-alive, a trickled body, a download nobody reads); headers must arrive
//! within 30 s; at most [`FileServerConfig::max_connections`] are served at once (more wait in
//! the listen queue); at most [`FileServerConfig::max_open_uploads`] Plik uploads stay open
//! (one more forgets the oldest).
//!
//! # Storage and safety
//!
//! A URL path is percent-decoded name by name and each name is checked: empty names, `.`,
//! `..`, hidden names (a leading `.`), `/`, `\`, NUL and other control characters, and what
//! Windows reads as a drive, a stream or a device (`C:x`, `a:stream`, `CON`, `nul.txt`) are
//! refused with 400 before anything is created, so nothing is ever read or written outside
//! the folder (and a symbolic
//! link someone placed in the folder that leads outside it is refused with 403). Bodies are
//! streamed to and from disk, never held whole in memory. An upload is written to a
//! temporary file in `DIR/.incoming/` and renamed into place only once complete: a broken or
//! refused upload leaves nothing behind and is never served (what a crash leaves there is
//! removed once untouched for an hour). With a [TTL](FileServerConfig::ttl), a background
//! task removes files older than it (judged by the time they were stored) and the folders
//! they leave empty. Plik files are stored at `DIR/file/{uploadId}/{fileId}/{fileName}`,
//! the path of their link.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use natsbridge::file_server::{FileServer, FileServerConfig};
//!
//! # async fn run() -> std::io::Result<()> {
//! let config = FileServerConfig::new("/var/lib/natsbridge")
//!     .with_listen("127.0.0.1:8080".parse().unwrap())
//!     .with_max_upload_bytes(Some(1 << 30))
//!     .with_ttl(Some(Duration::from_secs(24 * 3600)));
//! let server = FileServer::bind(config).await?;
//! println!("listening on {}", server.url());
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let serving = tokio::spawn(server.serve_until(async { stopped.await.ok(); }));
//! // ... later:
//! stop.send(()).ok();
//! serving.await??;
//! # Ok(())
//! # }
//! ```

mod idle;
mod paths;
mod plik;
mod response;
mod routes;
mod storage;
mod sweeper;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use routes::Shared;
use storage::Store;

pub use storage::INCOMING_FOLDER;

/// How long a client may take to send the headers of a request.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`FileServerConfig::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`FileServerConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// The default [`FileServerConfig::max_open_uploads`].
pub const DEFAULT_MAX_OPEN_UPLOADS: usize = 10_000;
/// How long a graceful shutdown waits for requests in flight before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often open Plik uploads and abandoned partial uploads are swept without a TTL.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(60);
/// A partial upload not written to for this long is abandoned and removed.
const ABANDONED_UPLOAD_IDLE: Duration = Duration::from_secs(3600);

/// The settings of a [`FileServer`]: a folder, an address and optional limits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileServerConfig {
    /// The folder files are stored in and served from; created if missing.
    pub dir: PathBuf,
    /// The address to listen on; port 0 picks a free port (see [`FileServer::local_addr`]).
    pub listen: SocketAddr,
    /// Uploads larger than this many bytes are refused with 413; `None` accepts any size.
    pub max_upload_bytes: Option<u64>,
    /// Stored files older than this are removed; `None` keeps them.
    pub ttl: Option<Duration>,
    /// When set, uploads (`POST /upload`, `PUT`) and `DELETE` need this token; without
    /// one, `DELETE` is refused (403).
    pub upload_token: Option<String>,
    /// Whether a `PUT` may replace a file already stored (default `false`: 409).
    pub allow_overwrite: bool,
    /// A connection that moves fewer than 1 KiB (in either direction) during this long is
    /// closed: idle keep-alive connections, bodies sent too slowly, downloads read too
    /// slowly (default [`DEFAULT_IDLE_TIMEOUT`]).
    pub idle_timeout: Duration,
    /// The most connections served at once; more wait in the listen queue until one ends
    /// (default [`DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// The most Plik uploads open at once (`POST /upload` without its file yet); opening
    /// one more forgets the oldest (default [`DEFAULT_MAX_OPEN_UPLOADS`]).
    pub max_open_uploads: usize,
}

impl FileServerConfig {
    /// Serves `dir` on `127.0.0.1` on a free port, with no size limit, TTL or token.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileServerConfig {
            dir: dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_upload_bytes: None,
            ttl: None,
            upload_token: None,
            allow_overwrite: false,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_open_uploads: DEFAULT_MAX_OPEN_UPLOADS,
        }
    }

    /// Listens on `listen` instead.
    pub fn with_listen(mut self, listen: SocketAddr) -> Self {
        self.listen = listen;
        self
    }

    /// Refuses uploads larger than `max_upload_bytes` (`None`: no limit).
    pub fn with_max_upload_bytes(mut self, max_upload_bytes: Option<u64>) -> Self {
        self.max_upload_bytes = max_upload_bytes;
        self
    }

    /// Removes files older than `ttl` (`None`: keeps them).
    pub fn with_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.ttl = ttl;
        self
    }

    /// Requires `upload_token` for uploads and deletes (`None`: uploads open to all,
    /// deletes refused).
    pub fn with_upload_token(mut self, upload_token: Option<String>) -> Self {
        self.upload_token = upload_token;
        self
    }

    /// Lets a `PUT` replace a stored file (`false`, the default: 409 Conflict).
    pub fn with_allow_overwrite(mut self, allow_overwrite: bool) -> Self {
        self.allow_overwrite = allow_overwrite;
        self
    }

    /// Closes connections that move fewer than 1 KiB during `idle_timeout`.
    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout.max(Duration::from_millis(10));
        self
    }

    /// Serves at most `max_connections` connections at once (at least 1).
    pub fn with_max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections.max(1);
        self
    }

    /// Keeps at most `max_open_uploads` Plik uploads open (at least 1).
    pub fn with_max_open_uploads(mut self, max_open_uploads: usize) -> Self {
        self.max_open_uploads = max_open_uploads.max(1);
        self
    }
}

/// A file server bound to its address, ready to [serve](FileServer::serve_until).
#[derive(Debug)]
pub struct FileServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FileServer {
    /// Opens (creating it if needed) the folder and binds the address. Errors name the
    /// folder or address at fault.
    pub async fn bind(config: FileServerConfig) -> io::Result<FileServer> {
        if config.upload_token.as_deref() == Some("") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the upload token is empty; give a token or none",
            ));
        }
        let dir = config.dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&dir))
            .await
            .map_err(io::Error::other)??;
        let listener = TcpListener::bind(config.listen).await.map_err(|e| {
            io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.listen))
        })?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store,
            uploads: plik::Uploads::new(config.max_open_uploads),
            max_upload_bytes: config.max_upload_bytes,
            ttl: config.ttl,
            upload_token: config.upload_token,
            allow_overwrite: config.allow_overwrite,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections,
        });
        Ok(FileServer {
            listener,
            local_addr,
            shared,
        })
    }

    /// The address the server listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The server's base URL, `http://127.0.0.1:PORT`: the `fileserver_url` senders use.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The folder served, resolved to an absolute path.
    pub fn dir(&self) -> &Path {
        self.shared.store.root()
    }

    /// Serves until the process ends.
    pub async fn run(self) -> io::Result<()> {
        self.serve_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then stops accepting connections, lets requests in
    /// flight finish (for up to 10 seconds), closes every connection and returns.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let sweeper = tokio::spawn(sweep_forever(Arc::clone(&self.shared)));
        let graceful = GracefulShutdown::new();
        let mut connections = tokio::task::JoinSet::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        tokio::pin!(shutdown);
        // One permit per connection: at the cap, new connections wait in the listen queue.
        let slots = Arc::new(tokio::sync::Semaphore::new(self.shared.max_connections));
        loop {
            let slot = tokio::select! {
                slot = Arc::clone(&slots).acquire_owned() => slot.expect("never closed"),
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                () = &mut shutdown => break,
            };
            let (stream, _peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment, keep serving.
                        if !is_per_connection(&e) {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        continue;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                () = &mut shutdown => break,
            };
            let shared = Arc::clone(&self.shared);
            let stream = idle::IdleTimeout::new(stream, self.shared.idle_timeout);
            let service = service_fn(move |request| routes::handle(Arc::clone(&shared), request));
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            connections.spawn(async move {
                // A client that goes away mid-request is its own business; nothing to report.
                let _ = connection.await;
                drop(slot);
            });
        }
        drop(self.listener);
        sweeper.abort();
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
        // Whatever is still running after the grace period is cut off here, so that no
        // request is served once this returns.
        connections.shutdown().await;
        Ok(())
    }
}

/// Checks a request path as the server does before touching the disk: the checked path
/// (percent-encoded again) or the refusal. For fuzzing and tools; not a stable API.
#[doc(hidden)]
pub fn check_request_path(raw: &str) -> Result<String, String> {
    paths::StoredPath::from_url_path(raw).map(|path| path.to_url_path())
}

fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// Removes expired files (with a TTL), expired Plik uploads and abandoned partial uploads,
/// forever.
async fn sweep_forever(shared: Arc<Shared>) {
    let interval = shared
        .ttl
        .map_or(HOUSEKEEPING_INTERVAL, sweeper::sweep_interval);
    let upload_lifetime = shared.ttl.unwrap_or(plik::UPLOAD_LIFETIME_WITHOUT_TTL);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        shared.uploads.expire(upload_lifetime);
        let shared = Arc::clone(&shared);
        let _ = tokio::task::spawn_blocking(move || {
            let store = &shared.store;
            sweeper::sweep_abandoned_uploads(store.incoming(), ABANDONED_UPLOAD_IDLE);
            if let Some(ttl) = shared.ttl {
                sweeper::sweep(store.root(), ttl);
            }
        })
        .await;
    }
}
