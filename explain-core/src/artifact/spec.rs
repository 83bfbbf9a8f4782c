//! The vocabulary the documents carry: estimation method, link, coalition budget, target,
//! LIME's parameters and the quality checks' settings. Each names itself in the JSON the same
//! way the command line and the config spell it.

use crate::model::Held;
use crate::util::provenance::{FileRef, sha256_file};
use crate::{Error, Result, bad_input};
use serde::{Deserialize, Serialize};

/// Which estimator to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Exact,
    Kernel,
    Leverage,
    Permutation,
    Lime,
}

/// The scale attributions are computed on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    /// The model output itself.
    #[default]
    Identity,
    /// `ln(p / (1 - p))` of the (background-averaged) output: log-odds units.
    Logit,
}

impl Link {
    /// Applies the link to an averaged output.
    pub fn apply(self, p: f64) -> f64 {
        match self {
            Link::Identity => p,
            Link::Logit => (p / (1.0 - p)).ln(),
        }
    }
}

/// The default `--tolerance` of `--samples auto`.
pub const AUTO_TOLERANCE: f64 = 0.01;

/// The default `--max-samples` of `--samples auto`.
pub const AUTO_MAX_SAMPLES: usize = 65536;

/// A coalition budget per explanation. In JSON: absent (the default), a number, or
/// `{"auto": {"tolerance": 0.01, "max_samples": 65536}}`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Budget {
    /// The method's default (Kernel SHAP's `2M + 2048` for the SHAP methods).
    #[default]
    Default,
    /// Sample until the stopping rule holds.
    Auto(Auto),
    /// This many coalitions.
    #[serde(untagged)]
    Fixed(usize),
}

/// The settings of an automatic budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auto {
    /// Stop when the largest standard error is at most this share of the attribution range.
    pub tolerance: f64,
    /// The largest budget tried.
    pub max_samples: usize,
}

impl Default for Auto {
    fn default() -> Auto {
        Auto {
            tolerance: AUTO_TOLERANCE,
            max_samples: AUTO_MAX_SAMPLES,
        }
    }
}

impl From<Option<usize>> for Budget {
    fn from(samples: Option<usize>) -> Budget {
        samples.map_or(Budget::Default, Budget::Fixed)
    }
}

impl Budget {
    /// Parses `--samples` (absent: the default; a number; or `auto`, with the given tolerance
    /// and maximum, which only `auto` takes).
    ///
    /// ```
    /// use explain_core::attribution::budget::{Auto, Budget};
    /// assert_eq!(Budget::parse(Some("512"), None, None).unwrap(), Budget::Fixed(512));
    /// assert_eq!(Budget::parse(None, None, None).unwrap(), Budget::Default);
    /// assert_eq!(Budget::parse(Some("auto"), None, Some(4096)).unwrap(),
    ///            Budget::Auto(Auto { tolerance: 0.01, max_samples: 4096 }));
    /// assert!(Budget::parse(Some("512"), Some(0.05), None).is_err()); // --tolerance needs auto
    /// ```
    pub fn parse(
        samples: Option<&str>,
        tolerance: Option<f64>,
        max_samples: Option<usize>,
    ) -> Result<Budget> {
        if samples == Some("auto") {
            let budget = Budget::Auto(Auto {
                tolerance: tolerance.unwrap_or(AUTO_TOLERANCE),
                max_samples: max_samples.unwrap_or(AUTO_MAX_SAMPLES),
            });
            budget.check()?;
            return Ok(budget);
        }
        if tolerance.is_some() || max_samples.is_some() {
            bad_input!("--tolerance and --max-samples apply to --samples auto");
        }
        match samples.map(str::parse) {
            None => Ok(Budget::Default),
            Some(Ok(n)) => Ok(Budget::Fixed(n)),
            Some(Err(_)) => bad_input!(
                "invalid --samples '{}': expected a number or 'auto'",
                samples.unwrap_or_default()
            ),
        }
    }

