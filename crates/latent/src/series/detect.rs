//! The default time-series detector: a small dense autoencoder over sliding windows, fitted on
//! the first points of one series, whose causal window errors go through the anomaly
//! likelihood ([`super::likelihood`]). One setting for every series.

use super::likelihood::{likelihoods, LikelihoodConfig};
use super::{Series, SeriesSpec};
use crate::config::{FitConfig, Scaling};
use crate::engine::Activation;
use crate::frame::Frame;
use crate::model::Model;
use crate::score::ScoreKind;
use crate::train::Silent;
use crate::{Error, Result};

/// Settings of [`detect`].
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Points per window.
    pub window: usize,
    /// Model and training settings of the window autoencoder.
    pub fit: FitConfig,
    /// Post-processing of the raw window errors.
    pub likelihood: LikelihoodConfig,
    /// A value beyond the range seen so far by more than this share of the range scores 1
    /// (a "spatial" anomaly); `None` turns the rule off.
    pub spatial_tolerance: Option<f64>,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        let mut fit = FitConfig::default();
        fit.model.activation = Activation::Tanh;
        fit.model.latent = Some(4);
        fit.model.hidden = Some(vec![16]);
        fit.preprocess.scaling = Scaling::Standard;
        fit.train.val_split = 0.0;
        fit.train.epochs = 60;
        // Exactly 60 epochs: the measured setting (docs/nab-results.md). The step-based default
        // (2,000 steps, about 90 epochs here) scores 67.9 standard; not adopted without its
        // ablations.
        fit.train.min_steps = 0;
        fit.train.batch_size = 32;
        DetectorConfig {
            window: 32,
            fit,
            likelihood: LikelihoodConfig::default(),
            spatial_tolerance: Some(0.05),
        }
    }
}

/// The windowed model of `series`, trained on the windows inside its first `train_points`
/// points.
pub fn fit(
    series: &Series,
    train_points: usize,
    cfg: &DetectorConfig,
) -> Result<(Model, SeriesSpec)> {
    let columns = Frame::default_names("value", series.channels);
    let conv = matches!(cfg.fit.model.architecture, crate::config::Architecture::Conv { .. });
    let spec = SeriesSpec {
        time_column: None,
        columns,
        window: cfg.window,
        stride: 1,
        channel_major: conv,
    };
    let train_points = train_points.min(series.len());
    if train_points < cfg.window + 1 {
        return Err(Error::Data(format!(
            "{train_points} training points are fewer than one window of {} plus one",
            cfg.window
        )));
    }
    let head = Series {
        time_text: Vec::new(),
        times: Vec::new(),
        values: series.values[..train_points * series.channels].to_vec(),
        channels: series.channels,
    };
    let frame = spec.window_frame(&head, 1)?;
    let mut model = Model::fit(&frame, &cfg.fit, &mut Silent)?;
    model.manifest_mut().series = Some(spec.clone());
    Ok((model, spec))
}

/// Raw causal scores of every point of `series` under a windowed model: the MSE of the window
/// ending at each point (0 for the first `window − 1` points).
pub fn raw_scores(model: &Model, spec: &SeriesSpec, series: &Series) -> Result<Vec<f64>> {
    let frame = spec.window_frame(series, 1)?;
    let ws = super::score::score_windows(model, &frame, ScoreKind::Mse)?.scores;
    Ok(super::window::causal_scores(&ws, spec.window)
        .into_iter()
        .map(|s| s.map_or(0.0, f64::from))
        .collect())
}

/// Anomaly scores in [0, 1] of every point of `series`: a model fitted on the first
/// `train_points`, its causal raw scores, then the anomaly likelihood. The score of point `t`
/// depends only on points `0 ..= t` (and on the training points).
pub fn detect(series: &Series, train_points: usize, cfg: &DetectorConfig) -> Result<Vec<f64>> {
    let (model, spec) = fit(series, train_points, cfg)?;
    let raw = raw_scores(&model, &spec, series)?;
    let lead = cfg.window - 1;
    let mut out = vec![0.0; lead];
    out.extend(likelihoods(&raw[lead..], cfg.likelihood));
    if let Some(tol) = cfg.spatial_tolerance {
        for (t, flag) in spatial_anomalies(series, tol).into_iter().enumerate() {
            if flag {
                out[t] = 1.0;
            }
        }
    }
    Ok(out)
}

/// Points whose value (in any channel) lies outside the range of the values before it,
/// widened by `tolerance` times that range (causal: the range grows as points arrive).
pub fn spatial_anomalies(series: &Series, tolerance: f64) -> Vec<bool> {
    let c = series.channels.max(1);
    let mut lo = vec![f64::INFINITY; c];
    let mut hi = vec![f64::NEG_INFINITY; c];
    series
        .values
        .chunks_exact(c)
        .map(|point| {
            let mut flag = false;
            for (j, &v) in point.iter().enumerate() {
                let v = f64::from(v);
                if hi[j] > lo[j] {
                    let tol = (hi[j] - lo[j]) * tolerance;
                    flag |= v > hi[j] + tol || v < lo[j] - tol;
                }
                lo[j] = lo[j].min(v);
                hi[j] = hi[j].max(v);
            }
            flag
        })
        .collect()
}
