//! Comparing a recorded document with its re-run, number by number.
//!
//! How two numbers must agree depends on [`Agreement`]:
//!
//! * [`Agreement::Exact`] (same numeric platform): identical.
//! * [`Agreement::Tolerance`] (`--tolerance T`): within `T`, every number.
//! * [`Agreement::Rounding`] (another CPU, another backend): numbers that come from model
//!   outputs agree within float32 rounding propagated to their scale; everything discrete
//!   (counts, integers, strings, verdicts, hashes of inputs) and everything computed from
//!   discrete results only (slice metrics and their intervals, disparities, the inventory)
//!   must be identical.
//!
//! ## The rounding bound
//!
//! Two backends or kernel families round a model's float32 sums in another order, so each
//! output moves by a few units of float32 rounding (`u = 2⁻²⁴`) of the model's output
//! scale: measured on the sample models at most 12 u between tract's kernel families and 18 u
//! between tract and ONNX Runtime (`benches/NUMERICS.md`). An explanation is a weighted sum of
//! outputs with weights of order one (Shapley weights sum to one; the regressions are well
//! conditioned at the default budgets), so every number derived from outputs moves by the
//! same order. A number `a` recomputed as `b` agrees when
//!
//! ```text
//! |a − b| ≤ ρ · (max(|a|, |b|) + S)        ρ = ROUNDING = 2⁻¹⁴ ≈ 6.1e-5 (1024 u)
//! ```
//!
//! where `S` is the scale of the outputs it comes from: for an explanation, the largest of
//! |prediction|, |base value| and Σ|attribution| of the item and the largest |prediction| or
//! |base value| of every item explained (the model's output scale: rounding is absolute at
//! that scale, so a near-constant output's attributions are rounding-dominated); with the
//! logit link also `2 / (p(1−p))` at the most saturated of the prediction and base value
//! (`d logit = dp / (p(1−p))`). Dimensionless ratios (R², SE ratios, cosine distances) take
//! `S` divided by the spread they are relative to. ρ is 38× the largest relative deviation
//! measured on the reference reports (1.6e-6, camera on ONNX Runtime) and 16× below a change
//! of 1e-3 in the outputs, which is not rounding.
//!
//! Rank statistics (Spearman, Kendall, top-k Jaccard, LIME's stability indices) move in
//! steps when two values are tied within rounding; such a step is a knife edge, explained
//! when the recorded values it ranks hold such a tie (see [`Checker::knife_edges`]).

use serde::Serialize;
use serde_json::Value;

/// `ρ`: the relative rounding bound (see the module docs).
pub const ROUNDING: f64 = 1.0 / 16384.0;

/// How recorded and recomputed numbers must agree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Identical (the same numeric platform).
    Exact,
    /// Within float32 rounding where a number comes from model outputs, identical elsewhere.
    Rounding,
    /// Within this absolute tolerance, every number.
    Tolerance(f64),
}

/// How one section compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionCheck {
    pub section: String,
    /// Numbers compared.
    pub numbers: usize,
    /// Values of any kind that differ (beyond what the agreement allows for numbers).
    pub differences: usize,
    pub largest_deviation: f64,
    /// The largest `|a − b| / (max(|a|, |b|) + S)` among numbers compared within rounding.
    pub largest_relative: f64,
    /// The first differences, as `path: recorded → recomputed`.
    pub first: Vec<String>,
}

impl SectionCheck {
    pub fn new(section: &str) -> SectionCheck {
        SectionCheck {
            section: section.into(),
            numbers: 0,
            differences: 0,
            largest_deviation: 0.0,
            largest_relative: 0.0,
            first: Vec::new(),
        }
    }

    /// Records a difference, keeping the first few for display.
    pub fn differ(&mut self, path: &str, a: &Value, b: &Value) {
        self.differences += 1;
        if self.first.len() < FIRST {
            self.first.push(format!(
                "{path}: recorded {} → recomputed {}",
                show(a),
                show(b)
            ));
        }
    }

    /// Records a difference described in words.
    pub fn differ_text(&mut self, text: String) {
        self.differences += 1;
        if self.first.len() < FIRST {
            self.first.push(text);
        }
    }
}

/// How many differences are listed per section.
const FIRST: usize = 5;

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!("{}…", &s[..s.floor_char_boundary(80)])
    } else {
        s
    }
}

