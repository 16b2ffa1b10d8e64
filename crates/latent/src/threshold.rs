//! Which score and which threshold a run uses, decided here once for every front end (the
//! `latent` binary, the HTTP service and the Python package), and fit → calibrate → save as
//! one call.
//!
//! A model's own score kind ([`Model::score_kind`]) is the one its threshold was calibrated on,
//! or, for a model without a threshold, [`Model::default_score_kind`]. A caller may ask for
//! another kind or another threshold value ([`Model::resolve_threshold`]); when the request
//! cannot be reconciled with the model the answer is a [`ThresholdError`] the caller can match
//! (and add its own hints to: flag names, request fields).

use crate::frame::Frame;
use crate::model::{CheckpointOptions, Model};
use crate::score::{ScoreKind, Threshold, ThresholdRule};
use crate::train::Observer;
use crate::{Error, FitConfig, Result};
use std::path::Path;

/// Why a requested score kind or threshold does not fit a model.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    /// A variational score (`neg_elbo`, `recon_nll`) asked of a deterministic model.
    #[error("the {} score needs a variational model", .0.name())]
    NeedsVariational(ScoreKind),
    /// A detector's score (forest, ensemble) asked of a model without that detector.
    #[error("the {} score needs a model trained with the {} detector", .0.name(), .0.name())]
    NeedsDetector(ScoreKind),
    /// A threshold value that is NaN or infinite.
    #[error("a threshold must be a finite number, got {0}")]
    NotFinite(f32),
    /// The `[0, 1]` mapping needs the model's calibration for the score asked, and the model
    /// has none for it.
    #[error(
        "the [0, 1] mapping needs the model's calibration for {} scores, and the model has {}",
        .asked.name(),
        .saved.map_or("none".to_string(), |s| format!("one for {}", s.name()))
    )]
    NoCalibration {
        /// The score asked for.
        asked: ScoreKind,
        /// The score the model's threshold is for, if it has one.
        saved: Option<ScoreKind>,
    },
    /// The model's threshold is for another score and no threshold value was given.
    #[error(
        "the model's threshold is for {} scores, not {} scores; give a threshold value",
        .saved.name(),
        .asked.name()
    )]
    OtherScore {
        /// The score the saved threshold is for.
        saved: ScoreKind,
        /// The score asked for.
        asked: ScoreKind,
    },
    /// The model has no calibrated threshold and no threshold value was given.
    #[error("the model has no calibrated anomaly threshold")]
    Uncalibrated,
}

impl Model {
    /// The model's own score: the one its threshold was calibrated on, else
    /// [`Model::default_score_kind`].
    pub fn score_kind(&self) -> ScoreKind {
        self.threshold().map_or_else(|| self.default_score_kind(), |t| t.score)
    }

    /// Anomaly score of every row of `frame` in the model's own score kind
    /// ([`Model::score_kind`]); higher is more anomalous.
    pub fn score(&self, frame: &Frame) -> Result<Vec<f32>> {
        self.scores(frame, self.score_kind())
    }

    /// Checks that the model can give scores of `kind` (variational scores need a variational
    /// model, the forest score the forest detector).
    pub fn check_score_kind(&self, kind: ScoreKind) -> Result<(), ThresholdError> {
        if kind.is_variational() && !self.is_variational() {
            return Err(ThresholdError::NeedsVariational(kind));
        }
        if kind.is_detector() && self.detector().map(|d| d.score_kind()) != Some(kind) {
            return Err(ThresholdError::NeedsDetector(kind));
        }
        Ok(())
    }

    /// The threshold a run uses: the model's own, or one for the score `kind` and threshold
    /// `value` asked for (`None`: the model's). `need_reference`: the caller maps scores to
    /// `[0, 1]` ([`Threshold::proba`]), which needs the model's calibration for that score.
    pub fn resolve_threshold(
        &self,
        kind: Option<ScoreKind>,
        value: Option<f32>,
        need_reference: bool,
    ) -> Result<Threshold, ThresholdError> {
        let saved = self.threshold();
        let kind = kind.unwrap_or_else(|| self.score_kind());
        self.check_score_kind(kind)?;
        let same_kind = saved.filter(|t| t.score == kind);
        if let Some(v) = value {
            if !v.is_finite() {
                return Err(ThresholdError::NotFinite(v));
            }
            return match same_kind {
                Some(t) => Ok(t.with_value(v)),
                None if need_reference => Err(ThresholdError::NoCalibration {
                    asked: kind,
                    saved: saved.map(|t| t.score),
                }),
                None => Ok(Threshold {
                    rule: ThresholdRule::Fixed { value: v },
                    score: kind,
                    value: v,
                    rows: 0,
                    flagged_share: 0.0,
                    reference: Vec::new(),
                }),
            };
        }
        match (saved, same_kind) {
            (_, Some(t)) => Ok(t.clone()),
            (Some(t), None) => Err(ThresholdError::OtherScore { saved: t.score, asked: kind }),
            (None, None) => Err(ThresholdError::Uncalibrated),
        }
    }

