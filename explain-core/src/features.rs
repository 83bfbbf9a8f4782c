//! Feature maps: how an input row is split into the `M` players of the attribution game.
//!
//! Every element of a row belongs to exactly one feature. A *coalition* (a 0/1 vector over the
//! `M` features) becomes a model input by taking the elements of the features it contains from
//! the explained row and every other element from a baseline row (see [`crate::masker`]).

use crate::{Error, Result, bad_input};
use std::path::Path;

/// A feature spec as given on the command line (`--features`).
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureSpec {
    /// One feature per element of the row.
    Tabular,
    /// Groups of elements read from a JSON file `{"names": [...], "ids": [...]}`, with one
    /// feature id (0..M) per element of the row.
    Map(String),
}

impl FeatureSpec {
    /// Parses `tabular` or `map:FILE.json`.
    ///
    /// ```
    /// use explain_core::features::FeatureSpec;
    /// assert_eq!(FeatureSpec::parse("tabular").unwrap(), FeatureSpec::Tabular);
    /// assert!(FeatureSpec::parse("hexagons:7").is_err());
    /// ```
    pub fn parse(spec: &str) -> Result<FeatureSpec> {
        match spec.split_once(':') {
            None if spec == "tabular" => Ok(FeatureSpec::Tabular),
            Some(("map", file)) if !file.is_empty() => Ok(FeatureSpec::Map(file.into())),
            Some((kind @ ("grid" | "slic" | "segments" | "spectro"), _)) => bad_input!(
                "feature spec '{spec}': '{kind}' features need an image or audio input, which this version does not read yet; for tensor inputs use 'tabular' or 'map:FILE.json'"
            ),
            _ => bad_input!(
                "unknown feature spec '{spec}': expected 'tabular' (one feature per element) or 'map:FILE.json' (named groups of elements)"
            ),
        }
    }
}

impl std::fmt::Display for FeatureSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeatureSpec::Tabular => write!(f, "tabular"),
            FeatureSpec::Map(p) => write!(f, "map:{p}"),
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
