//! `explain diff OLD NEW`: the explanation stability gate for CI.
//!
//! Compares two attribution files (`explain.attributions/1`, from `explain shap|lime`) or two
//! reports (`explain.report/1`, from `explain report`), typically the same inputs explained by
//! an old and a retrained model, and lists every regression as a plain sentence. The gate
//! passes when there is none ([`Diff::passed`]).
//!
//! What is compared:
//!
//! * **Items** are matched by (method, input, target). For each matched pair the two
//!   attribution vectors are compared with [`stability::similarity`]: Spearman's ρ, Kendall's
//!   τ-b, top-k Jaccard of |attribution|, cosine similarity and the largest absolute change.
//!   An item in OLD but not in NEW is a regression (its explanation can no longer be checked);
//!   an item only in NEW is listed. Two items with the same key on one side are matched in
//!   order of appearance.
//! * **Per method**: the mean of the per-item Spearman, top-k Jaccard and cosine, the worst
//!   item (lowest Spearman, then lowest Jaccard), and the similarity of the two global
//!   importance vectors (mean |attribution| over the matched items), which is held to the
//!   same thresholds as an item when at least two items are matched.
//! * **Reports** also: the change (NEW − OLD) of every metric overall and per slice (slices
//!   matched by attribute and value, metrics by name), disparity verdicts (matched by attribute
//!   and metric), explanation-profile verdicts (by attribute and value) and the overall
//!   verdict. A `pass` → `flag` change is a regression (unless
//!   [`Thresholds::verdict_changes_fail`] is off), `flag` → `pass` an improvement. A slice in
//!   OLD but not in NEW is a regression; one only in NEW is listed.
//! * The model SHA-256 of each side, for information.
//!
//! ## Undefined similarities
//!
//! Spearman and τ-b are undefined when a vector is constant (for example all zero: the input
//! does not move the model), cosine when it is all zero. When **both** sides are constant (or
//! zero) the two explanations agree that there is nothing to rank, and that check is skipped.
//! When only **one** side is, a ranking appeared or vanished: the check counts the similarity
//! as 0, so it fails any positive minimum. The [`Similarity`] fields stay `None`.
//!
//! ## Thresholds
//!
//! [`Thresholds::default`] or a TOML file ([`Thresholds::from_toml`]) with a `[stability]`
//! table; every key is optional:
//!
//! ```toml
//! [stability]
//! min_spearman = 0.8         # per item and for the global importance
//! min_kendall = 0.6          # off unless set
//! min_topk_jaccard = 0.6
//! k = 5
//! min_cosine = 0.9           # off unless set
//! max_abs_change = 0.05      # largest |attribution change|; off unless set
//! max_metric_change = 0.05   # reports: |change| of any metric of a slice with enough items
//! verdict_changes_fail = true
//! ```
//!
//! ```
//! use explain_core::check::diff::{diff, Thresholds};
//! let old = serde_json::json!({"schema": "explain.attributions/1", "method": "kernel",
//!     "explanations": [{"input": "a.png", "target": 1, "values": [0.5, -0.2, 0.1, 0.0]}]});
//! let mut new = old.clone();
//! new["explanations"][0]["values"] = serde_json::json!([0.0, 0.1, -0.2, 0.5]);
//! let t = Thresholds { k: 2, ..Thresholds::default() };
//! assert!(diff(&old, &old, &t)?.passed());
//! let d = diff(&old, &new, &t)?;
//! assert!(!d.passed());
//! assert!(d.regressions[0].starts_with("a.png (kernel, target 1): Spearman -0.60 < 0.80"));
//! # Ok::<(), explain_core::Error>(())
//! ```

use crate::math::stability::{self, Similarity};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Slack for comparisons against thresholds, so that floating-point noise in a change that
/// equals the threshold (0.55 − 0.5) does not fail a check.
const EPS: f64 = 1e-12;

/// How many of the largest slice metric changes [`Diff::table`] shows besides the
/// regressions.
const TABLE_METRICS: usize = 10;

