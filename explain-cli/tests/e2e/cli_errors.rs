//! The CLI's behaviour on bad input: exit code 2, one clear message on stderr that names the
//! file and the problem, no panic, and no output file (not even a leftover temporary file).
//! Also a few positive-path checks of `explain inspect` and `explain shap`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The absolute path of a fixture in `tests/data`.
macro_rules! fixture {
    ($name:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/", $name)
    };
}

/// The name of the `--out` file inside each test's output directory.
const OUT_NAME: &str = "out.json";

/// Runs the CLI under test with `args`.
fn explain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(args)
        .output()
        .expect("the explain binary runs")
}

/// A fresh, empty temporary directory.
fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// `dir/out.json` as a string, for `--out`.
fn out_in(dir: &Path) -> String {
    path_str(&dir.join(OUT_NAME))
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("a UTF-8 temporary path").to_owned()
}

/// Writes `bytes` to `dir/name` and returns its path.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a test file");
    path
}

/// Everything left in `dir` (names only).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read the output directory")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Checks that the CLI rejected its input properly: exit code 2, nothing on stdout, exactly one
/// error message on stderr containing every one of `expected`, no panic, and no file at all in
/// `out_dir` (neither `out.json` nor a leftover temporary file).
#[track_caller]
fn assert_bad_input(output: &Output, expected: &[&str], out_dir: &Path) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(2),
        "exit status {:?}; stderr:\n{stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "the CLI panicked:\n{stderr}");
    assert_eq!(
        stderr.matches("error:").count(),
        1,
        "expected exactly one error message:\n{stderr}"
    );
    assert!(
        stdout.is_empty(),
        "unexpected output on stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for want in expected {
        assert!(
            stderr.contains(want),
            "stderr should mention {want:?}:\n{stderr}"
        );
    }
    assert!(
        !out_dir.join(OUT_NAME).exists(),
        "an output file was written despite the error:\n{stderr}"
    );
    let left = leftovers(out_dir);
    assert!(
        left.is_empty(),
        "files left behind in the output directory: {left:?}\nstderr:\n{stderr}"
    );
}

/// Runs `explain shap` successfully and returns the parsed attribution document.
#[track_caller]
fn shap_ok(args: &[&str]) -> serde_json::Value {
    let dir = tempdir();
    let out = out_in(dir.path());
    let mut all = vec!["shap"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", &out, "--quiet"]);
    let output = explain(&all);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "explain {all:?} failed:\n{stderr}"
    );
    serde_json::from_slice(&std::fs::read(&out).expect("the output file exists"))
        .expect("the output is JSON")
}

/// Bytes of a little-endian float64 `.npy` (format version 1.0) of shape `[rows, cols]`.
fn npy_f64(rows: usize, cols: usize, values: &[f64]) -> Vec<u8> {
    assert_eq!(values.len(), rows * cols);
    let mut header =
        format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // magic (6) + version (2) + header length (2) + header + '\n' must be a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(
        &u16::try_from(header.len())
            .expect("a short header")
            .to_le_bytes(),
    );
    bytes.extend_from_slice(header.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

// ---------------------------------------------------------------------------------------------
// Bad input: one test per case.
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_model_file() {
    let dir = tempdir();
    let model = path_str(&dir.path().join("no_such_model.onnx"));
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        &model,
        "--input",
        fixture!("linear_x.npy"),
        "--out",
        &out,
    ]);
    assert_bad_input(
        &output,
        &["no_such_model.onnx", "does not exist"],
        dir.path(),
    );

    let output = explain(&["inspect", &model]);
    assert_bad_input(
        &output,
        &["no_such_model.onnx", "does not exist"],
        dir.path(),
    );
}

#[test]
fn corrupt_model_file() {
    let inputs = tempdir();
    // Deterministic pseudo-random garbage (a 64-bit LCG), so that a failure reproduces.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect();
    let bad = path_str(&write_file(inputs.path(), "bad.onnx", &garbage));
    // A real model cut short is another common way for a file to be corrupt.
    let real = std::fs::read(fixture!("mlp.onnx")).expect("read mlp.onnx");
    let truncated = path_str(&write_file(
        inputs.path(),
        "truncated.onnx",
        &real[..real.len() / 2],
    ));

    for model in [&bad, &truncated] {
        let name = Path::new(model).file_name().unwrap().to_str().unwrap();
        let dir = tempdir();
        let out = out_in(dir.path());
        let output = explain(&[
            "shap",
            "--model",
            model,
            "--input",
            fixture!("linear_x.npy"),
            "--out",
            &out,
        ]);
        assert_bad_input(&output, &[name, "not a valid ONNX model"], dir.path());

        let output = explain(&["inspect", model]);
        assert_bad_input(&output, &[name, "not a valid ONNX model"], dir.path());
    }
}

