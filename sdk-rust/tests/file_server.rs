//! The file server against a real HTTP client (reqwest), a Plik client in CPython `requests`
//! (the Python edition's library) and, where a client would tidy the request up first (`..`,
//! broken bodies), raw HTTP/1.1 over a TCP socket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use natsbridge::file_server::{FileServer, FileServerConfig, INCOMING_FOLDER};
use reqwest::StatusCode;
use reqwest::header::CONTENT_LENGTH;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// A file server on a free port serving its own temporary folder, stopped when dropped.
struct TestServer {
    url: String,
    addr: SocketAddr,
    dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _parent: tempfile::TempDir,
}

impl TestServer {
    async fn start() -> TestServer {
        TestServer::with(|config| config).await
    }

    /// The served folder is `served/` inside a temporary parent, so a test can check that
    /// nothing was written beside it.
    async fn with(configure: impl FnOnce(FileServerConfig) -> FileServerConfig) -> TestServer {
        let parent = tempfile::tempdir().expect("temporary folder");
        let config = configure(FileServerConfig::new(parent.path().join("served")));
        let server = FileServer::bind(config).await.expect("file server binds");
        let (stop, stopped) = oneshot::channel::<()>();
        let url = server.url();
        let addr = server.local_addr();
        let dir = server.dir().to_path_buf();
        let serving = tokio::spawn(server.serve_until(async {
            stopped.await.ok();
        }));
        TestServer {
            url,
            addr,
            dir,
            stop: Some(stop),
            serving: Some(serving),
            _parent: parent,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn parent(&self) -> &Path {
        self.dir.parent().expect("served folder has a parent")
    }

    /// Tells the server to stop, without waiting.
    fn request_shutdown(&mut self) {
        self.stop.take().expect("running").send(()).ok();
    }

    /// Stops the server and waits until it has returned.
    async fn shut_down(mut self) {
        self.request_shutdown();
        self.shut_down_finished().await;
    }

    /// Waits until the server, told to stop, has returned.
    async fn shut_down_finished(mut self) {
        let serving = self.serving.take().expect("running");
        tokio::time::timeout(Duration::from_secs(60), serving)
            .await
            .expect("server stops after the shutdown signal")
            .expect("server task did not panic")
            .expect("server returned Ok");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
    }
}

/// Deterministic bytes that do not compress or repeat: a xorshift sequence.
fn test_bytes(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Sends `request`, failing the test when no answer comes.
async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request
        .send()
        .await
        .expect("an answer from the file server")
}

/// Splits `bytes` into a stream of chunks, so reqwest sends it chunked (no Content-Length).
fn chunked_body(bytes: Vec<u8>, chunk: usize) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

/// Sends `request` as it is over a new TCP connection and returns the whole answer.
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send request");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer))
        .await
        .expect("server answers and closes")
        .expect("read answer");
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(raw_answer: &str) -> u16 {
    raw_answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {raw_answer:?}"))
}

/// Every file below `folder`, relative to it, sorted.
fn files_below(folder: &Path) -> Vec<String> {
    fn walk(root: &Path, folder: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(folder).expect("read folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(folder, folder, &mut found);
    found.sort();
    found
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn put_then_get_returns_a_multi_megabyte_body_byte_for_byte() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let body = test_bytes(5 * 1024 * 1024 + 7, 1);

    let put = send(
        client
            .put(server.url("/payload-id/big%20file.bin"))
            .body(chunked_body(body.clone(), 64 * 1024)),
    )
    .await;
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(
        std::fs::read(server.dir.join("payload-id/big file.bin")).unwrap(),
        body
    );

    let get = send(client.get(server.url("/payload-id/big%20file.bin"))).await;
    assert_eq!(get.status(), StatusCode::OK);
    assert_eq!(get.content_length(), Some(body.len() as u64));
    let got = get.bytes().await.unwrap();
    assert!(got[..] == body[..], "the body came back different");

    // Files are write-once: storing again is a conflict and keeps the file.
    let smaller = test_bytes(1000, 2);
    let put = send(
        client
            .put(server.url("/payload-id/big%20file.bin"))
            .body(smaller.clone()),
    )
    .await;
    assert_eq!(put.status(), StatusCode::CONFLICT);
    let got = send(client.get(server.url("/payload-id/big%20file.bin")))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(got[..] == body[..], "a refused PUT changed the file");
    assert!(files_below(&server.dir.join(INCOMING_FOLDER)).is_empty());

    // With overwriting allowed, storing again replaces the file whole.
    let replacing = TestServer::with(|config| config.with_allow_overwrite(true)).await;
    for content in [&body, &smaller] {
        let put = send(
            client
                .put(replacing.url("/payload-id/big%20file.bin"))
                .body(content.clone()),
        )
        .await;
        assert_eq!(put.status(), StatusCode::CREATED);
    }
    let got = send(client.get(replacing.url("/payload-id/big%20file.bin")))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(got[..], smaller[..]);
    assert!(files_below(&replacing.dir.join(INCOMING_FOLDER)).is_empty());
}

/// Opens a Plik upload; returns its id and upload token.
async fn open_plik_upload(
    client: &reqwest::Client,
    server: &TestServer,
    auth: Option<&str>,
) -> (String, String) {
    let mut request = client.post(server.url("/upload")).body("{}");
    if let Some(token) = auth {
        request = request.bearer_auth(token);
    }
    let answer = send(request).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let opened: serde_json::Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    (
        opened["id"].as_str().expect("upload id").to_owned(),
        opened["uploadToken"]
            .as_str()
            .expect("uploadToken")
            .to_owned(),
    )
}

fn plik_form(file_name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("comment", "ignored")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        )
}

#[tokio::test]
async fn plik_upload_then_file_then_download_by_link() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let (upload_id, upload_token) = open_plik_upload(&client, &server, None).await;
    let bytes = test_bytes(2 * 1024 * 1024, 3);

    let answer = send(
        client
            .post(server.url(&format!("/file/{upload_id}")))
            .header("X-UploadToken", &upload_token)
            .multipart(plik_form("photo one.png", bytes.clone())),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let file: serde_json::Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(file["fileName"], "photo one.png");
    assert_eq!(file["fileSize"], bytes.len() as u64);
    let file_id = file["id"].as_str().expect("file id");

    // The link as WIRE.md section 6 builds it.
    let link = server.url(&format!("/file/{upload_id}/{file_id}/photo%20one.png"));
    let download = send(client.get(&link)).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.content_length(), Some(bytes.len() as u64));
    assert!(download.bytes().await.unwrap()[..] == bytes[..]);

    // A second download works too (not one-shot).
    let again = send(client.get(&link)).await;
    assert_eq!(again.status(), StatusCode::OK);
}

#[tokio::test]
async fn plik_refuses_wrong_tokens_unknown_uploads_and_bad_forms() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let (upload_id, upload_token) = open_plik_upload(&client, &server, None).await;
    let (_, other_token) = open_plik_upload(&client, &server, None).await;
    let post_file = |upload: String, token: Option<String>, form: reqwest::multipart::Form| {
        let mut request = client.post(server.url(&format!("/file/{upload}")));
        if let Some(token) = token {
            request = request.header("X-UploadToken", token);
        }
        request.multipart(form).send()
    };

    let wrong = post_file(
        upload_id.clone(),
        Some(other_token),
        plik_form("a", vec![1]),
    )
    .await;
    assert_eq!(wrong.unwrap().status(), StatusCode::UNAUTHORIZED);
    let missing = post_file(upload_id.clone(), None, plik_form("a", vec![1]))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.text().await.unwrap().contains("X-UploadToken"));
    let unknown = post_file(
        "nosuchupload".into(),
        Some(upload_token.clone()),
        plik_form("a", vec![1]),
    );
    assert_eq!(unknown.await.unwrap().status(), StatusCode::NOT_FOUND);

