//! Figures, PNG and SVG: attribution bars and image/audio/grid overlays ([`plot`]), the
//! validation and quality charts ([`charts`]), and which figures an attribution document gets
//! ([`figures`]).

pub mod charts;
pub mod figures;
pub mod plot;
