//! Hashes and the tool identity recorded in every artifact, so that a reviewer can tell exactly
//! which model, inputs and tool produced a number.

use crate::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The version of this library (and of the `explain` binary built from it).
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The tract version linked in; kept equal to the `=` pin in the workspace `Cargo.toml`
/// (a test checks `Cargo.lock`).
pub const TRACT_VERSION: &str = "0.23.9";

/// `{"name": "explain", "version": "…"}` as written at the top of every artifact.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
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

/// Lower-case hex SHA-256 of a file's contents.
pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", path.display())))?;
    Ok(sha256_hex(&bytes))
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
