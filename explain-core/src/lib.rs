//! # explain-core
//!
//! Explains ONNX models with SHAP and LIME attributions that are exact where they can be,
//! carry standard errors where they are sampled, and are bit-for-bit reproducible for any
//! thread count.
//!
//! The pipeline, one module per concept:
//!
//! ```text
//! data (rows) ─► features (feature map) + masker (baseline) ─► sampling ─► engine ─► estimators ─► explainer (JSON)
//!                                                                             │
//!                                                                        model (tract)
//! ```
//!
//! * [`model`]: load an ONNX model, inspect it, run it on batches ([`model::Backend`]).
//! * [`data`]: rows to explain and background rows from `.npy`/`.csv`.
//! * [`features`]: which elements form each feature.
//! * [`masker`]: baselines, and coalition → masked rows.
//! * [`sampling`]: seeded counter-based streams and coalition primitives.
//! * [`engine`]: coalition values, chunked, batched, parallel, deterministic.
//! * [`estimators`]: exact, Kernel SHAP, permutation, LIME.
//! * [`explainer`]: the end-to-end run and the attribution document.
//! * [`provenance`], [`output`]: hashes, tool identity, atomic writes.
//!
//! ## Example
//!
//! ```no_run
//! use explain_core::{data, engine::Link, estimators::Method, explainer, features::FeatureMap,
//!     masker::Baseline, model::{Model, ModelOptions}, provenance::sha256_file};
//! let model = Model::load("mlp.onnx".as_ref(), &ModelOptions::default())?;
//! let rows = data::read_rows("x.npy".as_ref(), &model.row_shape, "input")?;
//! let bg = data::read_rows("bg.npy".as_ref(), &model.row_shape, "background")?;
//! let features = FeatureMap::tabular(&model.row_shape, &model.input.name, None);
//! let baseline = Baseline::resolve(Some(&bg), None, &[&rows], model.row_len())?;
//! let settings = explainer::Settings {
//!     method: Method::Kernel, samples: Some(2048), seed: 7, target: explainer::TargetSpec::Auto,
//!     link: Link::Identity, batch_size: 256, features: "tabular".into(), lime: None,
//! };
//! let files = vec![explainer::FileRef { path: "x.npy".into(), sha256: sha256_file("x.npy".as_ref())?, rows: Some(rows.n) }];
//! let doc = explainer::explain(&model, &[rows], files, &features, &baseline, None, &settings, &explainer::Silent)?;
//! let e = &doc.explanations[0];
//! let sum: f64 = e.values.iter().sum();
//! assert!((sum - (e.prediction - e.base_value)).abs() < 1e-9); // efficiency
//! # Ok::<(), explain_core::Error>(())
//! ```

pub mod data;
pub mod engine;
pub mod error;
pub mod estimators;
pub mod explainer;
pub mod features;
pub mod linalg;
pub mod masker;
pub mod model;
pub mod output;
pub mod provenance;
pub mod sampling;

pub use error::{Error, Result};
