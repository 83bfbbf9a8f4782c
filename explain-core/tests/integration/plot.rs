//! Plots: both files are written, decode, are not blank, carry text, and are deterministic.
//!
//! Set `EXPLAIN_PLOT_EXAMPLES=/some/dir` to also keep the example figures there for viewing.

use explain_core::Error;
use explain_core::render::{audio, bars, overlay};
use std::path::{Path, PathBuf};

// ---- realistic example data ------------------------------------------------------------------

fn wine() -> (Vec<String>, Vec<f64>, Vec<f64>) {
    let names = [
        "alcohol",
        "malic_acid",
        "ash",
        "alcalinity_of_ash",
        "magnesium",
        "total_phenols",
        "flavanoids",
        "nonflavanoid_phenols",
        "proanthocyanins",
        "color_intensity",
        "hue",
        "od280/od315_of_diluted_wines",
        "proline",
    ];
    let values = [
        0.212, -0.041, 0.006, -0.058, 0.019, 0.034, 0.187, -0.012, 0.009, 0.143, -0.097, 0.121,
        0.264,
    ];
    let se = [
        0.011, 0.007, 0.004, 0.009, 0.006, 0.008, 0.014, 0.005, 0.004, 0.012, 0.010, 0.011, 0.016,
    ];
    (
        names.iter().map(|s| s.to_string()).collect(),
        values.to_vec(),
        se.to_vec(),
    )
}

/// A 48×48 face-like image with a 4×4 grid of segments and their attributions.
fn face() -> (Vec<f32>, usize, usize, Vec<u32>, Vec<f64>) {
    let (w, h) = (48usize, 48usize);
    let mut rgb = vec![0f32; w * h * 3];
    let mut features = vec![0u32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            // Background: a soft blue-grey gradient.
            let mut c = [0.55 + 0.004 * fy, 0.62, 0.70 - 0.003 * fy];
            let face = ((fx - 24.0) / 16.0).powi(2) + ((fy - 25.0) / 20.0).powi(2) <= 1.0;
            if face {
                c = [0.93, 0.76, 0.62];
            }
            let eye = |ex: f32| ((fx - ex) / 3.5).powi(2) + ((fy - 19.0) / 2.5).powi(2) <= 1.0;
            if eye(17.0) || eye(31.0) {
                c = [0.12, 0.10, 0.10];
            }
            if ((fx - 24.0) / 7.0).powi(2) + ((fy - 34.0) / 2.0).powi(2) <= 1.0 {
                c = [0.72, 0.20, 0.22];
            }
            if y < 9 && ((fx - 24.0) / 18.0).powi(2) + ((fy - 12.0) / 9.0).powi(2) <= 1.0 {
                c = [0.30, 0.20, 0.12]; // hair
            }
            rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&c);
            features[y * w + x] = ((y / 12) * 4 + x / 12) as u32;
        }
    }
    let values = vec![
        -0.02, -0.05, -0.04, -0.01, //
        -0.03, 0.31, 0.27, -0.02, //
        -0.06, 0.08, 0.11, -0.04, //
        0.00, 0.14, 0.09, -0.12,
    ];
    (rgb, w, h, features, values)
}

/// Samples, sample rate, segments, attributions.
type Audio = (Vec<f32>, u32, Vec<(usize, usize)>, Vec<f64>);

/// One second at 16 kHz: sine bursts, 10 segments of 0.1 s.
fn bursts() -> Audio {
    let sr = 16_000u32;
    let n = sr as usize;
    let samples = (0..n)
        .map(|i| {
            let t = i as f32 / sr as f32;
            let burst = |c: f32, wdt: f32| (-((t - c) / wdt).powi(2)).exp();
            let env = 0.8 * burst(0.25, 0.05) + 0.5 * burst(0.55, 0.04) + 0.3 * burst(0.82, 0.03);
            env * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
                + 0.01 * (2.0 * std::f32::consts::PI * 3_000.0 * t).sin()
        })
        .collect();
    let segments = (0..10).map(|k| (k * 1600, (k + 1) * 1600)).collect();
    let values = vec![
        0.01, 0.06, 0.29, 0.12, -0.03, 0.17, -0.09, -0.02, 0.05, 0.00,
    ];
    (samples, sr, segments, values)
}

