// Named memory-board.x, not memory.x: the linker would find a memory.x here before build.rs's copy.
//! Puts the board's memory layout as `memory.x` where cortex-m-rt's `link.x` finds it.
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The mps2-an386 port (QEMU) has its own memory layout.
    let memory = if std::env::var_os("CARGO_FEATURE_MPS2_AN386").is_some() {
        "memory-mps2-an386.x"
    } else {
        "memory-board.x"
    };
    std::fs::copy(memory, out.join("memory.x")).expect("copying the memory layout");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-board.x");
    println!("cargo:rerun-if-changed=memory-mps2-an386.x");
    // The QEMU port's file server: the host's loopback (10.0.2.2) at the port its test chose.
    let files_port = std::env::var("NATSBRIDGE_QEMU_FILES_PORT").unwrap_or_else(|_| "8080".into());
    let port: u16 = files_port
        .parse()
        .unwrap_or_else(|_| panic!("NATSBRIDGE_QEMU_FILES_PORT is not a port: {files_port:?}"));
    println!("cargo:rustc-env=NATSBRIDGE_QEMU_FILE_SERVER=http://10.0.2.2:{port}");
    println!("cargo:rerun-if-env-changed=NATSBRIDGE_QEMU_FILES_PORT");
    write_buffer_sizes(&out);
}

/// The firmware's buffer sizes in bytes (`Memory` in main.rs), each overridable at build time
/// with `NATSBRIDGE_FW_BUFFERS="name=bytes,..."` (the QEMU test's search for the smallest
/// sizes the scenario passes with: `qemu_scenario.py --smallest`).
const BUFFERS: [(&str, usize); 8] = [
    ("nats_socket_rx", 2048),
    ("nats_socket_tx", 2048),
    ("nats_rx", 4096),
    ("nats_tx", 512),
    ("http_socket_rx", 1024),
    ("http_socket_tx", 1024),
    ("http_work", 1024),
    ("envelope_text", 4096),
];

fn write_buffer_sizes(out: &std::path::Path) {
    println!("cargo:rerun-if-env-changed=NATSBRIDGE_FW_BUFFERS");
    let mut sizes = BUFFERS.map(|(name, size)| (name, size));
    let overrides = std::env::var("NATSBRIDGE_FW_BUFFERS").unwrap_or_default();
    for item in overrides.split(',').filter(|item| !item.trim().is_empty()) {
        let (name, value) = item
            .split_once('=')
            .unwrap_or_else(|| panic!("NATSBRIDGE_FW_BUFFERS: {item:?} is not name=bytes"));
        let slot = sizes
            .iter_mut()
            .find(|(known, _)| *known == name.trim())
            .unwrap_or_else(|| panic!("NATSBRIDGE_FW_BUFFERS: no buffer named {name:?}"));
        slot.1 = value
            .trim()
            .parse()
            .ok()
            .filter(|bytes| (64..=1 << 20).contains(bytes))
            .unwrap_or_else(|| panic!("NATSBRIDGE_FW_BUFFERS: {item:?}: 64 to 1 MiB"));
    }
    let mut code = String::from("// Written by build.rs from its BUFFERS table.\n");
    for (name, size) in sizes {
        code += &format!("const {}: usize = {size};\n", name.to_uppercase());
    }
    std::fs::write(out.join("buffers.rs"), code).expect("writing buffers.rs");
}
