//! The validation record's row charts, each one row per item on a horizontal axis (laid out
//! by [`rows`](super::rows)):
//!
//! * [`metric_by_slice`]: a proportion (accuracy, TPR, …) per slice as bars with 95 % interval
//!   whiskers and `n` beside each bar; slices with too few items are hatched grey and say so;
//!   a solid line marks the overall value (its interval a light band) and an optional dashed
//!   line a reference such as a threshold.
//! * [`disparities`]: one row per disparity (`tpr by locale`): the ratio or difference as a dot
//!   with its interval, the rule's threshold as a tick on the row, the failing side of the
//!   threshold lightly shaded, coloured by verdict (flag red, pass green, insufficient grey).
//! * [`profile_distances`]: 1 − Spearman distance of each slice's explanation profile to the
//!   overall one (axis 0..2) as bars coloured by verdict, the cosine distance as a hollow
//!   diamond, and the flagging threshold as a dashed line.
//!
//! Verdicts are the project's one [`Verdict`] type; a chart draws `pass`, `flag` and
//! `insufficient_data` (a `not_applicable` verdict is refused: nothing on these rows can be
//! without one). All numbers must be finite.
//!
//! ```
//! use explain_core::render::validation::{self, SliceBar};
//! let rows = vec![
//!     SliceBar { label: "locale = en-US".into(), value: Some(0.91), ci95: Some([0.88, 0.93]),
//!                n: 412, insufficient: false },
//!     SliceBar { label: "locale = ko-KR".into(), value: Some(0.74), ci95: Some([0.61, 0.84]),
//!                n: 18, insufficient: true },
//! ];
//! let chart = validation::metric_by_slice("TPR by slice", "tpr", Some((0.88, [0.86, 0.90])),
//!                                         &rows, Some((0.70, "four-fifths of best")))?;
//! assert!(chart.png.starts_with(b"\x89PNG"));
//! assert!(chart.svg.contains("locale = ko-KR"));
//! let dir = tempfile::tempdir().unwrap();
//! chart.write(dir.path(), "tpr-by-slice")?; // tpr-by-slice.png and tpr-by-slice.svg
//! # Ok::<(), explain_core::Error>(())
//! ```

use super::Chart;
use super::axis::Extent;
use super::checks::{chart_name, check, check_ci, check_opt};
use super::rows::{
    self, Cell, LegendItem, MAX_ROWS, Mark, Row, Spec, Swatch, VLine, more_note, row_label,
};
use super::style::{
    BAR, BAR_EDGE, FLAG, FLAG_TEXT, HATCH_FILL, INK, INSUFFICIENT, MUTED, PASS, PASS_BAR,
    PASS_TEXT, REF, clean, count, fmt3,
};
use crate::artifact::verdict::Verdict;
use crate::{Result, bad_input};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

/// One slice's metric for [`metric_by_slice`].
#[derive(Debug, Clone, PartialEq)]
pub struct SliceBar {
    /// The slice, e.g. `locale = ja-JP` or `site & lighting = plant-B & bright`.
    pub label: String,
    /// The proportion (in `[0, 1]`), `None` when it is undefined (drawn as "n/a").
    pub value: Option<f64>,
    /// Its 95 % interval.
    pub ci95: Option<[f64; 2]>,
    /// Items in the slice.
    pub n: u64,
    /// Too few items for a verdict: the bar is hatched grey and the row says so.
    pub insufficient: bool,
}

/// One disparity for [`disparities`].
#[derive(Debug, Clone, PartialEq)]
pub struct DisparityBar {
    /// What is compared, e.g. `tpr by locale`.
    pub label: String,
    /// The ratio (worst/best) or difference (best − worst); `None` when undefined.
    pub value: Option<f64>,
    /// Its 95 % interval.
    pub ci95: Option<[f64; 2]>,
    /// The rule's threshold.
    pub threshold: f64,
    /// `true`: a ratio, which passes at or above the threshold; `false`: a difference, which
    /// passes at or below it.
    pub ratio: bool,
    /// Pass, flag or insufficient data.
    pub verdict: Verdict,
}

