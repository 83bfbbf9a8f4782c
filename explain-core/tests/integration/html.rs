//! `report.html`: the page made from a hand-written `explain.report/1` document
//! (tests/data/report.json: two attributes, a flagged disparity, a flagged explanation profile,
//! a market that is not covered, a slice with too little data, an attribution that did not
//! converge) and a directory of small SVG plots.
//!
//! Set `EXPLAIN_HTML_PREVIEW=/tmp/html-preview.html` to write the page for a look in a browser.

use explain_core::report::{Report, html};
use serde_json::Value;
use std::path::Path;

/// The page of a report given as JSON (deserialised into [`Report`] first).
fn render(doc: &Value, dir: &Path) -> explain_core::Result<String> {
    let report: Report = serde_json::from_value(doc.clone()).expect("an explain.report/1 document");
    html::render(&report, dir)
}

fn fixture() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/report.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A plot as plotters writes it: width, height, viewBox, the SVG namespace.
fn plot(label: &str) -> String {
    format!(
        "<svg width=\"400\" height=\"200\" viewBox=\"0 0 400 200\" xmlns=\"http://www.w3.org/2000/svg\">\n\
         <rect x=\"0\" y=\"0\" width=\"400\" height=\"200\" fill=\"#FFFFFF\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"12\">{label}</text>\n\
         <polyline fill=\"none\" stroke=\"#1F77B4\" points=\"10,180 200,40 390,120\"/>\n</svg>\n"
    )
}

/// The report directory: every plot the fixture names except `plots/profiles.svg` and
/// `plots/slices-lighting-tpr.svg`.
fn report_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    // A prolog, a doctype (whose address must not reach the page) and a comment.
    write(
        "plots/slices-lighting-accuracy.svg",
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
             <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \
             \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<!-- made by hand -->\n{}",
            plot("MARK-accuracy-by-lighting")
        ),
    );
    write(
        "plots/slices-skin-tone-accuracy.svg",
        &plot("MARK-accuracy-by-skin-tone"),
    );
    // Width and height only, and an id that a second plot could also use.
    write(
        "plots/disparities.svg",
        "<svg width=\"600\" height=\"240\" xmlns=\"http://www.w3.org/2000/svg\">\
         <defs><clipPath id=\"clip0\"><rect width=\"600\" height=\"240\"/></clipPath></defs>\
         <g clip-path=\"url(#clip0)\"><text x=\"5\" y=\"15\">MARK-disparities</text></g></svg>\n",
    );
    write("plots/importance-kernel.svg", &plot("MARK-importance"));
    for stem in ["00-face-01.png", "01-face__07_.png"] {
        write(
            &format!("plots/items/{stem}-bars.svg"),
            &plot(&format!("MARK-{stem}-bars")),
        );
        // An embedded raster, as plot::image_overlay writes it.
        write(
            &format!("plots/items/{stem}-overlay.svg"),
            &format!(
                "<svg width=\"300\" height=\"150\" viewBox=\"0 0 300 150\" \
                 xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n\
                 <image x=\"0\" y=\"0\" width=\"150\" height=\"150\" preserveAspectRatio=\"none\" \
                 xlink:href=\"data:image/png;base64,iVBORw0KGgo=\"/>\n\
                 <text x=\"160\" y=\"20\">MARK-{stem}-overlay</text>\n</svg>\n"
            ),
        );
    }
    dir
}

fn page() -> (String, tempfile::TempDir) {
    let dir = report_dir();
    let html = render(&fixture(), dir.path()).unwrap();
    if let Ok(p) = std::env::var("EXPLAIN_HTML_PREVIEW") {
        std::fs::write(p, &html).unwrap();
    }
    (html, dir)
}

/// Every tag of the page as (name, attributes text, self-closing), skipping `<!…>`, and the
/// contents of `<style>`.
fn tags(html: &str) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unclosed tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let (closing, tag) = match tag.strip_prefix('/') {
            Some(t) => (true, t),
            None => (false, tag),
        };
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        let attrs = tag[name_end..].to_string();
        let self_closing = tag.ends_with('/');
        out.push((
            if closing {
                format!("/{name}")
            } else {
                name.clone()
            },
            attrs,
            self_closing,
        ));
        if name == "style" && !closing {
            let close = rest.find("</style>").expect("style closed");
            rest = &rest[close..];
        }
    }
    out
}

