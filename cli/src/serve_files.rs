//! `natsbridge serve-files`: serves a folder over HTTP for link payloads until Ctrl-C or
//! SIGTERM; prints `listening on http://HOST:PORT` once it accepts connections.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use natsbridge::file_server::{FileServer, FileServerConfig};

/// The options of `natsbridge serve-files`.
#[derive(Debug, clap::Args)]
pub struct ServeFilesArgs {
    /// The folder to store files in and serve them from (created if missing).
    #[arg(long)]
    dir: PathBuf,
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Refuse uploads larger than this many bytes (413).
    #[arg(long, value_name = "BYTES")]
    max_upload_bytes: Option<u64>,
    /// Remove stored files older than this many seconds.
    #[arg(long, value_name = "SECONDS")]
    ttl: Option<u64>,
    /// Require this token for uploads and deletes, as `Authorization: Bearer TOKEN` or
    /// `X-PlikToken: TOKEN`; downloads stay open.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "NATSBRIDGE_UPLOAD_TOKEN",
        hide_env_values = true
    )]
    upload_token: Option<String>,
    /// Let a PUT replace a file already stored (by default files are write-once: 409).
    #[arg(long)]
    allow_overwrite: bool,
    /// Close a connection that moves less than 1 KiB in this many seconds (idle
    /// keep-alives, bodies sent or downloads read too slowly).
    #[arg(long, value_name = "SECONDS", default_value_t = natsbridge::file_server::DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    idle_timeout: f64,
    /// Serve at most this many connections at once; more wait until one ends.
    #[arg(long, value_name = "N", default_value_t = natsbridge::file_server::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Keep at most this many Plik uploads open (opened, file not sent yet); one more
    /// forgets the oldest.
    #[arg(long, value_name = "N", default_value_t = natsbridge::file_server::DEFAULT_MAX_OPEN_UPLOADS)]
    max_open_uploads: usize,
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn run(args: ServeFilesArgs) -> io::Result<()> {
    let config = FileServerConfig::new(args.dir)
        .with_listen(args.listen)
        .with_max_upload_bytes(args.max_upload_bytes)
        .with_ttl(args.ttl.map(Duration::from_secs))
        .with_upload_token(args.upload_token)
        .with_allow_overwrite(args.allow_overwrite)
        .with_idle_timeout(seconds(args.idle_timeout, "--idle-timeout")?)
        .with_max_connections(args.max_connections)
        .with_max_open_uploads(args.max_open_uploads);
    let server = FileServer::bind(config).await?;
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", server.url())?;
    stdout.flush()?;
    drop(stdout);
    server.serve_until(stop_requested()).await
}

/// `value` seconds as a duration; a negative, infinite or NaN value is refused.
fn seconds(value: f64, flag: &str) -> io::Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{flag} {value}: give a number of seconds, 0 or more"),
        )
    })
}

/// Completes at Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
