//! One box of a real face detector explained on a whole frame, against raw inference.
//!
//! ```sh
//! cargo run --release -p explain-benches --bin detector -- FRAME.png [BATCH [SAMPLES [BACKEND [decoded]]]]
//! ORT_DYLIB_PATH=… cargo run --release -p explain-benches --features ort --bin detector -- FRAME.png 8 1024 ort decoded
//! ```
//!
//! Loads `models-sample/detector/centerface.onnx` (or `$DETECTOR_MODEL`) at the frame's size (H and W multiples of
//! 32), explains its best detection with Kernel SHAP (`grid:8x8`, blurred baseline, `SAMPLES`
//! coalitions, default 1024) in model calls of `BATCH` rows (default 8), and times, on the
//! same thread pool:
//!
//! * `explain`: the whole explanation (masking, inference, decoding the proposals, the
//!   D-RISE value of each coalition, the regression);
//! * `raw`: the same number of model rows run through the backend in the same batches, in
//!   parallel, reading only the heatmap output and decoding nothing (what inference alone
//!   costs; slightly less work than the detector's three outputs);
//! * `decoded` (only when the fifth argument is `decoded`): the same, reading the three
//!   outputs and decoding them into proposals.
//!
//! It prints one JSON line: the backend, frame size, rows, the times, `overhead = explain /
//! raw` and `overhead_over_decoded = explain / decoded`. The results are in `benches/RESULTS.md` (detector section).

use explain_core::attribution::budget::Budget;
use explain_core::attribution::engine::Link;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::explainer::{self, Settings, Silent, TargetSpec};
use explain_core::input::features::FeatureSpec;
use explain_core::input::image::Preprocess;
use explain_core::input::masker::BaselineSpec;
use explain_core::input::{self, Request};
use explain_core::model::detect::{Decoder, Detector};
use explain_core::model::{BackendChoice, Model, ModelOptions};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() -> explain_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let frame = PathBuf::from(
        args.first()
            .expect("usage: detector FRAME.png [BATCH [SAMPLES [tract|ort [decoded]]]]"),
    );
    let batch: usize = args.get(1).map_or(8, |b| b.parse().expect("BATCH"));
    let samples: usize = args.get(2).map_or(1024, |s| s.parse().expect("SAMPLES"));
    let backend = match args.get(3).map(String::as_str) {
        Some("ort") => BackendChoice::Ort { lib: None },
        _ => BackendChoice::Tract,
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model_path = std::env::var_os("DETECTOR_MODEL").map_or_else(
        || root.join("models-sample/detector/centerface.onnx"),
        PathBuf::from,
    );
    let (w, h) = image_size(&frame);
    let options = ModelOptions {
        axis_sizes: vec![(2, h), (3, w)],
        backend: backend.clone(),
        ..ModelOptions::default()
    };
    let detector = Model::load(
        &model_path,
        &ModelOptions {
            detector: Some(Detector::new(Decoder::CenterFace)),
            ..options.clone()
        },
    )?;
    let raw_model = Model::load(&model_path, &options)?;
    let request = Request {
        inputs: vec![frame.clone()],
        features: FeatureSpec::Grid { rows: 8, cols: 8 },
        background: Vec::new(),
        baseline: Some(BaselineSpec::Blur(8.0)),
        image: Preprocess {
            scale: 1.0,
            ..Preprocess::default()
        },
        audio: None,
        seed: 0,
        crossfade_ms: 0.0,
    };
    let prepared = input::prepare(&detector, &request)?;
    let settings = Settings {
        method: Method::Kernel,
        samples: Budget::Fixed(samples),
        seed: 0,
        target: TargetSpec::Auto,
        link: Link::Identity,
        batch_size: batch,
        features: "grid:8x8".into(),
        lime: None,
        pins: Default::default(),
        reference: None,
    };
    // Warm both plans (tract builds one per batch size).
    let x = &prepared.instances[0].x;
    let len = x.len();
    let rows: Vec<f32> = x.iter().copied().cycle().take(batch * len).collect();
    detector.run(batch, &rows)?;
    raw_model.run(batch, &rows)?;

    let start = Instant::now();
    let doc = explainer::explain(
        &detector,
        &prepared.instances,
        prepared.sources,
        &settings,
        &Silent,
    )?;
    let explain_s = start.elapsed().as_secs_f64();
    eprintln!("explain: {explain_s:.1} s");
    let e = &doc.explanations[0];
    let n_rows = e.model_rows as usize;

    // The same rows in the same batches, in parallel: the heatmap alone, then the detector's
    // three outputs decoded into proposals.
    let time = |model: &Model| -> explain_core::Result<f64> {
        let start = Instant::now();
        (0..n_rows.div_ceil(batch))
            .into_par_iter()
            .map(|c| {
                let n = batch.min(n_rows - c * batch);
                model.run(n, &rows[..n * len]).map(|_| ())
            })
            .collect::<explain_core::Result<Vec<()>>>()?;
        Ok(start.elapsed().as_secs_f64())
    };
    let raw_s = time(&raw_model)?;
    eprintln!("raw: {raw_s:.1} s");
    let decoded_s = if args.get(4).map(String::as_str) == Some("decoded") {
        Some(time(&detector)?)
    } else {
        None
    };
    println!(
        "{}",
        serde_json::json!({
            "backend": backend.name(),
            "frame": format!("{w}x{h}"),
            "threads": rayon::current_num_threads(),
            "batch": batch,
            "samples": samples,
            "model_rows": n_rows,
            "explain_s": explain_s,
            "raw_s": raw_s,
            "decoded_s": decoded_s,
            "ms_per_row_raw": 1e3 * raw_s / n_rows as f64,
            "overhead": explain_s / raw_s,
            "overhead_over_decoded": decoded_s.map(|d| explain_s / d),
            "prediction": e.prediction,
            "target": e.detection.as_ref().map(|d| d.target.bbox),
        })
    );
    Ok(())
}

fn image_size(path: &Path) -> (usize, usize) {
    let img = image::open(path).expect("a readable image");
    (img.width() as usize, img.height() as usize)
}
