//! Golden messages and cross-SDK tests.
//!
//! * [`golden`]: loads the golden messages of `tests/golden/` (format in
//!   `tests/golden/README.md`) and gives the paths around them.
//! * [`reference`](mod@reference): a plain reference receiver of WIRE.md section 7 and the canonical
//!   writer of section 8, independent of the SDK crates, driven by the schema file.
//! * [`embedded_view`]: the no_std SDK's owned envelope and borrowed view as comparable JSON.
//! * [`tools`]: where the tests find `micropython` and other interpreters.
//! * [`drill`]: the schema-change drill (`tests/drill/`, `cargo run -p natsbridge-tests --bin schema_drill`).
//!
//! `tests/goldens.rs` holds the goldens to themselves: the reference receiver, the JSON
//! Schema and the canonical writer must all agree with every `.expect.json`.

/// The top-level README's Rust examples, compiled as doc tests (the quick start's commands run
/// in `cli/tests/readme.rs`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

pub mod drill;
pub mod embedded_view;
pub mod golden;
pub mod interop;
pub mod reference;
pub mod tools;
