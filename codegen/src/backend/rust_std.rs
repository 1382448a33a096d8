//! Renders the std Rust SDK's generated file (`sdk-rust/src/generated.rs`): serde structs with
//! the schema's wire names and one decoder per structure (aliases, defaults, formats, const,
//! integer ranges) that names the path at fault; the send surface (`EnvelopeFields`,
//! `PayloadFields`, one `SendOptions` setter and one `Payload::with_<field>` per settable
//! field); the `contract` constants and the `ErrorKind` enumeration.

use askama::Template;

use crate::backend::{RustEnumView, rust_doc, rust_str};
use crate::model::{
    DefaultValue, Field, FieldType, Limit, Model, Range, SchemaKind, SenderFill, StringFormat,
    Struct, pascal_case, upper_snake_case,
};

#[derive(Template)]
#[template(path = "rust_std.rs.jinja", escape = "none")]
struct File {
    preamble: String,
    schema_name: String,
    structs: Vec<StructView>,
    enums: Vec<RustEnumView>,
    constants: Vec<ConstantView>,
    error_kinds: Vec<ErrorKindView>,
    /// The generated fields structs of the send API: `EnvelopeFields`, `PayloadFields`.
    senders: Vec<SenderView>,
}

struct ConstantView {
    name: String,
    doc: String,
    value: String,
}

struct ErrorKindView {
    variant: String,
    wire: String,
    doc: String,
}

struct StructView {
    name: String,
    /// The name as a Rust string literal (a payload type's `TYPE_NAME`).
    name_literal: String,
    /// A `$defs` entry of a payload schema: it implements `natsbridge::typed::TypedPayload`.
    payload_type: bool,
    doc: String,
    fields: Vec<FieldView>,
    /// The body of `impl Default`, when every field has a default or is optional.
    default: Option<String>,
    /// The statements of `check` (send-side checks: formats, finite numbers), may be empty.
    checks: Vec<String>,
    /// One arm per key of every field (names, then aliases, field by field): the positions
    /// the payload types' streaming decoder matches.
    stream_arms: Vec<StreamArm>,
}

/// A key of the streaming decoder (`wire::stream`): which slot of which field it fills.
struct StreamArm {
    /// The key as a Rust string literal.
    key: String,
    /// The field's slot array (`slot_name`).
    slots: String,
    /// The position of the key among the field's keys.
    slot: usize,
    /// The field's name as a Rust string literal (errors are at the name, whatever the key).
    name_literal: String,
    /// The `wire::stream::Read` of the field.
    reader: String,
}

struct FieldView {
    name: String,
    doc: String,
    /// `#[serde(...)]` attributes, each on its own line.
    attrs: String,
    rust_type: String,
    /// Every key that may hold the field, canonical first, as a Rust slice literal.
    keys: String,
    /// The associated const holding `keys` (`DATA_KEYS`), for code that reads the JSON itself.
    keys_const: String,
    /// Not required and without a default: `Option<T>`, `null` reads as absent.
    optional: bool,
    /// Turns `value: serde_json::Value` into the field's type, with `?`.
    convert: String,
    /// The field's value when the key is missing (an expression, or a `return Err(..)`).
    missing: String,
    /// The streaming decoder's slot array of the field (`slot_name`), and its initial value
    /// (one `None` per key).
    slots: String,
    slots_init: String,
}

/// `EnvelopeFields` or `PayloadFields`: what a sender may set of one structure.
struct SenderView {
    /// `EnvelopeFields`.
    name: String,
    /// `MessageEnvelope`.
    message: String,
    /// `SendOptions` or `Payload`: the hand-written builder that stores the fields.
    builder: String,
    /// The name of the fills parameter (`_fills` when no field is filled).
    fills: String,
    /// The fields the struct holds.
    fields: Vec<SenderFieldView>,
    /// The parameters of `into_message`: the fields a sender always computes or that have no
    /// default (`payloads: Vec<MessagePayload>`), in declaration order.
    params: Vec<(String, String)>,
    /// `name: expression` lines building the message.
    build: Vec<String>,
    /// The envelope's send surface: it has `fill_reply`, whose statements are `reply`.
    replies: bool,
    /// One statement per `x-reply-fills` field, reading the request `asked`.
    reply: Vec<String>,
}

