//! Typed payloads on firmware: a team's own payload types, declared in a payload schema (JSON
//! Schema draft 2020-12, one type per `$defs` entry) and generated into its crate by
//! `natsbridge-codegen payloads SCHEMA --embedded FILE.rs` (or `payloads::Builder::embedded`
//! in a `build.rs`): heapless structures with the schema's capacities that implement
//! [`Message`] and [`TypedPayload`], using only this crate's public API.
//!
//! On the wire a typed value is a `dictionary` payload: its canonical JSON object (keys in
//! schema order), with the type's name in the payload's metadata under
//! [`SCHEMA_TYPE_KEY`] (`{"schema_type":"SensorReading"}`). [`outgoing`] builds such a
//! payload for [`smartsend`](crate::smart::smartsend) in one caller buffer; [`receive`] and
//! [`receive_view`] check a received payload's `schema_type` (another type's name is
//! `bad_value` at `metadata.schema_type`; no `schema_type` decodes as the type asked for) and
//! decode its data. Nothing allocates, nothing panics.
//!
//! Receivers apply the schema's checks: capacities (`over_capacity`), `minimum`/`maximum`
//! and enumeration values (`bad_value`), JSON types (`wrong_type`), required keys
//! (`missing_key`), each naming the field (`reading.samples[2]`), as the std SDK does.
//! Senders refuse what a receiver would refuse ([`TypedPayload::validate`], `invalid_input`).

use crate::json::Reader;
use crate::smart::{self, Outgoing, ReceiveError};
use crate::{At, DecodeError, ErrorKind, Message, MessagePayload, MessagePayloadView, PayloadType};

/// The payload metadata key that names a typed payload's type.
pub const SCHEMA_TYPE_KEY: &str = "schema_type";

/// The bytes of `{"schema_type":""}`: the metadata [`outgoing`] writes, without the name.
pub const SCHEMA_TYPE_METADATA_LEN: usize = 18;

/// A payload type generated from a payload schema's `$defs` entry: [`Message`] (decode from
/// the received bytes, encode canonically into a caller buffer of
/// [`MAX_ENCODED_LEN`](Message::MAX_ENCODED_LEN)), its name, and the sender's checks.
pub trait TypedPayload: Message {
    /// The type's name: its `$defs` key, the same in every SDK.
    const TYPE_NAME: &'static str;

    /// The buffer [`outgoing`] needs: the longest encoded value and its metadata.
    const OUTGOING_LEN: usize =
        Self::MAX_ENCODED_LEN + SCHEMA_TYPE_METADATA_LEN + Self::TYPE_NAME.len();

    /// The sender's check of a value built in Rust: every number finite and within
    /// `minimum`/`maximum`, every `format` string as the schema says; `invalid_input` naming
    /// the field. (Capacities hold by construction: the strings and arrays are heapless.)
    fn validate(&self) -> Result<(), DecodeError>;

    /// The canonical JSON bytes of this value in `buf`, after [`validate`](Self::validate): a
    /// value a receiver would refuse is not encoded. A `buf` smaller than the text is
    /// `over_capacity`; one of [`MAX_ENCODED_LEN`](Message::MAX_ENCODED_LEN) bytes never is.
    /// ([`Message::encode`] alone checks nothing: it writes a NaN as `0.0` and any bound.)
    fn encode_checked<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], DecodeError> {
        self.validate()?;
        self.encode(buf).map_err(|_| buffer_too_small())
    }
}

fn buffer_too_small() -> DecodeError {
    At::Root.error(
        ErrorKind::OverCapacity,
        0,
        "the buffer is smaller than the encoded payload",
    )
}

/// A `dictionary` payload named `dataname` holding `value`, for
/// [`smartsend`](crate::smart::smartsend): the value's canonical JSON (checked first, see
/// [`TypedPayload::encode_checked`]) and its metadata `{"schema_type":"<TYPE_NAME>"}` are both
/// written into `buf`, which [`TypedPayload::OUTGOING_LEN`] bytes always suffice for.
///
/// To add metadata keys of your own, set `fields.metadata` of the result to an object that
/// keeps the `schema_type` entry.
pub fn outgoing<'a, T: TypedPayload>(
    dataname: &'a str,
    value: &T,
    buf: &'a mut [u8],
) -> Result<Outgoing<'a>, DecodeError> {
    let len = value.encode_checked(buf)?.len();
    let (data, rest) = buf.split_at_mut_checked(len).ok_or_else(buffer_too_small)?;
    let mut w = crate::json::Writer::new(rest);
    let written = (|| {
        w.raw("{\"")?;
        w.raw(SCHEMA_TYPE_KEY)?;
        w.raw("\":")?;
        w.string(T::TYPE_NAME)?;
        w.raw("}")
    })();
    written.map_err(|_| buffer_too_small())?;
    let metadata = core::str::from_utf8(w.into_written()).map_err(|_| buffer_too_small())?;
    let mut out = Outgoing::new(dataname, PayloadType::Dictionary, data);
    out.fields.metadata = metadata;
    Ok(out)
}

