//! The ONNX Runtime backend (`--backend ort`, cargo feature `ort`).
//!
//! ONNX Runtime is loaded at run time (ort's `load-dynamic`) from the library given with
//! `--ort-lib` (a config's `ort_lib`), else from `ORT_DYLIB_PATH`. The library is checked
//! before ort sees it (it exists, it is ONNX Runtime, its version is the one this build's API
//! needs), so that every failure is an [`Error::Input`] that says what to do instead of a
//! panic inside ort. One library is loaded per process.
//!
//! Reproducibility: every session runs on one thread (`intra_op` and `inter_op` 1, sequential
//! execution), and each worker thread takes a session of its own from a pool for the duration
//! of one call. All sessions are built the same way from the same bytes, so a batch gives the
//! same bits whichever session runs it, and results do not depend on the thread count.

use crate::model::backend::{
    Backend, INSTALL_HINT, ONNXRUNTIME_MINOR, ONNXRUNTIME_VERSION, Output,
    check_onnxruntime_version,
};
use crate::model::info::TensorInfo;
use crate::{Error, Result, bad_input};
use ort::environment::Environment;
use ort::session::builder::SessionBuilder;
use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, Tensor, TensorElementType, TensorRef, ValueType};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tract_onnx::prelude::tract_ndarray::ArrayD;

// This build speaks ONNX Runtime's API 31, the one of ONNXRUNTIME_VERSION.
const _: () = assert!(ort::MINOR_VERSION == ONNXRUNTIME_MINOR);

/// The loaded ONNX Runtime: one per process.
struct Runtime {
    /// The library file, canonical.
    path: PathBuf,
    /// Its version string, e.g. `1.31.1`.
    version: String,
    env: Environment,
    /// Our own handle on the library, kept open for the life of the process.
    _lib: libloading::Library,
}

static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);

/// The library to load: `lib` (from `--ort-lib` or a config's `ort_lib`) wins over
/// `ORT_DYLIB_PATH`.
fn library_path(lib: Option<&Path>) -> Result<PathBuf> {
    let (path, from) = match lib {
        Some(p) => (p.to_path_buf(), ""),
        None => match std::env::var_os("ORT_DYLIB_PATH") {
            Some(p) if !p.is_empty() => (PathBuf::from(p), " (from ORT_DYLIB_PATH)"),
            _ => bad_input!(
                "--backend ort needs the ONNX Runtime {ONNXRUNTIME_VERSION} library \
                 (libonnxruntime.so.{ONNXRUNTIME_VERSION}), and neither --ort-lib nor \
                 ORT_DYLIB_PATH names one: {INSTALL_HINT}"
            ),
        },
    };
    if !path.exists() {
        bad_input!(
            "the ONNX Runtime library {}{from} does not exist: {INSTALL_HINT}",
            path.display()
        );
    }
    if path.is_dir() {
        bad_input!(
            "the ONNX Runtime library {}{from} is a directory; give the library file itself \
             (libonnxruntime.so.{ONNXRUNTIME_VERSION})",
            path.display()
        );
    }
    std::fs::canonicalize(&path).map_err(|e| {
        Error::Input(format!(
            "cannot read the ONNX Runtime library {}{from}: {e}",
            path.display()
        ))
    })
}

/// Opens the library and reads its version (`OrtGetApiBase()->GetVersionString()`).
fn open_library(path: &Path) -> Result<(libloading::Library, String)> {
    let cannot = |why: String| {
        Error::Input(format!(
            "cannot load the ONNX Runtime library {}: {why}; {INSTALL_HINT}",
            path.display()
        ))
    };
    // SAFETY: loading a shared library runs its initialisers; this is the file the user named
    // as ONNX Runtime, which ort would load the same way.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| cannot(chain(&e)))?;
    type GetApiBase = unsafe extern "system" fn() -> *const ort::sys::OrtApiBase;
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime release.
    let get_base = unsafe { lib.get::<GetApiBase>(b"OrtGetApiBase") }
        .map_err(|_| cannot("it is not ONNX Runtime (it exports no OrtGetApiBase)".into()))?;
    // SAFETY: the function takes no arguments and returns a pointer to a static struct.
    let base = unsafe { get_base() };
    if base.is_null() {
        return Err(cannot("OrtGetApiBase returned nothing".into()));
    }
    // SAFETY: `base` is non-null and points to ONNX Runtime's static `OrtApiBase`, whose
    // `GetVersionString` returns a static NUL-terminated string.
    let version = unsafe {
        let s = ((*base).GetVersionString)();
        if s.is_null() {
            return Err(cannot("it reports no version".into()));
        }
        std::ffi::CStr::from_ptr(s).to_string_lossy().into_owned()
    };
    Ok((lib, version))
}