struct SenderFieldView {
    name: String,
    doc: String,
    /// The type stored: `Option<String>` for fills and optional fields.
    stored: String,
    /// The default stored.
    default: String,
    /// The setter's parameter list and the statement storing it.
    setters: Vec<SetterView>,
    /// The statement of `set` storing `value: serde_json::Value` at `at`, with `?`.
    set_from_json: String,
    /// The schema's description as a Rust string literal (for `FIELDS`).
    description: String,
    /// The JSON type `set` takes: `string`, `object`, `integer`, ...
    json_type: &'static str,
}

struct SetterView {
    name: String,
    doc: String,
    params: String,
    body: String,
}

/// The payload types of a user's payload schema, as the std file written into their project.
#[derive(Template)]
#[template(path = "rust_std_payloads.rs.jinja", escape = "none")]
struct PayloadsFile {
    preamble: String,
    schema_name: String,
    /// The schema's description, as `//` comment lines.
    summary: String,
    structs: Vec<StructView>,
    enums: Vec<RustEnumView>,
}

/// Renders the std Rust file of a payload schema (before rustfmt): one serde type per `$defs`
/// entry (and per inline object), the `$defs` objects implementing
/// `natsbridge::typed::TypedPayload`. It uses only `natsbridge`'s public API.
pub fn render_payloads(model: &Model, preamble: &str) -> Result<String, askama::Error> {
    assert_eq!(model.kind, SchemaKind::Payloads, "a payload schema's model");
    PayloadsFile {
        preamble: preamble.to_string(),
        schema_name: model.schema_name.clone(),
        summary: crate::backend::wrap(&model.description, 96, 96, "")
            .iter()
            .map(|line| format!("// {line}\n"))
            .collect(),
        structs: model
            .structs
            .iter()
            .map(|s| struct_view(model, s))
            .collect(),
        enums: model.enums.iter().map(RustEnumView::new).collect(),
    }
    .render()
}

/// Renders `sdk-rust/src/generated.rs` (before rustfmt).
pub fn render(model: &Model) -> Result<String, askama::Error> {
    let root = model.root();
    let mut senders = vec![sender_view(root, "EnvelopeFields", "SendOptions", "")];
    if let Some(item) = root.field("payloads").and_then(|f| f.ty.struct_item()) {
        senders.push(sender_view(
            model.struct_named(item),
            "PayloadFields",
            "Payload",
            "with_",
        ));
    }
    File {
        preamble: crate::preamble("//"),
        schema_name: model.schema_name.clone(),
        structs: model
            .structs
            .iter()
            .map(|s| struct_view(model, s))
            .collect(),
        enums: model.enums.iter().map(RustEnumView::new).collect(),
        constants: model
            .constants
            .iter()
            .map(|c| ConstantView {
                name: upper_snake_case(&pascal_case(&c.name)),
                doc: rust_doc(&c.description, "    "),
                value: rust_integer(c.value),
            })
            .collect(),
        error_kinds: model
            .error_kinds
            .iter()
            .map(|k| ErrorKindView {
                variant: pascal_case(&k.name),
                wire: rust_str(&k.name),
                doc: rust_doc(&k.description, "    "),
            })
            .collect(),
        senders,
    }
    .render()
}

/// `1000000` as `1_000_000`.
fn rust_integer(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// The Rust type of a value of `ty`.
fn rust_type(ty: &FieldType) -> String {
    match ty {
        FieldType::String { .. } => "String".to_string(),
        FieldType::Bool => "bool".to_string(),
        FieldType::Unsigned => "u64".to_string(),
        FieldType::Signed => "i64".to_string(),
        FieldType::Number => "f64".to_string(),
        FieldType::FreeObject { .. } => "serde_json::Map<String, serde_json::Value>".to_string(),
        FieldType::Enum(name) | FieldType::Struct(name) => name.clone(),
        FieldType::Array { item, .. } => format!("Vec<{}>", rust_type(item)),
    }
}

/// The `wire::Format` of a string format.
fn format_path(format: StringFormat) -> &'static str {
    match format {
        StringFormat::Uuid => "wire::Format::Uuid",
        StringFormat::DateTime => "wire::Format::DateTime",
    }
}

