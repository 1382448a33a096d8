//! Renders the generated section of `sdk-python/nats_bridge.py`: one class per enumeration
//! and per structure, built on the hand-written helpers of `sdk-python/src/`.
//!
//! The templates in `codegen/templates/python/` only place text; every Python expression
//! (literals, checks, writers, docstrings) is built here, so it can be read and tested.

use askama::Template;

use crate::backend::wrap;

use crate::model::{DefaultValue, Enum, Field, FieldType, Model, Struct, upper_snake_case};

/// Longest line of a generated docstring, indentation included.
const DOC_WIDTH: usize = 88;

/// Renders the generated section of the Python module (without the preamble and without
/// the hand-written parts, which `stitch_python` adds).
pub fn render(model: &Model) -> Result<String, askama::Error> {
    let module = ModuleView {
        schema_name: &model.schema_name,
        enums: model.enums.iter().map(EnumView::new).collect(),
        structs: model
            .structs
            .iter()
            .map(|s| StructView::new(model, s))
            .collect(),
    };
    module.render()
}

#[derive(Template)]
#[template(path = "python/module.jinja", escape = "none")]
struct ModuleView<'a> {
    schema_name: &'a str,
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

/// One structure as a plain class.
struct StructView {
    name: String,
    doc: String,
    /// Tuple literal of the wire keys in canonical order.
    fields_tuple: String,
    /// The parameter list of `__init__` after `self`.
    init_params: String,
    /// The `%`-format of `__repr__` and its argument tuple.
    repr_format: String,
    repr_args: String,
    fields: Vec<FieldView>,
}

impl StructView {
    fn new(model: &Model, s: &Struct) -> Self {
        let views: Vec<FieldView> = s
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| FieldView::new(model, f, i == 0))
            .collect();
        let required = s
            .fields
            .iter()
            .filter(|f| f.default.is_none())
            .map(|f| f.name.clone());
        let defaulted = s.fields.iter().filter_map(|f| {
            f.default
                .as_ref()
                .map(|d| format!("{}={}", f.name, default_param(d)))
        });
        let init_params = required.chain(defaulted).collect::<Vec<_>>().join(", ");
        let repr_format = s
            .fields
            .iter()
            .map(|f| format!("{}=%r", f.name))
            .collect::<Vec<_>>()
            .join(", ");
        let repr_args = py_tuple(s.fields.iter().map(|f| format!("self.{}", f.name)));
        StructView {
            name: s.name.clone(),
            doc: struct_doc(model, s),
            fields_tuple: py_tuple(s.fields.iter().map(|f| py_str(&f.name))),
            init_params,
            repr_format,
            repr_args,
            fields: views,
        }
    }
}

/// One field of a structure, as the expressions each method needs.
struct FieldView {
    /// The wire key, also the attribute and parameter name.
    name: String,
    /// The key as a Python string literal.
    key: String,
    /// `Some(literal)` when `__init__` takes `None` for a fresh mutable default.
    fresh_default: Option<String>,
    /// The expression of `from_dict` that reads, checks and normalises the value.
    decode: String,
    /// The value `to_dict` puts under the key.
    to_dict: String,
    /// The Python literal of the JSON text before the value: `'{"id":'`, `',"size":'`.
    json_key: String,
    /// The statement that appends the canonical JSON of the value to `out`.
    write: String,
}

impl FieldView {
    fn new(model: &Model, f: &Field, first: bool) -> Self {
        let name = &f.name;
        let key = py_str(name);
        let at = format!("p + {key}");
        let default = match &f.default {
            None => "_REQUIRED".to_string(),
            Some(DefaultValue::String(s)) => py_str(s),
            Some(DefaultValue::EmptyObject) => "{}".to_string(),
            Some(other) => unimplemented!("default {other:?}: not rendered by this backend yet"),
        };
        let raw = format!(
            "_field(d, {key}, {}, {default}, p)",
            py_tuple(f.aliases.iter().map(|a| py_str(a)))
        );
        let (decode, to_dict, write) = match &f.ty {
            FieldType::String { .. } => (
                format!("_string({raw}, {at})"),
                format!("self.{name}"),
                format!("out.append(_quote(self.{name}))"),
            ),
            FieldType::Unsigned => (
                format!("_unsigned({raw}, {at})"),
                format!("self.{name}"),
                format!("out.append(\"%d\" % self.{name})"),
            ),
            FieldType::FreeObject { .. } => (
                format!("_object({raw}, {at})"),
                format!("self.{name}"),
                format!("_write_value(out, self.{name})"),
            ),
            FieldType::Enum(enum_name) => (
                format!(
                    "{}.normalize({raw}, {at})",
                    model.enum_named(enum_name).name
                ),
                format!("self.{name}"),
                format!("out.append(_quote(self.{name}))"),
            ),
            FieldType::Array { .. } if f.ty.struct_item().is_some() => (
                format!(
                    "_array({raw}, {at}, {})",
                    f.ty.struct_item().unwrap_or_default()
                ),
                format!("[item.to_dict() for item in self.{name}]"),
                format!("_write_items(out, self.{name})"),
            ),
            other => unimplemented!("field type {other:?}: not rendered by this backend yet"),
        };
        let json_key = format!("{}{}:", if first { "{" } else { "," }, json_str(name));
        FieldView {
            name: name.clone(),
            key,
            fresh_default: match f.default {
                Some(DefaultValue::EmptyObject) => Some("{}".to_string()),
                _ => None,
            },
            decode,
            to_dict,
            json_key: py_str(&json_key),
            write,
        }
    }
}

/// The `__init__` default of a defaulted field: mutable ones are `None`, made fresh inside.
fn default_param(default: &DefaultValue) -> String {
    match default {
        DefaultValue::String(s) => py_str(s),
        DefaultValue::EmptyObject => "None".to_string(),
        other => unimplemented!("default {other:?}: not rendered by this backend yet"),
    }
}

fn struct_doc(model: &Model, s: &Struct) -> String {
    let mut doc = Doc::new();
    doc.para(&s.description);
    doc.para("Keys, in canonical order (attributes and __init__ arguments have the same names):");
    for f in &s.fields {
        let ty = match &f.ty {
            FieldType::String { .. } => "str".to_string(),
            FieldType::Unsigned => "int >= 0".to_string(),
            FieldType::FreeObject { .. } => "dict".to_string(),
            FieldType::Enum(name) => format!("str, a value of {}", model.enum_named(name).name),
            FieldType::Array { .. } => {
                format!("list of {}", f.ty.struct_item().unwrap_or_default())
            }
            other => unimplemented!("field type {other:?}: not rendered by this backend yet"),
        };
        let default = match &f.default {
            None => "required".to_string(),
            Some(DefaultValue::String(v)) => format!("default {}", py_str(v)),
            Some(DefaultValue::EmptyObject) => "default {}".to_string(),
            Some(other) => unimplemented!("default {other:?}: not rendered by this backend yet"),
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
    doc.para(
        "from_json()/from_dict() check the JSON types and raise NatsBridgeError; unknown keys \
         are ignored. to_json() writes the canonical form. Python does not enforce the \
         schema's x-max-bytes and maxItems capacities: only the no_std SDK has them.",
    );
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

/// A JSON string literal in the canonical form of WIRE.md section 8.
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
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
        assert_eq!(json_str("k\"\u{8}\u{1f}é"), "\"k\\\"\\b\\u001fé\"");
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
