//! Correctness of the attributions against closed forms, an independent enumeration
//! (onnxruntime, Python) and each other; efficiency; reproducibility across thread counts.

use explain_core::attribution::budget::{self, Auto, Budget};
use explain_core::attribution::engine::Link;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::explainer::{
    self, Attributions, Instance, Settings, Silent, Sources, TargetSpec,
};
use explain_core::input::features::FeatureMap;
use explain_core::input::masker::{Baseline, BaselineSpec};
use explain_core::input::tensor::{Rows, read_rows};
use explain_core::model::{Model, ModelOptions};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

struct Case {
    model: Model,
    x: Rows,
    background: Option<Rows>,
}

fn case(model: &str, x: &str, background: Option<&str>) -> Case {
    let model = Model::load(&data(model), &ModelOptions::default()).unwrap();
    let x = read_rows(&data(x), &model.row_shape, "input").unwrap();
    let background =
        background.map(|b| read_rows(&data(b), &model.row_shape, "background").unwrap());
    Case {
        model,
        x,
        background,
    }
}

fn settings(
    method: Method,
    samples: Option<usize>,
    seed: u64,
    target: usize,
    link: Link,
) -> Settings {
    Settings {
        method,
        samples: samples.into(),
        seed,
        target: TargetSpec::Index(target),
        link,
        batch_size: 64,
        features: "tabular".into(),
        lime: None,
        pins: Default::default(),
        reference: None,
    }
}

fn run(c: &Case, baseline: Option<&BaselineSpec>, s: &Settings) -> Attributions {
    let features = Arc::new(FeatureMap::tabular(
        &c.model.row_shape,
        &c.model.input.name,
        None,
    ));
    let base =
        Baseline::resolve(c.background.as_ref(), baseline, &[&c.x], c.model.row_len()).unwrap();
    let instances = Instance::from_rows(&c.x, features, Arc::new(base));
    explainer::explain(&c.model, &instances, Sources::default(), s, &Silent).unwrap()
}

fn json(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data(path)).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

fn assert_efficient(doc: &Attributions, tol: f64) {
    for e in &doc.explanations {
        let sum: f64 = e.values.iter().sum();
        let gap = sum - (e.prediction - e.base_value);
        assert!(
            gap.abs() <= tol,
            "{}: Σφ − (f(x) − E f(b)) = {gap:e}",
            e.input
        );
    }
}

/// φ_i = w_i (x_i − mean_b b_i) for the linear model y = x·w + c.
fn linear_closed_form(c: &Case, w: &[f64]) -> Vec<Vec<f64>> {
    let bg = c.background.as_ref().unwrap();
    let mean: Vec<f64> = (0..bg.row_len)
        .map(|j| (0..bg.n).map(|i| bg.row(i)[j] as f64).sum::<f64>() / bg.n as f64)
        .collect();
    (0..c.x.n)
        .map(|i| {
            (0..w.len())
                .map(|j| w[j] * (c.x.row(i)[j] as f64 - mean[j]))
                .collect()
        })
        .collect()
}

#[test]
fn linear_model_exact_kernel_leverage_and_permutation_equal_the_closed_form() {
    let c = case("linear.onnx", "linear_x.npy", Some("linear_bg.npy"));
    let w = floats(&json("linear.json")["w"]);
    let expected = linear_closed_form(&c, &w);
    // Full Kernel and Leverage SHAP budgets: 2^8 − 2 coalitions, all enumerated. The game of
    // a linear model is additive, so a partial Leverage SHAP sample solves it exactly too.
    for (method, samples) in [
        (Method::Exact, None),
        (Method::Kernel, Some(254)),
        (Method::Leverage, Some(254)),
        (Method::Leverage, Some(40)),
        (Method::Permutation, Some(100)),
    ] {
        let doc = run(&c, None, &settings(method, samples, 3, 0, Link::Identity));
        for (e, phi) in doc.explanations.iter().zip(&expected) {
            for (got, want) in e.values.iter().zip(phi) {
                assert!(
                    (got - want).abs() < 1e-6,
                    "{method:?} {}: {got} vs closed form {want}",
                    e.input
                );
            }
        }
        assert_efficient(&doc, 1e-9);
    }
}

#[test]
fn logistic_model_with_logit_link_is_linear_in_log_odds() {
    // One baseline row b: φ_i = w_i (x_i − b_i) exactly on the logit scale.
    let c = case("logistic.onnx", "logistic_x.npy", Some("logistic_bg1.npy"));
    let w = floats(&json("logistic.json")["w"]);
    let expected = linear_closed_form(&c, &w);
    for (method, samples) in [
        (Method::Exact, None),
        (Method::Kernel, Some(62)),
        (Method::Leverage, Some(62)),
        (Method::Leverage, Some(20)),
    ] {
        let doc = run(&c, None, &settings(method, samples, 0, 0, Link::Logit));
        for (e, phi) in doc.explanations.iter().zip(&expected) {
            for (got, want) in e.values.iter().zip(phi) {
                // f32 sigmoid then logit: relative precision ~1e-7 of the probability.
                assert!((got - want).abs() < 2e-5, "{method:?}: {got} vs {want}");
            }
        }
    }
}

