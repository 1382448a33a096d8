//! Differential tests of the envelope decoders and of the typed payloads' decoders (the
//! example payload schema's generated types): every golden, mutated many times in a fixed,
//! seeded way, must get the same answer from the std SDK, the no_std SDK and the Python module
//! on CPython and on MicroPython: the same envelope, or all refuse it (all with `not_json` when
//! it is not JSON); none may panic or crash. The only allowed difference is the no_std SDK's
//! capacity limit (`over_capacity`). The no_std SDK's borrowed view is held to its owned decoder
//! the same way. Goldens with a single fault pin the exact error kind and
//! place (`rust_sdks.rs`, `sdk-python/tests/test_envelope.py`).

use natsbridge::ErrorKind::NotJson;
use natsbridge_embedded::ErrorKind::{self, OverCapacity};
use natsbridge_embedded::Message as _;
use natsbridge_tests::golden;
use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*), so a failure can be replayed exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to a JSON parser, so mutations reach deep into the grammar.
const INTERESTING: &[u8] = b"{}[]\":,\\ 0123456789-+.eEtrufalsn\x00\x1f\x7f\xc3\xa9\xff";

fn mutate(message: &[u8], rng: &mut Rng) -> Vec<u8> {
    mutate_up_to(message, rng, 4)
}

/// `message` with one to `edits` random edits.
fn mutate_up_to(message: &[u8], rng: &mut Rng, edits: usize) -> Vec<u8> {
    let mut m = message.to_vec();
    for _ in 0..=rng.below(edits - 1) {
        let at = rng.below(m.len());
        match rng.below(6) {
            0 if !m.is_empty() => m[at] = INTERESTING[rng.below(INTERESTING.len())],
            1 if !m.is_empty() => {
                m.remove(at);
            }
            2 => m.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 if !m.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(m.len());
                let copy = m[at..end].to_vec();
                let to = rng.below(m.len());
                m.splice(to..to, copy);
            }
            4 => m.truncate(at),
            _ => {
                // Swap the value of one key for another JSON type.
                let replacement: &[u8] =
                    [&b"1"[..], b"\"x\"", b"[]", b"{}", b"null", b"true", b"-1"][rng.below(7)];
                if let Some(colon) = m[at..].iter().position(|&b| b == b':') {
                    let start = at + colon + 1;
                    let end = m[start..]
                        .iter()
                        .position(|&b| b == b',' || b == b'}')
                        .map_or(m.len(), |p| start + p);
                    m.splice(start..end, replacement.iter().copied());
                }
            }
        }
    }
    m
}

fn std_form(e: &natsbridge::MessageEnvelope) -> Value {
    serde_json::from_str(&e.to_json()).expect("the std encoder writes JSON")
}

fn embedded_form(e: &natsbridge_embedded::MessageEnvelope) -> Value {
    let mut buf = vec![0u8; natsbridge_embedded::MessageEnvelope::MAX_ENCODED_LEN];
    let written = e.encode(&mut buf).expect("MAX_ENCODED_LEN always suffices");
    serde_json::from_slice(written).expect("the no_std encoder writes JSON")
}

