//! Anomaly scores, threshold rules and their calibration, per-feature explanations and the
//! `[0, 1]` probability-like mapping.
//!
//! A row's **score** is its reconstruction error in model-input space (after scaling and
//! one-hot encoding), averaged over the model inputs: mean squared error ([`ScoreKind::Mse`])
//! or mean absolute error ([`ScoreKind::Mae`]). Scores are comparable across the rows of one
//! model, not across models.
//!
//! A **threshold** is calibrated once, at training time, on reference rows (the validation rows
//! when there are any, else the training rows) by one of the [`ThresholdRule`]s and saved in
//! the model file. A row is an anomaly when its score is strictly above the threshold.
//!
//! ## The rule for unknown contamination ([`ThresholdRule::Auto`])
//!
//! `Auto` puts the threshold at `exp(median(ln s) + 3 · 1.4826 · MAD(ln s))` over the reference
//! scores `s`: a robust "3 sigma" rule applied to the logarithm of the scores. Why:
//!
//! * reconstruction errors are positive and strongly right-skewed (sums of squares); their
//!   logarithm is close to symmetric, where a symmetric rule is meaningful (on the raw scores,
//!   `median + k · MAD` flags far too many normal rows of a long right tail);
//! * the median and the MAD have a 50% breakdown point: the unknown anomalies among the
//!   reference rows do not drag the threshold up, unlike `mean + k · std`, whose standard
//!   deviation is inflated by the very outliers it should flag;
//! * `1.4826 · MAD` estimates the standard deviation of a normal distribution, so with
//!   log-normal scores of normal rows about 0.13% of them exceed the threshold.
//!
//! ## The probability mapping ([`Threshold::proba`])
//!
//! With threshold `t`, median reference score `m` and the empirical distribution function `F`
//! of the reference scores (kept as quantiles in the model file):
//!
//! * `s <= t`: `p = 0.5 · F(s) / F(t)` (the score's rank among the reference rows, scaled into
//!   `[0, 0.5]`);
//! * `s > t`: `p = 1 - 0.5 · exp(-(s - t) / (t - m))` (rises from 0.5 towards 1; a score as far
//!   above the threshold as the threshold is above the median maps to `1 - 0.5/e ≈ 0.82`).
//!
//! So `p` is monotone in the score, continuous, in `[0, 1]`, and `p > 0.5` exactly when the row
//! is flagged. It is a calibrated rank, not a posterior probability.

use crate::frame::Frame;
use crate::model::{Matrix, Model};
use crate::preprocess::ColumnTransform;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which per-row score to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// Mean squared reconstruction error over the model inputs (after scaling).
    Mse,
    /// Mean absolute reconstruction error over the model inputs (after scaling).
    Mae,
    /// Variational models: negative ELBO in nats, `−log p(x | z = μ) + KL(q(z|x) ‖ p(z))`,
    /// evaluated at the posterior mean so that a row always gets the same score.
    NegElbo,
    /// Variational models: reconstruction negative log-likelihood `−log p(x | z = μ)` in nats.
    ReconNll,
    /// Models with the forest detector ([`crate::Detector::Forest`]): the Isolation Forest
    /// score in (0, 1] of the row's per-feature residuals and inputs. Explanations rank the
    /// columns by squared reconstruction error.
    Forest,
    /// Models with the ensemble detector ([`crate::Detector::Ensemble`]): the largest
    /// standardised score of its three members, mapped to a positive value (see
    /// [`crate::model::ensemble`]). Explanations rank the columns by squared reconstruction
    /// error.
    Ensemble,
}

impl ScoreKind {
    /// True for the scores of a fitted detector ([`ScoreKind::Forest`], [`ScoreKind::Ensemble`]).
    pub fn is_detector(self) -> bool {
        matches!(self, ScoreKind::Forest | ScoreKind::Ensemble)
    }

