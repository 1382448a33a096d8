//! Placeholder renderer.

use crate::model::Model;

/// Renders the generated source for this target.
pub fn render(_model: &Model) -> Result<String, askama::Error> {
    Ok(String::new())
}
