//! smartsend and smartreceive end to end with real servers: a `nats-server` and nginx WebDAV
//! on loopback, the no_std client over the tokio adapter. Direct and link payloads, a link
//! payload far larger than the work buffer streamed in pieces, the move to links when the
//! envelope exceeds `max_payload`, download retries, and permanent failures; Plik and PUT
//! uploads to our own `natsbridge serve-files` with its upload token.

mod common;

use std::cell::Cell;

use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::link::{AllowedHosts, FileServer, LinkError, UploadMethod};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{
    HttpUploader, Links, MAX_DIRECT_SIZE, NoFileServer, Outgoing, ReceiveError, SendError,
    SendOptions, smartreceive, smartsend,
};
use natsbridge_embedded::{EnvelopeFields, Message, MessageEnvelope, PayloadType, Transport};
use natsbridge_test_support::{NatsServer, Nginx, ServeFiles};
use tokio::net::TcpStream;

use common::{Collect, TokioConnector, pseudo_random};

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn connect<'b>(
    server: &NatsServer,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Client<'b, FromTokio<TcpStream>> {
    let stream = common::connect("127.0.0.1", server.port()).await.unwrap();
    Client::connect(stream, rx, tx, &ConnectOptions::new())
        .await
        .expect("connect")
}

/// Receives one envelope on `client` and decodes it.
async fn receive_envelope(client: &mut Client<'_, FromTokio<TcpStream>>) -> Box<MessageEnvelope> {
    match client.next_event().await.expect("an event") {
        Event::Message(m) => Box::new(MessageEnvelope::decode(m.payload).expect("decodes")),
        other => panic!("expected an envelope, got {other:?}"),
    }
}

/// Uploads with HTTP PUT to `url` (nginx WebDAV).
fn put_uploader<'a>(url: &'a str, work: &'a mut [u8]) -> HttpUploader<'a, TokioConnector> {
    HttpUploader {
        connector: TokioConnector,
        work,
        server: FileServer {
            url,
            method: UploadMethod::Put,
            token: None,
        },
    }
}

/// What `smartreceive` needs to fetch links from the file server at `server` (its host and
/// port only).
fn links<'a>(
    work: &'a mut [u8],
    server: &'a str,
) -> Links<'a, TokioConnector, impl AsyncFnMut(u32), impl FnMut() -> u32> {
    Links {
        connector: TokioConnector,
        work,
        backoff: Backoff::default(),
        delay: async |ms: u32| {
            tokio::time::sleep(std::time::Duration::from_millis(ms.into())).await
        },
        random: pseudo_random(),
        allowed_hosts: AllowedHosts::FileServerOf(server),
        max_size: 64 << 20,
    }
}

