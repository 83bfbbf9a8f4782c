//! Localized validation slices: how well the model does overall and in every slice of a
//! validation manifest (each locale, lighting condition, site, ... and their intersections),
//! with 95% intervals, minimum-support flags and disparity verdicts.
//!
//! The steps: [`predict`] runs the model over every item and applies the decision rule;
//! [`evaluate`] cuts the items into slices, computes the metrics with Wilson intervals, and
//! compares slices within each attribute (worst/best ratio and largest difference, with a
//! stratified bootstrap interval, a threshold and a verdict).
//!
//! Its parts: [`metrics`] (the decision, every item's outcome, confusion counts and metric
//! values with Wilson intervals), [`disparity`] (rules, disparities with bootstrap
//! intervals, Holm's correction, verdicts), [`detection`] (a detector's detections matched
//! to ground-truth boxes: recall, precision, miss rate, false detections) and
//! [`verification`] (a recogniser on pairs: FMR and FNMR). This module is the run:
//! [`predict`], [`evaluate`] and [`validate`], which picks the task: detection for a
//! detector, verification when the manifest has the pair column, classification otherwise.
//!
//! ```
//! use explain_core::validation::slices::{self, Config, Decision, Mode, Prediction, Predictions};
//! let p = |label, predicted| Prediction { input: String::new(), label, score: predicted as f64, predicted, extra: Default::default() };
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

mod batches;
pub mod detection;
pub mod disparity;
pub mod metrics;
pub mod verification;

pub use crate::artifact::slices::{
    AttributeSummary, DecisionRecord, Disparity, Document, Metric, MetricValue, Mode, Overall,
    Params, RuleKind, RuleRecord, SCHEMA, Slice, Status, Verdict,
};
pub use crate::validation::manifest::Seeding;
pub use disparity::Rule;
pub use metrics::{Confusion, Decision, Extra, Prediction, Predictions};

use crate::artifact::spec::defaults;
use crate::attribution::engine::Progress;
use crate::attribution::explainer::{FileRef, ModelRef, Settings};
use crate::input::{self, Request};
use crate::model::Model;
use crate::util::provenance::{Tool, sha256_hex};
use crate::validation::manifest::{Manifest, is_missing};
use crate::validation::profiles::{self, ProfileConfig};
use crate::{Error, Result, bad_input};
use metrics::metric_values;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

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
    let outputs = batches::run_batches(model, rows, batch_size, progress)?;
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
                Mode::Detection { .. } | Mode::Verification { .. } => {
                    unreachable!("Decision::mode gives binary or multiclass")
                }
            };
            Ok(Prediction {
                input: manifest.input(i).to_string(),
                label,
                score,
                predicted,
                extra: Extra::None,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Predictions {
        mode,
        threshold: decision.threshold,
        items,
    })
}

impl Predictions {
    /// `predictions.csv`: for a classification `input,label,score,predicted`
    /// ([`Predictions::classification_csv`]); for a detection see [`detection::csv`], for a
    /// verification [`verification::csv`].
    pub fn to_csv(&self) -> String {
        match self.mode {
            Mode::Detection { .. } => detection::csv(&self.items),
            Mode::Verification { .. } => verification::csv(&self.items),
            Mode::Binary { .. } | Mode::Multiclass { .. } => self.classification_csv(),
        }
    }
}

/// What to slice by and how to judge.
#[derive(Debug, Clone)]
pub struct Config {
    /// Columns that each give one slice per value.
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
    /// The significance level of the Holm-corrected tests.
    pub alpha: f64,
    /// Detection: the column of ground-truth boxes.
    pub boxes: String,
    /// Verification: the column naming each pair's second image (its presence in the
    /// manifest selects verification) and the one saying whether the pair is genuine.
    pub pair: String,
    pub same: String,
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
            boxes: detection::BOXES_COLUMN.into(),
            pair: verification::PAIR_COLUMN.into(),
            same: verification::SAME_COLUMN.into(),
        }
    }
}

/// What a validation run judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Decisions against the `label` column.
    Classification,
    /// A detector's detections against ground-truth boxes.
    Detection,
    /// A recogniser's match decisions on pairs.
    Verification,
}

