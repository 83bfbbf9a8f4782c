//! Which plots to draw for an attribution document: for every explanation a bar chart of the
//! top features with error bars, the overlay its input kind calls for (image, audio
//! waveform, or time-frequency grid), and its deletion and insertion curves when it has
//! quality figures. Files are named after the explanation's position and
//! input so that a directory of plots reads in order.

use crate::explainer::Attributions;
use crate::inputs::View;
use crate::{Error, Result, charts, plot};
use std::path::Path;

/// Features shown in a bar chart.
pub const TOP_K: usize = 15;

/// Writes `NN-<input>-bars.{png,svg}`, for images and audio `NN-<input>-overlay.{png,svg}`,
/// and for explanations with quality figures `NN-<input>-quality.{png,svg}` into `dir`
/// (created if missing). `views` are in the same order as the explanations.
pub fn write_explanation_plots(dir: &Path, doc: &Attributions, views: &[View]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::Input(format!(
            "cannot create plot directory {}: {e}",
            dir.display()
        ))
    })?;
    for (i, (e, view)) in doc.explanations.iter().zip(views).enumerate() {
        let stem = format!("{:02}-{}", i, file_stem(&e.input));
        let title = format!(
            "{} · {} · target {} · f(x) {:.3}",
            e.input,
            doc.method.name(),
            e.target,
            e.prediction
        );
        plot::attribution_bars(
            &dir.join(format!("{stem}-bars")),
            &title,
            &e.feature_names,
            &e.values,
            &e.std_errors,
            TOP_K,
        )?;
        if let Some(q) = &e.quality {
            charts::quality_curves(
                &format!(
                    "{} · {} · deletion and insertion curves",
                    e.input,
                    doc.method.name()
                ),
                &q.deletion,
                &q.insertion,
                &q.random_deletion,
                &q.random_insertion,
            )?
            .write(dir, &format!("{stem}-quality"))?;
        }
        let overlay = dir.join(format!("{stem}-overlay"));
        match view {
            View::Tensor => {}
            View::Image {
                width,
                height,
                rgb,
                pixel_features,
            } => plot::image_overlay(
                &overlay,
                &title,
                rgb,
                *width,
                *height,
                pixel_features,
                &e.values,
            )?,
            View::Audio {
                samples,
                sample_rate,
                segments,
            } => plot::audio_overlay(&overlay, &title, samples, *sample_rate, segments, &e.values)?,
            View::Grid {
                rows,
                cols,
                data,
                cell_features,
            } => plot::grid_overlay(
                &overlay,
                &title,
                data,
                *rows,
                *cols,
                cell_features,
                &e.values,
                "time",
                "frequency",
            )?,
        }
    }
    Ok(())
}

/// A file-name-safe version of an input name (`dir/a b.wav@0.036s` → `a_b.wav_0.036s`).
fn file_stem(input: &str) -> String {
    let base = input.rsplit('/').next().unwrap_or(input);
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
