//! Charts for the localization validation record: metrics by slice, disparities against their
//! rules, explanation-profile distances by slice, global feature importance, and the
//! deletion/insertion curves of one explained item.
//!
//! Every chart but the last is one row per item (slice, disparity, feature) on a horizontal
//! axis; each is rendered in memory to both a PNG and an SVG of the same figure ([`Chart`]);
//! [`Chart::write`] writes the pair atomically. The row charts:
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
//! * [`importance`]: mean |attribution| per feature, the top `k` sorted descending (ties by
//!   name), with optional error whiskers.
//!
//! And [`quality_curves`]: the deletion and insertion curves (Petsiuk et al.) of one item in
//! two panels, the explanation's order as a solid line against the random-order baseline as a
//! dashed grey one, with both AUCs in words and which direction is better.
//!
//! The look follows [`plot`](crate::render::plot): 900 px wide, the bundled DejaVu Sans (text sizes
//! 22/16/14 px), ink `#222222` on white, light grey grid lines. Every row also says in words
//! what its colour says (the value, `n`, the verdict), so the charts survive greyscale printing
//! and colour-blind readers. Long labels are shortened with an ellipsis in the middle (keeping
//! both ends: `site & ligh…plant-B & bright`) to a label column of at most 340 px; the figure
//! grows by 26 px per row, and at most 40 rows are drawn (a last line says how many more there
//! are). All numbers must be finite.
//!
//! Output is deterministic: the same input gives byte-identical PNG and SVG (no timestamps,
//! integer layout). SVG text is real `<text>` elements in `DejaVu Sans, sans-serif` (the font
//! the layout was measured with, then the viewer's own), and the SVG references nothing outside
//! itself (no images, fonts or links), so it can be inlined in an HTML report.
//!
//! ```
//! use explain_core::render::charts::{self, SliceBar};
//! let rows = vec![
//!     SliceBar { label: "locale = en-US".into(), value: Some(0.91), ci95: Some([0.88, 0.93]),
//!                n: 412, insufficient: false },
//!     SliceBar { label: "locale = ko-KR".into(), value: Some(0.74), ci95: Some([0.61, 0.84]),
//!                n: 18, insufficient: true },
//! ];
//! let chart = charts::metric_by_slice("TPR by slice", "tpr", Some((0.88, [0.86, 0.90])), &rows,
//!                                     Some((0.70, "four-fifths of best")))?;
//! assert!(chart.png.starts_with(b"\x89PNG"));
//! assert!(chart.svg.contains("locale = ko-KR"));
//! let dir = tempfile::tempdir().unwrap();
//! chart.write(dir.path(), "tpr-by-slice")?; // tpr-by-slice.png and tpr-by-slice.svg
//! # Ok::<(), explain_core::Error>(())
//! ```

use crate::attribution::quality::Curve;
use crate::render::plot::{
    FAMILY, encode_png, ensure_font, fmt_on_scale, fmt_tick, font, nice_step, ticks,
};
use crate::util::output::{check_writable, write_atomic};
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// One figure, rendered both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The PNG file's bytes (RGB, 900 px wide).
    pub png: Vec<u8>,
    /// The SVG document (same size and content; text as `<text>` elements).
    pub svg: String,
}

impl Chart {
    /// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg`, each atomically (creating `dir` if
    /// needed). If the SVG cannot be written the PNG is removed again, so that no half pair is
    /// left behind.
    ///
    /// # Errors
    /// [`Error::Input`] when `stem` is empty or contains a path separator, or a file cannot be
    /// written.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<()> {
        if stem.is_empty() || stem == "." || stem == ".." || stem.contains(['/', '\\']) {
            return Err(Error::Input(format!(
                "cannot write a chart named '{stem}' in {}: the name must be a plain file stem",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Input(format!(
                "cannot create chart directory {}: {e}",
                dir.display()
            ))
        })?;
        let png = dir.join(format!("{stem}.png"));
        let svg = dir.join(format!("{stem}.svg"));
        check_writable(&png)?;
        check_writable(&svg)?;
        write_atomic(&png, &self.png)?;
        if let Err(e) = write_atomic(&svg, self.svg.as_bytes()) {
            let _ = std::fs::remove_file(&png);
            return Err(e);
        }
        Ok(())
    }
}

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
    /// `pass`, `flag` or `insufficient_data` (also accepted: `insufficient`).
    pub verdict: String,
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
    /// `pass`, `flag` or `insufficient_data` (also accepted: `insufficient`).
    pub verdict: String,
}

