//! Dataset manifests: one CSV row per item, with the item's file (`input`, relative to the
//! manifest), its `label` and any attribute columns (locale, lighting, site, ...).
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.png"), b"").unwrap();
//! let path = dir.path().join("manifest.csv");
//! std::fs::write(&path, "input,label,locale\na.png,1,ja-JP\n").unwrap();
//! let m = explain_core::validation::manifest::Manifest::read(&path).unwrap();
//! assert_eq!(m.attributes(), vec!["locale"]);
//! assert_eq!(m.value(0, "locale"), Some("ja-JP"));
//! m.check_files().unwrap();
//! ```

use crate::math::sampling::StreamKey;
use crate::util::provenance::sha256_file;
use crate::{Result, bad_input};
use std::path::{Path, PathBuf};

/// The column that names each item's file.
pub const INPUT: &str = "input";
/// The column that holds each item's true class.
pub const LABEL: &str = "label";

/// Cell values that mean "not recorded" (compared without case), besides an empty cell.
pub const MISSING_MARKERS: [&str; 3] = ["na", "n/a", "null"];

/// Whether a cell is a missing value: empty, or one of [`MISSING_MARKERS`]. Words such as
/// `none` are values (no defect, no blur), not missing.
pub fn is_missing(cell: &str) -> bool {
    let t = cell.trim();
    t.is_empty() || MISSING_MARKERS.iter().any(|m| t.eq_ignore_ascii_case(m))
}

/// A manifest read into memory: its header and every row's cells, as text.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file, as given.
    pub path: PathBuf,
    pub sha256: String,
    pub columns: Vec<String>,
    /// One entry per item, one cell per column.
    pub rows: Vec<Vec<String>>,
}

impl Manifest {
    /// Reads a manifest CSV. It must have a header with an `input` column, at least one row,
    /// and the same number of cells on every row.
    pub fn read(path: &Path) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|e| {
            crate::Error::Input(format!("cannot read manifest {}: {e}", path.display()))
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes.as_slice());
        let columns: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
            Err(e) => bad_input!("manifest {} is not a readable CSV: {e}", path.display()),
        };
        for (i, c) in columns.iter().enumerate() {
            if c.is_empty() {
                bad_input!(
                    "manifest {}: column {} has an empty name",
                    path.display(),
                    i + 1
                );
            }
            if columns[..i].contains(c) {
                bad_input!("manifest {}: column '{c}' appears twice", path.display());
            }
        }
        if !columns.iter().any(|c| c == INPUT) {
            bad_input!(
                "manifest {} has no '{INPUT}' column (columns: {}); it names each item's file, relative to the manifest",
                path.display(),
                columns.join(", ")
            );
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => bad_input!("manifest {}: {e}", path.display()),
            };
            rows.push(record.iter().map(|c| c.trim().to_string()).collect());
        }
        if rows.is_empty() {
            bad_input!("manifest {} lists no items", path.display());
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            sha256: sha256_file(path)?,
            columns,
            rows,
        })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The index of a column, if present.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The index of a column, or a message listing the columns there are.
    pub fn require(&self, name: &str) -> Result<usize> {
        match self.column(name) {
            Some(i) => Ok(i),
            None => bad_input!(
                "manifest {} has no '{name}' column (columns: {})",
                self.path.display(),
                self.columns.join(", ")
            ),
        }
    }

    /// The attribute columns: every column except `input` and `label`, in file order.
    pub fn attributes(&self) -> Vec<&str> {
        self.columns
            .iter()
            .map(String::as_str)
            .filter(|c| *c != INPUT && *c != LABEL)
            .collect()
    }

    /// Item `i`'s cell in column `name`; `None` when the column is absent. Empty cells are
    /// missing values (`Some("")`).
    pub fn value(&self, i: usize, name: &str) -> Option<&str> {
        self.column(name).map(|c| self.rows[i][c].as_str())
    }

    /// Item `i`'s file name as written in the manifest.
    pub fn input(&self, i: usize) -> &str {
        &self.rows[i][self.column(INPUT).expect("checked on read")]
    }

    /// Item `i`'s file, resolved relative to the manifest's directory.
    pub fn input_path(&self, i: usize) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        dir.join(self.input(i))
    }

    /// Every item's file, resolved.
    pub fn input_paths(&self) -> Vec<PathBuf> {
        (0..self.len()).map(|i| self.input_path(i)).collect()
    }

    /// Fails, listing every missing or empty `input` entry, when any item's file is absent.
    pub fn check_files(&self) -> Result<()> {
        let mut missing = Vec::new();
        for i in 0..self.len() {
            let name = self.input(i);
            if name.is_empty() {
                missing.push(format!("(empty input on line {})", i + 2));
            } else if !self.input_path(i).is_file() {
                missing.push(format!("{name} (line {})", i + 2));
            }
        }
        if !missing.is_empty() {
            bad_input!(
                "manifest {}: {} of {} item files do not exist (paths are relative to the manifest): {}",
                self.path.display(),
                missing.len(),
                self.len(),
                missing.join(", ")
            );
        }
        Ok(())
    }

    /// Every item's label parsed as a class index below `classes`; the error lists the first
    /// offending rows.
    pub fn labels(&self, classes: usize) -> Result<Vec<usize>> {
        let col = self.require(LABEL)?;
        let mut bad = Vec::new();
        let labels: Vec<usize> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| match row[col].parse::<usize>() {
                Ok(v) if v < classes => v,
                _ => {
                    bad.push(format!("line {}: '{}'", i + 2, row[col]));
                    0
                }
            })
            .collect();
        if !bad.is_empty() {
            let shown = bad.len().min(10);
            bad_input!(
                "manifest {}: {} label{} are not classes of the model (integers 0..{}): {}{}",
                self.path.display(),
                bad.len(),
                if bad.len() == 1 { "" } else { "s" },
                classes.saturating_sub(1),
                bad[..shown].join(", "),
                if bad.len() > shown { ", ..." } else { "" }
            );
        }
        Ok(labels)
    }
}

