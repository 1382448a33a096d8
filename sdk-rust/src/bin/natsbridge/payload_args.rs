//! The payload options of `send` and `request`: texts, JSON values and files, each file with
//! its payload type given (`image=cat.png`) or guessed from its extension.

use std::path::{Path, PathBuf};

use natsbridge::{Error, ErrorKind, Payload, PayloadType};

/// What to send.
#[derive(Debug, clap::Args)]
pub struct PayloadArgs {
    /// A text payload (repeatable; named `text`, `text-2`, ...).
    #[arg(long)]
    text: Vec<String>,
    /// A dictionary payload from JSON text (repeatable; named `data`, `data-2`, ...).
    #[arg(long)]
    json: Vec<String>,
    /// A file, named by its file name: `PATH` (type from the extension) or `TYPE=PATH`, TYPE
    /// one of text, dictionary, table, image, audio, video, binary (repeatable).
    #[arg(long)]
    file: Vec<String>,
}

fn numbered(base: &str, index: usize) -> String {
    if index == 0 {
        base.to_owned()
    } else {
        format!("{base}-{}", index + 1)
    }
}

impl PayloadArgs {
    /// The payloads, texts first, then JSON values, then files, each in the order given.
    pub fn payloads(&self) -> Result<Vec<Payload>, Error> {
        let mut payloads: Vec<Payload> = self
            .text
            .iter()
            .enumerate()
            .map(|(i, text)| Payload::text(numbered("text", i), text.clone()))
            .collect();
        for (i, json) in self.json.iter().enumerate() {
            let name = numbered("data", i);
            let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("--json {name}"),
                    format!("not JSON: {e}"),
                )
            })?;
            payloads.push(Payload::dictionary(name, &value)?);
        }
        for spec in &self.file {
            payloads.push(file_payload(spec)?);
        }
        Ok(payloads)
    }
}

fn file_payload(spec: &str) -> Result<Payload, Error> {
    let (payload_type, path) = match spec.split_once('=') {
        Some((name, path)) if PayloadType::parse(name).is_some_and(|t| !t.is_receive_only()) => (
            PayloadType::parse(name).expect("checked above"),
            PathBuf::from(path),
        ),
        _ => (type_from_extension(Path::new(spec)), PathBuf::from(spec)),
    };
    if !path.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("--file {spec}"),
            "no such file",
        ));
    }
    let dataname = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if payload_type == PayloadType::Dictionary {
        // Sent in canonical form (compact, keys sorted), so it must parse as JSON first.
        let at = format!("--file {spec}");
        let text =
            std::fs::read(&path).map_err(|e| Error::new(ErrorKind::Io, &at, e.to_string()))?;
        let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                &at,
                format!("a dictionary file must hold JSON: {e}"),
            )
        })?;
        return Payload::dictionary(dataname, &value);
    }
    Ok(Payload::file(dataname, payload_type, path))
}

/// The payload type a file's extension suggests; `binary` when it suggests none.
pub fn type_from_extension(path: &Path) -> PayloadType {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" | "md" | "csv" | "log" => PayloadType::Text,
        "json" => PayloadType::Dictionary,
        "arrow" | "arrows" | "ipc" => PayloadType::Table,
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "bmp" | "tif" | "tiff" | "svg" => {
            PayloadType::Image
        }
        "wav" | "mp3" | "ogg" | "flac" | "m4a" | "opus" => PayloadType::Audio,
        "mp4" | "mkv" | "webm" | "mov" | "avi" => PayloadType::Video,
        _ => PayloadType::Binary,
    }
}
