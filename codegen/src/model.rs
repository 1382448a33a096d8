//! The generator's own reading of the schema: one intermediate model that every backend
//! renders, so the std Rust, no_std Rust and Python SDKs cannot drift apart.

/// Everything the backends need to know about the schema, already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// File name of the schema, as it appears in the do-not-edit preambles.
    pub schema_name: String,
    /// The message structures, the root (the envelope) first, then in `$defs` order.
    pub structs: Vec<Struct>,
    /// The string enumerations, in `$defs` order.
    pub enums: Vec<Enum>,
}

impl Model {
    /// The root structure: the envelope published on NATS.
    pub fn root(&self) -> &Struct {
        &self.structs[0]
    }

    /// The structure named `name`; the reader has checked that every reference resolves.
    pub fn struct_named(&self, name: &str) -> &Struct {
        self.structs
            .iter()
            .find(|s| s.name == name)
            .expect("struct references are resolved by the reader")
    }

    /// The enumeration named `name`; the reader has checked that every reference resolves.
    pub fn enum_named(&self, name: &str) -> &Enum {
        self.enums
            .iter()
            .find(|e| e.name == name)
            .expect("enum references are resolved by the reader")
    }
}

/// A JSON object with a fixed set of keys, sent in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// Type name in every target language (the schema's `title` or `$defs` key).
    pub name: String,
    pub description: String,
    pub fields: Vec<Field>,
}

/// One key of a [`Struct`].
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The key on the wire; also the field or attribute name in every target language.
    pub name: String,
    /// Other keys a receiver accepts for this field (`x-aliases`).
    pub aliases: Vec<String>,
    pub description: String,
    pub ty: FieldType,
    /// Value a receiver assumes when the key is missing; `None` means the key is required.
    pub default: Option<DefaultValue>,
}

/// The types the generator can carry to all three targets.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// A UTF-8 string of at most `max_bytes` bytes once unescaped.
    String { max_bytes: usize },
    /// A non-negative integer (`u64` in Rust).
    Unsigned,
    /// A free-form JSON object, kept as compact JSON text of at most `max_bytes` bytes by the
    /// no_std SDK; canonical output sorts its keys by code point.
    FreeObject { max_bytes: usize },
    /// A named string enumeration.
    Enum(String),
    /// An array of a named structure, at most `max_items` long.
    Array { item: String, max_items: usize },
}

/// A default value of a field, as the schema's `default` gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    String(String),
    EmptyObject,
}

/// A string enumeration.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    pub name: String,
    pub description: String,
    /// Values in declaration order: first the ones senders send, then the receive-only ones.
    pub values: Vec<EnumValue>,
    /// Alternative spellings a receiver maps to a value (`x-enum-aliases`): (alias, value).
    pub aliases: Vec<(String, String)>,
    /// `Some(max_bytes)` when unknown values are kept by name instead of rejected
    /// (`x-open-enum`); the bound is the no_std capacity of such a name.
    pub open: Option<usize>,
}

/// One value of an [`Enum`].
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// The string on the wire.
    pub wire: String,
    pub description: String,
    /// Accepted from early editions but never sent (`x-receive-only`).
    pub receive_only: bool,
}

impl EnumValue {
    /// The variant name in Rust and the constant suffix in Python: `arrow-ipc` -> `ArrowIpc`.
    pub fn variant(&self) -> String {
        pascal_case(&self.wire)
    }
}

/// `snake_case`, `kebab-case` or `lower` to `PascalCase`.
pub fn pascal_case(s: &str) -> String {
    s.split(['_', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// `PascalCase` to `UPPER_SNAKE_CASE`, for constants.
pub fn upper_snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
