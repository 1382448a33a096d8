//! Small wire-level helpers that the generated code calls: the place of a key in a message,
//! typed extraction of JSON values with precise errors, canonical (sorted) objects, and the
//! base64 of direct payloads.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{Error, ErrorKind};

pub mod stream;

/// A place in a message, built on the stack while decoding and only rendered on error:
/// `payloads[2].size`.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// The whole message.
    Root,
    /// A key of an object.
    Key(&'a At<'a>, &'static str),
    /// An item of an array.
    Index(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    /// The key `name` of the object at `self`.
    pub fn key(&'a self, name: &'static str) -> At<'a> {
        At::Key(self, name)
    }

    /// The item `index` of the array at `self`.
    pub fn index(&'a self, index: usize) -> At<'a> {
        At::Index(self, index)
    }

    /// An error of `kind` at this place.
    pub fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::field(kind, self.to_string(), message)
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Key(At::Root, name) => f.write_str(name),
            At::Key(parent, name) => write!(f, "{parent}.{name}"),
            At::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The JSON type of `value`, for messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(at: &At<'_>, expected: &str, found: &Value) -> Error {
    at.error(
        ErrorKind::WrongType,
        format!("expected {expected}, found {}", type_name(found)),
    )
}

/// Removes the first of `names` (the canonical key, then its aliases) present in `object`.
pub fn take(object: &mut Map<String, Value>, names: &[&str]) -> Option<Value> {
    names.iter().find_map(|name| object.remove(*name))
}

/// The error for a key without a default that is missing.
pub fn missing(at: &At<'_>) -> Error {
    at.error(ErrorKind::MissingKey, "this key is required")
}

/// A structure: `value` must be an object (anything else is `not_object` for the whole message
/// and `wrong_type` inside it).
pub fn structure(value: Value, at: &At<'_>) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(object) => Ok(object),
        other if matches!(at, At::Root) => Err(at.error(
            ErrorKind::NotObject,
            format!("expected an object, found {}", type_name(&other)),
        )),
        other => Err(wrong_type(at, "an object", &other)),
    }
}

/// A string value.
pub fn string(value: Value, at: &At<'_>) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(at, "a string", &other)),
    }
}

/// A non-negative integer that fits `u64`. A fraction or an exponent (`1.0`, `1e3`) and a
/// negative integer are `wrong_type` (`tests/golden/invalid/size_negative`); an integer above
/// 2^64-1 is `bad_value`.
pub fn unsigned(value: Value, at: &At<'_>) -> Result<u64, Error> {
    match value.as_u64() {
        Some(n) => Ok(n),
        None if integral_beyond(&value, 18_446_744_073_709_551_616.0) => Err(at.error(
            ErrorKind::BadValue,
            format!("{value} is out of range (0 to {})", u64::MAX),
        )),
        None => Err(wrong_type(at, "a non-negative integer", &value)),
    }
}

/// An integer that fits `i64`: a fraction or an exponent is `wrong_type`, an integer out of
/// range `bad_value` (schema/WIRE.md section 9).
pub fn signed(value: Value, at: &At<'_>) -> Result<i64, Error> {
    match value.as_i64() {
        Some(n) => Ok(n),
        None if value.is_u64() || integral_beyond(&value, 9_223_372_036_854_775_808.0) => Err(at
            .error(
                ErrorKind::BadValue,
                format!("{value} is out of range ({} to {})", i64::MIN, i64::MAX),
            )),
        None => Err(wrong_type(at, "an integer", &value)),
    }
}

/// Whether `value` is a whole number of magnitude at least `limit`: an integer too large for
/// serde_json's integer types, which it reads as a float.
fn integral_beyond(value: &Value, limit: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|x| value.is_f64() && x.fract() == 0.0 && x.abs() >= limit)
}

/// A number, as a finite `f64` (an integer `3` reads as `3.0`). Numbers beyond the f64 range
/// never get here: the JSON parser refuses them (`not_json`).
pub fn number(value: Value, at: &At<'_>) -> Result<f64, Error> {
    match value.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        Some(_) => Err(at.error(ErrorKind::BadValue, "beyond the range of a double")),
        None => Err(wrong_type(at, "a number", &value)),
    }
}

/// `true` or `false`.
pub fn boolean(value: Value, at: &At<'_>) -> Result<bool, Error> {
    match value {
        Value::Bool(b) => Ok(b),
        other => Err(wrong_type(at, "a boolean", &other)),
    }
}

