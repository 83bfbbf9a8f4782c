//! Feature maps: how an input row is split into the `M` players of the attribution game.
//!
//! Every element of a row belongs to exactly one feature. A *coalition* (a 0/1 vector over the
//! `M` features) becomes a model input by taking the elements of the features it contains from
//! the explained row and every other element from a baseline row (see [`crate::input::masker`]).

use crate::{Error, Result, bad_input};
use std::path::Path;

/// A feature spec as given on the command line (`--features`).
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureSpec {
    /// Chosen by input kind: `tabular` for rows, `grid:8x8` for images, `segments:10` for audio.
    Auto,
    /// One feature per element of the row.
    Tabular,
    /// Groups of elements read from a JSON file `{"names": [...], "ids": [...]}`, with one
    /// feature id (0..M) per element of the row.
    Map(String),
    /// Images: a `rows × cols` grid of cells (row-major ids), shared across channels.
    Grid { rows: usize, cols: usize },
    /// Images: SLIC superpixels (about `n`, with this compactness), shared across channels.
    Slic { n: usize, compactness: f64 },
    /// Audio: `n` equal time segments of the window.
    Segments(usize),
    /// Spectrogram-like inputs: `t × f` patches over the last two axes of the row.
    Spectro { t: usize, f: usize },
}

impl std::str::FromStr for FeatureSpec {
    type Err = crate::Error;

    /// Parses `tabular`, `map:FILE.json`, `grid:RxC`, `slic:N[:compactness]`, `segments:N` or
    /// `spectro:TxF`.
    ///
    /// ```
    /// use explain_core::input::features::FeatureSpec;
    /// use std::str::FromStr;
    /// assert_eq!(FeatureSpec::from_str("tabular").unwrap(), FeatureSpec::Tabular);
    /// assert_eq!(FeatureSpec::from_str("grid:8x6").unwrap(), FeatureSpec::Grid { rows: 8, cols: 6 });
    /// assert_eq!(FeatureSpec::from_str("slic:50").unwrap(), FeatureSpec::Slic { n: 50, compactness: 10.0 });
    /// assert!(FeatureSpec::from_str("hexagons:7").is_err());
    /// ```
    fn from_str(spec: &str) -> Result<FeatureSpec> {
        let unknown = || {
            Error::Input(format!(
                "unknown feature spec '{spec}': expected auto, tabular, map:FILE.json, grid:RxC, slic:N[:compactness], segments:N or spectro:TxF"
            ))
        };
        let pair = |v: &str| -> Result<(usize, usize)> {
            let (a, b) = v.split_once('x').ok_or_else(unknown)?;
            match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if a > 0 && b > 0 => Ok((a, b)),
                _ => Err(unknown()),
            }
        };
        let count = |v: &str| -> Result<usize> {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(unknown)
        };
        match spec.split_once(':') {
            None if spec == "tabular" => Ok(FeatureSpec::Tabular),
            None if spec == "auto" => Ok(FeatureSpec::Auto),
            Some(("map", file)) if !file.is_empty() => Ok(FeatureSpec::Map(file.into())),
            Some(("grid", v)) => pair(v).map(|(rows, cols)| FeatureSpec::Grid { rows, cols }),
            Some(("spectro", v)) => pair(v).map(|(t, f)| FeatureSpec::Spectro { t, f }),
            Some(("segments", v)) => count(v).map(FeatureSpec::Segments),
            Some(("slic", v)) => {
                let (n, m) = v.split_once(':').unwrap_or((v, "10"));
                let compactness = m
                    .parse::<f64>()
                    .ok()
                    .filter(|m| *m > 0.0 && m.is_finite())
                    .ok_or_else(unknown)?;
                Ok(FeatureSpec::Slic {
                    n: count(n)?,
                    compactness,
                })
            }
            _ => Err(unknown()),
        }
    }
}

impl std::fmt::Display for FeatureSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeatureSpec::Auto => write!(f, "auto"),
            FeatureSpec::Tabular => write!(f, "tabular"),
            FeatureSpec::Map(p) => write!(f, "map:{p}"),
            FeatureSpec::Grid { rows, cols } => write!(f, "grid:{rows}x{cols}"),
            FeatureSpec::Slic { n, compactness } => write!(f, "slic:{n}:{compactness}"),
            FeatureSpec::Segments(n) => write!(f, "segments:{n}"),
            FeatureSpec::Spectro { t, f: fr } => write!(f, "spectro:{t}x{fr}"),
        }
    }
}

