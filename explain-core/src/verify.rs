//! `explain verify DIR/report.json` (or an attribution file, see [`verify_attributions`]): a
//! reviewer's check of a submitted report. It checks the
//! SHA-256 of the config, the model and every input file against the recorded ones, checks the
//! report's artifacts against their recorded hashes, re-runs the report from the recorded
//! config with the same seed and parameters, and compares every number.
//!
//! On the same backend the re-run must give identical numbers (`tolerance` 0); across backends
//! a tolerance applies. Anything tampered with, in `report.json` or in the files beside it,
//! shows up as a difference.
//!
//! A re-run can use another backend than the recorded one (`explain verify --backend ort
//! --tolerance 1e-5`): then the recorded backend and its version are not compared (nor the
//! hashes of the re-run's artifacts, which record the backend), and every number is compared
//! within the tolerance.

use crate::config::Loaded;
use crate::explainer::{self, Attributions, FileRef, ProgressSink};
use crate::model::BackendChoice;
use crate::output;
use crate::provenance::{sha256_file, sha256_hex};
use crate::recipe::Job;
use crate::report::{self, Options};
use crate::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How one section compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionCheck {
    pub section: String,
    /// Numbers compared.
    pub numbers: usize,
    /// Values of any kind that differ (beyond the tolerance for numbers).
    pub differences: usize,
    pub largest_deviation: f64,
    /// The first differences, as `path: recorded → recomputed`.
    pub first: Vec<String>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub report: String,
    pub tolerance: f64,
    /// Files whose SHA-256 differs from the recorded one (config, model, inputs, artifacts);
    /// when there are any, nothing is re-run.
    pub changed_files: Vec<String>,
    pub sections: Vec<SectionCheck>,
}

impl Verification {
    /// Whether everything agrees.
    pub fn passed(&self) -> bool {
        self.changed_files.is_empty() && self.sections.iter().all(|s| s.differences == 0)
    }

    /// A table of sections with the largest deviation of each, then what differs.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<18} {:>8} {:>11} {:>18}",
            "section", "numbers", "differences", "largest deviation"
        );
        for c in &self.sections {
            let _ = writeln!(
                s,
                "{:<18} {:>8} {:>11} {:>18.3e}",
                c.section, c.numbers, c.differences, c.largest_deviation
            );
        }
        for f in &self.changed_files {
            let _ = writeln!(s, "CHANGED {f}");
        }
        for c in &self.sections {
            for d in &c.first {
                let _ = writeln!(s, "DIFFERS {d}");
            }
        }
        let _ = writeln!(
            s,
            "{}",
            if self.passed() {
                format!(
                    "verified: every number agrees (tolerance {})",
                    self.tolerance
                )
            } else {
                "NOT VERIFIED".to_string()
            }
        );
        s
    }
}

