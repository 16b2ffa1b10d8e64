//! Model, preprocessing and training configuration: serde structs, checked before use.

use crate::engine::{Activation, AdamConfig};
use crate::score::ThresholdRule;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Reconstruction loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean squared error over all values.
    Mse,
    /// Mean absolute error over all values.
    Mae,
    /// Binary cross-entropy (targets in [0, 1], sigmoid output).
    Bce,
}

/// How the encoder and decoder are built.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Architecture {
    /// Fully connected layers (`hidden` widths, mirrored in the decoder).
    Dense,
    /// Convolutions for images (C x H x W): each encoder layer is a `kernel x kernel` convolution
    /// with this stride and padding `kernel / 2`, mirrored by transposed convolutions in the
    /// decoder; a dense layer maps the last feature map to the latent code and back.
    Conv {
        /// Output channels of each encoder convolution.
        channels: Vec<usize>,
        /// Kernel size (odd).
        kernel: usize,
        /// Stride of each convolution (must divide the image size at every layer).
        stride: usize,
        /// A dense layer maps the last feature map to the code (the default). When false the
        /// last feature map itself is the code (fully convolutional: no `hidden` layers,
        /// deterministic code, its size is the map's; `latent` is ignored).
        #[serde(default = "yes")]
        dense_code: bool,
    },
}

fn yes() -> bool {
    true
}

/// What follows each hidden convolution of a convolutional model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvNorm {
    /// The hidden activation (`ModelConfig::activation`).
    #[default]
    None,
    /// GDN after each hidden encoder convolution and IGDN after each hidden decoder one
    /// (Ballé et al. 2017), in place of the activation: the learned codecs' normalisation.
    Gdn,
}

impl ConvNorm {
    /// True for [`ConvNorm::None`] (left out of model files).
    pub fn is_none(&self) -> bool {
        *self == ConvNorm::None
    }
}

/// What the latent code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatentKind {
    /// A point: the encoder's output.
    Deterministic,
    /// A diagonal Gaussian `q(z|x) = N(μ, σ²)` sampled by reparameterisation (VAE).
    Gaussian,
}

/// Shape of the autoencoder network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Dense or convolutional encoder/decoder.
    pub architecture: Architecture,
    /// Deterministic code or Gaussian (variational) code.
    pub latent_kind: LatentKind,
    /// Activation of the code layer of a deterministic model (`identity`; `sigmoid` for KL
    /// sparsity; `relu` suits L1 sparsity).
    pub code_activation: Activation,
    /// Encoder hidden widths, outermost first; the decoder mirrors them. `None` sizes them
    /// from the input width (see [`ModelConfig::resolve`]).
    pub hidden: Option<Vec<usize>>,
    /// Width of the latent code; `None` sizes it from the input width.
    pub latent: Option<usize>,
    /// Activation of hidden layers.
    pub activation: Activation,
    /// Output activation (`sigmoid` or `identity`); `None` picks sigmoid when the scaled
    /// training data lies in [0, 1], else identity.
    pub output: Option<Activation>,
    /// Reconstruction loss.
    pub loss: Loss,
    /// Dropout probability after each hidden layer during training.
    pub dropout: f32,
    /// Also drop out code units during training (a deterministic code only), as PyOD's
    /// AutoEncoder does after every layer including the bottleneck: a code wider than the
    /// data then cannot copy its input.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub code_dropout: bool,
    /// What follows the hidden convolutions of a convolutional model.
    #[serde(skip_serializing_if = "ConvNorm::is_none")]
    pub conv_norm: ConvNorm,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            architecture: Architecture::Dense,
            latent_kind: LatentKind::Deterministic,
            code_activation: Activation::Identity,
            hidden: None,
            latent: None,
            activation: Activation::Relu,
            output: None,
            loss: Loss::Mse,
            dropout: 0.0,
            code_dropout: false,
            conv_norm: ConvNorm::None,
        }
    }
}