/// What counts as a regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Smallest acceptable Spearman ρ per item (and for the global importance). Default 0.8.
    pub min_spearman: f64,
    /// Smallest acceptable Kendall τ-b; not checked when `None` (the default).
    pub min_kendall: Option<f64>,
    /// Smallest acceptable top-k Jaccard of |attribution|. Default 0.6.
    pub min_topk_jaccard: f64,
    /// The k of top-k (capped at the number of features). Default 5.
    pub k: usize,
    /// Smallest acceptable cosine similarity; not checked when `None` (the default).
    pub min_cosine: Option<f64>,
    /// Largest acceptable |attribution change| of any feature; not checked when `None` (the
    /// default).
    pub max_abs_change: Option<f64>,
    /// Reports: largest acceptable |NEW − OLD| of any metric value, overall and per slice.
    /// Slices that have too few items for a verdict on either side (status other than `ok`)
    /// are shown but never fail. Default 0.05.
    pub max_metric_change: f64,
    /// Reports: whether a `pass` → `flag` verdict change (disparity, explanation profile,
    /// overall) is a regression. Default true; when false such changes are only noted.
    pub verdict_changes_fail: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_spearman: 0.8,
            min_kendall: None,
            min_topk_jaccard: 0.6,
            k: 5,
            min_cosine: None,
            max_abs_change: None,
            max_metric_change: 0.05,
            verdict_changes_fail: true,
        }
    }
}

/// A thresholds file: only a `[stability]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsFile {
    #[serde(default)]
    stability: Thresholds,
}

impl Thresholds {
    /// Reads the `[stability]` table of a TOML file (see the [module docs](self)); keys left
    /// out keep their defaults, a missing table gives the defaults. Unknown keys and values out
    /// of range are [`Error::Input`] naming the file, the key and its line; `path` is for
    /// messages.
    ///
    /// ```
    /// use explain_core::check::diff::Thresholds;
    /// use std::path::Path;
    /// let t = Thresholds::from_toml("[stability]\nmin_spearman = 0.9\nk = 3\n", Path::new("t.toml"))?;
    /// assert_eq!((t.min_spearman, t.k, t.min_topk_jaccard), (0.9, 3, 0.6));
    /// let e = Thresholds::from_toml("[stability]\nk = 0\n", Path::new("t.toml")).unwrap_err();
    /// assert_eq!(e.to_string(), "thresholds t.toml, line 2: [stability] k: must be at least 1");
    /// # Ok::<(), explain_core::Error>(())
    /// ```
    pub fn from_toml(text: &str, path: &Path) -> Result<Thresholds> {
        let file: ThresholdsFile =
            crate::util::toml::parse(text, &format!("thresholds {}", path.display()), "stability")?;
        let t = file.stability;
        let fail = |key: &str, message: &str| -> Result<Thresholds> {
            let at = crate::util::toml::line_of(text, "stability", key)
                .map(|l| format!(", line {l}"))
                .unwrap_or_default();
            Err(Error::Input(format!(
                "thresholds {}{at}: [stability] {key}: {message}",
                path.display()
            )))
        };
        let correlations = [
            ("min_spearman", Some(t.min_spearman)),
            ("min_kendall", t.min_kendall),
            ("min_cosine", t.min_cosine),
        ];
        for (key, value) in correlations {
            if let Some(v) = value
                && !(-1.0..=1.0).contains(&v)
            {
                return fail(key, &format!("must be between -1 and 1 (got {v})"));
            }
        }
        if !(0.0..=1.0).contains(&t.min_topk_jaccard) {
            return fail(
                "min_topk_jaccard",
                &format!("must be between 0 and 1 (got {})", t.min_topk_jaccard),
            );
        }
        if t.k == 0 {
            return fail("k", "must be at least 1");
        }
        for (key, value) in [
            ("max_abs_change", t.max_abs_change),
            ("max_metric_change", Some(t.max_metric_change)),
        ] {
            if let Some(v) = value
                && !(v >= 0.0 && v.is_finite())
            {
                return fail(key, &format!("must be a finite number >= 0 (got {v})"));
            }
        }
        Ok(t)
    }

