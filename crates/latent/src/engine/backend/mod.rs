//! The backend seam: one trait over the dozen operations the models are built from, so the
//! same orchestration (`model::net`, `train`) can run on the CPU or on a GPU.
//!
//! A backend owns its buffers ([`Backend::Buf`], flat f32 arrays) and its random stream
//! ([`Backend::Rng`]). Operations read and write prefixes of buffers (`n` values from the
//! start) unless they take an offset; a parameter tensor is addressed by its offset in the one
//! values / gradients buffer, as in [`super::Params`]. Every operation is fused as the CPU
//! kernels are, and returns `Result` because a device can fail (a launch, an allocation); the
//! CPU backend never does. A buffer too short for an operation is an `Error::Device`: the
//! lengths are checked once, in the trait's provided methods, before the backend's
//! `*_unchecked` method of the same operation runs (see [`Backend`]).
//!
//! [`Cpu`] adds no math: it calls the engine's kernels. The CUDA backend (`cuda` module,
//! feature `cuda`) is the device copy of them. The RNG contract and the plan for moving `Net`
//! onto this trait are in DESIGN-NOTES.md ("Backend seam").

mod args;
mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
mod device;
#[cfg(test)]
mod parity;
mod store;

pub use args::{Mat, NllGrad, Sigma};
pub use cpu::Cpu;
pub use device::Device;
pub use store::{DeviceParams, ParamStore};

use super::adam::AdamConfig;
use super::conv::Patches;
use super::Activation;
use crate::config::{Corruption, Loss};
use crate::{Error, Result};
use rand::RngCore;

/// Proof that a checked [`Backend`] operation has validated its buffers: every `*_unchecked`
/// method takes one, and only this module (the trait and the backends in it) can make one, so
/// code outside it reaches the unchecked methods only through the checked operations.
#[derive(Clone, Copy, Debug)]
pub struct Checked(());