impl ModelConfig {
    /// Fills in sizes left to the defaults for `width` model inputs: latent `⌈√width⌉`
    /// (2 to 64); a dense model gets one hidden layer of about `width / 3` (at least twice the
    /// latent, at most 512), a convolutional one no dense hidden layer.
    pub fn resolve(&self, width: usize) -> ModelConfig {
        let latent =
            self.latent.unwrap_or_else(|| (width as f64).sqrt().ceil().clamp(2.0, 64.0) as usize);
        let hidden = self.hidden.clone().unwrap_or_else(|| match self.architecture {
            // Convolutions do the feature extraction: the code is one dense map away.
            Architecture::Conv { .. } => Vec::new(),
            Architecture::Dense => {
                let h = (width / 3).div_ceil(8) * 8;
                vec![h.clamp(2 * latent, 512)]
            }
        });
        ModelConfig { hidden: Some(hidden), latent: Some(latent), ..self.clone() }
    }

    /// The dropout setting in words, as `latent info` and the report show it.
    pub fn dropout_text(&self) -> String {
        let p = self.dropout;
        if p == 0.0 {
            "none".into()
        } else if self.code_dropout {
            format!("{p} after hidden layers and the code")
        } else {
            format!("{p} after hidden layers")
        }
    }

    /// The activations in words, as `latent info` and the report show them.
    pub fn activation_text(&self, output: Activation) -> String {
        let hidden = match (self.conv_norm, &self.architecture) {
            (ConvNorm::Gdn, Architecture::Conv { dense_code: true, .. }) => {
                format!("GDN / IGDN after convolutions, {:?} after dense layers", self.activation)
            }
            (ConvNorm::Gdn, _) => "GDN / IGDN".into(),
            _ => format!("{:?}", self.activation),
        };
        format!("{hidden} hidden, {output:?} output")
    }

    /// Checks ranges and combinations.
    pub fn validate(&self) -> Result<()> {
        if self.conv_norm == ConvNorm::Gdn && self.architecture == Architecture::Dense {
            return Err(Error::Config(
                "GDN normalises convolution feature maps: it needs a convolutional model".into(),
            ));
        }
        if self.latent == Some(0) {
            return Err(Error::Config("latent size must be at least 1".into()));
        }
        if self.hidden.as_ref().is_some_and(|h| h.contains(&0)) {
            return Err(Error::Config("hidden layer sizes must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!("dropout must be in [0, 1), got {}", self.dropout)));
        }
        if self.code_dropout && self.dropout == 0.0 {
            return Err(Error::Config("code dropout needs a dropout probability above 0".into()));
        }
        if self.code_dropout && self.latent_kind == LatentKind::Gaussian {
            return Err(Error::Config(
                "code dropout applies to a deterministic code, not a variational one".into(),
            ));
        }
        match self.output {
            None | Some(Activation::Sigmoid) | Some(Activation::Identity) => {}
            Some(other) => {
                return Err(Error::Config(format!(
                    "output activation must be sigmoid or identity, got {other:?}"
                )))
            }
        }
        if let Architecture::Conv { channels, kernel, stride, dense_code } = &self.architecture {
            if !dense_code && self.latent_kind == LatentKind::Gaussian {
                return Err(Error::Config(
                    "a variational model needs a dense code (fully convolutional codes are \
                     deterministic)"
                        .into(),
                ));
            }
            if !dense_code && self.hidden.as_ref().is_some_and(|h| !h.is_empty()) {
                return Err(Error::Config(
                    "a fully convolutional model has no dense hidden layers".into(),
                ));
            }
            if channels.is_empty() || channels.contains(&0) {
                return Err(Error::Config(
                    "conv channels must be a non-empty list of sizes >= 1".into(),
                ));
            }
            if *kernel == 0 || kernel % 2 == 0 || *stride == 0 {
                return Err(Error::Config(format!(
                    "conv kernel must be odd and stride >= 1 (got kernel {kernel}, stride {stride})"
                )));
            }
        }
        if self.latent_kind == LatentKind::Gaussian && self.code_activation != Activation::Identity
        {
            return Err(Error::Config("a variational model's code has no activation".into()));
        }
        if self.loss == Loss::Bce && self.output == Some(Activation::Identity) {
            return Err(Error::Config(
                "binary cross-entropy needs the sigmoid output activation".into(),
            ));
        }
        Ok(())
    }
}

/// How numeric columns are scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scaling {
    /// Images: none (already in [0, 1]); tables: standard.
    Auto,
    /// `(x - mean) / std`.
    Standard,
    /// `(x - min) / (max - min)`, into [0, 1] (`min_max`; `minmax` as on the command line).
    #[serde(alias = "minmax", alias = "min-max")]
    MinMax,
    /// Values used as they are.
    None,
}

/// What to do with missing numeric values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// Stop with an error naming the row and column.
    Error,
    /// Replace with the training mean of the column (`impute_mean`; `impute-mean` as on the
    /// command line).
    #[serde(alias = "impute-mean")]
    ImputeMean,
}

