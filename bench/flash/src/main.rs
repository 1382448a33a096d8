//! One variant per build (a cargo feature): the entry point reads its input through volatile
//! reads (so nothing is folded at compile time), runs the encode or decode of `SensorReading`
//! and hands the result to `black_box`. Only what the entry point reaches is linked, so the
//! .text of a variant minus the empty build's is what that encode/decode adds to a firmware.

#![no_std]
#![no_main]
#![allow(clippy::empty_loop, clippy::deref_addrof)]

use core::hint::black_box;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// The received text: patched by nobody, read volatile so the compiler cannot see it.
#[unsafe(no_mangle)]
static mut INPUT: [u8; 256] = [0; 256];
#[unsafe(no_mangle)]
static mut OUTPUT: [u8; 667] = [0; 667];

fn input() -> [u8; 256] {
    // SAFETY: single-threaded; a volatile read of a static.
    unsafe { core::ptr::read_volatile(&raw const INPUT) }
}

#[allow(dead_code)]
fn number(x: u8) -> f64 {
    f64::from(input()[usize::from(x)]) / 4.0
}

#[cfg(any(
    feature = "ours-encode",
    feature = "ours-decode",
    feature = "ours-both"
))]
#[allow(dead_code, clippy::all)]
mod device {
    include!("../../../codegen/examples/payloads/device_embedded.rs");
}

#[cfg(any(feature = "sjc-encode", feature = "sjc-decode", feature = "sjc-both"))]
mod baseline {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Unit {
        Celsius,
        Percent,
        Hectopascal,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Location {
        pub room: heapless::String<24>,
        pub floor: i64,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Reading {
        pub sensor: heapless::String<16>,
        pub unit: Unit,
        pub value: f64,
        #[serde(default)]
        pub offset: i64,
        pub ok: bool,
        #[serde(default)]
        pub samples: heapless::Vec<f64, 8>,
        pub location: Location,
    }
}

#[cfg(any(feature = "ours-encode", feature = "ours-both"))]
fn encode() {
    use natsbridge_embedded::heapless::{String, Vec};
    use natsbridge_embedded::typed::TypedPayload as _;
    let i = input();
    let mut sensor = String::new();
    let _ = sensor.push_str(core::str::from_utf8(&i[..6]).unwrap_or(""));
    let mut room = String::new();
    let _ = room.push_str(core::str::from_utf8(&i[6..9]).unwrap_or(""));
    let value = device::SensorReading {
        sensor,
        unit: if i[10] == 0 {
            device::Unit::Celsius
        } else {
            device::Unit::Percent
        },
        value: number(11),
        offset: i64::from(i[12]),
        ok: i[13] != 0,
        samples: Vec::from_slice(&[number(14), number(15), number(16), number(17)])
            .unwrap_or_default(),
        location: device::SensorReadingLocation {
            room,
            floor: i64::from(i[18]),
        },
    };
    // SAFETY: single-threaded; the only reference to OUTPUT.
    let out = unsafe { &mut *(&raw mut OUTPUT) };
    black_box(value.encode_checked(out).map(|t| t.len()).ok());
}

#[cfg(any(feature = "ours-decode", feature = "ours-both"))]
fn decode() {
    use natsbridge_embedded::Message as _;
    let i = input();
    black_box(device::SensorReading::decode(&i).ok());
}

#[cfg(any(feature = "sjc-encode", feature = "sjc-both"))]
fn encode() {
    let i = input();
    let value = baseline::Reading {
        sensor: heapless::String::try_from(core::str::from_utf8(&i[..6]).unwrap_or(""))
            .unwrap_or_default(),
        unit: if i[10] == 0 {
            baseline::Unit::Celsius
        } else {
            baseline::Unit::Percent
        },
        value: number(11),
        offset: i64::from(i[12]),
        ok: i[13] != 0,
        samples: heapless::Vec::from_slice(&[number(14), number(15), number(16), number(17)])
            .unwrap_or_default(),
        location: baseline::Location {
            room: heapless::String::try_from(core::str::from_utf8(&i[6..9]).unwrap_or(""))
                .unwrap_or_default(),
            floor: i64::from(i[18]),
        },
    };
    // SAFETY: single-threaded; the only reference to OUTPUT.
    let out = unsafe { &mut *(&raw mut OUTPUT) };
    black_box(serde_json_core::to_slice(&value, out).ok());
}

#[cfg(any(feature = "sjc-decode", feature = "sjc-both"))]
fn decode() {
    let i = input();
    black_box(serde_json_core::from_slice::<baseline::Reading>(&i).ok());
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    #[cfg(any(
        feature = "ours-encode",
        feature = "ours-both",
        feature = "sjc-encode",
        feature = "sjc-both"
    ))]
    encode();
    #[cfg(any(
        feature = "ours-decode",
        feature = "ours-both",
        feature = "sjc-decode",
        feature = "sjc-both"
    ))]
    decode();
    black_box(input());
    loop {}
}
