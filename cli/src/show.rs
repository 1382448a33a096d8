//! How the CLI prints envelopes and payloads for people, and where `listen` saves payloads:
//! always inside its folder, whatever the dataname says.

use std::path::{Path, PathBuf};

use natsbridge::{Data, MessageEnvelope, MessagePayload, ReceivedPayload};

/// Texts and JSON values up to this many bytes are printed in full.
const PREVIEW_BYTES: usize = 2000;

/// `text` safe to print on a terminal: control characters (C0, DEL, C1, which carry
/// escape sequences that can clear the screen, move the cursor or set the clipboard) and
/// bidirectional overrides are written escaped (`\u{1b}`); everything else is kept.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// A string field of `envelope` by its schema name, `""` when a schema variant has none (so
/// that renaming the field in the schema needs no edit here).
fn string_field(envelope: &MessageEnvelope, name: &str) -> String {
    serde_json::to_value(envelope)
        .ok()
        .and_then(|value| value.get(name)?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The header lines of an envelope, every field [cleaned](clean).
pub fn envelope(envelope: &MessageEnvelope) -> String {
    let mut out = format!(
        "message {} on {}\n  from      {} ({})\n  sent      {}\n  purpose   {}   correlation {}\n",
        clean(&envelope.msg_id),
        clean(&envelope.send_to),
        clean(&envelope.sender_name),
        clean(&envelope.sender_id),
        clean(&envelope.timestamp),
        clean(&string_field(envelope, "msg_purpose")),
        clean(&envelope.correlation_id),
    );
    if !envelope.receiver_name.is_empty() || !envelope.receiver_id.is_empty() {
        out += &format!(
            "  to        {} ({})\n",
            clean(&envelope.receiver_name),
            clean(&envelope.receiver_id)
        );
    }
    if !envelope.reply_to.is_empty() {
        out += &format!("  reply to  {}\n", clean(&envelope.reply_to));
    }
    if !envelope.reply_to_msg_id.is_empty() {
        out += &format!("  answers   {}\n", clean(&envelope.reply_to_msg_id));
    }
    if !envelope.metadata.is_empty() {
        let metadata = serde_json::Value::Object(envelope.metadata.clone()).to_string();
        out += &format!("  metadata  {}\n", clean(&metadata));
    }
    out
}

/// One line for a payload header: number, name, type, transport, size.
pub fn payload_line(index: usize, payload: &MessagePayload) -> String {
    clean(&format!(
        "  payload {} {:?}  {}  {}  {} bytes",
        index + 1,
        payload.dataname,
        payload.payload_type,
        payload.transport,
        payload.size
    ))
}

/// A short rendering of decoded data: texts and JSON in full when small.
pub fn preview(data: &Data) -> Option<String> {
    match data {
        Data::Text(text) if text.len() <= PREVIEW_BYTES => Some(clean(&format!("{text:?}"))),
        Data::Json(value) => {
            let json = value.to_string();
            (json.len() <= PREVIEW_BYTES).then(|| clean(&json))
        }
        _ => None,
    }
}

/// A received payload as printed by `request`.
pub fn received_payload(index: usize, payload: &ReceivedPayload) -> String {
    let size = match &payload.data {
        Data::Text(text) => text.len(),
        Data::Json(value) => value.to_string().len(),
        Data::Bytes(bytes) => bytes.len(),
    };
    let mut line = clean(&format!(
        "  payload {} {:?}  {}  {}  {} bytes",
        index + 1,
        payload.dataname,
        payload.payload_type,
        payload.transport,
        size
    ));
    if let Some(preview) = preview(&payload.data) {
        line += &format!("\n    {preview}");
    }
    line
}

/// A file name for `dataname` that stays inside a folder (see
/// [`link_file_name`](natsbridge::link::link_file_name)), at most 200 bytes long.
pub fn safe_file_name(dataname: &str) -> String {
    let mut name = natsbridge::link::link_file_name(dataname);
    // Keep names within what file systems allow (255 bytes), on a character boundary.
    while name.len() > 200 {
        name.pop();
    }
    name
}

/// A path in `dir` for `dataname` that does not exist yet (`name-2.ext`, `name-3.ext`, ...).
pub fn unused_path(dir: &Path, dataname: &str) -> PathBuf {
    let name = safe_file_name(dataname);
    let candidate = dir.join(&name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem.to_owned(), format!(".{extension}")),
        _ => (name.clone(), String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}{extension}")))
        .find(|path| !path.exists())
        .expect("some numbered name is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_never_leave_the_folder() {
        for (dataname, want) in [
            ("photo.png", "photo.png"),
            ("../../etc/passwd", "___.._etc_passwd"),
            ("/abs/path", "_abs_path"),
            ("..", "__"),
            (".hidden", "_hidden"),
            ("a\\b", "a_b"),
            ("nul\0byte\n", "nul_byte_"),
            ("", "payload"),
        ] {
            let name = safe_file_name(dataname);
            assert_eq!(name, want, "{dataname:?}");
            let path = Path::new("/tmp/out").join(&name);
            assert_eq!(path.parent(), Some(Path::new("/tmp/out")), "{dataname:?}");
        }
        assert!(safe_file_name(&"é".repeat(300)).len() <= 200);
    }

    #[test]
    fn control_characters_are_printed_escaped() {
        let hostile = "evil\u{1b}[2J\u{1b}]52;c;aGk=\u{7}\u{9b}31m\u{7f}\u{202e}ok é";
        let printed = clean(hostile);
        assert!(printed.chars().all(|c| !c.is_control()), "{printed:?}");
        assert!(printed.starts_with("evil\\u{1b}[2J"), "{printed}");
        assert!(printed.ends_with("ok é"), "{printed}");
    }

    #[test]
    fn taken_names_get_a_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "").unwrap();
        std::fs::write(dir.path().join("a-2.txt"), "").unwrap();
        assert_eq!(unused_path(dir.path(), "a.txt"), dir.path().join("a-3.txt"));
        assert_eq!(unused_path(dir.path(), "b"), dir.path().join("b"));
    }
}