/// Most rows drawn in one chart; the rest are counted in a last line.
pub const MAX_ROWS: usize = 40;

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
/// [`Error::Input`] when `rows` is empty, or a value, interval bound or line position is not
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
        bad!("cannot draw {what}: there are no slices");
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
    render(&spec)
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
/// [`Error::Input`] when `rows` is empty, a number is not finite, an interval is reversed, or
/// a verdict is not `pass`, `flag` or `insufficient_data`.
pub fn disparities(title: &str, rows: &[DisparityBar]) -> Result<Chart> {
    let what = chart_name(title);
    if rows.is_empty() {
        bad!("cannot draw {what}: there are no disparities");
    }
    let mut extent = Extent::new(0.0, 1.0);
    let mut verdicts = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let who = format!("disparity {i} ('{}')", r.label);
        check_opt(&what, &who, "value", r.value)?;
        check_ci(&what, &who, r.ci95)?;
        check(&what, &who, "threshold", r.threshold)?;
        verdicts.push(parse_verdict(&what, &who, &r.verdict)?);
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
                color: if v == Verdict::Insufficient {
                    MUTED
                } else {
                    INK
                },
            });
        }
        match r.value {
            Some(x) => marks.push(Mark::Dot {
                at: x,
                color: v.color(),
                filled: v != Verdict::Insufficient,
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
            muted: v == Verdict::Insufficient,
            marks,
            cells: vec![
                Cell::new(
                    r.value.map_or("n/a".into(), fmt3),
                    if r.value.is_some() { INK } else { MUTED },
                    HPos::Right,
                ),
                Cell::new(rule, MUTED, HPos::Left),
                Cell::new(v.word(), v.text_color(), HPos::Left),
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
    render(&spec)
}

/// Horizontal bars of each slice's 1 − Spearman distance to the overall explanation profile
/// (axis `0..2`), coloured by verdict, with the cosine distance as a hollow diamond and the
/// flagging `threshold` as a dashed line.
///
/// Each row also writes the distance, the cosine distance, the items explained and the verdict
/// in words; `insufficient_data` bars are hatched grey and a `None` distance is written "n/a".
///
/// # Errors
/// [`Error::Input`] when `rows` is empty, a number is not finite, or a verdict is not `pass`,
/// `flag` or `insufficient_data`.
pub fn profile_distances(title: &str, rows: &[DistanceBar], threshold: f64) -> Result<Chart> {
    let what = chart_name(title);
    if rows.is_empty() {
        bad!("cannot draw {what}: there are no slice profiles");
    }
    check(&what, "the threshold", "value", threshold)?;
    let mut extent = Extent::new(0.0, 2.0);
    extent.add(threshold);
    let mut verdicts = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let who = format!("profile {i} ('{}')", r.label);
        check_opt(&what, &who, "Spearman distance", r.spearman_distance)?;
        check_opt(&what, &who, "cosine distance", r.cosine_distance)?;
        verdicts.push(parse_verdict(&what, &who, &r.verdict)?);
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
                    Verdict::Insufficient => HATCH_FILL,
                },
                edge: match v {
                    Verdict::Pass => PASS,
                    Verdict::Flag => FLAG_TEXT,
                    Verdict::Insufficient => INSUFFICIENT,
                },
                hatched: v == Verdict::Insufficient,
            }),
            None => marks.push(Mark::Missing),
        }
        if let Some(c) = r.cosine_distance {
            marks.push(Mark::Diamond { at: c });
        }
        out_rows.push(Row {
            label: row_label(&r.label, "(unnamed slice)"),
            muted: v == Verdict::Insufficient,
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
                    if v == Verdict::Insufficient {
                        "too few"
                    } else {
                        v.word()
                    },
                    v.text_color(),
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
    render(&spec)
}

/// Global importance: the `top` features with the largest `values` (mean |attribution|) as
/// horizontal bars, largest at the top (ties by name, then input order).
///
/// `errors`, if given, holds one whisker half-width per feature (for example 1.96 standard
/// errors); zero draws no whisker. Empty names are shown as `feature <index>`. At most 40 bars
/// are drawn whatever `top`; a last line says how many more of the top `top` there are.
///
/// # Errors
/// [`Error::Input`] when there are no features, `top` is zero, the lengths differ, a value is
/// not finite, or an error is negative or not finite.
pub fn importance(
    title: &str,
    names: &[String],
    values: &[f64],
    errors: Option<&[f64]>,
    top: usize,
) -> Result<Chart> {
    let what = chart_name(title);
    if names.len() != values.len() {
        bad!(
            "cannot draw {what}: {} feature names but {} values",
            names.len(),
            values.len()
        );
    }
    if values.is_empty() {
        bad!("cannot draw {what}: there are no features");
    }
    if top == 0 {
        bad!("cannot draw {what}: top must be at least 1");
    }
    if let Some(e) = errors
        && e.len() != values.len()
    {
        bad!(
            "cannot draw {what}: {} errors but {} values",
            e.len(),
            values.len()
        );
    }
    for (i, &v) in values.iter().enumerate() {
        check(&what, &format!("feature {i} ('{}')", names[i]), "value", v)?;
        if let Some(e) = errors {
            check(
                &what,
                &format!("feature {i} ('{}')", names[i]),
                "error",
                e[i],
            )?;
            if e[i] < 0.0 {
                bad!(
                    "cannot draw {what}: feature {i} ('{}') has a negative error {}",
                    names[i],
                    e[i]
                );
            }
        }
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        values[b]
            .total_cmp(&values[a])
            .then_with(|| names[a].cmp(&names[b]))
            .then(a.cmp(&b))
    });
    let wanted = top.min(values.len());
    let shown = wanted.min(MAX_ROWS);
    let order = &order[..shown];

    let mut extent = Extent::new(0.0, 0.0);
    let mut scale = 0.0f64;
    for &i in order {
        let e = errors.map_or(0.0, |e| e[i]);
        extent.add(values[i] - e);
        extent.add(values[i] + e);
        scale = scale.max(values[i].abs());
    }
    let axis = extent.axis(false);
    let with_errors = errors.is_some_and(|e| order.iter().any(|&i| e[i] > 0.0));

    let rows: Vec<Row> = order
        .iter()
        .map(|&i| {
            let mut marks = vec![Mark::Bar {
                from: 0.0_f64.clamp(axis.lo, axis.hi),
                to: values[i],
                fill: BAR,
                edge: BAR_EDGE,
                hatched: false,
            }];
            let mut cells = vec![Cell::new(fmt_on_scale(values[i], scale), INK, HPos::Right)];
            if let Some(e) = errors {
                if e[i] > 0.0 {
                    marks.push(Mark::Whisker {
                        lo: values[i] - e[i],
                        hi: values[i] + e[i],
                        color: INK,
                    });
                }
                if with_errors {
                    cells.push(Cell::new(
                        if e[i] > 0.0 {
                            format!("± {}", fmt_on_scale(e[i], scale))
                        } else {
                            String::new()
                        },
                        MUTED,
                        HPos::Left,
                    ));
                }
            }
            Row {
                label: row_label(&names[i], &format!("feature {i}")),
                muted: false,
                marks,
                cells,
            }
        })
        .collect();

    let n = values.len();
    let subtitle = if wanted < n {
        format!("top {wanted} of {n} features by mean |attribution|")
    } else if n == 1 {
        "1 feature".to_string()
    } else {
        format!("all {n} features, by mean |attribution|")
    };
    let legend = if with_errors {
        vec![
            LegendItem::new(Swatch::Bar(BAR, BAR_EDGE), "mean |attribution|"),
            LegendItem::new(Swatch::Whisker, "± error"),
        ]
    } else {
        Vec::new()
    };
    let more = (wanted > shown).then(|| {
        format!(
            "+{} more of the top {wanted} not shown (at most {MAX_ROWS} rows)",
            wanted - shown
        )
    });
    let spec = Spec {
        title: title.to_string(),
        subtitle,
        legend,
        axis,
        axis_label: "mean |attribution|".to_string(),
        lines: Vec::new(),
        rows,
        more,
    };
    render(&spec)
}

