//! A plain reference receiver of WIRE.md section 7, independent of the SDK crates.
//!
//! It reads the envelope and payload keys, their aliases (`x-aliases`), defaults
//! (`default`), JSON types, closed and open enumerations (`oneOf` consts,
//! `x-receive-only`, `x-enum-aliases`, `x-open-enum`) and no_std capacities
//! (`x-max-bytes`, `maxItems`) from `schema/natsbridge.schema.json` itself, so a receive
//! form the schema does not describe makes a golden fail. What the schema cannot say
//! (which encodings carry base64, which payload types come back as text or JSON) is
//! written here, following WIRE.md sections 3, 4 and 7.
//!
//! * [`decode`]: a message to its expected form (`envelope`, `payloads`) or an error.
//! * [`capacity_error`]: the extra refusal of the no_std SDK (`over_capacity`).
//! * [`normalise`]: the message as the JSON Schema validator sees it.
//! * [`canonical_json`] / [`canonical_message`]: the WIRE.md section 8 writer.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Encodings whose `data` is standard base64 of the serialized bytes (WIRE.md 3 and 7).
const BASE64_ENCODINGS: [&str; 2] = ["base64", "arrow-ipc"];
/// Encodings whose direct `data` is the serialized bytes as UTF-8 text (WIRE.md 7).
const TEXT_ENCODINGS: [&str; 2] = ["json", "none"];
/// Payload types that come back as a string (WIRE.md 4).
const TEXT_TYPES: [&str; 1] = ["text"];
/// Payload types that come back as a JSON value (WIRE.md 4 and 7).
const JSON_TYPES: [&str; 2] = ["dictionary", "jsontable"];

/// A refusal: the error kind of `tests/golden/README.md` and where it was found
/// (`payloads[0].data`, `""` for the whole message), with canonical key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// `not_json`, `not_object`, `missing_key`, `wrong_type`, `bad_value`,
    /// `over_capacity`, `bad_base64` or `size_mismatch`.
    pub kind: String,
    /// The place, e.g. `payloads[0].size`.
    pub at: String,
}

impl DecodeError {
    fn new(kind: &str, at: impl Into<String>) -> Self {
        DecodeError {
            kind: kind.to_owned(),
            at: at.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {:?}", self.kind, self.at)
    }
}

/// A closed or open enumeration of string values, as the schema gives it.
#[derive(Debug, Clone, Default)]
pub struct Enumeration {
    /// The `oneOf` / `enum` constants (what senders send).
    pub values: Vec<String>,
    /// `x-receive-only` values (accepted, never sent).
    pub receive_only: Vec<String>,
    /// `x-enum-aliases`: received value -> canonical value.
    pub aliases: BTreeMap<String, String>,
    /// `x-open-enum`: unknown values are kept, not refused.
    pub open: bool,
}

/// One key of the envelope or of a payload, as the schema describes it.
#[derive(Debug, Clone)]
pub struct Field {
    /// Canonical (snake_case) key.
    pub name: String,
    /// `x-aliases`, in schema order.
    pub aliases: Vec<String>,
    /// JSON Schema `type` (`string`, `object`, `array`, `integer`).
    pub json_type: Option<String>,
    /// `default`, used when the key is missing.
    pub default: Option<Value>,
    /// Listed in `required`.
    pub required: bool,
    /// `x-max-bytes`: UTF-8 length of a string, canonical JSON length of an object.
    pub max_bytes: Option<usize>,
    /// `maxItems` of an array.
    pub max_items: Option<usize>,
    /// `minimum` of an integer.
    pub minimum: Option<i64>,
    /// Enumerated string values, if any.
    pub enumeration: Option<Enumeration>,
}

/// The parts of `schema/natsbridge.schema.json` the reference receiver uses.
#[derive(Debug, Clone)]
pub struct Schema {
    /// The whole schema document.
    pub json: Value,
    /// Envelope keys in wire order (`required` order, then any other properties).
    pub envelope: Vec<Field>,
    /// Payload keys in wire order.
    pub payload: Vec<Field>,
}

impl Schema {
    /// Reads `schema/natsbridge.schema.json`. Panics when it is missing or malformed.
    pub fn load() -> Schema {
        let path = crate::golden::schema_path();
        let text =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let json: Value = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        Schema::from_json(json)
    }

