//! Model families on the command line: `--preset` and the knobs of each family (corruption,
//! sparsity, variational terms, convolutions), applied over the config file.

use crate::exit::BadInput;
use anyhow::Result;
use clap::{Args, ValueEnum};
use latent::config::{Architecture, ConvNorm, Corruption, Distortion, Likelihood, Sparsity};
use latent::{Activation, FitConfig};

/// A named family: settings of one model design.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Undercomplete dense autoencoder (the default).
    Dense,
    /// Trained on corrupted inputs (Gaussian noise 0.3) to rebuild clean ones: dense on tables;
    /// on images fully convolutional (channels 32,64) with the BCE loss.
    Denoising,
    /// Sigmoid code with a KL sparsity penalty (rho 0.05, beta 0.01: the KL term sums over
    /// code units while the loss averages over features, so a small beta already holds the
    /// mean activation at rho).
    Sparse,
    /// Variational autoencoder: Gaussian code, KL to N(0, I); on images 512-256-32, inputs
    /// binarised, KL warm-up 10, batch 128 (the measured MNIST run; add --max-minutes 18).
    Vae,
    /// beta-VAE: a VAE with beta 4.
    BetaVae,
    /// Convolutional autoencoder for images (channels 32,64, kernel 3, stride 2).
    Conv,
    /// Convolutional VAE for images.
    ConvVae,
    /// Unsupervised anomaly detection: tanh units, standard scaling, 100 epochs, no
    /// validation split, and the ensemble detector (the largest standardised score of an
    /// Isolation Forest over residuals and inputs, one over inputs and the kNN distance). The
    /// defaults `latent benchmark-anomaly` measures.
    Anomaly,
    /// 1-D convolutional autoencoder for time-series windows (`--window W`): convolutions over
    /// time (channels 16,32, kernel 5, stride 2; W divisible by 4), sensors as channels.
    Conv1d,
    /// Learned image compression (`latent compress`): two stride-2 5x5 convolutions with GDN
    /// (--conv-norm none: leaky ReLU) to an H/4 x W/4 x 32 code map, a learned per-channel
    /// entropy model, trained on bits per pixel + λ·255²·MSE (--lambda, default 0.01;
    /// larger: better quality, more bits), or with --distortion ms-ssim on bits per pixel +
    /// λ·(1 − MS-SSIM).
    Compress,
    /// Recommender: Mult-VAE (Liang et al. 2018) on an interaction table (--user-column,
    /// --item-column, optional --rating-column/--min-rating): 600-200 tanh, input dropout 0.5,
    /// multinomial likelihood, KL annealed to beta 0.2.
    MultVae,
    /// Recommender: Mult-DAE, Mult-VAE's network with a deterministic code.
    MultDae,
    /// Recommender: EASE (Steck 2019), closed form, λ chosen on validation users.
    Ease,
}

/// Family options of `latent train`.
#[derive(Args, Debug, Clone, Default)]
pub struct FamilyArgs {
    /// Model family; its settings can be changed by the flags below.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Input corruption in training: gaussian:SIGMA, mask:P or salt-pepper:P.
    #[arg(long, value_name = "KIND:VALUE")]
    pub corruption: Option<String>,
    /// Sparsity penalty on the code: l1:WEIGHT or kl:RHO[:BETA].
    #[arg(long, value_name = "KIND:VALUE")]
    pub sparsity: Option<String>,
    /// Code activation of a deterministic model.
    #[arg(long, value_enum)]
    pub code_activation: Option<CodeActivation>,
    /// Weight of the KL term (variational models).
    #[arg(long, value_name = "F")]
    pub beta: Option<f32>,
    /// Epochs over which the KL weight rises from 0 to beta (variational models).
    #[arg(long, value_name = "N")]
    pub kl_warmup: Option<usize>,
    /// EASE's L2 weight λ; several (comma-separated) are a grid, the best on the validation
    /// users is kept [default: 50,100,200,500,1000]. With --preset compress: the one
    /// rate-distortion weight (bits per pixel + λ·255²·MSE) [default: 0.01; with
    /// --distortion ms-ssim, bits per pixel + λ·(1 − MS-SSIM), default 100].
    #[arg(long, value_name = "F", value_delimiter = ',')]
    pub lambda: Vec<f64>,
    /// The distortion --preset compress trades against the rate: mse, or ms-ssim
    /// (multi-scale structural similarity; images in [0, 1] only) [default: mse].
    #[arg(long, value_enum)]
    pub distortion: Option<DistortionArg>,
    /// Decoder likelihood (variational models): bernoulli, gaussian (learned variance) or
    /// gaussian:SIGMA.
    #[arg(long, value_name = "KIND")]
    pub likelihood: Option<String>,
    /// Binarise inputs afresh every batch, x ~ Bernoulli(x) (data in [0, 1]).
    #[arg(long)]
    pub binarize: bool,
    /// Conv channels per encoder layer, comma separated.
    #[arg(long, value_delimiter = ',', value_name = "N,N")]
    pub channels: Option<Vec<usize>>,
    /// Conv kernel size (odd).
    #[arg(long, value_name = "N")]
    pub kernel: Option<usize>,
    /// Conv stride.
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// Conv models: the last feature map is the code (no dense code layer).
    #[arg(long)]
    pub fully_convolutional: bool,
    /// Conv models: what follows each hidden convolution: none (the --activation) or gdn
    /// (GDN in the encoder, IGDN in the decoder, as in learned image codecs).
    #[arg(long, value_enum, value_name = "KIND")]
    pub conv_norm: Option<ConvNormArg>,
}

