//! Link fetching is safe by default: only `http` links to allowed hosts, no redirects
//! followed, nothing larger than the payload's declared `size` nor the receiver's cap.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::http::HttpError;
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

    /// Answers `responses.len()` connections in a thread.
    fn answer(&self, responses: Vec<Vec<u8>>) -> JoinHandle<()> {
        let listener = self.listener.try_clone().unwrap();
        std::thread::spawn(move || {
            for response in responses {
                let (mut stream, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                    head.push(byte[0]);
                }
                let _ = stream.write_all(&response);
            }
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
        AllowedHosts::Only(&["files.local", "127.0.0.1"]),
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
