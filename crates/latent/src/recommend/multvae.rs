//! Mult-VAE and Mult-DAE (Liang et al. 2018, "Variational Autoencoders for Collaborative
//! Filtering"): an autoencoder over a user's item set with a multinomial likelihood.
//!
//! Network (sizes `items-hidden-latent-hidden-items`, tanh between layers):
//! - input `x̃ = dropout(x / ‖x‖₂)` (dropout only in training), a sparse row;
//! - `h₁ = tanh(x̃ W₁ + b₁)` — [`SparseDense`], touching only the batch's items;
//! - Mult-VAE: `[μ, log σ²] = h₁ W₂ᵀ + b₂`, `z = μ + ε σ` in training (`z = μ` otherwise);
//!   Mult-DAE: `z = tanh(h₁ W₂ᵀ + b₂)`;
//! - `h₃ = tanh(z W₃ᵀ + b₃)`, logits `π = h₃ W₄ᵀ + b₄` over all items.
//!
//! With `hidden = 0` there are no hidden layers (`items-latent-items`): the code is computed
//! from the sparse input directly and the logits are `π = z W₄ᵀ + b₄`.
//!
//! Loss per user: `−Σ_j c_j x_j log softmax(π)_j + β_u · KL(q(z|x) ‖ N(0, I))`, averaged over
//! the batch, with `KL = ½ Σ (σ² + μ² − 1 − log σ²)` (VAE only); `β_u` is one constant or, as in
//! RecVAE (Shenbin et al. 2020), proportional to the user's history size ([`Beta`]). The item
//! weights `c_j` are 1 unless emphasised denoising is on ([`Corruption::emphasis`]).

use super::prior;
use crate::engine::dense::Dense;
use crate::engine::sparse::{SparseBatch, SparseDense};
use crate::engine::vae;
use crate::engine::{Activation, Params};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Sizes and kind of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Number of items (input and output width).
    pub items: usize,
    /// Hidden width (600 in the paper); 0: no hidden layer.
    pub hidden: usize,
    /// Code width (200 in the paper).
    pub latent: usize,
    /// Gaussian code (Mult-VAE) or deterministic (Mult-DAE).
    pub variational: bool,
}

/// The network and its parameters.
#[derive(Clone, Debug)]
pub struct MultVae {
    shape: Shape,
    params: Params,
    enc1: SparseDense,
    enc2: Option<Dense>,
    dec1: Option<Dense>,
    out: Dense,
}

/// The KL weight of each user in a batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Beta {
    /// The same weight for every user.
    Constant(f32),
    /// `γ · n_u` for a user with `n_u` items (RecVAE): the likelihood is a sum over the
    /// user's items, so the KL keeps the same weight per item for every user.
    PerItem(f32),
}

impl Beta {
    /// The weight of a user with `n` items.
    pub fn of(self, n: usize) -> f32 {
        match self {
            Beta::Constant(b) => b,
            Beta::PerItem(g) => g * n as f32,
        }
    }
}

/// The input corruption of a training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Corruption {
    /// Probability of dropping each item of the input.
    pub dropout: f32,
    /// Emphasised denoising (Vincent et al. 2010; Steck 2020): the likelihood terms of the
    /// items dropped from the input weigh `emphasis` times those of the kept items, so the
    /// network is trained mostly on predicting items it did not see (the task at test time).
    /// Each user's weights are scaled to sum to their history size, so the likelihood keeps
    /// its weight against the KL term. 1: off.
    pub emphasis: f32,
}

/// Every buffer of a forward/backward pass, sized for `capacity` users.
#[derive(Clone, Debug)]
pub struct Workspace {
    capacity: usize,
    x: SparseBatch,
    h1: Vec<f32>,
    enc: Vec<f32>,
    z: Vec<f32>,
    eps: Vec<f32>,
    h3: Vec<f32>,
    logits: Vec<f32>,
    d_h3: Vec<f32>,
    d_z: Vec<f32>,
    d_enc: Vec<f32>,
    d_h1: Vec<f32>,
    row_loss: Vec<f64>,
    touched: Vec<u32>,
    /// Each history item's likelihood weight `c_j`, the rows one after the other.
    weight: Vec<f32>,
    /// Which items of the history being filled were dropped (scratch of `fill_input`).
    dropped: Vec<bool>,
}

/// Losses of one training batch (means over its users).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchLoss {
    /// Multinomial negative log-likelihood.
    pub nll: f64,
    /// KL divergence times each user's KL weight β (0 for Mult-DAE).
    pub kl: f64,
}

