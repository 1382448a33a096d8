//! The cross-language interop matrix (`natsbridge_tests::interop`): with no arguments or
//! `--report DIR` it runs the harness; `agent std|no_std-tokio COMMAND ...` runs a Rust agent.

mod common;
#[path = "../../../../sdk-embedded/tests/common/mod.rs"]
mod embedded_common;
mod no_std_agent;
mod std_agent;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use natsbridge_tests::interop::agents::EMBASSY_AGENT;

/// Set in the copy of the harness that runs inside its network namespace.
const IN_NAMESPACE: &str = "NATSBRIDGE_INTEROP_IN_NAMESPACE";

/// Builds the embassy-net agent beside this program when it is missing (`cargo test
/// --workspace` and `scripts/test-all` build it with the workspace), unless
/// `NATSBRIDGE_EMBASSY_AGENT` names one. (Building it from here every time would rebuild
/// dependencies whose features differ from the workspace build.)
fn build_embassy_agent() -> Result<(), String> {
    let agent = natsbridge_tests::interop::agents::embassy_agent();
    if std::env::var_os("NATSBRIDGE_EMBASSY_AGENT").is_some() || agent.is_file() {
        eprintln!("interop: the embassy-net agent is {}", agent.display());
        return Ok(());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let command = format!("cargo build -p natsbridge-embedded-tap --bin {EMBASSY_AGENT}");
    let status = Command::new(&cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "natsbridge-embedded-tap",
            "--bin",
            EMBASSY_AGENT,
        ])
        .status()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`{command}` failed ({status})"))
}

/// Runs this program again inside a new network namespace and returns its exit code.
fn rerun_in_namespace(args: &[String]) -> ExitCode {
    if let Err(why) = build_embassy_agent() {
        eprintln!("interop FAILED: {why}");
        return ExitCode::FAILURE;
    }
    let exe = std::env::current_exe().expect("the harness's own path");
    match Command::new("unshare")
        .arg("-n")
        .arg(exe)
        .args(args)
        .env(IN_NAMESPACE, "1")
        .status()
    {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("interop FAILED ({status})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!(
                "interop FAILED: cannot run `unshare -n` ({e}); the matrix runs in a network namespace of its own and needs root and util-linux"
            );
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("agent") {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let rest = &args[2.min(args.len())..];
        let outcome = match args.get(1).map(String::as_str) {
            Some("std") => runtime.block_on(std_agent::run(rest)),
            Some("no_std-tokio") => {
                runtime.block_on(no_std_agent::run(&mut no_std_agent::TokioNetwork, rest))
            }
            other => Err(format!("no agent {other:?}: std or no_std-tokio")),
        };
        return match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("agent failed: {why}");
                println!("{}", serde_json::json!({ "error": why }));
                ExitCode::FAILURE
            }
        };
    }
    if std::env::var_os(IN_NAMESPACE).is_none() {
        return rerun_in_namespace(&args);
    }
    match Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
    {
        Ok(status) if status.success() => {}
        other => {
            eprintln!("interop FAILED: cannot bring up the namespace's loopback: {other:?}");
            return ExitCode::FAILURE;
        }
    }
    let report_dir = match args.as_slice() {
        [] => None,
        [flag, dir] if flag == "--report" => Some(PathBuf::from(dir)),
        _ => {
            eprintln!("usage: interop [--report DIR]");
            return ExitCode::from(2);
        }
    };
    // serve-files is the `natsbridge` program built beside this one, unless NATSBRIDGE_BIN
    // names another (or neither exists and the test support builds it).
    let sibling = std::env::current_exe().map(|exe| exe.with_file_name("natsbridge"));
    let natsbridge = std::env::var_os("NATSBRIDGE_BIN")
        .map(PathBuf::from)
        .or(sibling.ok().filter(|path| path.is_file()));
    let work = natsbridge_tests::interop::work_dir();
    let verdict = natsbridge_tests::interop::run(&work, natsbridge);
    println!("{}", verdict.markdown);
    if let Some(dir) = report_dir {
        if let Err(e) = natsbridge_tests::interop::report::write(&verdict, &dir) {
            eprintln!("cannot write the report into {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
        println!(
            "report written to {}/interop.md and interop.json",
            dir.display()
        );
    }
    if verdict.ok {
        let _ = std::fs::remove_dir_all(&work);
        ExitCode::SUCCESS
    } else {
        println!("agent logs kept in {}", work.display());
        ExitCode::FAILURE
    }
}
