//! `report.html`: the report as one self-contained page a reviewer opens in a browser or prints.
//!
//! [`render`] takes `report.json` as a [`serde_json::Value`], so it renders any
//! `explain.report/1` document (missing fields show as "–", never as an error), and reads the
//! SVG plots the report names from the report directory and inlines them.
//!
//! The page is built to be handed over as evidence:
//!
//! * **Self-contained.** One inline `<style>`, no `<script>`, no web fonts, no `src=` and no
//!   link but internal `#anchors`. Plots are inlined as SVG (their XML prolog and doctype
//!   dropped, a `viewBox` added when they only state width and height, element ids prefixed so
//!   that two plots cannot clash). An SVG is only inlined when it holds no script, no event
//!   handler, no foreign object and no reference but `#anchors` and embedded `data:image/`
//!   rasters; otherwise, and when a plot file is missing, the page says so in a short note.
//!   Each plot file is inlined once; a second mention links to the first.
//! * **Escaped.** Every string from the report (titles, slice values, datasheet text) is
//!   HTML-escaped.
//! * **Deterministic.** The same JSON and plot files give the same bytes: there is no
//!   generation timestamp, and the `timing` block, the only part of `report.json` that changes
//!   from run to run, is not on the page (nor is `reproducibility.page`, the page's own hash).
//!   So `report.json` can record the page's hash and `explain verify` re-render and compare it.
//! * **Readable and printable.** At most ~1100 px wide, system fonts; in print, each numbered
//!   section starts a page, tables and figures are kept whole where they fit, and verdicts are
//!   marked by text and colour, not by background.

use crate::Result;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

mod format;
mod svg;
mod table;

use format::*;
use svg::*;
use table::*;

/// The page's style sheet (`report/html/report.css`), inlined into every page.
const CSS: &str = include_str!("report.css");

/// Rows shown of the input and artifact tables before "… N more".
const MAX_FILES: usize = 20;

/// Rows of the global importance table.
const TOP_FEATURES: usize = 10;

/// Renders report.json (as a serde_json::Value, so it can render any explain.report/1
/// document) as one self-contained HTML page. SVG plots named in the report (paths relative to
/// `dir`, e.g. "plots/slices-surface-accuracy.svg", "plots/items/00-foo-overlay.svg",
/// "plots/disparities.svg") are read from `dir` and inlined.
pub fn render(report: &Value, dir: &Path) -> Result<String> {
    let mut page = Page {
        r: report,
        dir,
        out: String::with_capacity(64 * 1024),
        figures: 0,
        inlined: BTreeMap::new(),
    };
    page.document();
    Ok(page.out)
}

/// The sections, in order: (anchor, heading).
const SECTIONS: [(&str, &str); 9] = [
    ("identification", "Identification"),
    ("intended-use", "Intended use"),
    ("data", "Data inventory"),
    ("protocol", "Evaluation protocol"),
    ("performance", "Performance"),
    ("disparities", "Disparities"),
    ("explanations", "Explanations"),
    ("limitations", "Limitations"),
    ("reproducibility", "Reproducibility"),
];

struct Page<'a> {
    r: &'a Value,
    dir: &'a Path,
    out: String,
    /// Figures numbered so far.
    figures: usize,
    /// Plot path → the figure number it was inlined as.
    inlined: BTreeMap<String, usize>,
}

