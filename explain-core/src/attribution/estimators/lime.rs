//! LIME (Ribeiro et al. 2016) on coalitions, as `lime_image` does it, but seeded.
//!
//! Coalitions are Bernoulli(½) draws with the first one all ones (the explained row itself).
//! Each is weighted by `π = sqrt(exp(−d² / σ²))` with `d = 1 − sqrt(|z|/M)` the cosine distance
//! to the all-ones coalition and `σ` the kernel width (lime passes `π` as a sample weight, so
//! the effective kernel is `exp(−d²/2σ²)`). Optionally `K` features are selected (lime's
//! `forward_selection` or `highest_weights`), then a weighted ridge (α = 1) with intercept is
//! fitted on them. The attributions are its coefficients (0 for unselected features).

use super::Estimate;
pub use crate::artifact::attributions::Surrogate;
pub use crate::artifact::spec::{
    LIME_KERNEL_WIDTH as DEFAULT_KERNEL_WIDTH, LIME_SAMPLES as DEFAULT_SAMPLES, LimeParams,
    Selection,
};
use crate::attribution::engine::Engine;
use crate::math::linalg::weighted_ridge;
use crate::math::sampling::StreamKey;
use crate::{Result, bad_input};
use rand::Rng;

/// LIME on the engine's coalition game. `pinned` fixes the selected features (a recorded
/// run's, pinned by `explain verify` at a knife edge) instead of selecting them.
pub fn lime(
    engine: &Engine,
    params: &LimeParams,
    key: &StreamKey,
    pinned: Option<&[usize]>,
) -> Result<Estimate> {
    let m = engine.masker.features();
    if m == 0 {
        bad_input!("there are no features to explain");
    }
    if params.samples < 2 {
        bad_input!("LIME needs at least 2 samples, got {}", params.samples);
    }
    if !(params.kernel_width > 0.0 && params.kernel_width.is_finite()) {
        bad_input!(
            "--kernel-width must be a positive number, got {}",
            params.kernel_width
        );
    }
    let n = params.samples;
    let mut z = vec![0f64; n * m];
    z[..m].fill(1.0);
    let mut draws = key.draws();
    for row in z.chunks_exact_mut(m).skip(1) {
        let rng = draws.next_draw();
        for v in row.iter_mut() {
            *v = (rng.next_u64() >> 63) as f64;
        }
    }
    let y = engine.values(n, |i, c| {
        for (b, v) in c.iter_mut().zip(&z[i * m..(i + 1) * m]) {
            *b = *v == 1.0;
        }
    })?;
    let width2 = params.kernel_width * params.kernel_width;
    let w: Vec<f64> = z
        .chunks_exact(m)
        .map(|row| {
            let d = 1.0 - (row.iter().sum::<f64>() / m as f64).sqrt();
            (-d * d / width2).exp().sqrt()
        })
        .collect();
    if params.num_features == Some(0) {
        bad_input!("--num-features must be at least 1");
    }
    let k = params.num_features.unwrap_or(m).min(m);
    let (selected, selection_margin) = if k >= m {
        ((0..m).collect(), None)
    } else {
        let (chosen, margin) = match params.selection {
            Selection::Forward => forward(&z, n, m, &y, &w, k),
            Selection::Highest => highest(&z, n, m, &y, &w, k),
            Selection::Auto if k <= 6 => forward(&z, n, m, &y, &w, k),
            Selection::Auto => highest(&z, n, m, &y, &w, k),
        };
        (chosen, Some(margin))
    };
    let selected = match pinned {
        Some(p) if p.len() == selected.len() && p.iter().all(|&f| f < m) => p.to_vec(),
        Some(p) => bad_input!(
            "a pinned LIME selection {p:?} does not fit {} of {m} features",
            selected.len()
        ),
        None => selected,
    };
    let xs = columns(&z, n, m, &selected);
    let fit = weighted_ridge(&xs, n, selected.len(), &y, &w, 1.0);
    let mut values = vec![0f64; m];
    let mut std_errors = vec![0f64; m];
    for (i, &f) in selected.iter().enumerate() {
        values[f] = fit.coef[i];
        std_errors[f] = fit.std_errors[i];
    }
    let local_prediction = fit.intercept + fit.coef.iter().sum::<f64>();
    Ok(Estimate {
        values,
        std_errors,
        base_value: fit.intercept,
        prediction: y[0],
        coalitions: n,
        surrogate: Some(Surrogate {
            intercept: fit.intercept,
            r2: fit.r2,
            local_prediction,
            selected,
            selection_margin,
        }),
    })
}

fn columns(z: &[f64], n: usize, m: usize, cols: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(n * cols.len());
    for i in 0..n {
        out.extend(cols.iter().map(|&c| z[i * m + c]));
    }
    out
}

/// lime's `forward_selection`: add, one at a time, the feature that most raises the weighted
/// R² of an unpenalised fit. Returns the features and the smallest lead of a chosen one over
/// the runner-up of its step.
fn forward(z: &[f64], n: usize, m: usize, y: &[f64], w: &[f64], k: usize) -> (Vec<usize>, f64) {
    let mut chosen: Vec<usize> = Vec::new();
    let mut margin = f64::INFINITY;
    for _ in 0..k {
        let (mut best, mut second) = ((f64::NEG_INFINITY, 0), f64::NEG_INFINITY);
        for f in (0..m).filter(|f| !chosen.contains(f)) {
            let mut cols = chosen.clone();
            cols.push(f);
            let r2 = weighted_ridge(&columns(z, n, m, &cols), n, cols.len(), y, w, 0.0).r2;
            if r2 > best.0 {
                second = best.0;
                best = (r2, f);
            } else if r2 > second {
                second = r2;
            }
        }
        margin = margin.min(best.0 - second);
        chosen.push(best.1);
    }
    chosen.sort_unstable();
    (chosen, margin)
}

/// lime's `highest_weights`: the `k` largest |coefficients| of a ridge fit with α = 0.01 (ties
/// broken by feature index). Returns the features and the |coefficient| of the last kept
/// less that of the first dropped.
fn highest(z: &[f64], n: usize, m: usize, y: &[f64], w: &[f64], k: usize) -> (Vec<usize>, f64) {
    let all: Vec<usize> = (0..m).collect();
    let fit = weighted_ridge(&columns(z, n, m, &all), n, m, y, w, 0.01);
    let mut order = all;
    order.sort_by(|&a, &b| {
        fit.coef[b]
            .abs()
            .total_cmp(&fit.coef[a].abs())
            .then(a.cmp(&b))
    });
    let margin = fit.coef[order[k - 1]].abs() - fit.coef[order[k]].abs();
    let mut chosen = order[..k].to_vec();
    chosen.sort_unstable();
    (chosen, margin)
}
