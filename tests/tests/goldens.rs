//! The goldens of `tests/golden/` are consistent with themselves, the schema and WIRE.md:
//!
//! * the reference receiver decodes each message to its `.expect.json` (or its error);
//! * JSON Schema validation of the normalised message fails exactly at `schema_violations`;
//! * canonical goldens are the canonical bytes of their expected form;
//! * the golden set is complete (pairs, groups, error kinds, link files).
//!
//! Every failure names its golden (`group/name`).

use std::collections::BTreeSet;

use natsbridge_tests::golden::{self, Golden};
use natsbridge_tests::reference::{self, DecodeError, Schema};
use serde_json::{Value, json};

/// Envelope keys in the order of WIRE.md section 2.
const WIRE_ENVELOPE_ORDER: [&str; 14] = [
    "correlation_id",
    "msg_id",
    "timestamp",
    "send_to",
    "msg_purpose",
    "sender_name",
    "sender_id",
    "receiver_name",
    "receiver_id",
    "reply_to",
    "reply_to_msg_id",
    "broker_url",
    "metadata",
    "payloads",
];

/// Payload keys in the order of WIRE.md section 3.
const WIRE_PAYLOAD_ORDER: [&str; 8] = [
    "id",
    "dataname",
    "payload_type",
    "transport",
    "encoding",
    "size",
    "data",
    "metadata",
];

/// WIRE.md section 5: the default size threshold.
const SIZE_THRESHOLD: u64 = 1_000_000;

/// Runs `check` on every golden and fails once, naming each golden that failed.
fn check_each(what: &str, goldens: &[Golden], check: impl Fn(&Golden) -> Result<(), String>) {
    let failures: Vec<String> = goldens
        .iter()
        .filter_map(|g| check(g).err().map(|e| format!("  {}: {e}", g.id())))
        .collect();
    assert!(
        failures.is_empty(),
        "{what}: {} golden(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn error_of(g: &Golden) -> Option<DecodeError> {
    g.error().map(|e| DecodeError {
        kind: e["kind"].as_str().unwrap_or("").to_owned(),
        at: e["at"].as_str().unwrap_or("").to_owned(),
    })
}

fn show(v: &Value) -> String {
    reference::canonical_json(v)
}

fn compare_decoded(g: &Golden, d: &reference::Decoded) -> Result<(), String> {
    if &d.envelope != g.expected_envelope() {
        return Err(format!(
            "envelope differs:\n    decoded {}\n    expected {}",
            show(&d.envelope),
            show(g.expected_envelope())
        ));
    }
    let expected = g.expected_payloads();
    if d.payloads.len() != expected.len() || g.expect["payloads"].as_array().is_none() {
        return Err(format!(
            "{} payloads decoded, {} expected",
            d.payloads.len(),
            expected.len()
        ));
    }
    for (i, (got, want)) in d.payloads.iter().zip(expected).enumerate() {
        if got != want {
            return Err(format!(
                "payload {i} differs:\n    decoded {}\n    expected {}",
                show(got),
                show(want)
            ));
        }
    }
    Ok(())
}

/// (a) The reference receiver gives exactly the expected form or error.
#[test]
fn reference_decoder_matches_expect() {
    let schema = Schema::load();
    check_each("reference decoder", &golden::all(), |g| {
        let decoded = reference::decode(&schema, &g.message);
        let sdks = g.error().map(|e| e["sdks"].as_str().unwrap_or(""));
        match (sdks, decoded) {
            (None, Ok(d)) => {
                compare_decoded(g, &d)?;
                match reference::capacity_error(&schema, &d) {
                    None => Ok(()),
                    Some(e) => Err(format!("the no_std SDK would refuse it: {e}")),
                }
            }
            (Some("embedded"), Ok(d)) => {
                compare_decoded(g, &d)?;
                let want = error_of(g);
                let got = reference::capacity_error(&schema, &d);
                if got == want {
                    Ok(())
                } else {
                    Err(format!("capacity error {got:?}, expected {want:?}"))
                }
            }
            (Some("all"), Err(e)) => {
                let want = error_of(g).unwrap();
                if e != want {
                    return Err(format!("error {e}, expected {want}"));
                }
                if !g.expect["envelope"].is_null() || !g.expect["payloads"].is_null() {
                    return Err("refused by all SDKs but envelope/payloads not null".into());
                }
                Ok(())
            }
            (Some("all"), Ok(_)) => Err("decoded, but every SDK must refuse it".into()),
            (Some(other), _) => Err(format!("bad error.sdks {other:?}")),
            (None, Err(e)) => Err(format!("refused ({e}), expected to decode")),
        }
    });
}

/// (b) JSON Schema validation reports errors exactly at `schema_violations`.
#[test]
fn schema_violations_match() {
    let schema = Schema::load();
    let validator =
        jsonschema::draft202012::new(&schema.json).expect("the schema compiles (draft 2020-12)");
    check_each("schema validation", &golden::all(), |g| {
        let normalised = reference::normalise(&schema, &g.message);
        match (g.expect.get("schema_violations"), normalised) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err("the message is JSON but schema_violations is absent".into()),
            (Some(_), None) => Err("the message is not JSON but has schema_violations".into()),
            (Some(want), Some(instance)) => {
                let want: BTreeSet<String> = want
                    .as_array()
                    .ok_or("schema_violations is not an array")?
                    .iter()
                    .map(|p| p.as_str().map(str::to_owned).ok_or("not a string pointer"))
                    .collect::<Result<_, _>>()?;
                let errors: Vec<_> = validator.iter_errors(&instance).collect();
                let got: BTreeSet<String> = errors
                    .iter()
                    .map(|e| e.instance_path.as_str().to_owned())
                    .collect();
                if got == want {
                    Ok(())
                } else {
                    let details: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{:?}: {e}", e.instance_path.as_str()))
                        .collect();
                    Err(format!(
                        "violations at {got:?}, expected {want:?} ({})",
                        details.join("; ")
                    ))
                }
            }
        }
    });
}

