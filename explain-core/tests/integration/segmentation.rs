//! Grid and SLIC segmentation: ids, errors, determinism across thread counts, connectivity,
//! segment counts and respect for strong colour edges.

use std::collections::VecDeque;

use explain_core::Error;
use explain_core::input::segmentation::{count, grid, slic};

/// 96x64 synthetic scene: a horizontal gradient background with three coloured rectangles.
fn synthetic(width: usize, height: usize) -> Vec<f32> {
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let t = x as f32 / (width - 1) as f32;
            let mut p = [0.2 + 0.6 * t, 0.3, 0.8 - 0.6 * t];
            if (10..40).contains(&x) && (8..30).contains(&y) {
                p = [0.9, 0.1, 0.1];
            }
            if (50..85).contains(&x) && (20..55).contains(&y) {
                p = [0.1, 0.8, 0.2];
            }
            if (20..45).contains(&x) && (40..60).contains(&y) {
                p = [0.95, 0.9, 0.1];
            }
            rgb.extend_from_slice(&p);
        }
    }
    rgb
}

/// A "photo": smooth value noise plus fine hashed grain, built as an 8-bit image with the
/// image crate, round-tripped through JPEG for realistic artefacts, returned in [0, 1].
fn photo(width: u32, height: u32) -> Vec<f32> {
    fn hash(x: i64, y: i64, c: i64) -> f32 {
        let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ (c as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
        h ^= h >> 29;
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 32;
        (h % 10_000) as f32 / 10_000.0
    }
    fn smooth(x: f32, y: f32, c: i64, cell: f32) -> f32 {
        let (gx, gy) = (x / cell, y / cell);
        let (x0, y0) = (gx.floor() as i64, gy.floor() as i64);
        let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
        let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let top = hash(x0, y0, c) * (1.0 - sx) + hash(x0 + 1, y0, c) * sx;
        let bottom = hash(x0, y0 + 1, c) * (1.0 - sx) + hash(x0 + 1, y0 + 1, c) * sx;
        top * (1.0 - sy) + bottom * sy
    }
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let mut px = [0u8; 3];
        for (c, v) in px.iter_mut().enumerate() {
            let (xf, yf) = (x as f32, y as f32);
            let value = 0.6 * smooth(xf, yf, c as i64, 24.0)
                + 0.3 * smooth(xf, yf, c as i64 + 7, 8.0)
                + 0.1 * hash(x as i64, y as i64, c as i64 + 99);
            *v = (value * 255.0).round().clamp(0.0, 255.0) as u8;
        }
        image::Rgb(px)
    });
    let mut jpeg = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    let decoded = image::load_from_memory(&jpeg).unwrap().to_rgb8();
    assert_eq!(decoded.dimensions(), (width, height));
    decoded.as_raw().iter().map(|&v| v as f32 / 255.0).collect()
}

