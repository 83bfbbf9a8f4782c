//! # explain-core
//!
//! Explains ONNX models with SHAP and LIME attributions that are exact where they can be,
//! carry standard errors where they are sampled, and are bit-for-bit reproducible for any
//! thread count; validates them per data slice; and writes the reviewer-ready report.
//!
//! ## The house
//!
//! One folder per stage of the pipeline. A file uses only its own folder and the folders
//! before it, in this order (the `architecture` tests fail on any other edge, and on any
//! import cycle between files):
//!
//! ```text
//! util → math → model → input → artifact → attribution → validation → render → report → check
//! ```
//!
//! * [`util`]: output staging and atomic writes, limits, hashes and tool identity, the TOML
//!   reader, knife-edge pins.
//! * [`math`]: linear algebra, statistics with intervals, similarity, seeded sampling streams.
//! * [`model`]: load an ONNX model, inspect it, run it on batches ([`model::Backend`]: tract,
//!   or ONNX Runtime with the `ort` feature); the numeric platform that decides its bits.
//! * [`input`]: files to instances — tensor rows, images, audio, segmentation, feature maps,
//!   baselines and the masker (shap's "masker" layer).
//! * [`artifact`]: the documents as typed records (`explain.attributions/1`,
//!   `explain.slices/1`, …) and the vocabulary they carry (methods, links, budgets, targets).
//!   The computations fill them and everything after reads them, so that no computation
//!   depends on another through its output types.
//! * [`attribution`]: the engine (coalition values, chunked, batched, parallel,
//!   deterministic), budgets, the estimators (exact, Kernel SHAP, Leverage SHAP, permutation,
//!   LIME), the explainer, the recipe (the one typed record of how a run reads its inputs
//!   and runs its model, filled by the CLI, by `explain.toml` and from a document) and the
//!   quality checks.
//! * [`validation`]: manifests, metrics per slice with Wilson intervals, disparities with
//!   bootstrap intervals and verdicts, explanation profiles, data inventory and market coverage.
//! * [`render`]: figures: one `Figure` trait rendered to PNG and SVG, one palette and type
//!   scale; bars, overlays, validation and quality charts.
//! * [`report`]: `explain.toml` into a run, the report run, the self-contained HTML page
//!   (askama templates over the typed [`artifact::report::Report`]).
//! * [`check`]: `verify` (re-run and compare) and `diff` (the explanation-stability gate,
//!   over the typed documents).
//!
//! The pipeline of one explanation:
//!
//! ```text
//! input (rows, images, audio) ─► features + masker (baseline) ─► sampling ─► engine ─► estimators ─► explainer ─► artifact
//!                                                                               │
//!                                                                         model (tract / ort)
//! ```
//!
//! ## Example
//!
//! ```no_run
//! use explain_core::artifact::spec::{Budget, Link, Method, TargetSpec};
//! use explain_core::attribution::explainer;
//! use explain_core::input::{self, features::FeatureSpec, image};
//! use explain_core::model::{Model, ModelOptions};
//! let model = Model::load("mlp.onnx".as_ref(), &ModelOptions::default())?;
//! let request = input::Request {
//!     inputs: vec!["x.npy".into()], features: FeatureSpec::Tabular, background: vec!["bg.npy".into()],
//!     baseline: None, image: image::Preprocess::default(), audio: None, seed: 7, crossfade_ms: 0.0,
//! };
//! let prepared = input::prepare(&model, &request)?;
//! let settings = explainer::Settings {
//!     method: Method::Kernel, samples: Budget::Fixed(2048), seed: 7, target: TargetSpec::Auto,
//!     link: Link::Identity, batch_size: 256, features: "tabular".into(), lime: None,
//!     pins: Default::default(), reference: None,
//! };
//! let doc = explainer::explain(&model, &prepared.instances, prepared.sources, &settings, &explainer::Silent)?;
//! let e = &doc.explanations[0];
//! let sum: f64 = e.values.iter().sum();
//! assert!((sum - (e.prediction - e.base_value)).abs() < 1e-9); // efficiency
//! # Ok::<(), explain_core::Error>(())
//! ```

pub mod error;

pub mod artifact;
pub mod attribution;
pub mod check;
pub mod input;
pub mod math;
pub mod model;
pub mod render;
pub mod report;
pub mod util;
pub mod validation;

pub use error::{Error, Result};

#[cfg(test)]
mod architecture;
