//! Hashes and the tool identity recorded in every artifact, so that a reviewer can tell exactly
//! which model, inputs and tool produced a number.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The version of this library (and of the `explain` binary built from it).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The tract version linked in; kept equal to the `=` pin in the workspace `Cargo.toml`
/// (a test checks `Cargo.lock`).
pub const TRACT_VERSION: &str = "0.23.9";

/// `{"name": "explain", "version": "…"}` as written at the top of every artifact.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    pub fn current() -> Tool {
        Tool {
            name: "explain".into(),
            version: TOOL_VERSION.into(),
        }
    }
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of a regular file's contents, read in pieces (a large model is not
/// held in memory). Anything but a regular file (a directory, a device, a FIFO) is refused:
/// its contents are not a fixed thing to record.
pub fn sha256_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let fail = |e: std::io::Error| Error::Input(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(fail)?;
    if !file.metadata().map_err(fail)?.is_file() {
        return Err(Error::Input(format!(
            "cannot read {}: not a regular file",
            path.display()
        )));
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// SHA-256 of a float tensor's values (little-endian IEEE-754 bytes, element order): the
/// identity of exactly what was explained, independent of the file format it came from.
pub fn sha256_f32(values: &[f32]) -> String {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.to_le_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file that went into an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileRef {
    pub path: String,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
}

impl FileRef {
    /// The file at `path` (as given) with its hash.
    pub fn of(path: &Path) -> Result<FileRef> {
        Ok(FileRef {
            path: path.display().to_string(),
            sha256: sha256_file(path)?,
            rows: None,
        })
    }
}
