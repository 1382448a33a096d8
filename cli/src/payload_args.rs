//! The payload options of `send` and `request`: texts, JSON values and files, each named by
//! the caller (`--text note=hi`) or by default, and metadata for each payload.

use std::path::{Path, PathBuf};

use natsbridge::{Error, ErrorKind, Payload, PayloadType, Place};

/// What to send.
#[derive(Debug, clap::Args)]
pub struct PayloadArgs {
    /// A text payload: `NAME=TEXT`, or `TEXT` alone (named `text`, `text-2`, ...). NAME is
    /// letters, digits, `.`, `_` and `-`; start with `=` to send a text that has an `=` after
    /// such a word (`--text =a=b` sends `a=b`). Repeatable.
    #[arg(long, value_name = "[NAME=]TEXT")]
    text: Vec<String>,
    /// A dictionary payload from JSON text: `NAME=JSON`, or `JSON` alone (named `data`,
    /// `data-2`, ...). Repeatable.
    #[arg(long, value_name = "[NAME=]JSON")]
    json: Vec<String>,
    /// A file: `PATH` (named by its file name, type from its extension), `TYPE=PATH`,
    /// `NAME=PATH` or `NAME:TYPE=PATH`; TYPE is one of text, dictionary, table, image,
    /// audio, video, binary. Repeatable.
    #[arg(long, value_name = "[NAME[:TYPE]=]PATH")]
    file: Vec<String>,
    /// A key of one payload's `metadata`: `DATANAME:KEY=VALUE` (VALUE read as JSON when it
    /// parses, as a string otherwise). Repeatable.
    #[arg(long, value_name = "DATANAME:KEY=VALUE")]
    payload_metadata: Vec<String>,
}

fn numbered(base: &str, index: usize) -> String {
    if index == 0 {
        base.to_owned()
    } else {
        format!("{base}-{}", index + 1)
    }
}

