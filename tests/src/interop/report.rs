//! The report: the sender × receiver table and the golden rows (passed/total), the known
//! failures applied, written as Markdown and JSON; failing cells say which case and why.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::agents::{Runtime, interop_dir};
use super::matrix::CaseResult;

/// The known-failure lists: case id → (file it is listed in, reason). A case id is
/// `golden/<group>/<name>@<sdk>` or `<sender>><receiver>/<case>`.
pub type KnownFailures = BTreeMap<String, (String, String)>;

/// Reads `tests/interop/known-failures/*.txt` (one case id and a reason a line; `#` comments).
pub fn known_failures() -> KnownFailures {
    let dir = interop_dir().join("known-failures");
    let mut known = KnownFailures::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for file in files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            known.insert(id.to_owned(), (name.clone(), reason.trim().to_owned()));
        }
    }
    known
}

/// One row or cell of the report: who, and how each case went.
#[derive(Debug)]
pub struct Cell {
    pub sender: String,
    pub receiver: String,
    pub results: Vec<CaseResult>,
}

impl Cell {
    /// The case id used in the known-failure lists.
    pub fn case_id(&self, case: &str) -> String {
        if self.sender == "goldens" {
            format!("{case}@{}", self.receiver)
        } else {
            format!("{}>{}/{case}", self.sender, self.receiver)
        }
    }
}

/// What came out of the whole run, after the known failures were applied.
#[derive(Debug, Default)]
pub struct Verdict {
    pub json: Value,
    pub markdown: String,
    pub ok: bool,
}

fn cell_json(
    cell: &Cell,
    known: &KnownFailures,
    unused: &mut BTreeMap<String, String>,
) -> (Value, bool) {
    let mut failures = Vec::new();
    let mut known_hits = Vec::new();
    let mut ok = true;
    for r in &cell.results {
        let id = cell.case_id(&r.case);
        let listed = known.get(&id);
        unused.remove(&id);
        match (&r.failure, listed) {
            (None, None) => {}
            (Some(why), Some((file, reason))) => {
                known_hits
                    .push(json!({"case": r.case, "why": why, "listed_in": file, "reason": reason}));
            }
            (Some(why), None) => {
                ok = false;
                failures.push(json!({"case": r.case, "why": why}));
            }
            (None, Some((file, _))) => {
                ok = false;
                failures.push(json!({"case": r.case,
                    "why": format!("passes but is listed as a known failure in {file}: remove it from the list")}));
            }
        }
    }
    let passed = cell.results.iter().filter(|r| r.failure.is_none()).count();
    let value = json!({
        "sender": cell.sender, "receiver": cell.receiver, "passed": passed,
        "total": cell.results.len(), "failures": failures, "known_failures": known_hits,
    });
    (value, ok)
}

fn cell_text(value: &Value) -> String {
    let (passed, total) = (&value["passed"], &value["total"]);
    let known = value["known_failures"].as_array().map_or(0, Vec::len);
    let bad = !value["failures"].as_array().is_none_or(Vec::is_empty);
    let mut text = format!("{passed}/{total}");
    if known > 0 {
        text.push_str(&format!(" ({known} known)"));
    }
    if bad {
        text = format!("**{text} FAIL**");
    }
    text
}

/// Builds the report of `matrix` (sender × receiver cells) and `goldens` (one cell per SDK).
pub fn build(matrix: &[Cell], goldens: &[Cell], known: &KnownFailures, seconds: f64) -> Verdict {
    let mut unused: BTreeMap<String, String> = known
        .iter()
        .map(|(id, (file, _))| (id.clone(), file.clone()))
        .collect();
    let mut ok = true;
    let mut matrix_json = Vec::new();
    for cell in matrix {
        let (value, cell_ok) = cell_json(cell, known, &mut unused);
        ok &= cell_ok;
        matrix_json.push(value);
    }
    let mut golden_json = Vec::new();
    for cell in goldens {
        let (value, cell_ok) = cell_json(cell, known, &mut unused);
        ok &= cell_ok;
        golden_json.push(value);
    }
    // A listed case that no longer exists would hide nothing: the list must not rot.
    let stale: Vec<Value> = unused
        .iter()
        .map(|(id, file)| json!({"case": id, "listed_in": file}))
        .collect();
    ok &= stale.is_empty();

    let names: Vec<&str> = Runtime::ALL.iter().map(|r| r.name()).collect();
    let mut md = String::from("| sender \\ receiver |");
    for name in &names {
        md.push_str(&format!(" {name} |"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(names.len()));
    md.push('\n');
    for sender in &names {
        md.push_str(&format!("| **{sender}** |"));
        for receiver in &names {
            let cell = matrix_json
                .iter()
                .find(|c| c["sender"] == *sender && c["receiver"] == *receiver);
            md.push_str(&format!(" {} |", cell.map_or("-".into(), cell_text)));
        }
        md.push('\n');
    }
    md.push_str("\n| golden conformance | decoded, re-encoded as expected |\n|---|---|\n");
    for g in &golden_json {
        md.push_str(&format!(
            "| {} | {} |\n",
            g["receiver"].as_str().unwrap_or(""),
            cell_text(g)
        ));
    }
    let mut details = String::new();
    for c in matrix_json.iter().chain(&golden_json) {
        let who = if c["sender"] == "goldens" {
            format!("goldens @ {}", c["receiver"].as_str().unwrap_or(""))
        } else {
            format!(
                "{} → {}",
                c["sender"].as_str().unwrap_or(""),
                c["receiver"].as_str().unwrap_or("")
            )
        };
        for f in c["failures"].as_array().into_iter().flatten() {
            details.push_str(&format!(
                "* FAILED {who} `{}`: {}\n",
                f["case"].as_str().unwrap_or(""),
                f["why"].as_str().unwrap_or("")
            ));
        }
        for f in c["known_failures"].as_array().into_iter().flatten() {
            details.push_str(&format!(
                "* known failure {who} `{}` ({}: {}): {}\n",
                f["case"].as_str().unwrap_or(""),
                f["listed_in"].as_str().unwrap_or(""),
                f["reason"].as_str().unwrap_or(""),
                f["why"].as_str().unwrap_or("")
            ));
        }
    }
    for s in &stale {
        details.push_str(&format!(
            "* FAILED stale known failure `{}` in {}: no such case ran\n",
            s["case"].as_str().unwrap_or(""),
            s["listed_in"].as_str().unwrap_or("")
        ));
    }
    if !details.is_empty() {
        md.push('\n');
        md.push_str(&details);
    }
    md.push_str(&format!(
        "\n{} in {seconds:.0} s.\n",
        if ok { "Every cell passed" } else { "FAILED" }
    ));
    let json = json!({
        "ok": ok, "seconds": seconds, "matrix": matrix_json, "goldens": golden_json,
        "stale_known_failures": stale,
    });
    Verdict {
        json,
        markdown: md,
        ok,
    }
}

/// Writes `interop.md` and `interop.json` into `dir`.
pub fn write(verdict: &Verdict, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("interop.md"), &verdict.markdown)?;
    let json = serde_json::to_string_pretty(&verdict.json).unwrap_or_default();
    std::fs::write(dir.join("interop.json"), json + "\n")
}
