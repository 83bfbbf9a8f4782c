//! Kernel SHAP (Lundberg & Lee 2017) with shap's sampling scheme and per-feature standard
//! errors, which shap does not give.
//!
//! **Sampling** follows shap's `KernelExplainer` exactly: subset sizes `s = 1..⌈(M−1)/2⌉`
//! weighted `(M−1)/(s(M−s))` (doubled for sizes paired with `M−s`); complete sizes are
//! enumerated (with their complements) while the budget allows, in order of size; the rest of
//! the budget is spent on random draws of a size and a uniform subset, each with its
//! complement, repeats adding weight.
//!
//! **Solve**: the efficiency-constrained weighted least squares in projected form:
//! `P = I − 11ᵀ/M`, `b' = y − v(∅) − |S|Δ/M`, `(P ZᵀWZ P) x = P ZᵀW b'`, `φ = x + Δ/M`.
//!
//! **Standard errors** by the delta method: the random draws are i.i.d., and the solution
//! moves with their sum as `δφ = K P Σ_d g_d`, where `K = (PAP)⁺` and
//! `g_d = w̄ Σ_{z ∈ draw d} z (y_z − v(∅) − zᵀφ)`. So `Cov φ ≈ K P (n Cov_d g) P K`.
//! Coalitions from enumerated sizes carry no sampling error; a full budget gives zeros.
//!
//! The solve and its standard errors are shared with [Leverage SHAP](super::leverage) through
//! [`KernelSample`]: coalitions with their regression weights, plus the random draws among them
//! grouped in strata. Draws from a stratum of `N` units without replacement (Leverage SHAP)
//! add the finite-population factor: `Cov(Σ_d g_d) ≈ Σ_strata n_s (1 − n_s/N_s) Cov_{d∈s}(g)`;
//! Kernel SHAP's draws are one stratum with replacement (`N = ∞`).

use super::{Estimate, endpoints};
use crate::attribution::engine::Engine;
use crate::math::linalg::{binom, pinv};
use crate::math::sampling::{Coalitions, StreamKey, pick_cumulative, random_subset};
use crate::{Result, bad_input};
use nalgebra::{DMatrix, DVector};
use std::collections::BTreeMap;

/// shap's default budget: `2M + 2048`.
pub fn default_samples(m: usize) -> usize {
    2 * m + 2048
}

/// The coalitions a regression estimator evaluates, their weights, and the random draws they
/// came from (Kernel SHAP's and Leverage SHAP's samples).
#[derive(Debug, Clone)]
pub struct KernelSample {
    pub coalitions: Coalitions,
    pub weights: Vec<f64>,
    /// Coalitions `..fixed` come from enumerated sizes, the rest from random draws.
    pub fixed: usize,
    /// Every random draw, in the order drawn.
    pub draws: Vec<Draw>,
    /// For each stratum, the number of units its draws come from (`f64::INFINITY` for draws
    /// with replacement).
    pub strata: Vec<f64>,
}

/// One random draw: the coalition drawn and its complement (if paired), each carrying `weight`
/// in the regression because of this draw, and the stratum it was drawn from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    pub coalition: usize,
    pub complement: Option<usize>,
    pub weight: f64,
    pub stratum: usize,
}

