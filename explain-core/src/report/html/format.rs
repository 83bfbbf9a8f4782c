//! Value formatting for the page: escaping, numbers (fixed, significant digits, p-values,
//! intervals, percentages, bytes), lists, hashes, metric and rule labels.

use serde_json::Value;
use std::fmt::Write as _;

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}
pub(crate) use put;

/// Shown for `null` and missing values.
pub(crate) const DASH: &str = "–";

/// Rows shown of an attribute's value counts before "… N more".
pub(crate) const MAX_VALUES: usize = 12;

/// HTML-escapes text (element content and quoted attribute values).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Any value as escaped text: strings as they are, numbers in JSON form, booleans as yes/no,
/// arrays joined by commas, `null` as "–".
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::Null => DASH.into(),
        Value::String(s) => esc(s),
        Value::Bool(b) => (if *b { "yes" } else { "no" }).into(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.is_empty() => DASH.into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(_) => format!("<code>{}</code>", esc(&v.to_string())),
    }
}

pub(crate) fn text_or(v: &Value, missing: &str) -> String {
    match v {
        Value::Null => esc(missing),
        Value::String(s) if s.is_empty() => esc(missing),
        other => text(other),
    }
}

pub(crate) fn gap(s: &str) -> String {
    format!("<span class=\"gap\">{}</span>", esc(s))
}

/// Text, or a highlighted "not stated" when null or empty.
pub(crate) fn text_or_gap(v: &Value) -> String {
    match v {
        Value::Null => gap("not stated"),
        Value::String(s) if s.trim().is_empty() => gap("not stated"),
        Value::Array(a) if a.is_empty() => gap("not stated"),
        other => text(other),
    }
}

pub(crate) fn list(items: &[Value]) -> String {
    let mut s = String::from("<ul>");
    for i in items {
        put!(s, "<li>{}</li>", text(i));
    }
    s.push_str("</ul>");
    s
}

/// A list as `<ul>`, or a highlighted "not stated" when empty.
pub(crate) fn list_or_gap(v: &Value) -> String {
    match v {
        Value::Array(a) if !a.is_empty() => list(a),
        Value::Array(_) | Value::Null => gap("not stated"),
        other => text(other),
    }
}

pub(crate) fn code(v: &Value) -> String {
    if v.is_null() {
        DASH.into()
    } else {
        format!("<code>{}</code>", text(v))
    }
}

pub(crate) fn hash(v: &Value) -> String {
    if v.is_null() {
        DASH.into()
    } else {
        format!("<code class=\"hash\">{}</code>", text(v))
    }
}

pub(crate) fn bytes(v: &Value) -> String {
    match v.as_u64() {
        None => text(v),
        Some(b) => {
            let human = if b >= 1 << 20 {
                format!(" ({} MiB)", fixed(b as f64 / f64::from(1u32 << 20), 1))
            } else if b >= 1 << 10 {
                format!(" ({} KiB)", fixed(b as f64 / 1024.0, 1))
            } else {
                String::new()
            };
            format!("{} bytes{human}", grouped(b))
        }
    }
}

/// An integer with commas between thousands: `1,555,916`.
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A declared shape: `[N, 3, 224, 224]`.
pub(crate) fn shape(v: &Value) -> String {
    match v.as_array() {
        Some(dims) => format!(
            "[{}]",
            dims.iter()
                .map(|d| match d {
                    Value::String(s) => esc(s),
                    other => text(other),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => text(v),
    }
}

/// Nested objects as dotted keys with HTML values (arrays of scalars as `[a, b]`).
pub(crate) fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            out.push((
                prefix.to_string(),
                format!("[{}]", a.iter().map(text).collect::<Vec<_>>().join(", ")),
            ));
        }
        Value::Array(_) => out.push((
            prefix.to_string(),
            format!("<code>{}</code>", esc(&v.to_string())),
        )),
        other => out.push((prefix.to_string(), text(other))),
    }
}

