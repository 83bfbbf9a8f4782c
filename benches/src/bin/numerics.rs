//! The numerics study behind `benches/NUMERICS.md` (run by `benches/numerics.sh`): how much
//! the sample models' float32 outputs move between tract's kernel families.
//!
//! ```sh
//! numerics dump OUT.json [--portable]   # this process's kernels: platform + every output
//! numerics compare BASE.json OTHER.json...  # per model: values that differ, largest deviations
//! ```
//!
//! `dump` runs each sample model on its probe rows (instances, baselines and 30 coalitions,
//! in batches of 1, 7 and 64) and writes the outputs with the numeric platform that made them.
//! Run it under `TRACT_CPU_ISA=-avx512f,...` to take the kernels of a CPU without those
//! features (the script does), or with `--portable` for the portable mode.

use explain_benches::{coalition_rows, run_batched, sample_probes};
use explain_core::model::numerics::{Mode, Platform};
use explain_core::model::{Model, ModelOptions};
use serde_json::{Value, json};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dump") if args.len() >= 2 => dump(&args[1], args.iter().any(|a| a == "--portable")),
        Some("compare") if args.len() >= 3 => compare(&args[1], &args[2..]),
        _ => {
            eprintln!(
                "usage: numerics dump OUT.json [--portable] | numerics compare BASE.json OTHER.json..."
            );
            std::process::exit(2);
        }
    }
}

fn dump(out: &str, portable: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mode = if portable {
        Mode::Portable
    } else {
        Mode::Native
    };
    let mut models = serde_json::Map::new();
    let mut platform: Option<Platform> = None;
    for probe in sample_probes(&root) {
        let model = Model::load(
            &probe.model,
            &ModelOptions {
                numerics: mode,
                ..probe.options.clone()
            },
        )
        .expect("sample model loads");
        let rows = coalition_rows(&model, &probe.request);
        let outputs = run_batched(&model, &rows);
        let p = model.numerics();
        models.insert(
            probe.name.into(),
            json!({"matmul": p.kernels.get("matmul"), "outputs": outputs}),
        );
        platform = Some(p);
    }
    let doc = json!({"platform": platform, "models": models});
    std::fs::write(out, serde_json::to_vec(&doc).expect("serialisable")).expect("writable");
}

fn outputs(doc: &Value, model: &str) -> Vec<f32> {
    doc["models"][model]["outputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_f64().unwrap_or(f64::NAN) as f32)
                .collect()
        })
        .unwrap_or_default()
}

/// Distance in units in the last place between two finite float32 values of the same sign.
fn ulps(a: f32, b: f32) -> u64 {
    let key = |x: f32| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    (key(a) - key(b)).unsigned_abs()
}

fn compare(base: &str, others: &[String]) {
    let read = |p: &str| -> Value {
        serde_json::from_slice(&std::fs::read(p).expect("readable")).expect("JSON")
    };
    let base_doc = read(base);
    println!("| against {base} | model | outputs | differing | max abs | max rel | max ulps |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for other in others {
        let doc = read(other);
        for model in ["mlp", "wine", "camera", "inspection", "speech"] {
            let (a, b) = (outputs(&base_doc, model), outputs(&doc, model));
            assert_eq!(a.len(), b.len(), "{model}: output counts differ");
            let (mut differing, mut abs, mut rel, mut ulp) = (0, 0f64, 0f64, 0u64);
            for (x, y) in a.iter().zip(&b) {
                if x.to_bits() != y.to_bits() {
                    differing += 1;
                }
                let d = (*x as f64 - *y as f64).abs();
                abs = abs.max(d);
                let scale = (x.abs().max(y.abs()) as f64).max(f64::MIN_POSITIVE);
                rel = rel.max(d / scale);
                ulp = ulp.max(ulps(*x, *y));
            }
            println!(
                "| {other} | {model} | {} | {differing} | {abs:.2e} | {rel:.2e} | {ulp} |",
                a.len()
            );
        }
    }
}
