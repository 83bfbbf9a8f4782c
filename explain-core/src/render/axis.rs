//! Axes: "nice" tick steps (1, 2 or 5 × 10^k) and their labels, whole-number index ticks,
//! a plotters axis that uses them ([`TickAxis`]), and the data extent a chart's axis is made
//! from ([`Extent`]).

use super::style::fmt_value;
use plotters::prelude::*;

/// Length of axis tick marks, in pixels.
pub(crate) const TICK: i32 = 5;

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
pub(crate) struct TickAxis {
    inner: plotters::coord::types::RangedCoordf64,
    ticks: Vec<f64>,
    step: f64,
}

impl TickAxis {
    /// About `target` nicely spaced ticks over `lo..hi`.
    pub(crate) fn new(lo: f64, hi: f64, target: usize) -> Self {
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
pub(crate) fn index_ticks(n: usize) -> Vec<f64> {
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

/// The data range of a chart, starting from a base range that is always shown.
pub(crate) struct Extent {
    base: (f64, f64),
    lo: f64,
    hi: f64,
}

impl Extent {
    /// The base range `lo..hi`, always shown.
    pub(crate) fn new(lo: f64, hi: f64) -> Self {
        Extent {
            base: (lo, hi),
            lo,
            hi,
        }
    }

    /// Widens the extent to hold `v`.
    pub(crate) fn add(&mut self, v: f64) {
        self.lo = self.lo.min(v);
        self.hi = self.hi.max(v);
    }

    /// [`Extent::add`] of a value that may be missing.
    pub(crate) fn add_opt(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.add(v);
        }
    }

    /// Widens the extent to hold an interval, if there is one.
    pub(crate) fn add_ci(&mut self, ci: Option<[f64; 2]>) {
        if let Some([lo, hi]) = ci {
            self.add(lo);
            self.add(hi);
        }
    }

    /// The axis: exactly the base range when the data fit in it and `fixed` (a proportion's
    /// `0..1`), otherwise the data range widened to whole multiples of a nice step.
    pub(crate) fn axis(&self, fixed: bool) -> Axis {
        let (mut lo, mut hi) = (self.lo, self.hi);
        if fixed && lo >= self.base.0 && hi <= self.base.1 && self.base.1 > self.base.0 {
            return Axis {
                lo: self.base.0,
                hi: self.base.1,
            };
        }
        if hi - lo <= 0.0 || !(hi - lo).is_finite() {
            hi = lo + 1.0;
        }
        let step = nice_step(hi - lo, 10);
        lo = (lo / step + 1e-9).floor() * step;
        hi = (hi / step - 1e-9).ceil() * step;
        Axis { lo, hi }
    }
}

/// The range of a chart's value axis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    /// Start.
    pub(crate) lo: f64,
    /// End.
    pub(crate) hi: f64,
}
