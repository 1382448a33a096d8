//! What a receiver agrees to download: link schemes, hosts and ports, Object Store buckets,
//! the largest payload, the most an envelope may make it hold in memory, and the slowest
//! transfer it waits for. Safe by default: a message cannot make it fetch any URL.

use std::time::Duration;

use super::object_store::OBJECT_STORE_SCHEME;
use crate::{Error, ErrorKind};

/// The largest link payload a receiver downloads unless told otherwise: the contract's
/// [`MAX_DOWNLOAD_BYTES`](crate::contract::MAX_DOWNLOAD_BYTES) (1 GiB).
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = crate::contract::MAX_DOWNLOAD_BYTES;

/// The most bytes of link payloads one envelope may make an in-memory receive
/// ([`Client::smartreceive`](crate::Client::smartreceive), [`Client::subscribe`](crate::Client::subscribe),
/// [`smartreceive`](crate::smartreceive)) hold, unless told otherwise: the contract's
/// [`MAX_IN_MEMORY_BYTES`](crate::contract::MAX_IN_MEMORY_BYTES) (256 MiB). Receive larger
/// payloads to files ([`Client::payload_to_file`](crate::Client::payload_to_file)).
pub const DEFAULT_MAX_IN_MEMORY_BYTES: u64 = crate::contract::MAX_IN_MEMORY_BYTES;

/// One allowed link host: a lower-case name or IP address and a port (`None`: the default
/// port of the link's scheme, 80 for http, 443 for https).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    host: String,
    port: Option<u16>,
}

impl std::fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(port) => write!(f, "{host}:{port}"),
            None => write!(f, "{host} (default port)"),
        }
    }
}

