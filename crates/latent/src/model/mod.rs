//! A trained autoencoder: fitted preprocessing, network and weights, with the jobs users run
//! on it (encode, reconstruct, decode, per-row error) and its file.

pub mod detector;
pub mod ensemble;
mod finetune;
mod stream;
pub use stream::StreamSettings;
#[doc(hidden)]
pub mod layer;
#[doc(hidden)]
pub mod net;
pub mod variational;

use crate::artifact::{self, Manifest, BASE_FORMAT_VERSION, FORMAT_NAME};
use crate::checkpoint;
use crate::config::{Architecture, FitConfig, LatentKind, Loss, Objective};
use crate::engine::backend::Cpu;
use crate::engine::{Activation, Params};
use crate::frame::{Frame, ImageShape};
use crate::objective::RowErrors;
use crate::preprocess::Preprocessor;
use crate::train::{self, Checkpoints, Observer, RunOptions, TrainState, TrainSummary, Trainable};
use crate::{Error, Result};
use net::{Net, Workspace};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

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
    net: Net,
    params: Params,
    /// For a convolutional model of multi-channel images: `perm[i]` is the feature index
    /// (C x H x W order) of the network's input `i` (H x W x C order).
    perm: Option<Vec<usize>>,
    /// The fitted anomaly detector ([`detector::FittedDetector`]), if the config has one.
    detector: Option<detector::FittedDetector>,
}

/// The network with its buffers, as the training loop sees it.
struct Trainer<'a> {
    net: &'a Net,
    params: &'a mut Params,
    ws: Workspace,
    objective: &'a Objective,
    kl_weight: f32,
}

impl<'a> Trainer<'a> {
    fn new(net: &'a Net, params: &'a mut Params, objective: &'a Objective) -> Self {
        Trainer { net, params, ws: net.workspace(0), objective, kl_weight: objective.beta }
    }
}

impl Trainable for Trainer<'_> {
    fn params(&self) -> &Params {
        self.params
    }
    fn params_mut(&mut self) -> &mut Params {
        self.params
    }
    fn start_epoch(&mut self, epoch: usize) {
        let o = self.objective;
        let ramp =
            if o.kl_warmup == 0 { 1.0 } else { (epoch as f32 / o.kl_warmup as f32).min(1.0) };
        self.kl_weight = o.beta * ramp;
    }
    fn warming_up(&self) -> bool {
        self.kl_weight < self.objective.beta
    }
    fn reserve(&mut self, rows: usize) {
        if self.ws.capacity() < rows {
            self.ws = self.net.workspace(rows);
        }
    }
    fn train_batch(&mut self, x: &[f32], rows: usize, rng: &mut ChaCha8Rng) -> Result<f64> {
        self.net.train_step(&Cpu, self.params, &mut self.ws, x, rows, self.kl_weight, rng)
    }
    fn eval_batch(&mut self, x: &[f32], rows: usize) -> Result<f64> {
        self.net.eval_loss(&Cpu, self.params, &mut self.ws, x, rows)
    }
}

/// Where a training run writes its checkpoints, how often, and which checkpoint it continues.
#[derive(Clone, Debug, Default)]
pub struct CheckpointOptions {
    /// The checkpoint folder (see [`checkpoint::default_dir`]); `None` writes none.
    pub dir: Option<PathBuf>,
    /// Epochs between checkpoints; 0 writes none.
    pub every: usize,
    /// A checkpoint (folder or file) to continue from.
    pub resume: Option<PathBuf>,
}

/// The manifest of a new run (preprocessing fitted on `frame`, output and shape resolved) and
/// the preprocessed rows.
fn fresh_manifest(frame: &Frame, config: &FitConfig) -> Result<(Manifest, Vec<f32>)> {
    let preprocess = Preprocessor::fit(frame, &config.preprocess)?;
    let data = preprocess.transform(frame)?;
    let unit = in_unit_interval(&data);
    Ok((new_manifest(preprocess, unit, config)?, data))
}

