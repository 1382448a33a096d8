//! What the server does with each request: the Plik API subset, plain PUT/GET/HEAD/DELETE,
//! the upload token and the size limit. Every refusal names the path, header or field.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyDataStream, BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::paths::{self, StoredPath};
use super::plik::{self, Uploads};
use super::response::{self, Body, DRAIN_AFTER_REFUSAL_BYTES, Refusal};
use super::storage::{Store, WriteError};

/// The largest JSON body of options `POST /upload` accepts.
const MAX_UPLOAD_OPTIONS_BYTES: usize = 64 * 1024;
use plik::MULTIPART_OVERHEAD_BYTES;

/// What every request handler shares.
#[derive(Debug)]
pub struct Shared {
    /// The served folder.
    pub store: Store,
    /// Plik uploads opened by `POST /upload`.
    pub uploads: Uploads,
    /// Uploads larger than this are refused with 413.
    pub max_upload_bytes: Option<u64>,
    /// Stored files older than this are removed.
    pub ttl: Option<Duration>,
    /// When set, uploads and deletes need it as a bearer token or `X-PlikToken`; without
    /// it, deletes are refused.
    pub upload_token: Option<String>,
    /// Whether a `PUT` may replace a stored file.
    pub allow_overwrite: bool,
    /// A connection moving less than 1 KiB in this long is closed.
    pub idle_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
}

/// Answers one request; refusals become plain-text error responses.
pub async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    Ok(route(&shared, request)
        .await
        .unwrap_or_else(Refusal::into_response))
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Result<Response<Body>, Refusal> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    match method {
        Method::POST if path == "/upload" => open_upload(shared, request).await,
        Method::POST if path.starts_with("/file/") => add_plik_file(shared, request).await,
        Method::GET | Method::HEAD if path == "/" => Ok(response::text(
            StatusCode::OK,
            "natsbridge file server\n".to_owned(),
        )),
        Method::GET | Method::HEAD => serve(shared, &path, method == Method::HEAD).await,
        Method::PUT => store(shared, request).await,
        Method::DELETE => delete(shared, request).await,
        _ => Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "{method} {path} is not served; use GET, HEAD, PUT, DELETE, \
                 POST /upload or POST /file/{{uploadId}}"
            ),
        )),
    }
}

fn stored_path(raw: &str) -> Result<StoredPath, Refusal> {
    StoredPath::from_url_path(raw).map_err(|e| Refusal::bad_request(format!("path {raw}: {e}")))
}

async fn serve(
    shared: &Shared,
    raw_path: &str,
    head_only: bool,
) -> Result<Response<Body>, Refusal> {
    let path = stored_path(raw_path)?;
    match shared.store.open_file(&path).await? {
        Some((file, length)) => Ok(response::file(file, length, head_only)),
        None => Err(Refusal::not_found(format!(
            "no file at {}",
            path.to_url_path()
        ))),
    }
}

async fn store(shared: &Shared, request: Request<Incoming>) -> Result<Response<Body>, Refusal> {
    authorize(shared, &request)?;
    let path = stored_path(request.uri().path())?;
    let url_path = path.to_url_path();
    if path.first() == plik::PLIK_FOLDER {
        // Plik's own folder: a PUT there could take the place of an upload's folder or file.
        let mut refusal = Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "PUT {url_path}: /{}/ holds Plik uploads (POST /upload, POST /file/ID); \
                 PUT elsewhere",
                plik::PLIK_FOLDER
            ),
        );
        refusal.close = true;
        return Err(refusal);
    }
    if !shared.allow_overwrite && shared.store.open_file(&path).await?.is_some() {
        return Err(already_stored(&url_path));
    }
    let (parts, mut body) = request.into_parts();
    if let Some(limit) = shared.max_upload_bytes {
        refuse_declared_over(&parts.headers, &mut body, limit, limit, &url_path).await?;
    }
    let mut upload = shared
        .store
        .start_upload()
        .await?
        .with_limit(shared.max_upload_bytes);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Refusal::bad_request(format!("the body of PUT {url_path} broke off: {e}"))
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers carry nothing we store
        };
        match upload.write(&chunk).await {
            Ok(()) => {}
            Err(WriteError::TooLarge { limit }) => {
                drop(upload); // removes the partial file before the client hears of it
                drain(&mut body).await;
                return Err(plik::too_large(&url_path, limit));
            }
            Err(WriteError::Io(e)) => {
                return Err(Refusal::storage(&format!("write {url_path}"), &e));
            }
        }
    }
    let length = shared
        .store
        .commit(upload, &path, shared.allow_overwrite)
        .await?;
    Ok(response::text(
        StatusCode::CREATED,
        format!("stored {url_path} ({length} bytes)\n"),
    ))
}

/// Refuses with 413 (`limit` named in the message) a body whose `Content-Length` is over
/// `allowed`, reading it away first when that is cheap so that the client hears the answer.
async fn refuse_declared_over(
    headers: &HeaderMap,
    body: &mut Incoming,
    allowed: u64,
    limit: u64,
    what: &str,
) -> Result<(), Refusal> {
    match declared_length(headers)? {
        Some(declared) if declared > allowed => {
            if declared - allowed <= DRAIN_AFTER_REFUSAL_BYTES {
                drain(body).await;
            }
            Err(plik::too_large(what, limit))
        }
        _ => Ok(()),
    }
}

