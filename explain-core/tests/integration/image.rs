//! Image geometry, loading and preprocessing, pixel → element feature ids, and baselines.

use std::path::{Path, PathBuf};

use explain_core::Error;
use explain_core::input::image::{
    ChannelOrder, Geometry, Layout, Preprocess, blur_baseline, geometry, load, mean_baseline,
    parse_list, parse_scale, parse_size, pixel_ids_to_elements,
};

/// 4x3 test picture with distinct channel values per pixel.
fn pixel(x: u32, y: u32) -> [u8; 3] {
    [
        (10 + 60 * x + 7 * y) as u8,
        (200 - 40 * y - 3 * x) as u8,
        (5 + 50 * x + 70 * y) as u8,
    ]
}

fn write_png(dir: &Path, name: &str, w: u32, h: u32) -> PathBuf {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(pixel(x, y)));
    let path = dir.join(name);
    img.save(&path).unwrap();
    path
}

fn geo(w: usize, h: usize, c: usize, layout: Layout) -> Geometry {
    let shape = match layout {
        Layout::Nchw => [c, h, w],
        Layout::Nhwc => [h, w, c],
    };
    geometry(&shape, layout).unwrap()
}

fn input_message(r: explain_core::Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Input(m)) => m,
        other => panic!("expected Error::Input, got {other:?}"),
    }
}

#[test]
fn geometry_for_both_layouts() {
    let g = geometry(&[3, 224, 200], Layout::Nchw).unwrap();
    assert_eq!(
        g,
        Geometry {
            width: 200,
            height: 224,
            channels: 3,
            layout: Layout::Nchw
        }
    );
    assert_eq!(g.len(), 3 * 224 * 200);
    assert_eq!(g.pixels(), 224 * 200);
    let g = geometry(&[28, 32, 1], Layout::Nhwc).unwrap();
    assert_eq!((g.width, g.height, g.channels), (32, 28, 1));
    let g = geometry(&[1, 28, 28], Layout::Nchw).unwrap();
    assert_eq!((g.width, g.height, g.channels), (28, 28, 1));
}

#[test]
fn geometry_errors_show_the_shape() {
    let m = input_message(geometry(&[224, 224, 3], Layout::Nchw));
    assert!(m.contains("[224, 224, 3]") && m.contains("nhwc"), "{m}");
    let m = input_message(geometry(&[3, 224, 224], Layout::Nhwc));
    assert!(m.contains("[3, 224, 224]") && m.contains("nchw"), "{m}");
    let m = input_message(geometry(&[3, 224], Layout::Nchw));
    assert!(m.contains("[3, 224]"), "{m}");
    let m = input_message(geometry(&[1, 3, 224, 224], Layout::Nchw));
    assert!(m.contains("[1, 3, 224, 224]"), "{m}");
    let m = input_message(geometry(&[4, 8, 8], Layout::Nchw));
    assert!(m.contains("[4, 8, 8]"), "{m}");
    input_message(geometry(&[3, 0, 8], Layout::Nchw));
}

#[test]
fn parsers() {
    assert_eq!(parse_size("224x224").unwrap(), (224, 224));
    assert_eq!(parse_size(" 320X240 ").unwrap(), (320, 240));
    for bad in ["224", "0x5", "ax3", "3x", "-1x4", ""] {
        let m = input_message(parse_size(bad));
        assert!(m.contains(bad.trim()), "{m}");
    }

    assert_eq!(
        parse_list("0.485,0.456, 0.406", "--mean").unwrap(),
        vec![0.485, 0.456, 0.406]
    );
    assert_eq!(parse_list("0.5", "--std").unwrap(), vec![0.5]);
    for bad in ["", "1,,2", "1,x", "nan", "1,inf"] {
        let m = input_message(parse_list(bad, "--mean"));
        assert!(m.contains("--mean"), "{m}");
    }

    assert_eq!(parse_scale("1/255").unwrap(), (1.0f64 / 255.0) as f32);
    assert_eq!(parse_scale("1/128").unwrap(), 1.0 / 128.0);
    assert_eq!(parse_scale("0.00392").unwrap(), 0.00392);
    assert_eq!(parse_scale("2").unwrap(), 2.0);
    for bad in ["", "1/0", "0", "abc", "1/x", "0/5"] {
        let m = input_message(parse_scale(bad));
        assert!(m.contains("scale"), "{m}");
    }
}

