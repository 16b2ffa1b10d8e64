//! Generalized divisive normalization (GDN) and its inverse (IGDN), the normalisation between
//! the convolutions of learned image codecs (Ballé, Laparra and Simoncelli 2016/2017): GDN in
//! the analysis transform, IGDN in the synthesis transform, in place of a pointwise activation.
//!
//! At each pixel, over its `C` channels (channels last: one pixel's channels are contiguous),
//!
//! `n_i = β_i + Σ_j γ_ij x_j²`;  GDN: `y_i = x_i n_i^(−½)`;  IGDN: `y_i = x_i n_i^(½)`.
//!
//! With `y = x n^p` (`p = ∓½`), `g = ∂L/∂y` and `t_i = ∂L/∂n_i = g_i x_i p n_i^(p−1)`:
//!
//! - `∂L/∂x_k = g_k n_k^p + 2 x_k Σ_i t_i γ_ik`: over a batch of pixel rows,
//!   `dX = G ⊙ N^p + 2 X ⊙ (T Γ)`;
//! - `∂L/∂β_i = Σ t_i` and `∂L/∂γ_ij = Σ t_i x_j²`, summed over pixels: `dΓ = Tᵀ X²`.
//!
//! β must stay positive and γ non-negative, so the stored tensors are their square roots with
//! a floor: `β = b² + β_min`, `γ = c²` (`{prefix}.beta` holds `b`, `[C]`; `{prefix}.gamma`
//! holds `c`, `[C, C]`), and `∂L/∂b = 2 b ∂L/∂β`, `∂L/∂c = 2 c ∂L/∂γ`. They start at β = 1
//! and γ = 0.1 I, as in the reference implementations; the off-diagonal `c` start at a small
//! non-zero value, so that their gradient is not zero from the start.

use super::conv::Shape3;
use super::{matmul, MatRef, ParamId, Params};
use rayon::prelude::*;

/// The floor added to `b²`: `β` is never below it, so `n > 0` at every pixel.
pub const BETA_MIN: f32 = 1e-6;
/// The diagonal of `γ` at initialisation.
const GAMMA_INIT: f32 = 0.1;
/// The off-diagonal square roots `c` at initialisation (`γ = 1e-6`).
const OFF_DIAGONAL_INIT: f32 = 1e-3;

/// A GDN (or IGDN) layer over feature maps of one shape.
#[derive(Clone, Debug)]
pub struct Gdn {
    /// `b` with `β = b² + β_min`, `[C]`.
    pub beta: ParamId,
    /// `c` with `γ = c²`, `[C, C]`.
    pub gamma: ParamId,
    /// The feature map's shape (input and output alike).
    pub shape: Shape3,
    /// IGDN (multiplies by `√n`) instead of GDN (divides by it).
    pub inverse: bool,
}

impl Gdn {
    /// Registers the tensors `{prefix}.beta` and `{prefix}.gamma` (no weight decay).
    pub fn new(params: &mut Params, prefix: &str, shape: Shape3, inverse: bool) -> Self {
        let c = shape.c;
        let beta = params.add(format!("{prefix}.beta"), &[c], false);
        let gamma = params.add(format!("{prefix}.gamma"), &[c, c], false);
        Gdn { beta, gamma, shape, inverse }
    }

    /// β = 1 and γ = 0.1 I (up to the off-diagonal start, see the module docs).
    pub fn init(&self, params: &mut Params) {
        params.value_mut(self.beta).fill((1.0 - BETA_MIN).sqrt());
        let c = self.shape.c;
        for (k, v) in params.value_mut(self.gamma).iter_mut().enumerate() {
            *v = if k / c == k % c { GAMMA_INIT.sqrt() } else { OFF_DIAGONAL_INIT };
        }
    }

    /// The exponent `p` of `y = x n^p`.
    fn power(&self) -> f32 {
        if self.inverse {
            0.5
        } else {
            -0.5
        }
    }

    /// Scratch for `rows` samples: `[γ (C²) | β (C) | n (rows·H·W·C)]` kept by the forward
    /// pass; the backward pass borrows twice `rows·H·W·C` as its own scratch.
    pub fn cols_len(&self, rows: usize) -> usize {
        let c = self.shape.c;
        c * c + c + 2 * rows * self.shape.len()
    }

