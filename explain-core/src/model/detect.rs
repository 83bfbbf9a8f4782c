//! Detectors: a model's outputs decoded into box proposals, detections listed with a score
//! threshold and non-maximum suppression, and the D-RISE similarity of a target box to the
//! proposals of one image.
//!
//! A [`Detector`] names the layout of the model's outputs ([`Decoder`]) and how detections
//! are listed. [`Model::run`](crate::model::Model::run) on a detector returns, for every
//! input row, its *proposals*: `N` rows of `5 + C` values,
//! `[x0, y0, x1, y1, objectness, p_1 … p_C]`, in pixels of the model's input (x to the
//! right, y down). A single-class detector has `C = 0` and its score is the objectness; a
//! multi-class one has objectness 1 unless the model gives one, and class scores `p`.
//!
//! | decoder | outputs read (by position) | layout per image |
//! |---|---|---|
//! | `centerface` | 0 heatmap, 1 scale, 2 offset | `[1,h,w]`, `[2,h,w]`, `[2,h,w]` at stride `H/h` (CenterFace, deface's decode) |
//! | `boxes` | 0 boxes, 1 scores | `[N,4]` corners `x0,y0,x1,y1` in pixels (`boxes:normalized`: in `[0,1]`), `[N,C]` class scores (SSD, RetinaFace) |
//! | `yolo` | 0 rows | `[N,4+C]`: centre `cx,cy`, size `w,h` in pixels, class scores (`yolo:transposed`: `[4+C,N]`, as YOLOv8 exports) |
//!
//! The value the attribution explains for a target box `t` (D-RISE, Petsiuk et al., CVPR
//! 2021) is the best similarity over **all** proposals, before the score threshold and NMS,
//! so that it moves smoothly as features are masked:
//! `v = max_j IoU(t, box_j) · objectness_j · cos(onehot(class_t), p_j)`; the class factor
//! is 1 for a single-class detector and for a target given without a class.
//!
//! ```
//! use explain_core::model::detect::{Detection, TargetBox, iou, nms, similarity};
//! let a = [0.0, 0.0, 10.0, 10.0];
//! let b = [5.0, 0.0, 15.0, 10.0];
//! assert!((iou(&a, &b) - 1.0 / 3.0).abs() < 1e-6);
//! // Two proposals (C = 0): one on the target with score 0.9, one off it.
//! let proposals = [0.0, 0.0, 10.0, 10.0, 0.9, 20.0, 20.0, 30.0, 30.0, 0.8];
//! let t = TargetBox { bbox: a, class: None };
//! assert!((similarity(&t, &proposals, 5) - 0.9).abs() < 1e-6);
//! let kept = nms(&proposals, 5, 0.5, 0.3);
//! assert_eq!(kept.len(), 2);
//! assert_eq!(kept[0].score, 0.9);
//! ```

use crate::{Error, Result, bad_input};
use serde::{Deserialize, Serialize};

/// Proposal values before the class scores: the box corners and the objectness.
pub const BOX_VALUES: usize = 5;

/// Default score threshold for listing detections.
pub const DEFAULT_SCORE_THRESHOLD: f32 = 0.5;
/// Default IoU above which NMS suppresses the lower-scored of two detections (as deface).
pub const DEFAULT_NMS_IOU: f32 = 0.3;
/// IoU at which a detection matches a target or a ground-truth box.
pub const MATCH_IOU: f32 = 0.5;

/// How a detector's outputs are laid out (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    CenterFace,
    Boxes,
    BoxesNormalized,
    Yolo,
    YoloTransposed,
}

impl Decoder {
    /// How many leading outputs of the model the decoder reads.
    pub fn outputs(&self) -> usize {
        match self {
            Decoder::CenterFace => 3,
            Decoder::Boxes | Decoder::BoxesNormalized => 2,
            Decoder::Yolo | Decoder::YoloTransposed => 1,
        }
    }

