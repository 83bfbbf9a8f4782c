//! Engine overhead on a small MLP: a whole Kernel SHAP explanation against the same number of
//! model rows run directly through the backend in the same batches.
//!
//! `cargo bench -p explain-benches --bench engine`. The ratio
//! `kernel_explanation / raw_inference_same_rows` is the engine's overhead (target ≤ 1.2).

use criterion::{Criterion, criterion_group, criterion_main};
use explain_core::data::read_rows;
use explain_core::engine::Link;
use explain_core::estimators::Method;
use explain_core::explainer::{self, Settings, Silent, TargetSpec};
use explain_core::features::FeatureMap;
use explain_core::masker::Baseline;
use explain_core::model::{Model, ModelOptions};
use std::hint::black_box;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

fn bench(c: &mut Criterion) {
    let model = Model::load(&fixture("mlp.onnx"), &ModelOptions::default()).unwrap();
    let x = read_rows(&fixture("mlp_x.npy"), &model.row_shape, "input").unwrap();
    let x = explain_core::data::Rows::from_values("x", x.row_len, x.row(0).to_vec());
    let bg = read_rows(&fixture("mlp_bg.npy"), &model.row_shape, "background").unwrap();
    let features = FeatureMap::tabular(&model.row_shape, "x", None);
    let baseline = Baseline::resolve(Some(&bg), None, &[&x], model.row_len()).unwrap();
    let batch_size = 256;
    let settings = |method, samples| Settings {
        method,
        samples: Some(samples).into(),
        seed: 1,
        target: TargetSpec::Index(1),
        link: Link::Identity,
        batch_size,
        features: "tabular".into(),
        lime: None,
    };
    let instances = explainer::Instance::from_rows(
        &x,
        std::sync::Arc::new(features),
        std::sync::Arc::new(baseline),
    );
    let explain = |s: &Settings| {
        explainer::explain(
            &model,
            &instances,
            explainer::Sources::default(),
            s,
            &Silent,
        )
        .unwrap()
    };
    // Kernel SHAP at 1000 coalitions (< 2^10 − 2, so partly sampled), 16 background rows.
    let kernel = settings(Method::Kernel, 1000);
    let rows = explain(&kernel).explanations[0].model_rows as usize;
    // The same rows, in the same batch composition as the engine's chunks.
    let per_chunk = (batch_size / bg.n).max(1) * bg.n;
    let input: Vec<f32> = (0..rows).flat_map(|i| bg.row(i % bg.n).to_vec()).collect();
    let len = model.row_len();

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("mlp_10_features_16_background_1_thread");
    g.bench_function("kernel_explanation_1000", |b| {
        b.iter(|| pool.install(|| black_box(explain(&kernel))))
    });
    g.bench_function("raw_inference_same_rows", |b| {
        b.iter(|| {
            for chunk in input.chunks(per_chunk * len) {
                let n = chunk.len() / len;
                for start in (0..n).step_by(batch_size) {
                    let m = batch_size.min(n - start);
                    black_box(
                        model
                            .run(m, &chunk[start * len..(start + m) * len])
                            .unwrap(),
                    );
                }
            }
        })
    });
    g.bench_function("permutation_explanation_1000", |b| {
        let s = settings(Method::Permutation, 1000);
        b.iter(|| pool.install(|| black_box(explain(&s))))
    });
    g.bench_function("exact_explanation", |b| {
        let s = settings(Method::Exact, 1);
        b.iter(|| pool.install(|| black_box(explain(&s))))
    });
    g.finish();

    let mut g = c.benchmark_group("mlp_10_features_16_background_threads");
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(format!("kernel_explanation_1000_{threads}_threads"), |b| {
            b.iter(|| pool.install(|| black_box(explain(&kernel))))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
