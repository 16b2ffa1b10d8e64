//! `latent benchmark-compress`: rate-distortion of compression models on a set of images,
//! beside JPEG and WebP (Pillow, through `bench/compress_reference.py`) in the same run.
//!
//! For each model: bits per pixel counted from every byte of one `.lat` file per image
//! (`bpp_per_file`) and of the whole set in one `.lat` file (`bpp_one_file`), the mean PSNR
//! of the 8-bit images decoded from the one file, whether every quantised code came back
//! exactly (from both kinds of file), and compression / decompression speed in MB/s of raw
//! 8-bit pixels. BD-rates (library: `latent::codec::bd_rate`) against JPEG and WebP counting
//! every byte, and against JPEG's entropy-coded scan alone for the one-file rate.

use crate::anomaly_panel::reference_script;
use crate::data::{self, in_file};
use crate::options::DataArgs;
use crate::plots::rate_distortion::{rd_plot, Curve};
use crate::{exit::BadInput, transform};
use anyhow::{anyhow, Context, Result};
use clap::Args;
use latent::codec::{self, Codec, FileKind};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The reference script, relative to the repository root.
const SCRIPT: &str = "bench/compress_reference.py";

/// Arguments of `latent benchmark-compress`.
#[derive(Args, Debug)]
pub struct BenchmarkCompressArgs {
    /// Compression models (comma separated): `--preset compress` at several --lambda, or any
    /// model with an entropy model (`latent fit-codec`).
    #[arg(long, value_delimiter = ',', required = true, value_name = "M1,M2")]
    pub models: Vec<PathBuf>,
    /// The test images (greyscale or RGB; IDX, NPY or an image folder).
    #[command(flatten)]
    pub data: DataArgs,
    /// Use the first N images only (0: all).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,
    /// A Python with Pillow and numpy, to run bench/compress_reference.py (JPEG and WebP);
    /// without it only latent's models are measured.
    #[arg(long, value_name = "PY")]
    pub python: Option<PathBuf>,
    /// Output folder: results.json, rd.png and rd.svg.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `latent benchmark-compress`.
pub fn run(args: BenchmarkCompressArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let first = data::load_model(&args.models[0])?;
    let mut dataset = data::load(&args.data, Some(&first))?;
    let shape = dataset.frame.image_shape().ok_or_else(|| {
        BadInput(format!("{}: benchmark-compress needs images", args.data.data.display()))
    })?;
    if args.limit > 0 && args.limit < dataset.frame.rows() {
        dataset.frame = dataset.frame.slice_rows(0, args.limit);
    }
    let n = dataset.frame.rows();
    let values = transform::row_major(&dataset.frame)?;
    let originals: Vec<u8> = values.iter().map(|&v| to_u8(v)).collect();
    let pixels = shape.height * shape.width;
    let mut latent_rows = Vec::new();
    for path in &args.models {
        let row = measure(path, &dataset, &originals, pixels)?;
        eprintln!(
            "{}: {:.4} bpp per file, {:.4} bpp in one file, PSNR {:.2} dB, exact {}",
            path.display(),
            row["bpp_per_file"].as_f64().unwrap_or(f64::NAN),
            row["bpp_one_file"].as_f64().unwrap_or(f64::NAN),
            row["psnr"].as_f64().unwrap_or(f64::NAN),
            row["exact_round_trip"]
        );
        latent_rows.push(row);
    }
    let mut result = json!({ "images": n, "height": shape.height, "width": shape.width,
        "channels": shape.channels, "latent": latent_rows });
    if let Some(py) = &args.python {
        let idx = args.out.join("reference-images-idx3-ubyte");
        latent_data::write_idx_images(&idx, shape, n, &values)?;
        let reference = run_reference(py, &idx)?;
        for key in ["jpeg", "webp"] {
            result[key] = reference[key].clone();
        }
    }
    summarise(&mut result);
    let text = serde_json::to_string_pretty(&result)?;
    latent::artifact::write_atomic(&args.out.join("results.json"), text.as_bytes())?;
    let curves: Vec<Curve> = [
        ("latent (file per image)", "latent", "bpp_per_file"),
        ("latent (one file)", "latent", "bpp_one_file"),
        ("JPEG (every byte)", "jpeg", "bpp"),
        ("JPEG (scan only)", "jpeg", "bpp_scan"),
        ("WebP", "webp", "bpp"),
    ]
    .iter()
    .map(|&(name, key, rate)| (name.to_string(), points(&result[key], rate)))
    .filter(|c| !c.1.is_empty())
    .collect();
    let note = format!("Mean PSNR against bits per pixel on {n} images.");
    crate::plots::write_all(&[rd_plot(curves, note)?], &args.out)?;
    println!("{}", serde_json::to_string_pretty(&result["summary"])?);
    eprintln!("wrote {}", args.out.join("results.json").display());
    Ok(())
}

/// A [0, 1] value as the 8-bit pixel written for it.
fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// One model's rates, PSNR, exactness and speeds.
fn measure(
    path: &Path,
    dataset: &latent_data::Dataset,
    originals: &[u8],
    pixels: usize,
) -> Result<Value> {
    let model = data::load_model(path)?;
    let codec = Codec::new(&model)?;
    let n = dataset.frame.rows();
    let start = Instant::now();
    let codes = model.encode(&dataset.frame).with_context(|| in_file(dataset))?;
    let levels = codec.quantise(&codes.data).with_context(|| in_file(dataset))?;
    let one_file = codec::write(&codec, FileKind::Idx, &levels, usize::MAX)?;
    let compress_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let (_, back) = codec::read(Path::new("set.lat"), &one_file, &codec)?;
    let decoded = model.decode(&codec.dequantise(&back))?;
    let frame = model.preprocessor().inverse(&decoded.data)?;
    let values = transform::row_major(&frame)?;
    let decompress_s = start.elapsed().as_secs_f64();
    let mut exact = back == levels;
    let mut per_file = 0usize;
    for row in levels.chunks(codec.width().max(1)) {
        let bytes = codec::write(&codec, FileKind::Idx, row, 1)?;
        per_file += bytes.len();
        exact &= codec::read(Path::new("image.lat"), &bytes, &codec)?.1 == row;
    }
    let per_image = originals.len() / n.max(1);
    let decoded: Vec<u8> = values.iter().map(|&v| to_u8(v)).collect();
    let psnr = originals
        .chunks(per_image.max(1))
        .zip(decoded.chunks(per_image.max(1)))
        .map(|(a, b)| codec::psnr(a, b))
        .sum::<f64>()
        / n.max(1) as f64;
    let bpp = |bytes: usize| 8.0 * bytes as f64 / (n * pixels).max(1) as f64;
    let mb = originals.len() as f64 / 1e6;
    Ok(json!({
        "model": path.display().to_string(),
        "lambda": model.manifest().config.objective.lambda,
        "bpp_per_file": bpp(per_file),
        "bpp_one_file": bpp(one_file.len()),
        "psnr": psnr,
        "exact_round_trip": exact,
        "compress_mb_s": mb / compress_s.max(1e-9),
        "decompress_mb_s": mb / decompress_s.max(1e-9),
    }))
}

/// Runs the reference script on an IDX file; its JSON.
fn run_reference(python: &Path, idx: &Path) -> Result<Value> {
    let script = reference_script(SCRIPT).ok_or_else(|| {
        anyhow!("{SCRIPT} not found: run benchmark-compress from the repository root")
    })?;
    let out = Command::new(python)
        .arg(&script)
        .arg("--images")
        .arg(idx)
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        return Err(anyhow!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).context("the reference script did not print JSON")
}

/// `(rate, psnr)` points of a list of rows.
fn points(rows: &Value, rate: &str) -> Vec<(f64, f64)> {
    rows.as_array()
        .map(|rows| {
            rows.iter().filter_map(|r| Some((r[rate].as_f64()?, r["psnr"].as_f64()?))).collect()
        })
        .unwrap_or_default()
}

/// Adds `summary`: BD-rates, and each model's one-file rate over JPEG's scan rate at the same
/// PSNR.
fn summarise(result: &mut Value) {
    let latent_file = points(&result["latent"], "bpp_per_file");
    let latent_one = points(&result["latent"], "bpp_one_file");
    let jpeg = points(&result["jpeg"], "bpp");
    let scan = points(&result["jpeg"], "bpp_scan");
    let webp = points(&result["webp"], "bpp");
    let ratios: Vec<Value> = latent_one
        .iter()
        .map(|&(bpp, psnr)| {
            let jpeg_scan = codec::rate_at(&scan, psnr);
            json!({ "bpp_one_file": bpp, "psnr": psnr, "jpeg_scan_bpp": jpeg_scan,
                "ratio": jpeg_scan.map(|s| bpp / s) })
        })
        .collect();
    result["summary"] = json!({
        "bd_rate_vs_jpeg_percent": codec::bd_rate(&jpeg, &latent_file),
        "bd_rate_vs_webp_percent": codec::bd_rate(&webp, &latent_file),
        "bd_rate_one_file_vs_jpeg_scan_percent": codec::bd_rate(&scan, &latent_one),
        "vs_jpeg_scan_at_equal_psnr": ratios,
    });
}
