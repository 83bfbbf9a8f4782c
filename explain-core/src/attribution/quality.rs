//! Explanation quality: how faithful, how stable and how model-dependent one explanation is.
//!
//! [`quality`] computes three families of figures for an explanation of one row:
//!
//! * **Faithfulness: deletion and insertion curves** (Petsiuk et al., RISE, BMVC 2018). The
//!   features are ordered by attribution, largest (most supportive of the target) first.
//!   *Deletion* starts from the row (every feature on) and switches features off (to the
//!   baseline, through the same [`Masker`] and [`Engine`] as the explanation, so batching,
//!   parallelism and the link are identical) in that order; *insertion* starts from the
//!   baseline (every feature off) and switches them on in that order. Each curve records the
//!   explained output `v(z)` (on the link scale) against the share of features switched,
//!   `x ∈ [0, 1]`, at `steps + 1` points, and its area by the trapezoid rule. The same curves
//!   for [`QualityConfig::random_orders`] seeded random orders give the reference: good
//!   attributions have a deletion AUC *below* the random one (the output falls fast) and an
//!   insertion AUC *above* it (the output recovers fast).
//! * **Seed stability**: the same explanation (method, budget, settings) re-run with seeds
//!   `seed + 1 ..= seed + seeds`; over all pairs of the `seeds + 1` runs, the mean Spearman
//!   correlation and the mean top-`k` Jaccard index of `|values|`. For LIME also Visani et
//!   al.'s (2022) VSI and CSI (definitions at [`SeedStability`]). Exact explanations are
//!   deterministic: their stability is 1 without re-running.
//! * **Model-randomisation sanity check** (Adebayo et al., NeurIPS 2018): the weights of the
//!   model's last [`QualityConfig::randomise_layers`] parameterised layers are replaced by
//!   seeded random values, the same row is explained again with the same settings, and the
//!   two explanations are compared by Spearman correlation of the signed and of the absolute
//!   values. An explanation that survives randomisation (`|values|` Spearman ≥
//!   [`RANDOMISATION_THRESHOLD`]) does not depend on what the model learned: `flag`.
//!   Which weights are randomised is defined at [`Randomisation`].
//!
//! Everything is deterministic for any number of threads: the curves go through
//! [`Engine::values`], random orders and random weights come from [`StreamKey`] streams.
//!
//! ## Example
//!
//! ```no_run
//! use explain_core::artifact::spec::{Link, Method};
//! use explain_core::attribution::{explainer, quality};
//! use explain_core::input::{self, features::FeatureSpec, image, masker::BaselineSpec};
//! use explain_core::model::{Model, ModelOptions};
//! let path = std::path::Path::new("defect_cnn.onnx");
//! let options = ModelOptions::default();
//! let model = Model::load(path, &options)?;
//! let request = input::Request {
//!     inputs: vec!["scratch.png".into()], features: FeatureSpec::Grid { rows: 4, cols: 4 },
//!     background: vec![], baseline: Some(BaselineSpec::Blur(4.0)),
//!     image: image::Preprocess { channels: image::ChannelOrder::Gray, ..Default::default() },
//!     audio: None, seed: 0, crossfade_ms: 0.0,
//! };
//! let prepared = input::prepare(&model, &request)?;
//! let settings = explainer::Settings {
//!     method: Method::Kernel, samples: Some(400).into(), seed: 0, target: explainer::TargetSpec::Index(1),
//!     link: Link::Identity, batch_size: 64, features: "grid:4x4".into(), lime: None,
//!     pins: Default::default(), reference: None,
//! };
//! let doc = explainer::explain(&model, &prepared.instances, prepared.sources, &settings,
//!     &explainer::Silent)?;
//! let q = quality::quality(&model, path, &options, &prepared.instances[0], &doc.explanations[0],
//!     &settings, &quality::QualityConfig::default())?;
//! println!("deletion AUC {:.3} (random {:.3}), insertion AUC {:.3} (random {:.3})",
//!     q.deletion.auc, q.random_deletion_auc, q.insertion.auc, q.random_insertion_auc);
//! println!("randomisation: {:?}, seed Spearman {:?}", q.randomisation.verdict,
//!     q.seed_stability.spearman);
//! # Ok::<(), explain_core::Error>(())
//! ```

