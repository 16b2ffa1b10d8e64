//! The anomaly detector seam: what is fitted on the training rows after the network, how it
//! scores and explains a row, how it is saved in the model file and described to users.
//!
//! [`Detector`] is the setting (in [`crate::FitConfig::detector`], saved in the manifest's
//! config); [`FittedDetector`] is the fitted state kept with a [`Model`]. Every other part of
//! latent (training, fine-tuning, scoring, explanations, the model file, `latent info`, the
//! report, the service) goes through the methods here, so a new detector is a new variant of
//! both enums in this file plus its tests.
//!
//! The forest detector ([`Detector::Forest`]) is an Isolation Forest over each row's
//! per-feature residuals and model inputs. The residuals carry what breaks the correlations
//! the autoencoder learnt; the inputs carry extreme values along them, which a well-fitted
//! autoencoder may rebuild well. On the 15 ODDS sets the forest over both ranks anomalies
//! better than either the reconstruction error or an Isolation Forest on the inputs alone
//! (docs/anomaly-results.md).
//!
//! The ensemble detector ([`Detector::Ensemble`], the default of `--preset anomaly`) adds an
//! Isolation Forest on the inputs and the kNN distance to a sample of training rows, and
//! scores a row by the member that finds it most anomalous ([`super::ensemble`]).

use super::ensemble::{Ensemble, EnsembleConfig};
use super::Model;
use crate::artifact::{file_error, Manifest, FOREST_FORMAT_VERSION, FORMAT_VERSION};
use crate::iforest::{IForestConfig, IsolationForest};
use crate::score::ScoreKind;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Name prefix of the Isolation Forest's tensors in a model file (`forest.feature`,
/// `forest.value`).
pub const FOREST_PREFIX: &str = "forest";

/// The anomaly detector fitted on the training rows after the network (see [`crate::score`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Detector {
    /// Scores are reconstruction errors (or the variational scores) alone.
    #[default]
    Reconstruction,
    /// An Isolation Forest over each row's per-feature residuals (reconstruction − input) and
    /// its model inputs, fitted on the training rows with the training seed; its score is the
    /// [`ScoreKind::Forest`] score.
    Forest {
        /// Number of trees.
        trees: usize,
        /// Rows drawn for each tree (2 to [`crate::iforest::MAX_SAMPLE_SIZE`]).
        sample_size: usize,
    },
    /// The largest standardised score of three detectors ([`super::ensemble`]): an Isolation
    /// Forest over residuals and inputs, one over inputs, and the kNN distance to a sample of
    /// training rows; its score is the [`ScoreKind::Ensemble`] score.
    Ensemble {
        /// Trees of each forest.
        trees: usize,
        /// Rows drawn for each tree.
        sample_size: usize,
        /// kNN neighbour count.
        neighbours: usize,
        /// Largest kNN reference sample of training rows.
        reference: usize,
    },
}

impl Detector {
    /// The forest detector with the Isolation Forest paper's defaults (100 trees of 256 rows).
    pub fn forest() -> Detector {
        let d = IForestConfig::default();
        Detector::Forest { trees: d.trees, sample_size: d.sample_size }
    }

    /// The ensemble detector with the forests' paper defaults, k = 5 neighbours (ADBench's
    /// and PyOD's kNN) among at most 1,024 training rows (scoring stays linear in the rows).
    pub fn ensemble() -> Detector {
        let d = IForestConfig::default();
        Detector::Ensemble {
            trees: d.trees,
            sample_size: d.sample_size,
            neighbours: crate::knn::DEFAULT_K,
            reference: 1024,
        }
    }

    /// True for [`Detector::Reconstruction`].
    pub fn is_reconstruction(&self) -> bool {
        *self == Detector::Reconstruction
    }

