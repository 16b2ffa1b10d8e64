//! Compression through the real binary: `fit-codec`, `compress`, `decompress`; exact round
//! trip of the quantised code (tables and images), a golden bitstream, and broken files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p, repo, stderr};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// SHA-256 of `golden.lat`: `tests/data/codec/input.csv` compressed with
/// `tests/data/codec/model.safetensors` in blocks of 16 rows. A change here is a change of
/// the bitstream: bump `latent::codec::FORMAT_VERSION` rather than updating the checksum.
const GOLDEN_SHA256: &str = "6c28ffc1efb0ff79637d5c70f24b36a638f57fe47ab0bdc05ba1bc8c6c8a9535";

fn fixtures() -> PathBuf {
    repo().join("crates/latent-cli/tests/data/codec")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The rows of a CSV file as numbers, keeping the columns whose names start with `prefix`.
fn numeric_columns(path: &Path, prefix: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len()).filter(|&i| header[i].starts_with(prefix)).collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i].parse::<f64>().unwrap()).collect()
        })
        .collect()
}

/// `latent encode` output quantised as the codec does (`round(z / step)` in f32).
fn quantised_codes(model: &Path, data: &str, step: f32, dir: &Path) -> Vec<Vec<f64>> {
    let codes = dir.join("codes.csv");
    ok(latent(&["encode", "--model", p(model), "--data", data, "--out", p(&codes)]));
    numeric_columns(&codes, "z")
        .into_iter()
        .map(|r| r.into_iter().map(|z| f64::from((z as f32 / step).round())).collect())
        .collect()
}

fn decoded_codes(model: &Path, lat: &Path, dir: &Path) -> Vec<Vec<f64>> {
    let out = dir.join("decoded-codes.csv");
    ok(latent(&["decompress", "--model", p(model), "--data", p(lat), "--codes", "--out", p(&out)]));
    numeric_columns(&out, "q")
}

#[test]
fn a_table_round_trips_to_exactly_the_quantised_code() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.safetensors");
    ok(latent(&[
        "train",
        "--data",
        &digits(),
        "--label-column",
        "label",
        "--latent",
        "8",
        "--epochs",
        "6",
        "--quant-step",
        "0.1",
        "--quiet",
        "--out",
        p(&model),
    ]));
    let lat = dir.path().join("d.lat");
    let o = ok(latent(&["compress", "--model", p(&model), "--data", &digits(), "--out", p(&lat)]));
    assert!(stderr(&o).contains("compressed 1797 rows"), "{}", stderr(&o));
    let expected = quantised_codes(&model, &digits(), 0.1, dir.path());
    assert_eq!(expected.len(), 1797);
    assert_eq!(decoded_codes(&model, &lat, dir.path()), expected);
    // The data back, in the original columns.
    let back = dir.path().join("back.csv");
    ok(latent(&["decompress", "--model", p(&model), "--data", p(&lat), "--out", p(&back)]));
    let rows = numeric_columns(&back, "p");
    assert_eq!((rows.len(), rows[0].len()), (1797, 64));
    // Smaller than the text it came from, by far.
    let size = std::fs::metadata(&lat).unwrap().len();
    assert!(size < 20_000, "{size} bytes");
}

