//! Loading an ONNX model and running it on batches of rows.
//!
//! [`inspect`] reads what a model file declares (inputs, outputs, opset, producer, SHA-256)
//! straight from its protobuf. [`Model`] wraps a [`Backend`] (tract by default) and runs the
//! *explained input* on batches of any size: a symbolic batch axis is bound per batch size and the
//! optimised plan for that size is cached; a model whose batch axis is fixed runs in batches of
//! exactly that size (the last one padded). Other inputs of a multi-input model are held
//! constant ([`ModelOptions::held`]), and one output is selected.
//!
//! The backend is chosen by [`ModelOptions::backend`]: tract (pure Rust, always built in) or,
//! in a build with the cargo feature `ort`, ONNX Runtime loaded at run time
//! ([`BackendChoice::Ort`]).

use crate::numerics::{self, Platform};
use crate::provenance::{TRACT_VERSION, sha256_hex};
use crate::{Error, Result, bad_input};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tract_onnx::pb;
use tract_onnx::prelude::tract_ndarray::ArrayD;
use tract_onnx::prelude::*;

/// One dimension of a declared tensor shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Dim {
    /// A fixed size.
    Fixed(u64),
    /// A named symbolic size (`dim_param`), or `"?"` when the file leaves it unnamed.
    Symbolic(String),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbolic(s) => write!(f, "{s}"),
        }
    }
}

/// Name, declared shape and element type of a model input or output.
#[derive(Debug, Clone, Serialize)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<Dim>,
    pub dtype: String,
}

impl TensorInfo {
    /// The shape as people write it: `[N, 3, 224, 224]`.
    pub fn shape_string(&self) -> String {
        shape_string(&self.shape)
    }
}

/// Formats a shape as `[a, b, c]`.
pub fn shape_string<T: std::fmt::Display>(dims: &[T]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// An operator set the model imports.
#[derive(Debug, Clone, Serialize)]
pub struct Opset {
    pub domain: String,
    pub version: i64,
}

/// What a model file declares, as printed by `explain inspect`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub ir_version: i64,
    /// The default-domain (`ai.onnx`) opset version, 0 if none is imported.
    pub opset: i64,
    pub opsets: Vec<Opset>,
    pub producer: String,
    pub producer_version: String,
    pub inputs: Vec<TensorInfo>,
    pub outputs: Vec<TensorInfo>,
    /// Files beside the model that hold its weights (ONNX external data), relative to the
    /// model's directory, with their SHA-256: part of the model as much as the file itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_data: Vec<ExternalData>,
}

/// A file of a model's weights (ONNX external data).
#[derive(Debug, Clone, Serialize)]
pub struct ExternalData {
    /// As the model names it: relative to the model's directory.
    pub location: String,
    pub sha256: String,
}

impl ModelInfo {
    /// The external data files, as paths.
    pub fn external_paths(&self) -> Vec<PathBuf> {
        let dir = Path::new(&self.path).parent().unwrap_or(Path::new(""));
        self.external_data
            .iter()
            .map(|e| dir.join(&e.location))
            .collect()
    }
}

/// The external data files a model's initializers name, checked to lie inside the model's
/// directory and to exist, with their hashes.
fn external_data(graph: &pb::GraphProto, path: &Path) -> Result<Vec<ExternalData>> {
    use std::path::Component;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut locations = std::collections::BTreeSet::new();
    for t in &graph.initializer {
        if let Some(l) = t.external_data.iter().find(|e| e.key == "location") {
            locations.insert(l.value.clone());
        }
    }
    locations
        .into_iter()
        .map(|location| {
            let rel = Path::new(&location);
            if !rel.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
                bad_input!(
                    "model file {} keeps weights in '{location}', which is not a path inside the model's directory",
                    path.display()
                );
            }
            let file = dir.join(rel);
            if !file.is_file() {
                bad_input!(
                    "model file {} keeps its weights in {}, which does not exist (copy it beside the model)",
                    path.display(),
                    file.display()
                );
            }
            Ok(ExternalData {
                sha256: crate::provenance::sha256_file(&file)?,
                location,
            })
        })
        .collect()
}

/// Reads a model file's declarations without building it.
///
/// Fails with [`Error::Input`] (naming the file) when the file is missing or is not ONNX.
pub fn inspect(path: &Path) -> Result<ModelInfo> {
    Ok(read_proto(path)?.1)
}

