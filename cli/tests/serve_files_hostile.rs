//! Hostile clients against the real `natsbridge serve-files` program (issue 14): bodies that
//! never end or hold no boundary, overwrites and deletes by strangers, slow and idle clients,
//! too many connections and uploads, Windows drive, stream and device names. Each talks raw
//! HTTP/1.1 over a socket, as an attacker would.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use natsbridge_test_support::{ServeFiles, ServeFilesBuilder};

const NATSBRIDGE: &str = env!("CARGO_BIN_EXE_natsbridge");

fn server() -> ServeFilesBuilder {
    ServeFiles::builder().binary(NATSBRIDGE)
}

fn connect(files: &ServeFiles) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", files.port())).expect("connect to serve-files");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

/// One request with `Connection: close`; the status and the body of the answer.
fn exchange(files: &ServeFiles, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = connect(files);
    let request = format!(
        "{head}\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    parse_answer(&answer)
}

fn parse_answer(answer: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_owned());
    (status, body)
}

/// Opens a Plik upload; its id and upload token.
fn open_upload(files: &ServeFiles) -> (String, String) {
    let (status, body) = exchange(files, "POST /upload HTTP/1.1", b"{}");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    (
        json["id"].as_str().unwrap().to_owned(),
        json["uploadToken"].as_str().unwrap().to_owned(),
    )
}

/// `POST /file/{id}` with one part `file` named `file_name`; status and body.
fn plik_file(files: &ServeFiles, id: &str, token: &str, file_name: &str) -> (u16, String) {
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\nhello\r\n--XyZ--\r\n"
    );
    let head = format!(
        "POST /file/{id} HTTP/1.1\r\nX-UploadToken: {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ"
    );
    exchange(files, &head, body.as_bytes())
}

/// The resident memory of process `pid`, in bytes (`VmRSS` of `/proc/PID/status`).
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib * 1024
}

/// Sends `head` and then `total` bytes of `filler` as a chunked body (64 KiB chunks) while
/// another thread reads the answer; stops sending when the server closes. Returns the
/// bytes of body sent and the answer.
fn chunked_flood(files: &ServeFiles, head: &str, total: u64) -> (u64, Vec<u8>) {
    let mut stream = connect(files);
    let mut reader = stream.try_clone().unwrap();
    let answer = std::thread::spawn(move || {
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer);
        answer
    });
    let head = format!("{head}\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
    frame.extend_from_slice(&chunk);
    frame.extend_from_slice(b"\r\n");
    let mut sent = 0u64;
    while sent < total {
        if stream.write_all(&frame).is_err() {
            break;
        }
        sent += chunk.len() as u64;
    }
    if sent >= total {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let _ = stream.shutdown(Shutdown::Write);
    (sent, answer.join().unwrap())
}

/// Issue 14 item 3: a chunked multipart body holding no boundary, and a chunked PUT past
/// the limit, are refused with 413 (or 400), and the server's memory stays flat.
#[test]
fn endless_chunked_bodies_are_refused_and_memory_stays_flat() {
    let files = server().max_upload_bytes(1_000_000).start();
    let pid = files.pid().expect("running");
    let (id, token) = open_upload(&files);
    let before = resident_bytes(pid);

    let head = format!(
        "POST /file/{id} HTTP/1.1\r\nX-UploadToken: {token}\r\n\
         Content-Type: multipart/form-data; boundary=NeverSent"
    );
    // The server closes each refused connection: flood again until 64 MiB went in.
    let (mut sent, mut body) = (0u64, String::new());
    for _ in 0..200 {
        let (more, answer) = chunked_flood(&files, &head, 96 << 20);
        let status;
        (status, body) = parse_answer(&answer);
        assert!(
            status == 413 || status == 400,
            "no boundary: {status} {body}"
        );
        sent += more;
        if sent >= 64 << 20 {
            break;
        }
    }
    assert!(sent >= 64 << 20, "only {sent} bytes went in");
    let grown = resident_bytes(pid).saturating_sub(before);
    eprintln!("no boundary: {sent} bytes sent, {body:?}, resident memory grew {grown} bytes");
    assert!(
        grown < 20 << 20,
        "serve-files grew by {grown} bytes for a boundary-less body ({sent} bytes sent)"
    );

    let mut sent = 0u64;
    while sent < 64 << 20 {
        let (more, answer) = chunked_flood(&files, "PUT /big/flood.bin HTTP/1.1", 96 << 20);
        let (status, body) = parse_answer(&answer);
        assert_eq!(status, 413, "{body} ({more} bytes sent)");
        assert!(body.contains("/big/flood.bin"), "{body}");
        sent += more;
    }
    assert!(!files.dir().join("big/flood.bin").exists());
    let grown = resident_bytes(pid).saturating_sub(before);
    eprintln!("chunked PUT: {sent} bytes sent, resident memory grew {grown} bytes since the start");
    assert!(
        grown < 20 << 20,
        "serve-files grew by {grown} bytes for a chunked PUT"
    );
    // Still serving, and a normal Plik upload still works.
    let (status, body) = plik_file(&files, &id, &token, "ok.bin");
    assert_eq!(status, 200, "{body}");
}

/// Issue 14 item 4: without a token nobody may replace or delete a stored file, and a PUT
/// into Plik's folder is refused, so later Plik uploads still work.
#[test]
fn stored_files_are_write_once_and_deletes_need_the_token() {
    let files = server().start();
    let (status, body) = exchange(&files, "PUT /a/b.bin HTTP/1.1", b"original");
    assert_eq!(status, 201, "{body}");
    let (status, body) = exchange(&files, "PUT /a/b.bin HTTP/1.1", b"attacker");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("/a/b.bin"), "{body}");
    assert_eq!(
        std::fs::read(files.dir().join("a/b.bin")).unwrap(),
        b"original"
    );

    let (id, token) = open_upload(&files);
    let (status, body) = plik_file(&files, &id, &token, "victim.bin");
    assert_eq!(status, 200, "{body}");
    let file_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = format!("/file/{id}/{file_id}/victim.bin");
    let (status, body) = exchange(&files, &format!("PUT {link} HTTP/1.1"), b"attacker");
    assert_eq!(status, 403, "{body}");
    let (status, body) = exchange(&files, &format!("GET {link} HTTP/1.1"), b"");
    assert_eq!((status, body.as_str()), (200, "hello"));

    // A file named `file` in the way would make every later Plik upload fail.
    let (status, body) = exchange(&files, "PUT /file HTTP/1.1", b"in the way");
    assert_eq!(status, 403, "{body}");
    let (id, token) = open_upload(&files);
    let (status, body) = plik_file(&files, &id, &token, "later.bin");
    assert_eq!(status, 200, "{body}");

    for path in ["/a/b.bin", link.as_str()] {
        let (status, body) = exchange(&files, &format!("DELETE {path} HTTP/1.1"), b"");
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("upload token"), "{body}");
    }
    assert!(files.dir().join("a/b.bin").exists());

    // The operator can ask for replacing.
    let open = server().arg("--allow-overwrite").start();
    for content in [&b"one"[..], b"two"] {
        let (status, body) = exchange(&open, "PUT /a/b.bin HTTP/1.1", content);
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(std::fs::read(open.dir().join("a/b.bin")).unwrap(), b"two");
}

