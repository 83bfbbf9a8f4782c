//! Careless and hostile input: bounded memory, nothing clobbered or deleted, clear one-line
//! errors, and a verify that covers what the reviewer reads and stays inside the report.

use crate::common;

use common::{assert_exit, cli, cli_in, data, sample};
use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_fixtures(dir: &Path) {
    for f in ["mlp.onnx", "mlp_x.npy", "mlp_bg.npy"] {
        std::fs::copy(data(f), dir.join(f)).unwrap();
    }
}

/// `explain shap` on the test MLP in `dir`, with `extra` arguments.
fn shap(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "shap",
        "--model",
        "mlp.onnx",
        "--input",
        "mlp_x.npy",
        "--background",
        "mlp_bg.npy",
        "--quiet",
    ];
    args.extend(extra);
    cli_in(dir, &args)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One line of error, no more.
fn one_line(out: &std::process::Output) {
    let e = stderr(out);
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
}

#[test]
fn sizes_from_files_and_budgets_are_bounded_before_anything_is_allocated() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    copy_fixtures(d);
    // An .npy header claiming 1e11 × 10 values over 64 bytes of data.
    let header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 10), }";
    let mut header = header.to_vec();
    header.resize(117, b' ');
    header.push(b'\n');
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend((header.len() as u16).to_le_bytes());
    npy.extend(&header);
    npy.extend([0u8; 64]);
    std::fs::write(d.join("big.npy"), npy).unwrap();
    let run = cli_in(
        d,
        &[
            "shap", "--model", "mlp.onnx", "--input", "big.npy", "--out", "o.json",
        ],
    );
    assert_exit(
        &run,
        2,
        &["big.npy claims shape [100000000000, 10]", "holds 64 bytes"],
    );
    one_line(&run);
    // A model declaring a 112 GiB input row, with a small image.
    let run = cli(&[
        "shap",
        "--model",
        data("external/huge_input.onnx").to_str().unwrap(),
        "--input",
        data("linear_image.png").to_str().unwrap(),
        "--out",
        d.join("o.json").to_str().unwrap(),
    ]);
    assert_exit(
        &run,
        2,
        &["one row of input 'x'", "needs 112 GiB", "--max-memory"],
    );
    // Budgets that imply more memory than the limit, named with how to lower them.
    for (cmd, method) in [("shap", "permutation"), ("lime", "")] {
        let mut args = vec![
            cmd,
            "--model",
            "mlp.onnx",
            "--input",
            "mlp_x.npy",
            "--background",
            "mlp_bg.npy",
            "--samples",
            "1000000000000",
            "--out",
            "o.json",
        ];
        if !method.is_empty() {
            args.extend(["--method", method]);
        }
        let run = cli_in(d, &args);
        assert_exit(
            &run,
            2,
            &["needs", "more than the limit", "lower --samples to at most"],
        );
        one_line(&run);
    }
    // Kernel SHAP on a 64-cell grid (2^64 coalitions: no cap) with 1e12 samples.
    let run = cli(&[
        "shap",
        "--model",
        &sample("inspection/defect_cnn.onnx"),
        "--channels",
        "gray",
        "--output",
        "probabilities",
        "--input",
        &sample("inspection/samples/scratch.png"),
        "--features",
        "grid:8x8",
        "--method",
        "kernel",
        "--samples",
        "1000000000000",
        "--out",
        d.join("o.json").to_str().unwrap(),
    ]);
    assert_exit(
        &run,
        2,
        &["kernel with 1000000000000 coalitions on 64 features"],
    );
    let run = shap(
        d,
        &[
            "--quality",
            "--quality-seeds",
            "1000000000",
            "--out",
            "o.json",
        ],
    );
    assert_exit(&run, 2, &["--quality-seeds 1000000000", "at most 100"]);
    // A smaller limit, asked for.
    let run = cli_in(
        d,
        &[
            "--max-memory",
            "1K",
            "shap",
            "--model",
            "mlp.onnx",
            "--input",
            "mlp_x.npy",
            "--out",
            "o.json",
        ],
    );
    assert_exit(&run, 2, &["more than the limit of 1.0 KiB"]);
    assert!(!d.join("o.json").exists());
    // Thousands of threads: capped, with a note, and the same bytes.
    let run = shap(d, &["--threads", "10000", "--out", "many.json"]);
    assert_exit(&run, 0, &["--threads 10000 lowered to"]);
    let run = shap(d, &["--threads", "1", "--out", "one.json"]);
    assert_exit(&run, 0, &[]);
    assert_eq!(
        std::fs::read(d.join("many.json")).unwrap(),
        std::fs::read(d.join("one.json")).unwrap()
    );
}

