//! Verification metrics for recognisers (a model whose output is an embedding): every
//! manifest row is a pair, its `input` and the image named by the pair column (default
//! `pair`, relative to the manifest), with a `same` column (`true`/`false`, `1`/`0`,
//! `yes`/`no`) saying whether both show the same identity (a genuine pair) or not (an
//! impostor pair). The pair is judged a match when the cosine similarity of the two
//! embeddings is at least the threshold.
//!
//! The metrics are the false match rate (FMR: impostor pairs judged a match / impostor pairs)
//! and the false non-match rate (FNMR: genuine pairs judged a non-match / genuine pairs).
//! A pair is an item with label 1 (genuine) or 0 and decision 1 (match) or 0, so FMR and
//! FNMR are counted as FPR and FNR are.

use super::metrics::{Extra, Prediction};
use crate::attribution::engine::Progress;
use crate::math::stats;
use crate::model::Model;
use crate::validation::manifest::Manifest;
use crate::{Error, Result, bad_input};
use std::path::{Path, PathBuf};

/// Default manifest column naming each pair's second image.
pub const PAIR_COLUMN: &str = "pair";
/// Default manifest column saying whether a pair is genuine.
pub const SAME_COLUMN: &str = "same";

/// Parses a `same` cell.
pub fn parse_same(cell: &str) -> Option<bool> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// The pairs of a manifest, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Pairs {
    /// The second images' cells, as in the manifest.
    pub cells: Vec<String>,
    /// The second images, resolved relative to the manifest.
    pub paths: Vec<PathBuf>,
    /// Whether each pair is genuine.
    pub genuine: Vec<bool>,
}

/// Every row's second image (resolved relative to the manifest, checked to exist) and
/// whether the pair is genuine. Errors name the manifest, the line and the column.
pub fn read_pairs(manifest: &Manifest, pair: &str, same: &str) -> Result<Pairs> {
    let (pc, sc) = (manifest.require(pair)?, manifest.require(same)?);
    let dir = manifest.path.parent().unwrap_or(Path::new(""));
    let mut paths = Vec::with_capacity(manifest.len());
    let mut genuine = Vec::with_capacity(manifest.len());
    for (i, row) in manifest.rows.iter().enumerate() {
        let at = |col: &str| {
            format!(
                "manifest {}, line {}, column '{col}'",
                manifest.path.display(),
                i + 2
            )
        };
        let p = &row[pc];
        if p.is_empty() {
            bad_input!("{}: empty; every pair needs its second image", at(pair));
        }
        let path = dir.join(p);
        if !path.is_file() {
            bad_input!(
                "{}: {} does not exist (paths are relative to the manifest)",
                at(pair),
                path.display()
            );
        }
        paths.push(path);
        match parse_same(&row[sc]) {
            Some(g) => genuine.push(g),
            None => bad_input!(
                "{}: '{}' is not true/false (or 1/0, yes/no)",
                at(same),
                row[sc]
            ),
        }
    }
    Ok(Pairs {
        cells: manifest.rows.iter().map(|r| r[pc].clone()).collect(),
        paths,
        genuine,
    })
}

/// The embeddings of `rows` (flattened) in parallel batches of `batch_size`, one vector per row.
fn embed(
    model: &Model,
    rows: &[f32],
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<Vec<Vec<f64>>> {
    let len = model.row_len();
    let n = rows.len() / len;
    let out = super::batches::run_batches(model, rows, batch_size, progress)?;
    if n == 0 || out.is_empty() || !out.len().is_multiple_of(n) {
        return Err(Error::Model(format!(
            "model {} gave {} values for {n} items; expected one embedding per item",
            model.info.path,
            out.len()
        )));
    }
    Ok(out
        .chunks(out.len() / n)
        .map(|e| e.iter().map(|&v| v as f64).collect())
        .collect())
}

/// Embeds both images of every pair (`rows` the inputs', `pair_rows` the second images', both
/// flattened) and decides each pair.
#[allow(clippy::too_many_arguments)]
pub fn predict(
    model: &Model,
    manifest: &Manifest,
    rows: &[f32],
    pair_rows: &[f32],
    pairs: &Pairs,
    threshold: f64,
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<Vec<Prediction>> {
    let len = model.row_len();
    let n = manifest.len();
    let genuine = &pairs.genuine;
    if rows.len() != n * len || pair_rows.len() != n * len || genuine.len() != n {
        bad_input!(
            "{n} pairs of rows of {len} values expected for manifest {}",
            manifest.path.display()
        );
    }
    if batch_size == 0 {
        bad_input!("--batch-size must be at least 1");
    }
    if !threshold.is_finite() {
        bad_input!("--threshold must be a finite number, got {threshold}");
    }
    let a = embed(model, rows, batch_size, progress)?;
    let b = embed(model, pair_rows, batch_size, progress)?;
    (0..n)
        .map(|i| {
            if a[i].iter().chain(&b[i]).any(|v| !v.is_finite()) {
                return Err(Error::Model(format!(
                    "model {} gives a non-finite embedding for the pair on line {} of manifest {}",
                    model.info.path,
                    i + 2,
                    manifest.path.display()
                )));
            }
            let Some(similarity) = stats::cosine(&a[i], &b[i]) else {
                return Err(Error::Model(format!(
                    "model {} gives an all-zero embedding for the pair on line {} of manifest {}: no cosine similarity",
                    model.info.path,
                    i + 2,
                    manifest.path.display()
                )));
            };
            let pair = pairs.cells[i].clone();
            Ok(Prediction {
                input: manifest.input(i).to_string(),
                label: usize::from(genuine[i]),
                score: similarity,
                predicted: usize::from(similarity >= threshold),
                extra: Extra::Pair { pair },
            })
        })
        .collect()
}

/// `predictions.csv` of a verification run: `input,pair,same,similarity,match` (similarity to
/// 9 decimals; `same` and `match` 1 or 0).
pub fn csv(items: &[Prediction]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["input", "pair", "same", "similarity", "match"])
        .expect("in memory");
    for p in items {
        let pair = match &p.extra {
            Extra::Pair { pair } => pair.clone(),
            _ => String::new(),
        };
        w.write_record([
            p.input.clone(),
            pair,
            p.label.to_string(),
            format!("{:.9}", p.score),
            p.predicted.to_string(),
        ])
        .expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::slices::Metric;
    use crate::validation::slices::metrics::Confusion;

    #[test]
    fn fmr_and_fnmr_count_pairs() {
        // (genuine, similarity) at threshold 0.6: genuine 0.9 and 0.7 match, 0.5 does not;
        // impostors 0.65 matches (a false match), 0.2 and -0.4 do not.
        let pairs = [
            (true, 0.9),
            (true, 0.7),
            (true, 0.5),
            (false, 0.65),
            (false, 0.2),
            (false, -0.4),
        ];
        let items: Vec<Prediction> = pairs
            .iter()
            .map(|&(g, s)| Prediction {
                input: String::new(),
                label: usize::from(g),
                score: s,
                predicted: usize::from(s >= 0.6),
                extra: Extra::Pair {
                    pair: "b.png".into(),
                },
            })
            .collect();
        let c = Confusion::of(&items);
        assert_eq!(c.counts(Metric::Fmr), (1, 3));
        assert_eq!(c.counts(Metric::Fnmr), (1, 3));
        let text = csv(&items[..1]);
        assert_eq!(
            text,
            "input,pair,same,similarity,match\n,b.png,1,0.900000000,1\n"
        );
        assert_eq!(parse_same(" Yes"), Some(true));
        assert_eq!(parse_same("0"), Some(false));
        assert_eq!(parse_same("maybe"), None);
    }
}
