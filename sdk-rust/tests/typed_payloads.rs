//! The example payload schema (`codegen/examples/payloads/device.schema.json`) through its
//! checked-in generated std types: round trips, canonical bytes, and refusals naming the
//! field. The generated file is compiled as a user's crate would (it uses only `natsbridge`).

// A user's crate would have `pub mod payloads { include!(...) }`; here not every generated
// item is used.
#[allow(dead_code)]
#[path = "../../codegen/examples/payloads/device.rs"]
mod device;

use device::{
    Action, Command, CommandReply, DeviceConfig, SensorReading, SensorReadingLocation, Unit,
};
use natsbridge::ErrorKind;
use natsbridge::typed::TypedPayload;

fn reading() -> SensorReading {
    SensorReading {
        sensor: "bme280".into(),
        unit: Unit::Celsius,
        value: 21.5,
        offset: -12,
        ok: true,
        samples: vec![21.25, 21.5, 21.75, 1e16],
        location: SensorReadingLocation {
            room: "lab".into(),
            floor: -1,
        },
    }
}

fn round_trip<T: TypedPayload + PartialEq + std::fmt::Debug>(value: &T, canonical: &str) {
    let bytes = value.encode().expect("encodes");
    assert_eq!(std::str::from_utf8(&bytes).unwrap(), canonical);
    assert_eq!(&T::decode(&bytes).expect("decodes"), value);
}

#[test]
fn values_round_trip_in_their_canonical_bytes() {
    round_trip(
        &reading(),
        r#"{"sensor":"bme280","unit":"celsius","value":21.5,"offset":-12,"ok":true,"samples":[21.25,21.5,21.75,1e+16],"location":{"room":"lab","floor":-1}}"#,
    );
    round_trip(
        &DeviceConfig {
            wifi_ssid: "lab".into(),
            wifi_password: "s3cret \"quoted\" é".into(),
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
    // serde users get the same decoding and checks
    let via_serde: Command =
        natsbridge::serde_json::from_str(r#"{"action":"restart","sensor":"a"}"#).unwrap();
    assert_eq!(via_serde.action, Action::Restart);
    assert!(natsbridge::serde_json::from_str::<Command>(r#"{"action":"jump"}"#).is_err());
}

#[test]
fn senders_refuse_what_receivers_would_refuse() {
    let mut bad = reading();
    bad.samples[2] = f64::NAN;
    let error = bad.encode().unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::InvalidInput, "samples[2]")
    );
    let mut bad = reading();
    bad.samples = vec![0.0; 9];
    let error = bad.encode().unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::InvalidInput, "samples")
    );
    let reply = CommandReply {
        action: Action::ReadSensor,
        ok: true,
        message: String::new(),
        reading: Some(SensorReading {
            location: SensorReadingLocation {
                room: "r".into(),
                floor: 101,
            },
            ..reading()
        }),
    };
    let error = reply.encode().unwrap_err();
    assert_eq!(
        (error.kind(), error.at()),
        (ErrorKind::InvalidInput, "reading.location.floor")
    );
}

/// Typed values through a real nats-server: sent with `Payload::typed` (the type's name in
/// the payload metadata), received back with `ReceivedPayload::typed`; a payload of another
/// type, or not a dictionary, is refused naming the payload, its untyped data kept.
#[tokio::test]
async fn typed_values_travel_through_nats_and_a_wrong_type_is_refused() {
    use futures_util::StreamExt;
    use natsbridge::typed::SCHEMA_TYPE_KEY;
    use natsbridge::{Data, Payload, SendOptions};

    let server = natsbridge_test_support::NatsServer::start();
    let client = natsbridge::connect(&server.url()).await.expect("connects");
    let mut inbox = client
        .subscribe("device.7.reading")
        .await
        .expect("subscribes");
    let command = Command {
        action: Action::ReadSensor,
        sensor: Some("bme280".into()),
    };
    let payloads = vec![
        Payload::typed("reading", &reading()).expect("a valid reading"),
        Payload::typed("command", &command).expect("a valid command"),
        Payload::text("note", "hello"),
    ];
    assert_eq!(
        payloads[0].fields().metadata.get(SCHEMA_TYPE_KEY),
        Some(&natsbridge::serde_json::json!("SensorReading"))
    );
    client
        .smartsend("device.7.reading", payloads, &SendOptions::new())
        .await
        .expect("sent");
    let received = inbox.next().await.expect("a message").expect("received");

    let got = received.payload("reading").expect("the reading");
    assert_eq!(got.schema_type(), Some("SensorReading"));
    assert_eq!(got.typed::<SensorReading>().expect("typed"), reading());
    let got_command = received.payload("command").expect("the command");
    assert_eq!(got_command.typed::<Command>().expect("typed"), command);

    let wrong = got.typed::<Command>().unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::BadValue, "{wrong}");
    assert_eq!(wrong.at(), "metadata.schema_type");
    assert_eq!(wrong.payload(), Some("reading"));
    assert!(
        wrong.message().contains("SensorReading") && wrong.message().contains("Command"),
        "{wrong}"
    );
    // the untyped JSON is still there, as the original editions see it
    assert_eq!(
        got.data.as_json().and_then(|v| v.get("sensor")),
        Some(&natsbridge::serde_json::json!("bme280"))
    );
    let not_json = received
        .payload("note")
        .expect("the note")
        .typed::<Command>()
        .unwrap_err();
    assert_eq!(not_json.kind(), ErrorKind::WrongType, "{not_json}");
    assert_eq!(not_json.payload(), Some("note"));
    assert_eq!(
        received.payload("note").unwrap().data,
        Data::Text("hello".into())
    );
}

/// A dictionary without the type's name (an original edition's, an untyped sender's) is
/// decoded as the type asked for, with the same checks.
#[test]
fn a_dictionary_without_schema_type_is_decoded_as_the_type_asked_for() {
    let untyped = natsbridge::ReceivedPayload {
        dataname: "command".into(),
        data: natsbridge::Data::Json(natsbridge::serde_json::json!({"action": "restart"})),
        payload_type: natsbridge::PayloadType::Dictionary,
        transport: natsbridge::Transport::Direct,
        metadata: Default::default(),
    };
    assert_eq!(untyped.schema_type(), None);
    assert_eq!(
        untyped.typed::<Command>().expect("typed").action,
        Action::Restart
    );
    let bad = natsbridge::ReceivedPayload {
        data: natsbridge::Data::Json(natsbridge::serde_json::json!({"action": "explode"})),
        ..untyped
    };
    let error = bad.typed::<Command>().unwrap_err();
    assert_eq!((error.kind(), error.at()), (ErrorKind::BadValue, "action"));
    assert_eq!(error.payload(), Some("command"));
}

/// The answer of `T` to one golden's bytes: `Ok(canonical re-encoding)` or `Err((kind, at))`.
fn golden_answer<T: TypedPayload>(data: &[u8]) -> Result<String, (String, String)> {
    match T::decode(data) {
        Ok(value) => {
            Ok(String::from_utf8(value.encode().expect("a decoded value re-encodes")).unwrap())
        }
        Err(e) => Err((e.kind().to_string(), e.at().to_string())),
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
