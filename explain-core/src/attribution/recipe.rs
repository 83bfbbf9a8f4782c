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
//! The recipe is the one typed record of how a model is run and its inputs are read: the
//! command line fills it from its flags, `explain report` from `explain.toml`
//! (`report::plan`, with errors that name the key and its line), and `explain verify` reads
//! it back from a document (specs are stored as text and parsed by the same `FromStr` as the
//! flags, so a document can only hold what the command line accepts). From it come the
//! model's [`ModelOptions`] ([`Recipe::model_options`]) and the inputs' request
//! ([`Recipe::request`]), in one place for all three.
//!
//! ```no_run
//! use explain_core::{attribution::explainer::{Attributions, Silent}, attribution::recipe::Job};
//! let text = std::fs::read_to_string("attributions.json")?;
//! let recorded: Attributions = serde_json::from_str(&text)?;
//! let (again, _views) = Job::from_attributions(&recorded)?.run(None, &Silent)?;
//! assert_eq!(again.explanations, recorded.explanations);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::artifact::attributions::Recipe;
pub use crate::artifact::spec::HeldInput;
use crate::attribution::engine::Link;
use crate::attribution::estimators::Method;
use crate::attribution::estimators::lime::{self, LimeParams};
use crate::attribution::explainer::{self, Attributions, Progress, Settings, TargetSpec};
use crate::attribution::quality::{self};
use crate::input::{self, View};
use crate::model::numerics::Mode;
use crate::model::{BackendChoice, BackendWrap, Model, ModelOptions};
use crate::{Result, bad_input};
use std::path::PathBuf;
use std::str::FromStr;

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
    pub pins: std::sync::Arc<crate::util::pins::Pins>,
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
            target: TargetSpec::from_str(&p.target)?,
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
        files.extend(self.recipe.reference.iter().map(|f| PathBuf::from(&f.path)));
        files
    }

    /// Loads the model, reads the inputs, explains every row on `threads` workers (all cores
    /// when `None`; the numbers do not depend on it), adds the quality figures the recipe
    /// asks for, and returns the document with the views its plots need.
    pub fn run(
        &self,
        threads: Option<usize>,
        progress: &dyn Progress,
    ) -> Result<(Attributions, Vec<View>)> {
        let request = self
            .recipe
            .request(self.inputs.clone(), self.background.clone(), self.seed);
        let options = ModelOptions {
            numerics: self.numerics,
            wrap: self.wrap.clone(),
            ..self
                .recipe
                .model_options(self.output.clone(), self.backend.clone())?
        };
        let model = Model::load(&self.model, &options)?;
        let prepared = input::prepare(&model, &request)?;
        let reference = match &self.recipe.reference {
            None => None,
            Some(r) => Some(reference_embedding(&model, &request, r)?),
        };
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
            reference,
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
                    progress.advance(1);
                }
            }
            doc.recipe = Some(self.recipe.clone());
            Ok(doc)
        })??;
        Ok((doc, prepared.views))
    }
}

/// A recogniser's reference embedding: the model's output on the reference file, read as
/// the inputs are. The file must still have the hash recorded for it.
fn reference_embedding(
    model: &Model,
    request: &input::Request,
    reference: &crate::util::provenance::FileRef,
) -> Result<std::sync::Arc<[f32]>> {
    let path = PathBuf::from(&reference.path);
    let found = crate::util::provenance::sha256_file(&path)?;
    if found != reference.sha256 {
        bad_input!(
            "reference {} has SHA-256 {found}, but {} was recorded for it",
            path.display(),
            reference.sha256
        );
    }
    let one = input::Request {
        inputs: vec![path.clone()],
        background: Vec::new(),
        baseline: Some(crate::input::masker::BaselineSpec::Zero),
        ..request.clone()
    };
    let prepared = input::prepare(model, &one)?;
    let Some(inst) = prepared.instances.first() else {
        bad_input!("reference {} holds no input row", path.display());
    };
    if prepared.instances.len() > 1 {
        bad_input!(
            "reference {} holds {} rows; give a file with one reference input",
            path.display(),
            prepared.instances.len()
        );
    }
    Ok(model.run(1, &inst.x)?.into())
}
