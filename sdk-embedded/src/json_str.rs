//! Borrowed JSON values for the zero-copy envelope views: [`JsonStr`], a string still escaped as
//! received, and [`JsonObjectView`], a free-form object kept as its raw text, both in the body.

use core::fmt;

use crate::json::{BufferFull, Reader};

/// A JSON string borrowed from a message body: the raw content between its quotes, escapes
/// not yet applied. The reader validated it (escapes, surrogate pairs, UTF-8, no raw control
/// characters), so unescaping cannot fail; it is done on the fly, without a copy. `==`
/// compares the raw text (`"\/"` differs from `"/"`); [`eq_str`](Self::eq_str) compares the
/// unescaped strings.
///
/// ```
/// use natsbridge_embedded::json::Reader;
///
/// let mut reader = Reader::new(br#""caf\u00e9 \/ 1""#);
/// let text = reader.raw_string().unwrap();
/// assert_eq!(text.raw(), r"caf\u00e9 \/ 1");
/// assert_eq!(text.as_str(), None); // it holds escapes
/// assert!(text.eq_str("café / 1"));
/// let mut buf = [0u8; 16];
/// assert_eq!(text.decode_into(&mut buf).unwrap(), "café / 1");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct JsonStr<'a> {
    raw: &'a str,
}

impl<'a> JsonStr<'a> {
    /// Wraps `raw`, which must be the valid escaped content of a JSON string (the reader checked
    /// it, or the generator wrote it).
    pub(crate) const fn from_raw(raw: &'a str) -> Self {
        JsonStr { raw }
    }

    /// The content exactly as received, escapes included, without the quotes.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The string itself when it holds no escape (the usual case), borrowed from the body.
    pub fn as_str(&self) -> Option<&'a str> {
        (!self.raw.contains('\\')).then_some(self.raw)
    }

    /// An upper bound of the unescaped length in UTF-8 bytes (escapes never grow when
    /// applied): the buffer size that [`decode_into`](Self::decode_into) always fits.
    pub fn len_hint(&self) -> usize {
        self.raw.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The unescaped characters.
    pub fn chars(&self) -> Chars<'a> {
        Chars::new(self.raw)
    }

    /// Whether the unescaped string equals `text`.
    pub fn eq_str(&self, text: &str) -> bool {
        match self.as_str() {
            Some(plain) => plain == text,
            None => self.chars().eq(text.chars()),
        }
    }

    /// Unescapes the string into `buf` and returns it; [`BufferFull`] (nothing usable
    /// written) when `buf` is shorter than the unescaped string.
    pub fn decode_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, BufferFull> {
        let full = BufferFull {
            capacity: buf.len(),
        };
        let mut len = 0;
        for c in self.chars() {
            let end = len + c.len_utf8();
            let slot = buf.get_mut(len..end).ok_or(full)?;
            c.encode_utf8(slot);
            len = end;
        }
        let written = buf.get(..len).unwrap_or_default();
        // Whole characters were written; never fails.
        core::str::from_utf8(written).map_err(|_| full)
    }
}

impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.raw)
    }
}

impl fmt::Display for JsonStr<'_> {
    /// The unescaped string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(plain) => f.write_str(plain),
            None => self.chars().try_for_each(|c| fmt::Write::write_char(f, c)),
        }
    }
}

/// The unescaped characters of a [`JsonStr`] (escaped content the reader has validated).
#[derive(Clone)]
pub struct Chars<'a> {
    rest: core::str::Chars<'a>,
}

impl<'a> Chars<'a> {
    pub(crate) fn new(escaped: &'a str) -> Self {
        Chars {
            rest: escaped.chars(),
        }
    }

    fn hex4(&mut self) -> u32 {
        (0..4).fold(0, |n, _| {
            n * 16 + self.rest.next().and_then(|c| c.to_digit(16)).unwrap_or(0)
        })
    }
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = self.rest.next()?;
        if c != '\\' {
            return Some(c);
        }
        Some(match self.rest.next()? {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let unit = self.hex4();
                let code = if (0xd800..0xdc00).contains(&unit) {
                    // A high surrogate: the reader checked that `\uDC00`..`\uDFFF` follows.
                    self.rest.nth(1); // the `\u`
                    let low = self.hex4();
                    0x10000 + ((unit - 0xd800) << 10) + (low.wrapping_sub(0xdc00) & 0x3ff)
                } else {
                    unit
                };
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            other => other, // `"`, `\` and `/` stand for themselves
        })
    }
}

/// A free-form JSON object (such as `metadata`) borrowed from a message body: its text as
/// received (whitespace and key order included), validated by the reader, not copied.
///
/// ```
/// use natsbridge_embedded::json::Reader;
///
/// let mut reader = Reader::new(br#"{ "checksum": "sha256:00", "n": [1] }"#);
/// let meta = reader.raw_object().unwrap();
/// assert!(meta.get_str("checksum").unwrap().eq_str("sha256:00"));
/// assert!(meta.get_str("n").is_none()); // not a string
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JsonObjectView<'a> {
    raw: &'a str,
}

impl Default for JsonObjectView<'_> {
    /// The empty object `{}`.
    fn default() -> Self {
        JsonObjectView { raw: "{}" }
    }
}

impl<'a> JsonObjectView<'a> {
    /// Wraps `raw`, which must be one well-formed JSON object (the reader checked it).
    pub(crate) const fn from_raw(raw: &'a str) -> Self {
        JsonObjectView { raw }
    }

    /// The object's JSON text exactly as received.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The string value of the top-level key `key` (compared unescaped); `None` when the key is
    /// absent or its value is not a string. A repeated key gives its last value, as JSON
    /// decoders (and the canonical form) do.
    pub fn get_str(&self, key: &str) -> Option<JsonStr<'a>> {
        let mut reader = Reader::new(self.raw.as_bytes());
        reader.begin_object().ok()?;
        let mut found = None;
        while let Some(name) = reader.next_raw_key().ok()? {
            if name.eq_str(key) {
                found = reader.raw_string().ok();
                if found.is_some() {
                    continue;
                }
            }
            reader.skip_value().ok()?;
        }
        found
    }
}
