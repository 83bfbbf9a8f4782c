//! Validation-record charts: every chart renders for typical and edge-case input, the PNG
//! decodes to 900 px wide and is not blank, the SVG carries the labels as text and references
//! nothing outside itself, output is deterministic, and bad input is an `Error::Input`.
//!
//! Set `EXPLAIN_CHART_EXAMPLES=/some/dir` to also keep the example charts there for viewing.

use explain_core::Error;
use explain_core::artifact::verdict::Verdict;
use explain_core::attribution::quality::Curve;
use explain_core::render::Chart;
use explain_core::render::bars::importance;
use explain_core::render::curves::quality_curves;
use explain_core::render::rows::{self, MAX_ROWS};
use explain_core::render::validation::{
    DisparityBar, DistanceBar, SliceBar, disparities, metric_by_slice, profile_distances,
};

// ---- checks ------------------------------------------------------------------------------------

const WIDTH: u32 = 900;

/// Decodes the PNG, checks its width and that it is not blank; returns its height.
fn check_png(chart: &Chart) -> u32 {
    let img = image::load_from_memory(&chart.png)
        .expect("PNG decodes")
        .to_rgb8();
    assert_eq!(img.width(), WIDTH, "chart width");
    assert!(img.height() >= 150, "height {}", img.height());
    let lum: Vec<f64> = img
        .pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let var = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    assert!(var > 100.0, "PNG looks blank (luminance variance {var:.1})");
    // Mostly white background, with some dark ink (text, axes).
    let dark = lum.iter().filter(|&&l| l < 80.0).count();
    assert!(dark > 500, "too little ink: {dark} dark pixels");
    img.height()
}

/// The SVG is a standalone document of the same size as the PNG, with real text and no
/// external references.
fn check_svg(chart: &Chart, height: u32) {
    let svg = &chart.svg;
    assert!(svg.starts_with("<svg"), "SVG starts with <svg");
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains(&format!("width=\"{WIDTH}\""))
            && svg.contains(&format!("height=\"{height}\"")),
        "SVG size matches the PNG ({WIDTH}×{height})"
    );
    assert!(svg.contains("<text"), "SVG text is <text> elements");
    let without_ns = svg.replace("http://www.w3.org/2000/svg", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    assert!(
        !svg.contains("<image") && !svg.contains("href"),
        "no images or links"
    );
    assert!(
        !svg.contains("NaN") && !svg.contains("inf"),
        "no non-finite coordinates"
    );
}

/// Checks both renderings; returns the PNG height.
fn check(chart: &Chart) -> u32 {
    let h = check_png(chart);
    check_svg(chart, h);
    h
}

/// How `s` appears in SVG text.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn assert_has(chart: &Chart, text: &str) {
    assert!(
        chart.svg.contains(&xml(text)),
        "SVG should contain {text:?}"
    );
}

fn keep(chart: &Chart, stem: &str) {
    if let Ok(dir) = std::env::var("EXPLAIN_CHART_EXAMPLES") {
        chart
            .write(std::path::Path::new(&dir), stem)
            .expect("write example chart");
    }
}

fn assert_input_error<T: std::fmt::Debug>(r: explain_core::Result<T>, needle: &str) {
    match r {
        Err(Error::Input(msg)) => assert!(msg.contains(needle), "message {msg:?} lacks {needle:?}"),
        other => panic!("expected Error::Input containing {needle:?}, got {other:?}"),
    }
}

// ---- example data ------------------------------------------------------------------------------

fn slice(label: &str, value: Option<f64>, ci: Option<[f64; 2]>, n: u64, ins: bool) -> SliceBar {
    SliceBar {
        label: label.into(),
        value,
        ci95: ci,
        n,
        insufficient: ins,
    }
}

