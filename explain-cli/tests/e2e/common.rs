//! Helpers shared by the end-to-end tests: paths to fixtures and samples, and running the CLI.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A fixture in `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

/// A file in `models-sample/`.
pub fn sample(path: &str) -> String {
    format!("{}/../models-sample/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `explain` CLI.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs the CLI, asserts success and returns the JSON written to `--out`.
pub fn run_ok(args: &[&str]) -> serde_json::Value {
    let out_idx = args.iter().position(|a| *a == "--out").unwrap() + 1;
    let run = cli(args);
    assert!(
        run.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&std::fs::read(args[out_idx]).unwrap()).unwrap()
}

/// Runs `explain report CONFIG --out OUT --quiet`, asserts success and returns report.json.
pub fn report_ok(config: &std::path::Path, out: &std::path::Path) -> serde_json::Value {
    let run = cli(&[
        "report",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_exit(&run, 0, &[]);
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// Asserts an exit code, no panic, and that stderr holds every expected fragment.
pub fn assert_exit(out: &Output, code: i32, expect: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected '{e}' in: {stderr}");
    }
}

/// Runs the `explain` CLI in directory `dir` (relative paths in its arguments and in the files
/// it writes are relative to `dir`).
pub fn cli_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}
