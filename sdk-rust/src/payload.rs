//! What a caller sends ([`Payload`], one constructor per payload type) and what a receiver
//! gets back ([`ReceivedPayload`] holding [`Data`]), with the serialization of WIRE.md §4.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Serialize;

use crate::{Error, ErrorKind, PayloadFields, PayloadType};

/// Where the serialized bytes of an outgoing payload come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A file, read when the payload is sent: streamed to the file server when it goes
    /// `link`, so a large file is never held in memory.
    File(PathBuf),
}

/// One named, typed payload to send. Build it with a constructor per type
/// ([`Payload::text`], [`Payload::dictionary`], [`Payload::table`], [`Payload::image`], ...);
/// every other payload field a sender may set has a `with_<field>` setter generated from the
/// schema (`with_id`, `with_metadata(key, value)`, `with_metadata_map`).
///
/// ```
/// use natsbridge::{Payload, PayloadType};
///
/// let caption = Payload::text("caption", "a cat");
/// let settings = Payload::dictionary("settings", &serde_json::json!({"volume": 3}))?;
/// assert_eq!(settings.payload_type(), &PayloadType::Dictionary);
/// assert_eq!(settings.size(), Some(12)); // {"volume":3}
/// # Ok::<(), natsbridge::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Payload {
    pub(crate) dataname: String,
    pub(crate) payload_type: PayloadType,
    pub(crate) source: Source,
    /// The payload fields a sender may set (`with_id`, `with_metadata`, ... generated from
    /// the schema).
    pub(crate) fields: PayloadFields,
}

impl Payload {
    /// A payload of any type from its serialized bytes (WIRE.md §4).
    pub fn new(
        dataname: impl Into<String>,
        payload_type: PayloadType,
        bytes: impl Into<Bytes>,
    ) -> Self {
        Payload {
            dataname: dataname.into(),
            payload_type,
            source: Source::Bytes(bytes.into()),
            fields: PayloadFields::default(),
        }
    }

    /// A `text` payload: the string's UTF-8 bytes.
    pub fn text(dataname: impl Into<String>, text: impl Into<String>) -> Self {
        Payload::new(dataname, PayloadType::Text, text.into().into_bytes())
    }

    /// A `dictionary` payload: any value that serializes to a JSON object or array, written
    /// as compact JSON with object keys sorted (WIRE.md §8).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the value does not serialize, or serializes to
    /// something other than an object or array.
    pub fn dictionary<T: Serialize + ?Sized>(
        dataname: impl Into<String>,
        value: &T,
    ) -> Result<Self, Error> {
        let dataname = dataname.into();
        let value = serde_json::to_value(value).map_err(|e| {
            Error::payload_error(
                ErrorKind::InvalidInput,
                &dataname,
                "the dictionary does not serialize to JSON",
            )
            .with_source(e)
        })?;
        if !(value.is_object() || value.is_array()) {
            return Err(Error::payload_error(
                ErrorKind::InvalidInput,
                &dataname,
                "a dictionary payload must be a JSON object or array",
            ));
        }
        let json = crate::wire::canonical_json(&value);
        Ok(Payload::new(
            dataname,
            PayloadType::Dictionary,
            json.into_bytes(),
        ))
    }

    /// A `table` payload from Arrow IPC **streaming** format bytes.
    pub fn table(dataname: impl Into<String>, arrow_ipc_stream: impl Into<Bytes>) -> Self {
        Payload::new(dataname, PayloadType::Table, arrow_ipc_stream)
    }

    /// An `image` payload (PNG, JPEG, ... as given).
    pub fn image(dataname: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Payload::new(dataname, PayloadType::Image, bytes)
    }

    /// An `audio` payload.
    pub fn audio(dataname: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Payload::new(dataname, PayloadType::Audio, bytes)
    }

    /// A `video` payload.
    pub fn video(dataname: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Payload::new(dataname, PayloadType::Video, bytes)
    }

    /// A `binary` payload.
    pub fn binary(dataname: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Payload::new(dataname, PayloadType::Binary, bytes)
    }

    /// A payload whose bytes are the contents of a file, read when it is sent (and streamed
    /// when it goes `link`).
    pub fn file(
        dataname: impl Into<String>,
        payload_type: PayloadType,
        path: impl AsRef<Path>,
    ) -> Self {
        Payload {
            dataname: dataname.into(),
            payload_type,
            source: Source::File(path.as_ref().to_owned()),
            fields: PayloadFields::default(),
        }
    }

    /// The payload fields set so far (`with_id`, `with_metadata`, ...).
    pub fn fields(&self) -> &PayloadFields {
        &self.fields
    }

