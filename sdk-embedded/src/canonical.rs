//! The canonical form (WIRE.md section 8) of a JSON value that the reader has already
//! validated and compacted: object keys sorted by code point, strings re-escaped, no allocation.

use core::cmp::Ordering;

use crate::json::{BufferFull, Writer};
use crate::json_str::Chars;

/// Writes the canonical form of `json`, one compact, well-formed JSON value (as
/// [`crate::json::Reader::compact_object_into`] produces): object keys sorted by code point
/// (a repeated key keeps its last value, as other JSON decoders do), strings with the
/// canonical escapes, numbers and literals as written. The result is never longer than `json`.
///
/// Recursion follows the nesting of `json`, which the reader bounds by
/// [`crate::json::MAX_DEPTH`].
pub fn write_canonical(json: &str, w: &mut Writer<'_>) -> Result<(), BufferFull> {
    value(json, 0, w)
}

fn value(json: &str, start: usize, w: &mut Writer<'_>) -> Result<(), BufferFull> {
    let b = json.as_bytes();
    match b.get(start) {
        Some(b'{') => object(json, start, w),
        Some(b'[') => {
            w.raw("[")?;
            let mut at = start + 1;
            if b.get(at) != Some(&b']') {
                loop {
                    value(json, at, w)?;
                    at = value_end(b, at);
                    if b.get(at) != Some(&b',') {
                        break;
                    }
                    w.raw(",")?;
                    at += 1;
                }
            }
            w.raw("]")
        }
        Some(b'"') => w.string_from_chars(Chars::new(string_content(json, start))),
        _ => w.raw(json.get(start..value_end(b, start)).unwrap_or_default()),
    }
}

/// Writes the object at `start` with its keys in code point order: each round walks the
/// members and takes the smallest key above the last one written (O(keys²) comparisons,
/// no buffer; free-form objects are small).
fn object(json: &str, start: usize, w: &mut Writer<'_>) -> Result<(), BufferFull> {
    w.raw("{")?;
    let mut last: Option<&str> = None;
    loop {
        let mut best: Option<(&str, usize)> = None;
        for (key, value_start) in Members::new(json, start) {
            if last.is_some_and(|last| compare_keys(key, last) != Ordering::Greater) {
                continue;
            }
            // `!= Greater`: of equal keys, the later one wins.
            if best.is_none_or(|(best, _)| compare_keys(key, best) != Ordering::Greater) {
                best = Some((key, value_start));
            }
        }
        let Some((key, value_start)) = best else {
            break;
        };
        if last.is_some() {
            w.raw(",")?;
        }
        w.string_from_chars(Chars::new(key))?;
        w.raw(":")?;
        value(json, value_start, w)?;
        last = Some(key);
    }
    w.raw("}")
}

/// Compares two escaped key contents by the code points they stand for.
fn compare_keys(a: &str, b: &str) -> Ordering {
    if !a.contains('\\') && !b.contains('\\') {
        // UTF-8 byte order is code point order.
        return a.cmp(b);
    }
    Chars::new(a).cmp(Chars::new(b))
}

/// The members of the object at `start`: (escaped key content, start of the value).
struct Members<'a> {
    json: &'a str,
    at: Option<usize>,
}

impl<'a> Members<'a> {
    fn new(json: &'a str, start: usize) -> Self {
        let empty = json.as_bytes().get(start + 1) == Some(&b'}');
        Members {
            json,
            at: (!empty).then_some(start + 1),
        }
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let key_start = self.at?;
        let b = self.json.as_bytes();
        let key = string_content(self.json, key_start);
        let value_start = string_end(b, key_start) + 1; // after the ':'
        let end = value_end(b, value_start);
        self.at = (b.get(end) == Some(&b',')).then_some(end + 1);
        Some((key, value_start))
    }
}

/// The escaped content of the string at `start` (without its quotes).
fn string_content(json: &str, start: usize) -> &str {
    let end = string_end(json.as_bytes(), start);
    json.get(start + 1..end.saturating_sub(1))
        .unwrap_or_default()
}

/// The index after the closing quote of the string at `start`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The index after the value at `start`.
fn value_end(b: &[u8], start: usize) -> usize {
    match b.get(start) {
        Some(b'"') => string_end(b, start),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = start;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' => {
                        i = string_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            let mut i = start;
            while b.get(i).is_some_and(|c| !matches!(c, b',' | b']' | b'}')) {
                i += 1;
            }
            i
        }
    }
}