/// The operations a model is built from, on one device.
///
/// Shapes are the caller's responsibility, as in the engine; a buffer shorter than an operation
/// needs is an error (`Error::Device`), never an out-of-bounds access.
///
/// Each operation is a provided method that checks the lengths of its buffers against its
/// sizes and offsets (the checks are written once, here) and then calls the required
/// `<operation>_unchecked` method with a [`Checked`] token. A backend implements only the
/// `*_unchecked` methods, which hold its math and may assume what the provided method
/// checked: they are called only after it did, with the same arguments.
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

    /// The buffer as host memory, when the device is the host (the CPU): layers and terms not
    /// yet written as backend operations (GDN, the rate term, KL sparsity, MS-SSIM,
    /// binarisation) run on it with the engine's kernels, and are refused on a device.
    fn host<'a>(&self, _buf: &'a Self::Buf) -> Option<&'a [f32]> {
        None
    }
    /// The buffer as mutable host memory (see [`Backend::host`]).
    fn host_mut<'a>(&self, _buf: &'a mut Self::Buf) -> Option<&'a mut [f32]> {
        None
    }
    /// The random stream as the host's `RngCore`, for the host-only terms (see
    /// [`Backend::host`]).
    fn host_rng<'a>(&self, _rng: &'a mut Self::Rng) -> Option<&'a mut dyn RngCore> {
        None
    }

    /// A buffer of `len` zeros.
    fn zeros(&self, len: usize) -> Result<Self::Buf>;
    /// A buffer holding a copy of `host`.
    fn upload(&self, host: &[f32]) -> Result<Self::Buf>;

    /// Copies `host` into `dst` from `offset`.
    fn write(&self, dst: &mut Self::Buf, offset: usize, host: &[f32]) -> Result<()> {
        need(self.len(dst), offset + host.len(), "write")?;
        self.write_unchecked(Checked(()), dst, offset, host)
    }

    /// Copies `host.len()` values of `src` from `offset` into `host` (waits for the device).
    fn read(&self, src: &Self::Buf, offset: usize, host: &mut [f32]) -> Result<()> {
        need(self.len(src), offset + host.len(), "read")?;
        self.read_unchecked(Checked(()), src, offset, host)
    }

    /// `x[..n] *= factor`.
    fn scale(&self, x: &mut Self::Buf, n: usize, factor: f32) -> Result<()> {
        need(self.len(x), n, "scale")?;
        self.scale_unchecked(Checked(()), x, n, factor)
    }

    /// `dst = a · b` (or `dst += a · b` when `accumulate`), `dst` row-major and contiguous
    /// from `dst_offset`, `a.used_rows() x b.used_cols()`. The inner dimensions must agree and
    /// each leading dimension be at least its stored width.
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
    ) -> Result<()> {
        check_matmul(self.len(dst), dst_offset, self.len(a), am, self.len(b), bm)?;
        self.matmul_unchecked(Checked(()), dst, dst_offset, a, am, b, bm, accumulate)
    }

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
    ) -> Result<()> {
        let n = rows * width;
        need(self.len(y), n, "bias_act_forward (y)")?;
        need(self.len(bias), bias_offset + width, "bias_act_forward (bias)")?;
        if let Some(p) = &pre {
            need(self.len(p), n, "bias_act_forward (pre)")?;
        }
        self.bias_act_forward_unchecked(Checked(()), y, rows, width, bias, bias_offset, act, pre)
    }

    /// Inverted dropout over `y[..n]`: each value zeroed with probability `p`, the rest scaled
    /// by `1 / (1 - p)`; `mask` keeps 0 or the scale.
    fn dropout_forward(
        &self,
        y: &mut Self::Buf,
        mask: &mut Self::Buf,
        n: usize,
        p: f32,
        rng: &mut Self::Rng,
    ) -> Result<()> {
        need(self.len(y).min(self.len(mask)), n, "dropout_forward")?;
        self.dropout_forward_unchecked(Checked(()), y, mask, n, p, rng)
    }

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
    ) -> Result<()> {
        need(self.len(dy).min(self.len(y)), n, "act_backward")?;
        if let Some(p) = pre {
            need(self.len(p), n, "act_backward (pre)")?;
        }
        if let Some(m) = mask {
            need(self.len(m), n, "act_backward (mask)")?;
        }
        self.act_backward_unchecked(Checked(()), dy, y, pre, mask, act, n)
    }

    /// `db[o] = Σ_r dz[r, o]` over `rows` rows of `width`, written at `db_offset`.
    fn bias_grad(
        &self,
        db: &mut Self::Buf,
        db_offset: usize,
        dz: &Self::Buf,
        rows: usize,
        width: usize,
    ) -> Result<()> {
        need(self.len(db), db_offset + width, "bias_grad (db)")?;
        need(self.len(dz), rows * width, "bias_grad (dz)")?;
        self.bias_grad_unchecked(Checked(()), db, db_offset, dz, rows, width)
    }

    /// im2col: the patch rows of `samples` samples of `src` into `cols` ([`Patches::gather`]).
    fn im2col(
        &self,
        p: &Patches,
        src: &Self::Buf,
        cols: &mut Self::Buf,
        samples: usize,
    ) -> Result<()> {
        need(self.len(src), samples * p.source.len(), "im2col (src)")?;
        need(self.len(cols), samples * p.per_sample() * p.width(), "im2col (cols)")?;
        self.im2col_unchecked(Checked(()), p, src, cols, samples)
    }

    /// col2im: the adjoint of [`Backend::im2col`], `dst` overwritten ([`Patches::scatter`]).
    fn col2im(
        &self,
        p: &Patches,
        cols: &Self::Buf,
        dst: &mut Self::Buf,
        samples: usize,
    ) -> Result<()> {
        need(self.len(dst), samples * p.source.len(), "col2im (dst)")?;
        need(self.len(cols), samples * p.per_sample() * p.width(), "col2im (cols)")?;
        self.col2im_unchecked(Checked(()), p, cols, dst, samples)
    }

    /// Standard-normal noise into `dst[..n]`.
    fn normal(&self, dst: &mut Self::Buf, n: usize, rng: &mut Self::Rng) -> Result<()> {
        need(self.len(dst), n, "normal")?;
        self.normal_unchecked(Checked(()), dst, n, rng)
    }

    /// Input corruption of `x[..n]` into `out` (noise, masking, salt and pepper).
    fn corrupt(
        &self,
        corruption: Corruption,
        x: &Self::Buf,
        out: &mut Self::Buf,
        n: usize,
        rng: &mut Self::Rng,
    ) -> Result<()> {
        need(self.len(x).min(self.len(out)), n, "corrupt")?;
        self.corrupt_unchecked(Checked(()), corruption, x, out, n, rng)
    }

    /// The VAE head forward: `z = μ + e^{lv/2} ε` for `rows` rows of `h = [μ | lv]`.
    fn reparameterize(
        &self,
        h: &Self::Buf,
        eps: &Self::Buf,
        z: &mut Self::Buf,
        rows: usize,
        k: usize,
    ) -> Result<()> {
        need(self.len(h), rows * 2 * k, "reparameterize (h)")?;
        need(self.len(eps).min(self.len(z)), rows * k, "reparameterize")?;
        self.reparameterize_unchecked(Checked(()), h, eps, z, rows, k)
    }

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
    ) -> Result<()> {
        need(self.len(h).min(self.len(out)), rows * 2 * k, "vae_head_backward")?;
        need(self.len(eps).min(self.len(dz)), rows * k, "vae_head_backward")?;
        self.vae_head_backward_unchecked(Checked(()), h, eps, dz, out, rows, k, kl_weight)
    }

    /// The KL of `rows` rows of `h = [μ | lv]` to `N(0, I)`, summed.
    fn gaussian_kl(&self, h: &Self::Buf, rows: usize, k: usize) -> Result<f64> {
        need(self.len(h), rows * 2 * k, "gaussian_kl")?;
        self.gaussian_kl_unchecked(Checked(()), h, rows, k)
    }

    /// `Σ −log N(t; y, σ²)` over `n` values, with the gradient when asked.
    fn gaussian_nll(
        &self,
        y: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        sigma: Sigma<'_, Self::Buf>,
        grad: Option<NllGrad<'_, Self::Buf>>,
    ) -> Result<f64> {
        need(self.len(y).min(self.len(t)), n, "gaussian_nll")?;
        if let Sigma::PerFeature { buf, offset, width } = sigma {
            need(self.len(buf), offset + width, "gaussian_nll (log sigma)")?;
        }
        if let Some(g) = &grad {
            need(self.len(g.dz).min(self.len(g.pre)), n, "gaussian_nll (gradient)")?;
        }
        self.gaussian_nll_unchecked(Checked(()), y, t, n, sigma, grad)
    }

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
    ) -> Result<()> {
        need(self.len(y).min(self.len(t)), n, "log_sigma_grad")?;
        need(self.len(ls), ls_offset + width, "log_sigma_grad (log sigma)")?;
        need(self.len(g), g_offset + width, "log_sigma_grad (gradient)")?;
        self.log_sigma_grad_unchecked(Checked(()), y, t, n, ls, ls_offset, width, g, g_offset, rows)
    }

    /// `Σ −log Bernoulli(t; σ(z))` over `n` values from the logits `z`; with `grad = (dz, d)`,
    /// `dz = (y − t) / d`.
    fn bernoulli_nll(
        &self,
        y: &Self::Buf,
        z: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        grad: Option<(&mut Self::Buf, f32)>,
    ) -> Result<f64> {
        need(self.len(y).min(self.len(z)).min(self.len(t)), n, "bernoulli_nll")?;
        if let Some((dz, _)) = &grad {
            need(self.len(dz), n, "bernoulli_nll (gradient)")?;
        }
        self.bernoulli_nll_unchecked(Checked(()), y, z, t, n, grad)
    }

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
    ) -> Result<f64> {
        need(self.len(y).min(self.len(z)).min(self.len(t)), n, "loss")?;
        if let Some(dz) = &dz {
            need(self.len(dz), n, "loss (gradient)")?;
        }
        self.loss_unchecked(Checked(()), loss, act, y, z, t, n, dz)
    }

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
    ) -> Result<()> {
        let lens = [self.len(values), self.len(grads), self.len(m), self.len(v), self.len(decay)];
        need(lens.into_iter().min().unwrap_or(0), n, "adam_step")?;
        self.adam_step_unchecked(Checked(()), values, grads, m, v, decay, n, config, step)
    }

    /// The L2 norm of `x[..n]` (f64 accumulation).
    fn norm(&self, x: &Self::Buf, n: usize) -> Result<f32> {
        need(self.len(x), n, "norm")?;
        self.norm_unchecked(Checked(()), x, n)
    }

    // The backend's math: each method below is called only by the provided method of the same
    // name (without `_unchecked`), after it checked the buffers' lengths, and with the same
    // arguments; it may rely on those checks (a CUDA kernel reads no bounds).

    /// [`Backend::write`] after its checks.
    fn write_unchecked(
        &self,
        checked: Checked,
        dst: &mut Self::Buf,
        offset: usize,
        host: &[f32],
    ) -> Result<()>;
    /// [`Backend::read`] after its checks.
    fn read_unchecked(
        &self,
        checked: Checked,
        src: &Self::Buf,
        offset: usize,
        host: &mut [f32],
    ) -> Result<()>;
    /// [`Backend::scale`] after its checks.
    fn scale_unchecked(&self, checked: Checked, x: &mut Self::Buf, n: usize, f: f32) -> Result<()>;
    /// [`Backend::matmul`] after its checks (shapes agree, every view lies in its buffer).
    #[allow(clippy::too_many_arguments)]
    fn matmul_unchecked(
        &self,
        checked: Checked,
        dst: &mut Self::Buf,
        dst_offset: usize,
        a: &Self::Buf,
        am: Mat,
        b: &Self::Buf,
        bm: Mat,
        accumulate: bool,
    ) -> Result<()>;
    /// [`Backend::bias_act_forward`] after its checks.
    #[allow(clippy::too_many_arguments)]
    fn bias_act_forward_unchecked(
        &self,
        checked: Checked,
        y: &mut Self::Buf,
        rows: usize,
        width: usize,
        bias: &Self::Buf,
        bias_offset: usize,
        act: Activation,
        pre: Option<&mut Self::Buf>,
    ) -> Result<()>;
    /// [`Backend::dropout_forward`] after its checks.
    fn dropout_forward_unchecked(
        &self,
        checked: Checked,
        y: &mut Self::Buf,
        mask: &mut Self::Buf,
        n: usize,
        p: f32,
        rng: &mut Self::Rng,
    ) -> Result<()>;
    /// [`Backend::act_backward`] after its checks.
    #[allow(clippy::too_many_arguments)]
    fn act_backward_unchecked(
        &self,
        checked: Checked,
        dy: &mut Self::Buf,
        y: &Self::Buf,
        pre: Option<&Self::Buf>,
        mask: Option<&Self::Buf>,
        act: Activation,
        n: usize,
    ) -> Result<()>;
    /// [`Backend::bias_grad`] after its checks.
    fn bias_grad_unchecked(
        &self,
        checked: Checked,
        db: &mut Self::Buf,
        db_offset: usize,
        dz: &Self::Buf,
        rows: usize,
        width: usize,
    ) -> Result<()>;
    /// [`Backend::im2col`] after its checks.
    fn im2col_unchecked(
        &self,
        checked: Checked,
        p: &Patches,
        src: &Self::Buf,
        cols: &mut Self::Buf,
        samples: usize,
    ) -> Result<()>;
    /// [`Backend::col2im`] after its checks.
    fn col2im_unchecked(
        &self,
        checked: Checked,
        p: &Patches,
        cols: &Self::Buf,
        dst: &mut Self::Buf,
        samples: usize,
    ) -> Result<()>;
    /// [`Backend::normal`] after its checks.
    fn normal_unchecked(
        &self,
        checked: Checked,
        dst: &mut Self::Buf,
        n: usize,
        rng: &mut Self::Rng,
    ) -> Result<()>;
    /// [`Backend::corrupt`] after its checks.
    fn corrupt_unchecked(
        &self,
        checked: Checked,
        corruption: Corruption,
        x: &Self::Buf,
        out: &mut Self::Buf,
        n: usize,
        rng: &mut Self::Rng,
    ) -> Result<()>;
    /// [`Backend::reparameterize`] after its checks.
    fn reparameterize_unchecked(
        &self,
        checked: Checked,
        h: &Self::Buf,
        eps: &Self::Buf,
        z: &mut Self::Buf,
        rows: usize,
        k: usize,
    ) -> Result<()>;
    /// [`Backend::vae_head_backward`] after its checks.
    #[allow(clippy::too_many_arguments)]
    fn vae_head_backward_unchecked(
        &self,
        checked: Checked,
        h: &Self::Buf,
        eps: &Self::Buf,
        dz: &Self::Buf,
        out: &mut Self::Buf,
        rows: usize,
        k: usize,
        kl_weight: f32,
    ) -> Result<()>;
    /// [`Backend::gaussian_kl`] after its checks.
    fn gaussian_kl_unchecked(
        &self,
        checked: Checked,
        h: &Self::Buf,
        rows: usize,
        k: usize,
    ) -> Result<f64>;
    /// [`Backend::gaussian_nll`] after its checks.
    fn gaussian_nll_unchecked(
        &self,
        checked: Checked,
        y: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        sigma: Sigma<'_, Self::Buf>,
        grad: Option<NllGrad<'_, Self::Buf>>,
    ) -> Result<f64>;
    /// [`Backend::log_sigma_grad`] after its checks.
    #[allow(clippy::too_many_arguments)]
    fn log_sigma_grad_unchecked(
        &self,
        checked: Checked,
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
    /// [`Backend::bernoulli_nll`] after its checks.
    fn bernoulli_nll_unchecked(
        &self,
        checked: Checked,
        y: &Self::Buf,
        z: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        grad: Option<(&mut Self::Buf, f32)>,
    ) -> Result<f64>;
    /// [`Backend::loss`] after its checks.
    #[allow(clippy::too_many_arguments)]
    fn loss_unchecked(
        &self,
        checked: Checked,
        loss: Loss,
        act: Activation,
        y: &Self::Buf,
        z: &Self::Buf,
        t: &Self::Buf,
        n: usize,
        dz: Option<&mut Self::Buf>,
    ) -> Result<f64>;
    /// [`Backend::adam_step`] after its checks.
    #[allow(clippy::too_many_arguments)]
    fn adam_step_unchecked(
        &self,
        checked: Checked,
        values: &mut Self::Buf,
        grads: &Self::Buf,
        m: &mut Self::Buf,
        v: &mut Self::Buf,
        decay: &Self::Buf,
        n: usize,
        config: &AdamConfig,
        step: u32,
    ) -> Result<()>;
    /// [`Backend::norm`] after its checks.
    fn norm_unchecked(&self, checked: Checked, x: &Self::Buf, n: usize) -> Result<f32>;
}

/// Fails unless `have >= need` (a buffer too short for an operation).
fn need(have: usize, need: usize, what: &str) -> Result<()> {
    if have < need {
        return Err(Error::Device(format!(
            "backend operation {what}: buffer of {have} values, {need} needed"
        )));
    }
    Ok(())
}

/// Checks a product's shapes against its buffers.
fn check_matmul(
    dst_len: usize,
    dst_offset: usize,
    a_len: usize,
    am: Mat,
    b_len: usize,
    bm: Mat,
) -> Result<()> {
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
    need(dst_len, dst_offset + m * n, "matmul (dst)")
}
