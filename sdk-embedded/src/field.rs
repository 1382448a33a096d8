//! The field readers and writers that every generated structure calls: public, so that payload
//! types generated into your own crate (`natsbridge-codegen payloads`) run the same checks.

use crate::json::{BufferFull, JsonError, Reader, Writer};
use crate::{At, DecodeError, ErrorKind, JsonObject, JsonStr, Message, MessageView, format};

/// Reads the value of a field's alias spelling of `rank` (1 for the first alias) with `read`,
/// for the generated decoders. `seen` is the rank of the spelling that set the field so far
/// (`u8::MAX`: none): a key wins over its aliases and an earlier alias over a later one, so a
/// lower-precedence spelling is skipped. A refused value does not fail the message at once (a
/// higher-precedence spelling may still come and win, as in every SDK): its error waits in
/// `deferred`, unless the text is not JSON at all. One function, not one copy per alias.
pub fn read_alias<'a>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
    seen: &mut u8,
    rank: u8,
    deferred: &mut Option<DecodeError>,
    read: &mut dyn FnMut(&mut Reader<'a>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    if *seen < rank {
        return reader.skip_value().map_err(|e| at.json_error(e));
    }
    *seen = rank;
    *deferred = None;
    let before = reader.clone();
    if let Err(error) = read(reader) {
        if error.kind == ErrorKind::NotJson {
            return Err(error);
        }
        *deferred = Some(error);
        *reader = before;
        reader.skip_value().map_err(|e| at.json_error(e))?;
    }
    Ok(())
}

/// `text` as a string of capacity `N`, for a send-side field at `at`: `over_capacity` naming
/// the field when it does not fit, never truncated.
pub fn copy_text<const N: usize>(
    text: &str,
    at: &At<'_>,
) -> Result<heapless::String<N>, DecodeError> {
    let mut out = heapless::String::new();
    out.push_str(text).map_err(|_| {
        at.error(
            ErrorKind::OverCapacity,
            0,
            "longer than its capacity in this SDK",
        )
    })?;
    Ok(out)
}

/// `json` (one JSON object) in canonical form, for a send-side field at `at`: `over_capacity`
/// when it does not fit, `invalid_input` when it is not one JSON object.
pub fn copy_object<const N: usize>(json: &str, at: &At<'_>) -> Result<JsonObject<N>, DecodeError> {
    JsonObject::parse(json).map_err(|e| match e {
        JsonError::TooLong { .. } | JsonError::TooDeep { .. } => at.error(
            ErrorKind::OverCapacity,
            0,
            "longer than its capacity in this SDK",
        ),
        _ => at.error(ErrorKind::InvalidInput, 0, "expected one JSON object"),
    })
}

/// What a received string must be besides fitting its capacity (the schema's `format` or
/// `const`); formats apply to non-empty strings.
#[derive(Clone, Copy)]
pub enum Rule {
    /// Any text.
    Any,
    /// A UUID (`format: uuid`), or empty.
    Uuid,
    /// An RFC 3339 date-time (`format: date-time`), or empty.
    DateTime,
    /// Exactly this text (`const`).
    Const(&'static str),
}

fn check_text<I: Iterator<Item = char> + Clone>(
    chars: I,
    rule: Rule,
    at: &At<'_>,
    offset: usize,
) -> Result<(), DecodeError> {
    let empty = chars.clone().next().is_none();
    let (ok, detail) = match rule {
        Rule::Any => (true, ""),
        Rule::Uuid => (empty || format::is_uuid(chars), "not a UUID"),
        Rule::DateTime => (
            empty || format::is_date_time(chars),
            "not an RFC 3339 date-time",
        ),
        Rule::Const(value) => (chars.eq(value.chars()), "not the value the schema fixes"),
    };
    if ok {
        Ok(())
    } else {
        Err(at.error(ErrorKind::BadValue, offset, detail))
    }
}

/// Reads a string of capacity `N` at `at` and checks `rule`.
pub fn read_text<const N: usize>(
    reader: &mut Reader<'_>,
    at: &At<'_>,
    rule: Rule,
) -> Result<heapless::String<N>, DecodeError> {
    let mut out = heapless::String::new();
    let offset = reader.offset();
    reader.string_into(&mut out).map_err(|e| at.json_error(e))?;
    check_text(out.chars(), rule, at, offset)?;
    Ok(out)
}

/// Reads a string at `at` as a borrowed [`JsonStr`] and checks `rule`.
pub fn read_text_view<'a>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
    rule: Rule,
) -> Result<JsonStr<'a>, DecodeError> {
    let offset = reader.offset();
    let text = reader.raw_string().map_err(|e| at.json_error(e))?;
    check_text(text.chars(), rule, at, offset)?;
    Ok(text)
}