/// Verifies a report. `config` overrides the recorded config path (when the report is checked
/// from another directory than the one it was made in); `keep` keeps the re-run report there
/// (e.g. for `explain diff`); `backend` re-runs with another backend than the config's.
pub fn verify_report(
    report_path: &Path,
    config: Option<&Path>,
    tolerance: f64,
    threads: Option<usize>,
    keep: Option<&Path>,
    backend: Option<&BackendChoice>,
    progress: &dyn ProgressSink,
) -> Result<Verification> {
    check_tolerance(tolerance)?;
    if let Some(b) = backend {
        b.check_available()?;
    }
    let mut recorded = read_document(report_path, report::SCHEMA, "an explain report")?;
    let field = |v: &Value, what: &str| -> Result<String> {
        v.as_str().map(str::to_string).ok_or_else(|| {
            Error::Input(format!(
                "{}: {what} is missing; the report cannot be verified",
                report_path.display()
            ))
        })
    };
    let repro = &recorded["reproducibility"];
    let config_path = match config {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(field(
            &repro["config"]["path"],
            "reproducibility.config.path",
        )?),
    };
    if !config_path.is_file() {
        return Err(Error::Input(format!(
            "the report's config {} does not exist here; give its location with --config",
            config_path.display()
        )));
    }
    let mut changed = Vec::new();
    let config_sha = field(&repro["config"]["sha256"], "reproducibility.config.sha256")?;
    if sha256_file(&config_path)? != config_sha {
        changed.push(format!("{} (the config)", config_path.display()));
    }
    let loaded = Loaded::read(&config_path)?;
    // Inputs: paths relative to the config's directory, as recorded.
    let inputs = repro["inputs"].as_array().cloned().unwrap_or_default();
    if inputs.is_empty() {
        return Err(Error::Input(format!(
            "{}: reproducibility.inputs is empty; nothing to verify against",
            report_path.display()
        )));
    }
    for f in &inputs {
        let rel = field(&f["path"], "an input path")?;
        let want = field(&f["sha256"], "an input hash")?;
        let path = loaded.resolve(&rel);
        match sha256_file(&path) {
            Ok(h) if h == want => {}
            Ok(_) => changed.push(format!("{rel} (input)")),
            Err(_) => changed.push(format!("{rel} (input, missing)")),
        }
    }
    // Artifacts beside the report.
    let dir = report_path.parent().unwrap_or(Path::new("."));
    for f in repro["artifacts"].as_array().cloned().unwrap_or_default() {
        let rel = field(&f["path"], "an artifact path")?;
        let want = field(&f["sha256"], "an artifact hash")?;
        match std::fs::read(dir.join(&rel)) {
            Ok(bytes) if sha256_hex(&bytes) == want => {}
            Ok(_) => changed.push(format!("{rel} (artifact in {})", dir.display())),
            Err(_) => changed.push(format!("{rel} (artifact, missing from {})", dir.display())),
        }
    }
    if !changed.is_empty() {
        // The inputs are not those of the report: a re-run would not reproduce it.
        return Ok(Verification {
            report: report_path.display().to_string(),
            tolerance,
            changed_files: changed,
            sections: Vec::new(),
        });
    }
    // Re-run into a temporary directory (or `keep`) and compare.
    let tmp = scratch_dir()?;
    let out = keep.map_or_else(|| tmp.join("rerun"), Path::to_path_buf);
    let options = Options {
        out: &out,
        threads,
        backend: backend.cloned(),
    };
    let rerun = report::run(&loaded, &options, progress);
    let result = rerun.and_then(|_| {
        let bytes = std::fs::read(out.join("report.json"))
            .map_err(|e| Error::Input(format!("cannot read the re-run report: {e}")))?;
        serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| Error::Input(format!("the re-run report is not JSON: {e}")))
    });
    let _ = std::fs::remove_dir_all(&tmp);
    let mut recomputed = result?;
    if backend.is_some() {
        for doc in [&mut recorded, &mut recomputed] {
            forget_backend(doc, "identification");
            if let Some(r) = doc
                .get_mut("reproducibility")
                .and_then(Value::as_object_mut)
            {
                r.remove("artifacts");
            }
        }
    }
    Ok(Verification {
        report: report_path.display().to_string(),
        tolerance,
        changed_files: changed,
        sections: compare_sections(&recorded, &recomputed, tolerance, &["timing"]),
    })
}