/// Chooses coalitions for `m` features with a budget of `samples` (the empty and full
/// coalitions excluded), exactly as shap's `KernelExplainer` does, with our seeded streams.
pub fn sample(m: usize, samples: usize, key: &StreamKey) -> KernelSample {
    let mut budget = samples;
    if m <= 30 {
        budget = budget.min((1usize << m) - 2);
    }
    let sizes = m.saturating_sub(1).div_ceil(2);
    let paired = m.saturating_sub(1) / 2;
    let mut weight: Vec<f64> = (1..=sizes)
        .map(|s| (m - 1) as f64 / (s * (m - s)) as f64)
        .collect();
    weight.iter_mut().take(paired).for_each(|w| *w *= 2.0);
    let total: f64 = weight.iter().sum();
    weight.iter_mut().for_each(|w| *w /= total);

    let mut coalitions = Coalitions::new(m);
    let mut weights = Vec::new();
    let mut z = vec![false; m];
    let mut full_sizes = 0;
    let mut left = budget as f64;
    let mut remaining = weight.clone();
    for s in 1..=sizes {
        let is_paired = s <= paired;
        let n_subsets = binom(m, s) * if is_paired { 2.0 } else { 1.0 };
        if left * remaining[s - 1] / n_subsets < 1.0 - 1e-8 {
            break;
        }
        full_sizes += 1;
        left -= n_subsets;
        if remaining[s - 1] < 1.0 {
            let r = remaining[s - 1];
            remaining.iter_mut().for_each(|w| *w /= 1.0 - r);
        }
        let w = weight[s - 1] / binom(m, s) / if is_paired { 2.0 } else { 1.0 };
        for_each_subset(m, s, &mut z, |z| {
            coalitions.push(z);
            weights.push(w);
            if is_paired {
                let c: Vec<bool> = z.iter().map(|b| !b).collect();
                coalitions.push(&c);
                weights.push(w);
            }
        });
    }
    let fixed = coalitions.len();
    let mut draws: Vec<Draw> = Vec::new();
    let mut left = budget.saturating_sub(fixed);
    if full_sizes != sizes && left > 0 {
        let mut rest: Vec<f64> = weight.clone();
        rest.iter_mut().take(paired).for_each(|w| *w /= 2.0);
        let rest = &rest[full_sizes..];
        let total: f64 = rest.iter().sum();
        let mut cumulative = Vec::with_capacity(rest.len());
        let mut acc = 0.0;
        for w in rest {
            acc += w / total;
            cumulative.push(acc);
        }
        let mut seen: BTreeMap<Vec<bool>, usize> = BTreeMap::new();
        let mut scratch = Vec::new();
        let mut rng = key.draws();
        let mut add =
            |z: &[bool], coalitions: &mut Coalitions, weights: &mut Vec<f64>, left: &mut usize| {
                if let Some(&i) = seen.get(z) {
                    weights[i] += 1.0;
                    (i, false)
                } else {
                    let i = coalitions.len();
                    coalitions.push(z);
                    weights.push(1.0);
                    seen.insert(z.to_vec(), i);
                    *left -= 1;
                    (i, true)
                }
            };
        // shap draws at most 4× the remaining budget before giving up on finding new subsets.
        for _ in 0..4 * left {
            if left == 0 {
                break;
            }
            let r = rng.next_draw();
            let s = pick_cumulative(r, &cumulative) + full_sizes + 1;
            random_subset(r, s, &mut z, &mut scratch);
            let (a, _) = add(&z, &mut coalitions, &mut weights, &mut left);
            let mut b = None;
            if left > 0 && s <= paired {
                let c: Vec<bool> = z.iter().map(|b| !b).collect();
                b = Some(add(&c, &mut coalitions, &mut weights, &mut left).0);
            }
            draws.push(Draw {
                coalition: a,
                complement: b,
                weight: 0.0,
                stratum: 0,
            });
        }
        let weight_left: f64 = weight[full_sizes..].iter().sum();
        let counted: f64 = weights[fixed..].iter().sum();
        let draw_weight = weight_left / counted;
        weights[fixed..].iter_mut().for_each(|w| *w *= draw_weight);
        draws.iter_mut().for_each(|d| d.weight = draw_weight);
    }
    KernelSample {
        coalitions,
        weights,
        fixed,
        draws,
        strata: vec![f64::INFINITY],
    }
}

