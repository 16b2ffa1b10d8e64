//! Option groups shared by several commands, and the value enums of flags with their
//! conversions into the library's types: declared once, used by every command that takes
//! them. Depends on no command module.

use crate::exit::BadInput;
use anyhow::Result;
use clap::{Args, ValueEnum};
use latent::engine::backend::Device;
use latent::score::ScoreKind;
use latent::{Activation, Loss, Scaling};
use std::path::PathBuf;

/// The compute device of the commands that run a model (`train`, `encode`, `reconstruct`,
/// `denoise`, `eval`, `score`, `evaluate`, `serve`); `main` resolves it once, before the
/// command runs, and the library decides what runs where ([`Device::check_models`]).
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct DeviceArg {
    /// Device to compute on: cpu, cuda or cuda:N (models run on the CPU for now; cuda is
    /// refused with the reason).
    #[arg(long, default_value = "cpu", value_name = "DEVICE", value_parser = parse_device)]
    pub device: Device,
}

/// A `--device` value, with the library's message alone (not as an invalid configuration).
fn parse_device(s: &str) -> std::result::Result<Device, String> {
    s.parse().map_err(|e| match e {
        latent::Error::Config(msg) => msg,
        other => other.to_string(),
    })
}

/// How to read a table (CSV; the options that do not apply to other formats are ignored
/// there): every command that reads rows takes these.
#[derive(Args, Debug, Clone, Default)]
pub struct TableArgs {
    /// Columns to read as categories and one-hot encode (comma separated); non-numeric columns
    /// and a model's own categorical columns are categories anyway.
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub categorical: Vec<String>,
    /// CSV field delimiter (one character; `\t` for tab).
    #[arg(long, default_value = ",", value_name = "CHAR")]
    pub delimiter: String,
    /// The CSV has no header row (columns are named col0, col1, ...).
    #[arg(long)]
    pub no_header: bool,
    /// CSV cell texts read as missing values besides empty cells and NA, N/A, NaN, nan, null,
    /// None, ? (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "A,B", allow_hyphen_values = true)]
    pub na_values: Vec<String>,
}

/// How to read a folder of images.
#[derive(Args, Debug, Clone, Default)]
pub struct ImageArgs {
    /// Resize images from a folder to WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH")]
    pub resize: Option<String>,
    /// Convert images from a folder to greyscale.
    #[arg(long)]
    pub grayscale: bool,
}

/// How to read a data file.
#[derive(Args, Debug, Clone, Default)]
pub struct DataArgs {
    /// Data: CSV (.csv, .csv.gz, .tsv), Parquet (a file or a folder of .parquet files), NPY,
    /// NPZ, MNIST IDX (raw or .gz) or a folder of images.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// A column kept out of the features and carried through to outputs.
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Table reading options.
    #[command(flatten)]
    pub table: TableArgs,
    /// Image reading options.
    #[command(flatten)]
    pub image: ImageArgs,
    /// An identifier column (customer or transaction id): kept out of the features and copied
    /// to the outputs untouched (repeatable or comma separated; the model remembers it).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub id_column: Vec<String>,
}

/// Which label values are anomalies, for every command that reads labels (`evaluate`,
/// `report`, `benchmark-anomaly`): one rule, `latent::labels`.
#[derive(Args, Debug, Clone, Default)]
pub struct LabelArgs {
    /// Label values of the anomalous class (comma separated); every other value is normal.
    /// Without this or --normal-label, labels must be 0/1, true/false or normal/other.
    #[arg(long, value_delimiter = ',', value_name = "VALUE")]
    pub positive: Vec<String>,
    /// Label values of normal rows (comma separated); every other value is an anomaly.
    #[arg(long, value_delimiter = ',', value_name = "VALUE")]
    pub normal_label: Vec<String>,
}

impl LabelArgs {
    /// The label rule these flags give.
    pub fn rule(&self) -> anyhow::Result<latent::LabelRule> {
        latent::LabelRule::from_lists(&self.positive, &self.normal_label).map_err(|_| {
            crate::exit::BadInput("give --positive or --normal-label, not both".into()).into()
        })
    }
}

/// Hidden-layer activation.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ActivationArg {
    /// max(x, 0)
    Relu,
    /// x for x > 0, else 0.01 x
    #[value(alias = "leaky_relu")]
    LeakyRelu,
    /// tanh(x)
    Tanh,
    /// Gaussian error linear unit (tanh form)
    Gelu,
}

impl From<ActivationArg> for Activation {
    fn from(a: ActivationArg) -> Activation {
        match a {
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::LeakyRelu => Activation::LeakyRelu,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Gelu => Activation::Gelu,
        }
    }
}

/// Output activation.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum OutputArg {
    /// For data in [0, 1].
    Sigmoid,
    /// For unbounded (standardised) data.
    Identity,
}

impl From<OutputArg> for Activation {
    fn from(a: OutputArg) -> Activation {
        match a {
            OutputArg::Sigmoid => Activation::Sigmoid,
            OutputArg::Identity => Activation::Identity,
        }
    }
}

/// Reconstruction loss.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LossArg {
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    Mae,
    /// Binary cross-entropy (data in [0, 1]).
    Bce,
}

impl From<LossArg> for Loss {
    fn from(a: LossArg) -> Loss {
        match a {
            LossArg::Mse => Loss::Mse,
            LossArg::Mae => Loss::Mae,
            LossArg::Bce => Loss::Bce,
        }
    }
}

