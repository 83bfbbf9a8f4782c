//! `explain report`: the reference reports validate against the schema and match their files;
//! a report is deterministic apart from its timing block, self-contained, renders in headless
//! Chromium, and config errors name the key and the line.

use crate::common;

use common::{assert_exit, cli, data, report_ok as report};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

fn schema() -> jsonschema::Validator {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(repo("schemas/explain.report-1.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Checks what must hold for every report directory: schema, artifact hashes, a
/// self-contained HTML page.
fn check_report_dir(dir: &Path) -> Value {
    let doc = read_json(&dir.join("report.json"));
    assert_valid(&schema(), &doc, &dir.display().to_string());
    let artifacts = doc["reproducibility"]["artifacts"].as_array().unwrap();
    for a in artifacts {
        let bytes = std::fs::read(dir.join(a["path"].as_str().unwrap())).unwrap();
        assert_eq!(
            explain_core::util::provenance::sha256_hex(&bytes),
            a["sha256"].as_str().unwrap(),
            "{}",
            a["path"]
        );
    }
    for required in [
        "predictions.csv",
        "slices.json",
        "inventory.json",
        "plots/disparities.svg",
    ] {
        assert!(
            artifacts.iter().any(|a| a["path"] == required),
            "{required} not listed"
        );
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "scripts in report.html");
    for bad in ["src=", "@import", "url(http", "<link"] {
        assert!(!html.contains(bad), "report.html contains '{bad}'");
    }
    // The only URLs are XML namespaces of inlined SVG.
    for (i, _) in html.match_indices("http") {
        let before = &html[i.saturating_sub(12)..i];
        assert!(
            before.contains("xmlns") || before.contains("xlink"),
            "external reference in report.html near: {}",
            &html[i.saturating_sub(40)..(i + 60).min(html.len())]
        );
    }
    // Links are anchors within the page or inline data (the raster panels of image plots).
    for (i, _) in html.match_indices("href=\"") {
        let target = &html[i + 6..(i + 17).min(html.len())];
        assert!(
            target.starts_with('#') || target.starts_with("data:image/"),
            "link to '{target}' in report.html"
        );
    }
    assert!(html.contains("<svg"), "no inlined plots");
    doc
}

#[test]
fn reference_reports_validate_and_match_their_files() {
    for task in ["camera", "detector", "speech", "inspection"] {
        let dir = repo(&format!("reports/{task}"));
        let doc = check_report_dir(&dir);
        // The report was made from the sample config that is in the repository now.
        let config = repo(&format!("models-sample/{task}/explain.toml"));
        assert_eq!(
            doc["reproducibility"]["config"]["sha256"],
            explain_core::util::provenance::sha256_file(&config).unwrap(),
            "reports/{task} is stale: regenerate it with the README's command"
        );
        let model = repo(&format!(
            "models-sample/{task}/{}",
            doc["identification"]["model"]["path"].as_str().unwrap()
        ));
        assert_eq!(
            doc["identification"]["model"]["sha256"],
            explain_core::util::provenance::sha256_file(&model).unwrap()
        );
    }
}

fn without_timing(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("timing");
    doc
}

#[test]
fn a_report_is_complete_deterministic_and_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    let config = data("report/inspection-small.toml");
    let first = report(&config, &out);
    let html_first = std::fs::read(out.join("report.html")).unwrap();
    check_report_dir(&out);
    assert_eq!(first["schema"], "explain.report/1");
    assert_eq!(
        first["explanations"]["methods"].as_array().unwrap().len(),
        2
    );
    let items = first["explanations"]["methods"][0]["items"]
        .as_array()
        .unwrap();
    // The listed item plus one per slice (surface 3, lighting 4, site & lighting 12), merged.
    assert!(items.len() > 3, "{}", items.len());
    assert_eq!(
        items[0]["input"],
        "../../../models-sample/inspection/samples/scratch.png"
    );
    for i in items {
        let residual = i["efficiency_residual"].as_f64().unwrap();
        assert!(residual < 1e-6, "{residual}");
        for p in i["plots"].as_array().unwrap() {
            assert!(out.join(p.as_str().unwrap()).is_file(), "{p}");
        }
    }
    // User text is escaped in the page.
    let html = String::from_utf8(html_first.clone()).unwrap();
    assert!(html.contains("Test &lt;b&gt;escaping&lt;/b&gt; &amp; rendering."));
    assert!(html.contains("Disparities") && html.contains("Limitations"));
    // Same bytes again, into the same directory (replaced), apart from the timing block.
    let second = report(&config, &out);
    assert_eq!(without_timing(first), without_timing(second.clone()));
    for f in [
        "slices.json",
        "predictions.csv",
        "attributions-kernel.json",
        "inventory.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let html_second = std::fs::read(out.join("report.html")).unwrap();
    assert_eq!(html_first, html_second);
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().count() == 1,
        "temporary directories left behind"
    );
    // The recorded command names --out as given, not the staging directory it was written in.
    let cmd = |out: &str| format!("explain report {} --out {out}", config.display());
    assert_eq!(
        second["reproducibility"]["command"],
        cmd(out.to_str().unwrap())
    );
    std::fs::create_dir(tmp.path().join("rel")).unwrap();
    let config_arg = config.to_str().unwrap();
    let run = common::cli_in(
        tmp.path(),
        &["report", config_arg, "--out", "rel/report", "--quiet"],
    );
    assert_exit(&run, 0, &[]);
    let third = read_json(&tmp.path().join("rel/report/report.json"));
    assert_eq!(third["reproducibility"]["command"], cmd("rel/report"));
    render_in_chromium(&out.join("report.html"), tmp.path());
}

/// Renders the page in headless Chromium (installed by .ci/run) and checks the screenshot is
/// not blank.
fn render_in_chromium(html: &Path, dir: &Path) {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("EXPLAIN_SKIP_BROWSER").is_some(),
            "headless Chromium is needed to check report.html (apt-get install chromium, as .ci/run does), or set EXPLAIN_SKIP_BROWSER=1 to skip this check"
        );
        eprintln!("EXPLAIN_SKIP_BROWSER set: report.html not rendered");
        return;
    };
    let shot = dir.join("report.png");
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,2000",
            &format!("--screenshot={}", shot.display()),
            &format!("--user-data-dir={}", dir.join("chromium-profile").display()),
            &format!("file://{}", html.canonicalize().unwrap().display()),
        ])
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&shot).unwrap().to_luma8();
    assert_eq!(img.width(), 1280);
    let pixels: Vec<f64> = img.pixels().map(|p| p.0[0] as f64).collect();
    let mean = pixels.iter().sum::<f64>() / pixels.len() as f64;
    let var = pixels.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / pixels.len() as f64;
    let dark = pixels.iter().filter(|p| **p < 128.0).count() as f64 / pixels.len() as f64;
    assert!(
        var > 100.0 && dark > 0.005,
        "blank screenshot: variance {var}, dark share {dark}"
    );
}

