//! What the templates show but cannot read off the report directly: the verdict in words,
//! the summary's counts and lists, orders (attributes, features by importance, attributions
//! by size), the cells of the per-slice tables, the figures of a section, capped lists of
//! locales and files. Everything returned is plain text or report data: the templates
//! escape it.
//!
//! [`View`] holds what needs the whole report; the functions need one record.

use crate::artifact::inventory::{
    AttributeCounts, Coverage, Dataset, LanguageCount, LocaleCoverage,
};
use crate::artifact::report::{Importance, ItemResult, MethodResult, Report};
use crate::artifact::slices::{AttributeSummary, MetricValue, Mode, Slice, Status};
use crate::artifact::verdict::Verdict;
use crate::model::TensorInfo;
use crate::report::html::figure::Caption;
use crate::report::html::format::{
    self, DASH, Flat, Float, MAX_VALUES, Number, flatten, metric, metric_name, plural, sig4, yes_no,
};
use crate::util::provenance::FileRef;

/// Rows shown of the input and artifact tables, and locales of the validation data, before
/// "… N more".
pub(crate) const MAX_FILES: usize = 20;

/// Rows of the global importance table.
pub(crate) const TOP_FEATURES: usize = 10;

/// The summary's counts.
pub(crate) struct Counts {
    pub(crate) slices: usize,
    pub(crate) attributes: usize,
    pub(crate) disparities: usize,
    pub(crate) flagged: usize,
    pub(crate) passed: usize,
    pub(crate) insufficient: usize,
    /// Target markets covered.
    pub(crate) covered: usize,
    /// Items explained, over all methods.
    pub(crate) explained: usize,
    /// The methods' names.
    pub(crate) methods: String,
    pub(crate) profiles_flagged: usize,
}

/// One of the summary's lists.
pub(crate) struct List<'a> {
    pub(crate) heading: &'static str,
    pub(crate) anchor: &'static str,
    /// Shown when the list is empty.
    pub(crate) none: &'static str,
    pub(crate) items: &'a [String],
    /// Marked as a problem (not empty, and not merely informative).
    pub(crate) bad: bool,
}

/// One datasheet field.
pub(crate) enum Sheet<'a> {
    /// Not stated.
    Gap,
    Text(String),
    List(&'a [String]),
}

/// One attribute's value counts, titled.
pub(crate) struct Composition<'a> {
    pub(crate) name: String,
    pub(crate) counts: &'a AttributeCounts,
}

impl Composition<'_> {
    /// The values shown.
    pub(crate) fn shown(&self) -> &[crate::artifact::inventory::ValueCount] {
        &self.counts.values[..self.counts.values.len().min(MAX_VALUES)]
    }

    /// Values, items and share beyond the cap, and those the inventory itself left out.
    pub(crate) fn more(&self) -> (u64, u64, f64) {
        let hidden = &self.counts.values[self.shown().len()..];
        let mut values = hidden.len() as u64;
        let mut items: u64 = hidden.iter().map(|v| v.count as u64).sum();
        let mut share: f64 = hidden.iter().map(|v| v.share).sum();
        if let Some(t) = &self.counts.truncated {
            values += t.other_values as u64;
            items += t.other_items as u64;
            share += t.other_share;
        }
        (values, items, share)
    }
}

/// One metric cell of a slice table.
pub(crate) struct Cell {
    /// Value and interval, unless both are missing.
    pub(crate) value: Option<(String, String)>,
    /// The metric's own denominator, where it is not the slice's.
    pub(crate) den: Option<u64>,
    /// The worst slice of a flagged disparity.
    pub(crate) worst: bool,
}

/// The report, for the views that need more than one record of it.
pub(crate) struct View<'a> {
    pub(crate) r: &'a Report,
}

impl<'a> View<'a> {
    /// The overall verdict's CSS class and word.
    pub(crate) fn verdict(&self) -> (&'static str, &'a str) {
        match self.r.summary.verdict.as_str() {
            "flag" => ("flag", "FLAG"),
            "pass" => ("pass", "PASS"),
            "" => ("na", "NO VERDICT"),
            other => ("na", other),
        }
    }

