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

use crate::attribution::explainer::{self, Attributions, FileRef, Progress};
use crate::attribution::recipe::Job;
use crate::model::numerics::Platform;
use crate::model::{BackendChoice, BackendWrap};
use crate::report::config::Loaded;
use crate::report::{self, Options as ReportOptions};
use crate::util::output;
use crate::util::pins::Pins;
use crate::util::provenance::sha256_file;
use crate::{Error, Result};
use compare::Checker;
pub use compare::{Agreement, ROUNDING, SectionCheck};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How to verify.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// The report's config, when it is not at the recorded path (reports only).
    pub config: Option<&'a Path>,
    /// Accept differences up to this much per number; `None`: exact on the same numeric
    /// platform, float32 rounding on another.
    pub tolerance: Option<f64>,
    /// Worker threads of the re-run (all cores when `None`; the numbers do not depend on it).
    pub threads: Option<usize>,
    /// Keep the re-run: a report directory, or an attribution file.
    pub keep: Option<&'a Path>,
    /// Re-run with this backend instead of the recorded one.
    pub backend: Option<BackendChoice>,
    /// Wraps the re-run's model backend (tests: a backend that perturbs outputs, standing
    /// for another machine).
    pub wrap: Option<BackendWrap>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub report: String,
    /// How the numbers were compared.
    pub agreement: Agreement,
    /// The numeric platforms of the recorded run and of the re-run, in words.
    pub recorded_platform: String,
    pub rerun_platform: String,
    /// Files whose SHA-256 differs from the recorded one (config, model, inputs, artifacts);
    /// when there are any, nothing is re-run.
    pub changed_files: Vec<String>,
    pub sections: Vec<SectionCheck>,
    /// Discrete results that differ on a knife edge, with the cause that explains them.
    pub knife_edges: Vec<String>,
}

impl Verification {
    /// Whether everything agrees.
    pub fn passed(&self) -> bool {
        self.changed_files.is_empty() && self.sections.iter().all(|s| s.differences == 0)
    }

    fn unchecked(report: &Path, agreement: Agreement, changed: Vec<String>) -> Verification {
        Verification {
            report: report.display().to_string(),
            agreement,
            recorded_platform: String::new(),
            rerun_platform: String::new(),
            changed_files: changed,
            sections: Vec::new(),
            knife_edges: Vec::new(),
        }
    }

    /// A table of sections with the largest deviation of each, then what differs, then the
    /// verdict and how it was reached.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<18} {:>8} {:>11} {:>18} {:>17}",
            "section", "numbers", "differences", "largest deviation", "largest relative"
        );
        for c in &self.sections {
            let _ = writeln!(
                s,
                "{:<18} {:>8} {:>11} {:>18.3e} {:>17.1e}",
                c.section, c.numbers, c.differences, c.largest_deviation, c.largest_relative
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
        for k in &self.knife_edges {
            let _ = writeln!(s, "KNIFE EDGE {k}");
        }
        if !self.recorded_platform.is_empty() {
            let _ = writeln!(s, "recorded on {}", self.recorded_platform);
            if self.rerun_platform != self.recorded_platform {
                let _ = writeln!(s, "re-run on   {}", self.rerun_platform);
            }
        }
        let _ = writeln!(
            s,
            "{}",
            if self.passed() {
                format!("verified: {}", self.how())
            } else {
                format!("NOT VERIFIED ({})", self.how_compared())
            }
        );
        s
    }

    /// How it agreed: `bit-identical`, or within float32 rounding with the largest relative
    /// deviation, or within the tolerance.
    fn how(&self) -> String {
        let edges = match self.knife_edges.len() {
            0 => String::new(),
            1 => "; 1 knife edge explained by rounding".to_string(),
            n => format!("; {n} knife edges explained by rounding"),
        };
        match self.agreement {
            Agreement::Exact => format!("bit-identical (the same numeric platform){edges}"),
            Agreement::Rounding => {
                let largest = self
                    .sections
                    .iter()
                    .map(|c| c.largest_relative)
                    .fold(0.0, f64::max);
                format!(
                    "agrees within float32 rounding: largest relative deviation {largest:.1e} (bound {ROUNDING:.1e}){edges}"
                )
            }
            Agreement::Tolerance(t) => format!("every number agrees within tolerance {t}{edges}"),
        }
    }

    fn how_compared(&self) -> String {
        match self.agreement {
            Agreement::Exact if self.recorded_platform == self.rerun_platform => {
                "compared exactly: the same numeric platform must give identical numbers".into()
            }
            Agreement::Exact => "compared exactly, as --tolerance 0 asks".into(),
            Agreement::Rounding => {
                format!("compared within float32 rounding, bound {ROUNDING:.1e}")
            }
            Agreement::Tolerance(t) => format!("compared within tolerance {t}"),
        }
    }
}

