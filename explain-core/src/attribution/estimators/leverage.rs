//! Leverage SHAP (Musco & Witter, ICLR 2025), following rtealwitter/leverageshap
//! (`estimators/leverage_shap.py`, `sampling.py`), with paired sampling without replacement
//! by subset size and per-feature standard errors.
//!
//! **Sampling.** The leverage scores of the Shapley regression are `ℓ_S ∝ 1/C(M,|S|)`: every
//! subset size gets the same mass. A budget of `m` coalitions (the empty and full ones
//! excluded; rounded down to an even number, at most `2^M − 2`) is spread over the sizes
//! `s = 1..M−1` by solving `Σ_s min(C(M,s), c) = m` for `c` (piecewise linear in `c`), so size
//! `s` is sampled with probability `p_s = min(1, c/C(M,s))`, and rounding `min(C(M,s), c)` to
//! integers `k_s` symmetrically (`k_s = k_{M−s}`) with `Σ k_s = m`. For each size `s < M/2`,
//! `k_s` distinct subsets are drawn uniformly without replacement (Floyd's algorithm on their
//! lexicographic ranks, [`distinct_subsets`]), each with its complement; for even `M` the
//! middle size draws `k_{M/2}/2` subsets of size `M/2 − 1` of the first `M − 1` players with
//! the last one added, and their complements (so no complement is drawn twice). Sizes with
//! `k_s = C(M,s)` are enumerated. The realised inclusion probability is `p_s = k_s/C(M,s)`.
//!
//! **Solve.** Weights `W_S = [1/(C(M,s)·s·(M−s))]/p_s` (the Shapley kernel over the sampling
//! probability), then the projected efficiency-constrained weighted least squares of
//! [`kernel::solve`](super::kernel::solve), shared with Kernel SHAP. When every coalition is
//! enumerated (`m ≥ 2^M − 2`) the result is exact.
//!
//! **Standard errors.** The delta method of Kernel SHAP, stratified: each sampled size pair
//! `(s, M−s)` (and the middle size) is a stratum of `N_s` complement pairs from which `n_s`
//! were drawn without replacement, so `Cov(Σ_d g_d) ≈ Σ_s n_s (1 − n_s/N_s) Cov_{d∈s}(g)`
//! (the finite-population correction). Enumerated sizes (`p_s = 1`) carry no sampling error,
//! so a full budget gives zeros. A stratum with a single draw is pooled with its neighbour
//! (the collapsed-strata estimator, slightly conservative).

use super::Estimate;
use super::kernel::{self, Draw, KernelSample, for_each_subset};
use crate::Result;
use crate::attribution::engine::Engine;
use crate::math::linalg::binom;
use crate::math::sampling::{Coalitions, StreamKey, distinct_subsets};

/// How a budget is spread over subset sizes `1..M−1`.
#[derive(Debug, Clone, PartialEq)]
pub struct SizePlan {
    /// `c` in `Σ_s min(C(M,s), c) = m`.
    pub c: f64,
    /// Coalitions of each size `s` (index `s − 1`), symmetric, summing to the (even) budget.
    pub counts: Vec<u64>,
}

impl SizePlan {
    /// The inclusion probability of each size (index `s − 1`): `k_s / C(M,s)`.
    pub fn probabilities(&self) -> Vec<f64> {
        let m = self.counts.len() + 1;
        self.counts
            .iter()
            .enumerate()
            .map(|(i, &k)| k as f64 / binom(m, i + 1))
            .collect()
    }
}

/// The coalitions a budget buys for `m ≥ 2` features: `samples` rounded down to an even
/// number, at most `2^M − 2`.
pub fn coalitions_for(m: usize, samples: usize) -> usize {
    let all = if m < 63 {
        (1usize << m) - 2
    } else {
        usize::MAX
    };
    samples.min(all) & !1
}

/// Solves `Σ_{s=1}^{M−1} min(C(M,s), c) = target` for `c` (`0 ≤ target ≤ 2^M − 2`).
pub fn solve_c(m: usize, target: f64) -> f64 {
    let mut caps: Vec<f64> = (1..m).map(|s| binom(m, s)).collect();
    caps.sort_by(f64::total_cmp);
    // Between the j-th and (j+1)-th smallest caps, the sum is saturated + (M−1−j)·c.
    let mut saturated = 0.0;
    for (j, &cap) in caps.iter().enumerate() {
        let free = (caps.len() - j) as f64;
        if saturated + free * cap >= target {
            return ((target - saturated) / free).max(0.0);
        }
        saturated += cap;
    }
    caps.last().copied().unwrap_or(0.0)
}

