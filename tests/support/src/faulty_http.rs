//! A misbehaving HTTP file server for the download fault tests of every SDK: it stops in the
//! middle of a download, cuts bodies short, announces a wrong `Content-Length`, or drips.
//!
//! Files are read from [`FaultyHttp::dir`]; the first path segment picks the behaviour:
//!
//! | path | answer |
//! |---|---|
//! | `GET /ok/NAME` | the file, `Range: bytes=N-` honoured (206) |
//! | `GET /stop-midway/NAME` | the first time: half the file, then the server stops listening for the configured down time (connections refused), then it is back and serves like `/ok` |
//! | `GET /truncated/NAME` | `Content-Length` of the whole file, half of it sent, connection closed; every time |
//! | `GET /wrong-length/NAME` | `Content-Length` and body one byte shorter than the file |
//! | `GET /drip/NAME` | `Content-Length` of the whole file, then one byte per drip interval |
//! | `GET /redirect/NAME` | `302 Found` to `/ok/NAME` on the same server |
//! | `GET /count/MODE/NAME` | how many requests `/MODE/NAME` has had, as decimal text |
//!
//! The `faulty-http` program of this crate runs the same server for the Python suite.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long `/stop-midway` keeps the server down, and how fast `/drip` drips.
#[derive(Debug, Clone, Copy)]
pub struct FaultTimes {
    /// How long the server refuses connections after `/stop-midway` broke off.
    pub down_for: Duration,
    /// The pause between two bytes of `/drip`.
    pub drip_every: Duration,
}

impl Default for FaultTimes {
    fn default() -> Self {
        FaultTimes {
            down_for: Duration::from_millis(1500),
            drip_every: Duration::from_secs(1),
        }
    }
}

struct Shared {
    dir: PathBuf,
    times: FaultTimes,
    shutdown: AtomicBool,
    down_until: Mutex<Option<Instant>>,
    counts: Mutex<HashMap<String, u32>>,
    stopped_once: Mutex<HashSet<String>>,
}