/// The backend, its version and the numeric platform a document records in `section`
/// (`identification` for reports, `model` for attribution files).
fn platform_of(doc: &Value, section: &str) -> (String, Option<Platform>) {
    let s = &doc[section];
    let name = format!(
        "{} {}",
        s["backend"].as_str().unwrap_or("?"),
        s["backend_version"].as_str().unwrap_or("?")
    );
    let numerics = serde_json::from_value::<Platform>(s["numerics"].clone()).ok();
    (name, numerics)
}

/// `tract 0.23.9 on x86_64 linux (amd), native: avx, …` (or that it was not recorded).
fn describe(backend: &str, p: &Option<Platform>) -> String {
    match p {
        Some(p) => format!("{backend} on {}", p.describe()),
        None => format!("{backend} (numeric platform not recorded)"),
    }
}

/// How a re-run must agree with the recorded run, from the platforms both record in
/// `section`, with both platforms in words; and the paths not compared: the backend when
/// another one re-ran, and `section.numerics` (and `extra`) when the platforms differ.
fn platforms(
    recorded: &Value,
    recomputed: &Value,
    section: &str,
    options: &Options,
    extra: &[&str],
) -> (Agreement, String, String, Vec<String>) {
    let (was_backend, was) = platform_of(recorded, section);
    let (now_backend, now) = platform_of(recomputed, section);
    let same = was.is_some() && was_backend == now_backend && was == now;
    let agreement = agreement_for(options.tolerance, same);
    let mut skip = Vec::new();
    if options.backend.is_some() {
        skip.push(format!("{section}.backend"));
        skip.push(format!("{section}.backend_version"));
    }
    if agreement != Agreement::Exact {
        // Where the run was made differs by design.
        skip.push(format!("{section}.numerics"));
        skip.extend(extra.iter().map(|s| s.to_string()));
    }
    (
        agreement,
        describe(&was_backend, &was),
        describe(&now_backend, &now),
        skip,
    )
}

/// Exact where the platforms are the same, within rounding where they differ or are not
/// known, or the tolerance asked for.
fn agreement_for(tolerance: Option<f64>, same_platform: bool) -> Agreement {
    match tolerance {
        Some(0.0) => Agreement::Exact,
        Some(t) => Agreement::Tolerance(t),
        None if same_platform => Agreement::Exact,
        None => Agreement::Rounding,
    }
}

