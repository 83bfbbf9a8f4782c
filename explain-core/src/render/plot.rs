//! Plots (PNG and SVG, bundled font): attribution bars, image and audio overlays.
//!
//! Every function here writes two files next to each other, `<stem>.png` and `<stem>.svg`,
//! showing the same figure:
//!
//! * [`attribution_bars`]: the strongest features of one explanation as horizontal bars with
//!   95 % error whiskers.
//! * [`image_overlay`]: an image beside the same image dimmed to grey with each feature
//!   (segment) tinted by its attribution.
//! * [`audio_overlay`]: a waveform with each segment shaded by its attribution, above a bar per
//!   segment on the same time axis.
//! * [`grid_overlay`]: a 2-D array (a spectrogram, a feature map) as a heat map beside its
//!   patch attributions.
//!
//! The figures are made for people who have to sign off on them, so they favour legibility:
//! a colour-blind-safe diverging pair (red `#d6604d` for positive attributions, blue `#4393c3`
//! for negative ones), opacity proportional to magnitude, and text in the bundled DejaVu Sans
//! so that nothing depends on the fonts installed on the machine.
//!
//! Output is deterministic: the same inputs give byte-identical PNG and SVG files (there are no
//! timestamps, and all layout is integer arithmetic on the inputs). Both files are rendered in
//! memory before either is written, and each is written atomically with
//! [`write_atomic`](crate::util::output::write_atomic), so an error never leaves a partial file.
//!
//! Rasters (image and heat-map panels, colour bars) are embedded in the SVG as PNG data, the
//! way most plotting libraries do it; axes, labels and bars stay vector.
//!
//! ```no_run
//! use explain_core::render::plot;
//! let names = vec!["alcohol".to_string(), "malic_acid".to_string()];
//! plot::attribution_bars("out/row0".as_ref(), "wine, row 0", &names, &[0.4, -0.2], &[0.01, 0.02], 10)?;
//! # Ok::<(), explain_core::Error>(())
//! ```

use crate::bad_input;
use crate::util::output::{check_writable, write_atomic};
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// The one font family used; it is registered from the bundled DejaVu Sans.
pub(crate) const FAMILY: &str = "sans-serif";

static FONT_INIT: Once = Once::new();
static FONT_OK: AtomicBool = AtomicBool::new(false);

/// Positive attributions (ColorBrewer RdBu).
const POS: RGBColor = RGBColor(0xd6, 0x60, 0x4d);
/// Negative attributions (ColorBrewer RdBu).
const NEG: RGBColor = RGBColor(0x43, 0x93, 0xc3);
/// Text, axes, frames.
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Secondary text.
const MUTED: RGBColor = RGBColor(0x5a, 0x5a, 0x5a);
/// Grid lines.
const GRID: RGBColor = RGBColor(0xe2, 0xe2, 0xe2);
/// Segment boundaries in rasters.
const EDGE: [u8; 3] = [0x1a, 0x1a, 0x1a];

/// Opacity of the overlay colour at the largest |attribution|.
const ALPHA_MAX: f64 = 0.85;
/// The dimmed greyscale background of overlays spans `[DIM_LO, DIM_LO + DIM_SPAN]`.
const DIM_LO: f64 = 0.50;
const DIM_SPAN: f64 = 0.45;

/// Font sizes (plotters units: the height of the font's ascent plus descent, in pixels).
/// Even sizes: the bitmap text renderer places glyphs at `size / 2` and truncates, so odd
/// sizes put short glyphs (`.`, `,`) a pixel too high.
const TITLE_SIZE: f64 = 22.0;
const LABEL_SIZE: f64 = 16.0;
const SMALL_SIZE: f64 = 14.0;
/// Length of axis tick marks, in pixels.
const TICK: i32 = 5;

/// Largest |attribution| that can be plotted.
const LARGEST: f64 = 1e100;
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
/// [`Error::Input`] naming the file when the lengths differ, there are no features, `top_k` is
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
    render(stem, &fig)
}

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
/// [`Error::Input`] naming the file when a size is zero, a length does not match, a feature id
/// is out of range, a value is not finite (or an attribution beyond ±1e100), or a file cannot be written.
pub fn image_overlay(
    stem: &Path,
    title: &str,
    rgb: &[f32],
    width: usize,
    height: usize,
    pixel_features: &[u32],
    values: &[f64],
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
    let fig = PanelsFigure::image(title, rgb, width, height, pixel_features, values);
    render(stem, &fig)
}

