//! Renders the no_std SDK's message types and codec (`sdk-embedded/src/generated.rs`): heapless
//! structs with the schema's capacities, an allocation-free decoder and a canonical encoder.

use askama::Template;

use crate::backend::{RustEnumView, rust_doc, rust_str};
use crate::model::{
    DefaultValue, Field, FieldType, Limit, Model, Range, SchemaKind, StringFormat, Struct,
    pascal_case, upper_snake_case,
};

#[derive(Template)]
#[template(path = "rust_embedded.rs.jinja", escape = "none")]
struct File {
    preamble: String,
    /// The path of the JSON runtime module (`crate::json` here), for the enumerations.
    json_path: &'static str,
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
    /// Some field's copy can fail (and names its place).
    uses_at: bool,
    /// `<'a>` / `<'_>`, or nothing when no field borrows.
    lt: String,
    lt_anon: String,
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
    /// No `f64` inside: the structure derives `Eq` too.
    eq: bool,
    /// `<'a>` / `<'_>` for the view, or nothing when it borrows nothing.
    view_lt: String,
    view_lt_anon: String,
    /// Some field is optional (left out when absent): keys are written with `write_key`.
    dynamic_keys: bool,
    fields: Vec<FieldView>,
    /// The array fields, each read by a method of its own.
    arrays: Vec<ArrayView>,
    /// How many fields have aliases (each keeps a deferred error while decoding).
    deferred_slots: usize,
}

struct ArrayView {
    name: String,
    /// The owned item type and the view's.
    item: String,
    view_item: String,
    /// Expressions reading one item (`at_item` is its place).
    read_item: String,
    view_read_item: String,
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
    /// Statements that write the key and `self.<name>` with `w` (nothing for an absent
    /// optional field).
    write: String,
    /// The value of the field in `Default` (its schema default, or empty).
    default: String,
    /// A key without a default: decoding fails when it is missing.
    required: bool,
    /// For a field with aliases, its slot among the deferred alias errors.
    deferred_slot: Option<usize>,
}

struct SpellingView {
    /// The key as a Rust byte string literal (the decoder matches the key's bytes).
    literal: String,
    /// 0 for the key itself, then 1, 2, ... for its aliases in schema order.
    rank: usize,
}

