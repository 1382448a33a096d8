//! The Python module generated from the vocabulary fixture (every declared type of
//! schema/WIRE.md section 9) is a snapshot and really works: stitched with the hand-written
//! parts into a scratch folder, `sdk-python/tests/vocabulary_roundtrip.py` round-trips every
//! new field on CPython and on MicroPython.

use std::path::{Path, PathBuf};
use std::process::Command;

use natsbridge_codegen::{backend, default_root, read_schema, stitch_python};

fn fixture() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vocabulary/all_types.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn generated_python() -> String {
    let model = read_schema("fixtures/vocabulary/all_types.json", &fixture())
        .expect("the vocabulary fixture is accepted");
    backend::python::render(&model).expect("the Python backend renders every type")
}

#[test]
fn python_output_for_the_vocabulary_fixture() {
    insta::with_settings!({ description => "every declared type", omit_expression => true }, {
        insta::assert_snapshot!("vocabulary_all_types__python", generated_python());
    });
}

/// An interpreter from `NATSBRIDGE_<NAME>` or the PATH; a missing one fails the test.
fn interpreter(name: &str) -> PathBuf {
    let var = format!("NATSBRIDGE_{}", name.to_ascii_uppercase());
    if let Some(path) = std::env::var_os(&var) {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{name} is needed: put it on the PATH or name it in {var}"))
}

#[test]
fn the_vocabulary_module_round_trips_on_cpython_and_micropython() {
    let root = default_root();
    let module = stitch_python(&root, &generated_python()).expect("the module stitches");
    let dir = std::env::temp_dir().join(format!("natsbridge-vocabulary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    std::fs::write(dir.join("nats_bridge.py"), module).expect("the module is written");
    let script = root.join("sdk-python/tests/vocabulary_roundtrip.py");
    // The 64 KiB heap is covered by `run_all.py --only small-heap` on the real module, kept
    // in a ROMFS image: compiling the source of the module needs more than that heap.
    for name in ["python3", "micropython"] {
        let out = Command::new(interpreter(name))
            .arg(&script)
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{name}:\n{text}");
        assert!(text.contains("6 passed, 0 failed"), "{name}:\n{text}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
