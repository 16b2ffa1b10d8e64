//! A trained autoencoder: fitted preprocessing, network and weights, with the jobs users run
//! on it (encode, reconstruct, per-row error) and its file.

pub mod dense;

use crate::artifact::{self, Manifest, FORMAT_NAME, FORMAT_VERSION};
use crate::config::FitConfig;
use crate::engine::{Activation, Params};
use crate::frame::Frame;
use crate::objective::RowErrors;
use crate::preprocess::Preprocessor;
use crate::train::{self, Observer, TrainSummary, Trainable};
use crate::{Error, Result};
use dense::{DenseNet, Workspace};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Rows per forward pass in inference.
const INFERENCE_CHUNK: usize = 1024;

/// A row-major matrix of `f32`.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// `rows * cols` values, row-major.
    pub data: Vec<f32>,
}

/// A trained (or loaded) autoencoder.
#[derive(Clone, Debug)]
pub struct Model {
    manifest: Manifest,
    net: DenseNet,
    params: Params,
}

/// The network with its buffers, as the training loop sees it.
struct DenseTrainer<'a> {
    net: &'a DenseNet,
    params: &'a mut Params,
    ws: Workspace,
}

impl Trainable for DenseTrainer<'_> {
    fn params(&self) -> &Params {
        self.params
    }
    fn params_mut(&mut self) -> &mut Params {
        self.params
    }
    fn reserve(&mut self, rows: usize) {
        if self.ws.capacity() < rows {
            self.ws = self.net.workspace(rows);
        }
    }
    fn train_batch(&mut self, x: &[f32], rows: usize, rng: &mut ChaCha8Rng) -> f64 {
        self.net.train_step(self.params, &mut self.ws, x, x, rows, rng)
    }
    fn eval_batch(&mut self, x: &[f32], rows: usize) -> f64 {
        self.net.eval_loss(self.params, &mut self.ws, x, x, rows)
    }
}

