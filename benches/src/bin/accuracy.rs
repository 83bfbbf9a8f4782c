//! Accuracy at equal budget: Kernel SHAP, Leverage SHAP and permutation sampling against exact
//! Shapley values on the benchmark models.
//!
//! `cargo run --release -p explain-benches --bin accuracy` prints a markdown table: for each
//! model, budget (coalitions per explanation, the empty and full ones aside) and method, the
//! mean over rows and seeds of the relative L2 error `‖φ̂ − φ‖ / ‖φ‖` against exact values
//! (interventional, identity link, the model's own background rows, the first row's top
//! class) ± the standard error of that mean, the ratio of the Leverage to the Kernel SHAP
//! error, and the share of the attributions within 1.96 of their standard errors of the exact
//! value. Models whose files
//! are missing are skipped. The results are in `benches/leverage-vs-kernel.md`.

use explain_core::attribution::budget::Budget;
use explain_core::attribution::engine::Link;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::explainer::{
    self, Attributions, Instance, Settings, Silent, TargetSpec,
};
use explain_core::input::features::FeatureMap;
use explain_core::input::masker::Baseline;
use explain_core::input::tensor::{Rows, read_rows};
use explain_core::model::{Model, ModelOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const BUDGETS: [usize; 5] = [128, 256, 512, 1024, 2048];
const SEEDS: u64 = 10;
const METHODS: [Method; 3] = [Method::Kernel, Method::Leverage, Method::Permutation];

struct Case {
    name: &'static str,
    model: &'static str,
    rows: &'static str,
    background: &'static str,
}

const CASES: [Case; 3] = [
    Case {
        name: "mlp (tests/data, M = 10)",
        model: "tests/data/mlp.onnx",
        rows: "tests/data/mlp_x.npy",
        background: "tests/data/mlp_bg.npy",
    },
    Case {
        name: "wine_mlp (models-sample/tabular, M = 13)",
        model: "models-sample/tabular/wine_mlp.onnx",
        rows: "models-sample/tabular/samples.npy",
        background: "models-sample/tabular/background.npy",
    },
    Case {
        name: "mlp16 (benches/models, M = 16)",
        model: "benches/models/mlp16.onnx",
        rows: "benches/models/mlp16_x.npy",
        background: "benches/models/mlp16_bg.npy",
    },
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

fn main() -> explain_core::Result<()> {
    println!("| model | budget | kernel | leverage | permutation | leverage / kernel |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut coverage = Vec::new();
    let mut log_ratios = Vec::new();
    for case in &CASES {
        let path = root().join(case.model);
        if !path.is_file() {
            eprintln!("skipping {}: {} is missing", case.name, path.display());
            continue;
        }
        let model = Model::load(&path, &ModelOptions::default())?;
        let x: Rows = read_rows(&root().join(case.rows), &model.row_shape, "input")?;
        let bg: Rows = read_rows(
            &root().join(case.background),
            &model.row_shape,
            "background",
        )?;
        let features = Arc::new(FeatureMap::tabular(
            &model.row_shape,
            &model.input.name,
            None,
        ));
        let baseline = Baseline::resolve(Some(&bg), None, &[&x], model.row_len())?;
        let instances = Instance::from_rows(&x, features, Arc::new(baseline));
        let run =
            |method: Method, samples: Budget, seed: u64| -> explain_core::Result<Attributions> {
                let settings = Settings {
                    method,
                    samples,
                    seed,
                    target: TargetSpec::Auto,
                    link: Link::Identity,
                    batch_size: 256,
                    features: "tabular".into(),
                    lime: None,
                    pins: Default::default(),
                    reference: None,
                };
                explainer::explain(&model, &instances, Default::default(), &settings, &Silent)
            };
        let exact = run(Method::Exact, Budget::Default, 0)?;
        for budget in BUDGETS {
            let mut errors = [0f64; 3];
            let mut cells = Vec::new();
            for (mi, &method) in METHODS.iter().enumerate() {
                let (mut all, mut within, mut values) = (Vec::new(), 0, 0);
                for seed in 0..SEEDS {
                    let doc = run(method, Budget::Fixed(budget), seed)?;
                    for (e, t) in doc.explanations.iter().zip(&exact.explanations) {
                        all.push(rel_err(&e.values, &t.values));
                        for ((v, s), t) in e.values.iter().zip(&e.std_errors).zip(&t.values) {
                            values += 1;
                            within += usize::from((v - t).abs() <= 1.96 * s + 1e-12);
                        }
                    }
                }
                let n = all.len() as f64;
                let mean = all.iter().sum::<f64>() / n;
                let var = all.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
                errors[mi] = mean;
                cells.push(if mean < 1e-9 {
                    "exact".to_string()
                } else {
                    format!("{mean:.4} ± {:.4}", (var / n).sqrt())
                });
                coverage.push((case.name, budget, method, within as f64 / values as f64));
            }
            let ratio = if errors[0] > 1e-9 && errors[1] > 1e-9 {
                log_ratios.push((errors[1] / errors[0]).ln());
                format!("{:.2}", errors[1] / errors[0])
            } else {
                "both exact".into()
            };
            println!(
                "| {} | {budget} | {} | {} | {} | {ratio} |",
                case.name, cells[0], cells[1], cells[2]
            );
        }
    }
    let geo = (log_ratios.iter().sum::<f64>() / log_ratios.len().max(1) as f64).exp();
    println!();
    println!(
        "Geometric mean of leverage / kernel over the {} sampled cells: {geo:.2}",
        log_ratios.len()
    );
    println!();
    println!("Share of values within 1.96 standard errors of the exact value:");
    println!();
    println!("| model | budget | kernel | leverage | permutation |");
    println!("|---|---:|---:|---:|---:|");
    for chunk in coverage.chunks(METHODS.len()) {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} |",
            chunk[0].0, chunk[0].1, chunk[0].3, chunk[1].3, chunk[2].3
        );
    }
    Ok(())
}
