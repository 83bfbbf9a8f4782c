//! `explain report`: one config in, one reviewer-ready directory out. Runs everything (inspect,
//! attributions, validation slices, explanation profiles, data inventory, market coverage) and
//! writes `report.json` (schema `explain.report/1`), `report.html` (self-contained), `plots/`,
//! `predictions.csv`, `slices.json`, `inventory.json` and one attribution file per method.
//!
//! The directory is built under a temporary name beside `--out` and renamed into place at the
//! end, so it appears complete or not at all. Everything but the `timing` block is a function
//! of the inputs: re-running gives the same bytes.

pub use crate::artifact::config;
pub mod html;

pub use crate::artifact::report::{
    CONVERGED_SD_RATIO, ExplanationProtocol, Explanations, Identification, Importance, ItemResult,
    MethodResult, PAGE, Performance, Phase, Plots, Protocol, Report, Reproducibility, SCHEMA,
    SlicePlot, Summary, Timing,
};
use crate::attribution::engine::Link;
use crate::attribution::estimators::Method;
use crate::attribution::explainer::{self, Attributions, FileRef, Progress, Settings, TargetSpec};
use crate::attribution::quality::{self, QualityConfig};
use crate::input::features::FeatureSpec;
use crate::input::image::{self as img, ChannelOrder, Layout, Preprocess};
use crate::input::masker::BaselineSpec;
use crate::input::{self, Request};
use crate::model::numerics::Mode;
use crate::model::{BackendChoice, Held, Model, ModelInfo, ModelOptions, Reduce, inspect};
use crate::render::charts::{self, DisparityBar, DistanceBar, SliceBar};
use crate::report::config::{Loaded, Scale};
use crate::util::provenance::{Tool, sha256_file, sha256_hex};
use crate::validation::inventory::{self, Datasheet, Inventory, Role};
use crate::validation::manifest::Manifest;
use crate::validation::profiles::{ProfileConfig, choose_items};
use crate::validation::slices::{self, Disparity, Metric, RuleKind, Seeding, Verdict};
use crate::{Error, Result, render::figures, util::output};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

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

/// Everything the config says, checked, with errors naming the key.
struct Plan {
    request: Request,
    model_options: ModelOptions,
    methods: Vec<Method>,
    target: TargetSpec,
    link: Link,
    decision: slices::Decision,
    slices: slices::Config,
    profiles: Option<(Settings, ProfileConfig)>,
}

/// The config's `[model] backend` and `ort_lib`, unless `backend` overrides them.
fn backend_of(l: &Loaded, backend: Option<&BackendChoice>) -> Result<BackendChoice> {
    if let Some(b) = backend {
        b.check_available()?;
        return Ok(b.clone());
    }
    let m = &l.config.model;
    if m.backend == "tract" && m.ort_lib.is_some() {
        return Err(l.error(
            "model",
            "ort_lib",
            "an ONNX Runtime library applies to backend = \"ort\" only",
        ));
    }
    let lib = m.ort_lib.as_deref().map(|p| l.resolve(p));
    let choice =
        BackendChoice::parse(&m.backend, lib).map_err(|e| l.error("model", "backend", e))?;
    choice
        .check_available()
        .map_err(|e| l.error("model", "backend", e))?;
    Ok(choice)
}

/// The config's `[model] numerics`; native when `verify --backend ort` re-runs a portable
/// tract report on ONNX Runtime (which picks its own kernels).
fn numerics_of(l: &Loaded, backend: &BackendChoice, overridden: bool) -> Result<Mode> {
    let mode =
        Mode::from_str(&l.config.model.numerics).map_err(|e| l.error("model", "numerics", e))?;
    match backend {
        BackendChoice::Ort { .. } if overridden => Ok(Mode::Native),
        BackendChoice::Ort { .. } if mode == Mode::Portable => Err(l.error(
            "model",
            "numerics",
            "portable numerics apply to backend = \"tract\"; ONNX Runtime picks its own kernels",
        )),
        _ => Ok(mode),
    }
}