/// Two colours split down the middle at column `split`.
fn two_colour(width: usize, height: usize, split: usize) -> Vec<f32> {
    let mut rgb = Vec::with_capacity(width * height * 3);
    for _ in 0..height {
        for x in 0..width {
            if x < split {
                rgb.extend_from_slice(&[0.85, 0.15, 0.1]);
            } else {
                rgb.extend_from_slice(&[0.1, 0.2, 0.9]);
            }
        }
    }
    rgb
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Labels are 0..K, contiguous, numbered in raster order of first appearance.
fn assert_raster_contiguous(labels: &[u32]) {
    let mut next = 0u32;
    let mut seen = std::collections::HashSet::new();
    for &l in labels {
        if seen.insert(l) {
            assert_eq!(
                l, next,
                "labels are not numbered in raster order of first appearance"
            );
            next += 1;
        }
    }
    assert_eq!(count(labels), next as usize);
}

/// Every segment is one 4-connected component (BFS from its first pixel reaches all of it).
fn assert_connected(labels: &[u32], width: usize, height: usize) {
    let k = count(labels);
    let mut sizes = vec![0usize; k];
    let mut first = vec![usize::MAX; k];
    for (i, &l) in labels.iter().enumerate() {
        sizes[l as usize] += 1;
        if first[l as usize] == usize::MAX {
            first[l as usize] = i;
        }
    }
    let mut seen = vec![false; labels.len()];
    for seg in 0..k {
        let start = first[seg];
        let mut queue = VecDeque::from([start]);
        seen[start] = true;
        let mut reached = 0;
        while let Some(p) = queue.pop_front() {
            reached += 1;
            let (x, y) = (p % width, p / width);
            let mut neighbours = Vec::new();
            if x > 0 {
                neighbours.push(p - 1);
            }
            if x + 1 < width {
                neighbours.push(p + 1);
            }
            if y > 0 {
                neighbours.push(p - width);
            }
            if y + 1 < height {
                neighbours.push(p + width);
            }
            for q in neighbours {
                if !seen[q] && labels[q] == seg as u32 {
                    seen[q] = true;
                    queue.push_back(q);
                }
            }
        }
        assert_eq!(reached, sizes[seg], "segment {seg} is not 4-connected");
    }
}

#[test]
fn grid_ids() {
    let ids = grid(4, 3, 3, 2).unwrap();
    #[rustfmt::skip]
    let expected = vec![
        0, 0, 1, 1,
        2, 2, 3, 3,
        4, 4, 5, 5,
    ];
    assert_eq!(ids, expected);

    // Uneven division: id = (y*rows/h)*cols + x*cols/w.
    let ids = grid(5, 5, 2, 3).unwrap();
    for y in 0..5 {
        for x in 0..5 {
            assert_eq!(ids[y * 5 + x] as usize, (y * 2 / 5) * 3 + x * 3 / 5);
        }
    }
    assert_eq!(count(&ids), 6);

    assert_eq!(grid(7, 3, 1, 1).unwrap(), vec![0; 21]);
    let ids = grid(6, 4, 4, 6).unwrap();
    assert_eq!(ids, (0..24).collect::<Vec<u32>>());
}

#[test]
fn grid_errors() {
    for (w, h, r, c) in [
        (4, 3, 4, 1),
        (4, 3, 1, 5),
        (4, 3, 0, 1),
        (4, 3, 1, 0),
        (0, 3, 1, 1),
    ] {
        let err = grid(w, h, r, c).unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err:?}");
        assert_eq!(err.exit_code(), 2);
    }
    let msg = grid(4, 3, 5, 2).unwrap_err().to_string();
    assert!(msg.contains("5x2") && msg.contains("4x3"), "{msg}");
}

#[test]
fn count_distinct() {
    assert_eq!(count(&[]), 0);
    assert_eq!(count(&[3, 3, 1, 7, 1]), 3);
}

#[test]
fn slic_is_deterministic_across_runs_and_thread_counts() {
    let cases: Vec<(Vec<f32>, usize, usize)> =
        vec![(synthetic(96, 64), 96, 64), (photo(120, 90), 120, 90)];
    for (rgb, w, h) in &cases {
        for k in [16, 50, 100] {
            let a = slic(rgb, *w, *h, k, 10.0).unwrap();
            let b = slic(rgb, *w, *h, k, 10.0).unwrap();
            assert_eq!(a, b);
            let one = in_pool(1, || slic(rgb, *w, *h, k, 10.0).unwrap());
            let two = in_pool(2, || slic(rgb, *w, *h, k, 10.0).unwrap());
            let seven = in_pool(7, || slic(rgb, *w, *h, k, 10.0).unwrap());
            assert_eq!(a, one, "K={k}: 1 thread differs");
            assert_eq!(a, two, "K={k}: 2 threads differ");
            assert_eq!(a, seven, "K={k}: 7 threads differ");
        }
    }
}

