//! Rate-distortion summaries: PSNR and the Bjøntegaard delta rate (BD-rate).
//!
//! BD-rate (Bjøntegaard, VCEG-M33, 2001) compares two rate-distortion curves by the average
//! difference of their log-rates over the PSNR range both cover: each curve's `ln(rate)` is
//! fitted as a cubic polynomial of PSNR (least squares; a lower degree with fewer than four
//! points), both fits are integrated over the common PSNR interval, and
//! `BD-rate = exp((∫ test − ∫ anchor) / (hi − lo)) − 1`, in percent. Negative: the test codec
//! needs fewer bits than the anchor for the same PSNR.

/// PSNR in dB of 8-bit images `a` against `b` (100 dB when identical).
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let n = a.len().min(b.len()).max(1) as f64;
    let sse: f64 = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    if sse == 0.0 {
        100.0
    } else {
        10.0 * (255.0f64 * 255.0 * n / sse).log10()
    }
}

/// A least-squares polynomial of `ln(rate)` in normalised PSNR `(psnr − mean) / scale`.
struct Fit {
    coef: Vec<f64>,
    mean: f64,
    scale: f64,
}

impl Fit {
    /// Fits `(rate, psnr)` points; `None` with fewer than two usable points.
    #[allow(clippy::needless_range_loop)] // matrix indices read as the formula
    fn new(points: &[(f64, f64)]) -> Option<Fit> {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|(r, d)| r.is_finite() && *r > 0.0 && d.is_finite())
            .map(|&(r, d)| (d, r.ln()))
            .collect();
        if pts.len() < 2 {
            return None;
        }
        let n = pts.len() as f64;
        let mean = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let var = pts.iter().map(|p| (p.0 - mean).powi(2)).sum::<f64>() / n;
        let scale = var.sqrt();
        if scale <= 0.0 {
            return None;
        }
        let degree = (pts.len() - 1).min(3);
        let m = degree + 1;
        // Normal equations A c = b, A[i][j] = Σ x^(i+j), b[i] = Σ x^i y.
        let mut a = vec![vec![0.0f64; m + 1]; m];
        for &(d, y) in &pts {
            let x = (d - mean) / scale;
            for i in 0..m {
                for j in 0..m {
                    a[i][j] += x.powi((i + j) as i32);
                }
                a[i][m] += x.powi(i as i32) * y;
            }
        }
        solve(a).map(|coef| Fit { coef, mean, scale })
    }

    /// `∫_lo^hi fit(psnr) dpsnr`.
    fn integral(&self, lo: f64, hi: f64) -> f64 {
        let anti = |d: f64| {
            let x = (d - self.mean) / self.scale;
            self.coef
                .iter()
                .enumerate()
                .map(|(i, c)| c * x.powi(i as i32 + 1) / (i as f64 + 1.0))
                .sum::<f64>()
        };
        self.scale * (anti(hi) - anti(lo))
    }
}

/// Gaussian elimination with partial pivoting on an augmented `m x (m+1)` matrix.
#[allow(clippy::needless_range_loop)] // matrix indices read as the formula
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let m = a.len();
    for col in 0..m {
        let pivot = (col..m).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in col + 1..m {
            let f = a[row][col] / a[col][col];
            for k in col..=m {
                a[row][k] -= f * a[col][k];
            }
        }
    }
    let mut x = vec![0.0; m];
    for row in (0..m).rev() {
        let s: f64 = (row + 1..m).map(|k| a[row][k] * x[k]).sum();
        x[row] = (a[row][m] - s) / a[row][row];
    }
    Some(x)
}