#[test]
fn preprocess_default_and_serde() {
    let p = Preprocess::default();
    assert_eq!(p.size, None);
    assert_eq!(p.layout, Layout::Nchw);
    assert_eq!(p.channels, ChannelOrder::Rgb);
    assert_eq!(p.scale, 1.0 / 255.0);
    assert_eq!((p.mean.clone(), p.std.clone()), (vec![0.0], vec![1.0]));
    let json = serde_json::to_string(&Preprocess {
        layout: Layout::Nhwc,
        channels: ChannelOrder::Bgr,
        ..p.clone()
    })
    .unwrap();
    assert!(
        json.contains("\"nhwc\"") && json.contains("\"bgr\""),
        "{json}"
    );
    let back: Preprocess = serde_json::from_str(&json).unwrap();
    assert_eq!(back.layout, Layout::Nhwc);
}

#[test]
fn load_png_exact_values_all_layouts_and_orders() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_png(dir.path(), "pic.png", 4, 3);
    let mean = vec![0.485f32, 0.456, 0.406];
    let std = vec![0.229f32, 0.224, 0.225];
    for layout in [Layout::Nchw, Layout::Nhwc] {
        for order in [ChannelOrder::Rgb, ChannelOrder::Bgr, ChannelOrder::Gray] {
            for (scale, mean, std) in [
                (1.0f32 / 255.0, vec![0.0f32], vec![1.0f32]),
                (1.0 / 255.0, mean.clone(), std.clone()),
                (1.0, vec![127.5], vec![127.5]),
            ] {
                let c = if order == ChannelOrder::Gray { 1 } else { 3 };
                let (mean, std) = if c == 1 {
                    (vec![mean[0]], vec![std[0]])
                } else {
                    (mean, std)
                };
                let g = geo(4, 3, c, layout);
                let pre = Preprocess {
                    size: Some((4, 3)),
                    layout,
                    channels: order,
                    scale,
                    mean: mean.clone(),
                    std: std.clone(),
                };
                let img = load(&path, &pre, &g).unwrap();
                assert_eq!((img.width, img.height), (4, 3));
                assert_eq!(img.path, path.display().to_string());
                assert_eq!(img.tensor.len(), c * 12);
                assert_eq!(img.rgb.len(), 36);
                for (x, y) in [(0usize, 0usize), (3, 0), (1, 2), (3, 2), (2, 1)] {
                    let p = pixel(x as u32, y as u32);
                    let (r, gr, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
                    let src = match order {
                        ChannelOrder::Rgb => vec![r, gr, b],
                        ChannelOrder::Bgr => vec![b, gr, r],
                        ChannelOrder::Gray => vec![0.299 * r + 0.587 * gr + 0.114 * b],
                    };
                    for (ch, v) in src.iter().enumerate() {
                        let m = if mean.len() == 1 { mean[0] } else { mean[ch] };
                        let s = if std.len() == 1 { std[0] } else { std[ch] };
                        let expected = (v * scale - m) / s;
                        let index = match layout {
                            Layout::Nchw => ch * 12 + y * 4 + x,
                            Layout::Nhwc => (y * 4 + x) * c + ch,
                        };
                        assert_eq!(
                            img.tensor[index], expected,
                            "{layout:?} {order:?} pixel ({x},{y}) channel {ch}"
                        );
                    }
                    for (k, &v) in p.iter().enumerate() {
                        assert_eq!(img.rgb[(y * 4 + x) * 3 + k], v as f32 / 255.0);
                    }
                }
            }
        }
    }
}

