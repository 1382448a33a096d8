//! The schema-change drill: realistic schema changes (JSON Patch files in
//! `tests/drill/changes/`) applied to a scratch copy of the workspace, regenerated with the
//! README's command, built (the three SDKs, agents written as a user would write them, the
//! example firmware) and round-tripped across runtimes through a real `nats-server`, with
//! no hand edit. A change that needs one fails: the build failing is the signal.
//!
//! Changes that can live together form a variant (`"variant"` in each file), built once in
//! `target/drill/ws` (the same path every run, so builds are incremental) with one
//! shared target folder. Each check of each change is asserted on its own:
//! std -> CPython, CPython -> no_std, no_std -> MicroPython, MicroPython -> std, or, for a
//! receive-side change, a raw message published to all four receivers. The `all-types`
//! variant also holds every SDK to the goldens of `tests/golden/all_types/`.

pub mod agents;
pub mod exchange;
pub mod patch;
pub mod workspace;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

/// One assertion of a change: a field set by a sender (`value`), a raw message edited by
/// `inject` (a JSON Patch of a canonical message), or neither (a field no caller sets, a
/// constant), and what the receiver reads back.
#[derive(Debug, Clone)]
pub struct Check {
    /// `envelope` or `payload` (the first payload).
    pub level: String,
    /// The field's canonical name.
    pub field: String,
    /// What the sender sets, through its public API.
    pub value: Option<Value>,
    /// Edits of a canonical message the harness publishes itself (receive-side changes).
    pub inject: Option<Value>,
    /// The field as the receiver reads it back.
    pub expect: Value,
    /// `{"kind", "at"}`: the no_std SDK refuses, as sender or receiver, with this error.
    pub no_std: Option<Value>,
}

/// One change file.
#[derive(Debug, Clone)]
pub struct Change {
    /// The file name without `.json`.
    pub name: String,
    pub description: String,
    pub variant: String,
    /// The RFC 6902 operations on `schema/natsbridge.schema.json`.
    pub patch: Value,
    pub checks: Vec<Check>,
}

/// Changes applied together and built once.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub changes: Vec<Change>,
}

impl Variant {
    /// Every check with its case name `CHANGE#N`.
    pub fn cases(&self) -> impl Iterator<Item = (String, &Check)> {
        self.changes.iter().flat_map(|c| {
            c.checks
                .iter()
                .enumerate()
                .map(move |(i, check)| (format!("{}#{i}", c.name), check))
        })
    }

    /// The schema of the variant: every change's patch applied to `base`, in file order.
    pub fn schema(&self, base: &Value) -> Result<Value, String> {
        let mut schema = base.clone();
        for change in &self.changes {
            patch::apply(&mut schema, &change.patch)
                .map_err(|e| format!("{}: {e}", change.name))?;
        }
        Ok(schema)
    }
}

/// The environment variable naming another checkout to drill (a tree with other branches
/// merged, say); the scratch copies and target folders stay in this one's `target/drill/`.
pub const SOURCE_VARIABLE: &str = "NATSBRIDGE_DRILL_WORKSPACE";

/// This workspace's root.
fn own_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root")
}

/// The workspace the drill copies: this one, or the one `NATSBRIDGE_DRILL_WORKSPACE` names.
pub fn root() -> PathBuf {
    std::env::var_os(SOURCE_VARIABLE)
        .map(PathBuf::from)
        .unwrap_or_else(own_root)
}

/// `tests/drill/changes/`.
pub fn changes_dir() -> PathBuf {
    root().join("tests").join("drill").join("changes")
}

/// `target/drill/`: the scratch workspaces, their shared target folders, the agents.
pub fn drill_dir() -> PathBuf {
    own_root().join("target").join("drill")
}

/// The variant whose schema must equal this fixture (the goldens of `all_types/` are made
/// from it).
pub const ALL_TYPES: &str = "all-types";

/// The fixture schema with every declared type.
pub fn all_types_fixture() -> PathBuf {
    root().join("codegen/tests/fixtures/vocabulary/all_types.json")
}

fn parse_check(v: &Value) -> Result<Check, String> {
    let text = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("a check without `{k}`"))
    };
    Ok(Check {
        level: text("level")?,
        field: text("field")?,
        value: v.get("value").cloned(),
        inject: v.get("inject").cloned(),
        expect: v.get("expect").cloned().ok_or("a check without `expect`")?,
        no_std: v.get("no_std").cloned(),
    })
}

/// Every change file, grouped into variants in the order variants first appear.
pub fn load() -> Result<Vec<Variant>, String> {
    let dir = changes_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut variants: Vec<Variant> = Vec::new();
    for file in files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{name}: {e}"))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        let checks = v["checks"]
            .as_array()
            .ok_or_else(|| format!("{name}: no checks"))?
            .iter()
            .map(parse_check)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{name}: {e}"))?;
        let change = Change {
            name,
            description: v["description"].as_str().unwrap_or_default().to_owned(),
            variant: v["variant"].as_str().unwrap_or("default").to_owned(),
            patch: v["patch"].clone(),
            checks,
        };
        match variants.iter_mut().find(|x| x.name == change.variant) {
            Some(variant) => variant.changes.push(change),
            None => variants.push(Variant {
                name: change.variant.clone(),
                changes: vec![change],
            }),
        }
    }
    Ok(variants)
}

/// What the drill found: one line per step and per assertion.
#[derive(Debug, Default)]
pub struct Outcome {
    pub passed: Vec<String>,
    pub failed: Vec<String>,
}

impl Outcome {
    pub fn record(&mut self, name: String, result: Result<(), String>) {
        match result {
            Ok(()) => {
                println!("drill: PASS {name}");
                self.passed.push(name);
            }
            Err(why) => {
                println!("drill: FAIL {name}: {why}");
                self.failed.push(format!("{name}: {why}"));
            }
        }
    }
}

/// Prints how long a step took and gives its result back.
pub fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    println!("drill: {what}: {:.1} s", started.elapsed().as_secs_f64());
    out
}

/// Runs the drill (only the variants named in `only`, when not empty).
pub fn run(only: &[String]) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome::default();
    let variants = match load() {
        Ok(v) => v,
        Err(e) => {
            outcome.record("loading the change files".into(), Err(e));
            return outcome;
        }
    };
    let nats = natsbridge_test_support::NatsServer::start();
    for variant in variants
        .iter()
        .filter(|v| only.is_empty() || only.contains(&v.name))
    {
        let label = format!(
            "variant {} ({})",
            variant.name,
            variant
                .changes
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!("drill: {label}");
        match timed(&format!("[{}] prepare and build", variant.name), || {
            workspace::prepare(variant)
        }) {
            Ok(built) => timed(&format!("[{}] round trips", variant.name), || {
                exchange::run_variant(variant, &built, &nats.url(), &mut outcome)
            }),
            Err(why) => {
                for (case, _) in variant.cases() {
                    outcome.record(format!("{}: {case}", variant.name), Err(why.clone()));
                }
            }
        }
    }
    println!(
        "drill: {} passed, {} failed in {:.1} s",
        outcome.passed.len(),
        outcome.failed.len(),
        started.elapsed().as_secs_f64()
    );
    outcome
}