    /// The detector's name as written in files and flags (`reconstruction`, `forest`,
    /// `ensemble`).
    pub fn name(&self) -> &'static str {
        match self {
            Detector::Reconstruction => "reconstruction",
            Detector::Forest { .. } => "forest",
            Detector::Ensemble { .. } => "ensemble",
        }
    }

    /// Why a model uses this detector, in words for `latent info` and the report.
    pub fn reason(&self) -> &'static str {
        match self {
            Detector::Reconstruction => {
                "the autoencoder's own error: rows unlike the training rows are rebuilt worse \
                 (the default of plain training)"
            }
            Detector::Forest { .. } => {
                "the residuals catch rows that break the correlations the autoencoder learnt, \
                 the inputs catch extreme values along them, and on the 15 benchmark sets the \
                 forest over both ranks anomalies better than the reconstruction error alone"
            }
            Detector::Ensemble { .. } => {
                "chosen by the anomaly preset: the forest on residuals and inputs catches rows \
                 that break the correlations the autoencoder learnt, the forest on inputs \
                 global outliers, the kNN distance local outliers in sparse regions; on the 15 \
                 benchmark sets their maximum ranks anomalies better than any of them alone"
            }
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Detector::Reconstruction => Ok(()),
            Detector::Forest { trees, sample_size } => {
                IForestConfig { trees, sample_size, seed: 0 }.validate()
            }
            Detector::Ensemble { trees, sample_size, neighbours, reference } => {
                IForestConfig { trees, sample_size, seed: 0 }.validate()?;
                if neighbours == 0 || reference < 2 {
                    return Err(Error::Config(format!(
                        "the ensemble detector needs at least 1 neighbour and 2 reference \
                         rows, got {neighbours} and {reference}"
                    )));
                }
                Ok(())
            }
        }
    }

    /// Fits the detector on preprocessed rows `x` (row-major, `width` model inputs) and their
    /// reconstructions; `None` for [`Detector::Reconstruction`], which keeps no state.
    pub fn fit(
        &self,
        x: &[f32],
        reconstruction: &[f32],
        width: usize,
        seed: u64,
    ) -> Result<Option<FittedDetector>> {
        match *self {
            Detector::Reconstruction => Ok(None),
            Detector::Forest { trees, sample_size } => {
                let cfg = IForestConfig { trees, sample_size, seed };
                let features = forest_features(x, reconstruction, width);
                Ok(Some(FittedDetector::Forest(IsolationForest::fit(&features, 2 * width, &cfg)?)))
            }
            Detector::Ensemble { trees, sample_size, neighbours, reference } => {
                let cfg = EnsembleConfig {
                    forest: IForestConfig { trees, sample_size, seed },
                    neighbours,
                    reference,
                };
                let features = forest_features(x, reconstruction, width);
                Ok(Some(FittedDetector::Ensemble(Ensemble::fit(x, &features, width, &cfg)?)))
            }
        }
    }
}

/// A fitted detector, kept with the model and saved in its file.
#[derive(Clone, Debug, PartialEq)]
pub enum FittedDetector {
    /// The Isolation Forest of [`Detector::Forest`].
    Forest(IsolationForest),
    /// The members of [`Detector::Ensemble`].
    Ensemble(Ensemble),
}

impl FittedDetector {
    /// The score this detector gives (and a threshold is calibrated on).
    pub fn score_kind(&self) -> ScoreKind {
        match self {
            FittedDetector::Forest(_) => ScoreKind::Forest,
            FittedDetector::Ensemble(_) => ScoreKind::Ensemble,
        }
    }

    /// Scores of preprocessed rows `x` (`width` model inputs) whose reconstructions are
    /// `reconstruction`; higher is more anomalous.
    pub fn score(&self, x: &[f32], reconstruction: &[f32], width: usize) -> Vec<f32> {
        match self {
            FittedDetector::Forest(f) => f.score(&forest_features(x, reconstruction, width)),
            FittedDetector::Ensemble(e) => e.score(x, &forest_features(x, reconstruction, width)),
        }
    }

    /// Each model input's contribution to a row's anomaly, from the input value `x` and its
    /// reconstruction `r` (explanations sum these per column and rank the columns). The
    /// forest splits on residuals and inputs alike; its explanations use the squared
    /// residual, the part users can act on ("this column was not what the model expected").
    pub fn explain(&self, x: f32, r: f32) -> f32 {
        match self {
            FittedDetector::Forest(_) | FittedDetector::Ensemble(_) => (r - x) * (r - x),
        }
    }

