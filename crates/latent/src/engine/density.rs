//! A learned per-channel factorized density for a code to be entropy-coded (the "factorized
//! prior" of Ballé et al. 2018, in its mixture-of-logistics form).
//!
//! Channel `c` has `K` logistic components with mixture logits `π`, means `μ` and log scales
//! `ℓ` (`s = e^ℓ`, `w = softmax(π)`). The density of a code value convolved with the unit
//! uniform (the noise that stands in for rounding in training) is
//!
//! `p(ỹ) = Σ_k w_k [σ((ỹ + ½ − μ_k) / s_k) − σ((ỹ − ½ − μ_k) / s_k)]`,
//!
//! which at an integer `ỹ` is exactly the probability of the rounded value. The rate is
//! `R = −Σ log₂ max(p, P_MIN)` over every value. With `a_k = (ỹ + ½ − μ_k)/s_k`,
//! `b_k = (ỹ − ½ − μ_k)/s_k`, `q_k = σ(a_k) − σ(b_k)` and `g_k = σ'(a_k) − σ'(b_k)`
//! (`σ' = σ(1 − σ)`), the gradients of `p` are
//!
//! - `∂p/∂ỹ = Σ_k w_k g_k / s_k`, `∂p/∂μ_k = −w_k g_k / s_k`,
//! - `∂p/∂ℓ_k = −w_k (σ'(a_k) a_k − σ'(b_k) b_k)`,
//! - `∂p/∂π_k = w_k (q_k − p)`,
//!
//! and `∂R/∂θ = −(∂p/∂θ) / (p ln 2)` (zero where `p` is clamped at `P_MIN`).
//!
//! Parameters are `[C, K]` tensors `{prefix}.logits`, `{prefix}.means`, `{prefix}.log_scales`.
//! A code row is channels last, so value `j` of a row belongs to channel `j % C`.

use super::{ParamId, Params};

/// Smallest probability one value is given in the rate (a likelihood bound).
pub const P_MIN: f64 = 1e-9;

/// The learned density of a code with `channels` channels.
#[derive(Clone, Debug)]
pub struct Density {
    /// Mixture logits, `[C, K]`.
    pub logits: ParamId,
    /// Component means, `[C, K]`.
    pub means: ParamId,
    /// Component log scales, `[C, K]`.
    pub log_scales: ParamId,
    /// Channels `C`.
    pub channels: usize,
    /// Components per channel `K`.
    pub components: usize,
}

/// `σ(x)` and `σ'(x)` in f64.
fn sigmoid(x: f64) -> (f64, f64) {
    let s = 1.0 / (1.0 + (-x).exp());
    (s, s * (1.0 - s))
}

/// `σ(a) − σ(b)` for `a > b`, accurate in both tails (reflected where both are near 1).
fn sigmoid_diff(a: f64, b: f64) -> f64 {
    if a + b > 0.0 {
        sigmoid(-b).0 - sigmoid(-a).0
    } else {
        sigmoid(a).0 - sigmoid(b).0
    }
}

/// One channel's parameters, read once.
struct Channel {
    w: Vec<f64>,
    mu: Vec<f64>,
    s: Vec<f64>,
}

impl Density {
    /// A density over `channels` channels with `components` logistics each.
    pub fn new(params: &mut Params, prefix: &str, channels: usize, components: usize) -> Self {
        let shape = [channels, components];
        let logits = params.add(format!("{prefix}.logits"), &shape, false);
        let means = params.add(format!("{prefix}.means"), &shape, false);
        let log_scales = params.add(format!("{prefix}.log_scales"), &shape, false);
        Density { logits, means, log_scales, channels, components }
    }

    /// Starting values (no random draws): equal weights, means spread over `[−1, 1]`, scale 1.
    pub fn init(&self, params: &mut Params) {
        let k = self.components;
        params.value_mut(self.logits).fill(0.0);
        params.value_mut(self.log_scales).fill(0.0);
        for (i, m) in params.value_mut(self.means).iter_mut().enumerate() {
            let j = i % k;
            *m = if k > 1 { -1.0 + 2.0 * j as f32 / (k - 1) as f32 } else { 0.0 };
        }
    }

