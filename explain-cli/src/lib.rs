//! The `explain` command line: a thin clap layer over `explain-core`.
//!
//! All computation lives in `explain-core`; this crate parses arguments, shows progress, prints
//! results and maps errors to exit codes (0 ok, 1 a check failed, 2 bad usage or input).

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};
use explain_core::artifact::spec::defaults;
use explain_core::attribution::budget::Budget;
use explain_core::attribution::engine::{Link, Progress};
use explain_core::attribution::estimators::Method;
use explain_core::attribution::estimators::lime::{self, LimeParams, Selection};
use explain_core::attribution::explainer::{self, Attributions, Settings, TargetSpec};
use explain_core::attribution::quality::QualityConfig;
use explain_core::attribution::recipe::{HeldInput, Job, Recipe};
use explain_core::input::audio::AudioPreprocess;
use explain_core::model::numerics::Mode;
use explain_core::model::{BackendChoice, Model, ModelInfo, ModelOptions, Reduce, inspect};
use explain_core::validation::manifest::Manifest;
use explain_core::validation::profiles::ProfileConfig;
use explain_core::{
    Error, Result, input::image, render::figures, util::output, validation::inventory,
    validation::slices,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Parser, Debug)]
#[command(
    name = "explain",
    version,
    about = "Explain ONNX models: reproducible SHAP and LIME attributions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The most memory a run may plan to use, e.g. 8G or 512M [default: half the machine's].
    /// Inputs and budgets that imply more are refused before anything is allocated.
    #[arg(long, global = true, value_name = "SIZE")]
    max_memory: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a model's inputs, outputs, opset, producer and SHA-256.
    Inspect {
        /// The ONNX model file.
        model: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// SHAP attributions (exact, Kernel SHAP, Leverage SHAP or permutation) for every input row.
    Shap(ShapArgs),
    /// LIME attributions for every input row.
    Lime(LimeArgs),
    /// Performance per validation slice (locale, lighting, site, ...) with 95% intervals,
    /// disparities between slices with verdicts, and explanation profiles per slice.
    Slices(Box<SlicesArgs>),
    /// Data inventory: counts and shares by every attribute, missing values, language
    /// coverage, datasheet fields and target-market coverage of one or more manifests.
    Inventory(InventoryArgs),
    /// Check a report or attribution file: file hashes, then re-run it as recorded and
    /// compare every number (exit 1 when anything differs).
    Verify {
        /// The report.json to check (the files beside it are checked too), or an attribution
        /// file from `explain shap|lime` (run from the directory it was made in).
        report: PathBuf,
        /// The report's config, when it is not at the recorded path.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Largest accepted difference per number [default: none on the same numeric
        /// platform, float32 rounding on another CPU or backend]; 0 asks for identical numbers.
        #[arg(long)]
        tolerance: Option<f64>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Keep the re-run: a report in this directory (replaced if it holds a report), an
        /// attribution file at this path.
        #[arg(long)]
        rerun_out: Option<PathBuf>,
        /// Re-run with this backend instead of the recorded one (tract or ort); the numbers
        /// are then compared within float32 rounding.
        #[arg(long, value_parser = ["tract", "ort"])]
        backend: Option<String>,
        /// The ONNX Runtime library for --backend ort [default: $ORT_DYLIB_PATH].
        #[arg(long, requires = "backend")]
        ort_lib: Option<PathBuf>,
        /// No progress display.
        #[arg(long)]
        quiet: bool,
    },
    /// Explanation stability gate: compare two attribution or report files (e.g. an old and a
    /// retrained model) and exit 1 when explanations drift past the thresholds.
    Diff {
        /// The reference: attributions or report JSON.
        old: PathBuf,
        /// The candidate, of the same kind.
        new: PathBuf,
        /// Thresholds from a TOML file's [stability] table (min_spearman, min_kendall,
        /// min_topk_jaccard, k, min_cosine, max_abs_change, max_metric_change,
        /// verdict_changes_fail).
        #[arg(long)]
        thresholds: Option<PathBuf>,
        /// Smallest accepted Spearman correlation per item (default 0.8).
        #[arg(long, allow_hyphen_values = true)]
        min_spearman: Option<f64>,
        /// Smallest accepted top-k Jaccard of |attributions| (default 0.6).
        #[arg(long)]
        min_jaccard: Option<f64>,
        /// k of the top-k Jaccard (default 5).
        #[arg(long)]
        k: Option<usize>,
        /// Largest accepted change of a slice metric in reports (default 0.05).
        #[arg(long)]
        max_metric_change: Option<f64>,
        /// Print the comparison as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The main job: run everything a config asks for (attributions, validation slices,
    /// explanation profiles, data inventory, market coverage) into one report directory:
    /// report.json, report.html, plots, predictions and attribution files.
    Report {
        /// The report config (explain.toml); paths in it are relative to it.
        config: PathBuf,
        /// The report directory (replaced if it holds an earlier report).
        #[arg(long)]
        out: PathBuf,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// No progress display and no summary.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Args, Debug)]
struct InventoryArgs {
    /// Manifests, each as PATH (a validation manifest) or ROLE=PATH, ROLE one of train,
    /// validation, test, background.
    #[arg(required = true, num_args = 1..)]
    manifests: Vec<String>,
    /// Datasheet (TOML): origin, collection period and geography, licence, legal basis,
    /// labelling, data category, security grade, cross-border transfer, target markets.
    #[arg(long)]
    datasheet: Option<PathBuf>,
    /// Items a required locale needs in validation data for its market to count as covered
    /// (default: the datasheet's, else 30).
    #[arg(long)]
    min_n: Option<usize>,
    /// The column holding locales such as ja-JP (default: locale).
    #[arg(long)]
    locale_column: Option<String>,
    /// The column holding languages (default: language, lang or locale).
    #[arg(long)]
    language_column: Option<String>,
    /// Where to write inventory.json.
    #[arg(long)]
    out: PathBuf,
    /// No summary.
    #[arg(long)]
    quiet: bool,
}

/// The model, how to run it and how to read its inputs: shared by every command that runs one.
#[derive(Args, Debug)]
struct ModelArgs {
    /// The ONNX model file.
    #[arg(long)]
    model: PathBuf,
    /// The model output to use, by name (default: the first).
    #[arg(long)]
    output: Option<String>,
    /// Reduce a spatial output (e.g. a detector's heatmap) to one score: max or mean.
    #[arg(long, value_parser = names::<Reduce>(Reduce::NAMES))]
    reduce: Option<Reduce>,
    /// Hold another model input constant: NAME=zeros or NAME=FILE.npy (repeatable).
    #[arg(long)]
    hold: Vec<String>,
    /// Inference backend: tract (pure Rust, built in) or ort (ONNX Runtime; needs a build
    /// with `--features ort` and the library, see --ort-lib).
    #[arg(long, default_value = BackendChoice::NAMES[0], value_parser = BackendChoice::NAMES)]
    backend: String,
    /// The ONNX Runtime 1.31 library for --backend ort (libonnxruntime.so.1.31.1, as printed
    /// by scripts/install-onnxruntime.sh) [default: $ORT_DYLIB_PATH].
    #[arg(long)]
    ort_lib: Option<PathBuf>,
    /// Run tract with one kernel family on every CPU of this architecture (portable Rust on
    /// x86-64), so that the bits do not depend on AVX2 or AVX-512; costs 1.1-1.4x in time.
    #[arg(long)]
    portable_numerics: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Model rows per inference call.
    #[arg(long, default_value_t = defaults::BATCH_SIZE)]
    batch_size: usize,
    #[command(flatten)]
    image: ImageArgs,
    #[command(flatten)]
    audio: AudioArgs,
    /// No progress bar and no summary.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct Common {
    #[command(flatten)]
    m: ModelArgs,
    /// What to explain: .npy (float32, [n, ...]) or .csv rows, .png/.jpg images, or .wav clips.
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Output index to explain, `top` (each row's top class) or `auto` (the first row's top class).
    #[arg(long, default_value = "auto")]
    target: String,
    #[command(flatten)]
    x: ExplainArgs,
    /// Where to write the attribution JSON.
    #[arg(long)]
    out: PathBuf,
    /// Also write plots (PNG and SVG) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Quality figures per explanation: deletion and insertion curves against random orders,
    /// seed stability, and the model-randomisation check (with --plot, a curve plot too).
    #[arg(long)]
    quality: bool,
    /// Extra seeds for the seed-stability figure of --quality.
    #[arg(long, default_value_t = defaults::QUALITY_SEEDS)]
    quality_seeds: usize,
}

/// How instances are cut into features and masked, shared by `shap`, `lime` and the
/// explanation profiles of `slices`.
#[derive(Args, Debug)]
struct ExplainArgs {
    /// Features: tabular, map:FILE.json, grid:RxC, slic:N[:compactness], segments:N, spectro:TxF.
    /// Default: tabular for rows, grid:8x8 for images, segments:10 for audio.
    #[arg(long, default_value = "auto")]
    features: String,
    /// Background rows, images or clips, averaged over for switched-off features.
    #[arg(long, num_args = 1..)]
    background: Vec<PathBuf>,
    /// A single baseline instead: zero, mean, a number, blur[:sigma] (images), silence or
    /// noise[:level] (audio). Default: zero for tensors, mean colour for images, silence for audio.
    #[arg(long, allow_hyphen_values = true)]
    baseline: Option<String>,
    /// Seed for every random choice; same seed, same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Scale of the attributions: identity or logit (log-odds).
    #[arg(long, default_value_t = Link::Identity, value_parser = names::<Link>(Link::NAMES))]
    link: Link,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Image preprocessing (value = (pixel * scale - mean) / std)")]
struct ImageArgs {
    /// Image size WxH: sets the model's height and width when it leaves them open, else checked
    /// against them. Images are resized to the model's size.
    #[arg(long)]
    image_size: Option<String>,
    /// Tensor layout: nchw or nhwc.
    #[arg(long, default_value_t = image::Layout::Nchw, value_parser = names::<image::Layout>(image::Layout::NAMES))]
    layout: image::Layout,
    /// Channel order: rgb, bgr or gray.
    #[arg(long, default_value_t = image::ChannelOrder::Rgb, value_parser = names::<image::ChannelOrder>(image::ChannelOrder::NAMES))]
    channels: image::ChannelOrder,
    /// Pixel scale, e.g. 1/255 (default) or 1.
    #[arg(long, default_value = "1/255")]
    scale: String,
    /// Per-channel mean(s) subtracted after scaling, e.g. 0.485,0.456,0.406.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    mean: String,
    /// Per-channel standard deviation(s) divided by, e.g. 0.229,0.224,0.225.
    #[arg(long, default_value = "1")]
    std: String,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Audio")]
struct AudioArgs {
    /// Sample rate the model expects (required for .wav inputs).
    #[arg(long)]
    sample_rate: Option<u32>,
    /// Channel to read from multi-channel WAV files (0-based; default the first).
    #[arg(long)]
    channel: Option<usize>,
    /// Resample clips whose rate differs from --sample-rate instead of failing.
    #[arg(long)]
    resample: bool,
    /// Fade segment boundaries over this many milliseconds (0: segments partition the samples).
    #[arg(long, default_value_t = 0.0)]
    crossfade_ms: f32,
}

#[derive(Args, Debug)]
struct ShapArgs {
    #[command(flatten)]
    common: Common,
    /// Estimator: leverage (Leverage SHAP, the most accurate at equal budget; see
    /// benches/leverage-vs-kernel.md), kernel (shap's Kernel SHAP scheme, for parity with
    /// Python shap), permutation (antithetic permutations) or exact (all 2^M coalitions).
    #[arg(long, default_value_t = Method::Leverage, value_parser = names::<Method>(&Method::SHAP.map(Method::name)))]
    method: Method,
    /// Coalition budget: a number (default 2M+2048), or `auto`: sample until the largest
    /// standard error is at most --tolerance of the attribution range (max - min), up to
    /// --max-samples.
    #[arg(long)]
    samples: Option<String>,
    /// For --samples auto: the largest accepted standard error, as a share of the attribution
    /// range [default: 0.01].
    #[arg(long)]
    tolerance: Option<f64>,
    /// For --samples auto: the largest budget tried (Kernel and Leverage SHAP stop at 2^M-2,
    /// where they are exact) [default: 65536].
    #[arg(long)]
    max_samples: Option<usize>,
}

#[derive(Args, Debug)]
struct LimeArgs {
    #[command(flatten)]
    common: Common,
    /// Perturbed samples (default 1000).
    #[arg(long)]
    samples: Option<usize>,
    /// Width of the exponential kernel on cosine distance.
    #[arg(long, default_value_t = lime::DEFAULT_KERNEL_WIDTH)]
    kernel_width: f64,
    /// Features kept in the surrogate (default: all).
    #[arg(long)]
    num_features: Option<usize>,
    /// How to pick them: auto, forward or highest.
    #[arg(long, default_value_t = Selection::Auto, value_parser = names::<Selection>(Selection::NAMES))]
    feature_selection: Selection,
}

#[derive(Args, Debug)]
struct SlicesArgs {
    #[command(flatten)]
    m: ModelArgs,
    /// Validation manifest: a CSV with `input` (a file, relative to the manifest), `label` (a
    /// class index) and attribute columns.
    #[arg(long)]
    manifest: PathBuf,
    /// Attribute columns to slice by, comma-separated.
    #[arg(long, value_delimiter = ',')]
    slice_by: Vec<String>,
    /// Columns whose value combinations form slices, comma-separated (repeatable).
    #[arg(long)]
    intersect: Vec<String>,
    /// The positive class of binary decisions (default 1 for models with one or two outputs;
    /// without it, models with more outputs are judged on top-class accuracy).
    #[arg(long)]
    positive: Option<usize>,
    /// Decide positive when the positive class's output is at least this.
    #[arg(long, default_value_t = defaults::THRESHOLD, allow_hyphen_values = true)]
    threshold: f64,
    /// Slices with fewer items are reported as insufficient_data instead of getting a verdict.
    #[arg(long, default_value_t = defaults::MIN_N)]
    min_n: usize,
    /// Bootstrap replicates for the disparity intervals.
    #[arg(long, default_value_t = defaults::BOOTSTRAP)]
    bootstrap: usize,
    /// A disparity threshold: METRIC=ratio:T or METRIC=difference:T (repeatable). Defaults:
    /// selection_rate, tpr, precision ratio >= 0.8; accuracy, fpr, fnr difference <= 0.1.
    #[arg(long)]
    rule: Vec<String>,
    /// Flag a disparity only when its chi-square test stays significant after Holm's
    /// correction over all disparities.
    #[arg(long)]
    holm: bool,
    /// Significance level for --holm.
    #[arg(long, default_value_t = defaults::ALPHA)]
    alpha: f64,
    /// Exit with status 1 when any verdict is `flag` (for CI).
    #[arg(long)]
    fail_on_flag: bool,
    /// Where to write slices.json.
    #[arg(long)]
    out: PathBuf,
    /// Where to write the per-item predictions (default: predictions.csv beside --out).
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Items per slice explained for the explanation profiles (0: no profiles).
    #[arg(long, default_value_t = defaults::PROFILE_ITEMS)]
    profile_items: usize,
    /// Flag a slice whose profile differs from the overall one by more than this
    /// (1 - Spearman correlation of mean |attribution| per feature).
    #[arg(long, default_value_t = defaults::PROFILE_THRESHOLD)]
    profile_threshold: f64,
    /// Estimator for the profiles.
    #[arg(long, default_value_t = defaults::PROFILE_METHOD, value_parser = names::<Method>(Method::NAMES))]
    profile_method: Method,
    /// Coalition budget per explained item (profiles average over items, so a smaller budget
    /// than for `shap` does).
    #[arg(long, default_value_t = defaults::PROFILE_SAMPLES)]
    profile_samples: usize,
    #[command(flatten)]
    x: ExplainArgs,
}

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
    s
}

/// A value parser for a vocabulary enum: clap lists `names` as the possible values (and
/// names them in its error), and the chosen one parses with the enum's `FromStr`.
fn names<T>(names: &[&'static str]) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Debug,
{
    clap::builder::PossibleValuesParser::new(names.to_vec())
        .map(|s| s.parse::<T>().expect("every listed name parses"))
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
        target: TargetSpec::from_str(&c.target)?,
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

/// A progress bar on stderr, hidden with --quiet or when stderr is not a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new(quiet: bool, message: &'static str, unit: &str) -> Bar {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}}{unit}, {{elapsed}} (eta {{eta}})"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(message);
        Bar(bar)
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn begin(&self, total: u64) {
        self.0.set_position(0);
        self.0.set_length(total);
    }
    fn stage(&self, name: &str) {
        self.0.set_message(name.to_string());
    }
    fn note(&self, text: &str) {
        self.0.suspend(|| eprintln!("note: {text}"));
    }
}