#[tokio::test]
async fn direct_and_link_payloads_round_trip_through_nats_and_nginx() {
    let server = NatsServer::start();
    let nginx = Nginx::start();
    let (mut rx, mut tx) = (vec![0u8; 16 * 1024], vec![0u8; 1024]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    client.subscribe("chat.room1", None).await.unwrap();

    let text = "hello from the board".as_bytes();
    let big = pattern(3_000_000, 7);
    let mut envelope = Box::<MessageEnvelope>::default();
    let fields = EnvelopeFields {
        timestamp: "2026-11-25T11:52:26.123Z",
        sender_id: "00000000-0000-4000-8000-000000000001",
        ..EnvelopeFields::default()
    };
    let mut upload_work = [0u8; 512];
    let nginx_url = nginx.url();
    let mut uploader = put_uploader(&nginx_url, &mut upload_work);
    let mut out = vec![0u8; 16 * 1024];
    let outgoing = [
        Outgoing::new("greeting", PayloadType::Text, text),
        Outgoing::new("camera frame.bin", PayloadType::Binary, &big),
    ];
    smartsend(
        &mut client,
        &mut envelope,
        &fields,
        "chat.room1",
        &outgoing,
        &SendOptions::default(),
        &mut uploader,
        &mut out,
        pseudo_random(),
    )
    .await
    .expect("smartsend");

    let received = receive_envelope(&mut client).await;
    assert_eq!(received.send_to.as_str(), "chat.room1");
    assert_eq!(received.msg_id.len(), 36);
    assert_eq!(received.payloads.len(), 2);
    assert_eq!(received.payloads[0].transport, Transport::Direct);
    assert_eq!(received.payloads[1].transport, Transport::Link);
    let url = received.payloads[1].data.as_str();
    assert!(
        url.starts_with(&nginx.url()) && url.ends_with("/camera%20frame.bin"),
        "{url}"
    );
    assert!(
        received.payloads[1]
            .metadata
            .as_str()
            .starts_with("{\"checksum\":\"sha256:")
    );

    let mut work = [0u8; 1024];
    let mut links = links(&mut work, &nginx_url);
    let mut first = Collect::default();
    assert_eq!(
        smartreceive(&received.payloads[0], &mut first, &mut links).await,
        Ok(20)
    );
    assert_eq!(first.bytes, text);
    let mut second = Collect::default();
    let size = smartreceive(&received.payloads[1], &mut second, &mut links)
        .await
        .unwrap();
    assert_eq!(size, 3_000_000);
    assert!(second.bytes == big, "the streamed link payload differs");
    assert!(
        second.largest_piece <= 1024,
        "pieces of {} bytes",
        second.largest_piece
    );
}

#[tokio::test]
async fn payloads_move_to_links_until_the_envelope_fits_max_payload() {
    let server = NatsServer::builder().max_payload(4096).start();
    let nginx = Nginx::start();
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 1024]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    client.subscribe("s", None).await.unwrap();
    let data = [pattern(1500, 1), pattern(1400, 2), pattern(1000, 3)];
    let outgoing: Vec<Outgoing> = data
        .iter()
        .enumerate()
        .map(|(i, d)| Outgoing::new(["a", "b", "c"][i], PayloadType::Binary, d))
        .collect();
    let mut out = vec![0u8; 64 * 1024];
    let mut envelope = Box::<MessageEnvelope>::default();

    // Without a file server it fails before publishing anything.
    let result = smartsend(
        &mut client,
        &mut envelope,
        &EnvelopeFields::default(),
        "s",
        &outgoing,
        &SendOptions::default(),
        &mut NoFileServer,
        &mut out,
        pseudo_random(),
    )
    .await;
    match result {
        Err(SendError::DoesNotFit { size, limit: 4096 }) => assert!(size > 4096),
        other => panic!("expected DoesNotFit, got {other:?}"),
    }

    let mut upload_work = [0u8; 512];
    let nginx_url = nginx.url();
    let mut uploader = put_uploader(&nginx_url, &mut upload_work);
    let len = smartsend(
        &mut client,
        &mut envelope,
        &EnvelopeFields::default(),
        "s",
        &outgoing,
        &SendOptions::default(),
        &mut uploader,
        &mut out,
        pseudo_random(),
    )
    .await
    .expect("fits after moving payloads to links");
    assert!(len <= 4096);
    let received = receive_envelope(&mut client).await;
    let transports: Vec<_> = received
        .payloads
        .iter()
        .map(|p| p.transport.clone())
        .collect();
    // The largest payload moves first; the smallest stays direct.
    assert_eq!(transports[0], Transport::Link);
    assert_eq!(transports[2], Transport::Direct);
    let mut work = [0u8; 512];
    let mut links = links(&mut work, &nginx_url);
    for (payload, expected) in received.payloads.iter().zip(&data) {
        let mut sink = Collect::default();
        smartreceive(payload, &mut sink, &mut links).await.unwrap();
        assert_eq!(&sink.bytes, expected, "payload {}", payload.dataname);
    }
}

