//! The `explain` command line: a thin clap layer over `explain-core`.
//!
//! All computation lives in `explain-core`; this crate parses arguments, shows progress, prints
//! results and maps errors to exit codes (0 ok, 1 a check failed, 2 bad usage or input).

use clap::Parser;
use explain_core::attribution::budget::Budget;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::estimators::lime::LimeParams;
use explain_core::attribution::explainer::{self, Attributions, Settings, TargetSpec};
use explain_core::attribution::quality::QualityConfig;
use explain_core::attribution::recipe::{HeldInput, Job, Recipe};
use explain_core::input::audio::AudioPreprocess;
use explain_core::model::numerics::Mode;
use explain_core::model::{BackendChoice, Model, ModelInfo, ModelOptions, inspect};
use explain_core::validation::manifest::Manifest;
use explain_core::validation::profiles::ProfileConfig;
use explain_core::{
    Error, Result, input::image, render::figures, util::output, validation::inventory,
    validation::slices,
};
use std::path::PathBuf;
use std::str::FromStr;

mod args;
mod progress;

use args::*;
use progress::Bar;

/// Runs the CLI on the process arguments and exits with its status.
pub fn main() {
    output::remove_scratch_on_interrupt();
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<()> {
    if let Some(m) = &cli.max_memory {
        explain_core::util::limits::set_max_memory(explain_core::util::limits::parse_size(m)?);
    }
    match cli.command {
        Command::Inspect { model, json } => {
            let info = inspect(&model)?;
            if json {
                emit(&(serde_json::to_string_pretty(&info).expect("serialisable") + "\n"));
            } else {
                emit(&describe(&info));
            }
            Ok(())
        }
        Command::Shap(a) => {
            let samples = Budget::parse(a.samples.as_deref(), a.tolerance, a.max_samples)?;
            attribute(a.common, a.method, samples, None)
        }
        Command::Lime(a) => {
            let params = LimeParams {
                samples: 0,
                kernel_width: a.kernel_width,
                num_features: a.num_features,
                selection: a.feature_selection,
            };
            attribute(a.common, Method::Lime, a.samples.into(), Some(params))
        }
        Command::Slices(a) => slices(*a),
        Command::Inventory(a) => inventory(a),
        Command::Verify {
            report,
            config,
            tolerance,
            threads,
            rerun_out,
            backend,
            ort_lib,
            quiet,
        } => {
            let backend = backend
                .map(|b| BackendChoice::parse(&b, ort_lib))
                .transpose()?;
            let bar = Bar::new(quiet, "re-running", "");
            let v = explain_core::check::verify::verify_file(
                &report,
                &explain_core::check::verify::Options {
                    config: config.as_deref(),
                    tolerance,
                    threads: threads_capped(threads),
                    keep: rerun_out.as_deref(),
                    backend,
                    wrap: None,
                },
                &bar,
            )?;
            bar.finish();
            emit(&v.table());
            if v.passed() {
                Ok(())
            } else {
                let mut first: Vec<String> = v.changed_files.clone();
                first.extend(v.sections.iter().flat_map(|s| s.first.iter().cloned()));
                first.truncate(3);
                Err(Error::Check(format!(
                    "{} does not verify: {}",
                    report.display(),
                    first.join("; ")
                )))
            }
        }
        Command::Diff {
            old,
            new,
            thresholds,
            min_spearman,
            min_jaccard,
            k,
            max_metric_change,
            json,
        } => {
            let mut t = match &thresholds {
                Some(p) => explain_core::check::diff::Thresholds::read(p)?,
                None => explain_core::check::diff::Thresholds::default(),
            };
            if let Some(v) = min_spearman {
                t.min_spearman = v;
            }
            if let Some(v) = min_jaccard {
                t.min_topk_jaccard = v;
            }
            if let Some(v) = k {
                t.k = v;
            }
            if let Some(v) = max_metric_change {
                t.max_metric_change = v;
            }
            // The file's values are checked as it is read, so only a flag can be out of range.
            if let Err(e) = t.validate() {
                let flag = match e.key {
                    "min_topk_jaccard" => "min-jaccard".to_string(),
                    key => key.replace('_', "-"),
                };
                return Err(Error::Input(match e.bound {
                    explain_core::check::diff::Bound::Between(lo, hi) => {
                        format!("--{flag} must lie in [{lo}, {hi}], got {}", e.value)
                    }
                    _ => format!("--{flag} {}", e.message()),
                }));
            }
            let d = explain_core::check::diff::diff_files(&old, &new, &t)?;
            if json {
                emit(&(serde_json::to_string_pretty(&d).expect("serialisable") + "\n"));
            } else {
                emit(&d.table());
            }
            if d.passed() {
                Ok(())
            } else {
                Err(Error::Check(format!(
                    "explanations drifted: {} regression{} ({})",
                    d.regressions.len(),
                    if d.regressions.len() == 1 { "" } else { "s" },
                    d.regressions.first().cloned().unwrap_or_default()
                )))
            }
        }
        Command::Report {
            config,
            out,
            threads,
            quiet,
        } => {
            let loaded = explain_core::report::config::Loaded::read(&config)?;
            let bar = Bar::new(quiet, "report", "");
            let report = explain_core::report::run(
                &loaded,
                &explain_core::report::Options {
                    out: &out,
                    threads: threads_capped(threads),
                    backend: None,
                    wrap: None,
                    pins: Default::default(),
                },
                &bar,
            )?;
            bar.finish();
            if !quiet {
                emit(&report_summary(&report, &out));
            }
            Ok(())
        }
    }
}

fn report_summary(r: &explain_core::report::Report, out: &std::path::Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{}", r.title);
    let _ = writeln!(
        s,
        "verdict: {} ({} flag{}, {} uncovered market{}, {} slice{} with insufficient data)",
        r.summary.verdict.to_uppercase(),
        r.summary.flags.len(),
        if r.summary.flags.len() == 1 { "" } else { "s" },
        r.summary.uncovered_markets.len(),
        if r.summary.uncovered_markets.len() == 1 {
            ""
        } else {
            "s"
        },
        r.summary.insufficient_slices.len(),
        if r.summary.insufficient_slices.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    for f in &r.summary.flags {
        let _ = writeln!(s, "  FLAG {f}");
    }
    for m in &r.summary.uncovered_markets {
        let _ = writeln!(s, "  NOT COVERED {m}");
    }
    for p in &r.timing.phases {
        let _ = writeln!(s, "  {:>8.1} s  {}", p.seconds, p.phase);
    }
    let _ = writeln!(
        s,
        "written: {0}/report.html, {0}/report.json",
        out.display()
    );
    s
}

fn inventory(a: InventoryArgs) -> Result<()> {
    output::check_writable(&a.out)?;
    let sources = a
        .manifests
        .iter()
        .map(|m| inventory::read_source(m))
        .collect::<Result<Vec<_>>>()?;
    let datasheet = a
        .datasheet
        .as_deref()
        .map(inventory::Datasheet::read)
        .transpose()?;
    let options = inventory::Options {
        min_n: a.min_n,
        locale_column: a.locale_column,
        language_column: a.language_column,
    };
    let doc = inventory::build(&sources, datasheet.as_ref(), &options)?;
    output::write_json(&a.out, &doc)?;
    if !a.quiet {
        emit(&doc.summary());
        emit(&format!("written: {}\n", a.out.display()));
    }
    Ok(())
}

fn slices(a: SlicesArgs) -> Result<()> {
    let predictions_path = a.predictions.clone().unwrap_or_else(|| {
        a.out
            .parent()
            .map(|d| d.join("predictions.csv"))
            .unwrap_or_else(|| "predictions.csv".into())
    });
    let recipe = recipe(&a.m, &a.x, Budget::Default)?;
    let request = recipe.request(Vec::new(), a.x.background.clone(), a.x.seed);
    let config = slices::Config {
        slice_by: a
            .slice_by
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
        intersect: a
            .intersect
            .iter()
            .map(|g| g.split(',').map(|c| c.trim().to_string()).collect())
            .collect(),
        min_n: a.min_n,
        bootstrap: a.bootstrap,
        rules: a
            .rule
            .iter()
            .map(|r| slices::Rule::parse(r))
            .collect::<Result<_>>()?,
        holm: a.holm,
        alpha: a.alpha,
        boxes: a.boxes_column.clone(),
        pair: a.pair_column.clone(),
        same: a.same_column.clone(),
    };
    let method = a.profile_method;
    let profiles = (a.profile_items > 0).then(|| -> Result<_> {
        Ok((
            Settings {
                method,
                samples: Budget::Fixed(a.profile_samples),
                seed: a.x.seed,
                target: TargetSpec::Auto,
                link: a.x.link,
                batch_size: a.m.batch_size,
                features: request.features.to_string(),
                lime: None,
                pins: Default::default(),
                reference: None,
            },
            ProfileConfig {
                per_slice: a.profile_items,
                threshold: a.profile_threshold,
            },
        ))
    });
    let validation = slices::Validation {
        request: &request,
        decision: slices::Decision {
            positive: a.positive,
            threshold: a.threshold,
        },
        config,
        seed: a.x.seed,
        batch_size: a.m.batch_size,
        predictions_path: &predictions_path,
        profiles: profiles.transpose()?,
        pinned: Default::default(),
    };
    let manifest = Manifest::read(&a.manifest)?;
    let mut inputs = vec![a.m.model.clone(), a.manifest.clone()];
    inputs.extend(a.x.background.iter().cloned());
    inputs.extend(
        recipe
            .hold
            .iter()
            .filter_map(|h| h.file.as_ref().map(|f| PathBuf::from(&f.path))),
    );
    inputs.extend(manifest.input_paths());
    // Verification pairs: their second images are inputs too.
    if let Some(c) = manifest.column(&a.pair_column) {
        let dir = manifest.path.parent().unwrap_or(std::path::Path::new(""));
        inputs.extend(manifest.rows.iter().map(|r| dir.join(&r[c])));
    }
    output::check_output(&a.out, &inputs)?;
    output::check_output(&predictions_path, &inputs)?;
    if output::same_file(&a.out, &predictions_path) {
        return Err(Error::Input(format!(
            "--out and --predictions both name {}",
            a.out.display()
        )));
    }
    let options = ModelOptions {
        numerics: numerics(&a.m),
        ..recipe.model_options(a.m.output.clone(), backend(&a.m)?)?
    };
    let model = Model::load(&a.m.model, &options)?;
    let bar = Bar::new(a.m.quiet, "predicting", "");
    let (doc, predictions) = explainer::with_threads(threads_capped(a.m.threads), || {
        slices::validate(&model, &manifest, &validation, &bar)
    })??;
    bar.finish();
    // Both written before either is put in place.
    let csv = output::Staged::new(&predictions_path, predictions.to_csv().as_bytes())?;
    let json = output::Staged::new(&a.out, &output::json_bytes(&a.out, &doc)?)?;
    csv.commit()?;
    json.commit()?;
    if !a.m.quiet {
        emit(&doc.summary());
        emit(&format!(
            "written: {} and {}\n",
            a.out.display(),
            predictions_path.display()
        ));
    }
    let flags = doc.flags();
    if a.fail_on_flag && !flags.is_empty() {
        return Err(Error::Check(format!(
            "{} flag{} raised (--fail-on-flag): {}",
            flags.len(),
            if flags.len() == 1 { "" } else { "s" },
            flags.join("; ")
        )));
    }
    Ok(())
}

/// `--threads`, capped at a few per core (with a note on stderr when lowered).
fn threads_capped(threads: Option<usize>) -> Option<usize> {
    threads.map(|t| {
        let (t, note) = explain_core::util::limits::threads(t);
        if let Some(note) = note {
            eprintln!("note: {note}");
        }
        t
    })
}

/// Writes text to stdout; a closed pipe (`explain ... | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn describe(info: &ModelInfo) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "model     {}", info.path);
    let _ = writeln!(s, "sha256    {}", info.sha256);
    let _ = writeln!(s, "size      {} bytes", info.size_bytes);
    let producer = format!("{} {}", info.producer, info.producer_version);
    let _ = writeln!(s, "producer  {}", producer.trim());
    let _ = writeln!(s, "ir        {}", info.ir_version);
    let opsets: Vec<String> = info
        .opsets
        .iter()
        .map(|o| {
            format!(
                "{}:{}",
                if o.domain.is_empty() {
                    "ai.onnx"
                } else {
                    &o.domain
                },
                o.version
            )
        })
        .collect();
    let _ = writeln!(s, "opset     {}", opsets.join(", "));
    for (kind, list) in [("input ", &info.inputs), ("output", &info.outputs)] {
        for t in list {
            let _ = writeln!(s, "{kind}    {}  {}  {}", t.name, t.shape_string(), t.dtype);
        }
    }
    if let Some((decoder, why)) = explain_core::model::detect::suggest(&info.outputs) {
        let _ = writeln!(s, "detector  looks like --detector {decoder}: {why}");
    }
    s
}

fn image_preprocess(a: &ImageArgs) -> Result<image::Preprocess> {
    Ok(image::Preprocess {
        size: a.image_size.as_deref().map(image::parse_size).transpose()?,
        layout: a.layout,
        channels: a.channels,
        scale: image::parse_scale(&a.scale)?,
        mean: image::parse_list(&a.mean, "--mean")?,
        std: image::parse_list(&a.std, "--std")?,
    })
}

/// The backend `--backend` and `--ort-lib` ask for, refused early when this build lacks it.
fn backend(m: &ModelArgs) -> Result<BackendChoice> {
    let choice = BackendChoice::parse(&m.backend, m.ort_lib.clone())?;
    choice.check_available()?;
    Ok(choice)
}

/// `--portable-numerics`.
fn numerics(m: &ModelArgs) -> Mode {
    if m.portable_numerics {
        Mode::Portable
    } else {
        Mode::Native
    }
}

/// How the model is run and its inputs read, as the arguments ask (recorded in attribution
/// files so that `explain verify` can repeat the run).
fn recipe(m: &ModelArgs, x: &ExplainArgs, samples: Budget) -> Result<Recipe> {
    let image = image_preprocess(&m.image)?;
    Ok(Recipe {
        features: x.features.parse()?,
        baseline: x.baseline.as_deref().map(str::parse).transpose()?,
        samples,
        reduce: m.reduce,
        detector: m
            .detector
            .map(|decoder| explain_core::model::detect::Detector {
                decoder,
                score_threshold: m.score_threshold,
                nms_iou: m.nms_iou,
            }),
        reference: None,
        hold: m
            .hold
            .iter()
            .map(|h| HeldInput::from_str(h))
            .collect::<Result<_>>()?,
        image: (image != image::Preprocess::default()).then_some(image),
        audio: m.audio.sample_rate.map(|sample_rate| AudioPreprocess {
            sample_rate,
            channel: m.audio.channel,
            resample: m.audio.resample,
        }),
        crossfade_ms: m.audio.crossfade_ms,
        quality: None,
    })
}

fn attribute(c: Common, method: Method, samples: Budget, lime: Option<LimeParams>) -> Result<()> {
    let mut recipe = recipe(&c.m, &c.x, samples)?;
    recipe.reference = c
        .reference
        .as_ref()
        .map(|r| explain_core::util::provenance::FileRef::of(r))
        .transpose()?;
    if c.quality {
        recipe.quality = Some(QualityConfig {
            seeds: c.quality_seeds,
            ..QualityConfig::default()
        });
    }
    let job = Job {
        model: c.m.model.clone(),
        output: c.m.output.clone(),
        inputs: c.input.clone(),
        background: c.x.background.clone(),
        method,
        seed: c.x.seed,
        target: match &c.target_box {
            Some(b) => TargetSpec::Box(b.parse()?),
            None => TargetSpec::from_str(&c.target)?,
        },
        link: c.x.link,
        batch_size: c.m.batch_size,
        lime,
        recipe,
        backend: backend(&c.m)?,
        numerics: numerics(&c.m),
        wrap: None,
        pins: Default::default(),
    };
    let inputs = job.files();
    output::check_output(&c.out, &inputs)?;
    let bar = Bar::new(c.m.quiet, "explaining", " coalitions");
    let (doc, views) = job.run(threads_capped(c.m.threads), &bar)?;
    bar.finish();
    let plots = c.plot.as_deref().map(|d| (d, views.as_slice()));
    figures::write_attributions(&c.out, &doc, plots, &inputs)?;
    if !c.m.quiet {
        emit(&summarise(&doc, &c.out));
    }
    Ok(())
}

/// Prints the top features of each explanation.
fn summarise(doc: &Attributions, out: &std::path::Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} explanation{} ({}, {}, seed {}) written to {}",
        doc.explanations.len(),
        if doc.explanations.len() == 1 { "" } else { "s" },
        doc.method.name(),
        doc.params.features,
        doc.params.seed,
        out.display()
    );
    for e in &doc.explanations {
        let _ = writeln!(
            s,
            "\n{}  target {}  prediction {:.4}  base {:.4}  ({} coalitions)",
            e.input, e.target, e.prediction, e.base_value, e.model_evals
        );
        if let Some(a) = &e.auto {
            let _ = writeln!(
                s,
                "  auto: budget {} after {} round{}, largest SE / range {}: {}",
                a.samples,
                a.rounds,
                if a.rounds == 1 { "" } else { "s" },
                a.se_ratio.map_or("undefined".into(), |r| format!("{r:.4}")),
                if a.converged {
                    "converged"
                } else {
                    "NOT converged (--max-samples reached)"
                }
            );
        }
        let mut order: Vec<usize> = (0..e.values.len()).collect();
        order.sort_by(|&a, &b| {
            e.values[b]
                .abs()
                .total_cmp(&e.values[a].abs())
                .then(a.cmp(&b))
        });
        for &f in order.iter().take(5) {
            let _ = writeln!(
                s,
                "  {:>+10.4} ± {:<8.4} {}",
                e.values[f], e.std_errors[f], e.feature_names[f]
            );
        }
        if let Some(q) = &e.quality {
            let opt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.3}"));
            let _ = writeln!(
                s,
                "  quality: deletion AUC {:.3} (random {:.3}, lower is better), insertion AUC {:.3} \
                 (random {:.3}, higher is better)\n           seed stability Spearman {}, top-{} \
                 Jaccard {}; weight randomisation: {}",
                q.deletion.auc,
                q.random_deletion_auc,
                q.insertion.auc,
                q.random_insertion_auc,
                opt(q.seed_stability.spearman),
                q.seed_stability.k,
                opt(q.seed_stability.topk_jaccard),
                match q.randomisation.verdict {
                    explain_core::attribution::quality::Verdict::Pass =>
                        "pass (attributions changed)",
                    explain_core::attribution::quality::Verdict::Flag =>
                        "FLAG (attributions survived randomised weights)",
                    explain_core::attribution::quality::Verdict::NotApplicable
                    | explain_core::attribution::quality::Verdict::InsufficientData =>
                        "not applicable",
                }
            );
        }
    }
    s
}