#[test]
fn load_resizes_deterministically_and_checks_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_png(dir.path(), "big.png", 4, 3);
    let g = geo(2, 2, 3, Layout::Nchw);
    let pre = Preprocess::default();
    let a = load(&path, &pre, &g).unwrap();
    let b = load(&path, &pre, &g).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        (a.width, a.height, a.tensor.len(), a.rgb.len()),
        (2, 2, 12, 12)
    );
    assert!(a.tensor.iter().all(|v| (0.0..=1.0).contains(v)));

    let pre = Preprocess {
        size: Some((5, 5)),
        ..Preprocess::default()
    };
    let m = input_message(load(&path, &pre, &g));
    assert!(m.contains("5x5") && m.contains("2x2"), "{m}");
}

#[test]
fn load_rejects_preprocessing_that_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_png(dir.path(), "pic.png", 4, 3);
    let rgb3 = geo(4, 3, 3, Layout::Nchw);
    let gray = geo(4, 3, 1, Layout::Nchw);
    let m = input_message(load(
        &path,
        &Preprocess {
            channels: ChannelOrder::Gray,
            ..Preprocess::default()
        },
        &rgb3,
    ));
    assert!(m.contains("gray"), "{m}");
    input_message(load(&path, &Preprocess::default(), &gray));
    let m = input_message(load(
        &path,
        &Preprocess {
            mean: vec![0.1, 0.2],
            ..Preprocess::default()
        },
        &rgb3,
    ));
    assert!(m.contains("mean") && m.contains('2'), "{m}");
    let m = input_message(load(
        &path,
        &Preprocess {
            std: vec![0.0],
            ..Preprocess::default()
        },
        &rgb3,
    ));
    assert!(m.contains("std"), "{m}");
    let m = input_message(load(
        &path,
        &Preprocess {
            layout: Layout::Nhwc,
            ..Preprocess::default()
        },
        &rgb3,
    ));
    assert!(m.contains("nhwc") && m.contains("nchw"), "{m}");
}

#[test]
fn jpeg_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let img = image::RgbImage::from_pixel(16, 8, image::Rgb([200, 100, 50]));
    let path = dir.path().join("flat.jpg");
    img.save(&path).unwrap();
    let g = geo(16, 8, 3, Layout::Nhwc);
    let pre = Preprocess {
        layout: Layout::Nhwc,
        ..Preprocess::default()
    };
    let loaded = load(&path, &pre, &g).unwrap();
    assert_eq!(loaded.tensor.len(), 16 * 8 * 3);
    for px in loaded.tensor.chunks(3) {
        for (v, want) in px.iter().zip([200.0f32, 100.0, 50.0]) {
            assert!((v * 255.0 - want).abs() <= 4.0, "{px:?}");
        }
    }
}

#[test]
fn unreadable_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.png");
    std::fs::write(
        &path,
        b"this is not an image at all, just bytes \x00\x01\x02",
    )
    .unwrap();
    let g = geo(4, 3, 3, Layout::Nchw);
    let err = load(&path, &Preprocess::default(), &g).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let m = input_message(Err::<(), _>(err));
    assert!(m.contains(&path.display().to_string()), "{m}");
    assert!(m.contains("cannot be decoded"), "{m}");

    // A truncated PNG.
    let good = write_png(dir.path(), "good.png", 4, 3);
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.png");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let m = input_message(load(&cut, &Preprocess::default(), &g));
    assert!(m.contains("cut.png"), "{m}");

    let missing = dir.path().join("missing.png");
    let m = input_message(load(&missing, &Preprocess::default(), &g));
    assert!(m.contains("missing.png"), "{m}");
}