fn slices() -> Vec<SliceBar> {
    vec![
        slice(
            "locale = en-US",
            Some(0.912),
            Some([0.884, 0.934]),
            412,
            false,
        ),
        slice(
            "locale = en-GB",
            Some(0.897),
            Some([0.858, 0.926]),
            301,
            false,
        ),
        slice(
            "locale = de-DE",
            Some(0.871),
            Some([0.826, 0.906]),
            268,
            false,
        ),
        slice(
            "locale = fr-CA",
            Some(0.803),
            Some([0.741, 0.853]),
            187,
            false,
        ),
        slice(
            "locale = ja-JP",
            Some(0.762),
            Some([0.694, 0.819]),
            176,
            false,
        ),
        slice(
            "locale = ko-KR",
            Some(0.611),
            Some([0.386, 0.797]),
            18,
            true,
        ),
        slice(
            "site & lighting = plant-B & bright",
            Some(0.944),
            Some([0.902, 0.969]),
            214,
            false,
        ),
        slice("site & lighting = plant-B & dim", None, None, 0, true),
    ]
}

fn disparity(
    label: &str,
    v: Option<f64>,
    ci: Option<[f64; 2]>,
    t: f64,
    ratio: bool,
    verdict: Verdict,
) -> DisparityBar {
    DisparityBar {
        label: label.into(),
        value: v,
        ci95: ci,
        threshold: t,
        ratio,
        verdict,
    }
}

fn disparity_rows() -> Vec<DisparityBar> {
    vec![
        disparity(
            "tpr by locale",
            Some(0.835),
            Some([0.742, 0.913]),
            0.8,
            true,
            Verdict::Pass,
        ),
        disparity(
            "selection_rate by locale",
            Some(0.652),
            Some([0.561, 0.744]),
            0.8,
            true,
            Verdict::Flag,
        ),
        disparity(
            "precision by skin_tone",
            None,
            None,
            0.8,
            true,
            Verdict::InsufficientData,
        ),
        disparity(
            "accuracy by locale",
            Some(0.149),
            Some([0.092, 0.205]),
            0.1,
            false,
            Verdict::Flag,
        ),
        disparity(
            "fpr by lighting",
            Some(0.031),
            Some([0.004, 0.066]),
            0.1,
            false,
            Verdict::Pass,
        ),
        disparity(
            "fnr by site & lighting",
            Some(0.12),
            Some([0.01, 0.31]),
            0.1,
            false,
            Verdict::InsufficientData,
        ),
    ]
}

fn distance(
    label: &str,
    s: Option<f64>,
    c: Option<f64>,
    items: usize,
    verdict: Verdict,
) -> DistanceBar {
    DistanceBar {
        label: label.into(),
        spearman_distance: s,
        cosine_distance: c,
        items,
        verdict,
    }
}

fn distance_rows() -> Vec<DistanceBar> {
    vec![
        distance(
            "accent = general-american",
            Some(0.082),
            Some(0.011),
            20,
            Verdict::Pass,
        ),
        distance(
            "accent = scottish",
            Some(0.614),
            Some(0.143),
            20,
            Verdict::Flag,
        ),
        distance(
            "accent = indian-english",
            Some(0.231),
            Some(0.038),
            20,
            Verdict::Pass,
        ),
        distance(
            "accent = korean-english",
            Some(0.91),
            Some(0.29),
            3,
            Verdict::InsufficientData,
        ),
        distance("noise = street", None, Some(0.0), 20, Verdict::Pass),
    ]
}

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
        0.212, 0.041, 0.006, 0.058, 0.019, 0.034, 0.187, 0.012, 0.009, 0.143, 0.097, 0.121, 0.264,
    ];
    let errors = [
        0.021, 0.014, 0.008, 0.018, 0.012, 0.016, 0.028, 0.010, 0.008, 0.024, 0.020, 0.022, 0.031,
    ];
    (
        names.iter().map(|s| s.to_string()).collect(),
        values.to_vec(),
        errors.to_vec(),
    )
}

