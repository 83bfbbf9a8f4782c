//! Discrete choices fixed to recorded ones: how `explain verify` re-runs a report whose
//! re-run on another numeric platform took another branch at a knife edge.
//!
//! A decision within float32 rounding of its threshold, two classes tied for the top output,
//! an `--samples auto` round whose SE ratio sits at the tolerance, or LIME features tied for
//! selection can go either way on another CPU. The verifier names each such item and its
//! cause, then re-runs with the recorded choice pinned, so that everything downstream
//! (metrics, intervals, attributions) is compared as it would be had the choice gone the
//! recorded way. Nothing here is used by a normal run: the default [`Pins`] are empty.

use serde::Serialize;
use std::collections::BTreeMap;

/// Identifies one explanation across runs: the model, the explained row, the seed and the
/// method (a quality re-run with another seed or a randomised model is another explanation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ExplanationKey {
    pub model_sha256: String,
    pub input_sha256: String,
    pub seed: u64,
    pub method: String,
}

/// The recorded choices of one explanation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExplanationPin {
    /// The explained output (with `--target top|auto`).
    pub target: Option<usize>,
    /// The budgets `--samples auto` tried, in order.
    pub budgets: Option<Vec<usize>>,
    /// The features LIME kept.
    pub selection: Option<Vec<usize>>,
}

/// Everything pinned for one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pins {
    /// Validation items, as the manifest names them, → the class decided.
    pub decisions: BTreeMap<String, usize>,
    pub explanations: BTreeMap<ExplanationKey, ExplanationPin>,
}

impl Pins {
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty() && self.explanations.is_empty()
    }

    /// Adds `other`'s pins (the later wins where both pin the same thing).
    pub fn extend(&mut self, other: Pins) {
        self.decisions.extend(other.decisions);
        for (k, v) in other.explanations {
            let e = self.explanations.entry(k).or_default();
            e.target = v.target.or(e.target);
            e.budgets = v.budgets.or(e.budgets.take());
            e.selection = v.selection.or(e.selection.take());
        }
    }

    /// The pin for an explanation, if any.
    pub fn explanation(&self, key: &ExplanationKey) -> Option<&ExplanationPin> {
        self.explanations.get(key)
    }
}
