//! A minimal JSON runtime for generated firmware code: a writer of canonical JSON (WIRE.md §8)
//! into a caller buffer and a pull reader over a byte slice; no allocation, no recursion, no panics.
use heapless::String;
use heapless::string::StringView;

use crate::json_str::{JsonObjectView, JsonStr};

/// Why a JSON value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Not well-formed JSON (or not UTF-8) at this byte offset of the input.
    Syntax {
        /// Byte offset of the offending byte (the input length for unexpected end of input).
        offset: usize,
    },
    /// The next value is well-formed but of another JSON type; `expected` is e.g. "a string",
    /// "a non-negative integer", "an object", "an array".
    WrongType {
        /// What the caller asked for, as a noun phrase.
        expected: &'static str,
        /// Byte offset where the value starts.
        offset: usize,
    },
    /// A string (unescaped, in UTF-8 bytes) or compact object does not fit `capacity` bytes.
    TooLong {
        /// The capacity of the destination, in bytes.
        capacity: usize,
        /// Byte offset where the value starts.
        offset: usize,
    },
    /// Objects/arrays nested deeper than [`MAX_DEPTH`].
    TooDeep {
        /// Byte offset of the `{` or `[` that opens one level too many.
        offset: usize,
    },
}

/// The longest canonical text of a finite `f64` (`-1.2345678901234567e-308`).
pub const MAX_NUMBER_LEN: usize = 24;

/// The canonical text of the number ryu wrote as `bytes` (its shortest digits, in its own
/// notation) into `out`, written from the digits and the decimal exponent: the reference the
/// tests hold [`Writer::number`] to. Returns its length.
#[cfg(test)]
fn reformat(bytes: &[u8], out: &mut [u8; MAX_NUMBER_LEN]) -> usize {
    let negative = bytes.first() == Some(&b'-');
    let body = if negative { &bytes[1..] } else { bytes };
    let (mantissa, exponent) = match body.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (
            &body[..i],
            crate::float::exponent_value(&body[i + 1..]) as i32,
        ),
        None => (body, 0),
    };
    // The significant digits (at most 17) and the position of the decimal point: the value is
    // 0.DIGITS x 10^point.
    let mut digits = [0u8; 20];
    let mut count = 0usize;
    let mut point: i32 = 0;
    let mut seen_point = false;
    for &b in mantissa {
        if b == b'.' {
            seen_point = true;
            continue;
        }
        if count == 0 && b == b'0' {
            if seen_point {
                point -= 1;
            }
            continue;
        }
        if let Some(slot) = digits.get_mut(count) {
            *slot = b;
            count += 1;
        }
        if !seen_point {
            point += 1;
        }
    }
    while count > 0 && digits.get(count - 1) == Some(&b'0') {
        count -= 1;
    }
    let mut w = Cursor { out, len: 0 };
    if negative {
        w.push(b'-');
    }
    if count == 0 {
        w.extend(b"0.0");
        return w.len;
    }
    point += exponent;
    let digits = digits.get(..count).unwrap_or_default();
    let exp10 = point - 1;
    if (-4..16).contains(&exp10) {
        if point <= 0 {
            w.extend(b"0.");
            for _ in 0..-point {
                w.push(b'0');
            }
            w.extend(digits);
        } else {
            let point = point as usize;
            if point >= count {
                w.extend(digits);
                for _ in count..point {
                    w.push(b'0');
                }
                w.extend(b".0");
            } else {
                w.extend(digits.get(..point).unwrap_or_default());
                w.push(b'.');
                w.extend(digits.get(point..).unwrap_or_default());
            }
        }
    } else {
        w.extend(digits.get(..1).unwrap_or_default());
        if count > 1 {
            w.push(b'.');
            w.extend(digits.get(1..).unwrap_or_default());
        }
        w.push(b'e');
        w.push(if exp10 < 0 { b'-' } else { b'+' });
        let e = exp10.unsigned_abs();
        if e >= 100 {
            w.push(b'0' + (e / 100) as u8);
        }
        w.push(b'0' + (e / 10 % 10) as u8);
        w.push(b'0' + (e % 10) as u8);
    }
    w.len
}

/// Appends bytes to a fixed buffer, dropping what does not fit (the callers size it for the
/// longest text).
#[cfg(test)]
struct Cursor<'b> {
    out: &'b mut [u8; MAX_NUMBER_LEN],
    len: usize,
}

#[cfg(test)]
impl Cursor<'_> {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.out.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }
}

/// Maximum nesting depth the reader accepts while skipping or copying values, counted from the
/// value being skipped or copied (a flat object has depth 1). The reader never recurses: the
/// open containers are tracked in a fixed-size bit stack.
pub const MAX_DEPTH: usize = 32;

// The container stack is a `u64` bit set (bit i = 1 when level i is an object).
const _: () = assert!(MAX_DEPTH >= 1 && MAX_DEPTH <= 64);

/// The writer ran out of room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferFull {
    /// The total capacity of the writer's buffer, in bytes.
    pub capacity: usize,
}