const LONG: &str = "site & lighting & skin_tone & locale = plant-B & bright & type-VI & pt-BR (night shift, camera 7, firmware 2.4.1-rc3)";

// ---- metric_by_slice ---------------------------------------------------------------------------

#[test]
fn metric_by_slice_typical() {
    let rows = slices();
    let chart = metric_by_slice(
        "True positive rate by slice",
        "tpr",
        Some((0.861, [0.845, 0.876])),
        &rows,
        Some((0.689, "0.8 × best")),
    )
    .unwrap();
    check(&chart);
    for r in &rows {
        assert_has(&chart, &r.label);
    }
    for t in [
        "True positive rate by slice",
        "n = 412",
        "n = 18, too few",
        "n/a",
        "0.912",
        "overall",
        "0.8 × best",
        "insufficient data",
    ] {
        assert_has(&chart, t);
    }
    keep(&chart, "metric-by-slice");
}

#[test]
fn metric_by_slice_height_grows_by_row_and_is_capped() {
    let overall = Some((0.6, [0.58, 0.62]));
    let one = metric_by_slice("t", "accuracy", overall, &slices()[..1], None).unwrap();
    let two = metric_by_slice("t", "accuracy", overall, &slices()[..2], None).unwrap();
    let h1 = check(&one);
    let h2 = check(&two);
    assert_eq!(h2 - h1, 26);
    let many: Vec<SliceBar> = (0..60)
        .map(|i| {
            let v = (i as f64 * 0.37).sin().abs();
            slice(
                &format!("camera = unit-{i:02}"),
                Some(v),
                Some([v * 0.9, (v * 1.05).min(1.0)]),
                50 + i,
                i.is_multiple_of(7),
            )
        })
        .collect();
    let chart = metric_by_slice(
        "Accuracy by camera",
        "accuracy",
        Some((0.6, [0.58, 0.62])),
        &many,
        None,
    )
    .unwrap();
    let h = check(&chart);
    // 40 rows, and the "+N more" note under the axis.
    assert_eq!(h - h1, 26 * 39 + 22);
    assert!(h < 1400, "height {h}");
    assert_has(&chart, "camera = unit-39");
    assert!(!chart.svg.contains("unit-40"), "row 41 is not drawn");
    assert_has(&chart, "+20 more slices not shown");
    keep(&chart, "metric-by-slice-60");
}

#[test]
fn metric_by_slice_edge_cases() {
    // One row, values 0 and 1, intervals touching the ends.
    let one = metric_by_slice(
        "one",
        "tpr",
        None,
        &[slice("all", Some(1.0), Some([0.95, 1.0]), 60, false)],
        None,
    )
    .unwrap();
    check(&one);
    keep(&one, "metric-by-slice-one");
    assert_has(&one, "1.000");
    let ends = vec![
        slice("zero", Some(0.0), Some([0.0, 0.06]), 60, false),
        slice("one", Some(1.0), Some([0.94, 1.0]), 60, false),
        slice("zero, few", Some(0.0), Some([0.0, 0.5]), 4, true),
    ];
    let chart = metric_by_slice(
        "ends",
        "fpr",
        Some((0.5, [0.0, 1.0])),
        &ends,
        Some((0.0, "floor")),
    )
    .unwrap();
    check(&chart);
    assert_has(&chart, "0.000");
    keep(&chart, "metric-by-slice-ends");
    // All None.
    let none: Vec<SliceBar> = (0..3)
        .map(|i| slice(&format!("s{i}"), None, None, 0, true))
        .collect();
    let chart = metric_by_slice("none", "precision", None, &none, None).unwrap();
    check(&chart);
    assert!(chart.svg.matches("n/a").count() >= 3, "each row says n/a");
    keep(&chart, "metric-by-slice-none");
    // Very long labels are shortened with an ellipsis but keep both ends.
    let long = vec![
        slice(LONG, Some(0.7), Some([0.6, 0.8]), 100, false),
        slice("short", Some(0.8), None, 9, false),
    ];
    let chart = metric_by_slice("long labels", "tpr", None, &long, Some((0.75, "ref"))).unwrap();
    check(&chart);
    assert!(
        !chart.svg.contains(&xml(LONG)),
        "a very long label is shortened"
    );
    assert!(chart.svg.contains('…'));
    assert_has(&chart, "site &");
    assert_has(&chart, "-rc3)");
    keep(&chart, "metric-by-slice-long");
    // The example label of the brief fits unshortened.
    let chart = metric_by_slice("t", "tpr", None, &slices()[6..7], None).unwrap();
    assert_has(&chart, "site & lighting = plant-B & bright");
    // Values outside [0, 1] widen the axis rather than fail.
    let wide = metric_by_slice(
        "t",
        "score",
        None,
        &[slice("a", Some(1.3), Some([1.1, 1.6]), 5, false)],
        None,
    )
    .unwrap();
    check(&wide);
}

