//! Coalition budgets: the method's default, a fixed number, or `auto`, which samples until the
//! standard errors are small against the attributions.
//!
//! **The stopping rule** (Covert & Lee 2021): stop when
//! `max_i SE_i ≤ tolerance · (max_i φ_i − min_i φ_i)`, or at the largest budget allowed.
//!
//! **The budgets tried** depend only on the estimates, never on threads: the first is
//! [`auto_start`]`(M)`; after an estimate with SE ratio `r > t` the next is the forecast
//! `n·(r/t)²` (standard errors fall as `1/√n`) with 10% to spare, at least 1.25 and at most
//! eight times the last, and never above the maximum. Every round is a complete estimate with
//! that budget and the explanation's own seeded streams, so the reported result is exactly
//! what `--samples N` with the final `N` gives; `model_evals` counts the coalitions of every
//! round. Kernel and Leverage SHAP are exact at `2^M − 2` coalitions (standard errors zero),
//! so their maximum is also capped there.

use crate::Result;
pub use crate::artifact::attributions::{AutoOutcome, AutoRound};
pub use crate::artifact::spec::{
    AUTO_MAX_SAMPLES as DEFAULT_MAX_SAMPLES, AUTO_TOLERANCE as DEFAULT_TOLERANCE, Auto, Budget,
};
use crate::attribution::estimators::Estimate;

/// The first budget `auto` tries for `m` features: `max(16·M, 128)`.
pub fn auto_start(m: usize) -> usize {
    (16 * m).max(128)
}

/// `max_i SE_i / (max_i φ_i − min_i φ_i)`: 0 when every standard error is 0, `None` when the
/// attributions are all equal but their standard errors are not.
pub fn se_ratio(values: &[f64], std_errors: &[f64]) -> Option<f64> {
    let se = std_errors.iter().fold(0f64, |a, &b| a.max(b));
    if se == 0.0 {
        return Some(0.0);
    }
    let hi = values.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let lo = values.iter().fold(f64::INFINITY, |a, &b| a.min(b));
    (hi > lo).then(|| se / (hi - lo))
}

/// Runs `estimate` with growing budgets until the stopping rule holds or `max` is reached
/// (see the module docs). `max` is the effective maximum (the setting, capped where the
/// method is exact); `start` the first budget. `schedule`, when given, are the budgets to
/// run instead, in order (a recorded run's, pinned by `explain verify` at a knife edge).
/// Returns the last estimate, with `coalitions` summed over all rounds, and what happened.
pub fn run_auto(
    tolerance: f64,
    start: usize,
    max: usize,
    schedule: Option<&[usize]>,
    mut estimate: impl FnMut(usize) -> Result<Estimate>,
) -> Result<(Estimate, AutoOutcome)> {
    let max = max.max(1);
    let mut n = schedule
        .and_then(|s| s.first().copied())
        .unwrap_or(start)
        .clamp(1, max);
    let mut coalitions = 0;
    let mut trace = Vec::new();
    loop {
        let mut est = estimate(n)?;
        coalitions += est.coalitions;
        let ratio = se_ratio(&est.values, &est.std_errors);
        trace.push(AutoRound {
            samples: n,
            se_ratio: ratio,
        });
        let converged = ratio.is_some_and(|r| r <= tolerance);
        let next = match schedule {
            Some(s) => s.get(trace.len()).map(|&b| b.clamp(1, max)),
            None if converged || n >= max => None,
            None => Some(next_budget(n, ratio, tolerance).min(max)),
        };
        match next {
            Some(b) => n = b,
            None => {
                est.coalitions = coalitions;
                let outcome = AutoOutcome {
                    samples: n,
                    rounds: trace.len(),
                    se_ratio: ratio,
                    converged,
                    trace,
                };
                return Ok((est, outcome));
            }
        }
    }
}