#[test]
fn images_round_trip_through_a_conv_model() {
    let dir = tempfile::tempdir().unwrap();
    let idx = digits_idx(dir.path());
    let model = dir.path().join("conv.safetensors");
    ok(latent(&[
        "train",
        "--data",
        p(&idx),
        "--preset",
        "conv",
        "--channels",
        "4,8",
        "--latent",
        "8",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        p(&model),
    ]));
    let fitted = dir.path().join("conv-codec.safetensors");
    let o = ok(latent(&[
        "fit-codec",
        "--model",
        p(&model),
        "--data",
        p(&idx),
        "--quant-step",
        "0.05",
        "--out",
        p(&fitted),
    ]));
    assert!(stderr(&o).contains("bits per row"), "{}", stderr(&o));
    let lat = dir.path().join("images.lat");
    ok(latent(&[
        "compress",
        "--model",
        p(&fitted),
        "--data",
        p(&idx),
        "--out",
        p(&lat),
        "--block-rows",
        "1",
    ]));
    let expected = quantised_codes(&fitted, p(&idx), 0.05, dir.path());
    assert_eq!(decoded_codes(&fitted, &lat, dir.path()), expected);
    let back = dir.path().join("back-idx3-ubyte");
    ok(latent(&["decompress", "--model", p(&fitted), "--data", p(&lat), "--out", p(&back)]));
    assert_eq!(std::fs::metadata(&back).unwrap().len(), 16 + 200 * 64);
    let folder = dir.path().join("pngs");
    ok(latent(&["decompress", "--model", p(&fitted), "--data", p(&lat), "--out", p(&folder)]));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 200);
    // The model without the entropy model cannot compress, and says how to fit one.
    let o = latent(&["compress", "--model", p(&model), "--data", p(&idx), "--out", p(&lat)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("fit-codec"), "{}", stderr(&o));
}

/// The digits as an IDX image file (8x8, values in [0, 1]), 200 images.
fn digits_idx(dir: &Path) -> PathBuf {
    let opts =
        latent_data::LoadOptions { label_column: Some("label".into()), ..Default::default() };
    let data = latent_data::load(Path::new(&digits()), &opts).unwrap();
    let values: Vec<f32> = data.frame.to_row_major().unwrap().iter().map(|v| v / 16.0).collect();
    let path = dir.join("digits-images-idx3-ubyte");
    let shape = latent::ImageShape { channels: 1, height: 8, width: 8 };
    latent_data::write_idx_images(&path, shape, 200, &values[..200 * 64]).unwrap();
    path
}

#[test]
fn golden_bitstream() {
    let dir = tempfile::tempdir().unwrap();
    let (model, input) = (fixtures().join("model.safetensors"), fixtures().join("input.csv"));
    let lat = dir.path().join("golden.lat");
    ok(latent(&[
        "compress",
        "--model",
        p(&model),
        "--data",
        p(&input),
        "--out",
        p(&lat),
        "--block-rows",
        "16",
    ]));
    let bytes = std::fs::read(&lat).unwrap();
    assert_eq!(bytes, std::fs::read(fixtures().join("golden.lat")).unwrap());
    assert_eq!(sha256_hex(&bytes), GOLDEN_SHA256);
    // The committed file decodes to the committed codes (integers only: any machine).
    let expected = numeric_columns(&fixtures().join("golden-codes.csv"), "q");
    assert_eq!(decoded_codes(&model, &fixtures().join("golden.lat"), dir.path()), expected);
    assert_eq!(expected.len(), 40);
}