#[test]
fn metric_by_slice_rejects_bad_input() {
    assert_input_error(metric_by_slice("t", "tpr", None, &[], None), "no slices");
    let nan = [slice("a", Some(f64::NAN), None, 3, false)];
    assert_input_error(
        metric_by_slice("t", "tpr", None, &nan, None),
        "not a finite number",
    );
    let rev = [slice("a", Some(0.5), Some([0.6, 0.4]), 3, false)];
    assert_input_error(metric_by_slice("t", "tpr", None, &rev, None), "reversed");
    let ok = [slice("a", Some(0.5), None, 3, false)];
    assert_input_error(
        metric_by_slice("t", "tpr", Some((f64::INFINITY, [0.0, 1.0])), &ok, None),
        "overall",
    );
    assert_input_error(
        metric_by_slice("t", "tpr", None, &ok, Some((f64::NAN, "x"))),
        "reference",
    );
}

// ---- disparities -------------------------------------------------------------------------------

#[test]
fn disparities_typical() {
    let rows = disparity_rows();
    let chart = disparities("Disparities between slices", &rows).unwrap();
    check(&chart);
    for r in &rows {
        assert_has(&chart, &r.label);
    }
    for t in [
        "FLAG",
        "pass",
        "insufficient data",
        "≥ 0.80",
        "≤ 0.10",
        "2 flagged, 2 pass, 2 with insufficient data",
        "threshold",
        "fails the rule",
        "n/a",
    ] {
        assert_has(&chart, t);
    }
    // Verdict colours: flag red, pass green.
    assert!(chart.svg.contains("#D6604D"), "flag red");
    assert!(chart.svg.contains("#009E73"), "pass green");
    keep(&chart, "disparities");
}

#[test]
fn disparities_edge_cases() {
    let one = disparities(
        "one",
        &[disparity(
            "tpr by locale",
            Some(1.0),
            Some([0.9, 1.0]),
            0.8,
            true,
            Verdict::Pass,
        )],
    )
    .unwrap();
    check(&one);
    let zero = disparities(
        "zero",
        &[disparity(
            "fpr by locale",
            Some(0.0),
            Some([0.0, 0.0]),
            0.0,
            false,
            Verdict::Pass,
        )],
    )
    .unwrap();
    check(&zero);
    let none: Vec<DisparityBar> = (0..4u32)
        .map(|i| {
            disparity(
                &format!("m{i} by a"),
                None,
                None,
                0.8,
                i.is_multiple_of(2),
                Verdict::InsufficientData,
            )
        })
        .collect();
    let chart = disparities("none", &none).unwrap();
    check(&chart);
    let many: Vec<DisparityBar> = (0..60)
        .map(|i| {
            let v = 0.5 + 0.5 * (i as f64 * 0.7).cos().abs();
            let verdict = if v >= 0.8 {
                Verdict::Pass
            } else {
                Verdict::Flag
            };
            disparity(
                &format!("metric{i} by attribute{i}"),
                Some(v),
                Some([v - 0.1, v.min(0.98) + 0.02]),
                0.8,
                true,
                verdict,
            )
        })
        .collect();
    let chart = disparities("many", &many).unwrap();
    check(&chart);
    assert_has(&chart, "+20 more disparities not shown");
    keep(&chart, "disparities-60");
    let long = disparities(
        LONG,
        &[disparity(LONG, Some(0.5), None, 0.8, true, Verdict::Flag)],
    )
    .unwrap();
    check(&long);
    assert!(long.svg.contains('…'));
    keep(&long, "disparities-long");
}

