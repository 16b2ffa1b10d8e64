//! Anomaly likelihood: a causal post-processing of raw anomaly scores (after Numenta's
//! "anomaly likelihood"), which makes scores of different series comparable and quiets a
//! detector after a lasting change.
//!
//! At point `t` with raw score `r_t`: the short mean `m_t` is the mean of the last `short`
//! raw scores; `μ` and `σ` are the mean and standard deviation of the short means of the
//! `long` points before `t`. The likelihood is the Gaussian lower tail `Φ((m_t − μ) / σ)`
//! (only scores above their recent history are anomalous), reported on a log scale,
//! `ln(1 − L + 1e-10) / ln(1e-10)`, so that 0.5 is about 0.03 and `1 − 1e-5` is 0.5. The
//! deviation has a floor relative to the mean (`σ ≥ min_std_ratio · μ`), so that a series
//! whose errors hardly move is not alarmed by tiny changes, and a run of alarms is thinned:
//! a likelihood above `red` right after another one above `red` is lowered to `yellow`, so
//! that a lasting anomaly raises one alarm, not one per point. The output depends only on
//! `r_0 ..= r_t`.

use std::collections::VecDeque;

/// Settings of the anomaly likelihood.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LikelihoodConfig {
    /// Points in the short mean.
    pub short: usize,
    /// Points of history for the mean and deviation of the short means.
    pub long: usize,
    /// Points of history needed before the likelihood is computed (0 before).
    pub min_history: usize,
    /// Absolute floor of the deviation.
    pub min_std: f64,
    /// Floor of the deviation relative to the mean.
    pub min_std_ratio: f64,
    /// Likelihood of an alarm.
    pub red: f64,
    /// What an alarm right after an alarm is lowered to.
    pub yellow: f64,
}

impl Default for LikelihoodConfig {
    fn default() -> Self {
        LikelihoodConfig {
            short: 10,
            long: 8640,
            min_history: 100,
            min_std: 1e-6,
            min_std_ratio: 0.0,
            red: 0.99999,
            yellow: 0.999,
        }
    }
}

/// Standard normal lower-tail probability `Φ(z)`, from `erfc` (Numerical Recipes' Chebyshev
/// fit, relative error < 1.2e-7).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// The streaming anomaly likelihood: feed raw scores in time order with [`Likelihood::push`].
#[derive(Clone, Debug)]
pub struct Likelihood {
    config: LikelihoodConfig,
    recent: VecDeque<f64>,
    recent_sum: f64,
    history: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
    last: f64,
}

impl Likelihood {
    /// An empty history.
    pub fn new(config: LikelihoodConfig) -> Likelihood {
        Likelihood {
            config,
            recent: VecDeque::new(),
            recent_sum: 0.0,
            history: VecDeque::new(),
            sum: 0.0,
            sum_sq: 0.0,
            last: 0.0,
        }
    }

    /// The log-scaled likelihood of the newest raw score `raw`, in [0, 1].
    pub fn push(&mut self, raw: f64) -> f64 {
        let c = self.config;
        self.recent.push_back(raw);
        self.recent_sum += raw;
        if self.recent.len() > c.short.max(1) {
            self.recent_sum -= self.recent.pop_front().unwrap_or(0.0);
        }
        let m = self.recent_sum / self.recent.len() as f64;
        let out = if self.history.len() >= c.min_history.max(2) {
            let n = self.history.len() as f64;
            let mean = self.sum / n;
            let var = (self.sum_sq / n - mean * mean).max(0.0);
            let std = var.sqrt().max(c.min_std).max(c.min_std_ratio * mean.abs());
            let l = normal_cdf((m - mean) / std);
            let filtered = if l > c.red && self.last > c.red { c.yellow } else { l };
            self.last = l;
            log_scale(filtered)
        } else {
            0.0
        };
        self.history.push_back(m);
        self.sum += m;
        self.sum_sq += m * m;
        if self.history.len() > c.long.max(2) {
            let old = self.history.pop_front().unwrap_or(0.0);
            self.sum -= old;
            self.sum_sq -= old * old;
        }
        out
    }
}

/// `ln(1 − p + 1e-10) / ln(1e-10)`: 0 for `p = 0`, 1 for `p = 1`.
pub fn log_scale(p: f64) -> f64 {
    ((1.0 - p + 1e-10).ln() / (1e-10f64).ln()).clamp(0.0, 1.0)
}

/// The likelihood of every raw score of a series, in order.
pub fn likelihoods(raw: &[f64], config: LikelihoodConfig) -> Vec<f64> {
    let mut l = Likelihood::new(config);
    raw.iter().map(|&r| l.push(r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.96) - 0.025).abs() < 1e-4);
    }

    #[test]
    fn a_jump_is_likely_then_forgotten() {
        let mut raw: Vec<f64> = (0..2000).map(|i| 1.0 + 0.1 * ((i * 7919) % 13) as f64).collect();
        raw[1500] = 50.0;
        let cfg = LikelihoodConfig { long: 500, ..Default::default() };
        let l = likelihoods(&raw, cfg);
        let quiet = l[1000..1500].iter().cloned().fold(0.0, f64::max);
        assert!(l[1500] > 0.5 && quiet < 0.3, "{} {quiet}", l[1500]);
        // Causal: a prefix gives the same values.
        assert_eq!(likelihoods(&raw[..1200], cfg), l[..1200].to_vec());
    }
}