/// Reads an `i64` at `at`: a fraction or exponent is `wrong_type`, out of range `bad_value`.
pub fn read_signed(reader: &mut Reader<'_>, at: &At<'_>) -> Result<i64, DecodeError> {
    let offset = reader.offset();
    reader
        .signed()
        .map_err(|e| at.json_error(e))?
        .ok_or_else(|| at.error(ErrorKind::BadValue, offset, "out of the range of i64"))
}

/// Reads a finite `f64` at `at`.
pub fn read_number(reader: &mut Reader<'_>, at: &At<'_>) -> Result<f64, DecodeError> {
    let offset = reader.offset();
    reader
        .number()
        .map_err(|e| at.json_error(e))?
        .ok_or_else(|| at.error(ErrorKind::BadValue, offset, "not a finite number"))
}

/// Reads `true` or `false` at `at`.
pub fn read_bool(reader: &mut Reader<'_>, at: &At<'_>) -> Result<bool, DecodeError> {
    reader.boolean().map_err(|e| at.json_error(e))
}

/// Reads a free-form object of capacity `N` at `at`.
pub fn read_object<const N: usize>(
    reader: &mut Reader<'_>,
    at: &At<'_>,
) -> Result<JsonObject<N>, DecodeError> {
    let mut out = JsonObject::empty();
    out.read(reader).map_err(|e| at.json_error(e))?;
    Ok(out)
}

/// Reads a nested structure at `at`.
pub fn read_message<T: Message>(reader: &mut Reader<'_>, at: &At<'_>) -> Result<T, DecodeError> {
    let mut out = T::default();
    out.decode_from(reader, at)?;
    Ok(out)
}

/// Reads a nested structure at `at` as a borrowed view.
pub fn read_view<'a, T: MessageView<'a>>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
) -> Result<T, DecodeError> {
    let mut out = T::default();
    out.decode_from(reader, at)?;
    Ok(out)
}

/// Reads an optional value: `null` is absent (schema/WIRE.md section 9), anything else is
/// read by `read`.
pub fn read_optional<'a, T>(
    reader: &mut Reader<'a>,
    at: &At<'_>,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    if reader.null().map_err(|e| at.json_error(e))? {
        Ok(None)
    } else {
        read(reader).map(Some)
    }
}

/// Writes `key` (`"name":`) after `{` or a `,`: for structures whose optional fields may
/// be left out, so that no key is written first.
pub fn write_key(w: &mut Writer<'_>, first: &mut bool, key: &str) -> Result<(), BufferFull> {
    if !*first {
        w.raw(",")?;
    }
    *first = false;
    w.raw(key)
}

/// Sets `out` to `text` for a send-side field at `at` (one copy of the code for every
/// capacity): `over_capacity` naming the field when it does not fit, never truncated.
pub fn set_text(
    out: &mut heapless::string::StringView,
    text: &str,
    at: &At<'_>,
) -> Result<(), DecodeError> {
    out.clear();
    out.push_str(text).map_err(|_| {
        at.error(
            ErrorKind::OverCapacity,
            0,
            "longer than its capacity in this SDK",
        )
    })
}

