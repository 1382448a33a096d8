//! The cross-language interop matrix (`natsbridge_tests::interop`): with no arguments or
//! `--report DIR` it runs the harness; `agent std|no_std-tokio COMMAND ...` runs a Rust agent.

mod common;
#[path = "../../../../sdk-embedded/tests/common/mod.rs"]
mod embedded_common;
mod no_std_agent;
mod std_agent;

use std::path::PathBuf;
use std::process::ExitCode;

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
            Some("no_std-tokio") => runtime.block_on(no_std_agent::run(rest)),
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
