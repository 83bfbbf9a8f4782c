//! `explain.slices/1`: the validation record of one model on one manifest — metrics per slice
//! with Wilson intervals, disparities with bootstrap intervals and verdicts, and explanation
//! profiles per slice.

use crate::artifact::attributions::ModelRef;
use crate::artifact::spec::TargetSpec;
pub use crate::artifact::verdict::Verdict;
use crate::util::provenance::{FileRef, Tool};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Schema tag of `slices.json`.
pub const SCHEMA: &str = "explain.slices/1";

/// How scores become decisions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Mode {
    /// Score = output `score_output` (the positive class's, or a single output's probability
    /// of class 1); decided positive when score ≥ threshold. Labels and predictions are 1 for
    /// the positive class and 0 for any other.
    Binary {
        positive: usize,
        classes: usize,
        score_output: usize,
    },
    /// Predicted class = the top output; score = its value. Accuracy only.
    Multiclass { classes: usize },
    /// A detector against ground-truth boxes: the detections of every image (scored above
    /// `score_threshold`, NMS at `nms_iou`) matched greedily, best first, to the unmatched
    /// ground-truth box of highest IoU when that IoU is at least `match_iou`.
    Detection {
        match_iou: f32,
        score_threshold: f32,
        nms_iou: f32,
    },
    /// A recogniser on pairs of images: a pair is judged a match when the cosine similarity
    /// of the two embeddings is at least `threshold`. Labels are 1 for genuine pairs (same
    /// identity), predictions 1 for a match.
    Verification { threshold: f64 },
}

impl Mode {
    /// Classes a decision can take: the model's classes, 2 for a verification (non-match,
    /// match), 0 for detection (no per-item class).
    pub fn classes(&self) -> usize {
        match *self {
            Mode::Binary { classes, .. } | Mode::Multiclass { classes } => classes,
            Mode::Verification { .. } => 2,
            Mode::Detection { .. } => 0,
        }
    }

    /// The output an explanation of the decision explains: the score's output, each item's
    /// top class, or a detector's best detection (index 0); the embedding's first value for
    /// a verification (whose profiles are not computed).
    pub fn target(&self) -> TargetSpec {
        match *self {
            Mode::Binary { score_output, .. } => TargetSpec::Index(score_output),
            Mode::Multiclass { .. } => TargetSpec::Top,
            Mode::Detection { .. } | Mode::Verification { .. } => TargetSpec::Index(0),
        }
    }

    /// The metrics this mode defines, in report order.
    pub fn metrics(&self) -> &'static [Metric] {
        use Metric::*;
        match self {
            Mode::Binary { .. } => &[Accuracy, SelectionRate, Tpr, Fpr, Fnr, Precision],
            Mode::Multiclass { .. } => &[Accuracy],
            Mode::Detection { .. } => &[
                Recall,
                Precision,
                MissRate,
                FalseDetectionImageRate,
                FalseDetectionsPerImage,
            ],
            Mode::Verification { .. } => &[Fmr, Fnmr],
        }
    }

    /// The decision rule in words, as `slices.json` records it.
    pub fn rule(&self) -> String {
        match *self {
            Mode::Binary { score_output, .. } => {
                format!("positive when output[{score_output}] >= threshold")
            }
            Mode::Multiclass { .. } => "the top output's class".into(),
            Mode::Detection { match_iou, .. } => format!(
                "detections (score > score_threshold, NMS at nms_iou) matched greedily, best first, to the unmatched ground-truth box of highest IoU when IoU >= {match_iou}"
            ),
            Mode::Verification { .. } => {
                "match when the cosine similarity of the two embeddings >= threshold".into()
            }
        }
    }
}

/// The metrics, each a proportion with its own denominator.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Correct decisions / items.
    Accuracy,
    /// Positive decisions / items.
    SelectionRate,
    /// True positive rate (recall): positive decisions / positive items.
    Tpr,
    /// False positive rate: positive decisions / negative items.
    Fpr,
    /// False negative rate: negative decisions / positive items.
    Fnr,
    /// Positive items / positive decisions (detection: matched detections / detections).
    Precision,
    /// Detection: ground-truth boxes matched / ground-truth boxes.
    Recall,
    /// Detection: ground-truth boxes missed / ground-truth boxes (1 − recall).
    MissRate,
    /// Detection: images with at least one unmatched detection / images.
    FalseDetectionImageRate,
    /// Detection: unmatched detections / images, a rate (not a proportion) with an exact
    /// Poisson (Garwood) interval.
    FalseDetectionsPerImage,
    /// Verification: impostor pairs judged a match / impostor pairs (false match rate).
    Fmr,
    /// Verification: genuine pairs judged a non-match / genuine pairs (false non-match rate).
    Fnmr,
}

impl Metric {
    /// Whether a higher value is better (so the lowest slice is the worst).
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::Accuracy
                | Metric::SelectionRate
                | Metric::Tpr
                | Metric::Precision
                | Metric::Recall
        )
    }

    /// Whether the metric is a rate of events per item (a Poisson count over items) rather
    /// than a proportion.
    pub fn is_rate(self) -> bool {
        matches!(self, Metric::FalseDetectionsPerImage)
    }
}

