//! What the `model_file` fuzz target does with one input, shared by the target and the
//! regression tests in `crates/latent/tests/`: load the bytes as a model file with
//! [`latent::Model::load`] (through a scratch file), then run two rows through a model that
//! loads (and its forest detector, when it has one). Never panics.
//!
//! An input that starts with `{` is a manifest instead: it is stored as the `latent` metadata
//! of a copy of each seed model (keeping the seed's tensors), so that the fuzzer can change
//! the manifest freely without breaking the safetensors framing around it.

use std::path::PathBuf;

use latent::{Column, Frame, Model};

/// The seed models, whose tensors carry fuzzed manifests.
const SEEDS: [&[u8]; 4] = [
    include_bytes!("../seeds/model_file/dense_mixed.safetensors"),
    include_bytes!("../seeds/model_file/vae_impute.safetensors"),
    include_bytes!("../seeds/model_file/conv_idx.safetensors"),
    include_bytes!("../seeds/model_file/forest_mixed.safetensors"),
];

/// A scratch file for this process and thread (in `/dev/shm` when there is one).
fn scratch_path() -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    dir.join(format!("latent-fuzz-{}-{thread}.safetensors", std::process::id()))
}

/// Two rows that fit the model's input schema (zeros, or the first category).
fn rows_for(model: &Model) -> Option<Frame> {
    use latent::preprocess::ColumnTransform;
    let columns = model
        .preprocessor()
        .columns
        .iter()
        .map(|c| match c {
            ColumnTransform::Numeric { .. } => Column::numeric(c.name(), vec![0.0, 1.0]),
            ColumnTransform::OneHot { categories, .. } => {
                let first = categories.first().cloned().unwrap_or_default();
                Column::text(c.name(), vec![first.clone(), first])
            }
        })
        .collect();
    let frame = Frame::new(columns).ok()?;
    match model.image_shape() {
        Some(shape) => frame.with_image_shape(shape).ok(),
        None => Some(frame),
    }
}

/// `seed` with its manifest replaced by `manifest` (`None` when `seed` is not as expected).
fn with_manifest(seed: &[u8], manifest: &str) -> Option<Vec<u8>> {
    let len = usize::try_from(u64::from_le_bytes(seed.get(..8)?.try_into().ok()?)).ok()?;
    let mut header: serde_json::Value = serde_json::from_slice(seed.get(8..8 + len)?).ok()?;
    *header.get_mut("__metadata__")?.get_mut("latent")? = manifest.into();
    let mut text = serde_json::to_vec(&header).ok()?;
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(seed.get(8 + len..)?);
    Some(out)
}

/// Loads one model file's bytes; `Ok(true)` when it loaded and ran on two rows.
fn load_and_run(data: &[u8]) -> Result<bool, String> {
    let path = scratch_path();
    std::fs::write(&path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let loaded = Model::load(&path);
    let _ = std::fs::remove_file(&path);
    let model = loaded.map_err(|e| e.to_string())?;
    let _ = (model.layer_widths(), model.parameter_count(), model.summary());
    let Some(rows) = rows_for(&model) else { return Ok(false) };
    model.encode(&rows).map_err(|e| e.to_string())?;
    model.reconstruct(&rows).map_err(|e| e.to_string())?;
    if model.forest().is_some() {
        model.scores(&rows, latent::score::ScoreKind::Forest).map_err(|e| e.to_string())?;
    }
    Ok(true)
}

/// Loads the bytes as a model file, or as a manifest (see the module docs) with the tensors
/// of each seed in turn; `Ok(true)` when a model loaded and ran on two rows.
pub fn model_file(data: &[u8]) -> Result<bool, String> {
    if !data.starts_with(b"{") {
        return load_and_run(data);
    }
    let manifest = std::str::from_utf8(data).map_err(|e| format!("manifest: {e}"))?;
    let mut first = None;
    for seed in SEEDS {
        let file = with_manifest(seed, manifest).ok_or("a seed model is not as expected")?;
        match load_and_run(&file) {
            Ok(true) => return Ok(true),
            other => {
                first.get_or_insert(other);
            }
        }
    }
    first.unwrap_or(Ok(false))
}
