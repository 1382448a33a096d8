//! A user's own payload types: a payload schema (JSON Schema draft 2020-12 whose `$defs`
//! entries are payload types, in the envelope schema's vocabulary) read by the same reader
//! into the same [`Model`], rendered into the user's project.
//!
//! From a `build.rs`, as `prost-build` does (the crate then depends on `natsbridge` only):
//!
//! ```no_run
//! // build.rs
//! let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("payloads.rs");
//! println!("cargo:rerun-if-changed=payloads.schema.json");
//! natsbridge_codegen::payloads::Builder::new("payloads.schema.json")
//!     .std(&out)
//!     .generate()
//!     .unwrap();
//! // src/lib.rs: pub mod payloads { include!(concat!(env!("OUT_DIR"), "/payloads.rs")); }
//! ```
//!
//! or from the command line: `natsbridge-codegen payloads payloads.schema.json --std
//! src/payloads.rs` (and `--check` in CI). For firmware (`natsbridge-embedded`), `.embedded(&out)`
//! or `--embedded src/payloads.rs`.

use std::path::{Path, PathBuf};

use crate::{Error, FileStatus, Mode, backend, model::Model, read};

/// What the payload files are called in errors.
const STD_OUTPUT: &str = "payload types (std Rust)";
/// What the no_std payload file is called in errors.
const EMBEDDED_OUTPUT: &str = "payload types (no_std Rust)";
/// What the Python payload module is called in errors.
const PYTHON_OUTPUT: &str = "payload types (Python)";

/// Reads a payload schema (the text of the file called `schema_name`).
pub fn read_schema(schema_name: &str, schema_text: &str) -> Result<Model, Error> {
    Ok(read::read_payload_schema(schema_name, schema_text)?)
}

/// The std Rust file of a payload schema, formatted, starting with the do-not-edit preamble
/// that names `schema_name` and the command that regenerates it.
pub fn render_std(
    schema_name: &str,
    schema_text: &str,
    regenerate: &str,
    format: bool,
) -> Result<String, Error> {
    let model = read_schema(schema_name, schema_text)?;
    let preamble = crate::generated_preamble("//", schema_name, regenerate);
    let source =
        backend::rust_std::render_payloads(&model, &preamble).map_err(|source| Error::Render {
            output: STD_OUTPUT,
            source,
        })?;
    if format {
        crate::rustfmt(STD_OUTPUT, &source)
    } else {
        Ok(source)
    }
}

/// The no_std Rust file of a payload schema (for the `natsbridge-embedded` crate), formatted,
/// starting with the do-not-edit preamble that names `schema_name` and `regenerate`.
pub fn render_embedded(
    schema_name: &str,
    schema_text: &str,
    regenerate: &str,
    format: bool,
) -> Result<String, Error> {
    let model = read_schema(schema_name, schema_text)?;
    let preamble = crate::generated_preamble("//", schema_name, regenerate);
    let source = backend::rust_embedded::render_payloads(&model, &preamble).map_err(|source| {
        Error::Render {
            output: EMBEDDED_OUTPUT,
            source,
        }
    })?;
    if format {
        crate::rustfmt(EMBEDDED_OUTPUT, &source)
    } else {
        Ok(source)
    }
}

/// The Python module of a payload schema (CPython and MicroPython; it imports
/// `nats_bridge_typed`), starting with the do-not-edit preamble.
pub fn render_python(
    schema_name: &str,
    schema_text: &str,
    regenerate: &str,
) -> Result<String, Error> {
    let model = read_schema(schema_name, schema_text)?;
    let preamble = crate::generated_preamble("#", schema_name, regenerate);
    backend::python::render_payloads(&model, &preamble).map_err(|source| Error::Render {
        output: PYTHON_OUTPUT,
        source,
    })
}

/// Generates the files of one payload schema (a `build.rs` or the `payloads` command).
#[derive(Debug, Clone)]
pub struct Builder {
    schema: PathBuf,
    schema_name: Option<String>,
    regenerate: Option<String>,
    std: Option<PathBuf>,
    embedded: Option<PathBuf>,
    python: Option<PathBuf>,
    format: bool,
}