/// Scaling of numeric columns.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ScaleArg {
    /// Images: none; tables: standard.
    Auto,
    /// (x - mean) / std.
    Standard,
    /// (x - min) / (max - min).
    #[value(alias = "min_max", alias = "min-max")]
    Minmax,
    /// As is.
    None,
}

impl From<ScaleArg> for Scaling {
    fn from(a: ScaleArg) -> Scaling {
        match a {
            ScaleArg::Auto => Scaling::Auto,
            ScaleArg::Standard => Scaling::Standard,
            ScaleArg::Minmax => Scaling::MinMax,
            ScaleArg::None => Scaling::None,
        }
    }
}

/// Missing-value policy.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum MissingArg {
    /// Stop with an error naming the row and column.
    Error,
    /// Fill with the training mean.
    #[value(alias = "impute_mean")]
    ImputeMean,
}

impl From<MissingArg> for latent::MissingPolicy {
    fn from(m: MissingArg) -> latent::MissingPolicy {
        match m {
            MissingArg::Error => latent::MissingPolicy::Error,
            MissingArg::ImputeMean => latent::MissingPolicy::ImputeMean,
        }
    }
}

/// Optimiser.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum OptimizerArg {
    /// Adam (weight decay as L2 on the gradient).
    Adam,
    /// AdamW (decoupled weight decay).
    Adamw,
}

/// The anomaly detector of `latent train --detector`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorArg {
    /// Scores are reconstruction errors (MSE, MAE, or the variational scores).
    Reconstruction,
    /// An Isolation Forest over each row's per-feature residuals and inputs (score `forest`).
    Forest,
    /// The largest standardised score of a forest over residuals and inputs, one over inputs
    /// and the kNN distance to a sample of training rows (score `ensemble`; the default of
    /// --preset anomaly).
    Ensemble,
}

impl From<DetectorArg> for latent::Detector {
    fn from(d: DetectorArg) -> latent::Detector {
        match d {
            DetectorArg::Reconstruction => latent::Detector::Reconstruction,
            DetectorArg::Forest => latent::Detector::forest(),
            DetectorArg::Ensemble => latent::Detector::ensemble(),
        }
    }
}

/// Output format of commands that print results.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Human-readable table.
    #[default]
    Table,
    /// One JSON object on stdout.
    Json,
}

/// Which anomaly score to compute.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreArg {
    /// Mean squared reconstruction error (after scaling).
    Mse,
    /// Mean absolute reconstruction error (after scaling).
    Mae,
    /// Variational models: negative ELBO in nats at the posterior mean.
    NegElbo,
    /// Variational models: reconstruction negative log-likelihood in nats.
    ReconNll,
    /// Models with the forest detector: Isolation Forest score in (0, 1] of the residuals and
    /// inputs.
    Forest,
    /// Models with the ensemble detector (the `--preset anomaly` default): the largest
    /// standardised score of two Isolation Forests and the kNN distance.
    Ensemble,
}

impl From<ScoreArg> for ScoreKind {
    fn from(a: ScoreArg) -> ScoreKind {
        match a {
            ScoreArg::Mse => ScoreKind::Mse,
            ScoreArg::Mae => ScoreKind::Mae,
            ScoreArg::NegElbo => ScoreKind::NegElbo,
            ScoreArg::ReconNll => ScoreKind::ReconNll,
            ScoreArg::Forest => ScoreKind::Forest,
            ScoreArg::Ensemble => ScoreKind::Ensemble,
        }
    }
}

/// The score and threshold overrides of commands that flag rows (`score`, `evaluate`);
/// reconciled with the model by [`crate::score::resolve_threshold`].
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct ScoreChoiceArgs {
    /// Flag rows above this score instead of the model's calibrated threshold.
    #[arg(long, value_name = "V")]
    pub threshold: Option<f32>,
    /// The score (default: the one the model's threshold was calibrated on).
    #[arg(long, value_enum)]
    pub score: Option<ScoreArg>,
}

/// Threshold flags of `latent train` (at most one; default: the `auto` rule).
#[derive(Args, Debug, Default, Clone)]
#[group(multiple = false)]
pub struct ThresholdArgs {
    /// Anomaly threshold: the expected share of anomalies in the training data (that share of
    /// the highest training scores is flagged).
    #[arg(long, value_name = "F")]
    pub contamination: Option<f32>,
    /// Anomaly threshold: this quantile of the training scores.
    #[arg(long, value_name = "Q")]
    pub quantile: Option<f32>,
    /// Anomaly threshold: mean + K standard deviations of the training scores.
    #[arg(long, value_name = "K")]
    pub threshold_mean_std: Option<f32>,
    /// Anomaly threshold: this fixed score.
    #[arg(long, value_name = "V")]
    pub threshold_value: Option<f32>,
}

impl ThresholdArgs {
    /// The rule the flags ask for (`None` without any: the config's, [`ThresholdRule::Auto`]
    /// by default), checked.
    ///
    /// [`ThresholdRule::Auto`]: latent::ThresholdRule::Auto
    pub fn rule(&self) -> Result<Option<latent::ThresholdRule>> {
        use latent::ThresholdRule as R;
        let rule = if let Some(share) = self.contamination {
            R::Contamination { share }
        } else if let Some(q) = self.quantile {
            R::Quantile { q }
        } else if let Some(k) = self.threshold_mean_std {
            R::MeanStd { k }
        } else if let Some(value) = self.threshold_value {
            R::Fixed { value }
        } else {
            return Ok(None);
        };
        rule.validate().map_err(|e| BadInput(e.to_string()))?;
        Ok(Some(rule))
    }
}
