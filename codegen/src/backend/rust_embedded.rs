//! Renders the no_std SDK's message types and codec (`sdk-embedded/src/generated.rs`): heapless
//! structs with the schema's capacities, an allocation-free decoder and a canonical encoder.

use askama::Template;

use crate::backend::{RustEnumView, rust_doc, rust_str};
use crate::model::{DefaultValue, Field, FieldType, Model, Struct, pascal_case, upper_snake_case};

#[derive(Template)]
#[template(path = "rust_embedded.rs.jinja", escape = "none")]
struct File {
    preamble: String,
    schema_name: String,
    key_capacity: usize,
    uses_default_text: bool,
    structs: Vec<StructView>,
    enums: Vec<RustEnumView>,
    /// `pub mod contract`: the schema's numbers (x-constants, then every capacity).
    constants: Vec<ConstView>,
    /// The error kinds of x-error-kinds.
    error_kinds: Vec<ErrorKindView>,
    /// The send-side structures (`...Fields<'a>`), one per structure.
    fields_structs: Vec<FieldsView>,
    /// `EnvelopeFields` names the root's fields structure.
    envelope_fields: String,
    /// `PayloadFields` names the fields structure of the root's `payloads` items (if any).
    payload_fields: Option<String>,
}

struct ConstView {
    name: String,
    doc: String,
    ty: &'static str,
    value: String,
}

struct ErrorKindView {
    variant: String,
    name: String,
    doc: String,
}

/// `<Struct>Fields<'a>`: what a caller sets when sending a `<Struct>`.
struct FieldsView {
    name: String,
    target: String,
    fields: Vec<SettableView>,
}

struct SettableView {
    name: String,
    doc: String,
    ty: String,
    default: String,
    /// Statements that copy `self.<name>` into `out.<name>`, checking capacities (`at` is the
    /// place of the structure).
    apply: String,
}

struct StructView {
    name: String,
    doc: String,
    max_encoded_len: usize,
    fields: Vec<FieldView>,
    /// The array fields, each read by a method of its own.
    arrays: Vec<ArrayView>,
    /// How many fields have aliases (each keeps a deferred error while decoding).
    deferred_slots: usize,
}

struct ArrayView {
    name: String,
    item: String,
    max_items: usize,
}

struct FieldView {
    name: String,
    /// Position in the structure, the index of its rank while decoding.
    index: usize,
    doc: String,
    rust_type: String,
    /// The keys that hold this field, the key itself first.
    spellings: Vec<SpellingView>,
    /// An expression that reads the value at `reader` into `self.<name>`, of type
    /// `Result<(), DecodeError>`.
    read: String,
    /// The type of the field in the borrowed view (`<Struct>View<'a>`).
    view_type: String,
    /// Like `read`, for the borrowed view (a `Reader<'a>` over the body).
    view_read: String,
    /// The value of the field in the view's `Default`.
    view_default: String,
    /// Statements that write `self.<name>` with `w`, after `key`.
    write: String,
    /// The JSON text written before the value: `{"name":` or `,"name":` as a Rust literal.
    key: String,
    /// The value of the field in `Default` (its schema default, or empty).
    default: String,
    /// A key without a default: decoding fails when it is missing.
    required: bool,
    /// For a field with aliases, its slot among the deferred alias errors.
    deferred_slot: Option<usize>,
}

struct SpellingView {
    /// The key as a Rust string literal.
    literal: String,
    /// 0 for the key itself, then 1, 2, ... for its aliases in schema order.
    rank: usize,
}

/// Renders `sdk-embedded/src/generated.rs` (before rustfmt).
pub fn render(model: &Model) -> Result<String, askama::Error> {
    let key_capacity = model
        .structs
        .iter()
        .flat_map(|s| &s.fields)
        .flat_map(|f| std::iter::once(&f.name).chain(&f.aliases))
        .map(String::len)
        .max()
        .unwrap_or(1);
    let uses_default_text = model
        .structs
        .iter()
        .flat_map(|s| &s.fields)
        .any(|f| matches!(&f.default, Some(DefaultValue::String(s)) if !s.is_empty()));
    let root = model.root();
    let payload_fields = root
        .field("payloads")
        .and_then(|f| f.ty.struct_item())
        .map(|name| format!("{name}Fields"));
    File {
        constants: constants(model),
        error_kinds: model
            .error_kinds
            .iter()
            .map(|k| ErrorKindView {
                variant: pascal_case(&k.name),
                name: rust_str(&k.name),
                doc: rust_doc(&k.description, "    "),
            })
            .collect(),
        fields_structs: model.structs.iter().map(fields_view).collect(),
        envelope_fields: format!("{}Fields", root.name),
        payload_fields,
        preamble: crate::preamble("//"),
        schema_name: model.schema_name.clone(),
        key_capacity,
        uses_default_text,
        structs: model
            .structs
            .iter()
            .map(|s| struct_view(model, s))
            .collect(),
        enums: model.enums.iter().map(RustEnumView::new).collect(),
    }
    .render()
}