pub use crate::artifact::attributions::{Curve, Quality, Randomisation, SeedStability, Verdict};
pub use crate::artifact::spec::{
    QUALITY_MAX_STEPS as DEFAULT_MAX_STEPS, QualityConfig, RANDOMISATION_THRESHOLD,
};
use crate::attribution::engine::Engine;
use crate::attribution::estimators::Method;
use crate::attribution::explainer::{self, Explanation, Instance, Settings, Silent, Sources};
use crate::input::masker::Masker;
use crate::math::sampling::{StreamKey, random_permutation};
pub use crate::math::stats::trapezoid;
pub use crate::model::weights::map_float_initializers;
use crate::model::weights::randomise_last_layers;
use crate::model::{Model, ModelOptions};
use crate::util::provenance::{sha256_f32, sha256_hex};
use crate::{Error, Result, bad_input};
use crate::{math::stability, math::stats};
use std::collections::BTreeSet;
use std::path::Path;

/// Computes the quality figures of `explanation`, an explanation of `instance` by `model`
/// made with `settings` (the model loaded from `model_path` with `options`; the randomised
/// copy is loaded the same way).
///
/// Fails with [`Error::Input`] when the pieces do not belong together (another row, another
/// model file, a different number of features) or the configuration is unusable.
pub fn quality(
    model: &Model,
    model_path: &Path,
    options: &ModelOptions,
    instance: &Instance,
    explanation: &Explanation,
    settings: &Settings,
    config: &QualityConfig,
) -> Result<Quality> {
    let m = instance.features.len();
    if instance.x.len() != model.row_len() || instance.features.ids.len() != instance.x.len() {
        bad_input!(
            "{}: {} values and {} feature ids for a model row of {} values",
            instance.name,
            instance.x.len(),
            instance.features.ids.len(),
            model.row_len()
        );
    }
    if explanation.values.len() != m {
        bad_input!(
            "the explanation of {} has {} values but the row has {m} features",
            explanation.input,
            explanation.values.len()
        );
    }
    if m == 0 {
        bad_input!("{}: there are no features to assess", instance.name);
    }
    if config.seeds > crate::util::limits::MAX_QUALITY_SEEDS {
        bad_input!(
            "--quality-seeds {} would re-run the explanation {} times; at most {} are allowed",
            config.seeds,
            config.seeds,
            crate::util::limits::MAX_QUALITY_SEEDS
        );
    }
    if let Some(v) = explanation.values.iter().find(|v| !v.is_finite()) {
        bad_input!(
            "the explanation of {} holds a non-finite value ({v})",
            explanation.input
        );
    }
    if sha256_f32(&instance.x) != explanation.input_sha256 {
        bad_input!(
            "the explanation of {} is not of row {} (its input SHA-256 differs)",
            explanation.input,
            instance.name
        );
    }
    if config.random_orders == 0 {
        bad_input!("quality: random_orders must be at least 1");
    }
    if config.k == 0 {
        bad_input!("quality: k (top-k Jaccard) must be at least 1");
    }
    if settings.batch_size == 0 {
        bad_input!("--batch-size must be at least 1");
    }
    let steps = match config.steps {
        None => m.min(DEFAULT_MAX_STEPS),
        Some(0) => bad_input!("quality: steps must be at least 1"),
        Some(s) => s.min(m),
    };
    let curves = curves(model, instance, explanation, settings, steps, config)?;
    let seed_stability = seed_stability(model, instance, explanation, settings, config)?;
    let randomisation = randomisation(
        model,
        model_path,
        options,
        instance,
        explanation,
        settings,
        config,
    )?;
    let efficiency_residual = (settings.method != Method::Lime).then(|| {
        let sum: f64 = explanation.values.iter().sum();
        (sum - (explanation.prediction - explanation.base_value)).abs()
    });
    Ok(Quality {
        efficiency_residual,
        steps,
        random_orders: config.random_orders,
        deletion: curves.deletion,
        insertion: curves.insertion,
        random_deletion_auc: curves.random_deletion_auc,
        random_insertion_auc: curves.random_insertion_auc,
        random_deletion: curves.random_deletion,
        random_insertion: curves.random_insertion,
        seed_stability,
        randomisation,
    })
}

/// Feature indices by decreasing value, ties by index.
pub fn order_by_value(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order
}

