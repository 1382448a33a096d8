//! The `natsbridge` program end to end: `serve-files`, `listen` and `send` as separate
//! processes against a real `nats-server`, as a newcomer would run them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use natsbridge::{ConnectOptions, Payload, SendOptions};
use natsbridge_test_support::{NatsServer, ServeFiles};

const BINARY: &str = env!("CARGO_BIN_EXE_natsbridge");

/// A child process killed when dropped (also when the test fails), with its standard error
/// collected by a thread (so that it never blocks on a full pipe).
struct Running {
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_files() -> ServeFiles {
    ServeFiles::builder().binary(BINARY).start()
}

/// Starts `natsbridge listen` and returns once it has subscribed.
fn listen(server: &NatsServer, subject: &str, dir: &Path, count: usize, extra: &[&str]) -> Running {
    let mut child = Command::new(BINARY)
        .args(["listen", subject, "--count", &count.to_string(), "--dir"])
        .arg(dir)
        .args(extra)
        .env("NATS_URL", server.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting natsbridge listen");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on"), "listen said: {line:?}");
    let stderr = std::thread::spawn(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        rest
    });
    Running {
        child,
        stderr: Some(stderr),
    }
}

/// How long `listen` may take to receive its `--count` messages and exit.
const LISTEN_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Waits for `listen` to exit successfully; returns its standard output and error. A
/// listener still running after [`LISTEN_LIMIT`] is killed and the test fails with what it
/// printed (a lost message must fail the test, not hang it).
fn finish(mut running: Running) -> (String, String) {
    let mut stdout_pipe = running.child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout_pipe, &mut text).unwrap();
        text
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = running.child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > LISTEN_LIMIT {
            let _ = running.child.kill();
            let _ = running.child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap();
    let stderr = running.stderr.take().unwrap().join().unwrap();
    let status = status.unwrap_or_else(|| {
        panic!("listen did not finish within {LISTEN_LIMIT:?}: {stdout}{stderr}")
    });
    assert!(status.success(), "listen failed: {stdout}{stderr}");
    (stdout, stderr)
}

fn send(server: &NatsServer, args: &[&str]) -> std::process::Output {
    Command::new(BINARY)
        .arg("send")
        .args(args)
        .env("NATS_URL", server.url())
        .output()
        .expect("running natsbridge send")
}

#[test]
fn send_in_one_process_reaches_listen_in_another_with_a_5_mb_file_over_serve_files() {
    let server = NatsServer::start();
    let files = serve_files();
    let work = tempfile::tempdir().unwrap();
    let big = work.path().join("big.bin");
    let content: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&big, &content).unwrap();
    let received = work.path().join("received");
    let file_server = files.url();
    let allowed = file_server.trim_start_matches("http://");
    let listener = listen(
        &server,
        "chat.cli",
        &received,
        1,
        &["--allow-link-host", allowed],
    );

    let sent = send(
        &server,
        &[
            "chat.cli",
            "--text",
            "hello from the CLI",
            "--file",
            big.to_str().unwrap(),
            "--fileserver",
            &files.url(),
        ],
    );
    let sent_out = String::from_utf8_lossy(&sent.stdout);
    assert!(
        sent.status.success(),
        "send failed: {sent_out}{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(
        sent_out.contains("\"big.bin\"  binary  link  5000000 bytes"),
        "{sent_out}"
    );
    assert!(sent_out.contains("\"text\"  text  direct"), "{sent_out}");

    let (out, _) = finish(listener);
    assert!(out.contains("\"hello from the CLI\""), "{out}");
    assert_eq!(
        std::fs::read_to_string(received.join("text")).unwrap(),
        "hello from the CLI"
    );
    assert!(
        std::fs::read(received.join("big.bin")).unwrap() == content,
        "the 5 MB file differs"
    );
}

