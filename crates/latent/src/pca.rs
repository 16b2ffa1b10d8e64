//! Principal component analysis, the baseline every autoencoder is compared with
//! (reconstruction error with the same number of components).
//!
//! The covariance matrix is formed with the engine's matrix product; its leading eigenvectors
//! come from subspace iteration with a Rayleigh–Ritz step (Jacobi on the small projected
//! matrix), which is accurate for the few leading components needed here.

use crate::engine::{matmul, MatRef};
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A fitted PCA: mean and orthonormal components.
#[derive(Clone, Debug)]
pub struct Pca {
    mean: Vec<f32>,
    /// `k x d` row-major, one component per row, by decreasing variance.
    components: Vec<f32>,
    /// Variance along each component.
    pub variances: Vec<f32>,
    k: usize,
    d: usize,
}

impl Pca {
    /// Fits `k` components to `rows x d` row-major data.
    pub fn fit(x: &[f32], d: usize, k: usize) -> Result<Pca> {
        let n = x.len().checked_div(d).unwrap_or(0);
        if n < 2 || k == 0 || k > d {
            return Err(Error::Config(format!(
                "PCA needs at least 2 rows and 1 <= k <= {d} components (got {n} rows, k = {k})"
            )));
        }
        let mut mean = vec![0.0f64; d];
        for row in x.chunks_exact(d) {
            mean.iter_mut().zip(row).for_each(|(m, &v)| *m += f64::from(v));
        }
        let mean: Vec<f32> = mean.iter().map(|m| (m / n as f64) as f32).collect();
        let mut centred = x.to_vec();
        for row in centred.chunks_exact_mut(d) {
            row.iter_mut().zip(&mean).for_each(|(v, m)| *v -= m);
        }
        let mut cov = vec![0.0f32; d * d];
        let xm = MatRef::row_major(&centred, n, d);
        matmul(&mut cov, xm.t(), xm, false);
        cov.iter_mut().for_each(|c| *c /= (n - 1) as f32);
        drop(centred);

        let cov64: Vec<f64> = cov.iter().map(|&c| f64::from(c)).collect();
        let p = (k + 10).min(d);
        let mut rng = ChaCha8Rng::seed_from_u64(0x5ca1ab1e);
        let mut q: Vec<f64> = (0..d * p).map(|_| rng.random_range(-1.0..1.0)).collect(); // d x p
        orthonormalise(&mut q, d, p);
        let mut z = vec![0.0f64; d * p];
        for _ in 0..60 {
            sym_times(&cov64, &q, &mut z, d, p);
            std::mem::swap(&mut q, &mut z);
            orthonormalise(&mut q, d, p);
        }
        // Rayleigh–Ritz: B = Qᵀ C Q (p x p), eigen-decompose, rotate Q.
        sym_times(&cov64, &q, &mut z, d, p);
        let mut b = vec![0.0f64; p * p];
        for i in 0..p {
            for j in 0..p {
                b[i * p + j] = (0..d).map(|r| q[r * p + i] * z[r * p + j]).sum();
            }
        }
        let (vals, vecs) = jacobi_eigen(&mut b, p);
        let mut order: Vec<usize> = (0..p).collect();
        order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
        let mut components = vec![0.0f32; k * d];
        let mut variances = Vec::with_capacity(k);
        for (c, &e) in order.iter().take(k).enumerate() {
            variances.push(vals[e] as f32);
            for r in 0..d {
                let v: f64 = (0..p).map(|j| q[r * p + j] * vecs[j * p + e]).sum();
                components[c * d + r] = v as f32;
            }
        }
        Ok(Pca { mean, components, variances, k, d })
    }

    /// Number of components.
    pub fn components(&self) -> usize {
        self.k
    }

    /// Projects rows onto the components (`rows x k`).
    pub fn transform(&self, x: &[f32]) -> Vec<f32> {
        let n = x.len() / self.d;
        let mut centred = x.to_vec();
        for row in centred.chunks_exact_mut(self.d) {
            row.iter_mut().zip(&self.mean).for_each(|(v, m)| *v -= m);
        }
        let mut out = vec![0.0f32; n * self.k];
        let comps = MatRef::row_major(&self.components, self.k, self.d);
        matmul(&mut out, MatRef::row_major(&centred, n, self.d), comps.t(), false);
        out
    }

