//! The command line's arguments: every command and flag, as clap derives them. Vocabulary
//! flags parse through their type's `FromStr` ([`names`]) and take their defaults from
//! `explain_core::artifact::spec::defaults`.

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand};
use explain_core::artifact::spec::defaults;
use explain_core::attribution::engine::Link;
use explain_core::attribution::estimators::Method;
use explain_core::attribution::estimators::lime::{self, Selection};
use explain_core::input::image;
use explain_core::model::detect::{self, Decoder};
use explain_core::model::{BackendChoice, Reduce};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "explain",
    version,
    about = "Explain ONNX models: reproducible SHAP and LIME attributions"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// The most memory a run may plan to use, e.g. 8G or 512M [default: half the machine's].
    /// Inputs and budgets that imply more are refused before anything is allocated.
    #[arg(long, global = true, value_name = "SIZE")]
    pub(crate) max_memory: Option<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
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
pub(crate) struct InventoryArgs {
    /// Manifests, each as PATH (a validation manifest) or ROLE=PATH, ROLE one of train,
    /// validation, test, background.
    #[arg(required = true, num_args = 1..)]
    pub(crate) manifests: Vec<String>,
    /// Datasheet (TOML): origin, collection period and geography, licence, legal basis,
    /// labelling, data category, security grade, cross-border transfer, target markets.
    #[arg(long)]
    pub(crate) datasheet: Option<PathBuf>,
    /// Items a required locale needs in validation data for its market to count as covered
    /// (default: the datasheet's, else 30).
    #[arg(long)]
    pub(crate) min_n: Option<usize>,
    /// The column holding locales such as ja-JP (default: locale).
    #[arg(long)]
    pub(crate) locale_column: Option<String>,
    /// The column holding languages (default: language, lang or locale).
    #[arg(long)]
    pub(crate) language_column: Option<String>,
    /// Where to write inventory.json.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// No summary.
    #[arg(long)]
    pub(crate) quiet: bool,
}

