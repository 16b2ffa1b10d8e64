//! The ensemble detector: three detectors that see anomalies of different kinds, their scores
//! standardised on the training rows and combined by their maximum.
//!
//! * an Isolation Forest over each row's per-feature residuals and inputs (the autoencoder's
//!   view: rows that break the correlations it learnt, and extreme values along them);
//! * an Isolation Forest over the inputs alone (global outliers: values far out on a few
//!   features, which a forest over twice the features samples less often);
//! * the kNN distance (k = 5) to a seeded sample of at most 1,024 training rows (local
//!   outliers: rows in sparse regions between dense ones, which forests miss).
//!
//! Member `m`'s score `s_m` becomes `z_m = (s_m − mean_m) / std_m`, with the mean and standard
//! deviation of its scores over the training rows; the row's standardised score is
//! `z = max_m z_m` (maximisation, Aggarwal and Sathe 2015: a row is as anomalous as the member
//! that finds it most anomalous), and the saved score is `g(z) = e^z` for `z < 0` and `1 + z`
//! above: positive (the threshold rules take logarithms), monotone, continuous with a
//! continuous slope, and linear in the tail so that no score overflows.

use crate::iforest::{ForestShape, IForestConfig, IsolationForest};
use crate::knn::Knn;
use crate::{Error, Result};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Members of the ensemble, in the order of [`Ensemble::standardise`].
pub const MEMBERS: usize = 3;

/// What the manifest records of a fitted ensemble; its arrays are tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleShape {
    /// The forest over residuals and inputs (tensors `forest.*`).
    pub residual_forest: ForestShape,
    /// The forest over inputs (tensors `input_forest.*`).
    pub input_forest: ForestShape,
    /// Rows of the kNN reference sample (tensor `knn.reference`).
    pub reference_rows: usize,
    /// The kNN neighbour count.
    pub k: usize,
}

/// Settings of the ensemble detector's members.
#[derive(Clone, Debug, PartialEq)]
pub struct EnsembleConfig {
    /// Trees and rows per tree of both forests, and the seed of all sampling.
    pub forest: IForestConfig,
    /// kNN neighbour count.
    pub neighbours: usize,
    /// Largest kNN reference sample.
    pub reference: usize,
}

/// A fitted ensemble detector.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensemble {
    residual_forest: IsolationForest,
    input_forest: IsolationForest,
    knn: Knn,
    /// Mean and standard deviation of each member's training scores.
    standardise: [(f32, f32); MEMBERS],
}

