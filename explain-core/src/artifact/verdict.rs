//! The one verdict type every document writes.

use serde::{Deserialize, Serialize};

/// A verdict, written the same way by every document: on a disparity, on a slice's
/// explanation profile, and on the model-randomisation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Within the rule (for the randomisation check: the explanation changed when the
    /// weights were randomised).
    Pass,
    /// Breaches the rule (for the randomisation check: the explanation survived
    /// randomised weights, so it does not reflect what the model learned).
    Flag,
    /// Too few items for a verdict (slices and profiles).
    InsufficientData,
    /// Nothing to judge: the randomisation check had nothing to randomise, was skipped
    /// or could not run (its note says which).
    NotApplicable,
}

impl Verdict {
    /// The name written in the documents (`pass`, `flag`, `insufficient_data`,
    /// `not_applicable`).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Flag => "flag",
            Verdict::InsufficientData => "insufficient_data",
            Verdict::NotApplicable => "not_applicable",
        }
    }
}
