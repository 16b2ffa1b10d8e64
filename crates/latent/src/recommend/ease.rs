//! EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): the item-item
//! weight matrix of a linear autoencoder with a zero diagonal, in closed form.
//!
//! Math: `G = XᵀX + λI`, `P = G⁻¹`, `B = I − P · diag(1 / diag(P))`, so `B_ij = −P_ij / P_jj`
//! for `i ≠ j` and `B_jj = 0`. A user's scores are `x B` (the sum of the rows of `B` of the
//! items in their history). The solve is a Cholesky factorisation and inverse from `faer`, in
//! `f64`; `B` is kept as `f32`, row-major `[items, items]`.

use super::Csr;
use crate::{Error, Result};
use faer::linalg::solvers::DenseSolveCore;

/// The Gram matrix `XᵀX` of a binary matrix, dense `f64`, column-major (symmetric).
pub fn gram(x: &Csr) -> Vec<f64> {
    let n = x.cols();
    let mut g = vec![0.0f64; n * n];
    for r in 0..x.rows() {
        let row = x.row(r);
        for &j in row {
            let col = &mut g[j as usize * n..(j as usize + 1) * n];
            for &i in row {
                col[i as usize] += 1.0;
            }
        }
    }
    g
}

/// `B` from a Gram matrix (`n x n`, column-major) and λ: row-major `f32`, zero diagonal.
pub fn weights_from_gram(gram: &[f64], n: usize, lambda: f64) -> Result<Vec<f32>> {
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(Error::Config(format!("EASE λ must be positive, got {lambda}")));
    }
    let mut g = gram.to_vec();
    for j in 0..n {
        g[j * n + j] += lambda;
    }
    let g = faer::MatRef::from_column_major_slice(&g, n, n);
    let p = g
        .llt(faer::Side::Lower)
        .map_err(|e| Error::Training(format!("EASE: XᵀX + λI is not positive definite: {e}")))?
        .inverse();
    let mut b = vec![0.0f32; n * n];
    for j in 0..n {
        let pjj = p[(j, j)];
        for i in 0..n {
            if i != j {
                b[i * n + j] = (-p[(i, j)] / pjj) as f32;
            }
        }
    }
    Ok(b)
}

/// EASE weights for the rows of `x` and λ.
pub fn fit(x: &Csr, lambda: f64) -> Result<Vec<f32>> {
    weights_from_gram(&gram(x), x.cols(), lambda)
}

/// Scores of one history under `B` (row-major `n x n`): `s_j = Σ_{i ∈ history} B_ij`.
pub fn score_into(b: &[f32], n: usize, history: &[u32], out: &mut [f32]) {
    out[..n].fill(0.0);
    for &i in history {
        let row = &b[i as usize * n..(i as usize + 1) * n];
        out[..n].iter_mut().zip(row).for_each(|(o, w)| *o += w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gauss-Jordan inverse of a small dense matrix (row-major), for reference.
    fn inverse(a: &[f64], n: usize) -> Vec<f64> {
        let mut m = a.to_vec();
        let mut inv: Vec<f64> = (0..n * n).map(|k| f64::from(u8::from(k / n == k % n))).collect();
        for c in 0..n {
            let p =
                (c..n).max_by(|&x, &y| m[x * n + c].abs().total_cmp(&m[y * n + c].abs())).unwrap();
            for k in 0..n {
                m.swap(c * n + k, p * n + k);
                inv.swap(c * n + k, p * n + k);
            }
            let d = m[c * n + c];
            for k in 0..n {
                m[c * n + k] /= d;
                inv[c * n + k] /= d;
            }
            for r in 0..n {
                if r != c {
                    let f = m[r * n + c];
                    for k in 0..n {
                        m[r * n + k] -= f * m[c * n + k];
                        inv[r * n + k] -= f * inv[c * n + k];
                    }
                }
            }
        }
        inv
    }

    #[test]
    fn matches_a_dense_reference() {
        let pairs =
            [(0, 0), (0, 1), (0, 3), (1, 1), (1, 2), (2, 0), (2, 2), (2, 3), (3, 4), (3, 1)];
        let x = Csr::from_pairs(4, 5, &pairs).unwrap();
        let n = 5;
        let lambda = 0.7;
        // Dense XᵀX + λI, its inverse, then B.
        let mut dense = vec![0.0f64; 4 * n];
        for &(u, i) in &pairs {
            dense[u as usize * n + i as usize] = 1.0;
        }
        let mut g = vec![0.0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                g[i * n + j] = (0..4).map(|u| dense[u * n + i] * dense[u * n + j]).sum::<f64>()
                    + if i == j { lambda } else { 0.0 };
            }
        }
        let p = inverse(&g, n);
        let b = fit(&x, lambda).unwrap();
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { 0.0 } else { -p[i * n + j] / p[j * n + j] };
                assert!((f64::from(b[i * n + j]) - want).abs() < 1e-6, "{i},{j}");
            }
        }
        // A history's scores are the sum of its items' rows of B.
        let mut out = vec![0.0; n];
        score_into(&b, n, &[0, 3], &mut out);
        assert!((out[1] - (b[1] + b[3 * n + 1])).abs() < 1e-7);
        assert!(fit(&x, 0.0).is_err());
    }
}
