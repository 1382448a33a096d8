//! Standard base64 (RFC 4648, `=` padded, no line breaks) as the wire uses it: encoding into a
//! caller slice, and strict decoding that refuses other alphabets, missing or misplaced padding
//! and non-zero padding bits. A few hundred bytes of flash, where a general engine takes 2 KiB.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why base64 text did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base64Error {
    /// Not standard padded base64.
    Invalid,
    /// The output slice is too small for the decoded bytes.
    OutputTooSmall,
}

/// The length of the base64 text of `len` bytes.
pub const fn encoded_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// Writes the base64 text of `data` to the start of `out` and returns its length; `None`
/// (nothing meaningful written) when `out` is shorter than [`encoded_len`].
pub fn encode(data: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = encoded_len(data.len());
    let out = out.get_mut(..len)?;
    for (group, text) in data.chunks(3).zip(out.chunks_mut(4)) {
        let mut bits = 0u32;
        for (i, &byte) in group.iter().enumerate() {
            bits |= u32::from(byte) << (16 - 8 * i);
        }
        for (i, slot) in text.iter_mut().enumerate() {
            *slot = if i <= group.len() {
                let index = (bits >> (18 - 6 * i)) & 63;
                ALPHABET.get(index as usize).copied().unwrap_or(b'=')
            } else {
                b'='
            };
        }
    }
    Some(len)
}

/// The six bits a base64 character stands for.
fn sextet(c: u8) -> Option<u32> {
    let value = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// Decodes the base64 `text` into the start of `out` and returns how many bytes it wrote.
pub fn decode(text: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
    if !text.len().is_multiple_of(4) {
        return Err(Base64Error::Invalid);
    }
    let groups = text.len() / 4;
    let mut len = 0;
    for (index, group) in text.chunks_exact(4).enumerate() {
        let padding = if index + 1 == groups {
            group.iter().rev().take_while(|&&c| c == b'=').count()
        } else {
            0
        };
        let data = group.get(..4 - padding).ok_or(Base64Error::Invalid)?;
        let mut bits = 0u32;
        for &c in data {
            bits = bits << 6 | sextet(c).ok_or(Base64Error::Invalid)?;
        }
        bits <<= 6 * padding;
        let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        // One or two '=' leave one or two bytes; their bits beyond the data must be zero.
        let (kept, dropped) = bytes.split_at(3usize.saturating_sub(padding));
        if padding > 2 || dropped.iter().any(|&b| b != 0) {
            return Err(Base64Error::Invalid);
        }
        out.get_mut(len..len + kept.len())
            .ok_or(Base64Error::OutputTooSmall)?
            .copy_from_slice(kept);
        len += kept.len();
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Result<heapless::Vec<u8, 64>, Base64Error> {
        let mut out = [0u8; 64];
        let len = decode(text.as_bytes(), &mut out)?;
        Ok(heapless::Vec::from_slice(&out[..len]).unwrap())
    }

    #[test]
    fn encodes_the_rfc_4648_vectors() {
        for (data, text) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = [0u8; 16];
            let len = encode(data.as_bytes(), &mut out).unwrap();
            assert_eq!(&out[..len], text.as_bytes());
            assert_eq!(decoded(text).unwrap().as_slice(), data.as_bytes());
        }
    }

    #[test]
    fn every_byte_value_round_trips() {
        let data: [u8; 256] = core::array::from_fn(|i| i as u8);
        let mut text = [0u8; 344];
        let len = encode(&data, &mut text).unwrap();
        let mut back = [0u8; 256];
        assert_eq!(decode(&text[..len], &mut back), Ok(256));
        assert_eq!(back, data);
    }

    #[test]
    fn refuses_what_is_not_standard_padded_base64() {
        for text in [
            "Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zh==", "Zm9=", "Zm-v", "Zm_v",
            "Zm9v\n", " Zm9v", "Zm=v",
        ] {
            assert_eq!(decoded(text), Err(Base64Error::Invalid), "{text:?}");
        }
    }

    #[test]
    fn says_when_the_output_is_too_small() {
        let mut out = [0u8; 2];
        assert_eq!(decode(b"Zm9v", &mut out), Err(Base64Error::OutputTooSmall));
        assert_eq!(encode(b"foo", &mut out), None);
    }
}
