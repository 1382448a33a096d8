//! The example payload schema (`codegen/examples/payloads/device.schema.json`) through its
//! checked-in generated no_std types (`device_embedded.rs`), compiled as a user's firmware
//! crate would (it uses only `natsbridge_embedded`'s public API): the same canonical bytes
//! and the same refusals, kinds and places as the std SDK (sdk-rust/tests/typed_payloads.rs),
//! buffers of `MAX_ENCODED_LEN` that never overflow, decoders that never panic, and typed
//! `dictionary` payloads with their `schema_type` metadata.

// A user's crate would have `pub mod payloads { include!(...) }`; here not every generated
// item is used.
#[allow(dead_code)]
#[path = "../../codegen/examples/payloads/device_embedded.rs"]
mod device;

use base64::Engine as _;
use device::{
    Action, Command, CommandReply, DeviceConfig, SensorReading, SensorReadingLocation, Unit,
};
use natsbridge_embedded::heapless::{String, Vec};
use natsbridge_embedded::typed::{self, TypedError, TypedPayload};
use natsbridge_embedded::{
    Encoding, ErrorKind, Message, MessageEnvelope, MessageEnvelopeView, MessagePayload,
    MessageView, PayloadFields, PayloadType, Transport,
};

fn text<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    out.push_str(s).unwrap();
    out
}

fn reading() -> SensorReading {
    SensorReading {
        sensor: text("bme280"),
        unit: Unit::Celsius,
        value: 21.5,
        offset: -12,
        ok: true,
        samples: Vec::from_slice(&[21.25, 21.5, 21.75, 1e16]).unwrap(),
        location: SensorReadingLocation {
            room: text("lab"),
            floor: -1,
        },
    }
}

fn round_trip<T: TypedPayload + PartialEq + std::fmt::Debug>(value: &T, canonical: &str) {
    let mut buf = vec![0u8; T::MAX_ENCODED_LEN];
    let bytes = value.encode_checked(&mut buf).expect("encodes");
    assert_eq!(std::str::from_utf8(bytes).unwrap(), canonical);
    assert_eq!(&T::decode(bytes).expect("decodes"), value);
}

/// The byte strings of sdk-rust/tests/typed_payloads.rs, for the same values.
#[test]
fn values_round_trip_in_the_std_sdks_canonical_bytes() {
    round_trip(
        &reading(),
        r#"{"sensor":"bme280","unit":"celsius","value":21.5,"offset":-12,"ok":true,"samples":[21.25,21.5,21.75,1e+16],"location":{"room":"lab","floor":-1}}"#,
    );
    round_trip(
        &DeviceConfig {
            wifi_ssid: text("lab"),
            wifi_password: text("s3cret \"quoted\" é"),
            update_interval: 60,
            hostname: None,
        },
        r#"{"wifi_ssid":"lab","wifi_password":"s3cret \"quoted\" é","update_interval":60}"#,
    );
    round_trip(
        &Command {
            action: Action::ReadSensor,
            sensor: None,
        },
        r#"{"action":"read_sensor"}"#,
    );
    round_trip(
        &CommandReply {
            action: Action::ReadSensor,
            ok: true,
            message: String::new(),
            reading: Some(reading()),
        },
        r#"{"action":"read_sensor","ok":true,"message":"","reading":{"sensor":"bme280","unit":"celsius","value":21.5,"offset":-12,"ok":true,"samples":[21.25,21.5,21.75,1e+16],"location":{"room":"lab","floor":-1}}}"#,
    );
    assert_eq!(SensorReading::TYPE_NAME, "SensorReading");
    assert_eq!(CommandReply::TYPE_NAME, "CommandReply");
}