    /// Proposals of one image from its outputs (`outputs[i]` with per-image shape
    /// `shapes[i]`, the batch axis removed), for an input of `height × width` pixels, appended
    /// to `out`. Returns the values per proposal (`5 + C`).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the outputs do not have the layout the decoder reads.
    pub fn decode(
        &self,
        outputs: &[&[f32]],
        shapes: &[Vec<usize>],
        (height, width): (usize, usize),
        out: &mut Vec<f32>,
    ) -> Result<usize> {
        let bad = |what: String| -> Error {
            Error::Model(format!(
                "the {self} decoder cannot read the model's outputs: {what}"
            ))
        };
        let shape = |i: usize| crate::util::limits::shape_string(&shapes[i]);
        match *self {
            Decoder::CenterFace => {
                let [heat, scale, offset] = [0, 1, 2].map(|i| outputs[i]);
                let (h, w) = match shapes[0].as_slice() {
                    [1, h, w] | [h, w] if *h > 0 && *w > 0 => (*h, *w),
                    _ => return Err(bad(format!("heatmap has shape {}, not [1,h,w]", shape(0)))),
                };
                let cells = h * w;
                if scale.len() != 2 * cells || offset.len() != 2 * cells {
                    return Err(bad(format!(
                        "scale {} and offset {} must be [2,{h},{w}] beside the heatmap [1,{h},{w}]",
                        shape(1),
                        shape(2)
                    )));
                }
                let stride = height as f32 / h as f32;
                let (fh, fw) = (height as f32, width as f32);
                out.reserve(cells * BOX_VALUES);
                for r in 0..h {
                    for c in 0..w {
                        let i = r * w + c;
                        let s0 = scale[i].exp() * stride;
                        let s1 = scale[cells + i].exp() * stride;
                        let (o0, o1) = (offset[i], offset[cells + i]);
                        let x0 = ((c as f32 + o1 + 0.5) * stride - s1 / 2.0).max(0.0).min(fw);
                        let y0 = ((r as f32 + o0 + 0.5) * stride - s0 / 2.0).max(0.0).min(fh);
                        out.extend_from_slice(&[
                            x0,
                            y0,
                            (x0 + s1).min(fw),
                            (y0 + s0).min(fh),
                            heat[i],
                        ]);
                    }
                }
                Ok(BOX_VALUES)
            }
            Decoder::Boxes | Decoder::BoxesNormalized => {
                let normalized = *self == Decoder::BoxesNormalized;
                let (boxes, scores) = (outputs[0], outputs[1]);
                if shapes[0].last() != Some(&4) {
                    return Err(bad(format!("boxes have shape {}, not [N,4]", shape(0))));
                }
                let n = boxes.len() / 4;
                if n == 0 || !scores.len().is_multiple_of(n) {
                    return Err(bad(format!(
                        "{n} boxes ({}) and scores {} do not pair up",
                        shape(0),
                        shape(1)
                    )));
                }
                let classes = scores.len() / n;
                let (sx, sy) = if normalized {
                    (width as f32, height as f32)
                } else {
                    (1.0, 1.0)
                };
                let corners = (0..n).map(|j| {
                    let b = &boxes[4 * j..4 * j + 4];
                    [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]
                });
                Ok(push_proposals(corners, scores, classes, out))
            }
            Decoder::Yolo | Decoder::YoloTransposed => {
                let transposed = *self == Decoder::YoloTransposed;
                let rows = outputs[0];
                let (n, k) = match (shapes[0].as_slice(), transposed) {
                    ([n, k], false) | ([1, n, k], false) => (*n, *k),
                    ([k, n], true) | ([1, k, n], true) => (*n, *k),
                    _ => return Err(bad(format!("rows have shape {}", shape(0)))),
                };
                if k < 5 {
                    return Err(bad(format!(
                        "rows have shape {}: fewer than 4 box values and one class score",
                        shape(0)
                    )));
                }
                let at = |j: usize, v: usize| {
                    if transposed {
                        rows[v * n + j]
                    } else {
                        rows[j * k + v]
                    }
                };
                let corners = (0..n).map(|j| {
                    let (cx, cy, w, h) = (at(j, 0), at(j, 1), at(j, 2), at(j, 3));
                    [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
                });
                let mut scores = Vec::with_capacity(n * (k - 4));
                for j in 0..n {
                    scores.extend((4..k).map(|v| at(j, v)));
                }
                Ok(push_proposals(corners, &scores, k - 4, out))
            }
        }
    }
}

/// Appends proposals from box corners and `classes` scores per box: one class becomes the
/// objectness (`C = 0`), more are class scores with objectness 1.
fn push_proposals(
    corners: impl Iterator<Item = [f32; 4]>,
    scores: &[f32],
    classes: usize,
    out: &mut Vec<f32>,
) -> usize {
    for (j, b) in corners.enumerate() {
        out.extend_from_slice(&b);
        let p = &scores[j * classes..(j + 1) * classes];
        if classes == 1 {
            out.push(p[0]);
        } else {
            out.push(1.0);
            out.extend_from_slice(p);
        }
    }
    if classes == 1 {
        BOX_VALUES
    } else {
        BOX_VALUES + classes
    }
}

crate::vocabulary!(Decoder, |s| format!(
    "unknown detector output layout '{s}': expected {}",
    Decoder::NAMES.join(", ")
), {
    CenterFace => "centerface",
    Boxes => "boxes",
    BoxesNormalized => "boxes:normalized",
    Yolo => "yolo",
    YoloTransposed => "yolo:transposed",
});

/// A detector: its output layout and how detections are listed from the proposals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Detector {
    #[serde(with = "crate::util::as_text")]
    #[schemars(with = "String")]
    pub decoder: Decoder,
    /// Only proposals scoring above this are detections.
    pub score_threshold: f32,
    /// NMS suppresses a detection whose IoU with a higher-scored one of its class is at
    /// least this.
    pub nms_iou: f32,
}