impl MultVae {
    /// A network with Xavier-uniform weights and zero biases, drawn from `rng`.
    pub fn new(shape: Shape, rng: &mut impl Rng) -> MultVae {
        let mut net = MultVae::empty(shape);
        let specs = net.params.specs().to_vec();
        for s in specs.iter().filter(|s| s.decay) {
            let bound = (6.0 / (s.shape[0] + s.shape[1]) as f32).sqrt();
            let v = &mut net.params.values_mut()[s.offset..s.offset + s.len];
            v.iter_mut().for_each(|w| *w = rng.random_range(-bound..bound));
        }
        net
    }

    /// The network with zero parameters (to be filled from a file).
    pub fn empty(shape: Shape) -> MultVae {
        let mut p = Params::new();
        let Shape { items, hidden, latent, variational } = shape;
        let (code_out, code_act) = if variational {
            (2 * latent, Activation::Identity)
        } else {
            (latent, Activation::Tanh)
        };
        if hidden == 0 {
            let enc1 = SparseDense::new(&mut p, "encoder.0", items, code_out, code_act);
            let out = Dense::new(&mut p, "decoder.0", latent, items, Activation::Identity);
            return MultVae { shape, params: p, enc1, enc2: None, dec1: None, out };
        }
        let enc1 = SparseDense::new(&mut p, "encoder.0", items, hidden, Activation::Tanh);
        let enc2 = Some(Dense::new(&mut p, "encoder.1", hidden, code_out, code_act));
        let dec1 = Some(Dense::new(&mut p, "decoder.0", latent, hidden, Activation::Tanh));
        let out = Dense::new(&mut p, "decoder.1", hidden, items, Activation::Identity);
        MultVae { shape, params: p, enc1, enc2, dec1, out }
    }

    /// Sets the output bias to `ln(count + 1)` per item (up to a constant, which the softmax
    /// ignores): training starts from item popularity instead of a uniform distribution. At
    /// Adam's step size the bias alone would take thousands of steps to get there, more than a
    /// small data set gives before the weights overfit.
    pub fn init_output_bias(&mut self, counts: &[u32]) {
        let bias = self.params.value_mut(self.out.bias);
        let logs: Vec<f32> = counts.iter().map(|&c| (c as f32 + 1.0).ln()).collect();
        let mean = logs.iter().sum::<f32>() / logs.len().max(1) as f32;
        bias.iter_mut().zip(&logs).for_each(|(b, l)| *b = l - mean);
    }

    /// The sizes.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The parameters, mutably.
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// Buffers for batches of up to `capacity` users.
    pub fn workspace(&self, capacity: usize) -> Workspace {
        let Shape { items, hidden, latent, variational } = self.shape;
        let code = if variational { 2 * latent } else { latent };
        let c = capacity.max(1);
        Workspace {
            capacity: c,
            x: SparseBatch::default(),
            h1: vec![0.0; c * hidden],
            enc: vec![0.0; c * code],
            z: vec![0.0; c * latent],
            eps: vec![0.0; c * latent],
            h3: vec![0.0; c * hidden],
            logits: vec![0.0; c * items],
            d_h3: vec![0.0; c * hidden],
            d_z: vec![0.0; c * latent],
            d_enc: vec![0.0; c * code],
            d_h1: vec![0.0; c * hidden],
            row_loss: vec![0.0; c],
            touched: Vec::new(),
            weight: Vec::new(),
            dropped: Vec::new(),
        }
    }

    /// Fills the sparse input: each history L2-normalised (`1/√n` per item), then, when
    /// `noise` is given, each item dropped with probability `p` and the rest scaled by
    /// `1/(1-p)`; and the likelihood weights: 1, or with emphasis, `a` for a dropped item and
    /// 1 for a kept one, scaled to sum to the history size.
    fn fill_input(
        ws: &mut Workspace,
        histories: &[&[u32]],
        noise: Option<(Corruption, &mut ChaCha8Rng)>,
    ) {
        ws.x.clear();
        ws.weight.clear();
        match noise {
            Some((c, rng)) if c.dropout > 0.0 => {
                let p = c.dropout;
                let drop = &mut ws.dropped;
                for h in histories {
                    let v = 1.0 / (h.len().max(1) as f32).sqrt() / (1.0 - p);
                    drop.clear();
                    drop.extend(h.iter().map(|_| rng.random::<f32>() < p));
                    let kept = h.iter().zip(drop.iter()).filter(|(_, &d)| !d).map(|(&i, _)| (i, v));
                    ws.x.push_row(kept);
                    let dropped = drop.iter().filter(|&&d| d).count() as f32;
                    let n = h.len() as f32;
                    // Σ c_j = n: a·dropped + (n − dropped), scaled.
                    let scale = n / (c.emphasis * dropped + n - dropped).max(f32::MIN_POSITIVE);
                    let w = |d: &bool| if *d { c.emphasis * scale } else { scale };
                    ws.weight.extend(drop.iter().map(w));
                }
            }
            _ => {
                for h in histories {
                    let v = 1.0 / (h.len().max(1) as f32).sqrt();
                    ws.x.push_row(h.iter().map(|&i| (i, v)));
                    ws.weight.extend(h.iter().map(|_| 1.0f32));
                }
            }
        }
    }

