//! `JsonObject` keeps free-form objects in the canonical form of WIRE.md section 8, so the
//! no_std SDK re-encodes a received envelope to the bytes every other SDK writes.

use natsbridge_embedded::JsonObject;
use natsbridge_embedded::json::JsonError;

fn canonical(json: &str) -> String {
    JsonObject::<256>::parse(json)
        .unwrap_or_else(|e| panic!("{json}: {e:?}"))
        .as_str()
        .to_string()
}

#[test]
fn keys_are_sorted_by_code_point_at_every_level() {
    assert_eq!(
        canonical(r#"{"b":1,"a":{"d":[{"z":0,"y":1}],"c":null},"A":true}"#),
        r#"{"A":true,"a":{"c":null,"d":[{"y":1,"z":0}]},"b":1}"#
    );
    // Code point order, not UTF-16 order: U+FF5A sorts before U+1F600 (a surrogate pair).
    assert_eq!(
        canonical(r#"{"😀":1,"ｚ":2,"é":3,"z":4}"#),
        r#"{"z":4,"é":3,"ｚ":2,"😀":1}"#
    );
    // Escaped keys compare by the characters they stand for.
    assert_eq!(
        canonical(r#"{"\u00e9":1,"f":2,"\ud83d\ude00":3}"#),
        r#"{"f":2,"é":1,"😀":3}"#
    );
}

#[test]
fn strings_get_the_canonical_escapes() {
    assert_eq!(
        canonical(r#"{"k":"\u0041\/\u0008\b\u001F\u007f\"\\\n"}"#),
        "{\"k\":\"A/\\b\\b\\u001f\u{7f}\\\"\\\\\\n\"}"
    );
}

#[test]
fn a_repeated_key_keeps_its_last_value() {
    assert_eq!(canonical(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    assert_eq!(canonical(r#"{"a":1,"\u0061":{"x":1}}"#), r#"{"a":{"x":1}}"#);
}

#[test]
fn whitespace_goes_and_numbers_stay_as_written() {
    assert_eq!(
        canonical("{ \"n\" : [ 1 , -0.5e10 , 2.50 ] ,\r\n\t\"e\" : { } , \"l\" : [ ] }"),
        r#"{"e":{},"l":[],"n":[1,-0.5e10,2.50]}"#
    );
}

#[test]
fn capacity_counts_the_compact_text() {
    // `{"a":1}` is 7 bytes: it fits a capacity of 8, not of 6.
    assert_eq!(
        JsonObject::<8>::parse(r#"{ "a": 1 }"#).unwrap().as_str(),
        r#"{"a":1}"#
    );
    assert!(matches!(
        JsonObject::<6>::parse(r#"{"a":1}"#),
        Err(JsonError::TooLong { capacity: 6, .. })
    ));
}

#[test]
fn the_canonical_form_is_a_fixed_point() {
    for json in [
        r#"{"b":[{"d":1,"c":2}],"a":"\u00e9\ud83d\ude00"}"#,
        r#"{"x":{"y":{"z":{}}},"w":[[],[{}]]}"#,
    ] {
        let once = canonical(json);
        assert_eq!(canonical(&once), once, "{json}");
    }
}