/// Writes canonical JSON into a caller-provided buffer.
///
/// Every method either writes all of its output or, on [`BufferFull`], writes nothing: the
/// content written before the failing call is left as it was. The writer never panics.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Writer<'b> {
    /// A writer that fills `buf` from its start.
    #[must_use]
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// The number of bytes written so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    #[must_use]
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Consumes the writer and returns the written prefix of the buffer.
    #[must_use]
    pub fn into_written(self) -> &'b [u8] {
        let buf: &'b [u8] = self.buf;
        buf.get(..self.len).unwrap_or(&[])
    }

    /// Writes `text` verbatim (punctuation, pre-quoted keys, already-compact JSON).
    pub fn raw(&mut self, text: &str) -> Result<(), BufferFull> {
        self.bytes(text.as_bytes())
    }

    /// Writes `text` as a JSON string: `"`, canonical escaping (only `"`, `\` and U+0000 to
    /// U+001F are escaped, with `\u00xx` in lower-case hex where there is no short form), `"`.
    pub fn string(&mut self, text: &str) -> Result<(), BufferFull> {
        let start = self.len;
        let result = self.string_body(text.as_bytes());
        if result.is_err() {
            self.len = start;
        }
        result
    }

    /// Writes `n` in decimal.
    pub fn unsigned(&mut self, n: u64) -> Result<(), BufferFull> {
        self.decimal(n, false)
    }

    /// Writes `n` in decimal, with `-` when negative; nothing when it does not fit.
    pub fn signed(&mut self, n: i64) -> Result<(), BufferFull> {
        self.decimal(n.unsigned_abs(), n < 0)
    }

    /// Writes `magnitude` in decimal after a `-` when `negative`, all or nothing.
    fn decimal(&mut self, magnitude: u64, negative: bool) -> Result<(), BufferFull> {
        // The number of digits first, then the digits straight into the buffer from the last.
        let n = magnitude;
        let mut len = 1;
        let mut power: u64 = 10;
        while len < 20 && n >= power {
            len += 1;
            power = power.saturating_mul(10);
        }
        let full = BufferFull {
            capacity: self.buf.len(),
        };
        let end = self
            .len
            .checked_add(len + usize::from(negative))
            .ok_or(full)?;
        let dest = self.buf.get_mut(self.len..end).ok_or(full)?;
        let (sign, digits) = dest.split_at_mut(usize::from(negative));
        sign.fill(b'-');
        let mut n = n;
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.len = end;
        Ok(())
    }

    /// Writes `true` or `false`.
    pub fn boolean(&mut self, b: bool) -> Result<(), BufferFull> {
        self.raw(if b { "true" } else { "false" })
    }

    /// Writes a finite `x` in the canonical form of schema/WIRE.md section 9 (CPython's
    /// `repr(float)`: shortest round-trip digits, fixed notation for decimal exponents -4 to
    /// 15 with at least one digit after the point, `d[.ddd]e+XX` / `e-XX` otherwise), at most
    /// [`MAX_NUMBER_LEN`] bytes. A non-finite `x` (never produced by the decoder) is `0.0`.
    pub fn number(&mut self, x: f64) -> Result<(), BufferFull> {
        let start = self.len;
        let result = self.number_text(x);
        if result.is_err() {
            self.len = start;
        }
        result
    }

    /// [`number`](Self::number), possibly leaving a part written when the buffer is full.
    ///
    /// ryu's shortest digits, in ryu's notation: fixed for decimal exponents -5 to 15 (at
    /// least one digit after the point), `D[.DDD]eN` otherwise. The canonical form is fixed
    /// from -4 to 15, so only exponent -5 (`0.0000DDD`) and ryu's exponent (`e16`, `e-7`: a
    /// sign and two digits at least, `e+16`, `e-07`) are rewritten.
    fn number_text(&mut self, x: f64) -> Result<(), BufferFull> {
        let mut ryu_buf = ryu::Buffer::new();
        let text = if x.is_finite() {
            ryu_buf.format_finite(x)
        } else {
            "0.0"
        };
        let bytes = text.as_bytes();
        let negative = bytes.first() == Some(&b'-');
        let body = bytes.get(usize::from(negative)..).unwrap_or_default();
        let pieces: [&[u8]; 5] =
            if let [b'0', b'.', b'0', b'0', b'0', b'0', first, rest @ ..] = body {
                // 0.0000DDD: D.DDe-05 (ryu's digits start with a non-zero one).
                let sign: &[u8] = if negative { b"-" } else { b"" };
                let point: &[u8] = if rest.is_empty() { b"" } else { b"." };
                [sign, core::slice::from_ref(first), point, rest, b"e-05"]
            } else if let Some(e) = body.iter().position(|&b| b == b'e') {
                let mantissa = bytes.get(..usize::from(negative) + e).unwrap_or_default();
                let exponent = body.get(e + 1..).unwrap_or_default();
                let (sign, digits): (&[u8], _) = match exponent.split_first() {
                    Some((b'-', digits)) => (b"e-", digits),
                    _ => (b"e+", exponent),
                };
                let pad: &[u8] = if digits.len() < 2 { b"0" } else { b"" };
                [mantissa, sign, pad, digits, b""]
            } else {
                // Fixed notation, the common case: ryu's text as it is.
                return self.bytes(bytes);
            };
        // The rewritten text, in up to five pieces written by one loop.
        for piece in pieces {
            self.bytes(piece)?;
        }
        Ok(())
    }

    /// Writes a string given as characters (`"` + canonical escaping + `"`), such as the
    /// unescaped characters of another JSON string.
    pub fn string_from_chars(
        &mut self,
        chars: impl IntoIterator<Item = char>,
    ) -> Result<(), BufferFull> {
        let start = self.len;
        let mut result = self.bytes(b"\"");
        for c in chars {
            if result.is_err() {
                break;
            }
            result = self.escaped(c.encode_utf8(&mut [0u8; 4]).as_bytes());
        }
        result = result.and_then(|()| self.bytes(b"\""));
        if result.is_err() {
            self.len = start;
        }
        result
    }

    fn string_body(&mut self, text: &[u8]) -> Result<(), BufferFull> {
        self.bytes(b"\"")?;
        self.escaped(text)?;
        self.bytes(b"\"")
    }

    /// Writes `text` with the escapes of WIRE.md section 8, without quotes.
    fn escaped(&mut self, text: &[u8]) -> Result<(), BufferFull> {
        let mut run_start = 0;
        for (i, &b) in text.iter().enumerate() {
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x00..=0x1f => b"",
                _ => continue,
            };
            self.bytes(text.get(run_start..i).unwrap_or(&[]))?;
            run_start = i + 1;
            if short.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let escape = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0x0f)],
                ];
                self.bytes(&escape)?;
            } else {
                self.bytes(short)?;
            }
        }
        self.bytes(text.get(run_start..).unwrap_or(&[]))
    }

    fn bytes(&mut self, bytes: &[u8]) -> Result<(), BufferFull> {
        let full = BufferFull {
            capacity: self.buf.len(),
        };
        let end = self.len.checked_add(bytes.len()).ok_or(full)?;
        let dest = self.buf.get_mut(self.len..end).ok_or(full)?;
        dest.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// What [`Reader::next_key_bytes`] returns for a key longer than its buffer: not UTF-8, so no
/// key of a schema matches it.
pub const TOO_LONG_KEY: &[u8] = b"\xff";

/// The result of reading an object key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The key was unescaped into the caller's buffer.
    Fits,
    /// The key is longer than the buffer: it cannot be any known key; the caller skips its value.
    TooLong,
}