    let hidden = post_file(
        upload_id.clone(),
        Some(upload_token.clone()),
        plik_form(".secret", vec![1]),
    );
    let hidden = hidden.await.unwrap();
    assert_eq!(hidden.status(), StatusCode::BAD_REQUEST);
    assert!(hidden.text().await.unwrap().contains(".secret"));

    let no_file_part = reqwest::multipart::Form::new().text("other", "x");
    let answer = post_file(upload_id.clone(), Some(upload_token.clone()), no_file_part)
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer.text().await.unwrap().contains("\"file\""));

    let not_multipart = send(
        client
            .post(server.url(&format!("/file/{upload_id}")))
            .header("X-UploadToken", &upload_token)
            .body("plain"),
    )
    .await;
    assert_eq!(not_multipart.status(), StatusCode::BAD_REQUEST);
    assert!(
        not_multipart
            .text()
            .await
            .unwrap()
            .contains("multipart/form-data")
    );

    let not_json = send(client.post(server.url("/upload")).body("{oops")).await;
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);

    assert!(
        files_below(&server.dir).is_empty(),
        "{:?}",
        files_below(&server.dir)
    );
}

#[tokio::test]
async fn every_response_carries_content_length() {
    let server = TestServer::with(|config| {
        config
            .with_max_upload_bytes(Some(1000))
            .with_upload_token(Some("secret".into()))
    })
    .await;
    let client = reqwest::Client::new();
    let put = |path: &str, body: Vec<u8>| {
        client
            .put(server.url(path))
            .bearer_auth("secret")
            .body(body)
    };
    let requests = [
        ("PUT 201", put("/a/b.bin", vec![7; 100])),
        ("GET 200", client.get(server.url("/a/b.bin"))),
        ("HEAD 200", client.head(server.url("/a/b.bin"))),
        ("GET / 200", client.get(server.url("/"))),
        ("GET 404", client.get(server.url("/a/none"))),
        ("GET 400", client.get(server.url("/a/.hidden"))),
        ("PUT 401", client.put(server.url("/a/c.bin")).body(vec![1])),
        ("PUT 413", put("/a/c.bin", vec![1; 1001])),
        ("POST 405", client.post(server.url("/a/b.bin"))),
        (
            "OPTIONS 405",
            client.request(reqwest::Method::OPTIONS, server.url("/a")),
        ),
        (
            "POST /upload 200",
            client
                .post(server.url("/upload"))
                .bearer_auth("secret")
                .body("{}"),
        ),
        (
            "DELETE 200",
            client.delete(server.url("/a/b.bin")).bearer_auth("secret"),
        ),
        (
            "DELETE 404",
            client.delete(server.url("/a/b.bin")).bearer_auth("secret"),
        ),
    ];
    for (what, request) in requests {
        let answer = send(request).await;
        let expected_status: u16 = what.rsplit(' ').next().unwrap().parse().unwrap();
        assert_eq!(answer.status().as_u16(), expected_status, "{what}");
        assert!(
            answer.headers().get(CONTENT_LENGTH).is_some(),
            "{what}: no Content-Length in {:?}",
            answer.headers()
        );
    }
}

