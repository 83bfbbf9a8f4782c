//! Localized validation slices: how well the model does overall and in every slice of a
//! validation manifest (each locale, lighting condition, site, ... and their intersections),
//! with 95% intervals, minimum-support flags and disparity verdicts.
//!
//! The steps: [`predict`] runs the model over every item and applies the decision rule;
//! [`evaluate`] cuts the items into slices, computes the metrics with Wilson intervals, and
//! compares slices within each attribute (worst/best ratio and largest difference, with a
//! stratified bootstrap interval, a threshold and a verdict).
//!
//! ```
//! use explain_core::validation::slices::{self, Config, Decision, Mode, Prediction, Predictions};
//! let p = |label, predicted| Prediction { input: String::new(), label, score: predicted as f64, predicted };
//! let preds = Predictions {
//!     mode: Mode::Binary { positive: 1, classes: 2, score_output: 1 },
//!     threshold: 0.5,
//!     items: vec![p(1, 1), p(1, 1), p(0, 0), p(0, 1), p(1, 0), p(0, 0)],
//! };
//! let attrs = vec![("site".to_string(), vec!["A", "A", "A", "B", "B", "B"].into_iter().map(String::from).collect())];
//! let config = Config { slice_by: vec!["site".into()], min_n: 1, ..Config::default() };
//! let eval = slices::evaluate(&preds, &attrs, &config, &slices::Seeding { seed: 0, model_sha256: "", manifest_sha256: "" }).unwrap();
//! assert_eq!(eval.slices[0].metrics["accuracy"].value, Some(1.0));
//! assert_eq!(eval.slices[1].metrics["accuracy"].value, Some(1.0 / 3.0));
//! ```

pub use crate::artifact::slices::{
    AttributeSummary, DecisionRecord, Disparity, Document, Metric, MetricValue, Mode, Overall,
    Params, RuleKind, RuleRecord, SCHEMA, Slice, Status, Verdict,
};
use crate::artifact::spec::defaults;
use crate::attribution::engine::Progress;
use crate::attribution::explainer::{FileRef, ModelRef, Settings};
use crate::input::{self, Request};
use crate::math::sampling::{StreamKey, below};
use crate::math::stats;
use crate::model::Model;
use crate::util::provenance::{Tool, sha256_hex};
pub use crate::validation::manifest::Seeding;
use crate::validation::manifest::{Manifest, is_missing};
use crate::validation::profiles::{self, ProfileConfig};
use crate::{Error, Result, bad_input};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// What the user asked for: the positive class (if any) and the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub positive: Option<usize>,
    pub threshold: f64,
}

impl Default for Decision {
    fn default() -> Self {
        Decision {
            positive: None,
            threshold: defaults::THRESHOLD,
        }
    }
}

impl Decision {
    /// The mode for a model with `classes` output values per row: binary for one output
    /// (a probability of class 1) or two, or when a positive class is named; multiclass
    /// otherwise.
    pub fn mode(&self, classes: usize, model: &str) -> Result<Mode> {
        if !self.threshold.is_finite() {
            bad_input!(
                "--threshold must be a finite number, got {}",
                self.threshold
            );
        }
        match (classes, self.positive) {
            (0, _) => bad_input!("model {model} gives no output values"),
            (1, None | Some(1)) => Ok(Mode::Binary {
                positive: 1,
                classes: 2,
                score_output: 0,
            }),
            (1, Some(p)) => bad_input!(
                "model {model} has a single output, the probability of class 1: --positive must be 1, not {p}"
            ),
            (_, Some(p)) if p >= classes => bad_input!(
                "--positive {p} is not a class of model {model}, which has {classes} outputs (classes 0..{})",
                classes - 1
            ),
            (2, None) => Ok(Mode::Binary {
                positive: 1,
                classes: 2,
                score_output: 1,
            }),
            (_, Some(p)) => Ok(Mode::Binary {
                positive: p,
                classes,
                score_output: p,
            }),
            (_, None) => Ok(Mode::Multiclass { classes }),
        }
    }
}

/// One item's outcome, as written to `predictions.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub input: String,
    /// The true class (binary mode: 1 for the positive class, else 0).
    pub label: usize,
    /// Binary: the positive class's output. Multiclass: the top output.
    pub score: f64,
    /// The decided class (binary mode: 1 when score ≥ threshold, else 0).
    pub predicted: usize,
}