/// One slice's explanation-profile distance for [`profile_distances`].
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceBar {
    /// The slice, e.g. `accent = scottish`.
    pub label: String,
    /// 1 − Spearman correlation with the overall profile, in `[0, 2]`; `None` when undefined.
    pub spearman_distance: Option<f64>,
    /// 1 − cosine similarity with the overall profile.
    pub cosine_distance: Option<f64>,
    /// Items explained in the slice.
    pub items: usize,
    /// Pass, flag or insufficient data.
    pub verdict: Verdict,
}

/// Horizontal bars of a proportion per slice, in the order given.
///
/// Each row shows the slice's label, a bar from 0 to its value with a 95 % interval whisker,
/// and at the right the value and `n`. Slices marked `insufficient` are hatched grey, their
/// label greyed, and `n = 8, too few` written beside them; a `None` value is written "n/a".
/// `overall` (value and 95 % interval) is drawn as a solid vertical line over a light band;
/// `threshold_line` (value and label, e.g. `(0.8, "threshold")`) as a dashed red line. The
/// axis is `0..1`, widened if a value lies outside. `metric` names the axis.
///
/// # Errors
/// [`Error::Input`](crate::Error::Input) when `rows` is empty, or a value, interval bound or line position is not
/// finite, or an interval is reversed.
pub fn metric_by_slice(
    title: &str,
    metric: &str,
    overall: Option<(f64, [f64; 2])>,
    rows: &[SliceBar],
    threshold_line: Option<(f64, &str)>,
) -> Result<Chart> {
    let what = chart_name(title);
    if rows.is_empty() {
        bad_input!("cannot draw {what}: there are no slices");
    }
    let mut extent = Extent::new(0.0, 1.0);
    for (i, r) in rows.iter().enumerate() {
        let who = format!("slice {i} ('{}')", r.label);
        check_opt(&what, &who, "value", r.value)?;
        check_ci(&what, &who, r.ci95)?;
        extent.add_opt(r.value);
        extent.add_ci(r.ci95);
    }
    if let Some((v, ci)) = overall {
        check(&what, "the overall line", "value", v)?;
        check_ci(&what, "the overall line", Some(ci))?;
        extent.add(v);
        extent.add_ci(Some(ci));
    }
    if let Some((v, _)) = threshold_line {
        check(&what, "the reference line", "position", v)?;
        extent.add(v);
    }
    let axis = extent.axis(true);
    let metric_name = if metric.trim().is_empty() {
        "value"
    } else {
        metric.trim()
    };

    let shown = &rows[..rows.len().min(MAX_ROWS)];
    let mut out_rows = Vec::with_capacity(shown.len());
    for r in shown {
        let mut marks = Vec::new();
        match r.value {
            Some(v) => {
                marks.push(Mark::Bar {
                    from: 0.0_f64.clamp(axis.lo, axis.hi),
                    to: v,
                    fill: if r.insufficient { HATCH_FILL } else { BAR },
                    edge: if r.insufficient {
                        INSUFFICIENT
                    } else {
                        BAR_EDGE
                    },
                    hatched: r.insufficient,
                });
            }
            None => marks.push(Mark::Missing),
        }
        if let Some([lo, hi]) = r.ci95 {
            marks.push(Mark::Whisker {
                lo,
                hi,
                color: if r.insufficient { MUTED } else { INK },
            });
        }
        let n_text = if r.insufficient {
            format!("n = {}, too few", r.n)
        } else {
            format!("n = {}", r.n)
        };
        out_rows.push(Row {
            label: row_label(&r.label, "(unnamed slice)"),
            muted: r.insufficient,
            marks,
            cells: vec![
                Cell::new(
                    r.value.map_or("n/a".into(), fmt3),
                    if r.value.is_some() && !r.insufficient {
                        INK
                    } else {
                        MUTED
                    },
                    HPos::Right,
                ),
                Cell::new(n_text, if r.insufficient { MUTED } else { INK }, HPos::Left),
            ],
        });
    }

    let mut lines = Vec::new();
    let mut legend = vec![LegendItem::new(
        Swatch::BarWhisker,
        format!("{metric_name} with 95 % interval"),
    )];
    if let Some((v, [lo, hi])) = overall {
        lines.push(VLine {
            at: v,
            color: INK,
            dashed: false,
            band: Some((lo, hi)),
            label: "overall".into(),
        });
        legend.push(LegendItem::new(
            Swatch::Band,
            format!("overall {} (95 % {}–{})", fmt3(v), fmt3(lo), fmt3(hi)),
        ));
    }
    if let Some((v, label)) = threshold_line {
        let label = clean(label);
        let label = if label.is_empty() {
            "reference".to_string()
        } else {
            label
        };
        legend.push(LegendItem::new(
            Swatch::Line(REF, true),
            format!("{label} ({})", fmt_short(v)),
        ));
        lines.push(VLine {
            at: v,
            color: REF,
            dashed: true,
            band: None,
            label,
        });
    }
    let insufficient = rows.iter().filter(|r| r.insufficient).count();
    if shown.iter().any(|r| r.insufficient) {
        legend.push(LegendItem::new(Swatch::Hatched, "insufficient data"));
    }
    if shown.iter().any(|r| r.value.is_none()) {
        legend.push(LegendItem::new(Swatch::None, "n/a: no value"));
    }

    let mut subtitle = format!(
        "{metric_name} by slice, {}",
        count(rows.len(), "slice", "slices")
    );
    if insufficient > 0 {
        subtitle.push_str(&format!(", {insufficient} with insufficient data"));
    }
    let spec = Spec {
        title: title.to_string(),
        subtitle,
        legend,
        axis,
        axis_label: metric_name.to_string(),
        lines,
        rows: out_rows,
        more: more_note(rows.len(), "slice", "slices"),
    };
    rows::chart(&spec)
}

