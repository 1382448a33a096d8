//! The payload goldens of `tests/golden/payloads/` (WIRE.md section 10), checked the same way
//! by every Rust SDK's typed payload test: only the decoder differs.

use std::path::Path;

/// What a receiver makes of a golden: the canonical text it re-encodes the value to, or the
/// error `(kind, at)` it reports.
pub type PayloadAnswer = Result<String, (String, String)>;

/// One payload golden: its type's name (the `$defs` key), its data bytes and where it is.
pub struct PayloadGolden {
    /// `canonical`, `accepted` or `invalid`.
    pub group: &'static str,
    /// The data file's path.
    pub path: String,
    /// The type the golden is decoded as.
    pub type_name: String,
    /// The payload's data: the JSON text a receiver decodes.
    pub data: Vec<u8>,
    /// The `.expect.json` beside it.
    pub expect: serde_json::Value,
}

/// Every golden of `tests/golden/payloads/`, by group and then by name.
pub fn payload_goldens() -> Vec<PayloadGolden> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden/payloads");
    let mut goldens = Vec::new();
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
            let path = expect_path
                .to_string_lossy()
                .replace(".expect.json", ".json");
            goldens.push(PayloadGolden {
                group,
                data: std::fs::read(&path).unwrap(),
                type_name: expect["type"].as_str().expect("a type").to_string(),
                path,
                expect,
            });
        }
    }
    assert!(
        goldens.len() >= 30,
        "only {} payload goldens found",
        goldens.len()
    );
    goldens
}

/// Holds `answer` (the SDK's decoder: type name and data bytes in, its answer out) to every
/// payload golden: canonical ones re-encode to their own bytes, accepted ones to their
/// canonical text, invalid ones are refused with the expected kind at the expected field.
/// Panics listing every golden that differs.
pub fn check_payload_goldens(answer: impl Fn(&str, &[u8]) -> PayloadAnswer) {
    let goldens = payload_goldens();
    let mut wrong = Vec::new();
    for g in &goldens {
        let text = |v: &serde_json::Value| v.as_str().expect("a string").to_string();
        let wanted = match &g.expect["error"] {
            serde_json::Value::Null => {
                let canonical = text(&g.expect["canonical"]);
                if g.group == "canonical" {
                    assert_eq!(
                        canonical.as_bytes(),
                        &g.data[..],
                        "{}: not canonical",
                        g.path
                    );
                }
                Ok(canonical)
            }
            error => Err((text(&error["kind"]), text(&error["at"]))),
        };
        let got = answer(&g.type_name, &g.data);
        if got != wanted {
            wrong.push(format!("{}: got {got:?}, want {wanted:?}", g.path));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} goldens differ:\n{}",
        wrong.len(),
        goldens.len(),
        wrong.join("\n")
    );
}
