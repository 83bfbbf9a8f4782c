//! The input checks every figure function makes before it draws, and how their errors name
//! the figure: attribution plots by their two files (`out/x.png and out/x.svg`), report charts
//! by their title (`the chart 'TPR by slice'`). Numbers must be finite and at most 1e100 in
//! magnitude, so that spans and pixel positions stay finite.

use super::sibling;
use super::style::clean;
use crate::{Result, bad_input};
use std::path::Path;

/// Largest magnitude accepted, so that spans and pixel positions stay finite.
pub(crate) const LARGEST: f64 = 1e100;

/// How error messages name an attribution plot: `out/x.png and out/x.svg`.
pub(crate) fn describe(stem: &Path) -> String {
    format!(
        "{} and {}",
        sibling(stem, "png").display(),
        sibling(stem, "svg").display()
    )
}

/// How error messages name a report chart: `the chart '<title>'`.
pub(crate) fn chart_name(title: &str) -> String {
    let t = clean(title);
    if t.is_empty() {
        "the chart".to_string()
    } else {
        format!("the chart '{t}'")
    }
}

/// Values of a plot must be finite, and small enough that sums and spans of them stay finite.
pub(crate) fn check_finite(what: &str, kind: &str, values: &[f64]) -> Result<()> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        bad_input!(
            "cannot plot {what}: {kind} {i} is {}, not a finite number",
            values[i]
        );
    }
    if let Some(i) = values.iter().position(|v| v.abs() > LARGEST) {
        bad_input!(
            "cannot plot {what}: {kind} {i} is {}, too large to plot",
            values[i]
        );
    }
    Ok(())
}

/// One number of a chart: `who` (a row) has `kind` (value, threshold, …) `v`.
pub(crate) fn check(what: &str, who: &str, kind: &str, v: f64) -> Result<()> {
    if !v.is_finite() {
        bad_input!("cannot draw {what}: {who} has {kind} {v}, not a finite number");
    }
    if v.abs() > LARGEST {
        bad_input!("cannot draw {what}: {who} has {kind} {v}, too large to plot");
    }
    Ok(())
}

/// [`check`] of a number that may be missing.
pub(crate) fn check_opt(what: &str, who: &str, kind: &str, v: Option<f64>) -> Result<()> {
    v.map_or(Ok(()), |v| check(what, who, kind, v))
}

/// An interval of a chart: finite bounds, not reversed.
pub(crate) fn check_ci(what: &str, who: &str, ci: Option<[f64; 2]>) -> Result<()> {
    if let Some([lo, hi]) = ci {
        check(what, who, "interval bound", lo)?;
        check(what, who, "interval bound", hi)?;
        if lo > hi {
            bad_input!("cannot draw {what}: {who} has a reversed interval [{lo}, {hi}]");
        }
    }
    Ok(())
}