/// Checks the `schema_type` of a payload's `metadata` (its JSON object text) against
/// `T::TYPE_NAME`: absent is fine (the payload is decoded as `T`); another name, or a value
/// that is not a string, is `bad_value` at `metadata.schema_type`.
pub fn check_schema_type<T: TypedPayload>(metadata: &str) -> Result<(), DecodeError> {
    let at = At::Root;
    let at_metadata = at.key("metadata");
    let at_type = at_metadata.key(SCHEMA_TYPE_KEY);
    let refused = |offset| at_type.error(ErrorKind::BadValue, offset, "names another type");
    let mut reader = Reader::new(metadata.as_bytes());
    reader
        .begin_object()
        .map_err(|e| at_metadata.json_error(e))?;
    let mut verdict = Ok(());
    while let Some(key) = reader
        .next_raw_key()
        .map_err(|e| at_metadata.json_error(e))?
    {
        if key.eq_str(SCHEMA_TYPE_KEY) {
            // A repeated key: its last value counts, as JSON decoders have it.
            let offset = reader.offset();
            verdict = match reader.raw_string() {
                Ok(name) if name.eq_str(T::TYPE_NAME) => Ok(()),
                Ok(_) => Err(refused(offset)),
                Err(_) => {
                    reader.skip_value().map_err(|e| at_metadata.json_error(e))?;
                    Err(refused(offset))
                }
            };
        } else {
            reader.skip_value().map_err(|e| at_metadata.json_error(e))?;
        }
    }
    verdict
}

/// A typed value travels only as a `dictionary` payload (WIRE.md section 10): another
/// payload type is `wrong_type` at `payload_type`.
fn check_dictionary(payload_type: &PayloadType) -> Result<(), DecodeError> {
    if *payload_type == PayloadType::Dictionary {
        Ok(())
    } else {
        Err(At::Root.key("payload_type").error(
            ErrorKind::WrongType,
            0,
            "not a dictionary payload, which a typed value travels as",
        ))
    }
}

/// Why [`receive`] or [`receive_view`] gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedError {
    /// The payload's data could not be delivered into the buffer (see [`ReceiveError`]).
    Receive(ReceiveError),
    /// The payload names another type (`metadata.schema_type`), or its data is not a valid
    /// value of the type: the error names the field, relative to the value.
    Decode(DecodeError),
}

impl TypedError {
    /// The shared kind (the schema's x-error-kinds).
    pub fn kind(&self) -> ErrorKind {
        match self {
            TypedError::Receive(e) => e.kind(),
            TypedError::Decode(e) => e.kind,
        }
    }
}

impl core::fmt::Display for TypedError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TypedError::Receive(e) => write!(f, "{e}"),
            TypedError::Decode(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for TypedError {}

/// The value of type `T` a received direct payload carries: its `schema_type` checked
/// ([`check_schema_type`]), its data decoded into `buf` (see
/// [`decode_direct`](crate::smart::decode_direct)) and then as a `T`.
pub fn receive<T: TypedPayload>(payload: &MessagePayload, buf: &mut [u8]) -> Result<T, TypedError> {
    check_dictionary(&payload.payload_type).map_err(TypedError::Decode)?;
    check_schema_type::<T>(payload.metadata.as_str()).map_err(TypedError::Decode)?;
    let data = smart::decode_direct(payload, buf).map_err(TypedError::Receive)?;
    T::decode(data).map_err(TypedError::Decode)
}

/// [`receive`] for a payload of a borrowed
/// [`MessageEnvelopeView`](crate::MessageEnvelopeView) (see
/// [`decode_direct_view`](crate::smart::decode_direct_view)).
pub fn receive_view<T: TypedPayload>(
    payload: &MessagePayloadView<'_>,
    buf: &mut [u8],
) -> Result<T, TypedError> {
    check_dictionary(&payload.payload_type).map_err(TypedError::Decode)?;
    check_schema_type::<T>(payload.metadata.raw()).map_err(TypedError::Decode)?;
    let data = smart::decode_direct_view(payload, buf).map_err(TypedError::Receive)?;
    T::decode(data).map_err(TypedError::Decode)
}
