//! Reconstruction losses: value, gradient with respect to the output pre-activation, and
//! per-row errors for evaluation.

pub mod msssim;

use crate::config::Loss;
use crate::engine::vae::bernoulli_nll;
/// The Bernoulli and Gaussian math lives once in the engine (`engine::vae`).
pub use crate::engine::vae::{bce_from_logit, gaussian_kl, HALF_LN_2PI};
use crate::engine::Activation;

/// Mean loss over all values, and `dz = ∂L/∂z` for the output pre-activation `z`.
///
/// `y = act(z)` is the output, `t` the target. Per value, with N values in all:
/// MSE `(y-t)²/N`, `dz = 2(y-t) act'(z)/N`; MAE `|y-t|/N`, `dz = sign(y-t) act'(z)/N`;
/// BCE (sigmoid output) `softplus(z) - t z`, `dz = (y-t)/N`, computed from `z` for stability.
pub fn loss_and_grad(
    loss: Loss,
    act: Activation,
    y: &[f32],
    z: &[f32],
    t: &[f32],
    dz: &mut [f32],
) -> f64 {
    let n = y.len() as f32;
    let mut total = 0.0f64;
    match loss {
        Loss::Mse => {
            // Specialised loops for the common outputs so they vectorise.
            let k = 2.0 / n;
            match act {
                Activation::Sigmoid => dz
                    .iter_mut()
                    .zip(y)
                    .zip(t)
                    .for_each(|((d, &y), &t)| *d = k * (y - t) * y * (1.0 - y)),
                Activation::Identity => {
                    dz.iter_mut().zip(y).zip(t).for_each(|((d, &y), &t)| *d = k * (y - t))
                }
                _ => dz
                    .iter_mut()
                    .zip(y)
                    .zip(z)
                    .zip(t)
                    .for_each(|(((d, &y), &z), &t)| *d = k * (y - t) * act.derivative(y, z)),
            }
            total = sum_squares(y, t);
        }
        Loss::Mae => {
            for (((d, &y), &z), &t) in dz.iter_mut().zip(y).zip(z).zip(t) {
                let e = y - t;
                total += f64::from(e.abs());
                *d = sign(e) / n * act.derivative(y, z);
            }
        }
        Loss::Bce => {
            total = bernoulli_nll(y, z, t, Some((dz, n)));
        }
    }
    total / f64::from(n)
}

/// `Σ (y - t)²` in f64, in fixed-size blocks (vectorisable, and the same order every run).
fn sum_squares(y: &[f32], t: &[f32]) -> f64 {
    y.chunks(256)
        .zip(t.chunks(256))
        .map(|(y, t)| y.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum::<f32>() as f64)
        .sum()
}

/// Mean loss over all values (no gradient).
pub fn loss_value(loss: Loss, y: &[f32], z: &[f32], t: &[f32]) -> f64 {
    let total: f64 = match loss {
        Loss::Mse => y.iter().zip(t).map(|(y, t)| f64::from((y - t) * (y - t))).sum(),
        Loss::Mae => y.iter().zip(t).map(|(y, t)| f64::from((y - t).abs())).sum(),
        Loss::Bce => bernoulli_nll(y, z, t, None),
    };
    total / y.len().max(1) as f64
}

#[inline]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Reconstruction error of each row, averaged over its values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowErrors {
    /// Mean squared error per row.
    pub mse: Vec<f32>,
    /// Mean absolute error per row.
    pub mae: Vec<f32>,
}

impl RowErrors {
    /// Appends the errors of `rows` rows of width `width`.
    pub fn extend(&mut self, y: &[f32], t: &[f32], width: usize) {
        for (yr, tr) in y.chunks_exact(width).zip(t.chunks_exact(width)) {
            let (mut se, mut ae) = (0.0f64, 0.0f64);
            for (a, b) in yr.iter().zip(tr) {
                let e = f64::from(a - b);
                se += e * e;
                ae += e.abs();
            }
            self.mse.push((se / width as f64) as f32);
            self.mae.push((ae / width as f64) as f32);
        }
    }
}

/// Applies `corruption` to `x` into `out` (training only).
pub fn corrupt(
    corruption: crate::config::Corruption,
    x: &[f32],
    out: &mut [f32],
    rng: &mut (impl rand::Rng + ?Sized),
) {
    use crate::config::Corruption;
    use rand_distr::{Distribution, StandardNormal};
    match corruption {
        Corruption::None => out.copy_from_slice(x),
        Corruption::Gaussian { sigma } => {
            for (o, &v) in out.iter_mut().zip(x) {
                let n: f32 = StandardNormal.sample(rng);
                *o = v + sigma * n;
            }
        }
        Corruption::Mask { p } => {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = if rng.random::<f32>() < p { 0.0 } else { v };
            }
        }
        Corruption::SaltPepper { p } => {
            for (o, &v) in out.iter_mut().zip(x) {
                let u: f32 = rng.random();
                *o = if u < 0.5 * p {
                    0.0
                } else if u < p {
                    1.0
                } else {
                    v
                };
            }
        }
    }
}

/// Sparsity penalty of a batch of codes `a` (`rows x k`), adding its gradient to `da`.
/// `rho_hat` is scratch of length `k`. Returns the penalty.
pub fn sparsity_penalty(
    sparsity: crate::config::Sparsity,
    a: &[f32],
    k: usize,
    da: &mut [f32],
    rho_hat: &mut [f32],
) -> f64 {
    use crate::config::Sparsity;
    let rows = (a.len() / k).max(1) as f32;
    match sparsity {
        Sparsity::None => 0.0,
        Sparsity::L1 { weight } => {
            let mut total = 0.0f64;
            for (d, &v) in da.iter_mut().zip(a) {
                total += f64::from(v.abs());
                *d += weight * sign(v) / rows;
            }
            f64::from(weight) * total / f64::from(rows)
        }
        Sparsity::Kl { rho, beta } => {
            mean_activation(a, k, rho_hat);
            let mut total = 0.0f64;
            for r in rho_hat.iter_mut() {
                *r = r.clamp(1e-6, 1.0 - 1e-6);
                total += f64::from(
                    rho * (rho / *r).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - *r)).ln(),
                );
            }
            for row in da.chunks_exact_mut(k) {
                for (d, &r) in row.iter_mut().zip(rho_hat.iter()) {
                    *d += beta * (-rho / r + (1.0 - rho) / (1.0 - r)) / rows;
                }
            }
            f64::from(beta) * total
        }
    }
}

/// Column means of a `rows x k` matrix into `out`.
pub fn mean_activation(a: &[f32], k: usize, out: &mut [f32]) {
    out.fill(0.0);
    let rows = a.len() / k;
    for row in a.chunks_exact(k) {
        out.iter_mut().zip(row).for_each(|(o, v)| *o += v);
    }
    out.iter_mut().for_each(|o| *o /= rows.max(1) as f32);
}

/// `clip(x + sigma * N(0, 1), 0, 1)` with a seeded RNG: the noisy test data of denoising
/// benchmarks on [0, 1] data.
pub fn noisy_unit(x: &[f32], sigma: f32, seed: u64) -> Vec<f32> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    x.iter()
        .map(|&v| {
            let n: f32 = StandardNormal.sample(&mut rng);
            (v + sigma * n).clamp(0.0, 1.0)
        })
        .collect()
}
