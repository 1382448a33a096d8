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
}