/// Verifies an attribution file written by `explain shap|lime`: the SHA-256 of the model,
/// every input, background and held file (paths as recorded, relative to the current
/// directory), then a re-run of the recorded [`Job`] compared number by number. `keep`
/// writes the re-run attribution file there; `backend` re-runs with another backend than the
/// recorded one.
pub fn verify_attributions(
    path: &Path,
    tolerance: f64,
    threads: Option<usize>,
    keep: Option<&Path>,
    backend: Option<&BackendChoice>,
    progress: &dyn ProgressSink,
) -> Result<Verification> {
    check_tolerance(tolerance)?;
    if let Some(b) = backend {
        b.check_available()?;
    }
    let mut recorded = read_document(path, explainer::SCHEMA, "an attribution file")?;
    let doc: Attributions = serde_json::from_value(recorded.clone()).map_err(|e| {
        Error::Input(format!(
            "{} is not a valid attribution file: {e}",
            path.display()
        ))
    })?;
    let mut job = Job::from_attributions(&doc)
        .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    if let Some(b) = backend {
        job.backend = b.clone();
    }
    if let Some(k) = keep {
        output::check_writable(k)?;
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
        return Ok(Verification {
            report: path.display().to_string(),
            tolerance,
            changed_files: changed,
            sections: Vec::new(),
        });
    }
    let (again, _) = job.run(threads, progress)?;
    if let Some(k) = keep {
        output::write_json(k, &again)?;
    }
    // Compared as the file would hold it (f32 fields print shorter than their f64 values).
    let text = serde_json::to_vec(&again).expect("serialisable");
    let mut recomputed: Value = serde_json::from_slice(&text).expect("valid JSON");
    if backend.is_some() {
        forget_backend(&mut recorded, "model");
        forget_backend(&mut recomputed, "model");
    }
    Ok(Verification {
        report: path.display().to_string(),
        tolerance,
        changed_files: changed,
        sections: compare_sections(&recorded, &recomputed, tolerance, &[]),
    })
}

/// Verifies a report or an attribution file, by its schema. `config` applies to reports
/// only; `keep` is a directory for a report's re-run and a file for an attribution file's;
/// `backend` re-runs with another backend than the recorded one.
pub fn verify_file(
    path: &Path,
    config: Option<&Path>,
    tolerance: f64,
    threads: Option<usize>,
    keep: Option<&Path>,
    backend: Option<&BackendChoice>,
    progress: &dyn ProgressSink,
) -> Result<Verification> {
    let value = read_json(path)?;
    match value["schema"].as_str() {
        Some(report::SCHEMA) => {
            verify_report(path, config, tolerance, threads, keep, backend, progress)
        }
        Some(explainer::SCHEMA) => {
            if config.is_some() {
                return Err(Error::Input(format!(
                    "--config applies to reports; {} is an attribution file",
                    path.display()
                )));
            }
            verify_attributions(path, tolerance, threads, keep, backend, progress)
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

/// Leaves out `section.backend` and `section.backend_version`: a re-run with another backend
/// than the recorded one differs there by design.
fn forget_backend(doc: &mut Value, section: &str) {
    if let Some(s) = doc.get_mut(section).and_then(Value::as_object_mut) {
        s.remove("backend");
        s.remove("backend_version");
    }
}

fn check_tolerance(tolerance: f64) -> Result<()> {
    if tolerance >= 0.0 && tolerance.is_finite() {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "--tolerance must be a non-negative number, got {tolerance}"
        )))
    }
}

/// Reads a JSON document that must carry `schema`.
fn read_document(path: &Path, schema: &str, what: &str) -> Result<Value> {
    let doc = read_json(path)?;
    if doc["schema"] != schema {
        return Err(Error::Input(format!(
            "{} is not {what} (schema {}, expected {schema})",
            path.display(),
            doc["schema"],
        )));
    }
    Ok(doc)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read(path)
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::Input(format!("{} is not JSON: {e}", path.display())))
}

/// Compares two documents section by section (top-level keys, `skip` left out); a section
/// only one of them has is a difference.
fn compare_sections(
    recorded: &Value,
    recomputed: &Value,
    tolerance: f64,
    skip: &[&str],
) -> Vec<SectionCheck> {
    let mut sections = Vec::new();
    for (key, a) in recorded.as_object().into_iter().flatten() {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let mut check = SectionCheck {
            section: key.clone(),
            numbers: 0,
            differences: 0,
            largest_deviation: 0.0,
            first: Vec::new(),
        };
        compare(a, &recomputed[key], key, tolerance, &mut check);
        sections.push(check);
    }
    for (key, _) in recomputed.as_object().into_iter().flatten() {
        if recorded.get(key).is_none() && !skip.contains(&key.as_str()) {
            sections.push(SectionCheck {
                section: key.clone(),
                numbers: 0,
                differences: 1,
                largest_deviation: 0.0,
                first: vec![format!("{key}: missing from the recorded file")],
            });
        }
    }
    sections
}

