//! Nothing is lost: a training process killed at any moment (including while it saves) leaves
//! the previous model file whole and loadable; a diverging run stops with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, latent_command};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn killing_training_never_leaves_a_broken_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("m.safetensors");
    let m = model.to_str().expect("utf-8");
    let d = digits();
    let base = ["train", "--data", &d, "--label-column", "label", "--quiet", "--out", m];
    let first = latent(&[&base[..], &["--epochs", "1"]].concat());
    assert!(first.status.success());
    let loads = |why: &str| {
        let o = latent(&["info", "--model", m]);
        assert!(
            o.status.success(),
            "{why}: model no longer loads: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    loads("initial");
    // Kill (SIGKILL) runs at staggered moments: mid-training, around the save, after it.
    for (i, ms) in [30u64, 90, 150, 220, 300, 380, 460, 550, 650, 800].iter().enumerate() {
        let mut child = latent_command()
            .args([&base[..], &["--epochs", "12", "--seed", &i.to_string()]].concat())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(*ms));
        let _ = child.kill();
        let _ = child.wait();
        loads(&format!("killed after {ms} ms"));
    }
}

#[test]
fn divergence_stops_with_epoch_batch_and_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("d.safetensors");
    let d = digits();
    let o = latent(&[
        "train",
        "--data",
        &d,
        "--label-column",
        "label",
        "--lr",
        "1e30",
        "--output-activation",
        "identity",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("diverged at epoch") && err.contains("batch"), "{err}");
    assert!(err.contains("learning rate") || err.contains("--lr"), "{err}");
    assert!(!out.exists(), "a diverged run must not write a model");
}

/// A run killed with SIGKILL mid-training and resumed from its checkpoint ends with a model
/// file byte-identical to an uninterrupted run (same seed), weights and history included.
#[test]
fn resumed_run_after_sigkill_is_bit_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = digits();
    let full = dir.path().join("full.safetensors");
    let killed = dir.path().join("killed.safetensors");
    let run = |out: &Path| -> Vec<String> {
        [
            "train",
            "--data",
            &d,
            "--label-column",
            "label",
            "--hidden",
            "128,64",
            "--batch-size",
            "16",
            "--epochs",
            "150",
            "--seed",
            "7",
            "--quiet",
            "--out",
            out.to_str().expect("utf-8"),
        ]
        .map(String::from)
        .to_vec()
    };
    let o = latent_command().args(run(&full)).output().expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut args = run(&killed);
    args.extend(["--checkpoint-every", "5"].map(String::from));
    let ckpt = dir.path().join("killed.safetensors.ckpt");
    let mut child = latent_command()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while !ckpt.join("checkpoint.safetensors").exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "no checkpoint appeared");
        assert!(child.try_wait().expect("wait").is_none(), "training ended before a checkpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Somewhere in a later epoch (or a later checkpoint's save).
    std::thread::sleep(Duration::from_millis(250));
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the run should have been killed, not finished");
    assert!(!killed.exists(), "a killed run must not have written its model");

    args.extend(["--resume".to_string(), ckpt.display().to_string()]);
    let o = latent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (std::fs::read(&full).expect("full"), std::fs::read(&killed).expect("resumed"));
    assert!(a == b, "resumed model differs from the uninterrupted one");
    // The metrics log covers every epoch once, replayed ones included.
    let log = std::fs::read_to_string(dir.path().join("killed.metrics.jsonl")).expect("metrics");
    assert_eq!(log.lines().count(), 150);
}

#[test]
fn resume_refuses_other_settings_data_and_missing_checkpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = digits();
    let out = dir.path().join("m.safetensors");
    let m = out.to_str().expect("utf-8");
    let ckpt = format!("{m}.ckpt");
    let base = ["train", "--data", &d, "--label-column", "label", "--quiet", "--out", m];
    let o = latent(&[&base[..], &["--epochs", "2", "--checkpoint-every", "1"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // More epochs is allowed: the run is extended.
    let o = latent(&[&base[..], &["--epochs", "3", "--resume", &ckpt]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let narrow = dir.path().join("narrow.csv");
    let text = std::fs::read_to_string(&d).expect("digits");
    let fewer: String = text.lines().take(200).map(|l| format!("{l}\n")).collect();
    std::fs::write(&narrow, fewer).expect("write");
    let n = narrow.to_str().expect("utf-8");
    let ckpt_file = format!("{ckpt}/checkpoint.safetensors");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        ([&base[..], &["--epochs", "4", "--lr", "0.01", "--resume", &ckpt]].concat(), "other"),
        (
            [
                "train",
                "--data",
                n,
                "--label-column",
                "label",
                "--quiet",
                "--out",
                m,
                "--resume",
                &ckpt,
            ]
            .to_vec(),
            "other training data",
        ),
        ([&base[..], &["--resume", "/nonexistent/dir"]].concat(), "no checkpoint"),
        ([&base[..], &["--checkpoint-every", "0"]].concat(), "at least 1"),
        (["info", "--model", &ckpt_file].to_vec(), "checkpoint"),
    ];
    for (args, needle) in cases {
        let o = latent(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: expected {needle:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A diverging run stops with a clear error and leaves the last good checkpoint in its folder
/// untouched.
#[test]
fn divergence_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = digits();
    let out = dir.path().join("m.safetensors");
    let m = out.to_str().expect("utf-8");
    let ckpt = dir.path().join("m.safetensors.ckpt").join("checkpoint.safetensors");
    let base = ["train", "--data", &d, "--label-column", "label", "--quiet", "--out", m];
    let o = latent(&[&base[..], &["--epochs", "2", "--checkpoint-every", "1"]].concat());
    assert!(o.status.success());
    let before = std::fs::read(&ckpt).expect("checkpoint");
    let diverging = [
        &base[..],
        &["--epochs", "3", "--lr", "1e30", "--output-activation", "identity"],
        &["--checkpoint-every", "1"],
    ]
    .concat();
    let o = latent(&diverging);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("diverged at epoch 1"), "{err}");
    assert!(err.contains("hint: lower the learning rate (--lr)"), "{err}");
    assert_eq!(std::fs::read(&ckpt).expect("checkpoint"), before, "checkpoint was overwritten");
}

/// A run that early stopping ended stays ended: resuming its last checkpoint writes the same
/// model again instead of training on.
#[test]
fn resuming_an_early_stopped_run_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = digits();
    let out = dir.path().join("es.safetensors");
    let m = out.to_str().expect("utf-8");
    let ckpt = format!("{m}.ckpt");
    let base = [
        "train",
        "--data",
        &d,
        "--label-column",
        "label",
        "--epochs",
        "300",
        "--lr",
        "0.05",
        "--patience",
        "3",
        "--quiet",
        "--out",
        m,
    ];
    let o = latent(&[&base[..], &["--checkpoint-every", "1"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first = std::fs::read(&out).expect("model");
    let o = latent(&[&base[..], &["--resume", &ckpt]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(&out).expect("model") == first, "resuming a stopped run trained on");
}
