//! The subset of the Plik API that NATSBridge senders use: `POST /upload` opens an upload,
//! `POST /file/{uploadId}` adds one multipart file to it (WIRE.md section 6).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::Stream;
use hyper::StatusCode;
use serde_json::json;

use super::paths::{self, StoredPath};
use super::response::{DRAIN_AFTER_REFUSAL_BYTES, Refusal};
use super::storage::{Store, WriteError};

/// The folder, below the served folder, that holds Plik uploads:
/// `file/{uploadId}/{fileId}/{fileName}`, which is also the URL path they are served at.
pub const PLIK_FOLDER: &str = "file";

/// How long an upload opened by `POST /upload` accepts files when the server has no TTL.
pub const UPLOAD_LIFETIME_WITHOUT_TTL: Duration = Duration::from_secs(24 * 3600);

/// What a multipart body may hold besides the file itself (the preamble, boundaries, part
/// headers, other form fields), in all: more is refused with 413.
pub const MULTIPART_OVERHEAD_BYTES: u64 = 64 * 1024;

/// The open uploads: their ids and upload tokens, at most `capacity` of them.
#[derive(Debug)]
pub struct Uploads {
    open: Mutex<HashMap<String, OpenUpload>>,
    capacity: usize,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads::new(super::DEFAULT_MAX_OPEN_UPLOADS)
    }
}

#[derive(Debug)]
struct OpenUpload {
    token: String,
    opened: Instant,
}

