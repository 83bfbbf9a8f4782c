//! `report.html`: the report as one self-contained page a reviewer opens in a browser or prints.
//!
//! [`render`] takes the typed [`Report`] and fills askama templates (compiled in, so a field
//! that is renamed or removed does not compile): `templates/report.html` is the page, with one
//! partial per part of it (`header`, `summary`, `contents`, then the numbered sections
//! `identification`, `intended_use`, `data`, `protocol`, `performance`, `disparities`,
//! `explanations`, `limitations`, `reproducibility`) and smaller partials for what repeats
//! (a dataset, value counts, a method, an item, a verdict, a grid of figures). The templates
//! read the report's fields directly; [`view`] computes what they cannot (orders, counts,
//! cells) and [`format`] writes numbers and labels as text. The SVG plots the report names
//! are read from the report directory and inlined ([`figure`], checked by [`svg`]).
//!
//! The page is built to be handed over as evidence:
//!
//! * **Self-contained.** One inline `<style>` (`report.css`), no `<script>`, no web fonts, no
//!   `src=` and no link but internal `#anchors`. Plots are inlined as SVG (their XML prolog
//!   and doctype dropped, a `viewBox` added when they only state width and height, element
//!   ids prefixed so that two plots cannot clash). An SVG is only inlined when it holds no
//!   script, no event handler, no foreign object and no reference but `#anchors` and embedded
//!   `data:image/` rasters; otherwise, and when a plot file is missing, the page says so in a
//!   short note. Each plot file is inlined once; a second mention links to the first.
//! * **Escaped.** Every string from the report (titles, slice values, datasheet text) is
//!   HTML-escaped by askama as the templates write it (with the named entities of
//!   [`format::Entities`], set in `explain-core/askama.toml`); only the checked SVG and the
//!   parameters' JSON (in a `<pre>`, `&`, `<` and `>` escaped, quotes kept) go in as they are.
//! * **Deterministic.** The same report and plot files give the same bytes: there is no
//!   generation timestamp, and the `timing` block, the only part of `report.json` that changes
//!   from run to run, is not on the page (nor is `reproducibility.page`, the page's own hash).
//!   So `report.json` can record the page's hash and `explain verify` re-render and compare it.
//! * **Readable and printable.** At most ~1100 px wide, system fonts; in print, each numbered
//!   section starts a page, tables and figures are kept whole where they fit, and verdicts are
//!   marked by text and colour, not by background.
//!
//! The templates' whitespace is controlled by hand (`{%-` trims the line break before a tag),
//! so that the page keeps its exact bytes: the committed reference pages are checked against
//! them.

use crate::artifact::report::Report;
use crate::{Error, Result};
use askama::Template;
use std::path::Path;

mod figure;
mod format;
mod svg;
mod view;

use figure::{Caption, Figures};
use view::{Sheet, View};

/// The page's style sheet (`report/html/report.css`), inlined into every page.
const CSS: &str = include_str!("report.css");

/// Renders the report as one self-contained HTML page. SVG plots named in the report (paths
/// relative to `dir`, e.g. "plots/slices-surface-accuracy.svg", "plots/items/00-foo-overlay.svg",
/// "plots/disparities.svg") are read from `dir` and inlined.
pub fn render(report: &Report, dir: &Path) -> Result<String> {
    let title = match report.title.trim() {
        "" => "Model report",
        _ => &report.title,
    };
    Page {
        r: report,
        view: View { r: report },
        title,
        css: CSS,
        figures: Figures::new(dir),
    }
    .render()
    .map_err(|e| Error::Input(format!("cannot render the report page: {e}")))
}

/// The page: the report, and the figures numbered as they are placed.
#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    r: &'a Report,
    /// What the templates show but cannot read off the report directly.
    view: View<'a>,
    title: &'a str,
    css: &'static str,
    figures: Figures<'a>,
}

impl Page<'_> {
    /// One plot as a `<figure>` with the SVG inline, a link to where it already is, or a note
    /// when it cannot be inlined.
    fn figure(&self, rel: &str, caption: Caption) -> figure::Figure {
        self.figures.place(rel, caption)
    }
}
