//! What is decided and counted: the decision rule and the mode it gives, every item's outcome
//! (`predictions.csv`), the confusion counts of a set of items, and the metric values with
//! their Wilson 95% intervals.

use crate::artifact::slices::{Metric, MetricValue, Mode};
use crate::artifact::spec::defaults;
use crate::math::stats;
use crate::{Result, bad_input};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the user asked for: the positive class (if any) and the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The positive class (`--positive`); `None` lets the model's outputs decide the mode.
    pub positive: Option<usize>,
    /// A binary decision is positive when the score is at least this.
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
    /// The item's `input` cell, as in the manifest.
    pub input: String,
    /// The true class (binary mode: 1 for the positive class, else 0; verification: 1 for a
    /// genuine pair; detection: 0).
    pub label: usize,
    /// Binary: the positive class's output. Multiclass: the top output. Verification: the
    /// cosine similarity. Detection: the best detection's score (0 without one).
    pub score: f64,
    /// The decided class (binary mode: 1 when score ≥ threshold, else 0; verification: 1 for
    /// a match; detection: 0).
    pub predicted: usize,
    /// What a detection or a verification adds.
    #[serde(skip)]
    pub extra: Extra,
}

/// The part of an item's outcome that only detection and verification have.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Extra {
    /// A classification.
    #[default]
    None,
    /// A detector's image matched against its ground truth.
    Detection(ImageMatch),
    /// A pair: the second image's cell, as in the manifest.
    Pair { pair: String },
}

/// One image's detections against its ground truth.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageMatch {
    /// Ground-truth boxes.
    pub objects: u64,
    /// Detections.
    pub detections: u64,
    /// Detections matched to a box (= boxes matched).
    pub matched: u64,
    /// Boxes without a detection.
    pub missed: u64,
    /// Detections without a box.
    pub false_detections: u64,
    /// The detections, best first, each with the index of the box it matched.
    pub detected: Vec<(crate::model::detect::Detection, Option<usize>)>,
}

/// Every item's outcome under one decision rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Binary (with the positive class) or multiclass.
    pub mode: Mode,
    /// The decision threshold (binary mode).
    pub threshold: f64,
    /// In manifest order.
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
                Mode::Binary { .. } | Mode::Verification { .. } => 2,
                Mode::Multiclass { classes } => classes,
                Mode::Detection { .. } => {
                    bad_input!(
                        "a pinned decision names {input}, but detections are not decisions that can be pinned"
                    )
                }
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

    /// `predictions.csv` of a classification: input, label, score, predicted (scores to 9
    /// decimals). [`Predictions::to_csv`] writes the file of any mode.
    pub fn classification_csv(&self) -> String {
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

/// Counts of outcomes in a set of items. In binary mode `tp + fp + tn + fn_ = n`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Confusion {
    /// Items.
    pub n: u64,
    /// Items whose decided class is their label.
    pub correct: u64,
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// True negatives.
    pub tn: u64,
    /// False negatives.
    pub fn_: u64,
    /// Detection: images with at least one unmatched detection. (A detection image adds its
    /// matched detections to `tp`, its unmatched detections to `fp` and its missed
    /// ground-truth boxes to `fn_`.)
    pub fd_images: u64,
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
            Metric::Recall => (c.tp, c.tp + c.fn_),
            Metric::MissRate => (c.fn_, c.tp + c.fn_),
            Metric::FalseDetectionImageRate => (c.fd_images, c.n),
            Metric::FalseDetectionsPerImage => (c.fp, c.n),
            Metric::Fmr => (c.fp, c.fp + c.tn),
            Metric::Fnmr => (c.fn_, c.tp + c.fn_),
        }
    }

    /// Counts one more item (a detection image adds its box counts, so a bootstrap that
    /// resamples items keeps the boxes of one image together).
    pub(super) fn add(&mut self, p: &Prediction) {
        self.n += 1;
        if let Extra::Detection(m) = &p.extra {
            self.tp += m.matched;
            self.fp += m.false_detections;
            self.fn_ += m.missed;
            self.fd_images += u64::from(m.false_detections > 0);
            return;
        }
        self.correct += u64::from(p.label == p.predicted);
        match (p.label == 1, p.predicted == 1) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }

    /// The counts of `items`.
    pub(super) fn of<'a>(items: impl IntoIterator<Item = &'a Prediction>) -> Confusion {
        let mut c = Confusion::default();
        for p in items {
            c.add(p);
        }
        c
    }
}

/// Every metric of `mode` from the counts: value (`None` when its denominator is 0), 95%
/// interval (Wilson; Garwood's exact Poisson interval divided by the items for a rate) and
/// denominator, by metric name.
pub(super) fn metric_values(c: &Confusion, mode: &Mode) -> BTreeMap<String, MetricValue> {
    mode.metrics()
        .iter()
        .map(|&m| {
            let (k, n) = c.counts(m);
            let value = (n > 0).then(|| k as f64 / n as f64);
            let ci95 = if m.is_rate() {
                (n > 0).then(|| {
                    let (lo, hi) = stats::garwood(k);
                    [lo / n as f64, hi / n as f64]
                })
            } else {
                stats::wilson(k, n).map(|(lo, hi)| [lo, hi])
            };
            (m.name().to_string(), MetricValue { value, ci95, n })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