    /// Reads a thresholds file ([`Thresholds::from_toml`]).
    pub fn read(path: &Path) -> Result<Thresholds> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Input(format!("cannot read thresholds {}: {e}", path.display())))?;
        Thresholds::from_toml(&text, path)
    }

    /// One line: what is checked and against what.
    pub fn describe(&self) -> String {
        let mut on = vec![
            format!("Spearman >= {:.2}", self.min_spearman),
            format!("top-{} Jaccard >= {:.2}", self.k, self.min_topk_jaccard),
        ];
        let mut off = Vec::new();
        match self.min_kendall {
            Some(v) => on.push(format!("tau-b >= {v:.2}")),
            None => off.push("tau-b"),
        }
        match self.min_cosine {
            Some(v) => on.push(format!("cosine >= {v:.2}")),
            None => off.push("cosine"),
        }
        match self.max_abs_change {
            Some(v) => on.push(format!("max change <= {v}")),
            None => off.push("max change"),
        }
        on.push(format!(
            "reports: |metric change| <= {:.3}, pass -> flag {}",
            self.max_metric_change,
            if self.verdict_changes_fail {
                "fails"
            } else {
                "noted"
            }
        ));
        let mut line = on.join(", ");
        if !off.is_empty() {
            let _ = write!(line, " ({} not checked)", off.join(", "));
        }
        line
    }
}

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

/// The result of [`diff`]. Serializes deterministically: everything is in document order.
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

/// Compares two documents (parsed JSON): both `explain.attributions/1` or both
/// `explain.report/1`. Errors ([`Error::Input`]) when the kinds differ or are unknown, when a
/// field the comparison needs is missing, or when a matched item has a different number of
/// features on each side. A drift is not an error: it is a regression in the [`Diff`].
pub fn diff(old: &Value, new: &Value, t: &Thresholds) -> Result<Diff> {
    diff_named(old, new, "OLD", "NEW", t)
}

/// [`diff`] of two files; messages name them.
pub fn diff_files(old: &Path, new: &Path, t: &Thresholds) -> Result<Diff> {
    let read = |p: &Path| -> Result<Value> {
        let text = crate::util::limits::read_file(p)?;
        serde_json::from_slice(&text)
            .map_err(|e| Error::Input(format!("{} is not valid JSON: {e}", p.display())))
    };
    let (a, b) = (read(old)?, read(new)?);
    diff_named(
        &a,
        &b,
        &format!("OLD {}", old.display()),
        &format!("NEW {}", new.display()),
        t,
    )
}

fn diff_named(
    old: &Value,
    new: &Value,
    old_name: &str,
    new_name: &str,
    t: &Thresholds,
) -> Result<Diff> {
    if t.k == 0 {
        return Err(Error::Input("the top-k size k must be at least 1".into()));
    }
    let (ko, so) = kind_of(old, old_name)?;
    let (kn, sn) = kind_of(new, new_name)?;
    if ko != kn {
        return Err(Error::Input(format!(
            "{old_name} is {so} but {new_name} is {sn}: explain diff compares two attribution \
             files or two reports"
        )));
    }
    let a = Doc::parse(old, ko, old_name)?;
    let b = Doc::parse(new, kn, new_name)?;
    let mut d = Diff {
        kind: ko,
        schema: so,
        model_changed: a.model_sha256 != b.model_sha256,
        old: Source {
            name: old_name.into(),
            model_sha256: a.model_sha256.clone(),
        },
        new: Source {
            name: new_name.into(),
            model_sha256: b.model_sha256.clone(),
        },
        thresholds: t.clone(),
        items: Vec::new(),
        missing: Vec::new(),
        added: Vec::new(),
        methods: Vec::new(),
        report: None,
        regressions: Vec::new(),
        improvements: Vec::new(),
        notes: Vec::new(),
    };
    compare_params(&a, &b, &mut d.notes);
    compare_items(&a, &b, t, &mut d)?;
    if let (Some(ra), Some(rb)) = (&a.report, &b.report) {
        d.report = Some(compare_reports(ra, rb, t, &mut d));
    }
    Ok(d)
}

impl Diff {
    /// True when there is no regression: the gate passes.
    pub fn passed(&self) -> bool {
        self.regressions.is_empty()
    }