#[test]
fn disparities_reject_bad_input() {
    assert_input_error(disparities("t", &[]), "no disparities");
    assert_input_error(
        disparities(
            "t",
            &[disparity(
                "a",
                Some(0.5),
                None,
                0.8,
                true,
                Verdict::NotApplicable,
            )],
        ),
        "verdict 'not_applicable'",
    );
    assert_input_error(
        disparities(
            "t",
            &[disparity(
                "a",
                Some(0.5),
                None,
                f64::NAN,
                true,
                Verdict::Pass,
            )],
        ),
        "threshold",
    );
    assert_input_error(
        disparities(
            "t",
            &[disparity(
                "a",
                Some(0.5),
                Some([0.2, f64::INFINITY]),
                0.8,
                true,
                Verdict::Pass,
            )],
        ),
        "interval",
    );
}

// ---- profile_distances -------------------------------------------------------------------------

#[test]
fn profile_distances_typical() {
    let rows = distance_rows();
    let chart = profile_distances("Explanation profiles by slice", &rows, 0.3).unwrap();
    check(&chart);
    for r in &rows {
        assert_has(&chart, &r.label);
    }
    for t in [
        "cos 0.143",
        "20 items",
        "3 items",
        "FLAG",
        "too few",
        "cosine distance",
        "threshold (0.30)",
        "n/a",
    ] {
        assert_has(&chart, t);
    }
    keep(&chart, "profile-distances");
}

#[test]
fn profile_distances_edge_cases() {
    let one = profile_distances(
        "one",
        &[distance("a", Some(2.0), Some(2.0), 1, Verdict::Flag)],
        0.3,
    )
    .unwrap();
    check(&one);
    assert_has(&one, "1 item");
    let zero = profile_distances(
        "zero",
        &[distance("a", Some(0.0), Some(0.0), 5, Verdict::Pass)],
        0.0,
    )
    .unwrap();
    check(&zero);
    let none: Vec<DistanceBar> = (0..3)
        .map(|i| distance(&format!("s{i}"), None, None, 0, Verdict::InsufficientData))
        .collect();
    check(&profile_distances("none", &none, 0.3).unwrap());
    let many: Vec<DistanceBar> = (0..60)
        .map(|i| {
            let d = (i as f64 * 0.41).sin().abs() * 0.8;
            distance(
                &format!("{LONG} #{i}"),
                Some(d),
                Some(d / 4.0),
                10,
                if d > 0.3 {
                    Verdict::Flag
                } else {
                    Verdict::Pass
                },
            )
        })
        .collect();
    let chart = profile_distances("many", &many, 0.3).unwrap();
    check(&chart);
    assert_has(&chart, "+20 more slices not shown");
    assert!(chart.svg.contains('…'));
    keep(&chart, "profile-distances-60-long");
}

#[test]
fn profile_distances_reject_bad_input() {
    assert_input_error(profile_distances("t", &[], 0.3), "no slice profiles");
    assert_input_error(
        profile_distances("t", &distance_rows(), f64::NAN),
        "threshold",
    );
    assert_input_error(
        profile_distances(
            "t",
            &[distance("a", Some(f64::NAN), None, 3, Verdict::Pass)],
            0.3,
        ),
        "Spearman",
    );
    assert_input_error(
        profile_distances(
            "t",
            &[distance("a", Some(0.1), None, 3, Verdict::NotApplicable)],
            0.3,
        ),
        "verdict",
    );
}