    /// The effective `γ` (`[C, C]`, row `i` holds `γ_i·`) and `β` (`[C]`) from the stored
    /// square roots, written one after the other into `out` (`C² + C` values).
    pub fn effective(&self, params: &Params, out: &mut [f32]) {
        let c = self.shape.c;
        let (gamma, beta) = out[..c * c + c].split_at_mut(c * c);
        gamma.iter_mut().zip(params.value(self.gamma)).for_each(|(g, &s)| *g = s * s);
        beta.iter_mut().zip(params.value(self.beta)).for_each(|(b, &s)| *b = s * s + BETA_MIN);
    }

    /// Forward for `rows` samples: `y = x n^p` with `n = β + x² Γᵀ` per pixel row; keeps
    /// `γ`, `β` and `n` in `cols` for the backward pass.
    pub fn forward(
        &self,
        params: &Params,
        x: &[f32],
        rows: usize,
        y: &mut [f32],
        cols: &mut [f32],
    ) {
        let c = self.shape.c;
        let len = rows * self.shape.len();
        let pixels = len / c.max(1);
        let (eff, rest) = cols.split_at_mut(c * c + c);
        self.effective(params, eff);
        let (gamma, beta) = eff.split_at(c * c);
        let n = &mut rest[..len];
        let (x, y) = (&x[..len], &mut y[..len]);
        y.par_iter_mut().zip(x.par_iter()).for_each(|(s, &v)| *s = v * v);
        matmul(n, MatRef::row_major(y, pixels, c), MatRef::row_major(gamma, c, c).t(), false);
        let inverse = self.inverse;
        n.par_chunks_mut(c).zip(y.par_chunks_mut(c).zip(x.par_chunks(c))).for_each(
            |(n, (y, x))| {
                for ((n, y), (&x, &b)) in n.iter_mut().zip(y).zip(x.iter().zip(beta)) {
                    *n += b;
                    *y = if inverse { x * n.sqrt() } else { x / n.sqrt() };
                }
            },
        );
    }

