//! Command-line arguments (clap derive). Each subcommand's help ends with an example.

use crate::options::{
    ActivationArg, DataArgs, DetectorArg, DeviceArg, Format, ImageArgs, LabelArgs, LossArg,
    MissingArg, OptimizerArg, OutputArg, ScaleArg, TableArgs, ThresholdArgs,
};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Autoencoders as fast, explicit software: train, encode, reconstruct, evaluate.
#[derive(Parser, Debug)]
#[command(name = "latent", version, about, propagate_version = true, args_override_self = true)]
#[command(
    after_help = "Example:\n  latent demo\n  latent train --data train.csv --out model.safetensors\n  latent eval --model model.safetensors --data test.csv --format json"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that name one thing and may not be repeated: clap lets a later flag override an
/// earlier one (`args_override_self`), which silently drops a second `--label-column`.
const NOT_REPEATABLE: [&str; 1] = ["--label-column"];

/// A message when a flag of [`NOT_REPEATABLE`] is given more than once.
pub fn repeated_flag(args: &[std::ffi::OsString]) -> Option<String> {
    for flag in NOT_REPEATABLE {
        let mut values = Vec::new();
        let mut it = args.iter().map(|a| a.to_string_lossy());
        while let Some(a) = it.next() {
            if a == "--" {
                break;
            }
            if a == flag {
                values.push(it.next().map(|v| v.into_owned()).unwrap_or_default());
            } else if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
                values.push(v.to_string());
            }
        }
        if values.len() > 1 {
            return Some(format!(
                "{flag} given {} times ({}): a file has one label column; other columns to \
                 keep out of the features go in --id-column",
                values.len(),
                values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    None
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train an autoencoder on a data file and save it as one .safetensors file.
    #[command(
        after_help = "Example:\n  latent train --data data/digits/digits.csv --label-column label --out digits.safetensors\n  latent train --data data/anomaly/breastw.csv --label-column label --preset anomaly \\\n    --out detector.safetensors\n  latent train --data train-images-idx3-ubyte.gz --preset conv --out mnist.safetensors"
    )]
    Train(Box<TrainArgs>),
    /// Write the latent code of every row (CSV or NPY).
    #[command(
        after_help = "Example:\n  latent encode --model model.safetensors --data data.csv --out codes.csv"
    )]
    Encode(TransformArgs),
    /// Write the reconstruction of every row, in the original units (CSV or NPY).
    #[command(
        after_help = "Example:\n  latent reconstruct --model model.safetensors --data data.csv --out recon.csv"
    )]
    Reconstruct(TransformArgs),
    /// Remove noise: write each row as the model rebuilds it (train with --preset denoising),
    /// in the kind of file given (CSV, NPY, IDX, a .png grid, or a folder of PNGs).
    #[command(
        after_help = "Example:\n  latent denoise --model denoiser.safetensors --data noisy-images-idx3-ubyte.gz --out clean-idx3-ubyte.gz"
    )]
    Denoise(TransformArgs),
    /// Draw new data from a variational model's prior (a .png grid for images).
    #[command(
        after_help = "Example:\n  latent sample --model vae.safetensors --n 64 --out grid.png"
    )]
    Sample(crate::generate::SampleArgs),
    /// Decode evenly spaced points between the codes of two rows.
    #[command(
        after_help = "Example:\n  latent interpolate --model vae.safetensors --data test-images-idx3-ubyte.gz \\\n    --from 0 --to 1 --steps 10 --out interp.png"
    )]
    Interpolate(crate::generate::InterpolateArgs),
    /// Reconstruction error of a model over a data file.
    #[command(
        after_help = "Example:\n  latent eval --model model.safetensors --data test.csv --format json"
    )]
    Eval(EvalArgs),
    /// Anomaly score of every row (streamed): score, flag, optional probability and the
    /// columns contributing most.
    #[command(
        after_help = "Example:\n  latent score --model model.safetensors --data new.csv --explain 3 --out scores.csv\n  cat rows.jsonl | latent score --model model.safetensors --data - --proba"
    )]
    Score(crate::score::ScoreArgs),
    /// Detection quality on labelled data: ROC-AUC, PR-AUC, precision, recall, F1.
    #[command(
        after_help = "Example:\n  latent evaluate --model model.safetensors --data test.csv --label-column label --format json"
    )]
    Evaluate(crate::evaluate::EvaluateArgs),
    /// Unsupervised anomaly benchmark over a folder of labelled CSVs: autoencoder vs PCA vs
    /// Isolation Forest.
    #[command(
        after_help = "Example:\n  latent benchmark-anomaly --data-dir data/anomaly --label-column label --seeds 5 \\\n    --out results.json"
    )]
    BenchmarkAnomaly(crate::benchmark_anomaly::BenchmarkAnomalyArgs),
    /// The Numenta Anomaly Benchmark: latent's time-series detector on NAB's 58 series, scored
    /// by NAB's rules (standard, reward-low-FP and reward-low-FN profiles).
    #[command(
        after_help = "Example:\n  latent benchmark-nab --data-dir ../shared/data/nab --format json --out nab.json"
    )]
    BenchmarkNab(crate::benchmark_nab::BenchmarkNabArgs),
    /// Top-K items for each user of an interaction file, from a recommender (train one with
    /// --preset mult-vae, mult-dae or ease). Columns: user, item, score, rank.
    #[command(
        after_help = "Example:\n  latent recommend --model rec.safetensors --data history.csv --k 20 --out recs.csv"
    )]
    Recommend(crate::recommend::RecommendArgs),
    /// Recommendation benchmark (strong generalisation: held-out users, 80% of their items
    /// folded in, 20% ranked): Mult-VAE, Mult-DAE, EASE and popularity on the same splits.
    #[command(
        after_help = "Example:\n  latent benchmark-recommend --data ratings.csv --user-column userId --item-column movieId \\\n    --rating-column rating --min-rating 3.5 --heldout-users 100 --seeds 5 --format json"
    )]
    BenchmarkRecommend(crate::benchmark_recommend::BenchmarkRecommendArgs),
    /// Architecture, parameter count, preprocessing and training summary of a model.
    #[command(after_help = "Example:\n  latent info --model model.safetensors")]
    Info(InfoArgs),
    /// Reconstruction error of PCA with K components, in a model's preprocessed space:
    /// the baseline an autoencoder must beat.
    #[command(
        after_help = "Example:\n  latent pca --model mnist.safetensors --train train-images-idx3-ubyte.gz \\\n    --data t10k-images-idx3-ubyte.gz --components 32 --format json"
    )]
    Pca(PcaArgs),
    /// Train on the digits data shipped with latent, compare with PCA, write the outputs.
    #[command(after_help = "Example:\n  latent demo --out demo-out")]
    Demo(DemoArgs),
    /// Write one self-contained HTML report on a model: summary, training curves, evaluation
    /// metrics and plots (images embedded, nothing fetched).
    #[command(
        after_help = "Example:\n  latent report --model demo-out/model.safetensors --data demo-out/test.csv \\\n    --label-column label --image-size 8x8 --out report.html"
    )]
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  latent completions bash > ~/.local/share/bash-completion/completions/latent\n  latent completions zsh > ~/.zfunc/_latent\n  latent completions fish > ~/.config/fish/completions/latent.fish"
    )]
    Completions(CompletionsArgs),
    /// Serve a model over HTTP: score, encode, reconstruct or recommend (JSON), health and
    /// metrics.
    #[command(
        after_help = "Example:\n  latent serve --model model.safetensors --addr 127.0.0.1:8080 --token-file token.txt\n  curl -s -H \"Authorization: Bearer $(cat token.txt)\" -d '{\"rows\": [[0.1, 2.5, 3]], \"explain\": 2}' \\\n    http://127.0.0.1:8080/v1/score"
    )]
    Serve(ServeArgs),
    /// Fit the entropy model a model needs to compress (on the codes of its training data,
    /// quantised with a step) and save it in the model file.
    #[command(
        after_help = "Example:\n  latent fit-codec --model model.safetensors --data train.csv --quant-step 0.05 \\\n    --out model.safetensors"
    )]
    FitCodec(crate::compress::FitCodecArgs),
    /// Compress data into one .lat file: the model's quantised code, range-coded.
    #[command(
        after_help = "Example:\n  latent compress --model model.safetensors --data data.csv --out data.lat"
    )]
    Compress(crate::compress::CompressArgs),
    /// Decompress a .lat file with the model that wrote it (CSV, NPY, IDX or a PNG folder).
    #[command(
        after_help = "Example:\n  latent decompress --model model.safetensors --data data.lat --out data.csv"
    )]
    Decompress(crate::compress::DecompressArgs),
    /// Rate-distortion of compression models on test images beside JPEG and WebP (Pillow):
    /// bits per pixel from every byte of the .lat files, PSNR, BD-rates, speed; JSON and a
    /// plot.
    #[command(
        after_help = "Example:\n  latent benchmark-compress --models m1.safetensors,m2.safetensors,m3.safetensors \\\n    --data t10k-images-idx3-ubyte.gz --python bench/.venv-compress/bin/python --out rd"
    )]
    BenchmarkCompress(crate::benchmark_compress::BenchmarkCompressArgs),
    /// Export a model's encoder, decoder, reconstruction or anomaly scorer as ONNX.
    #[command(
        after_help = "Example:\n  latent export --model model.safetensors --part scorer --out scorer.onnx\n  python -c \"import onnxruntime as ort; s = ort.InferenceSession('scorer.onnx'); print(s.run(None, {'x': rows}))\""
    )]
    Export(crate::export::ExportArgs),
}