/// Renders `sdk-embedded/src/generated.rs` (before rustfmt).
pub fn render(model: &Model) -> Result<String, askama::Error> {
    let key_capacity = key_capacity(model);
    let uses_default_text = uses_default_text(model);
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
        fields_structs: model
            .structs
            .iter()
            .map(|s| fields_view(model, s))
            .collect(),
        envelope_fields: format!("{}Fields", root.name),
        payload_fields,
        preamble: crate::preamble("//"),
        json_path: "crate::json",
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

/// The payload types of a user's payload schema, as the no_std file written into their
/// project: the envelope's structures and enumerations (the same partials), each `$defs`
/// object implementing `natsbridge_embedded::typed::TypedPayload`.
#[derive(Template)]
#[template(path = "rust_embedded_payloads.rs.jinja", escape = "none")]
struct PayloadsFile {
    preamble: String,
    schema_name: String,
    /// The schema's description, as `//` comment lines.
    summary: String,
    /// The path of the JSON runtime module, for the enumerations.
    json_path: &'static str,
    key_capacity: usize,
    uses_default_text: bool,
    structs: Vec<StructView>,
    /// Per structure (same order): the sender's checks and whether it is a payload type.
    payload_structs: Vec<PayloadStructView>,
    enums: Vec<RustEnumView>,
}

struct PayloadStructView {
    name: String,
    name_literal: String,
    /// A `$defs` object: it implements `TypedPayload`.
    payload_type: bool,
    /// The statements of `check`, each ending in `?;`.
    checks: Vec<String>,
}

/// Renders the no_std Rust file of a payload schema (before rustfmt): one heapless structure
/// per `$defs` object (and per inline object) implementing `natsbridge_embedded::Message`,
/// the `$defs` objects also `natsbridge_embedded::typed::TypedPayload`, one Rust enum per
/// string enumeration. It uses only `natsbridge_embedded`'s public API.
pub fn render_payloads(model: &Model, preamble: &str) -> Result<String, askama::Error> {
    assert_eq!(model.kind, SchemaKind::Payloads, "a payload schema's model");
    PayloadsFile {
        preamble: preamble.to_string(),
        schema_name: model.schema_name.clone(),
        summary: crate::backend::wrap(&model.description, 96, 96, "")
            .iter()
            .map(|line| format!("// {line}\n"))
            .collect(),
        json_path: "natsbridge_embedded::json",
        key_capacity: key_capacity(model),
        uses_default_text: uses_default_text(model),
        structs: model
            .structs
            .iter()
            .map(|s| struct_view(model, s))
            .collect(),
        payload_structs: model
            .structs
            .iter()
            .map(|s| PayloadStructView {
                name: s.name.clone(),
                name_literal: rust_str(&s.name),
                payload_type: s.in_defs,
                checks: s
                    .fields
                    .iter()
                    .filter_map(|f| {
                        let at = format!("&at.key({})", rust_str(&f.name));
                        if f.optional {
                            send_check(&f.ty, f.range.as_ref(), "value", true, &at)
                                .map(|c| format!("if let Some(value) = &self.{} {{ {c} }}", f.name))
                        } else {
                            send_check(
                                &f.ty,
                                f.range.as_ref(),
                                &format!("self.{}", f.name),
                                false,
                                &at,
                            )
                        }
                    })
                    .collect(),
            })
            .collect(),
        enums: model.enums.iter().map(RustEnumView::new).collect(),
    }
    .render()
}

/// The sender's check of `value` (a place of type `ty`, or a reference to one when `by_ref`)
/// at `at` (an `&At` expression): finite numbers, bounds, formats (`invalid_input`);
/// capacities hold by the heapless types, enumerations and booleans need none.
fn send_check(
    ty: &FieldType,
    range: Option<&Range>,
    value: &str,
    by_ref: bool,
    at: &str,
) -> Option<String> {
    let copy = if by_ref {
        format!("*{value}")
    } else {
        value.to_string()
    };
    let borrow = if by_ref {
        value.to_string()
    } else {
        format!("&{value}")
    };
    let min_max = |unsigned: bool| match (ty, range) {
        (FieldType::Number, r) => (
            number_limit(r.and_then(|r| r.minimum), "f64::NEG_INFINITY"),
            number_limit(r.and_then(|r| r.maximum), "f64::INFINITY"),
        ),
        (_, r) if unsigned => (
            unsigned_limit(r.and_then(|r| r.minimum), 0),
            unsigned_limit(r.and_then(|r| r.maximum), u64::MAX),
        ),
        (_, r) => (
            signed_limit(r.and_then(|r| r.minimum), i64::MIN),
            signed_limit(r.and_then(|r| r.maximum), i64::MAX),
        ),
    };
    match ty {
        FieldType::Number => {
            let (min, max) = min_max(false);
            Some(format!("check_number({copy}, {at}, {min}, {max})?;"))
        }
        FieldType::Unsigned if range.is_some() => {
            let (min, max) = min_max(true);
            Some(format!("check_unsigned({copy}, {at}, {min}, {max})?;"))
        }
        FieldType::Signed if range.is_some() => {
            let (min, max) = min_max(false);
            Some(format!("check_signed({copy}, {at}, {min}, {max})?;"))
        }
        // The encoder always writes a `const`.
        FieldType::String {
            format: Some(_),
            constant: None,
            ..
        } => Some(format!("check_string({borrow}, {at}, {})?;", text_rule(ty))),
        FieldType::Struct(_) => Some(format!("{value}.check({at})?;")),
        FieldType::Array { item, .. } => send_check(item, range, "item", true, "&at_list.index(i)")
            .map(|c| {
                format!("let at_list = {at}; for (i, item) in {value}.iter().enumerate() {{ {c} }}")
            }),
        _ => None,
    }
}

/// The longest key or alias of the schema: longer keys are unknown and skipped.
fn key_capacity(model: &Model) -> usize {
    model
        .structs
        .iter()
        .flat_map(|s| &s.fields)
        .flat_map(|f| std::iter::once(&f.name).chain(&f.aliases))
        .map(String::len)
        .max()
        .unwrap_or(1)
}

/// Whether some structure has a non-empty string default (then `default_text` is generated).
fn uses_default_text(model: &Model) -> bool {
    model.structs.iter().flat_map(|s| &s.fields).any(|f| {
        matches!(&f.default, Some(DefaultValue::String(s)) if !s.is_empty())
            || matches!(&f.ty, FieldType::String { constant: Some(c), .. } if !c.is_empty())
    })
}

fn struct_view(model: &Model, s: &Struct) -> StructView {
    let mut arrays = Vec::new();
    let mut aliased = 0;
    let dynamic_keys = s.fields.iter().any(|f| f.optional);
    let fields = s
        .fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let name = &field.name;
            let at = format!("at.key({})", rust_str(name));
            let rust_type = owned_type(&field.ty);
            let view_type = view_type(model, &field.ty);
            let (read, view_read) = match &field.ty {
                // Read in place: free-form objects, structures and arrays are large.
                FieldType::FreeObject { .. } if !field.optional => (
                    format!("self.{name}.read(reader).map_err(|e| {at}.json_error(e))"),
                    format!("reader.raw_object().map(|value| self.{name} = value).map_err(|e| {at}.json_error(e))"),
                ),
                FieldType::String {
                    format: None,
                    constant: None,
                    ..
                } if !field.optional => (
                    format!("reader.string_into(&mut self.{name}).map_err(|e| {at}.json_error(e))"),
                    format!("reader.raw_string().map(|value| self.{name} = value).map_err(|e| {at}.json_error(e))"),
                ),
                FieldType::Struct(_) if !field.optional => (
                    format!("self.{name}.decode_from(reader, &{at})"),
                    format!("self.{name}.decode_from(reader, &{at})"),
                ),
                FieldType::Array { item, max_items } => {
                    arrays.push(ArrayView {
                        name: name.clone(),
                        item: owned_type(item),
                        view_item: view_type_of(model, item),
                        read_item: read_ranged(item, field.range.as_ref(), false, "at_item"),
                        view_read_item: read_ranged(item, field.range.as_ref(), true, "at_item"),
                        max_items: *max_items,
                    });
                    if field.optional {
                        (
                            format!("if reader.null().map_err(|e| {at}.json_error(e))? {{ self.{name} = None; Ok(()) }} else {{ Self::read_{name}(self.{name}.insert(Vec::new()), reader, &{at}) }}"),
                            format!("if reader.null().map_err(|e| {at}.json_error(e))? {{ self.{name} = None; Ok(()) }} else {{ Self::read_{name}(self.{name}.insert(Vec::new()), reader, &{at}) }}"),
                        )
                    } else {
                        (
                            format!("Self::read_{name}(&mut self.{name}, reader, &{at})"),
                            format!("Self::read_{name}(&mut self.{name}, reader, &{at})"),
                        )
                    }
                }
                ty if field.optional => (
                    format!(
                        "read_optional(reader, &{at}, |reader| {}).map(|value| self.{name} = value)",
                        read_ranged(ty, field.range.as_ref(), false, at.as_str())
                    ),
                    format!(
                        "read_optional(reader, &{at}, |reader| {}).map(|value| self.{name} = value)",
                        read_ranged(ty, field.range.as_ref(), true, at.as_str())
                    ),
                ),
                ty => (
                    format!(
                        "{}.map(|value| self.{name} = value)",
                        read_ranged(ty, field.range.as_ref(), false, at.as_str())
                    ),
                    format!(
                        "{}.map(|value| self.{name} = value)",
                        read_ranged(ty, field.range.as_ref(), true, at.as_str())
                    ),
                ),
            };
            let key_text = rust_str(&format!("\"{name}\":"));
            let write = if field.optional {
                format!(
                    "if let Some(value) = &self.{name} {{ write_key(w, &mut first, {key_text})?; {} }}",
                    write_value(&field.ty, "value", true)
                )
            } else {
                let value = match &field.ty {
                    // Senders always write the value the schema fixes.
                    FieldType::String {
                        constant: Some(c), ..
                    } => format!("w.string({})?;", rust_str(c)),
                    ty => write_value(ty, &format!("self.{name}"), false),
                };
                if dynamic_keys {
                    format!("write_key(w, &mut first, {key_text})?; {value}")
                } else {
                    let separator = if i == 0 { "{" } else { "," };
                    format!(
                        "w.raw({})?; {value}",
                        rust_str(&format!("{separator}\"{name}\":"))
                    )
                }
            };
            let deferred_slot = (!field.aliases.is_empty()).then(|| {
                aliased += 1;
                aliased - 1
            });
            let default = owned_default(field);
            let view_default = match (&field.default, &field.ty) {
                _ if field.optional => "None".to_string(),
                (
                    _,
                    FieldType::String {
                        constant: Some(text),
                        ..
                    },
                )
                | (Some(DefaultValue::String(text)), _)
                    if !text.is_empty() =>
                {
                    format!(
                        "JsonStr::from_raw({})",
                        rust_str(&json_string_content(text))
                    )
                }
                (_, FieldType::String { .. }) => "JsonStr::default()".to_string(),
                (_, FieldType::FreeObject { .. }) => "JsonObjectView::default()".to_string(),
                (_, FieldType::Struct(n)) => format!("{n}View::default()"),
                _ => default.clone(),
            };
            let spellings = std::iter::once(name)
                .chain(&field.aliases)
                .enumerate()
                .map(|(rank, key)| SpellingView {
                    literal: rust_bytes(key),
                    rank,
                })
                .collect();
            FieldView {
                name: name.clone(),
                doc: rust_doc(&field.description, "    "),
                view_type: if field.optional {
                    format!("Option<{view_type}>")
                } else {
                    view_type
                },
                view_read,
                view_default,
                rust_type: if field.optional {
                    format!("Option<{rust_type}>")
                } else {
                    rust_type
                },
                index: i,
                spellings,
                read,
                write,
                default,
                required: field.default.is_none() && !field.optional,
                deferred_slot,
            }
        })
        .collect();
    StructView {
        name: s.name.clone(),
        doc: rust_doc(&s.description, ""),
        max_encoded_len: max_encoded_len(model, s),
        eq: !has_number(model, s),
        view_lt: lifetime(view_borrows(model, s)).to_string(),
        view_lt_anon: if view_borrows(model, s) { "<'_>" } else { "" }.to_string(),
        dynamic_keys,
        fields,
        arrays,
        deferred_slots: aliased,
    }
}

