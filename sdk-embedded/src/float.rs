//! JSON number text to the nearest `f64`, correctly rounded (ties to even), in integer
//! arithmetic and without tables: the JSON reader's float parser, about 14 KB smaller in
//! flash than `core`'s `f64::from_str` with its 10 KB table of powers of five.
//!
//! Two paths. Most numbers a device receives (`21.5`, `-3.25`) are decimals of at most 15
//! significant digits: [`exact`] computes them with one floating-point division. Any other
//! number is scaled by powers of two as a string of decimal digits ([`Decimal`]) until its
//! 53 significant bits are whole digits, which are then rounded. That is slower (one pass over
//! the digits per shift of up to 60 bits) but exact for every input, as long as the digits kept
//! (768, with a flag for the non-zero ones dropped) decide every rounding, which they do: the
//! exact decimal expansion of a midpoint between two `f64` has at most 767 significant digits.

/// The most significant digits kept; non-zero digits beyond set [`Decimal::truncated`].
const MAX_DIGITS: usize = 768;
/// A left shift by at most [`MAX_SHIFT`] bits adds at most this many digits in front.
const HEADROOM: usize = 19;
/// The widest shift of one pass: a digit shifted by it, plus the carry, stays within a `u64`.
const MAX_SHIFT: u32 = 60;

/// The value of the JSON number `text` (already checked against the grammar: `-`, digits,
/// fraction, exponent) as the nearest `f64`; `None` when it rounds to an infinity.
pub(crate) fn parse(text: &[u8]) -> Option<f64> {
    let (negative, body) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let magnitude = exact(body).unwrap_or_else(|| slow(body));
    let value = if negative { -magnitude } else { magnitude };
    value.is_finite().then_some(value)
}

/// The value of the unsigned number `body` when one floating-point operation computes it
/// exactly rounded: its digits an integer below 2^53 (exact as an `f64`), divided by a power of
/// ten of at most 22 (exact too), so that the one rounding of the division is the correct one
/// (Clinger's fast path). `None` for any other number (an exponent, more digits).
fn exact(body: &[u8]) -> Option<f64> {
    let mut mantissa: u64 = 0;
    let mut scale: i32 = 0;
    let mut point = false;
    for &b in body {
        if b == b'.' {
            point = true;
            continue;
        }
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            // An exponent: left to the slow path.
            return None;
        }
        mantissa = mantissa * 10 + u64::from(digit);
        if mantissa >= 1 << 53 {
            return None;
        }
        scale -= i32::from(point);
    }
    if scale < -22 {
        return None;
    }
    let mut power = 1.0f64;
    for _ in 0..-scale {
        power *= 10.0;
    }
    Some(mantissa as f64 / power)
}

/// The value of an exponent's text (`+12`, `-3`, `400`), saturating far beyond any float.
pub(crate) fn exponent_value(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let value = digits.iter().fold(0i64, |n, &d| {
        n.saturating_mul(10)
            .saturating_add(i64::from(d.wrapping_sub(b'0')))
    });
    if negative { -value } else { value }
}

/// A non-negative number as decimal digits: `0.d[0]d[1]…d[len-1] × 10^point`, `d[0]` not zero
/// (or `len` zero for the value zero), no trailing zeros.
struct Decimal {
    digits: [u8; MAX_DIGITS + HEADROOM],
    len: usize,
    point: i32,
    /// Non-zero digits were dropped after the `len` kept: the value is a little above them.
    truncated: bool,
}

