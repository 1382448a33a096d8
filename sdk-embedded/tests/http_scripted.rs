//! The HTTP side of link payloads against a scripted loopback server, for what nginx will not
//! do on demand: chunked bodies, a connection cut mid-body (resumed with `Range`, or re-read
//! from the start when the server ignores it), 503 then success, and the Plik API exchange.
//! (`smart_links.rs` runs against real nginx.)

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::http::{HttpError, Url};
use natsbridge_embedded::link::{self, Expected, FileServer, LinkError, UploadMethod};

use common::{Collect, TokioConnector};

/// One received request: its head as text and its body.
#[derive(Debug, Clone)]
struct Request {
    head: String,
    body: Vec<u8>,
}

/// Answers one connection per script entry, in order, with the bytes the entry returns for
/// the request; records the requests. The thread ends after the last entry.
struct ScriptedServer {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    thread: Option<JoinHandle<()>>,
}

type Answer = Box<dyn Fn(&Request) -> Vec<u8> + Send>;

impl ScriptedServer {
    fn start(script: Vec<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let thread = std::thread::spawn(move || {
            for answer in script {
                let (mut stream, _) = listener.accept().unwrap();
                let request = read_request(&mut stream);
                let response = answer(&request);
                seen.lock().unwrap().push(request);
                let _ = stream.write_all(&response);
            }
        });
        ScriptedServer {
            url,
            requests,
            thread: Some(thread),
        }
    }

    fn requests(&mut self) -> Vec<Request> {
        if let Some(thread) = self.thread.take() {
            thread.join().expect("scripted server thread");
        }
        self.requests.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Request {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "client closed before the end of its request");
        bytes.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(bytes[..head_end].to_vec()).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .map_or(0, |v| v.trim().parse().unwrap());
    while bytes.len() < head_end + length {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "client closed before the end of its body");
        bytes.extend_from_slice(&buf[..n]);
    }
    Request {
        head,
        body: bytes[head_end..head_end + length].to_vec(),
    }
}

fn ok(body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn expected(body: &[u8]) -> Expected {
    let checksum = link::checksum_of(body);
    Expected {
        size: body.len() as u64,
        sha256: Some(link::parse_checksum(&checksum).unwrap()),
    }
}

async fn download(
    url: &str,
    expect: Expected,
    work: &mut [u8],
) -> (Result<u64, LinkError>, Vec<u8>, u32) {
    let mut sink = Collect::default();
    let mut delays = 0;
    let result = link::download(
        &mut TokioConnector,
        work,
        url,
        expect,
        &mut sink,
        &Backoff {
            max_attempts: 3,
            base_delay_ms: 0,
            max_delay_ms: 0,
        },
        async |_| delays += 1,
        || 0,
    )
    .await;
    (result, sink.bytes, delays)
}

#[tokio::test]
async fn a_chunked_body_with_extensions_and_trailers_is_decoded() {
    let body = data(5000);
    let expect = expected(&body);
    let chunked = {
        let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for (i, piece) in body.chunks(1234).enumerate() {
            let ext = if i == 1 { ";name=value" } else { "" };
            out.extend(format!("{:X}{ext}\r\n", piece.len()).into_bytes());
            out.extend_from_slice(piece);
            out.extend(b"\r\n");
        }
        out.extend(b"0\r\nX-Trailer: yes\r\n\r\n");
        out
    };
    let mut server = ScriptedServer::start(vec![Box::new(move |_| chunked.clone())]);
    let mut work = [0u8; 300];
    let (result, received, delays) =
        download(&format!("{}/x", server.url), expect, &mut work).await;
    assert_eq!(result, Ok(5000));
    assert!(received == body);
    assert_eq!(delays, 0);
    assert!(server.requests()[0].head.starts_with("GET /x HTTP/1.1\r\n"));
}

#[tokio::test]
async fn malformed_chunked_encoding_is_a_permanent_error() {
    let mut server = ScriptedServer::start(vec![Box::new(|_| {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n".to_vec()
    })]);
    let mut work = [0u8; 300];
    let (result, _, delays) =
        download(&format!("{}/x", server.url), expected(b"abc"), &mut work).await;
    assert_eq!(
        result,
        Err(LinkError::Http(HttpError::BadResponse(
            "malformed chunked encoding"
        )))
    );
    assert_eq!(delays, 0);
    server.requests();
}

#[tokio::test]
async fn a_cut_download_resumes_with_range() {
    let body = data(10_000);
    let expect = expected(&body);
    let (first, rest) = (body.clone(), body.clone());
    let mut server = ScriptedServer::start(vec![
        // Announces everything, sends 4000 bytes, closes.
        Box::new(move |_| {
            let mut out = ok(&first);
            out.truncate(out.len() - 6000);
            out
        }),
        Box::new(move |request| {
            let range = request
                .head
                .lines()
                .find_map(|l| l.strip_prefix("Range: bytes="));
            let from: usize = range
                .expect("a Range header")
                .trim_end_matches('-')
                .parse()
                .unwrap();
            let mut out = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-9999/10000\r\n\r\n",
                10_000 - from
            )
            .into_bytes();
            out.extend_from_slice(&rest[from..]);
            out
        }),
    ]);
    let mut work = [0u8; 512];
    let (result, received, delays) =
        download(&format!("{}/f", server.url), expect, &mut work).await;
    assert_eq!(result, Ok(10_000));
    assert!(received == body, "resumed body differs");
    assert_eq!(delays, 1);
    let requests = server.requests();
    assert!(!requests[0].head.contains("Range:"));
    assert!(
        requests[1].head.contains("Range: bytes="),
        "{}",
        requests[1].head
    );
}