/// Whether `s` holds an `f64` anywhere (then it is `PartialEq` but not `Eq`).
fn has_number(model: &Model, s: &Struct) -> bool {
    fn in_type(model: &Model, ty: &FieldType) -> bool {
        match ty {
            FieldType::Number => true,
            FieldType::Struct(name) => has_number(model, model.struct_named(name)),
            FieldType::Array { item, .. } => in_type(model, item),
            _ => false,
        }
    }
    s.fields.iter().any(|f| in_type(model, &f.ty))
}

/// The owned (heapless) Rust type of a value of `ty`.
fn owned_type(ty: &FieldType) -> String {
    match ty {
        FieldType::String { max_bytes, .. } => format!("String<{max_bytes}>"),
        FieldType::Bool => "bool".to_string(),
        FieldType::Unsigned => "u64".to_string(),
        FieldType::Signed => "i64".to_string(),
        FieldType::Number => "f64".to_string(),
        FieldType::FreeObject { max_bytes } => format!("JsonObject<{max_bytes}>"),
        FieldType::Enum(e) => e.clone(),
        FieldType::Struct(name) => name.clone(),
        FieldType::Array { item, max_items } => format!("Vec<{}, {max_items}>", owned_type(item)),
    }
}

/// The type of a value of `ty` in a borrowed view.
fn view_type(model: &Model, ty: &FieldType) -> String {
    match ty {
        FieldType::Array { item, max_items } => {
            format!("Vec<{}, {max_items}>", view_type_of(model, item))
        }
        other => view_type_of(model, other),
    }
}

