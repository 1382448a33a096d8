//! Renders the generated section of `sdk-python/nats_bridge.py`: one class per enumeration
//! and per structure, built on the hand-written helpers of `sdk-python/src/`.
//!
//! The templates in `codegen/templates/python/` only place text; every Python expression
//! (literals, checks, writers, docstrings) is built here, so it can be read and tested.

use askama::Template;

use crate::backend::wrap;

use crate::model::{
    DefaultValue, Enum, Field, FieldType, Limit, Model, SchemaKind, StringFormat, Struct,
    upper_snake_case,
};

/// Longest line of a generated docstring, indentation included.
const DOC_WIDTH: usize = 88;

/// The line that splits the generated text in two: what comes before it (constants and error
/// kinds) is stitched in before the hand-written parts, so their default arguments can use
/// it; the classes after it come after the hand-written parts they build on.
pub const CLASSES_MARKER: &str = "# ---- generated classes ----";

/// Renders the generated section of the Python module (without the preamble and without
/// the hand-written parts, which `stitch_python` adds): the constants, [`CLASSES_MARKER`],
/// then the classes.
pub fn render(model: &Model) -> Result<String, askama::Error> {
    let module = ModuleView {
        schema_name: &model.schema_name,
        marker: CLASSES_MARKER,
        constants: model
            .constants
            .iter()
            .map(|c| {
                (
                    c.name.to_ascii_uppercase(),
                    c.value.to_string(),
                    comment(&c.description),
                )
            })
            .collect(),
        kinds: model
            .error_kinds
            .iter()
            .map(|k| {
                (
                    kind_constant(&k.name),
                    py_str(&k.name),
                    comment(&k.description),
                )
            })
            .collect(),
        kind_list: py_tuple(model.error_kinds.iter().map(|k| kind_constant(&k.name))),
        enums: model.enums.iter().map(EnumView::new).collect(),
        structs: dependency_order(model)
            .into_iter()
            .map(|s| StructView::new(model, s))
            .collect(),
    };
    module.render()
}

/// `KIND_NOT_JSON` for `not_json`.
fn kind_constant(name: &str) -> String {
    format!("KIND_{}", name.to_ascii_uppercase())
}

/// `text` as `#` comment lines, each ending in a newline.
fn comment(text: &str) -> String {
    wrap(text, DOC_WIDTH - 2, DOC_WIDTH - 2, "")
        .iter()
        .map(|line| format!("# {line}\n"))
        .collect()
}

#[derive(Template)]
#[template(path = "python/module.jinja", escape = "none")]
struct ModuleView<'a> {
    schema_name: &'a str,
    marker: &'a str,
    /// `(NAME, value, comment)` of each `x-constants` entry.
    constants: Vec<(String, String, String)>,
    /// `(KIND_NAME, "name", comment)` of each error kind.
    kinds: Vec<(String, String, String)>,
    /// Tuple literal of every kind constant.
    kind_list: String,
    enums: Vec<EnumView>,
    structs: Vec<StructView>,
}

/// One enumeration as a class of string constants.
struct EnumView {
    name: String,
    /// The class docstring, indented for the class body.
    doc: String,
    /// `(CONSTANT, "wire")`, every value, in declaration order.
    constants: Vec<(String, String)>,
    /// Tuple literal of the constants senders send.
    sent: String,
    /// Tuple literal of the constants receivers accept but never send.
    receive_only: String,
    /// Dict literal alias -> value.
    aliases: String,
    /// `True` or `False`.
    open: &'static str,
    /// The docstring of `normalize`.
    normalize_doc: String,
}

