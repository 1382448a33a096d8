//! The generator's own reading of the schema: one intermediate model that every backend
//! renders, so the std Rust, no_std Rust and Python SDKs cannot drift apart.

/// Everything the backends need to know about the schema, already checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// File name of the schema, as it appears in the do-not-edit preambles.
    pub schema_name: String,
    /// The envelope schema (`schema/`) or a user's payload schema.
    pub kind: SchemaKind,
    /// The root's `description` (the envelope's doc comment; a payload schema's summary).
    pub description: String,
    /// The message structures: for the envelope, the root first; then in `$defs` order, each
    /// followed by the inline objects it declares.
    pub structs: Vec<Struct>,
    /// The string enumerations, in `$defs` order.
    pub enums: Vec<Enum>,
    /// Numbers the contract fixes and every SDK uses (`x-constants` on the root): the size
    /// threshold, retry defaults, download caps. Names are `snake_case`.
    pub constants: Vec<Constant>,
    /// The one list of error kinds every SDK reports (`x-error-kinds` on the root), in order.
    pub error_kinds: Vec<ErrorKindDef>,
}

/// Which kind of schema a [`Model`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// `schema/natsbridge.schema.json`: the root object is the envelope; `x-constants` and
    /// `x-error-kinds` on the root.
    Envelope,
    /// A user's payload schema: no root object; every `$defs` object is a payload type
    /// (a `dictionary` payload's JSON object), every `$defs` string enumeration a type its
    /// properties use.
    Payloads,
}

impl Model {
    /// The root structure: the envelope published on NATS. Only for [`SchemaKind::Envelope`]
    /// (a payload schema has no root object).
    pub fn root(&self) -> &Struct {
        assert_eq!(
            self.kind,
            SchemaKind::Envelope,
            "a payload schema has no root structure"
        );
        &self.structs[0]
    }

    /// The payload types of a payload schema: its `$defs` objects, in order (inline objects
    /// are types of their fields, not payload types). Empty for the envelope schema.
    pub fn payload_types(&self) -> impl Iterator<Item = &Struct> {
        self.structs
            .iter()
            .filter(|s| self.kind == SchemaKind::Payloads && s.in_defs)
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
    /// Type name in every target language (the schema's `title` or `$defs` key; for an inline
    /// object property, its `title` or the parent's name followed by the property's name in
    /// PascalCase: `MessageEnvelope` + `device` = `MessageEnvelopeDevice`).
    pub name: String,
    pub description: String,
    pub fields: Vec<Field>,
    /// Declared as a `$defs` entry (not the root, not an inline object property).
    pub in_defs: bool,
}

impl Struct {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A number the contract fixes (`x-constants`): `SIZE_THRESHOLD`, `MAX_RETRIES`, ...
#[derive(Debug, Clone, PartialEq)]
pub struct Constant {
    /// `snake_case`; `UPPER_SNAKE_CASE` in Rust and Python.
    pub name: String,
    pub description: String,
    pub value: u64,
}

/// One kind of error (`x-error-kinds`): its stable `snake_case` name and what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorKindDef {
    /// `snake_case`: the name in messages, Python constants and goldens; PascalCase in Rust.
    pub name: String,
    pub description: String,
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
    /// Value a receiver assumes when the key is missing; `None` means the key is required,
    /// unless [`Field::optional`] is set.
    pub default: Option<DefaultValue>,
    /// Not `required` and without a `default`: `Option<T>` / `None`. A sender leaves the key
    /// out when the value is absent (canonical form: an absent optional key is not written,
    /// never written as `null`); a receiver gives `None` for a missing key. A JSON `null`
    /// received for it also reads as absent (schema/WIRE.md section 9).
    pub optional: bool,
    /// What a sender puts here when the caller gives nothing (`x-sender-fills`); `None` means
    /// the caller's value, or the default.
    pub sender_fill: Option<SenderFill>,
    /// The envelope field of a request whose value a reply takes here when the caller leaves
    /// this one unset (`x-reply-fills`): `receiver_name` takes the request's `sender_name`.
    pub reply_fill: Option<String>,
    /// Inclusive bounds of the integer or number the field holds (of each item, for an
    /// array): `minimum` other than 0 and `maximum`, read in payload schemas only.
    pub range: Option<Range>,
}

/// Inclusive bounds of an integer or a number (`minimum`, `maximum`); at least one is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub minimum: Option<Limit>,
    pub maximum: Option<Limit>,
}

