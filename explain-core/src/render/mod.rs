//! Figures, PNG and SVG, through one pipeline: every figure is a [`Figure`] (a size, raster
//! blocks beneath, vector content drawn with plotters), [`render`] draws it to both formats in
//! memory as a [`Chart`], and [`Chart::write`] puts the pair in place atomically.
//!
//! The rooms, in the order they build on each other:
//!
//! * this file: the [`Figure`] trait, [`render`] and its one SVG finishing step, the bundled
//!   font's registration, PNG and base64 encoding, [`Chart`] and how it is written;
//! * [`checks`]: the input checks every figure function makes first, and how errors name it;
//! * [`style`]: the one palette, the type scale, text measuring and fitting, how numbers and
//!   counts are written, titles and notes;
//! * [`axis`]: nice ticks, tick labels, data extents;
//! * [`rows`]: the layout engine of the report's row charts (one row per item on a
//!   horizontal axis, with legend, reference lines and annotation columns);
//! * [`validation`]: the validation record's row charts (metric by slice, disparities,
//!   profile distances);
//! * [`bars`]: attribution bars of one explanation and global importance;
//! * [`overlay`]: image and grid overlays (two raster panels and a colour bar);
//! * [`audio`]: the audio overlay (waveform and bars on one time axis; a room of its own
//!   because it is plotters charts, not raster panels, and would make `overlay` too long);
//! * [`curves`]: the deletion and insertion curves of one explained item;
//! * [`figures`]: which figures an attribution document gets, and writing them with it.
//!
//! Output is deterministic: the same inputs give byte-identical PNG and SVG files (no
//! timestamps, integer layout); text is set in the bundled DejaVu Sans, so that nothing
//! depends on the fonts installed on the machine. Rasters (image and heat-map panels, colour
//! bars) are embedded in the SVG as PNG data; axes, labels and bars stay vector.

pub mod audio;
pub mod axis;
pub mod bars;
pub mod checks;
pub mod curves;
pub mod figures;
pub mod overlay;
pub mod rows;
pub mod style;
pub mod validation;

use crate::util::output::Staged;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// The one font family used; it is registered from the bundled DejaVu Sans.
pub(crate) const FAMILY: &str = "sans-serif";

static FONT_INIT: Once = Once::new();
static FONT_OK: AtomicBool = AtomicBool::new(false);

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

/// What drawing on a plotters backend returns.
pub(crate) type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A pixel block placed at `(x, y)` of the figure, drawn beneath the vector content.
pub(crate) struct Raster {
    x: i32,
    y: i32,
    w: usize,
    h: usize,
    /// `h × w × 3` bytes, row-major.
    rgb: Vec<u8>,
}

impl Raster {
    /// A white `w × h` block at `(x, y)`.
    pub(crate) fn new(x: i32, y: i32, w: usize, h: usize) -> Self {
        Raster {
            x,
            y,
            w,
            h,
            rgb: vec![255; w * h * 3],
        }
    }