/// The deletion and insertion curves of one explained item (Petsiuk et al., RISE), as two
/// panels side by side.
///
/// * Left, **Deletion**: the model output as features are removed in order of attribution,
///   most important first. A faithful explanation makes the output fall fast, so a lower area
///   under the curve (AUC) is better.
/// * Right, **Insertion**: the output as features are added, most important first, from the
///   baseline. The output should rise fast, so a higher AUC is better.
///
/// In each panel the explanation's order is a solid blue line (with a dot at each point when
/// there are at most 40) and the mean over random orders a grey dashed line; the legend above
/// the panel gives both AUCs (`attribution order  AUC 0.153`, `random order  AUC 0.731`) and
/// the panel's subtitle says which direction is better. The x axis is the share of features
/// removed or added (`0..1`, widened if a point lies outside); the y axis is the model output
/// on the explained (link) scale, the same range in both panels: every value of the four
/// curves, padded a little (a constant output gets a range around it).
///
/// `deletion` and `insertion` come from the explanation's order, `random_deletion` and
/// `random_insertion` from random orders, as in [`crate::attribution::quality`]; the AUCs shown are the
/// curves' own `auc` fields.
///
/// ```
/// use explain_core::render::charts;
/// use explain_core::attribution::quality::Curve;
/// let curve = |y: &[f64], auc: f64| Curve {
///     x: (0..y.len()).map(|i| i as f64 / (y.len() - 1) as f64).collect(),
///     y: y.to_vec(),
///     auc,
/// };
/// let chart = charts::quality_curves(
///     "Deletion and insertion, image 3",
///     &curve(&[0.9, 0.3, 0.1, 0.05], 0.225),
///     &curve(&[0.05, 0.6, 0.8, 0.9], 0.625),
///     &curve(&[0.9, 0.7, 0.4, 0.05], 0.525),
///     &curve(&[0.05, 0.3, 0.6, 0.9], 0.425),
/// )?;
/// assert!(chart.svg.contains("AUC 0.225"));
/// # Ok::<(), explain_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::Input`] naming the curve when one is empty, its `x` and `y` differ in length, or a
/// point or its AUC is not finite (or too large to plot).
pub fn quality_curves(
    title: &str,
    deletion: &Curve,
    insertion: &Curve,
    random_deletion: &Curve,
    random_insertion: &Curve,
) -> Result<Chart> {
    let what = chart_name(title);
    let curves = [
        ("deletion curve", deletion),
        ("insertion curve", insertion),
        ("random-order deletion curve", random_deletion),
        ("random-order insertion curve", random_insertion),
    ];
    for (name, c) in curves {
        check_curve(&what, name, c)?;
    }
    let mut x_extent = Extent::new(0.0, 1.0);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, c) in curves {
        c.x.iter().for_each(|&v| x_extent.add(v));
        for &v in &c.y {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let x_axis = x_extent.axis(true);
    let y_axis = padded(lo, hi);
    let auc_scale = curves.iter().map(|(_, c)| c.auc.abs()).fold(0.0, f64::max);
    let auc = |c: &Curve| fmt_auc(c.auc, auc_scale);

    ensure_font()?;
    let panel = |heading, note, axis_label, main: &Curve, random: &Curve| CurvePanel {
        heading,
        note,
        axis_label,
        main: main.x.iter().copied().zip(main.y.iter().copied()).collect(),
        random: random
            .x
            .iter()
            .copied()
            .zip(random.y.iter().copied())
            .collect(),
        legend: [
            format!("attribution order  AUC {}", auc(main)),
            format!("random order  AUC {}", auc(random)),
        ],
    };
    let title = clean(title);
    let fig = CurvesFigure::new(
        if title.is_empty() {
            "Deletion and insertion curves".to_string()
        } else {
            title
        },
        [
            panel(
                "Deletion",
                "most important removed first: lower AUC is better",
                "share of features removed",
                deletion,
                random_deletion,
            ),
            panel(
                "Insertion",
                "most important added first: higher AUC is better",
                "share of features added",
                insertion,
                random_insertion,
            ),
        ],
        x_axis,
        y_axis,
    );
    render_figure(&fig)
}

// ---------------------------------------------------------------------------------------------
// Validation and small helpers
// ---------------------------------------------------------------------------------------------

/// `return Err(Error::Input(format!(...)))`.
macro_rules! bad {
    ($($arg:tt)*) => { return Err(Error::Input(format!($($arg)*))) };
}
use bad;

/// Largest magnitude accepted, so that spans and pixel positions stay finite.
const LARGEST: f64 = 1e100;

fn chart_name(title: &str) -> String {
    let t = clean(title);
    if t.is_empty() {
        "the chart".to_string()
    } else {
        format!("the chart '{t}'")
    }
}

fn check(what: &str, who: &str, kind: &str, v: f64) -> Result<()> {
    if !v.is_finite() {
        bad!("cannot draw {what}: {who} has {kind} {v}, not a finite number");
    }
    if v.abs() > LARGEST {
        bad!("cannot draw {what}: {who} has {kind} {v}, too large to plot");
    }
    Ok(())
}

fn check_opt(what: &str, who: &str, kind: &str, v: Option<f64>) -> Result<()> {
    v.map_or(Ok(()), |v| check(what, who, kind, v))
}

fn check_ci(what: &str, who: &str, ci: Option<[f64; 2]>) -> Result<()> {
    if let Some([lo, hi]) = ci {
        check(what, who, "interval bound", lo)?;
        check(what, who, "interval bound", hi)?;
        if lo > hi {
            bad!("cannot draw {what}: {who} has a reversed interval [{lo}, {hi}]");
        }
    }
    Ok(())
}

/// A curve for [`quality_curves`]: as many `x` as `y`, at least one point, all finite.
fn check_curve(what: &str, name: &str, c: &Curve) -> Result<()> {
    if c.x.len() != c.y.len() {
        bad!(
            "cannot draw {what}: {name}: x and y have different lengths ({} vs {})",
            c.x.len(),
            c.y.len()
        );
    }
    if c.x.is_empty() {
        bad!("cannot draw {what}: {name}: the curve is empty (no points)");
    }
    let values = c.x.iter().enumerate().map(|(i, &v)| (format!("x[{i}]"), v));
    let values = values.chain(c.y.iter().enumerate().map(|(i, &v)| (format!("y[{i}]"), v)));
    for (at, v) in values.chain(std::iter::once(("AUC".to_string(), c.auc))) {
        if !v.is_finite() {
            bad!("cannot draw {what}: {name}: {at} is {v}, not a finite number");
        }
        if v.abs() > LARGEST {
            bad!("cannot draw {what}: {name}: {at} is {v}, too large to plot");
        }
    }
    Ok(())
}

/// The range `lo..hi` padded by 6 % on each side; a range too narrow to draw (for its
/// magnitude) becomes one around its middle.
fn padded(lo: f64, hi: f64) -> Axis {
    let magnitude = lo.abs().max(hi.abs());
    let span = hi - lo;
    if span > magnitude * 1e-6 && span > f64::MIN_POSITIVE {
        let pad = span * 0.06;
        return Axis {
            lo: lo - pad,
            hi: hi + pad,
        };
    }
    let mid = lo / 2.0 + hi / 2.0;
    let pad = (mid.abs() * 0.1).max(0.5);
    Axis {
        lo: mid - pad,
        hi: mid + pad,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Flag,
    Insufficient,
}

impl Verdict {
    fn color(self) -> RGBColor {
        match self {
            Verdict::Pass => PASS,
            Verdict::Flag => FLAG,
            Verdict::Insufficient => INSUFFICIENT,
        }
    }

    fn text_color(self) -> RGBColor {
        match self {
            Verdict::Pass => PASS_TEXT,
            Verdict::Flag => FLAG_TEXT,
            Verdict::Insufficient => MUTED,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Flag => "FLAG",
            Verdict::Insufficient => "insufficient data",
        }
    }
}

fn parse_verdict(what: &str, who: &str, s: &str) -> Result<Verdict> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pass" => Ok(Verdict::Pass),
        "flag" => Ok(Verdict::Flag),
        "insufficient_data" | "insufficient data" | "insufficient" => Ok(Verdict::Insufficient),
        _ => bad!(
            "cannot draw {what}: {who} has verdict '{s}'; expected pass, flag or insufficient_data"
        ),
    }
}

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
            insufficient: n(Verdict::Insufficient),
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

/// The data range of a chart, starting from a base range that is always shown.
struct Extent {
    base: (f64, f64),
    lo: f64,
    hi: f64,
}

impl Extent {
    fn new(lo: f64, hi: f64) -> Self {
        Extent {
            base: (lo, hi),
            lo,
            hi,
        }
    }

    fn add(&mut self, v: f64) {
        self.lo = self.lo.min(v);
        self.hi = self.hi.max(v);
    }

    fn add_opt(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.add(v);
        }
    }

    fn add_ci(&mut self, ci: Option<[f64; 2]>) {
        if let Some([lo, hi]) = ci {
            self.add(lo);
            self.add(hi);
        }
    }

    /// The axis: exactly the base range when the data fit in it and `fixed` (a proportion's
    /// `0..1`), otherwise the data range widened to whole multiples of a nice step.
    fn axis(&self, fixed: bool) -> Axis {
        let (mut lo, mut hi) = (self.lo, self.hi);
        if fixed && lo >= self.base.0 && hi <= self.base.1 && self.base.1 > self.base.0 {
            return Axis {
                lo: self.base.0,
                hi: self.base.1,
            };
        }
        if hi - lo <= 0.0 || !(hi - lo).is_finite() {
            hi = lo + 1.0;
        }
        let step = nice_step(hi - lo, 10);
        lo = (lo / step + 1e-9).floor() * step;
        hi = (hi / step - 1e-9).ceil() * step;
        Axis { lo, hi }
    }
}

#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
}

/// Control characters removed, surrounding spaces trimmed.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

