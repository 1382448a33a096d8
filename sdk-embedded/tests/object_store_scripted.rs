//! Object Store reads against a scripted server, for what a real one will not send on demand:
//! answers to another request, and 3,000 seeded mutations of a whole exchange (info and
//! chunks, streamed past a small receive buffer), each ending in the exact object or an
//! error: never a panic, never more than `size` bytes to the sink, never unverified bytes
//! reported as read. (`object_store_nats_server.rs` reads from a real JetStream server.)

mod common;

use base64::Engine;
use common::{Collect, Scripted, pseudo_random};
use natsbridge_embedded::client::Client;
use natsbridge_embedded::link::Expected;
use natsbridge_embedded::object_store::{ObjectReads, read_object};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::uuid_v4;
use sha2::Digest;

const INFO: &[u8] =
    b"INFO {\"server_id\":\"s\",\"max_payload\":1048576,\"headers\":true}\r\nPONG\r\n";
const URL: &str = "nats-object-store://b/id/x.bin";
const CHUNK: usize = 1000;

fn object() -> Vec<u8> {
    (0..3 * CHUNK).map(|i| (i * 7 % 251) as u8).collect()
}

/// The reply subject of request `token` of a read whose inbox comes from `pseudo_random()`.
fn reply(token: usize) -> String {
    let uuid: String = uuid_v4(pseudo_random())
        .chars()
        .filter(|&c| c != '-')
        .collect();
    format!("_INBOX.{uuid}.{token}")
}

fn hmsg(subject: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let total = headers.len() + body.len();
    let mut out = format!("HMSG {subject} 1 {} {total}\r\n{headers}", headers.len()).into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
    out
}

/// What the server sends for one read of [`URL`]: the handshake, the object's info, its
/// three chunks; `stale` puts an answer to another request of the read before the info.
fn exchange(data: &[u8], stale: bool) -> Vec<u8> {
    let digest = base64::engine::general_purpose::URL_SAFE.encode(sha2::Sha256::digest(data));
    let info = format!(
        r#"{{"name":"id/x.bin","bucket":"b","nuid":"N1","size":{},"chunks":3,"digest":"SHA-256={digest}","mtime":"2026-12-06T00:00:00Z","options":{{"max_chunk_size":{CHUNK}}}}}"#,
        data.len()
    );
    let mut out = INFO.to_vec();
    let stored = "NATS/1.0\r\nNats-Stream: OBJ_b\r\nNats-Sequence: 9\r\n\r\n";
    if stale {
        out.extend(hmsg(&reply(7), stored, b"a stale answer"));
    }
    out.extend(hmsg(&reply(0), stored, info.as_bytes()));
    for (i, chunk) in data.chunks(CHUNK).enumerate() {
        let headers = format!(
            "NATS/1.0\r\nNats-Stream: OBJ_b\r\nNats-Sequence: {}\r\n\r\n",
            i + 2
        );
        out.extend(hmsg(&reply(i + 1), &headers, chunk));
    }
    out
}

/// Reads [`URL`] from a server that sends `stream`, in reads of `piece` bytes, into a receive
/// buffer of `rx_len` bytes (it must hold the info message, about 500 bytes here; the
/// 1,000-byte chunks stream past it when it is smaller).
async fn read(
    stream: &[u8],
    rx_len: usize,
    piece: usize,
    data: &[u8],
) -> (Result<u64, String>, Collect) {
    let (mut rx, mut tx) = (vec![0u8; rx_len], vec![0u8; 512]);
    let mut sink = Collect::default();
    let Ok(mut client) = Client::connect(
        Scripted::new(stream, piece),
        &mut rx,
        &mut tx,
        &ConnectOptions::new(),
    )
    .await
    else {
        return (Err("handshake".into()), sink);
    };
    let mut headers = [0u8; 128];
    let mut reads = ObjectReads {
        allowed_buckets: &["b"],
        max_size: 1 << 20,
        headers: &mut headers,
    };
    let expected = Expected {
        size: data.len() as u64,
        sha256: Some(sha2::Sha256::digest(data).into()),
    };
    let outcome = read_object(
        &mut client,
        URL,
        expected,
        &mut sink,
        &mut reads,
        pseudo_random(),
    )
    .await;
    (outcome.map_err(|e| format!("{:?}: {e}", e.kind())), sink)
}

#[tokio::test]
async fn a_scripted_exchange_reads_the_object_and_skips_stale_answers() {
    let data = object();
    for stale in [false, true] {
        for (rx_len, piece) in [(700, 1), (700, 7), (900, 100), (4096, 4096)] {
            let (outcome, sink) = read(&exchange(&data, stale), rx_len, piece, &data).await;
            assert_eq!(
                outcome,
                Ok(data.len() as u64),
                "rx {rx_len}, reads of {piece}, stale {stale}"
            );
            assert!(sink.bytes == data);
        }
    }
    // A receive buffer too small for the info: a clear error, nothing written.
    let (outcome, sink) = read(&exchange(&data, false), 300, 64, &data).await;
    assert!(
        outcome
            .as_ref()
            .is_err_and(|e| e.starts_with("OverCapacity")),
        "{outcome:?}"
    );
    assert!(sink.bytes.is_empty());
}

#[tokio::test]
async fn mutated_exchanges_end_in_the_object_or_an_error_never_a_panic() {
    let data = object();
    let stream = exchange(&data, false);
    let mut random = common::below(0x5eed_0b57);
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..3_000 {
        let mut mutated = stream.clone();
        common::mutate(&mut mutated, 3, true, &mut random);
        let (outcome, sink) = read(&mutated, 700 + random(400), 1 + random(64), &data).await;
        assert!(
            sink.bytes.len() <= data.len(),
            "{} bytes to the sink",
            sink.bytes.len()
        );
        match outcome {
            Ok(n) => {
                assert_eq!(n, data.len() as u64);
                assert!(
                    sink.bytes == data,
                    "a read reported success with other bytes"
                );
                ok += 1;
            }
            Err(_) => failed += 1,
        }
    }
    // Most edits break the exchange; some land where they change nothing that is checked.
    assert!(failed > 2_000, "{ok} reads succeeded, {failed} failed");
}
