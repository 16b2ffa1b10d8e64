//! ECOD (Li, Zhao, Hu, Botta, Ionescu and Chen, 2022: "ECOD: Unsupervised Outlier Detection
//! Using Empirical Cumulative Distribution Functions"), a parameter-free anomaly detection
//! baseline.
//!
//! Each feature is treated on its own. From the training rows it keeps the sorted values (the
//! empirical CDF) and the sign of the sample skewness. A value `v` of feature `j` has a
//! left-tail probability `F̂_j(v) = #{x_j ≤ v} / n` and a right-tail probability
//! `F̄_j(v) = #{x_j ≥ v} / n`. Per feature the outlyingness is the largest of `−log F̂`,
//! `−log F̄` and the skewness-corrected tail (left for features skewed left, right for the
//! others); a row's score is the sum over its features. Higher is more anomalous. A tail
//! probability of a new value beyond every training value is floored at `1 / (n + 1)`.
//!
//! This is the form of PyOD's `ECOD` (the one ADBench measures); the paper's Algorithm 1 takes
//! the largest of three sums over the features (all left tails, all right tails, all
//! skewness-corrected tails) instead. On the 15 ODDS sets the per-feature form ranks better
//! (mean ROC-AUC 0.765 against 0.754, PR-AUC 0.403 against 0.367, one seed), so the panel uses
//! it: the baseline is the stronger of the two. [`Ecod::score_paper`] keeps the paper's form.

use crate::{Error, Result};

/// A fitted ECOD detector.
#[derive(Clone, Debug, PartialEq)]
pub struct Ecod {
    /// Sorted training values per feature (`width` columns of `rows` values).
    sorted: Vec<Vec<f32>>,
    /// Whether each feature is skewed left (negative sample skewness).
    left_skewed: Vec<bool>,
}

impl Ecod {
    /// Fits the per-feature empirical CDFs to `rows x d` row-major data.
    pub fn fit(x: &[f32], d: usize) -> Result<Ecod> {
        let n = x.len().checked_div(d).unwrap_or(0);
        if n == 0 || x.len() % d != 0 {
            return Err(Error::Data(format!(
                "ECOD needs rows of width {d}, got {} values",
                x.len()
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::Data("ECOD needs finite values".into()));
        }
        let mut sorted = Vec::with_capacity(d);
        let mut left_skewed = Vec::with_capacity(d);
        for j in 0..d {
            let mut col: Vec<f32> = x.iter().skip(j).step_by(d).copied().collect();
            let mean = col.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
            let (m2, m3) = col.iter().fold((0.0, 0.0), |(a, b), &v| {
                let c = f64::from(v) - mean;
                (a + c * c, b + c * c * c)
            });
            let (m2, m3) = (m2 / n as f64, m3 / n as f64);
            let skew = if m2 > 0.0 { m3 / m2.powf(1.5) } else { 0.0 };
            left_skewed.push(skew < 0.0);
            col.sort_by(f32::total_cmp);
            sorted.push(col);
        }
        Ok(Ecod { sorted, left_skewed })
    }

    /// Width of the rows it scores.
    pub fn width(&self) -> usize {
        self.sorted.len()
    }

    /// Anomaly score of every row of `x` (row-major, the fitted width): the sum over features
    /// of each feature's largest tail outlyingness (PyOD's form).
    pub fn score(&self, x: &[f32]) -> Vec<f32> {
        self.tails(x, |l, r, _| l.max(r), |per: f64, _, _| per)
    }

    /// The paper's form: the largest of the sums of left tails, of right tails and of the
    /// skewness-corrected tails.
    pub fn score_paper(&self, x: &[f32]) -> Vec<f32> {
        self.tails(x, |l, _, _| l, |left, right, auto| left.max(right).max(auto))
    }

    /// Sums `per(l, r, skewed)` over each row's features beside the sums of right and of
    /// skewness-corrected tails, and combines the three sums with `total`.
    fn tails(
        &self,
        x: &[f32],
        per: impl Fn(f64, f64, bool) -> f64,
        total: impl Fn(f64, f64, f64) -> f64,
    ) -> Vec<f32> {
        let d = self.width().max(1);
        x.chunks_exact(d)
            .map(|row| {
                let (mut first, mut right, mut auto) = (0.0f64, 0.0f64, 0.0f64);
                for ((&v, col), &skewed) in row.iter().zip(&self.sorted).zip(&self.left_skewed) {
                    let n = col.len() as f64;
                    let floor = 1.0 / (n + 1.0);
                    let below = col.partition_point(|&c| c <= v) as f64;
                    let above = (col.len() - col.partition_point(|&c| c < v)) as f64;
                    let l = -(below / n).max(floor).ln();
                    let r = -(above / n).max(floor).ln();
                    first += per(l, r, skewed);
                    right += r;
                    auto += if skewed { l } else { r };
                }
                total(first, right, auto) as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_values_score_highest() -> Result<()> {
        // Two features; the last row is far out on both.
        let mut x = Vec::new();
        for i in 0..50 {
            x.extend([(i % 10) as f32, (i % 7) as f32]);
        }
        x.extend([100.0, -100.0]);
        let e = Ecod::fit(&x, 2)?;
        let s = e.score(&x);
        let top = s.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
        assert_eq!(top, Some(50));
        // A new row beyond every training value scores at least as high as the extreme one.
        let new = e.score(&[1000.0, -1000.0]);
        assert!(new[0] >= s[50], "{new:?} {}", s[50]);
        Ok(())
    }

    #[test]
    fn left_skew_uses_the_left_tail() -> Result<()> {
        // A feature with a long left tail: the lowest value is the anomaly.
        let mut x: Vec<f32> = (0..40).map(|i| 10.0 + (i % 5) as f32 * 0.1).collect();
        x.push(-50.0);
        let e = Ecod::fit(&x, 1)?;
        assert_eq!(e.left_skewed, vec![true]);
        for s in [e.score(&x), e.score_paper(&x)] {
            assert!(s[40] > s[..40].iter().copied().fold(f32::MIN, f32::max));
        }
        Ok(())
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(Ecod::fit(&[], 2).is_err());
        assert!(Ecod::fit(&[1.0, 2.0, 3.0], 2).is_err());
        assert!(Ecod::fit(&[1.0, f32::NAN], 2).is_err());
    }
}