fn read_proto(path: &Path) -> Result<(pb::ModelProto, ModelInfo)> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bad_input!("model file {} does not exist", path.display())
        }
        Err(e) => bad_input!("cannot read model file {}: {e}", path.display()),
    };
    let not_onnx = |why: String| {
        Error::Input(format!(
            "model file {} is not a valid ONNX model: {why}",
            path.display()
        ))
    };
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .map_err(|e| not_onnx(format!("{e:#}")))?;
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| not_onnx("it has no graph".into()))?;
    if graph.node.is_empty() || graph.output.is_empty() {
        return Err(not_onnx("its graph has no nodes or no outputs".into()));
    }
    let initializers: std::collections::BTreeSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(v.name.as_str()))
        .map(tensor_info)
        .collect();
    let outputs = graph.output.iter().map(tensor_info).collect();
    let opsets: Vec<Opset> = proto
        .opset_import
        .iter()
        .map(|o| Opset {
            domain: o.domain.clone(),
            version: o.version,
        })
        .collect();
    let opset = opsets
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .unwrap_or(0);
    let info = ModelInfo {
        path: path.display().to_string(),
        sha256: sha256_hex(&bytes),
        size_bytes: bytes.len() as u64,
        ir_version: proto.ir_version,
        opset,
        opsets,
        producer: proto.producer_name.clone(),
        producer_version: proto.producer_version.clone(),
        inputs,
        outputs,
        external_data: external_data(graph, path)?,
    };
    Ok((proto, info))
}

fn tensor_info(v: &pb::ValueInfoProto) -> TensorInfo {
    use pb::tensor_shape_proto::dimension::Value;
    let tensor = v.r#type.as_ref().and_then(|t| match &t.value {
        Some(pb::type_proto::Value::TensorType(t)) => Some(t),
        _ => None,
    });
    let shape = tensor
        .and_then(|t| t.shape.as_ref())
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(Value::DimValue(n)) if *n >= 0 => Dim::Fixed(*n as u64),
                    Some(Value::DimParam(p)) if !p.is_empty() => Dim::Symbolic(p.clone()),
                    _ => Dim::Symbolic("?".into()),
                })
                .collect()
        })
        .unwrap_or_default();
    let dtype = tensor
        .and_then(|t| pb::tensor_proto::DataType::try_from(t.elem_type).ok())
        .map(|d| format!("{d:?}").to_lowercase())
        .unwrap_or_else(|| "unknown".into());
    let dtype = match dtype.as_str() {
        "float" => "float32".to_string(),
        "double" => "float64".to_string(),
        _ => dtype,
    };
    TensorInfo {
        name: v.name.clone(),
        shape,
        dtype,
    }
}

/// How the explained input's batch axis is declared.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    /// Any size: bound per call.
    Symbolic(String),
    /// Exactly this many rows per call.
    Fixed(usize),
}

#[cfg(feature = "ort")]
mod ort_backend;

/// The ONNX Runtime release the `ort` backend is built for (ort 2.0.0-rc.15 with its
/// `api-31`), as installed by `scripts/install-onnxruntime.sh`.
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";

/// The minor version of [`ONNXRUNTIME_VERSION`]: the ONNX Runtime API version the `ort`
/// backend uses.
const ONNXRUNTIME_MINOR: u32 = 31;

/// What to do when no usable ONNX Runtime library is found.
const INSTALL_HINT: &str = "run scripts/install-onnxruntime.sh (it installs onnxruntime 1.31.1 \
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
    /// `tract` or `ort` (with the ONNX Runtime library, if given). Whether the backend is
    /// built in is checked by [`BackendChoice::check_available`] (and by [`Model::load`]).
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

const NO_ORT: &str = "this explain was built without ONNX Runtime support: rebuild with \
     `--features ort` (e.g. cargo build --release -p explain-cli --features ort), or use --backend tract";

/// Which input to explain, which output to read, and the constants for the other inputs.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    /// The explained input by name; the first input when `None`.
    pub input: Option<String>,
    /// The output to read by name; the first output when `None`.
    pub output: Option<String>,
    /// Constant values for the model's other inputs, by name (held fixed for every row).
    pub held: Vec<(String, Held)>,
    /// Reduce each output row to one value (a detector's heatmap to a score).
    pub reduce: Option<Reduce>,
    /// Sizes for axes of the explained input that the model leaves symbolic, as (axis, size)
    /// with axis 0 the batch axis (e.g. an image's H and W from `--image-size`).
    pub axis_sizes: Vec<(usize, usize)>,
    /// The inference engine (tract unless asked otherwise).
    pub backend: BackendChoice,
    /// How tract chooses kernels (process-wide: see [`numerics::set_mode`]).
    pub numerics: numerics::Mode,
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
        let file = crate::data::open_npy(path, &format!("--hold {name}:"))?;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduce {
    Max,
    Mean,
}