fn row_label(s: &str, empty: &str) -> String {
    let s = clean(s);
    if s.is_empty() { empty.to_string() } else { s }
}

fn more_note(total: usize, one: &str, many: &str) -> Option<String> {
    (total > MAX_ROWS).then(|| {
        let n = total - MAX_ROWS;
        let what = if n == 1 { one } else { many };
        format!("+{n} more {what} not shown (at most {MAX_ROWS} rows)")
    })
}

/// `1 thing` or `n things`.
fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Three decimals, for proportions and distances (never `-0.000`).
fn fmt3(v: f64) -> String {
    let s = format!("{v:.3}");
    if s == "-0.000" { "0.000".into() } else { s }
}

/// AUCs on the scale of the largest, `max_abs`, alike: three decimals (more when the largest
/// is below 0.01, so that it keeps three significant digits) while it is below 100, three
/// significant digits beyond; scientific outside `1e-3..1e5`. Never `-0.000`.
fn fmt_auc(v: f64, max_abs: f64) -> String {
    if max_abs == 0.0 {
        return fmt3(v);
    }
    if !(1e-3..1e5).contains(&max_abs) {
        return format!("{v:.2e}");
    }
    let decimals = (2 - max_abs.log10().floor() as i32).clamp(0, 6);
    let decimals = if max_abs < 100.0 {
        decimals.max(3)
    } else {
        decimals
    } as usize;
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s[1..].to_string()
    } else {
        s
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

// ---------------------------------------------------------------------------------------------
// Style
// ---------------------------------------------------------------------------------------------

/// Text, axes.
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Secondary text.
const MUTED: RGBColor = RGBColor(0x5a, 0x5a, 0x5a);
/// Grid lines.
const GRID: RGBColor = RGBColor(0xe2, 0xe2, 0xe2);
/// Every other row's background.
const ZEBRA: RGBColor = RGBColor(0xf6, 0xf6, 0xf6);
/// Neutral bars (ColorBrewer RdBu light blue) and their edge.
const BAR: RGBColor = RGBColor(0x92, 0xc5, 0xde);
const BAR_EDGE: RGBColor = RGBColor(0x43, 0x93, 0xc3);
/// The overall interval band.
const BAND: RGBColor = RGBColor(0xec, 0xe2, 0xc6);
/// Reference lines (thresholds): dashed dark red.
const REF: RGBColor = RGBColor(0xb2, 0x18, 0x2b);
/// Verdicts: flag (RdBu red, as positive attributions in `plot`), pass (Okabe–Ito bluish
/// green, distinguishable from the red for colour-blind readers), insufficient (grey).
const FLAG: RGBColor = RGBColor(0xd6, 0x60, 0x4d);
const FLAG_TEXT: RGBColor = RGBColor(0xb2, 0x18, 0x2b);
const PASS: RGBColor = RGBColor(0x00, 0x9e, 0x73);
const PASS_BAR: RGBColor = RGBColor(0x66, 0xc2, 0xa5);
const PASS_TEXT: RGBColor = RGBColor(0x00, 0x6d, 0x4f);
const INSUFFICIENT: RGBColor = RGBColor(0x99, 0x99, 0x99);
/// Hatched bars: light grey with grey diagonal lines.
const HATCH_FILL: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
/// The failing side of a disparity threshold.
const ZONE: RGBColor = RGBColor(0xfd, 0xee, 0xea);

/// Font sizes (plotters units). Even sizes, as in `plot`.
const TITLE_SIZE: f64 = 22.0;
const LABEL_SIZE: f64 = 16.0;
const SMALL_SIZE: f64 = 14.0;

/// Figure width, outer margin, row height, gaps (pixels).
const WIDTH: i32 = 900;
const MARGIN: i32 = 16;
const ROW: i32 = 26;
const GAP: i32 = 12;
/// Narrowest plotting area and widest label column.
const MIN_PLOT: i32 = 280;
const MAX_LABEL_PX: i32 = 340;
/// Widest annotation column.
const MAX_CELL_PX: i32 = 200;
/// Spare room at the right end of the axis, so that markers at its end stay clear of the
/// annotations.
const PLOT_PAD: i32 = 12;
const LEGEND_LINE: i32 = 22;
const STRIP_LINE: i32 = 18;
/// Half-heights of bars, whisker caps, threshold ticks and zones.
const BAR_HALF: i32 = 7;
const CAP_HALF: i32 = 5;
const TICK_HALF: i32 = 10;
const ZONE_HALF: i32 = 9;
const DOT_R: i32 = 6;
const HATCH_STEP: i32 = 6;

fn text_style(size: f64, color: RGBColor, h: HPos) -> TextStyle<'static> {
    TextStyle {
        font: font(size),
        color: color.to_backend_color(),
        pos: Pos::new(h, VPos::Center),
    }
}

/// Width of `text` in pixels at `size` (as [`plot`](crate::render::plot) measures it).
fn text_width(text: &str, size: f64) -> i32 {
    crate::render::plot::text_width(text, size) as i32
}

/// `text` shortened to at most `max_px` pixels by an ellipsis in the middle, which keeps both
/// the start and the end (`site & ligh…plant-B & bright`).
fn fit_text(text: &str, size: f64, max_px: i32) -> String {
    crate::render::plot::fit_text(text, size, usize::MAX, max_px.max(0) as u32)
}

// ---------------------------------------------------------------------------------------------
// The common figure: rows on a horizontal axis
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Mark {
    Bar {
        from: f64,
        to: f64,
        fill: RGBColor,
        edge: RGBColor,
        hatched: bool,
    },
    Whisker {
        lo: f64,
        hi: f64,
        color: RGBColor,
    },
    Dot {
        at: f64,
        color: RGBColor,
        filled: bool,
    },
    Diamond {
        at: f64,
    },
    /// A threshold tick on the row.
    Tick {
        at: f64,
    },
    /// The failing side of a threshold, shaded across the row.
    Zone {
        from: f64,
        to: f64,
    },
    /// No value: "n/a" at the start of the axis.
    Missing,
}

struct Cell {
    text: String,
    color: RGBColor,
    align: HPos,
}

impl Cell {
    fn new(text: impl Into<String>, color: RGBColor, align: HPos) -> Self {
        Cell {
            text: text.into(),
            color,
            align,
        }
    }
}

struct Row {
    label: String,
    muted: bool,
    marks: Vec<Mark>,
    /// Annotations right of the plot, one per column.
    cells: Vec<Cell>,
}

/// A vertical line across all rows, with an optional band (an interval) beneath it.
struct VLine {
    at: f64,
    color: RGBColor,
    dashed: bool,
    band: Option<(f64, f64)>,
    label: String,
}

#[derive(Debug, Clone, Copy)]
enum Swatch {
    Bar(RGBColor, RGBColor),
    BarWhisker,
    Hatched,
    Band,
    Line(RGBColor, bool),
    Dot(RGBColor, bool),
    Diamond,
    Tick,
    Whisker,
    Zone,
    /// Text only.
    None,
}

struct LegendItem {
    swatch: Swatch,
    text: String,
}

impl LegendItem {
    fn new(swatch: Swatch, text: impl Into<String>) -> Self {
        LegendItem {
            swatch,
            text: text.into(),
        }
    }
}

struct Spec {
    title: String,
    subtitle: String,
    legend: Vec<LegendItem>,
    axis: Axis,
    axis_label: String,
    lines: Vec<VLine>,
    rows: Vec<Row>,
    more: Option<String>,
}