impl Builder {
    /// The payload schema at `schema` (a path, relative to the current folder; cargo runs a
    /// `build.rs` in the package's folder).
    pub fn new(schema: impl AsRef<Path>) -> Self {
        Builder {
            schema: schema.as_ref().to_path_buf(),
            schema_name: None,
            regenerate: None,
            std: None,
            embedded: None,
            python: None,
            format: true,
        }
    }

    /// Writes the std Rust types (for the `natsbridge` crate) to `path`, such as
    /// `$OUT_DIR/payloads.rs`.
    pub fn std(mut self, path: impl AsRef<Path>) -> Self {
        self.std = Some(path.as_ref().to_path_buf());
        self
    }

    /// Writes the no_std Rust types (for the `natsbridge-embedded` crate: heapless, no
    /// allocation) to `path`, such as `$OUT_DIR/payloads.rs`.
    pub fn embedded(mut self, path: impl AsRef<Path>) -> Self {
        self.embedded = Some(path.as_ref().to_path_buf());
        self
    }

    /// Writes the Python module (for `nats_bridge.py` and `nats_bridge_typed.py`, CPython
    /// and MicroPython) to `path`, such as `payloads.py`.
    pub fn python(mut self, path: impl AsRef<Path>) -> Self {
        self.python = Some(path.as_ref().to_path_buf());
        self
    }

    /// How the preamble names the schema (default: the path given to [`new`](Self::new)).
    pub fn schema_name(mut self, name: impl Into<String>) -> Self {
        self.schema_name = Some(name.into());
        self
    }

    /// The command the preamble tells readers to run (default:
    /// `natsbridge-codegen payloads SCHEMA`).
    pub fn regenerate_command(mut self, command: impl Into<String>) -> Self {
        self.regenerate = Some(command.into());
        self
    }

    /// Whether to format the Rust output with `rustfmt` (default: true; it must be
    /// installed, `rustup component add rustfmt`).
    pub fn rustfmt(mut self, format: bool) -> Self {
        self.format = format;
        self
    }

    /// The files this builder writes, with their contents.
    pub fn outputs(&self) -> Result<Vec<(PathBuf, String)>, Error> {
        let text = std::fs::read_to_string(&self.schema).map_err(|source| Error::Io {
            path: self.schema.clone(),
            source,
        })?;
        let name = self
            .schema_name
            .clone()
            .unwrap_or_else(|| self.schema.display().to_string());
        let regenerate = self
            .regenerate
            .clone()
            .unwrap_or_else(|| format!("natsbridge-codegen payloads {name}"));
        let mut outputs = Vec::new();
        if let Some(path) = &self.std {
            outputs.push((
                path.clone(),
                render_std(&name, &text, &regenerate, self.format)?,
            ));
        }
        if let Some(path) = &self.embedded {
            outputs.push((
                path.clone(),
                render_embedded(&name, &text, &regenerate, self.format)?,
            ));
        }
        if let Some(path) = &self.python {
            outputs.push((path.clone(), render_python(&name, &text, &regenerate)?));
        }
        Ok(outputs)
    }

    /// Writes every output whose contents differ; a schema the generator refuses is an
    /// error naming the schema path at fault.
    pub fn generate(&self) -> Result<(), Error> {
        self.ensure(Mode::Write).map(|_| ())
    }

    /// Writes ([`Mode::Write`]) or checks ([`Mode::Check`]) every output, with its status.
    pub fn ensure(&self, mode: Mode) -> Result<Vec<(PathBuf, FileStatus)>, Error> {
        let mut statuses = Vec::new();
        for (path, contents) in self.outputs()? {
            let status = ensure_file(&path, &contents, mode)?;
            statuses.push((path, status));
        }
        Ok(statuses)
    }
}

/// [`crate::ensure_file_contents`] for a path of the caller's.
fn ensure_file(path: &Path, contents: &str, mode: Mode) -> Result<FileStatus, Error> {
    match std::fs::read_to_string(path) {
        Ok(current) if current == contents => return Ok(FileStatus::Unchanged),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    if mode == Mode::Check {
        return Ok(FileStatus::Stale);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, contents).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(FileStatus::Written)
}
