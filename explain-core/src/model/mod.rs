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

use crate::util::limits::shape_string;
use crate::{Error, Result, bad_input};
use numerics::Platform;
use std::path::Path;
use tract_onnx::prelude::tract_ndarray::ArrayD;

pub mod backend;
pub mod detect;
pub mod info;
pub mod numerics;
#[cfg(feature = "ort")]
mod ort;
mod tract;
pub mod weights;

#[cfg(not(feature = "ort"))]
use backend::NO_ORT;
pub use backend::{
    Backend, BackendChoice, BackendWrap, Batch, Held, ModelOptions, ONNXRUNTIME_VERSION, Output,
    Reduce, WrapFn, check_onnxruntime_version,
};
pub use info::{Dim, ExternalData, ModelInfo, Opset, TensorInfo, inspect};
use info::{read_model_file, read_proto};
use tract::TractBackend;

/// A loaded model: what it declares, the explained input's geometry, and a backend to run it.
pub struct Model {
    pub info: ModelInfo,
    /// The explained input.
    pub input: TensorInfo,
    /// The selected output (a detector's first).
    pub output: TensorInfo,
    /// Every output read: the selected one, or the ones a detector's decoder reads.
    pub outputs: Vec<TensorInfo>,
    /// Decodes the outputs into box proposals ([`detect`]); `run` then returns proposals.
    pub detector: Option<detect::Detector>,
    /// Values per proposal of a detector (`5 + C`), known after its first run (0 before).
    proposal_width: std::sync::atomic::AtomicUsize,
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
        Model::load_source(path, None, options)
    }

    /// Loads a model from its bytes, as if they were the file `path` (named in messages, and
    /// the directory its external data is read from): a rewritten copy of a model (the
    /// randomisation check's) loads without a temporary file.
    ///
    /// # Errors
    ///
    /// As [`Model::load`].
    pub fn from_bytes(bytes: &[u8], path: &Path, options: &ModelOptions) -> Result<Model> {
        Model::load_source(path, Some(bytes), options)
    }

    fn load_source(path: &Path, given: Option<&[u8]>, options: &ModelOptions) -> Result<Model> {
        let read;
        let bytes = match given {
            Some(b) => b,
            None => {
                read = read_model_file(path)?;
                &read[..]
            }
        };
        let (proto, info) = read_proto(bytes, path)?;
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
        let output_ixs: Vec<usize> = match &options.detector {
            None => vec![output_ix],
            Some(d) => {
                d.validate()?;
                let needed = d.decoder.outputs();
                if info.outputs.len() < needed {
                    bad_input!(
                        "the {} decoder reads the first {needed} outputs of a detector, but model {} has {}: {}",
                        d.decoder,
                        path.display(),
                        info.outputs.len(),
                        names(&info.outputs)
                    );
                }
                if needed == 1 {
                    vec![output_ix]
                } else {
                    // The recorded output (verify) is the decoder's first.
                    if options.output.is_some() && output_ix != 0 {
                        bad_input!(
                            "the {} decoder reads outputs 0 to {} of model {} by position: drop --output",
                            d.decoder,
                            needed - 1,
                            path.display()
                        );
                    }
                    (0..needed).collect()
                }
            }
        };
        let outputs: Vec<TensorInfo> = output_ixs
            .iter()
            .map(|&i| info.outputs[i].clone())
            .collect();
        let output = outputs[0].clone();
        if input.dtype != "float32" {
            bad_input!(
                "input '{}' of model {} has element type {}; explain perturbs float32 inputs only",
                input.name,
                path.display(),
                input.dtype
            );
        }
        let (batch, row_shape) = geometry(&input, path, &options.axis_sizes)?;
        crate::util::limits::check_memory(
            crate::util::limits::product(&row_shape.iter().map(|&d| d as u64).collect::<Vec<_>>())
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
                    &output_ixs,
                    &held,
                )
                .map_err(|e| {
                    Error::Input(format!(
                        "cannot load model {} with tract: {e:#}",
                        path.display()
                    ))
                })?,
            ),
            BackendChoice::Ort { lib } => load_ort(
                path,
                given,
                lib.as_deref(),
                &input,
                &row_shape,
                &outputs,
                held,
            )?,
        };
        let backend = match &options.wrap {
            Some(w) => (w.0)(backend),
            None => backend,
        };
        Ok(Model {
            info,
            input,
            output,
            outputs,
            detector: options.detector,
            proposal_width: Default::default(),
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
    /// (`rows * k` values for some `k`): reduced by [`Model::reduce`], or for a detector the
    /// rows' box proposals ([`Model::proposal_width`] values each). With a fixed batch axis the
    /// rows are run in groups of that size, the last group padded by repeating its last row.
    pub fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<f32>> {
        debug_assert_eq!(data.len(), rows * self.row_len());
        let outputs = self.run_outputs(rows, data)?;
        if let Some(detector) = &self.detector {
            return self.decode(detector, rows, &outputs);
        }
        let out = outputs
            .into_iter()
            .next()
            .map(|o| o.data)
            .unwrap_or_default();
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

    /// Values per box proposal of a detector (`5 + C`; see [`detect`]), once it has run;
    /// `None` for other models or before the first run.
    pub fn proposal_width(&self) -> Option<usize> {
        match self
            .proposal_width
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            0 => None,
            w => Some(w),
        }
    }

    /// The explained input's image size as (height, width): axes 1 and 2 of a row
    /// `[C, H, W]` when `C ≤ 4`, else axes 0 and 1 (`[H, W, C]`).
    pub fn image_size(&self) -> (usize, usize) {
        match self.row_shape.as_slice() {
            [c, h, w] if *c <= 4 => (*h, *w),
            [h, w, _] => (*h, *w),
            [h, w] => (*h, *w),
            other => (1, other.iter().product()),
        }
    }

    /// The detections of one unmasked row (threshold and NMS as the detector says), best
    /// first, with the proposals they were listed from.
    ///
    /// # Errors
    ///
    /// As [`Model::run`]; [`Error::Input`] when the model is not a detector.
    pub fn detect(&self, x: &[f32]) -> Result<Vec<detect::Detection>> {
        let Some(detector) = &self.detector else {
            bad_input!(
                "model {} is not loaded as a detector (give --detector)",
                self.info.path
            );
        };
        let proposals = self.run(1, x)?;
        let width = self.proposal_width().unwrap_or(detect::BOX_VALUES);
        Ok(detector.detections(&proposals, width))
    }

    /// Each row's proposals, decoded from the raw outputs.
    fn decode(
        &self,
        detector: &detect::Detector,
        rows: usize,
        outputs: &[Output],
    ) -> Result<Vec<f32>> {
        let mut per_row = Vec::with_capacity(outputs.len());
        for (o, info) in outputs.iter().zip(&self.outputs) {
            if rows == 0 || o.data.is_empty() || !o.data.len().is_multiple_of(rows) {
                return Err(Error::Model(format!(
                    "output '{}' of model {} has {} values for a batch of {rows} rows; a detector's outputs need one entry per input row",
                    info.name,
                    self.info.path,
                    o.data.len()
                )));
            }
            let shape = if o.shape.first() == Some(&rows) {
                o.shape[1..].to_vec()
            } else {
                vec![o.data.len() / rows]
            };
            per_row.push((o.data.len() / rows, shape));
        }
        let shapes: Vec<Vec<usize>> = per_row.iter().map(|(_, s)| s.clone()).collect();
        let mut out = Vec::new();
        let mut width = detect::BOX_VALUES;
        for r in 0..rows {
            let slices: Vec<&[f32]> = outputs
                .iter()
                .zip(&per_row)
                .map(|(o, (len, _))| &o.data[r * len..(r + 1) * len])
                .collect();
            width = detector
                .decoder
                .decode(&slices, &shapes, self.image_size(), &mut out)?;
        }
        self.proposal_width
            .store(width, std::sync::atomic::Ordering::Relaxed);
        Ok(out)
    }

    /// The backend's outputs for `rows` rows, padding a fixed batch axis.
    fn run_outputs(&self, rows: usize, data: &[f32]) -> Result<Vec<Output>> {
        match self.batch {
            Batch::Symbolic(_) => self.backend.run(rows, data),
            Batch::Fixed(f) => {
                let len = self.row_len();
                let mut out: Vec<Output> = Vec::new();
                let mut padded = Vec::new();
                for start in (0..rows).step_by(f) {
                    let n = f.min(rows - start);
                    let chunk = &data[start * len..(start + n) * len];
                    let group = if n == f {
                        self.backend.run(f, chunk)?
                    } else {
                        padded.clear();
                        padded.extend_from_slice(chunk);
                        for _ in n..f {
                            padded.extend_from_slice(&chunk[(n - 1) * len..]);
                        }
                        let mut full = self.backend.run(f, &padded)?;
                        for o in &mut full {
                            o.data.truncate(o.data.len() / f * n);
                        }
                        full
                    };
                    if out.is_empty() {
                        out = group;
                    } else {
                        for (acc, o) in out.iter_mut().zip(group) {
                            acc.data.extend_from_slice(&o.data);
                        }
                    }
                }
                for o in &mut out {
                    if let Some(first) = o.shape.first_mut() {
                        *first = rows;
                    }
                }
                Ok(out)
            }
        }
    }
}

#[cfg(feature = "ort")]
fn load_ort(
    path: &Path,
    bytes: Option<&[u8]>,
    lib: Option<&Path>,
    input: &TensorInfo,
    row_shape: &[usize],
    outputs: &[TensorInfo],
    held: Vec<(String, ArrayD<f32>)>,
) -> Result<Box<dyn Backend>> {
    Ok(Box::new(self::ort::OrtBackend::new(
        path,
        bytes.map(std::sync::Arc::from),
        lib,
        input,
        row_shape,
        outputs,
        held,
    )?))
}

#[cfg(not(feature = "ort"))]
fn load_ort(
    _: &Path,
    _: Option<&[u8]>,
    _: Option<&Path>,
    _: &TensorInfo,
    _: &[usize],
    _: &[TensorInfo],
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
