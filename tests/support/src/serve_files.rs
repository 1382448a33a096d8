//! Our own file server, `natsbridge serve-files`, run as the real program on a free loopback
//! port with its own folder, for tests of the link transport and of its faults.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::process::{ChildGuard, stop_server};

/// How long the program may take to print its `listening on` line.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// A running `natsbridge serve-files`, killed when dropped.
pub struct ServeFiles {
    binary: PathBuf,
    options: ServeFilesBuilder,
    port: u16,
    guard: Option<ChildGuard>,
    dir: tempfile::TempDir,
}

/// Options of [`ServeFiles`]: the flags of `natsbridge serve-files`.
#[derive(Debug, Clone, Default)]
pub struct ServeFilesBuilder {
    binary: Option<PathBuf>,
    max_upload_bytes: Option<u64>,
    ttl_seconds: Option<u64>,
    upload_token: Option<String>,
    extra_args: Vec<String>,
}

impl ServeFilesBuilder {
    /// One more command-line argument for `serve-files` (a flag this builder does not name,
    /// such as `--idle-timeout`, or its value).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Runs this `natsbridge` program (in the `natsbridge-cli` crate's own tests,
    /// `env!("CARGO_BIN_EXE_natsbridge")`) instead of locating it (see [`ServeFiles::start`]).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// `--max-upload-bytes BYTES`.
    pub fn max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = Some(bytes);
        self
    }

    /// `--ttl SECONDS`.
    pub fn ttl_seconds(mut self, seconds: u64) -> Self {
        self.ttl_seconds = Some(seconds);
        self
    }

    /// `--upload-token TOKEN`.
    pub fn upload_token(mut self, token: impl Into<String>) -> Self {
        self.upload_token = Some(token.into());
        self
    }

    /// Starts the server on a free port in a new temporary folder.
    ///
    /// # Panics
    /// When the program cannot be built or found, or does not start (with its output).
    pub fn start(self) -> ServeFiles {
        let binary = self.binary.clone().unwrap_or_else(natsbridge_binary);
        let dir = tempfile::tempdir().expect("a temporary folder for serve-files");
        let mut server = ServeFiles {
            binary,
            options: self,
            port: 0,
            guard: None,
            dir,
        };
        server.launch();
        server
    }
}

impl ServeFiles {
    /// Starts `natsbridge serve-files` with no limits on a free port in a new temporary
    /// folder. The program is `$NATSBRIDGE_BIN` when set, else built once per test process
    /// with `cargo build -p natsbridge-cli --bin natsbridge` (into `$CARGO_TARGET_DIR` or the
    /// workspace's `target/`).
    ///
    /// # Panics
    /// When the program cannot be built or does not start (with its output).
    pub fn start() -> ServeFiles {
        ServeFiles::builder().start()
    }

    /// Options for the server before [`ServeFilesBuilder::start`].
    pub fn builder() -> ServeFilesBuilder {
        ServeFilesBuilder::default()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash): the `fileserver_url`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on (the same across [`ServeFiles::restart`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id of the running server (to read its memory in `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.guard.as_ref().and_then(ChildGuard::pid)
    }

    /// The folder it stores in: `PUT /a/b` lands in `dir()/a/b`.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// Kills the server; requests fail with connection errors until [`ServeFiles::restart`].
    /// Stored files stay.
    pub fn stop(&mut self) {
        stop_server(&mut self.guard, self.port);
    }

    /// Stops the server if it runs, then starts it again on the same port and folder.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn launch(&mut self) {
        let mut command = Command::new(&self.binary);
        command
            .arg("serve-files")
            .arg("--dir")
            .arg(self.dir())
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port));
        let options = &self.options;
        if let Some(bytes) = options.max_upload_bytes {
            command.arg("--max-upload-bytes").arg(bytes.to_string());
        }
        if let Some(seconds) = options.ttl_seconds {
            command.arg("--ttl").arg(seconds.to_string());
        }
        if let Some(token) = &options.upload_token {
            command.arg("--upload-token").arg(token);
        }
        command.args(&options.extra_args);
        let log = self.dir.path().join("serve-files.log");
        let install = "cargo build -p natsbridge-cli --bin natsbridge";
        let mut guard = ChildGuard::spawn(command, "natsbridge serve-files", &log, install);
        let port =
            guard.wait_for_line_prefix("listening on http://127.0.0.1:", &log, STARTUP_LIMIT);
        self.port = port
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("serve-files printed a port that is not one: {port:?}"));
        self.guard = Some(guard);
    }
}

/// The `natsbridge` program: `$NATSBRIDGE_BIN`, else built (once per process) by cargo.
pub fn natsbridge_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| cargo_built_binary("natsbridge-cli", "natsbridge", "NATSBRIDGE_BIN"))
        .clone()
}

/// The `faulty-http` program of this crate ([`FaultyHttp`](crate::FaultyHttp) as a process,
/// for other languages' suites): `$NATSBRIDGE_FAULTY_HTTP`, else built once per process.
pub fn faulty_http_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            cargo_built_binary(
                "natsbridge-test-support",
                "faulty-http",
                "NATSBRIDGE_FAULTY_HTTP",
            )
        })
        .clone()
}

/// `$variable` when set, else `cargo build -p package --bin bin` in the workspace and the
/// binary's path under `$CARGO_TARGET_DIR` or `target/`.
fn cargo_built_binary(package: &str, bin: &str, variable: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let status = Command::new(&cargo)
        .current_dir(&workspace)
        .args(["build", "--quiet", "-p", package, "--bin", bin])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?} to build {bin}: {e}"));
    assert!(
        status.success(),
        "`cargo build -p {package} --bin {bin}` failed ({status}) after {:?}",
        started.elapsed()
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace.join(dir)) // a relative one is relative to the workspace
        .unwrap_or_else(|| workspace.join("target"));
    let binary = target.join("debug").join(bin);
    assert!(
        binary.is_file(),
        "cargo built {bin} but {binary:?} is missing"
    );
    binary
}