    /// The code layer `[μ, log σ²]` (VAE) or `z` (DAE) of each history, without dropout:
    /// `histories.len() x code`, row-major (the old encoder of the composite prior).
    pub fn encode(&self, histories: &[&[u32]]) -> Vec<f32> {
        let Shape { hidden, latent, variational, .. } = self.shape;
        let code = if variational { 2 * latent } else { latent };
        let rows = histories.len();
        let mut x = SparseBatch::default();
        for h in histories {
            let v = 1.0 / (h.len().max(1) as f32).sqrt();
            x.push_row(h.iter().map(|&i| (i, v)));
        }
        let mut enc = vec![0.0; rows * code];
        let p = &self.params;
        match &self.enc2 {
            Some(enc2) => {
                let mut h1 = vec![0.0; rows * hidden];
                self.enc1.forward(p, &x, &mut h1);
                enc2.forward(p, &h1, rows, &mut enc, None);
            }
            None => self.enc1.forward(p, &x, &mut enc),
        }
        enc
    }

    /// Forward from the filled input to the logits; draws `ε` when `rng` is given (VAE).
    fn forward(&self, ws: &mut Workspace, rows: usize, rng: Option<&mut ChaCha8Rng>) {
        let Shape { hidden, latent, variational, .. } = self.shape;
        let p = &self.params;
        match &self.enc2 {
            Some(enc2) => {
                self.enc1.forward(p, &ws.x, &mut ws.h1);
                enc2.forward(p, &ws.h1[..rows * hidden], rows, &mut ws.enc, None);
            }
            None => self.enc1.forward(p, &ws.x, &mut ws.enc),
        }
        if variational {
            let code = 2 * latent;
            if let Some(rng) = rng {
                ws.eps[..rows * latent]
                    .iter_mut()
                    .for_each(|e| *e = StandardNormal.sample(&mut *rng));
            } else {
                ws.eps[..rows * latent].fill(0.0);
            }
            for r in 0..rows {
                let (mu, logvar) = ws.enc[r * code..(r + 1) * code].split_at(latent);
                let z = &mut ws.z[r * latent..(r + 1) * latent];
                let e = &ws.eps[r * latent..(r + 1) * latent];
                for k in 0..latent {
                    z[k] = vae::sample(mu[k], logvar[k], e[k]);
                }
            }
        } else {
            ws.z[..rows * latent].copy_from_slice(&ws.enc[..rows * latent]);
        }
        match &self.dec1 {
            Some(dec1) => {
                dec1.forward(p, &ws.z[..rows * latent], rows, &mut ws.h3, None);
                self.out.forward(p, &ws.h3[..rows * hidden], rows, &mut ws.logits, None);
            }
            None => self.out.forward(p, &ws.z[..rows * latent], rows, &mut ws.logits, None),
        }
    }

    /// One training step on `histories` (at most the workspace's capacity): forward with
    /// input dropout `dropout` and, for the VAE, a sampled code; backward into the gradients.
    /// With `prior` (VAE), the KL is taken against the composite prior built on that
    /// network's encoder ([`prior`]) instead of `N(0, I)`.
    /// Returns the batch's mean losses; the optimiser step is the caller's.
    pub fn train_batch(
        &mut self,
        ws: &mut Workspace,
        histories: &[&[u32]],
        noise: Corruption,
        beta: Beta,
        prior: Option<&MultVae>,
        rng: &mut ChaCha8Rng,
    ) -> BatchLoss {
        let sample = self.shape.variational;
        let old = prior.filter(|_| sample).map(|o| o.encode(histories));
        self.step(ws, histories, noise, (beta, old.as_deref()), rng, sample)
    }