impl EnumView {
    fn new(e: &Enum) -> Self {
        let constant = |wire: &str| {
            let value = e
                .values
                .iter()
                .find(|v| v.wire == wire)
                .expect("aliases name a value of their enum");
            upper_snake_case(&value.variant())
        };
        let mut doc = Doc::new();
        doc.para(&e.description);
        doc.para("Values senders send:");
        for v in e.values.iter().filter(|v| !v.receive_only) {
            doc.item(
                &format!("{} = {}:", constant(&v.wire), py_str(&v.wire)),
                &v.description,
            );
        }
        if e.values.iter().any(|v| v.receive_only) {
            doc.para("Values receivers accept but never send:");
            for v in e.values.iter().filter(|v| v.receive_only) {
                doc.item(
                    &format!("{} = {}:", constant(&v.wire), py_str(&v.wire)),
                    &v.description,
                );
            }
        }
        if !e.aliases.is_empty() {
            let list: Vec<String> = e
                .aliases
                .iter()
                .map(|(a, v)| format!("{a} means {v}"))
                .collect();
            doc.para(&format!("Receivers also accept: {}.", list.join(", ")));
        }
        match e.open {
            Some(_) => doc.para("Open: a value not listed here is kept by its name, not refused."),
            None => doc.para("Closed: a receiver refuses any other value with bad_value."),
        }
        let normalize_doc = {
            let mut d = Doc::new();
            d.para(&format!(
                "The {} value a receiver sees for the wire string value: aliases mapped, {}; \
                 wrong_type when value is not a string. at names the place for the error.",
                e.name,
                if e.open.is_some() {
                    "unknown names kept"
                } else {
                    "unknown ones refused with bad_value"
                }
            ));
            d.render(8)
        };
        let names = |receive_only: bool| {
            py_tuple(
                e.values
                    .iter()
                    .filter(|v| v.receive_only == receive_only)
                    .map(|v| upper_snake_case(&v.variant())),
            )
        };
        let aliases = e
            .aliases
            .iter()
            .map(|(a, v)| format!("{}: {}", py_str(a), constant(v)))
            .collect::<Vec<_>>();
        EnumView {
            name: e.name.clone(),
            doc: doc.render(4),
            constants: e
                .values
                .iter()
                .map(|v| (upper_snake_case(&v.variant()), py_str(&v.wire)))
                .collect(),
            sent: names(false),
            receive_only: names(true),
            aliases: format!("{{{}}}", aliases.join(", ")),
            open: if e.open.is_some() { "True" } else { "False" },
            normalize_doc,
        }
    }
}

/// One structure as a table (`FIELDS`) on the hand-written base class `_Struct`, whose
/// generic reader and writer do the work (for a payload schema, on the bases of
/// `sdk-python/nats_bridge_typed.py`, which add the payload checks).
struct StructView {
    name: String,
    /// `_Struct` for the envelope; `TypedPayload` for a payload type, `PayloadStruct` for
    /// an inline object of a payload schema.
    base: &'static str,
    /// `Some("\"Name\"")` for a payload type: its `TYPE_NAME`.
    type_name: Option<String>,
    doc: String,
    /// The comment naming the row layout.
    layout: &'static str,
    /// One tuple literal per field, in canonical order (see [`field_entry`]).
    entries: Vec<String>,
}

impl StructView {
    fn new(model: &Model, s: &Struct) -> Self {
        let payloads = model.kind == SchemaKind::Payloads;
        StructView {
            name: s.name.clone(),
            base: match (payloads, s.in_defs) {
                (false, _) => "_Struct",
                (true, true) => "TypedPayload",
                (true, false) => "PayloadStruct",
            },
            type_name: (payloads && s.in_defs).then(|| py_str(&s.name)),
            doc: struct_doc(model, s),
            layout: if payloads {
                "(key, kind, default, aliases, capacity, nested, fill, text, minimum, maximum, item_bytes)"
            } else {
                "(key, kind, default, aliases, capacity, nested, fill, text)"
            },
            entries: s
                .fields
                .iter()
                .map(|f| {
                    if payloads {
                        payload_field_entry(model, f)
                    } else {
                        field_entry(model, f)
                    }
                })
                .collect(),
        }
    }
}

/// The generated Python module of a payload schema: the preamble, a docstring, the import of
/// the runtime (`nats_bridge_typed`), then one class per enumeration and per structure.
pub fn render_payloads(model: &Model, preamble: &str) -> Result<String, askama::Error> {
    assert_eq!(model.kind, SchemaKind::Payloads, "a payload schema's model");
    let mut doc = Doc::new();
    doc.para(&format!("The payload types of {}.", model.schema_name));
    doc.para(&model.description);
    doc.para(
        "One class per $defs entry (and per inline object), for CPython and MicroPython. \
         Each $defs object is a nats_bridge_typed.TypedPayload: to_json() writes its canonical \
         JSON (keys in schema order) after checking every bound, from_json()/from_dict() \
         read one with the schema's checks, errors naming the field at fault; smartsend \
         takes an instance as the data of a dictionary payload. It needs nats_bridge.py and \
         nats_bridge_typed.py beside it.",
    );
    PayloadsModuleView {
        preamble: preamble.trim_end().to_string(),
        doc: doc.render(0),
        enums: model.enums.iter().map(EnumView::new).collect(),
        structs: dependency_order(model)
            .into_iter()
            .map(|s| StructView::new(model, s))
            .collect(),
    }
    .render()
}