/// Every item's outcome under one decision rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    pub mode: Mode,
    pub threshold: f64,
    pub items: Vec<Prediction>,
}

impl Predictions {
    /// These predictions with the decisions in `pinned` (item → class) fixed: how `explain
    /// verify` re-runs an item whose score sits within rounding of the threshold on another
    /// CPU. A pin for an unknown item or class is an error.
    pub fn pinned(mut self, pinned: &BTreeMap<String, usize>) -> Result<Predictions> {
        for (input, &class) in pinned {
            let Some(p) = self.items.iter_mut().find(|p| &p.input == input) else {
                bad_input!("a pinned decision names {input}, which the manifest does not hold");
            };
            let classes = match self.mode {
                Mode::Binary { .. } => 2,
                Mode::Multiclass { classes } => classes,
            };
            if class >= classes {
                bad_input!(
                    "a pinned decision for {input} names class {class}, which the model lacks"
                );
            }
            p.predicted = class;
        }
        Ok(self)
    }

    /// `predictions.csv`: input, label, score, predicted (scores to 9 significant digits).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["input", "label", "score", "predicted"])
            .expect("in memory");
        for p in &self.items {
            w.write_record([
                p.input.clone(),
                p.label.to_string(),
                format!("{:.9}", p.score),
                p.predicted.to_string(),
            ])
            .expect("in memory");
        }
        String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
    }
}