impl Page<'_> {
    fn document(&mut self) {
        let r = self.r;
        let title = match r["title"].as_str() {
            Some(t) if !t.trim().is_empty() => t,
            _ => "Model report",
        };
        put!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n",
            esc(title)
        );
        self.header(title);
        self.summary();
        self.toc();
        self.identification();
        self.intended_use();
        self.data();
        self.protocol();
        self.performance();
        self.disparities();
        self.explanations();
        self.limitations();
        self.reproducibility();
        self.out.push_str("</main>\n</body>\n</html>\n");
    }

    fn open_section(&mut self, index: usize) {
        let (id, heading) = SECTIONS[index];
        put!(
            self.out,
            "<section class=\"part\" id=\"{id}\">\n<h2><span class=\"no\">{}</span> {heading}</h2>\n",
            index + 1
        );
    }

    fn close_section(&mut self) {
        self.out.push_str("</section>\n");
    }

    fn header(&mut self, title: &str) {
        let r = self.r;
        let model = &r["identification"]["model"];
        let mut bits = Vec::new();
        if let Some(p) = model["path"].as_str() {
            bits.push(format!("model <code>{}</code>", esc(p)));
        }
        if let Some(h) = model["sha256"].as_str() {
            bits.push(format!(
                "SHA-256 <code>{}…</code>",
                esc(&h.chars().take(12).collect::<String>())
            ));
        }
        let tool = &r["reproducibility"]["tool"];
        if let Some(v) = tool["version"].as_str() {
            bits.push(format!(
                "{} {}",
                esc(tool["name"].as_str().unwrap_or("explain")),
                esc(v)
            ));
        }
        if let Some(s) = r["schema"].as_str() {
            bits.push(format!("schema <code>{}</code>", esc(s)));
        }
        put!(
            self.out,
            "<header>\n<p class=\"kicker\">Model explanation, data inventory and localization validation report</p>\n\
             <h1>{}</h1>\n<p class=\"sub\">{}</p>\n</header>\n",
            esc(title),
            bits.join(" · ")
        );
    }

    // -----------------------------------------------------------------------------------------
    // Summary and contents

    fn summary(&mut self) {
        let r = self.r;
        let s = &r["summary"];
        let verdict = s["verdict"].as_str().unwrap_or("");
        let (class, word) = match verdict {
            "flag" => ("flag", "FLAG"),
            "pass" => ("pass", "PASS"),
            "" => ("na", "NO VERDICT"),
            _ => ("na", verdict),
        };
        let flags = arr(&s["flags"]);
        put!(
            self.out,
            "<section class=\"summary {class}\" id=\"summary\" aria-label=\"Summary\">\n\
             <p class=\"verdict\">Overall verdict: <span class=\"v v-{class}\">{}</span></p>\n",
            esc(word)
        );
        let explain = match verdict {
            "flag" => format!(
                "{} check{} breach{} {} threshold{} (listed under Flags below).",
                flags.len(),
                plural(flags.len()),
                if flags.len() == 1 { "es" } else { "" },
                if flags.len() == 1 { "its" } else { "their" },
                plural(flags.len()),
            ),
            "pass" => "No disparity between slices and no explanation profile breaches its \
                       threshold."
                .to_string(),
            _ => "The report states no verdict.".to_string(),
        };
        put!(
            self.out,
            "<p>{explain} The verdict covers the disparity and explanation-profile rules; market \
             coverage, slices with too little data and unconverged attributions are listed below \
             for the reviewer's judgement.</p>\n"
        );

        // Counts.
        let perf = &r["performance"];
        let slices = arr(&perf["slices"]);
        let attributes = attribute_order(perf);
        let disparities = arr(&r["disparities"]);
        let count = |v: &str| {
            disparities
                .iter()
                .filter(|d| d["verdict"].as_str() == Some(v))
                .count()
        };
        let mut counts = Vec::new();
        if let Some(n) = perf["overall"]["n"].as_u64() {
            counts.push(format!("<b>{n}</b> validation items"));
        }
        counts.push(format!(
            "<b>{}</b> slice{} over <b>{}</b> attribute{} ({} with too little data)",
            slices.len(),
            plural(slices.len()),
            attributes.len(),
            plural(attributes.len()),
            arr(&s["insufficient_slices"]).len()
        ));
        counts.push(format!(
            "<b>{}</b> disparit{} checked: {} flagged, {} passed, {} without enough data",
            disparities.len(),
            if disparities.len() == 1 { "y" } else { "ies" },
            count("flag"),
            count("pass"),
            count("insufficient_data")
        ));
        let coverage = &r["data"]["coverage"];
        let markets = arr(&coverage["markets"]);
        if coverage["assessable"].as_bool() == Some(false) {
            counts.push(format!(
                "target-market coverage <b>not assessable</b>: {}",
                text_or(&coverage["reason"], "no reason given")
            ));
        } else if !markets.is_empty() {
            let covered = markets
                .iter()
                .filter(|m| m["covered"].as_bool() == Some(true))
                .count();
            counts.push(format!(
                "<b>{covered}</b> of <b>{}</b> target markets covered by the validation data",
                markets.len()
            ));
        }
        let methods = arr(&r["explanations"]["methods"]);
        if !methods.is_empty() {
            let items: usize = methods.iter().map(|m| arr(&m["items"]).len()).sum();
            let names: Vec<String> = methods.iter().map(|m| text(&m["method"])).collect();
            counts.push(format!(
                "<b>{items}</b> item{} explained ({}), {} not converged",
                plural(items),
                names.join(", "),
                arr(&s["not_converged"]).len()
            ));
        }
        if let Some(p) = r["explanations"]["profiles"].as_object() {
            let ps = p.get("slices").map(arr).unwrap_or(&[]);
            let flagged = ps
                .iter()
                .filter(|s| s["verdict"].as_str() == Some("flag"))
                .count();
            counts.push(format!(
                "<b>{}</b> explanation profile{}, {flagged} flagged",
                ps.len(),
                plural(ps.len())
            ));
        }
        self.out.push_str("<ul class=\"counts\">\n");
        for c in counts {
            put!(self.out, "<li>{c}</li>\n");
        }
        self.out.push_str("</ul>\n");

        let lists: [(&str, &str, &str, &str); 4] = [
            ("flags", "Flags", "None.", "#disparities"),
            (
                "uncovered_markets",
                "Target markets not covered",
                "None.",
                "#coverage",
            ),
            (
                "insufficient_slices",
                "Slices with too little data for a verdict",
                "None.",
                "#performance",
            ),
            (
                "not_converged",
                "Attributions that did not converge",
                "None.",
                "#explanations",
            ),
        ];
        self.out.push_str("<div class=\"lists\">\n");
        let assessable = coverage["assessable"].as_bool() != Some(false);
        for (key, heading, none, anchor) in lists {
            let items = arr(&s[key]);
            let none = if key == "uncovered_markets" && !assessable {
                "Not assessable: the validation data has no locale column (see Data inventory)."
            } else {
                none
            };
            let bad = !items.is_empty() && key != "insufficient_slices";
            put!(
                self.out,
                "<div class=\"list{}\">\n<h3>{heading} ({}) <a class=\"more\" href=\"{anchor}\">details</a></h3>\n",
                if bad { " bad" } else { "" },
                items.len()
            );
            if items.is_empty() {
                put!(self.out, "<p class=\"none\">{none}</p>\n");
            } else {
                self.out.push_str("<ul>\n");
                for i in items {
                    put!(self.out, "<li>{}</li>\n", text(i));
                }
                self.out.push_str("</ul>\n");
            }
            self.out.push_str("</div>\n");
        }
        self.out.push_str("</div>\n</section>\n");
    }

    fn toc(&mut self) {
        self.out
            .push_str("<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n");
        for (id, heading) in SECTIONS {
            put!(self.out, "<li><a href=\"#{id}\">{heading}</a></li>\n");
        }
        self.out.push_str("</ol>\n</nav>\n");
    }

    // -----------------------------------------------------------------------------------------
    // 1 Identification

    fn identification(&mut self) {
        self.open_section(0);
        let id = &self.r["identification"];
        let m = &id["model"];
        let opsets: Vec<String> = arr(&m["opsets"])
            .iter()
            .map(|o| {
                let domain = match o["domain"].as_str() {
                    Some("") | None => "ai.onnx",
                    Some(d) => d,
                };
                format!("{} {}", esc(domain), text(&o["version"]))
            })
            .collect();
        let producer = match (m["producer"].as_str(), m["producer_version"].as_str()) {
            (Some(p), Some(v)) if !v.is_empty() => format!("{} {}", esc(p), esc(v)),
            (Some(p), _) if !p.is_empty() => esc(p),
            _ => gap("not stated"),
        };
        let rows = vec![
            ("Model file", code(&m["path"])),
            ("SHA-256", hash(&m["sha256"])),
            ("Size", bytes(&m["size_bytes"])),
            ("ONNX IR version", text(&m["ir_version"])),
            (
                "Opset",
                if opsets.is_empty() {
                    text(&m["opset"])
                } else {
                    opsets.join(", ")
                },
            ),
            ("Producer", producer),
            (
                "Backend",
                format!(
                    "{} {}",
                    text(&id["backend"]),
                    text_or(&id["backend_version"], "")
                ),
            ),
            ("Input explained", code(&id["input"])),
            ("Output explained", code(&id["output"])),
        ];
        self.out.push_str(&kv_table(&rows));

        self.out.push_str("<h3>Inputs and outputs</h3>\n");
        let mut t = Table::new(&["Kind", "Name", "Shape", "Type"]);
        for (kind, key) in [("input", "inputs"), ("output", "outputs")] {
            for x in arr(&m[key]) {
                t.row(vec![
                    kind.to_string(),
                    code(&x["name"]),
                    format!("<code>{}</code>", shape(&x["shape"])),
                    text(&x["dtype"]),
                ]);
            }
        }
        self.out
            .push_str(&t.finish_or("The model declares no inputs or outputs."));

        self.out.push_str("<h3>Preprocessing</h3>\n");
        let pre = &id["preprocessing"];
        let mut rows = Vec::new();
        flatten("", pre, &mut rows);
        if rows.is_empty() {
            self.out.push_str(
                "<p class=\"note\">None recorded: inputs are fed to the model as read.</p>\n",
            );
        } else {
            let rows: Vec<(String, String)> = rows.into_iter().map(|(k, v)| (esc(&k), v)).collect();
            let rows: Vec<(&str, String)> =
                rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            self.out.push_str(&kv_table(&rows));
        }
        self.close_section();
    }

    // -----------------------------------------------------------------------------------------
    // 2 Intended use

    fn intended_use(&mut self) {
        self.open_section(1);
        let u = &self.r["intended_use"];
        self.out.push_str("<dl class=\"kv\">\n");
        put!(
            self.out,
            "<dt>Purpose</dt><dd>{}</dd>\n",
            text_or_gap(&u["purpose"])
        );
        for (key, label) in [
            ("deployers", "Deployers"),
            ("affected_persons", "Affected persons"),
            ("out_of_scope", "Out of scope"),
            ("operating_conditions", "Operating conditions"),
        ] {
            put!(
                self.out,
                "<dt>{label}</dt><dd>{}</dd>\n",
                list_or_gap(&u[key])
            );
        }
        put!(
            self.out,
            "<dt>Human oversight</dt><dd>{}</dd>\n",
            text_or_gap(&u["human_oversight"])
        );
        self.out.push_str("</dl>\n");
        self.close_section();
    }

    // -----------------------------------------------------------------------------------------
    // 3 Data inventory

    fn data(&mut self) {
        self.open_section(2);
        let d = &self.r["data"];
        let totals = &d["totals"];
        let by_role: Vec<String> = arr(&totals["by_role"])
            .iter()
            .map(|t| {
                format!(
                    "{} {} item{} in {} manifest{}",
                    text(&t["role"]),
                    text(&t["items"]),
                    plural(t["items"].as_u64().unwrap_or(0) as usize),
                    text(&t["manifests"]),
                    plural(t["manifests"].as_u64().unwrap_or(0) as usize),
                )
            })
            .collect();
        let mut rows = vec![(
            "Totals",
            format!(
                "{} items in {} manifest{}{}",
                text(&totals["items"]),
                text(&totals["manifests"]),
                plural(totals["manifests"].as_u64().unwrap_or(0) as usize),
                if by_role.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", by_role.join("; "))
                }
            ),
        )];
        rows.push((
            "Datasheet",
            match d["datasheet"].as_object() {
                Some(_) => format!(
                    "{} <span class=\"note\">SHA-256</span> {}",
                    code(&d["datasheet"]["path"]),
                    hash(&d["datasheet"]["sha256"])
                ),
                None => gap("none given"),
            },
        ));
        self.out.push_str(&kv_table(&rows));

        for (i, ds) in arr(&d["datasets"]).iter().enumerate() {
            self.dataset(i, ds);
        }
        if arr(&d["datasets"]).is_empty() {
            self.out
                .push_str("<p class=\"note\">The inventory lists no datasets.</p>\n");
        }
        self.coverage(&d["coverage"]);

        self.out.push_str("<h3>Notes</h3>\n");
        let notes = arr(&d["notes"]);
        if notes.is_empty() {
            self.out.push_str("<p class=\"none\">None.</p>\n");
        } else {
            self.out.push_str("<ul>\n");
            for n in notes {
                put!(self.out, "<li>{}</li>\n", text(n));
            }
            self.out.push_str("</ul>\n");
        }
        self.close_section();
    }

    fn dataset(&mut self, i: usize, ds: &Value) {
        put!(
            self.out,
            "<article class=\"dataset\" id=\"dataset-{}\">\n<h3>{} <span class=\"tag\">{}</span></h3>\n",
            i + 1,
            code(&ds["manifest"]),
            text(&ds["role"])
        );
        let columns: Vec<String> = arr(&ds["columns"]).iter().map(text).collect();
        let mut rows = vec![
            ("Items", text(&ds["items"])),
            ("SHA-256", hash(&ds["sha256"])),
            ("Columns", columns.join(", ")),
        ];
        if !ds["datasheet_entry"].is_null() {
            rows.push(("Datasheet entry", code(&ds["datasheet_entry"])));
        }
        self.out.push_str(&kv_table(&rows));

        let gaps = arr(&ds["gaps"]);
        if !gaps.is_empty() {
            let g: Vec<String> = gaps.iter().map(text).collect();
            put!(
                self.out,
                "<p class=\"alert\"><b>Datasheet gaps ({}):</b> {}.</p>\n",
                gaps.len(),
                g.join("; ")
            );
        }

        self.out.push_str("<h4>Datasheet</h4>\n<dl class=\"kv\">\n");
        let sheet = &ds["datasheet"];
        let known = [
            ("name", "Name"),
            ("origin", "Origin"),
            ("collection_period", "Collection period"),
            ("collection_geography", "Collection geography"),
            ("licence", "Licence"),
            ("legal_basis", "Legal basis"),
            ("labelling", "Labelling"),
            ("data_category", "Data category"),
            ("contains_personal_data", "Contains personal data"),
            ("security_grade", "Security grade"),
            (
                "cross_border_transfer_assessed",
                "Cross-border transfer assessed",
            ),
            ("cross_border_notes", "Cross-border notes"),
            ("known_gaps", "Known gaps"),
        ];
        for (key, label) in known {
            let v = &sheet[key];
            let shown = match v {
                Value::Null => gap("not stated"),
                Value::Array(items) if key == "known_gaps" && !items.is_empty() => list(items),
                other => text(other),
            };
            put!(self.out, "<dt>{label}</dt><dd>{shown}</dd>\n");
        }
        if let Some(o) = sheet.as_object() {
            for (k, v) in o {
                if !known.iter().any(|(key, _)| key == k) {
                    put!(self.out, "<dt>{}</dt><dd>{}</dd>\n", esc(k), text_or_gap(v));
                }
            }
        }
        self.out.push_str("</dl>\n");

        let mut tables = Vec::new();
        if ds["label"].is_object() {
            tables.push(value_counts(&ds["label"], "label (class balance)"));
        }
        for a in arr(&ds["attributes"]) {
            tables.push(value_counts(a, ""));
        }
        if !tables.is_empty() {
            self.out
                .push_str("<h4>Composition</h4>\n<div class=\"cards\">\n");
            for t in tables {
                self.out.push_str(&t);
            }
            self.out.push_str("</div>\n");
        }

        let lc = &ds["language_coverage"];
        if lc.is_object() {
            put!(
                self.out,
                "<h4>Language coverage</h4>\n<p class=\"note\">Language column <code>{}</code>{}; \
                 {} item{} without a language.</p>\n",
                text(&lc["column"]),
                match lc["locale_column"].as_str() {
                    Some(c) => format!(", locale column <code>{}</code>", esc(c)),
                    None => String::new(),
                },
                text(&lc["missing"]),
                plural(lc["missing"].as_u64().unwrap_or(0) as usize)
            );
            let mut t = Table::new(&["Language", "Items", "Share", "Locales"]);
            t.numeric(&[1, 2]);
            for l in arr(&lc["languages"]) {
                let locales = arr(&l["locales"]);
                let mut shown: Vec<String> = locales
                    .iter()
                    .take(MAX_VALUES)
                    .map(|x| format!("{} ({})", text(&x["locale"]), text(&x["count"])))
                    .collect();
                if locales.len() > MAX_VALUES {
                    shown.push(format!("… {} more", locales.len() - MAX_VALUES));
                }
                t.row(vec![
                    text(&l["language"]),
                    text(&l["count"]),
                    percent(&l["share"]),
                    if shown.is_empty() {
                        DASH.into()
                    } else {
                        shown.join(", ")
                    },
                ]);
            }
            self.out.push_str(&t.finish_or("No language values."));
        }
        self.out.push_str("</article>\n");
    }

    fn coverage(&mut self, c: &Value) {
        self.out
            .push_str("<h3 id=\"coverage\">Target-market coverage of the validation data</h3>\n");
        if c.is_null() {
            self.out
                .push_str("<p class=\"note\">The report has no coverage record.</p>\n");
            return;
        }
        let manifests: Vec<String> = arr(&c["manifests"]).iter().map(code).collect();
        let columns: Vec<String> = arr(&c["columns"]).iter().map(code).collect();
        put!(
            self.out,
            "<p>A market is covered when each of its required locales has at least <b>{}</b> \
             validation items. Markets and their locales from: {}.",
            text(&c["min_n"]),
            text(&c["markets_from"]),
        );
        if c["assessable"].as_bool() == Some(false) {
            put!(
                self.out,
                "</p>\n<p class=\"alert\"><b>Not assessable:</b> {}.</p>\n",
                text_or(&c["reason"], "no reason given")
            );
        } else {
            put!(
                self.out,
                " Locale column{}: {}. Counted: {} items in {} ({} without a locale).</p>\n",
                plural(columns.len()),
                if columns.is_empty() {
                    DASH.into()
                } else {
                    columns.join(", ")
                },
                text(&c["items"]),
                if manifests.is_empty() {
                    DASH.into()
                } else {
                    manifests.join(", ")
                },
                text(&c["missing"]),
            );
        }
        let mut t = Table::new(&[
            "Market",
            "Required locales",
            "Validation items per locale",
            "Covered",
            "Verdict",
        ]);
        for m in arr(&c["markets"]) {
            let required: Vec<String> = arr(&m["required"]).iter().map(text).collect();
            let per_locale: Vec<String> = arr(&m["locales"])
                .iter()
                .map(|l| {
                    let ok = l["sufficient"].as_bool() != Some(false);
                    // The note, unless it only repeats the count ("it-IT: 85").
                    let note = l["note"].as_str().unwrap_or("");
                    let note = match (l["locale"].as_str(), l["n"].as_u64()) {
                        (Some(loc), Some(n)) if ok && note == format!("{loc}: {n}") => "",
                        _ => note,
                    };
                    format!(
                        "<span class=\"{}\">{}: {}</span>{}",
                        if ok { "ok" } else { "short" },
                        text(&l["locale"]),
                        text(&l["n"]),
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!(" <span class=\"note\">· {}</span>", esc(note))
                        }
                    )
                })
                .collect();
            let (covered, class) = match m["covered"].as_bool() {
                Some(true) => ("<span class=\"v v-pass\">yes</span>".to_string(), None),
                Some(false) => (
                    "<span class=\"v v-flag\">NO</span>".to_string(),
                    Some("bad"),
                ),
                None => (
                    format!("<span class=\"v v-na\">{DASH}</span>"),
                    Some("weak"),
                ),
            };
            t.row_class(
                class,
                vec![
                    format!("<b>{}</b>", text(&m["market"])),
                    required.join(", "),
                    if per_locale.is_empty() {
                        DASH.into()
                    } else {
                        per_locale.join("<br>")
                    },
                    covered,
                    text(&m["verdict"]),
                ],
            );
        }
        self.out.push_str(&t.finish_or("No target markets."));
        let locales = arr(&c["locales"]);
        if !locales.is_empty() {
            let mut shown: Vec<String> = locales
                .iter()
                .take(MAX_FILES)
                .map(|l| format!("{} ({})", text(&l["locale"]), text(&l["count"])))
                .collect();
            if locales.len() > MAX_FILES {
                shown.push(format!("… and {} more", locales.len() - MAX_FILES));
            }
            put!(
                self.out,
                "<p class=\"note\">Locales in the validation data: {}.</p>\n",
                shown.join(", ")
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // 4 Evaluation protocol

    fn protocol(&mut self) {
        self.open_section(3);
        let p = &self.r["protocol"];
        let dec = &p["decision"];
        let mode = &dec["mode"];
        let mode_text = match mode["kind"].as_str() {
            Some("binary") => format!(
                "binary: positive class {} of {} classes, score = output {}",
                text(&mode["positive"]),
                text(&mode["classes"]),
                text(&mode["score_output"])
            ),
            Some("multiclass") => format!(
                "multiclass over {} classes: the top output is the decision",
                text(&mode["classes"])
            ),
            _ => text(mode),
        };
        let metrics: Vec<String> = arr(&p["metrics"])
            .iter()
            .map(|m| metric_label(m.as_str().unwrap_or("")))
            .collect();
        let sl = &p["slices"];
        let slice_by: Vec<String> = arr(&sl["slice_by"]).iter().map(code).collect();
        let intersect: Vec<String> = arr(&sl["intersect"])
            .iter()
            .map(|g| arr(g).iter().map(code).collect::<Vec<_>>().join(" &amp; "))
            .collect();
        let rows = vec![
            ("Decision mode", mode_text),
            ("Decision threshold", text(&dec["threshold"])),
            ("Decision rule", text(&dec["rule"])),
            (
                "Metrics",
                if metrics.is_empty() {
                    DASH.into()
                } else {
                    metrics.join(", ")
                },
            ),
            (
                "Slices by",
                if slice_by.is_empty() {
                    DASH.into()
                } else {
                    slice_by.join(", ")
                },
            ),
            (
                "Intersections",
                if intersect.is_empty() {
                    "none".into()
                } else {
                    intersect.join("; ")
                },
            ),
            ("Interval per slice", text(&sl["ci"])),
            ("Interval of disparities", text(&sl["disparity_ci"])),
            ("Bootstrap replicates", text(&sl["bootstrap"])),
            ("Minimum items per slice (min-n)", text(&sl["min_n"])),
            (
                "Multiple comparisons",
                match sl["holm"].as_bool() {
                    Some(true) => format!("Holm adjustment, α = {}", text(&sl["alpha"])),
                    Some(false) => format!("none (α = {})", text(&sl["alpha"])),
                    None => DASH.into(),
                },
            ),
            ("Seed", text(&sl["seed"])),
        ];
        self.out.push_str(&kv_table(&rows));
        self.out.push_str(
            "<p class=\"note\">Metrics: accuracy = correct decisions / items; selection rate = \
             positive decisions / items; TPR = true positive rate (recall); FPR = false positive \
             rate; FNR = false negative rate; precision = positive items / positive decisions. \
             Each is a proportion with its own denominator <i>n</i>.</p>\n",
        );

        self.out.push_str("<h3>Disparity rules</h3>\n");
        let mut t = Table::new(&["Metric", "Rule", "Threshold"]);
        t.numeric(&[2]);
        for rule in arr(&sl["rules"]) {
            t.row(vec![
                metric_label(rule["metric"].as_str().unwrap_or("")),
                rule_text(&rule["rule"]),
                text(&rule["threshold"]),
            ]);
        }
        self.out.push_str(&t.finish_or("No disparity rules."));

        self.out.push_str("<h3>Explanation settings</h3>\n");
        let x = &p["explanations"];
        let methods: Vec<String> = arr(&x["methods"]).iter().map(text).collect();
        let rows = vec![
            ("Methods", methods.join(", ")),
            ("Features", code(&x["features"])),
            ("Baseline", code(&x["baseline"])),
            ("Link", text(&x["link"])),
            ("Target output", text(&x["target"])),
            ("Samples per item", text_or(&x["samples"], "method default")),
            ("Items listed in the config", text(&x["items_listed"])),
            ("Items drawn per slice", text(&x["items_per_slice"])),
            ("Converged when", text(&x["converged_when"])),
        ];
        self.out.push_str(&kv_table(&rows));

        self.out.push_str("<h3>Explanation profile settings</h3>\n");
        let pr = &self.r["explanations"]["profiles"];
        if pr.is_object() {
            let rows = vec![
                ("Method", text(&pr["method"])),
                ("Features", code(&pr["features"])),
                ("Baseline", code(&pr["baseline"])),
                ("Samples per item", text(&pr["samples"])),
                ("Target output", text(&pr["target"])),
                ("Seed", text(&pr["seed"])),
                ("Items per slice", text(&pr["per_slice"])),
                (
                    "Flag when",
                    format!(
                        "1 − Spearman(slice, overall) &gt; {}",
                        text(&pr["threshold"])
                    ),
                ),
                ("Items explained", arr(&pr["explained"]).len().to_string()),
            ];
            self.out.push_str(&kv_table(&rows));
        } else {
            self.out
                .push_str("<p class=\"note\">Explanation profiles were not computed.</p>\n");
        }
        self.close_section();
    }

    // -----------------------------------------------------------------------------------------
    // 5 Performance

    fn performance(&mut self) {
        self.open_section(4);
        let r = self.r;
        let perf = &r["performance"];
        let metrics = metric_names(r);
        let overall = &perf["overall"];
        put!(
            self.out,
            "<h3>Overall</h3>\n<p>{} validation items. Values with 95% intervals ({}).</p>\n",
            text(&overall["n"]),
            text_or(&r["protocol"]["slices"]["ci"], "method not stated")
        );
        let mut t = Table::new(&["Metric", "Value", "95% interval", "n"]);
        t.numeric(&[1, 2, 3]);
        for m in &metrics {
            let v = &overall["metrics"][m.as_str()];
            t.row(vec![
                metric_label(m),
                f3(&v["value"]),
                ci3(&v["ci95"]),
                text(&v["n"]),
            ]);
        }
        self.out.push_str(&t.finish_or("No overall metrics."));

        // The worst slice of every flagged disparity, marked in the tables.
        let mut worst: BTreeSet<(String, String, String)> = BTreeSet::new();
        for d in arr(&r["disparities"]) {
            if d["verdict"].as_str() == Some("flag")
                && let (Some(a), Some(m), Some(w)) = (
                    d["attribute"].as_str(),
                    d["metric"].as_str(),
                    d["worst"].as_str(),
                )
            {
                worst.insert((a.into(), m.into(), w.into()));
            }
        }
        let min_n = text(&r["protocol"]["slices"]["min_n"]);
        let slices = arr(&perf["slices"]);
        let summaries = arr(&perf["attributes"]);
        let plots = arr(&r["reproducibility"]["plots"]["slices"]);
        for (i, attribute) in attribute_order(perf).iter().enumerate() {
            put!(
                self.out,
                "<h3 id=\"attribute-{}\">By {}</h3>\n",
                i + 1,
                esc(attribute)
            );
            if let Some(s) = summaries
                .iter()
                .find(|s| s["attribute"].as_str() == Some(attribute.as_str()))
            {
                put!(
                    self.out,
                    "<p class=\"note\">{} value{}; {} item{} without a value, left out of these slices.</p>\n",
                    text(&s["values"]),
                    plural(s["values"].as_u64().unwrap_or(0) as usize),
                    text(&s["missing"]),
                    plural(s["missing"].as_u64().unwrap_or(0) as usize)
                );
            }
            let mut head = vec!["Slice".to_string(), "n".to_string()];
            head.extend(metrics.iter().map(|m| metric_label(m)));
            head.push("Status".into());
            let head: Vec<&str> = head.iter().map(String::as_str).collect();
            let mut t = Table::new(&head);
            t.numeric(&[1]);
            for s in slices
                .iter()
                .filter(|s| s["attribute"].as_str() == Some(attribute.as_str()))
            {
                let n = s["n"].as_u64();
                let value = s["value"].as_str().unwrap_or("");
                let mut cells = vec![format!("<b>{}</b>", esc(value)), text(&s["n"])];
                for m in &metrics {
                    let v = &s["metrics"][m.as_str()];
                    let mut cell = if v["value"].is_null() && v["ci95"].is_null() {
                        DASH.to_string()
                    } else {
                        format!(
                            "{} <span class=\"ci\">{}</span>",
                            f3(&v["value"]),
                            ci3(&v["ci95"])
                        )
                    };
                    if v["n"].as_u64() != n && !v["n"].is_null() {
                        put!(cell, " <span class=\"den\">n={}</span>", text(&v["n"]));
                    }
                    if worst.contains(&(attribute.clone(), m.clone(), value.to_string())) {
                        cell = format!("<span class=\"worst\">{cell} ▼ worst</span>");
                    }
                    cells.push(cell);
                }
                let insufficient = s["status"].as_str() == Some("insufficient_data");
                cells.push(if insufficient {
                    format!("<span class=\"v v-na\">insufficient data</span> (n &lt; {min_n})")
                } else {
                    text(&s["status"])
                });
                t.row_class(insufficient.then_some("weak"), cells);
            }
            self.out.push_str(&t.finish_or("No slices."));
            let figs: Vec<(String, String)> = plots
                .iter()
                .filter(|p| p["attribute"].as_str() == Some(attribute.as_str()))
                .filter_map(|p| {
                    let path = p["plot"].as_str()?;
                    let metric = p["metric"].as_str().unwrap_or("");
                    Some((
                        path.to_string(),
                        format!("{} by {}", metric_label(metric), esc(attribute)),
                    ))
                })
                .collect();
            self.figure_grid(&figs);
        }
        if slices.is_empty() {
            self.out
                .push_str("<p class=\"note\">No slices were evaluated.</p>\n");
        }
        self.close_section();
    }

    // -----------------------------------------------------------------------------------------
    // 6 Disparities

    fn disparities(&mut self) {
        self.open_section(5);
        let r = self.r;
        let ds = arr(&r["disparities"]);
        let holm = ds.iter().any(|d| d.get("p_holm").is_some());
        self.out.push_str(
            "<p>For each attribute and metric, the lowest and highest slice among those with \
             enough data are compared: ratio = min / max, difference = max − min. The 95% \
             interval is of the quantity the rule judges; p is a chi-square test that the \
             compared slices share one proportion.</p>\n",
        );
        let mut head = vec![
            "Attribute",
            "Metric",
            "Ratio",
            "Difference",
            "Rule",
            "Threshold",
            "95% interval",
            "p",
        ];
        if holm {
            head.push("p (Holm)");
        }
        head.extend(["Worst", "Best", "Verdict"]);
        let mut t = Table::new(&head);
        t.numeric(&[2, 3, 5, 6, 7]);
        if holm {
            t.numeric(&[8]);
        }
        for d in ds {
            let (verdict, class) = verdict_cell(&d["verdict"]);
            let mut cells = vec![
                text(&d["attribute"]),
                metric_label(d["metric"].as_str().unwrap_or("")),
                f3(&d["ratio"]),
                f3(&d["difference"]),
                rule_text(&d["rule"]),
                text(&d["threshold"]),
                ci3(&d["ci95"]),
                pvalue(&d["p_value"]),
            ];
            if holm {
                cells.push(pvalue(&d["p_holm"]));
            }
            cells.extend([text(&d["worst"]), text(&d["best"]), verdict]);
            t.row_class(class, cells);
        }
        self.out
            .push_str(&t.finish_or("No disparities were evaluated."));
        if let Some(p) = r["reproducibility"]["plots"]["disparities"].as_str() {
            let f = self.figure(
                p,
                "Disparities between slices with 95% intervals and thresholds",
            );
            self.out.push_str(&f);
        }
        self.close_section();
    }

    // -----------------------------------------------------------------------------------------
    // 7 Explanations

    fn explanations(&mut self) {
        self.open_section(6);
        let r = self.r;
        let x = &r["explanations"];
        let methods = arr(&x["methods"]);
        if methods.is_empty() {
            self.out
                .push_str("<p class=\"note\">No attributions were computed.</p>\n");
        }
        for (mi, m) in methods.iter().enumerate() {
            self.method(mi, m);
        }
        self.profiles(&x["profiles"]);
        self.close_section();
    }

    fn method(&mut self, mi: usize, m: &Value) {
        put!(
            self.out,
            "<h3 id=\"method-{}\">Method: {}</h3>\n<p class=\"note\">Attribution file <code>{}</code>.</p>\n",
            mi + 1,
            text(&m["method"]),
            text(&m["file"])
        );
        let mut rows: Vec<(String, String)> = Vec::new();
        flatten("", &m["params"], &mut rows);
        let rows: Vec<(String, String)> = rows.into_iter().map(|(k, v)| (esc(&k), v)).collect();
        let rows: Vec<(&str, String)> = rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        if !rows.is_empty() {
            self.out.push_str(&kv_table(&rows));
        }

        let g = &m["global_importance"];
        let names: Vec<String> = arr(&g["feature_names"])
            .iter()
            .map(|n| n.as_str().map_or_else(|| n.to_string(), str::to_string))
            .collect();
        let mean = arr(&g["mean_abs"]);
        let se = arr(&g["std_error"]);
        let items = arr(&m["items"]);
        put!(
            self.out,
            "<h4>Global importance</h4>\n<p class=\"note\">Mean |attribution| per feature over \
             the {} explained item{}, with its standard error.</p>\n",
            items.len(),
            plural(items.len())
        );
        if let Some(p) = g["plot"].as_str() {
            let f = self.figure(p, &format!("Global importance ({})", text(&m["method"])));
            self.out.push_str(&f);
        }
        let mut order: Vec<usize> = (0..mean.len()).collect();
        order.sort_by(|&a, &b| {
            let (va, vb) = (
                mean[a].as_f64().unwrap_or(f64::NEG_INFINITY),
                mean[b].as_f64().unwrap_or(f64::NEG_INFINITY),
            );
            vb.total_cmp(&va).then(a.cmp(&b))
        });
        let mut t = Table::new(&["Rank", "Feature", "Mean |attribution|", "SE"]);
        t.numeric(&[0, 2, 3]);
        for (rank, &k) in order.iter().take(TOP_FEATURES).enumerate() {
            t.row(vec![
                (rank + 1).to_string(),
                feature_name(&names, k),
                sig(&mean[k]),
                se.get(k).map_or(DASH.into(), sig),
            ]);
        }
        if mean.len() > TOP_FEATURES {
            t.caption(&format!(
                "Top {TOP_FEATURES} of {} features by mean |attribution|.",
                mean.len()
            ));
        }
        self.out.push_str(&t.finish_or("No features."));

        if !items.is_empty() {
            put!(self.out, "<h4>Explained items ({})</h4>\n", items.len());
        }
        for (i, item) in items.iter().enumerate() {
            self.item(mi, i, item, &names);
        }
    }

    fn item(&mut self, mi: usize, i: usize, item: &Value, names: &[String]) {
        let converged = item["converged"].as_bool();
        put!(
            self.out,
            "<article class=\"item{}\" id=\"item-{}-{}\">\n<h5>{}. <code>{}</code>{}</h5>\n",
            if converged == Some(false) { " bad" } else { "" },
            mi + 1,
            i + 1,
            i + 1,
            text(&item["input"]),
            if converged == Some(false) {
                " <span class=\"v v-flag\">not converged</span>"
            } else {
                ""
            }
        );
        let values = arr(&item["values"]);
        let ses = arr(&item["std_errors"]);
        let mut head = vec![
            "Target",
            "Prediction",
            "Base value",
            "Σ attributions",
            "Model evaluations",
            "Converged",
            "SD ratio",
            "Efficiency residual",
        ];
        let r2 = !item["r2"].is_null();
        if r2 {
            head.push("Surrogate R²");
        }
        let mut t = Table::new(&head);
        t.numeric(&[0, 1, 2, 3, 4, 6, 7, 8]);
        let sum: f64 = values.iter().filter_map(Value::as_f64).sum();
        let mut cells = vec![
            text(&item["target"]),
            sig(&item["prediction"]),
            sig(&item["base_value"]),
            if values.is_empty() {
                DASH.into()
            } else {
                sig4(sum)
            },
            text(&item["model_evals"]),
            match converged {
                Some(true) => "<span class=\"v v-pass\">yes</span>".into(),
                Some(false) => "<span class=\"v v-flag\">NO</span>".into(),
                None => DASH.into(),
            },
            f3(&item["sd_ratio"]),
            sig(&item["efficiency_residual"]),
        ];
        if r2 {
            cells.push(f3(&item["r2"]));
        }
        t.row(cells);
        self.out.push_str(&t.finish_or(""));
        put!(
            self.out,
            "<p class=\"note\">Input SHA-256 {}</p>\n",
            hash(&item["input_sha256"])
        );
        let q = &item["quality"];
        if q.is_object() {
            let mut t = Table::new(&[
                "Deletion AUC (random)",
                "Insertion AUC (random)",
                "Seed stability: Spearman, top-k Jaccard",
                "Randomised last layer: Spearman |φ|",
                "Sanity check",
            ]);
            let seeds = &q["seed_stability"];
            let rand = &q["randomisation"];
            let (verdict, _) = verdict_cell(&rand["verdict"]);
            t.row(vec![
                format!(
                    "{} ({})",
                    f3(&q["deletion"]["auc"]),
                    f3(&q["random_deletion_auc"])
                ),
                format!(
                    "{} ({})",
                    f3(&q["insertion"]["auc"]),
                    f3(&q["random_insertion_auc"])
                ),
                format!("{}, {}", f3(&seeds["spearman"]), f3(&seeds["topk_jaccard"])),
                f3(&rand["spearman_abs"]),
                verdict,
            ]);
            self.out.push_str(&t.finish_or(""));
            put!(
                self.out,
                "<p class=\"note\">Good attributions: deletion AUC below and insertion AUC above the random-order baseline. {}</p>\n",
                text(&rand["note"])
            );
        }
        // The overlay (the input itself) first, then the bars.
        let mut plots: Vec<&str> = arr(&item["plots"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        plots.sort_by_key(|p| !p.ends_with("-overlay.svg"));
        let figs: Vec<(String, String)> = plots
            .into_iter()
            .map(|p| {
                let caption = if p.ends_with("-overlay.svg") {
                    "Attributions over the input"
                } else if p.ends_with("-bars.svg") {
                    "Largest attributions with standard errors"
                } else {
                    "Plot"
                };
                (p.to_string(), caption.to_string())
            })
            .collect();
        self.figure_grid(&figs);

        if !values.is_empty() {
            let mut order: Vec<usize> = (0..values.len()).collect();
            order.sort_by(|&a, &b| {
                let (va, vb) = (
                    values[a].as_f64().map_or(f64::NEG_INFINITY, f64::abs),
                    values[b].as_f64().map_or(f64::NEG_INFINITY, f64::abs),
                );
                vb.total_cmp(&va).then(a.cmp(&b))
            });
            let mut t = Table::new(&["#", "Feature", "Attribution", "± SE"]);
            t.numeric(&[0, 2, 3]);
            for &k in &order {
                t.row(vec![
                    k.to_string(),
                    feature_name(names, k),
                    sig(&values[k]),
                    ses.get(k).map_or(DASH.into(), sig),
                ]);
            }
            put!(
                self.out,
                "<details>\n<summary>All {} attributions, largest |value| first</summary>\n{}</details>\n",
                values.len(),
                t.finish_or("")
            );
        }
        self.out.push_str("</article>\n");
    }

    fn profiles(&mut self, p: &Value) {
        self.out
            .push_str("<h3 id=\"profiles\">Explanation profiles by slice</h3>\n");
        if !p.is_object() {
            self.out
                .push_str("<p class=\"note\">Explanation profiles were not computed.</p>\n");
            return;
        }
        put!(
            self.out,
            "<p>Up to {} items per slice were explained ({}, {} samples); each slice's mean \
             |attribution| profile is compared with the overall one. A slice is flagged when \
             1 − Spearman exceeds {}: the model then relies on different evidence there.</p>\n",
            text(&p["per_slice"]),
            text(&p["method"]),
            text(&p["samples"]),
            text(&p["threshold"])
        );
        let mut t = Table::new(&[
            "Attribute",
            "Slice",
            "Items",
            "1 − Spearman",
            "1 − cosine",
            "Verdict",
        ]);
        t.numeric(&[2, 3, 4]);
        for s in arr(&p["slices"]) {
            let (verdict, class) = verdict_cell(&s["verdict"]);
            t.row_class(
                class,
                vec![
                    text(&s["attribute"]),
                    format!("<b>{}</b>", text(&s["value"])),
                    text(&s["items"]),
                    f3(&s["spearman_distance"]),
                    f3(&s["cosine_distance"]),
                    verdict,
                ],
            );
        }
        self.out.push_str(&t.finish_or("No slice profiles."));
        if let Some(path) = self.r["reproducibility"]["plots"]["profiles"].as_str() {
            let f = self.figure(
                path,
                "Distance of each slice's explanation profile from the overall profile",
            );
            self.out.push_str(&f);
        }
    }

    // -----------------------------------------------------------------------------------------
    // 8 Limitations

    fn limitations(&mut self) {
        self.open_section(7);
        let l = arr(&self.r["limitations"]);
        if l.is_empty() {
            self.out
                .push_str("<p class=\"none\">The report lists no limitations.</p>\n");
        } else {
            self.out.push_str("<ol class=\"limitations\">\n");
            for x in l {
                put!(self.out, "<li>{}</li>\n", text(x));
            }
            self.out.push_str("</ol>\n");
        }
        self.close_section();
    }

    // -----------------------------------------------------------------------------------------
    // 9 Reproducibility

    fn reproducibility(&mut self) {
        self.open_section(8);
        let x = &self.r["reproducibility"];
        let tool = &x["tool"];
        let rows = vec![
            (
                "Tool",
                format!("{} {}", text(&tool["name"]), text(&tool["version"])),
            ),
            ("Command", code(&x["command"])),
            ("Config", code(&x["config"]["path"])),
            ("Config SHA-256", hash(&x["config"]["sha256"])),
            ("Seed", text(&x["seed"])),
        ];
        self.out.push_str(&kv_table(&rows));
        self.out.push_str(
            "<p class=\"note\">Everything in this report is a function of the files below and \
             the parameters: re-running the command gives the same numbers, and this page, whose \
             SHA-256 <code>report.json</code> records. <code>explain verify DIR/report.json</code> \
             re-runs from this record and compares both. The time each phase took, the one thing \
             that varies from run to run, is in <code>report.json</code> (<code>timing</code>), \
             not here.</p>\n",
        );
        for (key, heading, what) in [
            ("inputs", "Input files", "input files"),
            (
                "artifacts",
                "Artifacts in the report directory",
                "artifacts",
            ),
        ] {
            put!(self.out, "<h3>{heading}</h3>\n");
            let files = arr(&x[key]);
            let rows = files.iter().any(|f| !f["rows"].is_null());
            let mut head = vec!["Path", "SHA-256"];
            if rows {
                head.push("Rows");
            }
            let mut t = Table::new(&head);
            if rows {
                t.numeric(&[2]);
            }
            for f in files.iter().take(MAX_FILES) {
                let mut cells = vec![code(&f["path"]), hash(&f["sha256"])];
                if rows {
                    cells.push(text(&f["rows"]));
                }
                t.row(cells);
            }
            if files.len() > MAX_FILES {
                t.caption(&format!(
                    "The first {MAX_FILES} of {} {what}; … and {} more, listed in report.json.",
                    files.len(),
                    files.len() - MAX_FILES
                ));
            }
            self.out
                .push_str(&t.finish_or(&format!("No {what} recorded.")));
        }
        let params = serde_json::to_string_pretty(&x["parameters"]).unwrap_or_default();
        put!(
            self.out,
            "<h3>Parameters</h3>\n<details>\n<summary>The config as parsed, every default filled \
             in</summary>\n<pre>{}</pre>\n</details>\n",
            params
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        );
        self.close_section();
    }

    // -----------------------------------------------------------------------------------------
    // Figures

    /// Plots in a grid (two columns on wide screens).
    fn figure_grid(&mut self, figs: &[(String, String)]) {
        if figs.is_empty() {
            return;
        }
        let mut html = String::from("<div class=\"grid2\">\n");
        for (path, caption) in figs {
            html.push_str(&self.figure(path, caption));
        }
        html.push_str("</div>\n");
        self.out.push_str(&html);
    }

    /// One plot as a `<figure>` with the SVG inline, or a note when it cannot be inlined.
    /// `caption` is HTML.
    fn figure(&mut self, rel: &str, caption: &str) -> String {
        if let Some(n) = self.inlined.get(rel) {
            return format!(
                "<p class=\"note\">{caption}: see <a href=\"#fig-{n}\">figure {n}</a> \
                 (<code>{}</code>).</p>\n",
                esc(rel)
            );
        }
        let svg = match read_svg(self.dir, rel) {
            Ok(text) => text,
            Err(why) => {
                return format!(
                    "<p class=\"missing\">{caption}: plot <code>{}</code> {why}.</p>\n",
                    esc(rel)
                );
            }
        };
        self.figures += 1;
        let n = self.figures;
        match prepare_svg(&svg, &format!("f{n}-")) {
            Ok(svg) => {
                self.inlined.insert(rel.to_string(), n);
                format!(
                    "<figure id=\"fig-{n}\">\n{svg}\n<figcaption>Figure {n}. {caption} \
                     <span class=\"file\">({})</span></figcaption>\n</figure>\n",
                    esc(rel)
                )
            }
            Err(why) => {
                self.figures -= 1;
                format!(
                    "<p class=\"missing\">{caption}: plot <code>{}</code> not inlined: {why}.</p>\n",
                    esc(rel)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(sig4(0.123456), "0.1235");
        assert_eq!(sig4(-1.23456), "-1.235");
        assert_eq!(sig4(1234.56), "1235");
        assert_eq!(sig4(9.99996), "10.00");
        assert_eq!(sig4(0.00001234), "1.234e-5");
        assert_eq!(sig4(-0.00000001), "-1.000e-8");
        assert_eq!(sig4(0.0), "0");
        assert_eq!(fixed(-0.0001, 3), "0.000");
    }

    #[test]
    fn grouping() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1555916), "1,555,916");
    }

    #[test]
    fn p_values() {
        assert_eq!(pvalue(&serde_json::json!(0.0123)), "0.012");
        assert_eq!(pvalue(&serde_json::json!(0.0000321)), "3.21e-5");
        assert_eq!(pvalue(&Value::Null), DASH);
    }

    #[test]
    fn svg_viewbox_and_ids() {
        let s = prepare_svg(
            "<?xml version=\"1.0\"?>\n<svg width=\"40px\" height=\"20\"><defs><clipPath id=\"c\"/></defs><g clip-path=\"url(#c)\"/></svg>\n",
            "f1-",
        )
        .unwrap();
        assert!(
            s.starts_with("<svg viewBox=\"0 0 40 20\" width=\"40px\""),
            "{s}"
        );
        assert!(s.contains("id=\"f1-c\"") && s.contains("url(#f1-c)"), "{s}");
        assert!(s.ends_with("</svg>"));
    }

    #[test]
    fn unsafe_svgs_are_refused() {
        for bad in [
            "<svg><script>alert(1)</script></svg>",
            "<svg><image href=\"x.png\"/></svg>",
            "<svg><image xlink:href='https://example.invalid/x.png'/></svg>",
            "<svg><rect onclick=\"x()\"/></svg>",
            "<svg><rect style=\"fill:url(http://x/y)\"/></svg>",
        ] {
            assert!(prepare_svg(bad, "p").is_err(), "{bad}");
        }
        assert!(
            prepare_svg(
                "<svg><image xlink:href=\"data:image/png;base64,AAAA\"/><text>on = off</text></svg>",
                "p"
            )
            .is_ok()
        );
    }
}