/// An error with its sources (libloading's `dlopen failed` holds the reason in its source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s = format!("{s}: {c}");
        source = c.source();
    }
    s
}

/// Loads ONNX Runtime from `lib` (else `ORT_DYLIB_PATH`) once per process, checked.
fn runtime(lib: Option<&Path>) -> Result<Arc<Runtime>> {
    let path = library_path(lib)?;
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(rt) = slot.as_ref() {
        if rt.path == path {
            return Ok(rt.clone());
        }
        bad_input!(
            "ONNX Runtime is already loaded from {} in this process; cannot load {} as well",
            rt.path.display(),
            path.display()
        );
    }
    let (handle, version) = open_library(&path)?;
    check_onnxruntime_version(&version, &path)?;
    let failed = |e: &dyn std::fmt::Display| {
        Error::Input(format!(
            "cannot start ONNX Runtime {version} from {}: {e}",
            path.display()
        ))
    };
    let builder = ort::init_from(&path).map_err(|e| failed(&e))?;
    let env = builder
        .with_name("explain")
        .with_telemetry(false)
        .build()
        .map_err(|e| failed(&e))?;
    let rt = Arc::new(Runtime {
        path,
        version,
        env,
        _lib: handle,
    });
    *slot = Some(rt.clone());
    Ok(rt)
}

/// A session with the held inputs as ONNX Runtime values.
struct Worker {
    session: Session,
    held: Vec<(String, DynValue)>,
}

/// Runs the model with ONNX Runtime: single-threaded sessions, one per concurrent caller.
pub(crate) struct OrtBackend {
    runtime: Arc<Runtime>,
    /// The model file: sessions are built from it, so that ONNX Runtime finds weights kept
    /// beside it (external data).
    path: PathBuf,
    /// The model's bytes when it was given in memory ([`crate::model::Model::from_bytes`]);
    /// sessions are then built from them.
    bytes: Option<Arc<[u8]>>,
    input: String,
    /// Shape of one row of the explained input.
    row_shape: Vec<usize>,
    /// The selected outputs by name, in order.
    outputs: Vec<String>,
    /// Constant inputs by name.
    held: Vec<(String, ArrayD<f32>)>,
    /// Sessions not in use.
    idle: Mutex<Vec<Worker>>,
}

impl OrtBackend {
    /// Loads ONNX Runtime (see [`runtime`]) and builds a first session, so that a model ONNX
    /// Runtime cannot run is reported here.
    pub(crate) fn new(
        path: &Path,
        bytes: Option<Arc<[u8]>>,
        lib: Option<&Path>,
        input: &TensorInfo,
        row_shape: &[usize],
        outputs: &[TensorInfo],
        held: Vec<(String, ArrayD<f32>)>,
    ) -> Result<OrtBackend> {
        let runtime = runtime(lib)?;
        let backend = OrtBackend {
            runtime,
            path: path.to_path_buf(),
            bytes,
            input: input.name.clone(),
            row_shape: row_shape.to_vec(),
            outputs: outputs.iter().map(|o| o.name.clone()).collect(),
            held,
            idle: Mutex::new(Vec::new()),
        };
        let first = backend.worker().map_err(|e| {
            Error::Input(format!(
                "cannot load model {} with ONNX Runtime {}: {e}",
                path.display(),
                backend.runtime.version
            ))
        })?;
        for output in &backend.outputs {
            backend.check_output(&first.session, output)?;
        }
        backend.put_back(first);
        Ok(backend)
    }