impl Command {
    /// The `--device` of a command that runs a model; `None` for the others.
    pub fn device(&self) -> Option<latent::engine::backend::Device> {
        let arg = match self {
            Command::Train(a) => a.device,
            Command::Encode(a) | Command::Reconstruct(a) | Command::Denoise(a) => a.device,
            Command::Eval(a) => a.device,
            Command::Score(a) => a.device,
            Command::Evaluate(a) => a.device,
            Command::Serve(a) => a.device,
            _ => return None,
        };
        Some(arg.device)
    }
}

/// Arguments of `latent train`. Every model and training setting may also come from
/// `--config run.toml`; flags override the file.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Input data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Time-series flags.
    #[command(flatten)]
    pub series: crate::series::SeriesTrainArgs,
    /// Where to save the model (.safetensors); its training log NAME.metrics.jsonl is written
    /// beside it.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A TOML file with [model], [preprocess] and [train] tables (see examples/run.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Encoder hidden layer sizes, comma separated (decoder mirrors them) [default: one layer
    /// of about width/3, between 2x latent and 512; none for conv models].
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    pub hidden: Option<Vec<usize>>,
    /// Latent code size [default: ceil(sqrt(model inputs)), 2 to 64].
    #[arg(long, value_name = "N")]
    pub latent: Option<usize>,
    /// Hidden-layer activation [default: relu; tanh with --preset anomaly].
    #[arg(long, value_enum)]
    pub activation: Option<ActivationArg>,
    /// Output activation (default: sigmoid when scaled data is in [0, 1], else identity).
    #[arg(long, value_enum)]
    pub output_activation: Option<OutputArg>,
    /// Reconstruction loss [default: mse].
    #[arg(long, value_enum)]
    pub loss: Option<LossArg>,
    /// Dropout after each hidden layer, training only [default: 0].
    #[arg(long, value_name = "P")]
    pub dropout: Option<f32>,
    /// Also drop out code units (with --dropout's probability), as PyOD's AutoEncoder does:
    /// a code wider than the data then cannot copy its input.
    #[arg(long)]
    pub code_dropout: bool,
    /// Scaling of numeric columns, fitted on the training data and saved in the model
    /// [default: auto].
    #[arg(long, value_enum)]
    pub scale: Option<ScaleArg>,
    /// What to do with missing values (empty cells, NA, N/A, NaN, null, None, ?)
    /// [default: error].
    #[arg(long, value_enum)]
    pub missing: Option<MissingArg>,
    /// Passes over the data, taken exactly when given [default: 20, raised on small data to
    /// reach --min-steps; 100 with --preset anomaly].
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Without --epochs, train for at least this many optimiser steps (batches), so that small
    /// tables are trained as long as large ones [default: 2000; 0: exactly the default epochs].
    #[arg(long, value_name = "N")]
    pub min_steps: Option<usize>,
    /// Rows per optimiser step [default: 256].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Learning rate [default: 0.001].
    #[arg(long, value_name = "F")]
    pub lr: Option<f32>,
    /// Weight decay, weights only [default: 0].
    #[arg(long, value_name = "F")]
    pub weight_decay: Option<f32>,
    /// Optimiser [default: adam].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerArg>,
    /// Share of rows held out for validation, 0 allowed [default: 0.1; 0 with --preset
    /// anomaly].
    #[arg(long, value_name = "F")]
    pub val_split: Option<f32>,
    /// Stop after this many epochs without improvement [default: no early stopping; the best
    /// epoch's weights are kept anyway].
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// Keep the last epoch's weights instead of the best epoch's.
    #[arg(long)]
    pub keep_last: bool,
    /// Clip the global gradient norm [default: no clipping].
    #[arg(long, value_name = "F")]
    pub clip_grad_norm: Option<f32>,
    /// Seed for initialisation, shuffling and noise [default: 42].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Time budget: stop after the epoch during which this many minutes have passed (without
    /// --epochs, training runs until the budget is spent).
    #[arg(long, value_name = "MIN", conflicts_with = "max_seconds")]
    pub max_minutes: Option<f64>,
    /// Time budget in seconds (the config file's `max_seconds`).
    #[arg(long, value_name = "S")]
    pub max_seconds: Option<f64>,
    /// Write a checkpoint (weights, optimiser and generator state, best-so-far) every N epochs,
    /// atomically, into OUT.ckpt/ beside the model (or --checkpoint-dir).
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// Folder for checkpoints (default: OUT.ckpt beside --out).
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Continue the run saved in this checkpoint folder (same data and flags; --epochs may
    /// grow). The result is bit-identical to an uninterrupted run.
    #[arg(long, value_name = "CKPT")]
    pub resume: Option<PathBuf>,
    /// Model family and its options.
    #[command(flatten)]
    pub family: crate::family::FamilyArgs,
    /// Recommender presets: the columns of the interaction table.
    #[command(flatten)]
    pub interactions: crate::recommend::InteractionArgs,
    /// Mult-VAE / Mult-DAE options.
    #[command(flatten)]
    pub mult_vae: crate::recommend::MultVaeArgs,
    /// The anomaly detector fitted after the network and saved with it (default:
    /// reconstruction; forest with --preset anomaly).
    #[arg(long, value_enum)]
    pub detector: Option<DetectorArg>,
    /// Anomaly threshold rule, calibrated after training and saved in the model.
    #[command(flatten)]
    pub threshold: ThresholdArgs,
    /// Also write plots of the run (loss curves, score histogram, latent space, inputs over
    /// reconstructions for images) as PNG and SVG into this folder.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// After training, fit the entropy model that `latent compress` needs, with this
    /// quantisation step of the code (see `latent fit-codec`).
    #[arg(long, value_name = "STEP")]
    pub quant_step: Option<f32>,
    /// Stream the training data from Parquet (a file or a folder of them) instead of loading
    /// it: for data larger than memory. A first pass fits the preprocessing; each epoch reads
    /// the row groups in a seeded order and shuffles rows within a bounded buffer.
    #[arg(long)]
    pub stream: bool,
    /// Rows shuffled together when streaming [default: as many as 64 MiB of model inputs
    /// hold]; more mixes better and takes more memory.
    #[arg(long, value_name = "ROWS", requires = "stream")]
    pub shuffle_buffer: Option<usize>,
    /// Where the model computes.
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Arguments of `latent encode` and `latent reconstruct`.
#[derive(Args, Debug)]
pub struct TransformArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Input data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Output file: .csv, .npy or .parquet (streamed for encode and reconstruct).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Where the model computes.
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Arguments of `latent eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Input data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Importance samples per example for a variational model's NLL (IWAE bound).
    #[arg(long, default_value_t = 100, value_name = "K")]
    pub iw_samples: usize,
    /// Also measure denoising: add Gaussian noise of this standard deviation (clipped to
    /// [0, 1]) and report the PSNR of the noisy and of the denoised data (peak 1).
    #[arg(long, value_name = "SIGMA")]
    pub noise_sigma: Option<f32>,
    /// Seed for noise, binarisation and importance samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where the model computes.
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Arguments of `latent pca`.
#[derive(Args, Debug)]
pub struct PcaArgs {
    /// The model whose preprocessing (scaling, one-hot columns) defines the space compared in.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Data PCA is fitted on (the model's training data).
    #[arg(long, value_name = "PATH")]
    pub train: PathBuf,
    /// Data the error is measured on.
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of components (default: the model's latent size).
    #[arg(long, value_name = "K")]
    pub components: Option<usize>,
    /// Also write the PCA codes of --data (pc0, pc1, ...; .csv or .npy), as `encode` does.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the PCA reconstructions of --data in the original units, as `reconstruct`
    /// does.
    #[arg(long, value_name = "FILE")]
    pub reconstructions: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `latent info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Output format (json: the input schema, detector, score, threshold and training summary).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Print the whole manifest stored in the file as JSON (settings, fitted preprocessing,
    /// training history).
    #[arg(long)]
    pub manifest: bool,
}

/// Arguments of `latent demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder for the demo's outputs.
    #[arg(long, default_value = "demo-out", value_name = "DIR")]
    pub out: PathBuf,
    /// Training epochs.
    #[arg(long, default_value_t = 150)]
    pub epochs: usize,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Output format of the results (json: the contents of summary.json).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Arguments of `latent report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Data to evaluate the model on (optional): CSV, NPY, NPZ, MNIST IDX or a folder of images.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// A column kept out of the features: colours the latent space; a binary label also gives
    /// ROC and precision-recall curves.
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Which label values are anomalies (ROC and precision-recall curves).
    #[command(flatten)]
    pub labels: LabelArgs,
    /// Draw rows as WIDTHxHEIGHT greyscale images in the reconstruction grid (for image data
    /// stored as a table; image files and IDX data carry their shape).
    #[arg(long, value_name = "WxH")]
    pub image_size: Option<String>,
    /// Table reading options.
    #[command(flatten)]
    pub table: TableArgs,
    /// Image reading options.
    #[command(flatten)]
    pub image: ImageArgs,
    /// Also write every plot as PNG and SVG into this folder.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// The HTML file to write.
    #[arg(long, default_value = "report.html", value_name = "FILE")]
    pub out: PathBuf,
}

/// Arguments of `latent completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `latent serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The model file.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "IP:PORT")]
    pub addr: std::net::SocketAddr,
    /// A file holding a token: every /v1 call then needs `Authorization: Bearer <token>`.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Largest request body accepted (larger: 413).
    #[arg(long, default_value_t = latent_serve::DEFAULT_MAX_BODY_BYTES, value_name = "N")]
    pub max_body_bytes: usize,
    /// Time allowed to send the request headers and body (408 past it) and to answer (503).
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub timeout_ms: u64,
    /// Where the model computes.
    #[command(flatten)]
    pub device: DeviceArg,
}
