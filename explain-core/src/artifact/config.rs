//! The report configuration (`explain.toml`): one file that says which model to run and how,
//! what to explain, which validation data to slice, and what the system is for. Paths are
//! relative to the config file. Unknown keys, missing required keys and unusable values are
//! errors that name the key and its line.
//!
//! ```toml
//! title = "Surface-defect classifier: explanation and validation report"
//! seed = 0
//!
//! [model]
//! path = "defect_cnn.onnx"
//! output = "probabilities"        # optional: the output to read (default: the first)
//!
//! [image]                         # or [audio] sample_rate = 16000; omit both for tensor rows
//! channels = "gray"
//!
//! [explanations]
//! methods = ["kernel", "lime"]    # exact | kernel | leverage | permutation | lime; the first gets plots
//! target = 1
//! features = "grid:4x4"
//! baseline = "blur:4"
//! items = ["samples/defect-00.png"]
//! per_slice = 1                   # and k items from every validation slice
//!
//! [validation]
//! manifest = "manifest.csv"
//! slice_by = ["surface", "lighting"]
//! intersect = [["site", "lighting"]]
//!
//! [intended_use]
//! purpose = "Flag surface defects on inspection lines for a human inspector."
//! ```

use crate::artifact::spec::defaults;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Shown at the top of the report.
    pub title: String,
    /// Seeds every random choice (sampling, item selection, bootstrap).
    #[serde(default)]
    pub seed: u64,
    pub model: ModelSection,
    #[serde(default)]
    pub image: Option<ImageSection>,
    #[serde(default)]
    pub audio: Option<AudioSection>,
    pub explanations: ExplanationsSection,
    pub validation: ValidationSection,
    pub intended_use: IntendedUse,
    #[serde(default)]
    pub data: DataSection,
    /// The datasheet fields inline (the format of [`crate::validation::inventory::Datasheet`]), instead of
    /// `[data] datasheet = FILE`.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub datasheet: Option<toml::Table>,
    /// Target markets → required locales (replaces the defaults).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub markets: Option<toml::Table>,
}

/// `[data]`: the data inventory besides the validation manifest.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Other manifests, as `ROLE=PATH` (train, test, background) or `PATH` (validation).
    #[serde(default)]
    pub manifests: Vec<String>,
    /// A datasheet file (see [`crate::validation::inventory`]).
    #[serde(default)]
    pub datasheet: Option<String>,
}

/// `[model]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub path: String,
    /// `tract` (default) or `ort` (ONNX Runtime, in a build with the cargo feature `ort`).
    #[serde(default = "default_backend")]
    pub backend: String,
    /// For `ort`: the ONNX Runtime library (relative to the config); `ORT_DYLIB_PATH` when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ort_lib: Option<String>,
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub reduce: Option<String>,
    /// A detector's output layout (`centerface`, `boxes`, `boxes:normalized`, `yolo`,
    /// `yolo:transposed`): explanations are then of boxes, validation of detections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<String>,
    /// The detector's score threshold for a detection (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_threshold: Option<f32>,
    /// The detector's NMS IoU (default 0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nms_iou: Option<f32>,
    /// Other inputs held constant: `NAME=zeros` or `NAME=FILE.npy`.
    #[serde(default)]
    pub hold: Vec<String>,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// `native` (default) or `portable`: how tract chooses kernels (see [`crate::model::numerics`]).
    #[serde(default = "default_numerics")]
    pub numerics: String,
}

fn default_backend() -> String {
    crate::model::BackendChoice::Tract.name().into()
}

fn default_numerics() -> String {
    crate::model::numerics::Mode::Native.name().into()
}

fn default_batch() -> usize {
    defaults::BATCH_SIZE
}

/// A number or a string such as `"1/255"`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Scale {
    Number(f64),
    Text(String),
}

/// `[image]`: preprocessing as for the CLI's image flags.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSection {
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default = "default_layout")]
    pub layout: String,
    #[serde(default = "default_channels")]
    pub channels: String,
    #[serde(default = "default_scale")]
    pub scale: Scale,
    #[serde(default = "zero_list")]
    pub mean: Vec<f32>,
    #[serde(default = "one_list")]
    pub std: Vec<f32>,
}

