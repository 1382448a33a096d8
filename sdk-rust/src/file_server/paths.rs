//! Turns the path of a request into a path inside the served folder, or refuses it.
//! Every name that reaches the disk has passed [`StoredPath::from_url_path`] or [`file_name`].

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// The longest name of one folder or file we accept, in bytes (the common file-system limit).
pub const MAX_NAME_BYTES: usize = 255;
/// The most folders a stored path may have above its file.
pub const MAX_DEPTH: usize = 32;

/// A relative path below the served folder, made only of checked names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPath {
    names: Vec<String>,
}

impl StoredPath {
    /// Decodes the raw (percent-encoded) path of a URL, `/a/b%20c.bin`, into checked names.
    /// Empty names (`//`, a trailing `/`) are refused, as is everything [`file_name`] refuses.
    pub fn from_url_path(raw: &str) -> Result<StoredPath, String> {
        let Some(rest) = raw.strip_prefix('/') else {
            return Err(format!("path {raw:?} does not start with '/'"));
        };
        if rest.is_empty() {
            return Err("the path names no file (it is '/')".to_owned());
        }
        let mut names = Vec::new();
        for segment in rest.split('/') {
            let decoded = percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| format!("path segment {segment:?} is not UTF-8 once decoded"))?;
            names.push(file_name(&decoded)?.to_owned());
        }
        if names.len() > MAX_DEPTH + 1 {
            return Err(format!(
                "path {raw:?} has {} names; at most {} are allowed",
                names.len(),
                MAX_DEPTH + 1
            ));
        }
        Ok(StoredPath { names })
    }

    /// A path from names that were each checked by [`file_name`].
    pub fn from_names(names: &[&str]) -> Result<StoredPath, String> {
        let names = names
            .iter()
            .map(|name| file_name(name).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StoredPath { names })
    }

    /// The first name of the path (its top folder, or the file itself).
    pub fn first(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }

    /// Where this path lives below `root`.
    pub fn under(&self, root: &Path) -> PathBuf {
        let mut path = root.to_path_buf();
        path.extend(&self.names);
        path
    }

    /// The path as a URL path, `/a/b%20c.bin`, for messages and links.
    pub fn to_url_path(&self) -> String {
        let mut url = String::new();
        for name in &self.names {
            url.push('/');
            url.extend(percent_encoding::utf8_percent_encode(name, URL_NAME));
        }
        url
    }
}

/// What a name keeps percent-encoded inside a URL path: controls, space and the characters
/// that mean something in a URL.
const URL_NAME: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Checks one folder or file name: not empty, not `.` or `..`, no leading `.` (hidden names
/// are refused, which also keeps the server's own `.incoming` folder out of reach), no `/`,
/// `\`, NUL or other control character, nothing Windows would read as a drive, a stream
/// or a device (`C:x`, `a:stream`, `CON`, `nul.txt`, `<>:"|?*`, a trailing space or dot),
/// at most [`MAX_NAME_BYTES`] bytes.
pub fn file_name(name: &str) -> Result<&str, String> {
    if name.is_empty() {
        return Err("an empty name (as in '//' or a trailing '/') is refused".to_owned());
    }
    if name.starts_with('.') {
        return Err(format!(
            "name {name:?} starts with '.'; '.', '..' and hidden names are refused"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Err(format!(
            "name {name:?} holds the character {bad:?}, which is refused"
        ));
    }
    if let Some(problem) = crate::link::portable_name_problem(name) {
        return Err(format!("{problem}, which is refused on every platform"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "name {:?}... is {} bytes long; at most {MAX_NAME_BYTES} are allowed",
            name.chars().take(40).collect::<String>(),
            name.len()
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_encoded_names_are_decoded() {
        let path = StoredPath::from_url_path("/a/b%20c.bin").unwrap();
        assert_eq!(path.to_url_path(), "/a/b%20c.bin");
        assert_eq!(
            path.under(Path::new("/srv")),
            PathBuf::from("/srv/a/b c.bin")
        );
        let unicode = StoredPath::from_url_path("/%C3%A9t%C3%A9.txt").unwrap();
        assert_eq!(
            unicode.under(Path::new("/srv")),
            PathBuf::from("/srv/été.txt")
        );
    }

    #[test]
    fn escapes_out_of_the_folder_are_refused() {
        for raw in [
            "/../etc/passwd",
            "/a/../../b",
            "/a/%2e%2e/b",
            "/%2E%2E/b",
            "/a/..%2fb",
            "/a/%2F/b",
            "/a%5c..%5cb",
            "/a/%00b",
            "/a/b%0a",
            "/.",
            "/a/.hidden",
            "/.incoming/x",
            "//etc/passwd",
            "/a//b",
            "/a/",
            "/",
            "relative",
            "/%ff",
            "/C:x",
            "/a/b:stream",
            "/CON",
            "/dir/nul.txt",
            "/dir/Com1.tar.gz",
            "/a/b%3Ac",
            "/a/q%3F",
            "/trailing.",
        ] {
            assert!(
                StoredPath::from_url_path(raw).is_err(),
                "{raw:?} was accepted"
            );
        }
    }

    #[test]
    fn errors_name_the_culprit() {
        let error = StoredPath::from_url_path("/a/%2e%2e/b").unwrap_err();
        assert!(error.contains("\"..\""), "{error}");
        let error = file_name("a\0b").unwrap_err();
        assert!(error.contains("\\0"), "{error}");
    }

    #[test]
    fn long_names_and_deep_paths_are_refused() {
        assert!(file_name(&"x".repeat(MAX_NAME_BYTES)).is_ok());
        assert!(file_name(&"x".repeat(MAX_NAME_BYTES + 1)).is_err());
        let deep = "/d".repeat(MAX_DEPTH + 2);
        assert!(StoredPath::from_url_path(&deep).is_err());
        let deepest = "/d".repeat(MAX_DEPTH + 1);
        assert!(StoredPath::from_url_path(&deepest).is_ok());
    }
}
