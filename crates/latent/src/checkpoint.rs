//! Training checkpoints: one safetensors file per run folder holding the weights, Adam's
//! moments, the best weights so far and the row order as tensors, with the model manifest and
//! the loop's scalar state (epoch, generator position, best epoch, history) as JSON metadata.
//! Written atomically, so a run killed at any moment leaves the last checkpoint whole.

use crate::artifact::{self, file_error, Manifest, Tensor, MANIFEST_KEY};
use crate::engine::Params;
use crate::train::{DataFingerprint, EpochReport, RngState, TrainState};
use crate::{Error, Result};
use safetensors::tensor::Dtype;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Metadata key of the checkpoint's own header (its presence marks a checkpoint file).
pub const CHECKPOINT_KEY: &str = "latent.checkpoint";
/// Name of the checkpoint file inside a checkpoint folder.
pub const FILE_NAME: &str = "checkpoint.safetensors";
/// Current checkpoint format version.
pub const CHECKPOINT_VERSION: u32 = 1;

const ADAM_M: &str = "checkpoint.adam.m";
const ADAM_V: &str = "checkpoint.adam.v";
const BEST: &str = "checkpoint.best";
const TRAIN_ORDER: &str = "checkpoint.order.train";
const VAL_ORDER: &str = "checkpoint.order.val";

/// The loop's scalar state, stored as JSON.
#[derive(Serialize, Deserialize)]
struct Header {
    format_version: u32,
    epoch: usize,
    rng: RngState,
    adam_step: u32,
    best_epoch: usize,
    /// `None` while no epoch has counted as best (its loss is then infinite).
    best_loss: Option<f64>,
    history: Vec<EpochReport>,
    data: DataFingerprint,
}

/// A loaded checkpoint: the model description, its weights by name and the loop's state.
pub struct Checkpoint {
    /// The manifest of the model being trained (no summary yet).
    pub manifest: Manifest,
    /// The weights at the checkpoint, by name.
    pub weights: HashMap<String, Vec<f32>>,
    /// Where the loop stood.
    pub state: TrainState,
}

/// The checkpoint file of a checkpoint folder (or `path` itself when it names a file).
pub fn file_in(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(FILE_NAME)
    } else {
        path.to_path_buf()
    }
}

/// The default checkpoint folder of a model written to `out`: `OUT.ckpt` beside it.
pub fn default_dir(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".ckpt");
    out.with_file_name(name)
}

/// Writes a checkpoint into folder `dir` (created if needed), atomically.
pub fn save(dir: &Path, manifest: &Manifest, params: &Params, state: &TrainState) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.into(), source })?;
    let path = dir.join(FILE_NAME);
    let header = Header {
        format_version: CHECKPOINT_VERSION,
        epoch: state.epoch,
        rng: state.rng,
        adam_step: state.adam_step,
        best_epoch: state.best_epoch,
        best_loss: state.best_loss.is_finite().then_some(state.best_loss),
        history: state.history.clone(),
        data: state.data,
    };
    let metadata = HashMap::from([
        (CHECKPOINT_KEY.to_string(), to_json(&header)?),
        (format!("{CHECKPOINT_KEY}.{MANIFEST_KEY}"), to_json(manifest)?),
    ]);
    let order = |o: &[usize]| o.iter().map(|&i| i as u64).collect::<Vec<_>>();
    let mut tensors = artifact::param_tensors(params);
    tensors.push(Tensor::f32(ADAM_M, &state.adam_m));
    tensors.push(Tensor::f32(ADAM_V, &state.adam_v));
    if let Some(best) = &state.best_weights {
        tensors.push(Tensor::f32(BEST, best));
    }
    tensors.push(Tensor::u64(TRAIN_ORDER, &order(&state.train_order)));
    tensors.push(Tensor::u64(VAL_ORDER, &order(&state.val_order)));
    artifact::write_tensors(&path, tensors, metadata)
}

