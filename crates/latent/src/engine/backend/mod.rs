//! The backend seam: one trait over the dozen operations the models are built from, so the
//! same orchestration (`model::net`, `train`) can run on the CPU or on a GPU.
//!
//! A backend owns its buffers ([`Backend::Buf`], flat f32 arrays) and its random stream
//! ([`Backend::Rng`]). Operations read and write prefixes of buffers (`n` values from the
//! start) unless they take an offset; a parameter tensor is addressed by its offset in the one
//! values / gradients buffer, as in [`super::Params`]. Every operation is fused as the CPU
//! kernels are, and returns `Result` because a device can fail (a launch, an allocation); the
//! CPU backend never does.
//!
//! [`Cpu`] adds no math: it calls the engine's kernels. The CUDA backend (`cuda` module,
//! feature `cuda`) is the device copy of them. The RNG contract and the plan for moving `Net`
//! onto this trait are in DESIGN-NOTES.md ("Backend seam").

mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
mod device;
#[cfg(test)]
mod parity;

pub use cpu::Cpu;
pub use device::Device;

use super::adam::AdamConfig;
use super::conv::Patches;
use super::Activation;
use crate::config::{Corruption, Loss};
use crate::{Error, Result};

/// A matrix inside a buffer: stored row-major, `rows x cols` from `offset` with `ld` values
/// between rows; `transposed` uses it as its transpose (no copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mat {
    /// First value in the buffer.
    pub offset: usize,
    /// Stored rows.
    pub rows: usize,
    /// Stored columns.
    pub cols: usize,
    /// Values from one stored row to the next (at least `cols`).
    pub ld: usize,
    /// Whether the product uses the transpose.
    pub transposed: bool,
}

impl Mat {
    /// A contiguous row-major `rows x cols` matrix at `offset`.
    pub fn row_major(offset: usize, rows: usize, cols: usize) -> Self {
        Mat { offset, rows, cols, ld: cols, transposed: false }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Mat { transposed: !self.transposed, ..self }
    }

    /// Rows as used in a product.
    pub fn used_rows(&self) -> usize {
        if self.transposed {
            self.cols
        } else {
            self.rows
        }
    }

    /// Columns as used in a product.
    pub fn used_cols(&self) -> usize {
        if self.transposed {
            self.rows
        } else {
            self.cols
        }
    }

    /// Values from `offset` to the end of the last stored row.
    pub fn span(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.ld + self.cols
        }
    }
}

/// The scale of a Gaussian likelihood on a backend: a fixed `log σ`, or one per feature held
/// in a buffer.
#[derive(Debug)]
pub enum Sigma<'a, B> {
    /// The same `log σ` for every value.
    Fixed(f32),
    /// `width` per-feature values of `log σ` at `offset` in `buf`; value `i` uses `i % width`.
    PerFeature {
        /// The buffer (the parameter values).
        buf: &'a B,
        /// Where the `width` values start.
        offset: usize,
        /// Values per row.
        width: usize,
    },
}

/// The gradient outputs of a Gaussian likelihood on a backend (see [`super::vae::NllGrad`]).
#[derive(Debug)]
pub struct NllGrad<'a, B> {
    /// Receives `∂L/∂z` for the output pre-activation `z`.
    pub dz: &'a mut B,
    /// The output pre-activation.
    pub pre: &'a B,
    /// The output activation.
    pub act: Activation,
    /// The divisor (batch rows).
    pub rows: f32,
}

/// The operations a model is built from, on one device.
///
/// Shapes are the caller's responsibility, as in the engine; a buffer shorter than an operation
/// needs is an error (`Error::Device`), never an out-of-bounds access.
pub trait Backend {
    /// A buffer of f32 values on the device.
    type Buf;
    /// The device's random stream.
    type Rng;

    /// A short description of the device (`cpu`, `cuda:0 (NVIDIA H200)`).
    fn describe(&self) -> String;
    /// The random stream for `seed` (see the RNG contract in DESIGN-NOTES.md).
    fn rng(&self, seed: u64) -> Self::Rng;
    /// Number of values in `buf`.
    fn len(&self, buf: &Self::Buf) -> usize;

