//! Named starting configurations of autoencoder models (`latent train --preset NAME`, and
//! `preset=` in the Python package): each changes a few settings of a [`FitConfig`], which
//! later settings may change again.

use crate::config::{Architecture, Corruption, FitConfig, LatentKind, Sparsity};
use crate::engine::Activation;
use crate::{Error, Result};

/// A preset of an autoencoder model trained from a [`FitConfig`] (the recommender presets are
/// trained by their own code, not from a config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Undercomplete dense autoencoder (the default: no change).
    Dense,
    /// Trained on corrupted inputs (Gaussian noise 0.3) to rebuild clean ones.
    Denoising,
    /// Sigmoid code with a KL sparsity penalty (rho 0.05, beta 0.01).
    Sparse,
    /// Variational autoencoder: Gaussian code, KL to N(0, I).
    Vae,
    /// beta-VAE: a VAE with beta 4.
    BetaVae,
    /// Convolutional autoencoder for images (channels 32,64, kernel 3, stride 2).
    Conv,
    /// Convolutional VAE for images.
    ConvVae,
    /// 1-D convolutional autoencoder for time-series windows (channels 16,32, kernel 5,
    /// stride 2).
    Conv1d,
    /// Learned image compression: two stride-2 5x5 convolutions (64 then 32 channels, GDN
    /// between them) to an H/4 x W/4 x 32 code map, transposed convolutions back (IGDN
    /// between them), a learned per-channel factorized entropy model on the code, trained on
    /// `bits per pixel + λ · 255² · MSE` (λ 0.01 unless set) with uniform noise on the code.
    /// GDN measured better than leaky ReLU on Fashion-MNIST (BENCHMARKS.md); leaky ReLU stays
    /// the activation when GDN is switched off.
    Compress,
    /// Unsupervised anomaly detection: the settings of [`FitConfig::anomaly`] (tanh units,
    /// standard scaling, 100 epochs, no validation split, the forest detector).
    Anomaly,
}

impl Preset {
    /// Every preset with its name, as written in flags and in Python.
    pub const ALL: [(&'static str, Preset); 10] = [
        ("dense", Preset::Dense),
        ("denoising", Preset::Denoising),
        ("sparse", Preset::Sparse),
        ("vae", Preset::Vae),
        ("beta-vae", Preset::BetaVae),
        ("conv", Preset::Conv),
        ("conv-vae", Preset::ConvVae),
        ("conv1d", Preset::Conv1d),
        ("anomaly", Preset::Anomaly),
        ("compress", Preset::Compress),
    ];

    /// The rate-distortion weight λ of `--preset compress` unless one is given.
    pub const COMPRESS_LAMBDA: f32 = 0.01;

    /// The rate-distortion weight λ of `--preset compress` with the MS-SSIM distortion
    /// (`R + λ · (1 − MS-SSIM)`) unless one is given: the λ whose rate is that of
    /// [`Preset::COMPRESS_LAMBDA`] with MSE. Measured on Fashion-MNIST (BENCHMARKS.md, 6
    /// epochs): λ 100 gives 1.65 bpp, where MSE at λ 0.01 gives about 1.6 (interpolated
    /// between λ 0.004 and 0.015). CompressAI's mapping (its MS-SSIM λ are about 1,280 times
    /// its MSE λ at the same quality level: 12.8 here) gives only 0.75 bpp on 28x28 images,
    /// whose MS-SSIM has two scales and weighs the coarser, easier one at 0.86.
    pub const COMPRESS_MS_SSIM_LAMBDA: f32 = 100.0;

    /// The preset of a name (`dense`, `denoising`, `sparse`, `vae`, `beta-vae`, `conv`,
    /// `conv-vae`, `conv1d`, `anomaly`, `compress`; `_` may stand for `-`).
    pub fn from_name(name: &str) -> Result<Preset> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        Preset::ALL.iter().find(|(n, _)| *n == wanted).map(|&(_, p)| p).ok_or_else(|| {
            let names: Vec<&str> = Preset::ALL.iter().map(|(n, _)| *n).collect();
            Error::Config(format!("unknown preset \"{name}\" (one of {})", names.join(", ")))
        })
    }

    /// The preset's name.
    pub fn name(self) -> &'static str {
        Preset::ALL.iter().find(|(_, p)| *p == self).map_or("dense", |(n, _)| n)
    }

    /// Applies the preset's settings to `c` (before any other setting, which may change them).
    pub fn apply(self, c: &mut FitConfig) {
        let conv = || Architecture::Conv {
            channels: vec![32, 64],
            kernel: 3,
            stride: 2,
            dense_code: true,
        };
        match self {
            Preset::Dense => {}
            Preset::Denoising => c.objective.corruption = Corruption::Gaussian { sigma: 0.3 },
            Preset::Sparse => {
                c.model.code_activation = Activation::Sigmoid;
                c.objective.sparsity = Sparsity::Kl { rho: 0.05, beta: 0.01 };
            }
            Preset::Vae => c.model.latent_kind = LatentKind::Gaussian,
            Preset::BetaVae => {
                c.model.latent_kind = LatentKind::Gaussian;
                c.objective.beta = 4.0;
            }
            Preset::Conv => c.model.architecture = conv(),
            Preset::ConvVae => {
                c.model.architecture = conv();
                c.model.latent_kind = LatentKind::Gaussian;
            }
            Preset::Conv1d => {
                c.model.architecture = Architecture::Conv {
                    channels: vec![16, 32],
                    kernel: 5,
                    stride: 2,
                    dense_code: true,
                }
            }
            Preset::Compress => {
                c.model.architecture = Architecture::Conv {
                    channels: vec![64, 32],
                    kernel: 5,
                    stride: 2,
                    dense_code: false,
                };
                c.model.activation = Activation::LeakyRelu;
                c.model.conv_norm = crate::config::ConvNorm::Gdn;
                c.model.loss = crate::config::Loss::Mse;
                c.objective.lambda = Some(Preset::COMPRESS_LAMBDA);
            }
            Preset::Anomaly => {
                let a = FitConfig::anomaly();
                c.model.activation = a.model.activation;
                c.preprocess.scaling = a.preprocess.scaling;
                c.train.val_split = a.train.val_split;
                c.train.epochs = a.train.epochs;
                c.detector = a.detector;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_listed() -> Result<()> {
        for (name, p) in Preset::ALL {
            assert_eq!(Preset::from_name(name)?, p);
            assert_eq!(p.name(), name);
        }
        assert_eq!(Preset::from_name("Beta_VAE")?, Preset::BetaVae);
        let err = Preset::from_name("nope").map(|_| ()).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("unknown preset \"nope\"") && e.contains("vae")));
        Ok(())
    }

    #[test]
    fn anomaly_preset_takes_the_anomaly_defaults() {
        let mut c = FitConfig::default();
        Preset::Anomaly.apply(&mut c);
        let a = FitConfig::anomaly();
        assert_eq!((c.detector, c.train.epochs), (a.detector, a.train.epochs));
        let mut v = FitConfig::default();
        Preset::Vae.apply(&mut v);
        assert_eq!(v.model.latent_kind, LatentKind::Gaussian);
    }
}
