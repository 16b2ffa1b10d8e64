//! `latent benchmark-compress`: rate-distortion of compression models on a set of images,
//! beside JPEG and WebP (Pillow, through `bench/compress_reference.py`) in the same run.
//!
//! For each model: bits per pixel counted from every byte of one `.lat` file per image
//! (`bpp_per_file`) and of the whole set in one `.lat` file (`bpp_one_file`), the mean PSNR
//! and MS-SSIM (`latent::codec::ms_ssim`, per image, averaged) of the 8-bit images decoded
//! from the one file, whether every quantised code came back
//! exactly (from both kinds of file), and compression / decompression speed in MB/s of raw
//! 8-bit pixels. BD-rates (library: `latent::codec::bd_rate`) against JPEG and WebP counting
//! every byte, and against JPEG's entropy-coded scan alone for the one-file rate. The
//! reference script writes the pixels JPEG and WebP decode to, and their MS-SSIM is computed
//! here with the same code as latent's.

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
    let mut latent_rows = Vec::new();
    for path in &args.models {
        let row = measure(path, &dataset, &originals, shape)?;
        eprintln!(
            "{}: {:.4} bpp per file, {:.4} bpp in one file, PSNR {:.2} dB, MS-SSIM {:.4}, \
             exact {}",
            path.display(),
            row["bpp_per_file"].as_f64().unwrap_or(f64::NAN),
            row["bpp_one_file"].as_f64().unwrap_or(f64::NAN),
            row["psnr"].as_f64().unwrap_or(f64::NAN),
            row["ms_ssim"].as_f64().unwrap_or(f64::NAN),
            row["exact_round_trip"]
        );
        latent_rows.push(row);
    }
    let mut result = json!({ "images": n, "height": shape.height, "width": shape.width,
        "channels": shape.channels, "latent": latent_rows });
    if let Some(py) = &args.python {
        let idx = args.out.join("reference-images-idx3-ubyte");
        latent_data::write_idx_images(&idx, shape, n, &values)?;
        let decoded_dir = args.out.join("reference-decoded");
        std::fs::create_dir_all(&decoded_dir)
            .with_context(|| format!("cannot create {}", decoded_dir.display()))?;
        let mut reference = run_reference(py, &idx, &decoded_dir)?;
        for key in ["jpeg", "webp"] {
            reference_ms_ssim(&mut reference[key], &originals, shape)?;
            result[key] = reference[key].clone();
        }
        let _ = std::fs::remove_dir(&decoded_dir);
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
    eprint!("{}", table(&result));
    println!("{}", serde_json::to_string_pretty(&result["summary"])?);
    eprintln!("wrote {}", args.out.join("results.json").display());
    Ok(())
}

/// A [0, 1] value as the 8-bit pixel written for it.
fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// The mean PSNR and MS-SSIM of decoded 8-bit images against the originals (both `n` images
/// of `shape`, planes one after the other).
fn quality(originals: &[u8], decoded: &[u8], shape: latent::ImageShape) -> Result<(f64, f64)> {
    let per_image = (shape.height * shape.width * shape.channels).max(1);
    let n = originals.len() / per_image;
    if decoded.len() != originals.len() {
        return Err(anyhow!("{} decoded values for {} pixels", decoded.len(), originals.len()));
    }
    let (mut psnr, mut ssim) = (0.0, 0.0);
    for (a, b) in originals.chunks(per_image).zip(decoded.chunks(per_image)) {
        psnr += codec::psnr(a, b);
        ssim += codec::ms_ssim(a, b, shape.height, shape.width, shape.channels)?;
    }
    Ok((psnr / n.max(1) as f64, ssim / n.max(1) as f64))
}

/// Adds `ms_ssim` to each reference row from the decoded pixels the script wrote (and removes
/// the file).
fn reference_ms_ssim(rows: &mut Value, originals: &[u8], shape: latent::ImageShape) -> Result<()> {
    let Some(rows) = rows.as_array_mut() else {
        return Ok(());
    };
    let grey = latent::ImageShape { channels: 1, ..shape };
    for row in rows {
        let Some(path) = row["decoded"].as_str().map(PathBuf::from) else {
            continue;
        };
        let decoded = std::fs::read(&path).with_context(|| path.display().to_string())?;
        let (_, ssim) =
            quality(originals, &decoded, grey).with_context(|| path.display().to_string())?;
        row["ms_ssim"] = json!(ssim);
        if let Some(map) = row.as_object_mut() {
            map.remove("decoded");
        }
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

/// The results as a text table: one line per latent model and reference quality.
fn table(result: &Value) -> String {
    let mut out =
        String::from("codec      setting     bpp/file  bpp(1 file|scan)  PSNR dB  MS-SSIM\n");
    let f = |v: &Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.4}"));
    for row in result["latent"].as_array().into_iter().flatten() {
        out += &format!(
            "latent     {:<10}  {:>8}  {:>16}  {:>7.2}  {:>7}\n",
            row["lambda"].as_f64().map_or("-".into(), |l| match row["distortion"].as_str() {
                Some("ms_ssim") => format!("λ {l:.4} ms-ssim"),
                _ => format!("λ {l:.4}"),
            }),
            f(&row["bpp_per_file"]),
            f(&row["bpp_one_file"]),
            row["psnr"].as_f64().unwrap_or(f64::NAN),
            f(&row["ms_ssim"])
        );
    }
    for key in ["jpeg", "webp"] {
        for row in result[key].as_array().into_iter().flatten() {
            out += &format!(
                "{key:<10} q {:<8}  {:>8}  {:>16}  {:>7.2}  {:>7}\n",
                row["quality"],
                f(&row["bpp"]),
                f(&row["bpp_scan"]),
                row["psnr"].as_f64().unwrap_or(f64::NAN),
                f(&row["ms_ssim"])
            );
        }
    }
    out
}

/// One model's rates, PSNR, MS-SSIM, exactness and speeds.
fn measure(
    path: &Path,
    dataset: &latent_data::Dataset,
    originals: &[u8],
    shape: latent::ImageShape,
) -> Result<Value> {
    let pixels = shape.height * shape.width;
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
    let decoded: Vec<u8> = values.iter().map(|&v| to_u8(v)).collect();
    let (psnr, ms_ssim) = quality(originals, &decoded, shape)?;
    let bpp = |bytes: usize| 8.0 * bytes as f64 / (n * pixels).max(1) as f64;
    let mb = originals.len() as f64 / 1e6;
    Ok(json!({
        "model": path.display().to_string(),
        "lambda": model.manifest().config.objective.lambda,
        "distortion": model.manifest().config.objective.distortion,
        "bpp_per_file": bpp(per_file),
        "bpp_one_file": bpp(one_file.len()),
        "psnr": psnr,
        "ms_ssim": ms_ssim,
        "exact_round_trip": exact,
        "compress_mb_s": mb / compress_s.max(1e-9),
        "decompress_mb_s": mb / decompress_s.max(1e-9),
    }))
}

/// Runs the reference script on an IDX file; its JSON.
fn run_reference(python: &Path, idx: &Path, decoded_dir: &Path) -> Result<Value> {
    let script = reference_script(SCRIPT).ok_or_else(|| {
        anyhow!("{SCRIPT} not found: run benchmark-compress from the repository root")
    })?;
    let out = Command::new(python)
        .arg(&script)
        .arg("--images")
        .arg(idx)
        .arg("--decoded-dir")
        .arg(decoded_dir)
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
