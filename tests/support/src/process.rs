//! Child processes of the tests: finding programs, free ports, waiting until a server
//! accepts connections, and a guard that kills the child when dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to accept its first connection before the test fails.
pub(crate) const STARTUP_LIMIT: Duration = Duration::from_secs(20);

/// The program to run for `name`: `name` itself when it is on `PATH`, else the file of that
/// name in the scripts folder of `python3` (pip's console scripts, which pyenv and user
/// installs leave off `PATH`), else `/usr/sbin/name`, else `name` (so that running it fails
/// with the caller's install hint).
pub fn program(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()));
    if on_path {
        return PathBuf::from(name);
    }
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let candidates = scripts
        .map(|dir| dir.join(name))
        .into_iter()
        .chain([Path::new("/usr/sbin").join(name)]);
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    PathBuf::from(name)
}

/// A loopback port that was free a moment ago, from below the kernel's ephemeral range: the
/// OS hands ports of that range to every outgoing connection (and to `bind(0)`), so a port
/// taken from it can be in use by a client socket, or picked again by another test, before
/// the server binds it. Below it only other tests' servers pick, at random.
pub fn free_port() -> u16 {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    const LOWEST: u16 = 10_000;
    if ephemeral_low > LOWEST + 1_000 {
        for _ in 0..200 {
            let port = LOWEST + (random_u64() % u64::from(ephemeral_low - LOWEST)) as u16;
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return port;
            }
        }
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("binding 127.0.0.1:0 to find a free port")
}

/// A random number from the standard library's per-process hash keys and a counter.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// A running child process, killed and reaped on drop.
pub(crate) struct ChildGuard {
    child: Option<Child>,
    what: String,
}

impl ChildGuard {
    /// Starts `command` (stdout and stderr to `log`), failing loudly with `install` when the
    /// program is missing.
    pub(crate) fn spawn(mut command: Command, what: &str, log: &Path, install: &str) -> Self {
        let log_file = std::fs::File::create(log).expect("creating a server log file");
        let log_err = log_file.try_clone().expect("cloning a log file handle");
        command
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot start {what} ({:?}): {error}; install it with `{install}`",
                command.get_program()
            )
        });
        ChildGuard {
            child: Some(child),
            what: what.to_owned(),
        }
    }

    /// Waits until `port` on loopback accepts a connection; panics with the server's log when
    /// the child exits first or the startup limit passes.
    pub(crate) fn wait_for_port(&mut self, port: u16, log: &Path) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            let child = self.child.as_mut().expect("a running child");
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!(
                    "{} exited with {status} before listening on {addr}:\n{log}",
                    self.what
                );
            }
            if started.elapsed() > STARTUP_LIMIT {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!(
                    "{} did not listen on {addr} within {STARTUP_LIMIT:?}:\n{log}",
                    self.what
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the child's `log` has a line starting with `prefix` and returns the rest of
    /// that line; panics with the log when the child exits first or `limit` passes.
    pub(crate) fn wait_for_line_prefix(
        &mut self,
        prefix: &str,
        log: &Path,
        limit: Duration,
    ) -> String {
        self.wait_for_line(&format!("a line starting {prefix:?}"), log, limit, |line| {
            line.strip_prefix(prefix).map(str::to_owned)
        })
        .unwrap_or_else(|text| panic!("{text}"))
    }

    /// Waits until the child's `log` has a line holding `needle`. `Err` with the log when the
    /// child exits first (a server that could not bind its port, for one); panics when `limit`
    /// passes.
    pub(crate) fn wait_for_line_containing(
        &mut self,
        needle: &str,
        log: &Path,
        limit: Duration,
    ) -> Result<(), String> {
        self.wait_for_line(&format!("{needle:?}"), log, limit, |line| {
            line.contains(needle).then_some(String::new())
        })
        .map(drop)
    }

    fn wait_for_line(
        &mut self,
        what: &str,
        log: &Path,
        limit: Duration,
        matches: impl Fn(&str) -> Option<String>,
    ) -> Result<String, String> {
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            // Only whole lines: the child may be halfway through writing one.
            let whole_lines = text.rsplit_once('\n').map_or("", |(lines, _)| lines);
            if let Some(found) = whole_lines.lines().find_map(&matches) {
                return Ok(found);
            }
            let child = self.child.as_mut().expect("a running child");
            if let Ok(Some(status)) = child.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!(
                    "{} exited with {status} before printing {what}:\n{text}",
                    self.what
                ));
            }
            assert!(
                started.elapsed() < limit,
                "{} did not print {what} within {limit:?}:\n{text}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The child's process id, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the child and waits for it to exit.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills the server in `guard`, if one runs, and waits until its `port` is closed.
pub(crate) fn stop_server(guard: &mut Option<ChildGuard>, port: u16) {
    if let Some(mut running) = guard.take() {
        running.kill();
        wait_until_closed(port);
    }
}

/// Waits until nothing accepts connections on `port` any more (a killed server's socket is
/// closed by the kernel once the process is reaped; this makes that visible to the test).
pub(crate) fn wait_until_closed(port: u16) {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
        assert!(
            started.elapsed() < STARTUP_LIMIT,
            "port {port} still accepts connections after its server was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
