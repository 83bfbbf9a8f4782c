//! Value formatting for the page, as plain text that the templates escape: numbers (fixed
//! decimals, significant digits, p-values, intervals, percentages, byte sizes, JSON form),
//! plurals, hashes, metric, rule and verdict labels, and JSON values flattened to dotted keys.
//!
//! The templates call these by path (`format::f3(x)`). Numbers come as values or references,
//! optional or not (see [`Number`] and [`Float`]), so a template can pass a field as it is;
//! a missing value shows as [`DASH`].

use crate::artifact::slices::{Metric, RuleKind};
use crate::artifact::verdict::Verdict;
use serde_json::Value;
use std::fmt;

/// Shown for missing values.
pub(crate) const DASH: &str = "–";

/// Rows shown of an attribute's value counts, and locales of a language, before "… N more".
pub(crate) const MAX_VALUES: usize = 12;

/// The page's HTML escaper, which askama applies to every value a template writes (set in
/// `explain-core/askama.toml`): the five characters that matter in text and quoted attributes,
/// as named entities (`&amp;` `&lt;` `&gt;` `&quot;` `&#39;`), as the page has always written
/// them (askama's own escaper writes numeric ones).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Entities;

impl askama::filters::Escaper for Entities {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        let mut last = 0;
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&s[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&s[last..])
    }
}

/// A count, given by value or by reference.
pub(crate) trait Number: Copy {
    fn count(self) -> u64;
}

impl Number for usize {
    fn count(self) -> u64 {
        self as u64
    }
}

impl Number for u64 {
    fn count(self) -> u64 {
        self
    }
}

impl<T: Number> Number for &T {
    fn count(self) -> u64 {
        (*self).count()
    }
}

/// A real number that may be missing, given by value or by reference.
pub(crate) trait Float: Copy {
    fn float(self) -> Option<f64>;
}

/// Not-finite numbers count as missing: JSON cannot hold them.
impl Float for f64 {
    fn float(self) -> Option<f64> {
        Some(self).filter(|x| x.is_finite())
    }
}

impl Float for Option<f64> {
    fn float(self) -> Option<f64> {
        self.and_then(f64::float)
    }
}

impl<T: Float> Float for &T {
    fn float(self) -> Option<f64> {
        (*self).float()
    }
}

/// An interval that may be missing, given by value or by reference.
pub(crate) trait Interval: Copy {
    fn interval(self) -> Option<[f64; 2]>;
}

impl Interval for Option<[f64; 2]> {
    fn interval(self) -> Option<[f64; 2]> {
        self
    }
}

impl<T: Interval> Interval for &T {
    fn interval(self) -> Option<[f64; 2]> {
        (*self).interval()
    }
}

/// "s" unless `n` is 1.
pub(crate) fn plural(n: impl Number) -> &'static str {
    if n.count() == 1 { "" } else { "s" }
}

/// A number as JSON writes it (`0.8`, `1.0`, `1e-5`).
pub(crate) fn json(x: impl Float) -> String {
    x.float()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| DASH.into(), |n| n.to_string())
}

/// A boolean as "yes" or "no".
pub(crate) fn yes_no(b: &bool) -> &'static str {
    if *b { "yes" } else { "no" }
}

/// Text, or `missing` when it is empty.
pub(crate) fn or<'a>(s: &'a str, missing: &'a str) -> &'a str {
    if s.is_empty() { missing } else { s }
}

/// Optional text, or `missing` when it is absent or empty.
pub(crate) fn opt_or<'a>(s: &'a Option<String>, missing: &'a str) -> &'a str {
    or(s.as_deref().unwrap_or(""), missing)
}

/// Optional text, or "–" when it is absent.
pub(crate) fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or(DASH)
}

/// Whether text is absent or blank (shown as a highlighted "not stated").
pub(crate) fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// The first 12 characters of a hash.
pub(crate) fn short_hash(h: &str) -> String {
    h.chars().take(12).collect()
}

