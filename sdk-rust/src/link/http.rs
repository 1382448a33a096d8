//! The two HTTP upload backends of WIRE.md section 6: the Plik API (the original editions'
//! default) and a plain `PUT` of the payload to `{base}/{payload id}/{dataname}`.

use futures_util::future::BoxFuture;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;

use super::{LinkBackend, Upload, encode_path_segment, link_file_name};
use crate::{Error, ErrorKind};

/// Uploads with `PUT {base_url}/{payload id}/{dataname}`; the link is that URL. Works with
/// nginx WebDAV, rclone, S3-style stores and `natsbridge serve-files`.
#[derive(Debug, Clone)]
pub struct HttpPut {
    base_url: String,
    bearer_token: Option<String>,
    http: reqwest::Client,
}

impl HttpPut {
    /// Uploads under `base_url` (a trailing `/` is ignored).
    pub fn new(base_url: impl Into<String>) -> Self {
        HttpPut {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            bearer_token: None,
            http: reqwest::Client::new(),
        }
    }

    /// Sends `Authorization: Bearer <token>` with every upload (`serve-files --upload-token`).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// The URL a payload is stored at (the dataname made a plain file name by
    /// [`link_file_name`](super::link_file_name)).
    pub fn url_for(&self, payload_id: &str, dataname: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base_url,
            encode_path_segment(payload_id),
            encode_path_segment(&link_file_name(dataname))
        )
    }
}

impl LinkBackend for HttpPut {
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let url = self.url_for(&upload.payload_id, &upload.dataname);
            let body = http_body(&upload)
                .await
                .map_err(|e| upload_failed(&url, e))?;
            let mut request = self
                .http
                .put(&url)
                .header(reqwest::header::CONTENT_LENGTH, upload.size)
                .body(body);
            if let Some(token) = &self.bearer_token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.map_err(|e| upload_failed(&url, e))?;
            expect_success(&url, response).await?;
            Ok(url)
        })
    }

    fn needs_sha256(&self) -> bool {
        false
    }
}

/// Uploads through the Plik API: `POST /upload` creates an upload, `POST /file/{id}` adds the
/// payload as a multipart part named `file`; the link is
/// `{base_url}/file/{upload id}/{file id}/{dataname}`.
#[derive(Debug, Clone)]
pub struct Plik {
    base_url: String,
    plik_token: Option<String>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct CreatedUpload {
    id: String,
    #[serde(rename = "uploadToken")]
    upload_token: String,
}

#[derive(Deserialize)]
struct AddedFile {
    id: String,
}

impl Plik {
    /// A Plik server (or `natsbridge serve-files`) at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Plik {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            plik_token: None,
            http: reqwest::Client::new(),
        }
    }

    /// Sends `X-PlikToken: <token>` when creating uploads (servers that require a token).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.plik_token = Some(token.into());
        self
    }

    async fn create_upload(&self) -> Result<CreatedUpload, Error> {
        let url = format!("{}/upload", self.base_url);
        let mut request = self.http.post(&url).json(&serde_json::json!({}));
        if let Some(token) = &self.plik_token {
            request = request.header("X-PlikToken", token);
        }
        let response = request.send().await.map_err(|e| upload_failed(&url, e))?;
        let response = expect_success(&url, response).await?;
        response.json().await.map_err(|e| {
            upload_error(&url, "the answer is not an upload (id, uploadToken)").with_source(e)
        })
    }
}

impl LinkBackend for Plik {
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let created = self.create_upload().await?;
            let url = format!(
                "{}/file/{}",
                self.base_url,
                encode_path_segment(&created.id)
            );
            let body = http_body(&upload)
                .await
                .map_err(|e| upload_failed(&url, e))?;
            let file_name = link_file_name(&upload.dataname);
            let part = Part::stream_with_length(body, upload.size)
                .file_name(file_name.clone())
                .mime_str("application/octet-stream")
                .expect("a valid MIME type");
            let response = self
                .http
                .post(&url)
                .header("X-UploadToken", &created.upload_token)
                .multipart(Form::new().part("file", part))
                .send()
                .await
                .map_err(|e| upload_failed(&url, e))?;
            let response = expect_success(&url, response).await?;
            let file: AddedFile = response
                .json()
                .await
                .map_err(|e| upload_error(&url, "the answer is not a file (id)").with_source(e))?;
            Ok(format!(
                "{}/file/{}/{}/{}",
                self.base_url,
                encode_path_segment(&created.id),
                encode_path_segment(&file.id),
                encode_path_segment(&file_name)
            ))
        })
    }

    fn needs_sha256(&self) -> bool {
        false
    }
}

fn upload_error(url: &str, message: &str) -> Error {
    Error::url(ErrorKind::Upload, url, format!("upload failed: {message}"))
}

/// An upload to `url` that failed with `cause` (its source).
fn upload_failed(url: &str, cause: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::url(ErrorKind::Upload, url, "upload failed").with_source(cause)
}

/// Passes a 2xx response through; turns anything else into an upload error naming the URL,
/// the status and the start of the server's answer.
async fn expect_success(
    url: &str,
    response: reqwest::Response,
) -> Result<reqwest::Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let answer = response.text().await.unwrap_or_default();
    let answer: String = answer.chars().take(200).collect();
    Err(upload_error(
        url,
        &format!("the server answered {status}: {}", answer.trim()),
    ))
}

/// An upload's HTTP body: bytes in memory go as one buffer (hyper writes it without a chunk
/// stream) unless progress is reported, files and progress as a stream of chunks.
async fn http_body(upload: &Upload) -> std::io::Result<reqwest::Body> {
    match upload.in_memory() {
        Some(bytes) => Ok(reqwest::Body::from(bytes)),
        None => Ok(reqwest::Body::wrap_stream(upload.body().await?)),
    }
}
