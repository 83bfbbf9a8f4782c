//! The evaluation engine: coalitions in, values out, in parallel and reproducibly.
//!
//! The value of a coalition `z` is `v(z) = link(mean_k o(f(mask(x, b_k, z))))`, where `o` is
//! the [`Objective`] (an output value, a detector's box similarity, an embedding's similarity). Coalitions
//! are grouped into chunks of a fixed number (derived from the batch size and the number of
//! baseline rows `K`, never from the thread count). A chunk builds its `c × K` masked rows,
//! runs them through the model in batches of at most `batch_size` rows, and reduces them to `c`
//! values before the next chunk is built, so memory stays bounded by (threads × chunk). Chunks
//! run in parallel on rayon's pool and their results are collected in chunk order, so the values
//! are bit-identical for any number of threads.

pub use crate::artifact::spec::Link;
pub use crate::attribution::objective::Objective;
use crate::input::masker::Masker;
use crate::model::Model;
use crate::{Error, Result, bad_input};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::util::progress::{Progress, Silent};

/// Evaluates coalitions of one explained row against one objective.
pub struct Engine<'a> {
    pub model: &'a Model,
    pub masker: &'a Masker<'a>,
    pub objective: Objective,
    pub link: Link,
    /// Most rows passed to the model in one call.
    pub batch_size: usize,
    pub progress: &'a dyn Progress,
    /// Rows run through the model so far (including padding of fixed-batch models, excluded).
    rows_run: AtomicU64,
}

impl<'a> Engine<'a> {
    pub fn new(
        model: &'a Model,
        masker: &'a Masker<'a>,
        objective: Objective,
        link: Link,
        batch_size: usize,
        progress: &'a dyn Progress,
    ) -> Engine<'a> {
        Engine {
            model,
            masker,
            objective,
            link,
            batch_size: batch_size.max(1),
            progress,
            rows_run: AtomicU64::new(0),
        }
    }

    /// Coalitions per chunk: enough to fill one batch, at least one.
    pub fn chunk_coalitions(&self) -> usize {
        (self.batch_size / self.masker.rows_per_coalition()).max(1)
    }

    /// Model rows evaluated so far.
    pub fn rows_run(&self) -> u64 {
        self.rows_run.load(Ordering::Relaxed)
    }

    /// The values of `n` coalitions; coalition `i` is written into its argument by
    /// `coalition(i, z)`. Values come back in coalition order.
    pub fn values<F>(&self, n: usize, coalition: F) -> Result<Vec<f64>>
    where
        F: Fn(usize, &mut [bool]) + Sync,
    {
        let per_chunk = self.chunk_coalitions();
        let chunks = n.div_ceil(per_chunk);
        let parts: Vec<Vec<f64>> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let range = c * per_chunk..((c + 1) * per_chunk).min(n);
                self.chunk(range, &coalition)
            })
            .collect::<Result<_>>()?;
        Ok(parts.concat())
    }

    /// Values of an explicit list of coalitions.
    pub fn values_of(&self, coalitions: &crate::math::sampling::Coalitions) -> Result<Vec<f64>> {
        self.values(coalitions.len(), |i, z| {
            z.copy_from_slice(coalitions.get(i))
        })
    }

    fn chunk<F>(&self, range: std::ops::Range<usize>, coalition: &F) -> Result<Vec<f64>>
    where
        F: Fn(usize, &mut [bool]) + Sync,
    {
        let k = self.masker.rows_per_coalition();
        let len = self.model.row_len();
        let count = range.len();
        let mut z = vec![false; self.masker.features()];
        let mut rows = vec![0f32; count * k * len];
        for (i, dst) in range.clone().zip(rows.chunks_exact_mut(k * len)) {
            coalition(i, &mut z);
            self.masker.fill(&z, dst);
        }
        let total_rows = count * k;
        let mut outputs = Vec::with_capacity(total_rows);
        let mut out_len = 0;
        for start in (0..total_rows).step_by(self.batch_size) {
            let n = self.batch_size.min(total_rows - start);
            let out = self.model.run(n, &rows[start * len..(start + n) * len])?;
            out_len = out.len() / n;
            outputs.extend_from_slice(&out);
        }
        self.rows_run
            .fetch_add(total_rows as u64, Ordering::Relaxed);
        if !self.objective.fits(out_len) {
            let what = match &self.objective {
                Objective::Output(t) => format!("target {t}"),
                other => other.describe(&self.model.output.name),
            };
            bad_input!(
                "{what} is out of range: output '{}' has {out_len} values per row (shape {})",
                self.model.output.name,
                self.model.output.shape_string()
            );
        }
        let width = self.model.proposal_width();
        let mut values = Vec::with_capacity(count);
        for (c, i) in range.enumerate() {
            let mut sum = 0f64;
            for r in 0..k {
                let at = (c * k + r) * out_len;
                sum += self.objective.value(&outputs[at..at + out_len], width);
            }
            let v = self.link.apply(sum / k as f64);
            if !v.is_finite() {
                coalition(i, &mut z);
                let on = z.iter().filter(|b| **b).count();
                let which = match on {
                    0 => "the baseline (every feature switched off)".to_string(),
                    _ if on == z.len() => "the explained row itself".to_string(),
                    _ => format!("a masked input ({on} of {} features kept)", z.len()),
                };
                return Err(Error::Model(format!(
                    "model {} gave a non-finite value ({v}) for {} on {which}{}",
                    self.model.info.path,
                    self.objective.describe(&self.model.output.name),
                    if self.link == Link::Logit {
                        "; the logit link needs outputs strictly between 0 and 1"
                    } else {
                        ""
                    }
                )));
            }
            values.push(v);
        }
        self.progress.advance(count as u64);
        Ok(values)
    }
}