/// The model, how to run it and how to read its inputs: shared by every command that runs one.
#[derive(Args, Debug)]
pub(crate) struct ModelArgs {
    /// The ONNX model file.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// The model output to use, by name (default: the first).
    #[arg(long)]
    pub(crate) output: Option<String>,
    /// Reduce a spatial output (e.g. a detector's heatmap) to one score: max or mean.
    #[arg(long, value_parser = names::<Reduce>(Reduce::NAMES))]
    pub(crate) reduce: Option<Reduce>,
    /// A detector's output layout: centerface, boxes, boxes:normalized, yolo or
    /// yolo:transposed. Explanations are then of one box (see --target, --target-box).
    #[arg(long, value_parser = names::<Decoder>(Decoder::NAMES))]
    pub(crate) detector: Option<Decoder>,
    /// A detector's score threshold for listing detections.
    #[arg(long, default_value_t = detect::DEFAULT_SCORE_THRESHOLD, requires = "detector")]
    pub(crate) score_threshold: f32,
    /// A detector's NMS IoU: of two overlapping detections of a class, the lower-scored is
    /// dropped above this.
    #[arg(long, default_value_t = detect::DEFAULT_NMS_IOU, requires = "detector")]
    pub(crate) nms_iou: f32,
    /// Hold another model input constant: NAME=zeros or NAME=FILE.npy (repeatable).
    #[arg(long)]
    pub(crate) hold: Vec<String>,
    /// Inference backend: tract (pure Rust, built in) or ort (ONNX Runtime; needs a build
    /// with `--features ort` and the library, see --ort-lib).
    #[arg(long, default_value = BackendChoice::NAMES[0], value_parser = BackendChoice::NAMES)]
    pub(crate) backend: String,
    /// The ONNX Runtime 1.31 library for --backend ort (libonnxruntime.so.1.31.1, as printed
    /// by scripts/install-onnxruntime.sh) [default: $ORT_DYLIB_PATH].
    #[arg(long)]
    pub(crate) ort_lib: Option<PathBuf>,
    /// Run tract with one kernel family on every CPU of this architecture (portable Rust on
    /// x86-64), so that the bits do not depend on AVX2 or AVX-512; costs 1.1-1.4x in time.
    #[arg(long)]
    pub(crate) portable_numerics: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// Model rows per inference call.
    #[arg(long, default_value_t = defaults::BATCH_SIZE)]
    pub(crate) batch_size: usize,
    #[command(flatten)]
    pub(crate) image: ImageArgs,
    #[command(flatten)]
    pub(crate) audio: AudioArgs,
    /// No progress bar and no summary.
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(Args, Debug)]
pub(crate) struct Common {
    #[command(flatten)]
    pub(crate) m: ModelArgs,
    /// What to explain: .npy (float32, [n, ...]) or .csv rows, .png/.jpg images, or .wav clips.
    #[arg(long, required = true, num_args = 1..)]
    pub(crate) input: Vec<PathBuf>,
    /// Output index to explain, `top` (each row's top class) or `auto` (the first row's top
    /// class). For a detector: the index of a detection on the unmasked image, best first
    /// (`auto`, `top`: the best).
    #[arg(long, default_value = "auto")]
    pub(crate) target: String,
    /// For a detector: explain this box, detected or not: x0,y0,x1,y1[,class] in pixels of
    /// the model input (e.g. a missed face).
    #[arg(long, requires = "detector", conflicts_with = "target")]
    pub(crate) target_box: Option<String>,
    /// For a recogniser (an embedding model): explain the cosine similarity of each input's
    /// embedding to this reference input's.
    #[arg(long, conflicts_with = "target")]
    pub(crate) reference: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) x: ExplainArgs,
    /// Where to write the attribution JSON.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Also write plots (PNG and SVG) into this directory.
    #[arg(long)]
    pub(crate) plot: Option<PathBuf>,
    /// Quality figures per explanation: deletion and insertion curves against random orders,
    /// seed stability, and the model-randomisation check (with --plot, a curve plot too).
    #[arg(long)]
    pub(crate) quality: bool,
    /// Extra seeds for the seed-stability figure of --quality.
    #[arg(long, default_value_t = defaults::QUALITY_SEEDS)]
    pub(crate) quality_seeds: usize,
}

/// How instances are cut into features and masked, shared by `shap`, `lime` and the
/// explanation profiles of `slices`.
#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    /// Features: tabular, map:FILE.json, grid:RxC, slic:N[:compactness], segments:N, spectro:TxF.
    /// Default: tabular for rows, grid:8x8 for images, segments:10 for audio.
    #[arg(long, default_value = "auto")]
    pub(crate) features: String,
    /// Background rows, images or clips, averaged over for switched-off features.
    #[arg(long, num_args = 1..)]
    pub(crate) background: Vec<PathBuf>,
    /// A single baseline instead: zero, mean, a number, blur[:sigma] (images), silence or
    /// noise[:level] (audio). Default: zero for tensors, mean colour for images, silence for audio.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) baseline: Option<String>,
    /// Seed for every random choice; same seed, same bytes.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Scale of the attributions: identity or logit (log-odds).
    #[arg(long, default_value_t = Link::Identity, value_parser = names::<Link>(Link::NAMES))]
    pub(crate) link: Link,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Image preprocessing (value = (pixel * scale - mean) / std)")]