/// The wire object of an expected payload, with `data` rebuilt from its value.
fn wire_payload(expected: &Value, bytes: Option<&Vec<u8>>) -> Result<Value, String> {
    let mut p = expected
        .as_object()
        .ok_or("payload is not an object")?
        .clone();
    let value = p.remove("value").ok_or("payload without value")?;
    let data = if let Some(t) = value.get("text").and_then(Value::as_str) {
        reference::base64(t.as_bytes())
    } else if let Some(j) = value.get("json") {
        reference::base64(reference::canonical_json(j).as_bytes())
    } else if let Some(url) = value.pointer("/link/url").and_then(Value::as_str) {
        url.to_owned()
    } else if value.get("bytes").is_some() {
        // The expected form keeps only length and SHA-256; the reference decoder has
        // checked the message's bytes against them.
        reference::base64(bytes.ok_or("bytes value without direct data")?)
    } else {
        return Err(format!("unknown value form {}", show(&value)));
    };
    p.insert("data".into(), Value::String(data));
    Ok(Value::Object(p))
}

/// (c) Canonical goldens are the canonical re-serialisation of their expected form.
#[test]
fn canonical_goldens_are_canonical_bytes() {
    let schema = Schema::load();
    check_each("canonical bytes", &golden::group("canonical"), |g| {
        let d = reference::decode(&schema, &g.message).map_err(|e| format!("refused: {e}"))?;
        let payloads = g
            .expected_payloads()
            .iter()
            .enumerate()
            .map(|(i, p)| wire_payload(p, d.payload_bytes.get(i).and_then(Option::as_ref)))
            .collect::<Result<Vec<_>, _>>()?;
        let bytes = reference::canonical_message(&schema, g.expected_envelope(), &payloads)?;
        if bytes.as_bytes() == g.message.as_slice() {
            Ok(())
        } else {
            let msg = String::from_utf8_lossy(&g.message);
            let at = bytes
                .bytes()
                .zip(msg.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(bytes.len().min(msg.len()));
            Err(format!(
                "not canonical; first difference at byte {at}:\n    canonical {:?}\n    message   {:?}",
                &bytes[at.saturating_sub(20)..(at + 40).min(bytes.len())],
                String::from_utf8_lossy(
                    &g.message[at.saturating_sub(20)..(at + 40).min(g.message.len())]
                )
            ))
        }
    });
}

/// Canonical goldens follow the sender rules of WIRE.md sections 3, 5 and 6.
#[test]
fn canonical_goldens_follow_sender_rules() {
    check_each("sender rules", &golden::group("canonical"), |g| {
        for (i, p) in g.expected_payloads().iter().enumerate() {
            let size = p["size"].as_u64().ok_or("size is not an integer")?;
            let (transport, encoding) = (p["transport"].as_str(), p["encoding"].as_str());
            // Small links are fine (a sender may lower size_threshold); large direct
            // payloads are not (the default threshold, and max_payload).
            let ok = match (transport, encoding) {
                (Some("link"), Some("none")) => true,
                (Some("direct"), Some("base64")) => size < SIZE_THRESHOLD,
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "payload {i}: size {size} sent as {transport:?}/{encoding:?}"
                ));
            }
            if transport == Some("link") {
                let checksum = p["metadata"]["checksum"].as_str().unwrap_or("");
                let hex = checksum.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(format!("payload {i}: link checksum {checksum:?}"));
                }
            }
            let ptype = p["payload_type"].as_str().unwrap_or("");
            let sendable = [
                "text",
                "dictionary",
                "table",
                "image",
                "audio",
                "video",
                "binary",
            ];
            if !sendable.contains(&ptype) {
                return Err(format!("payload {i}: a sender never sends type {ptype:?}"));
            }
        }
        Ok(())
    });
}

