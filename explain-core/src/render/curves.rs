//! The deletion and insertion curves (Petsiuk et al.) of one explained item in two panels:
//! the explanation's order as a solid line against the random-order baseline as a dashed grey
//! one, with both AUCs in words and which direction is better. It shares the row charts'
//! frame (900 px wide, margins, swatches, [`rows`](super::rows)) but not their layout.

use super::axis::{Axis, Extent, fmt_tick, ticks};
use super::checks::{LARGEST, chart_name};
use super::rows::{LEGEND_LINE, MARGIN, SWATCH_W, WIDTH, fill, heading, text};
use super::style::{
    CURVE, GRID, INK, LABEL_SIZE, MUTED, RANDOM, SMALL_SIZE, ZERO, clean, fit_text, fmt3,
    text_width,
};
use super::{Chart, DrawResult, Figure, Finish, ensure_font, render};
use crate::attribution::quality::Curve;
use crate::{Result, bad_input};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

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
/// use explain_core::render::curves;
/// use explain_core::attribution::quality::Curve;
/// let curve = |y: &[f64], auc: f64| Curve {
///     x: (0..y.len()).map(|i| i as f64 / (y.len() - 1) as f64).collect(),
///     y: y.to_vec(),
///     auc,
/// };
/// let chart = curves::quality_curves(
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
/// [`Error::Input`](crate::Error::Input) naming the curve when one is empty, its `x` and `y` differ in length, or a
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
    let name = chart_name(&fig.title);
    render(&fig).map_err(|e| e.naming(name))
}

/// A curve for [`quality_curves`]: as many `x` as `y`, at least one point, all finite.
fn check_curve(what: &str, name: &str, c: &Curve) -> Result<()> {
    if c.x.len() != c.y.len() {
        bad_input!(
            "cannot draw {what}: {name}: x and y have different lengths ({} vs {})",
            c.x.len(),
            c.y.len()
        );
    }
    if c.x.is_empty() {
        bad_input!("cannot draw {what}: {name}: the curve is empty (no points)");
    }
    let values = c.x.iter().enumerate().map(|(i, &v)| (format!("x[{i}]"), v));
    let values = values.chain(c.y.iter().enumerate().map(|(i, &v)| (format!("y[{i}]"), v)));
    for (at, v) in values.chain(std::iter::once(("AUC".to_string(), c.auc))) {
        if !v.is_finite() {
            bad_input!("cannot draw {what}: {name}: {at} is {v}, not a finite number");
        }
        if v.abs() > LARGEST {
            bad_input!("cannot draw {what}: {name}: {at} is {v}, too large to plot");
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
            .map(|&t| text_width(&fmt_tick(t, y_ticks.1), SMALL_SIZE) as i32)
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
            &fit_text(p.note, SMALL_SIZE, usize::MAX, room as u32),
            (mid, PANEL_NOTE_Y),
            SMALL_SIZE,
            MUTED,
            HPos::Center,
        )?;
        let legend_w = p
            .legend
            .iter()
            .map(|t| text_width(t, SMALL_SIZE) as i32)
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
            let t = fit_text(t, SMALL_SIZE, usize::MAX, (room - SWATCH_W - 6) as u32);
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
            &fit_text(p.axis_label, LABEL_SIZE, usize::MAX, room as u32),
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

impl Figure for CurvesFigure {
    const FINISH: Finish = Finish::NamedFont;

    fn size(&self) -> (u32, u32) {
        (WIDTH as u32, (PANEL_TOP + PANEL_H + 62) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, h) = self.size();
        fill(root, (0, 0), (w as i32, h as i32), WHITE)?;
        heading(
            root,
            &self.title,
            "model output as features are removed or added in order of attribution, \
             against random orders",
        )?;
        self.draw_panel(root, 0)?;
        self.draw_panel(root, 1)
    }
}
