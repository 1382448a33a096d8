//! The options every NATS-facing subcommand shares (server URL from `NATS_URL`, auth, file
//! server) and the client they make, with progress bars on large transfers.

use std::path::PathBuf;

use natsbridge::link::LinkPolicy;
use natsbridge::{Client, ConnectOptions, Error};

use crate::progress::Bars;

/// How to reach NATS and where link payloads go.
#[derive(Debug, clap::Args)]
pub struct ConnectionArgs {
    /// The NATS server.
    #[arg(
        long,
        short = 's',
        env = "NATS_URL",
        default_value = "nats://localhost:4222"
    )]
    server: String,
    /// User name (with --password).
    #[arg(long, env = "NATS_USER")]
    user: Option<String>,
    /// Password (with --user).
    #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Authentication token.
    #[arg(long, env = "NATS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A credentials (.creds) file.
    #[arg(long, env = "NATS_CREDS")]
    creds: Option<PathBuf>,
    /// The connection name the server shows.
    #[arg(long, default_value = "natsbridge-cli")]
    name: String,
    /// The file server for link payloads: a Plik server or `natsbridge serve-files` (with
    /// --upload plik, the default) or any server taking HTTP PUT (--upload put).
    #[arg(long, env = "NATSBRIDGE_FILESERVER")]
    fileserver: Option<String>,
    /// How link payloads are uploaded.
    #[arg(long, value_enum, default_value = "plik")]
    upload: Upload,
    /// The JetStream Object Store bucket for --upload object-store.
    #[arg(long, default_value = "natsbridge")]
    bucket: String,
    /// A token the file server requires for uploads.
    #[arg(long, env = "NATSBRIDGE_UPLOAD_TOKEN", hide_env_values = true)]
    upload_token: Option<String>,
    /// Also download link payloads from this HOST:PORT (repeatable; a HOST without a port
    /// allows the scheme's default port only, 80 for http, 443 for https); the --fileserver
    /// host and port are always allowed, anything else refused.
    #[arg(long = "allow-link-host", value_name = "HOST[:PORT]", value_parser = link_host)]
    allow_link_hosts: Vec<String>,
    /// Also download Object Store links from this JetStream bucket (repeatable); the
    /// --bucket of --upload object-store is always allowed, other buckets refused.
    #[arg(long = "allow-link-bucket", value_name = "BUCKET")]
    allow_link_buckets: Vec<String>,
    /// Download link payloads from ANY host a message names (only when every sender is
    /// trusted: a message could make this program fetch internal addresses).
    #[arg(long)]
    allow_any_link_host: bool,
    /// Refuse link payloads larger than this many bytes.
    #[arg(long, default_value_t = natsbridge::link::DEFAULT_MAX_DOWNLOAD_BYTES)]
    max_download_bytes: u64,
}

/// The upload backends of the CLI.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Upload {
    /// The Plik API (`natsbridge serve-files`, Plik, the original editions).
    Plik,
    /// `PUT {fileserver}/{payload id}/{dataname}` (nginx WebDAV, `natsbridge serve-files`).
    Put,
    /// The NATS JetStream Object Store (no file server needed).
    ObjectStore,
}

impl ConnectionArgs {
    /// Connects, with progress bars drawn on `bars`.
    pub async fn connect(&self, bars: &Bars) -> Result<Client, Error> {
        let mut options = ConnectOptions::new().name(&self.name);
        if let (Some(user), Some(password)) = (&self.user, &self.password) {
            options = options.user_and_password(user, password);
        }
        if let Some(token) = &self.token {
            options = options.token(token);
        }
        if let Some(creds) = &self.creds {
            options = options.credentials_file(creds);
        }
        if let Some(token) = &self.upload_token {
            options = options.upload_token(token);
        }
        let mut links = LinkPolicy::new().max_download_bytes(self.max_download_bytes);
        for host in &self.allow_link_hosts {
            links = links.allow_host(host);
        }
        for bucket in &self.allow_link_buckets {
            links = links.allow_bucket(bucket);
        }
        if self.allow_any_link_host {
            links = links.allow_any_host_unsafe();
        }
        options = options.link_policy(links);
        options = match (self.upload, &self.fileserver) {
            (Upload::ObjectStore, _) => options.object_store(&self.bucket),
            (Upload::Plik, Some(url)) => options.plik(url),
            (Upload::Put, Some(url)) => options.http_put(url),
            (_, None) => options,
        };
        let bars = bars.clone();
        options
            .progress(move |dataname, done, total| bars.update(dataname, done, total))
            .connect(&self.server)
            .await
    }
}

/// Checks a `--allow-link-host` entry (`host`, `host:port`, `[v6]:port`).
fn link_host(entry: &str) -> Result<String, String> {
    natsbridge::link::parse_link_host(entry).map(|_| entry.to_owned())
}
