//! The fully connected layer, `y = f(x Wᵀ + b)`, with its hand-derived backward pass,
//! and inverted dropout.

use super::backend::{Backend, Mat, ParamStore};
use super::{matmul, Activation, MatRef, ParamId, Params};
use crate::Result;
use rand::Rng;

/// A fully connected layer: weight `[out, in]`, bias `[out]`, then an activation.
#[derive(Clone, Debug)]
pub struct Dense {
    /// Weight tensor, `[out, in]` (PyTorch layout).
    pub weight: ParamId,
    /// Bias tensor, `[out]`.
    pub bias: ParamId,
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Activation applied after the affine map.
    pub activation: Activation,
}

impl Dense {
    /// Registers the layer's tensors as `{prefix}.weight` and `{prefix}.bias`.
    pub fn new(
        params: &mut Params,
        prefix: &str,
        inputs: usize,
        outputs: usize,
        activation: Activation,
    ) -> Self {
        let weight = params.add(format!("{prefix}.weight"), &[outputs, inputs], true);
        let bias = params.add(format!("{prefix}.bias"), &[outputs], false);
        Dense { weight, bias, inputs, outputs, activation }
    }

    /// Forward for `rows` rows: `y = f(x Wᵀ + b)`; `pre` receives `x Wᵀ + b` when given.
    ///
    /// Math: `z[r, o] = Σ_i x[r, i] W[o, i] + b[o]`, `y = f(z)`.
    pub fn forward(
        &self,
        params: &Params,
        x: &[f32],
        rows: usize,
        y: &mut [f32],
        pre: Option<&mut [f32]>,
    ) {
        let x = MatRef::row_major(x, rows, self.inputs);
        let w = MatRef::row_major(params.value(self.weight), self.outputs, self.inputs);
        let y = &mut y[..rows * self.outputs];
        matmul(y, x, w.t(), false);
        let pre = pre.map(|p| &mut p[..rows * self.outputs]);
        self.activation.bias_forward(y, params.value(self.bias), pre);
    }

    /// Backward for `rows` rows, given `dz = ∂L/∂z` (the chain rule through the activation
    /// already applied). Writes `∂L/∂W = dzᵀ x`, `∂L/∂b = Σ_r dz[r]`, and, when `dx` is given,
    /// `∂L/∂x = dz W`.
    pub fn backward(
        &self,
        params: &mut Params,
        x: &[f32],
        rows: usize,
        dz: &[f32],
        dx: Option<&mut [f32]>,
    ) {
        let dz_m = MatRef::row_major(dz, rows, self.outputs);
        let x_m = MatRef::row_major(x, rows, self.inputs);
        {
            let (_, dw) = params.value_and_grad_mut(self.weight, self.weight);
            matmul(dw, dz_m.t(), x_m, false);
        }
        {
            let (_, db) = params.value_and_grad_mut(self.bias, self.bias);
            bias_grad(db, &dz[..rows * self.outputs]);
        }
        if let Some(dx) = dx {
            let w = MatRef::row_major(params.value(self.weight), self.outputs, self.inputs);
            matmul(&mut dx[..rows * self.inputs], dz_m, w, false);
        }
    }
}

impl Dense {
    /// [`Dense::forward`] on a backend, over its buffers: `x` holds `rows x inputs` values,
    /// `y` (and `pre`) receive `rows x outputs`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_on<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &P,
        x: &B::Buf,
        rows: usize,
        y: &mut B::Buf,
        pre: Option<&mut B::Buf>,
    ) -> Result<()> {
        let w = Mat::row_major(params.offset(self.weight), self.outputs, self.inputs);
        let values = params.values();
        be.matmul(y, 0, x, Mat::row_major(0, rows, self.inputs), values, w.t(), false)?;
        let b = params.offset(self.bias);
        be.bias_act_forward(y, rows, self.outputs, values, b, self.activation, pre)
    }

    /// [`Dense::backward`] on a backend: `∂L/∂W = dzᵀ x`, `∂L/∂b = Σ_r dz[r]`, and, when `dx`
    /// is given, `∂L/∂x = dz W`.
    pub fn backward_on<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &mut P,
        x: &B::Buf,
        rows: usize,
        dz: &B::Buf,
        dx: Option<&mut B::Buf>,
    ) -> Result<()> {
        let (wo, bo) = (params.offset(self.weight), params.offset(self.bias));
        let (values, grads) = params.values_and_grads();
        let dz_m = Mat::row_major(0, rows, self.outputs);
        be.matmul(grads, wo, dz, dz_m.t(), x, Mat::row_major(0, rows, self.inputs), false)?;
        be.bias_grad(grads, bo, dz, rows, self.outputs)?;
        if let Some(dx) = dx {
            let w = Mat::row_major(wo, self.outputs, self.inputs);
            be.matmul(dx, 0, dz, dz_m, values, w, false)?;
        }
        Ok(())
    }
}

/// The bias gradient: `db[o] = Σ_r dz[r, o]` over the rows of `dz` (`db.len()` wide), in row
/// order.
pub fn bias_grad(db: &mut [f32], dz: &[f32]) {
    db.fill(0.0);
    for row in dz.chunks_exact(db.len().max(1)) {
        db.iter_mut().zip(row).for_each(|(b, d)| *b += d);
    }
}

/// Inverted dropout in training: zeroes each value with probability `p` and scales the rest by
/// `1 / (1 - p)`; the mask (0 or the scale) is kept for the backward pass.
pub fn dropout_forward(y: &mut [f32], mask: &mut [f32], p: f32, rng: &mut (impl Rng + ?Sized)) {
    let keep = 1.0 / (1.0 - p);
    for (v, m) in y.iter_mut().zip(mask.iter_mut()) {
        *m = if rng.random::<f32>() < p { 0.0 } else { keep };
        *v *= *m;
    }
}

/// Backward through dropout and then the activation before it, in place: `dy *= m f'(z)`,
/// where `y = m f(z)` is the dropped-out output (so `f(z) = y / m` where `m != 0`).
pub fn dropout_activation_backward(
    dy: &mut [f32],
    y: &[f32],
    mask: &[f32],
    act: Activation,
    pre: Option<&[f32]>,
) {
    for (i, (d, (&y, &m))) in dy.iter_mut().zip(y.iter().zip(mask)).enumerate() {
        *d = if m == 0.0 { 0.0 } else { *d * m * act.derivative(y / m, pre.map_or(0.0, |p| p[i])) };
    }
}