#[derive(Template)]
#[template(path = "python/payloads.jinja", escape = "none")]
struct PayloadsModuleView {
    preamble: String,
    doc: String,
    enums: Vec<EnumView>,
    structs: Vec<StructView>,
}

/// The row of a payload type's field: the envelope's 8 elements ([`field_entry`]), then
/// `minimum, maximum` (the inclusive bounds of the number, or of each item of an array;
/// `None` when unbounded) and `item_bytes` (the `x-max-bytes` of each string item of an
/// array, else 0). A payload row's capacity is enforced (`over_capacity`), as in every SDK.
fn payload_field_entry(model: &Model, f: &Field) -> String {
    let limit = |l: Option<Limit>| match l {
        None => "None".to_string(),
        Some(Limit::Integer(n)) => n.to_string(),
        Some(Limit::Number(x)) => format!("{x:?}"),
    };
    let (minimum, maximum) = match &f.range {
        Some(r) => (limit(r.minimum), limit(r.maximum)),
        None => ("None".to_string(), "None".to_string()),
    };
    let item_bytes = match &f.ty {
        FieldType::Array { item, .. } => match item.as_ref() {
            FieldType::String { max_bytes, .. } => *max_bytes,
            _ => 0,
        },
        _ => 0,
    };
    let row = field_entry(model, f);
    format!(
        "{}, {minimum}, {maximum}, {item_bytes})",
        &row[..row.len() - 1]
    )
}

/// The table row of a field: `(key, kind, default, aliases, capacity, nested, fill, text)`, the layout
/// the hand-written `_Struct` reads (`sdk-python/src/20_decode.py`). A string's format or const
/// is its kind (`uuid`, `date-time`, `const` with the value as `nested`); an optional field
/// has the default `None`; the aliases are one space-separated string; text is the JSON text
/// before the value (`,"key":`, keys are identifiers), so the writer appends one shared string
/// per key. No tuple inside: every tuple costs RAM on a small MicroPython heap, a string does not.
fn field_entry(model: &Model, f: &Field) -> String {
    let default = if f.optional {
        "None".to_string()
    } else {
        match &f.default {
            None => "_REQUIRED".to_string(),
            Some(d) => default_literal(d),
        }
    };
    let (kind, nested) = type_spec(model, &f.ty);
    let capacity = match &f.ty {
        FieldType::String { max_bytes, .. } | FieldType::FreeObject { max_bytes } => *max_bytes,
        FieldType::Array { max_items, .. } => *max_items,
        _ => 0,
    };
    let fill = match f.sender_fill {
        Some(fill) => py_str(fill.as_str()),
        None => "None".to_string(),
    };
    format!(
        "({}, {kind}, {default}, {}, {capacity}, {nested}, {fill}, {})",
        py_str(&f.name),
        py_str(&f.aliases.join(" ")),
        py_str(&format!(",\"{}\":", f.name)),
    )
}

/// `(kind, nested)` of a type as Python literals: the kind name the generic reader switches
/// on; the enumeration or structure class, the const value, or for an array the item's own
/// `(kind, nested)`.
fn type_spec(model: &Model, ty: &FieldType) -> (String, String) {
    let none = "None".to_string();
    match ty {
        FieldType::String {
            constant: Some(c), ..
        } => (py_str("const"), py_str(c)),
        FieldType::String { format, .. } => (
            py_str(match format {
                Some(StringFormat::Uuid) => "uuid",
                Some(StringFormat::DateTime) => "date-time",
                None => "str",
            }),
            none,
        ),
        FieldType::Bool => (py_str("bool"), none),
        FieldType::Unsigned => (py_str("u64"), none),
        FieldType::Signed => (py_str("i64"), none),
        FieldType::Number => (py_str("f64"), none),
        FieldType::FreeObject { .. } => (py_str("obj"), none),
        FieldType::Enum(name) => (py_str("enum"), model.enum_named(name).name.clone()),
        FieldType::Struct(name) => (py_str("struct"), model.struct_named(name).name.clone()),
        FieldType::Array { item, .. } => {
            let (k, n) = type_spec(model, item);
            (py_str("list"), format!("({k}, {n})"))
        }
    }
}