/// The number of coalitions of each size for a budget of `samples` (see the module docs).
pub fn plan(m: usize, samples: usize) -> SizePlan {
    assert!(m >= 2, "Leverage SHAP needs at least two features");
    let target = coalitions_for(m, samples) as u64;
    let c = solve_c(m, target as f64);
    let caps: Vec<f64> = (1..m).map(|s| binom(m, s)).collect();
    let x: Vec<f64> = caps.iter().map(|&cap| cap.min(c)).collect();
    let mut counts = vec![0u64; m - 1];
    // Units of two coalitions: a size pair (s, M−s), or the middle size of an even M (whose
    // count stays even, as its draws are complement pairs).
    struct Unit {
        s: usize,
        middle: bool,
        room: u64,
        priority: f64,
    }
    let mut units = Vec::new();
    for s in 1..=m / 2 {
        let middle = 2 * s == m;
        let cap = caps[s - 1] as u64;
        let (base, priority) = if middle {
            let even = 2 * (x[s - 1] / 2.0).floor() as u64;
            (even, x[s - 1] - even as f64)
        } else {
            let f = x[s - 1].floor();
            (f as u64, 2.0 * (x[s - 1] - f))
        };
        counts[s - 1] = base.min(cap);
        counts[m - s - 1] = counts[s - 1];
        units.push(Unit {
            s,
            middle,
            room: if middle {
                (cap - counts[s - 1]) / 2
            } else {
                cap - counts[s - 1]
            },
            priority,
        });
    }
    let mut left = target.saturating_sub(counts.iter().sum::<u64>());
    // The largest rounding remainders first (ties: smaller sizes), then, should floating-point
    // rounding leave more, any unit with room.
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        units[b]
            .priority
            .total_cmp(&units[a].priority)
            .then(a.cmp(&b))
    });
    let give = |u: &mut Unit, counts: &mut Vec<u64>, left: &mut u64| {
        if *left >= 2 && u.room > 0 {
            u.room -= 1;
            *left -= 2;
            if u.middle {
                counts[u.s - 1] += 2;
            } else {
                counts[u.s - 1] += 1;
                counts[m - u.s - 1] += 1;
            }
        }
    };
    for &i in &order {
        if units[i].priority > 0.0 {
            give(&mut units[i], &mut counts, &mut left);
        }
    }
    while left >= 2 && units.iter().any(|u| u.room > 0) {
        for u in units.iter_mut() {
            give(u, &mut counts, &mut left);
        }
    }
    SizePlan { c, counts }
}

/// Chooses coalitions for `m ≥ 2` features with a budget of `samples` (see the module docs):
/// enumerated sizes first, then the draws, each size in increasing order, from one seeded
/// stream.
pub fn sample(m: usize, samples: usize, key: &StreamKey) -> KernelSample {
    let plan = plan(m, samples);
    let p = plan.probabilities();
    let weight = |s: usize| 1.0 / (binom(m, s) * (s * (m - s)) as f64) / p[s - 1];
    let mut coalitions = Coalitions::new(m);
    let mut weights = Vec::new();
    let mut draws = Vec::new();
    let mut strata = Vec::new();
    let mut z = vec![false; m];
    let pair = |z: &[bool], w: f64, coalitions: &mut Coalitions, weights: &mut Vec<f64>| {
        let i = coalitions.len();
        coalitions.push(z);
        let c: Vec<bool> = z.iter().map(|b| !b).collect();
        coalitions.push(&c);
        weights.extend([w, w]);
        i
    };
    // For size s (≤ M/2): the players subsets are drawn from, the size drawn, whether the
    // last player is pinned, and the number of complement pairs.
    let unit = |s: usize| {
        let k = plan.counts[s - 1];
        if 2 * s == m {
            (m - 1, s - 1, true, k / 2)
        } else {
            (m, s, false, k)
        }
    };
    let complete = |s: usize| plan.counts[s - 1] as f64 == binom(m, s);
    for s in (1..=m / 2).filter(|&s| complete(s)) {
        let (n, size, pinned, _) = unit(s);
        let w = weight(s);
        for_each_subset(n, size, &mut z[..n], |sub| {
            let mut full = sub.to_vec();
            if pinned {
                full.push(true);
            }
            pair(&full, w, &mut coalitions, &mut weights);
        });
    }
    let fixed = coalitions.len();
    let mut stream = key.draws();
    for s in (1..=m / 2).filter(|&s| !complete(s)) {
        let (n, size, pinned, k) = unit(s);
        if k == 0 {
            continue;
        }
        let w = weight(s);
        let stratum = strata.len();
        strata.push(binom(n, size));
        distinct_subsets(&mut stream, n, size, k as usize, |sub| {
            let mut full = sub.to_vec();
            if pinned {
                full.push(true);
            }
            let i = pair(&full, w, &mut coalitions, &mut weights);
            draws.push(Draw {
                coalition: i,
                complement: Some(i + 1),
                weight: w,
                stratum,
            });
        });
    }
    KernelSample {
        coalitions,
        weights,
        fixed,
        draws,
        strata,
    }
}

