//! The variational head and the decoder likelihoods, written once: the reparameterised sample,
//! its backward with the KL gradient, the KL value, and the Gaussian and Bernoulli negative
//! log-likelihoods with their gradients.
//!
//! A variational code layer outputs rows `[μ (k) | lv (k)]`, `lv = log σ²`. Training
//! (`model::net`), scoring and the bounds (`model::variational`), the reconstruction losses
//! (`objective`) and the CPU backend ([`super::backend::Cpu`]) all call these functions; the CUDA
//! backend's kernels mirror them line by line.

use super::Activation;

/// `ln 2π / 2`, the constant of a standard normal log-density.
pub const HALF_LN_2PI: f32 = 0.918_938_5;

/// One reparameterised draw: `μ + e^{lv/2} ε`.
#[inline]
pub fn sample(mu: f32, lv: f32, eps: f32) -> f32 {
    mu + (0.5 * lv).exp() * eps
}

/// One dimension's `KL(N(μ, e^{lv}) ‖ N(0, 1)) = ½ (μ² + e^{lv} − 1 − lv)`.
#[inline]
pub fn kl_term(mu: f32, lv: f32) -> f32 {
    0.5 * (mu * mu + lv.exp() - 1.0 - lv)
}

/// One dimension of the head backward: from `dz = ∂L/∂z` at `z = μ + e^{lv/2} ε`, plus
/// `w / r` times [`kl_term`], returns `(∂/∂μ, ∂/∂lv) = (dz + w μ / r,
/// dz ε σ / 2 + w (e^{lv} − 1) / (2 r))`.
#[inline]
pub fn head_grad(mu: f32, lv: f32, eps: f32, dz: f32, w: f32, r: f32) -> (f32, f32) {
    let std = (0.5 * lv).exp();
    (dz + w * mu / r, dz * eps * 0.5 * std + w * 0.5 * (lv.exp() - 1.0) / r)
}

/// `z = μ + e^{lv/2} ε` for `rows` rows of `h = [μ | lv]` (`2k` wide), `eps` and `z` `k` wide.
pub fn reparameterize(h: &[f32], eps: &[f32], z: &mut [f32], rows: usize, k: usize) {
    for ((z, e), row) in
        z.chunks_exact_mut(k).zip(eps.chunks_exact(k)).zip(h.chunks_exact(2 * k)).take(rows)
    {
        let (mu, lv) = row.split_at(k);
        for j in 0..k {
            z[j] = sample(mu[j], lv[j], e[j]);
        }
    }
}

/// Backward through the reparameterisation plus `kl_weight` times the batch-mean KL:
/// from `dz = ∂L/∂z` (`rows x k`) writes `out = ∂L/∂[μ | lv]` (`rows x 2k`):
/// `∂/∂μ = dz + w μ / B`, `∂/∂lv = dz ε σ / 2 + w (e^{lv} − 1) / (2B)`.
pub fn head_backward(
    h: &[f32],
    eps: &[f32],
    dz: &[f32],
    out: &mut [f32],
    rows: usize,
    k: usize,
    kl_weight: f32,
) {
    let r = rows as f32;
    for i in 0..rows {
        let (dz, eps) = (&dz[i * k..(i + 1) * k], &eps[i * k..(i + 1) * k]);
        let (mu, lv) = h[i * 2 * k..(i + 1) * 2 * k].split_at(k);
        let out = &mut out[i * 2 * k..(i + 1) * 2 * k];
        for j in 0..k {
            (out[j], out[k + j]) = head_grad(mu[j], lv[j], eps[j], dz[j], kl_weight, r);
        }
    }
}

/// `KL(N(μ, e^{lv}) ‖ N(0, 1)) = ½ Σ_j (μ² + e^{lv} − 1 − lv)` summed over a batch whose rows
/// hold `[μ (k) | lv (k)]` (one row: that row's KL).
pub fn gaussian_kl(h: &[f32], k: usize) -> f64 {
    h.chunks_exact(2 * k)
        .map(|row| {
            let (mu, lv) = row.split_at(k);
            mu.iter().zip(lv).map(|(&m, &l)| f64::from(kl_term(m, l))).sum::<f64>()
        })
        .sum()
}