/// Verifies a report.
pub fn verify_report(
    report_path: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Verification> {
    check_options(options)?;
    let recorded = read_document(report_path, report::SCHEMA, "an explain report")?;
    let field = |v: &Value, what: &str| -> Result<String> {
        v.as_str().map(str::to_string).ok_or_else(|| {
            Error::Input(format!(
                "{}: {what} is missing; the report cannot be verified",
                report_path.display()
            ))
        })
    };
    let repro = &recorded["reproducibility"];
    let config_path = match options.config {
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
    // Only the files the (hash-checked) config names are read: a recorded path that is not
    // one of them is tampering, and is not followed.
    let manifest_path = loaded.resolve(&loaded.config.validation.manifest);
    let manifest = match crate::validation::manifest::Manifest::read(&manifest_path) {
        Ok(m) => m,
        Err(e) => {
            changed.push(format!("{} (the manifest: {e})", manifest_path.display()));
            let agreement = agreement_for(options.tolerance, true);
            return Ok(Verification::unchecked(report_path, agreement, changed));
        }
    };
    let named: std::collections::BTreeMap<String, PathBuf> =
        report::named_inputs(&loaded, &manifest)?
            .into_iter()
            .collect();
    for f in &inputs {
        let rel = field(&f["path"], "an input path")?;
        let want = field(&f["sha256"], "an input hash")?;
        let Some(path) = named.get(&rel) else {
            changed.push(format!(
                "{rel} (recorded as an input, but not a file the config names)"
            ));
            continue;
        };
        match sha256_file(path) {
            Ok(h) if h == want => {}
            Ok(_) => changed.push(format!("{rel} (input)")),
            Err(_) => changed.push(format!("{rel} (input, missing)")),
        }
    }
    let recorded_names: std::collections::BTreeSet<&str> =
        inputs.iter().filter_map(|f| f["path"].as_str()).collect();
    for rel in named.keys() {
        if !recorded_names.contains(rel.as_str()) {
            changed.push(format!("{rel} (an input the config names, not recorded)"));
        }
    }
    // Artifacts beside the report, and the page a reviewer reads.
    let dir = report_path.parent().unwrap_or(Path::new("."));
    let mut recorded_artifacts = repro["artifacts"].as_array().cloned().unwrap_or_default();
    if repro["page"].is_object() {
        if repro["page"]["path"] != report::PAGE {
            changed.push(format!(
                "reproducibility.page names {} (the page is {})",
                repro["page"]["path"],
                report::PAGE
            ));
        }
        recorded_artifacts.push(repro["page"].clone());
    }
    for f in &recorded_artifacts {
        let rel = field(&f["path"], "an artifact path")?;
        let want = field(&f["sha256"], "an artifact hash")?;
        let Some(path) = inside(dir, &rel) else {
            changed.push(format!(
                "{rel} (recorded as an artifact, but not a path inside {})",
                dir.display()
            ));
            continue;
        };
        match sha256_file(&path) {
            Ok(h) if h == want => {}
            Ok(_) => changed.push(format!("{rel} (artifact in {})", dir.display())),
            Err(_) => changed.push(format!("{rel} (artifact, missing from {})", dir.display())),
        }
    }
    if !changed.is_empty() {
        // The inputs are not those of the report: a re-run would not reproduce it.
        let agreement = agreement_for(options.tolerance, true);
        return Ok(Verification::unchecked(report_path, agreement, changed));
    }
    // Re-run into a temporary directory (or `keep`) and compare; again with the recorded
    // choices pinned where the re-run took another branch at a knife edge.
    let tmp = scratch_dir()?;
    let out = options
        .keep
        .map_or_else(|| tmp.join("rerun"), Path::to_path_buf);
    let mut pins = Pins::default();
    let mut edges: Vec<String> = Vec::new();
    let result = loop {
        let report_options = ReportOptions {
            out: &out,
            threads: options.threads,
            backend: options.backend.clone(),
            wrap: options.wrap.clone(),
            pins: pins.clone(),
        };
        let recomputed = report::run(&loaded, &report_options, progress).and_then(|_| {
            let bytes = std::fs::read(out.join("report.json"))
                .map_err(|e| Error::Input(format!("cannot read the re-run report: {e}")))?;
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| Error::Input(format!("the re-run report is not JSON: {e}")))
        });
        let recomputed = match recomputed {
            Ok(doc) => doc,
            Err(e) => break Err(e),
        };
        let (mut v, found) = compare_report(report_path, &recorded, &recomputed, &out, options);
        for e in v.knife_edges.drain(..) {
            if !edges.contains(&e) {
                edges.push(e);
            }
        }
        let before = pins.clone();
        pins.extend(found);
        if pins == before || pins.decisions.len() + pins.explanations.len() > MAX_PINS {
            v.knife_edges = edges;
            break Ok(v);
        }
    };
    let _ = std::fs::remove_dir_all(&tmp);
    output::Scratch::unregister(&tmp);
    result
}

/// At most this many choices are pinned: more knife edges than that is not rounding.
const MAX_PINS: usize = 1000;

/// Compares a re-run report (in `out`) with the recorded one (beside `report_path`); returns
/// the verification and, under [`Agreement::Rounding`], the recorded choices to pin where
/// the re-run took another branch at a knife edge.
fn compare_report(
    report_path: &Path,
    recorded: &Value,
    recomputed: &Value,
    out: &Path,
    options: &Options,
) -> (Verification, Pins) {
    let dir = report_path.parent().unwrap_or(Path::new("."));
    // The artifacts' bytes may differ with the numbers on another platform: they are
    // compared through the files themselves below.
    let (agreement, was, now, mut skip) =
        platforms(recorded, recomputed, "identification", options, &[]);
    // The artifacts are compared file by file and the page by re-rendering it (below).
    skip.extend([
        "reproducibility.command".into(),
        "reproducibility.config.path".into(),
        "reproducibility.page".into(),
        "reproducibility.artifacts".into(),
    ]);
    let skip: Vec<&str> = skip.iter().map(String::as_str).collect();
    let mut checker = Checker::new(agreement, recorded, &skip);
    let mut sections = checker.sections(recorded, recomputed, &["timing"]);
    let mut knife_edges = std::mem::take(&mut checker.knife_edges);
    let mut pins = Pins::default();
    // On the same platform every artifact must be the bytes recorded.
    if agreement == Agreement::Exact {
        let mut check = SectionCheck::new("artifacts");
        let listed = |doc: &Value| -> Vec<(String, String)> {
            doc["reproducibility"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
                    (text(&f["path"]), text(&f["sha256"]))
                })
                .collect()
        };
        let (a, b) = (listed(recorded), listed(recomputed));
        if a.iter().map(|x| &x.0).ne(b.iter().map(|x| &x.0)) {
            check.differ_text("reproducibility.artifacts: the re-run wrote other files".into());
        }
        for ((path, want), (_, got)) in a.iter().zip(&b) {
            check.numbers += 1;
            if want != got {
                check.differ_text(format!(
                    "{path}: the re-run wrote other bytes (sha256 {} recorded, {} recomputed)",
                    short(want),
                    short(got)
                ));
            }
        }
        sections.push(check);
    }
    // On another platform, or within a tolerance, the artifacts' bytes may differ: they are
    // compared by what they hold, never skipped.
    if agreement != Agreement::Exact {
        let rule = artifacts::Rule {
            agreement,
            threshold: match recorded["protocol"]["decision"]["mode"]["kind"].as_str() {
                Some("multiclass") => None,
                _ => recorded["protocol"]["decision"]["threshold"].as_f64(),
            },
            scale: compare::Scales::of(recorded).model().max(1.0),
        };
        let mut check = SectionCheck::new("artifacts");
        let mut flips = Vec::new();
        let paths = |doc: &Value| -> Vec<String> {
            doc["reproducibility"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["path"].as_str().map(str::to_string))
                .collect()
        };
        let recorded_paths = paths(recorded);
        if recorded_paths != paths(recomputed) {
            check.differ_text("reproducibility.artifacts: the re-run wrote other files".into());
        }

        let artifact_skip: &[&str] = if options.backend.is_some() {
            &["model.backend", "model.backend_version"]
        } else {
            &[]
        };
        for rel in &recorded_paths {
            artifacts::compare(
                rel,
                &dir.join(rel),
                &out.join(rel),
                rule,
                artifact_skip,
                &mut check,
                &mut knife_edges,
                &mut flips,
            );
            if agreement == Agreement::Rounding
                && rel.starts_with("attributions-")
                && rel.ends_with(".json")
            {
                let (Ok(a), Ok(b)) = (read_json(&dir.join(rel)), read_json(&out.join(rel))) else {
                    continue;
                };
                let found = knife::explanation_edges(rel, &a, &b);
                knife_edges.extend(found.explained);
                pins.extend(found.pins);
            }
        }
        for f in flips {
            match f.cause {
                // Only rounding explains a knife edge: a tolerance is what the user accepts.
                Some(cause) => {
                    knife_edges.push(format!(
                        "predictions.csv: {} decided {} when recorded, {} now ({cause})",
                        f.input, f.recorded, f.recomputed
                    ));
                    pins.decisions.insert(f.input, f.recorded);
                }
                None => check.differ_text(format!(
                    "predictions.csv: {} decided {} when recorded, {} now: not a decision rounding explains",
                    f.input, f.recorded, f.recomputed
                )),
            }
        }
        sections.push(check);
    }
    if recorded["reproducibility"]["page"].is_object() {
        sections.push(compare_page(dir, recorded, recomputed, out, agreement));
    }
    let v = Verification {
        report: report_path.display().to_string(),
        agreement,
        recorded_platform: was,
        rerun_platform: now,
        changed_files: Vec::new(),
        sections,
        knife_edges,
    };
    (v, pins)
}

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
        let recomputed: Value = serde_json::from_slice(&text).expect("valid JSON");
        let (agreement, was, now, skip) = platforms(&recorded, &recomputed, "model", options, &[]);
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

