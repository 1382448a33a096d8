//! The payload goldens of `tests/golden/payloads/` (WIRE.md section 10), checked the same way
//! by every Rust SDK's typed payload test: only the decoder differs.

use std::path::Path;

/// What a receiver makes of a golden: the canonical text it re-encodes the value to, or the
/// error `(kind, at)` it reports.
pub type PayloadAnswer = Result<String, (String, String)>;

/// Holds `answer` (the SDK's decoder: type name and data bytes in, its answer out) to every
/// payload golden: canonical ones re-encode to their own bytes, accepted ones to their
/// canonical text, invalid ones are refused with the expected kind at the expected field.
/// Panics listing every golden that differs.
pub fn check_payload_goldens(answer: impl Fn(&str, &[u8]) -> PayloadAnswer) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden/payloads");
    let mut seen = 0;
    let mut wrong = Vec::new();
    for group in ["canonical", "accepted", "invalid"] {
        let mut names: Vec<_> = std::fs::read_dir(root.join(group))
            .unwrap_or_else(|e| panic!("the payload goldens in {}: {e}", root.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".expect.json"))
            .collect();
        names.sort();
        for expect_path in names {
            let expect: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&expect_path).unwrap()).unwrap();
            let data_path = expect_path
                .to_string_lossy()
                .replace(".expect.json", ".json");
            let data = std::fs::read(&data_path).unwrap();
            let text = |v: &serde_json::Value| v.as_str().expect("a string").to_string();
            let wanted = match &expect["error"] {
                serde_json::Value::Null => {
                    let canonical = text(&expect["canonical"]);
                    if group == "canonical" {
                        assert_eq!(
                            canonical.as_bytes(),
                            &data[..],
                            "{data_path}: not canonical"
                        );
                    }
                    Ok(canonical)
                }
                error => Err((text(&error["kind"]), text(&error["at"]))),
            };
            let got = answer(expect["type"].as_str().expect("a type"), &data);
            if got != wanted {
                wrong.push(format!("{data_path}: got {got:?}, want {wanted:?}"));
            }
            seen += 1;
        }
    }
    assert!(seen >= 30, "only {seen} payload goldens found");
    assert!(
        wrong.is_empty(),
        "{} of {seen} goldens differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
