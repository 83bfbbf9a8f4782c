//! The model over a manifest's rows: parallel batches, outputs in row order.

use crate::Result;
use crate::attribution::engine::Progress;
use crate::model::Model;
use rayon::prelude::*;

/// Every row of `rows` (flattened) through the model in parallel batches of `batch_size`,
/// the outputs concatenated in row order; progress is reported per row.
pub(crate) fn run_batches(
    model: &Model,
    rows: &[f32],
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<Vec<f32>> {
    let len = model.row_len();
    let outputs: Vec<Vec<f32>> = rows
        .par_chunks(batch_size * len)
        .map(|chunk| {
            let out = model.run(chunk.len() / len, chunk)?;
            progress.advance((chunk.len() / len) as u64);
            Ok(out)
        })
        .collect::<Result<_>>()?;
    Ok(outputs.concat())
}