    /// The score's name as written in files and flags (`mse`, `mae`, `neg_elbo`, `recon_nll`).
    pub fn name(self) -> &'static str {
        match self {
            ScoreKind::Mse => "mse",
            ScoreKind::Mae => "mae",
            ScoreKind::NegElbo => "neg_elbo",
            ScoreKind::ReconNll => "recon_nll",
            ScoreKind::Forest => "forest",
            ScoreKind::Ensemble => "ensemble",
        }
    }

    /// What the score is, in words for reports and `latent info` ("reconstruction error (MSE)
    /// over the model inputs after scaling", "Isolation Forest score …").
    pub fn describe(self) -> &'static str {
        match self {
            ScoreKind::Mse => "reconstruction error (MSE) over the model inputs after scaling",
            ScoreKind::Mae => "reconstruction error (MAE) over the model inputs after scaling",
            ScoreKind::NegElbo => "negative ELBO in nats at the posterior mean",
            ScoreKind::ReconNll => "reconstruction negative log-likelihood in nats",
            ScoreKind::Forest => {
                "Isolation Forest score in (0, 1] over the row's per-feature residuals and inputs"
            }
            ScoreKind::Ensemble => {
                "largest standardised score of two Isolation Forests (residuals and inputs; \
                 inputs) and the kNN distance, mapped to a positive value"
            }
        }
    }

    /// Whether the score needs a variational model.
    pub fn is_variational(self) -> bool {
        matches!(self, ScoreKind::NegElbo | ScoreKind::ReconNll)
    }

    /// Error contribution of one value with reconstruction error `e` (explanations of the
    /// variational scores use the squared error; a detector's score uses the detector's
    /// [`crate::model::detector::FittedDetector::explain`]).
    #[inline]
    fn term(self, e: f32) -> f32 {
        match self {
            ScoreKind::Mae => e.abs(),
            ScoreKind::Mse
            | ScoreKind::NegElbo
            | ScoreKind::ReconNll
            | ScoreKind::Forest
            | ScoreKind::Ensemble => e * e,
        }
    }
}

/// How the threshold is chosen from reference scores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ThresholdRule {
    /// The expected share of anomalies (PyOD's `contamination`): the `1 - share` quantile.
    Contamination {
        /// Share in (0, 0.5].
        share: f32,
    },
    /// The `q` quantile of the reference scores.
    Quantile {
        /// Quantile in (0, 1).
        q: f32,
    },
    /// `mean + k · std` of the reference scores.
    MeanStd {
        /// Number of standard deviations.
        k: f32,
    },
    /// A fixed value.
    Fixed {
        /// The threshold.
        value: f32,
    },
    /// Unknown contamination: robust 3-sigma rule on the log scores (see the module docs).
    #[default]
    Auto,
}

impl ThresholdRule {
    /// True for [`ThresholdRule::Auto`].
    pub fn is_auto(&self) -> bool {
        *self == ThresholdRule::Auto
    }

    /// Checks the rule's parameter range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        match *self {
            ThresholdRule::Contamination { share } if !(share > 0.0 && share <= 0.5) => {
                bad(format!("contamination must be in (0, 0.5], got {share}"))
            }
            ThresholdRule::Quantile { q } if !(q > 0.0 && q < 1.0) => {
                bad(format!("threshold quantile must be in (0, 1), got {q}"))
            }
            ThresholdRule::MeanStd { k } if !k.is_finite() => {
                bad(format!("threshold k must be finite, got {k}"))
            }
            ThresholdRule::Fixed { value } if !value.is_finite() => {
                bad(format!("threshold value must be finite, got {value}"))
            }
            _ => Ok(()),
        }
    }

    /// Applies the rule to reference scores of kind `kind` (finite values; at least one).
    pub fn apply(&self, kind: ScoreKind, scores: &[f32]) -> Result<f32> {
        self.validate()?;
        let mut s: Vec<f32> = scores.iter().copied().filter(|v| v.is_finite()).collect();
        if s.is_empty() {
            return Err(Error::Data("no finite scores to calibrate a threshold on".into()));
        }
        s.sort_by(f32::total_cmp);
        Ok(match *self {
            ThresholdRule::Contamination { share } => quantile_sorted(&s, 1.0 - share),
            ThresholdRule::Quantile { q } => quantile_sorted(&s, q),
            ThresholdRule::MeanStd { k } => {
                let n = s.len() as f64;
                let mean = s.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
                let var = s.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
                (mean + f64::from(k) * var.sqrt()) as f32
            }
            ThresholdRule::Fixed { value } => value,
            ThresholdRule::Auto => auto_threshold(kind, &s),
        })
    }
}

