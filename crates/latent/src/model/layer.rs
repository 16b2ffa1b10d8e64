//! One layer of a network: fully connected, (transposed) convolution or GDN, behind one
//! interface.

use crate::engine::conv::Conv;
use crate::engine::gdn::Gdn;
use crate::engine::{Activation, Dense, Params};
use rand::Rng;

/// A layer with explicit forward and backward passes.
#[derive(Clone, Debug)]
pub enum Layer {
    /// Fully connected.
    Dense(Dense),
    /// Convolution or transposed convolution.
    Conv(Conv),
    /// GDN or IGDN between convolutions (no activation after it).
    Gdn(Gdn),
}

impl Layer {
    /// Input values per sample.
    pub fn inputs(&self) -> usize {
        match self {
            Layer::Dense(d) => d.inputs,
            Layer::Conv(c) => c.input.len(),
            Layer::Gdn(g) => g.shape.len(),
        }
    }

    /// Output values per sample.
    pub fn outputs(&self) -> usize {
        match self {
            Layer::Dense(d) => d.outputs,
            Layer::Conv(c) => c.output.len(),
            Layer::Gdn(g) => g.shape.len(),
        }
    }

    /// The activation after the affine map.
    pub fn activation(&self) -> Activation {
        match self {
            Layer::Dense(d) => d.activation,
            Layer::Conv(c) => c.activation,
            Layer::Gdn(_) => Activation::Identity,
        }
    }

    /// Scratch size for `rows` samples: patches of a convolution, the normaliser of GDN
    /// (0 for dense layers).
    pub fn cols_len(&self, rows: usize) -> usize {
        match self {
            Layer::Dense(_) => 0,
            Layer::Conv(c) => c.cols_len(rows),
            Layer::Gdn(g) => g.cols_len(rows),
        }
    }

    /// Forward for `rows` samples.
    pub fn forward(
        &self,
        params: &Params,
        x: &[f32],
        rows: usize,
        y: &mut [f32],
        pre: Option<&mut [f32]>,
        cols: &mut [f32],
    ) {
        match self {
            Layer::Dense(d) => d.forward(params, x, rows, y, pre),
            Layer::Conv(c) => c.forward(params, x, rows, y, pre, cols),
            Layer::Gdn(g) => g.forward(params, x, rows, y, cols),
        }
    }

    /// Backward for `rows` samples from `dz`, the gradient at the pre-activation.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        params: &mut Params,
        x: &[f32],
        rows: usize,
        dz: &[f32],
        dx: Option<&mut [f32]>,
        cols: &[f32],
        dcols: &mut [f32],
    ) {
        match self {
            Layer::Dense(d) => d.backward(params, x, rows, dz, dx),
            Layer::Conv(c) => c.backward(params, x, rows, dz, dx, cols, dcols),
            Layer::Gdn(g) => g.backward(params, x, rows, dz, dx, cols, dcols),
        }
    }

    /// PyTorch's default initialisation: weight and bias uniform in `±1/√fan_in` (GDN: its
    /// fixed start, drawing nothing).
    pub fn init(&self, params: &mut Params, rng: &mut impl Rng) {
        let (w, b, fan_in) = match self {
            Layer::Dense(d) => (d.weight, d.bias, d.inputs),
            Layer::Conv(c) => (c.weight, c.bias, c.fan_in()),
            Layer::Gdn(g) => return g.init(params),
        };
        let bound = 1.0 / (fan_in as f32).sqrt();
        for id in [w, b] {
            for v in params.value_mut(id) {
                *v = rng.random_range(-bound..bound);
            }
        }
    }
}
