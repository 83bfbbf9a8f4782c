//! Reading the rows to explain (and background rows) from `.npy` and `.csv` files.

use crate::util::limits::{open_npy, shape_string};
use crate::{Error, Result, bad_input};
use std::path::Path;

/// Rows read from one file, each of the explained input's row shape, flattened.
#[derive(Debug, Clone)]
pub struct Rows {
    /// The file they came from, as given.
    pub path: String,
    /// Number of rows.
    pub n: usize,
    /// Values per row.
    pub row_len: usize,
    /// `n * row_len` values, row-major.
    pub values: Vec<f32>,
    /// Column names from a CSV header, if it had one.
    pub names: Option<Vec<String>>,
}

impl Rows {
    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.row_len..(i + 1) * self.row_len]
    }

    /// How row `i` is named in artifacts: `file` for a one-row file, else `file#i`.
    pub fn name(&self, i: usize) -> String {
        if self.n == 1 {
            self.path.clone()
        } else {
            format!("{}#{i}", self.path)
        }
    }

    /// Builds rows from values already in memory.
    pub fn from_values(path: &str, row_len: usize, values: Vec<f32>) -> Rows {
        let n = values.len().checked_div(row_len).unwrap_or(0);
        Rows {
            path: path.into(),
            n,
            row_len,
            values,
            names: None,
        }
    }
}

/// Reads rows that must each have shape `row_shape`, from a `.npy` (float32, shape
/// `[n, ...row_shape]` or just `row_shape` for one row) or a `.csv` (one row per line, an
/// optional header of column names). `what` names the role in messages (`input`, `background`).
pub fn read_rows(path: &Path, row_shape: &[usize], what: &str) -> Result<Rows> {
    if !path.exists() {
        bad_input!("{what} file {} does not exist", path.display());
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let rows = match ext.as_str() {
        "npy" => read_npy(path, row_shape, what)?,
        "csv" => read_csv(path, row_shape, what)?,
        _ => bad_input!(
            "{what} file {} has an unsupported extension '.{ext}': use .npy (float32) or .csv",
            path.display()
        ),
    };
    if rows.n == 0 {
        bad_input!("{what} file {} holds no rows", path.display());
    }
    if let Some(i) = rows.values.iter().position(|v| !v.is_finite()) {
        bad_input!(
            "{what} file {} has a non-finite value ({}) in row {}",
            path.display(),
            rows.values[i],
            i / rows.row_len
        );
    }
    Ok(rows)
}

fn read_npy(path: &Path, row_shape: &[usize], what: &str) -> Result<Rows> {
    let file = open_npy(path, what)?;
    let array: ndarray::ArrayD<f32> = ndarray_npy::ReadNpyExt::read_npy(file).map_err(|e| {
        let hint = match &e {
            ndarray_npy::ReadNpyError::WrongDescriptor(_) => {
                " (explain reads float32 arrays: save it with `np.save(path, a.astype(np.float32))`)"
            }
            _ => "",
        };
        Error::Input(format!("{what} file {} is not a float32 .npy array: {e}{hint}", path.display()))
    })?;
    let shape = array.shape().to_vec();
    let n = if shape == row_shape {
        1
    } else if shape.len() == row_shape.len() + 1 && shape[1..] == *row_shape {
        shape[0]
    } else {
        bad_input!(
            "{what} file {} has shape {}, but the model input takes rows of shape {} (expected [n, {}])",
            path.display(),
            shape_string(&shape),
            shape_string(row_shape),
            row_shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let row_len = row_shape.iter().product();
    let values = array.as_standard_layout().iter().copied().collect();
    Ok(Rows {
        path: path.display().to_string(),
        n,
        row_len,
        values,
        names: None,
    })
}

fn read_csv(path: &Path, row_shape: &[usize], what: &str) -> Result<Rows> {
    let row_len: usize = row_shape.iter().product();
    // The text, and about as much again for the values parsed from it.
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    crate::util::limits::check_memory(
        size.checked_mul(2),
        &format!("{what} file {}", path.display()),
        "split the file",
    )?;
    let text = std::fs::read(path)
        .map_err(|e| Error::Input(format!("cannot read {what} file {}: {e}", path.display())))?;
    // The csv crate skips blank lines without counting them, and a record's offset points
    // before the blank lines it skipped: step over them, then count newlines.
    let line_at = |byte: u64| {
        let mut at = byte as usize;
        while at < text.len() && matches!(text[at], b'\n' | b'\r') {
            at += 1;
        }
        1 + text[..at].iter().filter(|&&b| b == b'\n').count()
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_slice());
    let mut names = None;
    let mut values = Vec::new();
    let mut n = 0;
    let mut first = true;
    for record in reader.records() {
        let record = record.map_err(|e| {
            Error::Input(format!(
                "{what} file {} is not valid CSV: {e}",
                path.display()
            ))
        })?;
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let is_first = std::mem::take(&mut first);
        let parsed: std::result::Result<Vec<f32>, _> =
            record.iter().map(str::parse::<f32>).collect();
        let fields = record.len();
        match parsed {
            Err(_) if is_first => {
                names = Some(record.iter().map(String::from).collect::<Vec<_>>());
                if fields != row_len {
                    bad_input!(
                        "{what} file {} has {fields} columns in its header, but the model input takes rows of shape {} ({row_len} values)",
                        path.display(),
                        shape_string(row_shape)
                    );
                }
                continue;
            }
            Err(_) => {
                let bad = record
                    .iter()
                    .find(|f| f.parse::<f32>().is_err())
                    .unwrap_or("");
                bad_input!(
                    "{what} file {} line {line}: '{bad}' is not a number",
                    path.display()
                );
            }
            Ok(row) => {
                if row.len() != row_len {
                    bad_input!(
                        "{what} file {} line {line} has {} values, but the model input takes rows of shape {} ({row_len} values)",
                        path.display(),
                        row.len(),
                        shape_string(row_shape)
                    );
                }
                values.extend(row);
                n += 1;
            }
        }
    }
    Ok(Rows {
        path: path.display().to_string(),
        n,
        row_len,
        values,
        names,
    })
}