/// `-(t ln σ(z) + (1-t) ln(1-σ(z)))` = `max(z,0) - t z + ln(1 + e^-|z|)`.
#[inline]
pub fn bce_from_logit(z: f32, t: f32) -> f32 {
    z.max(0.0) - t * z + (-z.abs()).exp().ln_1p()
}

/// `Σ −log Bernoulli(t; σ(z))` over all values from the logits `z` (in f64, in order); with
/// `grad = (dz, d)`, also `dz = (y − t) / d` where `y = σ(z)` is the output.
pub fn bernoulli_nll(y: &[f32], z: &[f32], t: &[f32], grad: Option<(&mut [f32], f32)>) -> f64 {
    let mut total = 0.0f64;
    match grad {
        Some((dz, d)) => {
            for (((dz, &y), &z), &t) in dz.iter_mut().zip(y).zip(z).zip(t) {
                total += f64::from(bce_from_logit(z, t));
                *dz = (y - t) / d;
            }
        }
        None => z.iter().zip(t).for_each(|(&z, &t)| total += f64::from(bce_from_logit(z, t))),
    }
    total
}

/// The scale of a Gaussian likelihood: `log σ`, fixed or one per feature.
#[derive(Clone, Copy, Debug)]
pub enum LogSigma<'a> {
    /// The same `log σ` for every value.
    Fixed(f32),
    /// `log σ` of each feature; value `i` uses entry `i % len`.
    PerFeature(&'a [f32]),
}

impl LogSigma<'_> {
    #[inline]
    fn at(&self, i: usize) -> f32 {
        match self {
            LogSigma::Fixed(l) => *l,
            LogSigma::PerFeature(s) => s[i % s.len()],
        }
    }
}

/// What the Gaussian likelihood's gradient needs: the output's pre-activation and activation,
/// the batch size, and where `∂/∂(pre-activation)` goes.
#[derive(Debug)]
pub struct NllGrad<'a> {
    /// Receives `∂L/∂z` for the output pre-activation `z`.
    pub dz: &'a mut [f32],
    /// The output pre-activation.
    pub pre: &'a [f32],
    /// The output activation.
    pub act: Activation,
    /// The divisor (batch rows).
    pub rows: f32,
}

/// `Σ −log N(t; y, σ²) = Σ ½ (y−t)² / σ² + log σ + ½ ln 2π` over all values (f64, in order);
/// with `grad`, also `dz = (y − t) / σ² / B · act'(z)`.
pub fn gaussian_nll(
    y: &[f32],
    t: &[f32],
    log_sigma: LogSigma<'_>,
    grad: Option<NllGrad<'_>>,
) -> f64 {
    let mut total = 0.0f64;
    match grad {
        Some(g) => {
            for (i, (&yi, &t)) in y.iter().zip(t).enumerate() {
                let l = log_sigma.at(i);
                let inv_var = (-2.0 * l).exp();
                let e = yi - t;
                total += f64::from(0.5 * e * e * inv_var + l + HALF_LN_2PI);
                g.dz[i] = e * inv_var / g.rows * g.act.derivative(yi, g.pre[i]);
            }
        }
        None => {
            for (i, (&yi, &t)) in y.iter().zip(t).enumerate() {
                let l = log_sigma.at(i);
                let e = yi - t;
                total += f64::from(0.5 * e * e * (-2.0 * l).exp() + l + HALF_LN_2PI);
            }
        }
    }
    total
}

/// Gradient of the Gaussian NLL (divided by `rows`) with respect to the per-feature `log σ`
/// `ls`: `g[d] = Σ_rows (1 − (y−t)² e^{−2 ls[d]}) / B`, written over `g`.
pub fn log_sigma_grad(y: &[f32], t: &[f32], ls: &[f32], g: &mut [f32], rows: f32) {
    let width = ls.len();
    g.fill(0.0);
    for (i, (&yi, &t)) in y.iter().zip(t).enumerate() {
        let d = i % width;
        let e = yi - t;
        g[d] += (1.0 - e * e * (-2.0 * ls[d]).exp()) / rows;
    }
}