/// The call decoding `value` at `at` (an expression of type `&At`) into a value of `ty`.
fn call(ty: &FieldType, at: &str) -> String {
    match ty {
        FieldType::String {
            constant: Some(text),
            ..
        } => format!("wire::constant(value, {at}, {})", rust_str(text)),
        FieldType::String {
            format: Some(format),
            ..
        } => format!("wire::formatted(value, {at}, {})", format_path(*format)),
        FieldType::String { .. } => format!("wire::string(value, {at})"),
        FieldType::Bool => format!("wire::boolean(value, {at})"),
        FieldType::Unsigned => format!("wire::unsigned(value, {at})"),
        FieldType::Signed => format!("wire::signed(value, {at})"),
        FieldType::Number => format!("wire::number(value, {at})"),
        FieldType::FreeObject { .. } => format!("wire::object(value, {at})"),
        FieldType::Enum(e) => {
            format!("wire::enumeration(value, {at}, {e}::EXPECTED, {e}::parse)")
        }
        FieldType::Struct(name) => format!("{name}::from_value(value, {at})"),
        FieldType::Array { item, .. } => format!("wire::array(value, {at}, {})", decoder(item)),
    }
}

/// A function turning `(Value, &At)` into a value of `ty`: a path where one fits, else a
/// closure.
fn decoder(ty: &FieldType) -> String {
    let call = call(ty, "at");
    match call.strip_suffix("(value, at)") {
        Some(path) => path.to_string(),
        None => format!("|value, at: &At<'_>| {call}"),
    }
}

/// The `wire::stream::Read` of a value of `ty` (payload types' streaming decoder): the value
/// path's function for scalars, a parse in place for enumerations, key by key for objects.
fn reader(ty: &FieldType) -> String {
    match ty {
        FieldType::Enum(e) => {
            format!("wire::stream::Enum {{ expected: {e}::EXPECTED, parse: {e}::parse }}")
        }
        FieldType::Struct(name) => format!("wire::stream::Nested::<{name}>::new()"),
        FieldType::Array { item, .. } => format!("wire::stream::List({})", reader(item)),
        FieldType::String {
            constant: None,
            format: None,
            ..
        } => "wire::stream::Text".to_string(),
        FieldType::Bool => "wire::stream::Boolean".to_string(),
        FieldType::Unsigned => "wire::stream::Unsigned".to_string(),
        FieldType::Signed => "wire::stream::Signed".to_string(),
        FieldType::Number => "wire::stream::Double".to_string(),
        other => format!("wire::stream::Leaf({})", decoder(other)),
    }
}

/// The expression decoding `value` at `at` into a value of `ty`, with `?`.
fn convert(ty: &FieldType, at: &str) -> String {
    format!("{}?", call(ty, at))
}

/// A Rust expression of a default value of a field of type `ty`.
fn default_expr(default: &DefaultValue, ty: &FieldType) -> String {
    match default {
        DefaultValue::String(text) if text.is_empty() => "String::new()".to_string(),
        DefaultValue::String(text) => format!("{}.to_string()", rust_str(text)),
        DefaultValue::EmptyObject => "serde_json::Map::new()".to_string(),
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::Unsigned(n) => rust_integer(*n),
        DefaultValue::Signed(n) if *n < 0 => format!("-{}", rust_integer(n.unsigned_abs())),
        DefaultValue::Signed(n) => rust_integer(n.unsigned_abs()),
        DefaultValue::Number(x) => format!("{x:?}_f64"),
        DefaultValue::EmptyArray => "Vec::new()".to_string(),
        DefaultValue::StructDefaults => format!("{}::default()", rust_type(ty)),
    }
}

/// The value a receiver (and `Default`) gives a field whose key is missing, when it has one.
fn absent_value(field: &Field) -> Option<String> {
    if field.optional {
        return Some("None".to_string());
    }
    field.default.as_ref().map(|d| default_expr(d, &field.ty))
}

