//! explain-core's integration tests, as one test binary: one module per area of the library
//! (figures, documents, diff, inventory, parsers, quality, …). Fixtures are in `tests/data/`.

mod charts;
mod detect;
mod diff;
mod documents;
mod html;
mod image;
mod inventory;
mod parsers;
mod plot;
mod quality;
mod segmentation;
