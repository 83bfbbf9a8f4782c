//! Images and audio: closed-form attributions for models linear in pixels / samples, the
//! sample models end to end, and bad media input.

use explain_core::attribution::engine::Link;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::explainer::{self, Attributions, Settings, Silent, TargetSpec};
use explain_core::input::audio::AudioPreprocess;
use explain_core::input::features::FeatureSpec;
use explain_core::input::image::Preprocess;
use explain_core::input::masker::BaselineSpec;
use explain_core::input::{self, Request};
use explain_core::model::{Model, ModelOptions};

use crate::common;

use common::{assert_exit, cli as explain_cli, data, run_ok, sample};

fn floats(file: &str, key: &str) -> Vec<f64> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data(file)).unwrap()).unwrap();
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn request(input: &str, features: FeatureSpec, baseline: Option<BaselineSpec>) -> Request {
    Request {
        inputs: vec![data(input)],
        features,
        background: vec![],
        baseline,
        image: Preprocess::default(),
        audio: Some(AudioPreprocess {
            sample_rate: 16000,
            channel: None,
            resample: false,
        }),
        seed: 0,
        crossfade_ms: 0.0,
    }
}

fn settings(method: Method) -> Settings {
    Settings {
        method,
        samples: Some(500).into(),
        seed: 0,
        target: TargetSpec::Index(0),
        link: Link::Identity,
        batch_size: 64,
        features: String::new(),
        lime: None,
        pins: Default::default(),
        reference: None,
    }
}

fn explain(model: &Model, req: &Request, method: Method) -> (Attributions, input::Prepared) {
    let prepared = input::prepare(model, req).unwrap();
    let doc = explainer::explain(
        model,
        &prepared.instances,
        prepared.sources.clone(),
        &settings(method),
        &Silent,
    )
    .unwrap();
    (doc, prepared)
}

#[test]
fn image_grid_attributions_of_a_pixel_linear_model_are_the_cell_sums() {
    // y = Σ w·x over a [3, 8, 6] NCHW tensor; with a zero baseline a cell's Shapley value is
    // Σ over its pixels and channels of w·x.
    let model = Model::load(&data("linear_image.onnx"), &ModelOptions::default()).unwrap();
    let w = floats("linear_image.json", "w_nchw");
    let req = request(
        "linear_image.png",
        FeatureSpec::Grid { rows: 2, cols: 3 },
        Some(BaselineSpec::Zero),
    );
    for method in [Method::Exact, Method::Kernel, Method::Permutation] {
        let (doc, prepared) = explain(&model, &req, method);
        let x = &prepared.instances[0].x;
        let mut expected = [0f64; 6];
        for ch in 0..3 {
            for y in 0..8 {
                for col in 0..6 {
                    let j = ch * 48 + y * 6 + col;
                    expected[(y / 4) * 3 + col / 2] += w[j] * x[j] as f64;
                }
            }
        }
        let e = &doc.explanations[0];
        assert_eq!(e.feature_names[4], "cell r1 c1");
        for (got, want) in e.values.iter().zip(expected) {
            assert!((got - want).abs() < 1e-5, "{method:?}: {got} vs {want}");
        }
    }
    // Pixels really are value × (1/255), channel-planar: the top-left red and green values.
    let (_, prepared) = explain(&model, &req, Method::Exact);
    let png = image::open(data("linear_image.png")).unwrap().to_rgb8();
    let x = &prepared.instances[0].x;
    assert!((x[0] - png.get_pixel(0, 0)[0] as f32 / 255.0).abs() < 1e-7);
    assert!((x[48] - png.get_pixel(0, 0)[1] as f32 / 255.0).abs() < 1e-7);
}

#[test]
fn slic_superpixels_satisfy_efficiency_on_an_image() {
    let model = Model::load(&data("linear_image.onnx"), &ModelOptions::default()).unwrap();
    let req = request(
        "linear_image.png",
        FeatureSpec::Slic {
            n: 6,
            compactness: 10.0,
        },
        Some(BaselineSpec::Blur(1.0)),
    );
    let (doc, _) = explain(&model, &req, Method::Exact);
    let e = &doc.explanations[0];
    assert!(e.values.len() >= 2);
    let sum: f64 = e.values.iter().sum();
    assert!((sum - (e.prediction - e.base_value)).abs() < 1e-9);
    assert_eq!(doc.params.baseline, "blur sigma 1");
    assert_eq!(doc.preprocessing.as_ref().unwrap()["kind"], "image");
}

