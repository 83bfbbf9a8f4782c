//! `explain verify` of attribution files from `explain shap|lime`: the recorded recipe re-runs
//! to the same bytes, and a changed model, input or value is caught.

use crate::common;

use common::{assert_exit, cli_in, data};
use serde_json::Value;
use std::path::Path;

fn copy(name: &str, dir: &Path) {
    std::fs::copy(data(name), dir.join(name)).unwrap();
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(path: &Path, v: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn verify(dir: &Path, file: &str) -> std::process::Output {
    cli_in(dir, &["verify", file, "--quiet"])
}

#[test]
fn an_attribution_file_verifies_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in ["mlp.onnx", "mlp_x.npy", "mlp_bg.npy", "linear.onnx"] {
        copy(f, d);
    }
    let made = cli_in(
        d,
        &[
            "shap",
            "--model",
            "mlp.onnx",
            "--input",
            "mlp_x.npy",
            "--background",
            "mlp_bg.npy",
            "--samples",
            "300",
            "--quality",
            "--quality-seeds",
            "1",
            "--quiet",
            "--out",
            "a.json",
            "--plot",
            "plots",
        ],
    );
    assert_exit(&made, 0, &[]);
    // The deletion/insertion figure is drawn beside the bars.
    assert!(d.join("plots/00-mlp_x.npy_0-quality.svg").is_file());
    assert!(d.join("plots/01-mlp_x.npy_1-quality.png").is_file());
    let a = read(&d.join("a.json"));
    assert_eq!(a["recipe"]["samples"], 300);
    assert_eq!(a["recipe"]["quality"]["seeds"], 1);
    assert!(a["explanations"][0]["quality"]["deletion"]["auc"].is_number());

    // Untouched: verified, and the kept re-run is the same file, byte for byte.
    let ok = cli_in(
        d,
        &[
            "verify",
            "a.json",
            "--quiet",
            "--threads",
            "1",
            "--rerun-out",
            "again.json",
        ],
    );
    assert_exit(&ok, 0, &[]);
    let table = String::from_utf8_lossy(&ok.stdout);
    assert!(
        table.contains("explanations") && table.contains("verified"),
        "{table}"
    );
    assert_eq!(
        std::fs::read(d.join("a.json")).unwrap(),
        std::fs::read(d.join("again.json")).unwrap()
    );

    // An edited attribution value, and an edited quality figure.
    let mut t = a.clone();
    t["explanations"][1]["values"][3] =
        (t["explanations"][1]["values"][3].as_f64().unwrap() + 1e-6).into();
    write(&d.join("t1.json"), &t);
    assert_exit(
        &verify(d, "t1.json"),
        1,
        &["does not verify", "explanations[1].values[3]"],
    );
    let mut t = a.clone();
    t["explanations"][0]["quality"]["insertion"]["auc"] = 0.99.into();
    write(&d.join("t2.json"), &t);
    assert_exit(
        &verify(d, "t2.json"),
        1,
        &["explanations[0].quality.insertion.auc"],
    );

    // A changed input file is named, and nothing is re-run.
    let x = std::fs::read(d.join("mlp_x.npy")).unwrap();
    copy("mlp_bg.npy", d);
    std::fs::copy(d.join("mlp_bg.npy"), d.join("mlp_x.npy")).unwrap();
    let changed = verify(d, "a.json");
    assert_exit(&changed, 1, &["mlp_x.npy (input)"]);
    std::fs::write(d.join("mlp_x.npy"), &x).unwrap();
    assert_exit(&verify(d, "a.json"), 0, &[]);

    // A changed model file.
    let model = std::fs::read(d.join("mlp.onnx")).unwrap();
    std::fs::copy(d.join("linear.onnx"), d.join("mlp.onnx")).unwrap();
    assert_exit(&verify(d, "a.json"), 1, &["mlp.onnx (model)"]);
    std::fs::write(d.join("mlp.onnx"), &model).unwrap();

    // Verified from elsewhere, the recorded relative paths do not resolve: named as missing.
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = cli_in(
        elsewhere.path(),
        &["verify", d.join("a.json").to_str().unwrap(), "--quiet"],
    );
    assert_exit(&moved, 1, &["mlp.onnx (model, missing"]);
}

#[test]
fn image_audio_and_held_inputs_are_rerun_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in [
        "mean_image.onnx",
        "linear_image.png",
        "linear_audio.onnx",
        "linear_audio.wav",
    ] {
        copy(f, d);
    }
    let vad = format!("{}/../models-sample/speech", env!("CARGO_MANIFEST_DIR"));
    let runs: Vec<Vec<&str>> = vec![
        // Image size, scale, mean and std, a blurred baseline, LIME's settings.
        vec![
            "lime",
            "--model",
            "mean_image.onnx",
            "--input",
            "linear_image.png",
            "--image-size",
            "6x8",
            "--scale",
            "1",
            "--mean",
            "100",
            "--std",
            "50",
            "--features",
            "grid:2x2",
            "--baseline",
            "blur:1.5",
            "--samples",
            "200",
            "--kernel-width",
            "0.5",
            "--num-features",
            "2",
            "--feature-selection",
            "forward",
            "--seed",
            "3",
        ],
        // Audio with a cross-fade and a noise baseline (seeded).
        vec![
            "shap",
            "--model",
            "linear_audio.onnx",
            "--input",
            "linear_audio.wav",
            "--sample-rate",
            "16000",
            "--crossfade-ms",
            "0.5",
            "--features",
            "segments:4",
            "--baseline",
            "noise:0.01",
            "--method",
            "exact",
        ],
    ];
    for (i, args) in runs.iter().enumerate() {
        let out = format!("r{i}.json");
        let mut full = args.clone();
        full.extend(["--quiet", "--out", &out]);
        assert_exit(&cli_in(d, &full), 0, &[]);
        let doc = read(&d.join(&out));
        assert!(doc["recipe"].is_object(), "{}", doc["recipe"]);
        assert_exit(&verify(d, &out), 0, &[]);
    }
    let doc = read(&d.join("r0.json"));
    assert_eq!(doc["recipe"]["image"]["size"], serde_json::json!([6, 8]));
    assert_eq!(doc["recipe"]["baseline"], "blur:1.5");
    assert_eq!(read(&d.join("r1.json"))["recipe"]["crossfade_ms"], 0.5);
    // Files written before the recipe was typed recorded the specs as given; another
    // spelling of the same spec re-runs to the same numbers and verifies.
    let mut old = read(&d.join("r1.json"));
    assert_eq!(old["recipe"]["baseline"], "noise:0.01");
    old["recipe"]["baseline"] = "noise:1e-2".into();
    write(&d.join("old.json"), &old);
    assert_exit(&verify(d, "old.json"), 0, &[]);
    // A spec that does not parse is bad input, named.
    old["recipe"]["features"] = "hexagons:7".into();
    write(&d.join("old.json"), &old);
    assert_exit(
        &verify(d, "old.json"),
        2,
        &["unknown feature spec 'hexagons:7'"],
    );

    // A held input from a file (Silero VAD's recurrent state) and a reduced output: the
    // file's hash is recorded and checked.
    let state = ndarray::Array3::<f32>::from_elem((2, 1, 128), 0.01);
    ndarray_npy::write_npy(d.join("state.npy"), &state).unwrap();
    let clip = format!("{vad}/samples/speech_en-US_Allison_messages.wav");
    let model = format!("{vad}/silero_vad_openvino_16k.onnx");
    let args = [
        "shap",
        "--model",
        &model,
        "--hold",
        "state=state.npy",
        "--output",
        "output",
        "--reduce",
        "max",
        "--sample-rate",
        "16000",
        "--input",
        &clip,
        "--features",
        "segments:4",
        "--quiet",
        "--out",
        "vad.json",
    ];
    assert_exit(&cli_in(d, &args), 0, &[]);
    let doc = read(&d.join("vad.json"));
    assert_eq!(doc["recipe"]["hold"][0]["name"], "state");
    assert_eq!(doc["recipe"]["hold"][0]["file"]["path"], "state.npy");
    assert_eq!(doc["recipe"]["reduce"], "max");
    assert_exit(&verify(d, "vad.json"), 0, &[]);
    ndarray_npy::write_npy(d.join("state.npy"), &(state * 2.0)).unwrap();
    assert_exit(&verify(d, "vad.json"), 1, &["state.npy (held input)"]);
}

