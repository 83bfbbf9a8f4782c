//! Benches live in `benches/`. This library holds what the benches, the numerics study
//! (`src/bin/numerics.rs`) and the cross-backend tests share: the five sample models with
//! the rows they are probed on.

use explain_core::input::audio::AudioPreprocess;
use explain_core::input::features::FeatureSpec;
use explain_core::input::image::{ChannelOrder, Layout, Preprocess};
use explain_core::input::{self, Request};
use explain_core::model::{Held, Model, ModelOptions};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A sample model, how it is run, and the inputs it is probed on.
#[derive(Debug, Clone)]
pub struct Probe {
    /// A short name (`mlp`, `wine`, `camera`, `inspection`, `speech`).
    pub name: &'static str,
    pub model: PathBuf,
    pub options: ModelOptions,
    pub request: Request,
}

/// The five sample models of the repository at `root`: the test MLP, the wine classifier,
/// the camera O-Net (NHWC, as in its report config), the inspection CNN and Silero VAD with
/// its state held at zeros.
pub fn sample_probes(root: &Path) -> Vec<Probe> {
    let p = |rel: &str| root.join(rel);
    let request = |inputs: Vec<PathBuf>, features: &str| Request {
        inputs,
        features: FeatureSpec::from_str(features).expect("valid spec"),
        background: Vec::new(),
        baseline: None,
        image: Preprocess::default(),
        audio: None,
        seed: 0,
        crossfade_ms: 0.0,
    };
    vec![
        Probe {
            name: "mlp",
            model: p("tests/data/mlp.onnx"),
            options: ModelOptions::default(),
            request: Request {
                background: vec![p("tests/data/mlp_bg.npy")],
                ..request(vec![p("tests/data/mlp_x.npy")], "tabular")
            },
        },
        Probe {
            name: "wine",
            model: p("models-sample/tabular/wine_mlp.onnx"),
            options: ModelOptions::default(),
            request: Request {
                background: vec![p("models-sample/tabular/background.csv")],
                ..request(vec![p("models-sample/tabular/samples.csv")], "tabular")
            },
        },
        Probe {
            name: "camera",
            model: p("models-sample/camera/onet.onnx"),
            options: ModelOptions {
                output: Some("softmax_2".into()),
                ..ModelOptions::default()
            },
            // NHWC, pixel values (p - 127.5) / 128, as in models-sample/camera/explain.toml.
            request: Request {
                image: Preprocess {
                    layout: Layout::Nhwc,
                    scale: 1.0,
                    mean: vec![127.5],
                    std: vec![128.0],
                    ..Preprocess::default()
                },
                ..request(
                    vec![
                        p("models-sample/camera/inputs/face_000.png"),
                        p("models-sample/camera/inputs/nonface_125.png"),
                    ],
                    "grid:6x6",
                )
            },
        },
        Probe {
            name: "inspection",
            model: p("models-sample/inspection/defect_cnn.onnx"),
            options: ModelOptions {
                output: Some("probabilities".into()),
                ..ModelOptions::default()
            },
            request: Request {
                image: Preprocess {
                    channels: ChannelOrder::Gray,
                    ..Preprocess::default()
                },
                ..request(
                    vec![
                        p("models-sample/inspection/samples/scratch.png"),
                        p("models-sample/inspection/samples/clean_grass.png"),
                    ],
                    "grid:4x4",
                )
            },
        },
        Probe {
            name: "speech",
            model: p("models-sample/speech/silero_vad_openvino_16k.onnx"),
            // A fixed batch axis ([1, 576]): Model::run feeds the backend one row at a time.
            options: ModelOptions {
                output: Some("output".into()),
                held: vec![("state".into(), Held::Zeros)],
                ..ModelOptions::default()
            },
            request: Request {
                audio: Some(AudioPreprocess {
                    sample_rate: 16000,
                    channel: None,
                    resample: false,
                }),
                ..request(
                    vec![p(
                        "models-sample/speech/samples/speech_en-US_Allison_messages.wav",
                    )],
                    "segments:8",
                )
            },
        },
    ]
}

/// Rows to run: each instance, its baseline, and 30 coalitions of its features between the
/// two (pseudo-random, fixed), as the explainers build them.
pub fn coalition_rows(model: &Model, request: &Request) -> Vec<f32> {
    let prepared = input::prepare(model, request).expect("sample inputs load");
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

/// The batch sizes rows are run in: the output of a row can change in the last bit with the
/// batch it is in, so every comparison runs several.
pub const BATCHES: [usize; 3] = [1, 7, 64];

/// Runs `rows` through `model` in batches of each of [`BATCHES`] and returns the outputs, one
/// block per batch size.
pub fn run_batched(model: &Model, rows: &[f32]) -> Vec<f32> {
    let len = model.row_len();
    let n = rows.len() / len;
    let mut out = Vec::new();
    for batch in BATCHES {
        for start in (0..n).step_by(batch) {
            let k = batch.min(n - start);
            out.extend(
                model
                    .run(k, &rows[start * len..(start + k) * len])
                    .expect("sample model runs"),
            );
        }
    }
    out
}
