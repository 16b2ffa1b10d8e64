//! Adam and AdamW, updating every parameter in place in one fused pass.

use super::Params;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of Adam / AdamW.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator guard.
    pub eps: f32,
    /// Weight decay (applied to weights, not biases).
    pub weight_decay: f32,
    /// AdamW's decoupled decay when true; L2 added to the gradient (classic Adam) when false.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

/// Optimiser state: first and second moments, step count.
#[derive(Clone, Debug)]
pub struct Adam {
    config: AdamConfig,
    m: Vec<f32>,
    v: Vec<f32>,
    /// Per-value decay rate (0 for biases), laid out like the parameter buffer.
    decay: Vec<f32>,
    step: u32,
}

/// Values per parallel chunk of the update (elementwise: any split gives the same result).
const CHUNK: usize = 1 << 15;

impl Adam {
    /// State for these parameters.
    pub fn new(params: &Params, config: AdamConfig) -> Self {
        let mut decay = vec![0.0; params.len()];
        for s in params.specs().iter().filter(|s| s.decay) {
            decay[s.offset..s.offset + s.len].fill(config.weight_decay);
        }
        Adam { config, m: vec![0.0; params.len()], v: vec![0.0; params.len()], decay, step: 0 }
    }

    /// Sets the learning rate of the next steps (a schedule).
    pub fn set_lr(&mut self, lr: f32) {
        self.config.lr = lr;
    }

    /// The configuration.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Steps taken and the first and second moments, for a checkpoint.
    pub fn state(&self) -> (u32, &[f32], &[f32]) {
        (self.step, &self.m, &self.v)
    }

    /// Continues from a checkpointed state; fails when the moments do not fit the parameters.
    pub fn restore(&mut self, step: u32, m: &[f32], v: &[f32]) -> Result<(), String> {
        if m.len() != self.m.len() || v.len() != self.v.len() {
            return Err(format!(
                "optimiser state has {} and {} values, the model {}",
                m.len(),
                v.len(),
                self.m.len()
            ));
        }
        self.step = step;
        self.m.copy_from_slice(m);
        self.v.copy_from_slice(v);
        Ok(())
    }

    /// One update from the gradients currently in `params`.
    ///
    /// Math (t = step): `g += λp` (Adam) or `p -= lr·λ·p` (AdamW); `m = β1 m + (1-β1) g`;
    /// `v = β2 v + (1-β2) g²`; `p -= lr · m̂ / (√v̂ + ε)` with bias-corrected `m̂, v̂`.
    pub fn step(&mut self, params: &mut Params) {
        self.step += 1;
        let (values, grads) = params.values_and_grads_mut();
        update(values, grads, &mut self.m, &mut self.v, &self.decay, &self.config, self.step);
    }

    /// The per-value weight-decay rates (0 for biases), laid out like the parameters.
    pub fn decay(&self) -> &[f32] {
        &self.decay
    }
}

/// One Adam / AdamW update of `values` from `grads` with moments `m`, `v` and per-value decay
/// rates `decay`, `step` being the update's number (from 1). See [`Adam::step`].
pub fn update(
    values: &mut [f32],
    grads: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    decay: &[f32],
    c: &AdamConfig,
    step: u32,
) {
    let t = step as i32;
    let bc1 = 1.0 - c.beta1.powi(t);
    let bc2 = 1.0 - c.beta2.powi(t);
    let step_size = c.lr / bc1;
    let inv_sqrt_bc2 = 1.0 / bc2.sqrt();
    let (b1, b2, eps, lr) = (c.beta1, c.beta2, c.eps, c.lr);
    let (one_b1, one_b2) = (1.0 - b1, 1.0 - b2);
    let decoupled = c.decoupled;
    values
        .par_chunks_mut(CHUNK)
        .zip(grads.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .zip(decay.par_chunks(CHUNK))
        .for_each(|((((p, g), m), v), d)| {
            // Two branch-free loops (AdamW / Adam) so each vectorises.
            let it = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()).zip(d);
            if decoupled {
                it.for_each(|((((p, &g), m), v), &d)| {
                    *p -= lr * d * *p;
                    *m = b1 * *m + one_b1 * g;
                    *v = b2 * *v + one_b2 * g * g;
                    *p -= step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
                });
            } else {
                it.for_each(|((((p, &g), m), v), &d)| {
                    let g = g + d * *p;
                    *m = b1 * *m + one_b1 * g;
                    *v = b2 * *v + one_b2 * g * g;
                    *p -= step_size * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
                });
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_by_learning_rate() {
        let mut params = Params::new();
        let id = params.add("w", &[2], true);
        params.value_mut(id).copy_from_slice(&[1.0, -1.0]);
        params.values_and_grads_mut().1.copy_from_slice(&[0.5, -2.0]);
        let mut adam = Adam::new(&params, AdamConfig { lr: 0.1, ..AdamConfig::default() });
        adam.step(&mut params);
        // With bias correction the first Adam step is lr * sign(g).
        let w = params.value(id);
        assert!((w[0] - 0.9).abs() < 1e-5 && (w[1] + 0.9).abs() < 1e-5, "{w:?}");
    }
}
