//! Model, preprocessing and training configuration: serde structs, checked before use.

use crate::engine::{Activation, AdamConfig};
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

/// Shape of the autoencoder network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
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
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            hidden: None,
            latent: None,
            activation: Activation::Relu,
            output: None,
            loss: Loss::Mse,
            dropout: 0.0,
        }
    }
}

impl ModelConfig {
    /// Fills in sizes left to the defaults for `width` model inputs: latent `⌈√width⌉`
    /// (2 to 64), one hidden layer of about `width / 3` (at least twice the latent, at most 512).
    pub fn resolve(&self, width: usize) -> ModelConfig {
        let latent =
            self.latent.unwrap_or_else(|| (width as f64).sqrt().ceil().clamp(2.0, 64.0) as usize);
        let hidden = self.hidden.clone().unwrap_or_else(|| {
            let h = (width / 3).div_ceil(8) * 8;
            vec![h.clamp(2 * latent, 512)]
        });
        ModelConfig { hidden: Some(hidden), latent: Some(latent), ..self.clone() }
    }

    /// Checks ranges and combinations.
    pub fn validate(&self) -> Result<()> {
        if self.latent == Some(0) {
            return Err(Error::Config("latent size must be at least 1".into()));
        }
        if self.hidden.as_ref().is_some_and(|h| h.contains(&0)) {
            return Err(Error::Config("hidden layer sizes must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!("dropout must be in [0, 1), got {}", self.dropout)));
        }
        match self.output {
            None | Some(Activation::Sigmoid) | Some(Activation::Identity) => {}
            Some(other) => {
                return Err(Error::Config(format!(
                    "output activation must be sigmoid or identity, got {other:?}"
                )))
            }
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
    /// `(x - min) / (max - min)`, into [0, 1].
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
    /// Replace with the training mean of the column.
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
    /// Passes over the training rows.
    pub epochs: usize,
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
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 20,
            batch_size: 256,
            optimizer: AdamConfig::default(),
            val_split: 0.1,
            patience: None,
            restore_best: true,
            clip_grad_norm: None,
            seed: 42,
        }
    }
}

impl TrainConfig {
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

/// Everything `fit` needs: model shape, preprocessing and training settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FitConfig {
    /// Network shape.
    pub model: ModelConfig,
    /// Preprocessing.
    pub preprocess: PreprocessConfig,
    /// Training.
    pub train: TrainConfig,
}

impl FitConfig {
    /// Checks every part.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.train.validate()
    }
}
