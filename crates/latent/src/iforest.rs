//! Isolation Forest (Liu, Ting and Zhou, 2008), the tree baseline of anomaly detection.
//!
//! Each tree is grown on a random subsample of `sample_size` rows (256 by default, drawn
//! without replacement) by splitting on a random feature at a uniform random value between the
//! feature's minimum and maximum in the node, until a node holds one row (or only identical
//! rows) or reaches the height limit `⌈log2 sample_size⌉`. Anomalies are isolated in fewer
//! splits. A row's score is `2^(−E[h(x)] / c(ψ))`, where `h(x)` is the path length to the
//! row's leaf plus `c(leaf size)` (the average path length of an unbuilt subtree), `E` averages
//! over the trees, and `c(n) = 2 H(n−1) − 2 (n−1) / n` is the average path length of an
//! unsuccessful search in a binary search tree of `n` items (`H` the harmonic number). Scores
//! are in (0, 1]; higher is more anomalous. These are the paper's and scikit-learn's
//! defaults (100 trees, ψ = 256, all features); one seed drives all randomness.

use crate::{Error, Result};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of an Isolation Forest.
#[derive(Clone, Debug, PartialEq)]
pub struct IForestConfig {
    /// Number of trees.
    pub trees: usize,
    /// Rows drawn (without replacement) for each tree; capped at the number of rows.
    pub sample_size: usize,
    /// Seed of the one RNG.
    pub seed: u64,
}

/// Largest `sample_size`: trees are stored complete to their height limit `⌈log2 ψ⌉`, so the
/// forest's size grows linearly with ψ (4,096 rows: 8,191 nodes per tree).
pub const MAX_SAMPLE_SIZE: usize = 4096;

impl IForestConfig {
    /// Checks the settings: at least one tree, 2 to [`MAX_SAMPLE_SIZE`] rows per tree.
    pub fn validate(&self) -> Result<()> {
        if self.trees == 0 || !(2..=MAX_SAMPLE_SIZE).contains(&self.sample_size) {
            return Err(Error::Config(format!(
                "isolation forest needs at least 1 tree and 2 to {MAX_SAMPLE_SIZE} rows per \
                 tree, got {} trees of {} rows",
                self.trees, self.sample_size
            )));
        }
        Ok(())
    }
}

impl Default for IForestConfig {
    fn default() -> Self {
        IForestConfig { trees: 100, sample_size: 256, seed: 42 }
    }
}

/// Marks a leaf in [`IsolationForest`]'s node arrays.
const LEAF: u32 = u32::MAX;
/// Deepest height limit a forest may have (a tree stores `2^(depth+1) − 1` nodes).
const MAX_DEPTH: usize = 24;

/// The shape of a fitted forest, saved in a model's manifest beside its node tensors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForestShape {
    /// Number of trees.
    pub trees: usize,
    /// Height limit: every tree is stored as a complete binary tree of this depth.
    pub depth: usize,
    /// Width of the rows it scores.
    pub width: usize,
    /// `c(ψ)`, the normaliser of the path length.
    pub normaliser: f64,
}

impl ForestShape {
    /// Nodes stored per tree: `2^(depth+1) − 1`.
    pub fn nodes_per_tree(&self) -> usize {
        (2usize << self.depth.min(MAX_DEPTH)) - 1
    }
}

/// A fitted Isolation Forest.
///
/// Each tree is stored as a complete binary tree in breadth-first order (the children of node
/// `i` are `2i + 1` and `2i + 2`): per node the split feature (or a leaf mark) and the split
/// value, or at a leaf the path length it ends with (its depth plus `c(leaf size)`). Scoring
/// walks arrays without pointers, and the arrays are the tensors saved in a model file.
#[derive(Clone, Debug, PartialEq)]
pub struct IsolationForest {
    shape: ForestShape,
    /// Split feature per node, [`LEAF`] at leaves and unused slots.
    feature: Vec<u32>,
    /// Split value per node; the path length at a leaf.
    value: Vec<f32>,
}

/// Average path length of an unsuccessful search in a binary search tree of `n` items.
fn c(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        n => {
            let m = (n - 1) as f64;
            2.0 * (m.ln() + 0.577_215_664_901_532_9) - 2.0 * m / n as f64
        }
    }
}