/// One row per disparity: the statistic as a dot with its 95 % interval, the rule's threshold
/// as a tick on the row, and the failing side of the threshold lightly shaded.
///
/// Dots are red for `flag`, green for `pass` and a hollow grey ring for `insufficient_data`;
/// the row also writes the value, the rule (`≥ 0.80` for ratios, `≤ 0.10` for differences) and
/// the verdict in words. A `None` value is written "n/a". The axis is `0..1`, widened if a
/// value or threshold lies outside.
///
/// # Errors
/// [`Error::Input`](crate::Error::Input) when `rows` is empty, a number is not finite, an interval is reversed, or
/// a verdict is not `pass`, `flag` or `insufficient_data`.
pub fn disparities(title: &str, rows: &[DisparityBar]) -> Result<Chart> {
    let what = chart_name(title);
    if rows.is_empty() {
        bad_input!("cannot draw {what}: there are no disparities");
    }
    let mut extent = Extent::new(0.0, 1.0);
    let mut verdicts = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let who = format!("disparity {i} ('{}')", r.label);
        check_opt(&what, &who, "value", r.value)?;
        check_ci(&what, &who, r.ci95)?;
        check(&what, &who, "threshold", r.threshold)?;
        verdicts.push(drawn_verdict(&what, &who, r.verdict)?);
        extent.add_opt(r.value);
        extent.add_ci(r.ci95);
        extent.add(r.threshold);
    }
    let axis = extent.axis(true);

    let shown = rows.len().min(MAX_ROWS);
    let mut out_rows = Vec::with_capacity(shown);
    for (r, &v) in rows.iter().zip(&verdicts).take(shown) {
        let mut marks = vec![if r.ratio {
            Mark::Zone {
                from: axis.lo,
                to: r.threshold,
            }
        } else {
            Mark::Zone {
                from: r.threshold,
                to: axis.hi,
            }
        }];
        marks.push(Mark::Tick { at: r.threshold });
        if let Some([lo, hi]) = r.ci95 {
            marks.push(Mark::Whisker {
                lo,
                hi,
                color: if v == Verdict::InsufficientData {
                    MUTED
                } else {
                    INK
                },
            });
        }
        match r.value {
            Some(x) => marks.push(Mark::Dot {
                at: x,
                color: color(v),
                filled: v != Verdict::InsufficientData,
            }),
            None => marks.push(Mark::Missing),
        }
        let rule = format!(
            "{} {}",
            if r.ratio { "≥" } else { "≤" },
            fmt_short(r.threshold)
        );
        out_rows.push(Row {
            label: row_label(&r.label, "(unnamed disparity)"),
            muted: v == Verdict::InsufficientData,
            marks,
            cells: vec![
                Cell::new(
                    r.value.map_or("n/a".into(), fmt3),
                    if r.value.is_some() { INK } else { MUTED },
                    HPos::Right,
                ),
                Cell::new(rule, MUTED, HPos::Left),
                Cell::new(word(v), text_color(v), HPos::Left),
            ],
        });
    }

    let tally = Tally::of(&verdicts);
    let mut legend = Vec::new();
    if tally.pass > 0 {
        legend.push(LegendItem::new(Swatch::Dot(PASS, true), "pass"));
    }
    if tally.flag > 0 {
        legend.push(LegendItem::new(Swatch::Dot(FLAG, true), "flag"));
    }
    if tally.insufficient > 0 {
        legend.push(LegendItem::new(
            Swatch::Dot(INSUFFICIENT, false),
            "insufficient data",
        ));
    }
    legend.push(LegendItem::new(Swatch::Whisker, "95 % interval"));
    legend.push(LegendItem::new(Swatch::Tick, "threshold"));
    legend.push(LegendItem::new(Swatch::Zone, "fails the rule"));

    let all_ratio = rows.iter().all(|r| r.ratio);
    let all_diff = rows.iter().all(|r| !r.ratio);
    let axis_label = if all_ratio {
        "ratio, worst ÷ best slice (pass at or above the threshold)"
    } else if all_diff {
        "difference, best − worst slice (pass at or below the threshold)"
    } else {
        "ratio (pass at or above the threshold) or difference (pass at or below it)"
    };
    let spec = Spec {
        title: title.to_string(),
        subtitle: format!(
            "{}: {}",
            count(rows.len(), "disparity", "disparities"),
            tally
        ),
        legend,
        axis,
        axis_label: axis_label.to_string(),
        lines: Vec::new(),
        rows: out_rows,
        more: more_note(rows.len(), "disparity", "disparities"),
    };
    rows::chart(&spec)
}

