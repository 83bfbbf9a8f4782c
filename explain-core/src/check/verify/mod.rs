//! `explain verify DIR/report.json` (or an attribution file, see [`verify_attributions`]): a
//! reviewer's check of a submitted report. It checks the SHA-256 of the config, the model
//! and every input file against the recorded ones, checks the report's artifacts against
//! their recorded hashes, re-runs the report from the recorded config with the same seed and
//! parameters, and compares every number.
//!
//! How the numbers must agree depends on where the re-run ran ([`Agreement`]):
//!
//! * on the same numeric platform as the recorded run (same backend and version, same CPU
//!   features, kernels and mode: [`crate::model::numerics::Platform`]) the re-run must be
//!   **bit-identical**, and so must every artifact;
//! * on another one (another CPU, another backend) numbers that come from model outputs must
//!   agree **within float32 rounding** propagated to their scale ([`compare`]), everything
//!   discrete exactly, and the artifacts whose bytes depend on those numbers (attribution
//!   files, predictions, plots) are compared by what they hold ([`artifacts`]); the input
//!   files, model and config are compared by hash in every case;
//! * `--tolerance T` accepts differences up to `T` per number instead.
//!
//! Discrete results that sit on a knife edge (a decision within rounding of the threshold, a
//! rank step between values tied within rounding) are named with their cause instead of
//! failing the check; a discrete change rounding cannot explain is a difference.
//!
//! Anything tampered with, in `report.json` or in the files beside it, shows up as a
//! difference.

pub mod artifacts;
pub mod compare;
pub mod knife;
mod reports;
mod verification;

use crate::attribution::explainer::{self, Attributions, FileRef, Progress};
use crate::attribution::recipe::Job;
use crate::model::BackendChoice;
use crate::report;
use crate::util::output;
use crate::util::provenance::sha256_file;
use crate::{Error, Result};
use compare::Checker;
pub use compare::{Agreement, ROUNDING, SectionCheck};
pub use reports::verify_report;
use serde_json::Value;
use std::path::Path;
use verification::{
    MAX_PINS, agreement_for, check_options, model_platform, platforms, read_document, read_json,
};
pub use verification::{Options, Verification};

/// Verifies an attribution file written by `explain shap|lime`: the SHA-256 of the model,
/// every input, background and held file (paths as recorded, relative to the current
/// directory), then a re-run of the recorded [`Job`] compared number by number.
pub fn verify_attributions(
    path: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Verification> {
    check_options(options)?;
    let recorded = read_document(path, explainer::SCHEMA, "an attribution file")?;
    let doc: Attributions = serde_json::from_value(recorded.clone()).map_err(|e| {
        Error::Input(format!(
            "{} is not a valid attribution file: {e}",
            path.display()
        ))
    })?;
    let mut job = Job::from_attributions(&doc)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    if let Some(b) = &options.backend {
        job.backend = b.clone();
        if matches!(b, BackendChoice::Ort { .. }) {
            job.numerics = crate::model::numerics::Mode::Native;
        }
    }
    job.wrap = options.wrap.clone();
    if let Some(k) = options.keep {
        output::check_output(k, &job.files())?;
    }
    let mut files: Vec<(&FileRef, &str)> = doc
        .inputs
        .iter()
        .map(|f| (f, "input"))
        .chain(doc.background.iter().map(|f| (f, "background")))
        .collect();
    let model = FileRef {
        path: doc.model.path.clone(),
        sha256: doc.model.sha256.clone(),
        rows: None,
    };
    files.insert(0, (&model, "model"));
    files.extend(doc.model.external_data.iter().map(|f| (f, "model weights")));
    let held: Vec<&FileRef> = job
        .recipe
        .hold
        .iter()
        .filter_map(|h| h.file.as_ref())
        .collect();
    files.extend(held.into_iter().map(|f| (f, "held input")));
    let mut changed = Vec::new();
    for (f, what) in files {
        match sha256_file(Path::new(&f.path)) {
            Ok(h) if h == f.sha256 => {}
            Ok(_) => changed.push(format!("{} ({what})", f.path)),
            Err(_) => changed.push(format!(
                "{} ({what}, missing from {})",
                f.path,
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| ".".into())
            )),
        }
    }
    if !changed.is_empty() {
        let agreement = agreement_for(options.tolerance, true);
        return Ok(Verification::unchecked(path, agreement, changed));
    }
    let mut edges: Vec<String> = Vec::new();
    loop {
        let (again, _) = job.run(options.threads, progress)?;
        // Compared as the file would hold it (f32 fields print shorter than their f64 values).
        let text = serde_json::to_vec(&again).expect("serialisable");
        let mut recomputed: Value = serde_json::from_slice(&text).expect("valid JSON");
        // The recipe is what the re-run was made from, not a result: it is kept as recorded
        // (a recipe re-written by this version spells its specs canonically, e.g. `silence`
        // as `zero`, which is the same run).
        recomputed["recipe"] = recorded["recipe"].clone();
        let (agreement, was, now, skip) = platforms(
            model_platform(&doc.model),
            model_platform(&again.model),
            "model",
            options,
        );
        let skip: Vec<&str> = skip.iter().map(String::as_str).collect();
        let mut checker = Checker::new(agreement, &recorded, &skip);
        let sections = checker.sections(&recorded, &recomputed, &[]);
        for e in checker.knife_edges {
            if !edges.contains(&e) {
                edges.push(e);
            }
        }
        if agreement == Agreement::Rounding {
            let name = path.display().to_string();
            let found = knife::explanation_edges(&name, &recorded, &recomputed);
            let mut pins = (*job.pins).clone();
            let before = pins.clone();
            pins.extend(found.pins);
            if pins != before && pins.explanations.len() <= MAX_PINS {
                edges.extend(found.explained);
                job.pins = std::sync::Arc::new(pins);
                continue;
            }
        }
        if let Some(k) = options.keep {
            output::write_json(k, &again)?;
        }
        return Ok(Verification {
            report: path.display().to_string(),
            agreement,
            recorded_platform: was,
            rerun_platform: now,
            changed_files: changed,
            sections,
            knife_edges: edges,
        });
    }
}

/// Verifies a report or an attribution file, by its schema. `options.config` applies to
/// reports only; `options.keep` is a directory for a report's re-run and a file for an
/// attribution file's.
pub fn verify_file(
    path: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Verification> {
    let value = read_json(path)?;
    match value["schema"].as_str() {
        Some(report::SCHEMA) => verify_report(path, options, progress),
        Some(explainer::SCHEMA) => {
            if options.config.is_some() {
                return Err(Error::Input(format!(
                    "--config applies to reports; {} is an attribution file",
                    path.display()
                )));
            }
            verify_attributions(path, options, progress)
        }
        _ => Err(Error::Input(format!(
            "{} is neither a report ({}) nor an attribution file ({}): its schema is {}",
            path.display(),
            report::SCHEMA,
            explainer::SCHEMA,
            value["schema"]
        ))),
    }
}