#[test]
fn listen_keeps_every_payload_inside_its_folder_and_goes_on_after_a_bad_message() {
    let server = NatsServer::start();
    let work = tempfile::tempdir().unwrap();
    let received = work.path().join("inbox");
    let listener = listen(&server, "hostile", &received, 2, &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = natsbridge::connect(&server.url()).await.unwrap();
        client
            .nats()
            .publish("hostile", "not json".into())
            .await
            .unwrap();
        let payloads = vec![
            Payload::text("../../escape.txt", "x"),
            Payload::text("/etc/passwd", "y"),
            Payload::text("..", "z"),
            Payload::text("..\\..\\win.txt", "w"),
            Payload::text("C:\\evil.txt", "c"),
            Payload::text("nul\0byte", "n"),
            Payload::text("same", "1"),
            Payload::text("same", "2"),
        ];
        client
            .smartsend("hostile", payloads, &SendOptions::new())
            .await
            .unwrap();
        // smartsend returns once the frame is queued: the client must not go before it is out.
        client.flush().await.unwrap();
    });
    let (out, err) = finish(listener);
    assert!(
        err.contains("a message on hostile failed") && err.contains("not_json"),
        "{err}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&received)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "C__evil.txt",
            "__",
            "___.._escape.txt",
            "___.._win.txt",
            "_etc_passwd",
            "nul_byte",
            "same",
            "same-2"
        ],
        "{out}"
    );
    assert!(!work.path().join("escape.txt").exists() && !Path::new("/escape.txt").exists());
}

#[test]
fn send_fails_clearly_without_a_file_server_for_a_large_file() {
    let server = NatsServer::start();
    let work = tempfile::tempdir().unwrap();
    let big = work.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 2_000_000]).unwrap();
    let sent = send(&server, &["x", "--file", big.to_str().unwrap()]);
    assert!(!sent.status.success());
    let err = String::from_utf8_lossy(&sent.stderr);
    assert!(
        err.contains("big.bin") && err.contains("no file server"),
        "{err}"
    );
    let sent = send(&server, &["x", "--file", "/no/such/file.png"]);
    assert!(String::from_utf8_lossy(&sent.stderr).contains("/no/such/file.png"));
}

#[tokio::test]
async fn plik_uploads_to_serve_files_round_trip_and_honour_its_token() {
    let server = NatsServer::start();
    let files = ServeFiles::builder()
        .binary(BINARY)
        .upload_token("secret")
        .start();
    let refused = ConnectOptions::new()
        .plik(files.url())
        .connect(&server.url())
        .await
        .unwrap();
    let payloads = vec![
        Payload::binary("a.bin", vec![3u8; 5000]),
        Payload::binary("../.hidden/ünï cødé", vec![4u8; 300]),
    ];
    let options = SendOptions::new().size_threshold(10);
    let error = refused
        .smartsend("plik", payloads.clone(), &options)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), natsbridge::ErrorKind::Upload);
    assert!(
        error.to_string().contains("401") && error.to_string().contains("a.bin"),
        "{error}"
    );

    let client = ConnectOptions::new()
        .plik(files.url())
        .upload_token("secret")
        .connect(&server.url())
        .await
        .unwrap();
    let mut inbox = client.subscribe("plik").await.unwrap();
    let sent = client.smartsend("plik", payloads, &options).await.unwrap();
    assert!(
        sent.payloads[0]
            .data
            .starts_with(&format!("{}/file/", files.url())),
        "{}",
        sent.payloads[0].data
    );
    let received = futures_util::StreamExt::next(&mut inbox)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        received.payloads[0].data,
        natsbridge::Data::Bytes(vec![3u8; 5000].into())
    );
    let odd = &received.payloads[1];
    assert_eq!(
        odd.dataname, "../.hidden/ünï cødé",
        "the envelope keeps the dataname"
    );
    assert_eq!(odd.data, natsbridge::Data::Bytes(vec![4u8; 300].into()));
}

