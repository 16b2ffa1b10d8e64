//! Plain f64 loops, written from the math and not from the engine, producing the outputs of
//! `parity::deterministic` in the same order.

use super::{patch_maps, Inputs, Out, ACTS, I, K, O, R, TOL};
use crate::config::Loss;
use crate::engine::Activation;

const GC: f64 = 0.797_884_560_802_865_4; // sqrt(2/pi)
const GA: f64 = 0.044_715;

fn f(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn apply(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Identity => z,
        Activation::Relu => z.max(0.0),
        Activation::LeakyRelu => {
            if z > 0.0 {
                z
            } else {
                0.01 * z
            }
        }
        Activation::Tanh => z.tanh(),
        Activation::Gelu => 0.5 * z * (1.0 + (GC * (z + GA * z * z * z)).tanh()),
        Activation::Sigmoid => sigmoid(z),
    }
}

fn deriv(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Identity => 1.0,
        Activation::Relu => f64::from(u8::from(z > 0.0)),
        Activation::LeakyRelu => {
            if z > 0.0 {
                1.0
            } else {
                0.01
            }
        }
        Activation::Tanh => 1.0 - z.tanh().powi(2),
        Activation::Sigmoid => sigmoid(z) * (1.0 - sigmoid(z)),
        Activation::Gelu => {
            let t = (GC * (z + GA * z * z * z)).tanh();
            0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GC * (1.0 + 3.0 * GA * z * z)
        }
    }
}

fn push(out: &mut Vec<Out>, name: impl Into<String>, values: Vec<f64>) {
    out.push(Out { name: name.into(), values, tol: TOL });
}

fn bce(z: f64, t: f64) -> f64 {
    z.max(0.0) - t * z + (-z.abs()).exp().ln_1p()
}

