//! Renders the std Rust SDK's message types (`sdk-rust/src/generated.rs`): serde structs with
//! the schema's wire names, and one decoder (aliases, defaults) that names the key at fault.

use askama::Template;

use crate::backend::{rust_doc, rust_str};
use crate::model::{DefaultValue, Enum, FieldType, Model, Struct};

#[derive(Template)]
#[template(path = "rust_std.rs.jinja", escape = "none")]
struct File {
    preamble: String,
    schema_name: String,
    structs: Vec<StructView>,
    enums: Vec<EnumView>,
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

struct EnumView {
    name: String,
    doc: String,
    open: bool,
    variants: Vec<VariantView>,
    /// Every string a message may hold, for error messages.
    expected: String,
    /// Alias spellings: (wire alias, variant).
    aliases: Vec<(String, String)>,
    /// The body of `is_receive_only`.
    receive_only_check: String,
}

struct VariantView {
    name: String,
    wire: String,
    doc: String,
    receive_only: bool,
}

/// Renders `sdk-rust/src/generated.rs` (before rustfmt).
pub fn render(model: &Model) -> Result<String, askama::Error> {
    File {
        preamble: crate::preamble("//"),
        schema_name: model.schema_name.clone(),
        structs: model.structs.iter().map(struct_view).collect(),
        enums: model.enums.iter().map(enum_view).collect(),
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
                FieldType::Array { item, .. } => (
                    format!("Vec<{item}>"),
                    format!("wire::array(value, {at}, {item}::from_value)?"),
                    false,
                ),
            };
            let missing = match &field.default {
                None => format!("return Err(wire::missing({at}))"),
                Some(DefaultValue::String(text)) if text.is_empty() => "String::new()".to_string(),
                Some(DefaultValue::String(text)) => format!("{}.to_string()", rust_str(text)),
                Some(DefaultValue::EmptyObject) => "serde_json::Map::new()".to_string(),
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

fn enum_view(e: &Enum) -> EnumView {
    let variants = e
        .values
        .iter()
        .map(|v| VariantView {
            name: v.variant(),
            wire: rust_str(&v.wire),
            doc: rust_doc(
                &if v.receive_only {
                    format!(
                        "Received from early editions, never sent: {}",
                        v.description
                    )
                } else {
                    v.description.clone()
                },
                "    ",
            ),
            receive_only: v.receive_only,
        })
        .collect::<Vec<_>>();
    let aliases = e
        .aliases
        .iter()
        .map(|(alias, target)| {
            let variant = e
                .values
                .iter()
                .find(|v| v.wire == *target)
                .expect("checked by the reader");
            (rust_str(alias), variant.variant())
        })
        .collect::<Vec<_>>();
    let expected = e
        .values
        .iter()
        .map(|v| rust_str(&v.wire))
        .chain(aliases.iter().map(|(alias, _)| alias.clone()))
        .collect::<Vec<_>>()
        .join(", ");
    let receive_only: Vec<String> = variants
        .iter()
        .filter(|v| v.receive_only)
        .map(|v| format!("Self::{}", v.name))
        .collect();
    let receive_only_check = if receive_only.is_empty() {
        "false".to_string()
    } else {
        format!("matches!(self, {})", receive_only.join(" | "))
    };
    EnumView {
        receive_only_check,
        name: e.name.clone(),
        doc: rust_doc(&e.description, ""),
        open: e.open.is_some(),
        variants,
        expected: format!("&[{expected}]"),
        aliases,
    }
}
