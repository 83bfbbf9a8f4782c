//! The [`Backend`] trait every inference engine implements, and the options a model is
//! loaded with: which backend, output, held inputs and reduction.

use crate::model::numerics::Platform;
use crate::{Error, Result, bad_input};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::tract_ndarray::ArrayD;

/// How the explained input's batch axis is declared.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    /// Any size: bound per call.
    Symbolic(String),
    /// Exactly this many rows per call.
    Fixed(usize),
}

/// The ONNX Runtime release the `ort` backend is built for (ort 2.0.0-rc.15 with its
/// `api-31`), as installed by `scripts/install-onnxruntime.sh`.
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";

/// The minor version of [`ONNXRUNTIME_VERSION`]: the ONNX Runtime API version the `ort`
/// backend uses.
pub(crate) const ONNXRUNTIME_MINOR: u32 = 31;

/// What to do when no usable ONNX Runtime library is found.
pub(crate) const INSTALL_HINT: &str = "run scripts/install-onnxruntime.sh (it installs onnxruntime 1.31.1 \
     into .venv-ort and prints the library's path) and pass that path with --ort-lib or set \
     ORT_DYLIB_PATH to it";

/// Checks the version an ONNX Runtime library at `path` reports: the `ort` backend is built
/// and tested for ONNX Runtime 1.31 ([`ONNXRUNTIME_VERSION`]); another release (older, or newer
/// with kernels and numerics of its own) is refused, whatever its patch level.
///
/// ```
/// use explain_core::model::check_onnxruntime_version;
/// let lib = std::path::Path::new("libonnxruntime.so.1.22.0");
/// assert!(check_onnxruntime_version("1.31.1", lib).is_ok());
/// assert!(check_onnxruntime_version("1.31.0", lib).is_ok());
/// let e = check_onnxruntime_version("1.22.0", lib).unwrap_err().to_string();
/// assert!(e.contains("is version 1.22.0") && e.contains("expected 1.31.1"), "{e}");
/// assert!(check_onnxruntime_version("1.32.0", lib).is_err());
/// assert!(check_onnxruntime_version("2.0.0", lib).is_err());
/// ```
pub fn check_onnxruntime_version(found: &str, path: &Path) -> Result<()> {
    let mut parts = found.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next().flatten(), parts.next().flatten());
    if major == Some(1) && minor == Some(ONNXRUNTIME_MINOR) {
        return Ok(());
    }
    bad_input!(
        "the ONNX Runtime library {} is version {found}, but the ort backend needs ONNX Runtime \
         1.{ONNXRUNTIME_MINOR} (expected {ONNXRUNTIME_VERSION}; explain uses ort 2.0.0-rc.15, \
         which speaks API version {ONNXRUNTIME_MINOR}): {INSTALL_HINT}",
        path.display()
    )
}

/// Which inference engine runs the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// tract: pure Rust, always built in.
    #[default]
    Tract,
    /// ONNX Runtime (cargo feature `ort`), loaded at run time from `lib`, else from the
    /// library named by the `ORT_DYLIB_PATH` environment variable.
    Ort { lib: Option<PathBuf> },
}

impl BackendChoice {
    /// The backends by name, as the command line and the config spell them.
    pub const NAMES: [&'static str; 2] = ["tract", "ort"];

    /// `tract` or `ort` (with the ONNX Runtime library, if given). Whether the backend is
    /// built in is checked by [`BackendChoice::check_available`] (and by [`Model::load`](crate::model::Model::load)).
    ///
    /// ```
    /// use explain_core::model::BackendChoice;
    /// assert_eq!(BackendChoice::parse("tract", None).unwrap(), BackendChoice::Tract);
    /// assert_eq!(BackendChoice::parse("ort", None).unwrap(), BackendChoice::Ort { lib: None });
    /// assert!(BackendChoice::parse("tract", Some("libonnxruntime.so".into())).is_err());
    /// assert!(BackendChoice::parse("onnx", None).is_err());
    /// ```
    pub fn parse(name: &str, lib: Option<PathBuf>) -> Result<BackendChoice> {
        match (name, lib) {
            ("tract", None) => Ok(BackendChoice::Tract),
            ("tract", Some(lib)) => bad_input!(
                "an ONNX Runtime library ({}) applies to the ort backend only; use --backend ort",
                lib.display()
            ),
            ("ort", lib) => Ok(BackendChoice::Ort { lib }),
            (other, _) => bad_input!("unknown backend '{other}': expected tract or ort"),
        }
    }

    /// The name recorded in artifacts: `tract` or `ort`.
    pub fn name(&self) -> &'static str {
        match self {
            BackendChoice::Tract => "tract",
            BackendChoice::Ort { .. } => "ort",
        }
    }

