//! The string formats receivers check (schema/WIRE.md section 9): `uuid` and `date-time`,
//! over characters so that owned strings and borrowed views (unescaped on the fly) share them.

/// `uuid`: 36 characters, 8-4-4-4-12 hex digits (either case) separated by hyphens.
pub fn is_uuid(chars: impl Iterator<Item = char>) -> bool {
    let mut n = 0;
    for c in chars {
        let ok = if matches!(n, 8 | 13 | 18 | 23) {
            c == '-'
        } else {
            c.is_ascii_hexdigit()
        };
        if !ok {
            return false;
        }
        n += 1;
    }
    n == 36
}

/// `date-time`: RFC 3339, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, `T`/`t`, `Z`/`z`,
/// with month 01-12, day 01-31, hour 00-23, minute 00-59, second 00-60.
pub fn is_date_time(chars: impl Iterator<Item = char>) -> bool {
    let mut chars = chars.peekable();
    let number = |chars: &mut core::iter::Peekable<_>, width: usize, max: u32| {
        let mut n = 0u32;
        for _ in 0..width {
            match chars.next().and_then(|c: char| c.to_digit(10)) {
                Some(d) => n = n * 10 + d,
                None => return None,
            }
        }
        (n <= max).then_some(n)
    };
    let expect = |chars: &mut core::iter::Peekable<_>, allowed: &[char]| {
        chars.next().is_some_and(|c: char| allowed.contains(&c))
    };
    let date = number(&mut chars, 4, 9999).is_some()
        && expect(&mut chars, &['-'])
        && number(&mut chars, 2, 12).is_some_and(|m| m >= 1)
        && expect(&mut chars, &['-'])
        && number(&mut chars, 2, 31).is_some_and(|d| d >= 1)
        && expect(&mut chars, &['T', 't'])
        && number(&mut chars, 2, 23).is_some()
        && expect(&mut chars, &[':'])
        && number(&mut chars, 2, 59).is_some()
        && expect(&mut chars, &[':'])
        && number(&mut chars, 2, 60).is_some();
    if !date {
        return false;
    }
    if chars.peek() == Some(&'.') {
        chars.next();
        let mut digits = 0;
        while chars.peek().is_some_and(char::is_ascii_digit) {
            chars.next();
            digits += 1;
        }
        if digits == 0 {
            return false;
        }
    }
    match chars.next() {
        Some('Z' | 'z') => {}
        Some('+' | '-') => {
            let offset = number(&mut chars, 2, 23).is_some()
                && expect(&mut chars, &[':'])
                && number(&mut chars, 2, 59).is_some();
            if !offset {
                return false;
            }
        }
        _ => return false,
    }
    chars.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("123e4567-E89B-12d3-a456-426614174000".chars()));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400".chars()));
        assert!(!is_uuid("123e4567ae89b-12d3-a456-426614174000".chars()));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-4266141740000".chars()));
    }

    #[test]
    fn date_times() {
        assert!(is_date_time("2026-11-25T11:52:26.123Z".chars()));
        assert!(is_date_time("2026-11-25t11:52:26+01:00".chars()));
        assert!(!is_date_time("2026-13-25T11:52:26Z".chars()));
        assert!(!is_date_time("2026-11-25 11:52:26Z".chars()));
        assert!(!is_date_time("2026-11-25T11:52:26".chars()));
        assert!(!is_date_time("2026-11-25T11:52:26.Z".chars()));
        assert!(!is_date_time("2026-11-25T11:52:26Zx".chars()));
    }
}