/// Calls `f` with every subset of `0..m` of size `s`, in lexicographic order.
pub(crate) fn for_each_subset(m: usize, s: usize, z: &mut [bool], mut f: impl FnMut(&[bool])) {
    let mut idx: Vec<usize> = (0..s).collect();
    loop {
        z.fill(false);
        idx.iter().for_each(|&i| z[i] = true);
        f(z);
        let Some(pos) = (0..s).rev().find(|&i| idx[i] != i + m - s) else {
            return;
        };
        idx[pos] += 1;
        for j in pos + 1..s {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// Kernel SHAP with a budget of `samples` coalitions.
pub fn kernel(engine: &Engine, samples: usize, key: &StreamKey) -> Result<Estimate> {
    regression(engine, |m| sample(m, samples, key))
}

/// The Shapley regression shared by Kernel and Leverage SHAP: the endpoints, the coalitions
/// `sampler(M)` chooses (for `M ≥ 2`), their values, and [`solve`].
pub(crate) fn regression(
    engine: &Engine,
    sampler: impl FnOnce(usize) -> KernelSample,
) -> Result<Estimate> {
    let m = engine.masker.features();
    if m == 0 {
        bad_input!("there are no features to explain");
    }
    let (v0, vn) = endpoints(engine)?;
    let delta = vn - v0;
    if m == 1 {
        return Ok(Estimate {
            values: vec![delta],
            std_errors: vec![0.0],
            base_value: v0,
            prediction: vn,
            coalitions: 2,
            surrogate: None,
        });
    }
    let sample = sampler(m);
    let y = engine.values_of(&sample.coalitions)?;
    let (values, std_errors) = solve(&sample, &y, v0, delta);
    Ok(Estimate {
        values,
        std_errors,
        base_value: v0,
        prediction: vn,
        coalitions: sample.coalitions.len() + 2,
        surrogate: None,
    })
}

/// The constrained weighted least-squares solution and its delta-method standard errors.
pub fn solve(sample: &KernelSample, y: &[f64], v0: f64, delta: f64) -> (Vec<f64>, Vec<f64>) {
    let m = sample.coalitions.m;
    let mf = m as f64;
    let mut a = DMatrix::<f64>::zeros(m, m);
    let mut c = DVector::<f64>::zeros(m);
    let mut on = Vec::with_capacity(m);
    for ((z, &w), &yz) in sample.coalitions.iter().zip(&sample.weights).zip(y) {
        on.clear();
        on.extend(z.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i));
        let b = yz - v0 - on.len() as f64 * delta / mf;
        for &i in &on {
            c[i] += w * b;
            for &j in &on {
                a[(i, j)] += w;
            }
        }
    }
    let p = DMatrix::<f64>::identity(m, m) - DMatrix::<f64>::from_element(m, m, 1.0 / mf);
    let k = pinv(&(&p * &a * &p));
    let x = &k * (&p * c);
    let phi: Vec<f64> = x.iter().map(|xi| xi + delta / mf).collect();

    let mut std_errors = vec![0.0; m];
    if let Some(sum_cov) = draw_covariance(sample, y, v0, &phi) {
        let kp = &k * &p;
        let cov = &kp * sum_cov * kp.transpose();
        for (f, se) in std_errors.iter_mut().enumerate() {
            *se = cov[(f, f)].max(0.0).sqrt();
        }
    }
    (phi, std_errors)
}

/// The estimated covariance of `Σ_d g_d` over the random draws (see the module docs), or
/// `None` with fewer than two draws. Strata are taken in order and a stratum with a single
/// draw is pooled with the next (the last with the one before): the collapsed-strata
/// estimator, conservative because it counts the difference of their means as variance.
fn draw_covariance(sample: &KernelSample, y: &[f64], v0: f64, phi: &[f64]) -> Option<DMatrix<f64>> {
    let m = sample.coalitions.m;
    let mut counts = vec![0usize; sample.strata.len()];
    for d in &sample.draws {
        counts[d.stratum] += 1;
    }
    // Groups of strata with at least two draws each.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut open: (Vec<usize>, usize) = (Vec::new(), 0);
    for (s, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        open.0.push(s);
        open.1 += n;
        if open.1 >= 2 {
            groups.push(std::mem::take(&mut open.0));
            open.1 = 0;
        }
    }
    if !open.0.is_empty() {
        groups.last_mut()?.extend(open.0);
    }
    let residual = |i: usize| {
        let z = sample.coalitions.get(i);
        y[i] - v0
            - z.iter()
                .zip(phi)
                .filter(|(b, _)| **b)
                .map(|(_, p)| p)
                .sum::<f64>()
    };
    let mut stratum_group = vec![usize::MAX; sample.strata.len()];
    for (gi, g) in groups.iter().enumerate() {
        g.iter().for_each(|&s| stratum_group[s] = gi);
    }
    let mut total: Option<DMatrix<f64>> = None;
    for (gi, group) in groups.iter().enumerate() {
        let members: Vec<&Draw> = sample
            .draws
            .iter()
            .filter(|d| stratum_group[d.stratum] == gi)
            .collect();
        let n = members.len();
        let mut g = DMatrix::<f64>::zeros(n, m);
        for (row, d) in members.iter().enumerate() {
            for idx in std::iter::once(d.coalition).chain(d.complement) {
                let r = d.weight * residual(idx);
                for (f, &b) in sample.coalitions.get(idx).iter().enumerate() {
                    if b {
                        g[(row, f)] += r;
                    }
                }
            }
        }
        let mean = g.row_mean();
        for mut row in g.row_iter_mut() {
            row -= &mean;
        }
        // n · Cov_d(g) = gᵀg · n / (n − 1), times the finite-population factor 1 − n/N.
        let mut cov = g.transpose() * &g * (n as f64 / (n as f64 - 1.0));
        let population: f64 = group.iter().map(|&s| sample.strata[s]).sum();
        let fraction = n as f64 / population;
        if fraction > 0.0 {
            cov *= (1.0 - fraction).max(0.0);
        }
        total = Some(match total {
            None => cov,
            Some(t) => t + cov,
        });
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_budget_enumerates_every_proper_coalition_once() {
        for m in 2..=7 {
            let key = StreamKey::derive(0, "", "", 0, "kernel");
            let s = sample(m, 1 << 20, &key);
            assert_eq!(s.coalitions.len(), (1 << m) - 2, "m = {m}");
            assert!(s.draws.is_empty());
            let mut seen: Vec<Vec<bool>> = s.coalitions.iter().map(|z| z.to_vec()).collect();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), (1 << m) - 2);
        }
    }

    #[test]
    fn weights_match_shap_for_a_partial_budget() {
        // M = 10, 100 samples: shap enumerates size 1 and 9 (20 coalitions, weight
        // w1/(10·2) each), then draws the rest.
        let key = StreamKey::derive(0, "", "", 0, "kernel");
        let s = sample(10, 100, &key);
        assert_eq!(s.fixed, 20);
        assert_eq!(s.coalitions.len(), 100);
        let raw: Vec<f64> = (1..=5)
            .map(|k| 9.0 / (k * (10 - k)) as f64)
            .map(|w| w * 2.0)
            .collect();
        let mut raw = raw;
        raw[4] /= 2.0; // size 5 is the unpaired middle size
        let total: f64 = raw.iter().sum();
        let w1 = raw[0] / total;
        approx::assert_abs_diff_eq!(s.weights[0], w1 / 20.0, epsilon = 1e-15);
        let drawn: f64 = s.weights[20..].iter().sum();
        approx::assert_abs_diff_eq!(drawn, 1.0 - w1, epsilon = 1e-12);
    }
}