// ---- importance --------------------------------------------------------------------------------

#[test]
fn importance_typical_sorted_descending() {
    let (names, values, errors) = wine();
    let chart = importance(
        "Global importance (wine)",
        &names,
        &values,
        Some(&errors),
        10,
    )
    .unwrap();
    check(&chart);
    assert_has(&chart, "top 10 of 13 features by mean |attribution|");
    // Sorted: proline (0.264), alcohol (0.212), flavanoids (0.187), …; ash (0.006) not shown.
    let at = |s: &str| {
        chart
            .svg
            .find(&format!(">\n{s}\n<"))
            .or_else(|| chart.svg.find(s))
            .unwrap_or_else(|| panic!("{s} missing"))
    };
    assert!(at("proline") < at("alcohol") && at("alcohol") < at("flavanoids"));
    assert!(!chart.svg.contains(">\nash\n<") && !chart.svg.contains(">ash<"));
    assert_has(&chart, "± 0.031");
    keep(&chart, "importance");
    let plain = importance("no errors", &names, &values, None, 100).unwrap();
    check(&plain);
    assert!(!plain.svg.contains('±'));
    assert_has(&plain, "all 13 features, by mean |attribution|");
}

#[test]
fn importance_ties_by_name() {
    let names: Vec<String> = ["zeta", "beta", "alpha", "gamma"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let chart = importance("ties", &names, &[0.5, 0.5, 0.5, 0.9], None, 4).unwrap();
    let at = |s: &str| chart.svg.find(s).unwrap();
    assert!(at("gamma") < at("alpha") && at("alpha") < at("beta") && at("beta") < at("zeta"));
}

#[test]
fn importance_edge_cases() {
    let one = importance("one", &["x".to_string()], &[0.0], None, 5).unwrap();
    check(&one);
    assert_has(&one, "1 feature");
    let names: Vec<String> = (0..60).map(|i| format!("pixel_block_{i:02}")).collect();
    let values: Vec<f64> = (0..60).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let chart = importance("sixty", &names, &values, Some(&vec![0.01; 60]), 60).unwrap();
    check(&chart);
    assert_has(&chart, "+20 more of the top 60 not shown");
    keep(&chart, "importance-60");
    let long = importance(
        "long",
        &[LONG.to_string(), String::new()],
        &[1.0, 0.5],
        Some(&[0.0, 0.1]),
        2,
    )
    .unwrap();
    check(&long);
    assert!(long.svg.contains('…'));
    assert_has(&long, "feature 1");
}

#[test]
fn importance_rejects_bad_input() {
    let (names, values, errors) = wine();
    assert_input_error(importance("t", &[], &[], None, 5), "no features");
    assert_input_error(importance("t", &names, &values, None, 0), "top");
    assert_input_error(importance("t", &names[..3], &values, None, 5), "names");
    assert_input_error(
        importance("t", &names, &values, Some(&errors[..2]), 5),
        "errors",
    );
    let mut bad = values.clone();
    bad[4] = f64::NAN;
    assert_input_error(importance("t", &names, &bad, None, 5), "magnesium");
    let mut neg = errors.clone();
    neg[0] = -1.0;
    assert_input_error(importance("t", &names, &values, Some(&neg), 5), "negative");
}

// ---- quality_curves ----------------------------------------------------------------------------

/// A curve over `y.len()` evenly spaced points from 0 to 1, with its trapezoid AUC.
fn curve(y: &[f64]) -> Curve {
    let n = y.len();
    let x: Vec<f64> = (0..n)
        .map(|i| {
            if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.0
            }
        })
        .collect();
    let auc = x
        .windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[0] + y[1]) / 2.0)
        .sum();
    Curve {
        x,
        y: y.to_vec(),
        auc,
    }
}

