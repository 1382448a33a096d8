//! Link payloads in a NATS JetStream Object Store bucket: no extra server, and it scales with
//! the NATS cluster. Links look like `nats-object-store://{bucket}/{payload id}/{dataname}`.

use std::sync::{Arc, Mutex};

use async_nats::jetstream::Context;
use async_nats::jetstream::object_store::{self, ObjectStore as Bucket};
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
    jetstream: Context,
    opened: OpenBuckets,
}

impl ObjectStore {
    /// The bucket `bucket` on the JetStream of `jetstream`.
    pub fn new(jetstream: Context, bucket: impl Into<String>) -> Self {
        ObjectStore {
            bucket: bucket.into(),
            jetstream,
            opened: OpenBuckets::default(),
        }
    }

    /// The bucket, opened now or created now, or opened before (then the flag is true).
    async fn store(&self) -> Result<(Bucket, bool), Error> {
        if let Some(store) = self.opened.get(&self.bucket) {
            return Ok((store, true));
        }
        if let Ok(store) = self.opened.open(&self.jetstream, &self.bucket).await {
            return Ok((store, false));
        }
        let config = object_store::Config {
            bucket: self.bucket.clone(),
            ..Default::default()
        };
        let store = self
            .jetstream
            .create_object_store(config)
            .await
            .map_err(|e| {
                Error::url(
                    ErrorKind::Upload,
                    format!("{OBJECT_STORE_SCHEME}{}", self.bucket),
                    "cannot open or create the Object Store bucket",
                )
                .with_source(e)
            })?;
        self.opened.keep(&self.bucket, &store);
        Ok((store, false))
    }
}

/// Puts the upload's bytes into `store` as `name`: bytes in memory are read in place, files
/// and uploads with progress go through the chunk stream.
async fn put(store: &Bucket, name: &str, upload: &Upload) -> Result<(), String> {
    let put = match upload.in_memory() {
        Some(bytes) => store.put(name, &mut bytes.as_ref()).await,
        None => {
            let body = upload.body().await.map_err(|e| e.to_string())?;
            store.put(name, &mut StreamReader::new(body)).await
        }
    };
    put.map(drop).map_err(|e| e.to_string())
}

/// Buckets already opened, so that a transfer does not first ask JetStream for the bucket's
/// info (a server round trip). Holds a few; a bucket whose use failed is opened again next time.
#[derive(Clone, Default)]
pub(crate) struct OpenBuckets(Arc<Mutex<Vec<(String, Bucket)>>>);

impl OpenBuckets {
    /// At most this many buckets are held; the oldest goes first.
    const HELD: usize = 8;

    /// The bucket opened before under this name.
    pub fn get(&self, name: &str) -> Option<Bucket> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone())
    }

    /// Remembers `bucket` under `name`.
    pub fn keep(&self, name: &str, bucket: &Bucket) {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|(n, _)| n != name);
        if held.len() == Self::HELD {
            held.remove(0);
        }
        held.push((name.to_owned(), bucket.clone()));
    }

    /// Forgets the bucket `name` (its last use failed: it may have been deleted).
    pub fn forget(&self, name: &str) {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|(n, _)| n != name);
    }

    /// The bucket `name`, opened now or before.
    pub async fn open(&self, jetstream: &Context, name: &str) -> Result<Bucket, String> {
        if let Some(bucket) = self.get(name) {
            return Ok(bucket);
        }
        let bucket = jetstream
            .get_object_store(name)
            .await
            .map_err(|e| e.to_string())?;
        self.keep(name, &bucket);
        Ok(bucket)
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
            let failed = |e: &dyn std::fmt::Display| {
                Error::url(ErrorKind::Upload, &url, format!("upload failed: {e}"))
            };
            let (store, opened_before) = self.store().await?;
            let Err(first) = put(&store, &name, &upload).await else {
                return Ok(url);
            };
            // The bucket may have been deleted since it was opened: open (or create) it again
            // and try once more. A bucket opened just now failed for another reason.
            self.opened.forget(&self.bucket);
            if !opened_before {
                return Err(failed(&first));
            }
            let (store, _) = self.store().await?;
            if let Err(e) = put(&store, &name, &upload).await {
                self.opened.forget(&self.bucket);
                return Err(failed(&e));
            }
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
