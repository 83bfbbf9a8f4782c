//! The `explain` command line: a thin clap layer over `explain-core`.
//!
//! All computation lives in `explain-core`; this crate parses arguments, shows progress, prints
//! results and maps errors to exit codes (0 ok, 1 a check failed, 2 bad usage or input).

use clap::{Args, Parser, Subcommand};
use explain_core::audio::AudioPreprocess;
use explain_core::engine::{Link, Progress};
use explain_core::estimators::Method;
use explain_core::estimators::lime::{self, LimeParams, Selection};
use explain_core::explainer::{self, Attributions, ProgressSink, Settings, TargetSpec};
use explain_core::features::FeatureSpec;
use explain_core::masker::BaselineSpec;
use explain_core::model::{Held, Model, ModelInfo, ModelOptions, Reduce, inspect};
use explain_core::{Result, figures, image, inputs, output};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "explain",
    version,
    about = "Explain ONNX models: reproducible SHAP and LIME attributions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    /// SHAP attributions (exact, Kernel SHAP or permutation) for every input row.
    Shap(ShapArgs),
    /// LIME attributions for every input row.
    Lime(LimeArgs),
}

#[derive(Args, Debug)]
struct Common {
    /// The ONNX model file.
    #[arg(long)]
    model: PathBuf,
    /// What to explain: .npy (float32, [n, ...]) or .csv rows, .png/.jpg images, or .wav clips.
    #[arg(long, required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Features: tabular, map:FILE.json, grid:RxC, slic:N[:compactness], segments:N, spectro:TxF.
    /// Default: tabular for rows, grid:8x8 for images, segments:10 for audio.
    #[arg(long, default_value = "auto")]
    features: String,
    /// Background rows, images or clips, averaged over for switched-off features.
    #[arg(long, num_args = 1..)]
    background: Vec<PathBuf>,
    /// A single baseline instead: zero, mean, a number, blur[:sigma] (images), silence or
    /// noise[:level] (audio). Default: zero for tensors, mean colour for images, silence for audio.
    #[arg(long)]
    baseline: Option<String>,
    /// Output index to explain, `top` (each row's top class) or `auto` (the first row's top class).
    #[arg(long, default_value = "auto")]
    target: String,
    /// The model output to explain, by name (default: the first).
    #[arg(long)]
    output: Option<String>,
    /// Reduce a spatial output (e.g. a detector's heatmap) to one score: max or mean.
    #[arg(long, value_parser = ["max", "mean"])]
    reduce: Option<String>,
    /// Hold another model input constant: NAME=zeros or NAME=FILE.npy (repeatable).
    #[arg(long)]
    hold: Vec<String>,
    /// Seed for every random choice; same seed, same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Model rows per inference call.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Scale of the attributions: identity or logit (log-odds).
    #[arg(long, default_value = "identity", value_parser = ["identity", "logit"])]
    link: String,
    #[command(flatten)]
    image: ImageArgs,
    #[command(flatten)]
    audio: AudioArgs,
    /// Where to write the attribution JSON.
    #[arg(long)]
    out: PathBuf,
    /// Also write plots (PNG and SVG) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Image preprocessing (value = (pixel * scale - mean) / std)")]
struct ImageArgs {
    /// Image size WxH: sets the model's height and width when it leaves them open, else checked
    /// against them. Images are resized to the model's size.
    #[arg(long)]
    image_size: Option<String>,
    /// Tensor layout: nchw or nhwc.
    #[arg(long, default_value = "nchw", value_parser = ["nchw", "nhwc"])]
    layout: String,
    /// Channel order: rgb, bgr or gray.
    #[arg(long, default_value = "rgb", value_parser = ["rgb", "bgr", "gray"])]
    channels: String,
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
    /// Estimator.
    #[arg(long, default_value = "kernel", value_parser = ["exact", "kernel", "permutation"])]
    method: String,
    /// Coalition budget (default 2M+2048).
    #[arg(long)]
    samples: Option<usize>,
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
    #[arg(long, default_value = "auto", value_parser = ["auto", "forward", "highest"])]
    feature_selection: String,
}

/// Runs the CLI on the process arguments and exits with its status.
pub fn main() {
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
        Command::Shap(a) => attribute(a.common, Method::parse(&a.method)?, a.samples, None),
        Command::Lime(a) => {
            let params = LimeParams {
                samples: 0,
                kernel_width: a.kernel_width,
                num_features: a.num_features,
                selection: Selection::parse(&a.feature_selection)?,
            };
            attribute(a.common, Method::Lime, a.samples, Some(params))
        }
    }
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

fn attribute(
    c: Common,
    method: Method,
    samples: Option<usize>,
    lime: Option<LimeParams>,
) -> Result<()> {
    output::check_writable(&c.out)?;
    let features = FeatureSpec::parse(&c.features)?;
    let mut settings = Settings {
        method,
        samples,
        seed: c.seed,
        target: TargetSpec::parse(&c.target)?,
        link: Link::parse(&c.link)?,
        batch_size: c.batch_size,
        features: features.to_string(),
        lime,
    };
    let request = inputs::Request {
        inputs: c.input.clone(),
        features,
        background: c.background.clone(),
        baseline: c.baseline.as_deref().map(BaselineSpec::parse).transpose()?,
        image: image::Preprocess {
            size: c
                .image
                .image_size
                .as_deref()
                .map(image::parse_size)
                .transpose()?,
            layout: if c.image.layout == "nhwc" {
                image::Layout::Nhwc
            } else {
                image::Layout::Nchw
            },
            channels: match c.image.channels.as_str() {
                "bgr" => image::ChannelOrder::Bgr,
                "gray" => image::ChannelOrder::Gray,
                _ => image::ChannelOrder::Rgb,
            },
            scale: image::parse_scale(&c.image.scale)?,
            mean: image::parse_list(&c.image.mean, "--mean")?,
            std: image::parse_list(&c.image.std, "--std")?,
        },
        audio: c.audio.sample_rate.map(|sample_rate| AudioPreprocess {
            sample_rate,
            channel: c.audio.channel,
            resample: c.audio.resample,
        }),
        seed: c.seed,
        crossfade_ms: c.audio.crossfade_ms,
    };
    let options = ModelOptions {
        input: None,
        output: c.output.clone(),
        held: c
            .hold
            .iter()
            .map(|h| Held::parse_arg(h))
            .collect::<Result<_>>()?,
        reduce: c.reduce.as_deref().map(Reduce::parse).transpose()?,
        axis_sizes: image::axis_sizes(&request.image),
    };
    let model = Model::load(&c.model, &options)?;
    let prepared = inputs::prepare(&model, &request)?;
    settings.features = prepared.features.clone();
    let bar = Bar::new(c.quiet);
    let doc = explainer::with_threads(c.threads, || {
        explainer::explain(
            &model,
            &prepared.instances,
            prepared.sources.clone(),
            &settings,
            &bar,
        )
    })??;
    bar.finish();
    output::write_json(&c.out, &doc)?;
    if let Some(dir) = &c.plot {
        figures::write_explanation_plots(dir, &doc, &prepared.views)?;
    }
    if !c.quiet {
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
    }
    s
}

/// A progress bar on stderr, hidden with --quiet or when stderr is not a terminal.
struct Bar(ProgressBar);

impl Bar {
    fn new(quiet: bool) -> Bar {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} coalitions, {elapsed} (eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message("explaining");
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
}

impl ProgressSink for Bar {
    fn begin(&self, total: u64) {
        self.0.set_length(total);
    }
    fn as_progress(&self) -> &dyn Progress {
        self
    }
}