fn struct_view(model: &Model, s: &Struct) -> StructView {
    let fields = s
        .fields
        .iter()
        .map(|field| {
            let name = field.name.clone();
            let at = format!("&at.key({})", rust_str(&name));
            let mut attrs = String::new();
            if field.optional {
                attrs.push_str("    #[serde(skip_serializing_if = \"Option::is_none\")]\n");
            }
            if matches!(field.ty, FieldType::FreeObject { .. }) {
                let with = if field.optional {
                    "crate::wire::sorted_optional_object"
                } else {
                    "crate::wire::sorted_object"
                };
                attrs.push_str(&format!("    #[serde(serialize_with = \"{with}\")]\n"));
            }
            let rust_type = if field.optional {
                format!("Option<{}>", rust_type(&field.ty))
            } else {
                rust_type(&field.ty)
            };
            let missing =
                absent_value(field).unwrap_or_else(|| format!("return Err(wire::missing({at}))"));
            let keys = std::iter::once(&field.name)
                .chain(&field.aliases)
                .map(|k| rust_str(k))
                .collect::<Vec<_>>()
                .join(", ");
            FieldView {
                doc: rust_doc(&field.description, "    "),
                attrs,
                rust_type,
                keys: format!("&[{keys}]"),
                keys_const: format!(
                    "{}_KEYS",
                    field
                        .name
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() {
                            c.to_ascii_uppercase()
                        } else {
                            '_'
                        })
                        .collect::<String>()
                ),
                optional: field.optional,
                convert: convert(&field.ty, &at),
                missing,
                slots: format!("slot_{name}"),
                slots_init: format!("[{}]", vec!["None"; 1 + field.aliases.len()].join(", ")),
                name,
            }
        })
        .collect();
    let default = s
        .fields
        .iter()
        .map(|f| absent_value(f).map(|value| format!("{}: {value},", f.name)))
        .collect::<Option<Vec<_>>>()
        .map(|lines| lines.join("\n"));
    let checks = s
        .fields
        .iter()
        .filter_map(|f| {
            let at = format!("&at.key({})", rust_str(&f.name));
            let name = &f.name;
            let check = |value: &str| match model.kind {
                SchemaKind::Envelope => check(model, &f.ty, value, &at),
                SchemaKind::Payloads => payload_check(&f.ty, f.range.as_ref(), value, &at),
            };
            if f.optional {
                check("value").map(|c| format!("if let Some(value) = &self.{name} {{ {c} }}"))
            } else {
                check(&format!("&self.{name}"))
            }
        })
        .collect();
    let mut stream_arms = Vec::new();
    for field in &s.fields {
        let read = if field.optional {
            format!("wire::stream::Optional({})", reader(&field.ty))
        } else {
            reader(&field.ty)
        };
        for (slot, key) in std::iter::once(&field.name)
            .chain(&field.aliases)
            .enumerate()
        {
            // A key listed twice is read at its first place, as `wire::take` finds it.
            if stream_arms
                .iter()
                .any(|arm: &StreamArm| arm.key == rust_str(key))
            {
                continue;
            }
            stream_arms.push(StreamArm {
                key: rust_str(key),
                slots: format!("slot_{}", field.name),
                slot,
                name_literal: rust_str(&field.name),
                reader: read.clone(),
            });
        }
    }
    StructView {
        stream_arms,
        name: s.name.clone(),
        name_literal: rust_str(&s.name),
        payload_type: model.kind == SchemaKind::Payloads && s.in_defs,
        doc: rust_doc(&s.description, ""),
        fields,
        default,
        checks,
    }
}

/// The send-side check of `value` (an expression of type `&T`) at `at`, if `ty` needs one.
fn check(model: &Model, ty: &FieldType, value: &str, at: &str) -> Option<String> {
    match ty {
        FieldType::String {
            format: Some(format),
            constant: None,
            ..
        } => Some(format!(
            "wire::check_format({value}, {at}, {})?;",
            format_path(*format)
        )),
        FieldType::Number => Some(format!("wire::check_finite({value}, {at})?;")),
        FieldType::Struct(name) if needs_check(model, name) => {
            Some(format!("{value}.check({at})?;"))
        }
        FieldType::Array { item, .. } => check(model, item, "item", "&list.index(i)").map(|c| {
            format!(
                "let list = {at}; for (i, item) in {}.iter().enumerate() {{ {c} }}",
                value.trim_start_matches('&')
            )
        }),
        _ => None,
    }
}

