//! The comparisons: items matched by (method, input, target) and their similarities checked
//! against the thresholds, the per-method means and global importance, the parameters, and for
//! reports every slice metric and verdict (see the [module docs](super)).

use super::document::{Item, Side};
use super::outcome::{
    Diff, Direction, ItemDiff, ItemKey, MethodSummary, MetricChange, ReportDiff, VerdictChange,
    Worst,
};
use super::table::fixed;
use super::thresholds::Thresholds;
use crate::artifact::report::Report;
use crate::artifact::slices::{MetricValue, RuleKind, Status};
use crate::math::stability::{self, Similarity};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Slack for comparisons against thresholds, so that floating-point noise in a change that
/// equals the threshold (0.55 − 0.5) does not fail a check.
const EPS: f64 = 1e-12;

/// Notes on changed parameters of a method on both sides, and on different methods.
pub(super) fn compare_params(a: &Side, b: &Side, notes: &mut Vec<String>) {
    for (method, pa) in &a.params {
        let Some((_, pb)) = b.params.iter().find(|(m, _)| m == method) else {
            continue;
        };
        let changed: Vec<String> = pa
            .iter()
            .filter_map(|(k, x)| {
                let y = pb.get(k).map_or("(unset)", String::as_str);
                (x != y).then(|| format!("{k} {x} -> {y}"))
            })
            .chain(
                pb.iter()
                    .filter(|(k, _)| !pa.contains_key(*k))
                    .map(|(k, y)| format!("{k} (unset) -> {y}")),
            )
            .collect();
        if !changed.is_empty() {
            notes.push(format!(
                "{method} parameters changed: {}",
                changed.join(", ")
            ));
        }
    }
    let methods = |d: &Side| {
        d.params
            .iter()
            .map(|(m, _)| m.to_string())
            .collect::<Vec<_>>()
    };
    let (ma, mb) = (methods(a), methods(b));
    if ma != mb {
        notes.push(format!(
            "methods differ: old {}, new {}",
            ma.join(", "),
            mb.join(", ")
        ));
    }
}

/// True when every value equals the first (so ranks carry nothing); true for ≤ 1 value.
fn constant(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] == w[1])
}

fn all_zero(v: &[f64]) -> bool {
    v.iter().all(|x| *x == 0.0)
}

/// The value a check compares against its threshold: the similarity when defined; `None`
/// (skip) when both sides are degenerate; 0 when only one is (see the module docs).
fn counted(value: Option<f64>, degenerate: (bool, bool)) -> Option<f64> {
    match (value, degenerate) {
        (Some(v), _) => Some(v),
        (None, (true, true)) => None,
        (None, _) => Some(0.0),
    }
}

/// Formats `value` and `threshold` with 2 decimals, or more when 2 would make them look equal.
fn versus(value: f64, threshold: f64, decimals: usize) -> (String, String) {
    let mut d = decimals;
    loop {
        let (v, t) = (format!("{value:.d$}"), format!("{threshold:.d$}"));
        if v != t || d >= 9 {
            return (v, t);
        }
        d += 1;
    }
}

/// The failed checks of one pair of attribution vectors.
fn checks(a: &[f64], b: &[f64], s: &Similarity, t: &Thresholds) -> Vec<String> {
    let flat = (constant(a), constant(b));
    let zero = (all_zero(a), all_zero(b));
    let why = |(x, y): (bool, bool), what: &str| -> String {
        if x && !y {
            format!("undefined (old attributions are {what}, new are not), counted as ")
        } else if y && !x {
            format!("undefined (new attributions are {what}, old are not), counted as ")
        } else {
            String::new()
        }
    };
    let mut failures = Vec::new();
    let mut at_least =
        |label: &str, value: Option<f64>, degenerate: (bool, bool), min: f64, what: &str| {
            if let Some(v) = counted(value, degenerate)
                && v < min - EPS
            {
                let (v, m) = versus(v, min, 2);
                let prefix = if value.is_none() {
                    why(degenerate, what)
                } else {
                    String::new()
                };
                failures.push(format!("{label} {prefix}{v} < {m}"));
            }
        };
    at_least("Spearman", s.spearman, flat, t.min_spearman, "constant");
    if let Some(min) = t.min_kendall {
        at_least("tau-b", s.kendall_tau_b, flat, min, "constant");
    }
    at_least(
        &format!("top-{} Jaccard", s.k),
        Some(s.topk_jaccard),
        (false, false),
        t.min_topk_jaccard,
        "",
    );
    if let Some(min) = t.min_cosine {
        at_least("cosine", s.cosine, zero, min, "all zero");
    }
    if let Some(max) = t.max_abs_change
        && s.max_abs_change > max + EPS
    {
        let (v, m) = versus(s.max_abs_change, max, 3);
        failures.push(format!("largest attribution change {v} > {m}"));
    }
    failures
}