/// What kind of quantity a number is, for [`Agreement::Rounding`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Discrete or computed from discrete results: identical.
    Discrete,
    /// In the units of the model's outputs, at scale `S`.
    Output(f64),
    /// Dimensionless, relative to a spread: `S / spread`.
    Ratio(f64),
    /// A rank statistic over the values of a context.
    Rank,
}

/// The output scales of one explained item (an entry of `explanations` in an attribution
/// file, of `explanations.methods[m].items` in a report).
#[derive(Debug, Clone, PartialEq)]
struct ItemScale {
    /// `S` for numbers in output units.
    scale: f64,
    /// What dimensionless ratios are relative to: Σ|attribution| or |prediction − base|.
    spread: f64,
    /// |attributions|, for ties.
    abs_values: Vec<f64>,
}

/// The scales of a document, read from the recorded one.
#[derive(Debug, Clone, Default)]
pub struct Scales {
    /// Per method (reports; one entry for attribution files), per item.
    items: Vec<Vec<ItemScale>>,
    /// The model's output scale: the largest |prediction| or |base value| of any item.
    model: f64,
    /// Explanation profiles: the scale of their mean |attributions|.
    profiles: f64,
    /// The profiles' overall mean |attributions| and each slice's, for ties.
    profile_vectors: (Vec<f64>, Vec<Vec<f64>>),
}