/// Reads the checkpoint at `path` (a checkpoint folder or its file).
pub fn load(path: &Path) -> Result<Checkpoint> {
    let path = file_in(path);
    let bytes = std::fs::read(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
    let bad = |why: String| file_error(&path, format!("not a latent checkpoint ({why})"));
    let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let header: Header = metadata
        .get(CHECKPOINT_KEY)
        .ok_or_else(|| bad("no checkpoint header in its metadata".into()))
        .and_then(|h| serde_json::from_str(h).map_err(|e| bad(format!("corrupt header: {e}"))))?;
    if header.format_version == 0 || header.format_version > CHECKPOINT_VERSION {
        return Err(bad(format!("checkpoint version {} is not supported", header.format_version)));
    }
    let manifest = metadata
        .get(&format!("{CHECKPOINT_KEY}.{MANIFEST_KEY}"))
        .ok_or_else(|| bad("no model manifest".into()))
        .and_then(|m| artifact::parse_manifest(&path, m))?;
    let mut tensors = artifact::read_tensors(&path, &bytes)?;
    let mut take_f32 = |name: &str| -> Result<Option<Vec<f32>>> {
        tensors.remove(name).map(|(d, b)| artifact::f32_values(&path, name, d, &b)).transpose()
    };
    let missing = |name: &str| bad(format!("tensor {name} is missing"));
    let adam_m = take_f32(ADAM_M)?.ok_or_else(|| missing(ADAM_M))?;
    let adam_v = take_f32(ADAM_V)?.ok_or_else(|| missing(ADAM_V))?;
    let best_weights = take_f32(BEST)?;
    let mut take_order = |name: &str| -> Result<Vec<usize>> {
        match tensors.remove(name) {
            Some((Dtype::U64, b)) => Ok(b
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .map(|i| usize::try_from(i).unwrap_or(usize::MAX))
                .collect()),
            Some((d, _)) => Err(bad(format!("tensor {name} is {d:?}, expected U64"))),
            None => Err(missing(name)),
        }
    };
    let train_order = take_order(TRAIN_ORDER)?;
    let val_order = take_order(VAL_ORDER)?;
    let weights = tensors
        .into_iter()
        .map(|(name, (d, b))| artifact::f32_values(&path, &name, d, &b).map(|v| (name, v)))
        .collect::<Result<_>>()?;
    let state = TrainState {
        epoch: header.epoch,
        rng: header.rng,
        adam_step: header.adam_step,
        adam_m,
        adam_v,
        train_order,
        val_order,
        best_epoch: header.best_epoch,
        best_loss: header.best_loss.unwrap_or(f64::INFINITY),
        best_weights,
        history: header.history,
        data: header.data,
    };
    Ok(Checkpoint { manifest, weights, state })
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::Config(format!("cannot serialise the checkpoint: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FitConfig;
    use crate::frame::Frame;
    use crate::model::Model;
    use rand::{Rng, SeedableRng};

    #[test]
    fn state_survives_a_round_trip() {
        let frame =
            Frame::from_rows(Frame::default_names("f", 2), &[0.1, 0.2, 0.3, 0.4]).expect("frame");
        let model =
            Model::fit(&frame, &FitConfig::default(), &mut crate::train::Silent).expect("fit");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let _: u64 = rng.random();
        let n = model.params().len();
        // Timings are not saved (a model file must not depend on them).
        let mut history = model.summary().expect("summary").history.clone();
        history.iter_mut().for_each(|r| r.seconds = 0.0);
        let state = TrainState {
            epoch: 3,
            rng: RngState::capture(&rng),
            adam_step: 12,
            adam_m: vec![0.5; n],
            adam_v: vec![0.25; n],
            train_order: vec![1],
            val_order: vec![0],
            best_epoch: 0,
            best_loss: f64::INFINITY,
            best_weights: Some(vec![1.0; n]),
            history,
            data: DataFingerprint::of(&[0.1, 0.2, 0.3, 0.4], 2),
        };
        let dir = tempfile::tempdir().expect("tempdir");
        save(dir.path(), model.manifest(), model.params(), &state).expect("save");
        let back = load(dir.path()).expect("load");
        assert_eq!(back.state, state);
        assert_eq!(back.manifest.config, model.manifest().config);
        assert_eq!(back.manifest.preprocess, model.manifest().preprocess);
        let mut restored = back.state.rng.restore();
        assert_eq!(restored.random::<u64>(), rng.random::<u64>());
    }
}
