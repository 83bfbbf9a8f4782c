//! From `explain.toml` to what a report runs: the backend, numerics, model options, request,
//! explanation settings and validation settings, every string of the config turned into its
//! type here, with errors that name the key and its line.

use crate::artifact::attributions::Recipe;
use crate::artifact::config::{Item, Loaded, Scale};
use crate::artifact::spec::HeldInput;
use crate::attribution::engine::Link;
use crate::attribution::estimators::Method;
use crate::attribution::explainer::{Settings, TargetSpec};
use crate::input::Request;
use crate::input::features::FeatureSpec;
use crate::input::image::{self as img, ChannelOrder, Layout, Preprocess};
use crate::input::masker::BaselineSpec;
use crate::model::detect::{Decoder, Detector};
use crate::model::numerics::Mode;
use crate::model::{BackendChoice, ModelOptions, Reduce};
use crate::validation::profiles::ProfileConfig;
use crate::validation::slices::{self};
use crate::{Error, Result};
use std::str::FromStr;

/// Everything the config says, checked, with errors naming the key.
pub(crate) struct Plan {
    /// How the model is run and its inputs read: the same record `explain shap|lime` fills
    /// from its flags and `explain verify` reads back from an attribution file.
    pub(crate) recipe: Recipe,
    pub(crate) request: Request,
    pub(crate) model_options: ModelOptions,
    pub(crate) methods: Vec<Method>,
    pub(crate) target: TargetSpec,
    /// The listed items' own targets (`{ path, target }` items), by position.
    pub(crate) item_targets: Vec<Option<TargetSpec>>,
    pub(crate) link: Link,
    pub(crate) decision: slices::Decision,
    pub(crate) slices: slices::Config,
    pub(crate) profiles: Option<(Settings, ProfileConfig)>,
}

/// The config's `[model] backend` and `ort_lib`, unless `backend` overrides them.
pub(crate) fn backend_of(l: &Loaded, backend: Option<&BackendChoice>) -> Result<BackendChoice> {
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
pub(crate) fn numerics_of(l: &Loaded, backend: &BackendChoice, overridden: bool) -> Result<Mode> {
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

/// A target as the config writes it: an index, or `auto`, `top`, `box:x0,y0,x1,y1[,class]`.
fn target_of(v: &toml::Value) -> Result<TargetSpec> {
    match v {
        toml::Value::Integer(i) if *i >= 0 => Ok(TargetSpec::Index(*i as usize)),
        toml::Value::String(s) => TargetSpec::from_str(s),
        other => Err(Error::Input(format!(
            "{other} is not an output index, 'top', 'auto' or box:x0,y0,x1,y1"
        ))),
    }
}

/// The config's `[model] detector`, `score_threshold` and `nms_iou`.
fn detector_of(l: &Loaded) -> Result<Option<Detector>> {
    let m = &l.config.model;
    let Some(name) = &m.detector else {
        for (k, given) in [
            ("score_threshold", m.score_threshold.is_some()),
            ("nms_iou", m.nms_iou.is_some()),
        ] {
            if given {
                return Err(l.error("model", k, "applies to a detector: set detector too"));
            }
        }
        return Ok(None);
    };
    let mut d =
        Detector::new(Decoder::from_str(name).map_err(|e| l.error("model", "detector", e))?);
    if let Some(t) = m.score_threshold {
        d.score_threshold = t;
    }
    if let Some(n) = m.nms_iou {
        d.nms_iou = n;
    }
    d.validate().map_err(|e| l.error("model", "detector", e))?;
    Ok(Some(d))
}

pub(crate) fn plan(l: &Loaded, backend: Option<&BackendChoice>) -> Result<Plan> {
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
    let recipe = Recipe {
        features: FeatureSpec::from_str(&x.features).map_err(key("explanations", "features"))?,
        baseline: x
            .baseline
            .as_deref()
            .map(BaselineSpec::from_str)
            .transpose()
            .map_err(key("explanations", "baseline"))?,
        samples: x.samples.into(),
        reduce: c
            .model
            .reduce
            .as_deref()
            .map(Reduce::from_str)
            .transpose()
            .map_err(key("model", "reduce"))?,
        detector: detector_of(l)?,
        reference: None,
        hold: c
            .model
            .hold
            .iter()
            .map(|h| match h.split_once('=') {
                Some((name, file)) if file != "zeros" => {
                    HeldInput::from_str(&format!("{name}={}", l.resolve(file).display()))
                }
                _ => HeldInput::from_str(h),
            })
            .collect::<Result<_>>()
            .map_err(key("model", "hold"))?,
        image: (image != Preprocess::default()).then_some(image),
        audio: c
            .audio
            .as_ref()
            .map(|a| crate::input::audio::AudioPreprocess {
                sample_rate: a.sample_rate,
                channel: a.channel,
                resample: a.resample,
            }),
        crossfade_ms: c.audio.as_ref().map_or(0.0, |a| a.crossfade_ms),
        quality: None,
    };
    let request = recipe.request(
        x.items.iter().map(|i| l.resolve(i.path())).collect(),
        x.background.iter().map(|b| l.resolve(b)).collect(),
        c.seed,
    );
    let model_options = ModelOptions {
        numerics: numerics_of(l, &backend, overridden)?,
        ..recipe
            .model_options(c.model.output.clone(), backend)
            .map_err(key("model", "hold"))?
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
    let target = target_of(&x.target).map_err(key("explanations", "target"))?;
    let item_targets = x
        .items
        .iter()
        .map(|i| match i {
            Item::Path(_) => Ok(None),
            Item::Target { target, .. } => target_of(target).map(Some),
        })
        .collect::<Result<_>>()
        .map_err(key("explanations", "items"))?;
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
                features: recipe.features.to_string(),
                lime: None,
                pins: Default::default(),
                reference: None,
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
        recipe,
        request,
        model_options,
        methods,
        target,
        item_targets,
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
            boxes: v
                .boxes
                .clone()
                .unwrap_or_else(|| slices::detection::BOXES_COLUMN.into()),
            pair: v
                .pair
                .clone()
                .unwrap_or_else(|| slices::verification::PAIR_COLUMN.into()),
            same: v
                .same
                .clone()
                .unwrap_or_else(|| slices::verification::SAME_COLUMN.into()),
        },
        profiles,
    })
}
