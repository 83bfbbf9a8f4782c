//! The words and charts of a report: per-method results and global importance, the
//! validation charts, the summary (verdicts, flags, uncovered markets, unconverged
//! attributions) and the limitations section.

use crate::artifact::report::{
    CONVERGED_SD_RATIO, Importance, ItemResult, MethodResult, Plots, Report, SlicePlot, Summary,
};
use crate::attribution::estimators::Method;
use crate::attribution::explainer::Attributions;
use crate::attribution::quality::{self};
use crate::render::bars;
use crate::render::validation::{self as charts, DisparityBar, DistanceBar, SliceBar};
use crate::validation::slices::{self, Disparity, Metric, RuleKind, Verdict};
use crate::{Error, Result};
use std::path::Path;

/// The plot files written for each explanation (by their `NN-` prefix), relative to the
/// report directory.
pub(crate) fn list_item_plots(dir: &Path, n: usize) -> Result<Vec<Vec<String>>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::Input(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok((0..n)
        .map(|i| {
            let prefix = format!("{i:02}-");
            names
                .iter()
                .filter(|f| f.starts_with(&prefix) && f.ends_with(".svg"))
                .map(|f| format!("plots/items/{f}"))
                .collect()
        })
        .collect())
}

pub(crate) fn method_result(
    doc: &Attributions,
    file: String,
    item_plots: Vec<Vec<String>>,
    dir: &Path,
    plot: bool,
) -> Result<MethodResult> {
    let lime = doc.method == Method::Lime;
    let items: Vec<ItemResult> = doc
        .explanations
        .iter()
        .zip(item_plots)
        .map(|(e, plots)| {
            let scale = e
                .values
                .iter()
                .fold((e.prediction - e.base_value).abs(), |m, v| m.max(v.abs()));
            let max_se = e.std_errors.iter().fold(0.0f64, |m, v| m.max(*v));
            let sd_ratio = if scale > 0.0 { max_se / scale } else { 0.0 };
            ItemResult {
                input: e.input.clone(),
                input_sha256: e.input_sha256.clone(),
                target: e.target,
                prediction: e.prediction,
                base_value: e.base_value,
                values: e.values.clone(),
                std_errors: e.std_errors.clone(),
                model_evals: e.model_evals,
                efficiency_residual: (!lime)
                    .then(|| (e.values.iter().sum::<f64>() - (e.prediction - e.base_value)).abs()),
                sd_ratio,
                converged: sd_ratio <= CONVERGED_SD_RATIO,
                r2: e.surrogate.as_ref().map(|s| s.r2),
                plots,
                quality: e.quality.clone(),
                detection: e.detection.clone(),
            }
        })
        .collect();
    let m = items.first().map_or(0, |i| i.values.len());
    let n = items.len() as f64;
    let mut mean_abs = vec![0.0; m];
    let mut std_error = vec![0.0; m];
    for k in 0..m {
        let v: Vec<f64> = items.iter().map(|i| i.values[k].abs()).collect();
        let mean = v.iter().sum::<f64>() / n;
        let var = if v.len() > 1 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        mean_abs[k] = mean;
        std_error[k] = (var / n).sqrt();
    }
    let feature_names = doc
        .explanations
        .first()
        .map(|e| e.feature_names.clone())
        .unwrap_or_default();
    let plot_path = if plot && m > 0 {
        let stem = format!("importance-{}", doc.method.name());
        bars::importance(
            &format!(
                "Global importance: mean |attribution| over {} items ({})",
                items.len(),
                doc.method.name()
            ),
            &feature_names,
            &mean_abs,
            Some(&std_error),
            20,
        )?
        .write(&dir.join("plots"), &stem)?;
        Some(format!("plots/{stem}.svg"))
    } else {
        None
    };
    Ok(MethodResult {
        method: doc.method.name().into(),
        file,
        params: doc.params.clone(),
        global_importance: Importance {
            feature_names,
            mean_abs,
            std_error,
            plot: plot_path,
        },
        items,
    })
}