impl Ensemble {
    /// Fits the members on preprocessed rows `inputs` (`width` values per row) and the
    /// residual-and-input rows `features` (`2 · width`), then their standardisation on the
    /// same rows.
    pub fn fit(
        inputs: &[f32],
        features: &[f32],
        width: usize,
        cfg: &EnsembleConfig,
    ) -> Result<Ensemble> {
        let n = inputs.len().checked_div(width).unwrap_or(0);
        if n < 2 {
            return Err(Error::Data(format!(
                "the ensemble detector needs at least 2 training rows, got {n}"
            )));
        }
        let residual_forest = IsolationForest::fit(features, 2 * width, &cfg.forest)?;
        let input_forest = IsolationForest::fit(inputs, width, &cfg.forest)?;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.forest.seed);
        let mut rows = sample(&mut rng, n, cfg.reference.clamp(2, n)).into_vec();
        rows.sort_unstable();
        let reference: Vec<f32> =
            rows.iter().flat_map(|&i| &inputs[i * width..(i + 1) * width]).copied().collect();
        let knn = Knn::fit(&reference, width, cfg.neighbours.clamp(1, rows.len() - 1))?;
        let mut ensemble =
            Ensemble { residual_forest, input_forest, knn, standardise: [(0.0, 1.0); MEMBERS] };
        let raw = ensemble.member_scores(inputs, features);
        for (slot, scores) in ensemble.standardise.iter_mut().zip(&raw) {
            *slot = mean_std(scores);
        }
        Ok(ensemble)
    }

    /// The raw scores of each member for rows `inputs` and their residual-and-input rows.
    fn member_scores(&self, inputs: &[f32], features: &[f32]) -> [Vec<f32>; MEMBERS] {
        [
            self.residual_forest.score(features),
            self.input_forest.score(inputs),
            self.knn.score(inputs),
        ]
    }

    /// The ensemble score `g(max_m z_m)` of every row (see the module docs).
    pub fn score(&self, inputs: &[f32], features: &[f32]) -> Vec<f32> {
        let raw = self.member_scores(inputs, features);
        (0..raw[0].len())
            .map(|i| {
                let z = raw
                    .iter()
                    .zip(&self.standardise)
                    .map(|(s, &(mean, std))| (s[i] - mean) / std)
                    .fold(f32::NEG_INFINITY, f32::max);
                if z < 0.0 {
                    z.exp()
                } else {
                    1.0 + z
                }
            })
            .collect()
    }

    /// What the manifest records.
    pub fn shape(&self) -> EnsembleShape {
        EnsembleShape {
            residual_forest: self.residual_forest.shape().clone(),
            input_forest: self.input_forest.shape().clone(),
            reference_rows: self.knn.rows().len() / self.knn.width(),
            k: self.knn.k(),
        }
    }

    /// The arrays as `(name, shape, values)`: `forest.*`, `input_forest.*`, `knn.reference`
    /// and `ensemble.standardise` (`[members, 2]`: mean and standard deviation).
    pub fn tensors(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        fn named(
            prefix: &'static str,
            f: &IsolationForest,
        ) -> impl Iterator<Item = (String, Vec<usize>, Vec<f32>)> {
            f.tensors().into_iter().map(move |(n, s, v)| (format!("{prefix}.{n}"), s, v))
        }
        let width = self.knn.width();
        let mut out: Vec<_> = named(RESIDUAL_FOREST, &self.residual_forest)
            .chain(named(INPUT_FOREST, &self.input_forest))
            .collect();
        out.push((
            REFERENCE.into(),
            vec![self.knn.rows().len() / width, width],
            self.knn.rows().to_vec(),
        ));
        out.push((
            STANDARDISE.into(),
            vec![MEMBERS, 2],
            self.standardise.iter().flat_map(|&(m, s)| [m, s]).collect(),
        ));
        out
    }

    /// Rebuilds an ensemble from its shape and tensors (taken by name from `take`), for rows
    /// of `width` model inputs; every size and value a corrupt file could get wrong is checked.
    pub fn from_tensors(
        shape: &EnsembleShape,
        width: usize,
        mut take: impl FnMut(&str) -> Result<Vec<f32>>,
    ) -> Result<Ensemble> {
        let bad = |why: String| Error::Data(format!("corrupt ensemble detector: {why}"));
        if shape.residual_forest.width != 2 * width || shape.input_forest.width != width {
            return Err(bad(format!(
                "its forests score {} and {} features, expected {} and {width}",
                shape.residual_forest.width,
                shape.input_forest.width,
                2 * width
            )));
        }
        let mut forest = |prefix: &str, s: &ForestShape| -> Result<IsolationForest> {
            let feature = take(&format!("{prefix}.feature"))?;
            let value = take(&format!("{prefix}.value"))?;
            IsolationForest::from_tensors(s.clone(), &feature, &value)
        };
        let residual_forest = forest(RESIDUAL_FOREST, &shape.residual_forest)?;
        let input_forest = forest(INPUT_FOREST, &shape.input_forest)?;
        let reference = take(REFERENCE)?;
        if Some(reference.len()) != shape.reference_rows.checked_mul(width) {
            return Err(bad(format!(
                "{} reference values for {} rows of {width}",
                reference.len(),
                shape.reference_rows
            )));
        }
        let knn = Knn::fit(&reference, width, shape.k).map_err(|e| bad(e.to_string()))?;
        let values = take(STANDARDISE)?;
        if values.len() != 2 * MEMBERS
            || values.iter().any(|v| !v.is_finite())
            || values.chunks_exact(2).any(|p| p[1] <= 0.0)
        {
            return Err(bad(format!("standardisation {values:?}")));
        }
        let mut standardise = [(0.0, 1.0); MEMBERS];
        for (slot, p) in standardise.iter_mut().zip(values.chunks_exact(2)) {
            *slot = (p[0], p[1]);
        }
        Ok(Ensemble { residual_forest, input_forest, knn, standardise })
    }

    /// The ensemble in words for `latent info` and the report.
    pub fn describe(&self) -> String {
        let (r, i) = (self.residual_forest.shape(), self.input_forest.shape());
        format!(
            "ensemble: the largest standardised score of an isolation forest on residuals and \
             inputs ({} trees, {} features), one on inputs ({} trees) and the distance to the \
             {}-th nearest of {} training rows",
            r.trees,
            r.width,
            i.trees,
            self.knn.k(),
            self.knn.rows().len() / self.knn.width()
        )
    }
}

