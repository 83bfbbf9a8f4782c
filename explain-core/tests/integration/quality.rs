//! Explanation quality: deletion/insertion curves (closed form on a pixel-linear model, real
//! attributions against random orders on the sample models), seed stability, and the
//! model-randomisation sanity check (pass, flag and not applicable).

use std::path::PathBuf;

use explain_core::Error;
use explain_core::attribution::engine::Link;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::estimators::lime::{LimeParams, Selection};
use explain_core::attribution::explainer::{
    self, Explanation, Instance, Settings, Silent, TargetSpec,
};
use explain_core::attribution::quality::{self, Quality, QualityConfig, Verdict};
use explain_core::input::features::FeatureSpec;
use explain_core::input::image::{ChannelOrder, Layout, Preprocess};
use explain_core::input::masker::BaselineSpec;
use explain_core::input::{self, Request};
use explain_core::model::{Model, ModelOptions};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models-sample")
        .join(name)
}

/// A model, one prepared image and the settings to explain it with.
struct Case {
    path: PathBuf,
    options: ModelOptions,
    model: Model,
    instance: Instance,
    settings: Settings,
}

impl Case {
    fn new(
        path: PathBuf,
        options: ModelOptions,
        input: PathBuf,
        features: FeatureSpec,
        baseline: BaselineSpec,
        image: Preprocess,
        settings: Settings,
    ) -> Case {
        let request = Request {
            inputs: vec![input],
            features,
            background: vec![],
            baseline: Some(baseline),
            image,
            audio: None,
            seed: 0,
            crossfade_ms: 0.0,
        };
        Case::from_request(path, options, &request, settings)
    }

    /// The first row of the request.
    fn from_request(
        path: PathBuf,
        options: ModelOptions,
        request: &Request,
        settings: Settings,
    ) -> Case {
        let model = Model::load(&path, &options).unwrap();
        let mut prepared = input::prepare(&model, request).unwrap();
        Case {
            path,
            options,
            model,
            instance: prepared.instances.remove(0),
            settings,
        }
    }

    fn explain(&self) -> Explanation {
        let doc = explainer::explain(
            &self.model,
            std::slice::from_ref(&self.instance),
            Default::default(),
            &self.settings,
            &Silent,
        )
        .unwrap();
        doc.explanations.into_iter().next().unwrap()
    }

    fn quality(
        &self,
        explanation: &Explanation,
        config: &QualityConfig,
    ) -> explain_core::Result<Quality> {
        quality::quality(
            &self.model,
            &self.path,
            &self.options,
            &self.instance,
            explanation,
            &self.settings,
            config,
        )
    }
}

fn settings(method: Method, samples: usize, target: usize) -> Settings {
    Settings {
        method,
        samples: Some(samples).into(),
        seed: 0,
        target: TargetSpec::Index(target),
        link: Link::Identity,
        batch_size: 64,
        features: String::new(),
        lime: None,
        pins: Default::default(),
        reference: None,
    }
}

fn linear_image(method: Method) -> Case {
    Case::new(
        data("linear_image.onnx"),
        ModelOptions::default(),
        data("linear_image.png"),
        FeatureSpec::Grid { rows: 2, cols: 3 },
        BaselineSpec::Zero,
        Preprocess::default(),
        settings(method, 500, 0),
    )
}

fn inspection(method: Method, samples: usize) -> Case {
    Case::new(
        sample("inspection/defect_cnn.onnx"),
        ModelOptions::default(),
        sample("inspection/samples/scratch.png"),
        FeatureSpec::Grid { rows: 4, cols: 4 },
        BaselineSpec::Blur(4.0),
        Preprocess {
            channels: ChannelOrder::Gray,
            ..Preprocess::default()
        },
        settings(method, samples, 1),
    )
}

fn camera(method: Method, samples: usize) -> Case {
    Case::new(
        sample("camera/onet.onnx"),
        ModelOptions {
            output: Some("softmax_2".into()),
            ..ModelOptions::default()
        },
        sample("camera/inputs/face_000.png"),
        FeatureSpec::Grid { rows: 4, cols: 4 },
        BaselineSpec::Mean,
        Preprocess {
            layout: Layout::Nhwc,
            scale: 1.0,
            mean: vec![127.5],
            std: vec![128.0],
            ..Preprocess::default()
        },
        settings(method, samples, 1),
    )
}

fn weights(file: &str, key: &str) -> Vec<f64> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data(file)).unwrap()).unwrap();
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn scalar(file: &str, key: &str) -> f64 {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data(file)).unwrap()).unwrap();
    v[key].as_f64().unwrap()
}

