//! Link downloads against a misbehaving file server (`FaultyHttp`: stops mid-download,
//! truncates, lies about `Content-Length`, drips) and links a receiver must refuse (other
//! schemes, other hosts, redirects, payloads above the download cap).

use std::time::Duration;

use futures_util::future::BoxFuture;
use natsbridge::link::{LinkBackend, LinkPolicy, Upload};
use natsbridge::{
    Data, EnvelopeComposer, Error, ErrorKind, Payload, ReceiveOptions, Received, RetryPolicy,
    SendOptions,
};
use natsbridge_test_support::{FaultTimes, FaultyHttp};

/// A safety net so that a hanging download fails the test; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(60);

/// "Uploads" by writing the payload into the faulty server's folder and hands out the URL
/// that serves it with one behaviour.
struct FaultyUpload<'a> {
    server: &'a FaultyHttp,
    mode: &'a str,
}

impl LinkBackend for FaultyUpload<'_> {
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let name = format!("{}.bin", upload.payload_id);
            let bytes = upload.body_bytes().await.unwrap();
            std::fs::write(self.server.dir().join(&name), bytes).unwrap();
            Ok(self.server.file_url(self.mode, &name))
        })
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// The body of an envelope with one link payload of `data`, served as `mode`.
async fn link_message(server: &FaultyHttp, mode: &str, data: Vec<u8>) -> (Vec<u8>, String) {
    let backend = FaultyUpload { server, mode };
    let envelope = EnvelopeComposer::new("nats://127.0.0.1:4222", "sender")
        .link_backend(Some(&backend))
        .compose(
            "faults",
            vec![Payload::binary("victim.bin", data)],
            &SendOptions::new().size_threshold(1),
        )
        .await
        .unwrap();
    let url = envelope.payloads[0].data.clone();
    (envelope.to_json_vec(), url)
}

/// Receives `body`, allowing the faulty server's host, with `retry` and `links` changes.
async fn receive(
    server: &FaultyHttp,
    body: &[u8],
    retry: RetryPolicy,
    links: impl FnOnce(LinkPolicy) -> LinkPolicy,
) -> Result<Received, Error> {
    let options = ReceiveOptions::default().fileserver_url(&server.url());
    let options = ReceiveOptions {
        retry,
        links: links(options.links),
    };
    tokio::time::timeout(PATIENCE, natsbridge::smartreceive(body, &options))
        .await
        .expect("the download ends (with data or an error) instead of hanging")
}

fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::new(
        attempts,
        Duration::from_millis(20),
        Duration::from_millis(200),
    )
}

#[tokio::test]
async fn a_server_that_stops_mid_download_is_retried_with_backoff_until_it_is_back() {
    let server = FaultyHttp::start_with(FaultTimes {
        down_for: Duration::from_millis(1200),
        ..FaultTimes::default()
    });
    let data = pattern(300_000);
    let (body, url) = link_message(&server, "stop-midway", data.clone()).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let patient = RetryPolicy::new(30, Duration::from_millis(50), Duration::from_millis(400));
    let received = receive(&server, &body, patient, |l| l).await.unwrap();
    assert_eq!(received.payloads[0].data, Data::Bytes(data.into()));
    assert!(
        server.requests("stop-midway", &name) >= 2,
        "the broken transfer was retried"
    );
}

#[tokio::test]
async fn a_server_that_stays_down_gives_a_clear_error_after_max_retries() {
    let server = FaultyHttp::start_with(FaultTimes {
        down_for: Duration::from_secs(3600),
        ..FaultTimes::default()
    });
    let (body, url) = link_message(&server, "stop-midway", pattern(10_000)).await;
    let error = receive(&server, &body, quick_retries(4), |l| l)
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::Download, url.as_str())
    );
    assert!(
        error.message().contains("victim.bin") && error.message().contains("after 4 attempts"),
        "{error}"
    );
}

#[tokio::test]
async fn a_truncated_body_is_retried_then_reported_never_delivered() {
    let server = FaultyHttp::start();
    let (body, url) = link_message(&server, "truncated", pattern(50_000)).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let error = receive(&server, &body, quick_retries(3), |l| l)
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::Download, url.as_str())
    );
    assert!(error.message().contains("broke off"), "{error}");
    assert_eq!(
        server.requests("truncated", &name),
        3,
        "one request per attempt"
    );
}

#[tokio::test]
async fn a_wrong_content_length_fails_at_once_as_a_size_mismatch() {
    let server = FaultyHttp::start();
    let (body, url) = link_message(&server, "wrong-length", pattern(5_000)).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let error = receive(&server, &body, quick_retries(5), |l| l)
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::SizeMismatch, url.as_str())
    );
    assert!(error.message().contains("4999"), "{error}");
    assert_eq!(server.requests("wrong-length", &name), 1, "not retried");
}

#[tokio::test]
async fn a_dripping_server_times_out_instead_of_hanging() {
    let server = FaultyHttp::start_with(FaultTimes {
        drip_every: Duration::from_millis(200),
        ..FaultTimes::default()
    });
    let (body, url) = link_message(&server, "drip", pattern(1_000)).await;
    let error = receive(&server, &body, quick_retries(2), |l| {
        l.low_speed_limit(100, Duration::from_millis(800))
    })
    .await
    .unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::Timeout, url.as_str())
    );
    assert!(error.message().contains("low-speed limit"), "{error}");
}

