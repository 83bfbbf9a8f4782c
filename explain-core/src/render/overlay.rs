//! Image and grid overlays: an input shown beside the same input dimmed to grey with each
//! feature (segment, patch) tinted by its attribution, plus a diverging colour bar. Both are
//! two raster panels laid out alike ([`image_overlay`], [`grid_overlay`]); the tint (red
//! positive, blue negative, opacity proportional to magnitude) is shared with the audio
//! overlay ([`audio`](super::audio)).
//!
//! Each function writes `<stem>.png` and `<stem>.svg`; the panels and the colour bar are
//! rasters (embedded in the SVG as PNG data), the titles, ticks and frames vector.

use super::axis::{fmt_tick, index_ticks, ticks};
use super::checks::{check_finite, describe};
use super::style::{
    EDGE, INK, LABEL_SIZE, NEG, POS, SMALL_SIZE, count, draw_note, draw_title, fit_text, fmt_value,
    text_style, text_width,
};
use super::{DrawResult, Figure, Finish, Raster, ensure_font, write_plot};
use crate::{Result, bad_input};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

/// Opacity of the overlay colour at the largest |attribution|.
const ALPHA_MAX: f64 = 0.85;
/// The dimmed greyscale background of overlays spans `[DIM_LO, DIM_LO + DIM_SPAN]`.
const DIM_LO: f64 = 0.50;
const DIM_SPAN: f64 = 0.45;

/// Writes `<stem>.png` and `<stem>.svg`: the image (left) beside the same image dimmed to grey
/// with every feature tinted by its attribution (right), plus a colour bar.
///
/// `rgb` holds `height × width × 3` sRGB values in `[0, 1]`, row-major; `pixel_features` holds
/// the feature id of every pixel (`height × width`), an index into `values`. Panels are scaled
/// with nearest-neighbour sampling so that the longer side is between 320 and 640 px (small
/// images are enlarged by a whole factor). The tint is red for positive and blue for negative
/// attributions, with opacity proportional to |value| / max |value|; feature boundaries are
/// drawn as thin dark lines.
///
/// # Errors
/// [`Error::Input`](crate::Error::Input) naming the file when a size is zero, a length does not match, a feature id
/// is out of range, a value is not finite (or an attribution beyond ±1e100), or a file cannot be written.
#[allow(clippy::too_many_arguments)]
pub fn image_overlay(
    stem: &Path,
    title: &str,
    rgb: &[f32],
    width: usize,
    height: usize,
    pixel_features: &[u32],
    values: &[f64],
    marks: &[Mark],
) -> Result<()> {
    let what = describe(stem);
    let pixels = check_dims(&what, "image", width, height)?;
    if pixels.checked_mul(3) != Some(rgb.len()) {
        bad_input!(
            "cannot plot {what}: the image is {width}×{height} but has {} values instead of {} \
             (width × height × 3)",
            rgb.len(),
            pixels * 3
        );
    }
    if pixel_features.len() != pixels {
        bad_input!(
            "cannot plot {what}: {} pixel feature ids for a {width}×{height} image ({pixels} pixels)",
            pixel_features.len()
        );
    }
    if let Some(i) = rgb.iter().position(|v| !v.is_finite()) {
        bad_input!(
            "cannot plot {what}: image value {i} is {}, not a finite number",
            rgb[i]
        );
    }
    check_features(&what, "pixel", pixel_features, values)?;
    ensure_font()?;
    if let Some(m) = marks.iter().find(|m| m.bbox.iter().any(|v| !v.is_finite())) {
        bad_input!("cannot plot {what}: box {:?} is not finite", m.bbox);
    }
    let mut fig = PanelsFigure::image(title, rgb, width, height, pixel_features, values);
    let (sx, sy) = (fig.dw as f64 / width as f64, fig.dh as f64 / height as f64);
    fig.boxes = marks
        .iter()
        .map(|m| {
            let [x0, y0, x1, y1] = m.bbox.map(f64::from);
            ([x0 * sx, y0 * sy, x1 * sx, y1 * sy], m.target)
        })
        .collect();
    if marks.iter().any(|m| m.target) {
        fig.note
            .push_str("; amber: the explained box, white: other detections");
    }
    write_plot(stem, &fig)
}