/// Link payloads: the stored bytes in `files/` (or the generated content of the large
/// link) have the payload's size and checksum; every stored file is used.
#[test]
fn link_files_match_their_checksums() {
    let goldens = golden::all();
    let mut used = BTreeSet::new();
    check_each("link files", &goldens, |g| {
        for (i, p) in g.expected_payloads().iter().enumerate() {
            let Some(link) = p["value"].get("link") else {
                continue;
            };
            let checksum = link["checksum"].as_str().ok_or("link without checksum")?;
            if p["metadata"]["checksum"].as_str() != Some(checksum) {
                return Err(format!("payload {i}: value checksum differs from metadata"));
            }
            let size = p["size"].as_u64().ok_or("size is not an integer")? as usize;
            let bytes = match golden::linked_file(checksum) {
                Some(path) => std::fs::read(&path).map_err(|e| e.to_string())?,
                None => golden::generated_link_content(size),
            };
            if bytes.len() != size
                || format!("sha256:{}", reference::sha256_hex(&bytes)) != checksum
            {
                return Err(format!(
                    "payload {i}: neither files/ nor the generated content match size {size} \
                     and {checksum}"
                ));
            }
        }
        Ok(())
    });
    for g in &goldens {
        for p in g.expected_payloads() {
            if let Some(c) = p["value"]["link"]["checksum"].as_str() {
                used.insert(format!("{}.bin", c.trim_start_matches("sha256:")));
            }
        }
    }
    let unused: Vec<String> = std::fs::read_dir(golden::files_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !used.contains(n))
                .collect()
        })
        .unwrap_or_default();
    assert!(unused.is_empty(), "files/ holds unused files: {unused:?}");
}