fn struct_view(model: &Model, s: &Struct) -> StructView {
    let mut arrays = Vec::new();
    let mut aliased = 0;
    let fields = s
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let name = &field.name;
            let at_key = format!("at.key({})", rust_str(name));
            let json_err = format!("|e| {at_key}.json_error(e)");
            // `read` is an expression of type `Result<(), DecodeError>`.
            let (view_type, view_read) = match &field.ty {
                FieldType::String { .. } => (
                    "JsonStr<'a>".to_string(),
                    format!(
                        "reader.raw_string().map(|value| self.{name} = value).map_err({json_err})"
                    ),
                ),
                FieldType::FreeObject { .. } => (
                    "JsonObjectView<'a>".to_string(),
                    format!(
                        "reader.raw_object().map(|value| self.{name} = value).map_err({json_err})"
                    ),
                ),
                FieldType::Array { max_items, .. } if field.ty.struct_item().is_some() => (
                    format!(
                        "Vec<{}View<'a>, {max_items}>",
                        field.ty.struct_item().unwrap_or_default()
                    ),
                    format!("self.read_{name}(reader, &{at_key})"),
                ),
                FieldType::Unsigned | FieldType::Enum(_) => (String::new(), String::new()),
                other => unimplemented!("field type {other:?}: not rendered by this backend yet"),
            };
            let (rust_type, read, write) = match &field.ty {
                FieldType::String { max_bytes, .. } => (
                    format!("String<{max_bytes}>"),
                    format!("reader.string_into(&mut self.{name}).map_err({json_err})"),
                    format!("w.string(&self.{name})?;"),
                ),
                FieldType::Unsigned => (
                    "u64".to_string(),
                    format!(
                        "reader.unsigned().map(|value| self.{name} = value).map_err({json_err})"
                    ),
                    format!("w.unsigned(self.{name})?;"),
                ),
                FieldType::FreeObject { max_bytes } => (
                    format!("JsonObject<{max_bytes}>"),
                    format!("self.{name}.read(reader).map_err({json_err})"),
                    format!("w.raw(self.{name}.as_str())?;"),
                ),
                FieldType::Enum(e) => (
                    e.clone(),
                    format!("{e}::read(reader, &{at_key}).map(|value| self.{name} = value)"),
                    format!("w.string(self.{name}.as_str())?;"),
                ),
                FieldType::Array { max_items, .. } if field.ty.struct_item().is_some() => {
                    let item = field.ty.struct_item().unwrap_or_default().to_string();
                    arrays.push(ArrayView {
                        name: name.clone(),
                        item: item.clone(),
                        max_items: *max_items,
                    });
                    (
                        format!("Vec<{item}, {max_items}>"),
                        format!("self.read_{name}(reader, &{at_key})"),
                        format!(
                            "w.raw(\"[\")?;
                            for (i, item) in self.{name}.iter().enumerate() {{
                                if i > 0 {{
                                    w.raw(\",\")?;
                                }}
                                item.encode_into(w)?;
                            }}
                            w.raw(\"]\")?;"
                        ),
                    )
                }
                other => unimplemented!("field type {other:?}: not rendered by this backend yet"),
            };
            let deferred_slot = (!field.aliases.is_empty()).then(|| {
                aliased += 1;
                aliased - 1
            });
            let default = match (&field.default, &field.ty) {
                (Some(DefaultValue::String(text)), _) if !text.is_empty() => {
                    format!("default_text({})", rust_str(text))
                }
                (_, FieldType::String { .. }) => "String::new()".to_string(),
                (_, FieldType::Unsigned) => "0".to_string(),
                (_, FieldType::FreeObject { .. }) => "JsonObject::empty()".to_string(),
                (_, FieldType::Enum(e)) => format!("{e}::default()"),
                (_, FieldType::Array { .. }) => "Vec::new()".to_string(),
                (_, other) => {
                    unimplemented!("field type {other:?}: not rendered by this backend yet")
                }
            };
            let view_default = match (&field.default, &field.ty) {
                (Some(DefaultValue::String(text)), _) if !text.is_empty() => {
                    format!(
                        "JsonStr::from_raw({})",
                        rust_str(&json_string_content(text))
                    )
                }
                (_, FieldType::String { .. }) => "JsonStr::default()".to_string(),
                (_, FieldType::FreeObject { .. }) => "JsonObjectView::default()".to_string(),
                _ => default.clone(),
            };
            let spellings = std::iter::once(name)
                .chain(&field.aliases)
                .enumerate()
                .map(|(rank, key)| SpellingView {
                    literal: rust_str(key),
                    rank,
                })
                .collect();
            let separator = if i == 0 { "{" } else { "," };
            FieldView {
                name: name.clone(),
                doc: rust_doc(&field.description, "    "),
                view_type: if view_type.is_empty() {
                    rust_type.clone()
                } else {
                    view_type
                },
                view_read: if view_read.is_empty() {
                    read.clone()
                } else {
                    view_read
                },
                view_default,
                rust_type,
                index: i,
                spellings,
                read,
                write,
                key: rust_str(&format!("{separator}\"{name}\":")),
                default,
                required: field.default.is_none(),
                deferred_slot,
            }
        })
        .collect();
    StructView {
        name: s.name.clone(),
        doc: rust_doc(&s.description, ""),
        max_encoded_len: max_encoded_len(model, s),
        fields,
        arrays,
        deferred_slots: aliased,
    }
}