/// Writes `<stem>.png` and `<stem>.svg`: `data` as a heat map (viridis, left) and the same
/// grid dimmed to grey with each patch tinted by its attribution (right), patches outlined,
/// plus a colour bar.
///
/// `data` and `cell_features` are `rows × cols`, row-major (for a spectrogram, rows are time
/// frames and columns frequency bins); `cell_features` holds an index into `values` for every
/// cell. Row 0 is at the top; the vertical axis is labelled `row_label` and the horizontal one
/// `col_label`. Cells are enlarged so that the longer side is between 320 and 640 px and the
/// shorter side at least 160 px.
///
/// # Errors
/// [`Error::Input`](crate::Error::Input) naming the file when a size is zero, a length does not match, a feature id
/// is out of range, a value is not finite (or an attribution beyond ±1e100), or a file cannot be written.
#[allow(clippy::too_many_arguments)]
pub fn grid_overlay(
    stem: &Path,
    title: &str,
    data: &[f32],
    rows: usize,
    cols: usize,
    cell_features: &[u32],
    values: &[f64],
    row_label: &str,
    col_label: &str,
) -> Result<()> {
    let what = describe(stem);
    let cells = check_dims(&what, "grid", cols, rows)?;
    if data.len() != cells {
        bad_input!(
            "cannot plot {what}: the grid is {rows} rows × {cols} columns but has {} values \
             instead of {cells}",
            data.len()
        );
    }
    if cell_features.len() != cells {
        bad_input!(
            "cannot plot {what}: {} cell feature ids for a grid of {rows} rows × {cols} columns \
             ({cells} cells)",
            cell_features.len()
        );
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        bad_input!(
            "cannot plot {what}: grid value {i} is {}, not a finite number",
            data[i]
        );
    }
    check_features(&what, "cell", cell_features, values)?;
    ensure_font()?;
    let fig = PanelsFigure::grid(
        title,
        data,
        rows,
        cols,
        cell_features,
        values,
        row_label,
        col_label,
    );
    write_plot(stem, &fig)
}

/// Checks that a 2-D size is non-zero and small enough to address; returns the element count.
fn check_dims(what: &str, kind: &str, width: usize, height: usize) -> Result<usize> {
    if width == 0 || height == 0 {
        bad_input!("cannot plot {what}: the {kind} is {width}×{height}, which is empty");
    }
    match width.checked_mul(height) {
        Some(n) if n.checked_mul(3).is_some() && width <= 1 << 20 && height <= 1 << 20 => Ok(n),
        _ => bad_input!("cannot plot {what}: the {kind} is {width}×{height}, which is too large"),
    }
}

fn check_features(what: &str, kind: &str, ids: &[u32], values: &[f64]) -> Result<()> {
    if values.is_empty() {
        bad_input!("cannot plot {what}: there are no feature values");
    }
    check_finite(what, "attribution", values)?;
    if let Some(i) = ids.iter().position(|&f| f as usize >= values.len()) {
        bad_input!(
            "cannot plot {what}: {kind} {i} belongs to feature {}, but there are only {} \
             feature values",
            ids[i],
            values.len()
        );
    }
    Ok(())
}

/// The diverging colour of `value` on the scale `±max_abs`, and its opacity.
pub(crate) fn tint(value: f64, max_abs: f64) -> (RGBColor, f64) {
    let c = if value < 0.0 { NEG } else { POS };
    if max_abs <= 0.0 {
        return (c, 0.0);
    }
    (c, ALPHA_MAX * (value.abs() / max_abs).min(1.0))
}

