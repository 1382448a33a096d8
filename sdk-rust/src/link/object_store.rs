//! Link payloads in a NATS JetStream Object Store bucket: no extra server, and it scales with
//! the NATS cluster. Links look like `nats-object-store://{bucket}/{payload id}/{dataname}`.

use futures_util::future::BoxFuture;
use tokio_util::io::StreamReader;

use super::{LinkBackend, Upload, encode_path_segment};
use crate::{Error, ErrorKind};

/// The URL scheme of Object Store links. The rest of the URL is the bucket, then the object
/// name `{payload id}/{dataname}` with the dataname percent-encoded. Receivers fetch such
/// links over their own NATS connection (the SDKs of this edition that have JetStream).
pub const OBJECT_STORE_SCHEME: &str = "nats-object-store://";

/// Uploads into a JetStream Object Store bucket, created on first use.
#[derive(Clone)]
pub struct ObjectStore {
    bucket: String,
    jetstream: async_nats::jetstream::Context,
}

impl ObjectStore {
    /// The bucket `bucket` on the JetStream of `jetstream`.
    pub fn new(jetstream: async_nats::jetstream::Context, bucket: impl Into<String>) -> Self {
        ObjectStore {
            bucket: bucket.into(),
            jetstream,
        }
    }

    async fn store(&self) -> Result<async_nats::jetstream::object_store::ObjectStore, Error> {
        if let Ok(store) = self.jetstream.get_object_store(&self.bucket).await {
            return Ok(store);
        }
        let config = async_nats::jetstream::object_store::Config {
            bucket: self.bucket.clone(),
            ..Default::default()
        };
        self.jetstream
            .create_object_store(config)
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Upload,
                    format!("{OBJECT_STORE_SCHEME}{}", self.bucket),
                    format!("cannot open or create the Object Store bucket: {e}"),
                )
            })
    }
}

impl LinkBackend for ObjectStore {
    fn upload<'a>(&'a self, upload: Upload) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let name = format!("{}/{}", upload.payload_id, upload.dataname);
            let url = format!(
                "{OBJECT_STORE_SCHEME}{}/{}/{}",
                self.bucket,
                encode_path_segment(&upload.payload_id),
                encode_path_segment(&upload.dataname)
            );
            let store = self.store().await?;
            let failed = |e: &dyn std::fmt::Display| {
                Error::new(ErrorKind::Upload, &url, format!("upload failed: {e}"))
            };
            // Bytes in memory are read in place; files and progress go through the chunk stream.
            let put = match upload.in_memory() {
                Some(bytes) => store.put(name.as_str(), &mut bytes.as_ref()).await,
                None => {
                    let body = upload
                        .body()
                        .await
                        .map_err(|e| Error::new(ErrorKind::Upload, &url, e.to_string()))?;
                    store.put(name.as_str(), &mut StreamReader::new(body)).await
                }
            };
            put.map_err(|e| failed(&e))?;
            Ok(url)
        })
    }

    fn needs_sha256(&self) -> bool {
        false
    }
}

/// Splits an Object Store link into its bucket and object name.
pub(crate) fn parse_link(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix(OBJECT_STORE_SCHEME)?;
    let (bucket, object) = rest.split_once('/')?;
    let (payload_id, dataname) = object.split_once('/')?;
    let payload_id = super::decode_path_segment(payload_id)?;
    let dataname = super::decode_path_segment(dataname)?;
    Some((bucket.to_owned(), format!("{payload_id}/{dataname}")))
}