impl Model {
    /// Fits preprocessing on `frame`, then builds and trains the network.
    pub fn fit(frame: &Frame, config: &FitConfig, observer: &mut dyn Observer) -> Result<Model> {
        config.validate()?;
        let preprocess = Preprocessor::fit(frame, &config.preprocess)?;
        let data = preprocess.transform(frame)?;
        let output = config.model.output.unwrap_or_else(|| {
            if data.iter().all(|v| (0.0..=1.0).contains(v)) {
                Activation::Sigmoid
            } else {
                Activation::Identity
            }
        });
        if config.model.loss == crate::config::Loss::Bce
            && !data.iter().all(|v| (0.0..=1.0).contains(v))
        {
            return Err(Error::Config(
                "binary cross-entropy needs inputs in [0, 1] after scaling (use --scale minmax)"
                    .into(),
            ));
        }
        let mut config = config.clone();
        config.model = config.model.resolve(preprocess.output_width());
        let mut model = Model::build(Manifest {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            latent_version: env!("CARGO_PKG_VERSION").into(),
            config: config.clone(),
            output,
            preprocess,
            summary: None,
        })?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed);
        model.net.init(&mut model.params, &mut rng);
        let width = model.net.width();
        let summary = {
            let mut trainer = DenseTrainer {
                net: &model.net,
                params: &mut model.params,
                ws: model.net.workspace(0),
            };
            train::train(&mut trainer, &data, width, &config.train, &mut rng, observer)?
        };
        model.manifest.summary = Some(summary);
        Ok(model)
    }

    /// Builds the network described by a manifest (weights zero).
    fn build(manifest: Manifest) -> Result<Model> {
        manifest.config.model.validate()?;
        let width = manifest.preprocess.output_width();
        if width == 0 {
            return Err(Error::Config("model has no inputs".into()));
        }
        let mut params = Params::new();
        let net = DenseNet::new(&mut params, width, &manifest.config.model, manifest.output);
        Ok(Model { manifest, net, params })
    }

    /// Loads a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let (manifest, tensors) = artifact::load(path)?;
        let mut model = Model::build(manifest).map_err(|e| Error::ModelFile {
            path: path.to_path_buf(),
            message: format!("inconsistent manifest: {e}"),
        })?;
        artifact::fill_params(path, &mut model.params, tensors)?;
        Ok(model)
    }

    /// Saves the model atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        artifact::save(path, &self.manifest, &self.params)
    }

    /// Everything about the model but its weights.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Everything about the model but its weights, mutably (for calibration steps that add to
    /// the manifest after training).
    pub fn manifest_mut(&mut self) -> &mut Manifest {
        &mut self.manifest
    }

    /// The fitted preprocessing (input schema).
    pub fn preprocessor(&self) -> &Preprocessor {
        &self.manifest.preprocess
    }

    /// The training summary, when trained in this version.
    pub fn summary(&self) -> Option<&TrainSummary> {
        self.manifest.summary.as_ref()
    }

    /// The weights.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Number of trainable values.
    pub fn parameter_count(&self) -> usize {
        self.params.len()
    }

    /// Layer widths from input through code to output, e.g. `[784, 256, 32, 256, 784]`.
    pub fn layer_widths(&self) -> Vec<usize> {
        let layers = self.net.layers();
        let mut w = vec![self.net.width()];
        w.extend(layers.iter().map(|l| l.outputs));
        w
    }

    /// Width of the latent code.
    pub fn code_width(&self) -> usize {
        self.net.code_width()
    }

    /// Model inputs (after preprocessing) of `frame`, row-major.
    pub fn inputs(&self, frame: &Frame) -> Result<Vec<f32>> {
        self.manifest.preprocess.transform(frame)
    }

    /// Latent codes of every row.
    pub fn encode(&self, frame: &Frame) -> Result<Matrix> {
        let x = self.inputs(frame)?;
        let cw = self.code_width();
        let mut data = Vec::with_capacity(frame.rows() * cw);
        self.for_each_chunk(&x, |ws, rows| data.extend_from_slice(self.net.codes(ws, rows)));
        Ok(Matrix { rows: frame.rows(), cols: cw, data })
    }

    /// Reconstructions of every row, in model-input space (after scaling).
    pub fn reconstruct_scaled(&self, frame: &Frame) -> Result<Matrix> {
        let x = self.inputs(frame)?;
        Ok(self.reconstruct_inputs(&x))
    }

    /// Reconstructions of already-preprocessed rows.
    pub fn reconstruct_inputs(&self, x: &[f32]) -> Matrix {
        let w = self.net.width();
        let mut data = Vec::with_capacity(x.len());
        self.for_each_chunk(x, |ws, rows| {
            data.extend_from_slice(self.net.reconstructions(ws, rows))
        });
        Matrix { rows: x.len() / w, cols: w, data }
    }

    /// Reconstructions of every row in the original units and columns.
    pub fn reconstruct(&self, frame: &Frame) -> Result<Frame> {
        let r = self.reconstruct_scaled(frame)?;
        self.manifest.preprocess.inverse(&r.data)
    }

    /// Decodes latent codes (`rows x code_width`) to model-input space.
    pub fn decode(&self, codes: &[f32]) -> Result<Matrix> {
        let cw = self.code_width();
        if codes.len() % cw != 0 {
            return Err(Error::Data(format!("codes do not have width {cw}")));
        }
        let w = self.net.width();
        let rows = codes.len() / cw;
        let mut ws = self.net.workspace(INFERENCE_CHUNK.min(rows.max(1)));
        let mut data = Vec::with_capacity(rows * w);
        for part in codes.chunks(INFERENCE_CHUNK * cw) {
            let n = part.len() / cw;
            self.net.decode(&self.params, &mut ws, part, n);
            data.extend_from_slice(self.net.reconstructions(&ws, n));
        }
        Ok(Matrix { rows, cols: w, data })
    }

    /// Per-row reconstruction errors in model-input space (after scaling), averaged over
    /// features.
    pub fn row_errors(&self, frame: &Frame) -> Result<RowErrors> {
        let x = self.inputs(frame)?;
        let w = self.net.width();
        let mut errors = RowErrors::default();
        let mut start = 0;
        self.for_each_chunk(&x, |ws, rows| {
            let t = &x[start * w..(start + rows) * w];
            errors.extend(self.net.reconstructions(ws, rows), t, w);
            start += rows;
        });
        Ok(errors)
    }

    /// Runs the forward pass over `x` in chunks, calling `f` after each chunk.
    fn for_each_chunk(&self, x: &[f32], mut f: impl FnMut(&Workspace, usize)) {
        let w = self.net.width();
        let rows = x.len() / w;
        let mut ws = self.net.workspace(INFERENCE_CHUNK.min(rows.max(1)));
        for part in x.chunks(INFERENCE_CHUNK * w) {
            let n = part.len() / w;
            self.net.forward(&self.params, &mut ws, part, n, None);
            f(&ws, n);
        }
    }
}