/// A string that must be `expected` (a schema `const`): another value is `bad_value`.
pub fn constant(value: Value, at: &At<'_>, expected: &str) -> Result<String, Error> {
    let text = string(value, at)?;
    if text != expected {
        return Err(at.error(
            ErrorKind::BadValue,
            format!("{text:?} is not the only value allowed, {expected:?}"),
        ));
    }
    Ok(text)
}

/// A string with a `format`: a non-empty text that does not match is `bad_value` (`""` means
/// "not given").
pub fn formatted(value: Value, at: &At<'_>, format: Format) -> Result<String, Error> {
    let text = string(value, at)?;
    if !format.accepts(&text) {
        return Err(at.error(
            ErrorKind::BadValue,
            format!("{text:?} is not a {}", format.name()),
        ));
    }
    Ok(text)
}

/// A decoding error turned into the caller's: `invalid_input` at the same place, for values
/// a program gives by name ([`EnvelopeFields::set`](crate::EnvelopeFields::set)).
pub fn invalid_input(error: Error) -> Error {
    Error::located(
        ErrorKind::InvalidInput,
        error.place().clone(),
        error.message(),
    )
}

/// The send-side check of a string with a `format`: `invalid_input` when a non-empty text
/// does not match.
pub fn check_format(text: &str, at: &At<'_>, format: Format) -> Result<(), Error> {
    if format.accepts(text) {
        return Ok(());
    }
    Err(at.error(
        ErrorKind::InvalidInput,
        format!("{text:?} is not a {}", format.name()),
    ))
}

/// The send-side check of a number: NaN and infinities cannot be sent (`invalid_input`).
pub fn check_finite(x: &f64, at: &At<'_>) -> Result<(), Error> {
    if x.is_finite() {
        return Ok(());
    }
    Err(at.error(
        ErrorKind::InvalidInput,
        format!("{x} is not a finite number, which JSON cannot carry"),
    ))
}

/// The check of a payload type's string (`x-max-bytes`): more UTF-8 bytes than `max_bytes` is
/// `over_capacity` (the no_std SDK could not hold it).
pub fn check_max_bytes(text: &str, at: &At<'_>, max_bytes: usize) -> Result<(), Error> {
    if text.len() <= max_bytes {
        return Ok(());
    }
    Err(at.error(
        ErrorKind::OverCapacity,
        format!(
            "{} bytes, over the schema's x-max-bytes of {max_bytes}",
            text.len()
        ),
    ))
}

/// The check of a payload type's array (`maxItems`): more items is `over_capacity`.
pub fn check_max_items(len: usize, at: &At<'_>, max_items: usize) -> Result<(), Error> {
    if len <= max_items {
        return Ok(());
    }
    Err(at.error(
        ErrorKind::OverCapacity,
        format!("{len} items, over the schema's maxItems of {max_items}"),
    ))
}

/// The check of a payload type's integer against the schema's inclusive `minimum` and
/// `maximum`: outside is `bad_value`.
pub fn check_integer_range<T: Copy + Into<i128> + fmt::Display>(
    value: &T,
    at: &At<'_>,
    minimum: Option<i128>,
    maximum: Option<i128>,
) -> Result<(), Error> {
    let n: i128 = (*value).into();
    if minimum.is_some_and(|m| n < m) || maximum.is_some_and(|m| n > m) {
        return Err(at.error(
            ErrorKind::BadValue,
            format!("{value} is out of range ({})", range_text(minimum, maximum)),
        ));
    }
    Ok(())
}

/// The check of a payload type's number against the schema's inclusive `minimum` and
/// `maximum`: outside is `bad_value` (a non-finite number is refused before).
pub fn check_number_range(
    value: &f64,
    at: &At<'_>,
    minimum: Option<f64>,
    maximum: Option<f64>,
) -> Result<(), Error> {
    if minimum.is_some_and(|m| *value < m) || maximum.is_some_and(|m| *value > m) {
        let text = |m: Option<f64>| m.map(number_text);
        return Err(at.error(
            ErrorKind::BadValue,
            format!(
                "{} is out of range ({})",
                number_text(*value),
                range_text(text(minimum), text(maximum))
            ),
        ));
    }
    Ok(())
}

fn range_text<T: fmt::Display>(minimum: Option<T>, maximum: Option<T>) -> String {
    match (minimum, maximum) {
        (Some(low), Some(high)) => format!("{low} to {high}"),
        (Some(low), None) => format!("at least {low}"),
        (None, Some(high)) => format!("at most {high}"),
        (None, None) => "any".to_string(),
    }
}