/// A pull reader over one JSON document in a byte slice.
///
/// The caller drives it with the shape it expects (`begin_object`, `next_key`, `string_into`,
/// ...); every method validates what it consumes. Methods skip the whitespace before a token but
/// never the whitespace after a value. A method that fails leaves the reader at an unspecified
/// position (except where documented); callers abandon the document on any error.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `input`.
    #[must_use]
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, pos: 0 }
    }

    /// The current byte offset in the input.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Skips whitespace and consumes `{`. `WrongType { expected: "an object" }` if another
    /// well-formed value starts here (not consumed), the value's own error if it is malformed,
    /// `Syntax` if no value starts here.
    pub fn begin_object(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b'{') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.wrong_type("an object"))
        }
    }

    /// After `begin_object` or after a member's value: returns `Ok(None)` at the closing `}`
    /// (consumed), otherwise reads the next key (handling the `,` separator) into `key` (cleared
    /// first), consumes the `:`, and returns `Some(Key::Fits)` or `Some(Key::TooLong)` (the
    /// key's bytes are then consumed and validated but not stored, and `key` is left empty; it is
    /// also left empty on any error).
    /// Trailing commas, missing commas, `{,}` and the like are `Syntax` errors.
    pub fn next_key<const N: usize>(
        &mut self,
        key: &mut String<N>,
    ) -> Result<Option<Key>, JsonError> {
        self.next_key_view(key.as_mut_view())
    }

    /// [`next_key`](Self::next_key) for any capacity: one copy of the code, not one per `N`.
    fn next_key_view(&mut self, key: &mut StringView) -> Result<Option<Key>, JsonError> {
        key.clear();
        if !self.member_start()? {
            return Ok(None);
        }
        let fits = collect_into(key, |mut sink| {
            self.scan_string(false, &mut sink)
                .and_then(|()| self.colon())
        })?;
        Ok(Some(if fits { Key::Fits } else { Key::TooLong }))
    }

    /// Like [`next_key`](Self::next_key), returning the key's UTF-8 bytes (validated as
    /// [`next_key`](Self::next_key) validates them): borrowed from the input when the key has
    /// no escape (no copy), otherwise unescaped into `buf`. A key longer than `N` bytes (which
    /// is no known key when `N` is the longest one) is returned as [`TOO_LONG_KEY`], which
    /// equals no key (not even `""`).
    pub fn next_key_bytes<'k, const N: usize>(
        &mut self,
        buf: &'k mut String<N>,
    ) -> Result<Option<&'k [u8]>, JsonError>
    where
        'a: 'k,
    {
        self.next_key_bytes_view(buf.as_mut_view())
    }

    /// [`next_key_bytes`](Self::next_key_bytes) for any capacity.
    fn next_key_bytes_view<'k>(
        &mut self,
        buf: &'k mut StringView,
    ) -> Result<Option<&'k [u8]>, JsonError>
    where
        'a: 'k,
    {
        if !self.member_start()? {
            return Ok(None);
        }
        // At the opening quote. The common key: no escape, so its bytes are the key.
        let input: &'a [u8] = self.input;
        let start = self.pos + 1;
        let rest = input.get(start..).unwrap_or_default();
        // Stops at the closing quote, or at what needs the full scan: an escape, a raw control
        // character, a non-ASCII byte (UTF-8 to check) or the end of the input.
        let run_len = rest
            .iter()
            .position(|&b| matches!(b, b'"' | b'\\' | 0..0x20 | 0x80..))
            .unwrap_or(rest.len());
        if rest.get(run_len) == Some(&b'"') {
            let run = rest.get(..run_len).unwrap_or_default();
            self.pos = start + run_len + 1;
            self.colon()?;
            return Ok(Some(if run.len() > buf.capacity() {
                TOO_LONG_KEY
            } else {
                run
            }));
        }
        let fits = collect_into(buf, |mut sink| {
            self.scan_string(false, &mut sink)
                .and_then(|()| self.colon())
        })?;
        Ok(Some(if fits { buf.as_bytes() } else { TOO_LONG_KEY }))
    }

    /// Like [`next_key`](Self::next_key), returning the key borrowed from the input, escapes
    /// not applied (validated as [`raw_string`](Self::raw_string) does), whatever its length.
    pub fn next_raw_key(&mut self) -> Result<Option<JsonStr<'a>>, JsonError> {
        if !self.member_start()? {
            return Ok(None);
        }
        let key = self.raw_string()?;
        self.colon()?;
        Ok(Some(key))
    }

    /// Within an object, before a member: `false` at the closing `}` (consumed), `true` at the
    /// `"` of the next key (after the `,` separator, consumed).
    fn member_start(&mut self) -> Result<bool, JsonError> {
        // Right after `begin_object` the previous byte is the `{`; after a member's value it is
        // the value's last byte, which is never `{`.
        let first = self.just_after(b'{');
        self.skip_ws();
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                return Ok(false);
            }
            Some(b'"') if first => {}
            Some(b',') if !first => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() != Some(b'"') {
                    return Err(self.syntax());
                }
            }
            _ => return Err(self.syntax()),
        }
        Ok(true)
    }

    /// Skips whitespace and consumes `[`. `WrongType { expected: "an array" }` if another
    /// well-formed value starts here (not consumed), the value's own error if it is malformed,
    /// `Syntax` if no value starts here.
    pub fn begin_array(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b'[') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.wrong_type("an array"))
        }
    }

    /// After `begin_array` or after an item: `Ok(true)` when another item follows (the `,`
    /// separator consumed), `Ok(false)` at `]` (consumed). Trailing commas, missing commas and
    /// `[,1]` are `Syntax` errors.
    pub fn next_item(&mut self) -> Result<bool, JsonError> {
        // Right after `begin_array` the previous byte is the `[`; after an item it is the item's
        // last byte, which is never `[`.
        let first = self.just_after(b'[');
        self.skip_ws();
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b',') if !first => {
                self.pos += 1;
                self.skip_ws();
                match self.peek() {
                    Some(b']') | None => Err(self.syntax()),
                    Some(_) => Ok(true),
                }
            }
            Some(b',') | None => Err(self.syntax()),
            Some(_) if first => Ok(true),
            Some(_) => Err(self.syntax()),
        }
    }

    /// Reads a string value, unescaped, into `out` (cleared first).
    ///
    /// Handles all JSON escapes including `\uXXXX` and UTF-16 surrogate pairs; a lone or
    /// mismatched surrogate, a bad escape, a raw control character (< 0x20) or invalid UTF-8 is
    /// a `Syntax` error. `WrongType { expected: "a string" }` when the value is well-formed but
    /// of another type: that value is not consumed (only the whitespace before it).
    /// `TooLong { capacity: N }` when the unescaped string does not fit: the string is then
    /// consumed and validated to its end. On any error `out` is left empty.
    pub fn string_into<const N: usize>(&mut self, out: &mut String<N>) -> Result<(), JsonError> {
        self.string_into_view(out.as_mut_view())
    }

    /// [`string_into`](Self::string_into) for any capacity: one copy of the code, not one per `N`.
    fn string_into_view(&mut self, out: &mut StringView) -> Result<(), JsonError> {
        out.clear();
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.wrong_type("a string"));
        }
        let start = self.pos;
        if collect_into(out, |mut sink| self.scan_string(false, &mut sink))? {
            Ok(())
        } else {
            Err(JsonError::TooLong {
                capacity: out.capacity(),
                offset: start,
            })
        }
    }

    /// Reads a string value without copying it: its raw content, borrowed from the input,
    /// validated exactly as [`string_into`](Self::string_into) validates (escapes, surrogate
    /// pairs, UTF-8, no raw control character: `Syntax` otherwise), and of any length.
    /// `WrongType { expected: "a string" }` when the value is well-formed but of another type:
    /// that value is not consumed (only the whitespace before it).
    pub fn raw_string(&mut self) -> Result<JsonStr<'a>, JsonError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.wrong_type("a string"));
        }
        let start = self.pos;
        self.scan_string(false, &mut |_| {})?;
        let content = self.input.get(start + 1..self.pos - 1).unwrap_or_default();
        // The scan checked that the content is UTF-8; never fails.
        let content =
            core::str::from_utf8(content).map_err(|_| JsonError::Syntax { offset: start })?;
        Ok(JsonStr::from_raw(content))
    }

    /// The next value must be an object (`WrongType { expected: "an object" }` otherwise, not
    /// consumed); returns its text as it is in the input, borrowed, after validating it fully
    /// (`TooDeep` when it nests deeper than [`MAX_DEPTH`]), of any length.
    pub fn raw_object(&mut self) -> Result<JsonObjectView<'a>, JsonError> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(self.wrong_type("an object"));
        }
        let start = self.pos;
        self.skip_value()?;
        let text = self.input.get(start..self.pos).unwrap_or_default();
        // The walk checked that the object is UTF-8; never fails.
        let text = core::str::from_utf8(text).map_err(|_| JsonError::Syntax { offset: start })?;
        Ok(JsonObjectView::from_raw(text))
    }

    /// Reads a non-negative integer that fits `u64`: digits only, no sign, no fraction, no
    /// exponent, no leading zeros except "0" (`01` is not JSON: `Syntax`). Any other well-formed
    /// value (a string, a negative number, `1.5`, `1e3`, `true`, ...) or a value above
    /// `u64::MAX` is `WrongType { expected: "a non-negative integer" }`, and is not consumed.
    pub fn unsigned(&mut self) -> Result<u64, JsonError> {
        const EXPECTED: &str = "a non-negative integer";
        self.skip_ws();
        let start = self.pos;
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.wrong_type(EXPECTED));
        }
        let (end, integer) = self.number_end(start)?;
        let wrong = JsonError::WrongType {
            expected: EXPECTED,
            offset: start,
        };
        if !integer {
            return Err(wrong);
        }
        let mut n: u64 = 0;
        for &b in self.input.get(start..end).unwrap_or(&[]) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(b - b'0')))
                .ok_or(wrong)?;
        }
        self.pos = end;
        Ok(n)
    }

    /// Reads an integer (optional `-`, digits, no fraction, no exponent): `Ok(None)` when it
    /// is outside `i64` (consumed: `bad_value` for the caller); any other well-formed value
    /// (`1.5`, `1e3`, a string) is `WrongType { expected: "an integer" }`, not consumed.
    pub fn signed(&mut self) -> Result<Option<i64>, JsonError> {
        const EXPECTED: &str = "an integer";
        self.skip_ws();
        let start = self.pos;
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(self.wrong_type(EXPECTED));
        }
        let (end, integer) = self.number_end(start)?;
        let text = self.input.get(start..end).unwrap_or(&[]);
        if !integer {
            return Err(JsonError::WrongType {
                expected: EXPECTED,
                offset: start,
            });
        }
        let (negative, digits) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let mut n: i64 = 0;
        let mut fits = true;
        for &b in digits {
            let d = i64::from(b - b'0');
            let next = n.checked_mul(10).and_then(|n| {
                if negative {
                    n.checked_sub(d)
                } else {
                    n.checked_add(d)
                }
            });
            match next {
                Some(v) => n = v,
                None => fits = false,
            }
        }
        self.pos = end;
        Ok(fits.then_some(n))
    }

    /// Reads any JSON number as the nearest `f64`: `Ok(None)` when it is too large to be
    /// finite (consumed: `bad_value` for the caller); any other well-formed value is
    /// `WrongType { expected: "a number" }`, not consumed.
    pub fn number(&mut self) -> Result<Option<f64>, JsonError> {
        self.skip_ws();
        let start = self.pos;
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(self.wrong_type("a number"));
        }
        let (end, _) = self.number_end(start)?;
        let text = self.input.get(start..end).unwrap_or(&[]);
        self.pos = end;
        Ok(crate::float::parse(text))
    }

    /// Reads `null` and returns true when the next value is `null`; otherwise consumes
    /// nothing and returns false.
    pub fn null(&mut self) -> Result<bool, JsonError> {
        self.skip_ws();
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal(b"null", &mut |_| {})?;
        Ok(true)
    }

    /// Reads `true` or `false`; any other well-formed value is
    /// `WrongType { expected: "a boolean" }` and is not consumed.
    pub fn boolean(&mut self) -> Result<bool, JsonError> {
        self.skip_ws();
        let value = match self.peek() {
            Some(b't') => true,
            Some(b'f') => false,
            _ => return Err(self.wrong_type("a boolean")),
        };
        self.literal(if value { b"true" } else { b"false" }, &mut |_| {})?;
        Ok(value)
    }

    /// The next value must be an object (`WrongType { expected: "an object" }` otherwise, not
    /// consumed); copies it into `out` (cleared first) without insignificant whitespace, strings
    /// and numbers copied as they are (escapes unchanged), validating it fully. `TooLong` when it
    /// does not fit (the object is then consumed and validated to its end); `TooDeep` when it
    /// nests deeper than [`MAX_DEPTH`]. On any error `out` is left empty.
    pub fn compact_object_into<const N: usize>(
        &mut self,
        out: &mut String<N>,
    ) -> Result<(), JsonError> {
        self.compact_object_into_view(out.as_mut_view())
    }

    /// [`compact_object_into`](Self::compact_object_into) for any capacity.
    fn compact_object_into_view(&mut self, out: &mut StringView) -> Result<(), JsonError> {
        out.clear();
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(self.wrong_type("an object"));
        }
        let start = self.pos;
        if collect_into(out, |mut sink| self.walk(&mut sink))? {
            Ok(())
        } else {
            Err(JsonError::TooLong {
                capacity: out.capacity(),
                offset: start,
            })
        }
    }

    /// Skips any one JSON value (after optional whitespace), validating it; iterative and
    /// limited to [`MAX_DEPTH`] levels of nesting.
    pub fn skip_value(&mut self) -> Result<(), JsonError> {
        self.walk(&mut |_| {})
    }

    /// Only whitespace may remain; `Syntax` at the first other byte otherwise.
    pub fn end(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.pos < self.input.len() {
            Err(self.syntax())
        } else {
            Ok(())
        }
    }

    // ----- internals -----

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn syntax(&self) -> JsonError {
        JsonError::Syntax { offset: self.pos }
    }

    fn just_after(&self, open: u8) -> bool {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.input.get(i))
            .is_some_and(|&b| b == open)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn colon(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b':') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// The error for a value that is not of the `expected` type: `WrongType` if a well-formed
    /// value starts at the current position, else the error found while checking it. Does not
    /// move the reader.
    fn wrong_type(&self, expected: &'static str) -> JsonError {
        let mut probe = self.clone();
        match probe.skip_value() {
            Ok(()) => JsonError::WrongType {
                expected,
                offset: self.pos,
            },
            Err(e) => e,
        }
    }

    /// Scans the string starting at the current position (which must be `"`) and moves past it.
    /// Passes its content to `sink` in pieces: unescaped if `raw` is false, otherwise exactly as
    /// in the input, quotes included.
    fn scan_string(&mut self, raw: bool, sink: &mut impl FnMut(&str)) -> Result<(), JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax());
        }
        if raw {
            sink("\"");
        }
        self.pos += 1;
        loop {
            let rest = self.input.get(self.pos..).unwrap_or(&[]);
            let run_len = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            let run = rest.get(..run_len).unwrap_or(&[]);
            match core::str::from_utf8(run) {
                Ok(text) => {
                    if !text.is_empty() {
                        sink(text);
                    }
                }
                Err(e) => {
                    return Err(JsonError::Syntax {
                        offset: self.pos + e.valid_up_to(),
                    });
                }
            }
            self.pos += run_len;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    if raw {
                        sink("\"");
                    }
                    return Ok(());
                }
                Some(b'\\') => {
                    let escape_start = self.pos;
                    let c = self.escape()?;
                    if raw {
                        let source = self.input.get(escape_start..self.pos).unwrap_or(&[]);
                        // An escape that decoded is ASCII; never fails.
                        let source =
                            core::str::from_utf8(source).map_err(|_| JsonError::Syntax {
                                offset: escape_start,
                            })?;
                        sink(source);
                    } else {
                        let mut utf8 = [0u8; 4];
                        sink(c.encode_utf8(&mut utf8));
                    }
                }
                // A raw control character, or the end of the input.
                _ => return Err(self.syntax()),
            }
        }
    }

    /// Decodes the escape sequence at the current position (which is `\`) and moves past it.
    fn escape(&mut self) -> Result<char, JsonError> {
        let start = self.pos;
        let bad = JsonError::Syntax { offset: start };
        let c = match self.input.get(start + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let high = self.hex4(start + 2).ok_or(bad)?;
                self.pos = start + 6;
                return match high {
                    0xd800..=0xdbff => {
                        // A bad low half is reported at the start of the pair.
                        let low_start = self.pos;
                        if self.input.get(low_start..low_start + 2) != Some(b"\\u") {
                            return Err(bad);
                        }
                        let low = self.hex4(low_start + 2).ok_or(bad)?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(bad);
                        }
                        self.pos = low_start + 6;
                        let code = 0x10000
                            + ((u32::from(high) - 0xd800) << 10)
                            + (u32::from(low) - 0xdc00);
                        char::from_u32(code).ok_or(bad)
                    }
                    _ => char::from_u32(u32::from(high)).ok_or(bad),
                };
            }
            _ => return Err(bad),
        };
        self.pos = start + 2;
        Ok(c)
    }

    fn hex4(&self, at: usize) -> Option<u16> {
        let digits = self.input.get(at..at.checked_add(4)?)?;
        let mut v: u16 = 0;
        for &d in digits {
            let nibble = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return None,
            };
            v = (v << 4) | u16::from(nibble);
        }
        Some(v)
    }

    /// Checks the number starting at `start` against the JSON grammar (and that a delimiter
    /// follows it) without moving; returns its end and whether it is an integer (no fraction,
    /// no exponent; a `-` is allowed).
    fn number_end(&self, start: usize) -> Result<(usize, bool), JsonError> {
        let at = |i: usize| self.input.get(i).copied();
        let digits_from = |mut i: usize| {
            while let Some(b'0'..=b'9') = at(i) {
                i += 1;
            }
            i
        };
        let mut i = start;
        let mut integer = true;
        if at(i) == Some(b'-') {
            i += 1;
        }
        match at(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits_from(i + 1),
            _ => return Err(JsonError::Syntax { offset: i }),
        }
        if at(i) == Some(b'.') {
            integer = false;
            i += 1;
            if !matches!(at(i), Some(b'0'..=b'9')) {
                return Err(JsonError::Syntax { offset: i });
            }
            i = digits_from(i);
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = at(i) {
            integer = false;
            exponent = true;
            i += 1;
            if let Some(b'+' | b'-') = at(i) {
                i += 1;
            }
            if !matches!(at(i), Some(b'0'..=b'9')) {
                return Err(JsonError::Syntax { offset: i });
            }
            i = digits_from(i);
        }
        self.delimiter_at(i)?;
        // Without an exponent, a number shorter than the smallest overflowing one is finite.
        let short = !exponent && i - start < F64_OVERFLOW_DIGITS.len();
        if !short && beyond_f64(self.input.get(start..i).unwrap_or_default(), integer) {
            // As serde_json: a number no 64-bit float can hold is not accepted as JSON.
            return Err(JsonError::Syntax { offset: start });
        }
        Ok((i, integer))
    }

    /// A scalar (number or literal) must be followed by whitespace, `,`, `]`, `}` or the end.
    fn delimiter_at(&self, i: usize) -> Result<(), JsonError> {
        match self.input.get(i) {
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}') => Ok(()),
            Some(_) => Err(JsonError::Syntax { offset: i }),
        }
    }

    /// Skips whitespace and one value, passing its significant bytes to `sink` (so that their
    /// concatenation is the compact form of the value). Iterative, depth-limited.
    fn walk(&mut self, sink: &mut impl FnMut(&str)) -> Result<(), JsonError> {
        // Bit i of `objects` is set when the container at depth i + 1 is an object.
        let mut objects: u64 = 0;
        let mut depth: usize = 0;
        'value: loop {
            // Expect a value.
            self.skip_ws();
            let start = self.pos;
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if depth >= MAX_DEPTH {
                        return Err(JsonError::TooDeep { offset: start });
                    }
                    let is_object = open == b'{';
                    if is_object {
                        objects |= 1 << depth;
                        sink("{");
                    } else {
                        objects &= !(1 << depth);
                        sink("[");
                    }
                    depth += 1;
                    self.pos += 1;
                    self.skip_ws();
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        // Empty container: closed below like any other.
                    } else if is_object {
                        self.member_key(sink)?;
                        continue 'value;
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => self.scan_string(true, sink)?,
                Some(b'-' | b'0'..=b'9') => {
                    let (end, _) = self.number_end(start)?;
                    self.emit(start, end, sink)?;
                    self.pos = end;
                }
                Some(b't') => self.literal(b"true", sink)?,
                Some(b'f') => self.literal(b"false", sink)?,
                Some(b'n') => self.literal(b"null", sink)?,
                _ => return Err(self.syntax()),
            }
            // After a value (or at the close of an empty container): close containers until one
            // continues with `,` or the outermost one is done.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let is_object = objects & (1 << (depth - 1)) != 0;
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        sink(",");
                        self.pos += 1;
                        if is_object {
                            self.skip_ws();
                            self.member_key(sink)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if is_object => sink("}"),
                    Some(b']') if !is_object => sink("]"),
                    _ => return Err(self.syntax()),
                }
                self.pos += 1;
                depth -= 1;
            }
        }
    }

    /// Within `walk`: a member's key (at the current position) and its `:`.
    fn member_key(&mut self, sink: &mut impl FnMut(&str)) -> Result<(), JsonError> {
        self.scan_string(true, sink)?;
        self.colon()?;
        sink(":");
        Ok(())
    }

    fn literal(
        &mut self,
        word: &'static [u8],
        sink: &mut impl FnMut(&str),
    ) -> Result<(), JsonError> {
        let end = self.pos + word.len();
        if self.input.get(self.pos..end) != Some(word) {
            return Err(self.syntax());
        }
        self.delimiter_at(end)?;
        self.emit(self.pos, end, sink)?;
        self.pos = end;
        Ok(())
    }

    fn emit(&self, start: usize, end: usize, sink: &mut impl FnMut(&str)) -> Result<(), JsonError> {
        let bytes = self.input.get(start..end).unwrap_or(&[]);
        // Numbers and literals were checked to be ASCII; never fails.
        let text = core::str::from_utf8(bytes).map_err(|_| JsonError::Syntax { offset: start })?;
        sink(text);
        Ok(())
    }
}