    /// [`Self::train_batch`], with `ε = 0` unless `sample`; `kl` is the KL weight and the old
    /// encoder's codes of the composite prior, if any.
    fn step(
        &mut self,
        ws: &mut Workspace,
        histories: &[&[u32]],
        noise: Corruption,
        kl: (Beta, Option<&[f32]>),
        rng: &mut ChaCha8Rng,
        sample: bool,
    ) -> BatchLoss {
        let (beta, old) = kl;
        let rows = histories.len().min(ws.capacity);
        let histories = &histories[..rows];
        let Shape { items, hidden, latent, variational } = self.shape;
        Self::fill_input(ws, histories, Some((noise, &mut *rng)));
        self.forward(ws, rows, sample.then_some(rng));
        let inv_b = 1.0 / rows as f32;

        // Multinomial likelihood, in place: logits become ∂L/∂π. With weights c (1 without
        // emphasis) and C_r = Σ_{j ∈ x_r} c_j:
        // nll_r = C_r · logsumexp(π_r) − Σ_{j ∈ x_r} c_j π_rj;
        // ∂/∂π_rj = (C_r softmax_rj − c_j [j ∈ x_r]) / B.
        let mut weights = Vec::with_capacity(rows);
        let mut rest = &ws.weight[..];
        for h in histories {
            let (w, tail) = rest.split_at(h.len().min(rest.len()));
            weights.push(w);
            rest = tail;
        }
        ws.logits[..rows * items]
            .par_chunks_mut(items)
            .zip(ws.row_loss[..rows].par_iter_mut())
            .zip(histories.par_iter().zip(weights.par_iter()))
            .for_each(|((pi, loss), (h, w))| {
                let max = pi.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let mut sum = 0.0f64;
                pi.iter_mut().for_each(|v| {
                    *v = (*v - max).exp();
                    sum += f64::from(*v);
                });
                let lse = f64::from(max) + sum.ln();
                let n: f32 = w.iter().sum();
                let scale = (1.0 / sum) as f32;
                // Σ_{j ∈ x} c_j π_j recovered from the exponentials: π_j = ln(e_j) + max.
                let mut picked = 0.0f64;
                for (&j, &c) in h.iter().zip(w.iter()) {
                    picked += f64::from(c) * (f64::from(pi[j as usize].ln()) + f64::from(max));
                }
                *loss = f64::from(n) * lse - picked;
                pi.iter_mut().for_each(|v| *v *= scale * n * inv_b);
                for (&j, &c) in h.iter().zip(w.iter()) {
                    pi[j as usize] -= c * inv_b;
                }
            });
        let nll = ws.row_loss[..rows].iter().sum::<f64>() / rows as f64;

        let p = &mut self.params;
        match &self.dec1 {
            Some(dec1) => {
                let h3 = &ws.h3[..rows * hidden];
                self.out.backward(p, h3, rows, &ws.logits, Some(&mut ws.d_h3));
                Activation::Tanh.backward(&mut ws.d_h3[..rows * hidden], h3, None);
                dec1.backward(p, &ws.z[..rows * latent], rows, &ws.d_h3, Some(&mut ws.d_z));
            }
            None => {
                let z = &ws.z[..rows * latent];
                self.out.backward(p, z, rows, &ws.logits, Some(&mut ws.d_z));
            }
        }

        let mut kl = 0.0f64;
        if variational {
            // z = μ + ε e^{½ log σ²} with each user's KL weight b: the engine's head math
            // (vae::kl_term, vae::head_grad), or RecVAE's composite prior.
            let code = 2 * latent;
            for r in 0..rows {
                let b = beta.of(histories[r].len()) * inv_b;
                let (mu, logvar) = ws.enc[r * code..(r + 1) * code].split_at(latent);
                let (dmu, dlv) = ws.d_enc[r * code..(r + 1) * code].split_at_mut(latent);
                let dz = &ws.d_z[r * latent..(r + 1) * latent];
                let e = &ws.eps[r * latent..(r + 1) * latent];
                if let Some(old) = old {
                    let (old_mu, old_lv) = old[r * code..(r + 1) * code].split_at(latent);
                    let z = &ws.z[r * latent..(r + 1) * latent];
                    for k in 0..latent {
                        let (t, g) = prior::term(z[k], e[k], logvar[k], old_mu[k], old_lv[k]);
                        kl += f64::from(b * t);
                        let d = dz[k] + b * g;
                        dmu[k] = d;
                        dlv[k] = d * 0.5 * e[k] * (0.5 * logvar[k]).exp() - 0.5 * b;
                    }
                    continue;
                }
                for k in 0..latent {
                    kl += f64::from(b * vae::kl_term(mu[k], logvar[k]));
                    (dmu[k], dlv[k]) = vae::head_grad(mu[k], logvar[k], e[k], dz[k], b, 1.0);
                }
            }
            kl /= f64::from(inv_b) * rows as f64;
        } else {
            ws.d_enc[..rows * latent].copy_from_slice(&ws.d_z[..rows * latent]);
            Activation::Tanh.backward(
                &mut ws.d_enc[..rows * latent],
                &ws.enc[..rows * latent],
                None,
            );
        }
        match &self.enc2 {
            Some(enc2) => {
                let h1 = &ws.h1[..rows * hidden];
                enc2.backward(p, h1, rows, &ws.d_enc, Some(&mut ws.d_h1));
                Activation::Tanh.backward(&mut ws.d_h1[..rows * hidden], h1, None);
                self.enc1.backward(p, &ws.x, &ws.d_h1, &mut ws.touched);
            }
            None => self.enc1.backward(p, &ws.x, &ws.d_enc, &mut ws.touched),
        }
        BatchLoss { nll, kl }
    }