fn view_type_of(model: &Model, ty: &FieldType) -> String {
    match ty {
        FieldType::String { .. } => "JsonStr<'a>".to_string(),
        FieldType::FreeObject { .. } => "JsonObjectView<'a>".to_string(),
        FieldType::Struct(name) => format!(
            "{name}View{}",
            lifetime(view_borrows(model, model.struct_named(name)))
        ),
        FieldType::Array { .. } => view_type(model, ty),
        other => owned_type(other),
    }
}

/// The `Rule` a received string of `ty` must follow.
fn text_rule(ty: &FieldType) -> String {
    match ty {
        FieldType::String {
            constant: Some(c), ..
        } => format!("Rule::Const({})", rust_str(c)),
        FieldType::String {
            format: Some(StringFormat::Uuid),
            ..
        } => "Rule::Uuid".to_string(),
        FieldType::String {
            format: Some(StringFormat::DateTime),
            ..
        } => "Rule::DateTime".to_string(),
        _ => "Rule::Any".to_string(),
    }
}

/// [`read_value`] for a field whose value (each item, for an array) has the bounds `range`
/// (payload schemas only): a value outside them is `bad_value`.
fn read_ranged(ty: &FieldType, range: Option<&Range>, view: bool, at: &str) -> String {
    let Some(range) = range else {
        return read_value(ty, view, at);
    };
    match ty {
        FieldType::Unsigned => format!(
            "read_unsigned_in(reader, &{at}, {}, {})",
            unsigned_limit(range.minimum, 0),
            unsigned_limit(range.maximum, u64::MAX)
        ),
        FieldType::Signed => format!(
            "read_signed_in(reader, &{at}, {}, {})",
            signed_limit(range.minimum, i64::MIN),
            signed_limit(range.maximum, i64::MAX)
        ),
        FieldType::Number => format!(
            "read_number_in(reader, &{at}, {}, {})",
            number_limit(range.minimum, "f64::NEG_INFINITY"),
            number_limit(range.maximum, "f64::INFINITY")
        ),
        other => read_value(other, view, at),
    }
}

