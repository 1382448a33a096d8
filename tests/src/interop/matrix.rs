//! One sender × receiver pair of the matrix: the send batch through a receiver agent, then a
//! request answered by a responder agent, each case checked against what was sent.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::agents::{Agent, Runtime};
use super::cases::{self, MessageSpec};

/// How long an agent may take to subscribe, or to print a line it owes.
const STEP_LIMIT: Duration = Duration::from_secs(30);

/// Where the servers of the run are.
#[derive(Debug, Clone)]
pub struct Servers {
    pub nats_url: String,
    pub fileserver_url: String,
}

/// The case files of the run (written by [`cases::write_case_file`]).
#[derive(Debug, Clone)]
pub struct CaseFiles {
    pub batch: PathBuf,
    pub request: PathBuf,
    pub object_store: PathBuf,
}

/// The outcome of one case of one pair.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub case: String,
    pub failure: Option<String>,
}

/// Runs every case of `sender` → `receiver`; the case files are in `work`.
pub fn run_pair(
    sender: Runtime,
    receiver: Runtime,
    servers: &Servers,
    files: &CaseFiles,
    work: &Path,
) -> Vec<CaseResult> {
    let mut batches = vec![(cases::send_batch(), &files.batch, "batch")];
    // Object Store links: between std SDKs, between std and the Python module (both
    // interpreters, both ways), and from std to the no_std SDK; Python and no_std read them
    // over plain NATS direct gets (issue 19)
    let python = |r: Runtime| matches!(r, Runtime::CPython | Runtime::MicroPython);
    let no_std = |r: Runtime| matches!(r, Runtime::NoStdTokio | Runtime::NoStdEmbassy);
    if (sender == Runtime::Std
        && (receiver == Runtime::Std || python(receiver) || no_std(receiver)))
        || (python(sender) && receiver == Runtime::Std)
    {
        batches.push((
            cases::object_store_messages(),
            &files.object_store,
            "object-store",
        ));
    }
    let mut results = Vec::new();
    for (batch, file, tag) in &batches {
        let run = send_and_receive(sender, receiver, servers, file, batch, &work.join(tag));
        results.extend(run.unwrap_or_else(|why| {
            batch
                .iter()
                .map(|m| CaseResult {
                    case: m.case.clone(),
                    failure: Some(why.clone()),
                })
                .collect()
        }));
    }
    let request = cases::request_message();
    results.push(CaseResult {
        failure: request_and_reply(sender, receiver, servers, &files.request, &request, work).err(),
        case: request.case,
    });
    results
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn send_and_receive(
    sender: Runtime,
    receiver: Runtime,
    servers: &Servers,
    batch_file: &Path,
    batch: &[MessageSpec],
    work: &Path,
) -> Result<Vec<CaseResult>, String> {
    let tag = format!("{}-to-{}", sender.name(), receiver.name());
    let subject = format!("interop.{}.{}", sender.name(), receiver.name());
    let (nats, files) = (servers.nats_url.as_str(), servers.fileserver_url.as_str());
    let count = batch.len().to_string();
    let mut listener = Agent::start(
        receiver,
        &args(&["receive", nats, files, &subject, &count]),
        work,
        &format!("{tag}-receive"),
    )?;
    listener.wait_ready(STEP_LIMIT)?;
    let batch_path = batch_file.to_string_lossy();
    let mut talker = Agent::start(
        sender,
        &args(&["send", nats, files, &subject, &batch_path]),
        work,
        &format!("{tag}-send"),
    )?;
    // Each sent message prints `{"sent": msg_id}` or `{"error": why}`.
    let mut sent: Vec<Result<String, String>> = Vec::new();
    // The link URLs a sender reports (the std agent does), per message.
    let mut links: Vec<Vec<String>> = vec![Vec::new(); batch.len()];
    for (i, _) in batch.iter().enumerate() {
        match talker.next_line(STEP_LIMIT) {
            Ok(line) => sent.push({
                links[i] = line["links"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect();
                match line["sent"].as_str() {
                    Some(id) => Ok(id.to_owned()),
                    None => Err(format!("the sender failed: {}", line["error"])),
                }
            }),
            Err(why) => {
                sent.push(Err(why));
                break;
            }
        }
    }
    let sender_done = talker.finish(STEP_LIMIT);
    let delivered = sent.iter().filter(|s| s.is_ok()).count();
    let mut received: Vec<Value> = Vec::new();
    let deadline = Instant::now() + STEP_LIMIT;
    while received.len() < delivered {
        let left = deadline.saturating_duration_since(Instant::now());
        match listener.next_line(left) {
            Ok(line) => received.push(line),
            Err(why) => {
                received.push(serde_json::json!({ "error": why }));
                break;
            }
        }
    }
    drop(listener);
    let results = batch
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let failure = match sent.get(i) {
                None => Some(format!(
                    "not sent: {}",
                    sender_done.clone().err().unwrap_or_default()
                )),
                Some(Err(why)) => Some(why.clone()),
                Some(Ok(_))
                    if message.object_store
                        && !links[i]
                            .iter()
                            .all(|l| l.starts_with("nats-object-store://")) =>
                {
                    Some(format!(
                        "the links are not in the Object Store: {:?}",
                        links[i]
                    ))
                }
                Some(Ok(id)) => match received.iter().find(|l| l["msg_id"] == id.as_str()) {
                    Some(line) => {
                        cases::check_received(message, id, line, receiver.decodes_typed()).err()
                    }
                    None => Some(not_received(id, &received)),
                },
            };
            CaseResult {
                case: message.case.clone(),
                failure,
            }
        })
        .collect();
    Ok(results)
}