    /// The overall verdict in a sentence.
    pub(crate) fn verdict_text(&self) -> String {
        let n = self.r.summary.flags.len();
        match self.r.summary.verdict.as_str() {
            "flag" => format!(
                "{n} check{} breach{} {} threshold{} (listed under Flags below).",
                plural(n),
                if n == 1 { "es" } else { "" },
                if n == 1 { "its" } else { "their" },
                plural(n),
            ),
            "pass" => "No disparity between slices and no explanation profile breaches its \
                       threshold."
                .to_string(),
            _ => "The report states no verdict.".to_string(),
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        let r = self.r;
        let count = |v: Verdict| r.disparities.iter().filter(|d| d.verdict == v).count();
        let methods = &r.explanations.methods;
        Counts {
            slices: r.performance.slices.len(),
            attributes: self.attributes().len(),
            disparities: r.disparities.len(),
            flagged: count(Verdict::Flag),
            passed: count(Verdict::Pass),
            insufficient: count(Verdict::InsufficientData),
            covered: (r.data.coverage.markets.iter())
                .filter(|m| m.covered == Some(true))
                .count(),
            explained: methods.iter().map(|m| m.items.len()).sum(),
            methods: (methods.iter().map(|m| m.method.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            profiles_flagged: (r.explanations.profiles.iter())
                .flat_map(|p| &p.slices)
                .filter(|s| s.verdict == Verdict::Flag)
                .count(),
        }
    }

    pub(crate) fn lists(&self) -> Vec<List<'a>> {
        let s = &self.r.summary;
        let list = |heading, anchor, none, items: &'a Vec<String>, bad| List {
            heading,
            anchor,
            none,
            items,
            bad: bad && !items.is_empty(),
        };
        vec![
            list("Flags", "#disparities", "None.", &s.flags, true),
            list(
                "Target markets not covered",
                "#coverage",
                if self.r.data.coverage.assessable
                    && (self.r.data.coverage.markets.iter()).any(|m| m.covered.is_none())
                {
                    "None; some markets are not assessable (see Target-market coverage in the data \
                     inventory)."
                } else if self.r.data.coverage.assessable {
                    "None."
                } else if !self.r.data.coverage.attributes.is_empty() {
                    "Not assessable (see Target-market coverage in the data inventory)."
                } else {
                    "Not assessable: the validation data has no locale column (see Data \
                     inventory)."
                },
                &s.uncovered_markets,
                true,
            ),
            list(
                "Slices with too little data for a verdict",
                "#performance",
                "None.",
                &s.insufficient_slices,
                false,
            ),
            list(
                "Attributions that did not converge",
                "#explanations",
                "None.",
                &s.not_converged,
                true,
            ),
        ]
    }

    /// The operator sets (`ai.onnx 17`), or the opset version when none are listed.
    pub(crate) fn opsets(&self) -> String {
        let m = &self.r.identification.model;
        if m.opsets.is_empty() {
            return m.opset.to_string();
        }
        (m.opsets.iter())
            .map(|o| {
                let domain = if o.domain.is_empty() {
                    "ai.onnx"
                } else {
                    &o.domain
                };
                format!("{domain} {}", o.version)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Producer and version, if the model states them.
    pub(crate) fn producer(&self) -> Option<String> {
        let m = &self.r.identification.model;
        if !m.producer_version.is_empty() {
            Some(format!("{} {}", m.producer, m.producer_version))
        } else if !m.producer.is_empty() {
            Some(m.producer.clone())
        } else {
            None
        }
    }

    /// The model's inputs, then its outputs.
    pub(crate) fn tensors(&self) -> Vec<(&'static str, &'a TensorInfo)> {
        let m = &self.r.identification.model;
        let inputs = m.inputs.iter().map(|x| ("input", x));
        inputs
            .chain(m.outputs.iter().map(|x| ("output", x)))
            .collect()
    }

    pub(crate) fn preprocessing(&self) -> Vec<Flat> {
        self.r
            .identification
            .preprocessing
            .as_ref()
            .map(flatten)
            .unwrap_or_default()
    }

    /// The intended use's lists.
    pub(crate) fn uses(&self) -> [(&'static str, &'a [String]); 4] {
        let u = &self.r.intended_use;
        [
            ("Deployers", &u.deployers),
            ("Affected persons", &u.affected_persons),
            ("Out of scope", &u.out_of_scope),
            ("Operating conditions", &u.operating_conditions),
        ]
    }

    /// A dataset's datasheet fields, labelled.
    pub(crate) fn datasheet(&self, ds: &'a Dataset) -> Vec<(&'static str, Sheet<'a>)> {
        let d = &ds.datasheet;
        let text = |s: &Option<String>| s.clone().map_or(Sheet::Gap, Sheet::Text);
        let yes = |b: &Option<bool>| {
            b.as_ref()
                .map_or(Sheet::Gap, |b| Sheet::Text(yes_no(b).into()))
        };
        let joined = |v: &Option<Vec<String>>| match v {
            None => Sheet::Gap,
            Some(v) if v.is_empty() => Sheet::Text(DASH.into()),
            Some(v) => Sheet::Text(v.join(", ")),
        };
        vec![
            ("Name", text(&d.name)),
            ("Origin", text(&d.origin)),
            ("Collection period", text(&d.collection_period)),
            ("Collection geography", joined(&d.collection_geography)),
            ("Licence", text(&d.licence)),
            ("Legal basis", text(&d.legal_basis)),
            ("Labelling", text(&d.labelling)),
            ("Data category", text(&d.data_category)),
            ("Contains personal data", yes(&d.contains_personal_data)),
            ("Security grade", text(&d.security_grade)),
            (
                "Cross-border transfer assessed",
                yes(&d.cross_border_transfer_assessed),
            ),
            ("Cross-border notes", text(&d.cross_border_notes)),
            (
                "Known gaps",
                match &d.known_gaps {
                    Some(g) if !g.is_empty() => Sheet::List(g),
                    other => joined(other),
                },
            ),
        ]
    }

    /// A dataset's class balance and attribute value counts.
    pub(crate) fn compositions(&self, ds: &'a Dataset) -> Vec<Composition<'a>> {
        let label = ds.label.iter().map(|counts| Composition {
            name: "label (class balance)".into(),
            counts,
        });
        let attributes = ds.attributes.iter().map(|counts| Composition {
            name: counts.name.clone(),
            counts,
        });
        label.chain(attributes).collect()
    }

    /// What the metrics of the decision mode mean (HTML).
    pub(crate) fn metrics_note(&self) -> &'static str {
        match self.r.protocol.decision.mode {
            Mode::Binary { .. } | Mode::Multiclass { .. } => {
                "Metrics: accuracy = correct decisions / items; selection rate = positive decisions / items; TPR = true positive rate (recall); FPR = false positive rate; FNR = false negative rate; precision = positive items / positive decisions. Each is a proportion with its own denominator <i>n</i>."
            }
            Mode::Detection { .. } => {
                "Metrics: recall = ground-truth boxes matched / ground-truth boxes; precision = matched detections / detections; miss rate = boxes missed / boxes (1 − recall); images with a false detection = images with at least one unmatched detection / images (each with a Wilson interval); false detections per image = unmatched detections / images, a rate with Garwood’s exact Poisson interval. <i>n</i> is each metric’s denominator (boxes, detections or images)."
            }
            Mode::Verification { .. } => {
                "Metrics: FMR = impostor pairs judged a match / impostor pairs; FNMR = genuine pairs judged a non-match / genuine pairs. Each is a proportion with a Wilson interval and its own denominator <i>n</i>."
            }
        }
    }

    pub(crate) fn mode_text(&self) -> String {
        match self.r.protocol.decision.mode {
            Mode::Binary {
                positive,
                classes,
                score_output,
            } => format!(
                "binary: positive class {positive} of {classes} classes, score = output \
                 {score_output}"
            ),
            Mode::Multiclass { classes } => {
                format!("multiclass over {classes} classes: the top output is the decision")
            }
            Mode::Detection {
                match_iou,
                score_threshold,
                nms_iou,
            } => format!(
                "detection: detections scoring above {score_threshold} (NMS at IoU {nms_iou}) \
                 matched greedily, best first, to ground-truth boxes at IoU >= {match_iou}"
            ),
            Mode::Verification { threshold } => format!(
                "verification: a pair matches when the cosine similarity of its embeddings \
                 is >= {threshold}"
            ),
        }
    }

    /// The metrics to show, in protocol order (else the overall record's).
    pub(crate) fn metric_names(&self) -> Vec<String> {
        let listed = &self.r.protocol.metrics;
        if !listed.is_empty() {
            return listed.iter().map(|m| metric_name(m).to_string()).collect();
        }
        self.r.performance.overall.metrics.keys().cloned().collect()
    }

    /// Attributes in the order of the attribute summaries, then any other (intersections) in
    /// the order their slices appear; numbered from 1.
    pub(crate) fn attributes(&self) -> Vec<(usize, String)> {
        let perf = &self.r.performance;
        let mut out: Vec<String> = Vec::new();
        let names = (perf.attributes.iter().map(|a| &a.attribute))
            .chain(perf.slices.iter().map(|s| &s.attribute));
        for a in names {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, a)| (i + 1, a))
            .collect()
    }

    pub(crate) fn attribute_summary(&self, attribute: &str) -> Option<&'a AttributeSummary> {
        (self.r.performance.attributes.iter()).find(|s| s.attribute == attribute)
    }

    pub(crate) fn slices_of(&self, attribute: &str) -> Vec<&'a Slice> {
        (self.r.performance.slices.iter())
            .filter(|s| s.attribute == attribute)
            .collect()
    }

    /// A slice's metric cells.
    pub(crate) fn cells(&self, attribute: &str, s: &Slice, metrics: &[String]) -> Vec<Cell> {
        let worst = |m: &str| {
            self.r.disparities.iter().any(|d| {
                d.verdict == Verdict::Flag
                    && d.attribute == attribute
                    && metric_name(&d.metric) == m
                    && d.worst.as_deref() == Some(s.value.as_str())
            })
        };
        (metrics.iter())
            .map(|m| {
                let v = s.metrics.get(m.as_str());
                Cell {
                    value: v
                        .filter(|v| v.value.is_some() || v.ci95.is_some())
                        .map(|v| (format::f3(v.value), format::ci3(v.ci95))),
                    den: v.map(|v| v.n).filter(|&n| n != s.n),
                    worst: worst(m),
                }
            })
            .collect()
    }

    /// An attribute's per-metric charts.
    pub(crate) fn slice_figures(&self, attribute: &str) -> Vec<(String, Caption)> {
        (self.r.reproducibility.plots.slices.iter())
            .filter(|p| p.attribute == attribute)
            .map(|p| {
                let caption = format!("{} by {attribute}", metric(&p.metric));
                (p.plot.clone(), Caption::Text(caption))
            })
            .collect()
    }

    /// Whether any disparity has a Holm-adjusted p-value.
    pub(crate) fn holm(&self) -> bool {
        self.r.disparities.iter().any(|d| d.p_holm.is_some())
    }

    /// The file tables: heading, what they list, the files.
    pub(crate) fn file_lists(&self) -> [(&'static str, &'static str, &'a [FileRef]); 2] {
        let x = &self.r.reproducibility;
        [
            ("Input files", "input files", &x.inputs),
            (
                "Artifacts in the report directory",
                "artifacts",
                &x.artifacts,
            ),
        ]
    }

    /// The config as parsed, as pretty JSON (keys in order), ready for a `<pre>`: only `&`,
    /// `<` and `>` are escaped, so that the quotes stay readable.
    pub(crate) fn parameters(&self) -> String {
        let json = serde_json::to_value(&self.r.reproducibility.parameters)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_default();
        json.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
}

/// A market locale's note, unless it only repeats the count ("it-IT: 85").
pub(crate) fn locale_note(l: &LocaleCoverage) -> &str {
    if l.sufficient && l.note == format!("{}: {}", l.locale, l.n) {
        ""
    } else {
        &l.note
    }
}

/// The locales of the validation data with their counts, capped.
pub(crate) fn market_locales(c: &Coverage) -> String {
    let mut shown: Vec<String> = (c.locales.iter().take(MAX_FILES))
        .map(|l| format!("{} ({})", l.locale, l.count))
        .collect();
    if c.locales.len() > MAX_FILES {
        shown.push(format!("… and {} more", c.locales.len() - MAX_FILES));
    }
    shown.join(", ")
}

/// A language's locales with their counts, capped.
pub(crate) fn locales(l: &LanguageCount) -> String {
    if l.locales.is_empty() {
        return DASH.into();
    }
    let mut shown: Vec<String> = (l.locales.iter().take(MAX_VALUES))
        .map(|x| format!("{} ({})", x.locale, x.count))
        .collect();
    if l.locales.len() > MAX_VALUES {
        shown.push(format!("… {} more", l.locales.len() - MAX_VALUES));
    }
    shown.join(", ")
}

/// A metric's value, if recorded.
pub(crate) fn value(v: &Option<&MetricValue>) -> Option<f64> {
    v.and_then(|v| v.value)
}

/// A metric's interval, if recorded.
pub(crate) fn ci(v: &Option<&MetricValue>) -> Option<[f64; 2]> {
    v.and_then(|v| v.ci95)
}

pub(crate) fn insufficient(s: &Slice) -> bool {
    s.status == Status::InsufficientData
}

/// A method's parameters as dotted keys.
pub(crate) fn params(m: &MethodResult) -> Vec<Flat> {
    serde_json::to_value(&m.params)
        .map(|v| flatten(&v))
        .unwrap_or_default()
}

/// The most important features: (rank from 1, feature index).
pub(crate) fn top_features(g: &Importance) -> Vec<(usize, usize)> {
    let key = |k: usize| g.mean_abs[k].float().unwrap_or(f64::NEG_INFINITY);
    let mut order: Vec<usize> = (0..g.mean_abs.len()).collect();
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    order.truncate(TOP_FEATURES);
    order
        .into_iter()
        .enumerate()
        .map(|(i, k)| (i + 1, k))
        .collect()
}

/// The value at `k`, if there is one.
pub(crate) fn at(values: &[f64], k: impl Number) -> Option<f64> {
    usize::try_from(k.count())
        .ok()
        .and_then(|k| values.get(k).copied())
}

pub(crate) fn importance_caption(m: &MethodResult) -> Caption {
    Caption::Text(format!("Global importance ({})", m.method))
}

/// An item's plots: the overlay (the input itself) first, then the bars.
pub(crate) fn item_figures(item: &ItemResult) -> Vec<(String, Caption)> {
    let mut plots: Vec<&String> = item.plots.iter().collect();
    plots.sort_by_key(|p| !p.ends_with("-overlay.svg"));
    (plots.into_iter())
        .map(|p| {
            let caption = if p.ends_with("-overlay.svg") {
                "Attributions over the input"
            } else if p.ends_with("-bars.svg") {
                "Largest attributions with standard errors"
            } else {
                "Plot"
            };
            (p.clone(), Caption::Fixed(caption))
        })
        .collect()
}

/// The sum of an item's attributions.
/// What an item explains: its output index, or for a detector the box (see
/// [`ExplainedBox::label`](crate::artifact::attributions::ExplainedBox::label)).
pub(crate) fn target(item: &ItemResult) -> String {
    item.detection
        .as_ref()
        .map_or_else(|| item.target.to_string(), |d| d.label())
}

pub(crate) fn sum(item: &ItemResult) -> String {
    if item.values.is_empty() {
        return DASH.into();
    }
    sig4(item.values.iter().filter_map(|v| v.float()).sum())
}

/// Attribution indices, largest |value| first.
pub(crate) fn by_size(values: &[f64]) -> Vec<usize> {
    let key = |k: usize| values[k].float().map_or(f64::NEG_INFINITY, f64::abs);
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    order
}

/// Whether any file has a row count.
pub(crate) fn has_rows(files: &[FileRef]) -> bool {
    files.iter().any(|f| f.rows.is_some())
}

/// Checks that a metric label reads as the documents write it.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::slices::Metric;

    #[test]
    fn metric_labels() {
        assert_eq!(metric(&Metric::SelectionRate), "Selection rate");
        assert_eq!(format::metric_label("custom"), "custom");
    }
}