/// A bound of a `u64` field as a Rust literal (`absent` when the schema gives none).
fn unsigned_limit(limit: Option<Limit>, absent: u64) -> String {
    let value = match limit {
        Some(Limit::Integer(n)) => u64::try_from(n.max(0)).unwrap_or(u64::MAX),
        Some(Limit::Number(x)) => x as u64,
        None => absent,
    };
    match value {
        u64::MAX => "u64::MAX".to_string(),
        n => n.to_string(),
    }
}

/// A bound of an `i64` field as a Rust literal (`absent` when the schema gives none).
fn signed_limit(limit: Option<Limit>, absent: i64) -> String {
    let value = match limit {
        Some(Limit::Integer(n)) => {
            i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
        }
        Some(Limit::Number(x)) => x as i64,
        None => absent,
    };
    match value {
        i64::MIN => "i64::MIN".to_string(),
        i64::MAX => "i64::MAX".to_string(),
        n => n.to_string(),
    }
}

/// A bound of an `f64` field as a Rust literal (`absent` when the schema gives none).
fn number_limit(limit: Option<Limit>, absent: &str) -> String {
    match limit {
        Some(Limit::Integer(n)) => format!("{:?}", n as f64),
        Some(Limit::Number(x)) => format!("{x:?}"),
        None => absent.to_string(),
    }
}

