//! `explain.attributions/1`: an attribution file, its explanations and the records they carry
//! (surrogate, `--samples auto` trace, quality figures, the recipe that re-runs it).

use crate::Result;
use crate::artifact::spec::{Budget, HeldInput, Link, Method, QualityConfig, Selection};
pub use crate::artifact::verdict::Verdict;
use crate::input::Request;
use crate::input::audio::AudioPreprocess;
use crate::input::features::FeatureSpec;
use crate::input::image::{self, Preprocess};
use crate::input::masker::BaselineSpec;
use crate::math::stats::trapezoid;
use crate::model::detect::{Detection, Detector, TargetBox};
use crate::model::numerics::{Mode, Platform};
use crate::model::{BackendChoice, Model, ModelOptions, Reduce};
use crate::util::provenance::{FileRef, Tool};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The schema id written into attribution files.
pub const SCHEMA: &str = "explain.attributions/1";

/// The model as recorded in an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelRef {
    pub path: String,
    pub sha256: String,
    pub backend: String,
    pub backend_version: String,
    pub input: String,
    pub output: String,
    /// What decided the bits of the model's outputs (absent from files written before it was
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerics: Option<Platform>,
    /// Files beside the model that hold its weights (ONNX external data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_data: Vec<FileRef>,
}

impl ModelRef {
    /// The loaded model's identity: path, hash, backend, the input and output used, and the
    /// numeric platform it ran on.
    pub fn of(model: &Model) -> ModelRef {
        ModelRef {
            path: model.info.path.clone(),
            sha256: model.info.sha256.clone(),
            backend: model.backend_name().into(),
            backend_version: model.backend_version(),
            input: model.input.name.clone(),
            output: model.output.name.clone(),
            numerics: Some(model.numerics()),
            external_data: model
                .info
                .external_paths()
                .into_iter()
                .zip(&model.info.external_data)
                .map(|(p, e)| FileRef {
                    path: p.display().to_string(),
                    sha256: e.sha256.clone(),
                    rows: None,
                })
                .collect(),
        }
    }
}

/// The parameters as recorded in an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Params {
    /// The coalition budget of the first explanation (with `--samples auto`, the budget it
    /// stopped at; each explanation records its own in `auto`).
    pub samples: usize,
    pub seed: u64,
    pub features: String,
    pub baseline: String,
    pub link: Link,
    pub target: String,
    pub batch_size: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_width: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surrogate_features: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_selection: Option<Selection>,
    /// `--samples auto`: stop when the largest standard error is at most this share of the
    /// attribution range...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// ...or at this budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_samples: Option<usize>,
}

/// One explained row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Explanation {
    /// `file` for a one-row file, else `file#row`.
    pub input: String,
    /// SHA-256 of the explained row's float32 values (little-endian).
    pub input_sha256: String,
    pub target: usize,
    /// `v(N)`: the linked output at the row.
    pub prediction: f64,
    /// `v(∅)` for SHAP methods (so `Σ values = prediction − base_value`); the surrogate's
    /// intercept for LIME.
    pub base_value: f64,
    pub feature_names: Vec<String>,
    pub values: Vec<f64>,
    pub std_errors: Vec<f64>,
    /// Coalitions evaluated (with `--samples auto`, summed over every budget tried).
    pub model_evals: usize,
    /// Model rows run (coalitions × baseline rows).
    pub model_rows: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surrogate: Option<Surrogate>,
    /// What `--samples auto` did: the budget reported, the rounds, the SE ratio, convergence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<AutoOutcome>,
    /// Quality figures (`--quality`, and the listed items of a report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// For a detector: the box explained and the unmasked image's detections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<ExplainedBox>,
}

/// The box a detector explanation explains, and what the detector found on the unmasked
/// image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExplainedBox {
    /// The target box (pixels of the model input) and class.
    pub target: TargetBox,
    /// Its position among `detections` when the target is a detection (by index, or a given
    /// box that a detection matches at IoU ≥ 0.5); `None` for a box the detector missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Every detection on the unmasked image (score threshold and NMS applied), best first.
    pub detections: Vec<Detection>,
}

impl ExplainedBox {
    /// What was explained, for titles and tables: `detection 0: box 112,78,165,133`, or
    /// `box 36,87,126,177 (no detection matches it)` for a box the detector missed.
    pub fn label(&self) -> String {
        let b = self.target.bbox;
        let mut s = format!("box {:.0},{:.0},{:.0},{:.0}", b[0], b[1], b[2], b[3]);
        if let Some(c) = self.target.class {
            s.push_str(&format!(", class {c}"));
        }
        match self.index {
            Some(i) => format!("detection {i}: {s}"),
            None => format!("{s} (no detection matches it)"),
        }
    }
}