#[test]
fn pixel_ids_expand_to_elements() {
    let ids = vec![0u32, 1, 2, 3, 4, 5];
    let g = geo(3, 2, 3, Layout::Nchw);
    assert_eq!(
        pixel_ids_to_elements(&ids, &g),
        vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]
    );
    let g = geo(3, 2, 3, Layout::Nhwc);
    assert_eq!(
        pixel_ids_to_elements(&ids, &g),
        vec![0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]
    );
    let g = geo(3, 2, 1, Layout::Nhwc);
    assert_eq!(pixel_ids_to_elements(&ids, &g), ids);
}

#[test]
fn blur_of_a_constant_is_the_constant() {
    for layout in [Layout::Nchw, Layout::Nhwc] {
        let g = geo(9, 7, 3, layout);
        let t: Vec<f32> = (0..g.len())
            .map(|i| {
                let c = match layout {
                    Layout::Nchw => i / 63,
                    Layout::Nhwc => i % 3,
                };
                [0.25f32, -1.5, 0.7][c]
            })
            .collect();
        for sigma in [0.5f32, 1.0, 2.5, 10.0] {
            let b = blur_baseline(&t, &g, sigma);
            for (x, y) in b.iter().zip(&t) {
                assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
            }
        }
        assert_eq!(blur_baseline(&t, &g, 0.0), t);
    }
}

#[test]
fn blur_impulse_response_is_symmetric_and_normalised() {
    let (w, h) = (15usize, 15usize);
    let g = geo(w, h, 1, Layout::Nchw);
    let mut t = vec![0.0f32; w * h];
    t[7 * w + 7] = 1.0;
    let b = blur_baseline(&t, &g, 1.5);
    for y in 0..h {
        for x in 0..w {
            let v = b[y * w + x];
            assert_eq!(v, b[y * w + (w - 1 - x)], "mirror x at ({x},{y})");
            assert_eq!(v, b[(h - 1 - y) * w + x], "mirror y at ({x},{y})");
            assert_eq!(v, b[x * w + y], "transpose at ({x},{y})");
        }
    }
    let total: f64 = b.iter().map(|&v| v as f64).sum();
    assert!((total - 1.0).abs() < 1e-5, "{total}");
    assert!(b[7 * w + 7] > b[7 * w + 8] && b[7 * w + 8] > b[7 * w + 9]);

    // The same blur in NHWC gives the same values per channel.
    let g3c = geo(w, h, 3, Layout::Nchw);
    let g3h = geo(w, h, 3, Layout::Nhwc);
    let planes: Vec<f32> = (0..g3c.len()).map(|i| ((i * 37) % 17) as f32).collect();
    let mut inter = vec![0.0f32; planes.len()];
    for c in 0..3 {
        for p in 0..w * h {
            inter[p * 3 + c] = planes[c * w * h + p];
        }
    }
    let bc = blur_baseline(&planes, &g3c, 2.0);
    let bh = blur_baseline(&inter, &g3h, 2.0);
    for c in 0..3 {
        for p in 0..w * h {
            assert_eq!(bc[c * w * h + p], bh[p * 3 + c]);
        }
    }
    // Deterministic across thread counts.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| blur_baseline(&planes, &g3c, 2.0));
    assert_eq!(one, bc);
}

#[test]
fn mean_baseline_per_channel() {
    let g = geo(2, 2, 3, Layout::Nhwc);
    #[rustfmt::skip]
    let t = vec![
        0.0, 10.0, -1.0,   1.0, 20.0, -1.0,
        2.0, 30.0, -1.0,   3.0, 40.0, -1.0,
    ];
    let m = mean_baseline(&t, &g);
    assert_eq!(m, [1.5f32, 25.0, -1.0].repeat(4));
    let g = geo(2, 2, 3, Layout::Nchw);
    let m = mean_baseline(&t, &g);
    assert_eq!(&m[..4], &[(0.0f32 + 10.0 - 1.0 + 1.0) / 4.0; 4]);
    assert_eq!(&m[4..8], &[(20.0f32 - 1.0 + 2.0 + 30.0) / 4.0; 4]);
    assert_eq!(&m[8..], &[(-1.0f32 + 3.0 + 40.0 - 1.0) / 4.0; 4]);
}