/// Why message `id` is missing: the receiver's errors, if it printed any.
fn not_received(id: &str, received: &[Value]) -> String {
    let errors: Vec<String> = received
        .iter()
        .filter(|l| l.get("error").is_some() && l.get("msg_id").is_none_or(|m| m == id))
        .map(|l| l["error"].to_string())
        .collect();
    if errors.is_empty() {
        format!("message {id} was not received")
    } else {
        format!("message {id} was not received: {}", errors.join("; "))
    }
}

fn request_and_reply(
    sender: Runtime,
    receiver: Runtime,
    servers: &Servers,
    request_file: &Path,
    request: &MessageSpec,
    work: &Path,
) -> Result<(), String> {
    let tag = format!("{}-to-{}", sender.name(), receiver.name());
    let subject = format!("interop-rr.{}.{}", sender.name(), receiver.name());
    let (nats, files) = (servers.nats_url.as_str(), servers.fileserver_url.as_str());
    let mut responder = Agent::start(
        receiver,
        &args(&["reply", nats, files, &subject]),
        work,
        &format!("{tag}-reply"),
    )?;
    responder.wait_ready(STEP_LIMIT)?;
    let path = request_file.to_string_lossy();
    let mut requester = Agent::start(
        sender,
        &args(&["request", nats, files, &subject, &path]),
        work,
        &format!("{tag}-request"),
    )?;
    let sent = requester.next_line(STEP_LIMIT)?;
    let Some(request_id) = sent["sent"].as_str() else {
        return Err(format!("the requester failed: {}", sent["error"]));
    };
    let reply = requester.next_line(STEP_LIMIT)?;
    if let Some(error) = reply.get("error") {
        return Err(format!("the requester got no good reply: {error}"));
    }
    if reply["reply_to_msg_id"] != request_id {
        return Err(format!(
            "the reply's reply_to_msg_id is {}, the request's msg_id {request_id}",
            reply["reply_to_msg_id"]
        ));
    }
    cases::check_payloads(
        &request.payloads,
        &reply["payloads"],
        sender.decodes_typed(),
    )
    .map_err(|why| format!("reply: {why}"))?;
    requester.finish(STEP_LIMIT)?;
    responder.finish(STEP_LIMIT)
}
