//! Explanation profiles per slice: does the model look at different things in different
//! slices? For a few items of every slice it computes attributions with the engine, averages
//! |attribution| per feature into a profile, and compares each slice's profile with the overall
//! one (1 − Spearman of the rankings, and 1 − cosine). A slice whose distance passes the
//! threshold is flagged: "the model relies on different evidence for this accent".
//!
//! Every item is explained with the same feature map, so profiles are comparable: images use a
//! grid (`grid:4x4` unless another grid is given; per-image superpixels are replaced by it),
//! audio equal time segments, tensors their elements.

pub use crate::artifact::slices::{ProfileConfig, Profiles, SliceProfile};
use crate::artifact::slices::{Slice, Status, Verdict};
use crate::attribution::explainer::{self, Progress, Settings};
use crate::input::features::FeatureSpec;
use crate::input::{self, Request};
use crate::math::sampling::random_subset;
use crate::math::stats;
use crate::model::Model;
use crate::validation::manifest::Manifest;
use crate::validation::manifest::Seeding;
use crate::{Result, bad_input};

/// Explains up to `config.per_slice` items of every slice (chosen at random, seeded) and
/// builds the profiles. `request` gives the preprocessing, features and baseline (its inputs
/// are replaced by the chosen items); `settings` the estimator.
#[allow(clippy::too_many_arguments)]
pub fn profiles(
    model: &Model,
    manifest: &Manifest,
    slices: &[Slice],
    request: &Request,
    settings: &Settings,
    config: &ProfileConfig,
    seeding: &Seeding,
    progress: &dyn Progress,
) -> Result<Profiles> {
    if config.per_slice == 0 {
        bad_input!("explanation profiles need at least one item per slice");
    }
    if !(config.threshold.is_finite() && config.threshold >= 0.0) {
        bad_input!(
            "the profile threshold must be a non-negative number, got {}",
            config.threshold
        );
    }
    let items = choose_items(
        manifest.len(),
        slices,
        config.per_slice,
        seeding,
        "slices/profile",
    );
    if items.is_empty() {
        bad_input!("no items to explain for the profiles: every slice is empty");
    }
    let image = input::is_image(&manifest.input_path(items[0]));
    let features = match request.features {
        FeatureSpec::Auto | FeatureSpec::Slic { .. } if image => {
            FeatureSpec::Grid { rows: 4, cols: 4 }
        }
        ref f => f.clone(),
    };
    let req = Request {
        inputs: items.iter().map(|&i| manifest.input_path(i)).collect(),
        features,
        ..request.clone()
    };
    let prepared = input::prepare(model, &req)?;
    let settings = Settings {
        features: prepared.features.clone(),
        ..settings.clone()
    };
    let doc = explainer::explain(
        model,
        &prepared.instances,
        prepared.sources,
        &settings,
        progress,
    )?;
    let abs: Vec<Vec<f64>> = doc
        .explanations
        .iter()
        .map(|e| e.values.iter().map(|v| v.abs()).collect())
        .collect();
    let overall = mean(abs.iter());
    let position = |i: usize| items.binary_search(&i).ok();
    let profiles = slices
        .iter()
        .map(|s| {
            let rows: Vec<&Vec<f64>> = s
                .members
                .iter()
                .filter_map(|&i| position(i))
                .map(|p| &abs[p])
                .collect();
            let mean_abs = mean(rows.iter().copied());
            let spearman_distance = (!rows.is_empty())
                .then(|| stats::spearman(&mean_abs, &overall).map(|r| 1.0 - r))
                .flatten();
            let cosine_distance = (!rows.is_empty())
                .then(|| stats::cosine(&mean_abs, &overall).map(|c| 1.0 - c))
                .flatten();
            let verdict = match spearman_distance {
                _ if s.status == Status::InsufficientData || rows.len() < 2 => {
                    Verdict::InsufficientData
                }
                Some(d) if d > config.threshold => Verdict::Flag,
                Some(_) => Verdict::Pass,
                None => Verdict::InsufficientData,
            };
            SliceProfile {
                attribute: s.attribute.clone(),
                value: s.value.clone(),
                items: rows.len(),
                mean_abs,
                spearman_distance,
                cosine_distance,
                verdict,
            }
        })
        .collect();
    let first = &doc.explanations[0];
    Ok(Profiles {
        method: doc.method.name().into(),
        features: doc.params.features.clone(),
        baseline: doc.params.baseline.clone(),
        samples: doc.params.samples,
        target: doc.params.target.clone(),
        seed: settings.seed,
        per_slice: config.per_slice,
        threshold: config.threshold,
        explained: items
            .iter()
            .map(|&i| manifest.input(i).to_string())
            .collect(),
        feature_names: first.feature_names.clone(),
        overall,
        slices: profiles,
    })
}

/// Up to `k` items of every slice, chosen uniformly at random (seeded by `seeding` and
/// `purpose`, per slice), merged and returned in manifest order.
pub fn choose_items(
    items: usize,
    slices: &[Slice],
    k: usize,
    seeding: &Seeding,
    purpose: &str,
) -> Vec<usize> {
    let mut chosen = vec![false; items];
    let (mut z, mut scratch) = (Vec::new(), Vec::new());
    for s in slices {
        z.resize(s.members.len(), false);
        let key = seeding.key(&format!("{purpose}/{}={}", s.attribute, s.value));
        random_subset(
            &mut key.stream(0),
            k.min(s.members.len()),
            &mut z,
            &mut scratch,
        );
        for (&i, &pick) in s.members.iter().zip(&z) {
            chosen[i] |= pick;
        }
    }
    (0..items).filter(|&i| chosen[i]).collect()
}

/// Element-wise mean of equally long rows; empty when there are none.
fn mean<'a>(rows: impl Iterator<Item = &'a Vec<f64>>) -> Vec<f64> {
    let mut sum: Vec<f64> = Vec::new();
    let mut n = 0usize;
    for r in rows {
        if sum.is_empty() {
            sum = vec![0.0; r.len()];
        }
        for (s, v) in sum.iter_mut().zip(r) {
            *s += v;
        }
        n += 1;
    }
    sum.iter().map(|s| s / n.max(1) as f64).collect()
}