/// Runs the model over every item's row (`rows` holds them flattened) in parallel batches of
/// `batch_size`, checks the manifest's labels against the model's classes and applies the
/// decision. Progress is reported per item.
pub fn predict(
    model: &Model,
    manifest: &Manifest,
    rows: &[f32],
    decision: &Decision,
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<Predictions> {
    let len = model.row_len();
    let n = manifest.len();
    if rows.len() != n * len {
        bad_input!(
            "{} rows of {len} values expected for manifest {}, got {} values",
            n,
            manifest.path.display(),
            rows.len()
        );
    }
    if batch_size == 0 {
        bad_input!("--batch-size must be at least 1");
    }
    let classes = model.run(1, &rows[..len])?.len();
    let mode = decision.mode(classes, &model.info.path)?;
    let labels = manifest.labels(mode.classes())?;
    let outputs: Vec<Vec<f32>> = rows
        .par_chunks(batch_size * len)
        .map(|chunk| {
            let out = model.run(chunk.len() / len, chunk)?;
            progress.advance((chunk.len() / len) as u64);
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let outputs = outputs.concat();
    if outputs.len() != n * classes {
        return Err(Error::Model(format!(
            "model {} gave {} values for {n} items; expected {classes} per item",
            model.info.path,
            outputs.len()
        )));
    }
    let items = outputs
        .chunks(classes)
        .zip(labels)
        .enumerate()
        .map(|(i, (out, label))| {
            if out.iter().any(|v| !v.is_finite()) {
                return Err(Error::Model(format!(
                    "model {} gives a non-finite output for item {} of manifest {}",
                    model.info.path,
                    manifest.input(i),
                    manifest.path.display()
                )));
            }
            let (label, score, predicted) = match mode {
                Mode::Binary {
                    positive,
                    score_output,
                    ..
                } => {
                    let score = out[score_output] as f64;
                    (
                        usize::from(label == positive),
                        score,
                        usize::from(score >= decision.threshold),
                    )
                }
                Mode::Multiclass { .. } => {
                    let top = (0..out.len())
                        .max_by(|&a, &b| out[a].total_cmp(&out[b]).then(b.cmp(&a)))
                        .expect("classes > 0");
                    (label, out[top] as f64, top)
                }
            };
            Ok(Prediction {
                input: manifest.input(i).to_string(),
                label,
                score,
                predicted,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Predictions {
        mode,
        threshold: decision.threshold,
        items,
    })
}

/// Counts of outcomes in a set of items. In binary mode `tp + fp + tn + fn_ = n`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Confusion {
    pub n: u64,
    pub correct: u64,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
}

impl Confusion {
    /// (numerator, denominator) from a confusion count.
    pub fn counts(&self, metric: Metric) -> (u64, u64) {
        let c = self;
        match metric {
            Metric::Accuracy => (c.correct, c.n),
            Metric::SelectionRate => (c.tp + c.fp, c.n),
            Metric::Tpr => (c.tp, c.tp + c.fn_),
            Metric::Fpr => (c.fp, c.fp + c.tn),
            Metric::Fnr => (c.fn_, c.tp + c.fn_),
            Metric::Precision => (c.tp, c.tp + c.fp),
        }
    }

    fn add(&mut self, p: &Prediction) {
        self.n += 1;
        self.correct += u64::from(p.label == p.predicted);
        match (p.label == 1, p.predicted == 1) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }

    fn of<'a>(items: impl IntoIterator<Item = &'a Prediction>) -> Confusion {
        let mut c = Confusion::default();
        for p in items {
            c.add(p);
        }
        c
    }
}

fn metric_values(c: &Confusion, mode: &Mode) -> BTreeMap<String, MetricValue> {
    mode.metrics()
        .iter()
        .map(|&m| {
            let (k, n) = c.counts(m);
            let value = (n > 0).then(|| k as f64 / n as f64);
            let ci95 = stats::wilson(k, n).map(|(lo, hi)| [lo, hi]);
            (m.name().to_string(), MetricValue { value, ci95, n })
        })
        .collect()
}

/// A threshold on one metric's disparity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub metric: Metric,
    pub kind: RuleKind,
    pub threshold: f64,
}

impl Rule {
    /// The defaults: ratio ≥ 0.8 for selection rate, TPR and precision (the four-fifths
    /// screening rule); difference ≤ 0.1 for accuracy, FPR and FNR.
    pub fn defaults() -> Vec<Rule> {
        use Metric::*;
        [
            (Accuracy, RuleKind::Difference, 0.1),
            (SelectionRate, RuleKind::Ratio, 0.8),
            (Tpr, RuleKind::Ratio, 0.8),
            (Fpr, RuleKind::Difference, 0.1),
            (Fnr, RuleKind::Difference, 0.1),
            (Precision, RuleKind::Ratio, 0.8),
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
        let threshold: f64 = match t.parse() {
            Ok(v) if (0.0..=1.0).contains(&v) => v,
            _ => bad_input!("rule '{s}': threshold '{t}' is not a number in [0, 1]"),
        };
        Ok(Rule {
            metric: Metric::from_str(metric)?,
            kind,
            threshold,
        })
    }
}

/// What to slice by and how to judge.
#[derive(Debug, Clone)]
pub struct Config {
    pub slice_by: Vec<String>,
    /// Each entry: two or more columns whose value combinations form slices.
    pub intersect: Vec<Vec<String>>,
    /// Slices with fewer items get `insufficient_data` instead of a verdict.
    pub min_n: usize,
    /// Bootstrap replicates for disparity intervals.
    pub bootstrap: usize,
    /// Rules replace the default rule of their metric.
    pub rules: Vec<Rule>,
    /// Flag only disparities whose equal-proportions test stays significant after Holm's
    /// correction over all disparities.
    pub holm: bool,
    pub alpha: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            slice_by: Vec::new(),
            intersect: Vec::new(),
            min_n: defaults::MIN_N,
            bootstrap: defaults::BOOTSTRAP,
            rules: Vec::new(),
            holm: false,
            alpha: defaults::ALPHA,
        }
    }
}

impl Config {
    /// The rule in force for a metric.
    pub fn rule(&self, metric: Metric) -> Rule {
        self.rules
            .iter()
            .rev()
            .find(|r| r.metric == metric)
            .copied()
            .unwrap_or_else(|| {
                *Rule::defaults()
                    .iter()
                    .find(|r| r.metric == metric)
                    .expect("every metric has a default")
            })
    }
}

/// Everything [`evaluate`] finds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub overall: Overall,
    pub attributes: Vec<AttributeSummary>,
    pub slices: Vec<Slice>,
    pub disparities: Vec<Disparity>,
}

impl Evaluation {
    /// The disparities flagged.
    pub fn flagged(&self) -> impl Iterator<Item = &Disparity> {
        self.disparities
            .iter()
            .filter(|d| d.verdict == Verdict::Flag)
    }
}

/// The distinct non-missing values of a column, sorted.
fn distinct_values(values: &[String]) -> Vec<&str> {
    let mut d: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|v| !is_missing(v))
        .collect();
    d.sort_unstable();
    d.dedup();
    d
}

