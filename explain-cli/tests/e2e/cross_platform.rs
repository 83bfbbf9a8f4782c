//! `explain verify` on another machine, without a second machine: the re-run's backend is
//! wrapped in one whose outputs differ from the recorded run's, as another CPU's kernels or
//! another backend make them differ.
//!
//! * A few float32 ulps on every output (seeded, a function of the row): the report and an
//!   attribution file verify "within float32 rounding", with the artifacts compared by their
//!   numbers; a change of 1e-3 does not verify.
//! * Knife edges: an item whose score is the decision threshold, moved below it by one ulp,
//!   is named with its cause and the report still verifies; two classes tied for the top
//!   output are named and pinned.
//! * Another real kernel family (tract told that the CPU lacks AVX2 and AVX-512): the CLI
//!   verifies within rounding, and a portable run is bit-identical under either.

use crate::common;

use common::{data, sample};
use explain_core::attribution::explainer::Silent;
use explain_core::check::verify::{self, Agreement, Verification};
use explain_core::model::numerics::Platform;
use explain_core::model::{Backend, BackendWrap, Output};
use explain_core::report::config::Loaded;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// How the wrapper changes each output.
#[derive(Clone, Copy, Debug)]
enum Change {
    /// Up to this many ulps up or down, chosen per row and output from a seed.
    Ulps(u32),
    /// Down by exactly one ulp.
    Down,
    /// By this relative amount, up or down per row and output.
    Relative(f32),
    /// Output 1 set to output 0 (a tie for the top class).
    Tie,
    /// A tie, with output 1 then one ulp up.
    TieBroken,
}

/// A backend whose outputs differ from the inner one's, deterministically for each row.
struct Perturbed {
    inner: Box<dyn Backend>,
    change: Change,
    seed: u64,
}

fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Backend for Perturbed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn version(&self) -> String {
        self.inner.version()
    }
    fn numerics(&self) -> Platform {
        let mut p = self.inner.numerics();
        p.settings
            .insert("test-perturbation".into(), format!("{:?}", self.change));
        p
    }
    fn run(&self, rows: usize, data: &[f32]) -> explain_core::Result<Vec<Output>> {
        let mut outputs = self.inner.run(rows, data)?;
        let out = &mut outputs[0].data;
        let (len, k) = (data.len() / rows.max(1), out.len() / rows.max(1));
        for r in 0..rows {
            let row = &data[r * len..(r + 1) * len];
            let h = row
                .iter()
                .fold(self.seed, |h, v| mix(h ^ v.to_bits() as u64));
            let o = &mut out[r * k..(r + 1) * k];
            for (j, v) in o.iter_mut().enumerate() {
                let draw = mix(h ^ (j as u64 + 1));
                match self.change {
                    Change::Ulps(n) => {
                        let steps = (draw % (2 * n as u64 + 1)) as i64 - n as i64;
                        for _ in 0..steps.unsigned_abs() {
                            *v = if steps > 0 {
                                v.next_up()
                            } else {
                                v.next_down()
                            };
                        }
                    }
                    Change::Down => *v = v.next_down(),
                    Change::Relative(e) => {
                        *v *= if draw & 1 == 0 { 1.0 + e } else { 1.0 - e };
                    }
                    Change::Tie | Change::TieBroken => {}
                }
            }
            if matches!(self.change, Change::Tie | Change::TieBroken) && k > 1 {
                o[1] = o[0];
                if matches!(self.change, Change::TieBroken) {
                    o[1] = o[1].next_up();
                }
            }
        }
        Ok(outputs)
    }
}

fn wrap(change: Change) -> BackendWrap {
    BackendWrap(Arc::new(move |inner| {
        Box::new(Perturbed {
            inner,
            change,
            seed: 7,
        })
    }))
}

/// Makes the small inspection report from `config` into `out`.
fn make_report(config: &Path, out: &Path) {
    let loaded = Loaded::read(config).unwrap();
    explain_core::report::run(
        &loaded,
        &explain_core::report::Options {
            out,
            threads: None,
            backend: None,
            wrap: None,
            pins: Default::default(),
        },
        &Silent,
    )
    .unwrap();
}

