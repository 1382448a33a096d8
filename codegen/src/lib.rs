//! natsbridge-codegen turns `schema/natsbridge.schema.json` into the generated part of the std
//! Rust, no_std Rust and MicroPython SDKs, and checks that the checked-in copies are current.
//!
//! The pipeline is [`read::read_schema`] (schema to [`model::Model`]), then [`render`] (the
//! model to the three sources), then [`ensure_file_contents`] (write, or check in CI).
//!
//! ```no_run
//! use std::path::Path;
//! use natsbridge_codegen::{Mode, ensure_file_contents, workspace_outputs};
//!
//! let root = Path::new(".");
//! for output in workspace_outputs(root)? {
//!     let status = ensure_file_contents(root, &output, Mode::Check)?;
//!     println!("{status:?} {}", output.path);
//! }
//! # Ok::<(), natsbridge_codegen::Error>(())
//! ```

pub mod backend;
pub mod breaking;
pub mod model;
pub mod payloads;
pub mod read;

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use read::{SchemaError, read_schema};

/// The schema, relative to the workspace root.
pub const SCHEMA_PATH: &str = "schema/natsbridge.schema.json";
/// The generated std Rust types.
pub const RUST_STD_PATH: &str = "sdk-rust/src/generated.rs";
/// The generated no_std Rust types and codec.
pub const RUST_EMBEDDED_PATH: &str = "sdk-embedded/src/generated.rs";
/// The single-file Python module: hand-written parts stitched with the generated classes.
pub const PYTHON_PATH: &str = "sdk-python/nats_bridge.py";
/// The folder of the hand-written Python parts, stitched in file-name order.
pub const PYTHON_PARTS_DIR: &str = "sdk-python/src";
/// The command that regenerates every output; named in preambles and in `--check` failures.
pub const REGENERATE_COMMAND: &str = "cargo run -p natsbridge-codegen";
/// The example payload schema (a user's own payload types, issue 21), relative to the root.
pub const PAYLOADS_EXAMPLE_SCHEMA: &str = "codegen/examples/payloads/device.schema.json";
/// Its generated std Rust types, checked in (and compiled by `sdk-rust/tests/typed_payloads.rs`).
pub const PAYLOADS_EXAMPLE_STD: &str = "codegen/examples/payloads/device.rs";
/// Its generated no_std Rust types, checked in (compiled by
/// `sdk-embedded/tests/typed_payloads.rs`).
pub const PAYLOADS_EXAMPLE_EMBEDDED: &str = "codegen/examples/payloads/device_embedded.rs";
/// Its generated Python module, checked in (imported by `sdk-python/tests/test_typed_payloads.py`).
pub const PAYLOADS_EXAMPLE_PYTHON: &str = "codegen/examples/payloads/device_payloads.py";

/// Everything that can go wrong while generating.
#[derive(Debug)]
pub enum Error {
    /// The schema uses something the generator cannot carry to all three SDKs.
    Schema(SchemaError),
    /// A file could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A template failed to render.
    Render {
        output: &'static str,
        source: askama::Error,
    },
    /// `rustfmt` is missing or refused the generated Rust code (a generator bug).
    Rustfmt {
        output: &'static str,
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Schema(e) => write!(f, "schema refused: {e}"),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Render { output, source } => write!(f, "rendering {output}: {source}"),
            Error::Rustfmt { output, message } => {
                write!(f, "formatting {output} with rustfmt: {message}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Schema(e) => Some(e),
            Error::Io { source, .. } => Some(source),
            Error::Render { source, .. } => Some(source),
            Error::Rustfmt { .. } => None,
        }
    }
}

impl From<SchemaError> for Error {
    fn from(e: SchemaError) -> Self {
        Error::Schema(e)
    }
}

/// The three generated sources for one schema, before they are placed in files.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// `sdk-rust/src/generated.rs`, formatted with rustfmt.
    pub rust_std: String,
    /// `sdk-embedded/src/generated.rs`, formatted with rustfmt.
    pub rust_embedded: String,
    /// The generated section of `sdk-python/nats_bridge.py` (without the hand-written parts).
    pub python: String,
}

/// Reads `schema_text` (the file `schema_name`) and renders the three SDK sources.
pub fn generate(schema_name: &str, schema_text: &str) -> Result<Generated, Error> {
    let model = read_schema(schema_name, schema_text)?;
    render(&model)
}

/// Renders the std Rust SDK's `generated.rs` of an already-read model, formatted.
pub fn render_rust_std(model: &model::Model) -> Result<String, Error> {
    let rust_std = backend::rust_std::render(model).map_err(|source| Error::Render {
        output: RUST_STD_PATH,
        source,
    })?;
    rustfmt(RUST_STD_PATH, &rust_std)
}

/// Renders the three SDK sources of an already-read model.
pub fn render(model: &model::Model) -> Result<Generated, Error> {
    let rust_std = render_rust_std(model)?;
    let rust_embedded = backend::rust_embedded::render(model).map_err(|source| Error::Render {
        output: RUST_EMBEDDED_PATH,
        source,
    })?;
    let python = backend::python::render(model).map_err(|source| Error::Render {
        output: PYTHON_PATH,
        source,
    })?;
    Ok(Generated {
        rust_std,
        rust_embedded: rustfmt(RUST_EMBEDDED_PATH, &rust_embedded)?,
        python,
    })
}

/// One file the generator owns, with the contents it must have.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Path relative to the workspace root.
    pub path: &'static str,
    pub contents: String,
}