/// Where everything goes, in pixels.
struct Layout {
    height: i32,
    label_right: i32,
    plot_left: i32,
    plot_right: i32,
    /// Left edge of each annotation column, and its width.
    cols: Vec<(i32, i32)>,
    /// Legend items: swatch left x, centre y, text (fitted).
    legend: Vec<(i32, i32, usize, String)>,
    /// Line labels: x, y, anchor, text.
    line_labels: Vec<(i32, i32, HPos, String, RGBColor)>,
    rows_top: i32,
    rows_bottom: i32,
    labels: Vec<String>,
    ticks: Vec<f64>,
    step: f64,
}

const SWATCH_W: i32 = 24;

fn layout(spec: &Spec) -> Layout {
    // Annotation columns, right of the plot.
    let ncols = spec.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    let widths: Vec<i32> = (0..ncols)
        .map(|c| {
            spec.rows
                .iter()
                .filter_map(|r| r.cells.get(c))
                .map(|cell| text_width(&cell.text, SMALL_SIZE))
                .max()
                .unwrap_or(0)
                .min(MAX_CELL_PX)
        })
        .collect();
    let annot_w: i32 = widths.iter().map(|w| w + GAP).sum();

    // Labels, left of the plot: as wide as needed up to what leaves the plot its minimum.
    let widest = spec
        .rows
        .iter()
        .map(|r| text_width(&r.label, LABEL_SIZE))
        .max()
        .unwrap_or(0);
    let room = WIDTH - 2 * MARGIN - GAP - MIN_PLOT - PLOT_PAD - annot_w;
    let label_w = widest.min(MAX_LABEL_PX).min(room.max(80)).max(24);
    let label_right = MARGIN + label_w;
    let plot_left = label_right + GAP;
    let plot_right = (WIDTH - MARGIN - annot_w - PLOT_PAD).max(plot_left + 100);
    let mut cols = Vec::with_capacity(ncols);
    let mut x = plot_right + PLOT_PAD;
    for &w in &widths {
        x += GAP;
        cols.push((x, w));
        x += w;
    }
    let labels = spec
        .rows
        .iter()
        .map(|r| fit_text(&r.label, LABEL_SIZE, label_w))
        .collect();

    // Vertical: title, subtitle, legend lines, line-label strip, rows, axis.
    let mut y = 74;
    let max_legend = WIDTH - 2 * MARGIN;
    // Legend items (swatch and text), wrapped into centred lines.
    let mut lines: Vec<Vec<(i32, usize, String)>> = Vec::new(); // (width, item, text)
    let mut line_w = 0;
    for (i, item) in spec.legend.iter().enumerate() {
        let sw = if matches!(item.swatch, Swatch::None) {
            0
        } else {
            SWATCH_W + 6
        };
        let text = fit_text(&item.text, SMALL_SIZE, max_legend - sw);
        let w = sw + text_width(&text, SMALL_SIZE);
        match lines.last_mut() {
            Some(line) if line_w + 20 + w <= max_legend => {
                line_w += 20 + w;
                line.push((w, i, text));
            }
            _ => {
                line_w = w;
                lines.push(vec![(w, i, text)]);
            }
        }
    }
    let mut legend = Vec::new();
    for line in lines {
        let total: i32 = line.iter().map(|(w, _, _)| w).sum::<i32>() + 20 * (line.len() as i32 - 1);
        let mut x = (WIDTH - total) / 2;
        for (w, i, text) in line {
            legend.push((x, y, i, text));
            x += w + 20;
        }
        y += LEGEND_LINE;
    }
    if spec.legend.is_empty() {
        y -= 6;
    }

    let span = spec.axis.hi - spec.axis.lo;
    let xpx = |v: f64| {
        plot_left + ((v - spec.axis.lo) / span * f64::from(plot_right - plot_left)).round() as i32
    };

    // Line labels: placed next to their line, in as few strip rows as keep them apart.
    let mut labelled: Vec<(i32, &VLine)> = spec
        .lines
        .iter()
        .filter(|l| !l.label.is_empty())
        .map(|l| (xpx(l.at), l))
        .collect();
    labelled.sort_by_key(|(x, _)| *x);
    let mut placed: Vec<(usize, i32, i32)> = Vec::new(); // (strip row, left, right)
    let mut line_labels = Vec::new();
    let n = labelled.len();
    let mut strip_rows = 0;
    for (k, (lx, l)) in labelled.iter().enumerate() {
        let text = fit_text(&l.label, SMALL_SIZE, 300);
        let w = text_width(&text, SMALL_SIZE);
        let prefs: [HPos; 3] = if n == 1 {
            [HPos::Center, HPos::Left, HPos::Right]
        } else if k == 0 {
            [HPos::Right, HPos::Center, HPos::Left]
        } else if k == n - 1 {
            [HPos::Left, HPos::Center, HPos::Right]
        } else {
            [HPos::Center, HPos::Left, HPos::Right]
        };
        let boxed = |h: HPos| {
            let left = match h {
                HPos::Left => lx + 4,
                HPos::Right => lx - 4 - w,
                HPos::Center => lx - w / 2,
            };
            let left = left.clamp(MARGIN, WIDTH - MARGIN - w);
            (left, left + w)
        };
        let mut done = false;
        for row in 0..n.max(1) {
            for &h in &prefs {
                let (a, b) = boxed(h);
                if placed
                    .iter()
                    .all(|&(r, pa, pb)| r != row || b + 8 <= pa || a >= pb + 8)
                {
                    placed.push((row, a, b));
                    line_labels.push((a, row, text.clone(), l.color));
                    strip_rows = strip_rows.max(row + 1);
                    done = true;
                    break;
                }
            }
            if done {
                break;
            }
        }
    }
    let strip_top = y - 4;
    let line_labels = line_labels
        .into_iter()
        .map(|(left, row, text, color)| {
            (
                left,
                strip_top + STRIP_LINE / 2 + row as i32 * STRIP_LINE,
                HPos::Left,
                text,
                color,
            )
        })
        .collect();
    y = strip_top + strip_rows as i32 * STRIP_LINE;
    let rows_top = y + 4;
    let rows_bottom = rows_top + ROW * spec.rows.len() as i32;
    // Axis ticks and title, then the "+N more" note if any.
    let height = rows_bottom + 64 + if spec.more.is_some() { 22 } else { 0 };
    let (ticks, step) = ticks(
        spec.axis.lo,
        spec.axis.hi,
        ((plot_right - plot_left) / 80).clamp(4, 10) as usize,
    );
    Layout {
        height,
        label_right,
        plot_left,
        plot_right,
        cols,
        legend,
        line_labels,
        rows_top,
        rows_bottom,
        labels,
        ticks,
        step,
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A filled rectangle covering pixels `x0..x1` × `y0..y1` (exclusive ends, as both backends
/// fill them).
fn fill<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> DrawResult<DB> {
    let (xa, xb) = (x0.min(x1), x0.max(x1));
    let (ya, yb) = (y0.min(y1), y0.max(y1));
    if xa == xb || ya == yb {
        return Ok(());
    }
    root.draw(&Rectangle::new([(xa, ya), (xb, yb)], color.filled()))
}

fn text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &str,
    (x, y): (i32, i32),
    size: f64,
    color: RGBColor,
    h: HPos,
) -> DrawResult<DB> {
    if s.is_empty() {
        return Ok(());
    }
    root.draw(&Text::new(
        s.to_string(),
        (x, y),
        text_style(size, color, h),
    ))
}

/// Diagonal hatching (lower left to upper right) inside `x0..x1` × `y0..y1`, on a grid
/// shared by all bars so that neighbours line up.
fn hatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> DrawResult<DB> {
    if x1 - x0 < 2 || y1 - y0 < 2 {
        return Ok(());
    }
    let first = (x0 + y0).div_euclid(HATCH_STEP) * HATCH_STEP;
    let mut c = first;
    while c < x1 + y1 - 1 {
        let xa = x0.max(c - (y1 - 1));
        let xb = (x1 - 1).min(c - y0);
        if xa < xb {
            root.draw(&PathElement::new(
                vec![(xa, c - xa), (xb, c - xb)],
                color.stroke_width(1),
            ))?;
        }
        c += HATCH_STEP;
    }
    Ok(())
}

/// A 1 px outline just inside `x0..x1` × `y0..y1`.
fn outline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> DrawResult<DB> {
    fill(root, (x0, y0), (x1, y0 + 1), color)?;
    fill(root, (x0, y1 - 1), (x1, y1), color)?;
    fill(root, (x0, y0), (x0 + 1, y1), color)?;
    fill(root, (x1 - 1, y0), (x1, y1), color)
}

fn vline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: i32,
    (top, bottom): (i32, i32),
    color: RGBColor,
    dashed: bool,
) -> DrawResult<DB> {
    if dashed {
        let mut y = top;
        while y < bottom {
            fill(root, (x - 1, y), (x + 1, (y + 7).min(bottom)), color)?;
            y += 11;
        }
        Ok(())
    } else {
        fill(root, (x - 1, top), (x + 1, bottom), color)
    }
}

fn whisker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (xa, xb): (i32, i32),
    cy: i32,
    color: RGBColor,
) -> DrawResult<DB> {
    fill(root, (xa, cy - 1), (xb + 1, cy + 1), color)?;
    fill(
        root,
        (xa - 1, cy - CAP_HALF),
        (xa + 1, cy + CAP_HALF + 1),
        color,
    )?;
    fill(
        root,
        (xb, cy - CAP_HALF),
        (xb + 2, cy + CAP_HALF + 1),
        color,
    )
}

