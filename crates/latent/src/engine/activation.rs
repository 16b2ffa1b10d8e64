//! Element-wise activations, fused with the bias add (forward) and with the chain rule
//! (backward).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Slope of `leaky_relu` for negative inputs (PyTorch's default).
pub const LEAKY_SLOPE: f32 = 0.01;

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `x`
    Identity,
    /// `max(x, 0)`
    Relu,
    /// `x` for `x > 0`, else `0.01 x` (`leaky_relu`; `leaky-relu` as on the command line)
    #[serde(alias = "leaky-relu")]
    LeakyRelu,
    /// `tanh(x)`
    Tanh,
    /// `x Φ(x)` in its tanh form: `0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³)))`
    Gelu,
    /// `1 / (1 + e^-x)`
    Sigmoid,
}

const GELU_C: f32 = 0.797_884_6; // sqrt(2/pi)
const GELU_A: f32 = 0.044_715;

impl Activation {
    /// Every activation, in the order of [`Activation::name`]'s listing.
    pub const ALL: [Activation; 6] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Sigmoid,
    ];

    /// Its name in configuration files (`leaky_relu`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// The activation called `name` (`-` may stand for `_`, as on the command line).
    pub fn from_name(name: &str) -> Option<Activation> {
        let name = name.replace('-', "_");
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether the backward pass needs the pre-activation (else the output suffices).
    pub fn needs_preactivation(self) -> bool {
        matches!(self, Activation::Gelu)
    }

    /// `f(z)` for one value.
    #[inline]
    pub fn apply(self, z: f32) -> f32 {
        match self {
            Activation::Identity => z,
            Activation::Relu => z.max(0.0),
            Activation::LeakyRelu => {
                if z > 0.0 {
                    z
                } else {
                    LEAKY_SLOPE * z
                }
            }
            Activation::Tanh => tanh(z),
            Activation::Gelu => gelu(z),
            Activation::Sigmoid => sigmoid(z),
        }
    }

    /// `f'(z)` from the output `y = f(z)` and (for GELU) the pre-activation `z`.
    #[inline]
    pub fn derivative(self, y: f32, z: f32) -> f32 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu => {
                if y > 0.0 {
                    1.0
                } else {
                    LEAKY_SLOPE
                }
            }
            Activation::Tanh => 1.0 - y * y,
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Gelu => {
                let u = GELU_C * (z + GELU_A * z * z * z);
                let t = tanh(u);
                0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * z * z)
            }
        }
    }

    /// Forward over a row-major `rows x bias.len()` block: `y = f(y + bias)`, keeping the
    /// pre-activation in `pre` when given. Large blocks are split over threads (element-wise,
    /// so the result does not depend on the split).
    pub fn bias_forward(self, y: &mut [f32], bias: &[f32], pre: Option<&mut [f32]>) {
        let width = bias.len().max(1);
        let block = rows_per_block(width);
        if y.len() <= block * width {
            return self.bias_rows(y, bias, pre); // one block: no round trip through the pool
        }
        match pre {
            Some(pre) => y
                .par_chunks_mut(block * width)
                .zip(pre.par_chunks_mut(block * width))
                .for_each(|(y, pre)| self.bias_rows(y, bias, Some(pre))),
            None => y.par_chunks_mut(block * width).for_each(|y| self.bias_rows(y, bias, None)),
        }
    }

    /// `row = f(row + bias)` for every row of `y`, compiled for AVX2 where the CPU has it (8
    /// lanes instead of the baseline's 4). The values are the same either way: each lane
    /// computes what the scalar code would, and no fused multiply-adds are introduced.
    fn bias_rows(self, y: &mut [f32], bias: &[f32], pre: Option<&mut [f32]>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { self.bias_rows_avx2(y, bias, pre) };
            return;
        }
        self.bias_rows_portable(y, bias, pre);
    }

    /// [`Activation::bias_rows`] compiled with AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn bias_rows_avx2(self, y: &mut [f32], bias: &[f32], pre: Option<&mut [f32]>) {
        self.bias_rows_portable(y, bias, pre);
    }

    #[inline(always)]
    fn bias_rows_portable(self, y: &mut [f32], bias: &[f32], pre: Option<&mut [f32]>) {
        let width = bias.len().max(1);
        match pre {
            Some(pre) => {
                for (row, pre_row) in y.chunks_exact_mut(width).zip(pre.chunks_exact_mut(width)) {
                    row.iter_mut().zip(bias).zip(pre_row).for_each(|((v, b), p)| {
                        *p = *v + b;
                        *v += b;
                    });
                    self.apply_slice(row);
                }
            }
            None => {
                for row in y.chunks_exact_mut(width) {
                    row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
                    self.apply_slice(row);
                }
            }
        }
    }

    /// `v = f(v)` over a slice, one tight (vectorisable) loop per activation.
    #[inline(always)]
    pub fn apply_slice(self, v: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
            Activation::LeakyRelu => {
                v.iter_mut().for_each(|x| *x = if *x > 0.0 { *x } else { LEAKY_SLOPE * *x })
            }
            Activation::Tanh => v.iter_mut().for_each(|x| *x = tanh(*x)),
            Activation::Sigmoid => v.iter_mut().for_each(|x| *x = sigmoid(*x)),
            Activation::Gelu => v.iter_mut().for_each(|x| *x = gelu(*x)),
        }
    }

    /// Backward in place: `dy *= f'(z)` given outputs `y` (and pre-activations for GELU).
    /// Large blocks are split over threads.
    pub fn backward(self, dy: &mut [f32], y: &[f32], pre: Option<&[f32]>) {
        const BLOCK: usize = 1 << 15;
        match (self, pre) {
            (Activation::Identity, _) => {}
            (Activation::Gelu, Some(pre)) => dy
                .par_chunks_mut(BLOCK)
                .zip(y.par_chunks(BLOCK))
                .zip(pre.par_chunks(BLOCK))
                .for_each(|((d, y), z)| {
                    d.iter_mut().zip(y).zip(z).for_each(|((d, &y), &z)| *d *= self.derivative(y, z))
                }),
            _ => dy.par_chunks_mut(BLOCK).zip(y.par_chunks(BLOCK)).for_each(|(d, y)| match self {
                Activation::Relu => {
                    d.iter_mut().zip(y).for_each(|(d, &y)| *d = if y > 0.0 { *d } else { 0.0 })
                }
                Activation::LeakyRelu => d
                    .iter_mut()
                    .zip(y)
                    .for_each(|(d, &y)| *d *= if y > 0.0 { 1.0 } else { LEAKY_SLOPE }),
                Activation::Tanh => d.iter_mut().zip(y).for_each(|(d, &y)| *d *= 1.0 - y * y),
                Activation::Sigmoid => d.iter_mut().zip(y).for_each(|(d, &y)| *d *= y * (1.0 - y)),
                _ => d.iter_mut().zip(y).for_each(|(d, &y)| *d *= self.derivative(y, 0.0)),
            }),
        }
    }
}