/// The feature id of every element of a row, and a name per feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMap {
    /// `ids[j]` is the feature (0..M) that element `j` belongs to.
    pub ids: Vec<u32>,
    /// One name per feature.
    pub names: Vec<String>,
    /// `elements[f]` lists the elements of feature `f`, ascending.
    pub elements: Vec<Vec<u32>>,
    /// Soft boundaries for 1-D (audio) maps: a masked element's weight between the row and
    /// the baseline is the mean of the 0/1 mask over `±crossfade` elements, so switching a
    /// segment fades over `2·crossfade + 1` samples instead of cutting. 0 = hard partition.
    pub crossfade: usize,
}

impl FeatureMap {
    /// Builds a map from per-element ids, checking that every id in `0..names.len()` is used.
    pub fn new(ids: Vec<u32>, names: Vec<String>) -> Result<FeatureMap> {
        let m = names.len();
        let mut elements = vec![Vec::new(); m];
        for (j, &id) in ids.iter().enumerate() {
            let Some(list) = elements.get_mut(id as usize) else {
                bad_input!(
                    "feature map gives element {j} the id {id}, but there are only {m} feature names"
                );
            };
            list.push(j as u32);
        }
        if let Some(f) = elements.iter().position(Vec::is_empty) {
            bad_input!(
                "feature map has no element for feature {f} ('{}')",
                names[f]
            );
        }
        Ok(FeatureMap {
            crossfade: 0,
            ids,
            names,
            elements,
        })
    }

    /// One feature per element, named from `names` (e.g. a CSV header) or after the input and
    /// the element's index (`x[3]`, `x[0,2]`).
    pub fn tabular(row_shape: &[usize], input_name: &str, names: Option<&[String]>) -> FeatureMap {
        let len: usize = row_shape.iter().product();
        let names = match names {
            Some(n) if n.len() == len => n.to_vec(),
            _ => (0..len)
                .map(|j| format!("{input_name}[{}]", multi_index(j, row_shape)))
                .collect(),
        };
        FeatureMap::new((0..len as u32).collect(), names).expect("one feature per element")
    }

    /// Reads `{"names": [...], "ids": [...]}` from a JSON file; `ids` must have one entry per
    /// element of the row.
    pub fn from_json_file(path: &Path, row_len: usize) -> Result<FeatureMap> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            names: Vec<String>,
            ids: Vec<u32>,
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Input(format!("cannot read feature map {}: {e}", path.display()))
        })?;
        let file: File = serde_json::from_str(&text).map_err(|e| {
            Error::Input(format!(
                "feature map {} is not valid: {e} (expected {{\"names\": [...], \"ids\": [...]}})",
                path.display()
            ))
        })?;
        if file.ids.len() != row_len {
            bad_input!(
                "feature map {} has {} ids, but a row of the model input has {row_len} elements",
                path.display(),
                file.ids.len()
            );
        }
        FeatureMap::new(file.ids, file.names)
            .map_err(|e| Error::Input(format!("feature map {}: {e}", path.display())))
    }

    /// `t × f` patches over the last two axes of a row of shape `row_shape` (shared over any
    /// leading axes), ids row-major over (time patch, frequency patch).
    pub fn patches(row_shape: &[usize], t: usize, f: usize) -> Result<FeatureMap> {
        let Some(&[rows, cols]) = row_shape.get(row_shape.len().saturating_sub(2)..) else {
            bad_input!(
                "spectro:{t}x{f} needs an input with at least two axes; the model row has shape {row_shape:?}"
            );
        };
        if row_shape.len() < 2 || t > rows || f > cols {
            bad_input!("spectro:{t}x{f} does not fit a {rows}x{cols} time-frequency input");
        }
        let plane = rows * cols;
        let lead: usize = row_shape[..row_shape.len() - 2].iter().product();
        let mut ids = Vec::with_capacity(lead * plane);
        for _ in 0..lead {
            for r in 0..rows {
                for c in 0..cols {
                    ids.push(((r * t / rows) * f + c * f / cols) as u32);
                }
            }
        }
        let names = (0..t * f)
            .map(|k| {
                let (a, b) = (k / f, k % f);
                format!(
                    "t{}-{} f{}-{}",
                    a * rows / t,
                    (a + 1) * rows / t,
                    b * cols / f,
                    (b + 1) * cols / f
                )
            })
            .collect();
        FeatureMap::new(ids, names)
    }

    /// Number of features `M`.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

fn multi_index(mut j: usize, shape: &[usize]) -> String {
    let mut idx = vec![0; shape.len()];
    for (k, d) in shape.iter().enumerate().rev() {
        idx[k] = j % d;
        j /= d;
    }
    idx.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