#[test]
fn outputs_never_replace_inputs_links_or_devices() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    copy_fixtures(d);
    let model = std::fs::read(d.join("mlp.onnx")).unwrap();
    for target in ["mlp.onnx", "mlp_x.npy", "mlp_bg.npy"] {
        let run = shap(d, &["--out", target]);
        assert_exit(&run, 2, &["an input of this run"]);
    }
    assert_eq!(std::fs::read(d.join("mlp.onnx")).unwrap(), model);
    #[cfg(unix)]
    {
        std::fs::write(d.join("precious.txt"), "keep").unwrap();
        std::os::unix::fs::symlink(d.join("precious.txt"), d.join("link.json")).unwrap();
        assert_exit(&shap(d, &["--out", "link.json"]), 2, &["symbolic link"]);
        assert_eq!(
            std::fs::read_to_string(d.join("precious.txt")).unwrap(),
            "keep"
        );
        assert_exit(
            &shap(d, &["--out", "/dev/null"]),
            2,
            &["not a regular file"],
        );
        if Command::new("mkfifo")
            .arg(d.join("fifo"))
            .status()
            .is_ok_and(|s| s.success())
        {
            assert_exit(&shap(d, &["--out", "fifo"]), 2, &["not a regular file"]);
        }
    }
    // A plot directory that cannot be made: neither the plots nor the file are written.
    std::fs::write(d.join("plots"), "a file").unwrap();
    let run = shap(d, &["--out", "p.json", "--plot", "plots"]);
    assert_exit(&run, 2, &["plots"]);
    assert!(!d.join("p.json").exists());
    // slices: --predictions naming the manifest.
    let manifest = sample("inspection/manifest.csv");
    let before = std::fs::read(&manifest).unwrap();
    let run = cli(&[
        "slices",
        "--model",
        &sample("inspection/defect_cnn.onnx"),
        "--channels",
        "gray",
        "--manifest",
        &manifest,
        "--slice-by",
        "surface",
        "--predictions",
        &manifest,
        "--out",
        d.join("s.json").to_str().unwrap(),
    ]);
    assert_exit(&run, 2, &["an input of this run"]);
    assert_eq!(std::fs::read(&manifest).unwrap(), before);
    // Nothing was left behind by any of it.
    let left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The small inspection report config, with paths made absolute, written into `dir`.
fn small_config(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(data("report/inspection-small.toml"))
        .unwrap()
        .replace("../../../models-sample/", &sample(""))
        .replace("per_slice = 1", "per_slice = 0")
        .replace("profile_items = 1", "profile_items = 0");
    let path = dir.join("explain.toml");
    std::fs::write(&path, edit(text)).unwrap();
    path
}

/// Starts `explain report CONFIG --out OUT` and lets it run for a moment.
fn spawn_report(config: &str, out: &Path) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_explain"))
        .args(["report", config, "--out", out.to_str().unwrap(), "--quiet"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child
}

#[test]
fn a_report_directory_is_replaced_only_when_it_holds_a_report_and_interrupts_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let config = small_config(d, |t| t);
    let config = config.to_str().unwrap();
    let out = d.join("out");
    // A directory with the user's files and a stray report.json: refused, all kept.
    std::fs::create_dir_all(out.join("photos")).unwrap();
    std::fs::write(out.join("thesis.txt"), "years of work").unwrap();
    std::fs::write(out.join("report.json"), r#"{"schema": "explain.report/1"}"#).unwrap();
    let run = cli(&["report", config, "--out", out.to_str().unwrap(), "--quiet"]);
    assert_exit(&run, 2, &["which this tool did not write"]);
    assert!(out.join("thesis.txt").is_file() && out.join("photos").is_dir());
    // Interrupted (SIGTERM): no temporary directory stays.
    let fresh = d.join("fresh");
    let mut child = spawn_report(config, &fresh);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let left = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".fresh"))
            .collect()
    };
    if !status.success() {
        assert!(left(d).is_empty(), "{:?}", left(d));
    }
    // Killed outright: the next run removes what it left, and says so.
    let mut child = spawn_report(config, &fresh);
    let _ = child.kill();
    let _ = child.wait();
    let stale = left(d);
    let run = cli(&["report", config, "--out", fresh.to_str().unwrap()]);
    assert_exit(&run, 0, &[]);
    if !stale.is_empty() && Path::new("/proc/self").exists() {
        assert!(
            stderr(&run).contains("left by an interrupted run"),
            "{}",
            stderr(&run)
        );
    }
    assert!(left(d).is_empty(), "{:?}", left(d));
    // A finished report is replaced by the next.
    let run = cli(&[
        "report",
        config,
        "--out",
        fresh.to_str().unwrap(),
        "--quiet",
    ]);
    assert_exit(&run, 0, &[]);
}

