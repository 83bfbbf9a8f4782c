//! Knife edges in explanations: a re-run on another numeric platform that explained another
//! output (a tie for the top class), tried other `--samples auto` budgets (an SE ratio at
//! the tolerance) or kept other LIME features (a tie in the selection criterion). Each is
//! explained when the recorded and recomputed runs agree, within float32 rounding, on the
//! quantity the choice was made from; the recorded choice is then pinned for the next re-run
//! (see [`crate::util::pins`]). A choice that differs where the quantities do not agree is left to
//! the comparison, which reports it.

use super::compare::ROUNDING;
use crate::util::pins::{ExplanationKey, ExplanationPin, Pins};
use serde_json::Value;

/// What the comparison of two attribution documents found.
#[derive(Debug, Default)]
pub struct Edges {
    /// The knife edges explained by rounding, in words.
    pub explained: Vec<String>,
    /// The recorded choices to pin.
    pub pins: Pins,
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Within float32 rounding at scale `s`.
fn agree(a: f64, b: f64, s: f64) -> bool {
    (a - b).abs() <= ROUNDING * (a.abs().max(b.abs()) + s)
}

/// Compares the explanations of a recorded attribution document (`name` in messages) with
/// its re-run's.
pub fn explanation_edges(name: &str, recorded: &Value, recomputed: &Value) -> Edges {
    let mut edges = Edges::default();
    let (Some(a), Some(b)) = (
        recorded["explanations"].as_array(),
        recomputed["explanations"].as_array(),
    ) else {
        return edges;
    };
    let method = recorded["method"].as_str().unwrap_or("").to_string();
    let seed = recorded["params"]["seed"].as_u64().unwrap_or(0);
    let model = recorded["model"]["sha256"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let spec = recorded["params"]["target"].as_str().unwrap_or("");
    // The model's output scale: rounding is absolute at it.
    let model_scale = a
        .iter()
        .filter_map(|e| {
            Some(
                num(&e["prediction"])?
                    .abs()
                    .max(num(&e["base_value"])?.abs()),
            )
        })
        .fold(0.0, f64::max);
    for (i, (ea, eb)) in a.iter().zip(b).enumerate() {
        if ea["input_sha256"] != eb["input_sha256"] {
            continue;
        }
        let item = format!(
            "{name}: explanations[{i}] ({})",
            ea["input"].as_str().unwrap_or("?")
        );
        let abs_sum: f64 = ea["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(num)
            .map(f64::abs)
            .sum();
        let scale = model_scale.max(abs_sum);
        let spread = abs_sum.max(
            (num(&ea["prediction"]).unwrap_or(0.0) - num(&ea["base_value"]).unwrap_or(0.0)).abs(),
        );
        let mut pin = ExplanationPin::default();
        // A tie for the top class: the explained output differs, its value does not.
        if ea["target"] != eb["target"]
            && (spec == "top" || spec == "auto")
            && let (Some(t), Some(pa), Some(pb)) = (
                ea["target"].as_u64(),
                num(&ea["prediction"]),
                num(&eb["prediction"]),
            )
            && agree(pa, pb, scale)
        {
            edges.explained.push(format!(
                "{item}: explains output {t} when recorded, {} now: the two tie for the top output ({pa} recorded, {pb} recomputed) within float32 rounding",
                eb["target"]
            ));
            pin.target = Some(t as usize);
        }
        // `--samples auto`: the same budgets up to a round whose SE ratio agrees within
        // rounding, and another decision taken on it.
        let trace = |e: &Value| -> Vec<(u64, Option<f64>)> {
            e["auto"]["trace"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| (r["samples"].as_u64().unwrap_or(0), num(&r["se_ratio"])))
                .collect()
        };
        let (ta, tb) = (trace(ea), trace(eb));
        if ta != tb
            && !ta.is_empty()
            && ea["target"] == eb["target"]
            && let Some(k) = (0..ta.len().min(tb.len())).find(|&k| {
                ta[k].0 != tb[k].0 || ta.get(k + 1).map(|r| r.0) != tb.get(k + 1).map(|r| r.0)
            })
            && ta[k].0 == tb[k].0
            && let (Some(ra), Some(rb)) = (ta[k].1, tb[k].1)
            && agree(ra, rb, (scale / spread.max(scale * ROUNDING)).max(1.0))
        {
            let tolerance = recorded["params"]["tolerance"].as_f64().unwrap_or(f64::NAN);
            edges.explained.push(format!(
                "{item}: --samples auto round {} at {} samples had SE ratio {ra} recorded, {rb} recomputed (tolerance {tolerance}): the next budget, decided on it, differs",
                k + 1,
                ta[k].0
            ));
            pin.budgets = Some(ta.iter().map(|r| r.0 as usize).collect());
        }
        // LIME: other features kept, with the selection criterion at a tie.
        let selected = |e: &Value| e["surrogate"]["selected"].clone();
        if selected(ea) != selected(eb)
            && ea["target"] == eb["target"]
            && let Some(kept) = selected(ea).as_array()
        {
            let margins = [
                num(&ea["surrogate"]["selection_margin"]),
                num(&eb["surrogate"]["selection_margin"]),
            ];
            // Forward selection compares R² (dimensionless), highest |coefficients| (output
            // units).
            let forward = match recorded["params"]["feature_selection"].as_str() {
                Some("forward") => true,
                Some("auto") | None => kept.len() <= 6,
                _ => false,
            };
            let tol = if forward {
                2.0 * ROUNDING * (scale / spread.max(scale * ROUNDING)).max(1.0)
            } else {
                2.0 * ROUNDING * scale
            };
            if let Some(m) = margins.into_iter().flatten().find(|m| m.abs() <= tol) {
                edges.explained.push(format!(
                    "{item}: LIME kept features {} when recorded, {} now: the {} of the last feature kept and the first passed over are within {m:.1e}, float32 rounding",
                    selected(ea),
                    selected(eb),
                    if forward { "R²" } else { "|coefficients|" }
                ));
                pin.selection = Some(
                    kept.iter()
                        .filter_map(|v| v.as_u64().map(|f| f as usize))
                        .collect(),
                );
            }
        }
        if pin != ExplanationPin::default() {
            edges.pins.explanations.insert(
                ExplanationKey {
                    model_sha256: model.clone(),
                    input_sha256: ea["input_sha256"].as_str().unwrap_or("").to_string(),
                    seed,
                    method: method.clone(),
                },
                pin,
            );
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(target: u64, prediction: f64, selected: &[u64], margin: f64) -> Value {
        json!({
            "method": "lime", "model": {"sha256": "m"},
            "params": {"seed": 3, "target": "top", "feature_selection": "highest"},
            "explanations": [{
                "input": "x.npy", "input_sha256": "r", "target": target,
                "prediction": prediction, "base_value": 0.1, "values": [0.3, 0.3, 0.0],
                "surrogate": {"selected": selected, "selection_margin": margin}
            }]
        })
    }

    #[test]
    fn ties_for_the_top_class_and_in_lime_selection_are_pinned() {
        let a = doc(1, 0.45, &[0, 1], 1e-7);
        let edges = explanation_edges("f.json", &a, &doc(2, 0.45 + 1e-7, &[0, 1], 1e-7));
        assert_eq!(edges.explained.len(), 1, "{:?}", edges.explained);
        assert!(edges.explained[0].contains("tie for the top output"));
        let pin = edges.pins.explanations.values().next().unwrap();
        assert_eq!(pin.target, Some(1));
        // The top output's value moved by far more than rounding: not a tie.
        let edges = explanation_edges("f.json", &a, &doc(2, 0.46, &[0, 1], 1e-7));
        assert!(edges.explained.is_empty() && edges.pins.is_empty());
        // LIME: another selection at a margin of 1e-7 is a tie; at 0.1 it is not.
        let edges = explanation_edges("f.json", &a, &doc(1, 0.45, &[0, 2], -1e-7));
        assert_eq!(
            edges.pins.explanations.values().next().unwrap().selection,
            Some(vec![0, 1])
        );
        let wide = doc(1, 0.45, &[0, 1], 0.1);
        let edges = explanation_edges("f.json", &wide, &doc(1, 0.45, &[0, 2], 0.1));
        assert!(edges.pins.is_empty());
    }

    #[test]
    fn an_auto_round_decided_at_the_tolerance_is_pinned() {
        let auto = |trace: Value| {
            json!({
                "method": "kernel", "model": {"sha256": "m"},
                "params": {"seed": 0, "target": "0", "tolerance": 0.01},
                "explanations": [{
                    "input": "x", "input_sha256": "r", "target": 0, "prediction": 0.9,
                    "base_value": 0.1, "values": [0.5, 0.3], "auto": {"trace": trace}
                }]
            })
        };
        let a = auto(
            json!([{"samples": 128, "se_ratio": 0.010000001}, {"samples": 160, "se_ratio": 0.008}]),
        );
        let b = auto(json!([{"samples": 128, "se_ratio": 0.009999999}]));
        let edges = explanation_edges("f.json", &a, &b);
        assert_eq!(
            edges.pins.explanations.values().next().unwrap().budgets,
            Some(vec![128, 160])
        );
        assert!(
            edges.explained[0].contains("round 1 at 128 samples"),
            "{:?}",
            edges.explained
        );
        let b = auto(json!([{"samples": 128, "se_ratio": 0.002}]));
        assert!(explanation_edges("f.json", &a, &b).pins.is_empty());
    }
}
