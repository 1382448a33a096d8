//! The interop matrix's agent for the no_std SDK on embassy-net's TCP/IP stack (smoltcp): the
//! agent of `tests/src/bin/interop/no_std_agent.rs` over its own TAP device.
//!
//! Run by the harness inside the network namespace it made: this process adds the TAP device
//! `nbt<pid>` with the host side `10.x.y.1/24` (x.y from the pid) and the stack at `10.x.y.2`,
//! and relays `10.x.y.1:PORT` to `127.0.0.1:PORT` for the NATS and file server ports it was
//! given, so the stack reaches the harness's loopback servers as a board reaches its gateway;
//! every connection (NATS and links, any host) goes to the relay.

#[path = "../../../../tests/src/bin/interop/common.rs"]
#[allow(dead_code)] // the std agent's Object Store flag
mod common;
#[path = "../../../tests/common/mod.rs"]
mod embedded_common;
#[path = "../../../../tests/src/bin/interop/no_std_agent.rs"]
#[allow(dead_code)] // its tokio network is the other agent's
mod no_std_agent;

use std::net::Ipv4Addr;
use std::process::{Command, ExitCode};

use embassy_net::tcp::TcpSocket;
use embassy_net::{Config, Ipv4Cidr, Stack, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use natsbridge_embedded::http::Connector;
use natsbridge_embedded::net::{self, NetError, TcpConnector};
use no_std_agent::Network;

/// The stack, the relay's address and the socket buffers of link connections.
struct EmbassyNetwork {
    stack: Stack<'static>,
    relay: String,
    http_rx: Vec<u8>,
    http_tx: Vec<u8>,
}

/// Opens link connections to the relay, whatever host the URL names.
struct RelayConnector<'a> {
    inner: TcpConnector<'a>,
    relay: &'a str,
}

impl Connector for RelayConnector<'_> {
    type Connection<'c>
        = TcpSocket<'c>
    where
        Self: 'c;
    type Error = NetError;

    async fn connect(&mut self, _host: &str, port: u16) -> Result<TcpSocket<'_>, NetError> {
        self.inner.connect(self.relay, port).await
    }
}

impl Network for EmbassyNetwork {
    type Nats = TcpSocket<'static>;
    type Http<'h> = RelayConnector<'h>;

    async fn open(&mut self, _host: &str, port: u16) -> Result<TcpSocket<'static>, String> {
        let rx: &'static mut [u8] = Box::leak(vec![0u8; 16 * 1024].into_boxed_slice());
        let tx: &'static mut [u8] = Box::leak(vec![0u8; 16 * 1024].into_boxed_slice());
        net::connect(self.stack, rx, tx, &self.relay, port)
            .await
            .map_err(|e| format!("{}:{port} over embassy-net: {e:?}", self.relay))
    }

    fn http(&mut self) -> RelayConnector<'_> {
        RelayConnector {
            inner: TcpConnector::new(self.stack, &mut self.http_rx, &mut self.http_tx),
            relay: &self.relay,
        }
    }
}

/// Deletes the TAP device when the agent ends.
struct TapDevice(String);

impl Drop for TapDevice {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let status = Command::new("ip")
        .args(args)
        .status()
        .map_err(|e| format!("ip {args:?}: {e}"))?;
    status.success().then_some(()).ok_or_else(|| {
        format!("ip {args:?} failed ({status}); the agent needs root in a network namespace")
    })
}

/// Copies every connection to `relay:port` to `127.0.0.1:port` and back.
async fn relay(address: Ipv4Addr, port: u16) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind((address, port))
        .await
        .map_err(|e| format!("relay on {address}:{port}: {e}"))?;
    tokio::task::spawn_local(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::task::spawn_local(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    Ok(())
}

fn port_of(url: &str) -> Result<u16, String> {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .ok_or_else(|| format!("{url}: no port"))
}

fn agent(args: &[String]) -> Result<(), String> {
    let (Some(nats), Some(files)) = (args.get(1), args.get(2)) else {
        return Err(
            "usage: natsbridge-interop-embassy receive|send|reply|request NATS FILES ...".into(),
        );
    };
    let ports = [port_of(nats)?, port_of(files)?];
    let pid = std::process::id();
    let (x, y) = (((pid >> 8) & 0xff) as u8, (pid & 0xff) as u8);
    let host = Ipv4Addr::new(10, x, y, 1);
    let device = Ipv4Addr::new(10, x, y, 2);
    let name = format!("nbt{pid}");
    ip(&["tuntap", "add", "dev", &name, "mode", "tap"])?;
    let _tap = TapDevice(name.clone());
    ip(&["addr", "add", &format!("{host}/24"), "dev", &name])?;
    ip(&["link", "set", &name, "up"])?;

    let tap = TunTapDevice::new(&name).map_err(|e| format!("opening {name}: {e}"))?;
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(device, 24),
        gateway: Some(host),
        dns_servers: Default::default(),
    });
    let resources: &'static mut StackResources<4> = Box::leak(Box::new(StackResources::new()));
    let (stack, mut runner) = embassy_net::new(tap, config, resources, u64::from(pid));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    local.spawn_local(async move { runner.run().await });
    runtime.block_on(local.run_until(async move {
        for port in ports {
            relay(host, port).await?;
        }
        stack.wait_config_up().await;
        let mut network = EmbassyNetwork {
            stack,
            relay: host.to_string(),
            http_rx: vec![0u8; 8192],
            http_tx: vec![0u8; 8192],
        };
        no_std_agent::run(&mut network, args).await
    }))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match agent(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("agent failed: {why}");
            println!("{}", serde_json::json!({ "error": why }));
            ExitCode::FAILURE
        }
    }
}