/// The slow path: the unsigned number `body` correctly rounded, infinity when too large.
/// Out of line, so that its 800-byte frame is only taken by the numbers that need it.
#[inline(never)]
fn slow(body: &[u8]) -> f64 {
    let mut d = Decimal::from_text(body);
    if d.len == 0 || d.point < -326 {
        // Zero, or below 10^-326: under half the smallest subnormal (4.9e-324).
        return 0.0;
    }
    if d.point > 310 {
        // At least 10^309.
        return f64::INFINITY;
    }
    // Scale into [0.5, 1): the value is then d × 2^e2. A coarse shift keeps the value on the
    // same side of 1 (10^p is at least 8^p), then single bits finish.
    let mut e2: i32 = 0;
    while d.point > 0 {
        let shift = if d.point > 1 {
            (3 * (d.point - 1) as u32).min(MAX_SHIFT)
        } else {
            1
        };
        d.shift_right(shift);
        e2 += shift as i32;
    }
    while d.point < 0 || (d.point == 0 && d.digit(0) < 5) {
        let shift = if d.point < 0 {
            (3 * d.point.unsigned_abs()).min(MAX_SHIFT)
        } else {
            1
        };
        d.shift_left(shift);
        e2 -= shift as i32;
    }
    // 2d is in [1, 2): the binary exponent is e2 - 1. Below the normal range the value is
    // shifted further, to the subnormals' fixed exponent.
    let mut exponent = e2 - 1;
    if exponent > 1023 {
        return f64::INFINITY;
    }
    while exponent < -1022 {
        let shift = ((-1022 - exponent) as u32).min(MAX_SHIFT);
        d.shift_right(shift);
        exponent += shift as i32;
    }
    // The 53 significant bits as the whole part of d × 2^53, rounded by what follows it.
    d.shift_left(53);
    let mut mantissa = d.whole();
    if d.rounds_up(mantissa & 1 == 1) {
        mantissa += 1;
    }
    if mantissa == 1 << 53 {
        mantissa >>= 1;
        exponent += 1;
        if exponent > 1023 {
            return f64::INFINITY;
        }
    }
    // A normal mantissa carries the hidden bit 2^52, which adds one to the biased exponent
    // (exponent + 1022); a subnormal one (below 2^52, exponent -1022) adds nothing.
    f64::from_bits(mantissa + (((exponent + 1022) as u64) << 52))
}

impl Decimal {
    /// The digits of `body` (digits, an optional fraction and exponent; no sign).
    fn from_text(body: &[u8]) -> Decimal {
        let mut d = Decimal {
            digits: [0; MAX_DIGITS + HEADROOM],
            len: 0,
            point: 0,
            truncated: false,
        };
        let mut point: i64 = 0;
        let mut fraction = false;
        let mut exponent = 0;
        for (i, &b) in body.iter().enumerate() {
            match b {
                b'.' => fraction = true,
                b'0' if d.len == 0 => point -= i64::from(fraction),
                b'0'..=b'9' => {
                    if let Some(slot) = d.digits.get_mut(d.len).filter(|_| d.len < MAX_DIGITS) {
                        *slot = b - b'0';
                        d.len += 1;
                    } else if b != b'0' {
                        d.truncated = true;
                    }
                    point += i64::from(!fraction);
                }
                _ => {
                    exponent = exponent_value(body.get(i + 1..).unwrap_or_default());
                    break;
                }
            }
        }
        d.point = point.saturating_add(exponent).clamp(-100_000, 100_000) as i32;
        d.trim();
        d
    }

