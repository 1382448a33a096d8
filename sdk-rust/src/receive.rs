//! Turning a received envelope into its payloads: direct ones decoded (base64 and the legacy
//! encodings of WIRE.md section 7), link ones downloaded and verified, in envelope order.

use std::path::Path;

use bytes::Bytes;

use crate::envelope::SplitEnvelope;
use crate::link::{Expected, Fetcher, Sink};
use crate::{
    Data, Encoding, Error, ErrorKind, MessageEnvelope, MessagePayload, Place, ReceivedPayload,
    Transport,
};

/// The buffer a link payload received in memory starts with (it grows as data arrives).
const INITIAL_BUFFER: u64 = 1 << 20;

/// A received message: its envelope and its payloads, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The envelope as sent (aliases resolved, defaults filled in), except that a direct
    /// payload's `data` is empty: its bytes are in [`payloads`](Self::payloads), decoded
    /// straight from the message body (keeping the base64 text too would hold the payload
    /// a second time, 1.33 x its size). A link payload's `data` is its URL.
    pub envelope: MessageEnvelope,
    /// The payloads in envelope order, link ones downloaded.
    pub payloads: Vec<ReceivedPayload>,
    /// The NATS reply subject of the message, when it had one.
    pub reply_subject: Option<String>,
}

impl Received {
    /// The first payload named `dataname`.
    pub fn payload(&self, dataname: &str) -> Option<&ReceivedPayload> {
        self.payloads.iter().find(|p| p.dataname == dataname)
    }

    /// The payloads as `(dataname, data, payload_type)`, as the original editions return them.
    pub fn into_tuples(self) -> Vec<(String, Data, crate::PayloadType)> {
        self.payloads
            .into_iter()
            .map(|p| (p.dataname, p.data, p.payload_type))
            .collect()
    }
}

/// The serialized bytes of a direct payload whose data text is `data`: base64 decoded
/// (`base64`, `arrow-ipc`) or taken as text (`json`, `none`), checked against `size`.
pub(crate) fn direct_bytes(
    payload: &MessagePayload,
    data: &str,
    index: usize,
) -> Result<Bytes, Error> {
    let bytes = match payload.encoding {
        Encoding::Base64 | Encoding::ArrowIpc => crate::wire::base64_decode(data).map_err(|e| {
            Error::field(
                ErrorKind::BadBase64,
                format!("payloads[{index}].data"),
                format!("payload {:?} is not valid base64: {e}", payload.dataname),
            )
        })?,
        Encoding::Json | Encoding::None => data.as_bytes().to_vec(),
    };
    if bytes.len() as u64 != payload.size {
        return Err(Error::field(
            ErrorKind::SizeMismatch,
            format!("payloads[{index}].size"),
            format!(
                "payload {:?} has {} bytes of data, its size says {}",
                payload.dataname,
                bytes.len(),
                payload.size
            ),
        ));
    }
    Ok(Bytes::from(bytes))
}

/// The lower-case hex SHA-256 of a link payload's `metadata.checksum`, if it has one.
fn checksum(payload: &MessagePayload, index: usize) -> Result<Option<&str>, Error> {
    let Some(value) = payload.metadata.get("checksum") else {
        return Ok(None);
    };
    let hex = value
        .as_str()
        .and_then(|s| s.strip_prefix("sha256:"))
        .filter(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
    match hex {
        Some(hex) => Ok(Some(hex)),
        None => Err(Error::field(
            ErrorKind::BadValue,
            format!("payloads[{index}].metadata.checksum"),
            format!(
                "payload {:?}: a checksum must be \"sha256:\" and 64 lower-case hex digits, not {value}",
                payload.dataname
            ),
        )),
    }
}

fn expected<'a>(payload: &'a MessagePayload, index: usize) -> Result<Expected<'a>, Error> {
    Ok(Expected {
        url: &payload.data,
        dataname: &payload.dataname,
        size: payload.size,
        sha256: checksum(payload, index)?,
    })
}