/// Smallest positive score used when taking logarithms.
const LOG_FLOOR: f32 = 1e-12;
/// Number of standard deviations (estimated robustly) of the `Auto` rule.
const AUTO_K: f64 = 3.0;
/// MAD to standard deviation of a normal distribution.
const MAD_TO_STD: f64 = 1.4826;
/// Number of reference quantiles kept in the model file for [`Threshold::proba`].
const REFERENCE_POINTS: usize = 257;

/// `Auto` on sorted scores: `median + 3 · 1.4826 · MAD` on the scale where the scores of
/// normal rows are close to symmetric, mapped back: the logarithm of error-like scores
/// (`exp(median(ln s) + 3 · 1.4826 · MAD(ln s))`), the standardised score `z` of the ensemble
/// detector (its score is `e^z` below 0 and `1 + z` above).
fn auto_threshold(kind: ScoreKind, sorted: &[f32]) -> f32 {
    let ensemble = kind == ScoreKind::Ensemble;
    let to_scale = |v: f32| match v {
        v if ensemble && v >= 1.0 => f64::from(v) - 1.0,
        v => f64::from(v.max(LOG_FLOOR)).ln(),
    };
    let t: Vec<f64> = sorted.iter().map(|&v| to_scale(v)).collect();
    let med = median_sorted64(&t);
    let mut dev: Vec<f64> = t.iter().map(|l| (l - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median_sorted64(&dev);
    let at = med + AUTO_K * MAD_TO_STD * mad;
    (if ensemble && at >= 0.0 { 1.0 + at } else { at.exp() }) as f32
}

fn median_sorted64(s: &[f64]) -> f64 {
    let n = s.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Linear-interpolated quantile of sorted values (`q` clamped to [0, 1]; 0 when empty).
pub fn quantile_sorted(s: &[f32], q: f32) -> f32 {
    if s.is_empty() {
        return 0.0;
    }
    let pos = f64::from(q.clamp(0.0, 1.0)) * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    let frac = pos - lo as f64;
    (f64::from(s[lo]) * (1.0 - frac) + f64::from(s[hi]) * frac) as f32
}

/// A calibrated threshold, saved in the model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The rule that produced it.
    pub rule: ThresholdRule,
    /// The score it applies to.
    pub score: ScoreKind,
    /// Rows with a score strictly above this value are anomalies.
    pub value: f32,
    /// Number of reference rows it was calibrated on.
    #[serde(default)]
    pub rows: usize,
    /// Share of the reference rows above the threshold.
    #[serde(default)]
    pub flagged_share: f32,
    /// Evenly spaced quantiles (from the minimum to the maximum) of the reference scores, for
    /// [`Threshold::proba`].
    #[serde(default)]
    pub reference: Vec<f32>,
}

impl Threshold {
    /// Calibrates `rule` on reference `scores` of kind `kind`.
    pub fn calibrate(rule: &ThresholdRule, kind: ScoreKind, scores: &[f32]) -> Result<Threshold> {
        let value = rule.apply(kind, scores)?;
        let mut s: Vec<f32> = scores.iter().copied().filter(|v| v.is_finite()).collect();
        s.sort_by(f32::total_cmp);
        let points = REFERENCE_POINTS.min(s.len());
        let reference = if points < 2 {
            s.clone()
        } else {
            (0..points).map(|i| quantile_sorted(&s, i as f32 / (points - 1) as f32)).collect()
        };
        let flagged = s.iter().filter(|&&v| v > value).count();
        Ok(Threshold {
            rule: rule.clone(),
            score: kind,
            value,
            rows: s.len(),
            flagged_share: flagged as f32 / s.len().max(1) as f32,
            reference,
        })
    }

    /// The same calibration with another threshold value (for example `latent score
    /// --threshold V`); the rule becomes [`ThresholdRule::Fixed`].
    pub fn with_value(&self, value: f32) -> Threshold {
        let flagged = self.reference.iter().filter(|&&v| v > value).count();
        Threshold {
            rule: ThresholdRule::Fixed { value },
            value,
            flagged_share: flagged as f32 / self.reference.len().max(1) as f32,
            ..self.clone()
        }
    }

    /// True when `score` is above the threshold.
    pub fn is_anomaly(&self, score: f32) -> bool {
        score > self.value
    }

    /// Empirical distribution function of the reference scores at `s` (interpolated between
    /// the stored quantiles).
    pub fn reference_cdf(&self, s: f32) -> f32 {
        let r = &self.reference;
        match r.len() {
            0 => 0.5,
            1 => {
                if s < r[0] {
                    0.0
                } else {
                    1.0
                }
            }
            n => {
                if s < r[0] {
                    return 0.0;
                }
                if s >= r[n - 1] {
                    return 1.0;
                }
                // First index with r[i] > s; r[i-1] <= s < r[i].
                let i = r.partition_point(|&v| v <= s).clamp(1, n - 1);
                let (a, b) = (r[i - 1], r[i]);
                let frac = if b > a { (s - a) / (b - a) } else { 1.0 };
                ((i - 1) as f32 + frac) / (n - 1) as f32
            }
        }
    }

    /// The `[0, 1]` mapping of a score (see the module docs): monotone, and above 0.5 exactly
    /// when the row is an anomaly.
    pub fn proba(&self, s: f32) -> f32 {
        if s.is_nan() {
            return 1.0;
        }
        let t = self.value;
        if s <= t {
            let ft = self.reference_cdf(t);
            if ft <= 0.0 {
                return 0.0;
            }
            (0.5 * self.reference_cdf(s) / ft).clamp(0.0, 0.5)
        } else {
            let median =
                if self.reference.is_empty() { 0.0 } else { quantile_sorted(&self.reference, 0.5) };
            let spread = if t - median > f32::EPSILON * t.abs().max(1.0) {
                t - median
            } else {
                t.abs().max(f32::MIN_POSITIVE)
            };
            (1.0 - 0.5 * (-(s - t) / spread).exp()).clamp(0.5, 1.0)
        }
    }
}

/// One feature's part of a row's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The original input column (one-hot groups are summed back to their column).
    pub column: String,
    /// Share of the row's score, in [0, 1].
    pub share: f32,
}

/// Per-row scores of already-computed reconstructions `y` of inputs `x` (row-major, `width`).
pub fn row_scores(x: &[f32], y: &[f32], width: usize, kind: ScoreKind) -> Vec<f32> {
    if width == 0 {
        return Vec::new();
    }
    x.chunks_exact(width)
        .zip(y.chunks_exact(width))
        .map(|(xr, yr)| {
            let sum: f64 = xr.iter().zip(yr).map(|(a, b)| f64::from(kind.term(b - a))).sum();
            (sum / width as f64) as f32
        })
        .collect()
}

impl Model {
    /// Anomaly score of every row of `frame` (after preprocessing).
    pub fn scores(&self, frame: &Frame, kind: ScoreKind) -> Result<Vec<f32>> {
        let x = self.inputs(frame)?;
        self.score_inputs(&x, kind)
    }

    /// Anomaly score of already-preprocessed rows (row-major, model input width).
    pub fn score_inputs(&self, x: &[f32], kind: ScoreKind) -> Result<Vec<f32>> {
        Ok(self.score_and_reconstruct(x, kind)?.0)
    }

    /// Scores of already-preprocessed rows and their reconstructions (for explanations), from
    /// one forward pass. The variational scores fail on a deterministic model, the forest
    /// score on a model without the forest detector.
    pub fn score_and_reconstruct(&self, x: &[f32], kind: ScoreKind) -> Result<(Vec<f32>, Matrix)> {
        if kind.is_variational() {
            return self.variational_scores(x, kind == ScoreKind::NegElbo);
        }
        let r = self.reconstruct_inputs(x)?;
        if kind.is_detector() {
            return Ok((self.detector_scores(kind, x, &r.data)?, r));
        }
        let w = self.preprocessor().output_width();
        Ok((row_scores(x, &r.data, w, kind), r))
    }

    /// The score a threshold is calibrated on at training: the forest score for models with
    /// the forest detector, the negative ELBO for variational models (their own measure of how
    /// unlikely a row is), MAE for models trained with the MAE loss, MSE otherwise.
    pub fn default_score_kind(&self) -> ScoreKind {
        if let Some(d) = self.detector() {
            d.score_kind()
        } else if self.is_variational() {
            ScoreKind::NegElbo
        } else if self.manifest().model().loss == crate::Loss::Mae {
            ScoreKind::Mae
        } else {
            ScoreKind::Mse
        }
    }

    /// The threshold saved with the model, if it was calibrated.
    pub fn threshold(&self) -> Option<&Threshold> {
        self.manifest().anomaly.as_ref()
    }

    /// Calibrates a threshold by `rule` on the scores of `frame` and stores it in the model
    /// (saved with it).
    pub fn calibrate(
        &mut self,
        frame: &Frame,
        rule: &ThresholdRule,
        kind: ScoreKind,
    ) -> Result<&Threshold> {
        rule.validate()?;
        let scores = self.scores(frame, kind)?;
        let t = Threshold::calibrate(rule, kind, &scores)?;
        Ok(self.manifest_mut().anomaly.insert(t))
    }

    /// The `k` columns contributing most to each row's score (in the model's own score kind,
    /// [`Model::score_kind`]), largest first. One-hot groups are summed back to the original
    /// column.
    pub fn explain(&self, frame: &Frame, k: usize) -> Result<Vec<Vec<Explanation>>> {
        let x = self.inputs(frame)?;
        self.explain_inputs(&x, k, self.score_kind())
    }

    /// [`Model::explain`] on already-preprocessed rows, for a given score kind.
    pub fn explain_inputs(
        &self,
        x: &[f32],
        k: usize,
        kind: ScoreKind,
    ) -> Result<Vec<Vec<Explanation>>> {
        let r = self.reconstruct_inputs(x)?;
        Ok(explain_rows(self, x, &r.data, k, kind))
    }

    /// `[0, 1]` mapping of scores through the model's threshold (see the module docs); `None`
    /// when the model has no threshold.
    pub fn proba(&self, scores: &[f32]) -> Option<Vec<f32>> {
        let t = self.threshold()?;
        Some(scores.iter().map(|&s| t.proba(s)).collect())
    }
}

/// Top-`k` column contributions of each row, from inputs `x` and reconstructions `y`.
pub fn explain_rows(
    model: &Model,
    x: &[f32],
    y: &[f32],
    k: usize,
    kind: ScoreKind,
) -> Vec<Vec<Explanation>> {
    let columns = &model.preprocessor().columns;
    let width: usize = columns.iter().map(ColumnTransform::width).sum();
    if width == 0 {
        return Vec::new();
    }
    let detector = model.detector().filter(|d| d.score_kind() == kind);
    let term = |x: f32, r: f32| match detector {
        Some(d) => d.explain(x, r),
        None => kind.term(r - x),
    };
    let mut parts = vec![0.0f32; columns.len()];
    let mut order: Vec<usize> = (0..columns.len()).collect();
    x.chunks_exact(width)
        .zip(y.chunks_exact(width))
        .map(|(xr, yr)| {
            let mut offset = 0;
            for (p, c) in parts.iter_mut().zip(columns) {
                let w = c.width();
                *p = xr[offset..offset + w]
                    .iter()
                    .zip(&yr[offset..offset + w])
                    .map(|(&a, &b)| term(a, b))
                    .sum();
                offset += w;
            }
            let total: f32 = parts.iter().sum();
            order.sort_by(|&a, &b| parts[b].total_cmp(&parts[a]).then(a.cmp(&b)));
            order
                .iter()
                .take(k)
                .map(|&i| Explanation {
                    column: columns[i].name().to_string(),
                    share: if total > 0.0 { parts[i] / total } else { 0.0 },
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_on_known_scores() -> Result<()> {
        let s: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        let c = ThresholdRule::Contamination { share: 0.1 }.apply(ScoreKind::Mse, &s)?;
        assert!((c - 90.1).abs() < 1e-3, "{c}");
        assert_eq!(s.iter().filter(|&&v| v > c).count(), 10);
        let q = ThresholdRule::Quantile { q: 0.5 }.apply(ScoreKind::Mse, &s)?;
        assert!((q - 50.5).abs() < 1e-4);
        let m = ThresholdRule::MeanStd { k: 2.0 }.apply(ScoreKind::Mse, &s)?;
        let std = ((1..=100).map(|i| (i as f64 - 50.5).powi(2)).sum::<f64>() / 100.0).sqrt();
        assert!((f64::from(m) - (50.5 + 2.0 * std)).abs() < 1e-3);
        assert_eq!(ThresholdRule::Fixed { value: 7.0 }.apply(ScoreKind::Mse, &s)?, 7.0);
        assert!(ThresholdRule::Contamination { share: 0.0 }.apply(ScoreKind::Mse, &s).is_err());
        assert!(ThresholdRule::Quantile { q: 1.0 }.apply(ScoreKind::Mse, &s).is_err());
        assert!(ThresholdRule::Auto.apply(ScoreKind::Mse, &[]).is_err());
        Ok(())
    }

    #[test]
    fn auto_rule_ignores_outliers() -> Result<()> {
        // Log-normal-ish scores around 1 plus 5% huge outliers: the threshold stays near the
        // bulk and flags the outliers, which would inflate mean + 3 std.
        let mut s: Vec<f32> = (0..950).map(|i| (((i % 50) as f32 - 25.0) / 50.0).exp()).collect();
        s.extend(std::iter::repeat_n(1000.0, 50));
        let t = ThresholdRule::Auto.apply(ScoreKind::Mse, &s)?;
        assert!(t > 1.6 && t < 10.0, "{t}");
        let flagged = s.iter().filter(|&&v| v > t).count();
        assert_eq!(flagged, 50);
        // With 20% outliers, mean + 3 std is dragged above them all; Auto still flags them.
        s.extend(std::iter::repeat_n(1000.0, 200));
        let ms = ThresholdRule::MeanStd { k: 3.0 }.apply(ScoreKind::Mse, &s)?;
        assert!(ms > 1000.0, "{ms}");
        let t = ThresholdRule::Auto.apply(ScoreKind::Mse, &s)?;
        assert_eq!(s.iter().filter(|&&v| v > t).count(), 250, "{t}");
        Ok(())
    }

    #[test]
    fn auto_rule_on_ensemble_scores_is_three_sigma_of_z() -> Result<()> {
        // Standardised scores z uniform on [-1.5, 1.5) (median 0, MAD 0.75) stored as the
        // ensemble's g(z): the threshold is g(3 · 1.4826 · 0.75) = 1 + 3.336.
        let g = |z: f32| if z < 0.0 { z.exp() } else { 1.0 + z };
        let s: Vec<f32> = (0..3000).map(|i| g(i as f32 / 1000.0 - 1.5)).collect();
        let t = ThresholdRule::Auto.apply(ScoreKind::Ensemble, &s)?;
        assert!((t - 4.336).abs() < 0.01, "{t}");
        assert!(ThresholdRule::Auto.apply(ScoreKind::Mse, &s)? > t);
        Ok(())
    }

    #[test]
    fn proba_is_monotone_and_centred_on_the_threshold() -> Result<()> {
        let s: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let t = Threshold::calibrate(&ThresholdRule::Quantile { q: 0.9 }, ScoreKind::Mse, &s)?;
        assert!((t.proba(t.value) - 0.5).abs() < 1e-6);
        assert!(t.proba(t.value + 1e-3) > 0.5);
        assert!(t.proba(t.value - 1e-3) < 0.5);
        let mut last = -1.0;
        for i in -10..300 {
            let p = t.proba(i as f32 / 100.0);
            assert!((0.0..=1.0).contains(&p));
            assert!(p >= last, "not monotone at {i}");
            last = p;
        }
        assert!(t.proba(100.0) > 0.99);
        assert!(t.proba(-1.0) == 0.0);
        assert!((t.flagged_share - 0.1).abs() < 0.01);
        let w = t.with_value(0.5);
        assert!((w.flagged_share - 0.5).abs() < 0.01);
        Ok(())
    }

    #[test]
    fn serde_names_are_stable() -> Result<()> {
        let t = Threshold::calibrate(
            &ThresholdRule::Contamination { share: 0.05 },
            ScoreKind::Mae,
            &[1.0, 2.0, 3.0],
        )?;
        let json = serde_json::to_value(&t).map_err(|e| Error::Data(e.to_string()))?;
        assert_eq!(json["rule"]["rule"], "contamination");
        assert_eq!(json["score"], "mae");
        let back: Threshold =
            serde_json::from_value(json).map_err(|e| Error::Data(e.to_string()))?;
        assert_eq!(back, t);
        Ok(())
    }

    #[test]
    fn row_scores_average_over_inputs() {
        let x = [0.0, 0.0, 1.0, 1.0];
        let y = [1.0, -1.0, 1.0, 3.0];
        assert_eq!(row_scores(&x, &y, 2, ScoreKind::Mse), vec![1.0, 2.0]);
        assert_eq!(row_scores(&x, &y, 2, ScoreKind::Mae), vec![1.0, 1.0]);
    }
}