/// A 40×32 spectrogram-like array (time × frequency) in 8×4-cell patches.
fn spectrogram() -> (Vec<f32>, usize, usize, Vec<u32>, Vec<f64>) {
    let (rows, cols) = (40usize, 32usize);
    let mut data = vec![0f32; rows * cols];
    let mut features = vec![0u32; rows * cols];
    let (pr, pc) = (8usize, 4usize);
    let patches_per_row = cols / pc;
    for r in 0..rows {
        for c in 0..cols {
            let t = r as f32 / rows as f32;
            let f = c as f32 / cols as f32;
            // A falling formant plus a harmonic and background noise, in dB.
            let formant = (-((f - (0.6 - 0.4 * t)) / 0.06).powi(2)).exp();
            let harmonic = (-((f - 0.2) / 0.03).powi(2)).exp() * (1.0 - t);
            let noise = ((r * 31 + c * 17) % 13) as f32 / 13.0;
            data[r * cols + c] = -80.0 + 60.0 * formant + 40.0 * harmonic + 6.0 * noise;
            features[r * cols + c] = ((r / pr) * patches_per_row + c / pc) as u32;
        }
    }
    let n = (rows / pr) * patches_per_row;
    let values = (0..n)
        .map(|k| {
            let (pr_i, pc_i) = (k / patches_per_row, k % patches_per_row);
            let centre = 4.0 - 0.8 * pr_i as f64;
            0.2 * (-((pc_i as f64 - centre) / 1.2).powi(2)).exp() - 0.03 * (pc_i == 1) as i32 as f64
        })
        .collect();
    (data, rows, cols, features, values)
}

// ---- checks ----------------------------------------------------------------------------------

fn pair(stem: &Path) -> (PathBuf, PathBuf) {
    (
        PathBuf::from(format!("{}.png", stem.display())),
        PathBuf::from(format!("{}.svg", stem.display())),
    )
}

/// Both files exist; the PNG decodes, has the SVG's size and is not flat; the SVG has text.
/// Returns the PNG size.
fn check_outputs(stem: &Path) -> (u32, u32) {
    let (png_path, svg_path) = pair(stem);
    let png = image::open(&png_path).expect("PNG decodes").to_rgb8();
    let first = *png.get_pixel(0, 0);
    assert!(
        png.pixels().any(|p| *p != first),
        "{} is a single flat colour",
        png_path.display()
    );
    let svg = std::fs::read_to_string(&svg_path).expect("SVG exists");
    assert!(svg.contains("<svg"), "no <svg in {}", svg_path.display());
    assert!(svg.contains("<text"), "no <text in {}", svg_path.display());
    assert!(svg.trim_end().ends_with("</svg>"));
    let size = format!("width=\"{}\" height=\"{}\"", png.width(), png.height());
    assert!(svg.contains(&size), "SVG is not {size}");
    (png.width(), png.height())
}

/// Calls `draw` twice into `dir` and checks that the outputs are byte-identical.
fn check_deterministic(dir: &Path, name: &str, draw: impl Fn(&Path)) {
    let a = dir.join(format!("{name}-a"));
    let b = dir.join(format!("{name}-b"));
    draw(&a);
    draw(&b);
    let ((pa, sa), (pb, sb)) = (pair(&a), pair(&b));
    assert!(std::fs::read(pa).unwrap() == std::fs::read(pb).unwrap());
    assert!(std::fs::read(sa).unwrap() == std::fs::read(sb).unwrap());
}

/// No files (and no temporary files) are left in `dir`.
fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

fn input_error(r: explain_core::Result<()>) -> String {
    match r {
        Err(Error::Input(m)) => m,
        other => panic!("expected an input error, got {other:?}"),
    }
}

/// Keeps a copy of the example figure when `EXPLAIN_PLOT_EXAMPLES` names a directory.
fn keep_example(stem: &Path, name: &str) {
    if let Some(dir) = std::env::var_os("EXPLAIN_PLOT_EXAMPLES") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (png, svg) = pair(stem);
        std::fs::copy(png, dir.join(format!("{name}.png"))).unwrap();
        std::fs::copy(svg, dir.join(format!("{name}.svg"))).unwrap();
    }
}

