//! `explain.report/1`: the whole report — identification, intended use, data inventory,
//! protocol, performance per slice, disparities, explanations, limitations and everything
//! needed to reproduce it.

use crate::artifact::attributions::{ExplainedBox, Params, Quality};
use crate::artifact::config::{Config, IntendedUse};
use crate::artifact::inventory::Inventory;
use crate::artifact::slices::{self, Disparity, Metric, Profiles};
use crate::model::ModelInfo;
use crate::model::numerics::Platform;
use crate::util::provenance::{FileRef, Tool};
use serde::Serialize;

/// Schema tag of `report.json`.
pub const SCHEMA: &str = "explain.report/1";

/// The page a reviewer reads, beside `report.json`.
pub const PAGE: &str = "report.html";

/// An explanation counts as converged when its largest standard error is at most this share
/// of its scale: the larger of its largest |attribution| and |prediction − base value|.
pub const CONVERGED_SD_RATIO: f64 = 0.1;

/// The whole report.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema: String,
    pub title: String,
    pub summary: Summary,
    pub identification: Identification,
    pub intended_use: IntendedUse,
    pub data: Inventory,
    pub protocol: Protocol,
    pub performance: Performance,
    pub disparities: Vec<Disparity>,
    pub explanations: Explanations,
    pub limitations: Vec<String>,
    pub reproducibility: Reproducibility,
    /// Wall-clock time per phase: the only part that changes from run to run.
    pub timing: Timing,
}

/// The verdicts in a few lines, for the top of the report.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// `flag` when anything is flagged, else `pass`.
    pub verdict: String,
    pub flags: Vec<String>,
    pub uncovered_markets: Vec<String>,
    pub insufficient_slices: Vec<String>,
    pub not_converged: Vec<String>,
}

/// What was examined.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Identification {
    pub model: ModelInfo,
    pub backend: String,
    pub backend_version: String,
    /// What decided the bits of the model's outputs: CPU features, mode, kernels.
    pub numerics: Platform,
    pub input: String,
    pub output: String,
    pub preprocessing: Option<serde_json::Value>,
}

/// How it was evaluated.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Protocol {
    pub decision: slices::DecisionRecord,
    pub metrics: Vec<Metric>,
    pub slices: slices::Params,
    pub explanations: ExplanationProtocol,
}

/// The explanation settings.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ExplanationProtocol {
    pub methods: Vec<String>,
    pub features: String,
    pub baseline: String,
    pub link: String,
    pub target: String,
    pub samples: Option<usize>,
    pub items_listed: usize,
    pub items_per_slice: usize,
    pub converged_when: String,
}

/// Performance overall and per slice.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Performance {
    pub overall: slices::Overall,
    pub attributes: Vec<slices::AttributeSummary>,
    pub slices: Vec<slices::Slice>,
}

/// Attributions and profiles.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Explanations {
    pub methods: Vec<MethodResult>,
    pub profiles: Option<Profiles>,
    /// Why profiles were not computed, or what they cover (detection, verification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles_note: Option<String>,
}

/// One method's attributions over the explained items.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct MethodResult {
    pub method: String,
    /// The attribution file in the report directory.
    pub file: String,
    pub params: Params,
    pub global_importance: Importance,
    pub items: Vec<ItemResult>,
}

/// Mean |attribution| per feature over the explained items, with its standard error.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Importance {
    pub feature_names: Vec<String>,
    pub mean_abs: Vec<f64>,
    pub std_error: Vec<f64>,
    pub plot: Option<String>,
}

/// One explained item.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ItemResult {
    pub input: String,
    pub input_sha256: String,
    pub target: usize,
    pub prediction: f64,
    pub base_value: f64,
    pub values: Vec<f64>,
    pub std_errors: Vec<f64>,
    pub model_evals: usize,
    /// |Σ values − (prediction − base_value)| (SHAP methods; `null` for LIME).
    pub efficiency_residual: Option<f64>,
    /// Largest standard error / max(largest |value|, |prediction − base_value|).
    pub sd_ratio: f64,
    pub converged: bool,
    /// LIME: weighted R² of the surrogate.
    pub r2: Option<f64>,
    pub plots: Vec<String>,
    /// Deletion/insertion curves, seed stability and the model-randomisation check (listed
    /// items, first method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// For a detector: the box explained, the detection it matched and the unmasked image's
    /// detections (as in the attribution file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<ExplainedBox>,
}

/// Everything needed to reproduce the report.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Reproducibility {
    pub tool: Tool,
    pub command: String,
    pub config: FileRef,
    pub seed: u64,
    /// The config as parsed, every default filled in.
    pub parameters: Config,
    pub inputs: Vec<FileRef>,
    /// Every file written into the report directory besides report.json and report.html.
    pub artifacts: Vec<FileRef>,
    pub plots: Plots,
    /// `report.html`, the page a reviewer reads: rendered from everything above (this field
    /// aside), so its hash is recorded here and `explain verify` checks it.
    pub page: Option<FileRef>,
}

/// Where the charts are.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Plots {
    /// Per attribute and metric.
    pub slices: Vec<SlicePlot>,
    pub disparities: Option<String>,
    pub profiles: Option<String>,
}

/// One per-slice metric chart.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SlicePlot {
    pub attribute: String,
    pub metric: Metric,
    pub plot: String,
}

/// Seconds per phase.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Timing {
    pub phases: Vec<Phase>,
    pub total_seconds: f64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Phase {
    pub phase: String,
    pub seconds: f64,
}