/// max |Δ| / √(se_a² + se_b²) over features with a nonzero combined standard error.
fn change_in_se(a: &Item, b: &Item) -> Option<f64> {
    let (sa, sb) = (a.std_errors, b.std_errors);
    if sa.len() != a.values.len() || sb.len() != b.values.len() {
        return None;
    }
    (0..a.values.len())
        .filter_map(|i| {
            let se = (sa[i] * sa[i] + sb[i] * sb[i]).sqrt();
            (se > 0.0).then(|| (a.values[i] - b.values[i]).abs() / se)
        })
        .reduce(f64::max)
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Matches the items of both sides and compares each pair, then each method's means, worst
/// item and global importance; regressions and notes go into `d`.
pub(super) fn compare_items(a: &Side, b: &Side, t: &Thresholds, d: &mut Diff) -> Result<()> {
    // NEW's items by key, in order, so that repeated keys match in order of appearance.
    let mut pool: BTreeMap<&ItemKey, std::collections::VecDeque<usize>> = BTreeMap::new();
    for (j, item) in b.items.iter().enumerate() {
        pool.entry(&item.key).or_default().push_back(j);
    }
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (i, item) in a.items.iter().enumerate() {
        match pool.get_mut(&item.key).and_then(|q| q.pop_front()) {
            Some(j) => pairs.push((i, j)),
            None => {
                d.regressions.push(format!(
                    "{}: in old but missing from new, so its explanation cannot be compared",
                    item.key
                ));
                d.missing.push(item.key.clone());
            }
        }
    }
    let mut leftover: Vec<usize> = pool.into_values().flatten().collect();
    leftover.sort_unstable();
    for j in leftover {
        d.notes.push(format!(
            "{}: only in new, nothing to compare with",
            b.items[j].key
        ));
        d.added.push(b.items[j].key.clone());
    }

    for &(i, j) in &pairs {
        let (x, y) = (&a.items[i], &b.items[j]);
        if x.values.len() != y.values.len() {
            return Err(Error::Input(format!(
                "{}: {} has {} attributions and {} has {}: explain both with the same features",
                x.key,
                d.old.name,
                x.values.len(),
                d.new.name,
                y.values.len()
            )));
        }
        if let (Some(fa), Some(fb)) = (&x.feature_names, &y.feature_names)
            && fa != fb
        {
            return Err(Error::Input(format!(
                "{}: the feature names differ between {} and {}: explain both with the same features",
                x.key, d.old.name, d.new.name
            )));
        }
        let s = stability::similarity(x.values, y.values, t.k)
            .map_err(|e| Error::Input(format!("{}: {e}", x.key)))?;
        let failures = checks(x.values, y.values, &s, t);
        if !failures.is_empty() {
            d.regressions
                .push(format!("{}: {}", x.key, failures.join(", ")));
        }
        d.items.push(ItemDiff {
            key: x.key.clone(),
            max_change_in_se: change_in_se(x, y),
            similarity: s,
            failures,
        });
    }

    // Per method, in order of first appearance.
    let mut methods: Vec<&str> = Vec::new();
    for m in a
        .params
        .iter()
        .map(|p| p.0)
        .chain(a.items.iter().map(|i| i.key.method.as_str()))
    {
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    for method in methods {
        let matched: Vec<(usize, usize, usize)> = pairs
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| a.items[*i].key.method == method)
            .map(|(n, &(i, j))| (n, i, j))
            .collect();
        let sims: Vec<(&ItemDiff, &Item, &Item)> = matched
            .iter()
            .map(|&(n, i, j)| (&d.items[n], &a.items[i], &b.items[j]))
            .collect();
        let flat = |x: &Item, y: &Item| (constant(x.values), constant(y.values));
        let zero = |x: &Item, y: &Item| (all_zero(x.values), all_zero(y.values));
        let mean_spearman = mean(
            sims.iter()
                .filter_map(|(s, x, y)| counted(s.similarity.spearman, flat(x, y))),
        );
        let mean_topk_jaccard = mean(sims.iter().map(|(s, _, _)| s.similarity.topk_jaccard));
        let mean_cosine = mean(
            sims.iter()
                .filter_map(|(s, x, y)| counted(s.similarity.cosine, zero(x, y))),
        );
        let worst = sims
            .iter()
            .min_by(|(s, x, y), (r, u, v)| {
                let ks = counted(s.similarity.spearman, flat(x, y)).unwrap_or(1.0);
                let kr = counted(r.similarity.spearman, flat(u, v)).unwrap_or(1.0);
                ks.total_cmp(&kr).then(
                    s.similarity
                        .topk_jaccard
                        .total_cmp(&r.similarity.topk_jaccard),
                )
            })
            .map(|(s, _, _)| Worst {
                input: s.key.input.clone(),
                target: s.key.target,
                spearman: s.similarity.spearman,
                topk_jaccard: s.similarity.topk_jaccard,
            });
        let global_of = |items: Vec<&Item>| -> Option<Vec<f64>> {
            let m = items.first()?.values.len();
            if items.iter().any(|i| i.values.len() != m) {
                return None;
            }
            let n = items.len() as f64;
            Some(
                (0..m)
                    .map(|f| items.iter().map(|i| i.values[f].abs()).sum::<f64>() / n)
                    .collect(),
            )
        };
        let ga = global_of(matched.iter().map(|&(_, i, _)| &a.items[i]).collect());
        let gb = global_of(matched.iter().map(|&(_, _, j)| &b.items[j]).collect());
        let (global, global_failures) = match (ga, gb) {
            (Some(ga), Some(gb)) => {
                let s = stability::similarity(&ga, &gb, t.k)?;
                // With one item the global importance is that item's |attributions|, already
                // checked.
                let f = if matched.len() >= 2 {
                    checks(&ga, &gb, &s, t)
                } else {
                    Vec::new()
                };
                if !f.is_empty() {
                    d.regressions.push(format!(
                        "{method} global importance (mean |attribution| over {} matched item{}): {}",
                        matched.len(),
                        if matched.len() == 1 { "" } else { "s" },
                        f.join(", ")
                    ));
                }
                (Some(s), f)
            }
            _ => {
                if !matched.is_empty() {
                    d.notes.push(format!(
                        "{method}: items have different numbers of features, so there is no global importance to compare"
                    ));
                }
                (None, Vec::new())
            }
        };
        d.methods.push(MethodSummary {
            method: method.to_string(),
            items: matched.len(),
            mean_spearman,
            mean_topk_jaccard,
            mean_cosine,
            worst,
            global,
            global_failures,
        });
    }
    Ok(())
}

/// A slice's metrics (or the overall ones), by its name (`overall`, `ATTRIBUTE = VALUE`).
struct Slice<'a> {
    name: String,
    /// Enough items for a verdict.
    ok: bool,
    metrics: &'a BTreeMap<String, MetricValue>,
}

