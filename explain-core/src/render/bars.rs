//! Bar charts of attributions:
//!
//! * [`attribution_bars`]: the strongest features of one explanation as horizontal bars with
//!   95 % error whiskers (red positive, blue negative), written as `<stem>.png` and
//!   `<stem>.svg`;
//! * [`importance`]: global importance, mean |attribution| per feature, the top `k` sorted
//!   descending with optional error whiskers, as a report row chart ([`rows`](super::rows)).
//!
//! ```no_run
//! use explain_core::render::bars;
//! let names = vec!["alcohol".to_string(), "malic_acid".to_string()];
//! bars::attribution_bars("out/row0".as_ref(), "wine, row 0", &names, &[0.4, -0.2], &[0.01, 0.02], 10)?;
//! # Ok::<(), explain_core::Error>(())
//! ```

use super::axis::{Extent, TICK, TickAxis};
use super::checks::{LARGEST, chart_name, check, check_finite, describe};
use super::rows::{self, Cell, LegendItem, MAX_ROWS, Mark, Row, Spec, Swatch, row_label};
use super::style::{
    BAR, BAR_EDGE, GRID, INK, LABEL_SIZE, MUTED, NEG, POS, SMALL_SIZE, draw_note, draw_title,
    fit_text, fmt_on_scale, font, text_style, text_width,
};
use super::{Chart, DrawResult, Figure, Finish, ensure_font, write_plot};
use crate::{Result, bad_input};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

/// Most bars in one figure (the figure grows by 28 px per bar).
const MAX_BARS: usize = 500;

/// Longest feature label drawn in full, in characters; longer ones get an ellipsis.
const MAX_NAME_CHARS: usize = 48;
/// Widest feature label, in pixels.
const MAX_NAME_PX: u32 = 300;

/// Writes `<stem>.png` and `<stem>.svg`: the `top_k` features with the largest |value| as
/// horizontal bars, largest at the top.
///
/// Positive values are red and negative ones blue; each bar carries a whisker of
/// ±1.96·`std_errors[i]` (a 95 % interval) and its value as text. Names longer than 48
/// characters (or 300 px) are shortened with an ellipsis, and empty names are shown as
/// `feature <index>`. The figure is 900 px wide and `120 + 28·k` px high for `k` bars.
///
/// `std_errors` is either empty (no whiskers) or one per value; a standard error that is zero,
/// negative or not finite draws no whisker. Ties in |value| keep the input order. At most 500
/// bars are drawn, whatever `top_k`; the subtitle says how many of how many are shown.
///
/// # Errors
/// [`Error::Input`](crate::Error::Input) naming the file when the lengths differ, there are no features, `top_k` is
/// zero, an attribution is not finite (or beyond ±1e100), or a file cannot be written.
pub fn attribution_bars(
    stem: &Path,
    title: &str,
    names: &[String],
    values: &[f64],
    std_errors: &[f64],
    top_k: usize,
) -> Result<()> {
    let what = describe(stem);
    if names.len() != values.len() {
        bad_input!(
            "cannot plot {what}: {} feature names but {} values",
            names.len(),
            values.len()
        );
    }
    if !std_errors.is_empty() && std_errors.len() != values.len() {
        bad_input!(
            "cannot plot {what}: {} standard errors but {} values",
            std_errors.len(),
            values.len()
        );
    }
    if values.is_empty() {
        bad_input!("cannot plot {what}: there are no features");
    }
    if top_k == 0 {
        bad_input!("cannot plot {what}: top_k must be at least 1");
    }
    check_finite(&what, "attribution", values)?;
    ensure_font()?;
    let fig = BarsFigure::new(title, names, values, std_errors, top_k);
    write_plot(stem, &fig)
}