/// Fixed decimals, without a "-" on a value that rounds to zero.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A metric: three decimals.
pub(crate) fn f3(v: &Value) -> String {
    v.as_f64().map_or_else(|| DASH.into(), |x| fixed(x, 3))
}

/// An interval `[lo, hi]`, three decimals.
pub(crate) fn ci3(v: &Value) -> String {
    match (v[0].as_f64(), v[1].as_f64()) {
        (Some(lo), Some(hi)) => format!("[{}, {}]", fixed(lo, 3), fixed(hi, 3)),
        _ => DASH.into(),
    }
}

pub(crate) fn percent(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| DASH.into(), |x| format!("{}%", fixed(100.0 * x, 1)))
}

/// Four significant digits (scientific outside 1e-4 ..= 1e6).
pub(crate) fn sig(v: &Value) -> String {
    v.as_f64().map_or_else(|| DASH.into(), sig4)
}

pub(crate) fn sig4(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if !(1e-4..1e6).contains(&a) {
        return format!("{x:.3e}");
    }
    let decimals = |a: f64| (3 - a.log10().floor() as i32).max(0) as usize;
    let d = decimals(a);
    let s = fixed(x, d);
    // Rounding can carry into a new digit (9.9996 → 10.000): one decimal fewer then.
    match s.parse::<f64>() {
        Ok(r) if r != 0.0 && decimals(r.abs()) < d => fixed(x, decimals(r.abs())),
        _ => s,
    }
}

/// A p-value: scientific below 0.001.
pub(crate) fn pvalue(v: &Value) -> String {
    match v.as_f64() {
        None => DASH.into(),
        Some(0.0) => "&lt;1e-300".into(),
        Some(p) if p < 0.001 => format!("{p:.2e}"),
        Some(p) => fixed(p, 3),
    }
}

pub(crate) fn metric_label(m: &str) -> String {
    match m {
        "accuracy" => "Accuracy".into(),
        "selection_rate" => "Selection rate".into(),
        "tpr" => "TPR".into(),
        "fpr" => "FPR".into(),
        "fnr" => "FNR".into(),
        "precision" => "Precision".into(),
        "" => DASH.into(),
        other => esc(other),
    }
}

pub(crate) fn rule_text(v: &Value) -> String {
    match v.as_str() {
        Some("ratio") => "ratio (min / max) ≥ threshold".into(),
        Some("difference") => "difference (max − min) ≤ threshold".into(),
        _ => text(v),
    }
}

/// A verdict as coloured text, and the row class to go with it.
pub(crate) fn verdict_cell(v: &Value) -> (String, Option<&'static str>) {
    match v.as_str() {
        Some("flag") => ("<span class=\"v v-flag\">FLAG</span>".into(), Some("bad")),
        Some("pass") => ("<span class=\"v v-pass\">pass</span>".into(), None),
        Some("insufficient_data") => (
            "<span class=\"v v-na\">insufficient data</span>".into(),
            Some("weak"),
        ),
        _ => (text(v), None),
    }
}

pub(crate) fn feature_name(names: &[String], k: usize) -> String {
    match names.get(k) {
        Some(n) => esc(n),
        None => format!("feature {k}"),
    }
}

/// The metrics to show, in protocol order (else the overall record's).
pub(crate) fn metric_names(r: &Value) -> Vec<String> {
    let listed: Vec<String> = arr(&r["protocol"]["metrics"])
        .iter()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    r["performance"]["overall"]["metrics"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Attributes in the order of the attribute summaries, then any other (intersections) in the
/// order their slices appear.
pub(crate) fn attribute_order(perf: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let names = arr(&perf["attributes"])
        .iter()
        .map(|a| &a["attribute"])
        .chain(arr(&perf["slices"]).iter().map(|s| &s["attribute"]));
    for a in names.filter_map(Value::as_str) {
        if !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    out
}
