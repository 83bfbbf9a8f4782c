//! Small statistics for validation records: Wilson intervals, percentile intervals, a
//! chi-square test of equal proportions, Holm's correction, rank correlation and cosine
//! similarity.
//!
//! ```
//! use explain_core::math::stats;
//! let (lo, hi) = stats::wilson(8, 10).unwrap();
//! assert!((lo - 0.4901624).abs() < 1e-6 && (hi - 0.9433178).abs() < 1e-6);
//! assert_eq!(stats::holm(&[0.01, 0.04, 0.03]), vec![0.03, 0.06, 0.06]);
//! ```

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The 0.975 quantile of the standard normal distribution.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score 95% interval for `k` successes in `n` trials; `None` when `n = 0`.
/// Unlike the normal (Wald) interval it stays inside [0, 1] and keeps its coverage for small
/// `n` and for proportions near 0 or 1.
pub fn wilson(k: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Garwood's exact 95% interval for the mean of a Poisson count: `k` events observed, as a
/// count (divide by the exposure for a rate). The bounds are chi-square quantiles,
/// `χ²(0.025; 2k)/2` (0 when `k = 0`) and `χ²(0.975; 2k + 2)/2`: for 0 events
/// [0, 3.689], for 5 events [1.6235, 11.668].
pub fn garwood(k: u64) -> (f64, f64) {
    let lo = if k == 0 {
        0.0
    } else {
        ChiSquared::new(2.0 * k as f64)
            .map(|d| d.inverse_cdf(0.025) / 2.0)
            .unwrap_or(0.0)
    };
    let hi = ChiSquared::new(2.0 * k as f64 + 2.0)
        .map(|d| d.inverse_cdf(0.975) / 2.0)
        .unwrap_or(f64::INFINITY);
    (lo, hi)
}

/// p-value of the chi-square test that groups with `(events, exposure)` share one Poisson
/// rate (`Σ (k − nλ)² / nλ` with the pooled rate λ, g − 1 degrees of freedom). Groups without
/// exposure are left out; `None` with fewer than two left; 1 when no group has an event.
pub fn equal_rates_p(groups: &[(u64, u64)]) -> Option<f64> {
    let groups: Vec<(f64, f64)> = groups
        .iter()
        .filter(|g| g.1 > 0)
        .map(|&(k, n)| (k as f64, n as f64))
        .collect();
    if groups.len() < 2 {
        return None;
    }
    let rate = groups.iter().map(|g| g.0).sum::<f64>() / groups.iter().map(|g| g.1).sum::<f64>();
    if rate <= 0.0 {
        return Some(1.0);
    }
    let stat: f64 = groups
        .iter()
        .map(|&(k, n)| (k - n * rate).powi(2) / (n * rate))
        .sum();
    let dist = ChiSquared::new((groups.len() - 1) as f64).ok()?;
    Some(dist.sf(stat).clamp(0.0, 1.0))
}

/// The `q` quantile (0..=1) of sorted values, interpolating linearly between order statistics
/// (numpy's default); `None` when empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// The 95% percentile interval of bootstrap replicates (sorted in place); `None` when empty.
pub fn percentile_interval(replicates: &mut [f64]) -> Option<(f64, f64)> {
    replicates.sort_by(f64::total_cmp);
    Some((quantile(replicates, 0.025)?, quantile(replicates, 0.975)?))
}

/// p-value of Pearson's chi-square test that groups with `(successes, trials)` share one
/// proportion (a 2×g contingency table, g − 1 degrees of freedom). Groups without trials are
/// left out; `None` with fewer than two groups left. When every group is all successes or all
/// failures the proportions are equal and the p-value is 1.
pub fn equal_proportions_p(groups: &[(u64, u64)]) -> Option<f64> {
    let groups: Vec<(f64, f64)> = groups
        .iter()
        .filter(|g| g.1 > 0)
        .map(|&(k, n)| (k as f64, n as f64))
        .collect();
    if groups.len() < 2 {
        return None;
    }
    let total: f64 = groups.iter().map(|g| g.1).sum();
    let p = groups.iter().map(|g| g.0).sum::<f64>() / total;
    if p <= 0.0 || p >= 1.0 {
        return Some(1.0);
    }
    let stat: f64 = groups
        .iter()
        .map(|&(k, n)| {
            let (e1, e0) = (n * p, n * (1.0 - p));
            (k - e1).powi(2) / e1 + (n - k - e0).powi(2) / e0
        })
        .sum();
    let dist = ChiSquared::new((groups.len() - 1) as f64).ok()?;
    Some(dist.sf(stat).clamp(0.0, 1.0))
}

/// Holm's step-down adjustment of p-values (controls the family-wise error rate), in the
/// input's order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Ranks 1..=n with ties given their average rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let average = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = average;
        }
        i = j + 1;
    }
    ranks
}