/// A size in bytes: `1,555,916 bytes (1.5 MiB)`.
pub(crate) fn bytes(b: impl Number) -> String {
    let b = b.count();
    let human = if b >= 1 << 20 {
        format!(" ({} MiB)", fixed(b as f64 / f64::from(1u32 << 20), 1))
    } else if b >= 1 << 10 {
        format!(" ({} KiB)", fixed(b as f64 / 1024.0, 1))
    } else {
        String::new()
    };
    format!("{} bytes{human}", grouped(b))
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

/// Fixed decimals, without a "-" on a value that rounds to zero.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A metric: three decimals.
pub(crate) fn f3(x: impl Float) -> String {
    x.float().map_or_else(|| DASH.into(), |x| fixed(x, 3))
}

/// An interval `[lo, hi]`, three decimals.
pub(crate) fn ci3(v: impl Interval) -> String {
    match v.interval() {
        Some([lo, hi]) => format!("[{}, {}]", fixed(lo, 3), fixed(hi, 3)),
        None => DASH.into(),
    }
}

/// A share as a percentage with one decimal.
pub(crate) fn percent(x: impl Float) -> String {
    x.float()
        .map_or_else(|| DASH.into(), |x| format!("{}%", fixed(100.0 * x, 1)))
}

/// Four significant digits (scientific outside 1e-4 ..= 1e6).
pub(crate) fn sig(x: impl Float) -> String {
    x.float().map_or_else(|| DASH.into(), sig4)
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
pub(crate) fn pvalue(x: impl Float) -> String {
    match x.float() {
        None => DASH.into(),
        Some(0.0) => "<1e-300".into(),
        Some(p) if p < 0.001 => format!("{p:.2e}"),
        Some(p) => fixed(p, 3),
    }
}

/// A metric's name as the documents write it (`selection_rate`).
pub(crate) fn metric_name(m: &Metric) -> &'static str {
    match m {
        Metric::Accuracy => "accuracy",
        Metric::SelectionRate => "selection_rate",
        Metric::Tpr => "tpr",
        Metric::Fpr => "fpr",
        Metric::Fnr => "fnr",
        Metric::Precision => "precision",
        Metric::Recall => "recall",
        Metric::MissRate => "miss_rate",
        Metric::FalseDetectionImageRate => "false_detection_image_rate",
        Metric::FalseDetectionsPerImage => "false_detections_per_image",
        Metric::Fmr => "fmr",
        Metric::Fnmr => "fnmr",
    }
}

/// A metric's label (`Selection rate`), from its name as the documents write it.
pub(crate) fn metric_label(m: &str) -> &str {
    match m {
        "accuracy" => "Accuracy",
        "selection_rate" => "Selection rate",
        "tpr" => "TPR",
        "fpr" => "FPR",
        "fnr" => "FNR",
        "precision" => "Precision",
        "recall" => "Recall",
        "miss_rate" => "Miss rate",
        "false_detection_image_rate" => "Images with a false detection",
        "false_detections_per_image" => "False detections per image",
        "fmr" => "FMR (false match rate)",
        "fnmr" => "FNMR (false non-match rate)",
        "" => DASH,
        other => other,
    }
}

/// A metric's label (`Selection rate`).
pub(crate) fn metric(m: &Metric) -> &'static str {
    metric_label(metric_name(m))
}

/// A disparity rule in words.
pub(crate) fn rule_text(r: &RuleKind) -> &'static str {
    match r {
        RuleKind::Ratio => "ratio (min / max) ≥ threshold",
        RuleKind::Difference => "difference (max − min) ≤ threshold",
    }
}

/// A verdict's label (`FLAG`, `pass`, `insufficient data`), its CSS class (`flag`, `pass`,
/// `na`; none for one shown as plain text) and the class of its table row.
pub(crate) fn verdict(v: &Verdict) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    match v {
        Verdict::Flag => ("FLAG", Some("flag"), Some("bad")),
        Verdict::Pass => ("pass", Some("pass"), None),
        Verdict::InsufficientData => ("insufficient data", Some("na"), Some("weak")),
        Verdict::NotApplicable => (v.name(), None, None),
    }
}

/// A feature's name, or `feature k` where the names run out.
pub(crate) fn feature_name(names: &[String], k: impl Number) -> String {
    let k = k.count();
    match usize::try_from(k).ok().and_then(|k| names.get(k)) {
        Some(n) => n.clone(),
        None => format!("feature {k}"),
    }
}

/// One leaf of a JSON value flattened to dotted keys.
pub(crate) struct Flat {
    pub(crate) key: String,
    pub(crate) text: String,
    /// Shown as code (JSON that is neither a scalar nor a list of scalars).
    pub(crate) code: bool,
}

/// A JSON value as dotted keys and plain text (arrays of scalars as `[a, b]`); nothing for
/// `null`.
pub(crate) fn flatten(v: &Value) -> Vec<Flat> {
    let mut out = Vec::new();
    flatten_into("", v, &mut out);
    out
}

fn flatten_into(prefix: &str, v: &Value, out: &mut Vec<Flat>) {
    let leaf = |text, code| Flat {
        key: prefix.to_string(),
        text,
        code,
    };
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(&key, x, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => out.push(leaf(
            format!("[{}]", a.iter().map(scalar).collect::<Vec<_>>().join(", ")),
            false,
        )),
        Value::Array(_) => out.push(leaf(v.to_string(), true)),
        other => out.push(leaf(scalar(other), false)),
    }
}

/// A JSON scalar as text: strings as they are, numbers in JSON form, booleans as yes/no,
/// `null` as "–".
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => DASH.into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => yes_no(b).into(),
        other => other.to_string(),
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
        assert_eq!(pvalue(0.0123), "0.012");
        assert_eq!(pvalue(0.0000321), "3.21e-5");
        assert_eq!(pvalue(0.0), "<1e-300");
        assert_eq!(pvalue(None), DASH);
    }

    #[test]
    fn entities() {
        let mut out = String::new();
        askama::filters::Escaper::write_escaped_str(&Entities, &mut out, "a<b & \"c\" 'd'>")
            .unwrap();
        assert_eq!(out, "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    }

    #[test]
    fn json_numbers() {
        assert_eq!(json(0.8), "0.8");
        assert_eq!(json(1.0), "1.0");
        assert_eq!(json(None), DASH);
    }
}
