//! Every parser of input files, fed damaged and random input: `.npy`, CSV rows, WAV, PNG,
//! manifests, report configs, datasheets, and the JSON that `explain verify` and `explain
//! diff` read. Each must answer with an error (exit 2 in the CLI), never panic or abort.
//!
//! The damage starts from a valid file of each kind (bytes flipped, inserted, the file cut
//! short) and from random bytes, with a fixed number of cases per parser so that the run is
//! bounded (a few seconds); proptest's seed is fixed by its deterministic runner, so the
//! cases are the same on every run.

use explain_core::attribution::explainer::Silent;
use explain_core::input::audio::{self, AudioPreprocess};
use explain_core::input::image::{self, Geometry, Layout, Preprocess};
use explain_core::{
    check::diff, check::verify, input::tensor, report::config, validation::inventory,
    validation::manifest,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A deterministic runner with `cases` cases.
fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

/// A damaged copy of `seed`: some bytes replaced, some inserted, the end cut off.
fn damaged(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = seed.len().max(1);
    (
        prop::collection::vec((0..n, any::<u8>()), 0..8),
        prop::collection::vec((0..n, any::<u8>()), 0..3),
        0..=n,
    )
        .prop_map(move |(replace, insert, keep)| {
            let mut b = seed.clone();
            for (i, v) in replace {
                if i < b.len() {
                    b[i] = v;
                }
            }
            for (i, v) in insert {
                b.insert(i.min(b.len()), v);
            }
            b.truncate(keep.max(b.len().min(keep)));
            b
        })
}

/// Random bytes, or a damaged copy of `seed`.
fn inputs(seed: &Path) -> impl Strategy<Value = Vec<u8>> {
    let bytes = std::fs::read(seed).unwrap();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        damaged(bytes.clone()),
        damaged(bytes),
    ]
}

/// Runs `parse` on each generated file (written with extension `ext`); it may fail, it may
/// not panic.
fn check_file(seed: &Path, ext: &str, cases: u32, parse: impl Fn(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("case.{ext}"));
    runner(cases)
        .run(&inputs(seed), |bytes| {
            std::fs::write(&path, &bytes).unwrap();
            parse(&path);
            Ok(())
        })
        .unwrap();
}

#[test]
fn npy_rows_never_panic() {
    check_file(&fixture("tests/data/mlp_x.npy"), "npy", 1000, |p| {
        let _ = tensor::read_rows(p, &[10], "input");
    });
}

#[test]
fn csv_rows_never_panic() {
    check_file(
        &fixture("models-sample/tabular/samples.csv"),
        "csv",
        1000,
        |p| {
            let _ = tensor::read_rows(p, &[13], "input");
        },
    );
}

#[test]
fn wav_clips_never_panic() {
    let pre = AudioPreprocess {
        sample_rate: 16000,
        channel: None,
        resample: true,
    };
    check_file(&fixture("tests/data/linear_audio.wav"), "wav", 1000, |p| {
        let _ = audio::read_wav(p, &pre);
    });
}

#[test]
fn png_images_never_panic() {
    let geo = Geometry {
        width: 8,
        height: 8,
        channels: 3,
        layout: Layout::Nchw,
    };
    check_file(&fixture("tests/data/linear_image.png"), "png", 1000, |p| {
        let _ = image::load(p, &Preprocess::default(), &geo);
    });
}

#[test]
fn manifests_never_panic() {
    check_file(
        &fixture("models-sample/inspection/manifest.csv"),
        "csv",
        1000,
        |p| {
            if let Ok(m) = manifest::Manifest::read(p) {
                let _ = m.labels(2);
                let _ = m.input_paths();
            }
        },
    );
}

#[test]
fn report_configs_never_panic() {
    check_file(
        &fixture("models-sample/speech/explain.toml"),
        "toml",
        1000,
        |p| {
            if let Ok(text) = std::fs::read_to_string(p) {
                let _ = config::parse(&text, p);
            }
            let _ = config::Loaded::read(p);
        },
    );
}

#[test]
fn datasheets_never_panic() {
    check_file(
        &fixture("models-sample/speech/datasheet.toml"),
        "toml",
        1000,
        |p| {
            let _ = inventory::Datasheet::read(p);
        },
    );
}

#[test]
fn documents_for_verify_and_diff_never_panic() {
    // A real attribution file and report, damaged; verify is only asked to read them (a
    // damaged file fails before any re-run: its schema, its config or a hash).
    let dir = tempfile::tempdir().unwrap();
    let reference = fixture("reports/speech/attributions-exact.json");
    for (seed, cases) in [
        (reference.clone(), 150),
        (fixture("reports/speech/slices.json"), 100),
    ] {
        let path = dir.path().join("case.json");
        runner(cases)
            .run(&inputs(&seed), |bytes| {
                std::fs::write(&path, &bytes).unwrap();
                let _ = diff::diff_files(&reference, &path, &diff::Thresholds::default());
                let _ = diff::diff_files(&path, &path, &diff::Thresholds::default());
                Ok(())
            })
            .unwrap();
    }
    // Report-shaped JSON with damaged values: verify refuses it without re-running.
    let path = dir.path().join("report.json");
    let fields = prop_oneof![
        Just(serde_json::Value::Null),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
        Just(serde_json::json!(["../../etc/passwd", "/dev/zero"])),
        Just(serde_json::json!([{"path": "../outside", "sha256": "00"}])),
    ];
    runner(150)
        .run(&(fields.clone(), fields.clone(), fields), |(a, b, c)| {
            let doc = serde_json::json!({
                "schema": "explain.report/1",
                "reproducibility": {"config": {"path": a, "sha256": b}, "inputs": c.clone(), "artifacts": c}
            });
            std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
            let _ = verify::verify_file(&path, &verify::Options::default(), &Silent);
            Ok(())
        })
        .unwrap();
}
