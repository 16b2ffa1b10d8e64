//! MS-SSIM as a differentiable training distortion (`objective.distortion = "ms_ssim"`): the
//! value of `1 − MS-SSIM(x, x̂)` for images in [0, 1] and its gradient with respect to the
//! reconstruction `x̂` (the target `x` is constant).
//!
//! The definition is [`crate::codec::ms_ssim`]'s (the evaluation figure of
//! `latent benchmark-compress`), with the same window, scales and weights (shared with it):
//! an 11×11 Gaussian window (σ 1.5, "valid"), 2×2 average pooling between scales, as many
//! scales as the image allows with renormalised weights (28×28 gets two), data range 1, so
//! `C1 = 0.01²` and `C2 = 0.03²`; on 8-bit images divided by 255 the two agree exactly.
//! Several channels give the mean over the channels.
//!
//! **The clamp.** Each scale's mean contrast-structure (and the last scale's mean SSIM) is
//! clamped at [`FLOOR`] before its power, as `pytorch_msssim` clamps at 0 (ReLU) but without
//! the infinite derivative of `p^w` at 0. The gradient is that of the clamped value: a scale
//! at or below the floor passes no gradient. The evaluation metric clamps at 0, so the two
//! differ only when a scale's term falls below 10⁻⁶ (images unrelated to their target).
//!
//! **Backward.** With `μ = G∗x̂`, `s = G∗x̂²`, `σ = G∗(x x̂)` (G the window, "valid") and the
//! per-pixel `cs = (2 cov + C2) / (v_x + v_x̂ + C2)`, `l = (2 μ_x μ_x̂ + C1) / (μ_x² + μ_x̂² + C1)`,
//! the gradient of a scale's mean with respect to the three maps is formed pixel by pixel and
//! taken back through the filter (its adjoint, a "full" correlation):
//! `∂/∂x̂ = Gᵀ∂μ + 2 x̂ ⊙ Gᵀ∂s + x ⊙ Gᵀ∂σ`; coarser scales come back through the pooling's
//! adjoint (a quarter of the gradient to each of the four pixels).

use crate::codec::msssim::{filter, pool, weights_and_window};
use crate::frame::ImageShape;

/// `(0.01 · L)²` with data range `L = 1`.
const C1: f64 = 0.01 * 0.01;
/// `(0.03 · L)²` with data range `L = 1`.
const C2: f64 = 0.03 * 0.03;
/// The value each scale's term is clamped at before its power.
pub const FLOOR: f64 = 1e-6;

/// Where a row's values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Planes one after the other, `(channels, height, width)` (dense models, the input).
    ChannelsFirst,
    /// Pixels one after the other, `(height, width, channels)` (convolutional models).
    ChannelsLast,
}

/// The mean over `rows` images of `1 − MS-SSIM(target, recon)`; with `grad`, writes its
/// gradient with respect to `recon` (`rows × shape.len()` values, replacing what was there).
pub fn loss_and_grad(
    shape: ImageShape,
    layout: Layout,
    recon: &[f32],
    target: &[f32],
    rows: usize,
    mut grad: Option<&mut [f32]>,
) -> f64 {
    let (c, plane) = (shape.channels, shape.height * shape.width);
    let len = shape.len();
    if rows == 0 || len == 0 {
        return 0.0;
    }
    let index = |ch: usize, p: usize| match layout {
        Layout::ChannelsFirst => ch * plane + p,
        Layout::ChannelsLast => p * c + ch,
    };
    let (mut x, mut y, mut g) = (vec![0.0; plane], vec![0.0; plane], vec![0.0; plane]);
    // d(1 − mean over channels and rows)/d(plane MS-SSIM).
    let k = -1.0 / (c * rows) as f64;
    let mut total = 0.0;
    for r in 0..rows {
        let (yr, tr) = (&recon[r * len..(r + 1) * len], &target[r * len..(r + 1) * len]);
        for ch in 0..c {
            for p in 0..plane {
                x[p] = f64::from(tr[index(ch, p)]);
                y[p] = f64::from(yr[index(ch, p)]);
            }
            let want = grad.is_some().then_some(&mut g[..]);
            total += plane_value(&x, &y, shape.height, shape.width, want);
            if let Some(out) = grad.as_deref_mut() {
                let out = &mut out[r * len..(r + 1) * len];
                for p in 0..plane {
                    out[index(ch, p)] = (k * g[p]) as f32;
                }
            }
        }
    }
    1.0 - total / (c * rows) as f64
}