/// Splits `host[:port]` (`[v6]:port`, a bare IPv6 address) into a lower-case host and an
/// optional port, as [`LinkPolicy::allow_host`] and the CLI's `--allow-link-host` take it.
///
/// # Errors
/// A message naming the entry when it has no host or its port is not a number 1 to 65535.
pub fn parse_link_host(entry: &str) -> Result<(String, Option<u16>), String> {
    let entry = entry.trim();
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("link host {entry:?}: '[' without ']'"))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("link host {entry:?}: junk after ']'")),
            },
        }
    } else if entry.matches(':').count() == 1 {
        let (host, port) = entry.split_once(':').expect("one ':'");
        (host, Some(port))
    } else {
        (entry, None)
    };
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/?#@".contains(c))
    {
        return Err(format!(
            "link host {entry:?} names no host (give host or host:port)"
        ));
    }
    let port = match port {
        None => None,
        Some(port) => Some(
            port.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("link host {entry:?}: port {port:?} is not 1 to 65535"))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Which links a receiver fetches and how much it puts up with.
///
/// Only `http`, `https` and `nats-object-store` links (the latter over the receiver's own
/// NATS connection) are fetched: `http(s)` ones only from an allowed host **and port**,
/// Object Store ones only from an allowed bucket; redirects are not followed. A client
/// allows its own file server's `host:port` ([`ConnectOptions::plik`],
/// [`ConnectOptions::http_put`]) or its own bucket ([`ConnectOptions::object_store`]) on
/// top of these lists. An in-memory receive holds at most
/// [`max_in_memory_bytes`](Self::max_in_memory_bytes) of link payloads per envelope
/// (declared sizes summed, one file named twice counts twice), checked before any download.
///
/// ```
/// use std::time::Duration;
/// use natsbridge::link::LinkPolicy;
///
/// let policy = LinkPolicy::new()
///     .allow_host("files.example.com")       // its default port: 443 for https
///     .allow_host("127.0.0.1:8080")          // this port only
///     .allow_bucket("natsbridge")
///     .max_download_bytes(100_000_000)
///     .low_speed_limit(1024, Duration::from_secs(30));
/// assert!(policy.check_url("https://files.example.com/a/b.bin").is_ok());
/// assert!(policy.check_url("https://files.example.com:8443/a/b.bin").is_err());
/// assert!(policy.check_url("http://127.0.0.1:8080/a/b.bin").is_ok());
/// assert!(policy.check_url("http://127.0.0.1:8222/varz").is_err());
/// assert!(policy.check_url("nats-object-store://natsbridge/id/b.bin").is_ok());
/// assert!(policy.check_url("nats-object-store://secrets/id/b.bin").is_err());
/// assert!(policy.check_url("http://169.254.169.254/latest/meta-data").is_err());
/// assert!(policy.check_url("file:///etc/passwd").is_err());
/// ```
///
/// [`ConnectOptions::plik`]: crate::ConnectOptions::plik
/// [`ConnectOptions::http_put`]: crate::ConnectOptions::http_put
/// [`ConnectOptions::object_store`]: crate::ConnectOptions::object_store
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPolicy {
    /// `None`: any host (the explicit escape hatch).
    allowed_hosts: Option<Vec<AllowedHost>>,
    /// `None`: any bucket the account can read (the explicit escape hatch).
    allowed_buckets: Option<Vec<String>>,
    max_download_bytes: u64,
    max_in_memory_bytes: u64,
    low_speed_bytes_per_second: u64,
    low_speed_window: Duration,
}

impl Default for LinkPolicy {
    fn default() -> Self {
        LinkPolicy {
            allowed_hosts: Some(Vec::new()),
            allowed_buckets: Some(Vec::new()),
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            max_in_memory_bytes: DEFAULT_MAX_IN_MEMORY_BYTES,
            low_speed_bytes_per_second: 1024,
            low_speed_window: Duration::from_secs(30),
        }
    }
}

impl LinkPolicy {
    /// No HTTP host or bucket allowed yet, at most [`DEFAULT_MAX_DOWNLOAD_BYTES`] per payload
    /// and 256 MiB of link payloads per envelope in memory, at least 1 KiB/s over 30 s.
    pub fn new() -> Self {
        LinkPolicy::default()
    }

    /// Also fetches `http(s)` links from `host`: `host:port` allows that port only, a bare
    /// `host` (a name or an IP address, `[v6]` or bare IPv6) only the scheme's default port
    /// (80 for http, 443 for https). An entry [`parse_link_host`] refuses allows nothing.
    pub fn allow_host(self, host: impl Into<String>) -> Self {
        match parse_link_host(&host.into()) {
            Ok((host, port)) => self.allow(AllowedHost { host, port }),
            Err(_) => self,
        }
    }

    fn allow(mut self, entry: AllowedHost) -> Self {
        if let Some(hosts) = &mut self.allowed_hosts
            && !hosts.contains(&entry)
        {
            hosts.push(entry);
        }
        self
    }

    /// Also fetches `http(s)` links from the host and port of `url` (its scheme's default
    /// port when it names none); ignored when it has no host.
    pub fn allow_host_of(self, url: &str) -> Self {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return self;
        };
        match parsed.host_str() {
            Some(host) => {
                let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
                let port = parsed.port_or_known_default();
                self.allow(AllowedHost { host, port })
            }
            None => self,
        }
    }

    /// Also fetches `nats-object-store` links from the bucket `bucket`.
    pub fn allow_bucket(mut self, bucket: impl Into<String>) -> Self {
        let bucket = bucket.into();
        if let Some(buckets) = &mut self.allowed_buckets
            && !buckets.contains(&bucket)
        {
            buckets.push(bucket);
        }
        self
    }

    /// Fetches `nats-object-store` links from ANY bucket the receiver's NATS account can
    /// read. Only for receivers that trust every sender.
    pub fn allow_any_bucket_unsafe(mut self) -> Self {
        self.allowed_buckets = None;
        self
    }

    /// Refuses an envelope whose link payloads would make an in-memory receive hold more
    /// than `bytes` in all (default [`DEFAULT_MAX_IN_MEMORY_BYTES`]); the streaming calls
    /// (`payload_to_file`, `payload_to_writer`) are bound by
    /// [`max_download_bytes`](Self::max_download_bytes) per payload only.
    pub fn max_in_memory_bytes(mut self, bytes: u64) -> Self {
        self.max_in_memory_bytes = bytes;
        self
    }

    /// The in-memory cap per envelope.
    pub(crate) fn in_memory_cap(&self) -> u64 {
        self.max_in_memory_bytes
    }

    /// Fetches `http(s)` links from ANY host a message names. Only for receivers that trust
    /// every sender: a message can then make the receiver reach internal addresses.
    pub fn allow_any_host_unsafe(mut self) -> Self {
        self.allowed_hosts = None;
        self
    }

    /// Refuses link payloads whose declared `size` is larger than `bytes`.
    pub fn max_download_bytes(mut self, bytes: u64) -> Self {
        self.max_download_bytes = bytes;
        self
    }

    /// A download attempt that moves fewer than `bytes_per_second` on average over `window`
    /// (or sends no answer within `window`) is abandoned as timed out, then retried.
    pub fn low_speed_limit(mut self, bytes_per_second: u64, window: Duration) -> Self {
        self.low_speed_bytes_per_second = bytes_per_second;
        self.low_speed_window = window.max(Duration::from_millis(1));
        self
    }

    /// The window of [`low_speed_limit`](Self::low_speed_limit).
    pub(crate) fn low_speed_window(&self) -> Duration {
        self.low_speed_window
    }

    /// The fewest bytes a full window must move.
    pub(crate) fn low_speed_window_bytes(&self) -> u64 {
        let micros = self.low_speed_window.as_micros().min(u64::MAX as u128) as u64;
        self.low_speed_bytes_per_second.saturating_mul(micros) / 1_000_000
    }

    /// The download cap.
    pub(crate) fn max_bytes(&self) -> u64 {
        self.max_download_bytes
    }

    /// Whether this receiver fetches `url`.
    ///
    /// # Errors
    /// [`ErrorKind::LinkRefused`] naming the URL: another scheme, no host, or a host that is
    /// not allowed.
    pub fn check_url(&self, url: &str) -> Result<(), Error> {
        let refused = |why: String| Error::url(ErrorKind::LinkRefused, url, why);
        if let Some(rest) = url.strip_prefix(OBJECT_STORE_SCHEME) {
            let bucket = rest.split('/').next().unwrap_or_default();
            return match &self.allowed_buckets {
                None => Ok(()),
                Some(buckets) if buckets.iter().any(|b| b == bucket) => Ok(()),
                Some(buckets) => Err(refused(format!(
                    "Object Store bucket {bucket:?} is not an allowed link bucket (allowed: {}); \
                     allow it with LinkPolicy::allow_bucket or the CLI's --allow-link-bucket",
                    list(buckets)
                ))),
            };
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| refused(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refused(format!(
                "only http, https and {OBJECT_STORE_SCHEME} links are fetched, not {}:",
                parsed.scheme()
            )));
        }
        let host = parsed
            .host_str()
            .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
            .ok_or_else(|| refused("the link names no host".to_owned()))?;
        let port = parsed.port_or_known_default();
        let allows = |entry: &AllowedHost| {
            same_host(&entry.host, &host)
                && match entry.port {
                    Some(wanted) => port == Some(wanted),
                    None => parsed.port().is_none(), // the scheme's default port
                }
        };
        match &self.allowed_hosts {
            None => Ok(()),
            Some(hosts) if hosts.iter().any(allows) => Ok(()),
            Some(hosts) => Err(refused(format!(
                "host {host:?} port {} is not an allowed link host (allowed: {}); allow it \
                 with LinkPolicy::allow_host(\"host:port\") or the CLI's --allow-link-host",
                port.map_or_else(|| "none".to_owned(), |p| p.to_string()),
                list(hosts)
            ))),
        }
    }

    /// The HTTP client downloads use: no redirects followed, a bounded connect time.
    pub(crate) fn http_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.low_speed_window)
            .build()
            .expect("an HTTP client with rustls")
    }
}