/// `base` (sRGB in `[0, 1]`) under `color` at opacity `alpha`.
fn blend(base: [f64; 3], color: RGBColor, alpha: f64) -> [u8; 3] {
    let c = [color.0, color.1, color.2];
    let mut out = [0u8; 3];
    for k in 0..3 {
        let v = base[k] * (1.0 - alpha) + f64::from(c[k]) / 255.0 * alpha;
        out[k] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    out
}

fn to_u8(rgb: [f64; 3]) -> [u8; 3] {
    rgb.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
}

pub(crate) fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// How the diverging scale is explained under a figure.
fn scale_note(max_abs: f64) -> String {
    if max_abs > 0.0 {
        format!(
            "red: positive, blue: negative attribution, opacity ∝ |value| (max {})",
            fmt_value(max_abs)
        )
    } else {
        "all attributions are zero".to_string()
    }
}

/// Display size for a `w × h` raster: the longer side between 320 and 640 px (whole-number
/// enlargement for small inputs), the shorter at least `min_side`.
fn display_size(w: usize, h: usize, min_side: usize) -> (usize, usize) {
    let m = w.max(h) as f64;
    let scale = if m < 320.0 {
        (320.0 / m).ceil()
    } else if m > 640.0 {
        640.0 / m
    } else {
        1.0
    };
    let side = |n: usize| ((n as f64 * scale).round() as usize).clamp(min_side, 640);
    (side(w), side(h))
}

/// Nearest-neighbour source index of display position `p` of `n_display` over `n_source`.
fn src_index(p: usize, n_display: usize, n_source: usize) -> usize {
    ((p as u128 * n_source as u128 / n_display as u128) as usize).min(n_source - 1)
}

/// Axis annotation for a grid panel.
struct GridAxes {
    rows: usize,
    cols: usize,
    row_label: String,
    col_label: String,
}

struct PanelsFigure {
    title: String,
    panel_titles: [String; 2],
    note: String,
    width: u32,
    height: u32,
    /// Top-left of each panel.
    panels: [(i32, i32); 2],
    dw: usize,
    dh: usize,
    /// Colour bar position and size.
    cbar: (i32, i32, usize, usize),
    /// Centre of the note under the figure.
    note_y: i32,
    max_abs: f64,
    axes: Option<GridAxes>,
    rasters: Vec<Raster>,
    /// Boxes drawn on both panels, in display pixels: the target thick, others thin.
    boxes: Vec<([f64; 4], bool)>,
}

/// A box drawn on an image overlay (pixels of the image, `x0, y0, x1, y1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub bbox: [f32; 4],
    /// The explained box (drawn thick), or another detection (thin).
    pub target: bool,
}

/// Colour of the explained box (amber, readable on grey, red and blue).
const TARGET_BOX: RGBColor = RGBColor(255, 191, 0);

const OUTER: i32 = 24;
const PANELS_TOP: i32 = 80;
const PANEL_GAP: i32 = 36;
const CBAR_GAP: i32 = 28;
const CBAR_W: usize = 16;
const CBAR_LABELS: i32 = 84;
const AXIS_LEFT: i32 = 76;
const AXIS_BOTTOM: i32 = 58;
const NOTE_H: i32 = 56;
/// Shortest colour bar, in pixels.
const CBAR_MIN_H: usize = 200;

impl PanelsFigure {
    /// Lays out two `dw × dh` panels, optionally with grid axes, and the colour bar.
    fn layout(
        title: &str,
        panel_titles: [String; 2],
        note: String,
        dw: usize,
        dh: usize,
        max_abs: f64,
        axes: Option<GridAxes>,
    ) -> Self {
        let (left, bottom) = if axes.is_some() {
            (AXIS_LEFT, AXIS_BOTTOM)
        } else {
            (0, 0)
        };
        let x_a = OUTER + left;
        let x_b = x_a + dw as i32 + PANEL_GAP;
        let x_c = x_b + dw as i32 + CBAR_GAP;
        let width = (x_c + CBAR_W as i32 + CBAR_LABELS + OUTER) as u32;
        let ch = dh.max(CBAR_MIN_H);
        let body = (dh as i32 + bottom).max(ch as i32);
        let height = (PANELS_TOP + body + NOTE_H) as u32;
        PanelsFigure {
            title: title.to_string(),
            panel_titles,
            note,
            width,
            height,
            panels: [(x_a, PANELS_TOP), (x_b, PANELS_TOP)],
            dw,
            dh,
            cbar: (x_c, PANELS_TOP, CBAR_W, ch),
            note_y: PANELS_TOP + body + NOTE_H / 2,
            max_abs,
            axes,
            rasters: Vec::new(),
            boxes: Vec::new(),
        }
    }

