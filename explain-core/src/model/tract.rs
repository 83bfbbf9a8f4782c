//! The tract backend (pure Rust, always built in): one optimised plan per batch size,
//! cached, and the kernels it chose recorded in the numeric platform.

use crate::model::backend::{Backend, Batch, Output};
use crate::model::info::TensorInfo;
use crate::model::numerics::Platform;
use crate::util::provenance::TRACT_VERSION;
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tract_onnx::pb;
use tract_onnx::prelude::tract_ndarray::ArrayD;
use tract_onnx::prelude::*;

/// The pure-Rust tract backend. The decluttered model is kept with a symbolic batch axis;
/// an optimised plan is built once per batch size and cached.
type Plan = Arc<TypedRunnableModel>;

pub(crate) struct TractBackend {
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
    pub(crate) fn new(
        proto: &pb::ModelProto,
        model_dir: &Path,
        input: &TensorInfo,
        batch: &Batch,
        row_shape: &[usize],
        outputs: &[usize],
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
        let outlets: Vec<_> = outputs.iter().map(|&ix| model.outputs[ix]).collect();
        model.select_output_outlets(&outlets)?;
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

    fn run(&self, rows: usize, data: &[f32]) -> Result<Vec<Output>> {
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
        outputs
            .iter()
            .map(|value| {
                let out = value.cast_to::<f32>().map_err(fail)?;
                let view = out.to_plain_array_view::<f32>().map_err(fail)?;
                Ok(Output {
                    shape: view.shape().to_vec(),
                    data: view.iter().copied().collect(),
                })
            })
            .collect()
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
