//! The checked-in generated files must be what the schema gives: the same check as
//! `cargo run -p natsbridge-codegen -- --check`, so plain `cargo test` catches stale output.

use natsbridge_codegen::{
    FileStatus, Mode, PAYLOADS_EXAMPLE_EMBEDDED, PAYLOADS_EXAMPLE_PYTHON, PAYLOADS_EXAMPLE_SCHEMA,
    PAYLOADS_EXAMPLE_STD, REGENERATE_COMMAND, default_root, ensure_file_contents,
    generated_preamble, preamble, workspace_outputs,
};

#[test]
fn generated_files_are_current() {
    let root = default_root();
    let outputs = workspace_outputs(&root).expect("the generator runs");
    let stale: Vec<&str> = outputs
        .iter()
        .filter(|output| {
            ensure_file_contents(&root, output, Mode::Check).expect("readable") == FileStatus::Stale
        })
        .map(|output| output.path)
        .collect();
    assert!(
        stale.is_empty(),
        "stale generated files: {stale:?}; run `{REGENERATE_COMMAND}` and commit the result"
    );
}

#[test]
fn every_generated_file_starts_with_the_preamble() {
    for output in workspace_outputs(&default_root()).expect("the generator runs") {
        let comment = if output.path.ends_with(".py") {
            "#"
        } else {
            "//"
        };
        let expected = if [
            PAYLOADS_EXAMPLE_STD,
            PAYLOADS_EXAMPLE_EMBEDDED,
            PAYLOADS_EXAMPLE_PYTHON,
        ]
        .contains(&output.path)
        {
            generated_preamble(comment, PAYLOADS_EXAMPLE_SCHEMA, REGENERATE_COMMAND)
        } else {
            preamble(comment)
        };
        assert!(
            output.contents.starts_with(&expected),
            "{} does not start with the do-not-edit preamble",
            output.path
        );
    }
}

#[test]
fn check_mode_reports_a_stale_file_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("natsbridge-codegen-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let output = natsbridge_codegen::Output {
        path: "out.rs",
        contents: "new\n".to_string(),
    };
    std::fs::write(dir.join("out.rs"), "old\n").expect("writable");
    assert_eq!(
        ensure_file_contents(&dir, &output, Mode::Check).unwrap(),
        FileStatus::Stale
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("out.rs")).unwrap(),
        "old\n"
    );
    assert_eq!(
        ensure_file_contents(&dir, &output, Mode::Write).unwrap(),
        FileStatus::Written
    );
    assert_eq!(
        ensure_file_contents(&dir, &output, Mode::Check).unwrap(),
        FileStatus::Unchanged
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A copy of the generator's inputs and outputs in a fresh folder, so a test can edit them.
fn copy_of_workspace(label: &str) -> std::path::PathBuf {
    use natsbridge_codegen::{
        PYTHON_PARTS_DIR, PYTHON_PATH, RUST_EMBEDDED_PATH, RUST_STD_PATH, SCHEMA_PATH,
    };
    let payloads = [
        PAYLOADS_EXAMPLE_SCHEMA,
        PAYLOADS_EXAMPLE_STD,
        PAYLOADS_EXAMPLE_EMBEDDED,
        PAYLOADS_EXAMPLE_PYTHON,
    ];
    let root = default_root();
    let copy =
        std::env::temp_dir().join(format!("natsbridge-codegen-{label}-{}", std::process::id()));
    std::fs::remove_dir_all(&copy).ok();
    let mut files: Vec<String> = [SCHEMA_PATH, RUST_STD_PATH, RUST_EMBEDDED_PATH, PYTHON_PATH]
        .iter()
        .chain(&payloads)
        .map(|p| p.to_string())
        .collect();
    for entry in std::fs::read_dir(root.join(PYTHON_PARTS_DIR)).expect("the Python parts") {
        let name = entry
            .expect("a folder entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".py") {
            files.push(format!("{PYTHON_PARTS_DIR}/{name}"));
        }
    }
    for file in files {
        let target = copy.join(&file);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("a folder");
        std::fs::copy(root.join(&file), &target).expect("a copy");
    }
    copy
}

#[test]
fn a_changed_description_makes_the_check_fail_until_regenerated() {
    let copy = copy_of_workspace("description");
    let schema_path = copy.join(natsbridge_codegen::SCHEMA_PATH);
    let schema = std::fs::read_to_string(&schema_path).expect("the schema");
    let original = "Human-readable name of the sending application.";
    assert!(
        schema.contains(original),
        "the test edits this description: {original}"
    );
    std::fs::write(
        &schema_path,
        schema.replace(original, "Edited-sender-name-description."),
    )
    .expect("an edit");

    let binary = env!("CARGO_BIN_EXE_natsbridge-codegen");
    let check = std::process::Command::new(binary)
        .args(["--check", "--root"])
        .arg(&copy)
        .output()
        .expect("the generator runs");
    let stdout = String::from_utf8_lossy(&check.stdout);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(
        check.status.code(),
        Some(1),
        "--check must fail: {stdout}{stderr}"
    );
    for path in [
        "sdk-rust/src/generated.rs",
        "sdk-embedded/src/generated.rs",
        "sdk-python/nats_bridge.py",
    ] {
        assert!(
            stdout.contains(&format!("STALE     {path}")),
            "{path} not named stale:\n{stdout}"
        );
    }
    assert!(
        stderr.contains(REGENERATE_COMMAND),
        "the fix is not named:\n{stderr}"
    );

    let write = std::process::Command::new(binary)
        .arg("--root")
        .arg(&copy)
        .output()
        .expect("runs");
    assert!(
        write.status.success(),
        "{}",
        String::from_utf8_lossy(&write.stderr)
    );
    assert!(String::from_utf8_lossy(&write.stdout).contains("written   sdk-rust/src/generated.rs"));
    // One word, so that no wrapping of doc comments can split it.
    for path in [
        "sdk-rust/src/generated.rs",
        "sdk-embedded/src/generated.rs",
        "sdk-python/nats_bridge.py",
    ] {
        let generated = std::fs::read_to_string(copy.join(path)).expect("written");
        assert!(
            generated.contains("Edited-sender-name-description."),
            "the new description does not reach {path}"
        );
    }

    let recheck = std::process::Command::new(binary)
        .args(["--check", "--root"])
        .arg(&copy)
        .output()
        .expect("runs");
    assert!(
        recheck.status.success(),
        "after regenerating, --check passes"
    );
    std::fs::remove_dir_all(&copy).ok();
}