fn plan(l: &Loaded, backend: Option<&BackendChoice>) -> Result<Plan> {
    let c = &l.config;
    let key = |section: &'static str, key: &'static str| move |e: Error| l.error(section, key, e);
    let overridden = backend.is_some();
    let backend = backend_of(l, backend)?;
    let image = match &c.image {
        None => Preprocess::default(),
        Some(i) => Preprocess {
            size: i
                .size
                .as_deref()
                .map(img::parse_size)
                .transpose()
                .map_err(key("image", "size"))?,
            layout: Layout::from_str(&i.layout).map_err(key("image", "layout"))?,
            channels: ChannelOrder::from_str(&i.channels).map_err(key("image", "channels"))?,
            scale: match &i.scale {
                Scale::Number(v) => *v as f32,
                Scale::Text(t) => img::parse_scale(t).map_err(key("image", "scale"))?,
            },
            mean: i.mean.clone(),
            std: i.std.clone(),
        },
    };
    let x = &c.explanations;
    let features = FeatureSpec::from_str(&x.features).map_err(key("explanations", "features"))?;
    let request = Request {
        inputs: x.items.iter().map(|i| l.resolve(i)).collect(),
        features: features.clone(),
        background: x.background.iter().map(|b| l.resolve(b)).collect(),
        baseline: x
            .baseline
            .as_deref()
            .map(BaselineSpec::from_str)
            .transpose()
            .map_err(key("explanations", "baseline"))?,
        image,
        audio: c
            .audio
            .as_ref()
            .map(|a| crate::input::audio::AudioPreprocess {
                sample_rate: a.sample_rate,
                channel: a.channel,
                resample: a.resample,
            }),
        seed: c.seed,
        crossfade_ms: c.audio.as_ref().map_or(0.0, |a| a.crossfade_ms),
    };
    let model_options = ModelOptions {
        input: None,
        output: c.model.output.clone(),
        held: c
            .model
            .hold
            .iter()
            .map(|h| match h.split_once('=') {
                Some((name, file)) if file != "zeros" => {
                    Held::parse_arg(&format!("{name}={}", l.resolve(file).display()))
                }
                _ => Held::parse_arg(h),
            })
            .collect::<Result<_>>()
            .map_err(key("model", "hold"))?,
        reduce: c
            .model
            .reduce
            .as_deref()
            .map(Reduce::from_str)
            .transpose()
            .map_err(key("model", "reduce"))?,
        axis_sizes: img::axis_sizes(&request.image),
        numerics: numerics_of(l, &backend, overridden)?,
        backend,
        wrap: None,
    };
    if x.methods.is_empty() {
        return Err(l.error(
            "explanations",
            "methods",
            "list at least one method (exact, kernel, leverage, permutation, lime)",
        ));
    }
    let methods: Vec<Method> = x
        .methods
        .iter()
        .map(|m| Method::from_str(m))
        .collect::<Result<_>>()
        .map_err(key("explanations", "methods"))?;
    if x.items.is_empty() && x.per_slice == 0 {
        return Err(l.error(
            "explanations",
            "items",
            "nothing to explain: list items or set per_slice",
        ));
    }
    let target = match &x.target {
        toml::Value::Integer(i) if *i >= 0 => TargetSpec::Index(*i as usize),
        toml::Value::String(s) => TargetSpec::from_str(s).map_err(key("explanations", "target"))?,
        other => {
            return Err(l.error(
                "explanations",
                "target",
                format!("{other} is not an output index, 'top' or 'auto'"),
            ));
        }
    };
    let link = Link::from_str(&x.link).map_err(key("explanations", "link"))?;
    let v = &c.validation;
    let rules = v
        .rules
        .iter()
        .map(|r| slices::Rule::parse(r))
        .collect::<Result<_>>()
        .map_err(key("validation", "rules"))?;
    let profiles = if v.profile_items > 0 {
        Some((
            Settings {
                method: Method::from_str(&v.profile_method)
                    .map_err(key("validation", "profile_method"))?,
                samples: Some(v.profile_samples).into(),
                seed: c.seed,
                target: TargetSpec::Auto,
                link,
                batch_size: c.model.batch_size,
                features: features.to_string(),
                lime: None,
                pins: Default::default(),
            },
            ProfileConfig {
                per_slice: v.profile_items,
                threshold: v.profile_threshold,
            },
        ))
    } else {
        None
    };
    Ok(Plan {
        request,
        model_options,
        methods,
        target,
        link,
        decision: slices::Decision {
            positive: v.positive,
            threshold: v.threshold,
        },
        slices: slices::Config {
            slice_by: v.slice_by.clone(),
            intersect: v.intersect.clone(),
            min_n: v.min_n,
            bootstrap: v.bootstrap,
            rules,
            holm: v.holm,
            alpha: v.alpha,
        },
        profiles,
    })
}