/// The error kinds of the README's "Error kinds" table.
fn readme_error_kinds() -> Vec<String> {
    let readme = std::fs::read_to_string(golden::readme_path()).expect("README.md");
    let section = readme
        .split("## Error kinds")
        .nth(1)
        .expect("README has an 'Error kinds' section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// (d) The golden set is complete and every `.expect.json` has the README's shape.
#[test]
fn golden_set_is_complete() {
    let goldens = golden::all();
    assert!(
        goldens.len() >= 25,
        "only {} goldens (need at least 25)",
        goldens.len()
    );
    for group in golden::GROUPS {
        assert!(
            goldens.iter().any(|g| g.group == group),
            "group {group}/ is empty"
        );
    }
    let orphans = golden::orphans();
    assert!(
        orphans.is_empty(),
        "incomplete pairs or stray files: {orphans:?}"
    );

    let kinds = readme_error_kinds();
    assert!(kinds.len() >= 8, "README error kinds not found: {kinds:?}");
    let seen: BTreeSet<&str> = goldens.iter().filter_map(Golden::error_kind).collect();
    let missing: Vec<&String> = kinds
        .iter()
        .filter(|k| !seen.contains(k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "error kinds without a golden: {missing:?}"
    );

    check_each("expect.json shape", &goldens, |g| {
        let obj = g.expect.as_object().ok_or("not an object")?;
        let allowed = [
            "description",
            "envelope",
            "payloads",
            "schema_violations",
            "error",
        ];
        if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!("unknown key {k:?}"));
        }
        for k in ["description", "envelope", "payloads", "error"] {
            if !obj.contains_key(k) {
                return Err(format!("missing key {k:?}"));
            }
        }
        if g.description().trim().is_empty() {
            return Err("empty description".into());
        }
        match (g.group.as_str(), g.error()) {
            ("invalid", None) => return Err("invalid golden with error null".into()),
            ("invalid", Some(e)) => {
                let kind = e["kind"].as_str().unwrap_or("");
                if !kinds.iter().any(|k| k == kind) {
                    return Err(format!("error kind {kind:?} is not in the README"));
                }
                if !e["at"].is_string() {
                    return Err("error.at is not a string".into());
                }
                let sdks = e["sdks"].as_str();
                if sdks != Some("all") && sdks != Some("embedded") {
                    return Err(format!("error.sdks {sdks:?}"));
                }
                if (kind == "over_capacity") != (sdks == Some("embedded")) {
                    return Err("over_capacity goes with sdks \"embedded\", and only it".into());
                }
            }
            (_, Some(_)) => return Err("error set outside invalid/".into()),
            (_, None) => {}
        }
        if g.decodes_outside_embedded() {
            let env = g
                .expected_envelope()
                .as_object()
                .ok_or("envelope not an object")?;
            let keys: BTreeSet<&str> = env.keys().map(String::as_str).collect();
            let want: BTreeSet<&str> = WIRE_ENVELOPE_ORDER[..13].iter().copied().collect();
            if keys != want {
                return Err(format!("envelope keys {keys:?}"));
            }
            for (i, p) in g.expected_payloads().iter().enumerate() {
                let keys: BTreeSet<&str> = p
                    .as_object()
                    .ok_or("payload not an object")?
                    .keys()
                    .map(String::as_str)
                    .collect();
                let mut want: BTreeSet<&str> = WIRE_PAYLOAD_ORDER.iter().copied().collect();
                want.remove("data");
                want.insert("value");
                if keys != want {
                    return Err(format!("payload {i} keys {keys:?}"));
                }
            }
        }
        if g.message.ends_with(b"\n") && g.name != "pretty_printed" {
            return Err("unexpected trailing newline in .msg".into());
        }
        Ok(())
    });
}

/// The schema lists the envelope and payload keys in WIRE.md order (the canonical writer
/// takes its order from the schema's `required` arrays).
#[test]
fn schema_key_order_is_wire_order() {
    let schema = Schema::load();
    let env: Vec<&str> = schema.envelope.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(env, WIRE_ENVELOPE_ORDER, "envelope key order");
    let payload: Vec<&str> = schema.payload.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(payload, WIRE_PAYLOAD_ORDER, "payload key order");
}

/// The canonical writer itself: sorting by code point (not UTF-16), escapes of section 8.
#[test]
fn canonical_json_writer() {
    let v = json!({"😀": 1, "ｚ": 2, "é": 3, "a": 4, "Z": 5, "": {"b": [1, {"d": 1, "c": 2}], "a": null}});
    assert_eq!(
        reference::canonical_json(&v),
        r#"{"":{"a":null,"b":[1,{"c":2,"d":1}]},"Z":5,"a":4,"é":3,"ｚ":2,"😀":1}"#
    );
    let s = json!("\" \\ \n \r \t \u{8} \u{c} \u{0} \u{1} \u{1f} \u{7f} / </script> é 😀");
    assert_eq!(
        reference::canonical_json(&s),
        "\"\\\" \\\\ \\n \\r \\t \\b \\f \\u0000 \\u0001 \\u001f \u{7f} / </script> é 😀\""
    );
}

/// Every receive form the schema declares (`x-aliases`, `x-enum-aliases`,
/// `x-receive-only` of a closed enumeration, `default`) is exercised by a golden: removing
/// it from the schema changes what the reference receiver makes of some golden.
#[test]
fn every_receive_form_of_the_schema_is_exercised() {
    let schema = Schema::load();
    let goldens: Vec<Golden> = golden::all()
        .into_iter()
        .filter(Golden::decodes_outside_embedded)
        .collect();
    let outcome = |s: &Schema| -> Vec<Result<(Value, Vec<Value>), DecodeError>> {
        goldens
            .iter()
            .map(|g| reference::decode(s, &g.message).map(|d| (d.envelope, d.payloads)))
            .collect()
    };
    let baseline = outcome(&schema);

    // (pointer of the schema object, keyword, entry to remove: index or key, or None for
    // the whole keyword)
    let mut forms: Vec<(String, String, Option<String>)> = Vec::new();
    fn walk(v: &Value, ptr: &str, out: &mut Vec<(String, String, Option<String>)>) {
        match v {
            Value::Object(m) => {
                let open = m.get("x-open-enum") == Some(&Value::Bool(true));
                for (k, child) in m {
                    match k.as_str() {
                        "x-aliases" => {
                            for i in 0..child.as_array().map_or(0, Vec::len) {
                                out.push((ptr.into(), k.clone(), Some(i.to_string())));
                            }
                        }
                        "x-enum-aliases" => {
                            for key in child.as_object().into_iter().flat_map(|o| o.keys()) {
                                out.push((ptr.into(), k.clone(), Some(key.clone())));
                            }
                        }
                        "x-receive-only" if !open => {
                            for key in child.as_object().into_iter().flat_map(|o| o.keys()) {
                                out.push((ptr.into(), k.clone(), Some(key.clone())));
                            }
                        }
                        "default" => out.push((ptr.into(), k.clone(), None)),
                        _ => walk(child, &format!("{ptr}/{k}"), out),
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{ptr}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    walk(&schema.json, "", &mut forms);
    assert!(forms.len() >= 15, "too few receive forms found: {forms:?}");

    let mut unexercised = Vec::new();
    for (ptr, keyword, entry) in &forms {
        let mut json = schema.json.clone();
        let node = json
            .pointer_mut(ptr)
            .and_then(Value::as_object_mut)
            .unwrap();
        let label = match entry {
            None => {
                node.remove(keyword);
                format!("{ptr}/{keyword}")
            }
            Some(e) => {
                let target = node.get_mut(keyword).unwrap();
                match target {
                    Value::Array(a) => {
                        let removed = a.remove(e.parse::<usize>().unwrap());
                        format!("{ptr}/{keyword} {removed}")
                    }
                    Value::Object(o) => {
                        o.remove(e);
                        format!("{ptr}/{keyword} {e:?}")
                    }
                    _ => unreachable!(),
                }
            }
        };
        if outcome(&Schema::from_json(json)) == baseline {
            unexercised.push(label);
        }
    }
    assert!(
        unexercised.is_empty(),
        "schema receive forms no golden exercises: {unexercised:#?}"
    );
}