/// Whether `word` can be a payload name on the command line (`NAME=...`).
fn is_name(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `NAME=REST` split when NAME [is a name](is_name), `=REST` as no name.
fn named(spec: &str) -> (Option<&str>, &str) {
    match spec.split_once('=') {
        Some(("", rest)) => (None, rest),
        Some((name, rest)) if is_name(name) => (Some(name), rest),
        _ => (None, spec),
    }
}

/// A command-line `VALUE`: JSON when it parses, else the text as a string.
pub fn json_or_string(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

fn invalid(at: String, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, at, message)
}

impl PayloadArgs {
    /// The payloads, texts first, then JSON values, then files, each in the order given, with
    /// their `--payload-metadata`.
    ///
    /// # Errors
    /// `invalid_input` naming the option: JSON that does not parse, a missing file, a
    /// `--payload-metadata` that is malformed or names no payload.
    pub fn payloads(&self) -> Result<Vec<Payload>, Error> {
        let mut payloads = Vec::new();
        let mut unnamed = 0;
        for spec in &self.text {
            let (name, text) = named(spec);
            let name = name.map(str::to_owned).unwrap_or_else(|| {
                unnamed += 1;
                numbered("text", unnamed - 1)
            });
            payloads.push(Payload::text(name, text));
        }
        let mut unnamed = 0;
        for spec in &self.json {
            // A JSON text never starts with `NAME=`, so a whole value that parses is unnamed.
            let (name, json) = match serde_json::from_str::<serde_json::Value>(spec) {
                Ok(_) => (None, spec.as_str()),
                Err(_) => named(spec),
            };
            let name = name.map(str::to_owned).unwrap_or_else(|| {
                unnamed += 1;
                numbered("data", unnamed - 1)
            });
            let value: serde_json::Value = serde_json::from_str(json)
                .map_err(|e| invalid(format!("--json {name}"), format!("not JSON: {e}")))?;
            payloads.push(Payload::dictionary(name, &value)?);
        }
        for spec in &self.file {
            payloads.push(file_payload(spec)?);
        }
        for spec in &self.payload_metadata {
            add_metadata(&mut payloads, spec)?;
        }
        Ok(payloads)
    }
}

/// Applies one `DATANAME:KEY=VALUE` to the payload of that name.
fn add_metadata(payloads: &mut [Payload], spec: &str) -> Result<(), Error> {
    let at = || format!("--payload-metadata {spec}");
    let (target, value) = spec
        .split_once('=')
        .ok_or_else(|| invalid(at(), "not DATANAME:KEY=VALUE (no `=`)"))?;
    let (dataname, key) = target
        .rsplit_once(':')
        .filter(|(dataname, key)| !dataname.is_empty() && !key.is_empty())
        .ok_or_else(|| invalid(at(), "not DATANAME:KEY=VALUE (no `DATANAME:KEY`)"))?;
    let names = || {
        payloads
            .iter()
            .map(|p| format!("{:?}", p.dataname()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let index = payloads
        .iter()
        .position(|p| p.dataname() == dataname)
        .ok_or_else(|| {
            invalid(
                at(),
                format!("no payload named {dataname:?} (sent: {})", names()),
            )
        })?;
    let payload = &mut payloads[index];
    let mut fields = payload.fields().clone();
    fields
        .metadata
        .insert(key.to_owned(), json_or_string(value));
    *payload = payload.clone().with_fields(fields);
    Ok(())
}

fn file_payload(spec: &str) -> Result<Payload, Error> {
    let at = || format!("--file {spec}");
    let (name, payload_type, path) = if Path::new(spec).is_file() {
        (None, None, PathBuf::from(spec))
    } else {
        match spec.split_once('=') {
            Some((head, path)) => {
                let (name, ty) = match head.split_once(':') {
                    Some((name, ty)) => (Some(name), Some(ty)),
                    None if parse_type(head).is_some() => (None, Some(head)),
                    None => (Some(head), None),
                };
                let payload_type = match ty {
                    Some(ty) => Some(parse_type(ty).ok_or_else(|| {
                        invalid(
                            at(),
                            format!(
                                "{ty:?} is not a payload type (text, dictionary, table, image, \
                                 audio, video, binary)"
                            ),
                        )
                    })?),
                    None => None,
                };
                if name.is_some_and(str::is_empty) {
                    return Err(invalid(at(), "an empty payload name"));
                }
                (name.map(str::to_owned), payload_type, PathBuf::from(path))
            }
            None => (None, None, PathBuf::from(spec)),
        }
    };
    if !path.is_file() {
        return Err(invalid(at(), format!("no such file: {}", path.display())));
    }
    let dataname = name.unwrap_or_else(|| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let payload_type = payload_type.unwrap_or_else(|| type_from_extension(&path));
    if payload_type == PayloadType::Dictionary {
        // Sent in canonical form (compact, keys sorted), so it must parse as JSON first.
        let text = std::fs::read(&path).map_err(|e| {
            Error::located(
                ErrorKind::Io,
                Place::File(path.clone()),
                "cannot read the file",
            )
            .with_source(e)
        })?;
        let value: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| invalid(at(), format!("a dictionary file must hold JSON: {e}")))?;
        return Payload::dictionary(dataname, &value);
    }
    Ok(Payload::file(dataname, payload_type, path))
}

/// A payload type of the schema a sender may give (`jsontable` is receive-only; a name the
/// schema does not know is not a type here, so `--file avatar=cat.png` names the payload).
fn parse_type(name: &str) -> Option<PayloadType> {
    PayloadType::parse(name).filter(|t| !t.is_receive_only() && !matches!(t, PayloadType::Other(_)))
}

/// The payload type a file's extension suggests; `binary` when it suggests none.
pub fn type_from_extension(path: &Path) -> PayloadType {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" | "md" | "csv" | "log" => PayloadType::Text,
        "json" => PayloadType::Dictionary,
        "arrow" | "arrows" | "ipc" => PayloadType::Table,
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "bmp" | "tif" | "tiff" | "svg" => {
            PayloadType::Image
        }
        "wav" | "mp3" | "ogg" | "flac" | "m4a" | "opus" => PayloadType::Audio,
        "mp4" | "mkv" | "webm" | "mov" | "avi" => PayloadType::Video,
        _ => PayloadType::Binary,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use natsbridge::{ErrorKind, PayloadType};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        payloads: super::PayloadArgs,
    }

    fn bytes(payload: &natsbridge::Payload) -> &[u8] {
        match payload.source() {
            natsbridge::Source::Bytes(bytes) => bytes,
            natsbridge::Source::File(path) => panic!("{path:?} is a file"),
        }
    }

    fn parse(args: &[&str]) -> Result<Vec<natsbridge::Payload>, natsbridge::Error> {
        let args = std::iter::once("natsbridge").chain(args.iter().copied());
        Cli::try_parse_from(args).unwrap().payloads.payloads()
    }

    #[test]
    fn payloads_take_the_names_given_and_numbered_defaults_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("cat.png");
        std::fs::write(&photo, b"png").unwrap();
        let odd = dir.path().join("a=b.bin");
        std::fs::write(&odd, b"x").unwrap();
        let photo = photo.to_str().unwrap();
        let payloads = parse(&[
            "--text",
            "hello",
            "--text",
            "note=hi there",
            "--text",
            "=x=1",
            "--text",
            "two words=no name",
            "--json",
            r#"{"a":1}"#,
            "--json",
            r#"config={"ssid":"lab"}"#,
            "--file",
            photo,
            "--file",
            &format!("avatar={photo}"),
            "--file",
            &format!("raw:binary={photo}"),
            "--file",
            &format!("text={photo}"),
            "--file",
            odd.to_str().unwrap(),
            "--payload-metadata",
            "avatar:width=640",
            "--payload-metadata",
            "note:lang=en",
        ])
        .unwrap();
        let seen: Vec<(&str, &PayloadType)> = payloads
            .iter()
            .map(|p| (p.dataname(), p.payload_type()))
            .collect();
        assert_eq!(
            seen,
            [
                ("text", &PayloadType::Text),
                ("note", &PayloadType::Text),
                ("text-2", &PayloadType::Text),
                ("text-3", &PayloadType::Text),
                ("data", &PayloadType::Dictionary),
                ("config", &PayloadType::Dictionary),
                ("cat.png", &PayloadType::Image),
                ("avatar", &PayloadType::Image),
                ("raw", &PayloadType::Binary),
                ("cat.png", &PayloadType::Text),
                ("a=b.bin", &PayloadType::Binary),
            ]
        );
        assert_eq!(bytes(&payloads[1]), b"hi there");
        assert_eq!(bytes(&payloads[2]), b"x=1");
        assert_eq!(bytes(&payloads[3]), b"two words=no name");
        assert_eq!(bytes(&payloads[5]), br#"{"ssid":"lab"}"#);
        assert_eq!(payloads[7].fields().metadata["width"], 640);
        assert_eq!(payloads[1].fields().metadata["lang"], "en");
    }

    #[test]
    fn malformed_payload_options_name_the_option() {
        for (args, at) in [
            (&["--json", "cfg={nope"][..], "--json cfg"),
            (&["--json", "{nope"][..], "--json data"),
            (&["--file", "missing.bin"][..], "--file missing.bin"),
            (&["--file", "x:movie=a.bin"][..], "--file x:movie=a.bin"),
            (
                &["--text", "a", "--payload-metadata", "nobody:k=v"][..],
                "--payload-metadata nobody:k=v",
            ),
            (
                &["--text", "a", "--payload-metadata", "text-k-v"][..],
                "--payload-metadata text-k-v",
            ),
            (
                &["--text", "a", "--payload-metadata", "text=v"][..],
                "--payload-metadata text=v",
            ),
        ] {
            let error = parse(args).unwrap_err();
            assert_eq!(
                (error.kind(), error.at()),
                (ErrorKind::InvalidInput, at),
                "{args:?}: {error}"
            );
        }
    }
}
