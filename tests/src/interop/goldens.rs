//! Golden conformance through the agents: each SDK decodes every golden (and re-encodes the
//! canonical ones) in its own runtime; this module compares its answers to `.expect.json`.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::agents::{Agent, Runtime};
use super::matrix::CaseResult;
use crate::golden::{self, Golden};

/// Runs `runtime`'s agent over every golden and checks each answer.
pub fn run(runtime: Runtime, work: &std::path::Path) -> Vec<CaseResult> {
    let goldens = golden::all();
    let dir = golden::golden_dir().to_string_lossy().into_owned();
    let answers = collect(runtime, &dir, goldens.len(), work);
    goldens
        .iter()
        .map(|g| CaseResult {
            case: format!("golden/{}", g.id()),
            failure: match &answers {
                Err(why) => Some(why.clone()),
                Ok(answers) => match answers.get(&g.id()) {
                    None => Some("the agent gave no answer".into()),
                    Some(answer) => check(g, runtime, answer).err(),
                },
            },
        })
        .collect()
}

fn collect(
    runtime: Runtime,
    dir: &str,
    count: usize,
    work: &std::path::Path,
) -> Result<HashMap<String, Value>, String> {
    let args = ["goldens".to_owned(), dir.to_owned()];
    let tag = format!("{}-goldens", runtime.name());
    let mut agent = Agent::start(runtime, &args, work, &tag)?;
    let mut answers = HashMap::new();
    for _ in 0..count {
        let line = agent.next_line(Duration::from_secs(60))?;
        let id = line["id"].as_str().unwrap_or_default().to_owned();
        answers.insert(id, line);
    }
    agent.finish(Duration::from_secs(30))?;
    Ok(answers)
}

/// Whether `runtime` must refuse `g`, and with which error.
fn expected_error(g: &Golden, runtime: Runtime) -> Option<&Value> {
    let error = g.error()?;
    let only_embedded = error["sdks"] == "embedded";
    (!only_embedded || runtime == Runtime::NoStdTokio).then_some(error)
}

fn check(g: &Golden, runtime: Runtime, answer: &Value) -> Result<(), String> {
    if let Some(error) = expected_error(g, runtime) {
        let got = &answer["error"];
        return if got["kind"] == error["kind"] && got["at"] == error["at"] {
            Ok(())
        } else {
            Err(format!(
                "expected error {} at {}, got {}",
                error["kind"],
                error["at"],
                if got.is_null() {
                    "a decoded message".to_owned()
                } else {
                    got.to_string()
                }
            ))
        };
    }
    if let Some(error) = answer.get("error") {
        return Err(format!("refused: {error}"));
    }
    if &answer["envelope"] != g.expected_envelope() {
        return Err(format!(
            "envelope differs: expected {}, got {}",
            g.expected_envelope(),
            answer["envelope"]
        ));
    }
    let got = answer["payloads"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let expected = g.expected_payloads();
    if got.len() != expected.len() {
        return Err(format!(
            "{} payloads, expected {}",
            got.len(),
            expected.len()
        ));
    }
    for (i, (got, expected)) in got.iter().zip(expected).enumerate() {
        if got != expected {
            return Err(format!("payloads[{i}]: expected {expected}, got {got}"));
        }
    }
    if g.group == "canonical" {
        let encoded = answer["reencoded"].as_str().unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| "no re-encoded message".to_owned())?;
        if bytes != g.message {
            return Err(format!(
                "re-encoded bytes differ from the golden: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    Ok(())
}