fn dot<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    color: RGBColor,
    filled: bool,
) -> DrawResult<DB> {
    if filled {
        root.draw(&Circle::new((x, y), DOT_R + 1, WHITE.filled()))?;
        root.draw(&Circle::new((x, y), DOT_R, color.filled()))
    } else {
        root.draw(&Circle::new((x, y), DOT_R, WHITE.filled()))?;
        root.draw(&Circle::new((x, y), DOT_R, color.stroke_width(2)))
    }
}

fn diamond<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
) -> DrawResult<DB> {
    let r = 6;
    let pts = vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)];
    root.draw(&Polygon::new(pts.clone(), WHITE.filled()))?;
    let mut closed = pts;
    closed.push((x, y - r));
    root.draw(&PathElement::new(closed, INK.stroke_width(2)))
}

fn swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: Swatch,
    x: i32,
    cy: i32,
) -> DrawResult<DB> {
    let (x0, x1) = (x + 2, x + SWATCH_W - 2);
    let mid = x + SWATCH_W / 2;
    match s {
        Swatch::Bar(f, e) => {
            fill(root, (x0, cy - 6), (x1, cy + 7), f)?;
            outline(root, (x0, cy - 6), (x1, cy + 7), e)
        }
        Swatch::BarWhisker => {
            fill(root, (x0, cy - 6), (x1 - 6, cy + 7), BAR)?;
            outline(root, (x0, cy - 6), (x1 - 6, cy + 7), BAR_EDGE)?;
            whisker(root, (x0 + 8, x1 - 1), cy, INK)
        }
        Swatch::Hatched => {
            fill(root, (x0, cy - 6), (x1, cy + 7), HATCH_FILL)?;
            hatch(root, (x0, cy - 6), (x1, cy + 7), INSUFFICIENT)?;
            outline(root, (x0, cy - 6), (x1, cy + 7), INSUFFICIENT)
        }
        Swatch::Band => {
            fill(root, (x0 + 2, cy - 8), (x1 - 2, cy + 9), BAND)?;
            vline(root, mid, (cy - 8, cy + 9), INK, false)
        }
        Swatch::Line(c, dashed) => vline(root, mid, (cy - 9, cy + 10), c, dashed),
        Swatch::Dot(c, filled) => dot(root, (mid, cy), c, filled),
        Swatch::Diamond => diamond(root, (mid, cy)),
        Swatch::Tick => fill(root, (mid - 1, cy - 9), (mid + 1, cy + 10), INK),
        Swatch::Whisker => whisker(root, (x0 + 1, x1 - 2), cy, INK),
        Swatch::Zone => {
            fill(root, (x0, cy - 7), (x1, cy + 8), ZONE)?;
            fill(root, (x1 - 2, cy - 7), (x1, cy + 8), INK)
        }
        Swatch::None => Ok(()),
    }
}