    /// Fits the model ([`Model::fit_with`]), then calibrates its anomaly threshold by
    /// `config.threshold` on the scores of the training rows (validation rows included) in
    /// the model's default score kind.
    pub fn fit_calibrated(
        frame: &Frame,
        config: &FitConfig,
        observer: &mut dyn Observer,
        checkpoints: &CheckpointOptions,
    ) -> Result<Model> {
        config.threshold.validate()?;
        let mut model = Model::fit_with(frame, config, observer, checkpoints)?;
        let kind = model.default_score_kind();
        model.calibrate(frame, &config.threshold, kind)?;
        Ok(model)
    }

    /// Data to model file in one call: [`Model::fit_calibrated`], then [`Model::save`]
    /// (atomically: a file appears only when the model is complete). The destination is
    /// checked before training.
    pub fn fit_to_file(
        frame: &Frame,
        config: &FitConfig,
        observer: &mut dyn Observer,
        path: &Path,
    ) -> Result<Model> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the folder does not exist",
                    ),
                });
            }
        }
        let model = Model::fit_calibrated(frame, config, observer, &CheckpointOptions::default())?;
        model.save(path)?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Silent;

    fn frame() -> Result<Frame> {
        let v: Vec<f32> = (0..200).map(|i| ((i * 7919) % 101) as f32 / 101.0).collect();
        Frame::from_rows(Frame::default_names("f", 4), &v)
    }

    #[test]
    fn fit_calibrated_uses_the_config_rule_and_resolves() -> Result<()> {
        let mut config = FitConfig::default();
        config.train.epochs = 2;
        config.threshold = ThresholdRule::Contamination { share: 0.1 };
        let f = frame()?;
        let model = Model::fit_calibrated(&f, &config, &mut Silent, &Default::default())?;
        let t = model.threshold().ok_or_else(|| Error::Data("no threshold".into()))?;
        assert_eq!(t.rule, config.threshold);
        assert_eq!(model.score_kind(), ScoreKind::Mse);
        assert_eq!(model.score(&f)?, model.scores(&f, ScoreKind::Mse)?);
        assert_eq!(model.resolve_threshold(None, None, true).as_ref(), Ok(t));
        assert_eq!(model.resolve_threshold(None, Some(1.5), true).map(|t| t.value), Ok(1.5));
        assert_eq!(
            model.resolve_threshold(Some(ScoreKind::NegElbo), None, false),
            Err(ThresholdError::NeedsVariational(ScoreKind::NegElbo))
        );
        assert_eq!(
            model.resolve_threshold(Some(ScoreKind::Forest), None, false),
            Err(ThresholdError::NeedsDetector(ScoreKind::Forest))
        );
        assert_eq!(
            model.resolve_threshold(Some(ScoreKind::Mae), None, false),
            Err(ThresholdError::OtherScore { saved: ScoreKind::Mse, asked: ScoreKind::Mae })
        );
        assert!(matches!(
            model.resolve_threshold(Some(ScoreKind::Mae), Some(1.0), true),
            Err(ThresholdError::NoCalibration { .. })
        ));
        assert_eq!(
            model.resolve_threshold(None, Some(f32::NAN), false).map(|t| t.value).ok(),
            None
        );
        let fixed = model.resolve_threshold(Some(ScoreKind::Mae), Some(2.0), false);
        assert_eq!(fixed.map(|t| (t.score, t.value)), Ok((ScoreKind::Mae, 2.0)));
        Ok(())
    }

    #[test]
    fn the_config_carries_the_rule_and_omits_the_default() -> Result<()> {
        let json = r#"{"threshold": {"rule": "contamination", "share": 0.05}}"#;
        let c: FitConfig = serde_json::from_str(json).map_err(|e| Error::Data(e.to_string()))?;
        assert_eq!(c.threshold, ThresholdRule::Contamination { share: 0.05 });
        let default = serde_json::to_value(FitConfig::default());
        assert!(default.is_ok_and(|v| v.get("threshold").is_none()));
        let mut bad = c.clone();
        bad.threshold = ThresholdRule::Quantile { q: 2.0 };
        assert!(bad.validate().is_err());
        Ok(())
    }

    #[test]
    fn uncalibrated_models_say_so() -> Result<()> {
        let mut config = FitConfig::default();
        config.train.epochs = 1;
        let model = Model::fit(&frame()?, &config, &mut Silent)?;
        assert_eq!(model.resolve_threshold(None, None, false), Err(ThresholdError::Uncalibrated));
        let err = Error::from(ThresholdError::Uncalibrated);
        assert!(err.is_bad_input());
        Ok(())
    }

    #[test]
    fn fit_to_file_checks_the_folder_first() -> Result<()> {
        let mut config = FitConfig::default();
        config.train.epochs = 1;
        let dir = tempfile::tempdir().map_err(|e| Error::Data(e.to_string()))?;
        let bad = dir.path().join("missing").join("m.safetensors");
        assert!(matches!(
            Model::fit_to_file(&frame()?, &config, &mut Silent, &bad),
            Err(Error::Io { .. })
        ));
        let good = dir.path().join("m.safetensors");
        let model = Model::fit_to_file(&frame()?, &config, &mut Silent, &good)?;
        let back = Model::load(&good)?;
        assert_eq!(back.threshold(), model.threshold());
        Ok(())
    }
}
