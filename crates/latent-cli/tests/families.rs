//! Every model family through the real binary: training, its own jobs (denoise, sample,
//! interpolate), its eval metrics, and invalid combinations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p};
use std::path::{Path, PathBuf};

/// The digits as an IDX image file (8x8, values scaled to [0, 1]), 600 rows.
fn digits_idx(dir: &Path) -> PathBuf {
    let opts =
        latent_data::LoadOptions { label_column: Some("label".into()), ..Default::default() };
    let data = latent_data::load(Path::new(&digits()), &opts).expect("digits");
    let values: Vec<f32> =
        data.frame.to_row_major().expect("numeric").iter().map(|v| v / 16.0).collect();
    let path = dir.join("digits-images-idx3-ubyte");
    let shape = latent::ImageShape { channels: 1, height: 8, width: 8 };
    latent_data::write_idx_images(&path, shape, 600, &values[..600 * 64]).expect("write idx");
    path
}

fn train(dir: &Path, data: &str, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "train",
        "--data",
        data,
        "--epochs",
        "6",
        "--batch-size",
        "32",
        "--quiet",
        "--out",
        p(&out),
    ];
    if data.ends_with(".csv") {
        args.extend(["--label-column", "label", "--scale", "minmax"]);
    }
    args.extend_from_slice(extra);
    ok(latent(&args));
    out
}

fn eval_json(model: &Path, data: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["eval", "--model", p(model), "--data", data, "--format", "json"];
    if data.ends_with(".csv") {
        args.extend(["--label-column", "label"]);
    }
    args.extend_from_slice(extra);
    serde_json::from_slice(&ok(latent(&args)).stdout).expect("json")
}

fn losses(dir: &Path) -> (f64, f64) {
    let log = std::fs::read_to_string(dir.join("m.metrics.jsonl")).expect("metrics");
    let v: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    (
        v[0]["train_loss"].as_f64().expect("loss"),
        v[v.len() - 1]["train_loss"].as_f64().expect("loss"),
    )
}

#[test]
fn every_preset_trains_and_its_loss_falls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let idx = digits_idx(dir.path());
    let cases: [(&str, String); 8] = [
        ("dense", digits()),
        ("fully-convolutional", p(&idx).to_string()),
        ("denoising", digits()),
        ("sparse", digits()),
        ("vae", digits()),
        ("beta-vae", digits()),
        ("conv", p(&idx).to_string()),
        ("conv-vae", p(&idx).to_string()),
    ];
    for (preset, data) in cases {
        let sub = dir.path().join(preset);
        std::fs::create_dir_all(&sub).expect("dir");
        let extra: Vec<&str> = match preset {
            "conv" | "conv-vae" => vec!["--preset", preset, "--channels", "8,16", "--latent", "8"],
            "fully-convolutional" => {
                vec!["--preset", "conv", "--channels", "8,4", "--fully-convolutional"]
            }
            _ => vec!["--preset", preset, "--hidden", "32", "--latent", "8"],
        };
        train(&sub, &data, "m.safetensors", &extra);
        let (first, last) = losses(&sub);
        assert!(last < first, "{preset}: loss {first} -> {last}");
    }
}

#[test]
fn sparse_eval_reports_code_activation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = train(
        dir.path(),
        &digits(),
        "s.safetensors",
        &["--preset", "sparse", "--hidden", "32", "--latent", "16", "--epochs", "20"],
    );
    let v = eval_json(&m, &digits(), &[]);
    let mean = v["code_mean_activation"].as_f64().expect("code_mean_activation");
    assert!(mean < 0.2, "mean activation {mean}");
    assert!(v["code_near_zero_share"].as_f64().is_some());
}

#[test]
fn vae_eval_sample_and_interpolate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let idx = digits_idx(dir.path());
    let m = train(
        dir.path(),
        p(&idx),
        "v.safetensors",
        &["--preset", "vae", "--hidden", "32", "--latent", "4", "--binarize"],
    );
    let v = eval_json(&m, p(&idx), &["--iw-samples", "20"]);
    let (elbo, nll) = (v["elbo"].as_f64().expect("elbo"), v["nll"].as_f64().expect("nll"));
    assert!(elbo < 0.0 && nll > 0.0, "elbo {elbo} nll {nll}");
    assert!(nll <= -elbo + 1e-6, "IWAE bound {nll} looser than the ELBO {elbo}");
    let grid = dir.path().join("grid.png");
    ok(latent(&["sample", "--model", p(&m), "--n", "16", "--out", p(&grid)]));
    let img = image::open(&grid).expect("png");
    assert!(img.width() >= 4 * 8 && img.height() >= 4 * 8);
    let csv = dir.path().join("samples.csv");
    ok(latent(&["sample", "--model", p(&m), "--n", "5", "--out", p(&csv)]));
    assert_eq!(std::fs::read_to_string(&csv).expect("csv").lines().count(), 6);
    let strip = dir.path().join("interp.png");
    ok(latent(&[
        "interpolate",
        "--model",
        p(&m),
        "--data",
        p(&idx),
        "--from",
        "0",
        "--to",
        "5",
        "--steps",
        "7",
        "--out",
        p(&strip),
    ]));
    assert!(image::open(&strip).expect("png").width() >= 7 * 8);
}

#[test]
fn denoise_writes_the_kind_of_file_it_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let idx = digits_idx(dir.path());
    let m = train(
        dir.path(),
        p(&idx),
        "d.safetensors",
        &["--preset", "denoising", "--hidden", "32", "--latent", "16"],
    );
    let out = dir.path().join("clean-images-idx3-ubyte");
    ok(latent(&["denoise", "--model", p(&m), "--data", p(&idx), "--out", p(&out)]));
    let back = latent_data::load(&out, &latent_data::LoadOptions::default()).expect("idx");
    assert_eq!(back.frame.rows(), 600);
    let folder = dir.path().join("pngs");
    ok(latent(&["denoise", "--model", p(&m), "--data", p(&idx), "--out", p(&folder)]));
    assert_eq!(std::fs::read_dir(&folder).expect("folder").count(), 600);
    let grid = dir.path().join("compare.png");
    ok(latent(&["denoise", "--model", p(&m), "--data", p(&idx), "--out", p(&grid)]));
    let v = eval_json(&m, p(&idx), &["--noise-sigma", "0.5"]);
    let (noisy, clean) =
        (v["psnr_noisy"].as_f64().expect("psnr"), v["psnr_denoised"].as_f64().expect("psnr"));
    assert!(clean > noisy, "denoised PSNR {clean} not above noisy {noisy}");
}

#[test]
fn invalid_combinations_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.safetensors");
    let d = digits();
    let cases: [(&[&str], &str); 6] = [
        (&["--beta", "2"], "variational"),
        (&["--preset", "conv"], "image data"),
        (&["--preset", "vae", "--sparsity", "kl:0.05"], "deterministic"),
        (&["--channels", "8,16"], "convolutional"),
        (&["--fully-convolutional"], "convolutional"),
        (&["--corruption", "blur:3"], "--corruption"),
    ];
    for (extra, needle) in cases {
        let mut args = vec![
            "train",
            "--data",
            &d,
            "--label-column",
            "label",
            "--epochs",
            "1",
            "--quiet",
            "--out",
            p(&out),
        ];
        args.extend_from_slice(extra);
        let o = latent(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(needle), "{extra:?}: expected {needle:?} in {err}");
    }
    let m = train(dir.path(), &d, "dense.safetensors", &["--epochs", "1"]);
    let o = latent(&["sample", "--model", p(&m), "--out", p(&dir.path().join("s.png"))]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("variational"));
}
