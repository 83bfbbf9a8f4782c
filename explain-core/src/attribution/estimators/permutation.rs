//! Antithetic permutation sampling (shap's `PermutationExplainer`).
//!
//! For each random permutation `π` the features are added one by one in order `π` (forward)
//! and then removed in the same order from the full coalition (equivalent to adding them in
//! reverse order). Each pass telescopes, so every permutation's estimate sums exactly to
//! `v(N) − v(∅)`, and a forward/backward pair is exact for interactions of order ≤ 2. The
//! empty and full coalitions are evaluated once, so one permutation costs `2(M − 1)`
//! coalitions. The standard error is the spread of the per-permutation (pair-averaged)
//! estimates over `√P`.

use super::{Estimate, endpoints};
use crate::attribution::engine::Engine;
use crate::math::sampling::{StreamKey, random_permutation};
use crate::{Result, bad_input};

/// Number of permutations a budget of `samples` coalitions buys (at least 2, so that a
/// standard error exists).
pub fn permutations_for(m: usize, samples: usize) -> usize {
    if m <= 1 {
        return 2;
    }
    (samples.saturating_sub(2) / (2 * (m - 1))).max(2)
}

/// Permutation SHAP with a budget of `samples` coalitions.
pub fn permutation(engine: &Engine, samples: usize, key: &StreamKey) -> Result<Estimate> {
    let m = engine.masker.features();
    if m == 0 {
        bad_input!("there are no features to explain");
    }
    let (v0, vn) = endpoints(engine)?;
    let p = permutations_for(m, samples);
    let steps = m - 1;
    let mut perms = Vec::with_capacity(p * m);
    let mut draws = key.draws();
    let mut perm = Vec::new();
    for _ in 0..p {
        random_permutation(draws.next_draw(), &mut perm, m);
        perms.extend_from_slice(&perm);
    }
    // Coalition (q, j): forward step j < M−1 holds π[..=j]; backward step j ≥ M−1 holds
    // everything but π[..=j−(M−1)].
    let per_perm = 2 * steps;
    let v = engine.values(p * per_perm, |i, z| {
        let (q, j) = (i / per_perm, i % per_perm);
        let perm = &perms[q * m..(q + 1) * m];
        let (forward, k) = if j < steps {
            (true, j + 1)
        } else {
            (false, j - steps + 1)
        };
        z.fill(!forward);
        for &f in &perm[..k] {
            z[f as usize] = forward;
        }
    })?;
    let mut estimates = vec![0f64; p * m];
    for q in 0..p {
        let perm = &perms[q * m..(q + 1) * m];
        let vals = &v[q * per_perm..(q + 1) * per_perm];
        let est = &mut estimates[q * m..(q + 1) * m];
        // forward: S_0 = ∅, S_k = π[..k], S_M = N
        let fwd = |k: usize| {
            if k == 0 {
                v0
            } else if k == m {
                vn
            } else {
                vals[k - 1]
            }
        };
        // backward: T_0 = N, T_k = N \ π[..k], T_M = ∅
        let bwd = |k: usize| {
            if k == 0 {
                vn
            } else if k == m {
                v0
            } else {
                vals[steps + k - 1]
            }
        };
        for k in 1..=m {
            let f = perm[k - 1] as usize;
            est[f] = 0.5 * ((fwd(k) - fwd(k - 1)) + (bwd(k - 1) - bwd(k)));
        }
    }
    let mut values = vec![0f64; m];
    let mut std_errors = vec![0f64; m];
    for f in 0..m {
        let mean = (0..p).map(|q| estimates[q * m + f]).sum::<f64>() / p as f64;
        let var = (0..p)
            .map(|q| (estimates[q * m + f] - mean).powi(2))
            .sum::<f64>()
            / (p - 1) as f64;
        values[f] = mean;
        std_errors[f] = (var / p as f64).sqrt();
    }
    Ok(Estimate {
        values,
        std_errors,
        base_value: v0,
        prediction: vn,
        coalitions: p * per_perm + 2,
        surrogate: None,
    })
}
