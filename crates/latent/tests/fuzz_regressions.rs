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
