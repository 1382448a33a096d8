//! Reads the JSON Schema into the [`Model`], refusing every construct that one of the three
//! targets could not carry; each refusal names the schema path at fault.

use std::fmt;

use serde_json::{Map, Value};

use std::cell::RefCell;

use crate::model::{
    Constant, DefaultValue, Enum, EnumValue, ErrorKindDef, Field, FieldType, Limit, Model, Range,
    SchemaKind, SenderFill, StringFormat, Struct, pascal_case,
};

/// A schema the generator refuses, with the JSON pointer of the offending node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// File name of the schema.
    pub schema: String,
    /// JSON pointer into the schema, `""` for the root.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.schema, self.pointer, self.message)
    }
}

impl std::error::Error for SchemaError {}

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Keywords allowed on the root and on a `$defs` structure.
const STRUCT_KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "x-constants",
    "x-error-kinds",
];
/// Keywords allowed on a property.
const PROPERTY_KEYWORDS: &[&str] = &[
    "description",
    "type",
    "default",
    "$ref",
    "items",
    "maxItems",
    "minimum",
    "const",
    "format",
    "title",
    "properties",
    "required",
    "x-aliases",
    "x-max-bytes",
    "x-sender-fills",
    "x-reply-fills",
];
/// Keywords allowed on the `items` of an array.
const ITEM_KEYWORDS: &[&str] = &[
    "description",
    "type",
    "$ref",
    "minimum",
    "format",
    "title",
    "properties",
    "required",
    "x-max-bytes",
];
/// Keywords allowed on the root of a payload schema, which declares only `$defs`.
const PAYLOAD_ROOT_KEYWORDS: &[&str] = &["$schema", "$id", "$defs", "title", "description"];
/// Keywords a payload schema allows on a property or array items besides the envelope's.
const PAYLOAD_EXTRA_KEYWORDS: &[&str] = &["maximum"];
/// Keywords of the envelope that a payload schema refuses: what only the envelope's senders
/// and replies fill.
const ENVELOPE_ONLY_KEYWORDS: &[&str] = &["x-sender-fills", "x-reply-fills"];
/// Type names the generated payload code uses itself (its imports, the Rust prelude), which a
/// payload type cannot take.
const PAYLOAD_RESERVED_TYPE_NAMES: &[&str] = &[
    "At",
    "Box",
    "Default",
    "Deserialize",
    "Deserializer",
    "Err",
    "Error",
    "None",
    "Ok",
    "Option",
    "Result",
    "Self",
    "Serialize",
    "Serializer",
    "Some",
    "String",
    "TypedPayload",
    "Value",
    "Vec",
];
/// Keywords allowed on a `$defs` string enumeration.
const ENUM_KEYWORDS: &[&str] = &[
    "title",
    "description",
    "type",
    "oneOf",
    "x-receive-only",
    "x-enum-aliases",
    "x-open-enum",
    "x-max-bytes",
];

/// Words that cannot be a field name in Rust or Python.
const RESERVED_WORDS: &[&str] = &[
    // Rust (strict and reserved)
    "as", "async", "await", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self",
    "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield", // Python
    "and", "assert", "class", "def", "del", "elif", "except", "finally", "from", "global",
    "import", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "with", "None", "True",
    "False",
];

/// Reads the envelope schema `schema` (the text of the file called `schema_name`) into a
/// [`Model`]: the root object is the envelope.
pub fn read_schema(schema_name: &str, schema: &str) -> Result<Model, SchemaError> {
    read(schema_name, schema, SchemaKind::Envelope)
}

/// Reads a user's payload schema into a [`Model`] of [`SchemaKind::Payloads`]: a root with
/// `$defs` only, each `$defs` object a payload type, in the envelope's vocabulary (without
/// free-form objects and the envelope's `x-sender-fills`/`x-reply-fills`; with integer and
/// number bounds, `minimum` and `maximum`).
pub fn read_payload_schema(schema_name: &str, schema: &str) -> Result<Model, SchemaError> {
    read(schema_name, schema, SchemaKind::Payloads)
}

fn read(schema_name: &str, schema: &str, kind: SchemaKind) -> Result<Model, SchemaError> {
    let mut reader = Reader {
        schema: schema_name,
        kind,
        defs: Map::new(),
        nested: RefCell::new(Vec::new()),
    };
    let root: Value = serde_json::from_str(schema)
        .map_err(|e| reader.error("", format!("not valid JSON: {e}")))?;
    if let Some(Value::Object(defs)) = root.get("$defs") {
        reader.defs = defs.clone();
    }
    reader.model(&root)
}

struct Reader<'a> {
    schema: &'a str,
    /// The envelope or a payload schema: what the root holds, which keywords apply.
    kind: SchemaKind,
    /// The root's `$defs`, to tell a `$ref` to a structure from one to an enumeration.
    defs: Map<String, Value>,
    /// Structures declared inline in properties, collected while their parents are read.
    nested: RefCell<Vec<(String, Struct)>>,
}

type Result<T, E = SchemaError> = std::result::Result<T, E>;

