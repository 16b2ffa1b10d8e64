#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Replays the fuzzing inputs of the model-file loader: every seed model
//! (`fuzz/seeds/model_file`) and every input that once crashed the target
//! (`fuzz/regressions/model_file`) goes through the target's calls (`fuzz/harness/model.rs`).
//! Nothing may panic; seed models must load and run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/harness/model.rs"]
mod harness;

fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join("model_file");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.retain(|p| p.file_name().is_some_and(|n| n != ".gitkeep"));
    files.sort();
    files
}

fn replay(path: &Path) -> Result<bool, String> {
    let data = std::fs::read(path).unwrap();
    let out = catch_unwind(AssertUnwindSafe(|| harness::model_file(&data)))
        .unwrap_or_else(|_| panic!("model_file panicked on {}", path.display()));
    if let Err(e) = &out {
        assert!(!e.trim().is_empty(), "empty error message for {}", path.display());
    }
    out
}

#[test]
fn model_file_seeds_load_and_run() {
    let seeds = inputs("seeds");
    assert!(!seeds.is_empty());
    for path in seeds {
        assert_eq!(replay(&path), Ok(true), "seed {}", path.display());
    }
}

#[test]
fn model_file_regressions_do_not_panic() {
    for path in inputs("regressions") {
        let _ = replay(&path);
    }
}

/// Each crash found by fuzzing, with the clear error it now gives instead: (file in
/// `fuzz/regressions/model_file/`, words of the message).
const FIXED: &[(&str, &str)] = &[
    // A conv model whose manifest says its images are 8 pixels high and 0 wide: building the
    // first convolution underflowed (a panic).
    ("conv_image_width_zero.safetensors", "image shape 1x8x0 does not match its 64 inputs"),
    // A manifest asking for a hidden layer of 400 million units over a file of a few hundred
    // weights: the loader allocated 9.6 GB before looking at the tensors.
    ("hidden_400m.manifest.json", "a hidden layer has width 400000000 but the file stores"),
    // A conv kernel of 2^32 + 1: kernel x kernel overflowed.
    ("conv_kernel_overflow.manifest.json", "the kernel has width"),
];

#[test]
fn fixed_crashes_give_clear_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/model_file");
    for &(file, words) in FIXED {
        let err = replay(&dir.join(file)).expect_err(file);
        assert!(err.contains(words), "{file}: {err}");
    }
}
