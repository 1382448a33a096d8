//! A board-agnostic firmware using natsbridge-embedded: it joins the network, connects to
//! NATS (by DNS name), announces itself with smartsend, and receives envelopes with
//! smartreceive, reconnecting with backoff and jitter whenever the connection ends.
//!
//! `board.rs` is the port to a real board; everything else is the same on every board.
#![no_std]
#![no_main]
// The measurement baseline leaves the NATSBridge half unused.
#![cfg_attr(feature = "network-only", allow(dead_code))]
// The mps2-an386 port leaves the stand-in driver (`board::NoDevice`) unused.
#![cfg_attr(feature = "mps2-an386", allow(dead_code))]

mod board;

use core::panic::PanicInfo;

use embassy_executor::{Executor, Spawner};
use embassy_futures::select::{Either, select};
use embassy_net::{Stack, StackResources};
use embassy_time::{Instant, Timer};
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::client::{Client, Event};
use natsbridge_embedded::link::{AllowedHosts, FileServer, UploadMethod};
use natsbridge_embedded::net::{self, TcpConnector};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{
    HttpUploader, Links, Outgoing, SendOptions, smartreceive, smartsend,
};
use natsbridge_embedded::{EnvelopeFields, Message, MessageEnvelope, PayloadType};
use static_cell::StaticCell;

/// Where NATS runs: a DNS name (from DHCP's DNS servers) or an address.
#[cfg(not(feature = "mps2-an386"))]
const NATS_HOST: &str = "nats.local";
/// QEMU's user networking: the host's loopback is 10.0.2.2.
#[cfg(feature = "mps2-an386")]
const NATS_HOST: &str = "10.0.2.2";
#[cfg(not(feature = "mps2-an386"))]
const NATS_PORT: u16 = 4222;
/// The host's NATS port under QEMU: `NATSBRIDGE_QEMU_NATS_PORT` at build time (the test picks a
/// free loopback port and builds with it), 4222 when unset.
#[cfg(feature = "mps2-an386")]
const NATS_PORT: u16 = match option_env!("NATSBRIDGE_QEMU_NATS_PORT") {
    Some(text) => parse_port(text),
    None => 4222,
};

/// A decimal port number at compile time; anything else stops the build.
#[cfg(feature = "mps2-an386")]
const fn parse_port(text: &str) -> u16 {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "NATSBRIDGE_QEMU_NATS_PORT is empty");
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i];
        assert!(
            digit.is_ascii_digit(),
            "NATSBRIDGE_QEMU_NATS_PORT is not a number"
        );
        value = value * 10 + (digit - b'0') as u32;
        assert!(
            value <= u16::MAX as u32,
            "NATSBRIDGE_QEMU_NATS_PORT is over 65535"
        );
        i += 1;
    }
    value as u16
}
/// Where link payloads are uploaded (HTTP PUT: nginx WebDAV or `natsbridge serve-files`).
const FILE_SERVER: &str = "http://files.local:8080";
const COMMANDS: &str = "device.commands";
const STATUS: &str = "device.status";

/// Every buffer the firmware uses, in one static block (see the README's sizing table).
struct Memory {
    nats_socket_rx: [u8; 2048],
    nats_socket_tx: [u8; 2048],
    nats_rx: [u8; 4096],
    nats_tx: [u8; 512],
    http_socket_rx: [u8; 1024],
    http_socket_tx: [u8; 1024],
    http_work: [u8; 1024],
    envelope_text: [u8; 4096],
    envelope: MessageEnvelope,
}

static MEMORY: StaticCell<Memory> = StaticCell::new();
static RESOURCES: StaticCell<StackResources<3>> = StaticCell::new();
static EXECUTOR: StaticCell<Executor> = StaticCell::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    let board = board::init();
    let config = embassy_net::Config::dhcpv4(Default::default());
    let resources = RESOURCES.init(StackResources::new());
    let (stack, runner) = embassy_net::new(board.driver, config, resources, board.seed);
    let memory = MEMORY.init_with(|| Memory {
        nats_socket_rx: [0; 2048],
        nats_socket_tx: [0; 2048],
        nats_rx: [0; 4096],
        nats_tx: [0; 512],
        http_socket_rx: [0; 1024],
        http_socket_tx: [0; 1024],
        http_work: [0; 1024],
        envelope_text: [0; 4096],
        envelope: MessageEnvelope::default(),
    });
    EXECUTOR.init(Executor::new()).run(|spawner: Spawner| {
        spawner.spawn(network(runner).expect("one network task"));
        spawner.spawn(application(stack, memory).expect("one application task"));
    })
}

#[embassy_executor::task]
async fn network(mut runner: embassy_net::Runner<'static, board::Device>) -> ! {
    runner.run().await
}

