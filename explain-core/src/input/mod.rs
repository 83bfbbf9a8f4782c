//! From files to [`Instance`]s: each input file is read according to its kind (tensor rows
//! from `.npy`/`.csv`, images from `.png`/`.jpg`, clips from `.wav`), turned into model rows,
//! and given its feature map and baseline. Also keeps what the plots need ([`View`]).

pub mod audio;
pub mod features;
pub mod image;
pub mod masker;
pub mod segmentation;
pub mod tensor;

use crate::input::image::{self as img, Geometry, Preprocess};
use crate::math::sampling::StreamKey;
use crate::model::Model;
use crate::util::provenance::FileRef;
use crate::util::provenance::{sha256_f32, sha256_file};
use crate::{Error, Result, bad_input};
use audio::AudioPreprocess;
use features::{FeatureMap, FeatureSpec};
use masker::{Baseline, BaselineSpec, describe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tensor::Rows;

/// What to explain and how to cut it into features.
#[derive(Debug, Clone)]
pub struct Request {
    pub inputs: Vec<PathBuf>,
    pub features: FeatureSpec,
    /// Background rows, images or clips, averaged over for switched-off features.
    pub background: Vec<PathBuf>,
    pub baseline: Option<BaselineSpec>,
    /// Image preprocessing (used for `.png`/`.jpg` inputs).
    pub image: Preprocess,
    /// Audio preprocessing (required for `.wav` inputs).
    pub audio: Option<AudioPreprocess>,
    /// Seeds noise baselines.
    pub seed: u64,
    /// Audio: fade segment boundaries over this many milliseconds (0 = hard cuts).
    pub crossfade_ms: f32,
}

/// What a plot of one instance shows besides the attribution bars.
#[derive(Debug, Clone)]
pub enum View {
    Tensor,
    Image {
        width: usize,
        height: usize,
        rgb: Vec<f32>,
        pixel_features: Vec<u32>,
    },
    Audio {
        samples: Vec<f32>,
        sample_rate: u32,
        segments: Vec<(usize, usize)>,
    },
    Grid {
        rows: usize,
        cols: usize,
        data: Vec<f32>,
        cell_features: Vec<u32>,
    },
}

/// Instances ready for [`crate::attribution::explainer::explain`], the files behind them, and their views.
#[derive(Default)]
pub struct Prepared {
    /// The feature spec used (`auto` resolved for the input kind), as recorded in artifacts.
    pub features: String,
    pub instances: Vec<Instance>,
    pub sources: Sources,
    pub views: Vec<View>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Rows,
    Image,
    Audio,
}

fn kind(path: &Path) -> Result<Kind> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(match ext.as_str() {
        "npy" | "csv" => Kind::Rows,
        "png" | "jpg" | "jpeg" => Kind::Image,
        "wav" => Kind::Audio,
        _ => bad_input!(
            "input file {} has an unsupported extension '.{ext}': use .npy, .csv, .png, .jpg or .wav",
            path.display()
        ),
    })
}

/// Whether a file is read as an image (by its extension).
pub fn is_image(path: &Path) -> bool {
    matches!(kind(path), Ok(Kind::Image))
}

/// Reads every input and background file and builds the instances.
pub fn prepare(model: &Model, req: &Request) -> Result<Prepared> {
    let Some(first) = req.inputs.first() else {
        bad_input!("no input files given");
    };
    let k = kind(first)?;
    for p in req.inputs.iter().chain(&req.background) {
        if kind(p)? != k {
            bad_input!(
                "{} and {} are different kinds of input; explain one kind per run",
                first.display(),
                p.display()
            );
        }
    }
    let resolved;
    let req = if req.features == FeatureSpec::Auto {
        let features = match k {
            Kind::Rows => FeatureSpec::Tabular,
            Kind::Image => FeatureSpec::Grid { rows: 8, cols: 8 },
            Kind::Audio => FeatureSpec::Segments(10),
        };
        resolved = Request {
            features,
            ..req.clone()
        };
        &resolved
    } else {
        req
    };
    let mut prepared = match k {
        Kind::Rows => prepare_rows(model, req)?,
        Kind::Image => prepare_images(model, req)?,
        Kind::Audio => prepare_audio(model, req)?,
    };
    prepared.features = req.features.to_string();
    for p in &req.background {
        prepared.sources.background.push(FileRef {
            path: p.display().to_string(),
            sha256: sha256_file(p)?,
            rows: None,
        });
    }
    Ok(prepared)
}