/// What follows the hidden convolutions.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ConvNormArg {
    /// The hidden activation.
    None,
    /// Generalized divisive normalization (inverse GDN in the decoder).
    Gdn,
}

/// The distortion of a learned-compression model (`--distortion`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistortionArg {
    /// Mean squared error.
    Mse,
    /// Multi-scale structural similarity, 1 − MS-SSIM.
    MsSsim,
}

/// Activation of the code layer.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CodeActivation {
    /// Linear code.
    Identity,
    /// In (0, 1); needed for KL sparsity.
    Sigmoid,
    /// Non-negative; suits L1 sparsity.
    Relu,
}

impl FamilyArgs {
    /// Applies the preset to `c` (before the other flags, which may change its settings).
    pub fn apply_preset(&self, c: &mut FitConfig) {
        use latent::Preset as P;
        let preset = match self.preset {
            None | Some(Preset::Dense) => P::Dense,
            Some(Preset::Denoising) => P::Denoising,
            Some(Preset::Sparse) => P::Sparse,
            Some(Preset::Vae) => P::Vae,
            Some(Preset::BetaVae) => P::BetaVae,
            Some(Preset::Conv) => P::Conv,
            Some(Preset::ConvVae) => P::ConvVae,
            Some(Preset::Conv1d) => P::Conv1d,
            Some(Preset::Anomaly) => P::Anomaly,
            Some(Preset::Compress) => P::Compress,
            // Recommenders are trained by `crate::recommend`, not from a FitConfig.
            Some(Preset::MultVae | Preset::MultDae | Preset::Ease) => return,
        };
        preset.apply(c);
    }

    /// Settings of a preset that depend on the data, applied once it is loaded, when the
    /// architecture was not chosen (`chosen`: hidden sizes, latent size, loss, channels or a
    /// config file): on images, the denoising preset becomes a fully convolutional denoiser with
    /// the BCE loss, and the VAE presets take the sizes and schedule of the measured MNIST run
    /// (784-512-256-32, inputs binarised afresh each batch, KL warm-up over 10 epochs).
    pub fn apply_to_data(&self, c: &mut FitConfig, images: bool, chosen: bool) {
        if !images || chosen {
            return;
        }
        match self.preset {
            Some(Preset::Denoising) => {
                c.model.architecture = Architecture::Conv {
                    channels: vec![32, 64],
                    kernel: 3,
                    stride: 2,
                    dense_code: false,
                };
                c.model.loss = latent::Loss::Bce;
            }
            Some(Preset::Vae | Preset::BetaVae) => {
                c.model.hidden = Some(vec![512, 256]);
                c.model.latent = Some(32);
                c.objective.binarize = true;
                if self.kl_warmup.is_none() {
                    c.objective.kl_warmup = 10;
                }
            }
            _ => {}
        }
    }

