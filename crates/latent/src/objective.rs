//! Reconstruction losses: value, gradient with respect to the output pre-activation, and
//! per-row errors for evaluation.

use crate::config::Loss;
use crate::engine::Activation;

/// Mean loss over all values, and `dz = ∂L/∂z` for the output pre-activation `z`.
///
/// `y = act(z)` is the output, `t` the target. Per value, with N values in all:
/// MSE `(y-t)²/N`, `dz = 2(y-t) act'(z)/N`; MAE `|y-t|/N`, `dz = sign(y-t) act'(z)/N`;
/// BCE (sigmoid output) `softplus(z) - t z`, `dz = (y-t)/N`, computed from `z` for stability.
pub fn loss_and_grad(
    loss: Loss,
    act: Activation,
    y: &[f32],
    z: &[f32],
    t: &[f32],
    dz: &mut [f32],
) -> f64 {
    let n = y.len() as f32;
    let mut total = 0.0f64;
    match loss {
        Loss::Mse => {
            for (((d, &y), &z), &t) in dz.iter_mut().zip(y).zip(z).zip(t) {
                let e = y - t;
                total += f64::from(e * e);
                *d = 2.0 * e / n * act.derivative(y, z);
            }
        }
        Loss::Mae => {
            for (((d, &y), &z), &t) in dz.iter_mut().zip(y).zip(z).zip(t) {
                let e = y - t;
                total += f64::from(e.abs());
                *d = sign(e) / n * act.derivative(y, z);
            }
        }
        Loss::Bce => {
            for (((d, &y), &z), &t) in dz.iter_mut().zip(y).zip(z).zip(t) {
                total += f64::from(bce_from_logit(z, t));
                *d = (y - t) / n;
            }
        }
    }
    total / f64::from(n)
}

/// Mean loss over all values (no gradient).
pub fn loss_value(loss: Loss, y: &[f32], z: &[f32], t: &[f32]) -> f64 {
    let total: f64 = match loss {
        Loss::Mse => y.iter().zip(t).map(|(y, t)| f64::from((y - t) * (y - t))).sum(),
        Loss::Mae => y.iter().zip(t).map(|(y, t)| f64::from((y - t).abs())).sum(),
        Loss::Bce => z.iter().zip(t).map(|(&z, &t)| f64::from(bce_from_logit(z, t))).sum(),
    };
    total / y.len().max(1) as f64
}

/// `-(t ln σ(z) + (1-t) ln(1-σ(z)))` = `max(z,0) - t z + ln(1 + e^-|z|)`.
#[inline]
pub fn bce_from_logit(z: f32, t: f32) -> f32 {
    z.max(0.0) - t * z + (-z.abs()).exp().ln_1p()
}

#[inline]
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Reconstruction error of each row, averaged over its values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowErrors {
    /// Mean squared error per row.
    pub mse: Vec<f32>,
    /// Mean absolute error per row.
    pub mae: Vec<f32>,
}

impl RowErrors {
    /// Appends the errors of `rows` rows of width `width`.
    pub fn extend(&mut self, y: &[f32], t: &[f32], width: usize) {
        for (yr, tr) in y.chunks_exact(width).zip(t.chunks_exact(width)) {
            let (mut se, mut ae) = (0.0f64, 0.0f64);
            for (a, b) in yr.iter().zip(tr) {
                let e = f64::from(a - b);
                se += e * e;
                ae += e.abs();
            }
            self.mse.push((se / width as f64) as f32);
            self.mae.push((ae / width as f64) as f32);
        }
    }
}