#[test]
fn broken_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("model.safetensors");
    let golden = std::fs::read(fixtures().join("golden.lat")).unwrap();
    let out = dir.path().join("out.csv");
    let run = |bytes: &[u8], model: &Path| {
        let lat = dir.path().join("broken.lat");
        std::fs::write(&lat, bytes).unwrap();
        let o = latent(&["decompress", "--model", p(model), "--data", p(&lat), "--out", p(&out)]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("broken.lat"), "{err}");
        err
    };
    assert!(run(&golden[..golden.len() - 3], &model).contains("truncated"));
    assert!(run(&golden[..10], &model).contains("truncated"));
    assert!(run(b"", &model).contains("not a latent compressed file"));
    assert!(run(b"PNG\x0d\x0a", &model).contains("not a latent compressed file"));
    let mut v = golden.clone();
    v[3] = 2;
    assert!(run(&v, &model).contains("version 2 is not supported"));
    let mut v = golden.clone();
    let last = v.len() - 2;
    v[last] ^= 0x10;
    assert!(run(&v, &model).contains("corrupt"));
    // Every single-byte corruption is caught.
    for i in 0..golden.len() {
        let mut v = golden.clone();
        v[i] ^= 0x41;
        run(&v, &model);
    }
    // Another model (the same weights with another entropy model): refused by fingerprint.
    let other = dir.path().join("other.safetensors");
    ok(latent(&[
        "fit-codec",
        "--model",
        p(&model),
        "--data",
        p(&fixtures().join("input.csv")),
        "--quant-step",
        "0.2",
        "--out",
        p(&other),
    ]));
    assert!(run(&golden, &other).contains("another model"));
    // A missing .lat file.
    let o =
        latent(&["decompress", "--model", p(&model), "--data", "no-such.lat", "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2));
    // Bad flags.
    let o = latent(&[
        "fit-codec",
        "--model",
        p(&model),
        "--data",
        p(&fixtures().join("input.csv")),
        "--quant-step",
        "0",
        "--out",
        p(&other),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("step"));
}

#[test]
fn train_refuses_a_bad_quant_step_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.safetensors");
    for step in ["0", "-0.1", "nan"] {
        let o = latent(&[
            "train",
            "--data",
            &digits(),
            "--label-column",
            "label",
            &format!("--quant-step={step}"),
            "--out",
            p(&out),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--quant-step"), "{}", stderr(&o));
        assert!(!out.exists());
    }
}

/// SHA-256 of `compress-golden.lat`: `tests/data/codec/compress-input-idx3-ubyte` (16 digits,
/// 8x8) compressed with `compress-model.safetensors` (`--preset compress --channels 4,4
/// --kernel 3 --epochs 2`, seed 42: its learned density's integer tables are in the file) in
/// blocks of 4 images. A change here is a change of the bitstream.
const COMPRESS_GOLDEN_SHA256: &str =
    "e21fbc85a412b3d8d81eeb8472c4d5ca7a4d44ebcc2f30dc9567fb545801265e";

fn train_compress(idx: &Path, out: &Path, lambda: &str) {
    train_compress_with(idx, out, lambda, &[]);
}

fn train_compress_with(idx: &Path, out: &Path, lambda: &str, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--data",
        p(idx),
        "--preset",
        "compress",
        "--channels",
        "8,4",
        "--kernel",
        "3",
        "--lambda",
        lambda,
        "--epochs",
        "3",
        "--quiet",
        "--out",
        p(out),
    ];
    args.extend_from_slice(extra);
    ok(latent(&args));
}

/// A fully convolutional model stores fewer weights than its image has pixels (here 1x1
/// kernels): it still saves, loads and compresses.
#[test]
fn a_model_with_fewer_weights_than_pixels_loads() {
    let dir = tempfile::tempdir().unwrap();
    let idx = digits_idx(dir.path());
    let model = dir.path().join("small.safetensors");
    let args = ["--preset", "compress", "--channels", "2,1", "--kernel", "1", "--epochs", "1"];
    ok(latent(&[&["train", "--data", p(&idx), "--quiet", "--out", p(&model)], &args[..]].concat()));
    let info = common::stdout(&ok(latent(&["info", "--model", p(&model), "--format", "json"])));
    let params: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert!(params["parameters"].as_u64().unwrap() < 64, "{info}");
    let lat = dir.path().join("s.lat");
    ok(latent(&["compress", "--model", p(&model), "--data", p(&idx), "--out", p(&lat)]));
}

/// `--conv-norm gdn`: GDN / IGDN between the convolutions; the code still round-trips exactly,
/// `info` names the normalisation, and a dense model refuses it before training.
#[test]
fn gdn_compression_model_round_trips_and_dense_models_refuse_gdn() {
    let dir = tempfile::tempdir().unwrap();
    let idx = digits_idx(dir.path());
    let model = dir.path().join("g.safetensors");
    train_compress_with(&idx, &model, "0.01", &["--conv-norm", "gdn"]);
    let info = common::stdout(&ok(latent(&["info", "--model", p(&model)])));
    assert!(info.contains("GDN / IGDN hidden"), "{info}");
    let lat = dir.path().join("g.lat");
    ok(latent(&["compress", "--model", p(&model), "--data", p(&idx), "--out", p(&lat)]));
    let expected = quantised_codes(&model, p(&idx), 1.0, dir.path());
    assert_eq!(decoded_codes(&model, &lat, dir.path()), expected);
    let out = dir.path().join("dense.safetensors");
    let o = latent(&["train", "--data", &digits(), "--conv-norm", "gdn", "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("GDN normalises convolution feature maps"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn compress_preset_round_trips_exactly_and_refuses_other_models() {
    let dir = tempfile::tempdir().unwrap();
    let idx = digits_idx(dir.path());
    let model = dir.path().join("c.safetensors");
    train_compress(&idx, &model, "0.01");
    let lat = dir.path().join("images.lat");
    let o = ok(latent(&[
        "compress",
        "--model",
        p(&model),
        "--data",
        p(&idx),
        "--out",
        p(&lat),
        "--block-rows",
        "1",
    ]));
    assert!(stderr(&o).contains("compressed 200 rows"), "{}", stderr(&o));
    // Step 1: the code is round(y).
    let expected = quantised_codes(&model, p(&idx), 1.0, dir.path());
    assert_eq!(expected[0].len(), 2 * 2 * 4);
    assert_eq!(decoded_codes(&model, &lat, dir.path()), expected);
    let back = dir.path().join("back-idx3-ubyte");
    ok(latent(&["decompress", "--model", p(&model), "--data", p(&lat), "--out", p(&back)]));
    assert_eq!(std::fs::metadata(&back).unwrap().len(), 16 + 200 * 64);
    // Another compression model, a truncated file: clear errors, exit 2.
    let other = dir.path().join("other.safetensors");
    train_compress(&idx, &other, "0.05");
    let out = dir.path().join("out-idx3-ubyte");
    let o = latent(&["decompress", "--model", p(&other), "--data", p(&lat), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("another model"), "{}", stderr(&o));
    let bytes = std::fs::read(&lat).unwrap();
    let cut = dir.path().join("cut.lat");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = latent(&["decompress", "--model", p(&model), "--data", p(&cut), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    // --lambda belongs to --preset compress (and ease), and must be positive.
    for (preset, lambda) in [("conv", "0.01"), ("compress", "0"), ("compress", "0.1,0.2")] {
        let o = latent(&[
            "train",
            "--data",
            p(&idx),
            "--preset",
            preset,
            "--lambda",
            lambda,
            "--out",
            p(&out),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("lambda"), "{}", stderr(&o));
    }
}

#[test]
fn compress_golden_bitstream() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("compress-model.safetensors");
    let input = fixtures().join("compress-input-idx3-ubyte");
    let lat = dir.path().join("golden.lat");
    let args = ["compress", "--model", p(&model), "--data", p(&input), "--out", p(&lat)];
    ok(latent(&[&args[..], &["--block-rows", "4"]].concat()));
    let bytes = std::fs::read(&lat).unwrap();
    assert_eq!(sha256_hex(&bytes), COMPRESS_GOLDEN_SHA256);
    let expected = quantised_codes(&model, p(&input), 1.0, dir.path());
    assert_eq!(decoded_codes(&model, &lat, dir.path()), expected);
}

/// A compression model's learned tables are not replaced by fitted ones.
#[test]
fn fit_codec_refuses_a_compression_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("compress-model.safetensors");
    let data = fixtures().join("compress-input-idx3-ubyte");
    let out = dir.path().join("refit.safetensors");
    let o = latent(&[
        "fit-codec",
        "--model",
        p(&model),
        "--data",
        p(&data),
        "--quant-step",
        "0.5",
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("learns in training"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn train_compress_preset_refuses_quant_step_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixtures().join("compress-input-idx3-ubyte");
    let out = dir.path().join("m.safetensors");
    let o = latent(&[
        "train",
        "--data",
        p(&data),
        "--preset",
        "compress",
        "--quant-step",
        "0.5",
        "--epochs",
        "500",
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("learns in training"), "{err}");
    assert!(err.contains("hint: leave out --quant-step"), "{err}");
    // Refused up front: no epoch was run.
    assert!(!err.contains("epoch"), "{err}");
    assert!(!out.exists());
}

#[test]
fn benchmark_compress_reports_psnr_and_ms_ssim() {
    let dir = tempfile::tempdir().unwrap();
    let model = fixtures().join("compress-model.safetensors");
    let input = fixtures().join("compress-input-idx3-ubyte");
    let out = dir.path().join("rd");
    let o = latent(&[
        "benchmark-compress",
        "--models",
        p(&model),
        "--data",
        p(&input),
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("MS-SSIM"), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    let row = &json["latent"][0];
    let ssim = row["ms_ssim"].as_f64().unwrap();
    assert!(ssim > 0.0 && ssim <= 1.0, "{row}");
    assert!(row["psnr"].as_f64().unwrap() > 0.0);
    assert_eq!(row["exact_round_trip"], true);
}

/// `--preset compress --distortion ms-ssim` on 64 MNIST images (`../shared/data/mnist` when
/// present): trains, says so in `latent info`, round-trips the code exactly through
/// `benchmark-compress` (compress, decompress) and `decompress`; refused on a table and
/// outside `--preset compress`, exit 2.
#[test]
fn ms_ssim_compression_trains_and_round_trips_on_mnist() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = repo().join("../shared/data/mnist/train-images-idx3-ubyte.gz");
    // Bad input first (no MNIST needed): a table, and another preset.
    let out = dir.path().join("bad.safetensors");
    let digits = digits();
    let table = ["train", "--data", &digits, "--label-column", "label", "--preset", "compress"];
    let o = latent(&[&table[..], &["--distortion", "ms-ssim", "--out", p(&out)]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("MS-SSIM distortion needs image data"), "{}", stderr(&o));
    let dense = ["train", "--data", &digits, "--label-column", "label", "--preset", "dense"];
    let o = latent(&[&dense[..], &["--distortion", "ms-ssim", "--out", p(&out)]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--distortion applies to --preset compress"), "{}", stderr(&o));
    assert!(!out.exists());
    if !mnist.exists() {
        common::skip("ms_ssim_compression_trains_and_round_trips_on_mnist", "no MNIST");
        return;
    }
    let data = latent_data::load(&mnist, &latent_data::LoadOptions::default()).unwrap();
    let values = data.frame.to_row_major().unwrap();
    let idx = dir.path().join("mnist64-images-idx3-ubyte");
    let shape = latent::ImageShape { channels: 1, height: 28, width: 28 };
    latent_data::write_idx_images(&idx, shape, 64, &values[..64 * 784]).unwrap();
    let model = dir.path().join("ms.safetensors");
    let args = ["--preset", "compress", "--distortion", "ms-ssim", "--channels", "16,8"];
    let epochs = ["--kernel", "3", "--epochs", "3", "--batch-size", "16", "--quiet"];
    let train = ["train", "--data", p(&idx), "--out", p(&model)];
    ok(latent(&[&train[..], &args[..], &epochs[..]].concat()));
    let info = common::stdout(&ok(latent(&["info", "--model", p(&model)])));
    assert!(info.contains("λ·(1 − MS-SSIM), λ 100"), "{info}");
    let rd = dir.path().join("rd");
    ok(latent(&["benchmark-compress", "--models", p(&model), "--data", p(&idx), "--out", p(&rd)]));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rd.join("results.json")).unwrap()).unwrap();
    let row = &json["latent"][0];
    assert_eq!(row["distortion"], "ms_ssim", "{row}");
    assert_eq!(row["exact_round_trip"], true, "{row}");
    let ssim = row["ms_ssim"].as_f64().unwrap();
    assert!(ssim > 0.0 && ssim <= 1.0, "{row}");
    let lat = dir.path().join("images.lat");
    ok(latent(&["compress", "--model", p(&model), "--data", p(&idx), "--out", p(&lat)]));
    let expected = quantised_codes(&model, p(&idx), 1.0, dir.path());
    assert_eq!(decoded_codes(&model, &lat, dir.path()), expected);
    let back = dir.path().join("back-idx3-ubyte");
    ok(latent(&["decompress", "--model", p(&model), "--data", p(&lat), "--out", p(&back)]));
    assert_eq!(std::fs::metadata(&back).unwrap().len(), 16 + 64 * 784);
}