    fn channel(&self, params: &Params, c: usize) -> Channel {
        let k = self.components;
        let r = c * k..(c + 1) * k;
        let logits = &params.value(self.logits)[r.clone()];
        let top = logits.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let e: Vec<f64> = logits.iter().map(|&l| f64::from(l - top).exp()).collect();
        let sum: f64 = e.iter().sum();
        Channel {
            w: e.iter().map(|v| v / sum).collect(),
            mu: params.value(self.means)[r.clone()].iter().map(|&m| f64::from(m)).collect(),
            s: params.value(self.log_scales)[r].iter().map(|&l| f64::from(l).exp()).collect(),
        }
    }

    /// `p(ỹ)` of channel `c` (the probability of the integer `ỹ` when it is one).
    pub fn probability(&self, params: &Params, c: usize, y: f64) -> f64 {
        let ch = self.channel(params, c);
        (0..self.components)
            .map(|k| {
                ch.w[k]
                    * sigmoid_diff((y + 0.5 - ch.mu[k]) / ch.s[k], (y - 0.5 - ch.mu[k]) / ch.s[k])
            })
            .sum()
    }

    /// The rate `R` of `z` (rows of code, channels last) in bits.
    pub fn bits(&self, params: &Params, z: &[f32]) -> f64 {
        let chans: Vec<Channel> = (0..self.channels).map(|c| self.channel(params, c)).collect();
        z.iter()
            .enumerate()
            .map(|(j, &y)| {
                let ch = &chans[j % self.channels];
                let y = f64::from(y);
                let p: f64 = (0..self.components)
                    .map(|k| {
                        let (a, b) =
                            ((y + 0.5 - ch.mu[k]) / ch.s[k], (y - 0.5 - ch.mu[k]) / ch.s[k]);
                        ch.w[k] * sigmoid_diff(a, b)
                    })
                    .sum();
                -p.max(P_MIN).log2()
            })
            .sum()
    }

    /// The rate of `z` in bits times `scale`; adds `scale · ∂R/∂z` to `dz` and writes
    /// `scale · ∂R/∂θ` into the density's gradients.
    #[allow(clippy::needless_range_loop)] // component indices read as the formulas above
    pub fn backward(&self, params: &mut Params, z: &[f32], scale: f64, dz: &mut [f32]) -> f64 {
        let (c_n, k_n) = (self.channels, self.components);
        let chans: Vec<Channel> = (0..c_n).map(|c| self.channel(params, c)).collect();
        let mut g_logit = vec![0.0f64; c_n * k_n];
        let mut g_mu = vec![0.0f64; c_n * k_n];
        let mut g_ls = vec![0.0f64; c_n * k_n];
        let mut q = vec![0.0f64; k_n];
        let mut total = 0.0;
        for (j, (&y, d)) in z.iter().zip(dz.iter_mut()).enumerate() {
            let c = j % c_n;
            let ch = &chans[c];
            let y = f64::from(y);
            let mut p = 0.0;
            for k in 0..k_n {
                let (a, b) = ((y + 0.5 - ch.mu[k]) / ch.s[k], (y - 0.5 - ch.mu[k]) / ch.s[k]);
                q[k] = sigmoid_diff(a, b);
                p += ch.w[k] * q[k];
            }
            total -= p.max(P_MIN).log2();
            if p <= P_MIN {
                continue;
            }
            // ∂R/∂p, scaled.
            let dp = -scale / (p * std::f64::consts::LN_2);
            let mut dy = 0.0;
            for k in 0..k_n {
                let (a, b) = ((y + 0.5 - ch.mu[k]) / ch.s[k], (y - 0.5 - ch.mu[k]) / ch.s[k]);
                let (da, db) = (sigmoid(a).1, sigmoid(b).1);
                let g = (da - db) / ch.s[k];
                dy += ch.w[k] * g;
                let i = c * k_n + k;
                g_mu[i] -= dp * ch.w[k] * g;
                g_ls[i] -= dp * ch.w[k] * (da * a - db * b);
                g_logit[i] += dp * ch.w[k] * (q[k] - p);
            }
            *d += (dp * dy) as f32;
        }
        for (id, g) in [(self.logits, g_logit), (self.means, g_mu), (self.log_scales, g_ls)] {
            let (_, grad) = params.value_and_grad_mut(id, id);
            grad.iter_mut().zip(g).for_each(|(o, v)| *o = v as f32);
        }
        total * scale
    }