/// A good explanation of an item with logit 2.1: deletion falls fast, insertion rises fast
/// (link scale, so the output goes negative).
fn quality_example() -> [Curve; 4] {
    let steps = 11;
    let f = |g: &dyn Fn(f64) -> f64| -> Vec<f64> {
        (0..steps)
            .map(|i| g(i as f64 / (steps - 1) as f64))
            .collect()
    };
    [
        curve(&f(&|t| -1.6 + 3.7 * (-6.0 * t).exp())),
        curve(&f(&|t| 2.1 - 3.7 * (-5.0 * t).exp())),
        curve(&f(&|t| 2.1 - 3.7 * t.powf(1.2))),
        curve(&f(&|t| -1.6 + 3.7 * t.powf(1.1))),
    ]
}

fn render_quality(c: &[Curve; 4]) -> explain_core::Result<Chart> {
    quality_curves(
        "Deletion and insertion, image 3",
        &c[0],
        &c[1],
        &c[2],
        &c[3],
    )
}

#[test]
fn quality_curves_typical() {
    let c = quality_example();
    let chart = render_quality(&c).unwrap();
    let h = check(&chart);
    assert!(h < 700, "height {h}");
    for t in [
        "Deletion and insertion, image 3",
        "Deletion",
        "Insertion",
        "lower AUC is better",
        "higher AUC is better",
        "share of features removed",
        "share of features added",
        "model output",
    ] {
        assert_has(&chart, t);
    }
    // Every AUC in words, on the scale of the largest (three significant digits).
    for (i, k) in [
        (0, "attribution"),
        (1, "attribution"),
        (2, "random"),
        (3, "random"),
    ] {
        assert_has(&chart, &format!("{k} order  AUC {:.3}", c[i].auc));
    }
    // The explanation's curve solid blue with a dot per point, the baseline grey.
    assert!(chart.svg.contains("#2166AC"), "curve colour");
    assert!(chart.svg.contains("#8C8C8C"), "baseline colour");
    assert!(
        chart.svg.matches("<circle").count() >= 22,
        "a dot at each of 2 × 11 points"
    );
    keep(&chart, "quality-curves");
}

#[test]
fn quality_curves_are_deterministic() {
    let c = quality_example();
    let (a, b) = (render_quality(&c).unwrap(), render_quality(&c).unwrap());
    assert!(a.png == b.png, "PNG bytes differ between two renderings");
    assert_eq!(a.svg, b.svg);
}

#[test]
fn quality_curves_edge_cases() {
    // A constant output (all four curves equal) still gets a non-empty range.
    let flat = curve(&[0.7; 6]);
    let chart = quality_curves("flat", &flat, &flat, &flat, &flat).unwrap();
    check(&chart);
    assert_has(&chart, "attribution order  AUC 0.700");
    keep(&chart, "quality-curves-flat");
    // All zero, AUC zero.
    let zero = curve(&[0.0; 3]);
    let chart = quality_curves("zero", &zero, &zero, &zero, &zero).unwrap();
    check(&chart);
    assert_has(&chart, "AUC 0.000");
    // One point per curve.
    let one = curve(&[1.5]);
    check(&quality_curves("one", &one, &one, &one, &one).unwrap());
    // Many points (no dots), large values, a very long title shortened with an ellipsis.
    let many: Vec<f64> = (0..200).map(|i| 4e3 * (1.0 - i as f64 / 199.0)).collect();
    let rising: Vec<f64> = many.iter().rev().copied().collect();
    let (m, r) = (curve(&many), curve(&rising));
    let chart = quality_curves(LONG, &m, &r, &r, &m).unwrap();
    check(&chart);
    // Only the legend's swatch has a dot.
    assert_eq!(
        chart.svg.matches("<circle").count(),
        2,
        "no dots on 200 points"
    );
    assert!(chart.svg.contains('…'));
    assert!(!chart.svg.contains(&xml(LONG)));
    keep(&chart, "quality-curves-many-long");
    // Points outside 0..1 widen the x axis rather than fail; an empty title is fine.
    let mut wide = curve(&[0.2, 0.5, 0.9]);
    wide.x = vec![-0.5, 0.5, 1.5];
    check(&quality_curves("", &wide, &wide, &wide, &wide).unwrap());
}