/// An expression of type `Result<T, DecodeError>` reading a value of `ty` at `reader`, its
/// place `at` (an `&At` expression); `view` for the borrowed view's type.
fn read_value(ty: &FieldType, view: bool, at: &str) -> String {
    match ty {
        FieldType::String { .. } if view => {
            format!("read_text_view(reader, &{at}, {})", text_rule(ty))
        }
        FieldType::String { .. } => format!("read_text(reader, &{at}, {})", text_rule(ty)),
        FieldType::Bool => format!("read_bool(reader, &{at})"),
        FieldType::Unsigned => format!("reader.unsigned().map_err(|e| {at}.json_error(e))"),
        FieldType::Signed => format!("read_signed(reader, &{at})"),
        FieldType::Number => format!("read_number(reader, &{at})"),
        FieldType::FreeObject { .. } if view => {
            format!("reader.raw_object().map_err(|e| {at}.json_error(e))")
        }
        FieldType::FreeObject { .. } => format!("read_object(reader, &{at})"),
        FieldType::Enum(e) => format!("{e}::read(reader, &{at})"),
        FieldType::Struct(_) if view => format!("read_view(reader, &{at})"),
        FieldType::Struct(_) => format!("read_message(reader, &{at})"),
        // The reader refuses arrays of arrays.
        FieldType::Array { .. } => format!(
            "Err({at}.error(ErrorKind::WrongType, reader.offset(), \"arrays of arrays are not part of the schema\"))"
        ),
    }
}

