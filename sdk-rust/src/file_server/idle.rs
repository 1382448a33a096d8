//! A connection that must keep moving: fewer than [`MIN_BYTES_PER_WINDOW`] bytes (read and
//! written together) during one window of the idle timeout closes it. This cuts off idle
//! keep-alive connections, bodies trickled in (slowloris) and downloads read too slowly,
//! which hyper's header timeout alone does not.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The fewest bytes a connection must move per window to stay open.
pub const MIN_BYTES_PER_WINDOW: u64 = 1024;

/// `inner` with the low-speed rule above.
pub struct IdleTimeout<T> {
    inner: T,
    window: Duration,
    moved: u64,
    deadline: Pin<Box<Sleep>>,
}

impl<T> IdleTimeout<T> {
    /// Wraps `inner`; the first window starts now.
    pub fn new(inner: T, window: Duration) -> Self {
        IdleTimeout {
            inner,
            window,
            moved: 0,
            deadline: Box::pin(tokio::time::sleep(window)),
        }
    }

    /// Counts `n` bytes moved.
    fn moved(&mut self, n: usize) {
        self.moved = self.moved.saturating_add(n as u64);
    }

    /// While the inner stream waits: fails once a window ends with too few bytes moved,
    /// starts the next window when enough moved.
    fn check(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        while self.deadline.as_mut().poll(cx).is_ready() {
            if self.moved < MIN_BYTES_PER_WINDOW {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the connection moved {} bytes in {:?}, fewer than {MIN_BYTES_PER_WINDOW}",
                        self.moved, self.window
                    ),
                ));
            }
            self.moved = 0;
            let next = Instant::now() + self.window;
            self.deadline.as_mut().reset(next);
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.moved(buf.filled().len() - before);
                Poll::Ready(result)
            }
            Poll::Pending => this.check(cx).map(Err),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.moved(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.moved(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.check(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.check(cx).map(Err),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