fn draw<DB: DrawingBackend>(
    spec: &Spec,
    lay: &Layout,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    fill(root, (0, 0), (WIDTH, lay.height), WHITE)?;
    text(
        root,
        &fit_text(&clean(&spec.title), TITLE_SIZE, WIDTH - 40),
        (WIDTH / 2, 22),
        TITLE_SIZE,
        INK,
        HPos::Center,
    )?;
    text(
        root,
        &fit_text(&spec.subtitle, SMALL_SIZE, WIDTH - 40),
        (WIDTH / 2, 48),
        SMALL_SIZE,
        MUTED,
        HPos::Center,
    )?;
    for (x, y, i, t) in &lay.legend {
        let s = spec.legend[*i].swatch;
        let tx = if matches!(s, Swatch::None) {
            *x
        } else {
            swatch(root, s, *x, *y)?;
            x + SWATCH_W + 6
        };
        text(root, t, (tx, *y), SMALL_SIZE, INK, HPos::Left)?;
    }

    let span = spec.axis.hi - spec.axis.lo;
    let (pl, pr) = (lay.plot_left, lay.plot_right);
    let xpx = |v: f64| {
        let v = v.clamp(spec.axis.lo, spec.axis.hi);
        pl + ((v - spec.axis.lo) / span * f64::from(pr - pl)).round() as i32
    };
    let (top, bottom) = (lay.rows_top, lay.rows_bottom);
    let cy = |r: usize| top + r as i32 * ROW + ROW / 2;

    // Backgrounds: zebra rows, failing zones, the overall band, grid lines.
    for r in (1..spec.rows.len()).step_by(2) {
        fill(
            root,
            (MARGIN / 2, cy(r) - ROW / 2),
            (WIDTH - MARGIN / 2, cy(r) + ROW / 2),
            ZEBRA,
        )?;
    }
    for (r, row) in spec.rows.iter().enumerate() {
        for m in &row.marks {
            if let Mark::Zone { from, to } = *m {
                fill(
                    root,
                    (xpx(from), cy(r) - ZONE_HALF),
                    (xpx(to), cy(r) + ZONE_HALF + 1),
                    ZONE,
                )?;
            }
        }
    }
    for l in &spec.lines {
        if let Some((lo, hi)) = l.band {
            let (a, b) = (xpx(lo), xpx(hi));
            fill(root, (a, top), (b.max(a + 1), bottom), BAND)?;
        }
    }
    for &t in &lay.ticks {
        let x = xpx(t);
        fill(root, (x, top), (x + 1, bottom), GRID)?;
    }

    // Axis: spine at the start, baseline, ticks and their labels, the axis title.
    fill(root, (pl, top), (pl + 1, bottom + 1), INK)?;
    if spec.axis.lo < 0.0 && spec.axis.hi > 0.0 {
        let x0 = xpx(0.0);
        fill(root, (x0, top), (x0 + 1, bottom), INK)?;
    }
    fill(root, (pl, bottom), (pr + 1, bottom + 1), INK)?;
    for &t in &lay.ticks {
        let x = xpx(t);
        fill(root, (x, bottom), (x + 1, bottom + 6), INK)?;
        text(
            root,
            &fmt_tick(t, lay.step),
            (x, bottom + 17),
            SMALL_SIZE,
            INK,
            HPos::Center,
        )?;
    }
    text(
        root,
        &fit_text(&spec.axis_label, LABEL_SIZE, WIDTH - 2 * MARGIN),
        ((pl + pr) / 2, bottom + 43),
        LABEL_SIZE,
        INK,
        HPos::Center,
    )?;

    // Bars first, then the vertical lines over them, then the point marks.
    for (r, row) in spec.rows.iter().enumerate() {
        let y = cy(r);
        for m in &row.marks {
            if let Mark::Bar {
                from,
                to,
                fill: f,
                edge,
                hatched,
            } = *m
            {
                let (a, b) = (xpx(from.min(to)), xpx(from.max(to)));
                let (y0, y1) = (y - BAR_HALF, y + BAR_HALF + 1);
                if b - a < 2 {
                    // A zero-length bar: a short stub so that the value is visibly there.
                    fill(root, (a, y0), (a + 2, y1), edge)?;
                    continue;
                }
                fill(root, (a, y0), (b, y1), f)?;
                if hatched {
                    hatch(root, (a, y0), (b, y1), edge)?;
                }
                outline(root, (a, y0), (b, y1), edge)?;
            }
        }
    }
    for l in &spec.lines {
        vline(root, xpx(l.at), (top, bottom), l.color, l.dashed)?;
    }
    for (r, row) in spec.rows.iter().enumerate() {
        let y = cy(r);
        for m in &row.marks {
            match *m {
                Mark::Tick { at } => {
                    let x = xpx(at);
                    fill(
                        root,
                        (x - 1, y - TICK_HALF),
                        (x + 2, y + TICK_HALF + 1),
                        INK,
                    )?;
                }
                Mark::Whisker { lo, hi, color } => whisker(root, (xpx(lo), xpx(hi)), y, color)?,
                _ => {}
            }
        }
        for m in &row.marks {
            match *m {
                Mark::Dot { at, color, filled } => dot(root, (xpx(at), y), color, filled)?,
                Mark::Diamond { at } => diamond(root, (xpx(at), y))?,
                Mark::Missing => text(
                    root,
                    "n/a",
                    (na_x(row, pl, &xpx), y),
                    SMALL_SIZE,
                    MUTED,
                    HPos::Left,
                )?,
                _ => {}
            }
        }
        // Label and annotations.
        text(
            root,
            &lay.labels[r],
            (lay.label_right, y),
            LABEL_SIZE,
            if row.muted { MUTED } else { INK },
            HPos::Right,
        )?;
        for (c, cell) in row.cells.iter().enumerate() {
            let (x, w) = lay.cols[c];
            let s = fit_text(&cell.text, SMALL_SIZE, w);
            let x = if matches!(cell.align, HPos::Right) {
                x + w
            } else {
                x
            };
            text(root, &s, (x, y), SMALL_SIZE, cell.color, cell.align)?;
        }
    }
    if let Some(more) = &spec.more {
        text(
            root,
            &fit_text(more, SMALL_SIZE, WIDTH - 2 * MARGIN),
            (WIDTH / 2, bottom + 70),
            SMALL_SIZE,
            MUTED,
            HPos::Center,
        )?;
    }
    for (x, y, h, t, c) in &lay.line_labels {
        text(root, t, (*x, *y), SMALL_SIZE, *c, *h)?;
    }
    Ok(())
}

/// Where "n/a" goes on a row without a value: at the start of the axis, or just right of the
/// point marks (a cosine diamond, a whisker) that would be under it.
fn na_x(row: &Row, plot_left: i32, xpx: &impl Fn(f64) -> i32) -> i32 {
    let w = text_width("n/a", SMALL_SIZE);
    let mut xs: Vec<i32> = row
        .marks
        .iter()
        .flat_map(|m| match *m {
            Mark::Dot { at, .. } | Mark::Diamond { at } | Mark::Tick { at } => vec![xpx(at)],
            Mark::Whisker { lo, hi, .. } => vec![xpx(lo), xpx(hi)],
            _ => Vec::new(),
        })
        .collect();
    xs.sort_unstable();
    let mut x = plot_left + 8;
    for m in xs {
        if m + 10 > x && m - 10 < x + w {
            x = m + 12;
        }
    }
    x
}

fn render(spec: &Spec) -> Result<Chart> {
    ensure_font()?;
    let lay = layout(spec);
    render_figure(&RowsFigure { spec, lay })
}

/// A figure that can be drawn on either backend.
trait ChartFigure {
    /// The chart as error messages name it.
    fn name(&self) -> String;
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws everything, starting with the white background.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// The row charts: a [`Spec`] and its [`Layout`].
struct RowsFigure<'a> {
    spec: &'a Spec,
    lay: Layout,
}

impl ChartFigure for RowsFigure<'_> {
    fn name(&self) -> String {
        chart_name(&self.spec.title)
    }

    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, self.lay.height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw(self.spec, &self.lay, root)
    }
}

/// Renders `fig` to a PNG and an SVG (the bundled font must be registered).
fn render_figure<F: ChartFigure>(fig: &F) -> Result<Chart> {
    let (w, h) = fig.size();
    let fail = |e: String| Error::Input(format!("cannot draw {}: {e}", fig.name()));
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let png = encode_png(&buf, w, h).map_err(fail)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    // Name the font the PNG was measured with, so that viewers that have it lay the text out
    // identically; others fall back to their (usually narrower) sans-serif.
    let svg = svg.replace(
        &format!("font-family=\"{FAMILY}\""),
        "font-family=\"DejaVu Sans, Bitstream Vera Sans, sans-serif\"",
    );
    Ok(Chart { png, svg })
}

// ---------------------------------------------------------------------------------------------
// The deletion/insertion figure: two line panels side by side
// ---------------------------------------------------------------------------------------------

/// The explanation's curve (ColorBrewer RdBu dark blue) and the random-order baseline.
const CURVE: RGBColor = RGBColor(0x21, 0x66, 0xac);
const RANDOM: RGBColor = RGBColor(0x8c, 0x8c, 0x8c);
/// The zero line of the output axis, when it lies inside.
const ZERO: RGBColor = RGBColor(0xb4, 0xb4, 0xb4);
/// Most points that still get a dot each.
const MAX_MARKED: usize = 40;
/// Vertical layout: panel heading, its note, the two legend lines, the y-axis title, the top
/// and the height of the plotting area (pixels).
const PANEL_HEADING_Y: i32 = 86;
const PANEL_NOTE_Y: i32 = 108;
const PANEL_LEGEND_Y: i32 = 134;
const PANEL_AXIS_TITLE_Y: i32 = 184;
const PANEL_TOP: i32 = 202;
const PANEL_H: i32 = 300;
/// Space between the two panels, and beside the plotting area's right end.
const PANEL_GAP: i32 = 44;
const PANEL_PAD: i32 = 10;

