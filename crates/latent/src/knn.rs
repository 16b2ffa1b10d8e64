//! kNN distance (Ramaswamy, Rastogi and Shim, 2000), the distance baseline of anomaly
//! detection: a row's score is the Euclidean distance to its `k`-th nearest training row
//! ("largest" in PyOD's terms; `k` = 5 by default). Exact: every query is compared with every
//! training row, queries in parallel, which is quick for tables of up to some ten thousand
//! rows. Scoring the training rows themselves leaves each row out of its own neighbours.

use crate::{Error, Result};
use rayon::prelude::*;

/// The neighbour count of the ADBench and PyOD default.
pub const DEFAULT_K: usize = 5;

/// A fitted kNN detector: the training rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Knn {
    rows: Vec<f32>,
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
        Ok(Knn { rows: x.to_vec(), width: d, k })
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
        x.par_chunks_exact(self.width).map(|q| self.kth(q, None)).collect()
    }

    /// Distance of every training row to its `k`-th nearest other training row.
    pub fn score_training(&self) -> Vec<f32> {
        self.rows
            .par_chunks_exact(self.width)
            .enumerate()
            .map(|(i, q)| self.kth(q, Some(i)))
            .collect()
    }

    /// The `k`-th smallest distance from `q` to the training rows, skipping row `skip`.
    fn kth(&self, q: &[f32], skip: Option<usize>) -> f32 {
        // The k smallest squared distances so far, ascending.
        let mut best = vec![f32::INFINITY; self.k];
        for (i, r) in self.rows.chunks_exact(self.width).enumerate() {
            if Some(i) == skip {
                continue;
            }
            let d: f32 = q.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum();
            if d < best[self.k - 1] {
                let at = best.partition_point(|&b| b <= d);
                best.insert(at, d);
                best.pop();
            }
        }
        best[self.k - 1].sqrt()
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

    #[test]
    fn bad_input_is_refused() {
        assert!(Knn::fit(&[1.0, 2.0, 3.0], 2, 1).is_err());
        assert!(Knn::fit(&[1.0, 2.0], 1, 2).is_err());
        assert!(Knn::fit(&[1.0, 2.0], 1, 0).is_err());
        assert!(Knn::fit(&[1.0, f32::NAN, 2.0], 1, 1).is_err());
    }
}