impl Reduce {
    pub fn parse(s: &str) -> Result<Reduce> {
        match s {
            "max" => Ok(Reduce::Max),
            "mean" => Ok(Reduce::Mean),
            _ => bad_input!("unknown reduction '{s}': expected max or mean"),
        }
    }
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
    /// [`crate::numerics`]).
    fn numerics(&self) -> Platform;
    /// Runs `rows` rows (`data.len() == rows * row_len`) and returns the selected output,
    /// flattened (`rows * output_row_len` values).
    fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<f32>>;
}

/// A loaded model: what it declares, the explained input's geometry, and a backend to run it.
pub struct Model {
    pub info: ModelInfo,
    /// The explained input.
    pub input: TensorInfo,
    /// The selected output.
    pub output: TensorInfo,
    /// Shape of one row of the explained input (the declared shape without its batch axis).
    pub row_shape: Vec<usize>,
    pub batch: Batch,
    /// Reduction applied to each output row, if any.
    pub reduce: Option<Reduce>,
    backend: Box<dyn Backend>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("path", &self.info.path)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads an ONNX model with the backend [`ModelOptions::backend`] asks for (tract by
    /// default).
    ///
    /// ```no_run
    /// use explain_core::model::{Model, ModelOptions};
    /// let model = Model::load("mlp.onnx".as_ref(), &ModelOptions::default()).unwrap();
    /// let out = model.run(2, &vec![0.0; 2 * model.row_len()]).unwrap();
    /// assert_eq!(out.len() % 2, 0);
    /// ```
    pub fn load(path: &Path, options: &ModelOptions) -> Result<Model> {
        let (proto, info) = read_proto(path)?;
        let input = pick(&info.inputs, options.input.as_deref(), "input", path)?;
        let output_ix = match &options.output {
            None => 0,
            Some(name) => info
                .outputs
                .iter()
                .position(|o| &o.name == name)
                .ok_or_else(|| {
                    Error::Input(format!(
                        "model {} has no output named '{name}'; its outputs are: {}",
                        path.display(),
                        names(&info.outputs)
                    ))
                })?,
        };
        let output = info.outputs[output_ix].clone();
        if input.dtype != "float32" {
            bad_input!(
                "input '{}' of model {} has element type {}; explain perturbs float32 inputs only",
                input.name,
                path.display(),
                input.dtype
            );
        }
        let (batch, row_shape) = geometry(&input, path, &options.axis_sizes)?;
        crate::limits::check_memory(
            crate::limits::product(&row_shape.iter().map(|&d| d as u64).collect::<Vec<_>>())
                .and_then(|n| n.checked_mul(4)),
            &format!(
                "one row of input '{}' of model {} ({})",
                input.name,
                path.display(),
                shape_string(&row_shape)
            ),
            "use a model with smaller inputs (or bind its open axes smaller with --image-size)",
        )?;
        for (name, _) in &options.held {
            if !info.inputs.iter().any(|i| &i.name == name) || name == &input.name {
                bad_input!(
                    "cannot hold '{name}' constant: model {} has no other input of that name; its inputs are: {}",
                    path.display(),
                    names(&info.inputs)
                );
            }
        }
        for other in info.inputs.iter().filter(|i| i.name != input.name) {
            if !options.held.iter().any(|(n, _)| n == &other.name) {
                bad_input!(
                    "model {} has a second input '{}' {}: give it a constant value to hold while '{}' is explained",
                    path.display(),
                    other.name,
                    other.shape_string(),
                    input.name
                );
            }
        }
        let held = resolve_held(&info, &options.held, path)?;
        if options.numerics == numerics::Mode::Portable && options.backend != BackendChoice::Tract {
            bad_input!(
                "portable numerics apply to the tract backend; ONNX Runtime chooses its kernels \
                 itself: drop --portable-numerics or use --backend tract"
            );
        }
        // Before tract resolves its kernels.
        numerics::set_mode(options.numerics)?;
        let backend: Box<dyn Backend> = match &options.backend {
            BackendChoice::Tract => Box::new(
                TractBackend::new(
                    &proto,
                    path.parent().unwrap_or(Path::new("")),
                    &input,
                    &batch,
                    &row_shape,
                    output_ix,
                    &held,
                )
                .map_err(|e| {
                    Error::Input(format!(
                        "cannot load model {} with tract: {e:#}",
                        path.display()
                    ))
                })?,
            ),
            BackendChoice::Ort { lib } => {
                load_ort(path, lib.as_deref(), &input, &row_shape, &output, held)?
            }
        };
        let backend = match &options.wrap {
            Some(w) => (w.0)(backend),
            None => backend,
        };
        Ok(Model {
            info,
            input,
            output,
            row_shape,
            batch,
            reduce: options.reduce,
            backend,
        })
    }

    /// Number of values in one row of the explained input.
    pub fn row_len(&self) -> usize {
        self.row_shape.iter().product()
    }

    /// The backend's name and version, as recorded in artifacts.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    pub fn backend_version(&self) -> String {
        self.backend.version()
    }

