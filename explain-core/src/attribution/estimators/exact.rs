//! Exact Shapley values by enumerating all `2^M` coalitions:
//! `φ_i = Σ_{S ∌ i} |S|! (M − |S| − 1)! / M! · (v(S ∪ {i}) − v(S))`.

use super::Estimate;
use crate::attribution::engine::Engine;
use crate::math::linalg::binom;
use crate::{Result, bad_input};

/// The largest `M` exact enumeration accepts (2^20 coalitions).
pub const MAX_FEATURES: usize = 20;

/// Exact Shapley values. Refuses `M > MAX_FEATURES`.
pub fn exact(engine: &Engine) -> Result<Estimate> {
    let m = engine.masker.features();
    check_size(m)?;
    let n = 1usize << m;
    // Coalition `s` holds feature `f` when bit `f` of `s` is set.
    let v = engine.values(n, |s, z| {
        for (f, b) in z.iter_mut().enumerate() {
            *b = (s >> f) & 1 == 1;
        }
    })?;
    let weight: Vec<f64> = (0..m).map(|s| 1.0 / (m as f64 * binom(m - 1, s))).collect();
    let mut values = vec![0f64; m];
    for (s, &vs) in v.iter().enumerate() {
        let w = weight.get(s.count_ones() as usize).copied().unwrap_or(0.0);
        for (f, phi) in values.iter_mut().enumerate() {
            if (s >> f) & 1 == 0 {
                *phi += w * (v[s | (1 << f)] - vs);
            }
        }
    }
    Ok(Estimate {
        values,
        std_errors: vec![0.0; m],
        base_value: v[0],
        prediction: v[n - 1],
        coalitions: n,
        surrogate: None,
    })
}

/// Fails with a clear message when `m` features are too many to enumerate.
pub fn check_size(m: usize) -> Result<()> {
    if m > MAX_FEATURES {
        bad_input!(
            "method exact enumerates all 2^M coalitions and accepts at most {MAX_FEATURES} features; this input has {m} (2^{m} coalitions): use --method kernel or permutation, or group features with --features"
        );
    }
    if m == 0 {
        bad_input!("there are no features to explain");
    }
    Ok(())
}