impl Detector {
    /// A detector with the default threshold and NMS.
    pub fn new(decoder: Decoder) -> Detector {
        Detector {
            decoder,
            score_threshold: DEFAULT_SCORE_THRESHOLD,
            nms_iou: DEFAULT_NMS_IOU,
        }
    }

    /// Checks the threshold and the NMS IoU lie in `[0, 1]`.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("score threshold", self.score_threshold),
            ("NMS IoU", self.nms_iou),
        ] {
            if !(0.0..=1.0).contains(&v) {
                bad_input!("the detector's {name} must lie in [0, 1], got {v}");
            }
        }
        Ok(())
    }

    /// The detections among one image's proposals (`width` values each).
    pub fn detections(&self, proposals: &[f32], width: usize) -> Vec<Detection> {
        nms(proposals, width, self.score_threshold, self.nms_iou)
    }
}

/// One detection: its box, its score (objectness × best class score) and class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Detection {
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    pub score: f32,
    /// The best class, for a multi-class detector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<usize>,
}

/// The box a detector explanation explains: from a detection of the unmasked image, or given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TargetBox {
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// The target's class; `None` compares boxes whatever their class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<usize>,
}

impl std::str::FromStr for TargetBox {
    type Err = Error;

    /// Parses `x0,y0,x1,y1` or `x0,y0,x1,y1,class` (pixels of the model's input).
    fn from_str(s: &str) -> Result<TargetBox> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let bad = || {
            Error::Input(format!(
                "invalid target box '{s}': expected x0,y0,x1,y1 or x0,y0,x1,y1,class (pixels, x0 < x1, y0 < y1)"
            ))
        };
        if parts.len() != 4 && parts.len() != 5 {
            return Err(bad());
        }
        let mut bbox = [0f32; 4];
        for (v, p) in bbox.iter_mut().zip(&parts) {
            *v = p.parse().map_err(|_| bad())?;
            if !v.is_finite() {
                return Err(bad());
            }
        }
        if bbox[0] >= bbox[2] || bbox[1] >= bbox[3] {
            return Err(bad());
        }
        let class = match parts.get(4) {
            Some(c) => Some(c.parse().map_err(|_| bad())?),
            None => None,
        };
        Ok(TargetBox { bbox, class })
    }
}