    /// The numeric platform the backend ran on: CPU features, mode and kernels.
    pub fn numerics(&self) -> Platform {
        self.backend.numerics()
    }

    /// Runs `rows` rows of the explained input and returns the selected output flattened
    /// (`rows * k` values for some `k`). With a fixed batch axis the rows are run in groups of
    /// that size, the last group padded by repeating its last row.
    pub fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<f32>> {
        debug_assert_eq!(data.len(), rows * self.row_len());
        let out = match self.batch {
            Batch::Symbolic(_) => self.backend.run(rows, data)?,
            Batch::Fixed(f) => {
                let len = self.row_len();
                let mut out = Vec::new();
                let mut padded = Vec::new();
                for start in (0..rows).step_by(f) {
                    let n = f.min(rows - start);
                    let chunk = &data[start * len..(start + n) * len];
                    if n == f {
                        out.extend(self.backend.run(f, chunk)?);
                    } else {
                        padded.clear();
                        padded.extend_from_slice(chunk);
                        for _ in n..f {
                            padded.extend_from_slice(&chunk[(n - 1) * len..]);
                        }
                        let full = self.backend.run(f, &padded)?;
                        out.extend_from_slice(&full[..full.len() / f * n]);
                    }
                }
                out
            }
        };
        if rows > 0 && (out.is_empty() || !out.len().is_multiple_of(rows)) {
            return Err(Error::Model(format!(
                "output '{}' of model {} has {} values for a batch of {rows} rows; explain needs an output with one row per input row",
                self.output.name,
                self.info.path,
                out.len()
            )));
        }
        Ok(match self.reduce {
            None => out,
            Some(reduce) => {
                let k = out.len() / rows.max(1);
                out.chunks_exact(k)
                    .map(|row| match reduce {
                        Reduce::Max => row.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                        Reduce::Mean => {
                            (row.iter().map(|v| *v as f64).sum::<f64>() / k as f64) as f32
                        }
                    })
                    .collect()
            }
        })
    }
}

#[cfg(feature = "ort")]
fn load_ort(
    path: &Path,
    lib: Option<&Path>,
    input: &TensorInfo,
    row_shape: &[usize],
    output: &TensorInfo,
    held: Vec<(String, ArrayD<f32>)>,
) -> Result<Box<dyn Backend>> {
    Ok(Box::new(ort_backend::OrtBackend::new(
        path, lib, input, row_shape, output, held,
    )?))
}

#[cfg(not(feature = "ort"))]
fn load_ort(
    _: &Path,
    _: Option<&Path>,
    _: &TensorInfo,
    _: &[usize],
    _: &TensorInfo,
    _: Vec<(String, ArrayD<f32>)>,
) -> Result<Box<dyn Backend>> {
    Err(Error::Input(NO_ORT.into()))
}

/// Turns `--hold` values into arrays of the shapes the model declares.
fn resolve_held(
    info: &ModelInfo,
    held: &[(String, Held)],
    path: &Path,
) -> Result<Vec<(String, ArrayD<f32>)>> {
    let mut out = Vec::with_capacity(held.len());
    for (name, value) in held {
        let Some(decl) = info.inputs.iter().find(|i| &i.name == name) else {
            continue; // reported by the caller
        };
        let fixed: Option<Vec<usize>> = decl
            .shape
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => Some(*n as usize),
                Dim::Symbolic(_) => None,
            })
            .collect();
        let array = match (value, fixed) {
            (Held::Zeros, Some(shape)) => ArrayD::zeros(shape),
            (Held::Zeros, None) => bad_input!(
                "cannot hold '{name}' at zeros: model {} declares its shape as {}, which is not fixed; give the value as a .npy file",
                path.display(),
                decl.shape_string()
            ),
            (Held::Value(a), Some(shape)) if a.shape() != shape.as_slice() => bad_input!(
                "--hold {name}: the array has shape {}, but model {} declares {}",
                shape_string(a.shape()),
                path.display(),
                decl.shape_string()
            ),
            (Held::Value(a), _) => a.clone(),
        };
        if decl.dtype != "float32" {
            bad_input!(
                "cannot hold '{name}': it has element type {} and explain holds float32 inputs only",
                decl.dtype
            );
        }
        out.push((name.clone(), array));
    }
    Ok(out)
}

