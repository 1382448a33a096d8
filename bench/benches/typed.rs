//! B9 (issue 21 point 7): typed payloads. The example schema's `SensorReading`
//! (`codegen/examples/payloads/`) encoded and decoded by the generated types, against the same
//! value through a hand-written `#[derive(Serialize, Deserialize)]` struct of the same fields:
//! no_std against `serde-json-core` (heapless fields), std against `serde_json`. Also the host
//! stack each no_std call uses (painted stack, see `stack_bytes`). JSON lines, as `codec`.
//!
//! The baselines check nothing: serde-json-core and serde_json refuse no value out of the
//! schema's `minimum`/`maximum` and no NaN; ours checks every bound on encode
//! (`encode_checked`, `TypedPayload::encode`) and on decode.

use std::hint::black_box;
use std::time::Duration;

use natsbridge_bench::{Better, Comparison, Goal, note, seconds_per_call, selected};

#[allow(dead_code)]
#[path = "../../codegen/examples/payloads/device.rs"]
mod std_device;

#[allow(dead_code)]
#[path = "../../codegen/examples/payloads/device_embedded.rs"]
mod embedded_device;

/// The hand-written baseline types: the same fields and capacities as the generated ones.
mod baseline {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    pub enum Unit {
        Celsius,
        Percent,
        Hectopascal,
    }

