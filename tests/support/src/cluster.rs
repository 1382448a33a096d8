//! A three-node (or n-node) `nats-server` cluster with JetStream on loopback, for fault tests
//! that kill one node during a run: each node its own ports, store and log.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::NATS_SERVER_INSTALL;
use crate::process::{ChildGuard, free_port, program, stop_server};

struct Node {
    port: u16,
    config: PathBuf,
    guard: Option<ChildGuard>,
}

/// A running cluster on `127.0.0.1`, every node killed when dropped.
///
/// ```no_run
/// let mut cluster = natsbridge_test_support::NatsCluster::start(3);
/// let urls = cluster.urls(); // "nats://127.0.0.1:A,nats://127.0.0.1:B,..."
/// cluster.stop_node(1);
/// cluster.restart_node(1);
/// ```
pub struct NatsCluster {
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts `size` nodes with JetStream, routed to each other, and returns once every node
    /// accepts clients. (JetStream may still be electing its leader: create streams with
    /// retries.)
    ///
    /// # Panics
    /// When `nats-server` is missing (with the command that installs it) or a node fails.
    pub fn start(size: usize) -> NatsCluster {
        let dir = tempfile::tempdir().expect("a temporary folder for the cluster");
        let client_ports: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let route_ports: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let nodes = (0..size)
            .map(|i| {
                let node_dir = dir.path().join(format!("n{i}"));
                std::fs::create_dir(&node_dir).expect("a node folder");
                let config = node_dir.join("nats.conf");
                let text = node_config(i, &client_ports, &route_ports, &node_dir);
                std::fs::write(&config, text).expect("writing a node's nats.conf");
                Node {
                    port: client_ports[i],
                    config,
                    guard: None,
                }
            })
            .collect();
        let mut cluster = NatsCluster { nodes, _dir: dir };
        for i in 0..size {
            cluster.launch(i);
        }
        cluster
    }

    /// `nats://127.0.0.1:PORT` of every node, comma-separated (what clients connect to).
    pub fn urls(&self) -> String {
        let urls: Vec<String> = (0..self.nodes.len()).map(|i| self.url(i)).collect();
        urls.join(",")
    }

    /// `nats://127.0.0.1:PORT` of node `index`.
    pub fn url(&self, index: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[index].port)
    }

    /// Kills node `index` (SIGKILL) and waits until its port is closed.
    pub fn stop_node(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        stop_server(&mut node.guard, node.port);
    }

    /// Starts node `index` again with its store; stops it first if it runs.
    pub fn restart_node(&mut self, index: usize) {
        self.stop_node(index);
        self.launch(index);
    }

    /// The log of node `index` so far (for assertion messages).
    pub fn log(&self, index: usize) -> String {
        std::fs::read_to_string(log_path(&self.nodes[index].config)).unwrap_or_default()
    }

    fn launch(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        let mut command = Command::new(program("nats-server"));
        command.arg("-c").arg(&node.config);
        let log = log_path(&node.config);
        let mut guard = ChildGuard::spawn(
            command,
            "nats-server (cluster node)",
            &log,
            NATS_SERVER_INSTALL,
        );
        guard.wait_for_port(node.port, &log);
        node.guard = Some(guard);
    }
}

fn log_path(config: &Path) -> PathBuf {
    config.with_file_name("nats-server.log")
}

fn node_config(index: usize, client_ports: &[u16], route_ports: &[u16], dir: &Path) -> String {
    let routes: Vec<String> = route_ports
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, port)| format!("\"nats://127.0.0.1:{port}\""))
        .collect();
    format!(
        "server_name: \"n{index}\"\n\
         listen: \"127.0.0.1:{}\"\n\
         jetstream {{ store_dir: {:?} }}\n\
         cluster {{\n  name: \"natsbridge-test\"\n  listen: \"127.0.0.1:{}\"\n  routes: [{}]\n}}\n",
        client_ports[index],
        dir.join("jetstream").display().to_string(),
        route_ports[index],
        routes.join(", ")
    )
}
