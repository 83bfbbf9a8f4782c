//! The ONNX Runtime backend (`--backend ort`): it agrees with tract on the sample models, its
//! attributions do not depend on the thread count, and every way of not finding a usable
//! library is a clear error (exit 2). Built only with the `ort` feature and run with the
//! library given by ORT_DYLIB_PATH:
//!
//! ```sh
//! ORT_DYLIB_PATH="$(scripts/install-onnxruntime.sh)" cargo test --features ort -p explain-tests --test ort_backend
//! ```
#![cfg(feature = "ort")]

mod common;

use common::{assert_exit, cli, data, run_ok, sample};
use explain_core::audio::AudioPreprocess;
use explain_core::features::FeatureSpec;
use explain_core::image::{Layout, Preprocess};
use explain_core::inputs::{self, Request};
use explain_core::model::{BackendChoice, Held, Model, ModelOptions};
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

/// Rows to run: each instance, its baseline, and 30 coalitions of its features between the
/// two (pseudo-random, fixed), as the explainers build them.
fn coalition_rows(model: &Model, request: &Request) -> Vec<f32> {
    let prepared = inputs::prepare(model, request).unwrap();
    let len = model.row_len();
    let mut rows = Vec::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for instance in &prepared.instances {
        let base = &instance.baseline.rows[..len];
        let m = instance.features.len();
        rows.extend_from_slice(&instance.x);
        rows.extend_from_slice(base);
        for _ in 0..30 {
            let on: Vec<bool> = (0..m)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state & 1 == 1
                })
                .collect();
            rows.extend(instance.features.ids.iter().enumerate().map(|(j, &f)| {
                if on[f as usize] {
                    instance.x[j]
                } else {
                    base[j]
                }
            }));
        }
    }
    rows
}

/// Runs tract and ONNX Runtime on the same rows in batches of several sizes and returns the
/// largest absolute difference of their outputs.
fn max_difference(model: &Path, options: ModelOptions, request: Request) -> f32 {
    let tract = Model::load(model, &options).unwrap();
    let ort = Model::load(
        model,
        &ModelOptions {
            backend: ort(),
            ..options
        },
    )
    .unwrap();
    assert_eq!((tract.backend_name(), ort.backend_name()), ("tract", "ort"));
    assert!(
        ort.backend_version().starts_with("onnxruntime 1.31"),
        "{}",
        ort.backend_version()
    );
    let rows = coalition_rows(&tract, &request);
    let len = tract.row_len();
    let n = rows.len() / len;
    let mut largest = 0f32;
    for batch in [1, 7, 64] {
        for start in (0..n).step_by(batch) {
            let k = batch.min(n - start);
            let chunk = &rows[start * len..(start + k) * len];
            let a = tract.run(k, chunk).unwrap();
            let b = ort.run(k, chunk).unwrap();
            assert_eq!(a.len(), b.len());
            assert!(a.iter().chain(&b).all(|v| v.is_finite()));
            for (x, y) in a.iter().zip(&b) {
                largest = largest.max((x - y).abs());
            }
        }
    }
    eprintln!("{}: max |tract - ort| = {largest:.3e}", model.display());
    largest
}

fn request(inputs: &[&str], features: &str) -> Request {
    Request {
        inputs: inputs.iter().map(PathBuf::from).collect(),
        features: FeatureSpec::parse(features).unwrap(),
        background: Vec::new(),
        baseline: None,
        image: Preprocess::default(),
        audio: None,
        seed: 0,
        crossfade_ms: 0.0,
    }
}

const TOLERANCE: f32 = 1e-5;

#[test]
fn tract_and_ort_agree_on_the_test_mlp() {
    let d = max_difference(
        &data("mlp.onnx"),
        ModelOptions::default(),
        Request {
            background: vec![data("mlp_bg.npy")],
            ..request(&[data("mlp_x.npy").to_str().unwrap()], "tabular")
        },
    );
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_the_wine_classifier() {
    let d = max_difference(
        sample("tabular/wine_mlp.onnx").as_ref(),
        ModelOptions::default(),
        Request {
            background: vec![sample("tabular/background.csv").into()],
            ..request(&[&sample("tabular/samples.csv")], "tabular")
        },
    );
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_the_camera_model() {
    // NHWC, pixel values (p - 127.5) / 128, as in models-sample/camera/explain.toml.
    let d = max_difference(
        sample("camera/onet.onnx").as_ref(),
        ModelOptions {
            output: Some("softmax_2".into()),
            ..ModelOptions::default()
        },
        Request {
            image: Preprocess {
                layout: Layout::Nhwc,
                scale: 1.0,
                mean: vec![127.5],
                std: vec![128.0],
                ..Preprocess::default()
            },
            ..request(
                &[
                    &sample("camera/inputs/face_000.png"),
                    &sample("camera/inputs/nonface_125.png"),
                ],
                "grid:6x6",
            )
        },
    );
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_the_inspection_model() {
    let d = max_difference(
        sample("inspection/defect_cnn.onnx").as_ref(),
        ModelOptions {
            output: Some("probabilities".into()),
            ..ModelOptions::default()
        },
        Request {
            image: Preprocess {
                channels: explain_core::image::ChannelOrder::Gray,
                ..Preprocess::default()
            },
            ..request(
                &[
                    &sample("inspection/samples/scratch.png"),
                    &sample("inspection/samples/clean_grass.png"),
                ],
                "grid:4x4",
            )
        },
    );
    assert!(d <= TOLERANCE, "{d}");
}

#[test]
fn tract_and_ort_agree_on_silero_vad_with_its_state_held() {
    // A fixed batch axis ([1, 576]): Model::run feeds the backend one row at a time.
    let d = max_difference(
        sample("speech/silero_vad_openvino_16k.onnx").as_ref(),
        ModelOptions {
            output: Some("output".into()),
            held: vec![("state".into(), Held::Zeros)],
            ..ModelOptions::default()
        },
        Request {
            audio: Some(AudioPreprocess {
                sample_rate: 16000,
                channel: None,
                resample: false,
            }),
            ..request(
                &[&sample("speech/samples/speech_en-US_Allison_messages.wav")],
                "segments:8",
            )
        },
    );
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
    // Across backends, with a tolerance; the backend fields are not compared.
    for (recorded, other) in [("tract.json", "ort"), ("ort.json", "tract")] {
        let run = cli(&[
            "verify",
            &file(recorded),
            "--backend",
            other,
            "--tolerance",
            "1e-5",
            "--quiet",
        ]);
        assert_exit(&run, 0, &[]);
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(text.contains("verified"), "{text}");
    }
    // Without the tolerance the last bits differ somewhere.
    let strict = cli(&["verify", &file("tract.json"), "--backend", "ort", "--quiet"]);
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
    let mut c = Command::new(env!("CARGO_BIN_EXE_explain-e2e"));
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
