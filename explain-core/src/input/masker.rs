//! Baselines and the masker: turning a coalition into model input rows.
//!
//! For a coalition `z` and each baseline row `b_k`, the masked row takes element `j` from the
//! explained row `x` when feature `ids[j]` is in `z`, and from `b_k` otherwise. With `K`
//! background rows the value of a coalition is the model output averaged over the `K` masked
//! rows (interventional SHAP); a single baseline is the case `K = 1`.

use crate::input::features::FeatureMap;
use crate::input::tensor::Rows;
use crate::{Result, bad_input};

/// `--baseline`: what switched-off features are replaced with, when there is no background.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineSpec {
    /// All zeros (`zero`; `silence` for audio).
    Zero,
    /// Tensors: the per-element mean of the background rows if given, else of the explained
    /// rows. Images: the image's per-channel mean colour.
    Mean,
    /// Every element set to this value.
    Constant(f32),
    /// Images: the image blurred with a Gaussian of this sigma (pixels).
    Blur(f32),
    /// Audio: Gaussian noise of this standard deviation, seeded per explained row.
    Noise(f32),
}

impl std::str::FromStr for BaselineSpec {
    type Err = crate::Error;

    /// Parses `zero`, `silence`, `mean`, `blur[:sigma]`, `noise[:level]` or a number.
    ///
    /// ```
    /// use explain_core::input::masker::BaselineSpec;
    /// use std::str::FromStr;
    /// assert_eq!(BaselineSpec::from_str("0.5").unwrap(), BaselineSpec::Constant(0.5));
    /// assert_eq!(BaselineSpec::from_str("blur:3").unwrap(), BaselineSpec::Blur(3.0));
    /// assert!(BaselineSpec::from_str("purple").is_err());
    /// ```
    fn from_str(s: &str) -> Result<BaselineSpec> {
        let (kind, arg) = s.split_once(':').map_or((s, None), |(k, a)| (k, Some(a)));
        let level = |default: f32| -> Result<f32> {
            match arg {
                None => Ok(default),
                Some(a) => match a.parse::<f32>() {
                    Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
                    _ => bad_input!("baseline '{s}': '{a}' is not a positive number"),
                },
            }
        };
        match kind {
            "zero" | "zeros" | "silence" if arg.is_none() => Ok(BaselineSpec::Zero),
            "mean" if arg.is_none() => Ok(BaselineSpec::Mean),
            "blur" => Ok(BaselineSpec::Blur(level(DEFAULT_BLUR_SIGMA)?)),
            "noise" => Ok(BaselineSpec::Noise(level(DEFAULT_NOISE_LEVEL)?)),
            _ => match s.parse::<f32>() {
                Ok(v) if v.is_finite() => Ok(BaselineSpec::Constant(v)),
                _ => bad_input!(
                    "unknown baseline '{s}': expected zero, mean, a number, blur[:sigma] (images), silence or noise[:level] (audio)"
                ),
            },
        }
    }
}

impl std::fmt::Display for BaselineSpec {
    /// The spec as [`FromStr`](std::str::FromStr) reads it back (`silence` and `zeros` are
    /// written `zero`).
    ///
    /// ```
    /// use explain_core::input::masker::BaselineSpec;
    /// for s in ["zero", "mean", "0.5", "blur:3", "noise:0.01"] {
    ///     assert_eq!(s.parse::<BaselineSpec>().unwrap().to_string(), s);
    /// }
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaselineSpec::Zero => write!(f, "zero"),
            BaselineSpec::Mean => write!(f, "mean"),
            BaselineSpec::Constant(v) => write!(f, "{v}"),
            BaselineSpec::Blur(sigma) => write!(f, "blur:{sigma}"),
            BaselineSpec::Noise(level) => write!(f, "noise:{level}"),
        }
    }
}

/// Default Gaussian sigma of `blur`, in pixels.
pub const DEFAULT_BLUR_SIGMA: f32 = 5.0;
/// Default standard deviation of `noise` (audio samples in [-1, 1]).
pub const DEFAULT_NOISE_LEVEL: f32 = 0.01;

/// The baseline rows actually used, and how they were chosen (recorded in artifacts).
#[derive(Debug, Clone)]
pub struct Baseline {
    /// `K * row_len` values.
    pub rows: Vec<f32>,
    pub k: usize,
    /// `background`, `zero`, `mean`, `mean of background`, or the constant.
    pub description: String,
}

impl Baseline {
    /// One row with every element `value`.
    pub fn constant(len: usize, value: f32, description: &str) -> Baseline {
        Baseline {
            rows: vec![value; len],
            k: 1,
            description: description.into(),
        }
    }

    /// Background rows (images or clips already turned into model rows), averaged over.
    pub fn background(rows: &Rows, what: &str) -> Baseline {
        Baseline {
            rows: rows.values.clone(),
            k: rows.n,
            description: format!("background ({} {what})", rows.n),
        }
    }