/// Whether two lower-case hosts name the same machine: equal, or both spellings of this
/// machine's loopback (`localhost`, `127.0.0.1`, `::1`), so that a receiver allowing
/// `127.0.0.1:8080` takes a link to `localhost:8080` from a sender using the original editions'
/// default `fileserver_url`. Names are not resolved: `localhost` is never another machine.
fn same_host(allowed: &str, host: &str) -> bool {
    let loopback = |h: &str| matches!(h, "localhost" | "127.0.0.1" | "::1");
    allowed == host || (loopback(allowed) && loopback(host))
}

/// `a, b` or `none`.
fn list<T: std::fmt::Display>(entries: &[T]) -> String {
    if entries.is_empty() {
        return "none".to_owned();
    }
    entries
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_hosts_ports_and_schemes_are_fetched() {
        let policy = LinkPolicy::new()
            .allow_host_of("http://127.0.0.1:8080/")
            .allow_bucket("b");
        assert!(policy.check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(policy.check_url("nats-object-store://b/i/n").is_ok());
        // The loopback's spellings are one host; its other ports and look-alikes are not.
        for url in [
            "http://localhost:8080/x",
            "http://LocalHost:8080/x",
            "http://[::1]:8080/x",
        ] {
            assert!(policy.check_url(url).is_ok(), "{url}");
        }
        for url in [
            "http://127.0.0.1:9999/x",
            "http://127.0.0.1/x",
            "http://localhost:9999/x",
            "http://localhost.example.com:8080/x",
            "http://127.0.0.2:8080/x",
            "https://10.0.0.1/x",
            "file:///etc/passwd",
            "ftp://127.0.0.1/x",
            "gopher://127.0.0.1/x",
            "nats-object-store://other/i/n",
            "nats-object-store://",
            "not a url",
        ] {
            let error = policy.check_url(url).unwrap_err();
            assert_eq!((error.kind(), error.at()), (ErrorKind::LinkRefused, url));
        }
        let any = policy.clone().allow_any_host_unsafe();
        assert!(any.check_url("https://10.0.0.1/x").is_ok());
        assert!(any.check_url("file:///etc/passwd").is_err());
        assert!(any.check_url("nats-object-store://other/i/n").is_err());
        let buckets = policy.allow_any_bucket_unsafe();
        assert!(buckets.check_url("nats-object-store://other/i/n").is_ok());
    }

    #[test]
    fn an_entry_without_a_port_means_the_default_port() {
        let policy = LinkPolicy::new()
            .allow_host("Files.Example.com")
            .allow_host("[::1]:9000")
            .allow_host("10.0.0.1:0")
            .allow_host("10.0.0.2:x");
        assert!(policy.check_url("https://files.example.com/a").is_ok());
        assert!(policy.check_url("http://files.example.com:80/a").is_ok());
        assert!(policy.check_url("http://files.example.com:8080/a").is_err());
        assert!(policy.check_url("http://[::1]:9000/a").is_ok());
        assert!(policy.check_url("http://[::1]/a").is_err());
        assert!(policy.check_url("http://10.0.0.1/a").is_err());
        assert!(policy.check_url("http://10.0.0.2/a").is_err());
        assert_eq!(parse_link_host("h:8080"), Ok(("h".to_owned(), Some(8080))));
        assert_eq!(parse_link_host("::1"), Ok(("::1".to_owned(), None)));
        assert!(parse_link_host("h:").is_err());
        assert!(parse_link_host("").is_err());
        assert!(parse_link_host("h:99999").is_err());
    }

    #[test]
    fn the_low_speed_window_needs_rate_times_window_bytes() {
        let policy = LinkPolicy::new().low_speed_limit(100, Duration::from_millis(1500));
        assert_eq!(policy.low_speed_window_bytes(), 150);
    }
}
