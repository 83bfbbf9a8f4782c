//! The one house style of every figure: the palette, the type scale, how text is measured
//! and shortened to fit, how numbers and counts are written, and the title and note lines.
//!
//! The figures are made for people who have to sign off on them, so they favour legibility: a
//! colour-blind-safe diverging pair (red `#d6604d` for positive attributions and flags, blue
//! `#4393c3` for negative ones), a bluish green for passes (Okabe–Ito, distinguishable from
//! the red for colour-blind readers), ink `#222222` on white with light grey grid lines, and
//! text in the bundled DejaVu Sans at 22/16/14 px.

use super::{DrawResult, FAMILY};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Positive attributions and flags (ColorBrewer RdBu red).
pub(crate) const POS: RGBColor = RGBColor(0xd6, 0x60, 0x4d);
/// Negative attributions (ColorBrewer RdBu blue); also the edge of neutral bars.
pub(crate) const NEG: RGBColor = RGBColor(0x43, 0x93, 0xc3);
/// Text, axes, frames.
pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Secondary text.
pub(crate) const MUTED: RGBColor = RGBColor(0x5a, 0x5a, 0x5a);
/// Grid lines.
pub(crate) const GRID: RGBColor = RGBColor(0xe2, 0xe2, 0xe2);
/// Segment boundaries in rasters.
pub(crate) const EDGE: [u8; 3] = [0x1a, 0x1a, 0x1a];
/// Every other row's background.
pub(crate) const ZEBRA: RGBColor = RGBColor(0xf6, 0xf6, 0xf6);
/// Neutral bars (ColorBrewer RdBu light blue) and their edge.
pub(crate) const BAR: RGBColor = RGBColor(0x92, 0xc5, 0xde);
pub(crate) const BAR_EDGE: RGBColor = NEG;
/// The overall interval band.
pub(crate) const BAND: RGBColor = RGBColor(0xec, 0xe2, 0xc6);
/// Reference lines (thresholds): dashed dark red.
pub(crate) const REF: RGBColor = RGBColor(0xb2, 0x18, 0x2b);
/// Verdicts: flag (as positive attributions), pass (Okabe–Ito bluish green), insufficient
/// (grey); each with the shade its bars and its words use.
pub(crate) const FLAG: RGBColor = POS;
pub(crate) const FLAG_TEXT: RGBColor = REF;
pub(crate) const PASS: RGBColor = RGBColor(0x00, 0x9e, 0x73);
pub(crate) const PASS_BAR: RGBColor = RGBColor(0x66, 0xc2, 0xa5);
pub(crate) const PASS_TEXT: RGBColor = RGBColor(0x00, 0x6d, 0x4f);
pub(crate) const INSUFFICIENT: RGBColor = RGBColor(0x99, 0x99, 0x99);
/// Hatched bars: light grey with grey diagonal lines.
pub(crate) const HATCH_FILL: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
/// The failing side of a disparity threshold.
pub(crate) const ZONE: RGBColor = RGBColor(0xfd, 0xee, 0xea);
/// A quality curve in the explanation's order (ColorBrewer RdBu dark blue), and the
/// random-order baseline.
pub(crate) const CURVE: RGBColor = RGBColor(0x21, 0x66, 0xac);
pub(crate) const RANDOM: RGBColor = RGBColor(0x8c, 0x8c, 0x8c);
/// The zero line of an output axis, when it lies inside.
pub(crate) const ZERO: RGBColor = RGBColor(0xb4, 0xb4, 0xb4);

/// Font sizes (plotters units: the height of the font's ascent plus descent, in pixels).
/// Even sizes: the bitmap text renderer places glyphs at `size / 2` and truncates, so odd
/// sizes put short glyphs (`.`, `,`) a pixel too high.
pub(crate) const TITLE_SIZE: f64 = 22.0;
pub(crate) const LABEL_SIZE: f64 = 16.0;
pub(crate) const SMALL_SIZE: f64 = 14.0;

