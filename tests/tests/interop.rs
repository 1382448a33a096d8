//! The cross-language interop matrix (`cargo run -p natsbridge-tests --bin interop`) run as a
//! test, so `scripts/test-all` runs it; and the report's rules held on made-up results: a
//! wrong payload fails its case, a listed known failure that passes or no longer exists fails
//! the run.

use std::process::Command;

use natsbridge_tests::interop::cases;
use natsbridge_tests::interop::matrix::CaseResult;
use natsbridge_tests::interop::report::{self, Cell, KnownFailures};
use serde_json::{Value, json};

#[test]
fn every_runtime_reaches_every_runtime_and_every_sdk_meets_the_goldens() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop");
    let output = Command::new(env!("CARGO_BIN_EXE_interop"))
        .arg("--report")
        .arg(&dir)
        .output()
        .expect("running the interop harness");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the interop matrix failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{stdout}");
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("interop.json")).expect("interop.json"))
            .expect("interop.json is JSON");
    assert_eq!(json["ok"], true);
    let matrix = json["matrix"].as_array().expect("the matrix cells");
    assert_eq!(matrix.len(), 36, "6 senders × 6 receivers");
    for cell in matrix {
        // std to std, std to and from the Python module (both interpreters) and std to the
        // no_std SDK (both networks) also carry a link through the JetStream Object Store.
        let python = |side: &Value| side == "cpython" || side == "micropython";
        let no_std = |side: &Value| side == "no_std-tokio" || side == "no_std-embassy";
        let (sender, receiver) = (&cell["sender"], &cell["receiver"]);
        let object_store = usize::from(
            (sender == "std" && (receiver == "std" || python(receiver) || no_std(receiver)))
                || (python(sender) && receiver == "std"),
        );
        let expected_cases = cases::send_batch().len() + 1 + object_store;
        assert_eq!(cell["total"], expected_cases, "{cell}");
        assert_eq!(cell["passed"], expected_cases, "{cell}");
    }
    assert_eq!(json["goldens"].as_array().map(Vec::len), Some(4));
    assert!(
        std::fs::read_to_string(dir.join("interop.md")).is_ok_and(|md| md.contains("| **std** |"))
    );
}

fn result(case: &str, failure: Option<&str>) -> CaseResult {
    CaseResult {
        case: case.into(),
        failure: failure.map(str::to_owned),
    }
}

fn cell(results: Vec<CaseResult>) -> Cell {
    Cell {
        sender: "std".into(),
        receiver: "cpython".into(),
        results,
    }
}

fn known(ids: &[&str]) -> KnownFailures {
    ids.iter()
        .map(|id| {
            (
                (*id).to_owned(),
                ("std.txt".to_owned(), "a reason".to_owned()),
            )
        })
        .collect()
}

#[test]
fn a_known_failure_that_passes_or_no_longer_exists_fails_the_run() {
    let failing = || {
        cell(vec![
            result("link", Some("size differs")),
            result("multi", None),
        ])
    };
    let unlisted = report::build(&[failing()], &[], &known(&[]), 1.0);
    assert!(!unlisted.ok);
    assert!(
        unlisted
            .markdown
            .contains("FAILED std → cpython `link`: size differs")
    );

    let listed = report::build(&[failing()], &[], &known(&["std>cpython/link"]), 1.0);
    assert!(listed.ok, "{}", listed.markdown);
    assert_eq!(
        listed.json["matrix"][0]["known_failures"][0]["case"],
        "link"
    );

    let now_passing = report::build(
        &[failing()],
        &[],
        &known(&["std>cpython/link", "std>cpython/multi"]),
        1.0,
    );
    assert!(!now_passing.ok);
    assert!(
        now_passing
            .markdown
            .contains("passes but is listed as a known failure in std.txt")
    );

    let stale = report::build(
        &[failing()],
        &[],
        &known(&["std>cpython/link", "std>cpython/gone"]),
        1.0,
    );
    assert!(!stale.ok);
    assert_eq!(
        stale.json["stale_known_failures"][0]["case"],
        "std>cpython/gone"
    );
}

#[test]
fn a_received_payload_that_differs_in_any_field_fails_its_case() {
    let sent = cases::request_message();
    let good: Vec<Value> = sent.payloads.iter().map(|p| p.expected(true)).collect();
    assert_eq!(
        cases::check_payloads(&sent.payloads, &json!(good), true),
        Ok(())
    );
    for (key, wrong) in [
        ("dataname", json!("other")),
        ("type", json!("image")),
        ("transport", json!("direct")),
        ("size", json!(1)),
        ("sha256", json!("00")),
    ] {
        let mut bad = good.clone();
        bad[1][key] = wrong;
        let error = cases::check_payloads(&sent.payloads, &json!(bad), true).unwrap_err();
        assert!(
            error.contains(&format!("payloads[1] (attachment.bin): {key}")),
            "{error}"
        );
    }
    assert!(cases::check_payloads(&sent.payloads, &json!(good[..1]), true).is_err());
    let line = json!({"msg_id": "a", "payloads": good});
    assert!(
        cases::check_received(&sent, "b", &line, true)
            .unwrap_err()
            .contains("msg_id")
    );
}

#[test]
fn a_typed_payload_must_come_back_typed_from_our_sdks_and_untyped_from_the_peer() {
    let typed = cases::send_batch()
        .into_iter()
        .find(|m| m.case == "typed")
        .expect("the typed case");
    let spec = &typed.payloads[0];
    assert_eq!(
        (spec.payload_type, spec.schema_type),
        ("dictionary", Some("SensorReading"))
    );
    // Untyped receivers re-serialize with sorted keys; the typed value keeps schema order.
    let sorted = cases::canonical_dictionary(&spec.bytes).expect("JSON");
    assert_ne!(sorted, spec.bytes);
    let ours = spec.expected(true);
    assert_eq!(ours["sha256"], cases::sha256_hex(&sorted));
    assert_eq!(ours["typed"], cases::sha256_hex(&spec.bytes));
    let check = |line: &Value, decodes_typed| {
        cases::check_payloads(&typed.payloads, &json!([line]), decodes_typed)
    };
    assert_eq!(check(&ours, true), Ok(()));
    let peer = spec.expected(false);
    assert_eq!(check(&peer, false), Ok(()));
    let untyped = check(&peer, true).unwrap_err();
    assert!(
        untyped.contains("payloads[0] (reading): typed"),
        "{untyped}"
    );
    assert!(check(&ours, false).is_err());
    let mut refused = ours.clone();
    refused["typed"] = json!({"error": "bad_value at metadata.schema_type"});
    assert!(check(&refused, true).is_err());
}