impl std::fmt::Display for TargetBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [x0, y0, x1, y1] = self.bbox;
        write!(f, "{x0},{y0},{x1},{y1}")?;
        if let Some(c) = self.class {
            write!(f, ",{c}")?;
        }
        Ok(())
    }
}

/// Intersection over union of two `x0,y0,x1,y1` boxes (0 when either is empty).
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

fn area(b: &[f32; 4]) -> f32 {
    (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0)
}

/// Score and best class of one proposal.
fn score_of(p: &[f32]) -> (f32, Option<usize>) {
    let objectness = p[4];
    let classes = &p[BOX_VALUES..];
    if classes.is_empty() {
        return (objectness, None);
    }
    let best = classes
        .iter()
        .enumerate()
        .fold(0, |b, (i, v)| if *v > classes[b] { i } else { b });
    (objectness * classes[best], Some(best))
}

/// Detections among `proposals` (`width` values each): those scoring above `threshold`,
/// best first (ties in proposal order), with every one whose IoU with a better one of the
/// same class is at least `nms_iou` suppressed (greedy NMS; both as deface's CenterFace).
pub fn nms(proposals: &[f32], width: usize, threshold: f32, nms_iou: f32) -> Vec<Detection> {
    let mut candidates: Vec<Detection> = proposals
        .chunks_exact(width)
        .filter_map(|p| {
            let (score, class) = score_of(p);
            (score > threshold && score.is_finite()).then_some(Detection {
                bbox: [p[0], p[1], p[2], p[3]],
                score,
                class,
            })
        })
        .collect();
    // Stable: equal scores keep proposal order.
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in candidates {
        if kept
            .iter()
            .all(|k| k.class != d.class || iou(&k.bbox, &d.bbox) < nms_iou)
        {
            kept.push(d);
        }
    }
    kept
}

/// The D-RISE similarity of target `t` to the best of `proposals` (`width` values each):
/// `max_j IoU(t, box_j) · objectness_j · class similarity` (see the module documentation).
pub fn similarity(t: &TargetBox, proposals: &[f32], width: usize) -> f64 {
    let mut best = 0f64;
    for p in proposals.chunks_exact(width) {
        let overlap = iou(&t.bbox, &[p[0], p[1], p[2], p[3]]);
        if overlap <= 0.0 {
            continue;
        }
        let classes = &p[BOX_VALUES..];
        let class = match (t.class, classes.is_empty()) {
            (Some(c), false) => {
                let norm = classes
                    .iter()
                    .map(|v| (*v as f64).powi(2))
                    .sum::<f64>()
                    .sqrt();
                match classes.get(c) {
                    Some(v) if norm > 0.0 => *v as f64 / norm,
                    _ => 0.0,
                }
            }
            _ => 1.0,
        };
        let v = overlap as f64 * p[4] as f64 * class;
        if v > best {
            best = v;
        }
    }
    best
}