/// Preprocessing settings (the fitted state lives in [`crate::Preprocessor`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreprocessConfig {
    /// Scaling of numeric columns.
    pub scaling: Scaling,
    /// Missing-value policy.
    pub missing: MissingPolicy,
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        PreprocessConfig { scaling: Scaling::Auto, missing: MissingPolicy::Error }
    }
}

/// Training settings for the one training loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training rows (at least; see `min_steps`).
    pub epochs: usize,
    /// Train for at least this many optimiser steps: on a small table, `epochs` passes of a
    /// few batches each would stop long before the loss settles, so the epoch count is raised
    /// to reach this many steps (at most [`TrainConfig::MAX_AUTO_EPOCHS`] epochs). 0 keeps
    /// `epochs` exactly, as an explicit `--epochs` does.
    pub min_steps: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Optimiser settings.
    pub optimizer: AdamConfig,
    /// Share of rows held out for validation (0 allowed).
    pub val_split: f32,
    /// Stop after this many epochs without improvement of the validation loss (or of the
    /// training loss without validation).
    pub patience: Option<usize>,
    /// On early stopping or at the end, restore the weights of the best epoch.
    pub restore_best: bool,
    /// Clip the global gradient norm to this value.
    pub clip_grad_norm: Option<f32>,
    /// Seed of the one RNG for initialisation, shuffling, noise and dropout.
    pub seed: u64,
    /// Stop after the epoch during which this many seconds of training have passed (a time
    /// budget; the number of epochs then depends on the machine's speed).
    pub max_seconds: Option<f64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 20,
            min_steps: 2000,
            batch_size: 256,
            optimizer: AdamConfig::default(),
            val_split: 0.1,
            patience: None,
            restore_best: true,
            clip_grad_norm: None,
            seed: 42,
            max_seconds: None,
        }
    }
}

impl TrainConfig {
    /// The most epochs `min_steps` may raise a run to.
    pub const MAX_AUTO_EPOCHS: usize = 2000;

    /// The epochs a run with `batches` optimiser steps per epoch trains for: `epochs`, raised
    /// to reach `min_steps` steps.
    pub fn epochs_for(&self, batches: usize) -> usize {
        let needed = self.min_steps.div_ceil(batches.max(1)).min(Self::MAX_AUTO_EPOCHS);
        self.epochs.max(needed)
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        let o = &self.optimizer;
        let bad = |m: String| Err(Error::Config(m));
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch size must be at least 1".into());
        }
        if !(o.lr.is_finite() && o.lr > 0.0) {
            return bad(format!("learning rate must be positive, got {}", o.lr));
        }
        if !(o.weight_decay.is_finite() && o.weight_decay >= 0.0) {
            return bad(format!("weight decay must be >= 0, got {}", o.weight_decay));
        }
        if !(0.0..1.0).contains(&o.beta1) || !(0.0..1.0).contains(&o.beta2) || o.eps <= 0.0 {
            return bad("Adam needs 0 <= beta1, beta2 < 1 and eps > 0".into());
        }
        if !(0.0..1.0).contains(&self.val_split) {
            return bad(format!("validation split must be in [0, 1), got {}", self.val_split));
        }
        if let Some(c) = self.clip_grad_norm {
            if !(c.is_finite() && c > 0.0) {
                return bad(format!("gradient clipping norm must be positive, got {c}"));
            }
        }
        if self.patience == Some(0) {
            return bad("patience must be at least 1".into());
        }
        Ok(())
    }
}

/// Input corruption applied during training only (denoising autoencoders).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Corruption {
    /// Inputs as they are.
    None,
    /// Additive Gaussian noise with this standard deviation (in scaled units).
    Gaussian {
        /// Standard deviation.
        sigma: f32,
    },
    /// Each input set to 0 with probability `p` (masking noise).
    Mask {
        /// Probability.
        p: f32,
    },
    /// Each input set to its column's minimum or maximum (0 or 1 for [0, 1] data) with
    /// probability `p`, half each.
    SaltPepper {
        /// Probability.
        p: f32,
    },
}