#[test]
fn config_errors_name_the_key_and_line_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(data("report/inspection-small.toml")).unwrap();
    let base = base.replace("../../../", &format!("{}/", repo("").display()));
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "samples = 64",
            "samples = 64\nsampels = 3",
            &["line 15", "sampels"],
        ),
        (
            "path = \"",
            "# no path\nmodel_path = \"",
            &["unknown field `model_path`"],
        ),
        (
            "[intended_use]\npurpose",
            "[intended_use]\npurpoze",
            &["purpoze"],
        ),
        (
            "features = \"grid:2x2\"",
            "features = \"grid:2\"",
            &["[explanations] features", "line 16"],
        ),
        (
            "methods = [\"kernel\", \"permutation\"]",
            "methods = [\"kernel\", \"shapley\"]",
            &["[explanations] methods", "line 13", "shapley"],
        ),
        (
            "slice_by = [\"surface\", \"lighting\"]",
            "slice_by = [\"surface\", \"locale\"]",
            &["no 'locale' column"],
        ),
        ("min_n = 30", "min_n = \"thirty\"", &["line 25", "min_n"]),
    ];
    let out = tmp.path().join("r");
    for (from, to, expect) in cases {
        assert!(base.contains(from), "{from}");
        let config = tmp.path().join("bad.toml");
        std::fs::write(&config, base.replacen(from, to, 1)).unwrap();
        let run = cli(&[
            "report",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_exit(&run, 2, expect);
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("bad.toml")], "{to}");
    }
    // A directory that is not a report is never replaced.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "x").unwrap();
    let run = cli(&[
        "report",
        data("report/inspection-small.toml").to_str().unwrap(),
        "--out",
        other.to_str().unwrap(),
    ]);
    assert_exit(&run, 2, &["keep.txt, which this tool did not write"]);
    assert!(other.join("keep.txt").is_file());
}

