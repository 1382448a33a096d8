//! The three renderers of the [`Model`](crate::model::Model): one module per target SDK.
//! Each takes the whole model and returns the source text of its generated file.

pub mod python;
pub mod rust_embedded;
pub mod rust_std;

use crate::model::Enum;

/// Greedy word wrap; the first line may be narrower; later lines start with `hang`.
pub fn wrap(text: &str, first_width: usize, width: usize, hang: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let lead: String = text.chars().take_while(|c| *c == ' ').collect();
    let mut line = lead;
    let mut limit = first_width;
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if !empty && len + 1 + word.chars().count() > limit {
            lines.push(std::mem::take(&mut line));
            line = hang.to_string();
            limit = width + hang.len();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// `text` as Rust doc-comment lines (`/// ...`), each ending in a newline, indented by `indent`.
pub fn rust_doc(text: &str, indent: &str) -> String {
    wrap(text, 92, 92, "")
        .iter()
        .map(|line| format!("{indent}/// {line}\n"))
        .collect()
}

/// A Rust string literal of `text`.
pub fn rust_str(text: &str) -> String {
    format!("{text:?}")
}

/// A string enumeration as both Rust backends render it.
pub(crate) struct RustEnumView {
    pub name: String,
    pub doc: String,
    /// `Some(capacity)` for an open enumeration (unknown values kept as `Other`).
    pub open: Option<usize>,
    pub variants: Vec<RustVariantView>,
    /// Every string a message may hold, aliases included, as a Rust slice literal.
    pub expected: String,
    /// Alias spellings: (Rust literal of the alias, variant).
    pub aliases: Vec<(String, String)>,
    /// The body of `is_receive_only`.
    pub receive_only_check: String,
    /// The longest string that can name a value (the no_std decoder's buffer).
    pub text_capacity: usize,
}

/// One value of a [`RustEnumView`].
pub(crate) struct RustVariantView {
    pub name: String,
    /// The wire string as a Rust literal.
    pub wire: String,
    pub doc: String,
}

impl RustEnumView {
    pub fn new(e: &Enum) -> Self {
        let variants = e
            .values
            .iter()
            .map(|v| RustVariantView {
                name: v.variant(),
                wire: rust_str(&v.wire),
                doc: rust_doc(
                    &if v.receive_only {
                        format!(
                            "Received from early editions, never sent: {}",
                            v.description
                        )
                    } else {
                        v.description.clone()
                    },
                    "    ",
                ),
            })
            .collect();
        let aliases = e
            .aliases
            .iter()
            .map(|(alias, target)| {
                let variant = e
                    .values
                    .iter()
                    .find(|v| v.wire == *target)
                    .expect("the reader checked that an alias names a value");
                (rust_str(alias), variant.variant())
            })
            .collect();
        let spellings = e
            .values
            .iter()
            .map(|v| &v.wire)
            .chain(e.aliases.iter().map(|(alias, _)| alias));
        let longest = spellings.clone().map(String::len).max().unwrap_or(1);
        let expected = spellings
            .map(|s| rust_str(s))
            .collect::<Vec<_>>()
            .join(", ");
        let receive_only: Vec<String> = e
            .values
            .iter()
            .filter(|v| v.receive_only)
            .map(|v| format!("Self::{}", v.variant()))
            .collect();
        RustEnumView {
            name: e.name.clone(),
            doc: rust_doc(&e.description, ""),
            open: e.open,
            variants,
            expected: format!("&[{expected}]"),
            aliases,
            receive_only_check: if receive_only.is_empty() {
                "false".to_string()
            } else {
                format!("matches!(self, {})", receive_only.join(" | "))
            },
            text_capacity: longest.max(e.open.unwrap_or(0)),
        }
    }
}