/// Horizontal bars of each slice's 1 − Spearman distance to the overall explanation profile
/// (axis `0..2`), coloured by verdict, with the cosine distance as a hollow diamond and the
/// flagging `threshold` as a dashed line.
///
/// Each row also writes the distance, the cosine distance, the items explained and the verdict
/// in words; `insufficient_data` bars are hatched grey and a `None` distance is written "n/a".
///
/// # Errors
/// [`Error::Input`](crate::Error::Input) when `rows` is empty, a number is not finite, or a verdict is not `pass`,
/// `flag` or `insufficient_data`.
pub fn profile_distances(title: &str, rows: &[DistanceBar], threshold: f64) -> Result<Chart> {
    let what = chart_name(title);
    if rows.is_empty() {
        bad_input!("cannot draw {what}: there are no slice profiles");
    }
    check(&what, "the threshold", "value", threshold)?;
    let mut extent = Extent::new(0.0, 2.0);
    extent.add(threshold);
    let mut verdicts = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let who = format!("profile {i} ('{}')", r.label);
        check_opt(&what, &who, "Spearman distance", r.spearman_distance)?;
        check_opt(&what, &who, "cosine distance", r.cosine_distance)?;
        verdicts.push(drawn_verdict(&what, &who, r.verdict)?);
        extent.add_opt(r.spearman_distance);
        extent.add_opt(r.cosine_distance);
    }
    let axis = extent.axis(true);

    let shown = rows.len().min(MAX_ROWS);
    let mut out_rows = Vec::with_capacity(shown);
    for (r, &v) in rows.iter().zip(&verdicts).take(shown) {
        let mut marks = Vec::new();
        match r.spearman_distance {
            Some(d) => marks.push(Mark::Bar {
                from: 0.0_f64.clamp(axis.lo, axis.hi),
                to: d,
                fill: match v {
                    Verdict::Pass => PASS_BAR,
                    Verdict::Flag => FLAG,
                    Verdict::InsufficientData | Verdict::NotApplicable => HATCH_FILL,
                },
                edge: match v {
                    Verdict::Pass => PASS,
                    Verdict::Flag => FLAG_TEXT,
                    Verdict::InsufficientData | Verdict::NotApplicable => INSUFFICIENT,
                },
                hatched: v == Verdict::InsufficientData,
            }),
            None => marks.push(Mark::Missing),
        }
        if let Some(c) = r.cosine_distance {
            marks.push(Mark::Diamond { at: c });
        }
        out_rows.push(Row {
            label: row_label(&r.label, "(unnamed slice)"),
            muted: v == Verdict::InsufficientData,
            marks,
            cells: vec![
                Cell::new(
                    r.spearman_distance.map_or("n/a".into(), fmt3),
                    if r.spearman_distance.is_some() {
                        INK
                    } else {
                        MUTED
                    },
                    HPos::Right,
                ),
                Cell::new(
                    format!("cos {}", r.cosine_distance.map_or("n/a".into(), fmt3)),
                    MUTED,
                    HPos::Left,
                ),
                Cell::new(count(r.items, "item", "items"), MUTED, HPos::Left),
                Cell::new(
                    if v == Verdict::InsufficientData {
                        "too few"
                    } else {
                        word(v)
                    },
                    text_color(v),
                    HPos::Left,
                ),
            ],
        });
    }

    let tally = Tally::of(&verdicts);
    let mut legend = Vec::new();
    if tally.pass > 0 {
        legend.push(LegendItem::new(Swatch::Bar(PASS_BAR, PASS), "pass"));
    }
    if tally.flag > 0 {
        legend.push(LegendItem::new(Swatch::Bar(FLAG, FLAG_TEXT), "flag"));
    }
    if tally.insufficient > 0 {
        legend.push(LegendItem::new(Swatch::Hatched, "insufficient data"));
    }
    legend.push(LegendItem::new(Swatch::Diamond, "cosine distance"));
    legend.push(LegendItem::new(
        Swatch::Line(REF, true),
        format!("threshold ({})", fmt_short(threshold)),
    ));
    let spec = Spec {
        title: title.to_string(),
        subtitle: format!(
            "explanation profile of each slice against the overall one, {}: {}",
            count(rows.len(), "slice", "slices"),
            tally
        ),
        legend,
        axis,
        axis_label: "1 − Spearman rank correlation with the overall profile (0 same, 2 reversed)"
            .to_string(),
        lines: vec![VLine {
            at: threshold,
            color: REF,
            dashed: true,
            band: None,
            label: "threshold".into(),
        }],
        rows: out_rows,
        more: more_note(rows.len(), "slice", "slices"),
    };
    rows::chart(&spec)
}