    /// Fails on budgets no run can use: zero coalitions, a tolerance that is not positive.
    pub fn check(&self) -> Result<()> {
        match *self {
            Budget::Fixed(0) => bad_input!("--samples must be at least 1"),
            Budget::Auto(a) if !(a.tolerance > 0.0 && a.tolerance.is_finite()) => {
                bad_input!("--tolerance must be a positive number, got {}", a.tolerance)
            }
            Budget::Auto(a) if a.max_samples == 0 => bad_input!("--max-samples must be at least 1"),
            _ => Ok(()),
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Budget::Default
    }

    /// The fixed number, if any.
    pub fn fixed(&self) -> Option<usize> {
        match *self {
            Budget::Fixed(n) => Some(n),
            _ => None,
        }
    }

    /// The automatic settings, if any.
    pub fn auto(&self) -> Option<Auto> {
        match *self {
            Budget::Auto(a) => Some(a),
            _ => None,
        }
    }
}

/// lime_image's kernel width for cosine distances on coalitions.
pub const LIME_KERNEL_WIDTH: f64 = 0.25;

/// lime_image's default number of samples.
pub const LIME_SAMPLES: usize = 1000;

/// How features are chosen when fewer than `M` are wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Selection {
    /// `forward` when `K ≤ 6`, else `highest` (lime's `auto`).
    Auto,
    /// Greedy forward selection maximising the weighted R² of an unpenalised fit.
    Forward,
    /// The `K` largest |coefficients| of a ridge fit with α = 0.01.
    Highest,
}

/// LIME's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LimeParams {
    pub samples: usize,
    pub kernel_width: f64,
    /// Features kept in the surrogate; all when `None` or `≥ M`.
    pub num_features: Option<usize>,
    pub selection: Selection,
}

/// Which model output to explain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetSpec {
    /// The top class of the first row for multi-output models (used for every row), 0 for a
    /// single output.
    Auto,
    /// Each row's own top class.
    Top,
    /// This output index; for a detector, this detection of the unmasked image (best first).
    Index(usize),
    /// A detector's box (pixels of the model input), detected or not (`box:x0,y0,x1,y1[,class]`).
    Box(crate::model::detect::TargetBox),
}

impl std::str::FromStr for TargetSpec {
    type Err = crate::Error;

    /// Parses `auto`, `top`, an index or `box:x0,y0,x1,y1[,class]`.
    fn from_str(s: &str) -> Result<TargetSpec> {
        match s {
            "auto" => Ok(TargetSpec::Auto),
            "top" => Ok(TargetSpec::Top),
            _ => match s.strip_prefix("box:") {
                Some(b) => b.parse().map(TargetSpec::Box),
                None => s.parse().map(TargetSpec::Index).map_err(|_| {
                    Error::Input(format!(
                        "invalid target '{s}': expected an output index, 'top', 'auto' or box:x0,y0,x1,y1"
                    ))
                }),
            },
        }
    }
}

impl std::fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetSpec::Auto => write!(f, "auto"),
            TargetSpec::Top => write!(f, "top"),
            TargetSpec::Index(i) => write!(f, "{i}"),
            TargetSpec::Box(b) => write!(f, "box:{b}"),
        }
    }
}

/// An explanation whose `|values|` keep a Spearman correlation of at least this with the
/// explanation of the randomised model is flagged.
pub const RANDOMISATION_THRESHOLD: f64 = 0.8;

/// Steps of the deletion and insertion curves when not given: one per feature up to this
/// many features, else this many steps.
pub const QUALITY_MAX_STEPS: usize = 64;

