//! Choosing the inference backend (`--backend`, `--ort-lib`, a config's `[model] backend` and
//! `ort_lib`): mistakes are usage errors (exit 2) that say what to do. In a build without the
//! `ort` feature, asking for ONNX Runtime says how to get it. (The backend itself is tested in
//! ort_backend.rs, with the feature.)

use crate::common;

use common::{assert_exit, cli, data, sample};
use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

/// The small inspection report config with `from` replaced by `to`, written into `dir`.
fn config_with(dir: &Path, from: &str, to: &str) -> PathBuf {
    let base = std::fs::read_to_string(data("report/inspection-small.toml")).unwrap();
    let base = base.replace("../../../", &format!("{}/", repo("").display()));
    assert!(base.contains(from), "{from}");
    let path = dir.join("config.toml");
    std::fs::write(&path, base.replacen(from, to, 1)).unwrap();
    path
}

fn report(config: &Path, out: &Path) -> std::process::Output {
    cli(&[
        "report",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
}

fn shap(extra: &[&str], out: &Path) -> std::process::Output {
    let model = sample("tabular/wine_mlp.onnx");
    let input = sample("tabular/samples.csv");
    let mut args = vec![
        "shap",
        "--model",
        &model,
        "--input",
        &input,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cli(&args)
}

#[test]
fn backend_mistakes_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a.json");
    let run = shap(&["--ort-lib", "/x/libonnxruntime.so.1.31.1"], &out);
    assert_exit(
        &run,
        2,
        &["applies to the ort backend only", "--backend ort"],
    );
    let run = shap(&["--backend", "onnx"], &out);
    assert_exit(&run, 2, &["onnx"]);
    // verify: --ort-lib goes with --backend.
    let run = cli(&["verify", "x.json", "--ort-lib", "/x/libonnxruntime.so"]);
    assert_exit(&run, 2, &["--backend"]);
    assert!(!out.exists());

    let r = tmp.path().join("r");
    let config = config_with(
        tmp.path(),
        "output = \"probabilities\"",
        "output = \"probabilities\"\nbackend = \"onnx\"",
    );
    assert_exit(
        &report(&config, &r),
        2,
        &["[model] backend", "line 8", "unknown backend 'onnx'"],
    );
    let config = config_with(
        tmp.path(),
        "output = \"probabilities\"",
        "output = \"probabilities\"\nort_lib = \"libonnxruntime.so.1.31.1\"",
    );
    assert_exit(
        &report(&config, &r),
        2,
        &["[model] ort_lib", "line 8", "backend = \"ort\" only"],
    );
    assert!(!r.exists());
}

#[cfg(not(feature = "ort"))]
#[test]
fn ort_without_the_feature_says_how_to_rebuild() {
    const REBUILD: &str = "this explain was built without ONNX Runtime support: rebuild with \
                           `--features ort`";
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a.json");
    let run = shap(&["--backend", "ort"], &out);
    assert_exit(&run, 2, &[REBUILD]);
    let run = shap(
        &[
            "--backend",
            "ort",
            "--ort-lib",
            "/x/libonnxruntime.so.1.31.1",
        ],
        &out,
    );
    assert_exit(&run, 2, &[REBUILD]);
    assert!(!out.exists());
    // verify --backend ort.
    let made = shap(&["--samples", "64"], &out);
    assert_exit(&made, 0, &[]);
    let run = cli(&[
        "verify",
        out.to_str().unwrap(),
        "--backend",
        "ort",
        "--tolerance",
        "1e-5",
    ]);
    assert_exit(&run, 2, &[REBUILD]);
    // A config's [model] backend = "ort".
    let r = tmp.path().join("r");
    let config = config_with(
        tmp.path(),
        "output = \"probabilities\"",
        "output = \"probabilities\"\nbackend = \"ort\"",
    );
    assert_exit(&report(&config, &r), 2, &["[model] backend", REBUILD]);
    assert!(!r.exists());
}