/// The manifest of a new run on fitted preprocessing; `unit` tells whether every
/// preprocessed training value lies in [0, 1] (then the output defaults to a sigmoid).
fn new_manifest(preprocess: Preprocessor, unit: bool, config: &FitConfig) -> Result<Manifest> {
    let output = config.model.output.unwrap_or(if unit {
        Activation::Sigmoid
    } else {
        Activation::Identity
    });
    if config.model.loss == Loss::Bce && !unit {
        return Err(Error::Config(
            "binary cross-entropy needs inputs in [0, 1] after scaling (min-max scaling)".into(),
        ));
    }
    if config.objective.distortion == crate::config::Distortion::MsSsim {
        // Before the network is built: its convolutions would complain first.
        crate::model::net::check_ms_ssim_data(preprocess.image, unit)?;
    }
    if config.objective.binarize && !unit {
        return Err(Error::Config("binarisation needs inputs in [0, 1]".into()));
    }
    let mut config = config.clone();
    config.model = config.model.resolve(preprocess.output_width());
    Ok(Manifest {
        format: FORMAT_NAME.into(),
        format_version: BASE_FORMAT_VERSION,
        latent_version: env!("CARGO_PKG_VERSION").into(),
        config,
        output,
        preprocess,
        summary: None,
        anomaly: None,
        forest: None,
        ensemble: None,
        series: None,
        codec: None,
    })
}

/// The checkpoint's manifest, after checking that `config` asks for the same run; only the
/// epoch count (with the step minimum) and time budget may change.
fn resumed_manifest(mut manifest: Manifest, config: &FitConfig) -> Result<Manifest> {
    let saved = &manifest.config;
    let mut asked = config.clone();
    asked.model = asked.model.resolve(manifest.preprocess.output_width());
    asked.train.epochs = saved.train.epochs;
    asked.train.min_steps = saved.train.min_steps;
    asked.train.max_seconds = saved.train.max_seconds;
    let differs = [
        ("model", asked.model != saved.model),
        ("objective", asked.objective != saved.objective),
        ("preprocessing", asked.preprocess != saved.preprocess),
        ("training", asked.train != saved.train),
    ];
    if let Some((part, _)) = differs.iter().find(|(_, d)| *d) {
        return Err(Error::Config(format!(
            "the checkpoint was made with other {part} settings; resume with the same flags \
             and config (only the epochs and the time budget may change)"
        )));
    }
    manifest.config.train.epochs = config.train.epochs;
    manifest.config.train.min_steps = config.train.min_steps;
    manifest.config.train.max_seconds = config.train.max_seconds;
    Ok(manifest)
}

fn in_unit_interval(data: &[f32]) -> bool {
    data.iter().all(|v| (0.0..=1.0).contains(v))
}

impl Model {
    /// Fits preprocessing on `frame`, then builds and trains the network.
    pub fn fit(frame: &Frame, config: &FitConfig, observer: &mut dyn Observer) -> Result<Model> {
        Model::fit_with(frame, config, observer, &CheckpointOptions::default())
    }

