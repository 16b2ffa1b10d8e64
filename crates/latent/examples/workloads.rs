//! The latent side of the reference workloads of DESIGN.md §4 (see `scripts/bench.sh` and
//! BENCHMARKS.md; `bench/pytorch_workloads.py` is the PyTorch side).
//!
//! ```text
//! workloads <w1|w2|w3|tiny> [--data random|mnist] [--mnist-dir DIR] [--epochs N] [--reps N]
//!           [--threads N] [--rows N]
//! ```
//!
//! Prints one JSON line: `{"workload":"w1","impl":"latent","samples_per_s":…,"peak_rss_mb":…}`.
//!
//! - `w1`: dense AE 784-512-128-32-128-512-784 training (ReLU, sigmoid output, MSE, Adam 1e-3,
//!   batch 256) on 60,000 rows; samples/s = rows / median epoch time over the epochs after the
//!   first (warm-up).
//! - `w2`: the same model's inference (`Model::reconstruct_inputs`, chunks of 1,024 rows) over
//!   60,000 rows; median of `--reps` passes.
//! - `w3`: conv AE training on 1x28x28 (Conv 1->32 3x3 s2 p1 + ReLU, Conv 32->64 3x3 s2 p1 +
//!   ReLU, ConvT 64->32 + ReLU, ConvT 32->1 + sigmoid; fully convolutional, MSE, Adam 1e-3,
//!   batch 128) on 60,000 rows (`--rows` fewer for a shorter run); samples/s like `w1`.
//! - `tiny`: 30-16-8-16-30 AE training (ReLU, identity output, MSE, batch 256) on 200,000
//!   standard-normal rows; samples/s like `w1`.
//!
//! Data is uniform [0, 1) from a seeded RNG (`--data random`, the default) or the MNIST training
//! images (`--data mnist`, from `--mnist-dir` or `$MNIST_DIR`, `train-images-idx3-ubyte.gz`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use latent::config::{
    Architecture, FitConfig, Loss, ModelConfig, PreprocessConfig, Scaling, TrainConfig,
};
use latent::engine::{Activation, AdamConfig};
use latent::frame::{Column, Frame, ImageShape};
use latent::{train::Silent, Model};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const MNIST_ROWS: usize = 60_000;
const MNIST_WIDTH: usize = 784;
const SEED: u64 = 42;

struct Args {
    workload: String,
    data: String,
    mnist_dir: Option<PathBuf>,
    epochs: usize,
    reps: usize,
    threads: usize,
    rows: Option<usize>,
}

fn usage() -> String {
    "usage: workloads <w1|w2|w3|tiny> [--data random|mnist] [--mnist-dir DIR] [--epochs N] \
     [--reps N] [--threads N] [--rows N]"
        .to_string()
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let workload = it.next().ok_or_else(usage)?;
    if !matches!(workload.as_str(), "w1" | "w2" | "w3" | "tiny") {
        return Err(format!("unknown workload {workload:?}\n{}", usage()));
    }
    let mut args = Args {
        workload,
        data: "random".into(),
        mnist_dir: std::env::var_os("MNIST_DIR").map(PathBuf::from),
        epochs: 3,
        reps: 5,
        threads: 2,
        rows: None,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--data" => args.data = value.clone(),
            "--mnist-dir" => args.mnist_dir = Some(PathBuf::from(&value)),
            "--epochs" => args.epochs = number()?.max(1),
            "--reps" => args.reps = number()?.max(1),
            "--threads" => args.threads = number()?.max(1),
            "--rows" => args.rows = Some(number()?.max(1)),
            _ => return Err(format!("unknown option {flag}\n{}", usage())),
        }
    }
    if !matches!(args.data.as_str(), "random" | "mnist") {
        return Err(format!("--data must be random or mnist, got {:?}", args.data));
    }
    Ok(args)
}