/// The check of a payload type's `const` string: another value is `bad_value`.
pub fn check_constant(text: &str, at: &At<'_>, expected: &str) -> Result<(), Error> {
    if text == expected {
        return Ok(());
    }
    Err(at.error(
        ErrorKind::BadValue,
        format!("{text:?} is not the only value allowed, {expected:?}"),
    ))
}

/// The string formats the schema may declare (`format`), checked on non-empty strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `uuid`: 8-4-4-4-12 hex digits, either case.
    Uuid,
    /// `date-time`: RFC 3339, such as `2026-11-25T11:52:26.123Z` or `...+01:00` (`t`, `z`
    /// accepted).
    DateTime,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Uuid => "UUID (8-4-4-4-12 hex digits)",
            Format::DateTime => "RFC 3339 date-time (2026-11-25T11:52:26.123Z)",
        }
    }

    /// Whether `text` is `""` or matches the format.
    pub fn accepts(self, text: &str) -> bool {
        text.is_empty()
            || match self {
                Format::Uuid => is_uuid(text.as_bytes()),
                Format::DateTime => is_date_time(text.as_bytes()),
            }
    }
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`.
fn is_date_time(b: &[u8]) -> bool {
    let number = |range: std::ops::Range<usize>, max: u32| {
        b.get(range).is_some_and(|digits| {
            digits.iter().all(u8::is_ascii_digit)
                && digits
                    .iter()
                    .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
                    <= max
        })
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    let head = number(0..4, 9999)
        && at(4, b"-")
        && number(5..7, 12)
        && number(8..10, 31)
        && at(10, b"Tt")
        && number(11..13, 23)
        && at(13, b":")
        && number(14..16, 59)
        && at(16, b":")
        && number(17..19, 60)
        && b[5..7] != *b"00"
        && b[8..10] != *b"00";
    if !head {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += 1 + digits;
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && number(i + 1..i + 3, 23)
                && at(i + 3, b":")
                && number(i + 4..i + 6, 59)
        }
        _ => false,
    }
}

/// A free-form object.
pub fn object(value: Value, at: &At<'_>) -> Result<Map<String, Value>, Error> {
    match value {
        Value::Object(object) => Ok(object),
        other => Err(wrong_type(at, "an object", &other)),
    }
}

/// An array, each item decoded by `item` with its place.
pub fn array<T>(
    value: Value,
    at: &At<'_>,
    item: impl Fn(Value, &At<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| item(v, &at.index(i)))
            .collect(),
        other => Err(wrong_type(at, "an array", &other)),
    }
}

/// An enumeration value: a string that `parse` knows.
pub fn enumeration<T>(
    value: Value,
    at: &At<'_>,
    expected: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, Error> {
    let text = string(value, at)?;
    parse(&text).ok_or_else(|| {
        at.error(
            ErrorKind::BadValue,
            format!("unknown value {text:?}; expected one of {expected:?}"),
        )
    })
}

/// Serializes a free-form object with its keys (and those of every nested object) sorted by
/// code point, whatever order the map keeps (serde_json's `preserve_order` may be on).
pub fn sorted_object<S: Serializer>(
    object: &Map<String, Value>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    SortedObject(object).serialize(serializer)
}

/// [`sorted_object`] of an optional free-form object (skipped when absent).
pub fn sorted_optional_object<S: Serializer>(
    object: &Option<Map<String, Value>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match object {
        Some(object) => sorted_object(object, serializer),
        None => serializer.serialize_none(),
    }
}

/// A JSON value whose objects serialize with sorted keys (WIRE.md section 8).
pub struct Canonical<'a>(pub &'a Value);

struct SortedObject<'a>(&'a Map<String, Value>);

impl Serialize for SortedObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut entries: Vec<(&String, &Value)> = self.0.iter().collect();
        // Rust orders strings by UTF-8 bytes, which is code point order.
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, &Canonical(value))?;
        }
        map.end()
    }
}

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self.0 {
            Value::Object(object) => SortedObject(object).serialize(serializer),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Canonical(item))?;
                }
                seq.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// A `serde` visitor for the generated string enumerations: borrows the string, allocates
/// nothing for known values.
pub struct EnumVisitor<T> {
    /// What the enumeration is called in messages.
    pub name: &'static str,
    /// The values a message may hold.
    pub expected: &'static [&'static str],
    /// The generated parser.
    pub parse: fn(&str) -> Option<T>,
}

impl<T> serde::de::Visitor<'_> for EnumVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} string", self.name)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).ok_or_else(|| E::unknown_variant(text, self.expected))
    }
}

/// The canonical JSON text of a value: compact, object keys sorted (WIRE.md section 8).
pub fn canonical_json(value: &Value) -> String {
    serde_json::to_string(&Canonical(value)).expect("a JSON value always serializes")
}

/// A serde_json formatter for the canonical form: compact, and numbers written as CPython's
/// `repr(float)` writes them (schema/WIRE.md section 9), where serde_json would write `1e16`.
pub struct CanonicalFormatter;

impl serde_json::ser::Formatter for CanonicalFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        writer.write_all(NumberText::new(value).as_bytes())
    }
}

/// Serializes `value` canonically (see [`CanonicalFormatter`]) into `writer`.
pub fn write_canonical<W: std::io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        writer,
        CanonicalFormatter,
    ))
}

/// The canonical text of a finite number: CPython's `repr(float)`, the shortest digits that
/// read back as the same double, fixed notation for decimal exponents -4 to 15 (`1.0`,
/// `0.0001`, `-0.0`), else `d[.ddd]e+XX` (`1e+16`, `1.5e-05`).
///
/// ```
/// use natsbridge::wire::number_text;
///
/// assert_eq!(number_text(1.0), "1.0");
/// assert_eq!(number_text(1e16), "1e+16");
/// assert_eq!(number_text(1.5e-5), "1.5e-05");
/// assert_eq!(number_text(123.456), "123.456");
/// ```
pub fn number_text(value: f64) -> String {
    NumberText::new(value).as_str().to_owned()
}