pub(crate) struct ImageArgs {
    /// Image size WxH: sets the model's height and width when it leaves them open, else checked
    /// against them. Images are resized to the model's size.
    #[arg(long)]
    pub(crate) image_size: Option<String>,
    /// Tensor layout: nchw or nhwc.
    #[arg(long, default_value_t = image::Layout::Nchw, value_parser = names::<image::Layout>(image::Layout::NAMES))]
    pub(crate) layout: image::Layout,
    /// Channel order: rgb, bgr or gray.
    #[arg(long, default_value_t = image::ChannelOrder::Rgb, value_parser = names::<image::ChannelOrder>(image::ChannelOrder::NAMES))]
    pub(crate) channels: image::ChannelOrder,
    /// Pixel scale, e.g. 1/255 (default) or 1.
    #[arg(long, default_value = "1/255")]
    pub(crate) scale: String,
    /// Per-channel mean(s) subtracted after scaling, e.g. 0.485,0.456,0.406.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub(crate) mean: String,
    /// Per-channel standard deviation(s) divided by, e.g. 0.229,0.224,0.225.
    #[arg(long, default_value = "1")]
    pub(crate) std: String,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Audio")]
pub(crate) struct AudioArgs {
    /// Sample rate the model expects (required for .wav inputs).
    #[arg(long)]
    pub(crate) sample_rate: Option<u32>,
    /// Channel to read from multi-channel WAV files (0-based; default the first).
    #[arg(long)]
    pub(crate) channel: Option<usize>,
    /// Resample clips whose rate differs from --sample-rate instead of failing.
    #[arg(long)]
    pub(crate) resample: bool,
    /// Fade segment boundaries over this many milliseconds (0: segments partition the samples).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) crossfade_ms: f32,
}

#[derive(Args, Debug)]
pub(crate) struct ShapArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Estimator: leverage (Leverage SHAP, the most accurate at equal budget; see
    /// benches/leverage-vs-kernel.md), kernel (shap's Kernel SHAP scheme, for parity with
    /// Python shap), permutation (antithetic permutations) or exact (all 2^M coalitions).
    #[arg(long, default_value_t = Method::Leverage, value_parser = names::<Method>(&Method::SHAP.map(Method::name)))]
    pub(crate) method: Method,
    /// Coalition budget: a number (default 2M+2048), or `auto`: sample until the largest
    /// standard error is at most --tolerance of the attribution range (max - min), up to
    /// --max-samples.
    #[arg(long)]
    pub(crate) samples: Option<String>,
    /// For --samples auto: the largest accepted standard error, as a share of the attribution
    /// range [default: 0.01].
    #[arg(long)]
    pub(crate) tolerance: Option<f64>,
    /// For --samples auto: the largest budget tried (Kernel and Leverage SHAP stop at 2^M-2,
    /// where they are exact) [default: 65536].
    #[arg(long)]
    pub(crate) max_samples: Option<usize>,
}

#[derive(Args, Debug)]
pub(crate) struct LimeArgs {
    #[command(flatten)]
    pub(crate) common: Common,
    /// Perturbed samples (default 1000).
    #[arg(long)]
    pub(crate) samples: Option<usize>,
    /// Width of the exponential kernel on cosine distance.
    #[arg(long, default_value_t = lime::DEFAULT_KERNEL_WIDTH)]
    pub(crate) kernel_width: f64,
    /// Features kept in the surrogate (default: all).
    #[arg(long)]
    pub(crate) num_features: Option<usize>,
    /// How to pick them: auto, forward or highest.
    #[arg(long, default_value_t = Selection::Auto, value_parser = names::<Selection>(Selection::NAMES))]
    pub(crate) feature_selection: Selection,
}

#[derive(Args, Debug)]
pub(crate) struct SlicesArgs {
    #[command(flatten)]
    pub(crate) m: ModelArgs,
    /// Validation manifest: a CSV with `input` (a file, relative to the manifest), `label` (a
    /// class index) and attribute columns; for a detector (--detector) ground-truth boxes
    /// instead of labels, for a recogniser pairs (--pair-column, --same-column).
    #[arg(long)]
    pub(crate) manifest: PathBuf,
    /// Detectors: the manifest column of ground-truth boxes, `x0 y0 x1 y1;...` in image
    /// pixels (empty: no objects) or a .json file `[[x0,y0,x1,y1],...]` relative to the manifest.
    #[arg(long, default_value = "boxes")]
    pub(crate) boxes_column: String,
    /// Verification: the manifest column naming each pair's second image (relative to the
    /// manifest); a manifest with it is validated as pairs (FMR, FNMR), matched when the
    /// cosine similarity of the embeddings is at least --threshold.
    #[arg(long, default_value = "pair")]
    pub(crate) pair_column: String,
    /// Verification: the column saying whether a pair is genuine (true/false, 1/0).
    #[arg(long, default_value = "same")]
    pub(crate) same_column: String,
    /// Attribute columns to slice by, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) slice_by: Vec<String>,
    /// Columns whose value combinations form slices, comma-separated (repeatable).
    #[arg(long)]
    pub(crate) intersect: Vec<String>,
    /// The positive class of binary decisions (default 1 for models with one or two outputs;
    /// without it, models with more outputs are judged on top-class accuracy).
    #[arg(long)]
    pub(crate) positive: Option<usize>,
    /// Decide positive when the positive class's output is at least this (verification: match
    /// when the cosine similarity is at least this).
    #[arg(long, default_value_t = defaults::THRESHOLD, allow_hyphen_values = true)]
    pub(crate) threshold: f64,
    /// Slices with fewer items are reported as insufficient_data instead of getting a verdict.
    #[arg(long, default_value_t = defaults::MIN_N)]
    pub(crate) min_n: usize,
    /// Bootstrap replicates for the disparity intervals.
    #[arg(long, default_value_t = defaults::BOOTSTRAP)]
    pub(crate) bootstrap: usize,
    /// A disparity threshold: METRIC=ratio:T or METRIC=difference:T (repeatable). Defaults:
    /// selection_rate, tpr, precision, recall ratio >= 0.8; accuracy, fpr, fnr, miss_rate,
    /// false_detection_image_rate, false_detections_per_image, fnmr difference <= 0.1; fmr
    /// difference <= 0.01.
    #[arg(long)]
    pub(crate) rule: Vec<String>,
    /// Flag a disparity only when its chi-square test stays significant after Holm's
    /// correction over all disparities.
    #[arg(long)]
    pub(crate) holm: bool,
    /// Significance level for --holm.
    #[arg(long, default_value_t = defaults::ALPHA)]
    pub(crate) alpha: f64,
    /// Exit with status 1 when any verdict is `flag` (for CI).
    #[arg(long)]
    pub(crate) fail_on_flag: bool,
    /// Where to write slices.json.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Where to write the per-item predictions (default: predictions.csv beside --out).
    #[arg(long)]
    pub(crate) predictions: Option<PathBuf>,
    /// Items per slice explained for the explanation profiles (0: no profiles).
    #[arg(long, default_value_t = defaults::PROFILE_ITEMS)]
    pub(crate) profile_items: usize,
    /// Flag a slice whose profile differs from the overall one by more than this
    /// (1 - Spearman correlation of mean |attribution| per feature).
    #[arg(long, default_value_t = defaults::PROFILE_THRESHOLD)]
    pub(crate) profile_threshold: f64,
    /// Estimator for the profiles.
    #[arg(long, default_value_t = defaults::PROFILE_METHOD, value_parser = names::<Method>(Method::NAMES))]
    pub(crate) profile_method: Method,
    /// Coalition budget per explained item (profiles average over items, so a smaller budget
    /// than for `shap` does).
    #[arg(long, default_value_t = defaults::PROFILE_SAMPLES)]
    pub(crate) profile_samples: usize,
    #[command(flatten)]
    pub(crate) x: ExplainArgs,
}

/// A value parser for a vocabulary enum: clap lists `names` as the possible values (and
/// names them in its error), and the chosen one parses with the enum's `FromStr`.
pub(crate) fn names<T>(names: &[&'static str]) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Debug,
{
    clap::builder::PossibleValuesParser::new(names.to_vec())
        .map(|s| s.parse::<T>().expect("every listed name parses"))
}