fn names(ts: &[TensorInfo]) -> String {
    ts.iter()
        .map(|t| format!("'{}' {}", t.name, t.shape_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pick(ts: &[TensorInfo], name: Option<&str>, what: &str, path: &Path) -> Result<TensorInfo> {
    match name {
        None => ts
            .first()
            .cloned()
            .ok_or_else(|| Error::Input(format!("model {} declares no {what}s", path.display()))),
        Some(n) => ts.iter().find(|t| t.name == n).cloned().ok_or_else(|| {
            Error::Input(format!(
                "model {} has no {what} named '{n}'; its {what}s are: {}",
                path.display(),
                names(ts)
            ))
        }),
    }
}

fn geometry(
    input: &TensorInfo,
    path: &Path,
    axis_sizes: &[(usize, usize)],
) -> Result<(Batch, Vec<usize>)> {
    let Some((first, rest)) = input.shape.split_first() else {
        bad_input!(
            "input '{}' of model {} declares no shape; explain needs [batch, ...] with fixed sizes after the batch axis",
            input.name,
            path.display()
        );
    };
    let batch = match first {
        Dim::Fixed(0) => bad_input!(
            "input '{}' of model {} has a batch axis of size 0",
            input.name,
            path.display()
        ),
        Dim::Fixed(n) => Batch::Fixed(*n as usize),
        Dim::Symbolic(s) if s == "?" => Batch::Symbolic("N".into()),
        Dim::Symbolic(s) => Batch::Symbolic(s.clone()),
    };
    let mut row = Vec::with_capacity(rest.len());
    for (i, d) in rest.iter().enumerate() {
        let axis = i + 1;
        let given = axis_sizes.iter().find(|(a, _)| *a == axis).map(|(_, n)| *n);
        match (d, given) {
            (Dim::Fixed(n), Some(g)) if *n as usize != g => bad_input!(
                "input '{}' of model {} has shape {}: axis {axis} is fixed at {n}, but {g} was asked for (--image-size)",
                input.name,
                path.display(),
                input.shape_string()
            ),
            (Dim::Fixed(n), _) if *n > 0 => row.push(*n as usize),
            (Dim::Symbolic(_), Some(g)) if g > 0 => row.push(g),
            _ => bad_input!(
                "input '{}' of model {} has shape {} with a non-fixed size at axis {axis}; give the size (for images: --image-size WxH)",
                input.name,
                path.display(),
                input.shape_string()
            ),
        }
    }
    Ok((batch, row))
}

type Plan = Arc<TypedRunnableModel>;

/// The pure-Rust tract backend. The decluttered model is kept with a symbolic batch axis;
/// an optimised plan is built once per batch size and cached.
struct TractBackend {
    typed: TypedModel,
    symbol: Option<Symbol>,
    row_shape: Vec<usize>,
    explained: usize,
    /// Constant inputs in model input order (`None` at the explained input's position).
    inputs: Vec<Option<TValue>>,
    plans: Mutex<BTreeMap<usize, Plan>>,
    /// The matrix-product kernels of the plans built so far.
    matmul: Mutex<BTreeSet<String>>,
}

impl TractBackend {
    fn new(
        proto: &pb::ModelProto,
        model_dir: &Path,
        input: &TensorInfo,
        batch: &Batch,
        row_shape: &[usize],
        output_ix: usize,
        held: &[(String, ArrayD<f32>)],
    ) -> TractResult<TractBackend> {
        // The model's directory resolves external data (weights in files beside the model).
        let dir = model_dir.to_string_lossy();
        let parsed = tract_onnx::onnx()
            .with_ignore_output_shapes(true)
            .parse(proto, Some(&dir))?;
        if !parsed.unresolved_inputs.is_empty() {
            return Err(TractError::msg(format!(
                "could not resolve inputs {:?}",
                parsed.unresolved_inputs
            )));
        }
        let mut model = parsed.model;
        let symbol = match batch {
            Batch::Symbolic(name) => Some(model.sym(name)),
            Batch::Fixed(_) => None,
        };
        let mut inputs = Vec::new();
        let mut explained = 0;
        for ix in 0..model.inputs.len() {
            let name = model.node(model.inputs[ix].node).name.clone();
            if name == input.name {
                let first: TDim = match (&symbol, batch) {
                    (Some(s), _) => s.clone().into(),
                    (None, Batch::Fixed(n)) => (*n).into(),
                    (None, Batch::Symbolic(_)) => unreachable!(),
                };
                let dims: Vec<TDim> = std::iter::once(first)
                    .chain(row_shape.iter().map(|d| (*d).into()))
                    .collect();
                model.set_input_fact(ix, f32::fact(dims).into())?;
                explained = ix;
                inputs.push(None);
            } else {
                let (_, value) = held
                    .iter()
                    .find(|(n, _)| n == &name)
                    .ok_or_else(|| TractError::msg(format!("no value held for input '{name}'")))?;
                let tensor: Tensor = value.clone().into_tensor();
                model
                    .set_input_fact(ix, InferenceFact::from(TypedFact::shape_and_dt_of(&tensor)))?;
                inputs.push(Some(tensor.into_tvalue()));
            }
        }
        let outlet = model.outputs[output_ix];
        model.select_output_outlets(&[outlet])?;
        let typed = model.into_typed()?.into_decluttered()?;
        let backend = TractBackend {
            typed,
            symbol,
            row_shape: row_shape.to_vec(),
            explained,
            inputs,
            plans: Mutex::new(BTreeMap::new()),
            matmul: Mutex::new(BTreeSet::new()),
        };
        if let Batch::Fixed(n) = batch {
            backend.plan(*n)?;
        }
        Ok(backend)
    }

    fn plan(&self, rows: usize) -> TractResult<Plan> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = plans.get(&rows) {
            return Ok(p.clone());
        }
        let model = match &self.symbol {
            Some(s) => {
                let subs = std::iter::once((s.clone(), TDim::from(rows))).collect();
                self.typed.set_symbols(&subs)?
            }
            None => self.typed.clone(),
        };
        let optimized = model.into_optimized()?;
        matmul_kernels(
            &optimized,
            &mut self.matmul.lock().unwrap_or_else(|e| e.into_inner()),
        );
        let plan = optimized.into_runnable()?;
        plans.insert(rows, plan.clone());
        Ok(plan)
    }
}

impl Backend for TractBackend {
    fn name(&self) -> &'static str {
        "tract"
    }

    fn version(&self) -> String {
        TRACT_VERSION.into()
    }

    fn numerics(&self) -> Platform {
        Platform::tract(&self.matmul.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<f32>> {
        let fail = |e: TractError| Error::Model(format!("tract failed to run the model: {e:#}"));
        let plan = self.plan(rows).map_err(fail)?;
        let mut shape = Vec::with_capacity(self.row_shape.len() + 1);
        shape.push(rows);
        shape.extend_from_slice(&self.row_shape);
        let x = Tensor::from_shape(&shape, data)
            .map_err(fail)?
            .into_tvalue();
        let mut x = Some(x);
        let inputs: TVec<TValue> = self
            .inputs
            .iter()
            .enumerate()
            .map(|(ix, held)| match held {
                Some(v) => v.clone(),
                None => {
                    debug_assert_eq!(ix, self.explained);
                    x.take().expect("one explained input")
                }
            })
            .collect();
        let outputs = plan.run(inputs).map_err(fail)?;
        let out = outputs[0].cast_to::<f32>().map_err(fail)?;
        let view = out.to_plain_array_view::<f32>().map_err(fail)?;
        Ok(view.iter().copied().collect())
    }
}

/// Adds the names of the matrix-product kernels an optimised model uses (scan bodies
/// included) to `out`.
fn matmul_kernels(model: &TypedModel, out: &mut BTreeSet<String>) {
    use tract_onnx::tract_core::ops::matmul::optimized::OptMatMul;
    use tract_onnx::tract_core::ops::scan::OptScan;
    for node in model.nodes() {
        if let Some(op) = node.op_as::<OptMatMul>() {
            out.extend(op.mmm.iter().map(|k| k.name().to_string()));
        } else if let Some(scan) = node.op_as::<OptScan>() {
            matmul_kernels(scan.plan.model(), out);
        }
    }
}
