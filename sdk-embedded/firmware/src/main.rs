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
use natsbridge_embedded::json::Writer;
use natsbridge_embedded::link::{AllowedHosts, FileServer, UploadMethod};
use natsbridge_embedded::net::{self, TcpConnector};
use natsbridge_embedded::protocol::ConnectOptions;
use natsbridge_embedded::smart::{
    HttpUploader, Links, NoFileServer, Outgoing, SendOptions, smartreceive, smartsend,
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
#[cfg(not(feature = "mps2-an386"))]
const FILE_SERVER: &str = "http://files.local:8080";
/// The host's file server under QEMU: `http://10.0.2.2:PORT`, PORT from
/// `NATSBRIDGE_QEMU_FILES_PORT` at build time (build.rs; 8080 when unset).
#[cfg(feature = "mps2-an386")]
const FILE_SERVER: &str = env!("NATSBRIDGE_QEMU_FILE_SERVER");
const COMMANDS: &str = "device.commands";
const STATUS: &str = "device.status";

// The buffer sizes: `NATS_SOCKET_RX` and the rest, from build.rs's table (its defaults, or
// `NATSBRIDGE_FW_BUFFERS` at build time).
include!(concat!(env!("OUT_DIR"), "/buffers.rs"));

/// Every buffer the firmware uses, in one static block (see the README's sizing table).
struct Memory {
    nats_socket_rx: [u8; NATS_SOCKET_RX],
    nats_socket_tx: [u8; NATS_SOCKET_TX],
    nats_rx: [u8; NATS_RX],
    nats_tx: [u8; NATS_TX],
    http_socket_rx: [u8; HTTP_SOCKET_RX],
    http_socket_tx: [u8; HTTP_SOCKET_TX],
    http_work: [u8; HTTP_WORK],
    envelope_text: [u8; ENVELOPE_TEXT],
    envelope: MessageEnvelope,
}

static MEMORY: StaticCell<Memory> = StaticCell::new();
/// Sockets: DHCP, DNS, the NATS connection and one HTTP connection for links.
static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
static EXECUTOR: StaticCell<Executor> = StaticCell::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    board::paint_stack();
    let board = board::init();
    let config = embassy_net::Config::dhcpv4(Default::default());
    let resources = RESOURCES.init(StackResources::new());
    let (stack, runner) = embassy_net::new(board.driver, config, resources, board.seed);
    let memory = MEMORY.init_with(|| Memory {
        nats_socket_rx: [0; NATS_SOCKET_RX],
        nats_socket_tx: [0; NATS_SOCKET_TX],
        nats_rx: [0; NATS_RX],
        nats_tx: [0; NATS_TX],
        http_socket_rx: [0; HTTP_SOCKET_RX],
        http_socket_tx: [0; HTTP_SOCKET_TX],
        http_work: [0; HTTP_WORK],
        envelope_text: [0; ENVELOPE_TEXT],
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
    stack.wait_config_up().await;
    // When the network comes up varies from boot to boot: ids differ on boards without an RNG.
    board::stir_random(board::systick_now() ^ Instant::now().as_ticks() as u32);
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
///
/// Every envelope on [`COMMANDS`] is received whole (link payloads streamed from the file
/// server, size and SHA-256 checked); a request (a reply subject) gets a receipt listing each
/// payload's bytes and result. `msg_purpose` `updateStatus` asks for a status with the board's
/// capture (a link upload); `shutdown` ends the firmware after the receipt.
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
    send_status(
        &mut client,
        &mut m.envelope,
        &mut uploader,
        &mut m.envelope_text,
        false,
    )
    .await?;
    let mut reply_subject: heapless::String<REPLY_SUBJECT_CAPACITY> = heapless::String::new();
    loop {
        let event = select(client.next_event(), Timer::after_secs(5)).await;
        let received = match event {
            Either::First(Ok(Event::Message(message))) => {
                reply_subject.clear();
                // A reply subject too long to keep gets no receipt (the request times out).
                if let Some(subject) = message.reply_to {
                    let _ = reply_subject.push_str(subject);
                }
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
        if !received {
            continue;
        }
        let mut links = Links {
            connector: &mut uploader.connector,
            work: &mut *uploader.work,
            backoff: Backoff::default(),
            delay: async |ms: u32| Timer::after_millis(ms.into()).await,
            random: board::random,
            allowed_hosts: AllowedHosts::FileServerOf(FILE_SERVER),
            max_size: 4 << 20,
        };
        let mut receipt = Receipt::new();
        for payload in &m.envelope.payloads {
            // A real firmware streams into flash here; this one only counts the bytes.
            let mut sink = CountingSink(0);
            let result = smartreceive(payload, &mut sink, &mut links).await;
            receipt.line(
                &payload.dataname,
                sink.0,
                result.err().map(|e| e.kind().as_str()),
            );
        }
        let purpose = Purpose::of(&m.envelope.msg_purpose);
        if reply_subject.is_empty() {
            let _ = reply_subject.push_str(&m.envelope.reply_to);
        }
        if !reply_subject.is_empty() {
            // smartsend fills `m.envelope` anew: keep what the receipt refers to.
            let answers = m.envelope.msg_id.clone();
            let correlation = m.envelope.correlation_id.clone();
            let fields = EnvelopeFields {
                msg_purpose: "ACK",
                reply_to_msg_id: &answers,
                correlation_id: &correlation,
                ..EnvelopeFields::default()
            };
            let payloads = [Outgoing::new(
                "receipt",
                PayloadType::Text,
                receipt.text.as_bytes(),
            )];
            smartsend(
                &mut client,
                &mut m.envelope,
                &fields,
                &reply_subject,
                &payloads,
                &SendOptions::default(),
                &mut NoFileServer,
                &mut m.envelope_text,
                board::random,
            )
            .await
            .map_err(|_| Ended::Send)?;
        }
        match purpose {
            Purpose::UpdateStatus => {
                send_status(
                    &mut client,
                    &mut m.envelope,
                    &mut uploader,
                    &mut m.envelope_text,
                    true,
                )
                .await?;
            }
            Purpose::Shutdown => {
                client.flush().await.map_err(|_| Ended::Nats)?;
                board::shutdown();
            }
            Purpose::Other => {}
        }
    }
}

/// The longest reply subject a receipt is sent to (`_INBOX.` subjects are about 50 bytes).
const REPLY_SUBJECT_CAPACITY: usize = 256;

/// What a command envelope asks for besides its receipt (`msg_purpose`).
enum Purpose {
    /// `updateStatus`: publish a status with the board's capture.
    UpdateStatus,
    /// `shutdown`: stop the firmware.
    Shutdown,
    /// Anything else: only the receipt.
    Other,
}

impl Purpose {
    fn of(msg_purpose: &str) -> Self {
        match msg_purpose {
            "updateStatus" => Purpose::UpdateStatus,
            "shutdown" => Purpose::Shutdown,
            _ => Purpose::Other,
        }
    }
}

/// Publishes the device's status on [`STATUS`]: `status` (text `online`) and, when asked
/// and the board has one, its `capture` (binary, a link upload: it is larger than a direct
/// payload can be).
async fn send_status<T, U>(
    client: &mut Client<'_, T>,
    envelope: &mut MessageEnvelope,
    uploader: &mut U,
    out: &mut [u8],
    with_capture: bool,
) -> Result<(), Ended>
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    U: natsbridge_embedded::smart::Uploader,
{
    let capture = board::capture();
    let payloads = [
        Outgoing::new("status", PayloadType::Text, b"online"),
        Outgoing::new("capture", PayloadType::Binary, capture),
    ];
    let count = if with_capture && !capture.is_empty() {
        2
    } else {
        1
    };
    smartsend(
        client,
        envelope,
        &EnvelopeFields {
            msg_purpose: "updateStatus",
            ..EnvelopeFields::default()
        },
        STATUS,
        &payloads[..count],
        &SendOptions::default(),
        uploader,
        out,
        board::random,
    )
    .await
    .map(|_| ())
    .map_err(|_| Ended::Send)
}

/// The text of a receipt: one line per payload, `DATANAME BYTES ok` or
/// `DATANAME BYTES error KIND` (KIND from the schema's error kinds).
struct Receipt {
    text: heapless::String<RECEIPT_CAPACITY>,
}

/// Room for the receipt of a full envelope (at most a few dozen payloads in practice).
const RECEIPT_CAPACITY: usize = 1024;

impl Receipt {
    fn new() -> Self {
        Receipt {
            text: heapless::String::new(),
        }
    }

    /// Adds one payload's line; a line that does not fit ends the receipt with `...`. Names
    /// come from the network: anything but printable ASCII is written as `?`. (Written with
    /// the SDK's JSON writer, not `core::fmt`, which would add kilobytes of flash.)
    fn line(&mut self, dataname: &str, bytes: u64, error: Option<&str>) {
        let mut name: heapless::String<128> = heapless::String::new();
        for c in dataname.chars() {
            let _ = name.push(if c.is_ascii_graphic() { c } else { '?' });
        }
        let mut buf = [0u8; 192];
        let mut line = Writer::new(&mut buf);
        let written = line
            .raw(&name)
            .and_then(|()| line.raw(" "))
            .and_then(|()| line.unsigned(bytes))
            .and_then(|()| match error {
                None => line.raw(" ok\n"),
                Some(kind) => line
                    .raw(" error ")
                    .and_then(|()| line.raw(kind))
                    .and_then(|()| line.raw("\n")),
            });
        let text = core::str::from_utf8(line.written()).unwrap_or_default();
        if written.is_err() || self.text.len() + text.len() + 4 > RECEIPT_CAPACITY {
            if !self.text.ends_with("...\n") {
                let _ = self.text.push_str("...\n");
            }
            return;
        }
        let _ = self.text.push_str(text);
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
fn panic(info: &PanicInfo) -> ! {
    board::panicked(info)
}
