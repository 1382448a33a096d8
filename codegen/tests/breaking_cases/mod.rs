//! The breaking-change cases shared by the rule table (`breaking_rules.rs`) and the empirical
//! cross-check (`breaking_empirical.rs`).
#![allow(dead_code)]

use natsbridge_codegen::breaking::compare_texts;
use serde_json::{Value, json};

pub fn base() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/natsbridge.schema.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn envelope_props(s: &mut Value) -> &mut serde_json::Map<String, Value> {
    s["properties"].as_object_mut().unwrap()
}

pub fn payload_props(s: &mut Value) -> &mut serde_json::Map<String, Value> {
    s["$defs"]["MessagePayload"]["properties"]
        .as_object_mut()
        .unwrap()
}

fn required(s: &mut Value) -> &mut Vec<Value> {
    s["required"].as_array_mut().unwrap()
}

fn with_field(s: &mut Value, name: &str, property: Value, is_required: bool) {
    envelope_props(s).insert(name.to_string(), property);
    if is_required {
        required(s).push(json!(name));
    }
}

fn text(max: u64) -> Value {
    json!({"description": "A text.", "type": "string", "x-max-bytes": max})
}

pub fn findings(old: &Value, new: &Value) -> Vec<String> {
    match compare_texts("old.json", &old.to_string(), "new.json", &new.to_string()) {
        Ok(found) => found.iter().map(|f| f.summary()).collect(),
        Err(e) => vec![format!("schema refused: {e}")],
    }
}

pub type Edit = fn(&mut Value);

/// A case: the old schema, the new schema (each the real one edited), the findings expected.
pub struct Case {
    pub name: &'static str,
    pub old: Edit,
    pub new: Edit,
    pub expect: &'static [&'static str],
}

fn nothing(_: &mut Value) {}