/// The overall metrics, then every slice, in the report's order.
fn slices(r: &Report) -> Vec<Slice<'_>> {
    let p = &r.performance;
    let overall = Slice {
        name: "overall".into(),
        ok: true,
        metrics: &p.overall.metrics,
    };
    std::iter::once(overall)
        .chain(p.slices.iter().map(|s| Slice {
            name: format!("{} = {}", s.attribute, s.value),
            ok: s.status == Status::Ok,
            metrics: &s.metrics,
        }))
        .collect()
}

/// Something with a verdict: the overall verdict, a disparity, an explanation profile.
struct Verdicted {
    subject: String,
    verdict: String,
    /// The number the verdict was drawn from (`ratio 0.83`) and its threshold.
    measure: Option<(&'static str, f64)>,
    threshold: Option<f64>,
}

/// A verdict with the key that matches it across the two sides.
type Keyed = (String, Verdicted);

/// The overall verdict, the disparities (keyed by attribute and metric) and the explanation
/// profiles (by slice), in the report's order.
fn verdicts(r: &Report) -> [Vec<Keyed>; 3] {
    let overall = vec![(
        String::new(),
        Verdicted {
            subject: "overall verdict".into(),
            verdict: r.summary.verdict.clone(),
            measure: None,
            threshold: None,
        },
    )];
    let disparities = r
        .disparities
        .iter()
        .map(|x| {
            let (metric, attribute) = (x.metric.name(), &x.attribute);
            let measure = match x.rule {
                RuleKind::Ratio => x.ratio.map(|v| ("ratio", v)),
                RuleKind::Difference => x.difference.map(|v| ("difference", v)),
            };
            (
                format!("{attribute}\u{0}{metric}"),
                Verdicted {
                    subject: format!("disparity {metric} by {attribute}"),
                    verdict: x.verdict.name().into(),
                    measure,
                    threshold: Some(x.threshold),
                },
            )
        })
        .collect();
    let profiles = r
        .explanations
        .profiles
        .iter()
        .flat_map(|p| {
            p.slices.iter().map(|s| {
                let name = format!("{} = {}", s.attribute, s.value);
                (
                    name.clone(),
                    Verdicted {
                        subject: format!("explanation profile {name}"),
                        verdict: s.verdict.name().into(),
                        measure: s.spearman_distance.map(|d| ("1 - Spearman", d)),
                        threshold: Some(p.threshold),
                    },
                )
            })
        })
        .collect();
    [overall, disparities, profiles]
}

/// The report-only comparisons: every metric overall and per slice, slices on one side only,
/// and every verdict; regressions, improvements and notes go into `d`.
pub(super) fn compare_reports(a: &Report, b: &Report, t: &Thresholds, d: &mut Diff) -> ReportDiff {
    let mut r = ReportDiff {
        old_verdict: Some(a.summary.verdict.clone()),
        new_verdict: Some(b.summary.verdict.clone()),
        metrics: Vec::new(),
        slices_only_old: Vec::new(),
        slices_only_new: Vec::new(),
        verdicts: Vec::new(),
    };
    let (a_slices, b_slices) = (slices(a), slices(b));
    for sa in &a_slices {
        let Some(sb) = b_slices.iter().find(|s| s.name == sa.name) else {
            d.regressions.push(format!(
                "slice {}: in old but missing from new, so its metrics cannot be compared",
                sa.name
            ));
            r.slices_only_old.push(sa.name.clone());
            continue;
        };
        let checked = sa.ok && sb.ok;
        for (metric, old) in sa.metrics {
            let Some(new) = sb.metrics.get(metric) else {
                d.notes.push(format!(
                    "{}: metric {metric} only in old",
                    slice_label(&sa.name)
                ));
                continue;
            };
            let (old, new) = (old.value, new.value);
            let change = old.zip(new).map(|(x, y)| y - x);
            let regression = checked && change.is_some_and(|c| c.abs() > t.max_metric_change + EPS);
            if regression {
                let c = change.unwrap_or_default();
                let (v, m) = versus(c.abs(), t.max_metric_change, 3);
                d.regressions.push(format!(
                    "{}: {metric} {:.3} -> {:.3} (change {c:+.3}, |{v}| > {m})",
                    slice_label(&sa.name),
                    old.unwrap_or_default(),
                    new.unwrap_or_default()
                ));
            } else if old.is_some() != new.is_some() {
                d.notes.push(format!(
                    "{}: {metric} {} -> {} (undefined on one side: no items to measure it on)",
                    slice_label(&sa.name),
                    fixed(old),
                    fixed(new)
                ));
            }
            r.metrics.push(MetricChange {
                slice: sa.name.clone(),
                metric: metric.clone(),
                old,
                new,
                change,
                checked,
                regression,
            });
        }
        for metric in sb.metrics.keys() {
            if !sa.metrics.contains_key(metric) {
                d.notes.push(format!(
                    "{}: metric {metric} only in new",
                    slice_label(&sa.name)
                ));
            }
        }
    }
    for sb in &b_slices {
        if !a_slices.iter().any(|s| s.name == sb.name) {
            d.notes.push(format!(
                "slice {}: only in new, nothing to compare with",
                sb.name
            ));
            r.slices_only_new.push(sb.name.clone());
        }
    }

    for (old, new) in verdicts(a).iter().zip(&verdicts(b)) {
        for (key, x) in old {
            let Some((_, y)) = new.iter().find(|(k, _)| k == key) else {
                d.notes.push(format!("{}: only in old", x.subject));
                continue;
            };
            if x.verdict == y.verdict || x.verdict.is_empty() || y.verdict.is_empty() {
                continue;
            }
            let direction = match (x.verdict.as_str(), y.verdict.as_str()) {
                ("pass", "flag") => Direction::Regression,
                ("flag", "pass") => Direction::Improvement,
                _ => Direction::Change,
            };
            let detail = measures(x, y);
            let sentence = format!(
                "{}: {} -> {}{}",
                x.subject,
                x.verdict,
                y.verdict,
                detail
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            );
            match direction {
                Direction::Regression if t.verdict_changes_fail => d.regressions.push(sentence),
                Direction::Improvement => d.improvements.push(sentence),
                _ => d.notes.push(sentence),
            }
            r.verdicts.push(VerdictChange {
                subject: x.subject.clone(),
                old: x.verdict.clone(),
                new: y.verdict.clone(),
                direction,
                detail,
            });
        }
        for (key, y) in new {
            if !old.iter().any(|(k, _)| k == key) {
                d.notes
                    .push(format!("{}: only in new ({})", y.subject, y.verdict));
            }
        }
    }
    r
}

/// `overall`, or `slice ATTRIBUTE = VALUE`.
fn slice_label(name: &str) -> String {
    if name == "overall" {
        name.to_string()
    } else {
        format!("slice {name}")
    }
}

/// `ratio 0.833 -> 0.780, threshold 0.800`, when both sides recorded their numbers.
fn measures(x: &Verdicted, y: &Verdicted) -> Option<String> {
    let ((la, va), (lb, vb)) = (x.measure.as_ref()?, y.measure.as_ref()?);
    let mut s = if la == lb {
        format!("{la} {va:.3} -> {vb:.3}")
    } else {
        format!("{la} {va:.3} -> {lb} {vb:.3}")
    };
    match (x.threshold, y.threshold) {
        (Some(p), Some(q)) if p != q => {
            let _ = write!(s, ", threshold {p:.3} -> {q:.3}");
        }
        (_, Some(q)) => {
            let _ = write!(s, ", threshold {q:.3}");
        }
        _ => {}
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_similarities_count_only_against_a_ranking() {
        assert_eq!(counted(None, (true, true)), None);
        assert_eq!(counted(None, (true, false)), Some(0.0));
        assert_eq!(counted(Some(0.3), (false, false)), Some(0.3));
        let t = Thresholds::default();
        let zero = [0.0; 6];
        let s = stability::similarity(&zero, &zero, 5).unwrap();
        assert!(checks(&zero, &zero, &s, &t).is_empty());
        let some = [0.1, 0.0, 0.0, 0.0, 0.0, 0.0];
        let s = stability::similarity(&zero, &some, 5).unwrap();
        let f = checks(&zero, &some, &s, &t);
        assert_eq!(
            f,
            vec![
                "Spearman undefined (old attributions are constant, new are not), counted as 0.00 < 0.80"
            ]
        );
    }

    #[test]
    fn numbers_get_the_digits_that_tell_them_apart() {
        assert_eq!(versus(0.41, 0.8, 2), ("0.41".into(), "0.80".into()));
        assert_eq!(versus(0.7951, 0.8, 2), ("0.795".into(), "0.800".into()));
    }
}
