//! Snapshot tests of the generator: its three outputs for the real schema and for fixture
//! schemas (the real one with a JSON patch applied), and its message for refused schemas.
//!
//! CI runs these with `INSTA_UPDATE=no`, so a changed output fails instead of writing a new
//! snapshot; review changes locally with `INSTA_UPDATE=always cargo test -p natsbridge-codegen`.

use std::path::{Path, PathBuf};

use natsbridge_codegen::{Generated, SCHEMA_PATH, default_root, generate, read_schema};
use serde_json::Value;

fn real_schema() -> String {
    std::fs::read_to_string(default_root().join(SCHEMA_PATH)).expect("the schema is readable")
}

/// The fixtures of one folder: (name, description, patched schema text), sorted by name.
fn fixtures(folder: &str) -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 3,
        "{}: at least three fixtures expected",
        dir.display()
    );
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("a readable fixture");
            let fixture: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let patch: Vec<json_patch::PatchOperation> =
                serde_json::from_value(fixture["patch"].clone())
                    .unwrap_or_else(|e| panic!("{}: bad patch: {e}", path.display()));
            let mut schema: Value =
                serde_json::from_str(&real_schema()).expect("the schema is JSON");
            json_patch::patch(&mut schema, &patch)
                .unwrap_or_else(|e| panic!("{}: patch does not apply: {e}", path.display()));
            let name = path
                .file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let description = fixture["description"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
            (name, description, text)
        })
        .collect()
}

fn assert_outputs(prefix: &str, description: &str, generated: &Generated) {
    insta::with_settings!({ description => description, omit_expression => true }, {
        insta::assert_snapshot!(format!("{prefix}__rust_std"), generated.rust_std);
        insta::assert_snapshot!(format!("{prefix}__rust_embedded"), generated.rust_embedded);
        insta::assert_snapshot!(format!("{prefix}__python"), generated.python);
    });
}

#[test]
fn outputs_for_the_real_schema() {
    let generated = generate(SCHEMA_PATH, &real_schema()).expect("the real schema is accepted");
    assert_outputs("schema", "the real schema", &generated);
}

#[test]
fn outputs_for_fixture_schemas() {
    for (name, description, schema) in fixtures("accepted") {
        let generated = generate(&format!("fixtures/accepted/{name}.json"), &schema)
            .unwrap_or_else(|e| panic!("fixture {name} should be accepted: {e}"));
        assert_outputs(&format!("fixture_{name}"), &description, &generated);
    }
}

#[test]
fn messages_for_refused_schemas() {
    for (name, description, schema) in fixtures("rejected") {
        let error = match generate(&format!("fixtures/rejected/{name}.json"), &schema) {
            Ok(_) => panic!("fixture {name} should be refused: {description}"),
            Err(e) => e.to_string(),
        };
        insta::with_settings!({ description => description, omit_expression => true }, {
            insta::assert_snapshot!(format!("refused_{name}"), error);
        });
    }
}

#[test]
fn fixture_changes_reach_every_output() {
    // Guards the snapshots themselves: each accepted fixture must change all three outputs.
    let base = generate(SCHEMA_PATH, &real_schema()).expect("the real schema is accepted");
    for (name, _, schema) in fixtures("accepted") {
        let changed =
            generate(&format!("fixtures/accepted/{name}.json"), &schema).expect("accepted");
        assert_ne!(
            changed.rust_std, base.rust_std,
            "{name}: std output unchanged"
        );
        assert_ne!(
            changed.rust_embedded, base.rust_embedded,
            "{name}: no_std output unchanged"
        );
        assert_ne!(
            changed.python, base.python,
            "{name}: Python output unchanged"
        );
    }
}

/// The schema variant that uses every type of the vocabulary (schema/WIRE.md section 9).
fn all_types() -> natsbridge_codegen::model::Model {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vocabulary/all_types.json");
    let text = std::fs::read_to_string(&path).expect("the fixture is readable");
    read_schema("fixtures/vocabulary/all_types.json", &text).expect("all_types is accepted")
}

// One test per backend for the vocabulary fixture, so that each backend's snapshot is
// reviewed on its own: `vocabulary_all_types__<backend>`.

#[test]
fn rust_std_output_for_every_type() {
    let output = natsbridge_codegen::render_rust_std(&all_types()).expect("std renders all_types");
    insta::with_settings!({ description => "every type of the vocabulary", omit_expression => true }, {
        insta::assert_snapshot!("vocabulary_all_types__rust_std", output);
    });
}

/// `text` through `rustfmt` (edition 2024), as the generator formats its outputs.
fn rustfmt(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("rustfmt runs");
    child
        .stdin
        .take()
        .expect("a stdin")
        .write_all(text.as_bytes())
        .expect("rustfmt reads");
    let out = child.wait_with_output().expect("rustfmt ends");
    assert!(out.status.success(), "rustfmt refused the no_std output");
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn no_std_output_for_the_vocabulary_fixture() {
    // The no_std backend alone: `scripts/nostd-all-types/run` compiles and tests this output.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vocabulary/all_types.json");
    let text = std::fs::read_to_string(path).expect("the fixture is readable");
    let model = natsbridge_codegen::read_schema("fixtures/vocabulary/all_types.json", &text)
        .expect("the vocabulary fixture is accepted");
    let source = natsbridge_codegen::backend::rust_embedded::render(&model).expect("renders");
    insta::with_settings!({ description => "every type of the vocabulary", omit_expression => true }, {
        insta::assert_snapshot!("vocabulary_all_types__rust_embedded", rustfmt(&source));
    });
}