#[test]
fn verify_covers_the_page_and_every_artifact_and_stays_inside_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let config = small_config(d, |t| t);
    let out = d.join("report");
    let run = cli(&[
        "report",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_exit(&run, 0, &[]);
    let report = out.join("report.json");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", report.to_str().unwrap(), "--quiet"];
        args.extend(extra);
        cli(&args)
    };
    assert_exit(&verify(&[]), 0, &[]);
    let original_json = std::fs::read(&report).unwrap();
    let rehash = |rel: &str| {
        let mut doc: serde_json::Value = serde_json::from_slice(&original_json).unwrap();
        let sha = explain_core::util::provenance::sha256_file(&out.join(rel)).unwrap();
        let r = &mut doc["reproducibility"];
        if rel == "report.html" {
            r["page"]["sha256"] = sha.into();
        } else {
            for a in r["artifacts"].as_array_mut().unwrap() {
                if a["path"] == rel {
                    a["sha256"] = sha.clone().into();
                }
            }
        }
        std::fs::write(&report, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    };
    // The page, a plot, the predictions and an attribution file, each edited: named by its
    // hash; with its hash updated in report.json too: caught by the re-run, with a
    // tolerance as well.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let flagged = html.replace("FLAG", "PASS").replace(">flag<", ">pass<");
    assert_ne!(flagged, html);
    let predictions = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    let attributions = std::fs::read_to_string(out.join("attributions-kernel.json")).unwrap();
    let svg = std::fs::read_to_string(out.join("plots/disparities.svg")).unwrap();
    let edits: [(&str, String, String); 4] = [
        ("report.html", html.clone(), flagged),
        (
            "predictions.csv",
            predictions.clone(),
            predictions.replacen(",1\n", ",0\n", 1),
        ),
        (
            "attributions-kernel.json",
            attributions.clone(),
            attributions.replacen("\"values\": [", "\"values\": [0.5, ", 1),
        ),
        (
            "plots/disparities.svg",
            svg.clone(),
            svg.replacen("<text", "<text font-weight=\"bold\"", 1),
        ),
    ];
    for (rel, original, edited) in edits {
        assert_ne!(original, edited, "{rel}");
        std::fs::write(out.join(rel), &edited).unwrap();
        assert_exit(&verify(&[]), 1, &[rel]);
        rehash(rel);
        assert_exit(&verify(&[]), 1, &[rel]);
        assert_exit(&verify(&["--tolerance", "1e-5"]), 1, &[rel]);
        std::fs::write(out.join(rel), original).unwrap();
        std::fs::write(&report, &original_json).unwrap();
    }
    assert_exit(&verify(&[]), 0, &[]);
    // Paths that leave the report, or inputs the config does not name: tampering, exit 1,
    // and nothing outside is read.
    for (field, value) in [
        ("artifacts", "../../../../etc/passwd"),
        ("artifacts", "/dev/zero"),
        ("inputs", "/etc/passwd"),
    ] {
        let mut doc: serde_json::Value = serde_json::from_slice(&original_json).unwrap();
        doc["reproducibility"][field][0]["path"] = value.into();
        std::fs::write(&report, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        assert_exit(&verify(&[]), 1, &[value]);
    }
    std::fs::write(&report, &original_json).unwrap();
}

#[test]
fn messages_are_one_line_blame_the_right_file_and_never_echo_content() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // A datasheet that is not TOML (here, a password file): one line, none of its content.
    std::fs::write(
        d.join("sheet.toml"),
        "root:x:0:0:root:/root:/bin/bash\nsecret line\n",
    )
    .unwrap();
    let run = cli(&[
        "inventory",
        &sample("speech/manifest.csv"),
        "--datasheet",
        d.join("sheet.toml").to_str().unwrap(),
        "--out",
        d.join("i.json").to_str().unwrap(),
    ]);
    assert_exit(&run, 2, &["sheet.toml, line 1"]);
    one_line(&run);
    assert!(!stderr(&run).contains("root:x") && !stderr(&run).contains("secret"));
    // A bad [markets] value in a report config: blamed on the config and its line.
    let config = small_config(d, |t| t.replace("JP = [\"ja-JP\"]", "JP = [\"Japan!\"]"));
    let run = cli(&[
        "report",
        config.to_str().unwrap(),
        "--out",
        d.join("r").to_str().unwrap(),
    ]);
    assert_exit(
        &run,
        2,
        &["explain.toml, line 35", "[markets] JP", "Japan!"],
    );
    // NaN samples in a clip: blamed on the clip.
    let clip = d.join("nan.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&clip, spec).unwrap();
    for i in 0..400 {
        w.write_sample(if i == 7 { f32::NAN } else { 0.1 }).unwrap();
    }
    w.finalize().unwrap();
    let run = cli(&[
        "shap",
        "--model",
        data("linear_audio.onnx").to_str().unwrap(),
        "--input",
        clip.to_str().unwrap(),
        "--sample-rate",
        "8000",
        "--out",
        d.join("a.json").to_str().unwrap(),
    ]);
    assert_exit(&run, 2, &["nan.wav has a non-finite sample"]);
    // A negative constant baseline is a value, not an unknown flag.
    copy_fixtures(d);
    let run = cli_in(
        d,
        &[
            "shap",
            "--model",
            "mlp.onnx",
            "--input",
            "mlp_x.npy",
            "--baseline",
            "-10",
            "--quiet",
            "--out",
            "neg.json",
        ],
    );
    assert_exit(&run, 0, &[]);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("neg.json")).unwrap()).unwrap();
    assert!(
        doc["params"]["baseline"].to_string().contains("-10"),
        "{doc}"
    );
}