/// A sparsity penalty on the code of a deterministic model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sparsity {
    /// No penalty.
    None,
    /// `weight · mean_rows Σ_j |a_j|` on the code activations.
    L1 {
        /// Penalty weight.
        weight: f32,
    },
    /// `beta · Σ_j KL(rho ‖ ρ̂_j)` with ρ̂_j the batch-mean activation of sigmoid code unit j.
    Kl {
        /// Target mean activation.
        rho: f32,
        /// Penalty weight.
        beta: f32,
    },
}

/// Decoder likelihood of a variational model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Likelihood {
    /// Bernoulli per value (data in [0, 1]); the reconstruction term is binary cross-entropy.
    Bernoulli,
    /// Gaussian per value with a fixed standard deviation, or (`sigma` absent) a learned
    /// per-feature one.
    Gaussian {
        /// Fixed standard deviation; learned when absent.
        sigma: Option<f32>,
    },
}

/// The distortion term of a learned-compression model's loss (`objective.lambda`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distortion {
    /// Mean squared error: the loss is `R + λ · 255² · MSE` (CompressAI's `λ · MSE` on 8-bit
    /// values; λ about 0.001 to 0.1).
    #[default]
    Mse,
    /// Multi-scale structural similarity: the loss is `R + λ · (1 − MS-SSIM)` averaged over
    /// the batch, images in [0, 1] ([`crate::objective::msssim`]; CompressAI's convention, λ
    /// about 2 to 200). Image models only.
    MsSsim,
}

impl Distortion {
    /// The default (MSE): not written to model files, so older readers still read them.
    pub fn is_mse(&self) -> bool {
        *self == Distortion::Mse
    }
}

/// The training objective beyond plain reconstruction: corruption, sparsity, and the
/// variational terms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Objective {
    /// Input corruption during training (denoising).
    pub corruption: Corruption,
    /// Sparsity penalty on the code.
    pub sparsity: Sparsity,
    /// Weight of the KL term of a variational model (beta-VAE when != 1).
    pub beta: f32,
    /// Epochs over which the KL weight rises linearly from 0 to `beta`.
    pub kl_warmup: usize,
    /// Decoder likelihood of a variational model (`None`: Bernoulli for [0, 1] data, else a
    /// learned Gaussian).
    pub likelihood: Option<Likelihood>,
    /// Draw binary inputs `x ~ Bernoulli(x)` afresh every batch (dynamic binarisation).
    pub binarize: bool,
    /// Learned compression (`--preset compress`): the code gets a learned factorized entropy
    /// model and training minimises `bits per pixel + λ · 255² · MSE` (or `+ λ · (1 −
    /// MS-SSIM)`, see `distortion`), with uniform noise on the code in place of rounding. This
    /// is `λ` (CompressAI's scale: 0.001 to 0.1 for MSE, 2 to 200 for MS-SSIM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f32>,
    /// The distortion of a learned-compression model (with `lambda`): MSE (default) or
    /// MS-SSIM (image data in [0, 1]).
    #[serde(skip_serializing_if = "Distortion::is_mse")]
    pub distortion: Distortion,
}

impl Default for Objective {
    fn default() -> Self {
        Objective {
            corruption: Corruption::None,
            sparsity: Sparsity::None,
            beta: 1.0,
            kl_warmup: 0,
            likelihood: None,
            binarize: false,
            lambda: None,
            distortion: Distortion::Mse,
        }
    }
}

