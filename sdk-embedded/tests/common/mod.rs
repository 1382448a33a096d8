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
        connect(host, port).await
    }
}

/// A tokio TCP connection with no-delay set (as every SDK sets it), as a no_std transport.
pub async fn connect(host: &str, port: u16) -> std::io::Result<FromTokio<TcpStream>> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(FromTokio::new(stream))
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

/// What a [`Counting`] transport passed on: the size of each write, and the flushes.
#[derive(Debug, Default)]
pub struct WriteLog {
    pub writes: Vec<usize>,
    pub flushes: usize,
}

/// A shared [`WriteLog`], readable while the transport is in use.
pub type Log = std::rc::Rc<std::cell::RefCell<WriteLog>>;

/// A transport that logs the writes and flushes it passes on.
pub struct Counting<T> {
    pub inner: T,
    pub log: Log,
}

impl<T: embedded_io_async::ErrorType> embedded_io_async::ErrorType for Counting<T> {
    type Error = T::Error;
}

impl<T: embedded_io_async::Read> embedded_io_async::Read for Counting<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, T::Error> {
        self.inner.read(buf).await
    }
}

impl<T: embedded_io_async::Write> embedded_io_async::Write for Counting<T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, T::Error> {
        let n = self.inner.write(buf).await?;
        self.log.borrow_mut().writes.push(n);
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), T::Error> {
        self.log.borrow_mut().flushes += 1;
        self.inner.flush().await
    }
}

/// Opens connections of the connector it holds, each wrapped in [`Counting`] on one log.
pub struct CountingConnector<C>(pub C, pub Log);

impl<C: Connector> Connector for CountingConnector<C> {
    type Connection<'c>
        = Counting<C::Connection<'c>>
    where
        Self: 'c;
    type Error = C::Error;
    async fn connect(&mut self, host: &str, port: u16) -> Result<Self::Connection<'_>, C::Error> {
        let inner = self.0.connect(host, port).await?;
        Ok(Counting {
            inner,
            log: self.1.clone(),
        })
    }
}

/// Replays `incoming` in reads of at most `piece` bytes, then reports the connection closed;
/// records everything written.
pub struct Scripted {
    pub incoming: std::collections::VecDeque<u8>,
    pub piece: usize,
    pub written: Vec<u8>,
}

impl Scripted {
    pub fn new(incoming: &[u8], piece: usize) -> Self {
        Scripted {
            incoming: incoming.iter().copied().collect(),
            piece,
            written: Vec::new(),
        }
    }
}

impl embedded_io_async::ErrorType for Scripted {
    type Error = Infallible;
}

impl embedded_io_async::Read for Scripted {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.piece).min(self.incoming.len());
        for slot in &mut buf[..n] {
            *slot = self.incoming.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io_async::Write for Scripted {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
