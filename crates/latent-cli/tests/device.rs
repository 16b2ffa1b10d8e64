//! `--device` over the real binary: `cpu` (the default) runs as before; `cuda` and `cuda:N`
//! exit 2 before reading anything, with the library's reason (no CUDA support in this build,
//! or, built with `--features cuda`, that models do not run on the CUDA backend yet) and a
//! hint; a device name that is not one exits 2 naming the accepted ones.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{digits, latent, ok, p, stderr, stdout, train_model};
use std::path::Path;

/// The reason this build gives for a CUDA device.
fn cuda_reason() -> &'static str {
    if cfg!(feature = "cuda") {
        "models do not run on the CUDA backend yet"
    } else {
        "this build of latent has no CUDA support"
    }
}

/// Each command that runs a model, with its arguments (the model and data real, so only the
/// device can be what stops it); outputs go into `dir`.
fn commands(dir: &Path, model: &str) -> Vec<Vec<String>> {
    let d = digits();
    let out = |name: &str| p(&dir.join(name)).to_string();
    let use_model = |cmd: &str, extra: &[&str]| {
        let mut v: Vec<String> = [cmd, "--model", model, "--data", &d].map(String::from).into();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    vec![
        ["train", "--data", &d, "--label-column", "label", "--epochs", "1", "--out"]
            .map(String::from)
            .into_iter()
            .chain([out("t.safetensors")])
            .collect(),
        use_model("encode", &["--label-column", "label", "--out", &out("codes.csv")]),
        use_model("reconstruct", &["--label-column", "label", "--out", &out("recon.csv")]),
        use_model("eval", &["--label-column", "label"]),
        use_model("score", &["--label-column", "label", "--out", &out("scores.csv")]),
        use_model("evaluate", &["--label-column", "label", "--positive", "0"]),
        ["serve", "--model", model, "--addr", "127.0.0.1:0"].map(String::from).into(),
    ]
}

#[test]
fn cuda_devices_exit_2_with_the_reason_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_model(dir.path(), "m.safetensors", &digits(), &["--epochs", "2"]);
    for device in ["cuda", "cuda:0", "CUDA:3", "gpu"] {
        for mut args in commands(dir.path(), p(&model)) {
            args.extend(["--device".to_string(), device.to_string()]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = latent(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.starts_with("error: cuda:"), "{args:?}: {err}");
            assert!(err.contains(cuda_reason()), "{args:?}: {err}");
            assert!(err.contains("hint: leave out --device"), "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
        }
        for name in ["t.safetensors", "codes.csv", "recon.csv", "scores.csv"] {
            assert!(!dir.path().join(name).exists(), "{device}: {name} was written");
        }
    }
}

#[test]
fn cpu_is_the_default_and_runs_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let model = train_model(dir.path(), "m.safetensors", &digits(), &["--epochs", "2"]);
    let implicit = stdout(&ok(latent(&["eval", "--model", p(&model), "--data", &digits()])));
    // Every command but serve (which would keep running) with `--device cpu` succeeds.
    for mut args in commands(dir.path(), p(&model)).into_iter().filter(|a| a[0] != "serve") {
        args.extend(["--device".to_string(), "cpu".to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = ok(latent(&args));
        if args[0] == "eval" {
            assert_eq!(stdout(&o), implicit, "--device cpu changed eval's output");
        }
    }
    for name in ["t.safetensors", "codes.csv", "recon.csv", "scores.csv"] {
        assert!(dir.path().join(name).exists(), "{name} was not written");
    }
}

#[test]
fn an_unknown_device_is_bad_usage() {
    for bad in ["tpu", "cuda:x", "cuda:-1", ""] {
        let o = latent(&["eval", "--model", "m.safetensors", "--data", "x.csv", "--device", bad]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("expected cpu, cuda or cuda:N"), "{bad}: {err}");
    }
}