impl Fetcher {
    /// Decodes every payload of `envelope`, whose data texts are `data`: direct ones first
    /// (so a malformed message fails before any download), then link ones fetched one after
    /// the other.
    async fn payloads(
        &self,
        envelope: &MessageEnvelope,
        data: &[std::borrow::Cow<'_, str>],
    ) -> Result<Vec<ReceivedPayload>, Error> {
        let mut direct = Vec::with_capacity(envelope.payloads.len());
        let mut linked = 0u64;
        for ((index, payload), text) in envelope.payloads.iter().enumerate().zip(data) {
            direct.push(match payload.transport {
                Transport::Direct => Some(direct_bytes(payload, text, index)?),
                Transport::Link => {
                    expected(payload, index)?;
                    // Declared sizes, summed: one file named N times counts N times.
                    linked = linked.saturating_add(payload.size);
                    None
                }
            });
        }
        let cap = self.policy.in_memory_cap();
        if linked > cap {
            return Err(Error::field(
                ErrorKind::TooLarge,
                "payloads",
                format!(
                    "the link payloads of message {:?} add up to {linked} bytes, more than the \
                     {cap} bytes this receiver holds in memory per message \
                     (LinkPolicy::max_in_memory_bytes); receive them to files with \
                     payload_to_file",
                    envelope.msg_id
                ),
            ));
        }
        let mut out = Vec::with_capacity(direct.len());
        for ((index, payload), bytes) in envelope.payloads.iter().enumerate().zip(direct) {
            let bytes = match bytes {
                Some(bytes) => bytes,
                None => {
                    // Grown as data arrives: a size the server never sends costs nothing.
                    let mut buffer = Vec::with_capacity(payload.size.min(INITIAL_BUFFER) as usize);
                    self.fetch(&expected(payload, index)?, &mut buffer).await?;
                    Bytes::from(buffer)
                }
            };
            let data = Data::from_serialized(
                &payload.payload_type,
                bytes,
                &format!("payloads[{index}].data"),
            )?;
            out.push(ReceivedPayload {
                dataname: payload.dataname.clone(),
                data,
                payload_type: payload.payload_type.clone(),
                transport: payload.transport.clone(),
                metadata: payload.metadata.clone(),
            });
        }
        Ok(out)
    }

    /// A decoded envelope with its payloads (see [`payloads`](Self::payloads)); the
    /// envelope keeps link payloads' URLs, not direct payloads' text.
    pub(crate) async fn receive(&self, split: SplitEnvelope<'_>) -> Result<Received, Error> {
        let SplitEnvelope {
            mut envelope,
            mut data,
        } = split;
        for (payload, text) in envelope.payloads.iter_mut().zip(&mut data) {
            if payload.transport == Transport::Link {
                payload.data = std::mem::take(text).into_owned();
            }
        }
        let payloads = self.payloads(&envelope, &data).await?;
        Ok(Received {
            envelope,
            payloads,
            reply_subject: None,
        })
    }

    /// Writes the serialized bytes of payload `index` into `sink`, streaming a link payload
    /// without holding it in memory.
    pub(crate) async fn payload_into(
        &self,
        envelope: &MessageEnvelope,
        index: usize,
        sink: &mut Sink<'_>,
    ) -> Result<u64, Error> {
        use tokio::io::AsyncWriteExt;
        let payload = envelope.payloads.get(index).ok_or_else(|| {
            Error::field(
                ErrorKind::InvalidInput,
                format!("payloads[{index}]"),
                format!("the envelope has {} payloads", envelope.payloads.len()),
            )
        })?;
        match payload.transport {
            Transport::Direct => {
                let bytes = direct_bytes(payload, &payload.data, index)?;
                sink.write_all(&bytes)
                    .await
                    .map_err(|e| io_error(payload, e))?;
                sink.flush().await.map_err(|e| io_error(payload, e))?;
            }
            Transport::Link => self.fetch(&expected(payload, index)?, sink).await?,
        }
        Ok(payload.size)
    }

    /// Writes payload `index` to the file `path`: into a temporary file next to it, renamed
    /// over `path` only once size and checksum are verified.
    pub(crate) async fn payload_to_file(
        &self,
        envelope: &MessageEnvelope,
        index: usize,
        path: &Path,
    ) -> Result<u64, Error> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = path.with_file_name(format!(".{name}.{}.part", crate::clock::new_id()));
        let file_error = |e: std::io::Error, p: &Path| {
            let error = Error::located(
                ErrorKind::Io,
                Place::File(p.to_owned()),
                "cannot write the payload",
            );
            match envelope.payloads.get(index) {
                Some(payload) => error.with_payload(&payload.dataname),
                None => error,
            }
            .with_source(e)
        };
        let mut file = tokio::fs::File::create(&temporary)
            .await
            .map_err(|e| file_error(e, &temporary))?;
        let result = self.payload_into(envelope, index, &mut file).await;
        drop(file);
        match result {
            Ok(size) => {
                tokio::fs::rename(&temporary, path)
                    .await
                    .map_err(|e| file_error(e, path))?;
                Ok(size)
            }
            Err(error) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                Err(error)
            }
        }
    }
}

fn io_error(payload: &MessagePayload, error: std::io::Error) -> Error {
    Error::payload_error(ErrorKind::Io, &payload.dataname, "cannot write the data")
        .with_source(error)
}