/// The BD-rate of `test` against `anchor` in percent, from `(rate, psnr)` points; `None`
/// when a curve has fewer than two points or the PSNR ranges do not overlap.
pub fn bd_rate(anchor: &[(f64, f64)], test: &[(f64, f64)]) -> Option<f64> {
    let range = |pts: &[(f64, f64)]| {
        pts.iter()
            .filter(|p| p.1.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |r, p| (r.0.min(p.1), r.1.max(p.1)))
    };
    let (fa, ft) = (Fit::new(anchor)?, Fit::new(test)?);
    let ((a_lo, a_hi), (t_lo, t_hi)) = (range(anchor), range(test));
    let (lo, hi) = (a_lo.max(t_lo), a_hi.min(t_hi));
    if hi <= lo {
        return None;
    }
    let diff = (ft.integral(lo, hi) - fa.integral(lo, hi)) / (hi - lo);
    Some((diff.exp() - 1.0) * 100.0)
}

/// The rate a curve of `(rate, psnr)` points reaches at `psnr`, interpolating `ln(rate)`
/// linearly between the two points of neighbouring PSNR (sorted by PSNR); `None` outside the
/// curve's PSNR range.
pub fn rate_at(points: &[(f64, f64)], psnr: f64) -> Option<f64> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(r, d)| *r > 0.0 && r.is_finite() && d.is_finite())
        .collect();
    pts.sort_by(|a, b| a.1.total_cmp(&b.1));
    pts.windows(2).find(|w| w[0].1 <= psnr && psnr <= w[1].1).map(|w| {
        let t = if w[1].1 > w[0].1 { (psnr - w[0].1) / (w[1].1 - w[0].1) } else { 0.0 };
        (w[0].0.ln() + t * (w[1].0.ln() - w[0].0.ln())).exp()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (0..8).map(|i| 25.0 + 2.0 * i as f64).map(|d| (f(d), d)).collect()
    }

    #[test]
    fn half_the_rate_is_minus_fifty_percent() {
        let anchor = curve(|d| (0.02 * d * d - 0.5 * d + 4.0).exp() * 0.01);
        let test: Vec<(f64, f64)> = anchor.iter().map(|&(r, d)| (r * 0.5, d)).collect();
        assert!((bd_rate(&anchor, &test).unwrap() + 50.0).abs() < 1e-6);
        assert!((bd_rate(&test, &anchor).unwrap() - 100.0).abs() < 1e-6);
        assert!(bd_rate(&anchor, &anchor).unwrap().abs() < 1e-9);
    }

    #[test]
    fn cubic_log_rates_are_integrated_exactly() {
        // ln r = 0.001 (d − 30)³ + 0.1 d − 3 against ln r = 0.1 d − 3: the difference
        // integrates to 0 over [25, 35], and to 0.001 (9⁴ − 1⁴) / 4 over [31, 39].
        let a = curve(|d| (0.1 * d - 3.0).exp());
        let t = curve(|d| (0.001 * (d - 30.0).powi(3) + 0.1 * d - 3.0).exp());
        let t_low: Vec<_> = t.iter().copied().filter(|p| p.1 <= 35.0).collect();
        assert!(bd_rate(&a, &t_low).unwrap().abs() < 1e-6);
        let t_high: Vec<_> = t.iter().copied().filter(|p| p.1 >= 29.0).collect();
        let a_high: Vec<_> = a.iter().copied().filter(|p| p.1 >= 30.0).collect();
        let exact = (0.001 * (9.0f64.powi(4) - 1.0) / 4.0 / 8.0).exp();
        let got = bd_rate(&a_high, &t_high).unwrap() / 100.0 + 1.0;
        assert!((got - exact).abs() < 1e-6, "{got} vs {exact}");
    }

    #[test]
    fn degenerate_curves_give_none() {
        let a = curve(|d| d / 10.0);
        assert!(bd_rate(&a, &[(1.0, 30.0)]).is_none());
        assert!(bd_rate(&a, &[(1.0, 60.0), (2.0, 70.0)]).is_none());
        assert_eq!(psnr(&[1, 2, 3], &[1, 2, 3]), 100.0);
        assert!((psnr(&[0], &[255]) - 0.0).abs() < 1e-12);
        let c = [(1.0, 30.0), (4.0, 40.0)];
        assert!((rate_at(&c, 35.0).unwrap() - 2.0).abs() < 1e-12);
        assert!(rate_at(&c, 41.0).is_none());
    }
}