pub(crate) fn file_stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The charts of the validation record: per attribute and metric, disparities, profiles.
pub(crate) fn charts_for(doc: &slices::Document, dir: &Path) -> Result<Plots> {
    let plots = dir.join("plots");
    let mut out = Plots::default();
    let attributes: Vec<&str> = doc
        .attributes
        .iter()
        .map(|a| a.attribute.as_str())
        .collect();
    for attribute in &attributes {
        for &metric in doc.decision.mode.metrics() {
            // Accuracy, TPR and FPR always (detection: recall and false detections per
            // image; verification: FMR and FNMR); the other metrics where a disparity is
            // flagged (every metric is in the tables).
            let flagged = doc.disparities.iter().any(|d| {
                d.attribute == *attribute && d.metric == metric && d.verdict == Verdict::Flag
            });
            if !matches!(
                metric,
                Metric::Accuracy
                    | Metric::Tpr
                    | Metric::Fpr
                    | Metric::Recall
                    | Metric::FalseDetectionsPerImage
                    | Metric::Fmr
                    | Metric::Fnmr
            ) && !flagged
            {
                continue;
            }
            let rows: Vec<SliceBar> = doc
                .slices
                .iter()
                .filter(|s| s.attribute == *attribute)
                .map(|s| {
                    let m = &s.metrics[metric.name()];
                    SliceBar {
                        label: s.value.clone(),
                        value: m.value,
                        ci95: m.ci95,
                        n: m.n,
                        insufficient: s.status == slices::Status::InsufficientData,
                    }
                })
                .collect();
            let overall = &doc.overall.metrics[metric.name()];
            let overall = overall.value.zip(overall.ci95);
            let d = doc
                .disparities
                .iter()
                .find(|d| d.attribute == *attribute && d.metric == metric);
            let line = d.and_then(|d| {
                let best = rows.iter().find(|r| Some(&r.label) == d.best.as_ref())?;
                threshold_line(d, best.value?)
            });
            let stem = format!("slices-{}-{}", file_stem(attribute), metric.name());
            charts::metric_by_slice(
                &format!("{} by {attribute}", metric.name()),
                metric.name(),
                overall,
                &rows,
                line.as_ref().map(|(v, label)| (*v, label.as_str())),
            )?
            .write(&plots, &stem)?;
            out.slices.push(SlicePlot {
                attribute: attribute.to_string(),
                metric,
                plot: format!("plots/{stem}.svg"),
            });
        }
    }
    if !doc.disparities.is_empty() {
        let rows: Vec<DisparityBar> = doc
            .disparities
            .iter()
            .map(|d| DisparityBar {
                label: format!("{} by {}", d.metric.name(), d.attribute),
                value: match d.rule {
                    RuleKind::Ratio => d.ratio,
                    RuleKind::Difference => d.difference,
                },
                ci95: d.ci95,
                threshold: d.threshold,
                ratio: d.rule == RuleKind::Ratio,
                verdict: d.verdict,
            })
            .collect();
        charts::disparities(
            "Disparities between slices (bootstrap 95% intervals)",
            &rows,
        )?
        .write(&plots, "disparities")?;
        out.disparities = Some("plots/disparities.svg".into());
    }
    if let Some(p) = &doc.profiles {
        let rows: Vec<DistanceBar> = p
            .slices
            .iter()
            .map(|s| DistanceBar {
                label: format!("{} = {}", s.attribute, s.value),
                spearman_distance: s.spearman_distance,
                cosine_distance: s.cosine_distance,
                items: s.items,
                verdict: s.verdict,
            })
            .collect();
        if !rows.is_empty() {
            charts::profile_distances(
                "Explanation profiles: distance of each slice from the overall profile",
                &rows,
                p.threshold,
            )?
            .write(&plots, "profiles")?;
            out.profiles = Some("plots/profiles.svg".into());
        }
    }
    Ok(out)
}

/// The metric value a slice must reach for the attribute's rule to pass, given the best
/// slice's value, and a label for the line; `None` when it falls outside [0, 1].
pub(crate) fn threshold_line(d: &Disparity, best_value: f64) -> Option<(f64, String)> {
    let best = d.best.as_ref()?;
    let t = d.threshold;
    let (value, label) = match (d.rule, d.metric.higher_is_better()) {
        (RuleKind::Ratio, true) => (best_value * t, format!("{t:.2} × best ({best})")),
        (RuleKind::Ratio, false) => (best_value / t, format!("best ({best}) / {t:.2}")),
        (RuleKind::Difference, true) => (best_value - t, format!("best ({best}) − {t:.2}")),
        (RuleKind::Difference, false) => (best_value + t, format!("best ({best}) + {t:.2}")),
    };
    (value.is_finite() && (0.0..=1.0).contains(&value)).then_some((value, label))
}

