//! The no_std SDK's two decoders side by side: the owned envelope and the borrowed view as the
//! same JSON value, so tests can hold the view to the owned decoder (and to the goldens).

use natsbridge_embedded::{DecodeError, MessageEnvelope, MessageEnvelopeView};
use serde_json::{Value, json};

/// The decoded form of an owned envelope: every field, payload `data` included, metadata as a
/// JSON value.
pub fn owned_form(e: &MessageEnvelope) -> Value {
    let object = |text: &str| -> Value {
        serde_json::from_str(text).expect("the no_std SDK keeps metadata as valid JSON")
    };
    let payloads: Vec<Value> = e
        .payloads
        .iter()
        .map(|p| {
            json!({
                "id": p.id.as_str(), "dataname": p.dataname.as_str(),
                "payload_type": p.payload_type.as_str(), "transport": p.transport.as_str(),
                "encoding": p.encoding.as_str(), "size": p.size, "data": p.data.as_str(),
                "metadata": object(p.metadata.as_str()),
            })
        })
        .collect();
    json!({
        "envelope": {
            "correlation_id": e.correlation_id.as_str(), "msg_id": e.msg_id.as_str(),
            "timestamp": e.timestamp.as_str(), "send_to": e.send_to.as_str(),
            "msg_purpose": e.msg_purpose.as_str(), "sender_name": e.sender_name.as_str(),
            "sender_id": e.sender_id.as_str(), "receiver_name": e.receiver_name.as_str(),
            "receiver_id": e.receiver_id.as_str(), "reply_to": e.reply_to.as_str(),
            "reply_to_msg_id": e.reply_to_msg_id.as_str(), "broker_url": e.broker_url.as_str(),
            "metadata": object(e.metadata.as_str()),
        },
        "payloads": payloads,
    })
}

/// The decoded form of a borrowed view, in the shape of [`owned_form`]: strings unescaped,
/// metadata parsed from its raw text (a repeated key keeps its last value, as the owned
/// decoder's canonical form does).
pub fn view_form(e: &MessageEnvelopeView<'_>) -> Value {
    let object = |text: &str| -> Value {
        serde_json::from_str(text).expect("the view keeps metadata as valid JSON")
    };
    let payloads: Vec<Value> = e
        .payloads
        .iter()
        .map(|p| {
            json!({
                "id": p.id.to_string(), "dataname": p.dataname.to_string(),
                "payload_type": p.payload_type.as_str(), "transport": p.transport.as_str(),
                "encoding": p.encoding.as_str(), "size": p.size, "data": p.data.to_string(),
                "metadata": object(p.metadata.raw()),
            })
        })
        .collect();
    json!({
        "envelope": {
            "correlation_id": e.correlation_id.to_string(), "msg_id": e.msg_id.to_string(),
            "timestamp": e.timestamp.to_string(), "send_to": e.send_to.to_string(),
            "msg_purpose": e.msg_purpose.to_string(), "sender_name": e.sender_name.to_string(),
            "sender_id": e.sender_id.to_string(), "receiver_name": e.receiver_name.to_string(),
            "receiver_id": e.receiver_id.to_string(), "reply_to": e.reply_to.to_string(),
            "reply_to_msg_id": e.reply_to_msg_id.to_string(),
            "broker_url": e.broker_url.to_string(), "metadata": object(e.metadata.raw()),
        },
        "payloads": payloads,
    })
}

/// Whether the owned decoder refused a string or free-form object for its capacity: the one
/// refusal a view (which copies nothing) does not share. Too many payloads and too deep
/// nesting are refused by both.
pub fn is_copy_capacity_error(e: &DecodeError) -> bool {
    e.kind == natsbridge_embedded::ErrorKind::OverCapacity
        && e.detail == "longer than its capacity in this SDK"
}
