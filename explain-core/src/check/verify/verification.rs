//! What a verification is asked ([`Options`]) and what it finds ([`Verification`]), and what
//! both kinds of document share on the way: how the numbers must agree given the recorded and
//! the re-run numeric platforms, and reading the recorded document.

use super::compare::Agreement;
use super::compare::{ROUNDING, SectionCheck};
use crate::artifact::attributions::ModelRef;
use crate::model::numerics::Platform;
use crate::model::{BackendChoice, BackendWrap};
use crate::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

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

    pub(super) fn unchecked(
        report: &Path,
        agreement: Agreement,
        changed: Vec<String>,
    ) -> Verification {
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

/// A backend (`tract 0.23.9`) and the numeric platform it ran on, as a document records them.
pub(super) type Ran = (String, Option<Platform>);

/// What a report records in `identification` (`?` for what is missing: the recorded report
/// is walked as JSON, not read into its type).
pub(super) fn platform_of(doc: &Value) -> Ran {
    let s = &doc["identification"];
    let name = format!(
        "{} {}",
        s["backend"].as_str().unwrap_or("?"),
        s["backend_version"].as_str().unwrap_or("?")
    );
    let numerics = serde_json::from_value::<Platform>(s["numerics"].clone()).ok();
    (name, numerics)
}

/// What an attribution file records of its model.
pub(super) fn model_platform(model: &ModelRef) -> Ran {
    (
        format!("{} {}", model.backend, model.backend_version),
        model.numerics.clone(),
    )
}

/// `tract 0.23.9 on x86_64 linux (amd), native: avx, …` (or that it was not recorded).
fn describe(backend: &str, p: &Option<Platform>) -> String {
    match p {
        Some(p) => format!("{backend} on {}", p.describe()),
        None => format!("{backend} (numeric platform not recorded)"),
    }
}

/// How a re-run must agree with the recorded run, from the platforms both record in
/// `section` (`identification` for reports, `model` for attribution files), with both
/// platforms in words; and the paths not compared: the backend when another one re-ran, and
/// `section.numerics` when the platforms differ.
pub(super) fn platforms(
    (was_backend, was): Ran,
    (now_backend, now): Ran,
    section: &str,
    options: &Options,
) -> (Agreement, String, String, Vec<String>) {
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
pub(super) fn agreement_for(tolerance: Option<f64>, same_platform: bool) -> Agreement {
    match tolerance {
        Some(0.0) => Agreement::Exact,
        Some(t) => Agreement::Tolerance(t),
        None if same_platform => Agreement::Exact,
        None => Agreement::Rounding,
    }
}

/// At most this many choices are pinned: more knife edges than that is not rounding.
pub(super) const MAX_PINS: usize = 1000;

/// A usable tolerance, and a backend this build has.
pub(super) fn check_options(options: &Options) -> Result<()> {
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
pub(super) fn read_document(path: &Path, schema: &str, what: &str) -> Result<Value> {
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

pub(super) fn read_json(path: &Path) -> Result<Value> {
    let text = crate::util::limits::read_file(path)?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::Input(format!("{} is not JSON: {e}", path.display())))
}
