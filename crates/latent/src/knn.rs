//! kNN distance (Ramaswamy, Rastogi and Shim, 2000), the distance baseline of anomaly
//! detection: a row's score is the Euclidean distance to its `k`-th nearest training row
//! ("largest" in PyOD's terms; `k` = 5 by default). Exact: every query is compared with every
//! training row. Queries go in blocks: one matrix product gives the block's squared distances
//! to all training rows (`‖q‖² + ‖r‖² − 2 q·r`), the few nearest candidates are picked from
//! them, and their distances are computed again directly, so rounding in the expansion never
//! decides the score. Blocks run in parallel. Scoring the training rows themselves leaves each
//! row out of its own neighbours.

use crate::engine::matmul::{matmul, MatRef};
use crate::{Error, Result};
use rayon::prelude::*;

/// The neighbour count of the ADBench and PyOD default.
pub const DEFAULT_K: usize = 5;

/// Queries per block of the distance product.
const BLOCK: usize = 128;
/// Candidates kept beyond `k` from the expanded distances before the exact check.
const SPARE: usize = 4;

/// A fitted kNN detector: the training rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Knn {
    rows: Vec<f32>,
    /// `‖r‖²` of every training row.
    norms: Vec<f32>,
    width: usize,
    k: usize,
}

impl Knn {
    /// Keeps `rows x d` row-major training data; scores use the `k`-th neighbour.
    pub fn fit(x: &[f32], d: usize, k: usize) -> Result<Knn> {
        let n = x.len().checked_div(d).unwrap_or(0);
        if n == 0 || x.len() % d != 0 {
            return Err(Error::Data(format!(
                "kNN needs rows of width {d}, got {} values",
                x.len()
            )));
        }
        if k == 0 || k >= n {
            return Err(Error::Config(format!("kNN needs 1 ≤ k < rows ({n}), got k = {k}")));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::Data("kNN needs finite values".into()));
        }
        let norms = x.chunks_exact(d).map(|r| r.iter().map(|v| v * v).sum()).collect();
        Ok(Knn { rows: x.to_vec(), norms, width: d, k })
    }

    /// The kept training rows, row-major.
    pub fn rows(&self) -> &[f32] {
        &self.rows
    }

    /// Width of the rows.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The neighbour whose distance is the score.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Distance of every row of `x` (new rows) to its `k`-th nearest training row.
    pub fn score(&self, x: &[f32]) -> Vec<f32> {
        self.blocks(x, false)
    }

    /// Distance of every training row to its `k`-th nearest other training row.
    pub fn score_training(&self) -> Vec<f32> {
        self.blocks(&self.rows, true)
    }

    /// Scores of the rows of `x` block by block; `training`: `x` is the training rows, and
    /// row `i` skips training row `i`.
    fn blocks(&self, x: &[f32], training: bool) -> Vec<f32> {
        let w = self.width;
        let block_values = BLOCK * w;
        x.par_chunks(block_values)
            .enumerate()
            .flat_map_iter(|(b, q)| {
                let first = training.then_some(b * BLOCK);
                self.score_block(q, first)
            })
            .collect()
    }

    /// Scores of one block of queries `q`; `first`: the training index of its first row.
    fn score_block(&self, q: &[f32], first: Option<usize>) -> Vec<f32> {
        let (w, n) = (self.width, self.norms.len());
        let rows = q.len() / w;
        let mut dot = vec![0.0f32; rows * n];
        let qm = MatRef::row_major(q, rows, w);
        let rm = MatRef::row_major(&self.rows, n, w).t();
        matmul(&mut dot, qm, rm, false);
        let keep = self.k + SPARE;
        q.chunks_exact(w)
            .zip(dot.chunks_exact(n))
            .enumerate()
            .map(|(i, (query, dots))| {
                let skip = first.map(|f| f + i);
                let qn: f32 = query.iter().map(|v| v * v).sum();
                // The `keep` nearest by the expanded distance, ascending: (distance, row).
                let mut best: Vec<(f32, usize)> = Vec::with_capacity(keep + 1);
                for (j, (&d, &rn)) in dots.iter().zip(&self.norms).enumerate() {
                    if Some(j) == skip {
                        continue;
                    }
                    let d2 = qn + rn - 2.0 * d;
                    if best.len() < keep || d2 < best[best.len() - 1].0 {
                        let at = best.partition_point(|b| b.0 <= d2);
                        best.insert(at, (d2, j));
                        best.truncate(keep);
                    }
                }
                let mut exact: Vec<f32> = best
                    .iter()
                    .map(|&(_, j)| {
                        let r = &self.rows[j * w..(j + 1) * w];
                        query.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum()
                    })
                    .collect();
                exact.sort_by(f32::total_cmp);
                exact.get(self.k - 1).map_or(f32::INFINITY, |d| d.sqrt())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kth_neighbour_distances() -> Result<()> {
        // Points on a line at 0, 1, 2, 3 and 10.
        let x = [0.0, 1.0, 2.0, 3.0, 10.0];
        let knn = Knn::fit(&x, 1, 2)?;
        assert_eq!(knn.score_training(), vec![2.0, 1.0, 1.0, 2.0, 8.0]);
        assert_eq!(knn.score(&[1.5, 20.0]), vec![0.5, 17.0]);
        Ok(())
    }

    /// The blocked product agrees with comparing every pair directly, over several blocks,
    /// with duplicate rows (distance 0) and rows far from the origin (where the expansion
    /// `‖q‖² + ‖r‖² − 2 q·r` loses the most precision).
    #[test]
    fn blocks_agree_with_brute_force() -> Result<()> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let (n, d, k) = (3 * BLOCK + 17, 7, 5);
        let mut x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0..1.0) + 50.0).collect();
        x.copy_within(0..d, d);
        let knn = Knn::fit(&x, d, k)?;
        let brute = |q: &[f32], skip: Option<usize>| {
            let mut all: Vec<f32> = x
                .chunks_exact(d)
                .enumerate()
                .filter(|(j, _)| Some(*j) != skip)
                .map(|(_, r)| q.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum::<f32>())
                .collect();
            all.sort_by(f32::total_cmp);
            all[k - 1].sqrt()
        };
        let training = knn.score_training();
        for (i, q) in x.chunks_exact(d).enumerate() {
            assert!((training[i] - brute(q, Some(i))).abs() <= 1e-5, "row {i}");
        }
        let queries: Vec<f32> = (0..50 * d).map(|_| rng.random_range(-3.0..3.0) + 50.0).collect();
        for (s, q) in knn.score(&queries).iter().zip(queries.chunks_exact(d)) {
            assert!((s - brute(q, None)).abs() <= 1e-5, "{s}");
        }
        Ok(())
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(Knn::fit(&[1.0, 2.0, 3.0], 2, 1).is_err());
        assert!(Knn::fit(&[1.0, 2.0], 1, 2).is_err());
        assert!(Knn::fit(&[1.0, 2.0], 1, 0).is_err());
        assert!(Knn::fit(&[1.0, f32::NAN, 2.0], 1, 1).is_err());
    }
}
