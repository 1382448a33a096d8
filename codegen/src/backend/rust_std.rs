//! Renders the std Rust SDK's message types (`sdk-rust/src/generated.rs`): serde structs with
//! the schema's wire names, and one decoder (aliases, defaults) that names the key at fault.

use askama::Template;

use crate::backend::{RustEnumView, rust_doc, rust_str};
use crate::model::{DefaultValue, FieldType, Model, Struct};

#[derive(Template)]
#[template(path = "rust_std.rs.jinja", escape = "none")]
struct File {
    preamble: String,
    schema_name: String,
    structs: Vec<StructView>,
    enums: Vec<RustEnumView>,
}

struct StructView {
    name: String,
    doc: String,
    fields: Vec<FieldView>,
}

struct FieldView {
    name: String,
    doc: String,
    /// Serialized with sorted keys (a free-form object).
    sorted: bool,
    rust_type: String,
    /// Every key that may hold the field, canonical first, as a Rust slice literal.
    keys: String,
    /// Turns `value: serde_json::Value` into the field's type, with `?`.
    convert: String,
    /// The field's value when the key is missing (an expression, or a `return Err(..)`).
    missing: String,
}

/// Renders `sdk-rust/src/generated.rs` (before rustfmt).
pub fn render(model: &Model) -> Result<String, askama::Error> {
    File {
        preamble: crate::preamble("//"),
        schema_name: model.schema_name.clone(),
        structs: model.structs.iter().map(struct_view).collect(),
        enums: model.enums.iter().map(RustEnumView::new).collect(),
    }
    .render()
}

fn struct_view(s: &Struct) -> StructView {
    let fields = s
        .fields
        .iter()
        .map(|field| {
            let name = field.name.clone();
            let at = format!("&at.key({})", rust_str(&name));
            let (rust_type, convert, sorted) = match &field.ty {
                FieldType::String { .. } => (
                    "String".to_string(),
                    format!("wire::string(value, {at})?"),
                    false,
                ),
                FieldType::Unsigned => (
                    "u64".to_string(),
                    format!("wire::unsigned(value, {at})?"),
                    false,
                ),
                FieldType::FreeObject { .. } => (
                    "serde_json::Map<String, serde_json::Value>".to_string(),
                    format!("wire::object(value, {at})?"),
                    true,
                ),
                FieldType::Enum(e) => (
                    e.clone(),
                    format!("wire::enumeration(value, {at}, {e}::EXPECTED, {e}::parse)?"),
                    false,
                ),
                FieldType::Array { .. } if field.ty.struct_item().is_some() => (
                    format!("Vec<{}>", field.ty.struct_item().unwrap_or_default()),
                    format!(
                        "wire::array(value, {at}, {}::from_value)?",
                        field.ty.struct_item().unwrap_or_default()
                    ),
                    false,
                ),
                other => unimplemented!("field type {other:?}: not rendered by this backend yet"),
            };
            let missing = match &field.default {
                None => format!("return Err(wire::missing({at}))"),
                Some(DefaultValue::String(text)) if text.is_empty() => "String::new()".to_string(),
                Some(DefaultValue::String(text)) => format!("{}.to_string()", rust_str(text)),
                Some(DefaultValue::EmptyObject) => "serde_json::Map::new()".to_string(),
                Some(other) => {
                    unimplemented!("default {other:?}: not rendered by this backend yet")
                }
            };
            let keys = std::iter::once(&field.name)
                .chain(&field.aliases)
                .map(|k| rust_str(k))
                .collect::<Vec<_>>()
                .join(", ");
            FieldView {
                doc: rust_doc(&field.description, "    "),
                sorted,
                rust_type,
                keys: format!("&[{keys}]"),
                convert,
                missing,
                name,
            }
        })
        .collect();
    StructView {
        name: s.name.clone(),
        doc: rust_doc(&s.description, ""),
        fields,
    }
}