#[test]
fn input_shape_does_not_fit_the_model() {
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("linear.onnx"),
        "--input",
        fixture!("wide_x.npy"),
        "--out",
        &out,
    ]);
    assert_bad_input(
        &output,
        &["input file", "wide_x.npy", "[1, 24]", "[n, 8]"],
        dir.path(),
    );
}

#[test]
fn background_shape_does_not_fit_the_model() {
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("linear.onnx"),
        "--input",
        fixture!("linear_x.npy"),
        "--background",
        fixture!("wide_x.npy"),
        "--out",
        &out,
    ]);
    assert_bad_input(
        &output,
        &["background file", "wide_x.npy", "[1, 24]", "[n, 8]"],
        dir.path(),
    );
}

#[test]
fn csv_with_wrong_column_count_or_non_number() {
    let inputs = tempdir();
    let short = path_str(&write_file(
        inputs.path(),
        "short_row.csv",
        b"1,2,3,4,5,6,7,8\n1,2,3\n",
    ));
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("linear.onnx"),
        "--input",
        &short,
        "--out",
        &out,
    ]);
    assert_bad_input(
        &output,
        &["short_row.csv", "line 2", "3 values", "8 values"],
        dir.path(),
    );

    // A blank line is still a line: the message must point at line 4 of the file.
    let text = b"a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n\n1,2,3,four,5,6,7,8\n";
    let word = path_str(&write_file(inputs.path(), "word.csv", text));
    let output = explain(&[
        "shap",
        "--model",
        fixture!("linear.onnx"),
        "--input",
        &word,
        "--out",
        &out,
    ]);
    assert_bad_input(
        &output,
        &["word.csv", "line 4", "'four'", "not a number"],
        dir.path(),
    );
}

#[test]
fn float64_npy_input() {
    let inputs = tempdir();
    let values: Vec<f64> = (0..8).map(|i| i as f64 * 0.25).collect();
    let f64_npy = path_str(&write_file(
        inputs.path(),
        "doubles.npy",
        &npy_f64(1, 8, &values),
    ));
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("linear.onnx"),
        "--input",
        &f64_npy,
        "--out",
        &out,
    ]);
    assert_bad_input(&output, &["doubles.npy", "float32"], dir.path());
}

#[test]
fn target_out_of_range() {
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("mlp.onnx"),
        "--input",
        fixture!("mlp_x.npy"),
        "--background",
        fixture!("mlp_bg.npy"),
        "--target",
        "7",
        "--out",
        &out,
    ]);
    assert_bad_input(
        &output,
        &["mlp.onnx", "target 7", "out of range", "[N, 3]"],
        dir.path(),
    );
}

#[test]
fn non_finite_model_output() {
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("nan.onnx"),
        "--input",
        fixture!("nan_x.npy"),
        "--baseline",
        "zero",
        "--out",
        &out,
    ]);
    assert_bad_input(&output, &["nan.onnx", "non-finite"], dir.path());
}

#[test]
fn exact_with_too_many_features() {
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("wide.onnx"),
        "--input",
        fixture!("wide_x.npy"),
        "--method",
        "exact",
        "--out",
        &out,
    ]);
    assert_bad_input(
        &output,
        &["exact", "at most 20 features", "has 24"],
        dir.path(),
    );
}

/// Runs `explain shap` on the linear fixture with `extra` flags and asserts a bad-input exit.
fn assert_linear_shap_rejects(extra: &[&str], expected: &[&str]) {
    let dir = tempdir();
    let out = out_in(dir.path());
    let mut args = vec![
        "shap",
        "--model",
        fixture!("linear.onnx"),
        "--input",
        fixture!("linear_x.npy"),
    ];
    args.extend_from_slice(extra);
    args.extend(["--out", &out]);
    assert_bad_input(&explain(&args), expected, dir.path());
}

#[test]
fn unknown_method() {
    assert_linear_shap_rejects(
        &["--method", "magic"],
        &["magic", "exact", "kernel", "permutation"],
    );
}