    /// [`Model::fit`] with checkpoints written during the run, or continuing a checkpointed
    /// run. A resumed run needs the same data and settings (only `epochs` and `max_seconds`
    /// may change) and ends with the weights the uninterrupted run would have had.
    pub fn fit_with(
        frame: &Frame,
        config: &FitConfig,
        observer: &mut dyn Observer,
        checkpoints: &CheckpointOptions,
    ) -> Result<Model> {
        config.validate()?;
        let resume = checkpoints.resume.as_deref().map(checkpoint::load).transpose()?;
        let (manifest, mut data, weights, state) = match resume {
            Some(c) => {
                let manifest = resumed_manifest(c.manifest, config)?;
                let data = manifest.preprocess.transform(frame)?;
                (manifest, data, Some(c.weights), Some(c.state))
            }
            None => {
                let (manifest, data) = fresh_manifest(frame, config)?;
                (manifest, data, None, None)
            }
        };
        let config = manifest.config.clone();
        let mut model = Model::build(manifest)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.train.seed);
        match weights {
            Some(w) => {
                let path = checkpoints.resume.as_deref().map(checkpoint::file_in);
                artifact::fill_params(&path.unwrap_or_default(), &mut model.params, w)?;
            }
            None => model.net.init(&mut model.params, &mut rng),
        }
        if let Some(perm) = &model.perm {
            data = permute_rows(&data, perm);
        }
        let width = model.net.width();
        let summary = {
            let Model { manifest, net, params, .. } = &mut model;
            let mut save = |state: &TrainState, params: &Params| match &checkpoints.dir {
                Some(dir) => checkpoint::save(dir, manifest, params, state),
                None => Ok(()),
            };
            let options = RunOptions {
                resume: state,
                checkpoints: (checkpoints.every > 0 && checkpoints.dir.is_some())
                    .then_some(Checkpoints { every: checkpoints.every, save: &mut save }),
            };
            let mut trainer = Trainer::new(net, params, &config.objective);
            train::train(&mut trainer, &data, width, &config.train, &mut rng, observer, options)?
        };
        model.manifest.summary = Some(summary);
        if let Some(density) = model.net.density() {
            model.manifest.codec = Some(crate::codec::density_tables(density, &model.params)?);
        }
        if !config.detector.is_reconstruction() {
            let x = model.inputs(frame)?;
            model.fit_detector(&x, config.train.seed)?;
        }
        Ok(model)
    }

    /// Builds the network described by a manifest (weights zero).
    fn build(manifest: Manifest) -> Result<Model> {
        manifest.config.validate()?;
        let width = manifest.preprocess.output_width();
        if width == 0 {
            return Err(Error::Config("model has no inputs".into()));
        }
        let mut params = Params::new();
        let image = manifest.preprocess.image;
        let c = &manifest.config;
        let net = Net::new(&mut params, width, image, &c.model, manifest.output, &c.objective)?;
        let perm = match (&c.model.architecture, image) {
            (Architecture::Conv { .. }, Some(img)) if img.channels > 1 => Some(chw_to_hwc(img)),
            _ => None,
        };
        Ok(Model { manifest, net, params, perm, detector: None })
    }

    /// Loads a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let (manifest, mut tensors) = artifact::load(path)?;
        let detector = detector::FittedDetector::from_tensors(path, &manifest, &mut tensors)?;
        let mut model = Model::build(manifest).map_err(|e| Error::ModelFile {
            path: path.to_path_buf(),
            message: format!("inconsistent manifest: {e}"),
        })?;
        artifact::fill_params(path, &mut model.params, tensors)?;
        model.detector = detector;
        Ok(model)
    }

    /// Saves the model atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        artifact::save(path, &self.manifest, &self.params, self.detector.as_ref())
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

    /// Changes what scoring does with missing values (for example, impute with the training
    /// means a model trained on complete data). Training means are saved for every column.
    pub fn set_missing_policy(&mut self, policy: crate::MissingPolicy) {
        self.manifest.preprocess.missing = policy;
    }

    /// Records the name of the training file's label column (see
    /// [`Preprocessor::label_column`]).
    pub fn set_label_column(&mut self, name: Option<String>) {
        self.manifest.preprocess.label_column = name;
    }

    /// Records the training file's identifier columns (see [`Preprocessor::id_columns`]).
    pub fn set_id_columns(&mut self, names: Vec<String>) {
        self.manifest.preprocess.id_columns = names;
    }

    /// The training summary, when trained in this version.
    pub fn summary(&self) -> Option<&TrainSummary> {
        self.manifest.summary.as_ref()
    }

    /// The network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The weights.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Number of trainable values.
    pub fn parameter_count(&self) -> usize {
        self.params.len()
    }

    /// True for a variational (Gaussian-code) model.
    pub fn is_variational(&self) -> bool {
        self.net.latent_kind() == LatentKind::Gaussian
    }

    /// Image shape of the inputs, when they are images.
    pub fn image_shape(&self) -> Option<ImageShape> {
        self.manifest.preprocess.image
    }

    /// Per-sample widths from input through code to output, e.g. `[784, 256, 32, 256, 784]`
    /// (a variational code counts once, at the latent size).
    pub fn layer_widths(&self) -> Vec<usize> {
        let mut w = vec![self.net.width()];
        w.extend(self.net.layers().iter().map(|l| l.outputs()));
        if self.is_variational() {
            if let Some(x) = w.iter_mut().find(|x| **x == 2 * self.code_width()) {
                *x = self.code_width();
            }
        }
        w
    }

    /// Width of the latent code.
    pub fn code_width(&self) -> usize {
        self.net.code_width()
    }

    /// Model inputs (after preprocessing) of `frame`, row-major, in feature order.
    pub fn inputs(&self, frame: &Frame) -> Result<Vec<f32>> {
        self.manifest.preprocess.transform(frame)
    }

    /// Latent codes of every row (the posterior mean for a variational model).
    pub fn encode(&self, frame: &Frame) -> Result<Matrix> {
        self.encode_inputs(&self.inputs(frame)?)
    }

    /// Latent codes of already-preprocessed rows.
    pub fn encode_inputs(&self, x: &[f32]) -> Result<Matrix> {
        let cw = self.code_width();
        let rows = x.len() / self.net.width();
        let mut data = vec![0.0; rows * cw];
        self.fill_rows(x, &mut data, cw, |ws, n, out| self.net.codes_into(ws, n, out))?;
        Ok(Matrix { rows, cols: cw, data })
    }

    /// Reconstructions of every row, in model-input space (after scaling).
    pub fn reconstruct_scaled(&self, frame: &Frame) -> Result<Matrix> {
        self.reconstruct_inputs(&self.inputs(frame)?)
    }

    /// Reconstructions of already-preprocessed rows.
    pub fn reconstruct_inputs(&self, x: &[f32]) -> Result<Matrix> {
        let w = self.net.width();
        let mut data = vec![0.0; x.len() - x.len() % w.max(1)];
        self.fill_rows(x, &mut data, w, |ws, n, out| {
            out.copy_from_slice(self.net.reconstructions(ws, n));
        })?;
        Ok(Matrix { rows: x.len() / w, cols: w, data: self.to_feature_order(data) })
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
        let mut ws = self.net.workspace(INFERENCE_CHUNK.min(rows.max(1))).for_inference();
        let mut data = Vec::with_capacity(rows * w);
        for part in codes.chunks(INFERENCE_CHUNK * cw) {
            let n = part.len() / cw;
            self.net.decode(&Cpu, &self.params, &mut ws, part, n)?;
            data.extend_from_slice(self.net.reconstructions(&ws, n));
        }
        Ok(Matrix { rows, cols: w, data: self.to_feature_order(data) })
    }

    /// Per-row reconstruction errors in model-input space (after scaling), averaged over
    /// features.
    pub fn row_errors(&self, frame: &Frame) -> Result<RowErrors> {
        let x = self.inputs(frame)?;
        let r = self.reconstruct_inputs(&x)?;
        let mut errors = RowErrors::default();
        errors.extend(&r.data, &x, self.net.width());
        Ok(errors)
    }

    /// Runs the forward pass (no noise; a variational code at its mean) over `x` (feature
    /// order) in chunks spread over the threads, and lets `f(ws, n, out)` write each chunk's
    /// `n` rows of `out_width` values into its part of `out` (`rows x out_width`).
    pub fn fill_rows(
        &self,
        x: &[f32],
        out: &mut [f32],
        out_width: usize,
        f: impl Fn(&Workspace, usize, &mut [f32]) + Sync,
    ) -> Result<()> {
        let w = self.net.width();
        let rows = x.len() / w.max(1);
        if rows == 0 || out_width == 0 {
            return Ok(());
        }
        let chunk = inference_chunk_rows(rows);
        if rows <= chunk {
            // One chunk: on this thread, without a round trip through the thread pool.
            let mut ws = self.net.workspace(rows).for_inference();
            self.forward_chunk(&mut ws, &x[..rows * w], rows)?;
            f(&ws, rows, &mut out[..rows * out_width]);
            return Ok(());
        }
        x[..rows * w]
            .par_chunks(chunk * w)
            .zip(out[..rows * out_width].par_chunks_mut(chunk * out_width))
            .try_for_each_init(
                || self.net.workspace(chunk).for_inference(),
                |ws, (part, out)| {
                    let n = part.len() / w;
                    self.forward_chunk(ws, part, n)?;
                    f(ws, n, out);
                    Ok(())
                },
            )
    }

    /// Runs the forward pass over `x` in chunks spread over the threads, keeping the output
    /// layer's logits when `with_logits` (for likelihoods), and returns `f(ws, rows)` of each
    /// chunk in row order, `rows` being the chunk's range of row indices.
    fn map_chunks<T: Send>(
        &self,
        x: &[f32],
        with_logits: bool,
        f: impl Fn(&Workspace, std::ops::Range<usize>) -> T + Sync,
    ) -> Result<Vec<T>> {
        let w = self.net.width();
        let rows = x.len() / w.max(1);
        if rows == 0 {
            return Ok(Vec::new());
        }
        let chunk = inference_chunk_rows(rows);
        let workspace = || {
            let ws = self.net.workspace(chunk.min(rows));
            if with_logits {
                ws
            } else {
                ws.for_inference()
            }
        };
        if rows <= chunk {
            let mut ws = workspace();
            self.forward_chunk(&mut ws, &x[..rows * w], rows)?;
            return Ok(vec![f(&ws, 0..rows)]);
        }
        x[..rows * w]
            .par_chunks(chunk * w)
            .enumerate()
            .map_init(workspace, |ws, (i, part)| {
                let n = part.len() / w;
                self.forward_chunk(ws, part, n)?;
                Ok(f(ws, i * chunk..i * chunk + n))
            })
            .collect()
    }

    /// One inference forward pass over `n` feature-order rows.
    fn forward_chunk(&self, ws: &mut Workspace, part: &[f32], n: usize) -> Result<()> {
        match &self.perm {
            Some(perm) => {
                self.net.forward(&Cpu, &self.params, ws, &permute_rows(part, perm), n, None)
            }
            None => self.net.forward(&Cpu, &self.params, ws, part, n, None),
        }
    }

    /// Feature-order rows in the network's order (borrowed when they are the same).
    fn network_order<'x>(&self, x: &'x [f32]) -> std::borrow::Cow<'x, [f32]> {
        match &self.perm {
            Some(perm) => std::borrow::Cow::Owned(permute_rows(x, perm)),
            None => std::borrow::Cow::Borrowed(x),
        }
    }

    /// Network-order rows back to feature order.
    fn to_feature_order(&self, data: Vec<f32>) -> Vec<f32> {
        match &self.perm {
            Some(perm) => unpermute_rows(&data, perm),
            None => data,
        }
    }
}

