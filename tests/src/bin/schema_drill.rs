//! The schema-change drill (`natsbridge_tests::drill`): `schema_drill [VARIANT...]` applies the
//! change files of `tests/drill/changes/`, regenerates, builds and round-trips every SDK;
//! exits non-zero when any check fails.

use std::process::ExitCode;

fn main() -> ExitCode {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let outcome = natsbridge_tests::drill::run(&only);
    if outcome.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for failure in &outcome.failed {
            eprintln!("drill FAILED: {failure}");
        }
        ExitCode::FAILURE
    }
}
