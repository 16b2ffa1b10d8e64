//! Variational models: sampling from the prior, and the ELBO and importance-weighted (IWAE)
//! bounds on the log-likelihood of data, in nats per example.

use super::{Matrix, Model};
use crate::config::Likelihood;
use crate::engine::backend::Cpu;
use crate::engine::vae::{self, LogSigma};
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Log-likelihood bounds of a variational model, averaged over examples, in nats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Evidence lower bound `E_q[log p(x|z)] − KL(q(z|x) ‖ p(z))` (≤ log p(x)).
    pub elbo: f64,
    /// Importance-sampled negative log-likelihood `−log (1/K Σ_k p(x, z_k) / q(z_k|x))`
    /// (the IWAE bound, ≥ −log p(x)).
    pub nll: f64,
    /// Importance samples per example.
    pub samples: usize,
}

/// Decoded samples per forward pass.
const DECODE_ROWS: usize = 4096;

impl Model {
    /// Draws `n` latent codes from the prior `N(0, I)` and decodes them (model-input space,
    /// the decoder's mean).
    pub fn sample(&self, n: usize, seed: u64) -> Result<super::Matrix> {
        self.require_variational()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let z: Vec<f32> =
            (0..n * self.code_width()).map(|_| StandardNormal.sample(&mut rng)).collect();
        self.decode(&z)
    }

    /// ELBO and IWAE bounds with `samples` importance samples per example, on
    /// already-preprocessed rows `x` (binarise them first for a Bernoulli model of binarised
    /// data).
    pub fn bounds(&self, x: &[f32], samples: usize, seed: u64) -> Result<Bounds> {
        self.require_variational()?;
        if samples == 0 {
            return Err(Error::Config("importance samples must be at least 1".into()));
        }
        let width = self.net.width();
        let k = self.code_width();
        let rows = x.len() / width;
        if rows == 0 {
            return Err(Error::Data("no rows to evaluate".into()));
        }
        let likelihood = self.net.likelihood().unwrap_or(Likelihood::Bernoulli);
        let log_sigma = self.net.log_sigma(&self.params).map(<[f32]>::to_vec);
        // The network's own row order (channels-last for multi-channel images).
        let x_net = self.network_order(x);
        // Posterior parameters of every row.
        let mut post = vec![0.0; rows * 2 * k];
        self.fill_rows(x, &mut post, 2 * k, |ws, n, out| {
            out.copy_from_slice(self.net.posterior(ws, n));
        })?;

        let per_pass = (DECODE_ROWS / samples).max(1);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut ws = self.net.workspace(per_pass * samples);
        let (mut elbo, mut nll) = (0.0f64, 0.0f64);
        let mut z = vec![0.0f32; per_pass * samples * k];
        let mut log_w = vec![0.0f64; per_pass * samples];
        for start in (0..rows).step_by(per_pass) {
            let n = per_pass.min(rows - start);
            // z = μ + σ ε, with log p(z) − log q(z|x) accumulated per sample.
            for e in 0..n {
                let row = &post[(start + e) * 2 * k..(start + e + 1) * 2 * k];
                let (mu, lv) = row.split_at(k);
                for s in 0..samples {
                    let r = e * samples + s;
                    let mut lw = 0.0f64;
                    for j in 0..k {
                        let eps: f32 = StandardNormal.sample(&mut rng);
                        let zj = vae::sample(mu[j], lv[j], eps);
                        z[r * k + j] = zj;
                        // log N(z; 0, 1) − log N(z; μ, σ²) = −z²/2 + ε²/2 + lv/2
                        lw += f64::from(-0.5 * zj * zj + 0.5 * eps * eps + 0.5 * lv[j]);
                    }
                    log_w[r] = lw;
                }
            }
            let m = n * samples;
            self.net.decode(&Cpu, &self.params, &mut ws, &z[..m * k], m)?;
            let y = self.net.reconstructions(&ws, m);
            let logits = self.net.output_logits(&ws, m);
            let xs = &x_net[start * width..(start + n) * width];
            log_w[..m].par_iter_mut().enumerate().for_each(|(r, lw)| {
                let t = &xs[(r / samples) * width..(r / samples + 1) * width];
                let span = r * width..(r + 1) * width;
                *lw += log_likelihood(
                    likelihood,
                    &y[span.clone()],
                    &logits[span],
                    t,
                    log_sigma.as_deref(),
                );
            });
            for e in 0..n {
                let w = &log_w[e * samples..(e + 1) * samples];
                elbo += w.iter().sum::<f64>() / samples as f64;
                let max = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let lse = max + w.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                nll -= lse - (samples as f64).ln();
            }
        }
        Ok(Bounds { elbo: elbo / rows as f64, nll: nll / rows as f64, samples })
    }