/// Which decoder fits a model's declared outputs, when that can be told from their shapes
/// (for `explain inspect`).
pub fn suggest(outputs: &[crate::model::info::TensorInfo]) -> Option<(Decoder, &'static str)> {
    use crate::model::info::Dim;
    let dims = |i: usize| outputs.get(i).map(|o| o.shape.as_slice());
    let fixed = |d: &Dim, n: u64| matches!(d, Dim::Fixed(v) if *v == n);
    if outputs.len() >= 3
        && let (Some([_, h, _, _]), Some([_, s, _, _]), Some([_, o, _, _])) =
            (dims(0), dims(1), dims(2))
        && fixed(h, 1)
        && fixed(s, 2)
        && fixed(o, 2)
    {
        return Some((
            Decoder::CenterFace,
            "outputs 0-2 are a one-channel heatmap and two-channel scale and offset maps",
        ));
    }
    if let (Some([.., b]), Some([.., _])) = (dims(0), dims(1))
        && fixed(b, 4)
        && outputs.len() == 2
    {
        return Some((
            Decoder::Boxes,
            "output 0 ends in 4 box values and output 1 holds the scores",
        ));
    }
    if outputs.len() == 1
        && let Some([_, a, b]) = dims(0)
        && let (Dim::Fixed(a), Dim::Fixed(b)) = (a, b)
        && (*a >= 5 || *b >= 5)
        && a != b
    {
        // 4 + C is the axis of at least 5 values, the smaller one when both are (a detector
        // makes more proposals than it has classes).
        let transposed = *b < 5 || (*a >= 5 && a < b);
        return Some((
            if transposed {
                Decoder::YoloTransposed
            } else {
                Decoder::Yolo
            },
            if transposed {
                "one output [1, 4+C, N] of box rows, classes first (YOLOv8 style)"
            } else {
                "one output [1, N, 4+C] of box rows (YOLO style)"
            },
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centerface_decodes_as_deface() {
        // One cell at row 1, col 2 of a 2x4 map at stride 4 (an 8x16 image).
        let (h, w) = (2, 4);
        let mut heat = vec![0f32; h * w];
        heat[w + 2] = 0.9;
        let mut scale = vec![0f32; 2 * h * w];
        scale[w + 2] = 1f32.ln(); // s0 = 4
        scale[h * w + w + 2] = 2f32.ln(); // s1 = 8
        let mut offset = vec![0f32; 2 * h * w];
        offset[w + 2] = 0.25;
        let mut out = Vec::new();
        let width = Decoder::CenterFace
            .decode(
                &[&heat, &scale, &offset],
                &[vec![1, h, w], vec![2, h, w], vec![2, h, w]],
                (8, 16),
                &mut out,
            )
            .unwrap();
        assert_eq!(width, 5);
        let p = &out[(w + 2) * 5..(w + 3) * 5];
        // x0 = (2 + 0 + 0.5)·4 − 8/2 = 6; y0 = (1 + 0.25 + 0.5)·4 − 4/2 = 5.
        assert_eq!(p, &[6.0, 5.0, 14.0, 8.0, 0.9]);
        let d = Detector::new(Decoder::CenterFace).detections(&out, width);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].bbox, [6.0, 5.0, 14.0, 8.0]);
    }

    #[test]
    fn yolo_rows_and_transposed_agree() {
        // Two boxes, two classes: [cx, cy, w, h, p0, p1].
        let rows = [
            10.0, 10.0, 4.0, 4.0, 0.1, 0.7, 30.0, 30.0, 2.0, 2.0, 0.6, 0.2,
        ];
        let mut a = Vec::new();
        let wa = Decoder::Yolo
            .decode(&[&rows], &[vec![2, 6]], (64, 64), &mut a)
            .unwrap();
        let t: Vec<f32> = (0..6)
            .flat_map(|v| (0..2).map(move |j| rows[j * 6 + v]))
            .collect();
        let mut b = Vec::new();
        let wb = Decoder::YoloTransposed
            .decode(&[&t], &[vec![6, 2]], (64, 64), &mut b)
            .unwrap();
        assert_eq!((wa, &a), (wb, &b));
        assert_eq!(&a[..7], &[8.0, 8.0, 12.0, 12.0, 1.0, 0.1, 0.7]);
        let d = nms(&a, wa, 0.5, 0.3);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].class, d[0].score), (Some(1), 0.7));
        // Class similarity: cosine of the one-hot target class with the scores.
        let t = TargetBox {
            bbox: [8.0, 8.0, 12.0, 12.0],
            class: Some(1),
        };
        let cos = 0.7 / (0.1f64.powi(2) + 0.7f64.powi(2)).sqrt();
        assert!((similarity(&t, &a, wa) - cos).abs() < 1e-6);
    }

    #[test]
    fn boxes_normalized_and_one_class_is_objectness() {
        let boxes = [0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0];
        let scores = [0.8, 0.3];
        let mut out = Vec::new();
        let w = Decoder::BoxesNormalized
            .decode(
                &[&boxes, &scores],
                &[vec![2, 4], vec![2, 1]],
                (10, 20),
                &mut out,
            )
            .unwrap();
        assert_eq!(w, 5);
        assert_eq!(&out[..5], &[0.0, 0.0, 10.0, 5.0, 0.8]);
        assert_eq!(nms(&out, w, 0.5, 0.3).len(), 1);
        let e = Decoder::Boxes
            .decode(
                &[&boxes, &scores],
                &[vec![4, 2], vec![2, 1]],
                (10, 20),
                &mut out,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("not [N,4]"), "{e}");
    }

    #[test]
    fn nms_suppresses_overlaps_and_keeps_order() {
        let p = [
            0.0, 0.0, 10.0, 10.0, 0.6, //
            1.0, 0.0, 11.0, 10.0, 0.9, // overlaps the first (IoU 0.82)
            50.0, 50.0, 60.0, 60.0, 0.7, //
            0.0, 0.0, 1.0, 1.0, 0.2, // below threshold
        ];
        let d = nms(&p, 5, 0.5, 0.3);
        assert_eq!(
            d.iter().map(|d| d.score).collect::<Vec<_>>(),
            vec![0.9, 0.7]
        );
    }

    #[test]
    fn the_layout_is_suggested_from_declared_shapes() {
        use crate::model::info::{Dim, TensorInfo};
        let t = |dims: &[i64]| TensorInfo {
            name: "o".into(),
            dtype: "float32".into(),
            shape: dims
                .iter()
                .map(|&d| {
                    if d < 0 {
                        Dim::Symbolic("N".into())
                    } else {
                        Dim::Fixed(d as u64)
                    }
                })
                .collect(),
        };
        let s = |o: Vec<TensorInfo>| suggest(&o).map(|(d, _)| d);
        assert_eq!(
            s(vec![
                t(&[-1, 1, -1, -1]),
                t(&[-1, 2, -1, -1]),
                t(&[-1, 2, -1, -1]),
                t(&[-1, 10, -1, -1])
            ]),
            Some(Decoder::CenterFace)
        );
        assert_eq!(
            s(vec![t(&[-1, 100, 4]), t(&[-1, 100, 3])]),
            Some(Decoder::Boxes)
        );
        assert_eq!(s(vec![t(&[-1, 8400, 84])]), Some(Decoder::Yolo));
        assert_eq!(s(vec![t(&[-1, 84, 8400])]), Some(Decoder::YoloTransposed));
        assert_eq!(s(vec![t(&[-1, 5, 2])]), Some(Decoder::YoloTransposed));
        assert_eq!(s(vec![t(&[-1, 3])]), None);
        assert_eq!(s(vec![t(&[-1, 4]), t(&[-1, 10]), t(&[-1, 2])]), None);
    }

    #[test]
    fn target_box_parses_and_prints() {
        let t: TargetBox = "1,2,30.5,40".parse().unwrap();
        assert_eq!(t.bbox, [1.0, 2.0, 30.5, 40.0]);
        assert_eq!(t.to_string(), "1,2,30.5,40");
        assert_eq!("1,2,3,4,7".parse::<TargetBox>().unwrap().class, Some(7));
        for bad in ["1,2,3", "3,2,1,4", "a,b,c,d", "1,2,3,4,x", "1,2,NaN,4"] {
            assert!(bad.parse::<TargetBox>().is_err(), "{bad}");
        }
        assert_eq!(
            "yolo:transposed".parse::<Decoder>().unwrap(),
            Decoder::YoloTransposed
        );
        assert!(
            "ssd"
                .parse::<Decoder>()
                .unwrap_err()
                .to_string()
                .contains("centerface")
        );
    }
}