/// What seeds the bootstrap: the user's seed and the identities of the model and the data,
/// so that the same inputs always resample the same way.
#[derive(Debug, Clone, Copy)]
pub struct Seeding<'a> {
    pub seed: u64,
    pub model_sha256: &'a str,
    pub manifest_sha256: &'a str,
}

impl Seeding<'_> {
    /// The stream key for one use, e.g. `slices/bootstrap/locale`.
    pub fn key(&self, purpose: &str) -> StreamKey {
        StreamKey::derive(
            self.seed,
            self.model_sha256,
            self.manifest_sha256,
            0,
            purpose,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("m.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn lists_every_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.png"), b"").unwrap();
        let m = Manifest::read(&write(
            dir.path(),
            "input,label\nok.png,0\ngone.png,1\nalso.png,0\n",
        ))
        .unwrap();
        let e = m.check_files().unwrap_err().to_string();
        assert!(
            e.contains("2 of 3")
                && e.contains("gone.png (line 3)")
                && e.contains("also.png (line 4)"),
            "{e}"
        );
    }

    #[test]
    fn rejects_bad_headers_labels_and_ragged_rows() {
        let dir = tempfile::tempdir().unwrap();
        let e = Manifest::read(&write(dir.path(), "file,label\na,0\n")).unwrap_err();
        assert!(e.to_string().contains("no 'input' column"), "{e}");
        let e = Manifest::read(&write(dir.path(), "input,label\n")).unwrap_err();
        assert!(e.to_string().contains("lists no items"), "{e}");
        let e = Manifest::read(&write(dir.path(), "input,label\na,0,x\n")).unwrap_err();
        assert!(e.to_string().contains("m.csv"), "{e}");
        let m = Manifest::read(&write(dir.path(), "input,label\na,0\nb,2\nc,cat\n")).unwrap();
        let e = m.labels(2).unwrap_err().to_string();
        assert!(
            e.contains("2 labels") && e.contains("line 3: '2'") && e.contains("line 4: 'cat'"),
            "{e}"
        );
        assert!(m.labels(3).is_err());
        let m = Manifest::read(&write(dir.path(), "input,site\na,x\n")).unwrap();
        assert!(
            m.labels(2)
                .unwrap_err()
                .to_string()
                .contains("no 'label' column")
        );
    }
}