/// The attribute columns a config needs, read from the manifest in config order (slice-by
/// columns first, then the intersections' columns), each once.
pub fn attribute_columns(
    manifest: &Manifest,
    config: &Config,
) -> Result<Vec<(String, Vec<String>)>> {
    if config.slice_by.is_empty() && config.intersect.is_empty() {
        bad_input!("nothing to slice by: give --slice-by COLUMN[,COLUMN...] or --intersect A,B");
    }
    let mut names: Vec<&String> = Vec::new();
    for c in config
        .slice_by
        .iter()
        .chain(config.intersect.iter().flatten())
    {
        if !names.contains(&c) {
            names.push(c);
        }
    }
    for group in &config.intersect {
        if group.len() < 2 {
            bad_input!(
                "--intersect needs two or more columns, got '{}'",
                group.join(",")
            );
        }
    }
    names
        .into_iter()
        .map(|name| {
            if name == crate::validation::manifest::INPUT || name == crate::validation::manifest::LABEL {
                bad_input!("cannot slice by the '{name}' column; slice by attribute columns");
            }
            let col = manifest.require(name)?;
            let values: Vec<String> = manifest.rows.iter().map(|r| r[col].clone()).collect();
            let distinct = distinct_values(&values);
            match distinct.len() {
                0 => bad_input!(
                    "attribute '{name}' of manifest {} has no values: every cell is empty",
                    manifest.path.display()
                ),
                1 => bad_input!(
                    "attribute '{name}' of manifest {} has a single value ('{}'): slicing by it compares nothing",
                    manifest.path.display(),
                    distinct[0]
                ),
                _ => Ok((name.clone(), values)),
            }
        })
        .collect()
}

/// Metrics overall and per slice, and disparities per attribute. `attributes` holds, for each
/// column named in `config`, every item's value (see [`attribute_columns`]).
pub fn evaluate(
    predictions: &Predictions,
    attributes: &[(String, Vec<String>)],
    config: &Config,
    seeding: &Seeding,
) -> Result<Evaluation> {
    let items = &predictions.items;
    let mode = &predictions.mode;
    let column = |name: &str| -> Result<&Vec<String>> {
        match attributes.iter().find(|(n, _)| n == name) {
            Some((_, v)) if v.len() == items.len() => Ok(v),
            Some(_) => bad_input!("attribute '{name}' has a value count unlike the items"),
            None => bad_input!("attribute '{name}' was not read from the manifest"),
        }
    };
    let mut groups: Vec<Vec<String>> = config.slice_by.iter().map(|c| vec![c.clone()]).collect();
    groups.extend(config.intersect.iter().cloned());
    let mut slices = Vec::new();
    let mut summaries = Vec::new();
    let mut ranges = Vec::new();
    for group in &groups {
        let cols: Vec<&Vec<String>> = group.iter().map(|c| column(c)).collect::<Result<_>>()?;
        let distinct: Vec<Vec<&str>> = cols.iter().map(|v| distinct_values(v)).collect();
        let name = group.join(" & ");
        let mut members: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
        // Every combination is a slice, including those without items.
        let mut combos: Vec<Vec<&str>> = vec![vec![]];
        for d in &distinct {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    d.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push(*v);
                        c
                    })
                })
                .collect();
        }
        for c in combos {
            members.insert(c, Vec::new());
        }
        let mut missing = 0;
        for i in 0..items.len() {
            let combo: Vec<&str> = cols.iter().map(|v| v[i].as_str()).collect();
            if combo.iter().any(|v| is_missing(v)) {
                missing += 1;
                continue;
            }
            members.get_mut(&combo).expect("all combinations").push(i);
        }
        summaries.push(AttributeSummary {
            attribute: name.clone(),
            values: members.len(),
            missing,
        });
        let start = slices.len();
        for (combo, idx) in members {
            let c = Confusion::of(idx.iter().map(|&i| &items[i]));
            slices.push(Slice {
                attribute: name.clone(),
                value: combo.join(" & "),
                n: c.n,
                metrics: metric_values(&c, mode),
                status: if c.n >= config.min_n.max(1) as u64 {
                    Status::Ok
                } else {
                    Status::InsufficientData
                },
                members: idx,
            });
        }
        ranges.push((name, start..slices.len()));
    }
    let mut disparities: Vec<Disparity> = ranges
        .par_iter()
        .map(|(name, range)| {
            disparities_of(
                name,
                &slices[range.clone()],
                items,
                mode,
                config,
                &seeding.key(&format!("slices/bootstrap/{name}")),
            )
        })
        .collect::<Vec<_>>()
        .concat();
    if config.holm {
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
            if d.verdict == Verdict::Flag && adj >= config.alpha {
                d.verdict = Verdict::Pass;
            }
        }
    }
    let all = Confusion::of(items);
    Ok(Evaluation {
        overall: Overall {
            n: all.n,
            metrics: metric_values(&all, mode),
        },
        attributes: summaries,
        slices,
        disparities,
    })
}

