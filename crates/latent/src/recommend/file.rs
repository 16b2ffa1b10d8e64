//! Recommenders in the model file: the same `.safetensors` file as every latent model, with
//! a recommender manifest (`"kind": "recommender"`, format version
//! [`RECOMMENDER_FORMAT_VERSION`]) holding the settings, the columns trained with, the item
//! vocabulary and the training summary. Autoencoder loaders refuse such a file by its kind,
//! and latents older than the recommender format by its version ("upgrade latent").

use super::fit::{RecSummary, Recommender};
use super::multvae::{MultVae, Shape};
use super::{InteractionColumns, RecConfig, RecKind};
use crate::artifact::{self, file_error, Tensor, FORMAT_NAME, MANIFEST_KEY};
use crate::{Error, Result};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The manifest's `kind` value for recommenders.
pub const RECOMMENDER_KIND: &str = "recommender";
/// Format version of recommender files.
pub const RECOMMENDER_FORMAT_VERSION: u32 = 3;
/// Tensor of EASE's weights.
const EASE_TENSOR: &str = "ease.weight";
/// Tensor of the popularity counts.
const POPULARITY_TENSOR: &str = "popularity.count";

/// Everything about a recommender except its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecManifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`RECOMMENDER_FORMAT_VERSION`].
    pub format_version: u32,
    /// Always [`RECOMMENDER_KIND`].
    pub kind: String,
    /// Version of latent that wrote the file.
    pub latent_version: String,
    /// Settings as used.
    pub config: RecConfig,
    /// The columns the model was trained with (defaults for `recommend`).
    pub columns: InteractionColumns,
    /// Item ids, in the order of the model's item axis.
    pub items: Vec<String>,
    /// What training found.
    pub summary: RecSummary,
}

/// A recommender with its manifest: what `latent train --preset mult-vae|mult-dae|ease`
/// writes and `latent recommend` reads.
#[derive(Clone, Debug)]
pub struct RecModel {
    /// The manifest.
    pub manifest: RecManifest,
    /// The fitted model.
    pub model: Recommender,
    index: HashMap<String, u32>,
}

impl RecModel {
    /// Wraps a fitted model.
    pub fn new(
        config: RecConfig,
        columns: InteractionColumns,
        items: Vec<String>,
        summary: RecSummary,
        model: Recommender,
    ) -> RecModel {
        let manifest = RecManifest {
            format: FORMAT_NAME.into(),
            format_version: RECOMMENDER_FORMAT_VERSION,
            kind: RECOMMENDER_KIND.into(),
            latent_version: env!("CARGO_PKG_VERSION").into(),
            config,
            columns,
            items,
            summary,
        };
        let index = index_of(&manifest.items);
        RecModel { manifest, model, index }
    }

    /// Item id → index on the model's item axis.
    pub fn item_index(&self) -> &HashMap<String, u32> {
        &self.index
    }

    /// Number of stored weight values.
    pub fn parameter_count(&self) -> usize {
        match &self.model {
            Recommender::Popularity { counts } => counts.len(),
            Recommender::Ease { weights, .. } => weights.len(),
            Recommender::MultVae(m) => m.params().len(),
        }
    }