fn verify_with(report: &Path, change: Option<Change>) -> Verification {
    verify::verify_file(
        report,
        &verify::Options {
            wrap: change.map(wrap),
            ..verify::Options::default()
        },
        &Silent,
    )
    .unwrap()
}

/// The small inspection config, rewritten with `edit`, in `dir` (its paths made absolute).
fn config_with(dir: &Path, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let base = std::fs::read_to_string(data("report/inspection-small.toml")).unwrap();
    let base = base.replace("../../../models-sample/", &format!("{}/", sample("")));
    let path = dir.join("explain.toml");
    std::fs::write(&path, edit(base)).unwrap();
    path
}

#[test]
fn a_report_verifies_within_rounding_on_another_platform_and_not_when_numbers_change() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    make_report(&data("report/inspection-small.toml"), &out);
    let report = out.join("report.json");

    let same = verify_with(&report, None);
    assert!(same.passed(), "{}", same.table());
    assert_eq!(same.agreement, Agreement::Exact);
    assert!(
        same.table().contains("verified: bit-identical"),
        "{}",
        same.table()
    );

    let ulps = verify_with(&report, Some(Change::Ulps(4)));
    let table = ulps.table();
    assert!(ulps.passed(), "{table}");
    assert_eq!(ulps.agreement, Agreement::Rounding);
    assert!(
        table.contains("verified: agrees within float32 rounding: largest relative deviation"),
        "{table}"
    );
    assert!(table.contains("re-run on"), "{table}");
    // The numbers did move, and the artifacts were compared by their contents.
    let explanations = ulps
        .sections
        .iter()
        .find(|s| s.section == "explanations")
        .unwrap();
    assert!(explanations.largest_deviation > 0.0, "{table}");
    let artifacts = ulps
        .sections
        .iter()
        .find(|s| s.section == "artifacts")
        .unwrap();
    assert!(artifacts.numbers > 100, "{table}");

    let changed = verify_with(&report, Some(Change::Relative(1e-3)));
    let table = changed.table();
    assert!(!changed.passed(), "{table}");
    assert!(
        table.contains("NOT VERIFIED (compared within float32 rounding"),
        "{table}"
    );
    assert!(
        table.contains("DIFFERS explanations.methods[0].items[0]"),
        "{table}"
    );
}

#[test]
fn a_decision_at_the_threshold_is_a_knife_edge_named_with_its_cause() {
    // An item's score, exactly: with it as the threshold the item is decided positive, and
    // one ulp below (another CPU) negative.
    let tmp = tempfile::tempdir().unwrap();
    let (item, score) = undecided_item();
    let item = item.as_str();
    let config = config_with(tmp.path(), |c| {
        c.replace("min_n = 30", &format!("min_n = 30\nthreshold = {score:?}"))
    });
    let out = tmp.path().join("knife");
    make_report(&config, &out);
    let predictions = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    let line = predictions
        .lines()
        .find(|l| l.starts_with(&format!("{item},")))
        .unwrap();
    assert!(line.ends_with(",1"), "{line}");
    let v = verify_with(&out.join("report.json"), Some(Change::Down));
    let table = v.table();
    assert!(v.passed(), "{table}");
    assert!(
        v.knife_edges.iter().any(|k| k.contains(item)
            && k.contains("decided 1 when recorded, 0 now")
            && k.contains("within float32 rounding of the threshold")),
        "{table}"
    );
    assert!(
        table.contains("1 knife edge explained by rounding"),
        "{table}"
    );
}

/// The item of the inspection manifest whose score (positive class) is nearest 0.5, with
/// its score computed as the report computes it (the same batches: an output can change in
/// its last bit with the batch it is in).
fn undecided_item() -> (String, f64) {
    use explain_core::model::{Model, ModelOptions};
    let model = Model::load(
        Path::new(&sample("inspection/defect_cnn.onnx")),
        &ModelOptions {
            output: Some("probabilities".into()),
            ..ModelOptions::default()
        },
    )
    .unwrap();
    let request = explain_core::input::Request {
        inputs: Vec::new(),
        features: explain_core::input::features::FeatureSpec::from_str("grid:2x2").unwrap(),
        background: Vec::new(),
        baseline: None,
        image: explain_core::input::image::Preprocess {
            channels: explain_core::input::image::ChannelOrder::Gray,
            ..Default::default()
        },
        audio: None,
        seed: 0,
        crossfade_ms: 0.0,
    };
    let manifest = explain_core::validation::manifest::Manifest::read(Path::new(&sample(
        "inspection/manifest.csv",
    )))
    .unwrap();
    let (rows, _) =
        explain_core::input::load_items(&model, &request, &manifest.input_paths()).unwrap();
    let decision = explain_core::validation::slices::Decision {
        positive: Some(1),
        threshold: 0.5,
    };
    let p = explain_core::validation::slices::predict(
        &model, &manifest, &rows, &decision, 256, &Silent,
    )
    .unwrap();
    let p = p
        .items
        .iter()
        .min_by(|a, b| (a.score - 0.5).abs().total_cmp(&(b.score - 0.5).abs()))
        .unwrap();
    (p.input.clone(), p.score)
}