#[test]
fn mlp_exact_equals_the_independent_onnxruntime_enumeration() {
    let c = case("mlp.onnx", "mlp_x.npy", Some("mlp_bg.npy"));
    let expected = json("mlp_expected.json");
    let cases = expected["explanations"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    for want in cases {
        let row = want["row"].as_u64().unwrap() as usize;
        let target = want["target"].as_u64().unwrap() as usize;
        let link = Link::from_str(want["link"].as_str().unwrap()).unwrap();
        let doc = run(&c, None, &settings(Method::Exact, None, 0, target, link));
        let got = &doc.explanations[row];
        for (g, w) in got.values.iter().zip(floats(&want["values"])) {
            assert!(
                (g - w).abs() < 1e-6,
                "row {row} target {target} {link:?}: {g} vs {w}"
            );
        }
        assert!((got.base_value - want["base_value"].as_f64().unwrap()).abs() < 1e-6);
        assert!((got.prediction - want["prediction"].as_f64().unwrap()).abs() < 1e-6);
    }
}

#[test]
fn kernel_leverage_and_permutation_errors_fall_as_the_budget_grows() {
    let c = case("mlp.onnx", "mlp_x.npy", Some("mlp_bg.npy"));
    let exact = run(
        &c,
        None,
        &settings(Method::Exact, None, 0, 1, Link::Identity),
    );
    for method in [Method::Kernel, Method::Leverage, Method::Permutation] {
        let mut errors = Vec::new();
        let mut z_within_3 = (0, 0);
        for budget in [40, 160, 640] {
            let mut total = 0.0;
            for seed in 0..6 {
                let doc = run(
                    &c,
                    None,
                    &settings(method, Some(budget), seed, 1, Link::Identity),
                );
                assert_efficient(&doc, 1e-9);
                for (e, x) in doc.explanations.iter().zip(&exact.explanations) {
                    total += rel_err(&e.values, &x.values);
                    for ((v, s), t) in e.values.iter().zip(&e.std_errors).zip(&x.values) {
                        z_within_3.1 += 1;
                        if (v - t).abs() <= 3.0 * s {
                            z_within_3.0 += 1;
                        }
                    }
                }
            }
            errors.push(total / 18.0);
        }
        assert!(
            errors[0] > errors[1] && errors[1] > errors[2],
            "{method:?}: mean relative errors {errors:?}"
        );
        assert!(errors[2] < 0.05, "{method:?} at 640 coalitions: {errors:?}");
        // The standard errors are honest: |error| ≤ 3 SE for the vast majority of values.
        let share = z_within_3.0 as f64 / z_within_3.1 as f64;
        assert!(
            share > 0.9,
            "{method:?}: only {share:.2} of errors within 3 standard errors"
        );
    }
    // The full budget (2^10 − 2) makes Kernel and Leverage SHAP exact, with zero standard
    // errors.
    for method in [Method::Kernel, Method::Leverage] {
        let full = run(
            &c,
            None,
            &settings(method, Some(1022), 0, 1, Link::Identity),
        );
        for (e, x) in full.explanations.iter().zip(&exact.explanations) {
            assert!(rel_err(&e.values, &x.values) < 1e-9, "{method:?}");
            assert!(e.std_errors.iter().all(|s| *s == 0.0), "{method:?}");
            assert_eq!(e.model_evals, 1024);
        }
    }
}

#[test]
fn leverage_standard_errors_shrink_with_the_budget_and_vanish_when_enumerated() {
    let c = case("mlp.onnx", "mlp_x.npy", Some("mlp_bg.npy"));
    let mean_se = |budget: usize| {
        let mut total = 0.0;
        let mut n = 0;
        for seed in 0..4 {
            let doc = run(
                &c,
                None,
                &settings(Method::Leverage, Some(budget), seed, 1, Link::Identity),
            );
            for e in &doc.explanations {
                assert_eq!(e.model_evals, budget.min(1022) + 2);
                total += e.std_errors.iter().sum::<f64>();
                n += e.std_errors.len();
            }
        }
        total / n as f64
    };
    let se: Vec<f64> = [60, 240, 960, 1022].into_iter().map(mean_se).collect();
    assert!(
        se[0] > se[1] && se[1] > se[2] && se[2] > 0.0,
        "mean standard errors {se:?}"
    );
    // SE ∝ 1/√n roughly: four times the budget, about half the error (finite-population
    // correction aside, which shrinks it further near the full budget).
    assert!(se[1] < 0.75 * se[0], "{se:?}");
    assert_eq!(se[3], 0.0);
}

#[test]
fn lime_recovers_a_linear_game_and_reports_its_fit() {
    // With one baseline row, the linear model's coalition game is exactly linear in z, so the
    // surrogate fits perfectly and its coefficients are w_i (x_i − b_i) up to the ridge shrinkage.
    let c = case("linear.onnx", "linear_x.npy", None);
    let w = floats(&json("linear.json")["w"]);
    let mut s = settings(Method::Lime, Some(2000), 0, 0, Link::Identity);
    s.lime = Some(explain_core::attribution::estimators::lime::LimeParams {
        samples: 0,
        kernel_width: 1e6, // flat kernel: ordinary ridge
        num_features: None,
        selection: explain_core::attribution::estimators::lime::Selection::Auto,
    });
    let doc = run(&c, Some(&BaselineSpec::Zero), &s);
    for (i, e) in doc.explanations.iter().enumerate() {
        let sur = e.surrogate.as_ref().unwrap();
        assert!(sur.r2 > 0.999, "r2 {}", sur.r2);
        for (j, v) in e.values.iter().enumerate() {
            let want = w[j] * c.x.row(i)[j] as f64;
            assert!(
                (v - want).abs() < 0.01 * want.abs().max(0.1),
                "feature {j}: {v} vs {want}"
            );
        }
    }
    // Selecting 3 features keeps the 3 with the largest effects.
    s.lime.as_mut().unwrap().num_features = Some(3);
    let doc = run(&c, Some(&BaselineSpec::Zero), &s);
    let e = &doc.explanations[0];
    let mut effect: Vec<(f64, usize)> = (0..8)
        .map(|j| ((w[j] * c.x.row(0)[j] as f64).abs(), j))
        .collect();
    effect.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut top: Vec<usize> = effect[..3].iter().map(|p| p.1).collect();
    top.sort();
    assert_eq!(e.surrogate.as_ref().unwrap().selected, top);
    assert_eq!(e.values.iter().filter(|v| **v != 0.0).count(), 3);
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    let c = case("mlp.onnx", "mlp_x.npy", Some("mlp_bg.npy"));
    for method in [
        Method::Kernel,
        Method::Leverage,
        Method::Permutation,
        Method::Lime,
        Method::Exact,
    ] {
        let mut s = settings(method, Some(300), 11, 2, Link::Identity);
        s.batch_size = 7; // many chunks, odd batch sizes
        let one = explainer::with_threads(Some(1), || run(&c, None, &s)).unwrap();
        let two = explainer::with_threads(Some(2), || run(&c, None, &s)).unwrap();
        let four = explainer::with_threads(Some(4), || run(&c, None, &s)).unwrap();
        let bytes = |d: &Attributions| serde_json::to_vec(d).unwrap();
        assert_eq!(bytes(&one), bytes(&two), "{method:?}");
        assert_eq!(bytes(&one), bytes(&four), "{method:?}");
    }
    // A different seed gives different sampled values.
    let a = run(
        &c,
        None,
        &settings(Method::Kernel, Some(300), 1, 2, Link::Identity),
    );
    let b = run(
        &c,
        None,
        &settings(Method::Kernel, Some(300), 2, 2, Link::Identity),
    );
    assert_ne!(a.explanations[0].values, b.explanations[0].values);
}

#[test]
fn batches_of_any_size_agree() {
    let c = case("mlp.onnx", "mlp_bg.npy", None);
    let single: Vec<f32> = (0..c.x.n)
        .flat_map(|i| c.model.run(1, c.x.row(i)).unwrap())
        .collect();
    for rows in [2, 5, 16] {
        let batched = c
            .model
            .run(rows, &c.x.values[..rows * c.x.row_len])
            .unwrap();
        for (a, b) in batched.iter().zip(&single) {
            assert!((a - b).abs() < 1e-6, "batch of {rows}: {a} vs {b}");
        }
    }
}

#[test]
fn recorded_tract_version_matches_the_lockfile() {
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let entry = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"tract-onnx\""))
        .unwrap();
    assert!(
        entry.contains(&format!(
            "version = \"{}\"",
            explain_core::util::provenance::TRACT_VERSION
        )),
        "update provenance::TRACT_VERSION: {entry}"
    );
}

