//! The schema-change drill's inputs hold together (the drill itself, which builds every SDK
//! per variant, is its own step of `scripts/test-all`: `cargo run -p natsbridge-tests --bin
//! schema_drill`): every change file parses and its patch applies to the real schema, every
//! required kind of change is there, and the all-types variant is exactly the fixture schema
//! the goldens of `tests/golden/all_types/` were made from.

use natsbridge_tests::drill::{self, ALL_TYPES};
use serde_json::Value;

fn read(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_change_applies_and_each_check_is_complete() {
    let variants = drill::load().expect("the change files");
    let base = read(&drill::root().join("schema/natsbridge.schema.json"));
    let mut changes = 0;
    for variant in &variants {
        let schema = variant.schema(&base).expect("the patches apply");
        assert_ne!(schema, base, "variant {} changes nothing", variant.name);
        for change in &variant.changes {
            changes += 1;
            assert!(
                !change.description.is_empty(),
                "{} has no description",
                change.name
            );
            assert!(!change.checks.is_empty(), "{} checks nothing", change.name);
            for check in &change.checks {
                assert!(
                    check.value.is_none() || check.inject.is_none(),
                    "{}: a check sets a value or injects a message, not both",
                    change.name
                );
                assert!(matches!(check.level.as_str(), "envelope" | "payload"));
            }
        }
    }
    assert!(
        changes >= 12,
        "the drill needs at least 12 changes, has {changes}"
    );
}

#[test]
fn the_all_types_variant_is_the_fixture_of_the_goldens() {
    let variants = drill::load().expect("the change files");
    let variant = variants
        .iter()
        .find(|v| v.name == ALL_TYPES)
        .expect("an all-types variant");
    let base = read(&drill::root().join("schema/natsbridge.schema.json"));
    let schema = variant.schema(&base).expect("the patches apply");
    let fixture = read(&drill::all_types_fixture());
    // Same keys in the same order: the canonical key order of the goldens is the schema's.
    assert_eq!(
        serde_json::to_string_pretty(&schema).unwrap(),
        serde_json::to_string_pretty(&fixture).unwrap()
    );
}

#[test]
fn the_all_types_goldens_are_complete_pairs_with_an_answer_each() {
    let dir = drill::exchange::all_types_goldens();
    for group in natsbridge_tests::golden::GROUPS {
        let mut count = 0;
        for entry in std::fs::read_dir(dir.join(group)).expect("a golden group") {
            let path = entry.expect("a golden").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".expect.json") else {
                assert!(name.ends_with(".msg"), "a stray file {}", path.display());
                assert!(
                    path.with_extension("expect.json").is_file(),
                    "{name} has no .expect.json"
                );
                continue;
            };
            count += 1;
            let expect = read(&path);
            let message =
                std::fs::read(dir.join(group).join(format!("{stem}.msg"))).expect("its .msg");
            let error = &expect["error"];
            assert_eq!(error.is_null(), group != "invalid", "{group}/{stem}: error");
            if group == "canonical" {
                // The message is the canonical writing of the expected envelope.
                let parsed: Value = serde_json::from_slice(&message).expect("JSON");
                for (key, want) in expect["envelope"].as_object().unwrap() {
                    let got = parsed.get(key).unwrap_or(&Value::Null);
                    assert!(drill::exchange::same(got, want), "{stem}: {key}");
                }
            }
        }
        assert!(count >= 7, "{group}: only {count} goldens");
    }
}
