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

use super::{Estimate, endpoints};
use crate::engine::Engine;
use crate::linalg::{binom, pinv};
use crate::sampling::{Coalitions, StreamKey, pick_cumulative, random_subset};
use crate::{Result, bad_input};
use nalgebra::{DMatrix, DVector};
use std::collections::BTreeMap;

/// shap's default budget: `2M + 2048`.
pub fn default_samples(m: usize) -> usize {
    2 * m + 2048
}

/// The coalitions Kernel SHAP evaluates, their weights, and the draws they came from.
#[derive(Debug, Clone)]
pub struct KernelSample {
    pub coalitions: Coalitions,
    pub weights: Vec<f64>,
    /// Coalitions `..fixed` come from enumerated sizes, the rest from random draws.
    pub fixed: usize,
    /// For every random draw, the indices of its coalition and its complement (if paired).
    pub draws: Vec<(usize, Option<usize>)>,
    /// The weight one draw member adds, after rescaling.
    pub draw_weight: f64,
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
    let mut draws = Vec::new();
    let mut draw_weight = 0.0;
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
            draws.push((a, b));
        }
        let weight_left: f64 = weight[full_sizes..].iter().sum();
        let counted: f64 = weights[fixed..].iter().sum();
        draw_weight = weight_left / counted;
        weights[fixed..].iter_mut().for_each(|w| *w *= draw_weight);
    }
    KernelSample {
        coalitions,
        weights,
        fixed,
        draws,
        draw_weight,
    }
}

/// Calls `f` with every subset of `0..m` of size `s`, in lexicographic order.
fn for_each_subset(m: usize, s: usize, z: &mut [bool], mut f: impl FnMut(&[bool])) {
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
    let sample = sample(m, samples, key);
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

    let n = sample.draws.len();
    let mut std_errors = vec![0.0; m];
    if n >= 2 {
        let residual = |i: usize| {
            let z = sample.coalitions.get(i);
            y[i] - v0
                - z.iter()
                    .zip(&phi)
                    .filter(|(b, _)| **b)
                    .map(|(_, p)| p)
                    .sum::<f64>()
        };
        let mut g = DMatrix::<f64>::zeros(n, m);
        for (d, &(i, j)) in sample.draws.iter().enumerate() {
            for idx in std::iter::once(i).chain(j) {
                let r = sample.draw_weight * residual(idx);
                for (f, &b) in sample.coalitions.get(idx).iter().enumerate() {
                    if b {
                        g[(d, f)] += r;
                    }
                }
            }
        }
        let mean = g.row_mean();
        for mut row in g.row_iter_mut() {
            row -= &mean;
        }
        // n · Cov_d(g) = gᵀg · n / (n − 1)
        let sum_cov = g.transpose() * &g * (n as f64 / (n as f64 - 1.0));
        let kp = &k * &p;
        let cov = &kp * sum_cov * kp.transpose();
        for (f, se) in std_errors.iter_mut().enumerate() {
            *se = cov[(f, f)].max(0.0).sqrt();
        }
    }
    (phi, std_errors)
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
