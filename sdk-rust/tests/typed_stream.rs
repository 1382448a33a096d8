//! The generated std types' `decode` reads the bytes straight into the type
//! (`natsbridge::wire::stream`); it must say exactly what the value path says (`from_json_value`
//! of `serde_json::from_slice`): the same value, or the same error kind, field and message.
//! Checked on the payload goldens, on cases written for the streaming reader (duplicate keys,
//! aliases in either order, `null`, faults in several fields, JSON faults after a field's
//! fault) and on many random mutations of them.

#[allow(dead_code)]
#[path = "../../codegen/examples/payloads/device.rs"]
mod device;

use std::fmt::Debug;
use std::path::Path;

use device::{Command, CommandReply, DeviceConfig, SensorReading};
use natsbridge::typed::TypedPayload;
use natsbridge::{Error, ErrorKind};

fn value_path<T: TypedPayload>(bytes: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::new(ErrorKind::NotJson, "", "not JSON").with_source(e))?;
    T::from_json_value(value)
}

fn summary<T: Debug>(result: Result<T, Error>) -> Result<String, (ErrorKind, String, String)> {
    result
        .map(|value| format!("{value:?}"))
        .map_err(|e| (e.kind(), e.at().to_string(), e.message().to_string()))
}

fn same<T: TypedPayload + Debug>(bytes: &[u8]) -> Result<Option<ErrorKind>, String> {
    let streamed = summary(T::decode(bytes));
    let parsed = summary(value_path::<T>(bytes));
    if streamed == parsed {
        Ok(streamed.err().map(|(kind, _, _)| kind))
    } else {
        Err(format!(
            "{} {:?}: decode says {streamed:?}, the value path {parsed:?}",
            T::TYPE_NAME,
            String::from_utf8_lossy(bytes)
        ))
    }
}

/// The differences, and the answers (`None`: decoded) for the coverage check.
fn every_type(bytes: &[u8], seen: &mut Vec<Option<ErrorKind>>) -> Vec<String> {
    let mut wrong = Vec::new();
    for answer in [
        same::<SensorReading>(bytes),
        same::<DeviceConfig>(bytes),
        same::<Command>(bytes),
        same::<CommandReply>(bytes),
    ] {
        match answer {
            Ok(kind) if !seen.contains(&kind) => seen.push(kind),
            Ok(_) => {}
            Err(difference) => wrong.push(difference),
        }
    }
    wrong
}

