//! `explain report`: one config in, one reviewer-ready directory out. Runs everything (inspect,
//! attributions, validation slices, explanation profiles, data inventory, market coverage) and
//! writes `report.json` (schema `explain.report/1`), `report.html` (self-contained), `plots/`,
//! `predictions.csv`, `slices.json`, `inventory.json` and one attribution file per method.
//!
//! The directory is built under a temporary name beside `--out` and renamed into place at the
//! end, so it appears complete or not at all. Everything but the `timing` block is a function
//! of the inputs: re-running gives the same bytes.

pub use crate::artifact::config;
mod files;
pub mod html;
mod plan;
mod summary;

pub use crate::artifact::report::{
    CONVERGED_SD_RATIO, ExplanationProtocol, Explanations, Identification, Importance, ItemResult,
    MethodResult, PAGE, Performance, Phase, Plots, Protocol, Report, Reproducibility, SCHEMA,
    SlicePlot, Summary, Timing,
};
use crate::attribution::explainer::{self, FileRef, Progress, Settings, TargetSpec};
use crate::attribution::quality::{self, QualityConfig};
use crate::input;
use crate::model::{BackendChoice, Model, ModelInfo, inspect};
use crate::report::config::Loaded;
use crate::util::provenance::{Tool, sha256_hex};
use crate::validation::manifest::Manifest;
use crate::validation::profiles::choose_items;
use crate::validation::slices::{self, Seeding};
use crate::{Error, Result, render::figures, util::output};
pub use files::named_inputs;
use files::{Paths, artifacts, input_files, inventory_of, relativize};
use plan::plan;
use std::path::{Path, PathBuf};
use std::time::Instant;
use summary::{charts_for, limitations, list_item_plots, method_result, summarise};

/// What the run needs besides the config.
pub struct Options<'a> {
    pub out: &'a Path,
    pub threads: Option<usize>,
    /// Runs the model with this backend instead of the config's `[model] backend` (`explain
    /// verify --backend`).
    pub backend: Option<BackendChoice>,
    /// Wraps the model's backend (see [`crate::model::ModelOptions::wrap`]).
    pub wrap: Option<crate::model::BackendWrap>,
    /// Choices fixed to recorded ones (`explain verify` at knife edges; empty otherwise).
    pub pins: crate::util::pins::Pins,
}

/// Runs everything the config asks for and writes the report directory. Returns the report.
pub fn run(loaded: &Loaded, options: &Options, progress: &dyn Progress) -> Result<Report> {
    let out = options.out;
    if out.is_file() {
        return Err(Error::Input(format!(
            "--out {} is a file; give a directory",
            out.display()
        )));
    }
    if out
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(Error::Input(format!(
            "refusing to write {}: it is a symbolic link; name the directory itself",
            out.display()
        )));
    }
    if out.is_dir() {
        if let Some(foreign) = foreign_file(out) {
            return Err(Error::Input(format!(
                "--out {} holds {}, which this tool did not write as part of a report there; \
                 refusing to replace the directory (give a new or empty one)",
                out.display(),
                foreign.display()
            )));
        }
        // The config and every file it names stay where they are.
        let manifest = Manifest::read(&loaded.resolve(&loaded.config.validation.manifest));
        let named = match &manifest {
            Ok(m) => named_inputs(loaded, m).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let config = loaded.path.clone();
        if let Some(input) = std::iter::once(config)
            .chain(named.into_iter().map(|(_, p)| p))
            .find(|p| output::is_within(p, out))
        {
            return Err(Error::Input(format!(
                "refusing to replace {}: it holds {}, an input of this report",
                out.display(),
                input.display()
            )));
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| {
        Error::Input(format!(
            "cannot write {}: cannot create {}: {e}",
            out.display(),
            parent.display()
        ))
    })?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    for left in ["tmp", "old"] {
        for p in output::remove_stale(&parent, &format!(".{name}.{left}-"), "") {
            progress.note(&format!(
                "removed {}, left by an interrupted run",
                p.display()
            ));
        }
    }
    let staged = output::StagedDir::new(out)?;
    let tmp = staged.path().to_path_buf();
    std::fs::create_dir_all(tmp.join("plots"))
        .map_err(|e| Error::Input(format!("cannot create {}: {e}", tmp.display())))?;
    let report =
        explainer::with_threads(options.threads, || build(loaded, &tmp, options, progress))??;
    staged.commit()?;
    Ok(report)
}

/// The first file (or other entry) in `dir` that an earlier report there did not write, if
/// any: the directory can be replaced only when it is empty or holds exactly a report (its
/// `report.json`, `report.html` and the artifacts `report.json` lists, in their folders).
fn foreign_file(dir: &Path) -> Option<PathBuf> {
    let owned: std::collections::BTreeSet<PathBuf> = std::fs::read(dir.join("report.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter(|doc| doc["schema"] == SCHEMA)
        .map(|doc| {
            doc["reproducibility"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["path"].as_str().map(|p| dir.join(p)))
                .chain([dir.join("report.json"), dir.join(PAGE)])
                .collect()
        })
        .unwrap_or_default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            return Some(d);
        };
        for e in entries.flatten() {
            let p = e.path();
            let kind = e.file_type().ok();
            if kind.is_some_and(|k| k.is_dir() && !k.is_symlink()) {
                stack.push(p);
            } else if !owned.contains(&p) {
                return Some(p);
            }
        }
    }
    None
}

/// Times phases and names them on the progress display.
struct Clock<'a> {
    start: Instant,
    phases: Vec<Phase>,
    progress: &'a dyn Progress,
}

