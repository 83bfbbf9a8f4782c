//! The layout engine of the report's row charts: one row per item (slice, disparity,
//! feature) on a horizontal value axis, with a title, a subtitle, a wrapped legend of
//! swatches, labelled vertical lines across all rows (an overall value and its band, a
//! threshold), the row labels at the left and annotation columns at the right.
//!
//! A chart is described as a [`Spec`] (what to show, in data units) and laid out here in
//! pixels: 900 px wide, the label column as wide as the longest label up to 340 px (long
//! labels are shortened with an ellipsis in the middle, keeping both ends:
//! `site & ligh…plant-B & bright`), 26 px per row, at most [`MAX_ROWS`] rows (a last line says
//! how many more there are). Every row also says in words what its colour says, so the charts
//! survive greyscale printing and colour-blind readers.

use super::axis::{Axis, fmt_tick, ticks};
use super::checks::chart_name;
use super::style::{
    BAND, BAR, BAR_EDGE, GRID, HATCH_FILL, INK, INSUFFICIENT, LABEL_SIZE, MUTED, SMALL_SIZE,
    TITLE_SIZE, ZEBRA, ZONE, clean, fit_text, text_style, text_width,
};
use super::{Chart, DrawResult, Figure, Finish, ensure_font, render};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// Most rows drawn in one chart; the rest are counted in a last line.
pub const MAX_ROWS: usize = 40;

/// Figure width, outer margin, row height, gaps (pixels).
pub(crate) const WIDTH: i32 = 900;
pub(crate) const MARGIN: i32 = 16;
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
pub(crate) const LEGEND_LINE: i32 = 22;
const STRIP_LINE: i32 = 18;
/// Half-heights of bars, whisker caps, threshold ticks and zones.
const BAR_HALF: i32 = 7;
const CAP_HALF: i32 = 5;
const TICK_HALF: i32 = 10;
const ZONE_HALF: i32 = 9;
const DOT_R: i32 = 6;
const HATCH_STEP: i32 = 6;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
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

pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) color: RGBColor,
    pub(crate) align: HPos,
}

impl Cell {
    /// A cell of `text` in `color`, aligned `align` in its column.
    pub(crate) fn new(text: impl Into<String>, color: RGBColor, align: HPos) -> Self {
        Cell {
            text: text.into(),
            color,
            align,
        }
    }
}

pub(crate) struct Row {
    pub(crate) label: String,
    pub(crate) muted: bool,
    pub(crate) marks: Vec<Mark>,
    /// Annotations right of the plot, one per column.
    pub(crate) cells: Vec<Cell>,
}

/// A vertical line across all rows, with an optional band (an interval) beneath it.
pub(crate) struct VLine {
    pub(crate) at: f64,
    pub(crate) color: RGBColor,
    pub(crate) dashed: bool,
    pub(crate) band: Option<(f64, f64)>,
    pub(crate) label: String,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
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

pub(crate) struct LegendItem {
    pub(crate) swatch: Swatch,
    pub(crate) text: String,
}

impl LegendItem {
    /// A legend entry: `swatch` then `text`.
    pub(crate) fn new(swatch: Swatch, text: impl Into<String>) -> Self {
        LegendItem {
            swatch,
            text: text.into(),
        }
    }
}

pub(crate) struct Spec {
    pub(crate) title: String,
    pub(crate) subtitle: String,
    pub(crate) legend: Vec<LegendItem>,
    pub(crate) axis: Axis,
    pub(crate) axis_label: String,
    pub(crate) lines: Vec<VLine>,
    pub(crate) rows: Vec<Row>,
    pub(crate) more: Option<String>,
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

pub(crate) const SWATCH_W: i32 = 24;

fn layout(spec: &Spec) -> Layout {
    // Annotation columns, right of the plot.
    let ncols = spec.rows.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    let widths: Vec<i32> = (0..ncols)
        .map(|c| {
            spec.rows
                .iter()
                .filter_map(|r| r.cells.get(c))
                .map(|cell| text_width(&cell.text, SMALL_SIZE) as i32)
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
        .map(|r| text_width(&r.label, LABEL_SIZE) as i32)
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
        .map(|r| fit_text(&r.label, LABEL_SIZE, usize::MAX, label_w as u32))
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
        let text = fit_text(&item.text, SMALL_SIZE, usize::MAX, (max_legend - sw) as u32);
        let w = sw + text_width(&text, SMALL_SIZE) as i32;
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
        let text = fit_text(&l.label, SMALL_SIZE, usize::MAX, 300);
        let w = text_width(&text, SMALL_SIZE) as i32;
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

/// A filled rectangle covering pixels `x0..x1` × `y0..y1` (exclusive ends, as both backends
/// fill them).
pub(crate) fn fill<DB: DrawingBackend>(
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

/// `s` at `(x, y)`, vertically centred, anchored at `h`; nothing when empty.
pub(crate) fn text<DB: DrawingBackend>(
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
        text_style(size, color, h, VPos::Center),
    ))
}

/// A chart's title and subtitle, centred at the top, each shortened to the chart's width.
pub(crate) fn heading<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> DrawResult<DB> {
    let max_px = (WIDTH - 40) as u32;
    let title = fit_text(title, TITLE_SIZE, usize::MAX, max_px);
    text(root, &title, (WIDTH / 2, 22), TITLE_SIZE, INK, HPos::Center)?;
    let subtitle = fit_text(subtitle, SMALL_SIZE, usize::MAX, max_px);
    text(
        root,
        &subtitle,
        (WIDTH / 2, 48),
        SMALL_SIZE,
        MUTED,
        HPos::Center,
    )
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
    heading(root, &clean(&spec.title), &spec.subtitle)?;
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
        &fit_text(
            &spec.axis_label,
            LABEL_SIZE,
            usize::MAX,
            (WIDTH - 2 * MARGIN) as u32,
        ),
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
            let s = fit_text(&cell.text, SMALL_SIZE, usize::MAX, w as u32);
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
            &fit_text(more, SMALL_SIZE, usize::MAX, (WIDTH - 2 * MARGIN) as u32),
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
    let w = text_width("n/a", SMALL_SIZE) as i32;
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

/// Lays out and renders a row chart.
pub(crate) fn chart(spec: &Spec) -> Result<Chart> {
    ensure_font()?;
    let lay = layout(spec);
    render(&RowsFigure { spec, lay }).map_err(|e| e.naming(chart_name(&spec.title)))
}

/// The row charts: a [`Spec`] and its [`Layout`].
struct RowsFigure<'a> {
    spec: &'a Spec,
    lay: Layout,
}

impl Figure for RowsFigure<'_> {
    const FINISH: Finish = Finish::NamedFont;

    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, self.lay.height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw(self.spec, &self.lay, root)
    }
}

/// A row's label, cleaned; `empty` when nothing is left.
pub(crate) fn row_label(s: &str, empty: &str) -> String {
    let s = clean(s);
    if s.is_empty() { empty.to_string() } else { s }
}

/// The last line of a chart with more than [`MAX_ROWS`] rows: how many are not shown.
pub(crate) fn more_note(total: usize, one: &str, many: &str) -> Option<String> {
    (total > MAX_ROWS).then(|| {
        let n = total - MAX_ROWS;
        let what = if n == 1 { one } else { many };
        format!("+{n} more {what} not shown (at most {MAX_ROWS} rows)")
    })
}
