//! The agents: one small program per runtime, all speaking the command-line protocol of
//! [`crate::interop`], started as child processes whose JSON lines the harness reads.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A runtime that sends and receives in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// The std Rust SDK (`natsbridge`) on tokio.
    Std,
    /// The no_std SDK (`natsbridge-embedded`) built for the host, over tokio sockets.
    NoStdTokio,
    /// The no_std SDK on embassy-net's TCP/IP stack over a TAP device
    /// (`sdk-embedded/tap-test/src/bin/interop_embassy.rs`).
    NoStdEmbassy,
    /// `nats_bridge.py` on CPython.
    CPython,
    /// `nats_bridge.py` on the MicroPython unix port.
    MicroPython,
    /// Plain `json`/`base64` code on nats-py, the official CPython client: a peer none of
    /// our SDKs wrote, sending the shapes of the original editions.
    NatsPy,
}

impl Runtime {
    /// Every runtime, in the order of the report.
    pub const ALL: [Runtime; 6] = [
        Runtime::Std,
        Runtime::NoStdTokio,
        Runtime::NoStdEmbassy,
        Runtime::CPython,
        Runtime::MicroPython,
        Runtime::NatsPy,
    ];

    /// The name in the report and in the known-failure file names.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Std => "std",
            Runtime::NoStdTokio => "no_std-tokio",
            Runtime::NoStdEmbassy => "no_std-embassy",
            Runtime::CPython => "cpython",
            Runtime::MicroPython => "micropython",
            Runtime::NatsPy => "nats-py",
        }
    }

    /// Whether the runtime is held to the goldens: each SDK once (the embassy-net agent runs
    /// the same no_std codec as `no_std-tokio`), not the nats-py peer.
    pub fn runs_goldens(self) -> bool {
        !matches!(self, Runtime::NatsPy | Runtime::NoStdEmbassy)
    }

    /// Whether the runtime's agent decodes a received typed payload (WIRE.md section 10) as
    /// its generated type and reports it (`typed`): our SDKs do, the nats-py peer reads it as
    /// the original editions read any dictionary.
    pub fn decodes_typed(self) -> bool {
        self != Runtime::NatsPy
    }

    /// The command that runs this runtime's agent with `args`.
    pub fn command(self, args: &[String]) -> Command {
        let interop = interop_dir();
        let mut command = match self {
            Runtime::Std | Runtime::NoStdTokio => {
                let exe = std::env::current_exe().expect("the harness's own path");
                let mut c = Command::new(exe);
                c.arg("agent").arg(self.name());
                c
            }
            Runtime::NoStdEmbassy => Command::new(embassy_agent()),
            Runtime::CPython => {
                let mut c = Command::new("python3");
                c.arg(interop.join("agent.py"));
                c
            }
            Runtime::MicroPython => {
                let mut c = Command::new(crate::tools::program("micropython"));
                c.arg(interop.join("agent.py"));
                c
            }
            Runtime::NatsPy => {
                let mut c = Command::new("python3");
                c.arg(interop.join("peer_nats_py.py"));
                c
            }
        };
        command.args(args);
        command.env(
            "NATSBRIDGE_PYTHON_SDK",
            interop
                .join("../../sdk-python")
                .canonicalize()
                .unwrap_or_default(),
        );
        command
    }
}

/// The embassy-net agent's program: `$NATSBRIDGE_EMBASSY_AGENT`, else beside the harness.
pub fn embassy_agent() -> PathBuf {
    std::env::var_os("NATSBRIDGE_EMBASSY_AGENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("the harness's own path");
            exe.with_file_name(EMBASSY_AGENT)
        })
}

/// The name of the embassy-net agent's binary (package `natsbridge-embedded-tap`).
pub const EMBASSY_AGENT: &str = "natsbridge-interop-embassy";

/// `tests/interop/`: the Python agents and the known-failure lists.
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// A running agent whose stdout lines arrive on a channel; killed when dropped.
pub struct Agent {
    child: Child,
    lines: Receiver<String>,
    what: String,
    stderr: PathBuf,
}

impl Agent {
    /// Starts `runtime`'s agent with `args`, its stderr kept in `log_dir`.
    pub fn start(
        runtime: Runtime,
        args: &[String],
        log_dir: &Path,
        tag: &str,
    ) -> Result<Agent, String> {
        let what = format!("{} {}", runtime.name(), args.join(" "));
        let stderr = log_dir.join(format!("{tag}.stderr"));
        let err_file = std::fs::File::create(&stderr).map_err(|e| format!("{e}"))?;
        let mut child = runtime
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("cannot start the {} agent: {e}", runtime.name()))?;
        let stdout = child.stdout.take().expect("a piped stdout");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Agent {
            child,
            lines,
            what,
            stderr,
        })
    }

    /// The next JSON line, within `limit`.
    pub fn next_line(&mut self, limit: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => match serde_json::from_str(&line) {
                    Ok(value) => return Ok(value),
                    Err(_) => continue, // not ours: an interpreter's warning on stdout
                },
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "`{}` printed nothing within {limit:?}{}",
                        self.what,
                        self.stderr_tail()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(format!(
                        "`{}` ended ({status}) before printing what was expected{}",
                        self.what,
                        self.stderr_tail()
                    ));
                }
            }
        }
    }

    /// Waits for the `{"ready": true}` line (the agent's subscription is known to the server).
    pub fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let line = self.next_line(limit)?;
        if line["ready"] == true {
            Ok(())
        } else {
            Err(format!("`{}` printed {line} instead of ready", self.what))
        }
    }

    /// Waits for the agent to exit successfully within `limit`.
    pub fn finish(mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(format!(
                        "`{}` failed ({status}){}",
                        self.what,
                        self.stderr_tail()
                    ));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => return Err(format!("`{}` did not end within {limit:?}", self.what)),
            }
        }
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(6).collect();
        if tail.is_empty() {
            String::new()
        } else {
            let lines: Vec<&str> = tail.into_iter().rev().collect();
            format!("; stderr: {}", lines.join(" | "))
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