/// A fresh directory for the re-run, removed afterwards.
fn scratch_dir() -> Result<PathBuf> {
    let p = std::env::temp_dir().join(format!("explain-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p)
        .map_err(|e| Error::Input(format!("cannot create {}: {e}", p.display())))?;
    Ok(p)
}

/// How many differences are listed per section.
const FIRST: usize = 5;

fn differ(check: &mut SectionCheck, path: &str, a: &Value, b: &Value) {
    check.differences += 1;
    if check.first.len() < FIRST {
        let show = |v: &Value| {
            let s = v.to_string();
            if s.len() > 80 {
                format!("{}…", &s[..s.floor_char_boundary(80)])
            } else {
                s
            }
        };
        check.first.push(format!(
            "{path}: recorded {} → recomputed {}",
            show(a),
            show(b)
        ));
    }
}

/// Walks two JSON values together; numbers within `tolerance` agree, everything else must be
/// equal. `reproducibility.command` and `reproducibility.config.path` say where the report
/// was written and read from, not what it holds (the config's hash is compared), so they are
/// not compared.
fn compare(a: &Value, b: &Value, path: &str, tolerance: f64, check: &mut SectionCheck) {
    if path == "reproducibility.command" || path == "reproducibility.config.path" {
        return;
    }
    // With a tolerance, the re-run's files may differ in the last bits, and so their hashes;
    // the numbers they hold are compared through the report itself, and the files beside the
    // report are checked against the recorded hashes separately.
    if tolerance > 0.0 && path == "reproducibility.artifacts" {
        return;
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            check.numbers += 1;
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            let d = (x - y).abs();
            if d > check.largest_deviation || d.is_nan() {
                check.largest_deviation = if d.is_nan() { f64::INFINITY } else { d };
            }
            if d.is_nan() || d > tolerance {
                differ(check, path, a, b);
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    Some(vb) => compare(va, vb, &p, tolerance, check),
                    None => differ(check, &p, va, &Value::Null),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    differ(check, &format!("{path}.{k}"), &Value::Null, vb);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                differ(
                    check,
                    &format!("{path} (length)"),
                    &Value::from(x.len()),
                    &Value::from(y.len()),
                );
            }
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                compare(va, vb, &format!("{path}[{i}]"), tolerance, check);
            }
        }
        _ if a == b => {}
        _ => differ(check, path, a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_of(a: Value, b: Value, tol: f64) -> SectionCheck {
        let mut c = SectionCheck {
            section: "s".into(),
            numbers: 0,
            differences: 0,
            largest_deviation: 0.0,
            first: Vec::new(),
        };
        compare(&a, &b, "s", tol, &mut c);
        c
    }

    #[test]
    fn numbers_strings_and_structure_are_compared() {
        let a = json!({"x": [1.0, 2.0, {"y": "a"}], "z": true});
        assert_eq!(check_of(a.clone(), a.clone(), 0.0).differences, 0);
        let c = check_of(
            a.clone(),
            json!({"x": [1.0, 2.5, {"y": "a"}], "z": true}),
            0.0,
        );
        assert_eq!((c.numbers, c.differences, c.largest_deviation), (2, 1, 0.5));
        assert!(
            c.first[0].starts_with("s.x[1]: recorded 2.0 → recomputed 2.5"),
            "{:?}",
            c.first
        );
        assert_eq!(
            check_of(
                a.clone(),
                json!({"x": [1.0, 2.5, {"y": "a"}], "z": true}),
                0.6
            )
            .differences,
            0
        );
        assert_eq!(
            check_of(
                a.clone(),
                json!({"x": [1.0, 2.0, {"y": "b"}], "z": true}),
                0.0
            )
            .differences,
            1
        );
        assert_eq!(
            check_of(a.clone(), json!({"x": [1.0, 2.0], "z": true}), 0.0).differences,
            1
        );
        assert_eq!(
            check_of(a, json!({"x": [1.0, 2.0, {"y": "a"}]}), 0.0).differences,
            1
        );
    }
}
