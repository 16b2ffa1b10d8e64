//! What the `model_file` fuzz target does with one input, shared by the target and the
//! regression tests in `crates/latent/tests/`: write the bytes to a file and load it with
//! [`latent::Model::load`], then run a few rows through a model that loads. Never panics.

use std::path::PathBuf;

use latent::{Column, Frame, Model};

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

/// Loads the bytes as a model file; `Ok(true)` when it loaded and ran on two rows.
pub fn model_file(data: &[u8]) -> Result<bool, String> {
    let path = scratch_path();
    std::fs::write(&path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let loaded = Model::load(&path);
    let _ = std::fs::remove_file(&path);
    let model = loaded.map_err(|e| e.to_string())?;
    let _ = (model.layer_widths(), model.parameter_count(), model.summary());
    let Some(rows) = rows_for(&model) else { return Ok(false) };
    model.encode(&rows).map_err(|e| e.to_string())?;
    model.reconstruct(&rows).map_err(|e| e.to_string())?;
    Ok(true)
}
