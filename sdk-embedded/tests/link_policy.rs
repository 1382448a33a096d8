//! Link fetching is safe by default: only `http` links to allowed hosts, no redirects
//! followed, nothing larger than the payload's declared `size` nor the receiver's cap.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::http::{HttpError, Url};
use natsbridge_embedded::link::{AllowedHosts, LinkError, checksum_of};
use natsbridge_embedded::smart::{Links, ReceiveError, smartreceive};
use natsbridge_embedded::{Encoding, JsonObject, MessagePayload, Transport};

use common::{Collect, TokioConnector, pseudo_random};

/// A loopback listener that answers each of its connections with the next canned response.
struct CannedServer {
    listener: TcpListener,
    url: String,
}

impl CannedServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        CannedServer { listener, url }
    }

    /// Answers `responses.len()` connections in a thread, which returns the request heads.
    fn answer(&self, responses: Vec<Vec<u8>>) -> JoinHandle<Vec<Vec<u8>>> {
        let listener = self.listener.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut heads = Vec::new();
            for response in responses {
                let (mut stream, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                    head.push(byte[0]);
                }
                let _ = stream.write_all(&response);
                heads.push(head);
            }
            heads
        })
    }

    /// Whether any connection is waiting that nobody accepted.
    fn was_contacted(&self) -> bool {
        self.listener.set_nonblocking(true).unwrap();
        let contacted = self.listener.accept().is_ok();
        self.listener.set_nonblocking(false).unwrap();
        contacted
    }
}

fn link_payload(url: &str, data: &[u8]) -> MessagePayload {
    let mut payload = MessagePayload {
        transport: Transport::Link,
        encoding: Encoding::None,
        size: data.len() as u64,
        ..Default::default()
    };
    payload.data.push_str(url).unwrap();
    let metadata = format!("{{\"checksum\":\"{}\"}}", checksum_of(data));
    payload.metadata = JsonObject::parse(&metadata).unwrap();
    payload
}

async fn fetch(
    payload: &MessagePayload,
    allowed_hosts: AllowedHosts<'_>,
    max_size: u64,
) -> (Result<u64, ReceiveError>, Vec<u8>) {
    let mut work = [0u8; 512];
    let mut links = Links {
        connector: TokioConnector,
        work: &mut work,
        backoff: Backoff {
            max_attempts: 2,
            base_delay_ms: 0,
            max_delay_ms: 0,
        },
        delay: async |_: u32| {},
        random: pseudo_random(),
        allowed_hosts,
        max_size,
    };
    let mut sink = Collect::default();
    let result = smartreceive(payload, &mut sink, &mut links).await;
    (result, sink.bytes)
}