/// Curves, stability and randomisation off or small, for tests about one part.
fn light() -> QualityConfig {
    QualityConfig {
        steps: None,
        random_orders: 8,
        seeds: 0,
        k: 5,
        randomise_layers: 0,
    }
}

#[test]
fn deletion_and_insertion_curves_of_a_pixel_linear_model_have_their_closed_form() {
    // y = Σ w·x + c over a [3, 8, 6] image, zero baseline: v(S) = c + Σ_{i∈S} φ_i with φ the
    // cell sums of w·x. Deleting the features in order of decreasing φ gives
    // f(x) − (cumulative sum of the ordered φ); inserting gives c + the same sum.
    let case = linear_image(Method::Exact);
    let e = case.explain();
    let q = case.quality(&e, &QualityConfig::default()).unwrap();
    let w = weights("linear_image.json", "w_nchw");
    let c = scalar("linear_image.json", "c");
    let x = &case.instance.x;
    let mut phi = [0f64; 6];
    for ch in 0..3 {
        for r in 0..8 {
            for col in 0..6 {
                let j = ch * 48 + r * 6 + col;
                phi[(r / 4) * 3 + col / 2] += w[j] * x[j] as f64;
            }
        }
    }
    let fx = c + phi.iter().sum::<f64>();
    let mut order: Vec<usize> = (0..6).collect();
    order.sort_by(|&a, &b| phi[b].total_cmp(&phi[a]));
    assert_eq!(q.steps, 6);
    assert_eq!(
        q.deletion.x,
        vec![0.0, 1.0 / 6.0, 2.0 / 6.0, 0.5, 4.0 / 6.0, 5.0 / 6.0, 1.0]
    );
    // The model runs in float32: its sums of 144 products carry rounding errors (about 2e-6
    // here), so the check is to one float32 epsilon relative to the size of those sums
    // (Σ|w·x| + |c| ≈ 62, so about 7e-6).
    let scale = c.abs() + (0..144).map(|j| (w[j] * x[j] as f64).abs()).sum::<f64>();
    let mut removed = 0.0;
    let mut worst = 0f64;
    for j in 0..=6 {
        if j > 0 {
            removed += phi[order[j - 1]];
        }
        let (del, ins) = (q.deletion.y[j], q.insertion.y[j]);
        for (got, want) in [(del, fx - removed), (ins, c + removed)] {
            worst = worst.max((got - want).abs());
            assert!(
                (got - want).abs() < f32::EPSILON as f64 * scale,
                "step {j}: {got} vs {want} (scale {scale})"
            );
        }
    }
    eprintln!("closed form: largest difference {worst:.3e}, scale {scale:.3}");
    let auc = |y: &[f64]| (0..6).map(|j| (y[j] + y[j + 1]) / 12.0).sum::<f64>();
    assert!((q.deletion.auc - auc(&q.deletion.y)).abs() < 1e-12);
    assert!((q.insertion.auc - auc(&q.insertion.y)).abs() < 1e-12);
    // Any order ends where it starts, and on average a feature contributes φ to the area by
    // its position, so the sorted order beats every random mix.
    assert_eq!(q.random_deletion.y[0], q.deletion.y[0]);
    assert_eq!(q.random_deletion.y[6], q.deletion.y[6]);
    assert!((q.random_deletion.auc - q.random_deletion_auc).abs() < 1e-12);
    assert!(q.deletion.auc < q.random_deletion_auc);
    assert!(q.insertion.auc > q.random_insertion_auc);
    // Exact: efficiency to rounding, deterministic, nothing re-run.
    assert!(q.efficiency_residual.unwrap() < 1e-9);
    assert!(q.seed_stability.deterministic);
    assert_eq!(q.seed_stability.seeds, vec![0]);
    assert_eq!(q.seed_stability.spearman, Some(1.0));
    assert_eq!(q.seed_stability.topk_jaccard, Some(1.0));
    // The weights w are the only parameterised layer (the bias c is a single value).
    assert_eq!(q.randomisation.randomised, vec!["w".to_string()]);
    assert_eq!(q.randomisation.parameters, 144);
    assert_eq!(q.randomisation.values.len(), 6);
    let json = serde_json::to_value(&q).unwrap();
    assert!(json["randomisation"]["verdict"].is_string());
    assert_eq!(json["deletion"]["y"].as_array().unwrap().len(), 7);
}

