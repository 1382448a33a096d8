//! The folder the server stores in: uploads land in a temporary file in `.incoming/` and are
//! renamed into place only when complete, so a broken upload is never served.

use std::io;
use std::path::{Path, PathBuf};

use hyper::StatusCode;
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::paths::StoredPath;
use super::response::Refusal;

/// The folder below the served folder that holds uploads in progress; never served.
pub const INCOMING_FOLDER: &str = ".incoming";

/// How many bytes are gathered before each write to disk.
const WRITE_BUFFER_BYTES: usize = 256 * 1024;

/// The served folder.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    incoming: PathBuf,
}

impl Store {
    /// Opens (creating it if needed) the folder `dir` and its `.incoming/` folder.
    pub fn open(dir: &Path) -> io::Result<Store> {
        let named = |error: io::Error, what: &str| {
            io::Error::new(error.kind(), format!("{what} {}: {error}", dir.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| named(e, "cannot create the folder"))?;
        let root = dir
            .canonicalize()
            .map_err(|e| named(e, "cannot resolve the folder"))?;
        let incoming = root.join(INCOMING_FOLDER);
        std::fs::create_dir_all(&incoming)
            .map_err(|e| named(e, "cannot create .incoming/ in the folder"))?;
        Ok(Store { root, incoming })
    }

    /// The served folder, resolved.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of uploads in progress.
    pub fn incoming(&self) -> &Path {
        &self.incoming
    }

    /// A new, empty temporary file for an upload.
    pub async fn start_upload(&self) -> Result<PartialUpload, Refusal> {
        let path = self
            .incoming
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = File::create_new(&path)
            .await
            .map_err(|e| Refusal::storage("create a temporary file for the upload", &e))?;
        Ok(PartialUpload {
            writer: Some(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file)),
            path,
            length: 0,
            limit: None,
            committed: false,
        })
    }

    /// Moves a complete upload to `destination`, creating its folders. A file already there
    /// is replaced only when `overwrite` is set, else 409 (a hard link, which fails on an
    /// existing name, places it without a window for a race). The upload becomes visible in
    /// one step.
    pub async fn commit(
        &self,
        mut upload: PartialUpload,
        destination: &StoredPath,
        overwrite: bool,
    ) -> Result<u64, Refusal> {
        let url_path = destination.to_url_path();
        if let Some(mut writer) = upload.writer.take() {
            writer
                .shutdown()
                .await
                .map_err(|e| Refusal::storage(&format!("write {url_path}"), &e))?;
        }
        let target = destination.under(&self.root);
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        // A sweep may remove a folder that has just become empty; try once more if it did.
        for attempt in 0..2 {
            self.create_folders(&parent, &url_path).await?;
            let placed = if overwrite {
                tokio::fs::rename(&upload.path, &target).await
            } else {
                place_new(&upload.path, &target).await
            };
            match placed {
                Ok(()) => {
                    upload.committed = true;
                    return Ok(upload.length);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && !target.is_dir() => {
                    return Err(super::routes::already_stored(&url_path));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt == 0 => continue,
                Err(e) if target.is_dir() => {
                    return Err(Refusal::new(
                        StatusCode::CONFLICT,
                        format!("{url_path} is a folder; cannot store a file there ({e})"),
                    ));
                }
                Err(e) => return Err(Refusal::storage(&format!("store {url_path}"), &e)),
            }
        }
        Err(Refusal::storage(
            &format!("store {url_path}"),
            &io::Error::from(io::ErrorKind::NotFound),
        ))
    }

    async fn create_folders(&self, folder: &Path, url_path: &str) -> Result<(), Refusal> {
        if let Err(e) = tokio::fs::create_dir_all(folder).await {
            let status = if matches!(
                e.kind(),
                io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory
            ) {
                StatusCode::CONFLICT
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            return Err(Refusal::new(
                status,
                format!("cannot create the folders of {url_path} (is a file in the way?): {e}"),
            ));
        }
        self.ensure_inside(folder, url_path).await
    }

    /// Opens the file at `path` for reading, with its length; `None` when no file is there.
    pub async fn open_file(&self, path: &StoredPath) -> Result<Option<(File, u64)>, Refusal> {
        let url_path = path.to_url_path();
        let full = path.under(&self.root);
        let file = match File::open(&full).await {
            Ok(file) => file,
            Err(e) if is_absent(&e) => return Ok(None),
            Err(e) => return Err(Refusal::storage(&format!("open {url_path}"), &e)),
        };
        let metadata = file
            .metadata()
            .await
            .map_err(|e| Refusal::storage(&format!("read {url_path}"), &e))?;
        if !metadata.is_file() {
            return Ok(None);
        }
        self.ensure_inside(&full, &url_path).await?;
        Ok(Some((file, metadata.len())))
    }

    /// Removes the file at `path`; `false` when no file was there.
    pub async fn delete(&self, path: &StoredPath) -> Result<bool, Refusal> {
        let url_path = path.to_url_path();
        let full = path.under(&self.root);
        match tokio::fs::symlink_metadata(&full).await {
            Ok(metadata) if metadata.is_file() => {}
            Ok(_) => return Ok(false),
            Err(e) if is_absent(&e) => return Ok(false),
            Err(e) => return Err(Refusal::storage(&format!("look up {url_path}"), &e)),
        }
        if let Some(parent) = full.parent() {
            self.ensure_inside(parent, &url_path).await?;
        }
        match tokio::fs::remove_file(&full).await {
            Ok(()) => Ok(true),
            Err(e) if is_absent(&e) => Ok(false),
            Err(e) => Err(Refusal::storage(&format!("delete {url_path}"), &e)),
        }
    }

    /// Refuses a path that resolves (through a symbolic link someone placed in the folder)
    /// to somewhere outside the served folder.
    async fn ensure_inside(&self, path: &Path, url_path: &str) -> Result<(), Refusal> {
        let resolved = tokio::fs::canonicalize(path)
            .await
            .map_err(|e| Refusal::storage(&format!("resolve {url_path}"), &e))?;
        if resolved.starts_with(&self.root) && !resolved.starts_with(&self.incoming) {
            Ok(())
        } else {
            Err(Refusal::new(
                StatusCode::FORBIDDEN,
                format!("{url_path} leads outside the served folder"),
            ))
        }
    }
}

/// Gives the file `from` the name `to` only when nothing has that name: a hard link, then
/// the temporary name removed (a file system without hard links falls back to a rename
/// after a check).
async fn place_new(from: &Path, to: &Path) -> io::Result<()> {
    match tokio::fs::hard_link(from, to).await {
        Ok(()) => {
            let _ = tokio::fs::remove_file(from).await;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if tokio::fs::symlink_metadata(to).await.is_ok() => {
            Err(io::Error::from(io::ErrorKind::AlreadyExists))
        }
        Err(_) => tokio::fs::rename(from, to).await,
    }
}

fn is_absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// An upload being received: a temporary file that is removed when this value is dropped
/// before [`Store::commit`] (a broken or refused upload leaves nothing behind).
#[derive(Debug)]
pub struct PartialUpload {
    writer: Option<BufWriter<File>>,
    path: PathBuf,
    length: u64,
    limit: Option<u64>,
    committed: bool,
}

/// Why a chunk of an upload was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The upload grew beyond the limit.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The disk refused the write.
    Io(io::Error),
}

impl PartialUpload {
    /// Refuses the upload once it is longer than `limit` bytes.
    pub fn with_limit(mut self, limit: Option<u64>) -> Self {
        self.limit = limit;
        self
    }

    /// Appends `chunk` to the upload.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), WriteError> {
        self.length += chunk.len() as u64;
        if let Some(limit) = self.limit
            && self.length > limit
        {
            return Err(WriteError::TooLarge { limit });
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| WriteError::Io(io::Error::other("the upload was already committed")))?;
        writer.write_all(chunk).await.map_err(WriteError::Io)
    }
}

impl Drop for PartialUpload {
    fn drop(&mut self) {
        if !self.committed {
            // Close the file first, then remove it; an error here only leaves a file in
            // `.incoming/`, which is never served and is swept once abandoned.
            drop(self.writer.take());
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