/// The reconnect loop: one session per connection, a growing random wait between failures.
#[embassy_executor::task]
async fn application(stack: Stack<'static>, memory: &'static mut Memory) -> ! {
    let backoff = Backoff {
        max_attempts: u32::MAX,
        base_delay_ms: 500,
        max_delay_ms: 30_000,
    };
    let mut failures = 0;
    loop {
        stack.wait_config_up().await;
        let started = Instant::now();
        #[cfg(not(feature = "network-only"))]
        let _ended = session(stack, memory).await;
        #[cfg(feature = "network-only")]
        let _ended = network_only(stack, memory).await;
        // A session that lasted a minute was a success: start the backoff over.
        failures = if started.elapsed().as_secs() > 60 {
            0
        } else {
            failures + 1
        };
        let wait = backoff.delay_ms(failures.min(16), board::random());
        Timer::after_millis(wait.into()).await;
    }
}

/// The measurement baseline: the same network use (DNS, a TCP connection, a read) without
/// NATSBridge.
#[cfg(feature = "network-only")]
async fn network_only(stack: Stack<'static>, m: &mut Memory) -> Result<(), Ended> {
    let _ = (FILE_SERVER, COMMANDS, STATUS);
    let mut socket = nats_socket(stack, &mut m.nats_socket_rx, &mut m.nats_socket_tx).await?;
    let _ = socket.read(&mut m.nats_rx).await;
    Ok(())
}

/// A TCP connection to the NATS server, found by its DNS name.
async fn nats_socket<'s>(
    stack: Stack<'s>,
    rx_buffer: &'s mut [u8],
    tx_buffer: &'s mut [u8],
) -> Result<embassy_net::tcp::TcpSocket<'s>, Ended> {
    net::connect(stack, rx_buffer, tx_buffer, NATS_HOST, NATS_PORT)
        .await
        .map_err(|_| Ended::Network)
}

/// Why a session ended (a debugger shows it; a real firmware would log it).
#[derive(Debug)]
enum Ended {
    Network,
    Nats,
    Send,
}

/// One connection: connect, (re-)subscribe, announce, then serve until something fails.
async fn session(stack: Stack<'static>, m: &mut Memory) -> Result<(), Ended> {
    let socket = nats_socket(stack, &mut m.nats_socket_rx, &mut m.nats_socket_tx).await?;
    let options = ConnectOptions::new().name("natsbridge-firmware");
    let mut client = Client::connect(socket, &mut m.nats_rx, &mut m.nats_tx, &options)
        .await
        .map_err(|_| Ended::Nats)?;
    client
        .subscribe(COMMANDS, None)
        .await
        .map_err(|_| Ended::Nats)?;
    let mut uploader = HttpUploader {
        connector: TcpConnector::new(stack, &mut m.http_socket_rx, &mut m.http_socket_tx),
        work: &mut m.http_work,
        server: FileServer {
            url: FILE_SERVER,
            method: UploadMethod::Put,
            token: None,
        },
    };
    let online = [Outgoing::new("status", PayloadType::Text, b"online")];
    smartsend(
        &mut client,
        &mut m.envelope,
        &EnvelopeFields::default(),
        STATUS,
        &online,
        &SendOptions::default(),
        &mut uploader,
        &mut m.envelope_text,
        board::random,
    )
    .await
    .map_err(|_| Ended::Send)?;
    let HttpUploader {
        connector, work, ..
    } = uploader;
    let mut links = Links {
        connector,
        work,
        backoff: Backoff::default(),
        delay: async |ms: u32| Timer::after_millis(ms.into()).await,
        random: board::random,
        allowed_hosts: AllowedHosts::FileServerOf(FILE_SERVER),
        max_size: 4 << 20,
    };
    loop {
        let event = select(client.next_event(), Timer::after_secs(5)).await;
        let received = match event {
            Either::First(Ok(Event::Message(message))) => {
                m.envelope.decode_in_place(message.payload).is_ok()
            }
            Either::First(Ok(_)) => false,
            Either::First(Err(_)) => return Err(Ended::Nats),
            Either::Second(()) => {
                client
                    .keepalive(Instant::now().as_millis())
                    .await
                    .map_err(|_| Ended::Nats)?;
                false
            }
        };
        if received {
            for payload in &m.envelope.payloads {
                // A real firmware streams into flash here; this one only counts the bytes.
                let mut sink = CountingSink(0);
                let _ = smartreceive(payload, &mut sink, &mut links).await;
            }
        }
    }
}

/// A sink that counts what it is given (stands in for a flash writer).
struct CountingSink(u64);

impl embedded_io_async::ErrorType for CountingSink {
    type Error = core::convert::Infallible;
}

impl embedded_io_async::Write for CountingSink {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
