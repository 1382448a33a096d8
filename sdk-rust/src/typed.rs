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
        let mut out = Vec::new();
        crate::wire::write_canonical(&mut out, self).map_err(|e| {
            Error::new(ErrorKind::InvalidInput, "", "cannot be written as JSON").with_source(e)
        })?;
        Ok(out)
    }

    /// Decodes the JSON bytes of a payload: `not_json` when they are not JSON, otherwise
    /// what [`from_json_value`](Self::from_json_value) says.
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::new(ErrorKind::NotJson, "", "not JSON").with_source(e))?;
        Self::from_json_value(value)
    }
}