    /// Builds the field tables from a schema document. Panics when its shape is unexpected.
    pub fn from_json(json: Value) -> Schema {
        let envelope = fields_of(&json, &json);
        let payloads = json["properties"]["payloads"]["items"].clone();
        let payload_schema = resolve_ref(&json, &payloads);
        let payload = fields_of(&json, &payload_schema);
        assert!(
            !envelope.is_empty() && !payload.is_empty(),
            "schema has no envelope or payload properties"
        );
        Schema {
            json,
            envelope,
            payload,
        }
    }

    /// The envelope field with this canonical name.
    pub fn envelope_field(&self, name: &str) -> Option<&Field> {
        self.envelope.iter().find(|f| f.name == name)
    }

    /// The payload field with this canonical name.
    pub fn payload_field(&self, name: &str) -> Option<&Field> {
        self.payload.iter().find(|f| f.name == name)
    }
}

/// `{"$ref": "#/..."}` merged over the schema it points to (the referring keys win).
fn resolve_ref(root: &Value, schema: &Value) -> Value {
    let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
        return schema.clone();
    };
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local $ref supported, got {reference}"));
    let target = root
        .pointer(pointer)
        .unwrap_or_else(|| panic!("dangling $ref {reference}"));
    let mut merged = resolve_ref(root, target);
    if let (Value::Object(m), Value::Object(own)) = (&mut merged, schema) {
        for (k, v) in own {
            if k != "$ref" {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    merged
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn fields_of(root: &Value, object_schema: &Value) -> Vec<Field> {
    let props = object_schema["properties"]
        .as_object()
        .expect("object schema without properties");
    let required = strings(object_schema.get("required"));
    let mut order = required.clone();
    let mut rest: Vec<&String> = props.keys().filter(|k| !required.contains(k)).collect();
    rest.sort();
    order.extend(rest.into_iter().cloned());
    order
        .into_iter()
        .map(|name| {
            let raw = props
                .get(&name)
                .unwrap_or_else(|| panic!("required key {name} has no property schema"));
            let s = resolve_ref(root, raw);
            let mut values = strings(s.get("enum"));
            if let Some(one_of) = s.get("oneOf").and_then(Value::as_array) {
                values.extend(
                    one_of
                        .iter()
                        .filter_map(|b| b.get("const").and_then(Value::as_str))
                        .map(str::to_owned),
                );
            }
            let enumeration = (!values.is_empty()).then(|| Enumeration {
                values,
                receive_only: s
                    .get("x-receive-only")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default(),
                aliases: s
                    .get("x-enum-aliases")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default(),
                open: s.get("x-open-enum").and_then(Value::as_bool) == Some(true),
            });
            let usize_of = |key: &str| {
                s.get(key)
                    .and_then(Value::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
            };
            Field {
                required: required.contains(&name),
                aliases: strings(s.get("x-aliases")),
                json_type: s.get("type").and_then(Value::as_str).map(str::to_owned),
                default: s.get("default").cloned(),
                max_bytes: usize_of("x-max-bytes"),
                max_items: usize_of("maxItems"),
                minimum: s.get("minimum").and_then(Value::as_i64),
                enumeration,
                name,
            }
        })
        .collect()
}

/// What a receiver makes of a message (the `envelope` and `payloads` of an
/// `.expect.json`), plus what tests need besides.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Every envelope key but `payloads`, under its canonical name.
    pub envelope: Value,
    /// The expected form of each payload (`id` ... `metadata`, `value`).
    pub payloads: Vec<Value>,
    /// The serialized bytes of each direct payload (`None` for a link).
    pub payload_bytes: Vec<Option<Vec<u8>>>,
    /// The message with aliases resolved, defaults filled and enum aliases mapped, keys
    /// in wire order, `data` as received: what [`capacity_error`] measures.
    pub resolved: Value,
}

/// Decodes a message as the SDKs with unbounded capacities do (WIRE.md section 7).
///
/// Errors are found in this order: JSON, envelope keys (wire order), each payload's keys
/// (payload order, then wire order), then each payload's data.
pub fn decode(schema: &Schema, message: &[u8]) -> Result<Decoded, DecodeError> {
    let value: Value =
        serde_json::from_slice(message).map_err(|_| DecodeError::new("not_json", ""))?;
    let object = value
        .as_object()
        .ok_or_else(|| DecodeError::new("not_object", ""))?;
    let mut envelope = resolve_object(&schema.envelope, object, "")?;
    let Some(Value::Array(raw_payloads)) = envelope.remove("payloads") else {
        return Err(DecodeError::new("missing_key", "payloads"));
    };
    let mut resolved_payloads = Vec::with_capacity(raw_payloads.len());
    for (i, p) in raw_payloads.iter().enumerate() {
        let obj = p
            .as_object()
            .ok_or_else(|| DecodeError::new("wrong_type", format!("payloads[{i}]")))?;
        resolved_payloads.push(resolve_object(
            &schema.payload,
            obj,
            &format!("payloads[{i}]."),
        )?);
    }
    let mut payloads = Vec::new();
    let mut payload_bytes = Vec::new();
    for (i, p) in resolved_payloads.iter().enumerate() {
        let (value, bytes) = decode_data(p, i)?;
        let mut expected = Map::new();
        for f in &schema.payload {
            if f.name != "data"
                && let Some(v) = p.get(&f.name)
            {
                expected.insert(f.name.clone(), v.clone());
            }
        }
        expected.insert("value".into(), value);
        payloads.push(Value::Object(expected));
        payload_bytes.push(bytes);
    }
    let mut resolved = envelope.clone();
    resolved.insert(
        "payloads".into(),
        Value::Array(resolved_payloads.into_iter().map(Value::Object).collect()),
    );
    Ok(Decoded {
        envelope: Value::Object(envelope),
        payloads,
        payload_bytes,
        resolved: Value::Object(resolved),
    })
}

/// The value of `field` in `object`: under its canonical name, else its first alias present.
fn lookup<'a>(object: &'a Map<String, Value>, field: &Field) -> Option<&'a Value> {
    object
        .get(&field.name)
        .or_else(|| field.aliases.iter().find_map(|a| object.get(a)))
}

fn type_ok(field: &Field, v: &Value) -> bool {
    match field.json_type.as_deref() {
        Some("string") => v.is_string(),
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("boolean") => v.is_boolean(),
        Some("number") => v.is_number(),
        Some("integer") => match field.minimum {
            Some(min) if min >= 0 => v.as_u64().is_some_and(|n| n >= min as u64),
            Some(min) => v.as_i64().is_some_and(|n| n >= min),
            None => v.is_i64() || v.is_u64(),
        },
        _ => true,
    }
}

/// The known keys of one object, canonical names, wire order, defaults filled,
/// types and enumerations checked. Unknown keys are dropped.
fn resolve_object(
    fields: &[Field],
    object: &Map<String, Value>,
    prefix: &str,
) -> Result<Map<String, Value>, DecodeError> {
    let mut out = Map::new();
    for f in fields {
        let at = format!("{prefix}{}", f.name);
        let mut v = match (lookup(object, f), &f.default) {
            (Some(v), _) => v.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) if f.required => return Err(DecodeError::new("missing_key", at)),
            (None, None) => continue,
        };
        if !type_ok(f, &v) {
            return Err(DecodeError::new("wrong_type", at));
        }
        if let (Some(e), Some(s)) = (&f.enumeration, v.as_str()) {
            let s = e.aliases.get(s).map(String::as_str).unwrap_or(s);
            let known = e.values.iter().chain(&e.receive_only).any(|k| k == s);
            if !known && !e.open {
                return Err(DecodeError::new("bad_value", at));
            }
            v = Value::String(s.to_owned());
        }
        out.insert(f.name.clone(), v);
    }
    Ok(out)
}

fn str_of<'a>(p: &'a Map<String, Value>, key: &str) -> &'a str {
    p.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The `value` of one resolved payload and, when direct, its serialized bytes.