/// A usable tolerance, and a backend this build has.
fn check_options(options: &Options) -> Result<()> {
    if let Some(t) = options.tolerance
        && !(t >= 0.0 && t.is_finite())
    {
        return Err(Error::Input(format!(
            "--tolerance must be a non-negative number, got {t}"
        )));
    }
    match &options.backend {
        Some(b) => b.check_available(),
        None => Ok(()),
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
    let text = crate::util::limits::read_file(path)?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::Input(format!("{} is not JSON: {e}", path.display())))
}

/// The page a reviewer reads, re-rendered from the re-run (with the recorded command, config
/// path and backend, which it shows and which say where and how the run was made, not what it
/// found) and compared with the recorded `report.html`: identical on the same numeric platform,
/// by what it shows otherwise.
fn compare_page(
    dir: &Path,
    recorded: &Value,
    recomputed: &Value,
    out: &Path,
    agreement: Agreement,
) -> SectionCheck {
    let mut check = SectionCheck::new("page");
    let mut doc = recomputed.clone();
    // The artifacts' hashes too: on another platform they differ with the numbers, which are
    // compared through the files themselves.
    for (section, key) in [
        ("reproducibility", "command"),
        ("reproducibility", "artifacts"),
        ("identification", "backend"),
        ("identification", "backend_version"),
    ] {
        doc[section][key] = recorded[section][key].clone();
    }
    doc["reproducibility"]["config"]["path"] =
        recorded["reproducibility"]["config"]["path"].clone();
    if let Some(r) = doc["reproducibility"].as_object_mut() {
        r.remove("page");
    }
    let page = match serde_json::from_value::<report::Report>(doc)
        .map_err(|e| Error::Input(e.to_string()))
        .and_then(|doc| crate::report::html::render(&doc, out))
    {
        Ok(p) => p,
        Err(e) => {
            check.differ_text(format!("{}: cannot re-render it: {e}", report::PAGE));
            return check;
        }
    };
    let recorded_page = crate::util::limits::read_file(&dir.join(report::PAGE)).unwrap_or_default();
    check.numbers += 1;
    match agreement {
        Agreement::Exact => {
            if recorded_page != page.as_bytes() {
                check.differ_text(format!(
                    "{}: differs from the page re-rendered from the re-run",
                    report::PAGE
                ));
            }
        }
        _ => {
            let scale = compare::Scales::of(recorded).model().max(1.0);
            artifacts::markup(
                report::PAGE,
                &recorded_page,
                page.as_bytes(),
                scale,
                &mut check,
            )
        }
    }
    check
}

/// The first 12 characters of a hash.
fn short(hash: &str) -> &str {
    &hash[..hash.floor_char_boundary(12)]
}

/// `dir/rel` when `rel` is a relative path that stays inside `dir` (no `..`, no root, no
/// symbolic link on the way).
fn inside(dir: &Path, rel: &str) -> Option<PathBuf> {
    use std::path::Component;
    let rel = Path::new(rel);
    if rel.as_os_str().is_empty()
        || !rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    let mut path = dir.to_path_buf();
    for c in rel.components() {
        path.push(c);
        if path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return None;
        }
    }
    Some(path)
}

/// A fresh directory for the re-run, removed afterwards.
fn scratch_dir() -> Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = std::env::temp_dir().join(format!("explain-verify-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p)
        .map_err(|e| Error::Input(format!("cannot create {}: {e}", p.display())))?;
    output::Scratch::register(&p);
    Ok(p)
}
