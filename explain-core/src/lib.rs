//! # explain-core
//!
//! Explains ONNX models with SHAP and LIME attributions that are exact where they can be,
//! carry standard errors where they are sampled, and are bit-for-bit reproducible for any
//! thread count.
//!
//! The pipeline, one module per concept:
//!
//! ```text
//! inputs (rows, images, audio) ─► features + masker (baseline) ─► sampling ─► engine ─► estimators ─► explainer (JSON)
//!                                                                                   │                        │
//!                                                                              model (tract)         figures (plots)
//! ```
//!
//! * [`model`]: load an ONNX model, inspect it, run it on batches ([`model::Backend`]).
//! * [`inputs`]: files to instances: each row with its feature map and baseline.
//! * [`data`], [`image`], [`audio`]: reading tensor rows, images (with preprocessing) and WAV clips.
//! * [`segmentation`]: image grids and SLIC superpixels.
//! * [`features`]: which elements form each feature.
//! * [`masker`]: baselines, and coalition → masked rows.
//! * [`sampling`]: seeded counter-based streams and coalition primitives.
//! * [`engine`]: coalition values, chunked, batched, parallel, deterministic.
//! * [`estimators`]: exact, Kernel SHAP, Leverage SHAP, permutation, LIME; [`budget`]: fixed
//!   and automatic (`--samples auto`) coalition budgets.
//! * [`explainer`]: the end-to-end run and the attribution document; [`recipe`]: how a run
//!   was asked for, so that it can be repeated.
//! * [`figures`], [`plot`]: bar charts and image/audio/grid overlays (PNG and SVG).
//! * [`provenance`], [`output`]: hashes, tool identity, atomic writes; [`numerics`]: the
//!   numeric platform (what decides the float32 bits) and tract's portable mode.
//!
//! Validation records and data inventories:
//!
//! * [`manifest`]: dataset manifests (item file, label, attribute columns).
//! * [`slices`]: predictions over a manifest, metrics per slice with Wilson intervals,
//!   disparities with bootstrap intervals and verdicts.
//! * [`profiles`]: explanation profiles per slice (mean |attribution|, distance to overall).
//! * [`stats`]: Wilson, percentile, chi-square, Holm, Spearman, cosine.
//! * [`inventory`]: counts by attribute, language and target-market coverage, datasheets.
//!
//! The report: [`config`] (explain.toml) → [`report`] (runs everything, writes the
//! directory) with [`charts`] (validation plots) and [`html`] (the self-contained page);
//! [`quality`] (deletion/insertion, seed stability, model randomisation), [`verify`] (re-run
//! and compare a report), [`stability`] and [`diff`] (the explanation-stability gate).
//!
//! ## Example
//!
//! ```no_run
//! use explain_core::{budget::Budget, engine::Link, estimators::Method, explainer, features::FeatureSpec,
//!     inputs, image, model::{Model, ModelOptions}};
//! let model = Model::load("mlp.onnx".as_ref(), &ModelOptions::default())?;
//! let request = inputs::Request {
//!     inputs: vec!["x.npy".into()], features: FeatureSpec::Tabular, background: vec!["bg.npy".into()],
//!     baseline: None, image: image::Preprocess::default(), audio: None, seed: 7, crossfade_ms: 0.0,
//! };
//! let prepared = inputs::prepare(&model, &request)?;
//! let settings = explainer::Settings {
//!     method: Method::Kernel, samples: Budget::Fixed(2048), seed: 7, target: explainer::TargetSpec::Auto,
//!     link: Link::Identity, batch_size: 256, features: "tabular".into(), lime: None,
//!     pins: Default::default(),
//! };
//! let doc = explainer::explain(&model, &prepared.instances, prepared.sources, &settings, &explainer::Silent)?;
//! let e = &doc.explanations[0];
//! let sum: f64 = e.values.iter().sum();
//! assert!((sum - (e.prediction - e.base_value)).abs() < 1e-9); // efficiency
//! # Ok::<(), explain_core::Error>(())
//! ```

pub mod audio;
pub mod budget;
pub mod charts;
pub mod config;
pub mod data;
pub mod diff;
pub mod engine;
pub mod error;
pub mod estimators;
pub mod explainer;
pub mod features;
pub mod figures;
pub mod html;
pub mod image;
pub mod inputs;
pub mod inventory;
pub mod limits;
pub mod linalg;
pub mod manifest;
pub mod masker;
pub mod model;
pub mod numerics;
pub mod output;
pub mod pins;
pub mod plot;
pub mod profiles;
pub mod provenance;
pub mod quality;
pub mod recipe;
pub mod report;
pub mod sampling;
pub mod segmentation;
pub mod slices;
pub mod stability;
pub mod stats;
pub mod verify;

pub use error::{Error, Result};
