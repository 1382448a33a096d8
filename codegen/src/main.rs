//! `cargo run -p natsbridge-codegen [-- --check] [--root DIR]`: regenerates the SDKs from the
//! schema, or with `--check` writes nothing and fails when a checked-in file is stale.

use std::path::PathBuf;
use std::process::ExitCode;

use natsbridge_codegen::{
    FileStatus, Mode, REGENERATE_COMMAND, ensure_file_contents, workspace_outputs,
};

const USAGE: &str = "usage: natsbridge-codegen [--check] [--root DIR]
  (no flag)   write every generated file and say which changed
  --check     write nothing; exit 1 naming each stale file
  --root DIR  the workspace root (default: this checkout)";

fn main() -> ExitCode {
    let mut mode = Mode::Write;
    let mut root = natsbridge_codegen::default_root();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => mode = Mode::Check,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => return usage_error("--root needs a folder"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&format!("unknown argument {other:?}")),
        }
    }
    match run(&root, mode) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &std::path::Path, mode: Mode) -> Result<ExitCode, natsbridge_codegen::Error> {
    let outputs = workspace_outputs(root)?;
    let mut stale = 0;
    for output in &outputs {
        let status = ensure_file_contents(root, output, mode)?;
        let word = match status {
            FileStatus::Unchanged => "unchanged",
            FileStatus::Written => "written  ",
            FileStatus::Stale => {
                stale += 1;
                "STALE    "
            }
        };
        println!("{word} {}", output.path);
    }
    if stale > 0 {
        eprintln!(
            "error: {stale} generated file(s) differ from what the schema gives; run `{REGENERATE_COMMAND}` and commit the result"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n{USAGE}");
    ExitCode::from(2)
}
