//! The round trips of a variant through a real `nats-server`, and its goldens: each agent is
//! a child process speaking the protocol of [`super::agents`]; every check of every change
//! runs on every pair, in parallel, and is judged on its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;

use super::workspace::Built;
use super::{ALL_TYPES, Check, Outcome, Variant, drill_dir, patch, root};

/// The four runtimes of the drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Std,
    NoStd,
    CPython,
    MicroPython,
}

use Runtime::{CPython, MicroPython, NoStd, Std};

/// The runtimes in the order goldens are checked.
pub const RUNTIMES: [Runtime; 4] = [Std, NoStd, CPython, MicroPython];

/// Who sends to whom for a check whose sender sets the field.
pub const PAIRS: [(Runtime, Runtime); 4] = [
    (Std, CPython),
    (CPython, NoStd),
    (NoStd, MicroPython),
    (MicroPython, Std),
];

/// How long an agent may take for one line.
const LINE_LIMIT: Duration = Duration::from_secs(60);

impl Runtime {
    pub fn name(self) -> &'static str {
        match self {
            Std => "std",
            NoStd => "no_std",
            CPython => "cpython",
            MicroPython => "micropython",
        }
    }

    fn command(self, built: &Built) -> Result<Command, String> {
        let agent = |built: &Result<PathBuf, String>| {
            built
                .as_ref()
                .map(Command::new)
                .map_err(|e| format!("the {} agent did not build: {e}", self.name()))
        };
        Ok(match self {
            Std => agent(&built.std_agent)?,
            NoStd => agent(&built.no_std_agent)?,
            CPython | MicroPython => {
                let program = if self == CPython {
                    "python3".into()
                } else {
                    crate::tools::program("micropython")
                };
                let mut command = Command::new(program);
                command.arg(&built.python_agent);
                command
            }
        })
    }
}

/// A running agent, killed when dropped; its JSON lines arrive on a channel.
struct Agent {
    child: Child,
    lines: Receiver<String>,
    what: String,
}

impl Agent {
    fn start(runtime: Runtime, built: &Built, args: &[&str], log: &Path) -> Result<Agent, String> {
        let what = format!("{} {}", runtime.name(), args.join(" "));
        let stderr = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = runtime
            .command(built)?
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Agent { child, lines, what })
    }

    /// The next JSON line, or why there is none.
    fn line(&self) -> Result<Value, String> {
        let line = self
            .lines
            .recv_timeout(LINE_LIMIT)
            .map_err(|_| format!("`{}` printed nothing more", self.what))?;
        serde_json::from_str(&line).map_err(|_| format!("`{}` printed {line:?}", self.what))
    }

    /// Every line until the agent exits, and how it exited.
    fn all_lines(mut self) -> (Vec<Value>, String) {
        let status = match self.child.wait() {
            Ok(status) => status.to_string(),
            Err(e) => format!("not known ({e})"),
        };
        // The reader thread may still be draining the pipe after the exit: read until it
        // hangs up at end of file (a line limit guards against a grandchild holding the pipe).
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(LINE_LIMIT) {
            lines.extend(serde_json::from_str::<Value>(&line).ok());
        }
        (lines, status)
    }
}

/// The last lines of an agent's log (its stderr), for a failure message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(6)..]
        .iter()
        .map(|l| l.chars().take(300).collect::<String>())
        .collect::<Vec<_>>()
        .join(" | ")
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Numbers equal by value (`-2` and `-2.0`), everything else structurally; a member that is
/// `null` matches an absent one (an optional field left out).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).all(|k| {
            same(
                x.get(k).unwrap_or(&Value::Null),
                y.get(k).unwrap_or(&Value::Null),
            )
        }),
        _ => a == b,
    }
}

/// The checked field of a receiver's re-encoded envelope (`null` when absent).
fn field_of(encoded: &Value, check: &Check) -> Value {
    let holder = if check.level == "payload" {
        &encoded["payloads"][0]
    } else {
        encoded
    };
    holder.get(&check.field).cloned().unwrap_or(Value::Null)
}

fn error_matches(line: &Value, want: &Value) -> Result<(), String> {
    let got = &line["error"];
    if got["kind"] == want["kind"] && got["at"] == want["at"] {
        Ok(())
    } else {
        Err(format!("expected the error {want}, got {line}"))
    }
}

