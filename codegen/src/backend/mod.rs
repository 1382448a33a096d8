//! The three renderers of the [`Model`](crate::model::Model): one module per target SDK.
//! Each takes the whole model and returns the source text of its generated file.

pub mod python;
pub mod rust_embedded;
pub mod rust_std;

/// Splits `text` into lines of at most `width` characters at spaces (a longer word stays whole).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` as Rust doc-comment lines (`/// ...`), each ending in a newline, indented by `indent`.
pub fn rust_doc(text: &str, indent: &str) -> String {
    wrap(text, 92)
        .iter()
        .map(|line| format!("{indent}/// {line}\n"))
        .collect()
}

/// A Rust string literal of `text`.
pub fn rust_str(text: &str) -> String {
    format!("{text:?}")
}
