//! Parity of every backend operation: the CPU backend against plain f64 reference loops and,
//! with the `cuda` feature and a device, the CUDA backend against the CPU backend (relative
//! error ≤ 1e-4 in fp32). Random operations cannot match across devices (see the RNG
//! contract): they are checked by their statistics, and for reproducibility from a seed.
//!
//! `scripts/gpu-check.sh` runs these tests on a GPU machine with `LATENT_REQUIRE_CUDA=1`, which
//! turns a missing device into a failure instead of a skip.

use super::{Backend, Mat, NllGrad, Sigma};
use crate::config::{Corruption, Loss};
use crate::engine::adam::AdamConfig;
use crate::engine::conv::{Patches, Shape3};
use crate::engine::Activation;
use crate::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One checked output: its values and the tolerance for a comparison.
pub(crate) struct Out {
    pub name: String,
    pub values: Vec<f64>,
    pub tol: f64,
}

const ACTS: [Activation; 6] = Activation::ALL;

const TOL: f64 = 1e-4;

fn rand_vec(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

fn patch_maps() -> [Patches; 2] {
    [
        Patches { rows: (3, 3), source: Shape3 { h: 6, w: 6, c: 3 }, kernel: 3, stride: 2, pad: 1 },
        Patches { rows: (1, 4), source: Shape3 { h: 1, w: 7, c: 2 }, kernel: 3, stride: 2, pad: 1 },
    ]
}

/// The inputs every backend sees (host copies, from one seed).
struct Inputs {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    y0: Vec<f32>,
    bias: Vec<f32>,
    dy: Vec<f32>,
    mask: Vec<f32>,
    h: Vec<f32>,
    eps: Vec<f32>,
    dzk: Vec<f32>,
    t01: Vec<f32>,
    ls: Vec<f32>,
    img: Vec<f32>,
}

const R: usize = 37; // rows
const I: usize = 29; // inputs
const O: usize = 23; // outputs
const K: usize = 5; // latent

fn inputs() -> Inputs {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mask =
        (0..R * O).map(|_| if rng.random::<f32>() < 0.3 { 0.0 } else { 1.0 / 0.7 }).collect();
    Inputs {
        a: rand_vec(&mut rng, R * I, -1.0, 1.0),
        b: rand_vec(&mut rng, O * I, -1.0, 1.0),
        c: rand_vec(&mut rng, R * O, -1.0, 1.0),
        y0: rand_vec(&mut rng, R * O, -3.0, 3.0),
        bias: rand_vec(&mut rng, O + 3, -0.5, 0.5),
        dy: rand_vec(&mut rng, R * O, -1.0, 1.0),
        mask,
        h: rand_vec(&mut rng, R * 2 * K, -1.5, 1.5),
        eps: rand_vec(&mut rng, R * K, -2.0, 2.0),
        dzk: rand_vec(&mut rng, R * K, -1.0, 1.0),
        t01: rand_vec(&mut rng, R * O, 0.0, 1.0),
        ls: rand_vec(&mut rng, O + 2, -0.5, 0.5),
        img: rand_vec(&mut rng, 2 * 6 * 6 * 3, -1.0, 1.0),
    }
}

fn push(out: &mut Vec<Out>, name: impl Into<String>, values: &[f32]) {
    out.push(Out {
        name: name.into(),
        values: values.iter().map(|&v| f64::from(v)).collect(),
        tol: TOL,
    });
}

fn push_f64(out: &mut Vec<Out>, name: impl Into<String>, v: f64) {
    out.push(Out { name: name.into(), values: vec![v], tol: TOL });
}

fn down<B: Backend>(be: &B, buf: &B::Buf, n: usize) -> Result<Vec<f32>> {
    let mut host = vec![0.0; n];
    be.read(buf, 0, &mut host)?;
    Ok(host)
}

/// Runs every deterministic operation on `be` and returns its outputs, in a fixed order.
pub(crate) fn deterministic<B: Backend>(be: &B) -> Result<Vec<Out>> {
    let x = inputs();
    let mut out = Vec::new();
    let (a, b, c) = (be.upload(&x.a)?, be.upload(&x.b)?, be.upload(&x.c)?);
    // Products: x Wᵀ, then accumulate aᵀ c into a product at an offset.
    let mut dst = be.upload(&vec![0.5; 3 + R * O])?;
    be.matmul(&mut dst, 3, &a, Mat::row_major(0, R, I), &b, Mat::row_major(0, O, I).t(), false)?;
    push(&mut out, "matmul a·bᵀ", &down(be, &dst, 3 + R * O)?);
    let mut dw = be.upload(&vec![0.25; I * O])?;
    be.matmul(&mut dw, 0, &a, Mat::row_major(0, R, I).t(), &c, Mat::row_major(0, R, O), true)?;
    push(&mut out, "matmul += aᵀ·c", &down(be, &dw, I * O)?);
    let bias = be.upload(&x.bias)?;
    let n = R * O;
    for act in ACTS {
        let mut y = be.upload(&x.y0)?;
        let mut pre = be.zeros(n)?;
        be.bias_act_forward(&mut y, R, O, &bias, 3, act, Some(&mut pre))?;
        push(&mut out, format!("bias_act_forward {act:?}"), &down(be, &y, n)?);
        push(&mut out, format!("bias_act_forward {act:?} pre"), &down(be, &pre, n)?);
        let mut y2 = be.upload(&x.y0)?;
        be.bias_act_forward(&mut y2, R, O, &bias, 3, act, None)?;
        push(&mut out, format!("bias_act_forward {act:?} no pre"), &down(be, &y2, n)?);
        // Backward from y = act(z), z = y0, with and without a dropout mask.
        let y_host: Vec<f32> = x.y0.iter().map(|&z| act.apply(z)).collect();
        let masked: Vec<f32> = y_host.iter().zip(&x.mask).map(|(y, m)| y * m).collect();
        let (yb, yd, z, mask) =
            (be.upload(&y_host)?, be.upload(&masked)?, be.upload(&x.y0)?, be.upload(&x.mask)?);
        let mut dy = be.upload(&x.dy)?;
        be.act_backward(&mut dy, &yb, Some(&z), None, act, n)?;
        push(&mut out, format!("act_backward {act:?}"), &down(be, &dy, n)?);
        let mut dy = be.upload(&x.dy)?;
        be.act_backward(&mut dy, &yd, Some(&z), Some(&mask), act, n)?;
        push(&mut out, format!("act_backward {act:?} dropout"), &down(be, &dy, n)?);
    }
    let mut db = be.upload(&[9.0; O + 4])?;
    be.bias_grad(&mut db, 2, &c, R, O)?;
    push(&mut out, "bias_grad", &down(be, &db, O + 4)?);
    for (i, p) in patch_maps().iter().enumerate() {
        let samples = 2;
        let (sl, cl) = (p.source.len(), p.per_sample() * p.width());
        let src = be.upload(&x.img[..samples * sl])?;
        let mut cols = be.zeros(samples * cl)?;
        be.im2col(p, &src, &mut cols, samples)?;
        let cols_host = down(be, &cols, samples * cl)?;
        push(&mut out, format!("im2col {i}"), &cols_host);
        let ramp: Vec<f32> = (0..samples * cl).map(|j| ((j * 7 % 11) as f32 - 5.0) / 4.0).collect();
        let ramp = be.upload(&ramp)?;
        let mut dst = be.upload(&vec![3.0; samples * sl])?;
        be.col2im(p, &ramp, &mut dst, samples)?;
        push(&mut out, format!("col2im {i}"), &down(be, &dst, samples * sl)?);
    }
    // The VAE head.
    let (h, eps, dzk) = (be.upload(&x.h)?, be.upload(&x.eps)?, be.upload(&x.dzk)?);
    let mut z = be.zeros(R * K)?;
    be.reparameterize(&h, &eps, &mut z, R, K)?;
    push(&mut out, "reparameterize", &down(be, &z, R * K)?);
    let mut dh = be.zeros(R * 2 * K)?;
    be.vae_head_backward(&h, &eps, &dzk, &mut dh, R, K, 0.7)?;
    push(&mut out, "vae_head_backward", &down(be, &dh, R * 2 * K)?);
    push_f64(&mut out, "gaussian_kl", be.gaussian_kl(&h, R, K)?);
    // Likelihoods and losses on y = act(z).
    let t = be.upload(&x.t01)?;
    let ls = be.upload(&x.ls)?;
    for act in [Activation::Identity, Activation::Sigmoid] {
        let y_host: Vec<f32> = x.y0.iter().map(|&z| act.apply(z)).collect();
        let (y, zb) = (be.upload(&y_host)?, be.upload(&x.y0)?);
        let sigmas = [
            ("fixed", Sigma::Fixed(0.3)),
            ("learned", Sigma::PerFeature { buf: &ls, offset: 2, width: O }),
        ];
        for (name, sigma) in sigmas {
            let mut dz = be.zeros(n)?;
            let g = NllGrad { dz: &mut dz, pre: &zb, act, rows: R as f32 };
            let v = be.gaussian_nll(&y, &t, n, sigma, Some(g))?;
            push_f64(&mut out, format!("gaussian_nll {act:?} {name}"), v);
            push(&mut out, format!("gaussian_nll {act:?} {name} dz"), &down(be, &dz, n)?);
        }
        let v = be.gaussian_nll(&y, &t, n, Sigma::Fixed(-0.2), None)?;
        push_f64(&mut out, format!("gaussian_nll {act:?} value only"), v);
        let mut g = be.upload(&[1.0; O + 1])?;
        be.log_sigma_grad(&y, &t, n, &ls, 2, O, &mut g, 1, R as f32)?;
        push(&mut out, format!("log_sigma_grad {act:?}"), &down(be, &g, O + 1)?);
        let mut dz = be.zeros(n)?;
        push_f64(
            &mut out,
            format!("bernoulli_nll {act:?}"),
            be.bernoulli_nll(&y, &zb, &t, n, Some((&mut dz, 4.0)))?,
        );
        push(&mut out, format!("bernoulli_nll {act:?} dz"), &down(be, &dz, n)?);
        for loss in [Loss::Mse, Loss::Mae, Loss::Bce] {
            let mut dz = be.zeros(n)?;
            let v = be.loss(loss, act, &y, &zb, &t, n, Some(&mut dz))?;
            push_f64(&mut out, format!("loss {loss:?} {act:?}"), v);
            push(&mut out, format!("loss {loss:?} {act:?} dz"), &down(be, &dz, n)?);
            push_f64(
                &mut out,
                format!("loss {loss:?} {act:?} value"),
                be.loss(loss, act, &y, &zb, &t, n, None)?,
            );
        }
    }
    // Three Adam / AdamW steps.
    for decoupled in [false, true] {
        let cfg = AdamConfig { lr: 0.01, weight_decay: 0.1, decoupled, ..AdamConfig::default() };
        let decay: Vec<f32> =
            (0..n).map(|i| if i % 5 == 0 { 0.0 } else { cfg.weight_decay }).collect();
        let (mut p, mut m, mut v, d) =
            (be.upload(&x.y0)?, be.zeros(n)?, be.zeros(n)?, be.upload(&decay)?);
        for step in 1..=3 {
            let g = be.upload(&x.dy.iter().map(|g| g * step as f32).collect::<Vec<_>>())?;
            be.adam_step(&mut p, &g, &mut m, &mut v, &d, n, &cfg, step)?;
        }
        push(&mut out, format!("adam_step decoupled={decoupled}"), &down(be, &p, n)?);
        push(&mut out, format!("adam_step decoupled={decoupled} v"), &down(be, &v, n)?);
    }
    push_f64(&mut out, "norm", f64::from(be.norm(&c, n)?));
    let mut s = be.upload(&x.c)?;
    be.scale(&mut s, n - 3, 0.37)?;
    push(&mut out, "scale", &down(be, &s, n)?);
    let mut w = be.zeros(n + 2)?;
    be.write(&mut w, 2, &x.dy)?;
    push(&mut out, "write/read", &down(be, &w, n + 2)?);
    Ok(out)
}

/// Statistics of the random operations on `be`, with the value each should be near.
pub(crate) fn statistical<B: Backend>(be: &B) -> Result<Vec<(String, f64, f64, f64)>> {
    let n = 200_000;
    let mut rng = be.rng(7);
    let mut s = Vec::new();
    let mut e = be.zeros(n)?;
    be.normal(&mut e, n, &mut rng)?;
    let v = down(be, &e, n)?;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let var = v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n as f64;
    s.push(("normal mean".into(), mean, 0.0, 0.01));
    s.push(("normal variance".into(), var, 1.0, 0.02));
    let ones = be.upload(&vec![1.0; n])?;
    let (mut y, mut mask) = (be.upload(&vec![1.0; n])?, be.zeros(n)?);
    be.dropout_forward(&mut y, &mut mask, n, 0.3, &mut rng)?;
    let (yv, mv) = (down(be, &y, n)?, down(be, &mask, n)?);
    let zeros = yv.iter().filter(|&&v| v == 0.0).count() as f64 / n as f64;
    s.push(("dropout dropped fraction".into(), zeros, 0.3, 0.01));
    let kept_ok =
        yv.iter().zip(&mv).all(|(y, m)| *y == *m && (*m == 0.0 || (m - 1.0 / 0.7).abs() < 1e-6));
    s.push(("dropout kept = mask = 1/(1-p)".into(), f64::from(u8::from(kept_ok)), 1.0, 0.0));
    let halves = be.upload(&vec![0.5; n])?;
    for (name, c, want) in [
        ("corrupt gaussian(0.5) variance", Corruption::Gaussian { sigma: 0.5 }, 0.25),
        ("corrupt mask(0.2) zero fraction", Corruption::Mask { p: 0.2 }, 0.2),
        ("corrupt salt_pepper(0.4) changed fraction", Corruption::SaltPepper { p: 0.4 }, 0.4),
    ] {
        let mut o = be.zeros(n)?;
        let src = if matches!(c, Corruption::Gaussian { .. }) { &ones } else { &halves };
        be.corrupt(c, src, &mut o, n, &mut rng)?;
        let ov = down(be, &o, n)?;
        let stat = match c {
            Corruption::Gaussian { .. } => {
                ov.iter().map(|&x| f64::from(x - 1.0).powi(2)).sum::<f64>() / n as f64
            }
            Corruption::Mask { .. } => ov.iter().filter(|&&x| x == 0.0).count() as f64 / n as f64,
            _ => ov.iter().filter(|&&x| x != 0.5).count() as f64 / n as f64,
        };
        s.push((name.into(), stat, want, 0.01));
    }
    // Same seed, same draws.
    let (mut a, mut b) = (be.zeros(1000)?, be.zeros(1000)?);
    be.normal(&mut a, 1000, &mut be.rng(99))?;
    be.normal(&mut b, 1000, &mut be.rng(99))?;
    let same = down(be, &a, 1000)? == down(be, &b, 1000)?;
    s.push(("same seed, same draws".into(), f64::from(u8::from(same)), 1.0, 0.0));
    Ok(s)
}

/// Compares `got` with `want` output by output; returns the failures and the largest relative
/// error seen. An element passes when `|g − w| ≤ tol · (|w| + mean |w|)`.
pub(crate) fn compare(got: &[Out], want: &[Out]) -> (Vec<String>, f64) {
    let mut failures = Vec::new();
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(want) {
        let scale = w.values.iter().map(|v| v.abs()).sum::<f64>() / w.values.len().max(1) as f64;
        if g.name != w.name || g.values.len() != w.values.len() {
            failures.push(format!("{}: shape differs from {}", g.name, w.name));
            continue;
        }
        for (i, (a, b)) in g.values.iter().zip(&w.values).enumerate() {
            let rel = (a - b).abs() / (b.abs() + scale).max(1e-30);
            worst = worst.max(rel);
            if rel.is_nan() || rel > w.tol {
                failures.push(format!("{} [{i}]: {a} vs {b} (relative error {rel:.2e})", g.name));
                break;
            }
        }
    }
    if got.len() != want.len() {
        failures.push(format!("{} outputs vs {}", got.len(), want.len()));
    }
    (failures, worst)
}

/// Fails listing every statistic out of its tolerance.
pub(crate) fn check_stats(stats: &[(String, f64, f64, f64)]) -> Vec<String> {
    stats
        .iter()
        .filter(|(_, got, want, tol)| (got - want).is_nan() || (got - want).abs() > *tol)
        .map(|(name, got, want, tol)| format!("{name}: {got} (expected {want} ± {tol})"))
        .collect()
}

mod reference;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::backend::Cpu;

    #[test]
    fn cpu_backend_matches_plain_reference() -> Result<()> {
        let got = deterministic(&Cpu)?;
        let want = reference::outputs(&inputs());
        let (failures, worst) = compare(&got, &want);
        assert!(failures.is_empty(), "{failures:#?}");
        assert!(got.len() > 60, "{} outputs", got.len());
        println!("cpu backend: {} outputs, largest relative error {worst:.2e}", got.len());
        let stats = check_stats(&statistical(&Cpu)?);
        assert!(stats.is_empty(), "{stats:#?}");
        Ok(())
    }

    /// The message of an `Error::Device`, or a failure naming what came instead.
    fn device_error<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(crate::Error::Device(msg)) => msg,
            other => panic!("expected Error::Device, got {other:?}"),
        }
    }

    /// A buffer too short is a typed error from the trait's checked method, before the
    /// backend's unchecked one (which would slice out of bounds on the CPU) runs.
    #[test]
    fn short_buffers_are_errors_not_panics() {
        let (a, mut d) = (vec![0.0; 4], vec![0.0; 3]);
        let sq = Mat::row_major(0, 2, 2);
        let msg = device_error(Cpu.matmul(&mut d, 0, &a, sq, &a, sq, false));
        assert_eq!(msg, "backend operation matmul (dst): buffer of 3 values, 4 needed");
        let msg = device_error(Cpu.matmul(&mut d, 0, &a, sq, &a, Mat::row_major(0, 3, 1), false));
        assert!(msg.starts_with("matmul: a is 2 x 2, b 3 x 1"), "{msg}");
        let msg = device_error(Cpu.write(&mut d, 2, &[1.0, 2.0]));
        assert_eq!(msg, "backend operation write: buffer of 3 values, 4 needed");
        let msg = device_error(Cpu.gaussian_kl(&a, 1, 3));
        assert_eq!(msg, "backend operation gaussian_kl: buffer of 4 values, 6 needed");
        let mut pre = vec![0.0; 2];
        let relu = Activation::Relu;
        let msg = device_error(Cpu.bias_act_forward(&mut d, 1, 3, &a, 0, relu, Some(&mut pre)));
        assert_eq!(msg, "backend operation bias_act_forward (pre): buffer of 2 values, 3 needed");
        let mut dz = vec![0.0; 2];
        let msg = device_error(Cpu.loss(Loss::Mse, relu, &a, &a, &a, 4, Some(&mut dz)));
        assert_eq!(msg, "backend operation loss (gradient): buffer of 2 values, 4 needed");
        let (mut v, mut m) = (vec![0.0; 4], vec![0.0; 4]);
        let cfg = AdamConfig::default();
        let msg = device_error(Cpu.adam_step(&mut v, &a, &mut m, &mut d, &a, 4, &cfg, 1));
        assert_eq!(msg, "backend operation adam_step: buffer of 3 values, 4 needed");
        // Long enough, the same calls succeed.
        assert!(Cpu.loss(Loss::Mse, relu, &a, &a, &a, 2, Some(&mut dz)).is_ok());
        assert!(Cpu.gaussian_kl(&a, 1, 2).is_ok());
    }

    #[cfg(feature = "cuda")]
    #[test]
    fn cuda_backend_matches_cpu() -> Result<()> {
        use crate::engine::backend::cuda::Cuda;
        let cuda = match Cuda::new(0) {
            Ok(c) => c,
            Err(e) if std::env::var_os("LATENT_REQUIRE_CUDA").is_none() => {
                println!("skipped: no CUDA device ({e})");
                eprintln!("skipped: no CUDA device ({e})");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let got = deterministic(&cuda)?;
        let want = deterministic(&Cpu)?;
        let (failures, worst) = compare(&got, &want);
        println!(
            "{}: {} outputs vs the CPU, largest relative error {worst:.2e}",
            cuda.describe(),
            got.len()
        );
        assert!(failures.is_empty(), "{failures:#?}");
        let stats = statistical(&cuda)?;
        for (name, v, want, tol) in &stats {
            println!("  {name}: {v:.4} (expected {want} ± {tol})");
        }
        let bad = check_stats(&stats);
        assert!(bad.is_empty(), "{bad:#?}");
        Ok(())
    }
}
