//! `explain diff` from the command line: identical explanations pass, a different model's
//! explanations of the same inputs fail (exit 1) with a readable table and JSON.

use crate::common;

use common::{assert_exit, cli, data, run_ok};

fn explain(model: &str, out: &std::path::Path, extra: &[&str]) {
    let mut args = vec![
        "shap",
        "--model",
        model,
        "--input",
        data("linear_image.png")
            .to_str()
            .unwrap()
            .to_string()
            .leak(),
        "--features",
        "grid:4x3",
        "--baseline",
        "zero",
        "--method",
        "exact",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    run_ok(&args);
}

#[test]
fn diff_passes_on_identical_explanations_and_fails_on_another_model() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    let linear = data("linear_image.onnx");
    explain(linear.to_str().unwrap(), &a, &[]);
    explain(linear.to_str().unwrap(), &b, &["--threads", "1"]);
    let same = cli(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_exit(&same, 0, &[]);
    let table = String::from_utf8_lossy(&same.stdout);
    assert!(table.contains("PASS"), "{table}");
    // "Retrained": the mean of the image instead of a weighted sum, same input.
    let mean = data("mean_image.onnx");
    explain(mean.to_str().unwrap(), &c, &["--image-size", "6x8"]);
    let drift = cli(&["diff", a.to_str().unwrap(), c.to_str().unwrap()]);
    assert_exit(&drift, 1, &["explanations drifted", "Spearman"]);
    assert!(String::from_utf8_lossy(&drift.stdout).contains("REGRESSION"));
    let json = cli(&["diff", a.to_str().unwrap(), c.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(!doc["regressions"].as_array().unwrap().is_empty());
    assert_eq!(doc["model_changed"], true);
    // Loose enough thresholds accept it; a report against an attribution file is bad input.
    let loose = cli(&[
        "diff",
        a.to_str().unwrap(),
        c.to_str().unwrap(),
        "--min-spearman",
        "-1",
        "--min-jaccard",
        "0",
    ]);
    assert_exit(&loose, 0, &[]);
    let report = format!(
        "{}/../reports/inspection/report.json",
        env!("CARGO_MANIFEST_DIR")
    );
    assert_exit(
        &cli(&["diff", a.to_str().unwrap(), &report]),
        2,
        &["explain.attributions/1", "explain.report/1"],
    );
}

#[test]
fn threshold_flags_and_files_are_held_to_one_set_of_bounds() {
    let report = format!(
        "{}/../reports/inspection/report.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", report.as_str(), report.as_str()];
        args.extend(extra);
        cli(&args)
    };
    for (flag, value, message) in [
        (
            "--min-spearman",
            "-1.5",
            "--min-spearman must lie in [-1, 1], got -1.5",
        ),
        (
            "--min-jaccard",
            "2",
            "--min-jaccard must lie in [0, 1], got 2",
        ),
        ("--k", "0", "--k must be at least 1"),
        (
            "--max-metric-change",
            "1.5",
            "--max-metric-change must lie in [0, 1], got 1.5",
        ),
    ] {
        assert_exit(&diff(&[flag, value]), 2, &[message]);
    }
    // The file is held to the same bounds, in its own words.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stability.toml");
    std::fs::write(&file, "[stability]\nmax_metric_change = 1.5\n").unwrap();
    assert_exit(
        &diff(&["--thresholds", file.to_str().unwrap()]),
        2,
        &["line 2: [stability] max_metric_change: must be between 0 and 1 (got 1.5)"],
    );
    // A flag replaces the file's value and is checked as a flag.
    std::fs::write(&file, "[stability]\nmax_metric_change = 0.1\n").unwrap();
    assert_exit(
        &diff(&[
            "--thresholds",
            file.to_str().unwrap(),
            "--max-metric-change",
            "0.2",
        ]),
        0,
        &[],
    );
}
