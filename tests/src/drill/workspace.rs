//! The scratch workspace of a variant: the git-tracked files of this workspace copied into
//! `target/drill/ws` (only files whose bytes changed are written, so builds stay
//! incremental), the patched schema, the agents, then the README's regenerate command and
//! the builds, with one target folder shared by every variant.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{ALL_TYPES, Variant, agents, drill_dir, root, timed};

/// What a prepared variant runs: its scratch workspace and agent programs.
pub struct Built {
    pub ws: PathBuf,
    /// The std agent, or why it did not build.
    pub std_agent: Result<PathBuf, String>,
    /// The no_std agent, or why it did not build.
    pub no_std_agent: Result<PathBuf, String>,
    pub python_agent: PathBuf,
    /// Whether the example firmware built.
    pub firmware: Result<(), String>,
}

/// Writes `bytes` to `path` unless it already holds them.
fn sync(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copies the tracked (and untracked, not ignored) files of the workspace into `ws`.
fn copy_workspace(ws: &Path) -> Result<usize, String> {
    let root = root();
    let listed = Command::new("git")
        .current_dir(&root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !listed.status.success() {
        return Err(format!(
            "git ls-files failed: {}",
            String::from_utf8_lossy(&listed.stderr)
        ));
    }
    let mut count = 0;
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name);
        let from = root.join(name.as_ref());
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let bytes = std::fs::read(&from).map_err(|e| format!("{}: {e}", from.display()))?;
        sync(&ws.join(name.as_ref()), &bytes)?;
        count += 1;
    }
    Ok(count)
}

/// Runs `cargo ARGS` in `dir` with `target` as its target folder; the error is the command
/// and the tail of its output.
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // Every variant rewrites the same sources in place: whole-crate builds, not rustc's
        // incremental cache, so one variant's stale pieces can never reach another's link.
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error") || l.trim_start().starts_with("-->"))
        .take(12)
        .collect();
    // A linker's or a build script's own words come after cargo's "error: linking ... failed":
    // the last lines say why (a missing symbol, a full disk, a killed process).
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(8)..]
        .iter()
        .map(|l| l.chars().take(400).collect::<String>())
        .collect::<Vec<_>>();
    Err(format!(
        "`cargo {}` in {} failed ({}): {} || the end of its output: {}",
        args.join(" "),
        dir.display(),
        output.status,
        errors.join(" | "),
        tail.join(" | ")
    ))
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Copies, patches, regenerates and builds a variant.
pub fn prepare(variant: &Variant) -> Result<Built, String> {
    let slot = drill_dir().join(&variant.name);
    // One scratch copy for every variant, prepared and run one after the other: a copy per
    // variant would give the same artifact names to different sources in the shared target
    // folder (see above), and cargo would take the previous variant's build for fresh.
    let ws = drill_dir().join("ws");
    let files = timed(&format!("[{}] copy the workspace", variant.name), || {
        copy_workspace(&ws)
    })?;
    println!(
        "drill: [{}] {files} files in {}",
        variant.name,
        ws.display()
    );
    let base = read_json(&root().join("schema/natsbridge.schema.json"))?;
    let schema = variant.schema(&base)?;
    if variant.name == ALL_TYPES {
        let fixture = read_json(&super::all_types_fixture())?;
        if serde_json::to_string(&schema).ok() != serde_json::to_string(&fixture).ok() {
            return Err(format!(
                "the patched schema of {ALL_TYPES} is not codegen/tests/fixtures/vocabulary/all_types.json (same keys in the same order)"
            ));
        }
    }
    let pretty = serde_json::to_string_pretty(&schema).map_err(|e| e.to_string())? + "\n";
    sync(&ws.join("schema/natsbridge.schema.json"), pretty.as_bytes())?;
    sync(
        &ws.join("sdk-rust/examples/drill_std.rs"),
        agents::std_agent(variant, &schema).as_bytes(),
    )?;
    sync(
        &ws.join("sdk-embedded/examples/drill_no_std.rs"),
        agents::no_std_agent(variant, &schema, agents::NoStdApi::of(&ws)).as_bytes(),
    )?;
    let python_agent = ws.join("drill-agents/agent.py");
    sync(&python_agent, agents::python_agent(variant).as_bytes())?;

    // One target folder for the drill, never the workspace's own: cargo names the artifacts
    // of a path package by its path relative to the workspace root, so a scratch copy's
    // `natsbridge` would take the place of the workspace's and be taken for fresh.
    let target = drill_dir().join("target");
    let quiet = ["--quiet", "--offline", "--locked"];
    timed(
        &format!(
            "[{}] regenerate (cargo run -p natsbridge-codegen)",
            variant.name
        ),
        || {
            cargo(
                &ws,
                &target,
                &[&quiet[..], &["run", "-p", "natsbridge-codegen"]].concat(),
            )
        },
    )?;
    // Each agent builds on its own, so one SDK's failure does not hide the others' checks.
    let bin = slot.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let build = |package: &str, example: &str| -> Result<PathBuf, String> {
        timed(
            &format!("[{}] build {package} and {example}", variant.name),
            || {
                let args = ["build", "-p", package, "--example", example];
                cargo(&ws, &target, &[&args[..], &quiet[..]].concat())
            },
        )?;
        // The next variant's build replaces target/debug/examples/*: keep this one's.
        let to = bin.join(example);
        std::fs::copy(target.join("debug/examples").join(example), &to)
            .map_err(|e| format!("{example}: {e}"))?;
        Ok(to)
    };
    let std_agent = build("natsbridge", "drill_std");
    let no_std_agent = build("natsbridge-embedded", "drill_no_std");
    let firmware = timed(
        &format!(
            "[{}] build the example firmware (thumbv7em-none-eabihf)",
            variant.name
        ),
        || {
            let firmware = ws.join("sdk-embedded/firmware");
            let target = drill_dir().join("firmware-target");
            // The firmware is a workspace of its own: on a fresh machine nothing before the
            // drill has downloaded its dependencies (cortex-m-rt, ...), so fetch them first
            // (a no-op once they are in cargo's cache); the build itself stays offline.
            cargo(&firmware, &target, &["fetch", "--quiet", "--locked"])?;
            cargo(
                &firmware,
                &target,
                &["build", "--release", "--quiet", "--offline", "--locked"],
            )
        },
    );
    Ok(Built {
        std_agent,
        no_std_agent,
        python_agent,
        firmware,
        ws,
    })
}