struct Curves {
    deletion: Curve,
    insertion: Curve,
    random_deletion_auc: f64,
    random_insertion_auc: f64,
    random_deletion: Curve,
    random_insertion: Curve,
}

fn curves(
    model: &Model,
    instance: &Instance,
    explanation: &Explanation,
    settings: &Settings,
    steps: usize,
    config: &QualityConfig,
) -> Result<Curves> {
    let m = instance.features.len();
    let target = explanation.target;
    let objective = explainer::objective_of(explanation, settings);
    // Features switched after step j: round(j·M/steps).
    let cuts: Vec<usize> = (0..=steps)
        .map(|j| (2 * j * m + steps) / (2 * steps))
        .collect();
    let x: Vec<f64> = cuts.iter().map(|&c| c as f64 / m as f64).collect();
    let mut orders = vec![order_by_value(&explanation.values)];
    let key = StreamKey::derive(
        settings.seed,
        &model.info.sha256,
        &explanation.input_sha256,
        target,
        &format!("quality/random-order{}", objective.stream_label()),
    );
    let mut perm = Vec::with_capacity(m);
    for r in 0..config.random_orders {
        random_permutation(&mut key.stream(r as u64), &mut perm, m);
        orders.push(perm.iter().map(|&f| f as usize).collect());
    }
    let masker = Masker::new(&instance.features, &instance.x, &instance.baseline);
    let engine = Engine::new(
        model,
        &masker,
        objective,
        settings.link,
        settings.batch_size,
        &Silent,
    );
    // Coalition 0 is the row, 1 the baseline; then the interior points of every curve:
    // deletion and insertion of order 0, then of order 1, …
    let interior = steps - 1;
    let n = 2 + 2 * orders.len() * interior;
    let v = engine.values(n, |i, z| {
        if i < 2 {
            z.fill(i == 0);
            return;
        }
        let (curve, j) = ((i - 2) / interior, (i - 2) % interior + 1);
        let deletion = curve.is_multiple_of(2);
        z.fill(deletion);
        for &f in &orders[curve / 2][..cuts[j]] {
            z[f] = !deletion;
        }
    })?;
    let (full, empty) = (v[0], v[1]);
    let curve_y = |curve: usize| -> Vec<f64> {
        let deletion = curve.is_multiple_of(2);
        let mut y = Vec::with_capacity(steps + 1);
        y.push(if deletion { full } else { empty });
        y.extend_from_slice(&v[2 + curve * interior..2 + (curve + 1) * interior]);
        y.push(if deletion { empty } else { full });
        y
    };
    let deletion = Curve::new(x.clone(), curve_y(0));
    let insertion = Curve::new(x.clone(), curve_y(1));
    let r = config.random_orders as f64;
    let mut mean_del = vec![0f64; steps + 1];
    let mut mean_ins = vec![0f64; steps + 1];
    let (mut auc_del, mut auc_ins) = (0f64, 0f64);
    for o in 1..orders.len() {
        for (mean, auc, curve) in [
            (&mut mean_del, &mut auc_del, 2 * o),
            (&mut mean_ins, &mut auc_ins, 2 * o + 1),
        ] {
            let y = curve_y(curve);
            *auc += trapezoid(&x, &y);
            for (s, v) in mean.iter_mut().zip(&y) {
                *s += v;
            }
        }
    }
    mean_del.iter_mut().for_each(|s| *s /= r);
    mean_ins.iter_mut().for_each(|s| *s /= r);
    Ok(Curves {
        deletion,
        insertion,
        random_deletion_auc: auc_del / r,
        random_insertion_auc: auc_ins / r,
        random_deletion: Curve::new(x.clone(), mean_del),
        random_insertion: Curve::new(x, mean_ins),
    })
}

/// Explains `instance` again with `settings` (the target fixed to the explanation's).
fn rerun(
    model: &Model,
    instance: &Instance,
    explanation: &Explanation,
    settings: &Settings,
) -> Result<Explanation> {
    let settings = Settings {
        target: explainer::target_of(explanation),
        ..settings.clone()
    };
    let doc = explainer::explain(
        model,
        std::slice::from_ref(instance),
        Sources::default(),
        &settings,
        &Silent,
    )?;
    doc.explanations
        .into_iter()
        .next()
        .ok_or_else(|| Error::Input(format!("{}: the re-run explained nothing", instance.name)))
}