    /// A buffer of `len` zeros.
    fn zeros(&self, len: usize) -> Result<Self::Buf>;
    /// A buffer holding a copy of `host`.
    fn upload(&self, host: &[f32]) -> Result<Self::Buf>;
    /// Copies `host` into `dst` from `offset`.
    fn write(&self, dst: &mut Self::Buf, offset: usize, host: &[f32]) -> Result<()>;
    /// Copies `host.len()` values of `src` from `offset` into `host` (waits for the device).
    fn read(&self, src: &Self::Buf, offset: usize, host: &mut [f32]) -> Result<()>;
    /// `x[..n] *= factor`.
    fn scale(&self, x: &mut Self::Buf, n: usize, factor: f32) -> Result<()>;

    /// `dst = a · b` (or `dst += a · b` when `accumulate`), `dst` row-major and contiguous
    /// from `dst_offset`, `a.used_rows() x b.used_cols()`.
    #[allow(clippy::too_many_arguments)]
    fn matmul(
        &self,
        dst: &mut Self::Buf,
        dst_offset: usize,
        a: &Self::Buf,
        am: Mat,
        b: &Self::Buf,
        bm: Mat,
        accumulate: bool,
    ) -> Result<()>;

    /// `y = act(y + bias)` over `rows` rows of `width`, the bias at `bias_offset` in `bias`;
    /// `pre` receives `y + bias` when given.
    #[allow(clippy::too_many_arguments)]
    fn bias_act_forward(
        &self,
        y: &mut Self::Buf,
        rows: usize,
        width: usize,
        bias: &Self::Buf,
        bias_offset: usize,
        act: Activation,
        pre: Option<&mut Self::Buf>,
    ) -> Result<()>;

    /// Inverted dropout over `y[..n]`: each value zeroed with probability `p`, the rest scaled
    /// by `1 / (1 - p)`; `mask` keeps 0 or the scale.
    fn dropout_forward(
        &self,
        y: &mut Self::Buf,
        mask: &mut Self::Buf,
        n: usize,
        p: f32,
        rng: &mut Self::Rng,
    ) -> Result<()>;

    /// Backward through the activation (and the dropout `mask` after it, when given), in
    /// place: `dy *= m act'(z)` over `n` values, from the outputs `y` and (GELU) `pre`.
    fn act_backward(
        &self,
        dy: &mut Self::Buf,
        y: &Self::Buf,
        pre: Option<&Self::Buf>,
        mask: Option<&Self::Buf>,
        act: Activation,
        n: usize,
    ) -> Result<()>;

    /// `db[o] = Σ_r dz[r, o]` over `rows` rows of `width`, written at `db_offset`.
    fn bias_grad(
        &self,
        db: &mut Self::Buf,
        db_offset: usize,
        dz: &Self::Buf,
        rows: usize,
        width: usize,
    ) -> Result<()>;

    /// im2col: the patch rows of `samples` samples of `src` into `cols` ([`Patches::gather`]).
    fn im2col(
        &self,
        p: &Patches,
        src: &Self::Buf,
        cols: &mut Self::Buf,
        samples: usize,
    ) -> Result<()>;

    /// col2im: the adjoint of [`Backend::im2col`], `dst` overwritten ([`Patches::scatter`]).
    fn col2im(
        &self,
        p: &Patches,
        cols: &Self::Buf,
        dst: &mut Self::Buf,
        samples: usize,
    ) -> Result<()>;

    /// Standard-normal noise into `dst[..n]`.
    fn normal(&self, dst: &mut Self::Buf, n: usize, rng: &mut Self::Rng) -> Result<()>;

    /// Input corruption of `x[..n]` into `out` (noise, masking, salt and pepper).
    fn corrupt(
        &self,
        corruption: Corruption,
        x: &Self::Buf,
        out: &mut Self::Buf,
        n: usize,
        rng: &mut Self::Rng,
    ) -> Result<()>;

    /// The VAE head forward: `z = μ + e^{lv/2} ε` for `rows` rows of `h = [μ | lv]`.
    fn reparameterize(
        &self,
        h: &Self::Buf,
        eps: &Self::Buf,
        z: &mut Self::Buf,
        rows: usize,
        k: usize,
    ) -> Result<()>;