fn auto(tolerance: f64, max_samples: usize) -> Budget {
    Budget::Auto(Auto {
        tolerance,
        max_samples,
    })
}

#[test]
fn auto_budgets_stop_below_the_tolerance_and_record_what_they_took() {
    let c = case("mlp.onnx", "mlp_x.npy", Some("mlp_bg.npy"));
    for method in [Method::Kernel, Method::Leverage, Method::Permutation] {
        let mut s = settings(method, None, 5, 1, Link::Identity);
        s.samples = auto(0.005, 65536);
        let doc = run(&c, None, &s);
        assert_eq!(doc.params.tolerance, Some(0.005));
        assert_eq!(doc.params.max_samples, Some(65536));
        for e in &doc.explanations {
            let a = e.auto.as_ref().unwrap();
            let ratio = budget::se_ratio(&e.values, &e.std_errors).unwrap();
            assert_eq!(a.se_ratio, Some(ratio));
            assert!(a.converged && ratio <= 0.005, "{method:?}: {a:?}");
            // The first budget is 160 (16·M); every round is counted in model_evals.
            assert!(a.samples >= 160 && a.rounds >= 1, "{method:?}: {a:?}");
            assert_eq!(a.rounds == 1, e.model_evals <= a.samples + 2, "{a:?}");
            // The reported estimate is the one a fixed budget of that size gives.
            let mut fixed = s.clone();
            fixed.samples = Budget::Fixed(a.samples);
            let again = run(&c, None, &fixed);
            let same = again
                .explanations
                .iter()
                .find(|x| x.input == e.input)
                .unwrap();
            assert_eq!(same.values, e.values, "{method:?}");
            assert_eq!(same.std_errors, e.std_errors, "{method:?}");
        }
        assert_eq!(
            doc.params.samples,
            doc.explanations[0].auto.as_ref().unwrap().samples
        );
        // This tolerance takes more than the first budget somewhere.
        assert!(
            doc.explanations
                .iter()
                .any(|e| e.auto.as_ref().unwrap().rounds > 1),
            "{method:?}"
        );
        assert_efficient(&doc, 1e-9);
    }
    // Exact values ignore an automatic budget; LIME refuses it.
    let mut s = settings(Method::Exact, None, 0, 1, Link::Identity);
    s.samples = auto(0.01, 1000);
    let doc = run(&c, None, &s);
    assert!(doc.explanations.iter().all(|e| e.auto.is_none()));
    assert_eq!(doc.params.tolerance, None);
    s.method = Method::Lime;
    let features = Arc::new(FeatureMap::tabular(
        &c.model.row_shape,
        &c.model.input.name,
        None,
    ));
    let base = Baseline::resolve(c.background.as_ref(), None, &[&c.x], c.model.row_len()).unwrap();
    let instances = Instance::from_rows(&c.x, features, Arc::new(base));
    let err = explainer::explain(&c.model, &instances, Sources::default(), &s, &Silent)
        .unwrap_err()
        .to_string();
    assert!(err.contains("auto applies to the SHAP methods"), "{err}");
}