fn decode_data(p: &Map<String, Value>, i: usize) -> Result<(Value, Option<Vec<u8>>), DecodeError> {
    let data = str_of(p, "data");
    let at = |key: &str| format!("payloads[{i}].{key}");
    match str_of(p, "transport") {
        "link" => {
            let checksum = p
                .get("metadata")
                .and_then(|m| m.get("checksum"))
                .cloned()
                .unwrap_or(Value::Null);
            Ok((json!({"link": {"url": data, "checksum": checksum}}), None))
        }
        "direct" => {
            let encoding = str_of(p, "encoding");
            let bytes = if BASE64_ENCODINGS.contains(&encoding) {
                STANDARD
                    .decode(data)
                    .map_err(|_| DecodeError::new("bad_base64", at("data")))?
            } else if TEXT_ENCODINGS.contains(&encoding) {
                data.as_bytes().to_vec()
            } else {
                return Err(DecodeError::new("bad_value", at("encoding")));
            };
            if p.get("size").and_then(Value::as_u64) != Some(bytes.len() as u64) {
                return Err(DecodeError::new("size_mismatch", at("size")));
            }
            let payload_type = str_of(p, "payload_type");
            // Data that does not parse as its type has no error kind of its own in the
            // README; the reference reports it as bad_value at data.
            let value = if TEXT_TYPES.contains(&payload_type) {
                let s = String::from_utf8(bytes.clone())
                    .map_err(|_| DecodeError::new("bad_value", at("data")))?;
                json!({ "text": s })
            } else if JSON_TYPES.contains(&payload_type) {
                let v: Value = serde_json::from_slice(&bytes)
                    .map_err(|_| DecodeError::new("bad_value", at("data")))?;
                json!({ "json": v })
            } else {
                json!({"bytes": {"len": bytes.len(), "sha256": sha256_hex(&bytes)}})
            };
            Ok((value, Some(bytes)))
        }
        _ => Err(DecodeError::new("bad_value", at("transport"))),
    }
}