    /// Resolves `--background` and `--baseline` into baseline rows. `inputs` are the rows being
    /// explained (used by `mean` when there is no background). Neither given means `zero`.
    pub fn resolve(
        background: Option<&Rows>,
        spec: Option<&BaselineSpec>,
        inputs: &[&Rows],
        row_len: usize,
    ) -> Result<Baseline> {
        let mean_of = |rows: &[&Rows]| {
            let mut sum = vec![0f64; row_len];
            let mut n = 0usize;
            for r in rows {
                for i in 0..r.n {
                    for (s, v) in sum.iter_mut().zip(r.row(i)) {
                        *s += *v as f64;
                    }
                    n += 1;
                }
            }
            sum.iter()
                .map(|s| (s / n as f64) as f32)
                .collect::<Vec<f32>>()
        };
        Ok(match (background, spec) {
            (Some(bg), None) => Baseline::background(bg, "rows"),
            (Some(bg), Some(BaselineSpec::Mean)) => Baseline {
                rows: mean_of(&[bg]),
                k: 1,
                description: "mean of background".into(),
            },
            (Some(_), Some(other)) => bad_input!(
                "--background and --baseline {} cannot be combined: give background rows, or a constant baseline, or --baseline mean with --background to use the background's mean",
                describe(other)
            ),
            (None, Some(BaselineSpec::Mean)) => Baseline {
                rows: mean_of(inputs),
                k: 1,
                description: "mean of inputs".into(),
            },
            (None, Some(s @ (BaselineSpec::Blur(_) | BaselineSpec::Noise(_)))) => bad_input!(
                "baseline {} applies to image or audio inputs, not to tensor rows",
                describe(s)
            ),
            (None, spec) => {
                let spec = spec.cloned().unwrap_or(BaselineSpec::Zero);
                let v = if let BaselineSpec::Constant(v) = spec {
                    v
                } else {
                    0.0
                };
                Baseline {
                    rows: vec![v; row_len],
                    k: 1,
                    description: describe(&spec),
                }
            }
        })
    }
}

/// How a baseline spec is recorded in artifacts.
pub fn describe(spec: &BaselineSpec) -> String {
    match spec {
        BaselineSpec::Zero => "zero".into(),
        BaselineSpec::Mean => "mean".into(),
        BaselineSpec::Constant(v) => format!("constant {v}"),
        BaselineSpec::Blur(s) => format!("blur sigma {s}"),
        BaselineSpec::Noise(l) => format!("noise level {l}"),
    }
}

/// Builds masked rows for coalitions of one explained row.
pub struct Masker<'a> {
    map: &'a FeatureMap,
    x: &'a [f32],
    baseline: &'a Baseline,
}

impl<'a> Masker<'a> {
    pub fn new(map: &'a FeatureMap, x: &'a [f32], baseline: &'a Baseline) -> Masker<'a> {
        debug_assert_eq!(map.ids.len(), x.len());
        Masker { map, x, baseline }
    }

    /// Rows produced per coalition (the number of baseline rows `K`).
    pub fn rows_per_coalition(&self) -> usize {
        self.baseline.k
    }

    /// Number of features `M`.
    pub fn features(&self) -> usize {
        self.map.len()
    }

    /// Writes the `K` masked rows of coalition `z` into `out` (`K * row_len` values).
    pub fn fill(&self, z: &[bool], out: &mut [f32]) {
        if self.map.crossfade > 0 {
            return self.fill_crossfaded(z, out);
        }
        let len = self.x.len();
        let on = z.iter().filter(|&&b| b).count();
        for (k, row) in out.chunks_exact_mut(len).enumerate() {
            let b = &self.baseline.rows[k * len..(k + 1) * len];
            // Start from whichever source covers more elements, then patch the rest.
            let (base, patch, want) = if 2 * on >= z.len() {
                (self.x, b, false)
            } else {
                (b, self.x, true)
            };
            row.copy_from_slice(base);
            for (f, _) in z.iter().enumerate().filter(|(_, in_z)| **in_z == want) {
                for &j in &self.map.elements[f] {
                    row[j as usize] = patch[j as usize];
                }
            }
        }
    }

    /// `fill` with soft boundaries: weight `α_j` = mean of the 0/1 element mask over
    /// `[j − r, j + r]` (clamped to the row), value `α_j x_j + (1 − α_j) b_j`.
    fn fill_crossfaded(&self, z: &[bool], out: &mut [f32]) {
        let len = self.x.len();
        let r = self.map.crossfade;
        // Prefix sums of the hard mask give each window's mean in O(1).
        let mut prefix = Vec::with_capacity(len + 1);
        prefix.push(0u32);
        for &id in &self.map.ids {
            let last = *prefix.last().expect("non-empty");
            prefix.push(last + z[id as usize] as u32);
        }
        let alpha: Vec<f32> = (0..len)
            .map(|j| {
                let (a, b) = (j.saturating_sub(r), (j + r + 1).min(len));
                (prefix[b] - prefix[a]) as f32 / (b - a) as f32
            })
            .collect();
        for (k, row) in out.chunks_exact_mut(len).enumerate() {
            let b = &self.baseline.rows[k * len..(k + 1) * len];
            for (j, v) in row.iter_mut().enumerate() {
                *v = alpha[j] * self.x[j] + (1.0 - alpha[j]) * b[j];
            }
        }
    }
}