/// The Python literal of a schema default, as JSON gives it (the reader turns `{}` into a
/// fresh dict or a nested structure with its own defaults).
fn default_literal(default: &DefaultValue) -> String {
    match default {
        DefaultValue::String(s) => py_str(s),
        DefaultValue::EmptyObject | DefaultValue::StructDefaults => "{}".to_string(),
        DefaultValue::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        DefaultValue::Unsigned(n) => n.to_string(),
        DefaultValue::Signed(n) => n.to_string(),
        DefaultValue::Number(x) => format!("{x:?}"),
        DefaultValue::EmptyArray => "[]".to_string(),
    }
}

/// The structures in an order where each comes after every structure it holds, so a class
/// body can name the classes of its nested fields.
fn dependency_order(model: &Model) -> Vec<&Struct> {
    fn visit<'m>(model: &'m Model, s: &'m Struct, out: &mut Vec<&'m Struct>) {
        if out.iter().any(|done| done.name == s.name) {
            return;
        }
        for f in &s.fields {
            let held = match &f.ty {
                FieldType::Struct(name) => Some(name.as_str()),
                other => other.struct_item(),
            };
            if let Some(name) = held {
                visit(model, model.struct_named(name), out);
            }
        }
        out.push(s);
    }
    let mut out = Vec::new();
    for s in &model.structs {
        visit(model, s, &mut out);
    }
    out
}

/// A short Python name of a field type, for docstrings.
fn type_doc(model: &Model, ty: &FieldType) -> String {
    match ty {
        FieldType::String {
            format, constant, ..
        } => match (format, constant) {
            (_, Some(c)) => format!("str, always {}", py_str(c)),
            (Some(StringFormat::Uuid), None) => "str, a UUID or \"\"".to_string(),
            (Some(StringFormat::DateTime), None) => "str, an RFC 3339 time or \"\"".to_string(),
            (None, None) => "str".to_string(),
        },
        FieldType::Bool => "bool".to_string(),
        FieldType::Unsigned => "int >= 0".to_string(),
        FieldType::Signed => "int".to_string(),
        FieldType::Number => "float".to_string(),
        FieldType::FreeObject { .. } => "dict".to_string(),
        FieldType::Enum(name) => format!("str, a value of {}", model.enum_named(name).name),
        FieldType::Struct(name) => model.struct_named(name).name.clone(),
        FieldType::Array { item, .. } => format!("list of {}", type_doc(model, item)),
    }
}

fn struct_doc(model: &Model, s: &Struct) -> String {
    let mut doc = Doc::new();
    doc.para(&s.description);
    doc.para("Keys, in canonical order (attributes and __init__ arguments have the same names):");
    for f in &s.fields {
        let ty = type_doc(model, &f.ty);
        let default = match &f.default {
            _ if f.optional => "optional, None when absent".to_string(),
            None => "required".to_string(),
            Some(DefaultValue::String(v)) => format!("default {}", py_str(v)),
            Some(DefaultValue::StructDefaults) => "default: its own defaults".to_string(),
            Some(d) => format!("default {}", default_literal(d)),
        };
        let aliases = if f.aliases.is_empty() {
            String::new()
        } else {
            format!("; also read from {}", f.aliases.join(", "))
        };
        doc.item(
            &format!("{} ({ty}, {default}{aliases}):", f.name),
            &f.description,
        );
    }
    if model.kind == SchemaKind::Payloads {
        let mut bounds = Vec::new();
        for f in &s.fields {
            let Some(r) = &f.range else { continue };
            let bound = |l: Option<Limit>| match l {
                None => None,
                Some(Limit::Integer(n)) => Some(n.to_string()),
                Some(Limit::Number(x)) => Some(format!("{x}")),
            };
            let text = match (bound(r.minimum), bound(r.maximum)) {
                (Some(low), Some(high)) => format!("from {low} to {high}"),
                (Some(low), None) => format!("at least {low}"),
                (None, Some(high)) => format!("at most {high}"),
                (None, None) => continue,
            };
            let what = if matches!(f.ty, FieldType::Array { .. }) {
                "each item of "
            } else {
                ""
            };
            bounds.push(format!("{what}{} {text}", f.name));
        }
        if !bounds.is_empty() {
            doc.para(&format!("Bounds: {}.", bounds.join("; ")));
        }
        doc.para(
            "from_json()/from_dict() check the JSON types, the x-max-bytes and maxItems \
             capacities (over_capacity) and the bounds (bad_value) and raise NatsBridgeError \
             naming the field; unknown keys are ignored. to_json() checks the same (any \
             failure is invalid_input) and writes the canonical form.",
        );
    } else {
        doc.para(
            "from_json()/from_dict() check the JSON types and raise NatsBridgeError; unknown keys \
             are ignored. to_json() writes the canonical form. Python does not enforce the \
             schema's x-max-bytes and maxItems capacities: only the no_std SDK has them.",
        );
    }
    doc.render(4)
}