/// The check of a payload type's value (an expression of type `&T`) at `at`: everything a
/// receiver checks that a Rust value can break (capacities, bounds, formats, `const`, finite
/// numbers), with a receiver's error kinds (`over_capacity`, `bad_value`).
fn payload_check(ty: &FieldType, range: Option<&Range>, value: &str, at: &str) -> Option<String> {
    let limit = |l: Option<Limit>| match l {
        None => "None".to_string(),
        Some(Limit::Integer(n)) => format!("Some({n})"),
        Some(Limit::Number(x)) => format!("Some({x:?}_f64)"),
    };
    let range_check = |function: &str| {
        range.map(|r| {
            format!(
                "wire::{function}({value}, {at}, {}, {})?;",
                limit(r.minimum),
                limit(r.maximum)
            )
        })
    };
    let checks: Vec<String> = match ty {
        FieldType::String {
            max_bytes,
            format,
            constant,
        } => {
            let mut checks = vec![format!(
                "wire::check_max_bytes({value}, {at}, {max_bytes})?;"
            )];
            match (constant, format) {
                (Some(text), _) => checks.push(format!(
                    "wire::check_constant({value}, {at}, {})?;",
                    rust_str(text)
                )),
                (None, Some(format)) => checks.push(format!(
                    "wire::check_format({value}, {at}, {})?;",
                    format_path(*format)
                )),
                (None, None) => {}
            }
            checks
        }
        FieldType::Number => std::iter::once(format!("wire::check_finite({value}, {at})?;"))
            .chain(range_check("check_number_range"))
            .collect(),
        FieldType::Unsigned | FieldType::Signed => {
            range_check("check_integer_range").into_iter().collect()
        }
        FieldType::Struct(name) => vec![format!("{name}::check({value}, {at})?;")],
        FieldType::Array { item, max_items } => {
            let list = value.trim_start_matches('&');
            let mut checks = vec![format!(
                "wire::check_max_items({list}.len(), {at}, {max_items})?;"
            )];
            if let Some(c) = payload_check(item, range, "item", "&list.index(i)") {
                checks.push(format!(
                    "let list = {at}; for (i, item) in {list}.iter().enumerate() {{ {c} }}"
                ));
            }
            checks
        }
        FieldType::Bool | FieldType::Enum(_) | FieldType::FreeObject { .. } => Vec::new(),
    };
    (!checks.is_empty()).then(|| checks.join(" "))
}

/// Whether the structure `name` has anything a sender checks.
fn needs_check(model: &Model, name: &str) -> bool {
    model
        .struct_named(name)
        .fields
        .iter()
        .any(|f| check(model, &f.ty, "v", "at").is_some())
}

/// Whether a sender stores `field` in the fields struct (it has a default, is optional or is
/// filled by the sender) rather than passing it to `into_message`.
/// The JSON type a field's value takes, as JSON Schema names it.
fn json_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::String { .. } | FieldType::Enum(_) => "string",
        FieldType::Bool => "boolean",
        FieldType::Unsigned | FieldType::Signed => "integer",
        FieldType::Number => "number",
        FieldType::Struct(_) | FieldType::FreeObject { .. } => "object",
        FieldType::Array { .. } => "array",
    }
}

fn stored(field: &Field) -> bool {
    field.settable() && (field.default.is_some() || field.optional || field.sender_fill.is_some())
}