    /// The detector's tensors for the model file: full name, shape and values.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        match self {
            FittedDetector::Forest(f) => f
                .tensors()
                .into_iter()
                .map(|(name, shape, values)| (format!("{FOREST_PREFIX}.{name}"), shape, values))
                .collect(),
            FittedDetector::Ensemble(e) => e.tensors(),
        }
    }

    /// Writes what the manifest records of the detector (the forest's shape) and the file
    /// format version that holds it.
    pub fn record(&self, manifest: &mut Manifest) {
        match self {
            FittedDetector::Forest(f) => {
                manifest.forest = Some(f.shape().clone());
                manifest.format_version = FOREST_FORMAT_VERSION;
            }
            FittedDetector::Ensemble(e) => {
                manifest.ensemble = Some(e.shape());
                manifest.format_version = FORMAT_VERSION;
            }
        }
    }

    /// Takes the detector a manifest describes out of a loaded file's tensors (`None` when the
    /// model has none), checking it against the model's input width; `path` names the file in
    /// errors.
    pub fn from_tensors(
        path: &Path,
        manifest: &Manifest,
        tensors: &mut HashMap<String, Vec<f32>>,
    ) -> Result<Option<FittedDetector>> {
        let inputs = manifest.preprocess.output_width();
        if let Some(shape) = &manifest.ensemble {
            let take = |name: &str| {
                tensors.remove(name).ok_or_else(|| Error::Data(format!("tensor {name} is missing")))
            };
            return Ensemble::from_tensors(shape, inputs, take)
                .map(|e| Some(FittedDetector::Ensemble(e)))
                .map_err(|e| file_error(path, e.to_string()));
        }
        let Some(shape) = &manifest.forest else {
            return Ok(None);
        };
        let mut take = |name: &str| {
            let name = format!("{FOREST_PREFIX}.{name}");
            tensors
                .remove(&name)
                .ok_or_else(|| file_error(path, format!("tensor {name} is missing")))
        };
        let (feature, value) = (take("feature")?, take("value")?);
        if shape.width != 2 * inputs {
            return Err(file_error(
                path,
                format!("the forest scores {} features, expected {}", shape.width, 2 * inputs),
            ));
        }
        IsolationForest::from_tensors(shape.clone(), &feature, &value)
            .map(|f| Some(FittedDetector::Forest(f)))
            .map_err(|e| file_error(path, e.to_string()))
    }

    /// What the fitted detector is, in words for `latent info` and the report.
    pub fn describe(&self) -> String {
        match self {
            FittedDetector::Forest(f) => {
                let s = f.shape();
                format!(
                    "isolation forest on residuals and inputs ({} trees, depth {}, {} features)",
                    s.trees, s.depth, s.width
                )
            }
            FittedDetector::Ensemble(e) => e.describe(),
        }
    }
}

/// Each row's residuals (`reconstruction − input`) followed by its inputs: `2 · width` values
/// per row.
pub(crate) fn forest_features(x: &[f32], reconstruction: &[f32], width: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * x.len());
    for (row, rebuilt) in x.chunks_exact(width).zip(reconstruction.chunks_exact(width)) {
        out.extend(rebuilt.iter().zip(row).map(|(r, v)| r - v));
        out.extend_from_slice(row);
    }
    out
}

impl Model {
    /// Fits the configured detector on preprocessed rows `x` (row-major, model input width)
    /// with `seed` and keeps it with the model (saved with it; a model with a detector is
    /// written as format version 2).
    pub fn fit_detector(&mut self, x: &[f32], seed: u64) -> Result<()> {
        let width = self.preprocessor().output_width();
        let reconstruction = self.reconstruct_inputs(x)?;
        let detector = self.manifest.config.detector.clone();
        self.detector = detector.fit(x, &reconstruction.data, width, seed)?;
        if let Some(d) = &self.detector {
            d.record(&mut self.manifest);
        }
        Ok(())
    }

    /// The fitted detector, when the model has one.
    pub fn detector(&self) -> Option<&FittedDetector> {
        self.detector.as_ref()
    }

    /// The anomaly detector in words for `latent info` and the report: what it is (the fitted
    /// detector's description, or the reconstruction error) and why the model uses it.
    pub fn detector_summary(&self) -> String {
        let what = self.detector().map_or("reconstruction error".into(), |d| d.describe());
        format!("{what}; {}", self.manifest.config.detector.reason())
    }

    /// The forest detector's Isolation Forest, when the model has one.
    pub fn forest(&self) -> Option<&IsolationForest> {
        match self.detector.as_ref() {
            Some(FittedDetector::Forest(f)) => Some(f),
            Some(FittedDetector::Ensemble(_)) | None => None,
        }
    }

    /// The detector's scores of preprocessed rows `x` whose reconstructions are
    /// `reconstruction`; an error names the detector `kind` needs when the model has another.
    pub(crate) fn detector_scores(
        &self,
        kind: ScoreKind,
        x: &[f32],
        reconstruction: &[f32],
    ) -> Result<Vec<f32>> {
        match self.detector.as_ref().filter(|d| d.score_kind() == kind) {
            Some(d) => Ok(d.score(x, reconstruction, self.preprocessor().output_width())),
            None => Err(Error::NoDetector { score: kind.name() }),
        }
    }
}