#[test]
fn real_attributions_beat_random_orders_on_the_inspection_model() {
    let case = inspection(Method::Kernel, 200);
    let e = case.explain();
    let q = case.quality(&e, &QualityConfig::default()).unwrap();
    eprintln!(
        "inspection: deletion {:.4} (random {:.4}), insertion {:.4} (random {:.4}); seeds {:?} spearman {:?} top5 {:?}; randomisation {:?} ρ {:?} ρ|·| {:?}: {}",
        q.deletion.auc,
        q.random_deletion_auc,
        q.insertion.auc,
        q.random_insertion_auc,
        q.seed_stability.seeds,
        q.seed_stability.spearman,
        q.seed_stability.topk_jaccard,
        q.randomisation.verdict,
        q.randomisation.spearman,
        q.randomisation.spearman_abs,
        q.randomisation.note
    );
    assert_eq!(q.steps, 16);
    assert!(q.deletion.auc < q.random_deletion_auc);
    assert!(q.insertion.auc > q.random_insertion_auc);
    assert!(q.efficiency_residual.unwrap() < 1e-9);
    // The deletion curve starts at P(defect) of the sample and ends at the blurred image's.
    assert!((q.deletion.y[0] - e.prediction).abs() < 1e-6);
    assert!((q.deletion.y[16] - e.base_value).abs() < 1e-6);
    // Re-runs with seeds 1..3 agree well but not perfectly.
    assert_eq!(q.seed_stability.seeds, vec![0, 1, 2, 3]);
    let rho = q.seed_stability.spearman.unwrap();
    assert!(rho > 0.5 && rho <= 1.0, "{rho}");
    assert!(q.seed_stability.vsi.is_none() && q.seed_stability.csi.is_none());
    // The classifier head (Gemm weight and bias) is randomised and the explanation changes.
    assert_eq!(
        q.randomisation.randomised,
        vec!["fc.weight".to_string(), "fc.bias".to_string()]
    );
    assert_eq!(q.randomisation.parameters, 66);
    assert_eq!(q.randomisation.verdict, Verdict::Pass);
    assert!(q.randomisation.spearman_abs.unwrap() < quality::RANDOMISATION_THRESHOLD);
}

#[test]
fn real_attributions_beat_random_orders_on_the_camera_model() {
    let case = camera(Method::Kernel, 150);
    let e = case.explain();
    // 8 steps of 2 cells: the model is the slowest here.
    let config = QualityConfig {
        steps: Some(8),
        seeds: 0,
        ..QualityConfig::default()
    };
    let q = case.quality(&e, &config).unwrap();
    eprintln!(
        "camera: deletion {:.4} (random {:.4}), insertion {:.4} (random {:.4}); randomisation {:?} ρ {:?} ρ|·| {:?}: {}",
        q.deletion.auc,
        q.random_deletion_auc,
        q.insertion.auc,
        q.random_insertion_auc,
        q.randomisation.verdict,
        q.randomisation.spearman,
        q.randomisation.spearman_abs,
        q.randomisation.note
    );
    assert!(q.deletion.auc < q.random_deletion_auc);
    assert!(q.insertion.auc > q.random_insertion_auc);
    // Only the face/non-face head is randomised: the box and landmark heads (dense_5,
    // dense_6) do not feed softmax_2.
    assert_eq!(
        q.randomisation.randomised,
        vec!["dense_4/kernel:0".to_string(), "dense_4/bias:0".to_string()]
    );
    assert_eq!(q.randomisation.parameters, 256 * 2 + 2);
    assert_eq!(q.randomisation.verdict, Verdict::Pass);
    // No extra seeds: one run, nothing to compare.
    assert_eq!(q.seed_stability.seeds, vec![0]);
    assert_eq!(q.seed_stability.spearman, None);
}