impl Uploads {
    /// No uploads open yet; at most `capacity` (at least 1) at once.
    pub fn new(capacity: usize) -> Self {
        Uploads {
            open: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// Opens a new upload, forgetting the oldest one when `capacity` are open; returns its
    /// id and upload token.
    pub fn open(&self) -> (String, String) {
        let id = new_id();
        let token = new_id();
        let record = OpenUpload {
            token: token.clone(),
            opened: Instant::now(),
        };
        let mut open = self.lock();
        while open.len() >= self.capacity {
            let oldest = open
                .iter()
                .min_by_key(|(_, upload)| upload.opened)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(oldest) => open.remove(&oldest),
                None => break,
            };
        }
        open.insert(id.clone(), record);
        (id, token)
    }

    /// How many uploads are open.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Checks that `upload_id` is open and `token` is its upload token.
    pub fn check(&self, upload_id: &str, token: Option<&str>) -> Result<(), Refusal> {
        let open = self.lock();
        let Some(upload) = open.get(upload_id) else {
            return Err(Refusal::not_found(format!(
                "no open upload {upload_id:?} (open one with POST /upload; uploads expire)"
            )));
        };
        match token {
            None => Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                format!("POST /file/{upload_id} needs the header X-UploadToken"),
            )),
            Some(token) if !same_secret(token, &upload.token) => Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                format!("X-UploadToken does not match upload {upload_id:?}"),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Forgets the uploads opened longer than `lifetime` ago.
    pub fn expire(&self, lifetime: Duration) {
        self.lock()
            .retain(|_, upload| upload.opened.elapsed() <= lifetime);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, OpenUpload>> {
        // A panic while holding the lock cannot leave the map half-changed; carry on.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A fresh random id: 32 lower-case hex digits.
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// The answer to `POST /upload`.
pub fn upload_opened(id: &str, token: &str, ttl: Option<Duration>) -> serde_json::Value {
    json!({
        "id": id,
        "uploadToken": token,
        "ttl": ttl.map_or(0, |ttl| ttl.as_secs()),
        "oneShot": false,
        "removable": false,
        "stream": false,
        "files": {},
    })
}

/// Receives the `multipart/form-data` body of `POST /file/{upload_id}`: stores its one part
/// named `file` at `file/{upload_id}/{new file id}/{filename}` and returns Plik's answer.
pub async fn receive_file<S, E>(
    store: &Store,
    upload_id: &str,
    boundary: String,
    body: S,
    max_upload_bytes: Option<u64>,
) -> Result<serde_json::Value, Refusal>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    // multer keeps what it has not handed out yet (a preamble, part headers, a body with no
    // boundary at all) in memory, and reads all the body that is ready before handing any of
    // it out. So it reads at most MULTIPART_OVERHEAD_BYTES ahead of what it handed out of the
    // file part. At that bound the body is not ready (backpressure: multer parses what it
    // holds); if multer then hands out nothing, what it holds is overhead, and is refused.
    let ahead = Arc::new(ReadAhead::default());
    let counted = Arc::clone(&ahead);
    let mut body = Box::pin(body);
    let mut progress_at_bound = None;
    let body = futures_util::stream::poll_fn(move |cx| {
        let held = counted
            .read
            .load(Ordering::Relaxed)
            .saturating_sub(counted.handed_out.load(Ordering::Relaxed));
        if held > MULTIPART_OVERHEAD_BYTES {
            let progress = counted.progress.load(Ordering::Relaxed);
            if progress_at_bound == Some(progress) {
                return Poll::Ready(Some(Err(Box::new(OverheadExceeded) as BoxError)));
            }
            progress_at_bound = Some(progress);
            // Polled again at once, after multer has parsed its buffer.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        progress_at_bound = None;
        body.as_mut().poll_next(cx).map(|next| {
            next.map(|chunk| {
                let chunk = chunk.map_err(Into::<BoxError>::into)?;
                counted
                    .read
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                Ok(chunk)
            })
        })
    });
    let mut constraints = multer::Constraints::new();
    if let Some(limit) = max_upload_bytes {
        let whole = limit.saturating_add(MULTIPART_OVERHEAD_BYTES);
        constraints = constraints.size_limit(multer::SizeLimit::new().whole_stream(whole));
    }
    let mut multipart = multer::Multipart::with_constraints(body, boundary, constraints);
    let mut stored = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_refusal)? {
        ahead.progress.fetch_add(1, Ordering::Relaxed);
        if field.name() != Some("file") {
            continue; // other form fields are read past and ignored
        }
        if stored.is_some() {
            return Err(Refusal::bad_request(
                "the form has more than one part named \"file\"; send one file per request",
            ));
        }
        let Some(file_name) = field.file_name().map(str::to_owned) else {
            return Err(Refusal::bad_request(
                "the form part \"file\" has no filename in its Content-Disposition",
            ));
        };
        paths::file_name(&file_name).map_err(|e| Refusal::bad_request(format!("filename: {e}")))?;
        let mut upload = store.start_upload().await?.with_limit(max_upload_bytes);
        while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
            ahead
                .handed_out
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            ahead.progress.fetch_add(1, Ordering::Relaxed);
            match upload.write(&chunk).await {
                Ok(()) => {}
                Err(WriteError::TooLarge { limit }) => {
                    drop(upload); // removes the partial file before the client hears of it
                    let mut discarded = 0u64;
                    while discarded <= DRAIN_AFTER_REFUSAL_BYTES {
                        match field.chunk().await {
                            Ok(Some(chunk)) => discarded += chunk.len() as u64,
                            _ => break,
                        }
                    }
                    return Err(too_large(&format!("{file_name:?}"), limit));
                }
                Err(WriteError::Io(e)) => {
                    return Err(Refusal::storage(&format!("write {file_name:?}"), &e));
                }
            }
        }
        stored = Some((file_name, upload));
    }
    let Some((file_name, upload)) = stored else {
        return Err(Refusal::bad_request(
            "the form has no part named \"file\" (Plik expects the file there)",
        ));
    };
    let file_id = new_id();
    let destination = StoredPath::from_names(&[PLIK_FOLDER, upload_id, &file_id, &file_name])
        .map_err(Refusal::bad_request)?;
    let size = store.commit(upload, &destination, false).await?;
    Ok(json!({
        "id": file_id,
        "fileName": file_name,
        "fileSize": size,
        "fileType": "application/octet-stream",
        "status": "uploaded",
        "reference": "",
    }))
}

/// 413 for an upload named `what` beyond `limit` bytes.
pub fn too_large(what: &str, limit: u64) -> Refusal {
    let mut refusal = Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("upload {what} is larger than the limit of {limit} bytes (--max-upload-bytes)"),
    );
    refusal.close = true;
    refusal
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How far multer has read ahead of what it handed out of the file part.
#[derive(Debug, Default)]
struct ReadAhead {
    /// Body bytes read from the connection.
    read: AtomicU64,
    /// File-part bytes multer handed out.
    handed_out: AtomicU64,
    /// Fields and chunks multer handed out: unchanged across a wait at the bound means stuck.
    progress: AtomicU64,
}

/// The multipart body held more than [`MULTIPART_OVERHEAD_BYTES`] outside its file part.
#[derive(Debug)]
struct OverheadExceeded;

impl std::fmt::Display for OverheadExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the multipart body holds more than {MULTIPART_OVERHEAD_BYTES} bytes outside its \
             file part (no boundary, or oversized headers or fields)"
        )
    }
}

