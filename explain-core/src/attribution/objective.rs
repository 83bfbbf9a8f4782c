//! What one masked input is worth: the quantity an explanation attributes.
//!
//! For a classifier or regressor it is one output value ([`Objective::Output`]). For a
//! detector it is the D-RISE similarity of a target box to the best of the masked image's
//! box proposals ([`Objective::Box`], see [`crate::model::detect`]). For a recogniser it is
//! the cosine similarity of the masked input's embedding to a reference embedding
//! ([`Objective::Similar`]). The engine averages it over the baseline rows and applies the
//! link; everything after (the estimators, their standard errors, `--samples auto`, the
//! quality figures, verify) sees one number per coalition, whatever the objective.
//!
//! ```
//! use explain_core::attribution::objective::Objective;
//! use explain_core::model::detect::TargetBox;
//! // An output of a classifier.
//! assert_eq!(Objective::Output(1).value(&[0.2, 0.8], None), 0.8f32 as f64);
//! // A box against two proposals [x0, y0, x1, y1, score].
//! let t = Objective::Box(TargetBox { bbox: [0.0, 0.0, 4.0, 4.0], class: None });
//! let proposals = [0.0, 0.0, 4.0, 2.0, 0.8, 9.0, 9.0, 12.0, 12.0, 0.9];
//! assert!((t.value(&proposals, Some(5)) - 0.5 * 0.8).abs() < 1e-6);
//! // An embedding against the reference's.
//! let r = Objective::Similar(vec![1.0, 0.0].into());
//! assert!((r.value(&[1.0, 1.0], None) - 0.5f64.sqrt()).abs() < 1e-6);
//! ```

use crate::model::detect::{self, TargetBox};
use std::sync::Arc;

/// The quantity one explanation attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Objective {
    /// This value of each output row.
    Output(usize),
    /// A detector's best D-RISE similarity to this box.
    Box(TargetBox),
    /// Cosine similarity of the output row (an embedding) to this one.
    Similar(Arc<[f32]>),
}

impl Objective {
    /// The value of one output row (`width`: values per proposal, for a detector).
    pub fn value(&self, row: &[f32], width: Option<usize>) -> f64 {
        match self {
            Objective::Output(t) => row[*t] as f64,
            Objective::Box(t) => detect::similarity(t, row, width.unwrap_or(detect::BOX_VALUES)),
            Objective::Similar(reference) => {
                let a: Vec<f64> = row.iter().map(|v| *v as f64).collect();
                let b: Vec<f64> = reference.iter().map(|v| *v as f64).collect();
                // A zero embedding resembles nothing.
                crate::math::stability::cosine(&a, &b).unwrap_or(0.0)
            }
        }
    }

    /// Whether an output row of `len` values has what the objective reads.
    pub fn fits(&self, len: usize) -> bool {
        match self {
            Objective::Output(t) => *t < len,
            Objective::Box(_) => true,
            Objective::Similar(r) => r.len() == len,
        }
    }

    /// The output index recorded as an explanation's `target` (0 for boxes and similarity).
    pub fn index(&self) -> usize {
        match self {
            Objective::Output(t) => *t,
            _ => 0,
        }
    }

    /// What the objective reads, for messages: `output 'y'[1]`, `the box 1,2,3,4 of output
    /// 'heatmap'`, `the cosine similarity of output 'emb' to the reference`.
    pub fn describe(&self, output: &str) -> String {
        match self {
            Objective::Output(t) => format!("output '{output}'[{t}]"),
            Objective::Box(b) => format!("the detector's similarity to box {b}"),
            Objective::Similar(_) => {
                format!("the cosine similarity of output '{output}' to the reference")
            }
        }
    }

    /// Separates the sampling streams of different boxes of one image (empty otherwise).
    pub fn stream_label(&self) -> String {
        match self {
            Objective::Box(b) => format!("/box:{b}"),
            _ => String::new(),
        }
    }
}
