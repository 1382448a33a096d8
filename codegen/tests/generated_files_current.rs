//! The checked-in generated files must be what the schema gives: the same check as
//! `cargo run -p natsbridge-codegen -- --check`, so plain `cargo test` catches stale output.

use natsbridge_codegen::{
    FileStatus, Mode, REGENERATE_COMMAND, default_root, ensure_file_contents, preamble,
    workspace_outputs,
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
        assert!(
            output.contents.starts_with(&preamble(comment)),
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