/// The budget after `n` gave SE ratio `ratio` (> `tolerance`): the forecast with 10% to
/// spare, within `[1.25n, 8n]`.
fn next_budget(n: usize, ratio: Option<f64>, tolerance: f64) -> usize {
    let (lo, hi) = (n.saturating_add(n.div_ceil(4)), n.saturating_mul(8));
    match ratio {
        Some(r) => {
            let forecast = (n as f64 * (r / tolerance).powi(2) * 1.1).ceil();
            if forecast >= hi as f64 {
                hi
            } else {
                (forecast as usize).max(lo)
            }
        }
        None => hi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_read_and_write_as_before_plus_auto() {
        let json = |b: &Budget| serde_json::to_string(b).unwrap();
        assert_eq!(json(&Budget::Fixed(300)), "300");
        let auto = Budget::Auto(Auto {
            tolerance: 0.02,
            max_samples: 1000,
        });
        assert_eq!(
            json(&auto),
            r#"{"auto":{"tolerance":0.02,"max_samples":1000}}"#
        );
        for b in [Budget::Fixed(300), auto, Budget::Default] {
            assert_eq!(serde_json::from_str::<Budget>(&json(&b)).unwrap(), b);
        }
        assert!(serde_json::from_str::<Budget>(r#"{"auto":{"tolerance":0.02}}"#).is_err());
        assert!(Budget::parse(Some("many"), None, None).is_err());
        assert!(Budget::parse(None, None, Some(100)).is_err());
        assert!(Budget::parse(Some("auto"), Some(0.0), None).is_err());
        assert!(Budget::parse(Some("auto"), None, Some(0)).is_err());
        assert!(
            Budget::parse(Some("0"), None, None)
                .unwrap()
                .check()
                .is_err()
        );
    }

    #[test]
    fn the_ratio_and_the_next_budget() {
        assert_eq!(se_ratio(&[1.0, -1.0], &[0.0, 0.0]), Some(0.0));
        assert_eq!(se_ratio(&[1.0, -1.0, 0.5], &[0.1, 0.2, 0.0]), Some(0.1));
        assert_eq!(se_ratio(&[0.5, 0.5], &[0.1, 0.0]), None);
        // Ratio 0.02 against 0.01: four times the budget, with 10% to spare.
        assert_eq!(next_budget(1000, Some(0.02), 0.01), 4400);
        assert_eq!(next_budget(1000, Some(0.0101), 0.01), 1250);
        assert_eq!(next_budget(1000, Some(1.0), 0.01), 8000);
        assert_eq!(next_budget(1000, None, 0.01), 8000);
    }

    #[test]
    fn auto_stops_when_the_rule_holds_or_at_the_maximum() {
        // A fake estimator whose standard errors fall as 1/√n.
        let fake = |n: usize| -> Result<Estimate> {
            Ok(Estimate {
                values: vec![1.0, 0.0],
                std_errors: vec![1.0 / (n as f64).sqrt(), 0.0],
                base_value: 0.0,
                prediction: 1.0,
                coalitions: n + 2,
                surrogate: None,
            })
        };
        let (est, out) = run_auto(0.01, 128, 1 << 20, None, fake).unwrap();
        assert!(out.converged && out.se_ratio.unwrap() <= 0.01);
        // 128 → 1024 → 8192 (8× at most) → 11000 (the forecast 10,000 + 10%).
        assert_eq!((out.samples, out.rounds), (11000, 4));
        assert_eq!(est.coalitions, 130 + 1026 + 8194 + 11002);
        let trace: Vec<usize> = out.trace.iter().map(|r| r.samples).collect();
        assert_eq!(trace, [128, 1024, 8192, 11000]);
        let (_, out) = run_auto(0.001, 128, 5000, None, fake).unwrap();
        assert!(!out.converged);
        assert_eq!((out.samples, out.rounds), (5000, 3));
        // A pinned schedule is run as given, whatever the ratios say.
        let (est, out) = run_auto(0.01, 128, 1 << 20, Some(&[128, 2000]), fake).unwrap();
        assert_eq!((out.samples, out.rounds), (2000, 2));
        assert_eq!(est.coalitions, 130 + 2002);
        assert!(!out.converged);
    }
}