#[test]
fn an_explanation_that_ignores_the_learned_weights_is_flagged() {
    // The pixel-linear model with every weight ≈ 1 (1 + w/100): its output is essentially the
    // pixel sum, so its attributions follow the image's brightness, whatever the weights.
    // Redrawing the weights from their own mean and spread leaves them ≈ 1, and the
    // explanation survives: the check must flag it.
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(data("linear_image.onnx")).unwrap();
    let flat = quality::map_float_initializers(&bytes, |name, values| {
        if name == "w" {
            values.iter_mut().for_each(|v| *v = 1.0 + *v / 100.0);
        }
    })
    .unwrap();
    assert_eq!(flat.len(), bytes.len());
    let path = dir.path().join("flat_image.onnx");
    std::fs::write(&path, &flat).unwrap();
    let case = Case::new(
        path,
        ModelOptions::default(),
        data("linear_image.png"),
        FeatureSpec::Grid { rows: 2, cols: 3 },
        BaselineSpec::Zero,
        Preprocess::default(),
        settings(Method::Exact, 500, 0),
    );
    // The rewritten weights are what the model runs: y(1) = Σ (1 + w/100) + c.
    let w = weights("linear_image.json", "w_nchw");
    let c = scalar("linear_image.json", "c");
    let want = w.iter().map(|w| 1.0 + w / 100.0).sum::<f64>() + c;
    let got = case.model.run(1, &[1.0; 144]).unwrap()[0] as f64;
    assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    let e = case.explain();
    let q = case.quality(&e, &light_with_randomisation()).unwrap();
    eprintln!(
        "flat weights: {:?} {:?}: {}",
        q.randomisation.verdict, q.randomisation.spearman_abs, q.randomisation.note
    );
    assert_eq!(q.randomisation.verdict, Verdict::Flag);
    assert!(q.randomisation.spearman_abs.unwrap() >= 0.8);
    assert_eq!(q.randomisation.randomised, vec!["w".to_string()]);

    // The original pixel-linear model, whose weights are all that decides the ranking,
    // passes.
    let case = linear_image(Method::Exact);
    let e = case.explain();
    let q = case.quality(&e, &light_with_randomisation()).unwrap();
    eprintln!(
        "linear weights: {:?} {:?}: {}",
        q.randomisation.verdict, q.randomisation.spearman_abs, q.randomisation.note
    );
    assert_eq!(q.randomisation.verdict, Verdict::Pass);
}

fn light_with_randomisation() -> QualityConfig {
    QualityConfig {
        randomise_layers: 1,
        ..light()
    }
}

#[test]
fn a_model_without_weights_has_nothing_to_randomise() {
    // y = mean(image): no weights at all, so the check does not apply (not a pass).
    let case = Case::new(
        data("mean_image.onnx"),
        ModelOptions {
            axis_sizes: vec![(2, 8), (3, 6)],
            ..ModelOptions::default()
        },
        data("linear_image.png"),
        FeatureSpec::Grid { rows: 2, cols: 3 },
        BaselineSpec::Zero,
        Preprocess::default(),
        settings(Method::Exact, 500, 0),
    );
    let e = case.explain();
    let q = case.quality(&e, &light_with_randomisation()).unwrap();
    assert_eq!(q.randomisation.verdict, Verdict::NotApplicable);
    assert!(q.randomisation.randomised.is_empty());
    assert!(
        q.randomisation.note.contains("nothing to randomise"),
        "{}",
        q.randomisation.note
    );
    assert_eq!(
        serde_json::to_value(&q.randomisation).unwrap()["verdict"],
        "not_applicable"
    );
    // Switched off by the configuration.
    let q = case.quality(&e, &light()).unwrap();
    assert_eq!(q.randomisation.verdict, Verdict::NotApplicable);
}

#[test]
fn seed_stability_grows_with_the_budget() {
    // The 10-input MLP fixture against 16 background rows: Kernel SHAP with a small budget
    // moves with the seed, a larger one much less, and the full budget (all 2^10 − 2
    // coalitions) does not move at all.
    let config = QualityConfig {
        steps: Some(2),
        random_orders: 1,
        seeds: 3,
        k: 5,
        randomise_layers: 0,
    };
    let stability = |samples: usize| {
        let request = Request {
            inputs: vec![data("mlp_x.npy")],
            features: FeatureSpec::Tabular,
            background: vec![data("mlp_bg.npy")],
            baseline: None,
            image: Preprocess::default(),
            audio: None,
            seed: 0,
            crossfade_ms: 0.0,
        };
        let case = Case::from_request(
            data("mlp.onnx"),
            ModelOptions::default(),
            &request,
            settings(Method::Kernel, samples, 1),
        );
        let e = case.explain();
        case.quality(&e, &config).unwrap().seed_stability
    };
    let small = stability(24);
    let large = stability(400);
    let full = stability(1022);
    eprintln!("kernel 24: {small:?}\nkernel 400: {large:?}\nkernel 1022: {full:?}");
    let (s, l) = (small.spearman.unwrap(), large.spearman.unwrap());
    assert!(s < 1.0, "{s}");
    assert!(l > s, "{l} vs {s}");
    assert!(large.topk_jaccard.unwrap() >= small.topk_jaccard.unwrap());
    assert!(!small.deterministic && !full.deterministic);
    assert_eq!(full.spearman, Some(1.0));
    assert_eq!(full.topk_jaccard, Some(1.0));
}