/// The verdict of row `who`, which must be one a chart draws.
fn drawn_verdict(what: &str, who: &str, v: Verdict) -> Result<Verdict> {
    match v {
        Verdict::Pass | Verdict::Flag | Verdict::InsufficientData => Ok(v),
        Verdict::NotApplicable => bad_input!(
            "cannot draw {what}: {who} has verdict '{}'; expected pass, flag or insufficient_data",
            v.name()
        ),
    }
}

/// The colour of a verdict's dot.
fn color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Pass => PASS,
        Verdict::Flag => FLAG,
        Verdict::InsufficientData | Verdict::NotApplicable => INSUFFICIENT,
    }
}

/// The colour of a verdict's words.
fn text_color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Pass => PASS_TEXT,
        Verdict::Flag => FLAG_TEXT,
        Verdict::InsufficientData | Verdict::NotApplicable => MUTED,
    }
}

/// A verdict in words on its row.
fn word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Flag => "FLAG",
        Verdict::InsufficientData | Verdict::NotApplicable => "insufficient data",
    }
}

/// How many rows have each verdict.
struct Tally {
    pass: usize,
    flag: usize,
    insufficient: usize,
}

impl Tally {
    fn of(v: &[Verdict]) -> Self {
        let n = |k| v.iter().filter(|&&x| x == k).count();
        Tally {
            pass: n(Verdict::Pass),
            flag: n(Verdict::Flag),
            insufficient: n(Verdict::InsufficientData),
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} flagged, {} pass", self.flag, self.pass)?;
        if self.insufficient > 0 {
            write!(f, ", {} with insufficient data", self.insufficient)?;
        }
        Ok(())
    }
}

/// Two decimals, or three when needed (`0.80`, `0.125`); scientific beyond.
fn fmt_short(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e5).contains(&v.abs()) {
        return format!("{v:.2e}");
    }
    let s = if ((v * 100.0).round() - v * 100.0).abs() < 1e-9 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.starts_with("-0.0") && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s[1..].to_string()
    } else {
        s
    }
}
