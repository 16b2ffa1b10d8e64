//! The baseline panel of `latent benchmark-anomaly`: the Rust baselines of the library
//! (Isolation Forest, ECOD, kNN distance, PCA) fitted and scored on the same standardised
//! inputs as the autoencoder, and PyOD's `AutoEncoder` and `VAE` through the committed
//! reference script `bench/pyod_reference.py` in a Python that has `pyod` and `torch`.

use anyhow::{bail, Context, Result};
use latent::ecod::Ecod;
use latent::iforest::{IForestConfig, IsolationForest};
use latent::knn::{Knn, DEFAULT_K};
use latent::pca::Pca;
use latent::score::{row_scores, ScoreKind};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust baselines, in table order: name in JSON and table header.
pub const RUST_BASELINES: [(&str, &str); 4] =
    [("pca", "PCA"), ("iforest", "IF"), ("ecod", "ECOD"), ("knn", "kNN")];

/// The Python baselines, in table order: name in JSON and table header.
pub const PYTHON_BASELINES: [(&str, &str); 2] =
    [("pyod_autoencoder", "pyAE"), ("pyod_vae", "pyVAE")];

/// Rows fitted on and rows scored (both row-major, `width` wide). In the unsupervised
/// protocol both are all rows.
pub struct Split<'a> {
    /// Training rows.
    pub train: &'a [f32],
    /// Scored rows.
    pub test: &'a [f32],
    /// Model inputs per row.
    pub width: usize,
    /// Whether `test` is `train` (the unsupervised protocol): kNN then leaves each row out of
    /// its own neighbours.
    pub same: bool,
}

/// Scores of the scored rows by each Rust baseline, in [`RUST_BASELINES`] order. PCA keeps
/// `components` components; the forest has the paper's defaults with `seed`; kNN uses the
/// 5th neighbour.
pub fn rust_scores(s: &Split, components: usize, seed: u64) -> Result<Vec<Vec<f32>>> {
    let w = s.width;
    let pca = Pca::fit(s.train, w, components.clamp(1, w))?;
    let pca = row_scores(s.test, &pca.reconstruct(s.test), w, ScoreKind::Mse);
    let forest =
        IsolationForest::fit(s.train, w, &IForestConfig { seed, ..IForestConfig::default() })?;
    let ecod = Ecod::fit(s.train, w)?.score(s.test);
    let rows = s.train.len() / w.max(1);
    let knn = Knn::fit(s.train, w, DEFAULT_K.min(rows.saturating_sub(1)).max(1))?;
    let knn = if s.same { knn.score_training() } else { knn.score(s.test) };
    Ok(vec![pca, forest.score(s.test), ecod, knn])
}

/// The reference script, relative to the repository root.
const SCRIPT: &str = "bench/pyod_reference.py";

/// The reference script: under the working folder, else under the repository the running
/// binary was built in (`target/release/latent` → `../..`).
pub fn reference_script(script: &str) -> Option<PathBuf> {
    let here = PathBuf::from(script);
    if here.exists() {
        return Some(here);
    }
    let exe = std::env::current_exe().ok()?;
    let root = exe.parent()?.parent()?.parent()?;
    Some(root.join(script)).filter(|p| p.exists())
}

/// The Python that runs the reference script: `--python`, else `.bench/pyod-venv/bin/python`
/// when it exists (scripts/anomaly_baselines.sh creates it).
pub fn python(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let venv = PathBuf::from(".bench/pyod-venv/bin/python");
    venv.exists().then_some(venv)
}

/// PyOD's scores for each seed's split, in [`PYTHON_BASELINES`] order: one run of the
/// reference script per data set (its inputs are raw little-endian `f32` files in a temporary
/// folder).
pub fn python_scores(python: &Path, splits: &[Split], dataset: &str) -> Result<Vec<Vec<Vec<f32>>>> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let write = |name: String, values: &[f32]| -> Result<()> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(dir.path().join(name), bytes).context("cannot write the script's input")
    };
    for (i, s) in splits.iter().enumerate() {
        write(format!("train{i}.f32"), s.train)?;
        write(format!("test{i}.f32"), s.test)?;
    }
    let width = splits.first().map_or(1, |s| s.width);
    let script = reference_script(SCRIPT).ok_or_else(|| {
        anyhow::anyhow!("{SCRIPT} not found: run benchmark-anomaly from the repository root")
    })?;
    let script = script.as_path();
    let out = Command::new(python)
        .arg(script)
        .args(["--dir", &dir.path().to_string_lossy()])
        .args(["--width", &width.to_string(), "--seeds", &splits.len().to_string()])
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "{dataset}: {} {} failed: {}",
            python.display(),
            script.display(),
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{dataset}: the reference script's output is not JSON"))?;
    let mut per_seed = Vec::with_capacity(splits.len());
    for (i, s) in splits.iter().enumerate() {
        let rows = s.test.len() / width.max(1);
        let mut methods = Vec::new();
        for key in ["autoencoder", "vae"] {
            let scores: Vec<f32> = v[key][i]
                .as_array()
                .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN) as f32).collect())
                .unwrap_or_default();
            if scores.len() != rows {
                bail!(
                    "{dataset}: the reference script gave {} {key} scores for {rows} rows",
                    scores.len()
                );
            }
            methods.push(scores);
        }
        per_seed.push(methods);
    }
    Ok(per_seed)
}