#[test]
fn files_without_a_recipe_are_not_verifiable() {
    let report_file = format!(
        "{}/../reports/inspection/attributions-kernel.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = cli_in(Path::new("."), &["verify", &report_file, "--quiet"]);
    assert_exit(&out, 2, &["records no recipe", "report.json"]);
    let junk = tempfile::tempdir().unwrap();
    let f = junk.path().join("x.json");
    std::fs::write(&f, b"{\"schema\": \"something/1\"}").unwrap();
    assert_exit(
        &cli_in(junk.path(), &["verify", "x.json"]),
        2,
        &["neither a report", "something/1"],
    );
    // --config belongs to reports.
    assert_exit(
        &cli_in(
            Path::new("."),
            &["verify", &report_file, "--config", "explain.toml"],
        ),
        2,
        &["--config applies to reports"],
    );
}

#[test]
fn an_automatic_budget_is_recorded_and_rerun_identically() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in ["mlp.onnx", "mlp_x.npy", "mlp_bg.npy"] {
        copy(f, d);
    }
    for method in ["leverage", "permutation"] {
        let out = format!("{method}.json");
        let made = cli_in(
            d,
            &[
                "shap",
                "--model",
                "mlp.onnx",
                "--input",
                "mlp_x.npy",
                "--background",
                "mlp_bg.npy",
                "--method",
                method,
                "--samples",
                "auto",
                "--tolerance",
                "0.05",
                "--max-samples",
                "3000",
                "--quiet",
                "--out",
                &out,
            ],
        );
        assert_exit(&made, 0, &[]);
        let a = read(&d.join(&out));
        assert_eq!(a["recipe"]["samples"]["auto"]["tolerance"], 0.05);
        assert_eq!(a["recipe"]["samples"]["auto"]["max_samples"], 3000);
        assert_eq!(a["params"]["tolerance"], 0.05);
        assert_eq!(a["params"]["max_samples"], 3000);
        for e in a["explanations"].as_array().unwrap() {
            let auto = &e["auto"];
            assert!(auto["samples"].as_u64().unwrap() >= 160, "{auto}");
            assert!(auto["rounds"].as_u64().unwrap() >= 1, "{auto}");
            let converged = auto["converged"].as_bool().unwrap();
            let ratio = auto["se_ratio"].as_f64().unwrap();
            assert!(converged == (ratio <= 0.05), "{auto}");
            assert!(converged || auto["samples"] == 3000, "{auto}");
        }
        let ok = cli_in(
            d,
            &[
                "verify",
                &out,
                "--quiet",
                "--threads",
                "1",
                "--rerun-out",
                "again.json",
            ],
        );
        assert_exit(&ok, 0, &[]);
        assert_eq!(
            std::fs::read(d.join(&out)).unwrap(),
            std::fs::read(d.join("again.json")).unwrap()
        );
        // A changed budget record is caught.
        let mut t = a.clone();
        t["explanations"][0]["auto"]["samples"] = 12345.into();
        write(&d.join("t.json"), &t);
        assert_exit(&verify(d, "t.json"), 1, &["explanations[0].auto.samples"]);
    }
    // --tolerance without auto, and auto with LIME, are usage errors.
    let bad = cli_in(
        d,
        &[
            "shap",
            "--model",
            "mlp.onnx",
            "--input",
            "mlp_x.npy",
            "--samples",
            "300",
            "--tolerance",
            "0.1",
            "--out",
            "x.json",
        ],
    );
    assert_exit(&bad, 2, &["--samples auto"]);
    let bad = cli_in(
        d,
        &[
            "lime",
            "--model",
            "mlp.onnx",
            "--input",
            "mlp_x.npy",
            "--samples",
            "auto",
            "--out",
            "x.json",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
}