/// Writes `<stem>.png` and `<stem>.svg`: the waveform over time with each segment's
/// background shaded by its attribution, above a panel with one bar per segment on the same
/// time axis.
///
/// `segments[i]` is the `[start, end)` sample range of feature `i`, with attribution
/// `values[i]`. Shading is red for positive and blue for negative attributions, with opacity
/// proportional to |value| / max |value|; segment boundaries are vertical lines and segments
/// wide enough are numbered. Long signals are drawn as a min/max envelope per pixel column.
///
/// # Errors
/// [`Error::Input`] naming the file when there are no samples, the sample rate is zero, the
/// lengths differ, a segment is reversed or runs past the end, a value is not finite, or a
/// file cannot be written.
pub fn audio_overlay(
    stem: &Path,
    title: &str,
    samples: &[f32],
    sample_rate: u32,
    segments: &[(usize, usize)],
    values: &[f64],
) -> Result<()> {
    let what = describe(stem);
    if samples.is_empty() {
        bad_input!("cannot plot {what}: the waveform has no samples");
    }
    if sample_rate == 0 {
        bad_input!("cannot plot {what}: the sample rate is 0 Hz");
    }
    if segments.len() != values.len() {
        bad_input!(
            "cannot plot {what}: {} segments but {} values",
            segments.len(),
            values.len()
        );
    }
    if values.is_empty() {
        bad_input!("cannot plot {what}: there are no segments");
    }
    for (i, &(start, end)) in segments.iter().enumerate() {
        if start > end || end > samples.len() {
            bad_input!(
                "cannot plot {what}: segment {i} is [{start}, {end}), which is not a range \
                 within the {} samples",
                samples.len()
            );
        }
    }
    if let Some(i) = samples.iter().position(|v| !v.is_finite()) {
        bad_input!(
            "cannot plot {what}: sample {i} is {}, not a finite number",
            samples[i]
        );
    }
    check_finite(&what, "attribution", values)?;
    ensure_font()?;
    let fig = AudioFigure {
        title: title.to_string(),
        samples,
        sample_rate,
        segments,
        values,
    };
    render(stem, &fig)
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
/// [`Error::Input`] naming the file when a size is zero, a length does not match, a feature id
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
    render(stem, &fig)
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// How error messages name the output: `out/x.png and out/x.svg`.
fn describe(stem: &Path) -> String {
    format!(
        "{} and {}",
        sibling(stem, "png").display(),
        sibling(stem, "svg").display()
    )
}

/// `<stem>.<ext>`, keeping any dots already in the stem.
fn sibling(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Values must be finite, and small enough that sums and spans of them stay finite.
fn check_finite(what: &str, kind: &str, values: &[f64]) -> Result<()> {
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

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Registers the bundled font under [`FAMILY`] once per process.
pub(crate) fn ensure_font() -> Result<()> {
    FONT_INIT.call_once(|| {
        let ok = plotters::style::register_font(
            FAMILY,
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        )
        .is_ok();
        FONT_OK.store(ok, Ordering::SeqCst);
    });
    if FONT_OK.load(Ordering::SeqCst) {
        Ok(())
    } else {
        Err(Error::Input(
            "cannot plot: the bundled font DejaVuSans.ttf could not be loaded".into(),
        ))
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A pixel block placed at `(x, y)` of the figure, drawn beneath the vector content.
struct Raster {
    x: i32,
    y: i32,
    w: usize,
    h: usize,
    /// `h × w × 3` bytes, row-major.
    rgb: Vec<u8>,
}

impl Raster {
    fn new(x: i32, y: i32, w: usize, h: usize) -> Self {
        Raster {
            x,
            y,
            w,
            h,
            rgb: vec![255; w * h * 3],
        }
    }

    fn set(&mut self, px: usize, py: usize, c: [u8; 3]) {
        let i = (py * self.w + px) * 3;
        self.rgb[i..i + 3].copy_from_slice(&c);
    }

    /// Copies the raster into an RGB buffer of `bw × bh` pixels, clipped to it.
    fn blit(&self, buf: &mut [u8], bw: usize, bh: usize) {
        for py in 0..self.h {
            let y = self.y as i64 + py as i64;
            if y < 0 || y >= bh as i64 {
                continue;
            }
            for px in 0..self.w {
                let x = self.x as i64 + px as i64;
                if x < 0 || x >= bw as i64 {
                    continue;
                }
                let d = (y as usize * bw + x as usize) * 3;
                let s = (py * self.w + px) * 3;
                buf[d..d + 3].copy_from_slice(&self.rgb[s..s + 3]);
            }
        }
    }
}

/// A figure that can be drawn on any plotters backend.
trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Pixel blocks beneath the vector content.
    fn rasters(&self) -> &[Raster];
    /// Draws the vector content (text, axes, bars, frames) on a white-backed area.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Renders both files in memory, then writes them atomically.
fn render<F: Figure>(stem: &Path, fig: &F) -> Result<()> {
    let png_path = sibling(stem, "png");
    let svg_path = sibling(stem, "svg");
    check_writable(&png_path)?;
    check_writable(&svg_path)?;
    let png = render_png(fig)
        .map_err(|e| Error::Input(format!("cannot draw {}: {e}", png_path.display())))?;
    let svg = render_svg(fig)
        .map_err(|e| Error::Input(format!("cannot draw {}: {e}", svg_path.display())))?;
    write_atomic(&png_path, &png)?;
    if let Err(e) = write_atomic(&svg_path, svg.as_bytes()) {
        // Do not leave half a pair behind.
        let _ = std::fs::remove_file(&png_path);
        return Err(e);
    }
    Ok(())
}

fn render_png<F: Figure>(fig: &F) -> std::result::Result<Vec<u8>, String> {
    let (w, h) = fig.size();
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    for r in fig.rasters() {
        r.blit(&mut buf, w as usize, h as usize);
    }
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    encode_png(&buf, w, h)
}

pub(crate) fn encode_png(rgb: &[u8], w: u32, h: u32) -> std::result::Result<Vec<u8>, String> {
    use ::image::ImageEncoder;
    let mut out = Vec::new();
    // The strongest compression: plots are committed in reference reports.
    ::image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        ::image::codecs::png::CompressionType::Best,
        ::image::codecs::png::FilterType::Adaptive,
    )
    .write_image(rgb, w, h, ::image::ExtendedColorType::Rgb8)
    .map_err(|e| e.to_string())?;
    Ok(out)
}

fn render_svg<F: Figure>(fig: &F) -> std::result::Result<String, String> {
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    // The background and the rasters go first, right after the opening <svg> tag, so that
    // everything plotters drew lies on top of them.
    let mut under =
        format!("<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\"/>\n");
    for r in fig.rasters() {
        let png = encode_png(&r.rgb, r.w as u32, r.h as u32)?;
        under.push_str(&format!(
            "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
             style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64,{}\"/>\n",
            r.x,
            r.y,
            r.w,
            r.h,
            base64(&png)
        ));
    }
    const NS: &str = "xmlns=\"http://www.w3.org/2000/svg\"";
    let open_end = svg
        .find(">\n")
        .filter(|&i| svg[..i].contains(NS))
        .ok_or("unexpected SVG output from the plotting library")?;
    svg.insert_str(open_end + 2, &under);
    if !fig.rasters().is_empty() {
        svg = svg.replacen(
            NS,
            &format!("{NS} xmlns:xlink=\"http://www.w3.org/1999/xlink\""),
            1,
        );
    }
    Ok(svg)
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------------------------------------
// Text, numbers and colours
// ---------------------------------------------------------------------------------------------

pub(crate) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

fn style(size: f64, color: &'static RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from(font(size)).color(color).pos(Pos::new(h, v))
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

/// A "nice" tick step (1, 2 or 5 × 10^k) giving about `target` intervals over `span`.
pub(crate) fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Multiples of a nice step within `[lo, hi]`, and the step.
pub(crate) fn ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let step = nice_step(hi - lo, target);
    (ticks_with_step(lo, hi, step), step)
}

/// A numeric axis over `lo..hi` with our own ticks and tick labels (and no minor grid lines).
struct TickAxis {
    inner: plotters::coord::types::RangedCoordf64,
    ticks: Vec<f64>,
    step: f64,
}

impl TickAxis {
    /// About `target` nicely spaced ticks over `lo..hi`.
    fn new(lo: f64, hi: f64, target: usize) -> Self {
        let (ticks, step) = ticks(lo, hi, target);
        TickAxis {
            inner: (lo..hi).into(),
            ticks,
            step,
        }
    }
}

impl Ranged for TickAxis {
    type FormatOption = plotters::coord::ranged1d::NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl plotters::coord::ranged1d::ValueFormatter<f64> for TickAxis {
    fn format(value: &f64) -> String {
        fmt_value(*value)
    }

    fn format_ext(&self, value: &f64) -> String {
        fmt_tick(*value, self.step)
    }
}

/// Whole-number ticks over `0..=n` for row and column indices.
fn index_ticks(n: usize) -> Vec<f64> {
    let step = nice_step(n as f64, 5).max(1.0).round();
    ticks_with_step(0.0, n as f64, step)
}

/// Multiples of `step` within `[lo, hi]`.
fn ticks_with_step(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.min(first + 100))
        .map(|i| i as f64 * step)
        .collect()
}

/// Formats a tick value with as many decimals as its step needs.
pub(crate) fn fmt_tick(v: f64, step: f64) -> String {
    if v.abs() < step * 1e-6 {
        return "0".into();
    }
    if step < 1e-4 || v.abs() >= 1e6 {
        return format!("{v:.1e}");
    }
    let decimals = (-step.log10() - 1e-9).ceil().max(0.0) as usize;
    format!("{v:.decimals$}")
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
fn fmt_value(v: f64) -> String {
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

/// The diverging colour of `value` on the scale `±max_abs`, and its opacity.
fn tint(value: f64, max_abs: f64) -> (RGBColor, f64) {
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

fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Draws the title, centred at the top, shortened to fit.
fn draw_title<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> DrawResult<DB> {
    let (w, _) = root.dim_in_pixel();
    let text = fit_text(title, TITLE_SIZE, 200, w.saturating_sub(40));
    root.draw(&Text::new(
        text,
        (w as i32 / 2, 22),
        style(TITLE_SIZE, &INK, HPos::Center, VPos::Center),
    ))
}

/// Line height of secondary text, in pixels.
const NOTE_LINE: i32 = 19;

/// Draws secondary text centred on `y`: on one line if it fits, else broken after `;` into at
/// most `max_lines` lines, each shortened to fit.
fn draw_note<DB: DrawingBackend>(
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
            style(SMALL_SIZE, &MUTED, HPos::Center, VPos::Center),
        ))?;
    }
    Ok(())
}

/// `1 thing` or `n things`.
fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
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

// ---------------------------------------------------------------------------------------------
// Bars
// ---------------------------------------------------------------------------------------------

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
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn rasters(&self) -> &[Raster] {
        &[]
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
                style(SMALL_SIZE, &INK, anchor, VPos::Center),
            ))?;
            let (lx, _) = chart.backend_coord(&(x0, y));
            root.draw(&Text::new(
                b.label.clone(),
                (lx - 10, py),
                style(LABEL_SIZE, &INK, HPos::Right, VPos::Center),
            ))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Image and grid overlays: two raster panels and a colour bar
// ---------------------------------------------------------------------------------------------

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
}

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
                style(LABEL_SIZE, &INK, HPos::Center, VPos::Center),
            ))?;
            frame(root, x, y, dw, dh)?;
        }

        // Colour bar: frame, ticks at −max, −max/2, 0, max/2, max.
        let (cx, cy, cw, ch) = self.cbar;
        let (cw, ch) = (cw as i32, ch as i32);
        frame(root, cx, cy, cw, ch)?;
        root.draw(&Text::new(
            "attribution",
            (cx + cw / 2 + 12, cy - 16),
            style(SMALL_SIZE, &INK, HPos::Center, VPos::Center),
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
                style(SMALL_SIZE, &INK, HPos::Left, VPos::Center),
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
                    style(SMALL_SIZE, &INK, HPos::Right, VPos::Center),
                ))?;
            }
            root.draw(&Text::new(
                fit_text(&axes.row_label, LABEL_SIZE, 80, self.dh as u32),
                (xa - 9 - widest - 14, ya + dh / 2),
                style(LABEL_SIZE, &INK, HPos::Center, VPos::Center)
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
                        style(SMALL_SIZE, &INK, HPos::Center, VPos::Center),
                    ))?;
                }
                root.draw(&Text::new(
                    fit_text(&axes.col_label, LABEL_SIZE, 80, self.dw as u32),
                    (x + dw / 2, y + dh + 42),
                    style(LABEL_SIZE, &INK, HPos::Center, VPos::Center),
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

// ---------------------------------------------------------------------------------------------
// Audio
// ---------------------------------------------------------------------------------------------

struct AudioFigure<'a> {
    title: String,
    samples: &'a [f32],
    sample_rate: u32,
    segments: &'a [(usize, usize)],
    values: &'a [f64],
}

const AUDIO_WIDTH: u32 = 1000;
const AUDIO_HEIGHT: u32 = 660;
const AUDIO_TOP: i32 = 86;
const AUDIO_WAVE_H: i32 = 330;
const AUDIO_Y_LABELS: u32 = 72;

impl AudioFigure<'_> {
    fn seconds(&self, sample: usize) -> f64 {
        sample as f64 / f64::from(self.sample_rate)
    }
}