#[test]
fn audio_segment_attributions_of_a_sample_linear_model_are_the_segment_sums() {
    let model = Model::load(&data("linear_audio.onnx"), &ModelOptions::default()).unwrap();
    let w = floats("linear_audio.json", "w");
    let req = request("linear_audio.wav", FeatureSpec::Segments(4), None);
    let (doc, prepared) = explain(&model, &req, Method::Exact);
    let x = &prepared.instances[0].x;
    let e = &doc.explanations[0];
    for (k, got) in e.values.iter().enumerate() {
        let want: f64 = (k * 16..(k + 1) * 16).map(|j| w[j] * x[j] as f64).sum();
        assert!((got - want).abs() < 1e-6, "segment {k}: {got} vs {want}");
    }
    assert_eq!(doc.params.baseline, "silence");
    // 16-bit PCM is read as value / 32768.
    let first = hound_first_sample(&data("linear_audio.wav"));
    assert_eq!(x[0], first as f32 / 32768.0);
    // With a cross-fade, boundaries blend: still efficient, and each segment's value is
    // Σ_j w_j x_j ∂α_j/∂segment — the crossfaded weights, here computed from the fade ramps.
    let mut faded = request("linear_audio.wav", FeatureSpec::Segments(4), None);
    faded.crossfade_ms = 0.5; // 8 samples at 16 kHz: ±4 around each boundary
    let (doc2, _) = explain(&model, &faded, Method::Exact);
    let e2 = &doc2.explanations[0];
    let sum: f64 = e2.values.iter().sum();
    assert!((sum - (e2.prediction - e2.base_value)).abs() < 1e-6);
    assert!(
        (e2.prediction - e.prediction).abs() < 1e-6,
        "all segments on is the row itself"
    );
    // The game stays linear, so φ_k = Σ_j w_j x_j · (share of segment k in element j's window).
    for k in 0..4 {
        let want: f64 = (0..64)
            .map(|j: usize| {
                let (a, b) = (j.saturating_sub(4), (j + 5).min(64));
                let share = (a..b).filter(|i| i / 16 == k).count() as f64 / (b - a) as f64;
                w[j] * x[j] as f64 * share
            })
            .sum();
        assert!(
            (e2.values[k] - want).abs() < 1e-5,
            "crossfaded segment {k}: {} vs {want}",
            e2.values[k]
        );
    }
    assert_ne!(e.values, e2.values);
    // A longer clip is cut into consecutive windows, each explained.
    let long = request("linear_audio_long.wav", FeatureSpec::Segments(4), None);
    let (doc, _) = explain(&model, &long, Method::Exact);
    let names: Vec<&str> = doc
        .explanations
        .iter()
        .map(|e| e.input.rsplit('@').next().unwrap())
        .collect();
    assert_eq!(names, ["0.000s", "0.004s", "0.008s"]);
}

fn hound_first_sample(path: &std::path::Path) -> i16 {
    let bytes = std::fs::read(path).unwrap();
    i16::from_le_bytes([bytes[44], bytes[45]])
}