    /// Per-row negative ELBO (`with_kl`) or reconstruction NLL at the posterior mean, in nats,
    /// and the reconstructions (the decoder's mean at `z = μ`), on preprocessed rows.
    pub(crate) fn variational_scores(
        &self,
        x: &[f32],
        with_kl: bool,
    ) -> Result<(Vec<f32>, Matrix)> {
        if !self.is_variational() {
            return Err(Error::NotVariational("the neg_elbo and recon_nll scores"));
        }
        let width = self.net.width();
        let k = self.code_width();
        let likelihood = self.net.likelihood().unwrap_or(Likelihood::Bernoulli);
        let log_sigma = self.net.log_sigma(&self.params).map(<[f32]>::to_vec);
        // The network sees rows in its own order (channels-last for multi-channel images).
        let x_net = self.network_order(x);
        let chunks = self.map_chunks(x, true, |ws, rows| {
            let n = rows.len();
            let y = self.net.reconstructions(ws, n);
            let logits = self.net.output_logits(ws, n);
            let post = self.net.posterior(ws, n);
            let x_rows = &x_net[rows.start * width..rows.end * width];
            let scores: Vec<f32> = (0..n)
                .map(|r| {
                    let span = r * width..(r + 1) * width;
                    let ll = log_likelihood(
                        likelihood,
                        &y[span.clone()],
                        &logits[span.clone()],
                        &x_rows[span],
                        log_sigma.as_deref(),
                    );
                    let kl = if with_kl {
                        vae::gaussian_kl(&post[r * 2 * k..(r + 1) * 2 * k], k)
                    } else {
                        0.0
                    };
                    (kl - ll) as f32
                })
                .collect();
            (scores, y.to_vec())
        })?;
        let (scores, recon): (Vec<Vec<f32>>, Vec<Vec<f32>>) = chunks.into_iter().unzip();
        let (scores, recon) = (scores.concat(), recon.concat());
        let rows = x.len() / width.max(1);
        Ok((scores, Matrix { rows, cols: width, data: self.to_feature_order(recon) }))
    }

    fn require_variational(&self) -> Result<()> {
        if self.is_variational() {
            Ok(())
        } else {
            Err(Error::NotVariational("this"))
        }
    }
}

/// `log p(x | z)` of one row from the decoder's output `y` (and logits).
fn log_likelihood(
    likelihood: Likelihood,
    y: &[f32],
    logits: &[f32],
    x: &[f32],
    log_sigma: Option<&[f32]>,
) -> f64 {
    match likelihood {
        Likelihood::Bernoulli => -vae::bernoulli_nll(y, logits, x, None),
        Likelihood::Gaussian { sigma } => {
            let ls =
                log_sigma.map_or(LogSigma::Fixed(sigma.unwrap_or(1.0).ln()), LogSigma::PerFeature);
            -vae::gaussian_nll(y, x, ls, None)
        }
    }
}

/// Binarises `[0, 1]` values: `x ~ Bernoulli(x)`, seeded (dynamically binarised MNIST's test
/// set is binarised once like this).
pub fn binarize(x: &[f32], seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    x.iter().map(|&p| if rng.random::<f32>() < p { 1.0 } else { 0.0 }).collect()
}