#[test]
fn receivers_apply_defaults_ignore_unknown_keys_and_read_null_as_absent() {
    let config = DeviceConfig::decode(
        br#"{ "wifi_password": "pw", "wifi_ssid": "lab", "hostname": null, "extra": [1] }"#,
    )
    .unwrap();
    assert_eq!(config.update_interval, 60);
    assert_eq!(config.hostname, None);
    let reading = SensorReading::decode(
        br#"{"sensor":"s","unit":"percent","value":40,"ok":false,"location":{"room":"r","floor":0}}"#,
    )
    .unwrap();
    assert_eq!((reading.offset, reading.value), (0, 40.0));
    assert!(reading.samples.is_empty());
    let command = Command::decode(br#"{"action":"restart","sensor":"a"}"#).unwrap();
    assert_eq!(command.action, Action::Restart);
    assert_eq!(command.sensor.as_deref(), Some("a"));
}

#[test]
fn senders_refuse_what_receivers_would_refuse() {
    let mut buf = [0u8; CommandReply::MAX_ENCODED_LEN];
    let mut bad = reading();
    bad.samples[2] = f64::NAN;
    let error = bad.encode_checked(&mut buf).unwrap_err();
    assert_eq!(
        (error.kind, error.at.to_string()),
        (ErrorKind::InvalidInput, "samples[2]".to_string())
    );
    // Nine samples cannot even be held: the capacity is the type's.
    let mut full = reading();
    while full.samples.push(0.0).is_ok() {}
    assert_eq!(full.samples.len(), 8);
    let mut bad = reading();
    bad.value = f64::INFINITY;
    let error = bad.encode_checked(&mut buf).unwrap_err();
    assert_eq!(
        (error.kind, error.at.to_string()),
        (ErrorKind::InvalidInput, "value".to_string())
    );
    let reply = CommandReply {
        action: Action::ReadSensor,
        ok: true,
        message: String::new(),
        reading: Some(SensorReading {
            location: SensorReadingLocation {
                room: text("r"),
                floor: 101,
            },
            ..reading()
        }),
    };
    let error = reply.encode_checked(&mut buf).unwrap_err();
    assert_eq!(
        (error.kind, error.at.to_string()),
        (
            ErrorKind::InvalidInput,
            "reading.location.floor".to_string()
        )
    );
    let config = DeviceConfig {
        update_interval: 0,
        ..DeviceConfig::default()
    };
    let error = config.encode_checked(&mut buf).unwrap_err();
    assert_eq!(
        (error.kind, error.at.to_string()),
        (ErrorKind::InvalidInput, "update_interval".to_string())
    );
    // A buffer too small is over_capacity, never a panic or a truncated text.
    let error = reading().encode_checked(&mut buf[..10]).unwrap_err();
    assert_eq!(error.kind, ErrorKind::OverCapacity);
}

/// A string at capacity of characters that are each written as `\u00XX`.
fn escaped<const N: usize>() -> String<N> {
    let mut out = String::new();
    while out.push('\u{1}').is_ok() {}
    out
}

/// Every string at capacity with every byte escaped, every array full, every optional
/// present, integers and numbers at their longest text (beyond the schema's bounds, which
/// `Message::encode` does not check): the text fits `MAX_ENCODED_LEN` exactly or with room.
#[test]
fn values_at_full_capacity_fit_max_encoded_len() {
    const LONGEST_NUMBER: f64 = -2.2250738585072014e-308;
    fn fits<T: Message>(value: &T) -> usize {
        let mut buf = vec![0u8; T::MAX_ENCODED_LEN];
        let len = value.encode(&mut buf).expect("fits MAX_ENCODED_LEN").len();
        assert!(len <= T::MAX_ENCODED_LEN);
        len
    }
    let mut samples = Vec::new();
    while samples.push(LONGEST_NUMBER).is_ok() {}
    let worst = SensorReading {
        sensor: escaped(),
        unit: Unit::Hectopascal,
        value: LONGEST_NUMBER,
        offset: i64::MIN,
        ok: false,
        samples,
        location: SensorReadingLocation {
            room: escaped(),
            floor: i64::MIN,
        },
    };
    // Enumeration values are counted as escaped strings too: a little room is left.
    assert!(fits(&worst) <= SensorReading::MAX_ENCODED_LEN);
    let config = DeviceConfig {
        wifi_ssid: escaped(),
        wifi_password: escaped(),
        update_interval: u64::MAX,
        hostname: Some(escaped()),
    };
    assert_eq!(fits(&config), DeviceConfig::MAX_ENCODED_LEN);
    let command = Command {
        action: Action::ApplyConfig,
        sensor: Some(escaped()),
    };
    assert!(fits(&command) <= Command::MAX_ENCODED_LEN);
    let reply = CommandReply {
        action: Action::ApplyConfig,
        ok: false,
        message: escaped(),
        reading: Some(worst),
    };
    assert!(fits(&reply) <= CommandReply::MAX_ENCODED_LEN);
    // A valid value at full capacity, with its metadata, fits OUTGOING_LEN.
    let mut samples = Vec::new();
    while samples.push(-273.15).is_ok() {}
    let valid = SensorReading {
        sensor: escaped(),
        samples,
        location: SensorReadingLocation {
            room: escaped(),
            floor: 100,
        },
        ..reading()
    };
    let mut buf = [0u8; SensorReading::OUTGOING_LEN];
    let out = typed::outgoing("reading", &valid, &mut buf).expect("fits OUTGOING_LEN");
    assert_eq!(out.fields.metadata, r#"{"schema_type":"SensorReading"}"#);
}

/// Decodes `body` as every type, owned: whatever happens, no panic; what decodes re-encodes
/// and decodes to the same value.
fn decode_all(body: &[u8]) -> usize {
    fn one<T: Message + PartialEq + std::fmt::Debug>(body: &[u8]) -> usize {
        match T::decode(body) {
            Ok(value) => {
                let mut buf = vec![0u8; T::MAX_ENCODED_LEN];
                let text = value.encode(&mut buf).expect("fits MAX_ENCODED_LEN");
                assert_eq!(T::decode(text).as_ref(), Ok(&value));
                1
            }
            Err(error) => {
                assert!(error.offset <= body.len());
                0
            }
        }
    }
    one::<SensorReading>(body)
        + one::<CommandReply>(body)
        + one::<DeviceConfig>(body)
        + one::<Command>(body)
        + one::<SensorReadingLocation>(body)
}

#[test]
fn truncated_and_mutated_bodies_never_panic() {
    let body = br#"{"action":"read_sensor","ok":true,"message":"a\u00e9\"b","reading":{"sensor":"bme280","unit":"celsius","value":21.5,"offset":-12,"ok":true,"samples":[21.25,21.5,21.75,1e+16],"location":{"room":"lab","floor":-1}}}"#;
    // A CommandReply, and a Command too (unknown keys are skipped).
    assert_eq!(decode_all(body), 2);
    for len in 0..body.len() {
        decode_all(&body[..len]);
    }
    let replacements = [
        b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'-', b'0', b'9', b'e', b'.', b'n', b't',
        b' ', 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xff,
    ];
    let mut decoded = 0;
    for i in 0..body.len() {
        for &byte in &replacements {
            let mut mutated = body.to_vec();
            mutated[i] = byte;
            decoded += decode_all(&mutated);
            let mut inserted = body.to_vec();
            inserted.insert(i, byte);
            decoded += decode_all(&inserted);
            let mut removed = body.to_vec();
            removed.remove(i);
            decoded += decode_all(&removed);
        }
    }
    // Some mutations (inside strings, digits) keep the body valid.
    assert!(decoded > 0);
}

/// A received direct payload holding `data`, of `metadata` (the envelope's payload, as
/// smartsend builds it: base64).
fn received(data: &[u8], metadata: &str) -> MessagePayload {
    let mut payload = MessagePayload::default();
    PayloadFields {
        dataname: "reading",
        payload_type: PayloadType::Dictionary,
        metadata,
        ..PayloadFields::default()
    }
    .apply_to(&mut payload, &natsbridge_embedded::At::Root)
    .unwrap();
    payload.transport = Transport::Direct;
    payload.encoding = Encoding::Base64;
    payload.size = data.len() as u64;
    payload
        .data
        .push_str(&base64::engine::general_purpose::STANDARD.encode(data))
        .unwrap();
    payload
}

#[test]
fn typed_values_travel_as_dictionary_payloads_named_in_their_metadata() {
    let mut buf = [0u8; SensorReading::OUTGOING_LEN];
    let out = typed::outgoing("reading", &reading(), &mut buf).unwrap();
    assert_eq!(out.fields.dataname, "reading");
    assert_eq!(out.fields.payload_type, PayloadType::Dictionary);
    assert_eq!(out.fields.metadata, r#"{"schema_type":"SensorReading"}"#);
    assert_eq!(
        std::str::from_utf8(out.data).unwrap(),
        r#"{"sensor":"bme280","unit":"celsius","value":21.5,"offset":-12,"ok":true,"samples":[21.25,21.5,21.75,1e+16],"location":{"room":"lab","floor":-1}}"#
    );
    let data = out.data.to_vec();
    let metadata = out.fields.metadata.to_string();
    // A value a receiver would refuse is not sent.
    let mut bad = reading();
    bad.offset = 5000;
    let error = typed::outgoing("reading", &bad, &mut buf).unwrap_err();
    assert_eq!(
        (error.kind, error.at.to_string()),
        (ErrorKind::InvalidInput, "offset".to_string())
    );

    // Received in an owned envelope: its schema_type checked, its data decoded.
    let mut work = [0u8; 512];
    let payload = received(&data, &metadata);
    assert_eq!(
        typed::receive::<SensorReading>(&payload, &mut work),
        Ok(reading())
    );
    // No schema_type: decoded as the type asked for.
    let plain = received(&data, r#"{"unit":"C"}"#);
    assert_eq!(
        typed::receive::<SensorReading>(&plain, &mut work),
        Ok(reading())
    );
    // Another type's name (or not a string): bad_value at metadata.schema_type.
    for metadata in [
        r#"{"schema_type":"Command"}"#,
        r#"{"schema_type":7}"#,
        r#"{"a":1,"schema_type":"SensorReading","schema_type":"X"}"#,
    ] {
        let error = typed::receive::<SensorReading>(&received(&data, metadata), &mut work)
            .expect_err(metadata);
        let TypedError::Decode(error) = error else {
            panic!("{error:?}")
        };
        assert_eq!(
            (error.kind, error.at.to_string()),
            (ErrorKind::BadValue, "metadata.schema_type".to_string()),
            "{metadata}"
        );
    }
    // The data of another shape: the decoder's error, naming the field.
    let error = typed::receive::<Command>(&received(&data, "{}"), &mut work).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MissingKey);
    // Not a dictionary: wrong_type at payload_type, whatever the data.
    let mut text_payload = received(&data, "{}");
    text_payload.payload_type = PayloadType::Text;
    let error = typed::receive::<SensorReading>(&text_payload, &mut work).unwrap_err();
    let TypedError::Decode(error) = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (error.kind, error.at.to_string()),
        (ErrorKind::WrongType, "payload_type".to_string())
    );
    // A buffer too small for the data: over_capacity.
    let error = typed::receive::<SensorReading>(&payload, &mut work[..8]).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OverCapacity);

    // Received in a borrowed view of the whole envelope.
    let mut envelope = MessageEnvelope::default();
    envelope.payloads.push(payload).unwrap();
    let mut body = vec![0u8; 8192];
    let body = envelope.encode(&mut body).unwrap().to_vec();
    let view = MessageEnvelopeView::decode(&body).unwrap();
    assert_eq!(
        typed::receive_view::<SensorReading>(&view.payloads[0], &mut work),
        Ok(reading())
    );
    let error = typed::receive_view::<CommandReply>(&view.payloads[0], &mut work).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadValue);
}