    /// Maps projections back to data space.
    pub fn inverse(&self, z: &[f32]) -> Vec<f32> {
        let n = z.len() / self.k;
        let mut out = vec![0.0f32; n * self.d];
        let comps = MatRef::row_major(&self.components, self.k, self.d);
        matmul(&mut out, MatRef::row_major(z, n, self.k), comps, false);
        for row in out.chunks_exact_mut(self.d) {
            row.iter_mut().zip(&self.mean).for_each(|(v, m)| *v += m);
        }
        out
    }

    /// Reconstruction of each row through the components.
    pub fn reconstruct(&self, x: &[f32]) -> Vec<f32> {
        self.inverse(&self.transform(x))
    }
}

/// `z = C q` for symmetric `d x d` C and `d x p` q.
fn sym_times(c: &[f64], q: &[f64], z: &mut [f64], d: usize, p: usize) {
    z.fill(0.0);
    for i in 0..d {
        let zi = &mut z[i * p..(i + 1) * p];
        for (j, &cij) in c[i * d..(i + 1) * d].iter().enumerate() {
            let qj = &q[j * p..(j + 1) * p];
            zi.iter_mut().zip(qj).for_each(|(a, b)| *a += cij * b);
        }
    }
}

/// Modified Gram–Schmidt on the columns of a `d x p` row-major matrix.
fn orthonormalise(q: &mut [f64], d: usize, p: usize) {
    for j in 0..p {
        for i in 0..j {
            let dot: f64 = (0..d).map(|r| q[r * p + i] * q[r * p + j]).sum();
            (0..d).for_each(|r| q[r * p + j] -= dot * q[r * p + i]);
        }
        let norm = (0..d).map(|r| q[r * p + j] * q[r * p + j]).sum::<f64>().sqrt();
        let inv = if norm > 1e-300 { 1.0 / norm } else { 0.0 };
        (0..d).for_each(|r| q[r * p + j] *= inv);
    }
}

/// Cyclic Jacobi eigen-decomposition of a small symmetric matrix; returns eigenvalues and the
/// eigenvectors as columns of a `p x p` row-major matrix.
fn jacobi_eigen(a: &mut [f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0f64; p * p];
    (0..p).for_each(|i| v[i * p + i] = 1.0);
    for _ in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * p + j].powi(2))
            .sum();
        if off < 1e-22 {
            break;
        }
        for i in 0..p {
            for j in i + 1..p {
                let aij = a[i * p + j];
                if aij.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[j * p + j] - a[i * p + i]) / (2.0 * aij);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..p {
                    let (aki, akj) = (a[k * p + i], a[k * p + j]);
                    a[k * p + i] = c * aki - s * akj;
                    a[k * p + j] = s * aki + c * akj;
                }
                for k in 0..p {
                    let (aik, ajk) = (a[i * p + k], a[j * p + k]);
                    a[i * p + k] = c * aik - s * ajk;
                    a[j * p + k] = s * aik + c * ajk;
                }
                for k in 0..p {
                    let (vki, vkj) = (v[k * p + i], v[k * p + j]);
                    v[k * p + i] = c * vki - s * vkj;
                    v[k * p + j] = s * vki + c * vkj;
                }
            }
        }
    }
    ((0..p).map(|i| a[i * p + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_planted_plane() -> Result<()> {
        // Points on a 2-D plane in 5-D plus tiny noise: 2 components reconstruct them.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut x = Vec::new();
        for _ in 0..500 {
            let (a, b): (f32, f32) = (rng.random_range(-3.0..3.0), rng.random_range(-1.0..1.0));
            x.extend([a, b, a + b, a - 2.0 * b, 0.5 * a]);
            x.iter_mut().rev().take(5).for_each(|v| *v += rng.random_range(-1e-3..1e-3));
        }
        let pca = Pca::fit(&x, 5, 2)?;
        let r = pca.reconstruct(&x);
        let mse: f32 = x.iter().zip(&r).map(|(a, b)| (a - b).powi(2)).sum::<f32>() / x.len() as f32;
        assert!(mse < 1e-5, "mse {mse}");
        assert!(pca.variances[0] >= pca.variances[1]);
        Ok(())
    }
}
