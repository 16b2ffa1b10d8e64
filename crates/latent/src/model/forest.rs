//! The forest detector ([`crate::Detector::Forest`]): an Isolation Forest over each row's
//! per-feature residuals and model inputs, fitted on the training rows after the network.
//!
//! The residuals carry what breaks the correlations the autoencoder learnt; the inputs carry
//! extreme values along them, which a well-fitted autoencoder may rebuild well. On the 15
//! ODDS sets the forest over both ranks anomalies better than either the reconstruction
//! error or an Isolation Forest on the inputs alone (docs/anomaly-results.md).

use super::Model;
use crate::artifact::FORMAT_VERSION;
use crate::iforest::{IForestConfig, IsolationForest};
use crate::{Error, Result};

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
    /// Fits the forest detector on preprocessed rows `x` (row-major, model input width) and
    /// keeps it with the model (saved with it; the file becomes format version 2).
    pub fn fit_forest(&mut self, x: &[f32], cfg: &IForestConfig) -> Result<()> {
        let width = self.preprocessor().output_width();
        let reconstruction = self.reconstruct_inputs(x);
        let features = forest_features(x, &reconstruction.data, width);
        let forest = IsolationForest::fit(&features, 2 * width, cfg)?;
        self.manifest.forest = Some(forest.shape().clone());
        self.manifest.format_version = FORMAT_VERSION;
        self.forest = Some(forest);
        Ok(())
    }

    /// The forest detector's Isolation Forest, when the model has one.
    pub fn forest(&self) -> Option<&IsolationForest> {
        self.forest.as_ref()
    }

    /// Forest scores of preprocessed rows `x` whose reconstructions are `reconstruction`.
    pub(crate) fn forest_scores(&self, x: &[f32], reconstruction: &[f32]) -> Result<Vec<f32>> {
        let forest = self.forest.as_ref().ok_or_else(|| {
            Error::Config(
                "the forest score needs a model trained with the forest detector \
                 (latent train --detector forest, or --preset anomaly)"
                    .into(),
            )
        })?;
        let width = self.preprocessor().output_width();
        Ok(forest.score(&forest_features(x, reconstruction, width)))
    }
}
