//! Loading the golden messages of `tests/golden/` (format: `tests/golden/README.md`).
//!
//! ```no_run
//! for g in natsbridge_tests::golden::all() {
//!     // g.message: the NATS message body; g.expect: the parsed `.expect.json`
//!     println!("{} expects error {:?}", g.id(), g.error());
//! }
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The golden groups, in the order [`all`] returns them.
pub const GROUPS: [&str; 3] = ["canonical", "accepted", "invalid"];

/// Byte `i` of a generated link payload whose bytes are not stored in `files/`
/// (the 2,000,000-byte link golden): `(i * 7) % 251`.
pub fn generated_link_content(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7) % 251) as u8).collect()
}

/// One golden: `<group>/<name>.msg` and `<group>/<name>.expect.json`.
#[derive(Debug, Clone)]
pub struct Golden {
    /// `canonical`, `accepted` or `invalid`.
    pub group: String,
    /// The file name without `.msg` / `.expect.json`.
    pub name: String,
    /// The NATS message body, byte for byte.
    pub message: Vec<u8>,
    /// The parsed `.expect.json`.
    pub expect: serde_json::Value,
}

impl Golden {
    /// `group/name`, for failure messages.
    pub fn id(&self) -> String {
        format!("{}/{}", self.group, self.name)
    }

    /// Path of the `.msg` file.
    pub fn msg_path(&self) -> PathBuf {
        group_dir(&self.group).join(format!("{}.msg", self.name))
    }

    /// Path of the `.expect.json` file.
    pub fn expect_path(&self) -> PathBuf {
        group_dir(&self.group).join(format!("{}.expect.json", self.name))
    }

    /// The one-sentence description.
    pub fn description(&self) -> &str {
        self.expect["description"].as_str().unwrap_or("")
    }

    /// The expected error object `{kind, at, sdks}`, or `None` when the message decodes.
    pub fn error(&self) -> Option<&Value> {
        self.expect.get("error").filter(|e| !e.is_null())
    }

    /// The expected error kind, if any.
    pub fn error_kind(&self) -> Option<&str> {
        self.error().and_then(|e| e["kind"].as_str())
    }

    /// True when every SDK must decode this message (no error, or an error only the
    /// no_std SDK reports because of its capacities).
    pub fn decodes_outside_embedded(&self) -> bool {
        self.error()
            .is_none_or(|e| e["sdks"].as_str() == Some("embedded"))
    }

    /// True when the no_std SDK must decode this message.
    pub fn decodes_in_embedded(&self) -> bool {
        self.error().is_none()
    }

    /// The expected envelope (canonical key names), `Value::Null` when the message is refused.
    pub fn expected_envelope(&self) -> &Value {
        &self.expect["envelope"]
    }

    /// The expected payloads, empty when the message is refused.
    pub fn expected_payloads(&self) -> &[Value] {
        self.expect["payloads"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// `tests/golden/`.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// `tests/golden/<group>/`.
pub fn group_dir(group: &str) -> PathBuf {
    golden_dir().join(group)
}

/// `tests/golden/files/`: the bytes of small link payloads, named `<sha256 hex>.bin`.
pub fn files_dir() -> PathBuf {
    golden_dir().join("files")
}

/// `tests/golden/README.md`.
pub fn readme_path() -> PathBuf {
    golden_dir().join("README.md")
}

/// `schema/natsbridge.schema.json`.
pub fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schema")
        .join("natsbridge.schema.json")
}

/// The stored bytes of a link payload, by its checksum `sha256:<hex>` (or bare hex),
/// when they are in `files/`.
pub fn linked_file(checksum: &str) -> Option<PathBuf> {
    let hex = checksum.strip_prefix("sha256:").unwrap_or(checksum);
    let path = files_dir().join(format!("{hex}.bin"));
    path.is_file().then_some(path)
}

/// Every golden, group by group (in [`GROUPS`] order), sorted by name within a group.
///
/// Only complete pairs are loaded; [`orphans`] lists the rest. Panics (naming the file)
/// when a file cannot be read or an `.expect.json` is not JSON.
pub fn all() -> Vec<Golden> {
    GROUPS.iter().flat_map(|g| group(g)).collect()
}

/// The goldens of one group, sorted by name.
pub fn group(group: &str) -> Vec<Golden> {
    let dir = group_dir(group);
    let mut names: Vec<String> = list_dir(&dir)
        .into_iter()
        .filter_map(|f| f.strip_suffix(".msg").map(str::to_owned))
        .filter(|n| dir.join(format!("{n}.expect.json")).is_file())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let msg_path = dir.join(format!("{name}.msg"));
            let expect_path = dir.join(format!("{name}.expect.json"));
            let message = fs::read(&msg_path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", msg_path.display()));
            let text = fs::read(&expect_path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", expect_path.display()));
            let expect = serde_json::from_slice(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", expect_path.display()));
            Golden {
                group: group.to_owned(),
                name,
                message,
                expect,
            }
        })
        .collect()
}

/// Files in the group directories that are not half of a complete `.msg` /
/// `.expect.json` pair (orphans, or files with any other name).
pub fn orphans() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for group in GROUPS {
        let dir = group_dir(group);
        for file in list_dir(&dir) {
            let partner = if let Some(n) = file.strip_suffix(".expect.json") {
                format!("{n}.msg")
            } else if let Some(n) = file.strip_suffix(".msg") {
                format!("{n}.expect.json")
            } else {
                out.push(dir.join(&file));
                continue;
            };
            if !dir.join(&partner).is_file() {
                out.push(dir.join(&file));
            }
        }
    }
    out.sort();
    out
}

fn list_dir(dir: &Path) -> Vec<String> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}