fn seed_stability(
    model: &Model,
    instance: &Instance,
    explanation: &Explanation,
    settings: &Settings,
    config: &QualityConfig,
) -> Result<SeedStability> {
    let m = explanation.values.len();
    let k = config.k.min(m);
    if settings.method == Method::Exact {
        return Ok(SeedStability {
            seeds: vec![settings.seed],
            deterministic: true,
            spearman: Some(1.0),
            k,
            topk_jaccard: Some(1.0),
            vsi: None,
            csi: None,
        });
    }
    let mut seeds = vec![settings.seed];
    let mut runs = vec![explanation.clone()];
    for i in 1..=config.seeds as u64 {
        let seed = settings.seed.wrapping_add(i);
        let s = Settings {
            seed,
            ..settings.clone()
        };
        seeds.push(seed);
        runs.push(rerun(model, instance, explanation, &s)?);
    }
    let abs: Vec<Vec<f64>> = runs
        .iter()
        .map(|e| e.values.iter().map(|v| v.abs()).collect())
        .collect();
    let pairs = pairs(runs.len());
    let mean_over_pairs = |f: &dyn Fn(usize, usize) -> f64| -> Option<f64> {
        (!pairs.is_empty())
            .then(|| pairs.iter().map(|&(a, b)| f(a, b)).sum::<f64>() / pairs.len() as f64)
    };
    let spearman = mean_over_pairs(&|a, b| {
        stats::spearman(&abs[a], &abs[b]).unwrap_or(if abs[a] == abs[b] { 1.0 } else { 0.0 })
    });
    let topk_jaccard = mean_over_pairs(&|a, b| stability::topk_jaccard(&abs[a], &abs[b], k));
    let (mut vsi, mut csi) = (None, None);
    if settings.method == Method::Lime {
        let selected: Vec<BTreeSet<usize>> = runs
            .iter()
            .map(|e| match &e.surrogate {
                Some(s) => s.selected.iter().copied().collect(),
                None => (0..m).collect(),
            })
            .collect();
        vsi = mean_over_pairs(&|a, b| {
            let common = selected[a].intersection(&selected[b]).count();
            let size = selected[a].len().max(selected[b].len());
            if size == 0 {
                1.0
            } else {
                common as f64 / size as f64
            }
        });
        csi = coefficient_stability(&runs, &selected, &pairs);
    }
    Ok(SeedStability {
        seeds,
        deterministic: false,
        spearman,
        k,
        topk_jaccard,
        vsi,
        csi,
    })
}

/// All pairs `(a, b)` with `a < b < n`.
fn pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .collect()
}

/// Visani et al.'s CSI as defined at [`SeedStability`].
fn coefficient_stability(
    runs: &[Explanation],
    selected: &[BTreeSet<usize>],
    pairs: &[(usize, usize)],
) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let features: BTreeSet<usize> = selected.iter().flatten().copied().collect();
    if features.is_empty() {
        return None;
    }
    let interval = |run: usize, f: usize| -> (f64, f64) {
        if !selected[run].contains(&f) {
            return (0.0, 0.0);
        }
        let e = &runs[run];
        let beta = e.values.get(f).copied().unwrap_or(0.0);
        let se = e.std_errors.get(f).copied().unwrap_or(0.0);
        let half = stats::Z95 * if se.is_finite() { se } else { 0.0 };
        (beta - half, beta + half)
    };
    let mut total = 0f64;
    for &f in &features {
        let overlapping = pairs
            .iter()
            .filter(|&&(a, b)| {
                let ((lo_a, hi_a), (lo_b, hi_b)) = (interval(a, f), interval(b, f));
                lo_a <= hi_b && lo_b <= hi_a
            })
            .count();
        total += overlapping as f64 / pairs.len() as f64;
    }
    Some(total / features.len() as f64)
}

fn not_applicable(config: &QualityConfig, note: String) -> Randomisation {
    Randomisation {
        verdict: Verdict::NotApplicable,
        layers: config.randomise_layers,
        randomised: Vec::new(),
        parameters: 0,
        spearman: None,
        spearman_abs: None,
        threshold: RANDOMISATION_THRESHOLD,
        values: Vec::new(),
        note,
    }
}