#[tokio::test]
async fn a_payload_too_large_to_go_direct_needs_a_file_server() {
    let server = NatsServer::start();
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 1024]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    let data = pattern(MAX_DIRECT_SIZE + 1, 0);
    let outgoing = [Outgoing::new("x", PayloadType::Binary, &data)];
    let mut out = vec![0u8; 8192];
    let result = smartsend(
        &mut client,
        &mut Box::<MessageEnvelope>::default(),
        &EnvelopeFields::default(),
        "s",
        &outgoing,
        &SendOptions::default(),
        &mut NoFileServer,
        &mut out,
        pseudo_random(),
    )
    .await;
    assert!(
        matches!(
            result,
            Err(SendError::Upload {
                payload: 0,
                error: LinkError::NoFileServer
            })
        ),
        "{result:?}"
    );
}

/// A link payload as a sender would describe it.
fn link_payload(url: &str, data: &[u8]) -> natsbridge_embedded::MessagePayload {
    let mut payload = natsbridge_embedded::MessagePayload {
        transport: Transport::Link,
        encoding: natsbridge_embedded::Encoding::None,
        size: data.len() as u64,
        ..Default::default()
    };
    payload.data.push_str(url).unwrap();
    let checksum = natsbridge_embedded::link::checksum_of(data);
    payload.metadata =
        natsbridge_embedded::JsonObject::parse(&format!("{{\"checksum\":\"{checksum}\"}}"))
            .unwrap();
    payload
}

#[tokio::test]
async fn downloads_retry_while_the_file_server_is_down() {
    let mut nginx = Nginx::start();
    let data = pattern(100_000, 9);
    std::fs::create_dir_all(nginx.root().join("p")).unwrap();
    std::fs::write(nginx.root().join("p/file"), &data).unwrap();
    let nginx_url = nginx.url();
    let payload = link_payload(&format!("{nginx_url}/p/file"), &data);
    nginx.stop();

    let delays = Cell::new(0);
    let nginx = std::cell::RefCell::new(nginx);
    let mut work = [0u8; 700];
    let mut links = Links {
        connector: TokioConnector,
        work: &mut work,
        backoff: Backoff {
            max_attempts: 5,
            base_delay_ms: 1,
            max_delay_ms: 10,
        },
        delay: async |ms: u32| {
            assert!(ms <= 10);
            delays.set(delays.get() + 1);
            if delays.get() == 2 {
                nginx.borrow_mut().restart();
            }
        },
        random: pseudo_random(),
        allowed_hosts: AllowedHosts::FileServerOf(&nginx_url),
        max_size: 64 << 20,
    };
    let mut sink = Collect::default();
    assert_eq!(
        smartreceive(&payload, &mut sink, &mut links).await,
        Ok(100_000)
    );
    assert!(sink.bytes == data);
    assert_eq!(delays.get(), 2, "two failed attempts, then success");

    // Down for good: gives up after max_attempts with the connection error.
    nginx.borrow_mut().stop();
    delays.set(100);
    let mut sink = Collect::default();
    let result = smartreceive(&payload, &mut sink, &mut links).await;
    assert!(
        matches!(result, Err(ReceiveError::Link(LinkError::Http(e))) if e.is_transient()),
        "{result:?}"
    );
    assert_eq!(delays.get(), 104, "4 waits between 5 attempts");
}

#[tokio::test]
async fn permanent_failures_are_reported_at_once() {
    let nginx = Nginx::start();
    let data = pattern(5000, 3);
    std::fs::write(nginx.root().join("f"), &data).unwrap();
    let nginx_url = nginx.url();
    let delays = Cell::new(0);
    let mut work = [0u8; 512];
    let mut links = Links {
        connector: TokioConnector,
        work: &mut work,
        backoff: Backoff::default(),
        delay: async |_: u32| delays.set(delays.get() + 1),
        random: pseudo_random(),
        allowed_hosts: AllowedHosts::FileServerOf(&nginx_url),
        max_size: 64 << 20,
    };
    let url = format!("{}/f", nginx.url());

    let missing = link_payload(&format!("{}/missing", nginx.url()), &data);
    let result = smartreceive(&missing, &mut Collect::default(), &mut links).await;
    assert_eq!(
        result,
        Err(ReceiveError::Link(LinkError::Http(
            natsbridge_embedded::http::HttpError::Status(404)
        )))
    );

    let mut wrong_size = link_payload(&url, &data);
    wrong_size.size = 4999;
    let mut sink = Collect::default();
    let result = smartreceive(&wrong_size, &mut sink, &mut links).await;
    assert_eq!(
        result,
        Err(ReceiveError::SizeMismatch {
            expected: 4999,
            received: 5000
        })
    );
    assert!(
        sink.bytes.is_empty(),
        "nothing delivered once Content-Length disagrees"
    );

    let mut other = data.clone();
    other[4000] ^= 1;
    let wrong_checksum = link_payload(&url, &other);
    let result = smartreceive(&wrong_checksum, &mut Collect::default(), &mut links).await;
    assert_eq!(result, Err(ReceiveError::Link(LinkError::ChecksumMismatch)));
    assert_eq!(delays.get(), 0, "permanent failures are not retried");
}

