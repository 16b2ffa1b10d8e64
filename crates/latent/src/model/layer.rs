//! One layer of a network: fully connected, (transposed) convolution or GDN, behind one
//! interface.

use crate::engine::backend::{Backend, ParamStore};
use crate::engine::conv::Conv;
use crate::engine::gdn::Gdn;
use crate::engine::{Activation, Dense, Params};
use crate::{Error, Result};
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

    /// Forward for `rows` samples on a backend: `x` holds the inputs, `y` (and `pre`, the
    /// pre-activation, when given) receive the outputs; `cols` is the layer's scratch.
    #[allow(clippy::too_many_arguments)]
    pub fn forward<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &P,
        x: &B::Buf,
        rows: usize,
        y: &mut B::Buf,
        pre: Option<&mut B::Buf>,
        cols: &mut B::Buf,
    ) -> Result<()> {
        match self {
            Layer::Dense(d) => d.forward_on(be, params, x, rows, y, pre),
            Layer::Conv(c) => c.forward(be, params, x, rows, y, pre, cols),
            Layer::Gdn(g) => {
                let (Some(p), Some(x), Some(y), Some(cols)) =
                    (params.host(), be.host(x), be.host_mut(y), be.host_mut(cols))
                else {
                    return Err(host_only(be, "GDN"));
                };
                g.forward(p, x, rows, y, cols);
                Ok(())
            }
        }
    }

    /// Backward for `rows` samples from `dz`, the gradient at the pre-activation; writes the
    /// parameter gradients, and `∂L/∂x` into `dx` when given.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<B: Backend, P: ParamStore<B>>(
        &self,
        be: &B,
        params: &mut P,
        x: &B::Buf,
        rows: usize,
        dz: &B::Buf,
        dx: Option<&mut B::Buf>,
        cols: &B::Buf,
        dcols: &mut B::Buf,
    ) -> Result<()> {
        match self {
            Layer::Dense(d) => d.backward_on(be, params, x, rows, dz, dx),
            Layer::Conv(c) => c.backward(be, params, x, rows, dz, dx, cols, dcols),
            Layer::Gdn(g) => {
                let (Some(x), Some(dz), Some(cols), Some(dcols)) =
                    (be.host(x), be.host(dz), be.host(cols), be.host_mut(dcols))
                else {
                    return Err(host_only(be, "GDN"));
                };
                let dx = match dx {
                    Some(dx) => Some(be.host_mut(dx).ok_or_else(|| host_only(be, "GDN"))?),
                    None => None,
                };
                let p = params.host_mut().ok_or_else(|| host_only(be, "GDN"))?;
                g.backward(p, x, rows, dz, dx, cols, dcols);
                Ok(())
            }
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

/// The error for a layer or term that runs only on the host, asked for on a device.
pub(crate) fn host_only<B: Backend>(be: &B, what: &str) -> Error {
    Error::Device(format!(
        "{what} does not run on {} yet; train or run this model on the CPU",
        be.describe()
    ))
}
