//! `cargo run -p natsbridge-codegen [-- --check] [--root DIR]`: regenerates the SDKs from the
//! schema, or with `--check` writes nothing and fails when a checked-in file is stale;
//! `--breaking-against OLD [--allow RULE:PATH]...` compares the schema with an older one.

use std::path::PathBuf;
use std::process::ExitCode;

use natsbridge_codegen::{
    FileStatus, Mode, REGENERATE_COMMAND, SCHEMA_PATH, breaking, ensure_file_contents,
    workspace_outputs,
};

const USAGE: &str = "usage: natsbridge-codegen [--check] [--root DIR]
       natsbridge-codegen --breaking-against OLD [--allow RULE:PATH]... [--root DIR]
       natsbridge-codegen payloads SCHEMA [--std FILE.rs] [--embedded FILE.rs] [--python FILE.py] [--check]
  (no flag)   write every generated file and say which changed
  --check     write nothing; exit 1 naming each stale file
  --root DIR  the workspace root (default: this checkout)
  --breaking-against OLD
              compare schema/natsbridge.schema.json with OLD (a file, or REV:PATH read
              with git, e.g. HEAD~1:schema/natsbridge.schema.json); print one finding per
              change; exit 1 when a wire or api change is not allowed (schema/BREAKING.md)
  --allow RULE:PATH
              accept one finding on purpose, e.g. CLOSED_ENUM_VALUE_ADDED:/$defs/Transport
  payloads SCHEMA
              your own payload types: read the payload schema SCHEMA (its $defs entries are
              the types) and write --std FILE.rs, the std Rust types for the natsbridge crate,
              and/or --embedded FILE.rs, the no_std (heapless) types for natsbridge-embedded,
              and/or --python FILE.py, the Python module (CPython and MicroPython, beside
              nats_bridge.py and nats_bridge_typed.py) (--check: write nothing, exit 1 when a
              file is stale)";

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("payloads") {
        return payloads(std::env::args().skip(2));
    }
    let mut mode = Mode::Write;
    let mut root = natsbridge_codegen::default_root();
    let mut against: Option<String> = None;
    let mut allowed: Vec<breaking::Allow> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => mode = Mode::Check,
            "--root" => match args.next() {
                Some(dir) => root = PathBuf::from(dir),
                None => return usage_error("--root needs a folder"),
            },
            "--breaking-against" => match args.next() {
                Some(old) => against = Some(old),
                None => return usage_error("--breaking-against needs a schema file or REV:PATH"),
            },
            "--allow" => match args.next().map(|a| breaking::Allow::parse(&a)) {
                Some(Ok(allow)) => allowed.push(allow),
                Some(Err(message)) => return usage_error(&message),
                None => return usage_error("--allow needs RULE:PATH"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage_error(&format!("unknown argument {other:?}")),
        }
    }
    if let Some(old) = against {
        return match breaking_check(&root, &old, &allowed) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        };
    }
    if !allowed.is_empty() {
        return usage_error("--allow goes with --breaking-against");
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

/// Compares the workspace schema with `old` (a file or `REV:PATH`); prints the findings.
fn breaking_check(
    root: &std::path::Path,
    old: &str,
    allowed: &[breaking::Allow],
) -> Result<ExitCode, String> {
    let new_path = root.join(SCHEMA_PATH);
    let new_text =
        std::fs::read_to_string(&new_path).map_err(|e| format!("{}: {e}", new_path.display()))?;
    let old_text = read_old_schema(root, old)?;
    let findings = breaking::compare_texts(old, &old_text, SCHEMA_PATH, &new_text)
        .map_err(|e| e.to_string())?;
    let mut failing = 0;
    for finding in &findings {
        let accepted = allowed.iter().any(|a| a.covers(finding));
        let mark = if finding.impact.is_safe() {
            "  "
        } else if accepted {
            "ok"
        } else {
            failing += 1;
            "!!"
        };
        println!("{mark} {finding}");
    }
    for allow in allowed {
        if !findings.iter().any(|f| allow.covers(f)) {
            return Err(format!(
                "--allow {}:{} matches no finding (remove it)",
                allow.rule.as_str(),
                allow.path
            ));
        }
    }
    println!(
        "{} finding(s) against {old}: {failing} breaking and not allowed",
        findings.len()
    );
    Ok(if failing > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A schema file, or `REV:PATH` from git (`git show REV:PATH` in `root`).
fn read_old_schema(root: &std::path::Path, old: &str) -> Result<String, String> {
    let as_file = std::path::Path::new(old);
    if as_file.is_file() {
        return std::fs::read_to_string(as_file).map_err(|e| format!("{old}: {e}"));
    }
    if let Some((rev, path)) = old.split_once(':')
        && !rev.is_empty()
    {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .arg("show")
            .arg(format!("{rev}:{path}"))
            .output()
            .map_err(|e| format!("running git show {old}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "git show {old}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        return String::from_utf8(output.stdout).map_err(|_| format!("{old}: not UTF-8"));
    }
    Err(format!("{old}: no such file, and not REV:PATH"))
}

/// `natsbridge-codegen payloads SCHEMA --std FILE.rs [--check]`.
fn payloads(mut args: impl Iterator<Item = String>) -> ExitCode {
    let mut schema: Option<String> = None;
    let mut std_out: Option<String> = None;
    let mut embedded_out: Option<String> = None;
    let mut python_out: Option<String> = None;
    let mut mode = Mode::Write;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--std" => match args.next() {
                Some(file) => std_out = Some(file),
                None => return usage_error("--std needs a file (FILE.rs)"),
            },
            "--embedded" => match args.next() {
                Some(file) => embedded_out = Some(file),
                None => return usage_error("--embedded needs a file (FILE.rs)"),
            },
            "--python" => match args.next() {
                Some(file) => python_out = Some(file),
                None => return usage_error("--python needs a file (FILE.py)"),
            },
            "--check" => mode = Mode::Check,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => {
                return usage_error(&format!("unknown argument {other:?}"));
            }
            other if schema.is_none() => schema = Some(other.to_string()),
            other => return usage_error(&format!("one schema only; {other:?} is a second")),
        }
    }
    let Some(schema) = schema else {
        return usage_error("payloads needs the payload schema's path");
    };
    if std_out.is_none() && embedded_out.is_none() && python_out.is_none() {
        return usage_error(
            "payloads needs an output: --std FILE.rs, --embedded FILE.rs or --python FILE.py",
        );
    }
    let mut regenerate = format!("natsbridge-codegen payloads {schema}");
    let mut builder = natsbridge_codegen::payloads::Builder::new(&schema);
    if let Some(std_out) = &std_out {
        regenerate.push_str(&format!(" --std {std_out}"));
        builder = builder.std(std_out);
    }
    if let Some(embedded_out) = &embedded_out {
        regenerate.push_str(&format!(" --embedded {embedded_out}"));
        builder = builder.embedded(embedded_out);
    }
    if let Some(python_out) = &python_out {
        regenerate.push_str(&format!(" --python {python_out}"));
        builder = builder.python(python_out);
    }
    let builder = builder.regenerate_command(regenerate);
    match builder.ensure(mode) {
        Ok(statuses) => {
            let mut stale = false;
            for (path, status) in statuses {
                let word = match status {
                    FileStatus::Unchanged => "unchanged",
                    FileStatus::Written => "written  ",
                    FileStatus::Stale => {
                        stale = true;
                        "STALE    "
                    }
                };
                println!("{word} {}", path.display());
            }
            if stale {
                eprintln!("error: the generated file differs from what {schema} gives");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n{USAGE}");
    ExitCode::from(2)
}
