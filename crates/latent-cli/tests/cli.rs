//! Runs the real `latent` binary on real files: the shipped digits data, MNIST from
//! `../shared/data/mnist` when present, and every kind of bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p, repo, stderr, stdout};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

fn train_digits(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec!["--hidden", "32", "--latent", "8", "--epochs", "8"];
    args.extend_from_slice(extra);
    common::train_model(dir, name, &digits(), &args)
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    format!("{:x}", Sha256::digest(bytes))
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path.display().to_string()
}

#[test]
fn training_lowers_the_loss_and_logs_every_epoch() {
    let dir = tempfile::tempdir().expect("tempdir");
    train_digits(dir.path(), "m.safetensors", &[]);
    let log = std::fs::read_to_string(dir.path().join("m.metrics.jsonl")).expect("m.metrics.jsonl");
    let epochs: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(epochs.len(), 8);
    let first = epochs[0]["train_loss"].as_f64().expect("loss");
    let last = epochs[7]["train_loss"].as_f64().expect("loss");
    assert!(last < 0.7 * first, "loss did not fall: {first} -> {last}");
    assert!(epochs[7]["val_loss"].as_f64().is_some());
}

#[test]
fn same_seed_gives_an_identical_model_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = train_digits(dir.path(), "a.safetensors", &["--dropout", "0.1"]);
    let b = train_digits(dir.path(), "b.safetensors", &["--dropout", "0.1"]);
    assert_eq!(sha256(&a), sha256(&b));
    let c = train_digits(dir.path(), "c.safetensors", &["--dropout", "0.1", "--seed", "4"]);
    assert_ne!(sha256(&a), sha256(&c));
}

