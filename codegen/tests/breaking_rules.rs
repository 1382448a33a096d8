//! The breaking-change check, case by case: each case edits the real schema and lists every
//! finding it must give, in compact form (`Finding::summary`). Confluent's open-model cases
//! (property added or removed x required, required with default, optional, checked in both
//! directions), the closed content model (refused by the generator), and ours.

use natsbridge_codegen::breaking::{Direction, Rule, Sdk, compare_texts};
use serde_json::json;

mod breaking_cases;

use breaking_cases::{base, cases, envelope_props, findings};

#[test]
fn every_case_gives_exactly_its_findings() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let mut old = base();
        (case.old)(&mut old);
        let mut new = base();
        (case.new)(&mut new);
        let got = findings(&old, &new);
        let want: Vec<String> = case.expect.iter().map(|s| s.to_string()).collect();
        if got != want {
            failures.push(format!("{}:\n  got  {got:#?}\n  want {want:#?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_is_documented_and_exercised() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/BREAKING.md"
    ))
    .unwrap();
    for rule in Rule::ALL {
        assert!(
            doc.contains(&format!("`{}`", rule.as_str())),
            "schema/BREAKING.md does not document {}",
            rule.as_str()
        );
    }
    let exercised: Vec<&str> = cases()
        .iter()
        .flat_map(|c| c.expect.iter())
        .map(|s| s.split(' ').next().unwrap())
        .collect();
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .map(|r| r.as_str())
        .filter(|r| !exercised.contains(r))
        .collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
}

#[test]
fn the_closed_content_model_is_refused_naming_its_path() {
    // Confluent's closed-model cases: this generator has no closed model (receivers ignore
    // unknown keys, WIRE.md section 7), so `additionalProperties: false` is refused.
    let mut s = base();
    s["additionalProperties"] = json!(false);
    let error = compare_texts("old.json", &base().to_string(), "new.json", &s.to_string())
        .expect_err("a closed content model is refused");
    assert_eq!(error.pointer, "/additionalProperties");
}

#[test]
fn findings_name_directions_and_receivers() {
    let mut new = base();
    envelope_props(&mut new)["receiver_name"]["x-max-bytes"] = json!(16);
    let found = compare_texts(
        "old.json",
        &base().to_string(),
        "new.json",
        &new.to_string(),
    )
    .unwrap();
    let wire = found[0].impact.wire.as_ref().unwrap();
    assert_eq!(wire.directions, vec![Direction::OldToNew]);
    assert_eq!(wire.receivers, vec![Sdk::NoStd]);
    let line = found[0].to_string();
    assert!(line.contains("old sender -> new receiver"), "{line}");
    assert!(line.contains("keep x-max-bytes 64"), "{line}");
}