fn inputs() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/payloads");
    for group in ["canonical", "accepted", "invalid"] {
        for entry in std::fs::read_dir(root.join(group)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy().to_string();
            if name.ends_with(".json") && !name.ends_with(".expect.json") {
                inputs.push(std::fs::read(&path).unwrap());
            }
        }
    }
    let reading = r#"{"sensor":"bme280","unit":"celsius","value":21.5,"offset":-12,"ok":true,"samples":[21.25,21.5,21.75,21.5],"location":{"room":"lab","floor":2}}"#;
    let written = [
        reading,
        r#"{"sensor":"a","sensor":"b","unit":"percent","value":1,"ok":false,"location":{"room":"r","floor":0}}"#,
        r#"{"sensor":7,"sensor":"b","unit":"percent","value":1,"ok":false,"location":{"room":"r","floor":0}}"#,
        r#"{"sensor":"b","sensor":7,"unit":"percent","value":1,"ok":false,"location":{"room":"r","floor":0}}"#,
        r#"{"value":"x","sensor":5,"unit":"kelvin","ok":1,"location":{"room":1,"floor":"x"}}"#,
        r#"{"location":{"floor":"x"},"value":"x"}"#,
        r#"{"sensor":"s","unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":1},"extra":[1e400]}"#,
        r#"{"sensor":5,"unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":1},"extra":1e400}"#,
        r#"{"sensor":5,"unit":"celsius","value":1e400,"ok":true,"location":{"room":"r","floor":1}}"#,
        r#"{"sensor":5,"samples":[1,"x",1e400],"unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":1}}"#,
        r#"{"sensor":"s","samples":[1,"x",true,{}],"unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":1}}"#,
        r#"{"sensor":"s","samples":{"a":1},"unit":["celsius"],"value":null,"ok":true,"location":[1]}"#,
        r#"{"sensor":"s","unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":1}} x"#,
        r#"{"sensor":"s","unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":1}}   "#,
        r#"{"sensor":5,"unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":1}"#,
        r#"{"sen\u0073or":"s","unit":"cel\u0073ius","value":-0,"offset":-0,"ok":true,"location":{"room":"r\n","floor":-0}}"#,
        r#"{"sensor":"s","unit":"celsius","value":1,"offset":18446744073709551616,"ok":true,"location":{"room":"r","floor":9223372036854775808}}"#,
        r#"{"sensor":"s","unit":"celsius","value":1,"offset":1.0,"ok":true,"location":{"room":"r","floor":1e2}}"#,
        r#"{"sensor":"s","unit":"celsius","value":1,"offset":-9223372036854775809,"ok":true,"location":{"room":"r","floor":-1}}"#,
        r#"{"sensor":"s","unit":"celsius","value":5000,"ok":true,"location":{"room":"r","floor":200},"samples":[1,2,3,4,5,6,7,8,9]}"#,
        r#"{"wifi_ssid":"n","wifi_password":"p","updateInterval":5,"update_interval":"x"}"#,
        r#"{"wifi_ssid":"n","wifi_password":"p","update_interval":5,"updateInterval":"x"}"#,
        r#"{"wifi_ssid":"n","wifi_password":"p","updateInterval":"x"}"#,
        r#"{"wifi_ssid":"n","wifi_password":"p","updateInterval":0,"hostname":null}"#,
        r#"{"wifi_ssid":"n","wifi_password":"p","hostname":5,"hostname":null}"#,
        r#"{"wifi_ssid":"n","wifi_password":"p","hostname":null,"hostname":5}"#,
        r#"{"action":"restart","sensor":null}"#,
        r#"{"action":"restart","sensor":[null]}"#,
        r#"{"action":"reboot"}"#,
        r#"{"action":null}"#,
        r#"{"action":"read_sensor","ok":true,"message":"m","reading":null}"#,
        r#"{"action":"read_sensor","ok":true,"reading":{"sensor":1}}"#,
        r#"{"action":"read_sensor","ok":true,"reading":{"sensor":"s","unit":"celsius","value":1,"ok":true,"location":{"room":"r","floor":-9}}}"#,
        r#"{"action":"read_sensor","ok":true,"reading":"x"}"#,
        "[]",
        "[1e400]",
        "\"text\"",
        "null",
        "12",
        "",
        "{",
        "{}",
        "{\"sensor\":\"\u{e9}\"}",
    ];
    inputs.extend(written.iter().map(|s| s.as_bytes().to_vec()));
    let nested = format!(
        "{{\"sensor\":5,\"x\":{}{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    inputs.push(nested.into_bytes());
    let nested = format!(
        "{{\"sensor\":5,\"x\":{}{}}}",
        "[".repeat(120),
        "]".repeat(120)
    );
    inputs.push(nested.into_bytes());
    // Not UTF-8, in a known key and in an unknown one.
    inputs.push(b"{\"sensor\":\"\xff\"}".to_vec());
    inputs.push(b"{\"zzz\":\"\xff\",\"sensor\":1}".to_vec());
    inputs
}

#[test]
fn decode_says_what_the_value_path_says() {
    let inputs = inputs();
    let mut wrong = Vec::new();
    let mut seen = Vec::new();
    for input in &inputs {
        wrong.extend(every_type(input, &mut seen));
    }
    // Random mutations: a byte replaced, removed or duplicated, or a piece of another input
    // spliced in.
    let alphabet = b"{}[]\",:0123456789.e-+ntfaxul\\ ";
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    };
    for _ in 0..20_000 {
        let mut bytes = inputs[next() as usize % inputs.len()].clone();
        for _ in 0..1 + next() % 3 {
            if bytes.is_empty() {
                break;
            }
            let i = next() as usize % bytes.len();
            match next() % 4 {
                0 => bytes[i] = alphabet[next() as usize % alphabet.len()],
                1 => {
                    bytes.remove(i);
                }
                2 => bytes.insert(i, bytes[i]),
                _ => {
                    let other = &inputs[next() as usize % inputs.len()];
                    if !other.is_empty() {
                        let a = next() as usize % other.len();
                        let b = a + next() as usize % (other.len() - a + 1);
                        bytes.splice(i..i, other[a..b].iter().copied());
                    }
                }
            }
        }
        wrong.extend(every_type(&bytes, &mut seen));
    }
    // The cases reach every answer a receiver gives.
    for kind in [
        None,
        Some(ErrorKind::NotJson),
        Some(ErrorKind::NotObject),
        Some(ErrorKind::WrongType),
        Some(ErrorKind::MissingKey),
        Some(ErrorKind::BadValue),
        Some(ErrorKind::OverCapacity),
    ] {
        assert!(seen.contains(&kind), "no case answered {kind:?}");
    }
    assert!(
        wrong.is_empty(),
        "{} differences, the first:\n{}",
        wrong.len(),
        wrong
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