impl std::error::Error for OverheadExceeded {}

fn multipart_refusal(error: multer::Error) -> Refusal {
    match error {
        multer::Error::StreamSizeExceeded { limit } => too_large("form", limit),
        multer::Error::StreamReadFailed(e) if e.is::<OverheadExceeded>() => {
            let mut refusal = Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string());
            refusal.close = true;
            refusal
        }
        multer::Error::StreamReadFailed(e) => {
            Refusal::bad_request(format!("the request body broke off: {e}"))
        }
        other => Refusal::bad_request(format!("malformed multipart/form-data body: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `multipart/form-data` body holding `file` as the part `file`, in `piece`-byte chunks.
    fn form(file: &[u8], piece: usize) -> Vec<Result<Bytes, std::io::Error>> {
        let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; \
                         filename=\"big.bin\"\r\n\r\n"
            .to_vec();
        body.extend_from_slice(file);
        body.extend_from_slice(b"\r\n--b0undary--\r\n");
        body.chunks(piece)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect()
    }

    /// A client faster than the server: every chunk is ready at once, and multer reads all
    /// that is ready before handing any out. The read-ahead bound must wait, not refuse.
    #[tokio::test]
    async fn a_fast_large_upload_is_stored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let file: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let body = futures_util::stream::iter(form(&file, 16 * 1024));
        let answer = receive_file(&store, "up", "b0undary".into(), body, None)
            .await
            .unwrap_or_else(|refusal| panic!("refused: {}", refusal.message));
        assert_eq!(answer["fileSize"], 3_000_000);
        let id = answer["id"].as_str().unwrap();
        let stored = std::fs::read(
            dir.path()
                .join(PLIK_FOLDER)
                .join("up")
                .join(id)
                .join("big.bin"),
        )
        .unwrap();
        assert!(stored == file, "the stored file differs from the upload");
    }

    /// Outside the file part the bound still refuses: a preamble with no boundary in it.
    #[tokio::test]
    async fn a_body_without_a_boundary_is_refused_at_the_overhead() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let chunks: Vec<Result<Bytes, std::io::Error>> = (0..64)
            .map(|_| Ok(Bytes::from(vec![b'x'; 16 * 1024])))
            .collect();
        let refusal = receive_file(
            &store,
            "up",
            "b0undary".into(),
            futures_util::stream::iter(chunks),
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(
            refusal.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            refusal.message
        );
        assert!(
            refusal.message.contains("outside its file part"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }

    #[test]
    fn the_oldest_upload_is_forgotten_at_capacity() {
        let uploads = Uploads::new(2);
        let (first, first_token) = uploads.open();
        std::thread::sleep(Duration::from_millis(2));
        let (second, second_token) = uploads.open();
        std::thread::sleep(Duration::from_millis(2));
        let (third, third_token) = uploads.open();
        assert_eq!(uploads.len(), 2);
        assert!(uploads.check(&first, Some(&first_token)).is_err());
        assert!(uploads.check(&second, Some(&second_token)).is_ok());
        assert!(uploads.check(&third, Some(&third_token)).is_ok());
    }

    #[test]
    fn uploads_need_their_own_token_and_expire() {
        let uploads = Uploads::default();
        let (id, token) = uploads.open();
        let (_, other_token) = uploads.open();
        assert!(uploads.check(&id, Some(&token)).is_ok());
        assert_eq!(
            uploads.check(&id, Some(&other_token)).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            uploads.check(&id, None).unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            uploads.check("nope", Some(&token)).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        std::thread::sleep(Duration::from_millis(5));
        uploads.expire(Duration::ZERO);
        assert_eq!(
            uploads.check(&id, Some(&token)).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
    }
}