fn sender_view(s: &Struct, name: &str, builder: &str, prefix: &str) -> SenderView {
    let mut fields = Vec::new();
    let mut params = Vec::new();
    let mut build = Vec::new();
    let mut reply = Vec::new();
    for field in &s.fields {
        let fname = &field.name;
        if let FieldType::String {
            constant: Some(text),
            ..
        } = &field.ty
        {
            build.push(format!("{fname}: {}.to_string(),", rust_str(text)));
            continue;
        }
        if !stored(field) {
            params.push((fname.clone(), rust_type(&field.ty)));
            build.push(format!("{fname},"));
            continue;
        }
        let filled = field
            .sender_fill
            .filter(|fill| *fill != SenderFill::Computed);
        let value_type = rust_type(&field.ty);
        let (stored_type, default) = match (filled, field.optional) {
            (Some(_), _) | (None, true) => (format!("Option<{value_type}>"), "None".to_string()),
            (None, false) => (
                value_type.clone(),
                absent_value(field).expect("a stored field without a fill has a default"),
            ),
        };
        build.push(match filled {
            Some(fill) if field.optional => {
                format!(
                    "{fname}: self.{fname}.or_else(|| Some(fills.{}())),",
                    fill.as_str()
                )
            }
            Some(fill) => format!(
                "{fname}: self.{fname}.unwrap_or_else(|| fills.{}()),",
                fill.as_str()
            ),
            None => format!("{fname}: self.{fname},"),
        });
        let wrap = |v: &str| {
            if stored_type.starts_with("Option<") {
                format!("Some({v})")
            } else {
                v.to_string()
            }
        };
        let setter = format!("{prefix}{fname}");
        let doc = rust_doc(&field.description, "    ");
        let setters = match &field.ty {
            FieldType::String { .. } => vec![SetterView {
                name: setter,
                doc,
                params: "value: impl Into<String>".to_string(),
                body: format!("self.fields.{fname} = {};", wrap("value.into()")),
            }],
            FieldType::FreeObject { .. } if !field.optional => vec![
                SetterView {
                    name: setter.clone(),
                    doc: format!(
                        "{doc}    ///\n    /// Adds one key; `{setter}_map` replaces the whole object.\n"
                    ),
                    params: "key: impl Into<String>, value: impl Into<serde_json::Value>"
                        .to_string(),
                    body: format!("self.fields.{fname}.insert(key.into(), value.into());"),
                },
                SetterView {
                    name: format!("{setter}_map"),
                    doc: format!("{doc}    ///\n    /// Replaces the whole object.\n"),
                    params: "map: serde_json::Map<String, serde_json::Value>".to_string(),
                    body: format!("self.fields.{fname} = map;"),
                },
            ],
            other => vec![SetterView {
                name: setter,
                doc,
                params: format!("value: {}", rust_type(other)),
                body: format!("self.fields.{fname} = {};", wrap("value")),
            }],
        };
        if let Some(source) = &field.reply_fill {
            reply.push(match (&field.default, stored_type.starts_with("Option<")) {
                (_, true) => format!(
                    "if self.{fname}.is_none() {{ self.{fname} = Some(asked.{source}.clone()); }}"
                ),
                (Some(DefaultValue::String(text)), false) if text.is_empty() => format!(
                    "if self.{fname}.is_empty() {{ self.{fname} = asked.{source}.clone(); }}"
                ),
                (Some(DefaultValue::String(text)), false) => format!(
                    "if self.{fname} == {} {{ self.{fname} = asked.{source}.clone(); }}",
                    rust_str(text)
                ),
                (_, false) => unreachable!("the reader refuses x-reply-fills on a non-string"),
            });
        }
        let decoded = convert(&field.ty, "at");
        let set_from_json = if field.optional {
            format!(
                "self.{fname} = match value {{ Value::Null => None, value => Some({decoded}) }};"
            )
        } else {
            format!("self.{fname} = {};", wrap(&decoded))
        };
        fields.push(SenderFieldView {
            name: fname.clone(),
            doc: rust_doc(&field.description, "    "),
            stored: stored_type,
            default,
            setters,
            set_from_json,
            description: rust_str(&field.description),
            json_type: json_type(&field.ty),
        });
    }
    let uses_fills = build.iter().any(|line| line.contains("fills."));
    SenderView {
        name: name.to_string(),
        message: s.name.clone(),
        builder: builder.to_string(),
        fills: if uses_fills { "fills" } else { "_fills" }.to_string(),
        fields,
        params,
        build,
        replies: name == "EnvelopeFields",
        reply,
    }
}