#[test]
fn a_tie_for_the_top_class_is_pinned_and_the_rest_compared() {
    // The recorded run has outputs 0 and 1 tied (the first wins); on "another machine"
    // output 1 is one ulp above: another explained output, named as a tie.
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for f in ["mlp.onnx", "mlp_x.npy", "mlp_bg.npy"] {
        std::fs::copy(data(f), d.join(f)).unwrap();
    }
    let job = mlp_job(
        d,
        explain_core::attribution::estimators::Method::Kernel,
        explain_core::attribution::explainer::TargetSpec::Top,
        200,
        None,
        Some(wrap(Change::Tie)),
        Default::default(),
    );
    let (doc, _) = job.run(None, &Silent).unwrap();
    let file = d.join("tie.json");
    explain_core::util::output::write_json(&file, &doc).unwrap();
    assert!(doc.explanations.iter().all(|e| e.target == 0));
    let v = verify::verify_file(
        &file,
        &verify::Options {
            wrap: Some(wrap(Change::TieBroken)),
            ..verify::Options::default()
        },
        &Silent,
    )
    .unwrap();
    let table = v.table();
    assert!(v.passed(), "{table}");
    assert_eq!(v.knife_edges.len(), doc.explanations.len(), "{table}");
    assert!(
        v.knife_edges[0].contains("explains output 0 when recorded, 1 now")
            && v.knife_edges[0].contains("tie for the top output"),
        "{table}"
    );
}

/// tract's x86-64 kernel families, reached by telling tract which features the CPU lacks.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_cli_verifies_across_real_kernel_families_and_portable_runs_are_bit_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let no_avx2 = "-avx2,-avxvnni,-avx512f,-avx512vnni,-avx512fp16";
    let explain = |args: &[&str], isa: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_explain"))
            .args(args)
            .env("TRACT_CPU_ISA", isa)
            .output()
            .unwrap()
    };
    let speech = sample("speech/silero_vad_openvino_16k.onnx");
    let clip = sample("speech/samples/speech_en-US_Allison_messages.wav");
    for (name, extra) in [
        ("native.json", None),
        ("portable.json", Some("--portable-numerics")),
    ] {
        let out = d.join(name);
        let mut args = vec![
            "shap",
            "--model",
            &speech,
            "--hold",
            "state=zeros",
            "--output",
            "output",
            "--sample-rate",
            "16000",
            "--input",
            &clip,
            "--features",
            "segments:6",
            "--method",
            "exact",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let run = explain(&args, "");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    // The native file made with every feature this CPU has, re-run without AVX2/AVX-512:
    // on a CPU that has them the kernels differ and the numbers agree within rounding (on
    // one without them, the platforms are the same and the numbers identical).
    let native = d.join("native.json");
    let run = explain(&["verify", native.to_str().unwrap(), "--quiet"], no_avx2);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("verified: agrees within float32 rounding")
            || stdout.contains("verified: bit-identical"),
        "{stdout}"
    );
    // --tolerance 0 insists on identical numbers.
    let exact = explain(
        &[
            "verify",
            native.to_str().unwrap(),
            "--quiet",
            "--tolerance",
            "0",
        ],
        no_avx2,
    );
    if stdout.contains("within float32 rounding") {
        assert_eq!(
            exact.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&exact.stdout)
        );
    }
    // The portable file is bit-identical whatever tract is told about the CPU.
    let portable = d.join("portable.json");
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&portable).unwrap()).unwrap();
    assert_eq!(doc["model"]["numerics"]["mode"], "portable");
    assert_eq!(
        doc["model"]["numerics"]["cpu_features"],
        serde_json::json!([])
    );
    for isa in ["", no_avx2] {
        let run = explain(
            &[
                "verify",
                portable.to_str().unwrap(),
                "--quiet",
                "--tolerance",
                "0",
            ],
            isa,
        );
        assert!(
            run.status.success(),
            "{isa}: {}",
            String::from_utf8_lossy(&run.stdout)
        );
    }
}

