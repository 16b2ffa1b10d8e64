#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Replays the fuzzing inputs of the request bodies: every seed body (`fuzz/seeds/serve_request`)
//! and every body that once crashed the target (`fuzz/regressions/serve_request`) is answered by
//! every `/v1` endpoint of the seed models, as the target does (`fuzz/harness/serve.rs`).
//! Nothing may panic, and a body is never the server's fault (no 5xx).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/harness/serve.rs"]
mod harness;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join("serve_request");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.retain(|p| p.file_name().is_some_and(|n| n != ".gitkeep"));
    files.sort();
    files
}

/// Answers each body; returns how many answers were 200.
fn replay(kind: &str) -> usize {
    let states = harness::states(&fuzz_dir().join("seeds/model_file")).unwrap();
    let mut ok = 0;
    for path in inputs(kind) {
        let body = std::fs::read(&path).unwrap();
        let answers = catch_unwind(AssertUnwindSafe(|| harness::serve_request(&states, &body)))
            .unwrap_or_else(|_| panic!("serve_request panicked on {}", path.display()));
        if let Some(problem) = harness::problem(&answers) {
            panic!("{}: {problem}", path.display());
        }
        ok += answers.iter().filter(|a| a.is_ok()).count();
    }
    ok
}

#[test]
fn serve_request_seeds_are_answered() {
    assert!(!inputs("seeds").is_empty());
    assert!(replay("seeds") > 0, "no seed body was answered 200");
}

#[test]
fn serve_request_regressions_do_not_panic() {
    replay("regressions");
}
