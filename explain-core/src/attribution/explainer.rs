//! Explaining rows end to end: resolve the target, derive the seeded streams, run the chosen
//! estimator through the engine, and assemble the attribution document
//! (`explain.attributions/1`) with everything needed to reproduce it.

pub use crate::artifact::attributions::{
    Attributions, ExplainedBox, Explanation, ModelRef, Params, SCHEMA,
};
pub use crate::artifact::spec::TargetSpec;
use crate::attribution::budget::{self, Budget};
use crate::attribution::engine::{Engine, Link};
use crate::attribution::estimators::lime::LimeParams;
use crate::attribution::estimators::{self, Estimate, Method};
use crate::attribution::objective::Objective;
use crate::input::masker::Masker;
pub use crate::input::{Instance, Sources};
use crate::math::sampling::StreamKey;
use crate::model::Model;
use crate::model::detect::{MATCH_IOU, TargetBox, iou};
use crate::util::pins::{ExplanationKey, ExplanationPin, Pins};
pub use crate::util::progress::{Progress, Silent};
pub use crate::util::provenance::FileRef;
use crate::util::provenance::{Tool, sha256_f32};
use crate::{Error, Result, bad_input};
use std::sync::Arc;

/// Everything that decides the numbers, apart from the model, the rows and the baseline.
#[derive(Debug, Clone)]
pub struct Settings {
    pub method: Method,
    /// Coalition budget: the method's default, a number, or automatic (SHAP methods).
    pub samples: Budget,
    pub seed: u64,
    pub target: TargetSpec,
    pub link: Link,
    /// Rows per model call.
    pub batch_size: usize,
    /// The feature spec as given (recorded).
    pub features: String,
    /// LIME's parameters (`samples` here is ignored in favour of [`Settings::samples`]).
    pub lime: Option<LimeParams>,
    /// Choices fixed to recorded ones (`explain verify` at knife edges; empty otherwise).
    pub pins: Arc<Pins>,
    /// A recogniser's reference embedding: the value of a masked input is the cosine
    /// similarity of its embedding to this one (`--reference`).
    pub reference: Option<Arc<[f32]>>,
}

/// The coalition budget used for `m` features (with `--samples auto`, the first one tried).
pub fn resolved_samples(method: Method, m: usize, samples: Budget) -> usize {
    match (method, samples) {
        (Method::Exact, _) => 1usize << m.min(63),
        (_, Budget::Fixed(n)) => n,
        (Method::Lime, _) => estimators::lime::DEFAULT_SAMPLES,
        (_, Budget::Auto(a)) => budget::auto_start(m).min(auto_max(method, m, a.max_samples)),
        (_, Budget::Default) => estimators::kernel::default_samples(m),
    }
}

/// The largest budget `--samples auto` tries: `max_samples`, capped at `2^M − 2` for the
/// regression estimators, which are exact there.
fn auto_max(method: Method, m: usize, max_samples: usize) -> usize {
    match method {
        Method::Kernel | Method::Leverage if m < 63 => {
            max_samples.min((1usize << m).saturating_sub(2).max(1))
        }
        _ => max_samples,
    }
}

/// Coalitions one explanation will evaluate (for progress bars).
pub fn planned_coalitions(method: Method, m: usize, samples: usize) -> u64 {
    let capped = if m < 63 {
        samples.min((1usize << m).saturating_sub(2))
    } else {
        samples
    };
    (match method {
        Method::Exact => 1usize << m.min(63),
        Method::Kernel => capped + 2,
        Method::Leverage if m >= 2 => (capped & !1) + 2,
        Method::Leverage => 2,
        Method::Permutation => {
            estimators::permutation::permutations_for(m, samples) * 2 * m.saturating_sub(1) + 2
        }
        Method::Lime => samples,
    }) as u64
}

/// Above this many features the regression estimators warn that they are slow.
pub const MANY_FEATURES: usize = 512;

/// Bytes one explanation of `m` features with `samples` coalitions (the budget as resolved)
/// holds at its peak, beyond the model: the coalitions and their values, and what the
/// estimator builds from them. `None` when it cannot be counted.
pub fn implied_memory(method: Method, m: usize, samples: usize) -> Option<u64> {
    let n = planned_coalitions(method, m, samples);
    let m = m as u64;
    match method {
        // Values of every coalition, twice over.
        Method::Exact => n.checked_mul(16),
        // Coalitions (a byte per feature), the index that finds repeats, weights and values.
        Method::Kernel | Method::Leverage => n.checked_mul(m.checked_mul(2)?.checked_add(128)?),
        // The permutations and per-permutation estimates, and every coalition's value.
        Method::Permutation => {
            let p = estimators::permutation::permutations_for(m as usize, samples) as u64;
            p.checked_mul(m)?
                .checked_mul(16)?
                .checked_add(n.checked_mul(8)?)
        }
        // The design matrix in f64 and the values and weights.
        Method::Lime => n.checked_mul(m.checked_mul(8)?.checked_add(32)?),
    }
}