    /// For serde-json-core (no_std, heapless).
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub struct LocationCore {
        pub room: heapless::String<24>,
        pub floor: i64,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub struct ReadingCore {
        pub sensor: heapless::String<16>,
        pub unit: Unit,
        pub value: f64,
        #[serde(default)]
        pub offset: i64,
        pub ok: bool,
        #[serde(default)]
        pub samples: heapless::Vec<f64, 8>,
        pub location: LocationCore,
    }

    /// For serde_json (std).
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub struct Location {
        pub room: String,
        pub floor: i64,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub struct Reading {
        pub sensor: String,
        pub unit: Unit,
        pub value: f64,
        #[serde(default)]
        pub offset: i64,
        pub ok: bool,
        #[serde(default)]
        pub samples: Vec<f64>,
        pub location: Location,
    }
}

const SAMPLE: Duration = Duration::from_millis(200);

fn embedded_reading() -> embedded_device::SensorReading {
    use natsbridge_embedded::heapless::{String, Vec};
    let mut sensor = String::new();
    sensor.push_str("bme280").unwrap();
    let mut room = String::new();
    room.push_str("lab").unwrap();
    embedded_device::SensorReading {
        sensor,
        unit: embedded_device::Unit::Celsius,
        value: 21.5,
        offset: -12,
        ok: true,
        samples: Vec::from_slice(&[21.25, 21.5, 21.75, 21.5]).unwrap(),
        location: embedded_device::SensorReadingLocation { room, floor: 2 },
    }
}

fn core_reading() -> baseline::ReadingCore {
    baseline::ReadingCore {
        sensor: "bme280".try_into().unwrap(),
        unit: baseline::Unit::Celsius,
        value: 21.5,
        offset: -12,
        ok: true,
        samples: heapless::Vec::from_slice(&[21.25, 21.5, 21.75, 21.5]).unwrap(),
        location: baseline::LocationCore {
            room: "lab".try_into().unwrap(),
            floor: 2,
        },
    }
}

fn std_reading() -> std_device::SensorReading {
    std_device::SensorReading {
        sensor: "bme280".into(),
        unit: std_device::Unit::Celsius,
        value: 21.5,
        offset: -12,
        ok: true,
        samples: vec![21.25, 21.5, 21.75, 21.5],
        location: std_device::SensorReadingLocation {
            room: "lab".into(),
            floor: 2,
        },
    }
}

fn serde_reading() -> baseline::Reading {
    baseline::Reading {
        sensor: "bme280".into(),
        unit: baseline::Unit::Celsius,
        value: 21.5,
        offset: -12,
        ok: true,
        samples: vec![21.25, 21.5, 21.75, 21.5],
        location: baseline::Location {
            room: "lab".into(),
            floor: 2,
        },
    }
}

fn main() {
    if selected("b9") {
        no_std_path();
        std_path();
    }
}

/// Nanoseconds per call of `f`.
fn ns(f: impl FnMut()) -> f64 {
    seconds_per_call(SAMPLE, f) * 1e9
}

fn comparison(case: &str, ours: &str, baseline: &str, goal: Goal) -> Comparison {
    Comparison {
        bench: "B9",
        case: case.into(),
        ours: ours.into(),
        baseline: baseline.into(),
        unit: "ns per op (lower is better)",
        better: Better::Lower,
        goal,
    }
}

fn no_std_path() {
    use natsbridge_embedded::Message as _;
    use natsbridge_embedded::typed::TypedPayload as _;

    let ours_value = embedded_reading();
    let theirs_value = core_reading();
    let mut buf =
        [0u8; <embedded_device::SensorReading as natsbridge_embedded::Message>::MAX_ENCODED_LEN];
    let ours_text = ours_value.encode_checked(&mut buf).unwrap().to_vec();
    let mut buf2 = [0u8; 1024];
    let n = serde_json_core::to_slice(&theirs_value, &mut buf2).unwrap();
    let theirs_text = buf2[..n].to_vec();
    // Both read each other's text: the same value either way.
    let (back, _) =
        serde_json_core::from_slice::<baseline::ReadingCore>(&ours_text).expect("sjc reads ours");
    assert_eq!(back, theirs_value);
    assert_eq!(
        embedded_device::SensorReading::decode(&theirs_text).expect("ours reads sjc's"),
        ours_value
    );
    note(
        "B9",
        &format!(
            "the value: {} (ours, {} bytes); serde-json-core writes {} ({} bytes)",
            String::from_utf8_lossy(&ours_text),
            ours_text.len(),
            String::from_utf8_lossy(&theirs_text),
            theirs_text.len()
        ),
    );

    let theirs = "serde-json-core 0.7 on a hand-written derive struct (heapless; checks no bound)";
    comparison(
        "no_std encode SensorReading",
        "natsbridge-embedded TypedPayload::encode_checked (bounds checked)",
        theirs,
        Goal::RatioAtLeast(1.0),
    )
    .run(
        || {
            ns(|| {
                let v = black_box(&ours_value);
                let mut buf = [0u8; 667];
                black_box(v.encode_checked(&mut buf).unwrap().len());
            })
        },
        || {
            ns(|| {
                let v = black_box(&theirs_value);
                let mut buf = [0u8; 667];
                black_box(serde_json_core::to_slice(v, &mut buf).unwrap());
            })
        },
    );
    comparison(
        "no_std encode SensorReading, unchecked",
        "natsbridge-embedded Message::encode (no checks)",
        theirs,
        Goal::None,
    )
    .run(
        || {
            ns(|| {
                let v = black_box(&ours_value);
                let mut buf = [0u8; 667];
                black_box(v.encode(&mut buf).unwrap().len());
            })
        },
        || {
            ns(|| {
                let v = black_box(&theirs_value);
                let mut buf = [0u8; 667];
                black_box(serde_json_core::to_slice(v, &mut buf).unwrap());
            })
        },
    );
    comparison(
        "no_std decode SensorReading",
        "natsbridge-embedded Message::decode (bounds checked)",
        theirs,
        Goal::RatioAtLeast(1.0),
    )
    .run(
        || {
            ns(|| {
                let r = embedded_device::SensorReading::decode(black_box(&ours_text)).unwrap();
                black_box(r);
            })
        },
        || {
            ns(|| {
                let r = serde_json_core::from_slice::<baseline::ReadingCore>(black_box(&ours_text))
                    .unwrap();
                black_box(r);
            })
        },
    );

    // Stack: the deepest host (x86_64) stack each call touches below its caller.
    let empty = stack_bytes(|| black_box(()));
    let enc_ours = stack_bytes(|| {
        let mut buf = [0u8; 667];
        black_box(
            black_box(&ours_value)
                .encode_checked(&mut buf)
                .unwrap()
                .len(),
        );
    });
    let enc_theirs = stack_bytes(|| {
        let mut buf = [0u8; 667];
        black_box(serde_json_core::to_slice(black_box(&theirs_value), &mut buf).unwrap());
    });
    let dec_ours = stack_bytes(|| {
        black_box(embedded_device::SensorReading::decode(black_box(&ours_text)).unwrap());
    });
    let dec_theirs = stack_bytes(|| {
        black_box(
            serde_json_core::from_slice::<baseline::ReadingCore>(black_box(&ours_text)).unwrap(),
        );
    });
    note(
        "B9",
        &format!(
            "host stack (x86_64 release, painted, 667-byte output buffer included in encode; an empty closure: {empty} B): \
             encode ours {enc_ours} B, serde-json-core {enc_theirs} B (ratio {:.2}); \
             decode ours {dec_ours} B, serde-json-core {dec_theirs} B (ratio {:.2})",
            enc_ours as f64 / enc_theirs as f64,
            dec_ours as f64 / dec_theirs as f64
        ),
    );
}

fn std_path() {
    use natsbridge::typed::TypedPayload as _;

    let ours_value = std_reading();
    let theirs_value = serde_reading();
    let text = ours_value.encode().unwrap();
    assert_eq!(
        serde_json::from_slice::<baseline::Reading>(&text).unwrap(),
        theirs_value
    );
    assert_eq!(
        std_device::SensorReading::decode(&serde_json::to_vec(&theirs_value).unwrap()).unwrap(),
        ours_value
    );
    let theirs = "serde_json on a hand-written derive struct (checks no bound)";
    // The goal: within 1.2 times serde_json's time, a speed ratio of at least 1 / 1.2.
    comparison(
        "std encode SensorReading",
        "natsbridge TypedPayload::encode",
        theirs,
        Goal::None,
    )
    .run(
        || ns(|| drop(black_box(black_box(&ours_value).encode().unwrap()))),
        || {
            ns(|| {
                drop(black_box(
                    serde_json::to_vec(black_box(&theirs_value)).unwrap(),
                ))
            })
        },
    );
    comparison(
        "std decode SensorReading",
        "natsbridge TypedPayload::decode",
        theirs,
        Goal::None,
    )
    .run(
        || {
            ns(|| {
                drop(black_box(
                    std_device::SensorReading::decode(black_box(&text)).unwrap(),
                ))
            })
        },
        || {
            ns(|| {
                drop(black_box(
                    serde_json::from_slice::<baseline::Reading>(black_box(&text)).unwrap(),
                ))
            })
        },
    );
    comparison(
        "std encode + decode SensorReading",
        "natsbridge TypedPayload::encode then decode",
        theirs,
        Goal::RatioAtLeast(1.0 / 1.2),
    )
    .run(
        || {
            ns(|| {
                let bytes = black_box(&ours_value).encode().unwrap();
                drop(black_box(
                    std_device::SensorReading::decode(&bytes).unwrap(),
                ));
            })
        },
        || {
            ns(|| {
                let bytes = serde_json::to_vec(black_box(&theirs_value)).unwrap();
                drop(black_box(
                    serde_json::from_slice::<baseline::Reading>(&bytes).unwrap(),
                ));
            })
        },
    );
}

/// How much stack below the measuring frame is painted, and how much right below it is left
/// alone (the frames of `paint` and `lowest_touched` themselves).
const PAINT: usize = 64 * 1024;
const SKIP: usize = 512;
const COLOUR: u8 = 0xA5;

/// The deepest stack `f` touches, in bytes below the measuring function's frame, on the host:
/// on a fresh thread with a 1 MiB stack, the 64 KiB below that frame are painted, `f` runs,
/// and the lowest byte no longer painted gives the depth. A measure of the host's (x86_64,
/// release) stack, not of a Cortex-M's; it includes the frames of the closure and `run`, and
/// cannot see less than `SKIP` bytes.
fn stack_bytes<F: FnOnce() + Send>(f: F) -> usize {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn_scoped(s, || measure(f))
            .expect("a thread")
            .join()
            .expect("the measured call")
    })
}

#[inline(never)]
fn measure(f: impl FnOnce()) -> usize {
    let marker = 0u8;
    let top = black_box(&marker) as *const u8 as usize;
    paint(top);
    run(f);
    top - lowest_touched(top)
}

#[inline(never)]
fn paint(top: usize) {
    for address in top - PAINT..top - SKIP {
        // SAFETY: unused stack of this thread (1 MiB, mapped), below every live frame.
        unsafe { (address as *mut u8).write_volatile(COLOUR) };
    }
}

#[inline(never)]
fn run(f: impl FnOnce()) {
    f();
}

/// The lowest address in the painted range that no longer holds the paint.
#[inline(never)]
fn lowest_touched(top: usize) -> usize {
    (top - PAINT..top - SKIP)
        // SAFETY: as in `paint`; these bytes were written there.
        .find(|&address| unsafe { (address as *const u8).read_volatile() } != COLOUR)
        .unwrap_or(top - SKIP)
}