/// An attribution file (`explain shap|lime --out`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attributions {
    pub schema: String,
    pub tool: Tool,
    pub model: ModelRef,
    pub method: Method,
    pub params: Params,
    pub inputs: Vec<FileRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub background: Vec<FileRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocessing: Option<serde_json::Value>,
    /// What was asked for, in re-runnable form (`explain shap|lime`; see `attribution::recipe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
    pub explanations: Vec<Explanation>,
}

/// The surrogate model LIME fitted, reported beside its coefficients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Surrogate {
    pub intercept: f64,
    /// Weighted R² of the surrogate on its samples.
    pub r2: f64,
    /// The surrogate's prediction at the explained row (all features on).
    pub local_prediction: f64,
    /// Indices of the features in the surrogate, ascending.
    pub selected: Vec<usize>,
    /// With feature selection: how near the choice came to another one, in the criterion's
    /// units (forward: the smallest R² lead of a chosen feature over the best one passed
    /// over; highest: the |coefficient| of the last kept less that of the first dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_margin: Option<f64>,
}

/// What `--samples auto` did for one explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AutoOutcome {
    /// The budget of the reported estimate.
    pub samples: usize,
    /// Estimates computed (budgets tried); the last is reported.
    pub rounds: usize,
    /// `max_i SE_i / (max_i φ_i − min_i φ_i)` of the reported estimate; absent when the
    /// attributions are all equal while their standard errors are not.
    pub se_ratio: Option<f64>,
    /// Whether the ratio is at most the tolerance (`false`: stopped at the maximum).
    pub converged: bool,
    /// Every round: its budget and SE ratio (what decided the next one).
    #[serde(default)]
    pub trace: Vec<AutoRound>,
}

/// One round of `--samples auto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AutoRound {
    pub samples: usize,
    pub se_ratio: Option<f64>,
}

/// A deletion or insertion curve: the explained output (link scale) against the share of
/// features switched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Curve {
    /// Share of features switched off (deletion) or on (insertion), from 0 to 1.
    pub x: Vec<f64>,
    /// The explained output `v(z)` at each point.
    pub y: Vec<f64>,
    /// Area under the curve (trapezoid rule over `x`).
    pub auc: f64,
}

impl Curve {
    pub(crate) fn new(x: Vec<f64>, y: Vec<f64>) -> Curve {
        let auc = trapezoid(&x, &y);
        Curve { x, y, auc }
    }
}

/// Agreement of the explanation with itself under other seeds.
///
/// Over all pairs of the runs (the explanation itself and one re-run per extra seed):
///
/// * `spearman`: mean Spearman correlation of `|values|` (a pair where one side is constant
///   counts 1 if both sides are identical, else 0);
/// * `topk_jaccard`: mean `|T_a ∩ T_b| / |T_a ∪ T_b|` of the `k` features with the largest
///   `|value|` (ties broken by feature index);
/// * `vsi` (LIME only; Visani et al. 2022, *variables stability index*): mean
///   `|F_a ∩ F_b| / max(|F_a|, |F_b|)` of the surrogate's selected feature sets (1 when every
///   feature is kept, as without `--num-features`);
/// * `csi` (LIME only; *coefficients stability index*): for every feature selected in at least
///   one run, the share of run pairs whose 95% intervals `β ± 1.96·se` (the ridge
///   coefficient's standard error; `[0, 0]` in a run that did not select the feature)
///   overlap; the mean over those features.
///
/// All are fractions in `[0, 1]` (Visani et al. print them ×100). `None` when there is only
/// one run (`seeds = 0`) and the method is random.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SeedStability {
    /// The seeds of the runs compared, the explanation's own first.
    pub seeds: Vec<u64>,
    /// True for exact explanations: identical for every seed, so nothing was re-run.
    pub deterministic: bool,
    pub spearman: Option<f64>,
    pub k: usize,
    pub topk_jaccard: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vsi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi: Option<f64>,
}