/// A running misbehaving file server on `127.0.0.1`, stopped when dropped.
pub struct FaultyHttp {
    port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl FaultyHttp {
    /// Starts the server on a free port with a new, empty folder and the default times
    /// (down for 1.5 s, one byte a second).
    pub fn start() -> FaultyHttp {
        FaultyHttp::start_with(FaultTimes::default())
    }

    /// Starts the server with these fault times.
    pub fn start_with(times: FaultTimes) -> FaultyHttp {
        let dir = tempfile::tempdir().expect("a temporary folder for the faulty file server");
        let mut server = FaultyHttp::serve(dir.path().to_owned(), times, 0);
        server._dir = Some(dir);
        server
    }

    /// Serves the files of `dir` on `port` (0: a free one) until dropped.
    pub fn serve(dir: PathBuf, times: FaultTimes, port: u16) -> FaultyHttp {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .expect("binding the faulty file server to a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let shared = Arc::new(Shared {
            dir,
            times,
            shutdown: AtomicBool::new(false),
            down_until: Mutex::new(None),
            counts: Mutex::new(HashMap::new()),
            stopped_once: Mutex::new(HashSet::new()),
        });
        let thread = std::thread::spawn({
            let shared = shared.clone();
            move || accept_loop(listener, port, &shared)
        });
        FaultyHttp {
            port,
            shared,
            thread: Some(thread),
            _dir: None,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The URL of `name` served with behaviour `mode` (`ok`, `stop-midway`, ...).
    pub fn file_url(&self, mode: &str, name: &str) -> String {
        format!("{}/{mode}/{name}", self.url())
    }

    /// The folder the files are read from.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// How many requests `/{mode}/{name}` has had.
    pub fn requests(&self, mode: &str, name: &str) -> u32 {
        request_count(&self.shared, &format!("/{mode}/{name}"))
    }

    /// Blocks until the server is stopped (a signal to the `faulty-http` program).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FaultyHttp {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn request_count(shared: &Shared, path: &str) -> u32 {
    let counts = shared.counts.lock().unwrap();
    counts.get(path).copied().unwrap_or(0)
}

/// Accepts connections (one thread each) until shutdown; while the server is "down" the
/// listener is closed, so connections are refused, then bound again on the same port.
fn accept_loop(listener: TcpListener, port: u16, shared: &Arc<Shared>) {
    let mut listener = Some(listener);
    while !shared.shutdown.load(Ordering::SeqCst) {
        let down = shared
            .down_until
            .lock()
            .unwrap()
            .is_some_and(|until| Instant::now() < until);
        if down {
            listener = None;
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let Some(open) = listener.as_ref() else {
            listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).ok();
            if let Some(open) = &listener {
                open.set_nonblocking(true).expect("a non-blocking listener");
            }
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        open.set_nonblocking(true).expect("a non-blocking listener");
        match open.accept() {
            Ok((stream, _)) => {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &shared);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

struct Request {
    path: String,
    range_start: u64,
}

fn read_request(stream: &TcpStream) -> std::io::Result<Request> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut range_start = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(range) = lower.strip_prefix("range:") {
            range_start = range
                .trim()
                .strip_prefix("bytes=")
                .and_then(|r| r.trim_end_matches('-').parse().ok())
                .unwrap_or(0);
        }
    }
    Ok(Request { path, range_start })
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    length: usize,
    body: &[u8],
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {length}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    )?;
    stream.write_all(body)?;
    stream.flush()
}

fn handle(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let request = read_request(&stream)?;
    let mut parts = request.path.trim_start_matches('/').splitn(2, '/');
    let (mode, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if mode == "count" {
        let count = request_count(shared, &format!("/{name}")).to_string();
        return respond(&mut stream, "200 OK", count.len(), count.as_bytes());
    }
    *shared
        .counts
        .lock()
        .unwrap()
        .entry(request.path.clone())
        .or_default() += 1;
    let file = match std::fs::read(shared.dir.join(name)) {
        Ok(file) if !name.contains("..") && !name.is_empty() => file,
        _ => return respond(&mut stream, "404 Not Found", 9, b"not found"),
    };
    let half = file.len() / 2;
    match mode {
        "ok" => serve_whole(&mut stream, &file, request.range_start),
        "stop-midway" => {
            let first = shared.stopped_once.lock().unwrap().insert(name.to_owned());
            if !first {
                return serve_whole(&mut stream, &file, request.range_start);
            }
            respond(&mut stream, "200 OK", file.len(), &file[..half])?;
            *shared.down_until.lock().unwrap() = Some(Instant::now() + shared.times.down_for);
            stream.shutdown(std::net::Shutdown::Both)
        }
        "truncated" => {
            respond(&mut stream, "200 OK", file.len(), &file[..half])?;
            stream.shutdown(std::net::Shutdown::Both)
        }
        "wrong-length" => {
            let short = file.len().saturating_sub(1);
            respond(&mut stream, "200 OK", short, &file[..short])
        }
        "drip" => {
            respond(&mut stream, "200 OK", file.len(), &[])?;
            for byte in &file {
                if shared.shutdown.load(Ordering::SeqCst) {
                    break;
                }
                stream.write_all(&[*byte])?;
                stream.flush()?;
                std::thread::sleep(shared.times.drip_every);
            }
            Ok(())
        }
        "redirect" => {
            write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: /ok/{name}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
            stream.flush()
        }
        _ => respond(&mut stream, "404 Not Found", 12, b"unknown mode"),
    }
}

fn serve_whole(stream: &mut TcpStream, file: &[u8], from: u64) -> std::io::Result<()> {
    let from = (from as usize).min(file.len());
    if from == 0 {
        return respond(stream, "200 OK", file.len(), file);
    }
    write!(
        stream,
        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        file.len() - 1,
        file.len(),
        file.len() - from
    )?;
    stream.write_all(&file[from..])?;
    stream.flush()
}