/// `text` as the content of a JSON string (escaped, without the quotes): the raw form a
/// `JsonStr` holds.
fn json_string_content(text: &str) -> String {
    let quoted = serde_json::Value::from(text).to_string();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}

/// The longest text the encoder can write for `s`: every string at capacity with every byte
/// escaped as `\u00XX` (six bytes), every array full, every integer at `u64::MAX`.
pub fn max_encoded_len(model: &Model, s: &Struct) -> usize {
    let keys: usize = s.fields.iter().map(|f| f.name.len() + 3).sum();
    let separators = s.fields.len().saturating_sub(1);
    let values: usize = s.fields.iter().map(|f| max_value_len(model, &f.ty)).sum();
    2 + keys + separators + values
}

fn max_value_len(model: &Model, ty: &FieldType) -> usize {
    let escaped_string = |bytes: usize| 2 + 6 * bytes;
    match ty {
        FieldType::String { max_bytes, .. } => escaped_string(*max_bytes),
        FieldType::Unsigned => u64::MAX.to_string().len(),
        FieldType::FreeObject { max_bytes } => *max_bytes,
        FieldType::Enum(name) => {
            let e = model.enum_named(name);
            let known = e
                .values
                .iter()
                .map(|v| escaped_string(v.wire.len()))
                .max()
                .unwrap_or(2);
            known.max(e.open.map_or(0, escaped_string))
        }
        FieldType::Array { item, max_items } => {
            let item = max_value_len(model, item);
            2 + max_items * item + max_items.saturating_sub(1)
        }
        FieldType::Struct(name) => max_encoded_len(model, model.struct_named(name)),
        other => unimplemented!("field type {other:?}: not rendered by this backend yet"),
    }
}

