//! The std client held to every golden through its public send and receive paths: it
//! composes each canonical golden byte for byte from the golden's inputs, decodes every
//! valid golden's payloads to their expected values (link payloads fetched from a real
//! nginx), and refuses every invalid golden with the expected error kind and place.

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use natsbridge::link::{LinkBackend, Upload};
use natsbridge::{
    Data, EnvelopeComposer, Error, Payload, PayloadType, ReceiveOptions, SendOptions,
};
use natsbridge_test_support::Nginx;
use natsbridge_tests::golden::{self, Golden};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hands out the golden's own URL for each payload id, checking the upload's size and
/// checksum on the way.
struct GoldenUrls(HashMap<String, (String, u64, String)>);

impl LinkBackend for GoldenUrls {
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let (url, size, checksum) = self
                .0
                .get(&upload.payload_id)
                .expect("a golden link payload");
            assert_eq!(
                (
                    upload.size,
                    format!(
                        "sha256:{}",
                        upload.sha256.as_deref().unwrap_or("(not given)")
                    )
                ),
                (*size, checksum.clone())
            );
            Ok(url.clone())
        })
    }
}

/// The bytes behind a golden link: a file of `files/`, or the generated content of
/// `golden::generated_link_content`.
fn link_bytes(checksum: &str, size: u64) -> Vec<u8> {
    let bytes = match golden::linked_file(checksum) {
        Some(path) => std::fs::read(path).unwrap(),
        None => golden::generated_link_content(size as usize),
    };
    assert_eq!(
        format!("sha256:{}", hex(&bytes)),
        checksum,
        "no bytes for this link"
    );
    bytes
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_owned()
}

/// The payload a caller would have passed, rebuilt from the golden: dictionaries from their
/// JSON value (so the SDK's canonical writer is checked), the rest from the serialized bytes.
fn caller_payload(g: &Golden, index: usize, expected: &Value) -> Payload {
    let sent: Value = serde_json::from_slice(&g.message).unwrap();
    let wire = &sent["payloads"][index];
    let dataname = text(expected, "dataname");
    let payload_type = PayloadType::parse(&text(expected, "payload_type")).unwrap();
    let bytes = match (text(expected, "transport").as_str(), &expected["value"]) {
        ("link", value) => link_bytes(
            value["link"]["checksum"].as_str().unwrap(),
            expected["size"].as_u64().unwrap(),
        ),
        (_, value) if value.get("json").is_some() => {
            return Payload::dictionary(dataname, &value["json"])
                .unwrap()
                .with_id(text(expected, "id"));
        }
        _ => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(wire["data"].as_str().unwrap())
                .unwrap()
        }
    };
    let mut payload = Payload::new(dataname, payload_type, bytes).with_id(text(expected, "id"));
    for (key, value) in wire["metadata"].as_object().unwrap() {
        if key != "checksum" {
            payload = payload.with_metadata(key.clone(), value.clone());
        }
    }
    payload
}

#[tokio::test]
async fn canonical_goldens_are_composed_byte_for_byte() {
    for g in golden::group("canonical") {
        let envelope = g.expected_envelope();
        let expected = g.expected_payloads();
        let mut links = HashMap::new();
        let (mut smallest_link, mut largest_direct) = (u64::MAX, 0);
        for p in expected {
            let size = p["size"].as_u64().unwrap();
            if p["transport"] == "link" {
                smallest_link = smallest_link.min(size);
                let link = &p["value"]["link"];
                links.insert(
                    text(p, "id"),
                    (text(link, "url"), size, text(link, "checksum")),
                );
            } else {
                largest_direct = largest_direct.max(size + 1);
            }
        }
        let threshold = if smallest_link == u64::MAX {
            largest_direct.max(1_000_000)
        } else {
            smallest_link
        };
        assert!(
            largest_direct <= threshold,
            "{}: no size threshold separates its transports",
            g.id()
        );

        let mut options = SendOptions::new()
            .correlation_id(text(envelope, "correlation_id"))
            .msg_id(text(envelope, "msg_id"))
            .timestamp(text(envelope, "timestamp"))
            .msg_purpose(text(envelope, "msg_purpose"))
            .sender_name(text(envelope, "sender_name"))
            .receiver_name(text(envelope, "receiver_name"))
            .receiver_id(text(envelope, "receiver_id"))
            .reply_to(text(envelope, "reply_to"))
            .reply_to_msg_id(text(envelope, "reply_to_msg_id"))
            .size_threshold(threshold);
        options = options.metadata_map(envelope["metadata"].as_object().unwrap().clone());
        let payloads = expected
            .iter()
            .enumerate()
            .map(|(i, p)| caller_payload(&g, i, p))
            .collect();
        let backend = GoldenUrls(links);
        let sent =
            EnvelopeComposer::new(&text(envelope, "broker_url"), &text(envelope, "sender_id"))
                .link_backend(Some(&backend))
                .compose(&text(envelope, "send_to"), payloads, &options)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", g.id()));
        assert_eq!(
            String::from_utf8_lossy(&sent.to_json_vec()),
            String::from_utf8_lossy(&g.message),
            "{}",
            g.id()
        );
    }
}