    fn image(
        title: &str,
        rgb: &[f32],
        width: usize,
        height: usize,
        features: &[u32],
        values: &[f64],
    ) -> Self {
        let (dw, dh) = display_size(width, height, 64);
        let m = max_abs(values);
        let n_features = distinct_features(features, values.len());
        let note = format!(
            "{width}×{height} px, {} (dark outlines); {}",
            count(n_features, "segment", "segments"),
            scale_note(m)
        );
        let mut fig = Self::layout(
            title,
            ["input".into(), "attribution by segment".into()],
            note,
            dw,
            dh,
            m,
            None,
        );
        let pixel = |sx: usize, sy: usize| -> [f64; 3] {
            let i = (sy * width + sx) * 3;
            [rgb[i], rgb[i + 1], rgb[i + 2]].map(|v| f64::from(v).clamp(0.0, 1.0))
        };
        let (pa, pb) = (fig.panels[0], fig.panels[1]);
        let mut a = Raster::new(pa.0, pa.1, dw, dh);
        let mut b = Raster::new(pb.0, pb.1, dw, dh);
        let feature = |px: usize, py: usize| {
            features[src_index(py, dh, height) * width + src_index(px, dw, width)]
        };
        for py in 0..dh {
            let sy = src_index(py, dh, height);
            for px in 0..dw {
                let sx = src_index(px, dw, width);
                let c = pixel(sx, sy);
                a.set(px, py, to_u8(c));
                let f = features[sy * width + sx];
                let edge = (px + 1 < dw && feature(px + 1, py) != f)
                    || (py + 1 < dh && feature(px, py + 1) != f);
                let out = if edge {
                    EDGE
                } else {
                    let lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
                    let g = DIM_LO + DIM_SPAN * lum;
                    let (color, alpha) = tint(values[f as usize], m);
                    blend([g, g, g], color, alpha)
                };
                b.set(px, py, out);
            }
        }
        fig.rasters = vec![a, b, colour_bar(fig.cbar)];
        fig
    }

    #[allow(clippy::too_many_arguments)]
    fn grid(
        title: &str,
        data: &[f32],
        rows: usize,
        cols: usize,
        features: &[u32],
        values: &[f64],
        row_label: &str,
        col_label: &str,
    ) -> Self {
        let (dw, dh) = display_size(cols, rows, 160);
        let m = max_abs(values);
        let (lo, hi) = data
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(f64::from(v)), hi.max(f64::from(v)))
            });
        let norm = |v: f32| {
            if hi > lo {
                (f64::from(v) - lo) / (hi - lo)
            } else {
                0.5
            }
        };
        let data_range = if hi > lo {
            format!("data {} to {}", fmt_value(lo), fmt_value(hi))
        } else {
            format!("data constant at {}", fmt_value(lo))
        };
        let note = format!(
            "{rows}×{cols} cells, {}, {data_range}; {}",
            count(
                distinct_features(features, values.len()),
                "patch",
                "patches"
            ),
            scale_note(m)
        );
        let axes = GridAxes {
            rows,
            cols,
            row_label: row_label.to_string(),
            col_label: col_label.to_string(),
        };
        let mut fig = Self::layout(
            title,
            ["data".into(), "attribution by patch".into()],
            note,
            dw,
            dh,
            m,
            Some(axes),
        );
        let (pa, pb) = (fig.panels[0], fig.panels[1]);
        let mut a = Raster::new(pa.0, pa.1, dw, dh);
        let mut b = Raster::new(pb.0, pb.1, dw, dh);
        let feature = |px: usize, py: usize| {
            features[src_index(py, dh, rows) * cols + src_index(px, dw, cols)]
        };
        for py in 0..dh {
            let sy = src_index(py, dh, rows);
            for px in 0..dw {
                let sx = src_index(px, dw, cols);
                let t = norm(data[sy * cols + sx]);
                let f = features[sy * cols + sx];
                let edge = (px + 1 < dw && feature(px + 1, py) != f)
                    || (py + 1 < dh && feature(px, py + 1) != f);
                let v = viridis(t);
                if edge {
                    a.set(px, py, blend(v, WHITE, 0.75));
                    b.set(px, py, EDGE);
                } else {
                    a.set(px, py, to_u8(v));
                    let g = DIM_LO + DIM_SPAN * t;
                    let (color, alpha) = tint(values[f as usize], m);
                    b.set(px, py, blend([g, g, g], color, alpha));
                }
            }
        }
        fig.rasters = vec![a, b, colour_bar(fig.cbar)];
        fig
    }
}