#[test]
fn lime_reports_vsi_and_csi() {
    let mut case = inspection(Method::Lime, 200);
    case.settings.lime = Some(LimeParams {
        samples: 200,
        kernel_width: 0.25,
        num_features: Some(4),
        selection: Selection::Highest,
    });
    let e = case.explain();
    let config = QualityConfig {
        steps: Some(4),
        random_orders: 2,
        seeds: 2,
        k: 4,
        randomise_layers: 0,
    };
    let q = case.quality(&e, &config).unwrap();
    let s = &q.seed_stability;
    eprintln!("lime: {s:?}");
    assert_eq!(q.efficiency_residual, None);
    assert_eq!(s.seeds, vec![0, 1, 2]);
    let (vsi, csi) = (s.vsi.unwrap(), s.csi.unwrap());
    assert!((0.0..=1.0).contains(&vsi) && (0.0..=1.0).contains(&csi));
    // Pairs of 4-feature sets: every VSI term is a multiple of 1/4, their mean of 1/12.
    assert!(((vsi * 12.0) - (vsi * 12.0).round()).abs() < 1e-9, "{vsi}");
    assert!(vsi > 0.0);
}

#[test]
fn quality_is_the_same_for_any_thread_count() {
    let case = inspection(Method::Kernel, 100);
    let e = case.explain();
    let config = QualityConfig {
        steps: Some(8),
        random_orders: 3,
        seeds: 1,
        k: 5,
        randomise_layers: 1,
    };
    let run = |threads| {
        explainer::with_threads(Some(threads), || {
            serde_json::to_string(&case.quality(&e, &config).unwrap()).unwrap()
        })
        .unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(3));
}

#[test]
fn mismatched_or_unusable_input_is_an_input_error() {
    let case = linear_image(Method::Exact);
    let e = case.explain();
    let is_input = |r: explain_core::Result<Quality>, want: &str| match r {
        Err(Error::Input(msg)) => assert!(msg.contains(want), "{msg}"),
        other => panic!("expected an input error about '{want}', got {other:?}"),
    };
    let mut short = e.clone();
    short.values.pop();
    is_input(
        case.quality(&short, &light()),
        "has 5 values but the row has 6 features",
    );
    let mut other_row = e.clone();
    other_row.input_sha256 = "0".repeat(64);
    is_input(case.quality(&other_row, &light()), "input SHA-256 differs");
    let zero_steps = QualityConfig {
        steps: Some(0),
        ..light()
    };
    is_input(case.quality(&e, &zero_steps), "steps must be at least 1");
    let no_orders = QualityConfig {
        random_orders: 0,
        ..light()
    };
    is_input(case.quality(&e, &no_orders), "random_orders");
    let mut nan = e.clone();
    nan.values[2] = f64::NAN;
    is_input(case.quality(&nan, &light()), "non-finite");
    // Another model file than the one loaded.
    let wrong = quality::quality(
        &case.model,
        &data("linear.onnx"),
        &case.options,
        &case.instance,
        &e,
        &case.settings,
        &light_with_randomisation(),
    );
    is_input(wrong, "SHA-256 differs");
    // Steps beyond M are capped.
    let many = QualityConfig {
        steps: Some(100),
        ..light()
    };
    assert_eq!(case.quality(&e, &many).unwrap().steps, 6);
}

#[test]
fn rewriting_initializers_keeps_every_other_byte() {
    for file in ["linear_image.onnx", "mlp.onnx"] {
        let bytes = std::fs::read(data(file)).unwrap();
        let mut seen = Vec::new();
        let same =
            quality::map_float_initializers(&bytes, |name, _| seen.push(name.to_string())).unwrap();
        assert_eq!(same, bytes, "{file}");
        assert!(!seen.is_empty());
    }
    // The camera model stores its weights as float_data (packed fixed32), not raw_data.
    let bytes = std::fs::read(sample("camera/onet.onnx")).unwrap();
    let mut n = 0;
    let zeroed = quality::map_float_initializers(&bytes, |name, v| {
        if name == "dense_4/bias:0" {
            n = v.len();
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    })
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(zeroed.len(), bytes.len());
    assert_ne!(zeroed, bytes);
    let diff = zeroed.iter().zip(&bytes).filter(|(a, b)| a != b).count();
    assert!(diff <= 8, "{diff} bytes changed");
    assert!(matches!(
        quality::map_float_initializers(b"not a model", |_, _| {}),
        Err(Error::Input(_))
    ));
}