/// Refuses a run whose budget implies more memory than [`crate::util::limits::max_memory`], saying
/// how far to lower it.
fn check_budget(method: Method, m: usize, samples: usize, flag: &str) -> Result<()> {
    let bytes = implied_memory(method, m, samples);
    let limit = crate::util::limits::max_memory();
    if bytes.is_some_and(|b| b <= limit) {
        return Ok(());
    }
    // The largest budget within the limit, by halving.
    let mut fits = samples;
    while fits > 1 && implied_memory(method, m, fits).is_none_or(|b| b > limit) {
        fits /= 2;
    }
    let lower = if method == Method::Exact {
        format!("use fewer features than {m} (exact enumerates 2^{m} coalitions)")
    } else {
        format!("lower {flag} to at most about {fits}, or give --max-memory more")
    };
    crate::util::limits::check_memory(
        bytes,
        &format!(
            "{} with {samples} coalitions on {m} features",
            method.name()
        ),
        &lower,
    )
}

/// Explains every instance and returns the attribution document. Progress is reported per
/// coalition.
pub fn explain(
    model: &Model,
    instances: &[Instance],
    sources: Sources,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<Attributions> {
    explain_targets(model, instances, sources, settings, &[], progress)
}

/// As [`explain`], with instance `i` explained for `targets[i]` where that is given (e.g. the
/// boxes a report lists per item) and for `settings.target` otherwise.
pub fn explain_targets(
    model: &Model,
    instances: &[Instance],
    sources: Sources,
    settings: &Settings,
    targets: &[Option<TargetSpec>],
    progress: &dyn Progress,
) -> Result<Attributions> {
    let Some(first) = instances.first() else {
        bad_input!("there is nothing to explain: no input rows");
    };
    for inst in instances {
        if inst.x.len() != model.row_len() || inst.features.ids.len() != inst.x.len() {
            bad_input!(
                "{}: {} values and {} feature ids for a model row of {} values",
                inst.name,
                inst.x.len(),
                inst.features.ids.len(),
                model.row_len()
            );
        }
        if settings.method == Method::Exact {
            estimators::exact::check_size(inst.features.len())?;
        }
    }
    if settings.batch_size == 0 {
        bad_input!("--batch-size must be at least 1");
    }
    settings.samples.check()?;
    let auto = match settings.samples.auto() {
        Some(_) if settings.method == Method::Lime => bad_input!(
            "--samples auto applies to the SHAP methods (kernel, leverage, permutation), not to lime"
        ),
        // Exact values need no budget.
        Some(a) if settings.method != Method::Exact => Some(a),
        _ => None,
    };
    let samples_for =
        |inst: &Instance| resolved_samples(settings.method, inst.features.len(), settings.samples);
    for inst in instances {
        let m = inst.features.len();
        // With --samples auto, the largest budget it may reach.
        let largest = match auto {
            Some(a) => auto_max(settings.method, m, a.max_samples).max(samples_for(inst)),
            None => samples_for(inst),
        };
        let flag = if auto.is_some() {
            "--max-samples"
        } else {
            "--samples"
        };
        check_budget(settings.method, m, largest, flag)?;
    }
    // The regressions solve an M×M system per explanation: slow for thousands of features.
    let widest = instances
        .iter()
        .map(|i| i.features.len())
        .max()
        .unwrap_or(0);
    if widest > MANY_FEATURES
        && matches!(
            settings.method,
            Method::Kernel | Method::Leverage | Method::Lime
        )
    {
        progress.note(&format!(
            "{widest} features: {} solves a {widest}x{widest} least-squares system for every \
             explanation, which can take minutes; fewer features (e.g. a coarser grid or fewer \
             superpixels) are much faster",
            settings.method.name()
        ));
    }
    // The masked rows of one batch, and the model's outputs for them.
    crate::util::limits::check_memory(
        (settings.batch_size as u64)
            .checked_mul(model.row_len() as u64)
            .and_then(|v| v.checked_mul(8)),
        &format!("a batch of {} model rows", settings.batch_size),
        "lower --batch-size",
    )?;
    let planned = instances
        .iter()
        .map(|inst| planned_coalitions(settings.method, inst.features.len(), samples_for(inst)))
        .sum();
    progress.begin(planned);
    let pin_of = |input_sha256: &str| {
        settings.pins.explanation(&ExplanationKey {
            model_sha256: model.info.sha256.clone(),
            input_sha256: input_sha256.to_string(),
            seed: settings.seed,
            method: settings.method.name().to_string(),
        })
    };
    // The explained output: pinned (explain verify at a tie), else as the spec says.
    let target_of = |x: &[f32], pin: Option<&ExplanationPin>, first: Option<usize>| match pin
        .and_then(|p| p.target)
    {
        Some(t) => resolve_target(model, x, TargetSpec::Index(t), None),
        None => resolve_target(model, x, settings.target, first),
    };
    let first_target = match (&model.detector, &settings.reference) {
        (None, None) => target_of(&first.x, pin_of(&sha256_f32(&first.x)), None)?,
        _ => 0,
    };
    let mut explanations = Vec::with_capacity(instances.len());
    let mut first_samples = None;
    for (i, inst) in instances.iter().enumerate() {
        let samples = samples_for(inst);
        let input_sha256 = sha256_f32(&inst.x);
        let pin = pin_of(&input_sha256);
        let spec = targets.get(i).copied().flatten().unwrap_or(settings.target);
        let (objective, detection) = match (&model.detector, &settings.reference) {
            (Some(_), _) => {
                let (b, detection) = resolve_box(model, inst, spec)?;
                (Objective::Box(b), Some(detection))
            }
            (None, Some(reference)) => {
                if spec != TargetSpec::Auto {
                    bad_input!(
                        "a recogniser explanation (--reference) explains the similarity to the \
                         reference; drop --target {}",
                        spec
                    );
                }
                (Objective::Similar(reference.clone()), None)
            }
            (None, None) => {
                let t = match targets.get(i).copied().flatten() {
                    Some(given) if pin.and_then(|p| p.target).is_none() => {
                        resolve_target(model, &inst.x, given, None)?
                    }
                    _ => target_of(&inst.x, pin, Some(first_target))?,
                };
                (Objective::Output(t), None)
            }
        };
        let target = objective.index();
        let key = StreamKey::derive(
            settings.seed,
            &model.info.sha256,
            &input_sha256,
            target,
            &format!("{}{}", settings.method.name(), objective.stream_label()),
        );
        let masker = Masker::new(&inst.features, &inst.x, &inst.baseline);
        let engine = Engine::new(
            model,
            &masker,
            objective,
            settings.link,
            settings.batch_size,
            progress,
        );
        let estimate = |samples: usize| -> Result<Estimate> {
            match settings.method {
                Method::Exact => estimators::exact::exact(&engine),
                Method::Kernel => estimators::kernel::kernel(&engine, samples, &key),
                Method::Leverage => estimators::leverage::leverage(&engine, samples, &key),
                Method::Permutation => estimators::permutation::permutation(&engine, samples, &key),
                Method::Lime => {
                    let mut params = settings.lime.unwrap_or(LimeParams {
                        samples,
                        kernel_width: estimators::lime::DEFAULT_KERNEL_WIDTH,
                        num_features: None,
                        selection: estimators::lime::Selection::Auto,
                    });
                    params.samples = samples;
                    let selection = pin.and_then(|p| p.selection.as_deref());
                    estimators::lime::lime(&engine, &params, &key, selection)
                }
            }
        };
        let (est, outcome) = match auto {
            Some(a) => {
                let max = auto_max(settings.method, inst.features.len(), a.max_samples);
                let budgets = pin.and_then(|p| p.budgets.as_deref());
                let (est, outcome) =
                    budget::run_auto(a.tolerance, samples, max, budgets, estimate)?;
                (est, Some(outcome))
            }
            None => (estimate(samples)?, None),
        };
        if first_samples.is_none() {
            first_samples = Some(outcome.as_ref().map_or(samples, |o| o.samples));
        }
        explanations.push(Explanation {
            input: inst.name.clone(),
            input_sha256,
            target,
            prediction: est.prediction,
            base_value: est.base_value,
            feature_names: inst.features.names.clone(),
            values: est.values,
            std_errors: est.std_errors,
            model_evals: est.coalitions,
            model_rows: engine.rows_run(),
            surrogate: est.surrogate,
            auto: outcome,
            quality: None,
            detection,
        });
    }
    let lime = settings.lime.filter(|_| settings.method == Method::Lime);
    Ok(Attributions {
        schema: SCHEMA.into(),
        tool: Tool::current(),
        model: ModelRef::of(model),
        method: settings.method,
        params: Params {
            samples: first_samples.unwrap_or_else(|| samples_for(first)),
            seed: settings.seed,
            features: settings.features.clone(),
            baseline: first.baseline.description.clone(),
            link: settings.link,
            target: settings.target.to_string(),
            batch_size: settings.batch_size,
            kernel_width: lime.map(|l| l.kernel_width),
            surrogate_features: lime.and_then(|l| l.num_features),
            feature_selection: lime.map(|l| l.selection),
            tolerance: auto.map(|a| a.tolerance),
            max_samples: auto.map(|a| a.max_samples),
        },
        inputs: sources.inputs,
        background: sources.background,
        preprocessing: sources.preprocessing,
        recipe: None,
        explanations,
    })
}

/// The output index to explain for row `x`. `first` is the target chosen for the first row
/// (what `auto` applies to every row).
fn resolve_target(
    model: &Model,
    x: &[f32],
    spec: TargetSpec,
    first: Option<usize>,
) -> Result<usize> {
    if let (TargetSpec::Auto, Some(t)) = (spec, first) {
        return Ok(t);
    }
    if let TargetSpec::Box(b) = spec {
        bad_input!(
            "target box:{b} applies to a detector: give the detector's output layout with --detector ({})",
            crate::model::detect::Decoder::NAMES.join(", ")
        );
    }
    let out = model.run(1, x)?;
    match spec {
        TargetSpec::Index(t) if t < out.len() => Ok(t),
        TargetSpec::Index(t) => bad_input!(
            "target {t} is out of range: output '{}' of model {} has shape {} ({} value{} per row, so targets 0..{})",
            model.output.name,
            model.info.path,
            model.output.shape_string(),
            out.len(),
            if out.len() == 1 { "" } else { "s" },
            out.len() - 1
        ),
        TargetSpec::Box(_) => unreachable!("refused above"),
        TargetSpec::Auto | TargetSpec::Top => {
            if let Some(bad) = out.iter().find(|v| !v.is_finite()) {
                return Err(Error::Model(format!(
                    "model {} gave a non-finite output ({bad}) on an unmasked input row",
                    model.info.path
                )));
            }
            Ok(out
                .iter()
                .enumerate()
                .fold(0, |best, (i, v)| if *v > out[best] { i } else { best }))
        }
    }
}

/// The box a detector explanation explains for `inst`: the given box, or the detection of
/// the unmasked image the spec picks (best first; `auto` and `top` take the best), with what
/// the detector found on the unmasked image.
fn resolve_box(
    model: &Model,
    inst: &Instance,
    spec: TargetSpec,
) -> Result<(TargetBox, ExplainedBox)> {
    let detections = model.detect(&inst.x)?;
    let threshold = model.detector.map_or(0.0, |d| d.score_threshold);
    let (target, index) = match spec {
        TargetSpec::Box(b) => {
            // The detection that matches the box best, if any matches.
            let best = detections
                .iter()
                .enumerate()
                .filter(|(_, d)| b.class.is_none() || d.class == b.class)
                .map(|(i, d)| (i, iou(&b.bbox, &d.bbox)))
                .filter(|(_, o)| *o >= MATCH_IOU)
                .fold(None, |best: Option<(usize, f32)>, (i, o)| match best {
                    Some((_, bo)) if bo >= o => best,
                    _ => Some((i, o)),
                });
            (b, best.map(|(i, _)| i))
        }
        TargetSpec::Index(_) | TargetSpec::Auto | TargetSpec::Top if !detections.is_empty() => {
            let i = if let TargetSpec::Index(i) = spec {
                i
            } else {
                0
            };
            let Some(d) = detections.get(i) else {
                bad_input!(
                    "{}: target {i} is out of range: the detector finds {} detection{} scoring above {threshold} (targets 0..{}); give a box with --target-box",
                    inst.name,
                    detections.len(),
                    if detections.len() == 1 { "" } else { "s" },
                    detections.len() - 1
                );
            };
            (
                TargetBox {
                    bbox: d.bbox,
                    class: d.class,
                },
                Some(i),
            )
        }
        _ => bad_input!(
            "{}: the detector finds nothing scoring above {threshold} on the unmasked image, so there is no detection to explain; give a box with --target-box x0,y0,x1,y1 (e.g. a missed face)",
            inst.name
        ),
    };
    Ok((
        target,
        ExplainedBox {
            target,
            index,
            detections,
        },
    ))
}

/// The objective an explanation explained (its recorded target, or its box), for re-runs.
pub fn objective_of(e: &Explanation, settings: &Settings) -> Objective {
    match (&e.detection, &settings.reference) {
        (Some(d), _) => Objective::Box(d.target),
        (None, Some(r)) => Objective::Similar(r.clone()),
        (None, None) => Objective::Output(e.target),
    }
}

/// The target spec that explains `e`'s objective again (its index, or its box).
pub fn target_of(e: &Explanation) -> TargetSpec {
    match &e.detection {
        Some(d) => TargetSpec::Box(d.target),
        None => TargetSpec::Index(e.target),
    }
}

/// Runs `f` on a rayon pool of `threads` threads (all cores when `None`).
pub fn with_threads<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t == 0 {
            bad_input!("--threads must be at least 1");
        }
        builder = builder.num_threads(crate::util::limits::threads(t).0);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Input(format!("cannot start {threads:?} threads: {e}")))?;
    Ok(pool.install(f))
}