const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];

#[test]
fn has_every_section_and_the_verdicts() {
    let (html, _dir) = page();
    for (n, heading) in [
        "Identification",
        "Intended use",
        "Data inventory",
        "Evaluation protocol",
        "Performance",
        "Disparities",
        "Explanations",
        "Limitations",
        "Reproducibility",
    ]
    .iter()
    .enumerate()
    {
        let h = format!("<span class=\"no\">{}</span> {heading}</h2>", n + 1);
        assert_eq!(html.matches(&h).count(), 1, "{h}");
    }
    // The summary: verdict, flags, uncovered market, insufficient slice, non-converged item.
    let summary = &html[html.find("<section class=\"summary flag\"").unwrap()..];
    let summary = &summary[..summary.find("</section>").unwrap()];
    assert!(summary.contains("<span class=\"v v-flag\">FLAG</span>"));
    assert!(summary.contains(
        "accuracy by lighting: difference 0.225 (95% CI [0.118, 0.331]) breaches 0.100; \
         worst dim &amp; &lt;b&gt;low&lt;/b&gt;, best normal"
    ));
    assert!(summary.contains("JP: NOT COVERED — 4 validation items for ja-JP (need 30)"));
    assert!(summary.contains("skin_tone = V-VI (n = 12)"));
    assert!(summary.contains("validation/dim/face &lt;07&gt;.png (kernel): sd ratio 0.23"));
    assert!(summary.contains("<b>240</b> validation items"));
    assert!(summary.contains("<b>2</b> of <b>3</b> target markets covered"));
    // Contents link to every section.
    for id in [
        "identification",
        "data",
        "performance",
        "disparities",
        "reproducibility",
    ] {
        assert!(html.contains(&format!("<a href=\"#{id}\">")), "{id}");
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // The market that is not covered, highlighted.
    assert!(html.contains(
        "<tr class=\"bad\"><td><b>JP</b></td><td>ja-JP</td><td><span class=\"short\">ja-JP: 4</span>"
    ));
    // The flagged disparity row and its verdict; the insufficient one greyed.
    assert!(html.contains(
        "<tr class=\"bad\"><td>lighting</td><td>Accuracy</td><td class=\"num\">0.727</td>\
         <td class=\"num\">0.225</td><td>difference (max − min) ≤ threshold</td>\
         <td class=\"num\">0.1</td><td class=\"num\">[0.118, 0.331]</td>\
         <td class=\"num\">4.12e-5</td><td class=\"num\">1.65e-4</td>"
    ));
    assert!(
        html.contains("<tr class=\"weak\"><td>skin_tone</td><td>TPR</td><td class=\"num\">–</td>")
    );
    // The slice with too little data, and the worst slice of the flagged disparity.
    assert!(html.contains("<tr class=\"weak\"><td><b>V-VI</b></td><td class=\"num\">12</td>"));
    assert!(html.contains("<span class=\"v v-na\">insufficient data</span> (n &lt; 30)"));
    assert!(html.contains("▼ worst"));
    // The item that did not converge.
    assert!(html.contains("<article class=\"item bad\" id=\"item-1-2\">"));
    assert!(html.contains("<span class=\"v v-flag\">NO</span>"));
    // Overall metrics to 3 decimals with intervals.
    assert!(html.contains("<td>Accuracy</td><td class=\"num\">0.771</td><td class=\"num\">[0.714, 0.819]</td><td class=\"num\">240</td>"));
    // Datasheet gaps and unstated fields.
    assert!(html.contains("<b>Datasheet gaps (3):</b> licence not stated; legal_basis not stated"));
    assert!(html.contains("<dt>Licence</dt><dd><span class=\"gap\">not stated</span></dd>"));
    // Limitations, plainly.
    assert!(html.contains(
        "<li>Not every target market is covered by the validation data: JP is not covered.</li>"
    ));
}

#[test]
fn escapes_every_string_from_the_report() {
    let (html, _dir) = page();
    let title =
        "Door camera face detector &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends";
    assert!(html.contains(&format!("<title>{title}</title>")));
    assert!(html.contains(&format!("<h1>{title}</h1>")));
    assert!(!html.contains("alert(\"x\")"));
    assert!(!html.contains("<b>low</b>"));
    assert!(html.contains("<b>dim &amp; &lt;b&gt;low&lt;/b&gt;</b>"));
    assert!(!html.contains("<img"));
    assert!(html.contains("Studio captures &amp; field tests &lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("<code>validation/dim/face &lt;07&gt;.png</code>"));
    // The parameters as JSON, escaped.
    assert!(html.contains("\"title\": \"Door camera face detector &lt;script&gt;alert(\\\"x\\\")&lt;/script&gt; &amp; friends\""));
}

#[test]
fn is_self_contained() {
    let (html, _dir) = page();
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"));
    for bad in [
        "<link",
        "<iframe",
        "<object",
        "<embed",
        "<img",
        "@import",
        "javascript:",
    ] {
        assert!(!lower.contains(bad), "{bad}");
    }
    // Addresses only as the namespaces of the inlined SVGs.
    let allowed = [
        "xmlns=\"http://www.w3.org/2000/svg\"",
        "xmlns:xlink=\"http://www.w3.org/1999/xlink\"",
    ];
    for scheme in ["http://", "https://"] {
        for (i, _) in lower.match_indices(scheme) {
            assert!(
                allowed.iter().any(|a| {
                    let at = a.find(scheme).unwrap();
                    i >= at && html[i - at..].starts_with(a)
                }),
                "address outside an xmlns attribute: {}",
                &html[i.saturating_sub(40)..(i + 60).min(html.len())]
            );
        }
    }
    assert!(lower.contains("<style>"));
    assert_eq!(lower.matches("<style").count(), 1);
    // Inside tags: no src, links only to anchors (or rasters embedded in a plot), no handlers.
    let mut anchors = 0;
    for (name, attrs, _) in tags(&html) {
        let a = attrs.to_ascii_lowercase();
        assert!(!a.contains("src="), "<{name}{attrs}>");
        assert!(
            !a.contains("url(") || a.contains("url(#"),
            "<{name}{attrs}>"
        );
        for (i, _) in a.match_indices("href=") {
            let value = &a[i + 5..];
            assert!(
                value.starts_with("\"#") || value.starts_with("\"data:image/png;base64,"),
                "<{name}{attrs}>"
            );
            if name == "a" {
                anchors += 1;
                // The anchor exists.
                let id = &value[2..value[1..].find('"').unwrap() + 1];
                assert!(html.contains(&format!(" id=\"{id}\"")), "#{id}");
            }
        }
        for w in a.split_whitespace() {
            assert!(!w.starts_with("on"), "event handler in <{name}{attrs}>");
        }
    }
    assert!(anchors >= 10);
}

#[test]
fn inlines_plots_without_their_prolog() {
    let (html, _dir) = page();
    assert!(!html.contains("<?xml"));
    assert!(!html.contains("svg11.dtd"));
    assert!(!html.contains("made by hand"));
    assert!(html.starts_with("<!DOCTYPE html>\n"));
    assert_eq!(html.matches("<!DOCTYPE").count(), 1);
    for mark in [
        "MARK-accuracy-by-lighting",
        "MARK-accuracy-by-skin-tone",
        "MARK-disparities",
        "MARK-importance",
        "MARK-00-face-01.png-bars",
        "MARK-00-face-01.png-overlay",
        "MARK-01-face__07_.png-bars",
        "MARK-01-face__07_.png-overlay",
    ] {
        assert_eq!(html.matches(mark).count(), 1, "{mark}");
    }
    let lighting = html.find("MARK-accuracy-by-lighting").unwrap();
    let before = &html[..lighting];
    let open = before.rfind("<figure").unwrap();
    assert!(
        before[open..].contains(
            "<svg width=\"400\" height=\"200\" viewBox=\"0 0 400 200\" xmlns=\"http://www.w3.org/2000/svg\">"
        ),
        "{}",
        &before[open..]
    );
    // The plots of an attribute follow its slice table, in a two-column grid.
    let skin = html
        .find("<h3 id=\"attribute-2\">By skin_tone</h3>")
        .unwrap();
    assert!(lighting < skin);
    assert!(
        html[..lighting].rfind("<div class=\"grid2\">").unwrap()
            > html.find("<h3 id=\"attribute-1\">").unwrap()
    );
    // A viewBox for the plot that only had width and height; its ids made unique.
    assert!(html.contains("<svg viewBox=\"0 0 600 240\" width=\"600\" height=\"240\""));
    let d = html.find("MARK-disparities").unwrap();
    let svg = &html[html[..d].rfind("<svg").unwrap()..d];
    assert!(
        svg.contains("<clipPath id=\"f") && svg.contains("-clip0\">"),
        "{svg}"
    );
    assert!(
        !svg.contains("id=\"clip0\"") && !svg.contains("url(#clip0)"),
        "{svg}"
    );
    // Scaled by the page's style.
    assert!(html.contains("figure svg{display:block;max-width:100%;height:auto}"));
    // The items' plots side by side, after the item's figures.
    let item = html.find("id=\"item-1-1\"").unwrap();
    let bars = html.find("MARK-00-face-01.png-bars").unwrap();
    let overlay = html.find("MARK-00-face-01.png-overlay").unwrap();
    assert!(item < overlay && overlay < bars);
    assert!(html[item..overlay].contains("<div class=\"grid2\">"));
    assert!(!html[overlay..bars].contains("</div>"));
}

#[test]
fn missing_plots_are_noted() {
    let (html, _dir) = page();
    assert!(html.contains(
        "<p class=\"missing\">Distance of each slice&#39;s explanation profile from the overall \
         profile: plot <code>plots/profiles.svg</code> is missing from the report directory.</p>"
    ) || html.contains("plot <code>plots/profiles.svg</code> is missing from the report directory."));
    assert!(html.contains(
        "TPR by lighting: plot <code>plots/slices-lighting-tpr.svg</code> is missing from the report directory."
    ));
    // A report directory without any plot still renders.
    let empty = tempfile::tempdir().unwrap();
    let html = render(&fixture(), empty.path()).unwrap();
    assert_eq!(html.matches("<figure").count(), 0);
    assert_eq!(
        html.matches("is missing from the report directory").count(),
        10
    );
}

#[test]
fn is_deterministic() {
    let (a, dir) = page();
    let b = render(&fixture(), dir.path()).unwrap();
    assert_eq!(a, b);
    // The same plots in another directory give the same page.
    let other = report_dir();
    assert_eq!(a, render(&fixture(), other.path()).unwrap());
    // The timing block, the only part of report.json that changes from run to run, and the
    // page's own hash are not on the page: other values give the same bytes.
    let mut report = fixture();
    report["timing"]["phases"][1]["seconds"] = 9.999.into();
    report["timing"]["total_seconds"] = 11.111.into();
    report["reproducibility"]["page"] = serde_json::json!({"path": "report.html", "sha256": "ab"});
    assert_eq!(a, render(&report, dir.path()).unwrap());
    assert!(!a.contains("2.871") && !a.contains("id=\"timing\""));
    assert!(a.ends_with("</section>\n</main>\n</body>\n</html>\n"));
}

#[test]
fn is_well_formed() {
    let (html, _dir) = page();
    let mut stack: Vec<String> = Vec::new();
    for (name, _, self_closing) in tags(&html) {
        if let Some(closed) = name.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{closed}> closes nothing"));
            assert_eq!(open, closed, "<{open}> closed by </{closed}>");
        } else if !self_closing && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    for tag in ["section", "table", "details", "figure", "svg", "article"] {
        assert_eq!(
            html.matches(&format!("<{tag}")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "{tag}"
        );
    }
    // 9 numbered sections and the summary.
    assert_eq!(html.matches("<section").count(), 10);
}

#[test]
fn inlines_each_plot_once() {
    let dir = report_dir();
    let mut report = fixture();
    // Both items name the first item's plots.
    let first = report["explanations"]["methods"][0]["items"][0]["plots"].clone();
    report["explanations"]["methods"][0]["items"][1]["plots"] = first;
    let html = render(&report, dir.path()).unwrap();
    assert_eq!(html.matches("MARK-00-face-01.png-bars").count(), 1);
    assert!(!html.contains("MARK-01-face__07_.png-bars"));
    let fig = html[..html.find("MARK-00-face-01.png-bars").unwrap()]
        .rfind("<figure id=\"fig-")
        .unwrap();
    let id = &html[fig + 12..fig + 12 + html[fig + 12..].find('"').unwrap()];
    assert!(html.contains(&format!("see <a href=\"#{id}\">")), "{id}");
}

#[test]
fn refuses_unsafe_or_outside_plots() {
    let dir = report_dir();
    std::fs::write(
        dir.path().join("plots/importance-kernel.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script>MARK-bad</svg>",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("plots/disparities.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"https://example.invalid/x.png\"/>MARK-bad</svg>",
    )
    .unwrap();
    let mut report = fixture();
    report["reproducibility"]["plots"]["profiles"] = "../outside.svg".into();
    let html = render(&report, dir.path()).unwrap();
    assert!(!html.contains("MARK-bad"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(!html.contains("example.invalid"));
    assert!(html.contains("plot <code>plots/importance-kernel.svg</code> not inlined: it contains active or embedded content."));
    assert!(html.contains("plot <code>plots/disparities.svg</code> not inlined: it refers to a file or an address outside the page."));
    assert!(
        html.contains(
            "plot <code>../outside.svg</code> is not a path inside the report directory."
        )
    );
}

#[test]
fn renders_an_empty_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = fixture();
    doc["title"] = "".into();
    doc["summary"] = serde_json::json!({"verdict": "pass", "flags": [], "uncovered_markets": [],
        "insufficient_slices": [], "not_converged": []});
    doc["disparities"] = serde_json::json!([]);
    doc["limitations"] = serde_json::json!([]);
    doc["performance"]["slices"] = serde_json::json!([]);
    doc["performance"]["attributes"] = serde_json::json!([]);
    doc["explanations"] = serde_json::json!({"methods": [], "profiles": null});
    doc["data"]["datasets"] = serde_json::json!([]);
    doc["reproducibility"]["plots"] =
        serde_json::json!({"slices": [], "disparities": null, "profiles": null});
    let html = render(&doc, dir.path()).unwrap();
    assert!(html.contains("<title>Model report</title>"));
    assert!(html.contains("Reproducibility</h2>"));
    assert_eq!(html.matches("<section").count(), 10);
    assert!(html.contains("<span class=\"v v-pass\">PASS</span>"));
    assert!(html.contains("<p class=\"note\">No disparities were evaluated.</p>"));
    assert!(html.contains("<p class=\"note\">No attributions were computed.</p>"));
    assert!(html.contains("<p class=\"none\">The report lists no limitations.</p>"));
}

#[test]
fn says_when_coverage_cannot_be_assessed() {
    let dir = report_dir();
    let mut report = fixture();
    let c = &mut report["data"]["coverage"];
    c["assessable"] = false.into();
    c["reason"] = "no validation manifest has a locale column".into();
    c["not_covered"] = serde_json::json!([]);
    for m in c["markets"].as_array_mut().unwrap() {
        m["covered"] = Value::Null;
        m["locales"] = serde_json::json!([]);
        m["verdict"] = "not assessable".into();
    }
    report["summary"]["uncovered_markets"] = serde_json::json!([]);
    let html = render(&report, dir.path()).unwrap();
    assert!(html.contains(
        "target-market coverage <b>not assessable</b>: no validation manifest has a locale column"
    ));
    assert!(html.contains("<p class=\"none\">Not assessable: the validation data has no locale column (see Data inventory).</p>"));
    assert!(html.contains(
        "<p class=\"alert\"><b>Not assessable:</b> no validation manifest has a locale column.</p>"
    ));
    assert!(html.contains("<tr class=\"weak\"><td><b>JP</b></td><td>ja-JP</td><td>–</td><td><span class=\"v v-na\">–</span></td><td>not assessable</td></tr>"));
}

#[test]
fn shows_attribute_requirements_and_what_cannot_be_assessed() {
    let dir = report_dir();
    let mut report = fixture();
    let c = &mut report["data"]["coverage"];
    c["reason"] = "no validation manifest has a locale column".into();
    c["attributes"] = serde_json::json!([
        {"attribute": "lighting", "assessable": true, "manifests": ["val.csv"], "items": 52,
         "missing": 0, "values": [{"value": "dim", "count": 40}, {"value": "bright", "count": 12}]},
        {"attribute": "skin_tone", "assessable": false,
         "reason": "no validation manifest has a `skin_tone` column (looked in val.csv)",
         "manifests": [], "items": 0, "missing": 0, "values": []}
    ]);
    let m = &mut c["markets"][0];
    m["required"] = serde_json::json!([]);
    m["locales"] = serde_json::json!([]);
    m["covered"] = false.into();
    m["attributes"] = serde_json::json!([
        {"attribute": "lighting", "required": ["dim", "bright", "dusk"], "covered": false,
         "values": [
            {"value": "dim", "n": 40, "sufficient": true, "note": "lighting=dim: 40"},
            {"value": "bright", "n": 12, "sufficient": false, "note": "lighting=bright: only 12 (need 30)"},
            {"value": "dusk", "n": 0, "sufficient": false, "note": "lighting=dusk missing; present values: dim, bright"}]},
        {"attribute": "skin_tone", "required": ["I-II"], "covered": null, "values": [],
         "reason": "no validation manifest has a `skin_tone` column (looked in val.csv)"}
    ]);
    m["verdict"] = "NOT COVERED — lighting=bright: only 12 (need 30)".into();
    let html = render(&report, dir.path()).unwrap();
    assert!(html.contains("<th scope=\"col\">Attribute requirements</th>"));
    assert!(html.contains("<td>no language requirement</td>"), "{html}");
    assert!(html.contains("<b>lighting</b>: <span class=\"ok\">dim 40</span> <span class=\"short\">bright 12</span> <span class=\"short\">dusk 0</span> <span class=\"note\">· lighting=dusk missing; present values: dim, bright</span>"), "{html}");
    assert!(html.contains("<b>skin_tone</b>: <span class=\"short\">not assessable</span> <span class=\"note\">· no validation manifest has a `skin_tone` column (looked in val.csv)</span>"));
    assert!(html.contains("<p class=\"alert\"><b>Locales not assessable:</b> no validation manifest has a locale column.</p>"));
    assert!(html.contains("<code>lighting</code> (52 items, 0 without a value): dim (40), bright (12); <code>skin_tone</code> not assessable — no validation manifest has a `skin_tone` column (looked in val.csv).</p>"));
}

#[test]
fn caps_long_lists_and_formats_numbers() {
    let (html, _dir) = page();
    // 25 input files: 20 shown.
    assert!(html.contains("The first 20 of 25 input files; … and 5 more, listed in report.json."));
    assert!(html.contains("validation/img-017.png"));
    assert!(!html.contains("validation/img-018.png"));
    // 14 devices: 12 shown.
    assert!(html.contains("cam-11"));
    assert!(!html.contains("cam-12"));
    assert!(
        html.contains(
            "<td>… 2 more values</td><td class=\"num\">10</td><td class=\"num\">4.2%</td>"
        )
    );
    // Nulls as a dash, p-values in scientific notation below 0.001, attributions to 4
    // significant digits.
    assert!(html.contains("<td class=\"num\">0.031</td>"));
    assert!(html.contains("<td class=\"num\">0.9345</td><td class=\"num\">0.4123</td>"));
    assert!(html.contains("<td class=\"num\">3.200e-7</td>"));
    assert!(
        html.contains("<details>\n<summary>All 16 attributions, largest |value| first</summary>")
    );
    // Print styles.
    assert!(html.contains("@media print{"));
    assert!(html.contains("section.part{break-before:page}"));
}

/// The committed reference pages are exactly what `render` makes of their report.json and
/// plots: a change to the page's code or style that moves a byte shows here first.
#[test]
fn reference_pages_render_to_their_committed_bytes() {
    for task in ["camera", "detector", "inspection", "speech"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../reports")
            .join(task);
        let report: Report =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        let committed = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(
            html::render(&report, &dir).unwrap() == committed,
            "reports/{task}/report.html differs from the page rendered from its report.json"
        );
    }
}
