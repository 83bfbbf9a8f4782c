//! `explain shap|lime` give byte-identical files for any thread count, and differ by seed.

use std::path::Path;
use std::process::Command;

fn data(name: &str) -> String {
    format!("{}/../tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn explain_to(out: &Path, args: &[&str], threads: &str) -> Vec<u8> {
    let status = Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(args)
        .args(["--threads", threads, "--quiet", "--out"])
        .arg(out)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "explain {args:?} --threads {threads} failed"
    );
    std::fs::read(out).unwrap()
}

#[test]
fn one_and_two_threads_write_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (model, x, bg) = (data("mlp.onnx"), data("mlp_x.npy"), data("mlp_bg.npy"));
    let common = [
        "--model",
        &model,
        "--input",
        &x,
        "--background",
        &bg,
        "--batch-size",
        "24",
        "--seed",
        "5",
    ];
    let runs: [&[&str]; 6] = [
        &["shap", "--method", "kernel", "--samples", "500"],
        &["shap", "--samples", "500"], // the default method: leverage
        &[
            "shap",
            "--method",
            "permutation",
            "--samples",
            "auto",
            "--tolerance",
            "0.02",
        ],
        &["shap", "--method", "permutation", "--samples", "500"],
        &["shap", "--method", "exact"],
        &["lime", "--samples", "400", "--num-features", "4"],
    ];
    for cmd in runs {
        let args: Vec<&str> = cmd.iter().chain(common.iter()).copied().collect();
        let one = explain_to(&dir.path().join("one.json"), &args, "1");
        let two = explain_to(&dir.path().join("two.json"), &args, "2");
        assert_eq!(one, two, "{cmd:?}: --threads 1 and --threads 2 differ");
        let doc: serde_json::Value = serde_json::from_slice(&one).unwrap();
        assert_eq!(doc["schema"], "explain.attributions/1");
        assert_eq!(doc["params"]["seed"], 5);
        assert_eq!(doc["explanations"].as_array().unwrap().len(), 3);
        let e = &doc["explanations"][0];
        for key in [
            "input",
            "input_sha256",
            "target",
            "prediction",
            "base_value",
            "feature_names",
            "values",
            "std_errors",
            "model_evals",
        ] {
            assert!(!e[key].is_null(), "{cmd:?}: explanation lacks {key}");
        }
        assert_eq!(doc["model"]["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(doc["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    }
    // A different seed changes sampled attributions.
    let args = [
        "shap",
        "--model",
        &model,
        "--input",
        &x,
        "--background",
        &bg,
        "--samples",
        "300",
    ];
    let a = explain_to(&dir.path().join("a.json"), &args, "2");
    let mut other = args.to_vec();
    other.extend(["--seed", "6"]);
    let b = explain_to(&dir.path().join("b.json"), &other, "2");
    assert_ne!(a, b);
}