    /// Digit `i`, zero past the end.
    fn digit(&self, i: usize) -> u8 {
        if i < self.len {
            self.digits.get(i).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// Drops trailing zeros.
    fn trim(&mut self) {
        while self.len > 0 && self.digit(self.len - 1) == 0 {
            self.len -= 1;
        }
    }

    /// Divides by 2^shift (`shift` at most [`MAX_SHIFT`]; the value not zero), from the most
    /// significant digit: each output digit is what the running remainder holds of 2^shift.
    fn shift_right(&mut self, shift: u32) {
        let mask = (1u64 << shift) - 1;
        let mut read = 0;
        let mut n: u64 = 0;
        // Enough leading digits for a first non-zero output digit.
        while n >> shift == 0 {
            n = n * 10 + u64::from(self.digit(read));
            read += 1;
        }
        self.point -= read as i32 - 1;
        let mut write = 0;
        loop {
            let out = (n >> shift) as u8;
            n &= mask;
            // `write` trails `read`, so the digits are rewritten in place.
            match self.digits.get_mut(write).filter(|_| write < MAX_DIGITS) {
                Some(slot) => {
                    *slot = out;
                    write += 1;
                }
                None => self.truncated |= out != 0,
            }
            if read >= self.len && n == 0 {
                break;
            }
            n = n * 10 + u64::from(self.digit(read));
            read += 1;
        }
        self.len = write;
        self.trim();
    }

    /// Multiplies by 2^shift (`shift` at most [`MAX_SHIFT`]), from the least significant digit:
    /// each digit lands [`HEADROOM`] places right of where it ends, and the carry's digits in
    /// front; then the whole is moved to the start.
    fn shift_left(&mut self, shift: u32) {
        let end = self.len + HEADROOM;
        let mut write = end;
        let mut n: u64 = 0;
        for read in (0..self.len).rev() {
            n += u64::from(self.digit(read)) << shift;
            write -= 1;
            if let Some(slot) = self.digits.get_mut(write) {
                *slot = (n % 10) as u8;
            }
            n /= 10;
        }
        while n > 0 {
            write -= 1;
            if let Some(slot) = self.digits.get_mut(write) {
                *slot = (n % 10) as u8;
            }
            n /= 10;
        }
        self.digits.copy_within(write..end, 0);
        self.point += (HEADROOM - write) as i32;
        self.len = end - write;
        if self.len > MAX_DIGITS {
            let dropped = self.digits.get(MAX_DIGITS..self.len).unwrap_or_default();
            self.truncated |= dropped.iter().any(|&b| b != 0);
            self.len = MAX_DIGITS;
        }
        self.trim();
    }

    /// The whole part (the caller keeps it below 2^53: at most 16 digits).
    fn whole(&self) -> u64 {
        (0..self.point.max(0) as usize).fold(0, |n, i| n * 10 + u64::from(self.digit(i)))
    }

    /// Whether the fraction after the whole part rounds it up: above one half, or exactly one
    /// half and the whole part `odd` (ties to even).
    fn rounds_up(&self, odd: bool) -> bool {
        if self.point < 0 {
            // Below 0.1.
            return false;
        }
        let first = self.point as usize;
        match self.digit(first) {
            5 => first + 1 < self.len || self.truncated || odd,
            digit => digit > 5,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::borrow::ToOwned;
    use std::string::String;
    use std::vec::Vec;
    use std::{format, vec};

    use super::parse;

    /// Parses `text` with `core`'s parser, the oracle.
    fn core_parse(text: &str) -> Option<f64> {
        let value: f64 = text.parse().expect("a number core reads");
        value.is_finite().then_some(value)
    }

    fn agrees(text: &str) {
        let ours = parse(text.as_bytes()).map(f64::to_bits);
        assert_eq!(ours, core_parse(text).map(f64::to_bits), "{text}");
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn hard_cases_round_as_core_does() {
        for text in [
            "0",
            "0.0",
            "-0.0",
            "0e400",
            "1",
            "21.5",
            "0.1",
            "0.30000000000000004",
            "1e23",
            "8.98846567431158e307",
            "9007199254740993",
            "9007199254740992.5",
            "9007199254740993.0000000000000000000000000001",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
            "2.2250738585072014e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "5e-324",
            "1e-400",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1e309",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
            "123456789012345678901234567890e-30",
            "0.000000000000000000000000000000000000000000001e45",
            "1.00000000000000011102230246251565404236316680908203125",
            "1.00000000000000011102230246251565404236316680908203124",
            "1.00000000000000011102230246251565404236316680908203126",
        ] {
            agrees(text);
        }
    }

    #[test]
    fn the_exact_path_takes_short_decimals_only() {
        for text in [
            "0.1",
            "0.3",
            "0.0",
            "123456789012345",
            "0.000000000000000000001",
        ] {
            let exact = super::exact(text.as_bytes()).map(f64::to_bits);
            assert_eq!(exact, core_parse(text).map(f64::to_bits), "{text}");
        }
        assert_eq!(super::exact(b"900719925474099.1"), Some(900719925474099.1));
        // 2^53, an exponent, 23 fraction digits: the slow path's.
        assert_eq!(super::exact(b"9007199254740992"), None);
        assert_eq!(super::exact(b"1e5"), None);
        assert_eq!(super::exact(b"0.00000000000000000000001"), None);
    }

    #[test]
    fn midpoints_between_neighbours_round_to_even() {
        // The exact decimal midpoint of x and the next float up, and a hair either side of
        // it: the cases where one dropped digit would change the result.
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..3_000 {
            let bits = rng.next() % 0x7fef_ffff_ffff_ffff;
            let low = f64::from_bits(bits);
            let high = f64::from_bits(bits + 1);
            let midpoint = decimal_midpoint(low, high);
            agrees(&midpoint);
            let point = if midpoint.contains('.') { "" } else { ".0" };
            agrees(&format!("{midpoint}{point}00000001"));
            agrees(&below(&midpoint));
        }
    }

    #[test]
    fn random_numbers_of_every_shape_round_as_core_does() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..100_000 {
            let r = rng.next();
            let mut text = String::new();
            let whole = (r >> 1) % 25;
            let fraction = (r >> 8) % 30;
            if whole == 0 {
                text.push('0');
            }
            for i in 0..whole {
                let d = (rng.next() % 10) as u8;
                let d = if i == 0 { d % 9 + 1 } else { d };
                text.push(char::from(b'0' + d));
            }
            if fraction > 0 {
                text.push('.');
                let zeros = (r >> 16) % 8;
                for i in 0..fraction {
                    let d = if i < zeros {
                        0
                    } else {
                        (rng.next() % 10) as u8
                    };
                    text.push(char::from(b'0' + d));
                }
            }
            if r >> 24 & 1 == 1 {
                let exponent = (r >> 32) as i64 % 700 - 350;
                text.push_str(&format!("e{exponent}"));
            }
            agrees(&text);
        }
    }

    /// The exact decimal text of (low + high) / 2, from the exact fixed-point expansions of
    /// both (every `f64` has at most 1074 fraction digits).
    fn decimal_midpoint(low: f64, high: f64) -> String {
        let digits = |x: f64| -> Vec<u8> {
            let text = format!("{x:01500.1080}");
            text.bytes()
                .filter(|b| *b != b'.')
                .map(|b| b - b'0')
                .collect()
        };
        let (a, b) = (digits(low), digits(high));
        assert_eq!(a.len(), b.len());
        // Sum, then halve, as digit strings with 1080 fraction digits (+ one for the half).
        let mut sum = vec![0u8; a.len() + 1];
        let mut carry = 0;
        for i in (0..a.len()).rev() {
            let s = a[i] + b[i] + carry;
            sum[i + 1] = s % 10;
            carry = s / 10;
        }
        sum[0] = carry;
        let mut half = Vec::with_capacity(sum.len() + 1);
        let mut rest = 0u8;
        for &d in &sum {
            let v = rest * 10 + d;
            half.push(v / 2);
            rest = v % 2;
        }
        half.push(rest * 5);
        let whole_len = sum.len() - 1080;
        let mut text: String = half[..whole_len]
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect();
        text.push('.');
        text.extend(half[whole_len..].iter().map(|d| char::from(b'0' + d)));
        let text = text.trim_end_matches('0').trim_end_matches('.');
        let text = text.trim_start_matches('0');
        if text.starts_with('.') {
            format!("0{text}")
        } else {
            text.to_owned()
        }
    }

    /// `text` (a decimal, not zero) less one unit of a digit far after its last.
    fn below(text: &str) -> String {
        // d.ddd5 - 10^-k = d.ddd4999…9: the last digit less one, then nines.
        let point = if text.contains('.') { "" } else { "." };
        let mut digits: Vec<u8> = text.bytes().collect();
        let mut i = digits.len() - 1;
        while digits[i] == b'0' || digits[i] == b'.' {
            digits[i] = if digits[i] == b'.' { b'.' } else { b'9' };
            i -= 1;
        }
        digits[i] -= 1;
        let mut text = String::from_utf8(digits).unwrap();
        text.push_str(point);
        text.push_str("999999999");
        text
    }
}
