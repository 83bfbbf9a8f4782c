//! `explain slices`: per-slice metrics against fairlearn and onnxruntime references,
//! explanation profiles against a closed form, determinism, exit codes and bad manifests.

use crate::common;

use common::{assert_exit, cli, data, run_ok, sample};
use serde_json::Value;
use std::path::Path;

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn close(a: &Value, b: &Value, tol: f64, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!((x - y).abs() <= tol, "{what}: {x} vs {y}"),
        _ => assert_eq!(a, b, "{what}"),
    }
}

fn same_metrics(got: &Value, want: &Value, what: &str) {
    for (name, w) in want.as_object().unwrap() {
        let g = &got[name];
        close(
            &g["value"],
            &w["value"],
            1e-12,
            &format!("{what} {name} value"),
        );
        assert_eq!(g["n"], w["n"], "{what} {name} n");
        match (g["ci95"].as_array(), w["ci95"].as_array()) {
            (Some(gc), Some(wc)) => {
                for k in 0..2 {
                    close(&gc[k], &wc[k], 1e-12, &format!("{what} {name} ci95"));
                }
            }
            (gc, wc) => assert_eq!(gc, wc, "{what} {name} ci95"),
        }
    }
    assert_eq!(
        got.as_object().unwrap().len(),
        want.as_object().unwrap().len(),
        "{what}: metric names"
    );
}

