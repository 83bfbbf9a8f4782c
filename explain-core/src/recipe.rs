//! A re-runnable record of how `explain shap|lime` made an attribution file, and the run
//! itself ([`Job`]), shared by the command line and `explain verify`.
//!
//! An attribution document already records the model (path, hash, output), the inputs and
//! background (paths, hashes), the method and the resolved parameters. The [`Recipe`] adds
//! what was asked for but cannot be read back from the result: the feature and baseline specs
//! as given (before `auto` is resolved), the budget as given (the default depends on each
//! row's feature count), `--reduce`, held inputs (with their hashes), image and audio
//! preprocessing, and the quality settings. [`Job::from_attributions`] rebuilds the run from
//! a document; running it again with the same files gives the same bytes.
//!
//! ```no_run
//! use explain_core::{explainer::{Attributions, Silent}, recipe::Job};
//! let text = std::fs::read_to_string("attributions.json")?;
//! let recorded: Attributions = serde_json::from_str(&text)?;
//! let (again, _views) = Job::from_attributions(&recorded)?.run(None, &Silent)?;
//! assert_eq!(again.explanations, recorded.explanations);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::audio::AudioPreprocess;
use crate::budget::Budget;
use crate::engine::Link;
use crate::estimators::Method;
use crate::estimators::lime::{self, LimeParams};
use crate::explainer::{self, Attributions, FileRef, ProgressSink, Settings, TargetSpec};
use crate::features::FeatureSpec;
use crate::image::{self, Preprocess};
use crate::inputs::{self, Request, View};
use crate::masker::BaselineSpec;
use crate::model::{BackendChoice, BackendWrap, Held, Model, ModelOptions, Reduce};
use crate::numerics::Mode;
use crate::provenance::sha256_file;
use crate::quality::{self, QualityConfig};
use crate::{Error, Result, bad_input};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What was asked for beyond the recorded parameters (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// The feature spec as given (`auto`, `grid:8x8`, ...).
    pub features: String,
    /// The baseline spec as given; the input kind's default when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The coalition budget as given: absent for the method's default (per row), a number,
    /// or `{"auto": {"tolerance": …, "max_samples": …}}`.
    #[serde(default, skip_serializing_if = "Budget::is_default")]
    pub samples: Budget,
    /// `max` or `mean` of a spatial output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce: Option<String>,
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
            reduce: self.reduce.as_deref().map(Reduce::parse).transpose()?,
            axis_sizes: image::axis_sizes(&image),
            numerics: Mode::Native,
            wrap: None,
        })
    }

    /// How `inputs` are read and cut into features, with `background` and noise baselines
    /// seeded by `seed`.
    pub fn request(
        &self,
        inputs: Vec<PathBuf>,
        background: Vec<PathBuf>,
        seed: u64,
    ) -> Result<Request> {
        Ok(Request {
            inputs,
            features: FeatureSpec::parse(&self.features)?,
            background,
            baseline: self
                .baseline
                .as_deref()
                .map(BaselineSpec::parse)
                .transpose()?,
            image: self.image.clone().unwrap_or_default(),
            audio: self.audio.clone(),
            seed,
            crossfade_ms: self.crossfade_ms,
        })
    }
}

/// A model input held constant: zeros, or the values of a float32 `.npy` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldInput {
    pub name: String,
    /// The file and its hash; zeros when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
}

impl HeldInput {
    /// Parses `NAME=zeros` or `NAME=FILE.npy`, hashing the file.
    ///
    /// ```
    /// use explain_core::recipe::HeldInput;
    /// let h = HeldInput::parse("state=zeros").unwrap();
    /// assert_eq!((h.name.as_str(), h.file), ("state", None));
    /// assert!(HeldInput::parse("state").is_err());
    /// ```
    pub fn parse(arg: &str) -> Result<HeldInput> {
        let Some((name, value)) = arg.split_once('=') else {
            bad_input!("--hold '{arg}': expected NAME=zeros or NAME=FILE.npy");
        };
        if name.is_empty() {
            bad_input!("--hold '{arg}': the input name is empty");
        }
        let file = (value != "zeros")
            .then(|| -> Result<FileRef> {
                Ok(FileRef {
                    path: value.to_string(),
                    sha256: sha256_file(value.as_ref())
                        .map_err(|e| Error::Input(format!("--hold {name}: {e}")))?,
                    rows: None,
                })
            })
            .transpose()?;
        Ok(HeldInput {
            name: name.to_string(),
            file,
        })
    }

    /// The held value, loaded.
    fn load(&self) -> Result<(String, Held)> {
        match &self.file {
            None => Held::parse_arg(&format!("{}=zeros", self.name)),
            Some(f) => Held::parse_arg(&format!("{}={}", self.name, f.path)),
        }
    }
}