fn ok(body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

const NOT_ALLOWED: ReceiveError = ReceiveError::Link(LinkError::HostNotAllowed);

#[tokio::test]
async fn only_allowed_hosts_are_contacted() {
    let server = CannedServer::start();
    let data = b"from an allowed host".to_vec();
    let payload = link_payload(&format!("{}/f", server.url), &data);

    // Another file server, or a list without this host: refused before any connection.
    let other = AllowedHosts::FileServerOf("http://files.local:8080");
    assert_eq!(fetch(&payload, other, 1 << 20).await.0, Err(NOT_ALLOWED));
    let list = AllowedHosts::Only(&["localhost", "files.local"]);
    assert_eq!(fetch(&payload, list, 1 << 20).await.0, Err(NOT_ALLOWED));
    assert!(!server.was_contacted(), "a refused host was connected to");

    // The configured file server's host, a list holding it, and the named escape: fetched.
    for allowed in [
        AllowedHosts::FileServerOf(&server.url),
        AllowedHosts::Only(&["files.local", &server.url["http://".len()..]]),
        AllowedHosts::AnyHostTrustingEverySender,
    ] {
        let thread = server.answer(vec![ok(&data)]);
        let (result, bytes) = fetch(&payload, allowed, 1 << 20).await;
        thread.join().unwrap();
        assert_eq!(
            (result, bytes),
            (Ok(data.len() as u64), data.clone()),
            "{allowed:?}"
        );
    }
}

#[tokio::test]
async fn links_other_than_http_are_refused() {
    let any = AllowedHosts::AnyHostTrustingEverySender;
    for url in [
        "https://127.0.0.1/f",
        "file:///etc/passwd",
        "ftp://127.0.0.1/f",
        "http://u@127.0.0.1/f",
    ] {
        let (result, _) = fetch(&link_payload(url, b"x"), any, 1 << 20).await;
        assert_eq!(
            result,
            Err(ReceiveError::Link(LinkError::Http(HttpError::BadUrl))),
            "{url}"
        );
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = CannedServer::start();
    let target = CannedServer::start();
    let payload = link_payload(&format!("{}/f", server.url), b"data");
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nLocation: {}/f\r\nContent-Length: 0\r\n\r\n",
        target.url
    );
    let thread = server.answer(vec![redirect.into_bytes()]);
    let (result, bytes) = fetch(&payload, AllowedHosts::AnyHostTrustingEverySender, 1 << 20).await;
    thread.join().unwrap();
    assert_eq!(
        result,
        Err(ReceiveError::Link(LinkError::Http(HttpError::Status(302))))
    );
    assert!(bytes.is_empty());
    assert!(!target.was_contacted(), "the redirect was followed");
}

#[tokio::test]
async fn a_declared_size_over_the_cap_is_refused_before_connecting() {
    let server = CannedServer::start();
    let payload = link_payload(&format!("{}/f", server.url), &[7u8; 5000]);
    let (result, _) = fetch(&payload, AllowedHosts::FileServerOf(&server.url), 4096).await;
    assert_eq!(
        result,
        Err(ReceiveError::Link(LinkError::TooLarge {
            size: 5000,
            limit: 4096
        }))
    );
    assert!(!server.was_contacted());
}

#[tokio::test]
async fn a_body_longer_than_the_declared_size_is_cut_off_at_the_size() {
    let server = CannedServer::start();
    let data = vec![1u8; 1000];
    let payload = link_payload(&format!("{}/f", server.url), &data);
    // No Content-Length: the server streams 100 times the declared size, then closes.
    let mut endless = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    endless.extend(std::iter::repeat_n(1u8, 100_000));
    let thread = server.answer(vec![endless]);
    let (result, bytes) = fetch(&payload, AllowedHosts::FileServerOf(&server.url), 1 << 20).await;
    thread.join().unwrap();
    assert!(
        matches!(
            result,
            Err(ReceiveError::SizeMismatch { expected: 1000, .. })
        ),
        "{result:?}"
    );
    assert!(
        bytes.len() <= 1000,
        "{} bytes reached the sink",
        bytes.len()
    );
}

// ---- issue 14: hostile input ----

/// `fetch` of a payload that must be refused before any connection: a client that connects
/// instead waits for an answer nobody sends, which ends the test after 5 s.
async fn fetch_refused(
    payload: &MessagePayload,
    allowed_hosts: AllowedHosts<'_>,
) -> Result<u64, ReceiveError> {
    let fetching = fetch(payload, allowed_hosts, 1 << 20);
    match tokio::time::timeout(std::time::Duration::from_secs(5), fetching).await {
        Ok((result, _)) => result,
        Err(_) => panic!("{:?} was fetched instead of refused", payload.data),
    }
}

#[tokio::test]
async fn another_port_of_an_allowed_host_is_refused() {
    let server = CannedServer::start();
    let other = CannedServer::start(); // another server on the same host
    let data = b"from the allowed port".to_vec();
    let payload = link_payload(&format!("{}/f", server.url), &data);
    let other_port = format!("127.0.0.1:{}", other.url.rsplit(':').next().unwrap());
    for refused in [
        AllowedHosts::FileServerOf(&other.url),
        AllowedHosts::Only(&["127.0.0.1"]), // no port: 80 only
        AllowedHosts::Only(&[&other_port]),
    ] {
        assert_eq!(
            fetch_refused(&payload, refused).await,
            Err(NOT_ALLOWED),
            "{refused:?}"
        );
    }
    assert!(
        !server.was_contacted(),
        "a link to a port not allowed was fetched"
    );
    let own = format!("127.0.0.1:{}", server.url.rsplit(':').next().unwrap());
    let thread = server.answer(vec![ok(&data)]);
    let (result, bytes) = fetch(&payload, AllowedHosts::Only(&[&own]), 1 << 20).await;
    thread.join().unwrap();
    assert_eq!((result, bytes), (Ok(data.len() as u64), data));
    assert!(AllowedHosts::Only(&["files.local"]).allows("FILES.local", 80));
    assert!(!AllowedHosts::Only(&["files.local:x"]).allows("files.local", 80));
    // The loopback's spellings are one host (as in the std and Python SDKs), on its port only.
    let loopback = AllowedHosts::Only(&["127.0.0.1:8080"]);
    assert!(loopback.allows("localhost", 8080) && loopback.allows("::1", 8080));
    assert!(!loopback.allows("localhost", 8081) && !loopback.allows("127.0.0.2", 8080));
    let own_server = AllowedHosts::FileServerOf("http://localhost:8080");
    assert!(own_server.allows("127.0.0.1", 8080) && !own_server.allows("localhost.evil", 8080));
}

#[tokio::test]
async fn link_urls_that_could_smuggle_or_mislead_are_refused() {
    let server = CannedServer::start();
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let any = AllowedHosts::AnyHostTrustingEverySender;
    for url in [
        format!("http://127.0.0.1:{port}/a HTTP/1.1\r\nX: y"),
        format!("http://127.0.0.1:{port}/a\tb"),
        format!("http://127.0.0.1:{port}/a\nDELETE /b"),
        format!("http://evil.example\\@127.0.0.1:{port}/f"),
        format!("http://127.0.0.1\\.evil.example:{port}/f"),
        "http://127.0.0.1:0/f".to_owned(),
    ] {
        assert_eq!(
            fetch_refused(&link_payload(&url, b"x"), any).await,
            Err(ReceiveError::Link(LinkError::Http(HttpError::BadUrl))),
            "{url:?}"
        );
    }
    assert!(!server.was_contacted(), "a refused URL was fetched");
    // What needs it is escaped on the wire; the fragment is not sent.
    let data = b"ok".to_vec();
    let thread = server.answer(vec![ok(&data)]);
    let url = format!("{}/d\u{e9}j\u{e0}<1>|x?q={{2}}#frag", server.url);
    let (result, _) = fetch(&link_payload(&url, &data), any, 1 << 20).await;
    let head = String::from_utf8(thread.join().unwrap().remove(0)).unwrap();
    assert_eq!(result, Ok(2));
    assert!(
        head.starts_with("GET /d%C3%A9j%C3%A0%3C1%3E%7Cx?q=%7B2%7D HTTP/1.1\r\n"),
        "{head:?}"
    );
    assert_eq!(Url::parse("http://a.b:8080/p").unwrap().port, 8080);
}

#[tokio::test]
async fn a_huge_content_length_on_a_resumed_download_is_a_size_mismatch() {
    let server = CannedServer::start();
    let data = b"0123456789".to_vec();
    let payload = link_payload(&format!("{}/f", server.url), &data);
    // Half the body, a cut, then a 206 announcing u64::MAX bytes for the rest: the sum
    // must not overflow (it panicked in debug builds).
    let thread = server.answer(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234".to_vec(),
        b"HTTP/1.1 206 Partial Content\r\nContent-Length: 18446744073709551615\r\n\r\n".to_vec(),
    ]);
    let (result, _) = fetch(&payload, AllowedHosts::FileServerOf(&server.url), 1 << 20).await;
    thread.join().unwrap();
    assert_eq!(
        result,
        Err(ReceiveError::SizeMismatch {
            expected: 10,
            received: u64::MAX
        })
    );
}