    /// Writes the model file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string(&self.manifest)
            .map_err(|e| Error::Config(format!("cannot serialise the manifest: {e}")))?;
        let n = self.manifest.items.len();
        let tensors = match &self.model {
            Recommender::Popularity { counts } => vec![Tensor::f32(POPULARITY_TENSOR, counts)],
            Recommender::Ease { weights, .. } => {
                let mut t = Tensor::f32(EASE_TENSOR, weights);
                t.shape = vec![n, n];
                vec![t]
            }
            Recommender::MultVae(m) => artifact::param_tensors(m.params()),
        };
        artifact::write_tensors(path, tensors, HashMap::from([(MANIFEST_KEY.to_string(), json)]))
    }

    /// Reads a recommender model file.
    pub fn load(path: &Path) -> Result<RecModel> {
        let bytes =
            std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
        let json = manifest_json(path, &bytes)?;
        let manifest = parse_manifest(path, &json)?;
        let tensors = artifact::read_tensors(path, &bytes)?;
        let mut values = HashMap::new();
        for (name, (dtype, data)) in tensors {
            values.insert(name.clone(), artifact::f32_values(path, &name, dtype, &data)?);
        }
        let n = manifest.items.len();
        let mut take = |name: &str, len: usize| -> Result<Vec<f32>> {
            let v = values
                .remove(name)
                .ok_or_else(|| file_error(path, format!("tensor {name} is missing")))?;
            if v.len() != len {
                return Err(file_error(
                    path,
                    format!("tensor {name} has {} values, expected {len}", v.len()),
                ));
            }
            Ok(v)
        };
        let c = &manifest.config;
        let model = match c.kind {
            RecKind::Popularity => Recommender::Popularity { counts: take(POPULARITY_TENSOR, n)? },
            RecKind::Ease => {
                let len =
                    n.checked_mul(n).ok_or_else(|| file_error(path, "too many items".into()))?;
                Recommender::Ease { items: n, weights: take(EASE_TENSOR, len)? }
            }
            RecKind::MultVae | RecKind::MultDae => {
                let shape = Shape {
                    items: n,
                    hidden: c.hidden,
                    latent: c.latent,
                    variational: c.kind == RecKind::MultVae,
                };
                // Each layer stores at least items x hidden values: refuse sizes the file
                // cannot hold before allocating them.
                let stored: usize = values.values().map(Vec::len).sum();
                let width = if c.hidden == 0 { c.latent } else { c.hidden };
                let need = n.checked_mul(width).filter(|&x| x <= stored);
                let code = c.latent.checked_mul(2 * width).filter(|&x| x <= stored);
                if need.is_none() || code.is_none() {
                    return Err(file_error(
                        path,
                        "inconsistent manifest: sizes exceed the stored weights".into(),
                    ));
                }
                let mut net = MultVae::empty(shape);
                artifact::fill_params(path, net.params_mut(), std::mem::take(&mut values))?;
                Recommender::MultVae(Box::new(net))
            }
        };
        if let Some(extra) = values.keys().next() {
            return Err(file_error(path, format!("unexpected tensor {extra}")));
        }
        let index = index_of(&manifest.items);
        Ok(RecModel { manifest, model, index })
    }
}

fn index_of(items: &[String]) -> HashMap<String, u32> {
    items.iter().enumerate().map(|(i, s)| (s.clone(), i as u32)).collect()
}

/// The manifest JSON of a model file.
fn manifest_json(path: &Path, bytes: &[u8]) -> Result<String> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| {
        file_error(path, format!("not a latent model file (not a safetensors file: {e})"))
    })?;
    meta.metadata().as_ref().and_then(|m| m.get(MANIFEST_KEY)).cloned().ok_or_else(|| {
        file_error(path, "not a latent model file (no latent manifest in its metadata)".into())
    })
}

fn parse_manifest(path: &Path, json: &str) -> Result<RecManifest> {
    let header: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| file_error(path, format!("manifest is not valid JSON: {e}")))?;
    if header.get("kind").and_then(|k| k.as_str()) != Some(RECOMMENDER_KIND) {
        return Err(file_error(
            path,
            "this model is not a recommender (a recommender is trained with the mult-vae, \
             mult-dae or ease preset)"
                .into(),
        ));
    }
    let version = header.get("format_version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version != u64::from(RECOMMENDER_FORMAT_VERSION) {
        return Err(file_error(
            path,
            format!("recommender format version {version} is not supported by this latent; upgrade latent"),
        ));
    }
    serde_json::from_value(header).map_err(|e| file_error(path, format!("corrupt manifest: {e}")))
}

/// True when `path` is a latent model file holding a recommender (reads only the
/// safetensors header, not the weights).
pub fn is_recommender(path: &Path) -> bool {
    use std::io::Read;
    let header = (|| -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(path)?;
        let mut len = [0u8; 8];
        f.read_exact(&mut len)?;
        let len = u64::from_le_bytes(len).min(100 << 20) as usize;
        let mut buf = vec![0u8; len];
        f.read_exact(&mut buf)?;
        Ok(buf)
    })();
    let Ok(header) = header else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&header)
        .ok()
        .and_then(|h| {
            let json = h.get("__metadata__")?.get(MANIFEST_KEY)?.as_str()?.to_string();
            let m: serde_json::Value = serde_json::from_str(&json).ok()?;
            Some(m.get("kind")?.as_str()? == RECOMMENDER_KIND)
        })
        .unwrap_or(false)
}