// ---- tests -----------------------------------------------------------------------------------

#[test]
fn bars_are_drawn_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (names, values, se) = wine();
    let stem = dir.path().join("wine");
    bars::attribution_bars(&stem, "wine: class 0, row 17", &names, &values, &se, 13).unwrap();
    assert_eq!(check_outputs(&stem), (900, 120 + 28 * 13));
    keep_example(&stem, "bars_wine");

    let stem = dir.path().join("top5");
    bars::attribution_bars(&stem, "wine: top 5", &names, &values, &se, 5).unwrap();
    assert_eq!(check_outputs(&stem), (900, 120 + 28 * 5));
    let svg = std::fs::read_to_string(pair(&stem).1).unwrap();
    assert!(svg.contains("proline") && svg.contains("alcohol"));
    assert!(!svg.contains(">ash<"), "ash is not in the top 5");
    keep_example(&stem, "bars_top5");

    check_deterministic(dir.path(), "det", |s| {
        bars::attribution_bars(s, "wine", &names, &values, &se, 13).unwrap()
    });
}

#[test]
fn bars_degenerate_inputs_draw_sensibly() {
    let dir = tempfile::tempdir().unwrap();
    // One feature, all zero, no name, no standard errors; top_k larger than the features.
    let stem = dir.path().join("one");
    bars::attribution_bars(&stem, "", &[String::new()], &[0.0], &[], 10).unwrap();
    assert_eq!(check_outputs(&stem), (900, 120 + 28));
    assert!(
        std::fs::read_to_string(pair(&stem).1)
            .unwrap()
            .contains("feature 0")
    );
    keep_example(&stem, "bars_degenerate");

    // All negative, long names, NaN and zero standard errors (no whiskers).
    let names: Vec<String> = (0..4)
        .map(|i| format!("a_really_long_feature_name_from_a_wide_table_column_{i}_of_many"))
        .collect();
    let stem = dir.path().join("neg");
    bars::attribution_bars(
        &stem,
        "all negative, long names",
        &names,
        &[-1e-6, -3e-6, -2e-6, -5e-7],
        &[f64::NAN, 0.0, 1e-7, -1.0],
        4,
    )
    .unwrap();
    check_outputs(&stem);
    assert!(
        std::fs::read_to_string(pair(&stem).1)
            .unwrap()
            .contains('…')
    );
    keep_example(&stem, "bars_long_names");

    // Very many features: at most 500 bars.
    let names: Vec<String> = (0..1000).map(|i| format!("f{i}")).collect();
    let values: Vec<f64> = (0..1000)
        .map(|i| ((i * 37 % 101) as f64 - 50.0) / 50.0)
        .collect();
    let stem = dir.path().join("many");
    bars::attribution_bars(&stem, "many", &names, &values, &[], 5000).unwrap();
    assert_eq!(check_outputs(&stem), (900, 120 + 28 * 500));

    // Huge magnitudes.
    let stem = dir.path().join("big");
    let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    bars::attribution_bars(&stem, "big", &names, &[3.2e7, -1.1e7, 5.0e6], &[1e6; 3], 3).unwrap();
    check_outputs(&stem);
}

#[test]
fn bars_reject_bad_input_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("bad");
    let names = vec!["a".to_string(), "b".to_string()];
    let m = input_error(bars::attribution_bars(&stem, "t", &names, &[1.0], &[], 5));
    assert!(
        m.contains("bad.png") && m.contains("2 feature names but 1 values"),
        "{m}"
    );
    let m = input_error(bars::attribution_bars(
        &stem,
        "t",
        &names,
        &[1.0, 2.0],
        &[0.1],
        5,
    ));
    assert!(m.contains("1 standard errors but 2 values"), "{m}");
    let m = input_error(bars::attribution_bars(&stem, "t", &[], &[], &[], 5));
    assert!(m.contains("no features"), "{m}");
    let m = input_error(bars::attribution_bars(
        &stem,
        "t",
        &names,
        &[1.0, 2.0],
        &[],
        0,
    ));
    assert!(m.contains("top_k"), "{m}");
    let m = input_error(bars::attribution_bars(
        &stem,
        "t",
        &names,
        &[1.0, f64::NAN],
        &[],
        2,
    ));
    assert!(m.contains("attribution 1 is NaN"), "{m}");
    let m = input_error(bars::attribution_bars(
        &stem,
        "t",
        &names,
        &[1.0, 1e300],
        &[],
        2,
    ));
    assert!(m.contains("too large"), "{m}");
    assert_empty(dir.path());

    let missing = dir.path().join("no/such/dir/x");
    let m = input_error(bars::attribution_bars(
        &missing,
        "t",
        &names,
        &[1.0, 2.0],
        &[],
        2,
    ));
    assert!(m.contains("does not exist"), "{m}");
}