#[test]
fn inspection_slices_equal_fairlearn_and_onnxruntime() {
    // tests/data/slices/make_expected.py: onnxruntime predictions, fairlearn MetricFrame values,
    // statsmodels Wilson intervals, fairlearn between-group ratio and difference.
    let want = read_json(&data("slices/inspection_expected.json"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slices.json");
    let got = run_ok(&[
        "slices",
        "--model",
        &sample("inspection/defect_cnn.onnx"),
        "--manifest",
        &sample("inspection/manifest.csv"),
        "--channels",
        "gray",
        "--slice-by",
        "surface,site,lighting,defect_kind",
        "--intersect",
        "site,lighting",
        "--min-n",
        "1",
        "--profile-items",
        "0",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(got["schema"], "explain.slices/1");
    assert_eq!(got["model"]["sha256"], want["model_sha256"]);
    assert_eq!(got["manifest"]["sha256"], want["manifest_sha256"]);

    // Predictions: same decisions as onnxruntime for all 480 items, scores to 1e-5.
    let csv = std::fs::read_to_string(dir.path().join("predictions.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("input,label,score,predicted"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let expected = want["predictions"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    for (r, e) in rows.iter().zip(expected) {
        assert_eq!(r[0], e["input"].as_str().unwrap());
        assert_eq!(r[1], e["label"].to_string());
        assert_eq!(r[3], e["predicted"].to_string(), "{}", r[0]);
        let score: f64 = r[2].parse().unwrap();
        assert!(
            (score - e["score"].as_f64().unwrap()).abs() < 1e-5,
            "{}",
            r[0]
        );
    }
    assert_eq!(
        got["predictions"]["sha256"].as_str().unwrap(),
        explain_core::util::provenance::sha256_hex(csv.as_bytes())
    );

    assert_eq!(got["overall"]["n"], want["overall"]["n"]);
    same_metrics(
        &got["overall"]["metrics"],
        &want["overall"]["metrics"],
        "overall",
    );
    let slices = got["slices"].as_array().unwrap();
    let want_slices = want["slices"].as_array().unwrap();
    assert_eq!(slices.len(), want_slices.len());
    for (g, w) in slices.iter().zip(want_slices) {
        let what = format!("{}={}", w["attribute"], w["value"]);
        assert_eq!(g["attribute"], w["attribute"], "{what}");
        assert_eq!(g["value"], w["value"], "{what}");
        assert_eq!(g["n"], w["n"], "{what}");
        assert_eq!(g["status"], "ok");
        same_metrics(&g["metrics"], &w["metrics"], &what);
    }
    let disparities = got["disparities"].as_array().unwrap();
    for w in want["disparities"].as_array().unwrap() {
        let g = disparities
            .iter()
            .find(|d| d["attribute"] == w["attribute"] && d["metric"] == w["metric"])
            .unwrap_or_else(|| panic!("no disparity for {w}"));
        let what = format!("{} {}", w["attribute"], w["metric"]);
        if w["groups"].as_u64().unwrap() >= 2 {
            close(&g["ratio"], &w["ratio"], 1e-12, &what);
            close(&g["difference"], &w["difference"], 1e-12, &what);
            assert_ne!(g["verdict"], "insufficient_data", "{what}");
        } else {
            // One slice defines the metric: nothing to compare (fairlearn says 1.0 / 0.0).
            assert_eq!(g["verdict"], "insufficient_data", "{what}");
            assert!(g["ratio"].is_null(), "{what}");
        }
    }
    // The surfaces differ by 0.144 in accuracy (brick 0.988, grass 0.844): a real finding.
    let acc = disparities
        .iter()
        .find(|d| d["attribute"] == "surface" && d["metric"] == "accuracy")
        .unwrap();
    assert_eq!(acc["verdict"], "flag");
    assert_eq!(
        (acc["worst"].as_str(), acc["best"].as_str()),
        (Some("grass"), Some("brick"))
    );
    let [lo, hi] = [&acc["ci95"][0], &acc["ci95"][1]].map(|v| v.as_f64().unwrap());
    let d = acc["difference"].as_f64().unwrap();
    assert!(lo < d && d < hi && lo > 0.0, "{lo} {d} {hi}");
}

#[test]
fn speech_detection_rates_per_language_match_the_onnxruntime_reference() {
    // models-sample/speech/reference_slices_ort.csv was computed with onnxruntime
    // (evaluate_ort.py): detection rate = TPR, false-positive rate = FPR, Wilson intervals.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slices.json");
    let got = run_ok(&[
        "slices",
        "--model",
        &sample("speech/silero_vad_openvino_16k.onnx"),
        "--hold",
        "state=zeros",
        "--output",
        "output",
        "--sample-rate",
        "16000",
        "--manifest",
        &sample("speech/manifest.csv"),
        "--slice-by",
        "language,source",
        "--profile-items",
        "0",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let reference = std::fs::read_to_string(sample("speech/reference_slices_ort.csv")).unwrap();
    let mut checked = 0;
    for line in reference.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let metrics = match (f[0], f[1]) {
            ("all", _) => &got["overall"]["metrics"],
            ("language" | "source", value) => {
                let s = got["slices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["attribute"] == f[0] && s["value"] == value)
                    .unwrap();
                &s["metrics"]
            }
            _ => continue,
        };
        let tpr = &metrics["tpr"];
        assert_eq!(
            tpr["n"].as_u64().unwrap(),
            f[2].parse::<u64>().unwrap(),
            "{line}"
        );
        let rate: f64 = f[4].parse().unwrap();
        assert!(
            (tpr["value"].as_f64().unwrap() - rate).abs() < 5e-5,
            "{line}"
        );
        assert!((tpr["ci95"][0].as_f64().unwrap() - f[5].parse::<f64>().unwrap()).abs() < 5e-5);
        assert!((tpr["ci95"][1].as_f64().unwrap() - f[6].parse::<f64>().unwrap()).abs() < 5e-5);
        let fpr = &metrics["fpr"];
        assert_eq!(
            fpr["n"].as_u64().unwrap(),
            f[8].parse::<u64>().unwrap(),
            "{line}"
        );
        if let Ok(r) = f[10].parse::<f64>() {
            assert!((fpr["value"].as_f64().unwrap() - r).abs() < 5e-5, "{line}");
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "all, 2 sources, 5 languages");
    // Detection varies from 0.40 (ru) to 0.94 (en): flagged at the four-fifths rule.
    let tpr = got["disparities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["attribute"] == "language" && d["metric"] == "tpr")
        .unwrap();
    assert_eq!(tpr["verdict"], "flag");
    assert_eq!(
        (tpr["worst"].as_str(), tpr["best"].as_str()),
        (Some("ru"), Some("en"))
    );
}

/// A pixel-linear model, y = Σ w·x + c (tests/data/linear_image.*), on 8x6 images that are
/// bright in the left or the right half: with a zero baseline the exact attribution of a grid
/// cell is Σ_cell w·x, so every profile has a closed form.
#[test]
fn explanation_profiles_equal_the_closed_form_and_flag_different_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let w: Vec<f64> = read_json(&data("linear_image.json"))["w_nchw"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let (h, wd) = (8usize, 6usize);
    let mut manifest = String::from("input,label,side,batch\n");
    let mut phis: Vec<(String, Vec<f64>)> = Vec::new();
    for i in 0..8 {
        let side = if i < 4 { "left" } else { "right" };
        let mut img = image::RgbImage::new(wd as u32, h as u32);
        let mut phi = [0.0; 4];
        for y in 0..h {
            for x in 0..wd {
                let on = (x < 3) == (side == "left");
                // Left images are bright, right ones dim, so the overall profile follows the
                // left half and the right slice's evidence (its own half) ranks the opposite way.
                let v = match (on, side) {
                    (true, "left") => 200 + 5 * i as u8 + (x + y) as u8,
                    (true, _) => 40 + 5 * i as u8 + (x + y) as u8,
                    _ => (x * y) as u8 % 3,
                };
                let px = [v, v / 2, v / 3];
                img.put_pixel(x as u32, y as u32, image::Rgb(px));
                let cell = (y / 4) * 2 + x / 3;
                for c in 0..3 {
                    phi[cell] += w[c * h * wd + y * wd + x] * px[c] as f64 / 255.0;
                }
            }
        }
        let name = format!("img{i}.png");
        img.save(dir.path().join(&name)).unwrap();
        manifest.push_str(&format!("{name},{},{side},b{}\n", i % 2, i % 2));
        phis.push((side.to_string(), phi.iter().map(|v| v.abs()).collect()));
    }
    std::fs::write(dir.path().join("manifest.csv"), manifest).unwrap();
    let out = dir.path().join("slices.json");
    let args = |threads: &'static str, out: &Path| {
        vec![
            "slices".to_string(),
            "--model".into(),
            data("linear_image.onnx").to_str().unwrap().into(),
            "--manifest".into(),
            dir.path().join("manifest.csv").to_str().unwrap().into(),
            "--slice-by".into(),
            "side,batch".into(),
            "--min-n".into(),
            "2".into(),
            "--features".into(),
            "grid:2x2".into(),
            "--baseline".into(),
            "zero".into(),
            "--profile-method".into(),
            "exact".into(),
            "--profile-items".into(),
            "4".into(),
            "--bootstrap".into(),
            "200".into(),
            "--threads".into(),
            threads.into(),
            "--quiet".into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let a = args("1", &out);
    let got = run_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let p = &got["profiles"];
    assert_eq!(p["explained"].as_array().unwrap().len(), 8);
    let mean = |side: Option<&str>| -> Vec<f64> {
        let rows: Vec<&Vec<f64>> = phis
            .iter()
            .filter(|(s, _)| side.is_none_or(|x| x == s))
            .map(|(_, p)| p)
            .collect();
        (0..4)
            .map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / rows.len() as f64)
            .collect()
    };
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let overall = mean(None);
    for (g, w) in floats(&p["overall"]).iter().zip(&overall) {
        assert!((g - w).abs() < 1e-5, "overall {g} vs {w}");
    }
    for s in p["slices"].as_array().unwrap() {
        if s["attribute"] != "side" {
            continue;
        }
        let want = mean(s["value"].as_str());
        for (g, w) in floats(&s["mean_abs"]).iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{}: {g} vs {w}", s["value"]);
        }
        let rho = explain_core::math::stats::spearman(&want, &overall).unwrap();
        let d = s["spearman_distance"].as_f64().unwrap();
        assert!((d - (1.0 - rho)).abs() < 1e-9, "{d} vs {}", 1.0 - rho);
        let verdict = if d > 0.5 { "flag" } else { "pass" };
        assert_eq!(s["verdict"], verdict);
    }
    // The right slice relies on the other half: flagged; the batches mix both: not flagged.
    let verdicts: Vec<(&str, &str)> = p["slices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["value"].as_str().unwrap(), s["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("left", "pass"),
            ("right", "flag"),
            ("b0", "pass"),
            ("b1", "pass")
        ]
    );
    // Same bytes with two threads.
    let out2 = dir.path().join("slices2.json");
    let b = args("2", &out2);
    run_ok(&b.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
}

fn inspection_args<'a>(manifest: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "slices",
        "--model",
        Box::leak(sample("inspection/defect_cnn.onnx").into_boxed_str()),
        "--manifest",
        manifest,
        "--channels",
        "gray",
        "--profile-items",
        "0",
        "--quiet",
        "--out",
        out,
    ]
}

#[test]
fn fail_on_flag_exits_1_after_writing_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let mut args = inspection_args(
        Box::leak(sample("inspection/manifest.csv").into_boxed_str()),
        out.to_str().unwrap(),
    );
    args.extend(["--slice-by", "surface", "--fail-on-flag"]);
    let run = cli(&args);
    assert_exit(&run, 1, &["--fail-on-flag", "accuracy by surface"]);
    assert!(out.is_file() && dir.path().join("predictions.csv").is_file());
    // Loosened rules: nothing flagged, exit 0.
    args.extend([
        "--rule",
        "accuracy=difference:0.2",
        "--rule",
        "fpr=difference:0.2",
        "--rule",
        "fnr=difference:0.2",
    ]);
    let run = cli(&args);
    assert_exit(&run, 0, &[]);
}

#[test]
fn bad_manifests_are_named_and_leave_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let img = sample("inspection/validation/brick-normal-00.png");
    let out = dir.path().join("s.json");
    let out_s = out.to_str().unwrap().to_string();
    let cases: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (
            write(
                "missing.csv",
                &format!("input,label,site\n{img},0,a\nnope1.png,1,b\nnope2.png,0,a\n"),
            ),
            vec!["--slice-by", "site"],
            vec![
                "missing.csv",
                "2 of 3 item files do not exist",
                "nope1.png (line 3)",
                "nope2.png (line 4)",
            ],
        ),
        (
            write("nolabel.csv", &format!("input,site\n{img},a\n{img},b\n")),
            vec!["--slice-by", "site"],
            vec!["nolabel.csv", "no 'label' column"],
        ),
        (
            write("noinput.csv", "file,label,site\nx.png,0,a\n"),
            vec!["--slice-by", "site"],
            vec!["noinput.csv", "no 'input' column"],
        ),
        (
            write(
                "badlabel.csv",
                &format!("input,label,site\n{img},0,a\n{img},2,b\n{img},yes,b\n"),
            ),
            vec!["--slice-by", "site"],
            vec![
                "badlabel.csv",
                "2 labels are not classes of the model",
                "line 3: '2'",
                "line 4: 'yes'",
            ],
        ),
        (
            write(
                "single.csv",
                &format!("input,label,site\n{img},0,a\n{img},1,a\n"),
            ),
            vec!["--slice-by", "site"],
            vec!["single.csv", "attribute 'site'", "single value ('a')"],
        ),
        (
            write(
                "nocol.csv",
                &format!("input,label,site\n{img},0,a\n{img},1,b\n"),
            ),
            vec!["--slice-by", "locale"],
            vec!["nocol.csv", "no 'locale' column", "input, label, site"],
        ),
        (
            write(
                "ok.csv",
                &format!("input,label,site\n{img},0,a\n{img},1,b\n"),
            ),
            vec![],
            vec!["nothing to slice by"],
        ),
        (
            write(
                "ok2.csv",
                &format!("input,label,site\n{img},0,a\n{img},1,b\n"),
            ),
            vec!["--slice-by", "site", "--rule", "auc=ratio:0.8"],
            vec!["unknown metric 'auc'"],
        ),
        (
            write(
                "ok3.csv",
                &format!("input,label,site\n{img},0,a\n{img},1,b\n"),
            ),
            vec!["--slice-by", "site", "--positive", "2"],
            vec!["--positive 2 is not a class", "2 outputs"],
        ),
    ];
    for (manifest, extra, expect) in cases {
        let mut args = inspection_args(&manifest, &out_s);
        args.extend(extra);
        assert_exit(&cli(&args), 2, &expect);
        assert!(
            !out.exists() && !dir.path().join("predictions.csv").exists(),
            "{manifest}"
        );
    }
}
