//! Image segmentation into features: fixed grids and a deterministic SLIC.
//!
//! Both functions return one `u32` label per pixel in row-major (raster) order, with labels
//! `0..K` contiguous. The labels depend only on the inputs: the same image and parameters give
//! bit-identical labels on every run and for any rayon thread count.

use rayon::prelude::*;

use crate::{Result, bad_input};

/// Number of k-means iterations SLIC runs (Achanta et al. 2012 report 10 suffice).
pub const SLIC_ITERATIONS: usize = 10;

/// Row-major grid cell of every pixel: `id = (y * rows / height) * cols + (x * cols / width)`
/// (integer division), so the image is cut into `rows × cols` cells of nearly equal size and
/// the ids `0..rows*cols` are numbered left to right, top to bottom.
///
/// Errors (`Error::Input`) when the image is empty, `rows` or `cols` is 0, or the grid is finer
/// than the image (`rows > height` or `cols > width`), which would leave cells without pixels.
pub fn grid(width: usize, height: usize, rows: usize, cols: usize) -> Result<Vec<u32>> {
    if width == 0 || height == 0 {
        bad_input!("cannot cut an empty image ({width}x{height} pixels) into a grid");
    }
    if rows == 0 || cols == 0 {
        bad_input!("grid {rows}x{cols} (rows x cols) is invalid: rows and cols must be at least 1");
    }
    if rows > height || cols > width {
        bad_input!(
            "grid {rows}x{cols} (rows x cols) is finer than the {width}x{height} (WxH) image: \
             at most {height} rows and {width} cols fit"
        );
    }
    let cells = rows as u128 * cols as u128;
    if cells > u32::MAX as u128 {
        bad_input!("grid {rows}x{cols} has too many cells ({cells})");
    }
    let col_of: Vec<u32> = (0..width).map(|x| (x * cols / width) as u32).collect();
    let mut ids = Vec::with_capacity(width * height);
    for y in 0..height {
        let base = (y * rows / height * cols) as u32;
        ids.extend(col_of.iter().map(|&c| base + c));
    }
    Ok(ids)
}

