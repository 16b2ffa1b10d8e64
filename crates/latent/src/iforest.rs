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

impl Default for IForestConfig {
    fn default() -> Self {
        IForestConfig { trees: 100, sample_size: 256, seed: 42 }
    }
}

#[derive(Clone, Debug)]
enum Node {
    Split { feature: usize, value: f32, left: usize, right: usize },
    Leaf { size: usize },
}

/// A fitted Isolation Forest.
#[derive(Clone, Debug)]
pub struct IsolationForest {
    trees: Vec<Vec<Node>>,
    d: usize,
    /// `c(ψ)`, the normaliser of the path length.
    c_psi: f64,
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
        if cfg.trees == 0 || cfg.sample_size < 2 {
            return Err(Error::Config(
                "isolation forest needs trees >= 1, sample size >= 2".into(),
            ));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::Data("isolation forest needs finite values".into()));
        }
        let psi = cfg.sample_size.min(n);
        let limit = (psi as f64).log2().ceil().max(1.0) as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let trees = (0..cfg.trees)
            .map(|_| {
                let mut rows: Vec<usize> = sample(&mut rng, n, psi).into_vec();
                let mut nodes = Vec::new();
                grow(x, d, &mut rows, 0, limit, &mut rng, &mut nodes);
                nodes
            })
            .collect();
        Ok(IsolationForest { trees, d, c_psi: c(psi).max(f64::MIN_POSITIVE) })
    }

    /// Anomaly score in (0, 1] of every row of `x` (row-major, the fitted width).
    pub fn score(&self, x: &[f32]) -> Vec<f32> {
        x.chunks_exact(self.d)
            .map(|row| {
                let total: f64 = self.trees.iter().map(|t| path_length(t, row)).sum();
                let mean = total / self.trees.len().max(1) as f64;
                2f64.powf(-mean / self.c_psi) as f32
            })
            .collect()
    }
}

/// Grows the subtree over `rows` and returns its node index.
fn grow(
    x: &[f32],
    d: usize,
    rows: &mut [usize],
    depth: usize,
    limit: usize,
    rng: &mut ChaCha8Rng,
    nodes: &mut Vec<Node>,
) -> usize {
    let id = nodes.len();
    nodes.push(Node::Leaf { size: rows.len() });
    if rows.len() <= 1 || depth >= limit {
        return id;
    }
    // Pick a random feature that is not constant in this node (features are tried in a random
    // order; a node where all are constant stays a leaf).
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
            let value = rng.random_range(lo..hi);
            split = Some((f, value));
            break;
        }
    }
    let Some((feature, value)) = split else {
        return id;
    };
    // Partition: rows with x < value go left.
    let mut mid = 0;
    for i in 0..rows.len() {
        if x[rows[i] * d + feature] < value {
            rows.swap(i, mid);
            mid += 1;
        }
    }
    let (left_rows, right_rows) = rows.split_at_mut(mid);
    let left = grow(x, d, left_rows, depth + 1, limit, rng, nodes);
    let right = grow(x, d, right_rows, depth + 1, limit, rng, nodes);
    nodes[id] = Node::Split { feature, value, left, right };
    id
}

/// Path length of `row` in one tree, plus `c(size)` at the leaf.
fn path_length(tree: &[Node], row: &[f32]) -> f64 {
    let mut i = 0;
    let mut depth = 0.0;
    loop {
        match tree.get(i) {
            Some(Node::Split { feature, value, left, right }) => {
                i = if row[*feature] < *value { *left } else { *right };
                depth += 1.0;
            }
            Some(Node::Leaf { size }) => return depth + c(*size),
            None => return depth,
        }
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
}