/// One panel of [`quality_curves`].
struct CurvePanel {
    heading: &'static str,
    note: &'static str,
    axis_label: &'static str,
    /// The explanation's order and the random orders, as `(x, y)` points.
    main: Vec<(f64, f64)>,
    random: Vec<(f64, f64)>,
    /// `attribution order  AUC …` and `random order  AUC …`.
    legend: [String; 2],
}

struct CurvesFigure {
    title: String,
    panels: [CurvePanel; 2],
    x: Axis,
    y: Axis,
    x_ticks: (Vec<f64>, f64),
    y_ticks: (Vec<f64>, f64),
    /// Width of the widest y tick label.
    tick_w: i32,
}

impl CurvesFigure {
    fn new(title: String, panels: [CurvePanel; 2], x: Axis, y: Axis) -> Self {
        let x_ticks = ticks(x.lo, x.hi, 5);
        let y_ticks = ticks(y.lo, y.hi, (PANEL_H / 50) as usize);
        let tick_w = y_ticks
            .0
            .iter()
            .map(|&t| text_width(&fmt_tick(t, y_ticks.1), SMALL_SIZE))
            .max()
            .unwrap_or(0);
        CurvesFigure {
            title,
            panels,
            x,
            y,
            x_ticks,
            y_ticks,
            tick_w,
        }
    }

    /// Panel `i`'s left edge (where its y tick labels start) and its plotting area's ends.
    fn columns(&self, i: usize) -> (i32, i32, i32) {
        let panel_w = (WIDTH - 2 * MARGIN - PANEL_GAP) / 2;
        let left = MARGIN + i as i32 * (panel_w + PANEL_GAP);
        let plot_left = left + self.tick_w + 10;
        (left, plot_left, left + panel_w - PANEL_PAD)
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        i: usize,
    ) -> DrawResult<DB> {
        let p = &self.panels[i];
        let (left, pl, pr) = self.columns(i);
        let (top, bottom) = (PANEL_TOP, PANEL_TOP + PANEL_H);
        let mid = (pl + pr) / 2;
        let room = pr - left;
        let xpx = |v: f64| {
            pl + ((v - self.x.lo) / (self.x.hi - self.x.lo) * f64::from(pr - pl)).round() as i32
        };
        let ypx = |v: f64| {
            bottom
                - ((v - self.y.lo) / (self.y.hi - self.y.lo) * f64::from(bottom - top)).round()
                    as i32
        };

        // Heading, what is better, the legend with both AUCs.
        text(
            root,
            p.heading,
            (mid, PANEL_HEADING_Y),
            LABEL_SIZE,
            INK,
            HPos::Center,
        )?;
        text(
            root,
            &fit_text(p.note, SMALL_SIZE, room),
            (mid, PANEL_NOTE_Y),
            SMALL_SIZE,
            MUTED,
            HPos::Center,
        )?;
        let legend_w = p
            .legend
            .iter()
            .map(|t| text_width(t, SMALL_SIZE))
            .max()
            .unwrap_or(0)
            + SWATCH_W
            + 6;
        let lx = (mid - legend_w / 2).max(left);
        for (k, t) in p.legend.iter().enumerate() {
            let cy = PANEL_LEGEND_Y + k as i32 * LEGEND_LINE;
            let (a, b) = (lx + 1, lx + SWATCH_W - 1);
            if k == 0 {
                root.draw(&PathElement::new(
                    vec![(a, cy), (b, cy)],
                    CURVE.stroke_width(2),
                ))?;
                root.draw(&Circle::new(((a + b) / 2, cy), 3, CURVE.filled()))?;
            } else {
                root.draw(&DashedPathElement::new(
                    vec![(a, cy), (b, cy)],
                    7,
                    4,
                    RANDOM.stroke_width(2),
                ))?;
            }
            let t = fit_text(t, SMALL_SIZE, room - SWATCH_W - 6);
            text(
                root,
                &t,
                (lx + SWATCH_W + 6, cy),
                SMALL_SIZE,
                INK,
                HPos::Left,
            )?;
        }
        text(
            root,
            "model output",
            (left, PANEL_AXIS_TITLE_Y),
            SMALL_SIZE,
            INK,
            HPos::Left,
        )?;

        // Grid, zero line, spines, ticks and their labels, the x-axis title.
        let (xt, xstep) = (&self.x_ticks.0, self.x_ticks.1);
        let (yt, ystep) = (&self.y_ticks.0, self.y_ticks.1);
        for &t in xt {
            let x = xpx(t);
            fill(root, (x, top), (x + 1, bottom), GRID)?;
        }
        for &t in yt {
            let y = ypx(t);
            fill(root, (pl, y), (pr + 1, y + 1), GRID)?;
        }
        if self.y.lo < 0.0 && self.y.hi > 0.0 {
            let y = ypx(0.0);
            fill(root, (pl, y), (pr + 1, y + 1), ZERO)?;
        }
        fill(root, (pl, top), (pl + 1, bottom + 1), INK)?;
        fill(root, (pl, bottom), (pr + 1, bottom + 1), INK)?;
        for &t in xt {
            let x = xpx(t);
            fill(root, (x, bottom), (x + 1, bottom + 6), INK)?;
            text(
                root,
                &fmt_tick(t, xstep),
                (x, bottom + 17),
                SMALL_SIZE,
                INK,
                HPos::Center,
            )?;
        }
        for &t in yt {
            let y = ypx(t);
            fill(root, (pl - 5, y), (pl, y + 1), INK)?;
            text(
                root,
                &fmt_tick(t, ystep),
                (pl - 8, y),
                SMALL_SIZE,
                INK,
                HPos::Right,
            )?;
        }
        text(
            root,
            &fit_text(p.axis_label, LABEL_SIZE, room),
            (mid, bottom + 43),
            LABEL_SIZE,
            INK,
            HPos::Center,
        )?;

        // The random baseline first, then the explanation's curve over it.
        let px = |pts: &[(f64, f64)]| -> Vec<(i32, i32)> {
            pts.iter().map(|&(x, y)| (xpx(x), ypx(y))).collect()
        };
        let random = px(&p.random);
        if random.len() == 1 {
            root.draw(&Circle::new(random[0], 3, RANDOM.filled()))?;
        } else {
            root.draw(&DashedPathElement::new(
                random,
                7,
                4,
                RANDOM.stroke_width(2),
            ))?;
        }
        let main = px(&p.main);
        if main.len() > 1 {
            root.draw(&PathElement::new(main.clone(), CURVE.stroke_width(2)))?;
        }
        if main.len() <= MAX_MARKED {
            for &c in &main {
                root.draw(&Circle::new(c, 3, CURVE.filled()))?;
            }
        }
        Ok(())
    }
}

impl ChartFigure for CurvesFigure {
    fn name(&self) -> String {
        chart_name(&self.title)
    }

    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, (PANEL_TOP + PANEL_H + 62) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, h) = self.size();
        fill(root, (0, 0), (w as i32, h as i32), WHITE)?;
        text(
            root,
            &fit_text(&self.title, TITLE_SIZE, WIDTH - 40),
            (WIDTH / 2, 22),
            TITLE_SIZE,
            INK,
            HPos::Center,
        )?;
        text(
            root,
            &fit_text(
                "model output as features are removed or added in order of attribution, \
                 against random orders",
                SMALL_SIZE,
                WIDTH - 40,
            ),
            (WIDTH / 2, 48),
            SMALL_SIZE,
            MUTED,
            HPos::Center,
        )?;
        self.draw_panel(root, 0)?;
        self.draw_panel(root, 1)
    }
}
