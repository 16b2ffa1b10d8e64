//! The CPU backend: every operation is a call into the engine's kernels (no second copy of the
//! math), so code written over [`Backend`] computes on the CPU exactly what the engine does.

use super::{check_matmul, need, Backend, Mat, NllGrad, Sigma};
use crate::config::{Corruption, Loss};
use crate::engine::adam::{self, AdamConfig};
use crate::engine::conv::Patches;
use crate::engine::dense::{bias_grad, dropout_activation_backward, dropout_forward};
use crate::engine::vae::{self, LogSigma};
use crate::engine::{matmul, params, Activation, MatRef};
use crate::objective;
use crate::Result;
use rand::SeedableRng;
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

    fn zeros(&self, len: usize) -> Result<Vec<f32>> {
        Ok(vec![0.0; len])
    }

    fn upload(&self, host: &[f32]) -> Result<Vec<f32>> {
        Ok(host.to_vec())
    }

    fn write(&self, dst: &mut Vec<f32>, offset: usize, host: &[f32]) -> Result<()> {
        need(dst.len(), offset + host.len(), "write")?;
        dst[offset..offset + host.len()].copy_from_slice(host);
        Ok(())
    }

    fn read(&self, src: &Vec<f32>, offset: usize, host: &mut [f32]) -> Result<()> {
        need(src.len(), offset + host.len(), "read")?;
        host.copy_from_slice(&src[offset..offset + host.len()]);
        Ok(())
    }

    fn scale(&self, x: &mut Vec<f32>, n: usize, factor: f32) -> Result<()> {
        need(x.len(), n, "scale")?;
        params::scale(&mut x[..n], factor);
        Ok(())
    }

    fn matmul(
        &self,
        dst: &mut Vec<f32>,
        dst_offset: usize,
        a: &Vec<f32>,
        am: Mat,
        b: &Vec<f32>,
        bm: Mat,
        accumulate: bool,
    ) -> Result<()> {
        let (m, _, n) = check_matmul(dst.len(), dst_offset, a.len(), am, b.len(), bm)?;
        matmul(&mut dst[dst_offset..dst_offset + m * n], view(a, am), view(b, bm), accumulate);
        Ok(())
    }

    fn bias_act_forward(
        &self,
        y: &mut Vec<f32>,
        rows: usize,
        width: usize,
        bias: &Vec<f32>,
        bias_offset: usize,
        act: Activation,
        pre: Option<&mut Vec<f32>>,
    ) -> Result<()> {
        let n = rows * width;
        need(y.len(), n, "bias_act_forward (y)")?;
        need(bias.len(), bias_offset + width, "bias_act_forward (bias)")?;
        let pre = match pre {
            Some(p) => {
                need(p.len(), n, "bias_act_forward (pre)")?;
                Some(&mut p[..n])
            }
            None => None,
        };
        act.bias_forward(&mut y[..n], &bias[bias_offset..bias_offset + width], pre);
        Ok(())
    }

    fn dropout_forward(
        &self,
        y: &mut Vec<f32>,
        mask: &mut Vec<f32>,
        n: usize,
        p: f32,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        need(y.len().min(mask.len()), n, "dropout_forward")?;
        dropout_forward(&mut y[..n], &mut mask[..n], p, rng);
        Ok(())
    }

    fn act_backward(
        &self,
        dy: &mut Vec<f32>,
        y: &Vec<f32>,
        pre: Option<&Vec<f32>>,
        mask: Option<&Vec<f32>>,
        act: Activation,
        n: usize,
    ) -> Result<()> {
        need(dy.len().min(y.len()), n, "act_backward")?;
        let pre = match pre {
            Some(p) => {
                need(p.len(), n, "act_backward (pre)")?;
                Some(&p[..n])
            }
            None => None,
        };
        match mask {
            Some(mask) => {
                need(mask.len(), n, "act_backward (mask)")?;
                dropout_activation_backward(&mut dy[..n], &y[..n], &mask[..n], act, pre);
            }
            None => act.backward(&mut dy[..n], &y[..n], pre),
        }
        Ok(())
    }

    fn bias_grad(
        &self,
        db: &mut Vec<f32>,
        db_offset: usize,
        dz: &Vec<f32>,
        rows: usize,
        width: usize,
    ) -> Result<()> {
        need(db.len(), db_offset + width, "bias_grad (db)")?;
        need(dz.len(), rows * width, "bias_grad (dz)")?;
        bias_grad(&mut db[db_offset..db_offset + width], &dz[..rows * width]);
        Ok(())
    }

    fn im2col(
        &self,
        p: &Patches,
        src: &Vec<f32>,
        cols: &mut Vec<f32>,
        samples: usize,
    ) -> Result<()> {
        need(src.len(), samples * p.source.len(), "im2col (src)")?;
        need(cols.len(), samples * p.per_sample() * p.width(), "im2col (cols)")?;
        p.gather(src, cols, samples);
        Ok(())
    }

    fn col2im(
        &self,
        p: &Patches,
        cols: &Vec<f32>,
        dst: &mut Vec<f32>,
        samples: usize,
    ) -> Result<()> {
        need(dst.len(), samples * p.source.len(), "col2im (dst)")?;
        need(cols.len(), samples * p.per_sample() * p.width(), "col2im (cols)")?;
        p.scatter(cols, dst, samples);
        Ok(())
    }

    fn normal(&self, dst: &mut Vec<f32>, n: usize, rng: &mut ChaCha8Rng) -> Result<()> {
        need(dst.len(), n, "normal")?;
        dst[..n].iter_mut().for_each(|e| *e = StandardNormal.sample(&mut *rng));
        Ok(())
    }

    fn corrupt(
        &self,
        corruption: Corruption,
        x: &Vec<f32>,
        out: &mut Vec<f32>,
        n: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        need(x.len().min(out.len()), n, "corrupt")?;
        objective::corrupt(corruption, &x[..n], &mut out[..n], rng);
        Ok(())
    }

    fn reparameterize(
        &self,
        h: &Vec<f32>,
        eps: &Vec<f32>,
        z: &mut Vec<f32>,
        rows: usize,
        k: usize,
    ) -> Result<()> {
        need(h.len(), rows * 2 * k, "reparameterize (h)")?;
        need(eps.len().min(z.len()), rows * k, "reparameterize")?;
        vae::reparameterize(h, eps, z, rows, k);
        Ok(())
    }

    fn vae_head_backward(
        &self,
        h: &Vec<f32>,
        eps: &Vec<f32>,
        dz: &Vec<f32>,
        out: &mut Vec<f32>,
        rows: usize,
        k: usize,
        kl_weight: f32,
    ) -> Result<()> {
        need(h.len().min(out.len()), rows * 2 * k, "vae_head_backward")?;
        need(eps.len().min(dz.len()), rows * k, "vae_head_backward")?;
        vae::head_backward(h, eps, dz, out, rows, k, kl_weight);
        Ok(())
    }

    fn gaussian_kl(&self, h: &Vec<f32>, rows: usize, k: usize) -> Result<f64> {
        need(h.len(), rows * 2 * k, "gaussian_kl")?;
        Ok(vae::gaussian_kl(&h[..rows * 2 * k], k))
    }

    fn gaussian_nll(
        &self,
        y: &Vec<f32>,
        t: &Vec<f32>,
        n: usize,
        sigma: Sigma<'_, Vec<f32>>,
        grad: Option<NllGrad<'_, Vec<f32>>>,
    ) -> Result<f64> {
        need(y.len().min(t.len()), n, "gaussian_nll")?;
        let ls = match sigma {
            Sigma::Fixed(l) => LogSigma::Fixed(l),
            Sigma::PerFeature { buf, offset, width } => {
                need(buf.len(), offset + width, "gaussian_nll (log sigma)")?;
                LogSigma::PerFeature(&buf[offset..offset + width])
            }
        };
        let grad = match grad {
            Some(g) => {
                need(g.dz.len().min(g.pre.len()), n, "gaussian_nll (gradient)")?;
                let (dz, pre) = (&mut g.dz[..n], &g.pre[..n]);
                Some(vae::NllGrad { dz, pre, act: g.act, rows: g.rows })
            }
            None => None,
        };
        Ok(vae::gaussian_nll(&y[..n], &t[..n], ls, grad))
    }

    fn log_sigma_grad(
        &self,
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
        need(y.len().min(t.len()), n, "log_sigma_grad")?;
        need(ls.len(), ls_offset + width, "log_sigma_grad (log sigma)")?;
        need(g.len(), g_offset + width, "log_sigma_grad (gradient)")?;
        let (ls, g) = (&ls[ls_offset..ls_offset + width], &mut g[g_offset..g_offset + width]);
        vae::log_sigma_grad(&y[..n], &t[..n], ls, g, rows);
        Ok(())
    }

    fn bernoulli_nll(
        &self,
        y: &Vec<f32>,
        z: &Vec<f32>,
        t: &Vec<f32>,
        n: usize,
        grad: Option<(&mut Vec<f32>, f32)>,
    ) -> Result<f64> {
        need(y.len().min(z.len()).min(t.len()), n, "bernoulli_nll")?;
        let grad = match grad {
            Some((dz, d)) => {
                need(dz.len(), n, "bernoulli_nll (gradient)")?;
                Some((&mut dz[..n], d))
            }
            None => None,
        };
        Ok(vae::bernoulli_nll(&y[..n], &z[..n], &t[..n], grad))
    }

    fn loss(
        &self,
        loss: Loss,
        act: Activation,
        y: &Vec<f32>,
        z: &Vec<f32>,
        t: &Vec<f32>,
        n: usize,
        dz: Option<&mut Vec<f32>>,
    ) -> Result<f64> {
        need(y.len().min(z.len()).min(t.len()), n, "loss")?;
        let (y, z, t) = (&y[..n], &z[..n], &t[..n]);
        Ok(match dz {
            Some(dz) => {
                need(dz.len(), n, "loss (gradient)")?;
                objective::loss_and_grad(loss, act, y, z, t, &mut dz[..n])
            }
            None => objective::loss_value(loss, y, z, t),
        })
    }

    fn adam_step(
        &self,
        values: &mut Vec<f32>,
        grads: &Vec<f32>,
        m: &mut Vec<f32>,
        v: &mut Vec<f32>,
        decay: &Vec<f32>,
        n: usize,
        config: &AdamConfig,
        step: u32,
    ) -> Result<()> {
        let shortest = values.len().min(grads.len()).min(m.len()).min(v.len()).min(decay.len());
        need(shortest, n, "adam_step")?;
        let (values, grads, m, v) = (&mut values[..n], &grads[..n], &mut m[..n], &mut v[..n]);
        adam::update(values, grads, m, v, &decay[..n], config, step);
        Ok(())
    }

    fn norm(&self, x: &Vec<f32>, n: usize) -> Result<f32> {
        need(x.len(), n, "norm")?;
        Ok(params::l2_norm(&x[..n]))
    }
}