    /// A new single-threaded session with its held values.
    fn worker(&self) -> ort::Result<Worker> {
        let builder = Session::builder(&self.runtime.env)?;
        let session = match &self.bytes {
            Some(b) => configure(builder)?.commit_from_memory(b)?,
            None => configure(builder)?.commit_from_file(&self.path)?,
        };
        let held = self
            .held
            .iter()
            .map(|(name, a)| Ok((name.clone(), Tensor::from_array(a.clone())?.into_dyn())))
            .collect::<ort::Result<Vec<_>>>()?;
        Ok(Worker { session, held })
    }

    fn check_output(&self, session: &Session, output: &str) -> Result<()> {
        let Some(out) = session.outputs().iter().find(|o| o.name() == output) else {
            bad_input!(
                "ONNX Runtime finds no output '{output}' in model {}",
                self.path.display()
            );
        };
        match out.dtype() {
            ValueType::Tensor {
                ty: TensorElementType::Float32 | TensorElementType::Float64,
                ..
            } => Ok(()),
            other => bad_input!(
                "output '{output}' of model {} is {other}; explain reads float32 or float64 outputs",
                self.path.display()
            ),
        }
    }

    fn take(&self) -> Result<Worker> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(w) => Ok(w),
            None => self.worker().map_err(|e| {
                Error::Model(format!(
                    "ONNX Runtime cannot build another session for model {}: {e}",
                    self.path.display()
                ))
            }),
        }
    }

    fn put_back(&self, worker: Worker) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(worker);
    }
}

/// One thread per session, sequential execution, deterministic kernels.
fn configure(builder: SessionBuilder) -> ort::Result<SessionBuilder> {
    Ok(builder
        .with_intra_threads(1)?
        .with_inter_threads(1)?
        .with_parallel_execution(false)?
        .with_deterministic_compute(true)?)
}

impl Backend for OrtBackend {
    fn name(&self) -> &'static str {
        "ort"
    }

    fn version(&self) -> String {
        format!("onnxruntime {}", self.runtime.version)
    }

    fn numerics(&self) -> crate::model::numerics::Platform {
        crate::model::numerics::Platform::onnxruntime()
    }

    fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<Output>> {
        let mut worker = self.take()?;
        let result = self.run_on(&mut worker, rows, data);
        self.put_back(worker);
        result.map_err(|e| {
            Error::Model(format!(
                "ONNX Runtime failed to run model {}: {e}",
                self.path.display()
            ))
        })
    }
}

impl OrtBackend {
    fn run_on(&self, worker: &mut Worker, rows: usize, data: &[f32]) -> ort::Result<Vec<Output>> {
        let mut shape = Vec::with_capacity(self.row_shape.len() + 1);
        shape.push(rows);
        shape.extend_from_slice(&self.row_shape);
        let x = TensorRef::from_array_view((shape, data))?;
        let mut inputs: Vec<(&str, SessionInputValue<'_>)> =
            Vec::with_capacity(worker.held.len() + 1);
        inputs.push((self.input.as_str(), x.into()));
        for (name, value) in &worker.held {
            inputs.push((name.as_str(), value.into()));
        }
        let outputs = worker.session.run(inputs)?;
        self.outputs
            .iter()
            .map(|name| {
                let Some(value) = outputs.get(name) else {
                    return Err(ort::Error::new(format!("it gave no output '{name}'")));
                };
                Ok(match value.dtype() {
                    ValueType::Tensor {
                        ty: TensorElementType::Float64,
                        ..
                    } => {
                        let (shape, data) = value.try_extract_tensor::<f64>()?;
                        Output {
                            shape: shape.iter().map(|&d| d as usize).collect(),
                            data: data.iter().map(|v| *v as f32).collect(),
                        }
                    }
                    _ => {
                        let (shape, data) = value.try_extract_tensor::<f32>()?;
                        Output {
                            shape: shape.iter().map(|&d| d as usize).collect(),
                            data: data.to_vec(),
                        }
                    }
                })
            })
            .collect()
    }
}