/// One metric of one set of items: value, 95% interval (Wilson for proportions, Garwood's
/// exact Poisson interval for a rate per item) and the denominator. Value and interval are
/// `null` when the denominator is 0 (e.g. TPR of a slice without positives).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct MetricValue {
    pub value: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    /// The denominator (items, positive items, negative items or positive decisions; boxes,
    /// detections, images; genuine or impostor pairs).
    pub n: u64,
}

/// Whether a slice has enough items for a verdict.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    InsufficientData,
}

/// The metrics of all items.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Overall {
    pub n: u64,
    pub metrics: BTreeMap<String, MetricValue>,
}

/// One slice: the items whose attribute (or attributes, for an intersection) has one value.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Slice {
    /// The column, or `a & b` for an intersection.
    pub attribute: String,
    /// The value, or `x & y` for an intersection.
    pub value: String,
    pub n: u64,
    pub metrics: BTreeMap<String, MetricValue>,
    pub status: Status,
    #[serde(skip)]
    pub members: Vec<usize>,
}

/// How a disparity is judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Worst/best ratio (min/max) must be at least the threshold.
    Ratio,
    /// Largest difference (max − min) must be at most the threshold.
    Difference,
}

/// How much one metric varies between the slices of one attribute.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Disparity {
    pub attribute: String,
    pub metric: Metric,
    /// min/max over the compared slices (1 when all are 0).
    pub ratio: Option<f64>,
    /// max − min.
    pub difference: Option<f64>,
    /// Which of the two the rule judges, its threshold, and its 95% interval: a percentile
    /// interval over bootstrap replicates of the gap between the observed lowest and highest
    /// slices (each slice resampled within itself).
    pub rule: RuleKind,
    pub threshold: f64,
    pub ci95: Option<[f64; 2]>,
    pub ratio_ci95: Option<[f64; 2]>,
    pub difference_ci95: Option<[f64; 2]>,
    /// Chi-square test that the compared slices share one proportion.
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value (with `holm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_holm: Option<f64>,
    pub verdict: Verdict,
    pub worst: Option<String>,
    pub best: Option<String>,
    /// The slices compared: enough items (n ≥ min-n) and a non-zero denominator.
    pub compared: Vec<String>,
}

/// Counts of values of one attribute.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct AttributeSummary {
    pub attribute: String,
    pub values: usize,
    /// Items with an empty (or NA) value, left out of this attribute's slices.
    pub missing: u64,
}

/// `slices.json`: the validation record of one model on one manifest.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Document {
    pub schema: String,
    pub tool: Tool,
    pub model: ModelRef,
    pub manifest: FileRef,
    pub preprocessing: Option<serde_json::Value>,
    pub decision: DecisionRecord,
    pub params: Params,
    /// The per-item predictions file written beside this document.
    pub predictions: FileRef,
    pub overall: Overall,
    pub attributes: Vec<AttributeSummary>,
    pub slices: Vec<Slice>,
    pub disparities: Vec<Disparity>,
    /// Explanation profiles per slice (absent when not asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<Profiles>,
    /// Why profiles asked for were not computed, or what they cover (detection: only images
    /// with a detection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles_note: Option<String>,
}

/// The decision rule as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct DecisionRecord {
    pub mode: Mode,
    pub threshold: f64,
    pub rule: String,
}

/// A disparity rule as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct RuleRecord {
    pub metric: Metric,
    pub rule: RuleKind,
    pub threshold: f64,
}

/// The parameters as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Params {
    pub slice_by: Vec<String>,
    pub intersect: Vec<Vec<String>>,
    pub min_n: usize,
    pub seed: u64,
    pub ci: String,
    pub bootstrap: usize,
    pub disparity_ci: String,
    pub rules: Vec<RuleRecord>,
    pub holm: bool,
    pub alpha: f64,
    /// Detection: the manifest column holding the ground-truth boxes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boxes_column: Option<String>,
    /// Verification: the manifest columns naming each pair's second image and whether the
    /// pair is genuine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_column: Option<String>,
}

impl Document {
    /// Disparities and profiles with a `flag` verdict, one line each.
    pub fn flags(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .disparities
            .iter()
            .filter(|d| d.verdict == Verdict::Flag)
            .map(|d| {
                let (what, value) = match d.rule {
                    RuleKind::Ratio => ("ratio", d.ratio),
                    RuleKind::Difference => ("difference", d.difference),
                };
                format!(
                    "{} by {}: {what} {:.3} (95% CI {}) breaches {:.3}; worst {}, best {}",
                    d.metric.name(),
                    d.attribute,
                    value.unwrap_or(f64::NAN),
                    fmt_ci(d.ci95),
                    d.threshold,
                    d.worst.as_deref().unwrap_or("?"),
                    d.best.as_deref().unwrap_or("?")
                )
            })
            .collect();
        if let Some(p) = &self.profiles {
            out.extend(p.slices.iter().filter(|s| s.verdict == Verdict::Flag).map(|s| {
                format!(
                    "explanations for {} = {} differ from the overall profile: 1 - Spearman {:.3} > {:.3} ({} items): the model relies on different evidence there",
                    s.attribute,
                    s.value,
                    s.spearman_distance.unwrap_or(f64::NAN),
                    p.threshold,
                    s.items
                )
            }));
        }
        out
    }

    /// A terminal summary: overall metrics, each slice, and the flags.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let metrics = self.decision.mode.metrics();
        let _ = write!(s, "{:<28} {:>6}", "slice", "n");
        for m in metrics {
            let _ = write!(s, " {:>22}", truncate(m.name(), 22));
        }
        let _ = writeln!(s);
        let row =
            |s: &mut String, name: &str, n: u64, ms: &BTreeMap<String, MetricValue>, note: &str| {
                let _ = write!(s, "{:<28} {:>6}", truncate(name, 28), n);
                for m in metrics {
                    let v = &ms[m.name()];
                    let cell = match (v.value, v.ci95) {
                        (Some(x), Some([lo, hi])) => format!("{x:.3} [{lo:.3},{hi:.3}]"),
                        _ => "-".into(),
                    };
                    let _ = write!(s, " {cell:>22}");
                }
                let _ = writeln!(s, "{note}");
            };
        row(&mut s, "overall", self.overall.n, &self.overall.metrics, "");
        for sl in &self.slices {
            let note = if sl.status == Status::InsufficientData {
                "  insufficient data"
            } else {
                ""
            };
            row(
                &mut s,
                &format!("{}={}", sl.attribute, sl.value),
                sl.n,
                &sl.metrics,
                note,
            );
        }
        let empty: Vec<String> = self
            .slices
            .iter()
            .filter(|sl| sl.n == 0)
            .map(|sl| format!("{} = {}", sl.attribute, sl.value))
            .collect();
        if !empty.is_empty() {
            let _ = writeln!(s, "\nno items at all for: {}", empty.join("; "));
        }
        let flags = self.flags();
        let insufficient = self
            .disparities
            .iter()
            .filter(|d| d.verdict == Verdict::InsufficientData)
            .count();
        let _ = writeln!(
            s,
            "\n{} disparit{} checked: {} flagged, {} with insufficient data",
            self.disparities.len(),
            if self.disparities.len() == 1 {
                "y"
            } else {
                "ies"
            },
            self.disparities
                .iter()
                .filter(|d| d.verdict == Verdict::Flag)
                .count(),
            insufficient
        );
        for f in flags {
            let _ = writeln!(s, "  FLAG {f}");
        }
        s
    }
}

fn fmt_ci(ci: Option<[f64; 2]>) -> String {
    match ci {
        Some([lo, hi]) => format!("{lo:.3}-{hi:.3}"),
        None => "n/a".into(),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['~']).collect()
    }
}

/// What to explain and when to flag.
#[derive(Debug, Clone)]
pub struct ProfileConfig {
    /// Items explained per slice (fewer when the slice is smaller).
    pub per_slice: usize,
    /// Flag a slice when 1 − Spearman(slice, overall) exceeds this.
    pub threshold: f64,
}

/// One slice's profile.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SliceProfile {
    pub attribute: String,
    pub value: String,
    /// Explained items that belong to this slice.
    pub items: usize,
    /// Mean |attribution| per feature over those items.
    pub mean_abs: Vec<f64>,
    /// 1 − Spearman correlation with the overall profile (0 same ranking, 1 unrelated, 2
    /// reversed); `null` when either profile is constant.
    pub spearman_distance: Option<f64>,
    /// 1 − cosine similarity with the overall profile.
    pub cosine_distance: Option<f64>,
    pub verdict: Verdict,
}

/// Profiles of every slice, and the overall one.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Profiles {
    pub method: String,
    pub features: String,
    pub baseline: String,
    pub samples: usize,
    pub target: String,
    pub seed: u64,
    pub per_slice: usize,
    pub threshold: f64,
    /// Distinct items explained, in manifest order.
    pub explained: Vec<String>,
    pub feature_names: Vec<String>,
    /// Mean |attribution| per feature over every explained item.
    pub overall: Vec<f64>,
    pub slices: Vec<SliceProfile>,
}

crate::vocabulary!(Metric, |s| format!(
    "unknown metric '{s}': use accuracy, selection_rate, tpr, fpr, fnr or precision (classifiers), recall, precision, miss_rate, false_detection_image_rate or false_detections_per_image (detectors), fmr or fnmr (verification)"
), {
    Accuracy => "accuracy",
    SelectionRate => "selection_rate",
    Tpr => "tpr",
    Fpr => "fpr",
    Fnr => "fnr",
    Precision => "precision",
    Recall => "recall",
    MissRate => "miss_rate",
    FalseDetectionImageRate => "false_detection_image_rate",
    FalseDetectionsPerImage => "false_detections_per_image",
    Fmr => "fmr",
    Fnmr => "fnmr",
});
