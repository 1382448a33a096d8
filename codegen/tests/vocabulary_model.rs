//! The reader's model of a schema variant that uses every type of the vocabulary
//! (schema/WIRE.md section 9): what each backend renders.

use natsbridge_codegen::model::{DefaultValue, FieldType, SenderFill, StringFormat};
use natsbridge_codegen::read_schema;

fn all_types() -> natsbridge_codegen::model::Model {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vocabulary/all_types.json"
    ))
    .unwrap();
    read_schema("all_types.json", &text).unwrap()
}

#[test]
fn every_type_of_the_vocabulary_is_read() {
    let model = all_types();
    let root = model.root();
    let ty = |name: &str| root.field(name).unwrap().ty.clone();
    assert!(root.field("trace_id").unwrap().optional);
    assert_eq!(ty("urgent"), FieldType::Bool);
    assert_eq!(
        root.field("urgent").unwrap().default,
        Some(DefaultValue::Bool(false))
    );
    assert_eq!(ty("offset"), FieldType::Signed);
    assert_eq!(
        root.field("offset").unwrap().default,
        Some(DefaultValue::Signed(-1))
    );
    assert_eq!(ty("ratio"), FieldType::Number);
    assert_eq!(
        ty("device"),
        FieldType::Struct("MessageEnvelopeDevice".into())
    );
    let device = model.struct_named("MessageEnvelopeDevice");
    assert_eq!(
        device.field("location").unwrap().ty,
        FieldType::Struct("MessageEnvelopeDeviceLocation".into())
    );
    assert!(device.field("location").unwrap().optional);
    assert_eq!(
        ty("tags"),
        FieldType::Array {
            item: Box::new(FieldType::String {
                max_bytes: 16,
                format: None,
                constant: None
            }),
            max_items: 4
        }
    );
    assert_eq!(ty("readings").struct_item(), Some("Reading"));
    assert!(matches!(
        ty("session"),
        FieldType::String {
            format: Some(StringFormat::Uuid),
            ..
        }
    ));
    assert!(!root.field("schema_version").unwrap().settable());
    assert_eq!(
        root.field("msg_id").unwrap().sender_fill,
        Some(SenderFill::Uuid4)
    );
    assert!(!root.field("payloads").unwrap().settable());
    assert_eq!(
        model
            .constants
            .iter()
            .find(|c| c.name == "size_threshold")
            .unwrap()
            .value,
        1_000_000
    );
    assert!(model.error_kinds.iter().any(|k| k.name == "over_capacity"));
}

#[test]
fn what_stays_refused_names_its_path() {
    let base: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/vocabulary/all_types.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let cases: &[(&str, serde_json::Value, &str)] = &[
        (
            "nullable",
            serde_json::json!({"description": "x", "type": ["string", "null"], "x-max-bytes": 4}),
            "/properties/bad/type",
        ),
        (
            "array of arrays",
            serde_json::json!({"description": "x", "type": "array", "maxItems": 2, "items": {"type": "array"}}),
            "/properties/bad/items",
        ),
        (
            "unbounded string",
            serde_json::json!({"description": "x", "type": "string"}),
            "/properties/bad",
        ),
        (
            "bad minimum",
            serde_json::json!({"description": "x", "type": "integer", "minimum": 3}),
            "/properties/bad/minimum",
        ),
        (
            "bad format",
            serde_json::json!({"description": "x", "type": "string", "format": "email", "x-max-bytes": 9}),
            "/properties/bad/format",
        ),
        (
            "union",
            serde_json::json!({"description": "x", "anyOf": []}),
            "/properties/bad/anyOf",
        ),
        (
            "reply fill from no field",
            serde_json::json!({"description": "x", "type": "string", "default": "", "x-max-bytes": 4, "x-reply-fills": "no_such_field"}),
            "/properties/bad/x-reply-fills",
        ),
        (
            "reply fill of a number",
            serde_json::json!({"description": "x", "type": "integer", "minimum": 0, "default": 0, "x-reply-fills": "bad"}),
            "/properties/bad/x-reply-fills",
        ),
        (
            "reply fill from a field a message may lack",
            serde_json::json!({"description": "x", "type": "string", "x-max-bytes": 4, "x-reply-fills": "bad"}),
            "/properties/bad/x-reply-fills",
        ),
    ];
    for (what, property, pointer) in cases {
        let mut schema = base.clone();
        schema["properties"]["bad"] = property.clone();
        let error = read_schema("s.json", &schema.to_string()).expect_err(what);
        assert_eq!(error.pointer, *pointer, "{what}: {error}");
    }
}