fn file_ref(path: &Path, rows: usize) -> Result<FileRef> {
    Ok(FileRef {
        path: path.display().to_string(),
        sha256: sha256_file(path)?,
        rows: Some(rows),
    })
}

fn concat_rows(rows: &[Rows], row_len: usize) -> Option<Rows> {
    if rows.is_empty() {
        return None;
    }
    let values: Vec<f32> = rows.iter().flat_map(|r| r.values.iter().copied()).collect();
    Some(Rows::from_values(&rows[0].path, row_len, values))
}

fn prepare_rows(model: &Model, req: &Request) -> Result<Prepared> {
    let rows: Vec<Rows> = req
        .inputs
        .iter()
        .map(|p| tensor::read_rows(p, &model.row_shape, "input"))
        .collect::<Result<_>>()?;
    let background: Vec<Rows> = req
        .background
        .iter()
        .map(|p| tensor::read_rows(p, &model.row_shape, "background"))
        .collect::<Result<_>>()?;
    let background = concat_rows(&background, model.row_len());
    let features = Arc::new(match &req.features {
        FeatureSpec::Tabular => FeatureMap::tabular(
            &model.row_shape,
            &model.input.name,
            rows[0].names.as_deref(),
        ),
        FeatureSpec::Map(file) => FeatureMap::from_json_file(file.as_ref(), model.row_len())?,
        FeatureSpec::Spectro { t, f } => FeatureMap::patches(&model.row_shape, *t, *f)?,
        FeatureSpec::Segments(n) if model.row_shape.iter().filter(|d| **d > 1).count() <= 1 => {
            audio::segments(model.row_len(), *n, 1)?
        }
        other => bad_input!(
            "feature spec '{other}' needs an image or audio input; for .npy/.csv rows use tabular, map:FILE.json, segments:N (1-D rows) or spectro:TxF"
        ),
    });
    let spectro = match req.features {
        FeatureSpec::Spectro { .. } => Some(&model.row_shape[model.row_shape.len() - 2..]),
        _ => None,
    };
    let refs: Vec<&Rows> = rows.iter().collect();
    let shared = match &req.baseline {
        Some(BaselineSpec::Noise(_)) => None,
        spec => Some(Arc::new(Baseline::resolve(
            background.as_ref(),
            spec.as_ref(),
            &refs,
            model.row_len(),
        )?)),
    };
    let mut prepared = Prepared::default();
    for (r, path) in rows.iter().zip(&req.inputs) {
        prepared.sources.inputs.push(file_ref(path, r.n)?);
        for i in 0..r.n {
            let x = r.row(i).to_vec();
            let baseline = match (&shared, &req.baseline) {
                (Some(b), _) => b.clone(),
                (None, Some(BaselineSpec::Noise(level))) => {
                    Arc::new(noise_baseline(model, req, &x, *level))
                }
                (None, _) => unreachable!("only noise baselines are per row"),
            };
            let view = match spectro {
                Some(&[rows, cols]) => View::Grid {
                    rows,
                    cols,
                    data: x[..rows * cols].to_vec(),
                    cell_features: features.ids[..rows * cols].to_vec(),
                },
                _ => View::Tensor,
            };
            let name = r.name(i);
            prepared.instances.push(Instance {
                name,
                x,
                features: features.clone(),
                baseline,
            });
            prepared.views.push(view);
        }
    }
    Ok(prepared)
}

fn noise_baseline(model: &Model, req: &Request, x: &[f32], level: f32) -> Baseline {
    let key = StreamKey::derive(
        req.seed,
        &model.info.sha256,
        &sha256_f32(x),
        0,
        "baseline/noise",
    );
    Baseline {
        rows: audio::noise(x.len(), level, &key),
        k: 1,
        description: describe(&BaselineSpec::Noise(level)),
    }
}