/// Every generated file of the workspace at `root`, rendered from its schema.
pub fn workspace_outputs(root: &Path) -> Result<Vec<Output>, Error> {
    let schema_text = read_to_string(&root.join(SCHEMA_PATH))?;
    let generated = generate(SCHEMA_PATH, &schema_text)?;
    let python = stitch_python(root, &generated.python)?;
    let example = read_to_string(&root.join(PAYLOADS_EXAMPLE_SCHEMA))?;
    let example_std =
        payloads::render_std(PAYLOADS_EXAMPLE_SCHEMA, &example, REGENERATE_COMMAND, true)?;
    let example_embedded =
        payloads::render_embedded(PAYLOADS_EXAMPLE_SCHEMA, &example, REGENERATE_COMMAND, true)?;
    let example_python =
        payloads::render_python(PAYLOADS_EXAMPLE_SCHEMA, &example, REGENERATE_COMMAND)?;
    Ok(vec![
        Output {
            path: RUST_STD_PATH,
            contents: generated.rust_std,
        },
        Output {
            path: RUST_EMBEDDED_PATH,
            contents: generated.rust_embedded,
        },
        Output {
            path: PYTHON_PATH,
            contents: python,
        },
        Output {
            path: PAYLOADS_EXAMPLE_STD,
            contents: example_std,
        },
        Output {
            path: PAYLOADS_EXAMPLE_EMBEDDED,
            contents: example_embedded,
        },
        Output {
            path: PAYLOADS_EXAMPLE_PYTHON,
            contents: example_python,
        },
    ])
}

/// The one-line preamble of every generated file, after the language's comment marker.
pub fn preamble(comment: &str) -> String {
    generated_preamble(comment, SCHEMA_PATH, REGENERATE_COMMAND)
}

/// The one-line preamble of a file generated from `schema` and regenerated by `command`.
pub fn generated_preamble(comment: &str, schema: &str, command: &str) -> String {
    format!(
        "{comment} Generated by natsbridge-codegen from {schema}. Do not edit: change the schema and run `{command}`.\n"
    )
}

/// The single Python file: the preamble, the hand-written parts of `sdk-python/src/` in
/// file-name order with the generated constants after the first one (the module docstring),
/// then the generated classes.
pub fn stitch_python(root: &Path, generated: &str) -> Result<String, Error> {
    let (constants, classes) = generated
        .split_once(backend::python::CLASSES_MARKER)
        .unwrap_or(("", generated));
    let dir = root.join(PYTHON_PARTS_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let mut parts: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    parts.sort();
    let mut out = preamble("#");
    for (i, part) in parts.iter().enumerate() {
        let name = part.file_name().unwrap_or_default().to_string_lossy();
        out.push_str(&format!(
            "\n# ---- hand-written: {PYTHON_PARTS_DIR}/{name} ----\n\n"
        ));
        out.push_str(read_to_string(part)?.trim_end());
        out.push('\n');
        if i == 0 {
            // after the module docstring, before any code that uses the constants
            out.push_str("\n# ---- generated from the schema: constants ----\n\n");
            out.push_str(constants.trim());
            out.push('\n');
        }
    }
    out.push_str("\n# ---- generated from the schema: classes ----\n\n");
    out.push_str(classes.trim());
    out.push('\n');
    Ok(out)
}

fn read_to_string(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Formats generated Rust with the toolchain's rustfmt, so `cargo fmt --check` agrees with it.
pub(crate) fn rustfmt(output: &'static str, source: &str) -> Result<String, Error> {
    let failed = |message: String| Error::Rustfmt { output, message };
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            failed(format!(
                "cannot start rustfmt ({e}); install it with `rustup component add rustfmt`"
            ))
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = {
        let source = source.to_string();
        std::thread::spawn(move || stdin.write_all(source.as_bytes()))
    };
    let result = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    writer
        .join()
        .expect("the writer thread does not panic")
        .map_err(|e| failed(e.to_string()))?;
    if !result.status.success() {
        return Err(failed(String::from_utf8_lossy(&result.stderr).into_owned()));
    }
    String::from_utf8(result.stdout).map_err(|e| failed(e.to_string()))
}

/// Whether [`ensure_file_contents`] may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write files whose contents differ.
    Write,
    /// Write nothing; report files whose contents differ as stale.
    Check,
}

/// What [`ensure_file_contents`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Unchanged,
    Written,
    /// Only in [`Mode::Check`]: the file differs from what the schema gives.
    Stale,
}

/// Makes `root/output.path` hold `output.contents` (in [`Mode::Write`]) or reports whether it
/// does (in [`Mode::Check`]).
pub fn ensure_file_contents(root: &Path, output: &Output, mode: Mode) -> Result<FileStatus, Error> {
    let path = root.join(output.path);
    match std::fs::read_to_string(&path) {
        Ok(current) if current == output.contents => return Ok(FileStatus::Unchanged),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(Error::Io { path, source }),
    }
    if mode == Mode::Check {
        return Ok(FileStatus::Stale);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(&path, &output.contents).map_err(|source| Error::Io { path, source })?;
    Ok(FileStatus::Written)
}

/// The workspace root of this checkout (the parent of the codegen crate).
pub fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the codegen crate lives in a workspace folder")
        .to_path_buf()
}

/// The whole Python module (`nats_bridge.py`) for `schema_text`, stitched with the
/// hand-written parts of the workspace at `root`: what a variant of the schema would give.
pub fn python_module(root: &Path, schema_name: &str, schema_text: &str) -> Result<String, Error> {
    let model = read_schema(schema_name, schema_text)?;
    let python = backend::python::render(&model).map_err(|source| Error::Render {
        output: PYTHON_PATH,
        source,
    })?;
    stitch_python(root, &python)
}