impl Reader<'_> {
    fn error(&self, pointer: &str, message: impl Into<String>) -> SchemaError {
        SchemaError {
            schema: self.schema.to_string(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }

    fn model(&self, root: &Value) -> Result<Model> {
        let root_obj = self.object(root, "")?;
        match root_obj.get("$schema").and_then(Value::as_str) {
            Some(DRAFT_2020_12) => {}
            _ => {
                return Err(self.error(
                    "/$schema",
                    format!("must be \"{DRAFT_2020_12}\" (JSON Schema draft 2020-12)"),
                ));
            }
        }
        let defs = match root_obj.get("$defs") {
            None => Map::new(),
            Some(defs) => self.object(defs, "/$defs")?.clone(),
        };
        let mut model = Model {
            schema_name: self.schema.to_string(),
            kind: self.kind,
            description: self.description(root_obj, "")?,
            structs: Vec::new(),
            enums: Vec::new(),
            constants: Vec::new(),
            error_kinds: Vec::new(),
        };
        match self.kind {
            SchemaKind::Envelope => {
                model.constants = self.constants(root_obj)?;
                model.error_kinds = self.error_kinds(root_obj)?;
                model.structs.push(self.structure(root, "", None)?);
                model.structs.extend(self.take_nested());
            }
            SchemaKind::Payloads => self.payload_root(root_obj, &defs)?,
        }
        for (name, def) in &defs {
            let pointer = format!("/$defs/{name}");
            let def_obj = self.object(def, &pointer)?;
            match def_obj.get("type").and_then(Value::as_str) {
                Some("object") => {
                    model
                        .structs
                        .push(self.structure(def, &pointer, Some(name))?);
                    model.structs.extend(self.take_nested());
                }
                Some("string") => model.enums.push(self.enumeration(def, &pointer, name)?),
                _ => {
                    return Err(self.error(
                        &format!("{pointer}/type"),
                        "a $defs entry must be an object (a structure) or a string enumeration",
                    ));
                }
            }
        }
        self.check_references(&model, &defs)?;
        self.check_names(&model)?;
        Ok(model)
    }

    /// The root of a payload schema: `$defs` and its documentation, nothing of an envelope.
    fn payload_root(&self, root: &Map<String, Value>, defs: &Map<String, Value>) -> Result<()> {
        for key in [
            "properties",
            "required",
            "type",
            "x-constants",
            "x-error-kinds",
        ] {
            if root.contains_key(key) {
                return Err(self.error(
                    &format!("/{key}"),
                    "a payload schema has no root object: its payload types are the $defs entries (x-constants and x-error-kinds belong to the envelope schema)",
                ));
            }
        }
        self.only_keywords(root, "", PAYLOAD_ROOT_KEYWORDS)?;
        let has_type = defs
            .values()
            .any(|d| d.get("type").and_then(Value::as_str) == Some("object"));
        if !has_type {
            return Err(self.error(
                "/$defs",
                "a payload schema needs at least one $defs object (a payload type)",
            ));
        }
        Ok(())
    }

    /// The keywords allowed where `base` lists the envelope's: a payload schema drops the
    /// envelope's fills and adds bounds.
    fn keywords<'k>(&self, base: &[&'k str]) -> Vec<&'k str> {
        match self.kind {
            SchemaKind::Envelope => base.to_vec(),
            SchemaKind::Payloads => base
                .iter()
                .copied()
                .filter(|k| !ENVELOPE_ONLY_KEYWORDS.contains(k))
                .chain(PAYLOAD_EXTRA_KEYWORDS.iter().copied())
                .collect(),
        }
    }

    fn take_nested(&self) -> Vec<Struct> {
        std::mem::take(&mut *self.nested.borrow_mut())
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    /// `x-constants`: `{"size_threshold": {"description": ..., "value": 1000000}, ...}`.
    fn constants(&self, root: &Map<String, Value>) -> Result<Vec<Constant>> {
        let Some(node) = root.get("x-constants") else {
            return Ok(Vec::new());
        };
        let pointer = "/x-constants";
        let mut constants = Vec::new();
        for (name, def) in self.object(node, pointer)? {
            let item_pointer = format!("{pointer}/{name}");
            self.field_name(name, &item_pointer)?;
            let def = self.object(def, &item_pointer)?;
            self.only_keywords(def, &item_pointer, &["description", "value"])?;
            let value = def.get("value").and_then(Value::as_u64).ok_or_else(|| {
                self.error(
                    &format!("{item_pointer}/value"),
                    "must be a non-negative integer",
                )
            })?;
            constants.push(Constant {
                name: name.clone(),
                description: self.description(def, &item_pointer)?,
                value,
            });
        }
        Ok(constants)
    }

    /// `x-error-kinds`: `{"not_json": "description", ...}`.
    fn error_kinds(&self, root: &Map<String, Value>) -> Result<Vec<ErrorKindDef>> {
        let Some(node) = root.get("x-error-kinds") else {
            return Ok(Vec::new());
        };
        let pointer = "/x-error-kinds";
        let mut kinds = Vec::new();
        for (name, description) in self.object(node, pointer)? {
            let item_pointer = format!("{pointer}/{name}");
            self.field_name(name, &item_pointer)?;
            let description = description
                .as_str()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .ok_or_else(|| self.error(&item_pointer, "must be the kind's description"))?;
            kinds.push(ErrorKindDef {
                name: name.clone(),
                description: description.to_string(),
            });
        }
        Ok(kinds)
    }

    /// Two structures, or a structure and an enumeration, must not share a type name (an
    /// inline object's generated name may meet a `$defs` key).
    fn check_names(&self, model: &Model) -> Result<()> {
        let mut seen: Vec<&str> = Vec::new();
        for name in model
            .structs
            .iter()
            .map(|s| s.name.as_str())
            .chain(model.enums.iter().map(|e| e.name.as_str()))
        {
            if seen.contains(&name) {
                return Err(self.error(
                    "",
                    format!("type name \"{name}\" is used twice (give an inline object a title of its own)"),
                ));
            }
            if self.kind == SchemaKind::Payloads && PAYLOAD_RESERVED_TYPE_NAMES.contains(&name) {
                return Err(self.error(
                    "",
                    format!("type name \"{name}\" is taken in the generated code (a name it imports or the language's own); rename the $defs entry or give the inline object a title"),
                ));
            }
            seen.push(name);
        }
        Ok(())
    }

    fn structure(&self, node: &Value, pointer: &str, def_name: Option<&str>) -> Result<Struct> {
        let obj = self.object(node, pointer)?;
        self.only_keywords(obj, pointer, STRUCT_KEYWORDS)?;
        if def_name.is_some()
            && ["$schema", "$defs", "x-constants", "x-error-kinds"]
                .iter()
                .any(|k| obj.contains_key(*k))
        {
            return Err(self.error(
                pointer,
                "$schema, $defs, x-constants and x-error-kinds belong on the root only",
            ));
        }
        if obj.get("type").and_then(Value::as_str) != Some("object") {
            return Err(self.error(
                &format!("{pointer}/type"),
                "a structure must have type \"object\"",
            ));
        }
        let name = match (obj.get("title").and_then(Value::as_str), def_name) {
            (Some(title), Some(def)) if title != def => {
                return Err(self.error(
                    &format!("{pointer}/title"),
                    format!("title \"{title}\" differs from its $defs key \"{def}\""),
                ));
            }
            (Some(title), _) => title.to_string(),
            (None, Some(def)) => def.to_string(),
            (None, None) => {
                return Err(self.error(
                    pointer,
                    "the root needs a title: it names the envelope type",
                ));
            }
        };
        self.type_name(&name, pointer)?;
        let description = self.description(obj, pointer)?;
        let mut body = self.struct_body(name, description, obj, pointer)?;
        body.in_defs = def_name.is_some();
        Ok(body)
    }

    /// The fields of a structure (a `$defs` object, the root, or an inline object property).
    fn struct_body(
        &self,
        name: String,
        description: String,
        obj: &Map<String, Value>,
        pointer: &str,
    ) -> Result<Struct> {
        let properties = obj
            .get("properties")
            .ok_or_else(|| self.error(pointer, "a structure needs properties"))?;
        let properties = self.object(properties, &format!("{pointer}/properties"))?;
        let required = self.required(obj, pointer, properties)?;
        let mut fields: Vec<Field> = Vec::new();
        for (key, property) in properties {
            let field_pointer = format!("{pointer}/properties/{key}");
            let field = self.field(
                &name,
                key,
                property,
                &field_pointer,
                required.contains(&key.as_str()),
            )?;
            for spelling in std::iter::once(&field.name).chain(&field.aliases) {
                if let Some(other) = fields
                    .iter()
                    .find(|f| f.name == *spelling || f.aliases.contains(spelling))
                {
                    return Err(self.error(
                        &field_pointer,
                        format!(
                            "key \"{spelling}\" is already used by property \"{}\"",
                            other.name
                        ),
                    ));
                }
            }
            fields.push(field);
        }
        self.reply_fills(&fields, pointer)?;
        Ok(Struct {
            name,
            description,
            fields,
            in_defs: false,
        })
    }

    /// `x-reply-fills` belongs on the envelope (the root) and names one of its string fields
    /// that every message carries.
    fn reply_fills(&self, fields: &[Field], pointer: &str) -> Result<()> {
        for field in fields {
            let Some(source) = &field.reply_fill else {
                continue;
            };
            let at = format!("{pointer}/properties/{}/x-reply-fills", field.name);
            if !pointer.is_empty() {
                return Err(self.error(&at, "only the envelope's own fields are filled by a reply"));
            }
            match fields.iter().find(|f| f.name == *source) {
                Some(f) if matches!(f.ty, FieldType::String { .. }) && !f.optional => {}
                Some(_) => {
                    return Err(self.error(
                        &at,
                        format!("\"{source}\" must be a string every message carries (required or with a default)"),
                    ));
                }
                None => {
                    return Err(
                        self.error(&at, format!("\"{source}\" is not a field of the envelope"))
                    );
                }
            }
        }
        Ok(())
    }

    fn required<'v>(
        &self,
        obj: &'v Map<String, Value>,
        pointer: &str,
        properties: &Map<String, Value>,
    ) -> Result<Vec<&'v str>> {
        let pointer = format!("{pointer}/required");
        let Some(required) = obj.get("required") else {
            return Ok(Vec::new());
        };
        let list = required
            .as_array()
            .ok_or_else(|| self.error(&pointer, "must be an array of property names"))?;
        let mut names = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let name = item
                .as_str()
                .ok_or_else(|| self.error(&format!("{pointer}/{i}"), "must be a property name"))?;
            if !properties.contains_key(name) {
                return Err(self.error(
                    &format!("{pointer}/{i}"),
                    format!("\"{name}\" is not a property of this structure"),
                ));
            }
            names.push(name);
        }
        Ok(names)
    }

    fn field(
        &self,
        parent: &str,
        key: &str,
        node: &Value,
        pointer: &str,
        required: bool,
    ) -> Result<Field> {
        let obj = self.object(node, pointer)?;
        self.only_keywords(obj, pointer, &self.keywords(PROPERTY_KEYWORDS))?;
        self.field_name(key, pointer)?;
        let description = self.description(obj, pointer)?;
        let aliases = match obj.get("x-aliases") {
            None => Vec::new(),
            Some(v) => self.string_list(v, &format!("{pointer}/x-aliases"))?,
        };
        if aliases.len() > 100 {
            return Err(self.error(
                &format!("{pointer}/x-aliases"),
                "at most 100 aliases per key",
            ));
        }
        let inline_name = || format!("{parent}{}", pascal_case(key));
        let ty = self.value_type(obj, pointer, &inline_name, &description, true)?;
        let range = match &ty {
            FieldType::Array { item, .. } => {
                let items = obj.get("items").and_then(Value::as_object);
                match items {
                    Some(items) => self.range(items, &format!("{pointer}/items"), item)?,
                    None => None,
                }
            }
            other => self.range(obj, pointer, other)?,
        };
        let default = match obj.get("default") {
            None => None,
            Some(value) => Some(self.default(value, &ty, &format!("{pointer}/default"))?),
        };
        if let (Some(range), Some(default)) = (&range, &default) {
            self.default_in_range(default, range, &format!("{pointer}/default"))?;
        }
        let sender_fill = match obj.get("x-sender-fills") {
            None => None,
            Some(value) => {
                let fill_pointer = format!("{pointer}/x-sender-fills");
                let fill = SenderFill::ALL
                    .into_iter()
                    .find(|f| value.as_str() == Some(f.as_str()))
                    .ok_or_else(|| {
                        let names: Vec<&str> = SenderFill::ALL.iter().map(|f| f.as_str()).collect();
                        self.error(
                            &fill_pointer,
                            format!("must be one of {}", names.join(", ")),
                        )
                    })?;
                if fill != SenderFill::Computed && !matches!(ty, FieldType::String { .. }) {
                    return Err(self.error(&fill_pointer, "only a string can be filled this way"));
                }
                Some(fill)
            }
        };
        let reply_fill = match obj.get("x-reply-fills") {
            None => None,
            Some(value) => {
                let fill_pointer = format!("{pointer}/x-reply-fills");
                let source = value.as_str().ok_or_else(|| {
                    self.error(&fill_pointer, "must name a field of the request (a string)")
                })?;
                if !matches!(ty, FieldType::String { constant: None, .. }) {
                    return Err(self.error(&fill_pointer, "only a string can be filled this way"));
                }
                if required && default.is_none() && sender_fill.is_none() {
                    return Err(self.error(
                        &fill_pointer,
                        "a reply fills only a field the caller may leave unset: give it a default",
                    ));
                }
                if sender_fill == Some(SenderFill::Computed) {
                    return Err(self.error(
                        &fill_pointer,
                        "a computed field is not the caller's to leave unset",
                    ));
                }
                Some(source.to_string())
            }
        };
        let optional = !required && default.is_none();
        if let FieldType::String {
            constant: Some(constant),
            ..
        } = &ty
            && let Some(DefaultValue::String(text)) = &default
            && text != constant
        {
            return Err(self.error(
                &format!("{pointer}/default"),
                format!("differs from const \"{constant}\""),
            ));
        }
        Ok(Field {
            name: key.to_string(),
            aliases,
            description,
            ty,
            default,
            optional,
            sender_fill,
            reply_fill,
            range,
        })
    }

    /// The bounds of an integer or a number (payload schemas): `minimum` (besides the 0 that
    /// makes an integer unsigned) and `maximum`, inclusive, within the type's range.
    fn range(
        &self,
        obj: &Map<String, Value>,
        pointer: &str,
        ty: &FieldType,
    ) -> Result<Option<Range>> {
        if self.kind != SchemaKind::Payloads {
            return Ok(None);
        }
        let limit = |key: &str| -> Result<Option<Limit>> {
            let Some(value) = obj.get(key) else {
                return Ok(None);
            };
            let at = format!("{pointer}/{key}");
            match ty {
                FieldType::Unsigned | FieldType::Signed => {
                    let n = value
                        .as_i64()
                        .map(i128::from)
                        .or_else(|| value.as_u64().map(i128::from))
                        .ok_or_else(|| self.error(&at, "must be an integer"))?;
                    let (low, high) = if *ty == FieldType::Unsigned {
                        (0, i128::from(u64::MAX))
                    } else {
                        (i128::from(i64::MIN), i128::from(i64::MAX))
                    };
                    if n < low || n > high {
                        return Err(self.error(&at, "out of the integer's range"));
                    }
                    Ok(Some(Limit::Integer(n)))
                }
                FieldType::Number => match value.as_f64() {
                    Some(x) if x.is_finite() && value.is_number() => Ok(Some(Limit::Number(x))),
                    _ => Err(self.error(&at, "must be a finite number")),
                },
                _ => Err(self.error(&at, format!("{key} applies to integers and numbers only"))),
            }
        };
        let mut minimum = limit("minimum")?;
        if *ty == FieldType::Unsigned && minimum == Some(Limit::Integer(0)) {
            minimum = None; // the type says so already
        }
        let maximum = limit("maximum")?;
        let as_f64 = |l: Limit| match l {
            Limit::Integer(n) => n as f64,
            Limit::Number(x) => x,
        };
        if let (Some(low), Some(high)) = (minimum, maximum) {
            let crossed = match (low, high) {
                (Limit::Integer(a), Limit::Integer(b)) => a > b,
                (a, b) => as_f64(a) > as_f64(b),
            };
            if crossed {
                return Err(self.error(&format!("{pointer}/maximum"), "is below minimum"));
            }
        }
        Ok((minimum.is_some() || maximum.is_some()).then_some(Range { minimum, maximum }))
    }

    fn default_in_range(&self, default: &DefaultValue, range: &Range, pointer: &str) -> Result<()> {
        let value = match default {
            DefaultValue::Unsigned(n) => i128::from(*n) as f64,
            DefaultValue::Signed(n) => *n as f64,
            DefaultValue::Number(x) => *x,
            _ => return Ok(()),
        };
        let below = |l: &Limit| match l {
            Limit::Integer(n) => value < *n as f64,
            Limit::Number(x) => value < *x,
        };
        let above = |l: &Limit| match l {
            Limit::Integer(n) => value > *n as f64,
            Limit::Number(x) => value > *x,
        };
        if range.minimum.as_ref().is_some_and(below) || range.maximum.as_ref().is_some_and(above) {
            return Err(self.error(pointer, "outside minimum and maximum"));
        }
        Ok(())
    }

    /// The type of a property (`property: true`) or of an array's items.
    fn value_type(
        &self,
        obj: &Map<String, Value>,
        pointer: &str,
        inline_name: &dyn Fn() -> String,
        description: &str,
        property: bool,
    ) -> Result<FieldType> {
        let max_bytes = || self.max_bytes(obj, pointer);
        let not_here = |keywords: &[&str], ty: &str| -> Result<()> {
            match keywords.iter().find(|k| obj.contains_key(**k)) {
                Some(keyword) => Err(self.error(
                    &format!("{pointer}/{keyword}"),
                    format!("{keyword} does not apply to {ty}"),
                )),
                None => Ok(()),
            }
        };
        const STRUCTURE: &[&str] = &["properties", "required", "title"];
        if let Some(reference) = obj.get("$ref") {
            if obj.contains_key("type") {
                return Err(self.error(pointer, "give either $ref or type, not both"));
            }
            not_here(
                &[
                    "items",
                    "maxItems",
                    "minimum",
                    "maximum",
                    "x-max-bytes",
                    "const",
                    "format",
                    "properties",
                    "required",
                    "title",
                ],
                "a $ref property",
            )?;
            let name = self.reference(reference, &format!("{pointer}/$ref"))?;
            let is_struct = self
                .defs
                .get(&name)
                .and_then(|d| d.get("type"))
                .and_then(Value::as_str)
                == Some("object");
            if is_struct {
                return Ok(FieldType::Struct(name));
            }
            if obj.contains_key("default") {
                return Err(self.error(
                    &format!("{pointer}/default"),
                    "an enumeration property takes no default (give it as required)",
                ));
            }
            return Ok(FieldType::Enum(name));
        }
        let ty = match obj.get("type") {
            Some(Value::String(ty)) => ty.as_str(),
            Some(Value::Array(_)) => {
                return Err(self.error(
                    &format!("{pointer}/type"),
                    "a list of types (such as a nullable type) cannot be carried to the no_std SDK; give one type",
                ));
            }
            _ => return Err(self.error(pointer, "needs a type or a $ref")),
        };
        match ty {
            "string" => {
                not_here(&["items", "maxItems", "minimum", "maximum"], "a string")?;
                not_here(STRUCTURE, "a string")?;
                let max_bytes = max_bytes()?;
                let format = match obj.get("format") {
                    None => None,
                    Some(f) => Some(match f.as_str() {
                        Some("uuid") => StringFormat::Uuid,
                        Some("date-time") => StringFormat::DateTime,
                        _ => {
                            return Err(self.error(
                                &format!("{pointer}/format"),
                                "supported formats are uuid and date-time",
                            ));
                        }
                    }),
                };
                let needed = match format {
                    Some(StringFormat::Uuid) => 36,
                    Some(StringFormat::DateTime) => 35,
                    None => 0,
                };
                if max_bytes < needed {
                    return Err(self.error(
                        &format!("{pointer}/x-max-bytes"),
                        format!("a string of this format needs at least {needed} bytes"),
                    ));
                }
                let constant = match obj.get("const") {
                    None => None,
                    Some(Value::String(c)) if c.len() <= max_bytes => Some(c.clone()),
                    Some(_) => {
                        return Err(self.error(
                            &format!("{pointer}/const"),
                            "must be a string within x-max-bytes",
                        ));
                    }
                };
                Ok(FieldType::String {
                    max_bytes,
                    format,
                    constant,
                })
            }
            "boolean" | "number" => {
                let bounded = ty == "number" && self.kind == SchemaKind::Payloads;
                let refused: &[&str] = if bounded {
                    &["items", "maxItems", "x-max-bytes", "const", "format"]
                } else {
                    &["items", "maxItems", "minimum", "maximum", "x-max-bytes", "const", "format"]
                };
                not_here(
                    refused,
                    if ty == "boolean" { "a boolean" } else { "a number" },
                )?;
                not_here(STRUCTURE, "a scalar")?;
                Ok(if ty == "boolean" {
                    FieldType::Bool
                } else {
                    FieldType::Number
                })
            }
            "integer" => {
                not_here(
                    &["items", "maxItems", "x-max-bytes", "const", "format"],
                    "an integer",
                )?;
                not_here(STRUCTURE, "an integer")?;
                match obj.get("minimum") {
                    None => Ok(FieldType::Signed),
                    Some(m) if m.as_u64() == Some(0) => Ok(FieldType::Unsigned),
                    // Payload schemas: any integer bound; a non-negative minimum is unsigned.
                    Some(m) if self.kind == SchemaKind::Payloads && m.is_u64() => {
                        Ok(FieldType::Unsigned)
                    }
                    Some(m) if self.kind == SchemaKind::Payloads && m.is_i64() => {
                        Ok(FieldType::Signed)
                    }
                    Some(_) if self.kind == SchemaKind::Payloads => Err(self.error(
                        &format!("{pointer}/minimum"),
                        "the minimum of an integer must be an integer",
                    )),
                    Some(_) => Err(self.error(
                        &format!("{pointer}/minimum"),
                        "minimum must be 0 (an unsigned integer, u64) or absent (a signed integer, i64)",
                    )),
                }
            }
            "object" => {
                not_here(
                    &["items", "maxItems", "minimum", "maximum", "const", "format"],
                    "an object",
                )?;
                if obj.contains_key("properties") {
                    not_here(&["x-max-bytes"], "an object with properties")?;
                    let name = match obj.get("title") {
                        Some(Value::String(t)) => t.clone(),
                        Some(_) => {
                            return Err(self.error(&format!("{pointer}/title"), "must be a string"));
                        }
                        None => inline_name(),
                    };
                    self.type_name(&name, pointer)?;
                    let body = self.struct_body(name.clone(), description.to_string(), obj, pointer)?;
                    self.nested.borrow_mut().push((pointer.to_string(), body));
                    return Ok(FieldType::Struct(name));
                }
                not_here(&["required", "title"], "a free-form object (one without properties)")?;
                if self.kind == SchemaKind::Payloads {
                    return Err(self.error(
                        pointer,
                        "free-form objects are not supported in payload schemas yet: declare the properties",
                    ));
                }
                if !property {
                    return Err(self.error(
                        pointer,
                        "array items cannot be free-form objects; declare their properties",
                    ));
                }
                let max_bytes = max_bytes()?;
                if max_bytes < 2 {
                    return Err(self.error(
                        &format!("{pointer}/x-max-bytes"),
                        "an object needs at least 2 bytes (the empty object {})",
                    ));
                }
                Ok(FieldType::FreeObject { max_bytes })
            }
            "array" => {
                if !property {
                    return Err(self.error(pointer, "arrays of arrays are not supported"));
                }
                not_here(&["minimum", "maximum", "x-max-bytes", "const", "format"], "an array")?;
                not_here(STRUCTURE, "an array")?;
                let items_pointer = format!("{pointer}/items");
                let items = obj
                    .get("items")
                    .ok_or_else(|| self.error(pointer, "an array needs items"))?;
                let items = self.object(items, &items_pointer)?;
                self.only_keywords(items, &items_pointer, &self.keywords(ITEM_KEYWORDS))?;
                let item_name = || format!("{}Item", inline_name());
                let item_description = match items.get("description").and_then(Value::as_str) {
                    Some(d) => d.trim().to_string(),
                    None => format!("One item of: {description}"),
                };
                let item = self.value_type(items, &items_pointer, &item_name, &item_description, false)?;
                let max_items = obj
                    .get("maxItems")
                    .and_then(Value::as_u64)
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        self.error(
                            pointer,
                            "an array needs maxItems (a positive integer): the no_std SDK stores it in a fixed-capacity vector",
                        )
                    })?;
                Ok(FieldType::Array {
                    item: Box::new(item),
                    max_items: max_items as usize,
                })
            }
            other => Err(self.error(
                &format!("{pointer}/type"),
                format!("type \"{other}\" is not supported; use string, boolean, integer, number, object, array or a $ref"),
            )),
        }
    }

    fn max_bytes(&self, obj: &Map<String, Value>, pointer: &str) -> Result<usize> {
        match obj.get("x-max-bytes") {
            None => Err(self.error(
                pointer,
                "needs x-max-bytes: the no_std SDK stores it in a fixed-capacity buffer (maxLength counts characters, not bytes)",
            )),
            Some(v) => v
                .as_u64()
                .filter(|n| *n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| self.error(&format!("{pointer}/x-max-bytes"), "must be a positive integer")),
        }
    }

    fn default(&self, value: &Value, ty: &FieldType, pointer: &str) -> Result<DefaultValue> {
        match (ty, value) {
            (FieldType::String { max_bytes, format, .. }, Value::String(s)) => {
                if s.len() > *max_bytes {
                    return Err(
                        self.error(pointer, format!("longer than x-max-bytes ({max_bytes})"))
                    );
                }
                if !s.is_empty() && format.is_some() {
                    return Err(self.error(
                        pointer,
                        "a string with a format can only default to \"\" (not given)",
                    ));
                }
                Ok(DefaultValue::String(s.clone()))
            }
            (FieldType::FreeObject { .. }, Value::Object(map)) if map.is_empty() => {
                Ok(DefaultValue::EmptyObject)
            }
            (FieldType::Struct(_), Value::Object(map)) if map.is_empty() => {
                Ok(DefaultValue::StructDefaults)
            }
            (FieldType::Array { .. }, Value::Array(items)) if items.is_empty() => {
                Ok(DefaultValue::EmptyArray)
            }
            (FieldType::Bool, Value::Bool(b)) => Ok(DefaultValue::Bool(*b)),
            (FieldType::Unsigned, Value::Number(n)) if n.is_u64() => {
                Ok(DefaultValue::Unsigned(n.as_u64().unwrap_or_default()))
            }
            (FieldType::Signed, Value::Number(n)) if n.is_i64() => {
                Ok(DefaultValue::Signed(n.as_i64().unwrap_or_default()))
            }
            (FieldType::Number, Value::Number(n)) => match n.as_f64() {
                Some(f) if f.is_finite() => Ok(DefaultValue::Number(f)),
                _ => Err(self.error(pointer, "must be a finite number")),
            },
            _ => Err(self.error(
                pointer,
                "supported defaults: a string for a string, true/false for a boolean, an integer in range for an integer, a number for a number, {} for an object or a structure whose fields all have defaults, [] for an array",
            )),
        }
    }

    fn enumeration(&self, node: &Value, pointer: &str, name: &str) -> Result<Enum> {
        let obj = self.object(node, pointer)?;
        self.only_keywords(obj, pointer, ENUM_KEYWORDS)?;
        if let Some(title) = obj.get("title").and_then(Value::as_str)
            && title != name
        {
            return Err(self.error(
                &format!("{pointer}/title"),
                format!("title \"{title}\" differs from its $defs key \"{name}\""),
            ));
        }
        self.type_name(name, pointer)?;
        let description = self.description(obj, pointer)?;
        let one_of_pointer = format!("{pointer}/oneOf");
        let one_of = obj
            .get("oneOf")
            .and_then(Value::as_array)
            .filter(|list| !list.is_empty())
            .ok_or_else(|| {
                self.error(
                    pointer,
                    "a string enumeration needs oneOf: a list of {\"const\": value, \"description\": text}",
                )
            })?;
        let mut values = Vec::new();
        for (i, item) in one_of.iter().enumerate() {
            let item_pointer = format!("{one_of_pointer}/{i}");
            let item_obj = self.object(item, &item_pointer)?;
            self.only_keywords(item_obj, &item_pointer, &["const", "description"])?;
            let wire = item_obj
                .get("const")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    self.error(&item_pointer, "each oneOf entry needs a string const")
                })?;
            let description = self.description(item_obj, &item_pointer)?;
            values.push(EnumValue {
                wire: wire.to_string(),
                description,
                receive_only: false,
            });
        }
        if let Some(extra) = obj.get("x-receive-only") {
            let extra_pointer = format!("{pointer}/x-receive-only");
            let extra = self.object(extra, &extra_pointer)?;
            for (wire, description) in extra {
                let description = description.as_str().ok_or_else(|| {
                    self.error(
                        &format!("{extra_pointer}/{wire}"),
                        "must be the value's description",
                    )
                })?;
                values.push(EnumValue {
                    wire: wire.clone(),
                    description: description.to_string(),
                    receive_only: true,
                });
            }
        }
        let mut variants: Vec<String> = Vec::new();
        for value in &values {
            let variant = value.variant();
            let valid = variant
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase())
                && variant.chars().all(|c| c.is_ascii_alphanumeric());
            if !valid || variant == "Other" {
                return Err(self.error(
                    pointer,
                    format!(
                        "value \"{}\" gives no usable identifier (\"{variant}\")",
                        value.wire
                    ),
                ));
            }
            if variants.contains(&variant) {
                return Err(self.error(pointer, format!("value \"{}\" is given twice", value.wire)));
            }
            variants.push(variant);
        }
        let mut aliases = Vec::new();
        if let Some(map) = obj.get("x-enum-aliases") {
            let aliases_pointer = format!("{pointer}/x-enum-aliases");
            for (alias, target) in self.object(map, &aliases_pointer)? {
                let target = target
                    .as_str()
                    .filter(|t| values.iter().any(|v| v.wire == *t))
                    .ok_or_else(|| {
                        self.error(
                            &format!("{aliases_pointer}/{alias}"),
                            "must name a value of this enumeration",
                        )
                    })?;
                if values.iter().any(|v| v.wire == *alias) {
                    return Err(self.error(
                        &format!("{aliases_pointer}/{alias}"),
                        "an alias cannot also be a value",
                    ));
                }
                aliases.push((alias.clone(), target.to_string()));
            }
        }
        let open = match obj.get("x-open-enum") {
            None | Some(Value::Bool(false)) => {
                if obj.contains_key("x-max-bytes") {
                    return Err(self.error(
                        &format!("{pointer}/x-max-bytes"),
                        "only an open enumeration (x-open-enum) stores names of its own",
                    ));
                }
                None
            }
            Some(Value::Bool(true)) => Some(self.max_bytes(obj, pointer)?),
            Some(_) => {
                return Err(self.error(&format!("{pointer}/x-open-enum"), "must be true or false"));
            }
        };
        Ok(Enum {
            name: name.to_string(),
            description,
            values,
            aliases,
            open,
        })
    }

    fn check_references(&self, model: &Model, defs: &Map<String, Value>) -> Result<()> {
        let envelope = model.kind == SchemaKind::Envelope;
        let pointer_of = |s_index: usize, s: &Struct, field: &Field| {
            let base = if s_index == 0 && envelope {
                String::new()
            } else if defs.contains_key(&s.name) {
                format!("/$defs/{}", s.name)
            } else {
                format!("(inline {})", s.name)
            };
            format!("{base}/properties/{}", field.name)
        };
        for (s_index, s) in model.structs.iter().enumerate() {
            for field in &s.fields {
                let pointer = pointer_of(s_index, s, field);
                let (ty, ref_pointer) = match &field.ty {
                    FieldType::Array { item, .. } => {
                        (item.as_ref(), format!("{pointer}/items/$ref"))
                    }
                    other => (other, format!("{pointer}/$ref")),
                };
                match ty {
                    FieldType::Enum(name) if !model.enums.iter().any(|e| e.name == *name) => {
                        let what = if defs.contains_key(name) {
                            "is not a string enumeration"
                        } else {
                            "does not exist"
                        };
                        return Err(self.error(&ref_pointer, format!("#/$defs/{name} {what}")));
                    }
                    FieldType::Struct(name) if envelope && *name == model.root().name => {
                        return Err(self.error(&ref_pointer, "the envelope cannot be nested"));
                    }
                    _ => {}
                }
                if field.default == Some(DefaultValue::StructDefaults)
                    && let FieldType::Struct(name) = &field.ty
                {
                    let inner = model.struct_named(name);
                    if let Some(f) = inner
                        .fields
                        .iter()
                        .find(|f| f.default.is_none() && !f.optional)
                    {
                        return Err(self.error(
                            &format!("{pointer}/default"),
                            format!("{{}} needs defaults for every field of {name}, and \"{}\" has none", f.name),
                        ));
                    }
                }
            }
        }
        // A structure must not contain itself, directly or through others: the no_std SDK
        // has fixed sizes.
        for s in &model.structs {
            let mut stack: Vec<&str> = vec![&s.name];
            let mut seen: Vec<&str> = Vec::new();
            while let Some(name) = stack.pop() {
                let Some(current) = model.structs.iter().find(|t| t.name == name) else {
                    continue;
                };
                for field in &current.fields {
                    let inner = match &field.ty {
                        FieldType::Struct(n) => Some(n.as_str()),
                        FieldType::Array { .. } => field.ty.struct_item(),
                        _ => None,
                    };
                    if let Some(inner) = inner {
                        if inner == s.name {
                            return Err(self.error(
                                &format!("/$defs/{}", s.name),
                                "a structure cannot contain itself (the no_std SDK has fixed sizes)",
                            ));
                        }
                        if !seen.contains(&inner) {
                            seen.push(inner);
                            stack.push(inner);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn reference(&self, value: &Value, pointer: &str) -> Result<String> {
        value
            .as_str()
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .filter(|name| !name.contains('/'))
            .map(str::to_string)
            .ok_or_else(|| {
                self.error(
                    pointer,
                    "only references of the form #/$defs/Name are supported",
                )
            })
    }

    fn description(&self, obj: &Map<String, Value>, pointer: &str) -> Result<String> {
        obj.get("description")
            .and_then(Value::as_str)
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .ok_or_else(|| {
                self.error(
                    pointer,
                    "needs a description: it becomes the doc comment in every SDK",
                )
            })
    }

    fn string_list(&self, value: &Value, pointer: &str) -> Result<Vec<String>> {
        let list = value
            .as_array()
            .ok_or_else(|| self.error(pointer, "must be an array of strings"))?;
        list.iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.error(&format!("{pointer}/{i}"), "must be a string"))
            })
            .collect()
    }

    fn field_name(&self, name: &str, pointer: &str) -> Result<()> {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(self.error(
                pointer,
                format!(
                    "property name \"{name}\" is not a snake_case identifier, so it cannot be a field in Rust or an attribute in Python; keep the old spelling as an x-aliases entry"
                ),
            ));
        }
        if RESERVED_WORDS.contains(&name) {
            return Err(self.error(
                pointer,
                format!("property name \"{name}\" is a reserved word in Rust or Python; keep it as an x-aliases entry"),
            ));
        }
        Ok(())
    }

    fn type_name(&self, name: &str, pointer: &str) -> Result<()> {
        let valid = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        if valid && pascal_case(name) == name {
            Ok(())
        } else {
            Err(self.error(
                pointer,
                format!("type name \"{name}\" must be PascalCase ASCII"),
            ))
        }
    }

    fn object<'v>(&self, value: &'v Value, pointer: &str) -> Result<&'v Map<String, Value>> {
        value
            .as_object()
            .ok_or_else(|| self.error(pointer, "must be a JSON object"))
    }

    fn only_keywords(
        &self,
        obj: &Map<String, Value>,
        pointer: &str,
        allowed: &[&str],
    ) -> Result<()> {
        for key in obj.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let message = if self.kind == SchemaKind::Payloads
                && ENVELOPE_ONLY_KEYWORDS.contains(&key.as_str())
            {
                format!(
                    "\"{key}\" belongs to the envelope schema: a payload's properties are the caller's to set"
                )
            } else if key.starts_with("x-") {
                format!(
                    "unknown extension keyword \"{key}\" (schema/README.md lists the supported ones)"
                )
            } else {
                format!(
                    "keyword \"{key}\" is not supported here: the generator cannot carry it to all three SDKs"
                )
            };
            return Err(self.error(&format!("{pointer}/{key}"), message));
        }
        Ok(())
    }
}
