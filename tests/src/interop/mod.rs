//! The cross-language interop matrix: every runtime sends to every runtime over one real
//! `nats-server` and `natsbridge serve-files`, and every SDK is held to the goldens.
//!
//! The harness (`cargo run -p natsbridge-tests --bin interop -- --report DIR`) starts the
//! servers on free loopback ports, then drives *agents*, one small program per runtime
//! ([`agents::Runtime`]), as child processes. All agents speak one command-line protocol and
//! print one JSON line per result:
//!
//! | command | prints |
//! |---|---|
//! | `receive NATS FILES SUBJECT COUNT` | `{"ready":true}` once subscribed, then per message `{"msg_id","reply_to_msg_id","payloads":[{"dataname","type","transport","size","sha256","typed"?}]}` or `{"error"}` |
//! | `send NATS FILES SUBJECT CASEFILE` | per message of the case file (see [`cases::write_case_file`]) `{"sent": msg_id}` or `{"error"}` |
//! | `reply NATS FILES SUBJECT` | `{"ready":true}`, then answers one request with the payloads it carried |
//! | `request NATS FILES SUBJECT CASEFILE` | `{"sent": msg_id}`, then the reply as a received message |
//! | `goldens DIR` | per golden `{"id","envelope","payloads","reencoded"}` or `{"id","error":{"kind","at"}}` |
//!
//! `size` and `sha256` are those of the serialized data (WIRE.md section 4; text and
//! dictionaries re-serialized canonically, keys sorted). Senders are configured with the file
//! server the harness started (Plik API; the nats-py peer uploads by plain HTTP `PUT`).
//!
//! The `typed` case (issue 21) sends a typed payload (WIRE.md section 10): a `SensorReading`
//! of `codegen/examples/payloads/device.schema.json` (the `sensor_reading` payload golden),
//! marked `schema_type` in the case file. Our SDKs' senders decode it into their generated
//! type and send it through their typed API (metadata `schema_type`, keys in schema order);
//! the nats-py peer sends the text as a plain dictionary of the original shape, adding the
//! metadata by hand. Our receivers decode a payload that names its type as that generated
//! type and print `typed`: the SHA-256 of its canonical re-encoding, which must be the sent
//! bytes' (or `{"error"}`); the nats-py peer reads it as any dictionary and prints no `typed`.
//!
//! The network: the harness re-runs itself in a network namespace of its own (`unshare -n`,
//! root), so the servers, every agent and the embassy-net agents' TAP devices share one
//! private network. Servers listen on the namespace's 127.0.0.1; each embassy-net agent adds
//! its own TAP device and relays its host side to those ports (see its module doc), so its
//! whole TCP/IP stack is exercised while links keep the one URL every receiver fetches.

pub mod agents;
pub mod cases;
pub mod goldens;
pub mod matrix;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use natsbridge_test_support::{NatsServer, ServeFiles};

use agents::Runtime;
use report::{Cell, Verdict};

/// Pairs run at the same time (each runs its agents one after the other).
const CONCURRENT_PAIRS: usize = 4;

/// The JetStream stream that captures the matrix's subjects, so JetStream publishes are acked.
pub const STREAM: &str = "INTEROP";

/// Creates the stream [`STREAM`] over `interop.>`.
fn create_stream(nats_url: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let client = natsbridge::connect(nats_url)
            .await
            .expect("connecting to nats-server");
        let config = natsbridge::async_nats::jetstream::stream::Config {
            name: STREAM.to_owned(),
            subjects: vec!["interop.>".to_owned()],
            storage: natsbridge::async_nats::jetstream::stream::StorageType::Memory,
            ..Default::default()
        };
        client
            .jetstream()
            .create_stream(config)
            .await
            .expect("creating the interop stream");
    });
}

/// Runs the whole matrix and the golden rows; `work` holds case files and agent logs;
/// `natsbridge` is the program that serves files (else the test support finds or builds it).
pub fn run(work: &Path, natsbridge: Option<PathBuf>) -> Verdict {
    let started = Instant::now();
    let nats = NatsServer::builder().jetstream(true).start();
    let files = match natsbridge {
        Some(binary) => ServeFiles::builder().binary(binary).start(),
        None => ServeFiles::start(),
    };
    create_stream(&nats.url());
    let servers = matrix::Servers {
        nats_url: nats.url(),
        fileserver_url: files.url(),
    };
    let case_files = matrix::CaseFiles {
        batch: cases::write_case_file(work, "batch", &cases::send_batch()),
        request: cases::write_case_file(work, "request", &[cases::request_message()]),
        object_store: cases::write_case_file(work, "object-store", &cases::object_store_messages()),
    };
    for tag in ["batch", "object-store"] {
        std::fs::create_dir_all(work.join(tag)).expect("creating a log folder");
    }

    enum Job {
        Pair(Runtime, Runtime),
        Goldens(Runtime),
    }
    let mut jobs: Vec<Job> = Runtime::ALL
        .iter()
        .filter(|r| r.runs_goldens())
        .map(|r| Job::Goldens(*r))
        .collect();
    for sender in Runtime::ALL {
        for receiver in Runtime::ALL {
            jobs.push(Job::Pair(sender, receiver));
        }
    }
    jobs.reverse();
    let queue = Mutex::new(jobs);
    let matrix_cells = Mutex::new(Vec::new());
    let golden_cells = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENT_PAIRS {
            scope.spawn(|| {
                while let Some(job) = queue.lock().expect("the job queue").pop() {
                    match job {
                        Job::Pair(sender, receiver) => {
                            let results =
                                matrix::run_pair(sender, receiver, &servers, &case_files, work);
                            eprintln!(
                                "interop: {} -> {}: {}/{}",
                                sender.name(),
                                receiver.name(),
                                results.iter().filter(|r| r.failure.is_none()).count(),
                                results.len()
                            );
                            matrix_cells.lock().expect("cells").push(Cell {
                                sender: sender.name().into(),
                                receiver: receiver.name().into(),
                                results,
                            });
                        }
                        Job::Goldens(runtime) => {
                            let results = goldens::run(runtime, work);
                            eprintln!("interop: goldens @ {}: done", runtime.name());
                            golden_cells.lock().expect("cells").push(Cell {
                                sender: "goldens".into(),
                                receiver: runtime.name().into(),
                                results,
                            });
                        }
                    }
                }
            });
        }
    });
    let mut golden_cells = golden_cells.into_inner().expect("cells");
    let order = |name: &str| Runtime::ALL.iter().position(|r| r.name() == name);
    golden_cells.sort_by_key(|c| order(&c.receiver));
    let matrix_cells = matrix_cells.into_inner().expect("cells");
    let known = report::known_failures();
    report::build(
        &matrix_cells,
        &golden_cells,
        &known,
        started.elapsed().as_secs_f64(),
    )
}

/// A fresh work folder under the system's temporary folder.
pub fn work_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("natsbridge-interop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the work folder");
    dir
}
