//! Helpers shared by the integration tests: running the real `latent` binary, reading its
//! output, and the paths of the shipped data. `tests/common/` is not a test binary of its own;
//! each test file includes it with `mod common;`.

#![allow(dead_code)] // Not every test binary uses every helper.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A `Command` for the `latent` binary built for these tests, with no arguments yet.
pub fn latent_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_latent"))
}

/// Runs `latent` with `args` and waits for its output.
pub fn latent(args: &[&str]) -> Output {
    latent_command().args(args).output().expect("run latent")
}

/// Runs `latent` with `args`, writing `input` to its standard input, and waits for its output.
pub fn latent_stdin(args: &[&str], input: &str) -> Output {
    let mut child = latent_command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn latent");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Asserts that the run succeeded (showing its stderr and stdout if not) and returns it.
pub fn ok(o: Output) -> Output {
    assert!(o.status.success(), "latent failed: {}\n{}", stderr(&o), stdout(&o));
    o
}

/// The run's standard output as text (invalid UTF-8 replaced).
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The run's standard error as text (invalid UTF-8 replaced).
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `path` as a `&str` for an argument list (the test paths are all UTF-8).
pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The workspace root (two levels above this crate).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The path of the shipped digits data set (`data/digits/digits.csv`, label column `label`).
pub fn digits_path() -> PathBuf {
    repo().join("data/digits/digits.csv")
}

/// The path of the shipped digits data set as a string, for argument lists.
pub fn digits() -> String {
    digits_path().display().to_string()
}

/// Marks a test as skipped because `why` (a tool or data set is missing). The line goes
/// straight to the terminal, past the test harness's capture, so a skipped test never passes
/// silently as `ok`; under CI (`CI` set, as `.ci/run` runs) a skip is a failure.
pub fn skip(test: &str, why: &str) {
    assert!(std::env::var_os("CI").is_none(), "{test}: SKIPPED under CI: {why}");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// Trains a model on `data` with batch 64 and seed 3 (a table's `label` column kept out of
/// the features), then `args` (the architecture, epochs, …; a later flag overrides an earlier
/// one), into `dir/name`; returns the model's path.
pub fn train_model(dir: &Path, name: &str, data: &str, args: &[&str]) -> PathBuf {
    let model = dir.join(name);
    let mut all = vec!["train", "--data", data, "--batch-size", "64", "--seed", "3", "--quiet"];
    if data.ends_with(".csv") || data.ends_with(".parquet") {
        all.extend(["--label-column", "label"]);
    }
    all.extend(["--out", p(&model)]);
    all.extend_from_slice(args);
    ok(latent(&all));
    model
}

/// The Python of `LATENT_TEST_PYTHON`, or `None` after a [`skip`] (a failure under CI).
/// `.ci/run` sets it to a venv with numpy, pyarrow, onnxruntime and onnx.
pub fn python(test: &str) -> Option<String> {
    match std::env::var("LATENT_TEST_PYTHON") {
        Ok(py) => Some(py),
        Err(_) => {
            skip(test, "LATENT_TEST_PYTHON not set (bash .ci/run sets up the venv)");
            None
        }
    }
}

/// Runs a Python script with arguments; asserts that it succeeded and returns its stdout.
pub fn run_python(py: &str, script: &str, args: &[&str]) -> String {
    let o = Command::new(py).arg("-c").arg(script).args(args).output().expect("run python");
    assert!(o.status.success(), "python failed: {}\n{}", stderr(&o), stdout(&o));
    stdout(&o)
}

/// For a test that checks with Python: the Python (see [`python`]) and a fresh temporary
/// folder, or `None` after a skip.
pub fn python_and_dir(test: &str) -> Option<(String, tempfile::TempDir)> {
    Some((python(test)?, tempfile::tempdir().expect("tempdir")))
}