/// Disparities of every metric across the slices of one attribute, with one stratified
/// bootstrap shared by all metrics: each replicate resamples every slice's items with
/// replacement (so each slice keeps its size).
fn disparities_of(
    attribute: &str,
    slices: &[Slice],
    items: &[Prediction],
    mode: &Mode,
    config: &Config,
    key: &StreamKey,
) -> Vec<Disparity> {
    let ok: Vec<&Slice> = slices.iter().filter(|s| s.status == Status::Ok).collect();
    // Bootstrap confusions: replicates × ok slices.
    let replicates: Vec<Vec<Confusion>> = (0..config.bootstrap)
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
    mode.metrics()
        .iter()
        .map(|&metric| {
            let rule = config.rule(metric);
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
            d.p_value = stats::equal_proportions_p(
                &compared
                    .iter()
                    .map(|(_, s)| {
                        let m = &s.metrics[metric.name()];
                        ((m.value.expect("n > 0") * m.n as f64).round() as u64, m.n)
                    })
                    .collect::<Vec<_>>(),
            );
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

/// Everything a validation run needs besides the model and the manifest.
pub struct Validation<'a> {
    /// Preprocessing, features and baseline; its inputs are ignored.
    pub request: &'a Request,
    pub decision: Decision,
    pub config: Config,
    pub seed: u64,
    pub batch_size: usize,
    /// Where `predictions.csv` goes (recorded in the document).
    pub predictions_path: &'a Path,
    /// Decisions fixed to recorded ones, by item (`explain verify` at knife edges).
    pub pinned: BTreeMap<String, usize>,
    /// Explanation profiles: the estimator and how many items per slice.
    pub profiles: Option<(Settings, ProfileConfig)>,
}

/// A full validation run: checks the manifest (every file present, columns, labels), runs the
/// model over every item, evaluates the slices and, when asked, the explanation profiles.
/// Returns the document and the predictions (the caller writes both).
pub fn validate(
    model: &Model,
    manifest: &Manifest,
    v: &Validation,
    progress: &dyn Progress,
) -> Result<(Document, Predictions)> {
    manifest.check_files()?;
    manifest.require(crate::validation::manifest::LABEL)?;
    if v.config.bootstrap > crate::util::limits::MAX_BOOTSTRAP {
        bad_input!(
            "--bootstrap {} is more than {} resamples",
            v.config.bootstrap,
            crate::util::limits::MAX_BOOTSTRAP
        );
    }
    // Every item's row is loaded at once.
    crate::util::limits::check_memory(
        (manifest.len() as u64)
            .checked_mul(model.row_len() as u64)
            .and_then(|v| v.checked_mul(4)),
        &format!(
            "the {} items of manifest {}",
            manifest.len(),
            manifest.path.display()
        ),
        "split the manifest",
    )?;
    let attributes = attribute_columns(manifest, &v.config)?;
    if !(v.config.alpha > 0.0 && v.config.alpha < 1.0) {
        bad_input!(
            "--alpha must lie strictly between 0 and 1, got {}",
            v.config.alpha
        );
    }
    let (rows, preprocessing) = input::load_items(model, v.request, &manifest.input_paths())?;
    progress.stage("predicting (items)");
    progress.begin(manifest.len() as u64);
    let predictions =
        predict(model, manifest, &rows, &v.decision, v.batch_size, progress)?.pinned(&v.pinned)?;
    drop(rows);
    let seeding = Seeding {
        seed: v.seed,
        model_sha256: &model.info.sha256,
        manifest_sha256: &manifest.sha256,
    };
    let eval = evaluate(&predictions, &attributes, &v.config, &seeding)?;
    let profiles = match &v.profiles {
        Some((settings, config)) => {
            progress.stage("explaining (coalitions)");
            let settings = Settings {
                target: predictions.mode.target(),
                ..settings.clone()
            };
            Some(profiles::profiles(
                model,
                manifest,
                &eval.slices,
                v.request,
                &settings,
                config,
                &seeding,
                progress,
            )?)
        }
        None => None,
    };
    let csv = predictions.to_csv();
    let doc = Document {
        schema: SCHEMA.into(),
        tool: Tool::current(),
        model: ModelRef::of(model),
        manifest: FileRef {
            path: manifest.path.display().to_string(),
            sha256: manifest.sha256.clone(),
            rows: Some(manifest.len()),
        },
        preprocessing,
        decision: DecisionRecord {
            mode: predictions.mode,
            threshold: predictions.threshold,
            rule: match predictions.mode {
                Mode::Binary { score_output, .. } => {
                    format!("positive when output[{score_output}] >= threshold")
                }
                Mode::Multiclass { .. } => "the top output's class".into(),
            },
        },
        params: Params {
            slice_by: v.config.slice_by.clone(),
            intersect: v.config.intersect.clone(),
            min_n: v.config.min_n,
            seed: v.seed,
            ci: "wilson".into(),
            bootstrap: v.config.bootstrap,
            disparity_ci: "percentile interval of the gap between the observed lowest and highest slices, stratified bootstrap (each slice resampled within itself)".into(),
            rules: predictions
                .mode
                .metrics()
                .iter()
                .map(|&m| {
                    let r = v.config.rule(m);
                    RuleRecord {
                        metric: m,
                        rule: r.kind,
                        threshold: r.threshold,
                    }
                })
                .collect(),
            holm: v.config.holm,
            alpha: v.config.alpha,
        },
        predictions: FileRef {
            path: v.predictions_path.display().to_string(),
            sha256: sha256_hex(csv.as_bytes()),
            rows: Some(predictions.items.len()),
        },
        overall: eval.overall,
        attributes: eval.attributes,
        slices: eval.slices,
        disparities: eval.disparities,
        profiles,
    };
    Ok((doc, predictions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preds(pairs: &[(usize, usize)]) -> Predictions {
        Predictions {
            mode: Mode::Binary {
                positive: 1,
                classes: 2,
                score_output: 1,
            },
            threshold: 0.5,
            items: pairs
                .iter()
                .map(|&(label, predicted)| Prediction {
                    input: String::new(),
                    label,
                    score: predicted as f64,
                    predicted,
                })
                .collect(),
        }
    }
    fn key() -> Seeding<'static> {
        Seeding {
            seed: 3,
            model_sha256: "m",
            manifest_sha256: "d",
        }
    }

    #[test]
    fn confusion_metrics_and_empty_denominators() {
        // Slice A: 2 TP, 1 FP, 1 TN; slice B: only negatives, 1 FP 2 TN.
        let p = preds(&[(1, 1), (1, 1), (0, 1), (0, 0), (0, 1), (0, 0), (0, 0)]);
        let site: Vec<String> = "AAAABBB".chars().map(String::from).collect();
        let cfg = Config {
            slice_by: vec!["site".into()],
            min_n: 3,
            bootstrap: 200,
            ..Config::default()
        };
        let e = evaluate(&p, &[("site".into(), site)], &cfg, &key()).unwrap();
        let a = &e.slices[0].metrics;
        assert_eq!(a["accuracy"].value, Some(0.75));
        assert_eq!(a["selection_rate"].value, Some(0.75));
        assert_eq!(a["tpr"].value, Some(1.0));
        assert_eq!(a["fpr"].value, Some(0.5));
        assert_eq!(a["precision"].value, Some(2.0 / 3.0));
        let b = &e.slices[1].metrics;
        assert_eq!((b["tpr"].value, b["tpr"].ci95, b["tpr"].n), (None, None, 0));
        assert_eq!(b["fpr"].value, Some(1.0 / 3.0));
        let tpr = e
            .disparities
            .iter()
            .find(|d| d.metric == Metric::Tpr)
            .unwrap();
        assert_eq!(tpr.verdict, Verdict::InsufficientData);
        assert_eq!(tpr.compared, vec!["A"]);
        let sel = e
            .disparities
            .iter()
            .find(|d| d.metric == Metric::SelectionRate)
            .unwrap();
        assert!((sel.ratio.unwrap() - (1.0 / 3.0) / 0.75).abs() < 1e-15);
        assert_eq!(sel.verdict, Verdict::Flag);
        assert_eq!(
            (sel.worst.as_deref(), sel.best.as_deref()),
            (Some("B"), Some("A"))
        );
        let fpr = e
            .disparities
            .iter()
            .find(|d| d.metric == Metric::Fpr)
            .unwrap();
        assert_eq!(
            (fpr.worst.as_deref(), fpr.best.as_deref()),
            (Some("A"), Some("B"))
        );
        let [lo, hi] = sel.ci95.unwrap();
        assert!(
            lo <= sel.ratio.unwrap() && sel.ratio.unwrap() <= hi,
            "{lo} {hi}"
        );
    }

    #[test]
    fn intersections_list_empty_combinations_and_min_n() {
        let p = preds(&[(1, 1), (0, 0), (1, 0), (0, 0)]);
        let a: Vec<String> = ["x", "x", "y", ""].iter().map(|s| s.to_string()).collect();
        let b: Vec<String> = ["u", "v", "u", "v"].iter().map(|s| s.to_string()).collect();
        let cfg = Config {
            intersect: vec![vec!["a".into(), "b".into()]],
            min_n: 1,
            bootstrap: 10,
            ..Config::default()
        };
        let e = evaluate(&p, &[("a".into(), a), ("b".into(), b)], &cfg, &key()).unwrap();
        let got: Vec<(&str, &str, u64, Status)> = e
            .slices
            .iter()
            .map(|s| (s.attribute.as_str(), s.value.as_str(), s.n, s.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a & b", "x & u", 1, Status::Ok),
                ("a & b", "x & v", 1, Status::Ok),
                ("a & b", "y & u", 1, Status::Ok),
                ("a & b", "y & v", 0, Status::InsufficientData),
            ]
        );
        assert_eq!(e.attributes[0].missing, 1);
        assert_eq!(e.slices[3].metrics["accuracy"].value, None);
    }

    #[test]
    fn bootstrap_is_seeded_and_holm_can_clear_a_flag() {
        let mut pairs = Vec::new();
        for i in 0..40 {
            pairs.push((1, usize::from(i % 10 != 0))); // A: TPR 0.9
        }
        for i in 0..40 {
            pairs.push((1, usize::from(i % 10 < 7))); // B: TPR 0.7
        }
        let p = preds(&pairs);
        let site: Vec<String> = (0..80)
            .map(|i| if i < 40 { "A" } else { "B" }.into())
            .collect();
        let attrs = vec![("site".to_string(), site)];
        let mut cfg = Config {
            slice_by: vec!["site".into()],
            ..Config::default()
        };
        let e1 = evaluate(&p, &attrs, &cfg, &key()).unwrap();
        let e2 = evaluate(&p, &attrs, &cfg, &key()).unwrap();
        assert_eq!(e1, e2);
        let tpr = |e: &Evaluation| {
            e.disparities
                .iter()
                .find(|d| d.metric == Metric::Tpr)
                .cloned()
                .unwrap()
        };
        assert_eq!(tpr(&e1).verdict, Verdict::Flag); // 0.7 / 0.9 < 0.8
        // chi-square p for 36/40 vs 28/40 is 0.024; Holm over the 6 metrics' tests lifts it.
        cfg.holm = true;
        let e3 = evaluate(&p, &attrs, &cfg, &key()).unwrap();
        assert!(tpr(&e3).p_holm.unwrap() > 0.05, "{:?}", tpr(&e3));
        assert_eq!(tpr(&e3).verdict, Verdict::Pass);
    }

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

    #[test]
    fn decision_modes() {
        let d = Decision::default();
        let binary = |positive, score_output| Mode::Binary {
            positive,
            classes: 2,
            score_output,
        };
        assert_eq!(d.mode(1, "m").unwrap(), binary(1, 0));
        assert_eq!(d.mode(2, "m").unwrap(), binary(1, 1));
        assert_eq!(d.mode(5, "m").unwrap(), Mode::Multiclass { classes: 5 });
        let p0 = Decision {
            positive: Some(0),
            ..d
        };
        assert_eq!(p0.mode(2, "m").unwrap(), binary(0, 0));
        assert!(p0.mode(1, "m").is_err());
        assert!(
            Decision {
                positive: Some(5),
                ..d
            }
            .mode(5, "m")
            .is_err()
        );
    }
}
