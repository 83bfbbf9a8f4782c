//! What went into a report and what came out: the report directory's paths, the data
//! inventory of its manifests, the named input files and the artifacts with their hashes.

use crate::artifact::config::Loaded;
use crate::attribution::explainer::{Attributions, FileRef};
use crate::model::inspect;
use crate::util::provenance::{sha256_file, sha256_hex};
use crate::validation::inventory::{self, Datasheet, Inventory, Role};
use crate::validation::manifest::Manifest;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Rewrites a path under the config's directory as relative to it, so that the report reads
/// the same wherever it is run from.
pub(crate) struct Paths {
    pub(crate) prefix: String,
}

impl Paths {
    pub(crate) fn new(l: &Loaded) -> Paths {
        let dir = l
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .display()
            .to_string();
        Paths {
            prefix: if dir.is_empty() {
                String::new()
            } else {
                format!("{}/", dir.trim_end_matches('/'))
            },
        }
    }

    pub(crate) fn rel(&self, p: &str) -> String {
        match p.strip_prefix(&self.prefix) {
            Some(r) if !self.prefix.is_empty() => r.to_string(),
            _ => p.to_string(),
        }
    }
}

pub(crate) fn relativize(doc: &mut Attributions, paths: &Paths) {
    doc.model.path = paths.rel(&doc.model.path);
    for f in doc
        .inputs
        .iter_mut()
        .chain(doc.background.iter_mut())
        .chain(doc.model.external_data.iter_mut())
    {
        f.path = paths.rel(&f.path);
    }
    for e in &mut doc.explanations {
        e.input = paths.rel(&e.input);
    }
}