/// The model-randomisation sanity check (Adebayo et al. 2018).
///
/// **Which weights.** A *parameterised node* is an ONNX node with a float32 initializer input
/// of at least 2 elements stored in the model file. Only nodes the explained output depends
/// on count (a detector's other heads are left alone). A parameterised elementwise `Add`,
/// `Sub`, `Mul`, `Div` or `BatchNormalization` whose data input comes only from another
/// parameterised node joins that node's layer (so `MatMul` + bias `Add` is one layer, as in
/// the framework it came from). The last `layers` layers in graph order are randomised: each
/// of their float initializers with at least 2 elements is replaced by seeded normal values
/// with the original tensor's mean and standard deviation (absolute values when the original
/// has no negative element, e.g. variances), same shape, stream
/// `StreamKey(seed, model SHA-256, "", 0, "quality/randomise-weights")`, one stream per
/// initializer. The randomised copy is explained with the original model's stream key, so
/// both explanations use the same coalitions and any difference comes from the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Randomisation {
    pub verdict: Verdict,
    /// Layers asked for.
    pub layers: usize,
    /// The initializers randomised, in graph order.
    pub randomised: Vec<String>,
    /// Weights replaced.
    pub parameters: usize,
    /// Spearman correlation of the signed values, original vs randomised model.
    pub spearman: Option<f64>,
    /// Spearman correlation of `|values|`; `flag` at or above `threshold`.
    pub spearman_abs: Option<f64>,
    pub threshold: f64,
    /// The randomised model's attributions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// What was done, in a sentence.
    pub note: String,
}

/// Quality figures for one explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Quality {
    /// `|Σ values − (prediction − base_value)|` for SHAP methods; `None` for LIME.
    pub efficiency_residual: Option<f64>,
    /// Steps of the curves below.
    pub steps: usize,
    /// Random orders behind the reference curves.
    pub random_orders: usize,
    /// Switching off the features in order of decreasing attribution.
    pub deletion: Curve,
    /// Switching on the features in order of decreasing attribution, from the baseline.
    pub insertion: Curve,
    /// Mean deletion AUC over the random orders.
    pub random_deletion_auc: f64,
    /// Mean insertion AUC over the random orders.
    pub random_insertion_auc: f64,
    /// Mean deletion curve over the random orders.
    pub random_deletion: Curve,
    /// Mean insertion curve over the random orders.
    pub random_insertion: Curve,
    pub seed_stability: SeedStability,
    pub randomisation: Randomisation,
}

/// What was asked for beyond the recorded parameters (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// The feature spec as asked for (`auto`, `grid:8x8`, ...), before `auto` is resolved;
    /// written as the command line spells it.
    #[serde(with = "crate::util::as_text")]
    #[schemars(with = "String")]
    pub features: FeatureSpec,
    /// The baseline spec as asked for; the input kind's default when `None`.
    #[serde(
        default,
        with = "crate::util::as_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub baseline: Option<BaselineSpec>,
    /// The coalition budget as given: absent for the method's default (per row), a number,
    /// or `{"auto": {"tolerance": …, "max_samples": …}}`.
    #[serde(default, skip_serializing_if = "Budget::is_default")]
    pub samples: Budget,
    /// `max` or `mean` of a spatial output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce: Option<Reduce>,
    /// A detector's output layout, score threshold and NMS (`--detector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<Detector>,
    /// A recogniser's reference input (`--reference`): the explained value is the cosine
    /// similarity of an input's embedding to this file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<FileRef>,
    /// Other model inputs held constant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hold: Vec<HeldInput>,
    /// Image preprocessing, when it differs from the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Preprocess>,
    /// Audio preprocessing, for WAV inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioPreprocess>,
    /// Audio: segment boundaries faded over this many milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crossfade_ms: f32,
    /// Quality figures per explanation (`--quality`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<QualityConfig>,
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

impl Recipe {
    /// How the model is loaded: the output, held inputs, reduction and image size, run by
    /// `backend`.
    pub fn model_options(
        &self,
        output: Option<String>,
        backend: BackendChoice,
    ) -> Result<ModelOptions> {
        let image = self.image.clone().unwrap_or_default();
        Ok(ModelOptions {
            backend,
            input: None,
            output,
            held: self
                .hold
                .iter()
                .map(HeldInput::load)
                .collect::<Result<_>>()?,
            reduce: self.reduce,
            detector: self.detector,
            axis_sizes: image::axis_sizes(&image),
            numerics: Mode::Native,
            wrap: None,
        })
    }

    /// How `inputs` are read and cut into features, with `background` and noise baselines
    /// seeded by `seed`.
    pub fn request(&self, inputs: Vec<PathBuf>, background: Vec<PathBuf>, seed: u64) -> Request {
        Request {
            inputs,
            features: self.features.clone(),
            background,
            baseline: self.baseline.clone(),
            image: self.image.clone().unwrap_or_default(),
            audio: self.audio.clone(),
            seed,
            crossfade_ms: self.crossfade_ms,
        }
    }
}
