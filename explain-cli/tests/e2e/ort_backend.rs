//! The ONNX Runtime backend (`--backend ort`): it agrees with tract on the sample models, its
//! attributions do not depend on the thread count, and every way of not finding a usable
//! library is a clear error (exit 2). Built only with the `ort` feature and run with the
//! library given by ORT_DYLIB_PATH:
//!
//! ```sh
//! ORT_DYLIB_PATH="$(scripts/install-onnxruntime.sh)" cargo test --features ort -p explain-cli --test e2e ort_backend
//! ```

use crate::common;

use common::{assert_exit, cli, data, run_ok, sample};
use explain_benches::{coalition_rows, run_batched, sample_probes};
use explain_core::model::{BackendChoice, Model, ModelOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The library the tests load (the same one the CLI finds through the environment).
fn library() -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "these tests need ONNX Runtime 1.31.1: run them with \
             ORT_DYLIB_PATH=\"$(scripts/install-onnxruntime.sh)\""
        ),
    }
}

fn ort() -> BackendChoice {
    BackendChoice::Ort {
        lib: Some(library()),
    }
}

/// Runs tract and ONNX Runtime on the same rows in batches of several sizes and returns the
/// largest absolute difference of their outputs.
fn max_difference(probe: &str) -> f32 {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let probe = sample_probes(&root)
        .into_iter()
        .find(|p| p.name == probe)
        .expect("a sample probe");
    let tract = Model::load(&probe.model, &probe.options).unwrap();
    let ort = Model::load(
        &probe.model,
        &ModelOptions {
            backend: ort(),
            ..probe.options.clone()
        },
    )
    .unwrap();
    assert_eq!((tract.backend_name(), ort.backend_name()), ("tract", "ort"));
    assert!(
        ort.backend_version().starts_with("onnxruntime 1.31"),
        "{}",
        ort.backend_version()
    );
    let rows = coalition_rows(&tract, &probe.request);
    let (a, b) = (run_batched(&tract, &rows), run_batched(&ort, &rows));
    assert_eq!(a.len(), b.len());
    assert!(a.iter().chain(&b).all(|v| v.is_finite()));
    let largest = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    eprintln!(
        "{}: max |tract - ort| = {largest:.3e}",
        probe.model.display()
    );
    largest
}

const TOLERANCE: f32 = 1e-5;

