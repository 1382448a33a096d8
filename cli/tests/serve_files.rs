//! `natsbridge serve-files` as users run it: the real program, its `listening on` line, its
//! flags, its errors and its exit on Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use natsbridge_test_support::ServeFiles;

const NATSBRIDGE: &str = env!("CARGO_BIN_EXE_natsbridge");
const PATIENCE: Duration = Duration::from_secs(60);

/// The program as a child, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn wait_for_exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("checking the child") {
                return status;
            }
            assert!(started.elapsed() < PATIENCE, "natsbridge did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn http(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to serve-files");
    stream.write_all(request).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn prints_one_listening_line_serves_and_exits_cleanly_on_ctrl_c() {
    let folder = tempfile::tempdir().unwrap();
    let mut child = Running(
        Command::new(NATSBRIDGE)
            .args([
                "serve-files",
                "--listen",
                "127.0.0.1:0",
                "--upload-token",
                "tok",
            ])
            .arg("--dir")
            .arg(folder.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("running natsbridge"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let (line_sender, line) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        line_sender.send(first).unwrap();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        rest
    });
    let first = line.recv_timeout(PATIENCE).expect("a listening line");
    let port: u16 = first
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix('\n'))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("not the listening line: {first:?}"));

    let refused = http(
        port,
        b"PUT /x.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let stored = http(
        port,
        b"PUT /x.txt HTTP/1.1\r\nHost: h\r\nX-PlikToken: tok\r\nContent-Length: 2\r\n\
          Connection: close\r\n\r\nhi",
    );
    assert!(stored.starts_with("HTTP/1.1 201"), "{stored}");
    assert_eq!(std::fs::read(folder.path().join("x.txt")).unwrap(), b"hi");

    // Ctrl-C is SIGINT; the shell's own `kill` needs nothing installed.
    let interrupted = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.0.id())])
        .status()
        .expect("running sh");
    assert!(interrupted.success());
    let status = child.wait_for_exit();
    assert!(status.success(), "exit after Ctrl-C: {status}");
    assert_eq!(reader.join().unwrap(), "", "more than one line on stdout");
}

#[test]
fn the_fixture_runs_the_program_with_its_limits() {
    let server = ServeFiles::builder()
        .binary(NATSBRIDGE)
        .max_upload_bytes(10)
        .ttl_seconds(1)
        .start();
    let too_big = http(
        server.port(),
        b"PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nConnection: close\r\n\r\n0123456789A",
    );
    assert!(too_big.starts_with("HTTP/1.1 413"), "{too_big}");
    let small = http(
        server.port(),
        b"PUT /small HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
    );
    assert!(small.starts_with("HTTP/1.1 201"), "{small}");
    let stored = server.dir().join("small");
    assert!(stored.is_file());
    let started = Instant::now();
    while stored.exists() {
        assert!(
            started.elapsed() < PATIENCE,
            "--ttl 1 never removed {stored:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!server.dir().join("big").exists());
}

fn run_expecting_failure(args: &[&str], dir: Option<&Path>) -> String {
    let mut command = Command::new(NATSBRIDGE);
    command.args(args);
    if let Some(dir) = dir {
        command.arg("--dir").arg(dir);
    }
    let output = command.output().expect("running natsbridge");
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_flags_fail_naming_the_flag_or_folder() {
    let folder = tempfile::tempdir().unwrap();
    let error = run_expecting_failure(&["serve-files", "--listen", "nowhere"], Some(folder.path()));
    assert!(error.contains("--listen"), "{error}");
    let error = run_expecting_failure(
        &["serve-files", "--listen", "127.0.0.1:0", "--ttl", "soon"],
        Some(folder.path()),
    );
    assert!(error.contains("--ttl"), "{error}");
    let error = run_expecting_failure(&["serve-files", "--listen", "127.0.0.1:0"], None);
    assert!(error.contains("--dir"), "{error}");

    let a_file = folder.path().join("not-a-folder");
    std::fs::write(&a_file, "x").unwrap();
    let error = run_expecting_failure(&["serve-files", "--listen", "127.0.0.1:0"], Some(&a_file));
    assert!(error.contains("not-a-folder"), "{error}");
}
