//! The CPU backend: every operation is a call into the engine's kernels (no second copy of the
//! math), so code written over [`Backend`] computes on the CPU exactly what the engine does.
//! The trait's provided methods check the buffers; the methods here only slice and compute.

use super::{Backend, Checked, Mat, NllGrad, Sigma};
use crate::config::{Corruption, Loss};
use crate::engine::adam::{self, AdamConfig};
use crate::engine::conv::Patches;
use crate::engine::dense::{bias_grad, dropout_activation_backward, dropout_forward};
use crate::engine::vae::{self, LogSigma};
use crate::engine::{matmul, params, Activation, MatRef};
use crate::objective;
use crate::Result;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The CPU backend: buffers are `Vec<f32>`, the random stream is the library's ChaCha8.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

fn view(buf: &[f32], m: Mat) -> MatRef<'_> {
    let v = MatRef::strided(&buf[m.offset..], m.rows, m.cols, m.ld);
    if m.transposed {
        v.t()
    } else {
        v
    }
}

impl Backend for Cpu {
    type Buf = Vec<f32>;
    type Rng = ChaCha8Rng;

    fn describe(&self) -> String {
        "cpu".into()
    }

    fn rng(&self, seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    fn len(&self, buf: &Vec<f32>) -> usize {
        buf.len()
    }

    fn host<'a>(&self, buf: &'a Vec<f32>) -> Option<&'a [f32]> {
        Some(buf)
    }

    fn host_mut<'a>(&self, buf: &'a mut Vec<f32>) -> Option<&'a mut [f32]> {
        Some(buf)
    }

    fn host_rng<'a>(&self, rng: &'a mut ChaCha8Rng) -> Option<&'a mut dyn RngCore> {
        Some(rng)
    }

    fn zeros(&self, len: usize) -> Result<Vec<f32>> {
        Ok(vec![0.0; len])
    }

    fn upload(&self, host: &[f32]) -> Result<Vec<f32>> {
        Ok(host.to_vec())
    }

    fn write_unchecked(
        &self,
        _: Checked,
        dst: &mut Vec<f32>,
        offset: usize,
        host: &[f32],
    ) -> Result<()> {
        dst[offset..offset + host.len()].copy_from_slice(host);
        Ok(())
    }

    fn read_unchecked(
        &self,
        _: Checked,
        src: &Vec<f32>,
        offset: usize,
        host: &mut [f32],
    ) -> Result<()> {
        host.copy_from_slice(&src[offset..offset + host.len()]);
        Ok(())
    }

    fn scale_unchecked(&self, _: Checked, x: &mut Vec<f32>, n: usize, factor: f32) -> Result<()> {
        params::scale(&mut x[..n], factor);
        Ok(())
    }

    fn matmul_unchecked(
        &self,
        _: Checked,
        dst: &mut Vec<f32>,
        dst_offset: usize,
        a: &Vec<f32>,
        am: Mat,
        b: &Vec<f32>,
        bm: Mat,
        accumulate: bool,
    ) -> Result<()> {
        let (m, n) = (am.used_rows(), bm.used_cols());
        matmul(&mut dst[dst_offset..dst_offset + m * n], view(a, am), view(b, bm), accumulate);
        Ok(())
    }

    fn bias_act_forward_unchecked(
        &self,
        _: Checked,
        y: &mut Vec<f32>,
        rows: usize,
        width: usize,
        bias: &Vec<f32>,
        bias_offset: usize,
        act: Activation,
        pre: Option<&mut Vec<f32>>,
    ) -> Result<()> {
        let n = rows * width;
        let pre = pre.map(|p| &mut p[..n]);
        act.bias_forward(&mut y[..n], &bias[bias_offset..bias_offset + width], pre);
        Ok(())
    }

    fn dropout_forward_unchecked(
        &self,
        _: Checked,
        y: &mut Vec<f32>,
        mask: &mut Vec<f32>,
        n: usize,
        p: f32,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        dropout_forward(&mut y[..n], &mut mask[..n], p, rng);
        Ok(())
    }

    fn act_backward_unchecked(
        &self,
        _: Checked,
        dy: &mut Vec<f32>,
        y: &Vec<f32>,
        pre: Option<&Vec<f32>>,
        mask: Option<&Vec<f32>>,
        act: Activation,
        n: usize,
    ) -> Result<()> {
        let pre = pre.map(|p| &p[..n]);
        match mask {
            Some(mask) => dropout_activation_backward(&mut dy[..n], &y[..n], &mask[..n], act, pre),
            None => act.backward(&mut dy[..n], &y[..n], pre),
        }
        Ok(())
    }

    fn bias_grad_unchecked(
        &self,
        _: Checked,
        db: &mut Vec<f32>,
        db_offset: usize,
        dz: &Vec<f32>,
        rows: usize,
        width: usize,
    ) -> Result<()> {
        bias_grad(&mut db[db_offset..db_offset + width], &dz[..rows * width]);
        Ok(())
    }

    fn im2col_unchecked(
        &self,
        _: Checked,
        p: &Patches,
        src: &Vec<f32>,
        cols: &mut Vec<f32>,
        samples: usize,
    ) -> Result<()> {
        p.gather(src, cols, samples);
        Ok(())
    }

    fn col2im_unchecked(
        &self,
        _: Checked,
        p: &Patches,
        cols: &Vec<f32>,
        dst: &mut Vec<f32>,
        samples: usize,
    ) -> Result<()> {
        p.scatter(cols, dst, samples);
        Ok(())
    }

    fn normal_unchecked(
        &self,
        _: Checked,
        dst: &mut Vec<f32>,
        n: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        dst[..n].iter_mut().for_each(|e| *e = StandardNormal.sample(&mut *rng));
        Ok(())
    }

    fn corrupt_unchecked(
        &self,
        _: Checked,
        corruption: Corruption,
        x: &Vec<f32>,
        out: &mut Vec<f32>,
        n: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        objective::corrupt(corruption, &x[..n], &mut out[..n], rng);
        Ok(())
    }

    fn reparameterize_unchecked(
        &self,
        _: Checked,
        h: &Vec<f32>,
        eps: &Vec<f32>,
        z: &mut Vec<f32>,
        rows: usize,
        k: usize,
    ) -> Result<()> {
        vae::reparameterize(h, eps, z, rows, k);
        Ok(())
    }

    fn vae_head_backward_unchecked(
        &self,
        _: Checked,
        h: &Vec<f32>,
        eps: &Vec<f32>,
        dz: &Vec<f32>,
        out: &mut Vec<f32>,
        rows: usize,
        k: usize,
        kl_weight: f32,
    ) -> Result<()> {
        vae::head_backward(h, eps, dz, out, rows, k, kl_weight);
        Ok(())
    }

    fn gaussian_kl_unchecked(
        &self,
        _: Checked,
        h: &Vec<f32>,
        rows: usize,
        k: usize,
    ) -> Result<f64> {
        Ok(vae::gaussian_kl(&h[..rows * 2 * k], k))
    }

    fn gaussian_nll_unchecked(
        &self,
        _: Checked,
        y: &Vec<f32>,
        t: &Vec<f32>,
        n: usize,
        sigma: Sigma<'_, Vec<f32>>,
        grad: Option<NllGrad<'_, Vec<f32>>>,
    ) -> Result<f64> {
        let ls = match sigma {
            Sigma::Fixed(l) => LogSigma::Fixed(l),
            Sigma::PerFeature { buf, offset, width } => {
                LogSigma::PerFeature(&buf[offset..offset + width])
            }
        };
        let grad = grad.map(|g| vae::NllGrad {
            dz: &mut g.dz[..n],
            pre: &g.pre[..n],
            act: g.act,
            rows: g.rows,
        });
        Ok(vae::gaussian_nll(&y[..n], &t[..n], ls, grad))
    }

    fn log_sigma_grad_unchecked(
        &self,
        _: Checked,
        y: &Vec<f32>,
        t: &Vec<f32>,
        n: usize,
        ls: &Vec<f32>,
        ls_offset: usize,
        width: usize,
        g: &mut Vec<f32>,
        g_offset: usize,
        rows: f32,
    ) -> Result<()> {
        let (ls, g) = (&ls[ls_offset..ls_offset + width], &mut g[g_offset..g_offset + width]);
        vae::log_sigma_grad(&y[..n], &t[..n], ls, g, rows);
        Ok(())
    }

    fn bernoulli_nll_unchecked(
        &self,
        _: Checked,
        y: &Vec<f32>,
        z: &Vec<f32>,
        t: &Vec<f32>,
        n: usize,
        grad: Option<(&mut Vec<f32>, f32)>,
    ) -> Result<f64> {
        let grad = grad.map(|(dz, d)| (&mut dz[..n], d));
        Ok(vae::bernoulli_nll(&y[..n], &z[..n], &t[..n], grad))
    }

    fn loss_unchecked(
        &self,
        _: Checked,
        loss: Loss,
        act: Activation,
        y: &Vec<f32>,
        z: &Vec<f32>,
        t: &Vec<f32>,
        n: usize,
        dz: Option<&mut Vec<f32>>,
    ) -> Result<f64> {
        let (y, z, t) = (&y[..n], &z[..n], &t[..n]);
        Ok(match dz {
            Some(dz) => objective::loss_and_grad(loss, act, y, z, t, &mut dz[..n]),
            None => objective::loss_value(loss, y, z, t),
        })
    }

    fn adam_step_unchecked(
        &self,
        _: Checked,
        values: &mut Vec<f32>,
        grads: &Vec<f32>,
        m: &mut Vec<f32>,
        v: &mut Vec<f32>,
        decay: &Vec<f32>,
        n: usize,
        config: &AdamConfig,
        step: u32,
    ) -> Result<()> {
        let (values, grads, m, v) = (&mut values[..n], &grads[..n], &mut m[..n], &mut v[..n]);
        adam::update(values, grads, m, v, &decay[..n], config, step);
        Ok(())
    }

    fn norm_unchecked(&self, _: Checked, x: &Vec<f32>, n: usize) -> Result<f32> {
        Ok(params::l2_norm(&x[..n]))
    }
}
