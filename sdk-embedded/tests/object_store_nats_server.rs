//! Object Store links read by the no_std SDK from a real JetStream `nats-server`: objects put
//! by async-nats (what the std SDK uploads with), a 5 MB one through a 4 KiB receive buffer,
//! and the refusals: buckets not allowed, sizes and checksums that differ, missing objects and
//! buckets, object infos tampered with; the connection stays usable after each.

mod common;

use common::{Collect, pseudo_random};
use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::client::Client;
use natsbridge_embedded::link::Expected;
use natsbridge_embedded::object_store::{ObjectError, ObjectReads, read_object};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart;
use natsbridge_embedded::{ErrorKind, Message, MessageEnvelope};
use natsbridge_test_support::NatsServer;
use sha2::Digest;
use tokio::net::TcpStream;

const BUCKET: &str = "files";

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// A JetStream server with the objects `id-1/small.txt` (100 B), `id-1/big.bin` (5 MB, 39
/// chunks of 128 KiB) and `id-1/empty` put by async-nats; returns it with the contents.
async fn server_with_objects() -> (NatsServer, async_nats::Client, Vec<u8>, Vec<u8>) {
    let server = NatsServer::builder().jetstream(true).start();
    let owner = async_nats::connect(server.url()).await.unwrap();
    let jetstream = async_nats::jetstream::new(owner.clone());
    let store = jetstream
        .create_object_store(async_nats::jetstream::object_store::Config {
            bucket: BUCKET.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let small = pattern(100);
    let big = pattern(5_000_000);
    store
        .put("id-1/small.txt", &mut small.as_slice())
        .await
        .unwrap();
    store
        .put("id-1/big.bin", &mut big.as_slice())
        .await
        .unwrap();
    store.put("id-1/empty", &mut &b""[..]).await.unwrap();
    (server, owner, small, big)
}

async fn tcp(server: &NatsServer) -> FromTokio<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    FromTokio::new(stream)
}

type Tcp = FromTokio<TcpStream>;
type Outcome = Result<u64, ObjectError<<Tcp as embedded_io_async::ErrorType>::Error>>;

/// The reads of these tests: the `allowed` buckets, objects up to 64 MiB.
fn reads_from<'a>(headers: &'a mut [u8], allowed: &'a [&'a str]) -> ObjectReads<'a> {
    ObjectReads {
        allowed_buckets: allowed,
        max_size: 64 << 20,
        headers,
    }
}

/// A no_std client connected to `server` with the given buffers.
async fn connect<'b>(server: &NatsServer, rx: &'b mut [u8], tx: &'b mut [u8]) -> Client<'b, Tcp> {
    Client::connect(tcp(server).await, rx, tx, &ConnectOptions::new())
        .await
        .unwrap()
}

/// The outcome with its error as text (`std::io::Error` has no `PartialEq`).
fn shown(outcome: Outcome) -> Result<u64, String> {
    outcome.map_err(|e| format!("{:?}: {e}", e.kind()))
}

/// Reads `url` with the given expectations over `client`; the result and what the sink got.
async fn read(
    client: &mut Client<'_, Tcp>,
    url: &str,
    expected: Expected,
    allowed: &[&str],
) -> (Outcome, Collect) {
    let mut headers = [0u8; 256];
    let mut reads = reads_from(&mut headers, allowed);
    let mut sink = Collect::default();
    let outcome = read_object(
        client,
        url,
        expected,
        &mut sink,
        &mut reads,
        pseudo_random(),
    )
    .await;
    (outcome, sink)
}