impl IsolationForest {
    /// Fits a forest to `rows x d` row-major data.
    pub fn fit(x: &[f32], d: usize, cfg: &IForestConfig) -> Result<IsolationForest> {
        let n = x.len().checked_div(d).unwrap_or(0);
        if n == 0 || x.len() % d != 0 {
            return Err(Error::Data(format!(
                "isolation forest needs rows of width {d}, got {} values",
                x.len()
            )));
        }
        cfg.validate()?;
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::Data("isolation forest needs finite values".into()));
        }
        let psi = cfg.sample_size.min(n);
        let depth = ((psi as f64).log2().ceil().max(1.0) as usize).min(MAX_DEPTH);
        let shape = ForestShape {
            trees: cfg.trees,
            depth,
            width: d,
            normaliser: c(psi).max(f64::MIN_POSITIVE),
        };
        let size = cfg.trees * shape.nodes_per_tree();
        let mut forest =
            IsolationForest { shape, feature: vec![LEAF; size], value: vec![0.0; size] };
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let nodes = forest.shape.nodes_per_tree();
        for t in 0..cfg.trees {
            let mut rows: Vec<usize> = sample(&mut rng, n, psi).into_vec();
            let mut tree = Tree {
                x,
                d,
                limit: depth,
                feature: &mut forest.feature[t * nodes..(t + 1) * nodes],
                value: &mut forest.value[t * nodes..(t + 1) * nodes],
            };
            tree.grow(&mut rows, 0, 0, &mut rng);
        }
        Ok(forest)
    }

    /// The forest's shape (for the model manifest).
    pub fn shape(&self) -> &ForestShape {
        &self.shape
    }

    /// Width of the rows it scores.
    pub fn width(&self) -> usize {
        self.shape.width
    }

    /// Anomaly score in (0, 1] of every row of `x` (row-major, the fitted width); rows are
    /// scored in parallel.
    pub fn score(&self, x: &[f32]) -> Vec<f32> {
        let nodes = self.shape.nodes_per_tree();
        let trees = self.shape.trees.max(1) as f64;
        x.par_chunks_exact(self.shape.width.max(1))
            .map(|row| {
                let total: f64 = self
                    .feature
                    .chunks_exact(nodes)
                    .zip(self.value.chunks_exact(nodes))
                    .map(|(feature, value)| f64::from(path_length(feature, value, row)))
                    .sum();
                2f64.powf(-(total / trees) / self.shape.normaliser) as f32
            })
            .collect()
    }

    /// The node arrays as tensors named `{prefix}.feature` and `{prefix}.value`, each of shape
    /// `[trees, nodes per tree]` (features as exact small integers in `f32`, −1 at leaves).
    pub fn tensors(&self) -> [(String, Vec<usize>, Vec<f32>); 2] {
        let shape = vec![self.shape.trees, self.shape.nodes_per_tree()];
        let features =
            self.feature.iter().map(|&f| if f == LEAF { -1.0 } else { f as f32 }).collect();
        [
            ("feature".to_string(), shape.clone(), features),
            ("value".to_string(), shape, self.value.clone()),
        ]
    }

    /// Rebuilds a forest from its shape and the two arrays of [`IsolationForest::tensors`],
    /// checking everything a corrupt file could get wrong: sizes, feature indices within the
    /// width, finite values, and that the last level holds only leaves (so a walk never
    /// leaves the tree).
    pub fn from_tensors(
        shape: ForestShape,
        feature: &[f32],
        value: &[f32],
    ) -> Result<IsolationForest> {
        let bad = |why: String| Err(Error::Data(format!("corrupt isolation forest: {why}")));
        if shape.trees == 0 || shape.width == 0 || shape.depth == 0 || shape.depth > MAX_DEPTH {
            return bad(format!(
                "{} trees of depth {} over {} features",
                shape.trees, shape.depth, shape.width
            ));
        }
        if !(shape.normaliser.is_finite() && shape.normaliser > 0.0) {
            return bad(format!("normaliser {}", shape.normaliser));
        }
        let nodes = shape.nodes_per_tree();
        let size = shape.trees.checked_mul(nodes);
        if size != Some(feature.len()) || size != Some(value.len()) {
            return bad(format!(
                "{} trees of {nodes} nodes, but {} features and {} values stored",
                shape.trees,
                feature.len(),
                value.len()
            ));
        }
        if value.iter().any(|v| !v.is_finite()) {
            return bad("a value is NaN or infinite".into());
        }
        let first_leaf_level = nodes / 2;
        let mut codes = Vec::with_capacity(feature.len());
        for (i, &f) in feature.iter().enumerate() {
            let code = if f == -1.0 {
                LEAF
            } else if f >= 0.0 && f.fract() == 0.0 && (f as usize) < shape.width {
                if i % nodes >= first_leaf_level {
                    return bad(format!("node {i} splits below the height limit"));
                }
                f as u32
            } else {
                return bad(format!("node {i} splits on feature {f} of {}", shape.width));
            };
            codes.push(code);
        }
        Ok(IsolationForest { shape, feature: codes, value: value.to_vec() })
    }
}

/// One tree's node arrays while it grows.
struct Tree<'a> {
    x: &'a [f32],
    d: usize,
    limit: usize,
    feature: &'a mut [u32],
    value: &'a mut [f32],
}