/// MS-SSIM of one `h × w` plane `y` against `x` (values in [0, 1]); with `grad`, writes
/// `∂ MS-SSIM / ∂y` (`h × w` values).
pub fn plane_value(x: &[f64], y: &[f64], h: usize, w: usize, grad: Option<&mut [f64]>) -> f64 {
    let (weights, g) = weights_and_window(h, w);
    let m = weights.len();
    let mut scales = vec![(x.to_vec(), y.to_vec(), h, w)];
    for _ in 1..m {
        let (px, py, ph, pw) = &scales[scales.len() - 1];
        let next = (pool(px, *ph, *pw), pool(py, *ph, *pw), ph / 2, pw / 2);
        scales.push(next);
    }
    let stats: Vec<Stats> =
        scales.iter().map(|(x, y, h, w)| Stats::new(x, y, *h, *w, &g)).collect();
    let parts: Vec<f64> = stats.iter().enumerate().map(|(j, s)| s.part(j + 1 == m)).collect();
    let value: f64 = parts.iter().zip(&weights).map(|(p, w)| p.max(FLOOR).powf(*w)).product();
    if let Some(grad) = grad {
        // From the coarsest scale to the finest; `carry` is the gradient at scale j + 1.
        let mut carry: Vec<f64> = Vec::new();
        for j in (0..m).rev() {
            let (x, y, h, w) = &scales[j];
            let dpart = if parts[j] > FLOOR { value * weights[j] / parts[j] } else { 0.0 };
            let mut d = stats[j].backward(x, y, *h, *w, &g, dpart, j + 1 == m);
            unpool_add(&carry, *h, *w, &mut d);
            carry = d;
        }
        grad[..h * w].copy_from_slice(&carry);
    }
    value
}

/// The filtered maps of one scale.
struct Stats {
    mux: Vec<f64>,
    muy: Vec<f64>,
    sxx: Vec<f64>,
    syy: Vec<f64>,
    sxy: Vec<f64>,
}

impl Stats {
    fn new(x: &[f64], y: &[f64], h: usize, w: usize, g: &[f64]) -> Stats {
        let xx: Vec<f64> = x.iter().map(|v| v * v).collect();
        let yy: Vec<f64> = y.iter().map(|v| v * v).collect();
        let xy: Vec<f64> = x.iter().zip(y).map(|(a, b)| a * b).collect();
        Stats {
            mux: filter(x, h, w, g),
            muy: filter(y, h, w, g),
            sxx: filter(&xx, h, w, g),
            syy: filter(&yy, h, w, g),
            sxy: filter(&xy, h, w, g),
        }
    }

    /// Per pixel `(cs, l)`, with the variances and covariance.
    fn at(&self, i: usize) -> Pixel {
        let (mx, my) = (self.mux[i], self.muy[i]);
        let vx = self.sxx[i] - mx * mx;
        let vy = self.syy[i] - my * my;
        let cov = self.sxy[i] - mx * my;
        let (num, den) = (2.0 * cov + C2, vx + vy + C2);
        let (a, b) = (2.0 * mx * my + C1, mx * mx + my * my + C1);
        Pixel { mx, my, num, den, a, b }
    }

    /// Mean SSIM (`last`) or mean contrast-structure.
    fn part(&self, last: bool) -> f64 {
        let n = self.mux.len();
        let total: f64 = (0..n)
            .map(|i| {
                let p = self.at(i);
                let cs = p.num / p.den;
                if last {
                    cs * p.a / p.b
                } else {
                    cs
                }
            })
            .sum();
        total / n as f64
    }

