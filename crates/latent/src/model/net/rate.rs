//! The rate term of a compression model (`objective.lambda`, `--preset compress`): the loss is
//! `R + λ · 255² · D`, with `R` the code's bits per pixel under the learned density
//! ([`Density`]) and `D` the mean squared error on the [0, 1] scale (so `λ · 255² · D` is
//! CompressAI's `λ · MSE` on 8-bit values).
//!
//! In training the code is `y + u`, `u ~ U(−½, ½)` (a differentiable stand-in for rounding:
//! `∂(y + u)/∂y = 1`); without noise (evaluation, compression) it is `round(y)`.

use super::{Net, Workspace};
use crate::engine::density::Density;
use crate::engine::Params;
use rand::{Rng, RngCore};

/// Logistic components per channel of the density.
pub(super) const COMPONENTS: usize = 3;

/// With `rng`: adds uniform noise on `(−½, ½)` to every value; without: rounds.
pub(super) fn quantise(z: &mut [f32], rng: Option<&mut dyn RngCore>) {
    match rng {
        Some(rng) => z.iter_mut().for_each(|v| *v += rng.random::<f32>() - 0.5),
        None => z.iter_mut().for_each(|v| *v = v.round()),
    }
}

impl Net {
    /// The learned density of a compression model's code.
    pub fn density(&self) -> Option<&Density> {
        self.density.as_ref()
    }

    /// `λ · 255²`: the weight of the mean squared error in a compression model's loss.
    pub(super) fn distortion_weight(&self) -> Option<f32> {
        self.density.as_ref()?;
        self.objective.lambda.map(|l| l * 255.0 * 255.0)
    }

    /// Bits per pixel of the code of the last forward pass (in `ws.z`).
    pub(super) fn rate_bpp(&self, params: &Params, ws: &Workspace, rows: usize) -> f64 {
        let Some(d) = &self.density else { return 0.0 };
        let z = &ws.z[..rows * self.latent];
        d.bits(params, z) / (rows * self.pixels).max(1) as f64
    }

    /// Adds `∂R/∂z` to `ws.grad_a` (the gradient at the code) and writes the density's
    /// gradients; returns `R` in bits per pixel.
    pub(super) fn rate_backward(
        &self,
        params: &mut Params,
        ws: &mut Workspace,
        rows: usize,
    ) -> f64 {
        let Some(d) = &self.density else { return 0.0 };
        let n = rows * self.latent;
        let scale = 1.0 / (rows * self.pixels).max(1) as f64;
        d.backward(params, &ws.z[..n], scale, &mut ws.grad_a[..n])
    }
}