#[test]
fn code_dropout_trains_pyods_network_and_needs_a_dropout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pyod = ["--dropout", "0.2", "--code-activation", "relu", "--code-dropout"];
    let model = train_digits(dir.path(), "m.safetensors", &pyod);
    let info = stdout(&ok(latent(&["info", "--model", p(&model)])));
    assert!(info.contains("0.2 after hidden layers and the code"), "{info}");
    let out = dir.path().join("bad.safetensors");
    let d = digits();
    let o = latent(&["train", "--data", &d, "--code-dropout", "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("code dropout needs a dropout probability above 0"));
    assert!(!out.exists());
}

#[test]
fn encode_reconstruct_eval_and_info() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = train_digits(dir.path(), "m.safetensors", &[]);
    let d = digits();
    let codes = dir.path().join("codes.csv");
    ok(latent(&[
        "encode",
        "--model",
        p(&model),
        "--data",
        &d,
        "--label-column",
        "label",
        "--out",
        p(&codes),
    ]));
    let text = std::fs::read_to_string(&codes).expect("codes");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("z0,z1,z2,z3,z4,z5,z6,z7,label"));
    assert_eq!(lines.count(), 1797);

    let npy = dir.path().join("recon.npy");
    ok(latent(&[
        "reconstruct",
        "--model",
        p(&model),
        "--data",
        &d,
        "--label-column",
        "label",
        "--out",
        p(&npy),
    ]));
    assert!(std::fs::metadata(&npy).expect("npy").len() > 1797 * 64 * 4);
    let csv = dir.path().join("recon.csv");
    ok(latent(&[
        "reconstruct",
        "--model",
        p(&model),
        "--data",
        &d,
        "--label-column",
        "label",
        "--out",
        p(&csv),
    ]));
    let header = std::fs::read_to_string(&csv).expect("csv");
    assert!(header.starts_with("p0,p1,"));

    let o = ok(latent(&[
        "eval",
        "--model",
        p(&model),
        "--data",
        &d,
        "--label-column",
        "label",
        "--format",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    for key in ["rows", "mse_mean", "mse_median", "mse_p95", "mae_mean"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["rows"], 1797);
    assert!(v["mse_p95"].as_f64() >= v["mse_median"].as_f64());

    let o = ok(latent(&["info", "--model", p(&model)]));
    let info = stdout(&o);
    assert!(info.contains("64-32-8-32-64"), "{info}");
    assert!(info.contains("parameters"));

    let o = ok(latent(&[
        "pca",
        "--model",
        p(&model),
        "--train",
        &d,
        "--data",
        &d,
        "--label-column",
        "label",
        "--format",
        "json",
    ]));
    let pca: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(pca["mse_mean"].as_f64().is_some_and(|m| m > 0.0));
}

#[test]
fn demo_beats_pca_and_writes_its_outputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("demo");
    let o = ok(latent(&["demo", "--quiet", "--out", p(&out)]));
    assert!(stdout(&o).contains("autoencoder / PCA"));
    for f in [
        "model.safetensors",
        "model.metrics.jsonl",
        "codes.csv",
        "reconstructions.csv",
        "summary.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    let ratio = s["autoencoder_over_pca"].as_f64().expect("ratio");
    assert!(ratio < 0.8, "autoencoder/PCA test MSE ratio {ratio}");
    // --format json prints the same summary as one object.
    let o = ok(latent(&["demo", "--quiet", "--epochs", "5", "--format", "json", "--out", p(&out)]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert!(v["test_mse_pca"].as_f64().is_some());
}

#[test]
fn config_file_is_read_and_flags_override_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write(
        dir.path(),
        "run.toml",
        b"[model]\nhidden = [16]\nlatent = 4\n[train]\nepochs = 2\nseed = 1\n",
    );
    let model = train_digits(dir.path(), "m.safetensors", &["--config", &cfg, "--latent", "5"]);
    let info = stdout(&ok(latent(&["info", "--model", p(&model)])));
    assert!(info.contains("64-32-5-32-64"), "{info}");
    let example = repo().join("examples/run.toml");
    let m = train_digits(dir.path(), "ex.safetensors", &["--config", p(&example), "--epochs", "1"]);
    let info = stdout(&ok(latent(&["info", "--model", p(&m)])));
    assert!(info.contains("64-32-8-32-64"), "{info}");
    let bad = write(dir.path(), "bad.toml", b"[model]\nhiden = [16]\n");
    let o = latent(&[
        "train",
        "--data",
        &digits(),
        "--config",
        &bad,
        "--out",
        p(&dir.path().join("x")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("hiden"), "{}", stderr(&o));
}

/// Each bad input exits 2 with a message naming the problem, and never panics.
#[test]
fn bad_inputs_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = train_digits(dir.path(), "m.safetensors", &["--epochs", "1"]);
    let m = p(&model).to_string();
    let t = dir.path();
    let out = p(&t.join("out.csv")).to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (train_on(&write(t, "ragged.csv", b"a,b,c\n1,2,3\n4,5\n"), &out), "line 3"),
        (train_on(&write(t, "text.csv", b"a,b\n1,2\n3,x\n"), &out), "\"b\""),
        (train_on(&write(t, "nan.csv", b"a,b\n1,2\nNaN,3\n"), &out), "missing value"),
        (train_on(&write(t, "inf.csv", b"a,b\n1,2\n3,inf\n"), &out), "not finite"),
        (train_on(&write(t, "empty.csv", b""), &out), "empty"),
        (
            train_on(
                &write(
                    t,
                    "trunc-images-idx3-ubyte",
                    &[0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2],
                ),
                &out,
            ),
            "truncated",
        ),
        (
            train_on(
                &write(
                    t,
                    "magic-images-idx3-ubyte",
                    &[7, 7, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1],
                ),
                &out,
            ),
            "magic",
        ),
        (train_on(&write(t, "bad.npy", b"PK\x03\x04 this is not numpy"), &out), "NPY"),
        (train_on(p(&t.join("does-not-exist.csv")), &out), "does-not-exist.csv"),
        (use_model(&m, &write(t, "narrow.csv", b"p0,p1,label\n1,2,3\n"), &out), "model expects 64"),
        (
            use_model(
                &write(t, "corrupt.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":"),
                &digits(),
                &out,
            ),
            "not a latent model",
        ),
        (
            use_model(&write(t, "other.safetensors", &plain_safetensors()), &digits(), &out),
            "not a latent model",
        ),
        (use_model(p(&t.join("missing.safetensors")), &digits(), &out), "missing.safetensors"),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = latent(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: expected {needle:?} in {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

fn train_on(data: &str, out: &str) -> Vec<String> {
    ["train", "--data", data, "--epochs", "1", "--quiet", "--out", out].map(String::from).to_vec()
}

fn use_model(model: &str, data: &str, out: &str) -> Vec<String> {
    ["encode", "--model", model, "--data", data, "--label-column", "label", "--out", out]
        .map(String::from)
        .to_vec()
}

/// A valid safetensors file without latent's manifest.
fn plain_safetensors() -> Vec<u8> {
    let header = br#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header);
    v.extend_from_slice(&1.0f32.to_le_bytes());
    v
}

#[test]
fn bad_usage_exits_2() {
    let o = latent(&["train", "--epochs", "3"]);
    assert_eq!(o.status.code(), Some(2));
    let o = latent(&["train", "--data", &digits(), "--out", "/tmp/x.safetensors", "--lr=-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("learning rate"));
}

#[test]
fn every_subcommand_help_has_an_example() {
    for cmd in ["train", "encode", "reconstruct", "eval", "info", "pca", "demo"] {
        let o = ok(latent(&[cmd, "--help"]));
        assert!(stdout(&o).contains("Example:"), "{cmd} --help has no example");
    }
}

/// MNIST from ../shared/data/mnist when present: a 784-256-32 dense AE trained for 3 epochs
/// beats PCA with 32 components on the test set (the 10-epoch run is in scripts/quality.sh).
#[test]
fn mnist_dense_autoencoder_beats_pca() {
    let mnist = repo().join("../shared/data/mnist");
    let train = mnist.join("train-images-idx3-ubyte.gz");
    let test = mnist.join("t10k-images-idx3-ubyte.gz");
    if !train.exists() {
        common::skip(
            "mnist_dense_autoencoder_beats_pca",
            &format!("{} not present", train.display()),
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("mnist.safetensors");
    ok(latent(&[
        "train",
        "--data",
        p(&train),
        "--hidden",
        "256",
        "--latent",
        "32",
        "--epochs",
        "3",
        "--val-split",
        "0",
        "--quiet",
        "--out",
        p(&model),
    ]));
    let ae: serde_json::Value = serde_json::from_str(&stdout(&ok(latent(&[
        "eval",
        "--model",
        p(&model),
        "--data",
        p(&test),
        "--format",
        "json",
    ]))))
    .expect("json");
    let pca: serde_json::Value = serde_json::from_str(&stdout(&ok(latent(&[
        "pca",
        "--model",
        p(&model),
        "--train",
        p(&train),
        "--data",
        p(&test),
        "--format",
        "json",
    ]))))
    .expect("json");
    let (ae, pca) = (ae["mse_mean"].as_f64().expect("ae"), pca["mse_mean"].as_f64().expect("pca"));
    assert!(ae < pca, "autoencoder test MSE {ae} not below PCA {pca}");
}

/// PyTorch users can open a latent model with Python's `safetensors` package. Runs when
/// `LATENT_TEST_PYTHON` names a Python with `safetensors` and `numpy` (`.ci/run` sets it up).
#[test]
fn python_safetensors_reads_the_model() {
    let Ok(python) = std::env::var("LATENT_TEST_PYTHON") else {
        common::skip(
            "python_safetensors_reads_the_model",
            "LATENT_TEST_PYTHON not set (bash .ci/run sets up a venv with safetensors)",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let model = train_digits(dir.path(), "m.safetensors", &["--epochs", "1"]);
    let script = r#"
import json, sys
import numpy as np
from safetensors import safe_open
with safe_open(sys.argv[1], framework="numpy") as f:
    meta = json.loads(f.metadata()["latent"])
    w = f.get_tensor("encoder.0.weight")
    names = sorted(f.keys())
assert meta["format"] == "latent-model", meta["format"]
assert w.shape == (32, 64) and w.dtype == np.float32 and np.isfinite(w).all()
print(json.dumps({"tensors": names, "sum": float(w.astype(np.float64).sum())}))
"#;
    let o = Command::new(python).args(["-c", script, p(&model)]).output().expect("run python");
    assert!(o.status.success(), "python failed: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["tensors"].as_array().map(Vec::len), Some(8));
    // The same weights as latent reads them.
    let info = stdout(&ok(latent(&["info", "--model", p(&model), "--format", "json"])));
    assert!(info.contains("\"architecture\": \"64-32-8-32-64\""), "{info}");
    assert!(v["sum"].as_f64().is_some_and(f64::is_finite));
}