pub(crate) fn summarise(r: &Report, doc: &slices::Document) -> Summary {
    let not_converged: Vec<String> = r
        .explanations
        .methods
        .iter()
        .flat_map(|m| {
            m.items
                .iter()
                .filter(|i| !i.converged)
                .map(move |i| format!("{} ({}): sd ratio {:.2}", i.input, m.method, i.sd_ratio))
        })
        .collect();
    let mut flags = doc.flags();
    for m in &r.explanations.methods {
        for i in &m.items {
            if let Some(q) = &i.quality
                && q.randomisation.verdict == quality::Verdict::Flag
            {
                flags.push(format!(
                    "{} ({}): the explanation survives randomising the model's last layer (Spearman of |attributions| {:.2} >= {:.2}): it does not depend on the learned weights",
                    i.input,
                    m.method,
                    q.randomisation.spearman_abs.unwrap_or(f64::NAN),
                    q.randomisation.threshold
                ));
            }
        }
    }
    let uncovered: Vec<String> = r
        .data
        .coverage
        .markets
        .iter()
        .filter(|m| r.data.coverage.assessable && m.covered == Some(false))
        .map(|m| format!("{}: {}", m.market, m.verdict))
        .collect();
    Summary {
        verdict: if flags.is_empty() { "pass" } else { "flag" }.into(),
        flags,
        uncovered_markets: uncovered,
        insufficient_slices: doc
            .slices
            .iter()
            .filter(|s| s.status == slices::Status::InsufficientData)
            .map(|s| format!("{} = {} (n = {})", s.attribute, s.value, s.n))
            .collect(),
        not_converged,
    }
}

pub(crate) fn limitations(r: &Report, doc: &slices::Document) -> Vec<String> {
    let mut out = Vec::new();
    let s = &r.summary;
    if !s.insufficient_slices.is_empty() {
        out.push(format!(
            "{} slice{} had fewer than {} items, too few for a verdict: {}.",
            s.insufficient_slices.len(),
            if s.insufficient_slices.len() == 1 {
                ""
            } else {
                "s"
            },
            doc.params.min_n,
            s.insufficient_slices.join("; ")
        ));
    }
    let flagged = doc
        .disparities
        .iter()
        .filter(|d| d.verdict == Verdict::Flag)
        .count();
    if flagged > 0 {
        out.push(format!(
            "{flagged} disparit{} between slices breach{} the thresholds: the model does not work equally well for every group listed in the summary.",
            if flagged == 1 { "y" } else { "ies" },
            if flagged == 1 { "es" } else { "" }
        ));
    }
    let survived: Vec<String> = r
        .explanations
        .methods
        .iter()
        .flat_map(|m| m.items.iter())
        .filter(|i| {
            i.quality
                .as_ref()
                .is_some_and(|q| q.randomisation.verdict == quality::Verdict::Flag)
        })
        .map(|i| i.input.clone())
        .collect();
    if !survived.is_empty() {
        out.push(format!(
            "The explanations of {} barely change when the model's last layer is randomised: they do not show what the model learned (Adebayo et al. sanity check).",
            survived.join(", ")
        ));
    }
    if let Some(p) = &doc.profiles {
        let f: Vec<String> = p
            .slices
            .iter()
            .filter(|s| s.verdict == Verdict::Flag)
            .map(|s| format!("{} = {}", s.attribute, s.value))
            .collect();
        if !f.is_empty() {
            out.push(format!(
                "The model relies on different evidence in {}: its explanation profile differs from the overall one.",
                f.join(", ")
            ));
        }
        out.push(format!(
            "Explanation profiles rest on {} items per slice ({} in all): a screen, not a measurement.",
            p.per_slice,
            p.explained.len()
        ));
    }
    let c = &r.data.coverage;
    if !c.assessable {
        out.push(format!(
            "Target-market coverage could not be assessed: {}.",
            c.reason.as_deref().unwrap_or("no locale column")
        ));
    } else {
        if let Some(reason) = &c.reason {
            // Assessed by attribute values; the locales could not be.
            out.push(format!(
                "The target markets' locale requirements could not be assessed: {reason}."
            ));
        }
        if !c.not_covered.is_empty() {
            out.push(format!(
                "Not every target market is covered by the validation data: {} {} not covered.",
                c.not_covered.join(", "),
                if c.not_covered.len() == 1 {
                    "is"
                } else {
                    "are"
                }
            ));
        }
    }
    for t in c.attributes.iter().filter(|t| !t.assessable) {
        out.push(format!(
            "The target markets' `{}` requirements could not be assessed: {}.",
            t.attribute,
            t.reason.as_deref().unwrap_or("no reason given")
        ));
    }
    if !s.not_converged.is_empty() {
        out.push(format!(
            "{} attribution{} did not converge (largest standard error above {} of the explanation's scale); raise the budget: {}.",
            s.not_converged.len(),
            if s.not_converged.len() == 1 { "" } else { "s" },
            CONVERGED_SD_RATIO,
            s.not_converged.join("; ")
        ));
    }
    for d in &r.data.datasets {
        if !d.gaps.is_empty() {
            out.push(format!(
                "The datasheet of {} has gaps: {}.",
                d.manifest,
                d.gaps.join("; ")
            ));
        }
    }
    out.push(
        "Attributions explain the model's output on the chosen baseline and features; they are not causal statements about the world."
            .into(),
    );
    out
}