impl Figure for AudioFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (AUDIO_WIDTH, AUDIO_HEIGHT)
    }

    fn rasters(&self) -> &[Raster] {
        &[]
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw_title(root, &self.title)?;
        let m = max_abs(self.values);
        let scale = if m > 0.0 {
            "shading and bars: red positive, blue negative attribution, opacity ∝ |value|"
        } else {
            "all attributions are zero"
        };
        draw_note(
            root,
            &format!(
                "{}, {} Hz; {scale}",
                count(self.segments.len(), "segment", "segments"),
                self.sample_rate
            ),
            48,
            1,
        )?;
        let n = self.samples.len();
        let duration = self.seconds(n);
        let area = root.margin(AUDIO_TOP, 8, 16, 32);
        let (top, bottom) = area.split_vertically(AUDIO_WAVE_H);
        let label_style = || TextStyle::from(font(SMALL_SIZE)).color(&INK);
        let desc_style = || TextStyle::from(font(LABEL_SIZE)).color(&INK);

        // Waveform.
        let amp = self
            .samples
            .iter()
            .fold(0.0f64, |a, &s| a.max(f64::from(s).abs()));
        let amp = if amp > 0.0 { amp * 1.1 } else { 1.0 };
        let mut wave = ChartBuilder::on(&top)
            .margin_bottom(12)
            .x_label_area_size(30)
            .y_label_area_size(AUDIO_Y_LABELS)
            .build_cartesian_2d(
                TickAxis::new(0.0, duration, 10),
                TickAxis::new(-amp, amp, 5),
            )?;
        wave.configure_mesh()
            .set_all_tick_mark_size(TICK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .label_style(label_style())
            .y_desc("amplitude")
            .axis_desc_style(desc_style())
            .draw()?;
        wave.draw_series(self.segments.iter().zip(self.values).map(|(&(s, e), &v)| {
            let (color, alpha) = tint(v, m);
            Rectangle::new(
                [(self.seconds(s), -amp), (self.seconds(e), amp)],
                color.mix(alpha).filled(),
            )
        }))?;
        let mut bounds: Vec<usize> = self
            .segments
            .iter()
            .flat_map(|&(s, e)| [s, e])
            .filter(|&b| b > 0 && b < n)
            .collect();
        bounds.sort_unstable();
        bounds.dedup();
        wave.draw_series(bounds.iter().map(|&b| {
            let t = self.seconds(b);
            PathElement::new(vec![(t, -amp), (t, amp)], MUTED.stroke_width(1))
        }))?;
        let (plot_w, _) = wave.plotting_area().dim_in_pixel();
        wave.draw_series(std::iter::once(PathElement::new(
            envelope(self.samples, self.sample_rate, plot_w as usize),
            INK.stroke_width(1),
        )))?;
        // Segment numbers (feature indices) in a row above the waveform, where they fit.
        let (left, top_y) = wave.backend_coord(&(0.0, amp));
        let label_y = top_y - 12;
        root.draw(&Text::new(
            "segment",
            (left - 8, label_y),
            style(SMALL_SIZE, &MUTED, HPos::Right, VPos::Center),
        ))?;
        let mut last_end = i32::MIN;
        for (i, &(s, e)) in self.segments.iter().enumerate() {
            let (x0, _) = wave.backend_coord(&(self.seconds(s), amp));
            let (x1, _) = wave.backend_coord(&(self.seconds(e), amp));
            let label = i.to_string();
            let w = text_width(&label, SMALL_SIZE) as i32;
            let mid = (x0 + x1) / 2;
            if x1 - x0 >= w + 4 && mid - w / 2 > last_end + 4 {
                last_end = mid + w / 2;
                root.draw(&Text::new(
                    label,
                    (mid, label_y),
                    style(SMALL_SIZE, &MUTED, HPos::Center, VPos::Center),
                ))?;
            }
        }

        // One bar per segment, on the same time axis.
        let (vlo, vhi) = self
            .values
            .iter()
            .fold((0.0f64, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let (vlo, vhi) = if vhi > vlo {
            let pad = 0.1 * (vhi - vlo);
            (
                if vlo < 0.0 { vlo - pad } else { 0.0 },
                if vhi > 0.0 { vhi + pad } else { 0.0 },
            )
        } else {
            (-1.0, 1.0)
        };
        let mut bars = ChartBuilder::on(&bottom)
            .margin_top(8)
            .x_label_area_size(54)
            .y_label_area_size(AUDIO_Y_LABELS)
            .build_cartesian_2d(TickAxis::new(0.0, duration, 10), TickAxis::new(vlo, vhi, 5))?;
        bars.configure_mesh()
            .set_all_tick_mark_size(TICK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .label_style(label_style())
            .x_desc("time (s)")
            .y_desc("attribution")
            .axis_desc_style(desc_style())
            .draw()?;
        bars.draw_series(self.segments.iter().zip(self.values).map(|(&(s, e), &v)| {
            let (t0, t1) = (self.seconds(s), self.seconds(e));
            let gap = 0.08 * (t1 - t0);
            let color = if v < 0.0 { NEG } else { POS };
            Rectangle::new([(t0 + gap, 0.0), (t1 - gap, v)], color.filled())
        }))?;
        bars.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (duration, 0.0)],
            INK.stroke_width(1),
        )))?;
        Ok(())
    }
}

/// The waveform as a path: every sample when there are few, else the min and max of each of
/// `columns` pixel columns, zig-zagged so that the path fills the envelope.
fn envelope(samples: &[f32], sample_rate: u32, columns: usize) -> Vec<(f64, f64)> {
    let n = samples.len();
    let sr = f64::from(sample_rate);
    let columns = columns.max(1);
    if n <= 2 * columns {
        return samples
            .iter()
            .enumerate()
            .map(|(i, &s)| (i as f64 / sr, f64::from(s)))
            .collect();
    }
    let mut path = Vec::with_capacity(2 * columns);
    for c in 0..columns {
        let i0 = (c as u128 * n as u128 / columns as u128) as usize;
        let i1 = (((c + 1) as u128 * n as u128 / columns as u128) as usize).max(i0 + 1);
        let (lo, hi) = samples[i0..i1]
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| {
                (lo.min(f64::from(s)), hi.max(f64::from(s)))
            });
        let t = (i0 + i1) as f64 / 2.0 / sr;
        if c % 2 == 0 {
            path.push((t, lo));
            path.push((t, hi));
        } else {
            path.push((t, hi));
            path.push((t, lo));
        }
    }
    path
}
