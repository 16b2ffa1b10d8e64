//! The saved model: one `.safetensors` file holding the weights (named after the module tree)
//! and a JSON manifest in the safetensors metadata. One save path, one load path.

use crate::config::{FitConfig, ModelConfig};
use crate::engine::{Activation, Params};
use crate::model::detector::FittedDetector;
use crate::preprocess::Preprocessor;
use crate::train::TrainSummary;
use crate::{Error, Result};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Metadata key under which the manifest is stored.
pub const MANIFEST_KEY: &str = "latent";
/// Value of the manifest's `format` field.
pub const FORMAT_NAME: &str = "latent-model";
/// Newest model-file format version this latent reads; files with a newer version are refused.
/// Version 2 adds a saved Isolation Forest ([`Manifest::forest`]), version 3 the ensemble
/// detector ([`Manifest::ensemble`]); models without a detector are still written as
/// [`BASE_FORMAT_VERSION`], so older latents keep reading them. Recommenders are also written
/// as version 3, with `"kind": "recommender"` and their own manifest
/// ([`crate::recommend::RecManifest`]): this loader refuses them by their kind, older latents
/// by their version.
pub const FORMAT_VERSION: u32 = 3;
/// The version of model files with the forest detector.
pub const FOREST_FORMAT_VERSION: u32 = 2;
/// The version of model files without an Isolation Forest.
pub const BASE_FORMAT_VERSION: u32 = 1;
pub use crate::model::detector::FOREST_PREFIX;

/// Everything about a model except its weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// File format version.
    pub format_version: u32,
    /// Version of latent that wrote the file.
    pub latent_version: String,
    /// Model, preprocessing and training settings as used.
    pub config: FitConfig,
    /// Resolved output activation.
    pub output: Activation,
    /// Fitted preprocessing, including the input schema (column names and kinds).
    pub preprocess: Preprocessor,
    /// Training summary, when the model was trained.
    pub summary: Option<TrainSummary>,
    /// Anomaly threshold calibrated after training (see [`crate::score`]).
    #[serde(default)]
    pub anomaly: Option<crate::score::Threshold>,
    /// Shape of the saved Isolation Forest of the [`crate::Detector::Forest`] detector (its
    /// nodes are the `forest.*` tensors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forest: Option<crate::iforest::ForestShape>,
    /// Shapes of the members of the [`crate::Detector::Ensemble`] detector (their arrays are
    /// the `forest.*`, `input_forest.*`, `knn.reference` and `ensemble.standardise` tensors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<crate::model::ensemble::EnsembleShape>,
    /// How a windowed time-series model reads a series (see [`crate::series`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<crate::series::SeriesSpec>,
    /// The entropy model for compression (see [`crate::codec`]): quantisation step and integer
    /// probability tables of the code, fitted after training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codec: Option<crate::codec::CodecTables>,
}

impl Manifest {
    /// The model shape.
    pub fn model(&self) -> &ModelConfig {
        &self.config.model
    }
}

/// Writes `params`, the detector's tensors (if any) and `manifest` to `path` atomically
/// (temporary file, then rename).
pub fn save(
    path: &Path,
    manifest: &Manifest,
    params: &Params,
    detector: Option<&FittedDetector>,
) -> Result<()> {
    let json = serde_json::to_string(manifest)
        .map_err(|e| Error::Config(format!("cannot serialise the manifest: {e}")))?;
    let mut tensors = param_tensors(params);
    for (name, shape, values) in detector.map(FittedDetector::tensors).into_iter().flatten() {
        let mut t = Tensor::f32(&name, &values);
        t.shape = shape;
        tensors.push(t);
    }
    write_tensors(path, tensors, HashMap::from([(MANIFEST_KEY.to_string(), json)]))
}

/// One tensor to write: name, element type, shape and little-endian bytes.
pub(crate) struct Tensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

impl Tensor {
    /// A 1-D `f32` tensor.
    pub fn f32(name: &str, values: &[f32]) -> Tensor {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor { name: name.into(), dtype: Dtype::F32, shape: vec![values.len()], bytes }
    }

    /// A 1-D `u64` tensor.
    pub fn u64(name: &str, values: &[u64]) -> Tensor {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor { name: name.into(), dtype: Dtype::U64, shape: vec![values.len()], bytes }
    }
}

