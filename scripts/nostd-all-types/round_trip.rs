//! Run by `scripts/nostd-all-types/run` in a copy of sdk-embedded generated from the vocabulary
//! fixture (every type of the schema vocabulary): decode, canonical encode, refusals.

use natsbridge_embedded::{
    At, EnvelopeFields, ErrorKind, Message, MessageEnvelope, MessageEnvelopeDeviceFields,
    MessageEnvelopeView, MessageView, ReadingFields, contract,
};

const BODY: &[u8] = br#"{"msgId":"m-1","payloads":[],"trace_id":"t-9","urgent":true,
 "offset":-9223372036854775808,"ratio":1e-7,
 "device":{"serial":"S1","location":{"lat":52.5,"lon":-13.25}},
 "tags":["a","b\n"],"readings":[{"value":1e16,"at":"2026-11-25T11:52:26.123Z"},{"value":0.1,"ok":false}],
 "session":"123e4567-e89b-12d3-a456-426614174000","schema_version":"v1"}"#;

fn encode(envelope: &MessageEnvelope) -> String {
    let mut buf = vec![0u8; MessageEnvelope::MAX_ENCODED_LEN];
    String::from_utf8(envelope.encode(&mut buf).unwrap().to_vec()).unwrap()
}

#[test]
fn every_new_type_decodes_and_encodes_canonically() {
    let e = MessageEnvelope::decode(BODY).unwrap();
    assert_eq!(e.trace_id.as_deref(), Some("t-9"));
    assert!(e.urgent);
    assert_eq!(e.offset, i64::MIN);
    assert_eq!(e.ratio, 1e-7);
    let location = e.device.as_ref().unwrap().location.as_ref().unwrap();
    assert_eq!((location.lat, location.lon), (52.5, -13.25));
    assert_eq!(e.tags.len(), 2);
    assert!(!e.readings[1].ok);
    assert!(e.readings[0].ok, "the default of ok");
    let json = encode(&e);
    let tail = json.split(r#""broker_url":"""#).nth(1).unwrap();
    assert_eq!(
        tail,
        concat!(
            r#","trace_id":"t-9","urgent":true,"offset":-9223372036854775808,"ratio":1e-07,"#,
            r#""device":{"serial":"S1","location":{"lat":52.5,"lon":-13.25}},"tags":["a","b\n"],"#,
            r#""readings":[{"value":1e+16,"ok":true,"at":"2026-11-25T11:52:26.123Z"},{"value":0.1,"ok":false,"at":""}],"#,
            r#""session":"123e4567-e89b-12d3-a456-426614174000","schema_version":"v1","#,
            r#""metadata":{},"payloads":[]}"#
        )
    );
    // Decoding the canonical text gives the same message back.
    assert_eq!(MessageEnvelope::decode(json.as_bytes()).unwrap(), e);
    // The borrowed view reads the same values.
    let v = MessageEnvelopeView::decode(BODY).unwrap();
    assert!(v.trace_id.unwrap().eq_str("t-9"));
    assert_eq!(v.readings[0].value, 1e16);
    assert!(v.tags[1].eq_str("b\n"));
}

#[test]
fn absent_and_null_optionals_are_left_out() {
    let e = MessageEnvelope::decode(br#"{"payloads":[],"trace_id":null,"device":{"location":null}}"#)
        .unwrap();
    assert_eq!(e.trace_id, None);
    assert_eq!(e.device.as_ref().unwrap().location, None);
    let json = encode(&e);
    assert!(!json.contains("trace_id") && !json.contains("location"), "{json}");
    assert!(json.contains(r#""offset":-1,"ratio":0.5,"#), "schema defaults: {json}");
    assert!(json.len() <= MessageEnvelope::MAX_ENCODED_LEN);
}

#[test]
fn bad_values_name_their_full_path() {
    let cases: &[(&str, ErrorKind, &str)] = &[
        (r#"{"payloads":[],"offset":1.5}"#, ErrorKind::WrongType, "offset"),
        (r#"{"payloads":[],"offset":9223372036854775808}"#, ErrorKind::BadValue, "offset"),
        (r#"{"payloads":[],"ratio":"x"}"#, ErrorKind::WrongType, "ratio"),
        (r#"{"payloads":[],"urgent":1}"#, ErrorKind::WrongType, "urgent"),
        (r#"{"payloads":[],"session":"nope"}"#, ErrorKind::BadValue, "session"),
        (r#"{"payloads":[],"schema_version":"v2"}"#, ErrorKind::BadValue, "schema_version"),
        (r#"{"payloads":[],"device":{"location":{"lat":"n","lon":1}}}"#, ErrorKind::WrongType, "device.location.lat"),
        (r#"{"payloads":[],"device":{"location":{"lon":1}}}"#, ErrorKind::MissingKey, "device.location.lat"),
        (r#"{"payloads":[],"tags":["a","b","c","d","e"]}"#, ErrorKind::OverCapacity, "tags"),
        (r#"{"payloads":[],"tags":["a","b","0123456789abcdefX"]}"#, ErrorKind::OverCapacity, "tags[2]"),
        (r#"{"payloads":[],"readings":[{"value":1,"at":"yesterday"}]}"#, ErrorKind::BadValue, "readings[0].at"),
    ];
    for (body, kind, place) in cases {
        let error = MessageEnvelope::decode(body.as_bytes()).unwrap_err();
        assert_eq!((error.kind, error.at.to_string().as_str()), (*kind, *place), "{body}");
        let error = MessageEnvelopeView::decode(body.as_bytes()).map(|_| ());
        if *kind != ErrorKind::OverCapacity || place.starts_with("tags") && !place.contains('[') {
            let error = error.unwrap_err();
            assert_eq!(error.kind, *kind, "view: {body}");
        }
    }
}

#[test]
fn send_fields_carry_every_type_and_refuse_what_does_not_fit() {
    let readings = [ReadingFields { value: 2.5, ..ReadingFields::default() }];
    let fields = EnvelopeFields {
        trace_id: Some("t-1"),
        urgent: true,
        tags: &["x", "y"],
        readings: &readings,
        device: Some(MessageEnvelopeDeviceFields { serial: "S2", ..Default::default() }),
        ..EnvelopeFields::default()
    };
    let mut e = MessageEnvelope::default();
    fields.apply_to(&mut e, &At::Root).unwrap();
    assert_eq!(e.trace_id.as_deref(), Some("t-1"));
    assert_eq!(e.readings[0].value, 2.5);
    assert!(e.readings[0].ok);
    assert_eq!(e.device.as_ref().unwrap().serial.as_str(), "S2");
    assert_eq!(e.schema_version.as_str(), "v1");
    let long = "x".repeat(contract::MESSAGE_ENVELOPE_TAGS_ITEM_MAX_BYTES + 1);
    let tags = ["ok", long.as_str()];
    let error = EnvelopeFields { tags: &tags, ..EnvelopeFields::default() }
        .apply_to(&mut e, &At::Root)
        .unwrap_err();
    assert_eq!((error.kind, error.at.to_string().as_str()), (ErrorKind::OverCapacity, "tags[1]"));
    let many = ["a"; contract::MESSAGE_ENVELOPE_TAGS_MAX_ITEMS + 1];
    let error = EnvelopeFields { tags: &many, ..EnvelopeFields::default() }
        .apply_to(&mut e, &At::Root)
        .unwrap_err();
    assert_eq!((error.kind, error.at.to_string().as_str()), (ErrorKind::OverCapacity, "tags"));
}

#[test]
fn the_worst_case_fits_max_encoded_len() {
    let mut e = MessageEnvelope::decode(BODY).unwrap();
    e.ratio = -1.2345678901234567e-308;
    while e.tags.push(heapless::String::try_from("\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}\u{1}").unwrap()).is_ok() {}
    let json = encode(&e);
    assert!(json.len() <= MessageEnvelope::MAX_ENCODED_LEN);
}