    /// The gradient with respect to `y` (`h × w`) of `dpart · part(last)`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        x: &[f64],
        y: &[f64],
        h: usize,
        w: usize,
        g: &[f64],
        dpart: f64,
        last: bool,
    ) -> Vec<f64> {
        let n = self.mux.len();
        let scale = dpart / n as f64;
        let (mut dmu, mut dyy, mut dxy) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for i in 0..n {
            let p = self.at(i);
            let cs = p.num / p.den;
            let l = p.a / p.b;
            // ∂(l · cs) = l ∂cs + cs ∂l; without the luminance term, ∂cs.
            let (gcs, gl) = if last { (scale * l, scale * cs) } else { (scale, 0.0) };
            let dcov = gcs * 2.0 / p.den;
            let dvy = -gcs * p.num / (p.den * p.den);
            let dl_dmy = (2.0 * p.mx * p.b - p.a * 2.0 * p.my) / (p.b * p.b);
            // cov = sxy − μx μy, vy = syy − μy².
            dxy[i] = dcov;
            dyy[i] = dvy;
            dmu[i] = -dcov * p.mx - 2.0 * dvy * p.my + gl * dl_dmy;
        }
        let (gmu, gyy, gxy) =
            (adjoint(&dmu, h, w, g), adjoint(&dyy, h, w, g), adjoint(&dxy, h, w, g));
        (0..h * w).map(|i| gmu[i] + 2.0 * y[i] * gyy[i] + x[i] * gxy[i]).collect()
    }
}

/// One pixel's filtered statistics: means, the contrast-structure's numerator and
/// denominator, the luminance's numerator and denominator.
struct Pixel {
    mx: f64,
    my: f64,
    num: f64,
    den: f64,
    a: f64,
    b: f64,
}

/// The adjoint of [`filter`]: spreads an `(h-k+1) × (w-k+1)` map back over `h × w`.
fn adjoint(d: &[f64], h: usize, w: usize, g: &[f64]) -> Vec<f64> {
    let k = g.len();
    let (oh, ow) = (h + 1 - k, w + 1 - k);
    let mut rows = vec![0.0; h * ow];
    for r in 0..oh {
        for c in 0..ow {
            let v = d[r * ow + c];
            for (i, gi) in g.iter().enumerate() {
                rows[(r + i) * ow + c] += gi * v;
            }
        }
    }
    let mut out = vec![0.0; h * w];
    for r in 0..h {
        for c in 0..ow {
            let v = rows[r * ow + c];
            for (i, gi) in g.iter().enumerate() {
                out[r * w + c + i] += gi * v;
            }
        }
    }
    out
}