/// Publishes `body` on `subject` with a few lines of the NATS protocol, then waits for the
/// server's PONG (it has then handled the publish).
fn publish_raw(nats: &str, subject: &str, body: &[u8]) -> Result<(), String> {
    let address = nats.trim_start_matches("nats://");
    let mut stream = TcpStream::connect(address).map_err(|e| format!("{address}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut frame = format!(
        "CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\nPUB {subject} {}\r\n",
        body.len()
    )
    .into_bytes();
    frame.extend_from_slice(body);
    frame.extend_from_slice(b"\r\nPING\r\n");
    stream.write_all(&frame).map_err(|e| e.to_string())?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("PONG") {
        let n = stream.read(&mut buf).map_err(|e| format!("no PONG: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection before PONG".into());
        }
        seen.extend_from_slice(&buf[..n]);
    }
    if String::from_utf8_lossy(&seen).contains("-ERR") {
        return Err(format!(
            "the server said {}",
            String::from_utf8_lossy(&seen)
        ));
    }
    Ok(())
}

/// The message a receive-side check publishes: a canonical golden with `inject` applied.
fn injected(inject: &Value) -> Result<Vec<u8>, String> {
    let path = crate::golden::group_dir("canonical").join("text_direct.msg");
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut message: Value = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    patch::apply(&mut message, inject)?;
    serde_json::to_vec(&message).map_err(|e| e.to_string())
}

/// One check between a sender (`None`: the harness publishes `inject`) and a receiver.
struct Job<'v> {
    name: String,
    case: String,
    check: &'v Check,
    sender: Option<Runtime>,
    receiver: Runtime,
    subject: String,
}

fn exchange(built: &Built, nats: &str, job: &Job<'_>, logs: &Path) -> Result<String, String> {
    let Job {
        case,
        check,
        sender,
        receiver,
        subject,
        ..
    } = job;
    let (case, subject, receiver) = (case.as_str(), subject.as_str(), *receiver);
    let log = |role: &str, r: Runtime| logs.join(format!("{subject}.{role}.{}.log", r.name()));
    let refuses = |r: Runtime| r == NoStd && check.no_std.is_some();
    let args = ["receive", case, nats, subject];
    let rx = Agent::start(receiver, built, &args, &log("receive", receiver))?;
    let ready = rx.line()?;
    if ready["ready"] != true {
        return Err(format!("the receiver said {ready}"));
    }
    match *sender {
        Some(s) => {
            let args = ["send", case, nats, subject];
            let sent = Agent::start(s, built, &args, &log("send", s))?.line()?;
            if refuses(s) {
                let want = check.no_std.as_ref().expect("checked");
                return error_matches(&sent, want)
                    .map(|()| format!("{} refused: {sent}", s.name()));
            }
            if sent.get("sent").is_none() {
                return Err(format!("the sender said {sent}"));
            }
        }
        None => publish_raw(
            nats,
            subject,
            &injected(
                check
                    .inject
                    .as_ref()
                    .ok_or("a check with no value and no inject")?,
            )?,
        )?,
    }
    let got = rx.line()?;
    if refuses(receiver) {
        let want = check.no_std.as_ref().expect("checked");
        return error_matches(&got, want).map(|()| format!("{} refused: {got}", receiver.name()));
    }
    if got.get("encoded").is_none() {
        return Err(format!("the receiver said {got}"));
    }
    let value = field_of(&got["encoded"], check);
    if same(&value, &check.expect) {
        Ok(format!("read {}", got["read"]))
    } else {
        Err(format!(
            "expected {} = {}, the receiver has {value} (read {})",
            check.field, check.expect, got["read"]
        ))
    }
}

