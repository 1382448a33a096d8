//! Payload schemas (issue 21): read by the envelope's reader into the same model, with the
//! refusals naming the schema path; the `payloads` command and the build.rs `Builder`.

use natsbridge_codegen::model::{FieldType, Limit, Range, SchemaKind};
use natsbridge_codegen::read::read_payload_schema;
use natsbridge_codegen::{PAYLOADS_EXAMPLE_SCHEMA, default_root, read_schema};
use serde_json::{Value, json};

fn example_text() -> String {
    std::fs::read_to_string(default_root().join(PAYLOADS_EXAMPLE_SCHEMA)).expect("the example")
}

#[test]
fn the_example_is_read_into_the_model() {
    let model = read_payload_schema("device.schema.json", &example_text()).expect("accepted");
    assert_eq!(model.kind, SchemaKind::Payloads);
    assert!(model.constants.is_empty() && model.error_kinds.is_empty());
    let types: Vec<&str> = model.payload_types().map(|s| s.name.as_str()).collect();
    assert_eq!(
        types,
        ["DeviceConfig", "SensorReading", "Command", "CommandReply"]
    );
    // the inline object is a type, not a payload type
    assert!(
        model
            .structs
            .iter()
            .any(|s| s.name == "SensorReadingLocation" && !s.in_defs)
    );
    let enums: Vec<&str> = model.enums.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(enums, ["Unit", "Action"]);
    let reading = model.struct_named("SensorReading");
    let names: Vec<&str> = reading.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "sensor", "unit", "value", "offset", "ok", "samples", "location"
        ]
    );
    let offset = reading.field("offset").unwrap();
    assert_eq!(offset.ty, FieldType::Signed);
    assert_eq!(
        offset.range,
        Some(Range {
            minimum: Some(Limit::Integer(-1000)),
            maximum: Some(Limit::Integer(1000)),
        })
    );
    let value = reading.field("value").unwrap();
    assert_eq!(value.range.unwrap().minimum, Some(Limit::Number(-273.15)));
    let interval = model
        .struct_named("DeviceConfig")
        .field("update_interval")
        .unwrap();
    assert_eq!(interval.ty, FieldType::Unsigned);
    assert_eq!(interval.range.unwrap().minimum, Some(Limit::Integer(1)));
    assert!(
        model
            .struct_named("DeviceConfig")
            .field("hostname")
            .unwrap()
            .optional
    );
}

/// A payload schema with one type `T` whose properties are `properties`.
fn with_properties(properties: Value) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "test payloads",
        "$defs": {
            "T": {"type": "object", "description": "a type", "properties": properties}
        }
    })
}

fn refusal(schema: &Value) -> (String, String) {
    let error = read_payload_schema("p.json", &schema.to_string()).expect_err("refused");
    (error.pointer, error.message)
}

#[test]
fn refusals_name_the_schema_path() {
    let string = |extra: Value| {
        let mut s = json!({"type": "string", "description": "d", "x-max-bytes": 8});
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with_properties(json!({"s": {"type": "string", "description": "d"}})),
            "/$defs/T/properties/s",
            "needs x-max-bytes",
        ),
        (
            with_properties(json!({"s": string(json!({"maximum": 3}))})),
            "/$defs/T/properties/s/maximum",
            "does not apply to a string",
        ),
        (
            with_properties(json!({"s": string(json!({"x-sender-fills": "uuid4"}))})),
            "/$defs/T/properties/s/x-sender-fills",
            "belongs to the envelope schema",
        ),
        (
            with_properties(
                json!({"o": {"type": "object", "description": "d", "x-max-bytes": 64}}),
            ),
            "/$defs/T/properties/o",
            "free-form objects are not supported in payload schemas",
        ),
        (
            with_properties(
                json!({"n": {"type": "integer", "description": "d", "minimum": 5, "maximum": 4}}),
            ),
            "/$defs/T/properties/n/maximum",
            "below minimum",
        ),
        (
            with_properties(
                json!({"n": {"type": "number", "description": "d", "maximum": 1, "default": 2}}),
            ),
            "/$defs/T/properties/n/default",
            "outside minimum and maximum",
        ),
        (
            with_properties(
                json!({"a": {"type": "array", "description": "d", "maxItems": 2,
                "items": {"type": "integer", "minimum": -1, "maximum": "x"}}}),
            ),
            "/$defs/T/properties/a/items/maximum",
            "must be an integer",
        ),
        (
            with_properties(json!({"b": {"type": "boolean", "description": "d", "minimum": 0}})),
            "/$defs/T/properties/b/minimum",
            "does not apply to a boolean",
        ),
        (
            with_properties(json!({"a": {"type": "array", "description": "d",
                "items": {"type": "number"}}})),
            "/$defs/T/properties/a",
            "needs maxItems",
        ),
        (
            with_properties(json!({"e": {"$ref": "#/$defs/Missing", "description": "d"}})),
            "/$defs/T/properties/e/$ref",
            "does not exist",
        ),
        (
            with_properties(json!({"n": {"type": "integer", "description": "d", "minimum": 0.5}})),
            "/$defs/T/properties/n/minimum",
            "must be an integer",
        ),
        (
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                "description": "d",
                "$defs": {"Value": {"type": "object", "description": "t", "properties": {}}}}),
            "",
            "type name \"Value\" is taken",
        ),
        (
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                "description": "d", "type": "object", "properties": {}}),
            "/properties",
            "a payload schema has no root object",
        ),
        (
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                "description": "d", "x-constants": {}, "$defs": {}}),
            "/x-constants",
            "a payload schema has no root object",
        ),
        (
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                "description": "d", "$defs": {}}),
            "/$defs",
            "at least one $defs object",
        ),
        (
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                "$defs": {"T": {"type": "object", "description": "t", "properties": {}}}}),
            "",
            "needs a description",
        ),
    ];
    for (schema, pointer, message) in cases {
        let (got_pointer, got_message) = refusal(&schema);
        assert_eq!(got_pointer, pointer, "{got_message}");
        assert!(
            got_message.contains(message),
            "{pointer}: {got_message:?} does not say {message:?}"
        );
    }
}