/// The `value` form of `.expect.json` for a received payload.
fn value_form(data: &Data) -> Value {
    match data {
        Data::Text(text) => json!({ "text": text }),
        Data::Json(value) => json!({ "json": value }),
        Data::Bytes(bytes) => json!({ "bytes": { "len": bytes.len(), "sha256": hex(bytes) } }),
    }
}

/// Puts every linked file of the goldens on nginx under its URL's path and points the
/// message's links there.
fn serve_links(nginx: &Nginx, g: &Golden) -> Vec<u8> {
    let mut message: Value = serde_json::from_slice(&g.message).unwrap();
    for p in message["payloads"].as_array_mut().into_iter().flatten() {
        if p["transport"] != "link" {
            continue;
        }
        let url = p["data"].as_str().unwrap().to_owned();
        let path = url.splitn(4, '/').nth(3).unwrap().to_owned();
        let bytes = link_bytes(
            p["metadata"]["checksum"].as_str().unwrap(),
            p["size"].as_u64().unwrap(),
        );
        let target = nginx.root().join(&path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
        p["data"] = format!("{}/{path}", nginx.url()).into();
    }
    serde_json::to_vec(&message).unwrap()
}

#[tokio::test]
async fn valid_goldens_decode_to_their_expected_values_with_links_fetched() {
    let nginx = Nginx::start();
    let mut checked = 0;
    for g in golden::all()
        .into_iter()
        .filter(Golden::decodes_outside_embedded)
    {
        let has_links = g
            .expected_payloads()
            .iter()
            .any(|p| p["transport"] == "link");
        let body = if has_links {
            serve_links(&nginx, &g)
        } else {
            g.message.clone()
        };
        let options = ReceiveOptions::default().fileserver_url(&nginx.url());
        let received = natsbridge::smartreceive(&body, &options)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", g.id()));
        assert_eq!(
            received.payloads.len(),
            g.expected_payloads().len(),
            "{}",
            g.id()
        );
        for (got, want) in received.payloads.iter().zip(g.expected_payloads()) {
            assert_eq!(got.dataname, text(want, "dataname"), "{}", g.id());
            assert_eq!(
                got.payload_type.as_str(),
                text(want, "payload_type"),
                "{}",
                g.id()
            );
            let value = value_form(&got.data);
            match want["value"].get("link") {
                Some(link) => {
                    let checksum = link["checksum"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches("sha256:");
                    let bytes = match &got.data {
                        Data::Text(t) => t.as_bytes().to_vec(),
                        Data::Json(_) => panic!("{}: a JSON link golden", g.id()),
                        Data::Bytes(b) => b.to_vec(),
                    };
                    assert_eq!(hex(&bytes), checksum, "{}", g.id());
                    assert_eq!(
                        bytes.len() as u64,
                        want["size"].as_u64().unwrap(),
                        "{}",
                        g.id()
                    );
                }
                None => assert_eq!(value, want["value"], "{}", g.id()),
            }
        }
        checked += 1;
    }
    assert!(checked >= 33, "only {checked} valid goldens");
}

#[tokio::test]
async fn invalid_goldens_are_refused_with_their_kind_and_place() {
    let mut checked = 0;
    for g in golden::group("invalid")
        .into_iter()
        .filter(|g| !g.decodes_outside_embedded())
    {
        let error = natsbridge::smartreceive(&g.message, &ReceiveOptions::default())
            .await
            .map(|_| ())
            .expect_err(&g.id());
        let want = g.error().unwrap();
        assert_eq!(error.kind().as_str(), want["kind"], "{}: {error}", g.id());
        assert_eq!(error.at(), want["at"], "{}: {error}", g.id());
        checked += 1;
    }
    assert!(
        checked >= 15,
        "only {checked} invalid goldens refused by every SDK"
    );
}