/// One `explain shap|lime` run: the files, the estimator and its settings, and the recipe.
#[derive(Debug, Clone)]
pub struct Job {
    pub model: PathBuf,
    /// The model output by name (the first when `None`).
    pub output: Option<String>,
    pub inputs: Vec<PathBuf>,
    pub background: Vec<PathBuf>,
    pub method: Method,
    pub seed: u64,
    pub target: TargetSpec,
    pub link: Link,
    pub batch_size: usize,
    /// LIME's kernel width and feature selection (its `samples` is ignored).
    pub lime: Option<LimeParams>,
    pub recipe: Recipe,
    /// The inference engine (recorded as `model.backend`; the ONNX Runtime library is not
    /// recorded, it is looked up on the machine that runs the job).
    pub backend: BackendChoice,
    /// How tract chooses kernels (recorded as `model.numerics.mode`).
    pub numerics: Mode,
    /// Wraps the model's backend (see [`ModelOptions::wrap`]; not recorded).
    pub wrap: Option<BackendWrap>,
    /// Choices fixed to recorded ones (`explain verify` at knife edges; empty otherwise).
    pub pins: std::sync::Arc<crate::pins::Pins>,
}

impl Job {
    /// The run that made `doc`, as recorded in it (paths as recorded: relative ones are
    /// relative to the directory the run was started in).
    ///
    /// Fails when the document has no recipe: attribution files inside a report directory are
    /// checked through their `report.json`.
    pub fn from_attributions(doc: &Attributions) -> Result<Job> {
        let Some(recipe) = doc.recipe.clone() else {
            bad_input!(
                "the attribution file records no recipe to re-run it with: files written by \
                 `explain report` are verified through their report.json"
            );
        };
        let p = &doc.params;
        Ok(Job {
            model: PathBuf::from(&doc.model.path),
            output: Some(doc.model.output.clone()),
            inputs: doc.inputs.iter().map(|f| PathBuf::from(&f.path)).collect(),
            background: doc
                .background
                .iter()
                .map(|f| PathBuf::from(&f.path))
                .collect(),
            method: doc.method,
            seed: p.seed,
            target: TargetSpec::parse(&p.target)?,
            link: p.link,
            batch_size: p.batch_size,
            lime: (doc.method == Method::Lime).then(|| LimeParams {
                samples: 0,
                kernel_width: p.kernel_width.unwrap_or(lime::DEFAULT_KERNEL_WIDTH),
                num_features: p.surrogate_features,
                selection: p.feature_selection.unwrap_or(lime::Selection::Auto),
            }),
            recipe,
            backend: BackendChoice::parse(&doc.model.backend, None)?,
            numerics: doc.model.numerics.as_ref().map_or(Mode::Native, |p| p.mode),
            wrap: None,
            pins: Default::default(),
        })
    }

    /// Every file the job reads: the model, the inputs, the background and held files (no
    /// output may replace one).
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.model.clone()];
        files.extend(self.inputs.iter().cloned());
        files.extend(self.background.iter().cloned());
        files.extend(
            self.recipe
                .hold
                .iter()
                .filter_map(|h| h.file.as_ref().map(|f| PathBuf::from(&f.path))),
        );
        files
    }

    /// Loads the model, reads the inputs, explains every row on `threads` workers (all cores
    /// when `None`; the numbers do not depend on it), adds the quality figures the recipe
    /// asks for, and returns the document with the views its plots need.
    pub fn run(
        &self,
        threads: Option<usize>,
        progress: &dyn ProgressSink,
    ) -> Result<(Attributions, Vec<View>)> {
        let request =
            self.recipe
                .request(self.inputs.clone(), self.background.clone(), self.seed)?;
        let options = ModelOptions {
            numerics: self.numerics,
            wrap: self.wrap.clone(),
            ..self
                .recipe
                .model_options(self.output.clone(), self.backend.clone())?
        };
        let model = Model::load(&self.model, &options)?;
        let prepared = inputs::prepare(&model, &request)?;
        let settings = Settings {
            method: self.method,
            samples: self.recipe.samples,
            seed: self.seed,
            target: self.target,
            link: self.link,
            batch_size: self.batch_size,
            features: prepared.features.clone(),
            lime: self.lime,
            pins: self.pins.clone(),
        };
        let doc = explainer::with_threads(threads, || -> Result<Attributions> {
            let mut doc = explainer::explain(
                &model,
                &prepared.instances,
                prepared.sources.clone(),
                &settings,
                progress,
            )?;
            if let Some(config) = &self.recipe.quality {
                progress.stage("quality figures");
                progress.begin(doc.explanations.len() as u64);
                for (e, instance) in doc.explanations.iter_mut().zip(&prepared.instances) {
                    let q = quality::quality(
                        &model,
                        &self.model,
                        &options,
                        instance,
                        e,
                        &settings,
                        config,
                    )?;
                    e.quality = Some(q);
                    progress.as_progress().advance(1);
                }
            }
            doc.recipe = Some(self.recipe.clone());
            Ok(doc)
        })??;
        Ok((doc, prepared.views))
    }
}