/// The bundled font at `size`.
pub(crate) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

/// Text at `size` in `color`, anchored at `(h, v)`.
pub(crate) fn text_style(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: font(size),
        color: color.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

/// Width of `text` in pixels at `size`.
pub(crate) fn text_width(text: &str, size: f64) -> u32 {
    font(size)
        .box_size(text)
        .map(|(w, _)| w)
        .unwrap_or_else(|_| (text.chars().count() as f64 * size * 0.6) as u32)
}

/// `text`, shortened to at most `max_chars` characters and `max_px` pixels by an ellipsis in
/// the middle, which keeps both the start and the end (where long feature names usually
/// differ: `…_column_3`).
pub(crate) fn fit_text(text: &str, size: f64, max_chars: usize, max_px: u32) -> String {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_control()).collect();
    let whole: String = chars.iter().collect();
    if chars.len() <= max_chars && text_width(&whole, size) <= max_px {
        return whole;
    }
    let mut n = chars.len().min(max_chars).saturating_sub(1);
    loop {
        let head = n.div_ceil(2) + n / 6;
        let head = head.min(n);
        let s: String = chars[..head]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_string()
            + "…"
            + chars[chars.len() - (n - head)..]
                .iter()
                .collect::<String>()
                .trim_start();
        if n == 0 || text_width(&s, size) <= max_px {
            return s;
        }
        n -= 1;
    }
}

/// `1 thing` or `n things`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Control characters removed, surrounding spaces trimmed.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// Formats values on the scale of `max_abs` alike: three significant digits for the largest,
/// the same decimals for the rest.
pub(crate) fn fmt_on_scale(v: f64, max_abs: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&max_abs) {
        return format!("{v:.2e}");
    }
    let decimals = (2 - max_abs.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.decimals$}")
}

/// Formats a value with three significant digits.
pub(crate) fn fmt_value(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// Three decimals, for proportions and distances (never `-0.000`).
pub(crate) fn fmt3(v: f64) -> String {
    let s = format!("{v:.3}");
    if s == "-0.000" { "0.000".into() } else { s }
}

/// Draws the title, centred at the top, shortened to fit.
pub(crate) fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> DrawResult<DB> {
    let (w, _) = root.dim_in_pixel();
    let text = fit_text(title, TITLE_SIZE, 200, w.saturating_sub(40));
    root.draw(&Text::new(
        text,
        (w as i32 / 2, 22),
        text_style(TITLE_SIZE, INK, HPos::Center, VPos::Center),
    ))
}

/// Line height of secondary text, in pixels.
const NOTE_LINE: i32 = 19;

/// Draws secondary text centred on `y`: on one line if it fits, else broken after `;` into at
/// most `max_lines` lines, each shortened to fit.
pub(crate) fn draw_note<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    y: i32,
    max_lines: usize,
) -> DrawResult<DB> {
    let (w, _) = root.dim_in_pixel();
    let max_px = w.saturating_sub(40);
    let mut lines: Vec<String> = Vec::new();
    for part in text.split("; ") {
        let full = lines.len() >= max_lines.max(1);
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line}; {part}"), SMALL_SIZE) <= max_px => {
                line.push_str("; ");
                line.push_str(part);
            }
            Some(line) if full => {
                line.push_str("; ");
                line.push_str(part);
            }
            _ => lines.push(part.to_string()),
        }
    }
    let first = y - (lines.len() as i32 - 1) * NOTE_LINE / 2;
    for (i, line) in lines.iter().enumerate() {
        root.draw(&Text::new(
            fit_text(line, SMALL_SIZE, 400, max_px),
            (w as i32 / 2, first + i as i32 * NOTE_LINE),
            text_style(SMALL_SIZE, MUTED, HPos::Center, VPos::Center),
        ))?;
    }
    Ok(())
}