/// How many of `n` features own at least one pixel or cell.
fn distinct_features(ids: &[u32], n: usize) -> usize {
    let mut seen = vec![false; n];
    ids.iter().for_each(|&f| seen[f as usize] = true);
    seen.iter().filter(|s| **s).count()
}

/// The viridis colour of `t` in `[0, 1]`, as sRGB in `[0, 1]`.
fn viridis(t: f64) -> [f64; 3] {
    let c = plotters::style::colors::colormaps::ViridisRGB::get_color(t.clamp(0.0, 1.0) as f32);
    [c.0, c.1, c.2].map(|v| f64::from(v) / 255.0)
}

/// A vertical diverging colour bar: +max at the top, −max at the bottom, over white.
fn colour_bar((x, y, w, h): (i32, i32, usize, usize)) -> Raster {
    let mut r = Raster::new(x, y, w, h);
    for py in 0..h {
        // +1 at the top row, −1 at the bottom row.
        let t = if h > 1 {
            1.0 - 2.0 * py as f64 / (h - 1) as f64
        } else {
            0.0
        };
        let (color, alpha) = tint(t, 1.0);
        let c = blend([1.0; 3], color, alpha);
        for px in 0..w {
            r.set(px, py, c);
        }
    }
    r
}

impl Figure for PanelsFigure {
    const FINISH: Finish = Finish::Backdrop;

    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn rasters(&self) -> &[Raster] {
        &self.rasters
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw_title(root, &self.title)?;
        let (dw, dh) = (self.dw as i32, self.dh as i32);
        for (i, &(x, y)) in self.panels.iter().enumerate() {
            root.draw(&Text::new(
                fit_text(&self.panel_titles[i], LABEL_SIZE, 80, self.dw as u32),
                (x + dw / 2, y - 16),
                text_style(LABEL_SIZE, INK, HPos::Center, VPos::Center),
            ))?;
            frame(root, x, y, dw, dh)?;
            // Others first, the target on top; clipped to the panel.
            for target in [false, true] {
                for (b, _) in self.boxes.iter().filter(|(_, t)| *t == target) {
                    let clip = |v: f64, n: i32| (v.round() as i32).clamp(0, n - 1);
                    let (x0, y0) = (x + clip(b[0], dw), y + clip(b[1], dh));
                    let (x1, y1) = (x + clip(b[2], dw), y + clip(b[3], dh));
                    let style = if target {
                        TARGET_BOX.stroke_width(3)
                    } else {
                        WHITE.stroke_width(1)
                    };
                    root.draw(&PathElement::new(
                        vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
                        style,
                    ))?;
                }
            }
        }

        // Colour bar: frame, ticks at −max, −max/2, 0, max/2, max.
        let (cx, cy, cw, ch) = self.cbar;
        let (cw, ch) = (cw as i32, ch as i32);
        frame(root, cx, cy, cw, ch)?;
        root.draw(&Text::new(
            "attribution",
            (cx + cw / 2 + 12, cy - 16),
            text_style(SMALL_SIZE, INK, HPos::Center, VPos::Center),
        ))?;
        let marks: Vec<(f64, String)> = if self.max_abs > 0.0 {
            let m = self.max_abs;
            let (t, step) = ticks(-m, m, (ch as usize / 45).clamp(2, 8));
            t.into_iter().map(|v| (v / m, fmt_tick(v, step))).collect()
        } else {
            vec![(0.0, "0 (all zero)".into())]
        };
        for (f, label) in marks {
            let ty = cy + ((1.0 - f) / 2.0 * f64::from(ch - 1)).round() as i32;
            root.draw(&PathElement::new(
                vec![(cx + cw, ty), (cx + cw + 5, ty)],
                INK.stroke_width(1),
            ))?;
            root.draw(&Text::new(
                label,
                (cx + cw + 8, ty),
                text_style(SMALL_SIZE, INK, HPos::Left, VPos::Center),
            ))?;
        }

        if let Some(axes) = &self.axes {
            let (xa, ya) = self.panels[0];
            // Row ticks on the left of the first panel, row 0 at the top.
            let rt = index_ticks(axes.rows);
            let widest = rt
                .iter()
                .map(|&t| text_width(&fmt_tick(t, 1.0), SMALL_SIZE) as i32)
                .max()
                .unwrap_or(0);
            for t in rt {
                let py = ya + (t / axes.rows as f64 * f64::from(dh)).round() as i32;
                let py = py.min(ya + dh - 1);
                root.draw(&PathElement::new(
                    vec![(xa - 6, py), (xa - 1, py)],
                    INK.stroke_width(1),
                ))?;
                root.draw(&Text::new(
                    fmt_tick(t, 1.0),
                    (xa - 9, py),
                    text_style(SMALL_SIZE, INK, HPos::Right, VPos::Center),
                ))?;
            }
            root.draw(&Text::new(
                fit_text(&axes.row_label, LABEL_SIZE, 80, self.dh as u32),
                (xa - 9 - widest - 14, ya + dh / 2),
                text_style(LABEL_SIZE, INK, HPos::Center, VPos::Center)
                    .transform(FontTransform::Rotate270),
            ))?;
            // Column ticks under both panels.
            let ct = index_ticks(axes.cols);
            for &(x, y) in &self.panels {
                for &t in &ct {
                    let px = x + (t / axes.cols as f64 * f64::from(dw)).round() as i32;
                    let px = px.min(x + dw - 1);
                    root.draw(&PathElement::new(
                        vec![(px, y + dh), (px, y + dh + 5)],
                        INK.stroke_width(1),
                    ))?;
                    root.draw(&Text::new(
                        fmt_tick(t, 1.0),
                        (px, y + dh + 16),
                        text_style(SMALL_SIZE, INK, HPos::Center, VPos::Center),
                    ))?;
                }
                root.draw(&Text::new(
                    fit_text(&axes.col_label, LABEL_SIZE, 80, self.dw as u32),
                    (x + dw / 2, y + dh + 42),
                    text_style(LABEL_SIZE, INK, HPos::Center, VPos::Center),
                ))?;
            }
        }

        draw_note(root, &self.note, self.note_y, 2)?;
        Ok(())
    }
}

/// A 1 px frame just outside the `w × h` block at `(x, y)`.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: i32,
    y: i32,
    w: i32,
    h: i32,
) -> DrawResult<DB> {
    root.draw(&PathElement::new(
        vec![
            (x - 1, y - 1),
            (x + w, y - 1),
            (x + w, y + h),
            (x - 1, y + h),
            (x - 1, y - 1),
        ],
        INK.stroke_width(1),
    ))
}
