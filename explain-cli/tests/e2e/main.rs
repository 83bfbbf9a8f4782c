//! End-to-end tests of the `explain` CLI, as one test binary (ripgrep's layout): each module
//! holds one area, `common` the helpers they share (fixtures, samples, running the CLI).
//! Fixture data stays in `tests/data/` at the repository root.

#[allow(dead_code)]
mod common;

mod backend_selection;
mod cli_determinism;
mod cli_errors;
mod correctness;
mod cross_platform;
mod det_slices;
mod detect;
mod diff_cli;
mod hostile;
mod inventory_cli;
mod media;
/// Needs a build with `--features ort` and `ORT_DYLIB_PATH`.
#[cfg(feature = "ort")]
mod ort_backend;
mod report;
mod slices;
mod verify_attributions;