/// The parameters as tensors named after the module tree.
pub(crate) fn param_tensors(params: &Params) -> Vec<Tensor> {
    params
        .specs()
        .iter()
        .map(|s| {
            let mut t = Tensor::f32(&s.name, &params.values()[s.offset..s.offset + s.len]);
            t.shape = s.shape.clone();
            t
        })
        .collect()
}

/// Serialises tensors and metadata as safetensors and writes them atomically.
pub(crate) fn write_tensors(
    path: &Path,
    tensors: Vec<Tensor>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let views = tensors
        .iter()
        .map(|t| {
            TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                .map(|v| (t.name.clone(), v))
                .map_err(|e| file_error(path, format!("cannot write tensor {}: {e}", t.name)))
        })
        .collect::<Result<Vec<_>>>()?;
    let data = safetensors::serialize(views, Some(metadata))
        .map_err(|e| file_error(path, format!("cannot serialise: {e}")))?;
    write_atomic(path, &data)
}

/// Writes `data` to a temporary file beside `path`, syncs it, and renames it over `path`.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Reads a model file: checks that it is a latent model of a supported version and returns
/// its manifest and its tensors by name.
pub fn load(path: &Path) -> Result<(Manifest, HashMap<String, Vec<f32>>)> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
    parse(path, &bytes)
}

/// [`load`] on the bytes of a model file (`path` only names it in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<(Manifest, HashMap<String, Vec<f32>>)> {
    let not_model = |why: String| file_error(path, format!("not a latent model file ({why})"));
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| not_model(format!("not a safetensors file: {e}")))?;
    let metadata = meta.metadata().as_ref();
    if metadata.is_some_and(|m| m.contains_key(crate::checkpoint::CHECKPOINT_KEY)) {
        return Err(file_error(
            path,
            "this is a training checkpoint, not a model; resume the run from its folder".into(),
        ));
    }
    let json = metadata
        .and_then(|m| m.get(MANIFEST_KEY))
        .ok_or_else(|| not_model("no latent manifest in its metadata".into()))?;
    let manifest = parse_manifest(path, json)?;
    let tensors = read_tensors(path, bytes)?;
    let stored = tensors.values().map(|(_, data)| data.len() / 4).sum();
    check_manifest(path, &manifest, stored)?;
    let out = tensors
        .into_iter()
        .map(|(name, (dtype, data))| f32_values(path, &name, dtype, &data).map(|v| (name, v)))
        .collect::<Result<_>>()?;
    Ok((manifest, out))
}

/// Checks a manifest's format name and version and parses it.
pub(crate) fn parse_manifest(path: &Path, json: &str) -> Result<Manifest> {
    let not_model = |why: String| file_error(path, format!("not a latent model file ({why})"));
    let header: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| not_model(format!("manifest is not valid JSON: {e}")))?;
    if header.get("format").and_then(|v| v.as_str()) != Some(FORMAT_NAME) {
        return Err(not_model("manifest has no \"format\": \"latent-model\"".into()));
    }
    // Recommenders (format version 3) share the file format but not this manifest.
    if header.get("kind").and_then(|v| v.as_str()) == Some(crate::recommend::file::RECOMMENDER_KIND)
    {
        return Err(file_error(path, "this is a recommender model, not an autoencoder".into()));
    }
    let version = header.get("format_version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version == 0 || version > u64::from(FORMAT_VERSION) {
        return Err(file_error(
            path,
            format!(
                "model format version {version} is not supported by this latent \
                 (supports up to {FORMAT_VERSION}); upgrade latent"
            ),
        ));
    }
    serde_json::from_value(header).map_err(|e| file_error(path, format!("corrupt manifest: {e}")))
}

/// The most values per row a convolutional model's manifest may declare (2^24: far above any
/// image latent reads, far below what would exhaust memory per row).
const MAX_CONV_INPUTS: usize = 1 << 24;

