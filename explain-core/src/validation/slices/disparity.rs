//! Disparities between the slices of one attribute: the rules that judge them (ratio or
//! difference against a threshold), the worst/best ratio and largest difference of every
//! metric, their stratified bootstrap intervals (seeded per attribute), the equal-proportions
//! test, Holm's correction, and the verdicts.

use super::metrics::{Confusion, Prediction};
use crate::artifact::slices::{Disparity, Metric, RuleKind, Slice, Status, Verdict};
use crate::math::sampling::below;
use crate::math::stats;
use crate::validation::manifest::Seeding;
use crate::{Result, bad_input};
use std::str::FromStr;

/// A threshold on one metric's disparity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// The metric judged.
    pub metric: Metric,
    /// Whether the worst/best ratio or the largest difference is compared.
    pub kind: RuleKind,
    /// A ratio below it, or a difference above it, is flagged.
    pub threshold: f64,
}

impl Rule {
    /// The defaults: ratio ≥ 0.8 for selection rate, TPR, precision and recall (the
    /// four-fifths screening rule); difference ≤ 0.1 for accuracy, FPR, FNR, miss rate, the
    /// false-detection image rate, false detections per image and FNMR; difference ≤ 0.01
    /// for FMR (false match rates are operated near 0.001, so 0.1 would hide any gap).
    pub fn defaults() -> Vec<Rule> {
        use Metric::*;
        [
            (Accuracy, RuleKind::Difference, 0.1),
            (SelectionRate, RuleKind::Ratio, 0.8),
            (Tpr, RuleKind::Ratio, 0.8),
            (Fpr, RuleKind::Difference, 0.1),
            (Fnr, RuleKind::Difference, 0.1),
            (Precision, RuleKind::Ratio, 0.8),
            (Recall, RuleKind::Ratio, 0.8),
            (MissRate, RuleKind::Difference, 0.1),
            (FalseDetectionImageRate, RuleKind::Difference, 0.1),
            (FalseDetectionsPerImage, RuleKind::Difference, 0.1),
            (Fmr, RuleKind::Difference, 0.01),
            (Fnmr, RuleKind::Difference, 0.1),
        ]
        .into_iter()
        .map(|(metric, kind, threshold)| Rule {
            metric,
            kind,
            threshold,
        })
        .collect()
    }

    /// Parses `METRIC=ratio:T` or `METRIC=difference:T`, e.g. `fpr=difference:0.05`.
    pub fn parse(s: &str) -> Result<Rule> {
        let usage = "use METRIC=ratio:T or METRIC=difference:T, e.g. tpr=ratio:0.8";
        let Some((metric, rest)) = s.split_once('=') else {
            bad_input!("rule '{s}': {usage}");
        };
        let Some((kind, t)) = rest.split_once(':') else {
            bad_input!("rule '{s}': {usage}");
        };
        let kind = match kind {
            "ratio" => RuleKind::Ratio,
            "difference" => RuleKind::Difference,
            _ => bad_input!("rule '{s}': '{kind}' is neither ratio nor difference; {usage}"),
        };
        let metric = Metric::from_str(metric)?;
        // A rate per image may differ by more than 1; its ratio stays in [0, 1].
        let most = if metric.is_rate() && kind == RuleKind::Difference {
            f64::INFINITY
        } else {
            1.0
        };
        let threshold: f64 = match t.parse() {
            Ok(v) if (0.0..=most).contains(&v) => v,
            _ if most.is_finite() => {
                bad_input!("rule '{s}': threshold '{t}' is not a number in [0, 1]")
            }
            _ => bad_input!("rule '{s}': threshold '{t}' is not a non-negative number"),
        };
        Ok(Rule {
            metric,
            kind,
            threshold,
        })
    }
}