#[test]
fn auto_budgets_stop_at_the_maximum_unconverged_and_reproducibly() {
    let c = case("mlp.onnx", "mlp_x.npy", Some("mlp_bg.npy"));
    for method in [Method::Kernel, Method::Leverage, Method::Permutation] {
        let mut s = settings(method, None, 9, 2, Link::Identity);
        s.samples = auto(1e-6, 400);
        s.batch_size = 7;
        let one = explainer::with_threads(Some(1), || run(&c, None, &s)).unwrap();
        let two = explainer::with_threads(Some(2), || run(&c, None, &s)).unwrap();
        let bytes = |d: &Attributions| serde_json::to_vec(d).unwrap();
        assert_eq!(bytes(&one), bytes(&two), "{method:?}");
        for e in &one.explanations {
            let a = e.auto.as_ref().unwrap();
            assert!(!a.converged, "{method:?}: {a:?}");
            assert!(a.se_ratio.unwrap() > 1e-6);
            // 160, then the forecast (at most 8×) capped at the maximum.
            assert_eq!((a.samples, a.rounds), (400, 2), "{method:?}");
        }
        // The record reads back.
        let back: Attributions = serde_json::from_slice(&bytes(&one)).unwrap();
        assert_eq!(back, one);
    }
    // Kernel and Leverage SHAP are exact at 2^M − 2: a maximum above it stops there, converged.
    for method in [Method::Kernel, Method::Leverage] {
        let mut s = settings(method, None, 9, 2, Link::Identity);
        s.samples = auto(1e-9, 100_000);
        let doc = run(&c, None, &s);
        for e in &doc.explanations {
            let a = e.auto.as_ref().unwrap();
            assert!(
                a.converged && a.samples == 1022 && a.se_ratio == Some(0.0),
                "{a:?}"
            );
        }
    }
}
