//! Which plots to draw for an attribution document: for every explanation a bar chart of the
//! top features with error bars, the overlay its input kind calls for (image, audio
//! waveform, or time-frequency grid), and its deletion and insertion curves when it has
//! quality figures. Files are named after the explanation's position and
//! input so that a directory of plots reads in order.

use super::{audio, bars, curves, overlay};
use crate::attribution::explainer::Attributions;
use crate::input::View;
use crate::{Error, Result, util::output};
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
        let target = e
            .detection
            .as_ref()
            .map_or_else(|| format!("target {}", e.target), |d| d.label());
        let title = format!(
            "{} · {} · {target} · f(x) {:.3}",
            e.input,
            doc.method.name(),
            e.prediction
        );
        bars::attribution_bars(
            &dir.join(format!("{stem}-bars")),
            &title,
            &e.feature_names,
            &e.values,
            &e.std_errors,
            TOP_K,
        )?;
        if let Some(q) = &e.quality {
            curves::quality_curves(
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
            } => overlay::image_overlay(
                &overlay,
                &title,
                rgb,
                *width,
                *height,
                pixel_features,
                &e.values,
                &marks(e),
            )?,
            View::Audio {
                samples,
                sample_rate,
                segments,
            } => {
                audio::audio_overlay(&overlay, &title, samples, *sample_rate, segments, &e.values)?
            }
            View::Grid {
                rows,
                cols,
                data,
                cell_features,
            } => overlay::grid_overlay(
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

/// Writes an attribution file and, when `plots` names a directory, its plots, so that a
/// failure leaves neither behind: the file is staged, the plots are drawn into a temporary
/// directory beside the plot directory ([`output::StagedDir`], never committed) and moved
/// into it, then the file is put in place.
/// `inputs` are the run's input files, which no output may replace.
pub fn write_attributions(
    out: &Path,
    doc: &Attributions,
    plots: Option<(&Path, &[View])>,
    inputs: &[std::path::PathBuf],
) -> Result<()> {
    output::check_output(out, inputs)?;
    let staged = output::Staged::new(out, &output::json_bytes(out, doc)?)?;
    if let Some((dir, views)) = plots {
        if dir
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(Error::Input(format!(
                "refusing to write plots into {}: it is a symbolic link; name the directory itself",
                dir.display()
            )));
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plots".into());
        let parent = output::parent_dir(dir);
        output::remove_stale(parent, &format!(".{name}.tmp-"), "");
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::Input(format!(
                "cannot create plot directory {}: {e}",
                parent.display()
            ))
        })?;
        let tmp = output::StagedDir::new(dir)?;
        let drawn = write_explanation_plots(tmp.path(), doc, views).and_then(|_| {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Input(format!(
                    "cannot create plot directory {}: {e}",
                    dir.display()
                ))
            })?;
            let mut names: Vec<_> = std::fs::read_dir(tmp.path())
                .map_err(|e| Error::Input(format!("cannot list {}: {e}", tmp.path().display())))?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for n in &names {
                output::check_output(&dir.join(n), inputs)?;
            }
            for n in names {
                std::fs::rename(tmp.path().join(&n), dir.join(&n)).map_err(|e| {
                    Error::Input(format!("cannot write {}: {e}", dir.join(&n).display()))
                })?;
            }
            Ok(())
        });
        // Dropped uncommitted: the temporary directory (now empty if all went well) goes.
        drop(tmp);
        drawn?;
    }
    staged.commit()
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

/// The boxes an image overlay draws for a detector explanation: the unmasked detections and
/// the explained box.
fn marks(e: &crate::artifact::attributions::Explanation) -> Vec<overlay::Mark> {
    let Some(d) = &e.detection else {
        return Vec::new();
    };
    let mut marks: Vec<overlay::Mark> = d
        .detections
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != d.index)
        .map(|(_, det)| overlay::Mark {
            bbox: det.bbox,
            target: false,
        })
        .collect();
    marks.push(overlay::Mark {
        bbox: d.target.bbox,
        target: true,
    });
    marks
}