fn prepare_images(model: &Model, req: &Request) -> Result<Prepared> {
    let geo = image_geometry(model, req)?;
    let images: Vec<img::LoadedImage> = req
        .inputs
        .iter()
        .map(|p| img::load(p, &req.image, &geo))
        .collect::<Result<_>>()?;
    let background: Vec<Rows> = req
        .background
        .iter()
        .map(|p| {
            img::load(p, &req.image, &geo)
                .map(|i| Rows::from_values(&i.path, model.row_len(), i.tensor))
        })
        .collect::<Result<_>>()?;
    let background = concat_rows(&background, model.row_len()).map(Arc::new);
    if let Some(BaselineSpec::Blur(sigma)) = req.baseline
        && sigma > geo.width.max(geo.height) as f32
    {
        bad_input!(
            "baseline blur:{sigma} is wider than the {}x{} image; use a sigma of at most {}",
            geo.width,
            geo.height,
            geo.width.max(geo.height)
        );
    }
    let grid_ids = match req.features {
        FeatureSpec::Grid { rows, cols } => Some(Arc::new(segmentation::grid(
            geo.width, geo.height, rows, cols,
        )?)),
        FeatureSpec::Slic { .. } => None,
        ref other => bad_input!(
            "feature spec '{other}' does not apply to images: use grid:RxC or slic:N[:compactness]"
        ),
    };
    let mut prepared = Prepared::default();
    prepared.sources.preprocessing = Some(image_preprocessing(req, &geo));
    let mut shared_features: Option<Arc<FeatureMap>> = None;
    for (image, path) in images.into_iter().zip(&req.inputs) {
        prepared.sources.inputs.push(file_ref(path, 1)?);
        let pixel_ids: Vec<u32> = match (&grid_ids, &req.features) {
            (Some(ids), _) => ids.to_vec(),
            (None, FeatureSpec::Slic { n, compactness }) => {
                segmentation::slic(&image.rgb, geo.width, geo.height, *n, *compactness)?
            }
            _ => unreachable!(),
        };
        let features = match (&shared_features, &req.features) {
            (Some(f), FeatureSpec::Grid { .. }) => f.clone(),
            (_, spec) => {
                let m = segmentation::count(&pixel_ids);
                let names = match spec {
                    FeatureSpec::Grid { cols, .. } => (0..m)
                        .map(|k| format!("cell r{} c{}", k / cols, k % cols))
                        .collect(),
                    _ => (0..m).map(|k| format!("segment {k}")).collect(),
                };
                let f = Arc::new(FeatureMap::new(
                    img::pixel_ids_to_elements(&pixel_ids, &geo),
                    names,
                )?);
                if grid_ids.is_some() {
                    shared_features = Some(f.clone());
                }
                f
            }
        };
        let baseline = Arc::new(match (&background, &req.baseline) {
            (Some(bg), None) => Baseline::background(bg, "images"),
            (Some(_), Some(_)) => bad_input!("give background images or --baseline, not both"),
            (None, Some(BaselineSpec::Blur(sigma))) => Baseline {
                rows: img::blur_baseline(&image.tensor, &geo, *sigma),
                k: 1,
                description: describe(&BaselineSpec::Blur(*sigma)),
            },
            (None, Some(BaselineSpec::Mean) | None) => Baseline {
                rows: img::mean_baseline(&image.tensor, &geo),
                k: 1,
                description: "mean colour".into(),
            },
            (None, Some(BaselineSpec::Zero)) => Baseline::constant(image.tensor.len(), 0.0, "zero"),
            (None, Some(BaselineSpec::Constant(v))) => {
                Baseline::constant(image.tensor.len(), *v, &format!("constant {v}"))
            }
            (None, Some(BaselineSpec::Noise(_))) => bad_input!(
                "baseline noise applies to audio; for images use blur[:sigma], mean, zero or a number"
            ),
        });
        prepared.views.push(View::Image {
            width: geo.width,
            height: geo.height,
            rgb: image.rgb.clone(),
            pixel_features: pixel_ids,
        });
        prepared.instances.push(Instance {
            name: image.path.clone(),
            x: image.tensor,
            features,
            baseline,
        });
    }
    Ok(prepared)
}

