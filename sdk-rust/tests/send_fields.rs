//! The generated send surface of the real schema: `SendOptions` setters and `Payload::with_*`
//! reach the envelope, sender fills apply only to what the caller left unset, and fields set
//! by name are checked. No server needed: the envelope is composed without a connection.

use natsbridge::{
    EnvelopeComposer, EnvelopeFields, ErrorKind, MessageEnvelope, Payload, PayloadFields,
    SendOptions, wire::Format,
};

const SENDER: &str = "0a367b92-cf0b-437d-bd89-960ee832d56f";

async fn compose(composer: EnvelopeComposer<'_>, options: &SendOptions) -> MessageEnvelope {
    composer
        .compose(
            "chat.room1",
            vec![
                Payload::text("t", "hi"),
                Payload::text("u", "ho").with_id("p2"),
            ],
            options,
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn unset_fields_take_the_schema_defaults_and_the_sender_fills() {
    let sent = compose(
        EnvelopeComposer::new("nats://h:4222", SENDER),
        &SendOptions::new(),
    )
    .await;
    let defaults = EnvelopeFields::default();
    assert_eq!(sent.msg_purpose, defaults.msg_purpose);
    assert_eq!(sent.sender_name, defaults.sender_name);
    assert_eq!(
        (sent.send_to.as_str(), sent.sender_id.as_str()),
        ("chat.room1", SENDER)
    );
    assert_eq!(sent.broker_url, "nats://h:4222");
    for id in [&sent.correlation_id, &sent.msg_id, &sent.payloads[0].id] {
        assert!(Format::Uuid.accepts(id) && !id.is_empty(), "{id}");
    }
    assert_ne!(sent.correlation_id, sent.msg_id);
    assert!(Format::DateTime.accepts(&sent.timestamp) && !sent.timestamp.is_empty());
    assert_eq!(sent.payloads[1].id, "p2");
    assert_eq!(PayloadFields::default().id, None);
}

#[tokio::test]
async fn every_setter_reaches_the_envelope_and_fills_yield_to_set_values() {
    let options = SendOptions::new()
        .correlation_id("c")
        .msg_id("m")
        .timestamp("2026-11-25T11:52:26.123Z")
        .send_to("elsewhere")
        .msg_purpose("ACK")
        .sender_name("alice")
        .sender_id("s")
        .receiver_name("bob")
        .receiver_id("b")
        .reply_to("inbox.1")
        .reply_to_msg_id("r")
        .broker_url("nats://other:4222")
        .metadata("big", 1e16)
        .metadata("small", 1.5e-5);
    let composer = EnvelopeComposer::new("nats://h:4222", SENDER).sender_name("client-name");
    let sent = compose(composer, &options).await;
    let got = [
        &sent.correlation_id,
        &sent.msg_id,
        &sent.timestamp,
        &sent.send_to,
        &sent.msg_purpose,
        &sent.sender_name,
        &sent.sender_id,
        &sent.receiver_name,
        &sent.receiver_id,
        &sent.reply_to,
        &sent.reply_to_msg_id,
        &sent.broker_url,
    ];
    let want = [
        "c",
        "m",
        "2026-11-25T11:52:26.123Z",
        "elsewhere",
        "ACK",
        "alice",
        "s",
        "bob",
        "b",
        "inbox.1",
        "r",
        "nats://other:4222",
    ];
    assert_eq!(got.map(String::as_str), want);
    // Numbers in free-form objects are written as CPython writes them, too.
    let json = sent.to_json();
    assert!(
        json.contains(r#""metadata":{"big":1e+16,"small":1.5e-05}"#),
        "{json}"
    );
    assert_eq!(MessageEnvelope::from_json(json.as_bytes()).unwrap(), sent);
    // The client's sender name applies when the options leave the schema's default.
    let composer = EnvelopeComposer::new("nats://h:4222", SENDER).sender_name("client-name");
    let sent = compose(composer, &SendOptions::new()).await;
    assert_eq!(sent.sender_name, "client-name");
}

#[tokio::test]
async fn payload_fields_reach_the_payload() {
    let mut map = serde_json::Map::new();
    map.insert("mime".into(), "text/plain".into());
    let payload = Payload::text("t", "hi")
        .with_metadata("dropped", 1)
        .with_metadata_map(map)
        .with_metadata("lang", "en")
        .with_id("p1");
    assert_eq!(payload.fields().id.as_deref(), Some("p1"));
    let sent = EnvelopeComposer::new("nats://h:4222", SENDER)
        .compose("chat.room1", vec![payload], &SendOptions::new())
        .await
        .unwrap();
    let metadata = &sent.payloads[0].metadata;
    assert_eq!(metadata.len(), 2, "{metadata:?}");
    assert_eq!(
        (metadata["mime"].as_str(), metadata["lang"].as_str()),
        (Some("text/plain"), Some("en"))
    );
}

#[test]
fn fields_set_by_name_are_decoded_and_checked() {
    let mut fields = EnvelopeFields::default();
    fields.set("receiver_name", "bob".into()).unwrap();
    fields.set("correlation_id", "c".into()).unwrap();
    fields
        .set("metadata", serde_json::json!({"a": [1, 2]}))
        .unwrap();
    assert_eq!(fields.receiver_name, "bob");
    assert_eq!(fields.correlation_id.as_deref(), Some("c"));
    assert_eq!(fields.metadata["a"][1], 2);
    for (name, value, at) in [
        ("receiver_name", serde_json::json!(3), "receiver_name"),
        ("metadata", serde_json::json!("x"), "metadata"),
        ("payloads", serde_json::json!([]), "payloads"),
        ("no_such_field", serde_json::json!(1), "no_such_field"),
    ] {
        let error = fields.set(name, value).unwrap_err();
        assert_eq!(
            (error.kind(), error.at()),
            (ErrorKind::InvalidInput, at),
            "{error}"
        );
    }
    assert!(!EnvelopeFields::NAMES.contains(&"payloads"));
}

#[tokio::test]
async fn a_reply_takes_from_its_request_only_what_the_caller_left_unset() {
    let asked = compose(
        EnvelopeComposer::new("nats://h:4222", SENDER),
        &SendOptions::new()
            .sender_name("asker")
            .correlation_id("conversation-9"),
    )
    .await;
    let mut unset = EnvelopeFields::default();
    unset.fill_reply(&asked);
    assert_eq!(unset.receiver_name, "asker");
    assert_eq!(unset.receiver_id, SENDER);
    assert_eq!(unset.reply_to_msg_id, asked.msg_id);
    assert_eq!(unset.correlation_id.as_deref(), Some("conversation-9"));

    let mut set = SendOptions::new()
        .receiver_name("someone-else")
        .correlation_id("conversation-10")
        .fields()
        .clone();
    set.fill_reply(&asked);
    assert_eq!(set.receiver_name, "someone-else");
    assert_eq!(set.correlation_id.as_deref(), Some("conversation-10"));
    assert_eq!(set.receiver_id, SENDER);
}
