//! Verifying a report: the hashes of its config, inputs and artifacts, then a re-run from the
//! recorded config into a scratch directory, compared number by number with `report.json`,
//! artifact by artifact, and through the page re-rendered from the re-run.

use super::compare::{self, Agreement, Checker, SectionCheck};
use super::verification::{
    MAX_PINS, Options, Verification, agreement_for, check_options, platform_of, platforms,
    read_document, read_json,
};
use super::{artifacts, knife};
use crate::attribution::explainer::Progress;
use crate::report::config::Loaded;
use crate::report::{self, Options as ReportOptions};
use crate::util::output;
use crate::util::pins::Pins;
use crate::util::provenance::sha256_file;
use crate::{Error, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

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
        .map_or_else(|| tmp.path().join("rerun"), Path::to_path_buf);
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
    output::Scratch::unregister(tmp.path());
    let _ = tmp.close();
    result
}

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
    let (agreement, was, now, mut skip) = platforms(
        platform_of(recorded),
        platform_of(recomputed),
        "identification",
        options,
    );
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

/// A fresh directory for the re-run (`explain-verify-XXXXXX` in the system's temporary
/// directory, its own for each verification), removed when the verification is done and
/// when the process is interrupted ([`output::Scratch`]).
fn scratch_dir() -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("explain-verify-")
        .tempdir()
        .map_err(|e| {
            Error::Input(format!(
                "cannot create a directory in {}: {e}",
                std::env::temp_dir().display()
            ))
        })?;
    output::Scratch::register(dir.path());
    Ok(dir)
}