#[test]
fn image_overlay_is_drawn_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (rgb, w, h, features, values) = face();
    let stem = dir.path().join("face");
    overlay::image_overlay(
        &stem,
        "face, class \"smiling\"",
        &rgb,
        w,
        h,
        &features,
        &values,
        &[],
    )
    .unwrap();
    let (pw, ph) = check_outputs(&stem);
    assert!(pw >= 2 * 320 && ph >= 320, "{pw}×{ph}");
    // The overlay panel is tinted: some pixels are clearly red, some clearly blue.
    let png = image::open(pair(&stem).0).unwrap().to_rgb8();
    let reddish = png
        .pixels()
        .filter(|p| p[0] as i32 - p[2] as i32 > 60)
        .count();
    let bluish = png
        .pixels()
        .filter(|p| p[2] as i32 - p[0] as i32 > 40)
        .count();
    assert!(reddish > 1000 && bluish > 1000, "{reddish} {bluish}");
    assert!(
        std::fs::read_to_string(pair(&stem).1)
            .unwrap()
            .contains("data:image/png;base64,")
    );
    keep_example(&stem, "image_face");

    check_deterministic(dir.path(), "det", |s| {
        overlay::image_overlay(s, "face", &rgb, w, h, &features, &values, &[]).unwrap()
    });
}

#[test]
fn image_overlay_draws_the_explained_box_and_the_other_detections() {
    let dir = tempfile::tempdir().unwrap();
    let (rgb, w, h, features, values) = face();
    let amber = |stem: &Path| {
        let png = image::open(pair(stem).0).unwrap().to_rgb8();
        png.pixels()
            .filter(|p| p[0] > 240 && (170..=210).contains(&p[1]) && p[2] < 30)
            .count()
    };
    let plain = dir.path().join("plain");
    overlay::image_overlay(&plain, "face", &rgb, w, h, &features, &values, &[]).unwrap();
    let boxed = dir.path().join("boxed");
    let marks = [
        overlay::Mark {
            bbox: [2.0, 2.0, w as f32 / 2.0, h as f32 / 2.0],
            target: true,
        },
        overlay::Mark {
            bbox: [1.0, 1.0, 4.0, 4.0],
            target: false,
        },
    ];
    overlay::image_overlay(&boxed, "face", &rgb, w, h, &features, &values, &marks).unwrap();
    // The amber outline of the explained box, on both panels.
    assert_eq!(amber(&plain), 0);
    assert!(amber(&boxed) > 200, "{}", amber(&boxed));
    let svg = std::fs::read_to_string(pair(&boxed).1).unwrap();
    assert!(
        svg.contains("amber: the explained box"),
        "the note says what the boxes are"
    );
    let bad = [overlay::Mark {
        bbox: [f32::NAN, 0.0, 1.0, 1.0],
        target: true,
    }];
    let m = input_error(overlay::image_overlay(
        &boxed, "face", &rgb, w, h, &features, &values, &bad,
    ));
    assert!(m.contains("not finite"), "{m}");
}