/// [`number_text`] on the stack: the canonical text of a finite number without allocating
/// (the canonical writer's path).
struct NumberText {
    bytes: [u8; 32],
    /// The text is `bytes[start..len]`.
    start: usize,
    len: usize,
}

/// A `fmt::Write` into a fixed buffer (`{:e}` of an `f64` takes at most 24 bytes).
struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl NumberText {
    fn new(value: f64) -> NumberText {
        let mut out = NumberText {
            bytes: [0; 32],
            start: 0,
            len: 0,
        };
        if value == 0.0 {
            out.push(if value.is_sign_negative() {
                b"-0.0"
            } else {
                b"0.0"
            });
            return out;
        }
        if out.fixed(value) {
            return out;
        }
        // Rust writes the shortest round-trip digits too, as `-d.ddde-X`.
        let mut scientific = StackText {
            bytes: [0; 32],
            len: 0,
        };
        fmt::Write::write_fmt(&mut scientific, format_args!("{value:e}"))
            .expect("`{:e}` of an f64 fits 32 bytes");
        let text = &scientific.bytes[..scientific.len];
        let e = text
            .iter()
            .position(|c| *c == b'e')
            .expect("`{:e}` always writes an exponent");
        let (mantissa, exponent) = (&text[..e], &text[e + 1..]);
        let (negative_exponent, exponent) = match exponent.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, exponent),
        };
        let magnitude = exponent
            .iter()
            .fold(0i32, |n, d| n * 10 + i32::from(d - b'0'));
        let exponent = if negative_exponent {
            -magnitude
        } else {
            magnitude
        };
        let (sign, mantissa): (&[u8], &[u8]) = match mantissa.split_first() {
            Some((b'-', rest)) => (b"-", rest),
            _ => (b"", mantissa),
        };
        let mut digit_bytes = [0u8; 24];
        let mut count = 0;
        for c in mantissa.iter().filter(|c| **c != b'.') {
            digit_bytes[count] = *c;
            count += 1;
        }
        let digits = &digit_bytes[..count];
        out.push(sign);
        if !(-4..=15).contains(&exponent) {
            let (first, rest) = digits.split_at(1);
            out.push(first);
            if !rest.is_empty() {
                out.push(b".");
                out.push(rest);
            }
            out.push(if exponent < 0 { b"e-" } else { b"e+" });
            let magnitude = exponent.unsigned_abs();
            if magnitude < 10 {
                out.push(b"0");
            }
            let mut scratch = [0u8; 3];
            let mut n = magnitude;
            let mut i = scratch.len();
            while n > 0 || i == scratch.len() {
                i -= 1;
                scratch[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
            out.push(&scratch[i..]);
            return out;
        }
        let point = exponent + 1;
        if point <= 0 {
            out.push(b"0.");
            for _ in 0..point.unsigned_abs() {
                out.push(b"0");
            }
            out.push(digits);
        } else if point as usize >= digits.len() {
            out.push(digits);
            for _ in 0..point as usize - digits.len() {
                out.push(b"0");
            }
            out.push(b".0");
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            out.push(whole);
            out.push(b".");
            out.push(fraction);
        }
        out
    }

    /// The fast path of the fixed notation, for 1e-4 <= |value| < 1e15: the fewest
    /// fraction digits `k` whose decimal reads back as `value`, found exactly. With
    /// |value| * 10^k below 2^50 the product is within 0.25 of the integer `m` of any such
    /// decimal (so rounding finds it), and 10^-k exceeds the spacing of doubles there (so
    /// it is the only one with `k` digits, the shortest and closest, as `{:e}` writes);
    /// `m / 10^k` is correctly rounded, as reading the text is. Falls back (`false`) when
    /// no `k` fits those bounds.
    fn fixed(&mut self, value: f64) -> bool {
        const POWERS: [f64; 16] = [
            1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        ];
        const LIMIT: f64 = (1u64 << 50) as f64;
        let magnitude = value.abs();
        if !(1e-4..1e15).contains(&magnitude) {
            return false;
        }
        for (k, power) in POWERS.iter().enumerate() {
            let scaled = magnitude * power;
            if scaled >= LIMIT {
                return false;
            }
            // The nearest integer when `scaled` is within 0.25 of one (`f64::round` is a
            // libm call): `scaled + 0.5` is off by at most 1/8 below 2^50.
            let m = (scaled + 0.5) as u64;
            if m as f64 / power != magnitude {
                continue;
            }
            // Written right to left at the end of the buffer, in one piece: the fraction's
            // `k` digits (`.0` when none), the point, the integer part, the sign.
            let bytes = &mut self.bytes;
            let mut i = bytes.len();
            let mut n = m;
            if k == 0 {
                i -= 2;
                bytes[i..].copy_from_slice(b".0");
            } else {
                for _ in 0..k {
                    i -= 1;
                    bytes[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                }
                i -= 1;
                bytes[i] = b'.';
            }
            loop {
                i -= 1;
                bytes[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            if value < 0.0 {
                i -= 1;
                bytes[i] = b'-';
            }
            self.start = i;
            self.len = bytes.len();
            return true;
        }
        false
    }

    fn push(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..self.len]
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("ASCII")
    }
}

/// Standard base64 with `=` padding (WIRE.md section 3), by the SIMD engine of `base64-simd`
/// (AVX2, SSSE3 or NEON when the CPU has them): about twice the base64 crate's speed.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// Decodes standard, padded base64 as strictly as the base64 crate's `STANDARD` engine:
/// the SIMD engine decodes, and on any refusal the base64 crate decides, so that what is
/// accepted and the error message (which character, at which offset) stay the same.
pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine as _;
    match base64_simd::STANDARD.decode_to_vec(text) {
        Ok(bytes) => Ok(bytes),
        Err(_) => base64::engine::general_purpose::STANDARD.decode(text),
    }
}

#[cfg(test)]
mod tests {
    /// CPython's `repr(float)` of each value (written down from CPython 3.11).
    #[test]
    fn numbers_are_written_as_cpython_repr() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345678901234568e20, "1.2345678901234568e+20"),
            (123456789012345.6, "123456789012345.6"),
            (1e-100, "1e-100"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5e-7, "-2.5e-07"),
            (9007199254740993.0, "9007199254740992.0"),
        ];
        for (value, text) in cases {
            assert_eq!(super::number_text(*value), *text, "{value:?}");
            assert_eq!(text.parse::<f64>().unwrap().to_bits(), value.to_bits());
        }
    }

    /// The first, allocating writer of `number_text`, kept as the reference of the stack one.
    fn reference_number_text(value: f64) -> String {
        if value == 0.0 {
            return if value.is_sign_negative() {
                "-0.0"
            } else {
                "0.0"
            }
            .to_owned();
        }
        let scientific = format!("{value:e}");
        let (mantissa, exponent) = scientific.split_once('e').unwrap();
        let exponent: i32 = exponent.parse().unwrap();
        let (sign, mantissa) = match mantissa.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", mantissa),
        };
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        if !(-4..=15).contains(&exponent) {
            let (first, rest) = digits.split_at(1);
            let point = if rest.is_empty() { "" } else { "." };
            let exp_sign = if exponent < 0 { '-' } else { '+' };
            return format!(
                "{sign}{first}{point}{rest}e{exp_sign}{:02}",
                exponent.unsigned_abs()
            );
        }
        let point = exponent + 1;
        if point <= 0 {
            let zeros = "0".repeat(point.unsigned_abs() as usize);
            format!("{sign}0.{zeros}{digits}")
        } else if point as usize >= digits.len() {
            let zeros = "0".repeat(point as usize - digits.len());
            format!("{sign}{digits}{zeros}.0")
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            format!("{sign}{whole}.{fraction}")
        }
    }

    /// The stack writer writes what the first writer wrote, over random doubles of every
    /// exponent and the edges of the fixed range.
    #[test]
    fn number_text_matches_the_reference_writer() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut values = vec![1e-5, 1e-4, 9.999e-5, 1e15, 9.99e15, 1e16, 123.0, 5e-324];
        for _ in 0..200_000 {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            values.push(f64::from_bits(bits));
            values.push((bits % 2_000_000) as f64 / 1000.0 - 1000.0);
            values.push((bits % 100_000) as f64 / 100.0);
            // Every double from 2^-14 to 2^51: the fixed notation's fast path and its edges.
            let exponent = 1009 + (bits >> 52) % 66;
            values.push(f64::from_bits((exponent << 52) | (bits & ((1 << 52) - 1))));
        }
        for value in values.into_iter().filter(|x| x.is_finite()) {
            for value in [value, -value] {
                assert_eq!(
                    super::number_text(value),
                    reference_number_text(value),
                    "{value:?}"
                );
            }
        }
    }

    #[test]
    fn formats_accept_what_rfc_3339_and_uuids_allow() {
        use super::Format::{DateTime, Uuid};
        for ok in [
            "",
            "2026-11-25T11:52:26.123Z",
            "2026-11-25t11:52:26z",
            "2026-11-25T11:52:26+01:00",
            "1999-12-31T23:59:60.5-08:30",
        ] {
            assert!(DateTime.accepts(ok), "{ok}");
        }
        for bad in [
            "2026-11-25",
            "2026-11-25 11:52:26Z",
            "2026-13-25T11:52:26Z",
            "2026-11-25T11:52:26",
            "2026-11-25T11:52:26.Z",
            "2026-11-25T11:52:26+0100",
            "2026-11-25T11:52:26Zjunk",
            "2026-00-25T11:52:26Z",
        ] {
            assert!(!DateTime.accepts(bad), "{bad}");
        }
        assert!(Uuid.accepts("0A367B92-cf0b-437d-bd89-960ee832d56f"));
        assert!(!Uuid.accepts("0a367b92cf0b437dbd89960ee832d56f"));
        assert!(!Uuid.accepts("0a367b92-cf0b-437d-bd89-960ee832d56g"));
    }

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    /// The SIMD engine must accept exactly what the base64 crate accepts, with the same bytes.
    #[test]
    fn base64_decode_accepts_what_the_base64_crate_accepts() {
        let long = super::base64_encode(&(0..=255u8).cycle().take(1000).collect::<Vec<u8>>());
        let mut inputs: Vec<String> = [
            "",
            "=",
            "==",
            "Q",
            "QQ",
            "QQ=",
            "QQ==",
            "QR==",
            "QUE",
            "QUE=",
            "QUF=",
            "QUFB",
            "QQ==QQ==",
            " QQ==",
            "QQ== ",
            "QQ\n==",
            "Q===",
            "QUFB\r\n",
            "QU-B",
            "QU_B",
            "QUFB====",
            "\u{e9}QUFB",
            "QQ=A",
            "aGk=",
            "aGVsbG8=",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for cut in [1, 2, 3, 4, 40, 41, 42, 43] {
            inputs.push(long[..long.len() - cut].to_owned());
        }
        for (i, c) in [(10, '!'), (500, '='), (700, '-'), (1330, 'A')] {
            let mut bad = long.clone();
            bad.replace_range(i..i + 1, &c.to_string());
            inputs.push(bad);
        }
        inputs.push(long);
        for input in &inputs {
            let ours = super::base64_decode(input).map_err(|e| e.to_string());
            let theirs = STANDARD.decode(input).map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "input {input:?}");
            let simd = base64_simd::STANDARD.decode_to_vec(input).ok();
            assert_eq!(simd, theirs.ok(), "the SIMD engine alone, input {input:?}");
        }
    }
}
