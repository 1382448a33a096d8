//! The three renderers of the [`Model`](crate::model::Model): one module per target SDK.
//! Each takes the whole model and returns the source text of its generated file.

pub mod python;
pub mod rust_embedded;
pub mod rust_std;