#[tokio::test]
async fn objects_put_by_async_nats_are_read_and_verified_through_a_small_buffer() {
    let (server, _owner, small, big) = server_with_objects().await;
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 512]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    let cases: [(&str, &[u8]); 3] = [
        ("nats-object-store://files/id-1/small.txt", &small),
        ("nats-object-store://files/id-1/big.bin", &big),
        ("nats-object-store://files/id-1/empty", b""),
    ];
    for (url, data) in cases {
        let expected = Expected {
            size: data.len() as u64,
            sha256: Some(sha256(data)),
        };
        let (outcome, sink) = read(&mut client, url, expected, &[BUCKET]).await;
        assert_eq!(shown(outcome), Ok(data.len() as u64), "{url}");
        assert!(sink.bytes == data, "{url}: the bytes differ");
        // Pieces of the receive buffer, never a whole 128 KiB chunk held.
        assert!(
            sink.largest_piece <= 4096,
            "{url}: a piece of {}",
            sink.largest_piece
        );
    }
    // Without a checksum in the payload the object's own digest is still checked.
    let expected = Expected {
        size: big.len() as u64,
        sha256: None,
    };
    let (outcome, _) = read(&mut client, cases[1].0, expected, &[BUCKET]).await;
    assert_eq!(shown(outcome), Ok(big.len() as u64));
}