fn prepare_audio(model: &Model, req: &Request) -> Result<Prepared> {
    let Some(pre) = &req.audio else {
        bad_input!(
            "{} is audio: give the sample rate the model expects with --sample-rate HZ",
            req.inputs[0].display()
        );
    };
    let len = model.row_len();
    if !(req.crossfade_ms >= 0.0 && req.crossfade_ms.is_finite()) {
        bad_input!(
            "--crossfade-ms must be a non-negative number of milliseconds, got {}",
            req.crossfade_ms
        );
    }
    let crossfade =
        (req.crossfade_ms as f64 * pre.sample_rate as f64 / 1000.0 / 2.0).round() as usize;
    let features = Arc::new(match &req.features {
        FeatureSpec::Segments(n) => FeatureMap {
            crossfade,
            ..audio::segments(len, *n, pre.sample_rate)?
        },
        FeatureSpec::Tabular => {
            bad_input!("audio inputs need --features segments:N (equal time segments)")
        }
        other => {
            bad_input!("feature spec '{other}' does not apply to audio windows: use segments:N")
        }
    });
    let bounds = audio::segment_bounds(&features);
    let background: Vec<Rows> = req
        .background
        .iter()
        .map(|p| {
            let clip = audio::read_wav(p, pre)?;
            let first = audio::windows(&clip, len, pre.sample_rate)?
                .swap_remove(0)
                .1;
            Ok(Rows::from_values(&clip.path, len, first))
        })
        .collect::<Result<_>>()?;
    let background = concat_rows(&background, len);
    let mut prepared = Prepared::default();
    let mut preprocessing = audio_preprocessing(pre, len);
    preprocessing["crossfade_ms"] = req.crossfade_ms.into();
    preprocessing["crossfade_samples"] = (2 * crossfade + usize::from(crossfade > 0)).into();
    prepared.sources.preprocessing = Some(preprocessing);
    for path in &req.inputs {
        let clip = audio::read_wav(path, pre)?;
        let windows = audio::windows(&clip, len, pre.sample_rate)?;
        prepared.sources.inputs.push(file_ref(path, windows.len())?);
        let single = windows.len() == 1;
        for (offset, x) in windows {
            let baseline = Arc::new(match (&background, &req.baseline) {
                (Some(bg), None) => Baseline::background(bg, "clips"),
                (Some(_), Some(_)) => bad_input!("give background clips or --baseline, not both"),
                (None, Some(BaselineSpec::Noise(level))) => noise_baseline(model, req, &x, *level),
                (None, Some(BaselineSpec::Zero) | None) => Baseline::constant(len, 0.0, "silence"),
                (None, Some(BaselineSpec::Constant(v))) => {
                    Baseline::constant(len, *v, &format!("constant {v}"))
                }
                (None, Some(other)) => bad_input!(
                    "baseline {} does not apply to audio: use silence, noise[:level] or background clips",
                    describe(other)
                ),
            });
            let name = if single {
                clip.path.clone()
            } else {
                format!(
                    "{}@{:.3}s",
                    clip.path,
                    offset as f64 / pre.sample_rate as f64
                )
            };
            prepared.views.push(View::Audio {
                samples: x.clone(),
                sample_rate: pre.sample_rate,
                segments: bounds.clone(),
            });
            prepared.instances.push(Instance {
                name,
                x,
                features: features.clone(),
                baseline,
            });
        }
    }
    Ok(prepared)
}

fn image_geometry(model: &Model, req: &Request) -> Result<Geometry> {
    img::geometry(&model.row_shape, req.image.layout).map_err(|e| {
        Error::Input(format!(
            "{e} (model {} input '{}' {})",
            model.info.path,
            model.input.name,
            model.input.shape_string()
        ))
    })
}

fn image_preprocessing(req: &Request, geo: &Geometry) -> serde_json::Value {
    serde_json::json!({
        "kind": "image",
        "width": geo.width,
        "height": geo.height,
        "channels": geo.channels,
        "layout": req.image.layout,
        "channel_order": req.image.channels,
        "scale": req.image.scale,
        "mean": req.image.mean,
        "std": req.image.std,
        "resize": "triangle filter to the model's size when the file differs",
    })
}