    /// A readable table for the terminal: the thresholds, every item, the per-method overall,
    /// for reports the largest metric changes and the verdict changes, then the regressions.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let model = match (&self.old.model_sha256, &self.new.model_sha256) {
            (Some(a), Some(b)) if a == b => format!("model {} (unchanged)", short(a)),
            (a, b) => format!(
                "model {} -> {}",
                a.as_deref().map_or("?", short),
                b.as_deref().map_or("?", short)
            ),
        };
        let _ = writeln!(out, "explain diff ({}): {model}", self.schema);
        for side in [&self.old, &self.new] {
            if let Some((which, path)) = side.name.split_once(' ') {
                let _ = writeln!(out, "  {}: {path}", which.to_lowercase());
            }
        }
        let _ = writeln!(out, "thresholds: {}", self.thresholds.describe());
        out.push('\n');

        let k = self.thresholds.k;
        let jaccard = format!("top-{k} Jaccard");
        let mut rows = Vec::new();
        for item in &self.items {
            let s = &item.similarity;
            rows.push(vec![
                item.key.input.clone(),
                item.key.method.clone(),
                item.key.target.to_string(),
                fixed(s.spearman),
                fixed(s.kendall_tau_b),
                fixed(Some(s.topk_jaccard)),
                fixed(s.cosine),
                sig3(s.max_abs_change),
                item.max_change_in_se
                    .map_or("-".into(), |z| format!("{z:.1}")),
                if item.failures.is_empty() {
                    "OK".into()
                } else {
                    "REGRESSION".into()
                },
            ]);
        }
        for (keys, status) in [(&self.missing, "MISSING in new"), (&self.added, "new only")] {
            for key in keys {
                let mut row = vec![
                    key.input.clone(),
                    key.method.clone(),
                    key.target.to_string(),
                ];
                row.extend(std::iter::repeat_n("-".to_string(), 6));
                row.push(status.into());
                rows.push(row);
            }
        }
        let headers = [
            "input",
            "method",
            "target",
            "Spearman",
            "tau-b",
            &jaccard,
            "cosine",
            "max change",
            "change/SE",
            "status",
        ];
        out.push_str(&render(&headers, &rows, &[0, 0, 1, 1, 1, 1, 1, 1, 1, 0]));
        if self.items.iter().any(|i| i.max_change_in_se.is_some()) {
            out.push_str(
                "change/SE: the largest |change| in combined standard errors (up to ~2 is sampling noise)\n",
            );
        }

        if !self.methods.is_empty() {
            out.push_str(
                "\noverall, per method (means over matched items; global = mean |attribution|)\n",
            );
            let mut rows = Vec::new();
            for m in &self.methods {
                let g = m.global.as_ref();
                rows.push(vec![
                    m.method.clone(),
                    m.items.to_string(),
                    fixed(m.mean_spearman),
                    fixed(m.mean_topk_jaccard),
                    fixed(m.mean_cosine),
                    fixed(g.and_then(|g| g.spearman)),
                    fixed(g.map(|g| g.topk_jaccard)),
                    fixed(g.and_then(|g| g.cosine)),
                    m.worst
                        .as_ref()
                        .map(|w| format!("{} ({})", w.input, fixed(w.spearman)))
                        .unwrap_or_else(|| "-".into()),
                    if m.global_failures.is_empty() {
                        "OK".into()
                    } else {
                        "REGRESSION".into()
                    },
                ]);
            }
            let headers = [
                "method",
                "items",
                "mean Spearman",
                &format!("mean top-{k} J"),
                "mean cosine",
                "global Spearman",
                &format!("global top-{k} J"),
                "global cosine",
                "worst item (Spearman)",
                "global status",
            ];
            out.push_str(&render(&headers, &rows, &[0, 1, 1, 1, 1, 1, 1, 1, 0, 0]));
        }

        if let Some(r) = &self.report {
            out.push('\n');
            let compared = r.metrics.iter().filter(|m| m.change.is_some()).count();
            // Nonzero changes, largest first (stable: document order among equals); the
            // regressions and the first few others are shown.
            let mut moved: Vec<&MetricChange> = r
                .metrics
                .iter()
                .filter(|m| m.change.is_some_and(|c| c != 0.0))
                .collect();
            moved.sort_by(|a, b| {
                let magnitude = |m: &MetricChange| m.change.unwrap_or(0.0).abs();
                magnitude(b).total_cmp(&magnitude(a))
            });
            let nonzero = moved.len();
            let shown: Vec<&MetricChange> = moved
                .into_iter()
                .enumerate()
                .filter(|(i, m)| m.regression || *i < TABLE_METRICS)
                .map(|(_, m)| m)
                .collect();
            if shown.is_empty() {
                let _ = writeln!(out, "metrics: {compared} compared, none changed");
            } else {
                let _ = writeln!(
                    out,
                    "largest metric changes ({} of {nonzero} changed, {compared} compared)",
                    shown.len()
                );
                let rows: Vec<Vec<String>> = shown
                    .iter()
                    .map(|m| {
                        vec![
                            m.slice.clone(),
                            m.metric.clone(),
                            fixed(m.old),
                            fixed(m.new),
                            m.change.map_or("-".into(), |c| format!("{c:+.3}")),
                            if m.regression {
                                "REGRESSION".into()
                            } else if !m.checked {
                                "few items".into()
                            } else {
                                "OK".into()
                            },
                        ]
                    })
                    .collect();
                out.push_str(&render(
                    &["slice", "metric", "old", "new", "change", "status"],
                    &rows,
                    &[0, 0, 1, 1, 1, 0],
                ));
            }
            for (list, what) in [
                (&r.slices_only_old, "only in old"),
                (&r.slices_only_new, "only in new"),
            ] {
                if !list.is_empty() {
                    let _ = writeln!(out, "slices {what}: {}", list.join("; "));
                }
            }
            out.push('\n');
            if r.verdicts.is_empty() {
                out.push_str("verdicts: none changed\n");
            } else {
                out.push_str("verdict changes\n");
                let rows: Vec<Vec<String>> = r
                    .verdicts
                    .iter()
                    .map(|v| {
                        vec![
                            v.subject.clone(),
                            format!("{} -> {}", v.old, v.new),
                            v.detail.clone().unwrap_or_default(),
                            match v.direction {
                                Direction::Regression if self.thresholds.verdict_changes_fail => {
                                    "REGRESSION".into()
                                }
                                Direction::Regression => "worse".into(),
                                Direction::Improvement => "improvement".into(),
                                Direction::Change => "change".into(),
                            },
                        ]
                    })
                    .collect();
                out.push_str(&render(
                    &["subject", "verdict", "numbers", "status"],
                    &rows,
                    &[0, 0, 0, 0],
                ));
            }
        }

        if !self.notes.is_empty() {
            out.push_str("\nnotes\n");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        if !self.improvements.is_empty() {
            let _ = writeln!(out, "\nimprovements ({})", self.improvements.len());
            for n in &self.improvements {
                let _ = writeln!(out, "  - {n}");
            }
        }
        if self.passed() {
            let _ = writeln!(out, "\nPASS: no regressions");
        } else {
            let n = self.regressions.len();
            let _ = writeln!(
                out,
                "\nFAIL: {n} regression{}",
                if n == 1 { "" } else { "s" }
            );
            for r in &self.regressions {
                let _ = writeln!(out, "  - {r}");
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the documents

struct Item {
    key: ItemKey,
    values: Vec<f64>,
    std_errors: Option<Vec<f64>>,
    feature_names: Option<Vec<String>>,
}

struct Slice {
    name: String,
    ok: bool,
    metrics: Vec<(String, Option<f64>)>,
}

struct Verdicted {
    subject: String,
    verdict: String,
    /// The number the verdict was drawn from (`ratio 0.83`) and its threshold.
    measure: Option<(String, f64)>,
    threshold: Option<f64>,
}

/// A verdict with the key that matches it across the two sides.
type Keyed = (String, Verdicted);

struct ReportParts {
    verdict: Option<String>,
    slices: Vec<Slice>,
    disparities: Vec<Keyed>,
    profiles: Vec<Keyed>,
}

struct Doc {
    model_sha256: Option<String>,
    /// Method → its parameters (scalars only), in order.
    params: Vec<(String, BTreeMap<String, String>)>,
    items: Vec<Item>,
    report: Option<ReportParts>,
}

fn kind_of(v: &Value, name: &str) -> Result<(Kind, String)> {
    let schema = v.get("schema").and_then(Value::as_str).ok_or_else(|| {
        Error::Input(format!(
            "{name} has no \"schema\" field: it is not an explain attribution file or report"
        ))
    })?;
    let kind = match schema {
        crate::attribution::explainer::SCHEMA => Kind::Attributions,
        crate::report::SCHEMA => Kind::Report,
        other => {
            return Err(Error::Input(format!(
                "{name} has schema \"{other}\": explain diff compares {} or {} documents",
                crate::attribution::explainer::SCHEMA,
                crate::report::SCHEMA
            )));
        }
    };
    Ok((kind, schema.to_string()))
}

/// A reader of one document whose errors name the side and the JSON path.
struct Reader<'a> {
    name: &'a str,
}

impl Reader<'_> {
    fn missing(&self, at: &str, what: &str) -> Error {
        Error::Input(format!("{}: {at} is missing or not {what}", self.name))
    }
    fn get<'v>(&self, v: &'v Value, key: &str, at: &str) -> Result<&'v Value> {
        v.get(key)
            .filter(|x| !x.is_null())
            .ok_or_else(|| self.missing(&join(at, key), "set"))
    }
    fn str(&self, v: &Value, key: &str, at: &str) -> Result<String> {
        self.get(v, key, at)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.missing(&join(at, key), "a string"))
    }
    fn array<'v>(&self, v: &'v Value, key: &str, at: &str) -> Result<&'v Vec<Value>> {
        self.get(v, key, at)?
            .as_array()
            .ok_or_else(|| self.missing(&join(at, key), "a list"))
    }
    fn numbers(&self, v: &Value, key: &str, at: &str) -> Result<Vec<f64>> {
        self.array(v, key, at)?
            .iter()
            .map(Value::as_f64)
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| self.missing(&join(at, key), "a list of numbers"))
    }
    fn item(&self, v: &Value, method: &str, at: &str) -> Result<Item> {
        let target = self
            .get(v, "target", at)?
            .as_u64()
            .ok_or_else(|| self.missing(&join(at, "target"), "a class index"))?;
        let std_errors = match v.get("std_errors") {
            None | Some(Value::Null) => None,
            Some(_) => Some(self.numbers(v, "std_errors", at)?),
        };
        let feature_names = v.get("feature_names").and_then(Value::as_array).map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        });
        Ok(Item {
            key: ItemKey {
                method: method.to_string(),
                input: self.str(v, "input", at)?,
                target,
            },
            values: self.numbers(v, "values", at)?,
            std_errors,
            feature_names,
        })
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// The scalar parameters of a `params` object, as text.
fn scalars(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter(|(_, x)| !x.is_object() && !x.is_array())
                .map(|(k, x)| (k.clone(), x.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

impl Doc {
    fn parse(v: &Value, kind: Kind, name: &str) -> Result<Doc> {
        let r = Reader { name };
        match kind {
            Kind::Attributions => {
                let method = r.str(v, "method", "")?;
                let mut items = Vec::new();
                for (i, e) in r.array(v, "explanations", "")?.iter().enumerate() {
                    items.push(r.item(e, &method, &format!("explanations[{i}]"))?);
                }
                Ok(Doc {
                    model_sha256: v
                        .pointer("/model/sha256")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    params: vec![(method, scalars(v.get("params")))],
                    items,
                    report: None,
                })
            }
            Kind::Report => {
                let explanations = r.get(v, "explanations", "")?;
                let mut items = Vec::new();
                let mut params = Vec::new();
                for (i, m) in r
                    .array(explanations, "methods", "explanations")?
                    .iter()
                    .enumerate()
                {
                    let at = format!("explanations.methods[{i}]");
                    let method = r.str(m, "method", &at)?;
                    for (j, e) in r.array(m, "items", &at)?.iter().enumerate() {
                        items.push(r.item(e, &method, &format!("{at}.items[{j}]"))?);
                    }
                    params.push((method, scalars(m.get("params"))));
                }
                Ok(Doc {
                    model_sha256: v
                        .pointer("/identification/model/sha256")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    params,
                    items,
                    report: Some(ReportParts::parse(v, &r)?),
                })
            }
        }
    }
}

fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

impl ReportParts {
    fn parse(v: &Value, r: &Reader) -> Result<ReportParts> {
        let metrics = |m: &Value, at: &str| -> Result<Vec<(String, Option<f64>)>> {
            let o = r
                .get(m, "metrics", at)?
                .as_object()
                .ok_or_else(|| r.missing(&join(at, "metrics"), "an object"))?;
            Ok(o.iter()
                .map(|(k, x)| (k.clone(), number(x, "value")))
                .collect())
        };
        let performance = r.get(v, "performance", "")?;
        let mut slices = vec![Slice {
            name: "overall".into(),
            ok: true,
            metrics: metrics(
                r.get(performance, "overall", "performance")?,
                "performance.overall",
            )?,
        }];
        for (i, s) in r
            .array(performance, "slices", "performance")?
            .iter()
            .enumerate()
        {
            let at = format!("performance.slices[{i}]");
            slices.push(Slice {
                name: format!(
                    "{} = {}",
                    r.str(s, "attribute", &at)?,
                    r.str(s, "value", &at)?
                ),
                ok: s
                    .get("status")
                    .and_then(Value::as_str)
                    .is_none_or(|x| x == "ok"),
                metrics: metrics(s, &at)?,
            });
        }
        let mut disparities = Vec::new();
        if let Some(list) = v.get("disparities").and_then(Value::as_array) {
            for (i, x) in list.iter().enumerate() {
                let at = format!("disparities[{i}]");
                let (attribute, metric) = (r.str(x, "attribute", &at)?, r.str(x, "metric", &at)?);
                let rule = x
                    .get("rule")
                    .and_then(Value::as_str)
                    .unwrap_or("difference");
                disparities.push((
                    format!("{attribute}\u{0}{metric}"),
                    Verdicted {
                        subject: format!("disparity {metric} by {attribute}"),
                        verdict: r.str(x, "verdict", &at)?,
                        measure: number(x, rule).map(|v| (rule.to_string(), v)),
                        threshold: number(x, "threshold"),
                    },
                ));
            }
        }
        let mut profiles = Vec::new();
        if let Some(p) = v.pointer("/explanations/profiles").filter(|p| !p.is_null()) {
            let threshold = number(p, "threshold");
            for (i, s) in r
                .array(p, "slices", "explanations.profiles")?
                .iter()
                .enumerate()
            {
                let at = format!("explanations.profiles.slices[{i}]");
                let name = format!(
                    "{} = {}",
                    r.str(s, "attribute", &at)?,
                    r.str(s, "value", &at)?
                );
                profiles.push((
                    name.clone(),
                    Verdicted {
                        subject: format!("explanation profile {name}"),
                        verdict: r.str(s, "verdict", &at)?,
                        measure: number(s, "spearman_distance")
                            .map(|d| ("1 - Spearman".to_string(), d)),
                        threshold,
                    },
                ));
            }
        }
        Ok(ReportParts {
            verdict: v
                .pointer("/summary/verdict")
                .and_then(Value::as_str)
                .map(str::to_string),
            slices,
            disparities,
            profiles,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing

fn compare_params(a: &Doc, b: &Doc, notes: &mut Vec<String>) {
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
    let methods = |d: &Doc| d.params.iter().map(|(m, _)| m.clone()).collect::<Vec<_>>();
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
    let (sa, sb) = (a.std_errors.as_ref()?, b.std_errors.as_ref()?);
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

fn compare_items(a: &Doc, b: &Doc, t: &Thresholds, d: &mut Diff) -> Result<()> {
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
        let s = stability::similarity(&x.values, &y.values, t.k)
            .map_err(|e| Error::Input(format!("{}: {e}", x.key)))?;
        let failures = checks(&x.values, &y.values, &s, t);
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
        .map(|p| p.0.as_str())
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
        let flat = |x: &Item, y: &Item| (constant(&x.values), constant(&y.values));
        let zero = |x: &Item, y: &Item| (all_zero(&x.values), all_zero(&y.values));
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

fn compare_reports(a: &ReportParts, b: &ReportParts, t: &Thresholds, d: &mut Diff) -> ReportDiff {
    let mut r = ReportDiff {
        old_verdict: a.verdict.clone(),
        new_verdict: b.verdict.clone(),
        metrics: Vec::new(),
        slices_only_old: Vec::new(),
        slices_only_new: Vec::new(),
        verdicts: Vec::new(),
    };
    for sa in &a.slices {
        let Some(sb) = b.slices.iter().find(|s| s.name == sa.name) else {
            d.regressions.push(format!(
                "slice {}: in old but missing from new, so its metrics cannot be compared",
                sa.name
            ));
            r.slices_only_old.push(sa.name.clone());
            continue;
        };
        let checked = sa.ok && sb.ok;
        for (metric, old) in &sa.metrics {
            let Some((_, new)) = sb.metrics.iter().find(|(m, _)| m == metric) else {
                d.notes.push(format!(
                    "{}: metric {metric} only in old",
                    slice_label(&sa.name)
                ));
                continue;
            };
            let change = old.zip(*new).map(|(x, y)| y - x);
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
                    fixed(*old),
                    fixed(*new)
                ));
            }
            r.metrics.push(MetricChange {
                slice: sa.name.clone(),
                metric: metric.clone(),
                old: *old,
                new: *new,
                change,
                checked,
                regression,
            });
        }
        for (metric, _) in &sb.metrics {
            if !sa.metrics.iter().any(|(m, _)| m == metric) {
                d.notes.push(format!(
                    "{}: metric {metric} only in new",
                    slice_label(&sa.name)
                ));
            }
        }
    }
    for sb in &b.slices {
        if !a.slices.iter().any(|s| s.name == sb.name) {
            d.notes.push(format!(
                "slice {}: only in new, nothing to compare with",
                sb.name
            ));
            r.slices_only_new.push(sb.name.clone());
        }
    }

    let overall = [(
        String::new(),
        Verdicted {
            subject: "overall verdict".into(),
            verdict: a.verdict.clone().unwrap_or_default(),
            measure: None,
            threshold: None,
        },
    )];
    let overall_new = [(
        String::new(),
        Verdicted {
            subject: "overall verdict".into(),
            verdict: b.verdict.clone().unwrap_or_default(),
            measure: None,
            threshold: None,
        },
    )];
    let groups: [(&[Keyed], &[Keyed]); 3] = [
        (&overall, &overall_new),
        (&a.disparities, &b.disparities),
        (&a.profiles, &b.profiles),
    ];
    for (old, new) in groups {
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

// ---------------------------------------------------------------------------------------------
// Formatting

/// `overall`, or `slice ATTRIBUTE = VALUE`.
fn slice_label(name: &str) -> String {
    if name == "overall" {
        name.to_string()
    } else {
        format!("slice {name}")
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn fixed(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.3}"))
}

/// Three significant digits.
fn sig3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (2 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{x:.digits$}")
}

/// A plain-text table: columns padded to their widest cell; `right[c]` right-aligns column c.
fn render(headers: &[&str], rows: &[Vec<String>], right: &[u8]) -> String {
    let cols = headers.len();
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (c, cell) in row.iter().enumerate().take(cols) {
            width[c] = width[c].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                s.push_str("  ");
            }
            let w = width[c];
            if right.get(c) == Some(&1) {
                let _ = write!(s, "{cell:>w$}");
            } else {
                let _ = write!(s, "{cell:<w$}");
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(
        width
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
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
        assert_eq!(sig3(0.006875), "0.00688");
        assert_eq!(sig3(1.5), "1.50");
        assert_eq!(sig3(0.0), "0");
    }

    #[test]
    fn tables_pad_by_characters() {
        let t = render(&["a", "bb"], &[vec!["τ".into(), "1".into()]], &[0, 1]);
        assert_eq!(t, "a  bb\n-  --\nτ   1\n");
    }
}
