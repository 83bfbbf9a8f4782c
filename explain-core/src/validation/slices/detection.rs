//! Detection metrics: a detector's detections of every validation image matched against the
//! image's ground-truth boxes.
//!
//! **Ground truth**: a manifest column (default `boxes`) holds, per image, either inline boxes
//! `x0 y0 x1 y1;x0 y0 x1 y1` (numbers separated by spaces or commas; an empty cell is an image
//! without objects) or the path, relative to the manifest, of a `.json` file holding
//! `[[x0, y0, x1, y1], ...]`. Boxes are in pixels of the image file and are scaled to the
//! model's input size as the image is resized (a plain stretch, no letterbox).
//!
//! **Matching**, per image: detections (already thresholded and NMS'd) in descending score
//! order, each matched to the still unmatched ground-truth box of highest IoU when that IoU is
//! at least the match IoU ([`MATCH_IOU`], 0.5); a detection left without a box is a false
//! detection, a box left without a detection a miss.
//!
//! ```
//! use explain_core::model::detect::Detection;
//! use explain_core::validation::slices::detection::match_image;
//! let d = |bbox, score| Detection { bbox, score, class: None };
//! let gt = [[0.0, 0.0, 10.0, 10.0]];
//! // A duplicate of the box: the better one matches, the other is a false detection.
//! let m = match_image(&[d([0.0, 0.0, 10.0, 10.0], 0.9), d([1.0, 0.0, 10.0, 10.0], 0.8)], &gt, 0.5);
//! assert_eq!((m.matched, m.missed, m.false_detections), (1, 0, 1));
//! ```

pub use super::metrics::ImageMatch;
use super::metrics::{Extra, Prediction};
use crate::attribution::engine::Progress;
use crate::input;
use crate::model::Model;
use crate::model::detect::{Detection, iou};
use crate::validation::manifest::{Manifest, is_missing};
use crate::{Error, Result, bad_input};
use rayon::prelude::*;
use std::path::Path;

pub use crate::model::detect::MATCH_IOU;

/// Default manifest column of the ground-truth boxes.
pub const BOXES_COLUMN: &str = "boxes";

/// Greedy matching of one image (see the module documentation): `detections` in any order,
/// ground truth `gt`, both in the same pixel coordinates.
pub fn match_image(detections: &[Detection], gt: &[[f32; 4]], match_iou: f32) -> ImageMatch {
    let mut order: Vec<usize> = (0..detections.len()).collect();
    // Stable: equal scores keep the detector's order.
    order.sort_by(|&a, &b| detections[b].score.total_cmp(&detections[a].score));
    let mut taken = vec![false; gt.len()];
    let mut detected = Vec::with_capacity(detections.len());
    for i in order {
        let d = detections[i];
        let mut best: Option<(usize, f32)> = None;
        for (j, g) in gt.iter().enumerate() {
            if taken[j] {
                continue;
            }
            let o = iou(&d.bbox, g);
            if o >= match_iou && best.is_none_or(|(_, b)| o > b) {
                best = Some((j, o));
            }
        }
        if let Some((j, _)) = best {
            taken[j] = true;
        }
        detected.push((d, best.map(|(j, _)| j)));
    }
    let matched = taken.iter().filter(|&&t| t).count() as u64;
    ImageMatch {
        objects: gt.len() as u64,
        detections: detections.len() as u64,
        matched,
        missed: gt.len() as u64 - matched,
        false_detections: detections.len() as u64 - matched,
        detected,
    }
}

/// Parses one ground-truth cell: inline boxes, or a `.json` file relative to `dir`. The
/// error says what is wrong with the cell (the caller names the manifest, row and column).
pub fn parse_boxes(cell: &str, dir: &Path) -> std::result::Result<Vec<[f32; 4]>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(Vec::new());
    }
    if is_missing(cell) {
        return Err(format!(
            "'{cell}' is a missing value; an image without objects has an empty cell"
        ));
    }
    if cell.to_ascii_lowercase().ends_with(".json") {
        let path = dir.join(cell);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read boxes file {}: {e}", path.display()))?;
        let rows: Vec<Vec<f64>> = serde_json::from_str(&text).map_err(|e| {
            format!(
                "boxes file {} is not a JSON list of [x0, y0, x1, y1] boxes: {e}",
                path.display()
            )
        })?;
        return rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let v: Vec<f32> = r.iter().map(|&x| x as f32).collect();
                check_box(&v).map_err(|e| format!("box {} of {}: {e}", i + 1, path.display()))
            })
            .collect();
    }
    cell.split(';')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .enumerate()
        .map(|(i, b)| {
            let v = b
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<f32>())
                .collect::<std::result::Result<Vec<f32>, _>>()
                .map_err(|_| format!("box {} ('{b}') is not four numbers x0 y0 x1 y1", i + 1))?;
            check_box(&v).map_err(|e| format!("box {} ('{b}'): {e}", i + 1))
        })
        .collect()
}