    /// Scores (logits) of every item for each history, without dropout and with `z = μ`:
    /// `histories.len() x items`, row-major, valid until the next call.
    pub fn scores<'w>(&self, ws: &'w mut Workspace, histories: &[&[u32]]) -> &'w [f32] {
        let rows = histories.len().min(ws.capacity);
        Self::fill_input(ws, &histories[..rows], None);
        self.forward(ws, rows, None);
        &ws.logits[..rows * self.shape.items]
    }

    /// The batch loss without dropout or sampling (for tests): `(nll, kl)` means.
    pub fn eval_loss(
        &self,
        ws: &mut Workspace,
        histories: &[&[u32]],
        beta: Beta,
        old: Option<&[f32]>,
    ) -> f64 {
        let rows = histories.len().min(ws.capacity);
        Self::fill_input(ws, &histories[..rows], None);
        self.loss_on_input(ws, histories, beta, old)
    }

    /// The batch loss on the input and likelihood weights already in `ws` (from the last
    /// [`Self::fill_input`]), with `ε = 0`.
    fn loss_on_input(
        &self,
        ws: &mut Workspace,
        histories: &[&[u32]],
        beta: Beta,
        old: Option<&[f32]>,
    ) -> f64 {
        let rows = histories.len().min(ws.capacity);
        let Shape { items, latent, variational, .. } = self.shape;
        self.forward(ws, rows, None);
        let logits = ws.logits[..rows * items].to_vec();
        let mut total = 0.0f64;
        let mut at = 0;
        for (r, h) in histories[..rows].iter().enumerate() {
            let pi = &logits[r * items..(r + 1) * items];
            let max = pi.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let lse =
                f64::from(max) + pi.iter().map(|&v| f64::from(v - max).exp()).sum::<f64>().ln();
            let w = &ws.weight[at..at + h.len()];
            at += h.len();
            total += h
                .iter()
                .zip(w)
                .map(|(&j, &c)| f64::from(c) * (lse - f64::from(pi[j as usize])))
                .sum::<f64>();
            if variational {
                let row = &ws.enc[r * 2 * latent..(r + 1) * 2 * latent];
                let (mu, lv) = row.split_at(latent);
                let kl: f64 = match old {
                    Some(old) => {
                        let (om, ol) = old[r * 2 * latent..(r + 1) * 2 * latent].split_at(latent);
                        (0..latent)
                            .map(|k| f64::from(prior::term(mu[k], 0.0, lv[k], om[k], ol[k]).0))
                            .sum()
                    }
                    None => vae::gaussian_kl(row, latent),
                };
                total += f64::from(beta.of(h.len())) * kl;
            }
        }
        total / rows as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// With no dropout and ε = 0 (the deterministic code of the DAE, or the VAE's mean),
    /// the analytic gradient matches central finite differences of the loss.
    #[test]
    fn gradients_match_finite_differences() {
        let cases = [
            (false, 4, Beta::Constant(0.3)),
            (true, 4, Beta::Constant(0.3)),
            (true, 4, Beta::PerItem(0.1)),
            (false, 0, Beta::Constant(0.3)),
            (true, 0, Beta::PerItem(0.1)),
        ];
        let cases = cases.into_iter().map(|(v, h, b)| (v, h, b, false));
        let composite = [(true, 4, Beta::Constant(0.3), true), (true, 0, Beta::PerItem(0.1), true)];
        for (variational, hidden, beta, with_prior) in cases.chain(composite) {
            let shape = Shape { items: 7, hidden, latent: 3, variational };
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut net = MultVae::new(shape, &mut rng);
            // Non-zero biases so their gradients are exercised too.
            for (k, v) in net.params.values_mut().iter_mut().enumerate() {
                *v += ((k * 13 % 7) as f32 - 3.0) * 0.05;
            }
            let h: Vec<Vec<u32>> = vec![vec![0, 2, 5], vec![1], vec![3, 4, 5, 6]];
            let hist: Vec<&[u32]> = h.iter().map(Vec::as_slice).collect();
            let mut ws = net.workspace(3);
            // No dropout and ε = 0, so the training loss is the evaluation loss.
            // A fixed "old encoder" of another initialisation for the composite prior.
            let old_net = MultVae::new(shape, &mut ChaCha8Rng::seed_from_u64(5));
            let old = with_prior.then(|| old_net.encode(&hist));
            let old = old.as_deref();
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            net.step(&mut ws, &hist, NO_NOISE, (beta, old), &mut rng, false);
            check_gradients(&net, &mut ws, &hist, beta, old);
        }
    }

    const NO_NOISE: Corruption = Corruption { dropout: 0.0, emphasis: 1.0 };

    /// The gradients of the last step in `net` against central finite differences of the loss
    /// on the input and likelihood weights that step left in `ws`.
    fn check_gradients(
        net: &MultVae,
        ws: &mut Workspace,
        hist: &[&[u32]],
        beta: Beta,
        old: Option<&[f32]>,
    ) {
        let grads = net.params.grads().to_vec();
        let base = net.params.values().to_vec();
        let eps = 1e-2f32;
        for k in (0..net.params.len()).step_by(3) {
            let mut probe = net.clone();
            probe.params.values_mut()[k] = base[k] + eps;
            let up = probe.loss_on_input(ws, hist, beta, old);
            probe.params.values_mut()[k] = base[k] - eps;
            let down = probe.loss_on_input(ws, hist, beta, old);
            let fd = (up - down) / (2.0 * f64::from(eps));
            let g = f64::from(grads[k]);
            assert!(
                (fd - g).abs() < 2e-3 + 2e-2 * g.abs(),
                "{:?} {beta:?} {k}: {fd} vs {g}",
                net.shape
            );
        }
    }

    /// Emphasised denoising: with input dropout, the weighted likelihood's gradient matches
    /// finite differences on the same corrupted input, the dropped items weigh `a` times the
    /// kept ones, and each user's weights sum to their history size.
    #[test]
    fn emphasised_gradients_match_finite_differences() {
        for (variational, hidden) in [(true, 4), (false, 4), (true, 0)] {
            let shape = Shape { items: 9, hidden, latent: 3, variational };
            let mut net = MultVae::new(shape, &mut ChaCha8Rng::seed_from_u64(3));
            let h: Vec<Vec<u32>> = vec![vec![0, 2, 5, 7], vec![1, 8], vec![3, 4, 5, 6, 8]];
            let hist: Vec<&[u32]> = h.iter().map(Vec::as_slice).collect();
            let mut ws = net.workspace(3);
            let noise = Corruption { dropout: 0.5, emphasis: 4.0 };
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            let beta = Beta::Constant(0.3);
            net.step(&mut ws, &hist, noise, (beta, None), &mut rng, false);
            let mut at = 0;
            let mut mixed = false;
            for (r, hr) in hist.iter().enumerate() {
                let w = &ws.weight[at..at + hr.len()];
                at += hr.len();
                let sum: f32 = w.iter().sum();
                assert!((sum - hr.len() as f32).abs() < 1e-4, "row {r}: {w:?}");
                let kept = &ws.x.indices[ws.x.indptr[r]..ws.x.indptr[r + 1]];
                let (n, d) = (hr.len() as f32, (hr.len() - kept.len()) as f32);
                let scale = n / (4.0 * d + n - d);
                for (&j, &c) in hr.iter().zip(w) {
                    let want = if kept.contains(&j) { scale } else { 4.0 * scale };
                    assert!((c - want).abs() < 1e-5, "row {r} item {j}: {c} vs {want}");
                }
                mixed |= !kept.is_empty() && kept.len() < hr.len();
            }
            assert!(mixed, "the test needs a user with both kept and dropped items");
            check_gradients(&net, &mut ws, &hist, beta, None);
        }
    }
}