    /// Backward for `rows` samples from `dy = ∂L/∂y` (GDN has no activation after it), with
    /// the `cols` of the forward pass and `scratch` of [`Gdn::cols_len`] values. Writes the
    /// gradients of `b` and `c`, and `∂L/∂x` into `dx` when given.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &mut Params,
        x: &[f32],
        rows: usize,
        dy: &[f32],
        dx: Option<&mut [f32]>,
        cols: &[f32],
        scratch: &mut [f32],
    ) {
        let c = self.shape.c;
        let len = rows * self.shape.len();
        let pixels = len / c.max(1);
        let (gamma, n) = (&cols[..c * c], &cols[c * c + c..c * c + c + len]);
        let (t, sq) = scratch[..2 * len].split_at_mut(len);
        let (x, dy) = (&x[..len], &dy[..len]);
        let p = self.power();
        // t = g x p n^(p−1); sq = x².
        t.par_iter_mut().zip(sq.par_iter_mut()).zip(x.par_iter().zip(dy).zip(n)).for_each(
            |((t, s), ((&x, &g), &n))| {
                let n_p1 = if self.inverse { 1.0 / n.sqrt() } else { 1.0 / (n * n.sqrt()) };
                *t = g * x * p * n_p1;
                *s = x * x;
            },
        );
        let t_m = MatRef::row_major(t, pixels, c);
        {
            // ∂L/∂c = 2 c ⊙ (Tᵀ X²)
            let (root, grad) = params.value_and_grad_mut(self.gamma, self.gamma);
            matmul(grad, t_m.t(), MatRef::row_major(sq, pixels, c), false);
            grad.iter_mut().zip(root).for_each(|(g, &r)| *g *= 2.0 * r);
        }
        {
            // ∂L/∂b = 2 b ⊙ Σ_pixels t
            let (root, grad) = params.value_and_grad_mut(self.beta, self.beta);
            super::dense::bias_grad(grad, t);
            grad.iter_mut().zip(root).for_each(|(g, &r)| *g *= 2.0 * r);
        }
        if let Some(dx) = dx {
            let dx = &mut dx[..len];
            matmul(dx, t_m, MatRef::row_major(gamma, c, c), false);
            let inverse = self.inverse;
            dx.par_iter_mut().zip(x.par_iter().zip(dy).zip(n)).for_each(|(d, ((&x, &g), &n))| {
                let n_p = if inverse { n.sqrt() } else { 1.0 / n.sqrt() };
                *d = g * n_p + 2.0 * x * *d;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::needless_range_loop)]
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn layer(inverse: bool) -> (Gdn, Params, Vec<f32>) {
        let shape = Shape3 { h: 2, w: 3, c: 4 };
        let mut params = Params::new();
        let gdn = Gdn::new(&mut params, "g", shape, inverse);
        gdn.init(&mut params);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // Move away from the initial point so every entry of γ matters.
        params.values_mut().iter_mut().for_each(|v| *v += rng.random_range(-0.3..0.3));
        let x = (0..2 * shape.len()).map(|_| rng.random_range(-2.0..2.0)).collect();
        (gdn, params, x)
    }

    /// `L = Σ w ⊙ y` for fixed weights `w`, so `∂L/∂y = w`.
    fn loss(gdn: &Gdn, params: &Params, x: &[f32], w: &[f32]) -> f64 {
        let mut y = vec![0.0; x.len()];
        let mut cols = vec![0.0; gdn.cols_len(2)];
        gdn.forward(params, x, 2, &mut y, &mut cols);
        y.iter().zip(w).map(|(&y, &w)| f64::from(y) * f64::from(w)).sum()
    }

    #[test]
    fn by_hand_at_one_pixel() {
        let shape = Shape3 { h: 1, w: 1, c: 2 };
        let mut params = Params::new();
        let gdn = Gdn::new(&mut params, "g", shape, false);
        params.values_mut().copy_from_slice(&[1.0, 2.0, 0.5, 0.0, 1.0, 0.25]);
        let mut y = [0.0; 2];
        let mut cols = vec![0.0; gdn.cols_len(1)];
        gdn.forward(&params, &[3.0, 4.0], 1, &mut y, &mut cols);
        // n = β + γ x²: β = (1 + 1e-6, 4 + 1e-6), γ = [[0.25, 0], [1, 0.0625]].
        let n0 = 1.0 + BETA_MIN + 0.25 * 9.0;
        let n1 = 4.0 + BETA_MIN + 9.0 + 0.0625 * 16.0;
        assert!((y[0] - 3.0 / n0.sqrt()).abs() < 1e-6);
        assert!((y[1] - 4.0 / n1.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn gradients_match_finite_differences() {
        for inverse in [false, true] {
            let (gdn, mut params, mut x) = layer(inverse);
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let w: Vec<f32> = (0..x.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut y = vec![0.0; x.len()];
            let mut cols = vec![0.0; gdn.cols_len(2)];
            let mut scratch = cols.clone();
            let mut dx = vec![0.0; x.len()];
            gdn.forward(&params, &x, 2, &mut y, &mut cols);
            gdn.backward(&mut params, &x, 2, &w, Some(&mut dx), &cols, &mut scratch);
            let grads = params.grads().to_vec();
            let h = 1e-3;
            let check = |fd: f64, analytic: f32, what: &str| {
                let tol = 2e-3 * (fd.abs().max(f64::from(analytic).abs()) + 0.05);
                assert!((fd - f64::from(analytic)).abs() < tol, "{what}: {fd} vs {analytic}");
            };
            for i in 0..params.len() {
                let orig = params.values()[i];
                params.values_mut()[i] = orig + h;
                let up = loss(&gdn, &params, &x, &w);
                params.values_mut()[i] = orig - h;
                let down = loss(&gdn, &params, &x, &w);
                params.values_mut()[i] = orig;
                check((up - down) / (2.0 * f64::from(h)), grads[i], &format!("param {i}"));
            }
            for i in 0..x.len() {
                let orig = x[i];
                x[i] = orig + h;
                let up = loss(&gdn, &params, &x, &w);
                x[i] = orig - h;
                let down = loss(&gdn, &params, &x, &w);
                x[i] = orig;
                check((up - down) / (2.0 * f64::from(h)), dx[i], &format!("x {i}"));
            }
        }
    }

    #[test]
    fn igdn_undoes_gdn_with_a_diagonal_gamma() {
        // With γ diagonal, n_i depends on x_i only, and IGDN with n evaluated at GDN's input
        // restores it; here a single channel checks the identity y·√n(x) = x.
        let shape = Shape3 { h: 1, w: 4, c: 1 };
        let mut params = Params::new();
        let gdn = Gdn::new(&mut params, "g", shape, false);
        let igdn = Gdn { inverse: true, ..gdn.clone() };
        gdn.init(&mut params);
        let x = [0.5, -1.0, 2.0, 0.0];
        let (mut y, mut back) = ([0.0; 4], [0.0; 4]);
        let mut cols = vec![0.0; gdn.cols_len(1)];
        gdn.forward(&params, &x, 1, &mut y, &mut cols);
        igdn.forward(&params, &x, 1, &mut back, &mut cols);
        for ((&x, &y), &b) in x.iter().zip(&y).zip(&back) {
            // GDN divides and IGDN multiplies by the same √n(x).
            assert!((y * b - x * x).abs() < 1e-5);
        }
    }
}
