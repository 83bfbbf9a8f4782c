//! Criterion benches of the engine and every estimator, and the engine's overhead.
//!
//! `cargo bench -p explain-benches --bench engine` (add `--features ort` and set
//! `ORT_DYLIB_PATH` for the ONNX Runtime groups). Three models, each built into instances
//! exactly as the CLI does (`input::prepare`):
//!
//! * `mlp16`: the 16-feature tabular MLP of `benches/models` with its 20 background rows;
//! * `inspection`: the 64×64 surface-defect CNN, `grid:4x4` features, blurred baseline;
//! * `camera`: MTCNN's O-Net (48×48 RGB), `grid:6x6` features, mean-colour baseline.
//!
//! Per model, on one thread: an explanation by each estimator (exact for the tabular model,
//! kernel, leverage, permutation, lime) and `raw_inference_same_rows` — the same number of
//! model rows run straight through the backend in the engine's batch composition, so that
//! `kernel_explanation / raw_inference_same_rows` is the engine's overhead (masking, batching,
//! solving). Then `kernel_1_thread` against `kernel_2_threads` for thread scaling.

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use explain_core::attribution::budget::Budget;
use explain_core::attribution::engine::Link;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::explainer::{self, Attributions, Settings, Silent, TargetSpec};
use explain_core::input::features::FeatureSpec;
use explain_core::input::image::{ChannelOrder, Layout, Preprocess};
use explain_core::input::masker::BaselineSpec;
use explain_core::input::{self, Prepared, Request};
use explain_core::model::{BackendChoice, Model, ModelOptions};
use std::hint::black_box;
use std::path::PathBuf;

fn root(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

struct Case {
    name: &'static str,
    model: Model,
    prepared: Prepared,
    target: usize,
    /// Coalitions per sampled explanation.
    budget: usize,
}

fn case(
    name: &'static str,
    backend: &BackendChoice,
    model: &str,
    output: Option<&str>,
    request: Request,
    target: usize,
    budget: usize,
) -> Case {
    let options = ModelOptions {
        output: output.map(str::to_string),
        backend: backend.clone(),
        ..ModelOptions::default()
    };
    let model = Model::load(&root(model), &options).unwrap();
    let prepared = input::prepare(&model, &request).unwrap();
    Case {
        name,
        model,
        prepared,
        target,
        budget,
    }
}

fn request(inputs: &[&str], features: FeatureSpec, background: &[&str]) -> Request {
    Request {
        inputs: inputs.iter().map(|p| root(p)).collect(),
        features,
        background: background.iter().map(|p| root(p)).collect(),
        baseline: None,
        image: Preprocess::default(),
        audio: None,
        seed: 0,
        crossfade_ms: 0.0,
    }
}

fn cases(backend: &BackendChoice) -> Vec<Case> {
    let mut inspection = request(
        &["models-sample/inspection/samples/crack.png"],
        FeatureSpec::Grid { rows: 4, cols: 4 },
        &[],
    );
    inspection.baseline = Some(BaselineSpec::Blur(4.0));
    inspection.image.channels = ChannelOrder::Gray;
    let mut camera = request(
        &["models-sample/camera/inputs/face_000.png"],
        FeatureSpec::Grid { rows: 6, cols: 6 },
        &[],
    );
    camera.baseline = Some(BaselineSpec::Mean);
    camera.image = Preprocess {
        layout: Layout::Nhwc,
        scale: 1.0,
        mean: vec![127.5],
        std: vec![128.0],
        ..Preprocess::default()
    };
    let mlp16 = request(
        &["benches/models/mlp16_x.npy"],
        FeatureSpec::Tabular,
        &["benches/models/mlp16_bg.npy"],
    );
    let mut mlp16 = case(
        "mlp16",
        backend,
        "benches/models/mlp16.onnx",
        None,
        mlp16,
        1,
        2048,
    );
    mlp16.prepared.instances.truncate(1);
    vec![
        mlp16,
        case(
            "inspection",
            backend,
            "models-sample/inspection/defect_cnn.onnx",
            Some("probabilities"),
            inspection,
            1,
            512,
        ),
        case(
            "camera",
            backend,
            "models-sample/camera/onet.onnx",
            Some("softmax_2"),
            camera,
            1,
            512,
        ),
    ]
}

impl Case {
    fn settings(&self, method: Method) -> Settings {
        Settings {
            method,
            samples: Budget::Fixed(self.budget),
            seed: 1,
            target: TargetSpec::Index(self.target),
            link: Link::Identity,
            batch_size: 256,
            features: self.prepared.features.clone(),
            lime: None,
            pins: Default::default(),
            reference: None,
        }
    }

    fn explain(&self, s: &Settings) -> Attributions {
        explainer::explain(
            &self.model,
            &self.prepared.instances,
            Default::default(),
            s,
            &Silent,
        )
        .unwrap()
    }

    fn bench(&self, g: &mut BenchmarkGroup<WallTime>) {
        let one = pool(1);
        let m = self.prepared.instances[0].features.len();
        let mut methods = vec![
            Method::Kernel,
            Method::Leverage,
            Method::Permutation,
            Method::Lime,
        ];
        // Exact: 2^M coalitions; cheap enough for the tabular model only.
        if m <= 16 && self.model.row_len() == m {
            methods.insert(0, Method::Exact);
        }
        for method in methods {
            let s = self.settings(method);
            g.bench_function(format!("{}_explanation", method.name()), |b| {
                b.iter(|| one.install(|| black_box(self.explain(&s))))
            });
        }
        // Raw inference of as many rows as the kernel explanation ran, in the engine's
        // batch composition: chunks of whole coalitions (each `k` baseline rows) of at most
        // `batch_size` rows.
        let kernel = self.settings(Method::Kernel);
        let rows = one.install(|| self.explain(&kernel)).explanations[0].model_rows as usize;
        let inst = &self.prepared.instances[0];
        let k = inst.baseline.k;
        let per_batch = (kernel.batch_size / k).max(1) * k;
        let len = self.model.row_len();
        let input: Vec<f32> = inst
            .x
            .iter()
            .copied()
            .cycle()
            .take(per_batch * len)
            .collect();
        g.bench_function("raw_inference_same_rows", |b| {
            b.iter(|| {
                one.install(|| {
                    let mut left = rows;
                    while left > 0 {
                        let n = left.min(per_batch);
                        black_box(self.model.run(n, &input[..n * len]).unwrap());
                        left -= n;
                    }
                })
            })
        });
        for threads in [1, 2] {
            let p = pool(threads);
            let label = if threads == 1 { "thread" } else { "threads" };
            g.bench_function(format!("kernel_{threads}_{label}"), |b| {
                b.iter(|| p.install(|| black_box(self.explain(&kernel))))
            });
        }
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let mut backends = vec![("tract", BackendChoice::Tract)];
    if cfg!(feature = "ort") && std::env::var_os("ORT_DYLIB_PATH").is_some() {
        backends.push(("ort", BackendChoice::Ort { lib: None }));
    }
    for (name, backend) in backends {
        for case in cases(&backend) {
            let mut g = c.benchmark_group(format!("{}_{name}", case.name));
            case.bench(&mut g);
            g.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