#[test]
fn models_with_external_weights_load_and_record_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for f in ["external/linear_ext.onnx", "external/linear_ext.weights"] {
        std::fs::copy(data(f), d.join(Path::new(f).file_name().unwrap())).unwrap();
    }
    std::fs::copy(data("linear_x.npy"), d.join("x.npy")).unwrap();
    std::fs::copy(data("linear_bg.npy"), d.join("bg.npy")).unwrap();
    let args = [
        "shap",
        "--model",
        "linear_ext.onnx",
        "--input",
        "x.npy",
        "--background",
        "bg.npy",
        "--quiet",
        "--out",
        "ext.json",
    ];
    assert_exit(&cli_in(d, &args), 0, &[]);
    let ext: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("ext.json")).unwrap()).unwrap();
    // The same numbers as the model with its weights inside.
    let inside = cli(&[
        "shap",
        "--model",
        data("linear.onnx").to_str().unwrap(),
        "--input",
        data("linear_x.npy").to_str().unwrap(),
        "--background",
        data("linear_bg.npy").to_str().unwrap(),
        "--quiet",
        "--out",
        d.join("in.json").to_str().unwrap(),
    ]);
    assert_exit(&inside, 0, &[]);
    let inside: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("in.json")).unwrap()).unwrap();
    assert_eq!(
        ext["explanations"][0]["values"],
        inside["explanations"][0]["values"]
    );
    assert_eq!(
        ext["model"]["external_data"][0]["path"],
        "linear_ext.weights"
    );
    // verify checks the weights file too.
    assert_exit(&cli_in(d, &["verify", "ext.json", "--quiet"]), 0, &[]);
    std::fs::write(d.join("linear_ext.weights"), [0u8; 36]).unwrap();
    assert_exit(
        &cli_in(d, &["verify", "ext.json", "--quiet"]),
        1,
        &["linear_ext.weights (model weights)"],
    );
    // Without its weights file: a clear error.
    std::fs::remove_file(d.join("linear_ext.weights")).unwrap();
    assert_exit(
        &cli_in(d, &args),
        2,
        &["keeps its weights in linear_ext.weights, which does not exist"],
    );
}