/// The first `over_capacity` refusal of the no_std SDK for a decoded message, if any:
/// strings longer (UTF-8 bytes) than `x-max-bytes`, objects whose canonical JSON is longer
/// than `x-max-bytes`, arrays longer than `maxItems`; envelope keys in wire order, then
/// each payload's keys.
pub fn capacity_error(schema: &Schema, decoded: &Decoded) -> Option<DecodeError> {
    let env = decoded.resolved.as_object()?;
    for f in &schema.envelope {
        if let Some(v) = env.get(&f.name)
            && over(f, v)
        {
            return Some(DecodeError::new("over_capacity", f.name.clone()));
        }
    }
    let payloads = env.get("payloads").and_then(Value::as_array)?;
    for (i, p) in payloads.iter().enumerate() {
        for f in &schema.payload {
            if let Some(v) = p.get(&f.name)
                && over(f, v)
            {
                return Some(DecodeError::new(
                    "over_capacity",
                    format!("payloads[{i}].{}", f.name),
                ));
            }
        }
    }
    None
}

fn over(f: &Field, v: &Value) -> bool {
    let bytes = match v {
        Value::String(s) => s.len(),
        Value::Object(_) => canonical_json(v).len(),
        _ => 0,
    };
    let items = v.as_array().map_or(0, Vec::len);
    f.max_bytes.is_some_and(|m| bytes > m) || f.max_items.is_some_and(|m| items > m)
}

/// The message as the JSON Schema validator sees it (README: "after receive-side
/// normalisation"): aliases renamed to canonical keys (when the canonical key is absent),
/// missing keys with a default filled in, enum aliases mapped, and direct payloads with a
/// legacy encoding (`json`, `none`, `arrow-ipc`) turned into `base64`. Unknown keys stay;
/// nothing is type-checked. `None` when the message is not JSON.
pub fn normalise(schema: &Schema, message: &[u8]) -> Option<Value> {
    let value: Value = serde_json::from_slice(message).ok()?;
    let Value::Object(object) = value else {
        return Some(value);
    };
    let mut env = normalise_object(&schema.envelope, object);
    if let Some(Value::Array(payloads)) = env.get_mut("payloads") {
        for p in payloads.iter_mut() {
            if let Value::Object(obj) = p {
                let mut obj = normalise_object(&schema.payload, std::mem::take(obj));
                legacy_to_base64(&mut obj);
                *p = Value::Object(obj);
            }
        }
    }
    Some(Value::Object(env))
}