/// The answer of `T` to one golden's bytes: `Ok(canonical re-encoding)` or `Err((kind, at))`.
fn golden_answer<T: TypedPayload>(
    data: &[u8],
) -> Result<std::string::String, (std::string::String, std::string::String)> {
    match T::decode(data) {
        Ok(value) => {
            let mut buf = std::vec![0u8; T::MAX_ENCODED_LEN];
            let bytes = value
                .encode_checked(&mut buf)
                .expect("a decoded value re-encodes");
            Ok(std::str::from_utf8(bytes).unwrap().to_string())
        }
        Err(e) => Err((e.kind.to_string(), e.at.to_string())),
    }
}

/// `tests/golden/payloads/` (made by `tests/golden/tools/make_payload_goldens.py`), held
/// as every SDK holds them (`natsbridge_test_support::check_payload_goldens`).
#[test]
fn the_payload_goldens_hold() {
    natsbridge_test_support::check_payload_goldens(|type_name, data| match type_name {
        "DeviceConfig" => golden_answer::<DeviceConfig>(data),
        "SensorReading" => golden_answer::<SensorReading>(data),
        "Command" => golden_answer::<Command>(data),
        "CommandReply" => golden_answer::<CommandReply>(data),
        other => panic!("no type {other}"),
    });
}