#[tokio::test]
async fn jetstream_sends_carry_the_msg_id_header() {
    let server = NatsServer::start();
    let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 1024]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    client.subscribe("js.s", None).await.unwrap();
    let outgoing = [Outgoing::new("n", PayloadType::Text, b"x")];
    let mut envelope = Box::<MessageEnvelope>::default();
    let fields = EnvelopeFields {
        msg_id: "msg-42",
        ..EnvelopeFields::default()
    };
    let options = SendOptions {
        jetstream: true,
        ..SendOptions::default()
    };
    let mut out = vec![0u8; 8192];
    smartsend(
        &mut client,
        &mut envelope,
        &fields,
        "js.s",
        &outgoing,
        &options,
        &mut NoFileServer,
        &mut out,
        pseudo_random(),
    )
    .await
    .unwrap();
    match client.next_event().await.unwrap() {
        Event::Message(m) => {
            let headers = std::str::from_utf8(m.headers.expect("an HMSG")).unwrap();
            assert!(headers.contains("Nats-Msg-Id: msg-42\r\n"), "{headers}");
            let received = MessageEnvelope::decode(m.payload).unwrap();
            assert_eq!(received.msg_id.as_str(), "msg-42");
        }
        other => panic!("{other:?}"),
    }
}

/// Uploads to `natsbridge serve-files` (which requires a token) with `method`, then streams
/// the link back in pieces and checks it.
async fn round_trip_through_serve_files(method: UploadMethod) {
    let files = ServeFiles::builder().upload_token("board-token").start();
    let data = pattern(150_000, 11);
    let url = files.url();
    let mut work = [0u8; 512];
    let refused = FileServer {
        url: &url,
        method,
        token: None,
    };
    let payload_id = "00000000-0000-4000-8000-00000000000a";
    let error = natsbridge_embedded::link::upload(
        &mut common::TokioConnector,
        &mut work,
        &refused,
        payload_id,
        "sensor log.bin",
        &data,
    )
    .await
    .unwrap_err();
    assert!(format!("{error:?}").contains("401"), "{error:?}");

    let server = FileServer {
        url: &url,
        method,
        token: Some("board-token"),
    };
    let link = natsbridge_embedded::link::upload(
        &mut common::TokioConnector,
        &mut work,
        &server,
        payload_id,
        "sensor log.bin",
        &data,
    )
    .await
    .expect("upload");
    assert!(link.starts_with(url.as_str()), "{link}");
    let payload = link_payload(&link, &data);
    let mut download_work = [0u8; 1024];
    let mut links = links(&mut download_work, &url);
    let mut sink = Collect::default();
    let size = smartreceive(&payload, &mut sink, &mut links).await.unwrap();
    assert_eq!(size, data.len() as u64);
    assert!(sink.bytes == data, "the downloaded payload differs");
}

#[tokio::test]
async fn plik_uploads_to_serve_files_and_streams_back() {
    round_trip_through_serve_files(UploadMethod::Plik).await;
}

#[tokio::test]
async fn put_uploads_to_serve_files_and_streams_back() {
    round_trip_through_serve_files(UploadMethod::Put).await;
}