/// Every check of `variant` on every pair (or every receiver, for injected messages), then
/// (for the all-types variant) the goldens of `tests/golden/all_types/`.
pub fn run_variant(variant: &Variant, built: &Built, nats: &str, outcome: &mut Outcome) {
    let logs = drill_dir().join(&variant.name).join("logs");
    let _ = std::fs::create_dir_all(&logs);
    outcome.record(
        format!("{}: the example firmware builds", variant.name),
        built.firmware.clone(),
    );
    let mut jobs = Vec::new();
    for (n, (case, check)) in variant.cases().enumerate() {
        let routes: Vec<(Option<Runtime>, Runtime)> = if check.inject.is_some() {
            RUNTIMES.iter().map(|&r| (None, r)).collect()
        } else {
            PAIRS.iter().map(|&(s, r)| (Some(s), r)).collect()
        };
        for (sender, receiver) in routes {
            let from = sender.map_or("harness", Runtime::name);
            let name = format!("{}: {case} {from} -> {}", variant.name, receiver.name());
            let subject = format!("drill.{}.{n}.{from}.{}", variant.name, receiver.name());
            jobs.push(Job {
                name,
                case: case.clone(),
                check,
                sender,
                receiver,
                subject,
            });
        }
    }
    // A few exchanges at a time: each is two short-lived processes.
    for chunk in jobs.chunks(6) {
        let results: Vec<(String, Result<String, String>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|job| {
                    let logs = &logs;
                    scope.spawn(move || (job.name.clone(), exchange(built, nats, job, logs)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an exchange thread"))
                .collect()
        });
        for (name, result) in results {
            if let Ok(note) = &result {
                println!("drill:   {name}: {note}");
            }
            outcome.record(name, result.map(drop));
        }
    }
    if variant.name == ALL_TYPES {
        goldens(built, &logs, outcome);
    }
}

/// `tests/golden/all_types/`: the goldens of the all-types schema.
pub fn all_types_goldens() -> PathBuf {
    root().join("tests/golden/all_types")
}

/// Holds every runtime of the all-types variant to the goldens of `tests/golden/all_types/`.
fn goldens(built: &Built, logs: &Path, outcome: &mut Outcome) {
    for group in crate::golden::GROUPS {
        let dir = all_types_goldens().join(group);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| f.strip_suffix(".expect.json").map(str::to_owned))
            .collect();
        names.sort();
        if names.is_empty() {
            outcome.record(
                format!("{ALL_TYPES}: goldens {group}"),
                Err(format!("no goldens in {}", dir.display())),
            );
            continue;
        }
        for runtime in RUNTIMES {
            let log = logs.join(format!("goldens.{group}.{}.log", runtime.name()));
            let dir_arg = dir.to_string_lossy().into_owned();
            let (lines, status) = match Agent::start(runtime, built, &["goldens", &dir_arg], &log) {
                Ok(agent) => agent.all_lines(),
                Err(e) => {
                    outcome.record(
                        format!("{ALL_TYPES}: goldens {group} {}", runtime.name()),
                        Err(e),
                    );
                    continue;
                }
            };
            for name in &names {
                let result = judge_golden(&dir, name, runtime, &lines).map_err(|e| {
                    if lines.iter().any(|l| l["id"] == name.as_str()) {
                        e
                    } else {
                        format!(
                            "{e}: the agent exited with {status}; its log {} ends: {}",
                            log.display(),
                            log_tail(&log)
                        )
                    }
                });
                outcome.record(
                    format!("{ALL_TYPES}: golden {group}/{name} {}", runtime.name()),
                    result,
                );
            }
        }
    }
}

fn judge_golden(dir: &Path, name: &str, runtime: Runtime, lines: &[Value]) -> Result<(), String> {
    let read = |ext: &str| std::fs::read(dir.join(format!("{name}.{ext}")));
    let message = read("msg").map_err(|e| e.to_string())?;
    let expect: Value = serde_json::from_slice(&read("expect.json").map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let line = lines
        .iter()
        .find(|l| l["id"] == name)
        .ok_or("no answer (the agent stopped?)")?;
    let error = &expect["error"];
    let refuses = !error.is_null() && (error["sdks"] == "all" || runtime == NoStd);
    if refuses {
        return error_matches(line, error);
    }
    let reencoded = line["reencoded"]
        .as_str()
        .ok_or_else(|| format!("decoding failed: {line}"))?;
    let decoded: Value = serde_json::from_str(reencoded).map_err(|e| format!("re-encoded: {e}"))?;
    for (key, want) in expect["envelope"].as_object().into_iter().flatten() {
        let got = decoded.get(key).unwrap_or(&Value::Null);
        if !same(got, want) {
            return Err(format!("{key}: expected {want}, decoded {got}"));
        }
    }
    if dir.ends_with("canonical") && reencoded.as_bytes() != message.as_slice() {
        return Err(format!(
            "re-encoded differently: {reencoded} instead of {}",
            String::from_utf8_lossy(&message)
        ));
    }
    Ok(())
}