/// What `attribution::quality` computes, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// Steps of the deletion and insertion curves (each curve has `steps + 1` points, the
    /// `j`-th after switching `round(j·M/steps)` features). `None`: one step per feature when
    /// `M ≤ 64`, else 64 steps (`M/64` features per step). At most `M`.
    pub steps: Option<usize>,
    /// Seeded random feature orders for the reference curves (at least 1).
    pub random_orders: usize,
    /// Extra seeds for the stability runs (`seed + 1 ..= seed + seeds`); 0 skips them.
    pub seeds: usize,
    /// `k` of the top-`k` Jaccard index (capped at `M`; at least 1).
    pub k: usize,
    /// Parameterised layers randomised for the sanity check, counted from the explained
    /// output back; 0 skips the check.
    pub randomise_layers: usize,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            steps: None,
            random_orders: 8,
            seeds: 3,
            k: 5,
            randomise_layers: 1,
        }
    }
}

/// A model input held constant: zeros, or the values of a float32 `.npy` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldInput {
    pub name: String,
    /// The file and its hash; zeros when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
}

impl HeldInput {
    /// The held value, loaded.
    pub(crate) fn load(&self) -> Result<(String, Held)> {
        match &self.file {
            None => Held::parse_arg(&format!("{}=zeros", self.name)),
            Some(f) => Held::parse_arg(&format!("{}={}", self.name, f.path)),
        }
    }
}

impl std::str::FromStr for HeldInput {
    type Err = crate::Error;

    /// Parses `NAME=zeros` or `NAME=FILE.npy`, hashing the file.
    ///
    /// ```
    /// use explain_core::attribution::recipe::HeldInput;
    /// use std::str::FromStr;
    /// let h = HeldInput::from_str("state=zeros").unwrap();
    /// assert_eq!((h.name.as_str(), h.file), ("state", None));
    /// assert!(HeldInput::from_str("state").is_err());
    /// ```
    fn from_str(arg: &str) -> Result<HeldInput> {
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
}

crate::vocabulary!(Method, |s| format!(
    "unknown method '{s}': expected exact, kernel, leverage or permutation (or use `explain lime`)"
), {
    Exact => "exact",
    Kernel => "kernel",
    Leverage => "leverage",
    Permutation => "permutation",
    Lime => "lime",
});

impl Method {
    /// The SHAP estimators (`explain shap --method`).
    pub const SHAP: [Method; 4] = [
        Method::Exact,
        Method::Kernel,
        Method::Leverage,
        Method::Permutation,
    ];
}

crate::vocabulary!(Link, |s| format!("unknown link '{s}': expected identity or logit"), {
    Identity => "identity",
    Logit => "logit",
});

crate::vocabulary!(Selection, |s| format!(
    "unknown feature selection '{s}': expected auto, forward or highest"
), {
    Auto => "auto",
    Forward => "forward",
    Highest => "highest",
});

/// Every default of a run, once: the command line (clap), the config (serde) and the library's
/// `Default`s use these.
pub mod defaults {
    /// Model rows per inference call.
    pub const BATCH_SIZE: usize = 256;
    /// Extra seeds of the seed-stability figure (`--quality-seeds`).
    pub const QUALITY_SEEDS: usize = 3;
    /// Decide positive when the positive class's output is at least this.
    pub const THRESHOLD: f64 = 0.5;
    /// Slices (and required locales) with fewer items get no verdict.
    pub const MIN_N: usize = 30;
    /// Bootstrap replicates of the disparity intervals.
    pub const BOOTSTRAP: usize = 1000;
    /// Significance level of the Holm-corrected tests.
    pub const ALPHA: f64 = 0.05;
    /// Items explained per slice for the explanation profiles.
    pub const PROFILE_ITEMS: usize = 8;
    /// Flag a slice whose profile is further than this from the overall one (1 − Spearman).
    pub const PROFILE_THRESHOLD: f64 = 0.5;
    /// The estimator of the explanation profiles.
    pub const PROFILE_METHOD: crate::artifact::spec::Method = crate::artifact::spec::Method::Kernel;
    /// Coalitions per explained item of the profiles.
    pub const PROFILE_SAMPLES: usize = 512;
}
