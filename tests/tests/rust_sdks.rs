//! The generated envelope codecs of both Rust SDKs held to every golden message: canonical
//! ones decode and re-encode byte for byte, accepted ones decode to their expected form, and
//! invalid ones are refused with the expected error kind at the expected place.
//!
//! Payload data (base64, size, checksum) is decoded by the SDKs' runtimes, not by the
//! generated envelope codecs; those goldens (`bad_base64`, `size_mismatch`) must decode here.

use natsbridge_embedded::Message as _;
use natsbridge_tests::golden::{self, Golden};
use serde_json::{Value, json};

/// Error kinds found by the generated envelope decoders (the rest belong to payload decoding).
const ENVELOPE_KINDS: &[&str] = &[
    "not_json",
    "not_object",
    "missing_key",
    "wrong_type",
    "bad_value",
    "over_capacity",
];

/// The expected envelope and payload headers of a golden (payload `value` left out).
fn expected_form(g: &Golden) -> Value {
    let payloads: Vec<Value> = g
        .expected_payloads()
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.as_object_mut().expect("a payload object").remove("value");
            p
        })
        .collect();
    json!({ "envelope": g.expected_envelope(), "payloads": payloads })
}

fn std_form(e: &natsbridge::MessageEnvelope) -> Value {
    let payloads: Vec<Value> = e
        .payloads
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "dataname": p.dataname, "payload_type": p.payload_type.as_str(),
                "transport": p.transport.as_str(), "encoding": p.encoding.as_str(),
                "size": p.size, "metadata": p.metadata,
            })
        })
        .collect();
    json!({
        "envelope": {
            "correlation_id": e.correlation_id, "msg_id": e.msg_id, "timestamp": e.timestamp,
            "send_to": e.send_to, "msg_purpose": e.msg_purpose, "sender_name": e.sender_name,
            "sender_id": e.sender_id, "receiver_name": e.receiver_name,
            "receiver_id": e.receiver_id, "reply_to": e.reply_to,
            "reply_to_msg_id": e.reply_to_msg_id, "broker_url": e.broker_url,
            "metadata": e.metadata,
        },
        "payloads": payloads,
    })
}

fn embedded_form(e: &natsbridge_embedded::MessageEnvelope) -> Value {
    let object = |text: &str| -> Value {
        serde_json::from_str(text).expect("the no_std SDK keeps metadata as valid JSON")
    };
    let payloads: Vec<Value> = e
        .payloads
        .iter()
        .map(|p| {
            json!({
                "id": p.id.as_str(), "dataname": p.dataname.as_str(),
                "payload_type": p.payload_type.as_str(), "transport": p.transport.as_str(),
                "encoding": p.encoding.as_str(), "size": p.size,
                "metadata": object(p.metadata.as_str()),
            })
        })
        .collect();
    json!({
        "envelope": {
            "correlation_id": e.correlation_id.as_str(), "msg_id": e.msg_id.as_str(),
            "timestamp": e.timestamp.as_str(), "send_to": e.send_to.as_str(),
            "msg_purpose": e.msg_purpose.as_str(), "sender_name": e.sender_name.as_str(),
            "sender_id": e.sender_id.as_str(), "receiver_name": e.receiver_name.as_str(),
            "receiver_id": e.receiver_id.as_str(), "reply_to": e.reply_to.as_str(),
            "reply_to_msg_id": e.reply_to_msg_id.as_str(), "broker_url": e.broker_url.as_str(),
            "metadata": object(e.metadata.as_str()),
        },
        "payloads": payloads,
    })
}

/// What an SDK must do with a golden.
enum Expect<'a> {
    Decode,
    Refuse { kind: &'a str, at: &'a str },
}

fn expectation(g: &Golden, embedded: bool) -> Expect<'_> {
    match g.error() {
        None => Expect::Decode,
        Some(e) => {
            let kind = e["kind"].as_str().expect("an error kind");
            let only_embedded = e["sdks"].as_str() == Some("embedded");
            if !ENVELOPE_KINDS.contains(&kind) || (only_embedded && !embedded) {
                Expect::Decode
            } else {
                Expect::Refuse {
                    kind,
                    at: e["at"].as_str().expect("an error place"),
                }
            }
        }
    }
}