#[tokio::test]
async fn a_checksum_this_sdk_cannot_hold_is_refused_not_skipped() {
    let server = CannedServer::start();
    let data = b"not what the checksum says".to_vec();
    let long = format!("{{\"checksum\":\"sha256:{}\"}}", "0".repeat(100));
    for (metadata, want) in [
        (
            long.as_str(),
            ReceiveError::OverCapacity {
                field: "metadata.checksum",
            },
        ),
        (
            r#"{"checksum":5}"#,
            ReceiveError::Link(LinkError::BadChecksum),
        ),
    ] {
        let mut payload = link_payload(&format!("{}/f", server.url), &data);
        payload.metadata = JsonObject::parse(metadata).unwrap();
        let result = fetch_refused(&payload, AllowedHosts::FileServerOf(&server.url)).await;
        assert_eq!(result, Err(want), "{metadata}");
    }
    // An escaped key is the same key: still verified.
    let escaped = format!("{{\"check\\u0073um\":\"sha256:{}\"}}", "0".repeat(64));
    let mut payload = link_payload(&format!("{}/f", server.url), &data);
    payload.metadata = JsonObject::parse(&escaped).unwrap();
    let thread = server.answer(vec![ok(&data)]);
    let (result, _) = fetch(&payload, AllowedHosts::FileServerOf(&server.url), 1 << 20).await;
    thread.join().unwrap();
    assert_eq!(result, Err(ReceiveError::Link(LinkError::ChecksumMismatch)));
}

#[tokio::test]
async fn a_direct_payload_longer_than_its_size_never_reaches_the_sink_beyond_it() {
    let mut payload = MessagePayload {
        transport: Transport::Direct,
        encoding: Encoding::Base64,
        size: 5,
        ..Default::default()
    };
    payload.data.push_str("aGVsbG8gd29ybGQ=").unwrap(); // "hello world", 11 bytes
    let (result, bytes) = fetch(&payload, AllowedHosts::Only(&[]), 1 << 20).await;
    assert_eq!(
        result,
        Err(ReceiveError::SizeMismatch {
            expected: 5,
            received: 11
        })
    );
    assert!(bytes.len() <= 5, "{} bytes reached the sink", bytes.len());
}