#[tokio::test]
async fn the_default_client_download_path_uses_the_same_checks() {
    // The good path through the same server, so the faults above are the server's doing.
    let server = FaultyHttp::start();
    let data = pattern(70_000);
    let (body, _) = link_message(&server, "ok", data.clone()).await;
    let received = receive(&server, &body, quick_retries(1), |l| l)
        .await
        .unwrap();
    assert_eq!(received.payloads[0].data, Data::Bytes(data.into()));
}

#[tokio::test]
async fn links_to_other_hosts_or_schemes_are_refused_without_a_request() {
    let server = FaultyHttp::start();
    let (body, url) = link_message(&server, "ok", pattern(100)).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    // Nothing allowed: the default of the one-call form.
    let options = ReceiveOptions::default();
    let error = natsbridge::smartreceive(&body, &options).await.unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::LinkRefused, url.as_str())
    );
    assert!(error.message().contains("127.0.0.1"), "{error}");
    // Another address of this machine is another host ...
    let by_address = String::from_utf8(body.clone())
        .unwrap()
        .replace("127.0.0.1", "127.0.0.2");
    let error = receive(&server, by_address.as_bytes(), quick_retries(1), |l| l)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::LinkRefused, "{error}");
    assert_eq!(server.requests("ok", &name), 0, "no request was made");
    // ... but `localhost` is the loopback's other spelling (the original editions' default
    // `fileserver_url`), the same host and port as the allowed `127.0.0.1`.
    let by_name = String::from_utf8(body.clone())
        .unwrap()
        .replace("127.0.0.1", "localhost");
    let received = receive(&server, by_name.as_bytes(), quick_retries(1), |l| l).await;
    assert_eq!(
        received.unwrap().payloads[0].data,
        Data::Bytes(pattern(100).into())
    );
    assert_eq!(
        server.requests("ok", &name),
        1,
        "one request, by the name localhost"
    );
    for scheme_url in ["file:///etc/passwd", "ftp://127.0.0.1/x"] {
        let other = String::from_utf8(body.clone())
            .unwrap()
            .replace(&url, scheme_url);
        let error = receive(&server, other.as_bytes(), quick_retries(1), |l| l)
            .await
            .unwrap_err();
        assert_eq!(
            (error.kind(), error.at()),
            (ErrorKind::LinkRefused, scheme_url)
        );
    }
    // The escape hatch.
    let received = receive(&server, by_name.as_bytes(), quick_retries(1), |l| {
        l.allow_any_host_unsafe()
    })
    .await
    .unwrap();
    assert_eq!(received.payloads[0].data, Data::Bytes(pattern(100).into()));
}

#[tokio::test]
async fn a_payload_above_the_download_cap_is_refused_before_fetching() {
    let server = FaultyHttp::start();
    let (body, url) = link_message(&server, "ok", pattern(10_000)).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let error = receive(&server, &body, quick_retries(1), |l| {
        l.max_download_bytes(9_999)
    })
    .await
    .unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::TooLarge, url.as_str())
    );
    assert!(error.message().contains("9999"), "{error}");
    assert_eq!(server.requests("ok", &name), 0);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = FaultyHttp::start();
    let (body, url) = link_message(&server, "ok", pattern(100)).await;
    let redirected = url.replacen("/ok/", "/redirect/", 1);
    let body = String::from_utf8(body).unwrap().replace(&url, &redirected);
    let error = receive(&server, body.as_bytes(), quick_retries(1), |l| l)
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::LinkRefused, redirected.as_str())
    );
    assert!(error.message().contains("redirect"), "{error}");
}

/// Records what each upload was handed, as a backend that needs the hash first, or not.
struct Recording {
    needs: bool,
    seen: std::sync::Mutex<Vec<Option<String>>>,
}

impl LinkBackend for Recording {
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(upload.sha256.clone());
            Ok(format!("http://127.0.0.1:1/{}", upload.payload_id))
        })
    }

    fn needs_sha256(&self) -> bool {
        self.needs
    }
}

#[tokio::test]
async fn a_backend_gets_the_hash_first_only_if_it_needs_it_and_the_checksum_is_the_same() {
    let data = pattern(300_000);
    let want = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&data);
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    for needs in [true, false] {
        let backend = Recording {
            needs,
            seen: Default::default(),
        };
        let envelope = EnvelopeComposer::new("nats://127.0.0.1:4222", "sender")
            .link_backend(Some(&backend))
            .compose(
                "hashes",
                vec![Payload::binary("a.bin", data.clone())],
                &SendOptions::new().size_threshold(1),
            )
            .await
            .unwrap();
        assert_eq!(
            envelope.payloads[0].metadata["checksum"],
            format!("sha256:{want}"),
            "needs_sha256 {needs}"
        );
        let seen = backend.seen.lock().unwrap().clone();
        assert_eq!(seen, vec![needs.then(|| want.clone())]);
    }
}
