//! RecVAE's composite prior (Shenbin et al. 2020, "RecVAE: a New Variational Autoencoder for
//! Top-N Recommendations with Implicit Feedback"): per code dimension, a mixture of the
//! standard normal, the posterior of the encoder as it was at the start of the epoch, and a
//! wide normal, `p(z) = 0.15 N(0, 1) + 0.75 N(μ_old, σ²_old) + 0.1 N(0, e¹⁰)`. The KL term
//! becomes the single-sample estimate `log q(z|x) − log p(z)` at the sampled `z`; the pull
//! towards the old posterior keeps each update from forgetting what earlier epochs learnt.

/// Mixture weights: standard normal, old posterior, wide normal.
const WEIGHTS: [f32; 3] = [0.15, 0.75, 0.1];
/// Log-variance of the wide component.
const WIDE_LOGVAR: f32 = 10.0;
/// `ln 2π`.
const LN_2PI: f32 = 1.837_877;

/// `ln N(z; mean, e^logvar)` and its derivative in `z`.
fn log_normal(z: f32, mean: f32, logvar: f32) -> (f32, f32) {
    let inv_var = (-logvar).exp();
    let d = z - mean;
    (-0.5 * (logvar + LN_2PI + d * d * inv_var), -d * inv_var)
}

/// One code dimension at `z = μ + ε σ` (posterior log-variance `logvar`, old posterior
/// `old_mu`, `old_logvar`): returns `log q(z) − log p(z)` and `∂(−log p(z))/∂z`. (The total
/// derivative of `log q(z)` is `0` in `μ` and `−½` in `log σ²`; the caller adds it.)
pub fn term(z: f32, eps: f32, logvar: f32, old_mu: f32, old_logvar: f32) -> (f32, f32) {
    let log_q = -0.5 * (logvar + LN_2PI + eps * eps);
    let parts = [
        log_normal(z, 0.0, 0.0),
        log_normal(z, old_mu, old_logvar),
        log_normal(z, 0.0, WIDE_LOGVAR),
    ];
    let logs: [f32; 3] = std::array::from_fn(|k| WEIGHTS[k].ln() + parts[k].0);
    let max = logs.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let sum: f32 = logs.iter().map(|&l| (l - max).exp()).sum();
    let log_p = max + sum.ln();
    let dlogp: f32 = logs.iter().zip(&parts).map(|(&l, p)| (l - log_p).exp() * p.1).sum();
    (log_q - log_p, -dlogp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_derivative_matches_finite_differences() {
        for (z, lv, om, olv) in [(0.3f32, -0.5f32, 0.1f32, -1.0f32), (-1.2, 0.2, 0.8, -2.0)] {
            let h = 1e-3;
            let (up, _) = term(z + h, 0.0, lv, om, olv);
            let (down, _) = term(z - h, 0.0, lv, om, olv);
            let (_, g) = term(z, 0.0, lv, om, olv);
            assert!(((up - down) / (2.0 * h) - g).abs() < 1e-2, "{z}: {g}");
        }
    }
}