    /// Fails with [`Error::Input`] when this build lacks the backend (ort without the cargo
    /// feature `ort`).
    pub fn check_available(&self) -> Result<()> {
        match self {
            BackendChoice::Ort { .. } if !cfg!(feature = "ort") => Err(Error::Input(NO_ORT.into())),
            _ => Ok(()),
        }
    }
}

pub(crate) const NO_ORT: &str = "this explain was built without ONNX Runtime support: rebuild with \
     `--features ort` (e.g. cargo build --release -p explain-cli --features ort), or use --backend tract";

/// Which input to explain, which output to read, and the constants for the other inputs.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    /// The explained input by name; the first input when `None`.
    pub input: Option<String>,
    /// The output to read by name; the first output when `None`.
    pub output: Option<String>,
    /// Decode a detector's outputs into box proposals (the outputs it reads are the
    /// decoder's; see [`crate::model::detect`]).
    pub detector: Option<crate::model::detect::Detector>,
    /// Constant values for the model's other inputs, by name (held fixed for every row).
    pub held: Vec<(String, Held)>,
    /// Reduce each output row to one value (a detector's heatmap to a score).
    pub reduce: Option<Reduce>,
    /// Sizes for axes of the explained input that the model leaves symbolic, as (axis, size)
    /// with axis 0 the batch axis (e.g. an image's H and W from `--image-size`).
    pub axis_sizes: Vec<(usize, usize)>,
    /// The inference engine (tract unless asked otherwise).
    pub backend: BackendChoice,
    /// How tract chooses kernels (process-wide: see [`crate::model::numerics::set_mode`]).
    pub numerics: crate::model::numerics::Mode,
    /// Wraps the backend once it is loaded (e.g. to perturb its outputs in tests).
    pub wrap: Option<BackendWrap>,
}

/// A function that wraps a loaded backend in another ([`ModelOptions::wrap`]): tests use it
/// to stand for another machine, with outputs that differ in their last bits.
#[derive(Clone)]
pub struct BackendWrap(pub Arc<WrapFn>);

/// What a [`BackendWrap`] holds.
pub type WrapFn = dyn Fn(Box<dyn Backend>) -> Box<dyn Backend> + Send + Sync;

impl std::fmt::Debug for BackendWrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackendWrap")
    }
}

/// A constant for an input that is not explained (e.g. a recurrent state).
#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    /// Zeros of the input's declared shape (which must be fixed).
    Zeros,
    /// These values (float32), shaped as the model declares.
    Value(ArrayD<f32>),
}

impl Held {
    /// Parses `NAME=zeros` or `NAME=FILE.npy` (a float32 array).
    pub fn parse_arg(arg: &str) -> Result<(String, Held)> {
        let Some((name, value)) = arg.split_once('=') else {
            bad_input!("--hold '{arg}': expected NAME=zeros or NAME=FILE.npy");
        };
        if value == "zeros" {
            return Ok((name.to_string(), Held::Zeros));
        }
        let path = Path::new(value);
        let file = crate::util::limits::open_npy(path, &format!("--hold {name}:"))?;
        let array = ndarray_npy::ReadNpyExt::read_npy(file).map_err(|e| {
            Error::Input(format!(
                "--hold {name}: {} is not a float32 .npy array: {e}",
                path.display()
            ))
        })?;
        Ok((name.to_string(), Held::Value(array)))
    }
}

/// How `--reduce` turns an output row into one value.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Reduce {
    Max,
    Mean,
}

/// An inference engine that can run the explained input on a batch of rows.
///
/// Implementations must be deterministic: the same rows in the same batch give the same bits.
pub trait Backend: Send + Sync {
    /// Short name recorded in artifacts (`tract`, `ort`).
    fn name(&self) -> &'static str;
    /// The backend's version, recorded in artifacts.
    fn version(&self) -> String;
    /// What decides the bits of its outputs here (recorded in artifacts; see
    /// [`crate::model::numerics`]).
    fn numerics(&self) -> Platform;
    /// Runs `rows` rows (`data.len() == rows * row_len`) and returns the selected outputs, in
    /// the order they were selected, each with its shape (batch axis first).
    fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<Output>>;
}

/// One output of a model call: its shape (batch axis first) and its values, flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

crate::vocabulary!(Reduce, |s| format!("unknown reduction '{s}': expected max or mean"), {
    Max => "max",
    Mean => "mean",
});