/// Global importance: the `top` features with the largest `values` (mean |attribution|) as
/// horizontal bars, largest at the top (ties by name, then input order).
///
/// `errors`, if given, holds one whisker half-width per feature (for example 1.96 standard
/// errors); zero draws no whisker. Empty names are shown as `feature <index>`. At most 40 bars
/// are drawn whatever `top`; a last line says how many more of the top `top` there are.
///
/// # Errors
/// [`Error::Input`](crate::Error::Input) when there are no features, `top` is zero, the lengths differ, a value is
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
        bad_input!(
            "cannot draw {what}: {} feature names but {} values",
            names.len(),
            values.len()
        );
    }
    if values.is_empty() {
        bad_input!("cannot draw {what}: there are no features");
    }
    if top == 0 {
        bad_input!("cannot draw {what}: top must be at least 1");
    }
    if let Some(e) = errors
        && e.len() != values.len()
    {
        bad_input!(
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
                bad_input!(
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
    rows::chart(&spec)
}

struct Bar {
    label: String,
    value: f64,
    /// Half-width of the 95 % whisker, if there is one.
    half: Option<f64>,
}

struct BarsFigure {
    title: String,
    subtitle: String,
    bars: Vec<Bar>,
    label_width: u32,
    x_range: (f64, f64),
    width: u32,
    height: u32,
}

const BARS_WIDTH: u32 = 900;
const BARS_TOP: u32 = 64;
const BARS_BOTTOM: u32 = 56;
const BARS_ROW: u32 = 28;
const BARS_MARGIN: u32 = 16;
const BARS_RIGHT: u32 = 28;
/// Room kept beside a bar for its value label, in pixels.
const VALUE_ROOM: f64 = 64.0;

impl BarsFigure {
    fn new(title: &str, names: &[String], values: &[f64], se: &[f64], top_k: usize) -> Self {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b)));
        let k = top_k.min(values.len()).min(MAX_BARS);
        let bars: Vec<Bar> = order[..k]
            .iter()
            .map(|&i| {
                let name = names[i].trim();
                let name = if name.is_empty() {
                    format!("feature {i}")
                } else {
                    name.to_string()
                };
                let half = se
                    .get(i)
                    .filter(|s| s.is_finite() && **s > 0.0 && **s <= LARGEST)
                    .map(|s| 1.96 * s);
                Bar {
                    label: fit_text(&name, LABEL_SIZE, MAX_NAME_CHARS, MAX_NAME_PX),
                    value: values[i],
                    half,
                }
            })
            .collect();
        let label_width = bars
            .iter()
            .map(|b| text_width(&b.label, LABEL_SIZE))
            .max()
            .unwrap_or(0)
            .clamp(40, MAX_NAME_PX)
            + 20;

        // Data extent including whiskers and zero, then room for the value labels.
        let mut lo = 0.0f64;
        let mut hi = 0.0f64;
        for b in &bars {
            let h = b.half.unwrap_or(0.0);
            lo = lo.min(b.value - h).min(b.value);
            hi = hi.max(b.value + h).max(b.value);
        }
        if hi - lo <= 0.0 || !(hi - lo).is_finite() {
            lo = -1.0;
            hi = 1.0;
        }
        let plot_px = f64::from(BARS_WIDTH - BARS_MARGIN - BARS_RIGHT - label_width);
        let left_room = bars.iter().any(|b| b.value < 0.0);
        let right_room = bars.iter().any(|b| b.value >= 0.0);
        let room = VALUE_ROOM * (f64::from(u8::from(left_room)) + f64::from(u8::from(right_room)));
        let span = (hi - lo) / (1.0 - room / plot_px) * 1.02;
        let px = span / plot_px;
        let x_range = (
            lo - if left_room { VALUE_ROOM * px } else { 0.0 } - 0.01 * span,
            hi + if right_room { VALUE_ROOM * px } else { 0.0 } + 0.01 * span,
        );

        let shown = if k < values.len() {
            format!("top {k} of {} features by |attribution|", values.len())
        } else if k == 1 {
            "1 feature".to_string()
        } else {
            format!("all {k} features, by |attribution|")
        };
        let whiskers = if bars.iter().any(|b| b.half.is_some()) {
            "; whiskers: 95 % interval (±1.96 standard errors)"
        } else {
            ""
        };
        BarsFigure {
            title: title.to_string(),
            subtitle: format!("{shown}; red: positive, blue: negative{whiskers}"),
            bars,
            label_width,
            x_range,
            width: BARS_WIDTH,
            height: BARS_TOP + BARS_BOTTOM + BARS_ROW * k as u32,
        }
    }
}

impl Figure for BarsFigure {
    const FINISH: Finish = Finish::Backdrop;

    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw_title(root, &self.title)?;
        draw_note(root, &self.subtitle, 48, 1)?;
        let k = self.bars.len();
        let (x0, x1) = self.x_range;
        let mut chart = ChartBuilder::on(root)
            .margin_top(BARS_TOP)
            .margin_bottom(0)
            .margin_left(BARS_MARGIN)
            .margin_right(BARS_RIGHT)
            .x_label_area_size(BARS_BOTTOM)
            .y_label_area_size(self.label_width)
            .build_cartesian_2d(TickAxis::new(x0, x1, 8), -0.5..(k as f64 - 0.5))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .set_all_tick_mark_size(TICK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .x_label_style(TextStyle::from(font(SMALL_SIZE)).color(&INK))
            .x_desc("attribution")
            .axis_desc_style(TextStyle::from(font(LABEL_SIZE)).color(&INK))
            .draw()?;

        // Zero line, bars, whiskers, values.
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, k as f64 - 0.5)],
            INK.stroke_width(1),
        )))?;
        let y_of = |r: usize| (k - 1 - r) as f64;
        let scale = self.bars.iter().fold(0.0f64, |m, b| m.max(b.value.abs()));
        chart.draw_series(self.bars.iter().enumerate().map(|(r, b)| {
            let y = y_of(r);
            let c = if b.value < 0.0 { NEG } else { POS };
            Rectangle::new([(0.0, y - 0.34), (b.value, y + 0.34)], c.filled())
        }))?;
        for (r, b) in self.bars.iter().enumerate() {
            let y = y_of(r);
            if let Some(h) = b.half {
                let whisker = ShapeStyle::from(&INK).stroke_width(1);
                chart.draw_series([
                    PathElement::new(vec![(b.value - h, y), (b.value + h, y)], whisker),
                    PathElement::new(
                        vec![(b.value - h, y - 0.18), (b.value - h, y + 0.18)],
                        whisker,
                    ),
                    PathElement::new(
                        vec![(b.value + h, y - 0.18), (b.value + h, y + 0.18)],
                        whisker,
                    ),
                ])?;
            }
            let h = b.half.unwrap_or(0.0);
            let (end, anchor, dx) = if b.value < 0.0 {
                (b.value - h, HPos::Right, -6)
            } else {
                (b.value + h, HPos::Left, 6)
            };
            let (px, py) = chart.backend_coord(&(end, y));
            root.draw(&Text::new(
                fmt_on_scale(b.value, scale),
                (px + dx, py),
                text_style(SMALL_SIZE, INK, anchor, VPos::Center),
            ))?;
            let (lx, _) = chart.backend_coord(&(x0, y));
            root.draw(&Text::new(
                b.label.clone(),
                (lx - 10, py),
                text_style(LABEL_SIZE, INK, HPos::Right, VPos::Center),
            ))?;
        }
        Ok(())
    }
}