#[test]
fn quality_curves_reject_bad_input() {
    let ok = curve(&[0.9, 0.5, 0.2, 0.1, 0.0]);
    let mut short = ok.clone();
    short.y.pop();
    assert_input_error(
        quality_curves("t", &short, &ok, &ok, &ok),
        "deletion curve: x and y have different lengths (5 vs 4)",
    );
    let empty = Curve {
        x: Vec::new(),
        y: Vec::new(),
        auc: 0.0,
    };
    assert_input_error(
        quality_curves("t", &ok, &empty, &ok, &ok),
        "insertion curve: the curve is empty",
    );
    let mut nan = ok.clone();
    nan.y[2] = f64::NAN;
    assert_input_error(
        quality_curves("t", &ok, &ok, &nan, &ok),
        "random-order deletion curve: y[2] is NaN",
    );
    let mut inf = ok.clone();
    inf.x[1] = f64::INFINITY;
    assert_input_error(
        quality_curves("t", &ok, &ok, &ok, &inf),
        "random-order insertion curve: x[1] is inf",
    );
    let mut auc = ok.clone();
    auc.auc = f64::NAN;
    assert_input_error(
        quality_curves("t", &auc, &ok, &ok, &ok),
        "deletion curve: AUC",
    );
    let mut huge = ok.clone();
    huge.y[0] = 1e300;
    assert_input_error(
        quality_curves("t", &ok, &huge, &ok, &ok),
        "too large to plot",
    );
}

// ---- determinism and files ---------------------------------------------------------------------

#[test]
fn charts_are_deterministic() {
    let render = || {
        let (names, values, errors) = wine();
        [
            metric_by_slice(
                "m",
                "tpr",
                Some((0.86, [0.84, 0.88])),
                &slices(),
                Some((0.7, "ref")),
            )
            .unwrap(),
            disparities("d", &disparity_rows()).unwrap(),
            profile_distances("p", &distance_rows(), 0.3).unwrap(),
            importance("i", &names, &values, Some(&errors), 10).unwrap(),
        ]
    };
    let (a, b) = (render(), render());
    for (x, y) in a.iter().zip(&b) {
        assert!(x.png == y.png, "PNG bytes differ between two renderings");
        assert_eq!(x.svg, y.svg);
    }
    // Rendering on several threads at once gives the same bytes.
    let c: Vec<[Chart; 4]> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4).map(|_| s.spawn(render)).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &c {
        assert!(r.iter().zip(&a).all(|(x, y)| x == y));
    }
}

#[test]
fn pngs_are_small() {
    let chart = metric_by_slice(
        "m",
        "tpr",
        Some((0.86, [0.84, 0.88])),
        &slices(),
        Some((0.7, "ref")),
    )
    .unwrap();
    assert!(chart.png.len() < 60_000, "{} bytes", chart.png.len());
}

#[test]
fn write_creates_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let chart = disparities("d", &disparity_rows()).unwrap();
    let sub = dir.path().join("charts");
    chart.write(&sub, "disparities").unwrap();
    assert_eq!(
        std::fs::read(sub.join("disparities.png")).unwrap(),
        chart.png
    );
    assert_eq!(
        std::fs::read_to_string(sub.join("disparities.svg")).unwrap(),
        chart.svg
    );
    assert_input_error(chart.write(dir.path(), ""), "file stem");
    assert_input_error(chart.write(dir.path(), "a/b"), "file stem");
    assert_eq!(MAX_ROWS, 40);
    let _ = rows::MAX_ROWS;
}