/// Number of distinct labels.
pub fn count(labels: &[u32]) -> usize {
    let mut seen: Vec<u32> = labels.to_vec();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// One SLIC cluster centre: CIELAB colour and position (x = column, y = row), all f64.
#[derive(Debug, Clone, Copy)]
struct Centre {
    l: f64,
    a: f64,
    b: f64,
    x: f64,
    y: f64,
}

/// Deterministic SLIC superpixels (Achanta et al., TPAMI 2012) on an sRGB image.
///
/// * `rgb`: `height * width * 3` values, row-major, channels R,G,B, sRGB-encoded in `[0, 1]`.
///   Must be finite.
/// * `width`, `height`: image size in pixels (both at least 1).
/// * `n_segments` (K): the desired number of superpixels, at least 1. Values above the number of
///   pixels N are clamped to N. The result usually has roughly K segments (fewer where centres
///   lose all their pixels, a few more where a cluster splits into large disconnected pieces).
/// * `compactness` (m): weight of spatial distance against colour distance, finite and `>= 0`.
///   Typical: 10 (CIELAB units); larger gives squarer segments, smaller hugs colour edges.
///
/// The algorithm, in f64 throughout:
/// 1. sRGB → linear → XYZ (D65) → CIELAB.
/// 2. `S = sqrt(N / K)`; centres on a raster-ordered grid at `S/2 + i·S` (at least one per
///    axis), each moved to the pixel of least Lab gradient in its 3×3 neighbourhood (ties: the
///    first in raster order).
/// 3. [`SLIC_ITERATIONS`] iterations: each pixel takes the centre minimising
///    `D = |Δlab|² + (m/S)²·|Δxy|²` among the centres whose 2S×2S window covers it (ties: the
///    lower centre index; a pixel no window covers compares all centres); then each centre
///    becomes the mean of its pixels, summed sequentially in raster order (a centre with no
///    pixels stays where it is).
/// 4. Connectivity: 4-connected components are labelled in raster order; a component smaller
///    than `S²/4` pixels is merged into the segment of the pixel left of (else above) its first
///    pixel in raster order; segments are numbered in raster order of first appearance.
///
/// Guarantees: every label `0..K'` is used, labels appear in raster order of first appearance,
/// every segment is 4-connected, and the labels are bit-identical for any number of threads
/// (only the per-pixel assignment runs in parallel, and it is order-free).
pub fn slic(
    rgb: &[f32],
    width: usize,
    height: usize,
    n_segments: usize,
    compactness: f64,
) -> Result<Vec<u32>> {
    if width == 0 || height == 0 {
        bad_input!("cannot segment an empty image ({width}x{height} pixels)");
    }
    let n = width
        .checked_mul(height)
        .filter(|n| n.checked_mul(3).is_some() && *n <= u32::MAX as usize);
    let Some(n) = n else {
        bad_input!("image of {width}x{height} pixels is too large to segment");
    };
    if rgb.len() != n * 3 {
        bad_input!(
            "SLIC needs {} RGB values for a {width}x{height} image, got {}",
            n * 3,
            rgb.len()
        );
    }
    if n_segments == 0 {
        bad_input!("SLIC needs at least 1 segment, got n_segments = 0");
    }
    if !compactness.is_finite() || compactness < 0.0 {
        bad_input!("SLIC compactness must be a finite number >= 0, got {compactness}");
    }
    if let Some(i) = rgb.iter().position(|v| !v.is_finite()) {
        bad_input!(
            "SLIC input pixel ({}, {}) has a non-finite value {}",
            (i / 3) % width,
            (i / 3) / width,
            rgb[i]
        );
    }
    let k = n_segments.min(n);
    let lab = to_lab(rgb);
    let s = (n as f64 / k as f64).sqrt();

    let mut centres = initial_centres(&lab, width, height, s);
    let weight = (compactness / s).powi(2);
    let mut labels = vec![0u32; n];
    for _ in 0..SLIC_ITERATIONS {
        assign(&lab, width, &centres, s, weight, &mut labels);
        update_centres(&lab, width, &labels, &mut centres);
    }
    let min_size = s * s / 4.0;
    Ok(enforce_connectivity(&labels, width, height, min_size))
}

/// sRGB (0..1) to CIELAB under D65, in f64.
fn to_lab(rgb: &[f32]) -> Vec<[f64; 3]> {
    fn linear(c: f64) -> f64 {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    fn f(t: f64) -> f64 {
        const D: f64 = 6.0 / 29.0;
        if t > D * D * D {
            t.cbrt()
        } else {
            t / (3.0 * D * D) + 4.0 / 29.0
        }
    }
    const XN: f64 = 0.95047;
    const YN: f64 = 1.0;
    const ZN: f64 = 1.08883;
    rgb.par_chunks_exact(3)
        .map(|p| {
            let r = linear(p[0] as f64);
            let g = linear(p[1] as f64);
            let b = linear(p[2] as f64);
            let x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
            let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
            let z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
            let (fx, fy, fz) = (f(x / XN), f(y / YN), f(z / ZN));
            [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
        })
        .collect()
}

fn dist2(p: &[f64; 3], q: &[f64; 3]) -> f64 {
    let (d0, d1, d2) = (p[0] - q[0], p[1] - q[1], p[2] - q[2]);
    d0 * d0 + d1 * d1 + d2 * d2
}

/// Grid positions along one axis of `len` pixels: `floor(S/2 + i*S)` while inside, at least one
/// (the middle pixel) when even the first does not fit.
fn axis_positions(len: usize, s: f64) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0usize;
    loop {
        let p = s / 2.0 + i as f64 * s;
        if p >= len as f64 {
            break;
        }
        out.push((p.floor() as usize).min(len - 1));
        i += 1;
    }
    if out.is_empty() {
        out.push((len - 1) / 2);
    }
    out
}

/// Raster-ordered grid centres, each moved to the least-gradient pixel of its 3×3 neighbourhood.
fn initial_centres(lab: &[[f64; 3]], width: usize, height: usize, s: f64) -> Vec<Centre> {
    let at = |x: usize, y: usize| &lab[y * width + x];
    let gradient = |x: usize, y: usize| {
        let (xl, xr) = (x.saturating_sub(1), (x + 1).min(width - 1));
        let (yu, yd) = (y.saturating_sub(1), (y + 1).min(height - 1));
        dist2(at(xr, y), at(xl, y)) + dist2(at(x, yd), at(x, yu))
    };
    let xs = axis_positions(width, s);
    let ys = axis_positions(height, s);
    let mut centres = Vec::with_capacity(xs.len() * ys.len());
    for &cy in &ys {
        for &cx in &xs {
            let mut best = (cx, cy);
            let mut best_g = f64::INFINITY;
            for y in cy.saturating_sub(1)..=(cy + 1).min(height - 1) {
                for x in cx.saturating_sub(1)..=(cx + 1).min(width - 1) {
                    let g = gradient(x, y);
                    if g < best_g {
                        best_g = g;
                        best = (x, y);
                    }
                }
            }
            let p = at(best.0, best.1);
            centres.push(Centre {
                l: p[0],
                a: p[1],
                b: p[2],
                x: best.0 as f64,
                y: best.1 as f64,
            });
        }
    }
    centres
}

/// Each pixel takes the nearest centre (SLIC distance) among those whose 2S×2S window covers it.
/// Rows are independent, so this runs in parallel without affecting the result.
fn assign(
    lab: &[[f64; 3]],
    width: usize,
    centres: &[Centre],
    s: f64,
    weight: f64,
    labels: &mut [u32],
) {
    let distance = |c: &Centre, p: &[f64; 3], x: f64, y: f64| {
        let (dl, da, db) = (p[0] - c.l, p[1] - c.a, p[2] - c.b);
        let (dx, dy) = (x - c.x, y - c.y);
        (dl * dl + da * da + db * db) + weight * (dx * dx + dy * dy)
    };
    labels
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(y, row)| {
            let yf = y as f64;
            let lab_row = &lab[y * width..(y + 1) * width];
            let mut best_d = vec![f64::INFINITY; width];
            row.fill(u32::MAX);
            // Centres whose window covers this row, in index order; a strictly smaller
            // distance wins, so ties go to the lower index.
            for (i, c) in centres.iter().enumerate() {
                if (c.y - yf).abs() > s {
                    continue;
                }
                let lo = (c.x - s).floor().max(0.0) as usize;
                let hi = ((c.x + s).ceil().max(0.0) as usize).min(width - 1);
                for x in lo..=hi {
                    let xf = x as f64;
                    if (c.x - xf).abs() > s {
                        continue;
                    }
                    let d = distance(c, &lab_row[x], xf, yf);
                    if d < best_d[x] {
                        best_d[x] = d;
                        row[x] = i as u32;
                    }
                }
            }
            for (x, label) in row.iter_mut().enumerate() {
                if *label != u32::MAX {
                    continue;
                }
                // No window covers this pixel (centres drifted away): compare all centres.
                let xf = x as f64;
                let mut best = 0usize;
                let mut best_d = f64::INFINITY;
                for (i, c) in centres.iter().enumerate() {
                    let d = distance(c, &lab_row[x], xf, yf);
                    if i == 0 || d < best_d {
                        best_d = d;
                        best = i;
                    }
                }
                *label = best as u32;
            }
        });
}

/// Centres become the f64 mean of their pixels, summed sequentially in raster order.
fn update_centres(lab: &[[f64; 3]], width: usize, labels: &[u32], centres: &mut [Centre]) {
    let mut sums = vec![[0.0f64; 5]; centres.len()];
    let mut counts = vec![0usize; centres.len()];
    for (i, (&label, p)) in labels.iter().zip(lab).enumerate() {
        let s = &mut sums[label as usize];
        s[0] += p[0];
        s[1] += p[1];
        s[2] += p[2];
        s[3] += (i % width) as f64;
        s[4] += (i / width) as f64;
        counts[label as usize] += 1;
    }
    for ((c, s), &k) in centres.iter_mut().zip(&sums).zip(&counts) {
        if k > 0 {
            let k = k as f64;
            *c = Centre {
                l: s[0] / k,
                a: s[1] / k,
                b: s[2] / k,
                x: s[3] / k,
                y: s[4] / k,
            };
        }
    }
}

/// Labels 4-connected components of equal `labels` in raster order; a component smaller than
/// `min_size` joins the segment of the pixel left of (else above) its first pixel. Returns
/// contiguous labels in raster order of first appearance.
fn enforce_connectivity(labels: &[u32], width: usize, height: usize, min_size: f64) -> Vec<u32> {
    const UNSET: u32 = u32::MAX;
    let n = width * height;
    let mut out = vec![UNSET; n];
    let mut next = 0u32;
    let mut component: Vec<usize> = Vec::new();
    for start in 0..n {
        if out[start] != UNSET {
            continue;
        }
        let (sx, sy) = (start % width, start / width);
        // The segment visited just before: left neighbour, else the one above. Both precede
        // `start` in raster order, so they are already labelled.
        let adjacent = if sx > 0 {
            Some(out[start - 1])
        } else if sy > 0 {
            Some(out[start - width])
        } else {
            None
        };
        let original = labels[start];
        let label = next;
        out[start] = label;
        component.clear();
        component.push(start);
        let mut head = 0;
        while head < component.len() {
            let p = component[head];
            head += 1;
            let (x, y) = (p % width, p / width);
            let mut visit = |q: usize| {
                if out[q] == UNSET && labels[q] == original {
                    out[q] = label;
                    component.push(q);
                }
            };
            if x > 0 {
                visit(p - 1);
            }
            if x + 1 < width {
                visit(p + 1);
            }
            if y > 0 {
                visit(p - width);
            }
            if y + 1 < height {
                visit(p + width);
            }
        }
        match adjacent {
            Some(adj) if (component.len() as f64) < min_size => {
                for &p in &component {
                    out[p] = adj;
                }
            }
            _ => next += 1,
        }
    }
    out
}