impl Clock<'_> {
    fn phase<T>(&mut self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.progress.stage(name);
        let t = Instant::now();
        let r = f()?;
        self.phases.push(Phase {
            phase: name.to_string(),
            seconds: round_ms(t.elapsed().as_secs_f64()),
        });
        Ok(r)
    }
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

fn build(l: &Loaded, dir: &Path, options: &Options, progress: &dyn Progress) -> Result<Report> {
    let c = &l.config;
    let paths = Paths::new(l);
    let mut clock = Clock {
        start: Instant::now(),
        phases: Vec::new(),
        progress,
    };
    let mut plan = plan(l, options.backend.as_ref())?;
    plan.model_options.wrap = options.wrap.clone();
    let pins = std::sync::Arc::new(options.pins.clone());
    if let Some((settings, _)) = &mut plan.profiles {
        settings.pins = pins.clone();
    }
    let model_path = l.resolve(&c.model.path);
    let (info, model) = clock.phase("load model", || {
        let info = inspect(&model_path)?;
        let model = Model::load(&model_path, &plan.model_options)?;
        Ok((info, model))
    })?;

    // Validation: predictions, slices, profiles.
    let manifest_path = l.resolve(&c.validation.manifest);
    let manifest =
        Manifest::read(&manifest_path).map_err(|e| l.error("validation", "manifest", e))?;
    let predictions_file = dir.join("predictions.csv");
    let validation = slices::Validation {
        request: &plan.request,
        decision: plan.decision,
        config: plan.slices.clone(),
        seed: c.seed,
        batch_size: c.model.batch_size,
        predictions_path: Path::new("predictions.csv"),
        profiles: plan.profiles.clone(),
        pinned: options.pins.decisions.clone(),
    };
    let (mut sdoc, predictions) = clock.phase("validation slices and profiles", || {
        slices::validate(&model, &manifest, &validation, progress)
    })?;
    sdoc.model.path = paths.rel(&sdoc.model.path);
    sdoc.manifest.path = paths.rel(&sdoc.manifest.path);
    output::write_atomic(&predictions_file, predictions.to_csv().as_bytes())?;
    output::write_json(&dir.join("slices.json"), &sdoc)?;

    // Items to explain: the listed ones, then k per slice.
    let seeding = Seeding {
        seed: c.seed,
        model_sha256: &model.info.sha256,
        manifest_sha256: &manifest.sha256,
    };
    let mut items: Vec<PathBuf> = plan.request.inputs.clone();
    if c.explanations.per_slice > 0 {
        for i in choose_items(
            manifest.len(),
            &sdoc.slices,
            c.explanations.per_slice,
            &seeding,
            "report/items",
        ) {
            let p = manifest.input_path(i);
            if !items.contains(&p) {
                items.push(p);
            }
        }
    }
    let n_items = items.len();
    let request = plan
        .recipe
        .request(items, plan.request.background.clone(), c.seed);
    let prepared = input::prepare(&model, &request)?;
    // A listed item's own target applies to its one instance.
    if plan.item_targets.iter().any(Option::is_some) && prepared.instances.len() != n_items {
        crate::bad_input!(
            "explain.toml [explanations] items: an item with its own target must be one image or \
             clip (the items give {} instances for {} files)",
            prepared.instances.len(),
            n_items
        );
    }
    let item_targets = &plan.item_targets;
    let target = match plan.target {
        TargetSpec::Auto => sdoc.decision.mode.target(),
        t => t,
    };
    let mut methods = Vec::new();
    for (mi, &method) in plan.methods.iter().enumerate() {
        let settings = Settings {
            method,
            samples: c.explanations.samples.into(),
            seed: c.seed,
            target,
            link: plan.link,
            batch_size: c.model.batch_size,
            features: prepared.features.clone(),
            lime: None,
            pins: pins.clone(),
            reference: None,
        };
        let mut doc = clock.phase(&format!("explanations ({})", method.name()), || {
            explainer::explain_targets(
                &model,
                &prepared.instances,
                prepared.sources.clone(),
                &settings,
                item_targets,
                progress,
            )
        })?;
        // Quality figures for the listed items, with the first method.
        let listed = if mi == 0 && c.explanations.quality {
            c.explanations.items.len()
        } else {
            0
        };
        if listed > 0 {
            let qc = QualityConfig {
                seeds: c.explanations.quality_seeds,
                ..QualityConfig::default()
            };
            clock.phase("quality figures", || {
                let pairs = doc.explanations.iter_mut().zip(&prepared.instances);
                for (e, instance) in pairs.take(listed) {
                    let q = quality::quality(
                        &model,
                        &model_path,
                        &plan.model_options,
                        instance,
                        e,
                        &settings,
                        &qc,
                    )?;
                    e.quality = Some(q);
                }
                Ok(())
            })?;
        }
        relativize(&mut doc, &paths);
        let file = format!("attributions-{}.json", method.name());
        output::write_json(&dir.join(&file), &doc)?;
        let item_plots = if mi == 0 {
            let plots = dir.join("plots").join("items");
            figures::write_explanation_plots(&plots, &doc, &prepared.views)?;
            list_item_plots(&plots, doc.explanations.len())?
        } else {
            vec![Vec::new(); doc.explanations.len()]
        };
        let result = method_result(&doc, file, item_plots, dir, mi == 0)?;
        methods.push(result);
    }

    // Data inventory and market coverage.
    let inventory = clock.phase("data inventory", || inventory_of(l, &manifest, &paths))?;
    output::write_json(&dir.join("inventory.json"), &inventory)?;

    let plots = clock.phase("charts", || charts_for(&sdoc, dir))?;

    let mut report = Report {
        schema: SCHEMA.into(),
        title: c.title.clone(),
        summary: Summary {
            verdict: String::new(),
            flags: Vec::new(),
            uncovered_markets: Vec::new(),
            insufficient_slices: Vec::new(),
            not_converged: Vec::new(),
        },
        identification: Identification {
            model: ModelInfo {
                path: paths.rel(&info.path),
                ..info
            },
            backend: model.backend_name().into(),
            backend_version: model.backend_version(),
            numerics: model.numerics(),
            input: model.input.name.clone(),
            output: model.output.name.clone(),
            preprocessing: sdoc.preprocessing.clone(),
        },
        intended_use: c.intended_use.clone(),
        data: inventory,
        protocol: Protocol {
            decision: sdoc.decision.clone(),
            metrics: sdoc.decision.mode.metrics().to_vec(),
            slices: sdoc.params.clone(),
            explanations: ExplanationProtocol {
                methods: plan.methods.iter().map(|m| m.name().to_string()).collect(),
                features: prepared.features.clone(),
                baseline: methods
                    .first()
                    .map(|m: &MethodResult| m.params.baseline.clone())
                    .unwrap_or_default(),
                link: plan.link.name().into(),
                target: target.to_string(),
                samples: c.explanations.samples,
                items_listed: c.explanations.items.len(),
                items_per_slice: c.explanations.per_slice,
                converged_when: format!(
                    "largest standard error <= {CONVERGED_SD_RATIO} x max(largest |attribution|, |prediction - base value|) (exact: always)"
                ),
            },
        },
        performance: Performance {
            overall: sdoc.overall.clone(),
            attributes: sdoc.attributes.clone(),
            slices: sdoc.slices.clone(),
        },
        disparities: sdoc.disparities.clone(),
        explanations: Explanations {
            methods,
            profiles: sdoc.profiles.clone(),
            profiles_note: sdoc.profiles_note.clone(),
        },
        limitations: Vec::new(),
        reproducibility: Reproducibility {
            tool: Tool::current(),
            command: format!(
                "explain report {} --out {}",
                l.path.display(),
                out_name(options.out)
            ),
            config: FileRef {
                path: l.path.display().to_string(),
                sha256: l.sha256.clone(),
                rows: None,
            },
            seed: c.seed,
            parameters: c.clone(),
            inputs: Vec::new(),
            artifacts: Vec::new(),
            plots,
            page: None,
        },
        timing: Timing::default(),
    };
    report.summary = summarise(&report, &sdoc);
    report.limitations = limitations(&report, &sdoc);
    report.reproducibility.inputs = input_files(l, &manifest)?;
    report.reproducibility.artifacts = artifacts(dir)?;
    clock.phase("report", || Ok(()))?;
    report.timing = Timing {
        total_seconds: round_ms(clock.start.elapsed().as_secs_f64()),
        phases: std::mem::take(&mut clock.phases),
    };
    // The page first (it shows everything but its own hash), then the record with its hash.
    let page = crate::report::html::render(&report, dir)?;
    report.reproducibility.page = Some(FileRef {
        path: PAGE.into(),
        sha256: sha256_hex(page.as_bytes()),
        rows: None,
    });
    output::write_atomic(&dir.join(PAGE), page.as_bytes())?;
    output::write_json(&dir.join("report.json"), &report)?;
    Ok(report)
}

/// `--out` as the recorded command shows it: as given (never the staging directory the report
/// is written into, whose path is absolute), without a leading `./`.
fn out_name(out: &Path) -> String {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() && p != Path::new(".") => {
            format!("{}/{name}", p.display())
        }
        _ => name,
    }
}