/// Rows per parallel block so that a block holds about 32k values.
fn rows_per_block(width: usize) -> usize {
    ((1 << 15) / width).max(1)
}

/// `e^x` for f32 without branches or library calls, so loops over it vectorise: round
/// `x / ln 2` to an integer `n`, evaluate a degree-6 polynomial on the remainder, and scale
/// by `2^n` through the exponent bits. Relative error about 2e-7 over the clamped range.
#[inline(always)]
pub fn fast_exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (0.166_666_67
                    + r * (0.041_666_66 + r * (0.008_333_452 + r * 0.001_388_889)))));
    // The low bits of `shifted` hold n in two's complement; shifting n + 127 into the exponent
    // field drops the rest (integer ops only, so the loop stays vectorised).
    let scale = f32::from_bits(shifted.to_bits().wrapping_add(127) << 23);
    p * scale
}

/// The logistic function `1 / (1 + e^-x)`, branch-free.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + fast_exp(-x))
}

/// `tanh(x) = 1 - 2 / (e^{2x} + 1)`, branch-free.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let x = x.clamp(-9.0, 9.0);
    1.0 - 2.0 / (fast_exp(2.0 * x) + 1.0)
}

/// GELU in its tanh form.
#[inline(always)]
pub fn gelu(z: f32) -> f32 {
    0.5 * z * (1.0 + tanh(GELU_C * (z + GELU_A * z * z * z)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_accurate() {
        for i in -8700..8800 {
            let x = i as f32 / 100.0;
            let (got, want) = (fast_exp(x), f64::from(x).exp());
            let rel = ((f64::from(got) - want) / want).abs();
            assert!(rel < 1e-6, "exp({x}) = {got}, want {want}");
        }
        assert!((sigmoid(-200.0) - 0.0).abs() < 1e-30 && (sigmoid(200.0) - 1.0).abs() < 1e-7);
        assert!((tanh(0.3) - 0.3f32.tanh()).abs() < 1e-6);
    }

    #[test]
    fn names_round_trip() {
        for act in Activation::ALL {
            assert_eq!(Activation::from_name(act.name()), Some(act));
        }
        assert_eq!(Activation::from_name("leaky-relu"), Some(Activation::LeakyRelu));
        assert_eq!(Activation::from_name("softsign"), None);
    }

    #[test]
    fn derivative_matches_finite_difference() {
        for act in Activation::ALL {
            for &z in &[-2.3f32, -0.7, 0.4, 1.9] {
                let h = 1e-3f64;
                let f = |x: f64| f64::from(act.apply(x as f32));
                let fd = (f(f64::from(z) + h) - f(f64::from(z) - h)) / (2.0 * h);
                let an = f64::from(act.derivative(act.apply(z), z));
                assert!((fd - an).abs() < 2e-3, "{act:?} at {z}: {fd} vs {an}");
            }
        }
    }
}
