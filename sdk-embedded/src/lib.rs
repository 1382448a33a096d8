//! natsbridge-embedded: NATSBridge for firmware, `#![no_std]` and without `alloc`.
//! Envelopes are encoded into and decoded from caller buffers with capacities from the schema.
//!
//! * [`protocol`]: a sans-IO NATS codec; [`client`]: a NATS client over any
//!   `embedded-io-async` transport, in caller buffers.
//! * [`smart`]: `smartsend` / `smartreceive`; [`link`] and [`http`]: link payloads uploaded
//!   and streamed over a second transport; [`object_store`]: Object Store links read over
//!   NATS with JetStream direct gets; [`backoff`]: retry waits with jitter.
//! * `net` (feature `embassy-net`): TCP connections with embassy-net by address or DNS name.
//!
//! * [`typed`]: your own payload types (`natsbridge-codegen payloads SCHEMA --embedded
//!   FILE.rs`): heapless structures sent and received as typed `dictionary` payloads.
//! * Borrowed views ([`MessageEnvelopeView`], [`MessageView`]): envelopes decoded without a
//!   copy, strings as [`JsonStr`] pointing into the receive buffer.
//!
//! `sdk-embedded/README.md` covers buffer sizing, what each error means for the connection,
//! and porting the example firmware to a board.
//!
//! ```
//! use natsbridge_embedded::{Message, MessageEnvelope};
//!
//! let envelope = MessageEnvelope::decode(br#"{"msgId":"m-1","payloads":[]}"#).unwrap();
//! assert_eq!(envelope.msg_id.as_str(), "m-1");
//! assert_eq!(envelope.msg_purpose.as_str(), "chat"); // the schema's default
//!
//! let mut buf = [0u8; 1024];
//! let json = envelope.encode(&mut buf).unwrap();
//! assert!(json.starts_with(br#"{"correlation_id":"","msg_id":"m-1","#));
//! ```
#![no_std]

pub mod backoff;
mod base64;
mod canonical;
pub mod client;
mod error;
pub mod field;
mod float;
pub mod format;
pub mod generated;
pub mod http;
pub mod json;
mod json_str;
mod kind;
pub mod link;
mod message;
#[cfg(feature = "embassy-net")]
pub mod net;
mod object;
pub mod object_store;
pub mod protocol;
mod sha256;
pub mod smart;
pub mod typed;

pub use error::{At, DecodeError, MAX_PLACE_DEPTH, Place, Segment};
pub use generated::*;
/// heapless, re-exported: the generated types hold its `String`s and `Vec`s, so callers build
/// them with the version this crate was built with.
pub use heapless;
pub use json_str::{Chars, JsonObjectView, JsonStr};
pub use message::{Message, MessageView};
pub use object::JsonObject;
