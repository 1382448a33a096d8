//! natsbridge: named, typed payloads over NATS for servers and desktops (std).
//! The message types come from the schema (`generated`); this crate adds their JSON codec.
//!
//! ```
//! use natsbridge::MessageEnvelope;
//!
//! let body = br#"{"msgId":"m-1","payloads":[]}"#; // an early-edition spelling
//! let envelope = MessageEnvelope::from_json(body)?;
//! assert_eq!(envelope.msg_id, "m-1");
//! assert_eq!(envelope.msg_purpose, "chat"); // the schema's default
//! assert!(envelope.to_json().starts_with(r#"{"correlation_id":"","msg_id":"m-1","#));
//! # Ok::<(), natsbridge::Error>(())
//! ```

mod envelope;
mod error;
#[cfg(feature = "file-server")]
pub mod file_server;
pub mod generated;
pub mod wire;

pub use error::{Error, ErrorKind};
pub use generated::*;