    /// The VAE head backward with `kl_weight` times the batch-mean KL
    /// ([`super::vae::head_backward`]).
    #[allow(clippy::too_many_arguments)]
    fn vae_head_backward(
        &self,
        h: &Self::Buf,
        eps: &Self::Buf,
        dz: &Self::Buf,
        out: &mut Self::Buf,
        rows: usize,
        k: usize,
        kl_weight: f32,
    ) -> Result<()>;

    /// The KL of `rows` rows of `h = [μ | lv]` to `N(0, I)`, summed.
    fn gaussian_kl(&self, h: &Self::Buf, rows: usize, k: usize) -> Result<f64>;

    /// `Σ −log N(t; y, σ²)` over `n` values, with the gradient when asked.
    fn gaussian_nll(
        &self,
        y: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        sigma: Sigma<'_, Self::Buf>,
        grad: Option<NllGrad<'_, Self::Buf>>,
    ) -> Result<f64>;

    /// The gradient of the Gaussian NLL (divided by `rows`) with respect to the `width`
    /// per-feature `log σ` at `ls_offset`, written at `g_offset` of `g`.
    #[allow(clippy::too_many_arguments)]
    fn log_sigma_grad(
        &self,
        y: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        ls: &Self::Buf,
        ls_offset: usize,
        width: usize,
        g: &mut Self::Buf,
        g_offset: usize,
        rows: f32,
    ) -> Result<()>;

    /// `Σ −log Bernoulli(t; σ(z))` over `n` values from the logits `z`; with `grad = (dz, d)`,
    /// `dz = (y − t) / d`.
    fn bernoulli_nll(
        &self,
        y: &Self::Buf,
        z: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        grad: Option<(&mut Self::Buf, f32)>,
    ) -> Result<f64>;

    /// Mean reconstruction loss over `n` values, and `dz = ∂L/∂z` when given
    /// ([`crate::objective::loss_and_grad`]).
    #[allow(clippy::too_many_arguments)]
    fn loss(
        &self,
        loss: Loss,
        act: Activation,
        y: &Self::Buf,
        z: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        dz: Option<&mut Self::Buf>,
    ) -> Result<f64>;

    /// One Adam / AdamW update of `n` values ([`super::adam::update`]).
    #[allow(clippy::too_many_arguments)]
    fn adam_step(
        &self,
        values: &mut Self::Buf,
        grads: &Self::Buf,
        m: &mut Self::Buf,
        v: &mut Self::Buf,
        decay: &Self::Buf,
        n: usize,
        config: &AdamConfig,
        step: u32,
    ) -> Result<()>;

    /// The L2 norm of `x[..n]` (f64 accumulation).
    fn norm(&self, x: &Self::Buf, n: usize) -> Result<f32>;
}

/// Fails unless `have >= need` (a buffer too short for an operation).
pub(crate) fn need(have: usize, need: usize, what: &str) -> Result<()> {
    if have < need {
        return Err(Error::Device(format!(
            "backend operation {what}: buffer of {have} values, {need} needed"
        )));
    }
    Ok(())
}

/// Checks a product's shapes against its buffers; returns `(m, k, n)`.
pub(crate) fn check_matmul(
    dst_len: usize,
    dst_offset: usize,
    a_len: usize,
    am: Mat,
    b_len: usize,
    bm: Mat,
) -> Result<(usize, usize, usize)> {
    let (m, k, n) = (am.used_rows(), am.used_cols(), bm.used_cols());
    if k != bm.used_rows() || am.ld < am.cols || bm.ld < bm.cols {
        return Err(Error::Device(format!(
            "matmul: a is {m} x {k}, b {} x {n} (leading dimensions {} and {})",
            bm.used_rows(),
            am.ld,
            bm.ld
        )));
    }
    need(a_len, am.offset + am.span(), "matmul (a)")?;
    need(b_len, bm.offset + bm.span(), "matmul (b)")?;
    need(dst_len, dst_offset + m * n, "matmul (dst)")?;
    Ok((m, k, n))
}