/// Tensor prefix of the forest over residuals and inputs.
const RESIDUAL_FOREST: &str = "forest";
/// Tensor prefix of the forest over inputs.
const INPUT_FOREST: &str = "input_forest";
/// Tensor name of the kNN reference sample.
const REFERENCE: &str = "knn.reference";
/// Tensor name of the members' standardisation.
const STANDARDISE: &str = "ensemble.standardise";

/// Mean and standard deviation (population; at least a tiny positive value, so that a member
/// whose training scores are all equal neither divides by zero nor dominates).
fn mean_std(scores: &[f32]) -> (f32, f32) {
    let n = scores.len().max(1) as f64;
    let mean = scores.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = scores.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    (mean as f32, (var.sqrt() as f32).max(1e-6 * (mean.abs() as f32).max(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn data(n: usize, width: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n * width).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    fn features(x: &[f32], width: usize) -> Vec<f32> {
        x.chunks_exact(width)
            .flat_map(|r| r.iter().map(|v| 0.1 * v).chain(r.iter().copied()))
            .collect()
    }

    fn config() -> EnsembleConfig {
        EnsembleConfig {
            forest: IForestConfig { trees: 50, sample_size: 64, seed: 7 },
            neighbours: 5,
            reference: 100,
        }
    }

    #[test]
    fn outliers_score_higher_and_scores_are_positive() -> Result<()> {
        let width = 3;
        let x = data(300, width, 1);
        let e = Ensemble::fit(&x, &features(&x, width), width, &config())?;
        let q = [0.0, 0.0, 0.0, 8.0, -8.0, 8.0];
        let s = e.score(&q, &features(&q, width));
        assert!(s[1] > s[0] && s[1] > 1.0, "{s:?}");
        assert!(e.score(&x, &features(&x, width)).iter().all(|&v| v > 0.0 && v.is_finite()));
        Ok(())
    }

    #[test]
    fn tensors_round_trip() -> Result<()> {
        let width = 4;
        let x = data(200, width, 2);
        let f = features(&x, width);
        let e = Ensemble::fit(&x, &f, width, &config())?;
        let mut t: std::collections::HashMap<_, _> =
            e.tensors().into_iter().map(|(n, _, v)| (n, v)).collect();
        let back = Ensemble::from_tensors(&e.shape(), width, |n| {
            t.remove(n).ok_or_else(|| Error::Data(format!("{n} missing")))
        })?;
        assert_eq!(back, e);
        assert_eq!(back.score(&x, &f), e.score(&x, &f));
        Ok(())
    }

    #[test]
    fn corrupt_tensors_are_refused() -> Result<()> {
        let width = 2;
        let x = data(100, width, 3);
        let e = Ensemble::fit(&x, &features(&x, width), width, &config())?;
        for broken in [REFERENCE, STANDARDISE] {
            let mut t: std::collections::HashMap<_, _> =
                e.tensors().into_iter().map(|(n, _, v)| (n, v)).collect();
            if let Some(v) = t.get_mut(broken) {
                v.pop();
            }
            let r = Ensemble::from_tensors(&e.shape(), width, |n| {
                t.remove(n).ok_or_else(|| Error::Data(format!("{n} missing")))
            });
            assert!(r.is_err(), "{broken}");
        }
        assert!(Ensemble::from_tensors(&e.shape(), width + 1, |_| Ok(vec![])).is_err());
        Ok(())
    }

    #[test]
    fn one_row_is_refused() {
        assert!(Ensemble::fit(&[1.0, 2.0], &[0.0, 0.0, 1.0, 2.0], 2, &config()).is_err());
    }
}
