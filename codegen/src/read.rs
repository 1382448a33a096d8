//! Reads the JSON Schema into the [`Model`], refusing every construct that one of the three
//! targets could not carry; each refusal names the schema path at fault.

use std::fmt;

use serde_json::{Map, Value};

use crate::model::{DefaultValue, Enum, EnumValue, Field, FieldType, Model, Struct, pascal_case};

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
    "x-aliases",
    "x-max-bytes",
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

/// Reads `schema` (the text of the file called `schema_name`) into a [`Model`].
pub fn read_schema(schema_name: &str, schema: &str) -> Result<Model, SchemaError> {
    let reader = Reader {
        schema: schema_name,
    };
    let root: Value = serde_json::from_str(schema)
        .map_err(|e| reader.error("", format!("not valid JSON: {e}")))?;
    reader.model(&root)
}

struct Reader<'a> {
    schema: &'a str,
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
            structs: Vec::new(),
            enums: Vec::new(),
        };
        model.structs.push(self.structure(root, "", None)?);
        for (name, def) in &defs {
            let pointer = format!("/$defs/{name}");
            let def_obj = self.object(def, &pointer)?;
            match def_obj.get("type").and_then(Value::as_str) {
                Some("object") => model
                    .structs
                    .push(self.structure(def, &pointer, Some(name))?),
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
        Ok(model)
    }

    fn structure(&self, node: &Value, pointer: &str, def_name: Option<&str>) -> Result<Struct> {
        let obj = self.object(node, pointer)?;
        self.only_keywords(obj, pointer, STRUCT_KEYWORDS)?;
        if def_name.is_some() && (obj.contains_key("$schema") || obj.contains_key("$defs")) {
            return Err(self.error(pointer, "$schema and $defs belong on the root only"));
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
        let properties = obj
            .get("properties")
            .ok_or_else(|| self.error(pointer, "a structure needs properties"))?;
        let properties = self.object(properties, &format!("{pointer}/properties"))?;
        let required = self.required(obj, pointer, properties)?;
        let mut fields: Vec<Field> = Vec::new();
        for (key, property) in properties {
            let field_pointer = format!("{pointer}/properties/{key}");
            let field = self.field(
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
        Ok(Struct {
            name,
            description,
            fields,
        })
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

    fn field(&self, key: &str, node: &Value, pointer: &str, required: bool) -> Result<Field> {
        let obj = self.object(node, pointer)?;
        self.only_keywords(obj, pointer, PROPERTY_KEYWORDS)?;
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
        let ty = self.field_type(obj, pointer)?;
        let default = match obj.get("default") {
            None => None,
            Some(value) => Some(self.default(value, &ty, &format!("{pointer}/default"))?),
        };
        if !required && default.is_none() {
            return Err(self.error(
                pointer,
                "a property that is not required needs a default: the SDKs have no null",
            ));
        }
        Ok(Field {
            name: key.to_string(),
            aliases,
            description,
            ty,
            default,
        })
    }

    fn field_type(&self, obj: &Map<String, Value>, pointer: &str) -> Result<FieldType> {
        let max_bytes = || self.max_bytes(obj, pointer);
        let not_here = |keyword: &str, ty: &str| -> Result<()> {
            if obj.contains_key(keyword) {
                Err(self.error(
                    &format!("{pointer}/{keyword}"),
                    format!("{keyword} does not apply to {ty}"),
                ))
            } else {
                Ok(())
            }
        };
        if let Some(reference) = obj.get("$ref") {
            if obj.contains_key("type") {
                return Err(self.error(pointer, "give either $ref or type, not both"));
            }
            for keyword in ["items", "maxItems", "minimum", "x-max-bytes", "default"] {
                not_here(keyword, "a $ref property")?;
            }
            return Ok(FieldType::Enum(
                self.reference(reference, &format!("{pointer}/$ref"))?,
            ));
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
                for keyword in ["items", "maxItems", "minimum"] {
                    not_here(keyword, "a string")?;
                }
                Ok(FieldType::String { max_bytes: max_bytes()? })
            }
            "integer" => {
                for keyword in ["items", "maxItems", "x-max-bytes"] {
                    not_here(keyword, "an integer")?;
                }
                match obj.get("minimum").and_then(Value::as_u64) {
                    Some(0) => Ok(FieldType::Unsigned),
                    _ => Err(self.error(
                        pointer,
                        "an integer needs \"minimum\": 0 (only unsigned integers are supported)",
                    )),
                }
            }
            "object" => {
                for keyword in ["items", "maxItems", "minimum"] {
                    not_here(keyword, "an object")?;
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
                for keyword in ["minimum", "x-max-bytes"] {
                    not_here(keyword, "an array")?;
                }
                let items_pointer = format!("{pointer}/items");
                let items = obj
                    .get("items")
                    .ok_or_else(|| self.error(pointer, "an array needs items"))?;
                let items = self.object(items, &items_pointer)?;
                let reference = match (items.get("$ref"), items.len()) {
                    (Some(reference), 1) => reference,
                    _ => {
                        return Err(self.error(
                            &items_pointer,
                            "array items must be a single $ref to a structure in $defs",
                        ));
                    }
                };
                let item = self.reference(reference, &format!("{items_pointer}/$ref"))?;
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
                Ok(FieldType::Array { item, max_items: max_items as usize })
            }
            other => Err(self.error(
                &format!("{pointer}/type"),
                format!("type \"{other}\" is not supported; use string, integer, object, array or a $ref"),
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
            (FieldType::String { max_bytes }, Value::String(s)) => {
                if s.len() > *max_bytes {
                    return Err(
                        self.error(pointer, format!("longer than x-max-bytes ({max_bytes})"))
                    );
                }
                Ok(DefaultValue::String(s.clone()))
            }
            (FieldType::FreeObject { .. }, Value::Object(map)) if map.is_empty() => {
                Ok(DefaultValue::EmptyObject)
            }
            _ => Err(self.error(
                pointer,
                "supported defaults are a string for a string and {} for an object",
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
        for (s_index, s) in model.structs.iter().enumerate() {
            let base = if s_index == 0 {
                String::new()
            } else {
                format!("/$defs/{}", s.name)
            };
            for field in &s.fields {
                let pointer = format!("{base}/properties/{}", field.name);
                match &field.ty {
                    FieldType::Enum(name) if !model.enums.iter().any(|e| e.name == *name) => {
                        let what = if defs.contains_key(name) {
                            "is not a string enumeration"
                        } else {
                            "does not exist"
                        };
                        return Err(self
                            .error(&format!("{pointer}/$ref"), format!("#/$defs/{name} {what}")));
                    }
                    FieldType::Array { item, .. }
                        if !model.structs.iter().any(|t| t.name == *item) =>
                    {
                        return Err(self.error(
                            &format!("{pointer}/items/$ref"),
                            format!("#/$defs/{item} is not a structure"),
                        ));
                    }
                    FieldType::Array { item, .. }
                        if *item == s.name || *item == model.root().name =>
                    {
                        return Err(self.error(
                            &format!("{pointer}/items/$ref"),
                            "a structure cannot contain itself (the no_std SDK has fixed sizes)",
                        ));
                    }
                    _ => {}
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
            let message = if key.starts_with("x-") {
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
