//! Nothing is lost: a training process killed at any moment (including while it saves) leaves
//! the previous model file whole and loadable; a diverging run stops with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn latent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_latent")).args(args).output().expect("run latent")
}

fn digits() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/digits/digits.csv").display().to_string()
}

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
        let mut child = Command::new(env!("CARGO_BIN_EXE_latent"))
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
