//! A real `nats-server` per test: its own loopback port, config file, JetStream store and
//! log, killed when the guard drops.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::NATS_SERVER_INSTALL;
use crate::process::{ChildGuard, STARTUP_LIMIT, free_port, program, stop_server};

/// Options for a [`NatsServer`]; start it with [`NatsServerBuilder::start`].
#[derive(Debug, Clone)]
pub struct NatsServerBuilder {
    max_payload: Option<usize>,
    jetstream: bool,
    user_password: Option<(String, String)>,
    token: Option<String>,
    extra_config: String,
}

impl NatsServerBuilder {
    /// The `max_payload` the server advertises (nats-server's default is 1 MiB).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// Whether JetStream (and so the Object Store) is enabled; on by default.
    pub fn jetstream(mut self, enabled: bool) -> Self {
        self.jetstream = enabled;
        self
    }

    /// Requires this user and password from every client.
    pub fn user_password(mut self, user: &str, password: &str) -> Self {
        self.user_password = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Requires this token from every client.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Appends `text` to the server's config file (NKey users, operator JWTs, `tls { .. }`).
    pub fn extra_config(mut self, text: &str) -> Self {
        self.extra_config.push_str(text);
        self.extra_config.push('\n');
        self
    }

    /// Starts the server on a free loopback port and returns once it accepts connections.
    ///
    /// # Panics
    /// When `nats-server` is not installed (the message says how to install it) or does not
    /// start; the test then fails loudly.
    pub fn start(self) -> NatsServer {
        let dir = tempfile::tempdir().expect("a temporary folder for nats-server");
        let config = dir.path().join("nats.conf");
        let mut server = NatsServer {
            port: 0,
            config,
            guard: None,
            _dir: dir,
        };
        // A port free a moment ago can be taken before the server binds it: then another port.
        for attempt in 1.. {
            server.port = free_port();
            std::fs::write(&server.config, self.config(server.port, server._dir.path()))
                .expect("writing nats.conf");
            match server.try_launch() {
                Ok(()) => break,
                Err(log) if attempt < 5 && log.contains("address already in use") => continue,
                Err(log) => panic!("{log}"),
            }
        }
        server
    }

    fn config(&self, port: u16, dir: &Path) -> String {
        let mut config = format!("listen: \"127.0.0.1:{port}\"\n");
        if let Some(bytes) = self.max_payload {
            config += &format!("max_payload: {bytes}\n");
        }
        if self.jetstream {
            let store = dir.join("jetstream");
            config += &format!(
                "jetstream {{ store_dir: {:?} }}\n",
                store.display().to_string()
            );
        }
        match (&self.user_password, &self.token) {
            (Some((user, password)), _) => {
                config += &format!("authorization {{ user: {user:?}, password: {password:?} }}\n");
            }
            (None, Some(token)) => config += &format!("authorization {{ token: {token:?} }}\n"),
            (None, None) => {}
        }
        config + &self.extra_config
    }
}

/// A running `nats-server` on `127.0.0.1`, killed when dropped.
///
/// ```no_run
/// let server = natsbridge_test_support::NatsServer::start();
/// assert!(server.url().starts_with("nats://127.0.0.1:"));
/// ```
pub struct NatsServer {
    port: u16,
    config: PathBuf,
    guard: Option<ChildGuard>,
    _dir: tempfile::TempDir,
}

impl NatsServer {
    /// A server with JetStream and the default limits.
    pub fn start() -> NatsServer {
        NatsServer::builder().start()
    }

    /// Options: `max_payload`, JetStream, user/password or token auth.
    pub fn builder() -> NatsServerBuilder {
        NatsServerBuilder {
            max_payload: None,
            jetstream: true,
            user_password: None,
            token: None,
            extra_config: String::new(),
        }
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (clients see the connection drop); [`NatsServer::restart`] brings it
    /// back on the same port with the same JetStream store.
    pub fn stop(&mut self) {
        stop_server(&mut self.guard, self.port);
    }

    /// Stops the server if it runs, then starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.config.with_file_name("nats-server.log")
    }

    fn launch(&mut self) {
        self.try_launch().unwrap_or_else(|log| panic!("{log}"));
    }

    /// Starts the server and waits until it says it is ready: a connection to the port alone
    /// could reach another test's server that holds it. `Err` with the log when it exits.
    fn try_launch(&mut self) -> Result<(), String> {
        let mut command = Command::new(program("nats-server"));
        command.arg("-c").arg(&self.config);
        let log = self.log_path();
        let mut guard = ChildGuard::spawn(command, "nats-server", &log, NATS_SERVER_INSTALL);
        guard.wait_for_line_containing("Server is ready", &log, STARTUP_LIMIT)?;
        guard.wait_for_port(self.port, &log);
        self.guard = Some(guard);
        Ok(())
    }
}