#[test]
fn image_overlay_degenerate_and_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // A 1×1 image, one feature, zero attribution.
    let stem = dir.path().join("tiny");
    overlay::image_overlay(&stem, "tiny", &[0.2, 0.4, 0.6], 1, 1, &[0], &[0.0], &[]).unwrap();
    check_outputs(&stem);
    keep_example(&stem, "image_tiny");
    // A large, very wide image is scaled down.
    let (w, h) = (1500usize, 30usize);
    let rgb: Vec<f32> = (0..w * h * 3).map(|i| (i % 7) as f32 / 7.0).collect();
    let features: Vec<u32> = (0..w * h).map(|i| ((i % w) / 500) as u32).collect();
    let stem = dir.path().join("wide");
    overlay::image_overlay(&stem, "wide", &rgb, w, h, &features, &[0.5, -0.2, 0.0], &[]).unwrap();
    let (pw, _) = check_outputs(&stem);
    assert!(pw < 2000, "{pw}");
    keep_example(&stem, "image_wide");

    let bad = dir.path().join("bad");
    let m = input_error(overlay::image_overlay(
        &bad,
        "t",
        &[0.0; 5],
        1,
        2,
        &[0, 0],
        &[1.0],
        &[],
    ));
    assert!(
        m.contains("bad.png") && m.contains("6 (width × height × 3)"),
        "{m}"
    );
    let m = input_error(overlay::image_overlay(
        &bad,
        "t",
        &[0.0; 6],
        1,
        2,
        &[0],
        &[1.0],
        &[],
    ));
    assert!(m.contains("1 pixel feature ids"), "{m}");
    let m = input_error(overlay::image_overlay(
        &bad,
        "t",
        &[0.0; 6],
        1,
        2,
        &[0, 3],
        &[1.0],
        &[],
    ));
    assert!(m.contains("feature 3"), "{m}");
    let m = input_error(overlay::image_overlay(
        &bad,
        "t",
        &[],
        0,
        2,
        &[],
        &[1.0],
        &[],
    ));
    assert!(m.contains("empty"), "{m}");
    let m = input_error(overlay::image_overlay(
        &bad,
        "t",
        &[0.0; 6],
        1,
        2,
        &[0, 0],
        &[],
        &[],
    ));
    assert!(m.contains("no feature values"), "{m}");
    let m = input_error(overlay::image_overlay(
        &bad,
        "t",
        &[f32::NAN; 6],
        1,
        2,
        &[0, 0],
        &[1.0],
        &[],
    ));
    assert!(m.contains("NaN"), "{m}");
    std::fs::remove_file(pair(&dir.path().join("tiny")).0).unwrap();
    std::fs::remove_file(pair(&dir.path().join("tiny")).1).unwrap();
    std::fs::remove_file(pair(&dir.path().join("wide")).0).unwrap();
    std::fs::remove_file(pair(&dir.path().join("wide")).1).unwrap();
    assert_empty(dir.path());
}

#[test]
fn audio_overlay_is_drawn_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (samples, sr, segments, values) = bursts();
    let stem = dir.path().join("audio");
    audio::audio_overlay(
        &stem,
        "keyword spotting: \"yes\"",
        &samples,
        sr,
        &segments,
        &values,
    )
    .unwrap();
    assert_eq!(check_outputs(&stem), (1000, 660));
    let svg = std::fs::read_to_string(pair(&stem).1).unwrap();
    assert!(svg.contains("time (s)") && svg.contains("amplitude"));
    keep_example(&stem, "audio_bursts");

    check_deterministic(dir.path(), "det", |s| {
        audio::audio_overlay(s, "audio", &samples, sr, &segments, &values).unwrap()
    });
}