impl Scales {
    /// Reads the scales of a report (`explanations.methods`), an attribution file
    /// (`explanations`) or a validation document (`profiles`).
    pub fn of(doc: &Value) -> Scales {
        let methods: Vec<(&Value, &str)> = match &doc["explanations"] {
            Value::Array(_) => vec![(&doc["explanations"], link_of(&doc["params"]))],
            Value::Object(o) => o
                .get("methods")
                .and_then(Value::as_array)
                .map(|ms| {
                    ms.iter()
                        .map(|m| (&m["items"], link_of(&m["params"])))
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut model = 0f64;
        for (items, _) in &methods {
            for e in items.as_array().into_iter().flatten() {
                model = model
                    .max(num(&e["prediction"]).abs())
                    .max(num(&e["base_value"]).abs());
            }
        }
        let items = methods
            .iter()
            .map(|(items, link)| {
                items
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| item_scale(e, link, model))
                    .collect()
            })
            .collect();
        let vector = |v: &Value| -> Vec<f64> {
            v.as_array()
                .into_iter()
                .flatten()
                .map(|x| num(x).abs())
                .collect()
        };
        let (mut profiles, mut profile_vectors) = (model, (Vec::new(), Vec::new()));
        for p in [&doc["profiles"], &doc["explanations"]["profiles"]] {
            if !p.is_object() {
                continue;
            }
            profiles = profiles.max(l1(&p["overall"]));
            profile_vectors.0 = vector(&p["overall"]);
            for sl in p["slices"].as_array().into_iter().flatten() {
                profiles = profiles.max(l1(&sl["mean_abs"]));
                profile_vectors.1.push(vector(&sl["mean_abs"]));
            }
        }
        Scales {
            items,
            model,
            profiles,
            profile_vectors,
        }
    }

    /// The model's output scale: the largest |prediction| or |base value| explained.
    pub fn model(&self) -> f64 {
        self.model
    }
}

fn link_of(params: &Value) -> &str {
    params["link"].as_str().unwrap_or("identity")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn l1(v: &Value) -> f64 {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|x| num(x).abs())
        .sum()
}

fn item_scale(e: &Value, link: &str, model: f64) -> ItemScale {
    let (p, b) = (num(&e["prediction"]), num(&e["base_value"]));
    let abs_values: Vec<f64> = e["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| num(x).abs())
        .collect();
    let sum: f64 = abs_values.iter().sum();
    let mut scale = p.abs().max(b.abs()).max(sum).max(model);
    if link == "logit" {
        // d logit = dp / (p (1 − p)), with dp ≤ ρ (p + 1) ≤ 2ρ.
        let sat = |v: f64| {
            let q = 1.0 / (1.0 + (-v).exp());
            2.0 / (q * (1.0 - q)).max(f64::MIN_POSITIVE)
        };
        scale = scale.max(sat(p)).max(sat(b));
    }
    ItemScale {
        scale,
        spread: sum.max((p - b).abs()),
        abs_values,
    }
}

/// Where a path points in a document, for the scale of the numbers under it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Context {
    /// Not computed from model outputs.
    None,
    Item(usize, usize),
    Method(usize),
    Profiles,
}

/// Compares documents under one [`Agreement`], collecting knife edges it could explain.
pub struct Checker {
    pub agreement: Agreement,
    scales: Scales,
    /// Rank statistics that moved by a step where the values they rank hold a tie within
    /// rounding: `path: recorded → recomputed (why)`.
    pub knife_edges: Vec<String>,
    /// Paths not compared (where the run was recorded and how: differ by design).
    skip: Vec<String>,
}

impl Checker {
    /// A checker for `recorded` (its scales are read from it); `skip` lists paths left out.
    pub fn new(agreement: Agreement, recorded: &Value, skip: &[&str]) -> Checker {
        Checker {
            agreement,
            scales: Scales::of(recorded),
            knife_edges: Vec::new(),
            skip: skip.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Compares two documents section by section (top-level keys, `skip_sections` left
    /// out); a section only one of them has is a difference.
    pub fn sections(
        &mut self,
        recorded: &Value,
        recomputed: &Value,
        skip_sections: &[&str],
    ) -> Vec<SectionCheck> {
        let mut sections = Vec::new();
        for (key, a) in recorded.as_object().into_iter().flatten() {
            if skip_sections.contains(&key.as_str()) {
                continue;
            }
            let mut check = SectionCheck::new(key);
            self.compare(a, &recomputed[key], key, &mut check);
            sections.push(check);
        }
        for (key, _) in recomputed.as_object().into_iter().flatten() {
            if recorded.get(key).is_none() && !skip_sections.contains(&key.as_str()) {
                let mut check = SectionCheck::new(key);
                check.differ_text(format!("{key}: missing from the recorded file"));
                sections.push(check);
            }
        }
        sections
    }

    /// Walks two JSON values together.
    pub fn compare(&mut self, a: &Value, b: &Value, path: &str, check: &mut SectionCheck) {
        if self.skip.iter().any(|s| s == path) {
            return;
        }
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                check.numbers += 1;
                let float = x.is_f64() || y.is_f64();
                let (x, y) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                let d = (x - y).abs();
                if d > check.largest_deviation || d.is_nan() {
                    check.largest_deviation = if d.is_nan() { f64::INFINITY } else { d };
                }
                if !self.numbers_agree(x, y, !float, path, check) {
                    check.differ(path, a, b);
                }
            }
            (Value::Object(x), Value::Object(y)) => {
                for (k, va) in x {
                    let p = format!("{path}.{k}");
                    match y.get(k) {
                        Some(vb) => self.compare(va, vb, &p, check),
                        None if self.skip.contains(&p) => {}
                        None => check.differ(&p, va, &Value::Null),
                    }
                }
                for (k, vb) in y {
                    let p = format!("{path}.{k}");
                    if !x.contains_key(k) && !self.skip.contains(&p) {
                        check.differ(&p, &Value::Null, vb);
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    check.differ(
                        &format!("{path} (length)"),
                        &Value::from(x.len()),
                        &Value::from(y.len()),
                    );
                }
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    self.compare(va, vb, &format!("{path}[{i}]"), check);
                }
            }
            _ if a == b => {}
            _ => check.differ(path, a, b),
        }
    }

    /// Whether `x` (recorded) and `y` (recomputed) at `path` agree; `integer` numbers are
    /// counts and indices, compared exactly under [`Agreement::Rounding`].
    fn numbers_agree(
        &mut self,
        x: f64,
        y: f64,
        integer: bool,
        path: &str,
        check: &mut SectionCheck,
    ) -> bool {
        let d = (x - y).abs();
        if d.is_nan() {
            return false;
        }
        match self.agreement {
            Agreement::Exact => d == 0.0,
            Agreement::Tolerance(t) => d <= t,
            Agreement::Rounding => {
                let kind = if integer {
                    Kind::Discrete
                } else {
                    self.kind(path)
                };
                let scale = match kind {
                    Kind::Discrete => return d == 0.0,
                    Kind::Output(s) | Kind::Ratio(s) => s,
                    Kind::Rank => 1.0,
                };
                let denominator = x.abs().max(y.abs()) + scale;
                let relative = d / denominator;
                if relative <= ROUNDING {
                    check.largest_relative = check.largest_relative.max(relative);
                    return true;
                }
                if kind == Kind::Rank
                    && let Some(why) = self.tie(path)
                {
                    self.knife_edges
                        .push(format!("{path}: recorded {x} → recomputed {y} ({why})"));
                    return true;
                }
                false
            }
        }
    }

    /// The kind of the number at `path` (under [`Agreement::Rounding`]).
    fn kind(&self, path: &str) -> Kind {
        let leaf = leaf_name(path);
        let context = context_of(path);
        if context == Context::None {
            return Kind::Discrete;
        }
        if RANK.contains(&leaf) {
            return Kind::Rank;
        }
        // Settings recorded beside the results: as given, not computed.
        if SETTINGS.contains(&leaf) {
            return Kind::Discrete;
        }
        // The curves' x: shares of features switched, not outputs.
        if path.ends_with(']') && path.contains(".x[") {
            return Kind::Discrete;
        }
        let (scale, spread) = match context {
            Context::Item(m, i) => self
                .scales
                .items
                .get(m)
                .and_then(|items| items.get(i))
                .map_or((self.scales.model, 0.0), |s| (s.scale, s.spread)),
            Context::Method(m) => (
                self.scales
                    .items
                    .get(m)
                    .into_iter()
                    .flatten()
                    .map(|s| s.scale)
                    .fold(self.scales.model, f64::max),
                0.0,
            ),
            Context::Profiles => (self.scales.profiles, 0.0),
            Context::None => unreachable!(),
        };
        if RATIO.contains(&leaf) {
            // Relative to a spread; a spread at rounding level leaves the ratio undetermined.
            let spread = if leaf == "cosine_distance" {
                self.scales.profiles
            } else {
                spread
            };
            Kind::Ratio((scale / spread.max(scale * ROUNDING)).max(1.0))
        } else {
            Kind::Output(scale)
        }
    }

    /// A tie within rounding among the values the rank statistic at `path` ranks, in words.
    fn tie(&self, path: &str) -> Option<String> {
        let (vectors, scale, what): (Vec<&Vec<f64>>, f64, &str) = match context_of(path) {
            Context::Item(m, i) => {
                let item = self.scales.items.get(m)?.get(i)?;
                (vec![&item.abs_values], item.scale, "|attributions|")
            }
            Context::Profiles => {
                // A slice's distance ranks its profile against the overall one.
                let slice = path
                    .split_once("slices[")
                    .and_then(|(_, rest)| rest.split(']').next()?.parse::<usize>().ok());
                let (overall, slices) = &self.scales.profile_vectors;
                let mut v = vec![overall];
                v.extend(slice.and_then(|k| slices.get(k)));
                (v, self.scales.profiles, "mean |attributions|")
            }
            _ => return None,
        };
        let tol = 2.0 * ROUNDING * scale;
        for values in vectors {
            for i in 0..values.len() {
                for j in i + 1..values.len() {
                    if (values[i] - values[j]).abs() <= tol {
                        return Some(format!(
                            "{what} of features {i} and {j} are tied within float32 rounding: {:.6e} and {:.6e}",
                            values[i], values[j]
                        ));
                    }
                }
            }
        }
        None
    }
}

/// Rank statistics: they move in steps.
const RANK: [&str; 8] = [
    "spearman",
    "spearman_abs",
    "kendall",
    "topk_jaccard",
    "spearman_distance",
    "vsi",
    "csi",
    "jaccard",
];

/// Settings recorded among computed numbers (a profile's or the randomisation check's
/// threshold, `--samples auto`'s tolerance, LIME's kernel width).
const SETTINGS: [&str; 4] = ["threshold", "tolerance", "kernel_width", "alpha"];

/// Dimensionless ratios of output quantities.
const RATIO: [&str; 4] = ["r2", "sd_ratio", "se_ratio", "cosine_distance"];

/// The last name in a path (`…items[2].quality.deletion.auc` → `auc`; `values[3]` → `values`).
fn leaf_name(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// Parses `name[i]` at the start of `s`, returning `i` and the rest.
fn index_after<'a>(s: &'a str, name: &str) -> Option<(usize, &'a str)> {
    let rest = s.strip_prefix(name)?.strip_prefix('[')?;
    let (n, rest) = rest.split_once(']')?;
    Some((n.parse().ok()?, rest))
}

/// Which scale applies at `path`: explanation items of reports
/// (`explanations.methods[m].items[i]`) and attribution files (`explanations[i]`), a
/// method's global importance, explanation profiles (`explanations.profiles` in reports,
/// `profiles` in validation documents).
fn context_of(path: &str) -> Context {
    if let Some(rest) = path.strip_prefix("explanations.") {
        if rest.starts_with("profiles") {
            return Context::Profiles;
        }
        if let Some((m, rest)) = index_after(rest, "methods") {
            if let Some(rest) = rest.strip_prefix('.') {
                if let Some((i, _)) = index_after(rest, "items") {
                    return Context::Item(m, i);
                }
                if rest.starts_with("global_importance") {
                    return Context::Method(m);
                }
            }
            return Context::None;
        }
    }
    if let Some((i, _)) = index_after(path, "explanations") {
        return Context::Item(0, i);
    }
    if path.starts_with("profiles") {
        return Context::Profiles;
    }
    Context::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_of(a: Value, b: Value, agreement: Agreement) -> SectionCheck {
        let mut c = SectionCheck::new("s");
        Checker::new(agreement, &a, &[]).compare(&a, &b, "s", &mut c);
        c
    }

    #[test]
    fn numbers_strings_and_structure_are_compared() {
        let a = json!({"x": [1.0, 2.0, {"y": "a"}], "z": true});
        let exact = Agreement::Exact;
        assert_eq!(check_of(a.clone(), a.clone(), exact).differences, 0);
        let c = check_of(
            a.clone(),
            json!({"x": [1.0, 2.5, {"y": "a"}], "z": true}),
            exact,
        );
        assert_eq!((c.numbers, c.differences, c.largest_deviation), (2, 1, 0.5));
        assert!(
            c.first[0].starts_with("s.x[1]: recorded 2.0 → recomputed 2.5"),
            "{:?}",
            c.first
        );
        let wider = json!({"x": [1.0, 2.5, {"y": "a"}], "z": true});
        assert_eq!(
            check_of(a.clone(), wider, Agreement::Tolerance(0.6)).differences,
            0
        );
        for other in [
            json!({"x": [1.0, 2.0, {"y": "b"}], "z": true}),
            json!({"x": [1.0, 2.0], "z": true}),
            json!({"x": [1.0, 2.0, {"y": "a"}]}),
        ] {
            assert_eq!(check_of(a.clone(), other, exact).differences, 1);
        }
    }

    /// An attribution file with one explanation of the given values.
    fn attributions(prediction: f64, values: &[f64], link: &str) -> Value {
        json!({
            "params": {"link": link, "samples": 100},
            "explanations": [{
                "target": 1, "prediction": prediction, "base_value": 0.1,
                "values": values, "std_errors": [0.01, 0.01, 0.01], "model_evals": 100,
                "quality": {"seed_stability": {"spearman": 1.0}, "deletion": {"x": [0.0, 0.5], "auc": 0.3}}
            }]
        })
    }

    fn set(doc: &Value, path: &[&str], v: Value) -> Value {
        let mut d = doc.clone();
        let mut cur = &mut d;
        for p in path {
            cur = match p.parse::<usize>() {
                Ok(i) => &mut cur[i],
                Err(_) => &mut cur[*p],
            };
        }
        *cur = v;
        d
    }

    fn rounding(a: &Value, b: &Value) -> (usize, Vec<String>) {
        let mut checker = Checker::new(Agreement::Rounding, a, &[]);
        let n = checker
            .sections(a, b, &[])
            .iter()
            .map(|s| s.differences)
            .sum();
        (n, checker.knife_edges)
    }

    #[test]
    fn rounding_accepts_float32_noise_at_the_output_scale_and_nothing_more() {
        let a = attributions(0.9, &[0.5, 0.2, 0.1], "identity");
        // A few float32 ulps on a value: agrees, even on the smallest attribution, because
        // rounding is absolute at the output scale (0.9 here).
        for (i, v) in [(0, 0.5 + 3e-7), (2, 0.1 - 2e-7), (2, 0.1 + 4e-5)] {
            let b = set(
                &a,
                &["explanations", "0", "values", &i.to_string()],
                json!(v),
            );
            assert_eq!(rounding(&a, &b).0, 0, "{v}");
        }
        // A change of 1e-3 is not rounding.
        let b = set(&a, &["explanations", "0", "values", "1"], json!(0.201));
        assert_eq!(rounding(&a, &b).0, 1);
        let b = set(&a, &["explanations", "0", "prediction"], json!(0.9009));
        assert_eq!(rounding(&a, &b).0, 1);
        // Counts, targets and parameters are exact.
        for path in [
            &["explanations", "0", "model_evals"][..],
            &["explanations", "0", "target"],
            &["params", "samples"],
        ] {
            let b = set(&a, path, json!(101));
            assert_eq!(rounding(&a, &b).0, 1, "{path:?}");
        }
        // The curves' x are shares of features, not outputs.
        let b = set(
            &a,
            &["explanations", "0", "quality", "deletion", "x", "1"],
            json!(0.5000001),
        );
        assert_eq!(rounding(&a, &b).0, 1);
    }

    #[test]
    fn the_logit_link_widens_the_bound_where_the_probability_saturates() {
        // logit(0.99999) ≈ 11.5: 1/(p(1−p)) ≈ 1e5, so a deviation of 1 in the logit is
        // within 2ρ·1e5 ≈ 12; on the identity link it is not.
        let a = attributions(11.5, &[5.0, 4.0, 2.4], "logit");
        let b = set(&a, &["explanations", "0", "values", "0"], json!(6.0));
        assert_eq!(rounding(&a, &b).0, 0);
        let a = attributions(11.5, &[5.0, 4.0, 2.4], "identity");
        let b = set(&a, &["explanations", "0", "values", "0"], json!(6.0));
        assert_eq!(rounding(&a, &b).0, 1);
    }

    #[test]
    fn a_rank_step_is_a_knife_edge_only_when_the_values_hold_a_tie() {
        let spearman = ["explanations", "0", "quality", "seed_stability", "spearman"];
        let tied = attributions(0.9, &[0.5, 0.2, 0.2 + 1e-6], "identity");
        let (n, edges) = rounding(&tied, &set(&tied, &spearman, json!(0.5)));
        assert_eq!(n, 0);
        assert!(edges[0].contains("features 1 and 2 are tied"), "{edges:?}");
        let apart = attributions(0.9, &[0.5, 0.2, 0.1], "identity");
        let (n, edges) = rounding(&apart, &set(&apart, &spearman, json!(0.5)));
        assert_eq!((n, edges.len()), (1, 0));
    }

    #[test]
    fn a_profile_distance_step_is_explained_by_a_tie_in_the_profiles() {
        let doc = |distance: f64, tied: f64| {
            json!({"profiles": {
                "overall": [0.3, 0.2, 0.1],
                "slices": [{"mean_abs": [0.25, tied, 0.15], "spearman_distance": distance}]
            }})
        };
        let (n, edges) = rounding(&doc(0.0, 0.25), &doc(0.5, 0.25));
        assert_eq!(n, 0);
        assert!(
            edges[0].contains("mean |attributions| of features 0 and 1"),
            "{edges:?}"
        );
        let (n, _) = rounding(&doc(0.0, 0.2), &doc(0.5, 0.2));
        assert_eq!(n, 1);
    }

    #[test]
    fn paths_find_their_context() {
        assert_eq!(
            context_of("explanations.methods[1].items[3].values[0]"),
            Context::Item(1, 3)
        );
        assert_eq!(
            context_of("explanations.methods[0].global_importance.mean_abs[2]"),
            Context::Method(0)
        );
        assert_eq!(
            context_of("explanations.methods[0].params.samples"),
            Context::None
        );
        assert_eq!(
            context_of("explanations.profiles.slices[0].cosine_distance"),
            Context::Profiles
        );
        assert_eq!(
            context_of("explanations[4].prediction"),
            Context::Item(0, 4)
        );
        assert_eq!(context_of("profiles.overall[1]"), Context::Profiles);
        assert_eq!(
            context_of("performance.slices[0].metrics.accuracy.value"),
            Context::None
        );
        assert_eq!(leaf_name("a.b[2].values[3]"), "values");
        assert_eq!(leaf_name("a.deletion.auc"), "auc");
    }
}