#[test]
fn unknown_feature_spec() {
    assert_linear_shap_rejects(
        &["--features", "hexagons:7"],
        &["hexagons:7", "tabular", "map:FILE.json"],
    );
}

#[test]
fn logit_link_on_a_model_that_is_not_a_probability() {
    assert_linear_shap_rejects(
        &["--background", fixture!("linear_bg.npy"), "--link", "logit"],
        &["linear.onnx", "non-finite", "logit"],
    );
}

#[test]
fn out_into_a_missing_directory() {
    let dir = tempdir();
    let missing = dir.path().join("no_such_dir");
    let out = path_str(&missing.join(OUT_NAME));
    let output = explain(&[
        "shap",
        "--model",
        fixture!("linear.onnx"),
        "--input",
        fixture!("linear_x.npy"),
        "--out",
        &out,
    ]);
    assert_bad_input(&output, &["no_such_dir", "does not exist"], dir.path());
    assert!(!missing.exists(), "the missing directory was created");
}

#[test]
fn zero_threads_or_zero_batch_size() {
    for flag in ["--threads", "--batch-size"] {
        assert_linear_shap_rejects(&[flag, "0"], &[flag, "at least 1"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Positive paths.
// ---------------------------------------------------------------------------------------------

#[test]
fn inspect_prints_the_sha256_recorded_in_attributions() {
    let output = explain(&["inspect", fixture!("mlp.onnx")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sha = stdout
        .lines()
        .find_map(|l| l.strip_prefix("sha256"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no sha256 line in:\n{stdout}"));
    assert_eq!(sha.len(), 64, "sha256 {sha:?}");
    assert!(
        sha.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "sha256 {sha:?}"
    );

    let doc = shap_ok(&[
        "--model",
        fixture!("mlp.onnx"),
        "--input",
        fixture!("mlp_x.npy"),
        "--background",
        fixture!("mlp_bg.npy"),
        "--method",
        "exact",
    ]);
    assert_eq!(doc["model"]["sha256"].as_str(), Some(sha));
}

#[test]
fn inspect_json() {
    let output = explain(&["inspect", "--json", fixture!("mlp.onnx")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let info: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("inspect --json prints JSON");
    assert_eq!(info["inputs"][0]["shape"], serde_json::json!(["N", 10]));
}

#[test]
fn shap_quiet_writes_json_and_prints_nothing() {
    let dir = tempdir();
    let out = out_in(dir.path());
    let output = explain(&[
        "shap",
        "--model",
        fixture!("mlp.onnx"),
        "--input",
        fixture!("mlp_x.npy"),
        "--background",
        fixture!("mlp_bg.npy"),
        "--out",
        &out,
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        output.stdout.is_empty(),
        "--quiet printed:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(stderr.is_empty(), "--quiet printed on stderr:\n{stderr}");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("the output file exists"))
            .expect("valid JSON");
    assert_eq!(doc["schema"], "explain.attributions/1");
    assert_eq!(doc["explanations"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        leftovers(dir.path()),
        vec![OUT_NAME.to_owned()],
        "only the output file is written"
    );
}

#[test]
fn fixed_batch_model_matches_symbolic_batch_model() {
    // Exact SHAP: no sampling, so the numbers depend only on the model's function (kernel SHAP
    // seeds its coalitions from the model's SHA-256, which differs between the two files).
    let args = |model: &'static str| {
        [
            "--model",
            model,
            "--input",
            fixture!("linear_x.npy"),
            "--background",
            fixture!("linear_bg.npy"),
            "--method",
            "exact",
            "--batch-size",
            "16",
        ]
    };
    let fixed = shap_ok(&args(fixture!("linear_fixed.onnx")));
    let symbolic = shap_ok(&args(fixture!("linear.onnx")));
    let (fixed, symbolic) = (
        fixed["explanations"].as_array().unwrap(),
        symbolic["explanations"].as_array().unwrap(),
    );
    assert_eq!(fixed.len(), 4);
    assert_eq!(fixed.len(), symbolic.len());
    for (f, s) in fixed.iter().zip(symbolic) {
        for key in ["prediction", "base_value"] {
            assert_eq!(f[key].as_f64().unwrap(), s[key].as_f64().unwrap(), "{key}");
        }
        let values = |e: &serde_json::Value| -> Vec<f64> {
            e["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        assert_eq!(values(f).len(), 8);
        assert_eq!(values(f), values(s));
    }
}