/// Checks, before anything is built from it, that a manifest agrees with itself and with a
/// file storing `stored` weight values: the image shape has no zero dimension and matches the
/// number of inputs, and no layer (nor the input of a dense model, nor a convolution kernel)
/// is wider than the weights stored — every layer stores at least a bias of its width. A corrupt manifest must
/// not make the loader allocate gigabytes or build impossible layers.
fn check_manifest(path: &Path, manifest: &Manifest, stored: usize) -> Result<()> {
    let bad = |why: String| Err(file_error(path, format!("inconsistent manifest: {why}")));
    let inputs = manifest.preprocess.output_width();
    if let Some(img) = manifest.preprocess.image {
        let len = img.channels.checked_mul(img.height).and_then(|n| n.checked_mul(img.width));
        if img.channels == 0 || img.height == 0 || img.width == 0 || len != Some(inputs) {
            return bad(format!(
                "image shape {}x{}x{} does not match its {inputs} inputs",
                img.channels, img.height, img.width
            ));
        }
    }
    let model = manifest.model();
    let conv = matches!(model.architecture, crate::config::Architecture::Conv { .. });
    // A dense first layer stores at least `inputs` weights; a convolution's weights do not
    // grow with the image, so a conv model's input is bounded by a fixed size instead.
    if conv && inputs > MAX_CONV_INPUTS {
        return bad(format!("an image of {inputs} values is larger than {MAX_CONV_INPUTS}"));
    }
    let mut widths = if conv { Vec::new() } else { vec![("inputs", inputs)] };
    widths.extend(model.hidden.iter().flatten().map(|&h| ("a hidden layer", h)));
    let mut dense_code = true;
    if let crate::config::Architecture::Conv { channels, kernel, dense_code: dense, .. } =
        &model.architecture
    {
        dense_code = *dense;
        widths.extend(channels.iter().map(|&c| ("a convolution", c)));
        let taps = kernel.checked_mul(*kernel).unwrap_or(usize::MAX);
        widths.push(("the kernel", taps));
    }
    if dense_code {
        widths.extend(model.latent.map(|l| ("the code", l)));
    }
    if let Some((what, w)) = widths.into_iter().find(|&(_, w)| w > stored) {
        return bad(format!(
            "{what} has width {w} but the file stores only {stored} weight values"
        ));
    }
    // Each dense layer stores at least `from x to` weights: a manifest whose consecutive
    // widths multiply past what the file holds would only make the loader allocate.
    if model.architecture == crate::config::Architecture::Dense {
        let mut chain = vec![inputs];
        chain.extend(model.hidden.iter().flatten());
        chain.extend(model.latent);
        for pair in chain.windows(2) {
            if pair[0].checked_mul(pair[1]).is_none_or(|n| n > stored) {
                return bad(format!(
                    "a {}x{} layer needs more weights than the {stored} the file stores",
                    pair[0], pair[1]
                ));
            }
        }
    }
    Ok(())
}

/// Every tensor of a safetensors file: element type and raw little-endian bytes, by name.
pub(crate) fn read_tensors(path: &Path, bytes: &[u8]) -> Result<HashMap<String, (Dtype, Vec<u8>)>> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| file_error(path, format!("corrupt tensor data: {e}")))?;
    Ok(tensors.tensors().into_iter().map(|(n, v)| (n, (v.dtype(), v.data().to_vec()))).collect())
}

/// The values of an `f32` tensor.
pub(crate) fn f32_values(path: &Path, name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f32>> {
    if dtype != Dtype::F32 {
        return Err(file_error(path, format!("tensor {name} is {dtype:?}, expected F32")));
    }
    Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// Copies loaded tensors into `params`, checking that every tensor is present with its shape
/// and that every value is finite.
pub fn fill_params(
    path: &Path,
    params: &mut Params,
    mut tensors: HashMap<String, Vec<f32>>,
) -> Result<()> {
    let specs = params.specs().to_vec();
    for (i, spec) in specs.iter().enumerate() {
        let values = tensors
            .remove(&spec.name)
            .ok_or_else(|| file_error(path, format!("tensor {} is missing", spec.name)))?;
        if values.len() != spec.len {
            return Err(file_error(
                path,
                format!(
                    "tensor {} has {} values, expected shape {:?}",
                    spec.name,
                    values.len(),
                    spec.shape
                ),
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(file_error(path, format!("tensor {} holds NaN or inf", spec.name)));
        }
        let id = params.find(&specs[i].name).ok_or_else(|| file_error(path, "internal".into()))?;
        params.value_mut(id).copy_from_slice(&values);
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(file_error(path, format!("unexpected tensor {extra}")));
    }
    Ok(())
}

pub(crate) fn file_error(path: &Path, message: String) -> Error {
    Error::ModelFile { path: path.to_path_buf(), message }
}