pub fn cases() -> Vec<Case> {
    vec![
        // --- Confluent's open content model: added / removed x required / with default / optional.
        Case {
            name: "open: required property added",
            old: nothing,
            new: |s| with_field(s, "zone", text(16), true),
            expect: &[
                "REQUIRED_WITHOUT_DEFAULT_ADDED /properties/zone wire+api old->new receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "open: required property with default added",
            old: nothing,
            new: |s| {
                let mut p = text(16);
                p["default"] = json!("eu");
                with_field(s, "zone", p, true)
            },
            expect: &["FIELD_ADDED /properties/zone safe"],
        },
        Case {
            name: "open: optional property added",
            old: nothing,
            new: |s| with_field(s, "zone", text(16), false),
            expect: &["FIELD_ADDED /properties/zone safe"],
        },
        Case {
            name: "open: required property removed",
            old: |s| with_field(s, "zone", text(16), true),
            new: nothing,
            expect: &[
                "FIELD_REMOVED /properties/zone wire+api new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "open: required property with default removed",
            old: |s| {
                let mut p = text(16);
                p["default"] = json!("eu");
                with_field(s, "zone", p, true)
            },
            new: nothing,
            expect: &["FIELD_REMOVED /properties/zone api api:std,no_std,python"],
        },
        Case {
            name: "open: optional property removed",
            old: |s| with_field(s, "zone", text(16), false),
            new: nothing,
            expect: &["FIELD_REMOVED /properties/zone api api:std,no_std,python"],
        },
        // --- Defaults, optional and required.
        Case {
            name: "default changed",
            old: nothing,
            new: |s| envelope_props(s)["msg_purpose"]["default"] = json!("status"),
            expect: &[
                "DEFAULT_CHANGED /properties/msg_purpose wire old->new new->old receivers:std,no_std,python",
            ],
        },
        Case {
            name: "default removed (now required)",
            old: nothing,
            new: |s| {
                envelope_props(s)["msg_purpose"]
                    .as_object_mut()
                    .unwrap()
                    .remove("default");
            },
            expect: &[
                "DEFAULT_REMOVED /properties/msg_purpose wire+api old->new receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "default added to a required field",
            old: nothing,
            new: |s| payload_props(s)["dataname"]["default"] = json!(""),
            expect: &["DEFAULT_ADDED /$defs/MessagePayload/properties/dataname safe"],
        },
        Case {
            name: "required field made optional",
            old: nothing,
            new: |s| {
                let list = s["$defs"]["MessagePayload"]["required"]
                    .as_array_mut()
                    .unwrap();
                list.retain(|v| v != "dataname");
            },
            expect: &[
                "REQUIRED_BECAME_OPTIONAL /$defs/MessagePayload/properties/dataname wire+api new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "optional field gets a default",
            old: |s| with_field(s, "zone", text(16), false),
            new: |s| {
                let mut p = text(16);
                p["default"] = json!("");
                with_field(s, "zone", p, false)
            },
            expect: &[
                "OPTIONAL_GOT_DEFAULT /properties/zone wire+api old->new receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "defaulted field loses its default and becomes optional",
            old: |s| {
                let mut p = text(16);
                p["default"] = json!("");
                with_field(s, "zone", p, false)
            },
            new: |s| with_field(s, "zone", text(16), false),
            expect: &[
                "DEFAULT_BECAME_OPTIONAL /properties/zone wire+api new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        // --- Aliases and renames.
        Case {
            name: "alias removed",
            old: nothing,
            new: |s| envelope_props(s)["send_to"]["x-aliases"] = json!([]),
            expect: &[
                "ALIAS_REMOVED /properties/send_to wire old->new receivers:std,no_std,python",
            ],
        },
        Case {
            name: "alias added",
            old: nothing,
            new: |s| envelope_props(s)["send_to"]["x-aliases"] = json!(["sendTo", "to"]),
            expect: &["ALIAS_ADDED /properties/send_to safe"],
        },
        Case {
            name: "field renamed, old key kept as an alias",
            old: nothing,
            new: |s| {
                let props = envelope_props(s);
                let mut p = props.shift_remove("receiver_name").unwrap();
                p["x-aliases"] = json!(["receiverName", "receiver_name"]);
                props.insert("recipient_name".into(), p);
                let list = required(s);
                list.retain(|v| v != "receiver_name");
                list.push(json!("recipient_name"));
            },
            expect: &[
                "FIELD_RENAMED /properties/recipient_name wire+api new->old receivers:std,no_std,python api:std,no_std,python",
                "FIELD_ORDER_CHANGED  safe",
            ],
        },
        Case {
            name: "field renamed without an alias (removed and added)",
            old: nothing,
            new: |s| {
                let props = envelope_props(s);
                let p = props.shift_remove("reply_to_msg_id").unwrap();
                props.insert("answers".into(), p);
                let list = required(s);
                list.retain(|v| v != "reply_to_msg_id");
                list.push(json!("answers"));
            },
            expect: &[
                "FIELD_REMOVED /properties/reply_to_msg_id api api:std,no_std,python",
                "FIELD_ADDED /properties/answers safe",
            ],
        },
        Case {
            name: "field order changed",
            old: nothing,
            new: |s| {
                let props = envelope_props(s);
                let p = props.shift_remove("timestamp").unwrap();
                props.shift_insert(0, "timestamp".into(), p);
            },
            expect: &["FIELD_ORDER_CHANGED  safe"],
        },
        // --- Types.
        Case {
            name: "string became boolean",
            old: |s| with_field(s, "flag", text(8), false),
            new: |s| {
                with_field(
                    s,
                    "flag",
                    json!({"description": "x", "type": "boolean"}),
                    false,
                )
            },
            expect: &[
                "FIELD_TYPE_CHANGED /properties/flag wire+api old->new new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "u64 widened to i64",
            old: nothing,
            new: |s| {
                payload_props(s)["size"]
                    .as_object_mut()
                    .unwrap()
                    .remove("minimum");
            },
            expect: &[
                "FIELD_TYPE_WIDENED /$defs/MessagePayload/properties/size wire+api new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "i64 widened to number",
            old: |s| {
                with_field(
                    s,
                    "n",
                    json!({"description": "x", "type": "integer", "default": 0}),
                    false,
                )
            },
            new: |s| {
                with_field(
                    s,
                    "n",
                    json!({"description": "x", "type": "number", "default": 0}),
                    false,
                )
            },
            expect: &[
                "FIELD_TYPE_WIDENED /properties/n wire+api new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "number narrowed to integer",
            old: |s| with_field(s, "n", json!({"description": "x", "type": "number"}), false),
            new: |s| {
                with_field(
                    s,
                    "n",
                    json!({"description": "x", "type": "integer"}),
                    false,
                )
            },
            expect: &[
                "FIELD_TYPE_CHANGED /properties/n wire+api old->new new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "format added",
            old: nothing,
            new: |s| envelope_props(s)["msg_id"]["format"] = json!("uuid"),
            expect: &["FORMAT_ADDED /properties/msg_id wire old->new receivers:std,no_std,python"],
        },
        Case {
            name: "format removed",
            old: |s| envelope_props(s)["msg_id"]["format"] = json!("uuid"),
            new: nothing,
            expect: &[
                "FORMAT_REMOVED /properties/msg_id wire new->old receivers:std,no_std,python",
            ],
        },
        Case {
            name: "const added",
            old: |s| with_field(s, "v", text(8), false),
            new: |s| {
                let mut p = text(8);
                p["const"] = json!("v2");
                with_field(s, "v", p, false)
            },
            expect: &[
                "CONST_ADDED /properties/v wire+api old->new receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "const removed",
            old: |s| {
                let mut p = text(8);
                p["const"] = json!("v2");
                with_field(s, "v", p, false)
            },
            new: |s| with_field(s, "v", text(8), false),
            expect: &["CONST_REMOVED /properties/v wire new->old receivers:std,no_std,python"],
        },
        // --- Capacities.
        Case {
            name: "string capacity lowered",
            old: nothing,
            new: |s| envelope_props(s)["receiver_name"]["x-max-bytes"] = json!(16),
            expect: &[
                "CAPACITY_LOWERED /properties/receiver_name wire+api old->new receivers:no_std api:no_std",
            ],
        },
        Case {
            name: "string capacity raised",
            old: nothing,
            new: |s| payload_props(s)["dataname"]["x-max-bytes"] = json!(512),
            expect: &[
                "CAPACITY_RAISED /$defs/MessagePayload/properties/dataname wire+api new->old receivers:no_std api:no_std",
            ],
        },
        Case {
            name: "free-form object capacity lowered",
            old: nothing,
            new: |s| envelope_props(s)["metadata"]["x-max-bytes"] = json!(128),
            expect: &[
                "CAPACITY_LOWERED /properties/metadata wire+api old->new receivers:no_std api:no_std",
            ],
        },
        Case {
            name: "open enumeration capacity lowered",
            old: nothing,
            new: |s| s["$defs"]["PayloadType"]["x-max-bytes"] = json!(16),
            expect: &[
                "CAPACITY_LOWERED /$defs/PayloadType wire+api old->new receivers:no_std api:no_std",
            ],
        },
        Case {
            name: "maxItems lowered",
            old: nothing,
            new: |s| envelope_props(s)["payloads"]["maxItems"] = json!(4),
            expect: &[
                "MAX_ITEMS_LOWERED /properties/payloads wire+api old->new receivers:no_std api:no_std",
            ],
        },
        Case {
            name: "maxItems raised",
            old: nothing,
            new: |s| envelope_props(s)["payloads"]["maxItems"] = json!(16),
            expect: &[
                "MAX_ITEMS_RAISED /properties/payloads wire+api new->old receivers:no_std api:no_std",
            ],
        },
        // --- Enumerations.
        Case {
            name: "value added to a closed enumeration",
            old: nothing,
            new: |s| {
                s["$defs"]["Transport"]["oneOf"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"const": "object-store", "description": "x"}))
            },
            expect: &[
                "CLOSED_ENUM_VALUE_ADDED /$defs/Transport wire+api new->old receivers:std,no_std,python api:std,no_std",
            ],
        },
        Case {
            name: "value added to an open enumeration",
            old: nothing,
            new: |s| {
                s["$defs"]["PayloadType"]["oneOf"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"const": "geojson", "description": "x"}))
            },
            expect: &["OPEN_ENUM_VALUE_ADDED /$defs/PayloadType api api:std,no_std"],
        },
        Case {
            name: "value removed from a closed enumeration",
            old: nothing,
            new: |s| {
                s["$defs"]["Encoding"]["oneOf"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
            expect: &[
                "ENUM_VALUE_REMOVED /$defs/Encoding wire+api old->new receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "value removed from an open enumeration",
            old: nothing,
            new: |s| {
                s["$defs"]["PayloadType"]["oneOf"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
            expect: &[
                "ENUM_VALUE_REMOVED /$defs/PayloadType wire+api old->new receivers:std,no_std,python api:std,no_std",
            ],
        },
        Case {
            name: "sent value made receive-only",
            old: nothing,
            new: |s| {
                let e = &mut s["$defs"]["PayloadType"];
                e["oneOf"].as_array_mut().unwrap().pop();
                e["x-receive-only"]["binary"] = json!("Early editions.");
            },
            expect: &["ENUM_VALUE_MADE_RECEIVE_ONLY /$defs/PayloadType safe"],
        },
        Case {
            name: "receive-only value removed",
            old: nothing,
            new: |s| s["$defs"]["Encoding"]["x-receive-only"] = json!({"json": "x"}),
            expect: &[
                "ENUM_VALUE_REMOVED /$defs/Encoding wire+api old->new receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "enumeration alias removed",
            old: nothing,
            new: |s| {
                s["$defs"]["PayloadType"]
                    .as_object_mut()
                    .unwrap()
                    .remove("x-enum-aliases");
            },
            expect: &[
                "ENUM_ALIAS_REMOVED /$defs/PayloadType wire old->new receivers:std,no_std,python",
            ],
        },
        Case {
            name: "enumeration alias added",
            old: nothing,
            new: |s| s["$defs"]["Transport"]["x-enum-aliases"] = json!({"url": "link"}),
            expect: &["ENUM_ALIAS_ADDED /$defs/Transport safe"],
        },
        Case {
            name: "closed enumeration opened",
            old: nothing,
            new: |s| {
                s["$defs"]["Transport"]["x-open-enum"] = json!(true);
                s["$defs"]["Transport"]["x-max-bytes"] = json!(16);
            },
            expect: &["ENUM_OPENED /$defs/Transport api api:std,no_std"],
        },
        Case {
            name: "open enumeration closed",
            old: nothing,
            new: |s| {
                let e = s["$defs"]["PayloadType"].as_object_mut().unwrap();
                e.remove("x-open-enum");
                e.remove("x-max-bytes");
            },
            expect: &[
                "ENUM_CLOSED /$defs/PayloadType wire+api old->new receivers:std,no_std,python api:std,no_std",
            ],
        },
        // --- Nested structures and arrays.
        Case {
            name: "required field added inside a nested object",
            old: |s| with_field(s, "device", device(false), false),
            new: |s| with_field(s, "device", device(true), false),
            expect: &[
                "REQUIRED_WITHOUT_DEFAULT_ADDED /properties/device/properties/model wire+api old->new receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        Case {
            name: "nested object's generated name changed by a title",
            old: |s| with_field(s, "device", device(false), false),
            new: |s| {
                let mut d = device(false);
                d["title"] = json!("Device");
                with_field(s, "device", d, false)
            },
            expect: &["GENERATED_NAME_CHANGED /properties/device api api:std,no_std,python"],
        },
        Case {
            name: "enumeration renamed in $defs, same values",
            old: nothing,
            new: |s| {
                let defs = s["$defs"].as_object_mut().unwrap();
                let mut t = defs.shift_remove("Transport").unwrap();
                t["title"] = json!("Carriage");
                defs.insert("Carriage".into(), t);
                payload_props(s)["transport"]["$ref"] = json!("#/$defs/Carriage");
            },
            expect: &[
                "GENERATED_NAME_CHANGED /$defs/MessagePayload/properties/transport api api:std,no_std,python",
                "TYPE_REMOVED /$defs/Transport api api:std,no_std,python",
            ],
        },
        Case {
            name: "array item capacity lowered",
            old: |s| with_field(s, "tags", tags(32), false),
            new: |s| with_field(s, "tags", tags(8), false),
            expect: &[
                "CAPACITY_LOWERED /properties/tags/items wire+api old->new receivers:no_std api:no_std",
            ],
        },
        Case {
            name: "array item type changed",
            old: |s| with_field(s, "tags", tags(32), false),
            new: |s| {
                with_field(
                    s,
                    "tags",
                    json!({"description": "x", "type": "array", "maxItems": 4, "default": [], "items": {"type": "integer"}}),
                    false,
                )
            },
            expect: &[
                "FIELD_TYPE_CHANGED /properties/tags/items wire+api old->new new->old receivers:std,no_std,python api:std,no_std,python",
            ],
        },
        // --- Sender fills, constants, error kinds, descriptions.
        Case {
            name: "a field becomes computed by the SDK",
            old: nothing,
            new: |s| envelope_props(s)["sender_name"]["x-sender-fills"] = json!("computed"),
            expect: &["SENDER_FILL_CHANGED /properties/sender_name api api:std,no_std,python"],
        },
        Case {
            name: "a reply stops filling a field from its request",
            old: nothing,
            new: |s| {
                envelope_props(s)["receiver_name"]
                    .as_object_mut()
                    .unwrap()
                    .shift_remove("x-reply-fills");
            },
            expect: &["REPLY_FILL_CHANGED /properties/receiver_name safe"],
        },
        Case {
            name: "constant changed",
            old: nothing,
            new: |s| s["x-constants"]["size_threshold"]["value"] = json!(500000),
            expect: &["CONSTANT_CHANGED /x-constants/size_threshold api api:std,no_std,python"],
        },
        Case {
            name: "error kind removed",
            old: nothing,
            new: |s| {
                s["x-error-kinds"]
                    .as_object_mut()
                    .unwrap()
                    .shift_remove("protocol");
            },
            expect: &["ERROR_KIND_REMOVED /x-error-kinds/protocol api api:std,no_std,python"],
        },
        Case {
            name: "error kind added",
            old: nothing,
            new: |s| s["x-error-kinds"]["quota"] = json!("Over quota."),
            expect: &["ERROR_KIND_ADDED /x-error-kinds/quota safe"],
        },
        Case {
            name: "receive-only value now sent",
            old: nothing,
            new: |s| {
                let e = &mut s["$defs"]["PayloadType"];
                e["x-receive-only"]
                    .as_object_mut()
                    .unwrap()
                    .shift_remove("jsontable");
                e["oneOf"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"const": "jsontable", "description": "Rows."}));
            },
            expect: &["RECEIVE_ONLY_VALUE_NOW_SENT /$defs/PayloadType safe"],
        },
        Case {
            name: "constant added",
            old: nothing,
            new: |s| s["x-constants"]["max_links"] = json!({"description": "x", "value": 4}),
            expect: &["CONSTANT_ADDED /x-constants/max_links safe"],
        },
        Case {
            name: "description changed: no finding",
            old: nothing,
            new: |s| envelope_props(s)["msg_id"]["description"] = json!("Another text."),
            expect: &[],
        },
    ]
}

fn device(with_model: bool) -> Value {
    let mut d = json!({
        "description": "The device.",
        "type": "object",
        "properties": {"serial": {"description": "Serial.", "type": "string", "x-max-bytes": 32, "default": ""}},
    });
    if with_model {
        d["properties"]["model"] =
            json!({"description": "Model.", "type": "string", "x-max-bytes": 32});
        d["required"] = json!(["model"]);
    }
    d
}

fn tags(max: u64) -> Value {
    json!({"description": "Tags.", "type": "array", "maxItems": 4, "default": [],
           "items": {"type": "string", "x-max-bytes": max}})
}
