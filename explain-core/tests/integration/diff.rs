//! `explain diff`: the explanation stability gate, on the committed reference reports and
//! attribution files (mutated in memory).

use explain_core::check::diff::{Direction, Thresholds, diff};
use explain_core::math::stability::{self, kendall_tau_b};
use explain_core::{Error, math::stats};
use serde_json::Value;
use std::path::Path;

const TASKS: [&str; 4] = ["camera", "detector", "speech", "inspection"];

fn load(rel: &str) -> Value {
    let path = format!("{}/../reports/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn values(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The attribution files of every task: (task, file name).
fn attribution_files() -> Vec<String> {
    let mut out = Vec::new();
    for task in TASKS {
        let dir = format!("{}/../reports/{task}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("attributions-") && n.ends_with(".json"))
            .collect();
        names.sort();
        out.extend(names.into_iter().map(|n| format!("{task}/{n}")));
    }
    assert!(out.len() >= 6, "{out:?}");
    out
}

#[test]
fn identical_documents_pass_with_every_similarity_one() {
    let mut docs: Vec<String> = attribution_files();
    docs.extend(TASKS.iter().map(|t| format!("{t}/report.json")));
    for rel in docs {
        let doc = load(&rel);
        let d = diff(&doc, &doc, &Thresholds::default()).unwrap();
        assert!(d.passed(), "{rel}: {:?}", d.regressions);
        assert!(d.regressions.is_empty() && d.missing.is_empty() && d.added.is_empty());
        assert!(!d.model_changed && d.old.model_sha256.is_some(), "{rel}");
        assert!(!d.items.is_empty(), "{rel}");
        for item in &d.items {
            let s = &item.similarity;
            // A constant attribution vector (an input that does not move the model) has no
            // ranking; every other one agrees perfectly with itself.
            let constant = s.spearman.is_none();
            assert_eq!(s.kendall_tau_b.is_none(), constant, "{rel}: {}", item.key);
            if !constant {
                assert_eq!(
                    (s.spearman, s.kendall_tau_b),
                    (Some(1.0), Some(1.0)),
                    "{rel}"
                );
            }
            assert_eq!(s.topk_jaccard, 1.0);
            assert!(s.cosine.is_none_or(|c| c == 1.0), "{rel}: {:?}", s.cosine);
            assert_eq!(s.max_abs_change, 0.0);
            assert!(item.failures.is_empty());
            assert!(item.max_change_in_se.is_none_or(|z| z == 0.0));
        }
        for m in &d.methods {
            assert_eq!(m.mean_topk_jaccard, Some(1.0), "{rel}");
            assert!(m.mean_spearman.is_none_or(|x| x == 1.0), "{rel}");
            let g = m.global.as_ref().unwrap();
            assert_eq!(
                (g.spearman, g.topk_jaccard, g.max_abs_change),
                (Some(1.0), 1.0, 0.0)
            );
        }
        if let Some(r) = &d.report {
            assert!(r.verdicts.is_empty() && r.slices_only_old.is_empty());
            assert!(r.metrics.len() > 20, "{rel}");
            assert!(r.metrics.iter().all(|m| m.change.is_none_or(|c| c == 0.0)));
            assert_eq!(r.old_verdict, r.new_verdict);
        }
        let table = d.table();
        assert!(table.contains("PASS: no regressions"), "{table}");
        assert!(!table.contains("REGRESSION"), "{table}");
        // Deterministic JSON.
        let again = diff(&doc, &doc, &Thresholds::default()).unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            serde_json::to_string(&again).unwrap()
        );
    }
}

#[test]
fn permuted_attributions_fail_with_the_numbers() {
    let old = load("inspection/attributions-kernel.json");
    let mut new = old.clone();
    // Rotate the scratch image's attributions by five features: every feature gets another's.
    let a = values(&old["explanations"][0]["values"]);
    let mut b = a.clone();
    b.rotate_left(5);
    new["explanations"][0]["values"] = serde_json::json!(b);

    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    assert!(!d.passed());
    let rho = stats::spearman(&a, &b).unwrap();
    assert!(rho < 0.8, "{rho}");
    let s = stability::similarity(&a, &b, 5).unwrap();
    assert_eq!(d.items[0].similarity, s);
    assert_eq!(d.items[0].key.input, "samples/scratch.png");
    let want = format!("samples/scratch.png (kernel, target 1): Spearman {rho:.2} < 0.80");
    assert!(d.regressions[0].starts_with(&want), "{:?}", d.regressions);
    if s.topk_jaccard < 0.6 {
        let jaccard = format!("top-5 Jaccard {:.2} < 0.60", s.topk_jaccard);
        assert!(d.regressions[0].contains(&jaccard), "{}", d.regressions[0]);
    }
    // The other three items are untouched.
    assert!(d.items[1..].iter().all(|i| i.failures.is_empty()));
    assert_eq!(d.methods.len(), 1);
    let m = &d.methods[0];
    assert_eq!(m.worst.as_ref().unwrap().input, "samples/scratch.png");
    assert!((m.mean_spearman.unwrap() - (rho + 3.0) / 4.0).abs() < 1e-12);

    // The global importance is the mean |attribution| over the matched items.
    let mean_abs = |doc: &Value| -> Vec<f64> {
        let rows: Vec<Vec<f64>> = doc["explanations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| values(&e["values"]))
            .collect();
        (0..rows[0].len())
            .map(|f| rows.iter().map(|r| r[f].abs()).sum::<f64>() / rows.len() as f64)
            .collect()
    };
    let g = stability::similarity(&mean_abs(&old), &mean_abs(&new), 5).unwrap();
    assert_eq!(m.global.as_ref().unwrap(), &g);

    let table = d.table();
    println!("{table}");
    assert!(
        table.contains("REGRESSION") && table.contains("FAIL: "),
        "{table}"
    );
    assert!(table.contains(&want), "{table}");
    assert!(
        table.contains("Spearman >= 0.80, top-5 Jaccard >= 0.60"),
        "{table}"
    );

    // A lenient gate passes the same change.
    let lenient = Thresholds {
        min_spearman: -1.0,
        min_topk_jaccard: 0.0,
        ..Thresholds::default()
    };
    assert!(diff(&old, &new, &lenient).unwrap().passed());
    // A strict largest-change limit fails an otherwise tiny drift.
    let mut nudged = old.clone();
    let mut c = a.clone();
    let top = stability::top_k(&a, 1)[0];
    c[top] += 0.02 * c[top].signum();
    nudged["explanations"][0]["values"] = serde_json::json!(c);
    let strict = Thresholds {
        max_abs_change: Some(0.01),
        ..Thresholds::default()
    };
    let d = diff(&old, &nudged, &strict).unwrap();
    assert_eq!(d.regressions.len(), 1, "{:?}", d.regressions);
    assert!(
        d.regressions[0].contains("largest attribution change 0.020 > 0.010"),
        "{:?}",
        d.regressions
    );
}

#[test]
fn a_missing_item_fails_and_an_added_one_is_listed() {
    let old = load("inspection/attributions-kernel.json");
    let mut new = old.clone();
    let removed = new["explanations"].as_array_mut().unwrap().remove(2);
    assert_eq!(removed["input"], "samples/crack.png");
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    assert!(!d.passed());
    assert_eq!(
        d.regressions,
        vec![
            "samples/crack.png (kernel, target 1): in old but missing from new, so its \
             explanation cannot be compared"
        ]
    );
    assert_eq!(d.missing.len(), 1);
    assert_eq!(d.items.len(), 3);
    assert!(d.table().contains("MISSING in new"));

    // The other way round: an item only in NEW is listed, not a regression.
    let d = diff(&new, &old, &Thresholds::default()).unwrap();
    assert!(d.passed(), "{:?}", d.regressions);
    assert_eq!(d.added[0].input, "samples/crack.png");
    assert!(d.notes.iter().any(|n| n.contains("only in new")));

    // A different target is a different item.
    let mut other = old.clone();
    other["explanations"][0]["target"] = serde_json::json!(0);
    let d = diff(&old, &other, &Thresholds::default()).unwrap();
    assert!(
        d.regressions[0].starts_with("samples/scratch.png (kernel, target 1): in old but missing"),
        "{:?}",
        d.regressions
    );
}

#[test]
fn a_report_against_itself_passes_and_a_metric_change_fails() {
    let old = load("inspection/report.json");
    let slices = old["performance"]["slices"].as_array().unwrap();
    let (i, slice) = slices
        .iter()
        .enumerate()
        .find(|(_, s)| s["status"] == "ok")
        .unwrap();
    let name = format!(
        "{} = {}",
        slice["attribute"].as_str().unwrap(),
        slice["value"].as_str().unwrap()
    );
    let before = slice["metrics"]["accuracy"]["value"].as_f64().unwrap();
    let after = before - 0.1;
    let mut new = old.clone();
    new["performance"]["slices"][i]["metrics"]["accuracy"]["value"] = serde_json::json!(after);

    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    assert!(!d.passed());
    assert_eq!(
        d.regressions,
        vec![format!(
            "slice {name}: accuracy {before:.3} -> {after:.3} (change -0.100, |0.100| > 0.050)"
        )]
    );
    let r = d.report.as_ref().unwrap();
    let m = r
        .metrics
        .iter()
        .find(|m| m.slice == name && m.metric == "accuracy")
        .unwrap();
    assert!(m.regression && (m.change.unwrap() + 0.1).abs() < 1e-12);
    assert!(
        d.table().contains("largest metric changes"),
        "{}",
        d.table()
    );
    // A looser gate lets it through.
    let loose = Thresholds {
        max_metric_change: 0.15,
        ..Thresholds::default()
    };
    assert!(diff(&old, &new, &loose).unwrap().passed());

    // The overall metrics are compared too.
    let mut new = old.clone();
    let fpr = old["performance"]["overall"]["metrics"]["fpr"]["value"]
        .as_f64()
        .unwrap();
    new["performance"]["overall"]["metrics"]["fpr"]["value"] = serde_json::json!(fpr + 0.06);
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    assert_eq!(d.regressions.len(), 1);
    assert!(
        d.regressions[0].starts_with("overall: fpr"),
        "{:?}",
        d.regressions
    );

    // A slice that disappears is a regression.
    let mut new = old.clone();
    new["performance"]["slices"]
        .as_array_mut()
        .unwrap()
        .remove(i);
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    assert_eq!(
        d.regressions,
        vec![format!(
            "slice {name}: in old but missing from new, so its metrics cannot be compared"
        )]
    );
}

#[test]
fn slices_with_too_few_items_do_not_fail_on_metric_changes() {
    let old = load("speech/report.json");
    let slices = old["performance"]["slices"].as_array().unwrap();
    let i = slices
        .iter()
        .position(|s| {
            s["status"] == "insufficient_data" && s["metrics"]["accuracy"]["value"].is_number()
        })
        .unwrap();
    let mut new = old.clone();
    let v = slices[i]["metrics"]["accuracy"]["value"].as_f64().unwrap();
    new["performance"]["slices"][i]["metrics"]["accuracy"]["value"] =
        serde_json::json!(if v > 0.5 { v - 0.3 } else { v + 0.3 });
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    assert!(d.passed(), "{:?}", d.regressions);
    let r = d.report.unwrap();
    assert!(
        r.metrics
            .iter()
            .any(|m| !m.checked && m.change.is_some_and(|c| c.abs() > 0.29))
    );
}

#[test]
fn a_disparity_that_flips_to_flag_fails() {
    let old = load("inspection/report.json");
    let list = old["disparities"].as_array().unwrap();
    let i = list.iter().position(|d| d["verdict"] == "pass").unwrap();
    let (attribute, metric) = (
        list[i]["attribute"].as_str().unwrap(),
        list[i]["metric"].as_str().unwrap(),
    );
    let mut new = old.clone();
    new["disparities"][i]["verdict"] = serde_json::json!("flag");
    // And a slice metric that moved a little, within the limit.
    let acc = old["performance"]["slices"][0]["metrics"]["accuracy"]["value"]
        .as_f64()
        .unwrap();
    new["performance"]["slices"][0]["metrics"]["accuracy"]["value"] = serde_json::json!(acc - 0.03);
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    println!("{}", d.table());
    assert!(!d.passed());
    assert_eq!(d.regressions.len(), 1, "{:?}", d.regressions);
    let want = format!("disparity {metric} by {attribute}: pass -> flag");
    assert!(d.regressions[0].starts_with(&want), "{:?}", d.regressions);
    let r = d.report.as_ref().unwrap();
    assert_eq!(r.verdicts.len(), 1);
    assert_eq!(r.verdicts[0].direction, Direction::Regression);
    assert!(
        d.table()
            .contains(&format!("disparity {metric} by {attribute}"))
    );

    // Only noted when verdict changes do not fail.
    let t = Thresholds {
        verdict_changes_fail: false,
        ..Thresholds::default()
    };
    let d = diff(&old, &new, &t).unwrap();
    assert!(d.passed() && d.notes.iter().any(|n| n.starts_with(&want)));

    // The reverse is an improvement, and passes.
    let d = diff(&new, &old, &Thresholds::default()).unwrap();
    assert!(d.passed());
    let improved = format!("disparity {metric} by {attribute}: flag -> pass");
    assert!(
        d.improvements[0].starts_with(&improved),
        "{:?}",
        d.improvements
    );
    assert_eq!(
        d.report.unwrap().verdicts[0].direction,
        Direction::Improvement
    );
}

#[test]
fn profile_and_overall_verdict_changes() {
    let old = load("inspection/report.json");
    assert_eq!(old["summary"]["verdict"], "flag");
    let profiles = old["explanations"]["profiles"]["slices"]
        .as_array()
        .unwrap();
    let i = profiles
        .iter()
        .position(|p| p["verdict"] == "pass")
        .unwrap();
    let mut new = old.clone();
    new["explanations"]["profiles"]["slices"][i]["verdict"] = serde_json::json!("flag");
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    let name = format!(
        "explanation profile {} = {}: pass -> flag",
        profiles[i]["attribute"].as_str().unwrap(),
        profiles[i]["value"].as_str().unwrap()
    );
    assert_eq!(d.regressions.len(), 1);
    assert!(d.regressions[0].starts_with(&name), "{:?}", d.regressions);

    let mut passing = old.clone();
    passing["summary"]["verdict"] = serde_json::json!("pass");
    let d = diff(&passing, &old, &Thresholds::default()).unwrap();
    assert_eq!(d.regressions, vec!["overall verdict: pass -> flag"]);
}

#[test]
fn the_model_hash_is_information_only() {
    let old = load("camera/attributions-kernel.json");
    let mut new = old.clone();
    new["model"]["sha256"] = serde_json::json!("0".repeat(64));
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    assert!(d.passed() && d.model_changed);
    assert!(d.table().contains("-> 000000000000"), "{}", d.table());
}

#[test]
fn mismatched_or_unknown_documents_are_input_errors() {
    let attributions = load("inspection/attributions-kernel.json");
    let report = load("inspection/report.json");
    let e = diff(&attributions, &report, &Thresholds::default()).unwrap_err();
    assert!(matches!(e, Error::Input(_)) && e.exit_code() == 2);
    let message = e.to_string();
    assert!(
        message.contains("OLD is explain.attributions/1")
            && message.contains("NEW is explain.report/1"),
        "{message}"
    );
    let e = diff(
        &serde_json::json!({"schema": "x/1"}),
        &report,
        &Thresholds::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("OLD has schema \"x/1\""), "{e}");
    let e = diff(&serde_json::json!({}), &report, &Thresholds::default()).unwrap_err();
    assert!(e.to_string().contains("no \"schema\""), "{e}");

    // Different feature counts cannot be compared.
    let mut coarse = attributions.clone();
    coarse["explanations"][1]["values"] = serde_json::json!([0.1, 0.2]);
    let e = diff(&attributions, &coarse, &Thresholds::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("samples/spot.png (kernel, target 1): OLD has 16 attributions and NEW has 2"),
        "{e}"
    );
    // A broken field names the side and the path.
    let mut broken = attributions.clone();
    broken["explanations"][3]["values"][0] = serde_json::json!("x");
    let e = diff(&attributions, &broken, &Thresholds::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "NEW: explanations[3].values is missing or not a list of numbers"
    );
    // The documents are read into their types; a field that does not read is named as before.
    let mut broken = attributions.clone();
    broken["explanations"][0]["target"] = serde_json::json!("x");
    let e = diff(&attributions, &broken, &Thresholds::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "NEW: explanations[0].target is missing or not a class index"
    );
    let mut broken = attributions.clone();
    broken["explanations"][1]
        .as_object_mut()
        .unwrap()
        .remove("input");
    let e = diff(&broken, &attributions, &Thresholds::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "OLD: explanations[1].input is missing or not set"
    );
    let mut broken = report.clone();
    broken["performance"]["slices"][0]["metrics"] = serde_json::json!([]);
    let e = diff(&report, &broken, &Thresholds::default()).unwrap_err();
    assert!(matches!(e, Error::Input(_)) && e.exit_code() == 2);
    assert_eq!(
        e.to_string(),
        "NEW: performance.slices[0].metrics is missing or not an object"
    );

    // Files: messages name them.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/inspection/report.json");
    let e = explain_core::check::diff::diff_files(&good, &bad, &Thresholds::default()).unwrap_err();
    assert!(e.to_string().contains("bad.json is not valid JSON"), "{e}");
    let d = explain_core::check::diff::diff_files(&good, &good, &Thresholds::default()).unwrap();
    assert!(d.passed() && d.new.name.starts_with("NEW ") && d.new.name.ends_with("report.json"));
}

#[test]
fn thresholds_from_toml() {
    let path = Path::new("stability.toml");
    assert_eq!(
        Thresholds::from_toml("", path).unwrap(),
        Thresholds::default()
    );
    assert_eq!(
        Thresholds::from_toml("[stability]\n", path).unwrap(),
        Thresholds::default()
    );
    let d = Thresholds::default();
    assert_eq!(
        (d.min_spearman, d.min_kendall, d.min_topk_jaccard, d.k),
        (0.8, None, 0.6, 5)
    );
    assert_eq!(
        (
            d.min_cosine,
            d.max_abs_change,
            d.max_metric_change,
            d.verdict_changes_fail
        ),
        (None, None, 0.05, true)
    );

    let text = "# CI gate\n[stability]\nmin_spearman = 0.9\nmin_kendall = 0.7\nk = 3\n\
                min_cosine = 0.95\nmax_abs_change = 0.02\nmax_metric_change = 0.1\n\
                verdict_changes_fail = false\n";
    let t = Thresholds::from_toml(text, path).unwrap();
    assert_eq!(
        t,
        Thresholds {
            min_spearman: 0.9,
            min_kendall: Some(0.7),
            min_topk_jaccard: 0.6,
            k: 3,
            min_cosine: Some(0.95),
            max_abs_change: Some(0.02),
            max_metric_change: 0.1,
            verdict_changes_fail: false,
        }
    );

    let e = Thresholds::from_toml("[stability]\nmin_spearman = 0.9\nmin_jacard = 0.5\n", path)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Located(l) if l.line == Some(3)),
        "{e:?}"
    );
    let e = e.to_string();
    assert!(
        e.starts_with("thresholds stability.toml, line 3:") && e.contains("min_jacard"),
        "{e}"
    );
    let e = Thresholds::from_toml("[stabilty]\nk = 3\n", path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1") && e.contains("stabilty"), "{e}");
    let e = Thresholds::from_toml("[stability]\n\nk = \"five\"\n", path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3") && e.contains("k"), "{e}");
    let e = Thresholds::from_toml("[stability]\nmin_topk_jaccard = 1.5\n", path)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "thresholds stability.toml, line 2: [stability] min_topk_jaccard: must be between 0 and 1 (got 1.5)"
    );
    let e = Thresholds::from_toml("[stability]\nmax_metric_change = nan\n", path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2: [stability] max_metric_change"), "{e}");
}

#[test]
fn kendall_tau_b_matches_scipy_with_ties() {
    // Reference values from scipy 1.17.1, in /work/venv:
    //   scipy.stats.kendalltau(a, b).statistic   (variant "b", the default)
    let a = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0, 6.0, 6.0];
    let b = [2.0, 1.0, 3.0, 3.0, 5.0, 4.0, 6.0, 6.0, 6.0, 7.0];
    let tau = kendall_tau_b(&a, &b).unwrap();
    assert!((tau - 0.839_570_157_152_151_1).abs() < 1e-12, "{tau}");

    let a = [0.5, -0.25, 0.5, 0.0, 1.5, -0.25, 0.0, 2.0];
    let b = [0.1, 0.1, 0.3, -0.2, 0.3, 0.0, 0.1, 0.5];
    let tau = kendall_tau_b(&a, &b).unwrap();
    assert!((tau - 0.694_022_093_788_567_2).abs() < 1e-12, "{tau}");

    let tau = kendall_tau_b(&[3.0, 1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap();
    assert!((tau + 0.333_333_333_333_333_37).abs() < 1e-12, "{tau}");

    // Real attributions: kendalltau(scratch, spot) of reports/inspection/attributions-kernel.json
    // and kendalltau(kernel, lime) of inputs/face_000.png in reports/camera.
    let inspection = load("inspection/attributions-kernel.json");
    let (x, y) = (
        values(&inspection["explanations"][0]["values"]),
        values(&inspection["explanations"][1]["values"]),
    );
    let tau = kendall_tau_b(&x, &y).unwrap();
    assert!((tau - 0.033_333_333_333_333_33).abs() < 1e-12, "{tau}");
    let kernel = load("camera/attributions-kernel.json");
    let lime = load("camera/attributions-lime.json");
    let tau = kendall_tau_b(
        &values(&kernel["explanations"][0]["values"]),
        &values(&lime["explanations"][0]["values"]),
    )
    .unwrap();
    assert!((tau - 0.707_936_507_936_508).abs() < 1e-12, "{tau}");
}

/// A retrained model, simulated: every attribution moves a little (deterministic noise of up
/// to 0.1% of the item's largest |attribution|), and one item's explanation is scrambled.
fn retrained(old: &Value) -> Value {
    let mut new = old.clone();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for (i, e) in new["explanations"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let mut v = values(&e["values"]);
        let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        for x in v.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *x += 0.001 * scale * ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0);
        }
        if i == 2 {
            v.reverse();
        }
        e["values"] = serde_json::json!(v);
    }
    new["model"]["sha256"] = serde_json::json!("9f".repeat(32));
    new
}

#[test]
fn a_noisy_retrain_fails_only_on_the_scrambled_item() {
    let old = load("inspection/attributions-kernel.json");
    let new = retrained(&old);
    let d = diff(&old, &new, &Thresholds::default()).unwrap();
    let table = d.table();
    println!("{table}");
    let failed: Vec<&str> = d
        .items
        .iter()
        .filter(|i| !i.failures.is_empty())
        .map(|i| i.key.input.as_str())
        .collect();
    assert_eq!(failed, ["samples/crack.png"], "{table}");
    assert!(
        d.model_changed && table.contains("-> 9f9f9f9f9f9f"),
        "{table}"
    );
    // One row per item, in the file's order.
    let rows: Vec<usize> = ["scratch", "spot", "crack", "clean_grass"]
        .iter()
        .map(|n| table.find(&format!("samples/{n}.png ")).unwrap())
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "{table}");
}

#[test]
fn constant_attributions_compare_only_against_a_ranking() {
    let old = load("speech/attributions-exact.json");
    let silence = 2;
    assert_eq!(
        old["explanations"][silence]["input"],
        "samples/silence_en-US.wav"
    );
    let n = old["explanations"][silence]["values"]
        .as_array()
        .unwrap()
        .len();
    let mut flat = old.clone();
    flat["explanations"][silence]["values"] = serde_json::json!(vec![0.0; n]);

    // Both sides without a ranking: nothing to compare, no regression.
    let d = diff(&flat, &flat, &Thresholds::default()).unwrap();
    assert!(d.passed(), "{:?}", d.regressions);
    let s = &d.items[silence].similarity;
    assert_eq!((s.spearman, s.kendall_tau_b, s.cosine), (None, None, None));

    // A ranking that vanished is a regression, counted as no agreement.
    let d = diff(&old, &flat, &Thresholds::default()).unwrap();
    assert_eq!(d.items[silence].similarity.spearman, None);
    assert!(
        d.regressions[0].starts_with(
            "samples/silence_en-US.wav (exact, target 0): Spearman undefined (new attributions \
             are constant, old are not), counted as 0.00 < 0.80"
        ),
        "{:?}",
        d.regressions
    );
    let m = &d.methods[0];
    let others: f64 = d.items[..silence]
        .iter()
        .map(|i| i.similarity.spearman.unwrap())
        .sum();
    assert!((m.mean_spearman.unwrap() - others / 3.0).abs() < 1e-12);
    // An exact explanation has no standard errors to measure the change against.
    assert!(d.items.iter().all(|i| i.max_change_in_se.is_none()));
}
