//! The no_std download path (`smart::smartreceive` over `http.rs`, with its retries) against
//! the misbehaving file server of `tests/support`: it stops mid-download, truncates, sends a
//! wrong `Content-Length`, or drips. The crate has no clock: a board bounds each connection's
//! time in its TCP stack (embassy-net timeouts); here a connector does the same with tokio.

mod common;

use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use natsbridge_embedded::backoff::Backoff;
use natsbridge_embedded::http::{Connector, HttpError, Url};
use natsbridge_embedded::link::{AllowedHosts, LinkError};
use natsbridge_embedded::smart::{Links, ReceiveError, smartreceive};
use natsbridge_embedded::{MessagePayload, Transport};
use natsbridge_test_support::{FaultTimes, FaultyHttp};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;

use common::{Collect, TokioConnector, pseudo_random};

/// A safety net so that a hanging download fails the test; never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(60);

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn link_payload(url: &str, data: &[u8]) -> MessagePayload {
    let mut payload = MessagePayload {
        transport: Transport::Link,
        encoding: natsbridge_embedded::Encoding::None,
        size: data.len() as u64,
        ..Default::default()
    };
    payload.data.push_str(url).unwrap();
    let checksum = natsbridge_embedded::link::checksum_of(data);
    payload.metadata =
        natsbridge_embedded::JsonObject::parse(&format!("{{\"checksum\":\"{checksum}\"}}"))
            .unwrap();
    payload
}

fn serve(server: &FaultyHttp, mode: &str, name: &str, data: &[u8]) -> MessagePayload {
    std::fs::write(server.dir().join(name), data).unwrap();
    link_payload(&server.file_url(mode, name), data)
}

/// Receives `payload` with `attempts` attempts and short real delays.
async fn receive<C: Connector>(
    connector: C,
    payload: &MessagePayload,
    attempts: u32,
) -> (Result<u64, ReceiveError>, Vec<u8>) {
    let port = Url::parse(&payload.data).expect("an http link").port;
    let allowed = format!("127.0.0.1:{port}");
    let mut work = [0u8; 1024];
    let allowed_hosts = [allowed.as_str()];
    let mut links = Links {
        connector,
        work: &mut work,
        backoff: Backoff {
            max_attempts: attempts,
            base_delay_ms: 50,
            max_delay_ms: 400,
        },
        delay: async |ms: u32| tokio::time::sleep(Duration::from_millis(ms.into())).await,
        random: pseudo_random(),
        // The misbehaving file server listens on loopback (the allow rule is host:port).
        allowed_hosts: AllowedHosts::Only(&allowed_hosts),
        max_size: 64 << 20,
    };
    let mut sink = Collect::default();
    let result = tokio::time::timeout(PATIENCE, smartreceive(payload, &mut sink, &mut links))
        .await
        .expect("the download ends instead of hanging");
    (result, sink.bytes)
}

#[tokio::test]
async fn a_server_that_stops_mid_download_is_retried_until_it_is_back() {
    let server = FaultyHttp::start_with(FaultTimes {
        down_for: Duration::from_millis(1200),
        ..FaultTimes::default()
    });
    let data = pattern(200_000);
    let payload = serve(&server, "stop-midway", "big.bin", &data);
    let (result, bytes) = receive(TokioConnector, &payload, 30).await;
    assert_eq!(result, Ok(200_000));
    assert!(bytes == data, "the resumed download has the right bytes");
    assert!(server.requests("stop-midway", "big.bin") >= 2);
}

#[tokio::test]
async fn a_truncated_body_is_retried_then_reported() {
    let server = FaultyHttp::start();
    let payload = serve(&server, "truncated", "cut.bin", &pattern(30_000));
    let (result, _) = receive(TokioConnector, &payload, 3).await;
    assert!(
        matches!(
            result,
            Err(ReceiveError::Link(LinkError::Http(HttpError::Transport(_))))
        ),
        "{result:?}"
    );
    assert_eq!(
        server.requests("truncated", "cut.bin"),
        3,
        "one request per attempt"
    );
}

#[tokio::test]
async fn a_wrong_content_length_is_a_size_mismatch_at_once() {
    let server = FaultyHttp::start();
    let payload = serve(&server, "wrong-length", "short.bin", &pattern(5_000));
    let (result, _) = receive(TokioConnector, &payload, 5).await;
    assert!(
        matches!(
            result,
            Err(ReceiveError::SizeMismatch {
                expected: 5000,
                received: 4999
            })
        ),
        "{result:?}"
    );
    assert_eq!(
        server.requests("wrong-length", "short.bin"),
        1,
        "not retried"
    );
}

/// Connections that fail with `TimedOut` once they have been open for `limit`, as a board's
/// TCP stack with a deadline per connection does.
struct DeadlineConnector {
    limit: Duration,
}

struct DeadlineStream {
    stream: TcpStream,
    deadline: tokio::time::Instant,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl AsyncRead for DeadlineStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.timer.as_mut().poll(cx).is_ready() || tokio::time::Instant::now() >= self.deadline {
            return std::task::Poll::Ready(Err(std::io::ErrorKind::TimedOut.into()));
        }
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for DeadlineStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Connector for DeadlineConnector {
    type Connection<'c> = FromTokio<DeadlineStream>;
    type Error = std::io::Error;
    async fn connect(&mut self, host: &str, port: u16) -> std::io::Result<Self::Connection<'_>> {
        let deadline = tokio::time::Instant::now() + self.limit;
        Ok(FromTokio::new(DeadlineStream {
            stream: TcpStream::connect((host, port)).await?,
            deadline,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
        }))
    }
}

#[tokio::test]
async fn a_dripping_server_times_out_in_the_transport_and_is_reported() {
    let server = FaultyHttp::start_with(FaultTimes {
        drip_every: Duration::from_millis(200),
        ..FaultTimes::default()
    });
    let payload = serve(&server, "drip", "slow.bin", &pattern(1_000));
    let connector = DeadlineConnector {
        limit: Duration::from_millis(800),
    };
    let (result, _) = receive(connector, &payload, 2).await;
    assert!(
        matches!(
            result,
            Err(ReceiveError::Link(LinkError::Http(HttpError::Transport(
                embedded_io_async::ErrorKind::TimedOut
            ))))
        ),
        "{result:?}"
    );
    assert_eq!(
        server.requests("drip", "slow.bin"),
        2,
        "retried once, then reported"
    );
}