impl Task {
    /// The task for a model and manifest: detection for a detector (the manifest must hold
    /// the boxes column), verification when the manifest has the pair column, classification
    /// otherwise (the manifest must hold `label`).
    pub fn of(model: &Model, manifest: &Manifest, config: &Config) -> Result<Task> {
        let label = crate::validation::manifest::LABEL;
        if model.detector.is_some() {
            if manifest.column(&config.boxes).is_none() {
                bad_input!(
                    "model {} is a detector, so manifest {} needs ground-truth boxes: a '{}' column (x0 y0 x1 y1;... in image pixels, or a .json file) (columns: {}; another column: --boxes-column)",
                    model.info.path,
                    manifest.path.display(),
                    config.boxes,
                    manifest.columns.join(", ")
                );
            }
            return Ok(Task::Detection);
        }
        if manifest.column(&config.pair).is_some() {
            manifest.require(&config.same)?;
            return Ok(Task::Verification);
        }
        if manifest.column(label).is_none() {
            bad_input!(
                "manifest {} has no '{label}' column (classifiers), no '{}' column of ground-truth boxes (detectors, with --detector) and no '{}' and '{}' columns (verification pairs) (columns: {})",
                manifest.path.display(),
                config.boxes,
                config.pair,
                config.same,
                manifest.columns.join(", ")
            );
        }
        Ok(Task::Classification)
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
    /// The metrics over every item.
    pub overall: Overall,
    /// Each attribute (or intersection): its number of values and items without one.
    pub attributes: Vec<AttributeSummary>,
    /// Every slice, attribute by attribute, values sorted.
    pub slices: Vec<Slice>,
    /// One per attribute and metric, in that order.
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
            if name == crate::validation::manifest::INPUT
                || name == crate::validation::manifest::LABEL
                || (manifest.column(&config.pair).is_some()
                    && [&config.pair, &config.same].contains(&name))
            {
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
    let rules: Vec<Rule> = mode.metrics().iter().map(|&m| config.rule(m)).collect();
    let mut disparities: Vec<Disparity> = ranges
        .par_iter()
        .map(|(name, range)| {
            disparity::disparities(
                name,
                &slices[range.clone()],
                items,
                &rules,
                config.bootstrap,
                seeding,
            )
        })
        .collect::<Vec<_>>()
        .concat();
    if config.holm {
        disparity::holm(&mut disparities, config.alpha);
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
    let task = Task::of(model, manifest, &v.config)?;
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
    let pairs = match task {
        Task::Verification => Some(verification::read_pairs(
            manifest,
            &v.config.pair,
            &v.config.same,
        )?),
        _ => None,
    };
    let gt = match task {
        Task::Detection => Some(detection::ground_truth(
            manifest,
            &v.config.boxes,
            model.image_size(),
        )?),
        _ => None,
    };
    let (rows, preprocessing) = input::load_items(model, v.request, &manifest.input_paths())?;
    progress.stage("predicting (items)");
    let predictions = match (task, &gt, &pairs) {
        (Task::Detection, Some(gt), _) => {
            progress.begin(manifest.len() as u64);
            let detector = model.detector.expect("a detector");
            let match_iou = detection::MATCH_IOU;
            Predictions {
                mode: Mode::Detection {
                    match_iou,
                    score_threshold: detector.score_threshold,
                    nms_iou: detector.nms_iou,
                },
                threshold: detector.score_threshold as f64,
                items: detection::predict(model, manifest, &rows, gt, match_iou, progress)?,
            }
            .pinned(&v.pinned)?
        }
        (Task::Verification, _, Some(pairs)) => {
            let (pair_rows, _) = input::load_items(model, v.request, &pairs.paths)?;
            progress.begin(2 * manifest.len() as u64);
            let threshold = v.decision.threshold;
            Predictions {
                mode: Mode::Verification { threshold },
                threshold,
                items: verification::predict(
                    model,
                    manifest,
                    &rows,
                    &pair_rows,
                    pairs,
                    threshold,
                    v.batch_size,
                    progress,
                )?,
            }
            .pinned(&v.pinned)?
        }
        _ => {
            progress.begin(manifest.len() as u64);
            predict(model, manifest, &rows, &v.decision, v.batch_size, progress)?
                .pinned(&v.pinned)?
        }
    };
    drop(rows);
    let seeding = Seeding {
        seed: v.seed,
        model_sha256: &model.info.sha256,
        manifest_sha256: &manifest.sha256,
    };
    let eval = evaluate(&predictions, &attributes, &v.config, &seeding)?;
    let (profiles, profiles_note) = match (&v.profiles, task) {
        (Some(_), Task::Verification) => (
            None,
            Some("explanation profiles are not computed for verification pairs: a pair's decision depends on two images".to_string()),
        ),
        (Some((settings, config)), _) => {
            // A detector's profile explains each image's best detection (index 0), so only
            // images with a detection are explained.
            let (slices, note) = if task == Task::Detection {
                let has = |i: usize| match &predictions.items[i].extra {
                    Extra::Detection(m) => m.detections > 0,
                    _ => false,
                };
                let slices: Vec<Slice> = eval
                    .slices
                    .iter()
                    .map(|s| Slice {
                        members: s.members.iter().copied().filter(|&i| has(i)).collect(),
                        ..s.clone()
                    })
                    .collect();
                let note = "detector profiles explain the best detection (index 0) of images with at least one detection; images without one are left out".to_string();
                (slices, Some(note))
            } else {
                (eval.slices.clone(), None)
            };
            if slices.iter().all(|s| s.members.is_empty()) {
                (
                    None,
                    Some("explanation profiles skipped: no image has a detection".to_string()),
                )
            } else {
                progress.stage("explaining (coalitions)");
                let settings = Settings {
                    target: predictions.mode.target(),
                    ..settings.clone()
                };
                let p = profiles::profiles(
                    model, manifest, &slices, v.request, &settings, config, &seeding, progress,
                )?;
                (Some(p), note)
            }
        }
        (None, _) => (None, None),
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
            rule: predictions.mode.rule(),
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
            boxes_column: (task == Task::Detection).then(|| v.config.boxes.clone()),
            pair_column: (task == Task::Verification).then(|| v.config.pair.clone()),
            same_column: (task == Task::Verification).then(|| v.config.same.clone()),
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
        profiles_note,
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
                    extra: Extra::None,
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
    fn detection_metrics_per_slice() {
        use detection::ImageMatch;
        // (objects, matched, false detections) per image; slice A: 4 boxes, 3 matched, one
        // image with 2 false detections; slice B: 2 boxes, 1 matched, no false detection.
        let img = |objects: u64, matched: u64, fd: u64| Prediction {
            input: String::new(),
            label: 0,
            score: 0.0,
            predicted: 0,
            extra: Extra::Detection(ImageMatch {
                objects,
                detections: matched + fd,
                matched,
                missed: objects - matched,
                false_detections: fd,
                detected: Vec::new(),
            }),
        };
        let p = Predictions {
            mode: Mode::Detection {
                match_iou: 0.5,
                score_threshold: 0.5,
                nms_iou: 0.3,
            },
            threshold: 0.5,
            items: vec![img(2, 2, 0), img(2, 1, 2), img(1, 1, 0), img(1, 0, 0)],
        };
        let site: Vec<String> = "AABB".chars().map(String::from).collect();
        let cfg = Config {
            slice_by: vec!["site".into()],
            min_n: 2,
            bootstrap: 100,
            ..Config::default()
        };
        let e = evaluate(&p, &[("site".into(), site)], &cfg, &key()).unwrap();
        let a = &e.slices[0].metrics;
        assert_eq!((a["recall"].value, a["recall"].n), (Some(0.75), 4));
        assert_eq!((a["precision"].value, a["precision"].n), (Some(0.6), 5));
        assert_eq!(a["miss_rate"].value, Some(0.25));
        assert_eq!(a["false_detection_image_rate"].value, Some(0.5));
        let fdpi = &a["false_detections_per_image"];
        assert_eq!((fdpi.value, fdpi.n), (Some(1.0), 2));
        // Garwood for 2 events, divided by 2 images: [0.2422, 7.2247] / 2.
        let [lo, hi] = fdpi.ci95.unwrap();
        assert!(
            (lo - 0.121_103).abs() < 1e-4 && (hi - 3.612_344).abs() < 1e-4,
            "{lo} {hi}"
        );
        let b = &e.slices[1].metrics;
        assert_eq!(b["recall"].value, Some(0.5));
        assert_eq!(b["precision"].value, Some(1.0));
        assert_eq!(b["false_detections_per_image"].value, Some(0.0));
        assert_eq!(e.overall.metrics["recall"].value, Some(4.0 / 6.0));
        let metrics: Vec<Metric> = e.disparities.iter().map(|d| d.metric).collect();
        assert_eq!(metrics, p.mode.metrics());
        let recall = &e.disparities[0];
        assert_eq!(
            (recall.ratio, recall.verdict),
            (Some(0.5 / 0.75), Verdict::Flag)
        );
        assert_eq!(recall.worst.as_deref(), Some("B"));
        let fd = &e.disparities[4];
        assert_eq!((fd.difference, fd.worst.as_deref()), (Some(1.0), Some("A")));
        assert!(fd.p_value.is_some());
        // Pinning a detection is refused.
        let pins = [("x".to_string(), 1)].into_iter().collect();
        assert!(p.clone().pinned(&pins).is_err());
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
}