#[test]
fn tract_and_ort_agree_on_the_test_mlp() {
    let d = max_difference("mlp");
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_the_wine_classifier() {
    let d = max_difference("wine");
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_the_camera_model() {
    let d = max_difference("camera");
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_the_inspection_model() {
    let d = max_difference("inspection");
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_silero_vad_with_its_state_held() {
    let d = max_difference("speech");
    assert!(d <= TOLERANCE, "{d}");
}

fn values(doc: &serde_json::Value) -> Vec<f64> {
    let mut v = Vec::new();
    for e in doc["explanations"].as_array().unwrap() {
        v.push(e["prediction"].as_f64().unwrap());
        v.push(e["base_value"].as_f64().unwrap());
        v.extend(
            e["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap()),
        );
    }
    v
}

fn assert_close(a: &serde_json::Value, b: &serde_json::Value, tolerance: f64) {
    let (a, b) = (values(a), values(b));
    assert_eq!(a.len(), b.len());
    let d = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(d <= tolerance, "max |tract - ort| = {d}");
}

#[test]
fn cli_attributions_match_tract_and_are_the_same_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library();
    let out = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let wine = |backend: &str, threads: &str, path: &str| {
        run_ok(&[
            "shap",
            "--model",
            &sample("tabular/wine_mlp.onnx"),
            "--input",
            &sample("tabular/samples.csv"),
            "--background",
            &sample("tabular/background.csv"),
            "--link",
            "logit",
            "--samples",
            "300",
            "--backend",
            backend,
            "--threads",
            threads,
            "--batch-size",
            "64",
            "--quiet",
            "--out",
            path,
        ])
    };
    let tract = wine("tract", "2", &out("tract.json"));
    // The library from the environment (ORT_DYLIB_PATH), as a user would run it.
    let ort1 = wine("ort", "1", &out("ort1.json"));
    let ort2 = wine("ort", "2", &out("ort2.json"));
    assert_eq!(ort1["model"]["backend"], "ort");
    assert!(
        ort1["model"]["backend_version"]
            .as_str()
            .unwrap()
            .starts_with("onnxruntime 1.31"),
        "{}",
        ort1["model"]["backend_version"]
    );
    assert_eq!(
        std::fs::read(out("ort1.json")).unwrap(),
        std::fs::read(out("ort2.json")).unwrap(),
        "--threads 1 and 2 must give the same bytes"
    );
    assert_eq!(ort1, ort2);
    assert_close(&tract, &ort1, 1e-5);

    // An image model, with --ort-lib instead of the environment.
    let camera = |extra: &[&str], path: &str| {
        let camera = sample("camera/onet.onnx");
        let face = sample("camera/inputs/face_000.png");
        let mut args = vec![
            "shap",
            "--model",
            &camera,
            "--input",
            &face,
            "--layout",
            "nhwc",
            "--scale",
            "1",
            "--mean",
            "127.5",
            "--std",
            "128",
            "--output",
            "softmax_2",
            "--target",
            "1",
            "--features",
            "grid:3x3",
            "--method",
            "exact",
            "--quiet",
            "--out",
            path,
        ];
        args.extend_from_slice(extra);
        run_ok(&args)
    };
    let tract = camera(&[], &out("camera-tract.json"));
    let ort = camera(
        &["--backend", "ort", "--ort-lib", lib.to_str().unwrap()],
        &out("camera-ort.json"),
    );
    assert_close(&tract, &ort, 1e-5);
}

#[test]
fn verify_re_runs_an_attribution_file_with_either_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let make = |backend: &str, path: &str| {
        run_ok(&[
            "shap",
            "--model",
            &sample("tabular/wine_mlp.onnx"),
            "--input",
            &sample("tabular/samples.csv"),
            "--background",
            &sample("tabular/background.csv"),
            "--samples",
            "200",
            "--backend",
            backend,
            "--quiet",
            "--out",
            path,
        ])
    };
    make("tract", &file("tract.json"));
    make("ort", &file("ort.json"));
    // Recorded with ort, re-run with ort (from ORT_DYLIB_PATH): identical.
    let same = cli(&["verify", &file("ort.json"), "--quiet"]);
    assert_exit(&same, 0, &[]);
    // Across backends: within float32 rounding by default, within a tolerance when given; the
    // backend fields are not compared.
    for (recorded, other) in [("tract.json", "ort"), ("ort.json", "tract")] {
        for extra in [&[][..], &["--tolerance", "1e-5"]] {
            let recorded_file = file(recorded);
            let mut args = vec![
                "verify",
                recorded_file.as_str(),
                "--backend",
                other,
                "--quiet",
            ];
            args.extend(extra);
            let run = cli(&args);
            assert_exit(&run, 0, &[]);
            let text = String::from_utf8_lossy(&run.stdout);
            assert!(text.contains("verified"), "{text}");
            if extra.is_empty() {
                assert!(text.contains("within float32 rounding"), "{text}");
            }
        }
    }
    // Asked for identical numbers, the last bits differ somewhere.
    let strict = cli(&[
        "verify",
        &file("tract.json"),
        "--backend",
        "ort",
        "--tolerance",
        "0",
        "--quiet",
    ]);
    assert_exit(&strict, 1, &["does not verify"]);
    let text = String::from_utf8_lossy(&strict.stdout);
    assert!(!text.contains("backend"), "{text}");
}

/// `explain shap --backend ort` on the wine sample, with `--ort-lib lib` when given.
fn shap_args(lib: Option<&str>, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "shap",
        "--model",
        &sample("tabular/wine_mlp.onnx"),
        "--input",
        &sample("tabular/samples.csv"),
        "--backend",
        "ort",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    if let Some(lib) = lib {
        args.extend(["--ort-lib".to_string(), lib.to_string()]);
    }
    args
}

/// Runs the CLI with ORT_DYLIB_PATH set to `env`, or unset.
fn run_cli(args: &[String], env: Option<&str>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_explain"));
    c.args(args);
    match env {
        Some(v) => c.env("ORT_DYLIB_PATH", v),
        None => c.env_remove("ORT_DYLIB_PATH"),
    };
    c.output().unwrap()
}

#[test]
fn an_unusable_library_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a.json");
    let real = library();
    let real = real.to_str().unwrap();
    // Missing: named, with the way out.
    let missing = "/nonexistent/libonnxruntime.so.1.31.1";
    let run = run_cli(&shap_args(Some(missing), &out), None);
    assert_exit(
        &run,
        2,
        &[
            missing,
            "does not exist",
            "scripts/install-onnxruntime.sh",
            "ORT_DYLIB_PATH",
            "--ort-lib",
        ],
    );
    // The flag wins over the environment.
    let run = run_cli(&shap_args(Some(missing), &out), Some(real));
    assert_exit(&run, 2, &[missing]);
    let run = run_cli(&shap_args(Some(real), &out), Some(missing));
    assert_exit(&run, 0, &[]);
    std::fs::remove_file(&out).unwrap();
    let run = run_cli(&shap_args(None, &out), Some(missing));
    assert_exit(&run, 2, &[missing, "(from ORT_DYLIB_PATH)"]);
    // No library at all.
    let run = run_cli(&shap_args(None, &out), None);
    assert_exit(
        &run,
        2,
        &[
            "neither --ort-lib nor ORT_DYLIB_PATH",
            "scripts/install-onnxruntime.sh",
        ],
    );
    // A file that is not a shared library; a directory.
    let model = sample("tabular/wine_mlp.onnx");
    let run = run_cli(&shap_args(Some(&model), &out), None);
    assert_exit(
        &run,
        2,
        &["cannot load the ONNX Runtime library", "wine_mlp.onnx"],
    );
    let dir = tmp.path().to_str().unwrap().to_string();
    let run = run_cli(&shap_args(Some(&dir), &out), None);
    assert_exit(&run, 2, &["is a directory"]);
    assert!(!out.exists());
}

#[test]
fn another_onnxruntime_version_is_named_with_the_expected_one() {
    // A stand-in library that reports ONNX Runtime 1.22.0 (built with the C compiler that
    // links Rust programs; skipped where there is none).
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("fake.c");
    std::fs::write(
        &src,
        "typedef struct { const void *(*get_api)(unsigned); const char *(*version)(void); } Base;\n\
         static const void *get_api(unsigned v) { (void)v; return 0; }\n\
         static const char *version(void) { return \"1.22.0\"; }\n\
         static const Base base = { get_api, version };\n\
         const Base *OrtGetApiBase(void) { return &base; }\n",
    )
    .unwrap();
    let lib = tmp.path().join("libonnxruntime.so.1.22.0");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status();
    if !built.is_ok_and(|s| s.success()) {
        eprintln!("no C compiler: skipped");
        return;
    }
    let out = tmp.path().join("a.json");
    let run = run_cli(&shap_args(Some(lib.to_str().unwrap()), &out), None);
    assert_exit(
        &run,
        2,
        &[
            "libonnxruntime.so.1.22.0",
            "is version 1.22.0",
            "expected 1.31.1",
            "scripts/install-onnxruntime.sh",
        ],
    );
}

#[test]
fn a_report_config_names_its_library() {
    let tmp = tempfile::tempdir().unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let base = std::fs::read_to_string(data("report/inspection-small.toml")).unwrap();
    let base = base.replace("../../../", &format!("{}/", root.display()));
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        base.replacen(
            "output = \"probabilities\"",
            "output = \"probabilities\"\nbackend = \"ort\"\nort_lib = \"lib/libonnxruntime.so.1.31.1\"",
            1,
        ),
    )
    .unwrap();
    let out = tmp.path().join("r");
    let run = cli(&[
        "report",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    // Relative to the config; the config's library wins over ORT_DYLIB_PATH.
    let expected = tmp.path().join("lib/libonnxruntime.so.1.31.1");
    assert_exit(&run, 2, &[expected.to_str().unwrap(), "does not exist"]);
    assert!(!out.exists());
}
