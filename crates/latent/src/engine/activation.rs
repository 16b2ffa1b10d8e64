//! Element-wise activations, fused with the bias add (forward) and with the chain rule
//! (backward).

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
    /// `x` for `x > 0`, else `0.01 x`
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
            Activation::Tanh => z.tanh(),
            Activation::Gelu => 0.5 * z * (1.0 + (GELU_C * (z + GELU_A * z * z * z)).tanh()),
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
                let t = u.tanh();
                0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * z * z)
            }
        }
    }

    /// Forward over a row-major `rows x bias.len()` block: `y = f(y + bias)`, keeping the
    /// pre-activation in `pre` when given.
    pub fn bias_forward(self, y: &mut [f32], bias: &[f32], mut pre: Option<&mut [f32]>) {
        let width = bias.len();
        for (r, row) in y.chunks_exact_mut(width).enumerate() {
            match pre.as_deref_mut() {
                Some(pre) => {
                    let pre_row = &mut pre[r * width..(r + 1) * width];
                    for ((v, &b), p) in row.iter_mut().zip(bias).zip(pre_row) {
                        *p = *v + b;
                        *v = self.apply(*p);
                    }
                }
                None => self.fused_row(row, bias),
            }
        }
    }

    #[inline]
    fn fused_row(self, row: &mut [f32], bias: &[f32]) {
        // One loop per activation so each compiles to a tight vectorised pass.
        match self {
            Activation::Identity => row.iter_mut().zip(bias).for_each(|(v, b)| *v += b),
            Activation::Relu => row.iter_mut().zip(bias).for_each(|(v, b)| *v = (*v + b).max(0.0)),
            _ => row.iter_mut().zip(bias).for_each(|(v, b)| *v = self.apply(*v + b)),
        }
    }

    /// Backward in place: `dy *= f'(z)` given outputs `y` (and pre-activations for GELU).
    pub fn backward(self, dy: &mut [f32], y: &[f32], pre: Option<&[f32]>) {
        match (self, pre) {
            (Activation::Identity, _) => {}
            (Activation::Relu, _) => {
                dy.iter_mut().zip(y).for_each(|(d, &y)| *d = if y > 0.0 { *d } else { 0.0 })
            }
            (_, Some(pre)) => {
                dy.iter_mut().zip(y).zip(pre).for_each(|((d, &y), &z)| *d *= self.derivative(y, z))
            }
            (_, None) => dy.iter_mut().zip(y).for_each(|(d, &y)| *d *= self.derivative(y, 0.0)),
        }
    }
}

/// The logistic function, stable for large |x|.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_matches_finite_difference() {
        let acts = [
            Activation::Identity,
            Activation::Relu,
            Activation::LeakyRelu,
            Activation::Tanh,
            Activation::Gelu,
            Activation::Sigmoid,
        ];
        for act in acts {
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