fn check_box(v: &[f32]) -> std::result::Result<[f32; 4], String> {
    let [x0, y0, x1, y1] = v else {
        return Err(format!("{} values, not four (x0 y0 x1 y1)", v.len()));
    };
    if !v.iter().all(|x| x.is_finite()) || x0 >= x1 || y0 >= y1 {
        return Err("needs finite corners with x0 < x1 and y0 < y1".into());
    }
    Ok([*x0, *y0, *x1, *y1])
}

/// Every item's ground-truth boxes from column `column`, scaled from the image file's size to
/// the model input's (`size` = (height, width)) for image items. Errors name the manifest,
/// the line and the column.
pub fn ground_truth(
    manifest: &Manifest,
    column: &str,
    size: (usize, usize),
) -> Result<Vec<Vec<[f32; 4]>>> {
    let col = manifest.require(column)?;
    let dir = manifest.path.parent().unwrap_or(Path::new(""));
    (0..manifest.len())
        .map(|i| {
            let mut boxes = parse_boxes(&manifest.rows[i][col], dir).map_err(|e| {
                Error::Input(format!(
                    "manifest {}, line {}, column '{column}': {e}",
                    manifest.path.display(),
                    i + 2
                ))
            })?;
            let path = manifest.input_path(i);
            if input::is_image(&path) && !boxes.is_empty() {
                let (w, h) = ::image::image_dimensions(&path).map_err(|e| {
                    Error::Input(format!("cannot read image {}: {e}", path.display()))
                })?;
                let (sx, sy) = (size.1 as f32 / w as f32, size.0 as f32 / h as f32);
                if sx != 1.0 || sy != 1.0 {
                    for b in &mut boxes {
                        *b = [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy];
                    }
                }
            }
            Ok(boxes)
        })
        .collect()
}

/// Detects every item (`rows` flattened, one unmasked row each, in parallel; each row runs
/// alone, so results do not depend on batching) and matches the detections to `gt`.
pub fn predict(
    model: &Model,
    manifest: &Manifest,
    rows: &[f32],
    gt: &[Vec<[f32; 4]>],
    match_iou: f32,
    progress: &dyn Progress,
) -> Result<Vec<Prediction>> {
    let len = model.row_len();
    if rows.len() != manifest.len() * len || gt.len() != manifest.len() {
        bad_input!(
            "{} rows of {len} values expected for manifest {}, got {} values",
            manifest.len(),
            manifest.path.display(),
            rows.len()
        );
    }
    rows.par_chunks(len)
        .zip(gt)
        .enumerate()
        .map(|(i, (row, gt))| {
            let detections = model.detect(row)?;
            progress.advance(1);
            let m = match_image(&detections, gt, match_iou);
            Ok(Prediction {
                input: manifest.input(i).to_string(),
                label: 0,
                score: detections.first().map_or(0.0, |d| d.score as f64),
                predicted: 0,
                extra: Extra::Detection(m),
            })
        })
        .collect()
}