/// A docstring: paragraphs and hanging-indented items, wrapped to [`DOC_WIDTH`].
struct Doc {
    blocks: Vec<(String, String)>,
}

impl Doc {
    fn new() -> Self {
        Doc { blocks: Vec::new() }
    }

    fn para(&mut self, text: &str) {
        self.blocks.push((String::new(), text.to_string()));
    }

    fn item(&mut self, head: &str, text: &str) {
        self.blocks.push((head.to_string(), text.to_string()));
    }

    /// The docstring literal, every line indented by `indent` spaces.
    fn render(&self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let mut lines: Vec<String> = Vec::new();
        for (i, (head, text)) in self.blocks.iter().enumerate() {
            let is_item = !head.is_empty();
            if i > 0 && !is_item {
                lines.push(String::new());
            }
            let words = if is_item {
                format!("  {head} {text}")
            } else {
                text.clone()
            };
            let first_width = if i == 0 {
                DOC_WIDTH - indent - 3
            } else {
                DOC_WIDTH - indent
            };
            let hang = if is_item { "      " } else { "" };
            lines.extend(wrap(
                &doc_escape(&words),
                first_width,
                DOC_WIDTH - indent - hang.len(),
                hang,
            ));
        }
        if lines.len() == 1 && lines[0].len() + indent + 6 <= DOC_WIDTH {
            let line = &lines[0];
            let line = if line.ends_with('"') {
                format!("{}\\\"", &line[..line.len() - 1])
            } else {
                line.clone()
            };
            return format!("{pad}\"\"\"{line}\"\"\"");
        }
        let mut out = format!("{pad}\"\"\"");
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&pad);
                }
            }
            out.push_str(line);
        }
        out.push('\n');
        out.push_str(&pad);
        out.push_str("\"\"\"");
        out
    }
}

/// Text made safe inside a `"""` docstring.
fn doc_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")
}

/// A Python string literal; double-quoted unless the text holds `"` and no `'`.
fn py_str(s: &str) -> String {
    let quote = if s.contains('"') && !s.contains('\'') {
        '\''
    } else {
        '"'
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A Python tuple literal of already-rendered expressions: `()`, `(a,)`, `(a, b)`.
fn py_tuple(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    match items.len() {
        0 => "()".to_string(),
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals_escape_quotes_and_controls() {
        assert_eq!(py_str("a\"b"), "'a\"b'");
        assert_eq!(py_str("a\"b'c\\\n\u{1}"), "\"a\\\"b'c\\\\\\n\\x01\"");
        assert_eq!(py_tuple(["\"a\"".to_string()]), "(\"a\",)");
    }

    #[test]
    fn docstrings_wrap_and_escape() {
        let mut doc = Doc::new();
        doc.para("Short \"\"\" with a \\ backslash.");
        assert_eq!(
            doc.render(4),
            "    \"\"\"Short \\\"\\\"\\\" with a \\\\ backslash.\"\"\""
        );
        let mut doc = Doc::new();
        doc.para(&"word ".repeat(40));
        doc.item("x (str):", &"more ".repeat(30));
        let text = doc.render(4);
        assert!(
            text.lines().all(|l| l.chars().count() <= DOC_WIDTH),
            "{text}"
        );
        assert!(text.ends_with("\n    \"\"\""), "{text}");
        let mut doc = Doc::new();
        doc.para("ends in a quote \"");
        assert_eq!(doc.render(0), "\"\"\"ends in a quote \\\"\"\"\"");
    }
}