#[test]
fn the_envelope_schema_still_refuses_bounds() {
    let root = default_root();
    let envelope: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(natsbridge_codegen::SCHEMA_PATH)).unwrap(),
    )
    .unwrap();
    for (bound, message) in [
        (
            json!({"maximum": 10}),
            "keyword \"maximum\" is not supported here",
        ),
        (json!({"minimum": 5}), "minimum must be 0"),
    ] {
        let mut schema = envelope.clone();
        let size = schema
            .pointer_mut("/$defs/MessagePayload/properties/size")
            .expect("the envelope has payloads[].size")
            .as_object_mut()
            .unwrap();
        size.extend(bound.as_object().unwrap().clone());
        let error = read_schema("s.json", &schema.to_string()).expect_err("refused");
        assert!(error.message.contains(message), "{error}");
    }
}

#[test]
fn the_command_writes_checks_and_refuses_what_is_not_yet_there() {
    let binary = env!("CARGO_BIN_EXE_natsbridge-codegen");
    let dir = std::env::temp_dir().join(format!("natsbridge-payloads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = default_root().join(PAYLOADS_EXAMPLE_SCHEMA);
    let out = dir.join("payloads.rs");
    let run = |args: &[&str]| {
        std::process::Command::new(binary)
            .arg("payloads")
            .arg(&schema)
            .args(args)
            .output()
            .expect("the generator runs")
    };
    let out_arg = out.to_str().unwrap();
    let check = run(&["--std", out_arg, "--check"]);
    assert_eq!(check.status.code(), Some(1), "missing file is stale");
    assert!(!out.exists());
    let write = run(&["--std", out_arg]);
    assert!(write.status.success(), "{write:?}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("// Generated by natsbridge-codegen from "));
    assert!(written.contains("impl natsbridge::typed::TypedPayload for SensorReading {"));
    assert!(run(&["--std", out_arg, "--check"]).status.success());
    let embedded_out = dir.join("payloads_embedded.rs");
    let embedded_arg = embedded_out.to_str().unwrap();
    let embedded = run(&["--embedded", embedded_arg]);
    assert!(embedded.status.success(), "{embedded:?}");
    let written_embedded = std::fs::read_to_string(&embedded_out).unwrap();
    assert!(written_embedded.contains(&format!("--embedded {embedded_arg}`.")));
    assert!(
        written_embedded
            .contains("impl natsbridge_embedded::typed::TypedPayload for SensorReading {")
    );
    assert!(!written_embedded.contains("crate::"), "only the public API");
    assert!(
        run(&["--embedded", embedded_arg, "--check"])
            .status
            .success()
    );

    // The build.rs form writes the same types (its preamble names its own command).
    let built = dir.join("out_dir/payloads.rs");
    let built_embedded = dir.join("out_dir/payloads_embedded.rs");
    natsbridge_codegen::payloads::Builder::new(&schema)
        .std(&built)
        .embedded(&built_embedded)
        .generate()
        .expect("the builder writes");
    let from_builder = std::fs::read_to_string(&built).unwrap();
    let body = |text: &str| text.split_once('\n').unwrap().1.to_string();
    assert_eq!(body(&from_builder), body(&written));
    let from_builder = std::fs::read_to_string(&built_embedded).unwrap();
    assert_eq!(body(&from_builder), body(&written_embedded));

    // A refused schema is an error naming its path.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        with_properties(json!({"s": {"type": "string", "description": "d"}})).to_string(),
    )
    .unwrap();
    let error = natsbridge_codegen::payloads::Builder::new(&bad)
        .std(dir.join("bad.rs"))
        .generate()
        .expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("#/$defs/T/properties/s: needs x-max-bytes"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The README's section "Your own payload types", run as written: its `sh` blocks in order
/// (with `NATSBRIDGE` set to this checkout) in an empty folder, each `rust file=PATH` block
/// written to PATH of the project first made. Cargo works offline, on the workspace's target
/// folder, so the crates the workspace has built are not built again.
#[test]
fn the_readme_section_on_payload_types_runs_as_written() {
    let root = default_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("## Your own payload types")
        .expect("README has the section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    // outside the workspace, as a user's empty folder is (`cargo new` inside it would join it)
    let dir =
        std::env::temp_dir().join(format!("natsbridge-payloads-readme-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut project = dir.clone();
    let mut ran = Vec::new();
    let mut last_stdout = String::new();
    for block in section.split("```").skip(1).step_by(2) {
        let (info, body) = block.split_once('\n').unwrap_or((block, ""));
        if let Some(file) = info.strip_prefix("rust file=") {
            std::fs::write(project.join(file), body).unwrap();
            ran.push(format!("wrote {file}"));
            continue;
        }
        assert_eq!(
            info, "sh",
            "a block of the section that the test does not know: {info}"
        );
        let (status, stdout, stderr, cwd) = run_sh(body, &project, &root, &target);
        assert!(
            status,
            "the README's commands failed:\n{body}\n{stdout}{stderr}"
        );
        project = std::path::PathBuf::from(cwd.trim());
        ran.push(body.trim().to_string());
        last_stdout = stdout;
    }
    assert!(
        ran.len() >= 4,
        "the section has fewer blocks than expected: {ran:?}"
    );
    assert!(
        last_stdout.contains("typed round trip ok: {\"sensor\":\"bme280\",\"unit\":\"celsius\",\"value\":21.5,\"offset\":0,\"ok\":true,\"samples\":[21.25,21.75],\"location\":{\"room\":\"lab\",\"floor\":1}}"),
        "{last_stdout}"
    );
    assert!(last_stdout.contains("SensorReading"), "{last_stdout}");
    assert!(
        last_stdout.contains("refused:") && last_stdout.contains("unit"),
        "{last_stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs `script` with `sh -e` in `dir` (cargo offline, on `target`, `NATSBRIDGE` = `root`):
/// (succeeded, stdout, stderr, the folder the script ended in).
fn run_sh(
    script: &str,
    dir: &std::path::Path,
    root: &std::path::Path,
    target: &std::path::Path,
) -> (bool, String, String, String) {
    let cwd_file = dir.join(".payloads-readme-cwd");
    let out = std::process::Command::new("sh")
        .arg("-ec")
        .arg(format!(
            "{script}\npwd > {:?}",
            cwd_file.display().to_string()
        ))
        .current_dir(dir)
        .env("NATSBRIDGE", root)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("sh runs");
    let cwd = std::fs::read_to_string(&cwd_file).unwrap_or_default();
    std::fs::remove_file(&cwd_file).ok();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        cwd,
    )
}

/// `payloads SCHEMA --python FILE.py` (and `Builder::python`) writes the example's module, the
/// same as the checked-in `device_payloads.py` but for the preamble; `--check` agrees.
#[test]
fn the_command_writes_the_python_module() {
    use natsbridge_codegen::PAYLOADS_EXAMPLE_PYTHON;
    let binary = env!("CARGO_BIN_EXE_natsbridge-codegen");
    let dir = std::env::temp_dir().join(format!("natsbridge-payloads-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = default_root().join(PAYLOADS_EXAMPLE_SCHEMA);
    let out = dir.join("payloads.py");
    let run = |args: &[&str]| {
        std::process::Command::new(binary)
            .arg("payloads")
            .arg(&schema)
            .args(args)
            .output()
            .expect("the generator runs")
    };
    let out_arg = out.to_str().unwrap();
    assert_eq!(
        run(&["--python", out_arg, "--check"]).status.code(),
        Some(1)
    );
    let write = run(&["--python", out_arg]);
    assert!(write.status.success(), "{write:?}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("# Generated by natsbridge-codegen from "));
    assert!(
        written.contains("--python"),
        "the preamble names the command"
    );
    assert!(written.contains("class SensorReading(TypedPayload):"));
    assert!(written.contains("class SensorReadingLocation(PayloadStruct):"));
    assert!(written.contains("    TYPE_NAME = \"SensorReading\""));
    assert!(written.contains(
        "(\"value\", \"f64\", _REQUIRED, \"\", 0, None, None, ',\"value\":', -273.15, 1000.0, 0),"
    ));
    assert!(run(&["--python", out_arg, "--check"]).status.success());
    assert_eq!(run(&["--python"]).status.code(), Some(2));
    let checked_in = std::fs::read_to_string(default_root().join(PAYLOADS_EXAMPLE_PYTHON)).unwrap();
    // The preamble and docstring name the schema as it was given: compare the code.
    let body = |text: &str| {
        let at = text
            .find("from nats_bridge_typed import")
            .expect("the import");
        text[at..].to_string()
    };
    assert_eq!(body(&written), body(&checked_in));

    // Both files from one Builder.
    let built = dir.join("out_dir/payloads.py");
    natsbridge_codegen::payloads::Builder::new(&schema)
        .std(dir.join("out_dir/payloads.rs"))
        .python(&built)
        .generate()
        .expect("the builder writes");
    assert_eq!(
        body(&std::fs::read_to_string(&built).unwrap()),
        body(&written)
    );
    assert!(dir.join("out_dir/payloads.rs").exists());
    std::fs::remove_dir_all(&dir).ok();
}
