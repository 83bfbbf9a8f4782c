//! Detectors and recognisers: box-level attributions against closed-form answers, the three
//! output layouts agreeing, thread-count independence, verify, and the errors.
//!
//! `tests/data/det_*.onnx` (made by `tests/data/make_detectors.py`) score two fixed,
//! non-overlapping boxes by a positive linear function of the pixels inside each, so the
//! D-RISE value of a box is exactly its score and its Shapley values with a zero baseline are
//! `w_p · x_p` summed over the pixels of each feature.

use crate::common;

use common::{assert_exit, cli, cli_in, data, run_ok};
use serde_json::Value;

/// Closed-form Shapley values of box `j` (0: [0,0,4,4], 1: [4,4,8,8]) on the 4x4 grid of
/// 2x2-pixel cells.
fn closed_form(j: usize) -> Vec<f64> {
    let weights: Value =
        serde_json::from_slice(&std::fs::read(data("det_weights.json")).unwrap()).unwrap();
    let w: Vec<f64> = weights["w"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let img = image::open(data("det_image.png")).unwrap().to_luma8();
    let mut phi = vec![0f64; 16];
    for y in 0..8usize {
        for x in 0..8usize {
            let inside = if j == 0 {
                x < 4 && y < 4
            } else {
                x >= 4 && y >= 4
            };
            if inside {
                // The model sees pixel / 255 in float32.
                let v = (img.get_pixel(x as u32, y as u32)[0] as f32 * (1.0f32 / 255.0)) as f64;
                phi[(y / 2) * 4 + x / 2] += w[y * 8 + x] * v;
            }
        }
    }
    phi
}

fn shap(model: &str, decoder: &str, extra: &[&str], out: &std::path::Path) -> Value {
    let model = data(model);
    let input = data("det_image.png");
    let mut args = vec![
        "shap",
        "--model",
        model.to_str().unwrap(),
        "--detector",
        decoder,
        "--score-threshold",
        "0.1",
        "--input",
        input.to_str().unwrap(),
        "--channels",
        "gray",
        "--features",
        "grid:4x4",
        "--baseline",
        "zero",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run_ok(&args)
}

fn values(doc: &Value) -> Vec<f64> {
    doc["explanations"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn a_box_is_explained_exactly_and_every_layout_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.json");
    // Box 1 scores higher, so it is detection 0; box 0 is detection 1.
    for (target, j) in [
        (vec![], 1),
        (vec!["--target", "1"], 0),
        (vec!["--target-box", "0,0,4,4"], 0),
    ] {
        let mut extra = vec!["--method", "exact"];
        extra.extend(target.iter());
        let doc = shap("det_boxes.onnx", "boxes", &extra, &out);
        let got = values(&doc);
        let want = closed_form(j);
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "box {j}: {got:?} vs {want:?}");
        }
        let e = &doc["explanations"][0];
        let sum: f64 = got.iter().sum();
        assert!(
            (sum - (e["prediction"].as_f64().unwrap() - e["base_value"].as_f64().unwrap())).abs()
                < 1e-9
        );
        let d = &e["detection"];
        assert_eq!(d["detections"].as_array().unwrap().len(), 2);
        let want_box = if j == 0 {
            [0.0, 0.0, 4.0, 4.0]
        } else {
            [4.0, 4.0, 8.0, 8.0]
        };
        let got_box: Vec<f64> = d["target"]["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got_box, want_box);
        // A given box that a detection matches is that detection.
        assert_eq!(d["index"], if j == 0 { 1 } else { 0 });
    }
    // The YOLO layouts hold the same function (computed by other matrix products, so within
    // float32 rounding).
    let boxes = values(&shap(
        "det_boxes.onnx",
        "boxes",
        &["--method", "kernel", "--samples", "300"],
        &out,
    ));
    for (model, decoder) in [
        ("det_yolo.onnx", "yolo"),
        ("det_yolo_t.onnx", "yolo:transposed"),
    ] {
        let v = values(&shap(
            model,
            decoder,
            &["--method", "kernel", "--samples", "300"],
            &out,
        ));
        for (a, b) in v.iter().zip(&boxes) {
            assert!((a - b).abs() < 1e-7, "{decoder}: {v:?} vs {boxes:?}");
        }
    }
}

#[test]
fn a_missed_box_and_sampled_estimators_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    // A box no detection matches (IoU with box 0 is 0.25): its value is IoU x score.
    let args = [
        "--method",
        "leverage",
        "--samples",
        "200",
        "--target-box",
        "0,0,2,8",
    ];
    let one = shap(
        "det_boxes.onnx",
        "boxes",
        &[&args[..], &["--threads", "1"]].concat(),
        &a,
    );
    shap(
        "det_boxes.onnx",
        "boxes",
        &[&args[..], &["--threads", "2"]].concat(),
        &b,
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let e = &one["explanations"][0];
    assert!(e["detection"].get("index").is_none(), "{e}");
    let iou = 8.0 / (16.0 + 16.0 - 8.0);
    let score0: f64 = closed_form(0).iter().sum();
    assert!((e["prediction"].as_f64().unwrap() - iou * score0).abs() < 1e-6);
    assert_eq!(one["recipe"]["detector"]["decoder"], "boxes");
    assert_eq!(one["params"]["target"], "box:0,0,2,8");
    // verify re-runs the recorded recipe to the same bytes.
    let v = cli(&["verify", a.to_str().unwrap(), "--quiet"]);
    assert_exit(&v, 0, &[]);
}

#[test]
fn detector_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.json");
    let model = data("det_boxes.onnx");
    let input = data("det_image.png");
    let base = [
        "shap",
        "--model",
        model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--channels",
        "gray",
        "--features",
        "grid:4x4",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let run = |extra: &[&str]| cli(&[&base[..], extra].concat());
    assert_exit(
        &run(&["--detector", "boxes"]),
        2,
        &["finds nothing scoring above 0.5", "--target-box"],
    );
    assert_exit(
        &run(&[
            "--detector",
            "boxes",
            "--score-threshold",
            "0.1",
            "--target",
            "2",
        ]),
        2,
        &["target 2 is out of range", "2 detections"],
    );
    assert_exit(
        &run(&["--detector", "centerface"]),
        2,
        &["reads the first 3 outputs", "has 2"],
    );
    assert_exit(&run(&["--detector", "ssd"]), 2, &["centerface, boxes"]);
    assert_exit(
        &run(&["--detector", "boxes", "--target-box", "4,4,1,1"]),
        2,
        &["invalid target box"],
    );
    assert!(!out.exists());
}

/// Exact Shapley values of `v(S) = cos(e(x_S), e(ref))` with `e(x) = x A`, a zero baseline,
/// by enumeration.
fn cosine_game(x: &[f32], reference: &[f32], a: &[Vec<f64>]) -> Vec<f64> {
    let embed = |v: &[f64]| -> Vec<f64> {
        (0..3)
            .map(|k| (0..4).map(|i| v[i] * a[i][k]).sum())
            .collect()
    };
    let r = embed(&reference.iter().map(|v| *v as f64).collect::<Vec<_>>());
    let value = |mask: usize| -> f64 {
        let v: Vec<f64> = (0..4)
            .map(|i| if mask >> i & 1 == 1 { x[i] as f64 } else { 0.0 })
            .collect();
        let e = embed(&v);
        let dot: f64 = e.iter().zip(&r).map(|(p, q)| p * q).sum();
        let (ne, nr) = (
            e.iter().map(|p| p * p).sum::<f64>(),
            r.iter().map(|p| p * p).sum::<f64>(),
        );
        if ne == 0.0 {
            0.0
        } else {
            dot / (ne * nr).sqrt()
        }
    };
    let fact = |n: usize| (1..=n).product::<usize>() as f64;
    (0..4)
        .map(|i| {
            (0..16usize)
                .filter(|s| s >> i & 1 == 0)
                .map(|s| {
                    let k = s.count_ones() as usize;
                    fact(k) * fact(3 - k) / fact(4) * (value(s | 1 << i) - value(s))
                })
                .sum()
        })
        .collect()
}

#[test]
fn a_recogniser_explains_the_similarity_to_its_reference() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["embed.onnx", "embed_x.npy", "embed_ref.npy"] {
        std::fs::copy(data(f), dir.path().join(f)).unwrap();
    }
    let made = cli_in(
        dir.path(),
        &[
            "shap",
            "--model",
            "embed.onnx",
            "--input",
            "embed_x.npy",
            "--reference",
            "embed_ref.npy",
            "--method",
            "exact",
            "--baseline",
            "zero",
            "--out",
            "r.json",
            "--quiet",
        ],
    );
    assert_exit(&made, 0, &[]);
    let doc: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    let a: Value = serde_json::from_slice(&std::fs::read(data("embed.json")).unwrap()).unwrap();
    let a: Vec<Vec<f64>> = a["a"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let xs: ndarray::Array2<f32> = ndarray_npy::read_npy(data("embed_x.npy")).unwrap();
    let r: ndarray::Array2<f32> = ndarray_npy::read_npy(data("embed_ref.npy")).unwrap();
    for (row, e) in doc["explanations"].as_array().unwrap().iter().enumerate() {
        let want = cosine_game(
            xs.row(row).as_slice().unwrap(),
            r.row(0).as_slice().unwrap(),
            &a,
        );
        let got: Vec<f64> = e["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        for (g, w) in got.iter().zip(&want) {
            // The model computes in float32.
            assert!((g - w).abs() < 1e-5, "row {row}: {got:?} vs {want:?}");
        }
    }
    assert_eq!(doc["recipe"]["reference"]["path"], "embed_ref.npy");
    assert_exit(
        &cli_in(dir.path(), &["verify", "r.json", "--quiet"]),
        0,
        &[],
    );
    // A changed reference is caught.
    std::fs::copy(data("embed_x.npy"), dir.path().join("embed_ref.npy")).unwrap();
    assert_exit(
        &cli_in(dir.path(), &["verify", "r.json", "--quiet"]),
        2,
        &["reference embed_ref.npy has SHA-256"],
    );
}