#[tokio::test]
async fn http_put_to_serve_files_survives_a_restart_of_the_file_server() {
    use std::time::Duration;
    let server = NatsServer::start();
    let mut files = serve_files();
    let patient =
        natsbridge::RetryPolicy::new(40, Duration::from_millis(50), Duration::from_millis(400));
    let client = ConnectOptions::new()
        .http_put(files.url())
        .retry(patient)
        .connect(&server.url())
        .await
        .unwrap();
    let mut inbox = client.raw_subscribe("put").await.unwrap();
    client
        .smartsend(
            "put",
            vec![
                Payload::video("clip.mp4", vec![8u8; 70_000]),
                Payload::text(".hidden/../x", "odd name"),
            ],
            &SendOptions::new().size_threshold(1),
        )
        .await
        .unwrap();
    let message = futures_util::StreamExt::next(&mut inbox).await.unwrap();
    files.stop();
    let receiving = tokio::spawn({
        let client = client.clone();
        async move { client.smartreceive(&message).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    files.restart();
    let received = receiving.await.unwrap().unwrap();
    assert_eq!(
        received.payloads[0].data,
        natsbridge::Data::Bytes(vec![8u8; 70_000].into())
    );
    assert_eq!(received.payloads[1].data.as_text(), Some("odd name"));
}

/// Issue 14 item 9: sender fields holding terminal escape sequences are printed escaped.
/// Item 13: datanames that Windows reads as a drive, a stream or a device are saved under
/// plain names inside the folder. Item 6: a link to another port of the file server's host
/// is refused, naming the URL.
#[test]
fn listen_prints_escape_sequences_escaped_and_saves_windows_names_plainly() {
    let server = NatsServer::start();
    let files = serve_files();
    let work = tempfile::tempdir().unwrap();
    let received = work.path().join("inbox");
    let listener = listen(
        &server,
        "hostile",
        &received,
        2,
        &["--fileserver", &files.url()],
    );
    let other_port = natsbridge_test_support::free_port();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let nats = natsbridge::async_nats::connect(server.url()).await.unwrap();
        let hostile = "\u{1b}[2J\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{9b}31mevil";
        let envelope = natsbridge::EnvelopeComposer::new("nats://x", hostile)
            .sender_name(hostile)
            .compose(
                "hostile",
                vec![
                    Payload::text("C:x", "drive"),
                    Payload::text("CON.txt", "device"),
                    Payload::text("a:stream", "stream"),
                    Payload::text("nul", "device"),
                    Payload::text("\u{1b}[31mred", "escape"),
                ],
                &SendOptions::new().metadata("note", hostile),
            )
            .await
            .unwrap();
        nats.publish("hostile", envelope.to_json_vec().into())
            .await
            .unwrap();
        let mut link = envelope.clone();
        link.payloads.truncate(1);
        link.payloads[0].transport = natsbridge::Transport::Link;
        link.payloads[0].data = format!("http://127.0.0.1:{other_port}/varz");
        nats.publish("hostile", link.to_json_vec().into())
            .await
            .unwrap();
        nats.flush().await.unwrap();
    });
    let (out, err) = finish(listener);
    assert!(
        !out.contains('\u{1b}') && !err.contains('\u{1b}'),
        "{out:?}{err:?}"
    );
    assert!(!out.contains('\u{9b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\u{1b}[2J"), "{out}");
    assert!(
        err.contains(&format!("http://127.0.0.1:{other_port}/varz"))
            && err.contains("link_refused"),
        "{err}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&received)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["C_x", "_CON.txt", "_[31mred", "_nul", "a_stream"],
        "{out}"
    );
}

/// `listen --json` reports a message that fails as one JSON object: kind, place, message and
/// the cause underneath (here serde_json's), and goes on.
#[test]
fn listen_json_reports_a_failed_message_with_its_cause() {
    let server = NatsServer::start();
    let work = tempfile::tempdir().unwrap();
    let listener = listen(&server, "bad.json", &work.path().join("in"), 1, &["--json"]);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = natsbridge::connect(&server.url()).await.unwrap();
        client.nats().publish("bad.json", "{".into()).await.unwrap();
        client.flush().await.unwrap();
    });
    let (out, err) = finish(listener);
    let line: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("listen --json printed no JSON line ({e}): {out}{err}"));
    assert_eq!(line["subject"], "bad.json", "{line}");
    assert_eq!(line["error"]["kind"], "not_json", "{line}");
    assert_eq!(line["error"]["message"], "not JSON", "{line}");
    let cause = line["error"]["cause"].as_str().unwrap_or_default();
    assert!(
        cause.starts_with("not JSON (not_json): ") && cause.contains("EOF"),
        "the chain with serde_json's error: {line}"
    );
}

/// Named payloads, payload and envelope metadata and schema field flags on `send`; one JSON
/// object per message from `listen --json`; a link named with `localhost` taken by a
/// listener whose `--fileserver` says `127.0.0.1`.
#[test]
fn listen_json_reports_named_payloads_fields_and_where_each_was_saved() {
    let server = NatsServer::start();
    let files = serve_files();
    let work = tempfile::tempdir().unwrap();
    let photo = work.path().join("cat.png");
    std::fs::write(&photo, vec![7u8; 3000]).unwrap();
    let received = work.path().join("received");
    let listener = listen(
        &server,
        "chat.json",
        &received,
        1,
        &["--json", "--fileserver", &files.url()],
    );
    let localhost = files.url().replace("127.0.0.1", "localhost");
    let sent = send(
        &server,
        &[
            "chat.json",
            "--text",
            "note=hi there",
            "--json",
            r#"config={"ssid":"lab"}"#,
            "--file",
            &format!("avatar={}", photo.display()),
            "--payload-metadata",
            "avatar:width=640",
            "--metadata",
            "site=lab",
            "--receiver-id",
            "device-7",
            "--reply-to-msg-id",
            "m-1",
            "--size-threshold",
            "2000",
            "--fileserver",
            &localhost,
        ],
    );
    assert!(
        sent.status.success(),
        "send failed: {}{}",
        String::from_utf8_lossy(&sent.stdout),
        String::from_utf8_lossy(&sent.stderr)
    );
    let (out, err) = finish(listener);
    let line: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("listen --json printed no JSON line ({e}): {out}{err}"));
    assert_eq!(line["subject"], "chat.json", "{line}");
    let envelope = &line["envelope"];
    assert_eq!(envelope["receiver_id"], "device-7", "{line}");
    assert_eq!(envelope["reply_to_msg_id"], "m-1", "{line}");
    assert_eq!(envelope["metadata"]["site"], "lab", "{line}");
    let payloads = envelope["payloads"].as_array().unwrap();
    let names: Vec<&str> = payloads
        .iter()
        .map(|p| p["dataname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["note", "config", "avatar"], "{line}");
    assert!(
        payloads[0].get("data").is_none(),
        "direct data is in the file: {line}"
    );
    assert_eq!(payloads[2]["transport"], "link", "{line}");
    assert!(
        payloads[2]["data"]
            .as_str()
            .unwrap()
            .starts_with(&localhost),
        "{line}"
    );
    assert_eq!(payloads[2]["metadata"]["width"], 640, "{line}");
    let saved = line["saved"].as_array().unwrap();
    assert_eq!(saved.len(), 3, "{line}");
    for (entry, want) in saved
        .iter()
        .zip([&b"hi there"[..], br#"{"ssid":"lab"}"#, &[7u8; 3000]])
    {
        let path = entry["saved_to"].as_str().unwrap();
        assert!(Path::new(path).starts_with(&received), "{path}");
        assert_eq!(std::fs::read(path).unwrap(), want, "{path}");
    }
}