/// Peak resident set size of this process in MiB (`VmHWM`).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The MNIST training images as bytes, row-major `rows x 784`.
fn mnist_bytes(dir: Option<&PathBuf>) -> Result<Vec<u8>, String> {
    let dir = dir.ok_or("--data mnist needs --mnist-dir DIR or $MNIST_DIR")?;
    let path = dir.join("train-images-idx3-ubyte.gz");
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut raw)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let word = |i: usize| -> Result<usize, String> {
        let b = raw.get(4 * i..4 * i + 4).ok_or("truncated IDX header")?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if word(0)? != 0x0803 {
        return Err(format!("{}: not an IDX3 u8 file", path.display()));
    }
    let (n, h, w) = (word(1)?, word(2)?, word(3)?);
    if h * w != MNIST_WIDTH || raw.len() < 16 + n * h * w {
        return Err(format!("{}: unexpected shape {n}x{h}x{w}", path.display()));
    }
    raw.drain(..16);
    raw.truncate(n * h * w);
    Ok(raw)
}

/// `rows x width` values, row-major: MNIST pixels / 255 or uniform [0, 1).
fn uniform_or_mnist(args: &Args, rows: usize, width: usize) -> Result<Vec<f32>, String> {
    if args.data == "mnist" {
        let bytes = mnist_bytes(args.mnist_dir.as_ref())?;
        let have = bytes.len() / width;
        // Repeat the images when more rows are asked for than the file holds.
        return Ok((0..rows * width)
            .map(|i| f32::from(bytes[i % (have * width)]) / 255.0)
            .collect());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    Ok((0..rows * width).map(|_| rng.random::<f32>()).collect())
}

/// A frame built column by column from row-major values, so that only one extra copy of the
/// data is alive while it is built.
fn frame_of(values: Vec<f32>, width: usize) -> Frame {
    let rows = values.len() / width;
    let names = Frame::default_names("f", width);
    let mut columns: Vec<Vec<f32>> = (0..width).map(|_| Vec::with_capacity(rows)).collect();
    for row in values.chunks_exact(width) {
        for (c, &v) in columns.iter_mut().zip(row) {
            c.push(v);
        }
    }
    drop(values);
    let columns = names.into_iter().zip(columns).map(|(n, v)| Column::numeric(n, v)).collect();
    Frame::new(columns).unwrap_or_else(|e| fail(&format!("building the frame: {e}")))
}

fn fail(message: &str) -> ! {
    eprintln!("workloads: {message}");
    std::process::exit(2)
}

fn config(hidden: Vec<usize>, latent: usize, output: Activation, epochs: usize) -> FitConfig {
    FitConfig {
        model: ModelConfig {
            hidden: Some(hidden),
            latent: Some(latent),
            activation: Activation::Relu,
            output: Some(output),
            loss: Loss::Mse,
            ..ModelConfig::default()
        },
        preprocess: PreprocessConfig { scaling: Scaling::None, ..PreprocessConfig::default() },
        train: TrainConfig {
            epochs,
            batch_size: 256,
            val_split: 0.0,
            optimizer: AdamConfig { lr: 1e-3, ..AdamConfig::default() },
            ..TrainConfig::default()
        },
        ..FitConfig::default()
    }
}

/// Trains and returns (samples/s, per-epoch seconds, final training loss).
fn train_rate(frame: &Frame, cfg: &FitConfig) -> (f64, Vec<f64>, f64) {
    let model = Model::fit(frame, cfg, &mut Silent)
        .unwrap_or_else(|e| fail(&format!("training failed: {e}")));
    let summary = model.summary().unwrap_or_else(|| fail("no training summary"));
    let seconds: Vec<f64> = summary.history.iter().map(|e| e.seconds).collect();
    let timed = if seconds.len() > 1 { &seconds[1..] } else { &seconds[..] };
    let rate = summary.train_rows as f64 / median(timed);
    let loss = summary.last().map_or(f64::NAN, |e| e.train_loss);
    (rate, seconds, loss)
}

/// Trains and records the rate, epoch times, final loss, rows and data kind in `out`.
fn report_training(out: &mut serde_json::Value, frame: &Frame, cfg: &FitConfig, data: &str) {
    let (rate, seconds, loss) = train_rate(frame, cfg);
    out["samples_per_s"] = round(rate).into();
    out["epoch_seconds"] = seconds.into_iter().map(round).collect::<Vec<_>>().into();
    out["final_loss"] = loss.into();
    out["rows"] = frame.rows().into();
    out["data"] = data.into();
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()
        .map_err(|e| format!("thread pool: {e}"))?;
    let mut out = serde_json::json!({
        "workload": args.workload,
        "impl": "latent",
        "threads": args.threads,
    });
    match args.workload.as_str() {
        "w1" => {
            let rows = args.rows.unwrap_or(MNIST_ROWS);
            let frame = frame_of(uniform_or_mnist(args, rows, MNIST_WIDTH)?, MNIST_WIDTH);
            let cfg = config(vec![512, 128], 32, Activation::Sigmoid, args.epochs);
            report_training(&mut out, &frame, &cfg, &args.data);
        }
        "w2" => {
            let rows = args.rows.unwrap_or(MNIST_ROWS);
            let x = uniform_or_mnist(args, rows, MNIST_WIDTH)?;
            // Weights from one short epoch on 2,048 rows (their values do not change the speed).
            let small = frame_of(x[..2048.min(rows) * MNIST_WIDTH].to_vec(), MNIST_WIDTH);
            let cfg = config(vec![512, 128], 32, Activation::Sigmoid, 1);
            let model = Model::fit(&small, &cfg, &mut Silent)
                .map_err(|e| format!("training failed: {e}"))?;
            drop(small);
            let mut seconds = Vec::with_capacity(args.reps);
            let mut checksum = 0.0f64;
            for _ in 0..args.reps {
                let start = Instant::now();
                let r =
                    model.reconstruct_inputs(&x).map_err(|e| format!("inference failed: {e}"))?;
                seconds.push(start.elapsed().as_secs_f64());
                checksum += f64::from(r.data[r.data.len() / 2]);
            }
            out["samples_per_s"] = round(rows as f64 / median(&seconds)).into();
            out["pass_seconds"] = seconds.into_iter().map(round).collect::<Vec<_>>().into();
            out["checksum"] = checksum.into();
            out["rows"] = rows.into();
            out["data"] = args.data.clone().into();
        }
        "w3" => {
            let rows = args.rows.unwrap_or(MNIST_ROWS);
            let image = ImageShape { channels: 1, height: 28, width: 28 };
            let frame = frame_of(uniform_or_mnist(args, rows, MNIST_WIDTH)?, MNIST_WIDTH)
                .with_image_shape(image)
                .map_err(|e| format!("image frame: {e}"))?;
            let mut cfg = config(vec![], 1, Activation::Sigmoid, args.epochs);
            cfg.model.architecture = Architecture::Conv {
                channels: vec![32, 64],
                kernel: 3,
                stride: 2,
                dense_code: false,
            };
            cfg.model.latent = None;
            cfg.train.batch_size = 128;
            report_training(&mut out, &frame, &cfg, &args.data);
        }
        "tiny" => {
            let rows = args.rows.unwrap_or(200_000);
            let width = 30;
            let mut rng = ChaCha8Rng::seed_from_u64(SEED);
            let values: Vec<f32> =
                (0..rows * width).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
            let frame = frame_of(values, width);
            let cfg = config(vec![16], 8, Activation::Identity, args.epochs);
            report_training(&mut out, &frame, &cfg, "normal");
        }
        other => return Err(format!("unknown workload {other:?}")),
    }
    out["peak_rss_mb"] = round(peak_rss_mb()).into();
    Ok(out)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("workloads: {e}");
            ExitCode::FAILURE
        }
    }
}
