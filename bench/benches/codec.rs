//! B1 (base64 engines against memcpy) and B2 (envelope encode and decode, std and no_std,
//! against a plain `serde_json::Value` + base64 implementation), as JSON lines.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::FutureExt as _;
use natsbridge::{EnvelopeComposer, Payload, SendOptions};
use natsbridge_bench::{
    Better, Comparison, Goal, gigabytes_per_second, note, random_bytes, seconds_per_call, selected,
    size_name,
};
use natsbridge_embedded::smart::decode_direct_view;
use natsbridge_embedded::{MessageEnvelopeView, MessageView};
use natsbridge_test_support::NatsServer;
use serde_json::{Value, json};

/// Counts the large buffers allocated while it is armed: how many times a payload is held.
struct CountingAllocator;

/// Allocations of at least this many bytes count as a buffer holding a payload (or its text).
static LARGE_FROM: AtomicUsize = AtomicUsize::new(usize::MAX);
static LARGE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE_FROM.load(Ordering::Relaxed) {
            LARGE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= LARGE_FROM.load(Ordering::Relaxed) {
            LARGE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        }
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Bytes allocated in buffers of `large_from` bytes or more while `f` runs.
fn large_allocations(large_from: usize, f: impl FnOnce()) -> usize {
    LARGE_BYTES.store(0, Ordering::SeqCst);
    LARGE_FROM.store(large_from, Ordering::SeqCst);
    f();
    LARGE_FROM.store(usize::MAX, Ordering::SeqCst);
    LARGE_BYTES.load(Ordering::SeqCst)
}

const SAMPLE: Duration = Duration::from_millis(200);

fn main() {
    if selected("b1") {
        base64_engines();
    }
    if selected("b2") {
        envelopes();
    }
}

/// B1: the base64 crate's general-purpose engine and base64-simd, encode and decode, against
/// memcpy of the same bytes; figures are payload (decoded) bytes per second.
fn base64_engines() {
    for size in [1024, 32 * 1024, 1 << 20] {
        let data = &random_bytes(size);
        let text = &STANDARD.encode(data);
        let rate = move |seconds: f64| gigabytes_per_second(size, seconds);
        let mut memcpy = {
            let mut copy = vec![0u8; size];
            move || {
                rate(seconds_per_call(SAMPLE, || {
                    copy.copy_from_slice(black_box(data));
                    black_box(&copy);
                }))
            }
        };
        let mut general_encode = {
            let mut out = vec![0u8; text.len()];
            move || {
                rate(seconds_per_call(SAMPLE, || {
                    let n = STANDARD.encode_slice(black_box(data), &mut out);
                    black_box(n.expect("room for the text"));
                }))
            }
        };
        let mut simd_encode = {
            let mut out = vec![0u8; text.len()];
            move || {
                rate(seconds_per_call(SAMPLE, || {
                    let out = base64_simd::Out::from_slice(&mut out);
                    black_box(base64_simd::STANDARD.encode(black_box(data), out));
                }))
            }
        };
        let mut general_decode = {
            let mut out = vec![0u8; size];
            move || {
                rate(seconds_per_call(SAMPLE, || {
                    let n = STANDARD.decode_slice(black_box(text.as_bytes()), &mut out);
                    black_box(n.expect("valid base64"));
                }))
            }
        };
        let mut simd_decode = {
            let mut out = vec![0u8; size];
            move || {
                rate(seconds_per_call(SAMPLE, || {
                    let out = base64_simd::Out::from_slice(&mut out);
                    let n = base64_simd::STANDARD.decode(black_box(text.as_bytes()), out);
                    black_box(n.expect("valid base64"));
                }))
            }
        };
        let b1 = |case: &str, ours: &str, baseline: &str, goal: Goal| Comparison {
            bench: "B1",
            case: format!("{case} {}", size_name(size)),
            ours: ours.into(),
            baseline: baseline.into(),
            unit: "GB/s",
            better: Better::Higher,
            goal,
        };
        let (gp, simd) = ("base64 GeneralPurpose", "base64-simd (AVX2 when present)");
        b1("encode", gp, "memcpy", Goal::None).run(&mut general_encode, &mut memcpy);
        b1("encode", simd, "memcpy", Goal::None).run(&mut simd_encode, &mut memcpy);
        b1("encode", simd, gp, Goal::None).run(&mut simd_encode, &mut general_encode);
        b1("decode", gp, "memcpy", Goal::None).run(&mut general_decode, &mut memcpy);
        b1("decode", simd, "memcpy", Goal::AtLeast(4.0)).run(&mut simd_decode, &mut memcpy);
        b1("decode", simd, gp, Goal::None).run(&mut simd_decode, &mut general_decode);
    }
    note(
        "B1",
        &format!(
            "{}; figures are payload (decoded) bytes per second",
            cpu_features()
        ),
    );
}

#[cfg(target_arch = "x86_64")]
fn cpu_features() -> String {
    format!(
        "CPU features seen: avx2={}, ssse3={}",
        std::is_x86_feature_detected!("avx2"),
        std::is_x86_feature_detected!("ssse3"),
    )
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_features() -> String {
    format!("CPU: {}", std::env::consts::ARCH)
}

/// The payloads of one B2 case: `count` binary payloads of `size` bytes.
fn payloads(count: usize, size: usize) -> Vec<Payload> {
    (0..count)
        .map(|i| Payload::binary(format!("p{i}"), random_bytes(size)))
        .collect()
}

/// The baseline encoder: a `serde_json::Value` built by hand, base64 by the base64 crate.
fn baseline_encode(payloads: &[(String, Vec<u8>)]) -> Vec<u8> {
    let items: Vec<Value> = payloads
        .iter()
        .map(|(name, bytes)| {
            json!({
                "id": "00000000-0000-4000-8000-000000000000", "dataname": name,
                "payload_type": "binary", "transport": "direct", "encoding": "base64",
                "size": bytes.len(), "data": STANDARD.encode(bytes), "metadata": {},
            })
        })
        .collect();
    let envelope = json!({
        "correlation_id": "00000000-0000-4000-8000-000000000001",
        "msg_id": "00000000-0000-4000-8000-000000000002",
        "timestamp": "2026-11-25T12:00:00.000Z", "send_to": "bench.b2", "msg_purpose": "chat",
        "sender_name": "NATSBridge", "sender_id": "00000000-0000-4000-8000-000000000003",
        "receiver_name": "", "receiver_id": "", "reply_to": "", "reply_to_msg_id": "",
        "broker_url": "nats://127.0.0.1:4222", "metadata": {}, "payloads": items,
    });
    serde_json::to_vec(&envelope).expect("a Value serializes")
}

/// The baseline decoder: parse to a `Value`, decode each `data` with the base64 crate.
fn baseline_decode(body: &[u8]) -> Vec<Vec<u8>> {
    let envelope: Value = serde_json::from_slice(body).expect("JSON");
    envelope["payloads"]
        .as_array()
        .expect("payloads")
        .iter()
        .map(|p| {
            STANDARD
                .decode(p["data"].as_str().expect("data"))
                .expect("base64")
        })
        .collect()
}

/// Our encoder: the composer every send uses, then the canonical JSON bytes.
fn our_encode(payloads: &[Payload]) -> Vec<u8> {
    EnvelopeComposer::new("nats://127.0.0.1:4222", "sender")
        .size_threshold(u64::MAX)
        .compose("bench.b2", payloads.to_vec(), &SendOptions::new())
        .now_or_never()
        .expect("composing direct payloads never waits")
        .expect("the envelope composes")
        .to_json_vec_mut()
}

/// B2: envelope encode and decode, ours (std; no_std views for decode) against the baseline.
fn envelopes() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let server = NatsServer::start();
    let client = runtime
        .block_on(natsbridge::connect(&server.url()))
        .expect("connect to nats-server");
    for (count, size) in [(1, 700 * 1024), (10, 70 * 1024), (1000, 100)] {
        let case = format!("{count} x {}", size_name(size));
        let ours = payloads(count, size);
        let plain: Vec<(String, Vec<u8>)> = ours
            .iter()
            .map(|p| {
                let bytes = match p.source() {
                    natsbridge::Source::Bytes(b) => b.to_vec(),
                    natsbridge::Source::File(_) => unreachable!("payloads from bytes"),
                };
                (p.dataname().to_owned(), bytes)
            })
            .collect();
        let body = our_encode(&ours);
        let ms = |seconds: f64| seconds * 1e3;
        let b2 = |what: &str, who: &str, goal: Goal| Comparison {
            bench: "B2",
            case: format!("{what} {case}"),
            ours: who.into(),
            baseline: "serde_json::Value + base64 crate".into(),
            unit: "ms",
            better: Better::Lower,
            goal,
        };
        b2(
            "encode",
            "natsbridge EnvelopeComposer + to_json_vec_mut",
            Goal::None,
        )
        .run(
            || {
                ms(seconds_per_call(SAMPLE, || {
                    drop(black_box(our_encode(&ours)))
                }))
            },
            || {
                ms(seconds_per_call(SAMPLE, || {
                    drop(black_box(baseline_encode(&plain)))
                }))
            },
        );
        let our_decode = || {
            runtime
                .block_on(client.receive_body(black_box(&body)))
                .expect("our envelope decodes")
        };
        let goal = if count == 1 {
            Goal::AtMost(0.35)
        } else {
            Goal::None
        };
        b2("decode", "natsbridge Client::receive_body", goal).run(
            || ms(seconds_per_call(SAMPLE, || drop(black_box(our_decode())))),
            || {
                ms(seconds_per_call(SAMPLE, || {
                    drop(black_box(baseline_decode(&body)))
                }))
            },
        );
        let mut buffer = vec![0u8; size];
        let mut no_std_decode = || -> Result<(), String> {
            let view = MessageEnvelopeView::decode(black_box(&body)).map_err(|e| e.to_string())?;
            for payload in &view.payloads {
                decode_direct_view(payload, &mut buffer).map_err(|e| e.to_string())?;
            }
            Ok(())
        };
        match no_std_decode() {
            Ok(()) => b2(
                "decode",
                "natsbridge-embedded view + decode_direct_view",
                Goal::None,
            )
            .run(
                || {
                    ms(seconds_per_call(SAMPLE, || {
                        no_std_decode().expect("decodes")
                    }))
                },
                || {
                    ms(seconds_per_call(SAMPLE, || {
                        drop(black_box(baseline_decode(&body)))
                    }))
                },
            ),
            Err(e) => note(
                "B2",
                &format!("no_std decode of {case}: not possible ({e})"),
            ),
        }
        let payload_bytes = count * size;
        if payload_bytes >= 64 * 1024 {
            let large_from = size.min(64 * 1024);
            let held = |f: &mut dyn FnMut()| large_allocations(large_from, f) as f64;
            let goal = if count == 1 {
                Goal::AtMost(1.1)
            } else {
                Goal::None
            };
            Comparison {
                bench: "B2",
                case: format!(
                    "held per received {case} (buffers of {} or more, x the payload; the body \
                     itself is not counted)",
                    size_name(large_from)
                ),
                ours: "natsbridge Client::receive_body".into(),
                baseline: "serde_json::Value + base64 crate".into(),
                unit: "x payload",
                better: Better::Lower,
                goal,
            }
            .run(
                || held(&mut || drop(our_decode())) / payload_bytes as f64,
                || held(&mut || drop(baseline_decode(&body))) / payload_bytes as f64,
            );
        }
    }
    note(
        "B2",
        "no_std encode: not measured; an owned no_std payload holds at most 2048 characters of \
         data (1536 payload bytes), so none of these envelopes can be encoded by natsbridge-embedded",
    );
}