fn default_layout() -> String {
    crate::input::image::Layout::Nchw.name().into()
}
fn default_channels() -> String {
    crate::input::image::ChannelOrder::Rgb.name().into()
}
fn default_scale() -> Scale {
    Scale::Text("1/255".into())
}
fn zero_list() -> Vec<f32> {
    vec![0.0]
}
fn one_list() -> Vec<f32> {
    vec![1.0]
}

/// `[audio]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioSection {
    pub sample_rate: u32,
    #[serde(default)]
    pub channel: Option<usize>,
    #[serde(default)]
    pub resample: bool,
    #[serde(default)]
    pub crossfade_ms: f32,
}

/// `[explanations]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplanationsSection {
    /// Estimators, each written to its own attribution file; the first is plotted per item.
    pub methods: Vec<String>,
    /// Coalition budget (default as for `explain shap` / `lime`).
    #[serde(default)]
    pub samples: Option<usize>,
    #[serde(default = "auto")]
    pub features: String,
    #[serde(default)]
    pub baseline: Option<String>,
    #[serde(default)]
    pub background: Vec<String>,
    /// An output index, `top` or `auto`.
    #[serde(default = "auto_target")]
    #[schemars(with = "serde_json::Value")]
    pub target: toml::Value,
    #[serde(default = "identity")]
    pub link: String,
    /// Listed items to explain: paths, or `{ path = "…", target = "…" }` tables that give an
    /// item its own target (e.g. a detector's box: `"box:x0,y0,x1,y1"`, or a detection index).
    #[serde(default)]
    pub items: Vec<Item>,
    /// And this many items (chosen at random, seeded) from every validation slice.
    #[serde(default)]
    pub per_slice: usize,
    /// Quality figures (deletion/insertion curves, seed stability, model randomisation) for
    /// the listed items, with the first method.
    #[serde(default = "yes")]
    pub quality: bool,
    /// Extra seeds for the seed-stability figure.
    #[serde(default = "two")]
    pub quality_seeds: usize,
}

/// One listed item of `[explanations]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Item {
    /// A path (relative to the config).
    Path(String),
    /// A path and the target to explain in it.
    Target {
        path: String,
        #[schemars(with = "serde_json::Value")]
        target: toml::Value,
    },
}

impl Item {
    /// The item's path, as written.
    pub fn path(&self) -> &str {
        match self {
            Item::Path(p) | Item::Target { path: p, .. } => p,
        }
    }
}

fn yes() -> bool {
    true
}
fn two() -> usize {
    2
}

fn auto() -> String {
    "auto".into()
}
fn auto_target() -> toml::Value {
    toml::Value::String("auto".into())
}
fn identity() -> String {
    crate::artifact::spec::Link::Identity.name().into()
}

/// `[validation]`: as for `explain slices`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidationSection {
    pub manifest: String,
    pub slice_by: Vec<String>,
    #[serde(default)]
    pub intersect: Vec<Vec<String>>,
    #[serde(default)]
    pub positive: Option<usize>,
    #[serde(default = "half")]
    pub threshold: f64,
    #[serde(default = "thirty")]
    pub min_n: usize,
    #[serde(default = "thousand")]
    pub bootstrap: usize,
    /// `METRIC=ratio:T` or `METRIC=difference:T`.
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub holm: bool,
    #[serde(default = "five_percent")]
    pub alpha: f64,
    /// Explanation profiles: items per slice (0: none).
    #[serde(default = "eight")]
    pub profile_items: usize,
    #[serde(default = "half")]
    pub profile_threshold: f64,
    #[serde(default = "kernel")]
    pub profile_method: String,
    #[serde(default = "profile_samples")]
    pub profile_samples: usize,
    /// Detection (with `[model] detector`): the manifest column of ground-truth boxes
    /// (default `boxes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boxes: Option<String>,
    /// Verification: the manifest column naming each pair's second image (default `pair`;
    /// a manifest with it is validated as pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    /// Verification: the column saying whether a pair is genuine (default `same`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same: Option<String>,
}