fn normalise_object(fields: &[Field], mut object: Map<String, Value>) -> Map<String, Value> {
    for f in fields {
        if !object.contains_key(&f.name) {
            if let Some(alias) = f.aliases.iter().find(|a| object.contains_key(*a)) {
                let v = object.remove(alias).unwrap_or(Value::Null);
                object.insert(f.name.clone(), v);
            } else if let Some(d) = &f.default {
                object.insert(f.name.clone(), d.clone());
            }
        }
        if let (Some(e), Some(Value::String(s))) = (&f.enumeration, object.get(&f.name))
            && let Some(to) = e.aliases.get(s)
        {
            object.insert(f.name.clone(), Value::String(to.clone()));
        }
    }
    object
}

fn legacy_to_base64(p: &mut Map<String, Value>) {
    if p.get("transport").and_then(Value::as_str) != Some("direct") {
        return;
    }
    let encoding = p.get("encoding").and_then(Value::as_str).unwrap_or("");
    if encoding == "base64" {
        return;
    }
    if BASE64_ENCODINGS.contains(&encoding) {
        p.insert("encoding".into(), "base64".into());
    } else if TEXT_ENCODINGS.contains(&encoding)
        && let Some(Value::String(text)) = p.get("data")
    {
        let b64 = STANDARD.encode(text.as_bytes());
        p.insert("data".into(), Value::String(b64));
        p.insert("encoding".into(), "base64".into());
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Standard, padded base64.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A free-form JSON value in canonical form (WIRE.md section 8): object keys sorted by
/// code point at every level, no whitespace, strings escaped as serde_json escapes them.
/// Does not depend on the iteration order of `serde_json::Map`.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_sorted(&mut out, v);
    out
}

fn write_scalar(out: &mut String, v: &Value) {
    out.push_str(&serde_json::to_string(v).expect("a JSON scalar serialises"));
}

fn write_sorted(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            // String order is UTF-8 byte order, which is code point order.
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_scalar(out, &Value::String(k.clone()));
                out.push(':');
                write_sorted(out, &m[k]);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(out, x);
            }
            out.push(']');
        }
        _ => write_scalar(out, v),
    }
}

/// Writes `object`'s `fields` in schema (wire) order; a missing key is an error. Objects
/// inside are free-form (sorted); arrays are written with `item`.
fn write_ordered(
    out: &mut String,
    fields: &[Field],
    object: &Map<String, Value>,
    item: &dyn Fn(&mut String, &Value) -> Result<(), String>,
) -> Result<(), String> {
    out.push('{');
    for (i, f) in fields.iter().enumerate() {
        let v = object
            .get(&f.name)
            .ok_or_else(|| format!("key {} missing", f.name))?;
        if i > 0 {
            out.push(',');
        }
        write_scalar(out, &Value::String(f.name.clone()));
        out.push(':');
        match v {
            Value::Array(a) => {
                out.push('[');
                for (j, x) in a.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    item(out, x)?;
                }
                out.push(']');
            }
            _ => write_sorted(out, v),
        }
    }
    out.push('}');
    Ok(())
}

/// The canonical bytes (WIRE.md section 8) of an envelope: `envelope` holds every
/// envelope key but `payloads` (canonical names), `payloads` the wire objects of the
/// payloads (every payload key, including `data`). Extra keys are not written.
pub fn canonical_message(
    schema: &Schema,
    envelope: &Value,
    payloads: &[Value],
) -> Result<String, String> {
    let mut env = envelope
        .as_object()
        .ok_or("envelope is not an object")?
        .clone();
    env.insert("payloads".into(), Value::Array(payloads.to_vec()));
    let payload_fields = &schema.payload;
    let item = |out: &mut String, p: &Value| -> Result<(), String> {
        let obj = p.as_object().ok_or("payload is not an object")?;
        write_ordered(out, payload_fields, obj, &|_, _| {
            Err("array inside a payload".to_owned())
        })
    };
    let mut out = String::new();
    write_ordered(&mut out, &schema.envelope, &env, &item)?;
    Ok(out)
}
