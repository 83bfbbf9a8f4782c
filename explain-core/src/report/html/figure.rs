//! Figures: each plot the report names, inlined once as a numbered `<figure>`
//! (`templates/figure.html`); a second mention links to the first, and a plot that is missing
//! or fails the [`svg`](super::svg) checks becomes a short note.

use crate::report::html::svg::{prepare_svg, read_svg};
use askama::Template;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

/// A figure's caption.
#[derive(Debug, Clone)]
pub(crate) enum Caption {
    /// Written by the page (shown as it is).
    Fixed(&'static str),
    /// Made with text from the report (escaped).
    Text(String),
}

impl Caption {
    /// The caption written by the page, if it is one.
    pub(crate) fn fixed(&self) -> &'static str {
        match self {
            Caption::Fixed(s) => s,
            Caption::Text(_) => "",
        }
    }

    /// The caption made with text from the report, if it is one.
    pub(crate) fn text(&self) -> &str {
        match self {
            Caption::Fixed(_) => "",
            Caption::Text(s) => s,
        }
    }
}

/// The figures of one page, numbered in the order they are placed.
pub(crate) struct Figures<'a> {
    dir: &'a Path,
    /// Plot path → the figure number it was inlined as.
    inlined: RefCell<BTreeMap<String, usize>>,
}

/// One plot as placed on the page.
#[derive(Template)]
#[template(path = "figure.html")]
pub(crate) struct Figure {
    rel: String,
    caption: Caption,
    kind: Kind,
}

/// What became of a plot.
enum Kind {
    /// Inlined as figure `n`.
    Inlined(usize, String),
    /// Already inlined as figure `n`.
    Seen(usize),
    /// Not found or not readable: why.
    Missing(String),
    /// Read but not inlined: why.
    Refused(&'static str),
}

impl<'a> Figures<'a> {
    /// No figures yet; plots are read from `dir`.
    pub(crate) fn new(dir: &'a Path) -> Figures<'a> {
        Figures {
            dir,
            inlined: RefCell::new(BTreeMap::new()),
        }
    }

    /// Places the plot at `rel` (relative to the report directory) as the next figure.
    pub(crate) fn place(&self, rel: &str, caption: Caption) -> Figure {
        let mut inlined = self.inlined.borrow_mut();
        let kind = if let Some(&n) = inlined.get(rel) {
            Kind::Seen(n)
        } else {
            match read_svg(self.dir, rel) {
                Err(why) => Kind::Missing(why),
                Ok(text) => {
                    let n = inlined.len() + 1;
                    match prepare_svg(&text, &format!("f{n}-")) {
                        Ok(svg) => {
                            inlined.insert(rel.to_string(), n);
                            Kind::Inlined(n, svg)
                        }
                        Err(why) => Kind::Refused(why),
                    }
                }
            }
        };
        Figure {
            rel: rel.to_string(),
            caption,
            kind,
        }
    }
}
