//! Helpers shared by the Linux-side tests: a tokio TCP connector standing in for a board's
//! network stack, a sink that collects what it is given, and a seeded random source.
#![allow(dead_code)]

use std::convert::Infallible;

use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::http::Connector;
use tokio::net::TcpStream;

/// Opens tokio TCP connections (the test's stand-in for a board's TCP stack).
pub struct TokioConnector;

impl Connector for TokioConnector {
    type Connection<'c> = FromTokio<TcpStream>;
    type Error = std::io::Error;
    async fn connect(&mut self, host: &str, port: u16) -> std::io::Result<FromTokio<TcpStream>> {
        Ok(FromTokio::new(TcpStream::connect((host, port)).await?))
    }
}

/// Collects what it is given and remembers the largest piece.
#[derive(Default)]
pub struct Collect {
    pub bytes: Vec<u8>,
    pub largest_piece: usize,
}

impl embedded_io_async::ErrorType for Collect {
    type Error = Infallible;
}

impl embedded_io_async::Write for Collect {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.largest_piece = self.largest_piece.max(buf.len());
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// A seeded xorshift generator: the same numbers on every run.
pub fn pseudo_random() -> impl FnMut() -> u32 {
    xorshift(0x1234_5678)
}

/// The xorshift generator started at `seed` (not zero).
pub fn xorshift(seed: u32) -> impl FnMut() -> u32 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}

/// A seeded generator of numbers below the bound it is given.
pub fn below(seed: u32) -> impl FnMut(usize) -> usize {
    let mut next = xorshift(seed);
    move |bound| next() as usize % bound
}

/// Applies 1 to `max_edits` seeded edits to `bytes`, each a byte changed, dropped or
/// duplicated, or (when `cut`) the rest cut off; `bytes` never ends up empty.
pub fn mutate(
    bytes: &mut Vec<u8>,
    max_edits: usize,
    cut: bool,
    random: &mut impl FnMut(usize) -> usize,
) {
    let kinds = if cut { 4 } else { 3 };
    for _ in 0..1 + random(max_edits) {
        let at = random(bytes.len());
        match random(kinds) {
            0 => bytes[at] = random(256) as u8,
            1 if bytes.len() > 1 => {
                bytes.remove(at);
            }
            1 | 2 => bytes.insert(at, bytes[at]),
            _ => bytes.truncate(at.max(1)),
        }
    }
}