impl Objective {
    /// Checks ranges, and combinations with the model.
    pub fn validate(&self, model: &ModelConfig) -> Result<()> {
        let variational = model.latent_kind == LatentKind::Gaussian;
        let prob = |p: f32| (0.0..1.0).contains(&p);
        match self.corruption {
            Corruption::None => {}
            Corruption::Gaussian { sigma } if sigma.is_finite() && sigma > 0.0 => {}
            Corruption::Mask { p } | Corruption::SaltPepper { p } if prob(p) => {}
            c => return Err(Error::Config(format!("invalid corruption {c:?}"))),
        }
        match self.sparsity {
            Sparsity::None => {}
            _ if variational => {
                return Err(Error::Config(
                    "sparsity penalties apply to deterministic codes, not to a variational model"
                        .into(),
                ))
            }
            Sparsity::L1 { weight } if weight.is_finite() && weight > 0.0 => {}
            Sparsity::Kl { rho, beta } if rho > 0.0 && rho < 1.0 && beta > 0.0 => {
                if model.code_activation != Activation::Sigmoid {
                    return Err(Error::Config(
                        "KL sparsity needs sigmoid codes (code_activation = sigmoid)".into(),
                    ));
                }
            }
            s => return Err(Error::Config(format!("invalid sparsity {s:?}"))),
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(Error::Config(format!("beta must be >= 0, got {}", self.beta)));
        }
        if !variational && (self.beta != 1.0 || self.kl_warmup != 0 || self.likelihood.is_some()) {
            return Err(Error::Config(
                "beta, kl_warmup and likelihood apply to variational models only".into(),
            ));
        }
        if let Some(l) = self.lambda {
            if !(l.is_finite() && l > 0.0) {
                return Err(Error::Config(format!("lambda must be a positive number, got {l}")));
            }
            if variational || self.sparsity != Sparsity::None || model.loss != Loss::Mse {
                return Err(Error::Config(
                    "lambda (learned compression) needs a deterministic code, no sparsity \
                     penalty and the mse loss"
                        .into(),
                ));
            }
        }
        if self.distortion == Distortion::MsSsim && self.lambda.is_none() {
            return Err(Error::Config(
                "the MS-SSIM distortion applies to learned compression only (set lambda)".into(),
            ));
        }
        if let Some(Likelihood::Gaussian { sigma: Some(s) }) = self.likelihood {
            if !(s.is_finite() && s > 0.0) {
                return Err(Error::Config(format!("likelihood sigma must be positive, got {s}")));
            }
        }
        Ok(())
    }
}

/// Everything `fit` needs: model shape, objective, preprocessing and training settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FitConfig {
    /// Network shape.
    pub model: ModelConfig,
    /// Training objective (corruption, sparsity, variational terms).
    pub objective: Objective,
    /// Preprocessing.
    pub preprocess: PreprocessConfig,
    /// Training.
    pub train: TrainConfig,
    /// The anomaly detector fitted after the network.
    #[serde(skip_serializing_if = "Detector::is_reconstruction")]
    pub detector: Detector,
    /// The anomaly threshold rule [`crate::Model::fit_calibrated`] calibrates after training
    /// (default: [`ThresholdRule::Auto`]); a `[threshold]` table in a config file, such as
    /// `rule = "contamination"` with `share = 0.05`.
    #[serde(skip_serializing_if = "ThresholdRule::is_auto")]
    pub threshold: ThresholdRule,
}

impl FitConfig {
    /// Checks every part.
    pub fn validate(&self) -> Result<()> {
        self.objective.validate(&self.model)?;
        self.model.validate()?;
        self.train.validate()?;
        self.detector.validate()?;
        self.threshold.validate()
    }

    /// The defaults for unsupervised anomaly detection (fit on all rows, unknown anomalies
    /// included), chosen once for every data set on the 15 ODDS sets (docs/anomaly-results.md
    /// has the search):
    ///
    /// * architecture from the data width ([`ModelConfig::resolve`]), MSE loss, identity
    ///   output;
    /// * `tanh` hidden activations: bounded hidden units cannot extrapolate, so rows far
    ///   outside the bulk of the data are reconstructed poorly (ReLU units extrapolate
    ///   linearly along the learnt directions);
    /// * standard scaling, no validation split, 100 epochs of Adam (learning rate 1e-3, batch
    ///   256);
    /// * the [`Detector::Ensemble`] detector: the largest standardised score of an Isolation
    ///   Forest over each row's per-feature residuals and inputs (rows that break the
    ///   correlations the autoencoder learnt, and extreme values along them), one over the
    ///   inputs (global outliers) and the kNN distance to a sample of training rows (local
    ///   outliers).
    pub fn anomaly() -> FitConfig {
        let mut c = FitConfig::default();
        c.model.activation = Activation::Tanh;
        c.preprocess.scaling = Scaling::Standard;
        c.train.val_split = 0.0;
        c.train.epochs = 100;
        c.detector = Detector::ensemble();
        c
    }
}

pub use crate::model::detector::Detector;