#[tokio::test]
async fn a_server_ignoring_range_is_read_again_from_the_start() {
    let body = data(10_000);
    let expect = expected(&body);
    let (first, again) = (body.clone(), body.clone());
    let mut server = ScriptedServer::start(vec![
        Box::new(move |_| {
            let mut out = ok(&first);
            out.truncate(out.len() - 3000);
            out
        }),
        Box::new(move |_| ok(&again)),
    ]);
    let mut work = [0u8; 512];
    let (result, received, _) = download(&format!("{}/f", server.url), expect, &mut work).await;
    assert_eq!(result, Ok(10_000));
    assert!(received == body, "bytes delivered twice or lost");
    server.requests();
}

#[tokio::test]
async fn service_unavailable_is_retried_and_not_found_is_not() {
    let body = data(100);
    let expect = expected(&body);
    let answer = body.clone();
    let mut server = ScriptedServer::start(vec![
        Box::new(|_| b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec()),
        Box::new(|_| b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n".to_vec()),
        Box::new(move |_| ok(&answer)),
        Box::new(|_| b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
    ]);
    let mut work = [0u8; 512];
    let url = format!("{}/f", server.url);
    let (result, received, delays) = download(&url, expect, &mut work).await;
    assert_eq!((result, delays), (Ok(100), 2));
    assert_eq!(received, body);
    let (result, _, delays) = download(&url, expect, &mut work).await;
    assert_eq!(
        (result, delays),
        (Err(LinkError::Http(HttpError::Status(404))), 0)
    );
    server.requests();
}

#[tokio::test]
async fn plik_upload_creates_an_upload_then_posts_the_file() {
    let mut server = ScriptedServer::start(vec![
        Box::new(|_| ok(br#"{"id":"up1","uploadToken":"tok-9","files":{}}"#)),
        Box::new(|_| ok(br#"{"id":"file7","fileName":"r\u00e9sum\u00e9.txt","fileSize":11}"#)),
    ]);
    let base = server.url.clone();
    let mut work = [0u8; 512];
    let server_config = FileServer {
        url: &base,
        method: UploadMethod::Plik,
        token: Some("secret"),
    };
    let link = link::upload(
        &mut TokioConnector,
        &mut work,
        &server_config,
        "payload-1",
        "résumé.txt",
        b"hello plik!",
    )
    .await
    .expect("upload");
    assert_eq!(
        link.as_str(),
        format!("{base}/file/up1/file7/r%C3%A9sum%C3%A9.txt")
    );
    let requests = server.requests();
    assert!(requests[0].head.starts_with("POST /upload HTTP/1.1\r\n"));
    assert_eq!(requests[0].body, b"{}");
    assert!(
        requests[0]
            .head
            .contains("Authorization: Bearer secret\r\n")
    );
    let file = &requests[1];
    assert!(
        file.head.starts_with("POST /file/up1 HTTP/1.1\r\n"),
        "{}",
        file.head
    );
    assert!(file.head.contains("X-UploadToken: tok-9\r\n"));
    assert!(
        file.head
            .contains("Content-Type: multipart/form-data; boundary=")
    );
    let body = String::from_utf8(file.body.clone()).unwrap();
    assert!(
        body.contains("name=\"file\"; filename=\"résumé.txt\""),
        "{body}"
    );
    assert!(body.contains("\r\n\r\nhello plik!\r\n--"), "{body}");
}

#[tokio::test]
async fn plik_answer_without_an_id_is_reported() {
    let mut server = ScriptedServer::start(vec![Box::new(|_| ok(br#"{"uploadToken":"t"}"#))]);
    let base = server.url.clone();
    let mut work = [0u8; 512];
    let config = FileServer {
        url: &base,
        method: UploadMethod::Plik,
        token: None,
    };
    let result = link::upload(&mut TokioConnector, &mut work, &config, "p", "n", b"x").await;
    assert_eq!(result, Err(LinkError::BadAnswer("id")));
    server.requests();
}

#[test]
fn urls_are_parsed_strictly() {
    let url = Url::parse("http://files.local:8080/a/b?c=d").unwrap();
    assert_eq!(
        (url.host, url.port, url.path),
        ("files.local", 8080, "/a/b?c=d")
    );
    assert_eq!(Url::parse("HTTP://h").unwrap().path, "/");
    assert_eq!(Url::parse("http://h").unwrap().port, 80);
    for bad in [
        "https://h/x",
        "ftp://h",
        "http://",
        "http://h:port/",
        "http://u@h/",
        "http://h/a b",
    ] {
        assert_eq!(Url::parse(bad), Err(HttpError::BadUrl), "{bad}");
    }
}

/// Serves the same bytes on every connection, from memory, in reads of `piece` bytes.
struct ReplayConnector {
    response: Vec<u8>,
    piece: usize,
}

/// One replayed connection.
struct Replay {
    bytes: std::collections::VecDeque<u8>,
    piece: usize,
}

impl embedded_io_async::ErrorType for Replay {
    type Error = std::convert::Infallible;
}

impl embedded_io_async::Read for Replay {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.piece).min(self.bytes.len());
        for slot in &mut buf[..n] {
            *slot = self.bytes.pop_front().unwrap_or_default();
        }
        Ok(n)
    }
}

impl embedded_io_async::Write for Replay {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl natsbridge_embedded::http::Connector for ReplayConnector {
    type Connection<'c> = Replay;
    type Error = std::io::Error;
    async fn connect(&mut self, _: &str, _: u16) -> std::io::Result<Replay> {
        Ok(Replay {
            bytes: self.response.iter().copied().collect(),
            piece: self.piece,
        })
    }
}

/// Seeded mutations of a chunked and a Content-Length response: a download either delivers
/// exactly the expected bytes or fails; it never panics, stalls or reports a wrong body.
#[tokio::test]
async fn mutated_responses_deliver_the_exact_body_or_fail() {
    let body = data(700);
    let expect = expected(&body);
    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(150) {
        chunked.extend(format!("{:x}\r\n", piece.len()).into_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend(b"\r\n");
    }
    chunked.extend(b"0\r\n\r\n");
    let originals = [ok(&body), chunked];
    let mut random = common::below(0x6c07_8965);
    let mut delivered = 0;
    for round in 0..3_000 {
        let mut response = originals[round % 2].clone();
        common::mutate(&mut response, 3, true, &mut random);
        let mut connector = ReplayConnector {
            response,
            piece: 1 + random(300),
        };
        let mut sink = Collect::default();
        let mut work = [0u8; 256];
        let result = link::download(
            &mut connector,
            &mut work,
            "http://files/x",
            expect,
            &mut sink,
            &Backoff {
                max_attempts: 2,
                base_delay_ms: 0,
                max_delay_ms: 0,
            },
            async |_| {},
            || 0,
        )
        .await;
        if result.is_ok() {
            assert!(
                sink.bytes == body,
                "round {round}: a wrong body was reported as delivered"
            );
            delivered += 1;
        }
    }
    assert!(
        delivered > 0,
        "no mutation left the response intact enough to succeed"
    );
}
