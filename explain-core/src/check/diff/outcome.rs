//! The outcome of a diff ([`Diff`]): what was compared, every matched item, each method's
//! summary, for reports every metric and verdict change, and the regressions as sentences.

use super::thresholds::Thresholds;
use crate::math::stability::Similarity;
use serde::Serialize;

/// Which kind of document was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `explain.attributions/1`.
    Attributions,
    /// `explain.report/1`.
    Report,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// `OLD` or `NEW`, with the file path when known.
    pub name: String,
    /// The model's SHA-256 as recorded in the document.
    pub model_sha256: Option<String>,
}

/// An explained item: (method, input, target).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ItemKey {
    pub method: String,
    pub input: String,
    pub target: u64,
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, target {})",
            self.input, self.method, self.target
        )
    }
}

/// A matched item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDiff {
    #[serde(flatten)]
    pub key: ItemKey,
    pub similarity: Similarity,
    /// The largest |change| in units of the combined standard error √(se_old² + se_new²), over
    /// features with a nonzero standard error: a change within 2 or so is sampling noise.
    /// `None` without standard errors (exact, or not recorded). Information only.
    pub max_change_in_se: Option<f64>,
    /// The failed checks (`Spearman 0.41 < 0.80`); empty when the item is OK.
    pub failures: Vec<String>,
}

/// The worst matched item of a method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Worst {
    pub input: String,
    pub target: u64,
    pub spearman: Option<f64>,
    pub topk_jaccard: f64,
}

/// Per method, over its matched items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodSummary {
    pub method: String,
    /// Matched items.
    pub items: usize,
    /// Means over the items where the similarity counts (see the module docs on undefined
    /// similarities); `None` when there is none.
    pub mean_spearman: Option<f64>,
    pub mean_topk_jaccard: Option<f64>,
    pub mean_cosine: Option<f64>,
    /// Lowest Spearman (then lowest Jaccard).
    pub worst: Option<Worst>,
    /// Similarity of the global importance (mean |attribution| per feature over the matched
    /// items) of OLD and NEW; `None` without matched items or when items have different
    /// numbers of features (SLIC superpixels).
    pub global: Option<Similarity>,
    /// The failed checks of the global importance (checked with two matched items or more).
    pub global_failures: Vec<String>,
}

/// A metric overall or in a slice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricChange {
    /// `overall` or `ATTRIBUTE = VALUE`.
    pub slice: String,
    pub metric: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
    /// NEW − OLD; `None` when either is undefined.
    pub change: Option<f64>,
    /// Whether the slice has enough items on both sides for the change to count.
    pub checked: bool,
    pub regression: bool,
}

/// How a verdict changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// pass → flag (a regression when [`Thresholds::verdict_changes_fail`]).
    Regression,
    /// flag → pass.
    Improvement,
    /// Anything else (to or from `insufficient_data`, …).
    Change,
}

/// A verdict that differs between OLD and NEW.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictChange {
    /// `disparity accuracy by surface`, `explanation profile lighting = dim`, `overall verdict`.
    pub subject: String,
    pub old: String,
    pub new: String,
    pub direction: Direction,
    /// The numbers behind the verdicts, when recorded.
    pub detail: Option<String>,
}

/// The report-only part of a diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportDiff {
    /// `summary.verdict` of each side.
    pub old_verdict: Option<String>,
    pub new_verdict: Option<String>,
    /// Every metric present on both sides, overall first, then slices in OLD's order.
    pub metrics: Vec<MetricChange>,
    /// Slices (`ATTRIBUTE = VALUE`) in OLD only (regressions) and in NEW only.
    pub slices_only_old: Vec<String>,
    pub slices_only_new: Vec<String>,
    /// Changed verdicts: overall, disparities, explanation profiles.
    pub verdicts: Vec<VerdictChange>,
}

/// The result of [`diff`](super::diff). Serializes deterministically: everything is in document order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub kind: Kind,
    pub schema: String,
    pub old: Source,
    pub new: Source,
    /// Whether the model hashes differ (information only).
    pub model_changed: bool,
    pub thresholds: Thresholds,
    /// Matched items, in OLD's order.
    pub items: Vec<ItemDiff>,
    /// Items in OLD but not in NEW (each a regression).
    pub missing: Vec<ItemKey>,
    /// Items in NEW only.
    pub added: Vec<ItemKey>,
    pub methods: Vec<MethodSummary>,
    pub report: Option<ReportDiff>,
    /// One sentence per regression, naming the item or slice and the numbers.
    pub regressions: Vec<String>,
    /// flag → pass changes.
    pub improvements: Vec<String>,
    /// Everything else worth knowing (changed parameters, verdict changes that are not
    /// regressions, items and slices only in NEW).
    pub notes: Vec<String>,
}

impl Diff {
    /// True when there is no regression: the gate passes.
    pub fn passed(&self) -> bool {
        self.regressions.is_empty()
    }
}