/// One bound of a [`Range`]: an integer for an integer field, a finite number for a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Integer(i128),
    Number(f64),
}

impl Field {
    /// Whether a caller sets this field through the send API (false for fields the SDK
    /// computes itself, such as `size` and `data`, and for a `const`).
    pub fn settable(&self) -> bool {
        let constant = matches!(
            self.ty,
            FieldType::String {
                constant: Some(_),
                ..
            }
        );
        self.sender_fill != Some(SenderFill::Computed) && !constant
    }
}

/// How a sender fills a field the caller left unset (`x-sender-fills`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderFill {
    /// `"uuid4"`: a new UUID v4 per message (or per payload).
    Uuid4,
    /// `"timestamp"`: the send time, RFC 3339 UTC with milliseconds and `Z`.
    Timestamp,
    /// `"subject"`: the subject published on.
    Subject,
    /// `"sender_id"`: the client's fixed UUID.
    SenderId,
    /// `"broker_url"`: the NATS URL the client is connected to.
    BrokerUrl,
    /// `"computed"`: always set by the SDK (transport, encoding, size, data); not settable.
    Computed,
}

impl SenderFill {
    /// The keyword value in the schema.
    pub fn as_str(self) -> &'static str {
        match self {
            SenderFill::Uuid4 => "uuid4",
            SenderFill::Timestamp => "timestamp",
            SenderFill::Subject => "subject",
            SenderFill::SenderId => "sender_id",
            SenderFill::BrokerUrl => "broker_url",
            SenderFill::Computed => "computed",
        }
    }

    /// Every value, for the reader.
    pub const ALL: [SenderFill; 6] = [
        SenderFill::Uuid4,
        SenderFill::Timestamp,
        SenderFill::Subject,
        SenderFill::SenderId,
        SenderFill::BrokerUrl,
        SenderFill::Computed,
    ];
}

/// The types the generator can carry to all three targets.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// A UTF-8 string of at most `max_bytes` bytes once unescaped.
    String {
        max_bytes: usize,
        /// `format` checked by receivers (`bad_value` naming the field).
        format: Option<StringFormat>,
        /// `const`: the only value allowed (receivers refuse another with `bad_value`; senders
        /// always write it).
        constant: Option<String>,
    },
    /// `true` or `false`.
    Bool,
    /// A non-negative integer (`minimum: 0`; `u64` in Rust).
    Unsigned,
    /// A signed integer (`integer` without `minimum: 0`; `i64` in Rust).
    Signed,
    /// A finite IEEE 754 double (`number`; `f64`). Canonical text: schema/WIRE.md section 8.
    Number,
    /// A nested structure with declared properties (`$ref` to a `$defs` object, or inline).
    Struct(String),
    /// A free-form JSON object, kept as compact JSON text of at most `max_bytes` bytes by the
    /// no_std SDK; canonical output sorts its keys by code point.
    FreeObject { max_bytes: usize },
    /// A named string enumeration.
    Enum(String),
    /// An array of at most `max_items` items of one type: a string, boolean, integer, number,
    /// enumeration or structure (never an array or a free-form object).
    Array {
        item: Box<FieldType>,
        max_items: usize,
    },
}

/// String formats receivers check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFormat {
    /// `uuid`: 36 characters, 8-4-4-4-12 hex digits (either case) and hyphens.
    Uuid,
    /// `date-time`: RFC 3339 (`2026-11-25T11:52:26.123Z`, `...+01:00`), `T`/`t`, `Z`/`z`.
    DateTime,
}

/// A default value of a field, as the schema's `default` gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    String(String),
    /// `{}` for a free-form object.
    EmptyObject,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    /// Finite.
    Number(f64),
    /// `[]` for an array (the only array default supported).
    EmptyArray,
    /// `{}` for a nested structure whose fields all have defaults or are optional: every field
    /// takes its own default.
    StructDefaults,
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

impl FieldType {
    /// The structure an array of structures holds.
    pub fn struct_item(&self) -> Option<&str> {
        match self {
            FieldType::Array { item, .. } => match item.as_ref() {
                FieldType::Struct(name) => Some(name),
                _ => None,
            },
            _ => None,
        }
    }
}