    /// Replaces every payload field at once.
    pub fn with_fields(mut self, fields: PayloadFields) -> Self {
        self.fields = fields;
        self
    }

    /// The caller's name for the payload.
    pub fn dataname(&self) -> &str {
        &self.dataname
    }

    /// Its type.
    pub fn payload_type(&self) -> &PayloadType {
        &self.payload_type
    }

    /// Its size in bytes when it is in memory (`None` for a file, known once read).
    pub fn size(&self) -> Option<u64> {
        match &self.source {
            Source::Bytes(bytes) => Some(bytes.len() as u64),
            Source::File(_) => None,
        }
    }

    /// Where its bytes come from.
    pub fn source(&self) -> &Source {
        &self.source
    }
}

#[cfg(feature = "arrow")]
impl Payload {
    /// A `table` payload from an Arrow record batch, written in the IPC streaming format.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when Arrow cannot write the batch.
    pub fn record_batch(
        dataname: impl Into<String>,
        batch: &arrow_array::RecordBatch,
    ) -> Result<Self, Error> {
        let dataname = dataname.into();
        let fail = |e: arrow_schema::ArrowError| {
            Error::payload_error(
                ErrorKind::InvalidInput,
                &dataname,
                "the table does not serialize as Arrow IPC",
            )
            .with_source(e)
        };
        let mut out = Vec::new();
        let mut writer =
            arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).map_err(fail)?;
        writer.write(batch).map_err(fail)?;
        writer.finish().map_err(fail)?;
        drop(writer);
        Ok(Payload::table(dataname, out))
    }
}

/// The decoded data of a received payload (WIRE.md §4 and §7).
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// A `text` payload.
    Text(String),
    /// A `dictionary` or `jsontable` payload.
    Json(serde_json::Value),
    /// Every other payload type (`table` as Arrow IPC bytes, `image`, `audio`, `video`,
    /// `binary`, and types this edition does not know).
    Bytes(Bytes),
}

impl Data {
    /// The text of a `text` payload.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Data::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The JSON value of a `dictionary` or `jsontable` payload.
    pub fn as_json(&self) -> Option<&serde_json::Value> {
        match self {
            Data::Json(value) => Some(value),
            _ => None,
        }
    }

    /// The bytes of a bytes payload.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Data::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// Decodes serialized bytes as `payload_type` says (WIRE.md §4): text as UTF-8,
    /// dictionary and jsontable as JSON, the rest as bytes. `at` names the place in errors.
    pub(crate) fn from_serialized(
        payload_type: &PayloadType,
        bytes: Bytes,
        at: &str,
    ) -> Result<Data, Error> {
        match payload_type.as_str() {
            "text" => String::from_utf8(bytes.into())
                .map(Data::Text)
                .map_err(|_| {
                    Error::field(ErrorKind::BadValue, at, "a text payload that is not UTF-8")
                }),
            "dictionary" | "jsontable" => {
                serde_json::from_slice(&bytes).map(Data::Json).map_err(|e| {
                    Error::field(
                        ErrorKind::BadValue,
                        at,
                        format!("a {payload_type} payload that is not JSON"),
                    )
                    .with_source(e)
                })
            }
            _ => Ok(Data::Bytes(bytes)),
        }
    }
}

#[cfg(feature = "arrow")]
impl Data {
    /// The record batches of a `table` payload (Arrow IPC streaming format).
    ///
    /// # Errors
    /// [`ErrorKind::BadValue`] when the bytes are not an Arrow IPC stream;
    /// [`ErrorKind::InvalidInput`] when the data is not bytes.
    pub fn record_batches(&self) -> Result<Vec<arrow_array::RecordBatch>, Error> {
        let bytes = self.as_bytes().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "",
                "only a bytes payload holds an Arrow table",
            )
        })?;
        let reader =
            arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes.clone()), None)
                .map_err(|e| {
                    Error::field(ErrorKind::BadValue, "data", "not an Arrow IPC stream")
                        .with_source(e)
                })?;
        reader.collect::<Result<Vec<_>, _>>().map_err(|e| {
            Error::field(ErrorKind::BadValue, "data", "not an Arrow IPC stream").with_source(e)
        })
    }
}

/// One payload as a receiver gets it: `(dataname, data, payload_type)` as in the original
/// editions, plus how it travelled.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedPayload {
    /// The sender's name for the payload.
    pub dataname: String,
    /// The decoded data.
    pub data: Data,
    /// The payload type after receive-side normalisation (`arrowtable` is `table`; an
    /// unknown type keeps its name).
    pub payload_type: PayloadType,
    /// `direct` or `link`.
    pub transport: crate::Transport,
    /// The payload's metadata.
    pub metadata: serde_json::Map<String, serde_json::Value>,
}
