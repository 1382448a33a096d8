//! What a receiver agrees to download: link schemes and hosts, the largest payload, and the
//! slowest transfer it waits for. Safe by default: a message cannot make it fetch any URL.

use std::time::Duration;

use super::object_store::OBJECT_STORE_SCHEME;
use crate::{Error, ErrorKind};

/// The largest link payload a receiver downloads unless told otherwise: the contract's
/// [`MAX_DOWNLOAD_BYTES`](crate::contract::MAX_DOWNLOAD_BYTES) (1 GiB).
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = crate::contract::MAX_DOWNLOAD_BYTES;

/// Which links a receiver fetches and how much it puts up with.
///
/// Only `http`, `https` and `nats-object-store` links (the latter over the receiver's own
/// NATS connection) are fetched, `http(s)` ones only from allowed hosts; redirects are not
/// followed. A client allows the host of its own file server ([`ConnectOptions::plik`],
/// [`ConnectOptions::http_put`]) on top of this list.
///
/// ```
/// use std::time::Duration;
/// use natsbridge::link::LinkPolicy;
///
/// let policy = LinkPolicy::new()
///     .allow_host("files.example.com")
///     .max_download_bytes(100_000_000)
///     .low_speed_limit(1024, Duration::from_secs(30));
/// assert!(policy.check_url("https://files.example.com/a/b.bin").is_ok());
/// assert!(policy.check_url("http://169.254.169.254/latest/meta-data").is_err());
/// assert!(policy.check_url("file:///etc/passwd").is_err());
/// ```
///
/// [`ConnectOptions::plik`]: crate::ConnectOptions::plik
/// [`ConnectOptions::http_put`]: crate::ConnectOptions::http_put
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPolicy {
    /// `None`: any host (the explicit escape hatch).
    allowed_hosts: Option<Vec<String>>,
    max_download_bytes: u64,
    low_speed_bytes_per_second: u64,
    low_speed_window: Duration,
}

impl Default for LinkPolicy {
    fn default() -> Self {
        LinkPolicy {
            allowed_hosts: Some(Vec::new()),
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            low_speed_bytes_per_second: 1024,
            low_speed_window: Duration::from_secs(30),
        }
    }
}

impl LinkPolicy {
    /// No HTTP host allowed yet, at most [`DEFAULT_MAX_DOWNLOAD_BYTES`] per payload, at least 1 KiB/s over 30 s.
    pub fn new() -> Self {
        LinkPolicy::default()
    }

    /// Also fetches `http(s)` links from `host` (a name or an IP address, any port).
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        let host = host.into().trim_matches(['[', ']']).to_ascii_lowercase();
        if let Some(hosts) = &mut self.allowed_hosts
            && !hosts.contains(&host)
        {
            hosts.push(host);
        }
        self
    }

    /// Also fetches `http(s)` links from the host of `url`; ignored when it has none.
    pub fn allow_host_of(self, url: &str) -> Self {
        match reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
        {
            Some(host) => self.allow_host(host),
            None => self,
        }
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
        let refused = |why: String| Error::new(ErrorKind::LinkRefused, url, why);
        if url.starts_with(OBJECT_STORE_SCHEME) {
            return Ok(());
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
        match &self.allowed_hosts {
            None => Ok(()),
            Some(hosts) if hosts.contains(&host) => Ok(()),
            Some(hosts) => Err(refused(format!(
                "host {host:?} is not an allowed link host (allowed: {}); allow it with \
                 LinkPolicy::allow_host or the CLI's --allow-link-host",
                if hosts.is_empty() {
                    "none".to_owned()
                } else {
                    hosts.join(", ")
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_hosts_and_schemes_are_fetched() {
        let policy = LinkPolicy::new().allow_host_of("http://127.0.0.1:8080/");
        assert!(policy.check_url("http://127.0.0.1:9999/x").is_ok());
        assert!(policy.check_url("nats-object-store://b/i/n").is_ok());
        for url in [
            "http://localhost:8080/x",
            "https://10.0.0.1/x",
            "file:///etc/passwd",
            "ftp://127.0.0.1/x",
            "gopher://127.0.0.1/x",
            "not a url",
        ] {
            let error = policy.check_url(url).unwrap_err();
            assert_eq!((error.kind(), error.at()), (ErrorKind::LinkRefused, url));
        }
        let any = policy.allow_any_host_unsafe();
        assert!(any.check_url("https://10.0.0.1/x").is_ok());
        assert!(any.check_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn the_low_speed_window_needs_rate_times_window_bytes() {
        let policy = LinkPolicy::new().low_speed_limit(100, Duration::from_millis(1500));
        assert_eq!(policy.low_speed_window_bytes(), 150);
    }
}