#[tokio::test]
async fn refusals_name_the_cause_and_leave_the_connection_usable() {
    let (server, owner, small, _big) = server_with_objects().await;
    let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 512]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    let url = "nats-object-store://files/id-1/small.txt";
    let right = Expected {
        size: small.len() as u64,
        sha256: Some(sha256(&small)),
    };
    let cases: Vec<(&str, Expected, &[&str], ErrorKind)> = vec![
        (url, right, &["other"], ErrorKind::LinkRefused),
        (url, right, &[], ErrorKind::LinkRefused),
        (
            "nats-object-store://files/id-1",
            right,
            &[BUCKET],
            ErrorKind::LinkRefused,
        ),
        (
            "nats-object-store://files/id-1/%zz",
            right,
            &[BUCKET],
            ErrorKind::LinkRefused,
        ),
        (
            url,
            Expected { size: 99, ..right },
            &[BUCKET],
            ErrorKind::SizeMismatch,
        ),
        (
            url,
            Expected {
                sha256: Some([0; 32]),
                ..right
            },
            &[BUCKET],
            ErrorKind::ChecksumMismatch,
        ),
        (
            "nats-object-store://files/id-1/none",
            right,
            &[BUCKET],
            ErrorKind::Download,
        ),
        (
            "nats-object-store://nobucket/id-1/small.txt",
            right,
            &["nobucket"],
            ErrorKind::Download,
        ),
    ];
    for (url, expected, allowed, kind) in cases {
        let (outcome, sink) = read(&mut client, url, expected, allowed).await;
        let error = outcome.expect_err(url);
        assert_eq!(error.kind(), kind, "{url} {expected:?}: {error}");
        if kind != ErrorKind::ChecksumMismatch {
            assert!(
                sink.bytes.is_empty(),
                "{url}: {error}: wrote {} bytes",
                sink.bytes.len()
            );
        }
    }
    assert_eq!(
        shown(read(&mut client, url, right, &[BUCKET]).await.0),
        Ok(100)
    );

    // Object infos tampered with (published straight into the bucket's stream): each refused.
    let jetstream = async_nats::jetstream::new(owner);
    let stored = jetstream.get_object_store(BUCKET).await.unwrap();
    let nuid = stored.info("id-1/small.txt").await.unwrap().nuid;
    let meta = "$O.files.M.aWQtMS9zbWFsbC50eHQ="; // base64url("id-1/small.txt")
    // The real chunk, a digest that is not its SHA-256 (base64url of 32 zero bytes).
    let info = |changes: &str| {
        format!(
            r#"{{"name":"id-1/small.txt","bucket":"files","nuid":"{nuid}","size":100,"chunks":1,"digest":"SHA-256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",{changes}"mtime":"2026-12-06T00:00:00Z"}}"#
        )
    };
    let tampered = [
        (info(r#""deleted":true,"#), ErrorKind::Download),
        (
            info(r#""options":{"link":{"bucket":"secrets","name":"x"}},"#),
            ErrorKind::LinkRefused,
        ),
        (
            info("").replace(r#""size":100"#, r#""size":"100""#),
            ErrorKind::BadValue,
        ),
        (
            info("").replace("id-1/small.txt", "id-1/other"),
            ErrorKind::BadValue,
        ),
        (info("").replace(&nuid, "a.>"), ErrorKind::BadValue),
        (
            info("").replace(r#""chunks":1"#, r#""chunks":101"#),
            ErrorKind::BadValue,
        ),
        (info("").replace("SHA-256=", "MD5="), ErrorKind::BadValue),
        // The bytes are read, then refused: a digest that is not theirs, chunks not there.
        (info(""), ErrorKind::ChecksumMismatch),
        (info("").replace(&nuid, "abc"), ErrorKind::SizeMismatch),
        ("not json".to_owned(), ErrorKind::BadValue),
    ];
    for (body, kind) in tampered {
        jetstream
            .publish(meta, body.clone().into())
            .await
            .unwrap()
            .await
            .unwrap();
        let (outcome, _) = read(&mut client, url, right, &[BUCKET]).await;
        let error = outcome.expect_err(&body);
        assert_eq!(error.kind(), kind, "{body}: {error}");
    }
}

#[tokio::test]
async fn smartreceive_points_object_store_links_to_receive_object() {
    let (server, _owner, small, _big) = server_with_objects().await;
    let body = format!(
        r#"{{"msg_id":"m-1","payloads":[{{"id":"id-1","dataname":"small.txt","type":"binary","transport":"link","encoding":"none","size":100,"data":"nats-object-store://files/id-1/small.txt","metadata":{{"checksum":"sha256:{}"}}}}]}}"#,
        sha256(&small)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let envelope = MessageEnvelope::decode(body.as_bytes()).unwrap();
    let payload = &envelope.payloads[0];
    assert!(smart::is_object_store_link(payload));
    let mut work = [0u8; 512];
    let mut links = smart::Links {
        connector: common::TokioConnector,
        work: &mut work,
        backoff: Default::default(),
        delay: async |_| {},
        random: pseudo_random(),
        allowed_hosts: natsbridge_embedded::link::AllowedHosts::AnyHostTrustingEverySender,
        max_size: 1 << 20,
    };
    let mut sink = Collect::default();
    let error = smart::smartreceive(payload, &mut sink, &mut links)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::LinkRefused, "{error}");
    assert!(error.to_string().contains("receive_object"), "{error}");

    let (mut rx, mut tx) = (vec![0u8; 2048], vec![0u8; 512]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    let mut headers = [0u8; 256];
    let mut reads = reads_from(&mut headers, &[BUCKET]);
    let got =
        smart::receive_object(payload, &mut sink, &mut client, &mut reads, pseudo_random()).await;
    assert_eq!(got.map_err(|e| e.to_string()), Ok(100));
    assert_eq!(sink.bytes, small);
}

/// The read's state, held in its future (on the stack of whoever awaits it, or in an embassy
/// task's static): bounded, whatever the object's size. Printed for the README.
#[tokio::test]
async fn the_read_holds_a_few_kib_of_state() {
    let server = NatsServer::builder().jetstream(true).start();
    let (mut rx, mut tx) = (vec![0u8; 1024], vec![0u8; 512]);
    let mut client = connect(&server, &mut rx, &mut tx).await;
    let mut headers = [0u8; 256];
    let mut reads = reads_from(&mut headers, &[BUCKET]);
    let mut sink = Collect::default();
    let expected = Expected {
        size: 0,
        sha256: None,
    };
    let future = read_object(
        &mut client,
        "nats-object-store://files/id/x",
        expected,
        &mut sink,
        &mut reads,
        pseudo_random(),
    );
    let bytes = std::mem::size_of_val(&future);
    println!("read_object's future: {bytes} bytes (x86_64)");
    assert!(bytes < 4096, "read_object's future grew to {bytes} bytes");
    drop(future);
}