/// Runs `scan`, which hands the text it reads to a sink, collecting that text into `out`
/// (cleared first). Returns whether it all fit; on an error or when it does not fit, `out` is
/// left empty (the scan still runs to its end, so the input is consumed and validated).
fn collect_into(
    out: &mut StringView,
    scan: impl FnOnce(&mut dyn FnMut(&str)) -> Result<(), JsonError>,
) -> Result<bool, JsonError> {
    out.clear();
    let mut fits = true;
    let result = scan(&mut |text: &str| {
        if fits && out.push_str(text).is_err() {
            fits = false;
        }
    });
    if result.is_err() || !fits {
        out.clear();
    }
    result.map(|()| fits)
}

/// The decimal digits of 2^1024 - 2^970, the smallest magnitude that rounds to infinity as a
/// 64-bit float (halfway between `f64::MAX` and 2^1024; the tie goes to the even 2^1024).
const F64_OVERFLOW_DIGITS: &[u8; 309] = b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Whether the JSON number `text` (already checked against the grammar) rounds to infinity as
/// a 64-bit float: its magnitude is at least [`F64_OVERFLOW_DIGITS`]. Compared digit by digit,
/// exactly as a correctly rounded parser decides (so the boundary is serde_json's), without
/// linking a float parser into the firmware.
///
/// Rare (the caller skips numbers without exponent shorter than the boundary), so out of line
/// and written for size.
#[inline(never)]
fn beyond_f64(text: &[u8], integer: bool) -> bool {
    if integer && text.len() <= 19 {
        return false;
    }
    let text = text.strip_prefix(b"-").unwrap_or(text);
    let e = text
        .iter()
        .position(|&b| b == b'e' || b == b'E')
        .unwrap_or(text.len());
    let mantissa = text.get(..e).unwrap_or_default();
    let exponent = text.get(e + 1..).unwrap_or_default();
    // The value is 0.d1d2d3... * 10^magnitude, d1 the first non-zero digit: the whole digits
    // from d1 on count up, the zeros between the point and d1 count down.
    let mut magnitude: i64 = 0;
    let mut first = None;
    let mut point = false;
    for (i, &b) in mantissa.iter().enumerate() {
        if b == b'.' {
            point = true;
        } else if first.is_some() || b != b'0' {
            first.get_or_insert(i);
            magnitude += i64::from(!point);
        } else if point {
            magnitude -= 1;
        }
    }
    let Some(first) = first else {
        // Zero.
        return false;
    };
    let magnitude = magnitude.saturating_add(crate::float::exponent_value(exponent));
    let overflow_magnitude = F64_OVERFLOW_DIGITS.len() as i64;
    if magnitude != overflow_magnitude {
        return magnitude > overflow_magnitude;
    }
    // Same magnitude: compare the digits, the shorter one padded with zeros.
    let mut own = mantissa
        .get(first..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b != b'.');
    for &limit in F64_OVERFLOW_DIGITS {
        let digit = own.next().copied().unwrap_or(b'0');
        if digit != limit {
            return digit > limit;
        }
    }
    true
}

