//! Typed payloads: a team's own payload types, declared in a payload schema (JSON Schema
//! draft 2020-12, one type per `$defs` entry) and generated into its project by
//! `natsbridge-codegen payloads SCHEMA --std FILE.rs` or from a `build.rs`
//! (`natsbridge_codegen::payloads::Builder`).
//!
//! On the wire a typed value is a `dictionary` payload's JSON object, written canonically:
//! keys in schema order, no whitespace, numbers as schema/WIRE.md section 9 writes them, an
//! absent optional property left out. So every edition reads it as a plain JSON object.
//!
//! Receivers apply the envelope's rules (aliases, defaults, a `null` optional read as absent,
//! unknown keys ignored) and the schema's checks, each error naming the field at fault
//! (`reading.samples[2]`): `not_json`, `not_object`, `wrong_type`, `missing_key`,
//! `bad_value` (an unknown enumeration value, a number out of `minimum`/`maximum` or beyond a
//! double), `over_capacity` (a string over `x-max-bytes` bytes, an array over `maxItems`).
//! Unlike the envelope's, these capacities hold in every SDK: what one SDK accepts, the
//! no_std one can hold.
//!
//! ```
//! # // The generated code of a payload schema with one type, `Command`, looks like this:
//! use natsbridge::typed::TypedPayload;
//! # use natsbridge::{Error, wire::{self, At}, serde_json::Value};
//! # #[derive(Debug, PartialEq, natsbridge::serde::Serialize)]
//! # #[serde(crate = "natsbridge::serde")]
//! # struct Command { action: String }
//! # impl TypedPayload for Command {
//! #     const TYPE_NAME: &'static str = "Command";
//! #     fn from_json_value(value: Value) -> Result<Self, Error> {
//! #         let mut object = wire::structure(value, &At::Root)?;
//! #         let action = match wire::take(&mut object, &["action"]) {
//! #             Some(value) => wire::string(value, &At::Root.key("action"))?,
//! #             None => return Err(wire::missing(&At::Root.key("action"))),
//! #         };
//! #         Ok(Command { action })
//! #     }
//! #     fn validate(&self) -> Result<(), Error> { Ok(()) }
//! # }
//! let bytes = Command { action: "read_sensor".into() }.encode()?;
//! assert_eq!(bytes, br#"{"action":"read_sensor"}"#);
//! assert_eq!(Command::decode(&bytes)?.action, "read_sensor");
//! let error = Command::decode(br#"{"action":7}"#).unwrap_err();
//! assert_eq!((error.kind(), error.at()), (natsbridge::ErrorKind::WrongType, "action"));
//! # Ok::<(), natsbridge::Error>(())
//! ```

use serde::Serialize;
use serde_json::Value;

use crate::{Error, ErrorKind};

/// A payload type generated from a payload schema's `$defs` entry: canonical JSON bytes out,
/// checked values in. Implemented by the generated code; the provided methods are the API.
pub trait TypedPayload: Serialize + Sized {
    /// The type's name: its `$defs` key, the same in every SDK.
    const TYPE_NAME: &'static str;

    /// Decodes a parsed JSON value as a receiver does (see the [module](self) docs), errors
    /// naming the field at fault.
    fn from_json_value(value: Value) -> Result<Self, Error>;

    /// The sender's check of a value built in Rust: every string within `x-max-bytes`, every
    /// array within `maxItems`, every number finite and within `minimum`/`maximum`, `const`
    /// and `format` strings as the schema says; `invalid_input` naming the field.
    fn validate(&self) -> Result<(), Error>;

    /// The canonical JSON bytes of this value (see the [module](self) docs), after
    /// [`validate`](Self::validate): a value a receiver would refuse is not encoded.
    fn encode(&self) -> Result<Vec<u8>, Error> {
        self.validate()?;
        let mut out = Vec::with_capacity(128);
        crate::wire::write_canonical(&mut out, self).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, "", "cannot be written as JSON").with_source(e)
        })?;
        Ok(out)
    }

    /// Decodes the JSON bytes of a payload: `not_json` when they are not JSON, otherwise
    /// what [`from_json_value`](Self::from_json_value) says. The generated types override
    /// it with the same result, reading the bytes straight into the type
    /// ([`wire::stream`](crate::wire::stream)) instead of through a `Value`.
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::new(ErrorKind::NotJson, "", "not JSON").with_source(e))?;
        Self::from_json_value(value)
    }
}

/// The payload metadata key a typed value's sender sets to its type's name
/// ([`TypedPayload::TYPE_NAME`]), so that a receiver knows what it holds (schema/WIRE.md,
/// "Typed payloads").
pub const SCHEMA_TYPE_KEY: &str = "schema_type";

impl crate::Payload {
    /// A `dictionary` payload holding `value`: its canonical JSON bytes (keys in schema
    /// order), with the payload metadata [`SCHEMA_TYPE_KEY`] set to `T::TYPE_NAME`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the field and the payload, when the value breaks a
    /// bound of its schema ([`TypedPayload::validate`]).
    pub fn typed<T: TypedPayload>(
        dataname: impl Into<String>,
        value: &T,
    ) -> Result<crate::Payload, Error> {
        let dataname = dataname.into();
        let bytes = value
            .encode()
            .map_err(|e| e.with_payload(dataname.clone()))?;
        Ok(
            crate::Payload::new(dataname, crate::PayloadType::Dictionary, bytes)
                .with_metadata(SCHEMA_TYPE_KEY, T::TYPE_NAME),
        )
    }
}

impl crate::ReceivedPayload {
    /// The type name the sender gave this payload (metadata [`SCHEMA_TYPE_KEY`]), if any.
    pub fn schema_type(&self) -> Option<&str> {
        self.metadata.get(SCHEMA_TYPE_KEY).and_then(Value::as_str)
    }

    /// This payload's data as a `T`, checked as [`TypedPayload::from_json_value`] does. A
    /// payload without [`SCHEMA_TYPE_KEY`] (an original edition's, an untyped sender's) is
    /// decoded as `T`; the untyped [`data`](Self::data) stays as it is whatever happens.
    ///
    /// # Errors
    /// All naming this payload: `bad_value` at `metadata.schema_type` when it names another
    /// type (or is not a string); `wrong_type` at `payload_type` when the payload is not a
    /// `dictionary`; otherwise the decoder's error at the field at fault.
    pub fn typed<T: TypedPayload>(&self) -> Result<T, Error> {
        match self.metadata.get(SCHEMA_TYPE_KEY) {
            None => {}
            Some(Value::String(name)) if name == T::TYPE_NAME => {}
            Some(other) => {
                let carried = match other {
                    Value::String(name) => format!("a {name}"),
                    other => format!("{other} (not a type name)"),
                };
                return Err(Error::field(
                    ErrorKind::BadValue,
                    format!("metadata.{SCHEMA_TYPE_KEY}"),
                    format!("the payload carries {carried}, not a {}", T::TYPE_NAME),
                )
                .with_payload(self.dataname.clone()));
            }
        }
        let Some(value) = self
            .data
            .as_json()
            .filter(|_| self.payload_type == crate::PayloadType::Dictionary)
        else {
            return Err(Error::field(
                ErrorKind::WrongType,
                "payload_type",
                format!(
                    "a {} payload, not a dictionary holding a {}",
                    self.payload_type,
                    T::TYPE_NAME
                ),
            )
            .with_payload(self.dataname.clone()));
        };
        T::from_json_value(value.clone()).map_err(|e| e.with_payload(self.dataname.clone()))
    }
}
