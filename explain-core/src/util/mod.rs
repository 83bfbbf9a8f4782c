//! Utilities every stage uses: output staging and atomic writes ([`output`]), resource limits
//! ([`limits`]), hashes and tool identity ([`provenance`]), and the knife-edge choices a re-run
//! re-imposes ([`pins`]). Nothing here depends on any other folder of the crate.

pub mod as_text;
pub mod limits;
pub mod output;
pub mod pins;
pub mod progress;
pub mod provenance;
pub mod toml;
pub mod vocabulary;