fn half() -> f64 {
    defaults::THRESHOLD
}
fn thirty() -> usize {
    defaults::MIN_N
}
fn thousand() -> usize {
    defaults::BOOTSTRAP
}
fn five_percent() -> f64 {
    defaults::ALPHA
}
fn eight() -> usize {
    defaults::PROFILE_ITEMS
}
fn kernel() -> String {
    defaults::PROFILE_METHOD.name().into()
}
fn profile_samples() -> usize {
    defaults::PROFILE_SAMPLES
}

/// `[intended_use]`: what the system is for, in the provider's words.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntendedUse {
    pub purpose: String,
    #[serde(default)]
    pub deployers: Vec<String>,
    #[serde(default)]
    pub affected_persons: Vec<String>,
    #[serde(default)]
    pub out_of_scope: Vec<String>,
    #[serde(default)]
    pub operating_conditions: Vec<String>,
    #[serde(default)]
    pub human_oversight: Option<String>,
}

/// A configuration read from a file, with the file's directory (paths are relative to it).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub sha256: String,
    pub text: String,
    pub config: Config,
}

impl Loaded {
    /// Reads and parses a config file.
    pub fn read(path: &Path) -> Result<Loaded> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Input(format!("cannot read config {}: {e}", path.display())))?;
        let config = parse(&text, path)?;
        Ok(Loaded {
            path: path.to_path_buf(),
            sha256: crate::util::provenance::sha256_hex(text.as_bytes()),
            text,
            config,
        })
    }

    /// A path from the config, resolved against the config's directory.
    pub fn resolve(&self, rel: &str) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        dir.join(rel)
    }

    /// An error about `key` in `[section]` (empty for top-level keys), naming the line where
    /// the key is set when it can be found.
    pub fn error(&self, section: &str, key: &str, message: impl std::fmt::Display) -> Error {
        let name = if section.is_empty() {
            key.to_string()
        } else {
            format!("[{section}] {key}")
        };
        Error::from(crate::error::Located {
            what: format!("config {}", self.path.display()),
            line: crate::util::toml::line_of(&self.text, section, key),
            key: Some(name),
            message: message.to_string(),
            source: None,
        })
    }
}

/// Parses config text; `path` is for messages.
pub fn parse(text: &str, path: &Path) -> Result<Config> {
    crate::util::toml::parse(text, &format!("config {}", path.display()), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"title = "t"
[model]
path = "m.onnx"
[explanations]
methods = ["kernel"]
[validation]
manifest = "m.csv"
slice_by = ["site"]
[intended_use]
purpose = "p"
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(MINIMAL, Path::new("c.toml")).unwrap();
        assert_eq!(c.model.backend, "tract");
        assert_eq!(c.validation.min_n, 30);
        assert_eq!(c.explanations.features, "auto");
        assert_eq!(c.validation.profile_samples, 512);
    }

    #[test]
    fn unknown_and_missing_keys_name_the_key_and_line() {
        let text = MINIMAL.replace("slice_by", "slice_bye");
        let e = parse(&text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(
            e.contains("c.toml, line 8") && e.contains("slice_bye"),
            "{e}"
        );
        let text = MINIMAL.replace("path = \"m.onnx\"\n", "");
        let e = parse(&text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(
            e.contains("missing field `path`") && e.contains("line 2"),
            "{e}"
        );
        // A missing section: named, and not blamed on the key set on the reported line.
        let text = MINIMAL.replace("[intended_use]\npurpose = \"p\"\n", "");
        let e = parse(&text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(
            e.contains("missing field `intended_use`") && !e.contains("title:"),
            "{e}"
        );
        let text = MINIMAL.replace("methods = [\"kernel\"]", "methods = \"kernel\"");
        let e = parse(&text, Path::new("c.toml")).unwrap_err().to_string();
        assert!(e.contains("line 5"), "{e}");
    }
}