/// Reads until the server closes the connection (or `limit` passes); how long it took.
fn time_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

/// Issue 14 item 10: a body trickled in and a download never read are cut off after the
/// idle timeout; connections beyond the cap wait; open Plik uploads are bounded.
#[test]
fn slow_clients_are_cut_off_and_connections_and_uploads_are_bounded() {
    let files = server()
        .arg("--idle-timeout")
        .arg("1")
        .arg("--max-open-uploads")
        .arg("3")
        .start();

    // Slowloris: the headers arrive at once, the body 10 bytes per 200 ms.
    let mut slow = connect(&files);
    slow.write_all(b"PUT /slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        .unwrap();
    let mut trickle = slow.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        for _ in 0..100 {
            if trickle.write_all(&[b'x'; 10]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let closed = time_until_closed(&mut slow, Duration::from_secs(15));
    assert!(
        closed.is_some_and(|t| t < Duration::from_secs(5)),
        "a trickled body kept the connection for {closed:?}"
    );
    writer.join().unwrap();
    assert!(!files.dir().join("slow.bin").exists());

    // A reader that never reads a large download.
    let big = vec![7u8; 32 << 20];
    let (status, body) = exchange(&files, "PUT /big.bin HTTP/1.1", &big);
    assert_eq!(status, 201, "{body}");
    let mut lazy = connect(&files);
    lazy.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let mut got = Vec::new();
    let _ = lazy.read_to_end(&mut got);
    assert!(
        got.len() < big.len(),
        "a download nobody read for 4 s was still served whole ({} bytes)",
        got.len()
    );

    // At most 3 open uploads: the first of 4 is forgotten.
    let uploads: Vec<_> = (0..4).map(|_| open_upload(&files)).collect();
    let (status, body) = plik_file(&files, &uploads[0].0, &uploads[0].1, "a.bin");
    assert_eq!(status, 404, "{body}");
    let (status, body) = plik_file(&files, &uploads[3].0, &uploads[3].1, "a.bin");
    assert_eq!(status, 200, "{body}");

    // Connection cap: two connections held open, the third waits until one ends.
    let capped = server().arg("--max-connections").arg("2").start();
    let mut holders: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut held = connect(&capped);
            held.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            held
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut third = connect(&capped);
    third
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut buffer = [0u8; 64];
    assert!(
        matches!(third.read(&mut buffer), Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a third connection was served while two held the cap of 2"
    );
    drop(holders.pop());
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = third.read_to_end(&mut answer);
    assert_eq!(parse_answer(&answer).0, 200);
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Issue 14 item 13: Windows drive, stream and device names are refused on every platform,
/// before any folder is created.
#[test]
fn windows_drive_stream_and_device_names_are_refused_before_anything_is_created() {
    let files = server().start();
    for path in [
        "/new/dir/CON.txt",
        "/new/C:x",
        "/new/a:stream",
        "/new/nul",
        "/new/dir/Com1.tar.gz",
        "/new/LPT9/x.bin",
        "/new/trailing.",
        "/new/q%3Fx",
    ] {
        let (status, body) = exchange(&files, &format!("PUT {path} HTTP/1.1"), b"x");
        assert_eq!(status, 400, "PUT {path}: {body}");
    }
    assert!(
        entries(&files.dir()).is_empty(),
        "folders were created: {:?}",
        entries(&files.dir())
    );
    let (id, token) = open_upload(&files);
    for name in ["C:x", "aux.txt", "a:stream"] {
        let (status, body) = plik_file(&files, &id, &token, name);
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body.contains(name), "{body}");
    }
    assert!(!files.dir().join("file").exists());
}