/// Leverage SHAP with a budget of `samples` coalitions.
pub fn leverage(engine: &Engine, samples: usize, key: &StreamKey) -> Result<Estimate> {
    kernel::regression(engine, |m| sample(m, samples, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StreamKey {
        StreamKey::derive(0, "", "", 0, "leverage")
    }

    #[test]
    fn c_solves_the_piecewise_linear_budget_equation() {
        for m in 2..=16 {
            let all = (1usize << m) - 2;
            for target in [0, 2, 10, 50, 128, 500, 2048, all] {
                let target = target.min(all);
                let c = solve_c(m, target as f64);
                let sum: f64 = (1..m).map(|s| binom(m, s).min(c)).sum();
                assert!(
                    (sum - target as f64).abs() < 1e-6,
                    "m {m} target {target}: c {c} gives {sum}"
                );
            }
        }
        // M = 10, m = 100: sizes 1 and 9 (10 each) saturate below c = 80/7.
        approx::assert_abs_diff_eq!(solve_c(10, 100.0), 80.0 / 7.0, epsilon = 1e-12);
    }

    #[test]
    fn counts_are_symmetric_even_within_caps_and_spend_the_budget() {
        for m in 2..=14 {
            for samples in [1, 2, 7, 31, 100, 128, 257, 1000, 5000, 1 << 20] {
                let p = plan(m, samples);
                let total: u64 = p.counts.iter().sum();
                assert_eq!(
                    total as usize,
                    coalitions_for(m, samples),
                    "m {m} n {samples}"
                );
                assert_eq!(total % 2, 0);
                for s in 1..m {
                    let k = p.counts[s - 1];
                    assert_eq!(k, p.counts[m - s - 1], "m {m} n {samples}: symmetric");
                    assert!(k as f64 <= binom(m, s));
                    // Rounding moves a count by less than one from min(C(M,s), c)
                    // (two for the middle size, whose count is even).
                    let x = binom(m, s).min(p.c);
                    assert!((k as f64 - x).abs() < if 2 * s == m { 2.0 } else { 1.0 });
                }
                if m % 2 == 0 {
                    assert_eq!(p.counts[m / 2 - 1] % 2, 0);
                }
                for (s, pr) in p.probabilities().iter().enumerate() {
                    assert!((0.0..=1.0).contains(pr), "size {}: {pr}", s + 1);
                }
            }
        }
    }

    #[test]
    fn the_sampler_respects_the_counts_and_never_repeats_a_coalition() {
        for m in [2, 3, 5, 8, 10, 11, 16, 40] {
            for samples in [6, 40, 128, 600, 4000] {
                let s = sample(m, samples, &key());
                let p = plan(m, samples);
                assert_eq!(s.coalitions.len() as u64, p.counts.iter().sum::<u64>());
                let mut per_size = vec![0u64; m + 1];
                for z in s.coalitions.iter() {
                    per_size[z.iter().filter(|b| **b).count()] += 1;
                }
                assert_eq!(per_size[0], 0);
                assert_eq!(per_size[m], 0);
                assert_eq!(&per_size[1..m], &p.counts[..], "m {m} n {samples}");
                let mut all: Vec<Vec<bool>> = s.coalitions.iter().map(|z| z.to_vec()).collect();
                all.sort();
                all.dedup();
                assert_eq!(all.len(), s.coalitions.len(), "m {m} n {samples}: a repeat");
                // Every draw is a coalition and its complement, with the regression weight.
                for d in &s.draws {
                    let a = s.coalitions.get(d.coalition);
                    let b = s.coalitions.get(d.complement.unwrap());
                    assert!(a.iter().zip(b).all(|(x, y)| x != y));
                    assert_eq!(s.weights[d.coalition], d.weight);
                }
                assert_eq!(s.fixed + 2 * s.draws.len(), s.coalitions.len());
                // Reproducible from the key.
                let again = sample(m, samples, &key());
                assert_eq!(again.weights, s.weights);
                assert_eq!(again.draws, s.draws);
            }
        }
    }

    /// A game with interactions of order three (which paired sampling does not solve
    /// exactly): `v(S) = (Σ_{i∈S} w_i)³` with `w_i = (i + 1)/M`.
    fn cube(z: &[bool]) -> f64 {
        let m = z.len() as f64;
        let t: f64 = z
            .iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| (i + 1) as f64 / m)
            .sum();
        t * t * t
    }

    fn values(s: &KernelSample) -> (Vec<f64>, f64) {
        let m = s.coalitions.m;
        (
            s.coalitions.iter().map(cube).collect(),
            cube(&vec![true; m]),
        )
    }

    #[test]
    fn thin_strata_are_pooled_so_every_feature_gets_a_standard_error() {
        // M = 40 with 60 coalitions: c ≈ 1.5, so most sizes hold a single complement pair.
        let s = sample(40, 60, &key());
        let mut per_stratum = vec![0; s.strata.len()];
        s.draws.iter().for_each(|d| per_stratum[d.stratum] += 1);
        assert!(per_stratum.contains(&1), "{per_stratum:?}");
        let (y, vn) = values(&s);
        let (phi, se) = kernel::solve(&s, &y, 0.0, vn);
        approx::assert_abs_diff_eq!(phi.iter().sum::<f64>(), vn, epsilon = 1e-9);
        assert!(se.iter().all(|e| e.is_finite() && *e > 0.0), "{se:?}");
    }

    #[test]
    fn the_estimate_is_exact_with_a_full_budget_and_within_its_errors_otherwise() {
        let m = 9;
        // Exact Shapley values by enumeration.
        let mut exact = vec![0f64; m];
        let mut z = vec![false; m];
        for mask in 0usize..1 << m {
            z.iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b = mask >> i & 1 == 1);
            let size = mask.count_ones() as usize;
            let w = 1.0 / (m as f64 * binom(m - 1, size));
            for i in (0..m).filter(|&i| !z[i]) {
                let mut with = z.clone();
                with[i] = true;
                exact[i] += w * (cube(&with) - cube(&z));
            }
        }
        for (budget, tol) in [(510, 1e-9), (400, 0.25)] {
            let s = sample(m, budget, &key());
            let (y, vn) = values(&s);
            let (phi, se) = kernel::solve(&s, &y, 0.0, vn);
            for ((p, e), x) in phi.iter().zip(&se).zip(&exact) {
                assert!((p - x).abs() <= tol * x, "budget {budget}: {p} vs {x}");
                assert_eq!(*e == 0.0, budget == 510, "budget {budget}: SE {e}");
                // An honest standard error: the error is within a few of them.
                assert!(
                    (p - x).abs() <= 4.0 * e + 1e-12,
                    "budget {budget}: {p} vs {x} ± {e}"
                );
            }
        }
    }

    #[test]
    fn a_full_budget_enumerates_every_proper_coalition_without_draws() {
        for m in 2..=9 {
            let s = sample(m, 1 << 20, &key());
            assert_eq!(s.coalitions.len(), (1 << m) - 2, "m = {m}");
            assert!(s.draws.is_empty());
            // p_s = 1, so the weights are the Shapley kernel 1/(C(M,s) s (M−s)).
            for (z, w) in s.coalitions.iter().zip(&s.weights) {
                let k = z.iter().filter(|b| **b).count();
                approx::assert_relative_eq!(*w, 1.0 / (binom(m, k) * (k * (m - k)) as f64));
            }
        }
    }
}