    /// Sets pixel `(px, py)` of the block.
    pub(crate) fn set(&mut self, px: usize, py: usize, c: [u8; 3]) {
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

/// How [`render`] finishes a figure's SVG. The attribution plots and the report charts were
/// drawn by two pipelines whose SVGs differ in two details; both are kept, so that no file
/// the project has written changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// The attribution plots: a white backdrop goes under what was drawn (with the rasters),
    /// and text names the registered family, `sans-serif`.
    Backdrop,
    /// The report charts: the figure paints its own background, and text names DejaVu Sans
    /// first, the font the layout was measured with, so that viewers that have it (and an
    /// HTML page inlining the SVG) lay the text out as in the PNG; others fall back to their
    /// own sans-serif.
    NamedFont,
}

/// A figure that can be drawn on any plotters backend.
pub(crate) trait Figure {
    /// How its SVG is finished.
    const FINISH: Finish;
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Pixel blocks beneath the vector content.
    fn rasters(&self) -> &[Raster] {
        &[]
    }
    /// Draws the vector content (text, axes, bars, frames) on a white-backed area.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// A figure that could not be drawn: which format failed and why, for the caller to name.
#[derive(Debug)]
pub(crate) struct DrawFailed {
    /// `png` or `svg`.
    pub ext: &'static str,
    /// What the plotting library said.
    pub error: String,
}

impl DrawFailed {
    /// The error, naming the figure as `what`.
    pub(crate) fn naming(self, what: impl std::fmt::Display) -> Error {
        Error::Input(format!("cannot draw {what}: {}", self.error))
    }
}

/// Renders `fig` to a PNG and an SVG of the same figure, in memory (the bundled font must be
/// registered, [`ensure_font`]).
pub(crate) fn render<F: Figure>(fig: &F) -> std::result::Result<Chart, DrawFailed> {
    let failed = |ext| move |e: String| DrawFailed { ext, error: e };
    let png = render_png(fig).map_err(failed("png"))?;
    let svg = render_svg(fig).map_err(failed("svg"))?;
    Ok(Chart { png, svg })
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

/// RGB pixels as a PNG file's bytes.
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
    finish_svg(svg, F::FINISH, (w, h), fig.rasters())
}

/// The one SVG post-processing step: what goes under the drawing (the backdrop, the rasters as
/// embedded PNGs, right after the opening `<svg>` tag so that everything plotters drew lies on
/// top), and the font family text names.
fn finish_svg(
    mut svg: String,
    finish: Finish,
    (w, h): (u32, u32),
    rasters: &[Raster],
) -> std::result::Result<String, String> {
    const NS: &str = "xmlns=\"http://www.w3.org/2000/svg\"";
    let mut under = String::new();
    if finish == Finish::Backdrop {
        under.push_str(&format!(
            "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\"/>\n"
        ));
    }
    for r in rasters {
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
    if !under.is_empty() {
        let open_end = svg
            .find(">\n")
            .filter(|&i| svg[..i].contains(NS))
            .ok_or("unexpected SVG output from the plotting library")?;
        svg.insert_str(open_end + 2, &under);
    }
    if !rasters.is_empty() {
        svg = svg.replacen(
            NS,
            &format!("{NS} xmlns:xlink=\"http://www.w3.org/1999/xlink\""),
            1,
        );
    }
    if finish == Finish::NamedFont {
        svg = svg.replace(
            &format!("font-family=\"{FAMILY}\""),
            "font-family=\"DejaVu Sans, Bitstream Vera Sans, sans-serif\"",
        );
    }
    Ok(svg)
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One figure, rendered both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The PNG file's bytes (RGB).
    pub png: Vec<u8>,
    /// The SVG document (same size and content; text as `<text>` elements).
    pub svg: String,
}

impl Chart {
    /// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg`, each atomically (creating `dir` if
    /// needed); if the SVG cannot be put in place the PNG is removed again, so that no half
    /// pair is left behind.
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
        self.write_beside(&dir.join(stem))
    }

    /// Writes `<stem>.png` and `<stem>.svg` (keeping any dots already in the stem; the
    /// directory must exist): both are staged through [`Staged`] before either is put in
    /// place, and the PNG is removed again if the SVG cannot be.
    pub(crate) fn write_beside(&self, stem: &Path) -> Result<()> {
        let png_path = sibling(stem, "png");
        let png = Staged::new(&png_path, &self.png)?;
        let svg = Staged::new(&sibling(stem, "svg"), self.svg.as_bytes())?;
        png.commit()?;
        if let Err(e) = svg.commit() {
            let _ = std::fs::remove_file(&png_path);
            return Err(e);
        }
        Ok(())
    }
}

/// Renders an attribution plot and writes it as `<stem>.png` and `<stem>.svg`
/// ([`Chart::write_beside`]); a drawing error names the file that failed.
pub(crate) fn write_plot<F: Figure>(stem: &Path, fig: &F) -> Result<()> {
    render(fig)
        .map_err(|e| {
            let path = sibling(stem, e.ext);
            e.naming(path.display())
        })?
        .write_beside(stem)
}

/// `<stem>.<ext>`, keeping any dots already in the stem.
pub(crate) fn sibling(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}