/// Reads and discards what is left of a refused upload, up to a bound.
async fn drain(body: &mut Incoming) {
    let mut discarded = 0u64;
    while discarded <= DRAIN_AFTER_REFUSAL_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                discarded += frame.data_ref().map_or(0, |data| data.len() as u64);
            }
            _ => return,
        }
    }
}

/// 409 for a `PUT` onto a stored file without `--allow-overwrite`.
pub fn already_stored(url_path: &str) -> Refusal {
    let mut refusal = Refusal::new(
        StatusCode::CONFLICT,
        format!(
            "{url_path} is already stored and files are write-once; PUT to a new path \
             (or start the server with --allow-overwrite)"
        ),
    );
    refusal.close = true; // the body, if any, is left unread
    refusal
}

async fn delete(shared: &Shared, request: Request<Incoming>) -> Result<Response<Body>, Refusal> {
    let path = stored_path(request.uri().path())?;
    if shared.upload_token.is_none() {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "DELETE {} is refused: this server has no upload token, so nobody may delete \
                 (start it with --upload-token to allow deletes with the token)",
                path.to_url_path()
            ),
        ));
    }
    authorize(shared, &request)?;
    if shared.store.delete(&path).await? {
        Ok(response::text(
            StatusCode::OK,
            format!("deleted {}\n", path.to_url_path()),
        ))
    } else {
        Err(Refusal::not_found(format!(
            "no file at {}",
            path.to_url_path()
        )))
    }
}

async fn open_upload(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<Response<Body>, Refusal> {
    authorize(shared, &request)?;
    let options = Limited::new(request.into_body(), MAX_UPLOAD_OPTIONS_BYTES)
        .collect()
        .await
        .map_err(|e| {
            Refusal::bad_request(format!(
                "the JSON options of POST /upload could not be read (at most \
                 {MAX_UPLOAD_OPTIONS_BYTES} bytes): {e}"
            ))
        })?
        .to_bytes();
    if !options.iter().all(u8::is_ascii_whitespace) {
        let parsed: serde_json::Value = serde_json::from_slice(&options).map_err(|e| {
            Refusal::bad_request(format!("the body of POST /upload is not JSON: {e}"))
        })?;
        if !parsed.is_object() {
            return Err(Refusal::bad_request(
                "the body of POST /upload must be a JSON object of options, such as {}",
            ));
        }
    }
    let (id, token) = shared.uploads.open();
    Ok(response::json(
        StatusCode::OK,
        &plik::upload_opened(&id, &token, shared.ttl),
    ))
}

async fn add_plik_file(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<Response<Body>, Refusal> {
    let path = request.uri().path().to_owned();
    let upload_id = path.trim_start_matches("/file/");
    paths::file_name(upload_id)
        .map_err(|e| Refusal::bad_request(format!("POST {path}: upload id: {e}")))?;
    let token = request
        .headers()
        .get("x-uploadtoken")
        .map(|value| value.to_str().unwrap_or(""));
    shared.uploads.check(upload_id, token)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        Refusal::bad_request(format!(
            "POST {path} needs Content-Type multipart/form-data with a boundary, \
             not {content_type:?}"
        ))
    })?;
    let (parts, mut body) = request.into_parts();
    if let Some(limit) = shared.max_upload_bytes {
        let allowed = limit.saturating_add(MULTIPART_OVERHEAD_BYTES);
        refuse_declared_over(&parts.headers, &mut body, allowed, limit, &path).await?;
    }
    let body = BodyDataStream::new(body);
    let answer = plik::receive_file(
        &shared.store,
        upload_id,
        boundary,
        body,
        shared.max_upload_bytes,
    )
    .await?;
    Ok(response::json(StatusCode::OK, &answer))
}

/// The request's `Content-Length`, if it has one.
fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, Refusal> {
    headers
        .get(header::CONTENT_LENGTH)
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    Refusal::bad_request(format!("Content-Length {value:?} is not a number"))
                })
        })
        .transpose()
}

/// With an upload token configured, requires it as `Authorization: Bearer T` or
/// `X-PlikToken: T`.
fn authorize(shared: &Shared, request: &Request<Incoming>) -> Result<(), Refusal> {
    let Some(expected) = &shared.upload_token else {
        return Ok(());
    };
    let headers = request.headers();
    let bearer = headers.get(header::AUTHORIZATION).and_then(bearer_token);
    let plik = headers.get("x-pliktoken").and_then(|v| v.to_str().ok());
    let given = [bearer, plik];
    if given
        .iter()
        .flatten()
        .any(|token| plik::same_secret(token, expected))
    {
        return Ok(());
    }
    let what = if given.iter().any(Option::is_some) {
        "the upload token given is wrong"
    } else {
        "an upload token is required: send `Authorization: Bearer TOKEN` or `X-PlikToken: TOKEN`"
    };
    let mut refusal = Refusal::new(
        StatusCode::UNAUTHORIZED,
        format!("{} {}: {what}", request.method(), request.uri().path()),
    );
    refusal.close = true; // the body, if any, is left unread
    Err(refusal)
}

fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
