//! Checks of the values that go onto the NATS wire as protocol text (subjects, reply
//! subjects, header names and values): a value that could end a protocol line or split it
//! into more fields is refused before anything is sent, with the value named.

use crate::{Error, ErrorKind};

/// Refuses a subject (or reply subject, or queue group) that is empty or holds a byte the
/// NATS protocol treats as a separator or line end: any byte <= 0x20 (space, tab, CR, LF,
/// the other control characters) or 0x7f (DEL). `what` names the field (`send_to`,
/// `reply_to`, `subject`).
pub(crate) fn check_subject(what: &str, subject: &str) -> Result<(), Error> {
    if subject.is_empty() {
        return Err(Error::field(
            ErrorKind::InvalidInput,
            what,
            format!("{what} is empty; a NATS subject is needed"),
        ));
    }
    match subject
        .bytes()
        .enumerate()
        .find(|(_, b)| *b <= 0x20 || *b == 0x7f)
    {
        Some((at, byte)) => Err(Error::field(
            ErrorKind::InvalidInput,
            what,
            format!(
                "{what} {subject:?} is not a NATS subject: byte 0x{byte:02x} at offset {at} \
                 (spaces, control characters and DEL are refused)"
            ),
        )),
        None => Ok(()),
    }
}

/// Refuses a header name or value holding CR or LF (which would end the header line), and
/// a name holding anything but visible ASCII other than `:`.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), Error> {
    if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic() || b == b':') {
        return Err(Error::field(
            ErrorKind::InvalidInput,
            "headers",
            format!("header name {name:?} is refused (visible ASCII without ':' only)"),
        ));
    }
    if value.contains(['\r', '\n']) {
        return Err(Error::field(
            ErrorKind::InvalidInput,
            "headers",
            format!("the value {value:?} of header {name} holds CR or LF, which is refused"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_with_separators_or_controls_are_refused_naming_the_value() {
        for bad in [
            "",
            "a b",
            "a\tb",
            "a\r\nPUB x 1",
            "a\0",
            "a\x7f",
            "a\x1b[2J",
        ] {
            let error = check_subject("reply_to", bad).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{bad:?}");
            assert_eq!(error.at(), "reply_to");
            if !bad.is_empty() {
                assert!(error.message().contains(&format!("{bad:?}")), "{error}");
            }
        }
        for good in ["a", "chat.room1", "_INBOX.x.y", "chat.>", "ünïcødé"] {
            assert!(check_subject("send_to", good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn headers_with_line_breaks_are_refused() {
        assert!(check_header("Nats-Msg-Id", "abc").is_ok());
        assert!(check_header("Nats-Msg-Id", "a\r\nX: y").is_err());
        assert!(check_header("Bad Name", "v").is_err());
        assert!(check_header("a:b", "v").is_err());
    }
}