/// Adds the adjoint of 2×2 average pooling of the `(h/2) × (w/2)` gradient `coarse` to the
/// `h × w` gradient `fine` (nothing when `coarse` is empty).
fn unpool_add(coarse: &[f64], h: usize, w: usize, fine: &mut [f64]) {
    if coarse.is_empty() {
        return;
    }
    let ow = w / 2;
    for r in 0..h / 2 {
        for c in 0..ow {
            let v = coarse[r * ow + c] / 4.0;
            let i = 2 * r * w + 2 * c;
            for j in [i, i + 1, i + w, i + w + 1] {
                fine[j] += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ms_ssim;

    /// A smooth pattern plus deterministic noise, in [0, 1].
    fn image(len: usize, w: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let (r, c) = ((i / w) as f32, (i % w) as f32);
                let noise = ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed * 97) % 1000)
                    as f32
                    / 1000.0;
                let v = 0.5 + 0.3 * (r / 3.0 + seed as f32).sin() * (c / 4.0).cos();
                (0.8 * v + 0.2 * noise).clamp(0.0, 1.0)
            })
            .collect()
    }

    /// Central differences of the loss on every value of the reconstruction.
    fn check(shape: ImageShape, layout: Layout, rows: usize) {
        let len = shape.len();
        let t = image(rows * len, shape.width, 1);
        let mut y = image(rows * len, shape.width, 2);
        // Part way between target and the other image: a loss well inside (0, 1).
        for (v, &tv) in y.iter_mut().zip(&t) {
            *v = 0.5 * *v + 0.5 * tv;
        }
        let mut grad = vec![0.0f32; rows * len];
        let at = loss_and_grad(shape, layout, &y, &t, rows, Some(&mut grad));
        assert!(at > 0.01 && at < 0.9, "loss {at}");
        let h = 1e-3f32;
        for i in 0..rows * len {
            let orig = y[i];
            y[i] = orig + h;
            let up = loss_and_grad(shape, layout, &y, &t, rows, None);
            y[i] = orig - h;
            let down = loss_and_grad(shape, layout, &y, &t, rows, None);
            y[i] = orig;
            // The f32 step as stored, not the nominal one.
            let step = f64::from(orig + h) - f64::from(orig - h);
            let fd = (up - down) / step;
            let g = f64::from(grad[i]);
            assert!((fd - g).abs() <= 1e-3 * g.abs() + 1e-6, "{shape:?} value {i}: fd {fd} vs {g}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences_one_and_two_scales() {
        let one = ImageShape { channels: 1, height: 12, width: 12 };
        assert_eq!(weights_and_window(12, 12).0.len(), 1);
        check(one, Layout::ChannelsFirst, 2);
        let two = ImageShape { channels: 1, height: 24, width: 24 };
        assert_eq!(weights_and_window(24, 24).0.len(), 2);
        check(two, Layout::ChannelsLast, 1);
        // Odd sides: pooling drops the last row and column.
        check(ImageShape { channels: 1, height: 23, width: 25 }, Layout::ChannelsFirst, 1);
        // Smaller than the window: a cut window, one scale.
        check(ImageShape { channels: 1, height: 7, width: 9 }, Layout::ChannelsFirst, 1);
    }

    #[test]
    fn gradient_matches_finite_differences_two_channels() {
        let shape = ImageShape { channels: 2, height: 22, width: 24 };
        check(shape, Layout::ChannelsLast, 1);
        check(shape, Layout::ChannelsFirst, 1);
    }

    #[test]
    fn agrees_with_the_evaluation_metric_on_8_bit_images() {
        for (h, w, c) in [(28, 28, 1), (12, 12, 1), (24, 30, 2), (64, 64, 1)] {
            let len = h * w * c;
            let a = image(len, w, 3);
            let b = image(len, w, 4);
            let q =
                |v: &[f32]| -> Vec<u8> { v.iter().map(|x| (x * 255.0).round() as u8).collect() };
            let (qa, qb) = (q(&a), q(&b));
            let want = ms_ssim(&qa, &qb, h, w, c).unwrap();
            let to_unit =
                |v: &[u8]| -> Vec<f32> { v.iter().map(|&x| f32::from(x) / 255.0).collect() };
            let shape = ImageShape { channels: c, height: h, width: w };
            let got = 1.0
                - loss_and_grad(
                    shape,
                    Layout::ChannelsFirst,
                    &to_unit(&qb),
                    &to_unit(&qa),
                    1,
                    None,
                );
            assert!((got - want).abs() < 1e-4, "{h}x{w}x{c}: {got} vs {want}");
            // The same pixels in the channels-last layout.
            if c > 1 {
                let plane = h * w;
                let hwc = |v: &[u8]| -> Vec<f32> {
                    (0..len).map(|i| f32::from(v[(i % c) * plane + i / c]) / 255.0).collect()
                };
                let got =
                    1.0 - loss_and_grad(shape, Layout::ChannelsLast, &hwc(&qb), &hwc(&qa), 1, None);
                assert!((got - want).abs() < 1e-4, "HWC {h}x{w}x{c}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn identical_images_lose_nothing_and_the_floor_stops_the_gradient() {
        let shape = ImageShape { channels: 1, height: 24, width: 24 };
        let a = image(shape.len(), 24, 1);
        let mut grad = vec![1.0f32; shape.len()];
        let l = loss_and_grad(shape, Layout::ChannelsFirst, &a, &a, 1, Some(&mut grad));
        assert!(l.abs() < 1e-12, "{l}");
        assert!(grad.iter().all(|g| g.abs() < 1e-6));
        // An inverted image: negative structure at every scale, clamped; no gradient, finite.
        let inv: Vec<f32> = a.iter().map(|v| 1.0 - v).collect();
        let l = loss_and_grad(shape, Layout::ChannelsFirst, &inv, &a, 1, Some(&mut grad));
        assert!(l.is_finite() && l > 0.5, "{l}");
        assert!(grad.iter().all(|g| *g == 0.0));
    }
}
