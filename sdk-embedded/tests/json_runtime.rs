//! Tests of the no_std JSON runtime (`natsbridge_embedded::json`): canonical writing, strict
//! pull reading, error reporting, and absence of panics on truncated or mutated input.

use heapless::{String, Vec};
use natsbridge_embedded::json::{BufferFull, JsonError, Key, MAX_DEPTH, Reader, Writer};

// ----- helpers -----

fn write_string(text: &str) -> std::string::String {
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    w.string(text).expect("fits");
    std::string::String::from_utf8(w.written().to_vec()).expect("writer emits UTF-8")
}

fn read_string<const N: usize>(input: &[u8]) -> Result<String<N>, JsonError> {
    let mut r = Reader::new(input);
    let mut out = String::<N>::new();
    r.string_into(&mut out)?;
    r.end()?;
    Ok(out)
}

fn read_unsigned(input: &[u8]) -> Result<u64, JsonError> {
    let mut r = Reader::new(input);
    let n = r.unsigned()?;
    r.end()?;
    Ok(n)
}

fn skip_all(input: &[u8]) -> Result<(), JsonError> {
    let mut r = Reader::new(input);
    r.skip_value()?;
    r.end()
}

fn syntax(offset: usize) -> JsonError {
    JsonError::Syntax { offset }
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> std::string::String {
    let mut s = std::string::String::new();
    for _ in 0..depth {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

/// The sample document and a decoder for it written the way generated code uses the reader.
const SAMPLE: &str = "{\"id\":\"abc\\u00e9\\ud83d\\ude00\",\"count\":42,\"tags\":[\"x\",\"y\\n\"],\
\"meta\":{\"k\":[1,-2.5e3,{\"z\":null}],\"s\":\"\\\"\"},\"unknown\":[true,false,{}],\"t\":[]}";

#[derive(Debug, Default, PartialEq)]
struct Doc {
    id: String<16>,
    count: u64,
    tags: Vec<String<8>, 4>,
    meta: String<64>,
    t: usize,
}

fn decode(input: &[u8]) -> Result<Doc, JsonError> {
    let mut r = Reader::new(input);
    let mut doc = Doc::default();
    let mut key = String::<8>::new();
    r.begin_object()?;
    while let Some(k) = r.next_key(&mut key)? {
        if k == Key::TooLong {
            r.skip_value()?;
            continue;
        }
        match key.as_str() {
            "id" => r.string_into(&mut doc.id)?,
            "count" => doc.count = r.unsigned()?,
            "tags" => {
                r.begin_array()?;
                while r.next_item()? {
                    let mut tag = String::<8>::new();
                    r.string_into(&mut tag)?;
                    doc.tags.push(tag).map_err(|_| JsonError::TooLong {
                        capacity: 4,
                        offset: r.offset(),
                    })?;
                }
            }
            "meta" => r.compact_object_into(&mut doc.meta)?,
            "t" => {
                r.begin_array()?;
                while r.next_item()? {
                    r.skip_value()?;
                    doc.t += 1;
                }
            }
            _ => r.skip_value()?,
        }
    }
    r.end()?;
    Ok(doc)
}

fn expected_doc() -> Doc {
    let mut tags = Vec::new();
    tags.push(String::try_from("x").unwrap()).unwrap();
    tags.push(String::try_from("y\n").unwrap()).unwrap();
    Doc {
        id: String::try_from("abc\u{e9}\u{1F600}").unwrap(),
        count: 42,
        tags,
        meta: String::try_from("{\"k\":[1,-2.5e3,{\"z\":null}],\"s\":\"\\\"\"}").unwrap(),
        t: 0,
    }
}

// ----- writer -----

#[test]
fn writer_escapes_every_control_character() {
    for c in 0u8..0x20 {
        let expected = match c {
            0x08 => "\"\\b\"".to_owned(),
            0x0c => "\"\\f\"".to_owned(),
            b'\n' => "\"\\n\"".to_owned(),
            b'\r' => "\"\\r\"".to_owned(),
            b'\t' => "\"\\t\"".to_owned(),
            _ => format!("\"\\u{c:04x}\""),
        };
        let text = std::string::String::from(char::from(c));
        assert_eq!(write_string(&text), expected, "control character {c:#04x}");
    }
    // Lower-case hex, as serde_json and CPython write it.
    assert_eq!(write_string("\u{1f}"), "\"\\u001f\"");
    assert_eq!(write_string("\u{1b}"), "\"\\u001b\"");
}

#[test]
fn writer_escapes_only_quote_and_backslash_otherwise() {
    assert_eq!(write_string("\""), "\"\\\"\"");
    assert_eq!(write_string("\\"), "\"\\\\\"");
    assert_eq!(write_string("\u{7f}"), "\"\u{7f}\"");
    assert_eq!(write_string("/"), "\"/\"");
    assert_eq!(write_string("é日本"), "\"é日本\"");
    assert_eq!(write_string("\u{1F600}"), "\"\u{1F600}\"");
    assert_eq!(write_string(""), "\"\"");
    assert_eq!(
        write_string("a\"b\\c\nd\u{0}e/\u{7f}é\u{1F600}"),
        "\"a\\\"b\\\\c\\nd\\u0000e/\u{7f}é\u{1F600}\""
    );
    // The runs between escapes are copied whole.
    assert_eq!(
        write_string("plain text \t more plain text"),
        "\"plain text \\t more plain text\""
    );
}

#[test]
fn writer_unsigned_and_raw() {
    let mut buf = [0u8; 128];
    let mut w = Writer::new(&mut buf);
    assert!(w.is_empty());
    w.raw("[").unwrap();
    for n in [0u64, 7, 10, 99, 100, 1_000_000, u64::MAX] {
        w.unsigned(n).unwrap();
        w.raw(",").unwrap();
    }
    w.raw("{\"k\":true}]").unwrap();
    assert!(!w.is_empty());
    let expected = "[0,7,10,99,100,1000000,18446744073709551615,{\"k\":true}]";
    assert_eq!(w.len(), expected.len());
    assert_eq!(w.written(), expected.as_bytes());
    let written: &[u8] = w.into_written();
    assert_eq!(written, expected.as_bytes());
}

fn write_sample(w: &mut Writer<'_>) -> Result<(), BufferFull> {
    w.raw("{\"id\":")?;
    w.string("a\u{1}\"é\u{1F600}\n")?;
    w.raw(",\"n\":")?;
    w.unsigned(18446744073709551615)?;
    w.raw(",\"m\":")?;
    w.unsigned(0)?;
    w.raw("}")
}

#[test]
fn writer_buffer_full_at_every_size() {
    let expected = "{\"id\":\"a\\u0001\\\"é\u{1F600}\\n\",\"n\":18446744073709551615,\"m\":0}";
    for size in 0..=expected.len() + 3 {
        let mut buf = vec![0u8; size];
        let mut w = Writer::new(&mut buf);
        let result = write_sample(&mut w);
        if size < expected.len() {
            assert_eq!(result, Err(BufferFull { capacity: size }), "size {size}");
            // A failing call writes nothing: what is there is a prefix of the document.
            assert!(w.len() <= size);
            assert!(
                expected.as_bytes().starts_with(w.written()),
                "size {size}: {:?}",
                w.written()
            );
        } else {
            assert_eq!(result, Ok(()), "size {size}");
            assert_eq!(w.written(), expected.as_bytes());
        }
    }
}

#[test]
fn writer_failed_call_leaves_previous_content() {
    let mut buf = [0u8; 8];
    let mut w = Writer::new(&mut buf);
    w.raw("[").unwrap();
    assert_eq!(w.string("abcdefgh"), Err(BufferFull { capacity: 8 }));
    assert_eq!(w.written(), b"[");
    assert_eq!(w.unsigned(12_345_678), Err(BufferFull { capacity: 8 }));
    assert_eq!(w.written(), b"[");
    w.string("ab\n").unwrap();
    assert_eq!(w.written(), b"[\"ab\\n\"");
}

// ----- reader: strings -----

#[test]
fn reader_decodes_every_escape() {
    let s: String<64> =
        read_string(br#""\"\\\/\b\f\n\r\t\u0041\u00e9\u00E9\u20AC\u0000\u001f""#).unwrap();
    assert_eq!(s.as_str(), "\"\\/\u{8}\u{c}\n\r\tAéé€\u{0}\u{1f}");
    let s: String<64> = read_string("  \"plain é 日本 \u{7f}\"  ".as_bytes()).unwrap();
    assert_eq!(s.as_str(), "plain é 日本 \u{7f}");
}

#[test]
fn reader_decodes_surrogate_pairs() {
    let s: String<8> = read_string(br#""\ud83d\ude00""#).unwrap();
    assert_eq!(s.as_str(), "\u{1F600}");
    let s: String<8> = read_string(br#""\uD83D\uDE00""#).unwrap();
    assert_eq!(s.as_str(), "\u{1F600}");
    let s: String<8> = read_string(br#""\udbff\udfff""#).unwrap();
    assert_eq!(s.as_str(), "\u{10FFFF}");
    let s: String<8> = read_string(br#""\ud800\udc00""#).unwrap();
    assert_eq!(s.as_str(), "\u{10000}");
}

#[test]
fn reader_rejects_lone_and_mismatched_surrogates() {
    for input in [
        &br#""\ud83d""#[..],
        br#""\ud83dx""#,
        br#""\ud83d\n""#,
        br#""\ude00""#,
        br#""\ude00\ud83d""#,
        br#""\ud83d\u0041""#,
        br#""\ud83d\ud83d""#,
        br#""\ud83d\ude0""#,
        br#""\ud83d\u"#,
    ] {
        assert_eq!(
            read_string::<16>(input),
            Err(syntax(1)),
            "{}",
            std::string::String::from_utf8_lossy(input)
        );
        assert!(matches!(skip_all(input), Err(JsonError::Syntax { .. })));
    }
}

#[test]
fn reader_rejects_bad_escapes() {
    for input in [
        &br#""\x""#[..],
        br#""\'""#,
        br#""\U0041""#,
        br#""\u12""#,
        br#""\u12g4""#,
        br#""\u""#,
        br#""\"#,
        b"\"\\\x00\"",
        "\"\\é\"".as_bytes(),
    ] {
        assert_eq!(
            read_string::<16>(input),
            Err(syntax(1)),
            "{}",
            std::string::String::from_utf8_lossy(input)
        );
    }
    // Unterminated strings fail at the end of the input.
    assert_eq!(read_string::<16>(b"\"abc"), Err(syntax(4)));
    assert_eq!(read_string::<16>(b"\"ab\\\""), Err(syntax(5)));
}

#[test]
fn reader_rejects_raw_control_characters() {
    for c in 0u8..0x20 {
        let input = [b'"', b'a', c, b'"'];
        assert_eq!(read_string::<16>(&input), Err(syntax(2)), "byte {c:#04x}");
        assert_eq!(skip_all(&input), Err(syntax(2)));
        let mut out = String::<16>::new();
        let object = [b'{', b'"', c, b'"', b':', b'1', b'}'];
        let mut r = Reader::new(&object);
        assert_eq!(r.compact_object_into(&mut out), Err(syntax(2)));
    }
    // DEL is not a control character for JSON.
    let s: String<4> = read_string(b"\"\x7f\"").unwrap();
    assert_eq!(s.as_str(), "\u{7f}");
}

#[test]
fn reader_rejects_invalid_utf8() {
    let cases: &[(&[u8], usize)] = &[
        (b"\"\xc0\xaf\"", 1),         // overlong '/'
        (b"\"ab\xe0\x80\xaf\"", 3),   // overlong 3-byte
        (b"\"\xf0\x80\x80\xaf\"", 1), // overlong 4-byte
        (b"\"x\xe2\x82\"", 2),        // truncated 3-byte sequence
        (b"\"\xf0\x9f\x98\"", 1),     // truncated 4-byte sequence
        (b"\"\xf0\x9f\x98", 1),       // truncated at the end of input
        (b"\"\x80\"", 1),             // lone continuation byte
        (b"\"\xed\xa0\x80\"", 1),     // encoded surrogate
        (b"\"\xf4\x90\x80\x80\"", 1), // above U+10FFFF
        (b"\"\xff\"", 1),             // never valid
        (b"\"ok\\n\xc3\"", 5),        // after an escape
        (b"\"\xc3\\n\"", 1),          // truncated before an escape
    ];
    for &(input, offset) in cases {
        assert_eq!(read_string::<16>(input), Err(syntax(offset)), "{input:?}");
        assert_eq!(skip_all(input), Err(syntax(offset)), "{input:?}");
    }
    // Non-ASCII outside strings is a syntax error.
    assert_eq!(skip_all(b"[1,\xc3\xa9]"), Err(syntax(3)));
    assert_eq!(skip_all("\u{a0}1".as_bytes()), Err(syntax(0)));
}

#[test]
fn reader_string_capacity() {
    // Exactly N bytes of UTF-8 fit; N + 1 do not.
    let s: String<5> = read_string("\"ab\u{e9}c\"".as_bytes()).unwrap();
    assert_eq!(s.as_str(), "abéc");
    assert_eq!(
        read_string::<4>("\"ab\u{e9}c\"".as_bytes()),
        Err(JsonError::TooLong {
            capacity: 4,
            offset: 0
        })
    );
    // Capacity counts unescaped bytes: six bytes of escape are one byte of output.
    let s: String<1> = read_string(br#""\u0041""#).unwrap();
    assert_eq!(s.as_str(), "A");
    assert_eq!(
        read_string::<3>(br#"  "\ud83d\ude00""#),
        Err(JsonError::TooLong {
            capacity: 3,
            offset: 2
        })
    );
    // A syntax error after the overflow is still reported as such.
    assert_eq!(read_string::<2>(b"\"abcd\\q\""), Err(syntax(5)));
    // On any error the output is left empty.
    let mut out = String::<8>::try_from("old").unwrap();
    assert_eq!(
        Reader::new(b"\"abc\\q\"").string_into(&mut out),
        Err(syntax(4))
    );
    assert!(out.is_empty());
    let mut out = String::<8>::try_from("old").unwrap();
    assert_eq!(
        Reader::new(b"{\"a\":1,}").compact_object_into(&mut out),
        Err(syntax(7))
    );
    assert!(out.is_empty());
    // On TooLong the string is consumed and the output left empty.
    let mut r = Reader::new(b"[\"abcdef\",\"ab\"]");
    let mut out = String::<3>::new();
    r.begin_array().unwrap();
    assert!(r.next_item().unwrap());
    assert!(matches!(
        r.string_into(&mut out),
        Err(JsonError::TooLong { capacity: 3, .. })
    ));
    assert!(out.is_empty());
    assert!(r.next_item().unwrap());
    r.string_into(&mut out).unwrap();
    assert_eq!(out.as_str(), "ab");
    assert!(!r.next_item().unwrap());
    r.end().unwrap();
}

// ----- reader: numbers and types -----

#[test]
fn reader_unsigned() {
    assert_eq!(read_unsigned(b"0"), Ok(0));
    assert_eq!(read_unsigned(b" 42 "), Ok(42));
    assert_eq!(read_unsigned(b"18446744073709551615"), Ok(u64::MAX));
    let wrong = Err(JsonError::WrongType {
        expected: "a non-negative integer",
        offset: 0,
    });
    for input in [
        &b"18446744073709551616"[..],
        b"99999999999999999999999",
        b"-1",
        b"-0",
        b"1.0",
        b"1e2",
        b"1E+2",
        b"0.5",
        b"\"5\"",
        b"true",
        b"null",
        b"[1]",
        b"{}",
    ] {
        assert_eq!(
            read_unsigned(input),
            wrong,
            "{}",
            std::string::String::from_utf8_lossy(input)
        );
    }
    // Not JSON at all.
    assert_eq!(read_unsigned(b"01"), Err(syntax(1)));
    assert_eq!(read_unsigned(b"00"), Err(syntax(1)));
    assert_eq!(read_unsigned(b"1x"), Err(syntax(1)));
    assert_eq!(read_unsigned(b"+1"), Err(syntax(0)));
    assert_eq!(read_unsigned(b"1."), Err(syntax(2)));
    assert_eq!(read_unsigned(b""), Err(syntax(0)));
    assert_eq!(read_unsigned(b"-"), Err(syntax(1)));
}

#[test]
fn reader_wrong_type_does_not_consume_the_value() {
    let mut r = Reader::new(b"[ -1.5e3 , \"s\", {\"a\":[]}, 7]");
    let mut s = String::<8>::new();
    r.begin_array().unwrap();
    assert!(r.next_item().unwrap());
    let wrong = r.unsigned().unwrap_err();
    assert_eq!(
        wrong,
        JsonError::WrongType {
            expected: "a non-negative integer",
            offset: 2
        }
    );
    assert_eq!(
        r.string_into(&mut s),
        Err(JsonError::WrongType {
            expected: "a string",
            offset: 2
        })
    );
    assert_eq!(
        r.begin_object(),
        Err(JsonError::WrongType {
            expected: "an object",
            offset: 2
        })
    );
    r.skip_value().unwrap();
    assert!(r.next_item().unwrap());
    assert_eq!(
        r.begin_array(),
        Err(JsonError::WrongType {
            expected: "an array",
            offset: 11
        })
    );
    r.string_into(&mut s).unwrap();
    assert_eq!(s.as_str(), "s");
    assert!(r.next_item().unwrap());
    assert_eq!(
        r.compact_object_into(&mut String::<2>::new()),
        Err(JsonError::TooLong {
            capacity: 2,
            offset: 16
        })
    );
    assert!(r.next_item().unwrap());
    assert_eq!(
        r.compact_object_into(&mut s),
        Err(JsonError::WrongType {
            expected: "an object",
            offset: 26
        })
    );
    assert_eq!(r.unsigned(), Ok(7));
    assert!(!r.next_item().unwrap());
    r.end().unwrap();
}

#[test]
fn reader_malformed_value_is_syntax_not_wrong_type() {
    let mut s = String::<8>::new();
    assert_eq!(Reader::new(b"tru").begin_object(), Err(syntax(0)));
    assert_eq!(Reader::new(b"  ").begin_object(), Err(syntax(2)));
    assert_eq!(Reader::new(b"[1,]").begin_object(), Err(syntax(3)));
    assert_eq!(Reader::new(b"}").begin_array(), Err(syntax(0)));
    assert_eq!(Reader::new(b"-x").string_into(&mut s), Err(syntax(1)));
    assert_eq!(Reader::new(b"nul").unsigned(), Err(syntax(0)));
}

#[test]
fn reader_skips_numbers_per_rfc_8259() {
    for ok in [
        "0",
        "-0",
        "7",
        "-12",
        "0.5",
        "-0.0",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "-12.34e+56",
        "0e0",
        "123456789012345678901234567890",
    ] {
        assert_eq!(skip_all(ok.as_bytes()), Ok(()), "{ok}");
        assert_eq!(skip_all(format!("[{ok},{ok}]").as_bytes()), Ok(()), "{ok}");
    }
    for bad in [
        "-",
        "+1",
        "01",
        "-01",
        "1.",
        ".5",
        "1.e5",
        "1e",
        "1e+",
        "1e-",
        "--1",
        "0x1",
        "1.5.5",
        "1e5e5",
        "Infinity",
        "NaN",
        "-Infinity",
        "1_000",
    ] {
        assert!(
            matches!(skip_all(bad.as_bytes()), Err(JsonError::Syntax { .. })),
            "{bad}"
        );
    }
}

#[test]
fn reader_literals_and_whitespace() {
    assert_eq!(skip_all(b" \t\r\n[true,false,null] \t\r\n"), Ok(()));
    for bad in [
        &b"tru"[..],
        b"True",
        b"nulll",
        b"falsey",
        b"[true false]",
        b"\x0c1",
        b"1\x0b",
    ] {
        assert!(
            matches!(skip_all(bad), Err(JsonError::Syntax { .. })),
            "{}",
            std::string::String::from_utf8_lossy(bad)
        );
    }
}

// ----- reader: structure -----

#[test]
fn reader_depth_limit() {
    for (open, inner, close) in [("[", "", "]"), ("[", "0", "]"), ("{\"a\":", "0", "}")] {
        let ok = nested(open, inner, close, MAX_DEPTH);
        assert_eq!(skip_all(ok.as_bytes()), Ok(()));
        let deep = nested(open, inner, close, MAX_DEPTH + 1);
        assert_eq!(
            skip_all(deep.as_bytes()),
            Err(JsonError::TooDeep {
                offset: open.len() * MAX_DEPTH
            })
        );
    }
    // Compact copy: an object containing MAX_DEPTH - 1 arrays is MAX_DEPTH deep.
    let ok = format!("{{\"a\":{}}}", nested("[", "", "]", MAX_DEPTH - 1));
    let mut out = String::<128>::new();
    Reader::new(ok.as_bytes())
        .compact_object_into(&mut out)
        .unwrap();
    assert_eq!(out.as_str(), ok);
    let deep = format!("{{\"a\":{}}}", nested("[", "", "]", MAX_DEPTH));
    assert_eq!(
        Reader::new(deep.as_bytes()).compact_object_into(&mut out),
        Err(JsonError::TooDeep {
            offset: 5 + MAX_DEPTH - 1
        })
    );
    // A hostile, very deep document is rejected without recursion.
    let hostile = "[".repeat(1_000_000);
    assert_eq!(
        skip_all(hostile.as_bytes()),
        Err(JsonError::TooDeep { offset: MAX_DEPTH })
    );
    assert_eq!(
        Reader::new(hostile.as_bytes()).begin_object(),
        Err(JsonError::TooDeep { offset: MAX_DEPTH })
    );
}

#[test]
fn reader_rejects_bad_separators_when_skipping() {
    for bad in [
        &b"{\"a\":1,}"[..],
        b"[1,]",
        b"{,}",
        b"[,]",
        b"[,1]",
        b"{,\"a\":1}",
        b"[1 2]",
        b"{\"a\":1 \"b\":2}",
        b"{\"a\" 1}",
        b"{\"a\":}",
        b"{\"a\"}",
        b"{1:2}",
        b"{\"a\":1]",
        b"[1}",
        b"[1,,2]",
        b"{\"a\"::1}",
        b"[",
        b"{",
        b"]",
    ] {
        assert!(
            matches!(skip_all(bad), Err(JsonError::Syntax { .. })),
            "{}",
            std::string::String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(skip_all(b"{ } "), Ok(()));
    assert_eq!(skip_all(b"[ ]"), Ok(()));
    assert_eq!(skip_all(b"{\"\":[{}, [], \"\"]}"), Ok(()));
}

fn pull_object(input: &[u8]) -> Result<usize, JsonError> {
    let mut r = Reader::new(input);
    let mut key = String::<8>::new();
    let mut members = 0;
    r.begin_object()?;
    while r.next_key(&mut key)?.is_some() {
        r.skip_value()?;
        members += 1;
    }
    r.end()?;
    Ok(members)
}

fn pull_array(input: &[u8]) -> Result<usize, JsonError> {
    let mut r = Reader::new(input);
    let mut items = 0;
    r.begin_array()?;
    while r.next_item()? {
        r.skip_value()?;
        items += 1;
    }
    r.end()?;
    Ok(items)
}

#[test]
fn reader_pull_api_separators() {
    assert_eq!(pull_object(b"{}"), Ok(0));
    assert_eq!(pull_object(b" { \"a\" : 1 , \"b\" : { } } "), Ok(2));
    assert_eq!(pull_object(b"{\"a\":1,}"), Err(syntax(7)));
    assert_eq!(pull_object(b"{,}"), Err(syntax(1)));
    assert_eq!(pull_object(b"{,\"a\":1}"), Err(syntax(1)));
    assert_eq!(pull_object(b"{\"a\":1 \"b\":2}"), Err(syntax(7)));
    assert_eq!(pull_object(b"{\"a\" 1}"), Err(syntax(5)));
    assert_eq!(pull_object(b"{\"a\":1,,\"b\":2}"), Err(syntax(7)));
    assert_eq!(pull_object(b"{1:2}"), Err(syntax(1)));
    assert_eq!(pull_object(b"{\"a\":1"), Err(syntax(6)));
    assert_eq!(pull_object(b"{\"a\":1]"), Err(syntax(6)));

    assert_eq!(pull_array(b"[]"), Ok(0));
    assert_eq!(pull_array(b" [ 1 , [ ] , { } ] "), Ok(3));
    assert_eq!(pull_array(b"[1,]"), Err(syntax(3)));
    assert_eq!(pull_array(b"[,]"), Err(syntax(1)));
    assert_eq!(pull_array(b"[,1]"), Err(syntax(1)));
    assert_eq!(pull_array(b"[1 2]"), Err(syntax(3)));
    assert_eq!(pull_array(b"[1,,2]"), Err(syntax(3)));
    assert_eq!(pull_array(b"[1"), Err(syntax(2)));
    assert_eq!(pull_array(b"["), Err(syntax(1)));
    assert_eq!(pull_array(b"[1}"), Err(syntax(2)));

    // Nested containers read with the pull API keep their own separators.
    let mut r = Reader::new(b"{\"a\":{\"b\":[[],[1]]},\"c\":2}");
    let mut key = String::<4>::new();
    r.begin_object().unwrap();
    assert_eq!(r.next_key(&mut key), Ok(Some(Key::Fits)));
    assert_eq!(key.as_str(), "a");
    r.begin_object().unwrap();
    assert_eq!(r.next_key(&mut key), Ok(Some(Key::Fits)));
    assert_eq!(key.as_str(), "b");
    r.begin_array().unwrap();
    assert!(r.next_item().unwrap());
    r.begin_array().unwrap();
    assert!(!r.next_item().unwrap());
    assert!(r.next_item().unwrap());
    r.begin_array().unwrap();
    assert!(r.next_item().unwrap());
    assert_eq!(r.unsigned(), Ok(1));
    assert!(!r.next_item().unwrap());
    assert!(!r.next_item().unwrap());
    assert_eq!(r.next_key(&mut key), Ok(None));
    assert_eq!(r.next_key(&mut key), Ok(Some(Key::Fits)));
    assert_eq!(key.as_str(), "c");
    assert_eq!(r.unsigned(), Ok(2));
    assert_eq!(r.next_key(&mut key), Ok(None));
    r.end().unwrap();
}

#[test]
fn reader_garbage_after_end() {
    assert_eq!(skip_all(b"{} x"), Err(syntax(3)));
    assert_eq!(skip_all(b"{}}"), Err(syntax(2)));
    assert_eq!(skip_all(b"1 2"), Err(syntax(2)));
    assert_eq!(skip_all(b"\"a\"\"b\""), Err(syntax(3)));
    assert_eq!(skip_all(b"[]\x00"), Err(syntax(2)));
    assert_eq!(pull_object(b"{\"a\":1}\n,"), Err(syntax(8)));
    assert_eq!(skip_all(b"{} \r\n\t"), Ok(()));
}

#[test]
fn reader_key_too_long() {
    let input = br#"{"a_very_long_key":{"x":[1,2]},"id":"v","\u0069d2":"w"}"#;
    let mut r = Reader::new(input);
    let mut key = String::<4>::new();
    let mut value = String::<4>::new();
    r.begin_object().unwrap();
    key.push_str("old").unwrap();
    assert_eq!(r.next_key(&mut key), Ok(Some(Key::TooLong)));
    assert!(key.is_empty());
    r.skip_value().unwrap();
    assert_eq!(r.next_key(&mut key), Ok(Some(Key::Fits)));
    assert_eq!(key.as_str(), "id");
    r.string_into(&mut value).unwrap();
    assert_eq!(value.as_str(), "v");
    // Escaped keys are unescaped before comparison.
    assert_eq!(r.next_key(&mut key), Ok(Some(Key::Fits)));
    assert_eq!(key.as_str(), "id2");
    r.string_into(&mut value).unwrap();
    assert_eq!(value.as_str(), "w");
    assert_eq!(r.next_key(&mut key), Ok(None));
    r.end().unwrap();
    // A too-long key is still validated.
    let mut r = Reader::new(b"{\"abcdef\\q\":1}");
    r.begin_object().unwrap();
    assert_eq!(r.next_key(&mut key), Err(syntax(8)));
}

#[test]
fn reader_compact_object_into_pretty_printed() {
    const EXPECTED: &str = "{\"name\":\"a b\\n\\u00e9 \\/\",\"list\":[1,-2.50E+3,true,null,false],\"empty\":{},\"arr\":[],\"nested\":{\"x\":[{},\"y\"]}}";
    let expected = EXPECTED;
    let pretty = "{\n  \"name\" : \"a b\\n\\u00e9 \\/\",\n  \"list\" : [ 1 , -2.50E+3 , true , null , false ],\n\t\"empty\" : { } ,\r\n  \"arr\" : [ ] , \"nested\" : { \"x\" : [ { } , \"y\" ] }\n}  ";
    let mut r = Reader::new(pretty.as_bytes());
    let mut out = String::<128>::new();
    r.compact_object_into(&mut out).unwrap();
    assert_eq!(out.as_str(), expected);
    r.end().unwrap();
    // Exactly enough room, and one byte less.
    let mut exact = String::<{ EXPECTED.len() }>::new();
    Reader::new(pretty.as_bytes())
        .compact_object_into(&mut exact)
        .unwrap();
    assert_eq!(exact.as_str(), expected);
    let mut short = String::<{ EXPECTED.len() - 1 }>::new();
    assert_eq!(
        Reader::new(pretty.as_bytes()).compact_object_into(&mut short),
        Err(JsonError::TooLong {
            capacity: EXPECTED.len() - 1,
            offset: 0
        })
    );
    assert!(short.is_empty());
    // Non-ASCII is copied as it is.
    let mut out = String::<32>::new();
    Reader::new("{ \"é\" : \"\u{1F600}\" }".as_bytes())
        .compact_object_into(&mut out)
        .unwrap();
    assert_eq!(out.as_str(), "{\"é\":\"\u{1F600}\"}");
    // Invalid content is rejected, not copied.
    assert_eq!(
        Reader::new(b"{\"a\":[1,]}").compact_object_into(&mut out),
        Err(syntax(8))
    );
}

#[test]
fn round_trip_writer_to_reader() {
    let texts = [
        "",
        "plain",
        "quote \" backslash \\ slash / del \u{7f}",
        "controls \u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}",
        "non-ASCII é 日本 \u{1F600} \u{10FFFF}",
    ];
    let mut buf = [0u8; 512];
    let mut w = Writer::new(&mut buf);
    w.raw("{").unwrap();
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            w.raw(",").unwrap();
        }
        w.string(&format!("k{i}")).unwrap();
        w.raw(":[").unwrap();
        w.string(text).unwrap();
        w.raw(",").unwrap();
        w.unsigned(u64::MAX - i as u64).unwrap();
        w.raw("]").unwrap();
    }
    w.raw("}").unwrap();
    let doc = w.into_written();

    let mut r = Reader::new(doc);
    let mut key = String::<4>::new();
    let mut text = String::<64>::new();
    r.begin_object().unwrap();
    for (i, expected) in texts.iter().enumerate() {
        assert_eq!(r.next_key(&mut key), Ok(Some(Key::Fits)));
        assert_eq!(key.as_str(), format!("k{i}"));
        r.begin_array().unwrap();
        assert!(r.next_item().unwrap());
        r.string_into(&mut text).unwrap();
        assert_eq!(text.as_str(), *expected);
        assert!(r.next_item().unwrap());
        assert_eq!(r.unsigned(), Ok(u64::MAX - i as u64));
        assert!(!r.next_item().unwrap());
    }
    assert_eq!(r.next_key(&mut key), Ok(None));
    r.end().unwrap();

    // Compact copy of canonical output is the identity.
    let mut copy = String::<512>::new();
    Reader::new(doc).compact_object_into(&mut copy).unwrap();
    assert_eq!(copy.as_bytes(), doc);
}

// ----- whole documents, truncated and mutated -----

#[test]
fn sample_document_decodes() {
    assert_eq!(decode(SAMPLE.as_bytes()), Ok(expected_doc()));
    assert_eq!(skip_all(SAMPLE.as_bytes()), Ok(()));
}

#[test]
fn every_prefix_of_the_sample_is_an_error() {
    let bytes = SAMPLE.as_bytes();
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        assert!(decode(prefix).is_err(), "prefix of {len} bytes decoded");
        assert!(skip_all(prefix).is_err(), "prefix of {len} bytes skipped");
        let mut out = String::<256>::new();
        assert!(
            Reader::new(prefix).compact_object_into(&mut out).is_err(),
            "prefix of {len} bytes copied"
        );
    }
}

#[test]
fn mutated_samples_never_panic_and_agree_with_the_validator() {
    let bytes = SAMPLE.as_bytes();
    let interesting = b"{}[]\",:\\ 0123456789-+.eEtrufalsn\x00\x1f\x7f\xc3\xa9\xff";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut decoded = 0;
    for _ in 0..20_000 {
        let mut doc = bytes.to_vec();
        let edits = 1 + next() % 3;
        for _ in 0..edits {
            let at = (next() % doc.len() as u64) as usize;
            let byte = interesting[(next() % interesting.len() as u64) as usize];
            match next() % 3 {
                0 => doc[at] = byte,
                1 => doc.insert(at, byte),
                _ => {
                    doc.remove(at);
                }
            }
        }
        if let Ok(_doc) = decode(&doc) {
            decoded += 1;
            // Whatever the typed decoder accepts is well-formed JSON.
            assert_eq!(skip_all(&doc), Ok(()), "{:?}", std::str::from_utf8(&doc));
        }
        let mut out = String::<256>::new();
        let mut r = Reader::new(&doc);
        if r.compact_object_into(&mut out).is_ok() && r.end().is_ok() {
            // A compact copy is itself valid and its own compact copy.
            let mut again = String::<256>::new();
            Reader::new(out.as_bytes())
                .compact_object_into(&mut again)
                .unwrap();
            assert_eq!(again, out);
        }
    }
    // Some mutations (e.g. in string content) keep the document decodable.
    assert!(decoded > 0);
}

#[test]
fn numbers_beyond_a_64_bit_float_are_not_json() {
    // serde_json's boundary: the largest finite f64 is accepted, anything rounding above it
    // is refused; tiny numbers round to zero and are accepted.
    let huge_integer = "9".repeat(400);
    for ok in [
        "1.7976931348623157e308",
        "-1.7976931348623157e308",
        "1e-400",
        "18446744073709551616",
    ] {
        assert_eq!(skip_all(ok.as_bytes()), Ok(()), "{ok}");
    }
    for refused in ["1e400", "-1e400", "1.8e308", "1e309", huge_integer.as_str()] {
        assert_eq!(skip_all(refused.as_bytes()), Err(syntax(0)), "{refused}");
        let object = format!("{{\"x\":{refused}}}");
        let mut out: String<1024> = String::new();
        assert_eq!(
            Reader::new(object.as_bytes()).compact_object_into(&mut out),
            Err(syntax(5)),
            "{object}"
        );
    }
}

/// The reader decides "beyond a 64-bit float" by comparing digits, without a float parser;
/// it must agree with core's correctly rounded parser on every number around the boundary,
/// in every spelling (integer, fraction, exponent, leading and trailing zeros, sign).
#[test]
fn the_float_boundary_agrees_with_a_correctly_rounded_parser() {
    // 2^1024 - 2^970: the smallest magnitude that rounds to infinity.
    let boundary = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    let below = {
        let mut digits = boundary.as_bytes().to_vec();
        *digits.last_mut().unwrap() -= 1;
        std::string::String::from_utf8(digits).unwrap()
    };
    let mut numbers: std::vec::Vec<std::string::String> = std::vec::Vec::new();
    for digits in [
        boundary,
        below.as_str(),
        "17976931348623157",
        "17976931348623158",
        "1797693134862315807937",
        "1797693134862315807936",
        "18",
        "1",
        "99999",
    ] {
        for exponent in [292, 293, 300, 307, 308, 309, 310] {
            let (head, tail) = digits.split_at(1);
            let point = if tail.is_empty() { "" } else { "." };
            numbers.push(format!("{head}{point}{tail}e{exponent}"));
            numbers.push(format!("-{head}{point}{tail}E+{exponent}"));
            numbers.push(format!("0.000{digits}e{}", exponent + 4));
            numbers.push(format!(
                "{digits}000e{}",
                exponent as i64 - digits.len() as i64 - 2
            ));
        }
    }
    numbers.push(boundary.to_owned());
    numbers.push(below.clone());
    numbers.push(format!("{below}.99999999999"));
    numbers.push(format!("{below}.0"));
    numbers.push(format!("000{boundary}"));
    numbers.push(format!("{boundary}e-1"));
    numbers.push(format!("{boundary}0e-1"));
    numbers.push("0e999999999999999999999".to_owned());
    numbers.push("1e-999999999999999999999".to_owned());
    numbers.push("1e999999999999999999999".to_owned());
    for number in &numbers {
        let infinite = number.parse::<f64>().unwrap().is_infinite();
        let accepted = skip_all(number.as_bytes()).is_ok();
        assert_eq!(accepted, !infinite, "{number}");
    }
    assert!(
        numbers
            .iter()
            .any(|n| n.parse::<f64>().unwrap().is_infinite())
    );
    assert!(
        numbers
            .iter()
            .any(|n| !n.parse::<f64>().unwrap().is_infinite())
    );
}