#[tokio::test]
async fn missing_files_are_404_naming_the_path() {
    let server = TestServer::start().await;
    let answer = reqwest::get(server.url("/no/such%20file")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.text().await.unwrap(), "no file at /no/such%20file\n");
    // A folder is not a file.
    std::fs::create_dir_all(server.dir.join("folder")).unwrap();
    let answer = reqwest::get(server.url("/folder")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn head_gives_the_length_without_the_body() {
    let server = TestServer::start().await;
    std::fs::write(server.dir.join("f.bin"), test_bytes(12345, 4)).unwrap();
    let answer = send(reqwest::Client::new().head(server.url("/f.bin"))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()[CONTENT_LENGTH], "12345");
    assert!(answer.bytes().await.unwrap().is_empty());
    // Over a raw socket: the headers and nothing after them.
    let raw = raw_exchange(
        server.addr,
        b"HEAD /f.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("content-length: 12345\r\n"),
        "{raw}"
    );
    assert!(
        raw.ends_with("\r\n\r\n"),
        "a HEAD answer had a body: {raw:?}"
    );
}

#[tokio::test]
async fn uploads_over_the_limit_are_413_and_leave_nothing() {
    let limit = 1024 * 1024;
    let server = TestServer::with(|config| config.with_max_upload_bytes(Some(limit))).await;
    let client = reqwest::Client::new();

    let exact = send(
        client
            .put(server.url("/exact.bin"))
            .body(vec![1; limit as usize]),
    )
    .await;
    assert_eq!(exact.status(), StatusCode::CREATED);

    // Declared length over the limit.
    let declared = send(
        client
            .put(server.url("/declared.bin"))
            .body(vec![1; 2 * limit as usize]),
    )
    .await;
    assert_eq!(declared.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let message = declared.text().await.unwrap();
    assert!(
        message.contains("/declared.bin") && message.contains("1048576"),
        "{message}"
    );

    // No declared length: refused once the limit is crossed.
    let streamed = send(
        client
            .put(server.url("/streamed.bin"))
            .body(chunked_body(vec![2; limit as usize + 1], 16 * 1024)),
    )
    .await;
    assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Plik: the file part over the limit.
    let (upload_id, upload_token) = open_plik_upload(&client, &server, None).await;
    let plik = send(
        client
            .post(server.url(&format!("/file/{upload_id}")))
            .header("X-UploadToken", upload_token)
            .multipart(plik_form("big.bin", vec![3; limit as usize + 1])),
    )
    .await;
    assert_eq!(plik.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // A huge declared length is refused before any of the body is sent.
    let raw = raw_exchange(
        server.addr,
        b"PUT /huge.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&raw), 413, "{raw}");

    assert_eq!(files_below(&server.dir), ["exact.bin"]);
}

#[tokio::test]
async fn an_upload_token_guards_uploads_and_deletes_not_downloads() {
    let server = TestServer::with(|config| config.with_upload_token(Some("s3cret".into()))).await;
    let client = reqwest::Client::new();
    let put = || client.put(server.url("/t/file.txt")).body("hello");

    let none = send(put()).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.text().await.unwrap().contains("Authorization: Bearer"));
    let wrong = send(put().bearer_auth("guess")).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(files_below(&server.dir).is_empty());

    assert_eq!(
        send(put().bearer_auth("s3cret")).await.status(),
        StatusCode::CREATED
    );
    let plik_header = send(
        client
            .put(server.url("/t/other.txt"))
            .body("hello")
            .header("X-PlikToken", "s3cret"),
    )
    .await;
    assert_eq!(plik_header.status(), StatusCode::CREATED);

    let download = send(client.get(server.url("/t/file.txt"))).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.text().await.unwrap(), "hello");

    let open = send(client.post(server.url("/upload")).body("{}")).await;
    assert_eq!(open.status(), StatusCode::UNAUTHORIZED);
    let (upload_id, upload_token) = open_plik_upload(&client, &server, Some("s3cret")).await;
    // The file part is authorised by its upload token alone (as Plik clients send it).
    let file = send(
        client
            .post(server.url(&format!("/file/{upload_id}")))
            .header("X-UploadToken", upload_token)
            .multipart(plik_form("p.bin", vec![9; 10])),
    )
    .await;
    assert_eq!(file.status(), StatusCode::OK);

    let delete = send(client.delete(server.url("/t/file.txt"))).await;
    assert_eq!(delete.status(), StatusCode::UNAUTHORIZED);
    assert!(server.dir.join("t/file.txt").exists());
    let delete = send(
        client
            .delete(server.url("/t/file.txt"))
            .bearer_auth("s3cret"),
    )
    .await;
    assert_eq!(delete.status(), StatusCode::OK);
    assert!(!server.dir.join("t/file.txt").exists());
    let gone = send(client.get(server.url("/t/file.txt"))).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn files_older_than_the_ttl_are_removed() {
    let server = TestServer::with(|config| config.with_ttl(Some(Duration::from_millis(500)))).await;
    let client = reqwest::Client::new();
    let put = send(
        client
            .put(server.url("/ttl/short-lived.bin"))
            .body(vec![5; 100]),
    )
    .await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let stored = server.dir.join("ttl/short-lived.bin");
    wait_until("the file is swept", || !stored.exists()).await;
    wait_until("its empty folder is swept", || {
        !server.dir.join("ttl").exists()
    })
    .await;
    let gone = send(client.get(server.url("/ttl/short-lived.bin"))).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert!(
        server.dir.join(INCOMING_FOLDER).is_dir(),
        "the sweeper removed .incoming/"
    );

    // The server keeps storing after a sweep (folders are made again).
    let again = send(client.put(server.url("/ttl/again.bin")).body(vec![6; 100])).await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn paths_leading_outside_the_folder_are_refused_and_nothing_is_written_there() {
    let server = TestServer::start().await;
    let outside = server.parent().join("outside.txt");
    std::fs::write(&outside, "secret").unwrap();
    let targets = [
        "/../outside.txt",
        "/a/../../outside.txt",
        "/a/%2e%2e/%2e%2e/outside.txt",
        "/%2E%2E/outside.txt",
        "/..%2foutside.txt",
        "/..%5coutside.txt",
        "/a%2f..%2f..%2foutside.txt",
        "//outside.txt",
        "/a/%00/outside.txt",
        "/.incoming/x.part",
        "/.hidden",
        "/%ff%fe",
    ];
    for target in targets {
        for method in ["GET", "PUT", "DELETE"] {
            let request = format!(
                "{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\
                 Connection: close\r\n\r\nEVIL"
            );
            let answer = raw_exchange(server.addr, request.as_bytes()).await;
            assert_eq!(status_of(&answer), 400, "{method} {target}: {answer}");
        }
    }
    // An absolute URL in the request line is a plain path to us, kept inside the folder.
    let answer = raw_exchange(
        server.addr,
        b"GET http://x/../outside.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_ne!(status_of(&answer), 200, "{answer}");

    let mut beside: Vec<String> = std::fs::read_dir(server.parent())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["outside.txt", "served"]);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "secret");
    assert!(
        files_below(&server.dir).is_empty(),
        "{:?}",
        files_below(&server.dir)
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_symbolic_link_out_of_the_folder_is_not_followed() {
    let server = TestServer::start().await;
    let elsewhere = server.parent().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(&elsewhere, server.dir.join("link")).unwrap();
    let client = reqwest::Client::new();

    let read = send(client.get(server.url("/link/secret.txt"))).await;
    assert_eq!(read.status(), StatusCode::FORBIDDEN);
    assert!(!read.text().await.unwrap().contains("secret\n"));
    let write = send(client.put(server.url("/link/new.txt")).body("x")).await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let delete = send(client.delete(server.url("/link/secret.txt"))).await;
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);
    let mut there: Vec<_> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    there.sort();
    assert_eq!(there, ["secret.txt"]);
}

#[tokio::test]
async fn a_broken_upload_leaves_nothing_and_is_never_served() {
    let server = TestServer::start().await;
    // PUT declares 100,000 bytes, sends 1,000, and hangs up.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"PUT /broken.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        .await
        .unwrap();
    stream.write_all(&[1; 1000]).await.unwrap();
    // Wait until the server has the upload's temporary file open, then hang up.
    let incoming = server.dir.join(INCOMING_FOLDER);
    wait_until("the upload has started", || {
        !files_below(&incoming).is_empty()
    })
    .await;
    drop(stream);
    wait_until("the partial upload is removed", || {
        files_below(&incoming).is_empty()
    })
    .await;

    // The same for a Plik file part.
    let client = reqwest::Client::new();
    let (upload_id, upload_token) = open_plik_upload(&client, &server, None).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /file/{upload_id} HTTP/1.1\r\nHost: x\r\nX-UploadToken: {upload_token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 500000\r\n\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"part.bin\"\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[2; 100_000]).await.unwrap();
    wait_until("the Plik upload has started", || {
        !files_below(&incoming).is_empty()
    })
    .await;
    drop(stream);
    wait_until("the partial Plik upload is removed", || {
        files_below(&incoming).is_empty()
    })
    .await;

    assert!(
        files_below(&server.dir).is_empty(),
        "{:?}",
        files_below(&server.dir)
    );
    let answer = send(client.get(server.url("/broken.bin"))).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn concurrent_uploads_each_arrive_whole() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let size = 300 * 1024;
    let mut uploads = Vec::new();
    for index in 0..12u64 {
        let client = client.clone();
        // Half to their own path, half racing for one shared path.
        let path = if index % 2 == 0 {
            format!("/own/{index}.bin")
        } else {
            "/shared/one.bin".to_owned()
        };
        let url = server.url(&path);
        uploads.push(tokio::spawn(async move {
            let body = test_bytes(size, index + 100);
            let answer = send(client.put(url).body(chunked_body(body, 8 * 1024))).await;
            (index, answer.status())
        }));
    }
    let mut shared_stored = 0;
    for upload in uploads {
        match upload.await.unwrap() {
            (index, status) if index % 2 == 0 => assert_eq!(status, StatusCode::CREATED),
            // Write-once: one of the racers stores the shared path, the others get 409.
            (_, StatusCode::CREATED) => shared_stored += 1,
            (_, status) => assert_eq!(status, StatusCode::CONFLICT),
        }
    }
    assert_eq!(shared_stored, 1, "racing PUTs to one path");
    for index in (0..12u64).step_by(2) {
        let got = send(client.get(server.url(&format!("/own/{index}.bin"))))
            .await
            .bytes()
            .await
            .unwrap();
        assert!(
            got[..] == test_bytes(size, index + 100)[..],
            "/own/{index}.bin differs"
        );
    }
    let shared = send(client.get(server.url("/shared/one.bin")))
        .await
        .bytes()
        .await
        .unwrap();
    let whole_one_of_them = (1..12u64)
        .step_by(2)
        .any(|index| shared[..] == test_bytes(size, index + 100)[..]);
    assert!(whole_one_of_them, "the shared path holds a mix of uploads");
    assert!(files_below(&server.dir.join(INCOMING_FOLDER)).is_empty());
}

#[tokio::test]
async fn put_where_a_file_or_folder_is_in_the_way_is_a_conflict() {
    let server = TestServer::start().await;
    let client = reqwest::Client::new();
    let put = |path: &str| client.put(server.url(path)).body("x").send();
    assert_eq!(put("/a/file").await.unwrap().status(), StatusCode::CREATED);
    let under_a_file = put("/a/file/below").await.unwrap();
    assert_eq!(under_a_file.status(), StatusCode::CONFLICT);
    assert!(under_a_file.text().await.unwrap().contains("/a/file/below"));
    let onto_a_folder = put("/a").await.unwrap();
    assert_eq!(onto_a_folder.status(), StatusCode::CONFLICT);
    assert!(files_below(&server.dir.join(INCOMING_FOLDER)).is_empty());
}

#[tokio::test]
async fn shutdown_lets_the_server_return_and_frees_the_port() {
    let server = TestServer::start().await;
    let addr = server.addr;
    let answer = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    server.shut_down().await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn bind_errors_name_the_folder_or_address() {
    let parent = tempfile::tempdir().unwrap();
    let a_file = parent.path().join("a-file");
    std::fs::write(&a_file, "x").unwrap();
    let error = FileServer::bind(FileServerConfig::new(&a_file))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("a-file"), "{error}");

    let taken = FileServer::bind(FileServerConfig::new(parent.path().join("one")))
        .await
        .unwrap();
    let error = FileServer::bind(
        FileServerConfig::new(parent.path().join("two")).with_listen(taken.local_addr()),
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains(&taken.local_addr().to_string()),
        "{error}"
    );

    let error = FileServer::bind(
        FileServerConfig::new(parent.path().join("three")).with_upload_token(Some(String::new())),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("token"), "{error}");
}

#[tokio::test]
async fn a_download_in_flight_completes_during_shutdown() {
    let mut server = TestServer::start().await;
    let body = test_bytes(8 * 1024 * 1024, 9);
    std::fs::write(server.dir.join("large.bin"), &body).unwrap();
    let mut download = send(reqwest::Client::new().get(server.url("/large.bin"))).await;
    assert_eq!(download.status(), StatusCode::OK);
    let mut received = download
        .chunk()
        .await
        .unwrap()
        .expect("a first chunk")
        .to_vec();
    assert!(
        received.len() < body.len(),
        "the whole body came in one chunk"
    );

    server.request_shutdown();
    while let Some(chunk) = download.chunk().await.expect("the download goes on") {
        received.extend_from_slice(&chunk);
    }
    assert!(
        received == body,
        "the download in flight came back different"
    );
    server.shut_down_finished().await;
}

/// Uploads through the Plik API with `requests` as WIRE.md section 6 describes the original
/// editions' handler (JSON options, then a multipart `file` part with `X-UploadToken`),
/// downloads the link and prints `OK <link>` when the bytes came back identical.
const PLIK_CLIENT: &str = r#"
import sys, requests
fileserver_url, dataname = sys.argv[1], sys.argv[2]
data = bytes((i * 7 + 3) % 256 for i in range(3 * 1024 * 1024 + 5))
opened = requests.post(fileserver_url + "/upload", json={"OneShot": False})
opened.raise_for_status()
upload_id, token = opened.json()["id"], opened.json()["uploadToken"]
stored = requests.post(
    "%s/file/%s" % (fileserver_url, upload_id),
    files={"file": (dataname, data)},
    headers={"X-UploadToken": token},
)
stored.raise_for_status()
file = stored.json()
assert file["fileName"] == dataname, file
assert file["fileSize"] == len(data), file
link = "%s/file/%s/%s/%s" % (fileserver_url, upload_id, file["id"], dataname)
fetched = requests.get(link)
fetched.raise_for_status()
assert fetched.headers["Content-Length"] == str(len(data)), fetched.headers
assert fetched.content == data, "the bytes came back different"
print("OK", link)
"#;

/// A Plik client in CPython `requests`, the library of the original Python edition.
#[tokio::test]
async fn a_python_requests_plik_client_uploads_and_downloads() {
    let server = TestServer::start().await;
    for dataname in ["plain.bin", "résumé 1.pdf"] {
        let (url, dataname) = (server.url.clone(), dataname.to_owned());
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .args(["-c", PLIK_CLIENT, &url, &dataname])
                .output()
        })
        .await
        .unwrap()
        .expect("python3 runs (the project's tests need CPython)");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("No module named 'requests'"),
            "this test needs the `requests` package: python3 -m pip install requests"
        );
        assert!(
            output.status.success() && stdout.starts_with("OK "),
            "the Python Plik client failed:\n{stdout}\n{stderr}"
        );
    }
    let stored = files_below(&server.dir.join("file"));
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(
        stored.iter().any(|name| name.ends_with("/résumé 1.pdf")),
        "{stored:?}"
    );
}