/// The reference outputs.
pub(crate) fn outputs(x: &Inputs) -> Vec<Out> {
    let (a, b, c, y0, bias) = (f(&x.a), f(&x.b), f(&x.c), f(&x.y0), f(&x.bias));
    let (dy, mask) = (f(&x.dy), f(&x.mask));
    let n = R * O;
    let mut out = Vec::new();
    let mut dst = vec![0.5; 3 + n];
    for r in 0..R {
        for o in 0..O {
            dst[3 + r * O + o] = (0..I).map(|i| a[r * I + i] * b[o * I + i]).sum();
        }
    }
    push(&mut out, "matmul a·bᵀ", dst);
    let mut dw = vec![0.25; I * O];
    for i in 0..I {
        for o in 0..O {
            dw[i * O + o] += (0..R).map(|r| a[r * I + i] * c[r * O + o]).sum::<f64>();
        }
    }
    push(&mut out, "matmul += aᵀ·c", dw);
    for act in ACTS {
        let pre: Vec<f64> = (0..n).map(|i| y0[i] + bias[3 + i % O]).collect();
        let y: Vec<f64> = pre.iter().map(|&z| apply(act, z)).collect();
        push(&mut out, format!("bias_act_forward {act:?}"), y.clone());
        push(&mut out, format!("bias_act_forward {act:?} pre"), pre);
        push(&mut out, format!("bias_act_forward {act:?} no pre"), y);
        let g: Vec<f64> = (0..n).map(|i| dy[i] * deriv(act, y0[i])).collect();
        push(&mut out, format!("act_backward {act:?}"), g);
        let g =
            (0..n).map(|i| if mask[i] == 0.0 { 0.0 } else { dy[i] * mask[i] * deriv(act, y0[i]) });
        push(&mut out, format!("act_backward {act:?} dropout"), g.collect());
    }
    let mut db = vec![9.0; O + 4];
    for o in 0..O {
        db[2 + o] = (0..R).map(|r| c[r * O + o]).sum();
    }
    push(&mut out, "bias_grad", db);
    for (i, p) in patch_maps().iter().enumerate() {
        let samples = 2;
        let (sl, cl, ch) = (p.source.len(), p.per_sample() * p.width(), p.source.c);
        let kh = if p.source.h == 1 { 1 } else { p.kernel };
        let img = f(&x.img[..samples * sl]);
        let ramp: Vec<f64> = (0..samples * cl).map(|j| ((j * 7 % 11) as f64 - 5.0) / 4.0).collect();
        let (mut cols, mut dst) = (vec![0.0; samples * cl], vec![0.0; samples * sl]);
        let mut j = 0;
        for s in 0..samples {
            for ry in 0..p.rows.0 {
                for rx in 0..p.rows.1 {
                    for ky in 0..kh {
                        for kx in 0..p.kernel {
                            let (py, pad_y) =
                                if kh == 1 { (ry + ky, 0) } else { (ry * p.stride + ky, p.pad) };
                            let (yy, xx) = (
                                py as i64 - pad_y as i64,
                                (rx * p.stride + kx) as i64 - p.pad as i64,
                            );
                            let inside = yy >= 0
                                && xx >= 0
                                && (yy as usize) < p.source.h
                                && (xx as usize) < p.source.w;
                            for cc in 0..ch {
                                if inside {
                                    let at =
                                        s * sl + (yy as usize * p.source.w + xx as usize) * ch + cc;
                                    cols[j] = img[at];
                                    dst[at] += ramp[j];
                                }
                                j += 1;
                            }
                        }
                    }
                }
            }
        }
        push(&mut out, format!("im2col {i}"), cols);
        push(&mut out, format!("col2im {i}"), dst);
    }
    let (h, eps, dzk) = (f(&x.h), f(&x.eps), f(&x.dzk));
    let (mut z, mut dh, mut kl) = (vec![0.0; R * K], vec![0.0; R * 2 * K], 0.0);
    let (w, rows) = (0.7, R as f64);
    for r in 0..R {
        for j in 0..K {
            let (mu, lv, e) = (h[r * 2 * K + j], h[r * 2 * K + K + j], eps[r * K + j]);
            z[r * K + j] = mu + (0.5 * lv).exp() * e;
            dh[r * 2 * K + j] = dzk[r * K + j] + w * mu / rows;
            dh[r * 2 * K + K + j] =
                dzk[r * K + j] * e * 0.5 * (0.5 * lv).exp() + w * 0.5 * (lv.exp() - 1.0) / rows;
            kl += 0.5 * (mu * mu + lv.exp() - 1.0 - lv);
        }
    }
    push(&mut out, "reparameterize", z);
    push(&mut out, "vae_head_backward", dh);
    push(&mut out, "gaussian_kl", vec![kl]);
    let (t, ls) = (f(&x.t01), f(&x.ls));
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    for act in [Activation::Identity, Activation::Sigmoid] {
        let y: Vec<f64> = x.y0.iter().map(|&z| f64::from(act.apply(z))).collect();
        let gauss = |l: &dyn Fn(usize) -> f64| {
            let mut total = 0.0;
            let mut dz = vec![0.0; n];
            for i in 0..n {
                let e = y[i] - t[i];
                let inv_var = (-2.0 * l(i)).exp();
                total += 0.5 * e * e * inv_var + l(i) + half_ln_2pi;
                dz[i] = e * inv_var / rows * deriv(act, y0[i]);
            }
            (total, dz)
        };
        for (name, l) in
            [("fixed", &(|_| 0.3) as &dyn Fn(usize) -> f64), ("learned", &|i| ls[2 + i % O])]
        {
            let (v, dz) = gauss(l);
            push(&mut out, format!("gaussian_nll {act:?} {name}"), vec![v]);
            push(&mut out, format!("gaussian_nll {act:?} {name} dz"), dz);
        }
        push(&mut out, format!("gaussian_nll {act:?} value only"), vec![gauss(&|_| -0.2).0]);
        let mut g = vec![1.0; O + 1];
        for d in 0..O {
            g[1 + d] = (0..R)
                .map(|r| {
                    (1.0 - (y[r * O + d] - t[r * O + d]).powi(2) * (-2.0 * ls[2 + d]).exp()) / rows
                })
                .sum();
        }
        push(&mut out, format!("log_sigma_grad {act:?}"), g);
        let b: f64 = (0..n).map(|i| bce(y0[i], t[i])).sum();
        push(&mut out, format!("bernoulli_nll {act:?}"), vec![b]);
        push(
            &mut out,
            format!("bernoulli_nll {act:?} dz"),
            (0..n).map(|i| (y[i] - t[i]) / 4.0).collect(),
        );
        let nf = n as f64;
        for loss in [Loss::Mse, Loss::Mae, Loss::Bce] {
            let (v, dz): (f64, Vec<f64>) = match loss {
                Loss::Mse => (
                    (0..n).map(|i| (y[i] - t[i]).powi(2)).sum::<f64>() / nf,
                    (0..n).map(|i| 2.0 * (y[i] - t[i]) * deriv(act, y0[i]) / nf).collect(),
                ),
                Loss::Mae => (
                    (0..n).map(|i| (y[i] - t[i]).abs()).sum::<f64>() / nf,
                    (0..n).map(|i| (y[i] - t[i]).signum() * deriv(act, y0[i]) / nf).collect(),
                ),
                Loss::Bce => (b / nf, (0..n).map(|i| (y[i] - t[i]) / nf).collect()),
            };
            push(&mut out, format!("loss {loss:?} {act:?}"), vec![v]);
            push(&mut out, format!("loss {loss:?} {act:?} dz"), dz);
            push(&mut out, format!("loss {loss:?} {act:?} value"), vec![v]);
        }
    }
    for decoupled in [false, true] {
        let (lr, b1, b2, eps, wd) = (0.01, 0.9f64, 0.999f64, 1e-8, 0.1);
        let (mut p, mut m, mut v) = (y0.clone(), vec![0.0; n], vec![0.0; n]);
        for step in 1..=3 {
            let (bc1, bc2) = (1.0 - b1.powi(step), 1.0 - b2.powi(step));
            for i in 0..n {
                let d = if i % 5 == 0 { 0.0 } else { f64::from(wd as f32) };
                let mut g = dy[i] * f64::from(step);
                if decoupled {
                    p[i] -= lr * d * p[i];
                } else {
                    g += d * p[i];
                }
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                p[i] -= lr / bc1 * m[i] / (v[i].sqrt() / bc2.sqrt() + eps);
            }
        }
        push(&mut out, format!("adam_step decoupled={decoupled}"), p);
        push(&mut out, format!("adam_step decoupled={decoupled} v"), v);
    }
    push(&mut out, "norm", vec![c.iter().map(|v| v * v).sum::<f64>().sqrt()]);
    push(
        &mut out,
        "scale",
        (0..n).map(|i| if i < n - 3 { c[i] * f64::from(0.37f32) } else { c[i] }).collect(),
    );
    let mut w = vec![0.0; n + 2];
    w[2..].copy_from_slice(&dy);
    push(&mut out, "write/read", w);
    out
}