/// Pearson correlation; `None` when either side is constant or the lengths differ.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    (saa > 0.0 && sbb > 0.0).then(|| (sab / (saa * sbb).sqrt()).clamp(-1.0, 1.0))
}

/// Spearman's rank correlation (Pearson on average ranks, so ties are handled).
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(&ranks(a), &ranks(b))
}

/// Cosine similarity; `None` when either vector is zero.
pub fn cosine(a: &[f64], b: &[f64]) -> Option<f64> {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    (a.len() == b.len() && na > 0.0 && nb > 0.0).then(|| (dot / (na * nb)).clamp(-1.0, 1.0))
}

/// Area under `y(x)` by the trapezoid rule.
pub fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from scipy 1.17.1 / statsmodels 0.15.0:
    // proportion_confint(k, n, method="wilson"), chi2_contingency(correction=False),
    // multipletests(method="holm"), spearmanr.
    #[test]
    fn wilson_matches_statsmodels() {
        let (lo, hi) = wilson(0, 30).unwrap();
        assert!(
            lo == 0.0 && (hi - 0.113_513_393_173_968_8).abs() < 1e-12,
            "{hi}"
        );
        let (lo, hi) = wilson(297, 390).unwrap();
        assert!((lo - 0.7168).abs() < 5e-5 && (hi - 0.8012).abs() < 5e-5);
        assert!(wilson(3, 0).is_none());
    }

    #[test]
    fn chi_square_matches_scipy() {
        // chi2_contingency([[10, 20, 30], [90, 80, 70]], correction=False).pvalue
        let p = equal_proportions_p(&[(10, 100), (20, 100), (30, 100)]).unwrap();
        assert!((p - 0.001_930_454_136_227_709_5).abs() < 1e-12, "{p}");
        assert_eq!(equal_proportions_p(&[(0, 10), (0, 20)]), Some(1.0));
        assert_eq!(equal_proportions_p(&[(3, 10), (0, 0)]), None);
    }

    #[test]
    fn garwood_matches_known_values() {
        let (lo, hi) = garwood(0);
        assert_eq!(lo, 0.0);
        assert!((hi - 3.688879).abs() < 1e-4, "{hi}");
        let (lo, hi) = garwood(5);
        assert!((lo - 1.623486).abs() < 1e-4, "{lo}");
        assert!((hi - 11.668332).abs() < 1e-4, "{hi}");
        // 20 events: the means whose Poisson tail P(X >= 20), P(X <= 20) is 0.025.
        let (lo, hi) = garwood(20);
        assert!(
            (lo - 12.216520).abs() < 1e-5 && (hi - 30.888378).abs() < 1e-5,
            "{lo} {hi}"
        );
    }

    #[test]
    fn equal_rates_test() {
        assert_eq!(equal_rates_p(&[(0, 10), (0, 20)]), Some(1.0));
        assert_eq!(equal_rates_p(&[(3, 10)]), None);
        // Equal rates: statistic 0, p = 1; 10/10 vs 0/10: statistic 10 on 1 df.
        assert!((equal_rates_p(&[(2, 10), (4, 20)]).unwrap() - 1.0).abs() < 1e-12);
        let p = equal_rates_p(&[(10, 10), (0, 10)]).unwrap();
        assert!((p - 0.001565402).abs() < 1e-8, "{p}");
    }

    #[test]
    fn holm_and_ranks() {
        let adj = holm(&[0.01, 0.02, 0.03, 0.5]);
        let want = [0.04, 0.06, 0.06, 0.5];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]).unwrap();
        assert!((rho - 0.820_782_681_668_123_3).abs() < 1e-12, "{rho}");
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]).unwrap() - 0.5f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.025), Some(1.075));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