/// `predictions.csv` of a detection run: `input,objects,detections,matched,missed,
/// false_detections,detected`, where `detected` lists the detections best first as
/// `x0 y0 x1 y1 score gt` (model-input pixels; `gt` the index of the matched ground-truth box
/// in the manifest's order, or `-`), separated by `;`.
pub fn csv(items: &[Prediction]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "input",
        "objects",
        "detections",
        "matched",
        "missed",
        "false_detections",
        "detected",
    ])
    .expect("in memory");
    let empty = ImageMatch::default();
    for p in items {
        let m = match &p.extra {
            Extra::Detection(m) => m,
            _ => &empty,
        };
        let detected: Vec<String> = m
            .detected
            .iter()
            .map(|(d, gt)| {
                let [x0, y0, x1, y1] = d.bbox;
                let gt = gt.map_or("-".to_string(), |j| j.to_string());
                format!("{x0:.3} {y0:.3} {x1:.3} {y1:.3} {:.6} {gt}", d.score)
            })
            .collect();
        w.write_record([
            p.input.clone(),
            m.objects.to_string(),
            m.detections.to_string(),
            m.matched.to_string(),
            m.missed.to_string(),
            m.false_detections.to_string(),
            detected.join(";"),
        ])
        .expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(bbox: [f32; 4], score: f32) -> Detection {
        Detection {
            bbox,
            score,
            class: None,
        }
    }

    #[test]
    fn greedy_matching_by_hand() {
        let gt = [
            [0.0, 0.0, 10.0, 10.0],
            [20.0, 20.0, 30.0, 30.0],
            [40.0, 40.0, 50.0, 50.0],
        ];
        // Given out of order. Best first: 0.95 overlaps box 1 with IoU 50/150 = 1/3 < 0.5
        // (a false detection; box 1 is missed); 0.9 is on box 0; 0.7 duplicates box 0 (IoU
        // 0.9) after it was taken (a false detection); 0.6 is on box 2.
        let dets = [
            d([0.0, 0.0, 10.0, 9.0], 0.7), // IoU 0.9 with box 0, but box 0 is taken
            d([0.0, 0.0, 10.0, 10.0], 0.9), // box 0
            d([25.0, 20.0, 35.0, 30.0], 0.95),
            d([40.0, 40.0, 50.0, 50.0], 0.6), // box 2
        ];
        let m = match_image(&dets, &gt, MATCH_IOU);
        assert_eq!(
            (
                m.objects,
                m.detections,
                m.matched,
                m.missed,
                m.false_detections
            ),
            (3, 4, 2, 1, 2)
        );
        let got: Vec<(f32, Option<usize>)> =
            m.detected.iter().map(|(d, g)| (d.score, *g)).collect();
        assert_eq!(
            got,
            vec![(0.95, None), (0.9, Some(0)), (0.7, None), (0.6, Some(2))]
        );
        // IoU exactly 0.5 matches (at least the match IoU).
        let m = match_image(&[d([0.0, 0.0, 10.0, 5.0], 0.5)], &gt[..1], MATCH_IOU);
        assert_eq!(m.matched, 1);
        // A detection takes the box of highest IoU, leaving the other for a later one.
        let gt2 = [[0.0, 0.0, 10.0, 10.0], [2.0, 0.0, 12.0, 10.0]];
        let m = match_image(
            &[
                d([2.0, 0.0, 12.0, 10.0], 0.9),
                d([0.0, 0.0, 10.0, 10.0], 0.8),
            ],
            &gt2,
            MATCH_IOU,
        );
        assert_eq!((m.matched, m.false_detections), (2, 0));
        assert_eq!(m.detected[0].1, Some(1));
        // No ground truth: every detection is false; no detections: every box missed.
        let m = match_image(&dets, &[], MATCH_IOU);
        assert_eq!((m.false_detections, m.missed), (4, 0));
        let m = match_image(&[], &gt, MATCH_IOU);
        assert_eq!((m.false_detections, m.missed), (0, 3));
    }

    #[test]
    fn boxes_parse_inline_and_json() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(parse_boxes("", dir.path()).unwrap(), Vec::<[f32; 4]>::new());
        assert_eq!(
            parse_boxes("1 2 3 4; 5,6,7,8", dir.path()).unwrap(),
            vec![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]
        );
        std::fs::write(dir.path().join("b.json"), "[[0, 0, 2, 2.5]]").unwrap();
        assert_eq!(
            parse_boxes("b.json", dir.path()).unwrap(),
            vec![[0.0, 0.0, 2.0, 2.5]]
        );
        for bad in ["1 2 3", "1 2 x 4", "3 0 1 4", "NA", "gone.json"] {
            assert!(parse_boxes(bad, dir.path()).is_err(), "{bad}");
        }
        std::fs::write(dir.path().join("c.json"), "{\"boxes\": 1}").unwrap();
        assert!(parse_boxes("c.json", dir.path()).is_err());
    }
}
