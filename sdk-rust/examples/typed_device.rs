//! Typed payloads with a device, the std side: receive its `SensorReading`s, send it a
//! `Command` and read its `CommandReply`, each a type of `codegen/examples/payloads/device.rs`
//! (generated from `device.schema.json` by `natsbridge-codegen payloads ... --std`).
//!
//! Run `nats-server` and a device (the example firmware, or
//! `python3 sdk-python/examples/typed_device.py --device`), then
//! `cargo run -p natsbridge --example typed_device`. It prints every field it received, one
//! JSON line each, as `sdk-python/examples/typed_device.py` does.

use std::time::Duration;

use futures_util::StreamExt;
use natsbridge::serde_json::json;
use natsbridge::{Error, ErrorKind, Payload, SendOptions};

// A project of your own generates this file into its crate (or into OUT_DIR from a build.rs).
#[allow(dead_code)]
#[path = "../../codegen/examples/payloads/device.rs"]
mod device;

use device::{Action, Command, CommandReply, SensorReading};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://localhost:4222".into());
    let client = natsbridge::connect(&url).await?;

    let mut readings = client.subscribe("device.readings").await?;
    let message = tokio::time::timeout(Duration::from_secs(5), readings.next())
        .await
        .ok()
        .flatten()
        .ok_or_else(|| Error::new(ErrorKind::Timeout, "device.readings", "no reading in 5 s"))??;
    let reading: SensorReading = message
        .payload("reading")
        .ok_or_else(|| missing("reading"))?
        .typed()?;
    show("reading", &reading);

    let command = Command {
        action: Action::ReadSensor,
        sensor: Some("temp0".into()),
    };
    let reply = client
        .request(
            "device.commands",
            vec![Payload::typed("command", &command)?],
            &SendOptions::new(),
            Duration::from_secs(5),
        )
        .await?;
    let answer: CommandReply = reply
        .payload("reply")
        .ok_or_else(|| missing("reply"))?
        .typed()?;
    println!(
        "reply: {}",
        json!({"action": answer.action.as_str(), "ok": answer.ok, "message": answer.message})
    );
    if let Some(reading) = &answer.reading {
        show("reply reading", reading);
    }
    Ok(())
}

fn missing(dataname: &str) -> Error {
    Error::new(ErrorKind::MissingKey, dataname, "no payload of that name")
}

/// Every field of a reading, one JSON line.
fn show(at: &str, r: &SensorReading) {
    let fields = json!({
        "sensor": r.sensor, "unit": r.unit.as_str(), "value": r.value, "offset": r.offset,
        "ok": r.ok, "samples": r.samples, "room": r.location.room, "floor": r.location.floor,
    });
    println!("{at}: {fields}");
}