#[test]
fn bad_media_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let out = out.to_str().unwrap();
    let bad_png = dir.path().join("broken.png");
    std::fs::write(&bad_png, b"not a png at all").unwrap();
    let (img_model, aud_model) = (data("linear_image.onnx"), data("linear_audio.onnx"));
    let (img_model, aud_model) = (img_model.to_str().unwrap(), aud_model.to_str().unwrap());
    // Every audio case: the sample-linear model, one clip, 4 segments at 16 kHz, plus extras.
    let audio = |clip: &str, extra: &[&str]| -> Vec<String> {
        let mut args = vec!["--model", aud_model, "--input"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        args.push(data(clip).display().to_string());
        args.extend(["--features", "segments:4", "--sample-rate", "16000"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let broken = vec![
        "--model",
        img_model,
        "--input",
        bad_png.to_str().unwrap(),
        "--features",
        "grid:2x2",
    ];
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            broken.into_iter().map(String::from).collect(),
            vec!["broken.png", "cannot be decoded"],
        ),
        (
            audio("linear_audio_8k.wav", &[]),
            vec!["linear_audio_8k.wav", "8000 Hz", "16000 Hz", "--resample"],
        ),
        (
            audio("linear_audio_short.wav", &[]),
            vec![
                "linear_audio_short.wav",
                "too short",
                "40 samples",
                "64 samples",
            ],
        ),
        (
            audio("linear_audio.wav", &["--hold", "state=zeros"]),
            vec!["state", "linear_audio.onnx", "'x'"],
        ),
        (
            audio("linear_audio.wav", &["--output", "logits"]),
            vec!["no output named 'logits'", "'y' [N, 1]"],
        ),
    ];
    for (args, expect) in cases {
        let mut full: Vec<&str> = vec!["shap", "--out", out];
        full.extend(args.iter().map(String::as_str));
        assert_exit(&explain_cli(&full), 2, &expect);
        assert!(
            std::fs::read_dir(dir.path())
                .unwrap()
                .all(|e| e.unwrap().file_name() == "broken.png"),
            "{args:?} left a file"
        );
    }
    // --resample makes the 8 kHz clip usable (64 samples at 8 kHz are 128 at 16 kHz: 2 windows).
    let ok = explain_cli(&[
        "shap",
        "--model",
        aud_model,
        "--input",
        data("linear_audio_8k.wav").to_str().unwrap(),
        "--features",
        "segments:4",
        "--sample-rate",
        "16000",
        "--resample",
        "--quiet",
        "--out",
        out,
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn camera_face_model_explains_a_face_with_plots() {
    // MTCNN O-Net (models-sample/camera): the face probability of a face is explained by
    // central cells (eyes, nose) rather than the border.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cam.json");
    let plots = dir.path().join("plots");
    let face = sample("camera/inputs/face_000.png");
    let args = [
        "shap",
        "--model",
        &sample("camera/onet.onnx"),
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
        "grid:4x4",
        "--samples",
        "300",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--plot",
        plots.to_str().unwrap(),
    ];
    let run = explain_cli(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let e = &doc["explanations"][0];
    assert!(
        e["prediction"].as_f64().unwrap() > 0.99,
        "a face: {}",
        e["prediction"]
    );
    let values: Vec<f64> = e["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let top = (0..16)
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap();
    let (r, c) = (top / 4, top % 4);
    assert!(
        (1..=2).contains(&r) && (1..=2).contains(&c),
        "top cell r{r} c{c} is on the border: {values:?}"
    );
    for f in [
        "00-face_000.png-bars.png",
        "00-face_000.png-bars.svg",
        "00-face_000.png-overlay.png",
        "00-face_000.png-overlay.svg",
    ] {
        assert!(plots.join(f).exists(), "{f} missing");
    }
}

fn values_of(e: &serde_json::Value) -> Vec<f64> {
    e["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn speech_vad_explains_speech_by_its_loud_segments() {
    // Silero VAD (models-sample/speech), state held at zeros: on a speech window the segments
    // that carry the most energy carry the most evidence for speech; silence is not speech.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("vad.json");
    let speech = sample("speech/samples/speech_en-US_Allison_messages.wav");
    let silence = sample("speech/samples/silence_en-US.wav");
    for cmd in ["shap", "lime"] {
        let doc = run_ok(&[
            cmd,
            "--model",
            &sample("speech/silero_vad_openvino_16k.onnx"),
            "--hold",
            "state=zeros",
            "--output",
            "output",
            "--sample-rate",
            "16000",
            "--input",
            &speech,
            &silence,
            "--features",
            "segments:8",
            "--samples",
            "400",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        let (e, s) = (&doc["explanations"][0], &doc["explanations"][1]);
        assert!(
            e["prediction"].as_f64().unwrap() > 0.5,
            "{cmd}: speech scored {}",
            e["prediction"]
        );
        assert!(
            s["prediction"].as_f64().unwrap() < 0.1,
            "{cmd}: silence scored {}",
            s["prediction"]
        );
        let values = values_of(e);
        let samples = wav_samples(&sample("speech/samples/speech_en-US_Allison_messages.wav"));
        let energy: Vec<f64> = samples
            .chunks(72)
            .map(|c| c.iter().map(|v| v * v).sum())
            .collect();
        let top = (0..8)
            .max_by(|&a, &b| values[a].total_cmp(&values[b]))
            .unwrap();
        let mut sorted = energy.clone();
        sorted.sort_by(f64::total_cmp);
        assert!(
            energy[top] >= sorted[3],
            "{cmd}: top segment {top} is among the quietest: {values:?} energy {energy:?}"
        );
    }
}

fn wav_samples(path: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) as f64 / 32768.0)
        .collect()
}

#[test]
fn inspection_model_points_at_the_defect() {
    // The defect classifier (models-sample/inspection): for each generated defect sample the
    // grid cell holding most of the defect ranks in the top 3 attributions.
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample("inspection/samples.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("insp.json");
    let cells = 4;
    for s in meta["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["label"] == 1)
    {
        let input = sample(&format!("inspection/{}", s["input"].as_str().unwrap()));
        let doc = run_ok(&[
            "shap",
            "--model",
            &sample("inspection/defect_cnn.onnx"),
            "--input",
            &input,
            "--channels",
            "gray",
            "--target",
            "1",
            "--features",
            &format!("grid:{cells}x{cells}"),
            "--baseline",
            "blur:4",
            "--samples",
            "400",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        let values = values_of(&doc["explanations"][0]);
        let b: Vec<usize> = s["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        // The cell with the largest overlap with the defect's bounding box.
        let size = 64 / cells;
        let overlap = |cell: usize| {
            let (r, c) = (cell / cells, cell % cells);
            let w = (b[2].min((c + 1) * size)).saturating_sub(b[0].max(c * size));
            let h = (b[3].min((r + 1) * size)).saturating_sub(b[1].max(r * size));
            w * h
        };
        let defect_cell = (0..cells * cells).max_by_key(|&c| overlap(c)).unwrap();
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let rank = order.iter().position(|&c| c == defect_cell).unwrap();
        assert!(
            rank < 3,
            "{}: defect cell {defect_cell} ranks {rank}: {values:?}",
            s["input"]
        );
    }
}

#[test]
fn spectro_patches_of_a_linear_model_are_the_patch_sums() {
    // spectro:TxF patches the last two axes ([8, 6] here) and shares them over leading axes.
    let dir = tempfile::tempdir().unwrap();
    let model = Model::load(&data("linear_image.onnx"), &ModelOptions::default()).unwrap();
    let w = floats("linear_image.json", "w_nchw");
    let x: Vec<f32> = (0..144)
        .map(|j| ((j * 37) % 11) as f32 / 10.0 - 0.5)
        .collect();
    let npy = dir.path().join("spec.npy");
    ndarray_npy::write_npy(
        &npy,
        &ndarray::Array::from_shape_vec((1, 3, 8, 6), x.clone()).unwrap(),
    )
    .unwrap();
    let mut req = request(
        "linear_image.png",
        FeatureSpec::Spectro { t: 2, f: 3 },
        Some(BaselineSpec::Zero),
    );
    req.inputs = vec![npy];
    let (doc, prepared) = explain(&model, &req, Method::Exact);
    let e = &doc.explanations[0];
    let mut expected = [0f64; 6];
    for j in 0..144 {
        let (r, c) = ((j % 48) / 6, j % 6);
        expected[(r / 4) * 3 + c / 2] += w[j] * x[j] as f64;
    }
    for (got, want) in e.values.iter().zip(expected) {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
    assert!(matches!(
        prepared.views[0],
        input::View::Grid {
            rows: 8,
            cols: 6,
            ..
        }
    ));
}

#[test]
fn reduce_explains_the_max_or_mean_of_an_output_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let (model, x) = (data("mlp.onnx"), data("mlp_x.npy"));
    let probs = Model::load(&model, &ModelOptions::default()).unwrap();
    let rows = explain_core::input::tensor::read_rows(&x, &probs.row_shape, "input").unwrap();
    let p = probs.run(1, rows.row(0)).unwrap();
    for (reduce, want) in [
        ("max", p.iter().copied().fold(f32::MIN, f32::max) as f64),
        ("mean", 1.0 / 3.0),
    ] {
        let doc = run_ok(&[
            "shap",
            "--model",
            model.to_str().unwrap(),
            "--input",
            x.to_str().unwrap(),
            "--reduce",
            reduce,
            "--background",
            data("mlp_bg.npy").to_str().unwrap(),
            "--method",
            "exact",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        let e = &doc["explanations"][0];
        assert_eq!(e["target"], 0);
        assert!(
            (e["prediction"].as_f64().unwrap() - want).abs() < 1e-6,
            "{reduce}: {}",
            e["prediction"]
        );
        let sum: f64 = values_of(e).iter().sum();
        assert!(
            (sum - (e["prediction"].as_f64().unwrap() - e["base_value"].as_f64().unwrap())).abs()
                < 1e-9
        );
    }
}

#[test]
fn float_stereo_wav_channel_and_background_clips() {
    // A 32-bit float stereo clip: --channel 1 reads the right channel. With a background clip
    // b, a sample-linear model's segment values are Σ w_j (x_j − b_j).
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("stereo.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    let right: Vec<f32> = (0..64)
        .map(|j| ((j * 13) % 7) as f32 / 10.0 - 0.3)
        .collect();
    for r in &right {
        writer.write_sample(0.9f32).unwrap();
        writer.write_sample(*r).unwrap();
    }
    writer.finalize().unwrap();
    let model = Model::load(&data("linear_audio.onnx"), &ModelOptions::default()).unwrap();
    let w = floats("linear_audio.json", "w");
    let mut req = request("linear_audio.wav", FeatureSpec::Segments(4), None);
    req.inputs = vec![wav];
    req.audio.as_mut().unwrap().channel = Some(1);
    req.background = vec![data("linear_audio_long.wav")];
    let (doc, prepared) = explain(&model, &req, Method::Exact);
    assert_eq!(prepared.instances[0].x, right);
    let b = wav_samples(data("linear_audio_long.wav").to_str().unwrap());
    for (k, got) in doc.explanations[0].values.iter().enumerate() {
        let want: f64 = (k * 16..(k + 1) * 16)
            .map(|j| w[j] * (right[j] as f64 - b[j]))
            .sum();
        assert!((got - want).abs() < 1e-5, "segment {k}: {got} vs {want}");
    }
    assert_eq!(doc.params.baseline, "background (1 clips)");
    req.audio.as_mut().unwrap().channel = Some(2);
    let err = input::prepare(&model, &req).err().unwrap().to_string();
    assert!(
        err.contains("stereo.wav") && err.contains("2 channels"),
        "{err}"
    );
}

#[test]
fn default_features_follow_the_input_kind_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.json");
    let doc = run_ok(&[
        "shap",
        "--model",
        data("linear_audio.onnx").to_str().unwrap(),
        "--input",
        data("linear_audio.wav").to_str().unwrap(),
        "--sample-rate",
        "16000",
        "--method",
        "exact",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(doc["params"]["features"], "segments:10");
    assert_eq!(
        doc["explanations"][0]["values"].as_array().unwrap().len(),
        10
    );
}

#[test]
fn image_size_binds_a_model_with_open_height_and_width() {
    // mean_image.onnx takes [N, 3, H, W] with symbolic H, W: --image-size sets them, and the
    // mean's cell attributions with a zero baseline are the cell sums / (3·H·W).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.json");
    let (model, png) = (data("mean_image.onnx"), data("linear_image.png"));
    let (model, png) = (model.to_str().unwrap(), png.to_str().unwrap());
    assert_exit(
        &explain_cli(&[
            "shap",
            "--model",
            model,
            "--input",
            png,
            "--out",
            out.to_str().unwrap(),
        ]),
        2,
        &["mean_image.onnx", "[N, 3, H, W]", "--image-size"],
    );
    let doc = run_ok(&[
        "shap",
        "--model",
        model,
        "--input",
        png,
        "--image-size",
        "6x8",
        "--features",
        "grid:2x3",
        "--baseline",
        "zero",
        "--method",
        "exact",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let png = image::open(data("linear_image.png")).unwrap().to_rgb8();
    let values = values_of(&doc["explanations"][0]);
    for (cell, got) in values.iter().enumerate() {
        let (r, c) = (cell / 3, cell % 3);
        let sum: f64 = (r * 4..r * 4 + 4)
            .flat_map(|y| (c * 2..c * 2 + 2).map(move |x| (x, y)))
            .flat_map(|(x, y)| png.get_pixel(x as u32, y as u32).0)
            .map(|v| v as f64 / 255.0)
            .sum();
        assert!(
            (got - sum / 144.0).abs() < 1e-6,
            "cell {cell}: {got} vs {}",
            sum / 144.0
        );
    }
    assert_eq!(doc["preprocessing"]["width"], 6);
    assert_eq!(doc["preprocessing"]["height"], 8);
}