fn audio_preprocessing(pre: &AudioPreprocess, len: usize) -> serde_json::Value {
    serde_json::json!({
        "kind": "audio",
        "sample_rate": pre.sample_rate,
        "channel": pre.channel.unwrap_or(0),
        "resample": pre.resample,
        "window_samples": len,
        "windows": "consecutive, non-overlapping; a trailing partial window is dropped",
    })
}

/// Model rows for whole items (one row per file), as a validation run needs them: every file
/// is read with `req`'s preprocessing, in parallel, and must give exactly one model row (one
/// tensor row, one image, or a clip of one window). Returns the rows, flattened in `paths`
/// order, and the preprocessing as recorded in artifacts.
pub fn load_items(
    model: &Model,
    req: &Request,
    paths: &[PathBuf],
) -> Result<(Vec<f32>, Option<serde_json::Value>)> {
    use rayon::prelude::*;
    let Some(first) = paths.first() else {
        bad_input!("no items to load");
    };
    let k = kind(first)?;
    for p in paths {
        if kind(p)? != k {
            bad_input!(
                "{} and {} are different kinds of input; one manifest holds one kind",
                first.display(),
                p.display()
            );
        }
    }
    let len = model.row_len();
    let (geo, audio_pre) = match k {
        Kind::Image => (Some(image_geometry(model, req)?), None),
        Kind::Audio => match &req.audio {
            Some(pre) => (None, Some(pre)),
            None => bad_input!(
                "{} is audio: give the sample rate the model expects with --sample-rate HZ",
                first.display()
            ),
        },
        Kind::Rows => (None, None),
    };
    let one = |p: &PathBuf| -> Result<Vec<f32>> {
        match k {
            Kind::Rows => {
                let r = tensor::read_rows(p, &model.row_shape, "input")?;
                if r.n != 1 {
                    bad_input!(
                        "input file {} holds {} rows; a manifest item must be one row",
                        p.display(),
                        r.n
                    );
                }
                Ok(r.values)
            }
            Kind::Image => Ok(img::load(p, &req.image, geo.as_ref().expect("image"))?.tensor),
            Kind::Audio => {
                let pre = audio_pre.expect("audio");
                let clip = audio::read_wav(p, pre)?;
                let mut windows = audio::windows(&clip, len, pre.sample_rate)?;
                if windows.len() != 1 {
                    bad_input!(
                        "audio file {} holds {} windows of {len} samples; a manifest item must be one window",
                        p.display(),
                        windows.len()
                    );
                }
                Ok(windows.swap_remove(0).1)
            }
        }
    };
    let rows: Vec<Vec<f32>> = paths.par_iter().map(one).collect::<Result<_>>()?;
    let preprocessing = match k {
        Kind::Image => Some(image_preprocessing(req, geo.as_ref().expect("image"))),
        Kind::Audio => Some(audio_preprocessing(audio_pre.expect("audio"), len)),
        Kind::Rows => None,
    };
    Ok((rows.concat(), preprocessing))
}

/// One row to explain, with its own feature map and baseline (image segments and blurred
/// baselines differ from image to image; tabular rows share theirs).
#[derive(Debug, Clone)]
pub struct Instance {
    /// How the row is named in the output (`file`, `file#row`, `clip.wav@0.036s`).
    pub name: String,
    /// The row as the model sees it (after any preprocessing).
    pub x: Vec<f32>,
    pub features: Arc<FeatureMap>,
    pub baseline: Arc<Baseline>,
}

impl Instance {
    /// One instance per row of `rows`, sharing a feature map and a baseline. Rows are named
    /// `file` for a one-row file, else `file#row`.
    pub fn from_rows(
        rows: &crate::input::tensor::Rows,
        features: Arc<FeatureMap>,
        baseline: Arc<Baseline>,
    ) -> Vec<Instance> {
        (0..rows.n)
            .map(|i| Instance {
                name: rows.name(i),
                x: rows.row(i).to_vec(),
                features: features.clone(),
                baseline: baseline.clone(),
            })
            .collect()
    }
}

/// Files and settings recorded beside the explanations.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The input files (path, SHA-256, rows).
    pub inputs: Vec<FileRef>,
    /// The background file(s), if any.
    pub background: Vec<FileRef>,
    /// How the inputs were turned into model rows (image or audio preprocessing).
    pub preprocessing: Option<serde_json::Value>,
}