fn randomisation(
    model: &Model,
    model_path: &Path,
    options: &ModelOptions,
    instance: &Instance,
    explanation: &Explanation,
    settings: &Settings,
    config: &QualityConfig,
) -> Result<Randomisation> {
    if config.randomise_layers == 0 {
        return Ok(not_applicable(
            config,
            "the model-randomisation check was not requested".into(),
        ));
    }
    let bytes = std::fs::read(model_path).map_err(|e| {
        Error::Input(format!(
            "cannot read model file {}: {e}",
            model_path.display()
        ))
    })?;
    if sha256_hex(&bytes) != model.info.sha256 {
        bad_input!(
            "model file {} is not the file the model was loaded from (its SHA-256 differs)",
            model_path.display()
        );
    }
    let key = StreamKey::derive(
        settings.seed,
        &model.info.sha256,
        "",
        0,
        "quality/randomise-weights",
    );
    let Some(randomised) =
        randomise_last_layers(&bytes, &model.output.name, config.randomise_layers, &key)?
    else {
        return Ok(not_applicable(
            config,
            format!(
                "nothing to randomise: output '{}' of model {} depends on no float weights (initializers of 2 or more elements stored in the file)",
                model.output.name, model.info.path
            ),
        ));
    };
    if randomised.bytes == bytes {
        return Ok(not_applicable(
            config,
            format!(
                "randomising {} with their own mean and standard deviation changes nothing (every one is constant)",
                randomised.names.join(", ")
            ),
        ));
    }
    let layers = plural(config.randomise_layers, "layer");
    let mut copy = Model::from_bytes(&randomised.bytes, model_path, options)?;
    // The same stream key as the original, so that both use the same coalitions.
    copy.info.sha256 = model.info.sha256.clone();
    copy.info.path = format!("{} (last {layers} randomised)", model.info.path);
    let values = match rerun(&copy, instance, explanation, settings) {
        Ok(e) => e.values,
        Err(Error::Model(why)) => {
            return Ok(Randomisation {
                randomised: randomised.names,
                parameters: randomised.parameters,
                ..not_applicable(
                    config,
                    format!(
                        "the randomised model cannot be explained: {why}; nothing can be compared"
                    ),
                )
            });
        }
        Err(e) => return Err(e),
    };
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<f64>>();
    let spearman = stats::spearman(&explanation.values, &values);
    let spearman_abs = stats::spearman(&abs(&explanation.values), &abs(&values));
    let scale = explanation.values.iter().fold(1f64, |s, v| s.max(v.abs()));
    let unchanged = explanation
        .values
        .iter()
        .zip(&values)
        .all(|(a, b)| (a - b).abs() <= 1e-9 * scale);
    let flag = match spearman_abs {
        Some(rho) => rho >= RANDOMISATION_THRESHOLD,
        None => unchanged,
    };
    let what = format!(
        "{} weights of the last {layers} ({}) randomised",
        randomised.parameters,
        randomised.names.join(", ")
    );
    let note = match (flag, spearman_abs) {
        (true, Some(rho)) => format!(
            "{what}: the attributions barely changed (Spearman of |values| {rho:.3} ≥ {RANDOMISATION_THRESHOLD}); the explanation does not reflect what the model learned"
        ),
        (true, None) => {
            format!(
                "{what}: the attributions did not change; the explanation does not reflect what the model learned"
            )
        }
        (false, Some(rho)) => format!(
            "{what}: the attributions changed (Spearman of |values| {rho:.3} < {RANDOMISATION_THRESHOLD})"
        ),
        (false, None) => format!("{what}: the attributions changed"),
    };
    Ok(Randomisation {
        verdict: if flag { Verdict::Flag } else { Verdict::Pass },
        layers: config.randomise_layers,
        randomised: randomised.names,
        parameters: randomised.parameters,
        spearman,
        spearman_abs,
        threshold: RANDOMISATION_THRESHOLD,
        values,
        note,
    })
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        what.to_string()
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trapezoid_and_order() {
        assert_eq!(trapezoid(&[0.0, 0.5, 1.0], &[1.0, 0.5, 0.0]), 0.5);
        assert_eq!(order_by_value(&[0.1, 0.3, -1.0, 0.3]), vec![1, 3, 0, 2]);
        assert_eq!(pairs(3), vec![(0, 1), (0, 2), (1, 2)]);
    }
}
