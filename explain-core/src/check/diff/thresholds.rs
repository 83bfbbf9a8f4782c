//! What counts as a regression: [`Thresholds`], their defaults, the `[stability]` table of a
//! TOML file, and the one set of bounds ([`Thresholds::validate`]) that both the file and the
//! command-line flags are held to.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

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

/// The range a threshold must lie in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// Between `lo` and `hi`, both included (correlations, Jaccard, metric changes).
    Between(f64, f64),
    /// A finite number ≥ 0 (the largest attribution change, in the attributions' units).
    NonNegative,
    /// A whole number ≥ 1 (`k`).
    AtLeastOne,
}

/// A threshold outside its [`Bound`], from [`Thresholds::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfRange {
    /// The key, as the `[stability]` table spells it (`min_topk_jaccard`).
    pub key: &'static str,
    /// The range it must lie in.
    pub bound: Bound,
    /// The value given, as written in messages.
    pub value: String,
}

impl OutOfRange {
    /// What is wrong, after the key: `must be between 0 and 1 (got 1.5)`.
    pub fn message(&self) -> String {
        match self.bound {
            Bound::Between(lo, hi) => {
                format!("must be between {lo} and {hi} (got {})", self.value)
            }
            Bound::NonNegative => format!("must be a finite number >= 0 (got {})", self.value),
            Bound::AtLeastOne => "must be at least 1".into(),
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
    /// Checks every threshold against its [`Bound`], in the order of the fields; the first
    /// one outside is the error. Correlations (Spearman, τ-b, cosine) lie in [-1, 1], the
    /// top-k Jaccard and the largest metric change (of proportions) in [0, 1], the largest
    /// attribution change is finite and ≥ 0, and `k` is at least 1. `NaN` is outside every
    /// bound.
    pub fn validate(&self) -> std::result::Result<(), OutOfRange> {
        let correlation = Bound::Between(-1.0, 1.0);
        let share = Bound::Between(0.0, 1.0);
        let checks = [
            ("min_spearman", Some(self.min_spearman), correlation),
            ("min_kendall", self.min_kendall, correlation),
            ("min_cosine", self.min_cosine, correlation),
            ("min_topk_jaccard", Some(self.min_topk_jaccard), share),
            ("k", Some(self.k as f64), Bound::AtLeastOne),
            ("max_abs_change", self.max_abs_change, Bound::NonNegative),
            ("max_metric_change", Some(self.max_metric_change), share),
        ];
        for (key, value, bound) in checks {
            if let Some(v) = value
                && !within(v, bound)
            {
                return Err(OutOfRange {
                    key,
                    bound,
                    value: v.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Reads the `[stability]` table of a TOML file (see the [module docs](super)); keys left
    /// out keep their defaults, a missing table gives the defaults. Unknown keys and values out
    /// of range ([`Thresholds::validate`]) are [`Error::Input`] naming the file, the key and
    /// its line; `path` is for messages.
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
        match t.validate() {
            Ok(()) => Ok(t),
            Err(e) => {
                let at = crate::util::toml::line_of(text, "stability", e.key)
                    .map(|l| format!(", line {l}"))
                    .unwrap_or_default();
                Err(Error::Input(format!(
                    "thresholds {}{at}: [stability] {}: {}",
                    path.display(),
                    e.key,
                    e.message()
                )))
            }
        }
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

/// Whether `v` lies within `bound` (never for `NaN`).
fn within(v: f64, bound: Bound) -> bool {
    match bound {
        Bound::Between(lo, hi) => (lo..=hi).contains(&v),
        Bound::NonNegative => v >= 0.0 && v.is_finite(),
        Bound::AtLeastOne => v >= 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_set_of_bounds_in_the_order_of_the_fields() {
        assert_eq!(Thresholds::default().validate(), Ok(()));
        let t = Thresholds {
            min_topk_jaccard: 1.5,
            max_metric_change: 2.0,
            ..Thresholds::default()
        };
        let e = t.validate().unwrap_err();
        assert_eq!(
            (e.key, e.message()),
            (
                "min_topk_jaccard",
                "must be between 0 and 1 (got 1.5)".into()
            )
        );
        let t = Thresholds {
            max_metric_change: 1.5,
            ..Thresholds::default()
        };
        assert_eq!(t.validate().unwrap_err().key, "max_metric_change");
        let t = Thresholds {
            max_abs_change: Some(f64::NAN),
            ..Thresholds::default()
        };
        assert_eq!(
            t.validate().unwrap_err().message(),
            "must be a finite number >= 0 (got NaN)"
        );
        let t = Thresholds {
            k: 0,
            max_metric_change: -1.0,
            ..Thresholds::default()
        };
        assert_eq!(t.validate().unwrap_err().message(), "must be at least 1");
    }
}