#[test]
fn audio_overlay_degenerate_and_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // Silence, one segment, zero attribution.
    let stem = dir.path().join("silence");
    audio::audio_overlay(&stem, "silence", &[0.0; 100], 8000, &[(0, 100)], &[0.0]).unwrap();
    check_outputs(&stem);
    keep_example(&stem, "audio_silence");
    // A single sample and an empty segment.
    let stem = dir.path().join("one");
    audio::audio_overlay(&stem, "one", &[0.5], 1, &[(0, 1), (1, 1)], &[1.0, -1.0]).unwrap();
    check_outputs(&stem);
    keep_example(&stem, "audio_one_sample");

    let bad = dir.path().join("bad");
    let m = input_error(audio::audio_overlay(
        &bad,
        "t",
        &[0.0; 10],
        10,
        &[(0, 11)],
        &[1.0],
    ));
    assert!(
        m.contains("bad.png") && m.contains("segment 0 is [0, 11)"),
        "{m}"
    );
    let m = input_error(audio::audio_overlay(
        &bad,
        "t",
        &[0.0; 10],
        10,
        &[(5, 2)],
        &[1.0],
    ));
    assert!(m.contains("segment 0 is [5, 2)"), "{m}");
    let m = input_error(audio::audio_overlay(
        &bad,
        "t",
        &[0.0; 10],
        10,
        &[(0, 5)],
        &[],
    ));
    assert!(m.contains("1 segments but 0 values"), "{m}");
    let m = input_error(audio::audio_overlay(&bad, "t", &[], 10, &[], &[]));
    assert!(m.contains("no samples"), "{m}");
    let m = input_error(audio::audio_overlay(
        &bad,
        "t",
        &[0.0; 10],
        0,
        &[(0, 5)],
        &[1.0],
    ));
    assert!(m.contains("sample rate"), "{m}");
    let m = input_error(audio::audio_overlay(&bad, "t", &[0.0; 10], 10, &[], &[]));
    assert!(m.contains("no segments"), "{m}");
    assert!(!pair(&bad).0.exists() && !pair(&bad).1.exists());
}

#[test]
fn grid_overlay_is_drawn_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (data, rows, cols, features, values) = spectrogram();
    let stem = dir.path().join("spec");
    overlay::grid_overlay(
        &stem,
        "spectrogram patches",
        &data,
        rows,
        cols,
        &features,
        &values,
        "time frame",
        "frequency bin",
    )
    .unwrap();
    let (pw, ph) = check_outputs(&stem);
    assert!(pw >= 2 * 256 && ph >= 320, "{pw}×{ph}");
    let svg = std::fs::read_to_string(pair(&stem).1).unwrap();
    assert!(svg.contains("time frame") && svg.contains("frequency bin"));
    keep_example(&stem, "grid_spectrogram");

    check_deterministic(dir.path(), "det", |s| {
        overlay::grid_overlay(s, "g", &data, rows, cols, &features, &values, "r", "c").unwrap()
    });
}

#[test]
fn grid_overlay_degenerate_and_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    // One cell, constant data, zero attribution, empty labels.
    let stem = dir.path().join("one");
    overlay::grid_overlay(&stem, "one", &[3.0], 1, 1, &[0], &[0.0], "", "").unwrap();
    check_outputs(&stem);
    keep_example(&stem, "grid_one_cell");
    // A long thin grid.
    let (rows, cols) = (500usize, 3usize);
    let data: Vec<f32> = (0..rows * cols).map(|i| (i % 11) as f32).collect();
    let features: Vec<u32> = (0..rows * cols).map(|i| (i / cols / 100) as u32).collect();
    let stem = dir.path().join("thin");
    overlay::grid_overlay(
        &stem,
        "thin",
        &data,
        rows,
        cols,
        &features,
        &[1.0, -1.0, 0.5, 0.0, -0.1],
        "t",
        "f",
    )
    .unwrap();
    check_outputs(&stem);
    keep_example(&stem, "grid_thin");

    let bad = dir.path().join("bad");
    let m = input_error(overlay::grid_overlay(
        &bad,
        "t",
        &[0.0; 5],
        2,
        3,
        &[0; 6],
        &[1.0],
        "r",
        "c",
    ));
    assert!(
        m.contains("bad.png") && m.contains("has 5 values instead of 6"),
        "{m}"
    );
    let m = input_error(overlay::grid_overlay(
        &bad,
        "t",
        &[0.0; 6],
        2,
        3,
        &[0; 5],
        &[1.0],
        "r",
        "c",
    ));
    assert!(m.contains("5 cell feature ids"), "{m}");
    let m = input_error(overlay::grid_overlay(
        &bad,
        "t",
        &[0.0; 6],
        2,
        3,
        &[1; 6],
        &[1.0],
        "r",
        "c",
    ));
    assert!(m.contains("feature 1"), "{m}");
    let m = input_error(overlay::grid_overlay(
        &bad,
        "t",
        &[],
        0,
        3,
        &[],
        &[1.0],
        "r",
        "c",
    ));
    assert!(m.contains("empty"), "{m}");
    assert!(!pair(&bad).0.exists() && !pair(&bad).1.exists());
}