/// Runs `check` on every golden and fails once, listing every golden that failed.
fn for_every_golden(sdk: &str, check: impl Fn(&Golden) -> Result<(), String>) {
    let goldens = golden::all();
    assert!(
        goldens.len() >= 25,
        "expected at least 25 goldens, found {}",
        goldens.len()
    );
    let failures: Vec<String> = goldens
        .iter()
        .filter_map(|g| check(g).err().map(|e| format!("{}: {e}", g.id())))
        .collect();
    assert!(
        failures.is_empty(),
        "{sdk}: {} golden(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn std_sdk_meets_every_golden() {
    for_every_golden("natsbridge (std)", |g| {
        let decoded = natsbridge::MessageEnvelope::from_json(&g.message);
        match (expectation(g, false), decoded) {
            (Expect::Decode, Ok(envelope)) => {
                if g.group != "invalid" && std_form(&envelope) != expected_form(g) {
                    return Err(format!(
                        "decoded form differs\n  got:      {}\n  expected: {}",
                        std_form(&envelope),
                        expected_form(g)
                    ));
                }
                if g.group == "canonical" && envelope.to_json_vec() != g.message {
                    return Err(format!(
                        "re-encoding differs\n  got:      {}\n  expected: {}",
                        envelope.to_json(),
                        String::from_utf8_lossy(&g.message)
                    ));
                }
                Ok(())
            }
            (Expect::Decode, Err(e)) => Err(format!("refused: {e}")),
            (Expect::Refuse { kind, at }, Err(e)) if e.kind().as_str() == kind && e.at() == at => {
                Ok(())
            }
            (Expect::Refuse { kind, at }, Err(e)) => Err(format!(
                "expected {kind} at {at:?}, got {} at {:?} ({e})",
                e.kind(),
                e.at()
            )),
            (Expect::Refuse { kind, at }, Ok(_)) => {
                Err(format!("accepted; expected {kind} at {at:?}"))
            }
        }
    });
}

#[test]
fn std_serde_deserialize_agrees_with_the_decoder() {
    // serde::Deserialize of the generated types must give what from_json gives on every
    // message it accepts (it is built on the same decoder, so serde users meet no surprises).
    for_every_golden("natsbridge (serde Deserialize)", |g| {
        let Ok(decoded) = natsbridge::MessageEnvelope::from_json(&g.message) else {
            return Ok(());
        };
        match serde_json::from_slice::<natsbridge::MessageEnvelope>(&g.message) {
            Ok(derived) if derived == decoded => Ok(()),
            Ok(derived) => Err(format!("serde gives {derived:?}, the decoder {decoded:?}")),
            Err(e) => Err(format!("serde refuses what the decoder accepts: {e}")),
        }
    });
}

#[test]
fn embedded_sdk_meets_every_golden() {
    for_every_golden("natsbridge-embedded (no_std)", |g| {
        let decoded = natsbridge_embedded::MessageEnvelope::decode(&g.message);
        match (expectation(g, true), decoded) {
            (Expect::Decode, Ok(envelope)) => {
                if g.group != "invalid" && embedded_form(&envelope) != expected_form(g) {
                    return Err(format!(
                        "decoded form differs\n  got:      {}\n  expected: {}",
                        embedded_form(&envelope),
                        expected_form(g)
                    ));
                }
                if g.group == "canonical" {
                    let mut buf = vec![0u8; natsbridge_embedded::MessageEnvelope::MAX_ENCODED_LEN];
                    let written = envelope
                        .encode(&mut buf)
                        .map_err(|e| format!("encode: {e:?}"))?;
                    if written != g.message.as_slice() {
                        return Err(format!(
                            "re-encoding differs\n  got:      {}\n  expected: {}",
                            String::from_utf8_lossy(written),
                            String::from_utf8_lossy(&g.message)
                        ));
                    }
                }
                Ok(())
            }
            (Expect::Decode, Err(e)) => Err(format!("refused: {e}")),
            (Expect::Refuse { kind, at }, Err(e))
                if e.kind.as_str() == kind && e.at.to_string() == at =>
            {
                Ok(())
            }
            (Expect::Refuse { kind, at }, Err(e)) => Err(format!(
                "expected {kind} at {at:?}, got {} at {:?} ({e})",
                e.kind.as_str(),
                e.at.to_string()
            )),
            (Expect::Refuse { kind, at }, Ok(_)) => {
                Err(format!("accepted; expected {kind} at {at:?}"))
            }
        }
    });
}

#[test]
fn embedded_encoder_reports_a_full_buffer_and_never_overflows() {
    let canonical = golden::group("canonical");
    let g = canonical
        .iter()
        .max_by_key(|g| g.message.len())
        .expect("canonical goldens exist");
    let envelope = natsbridge_embedded::MessageEnvelope::decode(&g.message).expect("decodes");
    for size in 0..g.message.len() {
        let mut buf = vec![0u8; size];
        assert!(
            envelope.encode(&mut buf).is_err(),
            "{}: {size} bytes cannot hold it",
            g.id()
        );
    }
    let mut buf = vec![0u8; g.message.len()];
    assert_eq!(
        envelope.encode(&mut buf).expect("exactly enough room"),
        g.message.as_slice()
    );
}

#[test]
fn every_envelope_error_kind_is_exercised_by_a_golden() {
    let kinds: Vec<String> = golden::all()
        .iter()
        .filter_map(|g| g.error_kind().map(str::to_string))
        .collect();
    for kind in ENVELOPE_KINDS {
        assert!(kinds.iter().any(|k| k == kind), "no golden expects {kind}");
    }
}

/// The expected form of a golden in the shape of `embedded_view::view_form` (payload `data`
/// left out, as the goldens give the decoded value instead).
fn without_data(mut form: Value) -> Value {
    for p in form["payloads"].as_array_mut().expect("payloads") {
        p.as_object_mut().expect("a payload").remove("data");
    }
    form
}

#[test]
fn embedded_view_decodes_every_golden_as_the_owned_decoder_does() {
    use natsbridge_embedded::MessageView as _;
    use natsbridge_tests::embedded_view::{is_copy_capacity_error, owned_form, view_form};
    let accepted_over_capacity = std::cell::Cell::new(0);
    for_every_golden("natsbridge-embedded borrowed view", |g| {
        let owned = natsbridge_embedded::MessageEnvelope::decode(&g.message);
        let view = natsbridge_embedded::MessageEnvelopeView::decode(&g.message);
        match (owned, view) {
            (Ok(o), Ok(v)) if owned_form(&o) == view_form(&v) => Ok(()),
            (Ok(o), Ok(v)) => Err(format!(
                "decoded form differs\n  view:  {}\n  owned: {}",
                view_form(&v),
                owned_form(&o)
            )),
            // The view copies no string, so it has no string capacity: it must decode the
            // message in full, as the SDKs without capacities do.
            (Err(o), Ok(v)) if is_copy_capacity_error(&o) => {
                if without_data(view_form(&v)) != expected_form(g) {
                    return Err(format!(
                        "over the owned capacity ({o}); the view decoded\n  {}\n  expected: {}",
                        view_form(&v),
                        expected_form(g)
                    ));
                }
                accepted_over_capacity.set(accepted_over_capacity.get() + 1);
                Ok(())
            }
            (Err(o), Err(v)) if o.kind == v.kind && o.at == v.at => Ok(()),
            (o, v) => Err(format!(
                "owned: {}; view: {}",
                o.map_or_else(|e| e.to_string(), |_| "decoded".into()),
                v.map_or_else(|e| e.to_string(), |_| "decoded".into())
            )),
        }
    });
    // `dataname_over_capacity`: 130 bytes in a 128-byte owned field.
    assert!(
        accepted_over_capacity.get() >= 1,
        "no golden exercised the view's lack of string capacity"
    );
}