/// Statements writing the value `value` of `ty` with `w`; `by_ref` when `value` is a
/// reference, otherwise a place (`self.name`).
fn write_value(ty: &FieldType, value: &str, by_ref: bool) -> String {
    let copy = |v: &str| {
        if by_ref {
            format!("*{v}")
        } else {
            v.to_string()
        }
    };
    let borrow = |v: &str| {
        if by_ref {
            v.to_string()
        } else {
            format!("&{v}")
        }
    };
    match ty {
        FieldType::String { .. } => format!("w.string({})?;", borrow(value)),
        FieldType::Bool => format!("w.boolean({})?;", copy(value)),
        FieldType::Unsigned => format!("w.unsigned({})?;", copy(value)),
        FieldType::Signed => format!("w.signed({})?;", copy(value)),
        FieldType::Number => format!("w.number({})?;", copy(value)),
        FieldType::FreeObject { .. } => format!("w.raw({value}.as_str())?;"),
        FieldType::Enum(_) => format!("w.string({value}.as_str())?;"),
        FieldType::Struct(_) => format!("{value}.encode_into(w)?;"),
        FieldType::Array { item, .. } => format!(
            "w.raw(\"[\")?;
            for (i, item) in {value}.iter().enumerate() {{
                if i > 0 {{
                    w.raw(\",\")?;
                }}
                {}
            }}
            w.raw(\"]\")?;",
            write_value(item, "item", true)
        ),
    }
}

/// The value of a field in its owned structure's `Default`.
fn owned_default(field: &Field) -> String {
    if field.optional {
        return "None".to_string();
    }
    match (&field.default, &field.ty) {
        (
            _,
            FieldType::String {
                constant: Some(text),
                ..
            },
        )
        | (Some(DefaultValue::String(text)), _)
            if !text.is_empty() =>
        {
            format!("default_text({})", rust_str(text))
        }
        (_, FieldType::String { .. }) => "String::new()".to_string(),
        (Some(DefaultValue::Bool(b)), _) => b.to_string(),
        (Some(DefaultValue::Unsigned(n)), _) => n.to_string(),
        (Some(DefaultValue::Signed(n)), _) => n.to_string(),
        (Some(DefaultValue::Number(x)), _) => format!("{x:?}"),
        (_, FieldType::Bool) => "false".to_string(),
        (_, FieldType::Unsigned | FieldType::Signed) => "0".to_string(),
        (_, FieldType::Number) => "0.0".to_string(),
        (_, FieldType::FreeObject { .. }) => "JsonObject::empty()".to_string(),
        (_, FieldType::Enum(e)) => format!("{e}::default()"),
        (_, FieldType::Struct(name)) => format!("{name}::default()"),
        (_, FieldType::Array { .. }) => "Vec::new()".to_string(),
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
/// escaped as `\u00XX` (six bytes), every array full, every optional present, every integer
/// and number at its longest text.
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
        FieldType::Bool => "false".len(),
        FieldType::Signed => i64::MIN.to_string().len(),
        // `-1.2345678901234567e-308`: schema/WIRE.md section 9.
        FieldType::Number => 24,
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
fn fields_type(model: &Model, ty: &FieldType) -> String {
    match ty {
        FieldType::String { .. } | FieldType::FreeObject { .. } => "&'a str".to_string(),
        FieldType::Bool => "bool".to_string(),
        FieldType::Unsigned => "u64".to_string(),
        FieldType::Signed => "i64".to_string(),
        FieldType::Number => "f64".to_string(),
        FieldType::Enum(e) => e.clone(),
        FieldType::Struct(name) => format!(
            "{name}Fields{}",
            lifetime(fields_borrow(model, model.struct_named(name)))
        ),
        FieldType::Array { item, .. } => format!("&'a [{}]", fields_type(model, item)),
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

fn fields_view(model: &Model, s: &Struct) -> FieldsView {
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
            } else if let FieldType::String { .. } = field.ty {
                // In place, one copy of the code for every capacity.
                format!("set_text(out.{name}.as_mut_view(), self.{name}, {at})?;")
            } else {
                format!(
                    "out.{name} = {};",
                    owned_value(&field.ty, &format!("self.{name}"), false, &at)
                )
            };
            let ty = fields_type(model, &field.ty);
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
    let uses_at = s.fields.iter().filter(|f| f.settable()).any(|f| {
        !matches!(
            f.ty,
            FieldType::Bool
                | FieldType::Unsigned
                | FieldType::Signed
                | FieldType::Number
                | FieldType::Enum(_)
        )
    });
    let borrows = fields_borrow(model, s);
    FieldsView {
        uses_at,
        lt: lifetime(borrows).to_string(),
        lt_anon: if borrows { "<'_>" } else { "" }.to_string(),
        name: format!("{}Fields", s.name),
        target: s.name.clone(),
        fields,
    }
}

/// Whether the borrowed view of `s` holds a borrow (then it is `...View<'a>`).
fn view_borrows(model: &Model, s: &Struct) -> bool {
    fn in_type(model: &Model, ty: &FieldType) -> bool {
        match ty {
            FieldType::String { .. } | FieldType::FreeObject { .. } => true,
            FieldType::Struct(name) => view_borrows(model, model.struct_named(name)),
            FieldType::Array { item, .. } => in_type(model, item),
            _ => false,
        }
    }
    s.fields.iter().any(|f| in_type(model, &f.ty))
}

/// Whether `<Struct>Fields` of `s` holds a borrow (then it is `...Fields<'a>`).
fn fields_borrow(model: &Model, s: &Struct) -> bool {
    s.fields
        .iter()
        .filter(|f| f.settable())
        .any(|f| match &f.ty {
            FieldType::String { .. } | FieldType::FreeObject { .. } | FieldType::Array { .. } => {
                true
            }
            FieldType::Struct(name) => fields_borrow(model, model.struct_named(name)),
            _ => false,
        })
}

/// `<'a>` when `borrows`, else nothing.
fn lifetime(borrows: bool) -> &'static str {
    if borrows { "<'a>" } else { "" }
}

/// `text`'s UTF-8 bytes as a Rust byte string literal (`b"name"`): printable ASCII as it is,
/// `"` and `\` escaped, any other byte as `\xNN`.
fn rust_bytes(text: &str) -> String {
    let mut out = String::from("b\"");
    for &b in text.as_bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_literals_escape_what_a_byte_string_cannot_hold() {
        assert_eq!(super::rust_bytes("wifi_ssid"), r#"b"wifi_ssid""#);
        assert_eq!(super::rust_bytes("a\"b\\c"), r#"b"a\"b\\c""#);
        assert_eq!(super::rust_bytes("é\n"), r#"b"\xc3\xa9\x0a""#);
    }
}