#[test]
fn slic_segments_are_connected_contiguous_and_about_k() {
    let cases: Vec<(&str, Vec<f32>, usize, usize)> = vec![
        ("synthetic", synthetic(96, 64), 96, 64),
        ("photo", photo(120, 90), 120, 90),
        ("photo-square", photo(112, 112), 112, 112),
    ];
    for (name, rgb, w, h) in &cases {
        for k in [16usize, 50, 100] {
            for m in [10.0, 1.0, 40.0] {
                let labels = slic(rgb, *w, *h, k, m).unwrap();
                assert_eq!(labels.len(), w * h);
                assert_raster_contiguous(&labels);
                assert_connected(&labels, *w, *h);
                if m == 10.0 {
                    let n = count(&labels);
                    assert!(
                        (k as f64 * 0.5..=k as f64 * 1.5).contains(&(n as f64)),
                        "{name}: K={k} gave {n} segments"
                    );
                }
            }
        }
    }
}

#[test]
fn slic_respects_a_strong_colour_edge() {
    for (w, h, split, k) in [(64, 48, 32, 16), (64, 48, 32, 50), (80, 60, 37, 30)] {
        let rgb = two_colour(w, h, split);
        let labels = slic(&rgb, w, h, k, 10.0).unwrap();
        assert_connected(&labels, w, h);
        let n = count(&labels);
        let mut left = vec![0usize; n];
        let mut right = vec![0usize; n];
        for (i, &l) in labels.iter().enumerate() {
            if i % w < split {
                left[l as usize] += 1;
            } else {
                right[l as usize] += 1;
            }
        }
        for s in 0..n {
            let straddle = left[s].min(right[s]);
            assert!(
                straddle <= 3,
                "{w}x{h} K={k}: segment {s} has {} px left and {} px right of the edge",
                left[s],
                right[s]
            );
        }
    }
}

#[test]
fn slic_uniform_image_gives_grid_like_segments() {
    let rgb = vec![0.5f32; 60 * 40 * 3];
    let labels = slic(&rgb, 60, 40, 24, 10.0).unwrap();
    assert_connected(&labels, 60, 40);
    assert_raster_contiguous(&labels);
    let n = count(&labels);
    assert!((12..=36).contains(&n), "{n}");
}

#[test]
fn slic_tiny_images_and_too_many_segments() {
    // 1x1, thin strips, more segments than pixels: no panic, valid labels.
    for (w, h, k) in [
        (1, 1, 1),
        (1, 1, 5),
        (2, 1, 10),
        (1, 7, 3),
        (9, 1, 100),
        (3, 3, 9),
        (3, 3, 1000),
        (5, 4, 2),
    ] {
        let rgb: Vec<f32> = (0..w * h * 3)
            .map(|i| ((i * 37) % 11) as f32 / 10.0)
            .collect();
        let labels = slic(&rgb, w, h, k, 10.0).unwrap();
        assert_eq!(labels.len(), w * h);
        assert_raster_contiguous(&labels);
        assert_connected(&labels, w, h);
        assert!(count(&labels) <= w * h);
    }
    // K = N: every pixel may be its own segment; still valid.
    let rgb = synthetic(8, 6);
    let labels = slic(&rgb, 8, 6, 48, 10.0).unwrap();
    assert_connected(&labels, 8, 6);
    // K = 1: one segment.
    let labels = slic(&synthetic(30, 20), 30, 20, 1, 10.0).unwrap();
    assert_eq!(count(&labels), 1);
}

#[test]
fn slic_rejects_bad_input() {
    let rgb = synthetic(10, 8);
    let bad = [
        slic(&rgb, 10, 8, 0, 10.0),
        slic(&rgb, 10, 9, 5, 10.0),
        slic(&rgb[..30], 10, 8, 5, 10.0),
        slic(&rgb, 10, 8, 5, -1.0),
        slic(&rgb, 10, 8, 5, f64::NAN),
        slic(&[], 0, 0, 5, 10.0),
    ];
    for r in bad {
        let err = r.unwrap_err();
        assert!(matches!(err, Error::Input(_)), "{err:?}");
    }
    let mut nan = rgb.clone();
    nan[3 * (2 * 10 + 4) + 1] = f32::NAN;
    let msg = slic(&nan, 10, 8, 5, 10.0).unwrap_err().to_string();
    assert!(msg.contains("(4, 2)"), "{msg}");
}
