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
//!   attribution vectors are compared with [`similarity`]: Spearman's ρ, Kendall's τ-b, top-k
//!   Jaccard of |attribution|, cosine similarity and the largest absolute change.
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
//! Both sides are read into their types (`explain.attributions/1`, `explain.report/1`, whose
//! slices, disparities and profiles are those of `explain.slices/1`): `document.rs` reads
//! them, `compare.rs` compares them, `table.rs` prints the result; `thresholds.rs` says what
//! counts as a regression.
//!
//! [`similarity`]: crate::math::stability::similarity
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
//! let text = std::fs::read_to_string("../reports/inspection/attributions-kernel.json")?;
//! let old: serde_json::Value = serde_json::from_str(&text)?;
//! let mut new = old.clone();
//! let values = new["explanations"][0]["values"].as_array_mut().unwrap();
//! values.reverse();
//! assert!(diff(&old, &old, &Thresholds::default())?.passed());
//! let d = diff(&old, &new, &Thresholds::default())?;
//! assert!(!d.passed());
//! assert!(d.regressions[0].starts_with("samples/scratch.png (kernel, target 1): Spearman"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compare;
mod document;
mod outcome;
mod table;
mod thresholds;

pub use outcome::{
    Diff, Direction, ItemDiff, ItemKey, Kind, MethodSummary, MetricChange, ReportDiff, Source,
    VerdictChange, Worst,
};
pub use thresholds::{Bound, OutOfRange, Thresholds};

use crate::{Error, Result};
use document::{Document, kind_of};
use serde_json::Value;
use std::path::Path;

/// Compares two documents (parsed JSON): both `explain.attributions/1` or both
/// `explain.report/1`, read into their types ([`Attributions`](crate::artifact::attributions::Attributions),
/// [`Report`](crate::artifact::report::Report)). Errors ([`Error::Input`]) when the kinds
/// differ or are unknown, when a document does not read as its type (the message names the
/// side and the field), or when a matched item has a different number of features on each
/// side. A drift is not an error: it is a regression in the [`Diff`].
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
    let a = Document::read(old, ko, old_name)?;
    let b = Document::read(new, kn, new_name)?;
    let mut d = Diff {
        kind: ko,
        schema: so,
        model_changed: a.model_sha256() != b.model_sha256(),
        old: Source {
            name: old_name.into(),
            model_sha256: Some(a.model_sha256().to_string()),
        },
        new: Source {
            name: new_name.into(),
            model_sha256: Some(b.model_sha256().to_string()),
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
    let (sa, sb) = (a.side(), b.side());
    compare::compare_params(&sa, &sb, &mut d.notes);
    compare::compare_items(&sa, &sb, t, &mut d)?;
    if let (Some(ra), Some(rb)) = (a.report(), b.report()) {
        d.report = Some(compare::compare_reports(ra, rb, t, &mut d));
    }
    Ok(d)
}