/// Disparities across the slices of one attribute, one per rule (the rule in force for each
/// metric, in metric order), with one stratified bootstrap of `bootstrap` replicates shared by
/// all metrics: each replicate resamples every slice's items with replacement (so each slice
/// keeps its size), from the attribute's own stream of `seeding`.
pub(super) fn disparities(
    attribute: &str,
    slices: &[Slice],
    items: &[Prediction],
    rules: &[Rule],
    bootstrap: usize,
    seeding: &Seeding,
) -> Vec<Disparity> {
    let key = seeding.key(&format!("slices/bootstrap/{attribute}"));
    let ok: Vec<&Slice> = slices.iter().filter(|s| s.status == Status::Ok).collect();
    // Bootstrap confusions: replicates × ok slices.
    let replicates: Vec<Vec<Confusion>> = (0..bootstrap)
        .map(|b| {
            let mut rng = key.stream(b as u64);
            ok.iter()
                .map(|s| {
                    let mut c = Confusion::default();
                    for _ in 0..s.members.len() {
                        let j = below(&mut rng, s.members.len() as u64) as usize;
                        c.add(&items[s.members[j]]);
                    }
                    c
                })
                .collect()
        })
        .collect();
    rules
        .iter()
        .map(|&rule| {
            let metric = rule.metric;
            let compared: Vec<(usize, &Slice)> = ok
                .iter()
                .enumerate()
                .filter(|(_, s)| s.metrics[metric.name()].n > 0)
                .map(|(i, s)| (i, *s))
                .collect();
            let mut d = Disparity {
                attribute: attribute.to_string(),
                metric,
                ratio: None,
                difference: None,
                rule: rule.kind,
                threshold: rule.threshold,
                ci95: None,
                ratio_ci95: None,
                difference_ci95: None,
                p_value: None,
                p_holm: None,
                verdict: Verdict::InsufficientData,
                worst: None,
                best: None,
                compared: compared.iter().map(|(_, s)| s.value.clone()).collect(),
            };
            if compared.len() < 2 {
                return d;
            }
            let values: Vec<f64> = compared
                .iter()
                .map(|(_, s)| s.metrics[metric.name()].value.expect("n > 0"))
                .collect();
            let (ratio, difference) = spread(&values);
            let lo = argmin(&values);
            let hi = argmax(&values);
            let (worst, best) = if metric.higher_is_better() {
                (lo, hi)
            } else {
                (hi, lo)
            };
            d.worst = Some(compared[worst].1.value.clone());
            d.best = Some(compared[best].1.value.clone());
            d.ratio = Some(ratio);
            d.difference = Some(difference);
            // The interval is for the observed lowest and highest slices: recomputing min and
            // max in every replicate would measure the selection of extremes among noisy
            // slices (biased away from the estimate), not the uncertainty of this gap.
            let (mut ratios, mut diffs) = (Vec::new(), Vec::new());
            let value = |rep: &[Confusion], slice: usize| {
                let (k, n) = rep[compared[slice].0].counts(metric);
                (n > 0).then(|| k as f64 / n as f64)
            };
            for rep in &replicates {
                if let (Some(a), Some(b)) = (value(rep, lo), value(rep, hi)) {
                    if b > 0.0 {
                        ratios.push(a / b);
                    } else if a == 0.0 {
                        ratios.push(1.0);
                    }
                    diffs.push(b - a);
                }
            }
            d.ratio_ci95 = stats::percentile_interval(&mut ratios).map(|(a, b)| [a, b]);
            d.difference_ci95 = stats::percentile_interval(&mut diffs).map(|(a, b)| [a, b]);
            let groups: Vec<(u64, u64)> = compared
                .iter()
                .map(|(_, s)| {
                    let m = &s.metrics[metric.name()];
                    ((m.value.expect("n > 0") * m.n as f64).round() as u64, m.n)
                })
                .collect();
            d.p_value = if metric.is_rate() {
                stats::equal_rates_p(&groups)
            } else {
                stats::equal_proportions_p(&groups)
            };
            let breach = match rule.kind {
                RuleKind::Ratio => {
                    d.ci95 = d.ratio_ci95;
                    ratio < rule.threshold
                }
                RuleKind::Difference => {
                    d.ci95 = d.difference_ci95;
                    difference > rule.threshold
                }
            };
            d.verdict = if breach { Verdict::Flag } else { Verdict::Pass };
            d
        })
        .collect()
}

/// Holm's correction over every disparity with a test: records the adjusted p-value, and a
/// flag whose adjusted p-value is not below `alpha` becomes a pass.
pub(super) fn holm(disparities: &mut [Disparity], alpha: f64) {
    let tested: Vec<usize> = (0..disparities.len())
        .filter(|&i| disparities[i].p_value.is_some())
        .collect();
    let p: Vec<f64> = tested
        .iter()
        .map(|&i| disparities[i].p_value.expect("tested"))
        .collect();
    for (&i, adj) in tested.iter().zip(stats::holm(&p)) {
        let d = &mut disparities[i];
        d.p_holm = Some(adj);
        if d.verdict == Verdict::Flag && adj >= alpha {
            d.verdict = Verdict::Pass;
        }
    }
}

/// (min/max, max − min); the ratio is 1 when every value is 0.
fn spread(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (if hi > 0.0 { lo / hi } else { 1.0 }, hi - lo)
}

fn argmin(v: &[f64]) -> usize {
    (0..v.len())
        .min_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)))
        .expect("non-empty")
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len())
        .max_by(|&a, &b| v[a].total_cmp(&v[b]).then(b.cmp(&a)))
        .expect("non-empty")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::slices::Config;

    #[test]
    fn rules_parse_and_override() {
        let r = Rule::parse("fpr=difference:0.05").unwrap();
        assert_eq!(
            (r.metric, r.kind, r.threshold),
            (Metric::Fpr, RuleKind::Difference, 0.05)
        );
        for bad in [
            "fpr",
            "fpr=ratio",
            "fpr=odds:0.1",
            "fpr=ratio:x",
            "fpr=ratio:2",
            "auc=ratio:0.8",
        ] {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
        let cfg = Config {
            rules: vec![r],
            ..Config::default()
        };
        assert_eq!(cfg.rule(Metric::Fpr).threshold, 0.05);
        assert_eq!(cfg.rule(Metric::Tpr).kind, RuleKind::Ratio);
    }
}