/// A job on the test MLP (copied into `d`) with these settings.
fn mlp_job(
    d: &Path,
    method: explain_core::attribution::estimators::Method,
    target: explain_core::attribution::explainer::TargetSpec,
    samples: usize,
    lime: Option<explain_core::attribution::estimators::lime::LimeParams>,
    wrap: Option<BackendWrap>,
    pins: explain_core::util::pins::Pins,
) -> explain_core::attribution::recipe::Job {
    explain_core::attribution::recipe::Job {
        model: d.join("mlp.onnx"),
        output: None,
        inputs: vec![d.join("mlp_x.npy")],
        background: vec![d.join("mlp_bg.npy")],
        method,
        seed: 5,
        target,
        link: explain_core::attribution::engine::Link::Identity,
        batch_size: 64,
        lime,
        recipe: explain_core::attribution::recipe::Recipe {
            features: explain_core::input::features::FeatureSpec::Tabular,
            baseline: None,
            samples: explain_core::attribution::budget::Budget::Fixed(samples),
            reduce: None,
            detector: None,
            reference: None,
            hold: Vec::new(),
            image: None,
            audio: None,
            crossfade_ms: 0.0,
            quality: None,
        },
        backend: Default::default(),
        numerics: Default::default(),
        wrap,
        pins: Arc::new(pins),
    }
}

/// A LIME job on the test MLP keeping `k` features (highest weights), with `pins`.
fn lime_job(
    d: &Path,
    k: usize,
    pins: explain_core::util::pins::Pins,
) -> explain_core::attribution::recipe::Job {
    use explain_core::attribution::estimators::lime::{LimeParams, Selection};
    let lime = LimeParams {
        samples: 0,
        kernel_width: 0.25,
        num_features: Some(k),
        selection: Selection::Highest,
    };
    mlp_job(
        d,
        explain_core::attribution::estimators::Method::Lime,
        explain_core::attribution::explainer::TargetSpec::Index(0),
        300,
        Some(lime),
        None,
        pins,
    )
}

#[test]
fn pinned_choices_are_taken_as_recorded() {
    use explain_core::util::pins::{ExplanationKey, ExplanationPin, Pins};
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for f in ["mlp.onnx", "mlp_x.npy", "mlp_bg.npy"] {
        std::fs::copy(data(f), d.join(f)).unwrap();
    }
    let (free, _) = lime_job(d, 2, Pins::default()).run(None, &Silent).unwrap();
    let e = &free.explanations[0];
    let chosen = &e.surrogate.as_ref().unwrap().selected;
    assert!(e.surrogate.as_ref().unwrap().selection_margin.unwrap() >= 0.0);
    // Pin another pair of features for the first row: that row keeps them, the others not.
    let other: Vec<usize> = (0..e.values.len())
        .filter(|f| !chosen.contains(f))
        .take(2)
        .collect();
    let key = ExplanationKey {
        model_sha256: free.model.sha256.clone(),
        input_sha256: e.input_sha256.clone(),
        seed: 5,
        method: "lime".into(),
    };
    let mut pins = Pins::default();
    pins.explanations.insert(
        key,
        ExplanationPin {
            selection: Some(other.clone()),
            ..Default::default()
        },
    );
    let (pinned, _) = lime_job(d, 2, pins).run(None, &Silent).unwrap();
    assert_eq!(
        pinned.explanations[0].surrogate.as_ref().unwrap().selected,
        other
    );
    let nonzero: Vec<usize> = (0..pinned.explanations[0].values.len())
        .filter(|&f| pinned.explanations[0].values[f] != 0.0)
        .collect();
    assert_eq!(nonzero, other);
    assert_eq!(pinned.explanations[1], free.explanations[1]);
}