impl Tree<'_> {
    /// Grows the subtree over `rows` at node `id` of depth `depth`.
    fn grow(&mut self, rows: &mut [usize], id: usize, depth: usize, rng: &mut ChaCha8Rng) {
        let (x, d) = (self.x, self.d);
        let leaf = |tree: &mut Self| tree.value[id] = (depth as f64 + c(rows.len())) as f32;
        if rows.len() <= 1 || depth >= self.limit {
            return leaf(self);
        }
        // Pick a random feature that is not constant in this node (features are tried in a
        // random order; a node where all are constant stays a leaf).
        let mut features: Vec<usize> = (0..d).collect();
        let mut split = None;
        for tried in 0..d {
            let k = rng.random_range(tried..d);
            features.swap(tried, k);
            let f = features[tried];
            let (lo, hi) = rows.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &r| {
                let v = x[r * d + f];
                (lo.min(v), hi.max(v))
            });
            if hi > lo {
                split = Some((f, rng.random_range(lo..hi)));
                break;
            }
        }
        let Some((feature, value)) = split else {
            return leaf(self);
        };
        // Partition: rows with x < value go left.
        let mut mid = 0;
        for i in 0..rows.len() {
            if x[rows[i] * d + feature] < value {
                rows.swap(i, mid);
                mid += 1;
            }
        }
        self.feature[id] = feature as u32;
        self.value[id] = value;
        let (left, right) = rows.split_at_mut(mid);
        self.grow(left, 2 * id + 1, depth + 1, rng);
        self.grow(right, 2 * id + 2, depth + 1, rng);
    }
}

/// Path length of `row` in one tree (its node arrays), `c(size)` at the leaf included.
#[inline]
fn path_length(feature: &[u32], value: &[f32], row: &[f32]) -> f32 {
    let mut i = 0;
    loop {
        let f = feature[i];
        if f == LEAF {
            return value[i];
        }
        i = 2 * i + 1 + usize::from(row[f as usize] >= value[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_an_obvious_outlier() -> Result<()> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut x: Vec<f32> = (0..1000 * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
        x.extend([8.0, -7.0, 9.0]);
        let forest = IsolationForest::fit(&x, 3, &IForestConfig::default())?;
        let s = forest.score(&x);
        let outlier = s[1000];
        let max_inlier = s[..1000].iter().copied().fold(0.0f32, f32::max);
        assert!(outlier > max_inlier, "{outlier} vs {max_inlier}");
        assert!(outlier > 0.6 && s[..1000].iter().all(|&v| v > 0.0 && v <= 1.0));
        Ok(())
    }

    #[test]
    fn seeded_and_robust_to_constant_columns() -> Result<()> {
        let x: Vec<f32> = (0..200).flat_map(|i| [1.0, (i % 7) as f32]).collect();
        let a = IsolationForest::fit(&x, 2, &IForestConfig::default())?.score(&x);
        let b = IsolationForest::fit(&x, 2, &IForestConfig::default())?.score(&x);
        assert_eq!(a, b);
        assert!(a.iter().all(|v| v.is_finite()));
        assert!((c(2) - 1.0).abs() < 1e-12 && c(256) > 10.0);
        assert!(IsolationForest::fit(&[1.0, f32::NAN], 2, &IForestConfig::default()).is_err());
        Ok(())
    }

    #[test]
    fn tensors_round_trip_and_corrupt_ones_are_refused() -> Result<()> {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x: Vec<f32> = (0..300 * 4).map(|_| rng.random_range(-2.0..2.0)).collect();
        let cfg = IForestConfig { trees: 7, sample_size: 64, seed: 1 };
        let forest = IsolationForest::fit(&x, 4, &cfg)?;
        let [(_, shape, feature), (_, _, value)] = forest.tensors();
        assert_eq!(shape, vec![7, 127]);
        let back = IsolationForest::from_tensors(forest.shape().clone(), &feature, &value)?;
        assert_eq!(back, forest);
        assert_eq!(back.score(&x), forest.score(&x));
        let load =
            |f: &[f32], v: &[f32]| IsolationForest::from_tensors(forest.shape().clone(), f, v);
        assert!(load(&feature[1..], &value).is_err(), "short");
        let mut f = feature.clone();
        f[0] = 4.0;
        assert!(load(&f, &value).is_err(), "feature out of range");
        f[0] = 0.5;
        assert!(load(&f, &value).is_err(), "fractional feature");
        let mut f = feature.clone();
        f[126] = 0.0;
        assert!(load(&f, &value).is_err(), "a split on the last level would walk out");
        let mut v = value.clone();
        v[3] = f32::NAN;
        assert!(load(&feature, &v).is_err(), "NaN");
        let deep = ForestShape { depth: 40, ..forest.shape().clone() };
        assert!(IsolationForest::from_tensors(deep, &feature, &value).is_err());
        let big = IForestConfig { sample_size: MAX_SAMPLE_SIZE + 1, ..cfg };
        assert!(IsolationForest::fit(&x, 4, &big).is_err());
        Ok(())
    }
}