/// Rewrites a path under the config's directory as relative to it, so that the report reads
/// the same wherever it is run from.
struct Paths {
    prefix: String,
}

impl Paths {
    fn new(l: &Loaded) -> Paths {
        let dir = l
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .display()
            .to_string();
        Paths {
            prefix: if dir.is_empty() {
                String::new()
            } else {
                format!("{}/", dir.trim_end_matches('/'))
            },
        }
    }

    fn rel(&self, p: &str) -> String {
        match p.strip_prefix(&self.prefix) {
            Some(r) if !self.prefix.is_empty() => r.to_string(),
            _ => p.to_string(),
        }
    }
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
    let request = Request {
        inputs: items,
        ..plan.request.clone()
    };
    let prepared = input::prepare(&model, &request)?;
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
        };
        let mut doc = clock.phase(&format!("explanations ({})", method.name()), || {
            explainer::explain(
                &model,
                &prepared.instances,
                prepared.sources.clone(),
                &settings,
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
        },
        limitations: Vec::new(),
        reproducibility: Reproducibility {
            tool: Tool::current(),
            command: format!(
                "explain report {} --out {}",
                l.path.display(),
                options_out_name(dir)
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
    let page =
        crate::report::html::render(&serde_json::to_value(&report).expect("serialisable"), dir)?;
    report.reproducibility.page = Some(FileRef {
        path: PAGE.into(),
        sha256: sha256_hex(page.as_bytes()),
        rows: None,
    });
    output::write_atomic(&dir.join(PAGE), page.as_bytes())?;
    output::write_json(&dir.join("report.json"), &report)?;
    Ok(report)
}

fn options_out_name(dir: &Path) -> String {
    // The temporary directory is `.NAME.tmp-PID`; the report is read as NAME.
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.trim_start_matches('.');
    let name = name.rsplit_once(".tmp-").map_or(name, |(n, _)| n);
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() && p != Path::new(".") => {
            format!("{}/{name}", p.display())
        }
        _ => name.to_string(),
    }
}

fn relativize(doc: &mut Attributions, paths: &Paths) {
    doc.model.path = paths.rel(&doc.model.path);
    for f in doc
        .inputs
        .iter_mut()
        .chain(doc.background.iter_mut())
        .chain(doc.model.external_data.iter_mut())
    {
        f.path = paths.rel(&f.path);
    }
    for e in &mut doc.explanations {
        e.input = paths.rel(&e.input);
    }
}

/// The plot files written for each explanation (by their `NN-` prefix), relative to the
/// report directory.
fn list_item_plots(dir: &Path, n: usize) -> Result<Vec<Vec<String>>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::Input(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok((0..n)
        .map(|i| {
            let prefix = format!("{i:02}-");
            names
                .iter()
                .filter(|f| f.starts_with(&prefix) && f.ends_with(".svg"))
                .map(|f| format!("plots/items/{f}"))
                .collect()
        })
        .collect())
}

fn method_result(
    doc: &Attributions,
    file: String,
    item_plots: Vec<Vec<String>>,
    dir: &Path,
    plot: bool,
) -> Result<MethodResult> {
    let lime = doc.method == Method::Lime;
    let items: Vec<ItemResult> = doc
        .explanations
        .iter()
        .zip(item_plots)
        .map(|(e, plots)| {
            let scale = e
                .values
                .iter()
                .fold((e.prediction - e.base_value).abs(), |m, v| m.max(v.abs()));
            let max_se = e.std_errors.iter().fold(0.0f64, |m, v| m.max(*v));
            let sd_ratio = if scale > 0.0 { max_se / scale } else { 0.0 };
            ItemResult {
                input: e.input.clone(),
                input_sha256: e.input_sha256.clone(),
                target: e.target,
                prediction: e.prediction,
                base_value: e.base_value,
                values: e.values.clone(),
                std_errors: e.std_errors.clone(),
                model_evals: e.model_evals,
                efficiency_residual: (!lime)
                    .then(|| (e.values.iter().sum::<f64>() - (e.prediction - e.base_value)).abs()),
                sd_ratio,
                converged: sd_ratio <= CONVERGED_SD_RATIO,
                r2: e.surrogate.as_ref().map(|s| s.r2),
                plots,
                quality: e.quality.clone(),
            }
        })
        .collect();
    let m = items.first().map_or(0, |i| i.values.len());
    let n = items.len() as f64;
    let mut mean_abs = vec![0.0; m];
    let mut std_error = vec![0.0; m];
    for k in 0..m {
        let v: Vec<f64> = items.iter().map(|i| i.values[k].abs()).collect();
        let mean = v.iter().sum::<f64>() / n;
        let var = if v.len() > 1 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        mean_abs[k] = mean;
        std_error[k] = (var / n).sqrt();
    }
    let feature_names = doc
        .explanations
        .first()
        .map(|e| e.feature_names.clone())
        .unwrap_or_default();
    let plot_path = if plot && m > 0 {
        let stem = format!("importance-{}", doc.method.name());
        charts::importance(
            &format!(
                "Global importance: mean |attribution| over {} items ({})",
                items.len(),
                doc.method.name()
            ),
            &feature_names,
            &mean_abs,
            Some(&std_error),
            20,
        )?
        .write(&dir.join("plots"), &stem)?;
        Some(format!("plots/{stem}.svg"))
    } else {
        None
    };
    Ok(MethodResult {
        method: doc.method.name().into(),
        file,
        params: doc.params.clone(),
        global_importance: Importance {
            feature_names,
            mean_abs,
            std_error,
            plot: plot_path,
        },
        items,
    })
}

fn inventory_of(l: &Loaded, manifest: &Manifest, paths: &Paths) -> Result<Inventory> {
    let c = &l.config;
    let mut sources = vec![(Role::Validation, manifest.clone())];
    for arg in &c.data.manifests {
        let (role, rel) =
            inventory::parse_source_arg(arg).map_err(|e| l.error("data", "manifests", e))?;
        let m = Manifest::read(&l.resolve(&rel.to_string_lossy()))
            .map_err(|e| l.error("data", "manifests", e))?;
        sources.push((role, m));
    }
    // The datasheet: a file or the inline table, with the config's [markets] on top.
    let (mut table, sheet_path): (toml::Table, PathBuf) = match (&c.data.datasheet, &c.datasheet) {
        (Some(_), Some(_)) => {
            return Err(l.error(
                "data",
                "datasheet",
                "give a datasheet file or an inline [datasheet] table, not both",
            ));
        }
        (Some(file), None) => {
            let path = l.resolve(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                l.error(
                    "data",
                    "datasheet",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let table =
                crate::util::toml::parse(&text, &format!("datasheet {}", path.display()), "")?;
            (table, path)
        }
        (None, Some(t)) => (t.clone(), l.path.clone()),
        (None, None) => (toml::Table::new(), l.path.clone()),
    };
    if let Some(m) = &c.markets {
        // Checked on its own first, so that a bad value is blamed on the config and its line.
        let mut only = toml::Table::new();
        only.insert("markets".into(), toml::Value::Table(m.clone()));
        let text = toml::to_string(&only).map_err(|e| Error::Input(format!("[markets]: {e}")))?;
        if let Err(e) = Datasheet::parse(&text, &l.path) {
            let message = e.to_string();
            let message = message
                .split_once(": ")
                .map_or(message.as_str(), |(_, rest)| rest)
                .to_string();
            let market = message
                .split_once("market '")
                .and_then(|(_, rest)| rest.split_once('\''))
                .map_or(String::new(), |(name, _)| name.to_string());
            return Err(l.error("markets", &market, message));
        }
        table.insert("markets".into(), toml::Value::Table(m.clone()));
    }
    let datasheet = if table.is_empty() {
        None
    } else {
        let text = toml::to_string(&table).map_err(|e| Error::Input(format!("datasheet: {e}")))?;
        Some(Datasheet::parse(&text, &sheet_path)?)
    };
    let mut inv = inventory::build(&sources, datasheet.as_ref(), &inventory::Options::default())?;
    for d in &mut inv.datasets {
        d.manifest = paths.rel(&d.manifest);
    }
    if let Some(d) = &mut inv.datasheet {
        d.path = paths.rel(&d.path);
    }
    inv.coverage.manifests = inv
        .coverage
        .manifests
        .iter()
        .map(|m| paths.rel(m))
        .collect();
    if let Some(r) = &mut inv.coverage.reason
        && !paths.prefix.is_empty()
    {
        *r = r.replace(&paths.prefix, "");
    }
    Ok(inv)
}

fn file_stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The charts of the validation record: per attribute and metric, disparities, profiles.
fn charts_for(doc: &slices::Document, dir: &Path) -> Result<Plots> {
    let plots = dir.join("plots");
    let mut out = Plots::default();
    let attributes: Vec<&str> = doc
        .attributes
        .iter()
        .map(|a| a.attribute.as_str())
        .collect();
    for attribute in &attributes {
        for &metric in doc.decision.mode.metrics() {
            // Accuracy, TPR and FPR always; the other metrics where a disparity is flagged
            // (every metric is in the tables).
            let flagged = doc.disparities.iter().any(|d| {
                d.attribute == *attribute && d.metric == metric && d.verdict == Verdict::Flag
            });
            if !matches!(metric, Metric::Accuracy | Metric::Tpr | Metric::Fpr) && !flagged {
                continue;
            }
            let rows: Vec<SliceBar> = doc
                .slices
                .iter()
                .filter(|s| s.attribute == *attribute)
                .map(|s| {
                    let m = &s.metrics[metric.name()];
                    SliceBar {
                        label: s.value.clone(),
                        value: m.value,
                        ci95: m.ci95,
                        n: m.n,
                        insufficient: s.status == slices::Status::InsufficientData,
                    }
                })
                .collect();
            let overall = &doc.overall.metrics[metric.name()];
            let overall = overall.value.zip(overall.ci95);
            let d = doc
                .disparities
                .iter()
                .find(|d| d.attribute == *attribute && d.metric == metric);
            let line = d.and_then(|d| {
                let best = rows.iter().find(|r| Some(&r.label) == d.best.as_ref())?;
                threshold_line(d, best.value?)
            });
            let stem = format!("slices-{}-{}", file_stem(attribute), metric.name());
            charts::metric_by_slice(
                &format!("{} by {attribute}", metric.name()),
                metric.name(),
                overall,
                &rows,
                line.as_ref().map(|(v, label)| (*v, label.as_str())),
            )?
            .write(&plots, &stem)?;
            out.slices.push(SlicePlot {
                attribute: attribute.to_string(),
                metric,
                plot: format!("plots/{stem}.svg"),
            });
        }
    }
    if !doc.disparities.is_empty() {
        let rows: Vec<DisparityBar> = doc
            .disparities
            .iter()
            .map(|d| DisparityBar {
                label: format!("{} by {}", d.metric.name(), d.attribute),
                value: match d.rule {
                    RuleKind::Ratio => d.ratio,
                    RuleKind::Difference => d.difference,
                },
                ci95: d.ci95,
                threshold: d.threshold,
                ratio: d.rule == RuleKind::Ratio,
                verdict: d.verdict.name().into(),
            })
            .collect();
        charts::disparities(
            "Disparities between slices (bootstrap 95% intervals)",
            &rows,
        )?
        .write(&plots, "disparities")?;
        out.disparities = Some("plots/disparities.svg".into());
    }
    if let Some(p) = &doc.profiles {
        let rows: Vec<DistanceBar> = p
            .slices
            .iter()
            .map(|s| DistanceBar {
                label: format!("{} = {}", s.attribute, s.value),
                spearman_distance: s.spearman_distance,
                cosine_distance: s.cosine_distance,
                items: s.items,
                verdict: s.verdict.name().into(),
            })
            .collect();
        if !rows.is_empty() {
            charts::profile_distances(
                "Explanation profiles: distance of each slice from the overall profile",
                &rows,
                p.threshold,
            )?
            .write(&plots, "profiles")?;
            out.profiles = Some("plots/profiles.svg".into());
        }
    }
    Ok(out)
}

/// The metric value a slice must reach for the attribute's rule to pass, given the best
/// slice's value, and a label for the line; `None` when it falls outside [0, 1].
fn threshold_line(d: &Disparity, best_value: f64) -> Option<(f64, String)> {
    let best = d.best.as_ref()?;
    let t = d.threshold;
    let (value, label) = match (d.rule, d.metric.higher_is_better()) {
        (RuleKind::Ratio, true) => (best_value * t, format!("{t:.2} × best ({best})")),
        (RuleKind::Ratio, false) => (best_value / t, format!("best ({best}) / {t:.2}")),
        (RuleKind::Difference, true) => (best_value - t, format!("best ({best}) − {t:.2}")),
        (RuleKind::Difference, false) => (best_value + t, format!("best ({best}) + {t:.2}")),
    };
    (value.is_finite() && (0.0..=1.0).contains(&value)).then_some((value, label))
}

fn summarise(r: &Report, doc: &slices::Document) -> Summary {
    let not_converged: Vec<String> = r
        .explanations
        .methods
        .iter()
        .flat_map(|m| {
            m.items
                .iter()
                .filter(|i| !i.converged)
                .map(move |i| format!("{} ({}): sd ratio {:.2}", i.input, m.method, i.sd_ratio))
        })
        .collect();
    let mut flags = doc.flags();
    for m in &r.explanations.methods {
        for i in &m.items {
            if let Some(q) = &i.quality
                && q.randomisation.verdict == quality::Verdict::Flag
            {
                flags.push(format!(
                    "{} ({}): the explanation survives randomising the model's last layer (Spearman of |attributions| {:.2} >= {:.2}): it does not depend on the learned weights",
                    i.input,
                    m.method,
                    q.randomisation.spearman_abs.unwrap_or(f64::NAN),
                    q.randomisation.threshold
                ));
            }
        }
    }
    let uncovered: Vec<String> = r
        .data
        .coverage
        .markets
        .iter()
        .filter(|m| r.data.coverage.assessable && m.covered == Some(false))
        .map(|m| format!("{}: {}", m.market, m.verdict))
        .collect();
    Summary {
        verdict: if flags.is_empty() { "pass" } else { "flag" }.into(),
        flags,
        uncovered_markets: uncovered,
        insufficient_slices: doc
            .slices
            .iter()
            .filter(|s| s.status == slices::Status::InsufficientData)
            .map(|s| format!("{} = {} (n = {})", s.attribute, s.value, s.n))
            .collect(),
        not_converged,
    }
}

fn limitations(r: &Report, doc: &slices::Document) -> Vec<String> {
    let mut out = Vec::new();
    let s = &r.summary;
    if !s.insufficient_slices.is_empty() {
        out.push(format!(
            "{} slice{} had fewer than {} items, too few for a verdict: {}.",
            s.insufficient_slices.len(),
            if s.insufficient_slices.len() == 1 {
                ""
            } else {
                "s"
            },
            doc.params.min_n,
            s.insufficient_slices.join("; ")
        ));
    }
    let flagged = doc
        .disparities
        .iter()
        .filter(|d| d.verdict == Verdict::Flag)
        .count();
    if flagged > 0 {
        out.push(format!(
            "{flagged} disparit{} between slices breach{} the thresholds: the model does not work equally well for every group listed in the summary.",
            if flagged == 1 { "y" } else { "ies" },
            if flagged == 1 { "es" } else { "" }
        ));
    }
    let survived: Vec<String> = r
        .explanations
        .methods
        .iter()
        .flat_map(|m| m.items.iter())
        .filter(|i| {
            i.quality
                .as_ref()
                .is_some_and(|q| q.randomisation.verdict == quality::Verdict::Flag)
        })
        .map(|i| i.input.clone())
        .collect();
    if !survived.is_empty() {
        out.push(format!(
            "The explanations of {} barely change when the model's last layer is randomised: they do not show what the model learned (Adebayo et al. sanity check).",
            survived.join(", ")
        ));
    }
    if let Some(p) = &doc.profiles {
        let f: Vec<String> = p
            .slices
            .iter()
            .filter(|s| s.verdict == Verdict::Flag)
            .map(|s| format!("{} = {}", s.attribute, s.value))
            .collect();
        if !f.is_empty() {
            out.push(format!(
                "The model relies on different evidence in {}: its explanation profile differs from the overall one.",
                f.join(", ")
            ));
        }
        out.push(format!(
            "Explanation profiles rest on {} items per slice ({} in all): a screen, not a measurement.",
            p.per_slice,
            p.explained.len()
        ));
    }
    let c = &r.data.coverage;
    if !c.assessable {
        out.push(format!(
            "Target-market coverage could not be assessed: {}.",
            c.reason.as_deref().unwrap_or("no locale column")
        ));
    } else if !c.not_covered.is_empty() {
        out.push(format!(
            "Not every target market is covered by the validation data: {} {} not covered.",
            c.not_covered.join(", "),
            if c.not_covered.len() == 1 {
                "is"
            } else {
                "are"
            }
        ));
    }
    if !s.not_converged.is_empty() {
        out.push(format!(
            "{} attribution{} did not converge (largest standard error above {} of the explanation's scale); raise the budget: {}.",
            s.not_converged.len(),
            if s.not_converged.len() == 1 { "" } else { "s" },
            CONVERGED_SD_RATIO,
            s.not_converged.join("; ")
        ));
    }
    for d in &r.data.datasets {
        if !d.gaps.is_empty() {
            out.push(format!(
                "The datasheet of {} has gaps: {}.",
                d.manifest,
                d.gaps.join("; ")
            ));
        }
    }
    out.push(
        "Attributions explain the model's output on the chosen baseline and features; they are not causal statements about the world."
            .into(),
    );
    out
}

/// Every file the config makes the report read, as `reproducibility.inputs` names them
/// (relative to the config's directory where they lie under it): the model, the validation
/// manifest and every item in it, the listed items, background files, files held as model
/// inputs, the datasheet and the inventory's other manifests. `explain verify` accepts
/// recorded inputs from this list only.
pub fn named_inputs(l: &Loaded, manifest: &Manifest) -> Result<Vec<(String, PathBuf)>> {
    let c = &l.config;
    let model = l.resolve(&c.model.path);
    let mut files: Vec<PathBuf> = vec![model.clone(), manifest.path.clone()];
    // The model's weights kept beside it, if any.
    if let Ok(info) = inspect(&model) {
        files.extend(info.external_paths());
    }
    files.extend(c.explanations.items.iter().map(|i| l.resolve(i)));
    files.extend(c.explanations.background.iter().map(|b| l.resolve(b)));
    for h in &c.model.hold {
        if let Some((_, file)) = h.split_once('=')
            && file != "zeros"
        {
            files.push(l.resolve(file));
        }
    }
    if let Some(d) = &c.data.datasheet {
        files.push(l.resolve(d));
    }
    for arg in &c.data.manifests {
        let (_, rel) =
            inventory::parse_source_arg(arg).map_err(|e| l.error("data", "manifests", e))?;
        files.push(l.resolve(&rel.to_string_lossy()));
    }
    files.extend(manifest.input_paths());
    let paths = Paths::new(l);
    let mut seen = std::collections::BTreeSet::new();
    Ok(files
        .into_iter()
        .filter_map(|f| {
            let shown = paths.rel(&f.display().to_string());
            seen.insert(shown.clone()).then_some((shown, f))
        })
        .collect())
}

fn input_files(l: &Loaded, manifest: &Manifest) -> Result<Vec<FileRef>> {
    named_inputs(l, manifest)?
        .into_iter()
        .map(|(shown, f)| {
            Ok(FileRef {
                path: shown,
                sha256: sha256_file(&f)?,
                rows: None,
            })
        })
        .collect()
}

/// Every file under the report directory except report.json and report.html, sorted.
fn artifacts(dir: &Path) -> Result<Vec<FileRef>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .map_err(|e| Error::Input(format!("cannot list {}: {e}", d.display())))?
        {
            let p = e
                .map_err(|e| Error::Input(format!("cannot list {}: {e}", d.display())))?
                .path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let mut out: Vec<FileRef> = files
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/");
            Ok(FileRef {
                path: rel,
                sha256: sha256_hex(
                    &std::fs::read(p)
                        .map_err(|e| Error::Input(format!("cannot read {}: {e}", p.display())))?,
                ),
                rows: None,
            })
        })
        .collect::<Result<_>>()?;
    out.retain(|f| f.path != "report.json" && f.path != "report.html");
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