/// The error of a received value outside the schema's `minimum`/`maximum`.
fn out_of_range(at: &At<'_>, offset: usize) -> DecodeError {
    at.error(
        ErrorKind::BadValue,
        offset,
        "outside the schema's minimum and maximum",
    )
}

/// The error of a value to send outside the schema's `minimum`/`maximum`.
fn refused_out_of_range(at: &At<'_>) -> DecodeError {
    at.error(
        ErrorKind::InvalidInput,
        0,
        "outside the schema's minimum and maximum",
    )
}

/// Reads a `u64` at `at` within `min..=max` (the schema's `minimum` and `maximum`; `0` and
/// `u64::MAX` when absent): a negative number, fraction or exponent is `wrong_type`, a value
/// outside the bounds `bad_value`.
pub fn read_unsigned_in(
    reader: &mut Reader<'_>,
    at: &At<'_>,
    min: u64,
    max: u64,
) -> Result<u64, DecodeError> {
    let offset = reader.offset();
    let value = reader.unsigned().map_err(|e| at.json_error(e))?;
    if value < min || value > max {
        return Err(out_of_range(at, offset));
    }
    Ok(value)
}

/// Reads an `i64` at `at` within `min..=max` (`i64::MIN` and `i64::MAX` when absent): as
/// [`read_signed`], and a value outside the bounds is `bad_value`.
pub fn read_signed_in(
    reader: &mut Reader<'_>,
    at: &At<'_>,
    min: i64,
    max: i64,
) -> Result<i64, DecodeError> {
    let offset = reader.offset();
    let value = read_signed(reader, at)?;
    if value < min || value > max {
        return Err(out_of_range(at, offset));
    }
    Ok(value)
}

/// Reads a finite `f64` at `at` within `min..=max` (infinities when absent): as
/// [`read_number`], and a value outside the bounds is `bad_value`.
pub fn read_number_in(
    reader: &mut Reader<'_>,
    at: &At<'_>,
    min: f64,
    max: f64,
) -> Result<f64, DecodeError> {
    let offset = reader.offset();
    let value = read_number(reader, at)?;
    if !(min..=max).contains(&value) {
        return Err(out_of_range(at, offset));
    }
    Ok(value)
}

/// A sender's check of a `u64` to send at `at`: `invalid_input` outside `min..=max`.
pub fn check_unsigned(value: u64, at: &At<'_>, min: u64, max: u64) -> Result<(), DecodeError> {
    if value < min || value > max {
        return Err(refused_out_of_range(at));
    }
    Ok(())
}

/// A sender's check of an `i64` to send at `at`: `invalid_input` outside `min..=max`.
pub fn check_signed(value: i64, at: &At<'_>, min: i64, max: i64) -> Result<(), DecodeError> {
    if value < min || value > max {
        return Err(refused_out_of_range(at));
    }
    Ok(())
}

/// A sender's check of an `f64` to send at `at`: `invalid_input` when it is NaN or infinite
/// (no JSON number holds it) or outside `min..=max` (pass infinities for absent bounds).
pub fn check_number(value: f64, at: &At<'_>, min: f64, max: f64) -> Result<(), DecodeError> {
    if !value.is_finite() {
        return Err(at.error(ErrorKind::InvalidInput, 0, "not a finite number"));
    }
    if !(min..=max).contains(&value) {
        return Err(refused_out_of_range(at));
    }
    Ok(())
}

/// A sender's check of a string to send at `at` against `rule` (a `format` or `const`):
/// `invalid_input` when it does not follow it.
pub fn check_string(text: &str, at: &At<'_>, rule: Rule) -> Result<(), DecodeError> {
    check_text(text.chars(), rule, at, 0).map_err(|mut error| {
        error.kind = ErrorKind::InvalidInput;
        error
    })
}