    /// Applies the family flags to `c` (after [`FamilyArgs::apply_preset`]).
    pub fn apply(&self, c: &mut FitConfig) -> Result<()> {
        match (self.preset, self.lambda.as_slice()) {
            (_, []) => {}
            (Some(Preset::Compress), &[l]) => c.objective.lambda = Some(l as f32),
            (Some(Preset::Compress), _) => {
                return Err(BadInput("--preset compress takes one --lambda".into()).into())
            }
            _ => {
                return Err(BadInput(
                    "--lambda applies to --preset ease and --preset compress only".into(),
                )
                .into())
            }
        }
        if let Some(d) = self.distortion {
            if self.preset != Some(Preset::Compress) {
                return Err(
                    BadInput("--distortion applies to --preset compress only".into()).into()
                );
            }
            if d == DistortionArg::MsSsim {
                c.objective.distortion = Distortion::MsSsim;
                if self.lambda.is_empty() {
                    c.objective.lambda = Some(latent::Preset::COMPRESS_MS_SSIM_LAMBDA);
                }
            }
        }
        if let Some(s) = &self.corruption {
            c.objective.corruption = parse_corruption(s)?;
        }
        if let Some(s) = &self.sparsity {
            c.objective.sparsity = parse_sparsity(s)?;
            if matches!(c.objective.sparsity, Sparsity::Kl { .. }) && self.code_activation.is_none()
            {
                c.model.code_activation = Activation::Sigmoid;
            }
        }
        if let Some(a) = self.code_activation {
            c.model.code_activation = match a {
                CodeActivation::Identity => Activation::Identity,
                CodeActivation::Sigmoid => Activation::Sigmoid,
                CodeActivation::Relu => Activation::Relu,
            };
        }
        if let Some(b) = self.beta {
            c.objective.beta = b;
        }
        if let Some(w) = self.kl_warmup {
            c.objective.kl_warmup = w;
        }
        if let Some(s) = &self.likelihood {
            c.objective.likelihood = Some(parse_likelihood(s)?);
        }
        if self.binarize {
            c.objective.binarize = true;
        }
        if let Some(n) = self.conv_norm {
            c.model.conv_norm = match n {
                ConvNormArg::None => ConvNorm::None,
                ConvNormArg::Gdn => ConvNorm::Gdn,
            };
        }
        let conv_flag = self.channels.is_some() || self.kernel.is_some() || self.stride.is_some();
        if conv_flag || self.fully_convolutional {
            let Architecture::Conv { channels, kernel, stride, dense_code } =
                &mut c.model.architecture
            else {
                return Err(BadInput(
                    "--channels, --kernel, --stride and --fully-convolutional apply to \
                     convolutional models (--preset conv or conv-vae)"
                        .into(),
                )
                .into());
            };
            *dense_code &= !self.fully_convolutional;
            if let Some(ch) = &self.channels {
                channels.clone_from(ch);
            }
            *kernel = self.kernel.unwrap_or(*kernel);
            *stride = self.stride.unwrap_or(*stride);
        }
        Ok(())
    }
}

fn spec(s: &str) -> (String, Vec<f32>, bool) {
    let mut parts = s.split(':');
    let kind = parts.next().unwrap_or_default().trim().to_lowercase().replace('_', "-");
    let mut ok = true;
    let values = parts
        .map(|v| {
            v.trim().parse::<f32>().unwrap_or_else(|_| {
                ok = false;
                f32::NAN
            })
        })
        .collect();
    (kind, values, ok)
}

/// Parses `gaussian:SIGMA`, `mask:P` or `salt-pepper:P`.
pub fn parse_corruption(s: &str) -> Result<Corruption> {
    let bad = || {
        BadInput(format!(
            "--corruption expects gaussian:SIGMA, mask:P or salt-pepper:P, got \"{s}\""
        ))
    };
    match spec(s) {
        (k, v, true) if k == "gaussian" && v.len() == 1 => Ok(Corruption::Gaussian { sigma: v[0] }),
        (k, v, true) if k == "mask" && v.len() == 1 => Ok(Corruption::Mask { p: v[0] }),
        (k, v, true) if k == "salt-pepper" && v.len() == 1 => {
            Ok(Corruption::SaltPepper { p: v[0] })
        }
        (k, v, true) if k == "none" && v.is_empty() => Ok(Corruption::None),
        _ => Err(bad().into()),
    }
}

fn parse_sparsity(s: &str) -> Result<Sparsity> {
    let bad = || BadInput(format!("--sparsity expects l1:WEIGHT or kl:RHO[:BETA], got \"{s}\""));
    match spec(s) {
        (k, v, true) if k == "l1" && v.len() == 1 => Ok(Sparsity::L1 { weight: v[0] }),
        (k, v, true) if k == "kl" && v.len() == 1 => Ok(Sparsity::Kl { rho: v[0], beta: 1.0 }),
        (k, v, true) if k == "kl" && v.len() == 2 => Ok(Sparsity::Kl { rho: v[0], beta: v[1] }),
        (k, v, true) if k == "none" && v.is_empty() => Ok(Sparsity::None),
        _ => Err(bad().into()),
    }
}

fn parse_likelihood(s: &str) -> Result<Likelihood> {
    let bad = || {
        BadInput(format!("--likelihood expects bernoulli, gaussian or gaussian:SIGMA, got \"{s}\""))
    };
    match spec(s) {
        (k, v, true) if k == "bernoulli" && v.is_empty() => Ok(Likelihood::Bernoulli),
        (k, v, true) if k == "gaussian" && v.is_empty() => Ok(Likelihood::Gaussian { sigma: None }),
        (k, v, true) if k == "gaussian" && v.len() == 1 => {
            Ok(Likelihood::Gaussian { sigma: Some(v[0]) })
        }
        _ => Err(bad().into()),
    }
}