#[test]
fn verify_passes_on_a_fresh_report_and_names_what_was_changed() {
    let tmp = tempfile::tempdir().unwrap();
    // A copy of the small config whose model and listed item live in the temporary directory.
    let model = tmp.path().join("defect_cnn.onnx");
    let item = tmp.path().join("scratch.png");
    std::fs::copy(repo("models-sample/inspection/defect_cnn.onnx"), &model).unwrap();
    std::fs::copy(repo("models-sample/inspection/samples/scratch.png"), &item).unwrap();
    let config = std::fs::read_to_string(data("report/inspection-small.toml"))
        .unwrap()
        .replace(
            "../../../models-sample/inspection/defect_cnn.onnx",
            "defect_cnn.onnx",
        )
        .replace(
            "../../../models-sample/inspection/samples/scratch.png",
            "scratch.png",
        )
        .replace("../../../", &format!("{}/", repo("").display()))
        .replace("per_slice = 1", "per_slice = 0")
        .replace("profile_items = 1", "profile_items = 0");
    let config_path = tmp.path().join("explain.toml");
    std::fs::write(&config_path, config).unwrap();
    let out = tmp.path().join("report");
    report(&config_path, &out);
    let report_json = out.join("report.json");
    let verify = || cli(&["verify", report_json.to_str().unwrap(), "--quiet"]);
    let ok = verify();
    assert_exit(&ok, 0, &[]);
    assert!(String::from_utf8_lossy(&ok.stdout).contains("verified: bit-identical"));

    // A changed model file, then a changed input file: named, exit 1.
    for (file, name) in [
        (&model, "defect_cnn.onnx (input)"),
        (&item, "scratch.png (input)"),
    ] {
        let original = std::fs::read(file).unwrap();
        let mut bytes = original.clone();
        bytes.push(0);
        std::fs::write(file, &bytes).unwrap();
        assert_exit(&verify(), 1, &["does not verify", name]);
        std::fs::write(file, original).unwrap();
    }
    assert_exit(&verify(), 0, &[]);

    // An edited attribution value and an edited slice metric in report.json: caught by the
    // re-run, named by their path.
    let original = std::fs::read(&report_json).unwrap();
    let edits: [(&[&str], &str); 2] = [
        (
            &["explanations", "methods", "0", "items", "0", "values", "1"],
            "explanations.methods[0].items[0].values[1]",
        ),
        (
            &["performance", "slices", "2", "metrics", "tpr", "value"],
            "performance.slices[2].metrics.tpr.value",
        ),
    ];
    for (path, shown) in edits {
        let mut doc: Value = serde_json::from_slice(&original).unwrap();
        let mut v = &mut doc;
        for p in path {
            v = match p.parse::<usize>() {
                Ok(i) => &mut v[i],
                Err(_) => &mut v[*p],
            };
        }
        *v = Value::from(v.as_f64().unwrap() + 0.001);
        std::fs::write(&report_json, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        assert_exit(&verify(), 1, &["does not verify", shown]);
    }
    // An edited attribution file beside the report: its hash no longer matches.
    std::fs::write(&report_json, &original).unwrap();
    let attributions = out.join("attributions-kernel.json");
    let text = std::fs::read_to_string(&attributions).unwrap();
    std::fs::write(
        &attributions,
        text.replacen("\"values\": [", "\"values\": [0.5, ", 1),
    )
    .unwrap();
    assert_exit(&verify(), 1, &["attributions-kernel.json (artifact"]);
}

/// A report whose datasheet requires lighting and sites in markets with no language
/// requirement, and skin-tone groups that no manifest has: the markets are judged on the
/// attributes, and the report says what cannot be assessed.
#[test]
fn a_report_judges_markets_on_attribute_requirements() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sheet = d.join("datasheet.toml");
    let mut text =
        std::fs::read_to_string(repo("models-sample/inspection/datasheet.toml")).unwrap();
    // The sample's own markets and requirements give way to this test's.
    text.truncate(text.find("\n# Target markets").unwrap_or(text.len()));
    text += "\n[markets]\nEU = []\nJP = []\n\n[requirements.\"*\"]\nlighting = [\"dim\", \"normal\", \"bright\", \"uneven\"]\n\n\
             [requirements.EU]\nsite = [\"plant-A\", \"plant-D\"]\n\n[requirements.JP]\nskin_tone = [\"I-II\"]\n";
    std::fs::write(&sheet, text).unwrap();
    let config_text = std::fs::read_to_string(data("report/inspection-small.toml"))
        .unwrap()
        .replace(
            "../../../models-sample/",
            &format!("{}/", repo("models-sample").display()),
        )
        .replace(
            &format!(
                "{}/inspection/datasheet.toml",
                repo("models-sample").display()
            ),
            sheet.to_str().unwrap(),
        )
        .replace("[markets]\nJP = [\"ja-JP\"]\n", "")
        .replace("per_slice = 1", "per_slice = 0")
        .replace("profile_items = 1", "profile_items = 0");
    let config = d.join("explain.toml");
    std::fs::write(&config, config_text).unwrap();
    let doc = report(&config, &d.join("out"));
    let c = &doc["data"]["coverage"];
    assert_eq!(c["assessable"], true, "{c}");
    assert_eq!(c["markets"][0]["market"], "EU");
    assert_eq!(c["markets"][0]["covered"], false);
    assert_eq!(
        c["markets"][0]["verdict"],
        "NOT COVERED — site=plant-D missing; present values: plant-A, plant-B, plant-C"
    );
    assert!(c["markets"][1]["covered"].is_null());
    assert_eq!(
        doc["summary"]["uncovered_markets"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let limitations = doc["limitations"].to_string();
    assert!(
        limitations.contains("The target markets' `skin_tone` requirements could not be assessed: no validation manifest has a `skin_tone` column"),
        "{limitations}"
    );
    let html = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(html.contains("<td>no language requirement</td>"));
    assert!(html.contains("<th scope=\"col\">Attribute requirements</th>"));
}