/// Fewer rows than this are not split over threads (a request of a few rows is answered on
/// the caller's thread).
const MIN_PARALLEL_CHUNK: usize = 32;

/// Rows per chunk of parallel inference: every thread gets a chunk, and none is larger than
/// [`INFERENCE_CHUNK`]. A row's result depends on the chunking only through the rounding of
/// the matrix product's blocking (a few ulps).
fn inference_chunk_rows(rows: usize) -> usize {
    rows.div_ceil(rayon::current_num_threads().max(1)).clamp(MIN_PARALLEL_CHUNK, INFERENCE_CHUNK)
}

/// `perm[i]` = C x H x W index of the H x W x C position `i`.
fn chw_to_hwc(img: ImageShape) -> Vec<usize> {
    let (c, h, w) = (img.channels, img.height, img.width);
    let mut perm = Vec::with_capacity(c * h * w);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                perm.push((ch * h + y) * w + x);
            }
        }
    }
    perm
}

/// Reorders each row: `out[i] = row[perm[i]]`.
pub(crate) fn permute_rows(data: &[f32], perm: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len());
    for row in data.chunks_exact(perm.len()) {
        out.extend(perm.iter().map(|&p| row[p]));
    }
    out
}

/// The inverse of [`permute_rows`].
fn unpermute_rows(data: &[f32], perm: &[usize]) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for (dst, src) in out.chunks_exact_mut(perm.len()).zip(data.chunks_exact(perm.len())) {
        for (i, &p) in perm.iter().enumerate() {
            dst[p] = src[i];
        }
    }
    out
}