/// The constants of `pub mod contract`: x-constants, then the capacity of every string, object
/// and array field, named `<STRUCT>_<FIELD>_MAX_BYTES` / `_MAX_ITEMS` (`_ITEM_MAX_BYTES` for
/// the strings of an array).
fn constants(model: &Model) -> Vec<ConstView> {
    let mut out: Vec<ConstView> = model
        .constants
        .iter()
        .map(|c| ConstView {
            name: c.name.to_uppercase(),
            doc: rust_doc(&c.description, "    "),
            ty: "u64",
            value: c.value.to_string(),
        })
        .collect();
    for s in &model.structs {
        for f in &s.fields {
            let prefix = format!("{}_{}", upper_snake_case(&s.name), f.name.to_uppercase());
            let mut push = |suffix: &str, what: String, value: usize| {
                out.push(ConstView {
                    name: format!("{prefix}_{suffix}"),
                    doc: rust_doc(&what, "    "),
                    ty: "usize",
                    value: value.to_string(),
                })
            };
            match &f.ty {
                FieldType::String { max_bytes, .. } | FieldType::FreeObject { max_bytes } => push(
                    "MAX_BYTES",
                    format!(
                        "Capacity of `{}.{}` in bytes (x-max-bytes).",
                        s.name, f.name
                    ),
                    *max_bytes,
                ),
                FieldType::Array { item, max_items } => {
                    push(
                        "MAX_ITEMS",
                        format!("Most items of `{}.{}` (maxItems).", s.name, f.name),
                        *max_items,
                    );
                    if let FieldType::String { max_bytes, .. } = item.as_ref() {
                        push(
                            "ITEM_MAX_BYTES",
                            format!(
                                "Capacity of each item of `{}.{}` in bytes (x-max-bytes).",
                                s.name, f.name
                            ),
                            *max_bytes,
                        );
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The type of a settable field in `<Struct>Fields<'a>`.
fn fields_type(ty: &FieldType) -> String {
    match ty {
        FieldType::String { .. } | FieldType::FreeObject { .. } => "&'a str".to_string(),
        FieldType::Bool => "bool".to_string(),
        FieldType::Unsigned => "u64".to_string(),
        FieldType::Signed => "i64".to_string(),
        FieldType::Number => "f64".to_string(),
        FieldType::Enum(e) => e.clone(),
        FieldType::Struct(name) => format!("{name}Fields<'a>"),
        FieldType::Array { item, .. } => format!("&'a [{}]", fields_type(item)),
    }
}

/// The value of a settable field in `<Struct>Fields<'a>`'s `Default`: the schema default.
fn fields_default(field: &Field) -> String {
    if field.optional {
        return "None".to_string();
    }
    match (&field.default, &field.ty) {
        (Some(DefaultValue::String(text)), _) => rust_str(text),
        (_, FieldType::String { .. }) => "\"\"".to_string(),
        (_, FieldType::FreeObject { .. }) => "\"{}\"".to_string(),
        (Some(DefaultValue::Bool(b)), _) => b.to_string(),
        (Some(DefaultValue::Unsigned(n)), _) => n.to_string(),
        (Some(DefaultValue::Signed(n)), _) => n.to_string(),
        (Some(DefaultValue::Number(x)), _) => format!("{x:?}"),
        (_, FieldType::Bool) => "false".to_string(),
        (_, FieldType::Unsigned | FieldType::Signed) => "0".to_string(),
        (_, FieldType::Number) => "0.0".to_string(),
        (_, FieldType::Enum(e)) => format!("{e}::default()"),
        (_, FieldType::Struct(name)) => format!("{name}Fields::default()"),
        (_, FieldType::Array { .. }) => "&[]".to_string(),
    }
}

/// An expression converting `value` into the owned type at the place `at` (an `&At`
/// expression); `by_ref` when `value` is a reference to the fields type rather than a place.
fn owned_value(ty: &FieldType, value: &str, by_ref: bool, at: &str) -> String {
    match ty {
        FieldType::String { .. } => format!("copy_text({value}, {at})?"),
        FieldType::FreeObject { .. } => format!("copy_object({value}, {at})?"),
        FieldType::Bool | FieldType::Unsigned | FieldType::Signed | FieldType::Number => {
            if by_ref {
                format!("*{value}")
            } else {
                value.to_string()
            }
        }
        FieldType::Enum(_) => format!("{value}.clone()"),
        FieldType::Struct(name) => format!(
            "{{ let mut owned = {name}::default(); {value}.apply_to(&mut owned, {at})?; owned }}"
        ),
        FieldType::Array { item, .. } => format!(
            "{{ let at_array = {at}; let mut items = Vec::new(); \
             for (i, item) in {value}.iter().enumerate() {{ \
             let at_item = at_array.index(i); \
             items.push({}).map_err(|_| at_array.error(ErrorKind::OverCapacity, 0, \"more items than its capacity in this SDK\"))?; \
             }} items }}",
            owned_value(item, "item", true, "&at_item")
        ),
    }
}

fn fields_view(s: &Struct) -> FieldsView {
    let fields = s
        .fields
        .iter()
        .filter(|f| f.settable())
        .map(|field| {
            let name = &field.name;
            let at = format!("&at.key({})", rust_str(name));
            let apply = if field.optional {
                format!(
                    "out.{name} = match &self.{name} {{ Some(value) => Some({}), None => None }};",
                    owned_value(&field.ty, "value", true, &at)
                )
            } else {
                format!(
                    "out.{name} = {};",
                    owned_value(&field.ty, &format!("self.{name}"), false, &at)
                )
            };
            let ty = fields_type(&field.ty);
            SettableView {
                name: name.clone(),
                doc: rust_doc(&field.description, "    "),
                ty: if field.optional {
                    format!("Option<{ty}>")
                } else {
                    ty
                },
                default: fields_default(field),
                apply,
            }
        })
        .collect();
    FieldsView {
        name: format!("{}Fields", s.name),
        target: s.name.clone(),
        fields,
    }
}