    /// Channel `c`'s integer range worth a table: every value within 20 scales of a
    /// component's mean (the logistic tail beyond holds under `e^−20` of its mass).
    pub fn support(&self, params: &Params, c: usize) -> (f64, f64) {
        let ch = self.channel(params, c);
        let lo =
            (0..self.components).map(|k| ch.mu[k] - 20.0 * ch.s[k]).fold(f64::INFINITY, f64::min);
        let hi = (0..self.components)
            .map(|k| ch.mu[k] + 20.0 * ch.s[k])
            .fold(f64::NEG_INFINITY, f64::max);
        (lo.floor(), hi.ceil())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn density() -> (Params, Density) {
        let mut params = Params::new();
        let d = Density::new(&mut params, "entropy", 2, 3);
        d.init(&mut params);
        let v = [0.3, -0.2, 0.1, 0.0, 0.5, -0.4];
        params.value_mut(d.logits).copy_from_slice(&v);
        params.value_mut(d.means).copy_from_slice(&[-1.2, 0.1, 0.9, -0.3, 0.4, 2.0]);
        params.value_mut(d.log_scales).copy_from_slice(&[0.2, -0.5, 0.0, 0.6, -0.2, 0.1]);
        (params, d)
    }

    /// Every gradient of the rate against central differences of [`Density::bits`].
    #[test]
    fn rate_gradients_match_finite_differences() {
        let (mut params, d) = density();
        let z = [0.3f32, -1.7, 2.2, 0.05, -0.6, 1.4];
        let mut dz = vec![0.0f32; z.len()];
        let r = d.backward(&mut params, &z, 1.0, &mut dz);
        assert!((r - d.bits(&params, &z)).abs() < 1e-9);
        let h = 1e-3f32;
        for j in 0..z.len() {
            let (mut up, mut down) = (z, z);
            up[j] += h;
            down[j] -= h;
            let num = (d.bits(&params, &up) - d.bits(&params, &down)) / (2.0 * f64::from(h));
            assert!(
                (num - f64::from(dz[j])).abs() < 2e-3 * (1.0 + num.abs()),
                "z {j}: {num} vs {}",
                dz[j]
            );
        }
        for id in [d.logits, d.means, d.log_scales] {
            let analytic = params.grad(id).to_vec();
            for (i, &a) in analytic.iter().enumerate() {
                let orig = params.value(id)[i];
                params.value_mut(id)[i] = orig + h;
                let up = d.bits(&params, &z);
                params.value_mut(id)[i] = orig - h;
                let down = d.bits(&params, &z);
                params.value_mut(id)[i] = orig;
                let num = (up - down) / (2.0 * f64::from(h));
                let a = f64::from(a);
                assert!((num - a).abs() < 2e-3 * (1.0 + num.abs()), "param {i}: {num} vs {a}");
            }
        }
    }

    #[test]
    fn integer_probabilities_sum_to_one() {
        let (params, d) = density();
        for c in 0..2 {
            let (lo, hi) = d.support(&params, c);
            let sum: f64 =
                (lo as i64..=hi as i64).map(|v| d.probability(&params, c, v as f64)).sum();
            assert!((sum - 1.0).abs() < 1e-6, "channel {c}: {sum}");
        }
        // Far tails stay positive and finite (no cancellation to zero or below).
        assert!(d.probability(&params, 0, 60.0) >= 0.0);
        assert!(d.bits(&params, &[1e6, -1e6]).is_finite());
    }
}
