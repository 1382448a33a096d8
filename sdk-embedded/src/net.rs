//! embassy-net glue (feature `embassy-net`): open a `TcpSocket` to a host given by address or
//! DNS name, for the NATS connection and, through [`TcpConnector`], for link payloads.

use core::fmt;

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::{ConnectError, TcpSocket};
use embassy_net::{IpAddress, Stack};
use embedded_io_async::ErrorKind;

use crate::http::Connector;

/// Why a TCP connection could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// The name did not resolve (no DNS server configured, no answer, no A record).
    Dns,
    /// The TCP handshake failed.
    Connect(ConnectError),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Dns => f.write_str("host name did not resolve"),
            NetError::Connect(e) => write!(f, "TCP connect failed: {e:?}"),
        }
    }
}

impl core::error::Error for NetError {}

impl embedded_io_async::Error for NetError {
    fn kind(&self) -> ErrorKind {
        match self {
            NetError::Dns => ErrorKind::NotFound,
            NetError::Connect(ConnectError::ConnectionReset) => ErrorKind::ConnectionRefused,
            NetError::Connect(ConnectError::TimedOut) => ErrorKind::TimedOut,
            NetError::Connect(ConnectError::NoRoute) => ErrorKind::AddrNotAvailable,
            NetError::Connect(ConnectError::InvalidState) => ErrorKind::Other,
        }
    }
}

/// The IPv4 address of `host`: parsed when it is one, otherwise asked of the stack's DNS
/// servers (from DHCP or the static configuration).
pub async fn resolve(stack: Stack<'_>, host: &str) -> Result<IpAddress, NetError> {
    let addresses = stack
        .dns_query(host, DnsQueryType::A)
        .await
        .map_err(|_| NetError::Dns)?;
    addresses.first().copied().ok_or(NetError::Dns)
}

/// Opens a TCP connection to `host:port` (an address or a DNS name) with the caller's socket
/// buffers, Nagle's algorithm off (smoltcp has it on: each small frame would otherwise wait
/// for the server's delayed ACK of the previous one); hand the socket to
/// [`crate::client::Client::connect`].
pub async fn connect<'s>(
    stack: Stack<'s>,
    rx_buffer: &'s mut [u8],
    tx_buffer: &'s mut [u8],
    host: &str,
    port: u16,
) -> Result<TcpSocket<'s>, NetError> {
    let address = resolve(stack, host).await?;
    let mut socket = TcpSocket::new(stack, rx_buffer, tx_buffer);
    socket.set_nagle_enabled(false);
    socket
        .connect((address, port))
        .await
        .map_err(NetError::Connect)?;
    Ok(socket)
}

/// Opens the HTTP connections of link payloads, one at a time, in one pair of socket buffers.
pub struct TcpConnector<'a> {
    stack: Stack<'a>,
    rx_buffer: &'a mut [u8],
    tx_buffer: &'a mut [u8],
}

impl<'a> TcpConnector<'a> {
    /// A connector over `stack` using these socket buffers for each connection.
    pub fn new(stack: Stack<'a>, rx_buffer: &'a mut [u8], tx_buffer: &'a mut [u8]) -> Self {
        TcpConnector {
            stack,
            rx_buffer,
            tx_buffer,
        }
    }
}

impl Connector for TcpConnector<'_> {
    type Connection<'c>
        = TcpSocket<'c>
    where
        Self: 'c;
    type Error = NetError;

    async fn connect(&mut self, host: &str, port: u16) -> Result<TcpSocket<'_>, NetError> {
        connect(self.stack, self.rx_buffer, self.tx_buffer, host, port).await
    }
}