#[test]
fn std_and_no_std_decoders_agree_on_mutated_goldens() {
    const MUTATIONS_PER_GOLDEN: usize = 400;
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut checked = 0;
    let mut both_decoded = 0;
    let mut disagreements = Vec::new();
    for g in golden::all() {
        for i in 0..MUTATIONS_PER_GOLDEN {
            let message = mutate(&g.message, &mut rng);
            let std = natsbridge::MessageEnvelope::from_json(&message);
            let embedded = natsbridge_embedded::MessageEnvelope::decode(&message);
            checked += 1;
            let verdict = match (&std, &embedded) {
                (Ok(s), Ok(e)) => {
                    both_decoded += 1;
                    (std_form(s) != embedded_form(e)).then(|| {
                        json!({"std": std_form(s), "no_std": embedded_form(e)}).to_string()
                    })
                }
                // The no_std SDK's capacities (from the schema) are the one allowed difference.
                (Ok(_), Err(e)) if e.kind == OverCapacity => None,
                // A message with several faults may be refused for any of them, except that
                // a message that is not JSON is `not_json` everywhere.
                (Err(s), Err(e)) if (s.kind() == NotJson) == (e.kind == ErrorKind::NotJson) => None,
                (Err(s), Err(e)) if e.kind == OverCapacity && s.kind() == NotJson => None,
                (s, e) => Some(format!(
                    "std: {}; no_std: {}",
                    s.as_ref()
                        .map_or_else(|e| e.to_string(), |_| "decoded".into()),
                    e.as_ref()
                        .map_or_else(|e| e.to_string(), |_| "decoded".into())
                )),
            };
            if let Some(v) = verdict {
                disagreements.push(format!(
                    "{} mutation {i}: {v}\n  message: {}",
                    g.id(),
                    String::from_utf8_lossy(&message)
                ));
            }
        }
    }
    assert!(
        both_decoded > checked / 20,
        "mutations too destructive: {both_decoded} of {checked} decoded"
    );
    assert!(
        disagreements.is_empty(),
        "{} of {checked} mutated messages decoded differently:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The same mutations as above, fewer of them (the interpreters are slower), as base64 lines.
fn mutated_corpus(per_golden: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x0dd_ba11_5eed_1234);
    golden::all()
        .iter()
        .flat_map(|g| {
            (0..per_golden)
                .map(|_| mutate(&g.message, &mut rng))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs `sdk-python/tests/decode_lines.py` under `interpreter` on `messages`: one JSON answer
/// per message.
fn python_answers(interpreter: &str, install: &str, messages: &[Vec<u8>]) -> Vec<Value> {
    json_lines(python_lines(interpreter, install, messages))
}

fn json_lines(lines: Vec<String>) -> Vec<Value> {
    lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

/// The output lines of `sdk-python/tests/decode_lines.py` under `interpreter`, one a message.
fn python_lines(interpreter: &str, install: &str, messages: &[Vec<u8>]) -> Vec<String> {
    use base64::Engine as _;
    let lines: Vec<String> = messages
        .iter()
        .map(|m| base64::engine::general_purpose::STANDARD.encode(m))
        .collect();
    run_python(interpreter, install, "decode_lines.py", &[], &lines)
}

/// Runs `sdk-python/tests/SCRIPT INPUT SDK_DIR EXTRA...` under `interpreter`, INPUT a file of
/// `lines`; its output lines, one per input line.
fn run_python(
    interpreter: &str,
    install: &str,
    script: &str,
    extra: &[&std::path::Path],
    lines: &[String],
) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // A file of its own: tests run in parallel threads of one process.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let input = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "differential-{interpreter}-{}-{run}.txt",
        std::process::id()
    ));
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(&input, text).expect("write the messages");
    let output = std::process::Command::new(natsbridge_tests::tools::program(interpreter))
        .arg(root.join("sdk-python/tests").join(script))
        .arg(&input)
        .arg(root.join("sdk-python"))
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {interpreter} ({e}); install it with `{install}`"));
    std::fs::remove_file(&input).ok();
    assert!(
        output.status.success(),
        "{interpreter} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<String> = String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        answers.len(),
        lines.len(),
        "{interpreter}: one answer per message"
    );
    answers
}

fn python_agrees_with_std(interpreter: &str, install: &str) {
    let messages = mutated_corpus(120);
    let answers = python_answers(interpreter, install, &messages);
    let mut both_decoded = 0;
    let mut disagreements = Vec::new();
    for (message, answer) in messages.iter().zip(&answers) {
        let std = natsbridge::MessageEnvelope::from_json(message);
        let verdict = match (&std, answer) {
            (_, a) if a.get("crash").is_some() => Some(format!("crashed: {}", a["crash"])),
            (Ok(s), a) if a.get("ok").is_some() => {
                both_decoded += 1;
                (std_form(s) != a["ok"])
                    .then(|| format!("std {} / python {}", std_form(s), a["ok"]))
            }
            (Err(s), a) if a.get("error").is_some() => ((s.kind() == NotJson)
                != (a["error"] == "not_json"))
                .then(|| format!("std {s} / python {} at {}", a["error"], a["at"])),
            (s, a) => Some(format!(
                "std {} / python {a}",
                s.as_ref()
                    .map_or_else(|e| e.to_string(), |_| "decoded".into())
            )),
        };
        if let Some(v) = verdict {
            disagreements.push(format!(
                "{v}\n  message: {}",
                String::from_utf8_lossy(message)
            ));
        }
    }
    assert!(
        both_decoded > messages.len() / 20,
        "mutations too destructive: {both_decoded}"
    );
    assert!(
        disagreements.is_empty(),
        "{interpreter}: {} of {} mutated messages decoded differently from the std SDK:\n{}",
        disagreements.len(),
        messages.len(),
        disagreements
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn cpython_agrees_with_the_std_decoder_on_mutated_goldens() {
    python_agrees_with_std("python3", "apt-get install -y python3");
}

#[test]
fn micropython_agrees_with_the_std_decoder_on_mutated_goldens() {
    python_agrees_with_std("micropython", natsbridge_tests::tools::MICROPYTHON_INSTALL);
}

/// WIRE.md section 8 promises the same bytes from every SDK for the same envelope. Every golden
/// that all SDKs decode is re-encoded by each; the four outputs must be byte-identical.
#[test]
fn every_sdk_writes_the_same_bytes_for_every_decodable_golden() {
    let goldens: Vec<_> = golden::all()
        .into_iter()
        .filter(|g| g.decodes_in_embedded())
        .collect();
    let messages: Vec<Vec<u8>> = goldens.iter().map(|g| g.message.clone()).collect();
    let cpython = python_lines("python3", "apt-get install -y python3", &messages);
    let micropython = python_lines(
        "micropython",
        natsbridge_tests::tools::MICROPYTHON_INSTALL,
        &messages,
    );
    let mut failures = Vec::new();
    for (i, g) in goldens.iter().enumerate() {
        let std = natsbridge::MessageEnvelope::from_json(&g.message)
            .expect("decodes")
            .to_json();
        let embedded = natsbridge_embedded::MessageEnvelope::decode(&g.message).expect("decodes");
        let mut buf = vec![0u8; natsbridge_embedded::MessageEnvelope::MAX_ENCODED_LEN];
        let embedded =
            String::from_utf8(embedded.encode(&mut buf).expect("fits").to_vec()).expect("UTF-8");
        let expected = format!("{{\"ok\":{std}}}");
        for (sdk, line) in [
            ("no_std", format!("{{\"ok\":{embedded}}}")),
            ("CPython", cpython[i].clone()),
            ("MicroPython", micropython[i].clone()),
        ] {
            if line != expected {
                failures.push(format!(
                    "{}: {sdk} wrote\n  {line}\nstd wrote\n  {expected}",
                    g.id()
                ));
            }
        }
    }
    assert!(
        goldens.len() >= 30,
        "only {} decodable goldens",
        goldens.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn no_std_view_and_owned_decoders_agree_on_mutated_goldens() {
    use natsbridge_embedded::MessageView as _;
    use natsbridge_tests::embedded_view::{is_copy_capacity_error, owned_form, view_form};
    const MUTATIONS_PER_GOLDEN: usize = 400;
    let mut rng = Rng(0x0b0b_beef_5eed_1234);
    let (mut checked, mut both_decoded, mut both_refused) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for g in golden::all() {
        for i in 0..MUTATIONS_PER_GOLDEN {
            let message = mutate(&g.message, &mut rng);
            let owned = natsbridge_embedded::MessageEnvelope::decode(&message);
            let view = natsbridge_embedded::MessageEnvelopeView::decode(&message);
            checked += 1;
            let verdict = match (&owned, &view) {
                (Ok(o), Ok(v)) => {
                    both_decoded += 1;
                    (owned_form(o) != view_form(v))
                        .then(|| json!({"owned": owned_form(o), "view": view_form(v)}).to_string())
                }
                (Err(o), Err(v)) if o.kind == v.kind && o.at == v.at => {
                    both_refused += 1;
                    None
                }
                // The one allowed difference: the owned decoder stops at a string (or free-form
                // object) over its capacity; the view copies nothing, so it reads on and
                // decodes, or meets another fault further on.
                (Err(o), _) if is_copy_capacity_error(o) => None,
                (o, v) => Some(format!(
                    "owned: {}; view: {}",
                    o.as_ref()
                        .map_or_else(|e| e.to_string(), |_| "decoded".into()),
                    v.as_ref()
                        .map_or_else(|e| e.to_string(), |_| "decoded".into())
                )),
            };
            if let Some(v) = verdict {
                disagreements.push(format!(
                    "{} mutation {i}: {v}\n  message: {}",
                    g.id(),
                    String::from_utf8_lossy(&message)
                ));
            }
        }
    }
    assert!(
        both_decoded > checked / 20 && both_refused > checked / 20,
        "mutations too destructive or too mild: {both_decoded} decoded, {both_refused} refused \
         by both of {checked}"
    );
    assert!(
        disagreements.is_empty(),
        "{} of {checked} mutated messages: the view and the owned decoder disagree:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ---- typed payloads: the example payload schema's generated types in every SDK ----

#[allow(dead_code)]
#[path = "../../codegen/examples/payloads/device.rs"]
mod std_device;

#[allow(dead_code, unused_imports)]
mod embedded_device {
    include!("../../codegen/examples/payloads/device_embedded.rs");
}

/// Every payload golden (`tests/golden/payloads/`), mutated `per_golden` times with one or two
/// edits (a payload is a tenth of an envelope's size: more edits leave little that decodes):
/// (type, data).
fn mutated_payloads(per_golden: usize) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(0x7e1e_0000_5eed_4321);
    natsbridge_test_support::payload_goldens()
        .iter()
        .flat_map(|g| {
            (0..per_golden)
                .map(|_| (g.type_name.clone(), mutate_up_to(&g.data, &mut rng, 2)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What one SDK makes of a typed payload: `{"ok": canonical text}` or
/// `{"error": kind, "at": place}`, as `decode_payload_lines.py` prints it.
fn typed_answer<T: natsbridge::typed::TypedPayload>(data: &[u8]) -> Value {
    match T::decode(data) {
        Ok(v) => json!({"ok": String::from_utf8(v.encode().expect("re-encodes")).unwrap()}),
        Err(e) => json!({"error": e.kind().as_str(), "at": e.at()}),
    }
}

fn embedded_typed_answer<T: natsbridge_embedded::typed::TypedPayload>(data: &[u8]) -> Value {
    match T::decode(data) {
        Ok(v) => {
            let mut buf = vec![0u8; T::MAX_ENCODED_LEN];
            let bytes = v.encode_checked(&mut buf).expect("re-encodes");
            json!({"ok": String::from_utf8(bytes.to_vec()).unwrap()})
        }
        Err(e) => json!({"error": e.kind.as_str(), "at": e.at.to_string()}),
    }
}

/// `$answer::<T>($data)` for the type of the example schema named `$type_name`, `T` taken from
/// the generated module `$types` (one dispatch for both Rust SDKs).
macro_rules! answer_by_type_name {
    ($types:ident, $answer:ident, $type_name:expr, $data:expr) => {{
        use $types::*;
        match $type_name {
            "DeviceConfig" => $answer::<DeviceConfig>($data),
            "SensorReading" => $answer::<SensorReading>($data),
            "Command" => $answer::<Command>($data),
            "CommandReply" => $answer::<CommandReply>($data),
            other => panic!("no type {other}"),
        }
    }};
}

fn std_typed(type_name: &str, data: &[u8]) -> Value {
    answer_by_type_name!(std_device, typed_answer, type_name, data)
}

fn embedded_typed(type_name: &str, data: &[u8]) -> Value {
    answer_by_type_name!(embedded_device, embedded_typed_answer, type_name, data)
}

/// Holds `answers` (one SDK's, one per payload) to the std SDK's: the same canonical text for
/// every payload both decode; every other payload refused by both, `not_json` by both or by
/// neither. Which fault is reported when a value has several is each SDK's own (WIRE.md
/// section 10; the goldens, one fault each, pin kind and place). A crash is a failure.
fn typed_agree_with_std(sdk: &str, payloads: &[(String, Vec<u8>)], answers: &[Value]) {
    let (mut decoded, mut refused) = (0, 0);
    let mut disagreements = Vec::new();
    for ((type_name, data), answer) in payloads.iter().zip(answers) {
        let std = std_typed(type_name, data);
        let alike = match (std.get("error"), answer.get("error")) {
            (Some(ours), Some(theirs)) => (ours == "not_json") == (theirs == "not_json"),
            _ => std == *answer,
        };
        if alike {
            if std.get("ok").is_some() {
                decoded += 1;
            } else {
                refused += 1;
            }
        } else {
            disagreements.push(format!(
                "{type_name} {}: std {std} / {sdk} {answer}",
                String::from_utf8_lossy(data)
            ));
        }
    }
    assert!(
        decoded > payloads.len() / 50 && refused > payloads.len() / 50,
        "mutations too destructive or too mild: {decoded} decoded, {refused} refused alike"
    );
    assert!(
        disagreements.is_empty(),
        "{sdk}: {} of {} mutated typed payloads answered differently from the std SDK:\n{}",
        disagreements.len(),
        payloads.len(),
        disagreements
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

const TYPED_MUTATIONS_PER_GOLDEN: usize = 200;

#[test]
fn std_and_no_std_typed_payloads_agree_on_mutated_payload_goldens() {
    let payloads = mutated_payloads(TYPED_MUTATIONS_PER_GOLDEN);
    let answers: Vec<Value> = payloads
        .iter()
        .map(|(t, data)| embedded_typed(t, data))
        .collect();
    typed_agree_with_std("no_std", &payloads, &answers);
}

fn python_typed_agrees_with_std(interpreter: &str, install: &str) {
    use base64::Engine as _;
    let payloads = mutated_payloads(TYPED_MUTATIONS_PER_GOLDEN);
    let lines: Vec<String> = payloads
        .iter()
        .map(|(t, data)| {
            format!(
                "{t} {}",
                base64::engine::general_purpose::STANDARD.encode(data)
            )
        })
        .collect();
    let examples =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/examples/payloads");
    let answers = json_lines(run_python(
        interpreter,
        install,
        "decode_payload_lines.py",
        &[&examples],
        &lines,
    ));
    typed_agree_with_std(interpreter, &payloads, &answers);
}

#[test]
fn cpython_typed_payloads_agree_with_std_on_mutated_payload_goldens() {
    python_typed_agrees_with_std("python3", "apt-get install -y python3");
}

#[test]
fn micropython_typed_payloads_agree_with_std_on_mutated_payload_goldens() {
    python_typed_agrees_with_std("micropython", natsbridge_tests::tools::MICROPYTHON_INSTALL);
}