#[cfg(test)]
mod number_tests {
    use super::{MAX_NUMBER_LEN, Reader, Writer};

    /// CPython's `repr` of each value (printed by CPython 3.11).
    const CASES: &[(f64, &str)] = &[
        (0.5, "0.5"),
        (-1.0, "-1.0"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (123456789012345.6, "123456789012345.6"),
        (1234567890123456.8, "1234567890123456.8"),
        (0.0001, "0.0001"),
        (1e-05, "1e-05"),
        (1.5e-07, "1.5e-07"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (-1.2345678901234567e-308, "-1.2345678901234567e-308"),
        (100.0, "100.0"),
        (2.5e20, "2.5e+20"),
        (0.1, "0.1"),
        (0.3333333333333333, "0.3333333333333333"),
        (12345678.9, "12345678.9"),
    ];

    #[test]
    fn numbers_are_written_as_cpython_repr_and_read_back() {
        for &(value, text) in CASES {
            let mut buf = [0u8; MAX_NUMBER_LEN];
            let mut w = Writer::new(&mut buf);
            w.number(value).unwrap();
            assert_eq!(core::str::from_utf8(w.written()).unwrap(), text);
            let back = Reader::new(text.as_bytes()).number().unwrap().unwrap();
            assert_eq!(back.to_bits(), value.to_bits(), "{text}");
        }
    }

    #[test]
    fn keys_are_borrowed_or_unescaped_as_next_key_reads_them() {
        use heapless::String;
        let input = b"{\"plain\":1,\"esc\\u0061ped\":2,\"much_too_long_a_key\":3,\"\":4,\"cl\xc3\xa9\":5,\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\":6}";
        let mut reader = Reader::new(input);
        reader.begin_object().unwrap();
        let mut key: String<8> = String::new();
        let mut keys: heapless::Vec<String<8>, 6> = heapless::Vec::new();
        while let Some(bytes) = reader.next_key_bytes(&mut key).unwrap() {
            // A key too long for the buffer (borrowed or escaped) is none a schema can have.
            let text = if bytes == super::TOO_LONG_KEY {
                "<long>"
            } else {
                core::str::from_utf8(bytes).unwrap()
            };
            keys.push(String::try_from(text).unwrap()).unwrap();
            reader.skip_value().unwrap();
        }
        assert_eq!(keys, ["plain", "escaped", "<long>", "", "clé", "<long>"]);
        // The same errors as next_key: bad UTF-8, a raw control character, a missing colon.
        for bad in [&b"{\"a\xff\":1}"[..], b"{\"a\n\":1}", b"{\"a\" 1}", b"{\"a"] {
            let mut text_reader = Reader::new(bad);
            let mut copy_reader = Reader::new(bad);
            text_reader.begin_object().unwrap();
            copy_reader.begin_object().unwrap();
            let mut a: String<8> = String::new();
            let mut b: String<8> = String::new();
            assert_eq!(
                text_reader.next_key_bytes(&mut a).map(|_| ()),
                copy_reader.next_key(&mut b).map(|_| ())
            );
        }
    }

    #[test]
    fn ryu_fixed_text_is_kept_as_the_full_reformatting_writes_it() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for i in 0..300_000u32 {
            let r = next();
            // Random bits, and values of every decimal exponent around the fixed range.
            let x = if i % 2 == 0 {
                f64::from_bits(r)
            } else {
                let exp = (r % 40) as i32 - 20;
                (r >> 8) as f64 / (1u64 << 56) as f64 * 10f64.powi(exp)
            };
            if !x.is_finite() {
                continue;
            }
            let mut fast = [0u8; MAX_NUMBER_LEN];
            let mut w = Writer::new(&mut fast);
            w.number(x).unwrap();
            let fast_len = w.len();
            let mut ryu_buf = ryu::Buffer::new();
            let mut full = [0u8; MAX_NUMBER_LEN];
            let full_len = super::reformat(ryu_buf.format_finite(x).as_bytes(), &mut full);
            assert_eq!(fast[..fast_len], full[..full_len], "{x:e}");
            // A buffer one byte short: nothing written.
            let mut short = [b'x'; MAX_NUMBER_LEN];
            let mut w = Writer::new(&mut short[..fast_len - 1]);
            assert!(w.number(x).is_err());
            assert!(w.is_empty());
        }
    }

    #[test]
    fn the_overflow_check_agrees_with_from_str() {
        let mut seed: u64 = 0x1234_5678_9abc_def1;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let boundary = super::F64_OVERFLOW_DIGITS;
        for _ in 0..20_000 {
            let r = next();
            let mut text: heapless::String<400> = heapless::String::new();
            if r & 1 == 1 {
                text.push('-').unwrap();
            }
            // The boundary's first digits, one of them perhaps changed, as 0.ddd, d.ddd or an
            // integer, with an exponent that brings it near 1.8e308.
            let len = 1 + (r >> 1) as usize % 40;
            let bump = (r >> 8) as usize % (len + 1);
            let form = (r >> 16) % 3;
            if form == 0 {
                text.push_str("0.").unwrap();
            }
            for (i, &d) in boundary.iter().take(len).enumerate() {
                let d = if i == bump {
                    b'0' + (d - b'0' + 1 + (r >> 24) as u8 % 9) % 10
                } else {
                    d
                };
                text.push(char::from(d)).unwrap();
                if form == 1 && i == 0 && len > 1 {
                    text.push('.').unwrap();
                }
            }
            let exp: i64 = match form {
                0 => 309,
                1 => 308,
                _ => 309 - len as i64,
            } + ((r >> 32) % 3) as i64
                - 1;
            core::fmt::write(&mut text, format_args!("e{exp}")).unwrap();
            let infinite = text.parse::<f64>().unwrap().is_infinite();
            assert_eq!(
                super::beyond_f64(text.as_bytes(), false),
                infinite,
                "{text}"
            );
        }
    }

    #[test]
    fn integers_are_written_in_decimal() {
        let mut cases: heapless::Vec<u64, 96> = heapless::Vec::new();
        let mut power: u64 = 1;
        for _ in 0..20 {
            for n in [power - 1, power, power + 1, power.saturating_mul(7)] {
                cases.push(n).unwrap();
            }
            power = power.saturating_mul(10);
        }
        cases.push(u64::MAX).unwrap();
        for n in cases {
            let mut buf = [0u8; 20];
            let mut w = Writer::new(&mut buf);
            w.unsigned(n).unwrap();
            let mut expected: heapless::String<20> = heapless::String::new();
            core::fmt::write(&mut expected, format_args!("{n}")).unwrap();
            assert_eq!(w.written(), expected.as_bytes());
            let mut short = [0u8; 20];
            let mut w = Writer::new(&mut short[..expected.len() - 1]);
            assert!(w.unsigned(n).is_err());
            assert!(w.is_empty());
        }
        let mut buf = [0u8; 20];
        let mut w = Writer::new(&mut buf);
        w.signed(i64::MIN).unwrap();
        assert_eq!(w.written(), b"-9223372036854775808");
        // A negative number that does not fit leaves nothing behind, not its sign.
        let mut small = [0u8; 3];
        let mut w = Writer::new(&mut small);
        w.raw("[").unwrap();
        assert!(w.signed(-123).is_err());
        assert_eq!(w.written(), b"[");
    }

    #[test]
    fn integers_and_numbers_refuse_what_they_cannot_hold() {
        assert_eq!(
            Reader::new(b"-9223372036854775808").signed(),
            Ok(Some(i64::MIN))
        );
        assert_eq!(Reader::new(b"9223372036854775808").signed(), Ok(None));
        assert!(Reader::new(b"1.0").signed().is_err());
        assert!(Reader::new(b"1e3").signed().is_err());
        // As serde_json: a number no f64 holds is not JSON at all.
        assert!(matches!(
            Reader::new(b"1e999").number(),
            Err(super::JsonError::Syntax { .. })
        ));
        assert!(Reader::new(b"\"1\"").number().is_err());
        assert_eq!(Reader::new(b"null").null(), Ok(true));
    }
}