pub(crate) fn inventory_of(l: &Loaded, manifest: &Manifest, paths: &Paths) -> Result<Inventory> {
    let c = &l.config;
    let mut sources = vec![(Role::Validation, manifest.clone())];
    for arg in &c.data.manifests {
        let (role, rel) =
            inventory::parse_source_arg(arg).map_err(|e| l.error("data", "manifests", e))?;
        let m = Manifest::read(&l.resolve(&rel.to_string_lossy()))
            .map_err(|e| l.error("data", "manifests", e))?;
        sources.push((role, m));
    }
    // The datasheet: a file or the inline table, with the config's [markets] on top.
    let (mut table, sheet_path): (toml::Table, PathBuf) = match (&c.data.datasheet, &c.datasheet) {
        (Some(_), Some(_)) => {
            return Err(l.error(
                "data",
                "datasheet",
                "give a datasheet file or an inline [datasheet] table, not both",
            ));
        }
        (Some(file), None) => {
            let path = l.resolve(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                l.error(
                    "data",
                    "datasheet",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let table =
                crate::util::toml::parse(&text, &format!("datasheet {}", path.display()), "")?;
            if c.markets.is_none() {
                // Checked as written, so that errors name the file's own lines (the table
                // below is parsed again as TOML re-written, with the config's [markets]).
                Datasheet::parse(&text, &path)?;
            }
            (table, path)
        }
        (None, Some(t)) => (t.clone(), l.path.clone()),
        (None, None) => (toml::Table::new(), l.path.clone()),
    };
    if let Some(m) = &c.markets {
        // Checked on its own first, so that a bad value is blamed on the config and its line.
        let mut only = toml::Table::new();
        only.insert("markets".into(), toml::Value::Table(m.clone()));
        let text = toml::to_string(&only).map_err(|e| Error::Input(format!("[markets]: {e}")))?;
        if let Err(e) = Datasheet::parse(&text, &l.path) {
            let message = e.to_string();
            let message = message
                .split_once(": ")
                .map_or(message.as_str(), |(_, rest)| rest)
                .to_string();
            let market = message
                .split_once("market '")
                .and_then(|(_, rest)| rest.split_once('\''))
                .map_or(String::new(), |(name, _)| name.to_string());
            return Err(l.error("markets", &market, message));
        }
        table.insert("markets".into(), toml::Value::Table(m.clone()));
    }
    let datasheet = if table.is_empty() {
        None
    } else {
        let text = toml::to_string(&table).map_err(|e| Error::Input(format!("datasheet: {e}")))?;
        Some(Datasheet::parse(&text, &sheet_path)?)
    };
    let mut inv = inventory::build(&sources, datasheet.as_ref(), &inventory::Options::default())?;
    for d in &mut inv.datasets {
        d.manifest = paths.rel(&d.manifest);
    }
    if let Some(d) = &mut inv.datasheet {
        d.path = paths.rel(&d.path);
    }
    inv.coverage.manifests = inv
        .coverage
        .manifests
        .iter()
        .map(|m| paths.rel(m))
        .collect();
    if let Some(r) = &mut inv.coverage.reason
        && !paths.prefix.is_empty()
    {
        *r = r.replace(&paths.prefix, "");
    }
    for t in &mut inv.coverage.attributes {
        t.manifests = t.manifests.iter().map(|m| paths.rel(m)).collect();
        if let Some(r) = &mut t.reason
            && !paths.prefix.is_empty()
        {
            *r = r.replace(&paths.prefix, "");
        }
    }
    for a in (inv.coverage.markets.iter_mut()).flat_map(|m| &mut m.attributes) {
        if let Some(r) = &mut a.reason
            && !paths.prefix.is_empty()
        {
            *r = r.replace(&paths.prefix, "");
        }
    }
    if !paths.prefix.is_empty() {
        for m in &mut inv.coverage.markets {
            if !m.attributes.is_empty() {
                m.verdict = m.verdict.replace(&paths.prefix, "");
            }
        }
    }
    Ok(inv)
}

/// Every file the config makes the report read, as `reproducibility.inputs` names them
/// (relative to the config's directory where they lie under it): the model, the validation
/// manifest and every item in it, the listed items, background files, files held as model
/// inputs, the datasheet and the inventory's other manifests. `explain verify` accepts
/// recorded inputs from this list only.
pub fn named_inputs(l: &Loaded, manifest: &Manifest) -> Result<Vec<(String, PathBuf)>> {
    let c = &l.config;
    let model = l.resolve(&c.model.path);
    let mut files: Vec<PathBuf> = vec![model.clone(), manifest.path.clone()];
    // The model's weights kept beside it, if any.
    if let Ok(info) = inspect(&model) {
        files.extend(info.external_paths());
    }
    files.extend(c.explanations.items.iter().map(|i| l.resolve(i.path())));
    files.extend(c.explanations.background.iter().map(|b| l.resolve(b)));
    for h in &c.model.hold {
        if let Some((_, file)) = h.split_once('=')
            && file != "zeros"
        {
            files.push(l.resolve(file));
        }
    }
    if let Some(d) = &c.data.datasheet {
        files.push(l.resolve(d));
    }
    for arg in &c.data.manifests {
        let (_, rel) =
            inventory::parse_source_arg(arg).map_err(|e| l.error("data", "manifests", e))?;
        files.push(l.resolve(&rel.to_string_lossy()));
    }
    files.extend(manifest.input_paths());
    let paths = Paths::new(l);
    let mut seen = std::collections::BTreeSet::new();
    Ok(files
        .into_iter()
        .filter_map(|f| {
            let shown = paths.rel(&f.display().to_string());
            seen.insert(shown.clone()).then_some((shown, f))
        })
        .collect())
}

pub(crate) fn input_files(l: &Loaded, manifest: &Manifest) -> Result<Vec<FileRef>> {
    named_inputs(l, manifest)?
        .into_iter()
        .map(|(shown, f)| {
            Ok(FileRef {
                path: shown,
                sha256: sha256_file(&f)?,
                rows: None,
            })
        })
        .collect()
}

/// Every file under the report directory except report.json and report.html, sorted.
pub(crate) fn artifacts(dir: &Path) -> Result<Vec<FileRef>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .map_err(|e| Error::Input(format!("cannot list {}: {e}", d.display())))?
        {
            let p = e
                .map_err(|e| Error::Input(format!("cannot list {}: {e}", d.display())))?
                .path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let mut out: Vec<FileRef> = files
        .iter()
        .map(|p| {
            let rel = p
                .strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/");
            Ok(FileRef {
                path: rel,
                sha256: sha256_hex(
                    &std::fs::read(p)
                        .map_err(|e| Error::Input(format!("cannot read {}: {e}", p.display())))?,
                ),
                rows: None,
            })
        })
        .collect::<Result<_>>()?;
    out.retain(|f| f.path != "report.json" && f.path != "report.html");
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
