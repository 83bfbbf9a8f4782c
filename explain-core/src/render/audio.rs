//! The audio overlay: a waveform over time with each segment's background shaded by its
//! attribution, above a panel with one bar per segment on the same time axis. Unlike the
//! image and grid overlays it has no rasters: both panels are plotters charts on a shared
//! time axis, which is why it is a room of its own.

use super::axis::{TICK, TickAxis};
use super::checks::{check_finite, describe};
use super::overlay::{max_abs, tint};
use super::style::{
    GRID, INK, LABEL_SIZE, MUTED, NEG, POS, SMALL_SIZE, count, draw_note, draw_title, font,
    text_style, text_width,
};
use super::{DrawResult, Figure, Finish, ensure_font, write_plot};
use crate::{Result, bad_input};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

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
/// [`Error::Input`](crate::Error::Input) naming the file when there are no samples, the sample rate is zero, the
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
    write_plot(stem, &fig)
}

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
    const FINISH: Finish = Finish::Backdrop;

    fn size(&self) -> (u32, u32) {
        (AUDIO_WIDTH, AUDIO_HEIGHT)
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
            text_style(SMALL_SIZE, MUTED, HPos::Right, VPos::Center),
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
                    text_style(SMALL_SIZE, MUTED, HPos::Center, VPos::Center),
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
